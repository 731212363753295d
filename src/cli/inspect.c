/* inspect.c — the header, the section table and the live counters of a
 * region, for 'dshq inspect' (text or JSON). */
#include <stdio.h>
#include <string.h>

#include "cli/inspect.h"
#include "cli/inspect_control.h"
#include "cli/inspect_rollout.h"
#include "cli/inspect_run.h"
#include "cli/inspect_weights.h"
#include "cli/util.h"

static const struct {
    uint32_t kind;
    const char *name;
    inspect_printer print;
} kinds[] = {
    {DSHQ_SECTION_RAW, "raw", inspect_run},
    {DSHQ_SECTION_WEIGHTS, "weights", inspect_weights},
    {DSHQ_SECTION_LANES, "lanes", inspect_lanes},
    {DSHQ_SECTION_MPSC, "mpsc", inspect_mpsc},
    {DSHQ_SECTION_MAILBOX, "mailbox", inspect_mailbox},
    {DSHQ_SECTION_TELEMETRY, "telemetry", inspect_telemetry},
};

void inspect_region(struct report *out, const struct dshq_region *r)
{
    const struct dshq_region_header *h = dshq_region_header(r);
    char buf[64];
    int alive = dshq_region_creator_state(r) == DSHQ_CREATOR_ALIVE;

    report_begin(out, NULL, 0);
    report_str(out, "name", dshq_region_name(r));
    report_hex(out, "magic", h->magic);
    snprintf(buf, sizeof buf, "%u.%u", h->abi_major, h->abi_minor);
    report_str(out, "abi", buf);
    report_u64(out, "header_size", h->header_size);
    report_u64(out, "region_size", h->region_size);
    report_str(out, "state", atomic_load_explicit(&((struct dshq_region_header *)h)->state,
                                                  memory_order_acquire) == DSHQ_REGION_READY
                                 ? "ready" : "init");
    report_i64(out, "creator_pid", h->creator_pid);
    report_str(out, "creator", alive ? "alive" : "dead (stale region)");
    report_u64(out, "created_unix_ns", h->created_unix_ns);
    report_f64(out, "heartbeat_age_s", (double)dshq_region_heartbeat_age_ns(r) / 1e9);

    uint32_t n;
    const struct dshq_section *secs = dshq_region_sections(r, &n);
    report_begin(out, "sections", 1);
    for (uint32_t i = 0; i < n; i++) {
        const struct dshq_section *s = &secs[i];
        const char *kname = "unknown";
        inspect_printer print = NULL;
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            if (kinds[k].kind == s->kind) {
                kname = kinds[k].name;
                print = kinds[k].print;
            }
        report_begin(out, NULL, 0);
        report_str(out, "name", s->name);
        report_str(out, "kind", kname);
        report_u64(out, "kind_id", s->kind);
        report_u64(out, "version", s->version);
        report_u64(out, "offset", s->offset);
        report_u64(out, "size", s->size);
        report_hex(out, "shape_hash", s->shape_hash);
        if (print) {
            void *payload;
            if (dshq_region_find(r, s->kind, s->name, 0, &payload, NULL) == 0)
                print(out, r, s, payload);
        }
        report_end(out);
    }
    report_end(out);
    report_end(out);
    report_finish(out);
}
