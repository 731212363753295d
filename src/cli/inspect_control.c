/* inspect_control.c — 'dshq inspect' for the control plane: the mailbox
 * (counters) and the telemetry block (the metrics snapshot and heartbeats). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/inspect_control.h"
#include "run/metrics.h"
#include "dshq/error.h"
#include "dshq/mailbox.h"
#include "dshq/telemetry.h"

void inspect_mailbox(struct report *out, const struct dshq_region *r,
                     const struct dshq_section *s, void *payload)
{
    (void)r;
    struct dshq_mailbox_stats st;
    int rc = dshq_mailbox_stats(payload, s->size, &st);
    if (rc) {
        report_str(out, "error", dshq_strerror(rc));
        return;
    }
    report_u64(out, "capacity", st.capacity);
    report_u64(out, "tail", st.tail);
    report_u64(out, "head", st.head);
    report_u64(out, "depth", st.tail >= st.head ? st.tail - st.head : 0);
    report_u64(out, "posted", st.posted);
    report_u64(out, "consumed", st.consumed);
    report_u64(out, "unknown_type", st.unknown_type);
    report_u64(out, "unknown_version", st.unknown_version);
    report_u64(out, "refused_full", st.full);
    report_u64(out, "dead_poster_skipped", st.dead_skipped);
    report_i64(out, "consumer_pid", st.consumer_pid);
    report_str(out, "consumer", st.consumer_pid == 0 ? "none"
                                : dshq_process_alive(st.consumer_pid, 0) == DSHQ_CREATOR_ALIVE
                                    ? "alive" : "dead");
}

static void report_metrics(struct report *out, const struct metrics *m)
{
    report_begin(out, "metrics", 0);
    for (size_t i = 0; i < metrics_field_count; i++) {
        const struct metrics_field *f = &metrics_fields[i];
        double v = metrics_get(m, i);
        if (!f->is_double) {
            uint64_t u;
            memcpy(&u, (const unsigned char *)m + f->offset, sizeof u);
            if (!strcmp(f->name, "opponent"))
                report_str(out, f->name, metrics_opponent_name(u));
            else
                report_u64(out, f->name, u);
        } else if (isfinite(v)) {
            report_f64(out, f->name, v);
        } else {
            report_str(out, f->name, "n/a");
        }
    }
    report_end(out);
}

void inspect_telemetry(struct report *out, const struct dshq_region *r,
                       const struct dshq_section *s, void *payload)
{
    (void)r;
    struct metrics m;
    struct dshq_telemetry_info info;
    int rc = dshq_telemetry_read(payload, s->size, metrics_shape_hash(), &m, sizeof m, &info);
    if (rc == -ENODATA) {
        report_str(out, "snapshot", "none published yet");
    } else if (rc == DSHQ_ESHAPE || rc == -EMSGSIZE) {
        report_str(out, "snapshot", "another layout than this build's metrics (not decoded)");
        report_hex(out, "snapshot_shape_hash", info.shape_hash);
        report_hex(out, "metrics_shape_hash", metrics_shape_hash());
        report_u64(out, "snapshot_bytes", info.size);
    } else if (rc == DSHQ_EMAGIC || rc == DSHQ_ECORRUPT || rc == DSHQ_ESIZE || rc == -EINVAL) {
        report_str(out, "error", dshq_strerror(rc)); /* the control block itself */
        return;
    } else if (rc < 0) {
        report_str(out, "snapshot", dshq_strerror(rc));
    } else {
        report_u64(out, "publications", info.publications);
        report_f64(out, "age_s", (double)info.age_ns / 1e9);
        report_i64(out, "writer_pid", info.writer_pid);
        report_str(out, "writer", info.writer_alive == DSHQ_CREATOR_ALIVE ? "alive" : "gone");
        report_u64(out, "copy_tries", info.tries);
        report_metrics(out, &m);
    }

    const struct dshq_telemetry_ctrl *c = payload;
    uint32_t cap = c->slot_count; /* validated by dshq_telemetry_read above */
    struct dshq_heartbeat *hb = calloc(cap ? cap : 1, sizeof *hb);
    if (!hb) {
        report_str(out, "heartbeats", "out of memory");
        return;
    }
    int n = dshq_telemetry_heartbeats(payload, s->size, hb, cap);
    report_u64(out, "heartbeat_slots", cap);
    report_begin(out, "heartbeats", 1);
    for (int i = 0; i < n; i++) {
        report_begin(out, NULL, 0);
        report_u64(out, "slot", hb[i].slot);
        report_str(out, "role", metrics_role_name(hb[i].role));
        report_u64(out, "index", hb[i].index);
        report_i64(out, "pid", hb[i].pid);
        report_f64(out, "age_s", (double)hb[i].age_ns / 1e9);
        report_str(out, "state", hb[i].alive == DSHQ_CREATOR_ALIVE ? "alive" : "dead");
        report_u64(out, "beats", hb[i].beats);
        report_end(out);
    }
    report_end(out);
    if (n < 0)
        report_str(out, "heartbeats_error", dshq_strerror(n));
    free(hb);
}
