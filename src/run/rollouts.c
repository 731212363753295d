/* rollouts.c — the rollouts section of a run behind one interface: one SPSC
 * lane per worker, or one MPSC ring for all (run.h, config.transport). */
#include <errno.h>
#include <string.h>

#include "run/run.h"

int run_producer_open(struct run *run, uint32_t worker, struct run_producer *p)
{
    memset(p, 0, sizeof *p);
    if (run->cfg.transport == RUN_TRANSPORT_MPSC)
        return dshq_mpsc_producer_open(run->rollouts_mem, run->rollouts_size, &p->mpsc);
    return dshq_lane_producer_open(run->rollouts_mem, run->rollouts_size, worker, &p->lane);
}

void run_producer_close(struct run_producer *p)
{
    if (p->lane)
        dshq_lane_producer_close(p->lane);
    if (p->mpsc)
        dshq_mpsc_producer_close(p->mpsc);
    memset(p, 0, sizeof *p);
}

int run_producer_claim(struct run_producer *p, int64_t timeout_ns, struct dshq_slot *out)
{
    return p->mpsc ? dshq_mpsc_claim(p->mpsc, timeout_ns, out)
                   : dshq_lane_claim(p->lane, timeout_ns, out);
}

int run_producer_commit(struct run_producer *p)
{
    return p->mpsc ? dshq_mpsc_commit(p->mpsc) : dshq_lane_commit(p->lane);
}

int run_consumer_open(struct run *run, struct run_consumer *c)
{
    memset(c, 0, sizeof *c);
    if (run->cfg.transport == RUN_TRANSPORT_MPSC)
        return dshq_mpsc_consumer_open(run->rollouts_mem, run->rollouts_size, &c->mpsc);
    return dshq_lane_consumer_open(run->rollouts_mem, run->rollouts_size, &c->lane);
}

void run_consumer_close(struct run_consumer *c)
{
    if (c->lane)
        dshq_lane_consumer_close(c->lane);
    if (c->mpsc)
        dshq_mpsc_consumer_close(c->mpsc);
    memset(c, 0, sizeof *c);
}

int run_consumer_poll(struct run_consumer *c, int64_t timeout_ns, struct dshq_slot *out)
{
    return c->mpsc ? dshq_mpsc_poll(c->mpsc, timeout_ns, out)
                   : dshq_lane_poll(c->lane, timeout_ns, out);
}

int run_consumer_release(struct run_consumer *c, const struct dshq_slot *s)
{
    return c->mpsc ? dshq_mpsc_release(c->mpsc, s) : dshq_lane_release(c->lane, s);
}

int run_rollouts_stats(const struct run *run, struct dshq_ring_stats *out)
{
    if (run->cfg.transport == RUN_TRANSPORT_MPSC)
        return dshq_mpsc_stats(run->rollouts_mem, run->rollouts_size, out, NULL, 0);
    return dshq_lanes_stats(run->rollouts_mem, run->rollouts_size, out, NULL, 0);
}
