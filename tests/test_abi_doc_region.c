/* docs/abi.md tells the truth about the region header, the section entry
 * and the event word. */
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
    errors += abi_doc_check("dshq_region_header", sizeof(struct dshq_region_header), header,
                            sizeof header / sizeof header[0]);
    errors += abi_doc_check("dshq_section", sizeof(struct dshq_section), section,
                            sizeof section / sizeof section[0]);
    errors += abi_doc_check("dshq_event", sizeof(struct dshq_event), event,
                            sizeof event / sizeof event[0]);
    CHECK_EQ_INT(errors, 0);

    /* The checker itself can fail: a wrong offset is reported. */
    static const struct abi_field wrong[] = {{"magic", 8, 8}};
    CHECK(abi_doc_check("dshq_region_header", sizeof(struct dshq_region_header), wrong, 1) > 0);
    puts("abi doc (region): ok");
    return 0;
}
