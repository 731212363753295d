/* inspect_run.c — the run block in 'dshq inspect' (inspect_run.h). */
#include <string.h>

#include "cli/inspect_run.h"
#include "run/run.h"

void inspect_run(struct report *out, const struct dshq_region *r,
                 const struct dshq_section *s, void *payload)
{
    (void)r;
    if (strcmp(s->name, "run") || s->shape_hash != run_block_shape_hash() ||
        s->size < sizeof(struct run_block))
        return;
    const struct run_block *b = payload;
    /* Shared memory: report a checked copy of the config, nothing else of it. */
    struct run_config c;
    memcpy(&c, &b->config, sizeof c);
    char err[160];
    if (run_config_check(&c, err, sizeof err)) {
        report_str(out, "config_error", err);
    } else {
        report_begin(out, "config", 0);
        for (size_t i = 0; i < run_config_key_count; i++) {
            char v[64];
            run_config_format(&c, &run_config_keys[i], v, sizeof v);
            report_str(out, run_config_keys[i].name, v);
        }
        report_end(out);
    }
    /* Relaxed loads: a monitor's snapshot of independent words. */
    uint32_t st = atomic_load_explicit(&((struct run_block *)b)->state, memory_order_relaxed);
    report_str(out, "run_state", st == RUN_RUNNING ? "running" : st == RUN_STOPPING ? "stopping"
                                                                              : "starting");
    report_u64(out, "paused",
               atomic_load_explicit(&((struct run_block *)b)->paused, memory_order_relaxed));
    report_u64(out, "shaping_milli",
               atomic_load_explicit(&((struct run_block *)b)->shaping_milli, memory_order_relaxed));
    report_u64(out, "shaping_set",
               atomic_load_explicit(&((struct run_block *)b)->shaping_set, memory_order_relaxed));
    report_u64(out, "ctl_refused",
               atomic_load_explicit(&((struct run_block *)b)->ctl_refused, memory_order_relaxed));
    report_u64(out, "version_base", b->version_base);
}
