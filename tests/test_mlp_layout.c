/* test_mlp_layout — the parameter block: tensor table, alignment, shape hash,
 * deterministic orthogonal initialisation, and zero padding: every float
 * between and after the tensors is 0 after initialisation (over a block
 * full of garbage), gets no gradient, and stays 0 after optimiser steps. */
#include <math.h>

#include "check.h"
#include "rl/adam.h"
#include "rl/mlp.h"
#include "rl/rng.h"

/* in_tensor[i] = 1 where float i of the block belongs to a tensor. */
static unsigned char *tensor_mask(const struct rl_mlp *m)
{
    unsigned char *mask = calloc(m->n_params, 1);
    CHECK(mask);
    for (int i = 0; i < m->n_tensors; i++) {
        const struct rl_mlp_tensor *t = &m->tensor[i];
        for (size_t j = 0; j < (size_t)t->rows * t->cols; j++) {
            CHECK(t->offset + j < m->n_params);
            CHECK_MSG(!mask[t->offset + j], "tensors %s overlap another", t->name);
            mask[t->offset + j] = 1;
        }
    }
    return mask;
}

/* Zero padding on a shape with padding after nearly every tensor. */
static void check_zero_padding(void)
{
    struct rl_mlp m;
    const int hid[2] = {33, 17};
    CHECK_EQ_INT(rl_mlp_init(&m, 27, 7, hid, 2), 0);
    unsigned char *mask = tensor_mask(&m);
    size_t pad = 0;
    for (size_t i = 0; i < m.n_params; i++)
        pad += !mask[i];
    CHECK_EQ_U64(m.n_params - pad, m.n_weights);
    CHECK_MSG(pad >= (size_t)m.n_tensors, "only %zu padding floats: the check needs some", pad);

    float *p = rl_mlp_alloc(&m), *g = rl_mlp_alloc(&m);
    CHECK(p && g);
    memset(p, 0x7f, m.n_params * sizeof(float)); /* garbage, as from reused memory */
    rl_mlp_params_init(&m, p, 7);
    for (size_t i = 0; i < m.n_params; i++) {
        if (mask[i])
            CHECK(isfinite(p[i]));
        else
            CHECK_MSG(p[i] == 0.0f, "padding float %zu is %g after init", i, p[i]);
    }

    /* A backward pass gives the padding no gradient, and Adam steps on the
     * whole block (as the learner makes them) leave it zero. */
    struct rl_mlp_ws ws;
    CHECK_EQ_INT(rl_mlp_ws_init(&ws, &m), 0);
    enum { N = 8 };
    float obs[N * 27], dlog[N * 7], dval[N];
    struct rl_rng rng = rl_rng_make(11);
    for (int i = 0; i < N * 27; i++)
        obs[i] = rl_rng_float(&rng) * 2 - 1;
    for (int i = 0; i < N * 7; i++)
        dlog[i] = rl_rng_float(&rng) - 0.5f;
    for (int i = 0; i < N; i++)
        dval[i] = rl_rng_float(&rng) - 0.5f;
    struct rl_adam adam;
    CHECK_EQ_INT(rl_adam_init(&adam, m.n_params, 0.9f, 0.999f, 1e-8f), 0);
    for (int step = 0; step < 3; step++) {
        memset(g, 0, m.n_params * sizeof(float));
        rl_mlp_forward_train(&m, p, obs, N, &ws);
        rl_mlp_backward(&m, p, obs, N, &ws, dlog, dval, g);
        size_t moved = 0;
        for (size_t i = 0; i < m.n_params; i++) {
            if (!mask[i])
                CHECK_MSG(g[i] == 0.0f, "step %d: padding float %zu has gradient %g", step, i,
                          g[i]);
            moved += g[i] != 0.0f;
        }
        CHECK(moved > m.n_weights / 2); /* the gradient is real */
        rl_adam_step(&adam, p, g, 1e-2f);
        for (size_t i = 0; i < m.n_params; i++)
            if (!mask[i])
                CHECK_MSG(p[i] == 0.0f, "step %d: padding float %zu became %g", step, i, p[i]);
    }
    rl_adam_free(&adam);
    rl_mlp_ws_free(&ws);
    free(p);
    free(g);
    free(mask);
}

int main(void)
{
    /* FNV-1a 64 reference vectors. */
    CHECK_EQ_U64(rl_fnv1a64(""), UINT64_C(0xcbf29ce484222325));
    CHECK_EQ_U64(rl_fnv1a64("a"), UINT64_C(0xaf63dc4c8601ec8c));
    CHECK_EQ_U64(rl_fnv1a64("foobar"), UINT64_C(0x85944171f73967e8));

    struct rl_mlp m;
    const int hid[2] = {64, 64};
    CHECK_EQ_INT(rl_mlp_init(&m, 28, 30, hid, 2), 0);
    CHECK_EQ_INT(m.n_tensors, 12);
    /* Real parameter count: two trunks of 28*64+64 + 64*64+64, heads. */
    size_t trunk = 28 * 64 + 64 + 64 * 64 + 64;
    CHECK_EQ_U64(m.n_weights, 2 * trunk + 64 * 30 + 30 + 64 * 1 + 1);
    size_t prev_end = 0;
    for (int i = 0; i < m.n_tensors; i++) {
        const struct rl_mlp_tensor *t = &m.tensor[i];
        CHECK_EQ_U64(t->offset % RL_MLP_ALIGN, 0);
        CHECK(t->offset >= prev_end);
        CHECK(t->offset - prev_end < RL_MLP_ALIGN);
        prev_end = t->offset + (size_t)t->rows * t->cols;
    }
    CHECK(prev_end <= m.n_params);
    CHECK_EQ_U64(m.n_params % RL_MLP_ALIGN, 0);
    CHECK_STR(m.tensor[0].name, "pi.l0.w");
    CHECK_EQ_INT(m.tensor[0].rows, 28);
    CHECK_EQ_INT(m.tensor[0].cols, 64);
    const struct rl_mlp_tensor *po = rl_mlp_find(&m, "pi.out.w");
    CHECK(po && po->rows == 64 && po->cols == 30);
    CHECK(rl_mlp_find(&m, "v.out.b") == rl_mlp_bias(&m, RL_MLP_TRUNK_V, 2));
    CHECK(rl_mlp_find(&m, "v.out.b")->cols == 1);
    CHECK(rl_mlp_find(&m, "nope") == NULL);

    /* The shape hash is FNV-1a of the canonical string, and any change of
     * architecture changes both. */
    char canon[1024];
    CHECK(rl_mlp_canonical(&m, canon, sizeof canon) < (int)sizeof canon);
    CHECK_EQ_U64(m.shape_hash, rl_fnv1a64(canon));
    CHECK(strstr(canon, "pi.l0.w=28x64@0") != NULL);
    struct rl_mlp m2;
    const int hid2[2] = {64, 128};
    CHECK_EQ_INT(rl_mlp_init(&m2, 28, 30, hid2, 2), 0);
    CHECK(m2.shape_hash != m.shape_hash);
    CHECK_EQ_INT(rl_mlp_init(&m2, 29, 30, hid, 2), 0);
    CHECK(m2.shape_hash != m.shape_hash);
    CHECK_EQ_INT(rl_mlp_init(&m2, 28, 30, hid, 2), 0);
    CHECK_EQ_U64(m2.shape_hash, m.shape_hash);
    const int hid3[3] = {128, 128, 128};
    CHECK_EQ_INT(rl_mlp_init(&m2, 28, 30, hid3, 3), 0);
    CHECK_EQ_INT(m2.n_tensors, 16);
    CHECK(rl_mlp_init(&m2, 28, 30, hid3, 4) < 0);
    CHECK(rl_mlp_init(&m2, 0, 30, hid, 2) < 0);
    const int bad[2] = {64, 0};
    CHECK(rl_mlp_init(&m2, 28, 30, bad, 2) < 0);

    /* Initialisation: deterministic, seed-dependent, zero biases and padding,
     * orthogonal columns scaled by the gain. */
    float *a = rl_mlp_alloc(&m), *b = rl_mlp_alloc(&m), *c = rl_mlp_alloc(&m);
    CHECK(a && b && c);
    CHECK_EQ_U64((uintptr_t)a % 64, 0);
    rl_mlp_params_init(&m, a, 42);
    rl_mlp_params_init(&m, b, 42);
    rl_mlp_params_init(&m, c, 43);
    CHECK(memcmp(a, b, m.n_params * sizeof(float)) == 0);
    CHECK(memcmp(a, c, m.n_params * sizeof(float)) != 0);
    size_t used = 0;
    for (int i = 0; i < m.n_tensors; i++) {
        const struct rl_mlp_tensor *t = &m.tensor[i];
        if (t->rows == 1) /* bias */
            for (int j = 0; j < t->cols; j++)
                CHECK(a[t->offset + j] == 0.0f);
        used += (size_t)t->rows * t->cols;
    }
    size_t nonzero = 0;
    for (size_t i = 0; i < m.n_params; i++)
        nonzero += a[i] != 0.0f;
    CHECK(nonzero <= used);
    /* pi.l1.w is 64x64 with gain sqrt 2: W^T W = 2 I. */
    const struct rl_mlp_tensor *w1 = rl_mlp_find(&m, "pi.l1.w");
    for (int p = 0; p < 64; p += 7)
        for (int q = 0; q < 64; q += 5) {
            double d = 0;
            for (int i = 0; i < 64; i++)
                d += (double)a[w1->offset + (size_t)i * 64 + p] * a[w1->offset + (size_t)i * 64 + q];
            CHECK_NEAR(d, p == q ? 2.0 : 0.0, 1e-5);
        }
    /* pi.out.w (64x30) has orthogonal columns of norm 0.01. */
    for (int p = 0; p < 30; p++) {
        double d = 0;
        for (int i = 0; i < 64; i++)
            d += (double)a[po->offset + (size_t)i * 30 + p] * a[po->offset + (size_t)i * 30 + p];
        CHECK_NEAR(sqrt(d), 0.01, 1e-6);
    }
    free(a);
    free(b);
    free(c);
    check_zero_padding();
    return 0;
}
