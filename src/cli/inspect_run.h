/* inspect_run.h — the run block's printer for 'dshq inspect' (a RAW section
 * named "run" whose shape hash is run_block_shape_hash()). */
#ifndef DSHQ_CLI_INSPECT_RUN_H
#define DSHQ_CLI_INSPECT_RUN_H

#include "cli/inspect.h"

/* The run's config (every key, from a checked copy), state and control
 * counters.  Other RAW sections print nothing.  Reads only. */
void inspect_run(struct report *out, const struct dshq_region *r,
                 const struct dshq_section *s, void *payload);

#endif
