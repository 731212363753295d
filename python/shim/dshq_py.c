/* dshq_py.c — the C side of the Python package python/dshq: one flat API of
 * plain types (ints, pointers, arrays) that ctypes loads without a compiler
 * at import time (python/dshq/_lib.py declares every signature here).
 *
 * It is a thin host of the run layer, like src/cli is: a Python program that
 * attaches to a run gets the same checked struct run (run_attach) and the
 * same channels the C roles use, and plays any of them: the trainer (chunk
 * consumer, weights writer, mailbox consumer, telemetry writer), a monitor
 * (telemetry, config), a poster of control messages, a weights reader.  It
 * copies nothing on the data paths: a polled chunk and an adopted weights
 * snapshot are returned as addresses in the region; Python maps the same
 * region file and views those bytes with numpy.
 *
 * Also: the Ball Drill env in batch (for a Gymnasium-style vector env over
 * caller-owned numpy arrays), the MLP forward and the PPO loss with its
 * gradients (for the cross-checks against PyTorch), and the learner's
 * evaluation.
 *
 * Handles belong to the thread that made them, as in libdshq.  Every
 * function returns 0 or a negative error (dshq_py_strerror names it) unless
 * it says otherwise. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl/baselines.h"
#include "rl/env.h"
#include "rl/mlp.h"
#include "rl/ppo.h"
#include "rl/rng.h"
#include "rl/train_loop.h"
#include "run/config.h"
#include "run/metrics.h"
#include "run/run.h"

#define DPY_MAX_HELD 256 /* chunks polled and not yet released, per handle */

struct dpy_run {
    struct run run;
    int owner;                            /* created here: destroy removes it */
    struct run_consumer cons;
    int cons_open;
    struct dshq_slot held[DPY_MAX_HELD];  /* polled, not released */
    uint32_t nheld;
    uint64_t refused;                     /* chunks that failed the check */
    struct dshq_weights *wch;
    struct dshq_weights_reader *rd;
    struct dshq_weights_writer *wr;
    struct dshq_mailbox *mb_post, *mb_cons;
    struct dshq_telemetry *tel;
    int beat;
    struct run_producer prod;             /* dshq_py_produce (tests) */
    int prod_open;
};

/* What Python needs to lay its numpy views over a run (plain data). */
struct dpy_info {
    uint32_t T, E, obs_dim, n_actions;    /*  0 */
    uint32_t workers, hidden, layers, transport; /* 16 */
    uint64_t n_params, mlp_shape;         /* 32 */
    uint64_t chunk_bytes, chunk_shape;    /* 48 */
    uint64_t off[10];                     /* 64: obs act rew done trunc logp value
                                           *     final_value boot_value final_obs */
    uint64_t region_size;                 /* 144 */
    uint64_t version_base, updates_base;  /* 152 */
    uint64_t base_addr;                   /* 168: the C mapping's address of the region */
    char region[80];                      /* 176 */
};

const char *dshq_py_strerror(int rc) { return dshq_strerror(rc); }
uint32_t dshq_py_info_size(void) { return (uint32_t)sizeof(struct dpy_info); }

/* ---- runs ------------------------------------------------------------- */

int dshq_py_run_attach(const char *region, int readonly, struct dpy_run **out)
{
    struct dpy_run *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    int rc = run_attach(&r->run, region, readonly ? DSHQ_ATTACH_RDONLY : 0);
    if (rc) {
        free(r);
        return rc;
    }
    r->beat = -1;
    *out = r;
    return 0;
}

/* Creates the run NAME (region dshq-NAME) from config text (key = value
 * lines over the defaults; "" for the defaults). */
int dshq_py_run_create(const char *name, const char *config_text, char *err, uint32_t errlen,
                       struct dpy_run **out)
{
    struct run_config c;
    run_config_default(&c);
    int rc = run_config_parse(&c, config_text ? config_text : "", "config", NULL, err, errlen);
    if (rc == 0)
        rc = run_config_check(&c, err, errlen);
    if (rc)
        return rc;
    struct dpy_run *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    if ((rc = run_create(&r->run, name, &c, NULL))) {
        free(r);
        return rc;
    }
    r->owner = 1;
    r->beat = -1;
    *out = r;
    return 0;
}

void dshq_py_run_close(struct dpy_run *r, int destroy)
{
    if (!r)
        return;
    if (r->cons_open) {
        for (uint32_t i = 0; i < r->nheld; i++)
            run_consumer_release(&r->cons, &r->held[i]);
        run_consumer_close(&r->cons);
    }
    if (r->prod_open)
        run_producer_close(&r->prod);
    if (r->rd)
        dshq_weights_reader_detach(r->rd);
    if (r->wr)
        dshq_weights_writer_detach(r->wr);
    if (r->wch)
        dshq_weights_close(r->wch);
    if (r->mb_post)
        dshq_mailbox_detach(r->mb_post);
    if (r->mb_cons)
        dshq_mailbox_detach(r->mb_cons);
    if (r->tel) {
        if (r->beat >= 0)
            dshq_telemetry_unregister(r->tel, r->beat);
        dshq_telemetry_detach(r->tel);
    }
    if (destroy && r->owner)
        run_destroy(&r->run);
    else
        run_detach(&r->run);
    free(r);
}

int dshq_py_run_info(const struct dpy_run *r, struct dpy_info *out)
{
    const struct run *run = &r->run;
    memset(out, 0, sizeof *out);
    out->T = run->chunk.T;
    out->E = run->chunk.E;
    out->obs_dim = run->chunk.obs_dim;
    out->n_actions = (uint32_t)run->net.n_actions;
    out->workers = run->cfg.workers;
    out->hidden = run->cfg.hidden;
    out->layers = run->cfg.layers;
    out->transport = run->cfg.transport;
    out->n_params = run->net.n_params;
    out->mlp_shape = run->net.shape_hash;
    out->chunk_bytes = run->chunk.bytes;
    out->chunk_shape = run->chunk.shape_hash;
    const uint64_t off[10] = {run->chunk.off_obs,        run->chunk.off_act,
                              run->chunk.off_rew,        run->chunk.off_done,
                              run->chunk.off_trunc,      run->chunk.off_logp,
                              run->chunk.off_value,      run->chunk.off_final_value,
                              run->chunk.off_boot_value, run->chunk.off_final_obs};
    memcpy(out->off, off, sizeof off);
    out->region_size = dshq_region_size(run->region);
    out->version_base = run->blk->version_base;
    out->updates_base = run->blk->updates_base;
    out->base_addr = (uint64_t)(uintptr_t)dshq_region_base(run->region);
    snprintf(out->region, sizeof out->region, "%s", dshq_region_name(run->region));
    return 0;
}

/* The run's config as key = value lines (run_config_write). */
int dshq_py_run_config_text(const struct dpy_run *r, char *buf, uint32_t len)
{
    FILE *f = fmemopen(buf, len, "w");
    if (!f)
        return -errno;
    run_config_write(f, &r->run.cfg);
    long n = ftell(f);
    fclose(f);
    return n >= 0 && (uint32_t)n < len ? (int)n : -ENOSPC;
}

uint32_t dshq_py_run_state(const struct dpy_run *r) { return run_state(&r->run); }
void dshq_py_run_stop(struct dpy_run *r) { run_stop(r->run.blk); }
int dshq_py_run_paused(const struct dpy_run *r)
{
    /* Relaxed: a lone flag, as the roles read it. */
    return (int)atomic_load_explicit(&r->run.blk->paused, memory_order_relaxed);
}

/* The trainer's duties towards the run block that workers rely on: training
 * began (start time, state RUNNING) and its progress (0..1; schedules). */
void dshq_py_run_trainer_started(struct dpy_run *r)
{
    /* Relaxed: read by monitors only, as in trainer.c. */
    atomic_store_explicit(&r->run.blk->start_ns, dshq_now_ns(), memory_order_relaxed);
    run_set_state(&r->run, RUN_RUNNING);
}
void dshq_py_run_set_progress(struct dpy_run *r, double progress)
{
    progress = progress < 0 ? 0 : progress > 1 ? 1 : progress;
    /* Relaxed: workers read it at chunk boundaries (trainer.c does the same). */
    atomic_store_explicit(&r->run.blk->progress_ppm, (uint64_t)(progress * 1e6),
                          memory_order_relaxed);
}

/* Sums of the workers' counters: out[0] steps, [1] chunks, [2..4] episodes,
 * [5..7] wins, [8..10] losses by opponent (random, scripted, self),
 * [11] return sum x 1e6 (two's complement), [12] length sum. */
void dshq_py_run_worker_totals(const struct dpy_run *r, uint64_t out[13])
{
    memset(out, 0, 13 * sizeof out[0]);
    for (uint32_t i = 0; i < r->run.cfg.workers; i++) {
        const struct run_worker_stats *w = &r->run.blk->worker[i];
        /* Relaxed: counters for rates, as trainer.c reads them. */
        out[0] += atomic_load_explicit(&w->steps, memory_order_relaxed);
        out[1] += atomic_load_explicit(&w->chunks, memory_order_relaxed);
        for (int k = 0; k < 3; k++) {
            out[2 + k] += atomic_load_explicit(&w->episodes[k], memory_order_relaxed);
            out[5 + k] += atomic_load_explicit(&w->wins[k], memory_order_relaxed);
            out[8 + k] += atomic_load_explicit(&w->losses[k], memory_order_relaxed);
        }
        out[11] += atomic_load_explicit(&w->ret_micro, memory_order_relaxed);
        out[12] += atomic_load_explicit(&w->len_sum, memory_order_relaxed);
    }
}

/* ---- chunks (the consumer) -------------------------------------------- */

int dshq_py_consumer_open(struct dpy_run *r)
{
    if (r->cons_open)
        return 0;
    int rc = run_consumer_open(&r->run, &r->cons);
    if (rc == 0)
        r->cons_open = 1;
    return rc;
}

/* The next committed chunk that passes dshq_chunk_check (others are
 * released at once and counted).  0 and *data (its address in the region),
 * DSHQ_RING_EMPTY after timeout_ns, DSHQ_ELIMIT when DPY_MAX_HELD chunks are
 * held, or an error.  The chunk stays valid until dshq_py_release. */
int dshq_py_poll(struct dpy_run *r, int64_t timeout_ns, uint64_t *data)
{
    if (!r->cons_open)
        return -EPERM;
    if (r->nheld == DPY_MAX_HELD)
        return DSHQ_ELIMIT;
    uint64_t deadline = timeout_ns > 0 ? dshq_now_ns() + (uint64_t)timeout_ns : 0;
    for (;;) {
        struct dshq_slot s;
        int64_t left = timeout_ns;
        if (timeout_ns > 0) {
            uint64_t now = dshq_now_ns();
            left = now >= deadline ? 0 : (int64_t)(deadline - now);
        }
        int rc = run_consumer_poll(&r->cons, left, &s);
        if (rc)
            return rc;
        if (dshq_chunk_check(&r->run.chunk, s.data, s.size) != 0) {
            r->refused++;
            run_consumer_release(&r->cons, &s);
            if (timeout_ns > 0 && dshq_now_ns() >= deadline)
                return DSHQ_RING_EMPTY;
            continue;
        }
        r->held[r->nheld++] = s;
        *data = (uint64_t)(uintptr_t)s.data;
        return 0;
    }
}

/* Releases the held chunk at data.  -EINVAL when none is held there. */
int dshq_py_release(struct dpy_run *r, uint64_t data)
{
    for (uint32_t i = 0; i < r->nheld; i++) {
        if ((uint64_t)(uintptr_t)r->held[i].data != data)
            continue;
        int rc = run_consumer_release(&r->cons, &r->held[i]);
        if (rc)
            return rc;
        memmove(&r->held[i], &r->held[i + 1], (r->nheld - i - 1) * sizeof r->held[0]);
        r->nheld--;
        return 0;
    }
    return -EINVAL;
}

/* A producer for tests and tools: claims a slot of lane/producer `worker`,
 * writes a chunk whose every value follows from (worker, seq) (the formula
 * is dshq_py_pattern and python/tests/producer.py), stamps it and commits.
 * 0, DSHQ_RING_FULL after timeout_ns, or an error. */
static float pattern(uint32_t worker, uint64_t seq, uint64_t i, uint32_t array)
{
    return (float)((seq * 7919u + i * 31u + array * 1009u) % 65521u) + (float)worker * 65536.0f;
}
int dshq_py_produce(struct dpy_run *r, uint32_t worker, uint64_t seq, uint64_t policy_version,
                    int64_t timeout_ns)
{
    int rc;
    if (!r->prod_open) {
        if ((rc = run_producer_open(&r->run, worker, &r->prod)))
            return rc;
        r->prod_open = 1;
    }
    struct dshq_slot s;
    if ((rc = run_producer_claim(&r->prod, timeout_ns, &s)))
        return rc;
    const struct dshq_chunk_layout *l = &r->run.chunk;
    struct dshq_chunk_view v;
    dshq_chunk_view(l, s.data, &v);
    uint64_t te = (uint64_t)l->T * l->E, d = l->obs_dim;
    for (uint64_t i = 0; i < te * d; i++)
        v.obs[i] = pattern(worker, seq, i, 0);
    for (uint64_t i = 0; i < te; i++) {
        v.act[i] = (int32_t)((seq + i) % 30u);
        v.rew[i] = pattern(worker, seq, i, 2);
        v.done[i] = (uint8_t)((seq + i) % 7u == 0);
        v.trunc[i] = (uint8_t)((seq + i) % 11u == 0 && (seq + i) % 7u != 0);
        v.logp[i] = -pattern(worker, seq, i, 5);
        v.value[i] = pattern(worker, seq, i, 6);
        v.final_value[i] = pattern(worker, seq, i, 7);
    }
    for (uint64_t e = 0; e < l->E; e++)
        v.boot_value[e] = pattern(worker, seq, e, 8);
    for (uint64_t i = 0; i < l->E * d; i++)
        v.final_obs[i] = pattern(worker, seq, i, 9);
    dshq_chunk_stamp(l, s.data, worker, seq, policy_version);
    return run_producer_commit(&r->prod);
}

uint64_t dshq_py_chunks_refused(const struct dpy_run *r) { return r->refused; }

/* ---- weights ---------------------------------------------------------- */

static int weights_open(struct dpy_run *r)
{
    return r->wch ? 0 : dshq_weights_open(r->run.weights_mem, r->run.weights_size, &r->wch);
}

/* Adopts the newest snapshot (pinned until the next adopt or close).
 * DSHQ_WEIGHTS_NEW or _SAME with *params (address in the region; 0 while
 * nothing is published), *version and *step; or an error. */
int dshq_py_weights_adopt(struct dpy_run *r, uint64_t *params, uint64_t *version, uint64_t *step)
{
    int rc;
    if ((rc = weights_open(r)))
        return rc;
    if (!r->rd && (rc = dshq_weights_reader_attach(r->wch, r->run.net.shape_hash, &r->rd)))
        return rc;
    struct dshq_weights_view v;
    rc = dshq_weights_adopt(r->rd, &v);
    if (rc < 0)
        return rc;
    *params = (uint64_t)(uintptr_t)v.params;
    *version = v.version;
    *step = v.step;
    return rc;
}

/* Becomes the run's weights writer (one at a time: -EBUSY while a live one
 * holds it, e.g. a C trainer). */
int dshq_py_weights_writer(struct dpy_run *r)
{
    int rc;
    if ((rc = weights_open(r)))
        return rc;
    return r->wr ? 0 : dshq_weights_writer_attach(r->wch, &r->wr);
}

/* Publishes n floats (n must be the network's n_params).  The new version
 * (>= 1) or an error. */
int64_t dshq_py_weights_publish(struct dpy_run *r, const float *src, uint64_t n, uint64_t step)
{
    if (!r->wr)
        return -EPERM;
    if (n != r->run.net.n_params)
        return DSHQ_ESHAPE;
    return dshq_weights_publish(r->wr, src, step);
}

uint64_t dshq_py_weights_version(struct dpy_run *r)
{
    return weights_open(r) ? 0 : dshq_weights_version(r->wch);
}

/* ---- control messages -------------------------------------------------- */

int dshq_py_post(struct dpy_run *r, uint32_t type, uint32_t version, const void *payload,
                 uint32_t len)
{
    int rc;
    if (!r->mb_post &&
        (rc = dshq_mailbox_attach(r->run.mailbox_mem, r->run.mailbox_size, 0, &r->mb_post)))
        return rc;
    return dshq_mailbox_post(r->mb_post, type, version, payload, len);
}

/* The trainer's side: the next STOP / PAUSE / SET_HPARAM / RESET message
 * into out (64 bytes, struct dshq_msg).  DSHQ_MAILBOX_MSG, _EMPTY or an
 * error (-EBUSY: another live consumer). */
int dshq_py_consume(struct dpy_run *r, struct dshq_msg *out)
{
    static const struct dshq_msg_kind known[] = {
        {DSHQ_MSG_STOP, 1}, {DSHQ_MSG_PAUSE, 1}, {DSHQ_MSG_SET_HPARAM, 1}, {DSHQ_MSG_RESET, 1}};
    int rc;
    if (!r->mb_cons && (rc = dshq_mailbox_attach(r->run.mailbox_mem, r->run.mailbox_size,
                                                 DSHQ_MAILBOX_CONSUMER, &r->mb_cons)))
        return rc;
    return dshq_mailbox_consume(r->mb_cons, known, 4, out);
}

/* Sets the pause flag as the C trainer does on a PAUSE message. */
void dshq_py_run_set_paused(struct dpy_run *r, int paused)
{
    /* Relaxed: a lone flag; workers and monitors poll it (trainer.c). */
    atomic_store_explicit(&r->run.blk->paused, paused ? 1u : 0u, memory_order_relaxed);
}

/* ---- telemetry --------------------------------------------------------- */

uint32_t dshq_py_metrics_count(void) { return (uint32_t)metrics_field_count; }
uint32_t dshq_py_metrics_size(void) { return (uint32_t)sizeof(struct metrics); }
const char *dshq_py_metrics_field(uint32_t i, uint32_t *offset, int *is_double)
{
    if (i >= metrics_field_count)
        return NULL;
    *offset = (uint32_t)metrics_fields[i].offset;
    *is_double = metrics_fields[i].is_double;
    return metrics_fields[i].name;
}
void dshq_py_metrics_init(void *m) { metrics_init(m); }

/* Copies the newest metrics blob into out (sizeof(struct metrics)): bytes
 * copied, -ENODATA before the first, or an error. */
int dshq_py_telemetry_read(const struct dpy_run *r, void *out, uint32_t cap)
{
    return dshq_telemetry_read(r->run.telemetry_mem, r->run.telemetry_size, metrics_shape_hash(),
                               out, cap, NULL);
}

/* Becomes the telemetry writer with a trainer heartbeat slot. */
int dshq_py_telemetry_writer(struct dpy_run *r)
{
    if (r->tel)
        return 0;
    int rc = dshq_telemetry_attach(r->run.telemetry_mem, r->run.telemetry_size,
                                   DSHQ_TELEMETRY_WRITER, &r->tel);
    if (rc)
        return rc;
    r->beat = dshq_telemetry_register(r->tel, METRICS_ROLE_TRAINER, 0);
    return 0;
}
int dshq_py_telemetry_publish(struct dpy_run *r, const void *m, uint32_t len)
{
    if (!r->tel)
        return -EPERM;
    if (len != sizeof(struct metrics))
        return DSHQ_ESHAPE;
    if (r->beat >= 0)
        dshq_telemetry_beat(r->tel, r->beat);
    return dshq_telemetry_publish(r->tel, metrics_shape_hash(), m, len);
}

/* ---- the network and the learner (cross-checks) ------------------------ */

struct dpy_net {
    struct rl_mlp m;
    struct rl_mlp_ws ws;
};

int dshq_py_net_new(int obs_dim, int n_actions, int hidden, int layers, struct dpy_net **out)
{
    struct dpy_net *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    int widths[RL_MLP_MAX_HIDDEN] = {hidden, hidden, hidden};
    int rc = rl_mlp_init(&n->m, obs_dim, n_actions, widths, layers);
    if (rc == 0)
        rc = rl_mlp_ws_init(&n->ws, &n->m);
    if (rc) {
        free(n);
        return rc;
    }
    *out = n;
    return 0;
}
void dshq_py_net_free(struct dpy_net *n)
{
    if (n)
        rl_mlp_ws_free(&n->ws);
    free(n);
}
uint64_t dshq_py_net_params(const struct dpy_net *n) { return n->m.n_params; }
uint64_t dshq_py_net_shape(const struct dpy_net *n) { return n->m.shape_hash; }
int dshq_py_net_tensor_count(const struct dpy_net *n) { return n->m.n_tensors; }
/* Tensor i: name, and rows, cols, offset (floats). */
const char *dshq_py_net_tensor(const struct dpy_net *n, int i, int *rows, int *cols,
                               uint64_t *offset)
{
    if (i < 0 || i >= n->m.n_tensors)
        return NULL;
    *rows = n->m.tensor[i].rows;
    *cols = n->m.tensor[i].cols;
    *offset = n->m.tensor[i].offset;
    return n->m.tensor[i].name;
}
void dshq_py_net_init_params(const struct dpy_net *n, float *params, uint64_t seed)
{
    rl_mlp_params_init(&n->m, params, seed);
}
void dshq_py_net_forward(const struct dpy_net *n, const float *params, const float *obs, int rows,
                         float *logits, float *value)
{
    rl_mlp_forward(&n->m, params, obs, rows, logits, value);
}

/* rl_ppo_loss on one minibatch of n <= RL_MLP_BLOCK... any n (the loss
 * walks blocks).  cfg: clip, vclip, vf_coef, ent_coef, norm_adv (0/1) —
 * the rest of the PPO config does not enter the loss.  grads (may be NULL)
 * gets d(loss)/d(params), zeroed first.  stats[6]: policy_loss, value_loss,
 * entropy, approx_kl, clip_frac, loss.  Returns the loss. */
double dshq_py_ppo_loss(struct dpy_net *n, const float *params, int rows, const float *obs,
                        const int32_t *act, const float *logp, const float *value,
                        const float *adv, const float *ret, const float cfg5[5], float *grads,
                        float stats[6])
{
    struct rl_ppo_config c;
    rl_ppo_config_default(&c);
    c.clip = cfg5[0];
    c.vclip = cfg5[1];
    c.vf_coef = cfg5[2];
    c.ent_coef = cfg5[3];
    c.norm_adv = cfg5[4] != 0;
    struct rl_ppo_batch b = {rows, obs, act, logp, value, adv, ret};
    if (grads)
        memset(grads, 0, n->m.n_params * sizeof(float));
    struct rl_ppo_stats st;
    double loss = rl_ppo_loss(&n->m, params, &b, &c, &n->ws, grads, &st);
    if (stats) {
        stats[0] = st.policy_loss;
        stats[1] = st.value_loss;
        stats[2] = st.entropy;
        stats[3] = st.approx_kl;
        stats[4] = st.clip_frac;
        stats[5] = st.loss;
    }
    return loss;
}

/* Plays episodes of params (the left side) against a baseline (1 random,
 * 2 scripted: RL_OPP_*); out[4]: episodes, wins, draws, losses. */
int dshq_py_evaluate(const struct dpy_net *n, const float *params, int opponent, int episodes,
                     int max_goals, uint64_t seed, int32_t out[4])
{
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_goals = (uint32_t)max_goals;
    struct rl_eval_result res;
    int rc = rl_evaluate(&n->m, params, opponent, episodes, 0, &ec, seed, &res);
    if (rc)
        return rc;
    out[0] = res.episodes;
    out[1] = res.wins;
    out[2] = res.draws;
    out[3] = res.losses;
    return 0;
}

/* ---- Ball Drill in batch (the vector env) ------------------------------ */

struct dpy_env {
    struct bd_env *env;
    int opponent;          /* BD_BASELINE_* for the right side, or -1: the caller's actions */
    struct rl_rng rng;     /* the random baseline's draws */
    float *obs_right;      /* [E][D] what the opponent sees */
    int32_t *act_right;    /* [E] */
    struct bd_episode *eps;/* [E] results of the episodes that ended */
};

int dshq_py_env_new(uint32_t num_envs, int opponent, uint32_t max_goals, uint32_t max_ticks,
                    struct dpy_env **out)
{
    struct bd_config c;
    bd_config_default(&c);
    c.max_goals = max_goals;
    if (max_ticks)
        c.max_ticks = max_ticks;
    struct dpy_env *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->opponent = opponent;
    e->obs_right = calloc((size_t)num_envs * BD_OBS_DIM, sizeof(float));
    e->act_right = calloc(num_envs, sizeof(int32_t));
    e->eps = calloc(num_envs, sizeof *e->eps);
    int rc = e->obs_right && e->act_right && e->eps ? bd_env_create(&e->env, &c, num_envs) : -ENOMEM;
    if (rc) {
        free(e->obs_right);
        free(e->act_right);
        free(e->eps);
        free(e);
        return rc;
    }
    e->rng = rl_rng_make(1);
    *out = e;
    return 0;
}
void dshq_py_env_free(struct dpy_env *e)
{
    if (!e)
        return;
    bd_env_destroy(e->env);
    free(e->obs_right);
    free(e->act_right);
    free(e->eps);
    free(e);
}
uint32_t dshq_py_env_obs_dim(void) { return BD_OBS_DIM; }
uint32_t dshq_py_env_actions(void) { return BD_NUM_ACTIONS; }
uint64_t dshq_py_env_spec_hash(void) { return bd_spec_hash(); }

/* Resets every env (base seed) and writes the left side's observations. */
void dshq_py_env_reset(struct dpy_env *e, uint64_t seed, float *obs /* [E][D] */)
{
    bd_env_reset(e->env, seed);
    e->rng = rl_rng_make(seed ^ UINT64_C(0x9e3779b97f4a7c15));
    bd_env_observe(e->env, obs, e->obs_right);
}

/* One step of every env: act_left [E] (the learner) and, when the env has
 * no baseline opponent, act_right [E].  Writes into the caller's arrays in
 * place: obs [E][D] (after auto-reset), rew [E], done [E], trunc [E],
 * final_obs [E][D] (only where done|trunc), winner [E] (enum bd_winner,
 * only where done|trunc).  Returns the number of episodes that ended. */
int dshq_py_env_step(struct dpy_env *e, const int32_t *act_left, const int32_t *act_right,
                     float *obs, float *rew, uint8_t *done, uint8_t *trunc, float *final_obs,
                     int32_t *winner)
{
    uint32_t n = bd_env_count(e->env);
    if (e->opponent >= 0) {
        bd_baseline_act((enum bd_baseline)e->opponent, &e->rng, e->obs_right, n, e->act_right);
        act_right = e->act_right;
    }
    struct bd_episode *eps = e->eps;
    struct bd_step_out o = {.obs = {obs, e->obs_right}, .rew = {rew, NULL},
                            .done = done, .trunc = trunc, .final_obs = {final_obs, NULL},
                            .episodes = eps};
    int ended = bd_env_step(e->env, act_left, act_right, &o);
    if (winner)
        for (uint32_t i = 0; i < n; i++)
            winner[i] = done[i] | trunc[i] ? (int32_t)eps[i].winner : -1;
    return ended;
}

/* Reads back memory through the C library's own mapping (tests: proves a
 * numpy view and the region are the same bytes). */
float dshq_py_peek_f32(uint64_t addr) { return *(const float *)(uintptr_t)addr; }
void dshq_py_poke_f32(uint64_t addr, float v) { *(float *)(uintptr_t)addr = v; }

/* The C learner's update time (benchmark): rl_ppo_update with the default
 * config on n_views synthetic T x E windows of the default network (random
 * observations, uniform behaviour log-probs, small rewards), iters times.
 * Seconds per update, or a negative error. */
double dshq_py_ppo_bench(int n_views, int T, int E, int iters)
{
    struct rl_mlp m;
    int widths[RL_MLP_MAX_HIDDEN] = {RL_MLP_DEFAULT_HIDDEN, RL_MLP_DEFAULT_HIDDEN,
                                     RL_MLP_DEFAULT_HIDDEN};
    if (rl_mlp_init(&m, BD_OBS_DIM, BD_NUM_ACTIONS, widths, RL_MLP_DEFAULT_LAYERS))
        return -EINVAL;
    struct rl_ppo_config c;
    rl_ppo_config_default(&c);
    struct rl_ppo p;
    if (rl_ppo_init(&p, &m, &c, 1))
        return -ENOMEM;
    struct rl_rollout_buf bufs[64];
    struct rl_rollout_view views[64];
    n_views = n_views < 1 ? 1 : n_views > 64 ? 64 : n_views;
    struct rl_rng rng = rl_rng_make(7);
    for (int v = 0; v < n_views; v++) {
        if (rl_rollout_buf_alloc(&bufs[v], T, E, BD_OBS_DIM, 0))
            return -ENOMEM;
        size_t te = (size_t)T * E;
        for (size_t i = 0; i < te * BD_OBS_DIM; i++)
            bufs[v].obs[i] = 2.0f * rl_rng_float(&rng) - 1.0f;
        for (size_t i = 0; i < te; i++) {
            bufs[v].act[i] = (int32_t)rl_rng_below(&rng, BD_NUM_ACTIONS);
            bufs[v].rew[i] = 0.1f * (rl_rng_float(&rng) - 0.5f);
            bufs[v].done[i] = rl_rng_float(&rng) < 0.01f;
            bufs[v].trunc[i] = 0;
            bufs[v].logp[i] = -3.4012f;
            bufs[v].value[i] = 0.1f * (rl_rng_float(&rng) - 0.5f);
            bufs[v].final_value[i] = 0;
        }
        for (int e = 0; e < E; e++)
            bufs[v].bootstrap_value[e] = 0;
        views[v] = rl_rollout_buf_view(&bufs[v]);
    }
    uint64_t t0 = dshq_now_ns();
    for (int i = 0; i < iters; i++)
        rl_ppo_update(&p, views, n_views, c.lr, NULL);
    double s = (double)(dshq_now_ns() - t0) / 1e9 / (iters > 0 ? iters : 1);
    for (int v = 0; v < n_views; v++)
        rl_rollout_buf_free(&bufs[v]);
    rl_ppo_free(&p);
    return s;
}

/* ---- what the C trainer does with SET_HPARAM (trainer.c), for others ---- */

/* 1 when value is in the range of hyperparameter param (DSHQ_HPARAM_*). */
int dshq_py_hparam_ok(uint32_t param, double value)
{
    double lo, hi;
    return run_config_hparam_range(param, &lo, &hi) == 0 && isfinite(value) && value >= lo &&
           value <= hi;
}
/* Counts a refused control message (dshq inspect shows ctl_refused). */
void dshq_py_run_control_refused(struct dpy_run *r)
{
    /* Relaxed: a counter for monitors, as in trainer.c. */
    atomic_fetch_add_explicit(&r->run.blk->ctl_refused, 1, memory_order_relaxed);
}
/* `set shaping`: the scale holds until the end (the anneal stops). */
void dshq_py_run_set_shaping(struct dpy_run *r, float value)
{
    /* Relaxed: workers read the pair at chunk boundaries (trainer.c). */
    atomic_store_explicit(&r->run.blk->shaping_milli, (uint32_t)(value * 1000.0f),
                          memory_order_relaxed);
    atomic_store_explicit(&r->run.blk->shaping_set, 1, memory_order_relaxed);
}
