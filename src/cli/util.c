/* util.c — small helpers shared by the dshq subcommands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/util.h"
#include "dshq/error.h"

int cli_region_name(const char *arg, char *out, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "/dev/shm/%s", arg);
    int n;
    if (!strncmp(arg, RUN_REGION_PREFIX, strlen(RUN_REGION_PREFIX)) || access(path, F_OK) == 0)
        n = snprintf(out, len, "%s", arg);
    else
        n = snprintf(out, len, RUN_REGION_PREFIX "%s", arg);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static const char *hint_for(int rc)
{
    switch (rc) {
    case -ENOENT: return "run 'dshq ls' to see the regions that exist";
    case -EEXIST: return "remove it with 'dshq rm NAME' (or pick another name)";
    case -ENOSPC: return "/dev/shm is full: remove stale regions ('dshq ls', 'dshq rm') or make the region smaller";
    case -EACCES: return "the region belongs to another user";
    case DSHQ_ENOTREADY: return "its creator is still starting; retry in a moment";
    case DSHQ_EMAGIC: return "this file was not made by DrillSergeantHQ; leave it alone";
    case DSHQ_EABIMAJOR:
    case DSHQ_EABIMINOR: return "it was made by another version of dshq; use the same version on both sides";
    case DSHQ_ESIZE: return "the file was truncated or resized; remove it with 'dshq rm NAME'";
    case DSHQ_EOWNER: return "only the user who created a region may attach to it";
    default: return NULL;
    }
}

int cli_fail(const char *cmd, const char *what, int rc)
{
    fprintf(stderr, "dshq %s: %s: %s\n", cmd, what, dshq_strerror(rc));
    const char *hint = hint_for(rc);
    if (hint)
        fprintf(stderr, "  hint: %s\n", hint);
    return 1;
}

const char *cli_fmt_bytes(uint64_t b, char *buf, size_t len)
{
    if (b >= (UINT64_C(1) << 30))
        snprintf(buf, len, "%.1f GiB", (double)b / (1 << 30));
    else if (b >= (1u << 20))
        snprintf(buf, len, "%.1f MiB", (double)b / (1 << 20));
    else if (b >= 1024)
        snprintf(buf, len, "%.1f KiB", (double)b / 1024);
    else
        snprintf(buf, len, "%llu B", (unsigned long long)b);
    return buf;
}

const char *cli_fmt_age(uint64_t ns, char *buf, size_t len)
{
    uint64_t s = ns / 1000000000u;
    if (s < 1)
        snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000u));
    else if (s < 60)
        snprintf(buf, len, "%llus", (unsigned long long)s);
    else if (s < 3600)
        snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
    else
        snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
                 (unsigned long long)(s / 60 % 60));
    return buf;
}

long long cli_parse_int(const char *cmd, const char *opt, const char *val,
                        long long min, long long max)
{
    char *end;
    errno = 0;
    long long v = val ? strtoll(val, &end, 10) : 0;
    if (!val || errno || *end || end == val || v < min || v > max) {
        fprintf(stderr, "dshq %s: %s needs an integer in [%lld, %lld], got '%s'\n", cmd, opt,
                min, max, val ? val : "(nothing)");
        exit(2);
    }
    return v;
}

double cli_parse_double(const char *cmd, const char *opt, const char *val,
                        double min, double max)
{
    char *end;
    errno = 0;
    double v = val ? strtod(val, &end) : 0;
    if (!val || errno || *end || end == val || !(v >= min && v <= max)) {
        fprintf(stderr, "dshq %s: %s needs a number in [%g, %g], got '%s'\n", cmd, opt, min,
                max, val ? val : "(nothing)");
        exit(2);
    }
    return v;
}

int cli_want_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}
