/* cmd_train_single.c — 'dshq train --single-process': the reference loop of
 * src/rl/train_loop.h in this process: collect one window of E envs x T
 * steps, one PPO update on it, repeat; evaluate against the baselines every
 * few seconds.  The settings are the run's config (cmd_train.c parses them),
 * turned into an rl_train_config; the run-only ones (workers, transport,
 * when-full, max-lag, lane-slots) have no effect here, and the loop is
 * deterministic for a seed and --updates with or without --deterministic.
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

#include "cli/train.h"
#include "cli/util.h"
#include "rl/train_loop.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Win rates of the trained policy against random and scripted. */
struct train_eval {
    struct rl_eval_result vs[2]; /* [0] random, [1] scripted */
};

static int train_evaluate(const struct rl_trainer *t, const struct train_args *o, uint64_t salt,
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
int train_single_process(const struct train_args *o)
{
    struct rl_trainer t;
    struct rl_train_config tc;
    run_config_to_train(&o->cfg, &tc);
    const char *opponents = o->cfg.opponents == RUN_OPP_RANDOM     ? "random"
                          : o->cfg.opponents == RUN_OPP_SCRIPTED ? "scripted"
                                                                 : "mix";
    int rc = rl_trainer_init(&t, &tc);
    if (rc)
        return cli_fail("train", "setting up the trainer", rc);
    FILE *mf = NULL;
    if (o->metrics) {
        mf = fopen(o->metrics, "a");
        if (!mf) {
            rl_trainer_free(&t);
            return cli_fail("train", o->metrics, -errno);
        }
    }
    if (mf) { /* opens this run in the file, as the multi-process trainer does */
        fprintf(mf, "{\"run_begin\":\"single-process\",\"unix_s\":%lld,\"seed\":%llu}\n",
                (long long)time(NULL), (unsigned long long)o->cfg.seed);
        fflush(mf);
    }
    if (!o->quiet)
        printf("dshq train --single-process: %d envs x %d steps per update, network %d x %d "
               "(%zu params, shape %016llx, kernels %s), opponents %s, seed %llu\n",
               (int)o->cfg.envs, (int)o->cfg.horizon, (int)o->cfg.layers, (int)o->cfg.hidden,
               t.net.n_weights,
               (unsigned long long)t.net.shape_hash, rl_mlp_isa(), opponents,
               (unsigned long long)o->cfg.seed);
    double t_train = 0, last_print = 0, last_eval = 0;
    struct rl_collect_stats last = t.col.stats, last_update = t.col.stats;
    struct train_progress p;
    struct train_eval ev;
    memset(&p, 0, sizeof p);
    int ev_count = 0;
    for (;;) {
        double progress = o->cfg.updates ? (double)t.updates / (double)o->cfg.updates
                                         : t_train / o->cfg.seconds;
        double t0 = now_s();
        rc = rl_trainer_iterate(&t, progress, &p.st);
        const double dt_iter = now_s() - t0;
        t_train += dt_iter;
        if (rc) {
            rl_trainer_free(&t);
            if (mf)
                fclose(mf);
            return cli_fail("train", "update", rc);
        }
        int finished = o->cfg.updates ? (uint64_t)t.updates >= o->cfg.updates
                                      : t_train >= o->cfg.seconds;
        int do_eval = o->eval_episodes > 0 &&
                      ((o->eval_every > 0 && t_train - last_eval >= o->eval_every) || finished);
        int do_print = t_train - last_print >= 1.0 || finished || do_eval;
        if (do_eval) {
            rc = train_evaluate(&t, o, (uint64_t)ev_count++, &ev);
            if (rc) {
                rl_trainer_free(&t);
                if (mf)
                    fclose(mf);
                return cli_fail("train", "evaluation", rc);
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
    printf("done: %lld updates, %llu steps in %.1f s of training (%.0f steps/s)",
           (long long)t.updates, (unsigned long long)t.col.stats.steps, t_train,
           (double)t.col.stats.steps / t_train);
    if (ev_count)
        printf("; win rate (wins only) vs random %.3f, vs scripted %.3f (%d episodes each, %s)",
               ev.vs[0].win_rate, ev.vs[1].win_rate, o->eval_episodes,
               o->eval_greedy ? "greedy" : "sampled");
    printf("\n");
    for (int k = 0; k < 2 && ev_count; k++)
        printf("  vs %-9s wins %d  draws %d  losses %d\n", k ? "scripted" : "random",
               ev.vs[k].wins, ev.vs[k].draws, ev.vs[k].losses);
    if (mf)
        fclose(mf);
    rl_trainer_free(&t);
    return 0;
}
