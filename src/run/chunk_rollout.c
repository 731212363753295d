/* chunk_rollout.c — chunk <-> rollout window (chunk_rollout.h). */
#include "run/chunk_rollout.h"

#include <math.h>
#include <string.h>

struct rl_rollout_buf run_chunk_buf(const struct dshq_chunk_layout *layout, void *chunk)
{
    struct dshq_chunk_view cv;
    dshq_chunk_view(layout, chunk, &cv);
    struct rl_rollout_buf b = {
        .T = (int)layout->T, .E = (int)layout->E, .obs_dim = (int)layout->obs_dim,
        .obs = cv.obs, .act = cv.act, .rew = cv.rew, .done = cv.done, .trunc = cv.trunc,
        .logp = cv.logp, .value = cv.value, .final_value = cv.final_value,
        .bootstrap_value = cv.boot_value, .trunc_obs = NULL, .bootstrap_obs = cv.final_obs,
    };
    return b;
}

struct rl_rollout_view run_chunk_view(const struct dshq_chunk_layout *layout, const void *chunk)
{
    /* dshq_chunk_view takes a writable pointer; the view hands out const. */
    struct rl_rollout_buf b = run_chunk_buf(layout, (void *)chunk);
    return rl_rollout_buf_view(&b);
}

/* ---- chunks as untrusted input ---------------------------------------- */

const char *run_chunk_fault_name(int fault)
{
    static const char *const names[RUN_CHUNK_FAULTS] = {
        "ok", "bad header", "wrong shape", "unknown producer", "action out of range",
        "bad done/trunc flag", "non-finite or huge float", "checksum mismatch",
        "bad policy version"};
    return fault >= 0 && fault < RUN_CHUNK_FAULTS ? names[fault] : "?";
}

uint64_t run_chunk_checksum(const struct dshq_chunk_layout *l, const void *chunk)
{
    /* Word-wise multiply-xorshift over 8-byte words (bytes is a multiple of
     * 64); every bit of every word reaches the result. */
    const unsigned char *p = chunk;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ l->bytes;
    for (uint64_t i = 0; i + 8 <= l->bytes; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h ^= w + i;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 32);
}

void run_chunk_seal(const struct dshq_chunk_layout *l, void *chunk)
{
    struct run_chunk_trailer t;
    memset(&t, 0, sizeof t);
    const struct dshq_chunk_header *h = chunk;
    t.magic = RUN_CHUNK_SEAL_MAGIC;
    t.seq = h->seq;
    t.bytes = l->bytes;
    t.checksum = run_chunk_checksum(l, chunk);
    memcpy((unsigned char *)chunk + l->bytes, &t, sizeof t);
}

int run_chunk_verify(const struct dshq_chunk_layout *l, const void *chunk, uint64_t avail)
{
    if (avail < l->bytes + RUN_CHUNK_TRAILER)
        return RUN_CHUNK_ECHECKSUM;
    struct run_chunk_trailer t;
    memcpy(&t, (const unsigned char *)chunk + l->bytes, sizeof t);
    struct dshq_chunk_header h;
    memcpy(&h, chunk, sizeof h);
    if (t.magic != RUN_CHUNK_SEAL_MAGIC || t.bytes != l->bytes || t.seq != h.seq ||
        t.checksum != run_chunk_checksum(l, chunk))
        return RUN_CHUNK_ECHECKSUM;
    return RUN_CHUNK_OK;
}

/* 1 when every float of the n at p is finite and within [lo, hi]. */
static int floats_ok(const unsigned char *p, uint64_t n, float lo, float hi)
{
    for (uint64_t i = 0; i < n; i++) {
        float x;
        memcpy(&x, p + 4 * i, 4); /* one read of shared memory, then the copy */
        if (!(x >= lo && x <= hi)) /* NaN fails both */
            return 0;
    }
    return 1;
}

int run_chunk_validate(const struct dshq_chunk_layout *l, const void *chunk, uint64_t avail,
                       uint32_t workers, uint32_t n_actions, struct dshq_chunk_header *hdr)
{
    if (avail < sizeof *hdr || avail < l->bytes)
        return RUN_CHUNK_EHEADER;
    memcpy(hdr, chunk, sizeof *hdr);
    if (hdr->magic != DSHQ_CHUNK_MAGIC || hdr->version != DSHQ_CHUNK_VERSION ||
        hdr->header_size != sizeof *hdr || hdr->bytes != l->bytes)
        return RUN_CHUNK_EHEADER;
    if (hdr->T != l->T || hdr->E != l->E || hdr->obs_dim != l->obs_dim ||
        hdr->shape_hash != l->shape_hash || hdr->content_hash != l->content_hash)
        return RUN_CHUNK_ESHAPE;
    if (hdr->producer_id >= workers)
        return RUN_CHUNK_EPRODUCER;
    /* From here on, only the run's own layout gives offsets and counts. */
    const unsigned char *c = chunk;
    const uint64_t te = (uint64_t)l->T * l->E;
    for (uint64_t i = 0; i < te; i++) {
        int32_t a;
        memcpy(&a, c + l->off_act + 4 * i, 4);
        if (a < 0 || (uint32_t)a >= n_actions)
            return RUN_CHUNK_EACTION;
    }
    for (uint64_t i = 0; i < te; i++)
        if (c[l->off_done + i] > 1 || c[l->off_trunc + i] > 1)
            return RUN_CHUNK_EFLAG;
    const float M = RUN_CHUNK_FLOAT_MAX;
    if (!floats_ok(c + l->off_obs, te * l->obs_dim, -M, M) ||
        !floats_ok(c + l->off_rew, te, -M, M) || !floats_ok(c + l->off_logp, te, -M, 1e-3f) ||
        !floats_ok(c + l->off_value, te, -M, M) || !floats_ok(c + l->off_final_value, te, -M, M) ||
        !floats_ok(c + l->off_boot_value, l->E, -M, M) ||
        !floats_ok(c + l->off_final_obs, (uint64_t)l->E * l->obs_dim, -M, M))
        return RUN_CHUNK_EFLOAT;
    return RUN_CHUNK_OK;
}
