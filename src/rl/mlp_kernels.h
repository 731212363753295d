/* mlp_kernels.h — the MLP's matrix and activation kernels, written once over
 * a vector type and included by mlp.c once per instruction set.  Not a public
 * header: it has no include guard on purpose.
 *
 * The includer defines:
 *   KV       vector of KW floats (GCC vector extension), KVI the same of int32
 *   KW       floats per vector (4 or 8)
 *   KSUF     suffix of the functions defined here (gemm_KSUF, tanh_KSUF)
 *   KTARGET  a target attribute for them (or nothing)
 *
 * No vector ever crosses a function boundary (loads, stores and broadcasts
 * are macros, the helpers always_inline), so a build without AVX has no ABI
 * question to answer. */

#define KCAT2(a, b) a##_##b
#define KCAT(a, b) KCAT2(a, b)
#define KFN(name) KCAT(name, KSUF)

#define KLD(p) ({ KV v_; memcpy(&v_, (p), sizeof v_); v_; })
#define KST(p, v)                        \
    do {                                 \
        KV s_ = (v);                     \
        memcpy((p), &s_, sizeof s_);     \
    } while (0)
#define KBC(x) ((KV){0} + (x))

/* One register tile: MR (1..4) rows x NV (1..2) vectors of columns.
 * Element (r, j) is init + sum_k a(r,k) b(k,j) accumulated in k order. */
ALWAYS_INLINE void KFN(tile)(const int MR, const int NV, int K, const float *A, long sam,
                             long sak, const float *B, long ldb, float *C, long ldc,
                             const float *init, int accumulate)
{
    KV c[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            c[r][v] = accumulate ? KLD(C + r * ldc + KW * v) : init ? KLD(init + KW * v) : KBC(0.0f);
    for (int k = 0; k < K; k++) {
        const float *b = B + k * ldb;
        KV b0 = KLD(b), b1 = NV > 1 ? KLD(b + KW) : KBC(0.0f);
        const float *a = A + k * sak;
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            KV ar = KBC(a[r * sam]);
            c[r][0] += ar * b0;
            if (NV > 1)
                c[r][1] += ar * b1;
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            KST(C + r * ldc + KW * v, c[r][v]);
}

/* All row tiles of one column block: full tiles of 4 rows, then one tile of
 * the 1..3 rows left (the same code with fewer rows). */
ALWAYS_INLINE void KFN(tiles)(const int NV, int M, int K, const float *A, long sam, long sak,
                              const float *B, long ldb, float *C, long ldc, const float *init,
                              int accumulate)
{
    int m0 = 0;
    for (; m0 + 4 <= M; m0 += 4)
        KFN(tile)(4, NV, K, A + m0 * sam, sam, sak, B, ldb, C + m0 * ldc, ldc, init, accumulate);
    switch (M - m0) {
    case 3:
        KFN(tile)(3, NV, K, A + m0 * sam, sam, sak, B, ldb, C + m0 * ldc, ldc, init, accumulate);
        break;
    case 2:
        KFN(tile)(2, NV, K, A + m0 * sam, sam, sak, B, ldb, C + m0 * ldc, ldc, init, accumulate);
        break;
    case 1:
        KFN(tile)(1, NV, K, A + m0 * sam, sam, sak, B, ldb, C + m0 * ldc, ldc, init, accumulate);
        break;
    default:
        break;
    }
}

/* C (+)= A·B: column blocks of 2 vectors, one of 1 vector, then scalar
 * columns.  A column is always computed by the same code, whatever M. */
KTARGET static void KFN(gemm)(int M, int N, int K, const float *A, long sam, long sak,
                              const float *B, long ldb, float *C, long ldc, const float *bias,
                              int accumulate)
{
    int n0 = 0;
    for (; n0 + 2 * KW <= N; n0 += 2 * KW)
        KFN(tiles)(2, M, K, A, sam, sak, B + n0, ldb, C + n0, ldc, bias ? bias + n0 : NULL,
                   accumulate);
    if (n0 + KW <= N) {
        KFN(tiles)(1, M, K, A, sam, sak, B + n0, ldb, C + n0, ldc, bias ? bias + n0 : NULL,
                   accumulate);
        n0 += KW;
    }
    for (int m = 0; m < M; m++)
        for (int n = n0; n < N; n++) {
            float acc = accumulate ? C[m * ldc + n] : bias ? bias[n] : 0.0f;
            for (int k = 0; k < K; k++)
                acc += A[m * sam + k * sak] * B[k * ldb + n];
            C[m * ldc + n] = acc;
        }
}

/* One vector through the rational tanh (TANH_POLY, defined by mlp.c):
 * clamp, p(x)/q(x), clamp the result into [-1, 1].  Selects use masks: C
 * has no vector ?:. */
#define KTANH(a, y)                                                         \
    do {                                                                    \
        const KV hi_ = KBC(TANH_CLAMP), lo_ = KBC(-TANH_CLAMP);             \
        const KV one_ = KBC(1.0f), mone_ = KBC(-1.0f);                      \
        KVI mh_ = (a) > hi_, ml_ = (a) < lo_;                               \
        KV x = (KV)(((KVI)hi_ & mh_) | ((KVI)(a) & ~mh_));                  \
        x = (KV)(((KVI)lo_ & ml_) | ((KVI)x & ~ml_));                       \
        KV x2 = x * x, p, q;                                                \
        TANH_POLY(x, x2, p, q);                                             \
        y = p / q;                                                          \
        KVI yh_ = y > one_, yl_ = y < mone_;                                \
        y = (KV)(((KVI)one_ & yh_) | ((KVI)y & ~yh_));                      \
        y = (KV)(((KVI)mone_ & yl_) | ((KVI)y & ~yl_));                     \
    } while (0)

/* In place over n floats.  The tail goes through the same vector code on a
 * padded copy: scalar code could be contracted into FMAs differently, and an
 * element's result must not depend on where it sits. */
KTARGET static void KFN(tanh)(float *v, size_t n)
{
    size_t i = 0;
    for (; i + KW <= n; i += KW) {
        KV a = KLD(v + i), y;
        KTANH(a, y);
        KST(v + i, y);
    }
    if (i < n) {
        float pad[KW] = {0};
        memcpy(pad, v + i, (n - i) * sizeof(float));
        KV a = KLD(pad), y;
        KTANH(a, y);
        KST(pad, y);
        memcpy(v + i, pad, (n - i) * sizeof(float));
    }
}

#undef KCAT2
#undef KCAT
#undef KFN
#undef KLD
#undef KST
#undef KBC
#undef KTANH
