/* inspect_weights.c — 'dshq inspect' for a weights section: the seed's
 * control words, the writer, every buffer with the readers that hold it,
 * and every reader slot in use. */
#include <stdlib.h>

#include "cli/inspect_weights.h"
#include "dshq/error.h"
#include "dshq/weights.h"

void inspect_weights(struct report *out, const struct dshq_region *r,
                     const struct dshq_section *s, void *payload)
{
    (void)r;
    struct dshq_weights *ch;
    int rc = dshq_weights_open(payload, s->size, &ch);
    if (rc) {
        report_str(out, "error", dshq_strerror(rc));
        return;
    }
    struct dshq_weights_stats *st = malloc(sizeof *st);
    if (!st || dshq_weights_stats(ch, st) != 0) {
        report_str(out, "error", "out of memory");
        free(st);
        dshq_weights_close(ch);
        return;
    }
    report_u64(out, "param_count", st->param_count);
    report_u64(out, "buffer_bytes", st->buffer_bytes);
    report_u64(out, "max_readers", st->max_readers);
    report_u64(out, "weights_version", st->version);
    report_u64(out, "step", st->step);
    report_hex(out, "live_shape_hash", st->shape_hash);
    report_u64(out, "active_idx", st->active_idx);
    report_i64(out, "writer_pid", st->writer_pid);
    report_str(out, "writer", st->writer_pid == 0 ? "none"
                              : st->writer_alive ? "alive" : "dead (next writer takes over)");
    report_u64(out, "readers_attached", st->readers);
    report_u64(out, "claims_stolen", st->claims_stolen);
    report_u64(out, "reclaims", st->reclaims);
    report_u64(out, "writer_takeovers", st->writer_takeovers);

    report_begin(out, "buffers", 1);
    for (uint32_t b = 0; b < st->buffer_count; b++) {
        int held = 0;
        for (uint32_t i = 0; i < st->max_readers; i++)
            held += st->reader[i].pid != 0 && st->reader[i].held == b;
        report_begin(out, NULL, 0);
        report_u64(out, "index", b);
        report_u64(out, "version", st->buffer_version[b]);
        report_str(out, "state", b == st->active_idx ? (held ? "active, held" : "active")
                                 : held ? "held" : "free");
        report_begin(out, "held_by_pids", 1);
        for (uint32_t i = 0; i < st->max_readers; i++)
            if (st->reader[i].pid != 0 && st->reader[i].held == b)
                report_i64(out, NULL, st->reader[i].pid);
        report_end(out);
        report_end(out);
    }
    report_end(out);

    report_begin(out, "readers", 1);
    for (uint32_t i = 0; i < st->max_readers; i++) {
        const struct dshq_weights_reader_stats *rs = &st->reader[i];
        if (rs->pid == 0)
            continue;
        report_begin(out, NULL, 0);
        report_u64(out, "slot", i);
        report_i64(out, "pid", rs->pid);
        report_str(out, "state", rs->alive ? "alive" : "dead (reclaimable)");
        report_i64(out, "held_buffer", rs->held == DSHQ_WEIGHTS_NONE ? -1 : (int64_t)rs->held);
        report_u64(out, "held_version", rs->version);
        report_u64(out, "adoptions", rs->adoptions);
        report_u64(out, "shape_refusals", rs->refusals);
        report_end(out);
    }
    report_end(out);
    free(st);
    dshq_weights_close(ch);
}
