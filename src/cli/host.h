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

/* Forks a process that runs a role on run and _exits with its result.
 * Returns the child's pid, or -1 with errno. */
pid_t host_spawn_trainer(struct run *run, const struct trainer_opts *o);
pid_t host_spawn_worker(struct run *run, uint32_t index, uint32_t restart);

#endif
