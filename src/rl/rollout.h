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
    const float *final_obs;       /* [T][E][obs_dim], meaningful where trunc */
    const float *bootstrap_obs;   /* [E][obs_dim] */
};

#endif
