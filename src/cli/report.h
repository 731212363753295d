/* report.h — key/value output for the inspection tools, as text or JSON.
 *
 * A printer calls report_begin/report_end around objects and arrays and the
 * report_* value functions inside; the same calls give an indented text view
 * or one JSON document (--json), so every section printer serves both. */
#ifndef DSHQ_CLI_REPORT_H
#define DSHQ_CLI_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct report {
    FILE *f;
    int json;
    int depth;
    int need_comma[16];
    int in_array[16];
    int pending_dash; /* text: the next key opens an array element ("- ") */
};

void report_init(struct report *r, FILE *f, int json);
/* key may be NULL inside arrays.  is_array: 0 object, 1 array. */
void report_begin(struct report *r, const char *key, int is_array);
void report_end(struct report *r);
void report_u64(struct report *r, const char *key, uint64_t v);
void report_i64(struct report *r, const char *key, int64_t v);
void report_hex(struct report *r, const char *key, uint64_t v);
void report_f64(struct report *r, const char *key, double v);
void report_str(struct report *r, const char *key, const char *v);
/* Finishes the document (newline after JSON). */
void report_finish(struct report *r);

#endif
