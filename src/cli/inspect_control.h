/* inspect_control.h — the mailbox's and the telemetry block's printers for
 * 'dshq inspect'. */
#ifndef DSHQ_CLI_INSPECT_CONTROL_H
#define DSHQ_CLI_INSPECT_CONTROL_H

#include "cli/inspect.h"

/* Cursors, depth and the posted/consumed/unknown/full/dead counters, and the
 * consumer.  Reads only: works on a read-only mapping. */
void inspect_mailbox(struct report *out, const struct dshq_region *r,
                     const struct dshq_section *s, void *payload);

/* The latest snapshot (decoded field by field when its shape hash is this
 * build's struct metrics), its age and writer, and the heartbeat table with
 * each process's role, age and liveness.  Reads only. */
void inspect_telemetry(struct report *out, const struct dshq_region *r,
                       const struct dshq_section *s, void *payload);

#endif
