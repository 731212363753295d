/* procs.h — the processes of a training run: trainer, rollout worker and
 * show.  Each runs in its own process (forked by `dshq train`, or started by
 * `dshq show RUN`) on a struct run mapped before the fork; each opens its
 * own channel handles after the fork. */
#ifndef DSHQ_APP_PROCS_H
#define DSHQ_APP_PROCS_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "app/run.h"

/* Set by SIGINT/SIGTERM handlers in every process of a run. */
extern volatile sig_atomic_t procs_stop;
void procs_install_signals(void);

struct trainer_opts {
    const char *checkpoint_dir;   /* where run.dshq goes (NULL: no checkpoints) */
    const char *resume;           /* checkpoint to continue from (NULL: fresh) */
    const char *metrics_path;     /* JSON lines, one per telemetry tick (NULL: none) */
    double checkpoint_every_s;    /* 300 */
    int quiet;                    /* no progress lines on stdout */
};

/* The trainer: consumes chunks, runs PPO, publishes weights, telemetry and
 * checkpoints, obeys the mailbox.  Returns the process exit code. */
int trainer_main(struct run *run, const struct trainer_opts *o);

/* Rollout worker `index` (its lane); restart counts earlier incarnations. */
int worker_main(struct run *run, uint32_t index, uint32_t restart);

struct show_opts {
    int headless;         /* no terminal: one line per second */
    double seconds;       /* 0: until q, stop or the end of the run */
    const char *opponent; /* "scripted" (default) or "random" */
    uint64_t seed;
    int min_versions;     /* with headless: exit 0 only if >= this many adopted */
};

/* The show: one match in real time with the newest policy.  Returns the exit
 * code; *versions_seen (may be NULL) gets how many versions it adopted. */
int show_main(struct run *run, const struct show_opts *o, int *versions_seen);

#endif
