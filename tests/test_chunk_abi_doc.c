/* test_chunk_abi_doc.c — docs/abi.md documents struct dshq_chunk_header
 * exactly as compiled: every field and no byte outside them, the order
 * column (no field is atomic), and the constants (magic, version, header
 * size, alignment) read from the text. */
#include "abi_doc.h"
#include "check.h"
#include "dshq/chunk.h"

int main(void)
{
    static const struct abi_field f[] = {
        ABI_FIELD(struct dshq_chunk_header, magic),
        ABI_FIELD(struct dshq_chunk_header, version),
        ABI_FIELD(struct dshq_chunk_header, header_size),
        ABI_FIELD(struct dshq_chunk_header, producer_id),
        ABI_FIELD(struct dshq_chunk_header, obs_dim),
        ABI_FIELD(struct dshq_chunk_header, seq),
        ABI_FIELD(struct dshq_chunk_header, policy_version),
        ABI_FIELD(struct dshq_chunk_header, shape_hash),
        ABI_FIELD(struct dshq_chunk_header, T),
        ABI_FIELD(struct dshq_chunk_header, E),
        ABI_FIELD(struct dshq_chunk_header, bytes),
        ABI_FIELD(struct dshq_chunk_header, content_hash),
    };
    int bad = abi_doc_check_strict("dshq_chunk_header", sizeof(struct dshq_chunk_header), f,
                                   sizeof f / sizeof f[0]);
    char magic[5];
    bad += abi_doc_row_has("dshq_chunk_header", "magic", "`0x%08x`", DSHQ_CHUNK_MAGIC);
    bad += abi_doc_row_has("dshq_chunk_header", "magic", "(\"%s\")",
                           abi_magic_text(DSHQ_CHUNK_MAGIC, 4, magic));
    bad += abi_doc_row_has("dshq_chunk_header", "version", "= %d", DSHQ_CHUNK_VERSION);
    bad += abi_doc_row_has("dshq_chunk_header", "header_size", "= %zu",
                           sizeof(struct dshq_chunk_header));
    bad += abi_doc_has("`A(x)` below is `x` rounded up to a multiple of %d", DSHQ_CHUNK_ALIGN);
    bad += abi_doc_has("| header | struct dshq_chunk_header | 1 | 0 | %zu |",
                       sizeof(struct dshq_chunk_header));
    bad += abi_doc_has("`chunk/v%d;t=T;e=E;obs_dim=D;content=", DSHQ_CHUNK_VERSION);
    CHECK_EQ_INT(bad, 0);
    return 0;
}
