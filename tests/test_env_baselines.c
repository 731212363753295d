/* test_env_baselines — the yardsticks behave as yardsticks.
 *
 *  - The scripted policy beats random in at least 90% of 1000 seeded
 *    episodes (500 as left, 500 as right, default config: first goal wins,
 *    20 s limit, decisions at 30 Hz).
 *  - Scripted against scripted is balanced: neither side wins much more than
 *    the other (the env and the policy have no side bias).
 *  - Random against random almost never scores: draws dominate.
 *  - The random policy is uniform over the 30 actions; the scripted one is a
 *    pure function of the observation. */
#include "../tests/check.h"

#include "rl/baselines.h"
#include "rl/env.h"
#include "rl/rng.h"

struct tally {
    int win[3]; /* indexed by enum bd_winner */
};

/* Plays the first episode of each of E envs to its end. */
static struct tally play(enum bd_baseline left, enum bd_baseline right, uint32_t E, uint64_t seed)
{
    struct bd_env *env;
    CHECK_EQ_INT(bd_env_create(&env, NULL, E), 0);
    bd_env_reset(env, seed);
    float *obs[2];
    for (int i = 0; i < 2; i++)
        obs[i] = malloc(sizeof(float) * E * BD_OBS_DIM);
    int32_t *al = malloc(sizeof(int32_t) * E), *ar = malloc(sizeof(int32_t) * E);
    uint8_t *done = calloc(E, 1), *trunc = calloc(E, 1), *seen = calloc(E, 1);
    struct bd_episode *eps = calloc(E, sizeof *eps);
    struct bd_step_out o = {
        .obs = {obs[0], obs[1]}, .done = done, .trunc = trunc, .episodes = eps};
    struct rl_rng rl = rl_rng_make(seed * 2 + 1), rr = rl_rng_make(seed * 2 + 2);
    struct tally t = {{0}};
    bd_env_observe(env, obs[0], obs[1]);
    uint32_t left_to_finish = E;
    while (left_to_finish) {
        bd_baseline_act(left, &rl, obs[0], E, al);
        bd_baseline_act(right, &rr, obs[1], E, ar);
        bd_env_step(env, al, ar, &o);
        for (uint32_t e = 0; e < E; e++) {
            if (!(done[e] | trunc[e]) || seen[e])
                continue;
            seen[e] = 1;
            left_to_finish--;
            CHECK_EQ_U64(eps[e].episode_id, (uint64_t)e << 32);
            t.win[eps[e].winner]++;
        }
    }
    for (int i = 0; i < 2; i++)
        free(obs[i]);
    free(al);
    free(ar);
    free(done);
    free(trunc);
    free(seen);
    free(eps);
    bd_env_destroy(env);
    return t;
}

int main(void)
{
    struct tally a = play(BD_BASELINE_SCRIPTED, BD_BASELINE_RANDOM, 500, 1);
    struct tally b = play(BD_BASELINE_RANDOM, BD_BASELINE_SCRIPTED, 500, 2);
    int wins = a.win[BD_WINNER_LEFT] + b.win[BD_WINNER_RIGHT];
    printf("scripted vs random: %d wins, %d draws, %d losses of 1000\n", wins,
           a.win[BD_WINNER_DRAW] + b.win[BD_WINNER_DRAW],
           a.win[BD_WINNER_RIGHT] + b.win[BD_WINNER_LEFT]);
    CHECK_MSG(wins >= 900, "scripted beat random in only %d of 1000 episodes", wins);
    /* as either side, not just on average */
    CHECK(a.win[BD_WINNER_LEFT] >= 430 && b.win[BD_WINNER_RIGHT] >= 430);

    struct tally s = play(BD_BASELINE_SCRIPTED, BD_BASELINE_SCRIPTED, 1000, 3);
    printf("scripted vs scripted: left %d, right %d, draws %d\n", s.win[BD_WINNER_LEFT],
           s.win[BD_WINNER_RIGHT], s.win[BD_WINNER_DRAW]);
    CHECK(abs(s.win[BD_WINNER_LEFT] - s.win[BD_WINNER_RIGHT]) < 100);

    struct tally r = play(BD_BASELINE_RANDOM, BD_BASELINE_RANDOM, 500, 4);
    printf("random vs random: left %d, right %d, draws %d\n", r.win[BD_WINNER_LEFT],
           r.win[BD_WINNER_RIGHT], r.win[BD_WINNER_DRAW]);
    CHECK(r.win[BD_WINNER_DRAW] > 400);

    /* Random is uniform: chi-square over 30 bins, 300 000 draws. */
    {
        enum { N = 300000 };
        static int32_t act[N];
        struct rl_rng g = rl_rng_make(9);
        bd_policy_random(&g, N, act);
        int count[BD_NUM_ACTIONS] = {0};
        for (int i = 0; i < N; i++) {
            CHECK(act[i] >= 0 && act[i] < BD_NUM_ACTIONS);
            count[act[i]]++;
        }
        double chi2 = 0, expect = (double)N / BD_NUM_ACTIONS;
        for (int k = 0; k < BD_NUM_ACTIONS; k++)
            chi2 += (count[k] - expect) * (count[k] - expect) / expect;
        CHECK_MSG(chi2 < 70.0, "chi2 %.1f over 29 degrees of freedom", chi2); /* p ~ 3e-5 */
    }

    /* Scripted is a pure function of the observation, and dashes only when
     * lined up with the ball and the goal. */
    {
        float o[BD_OBS_DIM] = {0};
        o[BD_OBS_SELF_X] = -0.3f;
        o[BD_OBS_SELF_COS] = 1.0f;
        o[BD_OBS_BALL_X] = -0.2f; /* ball 1 m ahead, goal straight on */
        int32_t x, y;
        bd_policy_scripted(o, 1, &x);
        bd_policy_scripted(o, 1, &y);
        CHECK_EQ_INT(x, y);
        CHECK_EQ_INT(x, BD_ACTION(BD_MOVE_FORWARD, BD_TURN_NONE, 1));
        o[BD_OBS_SELF_COOLDOWN] = 0.5f;
        bd_policy_scripted(o, 1, &x);
        CHECK_EQ_INT(x, BD_ACTION(BD_MOVE_FORWARD, BD_TURN_NONE, 0));
        o[BD_OBS_SELF_X] = 0.0f; /* past the ball: go round it, no dash */
        o[BD_OBS_SELF_Y] = 0.05f;
        bd_policy_scripted(o, 1, &x);
        CHECK_EQ_INT(BD_ACTION_DASH(x), 0);
        CHECK(BD_ACTION_MOVE(x) != BD_MOVE_STOP);
    }
    CHECK_EQ_INT(bd_baseline_parse("random"), BD_BASELINE_RANDOM);
    CHECK_EQ_INT(bd_baseline_parse("scripted"), BD_BASELINE_SCRIPTED);
    CHECK_EQ_INT(bd_baseline_parse("nope"), -1);
    CHECK_STR(bd_baseline_name(BD_BASELINE_SCRIPTED), "scripted");
    return 0;
}
