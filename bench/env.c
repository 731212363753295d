/* bench/env — Ball Drill env steps per second on one core.
 *
 * For E = 1, 64, 1024, 8192 envs in one batch, steps the batch with random
 * actions (drawn beforehand, so the policy costs nothing) and reports the
 * median over repeated runs of:
 *
 *   full     env steps/s with frame_skip 1 (one step = one 1/120 s tick) and
 *            every output written: observations for both sides, rewards and
 *            their terms, done/trunc, final observations and episode records;
 *   physics  the same steps with no outputs at all (the cost of the
 *            simulation alone; full - physics is the observation writing);
 *   fs4      decisions/s with the default frame_skip 4 (four ticks per step,
 *            outputs once per step), what a trainer at 30 Hz sees; its ticks/s
 *            is four times that.
 *
 * There is no peer figure: no other Ball Drill exists to compare with; the
 * issue's yardstick is ">= 1 M steps/s per core at E >= 1024".
 *
 * Usage: build/bench/env [seconds_per_run (default 0.25)] [runs (default 5)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rl/env.h"
#include "rl/rng.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { ROWS = 64 }; /* distinct action rows, cycled */

/* Median env steps/s (E * calls / s) of `runs` runs of about `secs` each. */
static double measure(uint32_t E, uint32_t frame_skip, int outputs, double secs, int runs)
{
    struct bd_config cfg;
    bd_config_default(&cfg);
    cfg.frame_skip = frame_skip;
    struct bd_env *env;
    if (bd_env_create(&env, &cfg, E)) {
        fprintf(stderr, "bench/env: cannot create %u envs\n", E);
        exit(1);
    }
    bd_env_reset(env, 1);
    int32_t *act = malloc(sizeof(int32_t) * 2 * ROWS * E);
    struct rl_rng rng = rl_rng_make(12345);
    for (size_t i = 0; i < (size_t)2 * ROWS * E; i++)
        act[i] = (int32_t)rl_rng_below(&rng, BD_NUM_ACTIONS);

    struct bd_step_out out;
    memset(&out, 0, sizeof out);
    void *blocks[16];
    int nb = 0;
    if (outputs) {
        for (int i = 0; i < 2; i++) {
            out.obs[i] = blocks[nb++] = calloc((size_t)E * BD_OBS_DIM, sizeof(float));
            out.final_obs[i] = blocks[nb++] = calloc((size_t)E * BD_OBS_DIM, sizeof(float));
            out.rew[i] = blocks[nb++] = calloc(E, sizeof(float));
            out.rew_goal[i] = blocks[nb++] = calloc(E, sizeof(float));
            out.rew_shape[i] = blocks[nb++] = calloc(E, sizeof(float));
        }
        out.done = blocks[nb++] = calloc(E, 1);
        out.trunc = blocks[nb++] = calloc(E, 1);
        out.episodes = blocks[nb++] = calloc(E, sizeof(struct bd_episode));
    }

    /* Calls per run: calibrate on a short warm-up. */
    uint64_t calls = 1;
    for (;;) {
        double t0 = now_s();
        for (uint64_t c = 0; c < calls; c++) {
            const int32_t *row = act + (size_t)(c % ROWS) * 2 * E;
            bd_env_step(env, row, row + E, &out);
        }
        double dt = now_s() - t0;
        if (dt > secs / 8 || calls > (1u << 30))
            break;
        calls *= 2;
    }
    double per_call = 0;
    {
        double t0 = now_s();
        for (uint64_t c = 0; c < calls; c++) {
            const int32_t *row = act + (size_t)(c % ROWS) * 2 * E;
            bd_env_step(env, row, row + E, &out);
        }
        per_call = (now_s() - t0) / (double)calls;
    }
    calls = (uint64_t)(secs / per_call) + 1;

    double rate[32];
    if (runs > 32)
        runs = 32;
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        for (uint64_t c = 0; c < calls; c++) {
            const int32_t *row = act + (size_t)(c % ROWS) * 2 * E;
            bd_env_step(env, row, row + E, &out);
        }
        rate[r] = (double)calls * E / (now_s() - t0);
    }
    qsort(rate, (size_t)runs, sizeof rate[0], cmp_double);
    for (int i = 0; i < nb; i++)
        free(blocks[i]);
    free(act);
    bd_env_destroy(env);
    return rate[runs / 2];
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0.25;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (secs <= 0 || runs < 1) {
        fprintf(stderr, "usage: %s [seconds_per_run] [runs]\n", argv[0]);
        return 2;
    }
    static const uint32_t sizes[] = {1, 64, 1024, 8192};
    printf("bench/env: Ball Drill on one core, median of %d runs of %.2f s (spec %016llx)\n",
           runs, secs, (unsigned long long)bd_spec_hash());
    printf("%6s %14s %9s %14s %16s %15s\n", "E", "full steps/s", "ns/step", "physics st/s",
           "fs4 decisions/s", "fs4 ticks/s");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t E = sizes[i];
        double full = measure(E, 1, 1, secs, runs);
        double phys = measure(E, 1, 0, secs, runs);
        double fs4 = measure(E, 4, 1, secs, runs);
        printf("%6u %14.3e %9.1f %14.3e %16.3e %15.3e\n", E, full, 1e9 / full, phys, fs4,
               4 * fs4);
        fflush(stdout);
    }
    return 0;
}
