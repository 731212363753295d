/* lane.c — rollout lanes: one single-producer/single-consumer ring of slots
 * per producer, all served by one consumer (see dshq/rollout.h).
 *
 * Each lane is a classic SPSC ring with free-running 64-bit cursors:
 * `head` counts slots committed (written by the lane's producer only),
 * `tail` counts slots released (written by the consumer only).  Slot of
 * position pos: pos & (capacity - 1).  The lane holds head - tail slots;
 * it is full when that equals capacity, empty when it is 0.  Every cursor
 * is compared by unsigned difference, so wrap-around of 2^64 is harmless.
 *
 * Protocol of one slot (one lane):
 *
 *   producer                                 consumer
 *   --------                                 --------
 *   claim:  if head - tail_cache == cap:     poll: if read == head_cache:
 *             tail_cache = tail (acquire) P1         head_cache = head (acquire) C1
 *           (still full: DROP -> FULL,             (still empty: next lane; if
 *            BLOCK -> sleep on lane.space)          none, sleep on data_ready)
 *           claimed = head + 1 (relaxed)           slot = slots[read & mask]; read++
 *   fill slot[head & mask] in place          read the slot in place
 *   commit: head = head + 1 (release)     P2 release: tail = seq + 1 (release)     C3
 *           wake(data_ready)              K        BLOCK: wake(lane.space)        K
 *
 *   P2 pairs with C1: the consumer that sees the new head sees every byte
 *   the producer wrote into the slot before it.
 *   C3 pairs with P1: the producer that sees the new tail knows the
 *   consumer's reads of that slot are over, so it may overwrite it.
 *   K (ring_publish + ring_wake) pairs with the sleeper's arming
 *   (ring_common.h): the head/tail stores that may wake someone are the K1
 *   of that protocol (seq_cst, or release in membarrier wake mode) and the
 *   waker then loads `armed`; nobody about to sleep means no system call
 *   and no read-modify-write, and one sleep costs one notify.
 *
 * A few atomics per slot (one release store each side, one acquire load
 * when the cached cursor runs out, the wake check), none per byte.
 *
 * Crash safety.  The consumer only reads positions below head, and head
 * moves only after the slot is complete, so a producer killed between claim
 * and commit exposes nothing: its half-written slot lies above head and is
 * overwritten by whoever takes the lane over.  Ownership is one owner word
 * (pid + start time, transport/owner.h) taken by one CAS; a new producer takes a
 * lane whose owner is dead, counts the takeover, and counts the abandoned
 * claim when `claimed` shows one.  The consumer restarts the same way: its
 * replacement starts reading at tail, so polled-but-unreleased slots are
 * delivered again (at least once, never lost).
 *
 * Fairness: poll scans the lanes round-robin from the one after the lane it
 * served last, so with every lane busy each gets one slot per round. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dshq/error.h"
#include "dshq/rollout.h"
#include "transport/owner.h"
#include "transport/perturb.h"
#include "transport/ring_common.h"

struct lanes_view {
    struct dshq_lanes_ctrl *ctrl;
    struct dshq_lane_ctrl *lanes;   /* [lane_count] */
    unsigned char *slots;           /* [lane_count][capacity][slot_stride] */
    uint32_t lane_count, capacity, mask, policy;
    uint32_t wake_mode;             /* DSHQ_WAKE_* */
    uint64_t slot_size, stride;
};

struct dshq_lane_producer {
    struct lanes_view v;
    struct dshq_lane_ctrl *lc;
    unsigned char *slots;  /* this lane's slot 0 */
    uint32_t lane;
    int claimed;           /* a slot is claimed, not yet committed */
    int cheap;             /* wake: release stores (membarrier mode, registered) */
    uint64_t owner;        /* our owner word */
    uint64_t head;         /* private copy of lc->head: we are its only writer */
    uint64_t tail_cache;   /* last tail seen (P1) */
    struct dshq_region *region; /* short path: the region this handle holds */
    int creator;
};

struct dshq_lane_consumer {
    struct lanes_view v;
    int cheap;             /* wake: release stores (membarrier mode, registered) */
    uint64_t owner;
    uint32_t next;         /* lane to scan first */
    uint64_t *read;        /* [lane_count] next position to poll */
    uint64_t *tail;        /* [lane_count] private copy of lanes[i].tail */
    uint64_t *head_cache;  /* [lane_count] last head seen (C1) */
    struct dshq_region *region; /* short path: the region this handle holds */
    int creator;           /* 1: closing it destroys the region */
};

/* ----------------------------------------------------------------- layout */

struct lanes_geom {
    uint64_t stride, lanes_offset, slots_offset, size;
};

static int params_geom(const struct dshq_ring_params *p, struct lanes_geom *g)
{
    if (!p || p->producers == 0 || p->producers > DSHQ_RING_MAX_PRODUCERS ||
        p->capacity == 0 || p->capacity > DSHQ_RING_MAX_CAPACITY ||
        (p->capacity & (p->capacity - 1)) || p->slot_size == 0 ||
        p->slot_size > DSHQ_RING_MAX_SLOT ||
        (p->policy != DSHQ_RING_DROP && p->policy != DSHQ_RING_BLOCK))
        return -EINVAL;
    g->stride = ring_align(p->slot_size, 64);
    g->lanes_offset = sizeof(struct dshq_lanes_ctrl);
    g->slots_offset = ring_align(g->lanes_offset +
                                 (uint64_t)p->producers * sizeof(struct dshq_lane_ctrl),
                                 DSHQ_PAGE_ALIGN);
    uint64_t n = (uint64_t)p->producers * p->capacity, bytes;
    if (__builtin_mul_overflow(n, g->stride, &bytes) || bytes > (UINT64_C(1) << 46))
        return -EINVAL;
    g->size = g->slots_offset + bytes;
    return 0;
}

uint64_t dshq_lanes_size(const struct dshq_ring_params *p)
{
    struct lanes_geom g;
    return params_geom(p, &g) ? 0 : g.size;
}

int dshq_lanes_init(void *section, uint64_t size, const struct dshq_ring_params *p)
{
    struct lanes_geom g;
    int rc = params_geom(p, &g);
    if (rc)
        return rc;
    if (!section || ((uintptr_t)section % DSHQ_PAGE_ALIGN))
        return -EINVAL;
    if (size < g.size)
        return -ENOSPC;
    /* Control blocks only: the slots need no initial value.  Plain stores:
     * nobody else may look at the section until the creator publishes it
     * (dshq_region_mark_ready, or starting the threads that use it). */
    memset(section, 0, g.slots_offset);
    struct dshq_lanes_ctrl *c = section;
    c->magic = DSHQ_LANES_MAGIC;
    c->version = DSHQ_LANES_VERSION;
    c->lane_count = p->producers;
    c->capacity = p->capacity;
    c->policy = p->policy;
    c->slot_size = p->slot_size;
    c->slot_stride = g.stride;
    c->lanes_offset = g.lanes_offset;
    c->slots_offset = g.slots_offset;
    c->section_size = g.size;
    c->wake_mode = ring_wake_mode_for_new(p->flags);
    return 0;
}

/* Validates the immutable configuration and builds a private view.  The
 * configuration is written before the region goes READY and never again,
 * so plain loads of a snapshot are enough; every derived offset is
 * recomputed rather than trusted. */
static int view_open(const void *section, uint64_t size, struct lanes_view *v,
                     struct dshq_ring_params *out)
{
    const struct dshq_lanes_ctrl *c = section;
    if (!section || size < sizeof *c || ((uintptr_t)section % 64))
        return DSHQ_ECORRUPT;
    struct dshq_ring_params p = {
        .slot_size = c->slot_size, .capacity = c->capacity,
        .producers = c->lane_count, .policy = c->policy,
    };
    struct lanes_geom g;
    if (c->magic != DSHQ_LANES_MAGIC || c->version != DSHQ_LANES_VERSION ||
        params_geom(&p, &g) || c->slot_stride != g.stride ||
        c->lanes_offset != g.lanes_offset || c->slots_offset != g.slots_offset ||
        c->section_size != g.size || g.size > size ||
        (c->wake_mode != DSHQ_WAKE_SEQCST && c->wake_mode != DSHQ_WAKE_MEMBARRIER))
        return DSHQ_ECORRUPT;
    if (v) {
        v->ctrl = (struct dshq_lanes_ctrl *)c;
        v->lanes = (struct dshq_lane_ctrl *)((unsigned char *)c + g.lanes_offset);
        v->slots = (unsigned char *)c + g.slots_offset;
        v->lane_count = p.producers;
        v->capacity = p.capacity;
        v->mask = p.capacity - 1;
        v->policy = p.policy;
        v->wake_mode = c->wake_mode;
        v->slot_size = p.slot_size;
        v->stride = g.stride;
    }
    if (out)
        *out = p;
    return 0;
}

int dshq_lanes_check(const void *section, uint64_t size, struct dshq_ring_params *p)
{
    return view_open(section, size, NULL, p);
}

static unsigned char *lane_slot(const struct lanes_view *v, uint32_t lane, uint64_t pos)
{
    return v->slots + ((uint64_t)lane * v->capacity + (pos & v->mask)) * v->stride;
}

/* --------------------------------------------------------------- producer */

int dshq_lane_producer_open(void *section, uint64_t size, uint32_t lane,
                            struct dshq_lane_producer **out)
{
    struct lanes_view v;
    int rc = view_open(section, size, &v, NULL);
    if (rc)
        return rc;
    if (lane >= v.lane_count)
        return -EINVAL;
    struct dshq_lane_producer *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->v = v;
    p->lane = lane;
    p->lc = &v.lanes[lane];
    p->slots = lane_slot(&v, lane, 0);
    p->owner = dshq_owner_self();
    p->cheap = ring_waker_cheap(v.wake_mode);
    rc = dshq_owner_take(&p->lc->owner, NULL);
    if (rc < 0) {
        free(p);
        return rc;
    }
    /* Acquire: the dead owner's last head is the one the consumer sees. */
    p->head = atomic_load_explicit(&p->lc->head, memory_order_acquire);
    if (rc == 1) {
        /* Relaxed counters: we are the lane's only writer now. */
        atomic_fetch_add_explicit(&p->lc->reclaims, 1, memory_order_relaxed);
        if (atomic_load_explicit(&p->lc->claimed, memory_order_relaxed) != p->head)
            atomic_fetch_add_explicit(&p->lc->abandoned, 1, memory_order_relaxed);
    }
    /* Relaxed: informative (inspect, takeover accounting), publishes nothing. */
    atomic_store_explicit(&p->lc->claimed, p->head, memory_order_relaxed);
    /* P1 (first): acquire pairs with C3. */
    p->tail_cache = atomic_load_explicit(&p->lc->tail, memory_order_acquire);
    *out = p;
    return 0;
}

void dshq_lane_producer_close(struct dshq_lane_producer *p)
{
    if (!p)
        return;
    if (p->claimed) /* relaxed: see claimed in open */
        atomic_store_explicit(&p->lc->claimed, p->head, memory_order_relaxed);
    dshq_owner_drop(&p->lc->owner);
    struct dshq_region *r = p->region;
    int creator = p->creator;
    free(p);
    ring_short_release(r, creator); /* last: the section lives in it */
}

static int lane_has_room(void *arg)
{
    struct dshq_lane_producer *p = arg;
    /* P1: acquire pairs with C3 in dshq_lane_release; seq_cst because this
     * is also S3, the sleeper's test (ring_common.h). */
    p->tail_cache = atomic_load_explicit(&p->lc->tail, memory_order_seq_cst);
    return p->head - p->tail_cache < p->v.capacity;
}

int dshq_lane_claim(struct dshq_lane_producer *p, int64_t timeout_ns,
                    struct dshq_slot *out)
{
    if (!p->claimed && p->head - p->tail_cache >= p->v.capacity && !lane_has_room(p)) {
        /* The lane is full. */
        if (p->v.policy == DSHQ_RING_DROP) {
            /* Relaxed load + store: single writer (the owner), a counter. */
            atomic_store_explicit(&p->lc->dropped,
                                  atomic_load_explicit(&p->lc->dropped, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            return DSHQ_RING_FULL;
        }
        if (timeout_ns == 0)
            return DSHQ_RING_FULL;
        uint64_t deadline = ring_deadline(timeout_ns);
        if (!ring_spin(lane_has_room, p, deadline)) {
            atomic_store_explicit(&p->lc->blocked,
                                  atomic_load_explicit(&p->lc->blocked, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            if (!ring_sleep(&p->lc->space, p->v.wake_mode, lane_has_room, p, deadline))
                return DSHQ_RING_FULL;
        }
    }
    DSHQ_PERTURB(); /* between the room check and the fill */
    if (!p->claimed) {
        p->claimed = 1;
        /* Relaxed: informative only (see open). */
        atomic_store_explicit(&p->lc->claimed, p->head + 1, memory_order_relaxed);
    }
    out->data = p->slots + (p->head & p->v.mask) * p->v.stride;
    out->size = p->v.slot_size;
    out->seq = p->head;
    out->lane = p->lane;
    out->pad = 0;
    return 0;
}

/* The lane protocol is the essay at the top of this file; in short:
 *
 *   producer                            consumer
 *   fill slot[head & mask]
 *   head = head + 1 (release)   P2 ---> head_cache = head (acquire)   C1
 *   wake(data_ready)            K       read slot[read & mask]
 *   tail_cache = tail (acquire) P1 <--- tail = seq + 1 (release)      C3
 *   overwrite the slot                  wake(lane.space) if BLOCK     K
 */
int dshq_lane_commit(struct dshq_lane_producer *p)
{
    if (!p->claimed)
        return -EINVAL;
    p->claimed = 0;
    p->head++;
    DSHQ_PERTURB(); /* between the fill and its publication */
    /* P2: release pairs with C1 in poll: the slot's bytes before the head
     * that covers them.  It is also K1 of the wake protocol (seq_cst, or
     * release plus the sleeper's membarrier). */
    ring_publish(&p->lc->head, p->head, p->cheap);
    DSHQ_PERTURB(); /* between K1 and K2 */
    ring_wake(&p->v.ctrl->data_ready, p->cheap); /* K2-K4: pairs with S2 of a sleeping poll */
    return 0;
}

/* --------------------------------------------------------------- consumer */

int dshq_lane_consumer_open(void *section, uint64_t size, struct dshq_lane_consumer **out)
{
    struct lanes_view v;
    int rc = view_open(section, size, &v, NULL);
    if (rc)
        return rc;
    struct dshq_lane_consumer *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->v = v;
    c->read = calloc(v.lane_count, sizeof *c->read);
    c->tail = calloc(v.lane_count, sizeof *c->tail);
    c->head_cache = calloc(v.lane_count, sizeof *c->head_cache);
    if (!c->read || !c->tail || !c->head_cache) {
        rc = -ENOMEM;
        goto fail;
    }
    c->owner = dshq_owner_self();
    c->cheap = ring_waker_cheap(v.wake_mode);
    rc = dshq_owner_take(&v.ctrl->consumer, NULL);
    if (rc < 0)
        goto fail;
    for (uint32_t i = 0; i < v.lane_count; i++) {
        /* Relaxed: we are the only writer of tail; the take (OW1, acquire)
         * ordered the previous consumer's last stores before us. */
        c->tail[i] = atomic_load_explicit(&v.lanes[i].tail, memory_order_relaxed);
        c->read[i] = c->head_cache[i] = c->tail[i];
    }
    *out = c;
    return 0;
fail:
    free(c->read);
    free(c->tail);
    free(c->head_cache);
    free(c);
    return rc;
}

void dshq_lane_consumer_close(struct dshq_lane_consumer *c)
{
    if (!c)
        return;
    dshq_owner_drop(&c->v.ctrl->consumer);
    struct dshq_region *r = c->region;
    int creator = c->creator;
    free(c->read);
    free(c->tail);
    free(c->head_cache);
    free(c);
    ring_short_release(r, creator); /* last: the section lives in it */
}

/* One round-robin pass; 1 and *out when a lane had a committed slot. */
static int lanes_scan(struct dshq_lane_consumer *c, struct dshq_slot *out)
{
    uint32_t n = c->v.lane_count;
    uint32_t i = c->next;
    for (uint32_t k = 0; k < n; k++, i = (i + 1 == n) ? 0 : i + 1) {
        uint64_t pos = c->read[i];
        if (pos == c->head_cache[i]) {
            /* C1: acquire pairs with P2 in commit; seq_cst because this is
             * also S3 of a sleeping poll (a plain load on x86-64). */
            c->head_cache[i] = atomic_load_explicit(&c->v.lanes[i].head, memory_order_seq_cst);
            if (pos == c->head_cache[i])
                continue;
        }
        c->read[i] = pos + 1;
        c->next = (i + 1 == n) ? 0 : i + 1;
        out->data = lane_slot(&c->v, i, pos);
        out->size = c->v.slot_size;
        out->seq = pos;
        out->lane = i;
        out->pad = 0;
        return 1;
    }
    return 0;
}

struct poll_arg {
    struct dshq_lane_consumer *c;
    struct dshq_slot *out;
};

static int lanes_ready(void *arg)
{
    struct poll_arg *a = arg;
    return lanes_scan(a->c, a->out);
}

int dshq_lane_poll(struct dshq_lane_consumer *c, int64_t timeout_ns, struct dshq_slot *out)
{
    if (lanes_scan(c, out))
        return 0;
    if (timeout_ns == 0)
        return DSHQ_RING_EMPTY;
    struct poll_arg a = {c, out};
    uint64_t deadline = ring_deadline(timeout_ns);
    if (ring_spin(lanes_ready, &a, deadline))
        return 0;
    return ring_sleep(&c->v.ctrl->data_ready, c->v.wake_mode, lanes_ready, &a, deadline)
               ? 0 : DSHQ_RING_EMPTY;
}

int dshq_lane_release(struct dshq_lane_consumer *c, const struct dshq_slot *s)
{
    uint32_t i = s->lane;
    if (i >= c->v.lane_count || s->seq != c->tail[i] || s->seq >= c->read[i])
        return -EINVAL;
    struct dshq_lane_ctrl *lc = &c->v.lanes[i];
    c->tail[i] = s->seq + 1;
    DSHQ_PERTURB(); /* between the reads of the slot and its release */
    /* C3: release pairs with P1: our reads of the slot are done before the
     * producer sees the room and overwrites it.  In block mode it is also
     * K1 of the wake protocol; drop mode has no sleepers. */
    if (c->v.policy == DSHQ_RING_BLOCK) {
        ring_publish(&lc->tail, c->tail[i], c->cheap);
        ring_wake(&lc->space, c->cheap); /* K2-K4: pairs with S2 of a producer waiting for room */
    } else {
        atomic_store_explicit(&lc->tail, c->tail[i], memory_order_release);
    }
    return 0;
}

/* ------------------------------------------------------------------ stats */

int dshq_lanes_stats(const void *section, uint64_t size, struct dshq_ring_stats *out,
                     struct dshq_lane_stats *per_lane, uint32_t max)
{
    struct lanes_view v;
    int rc = view_open(section, size, &v, NULL);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->capacity = v.capacity;
    out->producers = v.lane_count;
    out->policy = v.policy;
    out->slot_size = v.slot_size;
    /* Relaxed loads throughout: a monitor's snapshot, each value a counter
     * read on its own; nothing is read through them. */
    uint64_t cw = atomic_load_explicit(&v.ctrl->consumer, memory_order_relaxed);
    out->consumer_pid = cw ? dshq_owner_pid(cw) : 0;
    out->consumer_alive = dshq_owner_alive(cw);
    for (uint32_t i = 0; i < v.lane_count; i++) {
        struct dshq_lane_ctrl *lc = &v.lanes[i];
        struct dshq_lane_stats s;
        uint64_t ow = atomic_load_explicit(&lc->owner, memory_order_relaxed);
        s.owner_pid = ow ? dshq_owner_pid(ow) : 0;
        s.owner_alive = dshq_owner_alive(ow);
        /* tail first: then head >= tail even if both move meanwhile. */
        s.consumed = atomic_load_explicit(&lc->tail, memory_order_relaxed);
        s.committed = atomic_load_explicit(&lc->head, memory_order_relaxed);
        s.fill = s.committed - s.consumed;
        s.claimed = atomic_load_explicit(&lc->claimed, memory_order_relaxed) != s.committed;
        s.dropped = atomic_load_explicit(&lc->dropped, memory_order_relaxed);
        s.blocked = atomic_load_explicit(&lc->blocked, memory_order_relaxed);
        s.reclaims = atomic_load_explicit(&lc->reclaims, memory_order_relaxed);
        s.abandoned = atomic_load_explicit(&lc->abandoned, memory_order_relaxed);
        out->committed += s.committed;
        out->consumed += s.consumed;
        out->fill += s.fill;
        out->dropped += s.dropped;
        out->blocked += s.blocked;
        out->unblocked += s.abandoned;
        if (per_lane && i < max)
            per_lane[i] = s;
    }
    return 0;
}

/* ------------------------------------------------------------- short path */

int dshq_lanes_create(const char *name, const struct dshq_ring_params *p,
                      struct dshq_lane_consumer **out)
{
    struct dshq_region *r;
    void *sec;
    uint64_t size;
    int rc = ring_short_create(name, DSHQ_SECTION_LANES, DSHQ_LANES_SECTION, dshq_lanes_size(p),
                               p, dshq_lanes_init, &r, &sec, &size);
    if (rc)
        return rc;
    if ((rc = dshq_lane_consumer_open(sec, size, out)) || (rc = dshq_region_mark_ready(r))) {
        if (!rc)
            dshq_lane_consumer_close(*out);
        dshq_region_destroy(r);
        return rc;
    }
    (*out)->region = r;
    (*out)->creator = 1;
    return 0;
}

int dshq_lane_producer_attach(const char *name, uint32_t lane, struct dshq_lane_producer **out)
{
    struct dshq_region *r;
    void *sec;
    uint64_t size;
    int rc = ring_short_attach(name, DSHQ_SECTION_LANES, DSHQ_LANES_SECTION, &r, &sec, &size);
    if (rc)
        return rc;
    if ((rc = dshq_lane_producer_open(sec, size, lane, out))) {
        dshq_region_detach(r);
        return rc;
    }
    (*out)->region = r;
    return 0;
}

int dshq_lane_consumer_attach(const char *name, struct dshq_lane_consumer **out)
{
    struct dshq_region *r;
    void *sec;
    uint64_t size;
    int rc = ring_short_attach(name, DSHQ_SECTION_LANES, DSHQ_LANES_SECTION, &r, &sec, &size);
    if (rc)
        return rc;
    if ((rc = dshq_lane_consumer_open(sec, size, out))) {
        dshq_region_detach(r);
        return rc;
    }
    (*out)->region = r;
    return 0;
}

void dshq_lane_producer_counts(const struct dshq_lane_producer *p,
                               struct dshq_producer_counts *out)
{
    /* Relaxed loads of our own lane's producer line (we are the only
     * writer of these counters): no other lane, no liveness probe. */
    out->committed = p->head;
    out->dropped = atomic_load_explicit(&p->lc->dropped, memory_order_relaxed);
    out->blocked = atomic_load_explicit(&p->lc->blocked, memory_order_relaxed);
}
