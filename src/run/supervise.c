/* supervise.c — the supervision policy of a run (roles.h): what a host does
 * when one of the roles ends.  The host (fork launcher, thread harness, Web
 * Worker page) detects the end; this decides. */
#include "run/roles.h"

enum run_exit_action run_supervise_exit(const struct run *run, int who, uint32_t restarts)
{
    if (who < 0)
        return RUN_ACTION_STOP_RUN; /* trainer gone (or q in the show): the run ends */
    if (run_stopping(run))
        return RUN_ACTION_NONE;
    if (restarts >= RUN_WORKER_MAX_RESTARTS)
        return RUN_ACTION_STOP_RUN;
    return RUN_ACTION_RESTART;
}
