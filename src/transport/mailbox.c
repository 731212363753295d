/* mailbox.c — bounded MPSC queue of 64-byte control messages (dshq/mailbox.h).
 *
 * The design is Vyukov's bounded queue with one change: a poster claims a
 * slot by compare-and-swapping the SLOT's state word from "free for p" to
 * "claimed for p by pid", not by bumping the tail cursor.  The claim and
 * the claimant's identity are therefore one atomic step, so there is no
 * instant at which a slot is taken but nobody is named as its taker: a
 * poster killed at any point after its claim leaves its pid behind, and the
 * consumer can tell "still writing" (pid alive: wait) from "gone" (pid dead:
 * skip and count).  The tail cursor is only a shared hint of where the next
 * free slot is; any poster that finds the slot at tail already claimed moves
 * the tail on (helping), so a poster dying before it moved the tail stalls
 * nobody either.
 *
 * Slot state for position p (index p & mask), free-running 64-bit values
 * except while claimed:
 *
 *      p ──claim (poster CAS)──> CLAIMED|tag(p)|pid ──commit (poster CAS)──> p+1
 *      ^                               │                                    │
 *      │                     poster dead: consumer CAS                consume: store
 *      │                               v                                    v
 *      └──────── (next lap) ─────── p+capacity <────────────────────────────┘
 *
 * Because posters never read the head cursor, the queue needs no shared
 * "how full" arithmetic: a slot whose state still belongs to the previous
 * lap is simply not free, and that poster answers FULL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dshq/hash.h"
#include "dshq/mailbox.h"
#include "transport/owner.h"
#include "dshq/region.h"
#include "transport/perturb.h"

struct dshq_mailbox {
    struct dshq_mailbox_ctrl *ctrl;
    struct dshq_mailbox_slot *slots; /* [capacity] */
    uint64_t mask;
    int consumer;          /* holds the consumer role */
    uint64_t head;         /* consumer: private copy of ctrl->head */
    int32_t pid;           /* the process the cached start ticks belong to */
    uint64_t start_ticks;
    uint64_t sequence;     /* last sequence number this handle committed */
    struct dshq_mailbox_slot *claimed; /* outstanding claim, or NULL */
    uint64_t claimed_pos;
    uint64_t claimed_word;
};

static int pow2_ok(uint32_t c)
{
    return c >= 2 && c <= DSHQ_MAILBOX_MAX_CAPACITY && (c & (c - 1)) == 0;
}

int dshq_mailbox_bytes_check(uint32_t capacity, uint64_t *bytes)
{
    if (!pow2_ok(capacity))
        return DSHQ_ECAPACITY;
    if (bytes)
        *bytes = sizeof(struct dshq_mailbox_ctrl) +
                 (uint64_t)capacity * sizeof(struct dshq_mailbox_slot);
    return 0;
}

uint64_t dshq_mailbox_bytes(uint32_t capacity)
{
    uint64_t bytes = 0;
    return dshq_mailbox_bytes_check(capacity, &bytes) ? 0 : bytes;
}

uint64_t dshq_mailbox_shape_hash(void)
{
    return dshq_shape_hash(DSHQ_MAILBOX_SHAPE_STRING);
}

int dshq_mailbox_init(void *mem, uint64_t size, uint32_t capacity)
{
    if (!mem || !pow2_ok(capacity) || ((uintptr_t)mem & 63))
        return -EINVAL;
    if (size < dshq_mailbox_bytes(capacity))
        return -ENOSPC;
    memset(mem, 0, dshq_mailbox_bytes(capacity));
    struct dshq_mailbox_ctrl *c = mem;
    c->magic = DSHQ_MAILBOX_MAGIC;
    c->version = DSHQ_MAILBOX_VERSION;
    c->capacity = capacity;
    c->slot_size = sizeof(struct dshq_mailbox_slot);
    c->msg_size = sizeof(struct dshq_msg);
    c->slots_offset = sizeof(struct dshq_mailbox_ctrl);
    struct dshq_mailbox_slot *s = (void *)((unsigned char *)mem + c->slots_offset);
    /* Relaxed: nobody else can see the section before the region is marked
     * READY, whose release store publishes all of this. */
    for (uint32_t i = 0; i < capacity; i++)
        atomic_store_explicit(&s[i].state, i, memory_order_relaxed);
    return 0;
}

/* Checks the written-once fields; never trusts capacity before bounding it. */
static int ctrl_check(const void *mem, uint64_t size)
{
    const struct dshq_mailbox_ctrl *c = mem;
    if (!mem || size < sizeof *c || ((uintptr_t)mem & 7))
        return -EINVAL;
    if (c->magic != DSHQ_MAILBOX_MAGIC)
        return DSHQ_EMAGIC;
    if (c->version != DSHQ_MAILBOX_VERSION || !pow2_ok(c->capacity) ||
        c->slot_size != sizeof(struct dshq_mailbox_slot) ||
        c->msg_size != sizeof(struct dshq_msg) ||
        c->slots_offset != sizeof(struct dshq_mailbox_ctrl))
        return DSHQ_ECORRUPT;
    if (size < dshq_mailbox_bytes(c->capacity))
        return DSHQ_ESIZE;
    return 0;
}

/* The consumer role: one owner word (transport/owner.h): CAS from free or
 * from the very word of a dead consumer, so of several processes taking over
 * from a dead consumer at once exactly one wins.  Acquire (OW1) pairs with
 * the release in consumer_give (OW2): we start from the head it left. */
static int consumer_take(struct dshq_mailbox_ctrl *c)
{
    int rc = dshq_owner_take(&c->consumer, NULL);
    return rc < 0 ? rc : 0;
}

static void consumer_give(struct dshq_mailbox_ctrl *c)
{
    /* OW2: release pairs with OW1 in consumer_take: the next consumer sees
     * the head cursor and slot states we left. */
    dshq_owner_drop(&c->consumer);
}

int dshq_mailbox_attach(void *mem, uint64_t size, unsigned flags,
                        struct dshq_mailbox **out)
{
    int rc = ctrl_check(mem, size);
    if (rc)
        return rc;
    if (flags & ~(unsigned)DSHQ_MAILBOX_CONSUMER)
        return -EINVAL;
    struct dshq_mailbox *mb = calloc(1, sizeof *mb);
    if (!mb)
        return -ENOMEM;
    mb->ctrl = mem;
    mb->slots = (void *)((unsigned char *)mem + mb->ctrl->slots_offset);
    mb->mask = mb->ctrl->capacity - 1;
    if (flags & DSHQ_MAILBOX_CONSUMER) {
        rc = consumer_take(mb->ctrl);
        if (rc) {
            free(mb);
            return rc;
        }
        mb->consumer = 1;
        /* Relaxed: ordered by the acquire in consumer_take. */
        mb->head = atomic_load_explicit(&mb->ctrl->head, memory_order_relaxed);
    }
    *out = mb;
    return 0;
}

void dshq_mailbox_detach(struct dshq_mailbox *mb)
{
    if (!mb)
        return;
    if (mb->consumer)
        consumer_give(mb->ctrl);
    free(mb);
}

static uint64_t claim_word(uint64_t pos, int32_t pid)
{
    return DSHQ_MAILBOX_CLAIMED | ((pos & DSHQ_MAILBOX_TAG_MASK) << 32) | (uint32_t)pid;
}

static int claimed_for(uint64_t state, uint64_t pos)
{
    return (state & DSHQ_MAILBOX_CLAIMED) &&
           ((state >> 32) & DSHQ_MAILBOX_TAG_MASK) == (pos & DSHQ_MAILBOX_TAG_MASK);
}

/* Moves the tail from pos to pos + 1 unless someone already did. */
static void tail_help(struct dshq_mailbox_ctrl *c, uint64_t pos)
{
    /* P3 release: pairs with P0 (acquire) of the next poster, which then
     * sees this slot's claim when it looks at it (see the FULL test). */
    atomic_compare_exchange_strong_explicit(&c->tail, &pos, pos + 1,
                                            memory_order_release, memory_order_relaxed);
}

int dshq_mailbox_claim(struct dshq_mailbox *mb, struct dshq_msg **msg)
{
    struct dshq_mailbox_ctrl *c = mb->ctrl;
    if (mb->claimed)
        return -EINVAL; /* one outstanding claim per handle */
    int32_t pid = getpid();
    if (pid != mb->pid) { /* first use, or we are a forked child */
        mb->pid = pid;
        mb->start_ticks = dshq_process_start_ticks(pid);
    }
    /* P0 acquire: pairs with P3 of the poster that moved the tail here. */
    uint64_t pos = atomic_load_explicit(&c->tail, memory_order_acquire);
    for (;;) {
        struct dshq_mailbox_slot *s = &mb->slots[pos & mb->mask];
        /* P1 acquire: pairs with C3 (the consumer's release of the slot): its
         * reads of the previous record are over before we write this one. */
        uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == pos) {
            uint64_t word = claim_word(pos, pid);
            /* P2 acq_rel: acquire as P1; release so that whoever sees the
             * claim (P1 of another poster, C1 of the consumer) also sees the
             * tail value that led us here. */
            if (atomic_compare_exchange_strong_explicit(&s->state, &st, word,
                                                        memory_order_acq_rel,
                                                        memory_order_acquire)) {
                DSHQ_PERTURB();
                tail_help(c, pos);
                /* Relaxed: the consumer reads it only to judge liveness; 0
                 * (reset at release, C3) means "judge by pid alone". */
                atomic_store_explicit(&s->poster_start_ticks, mb->start_ticks,
                                      memory_order_relaxed);
                mb->claimed = s;
                mb->claimed_pos = pos;
                mb->claimed_word = word;
                *msg = &s->msg;
                return 0;
            }
            continue; /* lost the race for this slot: look at it again */
        }
        if (st == pos + 1 || claimed_for(st, pos)) {
            tail_help(c, pos); /* taken for this lap: move on */
            pos++;
            continue;
        }
        /* Either the slot still holds the previous lap (the mailbox is full)
         * or our pos is stale (the slot is already on a later lap).  The tail
         * tells them apart: if it has not moved, every later-lap state is
         * impossible (P0/P2/P3 chain), so this is the previous lap. */
        uint64_t now = atomic_load_explicit(&c->tail, memory_order_acquire); /* P0 again */
        if (now != pos) {
            pos = now;
            continue;
        }
        if ((st & DSHQ_MAILBOX_CLAIMED) || (int64_t)(st - pos) < 0) {
            /* Relaxed: a statistics counter. */
            atomic_fetch_add_explicit(&c->full, 1, memory_order_relaxed);
            return DSHQ_MAILBOX_FULL;
        }
        return DSHQ_ECORRUPT; /* a later-lap state while the tail is at pos */
    }
}

/* Protocol of the mailbox channel (docs/channels.md, "Mailbox").
 *
 *   poster (any process)                     consumer (one process)
 *   --------------------                     ----------------------
 *   pos = tail                    (P0 acq)   pos = head (private)
 *   st = slot[pos].state          (P1 acq)   st = slot[pos].state        (C1 acq)
 *   st == pos: CAS -> CLAIMED|tag|pid (P2)   st == pos+1: copy the record out
 *     CAS tail pos -> pos+1       (P3 rel)     start_ticks = 0, state = pos+cap (C3 rel)
 *     write type, version, payload             head = pos+1; classify by (type, version):
 *     CAS state -> pos+1          (P4 rel)       known -> deliver; else count, next
 *     posted += 1; notify event              st == pos: EMPTY
 *   st == pos+1 or claimed for pos:          st == CLAIMED for pos by pid:
 *     help tail, pos+1, again                  pid alive: EMPTY (still being written)
 *   previous lap and tail == pos: FULL         pid dead: CAS -> pos+cap (C2), count, next
 *
 * Pairings: C1 with P4 (the record's bytes are visible once the state says
 * committed); P1/P2 with C3 and C2 (a poster rewrites a slot only after the
 * consumer is done with it); P0 with P3 (a poster that reads tail = pos sees
 * every claim below pos, so "previous lap" is never mistaken).  Nobody
 * retries in a loop that another process must end: a poster gets FULL, the
 * consumer gets EMPTY. */
int dshq_mailbox_commit(struct dshq_mailbox *mb, struct dshq_msg *msg)
{
    struct dshq_mailbox_slot *s = mb->claimed;
    if (!s || msg != &s->msg)
        return -EINVAL;
    mb->claimed = NULL;
    msg->sender_pid = mb->pid;
    msg->sender_tid = (uint32_t)gettid();
    msg->sequence = ++mb->sequence;
    msg->sent_ns = dshq_now_ns();
    uint64_t expect = mb->claimed_word;
    DSHQ_PERTURB();
    /* P4 release: pairs with C1: the record is complete before the state
     * says committed.  A CAS, not a store: if the consumer judged us dead
     * (C2) the slot is no longer ours and must not be touched. */
    if (!atomic_compare_exchange_strong_explicit(&s->state, &expect, mb->claimed_pos + 1,
                                                 memory_order_release,
                                                 memory_order_relaxed))
        return DSHQ_EDEAD;
    /* Relaxed: a statistics counter. */
    atomic_fetch_add_explicit(&mb->ctrl->posted, 1, memory_order_relaxed);
    dshq_event_notify(&mb->ctrl->event);
    return 0;
}

int dshq_mailbox_post(struct dshq_mailbox *mb, uint32_t type, uint32_t version,
                      const void *payload, size_t len)
{
    if (len > DSHQ_MSG_PAYLOAD_BYTES || (len && !payload))
        return -EINVAL;
    struct dshq_msg *m;
    int rc = dshq_mailbox_claim(mb, &m);
    if (rc)
        return rc;
    m->type = type;
    m->version = version;
    memset(m->payload, 0, sizeof m->payload);
    if (len)
        memcpy(m->payload, payload, len);
    return dshq_mailbox_commit(mb, m);
}

static int kind_known(const struct dshq_msg_kind *known, size_t n, uint32_t type,
                      uint32_t version, int *type_seen)
{
    *type_seen = 0;
    for (size_t i = 0; i < n; i++)
        if (known[i].type == type) {
            *type_seen = 1;
            if (known[i].version == version)
                return 1;
        }
    return 0;
}

/* Single-writer counters of the consumer: relaxed load + store is enough
 * (nobody else writes them; readers only want a recent value). */
static void counter_bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

int dshq_mailbox_consume(struct dshq_mailbox *mb, const struct dshq_msg_kind *known,
                         size_t nknown, struct dshq_msg *out)
{
    struct dshq_mailbox_ctrl *c = mb->ctrl;
    if (!mb->consumer)
        return -EPERM;
    for (;;) {
        uint64_t pos = mb->head;
        struct dshq_mailbox_slot *s = &mb->slots[pos & mb->mask];
        /* C1 acquire: pairs with P4 (commit) and P2 (claim). */
        uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        DSHQ_PERTURB();
        if (st == pos + 1) {
            struct dshq_msg m = s->msg; /* plain: ours until C3 */
            /* Relaxed: ordered before the slot's release by C3. */
            atomic_store_explicit(&s->poster_start_ticks, 0, memory_order_relaxed);
            /* C3 release: pairs with P1/P2 of the next lap's poster. */
            atomic_store_explicit(&s->state, pos + mb->mask + 1, memory_order_release);
            mb->head = pos + 1;
            /* Relaxed: only inspection tools read head; consumers take it over
             * through the consumer owner word acquire/release. */
            atomic_store_explicit(&c->head, pos + 1, memory_order_relaxed);
            int type_seen;
            if (kind_known(known, nknown, m.type, m.version, &type_seen)) {
                counter_bump(&c->consumed);
                *out = m;
                return DSHQ_MAILBOX_MSG;
            }
            counter_bump(type_seen ? &c->unknown_version : &c->unknown_type);
            continue;
        }
        if (st == pos)
            return DSHQ_MAILBOX_EMPTY;
        if (claimed_for(st, pos)) {
            int32_t pid = (int32_t)(uint32_t)st;
            /* Relaxed: 0 or this claimant's value (reset before release, C3). */
            uint64_t ticks = atomic_load_explicit(&s->poster_start_ticks, memory_order_relaxed);
            if (dshq_process_alive(pid, ticks) == DSHQ_CREATOR_ALIVE)
                return DSHQ_MAILBOX_EMPTY; /* being written: wait for it */
            atomic_store_explicit(&s->poster_start_ticks, 0, memory_order_relaxed);
            /* C2 release: pairs with P1/P2 of the next lap's poster.  A CAS:
             * if the poster committed after all, deliver that instead. */
            if (atomic_compare_exchange_strong_explicit(&s->state, &st, pos + mb->mask + 1,
                                                        memory_order_release,
                                                        memory_order_relaxed)) {
                counter_bump(&c->dead_skipped);
                mb->head = pos + 1;
                atomic_store_explicit(&c->head, pos + 1, memory_order_relaxed); /* as above */
            }
            continue;
        }
        return DSHQ_ECORRUPT;
    }
}

int dshq_mailbox_wait(struct dshq_mailbox *mb, int64_t timeout_ns)
{
    if (!mb->consumer)
        return -EPERM;
    uint32_t e = dshq_event_prepare(&mb->ctrl->event);
    DSHQ_PERTURB();
    struct dshq_mailbox_slot *s = &mb->slots[mb->head & mb->mask];
    /* Acquire: the same pairing as C1; only decides whether to sleep. */
    if (atomic_load_explicit(&s->state, memory_order_acquire) != mb->head)
        return 0; /* committed or claimed: look now */
    return dshq_event_wait(&mb->ctrl->event, e, timeout_ns);
}

int dshq_mailbox_stats(const void *mem, uint64_t size, struct dshq_mailbox_stats *st)
{
    int rc = ctrl_check(mem, size);
    if (rc)
        return rc;
    /* Loads through a non-const pointer: C11 atomic loads take one, and a
     * read-only mapping is fine for loads. */
    struct dshq_mailbox_ctrl *c = (struct dshq_mailbox_ctrl *)mem;
    memset(st, 0, sizeof *st);
    st->capacity = c->capacity;
    /* Relaxed throughout: statistics, each value exact, not a joint snapshot. */
    st->tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
    st->head = atomic_load_explicit(&c->head, memory_order_relaxed);
    st->posted = atomic_load_explicit(&c->posted, memory_order_relaxed);
    st->full = atomic_load_explicit(&c->full, memory_order_relaxed);
    st->consumed = atomic_load_explicit(&c->consumed, memory_order_relaxed);
    st->unknown_type = atomic_load_explicit(&c->unknown_type, memory_order_relaxed);
    st->unknown_version = atomic_load_explicit(&c->unknown_version, memory_order_relaxed);
    st->dead_skipped = atomic_load_explicit(&c->dead_skipped, memory_order_relaxed);
    st->consumer_pid = dshq_owner_pid(atomic_load_explicit(&c->consumer, memory_order_relaxed));
    return 0;
}

const char *dshq_msg_type_name(uint32_t type)
{
    switch (type) {
    case DSHQ_MSG_STOP: return "stop";
    case DSHQ_MSG_PAUSE: return "pause";
    case DSHQ_MSG_SET_HPARAM: return "set_hparam";
    case DSHQ_MSG_RESET: return "reset";
    default: return NULL;
    }
}

const char *dshq_hparam_name(uint32_t param)
{
    switch (param) {
    case DSHQ_HPARAM_LEARNING_RATE: return "learning_rate";
    case DSHQ_HPARAM_ENTROPY_COEF: return "entropy_coef";
    case DSHQ_HPARAM_SHAPING_COEF: return "shaping_coef";
    case DSHQ_HPARAM_CLIP: return "clip";
    default: return NULL;
    }
}
