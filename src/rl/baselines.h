/* baselines.h — the two reference policies of Ball Drill.
 *
 * Both read the same ego-centric observations a learned policy reads, so each
 * plays either side and can stand in for a network anywhere: as an opponent
 * in training and evaluation, and as the yardstick a learner is measured by.
 *
 *   random    uniform over the 30 actions, from a caller-owned generator;
 *   scripted  "get behind the ball, push it towards the goal": it steers to a
 *             point behind the ball on the ball-goal line, then drives through
 *             the ball and dashes when lined up.  It never defends, never
 *             anticipates the opponent and reacts to where the ball is, not
 *             where it will be: good against random, beatable by a learner.
 *
 * Stateless apart from the random generator; no allocation; thread-safe for
 * distinct rng states. */
#ifndef DSHQ_RL_BASELINES_H
#define DSHQ_RL_BASELINES_H

#include <stdint.h>

enum bd_baseline { BD_BASELINE_RANDOM = 0, BD_BASELINE_SCRIPTED = 1 };

struct rl_rng; /* rl/rng.h */

/* act[i] uniform in 0..BD_NUM_ACTIONS-1, drawn from *rng (advanced). */
void bd_policy_random(struct rl_rng *rng, uint32_t n, int32_t *act /* [n] */);

/* One action per observation row. */
void bd_policy_scripted(const float *obs /* [n][BD_OBS_DIM] */, uint32_t n,
                        int32_t *act /* [n] */);

/* Dispatch by kind (rng is used by random only and may be NULL otherwise). */
void bd_baseline_act(enum bd_baseline kind, struct rl_rng *rng, const float *obs, uint32_t n,
                     int32_t *act);

/* "random" / "scripted" <-> kind; parse returns -1 for an unknown name. */
int bd_baseline_parse(const char *name);
const char *bd_baseline_name(enum bd_baseline kind);

#endif
