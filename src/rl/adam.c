/* adam.c — Adam, gradient clipping and the learning-rate schedule. */
#include "rl/adam.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int rl_adam_init(struct rl_adam *a, size_t n, float beta1, float beta2, float eps)
{
    memset(a, 0, sizeof *a);
    if (n == 0 || !(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f) ||
        !(eps > 0.0f))
        return -EINVAL;
    a->n = n;
    a->beta1 = beta1;
    a->beta2 = beta2;
    a->eps = eps;
    a->m = calloc(n, sizeof(float));
    a->v = calloc(n, sizeof(float));
    if (!a->m || !a->v) {
        rl_adam_free(a);
        return -ENOMEM;
    }
    return 0;
}

void rl_adam_free(struct rl_adam *a)
{
    free(a->m);
    free(a->v);
    memset(a, 0, sizeof *a);
}

void rl_adam_step(struct rl_adam *a, float *params, const float *grads, float lr)
{
    a->t++;
    /* Bias corrections in double: b^t underflows gracefully and the two
     * scalars are computed once per step. */
    double bc1 = 1.0 - pow((double)a->beta1, (double)a->t);
    double bc2 = 1.0 - pow((double)a->beta2, (double)a->t);
    const float step = (float)((double)lr / bc1);
    const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    const float b1 = a->beta1, b2 = a->beta2, c1 = 1.0f - a->beta1, c2 = 1.0f - a->beta2;
    const float eps = a->eps;
    float *m = a->m, *v = a->v;
    for (size_t i = 0; i < a->n; i++) {
        float g = grads[i];
        m[i] = b1 * m[i] + c1 * g;
        v[i] = b2 * v[i] + c2 * g * g;
        params[i] -= step * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
    }
}

float rl_adam_clip_grad_norm(float *grads, size_t n, float max_norm)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)grads[i] * grads[i];
    float norm = (float)sqrt(ss);
    if (max_norm > 0.0f && norm > max_norm) {
        float s = max_norm / norm;
        for (size_t i = 0; i < n; i++)
            grads[i] *= s;
    }
    return norm;
}

float rl_adam_lr_linear(float lr0, float lr_end, double progress)
{
    if (progress <= 0.0)
        return lr0;
    if (progress >= 1.0)
        return lr_end;
    return (float)((double)lr0 + ((double)lr_end - lr0) * progress);
}
