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
    double checkpoint_every_s;    /* 300 */
    int quiet;                    /* no progress lines on stdout */
};

/* The trainer: consumes chunks, runs PPO, publishes weights, telemetry and
 * checkpoints, obeys the mailbox; raises the stop flag when it returns.
 * 0 on a clean end, 1 after a failure it has described on stderr. */
int run_trainer(struct run *run, const struct trainer_opts *o);

/* Rollout worker `index` (its lane, its seeds); restart counts earlier
 * incarnations.  0 or 1 as run_trainer. */
int run_worker(struct run *run, uint32_t index, uint32_t restart);

/* ---- supervision policy (the host applies it) ----------------------- */

enum run_exit_action {
    RUN_ACTION_NONE = 0,     /* the run is stopping anyway: let it go */
    RUN_ACTION_RESTART = 1,  /* start the worker again on its lane */
    RUN_ACTION_STOP_RUN = 2, /* stop the whole run */
};
#define RUN_WORKER_MAX_RESTARTS 20

/* What to do when role `who` ended: who is -1 for the trainer, -2 for the
 * show, else a worker index whose earlier restarts are `restarts`.  A
 * worker is restarted unless the run is stopping or it has died too often;
 * the trainer's or the show's end stops the run. */
enum run_exit_action run_supervise_exit(const struct run *run, int who, uint32_t restarts);

#endif
