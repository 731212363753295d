/* test_gae — GAE against hand-computed windows: plain bootstrap at the
 * horizon, a terminal step, a truncated step (bootstrap from the final
 * observation's value), both flags, and independence of envs. */
#include <math.h>

#include "check.h"
#include "rl/gae.h"

int main(void)
{
    enum { T = 4, E = 3 };
    const float g = 0.9f, l = 0.8f;
    /* env 0: no ends, horizon bootstrap
     * env 1: terminal at t=1 (next episode starts at t=2)
     * env 2: truncated at t=2 with final value 5, done+trunc at t=3 */
    float rew[T][E] = {{1, 0, 0}, {0, 1, 2}, {2, 0, 1}, {1, 3, -1}};
    float val[T][E] = {{0.5f, 1, 2}, {1, 2, 3}, {0, 1, 4}, {2, 1, 5}};
    uint8_t done[T][E] = {{0, 0, 0}, {0, 1, 0}, {0, 0, 0}, {0, 0, 1}};
    uint8_t trunc[T][E] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 1}, {0, 0, 1}};
    float fval[T][E] = {{0}, {0}, {0, 0, 5}, {0, 0, 99}};
    float boot[E] = {3, 4, 7};
    struct rl_rollout_view v = {.T = T, .E = E, .obs_dim = 1, .rew = &rew[0][0],
                                .value = &val[0][0], .done = &done[0][0], .trunc = &trunc[0][0],
                                .final_value = &fval[0][0], .bootstrap_value = boot};
    float adv[T][E], ret[T][E];
    rl_gae(&v, g, l, &adv[0][0], &ret[0][0]);

    /* env 0 by hand */
    double d3 = 1 + 0.9 * 3 - 2;   /* 1.7 */
    double d2 = 2 + 0.9 * 2 - 0;   /* 3.8 */
    double d1 = 0 + 0.9 * 0 - 1;   /* -1 */
    double d0 = 1 + 0.9 * 1 - 0.5; /* 1.4 */
    double a3 = d3, a2 = d2 + 0.72 * a3, a1 = d1 + 0.72 * a2, a0 = d0 + 0.72 * a1;
    CHECK_NEAR(adv[3][0], a3, 1e-5);
    CHECK_NEAR(adv[2][0], a2, 1e-5);
    CHECK_NEAR(adv[1][0], a1, 1e-5);
    CHECK_NEAR(adv[0][0], a0, 1e-5);
    for (int t = 0; t < T; t++)
        CHECK_NEAR(ret[t][0], adv[t][0] + val[t][0], 1e-5);

    /* env 1: t=3 bootstraps from 4; t=2 from V(3)=1; t=1 terminal; t=0 chains
     * into t=1 only. */
    double b3 = 3 + 0.9 * 4 - 1;            /* 5.6 */
    double b2 = (0 + 0.9 * 1 - 1) + 0.72 * b3;
    double b1 = 1 - 2;                      /* terminal: no bootstrap, no chain */
    double b0 = (0 + 0.9 * 2 - 1) + 0.72 * b1;
    CHECK_NEAR(adv[3][1], b3, 1e-5);
    CHECK_NEAR(adv[2][1], b2, 1e-5);
    CHECK_NEAR(adv[1][1], b1, 1e-5);
    CHECK_NEAR(adv[0][1], b0, 1e-5);

    /* env 2: t=3 done and trunc -> terminal (final value 99 ignored, and so is
     * the horizon bootstrap 7); t=2 truncated -> bootstrap from final value 5,
     * no chain into t=3; t=1, t=0 chain normally. */
    double c3 = -1 - 5.0;
    double c2 = 1 + 0.9 * 5 - 4;
    double c1 = (2 + 0.9 * 4 - 3) + 0.72 * c2;
    double c0 = (0 + 0.9 * 3 - 2) + 0.72 * c1;
    CHECK_NEAR(adv[3][2], c3, 1e-5);
    CHECK_NEAR(adv[2][2], c2, 1e-5);
    CHECK_NEAR(adv[1][2], c1, 1e-5);
    CHECK_NEAR(adv[0][2], c0, 1e-5);
    CHECK_NEAR(ret[2][2], c2 + 4, 1e-5);

    /* lambda = 1, gamma = 1 without ends: advantage = sum of future rewards +
     * bootstrap - V(t), i.e. Monte Carlo. */
    rl_gae(&v, 1.0f, 1.0f, &adv[0][0], &ret[0][0]);
    CHECK_NEAR(ret[0][0], 1 + 0 + 2 + 1 + 3, 1e-5);
    CHECK_NEAR(ret[1][0], 0 + 2 + 1 + 3, 1e-5);
    /* lambda = 0: one-step TD. */
    rl_gae(&v, g, 0.0f, &adv[0][0], &ret[0][0]);
    CHECK_NEAR(adv[0][0], d0, 1e-6);
    CHECK_NEAR(adv[1][0], d1, 1e-6);

    /* A window of T=1 uses only the bootstrap. */
    struct rl_rollout_view one = v;
    one.T = 1;
    rl_gae(&one, g, l, &adv[0][0], &ret[0][0]);
    CHECK_NEAR(adv[0][0], 1 + 0.9 * 3 - 0.5, 1e-6);
    return 0;
}
