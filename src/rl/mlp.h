/* mlp.h — the policy/value network of DrillSergeantHQ, from scratch.
 *
 * Architecture (docs/learner.md says why):
 *
 *     obs [D] ─> pi.l0 ─tanh─> pi.l1 ─tanh─> ... ─> pi.out ─> logits [A]   policy trunk
 *     obs [D] ─>  v.l0 ─tanh─>  v.l1 ─tanh─> ... ─>  v.out ─> value  [1]   value trunk
 *
 * Two separate trunks with the same hidden widths (2 or 3 layers), tanh
 * hidden activations, a linear A-way policy head and a linear value head.
 *
 * Every parameter lives in ONE contiguous float32 block, described by a table
 * of tensors (name, shape, offset), so publishing weights is one memcpy and a
 * snapshot in shared memory can be used in place through a `const float *`.
 * Gradients and the Adam moments use blocks of the same layout.  A weight
 * matrix is stored [in][out] (y = x·W + b), so the inference forward reads
 * it row by row with no transpose.  Every tensor starts on a 64-byte boundary
 * (RL_MLP_ALIGN floats); the padding between tensors is zero and stays zero.
 *
 * The layout is named by a shape hash: FNV-1a 64 over the canonical string
 * `rl_mlp_canonical()` returns (architecture, sizes, every tensor's name,
 * shape and offset).  Two processes agree on the layout iff the hashes match.
 *
 * Threading: a `struct rl_mlp` is immutable after rl_mlp_init and may be
 * shared by any number of threads.  The forward functions write only their
 * outputs and stack scratch; a `struct rl_mlp_ws` belongs to one thread. */
#ifndef RL_MLP_H
#define RL_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "rl/rng.h"

#define RL_MLP_MAX_HIDDEN 3  /* hidden layers per trunk: 1..3 */
#define RL_MLP_MAX_WIDTH 256 /* widest hidden layer */
#define RL_MLP_MAX_OBS 1024
#define RL_MLP_MAX_ACTIONS 256
#define RL_MLP_MAX_TENSORS (2 * 2 * (RL_MLP_MAX_HIDDEN + 1))
#define RL_MLP_ALIGN 16  /* floats: each tensor starts on a 64-byte boundary */
#define RL_MLP_BLOCK 64  /* rows the training forward/backward handle at once */

/* Default architecture: 2 hidden layers of 64 in each trunk. */
#define RL_MLP_DEFAULT_HIDDEN 64
#define RL_MLP_DEFAULT_LAYERS 2

enum { RL_MLP_TRUNK_PI = 0, RL_MLP_TRUNK_V = 1 };

struct rl_mlp_tensor {
    char name[16];  /* "pi.l0.w", "v.out.b", ... */
    int rows, cols; /* shape [rows][cols]; a bias is [1][cols] */
    size_t offset;  /* floats from the start of the block */
};

struct rl_mlp {
    int obs_dim;                    /* D */
    int n_actions;                  /* A */
    int n_hidden;                   /* hidden layers per trunk, 1..3 */
    int hidden[RL_MLP_MAX_HIDDEN];  /* widths */
    int max_width;                  /* max(hidden[]) */
    int n_tensors;                  /* 2 trunks x (n_hidden + 1) layers x {w, b} */
    struct rl_mlp_tensor tensor[RL_MLP_MAX_TENSORS];
    size_t n_params;                /* floats in the block, padding included */
    size_t n_weights;               /* real parameters, padding excluded */
    uint64_t shape_hash;
};

/* Describes the network: D inputs, A actions, n_hidden layers of the given
 * widths in each trunk.  Returns 0, or -EINVAL for sizes out of range. */
int rl_mlp_init(struct rl_mlp *m, int obs_dim, int n_actions, const int *hidden,
                int n_hidden);

/* Writes the canonical layout string (the input of the shape hash) into buf;
 * returns its length (snprintf semantics). */
int rl_mlp_canonical(const struct rl_mlp *m, char *buf, size_t len);

/* FNV-1a 64 over a NUL-terminated string (the RL layer's own copy). */
uint64_t rl_fnv1a64(const char *s);

/* The tensor of one trunk's layer: layer 0..n_hidden-1 are hidden, n_hidden is
 * the head.  Weight [in][out] then bias [1][out]. */
const struct rl_mlp_tensor *rl_mlp_weight(const struct rl_mlp *m, int trunk, int layer);
const struct rl_mlp_tensor *rl_mlp_bias(const struct rl_mlp *m, int trunk, int layer);

/* Looks a tensor up by name; NULL if none. */
const struct rl_mlp_tensor *rl_mlp_find(const struct rl_mlp *m, const char *name);

/* Allocates a zeroed, 64-byte aligned block of n_params floats (free()). */
float *rl_mlp_alloc(const struct rl_mlp *m);

/* Orthogonal initialisation (gain sqrt 2 hidden, 0.01 policy head, 1 value
 * head), zero biases and padding; deterministic for a seed. */
void rl_mlp_params_init(const struct rl_mlp *m, float *params /* [n_params] */, uint64_t seed);

/* ---- inference ---------------------------------------------------------- */

/* Forward pass for n rows.  logits [n][A] and value [n] may each be NULL, and
 * then that trunk is not evaluated.  params may point into a read-only
 * shared snapshot: it is only read.  Rows are processed independently: a
 * row's outputs are bit-identical whatever n and its position in the batch. */
void rl_mlp_forward(const struct rl_mlp *m, const float *params, const float *obs /* [n][D] */,
                    int n, float *logits /* [n][A] */, float *value /* [n] */);

/* Acts for n rows: samples act ~ softmax(logits) using rng (one uniform per
 * row, rows in order), or takes the argmax when rng is NULL (greedy).  logp
 * [n] gets log pi(act|obs); value [n] the value estimate.  logp and value may
 * be NULL.  Same params, obs and rng state -> same actions, bit for bit. */
void rl_mlp_act(const struct rl_mlp *m, const float *params, const float *obs /* [n][D] */,
                int n, struct rl_rng *rng, int32_t *act /* [n] */, float *logp /* [n] */,
                float *value /* [n] */);

/* ---- training ----------------------------------------------------------- */

/* Scratch of one training thread for blocks of at most RL_MLP_BLOCK rows. */
struct rl_mlp_ws {
    float *h;       /* [2 trunks][n_hidden][BLOCK][max_width]: tanh outputs */
    float *logits;  /* [BLOCK][A] after rl_mlp_forward_train */
    float *value;   /* [BLOCK] after rl_mlp_forward_train */
    float *dh;      /* [2][BLOCK][max_width]: backward ping-pong */
    float *wt;      /* [max_width * max(max_width, A)]: a transposed weight */
};

int rl_mlp_ws_init(struct rl_mlp_ws *ws, const struct rl_mlp *m);
void rl_mlp_ws_free(struct rl_mlp_ws *ws);

/* Forward of n <= RL_MLP_BLOCK rows keeping the activations in ws; the
 * results are ws->logits [n][A] and ws->value [n], bit-identical to
 * rl_mlp_forward's. */
void rl_mlp_forward_train(const struct rl_mlp *m, const float *params,
                          const float *obs /* [n][D] */, int n, struct rl_mlp_ws *ws);

/* Backward of the rows of the last rl_mlp_forward_train: given dL/dlogits and
 * dL/dvalue, ADDS dL/dparams into grads (same layout as params).  dlogits or
 * dvalue may be NULL (that trunk gets no gradient). */
void rl_mlp_backward(const struct rl_mlp *m, const float *params, const float *obs /* [n][D] */,
                     int n, struct rl_mlp_ws *ws, const float *dlogits /* [n][A] */,
                     const float *dvalue /* [n] */, float *grads /* [n_params] */);

/* ---- kernels (exposed for tests and bench/learner) ---------------------- */

/* C[m][n] = (accumulate ? C[m][n] : bias ? bias[n] : 0) + sum_k A(m,k) B[k][n]
 * with A(m,k) = A[m*sam + k*sak]; B row-major with row stride ldb, C with ldc.
 * The fast kernel picks its instruction set once (AVX2+FMA where the CPU has
 * it); every output element is computed by the same operation sequence, so a
 * result never depends on M or on the element's position. */
void rl_mlp_gemm(int M, int N, int K, const float *A, long sam, long sak, const float *B, long ldb,
                 float *C, long ldc, const float *bias, int accumulate);
/* The naive triple loop, the reference the fast kernel is checked against. */
void rl_mlp_gemm_ref(int M, int N, int K, const float *A, long sam, long sak, const float *B,
                     long ldb, float *C, long ldc, const float *bias, int accumulate);

/* Instruction sets of the fast kernels, in increasing order. */
enum { RL_MLP_ISA_GENERIC = 0, RL_MLP_ISA_AVX2 = 1, RL_MLP_ISA_AVX512 = 2 };
/* The one in use: the best the CPU has, capped by the environment variable
 * DSHQ_RL_ISA (generic, avx2 or avx512) and by rl_mlp_force_isa.  Results
 * are bit-reproducible for one instruction set; across them they differ in
 * the last bits (FMA contraction, vector width of the tails). */
int rl_mlp_isa_level(void);
/* Its name: "generic" (x86-64 baseline, 4-wide), "avx2+fma" or "avx512". */
const char *rl_mlp_isa(void);
/* Caps the instruction set at level (-1: no cap); for tests and benchmarks.
 * Not a synchronisation point: call it before the kernels run. */
void rl_mlp_force_isa(int level);

/* tanh to within 4e-7 absolute (a rational approximation that vectorizes),
 * in place over n floats. */
void rl_mlp_tanh(float *x, size_t n);

#endif
