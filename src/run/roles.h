/* roles.h — the roles of a training run as plain functions: trainer, rollout
 * worker, and the show's simulation.
 *
 * Each role takes a struct run (the region mapped, run_create or run_attach)
 * and returns when the run's stop flag is raised (the run block's state is
 * RUN_STOPPING) or its budget is spent.  A role opens its own channel
 * handles, so it may be a forked process (`dshq train`), a thread of one
 * process (tests/test_run_threads.c) or, in a browser build, a Web Worker
 * over one shared memory.  No role forks, installs signal handlers, touches
 * a terminal or exits: the hosts around them do (src/cli). */
#ifndef DSHQ_RUN_ROLES_H
#define DSHQ_RUN_ROLES_H

#include <stdint.h>

#include "run/run.h"

struct trainer_opts {
    const char *checkpoint_path;  /* where to save (NULL: no checkpoints) */
    const char *resume;           /* checkpoint to continue from (NULL: fresh) */
    const char *metrics_path;     /* JSON lines, one per telemetry tick (NULL: none) */
    const char *run_label;        /* names the run in the metrics file's run marker */
    double checkpoint_every_s;    /* 60 (0: only at the end) */
    int quiet;                    /* no progress lines on stdout */
    int verify_chunks;            /* 1: copy every chunk, check its seal, learn from the copy */
    uint32_t max_bad_updates;     /* consecutive non-finite updates that stop the run
                                   * (0: RUN_MAX_BAD_UPDATES) */
};
#define RUN_CHECKPOINT_EVERY_S 60
#define RUN_MAX_BAD_UPDATES 20

/* The trainer: consumes chunks, runs PPO, publishes weights, telemetry and
 * checkpoints, obeys the mailbox; raises the stop flag when it returns.
 * 0 on a clean end, 1 after a failure it has described on stderr (then
 * run_block.faults.failed is 1).
 *
 * Chunks are untrusted (docs/reliability.md): each is checked with
 * run_chunk_validate (and run_chunk_verify in verify mode) and a bad one is
 * refused and counted per worker in run_block.faults.  An update whose
 * losses or resulting parameters or Adam moments are not all finite is
 * undone and counted (faults.updates_skipped): never published, never
 * saved.  max_bad_updates such updates in a row stop the run with an error;
 * the checkpoint on disk is then the last good one. */
int run_trainer(struct run *run, const struct trainer_opts *o);

/* One PPO update that is undone when it is not finite: backup has room for
 * 3 x n_params floats.  0: done; 1: undone (a loss, a parameter or an Adam
 * moment was NaN or infinite); 2: undone (an action index out of range);
 * < 0: another error of rl_ppo_update.  After 1 or 2 the parameters, the
 * Adam state and the update count are exactly as before. */
struct rl_ppo;
struct rl_rollout_view;
struct rl_ppo_stats;
int run_ppo_update_checked(struct rl_ppo *ppo, const struct rl_rollout_view *views, int n,
                           float lr, struct rl_ppo_stats *st, float *backup);

/* The control messages the trainer obeys (dshq_mailbox_consume's table),
 * and how it applies one consumed message: STOP sets *stop, PAUSE the run's
 * paused flag, SET_HPARAM a setting within its range (else refused and
 * counted in ctl_refused), RESET fresh parameters.  0, or -EINVAL / -ERANGE
 * for a refused message. */
#define RUN_TRAINER_MSG_KINDS 4
struct dshq_msg;
struct dshq_msg_kind;
extern const struct dshq_msg_kind run_trainer_msg_kinds[RUN_TRAINER_MSG_KINDS];
int run_trainer_apply_msg(struct run *run, struct rl_ppo *ppo, const struct dshq_msg *msg,
                          float *lr_override, int *stop);

/* Rollout worker `index` (its lane, its seeds); restart counts earlier
 * incarnations.  0 or 1 as run_trainer. */
int run_worker(struct run *run, uint32_t index, uint32_t restart);

/* Test only (`make chaos`, tests/test_fault_*): the workers whose bit is
 * set in mask turn hostile: one chunk in `every` is damaged on purpose after
 * it was collected, stamped and sealed, cycling through: random bytes in
 * the header, a NaN reward, a huge observation, an out-of-range action,
 * random bytes in the body, and a change after the commit (the chunk is
 * rewritten while the trainer may be reading it).  Process-wide; 0 turns
 * it off.  Returns the number of chunks damaged by this process so far. */
uint64_t run_worker_set_hostile(uint64_t mask, uint32_t every);
#define RUN_HOSTILE_KINDS 6

/* ---- supervision policy (the host applies it) ----------------------- */

enum run_exit_action {
    RUN_ACTION_NONE = 0,     /* the run is stopping anyway: let it go */
    RUN_ACTION_RESTART = 1,  /* start the worker again on its lane */
    RUN_ACTION_STOP_RUN = 2, /* stop the whole run */
};
/* Restarts are limited by a rate, not a lifetime count: a worker that died
 * more than RUN_WORKER_MAX_RESTARTS times within the last
 * RUN_RESTART_WINDOW_S seconds is crash-looping and stops the run; one
 * killed now and then (any number of times over a long run) is restarted.
 * A worker whose heartbeat is older than RUN_WORKER_STALL_S seconds while
 * the run is not paused is stalled (hung, or stopped with SIGSTOP): the host
 * kills it, which restarts it.  Monitors show a worker STALLED from
 * RUN_WORKER_STALL_SHOW_S on, so it is seen before it is killed. */
#define RUN_WORKER_MAX_RESTARTS 10
#define RUN_RESTART_WINDOW_S 10
#define RUN_WORKER_STALL_S 10
#define RUN_WORKER_STALL_SHOW_S 5

/* One worker's recent deaths (host-private): a ring of their times. */
struct run_restarts {
    uint64_t at_ns[RUN_WORKER_MAX_RESTARTS + 1];
    uint32_t next;
    uint64_t total;   /* every restart, for the summary */
};
/* Records a death at now_ns; returns the deaths within the window ending at
 * now_ns, this one included. */
uint32_t run_restarts_note(struct run_restarts *r, uint64_t now_ns);

/* What to do when role `who` ended: who is -1 for the trainer, -2 for the
 * show, else a worker index that died `recent` times within the window
 * (run_restarts_note).  A worker is restarted unless the run is stopping or
 * it is crash-looping; the trainer's or the show's end stops the run. */
enum run_exit_action run_supervise_exit(const struct run *run, int who, uint32_t recent);

#endif
