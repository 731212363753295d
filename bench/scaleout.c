/* bench/scaleout — what `dshq train --mpi` costs and brings (docs/scale-out.md).
 *
 *   build/bench/scaleout [SECONDS [REPEATS [LANE_SLOTS]]]   (default 6 s, 3, 8 slots)
 *
 * Runs the same training (the default network, envs and horizon) as whole
 * `dshq train` runs and reads their summaries:
 *
 * Every variant runs under mpirun --bind-to none (the local ones as one rank
 * without --mpi), so that only the transport differs.
 *
 *  A. two rollout workers, three ways: both local (shared memory only); one
 *     local + one on rank 1 through Open MPI's shared-memory transport
 *     (vader); the same through TCP on loopback (--mca btl tcp,self).
 *     Chunks consumed per second and env steps trained per second, as ratios
 *     to shared memory only.
 *  B. the trainer's updates/s with one local worker alone, then with 1 and 2
 *     remote ranks (one worker each) added.
 *
 * Every figure is the median of REPEATS runs, interleaved so that a load
 * change on a shared machine hits every variant alike.  Also printed: the
 * message sizes of this configuration (a chunk, a weights message) and the
 * bytes per env step, the numbers behind docs/scale-out.md's link budget.
 * Needs mpirun (openmpi-bin) and a dshq built with Open MPI; DSHQ names the
 * dshq binary (default build/dshq). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dshq/chunk.h"
#include "rl/env.h"
#include "rl/mlp.h"
#include "run/config.h"

struct result {
    double steps, updates, seconds, chunks, mib_remote;
    int ok;
};

static const char *dshq(void)
{
    const char *p = getenv("DSHQ");
    return p ? p : "build/dshq";
}

/* Lanes deep enough that no variant is limited by how far its workers may
 * run ahead of the trainer: a remote rank has its own lanes, 4 chunks in
 * flight and its lane at rank 0, so with the default 2 slots it would
 * overlap collection and training where local workers cannot. */
static int lane_slots = 8;

static struct result run_one(const char *prefix, const char *args, int seconds, int tag)
{
    struct result r = {0};
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s %s train --run bench-scaleout-%d-%d --seconds %d --eval-episodes 0 --quiet "
             "--checkpoint-dir /tmp/bench-scaleout-%d --lane-slots %d %s 2>&1",
             prefix, dshq(), (int)getpid(), tag, seconds, (int)getpid(), lane_slots, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return r;
    char line[1024];
    unsigned long long u;
    double d;
    while (fgets(line, sizeof line, p)) {
        if (sscanf(line, "  env steps trained %lf", &d) == 1)
            r.steps = d;
        else if (sscanf(line, "  updates %llu", &u) == 1)
            r.updates = (double)u;
        else if (sscanf(line, "  training time %lf s", &d) == 1)
            r.seconds = d;
        else if (sscanf(line, "  chunks consumed %lf", &d) == 1)
            r.chunks = d;
        const char *m = strstr(line, ": chunks ");
        if (!strncmp(line, "  rank ", 7) && m && sscanf(m, ": chunks %*u (%lf MiB)", &d) == 1)
            r.mib_remote += d;
    }
    r.ok = pclose(p) == 0 && r.seconds > 0 && r.updates > 0;
    if (!r.ok)
        fprintf(stderr, "scaleout: failed: %s\n", cmd);
    return r;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 6, reps = argc > 2 ? atoi(argv[2]) : 3;
    if (argc > 3)
        lane_slots = atoi(argv[3]);
    if (seconds < 1 || reps < 1 || reps > 15) {
        fprintf(stderr, "usage: scaleout [SECONDS [REPEATS]]\n");
        return 2;
    }
    if (system("command -v mpirun >/dev/null 2>&1") != 0) {
        printf("scaleout: no mpirun (install openmpi-bin libopenmpi-dev): nothing measured\n");
        return 0;
    }
    const char *root = getuid() == 0 ? " --allow-run-as-root" : "";
    /* Every variant runs under mpirun, unbound (mpirun binds a rank to a
     * core by default), so that only the transport differs. */
    char mpi1[256], mpi2[256], mpi2tcp[256], mpi3[256];
    snprintf(mpi1, sizeof mpi1, "mpirun --oversubscribe --bind-to none%s -np 1", root);
    snprintf(mpi2, sizeof mpi2, "mpirun --oversubscribe --bind-to none%s -np 2", root);
    snprintf(mpi2tcp, sizeof mpi2tcp,
             "mpirun --oversubscribe --bind-to none%s -np 2 --mca btl tcp,self", root);
    snprintf(mpi3, sizeof mpi3, "mpirun --oversubscribe --bind-to none%s -np 3", root);

    /* Message sizes of the default configuration. */
    struct run_config c;
    run_config_default(&c);
    struct dshq_chunk_layout l;
    dshq_chunk_layout_init(&l, c.horizon, c.envs, BD_OBS_DIM, 0);
    struct rl_mlp net;
    int h[RL_MLP_MAX_HIDDEN];
    for (uint32_t i = 0; i < c.layers; i++)
        h[i] = (int)c.hidden;
    rl_mlp_init(&net, BD_OBS_DIM, BD_NUM_ACTIONS, h, (int)c.layers);
    printf("scaleout: defaults: %u envs x %u steps per chunk, network %ux%u (%d params)\n", c.envs,
           c.horizon, c.hidden, c.layers, (int)net.n_params);
    printf("  chunk message      %llu bytes (+ a 192-byte envelope) = %.1f bytes per env step\n",
           (unsigned long long)l.bytes, (double)l.bytes / (c.horizon * c.envs));
    printf("  weights message    %llu bytes per version per remote rank\n",
           (unsigned long long)(64 + 4 * net.n_params));
    printf("  %d s per run, --lane-slots %d, median of %d (this machine is shared and loaded: "
           "ratios are the figures to read)\n\n", seconds, lane_slots, reps);

    enum { LOCAL2, MPI_SHM, MPI_TCP, LOCAL1, REMOTE1, REMOTE2, NV };
    const char *name[NV] = {"2 local workers (shared memory only)",
                            "1 local + 1 on rank 1, MPI over shared memory",
                            "1 local + 1 on rank 1, MPI over TCP loopback",
                            "1 local worker, no remote rank",
                            "1 local + 1 remote rank (1 worker)",
                            "1 local + 2 remote ranks (1 worker each)"};
    const char *prefix[NV] = {mpi1, mpi2, mpi2tcp, mpi1, mpi2, mpi3};
    const char *args[NV] = {"--workers 2", "--mpi --workers 1", "--mpi --workers 1",
                            "--workers 1", "--mpi --workers 1", "--mpi --workers 1"};
    double chunks[NV][16], steps[NV][16], upd[NV][16], mib[NV][16];
    int tag = 0;
    for (int k = 0; k < reps; k++) {
        for (int v = 0; v < NV; v++) {
            struct result r = run_one(prefix[v], args[v], seconds, tag++);
            if (!r.ok)
                return 1;
            chunks[v][k] = r.chunks / r.seconds;
            steps[v][k] = r.steps / r.seconds;
            upd[v][k] = r.updates / r.seconds;
            mib[v][k] = r.mib_remote / r.seconds;
        }
    }
    double mc[NV], ms[NV], mu[NV], mm[NV];
    for (int v = 0; v < NV; v++) {
        mc[v] = median(chunks[v], reps);
        ms[v] = median(steps[v], reps);
        mu[v] = median(upd[v], reps);
        mm[v] = median(mib[v], reps);
    }
    printf("A. two workers, three transports      chunks/s   ratio   env steps/s trained   "
           "ratio   remote MiB/s\n");
    for (int v = LOCAL2; v <= MPI_TCP; v++)
        printf("  %-46s %8.1f   %5.2f   %19.0f   %5.2f   %8.1f\n", name[v], mc[v], mc[v] / mc[LOCAL2],
               ms[v], ms[v] / ms[LOCAL2], mm[v]);
    printf("\nB. trainer updates/s                     updates/s   ratio   env steps/s trained\n");
    for (int v = LOCAL1; v <= REMOTE2; v++)
        printf("  %-46s %8.2f   %5.2f   %19.0f\n", name[v], mu[v], mu[v] / mu[LOCAL1], ms[v]);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf /tmp/bench-scaleout-%d", (int)getpid());
    if (system(rm) != 0)
        return 1;
    return 0;
}
