/* mpsc.c — the MPSC ring: fixed-size slots shared by many producers, one
 * consumer, consumption in reservation order (see dshq/rollout.h).
 *
 * Cursors (free-running 64-bit, compared by unsigned difference):
 *   reserve  positions handed to producers (CAS by every producer)
 *   tail     positions given back by the consumer (consumer only)
 * Position pos lives in slot pos & (capacity - 1); commit[slot] holds
 * pos + 1 once the producer of pos has filled it (0 at creation, the older
 * lap's value otherwise, so a stale word never matches).
 *
 * Protocol of one position:
 *
 *   producer (entry e)                         consumer
 *   --------                                   --------
 *   claim:                                     poll at position pos = read:
 *     r = reserve (relaxed)                      v = commit[pos & mask] (acquire) C1
 *     if r - tail_cache == cap:                  if v == pos + 1: deliver, read++
 *       tail_cache = tail (acquire)       P1     else: reserved = reserve (acquire) C0
 *       (still full: intent = NONE;                 not reserved: empty, sleep
 *        DROP -> FULL, BLOCK -> sleep)              reserved, stuck for a while:
 *     e.intent = r (release)              I1          dead reserver? -> skip pos
 *     CAS reserve r -> r + 1 (acq_rel)    R1        sleep on data_ready
 *   fill slot[r & mask] in place               read the slot in place
 *   commit:                                    release:
 *     commit[r & mask] = r + 1 (release)  P2     tail = seq + 1 (+ skipped) (release) C3
 *     wake(data_ready)                    K      BLOCK: wake(space)                   K
 *
 *   P2 pairs with C1: the consumer that sees the commit word sees the slot.
 *   C3 pairs with P1: a producer that sees room knows the consumer is done
 *   with the slot it is about to reuse.
 *   R1 (release) pairs with C0: a consumer that sees reserve > pos also sees
 *   the intent its reserver stored before the CAS (I1).
 *   I1 (release) pairs with C2, the consumer's acquire loads of intents: a
 *   consumer that sees an intent newer than pos also sees the commit of pos
 *   that came before it.
 *
 * Dead reservations.  A producer that dies between R1 and P2 leaves pos
 * reserved and never committed, and in-order consumption would stop there.
 * Every producer therefore registers in the producer table (an owner word:
 * pid + start time) and states, before it reserves, which position it
 * reserves (intent, I1); it changes intent only after committing that
 * position, or to NONE when it gives up a claim.  When pos stays reserved
 * but uncommitted for DEAD_CHECK_NS, the consumer reads every entry whose
 * intent is pos (C2): if none of them has a live owner, and the commit word
 * still says "not committed" after that scan, the reserver is dead: pos is
 * skipped and `unblocked` counted.  A live producer that merely lost the
 * CAS race for pos also has intent pos for a moment; that only delays the
 * verdict to the next check.  The skipped slot is given back with tail like
 * any other, and the dead producer's half-written bytes are never read.
 *
 * Batches.  dshq_mpsc_claim_batch reserves n consecutive positions with
 * one CAS (intent = the first); commit stores their commit words last to
 * first, the first one last (P2, with the wake).  A consumer reaches a
 * later position of a batch only after it saw the first one committed,
 * and then (P2 release, C1 acquire) it sees the others too, so it can
 * never be stuck inside a live batch; only the first position is ever
 * waited for, and that is the intent.  If the holder dies, the first is
 * skipped as above and each later one has no live intent: skipped too.
 *
 * The cost per slot: one CAS on the shared reserve line, one release store
 * of the producer's intent (its own line), one release store of the commit
 * word, and the wake check; the consumer makes one acquire load per slot
 * and one release store per release. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dshq/error.h"
#include "dshq/rollout.h"
#include "transport/owner.h"
#include "transport/perturb.h"
#include "transport/ring_common.h"

#define INTENT_NONE UINT64_MAX
/* How long a reserved position may stay uncommitted before the consumer
 * checks its reserver's liveness, and how often it checks again. */
#define DEAD_CHECK_NS (2 * 1000 * 1000)
#define STUCK_SLICE_NS (5 * 1000 * 1000)

/* Test hook: a test that compiles this file itself may define it to run
 * code at a labelled step (to build an exact interleaving by hand).  The
 * library never defines it. */
#ifndef MPSC_TEST_HOOK
#define MPSC_TEST_HOOK(step, producer) ((void)0)
#endif
enum { MPSC_STEP_FULL_BY_CACHE = 1 };

struct mpsc_view {
    struct dshq_mpsc_ctrl *ctrl;
    struct dshq_mpsc_entry *entries; /* [max_producers] */
    _Atomic uint64_t *commits;       /* [capacity] */
    unsigned char *slots;            /* [capacity][slot_stride] */
    uint32_t capacity, mask, policy, max_producers;
    uint32_t wake_mode;              /* DSHQ_WAKE_* */
    uint64_t slot_size, stride;
};

struct dshq_mpsc_producer {
    struct mpsc_view v;
    struct dshq_mpsc_entry *e;
    uint32_t index;
    int claimed;
    int cheap;           /* wake: release stores (membarrier mode, registered) */
    uint64_t owner;
    uint64_t pos;        /* the (first) claimed position */
    uint32_t count;      /* positions claimed from pos (1, or a batch) */
    uint64_t tail_cache; /* last tail seen (P1) */
    uint64_t guess;      /* where the next reservation probably starts */
    uint64_t committed, dropped, blocked; /* private copies: single writer */
    struct dshq_region *region; /* short path: the region this handle holds */
};

struct dshq_mpsc_consumer {
    struct mpsc_view v;
    int cheap;           /* wake: release stores (membarrier mode, registered) */
    uint64_t owner;
    uint64_t read;       /* next position to poll */
    uint64_t tail;       /* private copy of ctrl->tail */
    uint64_t consumed, unblocked;
    uint64_t stuck_pos, stuck_since, last_check;
    uint32_t misses;     /* zero-timeout polls that found nothing */
    uint8_t *skipped;    /* [capacity]: position read-ahead of tail was skipped */
    struct dshq_region *region; /* short path: the region this handle holds */
    int creator;         /* 1: closing it destroys the region */
};

/* ----------------------------------------------------------------- layout */

struct mpsc_geom {
    uint64_t stride, entries_offset, commits_offset, slots_offset, size;
};

static int params_geom(const struct dshq_ring_params *p, struct mpsc_geom *g)
{
    if (!p || p->producers == 0 || p->producers > DSHQ_RING_MAX_PRODUCERS ||
        p->capacity == 0 || p->capacity > DSHQ_RING_MAX_CAPACITY ||
        (p->capacity & (p->capacity - 1)) || p->slot_size == 0 ||
        p->slot_size > DSHQ_RING_MAX_SLOT ||
        (p->policy != DSHQ_RING_DROP && p->policy != DSHQ_RING_BLOCK))
        return -EINVAL;
    g->stride = ring_align(p->slot_size, 64);
    g->entries_offset = sizeof(struct dshq_mpsc_ctrl);
    g->commits_offset = g->entries_offset +
                        (uint64_t)p->producers * sizeof(struct dshq_mpsc_entry);
    g->slots_offset = ring_align(g->commits_offset + (uint64_t)p->capacity * 8,
                                 DSHQ_PAGE_ALIGN);
    uint64_t bytes;
    if (__builtin_mul_overflow((uint64_t)p->capacity, g->stride, &bytes) ||
        bytes > (UINT64_C(1) << 46))
        return -EINVAL;
    g->size = g->slots_offset + bytes;
    return 0;
}

uint64_t dshq_mpsc_size(const struct dshq_ring_params *p)
{
    struct mpsc_geom g;
    return params_geom(p, &g) ? 0 : g.size;
}

int dshq_mpsc_init(void *section, uint64_t size, const struct dshq_ring_params *p)
{
    struct mpsc_geom g;
    int rc = params_geom(p, &g);
    if (rc)
        return rc;
    if (!section || ((uintptr_t)section % DSHQ_PAGE_ALIGN))
        return -EINVAL;
    if (size < g.size)
        return -ENOSPC;
    /* Plain stores: unpublished until the creator marks the region ready
     * (or starts the threads that use it). */
    memset(section, 0, g.slots_offset);
    struct dshq_mpsc_ctrl *c = section;
    c->magic = DSHQ_MPSC_MAGIC;
    c->version = DSHQ_MPSC_VERSION;
    c->capacity = p->capacity;
    c->policy = p->policy;
    c->max_producers = p->producers;
    c->slot_size = p->slot_size;
    c->slot_stride = g.stride;
    c->entries_offset = g.entries_offset;
    c->commits_offset = g.commits_offset;
    c->slots_offset = g.slots_offset;
    c->section_size = g.size;
    c->wake_mode = ring_wake_mode_for_new(p->flags);
    struct dshq_mpsc_entry *e = (struct dshq_mpsc_entry *)((unsigned char *)section +
                                                           g.entries_offset);
    for (uint32_t i = 0; i < p->producers; i++)
        atomic_init(&e[i].intent, INTENT_NONE);
    return 0;
}

/* Immutable configuration: validated from a snapshot, offsets recomputed. */
static int view_open(const void *section, uint64_t size, struct mpsc_view *v,
                     struct dshq_ring_params *out)
{
    const struct dshq_mpsc_ctrl *c = section;
    if (!section || size < sizeof *c || ((uintptr_t)section % 64))
        return DSHQ_ECORRUPT;
    struct dshq_ring_params p = {
        .slot_size = c->slot_size, .capacity = c->capacity,
        .producers = c->max_producers, .policy = c->policy,
    };
    struct mpsc_geom g;
    if (c->magic != DSHQ_MPSC_MAGIC || c->version != DSHQ_MPSC_VERSION ||
        params_geom(&p, &g) || c->slot_stride != g.stride ||
        c->entries_offset != g.entries_offset || c->commits_offset != g.commits_offset ||
        c->slots_offset != g.slots_offset || c->section_size != g.size || g.size > size ||
        (c->wake_mode != DSHQ_WAKE_SEQCST && c->wake_mode != DSHQ_WAKE_MEMBARRIER))
        return DSHQ_ECORRUPT;
    if (v) {
        unsigned char *b = (unsigned char *)c;
        v->ctrl = (struct dshq_mpsc_ctrl *)c;
        v->entries = (struct dshq_mpsc_entry *)(b + g.entries_offset);
        v->commits = (_Atomic uint64_t *)(b + g.commits_offset);
        v->slots = b + g.slots_offset;
        v->capacity = p.capacity;
        v->mask = p.capacity - 1;
        v->policy = p.policy;
        v->max_producers = p.producers;
        v->wake_mode = c->wake_mode;
        v->slot_size = p.slot_size;
        v->stride = g.stride;
    }
    if (out)
        *out = p;
    return 0;
}

int dshq_mpsc_check(const void *section, uint64_t size, struct dshq_ring_params *p)
{
    return view_open(section, size, NULL, p);
}

static unsigned char *mpsc_slot(const struct mpsc_view *v, uint64_t pos)
{
    return v->slots + (pos & v->mask) * v->stride;
}

/* --------------------------------------------------------------- producer */

int dshq_mpsc_producer_open(void *section, uint64_t size, struct dshq_mpsc_producer **out)
{
    return dshq_mpsc_producer_open_id(section, size, DSHQ_MPSC_ANY, out);
}

int dshq_mpsc_producer_open_id(void *section, uint64_t size, uint32_t id,
                               struct dshq_mpsc_producer **out)
{
    struct mpsc_view v;
    int rc = view_open(section, size, &v, NULL);
    if (rc)
        return rc;
    struct dshq_mpsc_producer *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->v = v;
    p->owner = dshq_owner_self();
    p->cheap = ring_waker_cheap(v.wake_mode);
    int took_dead = 0;
    if (id != DSHQ_MPSC_ANY && id >= v.max_producers) {
        free(p);
        return -EINVAL;
    }
    int busy = 0;
    for (uint32_t i = id == DSHQ_MPSC_ANY ? 0 : id;
         i < (id == DSHQ_MPSC_ANY ? v.max_producers : id + 1); i++) {
        struct dshq_mpsc_entry *e = &v.entries[i];
        /* Free, or held by a dead process: one CAS decides (owner.h, OW1:
         * acquire pairs with the previous holder's drop, OW2). */
        int took = dshq_owner_take(&e->owner, NULL);
        if (took < 0) {
            busy = 1;
            continue; /* a live holder: try the next entry */
        }
        p->e = e;
        p->index = i;
        took_dead = took == DSHQ_OWNER_TOOK_OVER;
        break;
    }
    if (!p->e) {
        free(p);
        return id != DSHQ_MPSC_ANY && busy ? -EBUSY : DSHQ_ELIMIT;
    }
    struct dshq_mpsc_entry *e = p->e;
    /* I2: release, as I1: a dead predecessor's intent is replaced only
     * after everything it committed is visible. */
    atomic_store_explicit(&e->intent, INTENT_NONE, memory_order_release);
    /* Relaxed: the entry's counters have a single writer, its owner. */
    p->committed = atomic_load_explicit(&e->committed, memory_order_relaxed);
    p->dropped = atomic_load_explicit(&e->dropped, memory_order_relaxed);
    p->blocked = atomic_load_explicit(&e->blocked, memory_order_relaxed);
    if (took_dead)
        atomic_fetch_add_explicit(&e->reclaims, 1, memory_order_relaxed);
    /* P1 (first): acquire pairs with C3. */
    p->tail_cache = atomic_load_explicit(&v.ctrl->tail, memory_order_acquire);
    /* Relaxed: a guess (see claim). */
    p->guess = atomic_load_explicit(&v.ctrl->reserve, memory_order_relaxed);
    *out = p;
    return 0;
}

void dshq_mpsc_producer_close(struct dshq_mpsc_producer *p)
{
    if (!p)
        return;
    /* I2: a claim we still hold is given up; release as I1. */
    atomic_store_explicit(&p->e->intent, INTENT_NONE, memory_order_release);
    /* OW2: release pairs with OW1 of the entry's next owner. */
    dshq_owner_drop(&p->e->owner);
    struct dshq_region *r = p->region;
    free(p);
    ring_short_release(r, 0); /* last: the section lives in it */
}

static int mpsc_has_room(void *arg)
{
    struct dshq_mpsc_producer *p = arg;
    /* P1: acquire pairs with C3 in release/skip; seq_cst as S3 of the wake
     * protocol.  Relaxed reserve: only a hint here, the CAS in claim
     * decides. */
    p->tail_cache = atomic_load_explicit(&p->v.ctrl->tail, memory_order_seq_cst);
    uint64_t r = atomic_load_explicit(&p->v.ctrl->reserve, memory_order_relaxed);
    return r - p->tail_cache < p->v.capacity;
}

static void counter_bump(_Atomic uint64_t *c, uint64_t *mine)
{
    /* Relaxed store of a private running total: single writer (the entry's
     * owner), read only by monitors. */
    atomic_store_explicit(c, ++*mine, memory_order_relaxed);
}

/* Reserves 1..max consecutive positions (as many as there is room for, up
 * to max); 0 with p->pos / p->count set, or DSHQ_RING_FULL. */
static int claim_n(struct dshq_mpsc_producer *p, uint32_t max, int64_t timeout_ns)
{
    struct dshq_mpsc_ctrl *c = p->v.ctrl;
    uint64_t deadline = 0;
    int counted_block = 0;
    if (max > p->v.capacity)
        max = p->v.capacity;
    while (!p->claimed) {
        /* Our own last reservation's end: a guess the CAS below validates
         * (a failed CAS returns the true value).  No load of `reserve`
         * first: on the producers' hot line a load and then a CAS would
         * cost two transfers of the line where the CAS alone costs one. */
        uint64_t r = p->guess;
        uint32_t n = 0;
        for (;;) {
            uint64_t used = r - p->tail_cache;
            if (used >= p->v.capacity || (max > 1 && p->v.capacity - used < max)) {
                MPSC_TEST_HOOK(MPSC_STEP_FULL_BY_CACHE, p);
                DSHQ_PERTURB(); /* between the guess of r and the reload of tail */
                /* P1: acquire pairs with C3. */
                p->tail_cache = atomic_load_explicit(&c->tail, memory_order_acquire);
                used = r - p->tail_cache;
                if (used > (UINT64_C(1) << 63)) {
                    /* tail is past r: while we were between the two loads
                     * others reserved and the consumer released beyond r,
                     * so r is stale (the unsigned difference wrapped).
                     * Relaxed, as above: reserve >= the tail we just
                     * acquired (a release of tail follows the commits of
                     * the positions below it, each after its R1). */
                    r = atomic_load_explicit(&c->reserve, memory_order_relaxed);
                    continue;
                }
                if (used >= p->v.capacity)
                    break; /* full */
            }
            n = p->v.capacity - (uint32_t)used < max ? p->v.capacity - (uint32_t)used : max;
            /* I1: release (see the essay): the consumer may only read this
             * intent once R1 below is visible to it. */
            atomic_store_explicit(&p->e->intent, r, memory_order_release);
            DSHQ_PERTURB(); /* between I1 and R1 */
            /* R1: acq_rel; release pairs with C0 (the intent above is
             * visible to a consumer that sees reserve > r); acquire keeps
             * the chain of reservations ordered. */
            if (atomic_compare_exchange_weak_explicit(&c->reserve, &r, r + n,
                                                      memory_order_acq_rel,
                                                      memory_order_relaxed)) {
                p->pos = r;
                p->count = n;
                p->guess = r + n;
                p->claimed = 1;
                break;
            }
        }
        if (p->claimed)
            break;
        /* Full.  Hold no intent while we are not reserving (I2). */
        atomic_store_explicit(&p->e->intent, INTENT_NONE, memory_order_release);
        if (p->v.policy == DSHQ_RING_DROP) {
            counter_bump(&p->e->dropped, &p->dropped);
            return DSHQ_RING_FULL;
        }
        if (timeout_ns == 0)
            return DSHQ_RING_FULL;
        if (!deadline)
            deadline = ring_deadline(timeout_ns);
        if (ring_spin(mpsc_has_room, p, deadline))
            continue;
        if (!counted_block) {
            counted_block = 1;
            counter_bump(&p->e->blocked, &p->blocked);
        }
        if (!ring_sleep(&c->space, p->v.wake_mode, mpsc_has_room, p, deadline))
            return DSHQ_RING_FULL;
    }
    return 0;
}

static void slot_out(const struct dshq_mpsc_producer *p, uint64_t pos, struct dshq_slot *out)
{
    out->data = mpsc_slot(&p->v, pos);
    out->size = p->v.slot_size;
    out->seq = pos;
    out->lane = p->index;
    out->pad = 0;
}

int dshq_mpsc_claim(struct dshq_mpsc_producer *p, int64_t timeout_ns, struct dshq_slot *out)
{
    int rc = claim_n(p, 1, timeout_ns);
    if (rc)
        return rc;
    DSHQ_PERTURB(); /* between R1 and the fill */
    slot_out(p, p->pos, out);
    return 0;
}

int dshq_mpsc_claim_batch(struct dshq_mpsc_producer *p, uint32_t max, int64_t timeout_ns,
                          struct dshq_slot *slots, uint32_t *count)
{
    *count = 0;
    if (max == 0 || !slots)
        return -EINVAL;
    int rc = claim_n(p, max, timeout_ns);
    if (rc)
        return rc;
    uint32_t n = p->count < max ? p->count : max;
    for (uint32_t i = 0; i < n; i++)
        slot_out(p, p->pos + i, &slots[i]);
    *count = n;
    return 0;
}

/* The MPSC protocol is the essay at the top of this file; in short:
 *
 *   producer                                   consumer
 *   intent = r (release)               I1
 *   CAS reserve r -> r+1 (acq_rel)     R1 ---> reserve (acquire)      C0 (dead check)
 *   fill slot[r & mask]
 *   commit[r & mask] = r+1 (release)   P2 ---> commit[pos] (acquire)  C1
 *   wake(data_ready)                   K       read slot[pos & mask]
 *   tail_cache = tail (acquire)        P1 <--- tail = pos+1 (release) C3
 */
int dshq_mpsc_commit(struct dshq_mpsc_producer *p)
{
    if (!p->claimed)
        return -EINVAL;
    p->claimed = 0;
    DSHQ_PERTURB(); /* between the fill and its publication */
    /* A batch is published last to first: the consumer takes positions in
     * order, so it can only wait on the first one, and once it sees that
     * (P2 below, acquire in C1) it also sees the later ones' words, stored
     * before it with release order (P2b).  One wake per batch. */
    for (uint32_t i = p->count; i-- > 1;)
        atomic_store_explicit(&p->v.commits[(p->pos + i) & p->v.mask], p->pos + i + 1,
                              memory_order_release); /* P2b: pairs with C1 */
    /* P2: release pairs with C1: the slot's bytes before its commit word.
     * Also K1 of the wake protocol (seq_cst, or release plus the sleeper's
     * membarrier). */
    ring_publish(&p->v.commits[p->pos & p->v.mask], p->pos + 1, p->cheap);
    DSHQ_PERTURB(); /* between K1 and K2 */
    ring_wake(&p->v.ctrl->data_ready, p->cheap); /* K2-K4: pairs with S2 of a sleeping poll */
    /* Relaxed store of a private running total (see counter_bump). */
    p->committed += p->count;
    atomic_store_explicit(&p->e->committed, p->committed, memory_order_relaxed);
    return 0;
}

int dshq_mpsc_commit_batch(struct dshq_mpsc_producer *p)
{
    return dshq_mpsc_commit(p);
}

/* --------------------------------------------------------------- consumer */

int dshq_mpsc_consumer_open(void *section, uint64_t size, struct dshq_mpsc_consumer **out)
{
    struct mpsc_view v;
    int rc = view_open(section, size, &v, NULL);
    if (rc)
        return rc;
    struct dshq_mpsc_consumer *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->v = v;
    c->skipped = calloc(v.capacity, 1);
    if (!c->skipped) {
        free(c);
        return -ENOMEM;
    }
    c->owner = dshq_owner_self();
    c->cheap = ring_waker_cheap(v.wake_mode);
    /* Free, or held by a dead consumer (owner.h: one CAS, OW1). */
    if (dshq_owner_take(&v.ctrl->consumer, NULL) < 0) {
        free(c->skipped);
        free(c);
        return -EBUSY;
    }
    /* Relaxed: we are the only writer of these now (OW1 ordered the
     * previous consumer's last stores before us). */
    c->tail = c->read = atomic_load_explicit(&v.ctrl->tail, memory_order_relaxed);
    c->consumed = atomic_load_explicit(&v.ctrl->consumed, memory_order_relaxed);
    c->unblocked = atomic_load_explicit(&v.ctrl->unblocked, memory_order_relaxed);
    c->stuck_pos = UINT64_MAX;
    *out = c;
    return 0;
}

void dshq_mpsc_consumer_close(struct dshq_mpsc_consumer *c)
{
    if (!c)
        return;
    /* OW2: release pairs with OW1 of the next consumer. */
    dshq_owner_drop(&c->v.ctrl->consumer);
    struct dshq_region *r = c->region;
    int creator = c->creator;
    free(c->skipped);
    free(c);
    ring_short_release(r, creator); /* last: the section lives in it */
}

static int committed_at(const struct mpsc_view *v, uint64_t pos)
{
    /* C1: acquire pairs with P2 in commit; seq_cst as S3 of a sleeping poll
     * (a plain load on x86-64). */
    return atomic_load_explicit(&v->commits[pos & v->mask], memory_order_seq_cst) == pos + 1;
}

static void tail_publish(struct dshq_mpsc_consumer *c)
{
    /* C3: release pairs with P1: our reads of the slots below tail are over
     * before a producer sees the room.  Block mode: also K1 of the wake
     * protocol; drop mode has no sleepers. */
    if (c->v.policy == DSHQ_RING_BLOCK) {
        ring_publish(&c->v.ctrl->tail, c->tail, c->cheap);
        ring_wake(&c->v.ctrl->space, c->cheap); /* K2-K4: pairs with S2 of a waiting producer */
    } else {
        atomic_store_explicit(&c->v.ctrl->tail, c->tail, memory_order_release);
    }
}

/* 1 when position pos (reserved, uncommitted) belongs to no live producer. */
static int reserver_dead(const struct mpsc_view *v, uint64_t pos)
{
    for (uint32_t i = 0; i < v->max_producers; i++) {
        struct dshq_mpsc_entry *e = &v->entries[i];
        /* C2: acquire pairs with I1/I2: an intent newer than pos comes with
         * the commit of pos that preceded it. */
        if (atomic_load_explicit(&e->intent, memory_order_acquire) != pos)
            continue;
        /* Acquire pairs with OW1 of a new owner of this entry. */
        if (dshq_owner_alive(atomic_load_explicit(&e->owner, memory_order_acquire)))
            return 0;
    }
    DSHQ_PERTURB(); /* between the scan and the re-check */
    /* Its reserver may have committed and moved on during the scan. */
    return !committed_at(v, pos);
}

static void skip_position(struct dshq_mpsc_consumer *c, uint64_t pos)
{
    c->read = pos + 1;
    /* Relaxed: a counter with one writer, for monitors. */
    atomic_store_explicit(&c->v.ctrl->unblocked, ++c->unblocked, memory_order_relaxed);
    if (c->tail == pos) {
        c->tail = pos + 1;
        tail_publish(c);
    } else {
        c->skipped[pos & c->v.mask] = 1; /* given back by the release before it */
    }
}

struct poll_arg {
    struct dshq_mpsc_consumer *c;
};

static int poll_ready(void *arg)
{
    struct poll_arg *a = arg;
    return committed_at(&a->c->v, a->c->read);
}

int dshq_mpsc_poll(struct dshq_mpsc_consumer *c, int64_t timeout_ns, struct dshq_slot *out)
{
    uint64_t deadline = ring_deadline(timeout_ns);
    int spun = 0;
    for (;;) {
        uint64_t pos = c->read;
        if (committed_at(&c->v, pos)) {
            c->read = pos + 1;
            out->data = mpsc_slot(&c->v, pos);
            out->size = c->v.slot_size;
            out->seq = pos;
            out->lane = 0;
            out->pad = 0;
            return 0;
        }
        /* Wait on the commit word alone first: `reserve` is the producers'
         * hot line, and a consumer reading it at every miss would pull it
         * away from them at every CAS.  It is read only once the spin is
         * over (or at every 16th miss of a zero-timeout poll), which is
         * all the dead-reservation check needs. */
        struct poll_arg a = {c};
        if (timeout_ns != 0 && !spun) {
            spun = 1;
            if (ring_spin(poll_ready, &a, deadline))
                continue;
        } else if (timeout_ns == 0 && (++c->misses & 15) != 0) {
            return DSHQ_RING_EMPTY;
        }
        /* C0: acquire pairs with R1: if pos is reserved, its reserver's
         * intent (I1) is visible to reserver_dead. */
        uint64_t reserved = atomic_load_explicit(&c->v.ctrl->reserve, memory_order_acquire);
        int stuck = reserved - pos - 1 < (UINT64_C(1) << 63); /* reserved > pos */
        uint64_t now = 0;
        if (stuck) {
            now = dshq_now_ns();
            if (c->stuck_pos != pos) {
                c->stuck_pos = pos;
                c->stuck_since = c->last_check = now;
            } else if (now - c->last_check >= DEAD_CHECK_NS) {
                c->last_check = now;
                if (reserver_dead(&c->v, pos)) {
                    skip_position(c, pos);
                    continue;
                }
            }
        }
        if (timeout_ns == 0)
            return DSHQ_RING_EMPTY;
        if (deadline != UINT64_MAX && dshq_now_ns() >= deadline)
            return DSHQ_RING_EMPTY;
        /* Sleep until a commit, the deadline, or (when stuck) the next
         * liveness check. */
        uint64_t until = deadline;
        if (stuck) {
            uint64_t slice = now + STUCK_SLICE_NS;
            if (slice < until)
                until = slice;
        }
        ring_sleep(&c->v.ctrl->data_ready, c->v.wake_mode, poll_ready, &a, until);
    }
}

int dshq_mpsc_release(struct dshq_mpsc_consumer *c, const struct dshq_slot *s)
{
    if (s->seq != c->tail || s->seq >= c->read)
        return -EINVAL;
    uint64_t t = s->seq + 1;
    while (t != c->read && c->skipped[t & c->v.mask]) {
        c->skipped[t & c->v.mask] = 0;
        t++;
    }
    c->tail = t;
    DSHQ_PERTURB(); /* between the reads of the slot and its release */
    /* Relaxed: a counter with one writer, for monitors. */
    atomic_store_explicit(&c->v.ctrl->consumed, ++c->consumed, memory_order_relaxed);
    tail_publish(c);
    return 0;
}

int dshq_mpsc_poll_batch(struct dshq_mpsc_consumer *c, uint32_t max, int64_t timeout_ns,
                         struct dshq_slot *slots, uint32_t *count)
{
    *count = 0;
    if (max == 0 || !slots)
        return -EINVAL;
    int rc = dshq_mpsc_poll(c, timeout_ns, &slots[0]);
    if (rc)
        return rc;
    uint32_t n = 1;
    /* The next ones only if committed already (C1 each): no waiting, no
     * dead check; an uncommitted position ends the batch. */
    while (n < max && c->read - c->tail < c->v.capacity && committed_at(&c->v, c->read)) {
        uint64_t pos = c->read++;
        slots[n].data = mpsc_slot(&c->v, pos);
        slots[n].size = c->v.slot_size;
        slots[n].seq = pos;
        slots[n].lane = 0;
        slots[n].pad = 0;
        n++;
    }
    *count = n;
    return 0;
}

int dshq_mpsc_release_upto(struct dshq_mpsc_consumer *c, const struct dshq_slot *last)
{
    if (last->seq - c->tail >= c->read - c->tail) /* tail <= seq < read */
        return -EINVAL;
    uint64_t n = 0;
    for (uint64_t pos = c->tail; pos != last->seq + 1; pos++) {
        if (c->skipped[pos & c->v.mask])
            c->skipped[pos & c->v.mask] = 0; /* counted in unblocked */
        else
            n++;
    }
    uint64_t t = last->seq + 1;
    while (t != c->read && c->skipped[t & c->v.mask]) {
        c->skipped[t & c->v.mask] = 0;
        t++;
    }
    c->tail = t;
    DSHQ_PERTURB(); /* between the reads of the slots and their release */
    c->consumed += n;
    /* Relaxed: a counter with one writer, for monitors. */
    atomic_store_explicit(&c->v.ctrl->consumed, c->consumed, memory_order_relaxed);
    tail_publish(c); /* C3 (and the wake of a producer waiting for room) */
    return 0;
}

/* ------------------------------------------------------------------ stats */

int dshq_mpsc_stats(const void *section, uint64_t size, struct dshq_ring_stats *out,
                    struct dshq_lane_stats *per_producer, uint32_t max)
{
    struct mpsc_view v;
    int rc = view_open(section, size, &v, NULL);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    out->capacity = v.capacity;
    out->producers = v.max_producers;
    out->policy = v.policy;
    out->slot_size = v.slot_size;
    /* Relaxed loads: a monitor's snapshot of independent counters. */
    uint64_t cw = atomic_load_explicit(&v.ctrl->consumer, memory_order_relaxed);
    out->consumer_pid = cw ? dshq_owner_pid(cw) : 0;
    out->consumer_alive = dshq_owner_alive(cw);
    uint64_t tail = atomic_load_explicit(&v.ctrl->tail, memory_order_relaxed);
    out->reserved = atomic_load_explicit(&v.ctrl->reserve, memory_order_relaxed);
    out->fill = out->reserved - tail;
    out->consumed = atomic_load_explicit(&v.ctrl->consumed, memory_order_relaxed);
    out->unblocked = atomic_load_explicit(&v.ctrl->unblocked, memory_order_relaxed);
    for (uint32_t i = 0; i < v.max_producers; i++) {
        struct dshq_mpsc_entry *e = &v.entries[i];
        struct dshq_lane_stats s;
        memset(&s, 0, sizeof s);
        uint64_t ow = atomic_load_explicit(&e->owner, memory_order_relaxed);
        s.owner_pid = ow ? dshq_owner_pid(ow) : 0;
        s.owner_alive = dshq_owner_alive(ow);
        s.committed = atomic_load_explicit(&e->committed, memory_order_relaxed);
        s.dropped = atomic_load_explicit(&e->dropped, memory_order_relaxed);
        s.blocked = atomic_load_explicit(&e->blocked, memory_order_relaxed);
        s.reclaims = atomic_load_explicit(&e->reclaims, memory_order_relaxed);
        out->committed += s.committed;
        out->dropped += s.dropped;
        out->blocked += s.blocked;
        if (per_producer && i < max)
            per_producer[i] = s;
    }
    return 0;
}

/* ------------------------------------------------------------- short path */

int dshq_mpsc_create(const char *name, const struct dshq_ring_params *p,
                     struct dshq_mpsc_consumer **out)
{
    struct dshq_region *r;
    void *sec;
    uint64_t size;
    int rc = ring_short_create(name, DSHQ_SECTION_MPSC, DSHQ_MPSC_SECTION, dshq_mpsc_size(p), p,
                               dshq_mpsc_init, &r, &sec, &size);
    if (rc)
        return rc;
    if ((rc = dshq_mpsc_consumer_open(sec, size, out)) || (rc = dshq_region_mark_ready(r))) {
        if (!rc)
            dshq_mpsc_consumer_close(*out);
        dshq_region_destroy(r);
        return rc;
    }
    (*out)->region = r;
    (*out)->creator = 1;
    return 0;
}

int dshq_mpsc_producer_attach(const char *name, uint32_t id, struct dshq_mpsc_producer **out)
{
    struct dshq_region *r;
    void *sec;
    uint64_t size;
    int rc = ring_short_attach(name, DSHQ_SECTION_MPSC, DSHQ_MPSC_SECTION, &r, &sec, &size);
    if (rc)
        return rc;
    if ((rc = dshq_mpsc_producer_open_id(sec, size, id, out))) {
        dshq_region_detach(r);
        return rc;
    }
    (*out)->region = r;
    return 0;
}

int dshq_mpsc_consumer_attach(const char *name, struct dshq_mpsc_consumer **out)
{
    struct dshq_region *r;
    void *sec;
    uint64_t size;
    int rc = ring_short_attach(name, DSHQ_SECTION_MPSC, DSHQ_MPSC_SECTION, &r, &sec, &size);
    if (rc)
        return rc;
    if ((rc = dshq_mpsc_consumer_open(sec, size, out))) {
        dshq_region_detach(r);
        return rc;
    }
    (*out)->region = r;
    return 0;
}

void dshq_mpsc_producer_counts(const struct dshq_mpsc_producer *p,
                               struct dshq_producer_counts *out)
{
    /* Our private copies of our entry's counters: no shared access at all. */
    out->committed = p->committed;
    out->dropped = p->dropped;
    out->blocked = p->blocked;
}

uint32_t dshq_mpsc_producer_id(const struct dshq_mpsc_producer *p)
{
    return p->index;
}
