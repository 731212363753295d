/* supervise.c — the supervision policy of a run (roles.h): what a host does
 * when one of the roles ends.  The host (fork launcher, thread harness, Web
 * Worker page) detects the end; this decides. */
#include "run/roles.h"

uint32_t run_restarts_note(struct run_restarts *r, uint64_t now_ns)
{
    const uint32_t cap = RUN_WORKER_MAX_RESTARTS + 1;
    r->at_ns[r->next % cap] = now_ns ? now_ns : 1;
    r->next = (r->next + 1) % cap;
    r->total++;
    const uint64_t window = (uint64_t)RUN_RESTART_WINDOW_S * 1000000000ull;
    uint32_t recent = 0;
    for (uint32_t i = 0; i < cap; i++)
        if (r->at_ns[i] && r->at_ns[i] <= now_ns && now_ns - r->at_ns[i] < window)
            recent++;
    return recent;
}

enum run_exit_action run_supervise_exit(const struct run *run, int who, uint32_t recent)
{
    if (who < 0)
        return RUN_ACTION_STOP_RUN; /* trainer gone (or q in the show): the run ends */
    if (run_stopping(run))
        return RUN_ACTION_NONE;
    if (recent > RUN_WORKER_MAX_RESTARTS)
        return RUN_ACTION_STOP_RUN;
    return RUN_ACTION_RESTART;
}
