/* util.h — small helpers shared by the dshq commands. */
#ifndef DSHQ_CLI_UTIL_H
#define DSHQ_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "run/run.h" /* RUN_REGION_PREFIX */

/* Maps a user's argument to a shared-memory name: "NAME" is used as is when
 * /dev/shm/NAME exists, else "dshq-NAME" (a run name).  Returns 0, or -1 when
 * the result does not fit. */
int cli_region_name(const char *arg, char *out, size_t len);

/* Prints "dshq CMD: WHAT: <error text>" and, when the error has a usual
 * remedy, a hint on the next line.  Returns 1 (the exit code to use). */
int cli_fail(const char *cmd, const char *what, int rc);

/* Formats a byte count ("64.0 MiB") and a duration in ns ("3m12s"). */
const char *cli_fmt_bytes(uint64_t bytes, char *buf, size_t len);
const char *cli_fmt_age(uint64_t ns, char *buf, size_t len);

/* Parses a non-negative integer option value; exits 2 with a message when
 * it is not one. */
long long cli_parse_int(const char *cmd, const char *opt, const char *val,
                        long long min, long long max);
double cli_parse_double(const char *cmd, const char *opt, const char *val,
                        double min, double max);

/* 1 when argv holds --help or -h. */
int cli_want_help(int argc, char **argv);

/* Attaches run to the run NAME (a run name or a region name), printing
 * what went wrong and a hint.  0, or 1 (the exit code). */
int cli_attach_run(const char *cmd, struct run *run, const char *name, unsigned flags);

#endif
