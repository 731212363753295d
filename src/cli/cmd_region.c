/* cmd_region.c — 'dshq ls', 'dshq rm', 'dshq inspect' and 'dshq region-demo':
 * the tools that look at regions from the outside. */
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

static int want_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ ls */

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

/* ------------------------------------------------------------------ rm */

int cmd_rm(int argc, char **argv)
{
    int force = 0, failed = 0;
    if (argc < 2 || want_help(argc, argv)) {
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
        struct dshq_region *r;
        if (!force && dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &r) == 0) {
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

/* ------------------------------------------------------------- inspect */

int cmd_inspect(int argc, char **argv)
{
    int json = 0;
    const char *arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: dshq inspect [--json] NAME\n\n"
                   "Prints a live region's header, section table and each channel's\n"
                   "counters, read-only (the region is mapped PROT_READ).  NAME is a run\n"
                   "name or a full /dev/shm name.  --json prints one JSON document.\n");
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "dshq inspect: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        } else
            arg = argv[i];
    }
    if (!arg) {
        fprintf(stderr, "usage: dshq inspect [--json] NAME   (see 'dshq ls')\n");
        return 2;
    }
    char name[256];
    if (cli_region_name(arg, name, sizeof name))
        return cli_fail("inspect", arg, -ENAMETOOLONG);
    struct dshq_region *r;
    int rc = dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &r);
    if (rc)
        return cli_fail("inspect", name, rc);
    struct report out;
    report_init(&out, stdout, json);
    inspect_region(&out, r);
    dshq_region_detach(r);
    return 0;
}

/* --------------------------------------------------------- region-demo */

int cmd_region_demo(int argc, char **argv)
{
    if (want_help(argc, argv)) {
        printf("usage: dshq region-demo\n\n"
               "Creates a region with one section, then a child process attaches to it\n"
               "by name, checks the bytes and prints 'dshq inspect' of it; the region\n"
               "is removed at the end.\n");
        return 0;
    }
    char name[64];
    snprintf(name, sizeof name, RUN_REGION_PREFIX "demo-%d", (int)getpid());
    const char *canon = "demo/v1;bytes=4096;fill=i*7";
    struct dshq_layout l;
    dshq_layout_init(&l);
    dshq_layout_add(&l, DSHQ_SECTION_RAW, "demo", 1, 4096, DSHQ_PAGE_ALIGN,
                    dshq_shape_hash(canon));
    struct dshq_region *r;
    int rc = dshq_region_create(name, &l, 0, &r);
    if (rc)
        return cli_fail("region-demo", name, rc);
    unsigned char *p;
    dshq_region_find(r, DSHQ_SECTION_RAW, "demo", 0, (void **)&p, NULL);
    for (int i = 0; i < 4096; i++)
        p[i] = (unsigned char)(i * 7);
    dshq_region_mark_ready(r);
    printf("created /dev/shm/%s (%llu bytes) with section 'demo' (shape \"%s\")\n", name,
           (unsigned long long)dshq_region_size(r), canon);
    fflush(stdout);

    pid_t child = fork();
    if (child == 0) {
        struct dshq_region *c;
        int crc = dshq_region_attach(name, 0, DSHQ_ABI_MINOR, &c);
        if (crc)
            _exit(cli_fail("region-demo", "child attach", crc));
        unsigned char *q;
        crc = dshq_region_find(c, DSHQ_SECTION_RAW, "demo", dshq_shape_hash(canon),
                               (void **)&q, NULL);
        if (crc)
            _exit(cli_fail("region-demo", "child find", crc));
        int bad = 0;
        for (int i = 0; i < 4096; i++)
            bad += q[i] != (unsigned char)(i * 7);
        printf("child %d attached by name: %s, %d of 4096 bytes differ\n", (int)getpid(),
               bad ? "MISMATCH" : "bytes match", bad);
        struct report out;
        report_init(&out, stdout, 0);
        inspect_region(&out, c);
        dshq_region_detach(c);
        _exit(bad ? 1 : 0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    dshq_region_destroy(r);
    printf("removed /dev/shm/%s\n", name);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
