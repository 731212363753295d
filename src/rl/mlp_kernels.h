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

/* One register tile: MR (1..6) rows x NV (1..2) vectors of columns.
 * Element (r, j) is init + sum_k a(r,k) b(k,j) accumulated in k order.
 * TAIL (with NV = 1): only the first nt lanes of C and init exist, and B is
 * a zero-padded panel; C is then read and written lane by lane. */
ALWAYS_INLINE void KFN(tile)(const int MR, const int NV, const int TAIL, int nt, int K,
                             const float *A, long sam, long sak, const float *B, long ldb,
                             float *C, long ldc, const float *init, int accumulate)
{
    KV c[6][2];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            if (TAIL) {
                float t[KW] = {0};
                if (accumulate)
                    memcpy(t, C + r * ldc, sizeof(float) * (size_t)nt);
                else if (init)
                    memcpy(t, init, sizeof(float) * (size_t)nt);
                c[r][v] = KLD(t);
            } else {
                c[r][v] = accumulate ? KLD(C + r * ldc + KW * v)
                          : init     ? KLD(init + KW * v)
                                     : KBC(0.0f);
            }
        }
    for (int k = 0; k < K; k++) {
        const float *b = B + k * ldb;
        KV b0 = KLD(b), b1 = NV > 1 ? KLD(b + KW) : KBC(0.0f);
        const float *a = A + k * sak;
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            KV ar = KBC(a[r * sam]);
            c[r][0] += ar * b0;
            if (NV > 1)
                c[r][1] += ar * b1;
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            if (TAIL) {
                float t[KW];
                KST(t, c[r][v]);
                memcpy(C + r * ldc, t, sizeof(float) * (size_t)nt);
            } else {
                KST(C + r * ldc + KW * v, c[r][v]);
            }
        }
}

/* All row tiles of one column block: full tiles of 6 rows, then one tile of
 * the 1..5 rows left (the same code with fewer rows). */
ALWAYS_INLINE void KFN(tiles)(const int NV, const int TAIL, int nt, int M, int K, const float *A,
                              long sam, long sak, const float *B, long ldb, float *C, long ldc,
                              const float *init, int accumulate)
{
#define KTILE(mr)                                                                              \
    KFN(tile)(mr, NV, TAIL, nt, K, A + m0 * sam, sam, sak, B, ldb, C + m0 * ldc, ldc, init,    \
              accumulate)
    int m0 = 0;
    for (; m0 + 6 <= M; m0 += 6)
        KTILE(6);
    switch (M - m0) {
    case 5:
        KTILE(5);
        break;
    case 4:
        KTILE(4);
        break;
    case 3:
        KTILE(3);
        break;
    case 2:
        KTILE(2);
        break;
    case 1:
        KTILE(1);
        break;
    default:
        break;
    }
#undef KTILE
}

#define KPANEL 256 /* rows of the zero-padded panel of B's last columns */

/* C (+)= A·B: column blocks of 2 vectors, one of 1 vector, then the last
 * N % KW columns through the same vector code on a zero-padded copy of those
 * columns of B (in panels of KPANEL rows, accumulating into C from the
 * second panel on: the same sums in the same order).  A column is always
 * computed by the same code, whatever M. */
KTARGET static void KFN(gemm)(int M, int N, int K, const float *A, long sam, long sak,
                              const float *B, long ldb, float *C, long ldc, const float *bias,
                              int accumulate)
{
    int n0 = 0;
    for (; n0 + 2 * KW <= N; n0 += 2 * KW)
        KFN(tiles)(2, 0, KW, M, K, A, sam, sak, B + n0, ldb, C + n0, ldc,
                   bias ? bias + n0 : NULL, accumulate);
    if (n0 + KW <= N) {
        KFN(tiles)(1, 0, KW, M, K, A, sam, sak, B + n0, ldb, C + n0, ldc,
                   bias ? bias + n0 : NULL, accumulate);
        n0 += KW;
    }
    if (n0 < N) {
        const int nt = N - n0;
        float panel[KPANEL * KW];
        for (int k0 = 0; k0 == 0 || k0 < K; k0 += KPANEL) {
            const int kc = K - k0 < KPANEL ? K - k0 : KPANEL;
            for (int k = 0; k < kc; k++) {
                memset(panel + k * KW, 0, sizeof(float) * KW);
                memcpy(panel + k * KW, B + (long)(k0 + k) * ldb + n0, sizeof(float) * (size_t)nt);
            }
            KFN(tiles)(1, 1, nt, M, kc, A + (long)k0 * sak, sam, sak, panel, KW, C + n0, ldc,
                       bias && k0 == 0 ? bias + n0 : NULL, accumulate || k0 > 0);
        }
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
#undef KPANEL
