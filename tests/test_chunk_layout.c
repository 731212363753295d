/* test_chunk_layout.c — the chunk offsets match the formulas of chunk.h and
 * docs/abi.md: a hand-computed case, a sweep of shapes (order, alignment, no
 * overlap, no waste beyond alignment), typed views, stamp/check and the
 * self-describing header, and refused shapes. */
#include <errno.h>

#include "check.h"
#include "dshq/chunk.h"
#include "dshq/error.h"
#include "dshq/hash.h"

static uint64_t a64(uint64_t x)
{
    return (x + 63) / 64 * 64;
}

static void hand_case(void)
{
    struct dshq_chunk_layout l;
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 2, 3, 5, 0), 0);
    /* T=2 E=3 D=5: T*E = 6, T*E*D = 30 (worked out by hand). */
    CHECK_EQ_U64(l.off_obs, 64);         /* 64 + 120 = 184 */
    CHECK_EQ_U64(l.off_act, 192);        /* 192 + 24 = 216 */
    CHECK_EQ_U64(l.off_rew, 256);        /* 256 + 24 = 280 */
    CHECK_EQ_U64(l.off_done, 320);       /* 320 + 6 = 326 */
    CHECK_EQ_U64(l.off_trunc, 384);      /* 384 + 6 = 390 */
    CHECK_EQ_U64(l.off_logp, 448);       /* 448 + 24 = 472 */
    CHECK_EQ_U64(l.off_value, 512);       /* 512 + 24 = 536 */
    CHECK_EQ_U64(l.off_final_value, 576); /* 576 + 24 = 600 */
    CHECK_EQ_U64(l.off_boot_value, 640);  /* 640 + 12 = 652 */
    CHECK_EQ_U64(l.off_final_obs, 704);   /* 704 + 60 = 764 */
    CHECK_EQ_U64(l.bytes, 768);
    CHECK_EQ_U64(l.shape_hash,
                 dshq_shape_hash("chunk/v1;t=2;e=3;obs_dim=5;content=0000000000000000"));

    /* A typical rollout window: T=128 E=64 D=32. */
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 128, 64, 32, UINT64_C(0xabcdef)), 0);
    CHECK_EQ_U64(l.off_act, 1048640);
    CHECK_EQ_U64(l.off_rew, 1081408);
    CHECK_EQ_U64(l.off_done, 1114176);
    CHECK_EQ_U64(l.off_trunc, 1122368);
    CHECK_EQ_U64(l.off_logp, 1130560);
    CHECK_EQ_U64(l.off_value, 1163328);
    CHECK_EQ_U64(l.off_final_value, 1196096);
    CHECK_EQ_U64(l.off_boot_value, 1228864);
    CHECK_EQ_U64(l.off_final_obs, 1229120);
    CHECK_EQ_U64(l.bytes, 1237312);
    CHECK_EQ_U64(l.shape_hash,
                 dshq_shape_hash("chunk/v1;t=128;e=64;obs_dim=32;content=0000000000abcdef"));
}

/* Every shape: the formulas, and the properties they are meant to give. */
static void sweep(void)
{
    static const uint32_t dims[] = {1, 2, 3, 7, 8, 13, 16, 31, 64, 65, 100, 257};
    const size_t n = sizeof dims / sizeof dims[0];
    /* Big enough for the largest shape; never touched, so never resident. */
    unsigned char *base = aligned_alloc(64, UINT64_C(72) << 20);
    CHECK(base);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
            for (size_t c = 0; c < n; c++) {
                uint32_t T = dims[a], E = dims[b], D = dims[c];
                uint64_t te = (uint64_t)T * E;
                struct dshq_chunk_layout l;
                CHECK_EQ_INT(dshq_chunk_layout_init(&l, T, E, D, 7), 0);
                CHECK(l.T == T && l.E == E && l.obs_dim == D && l.content_hash == 7);
                uint64_t off[11] = {0,          l.off_obs,   l.off_act,  l.off_rew,
                                    l.off_done, l.off_trunc, l.off_logp, l.off_value,
                                    l.off_final_value, l.off_boot_value, l.off_final_obs};
                uint64_t len[11] = {64,     4 * te * D, 4 * te,          4 * te,
                                    te,     te,         4 * te,          4 * te,
                                    4 * te, 4 * (uint64_t)E, 4 * (uint64_t)E * D};
                for (int i = 1; i < 11; i++) {
                    CHECK_EQ_U64(off[i] % 64, 0);
                    CHECK_EQ_U64(off[i], a64(off[i - 1] + len[i - 1])); /* the formula */
                }
                CHECK_EQ_U64(l.bytes, a64(off[10] + len[10]));
                CHECK_EQ_U64(l.bytes % 64, 0);

                /* Views point where the offsets say. */
                CHECK(l.bytes <= UINT64_C(72) << 20);
                struct dshq_chunk_view v;
                dshq_chunk_view(&l, base, &v);
                CHECK((unsigned char *)v.hdr == base);
                CHECK((unsigned char *)v.obs == base + l.off_obs);
                CHECK((unsigned char *)v.act == base + l.off_act);
                CHECK((unsigned char *)v.rew == base + l.off_rew);
                CHECK(v.done == base + l.off_done);
                CHECK(v.trunc == base + l.off_trunc);
                CHECK((unsigned char *)v.logp == base + l.off_logp);
                CHECK((unsigned char *)v.value == base + l.off_value);
                CHECK((unsigned char *)v.final_value == base + l.off_final_value);
                CHECK((unsigned char *)v.boot_value == base + l.off_boot_value);
                CHECK((unsigned char *)v.final_obs == base + l.off_final_obs);
                CHECK(dshq_chunk_obs(&l, base) == v.obs);
                CHECK(dshq_chunk_act(&l, base) == v.act);
                CHECK(dshq_chunk_rew(&l, base) == v.rew);
                CHECK(dshq_chunk_done(&l, base) == v.done);
                CHECK(dshq_chunk_trunc(&l, base) == v.trunc);
                CHECK(dshq_chunk_logp(&l, base) == v.logp);
                CHECK(dshq_chunk_value(&l, base) == v.value);
                CHECK(dshq_chunk_final_value(&l, base) == v.final_value);
                CHECK(dshq_chunk_boot_value(&l, base) == v.boot_value);
                CHECK(dshq_chunk_final_obs(&l, base) == v.final_obs);
                CHECK(dshq_chunk_hdr(base) == v.hdr);
            }
    free(base);
}

/* Writing every element through the view touches each byte of the arrays
 * exactly once and nothing of the header. */
static void coverage(void)
{
    struct dshq_chunk_layout l;
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 5, 3, 7, 0), 0);
    unsigned char *buf = aligned_alloc(64, l.bytes);
    unsigned char *count = calloc(l.bytes, 1);
    CHECK(buf && count);
    memset(buf, 0, l.bytes);
    struct dshq_chunk_view v;
    dshq_chunk_view(&l, buf, &v);
#define MARK(ptr, n)                                                            \
    for (uint64_t i_ = 0; i_ < (uint64_t)(n) * sizeof *(ptr); i_++)             \
        count[(unsigned char *)(ptr) - buf + i_]++
    MARK(v.obs, 5 * 3 * 7);
    MARK(v.act, 5 * 3);
    MARK(v.rew, 5 * 3);
    MARK(v.done, 5 * 3);
    MARK(v.trunc, 5 * 3);
    MARK(v.logp, 5 * 3);
    MARK(v.value, 5 * 3);
    MARK(v.final_value, 5 * 3);
    MARK(v.boot_value, 3);
    MARK(v.final_obs, 3 * 7);
#undef MARK
    uint64_t used = 0;
    for (uint64_t i = 0; i < l.bytes; i++) {
        CHECK(count[i] <= 1);
        if (i < 64)
            CHECK_EQ_INT(count[i], 0);
        used += count[i];
    }
    CHECK_EQ_U64(used, 4 * 105 + 4 * 15 * 5 + 2 * 15 + 4 * 3 + 4 * 21);
    /* [t][e][k] indexing: the last obs element ends where obs ends. */
    CHECK((unsigned char *)&v.obs[(4 * 3 + 2) * 7 + 6] + 4 == buf + 64 + 4 * 105);
    free(buf);
    free(count);
}

static void stamp_and_check(void)
{
    struct dshq_chunk_layout l, m, back;
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 4, 2, 3, 99), 0);
    unsigned char *c = aligned_alloc(64, l.bytes);
    CHECK(c);
    memset(c, 0xee, l.bytes);
    dshq_chunk_stamp(&l, c, 17, 12345, 678);
    const struct dshq_chunk_header *h = (const void *)c;
    CHECK_EQ_U64(h->magic, DSHQ_CHUNK_MAGIC);
    CHECK_EQ_INT(h->version, DSHQ_CHUNK_VERSION);
    CHECK_EQ_INT(h->header_size, 64);
    CHECK_EQ_INT(h->producer_id, 17);
    CHECK_EQ_U64(h->seq, 12345);
    CHECK_EQ_U64(h->policy_version, 678);
    CHECK_EQ_U64(h->shape_hash, l.shape_hash);
    CHECK_EQ_INT(h->T, 4);
    CHECK_EQ_INT(h->E, 2);
    CHECK_EQ_INT(h->obs_dim, 3);
    CHECK_EQ_U64(h->bytes, l.bytes);
    CHECK_EQ_U64(h->content_hash, 99);
    CHECK_EQ_INT(c[64], 0xee); /* the stamp wrote the header only */

    CHECK_EQ_INT(dshq_chunk_check(&l, c, l.bytes), 0);
    CHECK_EQ_INT(dshq_chunk_check(&l, c, l.bytes - 1), DSHQ_ECORRUPT); /* too short */
    CHECK_EQ_INT(dshq_chunk_check(&l, c, 63), DSHQ_ECORRUPT);
    CHECK_EQ_INT(dshq_chunk_layout_init(&m, 4, 2, 3, 98), 0); /* other content */
    CHECK_EQ_INT(dshq_chunk_check(&m, c, l.bytes), DSHQ_ESHAPE);
    CHECK_EQ_INT(dshq_chunk_layout_init(&m, 2, 4, 3, 99), 0); /* same size, other shape */
    CHECK_EQ_U64(m.bytes, l.bytes);
    CHECK_EQ_INT(dshq_chunk_check(&m, c, l.bytes), DSHQ_ESHAPE);

    /* A consumer that did not know the shape rebuilds it from the header. */
    CHECK_EQ_INT(dshq_chunk_layout_from_header(&back, c, l.bytes), 0);
    CHECK(memcmp(&back, &l, sizeof l) == 0);
    ((struct dshq_chunk_header *)c)->T = 5; /* lies about its shape */
    CHECK_EQ_INT(dshq_chunk_layout_from_header(&back, c, 1 << 20), DSHQ_ECORRUPT);
    ((struct dshq_chunk_header *)c)->T = 4;
    ((struct dshq_chunk_header *)c)->magic ^= 1;
    CHECK_EQ_INT(dshq_chunk_check(&l, c, l.bytes), DSHQ_ECORRUPT);
    CHECK_EQ_INT(dshq_chunk_layout_from_header(&back, c, l.bytes), DSHQ_ECORRUPT);
    free(c);
}

static void refused(void)
{
    struct dshq_chunk_layout l;
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 0, 1, 1, 0), -EINVAL);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 1, 0, 1, 0), -EINVAL);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 1, 1, 0, 0), -EINVAL);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, UINT32_MAX, UINT32_MAX, UINT32_MAX, 0), DSHQ_ELIMIT);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 1u << 20, 1u << 20, 1, 0), DSHQ_ELIMIT);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 1u << 14, 1u << 14, 1u << 14, 0), DSHQ_ELIMIT);
    CHECK_EQ_U64(l.bytes, 0);
}

int main(void)
{
    hand_case();
    sweep();
    coverage();
    stamp_and_check();
    refused();
    return 0;
}
