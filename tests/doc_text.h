/* doc_text.h — read a Markdown document so that a test compares the code
 * with what the document says, not with literals copied into the test.
 *
 *   char *md = doc_load("DSHQ_ENV_DOC", "docs/env.md");   (env var overrides)
 *   doc_has(md, "radius %g m", BD_BALL_RADIUS)          text appears (0/1)
 *   doc_row(md, "## Configuration", "max_ticks", cells)  the table row under
 *       the first heading starting with that text whose first cell (without
 *       backticks) is "max_ticks"; returns its cell count, 0 if none
 *   doc_row_n(md, "## Observation", 3, cells)            the 4th data row
 *
 * Cells are trimmed and split on '|' (an escaped "\|" stays in the cell). */
#ifndef DSHQ_TESTS_DOC_TEXT_H
#define DSHQ_TESTS_DOC_TEXT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define DOC_MAX_CELLS 16
#define DOC_CELL_LEN 256
typedef char doc_cells[DOC_MAX_CELLS][DOC_CELL_LEN];

/* The whole file named by $ENV_NAME or else DEFAULT_PATH, NUL-terminated
 * (the caller frees); a missing document fails the test. */
static inline char *doc_load(const char *env_name, const char *default_path)
{
    const char *path = getenv(env_name);
    if (!path || !*path)
        path = default_path;
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s (run from the repository root, or set %s)", path,
              env_name);
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    CHECK(s);
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap *= 2;
            s = realloc(s, cap);
            CHECK(s);
        }
        size_t r = fread(s + n, 1, 4096, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    s[n] = 0;
    return s;
}

__attribute__((format(printf, 2, 3))) static inline int doc_has(const char *md, const char *fmt,
                                                               ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (strstr(md, text))
        return 1;
    fprintf(stderr, "the document does not say '%s'\n", text);
    return 0;
}

/* Splits the table row starting at LINE; returns the number of cells. */
static inline int doc_split(const char *line, doc_cells cells)
{
    int n = 0;
    const char *p = line;
    if (*p != '|')
        return 0;
    p++;
    while (*p && *p != '\n' && n < DOC_MAX_CELLS) {
        size_t k = 0;
        while (*p && *p != '\n' && !(*p == '|' && p[-1] != '\\')) {
            if (k < DOC_CELL_LEN - 1)
                cells[n][k++] = *p;
            p++;
        }
        if (*p != '|')
            break;
        while (k > 0 && (cells[n][k - 1] == ' ' || cells[n][k - 1] == '\r'))
            k--;
        cells[n][k] = 0;
        size_t lead = strspn(cells[n], " ");
        memmove(cells[n], cells[n] + lead, k - lead + 1);
        n++;
        p++;
    }
    return n;
}

/* Start of the first line beginning with HEADING, or NULL. */
static inline const char *doc_section(const char *md, const char *heading)
{
    size_t hl = strlen(heading);
    for (const char *p = md; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, heading, hl))
            return p;
    return NULL;
}

/* The first table under HEADING (its header and separator rows skipped,
 * ending at the next heading): the row whose first cell, backticks removed,
 * is FIRST, or (FIRST NULL) data row number WANT.  Returns its cell count,
 * 0 when there is none. */
static inline int doc_row_at(const char *md, const char *heading, const char *first, int want,
                             doc_cells cells)
{
    const char *p = doc_section(md, heading);
    if (!p)
        return 0;
    int in_table = 0, row = -3; /* becomes -2 on the header, -1 on the separator */
    for (p = strchr(p, '\n'); p && *++p; p = strchr(p, '\n')) {
        if (*p == '#')
            break;
        if (*p != '|') {
            if (in_table)
                break;
            continue;
        }
        in_table = 1;
        row++;
        if (row < 0)
            continue;
        int n = doc_split(p, cells);
        if (first) {
            char name[DOC_CELL_LEN];
            size_t k = 0;
            for (const char *c = cells[0]; *c && k < sizeof name - 1; c++)
                if (*c != '`')
                    name[k++] = *c;
            name[k] = 0;
            if (n > 0 && !strcmp(name, first))
                return n;
        } else if (row == want) {
            return n;
        }
    }
    return 0;
}

static inline int doc_row(const char *md, const char *heading, const char *first, doc_cells cells)
{
    return doc_row_at(md, heading, first, -1, cells);
}

static inline int doc_row_n(const char *md, const char *heading, int n, doc_cells cells)
{
    return doc_row_at(md, heading, NULL, n, cells);
}

#endif
