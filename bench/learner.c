/* bench/learner — samples per second of the policy/value MLP at batch 4096
 * with the default network (28 -> 64 -> 64 -> 30 | 1, two trunks):
 *
 *   forward            inference: logits and value for every row
 *   forward+backward   training: forward keeping activations, backward of
 *                      given output gradients into the gradient block
 *
 * for three implementations of the matrix products, everything else (bias,
 * tanh, tanh', bias gradients) shared:
 *
 *   ours      rl_mlp_forward / rl_mlp_forward_train + rl_mlp_backward (the
 *             product code: register-tiled kernels, blocks of rows that stay
 *             in L1), with the CPU's instruction set and with the generic one
 *   naive     the same layer loop over the whole batch with the reference
 *             triple loop (rl_mlp_gemm_ref)
 *   OpenBLAS  the same layer loop over the whole batch with cblas_sgemm,
 *             single-threaded (as our kernels are)
 *
 * Each figure is the median of REPS timed runs of at least 0.2 s.  One line
 * per configuration with the peers beside ours and the ratios; the maximum
 * difference of each peer's outputs from ours is printed as a check.
 *
 *   make bench && build/bench/learner [reps]        (make bench-deps for OpenBLAS) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rl/mlp.h"
#include "rl/ppo.h"

#ifdef HAVE_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
#endif

enum { B = 4096, D = 28, A = 30, H = 64, L = 2 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef void (*gemm_fn)(int M, int N, int K, const float *A_, long sam, long sak, const float *B_,
                        long ldb, float *C, long ldc, const float *bias, int accumulate);

#ifdef HAVE_OPENBLAS
/* The same contract as rl_mlp_gemm, on cblas_sgemm.  A(m,k) = A[m*sam+k*sak]
 * is row-major A (sak = 1) or a transposed view (sam = 1). */
static void gemm_openblas(int M, int N, int K, const float *A_, long sam, long sak,
                          const float *B_, long ldb, float *C, long ldc, const float *bias,
                          int accumulate)
{
    float beta = 0.0f;
    if (accumulate) {
        beta = 1.0f;
    } else if (bias) {
        for (int m = 0; m < M; m++)
            memcpy(C + (size_t)m * ldc, bias, sizeof(float) * N);
        beta = 1.0f;
    }
    if (sak == 1)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A_, (int)sam, B_,
                    (int)ldb, beta, C, (int)ldc);
    else
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, A_, (int)sak, B_,
                    (int)ldb, beta, C, (int)ldc);
}
#endif

/* The layer loop over the whole batch with a given gemm: the peers' network. */
struct whole {
    const struct rl_mlp *m;
    float *h[2][L];  /* [B][H] activations per trunk and layer */
    float *dh[2];    /* [B][H] ping-pong */
    float *wt;       /* transposed weight */
};

static void whole_forward(struct whole *w, gemm_fn gemm, const float *p, const float *obs,
                          float *logits, float *value)
{
    const struct rl_mlp *m = w->m;
    for (int t = 0; t < 2; t++) {
        const float *in = obs;
        int in_dim = D;
        for (int l = 0; l <= L; l++) {
            const struct rl_mlp_tensor *wt = rl_mlp_weight(m, t, l), *bt = rl_mlp_bias(m, t, l);
            int o = wt->cols;
            float *y = l < L ? w->h[t][l] : t == 0 ? logits : value;
            gemm(B, o, in_dim, in, in_dim, 1, p + wt->offset, o, y, o, p + bt->offset, 0);
            if (l < L) {
                rl_mlp_tanh(y, (size_t)B * o);
                in = y;
                in_dim = o;
            }
        }
    }
}

static void whole_backward(struct whole *w, gemm_fn gemm, const float *p, const float *obs,
                           const float *dlogits, const float *dvalue, float *g)
{
    const struct rl_mlp *m = w->m;
    for (int t = 0; t < 2; t++) {
        const float *dy = t == 0 ? dlogits : dvalue;
        int flip = 0;
        for (int l = L; l >= 0; l--) {
            const struct rl_mlp_tensor *wt = rl_mlp_weight(m, t, l), *bt = rl_mlp_bias(m, t, l);
            const int in_dim = wt->rows, out_dim = wt->cols;
            const float *x = l == 0 ? obs : w->h[t][l - 1];
            if (l < L) {
                float *dz = (float *)dy;
                const float *hl = w->h[t][l];
                for (size_t i = 0; i < (size_t)B * out_dim; i++)
                    dz[i] *= 1.0f - hl[i] * hl[i];
            }
            gemm(in_dim, out_dim, B, x, 1, in_dim, dy, out_dim, g + wt->offset, out_dim, NULL, 1);
            for (int r = 0; r < B; r++)
                for (int o = 0; o < out_dim; o++)
                    g[bt->offset + o] += dy[(size_t)r * out_dim + o];
            if (l == 0)
                break;
            const float *W = p + wt->offset;
            for (int i = 0; i < in_dim; i++)
                for (int o = 0; o < out_dim; o++)
                    w->wt[(size_t)o * in_dim + i] = W[(size_t)i * out_dim + o];
            float *dx = w->dh[flip];
            flip ^= 1;
            gemm(B, in_dim, out_dim, dy, out_dim, 1, w->wt, in_dim, dx, in_dim, NULL, 0);
            dy = dx;
        }
    }
}

/* Shared state of the timed functions. */
static struct rl_mlp net;
static float *params, *grads, *obs, *logits, *value, *dlogits, *dvalue, *dl_copy, *dv_copy;
static struct rl_mlp_ws ws;
static struct whole whole;
static gemm_fn peer;

static void run_ours_forward(void) { rl_mlp_forward(&net, params, obs, B, logits, value); }

static void run_ours_train(void)
{
    for (int r0 = 0; r0 < B; r0 += RL_MLP_BLOCK) {
        rl_mlp_forward_train(&net, params, obs + (size_t)r0 * D, RL_MLP_BLOCK, &ws);
        rl_mlp_backward(&net, params, obs + (size_t)r0 * D, RL_MLP_BLOCK, &ws,
                        dlogits + (size_t)r0 * A, dvalue + r0, grads);
    }
}

static void run_peer_forward(void) { whole_forward(&whole, peer, params, obs, logits, value); }

static void run_peer_train(void)
{
    whole_forward(&whole, peer, params, obs, logits, value);
    /* backward consumes its output gradients in place (tanh'): copy them */
    memcpy(dl_copy, dlogits, sizeof(float) * B * A);
    memcpy(dv_copy, dvalue, sizeof(float) * B);
    whole_backward(&whole, peer, params, obs, dl_copy, dv_copy, grads);
}

static struct rl_ppo_config ppo_cfg;
static int32_t *act;
static float *adv, *ret, *logp_old, *v_old;

static void run_ppo_loss(void)
{
    struct rl_ppo_batch b = {B, obs, act, logp_old, v_old, adv, ret};
    rl_ppo_loss(&net, params, &b, &ppo_cfg, &ws, grads, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median samples/s over reps runs of at least 0.2 s each. */
static double measure(void (*fn)(void), int reps)
{
    double r[64];
    fn(); /* warm up */
    for (int i = 0; i < reps; i++) {
        int n = 0;
        double t0 = now_s(), t;
        do {
            fn();
            n++;
        } while ((t = now_s() - t0) < 0.2);
        r[i] = (double)n * B / t;
    }
    qsort(r, (size_t)reps, sizeof r[0], cmp_double);
    return r[reps / 2];
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

static void line(const char *what, double ours, double naive, double blas)
{
    printf("%-34s %12.0f %12.0f %7.2fx", what, ours, naive, ours / naive);
    if (blas > 0)
        printf(" %12.0f %7.2fx\n", blas, ours / blas);
    else
        printf(" %12s %8s\n", "n/a", "n/a");
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    if (reps < 1 || reps > 64)
        reps = 7;
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(1);
#endif
    const int hid[L] = {H, H};
    if (rl_mlp_init(&net, D, A, hid, L) || rl_mlp_ws_init(&ws, &net))
        return 1;
    params = rl_mlp_alloc(&net);
    grads = rl_mlp_alloc(&net);
    obs = malloc(sizeof(float) * B * D);
    logits = malloc(sizeof(float) * B * A);
    value = malloc(sizeof(float) * B);
    dlogits = malloc(sizeof(float) * B * A);
    dvalue = malloc(sizeof(float) * B);
    dl_copy = malloc(sizeof(float) * B * A);
    dv_copy = malloc(sizeof(float) * B);
    act = malloc(sizeof(int32_t) * B);
    adv = malloc(sizeof(float) * B);
    ret = malloc(sizeof(float) * B);
    logp_old = malloc(sizeof(float) * B);
    v_old = malloc(sizeof(float) * B);
    whole.m = &net;
    for (int t = 0; t < 2; t++)
        for (int l = 0; l < L; l++)
            whole.h[t][l] = malloc(sizeof(float) * B * H);
    whole.dh[0] = malloc(sizeof(float) * B * H);
    whole.dh[1] = malloc(sizeof(float) * B * H);
    whole.wt = malloc(sizeof(float) * H * H);
    if (!params || !grads || !obs || !logits || !value || !dlogits || !dvalue || !dl_copy ||
        !dv_copy || !act || !adv || !ret || !logp_old || !v_old || !whole.dh[0] || !whole.dh[1] ||
        !whole.wt)
        return 1;
    rl_mlp_params_init(&net, params, 1);
    struct rl_rng r = rl_rng_make(2);
    for (int i = 0; i < B * D; i++)
        obs[i] = (float)rl_rng_normal(&r);
    for (int i = 0; i < B * A; i++)
        dlogits[i] = (float)rl_rng_normal(&r) * 1e-3f;
    for (int i = 0; i < B; i++) {
        dvalue[i] = (float)rl_rng_normal(&r) * 1e-3f;
        act[i] = (int32_t)rl_rng_below(&r, A);
        adv[i] = (float)rl_rng_normal(&r);
        ret[i] = (float)rl_rng_normal(&r);
        logp_old[i] = -logf((float)A) + 0.1f * (float)rl_rng_normal(&r);
        v_old[i] = 0.1f * (float)rl_rng_normal(&r);
    }
    rl_ppo_config_default(&ppo_cfg);

    /* Check: every peer computes the same thing as ours. */
    float *lg_ours = malloc(sizeof(float) * B * A), *g_ours = rl_mlp_alloc(&net);
    if (!lg_ours || !g_ours)
        return 1;
    run_ours_forward();
    memcpy(lg_ours, logits, sizeof(float) * B * A);
    memset(grads, 0, sizeof(float) * net.n_params);
    run_ours_train();
    memcpy(g_ours, grads, sizeof(float) * net.n_params);
    gemm_fn peers[2] = {rl_mlp_gemm_ref, NULL};
#ifdef HAVE_OPENBLAS
    peers[1] = gemm_openblas;
#endif
    double fwd_diff[2] = {0, 0}, grad_diff[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        if (!peers[k])
            continue;
        peer = peers[k];
        run_peer_forward();
        fwd_diff[k] = max_diff(lg_ours, logits, (size_t)B * A);
        memset(grads, 0, sizeof(float) * net.n_params);
        run_peer_train();
        grad_diff[k] = max_diff(g_ours, grads, net.n_params);
    }

    printf("bench/learner: MLP %d -> %d x %d (tanh) -> %d | 1, two trunks, %zu params; batch %d; "
           "median of %d\n",
           D, L, H, A, net.n_weights, B, reps);
    printf("kernels: %s; OpenBLAS %s, 1 thread\n", rl_mlp_isa(),
#ifdef HAVE_OPENBLAS
           "linked"
#else
           "not built in (make bench-deps)"
#endif
    );
    printf("max |peer - ours|: logits naive %.2g openblas %.2g; gradients naive %.2g openblas %.2g\n\n",
           fwd_diff[0], fwd_diff[1], grad_diff[0], grad_diff[1]);
    printf("%-34s %12s %12s %8s %12s %8s\n", "samples/s", "ours", "naive", "ratio", "OpenBLAS",
           "ratio");
    for (int g = 0, isa = RL_MLP_ISA_AVX512; isa >= 0; isa--) {
        rl_mlp_force_isa(isa);
        if (rl_mlp_isa_level() != isa)
            continue; /* the CPU does not have it */
        char name[64];
        double ours_f = measure(run_ours_forward, reps);
        double ours_t = measure(run_ours_train, reps);
        /* the peers do not depend on our ISA: measure them once */
        static double naive_f, naive_t, blas_f = -1, blas_t = -1;
        if (g == 0) {
            peer = rl_mlp_gemm_ref;
            naive_f = measure(run_peer_forward, reps);
            naive_t = measure(run_peer_train, reps);
#ifdef HAVE_OPENBLAS
            peer = gemm_openblas;
            blas_f = measure(run_peer_forward, reps);
            blas_t = measure(run_peer_train, reps);
#endif
        }
        snprintf(name, sizeof name, "forward (%s)", rl_mlp_isa());
        line(name, ours_f, naive_f, blas_f);
        snprintf(name, sizeof name, "forward+backward (%s)", rl_mlp_isa());
        line(name, ours_t, naive_t, blas_t);
        if (g == 0) {
            double ppo = measure(run_ppo_loss, reps);
            printf("%-34s %12.0f   (PPO loss + gradient, softmax and all)\n", "ppo loss+grad (ours)",
                   ppo);
        }
        g++;
    }
    return 0;
}
