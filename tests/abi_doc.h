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
 * family lists its fields with ABI_FIELD(). */
#ifndef DSHQ_TESTS_ABI_DOC_H
#define DSHQ_TESTS_ABI_DOC_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct abi_field {
    const char *name;
    size_t offset;
    size_t size;
};

#define ABI_FIELD(type, field) \
    {#field, offsetof(type, field), sizeof(((type *)0)->field)}

static inline const char *abi_doc_path(void)
{
    const char *p = getenv("DSHQ_ABI_DOC");
    return p ? p : "docs/abi.md";
}

/* Returns the number of mismatches (0: the document is right), printing each. */
static inline int abi_doc_check(const char *struct_name, size_t struct_size,
                                const struct abi_field *fields, size_t n)
{
    FILE *f = fopen(abi_doc_path(), "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", abi_doc_path());
        return 1;
    }
    char line[1024], want[160];
    int errors = 0, found = 0, in_table = 0;
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
        if (end == p || (*end != ' ' && *end != '|'))
            continue; /* header or separator row */
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
    return errors;
}

#endif
