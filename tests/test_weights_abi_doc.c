/* docs/abi.md tells the truth about the weights channel's shared structs:
 * the control block, the buffer stamps and the reader slots. */
#include "abi_doc.h"
#include "check.h"
#include "dshq/weights.h"

int main(void)
{
    static const struct abi_field ctrl[] = {
        ABI_FIELD(struct dshq_weights_ctrl, magic),
        ABI_FIELD(struct dshq_weights_ctrl, layout_version),
        ABI_FIELD(struct dshq_weights_ctrl, max_readers),
        ABI_FIELD(struct dshq_weights_ctrl, buffer_count),
        ABI_FIELD(struct dshq_weights_ctrl, reserved0),
        ABI_FIELD(struct dshq_weights_ctrl, param_count),
        ABI_FIELD(struct dshq_weights_ctrl, bufs_offset),
        ABI_FIELD(struct dshq_weights_ctrl, slots_offset),
        ABI_FIELD(struct dshq_weights_ctrl, data_offset),
        ABI_FIELD(struct dshq_weights_ctrl, data_stride),
        ABI_FIELD(struct dshq_weights_ctrl, seq),
        ABI_FIELD(struct dshq_weights_ctrl, active_idx),
        ABI_FIELD(struct dshq_weights_ctrl, reserved1),
        ABI_FIELD(struct dshq_weights_ctrl, version),
        ABI_FIELD(struct dshq_weights_ctrl, step_counter),
        ABI_FIELD(struct dshq_weights_ctrl, shape_hash),
        ABI_FIELD(struct dshq_weights_ctrl, published_ns),
        ABI_FIELD(struct dshq_weights_ctrl, section_size),
        ABI_FIELD(struct dshq_weights_ctrl, current),
        ABI_FIELD(struct dshq_weights_ctrl, writer),
        ABI_FIELD(struct dshq_weights_ctrl, new_version),
        ABI_FIELD(struct dshq_weights_ctrl, claims_stolen),
        ABI_FIELD(struct dshq_weights_ctrl, reclaims),
        ABI_FIELD(struct dshq_weights_ctrl, writer_takeovers),
        ABI_FIELD(struct dshq_weights_ctrl, reserved3),
    };
    static const struct abi_field buf[] = {
        ABI_FIELD(struct dshq_weights_buf, seq),
        ABI_FIELD(struct dshq_weights_buf, version),
        ABI_FIELD(struct dshq_weights_buf, step),
        ABI_FIELD(struct dshq_weights_buf, shape_hash),
        ABI_FIELD(struct dshq_weights_buf, reserved),
    };
    static const struct abi_field slot[] = {
        ABI_FIELD(struct dshq_weights_slot, owner),
        ABI_FIELD(struct dshq_weights_slot, pins),
        ABI_FIELD(struct dshq_weights_slot, version),
        ABI_FIELD(struct dshq_weights_slot, adoptions),
        ABI_FIELD(struct dshq_weights_slot, refusals),
        ABI_FIELD(struct dshq_weights_slot, reserved),
    };
    int errors = 0;
    errors += abi_doc_check_strict("dshq_weights_ctrl", sizeof(struct dshq_weights_ctrl), ctrl,
                            sizeof ctrl / sizeof ctrl[0]);
    errors += abi_doc_check_strict("dshq_weights_buf", sizeof(struct dshq_weights_buf), buf,
                            sizeof buf / sizeof buf[0]);
    errors += abi_doc_check_strict("dshq_weights_slot", sizeof(struct dshq_weights_slot), slot,
                            sizeof slot / sizeof slot[0]);
    CHECK_EQ_INT(errors, 0);

    /* The checker can fail: a field documented at the wrong offset, and a
     * compiled field left out, are both reported. */
    static const struct abi_field moved[] = {{"seq", 72, 8}};
    CHECK(abi_doc_check("dshq_weights_ctrl", sizeof(struct dshq_weights_ctrl), moved, 1) > 0);
    static const struct abi_field more[] = {
        ABI_FIELD(struct dshq_weights_slot, owner), {"not_in_doc", 64, 8}};
    CHECK(abi_doc_check("dshq_weights_slot", sizeof(struct dshq_weights_slot), more, 2) > 0);
    puts("abi doc (weights): ok");
    return 0;
}
