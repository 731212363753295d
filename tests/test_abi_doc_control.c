/* docs/abi.md tells the truth about the control plane's shared structs:
 * the mailbox (control block, slot, message, payloads), the telemetry block
 * (control block, heartbeat slot) and the metrics blob. */
#include "abi_doc.h"
#include "run/metrics.h"
#include "check.h"
#include "dshq/mailbox.h"
#include "dshq/telemetry.h"

#define CHECK_DOC(name, type, arr) \
    abi_doc_check_strict(name, sizeof(type), arr, sizeof arr / sizeof arr[0])

int main(void)
{
    static const struct abi_field mctrl[] = {
        ABI_FIELD(struct dshq_mailbox_ctrl, magic),
        ABI_FIELD(struct dshq_mailbox_ctrl, version),
        ABI_FIELD(struct dshq_mailbox_ctrl, capacity),
        ABI_FIELD(struct dshq_mailbox_ctrl, slot_size),
        ABI_FIELD(struct dshq_mailbox_ctrl, msg_size),
        ABI_FIELD(struct dshq_mailbox_ctrl, reserved0),
        ABI_FIELD(struct dshq_mailbox_ctrl, slots_offset),
        ABI_FIELD(struct dshq_mailbox_ctrl, reserved1),
        ABI_FIELD(struct dshq_mailbox_ctrl, tail),
        ABI_FIELD(struct dshq_mailbox_ctrl, posted),
        ABI_FIELD(struct dshq_mailbox_ctrl, full),
        ABI_FIELD(struct dshq_mailbox_ctrl, reserved2),
        ABI_FIELD(struct dshq_mailbox_ctrl, head),
        ABI_FIELD(struct dshq_mailbox_ctrl, consumed),
        ABI_FIELD(struct dshq_mailbox_ctrl, unknown_type),
        ABI_FIELD(struct dshq_mailbox_ctrl, unknown_version),
        ABI_FIELD(struct dshq_mailbox_ctrl, dead_skipped),
        ABI_FIELD(struct dshq_mailbox_ctrl, consumer),
        ABI_FIELD(struct dshq_mailbox_ctrl, reserved3),
        ABI_FIELD(struct dshq_mailbox_ctrl, reserved4),
        ABI_FIELD(struct dshq_mailbox_ctrl, event),
        ABI_FIELD(struct dshq_mailbox_ctrl, reserved5),
    };
    static const struct abi_field mslot[] = {
        ABI_FIELD(struct dshq_mailbox_slot, state),
        ABI_FIELD(struct dshq_mailbox_slot, poster_start_ticks),
        ABI_FIELD(struct dshq_mailbox_slot, reserved),
        ABI_FIELD(struct dshq_mailbox_slot, msg),
    };
    static const struct abi_field msg[] = {
        ABI_FIELD(struct dshq_msg, type),
        ABI_FIELD(struct dshq_msg, version),
        ABI_FIELD(struct dshq_msg, sender_pid),
        ABI_FIELD(struct dshq_msg, sender_tid),
        ABI_FIELD(struct dshq_msg, sequence),
        ABI_FIELD(struct dshq_msg, sent_ns),
        ABI_FIELD(struct dshq_msg, payload),
    };
    static const struct abi_field pause[] = {
        ABI_FIELD(struct dshq_msg_pause, paused),
        ABI_FIELD(struct dshq_msg_pause, reserved),
    };
    static const struct abi_field hparam[] = {
        ABI_FIELD(struct dshq_msg_set_hparam, param),
        ABI_FIELD(struct dshq_msg_set_hparam, value),
        ABI_FIELD(struct dshq_msg_set_hparam, reserved),
    };
    static const struct abi_field tctrl[] = {
        ABI_FIELD(struct dshq_telemetry_ctrl, magic),
        ABI_FIELD(struct dshq_telemetry_ctrl, version),
        ABI_FIELD(struct dshq_telemetry_ctrl, blob_capacity),
        ABI_FIELD(struct dshq_telemetry_ctrl, slot_count),
        ABI_FIELD(struct dshq_telemetry_ctrl, blob_offset),
        ABI_FIELD(struct dshq_telemetry_ctrl, slots_offset),
        ABI_FIELD(struct dshq_telemetry_ctrl, writer),
        ABI_FIELD(struct dshq_telemetry_ctrl, reserved0),
        ABI_FIELD(struct dshq_telemetry_ctrl, reserved1),
        ABI_FIELD(struct dshq_telemetry_ctrl, seq),
        ABI_FIELD(struct dshq_telemetry_ctrl, shape_hash),
        ABI_FIELD(struct dshq_telemetry_ctrl, size),
        ABI_FIELD(struct dshq_telemetry_ctrl, published_by),
        ABI_FIELD(struct dshq_telemetry_ctrl, published_ns),
        ABI_FIELD(struct dshq_telemetry_ctrl, reserved2),
    };
    static const struct abi_field hb[] = {
        ABI_FIELD(struct dshq_heartbeat_slot, owner),
        ABI_FIELD(struct dshq_heartbeat_slot, seq),
        ABI_FIELD(struct dshq_heartbeat_slot, role),
        ABI_FIELD(struct dshq_heartbeat_slot, index),
        ABI_FIELD(struct dshq_heartbeat_slot, pid),
        ABI_FIELD(struct dshq_heartbeat_slot, start_ticks),
        ABI_FIELD(struct dshq_heartbeat_slot, registered_ns),
        ABI_FIELD(struct dshq_heartbeat_slot, heartbeat_ns),
        ABI_FIELD(struct dshq_heartbeat_slot, beats),
        ABI_FIELD(struct dshq_heartbeat_slot, reserved1),
    };
    /* struct metrics: from its own field table (which test_telemetry_metrics
     * checks against the struct), so a new field needs a new row here too. */
    static struct abi_field met[64];
    CHECK(metrics_field_count <= 64);
    for (size_t i = 0; i < metrics_field_count; i++) {
        met[i].name = metrics_fields[i].name;
        met[i].offset = metrics_fields[i].offset;
        met[i].size = 8;
    }

    int errors = 0;
    errors += CHECK_DOC("dshq_mailbox_ctrl", struct dshq_mailbox_ctrl, mctrl);
    errors += CHECK_DOC("dshq_mailbox_slot", struct dshq_mailbox_slot, mslot);
    errors += CHECK_DOC("dshq_msg", struct dshq_msg, msg);
    errors += CHECK_DOC("dshq_msg_pause", struct dshq_msg_pause, pause);
    errors += CHECK_DOC("dshq_msg_set_hparam", struct dshq_msg_set_hparam, hparam);
    errors += CHECK_DOC("dshq_telemetry_ctrl", struct dshq_telemetry_ctrl, tctrl);
    errors += CHECK_DOC("dshq_heartbeat_slot", struct dshq_heartbeat_slot, hb);
    errors += abi_doc_check_strict("metrics", sizeof(struct metrics), met, metrics_field_count);
    CHECK_EQ_INT(errors, 0);

    /* The checker can fail: a wrong size or offset is reported. */
    static const struct abi_field wrong[] = {{"tail", 72, 8}};
    CHECK(abi_doc_check("dshq_mailbox_ctrl", sizeof(struct dshq_mailbox_ctrl), wrong, 1) > 0);
    CHECK(abi_doc_check("metrics", 232, met, metrics_field_count) > 0);
    puts("abi doc (mailbox, telemetry, metrics): ok");
    return 0;
}
