/* chunk_rollout.h — the one adapter between a chunk of the transport
 * (dshq/chunk.h) and the learner's rollout window (rl/rollout.h).
 *
 * A worker collects straight into a claimed chunk through the buffer; the
 * trainer learns from a polled chunk through the view; neither copies.
 *
 * Names: the learner's names are the run's names.  The chunk spells two
 * fields differently, and this is the only place that translates them:
 *
 *   rl_rollout_{buf,view}   dshq_chunk_view   meaning
 *   final_value [T][E]      final_value       value of the obs a truncated episode ended on
 *   trunc_obs   [T][E][D]   (not carried)     that obs
 *   bootstrap_value [E]     boot_value        value of the obs after step T-1
 *   bootstrap_obs [E][D]    final_obs         that obs (the horizon observation)
 */
#ifndef DSHQ_RUN_CHUNK_ROLLOUT_H
#define DSHQ_RUN_CHUNK_ROLLOUT_H

#include "dshq/chunk.h"
#include "rl/rollout.h"

/* The writable window over a chunk's arrays (T, E, obs_dim from layout). */
struct rl_rollout_buf run_chunk_buf(const struct dshq_chunk_layout *layout, void *chunk);

/* The read-only window over a checked chunk (dshq_chunk_check passed). */
struct rl_rollout_view run_chunk_view(const struct dshq_chunk_layout *layout, const void *chunk);

#endif
