/* cmd_run.c — the commands that act on a running (or finished) training:
 * 'dshq train' dispatch, 'dshq show RUN', 'dshq top RUN', 'dshq ctl RUN ...'
 * and 'dshq eval FILE'. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/checkpoint.h"
#include "app/commands.h"
#include "app/metrics.h"
#include "app/procs.h"
#include "app/util.h"
#include "rl/train_loop.h"

int train_launch(int argc, char **argv);

int cmd_train_dispatch(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--single-process"))
            return cmd_train(argc, argv);
    return train_launch(argc, argv);
}

static int attach_or_fail(const char *cmd, struct run *run, const char *name, unsigned flags)
{
    int rc = run_attach(run, name, flags);
    if (rc == -ENOENT) {
        fprintf(stderr, "dshq %s: no run named '%s' is going\n"
                        "  hint: start one with 'dshq train --run %s', or see 'dshq ls'\n",
                cmd, name, name);
        return 1;
    }
    if (rc)
        return app_fail(cmd, name, rc);
    return 0;
}

/* ----------------------------------------------------------------- show */

int cmd_show(int argc, char **argv)
{
    struct show_opts o = {.seed = 7};
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: dshq show [--seconds S] [--vs scripted|random] [--headless] RUN\n\n"
                   "Attaches to a running training and plays a live match with its newest\n"
                   "policy (left) against a baseline (right), hot-swapping each new policy.\n"
                   "Keys: space play/pause, + and - speed (0.25x-4x), r reset, 1 or 2 take\n"
                   "control of a player (arrows or WASD, e to dash; again to give it back),\n"
                   "q quit.  Nothing the show does enters training.  Without a terminal it\n"
                   "prints one line per second.\n");
            return 0;
        } else if (!strcmp(a, "--seconds")) {
            o.seconds = app_parse_double("show", a, v, 0, 1e9);
            i++;
        } else if (!strcmp(a, "--vs") && v) {
            o.opponent = v;
            i++;
        } else if (!strcmp(a, "--headless"))
            o.headless = 1;
        else if (!strcmp(a, "--min-versions")) {
            o.min_versions = (int)app_parse_int("show", a, v, 0, 1000000);
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "dshq show: unknown option '%s' (see --help)\n", a);
            return 2;
        } else
            name = a;
    }
    if (!name) {
        fprintf(stderr, "usage: dshq show RUN   (see --help)\n");
        return 2;
    }
    if (!isatty(STDOUT_FILENO))
        o.headless = 1;
    struct run run;
    if (attach_or_fail("show", &run, name, 0))
        return 1;
    procs_install_signals();
    int versions = 0;
    int code = show_main(&run, &o, &versions);
    if (o.headless)
        printf("show: adopted %d policy versions\n", versions);
    run_detach(&run);
    return code;
}

/* ------------------------------------------------------------------ top */

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
    fprintf(f, "  mean return %+.3f   win-rate EMA %.1f%% (vs %s)   episode length %.0f\n",
            m->mean_return, m->win_rate_ema * 100, metrics_opponent_name(m->opponent),
            m->episode_length);
    fprintf(f, "  weights v%llu   policy lag min/mean/max %llu/%.2f/%llu   dropped: lag %llu, "
               "full %llu\n",
            (unsigned long long)m->weights_version, (unsigned long long)m->policy_lag_min,
            m->policy_lag_mean, (unsigned long long)m->policy_lag_max,
            (unsigned long long)m->chunks_dropped_lag, (unsigned long long)m->chunks_dropped_full);
    fprintf(f, "  heartbeats:");
    for (int i = 0; i < n; i++)
        fprintf(f, "  %s%u(%d) %.1fs%s", metrics_role_name(hb[i].role), hb[i].index, hb[i].pid,
                (double)hb[i].age_ns / 1e9, hb[i].alive == DSHQ_CREATOR_ALIVE ? "" : " DEAD");
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
                   "losses, approx KL, clip fraction, mean return, win-rate EMA, episode\n"
                   "length, weights version, policy lag, dropped chunks and the heartbeat age\n"
                   "of every process.  Read-only.  --once prints one sample and exits.\n");
            return 0;
        } else if (!strcmp(argv[i], "--once"))
            once = 1;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = app_parse_double("top", "--seconds", argv[++i], 0, 1e9);
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
    if (attach_or_fail("top", &run, name, DSHQ_ATTACH_RDONLY))
        return 1;
    procs_install_signals();
    int ansi = isatty(STDOUT_FILENO) && !once;
    uint64_t start = dshq_now_ns();
    int code = 0;
    while (!procs_stop) {
        struct metrics m;
        int rc = dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(),
                                     &m, sizeof m, NULL);
        if (rc == (int)sizeof m)
            top_print(stdout, &run, &m, ansi);
        else if (rc == -ENODATA)
            printf("run %s: no telemetry yet (starting)\n", run.region_name);
        else {
            code = app_fail("top", "telemetry", rc);
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

/* ------------------------------------------------------------------ ctl */

int cmd_ctl(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: dshq ctl RUN stop | pause | resume | reset | set PARAM VALUE\n\n"
               "Posts a control message to a running training's mailbox.\n"
               "  stop     finish: checkpoint, evaluate, summary\n"
               "  pause    stop updating the policy (workers idle when their lanes fill)\n"
               "  resume   continue\n"
               "  reset    start learning over from fresh weights (counters continue)\n"
               "  set      PARAM is lr, ent, shaping or clip\n");
        return argc < 3 ? 2 : 0;
    }
    struct run run;
    if (attach_or_fail("ctl", &run, argv[1], 0))
        return 1;
    struct dshq_mailbox *mb;
    int rc = dshq_mailbox_attach(run.mailbox_mem, run.mailbox_size, 0, &mb);
    if (rc) {
        run_detach(&run);
        return app_fail("ctl", "mailbox", rc);
    }
    const char *what = argv[2];
    if (!strcmp(what, "stop"))
        rc = dshq_mailbox_post(mb, DSHQ_MSG_STOP, 1, NULL, 0);
    else if (!strcmp(what, "pause") || !strcmp(what, "resume")) {
        struct dshq_msg_pause p = {.paused = !strcmp(what, "pause")};
        rc = dshq_mailbox_post(mb, DSHQ_MSG_PAUSE, 1, &p, sizeof p);
    } else if (!strcmp(what, "reset"))
        rc = dshq_mailbox_post(mb, DSHQ_MSG_RESET, 1, NULL, 0);
    else if (!strcmp(what, "set") && argc >= 5) {
        static const struct { const char *name; uint32_t id; } params[] = {
            {"lr", DSHQ_HPARAM_LEARNING_RATE}, {"ent", DSHQ_HPARAM_ENTROPY_COEF},
            {"shaping", DSHQ_HPARAM_SHAPING_COEF}, {"clip", DSHQ_HPARAM_CLIP}};
        struct dshq_msg_set_hparam h = {0};
        for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
            if (!strcmp(argv[3], params[i].name))
                h.param = params[i].id;
        if (!h.param) {
            fprintf(stderr, "dshq ctl: unknown parameter '%s' (lr, ent, shaping, clip)\n", argv[3]);
            rc = 2;
            goto out;
        }
        h.value = (float)app_parse_double("ctl", argv[3], argv[4], 0, 1e6);
        rc = dshq_mailbox_post(mb, DSHQ_MSG_SET_HPARAM, 1, &h, sizeof h);
    } else {
        fprintf(stderr, "dshq ctl: unknown request '%s' (see --help)\n", what);
        rc = 2;
        goto out;
    }
    if (rc == DSHQ_MAILBOX_FULL) {
        fprintf(stderr, "dshq ctl: the mailbox of %s is full (is the trainer stuck?)\n", argv[1]);
        rc = 1;
    } else if (rc < 0)
        rc = app_fail("ctl", "post", rc);
    else
        printf("posted '%s' to %s\n", what, run.region_name);
out:
    dshq_mailbox_detach(mb);
    run_detach(&run);
    return rc;
}

/* ----------------------------------------------------------------- eval */

int cmd_eval(int argc, char **argv)
{
    const char *file = NULL, *vs = "random";
    int episodes = 200, greedy = 0;
    uint64_t seed = 12345;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: dshq eval FILE.dshq [--vs random|scripted] [--episodes N] [--greedy]\n"
                   "                 [--seed S]\n\n"
                   "Loads a checkpoint (every field validated) and plays N episodes of its\n"
                   "policy (left) against a baseline; prints wins, draws and losses.\n");
            return 0;
        } else if (!strcmp(a, "--vs") && v) {
            vs = v;
            i++;
        } else if (!strcmp(a, "--episodes")) {
            episodes = (int)app_parse_int("eval", a, v, 1, 1000000);
            i++;
        } else if (!strcmp(a, "--seed")) {
            seed = (uint64_t)app_parse_int("eval", a, v, 0, INT64_MAX);
            i++;
        } else if (!strcmp(a, "--greedy"))
            greedy = 1;
        else if (a[0] == '-') {
            fprintf(stderr, "dshq eval: unknown option '%s' (see --help)\n", a);
            return 2;
        } else
            file = a;
    }
    int opp = rl_opponent_parse(vs);
    if (!file || (opp != RL_OPP_RANDOM && opp != RL_OPP_SCRIPTED)) {
        fprintf(stderr, "usage: dshq eval FILE.dshq [--vs random|scripted] [--episodes N]\n");
        return 2;
    }
    struct ckpt_meta meta;
    char err[256];
    if (ckpt_read_meta(file, &meta, err, sizeof err)) {
        fprintf(stderr, "dshq eval: %s: %s\n", file, err);
        return 1;
    }
    int d, h, l, a;
    if (run_arch_parse(meta.arch, &d, &h, &l, &a) || d != BD_OBS_DIM || a != BD_NUM_ACTIONS) {
        fprintf(stderr, "dshq eval: %s: architecture '%s' is not a Ball Drill policy of this "
                        "version\n", file, meta.arch);
        return 1;
    }
    int hid[RL_MLP_MAX_HIDDEN] = {h, h, h};
    struct rl_mlp net;
    if (rl_mlp_init(&net, d, a, hid, l)) {
        fprintf(stderr, "dshq eval: %s: cannot build network '%s'\n", file, meta.arch);
        return 1;
    }
    float *params = rl_mlp_alloc(&net);
    if (!params)
        return app_fail("eval", "memory", -ENOMEM);
    if (ckpt_load(file, net.shape_hash, net.n_params, &meta, params, NULL, NULL, err,
                  sizeof err)) {
        fprintf(stderr, "dshq eval: %s: %s\n", file, err);
        free(params);
        return 1;
    }
    struct rl_train_config tc;
    rl_train_config_default(&tc);
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_goals = (uint32_t)tc.max_goals;
    struct rl_eval_result r;
    int rc = rl_evaluate(&net, params, opp, episodes, greedy, &ec, seed, &r);
    free(params);
    if (rc)
        return app_fail("eval", "evaluation", rc);
    printf("%s (%llu updates, %.0f s of training) vs %s, %d episodes:\n", file,
           (unsigned long long)meta.updates, meta.train_seconds, vs, r.episodes);
    printf("  wins %d (%.1f%%)  draws %d (%.1f%%)  losses %d (%.1f%%)  mean length %.0f steps\n",
           r.wins, 100.0 * r.wins / r.episodes, r.draws, 100.0 * r.draws / r.episodes, r.losses,
           100.0 * r.losses / r.episodes, r.mean_len);
    return 0;
}
