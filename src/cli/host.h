/* host.h — the native host of a run's roles: signals and processes.
 *
 * The roles (src/run/roles.h) never see a signal: the host turns SIGINT and
 * SIGTERM into the run's stop flag (run_stop, one lock-free store and a
 * wake, both async-signal-safe), and the roles return on their own. */
#ifndef DSHQ_CLI_HOST_H
#define DSHQ_CLI_HOST_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "run/roles.h"

/* Set by SIGINT/SIGTERM once host_install_signals ran. */
extern volatile sig_atomic_t host_interrupted;

/* SIGINT/SIGTERM set host_interrupted (for commands that watch a run:
 * top, show).  With blk (may be NULL) they also raise that run's stop flag:
 * what `dshq train` installs before it forks, so every process of the run
 * (a Ctrl-C reaches them all) stops the run the same way. */
void host_install_signals(struct run_block *blk);

/* In a forked child of a run: asks for SIGTERM when the parent dies
 * (parent-death signal, so no role outlives a killed launcher for long) and
 * checks that the parent has not died already.  0, or -1: the parent is
 * gone, the child should exit. */
int host_child_setup(void);

/* Test only: DSHQ_CHAOS_HOSTILE=MASK[:EVERY] makes the workers in MASK (a bit
 * per worker) corrupt one chunk in EVERY (default 3) on purpose
 * (run_worker_set_hostile); used by `make chaos` and the fault tests. */
void host_chaos_from_env(void);

/* Forks a process that runs a role on run and _exits with its result.
 * Returns the child's pid, or -1 with errno. */
pid_t host_spawn_trainer(struct run *run, const struct trainer_opts *o);
pid_t host_spawn_worker(struct run *run, uint32_t index, uint32_t restart);

/* Runs the show on run in this process until q, Ctrl-C, `seconds` (0: no
 * limit) or the run's end, drawn in the terminal unless headless (then one
 * line per second).  Exit code: 0, or 1 when it could not start or adopted
 * fewer than min_versions versions.  versions_seen may be NULL.
 * (src/cli/cmd_show.c) */
int show_host(struct run *run, int headless, double seconds, const char *opponent,
              uint64_t seed, int min_versions, int *versions_seen);

#endif
