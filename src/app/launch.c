/* launch.c — `dshq train` (multi-process): creates the run's region, starts
 * the trainer, N rollout workers and optionally the show, supervises them,
 * and prints a summary at the end.
 *
 * Supervision: a worker that dies while the run is going is restarted on its
 * own lane (the lane and its weights reader slot are reclaimed from the dead
 * process).  The trainer ending, the show quitting (q), or Ctrl-C stops the
 * run: the state word goes to STOPPING, every process finishes its step and
 * exits, the trainer writes its checkpoint.  The region is removed at the end
 * unless --keep. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/checkpoint.h"
#include "app/commands.h"
#include "app/metrics.h"
#include "app/procs.h"
#include "app/util.h"
#include "rl/train_loop.h"

volatile sig_atomic_t procs_stop;

static void on_signal(int sig)
{
    (void)sig;
    procs_stop = 1;
}

void procs_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

struct launch_opts {
    struct run_params p;
    int show, keep, quiet, eval_episodes;
    const char *checkpoint_dir, *resume, *metrics;
};

static void launch_usage(FILE *f)
{
    fprintf(f,
        "usage: dshq train [--run NAME] [--workers N] [--envs E] [--horizon T]\n"
        "                  [--seconds S | --updates U] [--show] [--seed S]\n"
        "                  [--checkpoint-dir D] [--resume FILE] [--metrics FILE.jsonl]\n"
        "                  [--keep] [--max-lag L] [--quiet]\n"
        "       dshq train --single-process ...   (the one-process reference loop; see\n"
        "                                           'dshq train --single-process --help')\n\n"
        "Trains the Ball Drill policy with PPO: N rollout worker processes play\n"
        "matches and write experience into shared-memory lanes; the trainer learns\n"
        "from it in place and publishes each new policy; --show plays a live match\n"
        "in this terminal that hot-swaps every new policy.\n\n"
        "  --run NAME          run name; its region is /dev/shm/dshq-NAME (default 'default')\n"
        "  --workers N         rollout worker processes (default: cores - 1, at least 1)\n"
        "  --envs E            envs per worker (default 64)\n"
        "  --horizon T         steps per chunk (default 128)\n"
        "  --seconds S         training time (default 300)\n"
        "  --updates U         stop after U updates instead\n"
        "  --show              live match in this terminal (q quits and stops training)\n"
        "  --seed S            seed of the run (default 1)\n"
        "  --checkpoint-dir D  checkpoints go to D/NAME.dshq every 5 min and at the end\n"
        "                      (default 'runs')\n"
        "  --resume FILE       continue from a checkpoint (weights, optimizer, counters)\n"
        "  --metrics FILE      append the telemetry as JSON lines (2 per second)\n"
        "  --keep              keep the region after the run (for 'dshq inspect')\n"
        "  --max-lag L         drop chunks made with a policy more than L versions old\n"
        "                      (default 4)\n"
        "  --eval-episodes N   episodes per baseline in the final evaluation (default 200)\n"
        "  --quiet             no progress lines\n\n"
        "While it runs: 'dshq show NAME', 'dshq top NAME', 'dshq inspect NAME' and\n"
        "'dshq ctl NAME pause|resume|stop|set lr X' from another terminal.\n");
}

static int parse(int argc, char **argv, struct launch_opts *o)
{
    memset(o, 0, sizeof *o);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(o->p.name, sizeof o->p.name, "default");
    o->p.workers = cores > 1 ? (uint32_t)(cores - 1) : 1;
    o->p.envs = 64;
    o->p.horizon = 128;
    o->p.hidden = RL_MLP_DEFAULT_HIDDEN;
    o->p.layers = RL_MLP_DEFAULT_LAYERS;
    o->p.max_lag = 4;
    o->p.lane_slots = 2;
    o->p.duration_s = 300;
    o->p.seed = 1;
    o->checkpoint_dir = "runs";
    o->eval_episodes = 200;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL() (i++, v)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            launch_usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--run")) {
            const char *n = VAL();
            if (!n || !*n || strlen(n) >= sizeof o->p.name || strchr(n, '/')) {
                fprintf(stderr, "dshq train: --run needs a name of 1-%zu characters without '/'\n",
                        sizeof o->p.name - 1);
                return 2;
            }
            snprintf(o->p.name, sizeof o->p.name, "%s", n);
        } else if (!strcmp(a, "--workers"))
            /* Each worker holds a weights reader slot; the show and tools need 6. */
            o->p.workers = (uint32_t)app_parse_int("train", a, VAL(), 1, DSHQ_WEIGHTS_MAX_READERS - 6);
        else if (!strcmp(a, "--envs"))
            o->p.envs = (uint32_t)app_parse_int("train", a, VAL(), 1, 65536);
        else if (!strcmp(a, "--horizon"))
            o->p.horizon = (uint32_t)app_parse_int("train", a, VAL(), 2, 4096);
        else if (!strcmp(a, "--seconds")) {
            o->p.duration_s = app_parse_double("train", a, VAL(), 0.1, 1e7);
            o->p.max_updates = 0;
        } else if (!strcmp(a, "--updates")) {
            o->p.max_updates = (uint32_t)app_parse_int("train", a, VAL(), 1, 1000000000);
            o->p.duration_s = 0;
        } else if (!strcmp(a, "--seed"))
            o->p.seed = (uint64_t)app_parse_int("train", a, VAL(), 0, INT64_MAX);
        else if (!strcmp(a, "--max-lag"))
            o->p.max_lag = (uint32_t)app_parse_int("train", a, VAL(), 0, 1000000);
        else if (!strcmp(a, "--hidden"))
            o->p.hidden = (uint32_t)app_parse_int("train", a, VAL(), 8, 512);
        else if (!strcmp(a, "--layers"))
            o->p.layers = (uint32_t)app_parse_int("train", a, VAL(), 1, RL_MLP_MAX_HIDDEN);
        else if (!strcmp(a, "--lane-slots"))
            o->p.lane_slots = (uint32_t)app_parse_int("train", a, VAL(), 2, 64);
        else if (!strcmp(a, "--eval-episodes"))
            o->eval_episodes = (int)app_parse_int("train", a, VAL(), 0, 100000);
        else if (!strcmp(a, "--checkpoint-dir") && v)
            o->checkpoint_dir = VAL();
        else if (!strcmp(a, "--resume") && v)
            o->resume = VAL();
        else if (!strcmp(a, "--metrics") && v)
            o->metrics = VAL();
        else if (!strcmp(a, "--show"))
            o->show = 1;
        else if (!strcmp(a, "--keep"))
            o->keep = 1;
        else if (!strcmp(a, "--quiet"))
            o->quiet = 1;
        else {
            fprintf(stderr, "dshq train: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        }
#undef VAL
    }
    if (o->p.lane_slots & (o->p.lane_slots - 1)) {
        fprintf(stderr, "dshq train: --lane-slots must be a power of two\n");
        return 2;
    }
    return 0;
}

/* Forks a child that runs fn; returns its pid (or -1). */
static pid_t spawn_worker(struct run *run, uint32_t index, uint32_t restart)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(worker_main(run, index, restart));
    return pid;
}

static int final_eval(const struct run *run, const float *params, int episodes, int opponent,
                      struct rl_eval_result *r)
{
    struct rl_train_config tc;
    rl_train_config_default(&tc);
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_goals = (uint32_t)tc.max_goals;
    return rl_evaluate(&run->net, params, opponent, episodes, 0, &ec, 12345, r);
}

int train_launch(int argc, char **argv)
{
    struct launch_opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    if (o.checkpoint_dir && mkdir(o.checkpoint_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "dshq train: cannot create %s: %s\n", o.checkpoint_dir, strerror(errno));
        return 1;
    }
    if (o.resume) {
        struct ckpt_meta meta;
        char err[256];
        if (ckpt_read_meta(o.resume, &meta, err, sizeof err)) {
            fprintf(stderr, "dshq train: cannot resume from %s: %s\n", o.resume, err);
            return 1;
        }
        int d, h, l, a;
        if (run_arch_parse(meta.arch, &d, &h, &l, &a) == 0) {
            o.p.hidden = (uint32_t)h;
            o.p.layers = (uint32_t)l;
        }
    }
    struct run run;
    rc = run_create(&run, &o.p);
    if (rc == -EEXIST) {
        char name[80];
        snprintf(name, sizeof name, APP_REGION_PREFIX "%s", o.p.name);
        struct dshq_region *old;
        int dead = 0;
        if (dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &old) == 0) {
            dead = dshq_region_creator_state(old) == DSHQ_CREATOR_DEAD;
            dshq_region_detach(old);
        }
        if (!dead) {
            fprintf(stderr, "dshq train: a run named '%s' is already going (/dev/shm/%s)\n"
                            "  hint: pick another --run NAME, or stop it ('dshq ctl %s stop')\n",
                    o.p.name, name, o.p.name);
            return 1;
        }
        fprintf(stderr, "dshq train: replacing the stale region /dev/shm/%s (its creator died)\n",
                name);
        dshq_region_unlink(name);
        rc = run_create(&run, &o.p);
    }
    if (rc)
        return app_fail("train", "cannot create the run's region", rc);
    procs_install_signals();
    if (!o.quiet && !o.show)
        printf("dshq train: run '%s' (/dev/shm/%s, %.1f MiB): %u workers x %u envs x %u steps "
               "per chunk, network %ux%u, %s\n",
               o.p.name, run.region_name, (double)dshq_region_size(run.region) / (1 << 20),
               o.p.workers, o.p.envs, o.p.horizon, o.p.hidden, o.p.layers,
               o.p.duration_s > 0 ? "by time" : "by updates");
    fflush(stdout);

    struct trainer_opts to = {.checkpoint_dir = o.checkpoint_dir, .resume = o.resume,
                              .metrics_path = o.metrics, .checkpoint_every_s = 300,
                              .quiet = o.quiet || o.show};
    pid_t trainer = fork();
    if (trainer == 0)
        _exit(trainer_main(&run, &to));
    pid_t workers[RUN_MAX_WORKERS];
    uint32_t restarts[RUN_MAX_WORKERS] = {0};
    for (uint32_t i = 0; i < o.p.workers; i++)
        workers[i] = spawn_worker(&run, i, 0);
    pid_t show = -1;
    if (o.show) {
        fflush(NULL);
        show = fork();
        if (show == 0) {
            struct show_opts so = {.headless = !isatty(STDOUT_FILENO), .seed = o.p.seed};
            _exit(show_main(&run, &so, NULL));
        }
    }

    struct dshq_telemetry *tel = NULL;
    int beat = -1;
    if (dshq_telemetry_attach(run.telemetry_mem, run.telemetry_size, 0, &tel) == 0)
        beat = dshq_telemetry_register(tel, METRICS_ROLE_LAUNCHER, 0);
    int trainer_code = -1, alive = 1 + (int)o.p.workers + (show > 0);
    uint64_t stop_at = 0;
    while (alive > 0) {
        if (beat >= 0)
            dshq_telemetry_beat(tel, beat);
        dshq_region_heartbeat(run.region);
        if (procs_stop && run_state(&run) != RUN_STOPPING)
            run_set_state(&run, RUN_STOPPING);
        if (run_state(&run) == RUN_STOPPING && !stop_at)
            stop_at = dshq_now_ns();
        if (stop_at && dshq_now_ns() - stop_at > 15000000000ull) {
            fprintf(stderr, "dshq train: processes did not stop within 15 s; killing them\n");
            kill(trainer, SIGKILL);
            for (uint32_t i = 0; i < o.p.workers; i++)
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
        if (pid == trainer) {
            trainer_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            run_set_state(&run, RUN_STOPPING);
            continue;
        }
        if (pid == show) {
            run_set_state(&run, RUN_STOPPING); /* q in the show ends the run */
            continue;
        }
        for (uint32_t i = 0; i < o.p.workers; i++) {
            if (workers[i] != pid)
                continue;
            if (run_state(&run) != RUN_STOPPING && !procs_stop && restarts[i] >= 20) {
                fprintf(stderr, "dshq train: worker %u died %u times; stopping the run "
                                "(see the messages above)\n", i, restarts[i] + 1);
                run_set_state(&run, RUN_STOPPING);
            } else if (run_state(&run) != RUN_STOPPING && !procs_stop) {
                restarts[i]++;
                fprintf(stderr, "dshq train: worker %u (pid %d) %s %d; restarting it on lane %u\n",
                        i, (int)pid, WIFSIGNALED(st) ? "killed by signal" : "exited with",
                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), i);
                workers[i] = spawn_worker(&run, i, restarts[i]);
                alive++;
            }
        }
    }
    if (tel) {
        if (beat >= 0)
            dshq_telemetry_unregister(tel, beat);
        dshq_telemetry_detach(tel);
    }

    /* Summary: counters from the telemetry, final weights from the channel. */
    struct metrics m;
    metrics_init(&m);
    dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(), &m, sizeof m,
                        NULL);
    float *params = rl_mlp_alloc(&run.net);
    struct dshq_weights *wch = NULL;
    int have_params = params && dshq_weights_open(run.weights_mem, run.weights_size, &wch) == 0 &&
                      dshq_weights_copy_out(wch, run.net.shape_hash, params, run.net.n_params,
                                            NULL) == 0;
    if (wch)
        dshq_weights_close(wch);
    printf("\n== run '%s' finished%s ==\n", o.p.name, trainer_code ? " (trainer failed)" : "");
    printf("  env steps trained   %llu\n", (unsigned long long)m.steps);
    printf("  updates             %llu (weights version %llu)\n", (unsigned long long)m.updates,
           (unsigned long long)m.weights_version);
    printf("  training time       %.1f s, %.0f env steps/s at the end\n", m.wall_s, m.steps_per_s);
    printf("  chunks consumed     %llu, dropped for lag %llu, dropped full %llu\n",
           (unsigned long long)m.chunks_consumed, (unsigned long long)m.chunks_dropped_lag,
           (unsigned long long)m.chunks_dropped_full);
    uint32_t total_restarts = 0;
    for (uint32_t i = 0; i < o.p.workers; i++)
        total_restarts += restarts[i];
    if (total_restarts)
        printf("  worker restarts     %u\n", total_restarts);
    if (have_params && o.eval_episodes > 0) {
        for (int k = RL_OPP_RANDOM; k <= RL_OPP_SCRIPTED; k++) {
            struct rl_eval_result r;
            if (final_eval(&run, params, o.eval_episodes, k, &r) == 0)
                printf("  vs %-9s         win %5.1f%%  draw %5.1f%%  loss %5.1f%%  (%d episodes)\n",
                       rl_opponent_name(k), 100.0 * r.wins / r.episodes,
                       100.0 * r.draws / r.episodes, 100.0 * r.losses / r.episodes, r.episodes);
        }
    }
    if (o.checkpoint_dir)
        printf("  checkpoint          %s/%s.dshq\n", o.checkpoint_dir, o.p.name);
    free(params);
    if (o.keep)
        printf("  region kept         /dev/shm/%s (remove with 'dshq rm %s')\n", run.region_name,
               o.p.name);
    if (o.keep)
        run_detach(&run);
    else
        run_destroy(&run);
    return trainer_code == 0 ? 0 : 1;
}
