/* docs/abi.md tells the truth about the region header, the section entry
 * and the event word: every field (and no byte outside a listed field), its
 * memory-order column against the compiled _Atomic qualifier, and the
 * constants (magic, state values, sizes, section kinds) read from the text. */
#include "abi_doc.h"
#include "check.h"
#include "dshq/region.h"
#include "dshq/wait.h"

int main(void)
{
    static const struct abi_field header[] = {
        ABI_FIELD(struct dshq_region_header, magic),
        ABI_FIELD(struct dshq_region_header, abi_major),
        ABI_FIELD(struct dshq_region_header, abi_minor),
        ABI_FIELD(struct dshq_region_header, header_size),
        ABI_FIELD(struct dshq_region_header, region_size),
        ABI_FIELD(struct dshq_region_header, state),
        ABI_FIELD(struct dshq_region_header, section_count),
        ABI_FIELD(struct dshq_region_header, table_offset),
        ABI_FIELD(struct dshq_region_header, section_entry_size),
        ABI_FIELD(struct dshq_region_header, creator_pid),
        ABI_FIELD(struct dshq_region_header, creator_uid),
        ABI_FIELD(struct dshq_region_header, creator_start_ticks),
        ABI_FIELD(struct dshq_region_header, created_unix_ns),
        ABI_FIELD(struct dshq_region_header, heartbeat_ns),
        ABI_FIELD(struct dshq_region_header, name),
        ABI_FIELD(struct dshq_region_header, reserved),
    };
    static const struct abi_field section[] = {
        ABI_FIELD(struct dshq_section, kind),
        ABI_FIELD(struct dshq_section, version),
        ABI_FIELD(struct dshq_section, offset),
        ABI_FIELD(struct dshq_section, size),
        ABI_FIELD(struct dshq_section, shape_hash),
        ABI_FIELD(struct dshq_section, name),
        ABI_FIELD(struct dshq_section, reserved),
    };
    static const struct abi_field event[] = {
        ABI_FIELD(struct dshq_event, seq),
        ABI_FIELD(struct dshq_event, waiters),
    };
    int errors = 0;
    errors += abi_doc_check_strict("dshq_region_header", sizeof(struct dshq_region_header), header,
                            sizeof header / sizeof header[0]);
    errors += abi_doc_check_strict("dshq_section", sizeof(struct dshq_section), section,
                            sizeof section / sizeof section[0]);
    errors += abi_doc_check_strict("dshq_event", sizeof(struct dshq_event), event,
                            sizeof event / sizeof event[0]);
    CHECK_EQ_INT(errors, 0);

    /* Constants, formatted from the compiled values. */
    char magic[9];
    errors += abi_doc_row_has("dshq_region_header", "magic", "\"%s\"",
                              abi_magic_text(DSHQ_REGION_MAGIC, 8, magic));
    errors += abi_doc_row_has("dshq_region_header", "state", "%u INIT", DSHQ_REGION_INIT);
    errors += abi_doc_row_has("dshq_region_header", "state", "`0x%08x` READY", DSHQ_REGION_READY);
    errors += abi_doc_row_has("dshq_region_header", "header_size", "= %zu",
                              sizeof(struct dshq_region_header));
    errors += abi_doc_row_has("dshq_region_header", "section_entry_size", "= %zu",
                              sizeof(struct dshq_section));
    errors += abi_doc_row_has("dshq_region_header", "section_count", "<= %d", DSHQ_MAX_SECTIONS);
    errors += abi_doc_row_has("dshq_region_header", "name", "char[%d]", DSHQ_REGION_NAME_LEN);
    errors += abi_doc_row_has("dshq_section", "name", "char[%d]", DSHQ_SECTION_NAME_LEN);
    errors += abi_doc_row_has("dshq_section", "offset", "multiple of %d", DSHQ_SECTION_ALIGN);
    errors += abi_doc_has("%d raw bytes", DSHQ_SECTION_RAW);
    errors += abi_doc_has("%d weights channel", DSHQ_SECTION_WEIGHTS);
    errors += abi_doc_has("%d rollout lanes", DSHQ_SECTION_LANES);
    errors += abi_doc_has("%d MPSC ring", DSHQ_SECTION_MPSC);
    errors += abi_doc_has("%d mailbox", DSHQ_SECTION_MAILBOX);
    errors += abi_doc_has("%d telemetry", DSHQ_SECTION_TELEMETRY);
    errors += abi_doc_has("## Weights channel (kind %d,", DSHQ_SECTION_WEIGHTS);
    errors += abi_doc_has("### Lanes section (kind %d,", DSHQ_SECTION_LANES);
    errors += abi_doc_has("### MPSC section (kind %d,", DSHQ_SECTION_MPSC);
    errors += abi_doc_has("### Mailbox section (kind %d,", DSHQ_SECTION_MAILBOX);
    errors += abi_doc_has("### Telemetry section (kind %d,", DSHQ_SECTION_TELEMETRY);
    CHECK_EQ_INT(errors, 0);

    fprintf(stderr, "(the abi.md mismatches below are deliberate: the checker must see them)\n");
    /* The checker itself can fail: a wrong offset is reported; so are a
     * field that no list names (a hole), a plain order column on an atomic
     * field and a constant the text does not give. */
    static const struct abi_field wrong[] = {{"magic", 8, 8}};
    CHECK(abi_doc_check("dshq_region_header", sizeof(struct dshq_region_header), wrong, 1) > 0);
    static const struct abi_field holed[] = {
        ABI_FIELD(struct dshq_event, seq), /* waiters left out of the list */
    };
    CHECK(abi_doc_tiles("dshq_event", sizeof(struct dshq_event), holed, 1) == 1);
    const struct abi_field plain_state = {"state", 24, 4, 1};
    CHECK(abi_doc_order_ok("dshq_region_header", &plain_state, "plain; ordered by `state`") == 1);
    const struct abi_field atomic_magic = {"magic", 0, 8, 0};
    CHECK(abi_doc_order_ok("dshq_region_header", &atomic_magic, "load acquire") == 1);
    CHECK(abi_doc_row_has("dshq_region_header", "state", "`0x%08x` READY", DSHQ_REGION_READY + 1) == 1);
    CHECK(ABI_IS_ATOMIC(&((struct dshq_region_header *)0)->state) == 1);
    CHECK(ABI_IS_ATOMIC(&((struct dshq_region_header *)0)->magic) == 0);
    puts("abi doc (region): ok");
    return 0;
}
