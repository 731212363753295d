/* test_env_finite — no NaN or infinity ever reaches an observation.
 *
 *  - 64 envs under uniformly random actions (dash spam, spinning) for
 *    10 000 steps of 4 ticks: every observation, final observation and
 *    reward is finite, and every observation lies in [-clip, clip].
 *  - Poisoned states: set_state with NaN, infinities, huge values and a zero
 *    heading is sanitised; the env then steps on with finite outputs, and
 *    bd_obs_from_state on a raw poisoned state still returns finite values.
 *  - Extreme configurations (frame_skip 64, cooldown 0, huge shaping). */
#include "../tests/check.h"

#include <math.h>

#include "rl/env.h"
#include "rl/rng.h"

static void check_finite(const float *v, size_t n, float lim, const char *what, int t)
{
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(isfinite(v[i]) && v[i] >= -lim && v[i] <= lim, "%s[%zu] = %g at step %d", what,
                  i, v[i], t);
}

static void run(const struct bd_config *cfg, uint32_t E, int steps, struct rl_rng *rng,
                int poison)
{
    struct bd_env *env;
    CHECK_EQ_INT(bd_env_create(&env, cfg, E), 0);
    bd_env_reset(env, rl_rng_u64(rng));
    size_t no = (size_t)E * BD_OBS_DIM;
    float *obs[2], *fin[2], *rew[2];
    for (int i = 0; i < 2; i++) {
        obs[i] = malloc(no * sizeof(float));
        fin[i] = malloc(no * sizeof(float));
        rew[i] = malloc(E * sizeof(float));
    }
    uint8_t *done = malloc(E), *trunc = malloc(E);
    int32_t *al = malloc(E * sizeof(int32_t)), *ar = malloc(E * sizeof(int32_t));
    struct bd_step_out o = {.obs = {obs[0], obs[1]},
                            .final_obs = {fin[0], fin[1]},
                            .rew = {rew[0], rew[1]},
                            .done = done,
                            .trunc = trunc};
    const float bad[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 0.0f};
    for (int t = 0; t < steps; t++) {
        for (uint32_t e = 0; e < E; e++) {
            al[e] = (int32_t)rl_rng_below(rng, BD_NUM_ACTIONS);
            ar[e] = (int32_t)rl_rng_below(rng, BD_NUM_ACTIONS);
        }
        if (poison && t % 50 == 0) {
            uint32_t e = rl_rng_below(rng, E);
            struct bd_state s;
            bd_env_get_state(env, e, &s);
            float *fields = &s.ball.x;
            for (int k = 0; k < 4; k++)
                fields[k] = bad[rl_rng_below(rng, 6)];
            for (int p = 0; p < 2; p++) {
                float *pf = &s.p[p].x;
                for (int k = 0; k < 7; k++)
                    pf[k] = bad[rl_rng_below(rng, 6)];
                s.ret[p] = bad[rl_rng_below(rng, 6)];
            }
            /* The raw state straight into the observation function. */
            float raw[BD_OBS_DIM];
            bd_obs_from_state(&s, cfg, 0, raw);
            check_finite(raw, BD_OBS_DIM, BD_OBS_CLIP, "raw obs", t);
            bd_env_set_state(env, e, &s);
            bd_env_get_state(env, e, &s);
            const float *clean = &s.ball.x;
            check_finite(clean, 4, 1e6f, "sanitised ball", t);
        }
        bd_env_step(env, al, ar, &o);
        for (int i = 0; i < 2; i++) {
            check_finite(obs[i], no, BD_OBS_CLIP, "obs", t);
            check_finite(rew[i], E, 1e9f, "rew", t); /* finite; shaping may be huge */
            for (uint32_t e = 0; e < E; e++)
                if (done[e] | trunc[e])
                    check_finite(fin[i] + (size_t)e * BD_OBS_DIM, BD_OBS_DIM, BD_OBS_CLIP,
                                 "final obs", t);
        }
    }
    for (int i = 0; i < 2; i++) {
        free(obs[i]);
        free(fin[i]);
        free(rew[i]);
    }
    free(done);
    free(trunc);
    free(al);
    free(ar);
    bd_env_destroy(env);
}

int main(void)
{
    struct rl_rng rng = rl_rng_make(2024);
    struct bd_config cfg;
    bd_config_default(&cfg);
    run(&cfg, 64, 10000, &rng, 0);
    run(&cfg, 64, 5000, &rng, 1);
    cfg.frame_skip = 64;
    cfg.dash_cooldown_ticks = 0;
    cfg.shaping_coef = 1e6f;
    cfg.approach_coef = -1e6f;
    cfg.max_goals = 0;
    run(&cfg, 16, 2000, &rng, 1);
    return 0;
}
