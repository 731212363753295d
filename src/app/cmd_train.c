/* cmd_train.c — 'dshq train': learn Ball Drill with PPO.
 *
 * --single-process runs the reference loop of src/rl/train_loop.h in this
 * process: collect one window of E envs x T steps, one PPO update on it,
 * repeat; evaluate against the baselines every few seconds.  The pieces are
 * functions (train_parse, train_single_process, train_evaluate,
 * train_print_progress) so the multi-process mode can reuse them.
 *
 * Wall time: the --seconds budget and the times printed count training only
 * (collect + update); evaluation is paused out, since in the multi-process
 * system it runs beside training, not in it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/commands.h"
#include "app/util.h"
#include "rl/train_loop.h"

struct train_opts {
    int single_process;
    double seconds;         /* training-time budget (0: use updates) */
    long long updates;      /* update budget (0: use seconds) */
    const char *opponent;   /* random | scripted | mix */
    const char *metrics;    /* JSONL file or NULL */
    double eval_every;      /* seconds of training between evaluations */
    int eval_episodes;      /* per opponent */
    int eval_greedy;
    int quiet;
    struct rl_train_config cfg;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
    struct rl_train_config d;
    rl_train_config_default(&d);
    fprintf(f,
            "usage: dshq train --single-process [--seconds S | --updates U] [--seed S]\n"
            "                  [--envs E] [--horizon T] [--opponent random|scripted|mix]\n"
            "                  [--metrics FILE.jsonl] [options]\n\n"
            "Trains the Ball Drill policy with PPO and prints progress once per second:\n"
            "steps/s, updates, losses, entropy, approx KL, clip fraction, explained\n"
            "variance, mean return, and the win rate against the random and scripted\n"
            "policies (on the training episodes, and in evaluations every few seconds).\n\n"
            "  --single-process   collect and learn in this process (the reference loop)\n"
            "  --seconds S        training time budget, evaluation excluded (default 60)\n"
            "  --updates U        stop after U updates instead (bit-reproducible per seed)\n"
            "  --seed S           seed of everything (default %llu)\n"
            "  --envs E           envs stepped together (default %d)\n"
            "  --horizon T        steps per rollout window; one update per window (default %d)\n"
            "  --opponent K       training opponents: random, scripted, or mix (default:\n"
            "                     each episode against random or scripted, half and half)\n"
            "  --metrics FILE     append one JSON object per update (and evaluation)\n"
            "  --eval-every S     seconds of training between evaluations (default 5; 0 off)\n"
            "  --eval-episodes N  episodes per opponent per evaluation (default 200)\n"
            "  --eval-greedy      evaluate the argmax policy instead of sampling\n"
            "  --quiet            print only the final summary\n\n"
            "Tuning (defaults in docs/learner.md):\n"
            "  --lr X --lr-end X --ent-coef X --gamma X --lambda X --clip X --vf-coef X\n"
            "  --epochs N --minibatches N --hidden N --layers N\n"
            "  --shaping X        ball-towards-goal shaping coefficient (the approach term\n"
            "                     keeps its ratio to it); --shaping-end X scales both by X\n"
            "                     at the end of the run (linear annealing)\n",
            (unsigned long long)d.seed, d.envs, d.horizon);
}

static void set_opponents(struct rl_train_config *c, const char *which)
{
    memset(&c->mix, 0, sizeof c->mix);
    memset(&c->mix_end, 0, sizeof c->mix_end);
    if (!strcmp(which, "random")) {
        c->mix.p[RL_OPP_RANDOM] = 1.0f;
        c->mix_end = c->mix;
    } else if (!strcmp(which, "scripted")) {
        c->mix.p[RL_OPP_SCRIPTED] = 1.0f;
        c->mix_end = c->mix;
    } else { /* mix: the default opponents */
        struct rl_train_config d;
        rl_train_config_default(&d);
        c->mix = d.mix;
        c->mix_end = d.mix_end;
    }
}

/* Parses argv into o.  Returns 0, or the exit code (0 after --help, 2). */
static int train_parse(int argc, char **argv, struct train_opts *o, int *exit_now)
{
    memset(o, 0, sizeof *o);
    rl_train_config_default(&o->cfg);
    o->seconds = 60;
    o->opponent = "mix";
    o->eval_every = 5;
    o->eval_episodes = 200;
    *exit_now = 0;
    const char *cmd = "train";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                                  \
    do {                                                                              \
        if (!v) {                                                                     \
            fprintf(stderr, "dshq train: %s needs a value (see --help)\n", a);        \
            *exit_now = 1;                                                            \
            return 2;                                                                 \
        }                                                                             \
        i++;                                                                          \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            *exit_now = 1;
            return 0;
        } else if (!strcmp(a, "--single-process")) {
            o->single_process = 1;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--eval-greedy")) {
            o->eval_greedy = 1;
        } else if (!strcmp(a, "--seconds")) {
            NEED_VALUE();
            o->seconds = app_parse_double(cmd, a, v, 0.001, 1e7);
            o->updates = 0;
        } else if (!strcmp(a, "--updates")) {
            NEED_VALUE();
            o->updates = app_parse_int(cmd, a, v, 1, 1000000000LL);
            o->seconds = 0;
        } else if (!strcmp(a, "--seed")) {
            NEED_VALUE();
            o->cfg.seed = (uint64_t)app_parse_int(cmd, a, v, 0, 0x7fffffffffffffffLL);
        } else if (!strcmp(a, "--envs")) {
            NEED_VALUE();
            o->cfg.envs = (int)app_parse_int(cmd, a, v, 1, 65536);
        } else if (!strcmp(a, "--horizon")) {
            NEED_VALUE();
            o->cfg.horizon = (int)app_parse_int(cmd, a, v, 1, 65536);
        } else if (!strcmp(a, "--opponent")) {
            NEED_VALUE();
            if (strcmp(v, "random") && strcmp(v, "scripted") && strcmp(v, "mix")) {
                fprintf(stderr, "dshq train: --opponent is random, scripted or mix, not '%s'\n", v);
                *exit_now = 1;
                return 2;
            }
            o->opponent = v;
        } else if (!strcmp(a, "--metrics")) {
            NEED_VALUE();
            o->metrics = v;
        } else if (!strcmp(a, "--eval-every")) {
            NEED_VALUE();
            o->eval_every = app_parse_double(cmd, a, v, 0, 1e7);
        } else if (!strcmp(a, "--eval-episodes")) {
            NEED_VALUE();
            o->eval_episodes = (int)app_parse_int(cmd, a, v, 1, 1000000);
        } else if (!strcmp(a, "--lr")) {
            NEED_VALUE();
            o->cfg.ppo.lr = (float)app_parse_double(cmd, a, v, 0, 1);
        } else if (!strcmp(a, "--lr-end")) {
            NEED_VALUE();
            o->cfg.ppo.lr_end = (float)app_parse_double(cmd, a, v, 0, 1);
        } else if (!strcmp(a, "--ent-coef")) {
            NEED_VALUE();
            o->cfg.ppo.ent_coef = (float)app_parse_double(cmd, a, v, 0, 10);
        } else if (!strcmp(a, "--gamma")) {
            NEED_VALUE();
            o->cfg.ppo.gamma = (float)app_parse_double(cmd, a, v, 0, 1);
        } else if (!strcmp(a, "--lambda")) {
            NEED_VALUE();
            o->cfg.ppo.lambda = (float)app_parse_double(cmd, a, v, 0, 1);
        } else if (!strcmp(a, "--clip")) {
            NEED_VALUE();
            o->cfg.ppo.clip = (float)app_parse_double(cmd, a, v, 0.001, 10);
        } else if (!strcmp(a, "--vf-coef")) {
            NEED_VALUE();
            o->cfg.ppo.vf_coef = (float)app_parse_double(cmd, a, v, 0, 100);
        } else if (!strcmp(a, "--epochs")) {
            NEED_VALUE();
            o->cfg.ppo.epochs = (int)app_parse_int(cmd, a, v, 1, 100);
        } else if (!strcmp(a, "--minibatches")) {
            NEED_VALUE();
            o->cfg.ppo.minibatches = (int)app_parse_int(cmd, a, v, 1, 4096);
        } else if (!strcmp(a, "--hidden")) {
            NEED_VALUE();
            o->cfg.hidden = (int)app_parse_int(cmd, a, v, 1, RL_MLP_MAX_WIDTH);
        } else if (!strcmp(a, "--layers")) {
            NEED_VALUE();
            o->cfg.layers = (int)app_parse_int(cmd, a, v, 1, RL_MLP_MAX_HIDDEN);
        } else if (!strcmp(a, "--shaping")) {
            NEED_VALUE();
            double s = app_parse_double(cmd, a, v, 0, 100);
            o->cfg.approach_coef *= o->cfg.shaping_coef > 0 ? (float)s / o->cfg.shaping_coef : 0;
            o->cfg.shaping_coef = (float)s;
        } else if (!strcmp(a, "--shaping-end")) {
            NEED_VALUE();
            o->cfg.shaping_end = (float)app_parse_double(cmd, a, v, 0, 100);
        } else {
            fprintf(stderr, "dshq train: unknown option '%s' (see --help)\n", a);
            *exit_now = 1;
            return 2;
        }
#undef NEED_VALUE
    }
    set_opponents(&o->cfg, o->opponent);
    return 0;
}

/* Win rates of the trained policy against random and scripted. */
struct train_eval {
    struct rl_eval_result vs[2]; /* [0] random, [1] scripted */
};

static int train_evaluate(const struct rl_trainer *t, const struct train_opts *o, uint64_t salt,
                          struct train_eval *ev)
{
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_goals = (uint32_t)o->cfg.max_goals;
    for (int k = 0; k < 2; k++) {
        int rc = rl_evaluate(&t->net, t->ppo.params, k == 0 ? RL_OPP_RANDOM : RL_OPP_SCRIPTED,
                             o->eval_episodes, o->eval_greedy, &ec,
                             rl_rng_derive(o->cfg.seed ^ 0xe7a1, salt), &ev->vs[k]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Progress since the previous line. */
struct train_progress {
    double t_train;                 /* training seconds so far */
    int64_t updates;
    uint64_t steps;
    double sps;                     /* steps/s over the interval */
    struct rl_ppo_stats st;         /* last update */
    struct rl_collect_stats delta;  /* episodes finished in the interval */
};

static double rate(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : NAN; }

static void train_print_progress(const struct train_progress *p, const struct train_eval *ev)
{
    const struct rl_collect_stats *d = &p->delta;
    uint64_t eps = d->episodes[0] + d->episodes[1] + d->episodes[2];
    printf("[%6.1fs] upd %5lld  steps %8llu  %6.0f st/s  pl %+.4f vl %.4f ent %.3f kl %.4f "
           "clip %.3f ev %+.2f  ret %+.3f  win(train) rnd %.2f scr %.2f self %.2f",
           p->t_train, (long long)p->updates, (unsigned long long)p->steps, p->sps,
           p->st.policy_loss, p->st.value_loss, p->st.entropy, p->st.approx_kl, p->st.clip_frac,
           p->st.explained_var, eps ? d->ret_sum / (double)eps : NAN,
           rate(d->wins[RL_OPP_RANDOM], d->episodes[RL_OPP_RANDOM]),
           rate(d->wins[RL_OPP_SCRIPTED], d->episodes[RL_OPP_SCRIPTED]),
           rate(d->wins[RL_OPP_SELF], d->episodes[RL_OPP_SELF]));
    if (ev)
        printf("  | eval rnd %.3f scr %.3f", ev->vs[0].win_rate, ev->vs[1].win_rate);
    printf("\n");
    fflush(stdout);
}

static void stats_delta(const struct rl_collect_stats *now, const struct rl_collect_stats *then,
                        struct rl_collect_stats *d)
{
    d->steps = now->steps - then->steps;
    for (int k = 0; k < RL_OPP_KINDS; k++) {
        d->episodes[k] = now->episodes[k] - then->episodes[k];
        d->wins[k] = now->wins[k] - then->wins[k];
        d->losses[k] = now->losses[k] - then->losses[k];
        d->draws[k] = now->draws[k] - then->draws[k];
    }
    d->ret_sum = now->ret_sum - then->ret_sum;
    d->goal_ret_sum = now->goal_ret_sum - then->goal_ret_sum;
    d->len_sum = now->len_sum - then->len_sum;
}

static void json_num(FILE *f, const char *key, double x)
{
    if (isfinite(x))
        fprintf(f, ",\"%s\":%.6g", key, x);
    else
        fprintf(f, ",\"%s\":null", key);
}

static void write_metrics(FILE *f, const struct train_progress *p, const struct rl_trainer *t,
                          const struct train_eval *ev)
{
    const struct rl_collect_stats *d = &p->delta;
    uint64_t eps = d->episodes[0] + d->episodes[1] + d->episodes[2];
    fprintf(f, "{\"t\":%.3f,\"update\":%lld,\"steps\":%llu", p->t_train, (long long)p->updates,
            (unsigned long long)p->steps);
    json_num(f, "steps_per_s", p->sps);
    json_num(f, "lr", t->lr);
    json_num(f, "shaping_scale", t->shaping_scale);
    json_num(f, "loss", p->st.loss);
    json_num(f, "policy_loss", p->st.policy_loss);
    json_num(f, "value_loss", p->st.value_loss);
    json_num(f, "entropy", p->st.entropy);
    json_num(f, "approx_kl", p->st.approx_kl);
    json_num(f, "clip_frac", p->st.clip_frac);
    json_num(f, "explained_var", p->st.explained_var);
    json_num(f, "grad_norm", p->st.grad_norm);
    json_num(f, "episodes", (double)eps);
    json_num(f, "mean_return", eps ? d->ret_sum / (double)eps : NAN);
    json_num(f, "mean_len", eps ? d->len_sum / (double)eps : NAN);
    for (int k = 0; k < RL_OPP_KINDS; k++) {
        char key[48];
        snprintf(key, sizeof key, "train_win_%s", rl_opponent_name(k));
        json_num(f, key, rate(d->wins[k], d->episodes[k]));
    }
    if (ev) {
        json_num(f, "eval_win_random", ev->vs[0].win_rate);
        json_num(f, "eval_win_scripted", ev->vs[1].win_rate);
        json_num(f, "eval_draw_scripted", rate((uint64_t)ev->vs[1].draws, (uint64_t)ev->vs[1].episodes));
    }
    fprintf(f, "}\n");
}

/* The single-process loop.  Returns the exit code. */
static int train_single_process(const struct train_opts *o)
{
    struct rl_trainer t;
    int rc = rl_trainer_init(&t, &o->cfg);
    if (rc)
        return app_fail("train", "setting up the trainer", rc);
    FILE *mf = NULL;
    if (o->metrics) {
        mf = fopen(o->metrics, "a");
        if (!mf) {
            rl_trainer_free(&t);
            return app_fail("train", o->metrics, -errno);
        }
    }
    if (!o->quiet)
        printf("dshq train --single-process: %d envs x %d steps per update, network %d x %d "
               "(%zu params, shape %016llx, kernels %s), opponents %s, seed %llu\n",
               o->cfg.envs, o->cfg.horizon, o->cfg.layers, o->cfg.hidden, t.net.n_weights,
               (unsigned long long)t.net.shape_hash, rl_mlp_isa(), o->opponent,
               (unsigned long long)o->cfg.seed);
    double t_train = 0, last_print = 0, last_eval = 0;
    struct rl_collect_stats last = t.col.stats, last_update = t.col.stats;
    struct train_progress p;
    struct train_eval ev;
    memset(&p, 0, sizeof p);
    int ev_count = 0;
    for (;;) {
        double progress = o->updates ? (double)t.updates / (double)o->updates
                                     : t_train / o->seconds;
        double t0 = now_s();
        rc = rl_trainer_iterate(&t, progress, &p.st);
        const double dt_iter = now_s() - t0;
        t_train += dt_iter;
        if (rc) {
            rl_trainer_free(&t);
            if (mf)
                fclose(mf);
            return app_fail("train", "update", rc);
        }
        int finished = o->updates ? t.updates >= o->updates : t_train >= o->seconds;
        int do_eval = (o->eval_every > 0 && t_train - last_eval >= o->eval_every) || finished;
        int do_print = t_train - last_print >= 1.0 || finished || do_eval;
        if (do_eval) {
            rc = train_evaluate(&t, o, (uint64_t)ev_count++, &ev);
            if (rc) {
                rl_trainer_free(&t);
                if (mf)
                    fclose(mf);
                return app_fail("train", "evaluation", rc);
            }
            last_eval = t_train;
        }
        p.t_train = t_train;
        p.updates = t.updates;
        p.steps = t.col.stats.steps;
        if (mf) { /* one line per update: the interval is this update */
            stats_delta(&t.col.stats, &last_update, &p.delta);
            p.sps = (double)(p.steps - last_update.steps) / dt_iter;
            write_metrics(mf, &p, &t, do_eval ? &ev : NULL);
            last_update = t.col.stats;
        }
        if (do_print) {
            stats_delta(&t.col.stats, &last, &p.delta);
            p.sps = (double)(p.steps - last.steps) / (t_train - last_print);
            if (!o->quiet)
                train_print_progress(&p, do_eval ? &ev : NULL);
            last_print = t_train;
            last = t.col.stats;
        }
        if (finished)
            break;
    }
    printf("done: %lld updates, %llu steps in %.1f s of training (%.0f steps/s); "
           "win rate vs random %.3f, vs scripted %.3f (%d episodes each, %s)\n",
           (long long)t.updates, (unsigned long long)t.col.stats.steps, t_train,
           (double)t.col.stats.steps / t_train, ev.vs[0].win_rate, ev.vs[1].win_rate,
           o->eval_episodes, o->eval_greedy ? "greedy" : "sampled");
    if (mf)
        fclose(mf);
    rl_trainer_free(&t);
    return 0;
}

int cmd_train(int argc, char **argv)
{
    struct train_opts o;
    int exit_now;
    int rc = train_parse(argc, argv, &o, &exit_now);
    if (exit_now)
        return rc;
    if (!o.single_process) {
        fprintf(stderr, "dshq train: only --single-process is available in this build\n"
                        "hint: run 'dshq train --single-process' (see --help)\n");
        return 2;
    }
    return train_single_process(&o);
}
