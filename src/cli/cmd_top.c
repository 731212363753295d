/* cmd_top.c — 'dshq top RUN': a running training's telemetry, live. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/host.h"
#include "cli/util.h"
#include "run/chunk_rollout.h"
#include "mpi/mpi_stats.h"
#include "run/metrics.h"

static void top_print(FILE *f, const struct run *run, const struct metrics *m, int ansi)
{
    struct dshq_heartbeat hb[64];
    int n = dshq_telemetry_heartbeats(run->telemetry_mem, run->telemetry_size, hb, 64);
    if (ansi)
        fputs("\033[H\033[2J", f);
    fprintf(f, "run %-20s  %8.1fs  state %s%s\n", run->region_name, m->wall_s,
            run_state(run) == RUN_RUNNING ? "running" : run_state(run) == RUN_STOPPING ? "stopping"
                                                                                     : "starting",
            m->paused ? " (PAUSED)" : "");
    fprintf(f, "  steps/s %10.0f   updates/s %6.2f   steps %llu   updates %llu\n", m->steps_per_s,
            m->updates_per_s, (unsigned long long)m->steps, (unsigned long long)m->updates);
    fprintf(f, "  loss: policy %+.4f  value %.4f  entropy %.3f   approx KL %.4f  clip %.3f  "
               "expl.var %.3f\n",
            m->policy_loss, m->value_loss, m->entropy, m->approx_kl, m->clip_fraction,
            m->explained_variance);
    fprintf(f, "  mean return %+.3f   score EMA %.1f%% (vs %s; wins 1, draws 1/2)   episode length %.0f\n",
            m->mean_return, m->score_ema * 100, metrics_opponent_name(m->opponent),
            m->episode_length);
    /* Wins, draws and losses since the start, all opponents (relaxed: counters). */
    uint64_t eps = 0, wins = 0, losses = 0;
    for (uint32_t i = 0; i < run->cfg.workers; i++)
        for (int k = 0; k < 3; k++) {
            eps += atomic_load_explicit(&run->blk->worker[i].episodes[k], memory_order_relaxed);
            wins += atomic_load_explicit(&run->blk->worker[i].wins[k], memory_order_relaxed);
            losses += atomic_load_explicit(&run->blk->worker[i].losses[k], memory_order_relaxed);
        }
    if (eps && wins + losses <= eps)
        fprintf(f, "  episodes %llu: wins %.1f%%  draws %.1f%%  losses %.1f%%  (all opponents)\n",
                (unsigned long long)eps, 100.0 * (double)wins / (double)eps,
                100.0 * (double)(eps - wins - losses) / (double)eps,
                100.0 * (double)losses / (double)eps);
    fprintf(f, "  weights v%llu   policy lag min/mean/max %llu/%.2f/%llu   dropped: lag %llu, "
               "full %llu\n",
            (unsigned long long)m->weights_version, (unsigned long long)m->policy_lag_min,
            m->policy_lag_mean, (unsigned long long)m->policy_lag_max,
            (unsigned long long)m->chunks_dropped_lag, (unsigned long long)m->chunks_dropped_full);
    /* What the trainer refused (relaxed: counters of the trainer). */
    const struct run_faults *fl = &run->blk->faults;
    uint64_t refused = atomic_load_explicit(&fl->chunks_refused, memory_order_relaxed);
    uint64_t verified = atomic_load_explicit(&fl->chunks_verified, memory_order_relaxed);
    uint64_t skipped = atomic_load_explicit(&fl->updates_skipped, memory_order_relaxed);
    uint32_t reason = atomic_load_explicit(&fl->last_reason, memory_order_relaxed);
    fprintf(f, "  faults: chunks refused %llu", (unsigned long long)refused);
    for (uint32_t i = 0; i < run->cfg.workers; i++) {
        uint64_t r = atomic_load_explicit(&fl->refused[i], memory_order_relaxed);
        if (r)
            fprintf(f, "  w%u:%llu", i, (unsigned long long)r);
    }
    uint64_t unk = atomic_load_explicit(&fl->refused_unknown, memory_order_relaxed);
    if (unk)
        fprintf(f, "  unknown:%llu", (unsigned long long)unk);
    if (refused)
        fprintf(f, " (last: %s)", run_chunk_fault_name((int)reason));
    fprintf(f, "   verified %llu%s   updates skipped %llu%s\n", (unsigned long long)verified,
            atomic_load_explicit(&fl->verify, memory_order_relaxed) ? "" : " (verify off)",
            (unsigned long long)skipped,
            atomic_load_explicit(&fl->failed, memory_order_relaxed) ? "   TRAINER FAILED" : "");
    mpi_stats_print(f, run->region_name); /* --mpi: one line per remote rank */
    fprintf(f, "  heartbeats:");
    for (int i = 0; i < n; i++) {
        int stalled = hb[i].role == METRICS_ROLE_WORKER && hb[i].alive == DSHQ_CREATOR_ALIVE &&
                      !m->paused && hb[i].age_ns > (uint64_t)RUN_WORKER_STALL_SHOW_S * 1000000000ull;
        int gone = hb[i].role == METRICS_ROLE_TRAINER && hb[i].alive != DSHQ_CREATOR_ALIVE;
        fprintf(f, "  %s%u(%d) %.1fs%s", metrics_role_name(hb[i].role), hb[i].index, hb[i].pid,
                (double)hb[i].age_ns / 1e9,
                gone ? " GONE" : hb[i].alive == DSHQ_CREATOR_ALIVE ? (stalled ? " STALLED" : "")
                                                                   : " DEAD");
    }
    fprintf(f, "\n");
    fflush(f);
}

int cmd_top(int argc, char **argv)
{
    const char *name = NULL;
    double seconds = 0;
    int once = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: dshq top [--once] [--seconds S] RUN\n\n"
                   "Shows a running training's telemetry twice a second: steps/s, updates/s,\n"
                   "losses, approx KL, clip fraction, mean return, score EMA, episode\n"
                   "length, weights version, policy lag, dropped chunks and the heartbeat age\n"
                   "of every process.  Read-only.  --once prints one sample and exits.\n");
            return 0;
        } else if (!strcmp(argv[i], "--once"))
            once = 1;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = cli_parse_double("top", "--seconds", argv[++i], 0, 1e9);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "dshq top: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        } else
            name = argv[i];
    }
    if (!name) {
        fprintf(stderr, "usage: dshq top RUN   (see --help)\n");
        return 2;
    }
    struct run run;
    if (cli_attach_run("top", &run, name, DSHQ_ATTACH_RDONLY))
        return 1;
    host_install_signals(NULL);
    int ansi = isatty(STDOUT_FILENO) && !once;
    uint64_t start = dshq_now_ns();
    int code = 0;
    while (!host_interrupted) {
        struct metrics m;
        int rc = dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(),
                                     &m, sizeof m, NULL);
        if (rc == (int)sizeof m)
            top_print(stdout, &run, &m, ansi);
        else if (rc == -ENODATA)
            printf("run %s: no telemetry yet (starting)\n", run.region_name);
        else {
            code = cli_fail("top", "telemetry", rc);
            break;
        }
        if (once || (seconds > 0 && (double)(dshq_now_ns() - start) / 1e9 >= seconds))
            break;
        if (run_state(&run) == RUN_STOPPING && dshq_region_creator_state(run.region) ==
                                                   DSHQ_CREATOR_DEAD) {
            printf("run %s has ended\n", run.region_name);
            break;
        }
        struct timespec ts = {0, 500000000};
        nanosleep(&ts, NULL);
    }
    run_detach(&run);
    return code;
}

