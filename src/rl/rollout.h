/* rollout.h — the rollout window: T steps x E envs of experience, Structure of
 * Arrays, and a view of pointers that can describe one anywhere in memory.
 *
 * This is the unit the whole system moves: the single-process loop collects
 * windows into its own arrays, a rollout worker collects them straight into a
 * chunk of a shared-memory lane, and GAE/PPO read them through this view, in
 * place, without copying them into another format.
 *
 * Step semantics, for env e at step t (0 <= t < T):
 *
 *     obs[t][e]    the observation the policy saw
 *     act[t][e]    the action it took, sampled with log-prob logp[t][e]
 *     value[t][e]  the value estimate of obs[t][e] at collection time
 *     rew[t][e]    the reward that followed
 *     done[t][e]   1 if the episode reached a terminal state (a goal)
 *     trunc[t][e]  1 if it was cut by the time limit instead (not terminal);
 *                  obs[t+1][e] then belongs to the next episode, and
 *                  final_value[t][e] is the value of the observation the
 *                  episode ended on, which GAE bootstraps from.
 *     bootstrap_value[e]  the value of the observation after the last step
 *                  (obs at t = T), the bootstrap at the horizon.
 *
 * done wins over trunc when both are set.  Rows of the same t are contiguous,
 * so one step of E envs writes obs[t] as one [E][obs_dim] block. */
#ifndef RL_ROLLOUT_H
#define RL_ROLLOUT_H

#include <stdint.h>

struct rl_rollout_view {
    int T;                        /* steps in the window */
    int E;                        /* envs */
    int obs_dim;                  /* floats per observation */
    const float *obs;             /* [T][E][obs_dim] */
    const int32_t *act;           /* [T][E] */
    const float *rew;             /* [T][E] */
    const uint8_t *done;          /* [T][E] terminal */
    const uint8_t *trunc;         /* [T][E] time-limit end */
    const float *logp;            /* [T][E] behaviour log-prob of act */
    const float *value;           /* [T][E] value estimate of obs */
    const float *final_value;     /* [T][E] value of the final obs, read where trunc */
    const float *bootstrap_value; /* [E] value of the obs after step T-1 */
    /* Optional, never read by GAE or PPO (NULL allowed): the observations
     * behind final_value and bootstrap_value, for a consumer that wants to
     * re-evaluate them with newer weights. */
    const float *trunc_obs;       /* [T][E][obs_dim], meaningful where trunc */
    const float *bootstrap_obs;   /* [E][obs_dim] */
};

/* The writable twin of the view: where a collector puts one window.  The
 * memory may be anything the caller owns (the single-process loop's arrays,
 * a chunk claimed in a shared-memory lane).  trunc_obs and bootstrap_obs may
 * be NULL; every other array is required. */
struct rl_rollout_buf {
    int T, E, obs_dim;
    float *obs;             /* [T][E][obs_dim] */
    int32_t *act;           /* [T][E] */
    float *rew;             /* [T][E] */
    uint8_t *done;          /* [T][E] */
    uint8_t *trunc;         /* [T][E] */
    float *logp;            /* [T][E] */
    float *value;           /* [T][E] */
    float *final_value;     /* [T][E] (0 where not trunc) */
    float *bootstrap_value; /* [E] */
    float *trunc_obs;       /* [T][E][obs_dim] or NULL */
    float *bootstrap_obs;   /* [E][obs_dim] or NULL */
};

/* The read-only view of a buffer. */
static inline struct rl_rollout_view rl_rollout_buf_view(const struct rl_rollout_buf *b)
{
    struct rl_rollout_view v = {b->T,     b->E,           b->obs_dim,         b->obs,
                                b->act,   b->rew,         b->done,            b->trunc,
                                b->logp,  b->value,       b->final_value,     b->bootstrap_value,
                                b->trunc_obs, b->bootstrap_obs};
    return v;
}

/* Allocates every array of a T x E x obs_dim buffer in one 64-byte aligned
 * block (trunc_obs included when with_trunc_obs).  0 or -EINVAL / -ENOMEM;
 * rl_rollout_buf_free releases it. */
int rl_rollout_buf_alloc(struct rl_rollout_buf *b, int T, int E, int obs_dim, int with_trunc_obs);
void rl_rollout_buf_free(struct rl_rollout_buf *b);

#endif
