/* config.h — the one training config of a run: every hyperparameter of the
 * learner and of the run, in one plain-data struct.
 *
 * It is parsed once (the CLI's flags, a `--config FILE` of key = value
 * lines), written into the run block by whoever creates the run, read by the
 * trainer and by every worker, stored in every checkpoint and printed by
 * `dshq eval` and `dshq train --print-config`.  The single-process loop turns
 * the same struct into its rl_train_config, so both modes share one set of
 * names, defaults and ranges: the table behind run_config_keys.
 *
 * struct run_config is shared memory and a file format: plain data, offsets
 * asserted below and byte-mapped in docs/abi.md (checked by a test). */
#ifndef DSHQ_RUN_CONFIG_H
#define DSHQ_RUN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rl/train_loop.h"

#define RUN_CONFIG_VERSION 1
#define RUN_MAX_WORKERS 56 /* each worker holds one of the weights channel's 62 reader slots */

enum run_transport { RUN_TRANSPORT_LANES = 0, RUN_TRANSPORT_MPSC = 1 };
enum run_when_full { RUN_FULL_BLOCK = 0, RUN_FULL_DROP = 1 };
enum run_opponents { RUN_OPP_MIX = 0, RUN_OPP_RANDOM = 1, RUN_OPP_SCRIPTED = 2 };

struct run_config {
    uint32_t version;       /*   0: RUN_CONFIG_VERSION */
    uint32_t workers;       /*   4: rollout workers (ignored by --single-process) */
    uint32_t envs;          /*   8: E, envs per worker */
    uint32_t horizon;       /*  12: T, steps per chunk / window */
    uint32_t hidden;        /*  16: hidden width of each trunk */
    uint32_t layers;        /*  20: hidden layers per trunk */
    uint32_t max_lag;       /*  24: chunks older than this many versions are dropped */
    uint32_t lane_slots;    /*  28: slots per lane (lanes) or per worker (mpsc) */
    uint32_t transport;     /*  32: enum run_transport */
    uint32_t when_full;     /*  36: enum run_when_full */
    uint32_t deterministic; /*  40: 1: fixed worker order, one chunk each per update */
    uint32_t opponents;     /*  44: enum run_opponents */
    uint64_t seed;          /*  48 */
    uint64_t updates;       /*  56: update budget (0: by time) */
    double seconds;         /*  64: training-time budget (0: by updates) */
    float lr;               /*  72: Adam step at the start */
    float lr_end;           /*  76: ... at the end (linear in progress) */
    float gamma;            /*  80 */
    float lambda;           /*  84: GAE */
    float clip;             /*  88: PPO ratio clip */
    float vf_coef;          /*  92 */
    float ent_coef;         /*  96 */
    float max_grad_norm;    /* 100: 0: no clipping */
    uint32_t epochs;        /* 104 */
    uint32_t minibatches;   /* 108 */
    float shaping;          /* 112: ball-towards-goal shaping at the start */
    float approach;         /* 116: player-towards-ball shaping (keeps its ratio to shaping) */
    float shaping_end;      /* 120: both scaled by 1 -> shaping_end over the run */
    uint32_t max_goals;     /* 124: goals that end an episode */
    float self_play;        /* 128: share of episodes against the learner itself, at the start */
    float self_play_end;    /* 132: ... at the end (linear in progress) */
    uint64_t reserved[7];   /* 136: zero */
};

_Static_assert(sizeof(struct run_config) == 192, "run_config is three lines");
_Static_assert(offsetof(struct run_config, workers) == 4, "abi");
_Static_assert(offsetof(struct run_config, seed) == 48, "abi");
_Static_assert(offsetof(struct run_config, seconds) == 64, "abi");
_Static_assert(offsetof(struct run_config, lr) == 72, "abi");
_Static_assert(offsetof(struct run_config, epochs) == 104, "abi");
_Static_assert(offsetof(struct run_config, max_goals) == 124, "abi");
_Static_assert(offsetof(struct run_config, self_play) == 128, "abi");
_Static_assert(offsetof(struct run_config, reserved) == 136, "abi");

/* One settable key: its name (the flag is --NAME, the file key NAME), where it
 * lives, its range and its help line. */
enum run_key_type { RUN_KEY_U32, RUN_KEY_U64, RUN_KEY_F32, RUN_KEY_F64, RUN_KEY_CHOICE,
                    RUN_KEY_FLAG };
struct run_config_key {
    const char *name;
    int type;               /* enum run_key_type */
    size_t offset;
    double min, max;        /* numbers: inclusive range */
    const char *choices;    /* RUN_KEY_CHOICE: "a|b|c", stored as the index (u32) */
    const char *help;
};
extern const struct run_config_key run_config_keys[];
extern const size_t run_config_key_count;

/* The defaults (docs/learner.md explains them); workers = 1. */
void run_config_default(struct run_config *c);

/* Sets key NAME from text.  0, or -ENOENT (no such key), -EINVAL (not a
 * value of its type or outside its range: err says which); err may be NULL. */
int run_config_set(struct run_config *c, const char *name, const char *value, char *err,
                   size_t errlen);

/* Applies key = value lines ('#' comments, blank lines; a flag takes 0 or
 * 1) from text (name: for messages) or from a file.  seen (may be NULL; one
 * byte per run_config_keys entry) marks the keys set.  0 or a negative errno
 * with "NAME:LINE: what" in err. */
int run_config_parse(struct run_config *c, const char *text, const char *name, uint8_t *seen,
                     char *err, size_t errlen);
int run_config_load(struct run_config *c, const char *path, uint8_t *seen, char *err,
                    size_t errlen);

/* Checks every field against its range and the combinations (lane_slots a
 * power of two, hidden/layers the MLP accepts, a budget).  0 or -EINVAL with
 * err.  Shared memory and files are validated with it before use. */
int run_config_check(const struct run_config *c, char *err, size_t errlen);

/* Writes every key as "name = value" lines (a file run_config_load reads). */
void run_config_write(FILE *f, const struct run_config *c);
/* The value of one key as text. */
void run_config_format(const struct run_config *c, const struct run_config_key *k, char *buf,
                       size_t len);

/* The learner's view of the config (the single-process loop, the trainer,
 * the workers' opponent mix and shaping). */
void run_config_to_train(const struct run_config *c, struct rl_train_config *tc);

/* Range of a control-message hyperparameter (DSHQ_HPARAM_*): the same one
 * the flag has, except that a learning rate must be > 0.  0 or -EINVAL for
 * an unknown parameter. */
int run_config_hparam_range(uint32_t param, double *min, double *max);

#endif
