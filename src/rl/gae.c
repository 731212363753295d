/* gae.c — generalized advantage estimation (Schulman et al. 2016) with the
 * terminal / time-limit distinction. */
#include "rl/gae.h"

#include <stddef.h>

void rl_gae(const struct rl_rollout_view *v, float gamma, float lambda, float *adv, float *ret)
{
    const int T = v->T, E = v->E;
    for (int e = 0; e < E; e++) {
        float next_adv = 0.0f;
        float next_value = v->bootstrap_value[e];
        for (int t = T - 1; t >= 0; t--) {
            size_t i = (size_t)t * E + e;
            float val = v->value[i], delta, a;
            if (v->done[i]) {
                delta = v->rew[i] - val;
                a = delta;
            } else if (v->trunc[i]) {
                delta = v->rew[i] + gamma * v->final_value[i] - val;
                a = delta;
            } else {
                delta = v->rew[i] + gamma * next_value - val;
                a = delta + gamma * lambda * next_adv;
            }
            adv[i] = a;
            ret[i] = a + val;
            next_adv = a;
            next_value = val;
        }
    }
}
