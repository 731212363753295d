/* chunk.h — the rollout chunk: one window of T steps x E envs, as
 * Structure-of-Arrays, in one contiguous block of bytes.
 *
 * A chunk is what a rollout lane or an MPSC ring slot carries (rollout.h).
 * The producer fills it in place and the consumer reads it in place, so a
 * chunk is plain data with fixed offsets: a 64-byte header, then nine arrays,
 * each starting on a 64-byte boundary (A(x) = (x + 63) & ~63):
 *
 *   array        type     shape              offset
 *   header       struct   1                  0
 *   obs          f32      [T][E][obs_dim]    64
 *   act          i32      [T][E]             A(obs   + 4*T*E*obs_dim)
 *   rew          f32      [T][E]             A(act   + 4*T*E)
 *   done         u8       [T][E]             A(rew   + 4*T*E)
 *   trunc        u8       [T][E]             A(done  + T*E)
 *   logp         f32      [T][E]             A(trunc + T*E)
 *   value        f32      [T][E]             A(logp  + 4*T*E)
 *   final_value  f32      [T][E]             A(value + 4*T*E)
 *   boot_value   f32      [E]                A(final_value + 4*T*E)
 *   final_obs    f32      [E][obs_dim]       A(boot_value + 4*E)
 *   (end)                                    bytes = A(final_obs + 4*E*obs_dim)
 *
 * Element [t][e][k] of obs is obs[(t*E + e)*obs_dim + k]; [t][e] of the
 * per-step arrays is X[t*E + e].  done marks a terminal step, trunc a
 * time-limit end; final_value[t][e] is the critic's value of the last
 * observation of an episode truncated at step t (GAE bootstraps from it
 * there; 0 where trunc is 0).  boot_value[e] is the critic's value of
 * final_obs[e], the observation after step T-1 (the bootstrap at the end of
 * the window).
 *
 * The transport knows nothing of what obs means: the layout's shape hash is
 * FNV-1a over "chunk/v1;t=T;e=E;obs_dim=D;content=HEX16", where content is a
 * hash the caller supplies for the meaning of the observation vector (0 when
 * none).  Both hashes are stored in every chunk header, so a chunk describes
 * itself, and the shape hash is also that of the rollout section carrying
 * the chunks, so a trainer never reads chunks of another shape. */
#ifndef DSHQ_CHUNK_H
#define DSHQ_CHUNK_H

#include <stddef.h>
#include <stdint.h>
#include "dshq/cxx_begin.h"

#define DSHQ_CHUNK_MAGIC 0x4b434844u /* "DHCK" in memory order (LE) */
#define DSHQ_CHUNK_VERSION 1
#define DSHQ_CHUNK_ALIGN 64
/* Bounds that keep every offset far from overflow. */
#define DSHQ_CHUNK_MAX_BYTES (UINT64_C(1) << 40)

/* The chunk header: shared, plain data, written by the producer between
 * claim and commit, read by the consumer between poll and release (the ring
 * orders both; no field here is atomic). */
struct dshq_chunk_header {
    uint32_t magic;          /*  0: DSHQ_CHUNK_MAGIC */
    uint16_t version;        /*  4: DSHQ_CHUNK_VERSION */
    uint16_t header_size;    /*  6: 64 */
    uint32_t producer_id;    /*  8: the producer's id (its lane, worker number) */
    uint32_t obs_dim;        /* 12: floats per observation */
    uint64_t seq;            /* 16: the producer's sequence number */
    uint64_t policy_version; /* 24: weights version that chose the actions */
    uint64_t shape_hash;     /* 32: the layout's shape hash */
    uint32_t T;              /* 40: steps in the window */
    uint32_t E;              /* 44: envs in the batch */
    uint64_t bytes;          /* 48: the chunk's size, header included */
    uint64_t content_hash;   /* 56: the caller's hash of what obs means */
};

/* Offsets of a chunk of a given shape: private memory, computed by
 * dshq_chunk_layout_init (the formulas above). */
struct dshq_chunk_layout {
    uint32_t T, E, obs_dim;
    uint32_t pad;
    uint64_t content_hash; /* the caller's hash of what obs means */
    uint64_t shape_hash;   /* the layout's shape hash (see above) */
    uint64_t off_obs, off_act, off_rew, off_done, off_trunc;
    uint64_t off_logp, off_value, off_final_value, off_boot_value, off_final_obs;
    uint64_t bytes;        /* total, a multiple of 64 */
};

/* Typed pointers into one chunk (private memory).  Shapes as in the table. */
struct dshq_chunk_view {
    struct dshq_chunk_header *hdr;
    float *obs;        /* [T][E][obs_dim] */
    int32_t *act;      /* [T][E] */
    float *rew;        /* [T][E] */
    uint8_t *done;     /* [T][E] */
    uint8_t *trunc;    /* [T][E] */
    float *logp;       /* [T][E] */
    float *value;      /* [T][E] */
    float *final_value; /* [T][E] value of the truncated episode's last obs */
    float *boot_value; /* [E] */
    float *final_obs;  /* [E][obs_dim] */
};

/* Computes the layout of a T x E x obs_dim chunk.  0, -EINVAL when a
 * dimension is 0, DSHQ_ELIMIT when the chunk would exceed
 * DSHQ_CHUNK_MAX_BYTES. */
int dshq_chunk_layout_init(struct dshq_chunk_layout *l, uint32_t T, uint32_t E,
                           uint32_t obs_dim, uint64_t content_hash);

/* Fills v with typed pointers into chunk (64-byte aligned memory of
 * l->bytes bytes). */
void dshq_chunk_view(const struct dshq_chunk_layout *l, void *chunk,
                     struct dshq_chunk_view *v);

/* Writes the header of a chunk of layout l: magic, version, sizes, shape and
 * the given producer id, sequence number and policy version.  The producer
 * calls it between claim and commit. */
void dshq_chunk_stamp(const struct dshq_chunk_layout *l, void *chunk,
                      uint32_t producer_id, uint64_t seq, uint64_t policy_version);

/* Checks that the header of chunk (avail readable bytes) describes a chunk
 * of layout l.  0, DSHQ_ECORRUPT (bad magic, version or sizes) or
 * DSHQ_ESHAPE (another shape). */
int dshq_chunk_check(const struct dshq_chunk_layout *l, const void *chunk,
                     uint64_t avail);

/* Rebuilds the layout from a chunk's own header (a consumer that did not
 * know the shape).  0 or DSHQ_ECORRUPT when the header is not consistent
 * (sizes or shape hash differ from the ones its T, E, obs_dim and content
 * hash give). */
int dshq_chunk_layout_from_header(struct dshq_chunk_layout *l, const void *chunk,
                                  uint64_t avail);

/* One-array accessors, for code that wants a single pointer. */
static inline struct dshq_chunk_header *dshq_chunk_hdr(void *chunk)
{
    return (struct dshq_chunk_header *)chunk;
}
static inline float *dshq_chunk_obs(const struct dshq_chunk_layout *l, void *chunk)
{
    return (float *)((unsigned char *)chunk + l->off_obs); /* [T][E][obs_dim] */
}
static inline int32_t *dshq_chunk_act(const struct dshq_chunk_layout *l, void *chunk)
{
    return (int32_t *)((unsigned char *)chunk + l->off_act); /* [T][E] */
}
static inline float *dshq_chunk_rew(const struct dshq_chunk_layout *l, void *chunk)
{
    return (float *)((unsigned char *)chunk + l->off_rew); /* [T][E] */
}
static inline uint8_t *dshq_chunk_done(const struct dshq_chunk_layout *l, void *chunk)
{
    return (uint8_t *)chunk + l->off_done; /* [T][E] */
}
static inline uint8_t *dshq_chunk_trunc(const struct dshq_chunk_layout *l, void *chunk)
{
    return (uint8_t *)chunk + l->off_trunc; /* [T][E] */
}
static inline float *dshq_chunk_logp(const struct dshq_chunk_layout *l, void *chunk)
{
    return (float *)((unsigned char *)chunk + l->off_logp); /* [T][E] */
}
static inline float *dshq_chunk_value(const struct dshq_chunk_layout *l, void *chunk)
{
    return (float *)((unsigned char *)chunk + l->off_value); /* [T][E] */
}
static inline float *dshq_chunk_final_value(const struct dshq_chunk_layout *l, void *chunk)
{
    return (float *)((unsigned char *)chunk + l->off_final_value); /* [T][E] */
}
static inline float *dshq_chunk_boot_value(const struct dshq_chunk_layout *l, void *chunk)
{
    return (float *)((unsigned char *)chunk + l->off_boot_value); /* [E] */
}
static inline float *dshq_chunk_final_obs(const struct dshq_chunk_layout *l, void *chunk)
{
    return (float *)((unsigned char *)chunk + l->off_final_obs); /* [E][obs_dim] */
}

_Static_assert(sizeof(struct dshq_chunk_header) == 64, "chunk header is 64 bytes");
_Static_assert(offsetof(struct dshq_chunk_header, magic) == 0, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, version) == 4, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, header_size) == 6, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, producer_id) == 8, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, obs_dim) == 12, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, seq) == 16, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, policy_version) == 24, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, shape_hash) == 32, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, T) == 40, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, E) == 44, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, bytes) == 48, "abi");
_Static_assert(offsetof(struct dshq_chunk_header, content_hash) == 56, "abi");

#include "dshq/cxx_end.h"
#endif
