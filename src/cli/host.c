/* host.c — signals and forked roles (host.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/host.h"

volatile sig_atomic_t host_interrupted;
static struct run_block *host_run; /* the run whose stop flag a signal raises */

static void on_signal(int sig)
{
    (void)sig;
    host_interrupted = 1;
    if (host_run)
        run_stop(host_run);
}

void host_install_signals(struct run_block *blk)
{
    host_run = blk;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

pid_t host_spawn_trainer(struct run *run, const struct trainer_opts *o)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(run_trainer(run, o));
    return pid;
}

pid_t host_spawn_worker(struct run *run, uint32_t index, uint32_t restart)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(run_worker(run, index, restart));
    return pid;
}
