/* mlp.c — the policy/value MLP: layout, initialisation, forward, backward and
 * the small matrix kernels under them.
 *
 * Kernels.  Everything heavy is one operation, C (+)= A·B with A read through
 * two strides (so A may be a transpose) and B row-major:
 *
 *     forward        Y[n][out]  = X[n][in] · W[in][out] + b      (A = X)
 *     weight grad   dW[in][out] += X^T · dY                      (A = X^T, strided)
 *     input grad    dX[n][in]   = dY · W^T                       (B = W^T, copied)
 *
 * The kernel works on register tiles of 4 rows x 16 columns (8 accumulator
 * vectors of 8 floats) with GCC vector types; it is compiled twice, for
 * AVX2+FMA and for the x86-64 baseline, and the CPU picks one.  Column tails
 * use scalar loops performing the same multiply-add sequence, and row tails
 * use the same tile code with fewer rows, so an output element never depends
 * on the batch size or on its position in it: a row gives bit-identical
 * results in inference (batch E) and in training (minibatch blocks).
 *
 * Memory.  Inference runs the whole network over blocks of 32 rows with stack
 * scratch that stays in L1; training runs blocks of RL_MLP_BLOCK rows with the
 * activations in a small per-thread workspace. */
#include "rl/mlp.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- layout -------------------------------------------------------------- */

uint64_t rl_fnv1a64(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static const char *trunk_name(int t) { return t == RL_MLP_TRUNK_PI ? "pi" : "v"; }

/* Tensor index of trunk t, layer l, part p (0 weight, 1 bias). */
static int tensor_index(const struct rl_mlp *m, int t, int l, int p)
{
    return (t * (m->n_hidden + 1) + l) * 2 + p;
}

static int layer_in(const struct rl_mlp *m, int l) { return l == 0 ? m->obs_dim : m->hidden[l - 1]; }
static int layer_out(const struct rl_mlp *m, int t, int l)
{
    if (l < m->n_hidden)
        return m->hidden[l];
    return t == RL_MLP_TRUNK_PI ? m->n_actions : 1;
}

int rl_mlp_init(struct rl_mlp *m, int obs_dim, int n_actions, const int *hidden, int n_hidden)
{
    if (!m || !hidden || obs_dim < 1 || obs_dim > RL_MLP_MAX_OBS || n_actions < 2 ||
        n_actions > RL_MLP_MAX_ACTIONS || n_hidden < 1 || n_hidden > RL_MLP_MAX_HIDDEN)
        return -EINVAL;
    memset(m, 0, sizeof *m);
    m->obs_dim = obs_dim;
    m->n_actions = n_actions;
    m->n_hidden = n_hidden;
    for (int l = 0; l < n_hidden; l++) {
        if (hidden[l] < 1 || hidden[l] > RL_MLP_MAX_WIDTH)
            return -EINVAL;
        m->hidden[l] = hidden[l];
        if (hidden[l] > m->max_width)
            m->max_width = hidden[l];
    }
    size_t off = 0;
    for (int t = 0; t < 2; t++)
        for (int l = 0; l <= n_hidden; l++)
            for (int p = 0; p < 2; p++) {
                struct rl_mlp_tensor *x = &m->tensor[m->n_tensors++];
                /* "l0".."l2" or "out": l < RL_MLP_MAX_HIDDEN, one digit (built
                 * by hand so no -O level sees a possible truncation). */
                char layer[4] = {'l', (char)('0' + l), 0, 0};
                if (l == n_hidden)
                    memcpy(layer, "out", 4);
                snprintf(x->name, sizeof x->name, "%s.%s.%c", trunk_name(t), layer, p ? 'b' : 'w');
                x->rows = p ? 1 : layer_in(m, l);
                x->cols = layer_out(m, t, l);
                x->offset = off;
                size_t numel = (size_t)x->rows * (size_t)x->cols;
                m->n_weights += numel;
                off += (numel + RL_MLP_ALIGN - 1) / RL_MLP_ALIGN * RL_MLP_ALIGN;
            }
    m->n_params = off;
    char canon[1024];
    rl_mlp_canonical(m, canon, sizeof canon);
    m->shape_hash = rl_fnv1a64(canon);
    return 0;
}

int rl_mlp_canonical(const struct rl_mlp *m, char *buf, size_t len)
{
    char tmp[1024];
    int n = snprintf(tmp, sizeof tmp,
                     "rl_mlp/v1;obs=%d;act=%d;hidden=", m->obs_dim, m->n_actions);
    for (int l = 0; l < m->n_hidden; l++)
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "%s%d", l ? "," : "", m->hidden[l]);
    n += snprintf(tmp + n, sizeof tmp - (size_t)n,
                  ";activation=tanh;trunks=separate;weight=in_out;align=%d;params=%zu",
                  RL_MLP_ALIGN, m->n_params);
    for (int i = 0; i < m->n_tensors; i++)
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, ";%s=%dx%d@%zu", m->tensor[i].name,
                      m->tensor[i].rows, m->tensor[i].cols, m->tensor[i].offset);
    return snprintf(buf, len, "%s", tmp);
}

const struct rl_mlp_tensor *rl_mlp_weight(const struct rl_mlp *m, int trunk, int layer)
{
    return &m->tensor[tensor_index(m, trunk, layer, 0)];
}

const struct rl_mlp_tensor *rl_mlp_bias(const struct rl_mlp *m, int trunk, int layer)
{
    return &m->tensor[tensor_index(m, trunk, layer, 1)];
}

const struct rl_mlp_tensor *rl_mlp_find(const struct rl_mlp *m, const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensor[i].name, name))
            return &m->tensor[i];
    return NULL;
}

float *rl_mlp_alloc(const struct rl_mlp *m)
{
    size_t bytes = (m->n_params * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes);
    return p;
}

/* W [rows][cols] with orthonormal columns (rows >= cols) or rows, times gain:
 * modified Gram-Schmidt on Gaussian vectors, in double. */
static void orthogonal(float *w, int rows, int cols, double gain, struct rl_rng *rng)
{
    int r = rows > cols ? rows : cols, c = rows > cols ? cols : rows;
    double *v = malloc(sizeof(double) * (size_t)r * (size_t)c); /* c vectors of length r */
    if (!v)
        abort();
    for (int j = 0; j < c; j++) {
        double *vj = v + (size_t)j * r;
        for (;;) {
            for (int i = 0; i < r; i++)
                vj[i] = rl_rng_normal(rng);
            for (int q = 0; q < j; q++) {
                const double *vq = v + (size_t)q * r;
                double d = 0;
                for (int i = 0; i < r; i++)
                    d += vj[i] * vq[i];
                for (int i = 0; i < r; i++)
                    vj[i] -= d * vq[i];
            }
            double nn = 0;
            for (int i = 0; i < r; i++)
                nn += vj[i] * vj[i];
            if (nn > 1e-12) {
                nn = 1.0 / sqrt(nn);
                for (int i = 0; i < r; i++)
                    vj[i] *= nn;
                break;
            }
        }
    }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            w[(size_t)i * cols + j] =
                (float)(gain * (rows >= cols ? v[(size_t)j * r + i] : v[(size_t)i * r + j]));
    free(v);
}

void rl_mlp_params_init(const struct rl_mlp *m, float *params, uint64_t seed)
{
    memset(params, 0, m->n_params * sizeof(float));
    for (int t = 0; t < 2; t++)
        for (int l = 0; l <= m->n_hidden; l++) {
            const struct rl_mlp_tensor *w = rl_mlp_weight(m, t, l);
            struct rl_rng rng = rl_rng_make(rl_rng_derive(seed, (uint64_t)(t * 16 + l)));
            double gain = l < m->n_hidden ? sqrt(2.0) : t == RL_MLP_TRUNK_PI ? 0.01 : 1.0;
            orthogonal(params + w->offset, w->rows, w->cols, gain, &rng);
        }
}

/* ---- kernels ------------------------------------------------------------- */

/* The kernels are written once, in mlp_kernels.h, over a vector type of
 * KW floats, and instantiated here: 4-wide for the x86-64 baseline (SSE2;
 * the same code maps onto WebAssembly SIMD128) and 8-wide for AVX2+FMA. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* tanh(x) = p(x)/q(x), odd/even polynomials on x clamped to +-7.905 (the
 * rational approximation Eigen uses for float); |error| < 4e-7. */
#define TANH_CLAMP 7.90531110763549805f
#define TANH_POLY(x, x2, p, q)                                  \
    do {                                                        \
        p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f; \
        p = x2 * p + -8.60467152213735e-11f;                    \
        p = x2 * p + 5.12229709037114e-08f;                     \
        p = x2 * p + 1.48572235717979e-05f;                     \
        p = x2 * p + 6.37261928875436e-04f;                     \
        p = x2 * p + 4.89352455891786e-03f;                     \
        p = x * p;                                              \
        q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f; \
        q = x2 * q + 2.26843463243900e-03f;                     \
        q = x2 * q + 4.89352518554385e-03f;                     \
    } while (0)

typedef float vf4 __attribute__((vector_size(16)));
typedef int32_t vi4 __attribute__((vector_size(16)));
#define KV vf4
#define KVI vi4
#define KW 4
#define KSUF generic
#define KTARGET
#include "rl/mlp_kernels.h"
#undef KV
#undef KVI
#undef KW
#undef KSUF
#undef KTARGET

#if defined(__x86_64__) && defined(__GNUC__)
#define RL_MLP_HAVE_X86 1
typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));
#define KV vf8
#define KVI vi8
#define KW 8
#define KSUF avx2
#define KTARGET __attribute__((target("avx2,fma")))
#include "rl/mlp_kernels.h"
#undef KV
#undef KVI
#undef KW
#undef KSUF
#undef KTARGET

typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));
#define KV vf16
#define KVI vi16
#define KW 16
#define KSUF avx512
#define KTARGET __attribute__((target("avx512f,avx512vl,avx512dq,fma")))
#include "rl/mlp_kernels.h"
#undef KV
#undef KVI
#undef KW
#undef KSUF
#undef KTARGET
#else
#define RL_MLP_HAVE_X86 0
#endif

/* Relaxed: a test/bench switch set before any kernel runs, never a
 * synchronisation point. */
static _Atomic int isa_limit = RL_MLP_ISA_AVX512;

void rl_mlp_force_isa(int level)
{
    atomic_store_explicit(&isa_limit, level < 0 ? RL_MLP_ISA_AVX512 : level, memory_order_relaxed);
}

static int cpu_isa_detect(void)
{
    int level = RL_MLP_ISA_GENERIC;
#if RL_MLP_HAVE_X86
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
        level = RL_MLP_ISA_AVX512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        level = RL_MLP_ISA_AVX2;
#endif
    /* DSHQ_RL_ISA=generic|avx2|avx512 caps it, e.g. to compare machines or
     * to make every process of a run use the same kernels. */
    const char *env = getenv("DSHQ_RL_ISA");
    if (env) {
        int cap = !strcmp(env, "generic") ? RL_MLP_ISA_GENERIC
                  : !strcmp(env, "avx2")  ? RL_MLP_ISA_AVX2
                                          : RL_MLP_ISA_AVX512;
        level = cap < level ? cap : level;
    }
    return level;
}

/* Relaxed: every thread computes the same value, so a race only repeats
 * the detection. */
static _Atomic int cpu_level = -1;

static int cpu_isa(void)
{
    int l = atomic_load_explicit(&cpu_level, memory_order_relaxed);
    if (l < 0) {
        l = cpu_isa_detect();
        atomic_store_explicit(&cpu_level, l, memory_order_relaxed);
    }
    return l;
}

int rl_mlp_isa_level(void)
{
    int cpu = cpu_isa(), lim = atomic_load_explicit(&isa_limit, memory_order_relaxed);
    return cpu < lim ? cpu : lim;
}

const char *rl_mlp_isa(void)
{
    static const char *const names[] = {"generic", "avx2+fma", "avx512"};
    return names[rl_mlp_isa_level()];
}

void rl_mlp_gemm(int M, int N, int K, const float *A, long sam, long sak, const float *B, long ldb,
                 float *C, long ldc, const float *bias, int accumulate)
{
    switch (rl_mlp_isa_level()) {
#if RL_MLP_HAVE_X86
    case RL_MLP_ISA_AVX512:
        gemm_avx512(M, N, K, A, sam, sak, B, ldb, C, ldc, bias, accumulate);
        return;
    case RL_MLP_ISA_AVX2:
        gemm_avx2(M, N, K, A, sam, sak, B, ldb, C, ldc, bias, accumulate);
        return;
#endif
    default:
        gemm_generic(M, N, K, A, sam, sak, B, ldb, C, ldc, bias, accumulate);
    }
}

void rl_mlp_tanh(float *x, size_t n)
{
    switch (rl_mlp_isa_level()) {
#if RL_MLP_HAVE_X86
    case RL_MLP_ISA_AVX512:
        tanh_avx512(x, n);
        return;
    case RL_MLP_ISA_AVX2:
        tanh_avx2(x, n);
        return;
#endif
    default:
        tanh_generic(x, n);
    }
}

void rl_mlp_gemm_ref(int M, int N, int K, const float *A, long sam, long sak, const float *B,
                     long ldb, float *C, long ldc, const float *bias, int accumulate)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float acc = accumulate ? C[m * ldc + n] : bias ? bias[n] : 0.0f;
            for (int k = 0; k < K; k++)
                acc += A[m * sam + k * sak] * B[k * ldb + n];
            C[m * ldc + n] = acc;
        }
}

/* ---- forward ------------------------------------------------------------- */

#define INFER_ROWS 32

/* One trunk over n <= rows rows: hidden activations into h[l] (row stride
 * hidden[l]), head into out (row stride ldo). */
static void trunk_forward(const struct rl_mlp *m, const float *params, int t, const float *obs,
                          int n, float *const *h, float *out, long ldo)
{
    const float *in = obs;
    int in_dim = m->obs_dim;
    for (int l = 0; l <= m->n_hidden; l++) {
        const struct rl_mlp_tensor *w = rl_mlp_weight(m, t, l), *b = rl_mlp_bias(m, t, l);
        int o = w->cols;
        float *y = l < m->n_hidden ? h[l] : out;
        long ldy = l < m->n_hidden ? o : ldo;
        rl_mlp_gemm(n, o, in_dim, in, in_dim, 1, params + w->offset, o, y, ldy,
                    params + b->offset, 0);
        if (l < m->n_hidden) {
            rl_mlp_tanh(y, (size_t)n * (size_t)o);
            in = y;
            in_dim = o;
        }
    }
}

void rl_mlp_forward(const struct rl_mlp *m, const float *params, const float *obs, int n,
                    float *logits, float *value)
{
    float buf[2][INFER_ROWS * RL_MLP_MAX_WIDTH];
    float *h[RL_MLP_MAX_HIDDEN] = {buf[0], buf[1], buf[0]};
    for (int r0 = 0; r0 < n; r0 += INFER_ROWS) {
        int rows = n - r0 < INFER_ROWS ? n - r0 : INFER_ROWS;
        const float *o = obs + (size_t)r0 * m->obs_dim;
        if (logits)
            trunk_forward(m, params, RL_MLP_TRUNK_PI, o, rows, h,
                          logits + (size_t)r0 * m->n_actions, m->n_actions);
        if (value)
            trunk_forward(m, params, RL_MLP_TRUNK_V, o, rows, h, value + r0, 1);
    }
}

void rl_mlp_act(const struct rl_mlp *m, const float *params, const float *obs, int n,
                struct rl_rng *rng, int32_t *act, float *logp, float *value)
{
    float logits[INFER_ROWS * RL_MLP_MAX_ACTIONS];
    float prob[RL_MLP_MAX_ACTIONS];
    const int A = m->n_actions;
    for (int r0 = 0; r0 < n; r0 += INFER_ROWS) {
        int rows = n - r0 < INFER_ROWS ? n - r0 : INFER_ROWS;
        rl_mlp_forward(m, params, obs + (size_t)r0 * m->obs_dim, rows, logits,
                       value ? value + r0 : NULL);
        for (int r = 0; r < rows; r++) {
            const float *z = logits + (size_t)r * A;
            float mx = z[0];
            int best = 0;
            for (int j = 1; j < A; j++)
                if (z[j] > mx) {
                    mx = z[j];
                    best = j;
                }
            float sum = 0.0f;
            for (int j = 0; j < A; j++) {
                prob[j] = expf(z[j] - mx);
                sum += prob[j];
            }
            int a = best;
            if (rng) {
                /* Inverse CDF on the unnormalised weights; the last action
                 * takes any rounding remainder. */
                float u = rl_rng_float(rng) * sum, c = 0.0f;
                a = A - 1;
                for (int j = 0; j < A - 1; j++) {
                    c += prob[j];
                    if (u < c) {
                        a = j;
                        break;
                    }
                }
                /* A zero-probability action is never returned: walk back to
                 * a positive one (possible only through rounding). */
                while (prob[a] <= 0.0f && a > 0)
                    a--;
            }
            act[r0 + r] = a;
            if (logp)
                logp[r0 + r] = z[a] - mx - logf(sum);
        }
    }
}

/* ---- training ------------------------------------------------------------ */

static float *ws_h(const struct rl_mlp *m, const struct rl_mlp_ws *ws, int t, int l)
{
    return ws->h + (size_t)(t * m->n_hidden + l) * RL_MLP_BLOCK * (size_t)m->max_width;
}

int rl_mlp_ws_init(struct rl_mlp_ws *ws, const struct rl_mlp *m)
{
    memset(ws, 0, sizeof *ws);
    size_t wmax = (size_t)(m->max_width > m->n_actions ? m->max_width : m->n_actions);
    size_t inmax = (size_t)(m->max_width > m->obs_dim ? m->max_width : m->obs_dim);
    ws->h = calloc((size_t)2 * m->n_hidden * RL_MLP_BLOCK * m->max_width, sizeof(float));
    ws->logits = calloc((size_t)RL_MLP_BLOCK * m->n_actions, sizeof(float));
    ws->value = calloc(RL_MLP_BLOCK, sizeof(float));
    ws->dh = calloc((size_t)2 * RL_MLP_BLOCK * m->max_width, sizeof(float));
    ws->wt = calloc(inmax * wmax, sizeof(float));
    if (!ws->h || !ws->logits || !ws->value || !ws->dh || !ws->wt) {
        rl_mlp_ws_free(ws);
        return -ENOMEM;
    }
    return 0;
}

void rl_mlp_ws_free(struct rl_mlp_ws *ws)
{
    free(ws->h);
    free(ws->logits);
    free(ws->value);
    free(ws->dh);
    free(ws->wt);
    memset(ws, 0, sizeof *ws);
}

void rl_mlp_forward_train(const struct rl_mlp *m, const float *params, const float *obs, int n,
                          struct rl_mlp_ws *ws)
{
    float *h[RL_MLP_MAX_HIDDEN];
    for (int t = 0; t < 2; t++) {
        for (int l = 0; l < m->n_hidden; l++)
            h[l] = ws_h(m, ws, t, l);
        if (t == RL_MLP_TRUNK_PI)
            trunk_forward(m, params, t, obs, n, h, ws->logits, m->n_actions);
        else
            trunk_forward(m, params, t, obs, n, h, ws->value, 1);
    }
}

static void trunk_backward(const struct rl_mlp *m, const float *params, int t, const float *obs,
                           int n, struct rl_mlp_ws *ws, const float *dout, float *grads)
{
    const float *dy = dout; /* [n][out] gradient w.r.t. this layer's output */
    float *dbuf[2] = {ws->dh, ws->dh + (size_t)RL_MLP_BLOCK * m->max_width};
    int flip = 0;
    for (int l = m->n_hidden; l >= 0; l--) {
        const struct rl_mlp_tensor *w = rl_mlp_weight(m, t, l), *b = rl_mlp_bias(m, t, l);
        const int in_dim = w->rows, out_dim = w->cols;
        const float *x = l == 0 ? obs : ws_h(m, ws, t, l - 1); /* [n][in_dim] */
        if (l < m->n_hidden) {
            /* dy holds dL/dh for h = tanh(z): turn it into dL/dz in place. */
            float *dz = (float *)dy;
            const float *hl = ws_h(m, ws, t, l);
            for (size_t i = 0; i < (size_t)n * out_dim; i++)
                dz[i] *= 1.0f - hl[i] * hl[i];
        }
        /* dW [in][out] += x^T dy */
        rl_mlp_gemm(in_dim, out_dim, n, x, 1, in_dim, dy, out_dim, grads + w->offset, out_dim,
                    NULL, 1);
        float *db = grads + b->offset;
        for (int r = 0; r < n; r++)
            for (int o = 0; o < out_dim; o++)
                db[o] += dy[(size_t)r * out_dim + o];
        if (l == 0)
            break;
        /* dx [n][in] = dy · W^T, through a transposed copy of W. */
        const float *W = params + w->offset;
        for (int i = 0; i < in_dim; i++)
            for (int o = 0; o < out_dim; o++)
                ws->wt[(size_t)o * in_dim + i] = W[(size_t)i * out_dim + o];
        float *dx = dbuf[flip];
        flip ^= 1;
        rl_mlp_gemm(n, in_dim, out_dim, dy, out_dim, 1, ws->wt, in_dim, dx, in_dim, NULL, 0);
        dy = dx;
    }
}

void rl_mlp_backward(const struct rl_mlp *m, const float *params, const float *obs, int n,
                     struct rl_mlp_ws *ws, const float *dlogits, const float *dvalue,
                     float *grads)
{
    if (dlogits)
        trunk_backward(m, params, RL_MLP_TRUNK_PI, obs, n, ws, dlogits, grads);
    if (dvalue)
        trunk_backward(m, params, RL_MLP_TRUNK_V, obs, n, ws, dvalue, grads);
}
