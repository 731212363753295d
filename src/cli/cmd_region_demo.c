/* cmd_region_demo.c — 'dshq region-demo': create a region, inspect it from a
 * child process. */
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

int cmd_region_demo(int argc, char **argv)
{
    if (cli_want_help(argc, argv)) {
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
