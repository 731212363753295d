/* bench/pipeline — what transport and coordination cost the rollout pipeline.
 *
 * Three ways to produce the same experience (E envs x T steps per chunk,
 * actions chosen by the default network's inference, episodes auto-reset):
 *
 *   inproc   one process collects windows into its own memory: env +
 *            inference and nothing else.  The yardstick, per core.
 *   shm      W worker processes collect straight into chunks of their
 *            shared-memory lane (claim, fill in place, commit); a consumer
 *            process polls every chunk, reads every byte (a checksum, the
 *            least a trainer does) and releases it; weights adopted per chunk.
 *   pipe     the same workers collect into private memory and write() each
 *            chunk into a pipe; the consumer read()s it into its buffer and
 *            checksums it.
 *
 * Reported: env steps/s (median of runs), steps/s per worker core, and the
 * ratios shm/inproc per core and shm/pipe.  On this 2-core machine W = 1
 * (one core for the worker, one for the consumer), as `dshq train` runs.
 *
 * Usage: build/bench/pipeline [seconds_per_run (default 3)] [runs (default 3)]
 *                             [workers (default cores - 1)] */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dshq/chunk.h"
#include "dshq/region.h"
#include "dshq/rollout.h"
#include "dshq/wait.h"
#include "rl/env.h"
#include "rl/mlp.h"
#include "rl/train_loop.h"

enum { T = 128, E = 64 };

static struct rl_mlp net;
static float *params;
static struct dshq_chunk_layout lay;

static double now_s(void) { return (double)dshq_now_ns() / 1e9; }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int collector(struct rl_collector *c, uint64_t seed)
{
    struct rl_train_config tc;
    rl_train_config_default(&tc);
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_goals = (uint32_t)tc.max_goals;
    return rl_collector_init(c, &net, E, &ec, &tc.mix, seed);
}

static struct rl_rollout_buf chunk_buf(void *chunk)
{
    struct dshq_chunk_view v;
    dshq_chunk_view(&lay, chunk, &v);
    return (struct rl_rollout_buf){.T = T, .E = E, .obs_dim = BD_OBS_DIM, .obs = v.obs,
                                   .act = v.act, .rew = v.rew, .done = v.done, .trunc = v.trunc,
                                   .logp = v.logp, .value = v.value,
                                   .final_value = v.final_value, .bootstrap_value = v.boot_value,
                                   .bootstrap_obs = v.final_obs};
}

static uint64_t checksum(const void *p, uint64_t n)
{
    const uint64_t *w = p;
    uint64_t s = 0;
    for (uint64_t i = 0; i < n / 8; i++)
        s += w[i] * (i | 1);
    return s;
}

/* inproc: steps/s of one process collecting into private memory. */
static double run_inproc(double secs)
{
    struct rl_collector c;
    if (collector(&c, 1))
        return 0;
    void *chunk = aligned_alloc(64, lay.bytes);
    struct rl_rollout_buf b = chunk_buf(chunk);
    uint64_t steps = 0;
    double t0 = now_s(), t;
    do {
        rl_collect(&c, params, NULL, &b);
        steps += (uint64_t)T * E;
    } while ((t = now_s()) - t0 < secs);
    free(chunk);
    rl_collector_free(&c);
    return (double)steps / (t - t0);
}

/* shm: W workers into lanes, one consumer; returns total steps/s. */
static double run_shm(double secs, int W)
{
    struct dshq_ring_params rp = {.slot_size = lay.bytes, .capacity = 2, .producers = (uint32_t)W,
                                  .policy = DSHQ_RING_BLOCK};
    struct dshq_layout l;
    dshq_layout_init(&l);
    dshq_layout_add(&l, DSHQ_SECTION_LANES, "rollouts", DSHQ_LANES_VERSION, dshq_lanes_size(&rp),
                    DSHQ_PAGE_ALIGN, lay.shape_hash);
    dshq_layout_add(&l, DSHQ_SECTION_RAW, "stop", 1, 64, 64, 0);
    struct dshq_region *r;
    if (dshq_region_create_anon(&l, &r))
        return 0;
    void *sec;
    uint64_t size;
    _Atomic uint32_t *stop;
    dshq_region_find(r, DSHQ_SECTION_LANES, "rollouts", 0, &sec, &size);
    dshq_region_find(r, DSHQ_SECTION_RAW, "stop", 0, (void **)&stop, NULL);
    dshq_lanes_init(sec, size, &rp);
    dshq_region_mark_ready(r);
    pid_t pids[64];
    for (int w = 0; w < W; w++) {
        if ((pids[w] = fork()) == 0) {
            struct rl_collector c;
            struct dshq_lane_producer *p;
            if (collector(&c, 1 + (uint64_t)w) ||
                dshq_lane_producer_open(sec, size, (uint32_t)w, &p))
                _exit(1);
            uint64_t seq = 0;
            while (!atomic_load_explicit(stop, memory_order_relaxed)) {
                struct dshq_slot s;
                if (dshq_lane_claim(p, 100000000, &s))
                    continue;
                struct rl_rollout_buf b = chunk_buf(s.data);
                rl_collect(&c, params, NULL, &b);
                dshq_chunk_stamp(&lay, s.data, (uint32_t)w, seq++, 1);
                dshq_lane_commit(p);
            }
            dshq_lane_producer_close(p);
            _exit(0);
        }
    }
    struct dshq_lane_consumer *cons;
    dshq_lane_consumer_open(sec, size, &cons);
    uint64_t chunks = 0, sum = 0;
    double t0 = 0, t = 0;
    /* Warm-up: the first chunk starts the clock. */
    for (;;) {
        struct dshq_slot s;
        if (dshq_lane_poll(cons, 1000000000, &s))
            continue;
        sum += checksum(s.data, lay.bytes);
        dshq_lane_release(cons, &s);
        if (!t0) {
            t0 = now_s();
            continue;
        }
        chunks++;
        if ((t = now_s()) - t0 >= secs)
            break;
    }
    atomic_store(stop, 1);
    for (;;) { /* drain so blocked producers see the stop */
        struct dshq_slot s;
        int alive = 0;
        while (dshq_lane_poll(cons, 10000000, &s) == 0)
            dshq_lane_release(cons, &s);
        for (int w = 0; w < W; w++)
            if (pids[w] > 0 && waitpid(pids[w], NULL, WNOHANG) == 0)
                alive = 1;
            else
                pids[w] = -1;
        if (!alive)
            break;
    }
    dshq_lane_consumer_close(cons);
    dshq_region_destroy(r);
    if (sum == 42)
        puts("");
    return (double)chunks * T * E / (t - t0);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t k = read(fd, c, n);
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* pipe: the same workers, chunks through one pipe each. */
static double run_pipe(double secs, int W)
{
    int fds[64][2];
    pid_t pids[64];
    for (int w = 0; w < W; w++) {
        if (pipe(fds[w]))
            return 0;
        if ((pids[w] = fork()) == 0) {
            close(fds[w][0]);
            struct rl_collector c;
            if (collector(&c, 1 + (uint64_t)w))
                _exit(1);
            void *chunk = aligned_alloc(64, lay.bytes);
            struct rl_rollout_buf b = chunk_buf(chunk);
            uint64_t seq = 0;
            for (;;) {
                rl_collect(&c, params, NULL, &b);
                dshq_chunk_stamp(&lay, chunk, (uint32_t)w, seq++, 1);
                if (write_all(fds[w][1], chunk, lay.bytes))
                    _exit(0); /* the consumer closed: done */
            }
        }
        close(fds[w][1]);
    }
    void *buf = aligned_alloc(64, lay.bytes);
    uint64_t chunks = 0, sum = 0;
    double t0 = 0, t = 0;
    for (int w = 0;; w = (w + 1) % W) {
        if (read_all(fds[w][0], buf, lay.bytes))
            break;
        sum += checksum(buf, lay.bytes);
        if (!t0) {
            t0 = now_s();
            continue;
        }
        chunks++;
        if ((t = now_s()) - t0 >= secs)
            break;
    }
    for (int w = 0; w < W; w++) {
        close(fds[w][0]);
        waitpid(pids[w], NULL, 0);
    }
    free(buf);
    if (sum == 42)
        puts("");
    return (double)chunks * T * E / (t - t0);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int W = argc > 3 ? atoi(argv[3]) : (cores > 1 ? (int)cores - 1 : 1);
    if (secs <= 0 || runs < 1 || runs > 99 || W < 1 || W > 64) {
        fprintf(stderr, "usage: pipeline [seconds_per_run] [runs] [workers]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int hid[RL_MLP_MAX_HIDDEN] = {RL_MLP_DEFAULT_HIDDEN, RL_MLP_DEFAULT_HIDDEN,
                                  RL_MLP_DEFAULT_HIDDEN};
    if (rl_mlp_init(&net, BD_OBS_DIM, BD_NUM_ACTIONS, hid, RL_MLP_DEFAULT_LAYERS) ||
        dshq_chunk_layout_init(&lay, T, E, BD_OBS_DIM, bd_spec_hash()))
        return 1;
    params = rl_mlp_alloc(&net);
    rl_mlp_params_init(&net, params, 1);

    double in[99], sh[99], pp[99];
    for (int i = 0; i < runs; i++) {
        in[i] = run_inproc(secs);
        sh[i] = run_shm(secs, W);
        pp[i] = run_pipe(secs, W);
    }
    qsort(in, (size_t)runs, sizeof in[0], cmp_double);
    qsort(sh, (size_t)runs, sizeof sh[0], cmp_double);
    qsort(pp, (size_t)runs, sizeof pp[0], cmp_double);
    double mi = in[runs / 2], ms = sh[runs / 2], mp = pp[runs / 2];
    printf("pipeline: chunks of T=%d x E=%d (%.2f MiB), %d worker process(es) + 1 consumer, "
           "%d runs of %.1f s, medians\n", T, E, (double)lay.bytes / (1 << 20), W, runs, secs);
    printf("%-8s %14s %18s\n", "mode", "env steps/s", "per worker core");
    printf("%-8s %14.0f %18.0f\n", "inproc", mi, mi);
    printf("%-8s %14.0f %18.0f\n", "shm", ms, ms / W);
    printf("%-8s %14.0f %18.0f\n", "pipe", mp, mp / W);
    printf("ratio shm/inproc per core %.3f   shm/pipe %.3f\n", ms / W / mi, ms / mp);
    return 0;
}
