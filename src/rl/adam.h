/* adam.h — the Adam optimizer over one contiguous parameter block, global-norm
 * gradient clipping and the learning-rate schedule.
 *
 * The moments m and v are blocks of the same layout as the parameters (one
 * float per parameter), so the whole optimizer state is three copies of the
 * network's block plus a step counter.  Used by one trainer thread. */
#ifndef RL_ADAM_H
#define RL_ADAM_H

#include <stddef.h>
#include <stdint.h>

struct rl_adam {
    size_t n;      /* parameters */
    float beta1;   /* first-moment decay, 0.9 */
    float beta2;   /* second-moment decay, 0.999 */
    float eps;     /* added to sqrt(v_hat), 1e-5 */
    int64_t t;     /* steps taken */
    float *m;      /* [n] first moment */
    float *v;      /* [n] second moment */
};

/* Zeroed moments for n parameters.  Returns 0 or -ENOMEM / -EINVAL. */
int rl_adam_init(struct rl_adam *a, size_t n, float beta1, float beta2, float eps);
void rl_adam_free(struct rl_adam *a);

/* One step with bias correction (the PyTorch formulation):
 *     t += 1;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *     p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)       */
void rl_adam_step(struct rl_adam *a, float *params /* [n] */, const float *grads /* [n] */,
                  float lr);

/* Global L2 norm of grads; when it exceeds max_norm (> 0), scales grads by
 * max_norm / norm.  Returns the norm before clipping. */
float rl_adam_clip_grad_norm(float *grads /* [n] */, size_t n, float max_norm);

/* Linear annealing: lr0 at progress 0 to lr_end at progress >= 1. */
float rl_adam_lr_linear(float lr0, float lr_end, double progress);

#endif
