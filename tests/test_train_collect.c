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
 *   - episode statistics add up. */
#include <math.h>

#include "check.h"
#include "rl/train_loop.h"

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
    size_t te = (size_t)T * E;
    size_t floats = te * D * 2 + te * 5 + E + (size_t)E * D;
    unsigned char *block = calloc(1, floats * 4 + 2 * te + 256);
    CHECK(block);
    struct rl_rollout_buf b = {.T = T, .E = E, .obs_dim = D};
    float *f = (float *)block;
    b.obs = f, f += te * D;
    b.trunc_obs = f, f += te * D;
    b.rew = f, f += te;
    b.logp = f, f += te;
    b.value = f, f += te;
    b.final_value = f, f += te;
    b.act = (int32_t *)f, f += te;
    b.bootstrap_value = f, f += E;
    b.bootstrap_obs = f, f += (size_t)E * D;
    b.done = (uint8_t *)f;
    b.trunc = b.done + te;

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
    free(params);
    return 0;
}
