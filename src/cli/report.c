/* report.c — text or JSON key/value output (see report.h). */
#include <inttypes.h>
#include <math.h>

#include "cli/report.h"

void report_init(struct report *r, FILE *f, int json)
{
    *r = (struct report){.f = f, .json = json};
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* Writes the separator and key of the next value. */
static void key(struct report *r, const char *k)
{
    if (r->json) {
        if (r->need_comma[r->depth])
            fputc(',', r->f);
        r->need_comma[r->depth] = 1;
        if (k && !r->in_array[r->depth]) {
            json_string(r->f, k);
            fputc(':', r->f);
        }
    } else {
        int indent = 2 * (r->depth > 0 ? r->depth - 1 : 0);
        if (r->pending_dash && indent >= 2) {
            fprintf(r->f, "%*s- ", indent - 2, "");
            r->pending_dash = 0;
        } else
            fprintf(r->f, "%*s", indent, "");
        if (k)
            fprintf(r->f, "%-22s ", k);
        else
            fputs("- ", r->f);
    }
}

void report_begin(struct report *r, const char *k, int is_array)
{
    if (r->json) {
        if (r->depth > 0 || k)
            key(r, k);
        fputc(is_array ? '[' : '{', r->f);
    } else if (!k && !is_array && r->depth > 0 && r->in_array[r->depth]) {
        r->pending_dash = 1; /* an object in a list: its first key gets the dash */
    } else if (k || r->depth > 0) {
        key(r, k);
        fputc('\n', r->f);
    }
    if (r->depth < 15)
        r->depth++;
    r->need_comma[r->depth] = 0;
    r->in_array[r->depth] = is_array;
}

void report_end(struct report *r)
{
    if (r->json)
        fputc(r->in_array[r->depth] ? ']' : '}', r->f);
    if (r->depth > 0)
        r->depth--;
}

void report_u64(struct report *r, const char *k, uint64_t v)
{
    key(r, k);
    fprintf(r->f, r->json ? "%" PRIu64 : "%" PRIu64 "\n", v);
}

void report_i64(struct report *r, const char *k, int64_t v)
{
    key(r, k);
    fprintf(r->f, r->json ? "%" PRId64 : "%" PRId64 "\n", v);
}

void report_hex(struct report *r, const char *k, uint64_t v)
{
    key(r, k);
    if (r->json)
        fprintf(r->f, "\"0x%016" PRIx64 "\"", v);
    else
        fprintf(r->f, "0x%016" PRIx64 "\n", v);
}

void report_f64(struct report *r, const char *k, double v)
{
    key(r, k);
    if (r->json)
        isfinite(v) ? fprintf(r->f, "%.6g", v) : fputs("null", r->f);
    else
        fprintf(r->f, "%.6g\n", v);
}

void report_str(struct report *r, const char *k, const char *v)
{
    key(r, k);
    if (r->json)
        json_string(r->f, v);
    else
        fprintf(r->f, "%s\n", v);
}

void report_finish(struct report *r)
{
    if (r->json)
        fputc('\n', r->f);
    fflush(r->f);
}
