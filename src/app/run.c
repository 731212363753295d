/* run.c — create and attach the shared region of a training run (run.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app/metrics.h"
#include "app/run.h"
#include "app/util.h"
#include "dshq/hash.h"
#include "rl/env.h"

#define RUN_MAILBOX_SLOTS 64
#define RUN_EXTRA_READERS 6   /* show, `dshq show` from other terminals, spares */
#define RUN_EXTRA_BEATS 12    /* launcher, trainer, show, monitors */

uint64_t run_block_shape_hash(void)
{
    return dshq_shape_hashf("run/v%d;bytes=%zu;workers=%d;worker_line=%zu", RUN_BLOCK_VERSION,
                            sizeof(struct run_block), RUN_MAX_WORKERS,
                            sizeof(struct run_worker_stats));
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
    if ((rc = dshq_region_find(run->region, DSHQ_SECTION_WEIGHTS, "policy", 0,
                               &run->weights_mem, &run->weights_size)) ||
        (rc = dshq_region_find(run->region, DSHQ_SECTION_LANES, "rollouts", 0,
                               &run->lanes_mem, &run->lanes_size)) ||
        (rc = dshq_region_find(run->region, DSHQ_SECTION_MAILBOX, "control",
                               dshq_mailbox_shape_hash(), &run->mailbox_mem,
                               &run->mailbox_size)) ||
        (rc = dshq_region_find(run->region, DSHQ_SECTION_TELEMETRY, "telemetry",
                               dshq_telemetry_shape_hash(), &run->telemetry_mem,
                               &run->telemetry_size)))
        return rc;
    return 0;
}

int run_create(struct run *run, const struct run_params *p)
{
    memset(run, 0, sizeof *run);
    if (p->workers < 1 || p->workers > RUN_MAX_WORKERS || p->envs < 1 || p->horizon < 1)
        return -EINVAL;
    int rc = run_net_init(&run->net, p->hidden, p->layers);
    if (rc)
        return rc;
    if ((rc = dshq_chunk_layout_init(&run->chunk, p->horizon, p->envs, BD_OBS_DIM,
                                     bd_spec_hash())))
        return rc;
    struct dshq_ring_params rp = {.slot_size = run->chunk.bytes,
                                  .capacity = p->lane_slots,
                                  .producers = p->workers,
                                  .policy = DSHQ_RING_BLOCK};
    uint64_t lanes_bytes = dshq_lanes_size(&rp);
    uint32_t readers = p->workers + RUN_EXTRA_READERS;
    uint64_t weights_bytes = dshq_weights_layout(run->net.n_params, readers);
    uint32_t beats = p->workers + RUN_EXTRA_BEATS;
    if (!lanes_bytes || !weights_bytes)
        return -EINVAL;

    struct dshq_layout l;
    dshq_layout_init(&l);
    dshq_layout_add(&l, DSHQ_SECTION_RAW, "run", RUN_BLOCK_VERSION, sizeof(struct run_block),
                    DSHQ_SECTION_ALIGN, run_block_shape_hash());
    dshq_layout_add(&l, DSHQ_SECTION_WEIGHTS, "policy", DSHQ_WEIGHTS_VERSION, weights_bytes,
                    DSHQ_PAGE_ALIGN, run->net.shape_hash);
    dshq_layout_add(&l, DSHQ_SECTION_LANES, "rollouts", DSHQ_LANES_VERSION, lanes_bytes,
                    DSHQ_PAGE_ALIGN, run->chunk.shape_hash);
    dshq_layout_add(&l, DSHQ_SECTION_MAILBOX, "control", DSHQ_MAILBOX_VERSION,
                    dshq_mailbox_bytes(RUN_MAILBOX_SLOTS), DSHQ_SECTION_ALIGN,
                    dshq_mailbox_shape_hash());
    dshq_layout_add(&l, DSHQ_SECTION_TELEMETRY, "telemetry", DSHQ_TELEMETRY_VERSION,
                    dshq_telemetry_bytes(sizeof(struct metrics), beats), DSHQ_SECTION_ALIGN,
                    dshq_telemetry_shape_hash());
    if (l.error)
        return l.error;

    snprintf(run->region_name, sizeof run->region_name, APP_REGION_PREFIX "%s", p->name);
    if ((rc = dshq_region_create(run->region_name, &l, 0, &run->region)))
        return rc;
    if ((rc = run_find(run)) ||
        (rc = dshq_weights_init(run->weights_mem, run->weights_size, run->net.n_params, readers,
                                run->net.shape_hash)) ||
        (rc = dshq_lanes_init(run->lanes_mem, run->lanes_size, &rp)) ||
        (rc = dshq_mailbox_init(run->mailbox_mem, run->mailbox_size, RUN_MAILBOX_SLOTS)) ||
        (rc = dshq_telemetry_init(run->telemetry_mem, run->telemetry_size,
                                  sizeof(struct metrics), beats))) {
        dshq_region_destroy(run->region);
        run->region = NULL;
        return rc;
    }
    struct run_block *b = run->blk;
    b->version = RUN_BLOCK_VERSION;
    b->workers = p->workers;
    b->envs = p->envs;
    b->horizon = p->horizon;
    b->obs_dim = BD_OBS_DIM;
    b->n_actions = BD_NUM_ACTIONS;
    b->hidden = p->hidden;
    b->layers = p->layers;
    b->seed = p->seed;
    b->mlp_shape = run->net.shape_hash;
    b->max_lag = p->max_lag;
    b->max_updates = p->max_updates;
    b->duration_s = p->duration_s;
    /* Relaxed: the region is not published yet; mark_ready (release) orders
     * these stores before any attacher's acquire of the region state. */
    atomic_store_explicit(&b->shaping_milli, 1000, memory_order_relaxed);
    return dshq_region_mark_ready(run->region);
}

int run_attach(struct run *run, const char *name, unsigned flags)
{
    memset(run, 0, sizeof *run);
    if (app_region_name(name, run->region_name, sizeof run->region_name))
        return -ENAMETOOLONG;
    int rc = dshq_region_attach(run->region_name, flags, DSHQ_ABI_MINOR, &run->region);
    if (rc)
        return rc;
    if ((rc = run_find(run)))
        goto fail;
    const struct run_block *b = run->blk;
    if (b->version != RUN_BLOCK_VERSION || b->workers < 1 || b->workers > RUN_MAX_WORKERS ||
        b->obs_dim != BD_OBS_DIM || b->n_actions != BD_NUM_ACTIONS) {
        rc = DSHQ_ECORRUPT;
        goto fail;
    }
    if ((rc = run_net_init(&run->net, b->hidden, b->layers)))
        goto fail;
    if (run->net.shape_hash != b->mlp_shape) {
        rc = DSHQ_ESHAPE;
        goto fail;
    }
    if ((rc = dshq_chunk_layout_init(&run->chunk, b->horizon, b->envs, BD_OBS_DIM,
                                     bd_spec_hash())))
        goto fail;
    return 0;
fail:
    dshq_region_detach(run->region);
    run->region = NULL;
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
     * did before (e.g. the first publish) is visible with the new state. */
    atomic_store_explicit(&run->blk->state, state, memory_order_release);
    dshq_event_notify(&run->blk->state_changed);
}

uint32_t run_state(const struct run *run)
{
    /* Acquire: pairs with the release in run_set_state. */
    return atomic_load_explicit(&run->blk->state, memory_order_acquire);
}
