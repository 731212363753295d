/* test_env_mirror — one policy can play either side.
 *
 *  - Observations: the mirror image of a state (world turned by 180 degrees,
 *    players swapped) gives the right player exactly the observation the
 *    left player had, and the other way round, for states met in play.
 *  - Dynamics: stepping the mirror image with the actions swapped gives the
 *    mirror image of the step, tick after tick, through contacts, goals and
 *    kickoffs (kickoff_jitter 0 makes kickoffs symmetric too).
 *  - The kickoff distribution is fair: the left start and the mirrored right
 *    start have the same spread. */
#include "../tests/check.h"

#include <math.h>

#include "rl/baselines.h"
#include "rl/env.h"
#include "rl/rng.h"

/* Float equality that takes -0 == +0 (mirroring 0 gives -0). */
static void check_obs_equal(const float *a, const float *b, const char *what, int t)
{
    for (int i = 0; i < BD_OBS_DIM; i++)
        CHECK_MSG(a[i] == b[i], "%s at %d: obs[%d] %.9g vs %.9g", what, t, i, a[i], b[i]);
}

static void check_state_mirrored(const struct bd_state *a, const struct bd_state *mb, int t)
{
    struct bd_state m;
    bd_state_mirror(a, &m);
    const float *x = &m.ball.x, *y = &mb->ball.x;
    for (int i = 0; i < 4; i++)
        CHECK_MSG(x[i] == y[i], "tick %d: ball field %d %.9g vs %.9g", t, i, x[i], y[i]);
    for (int p = 0; p < 2; p++) {
        const struct bd_player *u = &m.p[p], *v = &mb->p[p];
        CHECK_MSG(u->x == v->x && u->y == v->y && u->vx == v->vx && u->vy == v->vy &&
                      u->hc == v->hc && u->hs == v->hs && u->turn == v->turn &&
                      u->cooldown == v->cooldown,
                  "tick %d: player %d (%.9g, %.9g) vs (%.9g, %.9g)", t, p, u->x, u->y, v->x,
                  v->y);
        CHECK_EQ_INT(m.goals[p], mb->goals[p]);
        CHECK_EQ_INT(m.touches[p], mb->touches[p]);
        CHECK_MSG(m.ret[p] == mb->ret[p], "tick %d: return %d %.9g vs %.9g", t, p, m.ret[p],
                  mb->ret[p]);
    }
    CHECK_EQ_INT(m.tick, mb->tick);
    CHECK_EQ_INT(m.contact, mb->contact);
}

static void test_mirrored_observations(void)
{
    enum { E = 64, STEPS = 600 };
    struct bd_config cfg;
    bd_config_default(&cfg);
    struct bd_env *env;
    CHECK_EQ_INT(bd_env_create(&env, &cfg, E), 0);
    bd_env_reset(env, 8);
    static float ol[E * BD_OBS_DIM], orr[E * BD_OBS_DIM];
    int32_t al[E], ar[E];
    struct rl_rng rng = rl_rng_make(1);
    struct bd_step_out out;
    memset(&out, 0, sizeof out);
    out.obs[0] = ol;
    out.obs[1] = orr;
    bd_env_observe(env, ol, orr);
    int checked = 0;
    for (int t = 0; t < STEPS; t++) {
        /* Half the envs scripted vs random, half the other way, so states
         * of every kind (possession on either side) come up. */
        bd_policy_scripted(ol, E / 2, al);
        bd_policy_random(&rng, E / 2, ar);
        bd_policy_random(&rng, E / 2, al + E / 2);
        bd_policy_scripted(orr + E / 2 * BD_OBS_DIM, E / 2, ar + E / 2);
        bd_env_step(env, al, ar, &out);
        for (uint32_t e = 0; e < E; e += 7) {
            struct bd_state s, m;
            float a[BD_OBS_DIM], b[BD_OBS_DIM];
            bd_env_get_state(env, e, &s);
            bd_state_mirror(&s, &m);
            bd_obs_from_state(&s, &cfg, 0, a);
            bd_obs_from_state(&m, &cfg, 1, b);
            check_obs_equal(a, b, "left vs mirrored right", t);
            bd_obs_from_state(&s, &cfg, 1, a);
            bd_obs_from_state(&m, &cfg, 0, b);
            check_obs_equal(a, b, "right vs mirrored left", t);
            /* and what the batch wrote is what the state says */
            check_obs_equal(ol + e * BD_OBS_DIM, (bd_obs_from_state(&s, &cfg, 0, a), a), "batch",
                            t);
            /* the mirror of the mirror is the state */
            check_state_mirrored(&m, &s, t);
            checked++;
        }
    }
    CHECK(checked > 1000);
    bd_env_destroy(env);
}

static void test_mirrored_dynamics(void)
{
    struct bd_config cfg;
    bd_config_default(&cfg);
    cfg.frame_skip = 1;
    cfg.kickoff_jitter = 0.0f; /* kickoffs are then mirror images too */
    cfg.max_goals = 0;         /* goals re-kick off and play goes on */
    struct bd_env *a, *b;
    CHECK_EQ_INT(bd_env_create(&a, &cfg, 1), 0);
    CHECK_EQ_INT(bd_env_create(&b, &cfg, 1), 0);
    struct rl_rng rng = rl_rng_make(77);
    int goals = 0, contacts = 0;
    for (int run = 0; run < 20; run++) {
        /* A start from real play, then its mirror. */
        struct bd_state s, m;
        bd_env_reset(a, (uint64_t)run);
        bd_env_get_state(a, 0, &s);
        s.ball.x = (rl_rng_float(&rng) * 2 - 1) * 8;
        s.ball.y = (rl_rng_float(&rng) * 2 - 1) * 5;
        s.ball.vx = (rl_rng_float(&rng) * 2 - 1) * 10;
        s.ball.vy = (rl_rng_float(&rng) * 2 - 1) * 10;
        bd_env_set_state(a, 0, &s);
        bd_env_get_state(a, 0, &s);
        bd_state_mirror(&s, &m);
        bd_env_set_state(b, 0, &m);
        float oa[2][BD_OBS_DIM], ob[2][BD_OBS_DIM];
        float ra[2], rb[2];
        struct bd_step_out outa = {.obs = {oa[0], oa[1]}, .rew = {&ra[0], &ra[1]}};
        struct bd_step_out outb = {.obs = {ob[0], ob[1]}, .rew = {&rb[0], &rb[1]}};
        bd_env_observe(a, oa[0], oa[1]);
        for (int t = 0; t < 1500; t++) {
            int32_t al, ar;
            /* Scripted for one player, random for the other: contacts,
             * dashes, turns and goals all happen. */
            bd_policy_scripted(oa[0], 1, &al);
            bd_policy_random(&rng, 1, &ar);
            if (run % 2) {
                int32_t tmp;
                bd_policy_scripted(oa[1], 1, &tmp);
                ar = tmp;
                bd_policy_random(&rng, 1, &al);
            }
            bd_env_step(a, &al, &ar, &outa);
            bd_env_step(b, &ar, &al, &outb);
            CHECK(ra[0] == rb[1] && ra[1] == rb[0]);
            check_obs_equal(oa[0], ob[1], "dynamics left", t);
            check_obs_equal(oa[1], ob[0], "dynamics right", t);
            struct bd_state sa, sb;
            bd_env_get_state(a, 0, &sa);
            bd_env_get_state(b, 0, &sb);
            check_state_mirrored(&sa, &sb, t);
            contacts += sa.contact != 0;
            goals += ra[0] > 0.5f || ra[0] < -0.5f;
        }
    }
    CHECK(contacts > 100);
    CHECK(goals > 5);
    bd_env_destroy(a);
    bd_env_destroy(b);
}

static void test_fair_kickoffs(void)
{
    enum { E = 4096 };
    struct bd_env *env;
    CHECK_EQ_INT(bd_env_create(&env, NULL, E), 0);
    bd_env_reset(env, 3);
    double sum[2][3] = {{0}}, sq[2][3] = {{0}};
    for (uint32_t e = 0; e < E; e++) {
        struct bd_state s;
        float o[2][BD_OBS_DIM];
        bd_env_get_state(env, e, &s);
        bd_obs_from_state(&s, NULL, 0, o[0]);
        bd_obs_from_state(&s, NULL, 1, o[1]);
        for (int side = 0; side < 2; side++) {
            float v[3] = {o[side][BD_OBS_SELF_X], o[side][BD_OBS_SELF_Y],
                          o[side][BD_OBS_GOAL_LEFT]};
            for (int k = 0; k < 3; k++) {
                sum[side][k] += v[k];
                sq[side][k] += (double)v[k] * v[k];
            }
        }
    }
    for (int k = 0; k < 3; k++) {
        CHECK_NEAR(sum[0][k] / E, sum[1][k] / E, 0.02);
        CHECK_NEAR(sq[0][k] / E, sq[1][k] / E, 0.02);
    }
    CHECK_NEAR(sum[0][0] / E, -0.5, 0.02); /* both start in their own half */
    bd_env_destroy(env);
}

int main(void)
{
    test_mirrored_observations();
    test_mirrored_dynamics();
    test_fair_kickoffs();
    return 0;
}
