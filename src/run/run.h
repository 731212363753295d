/* run.h — one training run's shared region: what lives in it and how each
 * role of the run (trainer, worker, show; a process or a thread) finds its
 * part.
 *
 * The region (/dev/shm/dshq-RUN for `dshq train`, anonymous memory for a
 * run whose roles are threads of one process) has these sections:
 *
 *   kind       name        what                               writer -> readers
 *   RAW        "run"       struct run_block: the run's        creator (config),
 *                          config, state, progress, and one   trainer (progress),
 *                          stats line per worker              each worker (its line)
 *   WEIGHTS    "policy"    the weights channel (weights.h)    trainer -> workers, show
 *   LANES      "rollouts"  one SPSC lane of chunks per        workers -> trainer
 *     or MPSC              worker, or one MPSC ring shared
 *                          by all (config.transport)
 *   MAILBOX    "control"   typed control messages (mailbox.h) anyone -> trainer
 *   TELEMETRY  "telemetry" struct metrics + heartbeats        trainer (+ everyone's
 *                                                             heartbeat) -> monitors
 *
 * The run block is shared, plain data; docs/abi.md has its byte map.  Its
 * state word is the run's stop flag: every role returns soon after it reads
 * RUN_STOPPING (run_stop raises it). */
#ifndef DSHQ_RUN_RUN_H
#define DSHQ_RUN_RUN_H

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
#include "run/config.h"

#define RUN_BLOCK_VERSION 3
#define RUN_REGION_PREFIX "dshq-"

enum run_state {
    RUN_STARTING = 0, /* region made, trainer not yet publishing */
    RUN_RUNNING = 1,  /* trainer has published its first version */
    RUN_STOPPING = 2, /* everyone: finish the current step and return */
};

/* One worker's counters: written by that worker only (relaxed adds of
 * deltas, so a restarted worker continues the totals); read by the trainer
 * for scores and returns.  Opponent index: RL_OPP_* (random, scripted,
 * self).  Draws are episodes - wins - losses. */
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

/* What the trainer refused or skipped (written by the trainer only, relaxed
 * adds; read by monitors and the launcher's summary).  Chunks are untrusted
 * input (docs/reliability.md): each refused chunk is counted against the
 * worker its header names, or as unknown when that name is not a worker. */
struct run_faults {
    _Atomic uint64_t chunks_refused;    /*   0: chunks refused, all reasons */
    _Atomic uint64_t chunks_verified;   /*   8: chunks whose checksum matched (verify mode) */
    _Atomic uint64_t refused_unknown;   /*  16: refused, producer id not a worker */
    _Atomic uint64_t updates_skipped;   /*  24: updates skipped: non-finite loss or parameters */
    _Atomic uint64_t checkpoints;       /*  32: checkpoints this run wrote */
    _Atomic uint32_t verify;            /*  40: 1: the trainer checksums every chunk */
    _Atomic uint32_t last_reason;       /*  44: enum run_chunk_fault of the last refusal */
    _Atomic uint64_t failed;            /*  48: 1: the trainer stopped the run on an error */
    uint64_t reserved;                  /*  56: zero */
    _Atomic uint64_t refused[RUN_MAX_WORKERS]; /* 64: refused chunks per worker */
};

struct run_block {
    /* lines 0-3: written by the creator before the region is ready */
    struct run_config config;  /*   0: the training config (config.h) */
    uint32_t version;          /* 192: RUN_BLOCK_VERSION */
    uint32_t obs_dim;          /* 196 */
    uint32_t n_actions;        /* 200 */
    uint32_t pad0;             /* 204 */
    uint64_t mlp_shape;        /* 208: shape hash of the network */
    uint64_t version_base;     /* 216: channel version + this = the run's weights version
                                *      (a resumed run continues its checkpoint's numbering) */
    uint64_t updates_base;     /* 224: updates done before this run (resume) */
    uint64_t reserved0[3];     /* 232: zero */
    /* line 4: live state */
    _Atomic uint32_t state;    /* 256: enum run_state; RUN_STOPPING is the stop flag */
    struct dshq_event state_changed; /* 260: notified on every state store */
    uint32_t pad1;             /* 268 */
    _Atomic uint64_t start_ns; /* 272: CLOCK_MONOTONIC when training began */
    _Atomic uint64_t progress_ppm;  /* 280: training progress in millionths (annealing) */
    _Atomic uint32_t shaping_milli; /* 288: shaping scale x 1000 in force */
    _Atomic uint32_t paused;        /* 292: 1 while training is paused */
    _Atomic uint32_t shaping_set;   /* 296: 1 once `ctl set shaping`: the anneal stops */
    uint32_t pad2;                  /* 300 */
    _Atomic uint64_t ctl_refused;   /* 304: control messages the trainer refused */
    uint64_t reserved1;             /* 312: zero */
    /* lines 5..: one per worker */
    struct run_worker_stats worker[RUN_MAX_WORKERS]; /* 320 */
    /* after the workers: the trainer's fault counters */
    struct run_faults faults;  /* 7488 */
};

_Static_assert(sizeof(struct run_worker_stats) == 128, "worker stats are two lines");
_Static_assert(sizeof(struct run_faults) == 64 + 8 * RUN_MAX_WORKERS, "fault counters");
_Static_assert(sizeof(struct run_block) == 320 + 128 * RUN_MAX_WORKERS + 64 + 8 * RUN_MAX_WORKERS,
               "run block size");
_Static_assert(offsetof(struct run_block, faults) == 7488, "abi");
_Static_assert(offsetof(struct run_block, version) == 192, "abi");
_Static_assert(offsetof(struct run_block, state) == 256, "abi");
_Static_assert(offsetof(struct run_block, start_ns) == 272, "abi");
_Static_assert(offsetof(struct run_block, ctl_refused) == 304, "abi");
_Static_assert(offsetof(struct run_block, worker) == 320, "abi");

/* A run as seen by one role (private memory). */
struct run {
    struct dshq_region *region;
    struct run_block *blk;
    struct run_config cfg;     /* the checked copy of blk->config, used by every role */
    struct rl_mlp net;
    struct dshq_chunk_layout chunk;
    void *weights_mem, *rollouts_mem, *mailbox_mem, *telemetry_mem;
    uint64_t weights_size, rollouts_size, mailbox_size, telemetry_size;
    char region_name[80];      /* "" for an anonymous region */
};

/* What the creator adds to the config (resume). */
struct run_start {
    uint64_t version_base;  /* the checkpoint's weights version - 1, or 0 */
    uint64_t updates_base;  /* the checkpoint's updates, or 0 */
};

/* Shape hash of struct run_block (its canonical description). */
uint64_t run_block_shape_hash(void);

/* Creator: creates and initializes the region of a run for cfg (checked with
 * run_config_check) and marks it ready.  name: the run name (region
 * dshq-NAME), or NULL for an anonymous region shared by threads.  start may
 * be NULL.  0 or a negative error (-EEXIST when the name is taken). */
int run_create(struct run *run, const char *name, const struct run_config *cfg,
               const struct run_start *start);
/* Any process: attaches to the region REGION (full shared-memory name) and
 * checks every section and the config.  flags: DSHQ_ATTACH_RDONLY for
 * monitors. */
int run_attach(struct run *run, const char *region, unsigned flags);
/* When run_attach says DSHQ_ECORRUPT: what exactly is wrong with the run
 * block of REGION, as one line in err (0), or a negative error when the
 * region itself cannot be attached. */
int run_diagnose(const char *region, char *err, size_t errlen);
/* Raises the stop flag of REGION's run even when its config is damaged
 * (the state word and its event need no config).  0 or a negative error. */
int run_stop_region(const char *region);

/* Unmaps (detach) or also removes the region (destroy). */
void run_detach(struct run *run);
void run_destroy(struct run *run);

/* State word helpers (release store + notify / acquire load). */
void run_set_state(struct run *run, uint32_t state);
uint32_t run_state(const struct run *run);
/* Raises the stop flag (async-signal-safe: one lock-free store, one wake). */
void run_stop(struct run_block *blk);
static inline int run_stopping(const struct run *run) { return run_state(run) == RUN_STOPPING; }

/* The rollouts section through one interface, whichever the transport
 * (process-local handles; lanes: one lane per worker, mpsc: one ring). */
struct run_producer {
    struct dshq_lane_producer *lane;
    struct dshq_mpsc_producer *mpsc;
};
struct run_consumer {
    struct dshq_lane_consumer *lane;
    struct dshq_mpsc_consumer *mpsc;
};
int run_producer_open(struct run *run, uint32_t worker, struct run_producer *p);
void run_producer_close(struct run_producer *p);
int run_producer_claim(struct run_producer *p, int64_t timeout_ns, struct dshq_slot *out);
int run_producer_commit(struct run_producer *p);
int run_consumer_open(struct run *run, struct run_consumer *c);
void run_consumer_close(struct run_consumer *c);
int run_consumer_poll(struct run_consumer *c, int64_t timeout_ns, struct dshq_slot *out);
int run_consumer_release(struct run_consumer *c, const struct dshq_slot *s);
/* The section's counters (dropped: chunks refused by a full ring). */
int run_rollouts_stats(const struct run *run, struct dshq_ring_stats *out);

/* The architecture string stored in checkpoints ("mlp-D-HxL-A") and back. */
void run_arch_string(const struct rl_mlp *net, char *buf, size_t len);
int run_arch_parse(const char *arch, int *obs_dim, int *hidden, int *layers, int *n_actions);

#endif
