/* test_ppo_clip — the PPO loss on hand-computed single samples: the ratio,
 * both sides of the clip for positive and negative advantages, the value
 * clip, the entropy gradient, and the metrics (approx KL, clip fraction).
 *
 * All weights are zero, so logits = pi.out.b and value = v.out.b whatever
 * the observation; gradients are read on those two biases. */
#include <math.h>

#include "check.h"
#include "rl/ppo.h"

static struct rl_mlp m;
static float *params, *grads;
static struct rl_mlp_ws ws;
static const struct rl_mlp_tensor *pib, *vb;

static double eval(const struct rl_ppo_config *c, int32_t act, float logp_old, float adv,
                   float vold, float ret, struct rl_ppo_stats *st)
{
    float obs[4] = {0.3f, -1, 2, 0.5f};
    struct rl_ppo_batch b = {1, obs, &act, &logp_old, &vold, &adv, &ret};
    memset(grads, 0, sizeof(float) * m.n_params);
    return rl_ppo_loss(&m, params, &b, c, &ws, grads, st);
}

int main(void)
{
    const int hid[2] = {8, 8};
    CHECK_EQ_INT(rl_mlp_init(&m, 4, 3, hid, 2), 0);
    params = rl_mlp_alloc(&m);
    grads = rl_mlp_alloc(&m);
    CHECK(params && grads);
    CHECK_EQ_INT(rl_mlp_ws_init(&ws, &m), 0);
    pib = rl_mlp_find(&m, "pi.out.b");
    vb = rl_mlp_find(&m, "v.out.b");
    /* logits (0, ln 2, 0): p = (1/4, 1/2, 1/4); act 1 has log p = ln 1/2 */
    params[pib->offset + 1] = logf(2.0f);
    params[vb->offset] = 2.0f;
    const float *gz = grads + pib->offset, *gv = grads + vb->offset;
    const float p[3] = {0.25f, 0.5f, 0.25f};

    struct rl_ppo_config c;
    rl_ppo_config_default(&c);
    c.clip = 0.2f;
    c.ent_coef = 0.0f;
    c.vf_coef = 0.0f;
    struct rl_ppo_stats st;
    const float ln_half = logf(0.5f);

    /* ratio 1.5, A = +1: clipped at 1.2, no policy gradient */
    float lo = ln_half - logf(1.5f);
    CHECK_NEAR(eval(&c, 1, lo, 1.0f, 0, 0, &st), -1.2, 1e-6);
    CHECK_NEAR(st.clip_frac, 1.0, 0);
    CHECK_NEAR(st.approx_kl, 0.5 - log(1.5), 1e-6);
    for (int j = 0; j < 3; j++)
        CHECK(gz[j] == 0.0f);
    /* ratio 1.5, A = -1: the unclipped (pessimistic) term, gradient
     * dL/dz_j = -A r (1[j=a] - p_j) = 1.5 (1[j=1] - p_j) */
    CHECK_NEAR(eval(&c, 1, lo, -1.0f, 0, 0, &st), 1.5, 1e-6);
    CHECK_NEAR(st.clip_frac, 1.0, 0); /* counted: |r - 1| > clip */
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(gz[j], 1.5 * ((j == 1) - p[j]), 1e-6);
    /* ratio 0.5, A = +1: unclipped 0.5 < 0.8, gradient -A r (..) */
    lo = ln_half - logf(0.5f);
    CHECK_NEAR(eval(&c, 1, lo, 1.0f, 0, 0, &st), -0.5, 1e-6);
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(gz[j], -0.5 * ((j == 1) - p[j]), 1e-6);
    CHECK_NEAR(st.approx_kl, -0.5 - log(0.5), 1e-6);
    /* ratio 0.5, A = -1: clipped at 0.8 -> loss 0.8, no gradient */
    CHECK_NEAR(eval(&c, 1, lo, -1.0f, 0, 0, &st), 0.8, 1e-6);
    for (int j = 0; j < 3; j++)
        CHECK(gz[j] == 0.0f);
    /* ratio 1.1 inside the range, A = 2: loss -2.2, not clipped */
    lo = ln_half - logf(1.1f);
    CHECK_NEAR(eval(&c, 1, lo, 2.0f, 0, 0, &st), -2.2, 1e-6);
    CHECK(st.clip_frac == 0.0f);
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(gz[j], -2.2 * ((j == 1) - p[j]), 1e-6);
    /* another action: act 0 with p = 1/4 and ratio 1 */
    CHECK_NEAR(eval(&c, 0, logf(0.25f), 1.0f, 0, 0, &st), -1.0, 1e-6);
    CHECK_NEAR(st.approx_kl, 0.0, 1e-7);
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(gz[j], -1.0 * ((j == 0) - p[j]), 1e-6);

    /* Value loss (V = 2), vf_coef 1, vclip 0.5. */
    c.vf_coef = 1.0f;
    c.vclip = 0.5f;
    /* V_old 1, R 0: V_clip 1.5; (2-0)^2 = 4 > 2.25 -> unclipped, grad V - R */
    CHECK_NEAR(eval(&c, 1, ln_half, 0.0f, 1.0f, 0.0f, &st), 2.0, 1e-6);
    CHECK_NEAR(st.value_loss, 2.0, 1e-6);
    CHECK_NEAR(*gv, 2.0, 1e-6);
    /* V_old 1, R 3: (2-3)^2 = 1 < (1.5-3)^2 = 2.25 -> clipped, no gradient */
    CHECK_NEAR(eval(&c, 1, ln_half, 0.0f, 1.0f, 3.0f, &st), 1.125, 1e-6);
    CHECK(*gv == 0.0f);
    /* V_old 1.8, R 3: inside the clip range, grad V - R = -1 */
    CHECK_NEAR(eval(&c, 1, ln_half, 0.0f, 1.8f, 3.0f, &st), 0.5, 1e-6);
    CHECK_NEAR(*gv, -1.0, 1e-6);
    /* vclip off: plain squared error even where the clip would bind */
    c.vclip = 0.0f;
    c.vf_coef = 0.5f;
    CHECK_NEAR(eval(&c, 1, ln_half, 0.0f, 1.0f, 3.0f, &st), 0.25, 1e-6);
    CHECK_NEAR(*gv, -0.5, 1e-6);

    /* Entropy: H = -sum p ln p, loss -= ent_coef H, dL/dz_j = c p_j (ln p_j + H) */
    c.vf_coef = 0.0f;
    c.ent_coef = 0.1f;
    double H = -(0.25 * log(0.25) * 2 + 0.5 * log(0.5));
    CHECK_NEAR(eval(&c, 1, ln_half, 0.0f, 0, 0, &st), -0.1 * H, 1e-6);
    CHECK_NEAR(st.entropy, H, 1e-6);
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(gz[j], 0.1 * p[j] * (log(p[j]) + H), 1e-7);

    /* Advantage normalisation. */
    float x[5] = {1, 2, 3, 4, 10};
    rl_ppo_normalize(x, 5);
    double s = 0, ss = 0;
    for (int i = 0; i < 5; i++)
        s += x[i];
    for (int i = 0; i < 5; i++)
        ss += x[i] * x[i];
    CHECK_NEAR(s, 0.0, 1e-6);
    CHECK_NEAR(ss / 4, 1.0, 1e-5);

    rl_mlp_ws_free(&ws);
    free(params);
    free(grads);
    return 0;
}
