/* test_train_collect — the collector writes a well-formed rollout window
 * into memory it does not own (pointers into one foreign block, as a chunk
 * in a shared-memory lane would be):
 *   - obs[t+1][e] is the observation after step t (the next episode's first
 *     one where the episode ended), and the next window starts where this
 *     one stopped;
 *   - logp/value are the policy's at obs[t];
 *   - final_value[t][e] is the value of the final observation exactly where
 *     the step was truncated, 0 elsewhere; bootstrap_value is the value of
 *     bootstrap_obs;
 *   - episode statistics add up;
 *   - replay: an env of its own, reset with the collector's seed and stepped
 *     with the window's actions (against the same deterministic scripted
 *     opponent), gives bit for bit every obs[t+1], reward, done/trunc flag
 *     and final observation of three windows in a row. */
#include <math.h>

#include "check.h"
#include "rl/baselines.h"
#include "rl/train_loop.h"

/* The window's arrays back to back in one foreign block (as in a chunk). */
static unsigned char *window_block(struct rl_rollout_buf *b, int T, int E, int D)
{
    size_t te = (size_t)T * E;
    size_t floats = te * D * 2 + te * 5 + E + (size_t)E * D;
    unsigned char *block = calloc(1, floats * 4 + 2 * te + 256);
    CHECK(block);
    *b = (struct rl_rollout_buf){.T = T, .E = E, .obs_dim = D};
    float *f = (float *)block;
    b->obs = f, f += te * D;
    b->trunc_obs = f, f += te * D;
    b->rew = f, f += te;
    b->logp = f, f += te;
    b->value = f, f += te;
    b->final_value = f, f += te;
    b->act = (int32_t *)f, f += te;
    b->bootstrap_value = f, f += E;
    b->bootstrap_obs = f, f += (size_t)E * D;
    b->done = (uint8_t *)f;
    b->trunc = b->done + te;
    return block;
}

/* Observation continuity: replays a scripted-opponent collector's windows
 * in an env of its own and compares every obs[t+1] (and reward, flags and
 * final observation) with what the collector wrote. */
static void check_replay(const struct rl_mlp *m, const float *params)
{
    enum { T = 24, E = 6, D = BD_OBS_DIM, W = 3 };
    const uint64_t seed = 4242;
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_ticks = 4 * 10; /* truncations inside the windows */
    struct rl_opponent_mix scripted = {{0.0f, 1.0f, 0.0f}};
    struct rl_collector c;
    CHECK_EQ_INT(rl_collector_init(&c, m, E, &ec, &scripted, seed), 0);
    struct rl_rollout_buf b;
    unsigned char *block = window_block(&b, T, E, D);

    struct bd_env *env;
    CHECK_EQ_INT(bd_env_create(&env, &ec, E), 0);
    bd_env_reset(env, seed);
    static float left[E * D], right[E * D], fin[E * D], rew[E];
    uint8_t done[E], trunc[E];
    int32_t opp[E];
    bd_env_observe(env, left, right);
    int ended = 0, compared = 0;
    for (int w = 0; w < W; w++) {
        CHECK_EQ_INT(rl_collect(&c, params, NULL, &b), 0);
        CHECK_MSG(memcmp(b.obs, left, sizeof left) == 0, "window %d: first row differs", w);
        for (int t = 0; t < T; t++) {
            const size_t ed = (size_t)E * D;
            bd_policy_scripted(right, E, opp);
            struct bd_step_out so = {0};
            so.obs[0] = left;
            so.obs[1] = right;
            so.rew[0] = rew;
            so.done = done;
            so.trunc = trunc;
            so.final_obs[0] = fin;
            bd_env_step(env, b.act + (size_t)t * E, opp, &so);
            const float *next = t + 1 < T ? b.obs + (size_t)(t + 1) * ed : b.bootstrap_obs;
            for (int e = 0; e < E; e++) {
                size_t i = (size_t)t * E + e;
                CHECK_MSG(memcmp(next + (size_t)e * D, left + (size_t)e * D, D * sizeof(float)) == 0,
                          "window %d t %d env %d: obs[t+1] is not the env's next observation", w,
                          t, e);
                CHECK_MSG(b.rew[i] == rew[e], "window %d t %d env %d: reward %g, replay %g", w, t,
                          e, b.rew[i], rew[e]);
                CHECK_EQ_INT(b.done[i], done[e]);
                CHECK_EQ_INT(b.trunc[i], trunc[e]);
                if (done[e] || trunc[e]) {
                    ended++;
                    CHECK_MSG(memcmp(b.trunc_obs + i * D, fin + (size_t)e * D, D * sizeof(float)) == 0,
                              "window %d t %d env %d: final observation differs", w, t, e);
                }
                compared++;
            }
        }
    }
    /* The comparison crossed episode ends (auto-reset) many times. */
    CHECK_MSG(ended >= E * W * T / 10 / 2, "only %d episode ends replayed", ended);
    printf("replay: %d steps and %d episode ends identical\n", compared, ended);
    bd_env_destroy(env);
    rl_collector_free(&c);
    free(block);
}

int main(void)
{
    enum { T = 40, E = 12, D = BD_OBS_DIM };
    struct rl_mlp m;
    const int hid[2] = {32, 32};
    CHECK_EQ_INT(rl_mlp_init(&m, D, BD_NUM_ACTIONS, hid, 2), 0);
    float *params = rl_mlp_alloc(&m);
    CHECK(params);
    rl_mlp_params_init(&m, params, 3);
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_ticks = 4 * 15; /* 15 decisions: several truncations per window */
    struct rl_opponent_mix mix = {{0.4f, 0.4f, 0.2f}};
    struct rl_collector c;
    CHECK_EQ_INT(rl_collector_init(&c, &m, E, &ec, &mix, 77), 0);

    /* One foreign block holding the window's arrays back to back. */
    struct rl_rollout_buf b;
    unsigned char *block = window_block(&b, T, E, D);

    float prev_boot[E * D];
    int n_trunc = 0, n_done = 0;
    for (int w = 0; w < 3; w++) {
        CHECK_EQ_INT(rl_collect(&c, params, NULL, &b), 0);
        if (w > 0) /* continuity across windows */
            CHECK(memcmp(b.obs, prev_boot, sizeof prev_boot) == 0);
        memcpy(prev_boot, b.bootstrap_obs, sizeof prev_boot);
        float lg[BD_NUM_ACTIONS], v;
        for (int t = 0; t < T; t++)
            for (int e = 0; e < E; e++) {
                size_t i = (size_t)t * E + e;
                const float *o = b.obs + i * D;
                CHECK(b.act[i] >= 0 && b.act[i] < BD_NUM_ACTIONS);
                CHECK(!(b.done[i] && b.trunc[i]));
                rl_mlp_forward(&m, params, o, 1, lg, &v);
                CHECK(v == b.value[i]);
                double mx = lg[0], s = 0;
                for (int j = 1; j < BD_NUM_ACTIONS; j++)
                    mx = lg[j] > mx ? lg[j] : mx;
                for (int j = 0; j < BD_NUM_ACTIONS; j++)
                    s += exp(lg[j] - mx);
                CHECK_NEAR(b.logp[i], lg[b.act[i]] - mx - log(s), 1e-5);
                for (int k = 0; k < D; k++)
                    CHECK(isfinite(o[k]));
                if (b.trunc[i]) {
                    n_trunc++;
                    rl_mlp_forward(&m, params, b.trunc_obs + i * D, 1, NULL, &v);
                    CHECK(v == b.final_value[i]);
                    /* The time feature says the episode ran out. */
                    CHECK_NEAR(b.trunc_obs[i * D + BD_OBS_TIME_LEFT], 0.0, 1e-6);
                    /* ... and the next observation starts a new one. */
                    const float *next = t + 1 < T ? b.obs + (i + E) * D : b.bootstrap_obs + e * D;
                    CHECK_NEAR(next[BD_OBS_TIME_LEFT], 1.0, 1e-6);
                } else {
                    CHECK(b.final_value[i] == 0.0f);
                }
                n_done += b.done[i];
            }
        for (int e = 0; e < E; e++) {
            rl_mlp_forward(&m, params, b.bootstrap_obs + e * D, 1, NULL, &v);
            CHECK(v == b.bootstrap_value[e]);
        }
    }
    CHECK(n_trunc >= E * 3 * (T / 15) / 2); /* random play rarely scores in 15 steps */
    const struct rl_collect_stats *s = &c.stats;
    CHECK_EQ_U64(s->steps, (uint64_t)3 * T * E);
    uint64_t eps = 0, outcomes = 0;
    for (int k = 0; k < RL_OPP_KINDS; k++) {
        eps += s->episodes[k];
        outcomes += s->wins[k] + s->losses[k] + s->draws[k];
        CHECK(s->episodes[k] > 0); /* every kind of opponent was drawn */
    }
    CHECK_EQ_U64(eps, (uint64_t)(n_trunc + n_done));
    CHECK_EQ_U64(outcomes, eps);
    printf("3 windows: %d truncated, %d terminal episodes\n", n_trunc, n_done);

    /* A wrong shape is refused. */
    struct rl_rollout_buf bad = b;
    bad.E = E + 1;
    CHECK(rl_collect(&c, params, NULL, &bad) < 0);

    rl_collector_free(&c);
    free(block);

    check_replay(&m, params);
    free(params);
    return 0;
}
