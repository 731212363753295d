/* test_mlp_kernels — the fast kernels against the naive reference, on both
 * instruction sets; tanh accuracy; row independence (a row's outputs never
 * depend on the batch size or its position); inference == training forward;
 * deterministic and correct action sampling. */
#include <math.h>

#include "check.h"
#include "rl/mlp.h"

static void fill(float *x, size_t n, struct rl_rng *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0f * rl_rng_float(r) - 1.0f;
}

static void check_gemm_shapes(void)
{
    struct rl_rng r = rl_rng_make(1);
    const int Ms[] = {1, 2, 3, 4, 5, 7, 33, 64};
    const int Ns[] = {1, 7, 8, 9, 16, 17, 30, 64, 70};
    const int Ks[] = {1, 3, 28, 64, 300}; /* 300: two panels of the column tail */
    float *A = malloc(sizeof(float) * 64 * 300), *B = malloc(sizeof(float) * 300 * 71);
    float *C1 = malloc(sizeof(float) * 64 * 80), *C2 = malloc(sizeof(float) * 64 * 80);
    float *bias = malloc(sizeof(float) * 80);
    CHECK(A && B && C1 && C2 && bias);
    for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
        for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
            for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
                for (int mode = 0; mode < 4; mode++) {
                    int M = Ms[mi], N = Ns[ni], K = Ks[ki];
                    int trans = mode & 1, acc = mode >> 1;
                    long ldc = N + 3, ldb = N + 1;
                    fill(A, 64 * 300, &r);
                    fill(B, 300 * 71, &r);
                    fill(bias, 80, &r);
                    fill(C1, 64 * 80, &r);
                    memcpy(C2, C1, sizeof(float) * 64 * 80);
                    long sam = trans ? 1 : K, sak = trans ? M : 1;
                    rl_mlp_gemm(M, N, K, A, sam, sak, B, ldb, C1, ldc, acc ? NULL : bias, acc);
                    rl_mlp_gemm_ref(M, N, K, A, sam, sak, B, ldb, C2, ldc, acc ? NULL : bias, acc);
                    for (int m = 0; m < M; m++) {
                        for (int n = 0; n < N; n++)
                            CHECK_MSG(fabsf(C1[m * ldc + n] - C2[m * ldc + n]) <= 1e-5f * (K + 1),
                                      "M=%d N=%d K=%d mode=%d at %d,%d: %g vs %g", M, N, K, mode,
                                      m, n, C1[m * ldc + n], C2[m * ldc + n]);
                        for (long n = N; n < ldc; n++) /* padding untouched */
                            CHECK(C1[m * ldc + n] == C2[m * ldc + n]);
                    }
                }
    free(A);
    free(B);
    free(C1);
    free(C2);
    free(bias);
}

static void check_tanh(void)
{
    enum { N = 200003 };
    float *x = malloc(sizeof(float) * N), *y = malloc(sizeof(float) * N);
    CHECK(x && y);
    for (int i = 0; i < N; i++)
        x[i] = y[i] = -20.0f + 40.0f * (float)i / (N - 1);
    y[7] = INFINITY;
    y[8] = -INFINITY;
    x[7] = 30.0f;
    x[8] = -30.0f;
    rl_mlp_tanh(y, N);
    for (int i = 0; i < N; i++) {
        CHECK_MSG(fabs(y[i] - tanh((double)x[i])) < 4e-7, "tanh(%g) = %.9g", x[i], y[i]);
        CHECK(y[i] <= 1.0f && y[i] >= -1.0f);
    }
    /* Vector lanes and the scalar tail agree bit for bit. */
    float one[1];
    for (int i = 0; i < 2000; i++) {
        one[0] = x[i * 97];
        rl_mlp_tanh(one, 1);
        CHECK(one[0] == y[i * 97]);
    }
    free(x);
    free(y);
}

static void check_network(void)
{
    struct rl_mlp m;
    const int hid[3] = {64, 48, 40};
    for (int layers = 2; layers <= 3; layers++) {
        CHECK_EQ_INT(rl_mlp_init(&m, 28, 30, hid, layers), 0);
        float *p = rl_mlp_alloc(&m);
        CHECK(p);
        rl_mlp_params_init(&m, p, 7);
        /* Make the policy head non-trivial so sampling is exercised. */
        const struct rl_mlp_tensor *po = rl_mlp_find(&m, "pi.out.w");
        for (size_t i = 0; i < (size_t)po->rows * po->cols; i++)
            p[po->offset + i] *= 200.0f;
        enum { B = 131 };
        float *obs = malloc(sizeof(float) * B * 28), *lg = malloc(sizeof(float) * B * 30);
        float *val = malloc(sizeof(float) * B), lg1[30], v1;
        CHECK(obs && lg && val);
        struct rl_rng r = rl_rng_make(3);
        fill(obs, (size_t)B * 28, &r);
        rl_mlp_forward(&m, p, obs, B, lg, val);
        /* Row independence: each row alone gives the same bits. */
        for (int i = 0; i < B; i++) {
            rl_mlp_forward(&m, p, obs + i * 28, 1, lg1, &v1);
            CHECK(memcmp(lg1, lg + i * 30, sizeof lg1) == 0);
            CHECK(memcmp(&v1, val + i, sizeof v1) == 0);
        }
        /* Against a double-precision naive forward with exact tanh. */
        for (int i = 0; i < B; i += 13)
            for (int t = 0; t < 2; t++) {
                double h[2][256], *in = h[0], *out = h[1];
                for (int k = 0; k < 28; k++)
                    in[k] = obs[i * 28 + k];
                int in_dim = 28;
                for (int l = 0; l <= layers; l++) {
                    const struct rl_mlp_tensor *w = rl_mlp_weight(&m, t, l), *b = rl_mlp_bias(&m, t, l);
                    for (int o = 0; o < w->cols; o++) {
                        double s = p[b->offset + o];
                        for (int k = 0; k < in_dim; k++)
                            s += in[k] * p[w->offset + (size_t)k * w->cols + o];
                        out[o] = l < layers ? tanh(s) : s;
                    }
                    in_dim = w->cols;
                    double *tmp = in;
                    in = out;
                    out = tmp;
                }
                for (int o = 0; o < in_dim; o++)
                    CHECK_NEAR(t ? val[i] : lg[i * 30 + o], in[o], 2e-4 * (1 + fabs(in[o])));
            }
        /* The training forward gives the same bits on a block. */
        struct rl_mlp_ws ws;
        CHECK_EQ_INT(rl_mlp_ws_init(&ws, &m), 0);
        rl_mlp_forward_train(&m, p, obs + 5 * 28, 50, &ws);
        CHECK(memcmp(ws.logits, lg + 5 * 30, sizeof(float) * 50 * 30) == 0);
        CHECK(memcmp(ws.value, val + 5, sizeof(float) * 50) == 0);
        rl_mlp_ws_free(&ws);
        /* Only one trunk when the other output is NULL. */
        float *v2 = malloc(sizeof(float) * B);
        rl_mlp_forward(&m, p, obs, B, NULL, v2);
        CHECK(memcmp(v2, val, sizeof(float) * B) == 0);
        free(v2);

        /* Acting: deterministic for an rng state, log-probs match the logits,
         * greedy = argmax, empirical frequencies follow softmax. */
        int32_t a1[B], a2[B];
        float lp1[B], lp2[B], vv[B];
        struct rl_rng s1 = rl_rng_make(99), s2 = rl_rng_make(99);
        rl_mlp_act(&m, p, obs, B, &s1, a1, lp1, vv);
        rl_mlp_act(&m, p, obs, B, &s2, a2, lp2, NULL);
        CHECK(memcmp(a1, a2, sizeof a1) == 0 && memcmp(lp1, lp2, sizeof lp1) == 0);
        CHECK(s1.s == s2.s);
        CHECK(memcmp(vv, val, sizeof vv) == 0);
        for (int i = 0; i < B; i++) {
            const float *z = lg + i * 30;
            double mx = z[0], s = 0;
            int best = 0;
            for (int j = 1; j < 30; j++)
                if (z[j] > mx) {
                    mx = z[j];
                    best = j;
                }
            for (int j = 0; j < 30; j++)
                s += exp(z[j] - mx);
            CHECK(a1[i] >= 0 && a1[i] < 30);
            CHECK_NEAR(lp1[i], z[a1[i]] - mx - log(s), 1e-5);
            int32_t g;
            rl_mlp_act(&m, p, obs + i * 28, 1, NULL, &g, NULL, NULL);
            CHECK_EQ_INT(g, best);
        }
        /* Frequencies of one row over many draws. */
        enum { DRAWS = 30000 };
        int count[30] = {0};
        struct rl_rng s3 = rl_rng_make(5);
        for (int d = 0; d < DRAWS; d++) {
            int32_t a;
            rl_mlp_act(&m, p, obs, 1, &s3, &a, NULL, NULL);
            count[a]++;
        }
        double mx = lg[0], s = 0;
        for (int j = 1; j < 30; j++)
            mx = lg[j] > mx ? lg[j] : mx;
        for (int j = 0; j < 30; j++)
            s += exp(lg[j] - mx);
        for (int j = 0; j < 30; j++) {
            double pj = exp(lg[j] - mx) / s, sd = sqrt(pj * (1 - pj) / DRAWS);
            CHECK_MSG(fabs(count[j] / (double)DRAWS - pj) < 5 * sd + 1e-4, "action %d: %g vs %g", j,
                      count[j] / (double)DRAWS, pj);
        }
        free(obs);
        free(lg);
        free(val);
        free(p);
    }
}

int main(void)
{
    printf("fast kernels: %s\n", rl_mlp_isa());
    for (int isa = RL_MLP_ISA_AVX512; isa >= 0; isa--) {
        rl_mlp_force_isa(isa);
        if (rl_mlp_isa_level() != isa) { /* the CPU (or DSHQ_RL_ISA) rules it out */
            check_skip_part("%s %s not checked: not available here (isa level %d)",
                            isa == RL_MLP_ISA_AVX512 ? "avx512" : "avx2+fma", "kernels",
                            rl_mlp_isa_level());
            continue;
        }
        printf("checking %s\n", rl_mlp_isa());
        check_gemm_shapes();
        check_tanh();
        check_network();
    }
    return 0;
}
