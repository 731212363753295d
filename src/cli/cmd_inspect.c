/* cmd_inspect.c — 'dshq inspect NAME': a live region's header, sections and
 * counters, read-only. */
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
