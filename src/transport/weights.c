/* weights.c — the weights channel (see dshq/weights.h): one writer publishes
 * float32 snapshots; readers adopt the newest in place, copy-free, and keep
 * an untorn view for as long as they like.
 *
 * Why the seed's two-buffer flip tears.  The writer fills the inactive
 * buffer and flips; a reader switches its pointer when it sees the new
 * version.  Publish twice while a reader still reads the older buffer, and
 * the second publish fills exactly that buffer under the reader's eyes.
 *
 * What we do instead.  Each reader owns a slot in shared memory and PINS the
 * buffer it reads there (`pins`, held half).  The writer fills only a buffer
 * that is neither active nor held by any slot; there are max_readers + 2
 * buffers, so with at most one pin per slot plus the active one, at least
 * one buffer is always free: the writer never waits and never asks readers.
 *
 * The one race is between a reader that reads current = (b, v) and pins b,
 * and the writer that has meanwhile moved away from b and is choosing a
 * buffer to fill: the writer may have scanned the slots before the pin was
 * visible.  Three things close it, and make adopt finish whatever the
 * writer does:
 *   - Dekker pair.  The reader stores a CLAIM (pending half), fences
 *     (seq_cst), and re-reads `current`; the commit stores `current`, and
 *     the writer's next begin fences (seq_cst) before scanning the slots.
 *     Either the reader sees the `current` of the commit that moved off b
 *     (and moves its claim to the newer buffer), or the writer's scan sees
 *     the claim.  `current` carries the version, so "unchanged" means "no
 *     commit at all", with no ABA.
 *   - A claim is only a claim.  While it is pending the reader still holds
 *     its old view, which a shape refusal must keep; if claims counted as
 *     pins the writer could need 2R + 2 buffers.  So the writer may
 *     REDIRECT a pending claim (CAS pending -> its active buffer, marked
 *     GRANT, with a fresh tag) and the reader PROMOTES its claim to the
 *     held pin by a CAS of the same word: exactly one of the two wins.
 *   - Help.  The writer redirects not only claims on the buffer it wants
 *     but every claim the reader made itself: a reader whose claims keep
 *     going stale because commits land between its load and its re-check
 *     (a fast writer, a reader preempted) is handed the newest snapshot by
 *     the first begin that sees its claim, and takes it (R8).  The writer
 *     never refills a buffer a grant points at without redirecting the
 *     grant first (with a new tag), so a reader's CAS on the very grant it
 *     read proves the stamp it read.
 * A commit in flight never hides the snapshot before it: `current` changes
 * in one store, after the buffer is filled and stamped.  The seed's control
 * words (active_idx, version, step_counter, shape_hash) still change
 * together under `seq`, for copy-out hints, stats and inspection.
 *
 * Dead readers: a slot records its owner's pid and start time; a reclaim
 * (the writer's publish_begin every second, a reader attach that finds every
 * slot taken, or anyone calling dshq_weights_reclaim) frees the slot of a
 * dead owner and its pin.  Dead writer: the next writer takes over and
 * repairs a commit left half done (seq odd) from the active buffer's stamp.
 *
 * Copy-out: every buffer has its own seqlock word, odd while the writer
 * fills it; dshq_weights_copy_out copies the active buffer and keeps the
 * copy only when that word was even and unchanged around the copy. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dshq/error.h"
#include "dshq/hash.h"
#include "dshq/region.h"
#include "dshq/wait.h"
#include "dshq/weights.h"
#include "transport/owner.h"
#include "transport/perturb.h"

#define CTRL_BYTES ((uint64_t)sizeof(struct dshq_weights_ctrl))
#define ADOPT_TRIES 64          /* adopt re-checks before DSHQ_WEIGHTS_BUSY */
#define COPY_TRIES 64           /* copy-out attempts before -EAGAIN */
#define GRANT_TAG_SHIFT 9
#define GRANT_TAG_MASK 0x7fffffu    /* 23 bits of tag in a pending half */
#define RECLAIM_PERIOD_NS 1000000000ull /* the writer looks for dead readers */

struct dshq_weights {
    struct dshq_region *region; /* the short path's region, or NULL */
    int creator;                /* the short path created it: close destroys */
    unsigned char *base;
    uint64_t size;
    struct dshq_weights_ctrl *ctrl;
    struct dshq_weights_buf *bufs;   /* [nbuf] */
    struct dshq_weights_slot *slots; /* [nslots] */
    unsigned char *data;             /* [nbuf][stride] */
    uint64_t stride;
    uint64_t param_count;
    uint32_t nbuf, nslots;
};

struct dshq_weights_writer {
    struct dshq_weights *ch;
    uint64_t owner;       /* our owner word */
    uint64_t seq;         /* ctrl->seq as we last stored it (even) */
    uint64_t version;     /* newest version committed */
    uint64_t shape_hash;  /* stamped on the next commits */
    uint32_t last;        /* buffer of the newest snapshot (== active_idx) */
    uint32_t filling;     /* buffer begun and not committed, or NONE */
    uint64_t fill_seq;    /* its buffer seq (odd) while filling */
    uint32_t grant_tag;   /* changes with every redirect (W3) */
    uint64_t next_reclaim_ns;
};

struct dshq_weights_reader {
    struct dshq_weights *ch;
    struct dshq_weights_slot *slot;
    uint32_t index;
    uint64_t expected_shape;
    uint64_t seen_cur;    /* ctrl->current at the last decided adopt ... */
    int seen_rc;          /* ... and its outcome (SAME or DSHQ_ESHAPE) */
    int seen_valid;
    uint64_t adoptions, refusals;
    struct dshq_weights_view view; /* held view; buffer NONE: none */
};

/* --------------------------------------------------------------- helpers */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline uint64_t pins_pack(uint32_t held, uint32_t pending)
{
    return (uint64_t)held | (uint64_t)pending << 32;
}
static inline uint32_t pins_held(uint64_t p) { return (uint32_t)p; }
static inline uint32_t pins_pending(uint64_t p) { return (uint32_t)(p >> 32); }
#define PINS_NONE pins_pack(DSHQ_WEIGHTS_NONE, DSHQ_WEIGHTS_NONE)

/* Owner words are the library's one-word owner protocol (transport/owner.h). */
#define owner_self dshq_owner_self
#define owner_pid dshq_owner_pid
#define owner_alive dshq_owner_alive

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

struct geometry {
    uint64_t bufs_offset, slots_offset, data_offset, data_stride, size;
    uint32_t buffer_count;
};

static int geometry(uint64_t params, uint32_t readers, struct geometry *g)
{
    if (params == 0 || params > DSHQ_WEIGHTS_MAX_PARAMS)
        return DSHQ_EPARAMCOUNT;
    if (readers == 0 || readers > DSHQ_WEIGHTS_MAX_READERS)
        return DSHQ_EREADERS;
    g->buffer_count = readers + 2;
    g->bufs_offset = CTRL_BYTES;
    g->slots_offset = g->bufs_offset + (uint64_t)g->buffer_count * sizeof(struct dshq_weights_buf);
    g->data_offset = align_up(g->slots_offset + (uint64_t)readers * sizeof(struct dshq_weights_slot),
                              DSHQ_PAGE_ALIGN);
    g->data_stride = align_up(params * sizeof(float), DSHQ_PAGE_ALIGN);
    g->size = g->data_offset + (uint64_t)g->buffer_count * g->data_stride;
    return 0;
}

static inline float *buffer_ptr(const struct dshq_weights *ch, uint32_t b)
{
    return (float *)(ch->data + (uint64_t)b * ch->stride);
}

/* ---------------------------------------------------------------- creator */

uint64_t dshq_weights_layout(uint64_t param_count, uint32_t max_readers)
{
    struct geometry g;
    return geometry(param_count, max_readers, &g) ? 0 : g.size;
}

int dshq_weights_layout_check(uint64_t param_count, uint32_t max_readers, uint64_t *bytes)
{
    struct geometry g;
    int rc = geometry(param_count, max_readers, &g);
    if (rc == 0 && bytes)
        *bytes = g.size;
    return rc;
}

int dshq_weights_init(void *section, uint64_t size, uint64_t param_count,
                      uint32_t max_readers, uint64_t shape_hash)
{
    struct geometry g;
    if (geometry(param_count, max_readers, &g))
        return -EINVAL;
    if (!section || (uintptr_t)section % DSHQ_PAGE_ALIGN)
        return -EINVAL;
    if (size < g.size)
        return -ENOSPC;
    /* Control block, stamps and slots; the snapshot buffers are left as they
     * are (fresh shared memory is zero, and nobody reads them before a
     * commit). */
    memset(section, 0, g.data_offset);
    struct dshq_weights_ctrl *c = section;
    c->magic = DSHQ_WEIGHTS_MAGIC;
    c->layout_version = DSHQ_WEIGHTS_VERSION;
    c->max_readers = max_readers;
    c->buffer_count = g.buffer_count;
    c->param_count = param_count;
    c->bufs_offset = g.bufs_offset;
    c->slots_offset = g.slots_offset;
    c->data_offset = g.data_offset;
    c->data_stride = g.data_stride;
    c->section_size = g.size;
    /* Relaxed, here and below: nothing is published yet; the region's READY
     * store (C1 in region.c) orders all of it for attachers. */
    atomic_store_explicit(&c->shape_hash, shape_hash, memory_order_relaxed);
    struct dshq_weights_slot *slots = (void *)((unsigned char *)section + g.slots_offset);
    for (uint32_t i = 0; i < max_readers; i++)
        atomic_store_explicit(&slots[i].pins, PINS_NONE, memory_order_relaxed);
    return 0;
}

/* ---------------------------------------------------------------- channel */

int dshq_weights_open(void *section, uint64_t size, struct dshq_weights **out)
{
    const struct dshq_weights_ctrl *c = section;
    struct geometry g;
    if (!section || size < CTRL_BYTES || c->magic != DSHQ_WEIGHTS_MAGIC)
        return DSHQ_ECORRUPT;
    if (c->layout_version != DSHQ_WEIGHTS_VERSION)
        return DSHQ_EABIMAJOR;
    /* Never trust a recorded offset: recompute the geometry and compare. */
    if (geometry(c->param_count, c->max_readers, &g) ||
        c->buffer_count != g.buffer_count || c->bufs_offset != g.bufs_offset ||
        c->slots_offset != g.slots_offset || c->data_offset != g.data_offset ||
        c->data_stride != g.data_stride || c->section_size != g.size || size < g.size ||
        (uintptr_t)section % DSHQ_PAGE_ALIGN)
        return DSHQ_ECORRUPT;
    struct dshq_weights *ch = calloc(1, sizeof *ch);
    if (!ch)
        return -ENOMEM;
    ch->base = section;
    ch->size = size;
    ch->ctrl = section;
    ch->bufs = (void *)(ch->base + g.bufs_offset);
    ch->slots = (void *)(ch->base + g.slots_offset);
    ch->data = ch->base + g.data_offset;
    ch->stride = g.data_stride;
    ch->param_count = c->param_count;
    ch->nbuf = g.buffer_count;
    ch->nslots = c->max_readers;
    *out = ch;
    return 0;
}

void dshq_weights_close(struct dshq_weights *ch)
{
    if (!ch)
        return;
    if (ch->region) {
        if (ch->creator)
            dshq_region_destroy(ch->region);
        else
            dshq_region_detach(ch->region);
    }
    free(ch);
}

/* ------------------------------------------------------------ short path */

int dshq_weights_create(const char *name, uint64_t nfloats, uint32_t max_readers,
                        struct dshq_weights **out)
{
    uint64_t bytes;
    int rc = dshq_weights_layout_check(nfloats, max_readers, &bytes);
    if (rc)
        return rc;
    uint64_t shape = dshq_weights_shape_hash(nfloats);
    struct dshq_layout l;
    dshq_layout_init(&l);
    dshq_layout_add(&l, DSHQ_SECTION_WEIGHTS, DSHQ_WEIGHTS_SECTION, DSHQ_WEIGHTS_VERSION, bytes,
                    DSHQ_PAGE_ALIGN, shape);
    struct dshq_region *r;
    rc = dshq_region_create(name, &l, DSHQ_CREATE_REPLACE_STALE, &r);
    if (rc)
        return rc;
    void *sec;
    uint64_t size;
    if ((rc = dshq_region_find(r, DSHQ_SECTION_WEIGHTS, DSHQ_WEIGHTS_SECTION, 0, &sec, &size)) ||
        (rc = dshq_weights_init(sec, size, nfloats, max_readers, shape)) ||
        (rc = dshq_region_mark_ready(r)) || (rc = dshq_weights_open(sec, size, out))) {
        dshq_region_destroy(r);
        return rc;
    }
    (*out)->region = r;
    (*out)->creator = 1;
    return 0;
}

int dshq_weights_attach(const char *name, struct dshq_weights **out)
{
    struct dshq_region *r;
    int rc = dshq_region_attach(name, 0, 0, &r);
    if (rc)
        return rc;
    void *sec = NULL;
    uint64_t size = 0;
    rc = dshq_region_find(r, DSHQ_SECTION_WEIGHTS, DSHQ_WEIGHTS_SECTION, 0, &sec, &size);
    if (rc == DSHQ_ENOSECTION) {
        /* Not made by dshq_weights_create: the region's first weights
         * section, whatever its name. */
        uint32_t n;
        const struct dshq_section *t = dshq_region_sections(r, &n);
        for (uint32_t i = 0; i < n && rc; i++)
            if (t[i].kind == DSHQ_SECTION_WEIGHTS)
                rc = dshq_region_find(r, DSHQ_SECTION_WEIGHTS, t[i].name, 0, &sec, &size);
    }
    if (rc || (rc = dshq_weights_open(sec, size, out))) {
        dshq_region_detach(r);
        return rc;
    }
    (*out)->region = r;
    return 0;
}

uint64_t dshq_weights_shape_hash(uint64_t nfloats)
{
    return dshq_shape_hashf("weights/v%u;params=%llu", (unsigned)DSHQ_WEIGHTS_VERSION,
                            (unsigned long long)nfloats);
}

uint64_t dshq_weights_param_count(const struct dshq_weights *ch)
{
    return ch->param_count;
}

uint64_t dshq_weights_version(const struct dshq_weights *ch)
{
    /* Relaxed: a peek; whoever acts on it adopts or copies, which order.
     * `current`, the adopters' point of publication: an adopt that follows
     * in this thread reads this value or a newer one (coherence). */
    return DSHQ_WEIGHTS_CUR_VERSION(atomic_load_explicit(&ch->ctrl->current, memory_order_relaxed));
}

int dshq_weights_wait(struct dshq_weights *ch, uint64_t after_version, int64_t timeout_ns)
{
    struct dshq_weights_ctrl *c = ch->ctrl;
    uint64_t deadline = timeout_ns >= 0 ? dshq_now_ns() + (uint64_t)timeout_ns : 0;
    for (;;) {
        /* Snapshot before the test (wait.h W1); its acquire pairs with the
         * commit's notify (N1), which follows the version store (C2). */
        uint32_t e = dshq_event_prepare(&c->new_version);
        /* The condition is "a COMPLETE commit newer than after_version":
         * `current` names only complete snapshots (CP).  Acquire pairs with
         * CP, as R1. */
        uint64_t cur = atomic_load_explicit(&c->current, memory_order_acquire);
        if (DSHQ_WEIGHTS_CUR_VERSION(cur) > after_version)
            return 0;
        int64_t left = -1;
        if (timeout_ns >= 0) {
            uint64_t now = dshq_now_ns();
            if (now >= deadline)
                return -ETIMEDOUT;
            left = (int64_t)(deadline - now);
        }
        dshq_event_wait(&c->new_version, e, left); /* 0 or -ETIMEDOUT: re-test */
    }
}

/* ------------------------------------------------------------- reclaim */

int dshq_weights_reclaim(struct dshq_weights *ch)
{
    int freed = 0;
    for (uint32_t i = 0; i < ch->nslots; i++) {
        struct dshq_weights_slot *s = &ch->slots[i];
        /* RC1: only one reclaimer wins the slot (owner.h OW3); the word now
         * names us, marked, so a reclaimer that dies here is itself
         * replaced later. */
        if (!dshq_owner_reclaim_begin(&s->owner, NULL))
            continue; /* free, ours, alive, or another reclaimer won */
        /* RC2: drop the dead reader's pins.  Release continues the slot's
         * release sequence for the writer's W2 (a dead reader reads nothing
         * more, so nothing else needs ordering). */
        atomic_store_explicit(&s->pins, PINS_NONE, memory_order_release);
        /* Relaxed: informational. */
        atomic_store_explicit(&s->version, 0, memory_order_relaxed);
        /* RC3: free the slot (OW4); release pairs with RA1 of the next
         * attach, so the new owner starts from the cleared pins. */
        dshq_owner_reclaim_end(&s->owner);
        /* Relaxed: a counter for inspect. */
        atomic_fetch_add_explicit(&ch->ctrl->reclaims, 1, memory_order_relaxed);
        freed++;
    }
    return freed;
}

/* -------------------------------------------------------------- writer */

/* A writer died between C1 and C4: seq is odd and the control words may be
 * a mix of two commits.  The active buffer is complete (active_idx is
 * stored only after the buffer was filled and stamped), so its stamp is the
 * truth.  We own the writer role; a dead process's stores are all visible
 * after its exit. */
static void writer_repair(struct dshq_weights *ch, uint64_t seq)
{
    struct dshq_weights_ctrl *c = ch->ctrl;
    /* Relaxed, all of it: we are the only writer, and C4 below publishes.
     * `current` is the truth: it is stored (CP) only after the buffer was
     * filled and stamped, and a commit that died before CP never happened. */
    uint64_t cur = atomic_load_explicit(&c->current, memory_order_relaxed);
    uint32_t b = DSHQ_WEIGHTS_CUR_BUFFER(cur);
    if (cur == 0 || b >= ch->nbuf) {
        atomic_store_explicit(&c->current, 0, memory_order_relaxed);
        atomic_store_explicit(&c->active_idx, 0, memory_order_relaxed);
        atomic_store_explicit(&c->version, 0, memory_order_relaxed);
        atomic_store_explicit(&c->step_counter, 0, memory_order_relaxed);
    } else {
        struct dshq_weights_buf *B = &ch->bufs[b];
        atomic_store_explicit(&c->active_idx, b, memory_order_relaxed);
        atomic_store_explicit(&c->version, DSHQ_WEIGHTS_CUR_VERSION(cur), memory_order_relaxed);
        atomic_store_explicit(&c->step_counter,
                              atomic_load_explicit(&B->step, memory_order_relaxed),
                              memory_order_relaxed);
        atomic_store_explicit(&c->shape_hash,
                              atomic_load_explicit(&B->shape_hash, memory_order_relaxed),
                              memory_order_relaxed);
        uint64_t bs = atomic_load_explicit(&B->seq, memory_order_relaxed);
        if (bs & 1)
            /* C3 of the repair: release pairs with CO1. */
            atomic_store_explicit(&B->seq, bs + 1, memory_order_release);
    }
    /* C4 of the repair: release pairs with the seqlock readers (wait, stats). */
    atomic_store_explicit(&c->seq, seq + 1, memory_order_release);
}

int dshq_weights_writer_attach(struct dshq_weights *ch, struct dshq_weights_writer **out)
{
    struct dshq_weights_ctrl *c = ch->ctrl;
    uint64_t me = owner_self();
    /* WA1 (owner.h OW1): one CAS on the writer word, from free or from the
     * very word of a dead writer; acquire pairs with WD1 (the previous
     * writer's release of the role): its last commit is visible to us. */
    int took = dshq_owner_take(&c->writer, NULL);
    if (took < 0)
        return took;
    int takeover = took == DSHQ_OWNER_TOOK_OVER;
    /* Relaxed, the reads below: we are the only writer now (WA1). */
    uint64_t seq = atomic_load_explicit(&c->seq, memory_order_relaxed);
    uint64_t cur = atomic_load_explicit(&c->current, memory_order_relaxed);
    if (DSHQ_WEIGHTS_CUR_BUFFER(cur) >= ch->nbuf) {
        dshq_owner_drop(&c->writer); /* WD1 */
        return DSHQ_ECORRUPT;
    }
    if (seq & 1) {
        writer_repair(ch, seq);
        seq++;
        cur = atomic_load_explicit(&c->current, memory_order_relaxed);
    }
    struct dshq_weights_writer *w = calloc(1, sizeof *w);
    if (!w) {
        dshq_owner_drop(&c->writer); /* WD1 */
        return -ENOMEM;
    }
    w->ch = ch;
    w->owner = me;
    w->seq = seq;
    w->version = DSHQ_WEIGHTS_CUR_VERSION(cur);
    w->shape_hash = atomic_load_explicit(&c->shape_hash, memory_order_relaxed);
    w->last = DSHQ_WEIGHTS_CUR_BUFFER(cur);
    w->filling = DSHQ_WEIGHTS_NONE;
    w->next_reclaim_ns = dshq_now_ns() + RECLAIM_PERIOD_NS;
    if (takeover)
        /* Relaxed: a counter for inspect. */
        atomic_fetch_add_explicit(&c->writer_takeovers, 1, memory_order_relaxed);
    *out = w;
    return 0;
}

void dshq_weights_writer_detach(struct dshq_weights_writer *w)
{
    if (!w)
        return;
    /* A begun buffer stays odd: it is not active and no reader holds it, and
     * the next begin that picks it keeps it odd until its commit. */
    /* WD1 (owner.h OW2): release pairs with WA1 of the next writer. */
    dshq_owner_drop(&w->ch->ctrl->writer);
    free(w);
}

void dshq_weights_writer_set_shape(struct dshq_weights_writer *w, uint64_t shape_hash)
{
    w->shape_hash = shape_hash;
}

int dshq_weights_publish_begin(struct dshq_weights_writer *w, float **params)
{
    struct dshq_weights *ch = w->ch;
    if (w->filling != DSHQ_WEIGHTS_NONE) {
        *params = buffer_ptr(ch, w->filling);
        return 0;
    }
    uint64_t now = dshq_now_ns();
    if (now >= w->next_reclaim_ns) {
        dshq_weights_reclaim(ch);
        w->next_reclaim_ns = now + RECLAIM_PERIOD_NS;
    }
    /* W1: pairs with R5 (Dekker).  Our last commit stored seq (C4) before
     * this fence.  A reader that claims a buffer after this fence (in the
     * single order of seq_cst fences) re-reads seq after its R5 and sees that
     * commit, so it drops the claim; a claim stored before its fence, with
     * its fence before ours, is visible to the scans below. */
    atomic_thread_fence(memory_order_seq_cst);
    uint32_t f;
    for (;;) {
        uint64_t busy = UINT64_C(1) << w->last; /* the active buffer */
        for (uint32_t i = 0; i < ch->nslots; i++) {
            /* W2: acquire pairs with the reader's release stores of its pins
             * (R4, R7, R9) and RC2: a reader's reads of a buffer it has let
             * go happen before we refill that buffer. */
            uint64_t p = atomic_load_explicit(&ch->slots[i].pins, memory_order_acquire);
            uint32_t h = pins_held(p);
            if (h < ch->nbuf)
                busy |= UINT64_C(1) << h;
        }
        /* Round-robin from the last buffer written: the longest-unused free
         * buffer, which gives copy-out readers the most time. */
        f = DSHQ_WEIGHTS_NONE;
        for (uint32_t k = 1; k <= ch->nbuf; k++) {
            uint32_t cand = (w->last + k) % ch->nbuf;
            if (!(busy & (UINT64_C(1) << cand))) {
                f = cand;
                break;
            }
        }
        if (f == DSHQ_WEIGHTS_NONE)
            return DSHQ_ECORRUPT; /* R pins + active < R + 2: only if pins lie */
        DSHQ_PERTURB();
        /* W3: redirect pending claims to the active buffer `last`.  A
         * claim is not a pin: its reader still holds its old view, and
         * promotes the claim by a CAS on the same word (R7), so exactly one
         * of us wins.  We redirect (a) every claim on f, the buffer we are
         * about to refill, and (b) every claim the reader made itself (no
         * GRANT bit): a reader that a fast writer outruns — its claim went
         * stale before its re-check — finds its claim turned into a grant of
         * the newest snapshot and adopts that (R8): the help that makes
         * adopt finish whatever we do.  `last` is never refilled while a
         * claim points at it: the next begin redirects it first.  Release:
         * the stamp of `last` (C2) happens before a reader that reads the
         * grant reads it; acquire: as W2. */
        int taken = 0;
        for (uint32_t i = 0; i < ch->nslots && !taken; i++) {
            _Atomic uint64_t *pw = &ch->slots[i].pins;
            uint64_t p = atomic_load_explicit(pw, memory_order_acquire);
            for (;;) {
                uint32_t pd = pins_pending(p);
                uint32_t pb = DSHQ_WEIGHTS_PENDING_BUFFER(pd);
                if (pb >= ch->nbuf || pins_held(p) == f)
                    break; /* no claim, or f promoted before we could redirect */
                if ((pd & DSHQ_WEIGHTS_GRANT) && pb != f)
                    break; /* a grant on a buffer we keep */
                w->grant_tag = (w->grant_tag + 1) & GRANT_TAG_MASK;
                DSHQ_PERTURB();
                uint32_t grant = w->last | DSHQ_WEIGHTS_GRANT | w->grant_tag << GRANT_TAG_SHIFT;
                if (atomic_compare_exchange_weak_explicit(pw, &p, pins_pack(pins_held(p), grant),
                                                          memory_order_acq_rel,
                                                          memory_order_acquire)) {
                    /* Relaxed: a counter for inspect. */
                    atomic_fetch_add_explicit(&ch->ctrl->claims_stolen, 1, memory_order_relaxed);
                    break;
                }
            }
            if (pins_held(p) == f)
                taken = 1; /* promoted before we could redirect: choose again */
        }
        if (!taken)
            break;
    }
    struct dshq_weights_buf *B = &ch->bufs[f];
    /* Relaxed: only the writer stores a buffer's seq; W4 orders it. */
    uint64_t bs = atomic_load_explicit(&B->seq, memory_order_relaxed);
    if (!(bs & 1)) {
        bs++;
        atomic_store_explicit(&B->seq, bs, memory_order_relaxed);
    }
    /* W4: release fence pairs with CO3: a copy-out that read any byte of the
     * refill below sees the odd seq (or a later one) when it re-checks. */
    atomic_thread_fence(memory_order_release);
    w->filling = f;
    w->fill_seq = bs;
    *params = buffer_ptr(ch, f);
    return 0;
}

/* Weights channel protocol.  One writer; reader slots s with a pins word
 * (held h | pending) on their own line; `current` = version << 8 | buffer.
 *
 *   writer                                   reader in slot s, holding h
 *   ------                                   ---------------------------
 *   publish_begin:                           adopt:
 *   W1 fence seq_cst               [R5]      R1 c1 = current (acquire)          [CP]
 *   W2 scan pins (acquire)    [R4 R7 R9]        v == 0 or v == version of h: SAME
 *      f = next buffer, not last (the        R4 pins = (h, b) (release)       claim
 *          active one), not held             R5 fence seq_cst                   [W1]
 *   W3 each slot whose pending is on f,      R6 c2 = current
 *      or is the reader's own claim:            c2 == c1: b's stamp; shape !=
 *      CAS (h', p) -> (h', last|GRANT|tag)        expected: pins = (h, NONE),
 *      (acq_rel); slot with held == f:            ESHAPE, keep h
 *      choose again                          R7   CAS (h, b) -> (b, NONE) (acq_rel):
 *   buf[f].seq = odd                                NEW v; failed: a grant, R8
 *   W4 fence release              [CO3]         c2 != c1: CAS (h, b) -> (h, b2)
 *   ... caller fills buffer f ...                 (release), c1 = c2, back to R5;
 *   publish_commit:                               failed: a grant, R8
 *   C1 seq = odd; fence release              R8 grant g: read g's stamp; CAS
 *   C2 stamp buf[f]; active_idx = f,            (h, g|GRANT|tag) -> (g, NONE)
 *      version, step_counter,                   (acq_rel): NEW; failed: again
 *      shape_hash (relaxed)                  bound exhausted (never seen): pins =
 *   C3 buf[f].seq = even (release) [CO1]       (h, NONE), BUSY, keep h
 *   CP current = v << 8 | f (release) [R1]   ... read buffer b in place ...
 *   C4 seq = even (release)                  release / detach:
 *   notify new_version (wait.h N1-N3)        R9 pins = (NONE, NONE) (release)
 *
 *                                            copy_out (no slot):
 *                                            b = active_idx
 *                                            CO1 bs = buf[b].seq (acquire), odd: retry
 *                                            CO2 copy buffer b (racy by design)
 *                                            CO3 fence acquire; buf[b].seq != bs: retry
 *
 * A view is never written: the writer fills only a buffer that no slot
 * holds (W2) and none can come to hold — a claim on it either is moved at
 * R6 (W1/R5: the reader sees the commit that moved `current` off b), or is
 * visible to W3, which redirects it or sees it promoted.  Adopt finishes:
 * each move at R6 needs a new commit, and the first begin that sees the
 * claim grants it; the bound (DSHQ_WEIGHTS_BUSY) is a safety net only.
 * The writer never waits: at most R held buffers plus the active one, out
 * of R + 2. */
int64_t dshq_weights_publish_commit(struct dshq_weights_writer *w, uint64_t step)
{
    struct dshq_weights *ch = w->ch;
    struct dshq_weights_ctrl *c = ch->ctrl;
    uint32_t f = w->filling;
    if (f == DSHQ_WEIGHTS_NONE)
        return -EINVAL;
    struct dshq_weights_buf *B = &ch->bufs[f];
    uint64_t v = w->version + 1;
    /* C1: seq odd, then a release fence: pairs with R3 (and the stats
     * reader's fence): a reader that saw any control word stored below sees
     * an odd or newer seq when it re-checks. */
    atomic_store_explicit(&c->seq, w->seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    DSHQ_PERTURB();
    /* C2: relaxed, all of them: the seqlock (C1/C4) orders them for readers
     * of the control words, C3 for copy-out readers of the stamp. */
    atomic_store_explicit(&B->version, v, memory_order_relaxed);
    atomic_store_explicit(&B->step, step, memory_order_relaxed);
    atomic_store_explicit(&B->shape_hash, w->shape_hash, memory_order_relaxed);
    atomic_store_explicit(&c->active_idx, f, memory_order_relaxed);
    atomic_store_explicit(&c->version, v, memory_order_relaxed);
    atomic_store_explicit(&c->step_counter, step, memory_order_relaxed);
    atomic_store_explicit(&c->shape_hash, w->shape_hash, memory_order_relaxed);
    atomic_store_explicit(&c->published_ns, dshq_now_ns(), memory_order_relaxed);
    /* C3: buffer complete; release pairs with CO1. */
    atomic_store_explicit(&B->seq, w->fill_seq + 1, memory_order_release);
    DSHQ_PERTURB();
    /* CP: publication for adopters, one word.  Release pairs with R1: a
     * reader that reads it sees the filled buffer and its stamp.  Every
     * commit stores a new value (the version grows), so "current
     * unchanged" means "no commit", with no ABA. */
    atomic_store_explicit(&c->current, v << 8 | f, memory_order_release);
    DSHQ_PERTURB();
    /* C4: release pairs with R1: a reader that reads this seq sees the filled
     * buffer and the control words above. */
    atomic_store_explicit(&c->seq, w->seq + 2, memory_order_release);
    w->seq += 2;
    w->version = v;
    w->last = f;
    w->filling = DSHQ_WEIGHTS_NONE;
    dshq_event_notify(&c->new_version);
    return (int64_t)v;
}

int64_t dshq_weights_publish(struct dshq_weights_writer *w, const float *src, uint64_t step)
{
    float *dst;
    int rc = dshq_weights_publish_begin(w, &dst);
    if (rc)
        return rc;
    memcpy(dst, src, w->ch->param_count * sizeof(float));
    return dshq_weights_publish_commit(w, step);
}

/* -------------------------------------------------------------- reader */

int dshq_weights_reader_attach(struct dshq_weights *ch, uint64_t expected_shape,
                               struct dshq_weights_reader **out)
{
    struct dshq_weights_reader *rd = calloc(1, sizeof *rd);
    if (!rd)
        return -ENOMEM;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < ch->nslots; i++) {
            struct dshq_weights_slot *s = &ch->slots[i];
            /* RA1 (owner.h OW1, free slots only): acquire pairs with RD2 /
             * RC3 (the release that freed the slot): we start from its
             * cleared pins. */
            if (dshq_owner_take_free(&s->owner) == 0) {
                rd->ch = ch;
                rd->slot = s;
                rd->index = i;
                rd->expected_shape = expected_shape;
                rd->view.buffer = DSHQ_WEIGHTS_NONE;
                rd->view.param_count = ch->param_count;
                /* Relaxed: informational counters of our own slot. */
                atomic_store_explicit(&s->version, 0, memory_order_relaxed);
                atomic_store_explicit(&s->adoptions, 0, memory_order_relaxed);
                atomic_store_explicit(&s->refusals, 0, memory_order_relaxed);
                *out = rd;
                return 0;
            }
        }
        if (pass == 0 && dshq_weights_reclaim(ch) == 0)
            break;
    }
    free(rd);
    return DSHQ_ELIMIT;
}

void dshq_weights_release(struct dshq_weights_reader *rd)
{
    /* R9: release pairs with W2: our reads of the view happen before the
     * writer refills its buffer. */
    atomic_store_explicit(&rd->slot->pins, PINS_NONE, memory_order_release);
    /* Relaxed: informational. */
    atomic_store_explicit(&rd->slot->version, 0, memory_order_relaxed);
    memset(&rd->view, 0, sizeof rd->view);
    rd->view.buffer = DSHQ_WEIGHTS_NONE;
    rd->view.param_count = rd->ch->param_count;
    rd->seen_valid = 0;
}

void dshq_weights_reader_detach(struct dshq_weights_reader *rd)
{
    if (!rd)
        return;
    dshq_weights_release(rd);
    /* RD2 (owner.h OW2): release pairs with RA1 of the next owner. */
    dshq_owner_drop(&rd->slot->owner);
    free(rd);
}

uint32_t dshq_weights_reader_slot(const struct dshq_weights_reader *rd)
{
    return rd->index;
}

static int adopt_done(struct dshq_weights_reader *rd, struct dshq_weights_view *view, int rc)
{
    *view = rd->view;
    return rc;
}

static int adopt_decided(struct dshq_weights_reader *rd, struct dshq_weights_view *view,
                         uint64_t cur, int rc)
{
    rd->seen_cur = cur;
    rd->seen_rc = rc;
    rd->seen_valid = 1;
    return adopt_done(rd, view, rc);
}

/* Withdraws our pending claim, whatever the writer made of it (R6).
 * Release: as R4. */
static void adopt_withdraw(struct dshq_weights_slot *s, uint32_t held)
{
    atomic_store_explicit(&s->pins, pins_pack(held, DSHQ_WEIGHTS_NONE), memory_order_release);
}

static int adopt_take(struct dshq_weights_reader *rd, struct dshq_weights_view *view,
                      uint32_t b, uint64_t v, uint64_t step, uint64_t shape)
{
    struct dshq_weights_slot *s = rd->slot;
    rd->view.params = buffer_ptr(rd->ch, b);
    rd->view.param_count = rd->ch->param_count;
    rd->view.version = v;
    rd->view.step = step;
    rd->view.shape_hash = shape;
    rd->view.buffer = b;
    /* Relaxed: informational, for inspect. */
    atomic_store_explicit(&s->version, v, memory_order_relaxed);
    atomic_store_explicit(&s->adoptions, ++rd->adoptions, memory_order_relaxed);
    rd->seen_valid = 0;
    return adopt_done(rd, view, DSHQ_WEIGHTS_NEW);
}

int dshq_weights_adopt(struct dshq_weights_reader *rd, struct dshq_weights_view *view)
{
    struct dshq_weights *ch = rd->ch;
    struct dshq_weights_ctrl *c = ch->ctrl;
    struct dshq_weights_slot *s = rd->slot;
    const uint32_t held = rd->view.buffer;
    /* R1: acquire pairs with CP: the snapshot it names is filled and
     * stamped, and visible to us. */
    uint64_t c1 = atomic_load_explicit(&c->current, memory_order_acquire);
    DSHQ_PERTURB();
    if (rd->seen_valid && c1 == rd->seen_cur)
        return adopt_done(rd, view, rd->seen_rc); /* no commit since */
    uint64_t v = DSHQ_WEIGHTS_CUR_VERSION(c1);
    uint32_t b = DSHQ_WEIGHTS_CUR_BUFFER(c1);
    if (v == 0)
        return adopt_decided(rd, view, c1, DSHQ_WEIGHTS_SAME); /* nothing yet */
    if (b >= ch->nbuf)
        return adopt_done(rd, view, DSHQ_ECORRUPT);
    if (v == rd->view.version && b == held)
        return adopt_decided(rd, view, c1, DSHQ_WEIGHTS_SAME);
    /* R4: claim b.  Release: keeps the slot's release sequence, so W2
     * reading this value still orders our reads of buffers we let go
     * (R7/R9) before their refill. */
    uint64_t mine = pins_pack(held, b);
    atomic_store_explicit(&s->pins, mine, memory_order_release);
    DSHQ_PERTURB();
    for (int tries = 0; tries < ADOPT_TRIES; tries++) {
        /* R5: pairs with W1 (Dekker): either the writer's scan (W2/W3) sees
         * our claim, or we see below the `current` of every commit that
         * preceded a begin that missed it. */
        atomic_thread_fence(memory_order_seq_cst);
        /* R6: acquire pairs with CP, as R1: when the claim moves to c2's
         * buffer below, that buffer's fill and stamp are visible to us. */
        uint64_t c2 = atomic_load_explicit(&c->current, memory_order_acquire);
        DSHQ_PERTURB();
        uint64_t p = mine;
        if (c2 == c1) {
            /* No commit since R1: b is still the newest, and no begin can
             * refill it without redirecting our claim first.  Its stamp is
             * the one of version v (visible since R1). */
            struct dshq_weights_buf *B = &ch->bufs[b];
            uint64_t shape = atomic_load_explicit(&B->shape_hash, memory_order_relaxed);
            uint64_t step = atomic_load_explicit(&B->step, memory_order_relaxed);
            if (rd->expected_shape && shape != rd->expected_shape) {
                /* Refused before we let the old view go: it stays held.
                 * Relaxed: an informational counter of our own slot. */
                adopt_withdraw(s, held);
                atomic_store_explicit(&s->refusals, ++rd->refusals, memory_order_relaxed);
                return adopt_decided(rd, view, c1, DSHQ_ESHAPE);
            }
            /* R7: promote the claim; fails only if W3 redirected it (then p
             * is the grant).  Release pairs with W2/W3: our reads of the
             * previous view happen before the writer refills it; acquire:
             * a grant's stamp (R8). */
            if (atomic_compare_exchange_strong_explicit(&s->pins, &p,
                                                        pins_pack(b, DSHQ_WEIGHTS_NONE),
                                                        memory_order_acq_rel,
                                                        memory_order_acquire))
                return adopt_take(rd, view, b, v, step, shape);
        } else {
            /* A commit landed: our claim on b may have come too late for a
             * begin that is now refilling b.  Move the claim to the newer
             * snapshot and re-check; the CAS fails only if W3 redirected
             * our claim (then p is the grant).  Release: as R4. */
            uint64_t next = pins_pack(held, DSHQ_WEIGHTS_CUR_BUFFER(c2));
            if (DSHQ_WEIGHTS_CUR_BUFFER(c2) < ch->nbuf &&
                atomic_compare_exchange_strong_explicit(&s->pins, &p, next, memory_order_release,
                                                        memory_order_acquire)) {
                c1 = c2;
                mine = next;
                v = DSHQ_WEIGHTS_CUR_VERSION(c1);
                b = DSHQ_WEIGHTS_CUR_BUFFER(c1);
                continue;
            }
            if (DSHQ_WEIGHTS_CUR_BUFFER(c2) >= ch->nbuf) {
                adopt_withdraw(s, held);
                return adopt_done(rd, view, DSHQ_ECORRUPT);
            }
        }
        /* R8: the writer granted us its active buffer g (W3): it refills g
         * only after redirecting the grant again (with another tag), so a
         * CAS that finds this very word proves the stamp we read is g's.
         * The acquire of the failed CAS above pairs with W3's release: g's
         * stamp (C2) is visible. */
        for (int g_tries = 0; g_tries < ADOPT_TRIES; g_tries++) {
            uint32_t pd = pins_pending(p);
            uint32_t g = DSHQ_WEIGHTS_PENDING_BUFFER(pd);
            if (!(pd & DSHQ_WEIGHTS_GRANT) || g >= ch->nbuf || pins_held(p) != held) {
                adopt_withdraw(s, held); /* not a word we or the writer make */
                return adopt_done(rd, view, DSHQ_ECORRUPT);
            }
            struct dshq_weights_buf *G = &ch->bufs[g];
            uint64_t gv = atomic_load_explicit(&G->version, memory_order_relaxed);
            uint64_t gstep = atomic_load_explicit(&G->step, memory_order_relaxed);
            uint64_t gshape = atomic_load_explicit(&G->shape_hash, memory_order_relaxed);
            DSHQ_PERTURB();
            if (g == held || gv <= rd->view.version ||
                (rd->expected_shape && gshape != rd->expected_shape)) {
                /* Nothing newer for us there (or another shape): withdraw,
                 * keep the old view; the CAS proves what we judged. */
                if (!atomic_compare_exchange_strong_explicit(
                        &s->pins, &p, pins_pack(held, DSHQ_WEIGHTS_NONE), memory_order_release,
                        memory_order_acquire))
                    continue; /* redirected again meanwhile: judge the new grant */
                if (g != held && gv > rd->view.version) {
                    atomic_store_explicit(&s->refusals, ++rd->refusals, memory_order_relaxed);
                    return adopt_done(rd, view, DSHQ_ESHAPE);
                }
                return adopt_done(rd, view, DSHQ_WEIGHTS_SAME);
            }
            /* R7 of a grant. */
            if (atomic_compare_exchange_strong_explicit(&s->pins, &p,
                                                        pins_pack(g, DSHQ_WEIGHTS_NONE),
                                                        memory_order_acq_rel,
                                                        memory_order_acquire))
                return adopt_take(rd, view, g, gv, gstep, gshape);
        }
        break;
    }
    adopt_withdraw(s, held);
    return adopt_done(rd, view, DSHQ_WEIGHTS_BUSY);
}

/* ------------------------------------------------------------ copy-out */

/* CO2, the intentional race: the writer may refill this buffer while we
 * copy it; CO3 detects that and the copy is thrown away.  Under
 * ThreadSanitizer the copy's reads are marked as ignored (a dynamic
 * annotation of the TSan runtime), since the tool cannot know that a racy
 * copy is discarded; every other access to the buffers stays checked. */
#if defined(__SANITIZE_THREAD__)
#define WEIGHTS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEIGHTS_TSAN 1
#endif
#endif
#ifdef WEIGHTS_TSAN
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
#endif

static void weights_copy_racy(void *dst, const void *src, size_t n)
{
#ifdef WEIGHTS_TSAN
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
#endif
    /* Two halves, with a perturbation point between them (nothing in a
     * normal build): a refill in the middle of a copy is what CO3 exists
     * to catch. */
    memcpy(dst, src, n / 2);
    DSHQ_PERTURB();
    memcpy((char *)dst + n / 2, (const char *)src + n / 2, n - n / 2);
#ifdef WEIGHTS_TSAN
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
#endif
}

int dshq_weights_copy_out(const struct dshq_weights *ch, uint64_t expected_shape,
                          float *dst, uint64_t count, struct dshq_weights_info *info)
{
    const struct dshq_weights_ctrl *c = ch->ctrl;
    if (!dst || count != ch->param_count)
        return -EINVAL;
    uint32_t retries = 0;
    for (int attempt = 0; attempt < COPY_TRIES; attempt++) {
        if (attempt)
            attempt < 8 ? cpu_relax() : (void)sched_yield();
        /* Relaxed: only says which buffer to try; its own seq validates. */
        uint32_t b = atomic_load_explicit(&c->active_idx, memory_order_relaxed);
        if (b >= ch->nbuf)
            return DSHQ_ECORRUPT;
        const struct dshq_weights_buf *B = &ch->bufs[b];
        /* CO1: acquire pairs with C3: an even seq makes that commit's stamp
         * and floats visible. */
        uint64_t bs = atomic_load_explicit(&B->seq, memory_order_acquire);
        if (bs & 1) {
            retries++; /* being refilled: active_idx has moved on */
            continue;
        }
        /* Relaxed: validated by CO3. */
        uint64_t v = atomic_load_explicit(&B->version, memory_order_relaxed);
        uint64_t step = atomic_load_explicit(&B->step, memory_order_relaxed);
        uint64_t shape = atomic_load_explicit(&B->shape_hash, memory_order_relaxed);
        int refuse = v == 0 ? -ENODATA
                   : (expected_shape && shape != expected_shape) ? DSHQ_ESHAPE : 0;
        if (!refuse)
            weights_copy_racy(dst, buffer_ptr(ch, b), count * sizeof(float)); /* CO2 */
        DSHQ_PERTURB();
        /* CO3: acquire fence pairs with W4: if the copy or the stamp saw any
         * byte of a refill, the re-read sees the odd (or a later) seq. */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&B->seq, memory_order_relaxed) != bs) {
            retries++;
            continue;
        }
        if (refuse)
            return refuse;
        if (info) {
            info->version = v;
            info->step = step;
            info->shape_hash = shape;
            info->buffer = b;
            info->retries = retries;
        }
        return 0;
    }
    return -EAGAIN;
}

/* --------------------------------------------------------------- stats */

int dshq_weights_stats(const struct dshq_weights *ch, struct dshq_weights_stats *out)
{
    const struct dshq_weights_ctrl *c = ch->ctrl;
    memset(out, 0, sizeof *out);
    out->param_count = ch->param_count;
    out->max_readers = ch->nslots;
    out->buffer_count = ch->nbuf;
    out->buffer_bytes = ch->stride;
    /* The control words under the seqlock, as adopt reads them (R1-R3); a
     * few tries, then whatever was read last: these are for people. */
    for (int tries = 0; tries < 16; tries++) {
        uint64_t s1 = atomic_load_explicit(&c->seq, memory_order_acquire);
        out->active_idx = atomic_load_explicit(&c->active_idx, memory_order_relaxed);
        out->version = atomic_load_explicit(&c->version, memory_order_relaxed);
        out->step = atomic_load_explicit(&c->step_counter, memory_order_relaxed);
        out->shape_hash = atomic_load_explicit(&c->shape_hash, memory_order_relaxed);
        out->published_ns = atomic_load_explicit(&c->published_ns, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire); /* pairs with C1 */
        if (!(s1 & 1) && atomic_load_explicit(&c->seq, memory_order_relaxed) == s1)
            break;
    }
    /* Relaxed, everything below: a moment's picture for people. */
    uint64_t wo = atomic_load_explicit(&c->writer, memory_order_relaxed);
    out->writer_pid = wo ? owner_pid(wo) : 0;
    out->writer_alive = wo ? owner_alive(wo) : 0;
    out->claims_stolen = atomic_load_explicit(&c->claims_stolen, memory_order_relaxed);
    out->reclaims = atomic_load_explicit(&c->reclaims, memory_order_relaxed);
    out->writer_takeovers = atomic_load_explicit(&c->writer_takeovers, memory_order_relaxed);
    for (uint32_t b = 0; b < ch->nbuf; b++)
        out->buffer_version[b] = atomic_load_explicit(&ch->bufs[b].version, memory_order_relaxed);
    for (uint32_t i = 0; i < ch->nslots; i++) {
        const struct dshq_weights_slot *s = &ch->slots[i];
        struct dshq_weights_reader_stats *r = &out->reader[i];
        uint64_t o = atomic_load_explicit(&s->owner, memory_order_relaxed);
        uint64_t p = atomic_load_explicit(&s->pins, memory_order_relaxed);
        r->pid = o ? owner_pid(o) : 0;
        r->alive = o ? owner_alive(o & ~DSHQ_WEIGHTS_OWNER_RECLAIM) : 0;
        r->held = pins_held(p);
        r->pending = pins_pending(p);
        r->version = atomic_load_explicit(&s->version, memory_order_relaxed);
        r->adoptions = atomic_load_explicit(&s->adoptions, memory_order_relaxed);
        r->refusals = atomic_load_explicit(&s->refusals, memory_order_relaxed);
        if (o)
            out->readers++;
    }
    return 0;
}
