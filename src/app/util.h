/* util.h — small helpers shared by the dshq subcommands. */
#ifndef DSHQ_APP_UTIL_H
#define DSHQ_APP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define APP_REGION_PREFIX "dshq-"

/* Maps a user's argument to a shared-memory name: "NAME" is used as is when
 * /dev/shm/NAME exists, else "dshq-NAME" (a run name).  Returns 0, or -1 when
 * the result does not fit. */
int app_region_name(const char *arg, char *out, size_t len);

/* Prints "dshq CMD: WHAT: <error text>" and, when the error has a usual
 * remedy, a hint on the next line.  Returns 1 (the exit code to use). */
int app_fail(const char *cmd, const char *what, int rc);

/* Formats a byte count ("64.0 MiB") and a duration in ns ("3m12s"). */
const char *app_fmt_bytes(uint64_t bytes, char *buf, size_t len);
const char *app_fmt_age(uint64_t ns, char *buf, size_t len);

/* Parses a non-negative integer option value; exits 2 with a message when
 * it is not one. */
long long app_parse_int(const char *cmd, const char *opt, const char *val,
                        long long min, long long max);
double app_parse_double(const char *cmd, const char *opt, const char *val,
                        double min, double max);

#endif
