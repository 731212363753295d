/* host.c — signals and forked roles (host.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

int host_child_setup(void)
{
    /* getppid() after prctl: a parent that died before it leaves us with
     * another parent, and no signal would come. */
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
        return 0; /* not fatal: the launcher's watchdog still applies */
    return getppid() == parent && parent != 1 ? 0 : -1;
}

void host_chaos_from_env(void)
{
    const char *v = getenv("DSHQ_CHAOS_HOSTILE");
    if (!v || !*v)
        return;
    char *end;
    unsigned long long mask = strtoull(v, &end, 0);
    unsigned long every = 3;
    if (*end == ':')
        every = strtoul(end + 1, NULL, 0);
    run_worker_set_hostile((uint64_t)mask, (uint32_t)(every ? every : 1));
}

pid_t host_spawn_trainer(struct run *run, const struct trainer_opts *o)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (host_child_setup())
            _exit(1);
        _exit(run_trainer(run, o));
    }
    return pid;
}

pid_t host_spawn_worker(struct run *run, uint32_t index, uint32_t restart)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (host_child_setup())
            _exit(1);
        _exit(run_worker(run, index, restart));
    }
    return pid;
}
