/* cli_run.h — tests that run the dshq tool: its path ($DSHQ, set by make
 * test, else build/dshq) and one call that runs it and keeps its output. */
#ifndef DSHQ_TESTS_CLI_RUN_H
#define DSHQ_TESTS_CLI_RUN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "check.h"

static inline const char *cli_bin(void)
{
    const char *p = getenv("DSHQ");
    return p ? p : "build/dshq";
}

/* Runs `dshq ARGS` (a shell fragment, stderr joined to stdout); returns the
 * exit code (128 when it did not exit), the output (up to cap - 1 bytes) in out. */
__attribute__((format(printf, 3, 4))) static inline int cli_run(char *out, size_t cap,
                                                               const char *fmt, ...)
{
    char args[2048], cmd[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", cli_bin(), args);
    FILE *p = popen(cmd, "r");
    CHECK(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#endif
