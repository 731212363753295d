/* test_env_api — the contract of bd_env as the learner and the show use it.
 *
 *  - Spec: BD_OBS_DIM / BD_NUM_ACTIONS, the action index table, FNV-1a 64
 *    test vectors, the shape hash of the spec string.
 *  - Config: defaults, invalid configs and counts refused with -EINVAL.
 *  - Episodes: truncation at the time limit (trunc, not done; draw; final
 *    observation with no time left; the new episode's first observation),
 *    terminal goals, episode ids and seeds (auto-reset and reset_one start
 *    the same episode), play to the time limit with max_goals 0.
 *  - Rewards: goal + shaping = total; shaping telescopes to the change of
 *    potential over an episode and can be turned off at run time.
 *  - Actions out of range act as "stand still"; NULL outputs are allowed.
 *  - docs/env.md says what the code does: the spec version and shape hash,
 *    the observation table (size, order and names against the spec
 *    string, indices against enum bd_obs_index), the action table, the
 *    configuration defaults and the geometry constants are read from the
 *    page and compared with the compiled values. */
#include "../tests/check.h"
#include "../tests/doc_text.h"

#include <errno.h>
#include <math.h>

#include "rl/baselines.h"
#include "rl/env.h"
#include "rl/rng.h"

#define STILL BD_ACTION(BD_MOVE_STOP, BD_TURN_NONE, 0)

static void test_spec(void)
{
    CHECK_EQ_INT(BD_OBS_DIM, 28);
    CHECK_EQ_INT(BD_NUM_ACTIONS, 30);
    CHECK_EQ_INT(BD_ACTION(BD_MOVE_RIGHT, BD_TURN_RIGHT, 1), 29);
    for (int a = 0; a < BD_NUM_ACTIONS; a++)
        CHECK_EQ_INT(BD_ACTION(BD_ACTION_MOVE(a), BD_ACTION_TURN(a), BD_ACTION_DASH(a)), a);
    CHECK_EQ_INT(BD_ACTION_MOVE(BD_ACTION(BD_MOVE_BACK, BD_TURN_LEFT, 0)), BD_MOVE_BACK);
    CHECK_EQ_INT(BD_ACTION_TURN(BD_ACTION(BD_MOVE_BACK, BD_TURN_LEFT, 0)), BD_TURN_LEFT);

    /* FNV-1a 64 reference vectors. */
    CHECK_EQ_U64(bd_fnv1a64(BD_FNV_OFFSET, "", 0), 0xcbf29ce484222325ULL);
    CHECK_EQ_U64(bd_fnv1a64(BD_FNV_OFFSET, "a", 1), 0xaf63dc4c8601ec8cULL);
    CHECK_EQ_U64(bd_fnv1a64(BD_FNV_OFFSET, "foobar", 6), 0x85944171f73967e8ULL);
    const char *spec = bd_spec_string();
    CHECK_EQ_U64(bd_spec_hash(), bd_fnv1a64(BD_FNV_OFFSET, spec, strlen(spec)));
    CHECK(strstr(spec, "obs=f32[28]") != NULL);
    CHECK(strstr(spec, "act=i32[30]") != NULL);
}

/* i-th observation name of the spec string ("...;obs=f32[N]:a,b,c;..."). */
static void spec_obs_name(int i, char *out, size_t len)
{
    const char *p = strstr(bd_spec_string(), ":");
    CHECK(p);
    p++;
    for (int k = 0; k < i; k++) {
        p = strchr(p, ',');
        CHECK(p);
        p++;
    }
    size_t n = strcspn(p, ",;");
    CHECK(n < len);
    memcpy(out, p, n);
    out[n] = 0;
}

/* The index the page gives observation NAME (-1: not listed). */
static int obs_row_named(const char *md, const char *name)
{
    doc_cells cells;
    for (int i = 0; doc_row_n(md, "## Observation", i, cells) >= 2; i++)
        if (!strcmp(cells[1], name))
            return atoi(cells[0]);
    return -1;
}

/* docs/env.md against the code. */
static void test_doc(void)
{
    char *md = doc_load("DSHQ_ENV_DOC", "docs/env.md");
    int ok = 1;
    /* Spec version and shape hash, both places the page gives it. */
    char want[64];
    snprintf(want, sizeof want, "ball-drill/v%d;", BD_SPEC_VERSION);
    CHECK(!strncmp(bd_spec_string(), want, strlen(want)));
    ok &= doc_has(md, "Specification version: **ball-drill/v%d**", BD_SPEC_VERSION);
    ok &= doc_has(md, "shape hash **`0x%016llx`**", (unsigned long long)bd_spec_hash());
    ok &= doc_has(md, "today\n`0x%016llx`", (unsigned long long)bd_spec_hash());

    /* Observation: size, every row's index and name in the spec's order. */
    ok &= doc_has(md, "## Observation (BD_OBS_DIM = %d floats per side)", BD_OBS_DIM);
    doc_cells cells;
    for (int i = 0; i < BD_OBS_DIM; i++) {
        char name[64];
        spec_obs_name(i, name, sizeof name);
        CHECK_MSG(doc_row_n(md, "## Observation", i, cells) >= 2, "no observation row %d", i);
        CHECK_MSG(atoi(cells[0]) == i && !strcmp(cells[1], name),
                  "observation row %d: the page says '%s %s', the spec '%d %s'", i, cells[0],
                  cells[1], i, name);
    }
    CHECK_MSG(doc_row_n(md, "## Observation", BD_OBS_DIM, cells) == 0,
              "the page lists more than %d observation rows", BD_OBS_DIM);
    CHECK_EQ_INT(obs_row_named(md, "self_x"), BD_OBS_SELF_X);
    CHECK_EQ_INT(obs_row_named(md, "self_cooldown"), BD_OBS_SELF_COOLDOWN);
    CHECK_EQ_INT(obs_row_named(md, "ball_x"), BD_OBS_BALL_X);
    CHECK_EQ_INT(obs_row_named(md, "ball_vfwd"), BD_OBS_BALL_VFWD);
    CHECK_EQ_INT(obs_row_named(md, "opp_x"), BD_OBS_OPP_X);
    CHECK_EQ_INT(obs_row_named(md, "opp_cooldown"), BD_OBS_OPP_COOLDOWN);
    CHECK_EQ_INT(obs_row_named(md, "goal_fwd"), BD_OBS_GOAL_FWD);
    CHECK_EQ_INT(obs_row_named(md, "time_left"), BD_OBS_TIME_LEFT);

    /* Actions: the count and every cell of the table. */
    ok &= doc_has(md, "%d discrete actions", BD_NUM_ACTIONS);
    for (int m = 0; m < 5; m++) {
        CHECK_MSG(doc_row_n(md, "## Actions", m, cells) == 7, "action table row %d", m);
        CHECK_EQ_INT(atoi(cells[0]), m);
        for (int c = 0; c < 6; c++)
            CHECK_MSG(atoi(cells[1 + c]) == BD_ACTION(m, c / 2, c % 2),
                      "action table: move %d column %d says %s, BD_ACTION gives %d", m, c,
                      cells[1 + c], BD_ACTION(m, c / 2, c % 2));
    }
    CHECK_MSG(doc_row_n(md, "## Actions", 5, cells) == 0, "the action table has extra rows");

    /* Configuration defaults. */
    struct bd_config c;
    bd_config_default(&c);
    const struct {
        const char *field;
        double value;
    } defaults[] = {
        {"max_ticks", c.max_ticks},         {"frame_skip", c.frame_skip},
        {"max_goals", c.max_goals},         {"dash_cooldown_ticks", c.dash_cooldown_ticks},
        {"env_id_base", (double)c.env_id_base}, {"shaping_coef", c.shaping_coef},
        {"approach_coef", c.approach_coef}, {"kickoff_jitter", c.kickoff_jitter},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        CHECK_MSG(doc_row(md, "## Configuration", defaults[i].field, cells) >= 2,
                  "docs/env.md: no configuration row for %s", defaults[i].field);
        char *end;
        double v = strtod(cells[1], &end);
        CHECK_MSG(end != cells[1] && (float)v == (float)defaults[i].value,
                  "docs/env.md: %s default '%s', the code %g", defaults[i].field, cells[1],
                  defaults[i].value);
    }
    ok &= doc_has(md, "(default %u ticks = %g s)", c.dash_cooldown_ticks,
                  (double)c.dash_cooldown_ticks / BD_TICK_HZ);
    ok &= doc_has(md, "(default %u = %g s)", c.max_ticks, (double)c.max_ticks / BD_TICK_HZ);

    /* Geometry. */
    ok &= doc_has(md, "| field | %g x %g m, x in [-%g, %g], y in [-%g, %g] |", 2 * BD_HALF_X,
                  2 * BD_HALF_Y, BD_HALF_X, BD_HALF_X, BD_HALF_Y, BD_HALF_Y);
    ok &= doc_has(md, "| goal mouth | %g m wide, \\|y\\| < %g", 2 * BD_GOAL_HALF, BD_GOAL_HALF);
    ok &= doc_has(md, "| goal recess | %g m deep", BD_GOAL_DEPTH);
    ok &= doc_has(md, "| ball | circle, radius %g m |", BD_BALL_RADIUS);
    ok &= doc_has(md, "| players | %g m squares (half side %g)", 2 * BD_PLAYER_HALF,
                  BD_PLAYER_HALF);
    ok &= doc_has(md, "| tick | dt = 1/%d s", BD_TICK_HZ);
    CHECK_MSG(ok, "docs/env.md disagrees with the code (see above)");
    free(md);
}

static void test_config(void)
{
    struct bd_config c;
    bd_config_default(&c);
    /* The default values are compared with docs/env.md in test_doc. */
    struct bd_env *env = (struct bd_env *)(uintptr_t)1; /* must come back NULL */
    CHECK_EQ_INT(bd_env_create(&env, &c, 0), -EINVAL);
    CHECK(env == NULL);
    struct bd_config bad = c;
    bad.frame_skip = 0;
    CHECK_EQ_INT(bd_env_create(&env, &bad, 4), -EINVAL);
    bad = c;
    bad.max_ticks = 0;
    CHECK_EQ_INT(bd_env_create(&env, &bad, 4), -EINVAL);
    bad = c;
    bad.shaping_coef = NAN;
    CHECK_EQ_INT(bd_env_create(&env, &bad, 4), -EINVAL);
    CHECK_EQ_INT(bd_env_create(&env, NULL, 3), 0);
    CHECK_EQ_INT(bd_env_count(env), 3);
    CHECK_EQ_INT(bd_env_config(env)->max_ticks, 2400);
    bd_env_set_shaping(env, 0.25f, NAN);
    CHECK(bd_env_config(env)->shaping_coef == 0.25f);
    CHECK(bd_env_config(env)->approach_coef == 0.0f);
    bd_env_destroy(env);
    bd_env_destroy(NULL);
}

struct one {
    float obs[2][BD_OBS_DIM], fin[2][BD_OBS_DIM];
    float rew[2], goal[2], shape[2];
    uint8_t done, trunc;
    struct bd_episode ep;
    struct bd_step_out o;
};

static void one_init(struct one *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 2; i++) {
        s->o.obs[i] = s->obs[i];
        s->o.final_obs[i] = s->fin[i];
        s->o.rew[i] = &s->rew[i];
        s->o.rew_goal[i] = &s->goal[i];
        s->o.rew_shape[i] = &s->shape[i];
    }
    s->o.done = &s->done;
    s->o.trunc = &s->trunc;
    s->o.episodes = &s->ep;
}

static void test_truncation(void)
{
    struct bd_config c;
    bd_config_default(&c);
    c.max_ticks = 400; /* 100 steps of 4 ticks */
    c.kickoff_jitter = 0.0f;
    struct bd_env *env;
    CHECK_EQ_INT(bd_env_create(&env, &c, 1), 0);
    bd_env_reset(env, 1);
    struct one s;
    one_init(&s);
    int32_t a = STILL;
    for (int t = 1; t <= 100; t++) {
        int ended = bd_env_step(env, &a, &a, &s.o);
        CHECK_EQ_INT(s.done, 0);
        CHECK_EQ_INT(s.trunc, t == 100);
        CHECK_EQ_INT(ended, t == 100);
        if (t < 100)
            CHECK_NEAR(s.obs[0][BD_OBS_TIME_LEFT], 1.0 - t * 4 / 400.0, 1e-6);
    }
    CHECK_EQ_INT(s.ep.truncated, 1);
    CHECK_EQ_INT(s.ep.terminal, 0);
    CHECK_EQ_INT(s.ep.length, 400);
    CHECK_EQ_INT(s.ep.winner, BD_WINNER_DRAW);
    CHECK_EQ_U64(s.ep.episode_id, 0);
    CHECK(s.fin[0][BD_OBS_TIME_LEFT] == 0.0f);  /* the last observation ... */
    CHECK(s.obs[0][BD_OBS_TIME_LEFT] == 1.0f);  /* ... and the next episode's first */
    struct bd_state st;
    bd_env_get_state(env, 0, &st);
    CHECK_EQ_INT(st.episode, 1);
    CHECK_EQ_INT(st.tick, 0);
    struct bd_stats stats;
    bd_env_stats(env, &stats);
    CHECK_EQ_U64(stats.episodes, 1);
    CHECK_EQ_U64(stats.draws, 1);
    CHECK_EQ_U64(stats.truncated, 1);
    CHECK_EQ_U64(stats.ticks, 400);
    bd_env_destroy(env);
}

static void test_seeds_and_resets(void)
{
    struct bd_config c;
    bd_config_default(&c);
    c.max_ticks = 8;
    c.frame_skip = 8;
    struct bd_env *a, *b;
    CHECK_EQ_INT(bd_env_create(&a, &c, 4), 0);
    CHECK_EQ_INT(bd_env_create(&b, &c, 4), 0);
    bd_env_reset(a, 1000);
    bd_env_reset(b, 1000);
    /* Different envs, different kickoffs. */
    struct bd_state s0, s1;
    bd_env_get_state(a, 0, &s0);
    bd_env_get_state(a, 1, &s1);
    CHECK(s0.ball.x != s1.ball.x);
    /* One step ends every episode (8 ticks); the auto-reset state of env 2
     * equals reset_one's. */
    int32_t acts[4] = {3, 7, 11, 19};
    struct bd_step_out o = {0};
    struct bd_episode eps[4];
    o.episodes = eps;
    CHECK_EQ_INT(bd_env_step(a, acts, acts, &o), 4);
    CHECK_EQ_U64(eps[2].episode_id, 2ULL << 32);
    bd_env_reset_one(b, 2);
    bd_env_get_state(a, 2, &s0);
    bd_env_get_state(b, 2, &s1);
    CHECK(memcmp(&s0, &s1, sizeof s0) == 0);
    CHECK_EQ_INT(s0.episode, 1);
    bd_env_destroy(a);
    bd_env_destroy(b);
}

static void test_rewards(void)
{
    enum { E = 32 };
    struct bd_config c;
    bd_config_default(&c);
    c.shaping_coef = 0.7f;
    c.approach_coef = 0.3f;
    struct bd_env *env;
    CHECK_EQ_INT(bd_env_create(&env, &c, E), 0);
    bd_env_reset(env, 4);
    static float obs[2][E * BD_OBS_DIM], fin[2][E * BD_OBS_DIM];
    float rew[2][E], goal[2][E], shape[2][E];
    uint8_t done[E], trunc[E];
    struct bd_episode eps[E];
    struct bd_step_out o = {.obs = {obs[0], obs[1]},
                            .final_obs = {fin[0], fin[1]},
                            .rew = {rew[0], rew[1]},
                            .rew_goal = {goal[0], goal[1]},
                            .rew_shape = {shape[0], shape[1]},
                            .done = done,
                            .trunc = trunc,
                            .episodes = eps};
    /* Potential of each env at its episode start, from the first obs. */
    struct bd_state st;
    double start_pot[2][E], sum_shape[2][E] = {{0}};
    for (uint32_t e = 0; e < E; e++) {
        bd_env_get_state(env, e, &st);
        for (int side = 0; side < 2; side++) {
            float gx = st.ball.x - (side ? -BD_HALF_X : BD_HALF_X), gy = st.ball.y;
            float px = st.p[side].x - st.ball.x, py = st.p[side].y - st.ball.y;
            start_pot[side][e] = -(0.7 * sqrt(gx * gx + gy * gy) + 0.3 * sqrt(px * px + py * py)) /
                                 (2 * BD_HALF_X);
        }
    }
    bd_env_observe(env, obs[0], obs[1]);
    int32_t al[E], ar[E];
    int checked = 0, goals = 0;
    for (int t = 0; t < 2000 && checked < 64; t++) {
        bd_policy_scripted(obs[0], E, al);
        bd_policy_scripted(obs[1], E, ar);
        bd_env_step(env, al, ar, &o);
        for (uint32_t e = 0; e < E; e++) {
            for (int side = 0; side < 2; side++) {
                CHECK_NEAR(rew[side][e], goal[side][e] + shape[side][e], 1e-6);
                sum_shape[side][e] += shape[side][e];
            }
            CHECK(goal[0][e] == -goal[1][e]);
            if (!(done[e] | trunc[e]))
                continue;
            CHECK(!(done[e] && trunc[e]));
            /* Telescoping: the shaping of an episode is the potential at
             * its end minus the potential at its start. */
            bd_env_get_state(env, e, &st); /* already the next episode */
            const float *f[2] = {fin[0] + e * BD_OBS_DIM, fin[1] + e * BD_OBS_DIM};
            for (int side = 0; side < 2; side++) {
                float bx = f[side][BD_OBS_BALL_X] * BD_HALF_X, by = f[side][BD_OBS_BALL_Y] * BD_HALF_Y;
                float sx = f[side][BD_OBS_SELF_X] * BD_HALF_X, sy = f[side][BD_OBS_SELF_Y] * BD_HALF_Y;
                double gd = sqrt((bx - BD_HALF_X) * (bx - BD_HALF_X) + by * by);
                double pd = sqrt((sx - bx) * (sx - bx) + (sy - by) * (sy - by));
                double end_pot = -(0.7 * gd + 0.3 * pd) / (2 * BD_HALF_X);
                CHECK_NEAR(sum_shape[side][e], end_pot - start_pot[side][e], 2e-4);
                CHECK_NEAR(eps[e].ret[side], sum_shape[side][e] + (side ? -1 : 1) *
                           ((double)eps[e].goals[0] - eps[e].goals[1]), 2e-4);
                /* restart the bookkeeping for the new episode */
                float gx = st.ball.x - (side ? -BD_HALF_X : BD_HALF_X), gy = st.ball.y;
                float px = st.p[side].x - st.ball.x, py = st.p[side].y - st.ball.y;
                start_pot[side][e] = -(0.7 * sqrt(gx * gx + gy * gy) +
                                       0.3 * sqrt(px * px + py * py)) / (2 * BD_HALF_X);
                sum_shape[side][e] = 0;
            }
            if (done[e]) {
                goals++;
                CHECK_EQ_INT(eps[e].goals[0] + eps[e].goals[1], 1);
                CHECK_EQ_INT(eps[e].winner, eps[e].goals[0] ? BD_WINNER_LEFT : BD_WINNER_RIGHT);
                CHECK(goal[0][e] == (eps[e].goals[0] ? 1.0f : -1.0f));
            }
            checked++;
        }
    }
    CHECK(checked >= 64);
    CHECK(goals > 32);

    /* Shaping off at run time: rewards are the goal term alone. */
    bd_env_set_shaping(env, 0.0f, 0.0f);
    for (int t = 0; t < 200; t++) {
        bd_policy_scripted(obs[0], E, al);
        bd_policy_scripted(obs[1], E, ar);
        bd_env_step(env, al, ar, &o);
        for (uint32_t e = 0; e < E; e++)
            for (int side = 0; side < 2; side++) {
                CHECK(shape[side][e] == 0.0f);
                CHECK(rew[side][e] == goal[side][e]);
            }
    }
    bd_env_destroy(env);
}

static void test_play_to_time_limit(void)
{
    enum { E = 64 };
    struct bd_config c;
    bd_config_default(&c);
    c.max_goals = 0;
    c.max_ticks = 60 * BD_TICK_HZ;
    struct bd_env *env;
    CHECK_EQ_INT(bd_env_create(&env, &c, E), 0);
    bd_env_reset(env, 9);
    static float obs[2][E * BD_OBS_DIM];
    uint8_t done[E], trunc[E];
    struct bd_episode eps[E];
    struct bd_step_out o = {.obs = {obs[0], obs[1]}, .done = done, .trunc = trunc, .episodes = eps};
    bd_env_observe(env, obs[0], obs[1]);
    int32_t al[E], ar[E];
    int multi = 0;
    for (uint32_t t = 0; t < c.max_ticks / c.frame_skip; t++) {
        bd_policy_scripted(obs[0], E, al);
        bd_policy_scripted(obs[1], E, ar);
        int ended = bd_env_step(env, al, ar, &o);
        CHECK_EQ_INT(ended, t + 1 == c.max_ticks / c.frame_skip ? E : 0);
        for (uint32_t e = 0; e < E; e++)
            CHECK_EQ_INT(done[e], 0);
    }
    for (uint32_t e = 0; e < E; e++) {
        CHECK_EQ_INT(trunc[e], 1);
        CHECK_EQ_INT(eps[e].length, c.max_ticks);
        uint32_t want = eps[e].goals[0] > eps[e].goals[1]   ? BD_WINNER_LEFT
                        : eps[e].goals[1] > eps[e].goals[0] ? BD_WINNER_RIGHT
                                                            : BD_WINNER_DRAW;
        CHECK_EQ_INT(eps[e].winner, want);
        multi += eps[e].goals[0] + eps[e].goals[1] >= 2;
    }
    CHECK(multi > E / 2); /* a minute of scripted play has several goals */
    bd_env_destroy(env);
}

static void test_bad_actions_and_null_outputs(void)
{
    struct bd_config c;
    bd_config_default(&c);
    struct bd_env *a, *b;
    CHECK_EQ_INT(bd_env_create(&a, &c, 3), 0);
    CHECK_EQ_INT(bd_env_create(&b, &c, 3), 0);
    bd_env_reset(a, 2);
    bd_env_reset(b, 2);
    int32_t bad[3] = {-1, BD_NUM_ACTIONS, INT32_MAX}, still[3] = {STILL, STILL, STILL};
    struct bd_step_out none;
    memset(&none, 0, sizeof none);
    for (int t = 0; t < 50; t++) {
        bd_env_step(a, bad, bad, t % 2 ? &none : NULL);
        bd_env_step(b, still, still, &none);
    }
    for (uint32_t e = 0; e < 3; e++) {
        struct bd_state x, y;
        bd_env_get_state(a, e, &x);
        bd_env_get_state(b, e, &y);
        CHECK(memcmp(&x, &y, sizeof x) == 0);
    }
    bd_env_destroy(a);
    bd_env_destroy(b);
}

int main(void)
{
    test_spec();
    test_doc();
    test_config();
    test_truncation();
    test_seeds_and_resets();
    test_rewards();
    test_play_to_time_limit();
    test_bad_actions_and_null_outputs();
    return 0;
}
