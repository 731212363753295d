/* inspect.h — per-section printers for 'dshq inspect'.
 *
 * A channel that wants its live counters shown adds one row to the table in
 * inspect.c: its section kind and a printer that reads the section through
 * the channel's own read-only API and reports fields with report.h. */
#ifndef DSHQ_CLI_INSPECT_H
#define DSHQ_CLI_INSPECT_H

#include "cli/report.h"
#include "dshq/region.h"

typedef void (*inspect_printer)(struct report *out, const struct dshq_region *r,
                                const struct dshq_section *s, void *payload);

/* Prints the header and section table of r, with each known section's
 * live view. */
void inspect_region(struct report *out, const struct dshq_region *r);

#endif
