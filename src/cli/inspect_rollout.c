/* inspect_rollout.c — live counters of rollout lanes and MPSC rings for
 * 'dshq inspect', read through dshq_lanes_stats / dshq_mpsc_stats (relaxed
 * loads only, so a PROT_READ mapping is enough). */
#include <errno.h>
#include <stdlib.h>

#include "cli/inspect_rollout.h"
#include "dshq/error.h"
#include "dshq/rollout.h"

static const char *policy_name(uint32_t p)
{
    return p == DSHQ_RING_DROP ? "drop" : p == DSHQ_RING_BLOCK ? "block" : "?";
}

static void totals(struct report *out, const struct dshq_ring_stats *rs)
{
    report_str(out, "policy", policy_name(rs->policy));
    report_u64(out, "capacity", rs->capacity);
    report_u64(out, "slot_size", rs->slot_size);
    report_i64(out, "consumer_pid", rs->consumer_pid);
    report_str(out, "consumer", rs->consumer_pid == 0 ? "none"
                                : rs->consumer_alive ? "alive" : "dead");
    report_u64(out, "committed", rs->committed);
    report_u64(out, "consumed", rs->consumed);
    report_u64(out, "dropped", rs->dropped);
    report_u64(out, "blocked", rs->blocked);
    report_u64(out, "unblocked", rs->unblocked);
    report_u64(out, "fill", rs->fill);
}

static void owner(struct report *out, const struct dshq_lane_stats *s)
{
    report_i64(out, "owner_pid", s->owner_pid);
    report_str(out, "owner", s->owner_pid == 0 ? "none" : s->owner_alive ? "alive" : "dead");
}

void inspect_lanes(struct report *out, const struct dshq_region *r,
                   const struct dshq_section *s, void *payload)
{
    (void)r;
    struct dshq_ring_stats rs;
    struct dshq_ring_params p;
    int rc = dshq_lanes_check(payload, s->size, &p);
    struct dshq_lane_stats *ls = rc ? NULL : calloc(p.producers, sizeof *ls);
    if (!rc && !ls)
        rc = -ENOMEM;
    if (!rc)
        rc = dshq_lanes_stats(payload, s->size, &rs, ls, p.producers);
    if (rc) {
        report_str(out, "error", dshq_strerror(rc));
        free(ls);
        return;
    }
    report_u64(out, "lanes", rs.producers);
    totals(out, &rs);
    report_begin(out, "per_lane", 1);
    for (uint32_t i = 0; i < rs.producers; i++) {
        report_begin(out, NULL, 0);
        report_u64(out, "lane", i);
        owner(out, &ls[i]);
        report_u64(out, "committed", ls[i].committed);
        report_u64(out, "consumed", ls[i].consumed);
        report_u64(out, "fill", ls[i].fill);
        report_u64(out, "claimed", ls[i].claimed);
        report_u64(out, "dropped", ls[i].dropped);
        report_u64(out, "blocked", ls[i].blocked);
        report_u64(out, "reclaims", ls[i].reclaims);
        report_u64(out, "abandoned", ls[i].abandoned);
        report_end(out);
    }
    report_end(out);
    free(ls);
}

void inspect_mpsc(struct report *out, const struct dshq_region *r,
                  const struct dshq_section *s, void *payload)
{
    (void)r;
    struct dshq_ring_stats rs;
    struct dshq_ring_params p;
    int rc = dshq_mpsc_check(payload, s->size, &p);
    struct dshq_lane_stats *ps = rc ? NULL : calloc(p.producers, sizeof *ps);
    if (!rc && !ps)
        rc = -ENOMEM;
    if (!rc)
        rc = dshq_mpsc_stats(payload, s->size, &rs, ps, p.producers);
    if (rc) {
        report_str(out, "error", dshq_strerror(rc));
        free(ps);
        return;
    }
    report_u64(out, "max_producers", rs.producers);
    report_u64(out, "reserved", rs.reserved);
    totals(out, &rs);
    report_begin(out, "producers", 1);
    for (uint32_t i = 0; i < rs.producers; i++) {
        if (ps[i].owner_pid == 0 && ps[i].committed == 0 && ps[i].dropped == 0)
            continue; /* never used */
        report_begin(out, NULL, 0);
        report_u64(out, "entry", i);
        owner(out, &ps[i]);
        report_u64(out, "committed", ps[i].committed);
        report_u64(out, "dropped", ps[i].dropped);
        report_u64(out, "blocked", ps[i].blocked);
        report_u64(out, "reclaims", ps[i].reclaims);
        report_end(out);
    }
    report_end(out);
    free(ps);
}
