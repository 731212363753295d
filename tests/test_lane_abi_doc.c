/* test_lane_abi_doc.c — docs/abi.md documents the lanes control blocks
 * (struct dshq_lanes_ctrl, struct dshq_lane_ctrl) and the sleeping place
 * they embed (struct dshq_ring_sleep) exactly as compiled: every field and
 * no byte outside them, the memory-order column against the _Atomic
 * qualifiers, and the constants (magic, version, section kind, policy and
 * wake-mode values) read from the text. */
#include "abi_doc.h"
#include "check.h"
#include "dshq/region.h"
#include "dshq/rollout.h"

int main(void)
{
    static const struct abi_field ctrl[] = {
        ABI_FIELD(struct dshq_lanes_ctrl, magic),
        ABI_FIELD(struct dshq_lanes_ctrl, version),
        ABI_FIELD(struct dshq_lanes_ctrl, lane_count),
        ABI_FIELD(struct dshq_lanes_ctrl, capacity),
        ABI_FIELD(struct dshq_lanes_ctrl, policy),
        ABI_FIELD(struct dshq_lanes_ctrl, slot_size),
        ABI_FIELD(struct dshq_lanes_ctrl, slot_stride),
        ABI_FIELD(struct dshq_lanes_ctrl, lanes_offset),
        ABI_FIELD(struct dshq_lanes_ctrl, slots_offset),
        ABI_FIELD(struct dshq_lanes_ctrl, section_size),
        ABI_FIELD(struct dshq_lanes_ctrl, consumer),
        ABI_FIELD(struct dshq_lanes_ctrl, data_ready),
        ABI_FIELD(struct dshq_lanes_ctrl, wake_mode),
        ABI_FIELD(struct dshq_lanes_ctrl, pad0),
        ABI_FIELD(struct dshq_lanes_ctrl, reserved),
    };
    static const struct abi_field lane[] = {
        ABI_FIELD(struct dshq_lane_ctrl, head),
        ABI_FIELD(struct dshq_lane_ctrl, claimed),
        ABI_FIELD(struct dshq_lane_ctrl, dropped),
        ABI_FIELD(struct dshq_lane_ctrl, blocked),
        ABI_FIELD(struct dshq_lane_ctrl, reserved0),
        ABI_FIELD(struct dshq_lane_ctrl, tail),
        ABI_FIELD(struct dshq_lane_ctrl, space),
        ABI_FIELD(struct dshq_lane_ctrl, reserved1),
        ABI_FIELD(struct dshq_lane_ctrl, owner),
        ABI_FIELD(struct dshq_lane_ctrl, reclaims),
        ABI_FIELD(struct dshq_lane_ctrl, abandoned),
        ABI_FIELD(struct dshq_lane_ctrl, reserved2),
    };
    static const struct abi_field sleep[] = {
        ABI_FIELD(struct dshq_ring_sleep, ev),
        ABI_FIELD(struct dshq_ring_sleep, armed),
        ABI_FIELD(struct dshq_ring_sleep, pad),
    };
    int bad = abi_doc_check_strict("dshq_ring_sleep", sizeof(struct dshq_ring_sleep), sleep,
                            sizeof sleep / sizeof sleep[0]);
    bad += abi_doc_check_strict("dshq_lanes_ctrl", sizeof(struct dshq_lanes_ctrl), ctrl,
                            sizeof ctrl / sizeof ctrl[0]);
    bad += abi_doc_check_strict("dshq_lane_ctrl", sizeof(struct dshq_lane_ctrl), lane,
                         sizeof lane / sizeof lane[0]);
    char magic[9];
    bad += abi_doc_row_has("dshq_lanes_ctrl", "magic", "\"%s\"",
                           abi_magic_text(DSHQ_LANES_MAGIC, 8, magic));
    bad += abi_doc_row_has("dshq_lanes_ctrl", "version", "= %d", DSHQ_LANES_VERSION);
    bad += abi_doc_row_has("dshq_lanes_ctrl", "policy", "%d drop, %d block", DSHQ_RING_DROP,
                           DSHQ_RING_BLOCK);
    bad += abi_doc_row_has("dshq_lanes_ctrl", "wake_mode", "%d `DSHQ_WAKE_SEQCST`, %d `DSHQ_WAKE_MEMBARRIER`",
                           DSHQ_WAKE_SEQCST, DSHQ_WAKE_MEMBARRIER);
    bad += abi_doc_row_has("dshq_lanes_ctrl", "lanes_offset", "= %zu",
                           sizeof(struct dshq_lanes_ctrl));
    bad += abi_doc_has("### Lanes section (kind %d, version %d)", DSHQ_SECTION_LANES,
                       DSHQ_LANES_VERSION);
    bad += abi_doc_has("128               struct dshq_lane_ctrl [lane_count]         %zu bytes each",
                       sizeof(struct dshq_lane_ctrl));
    bad += abi_doc_has("`DSHQ_WAKE_SEQCST` (%d)", DSHQ_WAKE_SEQCST);
    bad += abi_doc_has("`DSHQ_WAKE_MEMBARRIER` (%d,", DSHQ_WAKE_MEMBARRIER);
    CHECK_EQ_INT(bad, 0);
    return 0;
}
