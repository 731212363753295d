/* train_loop.c — collect, evaluate and the single-process trainer. */
#include "rl/train_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rl/baselines.h"

static const char *const opp_names[RL_OPP_KINDS] = {"random", "scripted", "self"};

const char *rl_opponent_name(int kind)
{
    return kind >= 0 && kind < RL_OPP_KINDS ? opp_names[kind] : "?";
}

int rl_opponent_parse(const char *name)
{
    for (int k = 0; k < RL_OPP_KINDS; k++)
        if (!strcmp(name, opp_names[k]))
            return k;
    return -1;
}

static int draw_opponent(const struct rl_opponent_mix *mix, struct rl_rng *rng)
{
    float total = 0.0f;
    for (int k = 0; k < RL_OPP_KINDS; k++)
        total += mix->p[k] > 0.0f ? mix->p[k] : 0.0f;
    if (!(total > 0.0f))
        return RL_OPP_RANDOM;
    float u = rl_rng_float(rng) * total, c = 0.0f;
    for (int k = 0; k < RL_OPP_KINDS; k++) {
        c += mix->p[k] > 0.0f ? mix->p[k] : 0.0f;
        if (u < c)
            return k;
    }
    for (int k = RL_OPP_KINDS - 1; k >= 0; k--)
        if (mix->p[k] > 0.0f)
            return k;
    return RL_OPP_RANDOM;
}

struct rl_opponent_mix rl_opponent_mix_lerp(const struct rl_opponent_mix *a,
                                            const struct rl_opponent_mix *b, double progress)
{
    struct rl_opponent_mix m;
    double t = progress < 0 ? 0 : progress > 1 ? 1 : progress;
    for (int k = 0; k < RL_OPP_KINDS; k++)
        m.p[k] = (float)(a->p[k] + (b->p[k] - a->p[k]) * t);
    return m;
}

/* ---- collector ----------------------------------------------------------- */

int rl_collector_init(struct rl_collector *c, const struct rl_mlp *net, int E,
                      const struct bd_config *env_cfg, const struct rl_opponent_mix *mix,
                      uint64_t seed)
{
    memset(c, 0, sizeof *c);
    if (E < 1 || net->obs_dim != BD_OBS_DIM || net->n_actions != BD_NUM_ACTIONS)
        return -EINVAL;
    c->net = net;
    c->E = E;
    c->D = BD_OBS_DIM;
    int rc = bd_env_create(&c->env, env_cfg, (uint32_t)E);
    if (rc) {
        c->env = NULL;
        return rc;
    }
    const size_t ed = (size_t)E * (size_t)c->D;
    c->opp = calloc((size_t)E, 1);
    c->obs = calloc(ed, sizeof(float));
    c->opp_obs = calloc(ed, sizeof(float));
    c->final_obs = calloc(ed, sizeof(float));
    c->tmp_obs = calloc(ed, sizeof(float));
    c->tmp_val = calloc((size_t)E, sizeof(float));
    c->opp_act = calloc((size_t)E, sizeof(int32_t));
    c->tmp_act = calloc((size_t)E, sizeof(int32_t));
    c->tmp_idx = calloc((size_t)E, sizeof(int32_t));
    c->episodes = calloc((size_t)E, sizeof(struct bd_episode));
    if (!c->opp || !c->obs || !c->opp_obs || !c->final_obs || !c->tmp_obs || !c->tmp_val ||
        !c->opp_act || !c->tmp_act || !c->tmp_idx || !c->episodes) {
        rl_collector_free(c);
        return -ENOMEM;
    }
    c->rng_act = rl_rng_make(rl_rng_derive(seed, 1));
    c->rng_opp = rl_rng_make(rl_rng_derive(seed, 2));
    c->rng_mix = rl_rng_make(rl_rng_derive(seed, 3));
    bd_env_reset(c->env, seed);
    bd_env_observe(c->env, c->obs, c->opp_obs);
    rl_collector_set_mix(c, mix);
    for (int e = 0; e < E; e++)
        c->opp[e] = (uint8_t)draw_opponent(&c->mix, &c->rng_mix);
    return 0;
}

void rl_collector_set_mix(struct rl_collector *c, const struct rl_opponent_mix *mix)
{
    if (mix)
        c->mix = *mix;
    else
        memset(&c->mix, 0, sizeof c->mix);
}

void rl_collector_free(struct rl_collector *c)
{
    if (c->env)
        bd_env_destroy(c->env);
    free(c->opp);
    free(c->obs);
    free(c->opp_obs);
    free(c->final_obs);
    free(c->tmp_obs);
    free(c->tmp_val);
    free(c->opp_act);
    free(c->tmp_act);
    free(c->tmp_idx);
    free(c->episodes);
    memset(c, 0, sizeof *c);
}

/* Opponent actions for every env from c->opp_obs into c->opp_act. */
static void opponent_act(struct rl_collector *c, const float *opp_params)
{
    const int E = c->E, D = c->D;
    int n_kind[RL_OPP_KINDS] = {0};
    for (int e = 0; e < E; e++)
        n_kind[c->opp[e]]++;
    if (n_kind[RL_OPP_SCRIPTED])
        bd_policy_scripted(c->opp_obs, (uint32_t)E, c->opp_act);
    if (n_kind[RL_OPP_RANDOM]) {
        bd_policy_random(&c->rng_opp, (uint32_t)E, c->tmp_act);
        for (int e = 0; e < E; e++)
            if (c->opp[e] == RL_OPP_RANDOM)
                c->opp_act[e] = c->tmp_act[e];
    }
    if (n_kind[RL_OPP_SELF]) {
        int n = 0;
        for (int e = 0; e < E; e++)
            if (c->opp[e] == RL_OPP_SELF) {
                memcpy(c->tmp_obs + (size_t)n * D, c->opp_obs + (size_t)e * D,
                       (size_t)D * sizeof(float));
                c->tmp_idx[n++] = e;
            }
        rl_mlp_act(c->net, opp_params, c->tmp_obs, n, &c->rng_opp, c->tmp_act, NULL, NULL);
        for (int i = 0; i < n; i++)
            c->opp_act[c->tmp_idx[i]] = c->tmp_act[i];
    }
}

int rl_collect(struct rl_collector *c, const float *params, const float *opp_params,
               const struct rl_rollout_buf *out)
{
    const int E = c->E, D = c->D, T = out->T;
    if (out->E != E || out->obs_dim != D || T < 1)
        return -EINVAL;
    if (!opp_params)
        opp_params = params;
    const size_t ed = (size_t)E * (size_t)D;
    memcpy(out->obs, c->obs, ed * sizeof(float));
    for (int t = 0; t < T; t++) {
        float *o = out->obs + (size_t)t * ed;
        int32_t *act = out->act + (size_t)t * E;
        rl_mlp_act(c->net, params, o, E, &c->rng_act, act, out->logp + (size_t)t * E,
                   out->value + (size_t)t * E);
        opponent_act(c, opp_params);
        uint8_t *done = out->done + (size_t)t * E, *trunc = out->trunc + (size_t)t * E;
        /* The env writes the learner's next observation straight into the
         * window's next row (or, after the last step, into c->obs). */
        struct bd_step_out so = {0};
        so.obs[0] = t + 1 < T ? o + ed : c->obs;
        so.obs[1] = c->opp_obs;
        so.rew[0] = out->rew + (size_t)t * E;
        so.done = done;
        so.trunc = trunc;
        so.final_obs[0] = c->final_obs;
        so.episodes = c->episodes;
        int ended = bd_env_step(c->env, act, c->opp_act, &so);
        float *fv = out->final_value + (size_t)t * E;
        memset(fv, 0, (size_t)E * sizeof(float));
        c->stats.steps += (uint64_t)E;
        if (!ended)
            continue;
        int n_trunc = 0;
        for (int e = 0; e < E; e++) {
            if (!done[e] && !trunc[e])
                continue;
            const struct bd_episode *ep = &c->episodes[e];
            const int k = c->opp[e];
            c->stats.episodes[k]++;
            if (ep->winner == BD_WINNER_LEFT)
                c->stats.wins[k]++;
            else if (ep->winner == BD_WINNER_RIGHT)
                c->stats.losses[k]++;
            else
                c->stats.draws[k]++;
            c->stats.ret_sum += ep->ret[0];
            c->stats.goal_ret_sum += (double)ep->goals[0] - (double)ep->goals[1];
            c->stats.len_sum += (double)ep->length / (double)bd_env_config(c->env)->frame_skip;
            c->opp[e] = (uint8_t)draw_opponent(&c->mix, &c->rng_mix);
            if (out->trunc_obs)
                memcpy(out->trunc_obs + ((size_t)t * E + e) * D, c->final_obs + (size_t)e * D,
                       (size_t)D * sizeof(float));
            if (trunc[e] && !done[e]) {
                memcpy(c->tmp_obs + (size_t)n_trunc * D, c->final_obs + (size_t)e * D,
                       (size_t)D * sizeof(float));
                c->tmp_idx[n_trunc++] = e;
            }
        }
        if (n_trunc) {
            rl_mlp_forward(c->net, params, c->tmp_obs, n_trunc, NULL, c->tmp_val);
            for (int i = 0; i < n_trunc; i++)
                fv[c->tmp_idx[i]] = c->tmp_val[i];
        }
    }
    rl_mlp_forward(c->net, params, c->obs, E, NULL, out->bootstrap_value);
    if (out->bootstrap_obs)
        memcpy(out->bootstrap_obs, c->obs, ed * sizeof(float));
    return 0;
}

/* ---- evaluation ---------------------------------------------------------- */

int rl_evaluate(const struct rl_mlp *net, const float *params, int opponent, int episodes,
                int greedy, const struct bd_config *env_cfg, uint64_t seed,
                struct rl_eval_result *out)
{
    memset(out, 0, sizeof *out);
    if (episodes < 1 || opponent < 0 || opponent >= RL_OPP_KINDS)
        return -EINVAL;
    const int D = BD_OBS_DIM, max_batch = 256;
    const int E = episodes < max_batch ? episodes : max_batch;
    struct bd_env *env;
    int rc = bd_env_create(&env, env_cfg, (uint32_t)E);
    if (rc)
        return rc;
    float *obs[2] = {malloc(sizeof(float) * E * D), malloc(sizeof(float) * E * D)};
    int32_t *act[2] = {malloc(sizeof(int32_t) * E), malloc(sizeof(int32_t) * E)};
    uint8_t *done = malloc((size_t)E), *trunc = malloc((size_t)E), *live = malloc((size_t)E);
    struct bd_episode *eps = malloc(sizeof(struct bd_episode) * E);
    if (!obs[0] || !obs[1] || !act[0] || !act[1] || !done || !trunc || !live || !eps) {
        rc = -ENOMEM;
        goto out;
    }
    struct rl_rng r_me = rl_rng_make(rl_rng_derive(seed, 11));
    struct rl_rng r_opp = rl_rng_make(rl_rng_derive(seed, 12));
    double len_sum = 0;
    for (int base = 0; base < episodes; base += E) {
        const int n = episodes - base < E ? episodes - base : E;
        /* Batch b plays the episodes of ids base.. with their own seeds. */
        bd_env_reset(env, rl_rng_derive(seed, (uint64_t)base + 1000));
        bd_env_observe(env, obs[0], obs[1]);
        memset(live, 1, (size_t)n);
        memset(live + n, 0, (size_t)(E - n));
        int left = n;
        struct bd_step_out so = {0};
        so.obs[0] = obs[0];
        so.obs[1] = obs[1];
        so.done = done;
        so.trunc = trunc;
        so.episodes = eps;
        while (left > 0) {
            rl_mlp_act(net, params, obs[0], E, greedy ? NULL : &r_me, act[0], NULL, NULL);
            if (opponent == RL_OPP_RANDOM)
                bd_policy_random(&r_opp, (uint32_t)E, act[1]);
            else if (opponent == RL_OPP_SCRIPTED)
                bd_policy_scripted(obs[1], (uint32_t)E, act[1]);
            else
                rl_mlp_act(net, params, obs[1], E, greedy ? NULL : &r_opp, act[1], NULL, NULL);
            if (!bd_env_step(env, act[0], act[1], &so))
                continue;
            for (int e = 0; e < n; e++) {
                if (!live[e] || !(done[e] || trunc[e]))
                    continue;
                live[e] = 0;
                left--;
                out->episodes++;
                out->wins += eps[e].winner == BD_WINNER_LEFT;
                out->losses += eps[e].winner == BD_WINNER_RIGHT;
                out->draws += eps[e].winner == BD_WINNER_DRAW;
                len_sum += (double)eps[e].length / (double)bd_env_config(env)->frame_skip;
            }
        }
    }
    out->win_rate = (double)out->wins / out->episodes;
    out->mean_len = len_sum / out->episodes;
    rc = 0;
out:
    bd_env_destroy(env);
    free(obs[0]);
    free(obs[1]);
    free(act[0]);
    free(act[1]);
    free(done);
    free(trunc);
    free(live);
    free(eps);
    return rc;
}

/* ---- trainer ------------------------------------------------------------- */

void rl_train_config_default(struct rl_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->envs = 64;
    c->horizon = 128;
    c->hidden = RL_MLP_DEFAULT_HIDDEN;
    c->layers = RL_MLP_DEFAULT_LAYERS;
    c->seed = 1;
    rl_ppo_config_default(&c->ppo);
    c->mix.p[RL_OPP_RANDOM] = 0.5f;
    c->mix.p[RL_OPP_SCRIPTED] = 0.5f;
    c->mix_end = c->mix;
    c->shaping_coef = 1.0f;
    c->approach_coef = 0.5f;
    c->shaping_end = 1.0f;
    c->max_goals = 1;
}

int rl_trainer_init(struct rl_trainer *t, const struct rl_train_config *cfg)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    int hid[RL_MLP_MAX_HIDDEN] = {cfg->hidden, cfg->hidden, cfg->hidden};
    int rc = rl_mlp_init(&t->net, BD_OBS_DIM, BD_NUM_ACTIONS, hid, cfg->layers);
    if (rc)
        return rc;
    rc = rl_ppo_init(&t->ppo, &t->net, &cfg->ppo, cfg->seed);
    if (rc)
        return rc;
    struct bd_config ec;
    bd_config_default(&ec);
    ec.shaping_coef = cfg->shaping_coef;
    ec.approach_coef = cfg->approach_coef;
    ec.max_goals = (uint32_t)cfg->max_goals;
    rc = rl_collector_init(&t->col, &t->net, cfg->envs, &ec, &cfg->mix, cfg->seed);
    if (!rc)
        rc = rl_rollout_buf_alloc(&t->win, cfg->horizon, cfg->envs, BD_OBS_DIM, 0);
    if (rc) {
        rl_trainer_free(t);
        return rc;
    }
    t->lr = cfg->ppo.lr;
    t->shaping_scale = 1.0f;
    return 0;
}

void rl_trainer_free(struct rl_trainer *t)
{
    rl_collector_free(&t->col);
    rl_ppo_free(&t->ppo);
    rl_rollout_buf_free(&t->win);
    memset(t, 0, sizeof *t);
}

int rl_trainer_iterate(struct rl_trainer *t, double progress, struct rl_ppo_stats *st)
{
    const struct rl_train_config *cfg = &t->cfg;
    if (progress < 0)
        progress = 0;
    if (progress > 1)
        progress = 1;
    t->lr = rl_adam_lr_linear(cfg->ppo.lr, cfg->ppo.lr_end, progress);
    t->shaping_scale = (float)(1.0 + (cfg->shaping_end - 1.0) * progress);
    bd_env_set_shaping(t->col.env, cfg->shaping_coef * t->shaping_scale,
                       cfg->approach_coef * t->shaping_scale);
    struct rl_opponent_mix mix = rl_opponent_mix_lerp(&cfg->mix, &cfg->mix_end, progress);
    rl_collector_set_mix(&t->col, &mix);
    int rc = rl_collect(&t->col, t->ppo.params, NULL, &t->win);
    if (rc)
        return rc;
    struct rl_rollout_view v = rl_rollout_buf_view(&t->win);
    rc = rl_ppo_update(&t->ppo, &v, 1, t->lr, st);
    if (!rc)
        t->updates++;
    return rc;
}
