/* bench_core — the same four measurements in every build (native, wasm
 * under node, wasm in chromium), for `make bench-web`:
 *
 *   env      Ball Drill env steps/s: 64 envs, frame skip 4 (the workers'
 *            setting), actions from a fixed generator, no learner
 *   lanes    chunks/s through one rollout lane of a run's region: a
 *            producer thread claims, fills every byte and commits; the
 *            consumer polls, reads every byte and releases (the default
 *            chunk: 64 envs x 128 steps, 4 slots)
 *   weights  publish + adopt pairs/s of the default policy (64x2 MLP) on the
 *            weights channel (the publish copies every parameter)
 *   learner  MLP forward + backward samples/s (default network, blocks of
 *            RL_MLP_BLOCK rows: the PPO update's inner loop)
 *
 * Each runs REPS times for about 0.5 s; one line per measurement with the
 * median: "bench NAME VALUE UNIT".  Timing only: it asserts nothing about
 * speed, but it checks the bytes it moves (a wrong byte exits 1). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl/env.h"
#include "rl/mlp.h"
#include "run/roles.h"

enum { REPS = 5 };
#define SLICE_NS 500000000ull

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static double bench_env(void)
{
    enum { E = 64 };
    struct bd_env *env;
    if (bd_env_create(&env, NULL, E))
        exit(1);
    static float obs[2][E][BD_OBS_DIM], rew[2][E];
    uint8_t done[E], trunc[E];
    int32_t act[2][E];
    uint64_t s = 1;
    double r[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        uint64_t t0 = dshq_now_ns(), n = 0, now;
        do {
            for (int e = 0; e < E; e++) {
                act[0][e] = (int32_t)(lcg(&s) % BD_NUM_ACTIONS);
                act[1][e] = (int32_t)(lcg(&s) % BD_NUM_ACTIONS);
            }
            struct bd_step_out out = {.obs = {&obs[0][0][0], &obs[1][0][0]},
                                      .rew = {rew[0], rew[1]}, .done = done, .trunc = trunc};
            bd_env_step(env, act[0], act[1], &out);
            n += E;
        } while ((now = dshq_now_ns()) - t0 < SLICE_NS);
        r[rep] = (double)n / ((double)(now - t0) / 1e9);
    }
    bd_env_destroy(env);
    return median(r, REPS);
}

/* ---- lanes */

static struct run lrun;
static _Atomic int lane_stop, lane_done;

static void *producer(void *arg)
{
    (void)arg;
    struct run_producer p;
    if (run_producer_open(&lrun, 0, &p))
        exit(1);
    uint64_t i = 0; /* chunks committed: chunk i is filled with byte i & 0xff */
    while (!atomic_load_explicit(&lane_stop, memory_order_relaxed)) {
        struct dshq_slot s;
        if (run_producer_claim(&p, 100000000, &s) != 0)
            continue; /* timed out: the consumer is slow, try again */
        memset(s.data, (int)(i & 0xff), s.size);
        run_producer_commit(&p);
        i++;
    }
    run_producer_close(&p);
    atomic_store_explicit(&lane_done, 1, memory_order_release); /* pairs with the drain's acquire */
    return NULL;
}

static double bench_lanes(double *gbps)
{
    struct run_config c;
    run_config_default(&c);
    c.workers = 1;
    c.lane_slots = 4;
    if (run_create(&lrun, NULL, &c, NULL))
        exit(1);
    struct run_consumer cons;
    if (run_consumer_open(&lrun, &cons))
        exit(1);
    atomic_store(&lane_stop, 0);
    atomic_store(&lane_done, 0);
    pthread_t t;
    pthread_create(&t, NULL, producer, NULL);
    double r[REPS];
    uint64_t size = 0, expect = 0;
    for (int rep = 0; rep < REPS; rep++) {
        uint64_t t0 = dshq_now_ns(), n = 0, now;
        do {
            struct dshq_slot s;
            if (run_consumer_poll(&cons, 100000000, &s) != 0)
                continue;
            const uint64_t *w = s.data;
            uint64_t want = 0x0101010101010101ULL * (expect & 0xff), bad = 0;
            for (uint64_t k = 0; k < s.size / 8; k++)
                bad |= w[k] ^ want;
            if (bad) {
                fprintf(stderr, "bench: chunk %llu has a wrong byte\n", (unsigned long long)expect);
                exit(1);
            }
            expect++;
            size = s.size;
            run_consumer_release(&cons, &s);
            n++;
        } while ((now = dshq_now_ns()) - t0 < SLICE_NS);
        r[rep] = (double)n / ((double)(now - t0) / 1e9);
    }
    atomic_store(&lane_stop, 1);
    /* drain so a producer blocked on a full lane sees the stop flag */
    while (!atomic_load_explicit(&lane_done, memory_order_acquire)) {
        struct dshq_slot s;
        if (run_consumer_poll(&cons, 1000000, &s) == 0)
            run_consumer_release(&cons, &s);
    }
    pthread_join(t, NULL);
    run_consumer_close(&cons);
    run_destroy(&lrun);
    double m = median(r, REPS);
    *gbps = m * (double)size / 1e9;
    return m;
}

static double bench_weights(void)
{
    struct run_config c;
    run_config_default(&c);
    c.workers = 1;
    struct run run;
    if (run_create(&run, NULL, &c, NULL))
        exit(1);
    struct dshq_weights *ch;
    struct dshq_weights_writer *w;
    struct dshq_weights_reader *rd;
    if (dshq_weights_open(run.weights_mem, run.weights_size, &ch) ||
        dshq_weights_writer_attach(ch, &w) ||
        dshq_weights_reader_attach(ch, run.blk->mlp_shape, &rd))
        exit(1);
    float *params = rl_mlp_alloc(&run.net);
    rl_mlp_params_init(&run.net, params, 3);
    double r[REPS];
    struct dshq_weights_view v;
    for (int rep = 0; rep < REPS; rep++) {
        uint64_t t0 = dshq_now_ns(), n = 0, now;
        do {
            params[0] = (float)n;
            if (dshq_weights_publish(w, params, n) < 0 || dshq_weights_adopt(rd, &v) < 0 ||
                v.params[0] != (float)n)
                exit(1);
            n++;
        } while ((now = dshq_now_ns()) - t0 < SLICE_NS);
        r[rep] = (double)n / ((double)(now - t0) / 1e9);
    }
    free(params);
    dshq_weights_reader_detach(rd);
    dshq_weights_writer_detach(w);
    dshq_weights_close(ch);
    run_destroy(&run);
    return median(r, REPS);
}

static double bench_learner(void)
{
    struct run_config c;
    run_config_default(&c);
    struct rl_mlp net;
    int hid[RL_MLP_MAX_HIDDEN] = {(int)c.hidden, (int)c.hidden, (int)c.hidden};
    if (rl_mlp_init(&net, BD_OBS_DIM, BD_NUM_ACTIONS, hid, (int)c.layers))
        exit(1);
    float *p = rl_mlp_alloc(&net), *g = rl_mlp_alloc(&net);
    rl_mlp_params_init(&net, p, 5);
    memset(g, 0, net.n_params * sizeof *g);
    struct rl_mlp_ws ws;
    if (rl_mlp_ws_init(&ws, &net))
        exit(1);
    enum { B = RL_MLP_BLOCK };
    static float x[B * BD_OBS_DIM], dl[B * BD_NUM_ACTIONS], dv[B];
    uint64_t s = 9;
    for (int i = 0; i < B * BD_OBS_DIM; i++)
        x[i] = (float)((int)(lcg(&s) % 2001) - 1000) / 500.0f;
    for (int i = 0; i < B * BD_NUM_ACTIONS; i++)
        dl[i] = (float)((int)(lcg(&s) % 201) - 100) / 1e4f;
    for (int i = 0; i < B; i++)
        dv[i] = 0.01f;
    double r[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        uint64_t t0 = dshq_now_ns(), n = 0, now;
        do {
            rl_mlp_forward_train(&net, p, x, B, &ws);
            rl_mlp_backward(&net, p, x, B, &ws, dl, dv, g);
            n += B;
        } while ((now = dshq_now_ns()) - t0 < SLICE_NS);
        r[rep] = (double)n / ((double)(now - t0) / 1e9);
    }
    rl_mlp_ws_free(&ws);
    free(p);
    free(g);
    return median(r, REPS);
}

int main(void)
{
    double gbps;
    printf("bench env %.0f steps/s\n", bench_env());
    fflush(stdout);
    double lanes = bench_lanes(&gbps);
    printf("bench lanes %.0f chunks/s (%.2f GB/s)\n", lanes, gbps);
    fflush(stdout);
    printf("bench weights %.0f publish+adopt/s\n", bench_weights());
    fflush(stdout);
    printf("bench learner %.0f samples/s\n", bench_learner());
    printf("bench done\n");
    return 0;
}
