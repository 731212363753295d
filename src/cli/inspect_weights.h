/* inspect_weights.h — the weights channel's printer for 'dshq inspect'. */
#ifndef DSHQ_CLI_INSPECT_WEIGHTS_H
#define DSHQ_CLI_INSPECT_WEIGHTS_H

#include "cli/inspect.h"

/* Version, step, shape, the writer, and which buffer each reader holds.
 * Reads only: works on a read-only mapping. */
void inspect_weights(struct report *out, const struct dshq_region *r,
                     const struct dshq_section *s, void *payload);

#endif
