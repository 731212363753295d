/* cmd_rm.c — 'dshq rm NAME': remove a region by name. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/inspect.h"
#include "cli/util.h"
#include "dshq/hash.h"
#include "dshq/region.h"
#include "run/run.h"

int cmd_rm(int argc, char **argv)
{
    int force = 0, failed = 0;
    if (argc < 2 || cli_want_help(argc, argv)) {
        printf("usage: dshq rm [--force] NAME...\n\n"
               "Removes regions from /dev/shm.  A region whose creator is still alive\n"
               "is kept unless --force is given (its processes keep their mapping, but\n"
               "nothing new can attach).\n");
        return argc < 2 ? 2 : 0;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f")) {
            force = 1;
            continue;
        }
        char name[256];
        if (cli_region_name(argv[i], name, sizeof name)) {
            failed |= cli_fail("rm", argv[i], -ENAMETOOLONG);
            continue;
        }
        /* Without --force only what is certainly a region of this tool goes:
         * a dshq- name that attaches (a stale run's region does). */
        if (!force && strncmp(name, RUN_REGION_PREFIX, strlen(RUN_REGION_PREFIX))) {
            fprintf(stderr, "dshq rm: %s: not a dshq region name (they start with '"
                            RUN_REGION_PREFIX "'); kept (--force removes it anyway)\n", name);
            failed = 1;
            continue;
        }
        struct dshq_region *r;
        int arc = force ? 0 : dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &r);
        if (!force && arc == -ENOENT) {
            failed |= cli_fail("rm", name, arc);
            continue;
        }
        if (!force && arc) {
            fprintf(stderr, "dshq rm: %s: cannot attach to it (%s): damaged, foreign or still "
                            "starting; kept (--force removes it anyway)\n", name,
                    dshq_strerror(arc));
            failed = 1;
            continue;
        }
        if (!force) {
            int alive = dshq_region_creator_state(r) == DSHQ_CREATOR_ALIVE;
            int pid = dshq_region_header(r)->creator_pid;
            dshq_region_detach(r);
            if (alive) {
                fprintf(stderr, "dshq rm: %s: its creator (pid %d) is alive; stop it first, "
                                "or use --force\n", name, pid);
                failed = 1;
                continue;
            }
        }
        int rc = dshq_region_unlink(name);
        if (rc)
            failed |= cli_fail("rm", name, rc);
        else
            printf("removed %s\n", name);
    }
    return failed;
}
