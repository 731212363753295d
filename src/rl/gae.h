/* gae.h — generalized advantage estimation over one rollout window. */
#ifndef RL_GAE_H
#define RL_GAE_H

#include "rl/rollout.h"

/* For every (t, e) of the window, backwards in t:
 *
 *     next  = bootstrap_value[e]          if t == T-1
 *             value[t+1][e]               otherwise
 *     done:   delta = r - V(t);                    A(t) = delta
 *     trunc:  delta = r + gamma final_value - V(t); A(t) = delta
 *     else:   delta = r + gamma next - V(t);        A(t) = delta + gamma lambda A(t+1)
 *
 *     ret[t][e] = A(t) + V(t)   (the value target)
 *
 * A terminal step contributes no bootstrap; a truncated one bootstraps from
 * the value of the observation it ended on and starts a fresh advantage
 * chain; the horizon bootstraps from bootstrap_value.  The view is read in
 * place; adv and ret are [T][E] arrays of the caller (either may alias
 * nothing in the view). */
void rl_gae(const struct rl_rollout_view *v, float gamma, float lambda,
            float *adv /* [T][E] */, float *ret /* [T][E] */);

#endif
