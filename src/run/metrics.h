/* metrics.h — what the trainer reports about a run, and how.
 *
 * struct metrics is the telemetry blob of a DrillSergeantHQ run: the trainer
 * fills one and publishes it through the telemetry block (dshq/telemetry.h)
 * at 1-2 Hz; `dshq top` and `dshq inspect` copy it out; `--metrics FILE`
 * appends it as one JSON line; `dshq plot` draws those lines.  It is shared
 * memory, so it is plain data (u64 and f64 only, no padding), its offsets are
 * asserted below and documented in docs/abi.md, and it is named by
 * metrics_shape_hash(): readers refuse a blob of another shape.
 *
 * Units: steps are environment steps (one env advanced by one decision);
 * rates are per second of wall time; losses are means over the last update;
 * "lag" is in weights versions (version the trainer has published minus the
 * version a chunk was produced with).  A value not measured yet is NaN (the
 * JSON writer prints null). */
#ifndef DSHQ_RUN_METRICS_H
#define DSHQ_RUN_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_VERSION 2

/* Who a heartbeat slot belongs to (telemetry role numbers of this app). */
enum {
    METRICS_ROLE_LAUNCHER = 1, /* `dshq train`, the supervisor */
    METRICS_ROLE_TRAINER = 2,
    METRICS_ROLE_WORKER = 3,   /* index = worker number */
    METRICS_ROLE_SHOW = 4,
    METRICS_ROLE_MONITOR = 5,  /* `dshq top` and other tools */
};

/* Opponent numbers for score_ema's "against whom". */
enum {
    METRICS_OPP_NONE = 0,
    METRICS_OPP_RANDOM = 1,
    METRICS_OPP_SCRIPTED = 2,
    METRICS_OPP_SELF = 3, /* a past snapshot of the policy */
};

struct metrics {
    /* counters */
    uint64_t steps;               /*   0: env steps trained on so far */
    uint64_t updates;             /*   8: PPO updates done */
    uint64_t episodes;            /*  16: episodes finished in consumed chunks */
    uint64_t weights_version;     /*  24: last version published */
    uint64_t chunks_consumed;     /*  32: chunks used for training */
    uint64_t chunks_dropped_lag;  /*  40: chunks refused: older than the lag limit */
    uint64_t chunks_dropped_full; /*  48: chunks workers dropped: their lane was full */
    uint64_t policy_lag_min;      /*  56: over the chunks of the last update */
    uint64_t policy_lag_max;      /*  64 */
    uint64_t opponent;            /*  72: METRICS_OPP_* the win rate is measured against */
    uint64_t paused;              /*  80: 1 while training is paused (mailbox PAUSE) */
    /* rates and time */
    double wall_s;                /*  88: seconds since training started */
    double steps_per_s;           /*  96: env steps per second, recent */
    double updates_per_s;         /* 104 */
    /* learning */
    double policy_loss;           /* 112: PPO clipped surrogate (to minimize) */
    double value_loss;            /* 120: 0.5 * mean (V - return)^2 */
    double entropy;               /* 128: mean policy entropy, nats (the loss term is -coef * this) */
    double approx_kl;             /* 136: mean (old logp - new logp) */
    double clip_fraction;         /* 144: share of samples whose ratio was clipped */
    double explained_variance;    /* 152: 1 - Var(return - V) / Var(return) */
    /* results */
    double mean_return;           /* 160: mean episode return, recent episodes */
    double score_ema;          /* 168: EMA of wins (1), draws (0.5), losses (0) vs opponent */
    double episode_length;        /* 176: mean episode length, steps */
    double policy_lag_mean;       /* 184 */
    /* hyper-parameters in force (SET_HPARAM shows up here) */
    double learning_rate;         /* 192 */
    double entropy_coef;          /* 200 */
    double shaping_coef;          /* 208 */
    double clip;                  /* 216 */
};

_Static_assert(sizeof(struct metrics) == 224, "metrics is 224 bytes");
_Static_assert(offsetof(struct metrics, steps) == 0, "abi");
_Static_assert(offsetof(struct metrics, updates) == 8, "abi");
_Static_assert(offsetof(struct metrics, episodes) == 16, "abi");
_Static_assert(offsetof(struct metrics, weights_version) == 24, "abi");
_Static_assert(offsetof(struct metrics, chunks_consumed) == 32, "abi");
_Static_assert(offsetof(struct metrics, chunks_dropped_lag) == 40, "abi");
_Static_assert(offsetof(struct metrics, chunks_dropped_full) == 48, "abi");
_Static_assert(offsetof(struct metrics, policy_lag_min) == 56, "abi");
_Static_assert(offsetof(struct metrics, policy_lag_max) == 64, "abi");
_Static_assert(offsetof(struct metrics, opponent) == 72, "abi");
_Static_assert(offsetof(struct metrics, paused) == 80, "abi");
_Static_assert(offsetof(struct metrics, wall_s) == 88, "abi");
_Static_assert(offsetof(struct metrics, steps_per_s) == 96, "abi");
_Static_assert(offsetof(struct metrics, updates_per_s) == 104, "abi");
_Static_assert(offsetof(struct metrics, policy_loss) == 112, "abi");
_Static_assert(offsetof(struct metrics, value_loss) == 120, "abi");
_Static_assert(offsetof(struct metrics, entropy) == 128, "abi");
_Static_assert(offsetof(struct metrics, approx_kl) == 136, "abi");
_Static_assert(offsetof(struct metrics, clip_fraction) == 144, "abi");
_Static_assert(offsetof(struct metrics, explained_variance) == 152, "abi");
_Static_assert(offsetof(struct metrics, mean_return) == 160, "abi");
_Static_assert(offsetof(struct metrics, score_ema) == 168, "abi");
_Static_assert(offsetof(struct metrics, episode_length) == 176, "abi");
_Static_assert(offsetof(struct metrics, policy_lag_mean) == 184, "abi");
_Static_assert(offsetof(struct metrics, learning_rate) == 192, "abi");
_Static_assert(offsetof(struct metrics, entropy_coef) == 200, "abi");
_Static_assert(offsetof(struct metrics, shaping_coef) == 208, "abi");
_Static_assert(offsetof(struct metrics, clip) == 216, "abi");

/* One field of struct metrics, for the writers and readers that go through
 * all of them (JSON, inspect, top, the shape hash). */
struct metrics_field {
    const char *name;   /* the JSON key, = the C field name */
    size_t offset;
    int is_double;      /* 1: double, 0: uint64_t */
};
extern const struct metrics_field metrics_fields[];
extern const size_t metrics_field_count;

/* Shape hash of struct metrics: FNV-1a 64 of
 * "metrics/v2;size=224;steps:u64@0;...;clip:f64@216" (every field in order). */
uint64_t metrics_shape_hash(void);

/* All fields NaN or 0 as "not measured yet": counters 0, doubles NaN. */
void metrics_init(struct metrics *m);

/* Appends m as one JSON object on one line ("{...}\n"), keys in field order;
 * NaN and infinities are written as null.  0 or -errno (-EIO on a short
 * write). */
int metrics_write_jsonl(FILE *f, const struct metrics *m);

/* Value of field i as a double (u64 converted). */
double metrics_get(const struct metrics *m, size_t i);

/* Names for the enums above ("worker"); "?" if unknown. */
const char *metrics_role_name(uint32_t role);
const char *metrics_opponent_name(uint64_t opp);

#endif
