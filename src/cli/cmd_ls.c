/* cmd_ls.c — 'dshq ls': the regions in /dev/shm with size, age and creator
 * liveness. */
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

int cmd_ls(int argc, char **argv)
{
    int all = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: dshq ls [--all]\n\n"
                   "Lists DrillSergeantHQ regions in /dev/shm (names starting with '"
                   RUN_REGION_PREFIX "'; --all: every object there)\nwith size, age, "
                   "creator pid and whether the creator is still alive.\n"
                   "A region whose creator is dead is stale: remove it with 'dshq rm NAME'.\n");
            return 0;
        } else if (!strcmp(argv[i], "--all")) {
            all = 1;
        } else {
            fprintf(stderr, "dshq ls: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    DIR *d = opendir("/dev/shm");
    if (!d)
        return cli_fail("ls", "/dev/shm", -errno);
    printf("%-32s %10s %8s %8s  %s\n", "NAME", "SIZE", "AGE", "PID", "STATE");
    struct dirent *e;
    int shown = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (!all && strncmp(e->d_name, RUN_REGION_PREFIX, strlen(RUN_REGION_PREFIX)))
            continue;
        char sz[32], age[32], path[300];
        struct stat st;
        snprintf(path, sizeof path, "/dev/shm/%s", e->d_name);
        if (stat(path, &st) != 0)
            continue;
        struct dshq_region *r;
        int rc = dshq_region_attach(e->d_name, DSHQ_ATTACH_RDONLY, 0, &r);
        if (rc) {
            printf("%-32s %10s %8s %8s  unreadable: %s\n", e->d_name,
                   cli_fmt_bytes((uint64_t)st.st_size, sz, sizeof sz), "-", "-",
                   dshq_strerror(rc));
        } else {
            const struct dshq_region_header *h = dshq_region_header(r);
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
            int alive = dshq_region_creator_state(r) == DSHQ_CREATOR_ALIVE;
            char beat[32];
            printf("%-32s %10s %8s %8d  %s (heartbeat %s ago)\n", e->d_name,
                   cli_fmt_bytes(h->region_size, sz, sizeof sz),
                   cli_fmt_age(now_ns > h->created_unix_ns ? now_ns - h->created_unix_ns : 0,
                               age, sizeof age),
                   (int)h->creator_pid, alive ? "alive" : "STALE: creator dead",
                   cli_fmt_age(dshq_region_heartbeat_age_ns(r), beat, sizeof beat));
            dshq_region_detach(r);
        }
        shown++;
    }
    closedir(d);
    if (!shown)
        printf("(no regions)\n");
    return 0;
}
