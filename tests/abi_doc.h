/* abi_doc.h — checks docs/abi.md against the compiled layout.
 *
 * docs/abi.md documents each shared struct under a heading of the exact form
 *     ### struct NAME (SIZE bytes)
 * followed by a Markdown table whose rows start with
 *     | OFFSET | SIZE | FIELD | ...
 * (decimal numbers; any further columns — type, writer, readers, atomic
 * operation — are for people).  abi_doc_check() finds the struct's table and
 * requires that the documented size and every row match the compiled
 * struct, and that every compiled field is documented.  A test per struct
 * family lists its fields with ABI_FIELD().
 *
 * abi_doc_check_strict() adds what a doc check needs to be unable to lie:
 *  - the listed fields tile the struct: no byte of it lies outside a listed
 *    field, so a field added to the struct (into a hole, or at the end) that
 *    neither the test nor the document lists fails the check;
 *  - the "atomic op / order" column agrees with the compiled type: a field
 *    declared _Atomic names its memory order(s) (relaxed / acquire /
 *    release / acq_rel / seq_cst); a plain field says "plain", "—", or "see
 *    ..." / "as struct ..." (an embedded struct documented apart); an
 *    atomic field may also say "as `FIELD`" (the order of that row), a plain
 *    one "seqlock" / "inside the ... seqlock" (ordered by the seqlock).
 * abi_doc_row_has(struct, field, fmt, ...) and abi_doc_has(fmt, ...) check
 * constants against the text: a magic, a version, enum values, section
 * kinds and message types are formatted from the compiled constants and
 * must appear in that field's row (or anywhere in the document). */
#ifndef DSHQ_TESTS_ABI_DOC_H
#define DSHQ_TESTS_ABI_DOC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct abi_field {
    const char *name;
    size_t offset;
    size_t size;
    int atomic; /* declared _Atomic (a scalar); 0 in hand-written entries */
};

/* 1 when P points to an _Atomic scalar, or to a small array of them
 * (qualifiers survive in pointer types). */
#define ABI_IS_ATOMIC(p)                                                     \
    _Generic((p), _Atomic uint8_t *: 1, _Atomic uint16_t *: 1,               \
             _Atomic uint32_t *: 1, _Atomic uint64_t *: 1,                   \
             _Atomic int32_t *: 1, _Atomic int64_t *: 1,                     \
             _Atomic uint32_t(*)[1]: 1, _Atomic uint64_t(*)[1]: 1,                 \
             _Atomic uint32_t(*)[2]: 1, _Atomic uint64_t(*)[2]: 1,                 \
             _Atomic uint32_t(*)[3]: 1, _Atomic uint64_t(*)[3]: 1,                 \
             _Atomic uint32_t(*)[4]: 1, _Atomic uint64_t(*)[4]: 1,                 \
             _Atomic uint32_t(*)[5]: 1, _Atomic uint64_t(*)[5]: 1,                 \
             _Atomic uint32_t(*)[6]: 1, _Atomic uint64_t(*)[6]: 1,                 \
             _Atomic uint32_t(*)[7]: 1, _Atomic uint64_t(*)[7]: 1,                 \
             _Atomic uint32_t(*)[8]: 1, _Atomic uint64_t(*)[8]: 1,                 \
             default: 0)

#define ABI_FIELD(type, field)                                               \
    {#field, offsetof(type, field), sizeof(((type *)0)->field),             \
     ABI_IS_ATOMIC(&((type *)0)->field)}

static inline const char *abi_doc_path(void)
{
    const char *p = getenv("DSHQ_ABI_DOC");
    return p ? p : "docs/abi.md";
}

/* Splits a table row into cells (an escaped "\\|" is not a separator);
 * returns the number of cells, each trimmed, written into cells[]. */
static inline int abi_doc_cells(const char *line, char cells[][256], int max)
{
    int n = 0;
    const char *p = strchr(line, '|');
    if (!p)
        return 0;
    p++;
    while (*p && *p != '\n' && n < max) {
        char *out = cells[n];
        size_t k = 0;
        while (*p && *p != '\n' && !(*p == '|' && p[-1] != '\\')) {
            if (k < 255)
                out[k++] = *p;
            p++;
        }
        while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == '\r'))
            k--;
        out[k] = 0;
        size_t lead = strspn(out, " ");
        memmove(out, out + lead, k - lead + 1);
        if (*p != '|')
            break; /* text after the last separator is not a cell */
        n++;
        p++;
    }
    return n;
}

static inline int abi_doc_has_word(const char *s, const char *w)
{
    return strstr(s, w) != NULL;
}

/* The order column of an atomic field names an order; a plain one does not
 * claim to be atomic.  Returns 1 on a mismatch (printed). */
static inline int abi_doc_order_ok(const char *sname, const struct abi_field *f, const char *col)
{
    static const char *const orders[] = {"relaxed", "acquire", "release", "acq_rel", "seq_cst"};
    int names_order = 0;
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
        names_order |= abi_doc_has_word(col, orders[i]);
    int plain = !strncmp(col, "plain", 5) || !strncmp(col, "\xe2\x80\x94", 3) /* — */ ||
                !strcmp(col, "-") || !strncmp(col, "see ", 4) || !strncmp(col, "as struct ", 10) ||
                !strcmp(col, "seqlock") || !strncmp(col, "inside the ", 11);
    if (f->atomic && !strncmp(col, "as `", 4))
        return 0; /* "as `version`": the order of the row it names */
    if (f->atomic && (plain || !names_order)) {
        fprintf(stderr, "abi.md: %s.%s is _Atomic but its order column says '%s'\n", sname,
                f->name, col);
        return 1;
    }
    if (!f->atomic && !plain) {
        fprintf(stderr, "abi.md: %s.%s is a plain field but its order column says '%s'\n", sname,
                f->name, col);
        return 1;
    }
    return 0;
}

/* The listed fields cover [0, struct_size) exactly once.  Returns the
 * number of holes and overlaps (printed). */
static inline int abi_doc_tiles(const char *sname, size_t struct_size,
                                const struct abi_field *fields, size_t n)
{
    int errors = 0;
    size_t at = 0;
    for (;;) {
        /* the field starting at `at` (fields may be listed in any order) */
        size_t next = SIZE_MAX, i, hit = n;
        for (i = 0; i < n; i++) {
            if (fields[i].offset == at && hit == n)
                hit = i;
            if (fields[i].offset > at && fields[i].offset < next)
                next = fields[i].offset;
        }
        if (at >= struct_size)
            break;
        if (hit == n) {
            size_t end = next < struct_size ? next : struct_size;
            fprintf(stderr,
                    "abi: bytes %zu..%zu of struct %s are in no listed field (a field that "
                    "neither the test nor the document lists?)\n",
                    at, end - 1, sname);
            errors++;
            at = end;
            continue;
        }
        size_t end = fields[hit].offset + fields[hit].size;
        if (next < end) {
            fprintf(stderr, "abi: struct %s: listed fields overlap at byte %zu\n", sname, next);
            errors++;
        }
        at = end;
    }
    return errors;
}

static inline int abi_doc_check_impl(const char *struct_name, size_t struct_size,
                                     const struct abi_field *fields, size_t n, int strict)
{
    FILE *f = fopen(abi_doc_path(), "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", abi_doc_path());
        return 1;
    }
    char line[1024], want[160];
    static char cells[12][256];
    int errors = 0, found = 0, in_table = 0, order_col = -1;
    int seen[256] = {0};
    snprintf(want, sizeof want, "### struct %s (", struct_name);
    while (fgets(line, sizeof line, f)) {
        if (!found) {
            if (!strncmp(line, want, strlen(want))) {
                found = 1;
                size_t doc_size = strtoul(line + strlen(want), NULL, 10);
                if (doc_size != struct_size) {
                    fprintf(stderr, "abi.md: struct %s is %zu bytes, compiled %zu\n",
                            struct_name, doc_size, struct_size);
                    errors++;
                }
            }
            continue;
        }
        if (line[0] == '#')
            break; /* next heading: the table is over */
        if (line[0] != '|') {
            if (in_table)
                break;
            continue;
        }
        in_table = 1;
        char *p = line + 1;
        char *end;
        unsigned long off = strtoul(p, &end, 10);
        if (end == p || (*end != ' ' && *end != '|')) { /* header or separator row */
            int nc = abi_doc_cells(line, cells, 12);
            for (int k = 0; k < nc && order_col < 0; k++)
                if (strstr(cells[k], "order"))
                    order_col = k;
            continue;
        }
        p = strchr(end, '|');
        if (!p)
            continue;
        unsigned long sz = strtoul(p + 1, &end, 10);
        p = strchr(end, '|');
        if (!p)
            continue;
        char name[128];
        if (sscanf(p + 1, " %127[^ |`]", name) != 1)
            continue;
        size_t i;
        for (i = 0; i < n; i++)
            if (!strcmp(fields[i].name, name))
                break;
        if (i == n) {
            fprintf(stderr, "abi.md: struct %s documents '%s', which is not a compiled field\n",
                    struct_name, name);
            errors++;
            continue;
        }
        if (i < 256)
            seen[i] = 1;
        if (strict) {
            int nc = abi_doc_cells(line, cells, 12);
            if (order_col < 0 || nc <= order_col) {
                fprintf(stderr, "abi.md: struct %s.%s: no 'atomic op / order' column\n",
                        struct_name, name);
                errors++;
            } else {
                errors += abi_doc_order_ok(struct_name, &fields[i], cells[order_col]);
            }
        }
        if (off != fields[i].offset || sz != fields[i].size) {
            fprintf(stderr, "abi.md: %s.%s documented at %lu (+%lu), compiled at %zu (+%zu)\n",
                    struct_name, name, off, sz, fields[i].offset, fields[i].size);
            errors++;
        }
    }
    fclose(f);
    if (!found) {
        fprintf(stderr, "abi.md: no heading '### struct %s (N bytes)'\n", struct_name);
        return errors + 1;
    }
    for (size_t i = 0; i < n && i < 256; i++)
        if (!seen[i]) {
            fprintf(stderr, "abi.md: %s.%s is not documented\n", struct_name, fields[i].name);
            errors++;
        }
    if (strict)
        errors += abi_doc_tiles(struct_name, struct_size, fields, n);
    return errors;
}

/* Returns the number of mismatches (0: the document is right), printing each. */
static inline int abi_doc_check(const char *struct_name, size_t struct_size,
                                const struct abi_field *fields, size_t n)
{
    return abi_doc_check_impl(struct_name, struct_size, fields, n, 0);
}

/* abi_doc_check plus tiling and the order column (see the top). */
static inline int abi_doc_check_strict(const char *struct_name, size_t struct_size,
                                       const struct abi_field *fields, size_t n)
{
    return abi_doc_check_impl(struct_name, struct_size, fields, n, 1);
}

/* Copies the table row of FIELD in struct NAME's table into row (with its
 * line end); returns 0, or 1 when there is none (printed). */
static inline int abi_doc_row(const char *struct_name, const char *field, char *row, size_t len)
{
    FILE *f = fopen(abi_doc_path(), "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", abi_doc_path());
        return 1;
    }
    char line[1024], want[160];
    static char cells[12][256];
    int found = 0;
    snprintf(want, sizeof want, "### struct %s (", struct_name);
    while (fgets(line, sizeof line, f)) {
        if (!found) {
            found = !strncmp(line, want, strlen(want));
            continue;
        }
        if (line[0] == '#')
            break;
        if (line[0] != '|')
            continue;
        if (abi_doc_cells(line, cells, 12) >= 3 && !strcmp(cells[2], field)) {
            snprintf(row, len, "%s", line);
            fclose(f);
            return 0;
        }
    }
    fclose(f);
    fprintf(stderr, "abi.md: no row for %s.%s\n", struct_name, field);
    return 1;
}

/* The row of struct NAME's FIELD contains the formatted text.  Returns the
 * number of mismatches (0 or 1, printed). */
__attribute__((format(printf, 3, 4))) static inline int
abi_doc_row_has(const char *struct_name, const char *field, const char *fmt, ...)
{
    char text[256], row[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (abi_doc_row(struct_name, field, row, sizeof row))
        return 1;
    if (strstr(row, text))
        return 0;
    fprintf(stderr, "abi.md: %s.%s should say '%s' (the compiled value): %s", struct_name,
            field, text, row);
    return 1;
}

/* The document contains the formatted text somewhere (a heading, a list of
 * kinds).  Returns 0 or 1 (printed). */
__attribute__((format(printf, 1, 2))) static inline int abi_doc_has(const char *fmt, ...)
{
    char text[256], line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    FILE *f = fopen(abi_doc_path(), "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", abi_doc_path());
        return 1;
    }
    int hit = 0;
    while (!hit && fgets(line, sizeof line, f))
        hit = strstr(line, text) != NULL;
    fclose(f);
    if (!hit)
        fprintf(stderr, "%s does not say '%s' (from the compiled constants)\n", abi_doc_path(),
                text);
    return !hit;
}

/* "ABCDEFGH" from a magic number stored little-endian (its bytes in memory). */
static inline const char *abi_magic_text(uint64_t magic, int bytes, char *buf)
{
    for (int i = 0; i < bytes; i++)
        buf[i] = (char)(magic >> (8 * i));
    buf[bytes] = 0;
    return buf;
}

#endif
