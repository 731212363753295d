/* test_env_determinism — Ball Drill is bit-for-bit reproducible.
 *
 *  1. Two batches with the same seed and the same actions hold bit-identical
 *     state after 100 000 steps, and every output of every step is identical;
 *     a different seed gives a different trajectory.
 *  2. An env's trajectory does not depend on the batch: env 517 of a batch of
 *     1024 and a batch of 1 whose env_id_base is 517 produce the same outputs
 *     and states, through several auto-resets.
 *  3. frame_skip = 4 is exactly four ticks of frame_skip = 1 with the action
 *     held (same state, rewards summed in the same order). */
#include "../tests/check.h"

#include "rl/env.h"
#include "rl/rng.h"

/* Caller-owned output arrays for a batch of n envs. */
struct outs {
    float *obs[2], *rew[2], *goal[2], *shape[2], *fin[2];
    uint8_t *done, *trunc;
    struct bd_episode *eps;
    struct bd_step_out o;
};

static void outs_init(struct outs *s, uint32_t n)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 2; i++) {
        s->obs[i] = calloc((size_t)n * BD_OBS_DIM, sizeof(float));
        s->fin[i] = calloc((size_t)n * BD_OBS_DIM, sizeof(float));
        s->rew[i] = calloc(n, sizeof(float));
        s->goal[i] = calloc(n, sizeof(float));
        s->shape[i] = calloc(n, sizeof(float));
        s->o.obs[i] = s->obs[i];
        s->o.final_obs[i] = s->fin[i];
        s->o.rew[i] = s->rew[i];
        s->o.rew_goal[i] = s->goal[i];
        s->o.rew_shape[i] = s->shape[i];
    }
    s->done = calloc(n, 1);
    s->trunc = calloc(n, 1);
    s->eps = calloc(n, sizeof *s->eps);
    s->o.done = s->done;
    s->o.trunc = s->trunc;
    s->o.episodes = s->eps;
}

static void outs_free(struct outs *s)
{
    for (int i = 0; i < 2; i++) {
        free(s->obs[i]);
        free(s->fin[i]);
        free(s->rew[i]);
        free(s->goal[i]);
        free(s->shape[i]);
    }
    free(s->done);
    free(s->trunc);
    free(s->eps);
}

/* FNV-1a of env e's outputs in this step (final obs and episode if it ended). */
static uint64_t outs_hash_env(const struct outs *s, uint32_t e, uint64_t h)
{
    for (int i = 0; i < 2; i++) {
        h = bd_fnv1a64(h, s->obs[i] + (size_t)e * BD_OBS_DIM, BD_OBS_DIM * sizeof(float));
        h = bd_fnv1a64(h, &s->rew[i][e], sizeof(float));
        h = bd_fnv1a64(h, &s->goal[i][e], sizeof(float));
        h = bd_fnv1a64(h, &s->shape[i][e], sizeof(float));
    }
    h = bd_fnv1a64(h, &s->done[e], 1);
    h = bd_fnv1a64(h, &s->trunc[e], 1);
    if (s->done[e] | s->trunc[e]) {
        for (int i = 0; i < 2; i++)
            h = bd_fnv1a64(h, s->fin[i] + (size_t)e * BD_OBS_DIM, BD_OBS_DIM * sizeof(float));
        h = bd_fnv1a64(h, &s->eps[e], sizeof s->eps[e]);
    }
    return h;
}

/* Bitwise, except the running returns when with_ret is 0 (they are sums of
 * per-step rewards, so their rounding depends on how ticks group into steps). */
/* Every output of the step, for all n envs (final obs and episode records
 * only where an episode ended: elsewhere they are not written). */
static int outs_equal(const struct outs *a, const struct outs *b, uint32_t n)
{
    for (int i = 0; i < 2; i++) {
        if (memcmp(a->obs[i], b->obs[i], sizeof(float) * n * BD_OBS_DIM) ||
            memcmp(a->rew[i], b->rew[i], sizeof(float) * n) ||
            memcmp(a->goal[i], b->goal[i], sizeof(float) * n) ||
            memcmp(a->shape[i], b->shape[i], sizeof(float) * n))
            return 0;
    }
    if (memcmp(a->done, b->done, n) || memcmp(a->trunc, b->trunc, n))
        return 0;
    for (uint32_t e = 0; e < n; e++)
        if ((a->done[e] | a->trunc[e]) &&
            outs_hash_env(a, e, BD_FNV_OFFSET) != outs_hash_env(b, e, BD_FNV_OFFSET))
            return 0;
    return 1;
}

static void check_same_state_ret(const struct bd_env *a, uint32_t ea, const struct bd_env *b,
                                 uint32_t eb, int with_ret)
{
    struct bd_state sa, sb;
    bd_env_get_state(a, ea, &sa);
    bd_env_get_state(b, eb, &sb);
    if (!with_ret) {
        CHECK_NEAR(sa.ret[0], sb.ret[0], 1e-4);
        CHECK_NEAR(sa.ret[1], sb.ret[1], 1e-4);
        sa.ret[0] = sb.ret[0] = sa.ret[1] = sb.ret[1] = 0.0f;
    }
    CHECK_MSG(memcmp(&sa, &sb, sizeof sa) == 0, "env %u vs env %u differ (tick %u vs %u)", ea,
              eb, sa.tick, sb.tick);
}

static void check_same_state(const struct bd_env *a, uint32_t ea, const struct bd_env *b,
                             uint32_t eb)
{
    check_same_state_ret(a, ea, b, eb, 1);
}

static void test_same_seed_same_bits(void)
{
    enum { E = 4, STEPS = 100000, CMP_OTHER = 2000 };
    struct bd_env *a, *b, *c;
    CHECK_EQ_INT(bd_env_create(&a, NULL, E), 0);
    CHECK_EQ_INT(bd_env_create(&b, NULL, E), 0);
    CHECK_EQ_INT(bd_env_create(&c, NULL, E), 0);
    bd_env_reset(a, 42);
    bd_env_reset(b, 42);
    bd_env_reset(c, 43);
    struct outs oa, ob, oc;
    outs_init(&oa, E);
    outs_init(&ob, E);
    outs_init(&oc, E);
    struct rl_rng rng = rl_rng_make(7);
    int32_t al[E], ar[E];
    uint64_t ended = 0, diverged = 0;
    for (int t = 0; t < STEPS; t++) {
        for (int e = 0; e < E; e++) {
            al[e] = (int32_t)rl_rng_below(&rng, BD_NUM_ACTIONS);
            ar[e] = (int32_t)rl_rng_below(&rng, BD_NUM_ACTIONS);
        }
        int na = bd_env_step(a, al, ar, &oa.o);
        int nb = bd_env_step(b, al, ar, &ob.o);
        if (t < CMP_OTHER)
            bd_env_step(c, al, ar, &oc.o);
        CHECK_EQ_INT(na, nb);
        ended += (uint64_t)na;
        CHECK_MSG(outs_equal(&oa, &ob, E), "outputs differ at step %d", t);
        if (t < CMP_OTHER)
            diverged += memcmp(oa.obs[0], oc.obs[0], sizeof(float) * E * BD_OBS_DIM) != 0;
    }
    for (uint32_t e = 0; e < E; e++)
        check_same_state(a, e, b, e);
    struct bd_stats sa, sb;
    bd_env_stats(a, &sa);
    bd_env_stats(b, &sb);
    CHECK(memcmp(&sa, &sb, sizeof sa) == 0);
    CHECK_EQ_U64(sa.episodes, ended);
    CHECK(ended > 100); /* the run really crossed many auto-resets */
    CHECK(diverged > CMP_OTHER / 2); /* another seed is another trajectory */
    outs_free(&oa);
    outs_free(&ob);
    outs_free(&oc);
    bd_env_destroy(a);
    bd_env_destroy(b);
    bd_env_destroy(c);
}

static void test_batch_independence(void)
{
    enum { BIG = 1024, PICK = 517, STEPS = 500 };
    struct bd_config cfg;
    bd_config_default(&cfg);
    cfg.max_ticks = 400; /* short episodes: several auto-resets in 500 steps */
    struct bd_env *big, *one;
    CHECK_EQ_INT(bd_env_create(&big, &cfg, BIG), 0);
    cfg.env_id_base = PICK;
    CHECK_EQ_INT(bd_env_create(&one, &cfg, 1), 0);
    bd_env_reset(big, 99);
    bd_env_reset(one, 99);
    check_same_state(big, PICK, one, 0);

    struct outs ob, oo;
    outs_init(&ob, BIG);
    outs_init(&oo, 1);
    static int32_t al[BIG], ar[BIG];
    struct rl_rng rng = rl_rng_make(11);
    int episodes = 0;
    for (int t = 0; t < STEPS; t++) {
        for (int e = 0; e < BIG; e++) {
            al[e] = (int32_t)rl_rng_below(&rng, BD_NUM_ACTIONS);
            ar[e] = (int32_t)rl_rng_below(&rng, BD_NUM_ACTIONS);
        }
        bd_env_step(big, al, ar, &ob.o);
        bd_env_step(one, &al[PICK], &ar[PICK], &oo.o);
        CHECK_MSG(outs_hash_env(&ob, PICK, BD_FNV_OFFSET) == outs_hash_env(&oo, 0, BD_FNV_OFFSET),
                  "env %d of %d and the lone env differ at step %d", PICK, BIG, t);
        if (oo.done[0] | oo.trunc[0]) {
            episodes++;
            CHECK_EQ_U64(oo.eps[0].episode_id, ((uint64_t)PICK << 32) + (uint64_t)(episodes - 1));
        }
    }
    check_same_state(big, PICK, one, 0);
    CHECK(episodes >= 3); /* auto-reset reseeded the same way in both */
    outs_free(&ob);
    outs_free(&oo);
    bd_env_destroy(big);
    bd_env_destroy(one);
}

static void test_frame_skip_is_held_ticks(void)
{
    enum { E = 16, STEPS = 400 };
    struct bd_config c4, c1;
    bd_config_default(&c4);
    c4.max_ticks = 1000000; /* no truncation inside the comparison */
    c4.max_goals = 0;       /* goals re-kick off instead of ending */
    c1 = c4;
    c1.frame_skip = 1;
    struct bd_env *a, *b;
    CHECK_EQ_INT(bd_env_create(&a, &c4, E), 0);
    CHECK_EQ_INT(bd_env_create(&b, &c1, E), 0);
    bd_env_reset(a, 5);
    bd_env_reset(b, 5);
    struct outs oa, ob;
    outs_init(&oa, E);
    outs_init(&ob, E);
    struct rl_rng rng = rl_rng_make(3);
    int32_t al[E], ar[E];
    float sum[2][E];
    for (int t = 0; t < STEPS; t++) {
        for (int e = 0; e < E; e++) {
            al[e] = (int32_t)rl_rng_below(&rng, BD_NUM_ACTIONS);
            ar[e] = (int32_t)rl_rng_below(&rng, BD_NUM_ACTIONS);
        }
        bd_env_step(a, al, ar, &oa.o);
        memset(sum, 0, sizeof sum);
        for (int k = 0; k < 4; k++) {
            bd_env_step(b, al, ar, &ob.o);
            for (int e = 0; e < E; e++)
                for (int i = 0; i < 2; i++)
                    sum[i][e] += ob.rew[i][e];
        }
        for (uint32_t e = 0; e < E; e++) {
            check_same_state_ret(a, e, b, e, 0);
            /* Goal and shaping terms are summed separately inside a step, so
             * the total may differ from the per-tick sum in the last bit. */
            for (int i = 0; i < 2; i++)
                CHECK_NEAR(sum[i][e], oa.rew[i][e], 1e-5);
        }
    }
    outs_free(&oa);
    outs_free(&ob);
    bd_env_destroy(a);
    bd_env_destroy(b);
}

int main(void)
{
    test_same_seed_same_bits();
    test_batch_independence();
    test_frame_skip_is_held_ticks();
    return 0;
}
