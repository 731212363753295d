/* launch.c — `dshq train` (multi-process): creates the run's region with the
 * config in its run block, forks the trainer, N rollout workers and
 * optionally the show, supervises them, and prints a summary at the end.
 *
 * Supervision (the policy is run_supervise_exit in src/run/supervise.c): a
 * worker that dies while the run is going is restarted on its own lane (the
 * lane and its weights reader slot are reclaimed from the dead process),
 * unless it is crash-looping (more than RUN_WORKER_MAX_RESTARTS deaths within
 * RUN_RESTART_WINDOW_S seconds).  A worker whose heartbeat is older than
 * RUN_WORKER_STALL_S seconds (hung, SIGSTOPped) is killed, so restarted.
 * Every child gets SIGTERM when the launcher dies (parent-death signal).
 * The exit code and the summary tell the truth: 0 and "finished" only when
 * the trainer ended its budget (or a `ctl stop`) cleanly.  The trainer ending, the show quitting (q),
 * or Ctrl-C / SIGTERM to any process of the run raises the run's stop flag:
 * every role finishes its step and returns, the trainer writes its
 * checkpoint.  The region is removed at the end unless --keep. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/host.h"
#include "cli/train.h"
#include "mpi/mpi_host.h"
#include "cli/util.h"
#include "rl/train_loop.h"
#include "run/checkpoint.h"
#include "run/metrics.h"
#include "run/roles.h"

/* Settings a resumed run takes from its checkpoint unless given explicitly
 * (the architecture must match: a conflicting --hidden/--layers is refused). */
static const char *const resume_keys[] = {
    "hidden", "layers", "seed", "opponent", "lr", "lr-end", "gamma", "lambda", "clip",
    "vf-coef", "ent-coef", "max-grad-norm", "epochs", "minibatches", "shaping", "shaping-end",
    "max-goals", "self-play", "self-play-end",
};

static int key_index(const char *name)
{
    for (size_t i = 0; i < run_config_key_count; i++)
        if (!strcmp(run_config_keys[i].name, name))
            return (int)i;
    return -1;
}

/* --resume: reads the checkpoint's header and settings, takes what it must,
 * refuses a conflicting architecture.  0 or an exit code. */
int train_apply_resume(struct train_args *a, struct run_start *start)
{
    struct ckpt_meta *meta = calloc(1, sizeof *meta);
    char err[512];
    if (!meta)
        return 1;
    if (ckpt_read_meta(a->resume, meta, err, sizeof err)) {
        fprintf(stderr, "dshq train: cannot resume from %s: %s\n", a->resume, err);
        free(meta);
        return 1;
    }
    struct run_config ck;
    run_config_default(&ck);
    int d, h, l, n;
    if (run_arch_parse(meta->arch, &d, &h, &l, &n) || d != BD_OBS_DIM || n != BD_NUM_ACTIONS) {
        fprintf(stderr, "dshq train: %s: architecture '%s' is not a Ball Drill policy of this "
                        "version\n", a->resume, meta->arch);
        free(meta);
        return 1;
    }
    ck.hidden = (uint32_t)h;
    ck.layers = (uint32_t)l;
    if (meta->config_len &&
        run_config_parse(&ck, meta->config, a->resume, NULL, err, sizeof err)) {
        fprintf(stderr, "dshq train: %s: its stored settings do not parse: %s\n", a->resume,
                err);
        free(meta);
        return 1;
    }
    /* The stored settings must agree with the architecture string. */
    ck.hidden = (uint32_t)h;
    ck.layers = (uint32_t)l;
    int hi = key_index("hidden"), li = key_index("layers");
    int bad_h = a->seen[hi] && a->cfg.hidden != ck.hidden;
    int bad_l = a->seen[li] && a->cfg.layers != ck.layers;
    if (bad_h || bad_l) {
        char asked[64] = "";
        if (bad_h)
            snprintf(asked, sizeof asked, "--hidden %u", a->cfg.hidden);
        if (bad_l)
            snprintf(asked + strlen(asked), sizeof asked - strlen(asked), "%s--layers %u",
                     bad_h ? " " : "", a->cfg.layers);
        fprintf(stderr, "dshq train: --resume %s: the checkpoint's network is %u wide x %u "
                        "layers, but %s was asked for\n"
                        "  hint: drop %s to continue that network, or start a fresh run "
                        "without --resume\n",
                a->resume, ck.hidden, ck.layers, asked, bad_h && bad_l ? "them" : "it");
        free(meta);
        return 2;
    }
    char taken[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof resume_keys / sizeof resume_keys[0]; i++) {
        int k = key_index(resume_keys[i]);
        if (k < 0 || a->seen[k])
            continue;
        if (!meta->config_len && strcmp(resume_keys[i], "hidden") && strcmp(resume_keys[i], "layers"))
            continue; /* an older checkpoint stores only its architecture */
        const struct run_config_key *key = &run_config_keys[k];
        size_t sz = key->type == RUN_KEY_U64 || key->type == RUN_KEY_F64 ? 8 : 4;
        memcpy((unsigned char *)&a->cfg + key->offset, (unsigned char *)&ck + key->offset, sz);
        if (!strcmp(resume_keys[i], "shaping"))
            a->cfg.approach = ck.approach;
        char v[64];
        run_config_format(&a->cfg, key, v, sizeof v);
        used += (size_t)snprintf(taken + used, used < sizeof taken ? sizeof taken - used : 0,
                                 " %s=%s", key->name, v);
    }
    if (!a->quiet && !a->print_config)
        printf("dshq train: resuming %s (%llu updates, weights version %llu); from the "
               "checkpoint:%s%s\n",
               a->resume, (unsigned long long)meta->updates,
               (unsigned long long)meta->weights_version, taken,
               meta->config_len ? "" : " (an older checkpoint: only its architecture)");
    start->version_base = meta->weights_version ? meta->weights_version - 1 : 0;
    start->updates_base = meta->updates;
    free(meta);
    return 0;
}

static int final_eval(const struct run *run, const float *params, int episodes, int opponent,
                      struct rl_eval_result *r)
{
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_goals = run->cfg.max_goals;
    return rl_evaluate(&run->net, params, opponent, episodes, 0, &ec, 12345, r);
}

int train_launch(struct train_args *a, const struct run_start *start)
{
    int rc;
    if (a->checkpoint_dir && mkdir(a->checkpoint_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "dshq train: cannot create %s: %s\n", a->checkpoint_dir, strerror(errno));
        return 1;
    }
    /* --mpi (src/mpi): rank 0 gets a lane per remote rank; the others fork
     * no trainer and forward their chunks.  n_local: workers forked here. */
    static struct mpi_plan mp;
    uint32_t n_local = a->cfg.workers;
    if (a->mpi) {
        if ((rc = mpi_host_plan(a, &mp)))
            return rc;
        n_local = mp.n_local;
    }
    const int remote_rank = a->mpi && mp.rank > 0;
    static struct run run;
    rc = run_create(&run, a->run_name, &a->cfg, start);
    if (rc == -EEXIST) {
        char name[80];
        snprintf(name, sizeof name, RUN_REGION_PREFIX "%s", a->run_name);
        struct dshq_region *old;
        int dead = 0;
        if (dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &old) == 0) {
            dead = dshq_region_creator_state(old) == DSHQ_CREATOR_DEAD;
            dshq_region_detach(old);
        }
        if (!dead) {
            fprintf(stderr, "dshq train: a run named '%s' is already going (/dev/shm/%s)\n"
                            "  hint: pick another --run NAME, or stop it ('dshq ctl %s stop')\n",
                    a->run_name, name, a->run_name);
            return 1;
        }
        fprintf(stderr, "dshq train: replacing the stale region /dev/shm/%s (its creator died)\n",
                name);
        dshq_region_unlink(name);
        rc = run_create(&run, a->run_name, &a->cfg, start);
    }
    if (rc)
        return cli_fail("train", "cannot create the run's region", rc);
    host_install_signals(run.blk);
    const struct run_config *c = &run.cfg;
    if (!a->quiet && !a->show)
        printf("dshq train: run '%s' (/dev/shm/%s, %.1f MiB): %u worker%s x %u envs x %u steps "
               "per chunk, network %ux%u, %s over %s (%s when full)%s\n",
               a->run_name, run.region_name, (double)dshq_region_size(run.region) / (1 << 20),
               c->workers, c->workers == 1 ? "" : "s", c->envs, c->horizon, c->hidden,
               c->layers, c->updates ? "by updates" : "by time",
               c->transport == RUN_TRANSPORT_MPSC ? "one MPSC ring" : "lanes",
               c->when_full == RUN_FULL_DROP ? "drop" : "block",
               c->deterministic ? ", deterministic" : "");
    fflush(stdout);

    char ckpt_path[4096];
    snprintf(ckpt_path, sizeof ckpt_path, "%s/%s.dshq", a->checkpoint_dir ? a->checkpoint_dir : ".",
             a->run_name);
    struct trainer_opts to = {.checkpoint_path = a->checkpoint_dir ? ckpt_path : NULL,
                              .resume = a->resume, .metrics_path = a->metrics,
                              .run_label = a->run_name,
                              .checkpoint_every_s = a->checkpoint_every,
                              .quiet = a->quiet || a->show,
                              .verify_chunks = a->verify_chunks};
    host_chaos_from_env();
    /* --external-trainer: the trainer's place is left to a program that
     * attaches to the region (python/dshq, examples/torch_ppo.py). */
    pid_t trainer = (remote_rank || a->external_trainer) ? -1 : host_spawn_trainer(&run, &to);
    if (a->external_trainer && !remote_rank)
        printf("dshq train: no C trainer: the workers wait for weights from an external trainer\n"
               "  e.g.  python3 examples/torch_ppo.py %s\n", a->run_name);
    fflush(stdout);
    pid_t workers[RUN_MAX_WORKERS];
    static struct run_restarts restarts[RUN_MAX_WORKERS];
    memset(restarts, 0, sizeof restarts);
    uint32_t stalls = 0;
    int crash_loop = 0;
    for (uint32_t i = 0; i < n_local; i++)
        workers[i] = host_spawn_worker(&run, i, 0);
    pid_t show = -1;
    if (a->show) {
        fflush(NULL);
        show = fork();
        if (show == 0 && host_child_setup() == 0)
            _exit(show_host(&run, !isatty(STDOUT_FILENO), 0, NULL, c->seed, 0, NULL));
    }

    struct dshq_telemetry *tel = NULL;
    int beat = -1;
    if (dshq_telemetry_attach(run.telemetry_mem, run.telemetry_size, 0, &tel) == 0)
        beat = dshq_telemetry_register(tel, METRICS_ROLE_LAUNCHER, 0);
    int trainer_code = a->external_trainer ? 0 : -1;
    int alive = (trainer > 0) + (int)n_local + (show > 0);
    if (a->mpi && mpi_host_start(&run, &mp))
        run_stop(run.blk);
    uint64_t stop_at = 0, last_stall_check = dshq_now_ns(), last_tick = dshq_now_ns();
    /* The launcher's own watch over --seconds (its private copy of the
     * config): training time, pauses excluded, past the budget plus a grace
     * stops the run, whatever the shared run block says. */
    double trained_s = 0;
    const double budget_s = c->seconds > 0 ? c->seconds + (c->seconds / 2 > 60 ? c->seconds / 2 : 60)
                                           : 0;
    int overran = 0;
    while (alive > 0) {
        uint64_t tnow = dshq_now_ns();
        /* Relaxed: a lone flag. */
        if (run_state(&run) == RUN_RUNNING &&
            !atomic_load_explicit(&run.blk->paused, memory_order_relaxed))
            trained_s += (double)(tnow - last_tick) / 1e9;
        last_tick = tnow;
        if (budget_s > 0 && trained_s > budget_s && !run_stopping(&run)) {
            fprintf(stderr, "dshq train: the run is %.0f s past its --seconds %.0f budget; "
                            "stopping it\n", trained_s - c->seconds, c->seconds);
            overran = 1;
            run_stop(run.blk);
        }
        /* Stalled workers: a heartbeat older than RUN_WORKER_STALL_S while
         * the run goes (relaxed: a lone flag) is killed, then restarted. */
        if (!run_stopping(&run) && dshq_now_ns() - last_stall_check > 1000000000ull &&
            !atomic_load_explicit(&run.blk->paused, memory_order_relaxed)) {
            last_stall_check = dshq_now_ns();
            struct dshq_heartbeat hb[RUN_MAX_WORKERS + 16];
            int nb = dshq_telemetry_heartbeats(run.telemetry_mem, run.telemetry_size, hb,
                                               RUN_MAX_WORKERS + 16);
            for (int k = 0; k < nb; k++)
                if (hb[k].role == METRICS_ROLE_WORKER && hb[k].index < n_local &&
                    hb[k].pid == workers[hb[k].index] && hb[k].alive == DSHQ_CREATOR_ALIVE &&
                    hb[k].age_ns > (uint64_t)RUN_WORKER_STALL_S * 1000000000ull) {
                    fprintf(stderr, "dshq train: worker %u (pid %d) stalled: no heartbeat for "
                                    "%.1f s; killing it\n",
                            hb[k].index, hb[k].pid, (double)hb[k].age_ns / 1e9);
                    kill(hb[k].pid, SIGKILL);
                    stalls++;
                }
        }
        if (beat >= 0)
            dshq_telemetry_beat(tel, beat);
        dshq_region_heartbeat(run.region);
        if (run_stopping(&run) && !stop_at)
            stop_at = dshq_now_ns();
        if (stop_at && dshq_now_ns() - stop_at > 15000000000ull) {
            fprintf(stderr, "dshq train: processes did not stop within 15 s; killing them\n");
            if (trainer > 0)
                kill(trainer, SIGKILL);
            for (uint32_t i = 0; i < n_local; i++)
                kill(workers[i], SIGKILL);
            if (show > 0)
                kill(show, SIGKILL);
            stop_at = dshq_now_ns();
        }
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0) {
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
            continue;
        }
        alive--;
        if (pid > 0 && (pid == trainer || pid == show)) {
            if (pid == trainer)
                trainer_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            if (run_supervise_exit(&run, pid == trainer ? -1 : -2, 0) == RUN_ACTION_STOP_RUN)
                run_stop(run.blk);
            continue;
        }
        for (uint32_t i = 0; i < n_local; i++) {
            if (workers[i] != pid)
                continue;
            uint32_t recent = run_stopping(&run) ? 0 : run_restarts_note(&restarts[i], dshq_now_ns());
            switch (run_supervise_exit(&run, (int)i, recent)) {
            case RUN_ACTION_STOP_RUN:
                fprintf(stderr, "dshq train: worker %u died %u times within %d s; stopping the "
                                "run (see the messages above)\n", i, recent, RUN_RESTART_WINDOW_S);
                crash_loop = 1;
                run_stop(run.blk);
                break;
            case RUN_ACTION_RESTART:
                fprintf(stderr, "dshq train: worker %u (pid %d) %s %d; restarting it on lane %u\n",
                        i, (int)pid, WIFSIGNALED(st) ? "killed by signal" : "exited with",
                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), i);
                workers[i] = host_spawn_worker(&run, i, (uint32_t)restarts[i].total);
                alive++;
                break;
            default:
                break;
            }
        }
    }
    if (tel) {
        if (beat >= 0)
            dshq_telemetry_unregister(tel, beat);
        dshq_telemetry_detach(tel);
    }
    int mpi_code = a->mpi ? mpi_host_finish(&run, &mp) : 0;
    if (remote_rank) {
        host_install_signals(NULL);
        run_destroy(&run);
        return mpi_code;
    }

    /* Summary: counters from the telemetry, final weights from the channel. */
    struct metrics m;
    metrics_init(&m);
    int trc = dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(), &m,
                                  sizeof m, NULL);
    int tel_ok = trc == (int)sizeof m;
    float *params = rl_mlp_alloc(&run.net);
    struct dshq_weights *wch = NULL;
    int have_params = params && dshq_weights_open(run.weights_mem, run.weights_size, &wch) == 0 &&
                      dshq_weights_copy_out(wch, run.net.shape_hash, params, run.net.n_params,
                                            NULL) == 0;
    if (wch)
        dshq_weights_close(wch);
    struct dshq_ring_stats rs = {0};
    run_rollouts_stats(&run, &rs);
    /* Relaxed: the roles have ended. */
    const struct run_faults *fl = &run.blk->faults;
    int failed = atomic_load_explicit(&fl->failed, memory_order_relaxed) != 0;
    char why[160] = "";
    if (trainer_code > 128)
        snprintf(why, sizeof why, "the trainer was killed by signal %d", trainer_code - 128);
    else if (trainer_code != 0 || failed)
        snprintf(why, sizeof why, "the trainer failed (exit %d; see its message above)",
                 trainer_code);
    else if (overran)
        snprintf(why, sizeof why, "it overran its --seconds budget");
    else if (crash_loop)
        snprintf(why, sizeof why, "a worker was crash-looping");
    else if (host_interrupted)
        snprintf(why, sizeof why, "interrupted by a signal");
    else if (mpi_code)
        snprintf(why, sizeof why, "the MPI ranks did not finish cleanly (see above)");
    else if (!tel_ok)
        snprintf(why, sizeof why, "its telemetry is unreadable (%s)", dshq_strerror(trc));
    int ok = why[0] == 0;
    if (ok)
        printf("\n== run '%s' finished ==\n", a->run_name);
    else
        printf("\n== run '%s' stopped: %s ==\n", a->run_name, why);
    if (tel_ok && isfinite(m.wall_s)) {
        printf("  env steps trained   %llu\n", (unsigned long long)m.steps);
        printf("  updates             %llu (weights version %llu)\n",
               (unsigned long long)m.updates, (unsigned long long)m.weights_version);
        printf("  training time       %.1f s, %.0f env steps/s at the end\n", m.wall_s,
               m.steps_per_s);
        printf("  chunks consumed     %llu, dropped for lag %llu, dropped full %llu\n",
               (unsigned long long)m.chunks_consumed, (unsigned long long)m.chunks_dropped_lag,
               (unsigned long long)rs.dropped);
    } else {
        printf("  telemetry           unreadable: %s; no counters to report\n",
               tel_ok ? "training time is not a number" : dshq_strerror(trc));
        ok = 0;
    }
    uint64_t refused_total = atomic_load_explicit(&fl->chunks_refused, memory_order_relaxed);
    uint64_t verified = atomic_load_explicit(&fl->chunks_verified, memory_order_relaxed);
    uint64_t skipped = atomic_load_explicit(&fl->updates_skipped, memory_order_relaxed);
    if (refused_total || verified || skipped) {
        printf("  chunks refused      %llu", (unsigned long long)refused_total);
        const char *sep = " (";
        for (uint32_t i = 0; i < c->workers; i++) {
            uint64_t r = atomic_load_explicit(&fl->refused[i], memory_order_relaxed);
            if (r) {
                printf("%sworker %u: %llu", sep, i, (unsigned long long)r);
                sep = ", ";
            }
        }
        uint64_t unk = atomic_load_explicit(&fl->refused_unknown, memory_order_relaxed);
        if (unk)
            printf("%sno worker: %llu", sep, (unsigned long long)unk);
        printf("%s; verified %llu; updates skipped (not finite) %llu\n",
               strcmp(sep, ", ") ? "" : ")", (unsigned long long)verified,
               (unsigned long long)skipped);
    }
    /* Relaxed: the roles have ended. */
    uint64_t refused = atomic_load_explicit(&run.blk->ctl_refused, memory_order_relaxed);
    if (refused)
        printf("  control refused     %llu message%s (out of range)\n",
               (unsigned long long)refused, refused == 1 ? "" : "s");
    uint64_t total_restarts = 0;
    for (uint32_t i = 0; i < n_local; i++)
        total_restarts += restarts[i].total;
    if (total_restarts || stalls)
        printf("  worker restarts     %llu (%u stalled)\n", (unsigned long long)total_restarts,
               stalls);
    if (have_params && a->eval_episodes > 0) {
        for (int k = RL_OPP_RANDOM; k <= RL_OPP_SCRIPTED; k++) {
            struct rl_eval_result r;
            if (final_eval(&run, params, a->eval_episodes, k, &r) == 0)
                printf("  vs %-9s         wins %5.1f%%  draws %5.1f%%  losses %5.1f%%  "
                       "(%d episodes)\n",
                       rl_opponent_name(k), 100.0 * r.wins / r.episodes,
                       100.0 * r.draws / r.episodes, 100.0 * r.losses / r.episodes, r.episodes);
        }
    }
    /* Name the checkpoint only if this run wrote it. */
    uint64_t ckpts = atomic_load_explicit(&fl->checkpoints, memory_order_relaxed);
    if (a->checkpoint_dir && ckpts)
        printf("  checkpoint          %s (%s)\n", ckpt_path,
               ok ? "final" : "the last good one this run wrote");
    else if (a->checkpoint_dir)
        printf("  checkpoint          none written by this run\n");
    free(params);
    if (a->keep)
        printf("  region kept         /dev/shm/%s (remove with 'dshq rm %s')\n", run.region_name,
               a->run_name);
    host_install_signals(NULL); /* the run block goes away: signals must not touch it */
    if (a->keep)
        run_detach(&run);
    else
        run_destroy(&run);
    if (ok && mpi_code == 0)
        return 0;
    return host_interrupted && !trainer_code && !failed && mpi_code == 0 ? 130 : 1;
}
