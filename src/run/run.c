/* run.c — create and attach the shared region of a training run (run.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dshq/hash.h"
#include "rl/env.h"
#include "run/chunk_rollout.h"
#include "run/metrics.h"
#include "run/run.h"

#define RUN_MAILBOX_SLOTS 64
#define RUN_EXTRA_READERS 6   /* show, `dshq show` from other terminals, spares */
#define RUN_EXTRA_BEATS 12    /* launcher, trainer, show, monitors */

_Static_assert(RUN_MAX_WORKERS + RUN_EXTRA_READERS <= DSHQ_WEIGHTS_MAX_READERS,
               "every worker and the extra readers fit the weights channel");

uint64_t run_block_shape_hash(void)
{
    return dshq_shape_hashf("run/v%d;bytes=%zu;workers=%d;worker_line=%zu;config=%zu/v%d",
                            RUN_BLOCK_VERSION, sizeof(struct run_block), RUN_MAX_WORKERS,
                            sizeof(struct run_worker_stats), sizeof(struct run_config),
                            RUN_CONFIG_VERSION);
}

void run_arch_string(const struct rl_mlp *net, char *buf, size_t len)
{
    snprintf(buf, len, "mlp-%d-%dx%d-%d", net->obs_dim, net->hidden[0], net->n_hidden,
             net->n_actions);
}

int run_arch_parse(const char *arch, int *obs_dim, int *hidden, int *layers, int *n_actions)
{
    char tail;
    if (sscanf(arch, "mlp-%d-%dx%d-%d%c", obs_dim, hidden, layers, n_actions, &tail) != 4)
        return -EINVAL;
    if (*obs_dim < 1 || *hidden < 1 || *layers < 1 || *layers > RL_MLP_MAX_HIDDEN ||
        *n_actions < 1)
        return -EINVAL;
    return 0;
}

static int run_net_init(struct rl_mlp *net, uint32_t hidden, uint32_t layers)
{
    int h[RL_MLP_MAX_HIDDEN];
    if (layers < 1 || layers > RL_MLP_MAX_HIDDEN)
        return -EINVAL;
    for (uint32_t i = 0; i < layers; i++)
        h[i] = (int)hidden;
    return rl_mlp_init(net, BD_OBS_DIM, BD_NUM_ACTIONS, h, (int)layers);
}

static uint32_t rollouts_kind(const struct run_config *c)
{
    return c->transport == RUN_TRANSPORT_MPSC ? DSHQ_SECTION_MPSC : DSHQ_SECTION_LANES;
}

static void ring_params(const struct run *run, struct dshq_ring_params *rp)
{
    const struct run_config *c = &run->cfg;
    memset(rp, 0, sizeof *rp);
    rp->slot_size = run->chunk.bytes + RUN_CHUNK_TRAILER; /* the seal (chunk_rollout.h) */
    rp->policy = c->when_full == RUN_FULL_DROP ? DSHQ_RING_DROP : DSHQ_RING_BLOCK;
    if (c->transport == RUN_TRANSPORT_MPSC) {
        /* One ring as deep as the lanes together: lane_slots per worker,
         * rounded up to a power of two; a producer entry per worker plus
         * spares for restarted workers whose dead entry is not yet reclaimed. */
        uint32_t cap = 2;
        while (cap < c->lane_slots * c->workers)
            cap *= 2;
        rp->capacity = cap;
        rp->producers = 2 * c->workers;
    } else {
        rp->capacity = c->lane_slots;
        rp->producers = c->workers;
    }
}

/* Finds every section of an initialized or attached region. */
static int run_find(struct run *run)
{
    int rc;
    void *blk;
    uint64_t sz;
    if ((rc = dshq_region_find(run->region, DSHQ_SECTION_RAW, "run", run_block_shape_hash(),
                               &blk, &sz)))
        return rc;
    if (sz < sizeof(struct run_block))
        return DSHQ_ECORRUPT;
    run->blk = blk;
    return 0;
}

static int run_find_channels(struct run *run)
{
    int rc;
    if ((rc = dshq_region_find(run->region, DSHQ_SECTION_WEIGHTS, "policy", 0,
                               &run->weights_mem, &run->weights_size)) ||
        (rc = dshq_region_find(run->region, rollouts_kind(&run->cfg), "rollouts", 0,
                               &run->rollouts_mem, &run->rollouts_size)) ||
        (rc = dshq_region_find(run->region, DSHQ_SECTION_MAILBOX, "control",
                               dshq_mailbox_shape_hash(), &run->mailbox_mem,
                               &run->mailbox_size)) ||
        (rc = dshq_region_find(run->region, DSHQ_SECTION_TELEMETRY, "telemetry",
                               dshq_telemetry_shape_hash(), &run->telemetry_mem,
                               &run->telemetry_size)))
        return rc;
    return 0;
}

int run_create(struct run *run, const char *name, const struct run_config *cfg,
               const struct run_start *start)
{
    memset(run, 0, sizeof *run);
    if (run_config_check(cfg, NULL, 0))
        return -EINVAL;
    run->cfg = *cfg;
    int rc = run_net_init(&run->net, cfg->hidden, cfg->layers);
    if (rc)
        return rc;
    if ((rc = dshq_chunk_layout_init(&run->chunk, cfg->horizon, cfg->envs, BD_OBS_DIM,
                                     bd_spec_hash())))
        return rc;
    struct dshq_ring_params rp;
    ring_params(run, &rp);
    uint64_t ring_bytes = cfg->transport == RUN_TRANSPORT_MPSC ? dshq_mpsc_size(&rp)
                                                              : dshq_lanes_size(&rp);
    uint32_t readers = cfg->workers + RUN_EXTRA_READERS;
    uint64_t weights_bytes = dshq_weights_layout(run->net.n_params, readers);
    uint32_t beats = cfg->workers + RUN_EXTRA_BEATS;
    if (!ring_bytes || !weights_bytes)
        return -EINVAL;

    struct dshq_layout l;
    dshq_layout_init(&l);
    dshq_layout_add(&l, DSHQ_SECTION_RAW, "run", RUN_BLOCK_VERSION, sizeof(struct run_block),
                    DSHQ_SECTION_ALIGN, run_block_shape_hash());
    dshq_layout_add(&l, DSHQ_SECTION_WEIGHTS, "policy", DSHQ_WEIGHTS_VERSION, weights_bytes,
                    DSHQ_PAGE_ALIGN, run->net.shape_hash);
    dshq_layout_add(&l, rollouts_kind(cfg), "rollouts",
                    cfg->transport == RUN_TRANSPORT_MPSC ? DSHQ_MPSC_VERSION : DSHQ_LANES_VERSION,
                    ring_bytes, DSHQ_PAGE_ALIGN, run->chunk.shape_hash);
    dshq_layout_add(&l, DSHQ_SECTION_MAILBOX, "control", DSHQ_MAILBOX_VERSION,
                    dshq_mailbox_bytes(RUN_MAILBOX_SLOTS), DSHQ_SECTION_ALIGN,
                    dshq_mailbox_shape_hash());
    dshq_layout_add(&l, DSHQ_SECTION_TELEMETRY, "telemetry", DSHQ_TELEMETRY_VERSION,
                    dshq_telemetry_bytes(sizeof(struct metrics), beats), DSHQ_SECTION_ALIGN,
                    dshq_telemetry_shape_hash());
    if (l.error)
        return l.error;

    if (name) {
        snprintf(run->region_name, sizeof run->region_name, RUN_REGION_PREFIX "%s", name);
        rc = dshq_region_create(run->region_name, &l, 0, &run->region);
    } else {
        rc = dshq_region_create_anon(&l, &run->region);
    }
    if (rc)
        return rc;
    if ((rc = run_find(run)) || (rc = run_find_channels(run)) ||
        (rc = dshq_weights_init(run->weights_mem, run->weights_size, run->net.n_params, readers,
                                run->net.shape_hash)) ||
        (rc = cfg->transport == RUN_TRANSPORT_MPSC
                  ? dshq_mpsc_init(run->rollouts_mem, run->rollouts_size, &rp)
                  : dshq_lanes_init(run->rollouts_mem, run->rollouts_size, &rp)) ||
        (rc = dshq_mailbox_init(run->mailbox_mem, run->mailbox_size, RUN_MAILBOX_SLOTS)) ||
        (rc = dshq_telemetry_init(run->telemetry_mem, run->telemetry_size,
                                  sizeof(struct metrics), beats))) {
        dshq_region_destroy(run->region);
        run->region = NULL;
        return rc;
    }
    struct run_block *b = run->blk;
    b->config = *cfg;
    b->version = RUN_BLOCK_VERSION;
    b->obs_dim = BD_OBS_DIM;
    b->n_actions = BD_NUM_ACTIONS;
    b->mlp_shape = run->net.shape_hash;
    if (start) {
        b->version_base = start->version_base;
        b->updates_base = start->updates_base;
    }
    /* Relaxed: the region is not published yet; mark_ready (release) orders
     * these stores before any attacher's acquire of the region state.  An
     * anonymous region is handed to threads by their creation, which orders
     * them too. */
    atomic_store_explicit(&b->shaping_milli, 1000, memory_order_relaxed);
    return dshq_region_mark_ready(run->region);
}

int run_attach(struct run *run, const char *region, unsigned flags)
{
    memset(run, 0, sizeof *run);
    if (snprintf(run->region_name, sizeof run->region_name, "%s", region) >=
        (int)sizeof run->region_name)
        return -ENAMETOOLONG;
    int rc = dshq_region_attach(run->region_name, flags, DSHQ_ABI_MINOR, &run->region);
    if (rc)
        return rc;
    if ((rc = run_find(run)))
        goto fail;
    /* Shared memory is untrusted: check a private copy and use only that. */
    const struct run_block *b = run->blk;
    memcpy(&run->cfg, &b->config, sizeof run->cfg);
    if (b->version != RUN_BLOCK_VERSION || run_config_check(&run->cfg, NULL, 0) ||
        b->obs_dim != BD_OBS_DIM || b->n_actions != BD_NUM_ACTIONS) {
        rc = DSHQ_ECORRUPT;
        goto fail;
    }
    if ((rc = run_find_channels(run)))
        goto fail;
    if ((rc = run_net_init(&run->net, run->cfg.hidden, run->cfg.layers)))
        goto fail;
    if (run->net.shape_hash != b->mlp_shape) {
        rc = DSHQ_ESHAPE;
        goto fail;
    }
    if ((rc = dshq_chunk_layout_init(&run->chunk, run->cfg.horizon, run->cfg.envs, BD_OBS_DIM,
                                     bd_spec_hash())))
        goto fail;
    return 0;
fail:
    dshq_region_detach(run->region);
    run->region = NULL;
    return rc;
}

int run_diagnose(const char *region, char *err, size_t errlen)
{
    struct run r;
    memset(&r, 0, sizeof r);
    int rc = dshq_region_attach(region, DSHQ_ATTACH_RDONLY, DSHQ_ABI_MINOR, &r.region);
    if (rc)
        return rc;
    if ((rc = run_find(&r))) {
        snprintf(err, errlen, "no valid run block section (%s)", dshq_strerror(rc));
    } else {
        struct run_config c;
        memcpy(&c, &r.blk->config, sizeof c); /* one copy, then only the copy */
        uint32_t version = r.blk->version, obs = r.blk->obs_dim, na = r.blk->n_actions;
        char why[256] = "";
        if (version != RUN_BLOCK_VERSION)
            snprintf(err, errlen, "run block version %u, this build reads %d", version,
                     RUN_BLOCK_VERSION);
        else if (run_config_check(&c, why, sizeof why))
            snprintf(err, errlen, "its config is damaged: %s", why);
        else if (obs != BD_OBS_DIM || na != BD_NUM_ACTIONS)
            snprintf(err, errlen, "observation size %u / actions %u, this build has %d / %d",
                     obs, na, BD_OBS_DIM, BD_NUM_ACTIONS);
        else
            snprintf(err, errlen, "a section does not match its config");
    }
    dshq_region_detach(r.region);
    return 0;
}

int run_stop_region(const char *region)
{
    struct run r;
    memset(&r, 0, sizeof r);
    int rc = dshq_region_attach(region, 0, DSHQ_ABI_MINOR, &r.region);
    if (rc)
        return rc;
    if ((rc = run_find(&r)) == 0)
        run_stop(r.blk);
    dshq_region_detach(r.region);
    return rc;
}

void run_detach(struct run *run)
{
    dshq_region_detach(run->region);
    run->region = NULL;
}

void run_destroy(struct run *run)
{
    dshq_region_destroy(run->region);
    run->region = NULL;
}

void run_set_state(struct run *run, uint32_t state)
{
    /* Release: pairs with the acquire in run_state, so whatever the setter
     * did before (e.g. the first publish) is visible with the new state.
     * RUNNING never overwrites a stop raised before it (CAS from STARTING). */
    if (state == RUN_RUNNING) {
        uint32_t expected = RUN_STARTING;
        atomic_compare_exchange_strong_explicit(&run->blk->state, &expected, state,
                                                memory_order_release, memory_order_relaxed);
    } else {
        atomic_store_explicit(&run->blk->state, state, memory_order_release);
    }
    dshq_event_notify(&run->blk->state_changed);
}

void run_stop(struct run_block *blk)
{
    /* Release: pairs with the acquire in run_state (as run_set_state). */
    atomic_store_explicit(&blk->state, RUN_STOPPING, memory_order_release);
    dshq_event_notify(&blk->state_changed);
}

uint32_t run_state(const struct run *run)
{
    /* Acquire: pairs with the release in run_set_state / run_stop. */
    return atomic_load_explicit(&run->blk->state, memory_order_acquire);
}
