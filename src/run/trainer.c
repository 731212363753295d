/* trainer.c — the trainer role of a run: consumes chunks in place from the
 * rollouts section, runs PPO, publishes weights, telemetry and checkpoints.
 *
 * Per update:  poll chunks until one per worker is held (lanes are served
 * round-robin; the MPSC ring in arrival order); a chunk made with a policy
 * older than max_lag versions is released at once and counted -> PPO on the
 * held chunks, read in place through run_chunk_view -> release them -> write
 * the new parameters into the weights channel's free buffer and commit.
 *
 * --deterministic: the held chunks are exactly one per worker and go to PPO
 * in worker order; each worker makes its next chunk only with the next
 * version (worker.c), so the result depends on the seed and config only.
 *
 * Time: the --seconds budget, the annealing and wall_s count training time,
 * pauses excluded.  Weights versions continue a resumed checkpoint's
 * numbering (run_block.version_base). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rl/train_loop.h"
#include "run/checkpoint.h"
#include "run/chunk_rollout.h"
#include "run/metrics.h"
#include "run/roles.h"

/* What the trainer keeps between telemetry ticks. */
struct tstate {
    struct metrics m;
    uint64_t last_tick_ns, last_steps, last_updates;
    uint64_t last_eps[3], last_wins[3], last_losses[3], last_ret_micro, last_len;
    double ema[3];
    int ema_init[3];
    double lag_sum;
    uint64_t lag_n;
};

static void sum_workers(const struct run_block *b, uint32_t workers, uint64_t *steps, uint64_t eps[3],
                        uint64_t wins[3], uint64_t losses[3], uint64_t *ret_micro,
                        uint64_t *len)
{
    *steps = *ret_micro = *len = 0;
    for (int k = 0; k < 3; k++)
        eps[k] = wins[k] = losses[k] = 0;
    for (uint32_t i = 0; i < workers; i++) {
        const struct run_worker_stats *w = &b->worker[i];
        /* Relaxed: counters for rates; see proc_worker.c. */
        *steps += atomic_load_explicit(&w->steps, memory_order_relaxed);
        *ret_micro += atomic_load_explicit(&w->ret_micro, memory_order_relaxed);
        *len += atomic_load_explicit(&w->len_sum, memory_order_relaxed);
        for (int k = 0; k < 3; k++) {
            eps[k] += atomic_load_explicit(&w->episodes[k], memory_order_relaxed);
            wins[k] += atomic_load_explicit(&w->wins[k], memory_order_relaxed);
            losses[k] += atomic_load_explicit(&w->losses[k], memory_order_relaxed);
        }
    }
}

/* Updates rates, returns and win-rate EMAs from the workers' counters. */
static void tick(struct run *run, struct tstate *s, uint64_t now)
{
    uint64_t steps, eps[3], wins[3], losses[3], ret_micro, len;
    sum_workers(run->blk, run->cfg.workers, &steps, eps, wins, losses, &ret_micro, &len);
    double dt = (double)(now - s->last_tick_ns) / 1e9;
    if (dt <= 0)
        return;
    s->m.steps_per_s = (double)(steps - s->last_steps) / dt;
    s->m.updates_per_s = (double)(s->m.updates - s->last_updates) / dt;
    uint64_t deps = 0;
    for (int k = 0; k < 3; k++) {
        uint64_t de = eps[k] - s->last_eps[k];
        deps += de;
        if (de) {
            /* the score: wins 1, draws 0.5, losses 0 */
            double dw = (double)(wins[k] - s->last_wins[k]);
            double dl = (double)(losses[k] - s->last_losses[k]);
            double rate = (dw + 0.5 * ((double)de - dw - dl)) / (double)de;
            double a = de >= 50 ? 0.5 : 0.3;
            s->ema[k] = s->ema_init[k] ? (1 - a) * s->ema[k] + a * rate : rate;
            s->ema_init[k] = 1;
        }
        s->last_eps[k] = eps[k];
        s->last_wins[k] = wins[k];
        s->last_losses[k] = losses[k];
    }
    if (deps) {
        s->m.mean_return = (double)(int64_t)(ret_micro - s->last_ret_micro) / 1e6 / (double)deps;
        s->m.episode_length = (double)(len - s->last_len) / (double)deps;
    }
    s->m.episodes = eps[0] + eps[1] + eps[2];
    /* The yardstick: the scripted opponent once it is met, else random. */
    int k = s->ema_init[RL_OPP_SCRIPTED] ? RL_OPP_SCRIPTED : RL_OPP_RANDOM;
    s->m.opponent = k == RL_OPP_SCRIPTED ? METRICS_OPP_SCRIPTED : METRICS_OPP_RANDOM;
    s->m.score_ema = s->ema_init[k] ? s->ema[k] : NAN;
    s->m.policy_lag_mean = s->lag_n ? s->lag_sum / (double)s->lag_n : NAN;
    s->last_ret_micro = ret_micro;
    s->last_len = len;
    s->last_steps = steps;
    s->last_updates = s->m.updates;
    s->last_tick_ns = now;
    uint64_t dropped_full = 0;
    struct dshq_ring_stats rs;
    if (run_rollouts_stats(run, &rs) == 0)
        dropped_full = rs.dropped;
    s->m.chunks_dropped_full = dropped_full;
}

/* 1 when all n floats are finite. */
static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static int ppo_state_finite(const struct rl_ppo *ppo, size_t n)
{
    return all_finite(ppo->params, n) && all_finite(ppo->adam.m, n) &&
           all_finite(ppo->adam.v, n);
}

int run_ppo_update_checked(struct rl_ppo *ppo, const struct rl_rollout_view *views, int n,
                           float lr, struct rl_ppo_stats *st, float *backup)
{
    const size_t np = ppo->adam.n;
    memcpy(backup, ppo->params, np * sizeof(float));
    memcpy(backup + np, ppo->adam.m, np * sizeof(float));
    memcpy(backup + 2 * np, ppo->adam.v, np * sizeof(float));
    const int64_t adam_t0 = ppo->adam.t, updates0 = ppo->updates;
    int rc = rl_ppo_update(ppo, views, n, lr, st);
    if (rc && rc != -ERANGE)
        return rc;
    if (!rc && isfinite(st->policy_loss) && isfinite(st->value_loss) && isfinite(st->entropy) &&
        isfinite(st->approx_kl) && ppo_state_finite(ppo, np))
        return 0;
    memcpy(ppo->params, backup, np * sizeof(float));
    memcpy(ppo->adam.m, backup + np, np * sizeof(float));
    memcpy(ppo->adam.v, backup + 2 * np, np * sizeof(float));
    ppo->adam.t = adam_t0;
    ppo->updates = updates0;
    return rc ? 2 : 1;
}

static int save_checkpoint(const struct trainer_opts *o, const struct run *run,
                           const struct rl_ppo *ppo, const struct metrics *m)
{
    /* Never save what is not finite: the file on disk stays the last good one. */
    if (!ppo_state_finite(ppo, run->net.n_params) || !isfinite(m->wall_s)) {
        fprintf(stderr, "trainer: checkpoint %s not written: the parameters are not finite\n",
                o->checkpoint_path);
        return -EINVAL;
    }
    struct ckpt_meta *mp = calloc(1, sizeof *mp); /* 4 KiB of config text */
    if (!mp)
        return -ENOMEM;
    mp->shape_hash = run->net.shape_hash;
    mp->param_count = run->net.n_params;
    mp->steps = m->steps;
    mp->updates = m->updates;
    mp->env_steps = m->steps;
    mp->weights_version = m->weights_version;
    mp->adam_t = (uint64_t)ppo->adam.t;
    mp->train_seconds = m->wall_s;
    run_arch_string(&run->net, mp->arch, sizeof mp->arch);
    FILE *f = fmemopen(mp->config, sizeof mp->config - 1, "w");
    if (f) {
        run_config_write(f, &run->cfg);
        long n = ftell(f);
        fclose(f);
        mp->config_len = n > 0 ? (uint32_t)n : 0;
    }
    char err[256];
    int rc = ckpt_save(o->checkpoint_path, mp, ppo->params, ppo->adam.m, ppo->adam.v, err,
                       sizeof err);
    if (rc)
        fprintf(stderr, "trainer: checkpoint %s: %s\n", o->checkpoint_path, err);
    else /* Relaxed: a counter; the launcher reads it after the trainer ended. */
        atomic_fetch_add_explicit(&run->blk->faults.checkpoints, 1, memory_order_relaxed);
    free(mp);
    return rc;
}

const struct dshq_msg_kind run_trainer_msg_kinds[RUN_TRAINER_MSG_KINDS] = {
    {DSHQ_MSG_STOP, 1}, {DSHQ_MSG_PAUSE, 1}, {DSHQ_MSG_SET_HPARAM, 1}, {DSHQ_MSG_RESET, 1}};

/* A chunk refused: counted against the worker its header names (when that
 * is a worker), and in total.  Relaxed: counters for monitors. */
static void refuse_chunk(struct run *run, const struct dshq_chunk_header *h, int fault)
{
    struct run_faults *f = &run->blk->faults;
    atomic_fetch_add_explicit(&f->chunks_refused, 1, memory_order_relaxed);
    atomic_store_explicit(&f->last_reason, (uint32_t)fault, memory_order_relaxed);
    if (fault != RUN_CHUNK_EHEADER && h->producer_id < run->cfg.workers)
        atomic_fetch_add_explicit(&f->refused[h->producer_id], 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&f->refused_unknown, 1, memory_order_relaxed);
}

/* The trainer stops the run on an error: marked before the stop flag. */
static void mark_failed(struct run *run)
{
    /* Relaxed: run_stop's release store orders it before the stop flag. */
    atomic_store_explicit(&run->blk->faults.failed, 1, memory_order_relaxed);
}

static void refuse(struct run *run)
{
    /* Relaxed: a counter for monitors; nothing is ordered by it. */
    atomic_fetch_add_explicit(&run->blk->ctl_refused, 1, memory_order_relaxed);
}

/* roles.h */
int run_trainer_apply_msg(struct run *run, struct rl_ppo *ppo, const struct dshq_msg *msg,
                          float *lr_override, int *stop)
{
    /* The message is a private copy (dshq_mailbox_consume); its payload is
     * still untrusted: every value is range-checked before use. */
    switch (msg->type) {
    case DSHQ_MSG_STOP:
        *stop = 1;
        return 0;
    case DSHQ_MSG_PAUSE: {
        struct dshq_msg_pause p;
        memcpy(&p, msg->payload, sizeof p);
        /* Relaxed: a lone flag; workers and monitors poll it. */
        atomic_store_explicit(&run->blk->paused, p.paused ? 1 : 0, memory_order_relaxed);
        return 0;
    }
    case DSHQ_MSG_SET_HPARAM: {
        struct dshq_msg_set_hparam h;
        memcpy(&h, msg->payload, sizeof h);
        double lo, hi;
        if (run_config_hparam_range(h.param, &lo, &hi) || !isfinite(h.value) ||
            h.value < lo || h.value > hi) {
            refuse(run); /* unknown parameter or out of range: counted, not obeyed */
            return -ERANGE;
        }
        if (h.param == DSHQ_HPARAM_LEARNING_RATE)
            *lr_override = h.value;
        else if (h.param == DSHQ_HPARAM_ENTROPY_COEF)
            ppo->cfg.ent_coef = h.value;
        else if (h.param == DSHQ_HPARAM_CLIP)
            ppo->cfg.clip = h.value;
        else if (h.param == DSHQ_HPARAM_SHAPING_COEF) {
            /* A set value stops the anneal: it holds until the end.
             * Relaxed: workers read the pair at chunk boundaries; a chunk
             * made with the old scale is harmless. */
            atomic_store_explicit(&run->blk->shaping_milli, (uint32_t)(h.value * 1000.0f),
                                  memory_order_relaxed);
            atomic_store_explicit(&run->blk->shaping_set, 1, memory_order_relaxed);
        }
        return 0;
    }
    case DSHQ_MSG_RESET:
        /* Start learning over: fresh parameters and optimizer state. */
        rl_mlp_params_init(&run->net, ppo->params, run->cfg.seed + (uint64_t)ppo->updates);
        memset(ppo->adam.m, 0, ppo->adam.n * sizeof(float));
        memset(ppo->adam.v, 0, ppo->adam.n * sizeof(float));
        ppo->adam.t = 0;
        return 0;
    default:
        refuse(run);
        return -EINVAL;
    }
}

static void handle_mailbox(struct dshq_mailbox *mb, struct run *run, struct rl_ppo *ppo,
                           float *lr_override, int *stop)
{
    struct dshq_msg msg;
    while (dshq_mailbox_consume(mb, run_trainer_msg_kinds, RUN_TRAINER_MSG_KINDS, &msg) ==
           DSHQ_MAILBOX_MSG)
        run_trainer_apply_msg(run, ppo, &msg, lr_override, stop);
}

static void write_run_marker(FILE *f, const struct run *run, const struct trainer_opts *o,
                             uint64_t updates0)
{
    /* One line that opens a run in the metrics file: `dshq plot` draws the
     * lines after it as their own series. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(f, "{\"run_begin\":\"%s\",\"unix_s\":%lld,\"seed\":%llu,\"updates_base\":%llu}\n",
            o->run_label ? o->run_label : "run", (long long)ts.tv_sec,
            (unsigned long long)run->cfg.seed, (unsigned long long)updates0);
    fflush(f);
}

/* Deterministic mode: sorts the held chunks' views by worker. */
static void sort_by_worker(struct rl_rollout_view *views, uint32_t *worker, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && worker[j - 1] > worker[j]; j--) {
            struct rl_rollout_view v = views[j];
            views[j] = views[j - 1];
            views[j - 1] = v;
            uint32_t w = worker[j];
            worker[j] = worker[j - 1];
            worker[j - 1] = w;
        }
}

int run_trainer(struct run *run, const struct trainer_opts *o)
{
    struct run_block *b = run->blk;
    const struct run_config *cfg = &run->cfg;
    struct rl_train_config tc;
    run_config_to_train(cfg, &tc);
    struct rl_ppo ppo;
    struct dshq_weights *wch = NULL;
    struct dshq_weights_writer *w = NULL;
    struct run_consumer cons = {0};
    struct dshq_mailbox *mb = NULL;
    struct dshq_telemetry *tel = NULL;
    FILE *mf = NULL;
    int beat = -1, rc, exit_code = 1;
    const size_t np = run->net.n_params;
    const uint64_t slot_bytes = run->chunk.bytes + RUN_CHUNK_TRAILER;
    float *backup = NULL;        /* params, adam m, adam v before an update */
    unsigned char *priv = NULL;  /* verify mode: private copies of the held chunks */
    struct dshq_slot *held = NULL;
    struct tstate s;
    memset(&s, 0, sizeof s);
    metrics_init(&s.m);

    if ((rc = rl_ppo_init(&ppo, &run->net, &tc.ppo, cfg->seed))) {
        fprintf(stderr, "trainer: %s\n", strerror(-rc));
        mark_failed(run);
        run_stop(b);
        return 1;
    }
    backup = malloc(3 * np * sizeof(float));
    if (o->verify_chunks)
        priv = aligned_alloc(64, (size_t)slot_bytes * cfg->workers);
    if (!backup || (o->verify_chunks && !priv)) {
        fprintf(stderr, "trainer: out of memory\n");
        goto out;
    }
    /* Relaxed: informative for monitors. */
    atomic_store_explicit(&b->faults.verify, o->verify_chunks ? 1 : 0, memory_order_relaxed);
    const uint32_t max_bad = o->max_bad_updates ? o->max_bad_updates : RUN_MAX_BAD_UPDATES;
    uint32_t bad_in_row = 0;
    double wall0 = 0;
    if (o->resume) {
        struct ckpt_meta *meta = malloc(sizeof *meta);
        char err[256];
        rc = meta ? ckpt_load(o->resume, run->net.shape_hash, run->net.n_params, meta,
                              ppo.params, ppo.adam.m, ppo.adam.v, err, sizeof err)
                  : (snprintf(err, sizeof err, "out of memory"), CKPT_ENOMEM);
        if (rc) {
            fprintf(stderr, "trainer: cannot resume from %s: %s\n", o->resume, err);
            free(meta);
            goto out;
        }
        ppo.adam.t = (int64_t)meta->adam_t;
        ppo.updates = (int64_t)meta->updates;
        s.m.updates = meta->updates;
        s.m.steps = meta->steps;
        wall0 = meta->train_seconds;
        free(meta);
    }
    if ((rc = dshq_weights_open(run->weights_mem, run->weights_size, &wch)) ||
        (rc = dshq_weights_writer_attach(wch, &w)) || (rc = run_consumer_open(run, &cons)) ||
        (rc = dshq_mailbox_attach(run->mailbox_mem, run->mailbox_size, DSHQ_MAILBOX_CONSUMER,
                                  &mb)) ||
        (rc = dshq_telemetry_attach(run->telemetry_mem, run->telemetry_size,
                                    DSHQ_TELEMETRY_WRITER, &tel))) {
        fprintf(stderr, "trainer: cannot open the run's channels: %s\n", dshq_strerror(rc));
        goto out;
    }
    beat = dshq_telemetry_register(tel, METRICS_ROLE_TRAINER, 0);
    if (o->metrics_path && !(mf = fopen(o->metrics_path, "a"))) {
        fprintf(stderr, "trainer: cannot open %s: %s\n", o->metrics_path, strerror(errno));
        goto out;
    }
    /* A resumed run's --updates and --seconds count from here. */
    const uint64_t updates0 = s.m.updates;
    const uint64_t vbase = b->version_base;
    if (mf)
        write_run_marker(mf, run, o, updates0);
    int64_t version = dshq_weights_publish(w, ppo.params, s.m.updates);
    if (version < 0) {
        fprintf(stderr, "trainer: publish: %s\n", dshq_strerror((int)version));
        goto out;
    }
    s.m.weights_version = vbase + (uint64_t)version;
    uint64_t t0 = dshq_now_ns();
    atomic_store_explicit(&b->start_ns, t0, memory_order_relaxed);
    run_set_state(run, RUN_RUNNING);
    s.last_tick_ns = t0;
    uint64_t last_ckpt = t0, last_print = t0, paused_ns = 0, pause_began = 0;

    const uint32_t batch = cfg->workers;
    /* Polled slots not yet released, in poll order (the rings want releases
     * in that order): the good ones behind views[] and, after them, any
     * refused while older ones were held.  Verify mode holds none. */
    const uint32_t held_max = cfg->workers * cfg->lane_slots * 2 + 8;
    held = calloc(held_max, sizeof *held);
    uint32_t nheld = 0, refused_held = 0;
    if (!held) {
        fprintf(stderr, "trainer: out of memory\n");
        goto out;
    }
    struct rl_rollout_view views[RUN_MAX_WORKERS];
    uint32_t from[RUN_MAX_WORKERS];
    uint32_t n = 0;
    uint64_t lag_min = UINT64_MAX, lag_max = 0;
    float lr_override = 0;
    int stop = 0;
    double elapsed = 0, progress = 0;

    while (!stop && !run_stopping(run)) {
        if (beat >= 0)
            dshq_telemetry_beat(tel, beat);
        handle_mailbox(mb, run, &ppo, &lr_override, &stop);
        uint64_t now = dshq_now_ns();
        /* Relaxed: the flag alone; the trainer itself sets it (mailbox). */
        int paused = atomic_load_explicit(&b->paused, memory_order_relaxed) != 0;
        if (paused && !pause_began)
            pause_began = now;
        else if (!paused && pause_began) {
            paused_ns += now - pause_began;
            pause_began = 0;
        }
        /* Training time: pauses stop the budget and the schedules. */
        elapsed = (double)(now - t0 - paused_ns - (pause_began ? now - pause_began : 0)) / 1e9;
        if (cfg->seconds > 0 && elapsed >= cfg->seconds)
            break;
        if (cfg->updates && s.m.updates - updates0 >= cfg->updates)
            break;
        /* Progress drives annealing (learning rate, shaping, opponents). */
        progress = cfg->updates ? (double)(s.m.updates - updates0) / (double)cfg->updates
                                : elapsed / cfg->seconds;
        if (progress > 1)
            progress = 1;
        /* Relaxed: workers read it at chunk boundaries for their schedules;
         * a chunk made with a slightly older value is harmless. */
        atomic_store_explicit(&b->progress_ppm, (uint64_t)(progress * 1e6), memory_order_relaxed);

        if (now - s.last_tick_ns >= 500000000u) {
            tick(run, &s, now);
            s.m.wall_s = wall0 + elapsed;
            s.m.paused = (uint64_t)paused;
            dshq_telemetry_publish(tel, metrics_shape_hash(), &s.m, sizeof s.m);
            if (mf) {
                metrics_write_jsonl(mf, &s.m);
                fflush(mf);
            }
        }
        if (o->checkpoint_path && o->checkpoint_every_s > 0 &&
            now - last_ckpt >= (uint64_t)(o->checkpoint_every_s * 1e9)) {
            save_checkpoint(o, run, &ppo, &s.m);
            last_ckpt = now;
        }
        if (paused) {
            dshq_mailbox_wait(mb, 100000000);
            continue;
        }

        struct dshq_slot slot;
        rc = nheld < held_max ? run_consumer_poll(&cons, 50000000, &slot) : DSHQ_RING_EMPTY;
        /* Refused slots held behind good ones can fill the ring: then learn
         * from the good ones held so far rather than wait for ever. */
        int short_batch = rc == DSHQ_RING_EMPTY && refused_held && n > 0;
        if (rc == DSHQ_RING_EMPTY && !short_batch)
            continue;
        if (short_batch)
            goto update;
        if (rc) {
            fprintf(stderr, "trainer: poll: %s\n", dshq_strerror(rc));
            goto out;
        }
        /* The chunk is untrusted: copy its header and check everything
         * against the layout this trainer owns before PPO sees it.  Verify
         * mode: copy the whole slot first, check its seal on the copy, let
         * the slot go and learn from the copy. */
        const void *data = slot.data;
        uint64_t avail = slot.size;
        struct dshq_chunk_header hc;
        memset(&hc, 0, sizeof hc);
        int fault = RUN_CHUNK_OK;
        if (priv) {
            unsigned char *mine = priv + (size_t)n * slot_bytes;
            if (slot.size < slot_bytes) {
                fault = RUN_CHUNK_EHEADER;
            } else {
                memcpy(mine, slot.data, slot_bytes);
                fault = run_chunk_verify(&run->chunk, mine, slot_bytes);
            }
            run_consumer_release(&cons, &slot);
            data = mine;
            avail = slot_bytes;
            if (!fault)
                atomic_fetch_add_explicit(&b->faults.chunks_verified, 1,
                                          memory_order_relaxed); /* relaxed: a counter */
        }
        if (!fault)
            fault = run_chunk_validate(&run->chunk, data, avail, cfg->workers,
                                       (uint32_t)run->net.n_actions, &hc);
        uint32_t worker = hc.producer_id;
        uint64_t pv = hc.policy_version;
        uint64_t cur = (uint64_t)version;
        if (!fault && (pv > cur || pv == 0))
            fault = RUN_CHUNK_EPOLICY;
        if (fault) {
            if (fault == RUN_CHUNK_ECHECKSUM) /* the copy's header names the worker */
                memcpy(&hc, data, sizeof hc);
            refuse_chunk(run, &hc, fault);
            if (!priv && nheld == 0)
                run_consumer_release(&cons, &slot);
            else if (!priv) {
                held[nheld++] = slot;
                refused_held++;
            }
            continue;
        }
        uint64_t lag = cur - pv;
        int dup = 0;
        for (uint32_t i = 0; i < n && cfg->deterministic; i++)
            dup |= from[i] == worker;
        if (lag > cfg->max_lag || dup) {
            s.m.chunks_dropped_lag++;
            if (!priv && nheld == 0)
                run_consumer_release(&cons, &slot);
            else if (!priv) {
                held[nheld++] = slot;
                refused_held++;
            }
            continue;
        }
        lag_min = lag < lag_min ? lag : lag_min;
        lag_max = lag > lag_max ? lag : lag_max;
        s.lag_sum += (double)lag;
        s.lag_n++;
        views[n] = run_chunk_view(&run->chunk, data);
        from[n] = worker;
        if (!priv)
            held[nheld++] = slot;
        n++;
        if (n < batch)
            continue;
    update:
        if (cfg->deterministic)
            sort_by_worker(views, from, n);

        /* One PPO update on the held chunks, in place. */
        float lr = lr_override > 0 ? lr_override
                                   : rl_adam_lr_linear(tc.ppo.lr, tc.ppo.lr_end, progress);
        float shaping;
        /* Relaxed: written by this thread only (mailbox) or never. */
        if (atomic_load_explicit(&b->shaping_set, memory_order_relaxed))
            shaping = (float)atomic_load_explicit(&b->shaping_milli, memory_order_relaxed) / 1000.0f;
        else {
            shaping = (float)(1.0 + (tc.shaping_end - 1.0) * progress);
            atomic_store_explicit(&b->shaping_milli, (uint32_t)(shaping * 1000),
                                  memory_order_relaxed);
        }
        struct rl_ppo_stats st;
        rc = run_ppo_update_checked(&ppo, views, (int)n, lr, &st, backup);
        for (uint32_t i = 0; i < nheld; i++)
            run_consumer_release(&cons, &held[i]);
        nheld = refused_held = 0;
        if (rc < 0) {
            fprintf(stderr, "trainer: update: %s\n", strerror(-rc));
            goto out;
        }
        if (rc > 0) {
            n = 0;
            lag_min = UINT64_MAX;
            lag_max = 0;
            /* Relaxed: a counter for monitors. */
            atomic_fetch_add_explicit(&b->faults.updates_skipped, 1, memory_order_relaxed);
            if (++bad_in_row >= max_bad) {
                fprintf(stderr, "trainer: %u updates in a row were not finite (%s); stopping "
                                "the run: the last good checkpoint is %s\n",
                        bad_in_row, rc == 2 ? "action index out of range" : "NaN or infinity",
                        o->checkpoint_path ? o->checkpoint_path : "(none: no --checkpoint-dir)");
                goto out;
            }
            continue;
        }
        bad_in_row = 0;
        s.m.updates++;
        s.m.steps += (uint64_t)st.samples;
        s.m.chunks_consumed += n;
        s.m.policy_loss = st.policy_loss;
        s.m.value_loss = st.value_loss;
        s.m.entropy = st.entropy;
        s.m.approx_kl = st.approx_kl;
        s.m.clip_fraction = st.clip_frac;
        s.m.explained_variance = st.explained_var;
        s.m.learning_rate = lr;
        s.m.entropy_coef = ppo.cfg.ent_coef;
        s.m.clip = ppo.cfg.clip;
        s.m.shaping_coef = tc.shaping_coef * shaping;
        s.m.policy_lag_min = lag_min;
        s.m.policy_lag_max = lag_max;
        lag_min = UINT64_MAX;
        lag_max = 0;
        n = 0;

        /* Publish: write into a buffer no reader holds, then flip. */
        float *dst;
        if ((rc = dshq_weights_publish_begin(w, &dst))) {
            fprintf(stderr, "trainer: publish: %s\n", dshq_strerror(rc));
            goto out;
        }
        memcpy(dst, ppo.params, run->net.n_params * sizeof(float));
        version = dshq_weights_publish_commit(w, s.m.updates);
        s.m.weights_version = vbase + (uint64_t)version;
        if (!o->quiet && now - last_print >= 1000000000u) {
            last_print = now;
            printf("update %5llu  %6.1fs  steps %9llu  %7.0f steps/s  score %.2f (vs %s)  "
                   "return %+.3f  entropy %.3f  kl %.4f\n",
                   (unsigned long long)s.m.updates, elapsed, (unsigned long long)s.m.steps,
                   s.m.steps_per_s, s.m.score_ema, metrics_opponent_name(s.m.opponent),
                   s.m.mean_return, s.m.entropy, s.m.approx_kl);
            fflush(stdout);
        }
    }
    for (uint32_t i = 0; i < nheld; i++)
        run_consumer_release(&cons, &held[i]);
    nheld = 0;
    /* Final telemetry and checkpoint, then tell everyone to stop. */
    uint64_t now = dshq_now_ns();
    tick(run, &s, now);
    s.m.wall_s = wall0 + elapsed;
    s.m.paused = atomic_load_explicit(&b->paused, memory_order_relaxed); /* relaxed: as above */
    dshq_telemetry_publish(tel, metrics_shape_hash(), &s.m, sizeof s.m);
    if (mf)
        metrics_write_jsonl(mf, &s.m);
    if (o->checkpoint_path && save_checkpoint(o, run, &ppo, &s.m)) {
        mark_failed(run);
        goto out;
    }
    exit_code = 0;
out:
    if (exit_code)
        mark_failed(run);
    run_stop(b);
    free(backup);
    free(priv);
    free(held);
    if (mf)
        fclose(mf);
    if (tel) {
        if (beat >= 0)
            dshq_telemetry_unregister(tel, beat);
        dshq_telemetry_detach(tel);
    }
    if (mb)
        dshq_mailbox_detach(mb);
    run_consumer_close(&cons);
    if (w)
        dshq_weights_writer_detach(w);
    if (wch)
        dshq_weights_close(wch);
    rl_ppo_free(&ppo);
    return exit_code;
}
