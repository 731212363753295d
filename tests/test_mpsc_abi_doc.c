/* test_mpsc_abi_doc.c — docs/abi.md documents the MPSC control blocks
 * (struct dshq_mpsc_ctrl, struct dshq_mpsc_entry) exactly as compiled: every
 * field and no byte outside them, the memory-order column against the
 * _Atomic qualifiers, and the constants (magic, version, section kind,
 * policy and wake-mode values, limits) read from the text. */
#include "abi_doc.h"
#include "check.h"
#include "dshq/region.h"
#include "dshq/rollout.h"

int main(void)
{
    static const struct abi_field ctrl[] = {
        ABI_FIELD(struct dshq_mpsc_ctrl, magic),
        ABI_FIELD(struct dshq_mpsc_ctrl, version),
        ABI_FIELD(struct dshq_mpsc_ctrl, capacity),
        ABI_FIELD(struct dshq_mpsc_ctrl, policy),
        ABI_FIELD(struct dshq_mpsc_ctrl, max_producers),
        ABI_FIELD(struct dshq_mpsc_ctrl, slot_size),
        ABI_FIELD(struct dshq_mpsc_ctrl, slot_stride),
        ABI_FIELD(struct dshq_mpsc_ctrl, entries_offset),
        ABI_FIELD(struct dshq_mpsc_ctrl, commits_offset),
        ABI_FIELD(struct dshq_mpsc_ctrl, slots_offset),
        ABI_FIELD(struct dshq_mpsc_ctrl, reserve),
        ABI_FIELD(struct dshq_mpsc_ctrl, section_size),
        ABI_FIELD(struct dshq_mpsc_ctrl, wake_mode),
        ABI_FIELD(struct dshq_mpsc_ctrl, pad1),
        ABI_FIELD(struct dshq_mpsc_ctrl, reserved1),
        ABI_FIELD(struct dshq_mpsc_ctrl, tail),
        ABI_FIELD(struct dshq_mpsc_ctrl, consumed),
        ABI_FIELD(struct dshq_mpsc_ctrl, unblocked),
        ABI_FIELD(struct dshq_mpsc_ctrl, space),
        ABI_FIELD(struct dshq_mpsc_ctrl, reserved2),
        ABI_FIELD(struct dshq_mpsc_ctrl, consumer),
        ABI_FIELD(struct dshq_mpsc_ctrl, data_ready),
        ABI_FIELD(struct dshq_mpsc_ctrl, reserved3),
    };
    static const struct abi_field entry[] = {
        ABI_FIELD(struct dshq_mpsc_entry, owner),
        ABI_FIELD(struct dshq_mpsc_entry, intent),
        ABI_FIELD(struct dshq_mpsc_entry, committed),
        ABI_FIELD(struct dshq_mpsc_entry, dropped),
        ABI_FIELD(struct dshq_mpsc_entry, blocked),
        ABI_FIELD(struct dshq_mpsc_entry, reclaims),
        ABI_FIELD(struct dshq_mpsc_entry, reserved),
    };
    int bad = abi_doc_check_strict("dshq_mpsc_ctrl", sizeof(struct dshq_mpsc_ctrl), ctrl,
                            sizeof ctrl / sizeof ctrl[0]);
    bad += abi_doc_check_strict("dshq_mpsc_entry", sizeof(struct dshq_mpsc_entry), entry,
                         sizeof entry / sizeof entry[0]);
    char magic[9];
    bad += abi_doc_row_has("dshq_mpsc_ctrl", "magic", "\"%s\"",
                           abi_magic_text(DSHQ_MPSC_MAGIC, 8, magic));
    bad += abi_doc_row_has("dshq_mpsc_ctrl", "version", "= %d", DSHQ_MPSC_VERSION);
    bad += abi_doc_row_has("dshq_mpsc_ctrl", "policy", "%d drop, %d block", DSHQ_RING_DROP,
                           DSHQ_RING_BLOCK);
    bad += abi_doc_row_has("dshq_mpsc_ctrl", "wake_mode", "%d `DSHQ_WAKE_SEQCST`, %d `DSHQ_WAKE_MEMBARRIER`",
                           DSHQ_WAKE_SEQCST, DSHQ_WAKE_MEMBARRIER);
    bad += abi_doc_row_has("dshq_mpsc_ctrl", "max_producers", "(<= %d)", DSHQ_RING_MAX_PRODUCERS);
    bad += abi_doc_row_has("dshq_mpsc_ctrl", "entries_offset", "= %zu",
                           sizeof(struct dshq_mpsc_ctrl));
    bad += abi_doc_has("### MPSC section (kind %d, version %d)", DSHQ_SECTION_MPSC,
                       DSHQ_MPSC_VERSION);
    bad += abi_doc_has("256               struct dshq_mpsc_entry [max_producers]     %zu bytes each",
                       sizeof(struct dshq_mpsc_entry));
    CHECK_EQ_INT(bad, 0);
    return 0;
}
