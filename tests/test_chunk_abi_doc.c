/* test_chunk_abi_doc.c — docs/abi.md documents struct dshq_chunk_header
 * exactly as compiled. */
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
    CHECK_EQ_INT(abi_doc_check("dshq_chunk_header", sizeof(struct dshq_chunk_header), f,
                               sizeof f / sizeof f[0]), 0);
    return 0;
}
