/* inspect_rollout.h — the rollout transport's printers for 'dshq inspect':
 * lanes and the MPSC ring. */
#ifndef DSHQ_CLI_INSPECT_ROLLOUT_H
#define DSHQ_CLI_INSPECT_ROLLOUT_H

#include "cli/inspect.h"

/* Configuration, consumer, totals (committed, consumed, dropped, blocked,
 * unblocked, fill) and one row per lane (owner, alive, committed, consumed,
 * fill, claimed, dropped, blocked, reclaims, abandoned).  Reads only:
 * works on a read-only mapping. */
void inspect_lanes(struct report *out, const struct dshq_region *r,
                   const struct dshq_section *s, void *payload);

/* Configuration, consumer, totals (reserved, committed, consumed, dropped,
 * blocked, unblocked, fill) and one row per registered producer. */
void inspect_mpsc(struct report *out, const struct dshq_region *r,
                  const struct dshq_section *s, void *payload);

#endif
