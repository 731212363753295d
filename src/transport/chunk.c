/* chunk.c — the offsets of a rollout chunk (see dshq/chunk.h, docs/abi.md).
 *
 * Everything here is arithmetic on one private struct: the formulas of the
 * header, in the same order.  The chunk bytes themselves are shared, but
 * ordered by the ring that carries them, so no access here is atomic. */
#include <errno.h>
#include <string.h>

#include "dshq/chunk.h"
#include "dshq/error.h"
#include "dshq/hash.h"

static uint64_t align64(uint64_t x)
{
    return (x + (DSHQ_CHUNK_ALIGN - 1)) & ~(uint64_t)(DSHQ_CHUNK_ALIGN - 1);
}

int dshq_chunk_layout_init(struct dshq_chunk_layout *l, uint32_t T, uint32_t E,
                           uint32_t obs_dim, uint64_t content_hash)
{
    memset(l, 0, sizeof *l);
    if (T == 0 || E == 0 || obs_dim == 0)
        return -EINVAL;
    /* T*E < 2^64 always (u32 x u32); T*E*obs_dim may not be. */
    uint64_t te = (uint64_t)T * E, ted;
    if (__builtin_mul_overflow(te, (uint64_t)obs_dim, &ted) ||
        ted > DSHQ_CHUNK_MAX_BYTES / 8 || te > DSHQ_CHUNK_MAX_BYTES / 32)
        return DSHQ_ELIMIT;
    l->T = T;
    l->E = E;
    l->obs_dim = obs_dim;
    l->content_hash = content_hash;
    l->off_obs = sizeof(struct dshq_chunk_header);
    l->off_act = align64(l->off_obs + 4 * ted);
    l->off_rew = align64(l->off_act + 4 * te);
    l->off_done = align64(l->off_rew + 4 * te);
    l->off_trunc = align64(l->off_done + te);
    l->off_logp = align64(l->off_trunc + te);
    l->off_value = align64(l->off_logp + 4 * te);
    l->off_final_value = align64(l->off_value + 4 * te);
    l->off_boot_value = align64(l->off_final_value + 4 * te);
    l->off_final_obs = align64(l->off_boot_value + 4 * (uint64_t)E);
    l->bytes = align64(l->off_final_obs + 4 * (uint64_t)E * obs_dim);
    if (l->bytes > DSHQ_CHUNK_MAX_BYTES) {
        memset(l, 0, sizeof *l);
        return DSHQ_ELIMIT;
    }
    l->shape_hash = dshq_shape_hashf("chunk/v%d;t=%u;e=%u;obs_dim=%u;content=%016llx",
                                     DSHQ_CHUNK_VERSION, T, E, obs_dim,
                                     (unsigned long long)content_hash);
    return 0;
}

void dshq_chunk_view(const struct dshq_chunk_layout *l, void *chunk,
                     struct dshq_chunk_view *v)
{
    unsigned char *c = chunk;
    v->hdr = (struct dshq_chunk_header *)c;
    v->obs = (float *)(c + l->off_obs);
    v->act = (int32_t *)(c + l->off_act);
    v->rew = (float *)(c + l->off_rew);
    v->done = c + l->off_done;
    v->trunc = c + l->off_trunc;
    v->logp = (float *)(c + l->off_logp);
    v->value = (float *)(c + l->off_value);
    v->final_value = (float *)(c + l->off_final_value);
    v->boot_value = (float *)(c + l->off_boot_value);
    v->final_obs = (float *)(c + l->off_final_obs);
}

void dshq_chunk_stamp(const struct dshq_chunk_layout *l, void *chunk,
                      uint32_t producer_id, uint64_t seq, uint64_t policy_version)
{
    struct dshq_chunk_header *h = chunk;
    h->magic = DSHQ_CHUNK_MAGIC;
    h->version = DSHQ_CHUNK_VERSION;
    h->header_size = sizeof *h;
    h->producer_id = producer_id;
    h->obs_dim = l->obs_dim;
    h->seq = seq;
    h->policy_version = policy_version;
    h->shape_hash = l->shape_hash;
    h->T = l->T;
    h->E = l->E;
    h->bytes = l->bytes;
    h->content_hash = l->content_hash;
}

/* Copies the header out first: the checks below then see one snapshot. */
static int header_sane(const void *chunk, uint64_t avail, struct dshq_chunk_header *h)
{
    if (avail < sizeof *h)
        return DSHQ_ECORRUPT;
    memcpy(h, chunk, sizeof *h);
    if (h->magic != DSHQ_CHUNK_MAGIC || h->version != DSHQ_CHUNK_VERSION ||
        h->header_size != sizeof *h || h->bytes > avail)
        return DSHQ_ECORRUPT;
    return 0;
}

int dshq_chunk_check(const struct dshq_chunk_layout *l, const void *chunk,
                     uint64_t avail)
{
    struct dshq_chunk_header h;
    int rc = header_sane(chunk, avail, &h);
    if (rc)
        return rc;
    if (h.shape_hash != l->shape_hash || h.content_hash != l->content_hash ||
        h.T != l->T || h.E != l->E ||
        h.obs_dim != l->obs_dim || h.bytes != l->bytes)
        return DSHQ_ESHAPE;
    return 0;
}

int dshq_chunk_layout_from_header(struct dshq_chunk_layout *l, const void *chunk,
                                  uint64_t avail)
{
    struct dshq_chunk_header h;
    int rc = header_sane(chunk, avail, &h);
    if (rc)
        return rc;
    rc = dshq_chunk_layout_init(l, h.T, h.E, h.obs_dim, h.content_hash);
    if (rc || l->bytes != h.bytes || l->shape_hash != h.shape_hash) {
        memset(l, 0, sizeof *l);
        return DSHQ_ECORRUPT;
    }
    return 0;
}
