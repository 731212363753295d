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

/* ---- chunks as untrusted input (docs/reliability.md) -------------------
 *
 * A chunk comes from another process through shared memory: the trainer
 * copies its header, checks it against the layout it owns, and checks every
 * action index and every float before anything reaches PPO.
 *
 * The run layer's trailer: a slot of the rollouts section is the chunk plus
 * RUN_CHUNK_TRAILER bytes after it (the transport's header has no spare
 * field).  The worker seals each chunk there after stamping it: a checksum
 * of the chunk's bytes, header included.  In verify mode the trainer copies
 * the chunk and trailer into private memory, checks the checksum on the copy
 * and learns from the copy only, so a chunk changed during or after its
 * commit is refused, never consumed. */
#define RUN_CHUNK_TRAILER 64
#define RUN_CHUNK_SEAL_MAGIC UINT64_C(0x4c41455351484453) /* "DSHQSEAL" */
/* Largest magnitude a float of a chunk may have (observations are
 * normalized, rewards and values are small): anything beyond is refused. */
#define RUN_CHUNK_FLOAT_MAX 1.0e6f

struct run_chunk_trailer {
    uint64_t magic;    /* RUN_CHUNK_SEAL_MAGIC */
    uint64_t seq;      /* = the header's seq */
    uint64_t bytes;    /* = the layout's bytes */
    uint64_t checksum; /* run_chunk_checksum of the chunk's bytes */
    uint64_t reserved[4];
};
_Static_assert(sizeof(struct run_chunk_trailer) == RUN_CHUNK_TRAILER, "trailer is one line");

/* Why a chunk was refused (0: it was not). */
enum run_chunk_fault {
    RUN_CHUNK_OK = 0,
    RUN_CHUNK_EHEADER = 1,   /* magic, version, header size or byte count */
    RUN_CHUNK_ESHAPE = 2,    /* T, E, obs_dim or a hash differs from the run's layout */
    RUN_CHUNK_EPRODUCER = 3, /* producer id is not a worker of the run */
    RUN_CHUNK_EACTION = 4,   /* an action index outside [0, n_actions) */
    RUN_CHUNK_EFLAG = 5,     /* a done or trunc byte other than 0 or 1 */
    RUN_CHUNK_EFLOAT = 6,    /* a NaN, an infinity or a float beyond RUN_CHUNK_FLOAT_MAX */
    RUN_CHUNK_ECHECKSUM = 7, /* verify mode: the trailer's checksum does not match */
    RUN_CHUNK_EPOLICY = 8,   /* policy version 0 or newer than the trainer's */
    RUN_CHUNK_FAULTS
};
const char *run_chunk_fault_name(int fault);

/* 64-bit checksum of the first l->bytes bytes of chunk. */
uint64_t run_chunk_checksum(const struct dshq_chunk_layout *l, const void *chunk);
/* Producer: writes the trailer of a stamped chunk (slot of l->bytes +
 * RUN_CHUNK_TRAILER bytes). */
void run_chunk_seal(const struct dshq_chunk_layout *l, void *chunk);
/* RUN_CHUNK_OK or RUN_CHUNK_ECHECKSUM: the trailer matches the chunk. */
int run_chunk_verify(const struct dshq_chunk_layout *l, const void *chunk, uint64_t avail);

/* Checks chunk (avail readable bytes) against the run's layout l: copies
 * the header into *hdr first and uses only the copy; producer id below
 * workers; every action in [0, n_actions); done and trunc 0 or 1; every
 * float finite and within RUN_CHUNK_FLOAT_MAX (log-probabilities <= 0).
 * Returns RUN_CHUNK_OK or the first fault found.  Reads each byte once;
 * never reads outside [chunk, chunk + l->bytes). */
int run_chunk_validate(const struct dshq_chunk_layout *l, const void *chunk, uint64_t avail,
                       uint32_t workers, uint32_t n_actions, struct dshq_chunk_header *hdr);

#endif
