/* test_adam — Adam against hand-computed steps, global-norm clipping, the
 * learning-rate schedule. */
#include <math.h>

#include "check.h"
#include "rl/adam.h"

int main(void)
{
    struct rl_adam a;
    CHECK(rl_adam_init(&a, 0, 0.9f, 0.999f, 1e-8f) < 0);
    CHECK(rl_adam_init(&a, 2, 1.0f, 0.999f, 1e-8f) < 0);
    CHECK_EQ_INT(rl_adam_init(&a, 3, 0.9f, 0.999f, 1e-8f), 0);
    float p[3] = {1.0f, -2.0f, 0.5f};
    const float g1[3] = {0.5f, -1.0f, 0.0f};
    /* Step 1: m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2, so each
     * parameter with g != 0 moves by lr * g/(|g| + eps) ~= lr * sign(g). */
    rl_adam_step(&a, p, g1, 0.01f);
    CHECK_EQ_INT(a.t, 1);
    CHECK_NEAR(a.m[0], 0.05, 1e-7); /* (1 - 0.9f) is 0.1 + 2.4e-8 */
    CHECK_NEAR(a.v[1], 0.001, 2e-8); /* (1 - 0.999f) is 0.001 - 1.3e-8 */
    CHECK_NEAR(p[0], 1.0 - 0.01 * 0.5 / (0.5 + 1e-8), 1e-7);
    CHECK_NEAR(p[1], -2.0 + 0.01 * 1.0 / (1.0 + 1e-8), 1e-7);
    CHECK(p[2] == 0.5f); /* zero gradient, zero moments: no move */
    /* Step 2 with g2, by hand:
     *   m0 = 0.9*0.05 + 0.1*(-0.25) = 0.02;  v0 = 0.999*0.00025 + 0.001*0.0625 = 0.00031225
     *   m_hat = 0.02/0.19;  v_hat = 0.00031225/0.001999
     *   p0 = 0.99 - 0.01 * m_hat / (sqrt(v_hat) + 1e-8)                       */
    const float g2[3] = {-0.25f, -1.0f, 2.0f};
    float p0_before = p[0];
    rl_adam_step(&a, p, g2, 0.01f);
    double m_hat = 0.02 / 0.19, v_hat = 0.00031225 / (1.0 - 0.999 * 0.999);
    CHECK_NEAR(a.m[0], 0.02, 1e-7);
    CHECK_NEAR(a.v[0], 0.00031225, 5e-9);
    CHECK_NEAR(p[0], p0_before - 0.01 * m_hat / (sqrt(v_hat) + 1e-8), 1e-6);
    /* Parameter 2 saw 0 then 2: m = 0.2, v = 0.004; m_hat = 0.2/0.19,
     * v_hat = 0.004/0.001999. */
    CHECK_NEAR(p[2], 0.5 - 0.01 * (0.2 / 0.19) / (sqrt(0.004 / 0.001999) + 1e-8), 1e-6);
    rl_adam_free(&a);

    /* Many steps on a quadratic converge to its minimum. */
    CHECK_EQ_INT(rl_adam_init(&a, 1, 0.9f, 0.999f, 1e-8f), 0);
    float x = 5.0f, gx;
    for (int i = 0; i < 3000; i++) {
        gx = 2.0f * (x - 1.5f);
        rl_adam_step(&a, &x, &gx, 0.05f);
    }
    CHECK_NEAR(x, 1.5, 1e-3);
    rl_adam_free(&a);

    /* Global-norm clipping. */
    float g[4] = {3.0f, 0.0f, -4.0f, 0.0f};
    CHECK_NEAR(rl_adam_clip_grad_norm(g, 4, 10.0f), 5.0, 1e-6);
    CHECK(g[0] == 3.0f && g[2] == -4.0f); /* under the bound: untouched */
    CHECK_NEAR(rl_adam_clip_grad_norm(g, 4, 1.0f), 5.0, 1e-6);
    CHECK_NEAR(g[0], 0.6, 1e-7);
    CHECK_NEAR(g[2], -0.8, 1e-7);
    CHECK_NEAR(rl_adam_clip_grad_norm(g, 4, 0.0f), 1.0, 1e-6); /* 0 disables */
    CHECK_NEAR(g[0], 0.6, 1e-7);

    /* Linear schedule. */
    CHECK_NEAR(rl_adam_lr_linear(1e-3f, 1e-4f, -1.0), 1e-3, 1e-10);
    CHECK_NEAR(rl_adam_lr_linear(1e-3f, 1e-4f, 0.5), 5.5e-4, 1e-9);
    CHECK_NEAR(rl_adam_lr_linear(1e-3f, 1e-4f, 2.0), 1e-4, 1e-10);
    return 0;
}
