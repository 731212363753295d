/* util_run.c — attaching a command to a run by name, with the usual
 * messages. */
#include <errno.h>
#include <stdio.h>

#include "cli/util.h"

int cli_attach_run(const char *cmd, struct run *run, const char *name, unsigned flags)
{
    char region[80];
    if (cli_region_name(name, region, sizeof region))
        return cli_fail(cmd, name, -ENAMETOOLONG);
    int rc = run_attach(run, region, flags);
    if (rc == -ENOENT) {
        fprintf(stderr, "dshq %s: no run named '%s' is going\n"
                        "  hint: start one with 'dshq train --run %s', or see 'dshq ls'\n",
                cmd, name, name);
        return 1;
    }
    if (rc == DSHQ_ECORRUPT) {
        char why[320] = "";
        if (run_diagnose(region, why, sizeof why) == 0 && why[0]) {
            fprintf(stderr, "dshq %s: run '%s' (/dev/shm/%s) is damaged: %s\n"
                            "  hint: 'dshq ctl %s stop' still stops it; 'dshq rm --force %s' "
                            "removes the region once it has ended\n",
                    cmd, name, region, why, name, name);
            return 1;
        }
    }
    if (rc)
        return cli_fail(cmd, name, rc);
    return 0;
}

