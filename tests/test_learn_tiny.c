/* test_learn_tiny — PPO learns two tiny problems to their optimum within a
 * fixed number of updates, deterministically for a seed:
 *
 *   bandit    4 contexts (one-hot), 10 actions, reward 1 for the one right
 *             action of the context, 0 otherwise; every step is terminal.
 *   corridor  positions 0..5, start at 0, actions left/stay/right, reward +1
 *             on reaching 5 (terminal), -0.01 per step otherwise, truncated
 *             after 12 steps (time limit, so GAE bootstraps there).
 *
 * Each run collects windows with rl_mlp_act, updates with rl_ppo_update on
 * the window's view, and must end with the greedy policy optimal; running it
 * twice gives bit-identical parameters, and another seed (same number of
 * updates) also learns the optimum with different parameters. */
#include <math.h>

#include "check.h"
#include "rl/ppo.h"

enum { T = 16, E = 32 };

struct tiny {
    int obs_dim, n_actions;
    int state[E], steps[E];
    struct rl_rng rng;
    double ep_len_sum, ep_ret_sum;
    int episodes;
};

static const int bandit_best[4] = {3, 7, 0, 9};
static const int corridor_len = 5, corridor_limit = 12;

static void observe(const struct tiny *w, int e, float *o)
{
    memset(o, 0, sizeof(float) * w->obs_dim);
    o[w->state[e]] = 1.0f;
}

static void reset_env(struct tiny *w, int e, int bandit)
{
    w->state[e] = bandit ? (int)rl_rng_below(&w->rng, 4) : 0;
    w->steps[e] = 0;
}

/* One step of env e with action a. */
static void step(struct tiny *w, int bandit, int e, int a, float *rew, uint8_t *done,
                 uint8_t *trunc, float *final_obs)
{
    *done = *trunc = 0;
    if (bandit) {
        *rew = a == bandit_best[w->state[e]] ? 1.0f : 0.0f;
        *done = 1;
    } else {
        int s = w->state[e] + (a == 2) - (a == 0);
        s = s < 0 ? 0 : s;
        w->state[e] = s;
        w->steps[e]++;
        *rew = s == corridor_len ? 1.0f : -0.01f;
        *done = s == corridor_len;
        *trunc = !*done && w->steps[e] >= corridor_limit;
    }
    if (*done || *trunc) {
        observe(w, e, final_obs);
        w->episodes++;
        w->ep_len_sum += bandit ? 1 : w->steps[e];
        w->ep_ret_sum += *rew;
        reset_env(w, e, bandit);
    }
}

/* Trains for `updates` updates; returns the learner (caller frees).  SEED
 * drives the environment and the action sampling, PPO_SEED the learner
 * (rl_ppo_init: initial parameters and minibatch order); when INIT_SEED
 * differs from PPO_SEED the initial parameters are redrawn from it, so each
 * use of a seed can be changed alone. */
static void train(int bandit, int updates, uint64_t seed, uint64_t ppo_seed, uint64_t init_seed,
                  struct rl_ppo *p, struct tiny *w)
{
    memset(w, 0, sizeof *w);
    w->obs_dim = bandit ? 4 : corridor_len + 1;
    w->n_actions = bandit ? 10 : 3;
    w->rng = rl_rng_make(seed);
    struct rl_mlp m;
    const int hid[2] = {16, 16};
    CHECK_EQ_INT(rl_mlp_init(&m, w->obs_dim, w->n_actions, hid, 2), 0);
    struct rl_ppo_config c;
    rl_ppo_config_default(&c);
    c.lr = 3e-3f;
    c.gamma = 0.9f;
    c.ent_coef = 0.003f;
    CHECK_EQ_INT(rl_ppo_init(p, &m, &c, ppo_seed), 0);
    if (init_seed != ppo_seed)
        rl_mlp_params_init(&p->net, p->params, init_seed);
    struct rl_rollout_buf b;
    CHECK_EQ_INT(rl_rollout_buf_alloc(&b, T, E, w->obs_dim, 0), 0);
    struct rl_rng act_rng = rl_rng_make(seed + 1);
    float *cur = malloc(sizeof(float) * E * w->obs_dim), *fo = malloc(sizeof(float) * w->obs_dim);
    CHECK(cur && fo);
    for (int e = 0; e < E; e++) {
        reset_env(w, e, bandit);
        observe(w, e, cur + e * w->obs_dim);
    }
    for (int u = 0; u < updates; u++) {
        w->episodes = 0;
        w->ep_len_sum = w->ep_ret_sum = 0;
        for (int t = 0; t < T; t++) {
            float *o = b.obs + (size_t)t * E * w->obs_dim;
            memcpy(o, cur, sizeof(float) * E * w->obs_dim);
            int32_t *a = b.act + t * E;
            rl_mlp_act(&p->net, p->params, o, E, &act_rng, a, b.logp + t * E, b.value + t * E);
            for (int e = 0; e < E; e++) {
                size_t i = (size_t)t * E + e;
                step(w, bandit, e, a[e], &b.rew[i], &b.done[i], &b.trunc[i], fo);
                b.final_value[i] = 0.0f;
                if (b.trunc[i] && !b.done[i])
                    rl_mlp_forward(&p->net, p->params, fo, 1, NULL, &b.final_value[i]);
                observe(w, e, cur + e * w->obs_dim);
            }
        }
        rl_mlp_forward(&p->net, p->params, cur, E, NULL, b.bootstrap_value);
        struct rl_rollout_view v = rl_rollout_buf_view(&b);
        struct rl_ppo_stats st;
        CHECK_EQ_INT(rl_ppo_update(p, &v, 1, c.lr, &st), 0);
        CHECK(isfinite(st.loss) && isfinite(st.entropy));
    }
    rl_rollout_buf_free(&b);
    free(cur);
    free(fo);
}

/* The greedy policy of P is optimal in every state. */
static void check_optimal(int bandit, const struct rl_ppo *p, uint64_t seed)
{
    float o[8];
    int n_states = bandit ? 4 : corridor_len;
    for (int s = 0; s < n_states; s++) {
        memset(o, 0, sizeof o);
        o[s] = 1.0f;
        int32_t a;
        rl_mlp_act(&p->net, p->params, o, 1, NULL, &a, NULL, NULL);
        CHECK_MSG(a == (bandit ? bandit_best[s] : 2), "%s seed %" PRIu64 " state %d: greedy action %d",
                  bandit ? "bandit" : "corridor", seed, s, a);
    }
}

static int same_params(const struct rl_ppo *a, const struct rl_ppo *b)
{
    return memcmp(a->params, b->params, sizeof(float) * a->net.n_params) == 0;
}

static void check_problem(int bandit, int updates)
{
    struct rl_ppo p1, p2;
    struct tiny w1, w2;
    train(bandit, updates, 1234, 1234, 1234, &p1, &w1);
    train(bandit, updates, 1234, 1234, 1234, &p2, &w2);
    /* Reproducible bit for bit. */
    CHECK(same_params(&p1, &p2));
    /* Optimal greedy policy. */
    check_optimal(bandit, &p1, 1234);
    /* The last window's episodes are (near) optimal. */
    double len = w1.ep_len_sum / w1.episodes, ret = w1.ep_ret_sum / w1.episodes;
    printf("%s after %d updates: %d episodes in the last window, mean length %.2f, "
           "mean final reward %.3f\n",
           bandit ? "bandit" : "corridor", updates, w1.episodes, len, ret);
    if (bandit)
        CHECK(ret > 0.9);
    else
        CHECK(len < 5.6);

    /* Seed dependence, with the same number of updates: another seed learns
     * the optimum too, by a different path (different parameters)... */
    struct rl_ppo p3, p4;
    struct tiny w3, w4;
    train(bandit, updates, 999, 999, 999, &p3, &w3);
    check_optimal(bandit, &p3, 999);
    CHECK_MSG(!same_params(&p1, &p3), "seeds 1234 and 999 gave identical parameters");
    /* ...and each use of the seed matters on its own, everything else
     * equal: the learner's generator (minibatch order) and the initial
     * parameters.  A learner that ignores its seed fails here. */
    train(bandit, updates, 1234, 999, 1234, &p4, &w4);
    CHECK_MSG(!same_params(&p4, &p1), "the learner's seed does not change the minibatch order");
    struct rl_ppo p5;
    struct tiny w5;
    train(bandit, updates, 1234, 1234, 999, &p5, &w5);
    CHECK_MSG(!same_params(&p5, &p1), "the initial parameters do not depend on the seed");
    /* rl_ppo_init draws the initial parameters from its seed
     * (rl_mlp_params_init), and two seeds give two draws. */
    struct rl_ppo q1, q2;
    struct rl_ppo_config qc;
    rl_ppo_config_default(&qc);
    CHECK_EQ_INT(rl_ppo_init(&q1, &p1.net, &qc, 1234), 0);
    CHECK_EQ_INT(rl_ppo_init(&q2, &p1.net, &qc, 999), 0);
    CHECK_MSG(!same_params(&q1, &q2), "rl_ppo_init ignores its seed for the parameters");
    float *i1 = malloc(sizeof(float) * p1.net.n_params);
    CHECK(i1);
    rl_mlp_params_init(&p1.net, i1, 1234);
    CHECK(memcmp(i1, q1.params, sizeof(float) * p1.net.n_params) == 0);
    free(i1);
    rl_ppo_free(&q1);
    rl_ppo_free(&q2);
    rl_ppo_free(&p1);
    rl_ppo_free(&p2);
    rl_ppo_free(&p3);
    rl_ppo_free(&p4);
    rl_ppo_free(&p5);
}

int main(void)
{
    check_problem(1, 40);
    check_problem(0, 60);
    return 0;
}
