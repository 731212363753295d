/* train_loop.h — the single-process training loop of Ball Drill, in pieces
 * the multi-process system reuses:
 *
 *   collect   (struct rl_collector)  E envs x T steps with the current policy
 *             into a struct rl_rollout_buf: any memory, e.g. a chunk claimed
 *             in a shared-memory lane by a rollout worker;
 *   update    (rl_ppo_update, ppo.h) GAE + PPO on one or more windows read in
 *             place through struct rl_rollout_view: the trainer's side;
 *   evaluate  (rl_evaluate)          win rate of a policy against a baseline;
 *   trainer   (struct rl_trainer)    the three glued into one process:
 *             collect one window, update on it, repeat.
 *
 * The learner always plays the left side (the observations are ego-centric
 * and the env is mirror-symmetric, so the policy plays either side).  The
 * opponent of each episode is drawn from a mix of the random policy, the
 * scripted policy and the learner itself (self-play).
 *
 * Determinism: collect, update and evaluate are bit-for-bit deterministic for
 * a seed.  A trainer run by a number of updates reproduces its parameters
 * exactly; a run by wall time stops at a time-dependent update and anneals
 * by elapsed time, so it does not. */
#ifndef RL_TRAIN_LOOP_H
#define RL_TRAIN_LOOP_H

#include <stdint.h>

#include "rl/env.h"
#include "rl/mlp.h"
#include "rl/ppo.h"
#include "rl/rng.h"
#include "rl/rollout.h"

enum rl_opponent { RL_OPP_RANDOM = 0, RL_OPP_SCRIPTED = 1, RL_OPP_SELF = 2, RL_OPP_KINDS = 3 };

/* "random" / "scripted" / "self"; parse returns -1 for an unknown name. */
const char *rl_opponent_name(int kind);
int rl_opponent_parse(const char *name);

/* Probability of each opponent kind for a new episode (normalised on use;
 * all zero means random). */
struct rl_opponent_mix {
    float p[RL_OPP_KINDS];
};

/* Episode outcomes from the learner's side, per opponent kind. */
struct rl_collect_stats {
    uint64_t steps;                    /* learner decisions (env steps x envs) */
    uint64_t episodes[RL_OPP_KINDS];
    uint64_t wins[RL_OPP_KINDS];
    uint64_t losses[RL_OPP_KINDS];
    uint64_t draws[RL_OPP_KINDS];
    double ret_sum;                    /* learner's undiscounted returns (goal + shaping) */
    double goal_ret_sum;               /* goal part only: +1 win, -1 loss, 0 draw */
    double len_sum;                    /* episode lengths, env steps */
};

/* A batch of E envs and everything needed to step them with a policy.  One
 * collector belongs to one thread. */
struct rl_collector {
    const struct rl_mlp *net;
    struct bd_env *env;
    int E, D;
    struct rl_opponent_mix mix;
    uint8_t *opp;                 /* [E] opponent kind of the running episode */
    float *obs;                   /* [E][D] learner's current observation */
    float *opp_obs;               /* [E][D] opponent's current observation */
    float *final_obs;             /* [E][D] learner's last obs of ended episodes */
    float *tmp_obs;               /* [E][D] gathered rows */
    float *tmp_val;               /* [E] */
    int32_t *opp_act;             /* [E] */
    int32_t *tmp_act;             /* [E] */
    int32_t *tmp_idx;             /* [E] */
    struct bd_episode *episodes;  /* [E] */
    struct rl_rng rng_act;        /* learner's action sampling */
    struct rl_rng rng_opp;        /* opponents' sampling */
    struct rl_rng rng_mix;        /* opponent draws */
    struct rl_collect_stats stats; /* totals since init */
};

/* Creates E envs (env_cfg NULL: defaults), resets them with seed and draws
 * the first opponents.  0 or a negative errno. */
int rl_collector_init(struct rl_collector *c, const struct rl_mlp *net, int E,
                      const struct bd_config *env_cfg, const struct rl_opponent_mix *mix,
                      uint64_t seed);
void rl_collector_free(struct rl_collector *c);

/* Steps the E envs out->T times with params (the learner, left) against the
 * opponents (self-play uses opp_params, or params when NULL), writing one
 * window into out (out->E == E, out->obs_dim == D).  final_value is filled
 * for truncated steps and bootstrap_value for the horizon, both with params'
 * value head.  Returns 0 or -EINVAL. */
int rl_collect(struct rl_collector *c, const float *params, const float *opp_params,
               const struct rl_rollout_buf *out);

/* Changes the opponent mix for episodes that start from now on. */
void rl_collector_set_mix(struct rl_collector *c, const struct rl_opponent_mix *mix);

struct rl_eval_result {
    int episodes, wins, losses, draws;
    double win_rate;   /* wins / episodes (draws are not wins) */
    double mean_len;   /* env steps */
};

/* Plays `episodes` episodes (one per env, in batches of at most 256 envs) of
 * params on the left against a fixed opponent kind, sampling actions (greedy
 * = 0) or taking the argmax (greedy = 1).  Deterministic for a seed. */
int rl_evaluate(const struct rl_mlp *net, const float *params, int opponent, int episodes,
                int greedy, const struct bd_config *env_cfg, uint64_t seed,
                struct rl_eval_result *out);

/* ---- the single-process trainer ----------------------------------------- */

struct rl_train_config {
    int envs;               /* E: envs stepped together */
    int horizon;            /* T: steps per window (one window per update) */
    int hidden;             /* hidden width of both trunks */
    int layers;             /* hidden layers per trunk */
    uint64_t seed;
    struct rl_ppo_config ppo;
    struct rl_opponent_mix mix;      /* opponents at the start of the run */
    struct rl_opponent_mix mix_end;  /* ... at its end (linear in progress) */
    float shaping_coef;     /* ball-towards-goal potential at the start */
    float approach_coef;    /* player-towards-ball potential at the start */
    float shaping_end;      /* both coefficients are scaled by 1 -> shaping_end */
    int max_goals;          /* env: goals that end an episode */
};

/* The project's defaults (docs/learner.md explains each). */
void rl_train_config_default(struct rl_train_config *c);

struct rl_trainer {
    struct rl_train_config cfg;
    struct rl_mlp net;
    struct rl_ppo ppo;            /* params, Adam */
    struct rl_collector col;
    struct rl_rollout_buf win;    /* the window, [T][E] */
    int64_t updates;
    float lr;                     /* last learning rate used */
    float shaping_scale;          /* last shaping scale used */
};

int rl_trainer_init(struct rl_trainer *t, const struct rl_train_config *cfg);
void rl_trainer_free(struct rl_trainer *t);

/* One iteration at progress in [0, 1] (drives the annealing of learning
 * rate, shaping and opponent mix): collect a window, update on it.  st (may
 * be NULL) gets the update's metrics.  0 or a negative errno. */
int rl_trainer_iterate(struct rl_trainer *t, double progress, struct rl_ppo_stats *st);

/* Anneals the opponent mix: a + (b - a) * progress. */
struct rl_opponent_mix rl_opponent_mix_lerp(const struct rl_opponent_mix *a,
                                            const struct rl_opponent_mix *b, double progress);

#endif
