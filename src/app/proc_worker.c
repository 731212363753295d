/* proc_worker.c — a rollout worker: steps E Ball Drill envs with the newest
 * policy and writes each T-step window straight into a chunk of its lane.
 *
 * Per chunk:  adopt the newest weights (O(1), no copy; the view stays pinned
 * while the chunk is collected) -> claim a slot of the lane -> collect T
 * steps into the slot's arrays in place -> stamp the header with the policy
 * version -> commit.  Nothing is copied on the way: the trainer reads the
 * same bytes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/metrics.h"
#include "app/procs.h"
#include "rl/train_loop.h"

static void add_stats(struct run_worker_stats *ws, const struct rl_collect_stats *now,
                      struct rl_collect_stats *last)
{
    /* Relaxed: monotonic counters read for rates only; no data hangs on them. */
    atomic_fetch_add_explicit(&ws->steps, now->steps - last->steps, memory_order_relaxed);
    atomic_fetch_add_explicit(&ws->chunks, 1, memory_order_relaxed);
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

int worker_main(struct run *run, uint32_t index, uint32_t restart)
{
    struct run_block *b = run->blk;
    struct run_worker_stats *ws = &b->worker[index];
    struct rl_train_config tc;
    rl_train_config_default(&tc);
    struct bd_config ec;
    bd_config_default(&ec);
    ec.shaping_coef = tc.shaping_coef;
    ec.approach_coef = tc.approach_coef;
    ec.max_goals = (uint32_t)tc.max_goals;
    /* Distinct episodes per worker and per incarnation. */
    ec.env_id_base = (index + 1) * 1000000u + restart * b->envs;
    uint64_t seed = rl_rng_derive(b->seed, (uint64_t)index * 7919 + restart);

    struct rl_collector col;
    struct dshq_weights *wch = NULL;
    struct dshq_weights_reader *rd = NULL;
    struct dshq_lane_producer *lane = NULL;
    struct dshq_telemetry *tel = NULL;
    int beat = -1, rc, exit_code = 1;

    if ((rc = rl_collector_init(&col, &run->net, (int)b->envs, &ec, &tc.mix, seed))) {
        fprintf(stderr, "worker %u: cannot create %u envs: %s\n", index, b->envs, strerror(-rc));
        return 1;
    }
    if ((rc = dshq_weights_open(run->weights_mem, run->weights_size, &wch)) ||
        (rc = dshq_weights_reader_attach(wch, b->mlp_shape, &rd))) {
        fprintf(stderr, "worker %u: weights channel: %s\n", index, dshq_strerror(rc));
        goto out;
    }
    /* A previous incarnation may still be dying: retry the lane a while. */
    for (int tries = 0; (rc = dshq_lane_producer_open(run->lanes_mem, run->lanes_size, index,
                                                      &lane)) == -EBUSY && tries < 100; tries++)
        usleep(20000);
    if (rc) {
        fprintf(stderr, "worker %u: lane %u: %s\n", index, index, dshq_strerror(rc));
        goto out;
    }
    if (dshq_telemetry_attach(run->telemetry_mem, run->telemetry_size, 0, &tel) == 0)
        beat = dshq_telemetry_register(tel, METRICS_ROLE_WORKER, index);
    atomic_store_explicit(&ws->pid, getpid(), memory_order_relaxed);
    atomic_fetch_add_explicit(&ws->restarts, restart ? 1 : 0, memory_order_relaxed);

    struct rl_collect_stats last = col.stats;
    struct dshq_weights_view view = {0};
    uint64_t seq = 0;
    while (!procs_stop && run_state(run) != RUN_STOPPING) {
        if (beat >= 0)
            dshq_telemetry_beat(tel, beat);
        /* Adopt at the chunk boundary only: the view stays pinned while
         * this chunk is collected with it. */
        rc = dshq_weights_adopt(rd, &view);
        if (rc < 0 && rc != -EAGAIN) {
            fprintf(stderr, "worker %u: adopt: %s\n", index, dshq_strerror(rc));
            goto out;
        }
        if (!view.params) {
            dshq_weights_wait(wch, 0, 100000000);
            continue;
        }
        double progress = (double)atomic_load_explicit(&b->progress_ppm, memory_order_relaxed) / 1e6;
        float shaping = (float)atomic_load_explicit(&b->shaping_milli, memory_order_relaxed) / 1000.0f;
        struct rl_opponent_mix mix = rl_opponent_mix_lerp(&tc.mix, &tc.mix_end, progress);
        rl_collector_set_mix(&col, &mix);
        bd_env_set_shaping(col.env, tc.shaping_coef * shaping, tc.approach_coef * shaping);

        struct dshq_slot slot;
        rc = dshq_lane_claim(lane, 100000000, &slot);
        if (rc == DSHQ_RING_FULL)
            continue; /* the trainer is behind: look at the stop flag, retry */
        if (rc) {
            fprintf(stderr, "worker %u: claim: %s\n", index, dshq_strerror(rc));
            goto out;
        }
        struct dshq_chunk_view cv;
        dshq_chunk_view(&run->chunk, slot.data, &cv);
        struct rl_rollout_buf buf = {
            .T = (int)b->horizon, .E = (int)b->envs, .obs_dim = (int)b->obs_dim,
            .obs = cv.obs, .act = cv.act, .rew = cv.rew, .done = cv.done, .trunc = cv.trunc,
            .logp = cv.logp, .value = cv.value, .final_value = cv.final_value,
            .bootstrap_value = cv.boot_value, .final_obs = NULL, .bootstrap_obs = cv.final_obs,
        };
        if ((rc = rl_collect(&col, view.params, NULL, &buf))) {
            fprintf(stderr, "worker %u: collect: %s\n", index, strerror(-rc));
            goto out;
        }
        dshq_chunk_stamp(&run->chunk, slot.data, index, seq++, view.version);
        if ((rc = dshq_lane_commit(lane))) {
            fprintf(stderr, "worker %u: commit: %s\n", index, dshq_strerror(rc));
            goto out;
        }
        atomic_store_explicit(&ws->version, view.version, memory_order_relaxed);
        add_stats(ws, &col.stats, &last);
    }
    exit_code = 0;
out:
    if (tel) {
        if (beat >= 0)
            dshq_telemetry_unregister(tel, beat);
        dshq_telemetry_detach(tel);
    }
    if (lane)
        dshq_lane_producer_close(lane);
    if (rd)
        dshq_weights_reader_detach(rd);
    if (wch)
        dshq_weights_close(wch);
    rl_collector_free(&col);
    return exit_code;
}
