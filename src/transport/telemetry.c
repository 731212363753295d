/* telemetry.c — latest-value blob under a seqlock, plus heartbeat slots
 * (dshq/telemetry.h).
 *
 * The blob is a seqlock in the form that the C11 memory model blesses
 * without fences (Boehm, "Can seqlocks get along with programming language
 * memory models?", 2012): the writer stores every guarded word with release
 * order after making seq odd, and the reader loads every guarded word with
 * acquire order before re-reading seq.  On x86-64 release stores and acquire
 * loads are plain moves, so this costs what a memcpy costs, and there is no
 * data race for ThreadSanitizer to report (and no fence, which GCC's TSan
 * cannot model).  A reader retries a torn copy a bounded number of times.
 *
 * Each heartbeat slot uses the same scheme with its own 32-bit seq for the
 * identity fields (role, index, pid, start time), which change only when a
 * process registers or unregisters; the heartbeat itself is one relaxed
 * store by the owner. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dshq/hash.h"
#include "dshq/region.h"
#include "dshq/telemetry.h"
#include "transport/owner.h"
#include "dshq/wait.h"
#include "transport/perturb.h"

struct dshq_telemetry {
    struct dshq_telemetry_ctrl *ctrl;
    _Atomic uint64_t *blob;             /* [blob_capacity / 8] */
    struct dshq_heartbeat_slot *slots;  /* [slot_count] */
    int writer;                         /* holds the writer role */
};

static uint64_t round64(uint64_t x)
{
    return (x + 63) & ~UINT64_C(63);
}

int dshq_telemetry_bytes_check(uint32_t blob_capacity, uint32_t slots, uint64_t *bytes)
{
    if (blob_capacity == 0 || blob_capacity > DSHQ_TELEMETRY_MAX_BLOB)
        return DSHQ_EBLOBSIZE;
    if (slots > DSHQ_TELEMETRY_MAX_SLOTS)
        return DSHQ_ESLOTCOUNT;
    if (bytes)
        *bytes = sizeof(struct dshq_telemetry_ctrl) + round64(blob_capacity) +
                 (uint64_t)slots * sizeof(struct dshq_heartbeat_slot);
    return 0;
}

uint64_t dshq_telemetry_bytes(uint32_t blob_capacity, uint32_t slots)
{
    uint64_t bytes = 0;
    return dshq_telemetry_bytes_check(blob_capacity, slots, &bytes) ? 0 : bytes;
}

uint64_t dshq_telemetry_shape_hash(void)
{
    return dshq_shape_hash(DSHQ_TELEMETRY_SHAPE_STRING);
}

int dshq_telemetry_init(void *mem, uint64_t size, uint32_t blob_capacity, uint32_t slots)
{
    uint64_t need = dshq_telemetry_bytes(blob_capacity, slots);
    if (!mem || !need || ((uintptr_t)mem & 63))
        return -EINVAL;
    if (size < need)
        return -ENOSPC;
    memset(mem, 0, need); /* seq 0: nothing published; every slot free */
    struct dshq_telemetry_ctrl *c = mem;
    c->magic = DSHQ_TELEMETRY_MAGIC;
    c->version = DSHQ_TELEMETRY_VERSION;
    c->blob_capacity = (uint32_t)round64(blob_capacity);
    c->slot_count = slots;
    c->blob_offset = sizeof *c;
    c->slots_offset = sizeof *c + c->blob_capacity;
    return 0;
}

/* Written-once fields, each bounded before it is used. */
static int ctrl_check(const void *mem, uint64_t size)
{
    const struct dshq_telemetry_ctrl *c = mem;
    if (!mem || size < sizeof *c || ((uintptr_t)mem & 7))
        return -EINVAL;
    if (c->magic != DSHQ_TELEMETRY_MAGIC)
        return DSHQ_EMAGIC;
    if (c->version != DSHQ_TELEMETRY_VERSION || c->blob_capacity == 0 ||
        c->blob_capacity > round64(DSHQ_TELEMETRY_MAX_BLOB) || (c->blob_capacity & 63) ||
        c->slot_count > DSHQ_TELEMETRY_MAX_SLOTS || c->blob_offset != sizeof *c ||
        c->slots_offset != c->blob_offset + c->blob_capacity)
        return DSHQ_ECORRUPT;
    if (size < c->slots_offset + (uint64_t)c->slot_count * sizeof(struct dshq_heartbeat_slot))
        return DSHQ_ESIZE;
    return 0;
}

static _Atomic uint64_t *blob_of(const void *mem)
{
    const struct dshq_telemetry_ctrl *c = mem;
    return (_Atomic uint64_t *)((unsigned char *)mem + c->blob_offset);
}

static struct dshq_heartbeat_slot *slots_of(const void *mem)
{
    const struct dshq_telemetry_ctrl *c = mem;
    return (struct dshq_heartbeat_slot *)((unsigned char *)mem + c->slots_offset);
}

/* The writer role: one owner word (transport/owner.h), CAS from free or
 * from the very word of a dead writer: of several processes taking over at
 * once exactly one wins.  Acquire (OW1) pairs with the release in detach
 * (OW2): we continue from the seq the previous writer left. */
static int writer_take(struct dshq_telemetry_ctrl *c)
{
    int rc = dshq_owner_take(&c->writer, NULL);
    return rc < 0 ? rc : 0;
}

int dshq_telemetry_attach(void *mem, uint64_t size, unsigned flags,
                          struct dshq_telemetry **out)
{
    int rc = ctrl_check(mem, size);
    if (rc)
        return rc;
    if (flags & ~(unsigned)DSHQ_TELEMETRY_WRITER)
        return -EINVAL;
    struct dshq_telemetry *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->ctrl = mem;
    t->blob = blob_of(mem);
    t->slots = slots_of(mem);
    if (flags & DSHQ_TELEMETRY_WRITER) {
        rc = writer_take(t->ctrl);
        if (rc) {
            free(t);
            return rc;
        }
        t->writer = 1;
    }
    *out = t;
    return 0;
}

void dshq_telemetry_detach(struct dshq_telemetry *t)
{
    if (!t)
        return;
    if (t->writer) {
        /* OW2: release pairs with OW1 in writer_take. */
        dshq_owner_drop(&t->ctrl->writer);
    }
    free(t);
}

/* Protocol of the telemetry blob (docs/channels.md, "Telemetry").
 *
 *   writer (one process)                    reader (any number, read-only map)
 *   --------------------                    ----------------------------------
 *   s = seq (own value; odd -> s+1:         s1 = seq                     (R1 acq)
 *         a dead writer left it odd)        s1 == 0: nothing yet (-ENODATA)
 *   seq = s+1 (odd)           (W1 relaxed)  s1 odd: retry
 *   shape, size, pid, time    (W2 release)  shape, size, pid, time     (R2 acq)
 *   blob words                (W2 release)  blob words                 (R2 acq)
 *   seq = s+2 (even)          (W3 release)  s2 = seq               (R3 relaxed)
 *                                           s2 != s1: retry (at most READ_TRIES)
 *
 * R1 pairs with W3: a reader that sees s+2 sees the whole publication.  R2
 * pairs with W2: a reader that loads any word of a LATER publication
 * happens-after that publication's W1, so R3 cannot read a value older than
 * its odd seq, and the copy is discarded.  The writer never waits. */
int dshq_telemetry_publish(struct dshq_telemetry *t, uint64_t shape_hash,
                           const void *blob, uint32_t len)
{
    struct dshq_telemetry_ctrl *c = t->ctrl;
    if (!t->writer)
        return -EPERM;
    if (len > c->blob_capacity || (len && !blob))
        return -EMSGSIZE;
    /* Relaxed: the writer role makes us seq's only writer, and its acquire
     * (writer_take) ordered us after the previous writer's last store. */
    uint64_t s = atomic_load_explicit(&c->seq, memory_order_relaxed);
    if (s & 1)
        s++;
    /* W1 relaxed: ordered before every guarded word by their release. */
    atomic_store_explicit(&c->seq, s + 1, memory_order_relaxed);
    DSHQ_PERTURB();
    /* W2 release: pairs with R2. */
    atomic_store_explicit(&c->shape_hash, shape_hash, memory_order_release);
    atomic_store_explicit(&c->size, len, memory_order_release);
    atomic_store_explicit(&c->published_by, (int32_t)getpid(), memory_order_release);
    atomic_store_explicit(&c->published_ns, dshq_now_ns(), memory_order_release);
    const unsigned char *src = blob;
    uint32_t words = (len + 7) / 8;
    for (uint32_t i = 0; i < words; i++) {
        uint64_t w = 0;
        uint32_t n = len - i * 8 < 8 ? len - i * 8 : 8;
        memcpy(&w, src + (size_t)i * 8, n);
        atomic_store_explicit(&t->blob[i], w, memory_order_release); /* W2 */
        if (i == words / 2)
            DSHQ_PERTURB();
    }
    /* W3 release: pairs with R1. */
    atomic_store_explicit(&c->seq, s + 2, memory_order_release);
    return 0;
}

static void backoff(uint32_t tries)
{
    if (tries >= 8)
        sched_yield();
}

int dshq_telemetry_read(const void *mem, uint64_t size, uint64_t expected_shape,
                        void *out, uint32_t cap, struct dshq_telemetry_info *info)
{
    int rc = ctrl_check(mem, size);
    if (rc)
        return rc;
    struct dshq_telemetry_ctrl *c = (struct dshq_telemetry_ctrl *)mem;
    _Atomic uint64_t *blob = blob_of(mem);
    struct dshq_telemetry_info tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    unsigned char *dst = out;
    for (uint32_t tries = 1; tries <= DSHQ_TELEMETRY_READ_TRIES; backoff(tries++)) {
        uint64_t s1 = atomic_load_explicit(&c->seq, memory_order_acquire); /* R1 */
        if (s1 == 0)
            return -ENODATA;
        if (s1 & 1)
            continue;
        /* R2 acquire: pairs with W2. */
        uint64_t shape = atomic_load_explicit(&c->shape_hash, memory_order_acquire);
        uint32_t len = atomic_load_explicit(&c->size, memory_order_acquire);
        int32_t by = atomic_load_explicit(&c->published_by, memory_order_acquire);
        uint64_t when = atomic_load_explicit(&c->published_ns, memory_order_acquire);
        rc = 0;
        if (len > c->blob_capacity)
            rc = DSHQ_ECORRUPT;
        else if (expected_shape && shape != expected_shape)
            rc = DSHQ_ESHAPE;
        else if (len > cap)
            rc = -EMSGSIZE;
        else {
            uint32_t words = (len + 7) / 8;
            for (uint32_t i = 0; i < words; i++) {
                uint64_t w = atomic_load_explicit(&blob[i], memory_order_acquire); /* R2 */
                uint32_t n = len - i * 8 < 8 ? len - i * 8 : 8;
                memcpy(dst + (size_t)i * 8, &w, n);
                if (i == words / 2)
                    DSHQ_PERTURB();
            }
        }
        /* R3 relaxed: kept after every R2 load by their acquire order. */
        if (atomic_load_explicit(&c->seq, memory_order_relaxed) != s1)
            continue;
        uint64_t now = dshq_now_ns();
        info->publications = s1 / 2;
        info->shape_hash = shape;
        info->published_ns = when;
        info->age_ns = now > when ? now - when : 0;
        info->size = len;
        info->writer_pid = by;
        info->tries = tries;
        /* Relaxed: informative liveness of the role's holder. */
        uint64_t holder = atomic_load_explicit(&c->writer, memory_order_relaxed);
        info->writer_alive = dshq_owner_alive(holder) ? DSHQ_CREATOR_ALIVE : DSHQ_CREATOR_DEAD;
        return rc ? rc : (int)len;
    }
    return -EAGAIN;
}

/* ------------------------------------------------------------ heartbeats */

/* Rewrites a slot's identity under its seqlock (owner only).  H2/H3 pair
 * with S1/S2 in dshq_telemetry_heartbeats. */
static void slot_write(struct dshq_heartbeat_slot *s, uint32_t role, uint32_t index,
                       int32_t pid, uint64_t ticks, uint64_t now)
{
    /* Relaxed: the owner CAS (acquire) made us the slot's only writer. */
    uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
    if (q & 1)
        q++; /* a registrant died mid-write */
    atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed); /* H1: odd */
    /* H2 release: pairs with S2. */
    atomic_store_explicit(&s->role, role, memory_order_release);
    atomic_store_explicit(&s->index, index, memory_order_release);
    atomic_store_explicit(&s->pid, pid, memory_order_release);
    atomic_store_explicit(&s->start_ticks, ticks, memory_order_release);
    atomic_store_explicit(&s->registered_ns, now, memory_order_release);
    atomic_store_explicit(&s->heartbeat_ns, now, memory_order_release);
    atomic_store_explicit(&s->beats, 0, memory_order_release);
    /* H3 release: pairs with S1. */
    atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

int dshq_telemetry_register(struct dshq_telemetry *t, uint32_t role, uint32_t index)
{
    struct dshq_telemetry_ctrl *c = t->ctrl;
    int32_t me = getpid();
    uint64_t ticks = dshq_process_start_ticks(me);
    for (uint32_t i = 0; i < c->slot_count; i++) {
        struct dshq_heartbeat_slot *s = &t->slots[i];
        /* H0 (owner.h OW1): one CAS on the slot's owner word, from free or
         * from the very word of a dead owner; exactly one of several
         * registrants wins.  Acquire pairs with H4 (OW2) of the previous
         * owner: we write after it is done. */
        if (dshq_owner_take(&s->owner, NULL) < 0)
            continue;
        slot_write(s, role, index, me, ticks, dshq_now_ns());
        return (int)i;
    }
    return DSHQ_ELIMIT;
}

static struct dshq_heartbeat_slot *own_slot(struct dshq_telemetry *t, int slot, int *rc)
{
    if (slot < 0 || (uint32_t)slot >= t->ctrl->slot_count) {
        *rc = -EINVAL;
        return NULL;
    }
    struct dshq_heartbeat_slot *s = &t->slots[slot];
    /* Relaxed: only this process ever stores its own word here. */
    if (!dshq_owner_held(&s->owner)) {
        *rc = DSHQ_EDEAD;
        return NULL;
    }
    *rc = 0;
    return s;
}

int dshq_telemetry_beat(struct dshq_telemetry *t, int slot)
{
    int rc;
    struct dshq_heartbeat_slot *s = own_slot(t, slot, &rc);
    if (!s)
        return rc;
    /* Relaxed: single writer (the owner); a reader wants a recent value and
     * nothing else is published through these two words. */
    atomic_store_explicit(&s->heartbeat_ns, dshq_now_ns(), memory_order_relaxed);
    atomic_store_explicit(&s->beats, atomic_load_explicit(&s->beats, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    return 0;
}

int dshq_telemetry_unregister(struct dshq_telemetry *t, int slot)
{
    int rc;
    struct dshq_heartbeat_slot *s = own_slot(t, slot, &rc);
    if (!s)
        return rc;
    slot_write(s, 0, 0, 0, 0, 0);
    /* H4 (OW2) release: pairs with H0 in register. */
    dshq_owner_drop(&s->owner);
    return 0;
}

/* Reads one slot's identity and beat consistently.  1: occupied (copied),
 * 0: empty, -EAGAIN: torn too often. */
static int slot_read(struct dshq_heartbeat_slot *s, struct dshq_heartbeat *h)
{
    for (uint32_t tries = 1; tries <= DSHQ_TELEMETRY_READ_TRIES; backoff(tries++)) {
        uint32_t q1 = atomic_load_explicit(&s->seq, memory_order_acquire); /* S1: pairs with H3 */
        if (q1 & 1)
            continue;
        /* S2 acquire: pairs with H2. */
        h->role = atomic_load_explicit(&s->role, memory_order_acquire);
        h->index = atomic_load_explicit(&s->index, memory_order_acquire);
        h->pid = atomic_load_explicit(&s->pid, memory_order_acquire);
        h->start_ticks = atomic_load_explicit(&s->start_ticks, memory_order_acquire);
        h->registered_ns = atomic_load_explicit(&s->registered_ns, memory_order_acquire);
        h->heartbeat_ns = atomic_load_explicit(&s->heartbeat_ns, memory_order_acquire);
        h->beats = atomic_load_explicit(&s->beats, memory_order_acquire);
        /* Relaxed: kept after the S2 loads by their acquire order. */
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) != q1)
            continue;
        return h->pid != 0;
    }
    return -EAGAIN;
}

int dshq_telemetry_heartbeats(const void *mem, uint64_t size, struct dshq_heartbeat *out,
                              uint32_t max)
{
    int rc = ctrl_check(mem, size);
    if (rc)
        return rc;
    const struct dshq_telemetry_ctrl *c = mem;
    struct dshq_heartbeat_slot *slots = slots_of(mem);
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->slot_count && n < max; i++) {
        struct dshq_heartbeat h;
        memset(&h, 0, sizeof h);
        rc = slot_read(&slots[i], &h);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        uint64_t now = dshq_now_ns();
        h.slot = i;
        h.age_ns = now > h.heartbeat_ns ? now - h.heartbeat_ns : 0;
        h.alive = dshq_process_alive(h.pid, h.start_ticks);
        out[n++] = h;
    }
    return (int)n;
}
