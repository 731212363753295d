/* run.h — one training run's shared region: what lives in it and how each
 * process of the run finds its part.
 *
 * `dshq train` creates /dev/shm/dshq-RUN with these sections:
 *
 *   kind       name        what                               writer -> readers
 *   RAW        "run"       struct run_block: the run's        launcher (config),
 *                          configuration, state, progress,    trainer (progress),
 *                          and one stats line per worker      each worker (its line)
 *   WEIGHTS    "policy"    the weights channel (weights.h)    trainer -> workers, show
 *   LANES      "rollouts"  one SPSC lane of chunks per        workers -> trainer
 *                          worker (rollout.h, chunk.h)
 *   MAILBOX    "control"   typed control messages (mailbox.h) anyone -> trainer
 *   TELEMETRY  "telemetry" struct metrics + heartbeats        trainer (+ everyone's
 *                                                             heartbeat) -> monitors
 *
 * The run block is shared, plain data; docs/abi.md has its byte map. */
#ifndef DSHQ_APP_RUN_H
#define DSHQ_APP_RUN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dshq/chunk.h"
#include "dshq/mailbox.h"
#include "dshq/region.h"
#include "dshq/rollout.h"
#include "dshq/telemetry.h"
#include "dshq/wait.h"
#include "dshq/weights.h"
#include "rl/mlp.h"

#define RUN_MAX_WORKERS 64
#define RUN_BLOCK_VERSION 1

enum run_state {
    RUN_STARTING = 0, /* region made, trainer not yet publishing */
    RUN_RUNNING = 1,  /* trainer has published version 1 */
    RUN_STOPPING = 2, /* everyone: finish the current step and exit */
};

/* One worker's counters: written by that worker only (relaxed adds of
 * deltas, so a restarted worker continues the totals); read by the trainer
 * for win rates and returns.  Opponent index: RL_OPP_* (random, scripted,
 * self). */
struct run_worker_stats {
    _Atomic uint64_t steps;       /*   0: env steps written into chunks */
    _Atomic uint64_t chunks;      /*   8: chunks committed */
    _Atomic uint64_t episodes[3]; /*  16: finished episodes by opponent */
    _Atomic uint64_t wins[3];     /*  40 */
    _Atomic uint64_t losses[3];   /*  64 */
    _Atomic uint64_t ret_micro;   /*  88: sum of episode returns x 1e6 (two's complement) */
    _Atomic uint64_t len_sum;     /*  96: sum of episode lengths, env steps */
    _Atomic uint64_t restarts;    /* 104: times this worker was (re)started */
    _Atomic int64_t pid;          /* 112: current process */
    _Atomic uint64_t version;     /* 120: weights version of its last chunk */
};

struct run_block {
    /* line 0: configuration, written by the launcher before READY */
    uint32_t version;        /*   0: RUN_BLOCK_VERSION */
    uint32_t workers;        /*   4: worker processes (lanes) */
    uint32_t envs;           /*   8: E, envs per worker */
    uint32_t horizon;        /*  12: T, steps per chunk */
    uint32_t obs_dim;        /*  16 */
    uint32_t n_actions;      /*  20 */
    uint32_t hidden;         /*  24: hidden width of each trunk */
    uint32_t layers;         /*  28: hidden layers per trunk */
    uint64_t seed;           /*  32 */
    uint64_t mlp_shape;      /*  40: shape hash of the network */
    uint32_t max_lag;        /*  48: chunks older than this many versions are dropped */
    uint32_t max_updates;    /*  52: 0: run by time */
    double duration_s;       /*  56: 0: run by updates (or until stopped) */
    /* line 1: live state */
    _Atomic uint32_t state;  /*  64: enum run_state */
    struct dshq_event state_changed; /* 68: notified on every state store */
    uint32_t pad0;           /*  76 */
    _Atomic uint64_t start_ns;      /*  80: CLOCK_MONOTONIC when training began */
    _Atomic uint64_t progress_ppm;  /*  88: training progress in millionths (annealing) */
    _Atomic uint32_t shaping_milli; /*  96: shaping scale x 1000 in force */
    _Atomic uint32_t paused;        /* 100: 1 while training is paused */
    uint64_t reserved[3];    /* 104: zero */
    /* lines 2..: one per worker */
    struct run_worker_stats worker[RUN_MAX_WORKERS]; /* 128 */
};

_Static_assert(sizeof(struct run_worker_stats) == 128, "worker stats are two lines");
_Static_assert(sizeof(struct run_block) == 128 + 128 * RUN_MAX_WORKERS, "run block size");
_Static_assert(offsetof(struct run_block, state) == 64, "abi");
_Static_assert(offsetof(struct run_block, start_ns) == 80, "abi");
_Static_assert(offsetof(struct run_block, worker) == 128, "abi");

/* Parameters of a run (private memory). */
struct run_params {
    char name[40];           /* run name; the region is dshq-NAME */
    uint32_t workers, envs, horizon, hidden, layers, max_lag, lane_slots;
    uint32_t max_updates;
    double duration_s;
    uint64_t seed;
};

/* A run as seen by one process (private memory). */
struct run {
    struct dshq_region *region;
    struct run_block *blk;
    struct rl_mlp net;
    struct dshq_chunk_layout chunk;
    void *weights_mem, *lanes_mem, *mailbox_mem, *telemetry_mem;
    uint64_t weights_size, lanes_size, mailbox_size, telemetry_size;
    char region_name[80];
};

/* Shape hash of struct run_block (its canonical description). */
uint64_t run_block_shape_hash(void);

/* Launcher: creates and initializes the region of a run and marks it ready.
 * 0 or a negative error (-EEXIST when the name is taken). */
int run_create(struct run *run, const struct run_params *p);
/* Any process: attaches to the run NAME (a run name or dshq-NAME) and checks
 * every section.  flags: DSHQ_ATTACH_RDONLY for monitors. */
int run_attach(struct run *run, const char *name, unsigned flags);
/* Unmaps (detach) or also removes the region (destroy). */
void run_detach(struct run *run);
void run_destroy(struct run *run);

/* State word helpers (release store + notify / acquire load). */
void run_set_state(struct run *run, uint32_t state);
uint32_t run_state(const struct run *run);

/* The architecture string stored in checkpoints ("mlp-D-HxL-A") and back. */
void run_arch_string(const struct rl_mlp *net, char *buf, size_t len);
int run_arch_parse(const char *arch, int *obs_dim, int *hidden, int *layers, int *n_actions);

#endif
