/* test_train_repro — the single-process trainer is bit-for-bit reproducible:
 * the same seed gives identical parameters, Adam moments and episode
 * statistics after N updates (with every opponent kind in play and the
 * annealing moving); another seed gives different parameters.  Evaluation is
 * deterministic for a seed too. */
#include <math.h>

#include "check.h"
#include "rl/train_loop.h"

enum { UPDATES = 6 };

/* Runs UPDATES updates; in_play[k] counts (update, env) pairs that played
 * against opponent kind k during the window just collected. */
static void run(uint64_t seed, struct rl_trainer *t, long in_play[RL_OPP_KINDS])
{
    memset(in_play, 0, sizeof(long) * RL_OPP_KINDS);
    struct rl_train_config c;
    rl_train_config_default(&c);
    c.envs = 16;
    c.horizon = 32;
    c.seed = seed;
    c.ppo.lr_end = c.ppo.lr * 0.1f;
    c.shaping_end = 0.0f;
    c.mix = (struct rl_opponent_mix){{0.5f, 0.3f, 0.2f}};
    c.mix_end = (struct rl_opponent_mix){{0.0f, 0.5f, 0.5f}};
    CHECK_EQ_INT(rl_trainer_init(t, &c), 0);
    for (int u = 0; u < UPDATES; u++) {
        struct rl_ppo_stats st;
        /* The opponents drawn for the running episodes play this window. */
        for (int e = 0; e < t->col.E; e++) {
            CHECK(t->col.opp[e] < RL_OPP_KINDS);
            in_play[t->col.opp[e]]++;
        }
        CHECK_EQ_INT(rl_trainer_iterate(t, (double)u / UPDATES, &st), 0);
        CHECK(isfinite(st.loss) && isfinite(st.approx_kl) && isfinite(st.explained_var));
        CHECK(st.entropy > 0.0f && st.entropy <= logf(BD_NUM_ACTIONS) + 1e-4f);
        CHECK_EQ_INT(st.samples, 16 * 32);
    }
    CHECK_EQ_INT(t->updates, UPDATES);
}

int main(void)
{
    struct rl_trainer a, b, c;
    long play_a[RL_OPP_KINDS], play_b[RL_OPP_KINDS], play_c[RL_OPP_KINDS];
    run(5, &a, play_a);
    run(5, &b, play_b);
    run(6, &c, play_c);
    /* Every opponent kind was in play (so the comparison covers the random
     * draws, the scripted policy and self-play).  Episodes are longer than
     * the run, so the kinds are those drawn at the start, from seeds 5 and 6
     * (fixed: the draw is deterministic). */
    for (int k = 0; k < RL_OPP_KINDS; k++) {
        printf("%-8s in play %ld env-windows\n", rl_opponent_name(k), play_a[k]);
        CHECK_MSG(play_a[k] > 0 && play_c[k] > 0, "opponent %s never played", rl_opponent_name(k));
        CHECK_EQ_INT(play_a[k], play_b[k]);
    }
    const size_t n = a.net.n_params * sizeof(float);
    CHECK(memcmp(a.ppo.params, b.ppo.params, n) == 0);
    CHECK(memcmp(a.ppo.adam.m, b.ppo.adam.m, n) == 0);
    CHECK(memcmp(a.ppo.adam.v, b.ppo.adam.v, n) == 0);
    CHECK(memcmp(&a.col.stats, &b.col.stats, sizeof a.col.stats) == 0);
    CHECK(memcmp(a.ppo.params, c.ppo.params, n) != 0);
    /* Training moved the parameters away from the initialisation. */
    float *init = rl_mlp_alloc(&a.net);
    CHECK(init);
    rl_mlp_params_init(&a.net, init, 5);
    CHECK(memcmp(init, a.ppo.params, n) != 0);
    free(init);

    struct rl_eval_result r1, r2;
    CHECK_EQ_INT(rl_evaluate(&a.net, a.ppo.params, RL_OPP_RANDOM, 20, 0, NULL, 9, &r1), 0);
    CHECK_EQ_INT(rl_evaluate(&a.net, a.ppo.params, RL_OPP_RANDOM, 20, 0, NULL, 9, &r2), 0);
    CHECK(memcmp(&r1, &r2, sizeof r1) == 0);
    CHECK_EQ_INT(r1.episodes, 20);
    CHECK_EQ_INT(r1.wins + r1.losses + r1.draws, 20);
    CHECK(rl_evaluate(&a.net, a.ppo.params, 7, 20, 0, NULL, 9, &r1) < 0);
    /* target_kl: an update stops after the epoch that exceeds it. */
    struct rl_ppo_stats st;
    b.ppo.cfg.target_kl = 1e-12f;
    CHECK_EQ_INT(rl_trainer_iterate(&b, 1.0, &st), 0);
    CHECK_EQ_INT(st.epochs_run, 1);
    b.ppo.cfg.target_kl = 0.0f;
    CHECK_EQ_INT(rl_trainer_iterate(&b, 1.0, &st), 0);
    CHECK_EQ_INT(st.epochs_run, b.ppo.cfg.epochs);
    rl_trainer_free(&a);
    rl_trainer_free(&b);
    rl_trainer_free(&c);
    return 0;
}
