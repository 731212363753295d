/* weights_util.h — helpers shared by the tests of the weights channel:
 * a region holding one weights section (plus a small raw section for test
 * bookkeeping), and the snapshot pattern.
 *
 * Snapshot pattern: float i of the snapshot published as version v is an
 * integer below 2^24 (exact in float32) mixed from v and i, so a view with
 * any float from another version, or a half-written one, fails
 * weights_verify at that float. */
#ifndef DSHQ_TESTS_WEIGHTS_UTIL_H
#define DSHQ_TESTS_WEIGHTS_UTIL_H

#include <stdint.h>

#include "check.h"
#include "dshq/hash.h"
#include "dshq/region.h"
#include "dshq/weights.h"

#define WT_SECTION "policy"

static inline float weights_pattern(uint64_t v, uint64_t i)
{
    uint32_t x = (uint32_t)(v * 2654435761u) ^ (uint32_t)(i * 2246822519u) ^ (uint32_t)(v >> 7);
    return (float)(x & 0xffffffu);
}

static inline void weights_fill(float *p, uint64_t n, uint64_t v)
{
    for (uint64_t i = 0; i < n; i++)
        p[i] = weights_pattern(v, i);
}

/* Index of the first float that does not belong to version v, or n. */
static inline uint64_t weights_verify(const float *p, uint64_t n, uint64_t v)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i] != weights_pattern(v, i))
            return i;
    return n;
}

/* The step the tests stamp on version v. */
static inline uint64_t weights_step(uint64_t v)
{
    return v * 1000 + 7;
}

struct wt_region {
    struct dshq_region *r;
    void *sec;
    uint64_t size;
    void *raw; /* raw_bytes of test bookkeeping (zeroed) */
};

/* Creates a region (named when name != NULL, else anonymous) with a weights
 * section of params floats and readers slots, initialized with shape_hash,
 * and a raw section; marks it ready. */
static inline void wt_create(struct wt_region *w, const char *name, uint64_t params,
                             uint32_t readers, uint64_t shape_hash, uint64_t raw_bytes)
{
    struct dshq_layout l;
    dshq_layout_init(&l);
    uint64_t bytes = dshq_weights_layout(params, readers);
    CHECK(bytes != 0);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_WEIGHTS, WT_SECTION, DSHQ_WEIGHTS_VERSION, bytes,
                          DSHQ_PAGE_ALIGN, shape_hash) >= 0);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_RAW, "test", 1, raw_bytes ? raw_bytes : 64, 64, 0) >= 0);
    if (name)
        CHECK_EQ_INT(dshq_region_create(name, &l, 0, &w->r), 0);
    else
        CHECK_EQ_INT(dshq_region_create_anon(&l, &w->r), 0);
    CHECK_EQ_INT(dshq_region_find(w->r, DSHQ_SECTION_WEIGHTS, WT_SECTION, shape_hash, &w->sec,
                                  &w->size), 0);
    CHECK_EQ_INT(dshq_region_find(w->r, DSHQ_SECTION_RAW, "test", 0, &w->raw, NULL), 0);
    CHECK_EQ_INT(dshq_weights_init(w->sec, w->size, params, readers, shape_hash), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(w->r), 0);
}

/* Attaches to a named region made by wt_create (in a child process). */
static inline void wt_attach(struct wt_region *w, const char *name)
{
    CHECK_EQ_INT(dshq_region_attach(name, 0, DSHQ_ABI_MINOR, &w->r), 0);
    CHECK_EQ_INT(dshq_region_find(w->r, DSHQ_SECTION_WEIGHTS, WT_SECTION, 0, &w->sec, &w->size), 0);
    CHECK_EQ_INT(dshq_region_find(w->r, DSHQ_SECTION_RAW, "test", 0, &w->raw, NULL), 0);
}

/* Publishes version (expected) filled with its pattern; checks the version. */
static inline void wt_publish(struct dshq_weights_writer *w, uint64_t n, uint64_t version)
{
    float *p;
    CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
    CHECK(((uintptr_t)p & 4095) == 0);
    weights_fill(p, n, version);
    CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(version)), (int64_t)version);
}

#endif
