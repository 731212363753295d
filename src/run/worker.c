/* worker.c — the rollout worker role: steps E Ball Drill envs with the
 * newest policy and writes each T-step window straight into a chunk of the
 * rollouts section (its lane, or the shared MPSC ring).
 *
 * Per chunk:  adopt the newest weights (O(1), no copy; the view stays pinned
 * while the chunk is collected) -> claim a slot -> collect T steps into the
 * slot's arrays in place (run_chunk_buf) -> stamp the header with the policy
 * version -> commit.  Nothing is copied on the way: the trainer reads the
 * same bytes.
 *
 * A full ring under --when-full drop: the window is collected anyway into a
 * private scratch buffer and thrown away (the ring counts it as dropped), so
 * the envs move on as they would have.  --deterministic: each chunk is made
 * with the version after the previous chunk's, and the schedules follow the
 * update count stamped on that version rather than the clock.  While the run
 * is paused the worker idles. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rl/train_loop.h"
#include "run/chunk_rollout.h"
#include "run/metrics.h"
#include "run/roles.h"

static void add_stats(struct run_worker_stats *ws, const struct rl_collect_stats *now,
                      struct rl_collect_stats *last)
{
    /* Relaxed: monotonic counters read for rates only; no data hangs on them. */
    atomic_fetch_add_explicit(&ws->steps, now->steps - last->steps, memory_order_relaxed);
    for (int k = 0; k < 3; k++) {
        atomic_fetch_add_explicit(&ws->episodes[k], now->episodes[k] - last->episodes[k],
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&ws->wins[k], now->wins[k] - last->wins[k],
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&ws->losses[k], now->losses[k] - last->losses[k],
                                  memory_order_relaxed);
    }
    int64_t dret = (int64_t)((now->ret_sum - last->ret_sum) * 1e6);
    atomic_fetch_add_explicit(&ws->ret_micro, (uint64_t)dret, memory_order_relaxed);
    atomic_fetch_add_explicit(&ws->len_sum, (uint64_t)(now->len_sum - last->len_sum),
                              memory_order_relaxed);
    *last = *now;
}

/* ---- test-only hostile mode (roles.h) ---------------------------------- */

static _Atomic uint64_t hostile_mask;
static _Atomic uint32_t hostile_every;
static _Atomic uint64_t hostile_done;

uint64_t run_worker_set_hostile(uint64_t mask, uint32_t every)
{
    /* Relaxed: set before the workers start (fork or thread creation orders it). */
    atomic_store_explicit(&hostile_every, every ? every : 1, memory_order_relaxed);
    atomic_store_explicit(&hostile_mask, mask, memory_order_relaxed);
    return atomic_load_explicit(&hostile_done, memory_order_relaxed);
}

static uint64_t hostile_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Damages chunk number seq of a hostile worker before its commit; returns
 * 1 when the damage is to be done after the commit instead. */
static int hostile_damage(const struct dshq_chunk_layout *l, unsigned char *c, uint64_t seq,
                          uint64_t *rng)
{
    uint64_t k = (seq / atomic_load_explicit(&hostile_every, memory_order_relaxed)) %
                 RUN_HOSTILE_KINDS;
    uint64_t te = (uint64_t)l->T * l->E;
    float nan = NAN, huge = 3.0e38f;
    int32_t bad = (int32_t)(hostile_rand(rng) & 1 ? 1 << 30 : -7);
    switch (k) {
    case 0: /* random bytes in the header */
        for (int i = 0; i < 4; i++)
            c[hostile_rand(rng) % 64] = (unsigned char)hostile_rand(rng);
        break;
    case 1:
        memcpy(c + l->off_rew + 4 * (hostile_rand(rng) % te), &nan, 4);
        break;
    case 2:
        memcpy(c + l->off_obs + 4 * (hostile_rand(rng) % (te * l->obs_dim)), &huge, 4);
        break;
    case 3:
        memcpy(c + l->off_act + 4 * (hostile_rand(rng) % te), &bad, 4);
        break;
    case 4: /* random bytes anywhere in the body */
        for (int i = 0; i < 16; i++)
            c[64 + hostile_rand(rng) % (l->bytes - 64)] = (unsigned char)hostile_rand(rng);
        break;
    default:
#if defined(__SANITIZE_THREAD__)
        /* Under ThreadSanitizer the change after commit (a data race by
         * design) would be reported as one: damage the body instead. */
        c[64 + hostile_rand(rng) % (l->bytes - 64)] ^= 0x5a;
        return 0;
#else
        return 1;
#endif
    }
    return 0;
}

static void hostile_after_commit(const struct dshq_chunk_layout *l, unsigned char *c,
                                 uint64_t *rng)
{
    /* The slot is the trainer's now: rewrite actions and rewards under it. */
    uint64_t te = (uint64_t)l->T * l->E;
    float nan = NAN;
    int32_t bad = 1 << 30;
    for (int i = 0; i < 8; i++) {
        memcpy(c + l->off_act + 4 * (hostile_rand(rng) % te), &bad, 4);
        memcpy(c + l->off_rew + 4 * (hostile_rand(rng) % te), &nan, 4);
    }
}

int run_worker(struct run *run, uint32_t index, uint32_t restart)
{
    struct run_block *b = run->blk;
    const struct run_config *cfg = &run->cfg;
    if (index >= cfg->workers)
        return 1;
    struct run_worker_stats *ws = &b->worker[index];
    struct rl_train_config tc;
    run_config_to_train(cfg, &tc);
    struct bd_config ec;
    bd_config_default(&ec);
    ec.shaping_coef = tc.shaping_coef;
    ec.approach_coef = tc.approach_coef;
    ec.max_goals = (uint32_t)tc.max_goals;
    /* Distinct episodes and seeds per worker and per incarnation. */
    ec.env_id_base = (index + 1) * 1000000u + restart * cfg->envs;
    uint64_t seed = rl_rng_derive(cfg->seed, (uint64_t)index * 7919 + restart);

    struct rl_collector col;
    struct rl_rollout_buf scratch = {0};
    struct dshq_weights *wch = NULL;
    struct dshq_weights_reader *rd = NULL;
    struct run_producer prod = {0};
    struct dshq_telemetry *tel = NULL;
    int beat = -1, rc, exit_code = 1;

    if ((rc = rl_collector_init(&col, &run->net, (int)cfg->envs, &ec, &tc.mix, seed))) {
        fprintf(stderr, "worker %u: cannot create %u envs: %s\n", index, cfg->envs,
                strerror(-rc));
        return 1;
    }
    if ((rc = dshq_weights_open(run->weights_mem, run->weights_size, &wch)) ||
        (rc = dshq_weights_reader_attach(wch, b->mlp_shape, &rd))) {
        fprintf(stderr, "worker %u: weights channel: %s\n", index, dshq_strerror(rc));
        goto out;
    }
    /* A previous incarnation may still be dying: retry the lane a while. */
    for (int tries = 0; (rc = run_producer_open(run, index, &prod)) == -EBUSY && tries < 100;
         tries++)
        usleep(20000);
    if (rc) {
        fprintf(stderr, "worker %u: rollouts: %s\n", index, dshq_strerror(rc));
        goto out;
    }
    if (dshq_telemetry_attach(run->telemetry_mem, run->telemetry_size, 0, &tel) == 0)
        beat = dshq_telemetry_register(tel, METRICS_ROLE_WORKER, index);
    /* Relaxed: display counters. */
    atomic_store_explicit(&ws->pid, getpid(), memory_order_relaxed);
    atomic_fetch_add_explicit(&ws->restarts, restart ? 1 : 0, memory_order_relaxed);

    struct rl_collect_stats last = col.stats;
    struct dshq_weights_view view = {0};
    uint64_t seq = 0, last_version = 0;
    /* Relaxed: set before this role started (test-only hostile mode). */
    const int hostile = index < 64 &&
                        (atomic_load_explicit(&hostile_mask, memory_order_relaxed) >> index) & 1;
    uint64_t hrng = seed | 1;
    while (!run_stopping(run)) {
        if (beat >= 0)
            dshq_telemetry_beat(tel, beat);
        /* Relaxed: a lone flag polled at chunk boundaries. */
        if (atomic_load_explicit(&b->paused, memory_order_relaxed)) {
            uint32_t e = dshq_event_prepare(&b->state_changed);
            if (!run_stopping(run))
                dshq_event_wait(&b->state_changed, e, 50000000);
            continue;
        }
        /* Adopt at the chunk boundary only: the view stays pinned while
         * this chunk is collected with it. */
        rc = dshq_weights_adopt(rd, &view);
        if (rc < 0 && rc != -EAGAIN) {
            fprintf(stderr, "worker %u: adopt: %s\n", index, dshq_strerror(rc));
            goto out;
        }
        if (!view.params || (cfg->deterministic && view.version <= last_version)) {
            dshq_weights_wait(wch, view.version, 100000000);
            continue;
        }
        double progress;
        if (cfg->deterministic && cfg->updates) /* the version's own update count */
            progress = (double)(view.step - b->updates_base) / (double)cfg->updates;
        else /* Relaxed: see the trainer's store. */
            progress = (double)atomic_load_explicit(&b->progress_ppm, memory_order_relaxed) / 1e6;
        progress = progress < 0 ? 0 : progress > 1 ? 1 : progress;
        float shaping;
        /* Relaxed: the trainer's mailbox stores; a chunk late by one is harmless. */
        if (atomic_load_explicit(&b->shaping_set, memory_order_relaxed))
            shaping = (float)atomic_load_explicit(&b->shaping_milli, memory_order_relaxed) / 1000.0f;
        else
            shaping = (float)(1.0 + (tc.shaping_end - 1.0) * progress);
        struct rl_opponent_mix mix = rl_opponent_mix_lerp(&tc.mix, &tc.mix_end, progress);
        rl_collector_set_mix(&col, &mix);
        bd_env_set_shaping(col.env, tc.shaping_coef * shaping, tc.approach_coef * shaping);

        struct dshq_slot slot;
        rc = run_producer_claim(&prod, 100000000, &slot);
        if (rc == DSHQ_RING_FULL && cfg->when_full == RUN_FULL_DROP) {
            /* Dropped (the ring counted it): collect and discard, so the
             * envs keep their pace. */
            if (!scratch.obs && (rc = rl_rollout_buf_alloc(&scratch, (int)cfg->horizon,
                                                           (int)cfg->envs, BD_OBS_DIM, 0))) {
                fprintf(stderr, "worker %u: %s\n", index, strerror(-rc));
                goto out;
            }
            if ((rc = rl_collect(&col, view.params, NULL, &scratch))) {
                fprintf(stderr, "worker %u: collect: %s\n", index, strerror(-rc));
                goto out;
            }
            add_stats(ws, &col.stats, &last);
            continue;
        }
        if (rc == DSHQ_RING_FULL)
            continue; /* the trainer is behind: look at the stop flag, retry */
        if (rc) {
            fprintf(stderr, "worker %u: claim: %s\n", index, dshq_strerror(rc));
            goto out;
        }
        struct rl_rollout_buf buf = run_chunk_buf(&run->chunk, slot.data);
        if ((rc = rl_collect(&col, view.params, NULL, &buf))) {
            fprintf(stderr, "worker %u: collect: %s\n", index, strerror(-rc));
            goto out;
        }
        dshq_chunk_stamp(&run->chunk, slot.data, index, seq, view.version);
        run_chunk_seal(&run->chunk, slot.data);
        int after = 0;
        if (hostile && seq % atomic_load_explicit(&hostile_every, memory_order_relaxed) == 0) {
            after = hostile_damage(&run->chunk, slot.data, seq, &hrng);
            atomic_fetch_add_explicit(&hostile_done, 1, memory_order_relaxed);
        }
        seq++;
        if ((rc = run_producer_commit(&prod))) {
            fprintf(stderr, "worker %u: commit: %s\n", index, dshq_strerror(rc));
            goto out;
        }
        if (after)
            hostile_after_commit(&run->chunk, slot.data, &hrng);
        last_version = view.version;
        atomic_store_explicit(&ws->version, b->version_base + view.version,
                              memory_order_relaxed);
        atomic_fetch_add_explicit(&ws->chunks, 1, memory_order_relaxed);
        add_stats(ws, &col.stats, &last);
    }
    exit_code = 0;
out:
    if (tel) {
        if (beat >= 0)
            dshq_telemetry_unregister(tel, beat);
        dshq_telemetry_detach(tel);
    }
    run_producer_close(&prod);
    if (rd)
        dshq_weights_reader_detach(rd);
    if (wch)
        dshq_weights_close(wch);
    if (scratch.obs)
        rl_rollout_buf_free(&scratch);
    rl_collector_free(&col);
    return exit_code;
}
