/* rollout.h — the rollout transport: per-producer SPSC lanes and an MPSC
 * ring of fixed-size slots, in sections of a shared region.
 *
 * Both carry slots of slot_size bytes, filled and read in place; for
 * rollouts a slot is one chunk (chunk.h: slot_size = layout.bytes).
 *
 *   lanes (DSHQ_SECTION_LANES, the default for rollouts)
 *     one single-producer/single-consumer ring per producer.  Producer:
 *     dshq_lane_claim -> fill the slot -> dshq_lane_commit.  Consumer:
 *     dshq_lane_poll -> read in place -> dshq_lane_release; poll serves the
 *     lanes round-robin, so a busy lane cannot starve the others.
 *   mpsc  (DSHQ_SECTION_MPSC)
 *     one ring shared by up to `producers` registered producers: a slot is
 *     reserved by CAS on one counter, committed by a per-slot word, and
 *     consumed strictly in reservation order.
 *
 * The full policy is fixed at creation: DSHQ_RING_DROP (claim fails at once
 * with DSHQ_RING_FULL and the producer's `dropped` counter rises) or
 * DSHQ_RING_BLOCK (claim sleeps until there is room or the timeout ends).
 * An empty consumer sleeps too.  Sleeping is on struct dshq_event (wait.h)
 * inside a struct dshq_ring_sleep, after a short bounded spin; a commit or
 * release makes no system call and no read-modify-write unless someone is
 * about to sleep, and then only the first one after that does.
 *
 * Crashes: a producer killed between claim and commit never exposes its
 * slot.  A lane whose owner died is taken over by the next
 * dshq_lane_producer_open (the abandoned claim is counted).  In the MPSC
 * ring, a slot reserved by a producer that died is found by the consumer
 * (pid and start time recorded per producer), skipped and counted in
 * `unblocked`, so the consumer never hangs on it.
 *
 * Setup (creator):
 *   struct dshq_ring_params p = {.slot_size = layout.bytes, .capacity = 8,
 *                                .producers = 16, .policy = DSHQ_RING_BLOCK};
 *   dshq_layout_add(&l, DSHQ_SECTION_LANES, "rollouts", DSHQ_LANES_VERSION,
 *                   dshq_lanes_size(&p), DSHQ_PAGE_ALIGN, layout.shape_hash);
 *   dshq_region_create(...); dshq_region_find(...);
 *   dshq_lanes_init(section, size, &p); dshq_region_mark_ready(r);
 * Others: dshq_region_find(...), then open a producer or the consumer.
 *
 * Handles (struct dshq_lane_producer etc.) are private to the process and
 * thread that opened them; open them after fork(), never before.  Every
 * function returns 0 or a negative error (errno or DSHQ_E*) unless it says
 * otherwise; DSHQ_RING_FULL and DSHQ_RING_EMPTY are normal outcomes (> 0). */
#ifndef DSHQ_ROLLOUT_H
#define DSHQ_ROLLOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dshq/wait.h"

#define DSHQ_LANES_MAGIC UINT64_C(0x31454e414c514844) /* "DHQLANE1" (LE) */
#define DSHQ_MPSC_MAGIC UINT64_C(0x314353504d514844)  /* "DHQMPSC1" (LE) */
#define DSHQ_LANES_VERSION 2
#define DSHQ_MPSC_VERSION 2
#define DSHQ_RING_MAX_CAPACITY (1u << 24)
#define DSHQ_RING_MAX_PRODUCERS 1024
#define DSHQ_RING_MAX_SLOT (UINT64_C(1) << 40)

/* Full policy, chosen at creation. */
enum {
    DSHQ_RING_DROP = 1,  /* claim on a full ring fails at once; dropped += 1 */
    DSHQ_RING_BLOCK = 2, /* claim on a full ring sleeps (with a timeout) */
};

/* How wakers and sleepers pair up (a ring's wake_mode, fixed at creation;
 * see "Rollout sleep/wake" in docs/abi.md). */
enum {
    DSHQ_WAKE_SEQCST = 1,     /* wakers store the condition word seq_cst */
    DSHQ_WAKE_MEMBARRIER = 2, /* wakers store it with release order; a
                               * sleeper issues membarrier(2) instead */
};

/* dshq_ring_params.flags */
enum {
    DSHQ_RING_FORCE_SEQCST = 1u << 0, /* never use DSHQ_WAKE_MEMBARRIER */
};

/* Normal outcomes of claim and poll (positive; errors are negative). */
enum {
    DSHQ_RING_FULL = 1,  /* no room: dropped (DROP) or timeout ended (BLOCK) */
    DSHQ_RING_EMPTY = 2, /* nothing committed within the timeout */
};

/* Creation parameters (private memory). */
struct dshq_ring_params {
    uint64_t slot_size;  /* bytes a producer fills per slot (>= 1) */
    uint32_t capacity;   /* slots per lane / in the ring: a power of two */
    uint32_t producers;  /* lanes: number of lanes; mpsc: producer table size */
    uint32_t policy;     /* DSHQ_RING_DROP or DSHQ_RING_BLOCK */
    uint32_t flags;      /* DSHQ_RING_FORCE_SEQCST or 0 (ignored by check) */
};

/* One claimed or polled slot (private memory). */
struct dshq_slot {
    void *data;     /* slot_size bytes, 64-byte aligned, in the region */
    uint64_t size;  /* slot_size */
    uint64_t seq;   /* position in its lane (lanes) or in the ring (mpsc):
                     * strictly increasing per lane, per producer in mpsc */
    uint32_t lane;  /* lane index (lanes); the producer's table index (mpsc) */
    uint32_t pad;
};

/* ------------------------------------------------------------- shared ABI */

/* Owner words (lane owner, consumer, mpsc producer entries) are one 64-bit
 * value (the library's owner module, docs/abi.md "Owner words"): pid in
 * bits 0-30, bit 31 a reclaim mark, the low 32 bits of the process's start
 * time (clock ticks since boot) in the high 32; 0 means free.  One word, so
 * a takeover is one CAS and a reader never sees a pid with a stale time.
 * Version 2 of both sections: taken and dropped through that module. */

/* A place to sleep: the wait/notify event and an `armed` word that a
 * sleeper sets (after taking its event snapshot, before testing its
 * condition) and the first waker after it clears by exchange before
 * notifying, so one sleep costs one notify however many commits follow. */
struct dshq_ring_sleep {
    struct dshq_event ev;          /*   0: seq + waiters (wait.h) */
    _Atomic uint32_t armed;        /*   8: 1: a sleeper may be asleep on ev */
    uint32_t pad;                  /*  12: zero */
};

/* Lanes section: struct dshq_lanes_ctrl, then lane_count x struct
 * dshq_lane_ctrl at lanes_offset, then the slots at slots_offset (4096-
 * aligned): slot j of lane i at slots_offset + (i*capacity + j)*slot_stride. */
struct dshq_lanes_ctrl {
    /* line 0: configuration, written once by dshq_lanes_init */
    uint64_t magic;                /*   0: DSHQ_LANES_MAGIC */
    uint32_t version;              /*   8: DSHQ_LANES_VERSION */
    uint32_t lane_count;           /*  12 */
    uint32_t capacity;             /*  16: slots per lane, power of two */
    uint32_t policy;               /*  20: DSHQ_RING_DROP / DSHQ_RING_BLOCK */
    uint64_t slot_size;            /*  24 */
    uint64_t slot_stride;          /*  32: slot_size rounded up to 64 */
    uint64_t lanes_offset;         /*  40: from the section start */
    uint64_t slots_offset;         /*  48: from the section start */
    uint64_t section_size;         /*  56: bytes the layout needs */
    /* line 1: the consumer */
    _Atomic uint64_t consumer;     /*  64: owner word of the consumer */
    struct dshq_ring_sleep data_ready; /* 72: producers wake the consumer */
    uint32_t wake_mode;            /*  88: DSHQ_WAKE_*, written once by init */
    uint32_t pad0;                 /*  92: zero */
    uint64_t reserved[4];          /*  96: zero */
};

struct dshq_lane_ctrl {
    /* line 0: written by the lane's producer */
    _Atomic uint64_t head;         /*   0: slots committed (free-running) */
    _Atomic uint64_t claimed;      /*   8: head + 1 while a slot is claimed */
    _Atomic uint64_t dropped;      /*  16: claims refused (DROP) */
    _Atomic uint64_t blocked;      /*  24: claims that slept for room (BLOCK) */
    uint64_t reserved0[4];         /*  32: zero */
    /* line 1: written by the consumer */
    _Atomic uint64_t tail;         /*  64: slots released (free-running) */
    struct dshq_ring_sleep space;  /*  72: consumer wakes a producer */
    uint64_t reserved1[5];         /*  88: zero */
    /* line 2: ownership, cold */
    _Atomic uint64_t owner;        /* 128: owner word of the producer */
    _Atomic uint64_t reclaims;     /* 136: takeovers from a dead owner */
    _Atomic uint64_t abandoned;    /* 144: claims a dead owner left uncommitted */
    uint64_t reserved2[5];         /* 152: zero */
};

/* MPSC section: struct dshq_mpsc_ctrl, producers x struct dshq_mpsc_entry
 * at entries_offset, capacity x u64 commit words at commits_offset, the
 * slots at slots_offset (4096-aligned): slot of position pos at
 * slots_offset + (pos & (capacity-1))*slot_stride. */
struct dshq_mpsc_ctrl {
    /* line 0: configuration, written once by dshq_mpsc_init */
    uint64_t magic;                /*   0: DSHQ_MPSC_MAGIC */
    uint32_t version;              /*   8: DSHQ_MPSC_VERSION */
    uint32_t capacity;             /*  12: slots, power of two */
    uint32_t policy;               /*  16 */
    uint32_t max_producers;        /*  20: entries in the producer table */
    uint64_t slot_size;            /*  24 */
    uint64_t slot_stride;          /*  32 */
    uint64_t entries_offset;       /*  40 */
    uint64_t commits_offset;       /*  48 */
    uint64_t slots_offset;         /*  56 */
    /* line 1: written by every producer */
    _Atomic uint64_t reserve;      /*  64: positions reserved (free-running) */
    uint64_t section_size;         /*  72: bytes the layout needs */
    uint32_t wake_mode;            /*  80: DSHQ_WAKE_*, written once by init */
    uint32_t pad1;                 /*  84: zero */
    uint64_t reserved1[5];         /*  88: zero */
    /* line 2: written by the consumer */
    _Atomic uint64_t tail;         /* 128: positions released (free-running) */
    _Atomic uint64_t consumed;     /* 136: slots handed out by poll, released */
    _Atomic uint64_t unblocked;    /* 144: dead producers' slots skipped */
    struct dshq_ring_sleep space;  /* 152: consumer wakes producers */
    uint64_t reserved2[3];         /* 168: zero */
    /* line 3: the consumer's identity and sleep */
    _Atomic uint64_t consumer;     /* 192: owner word of the consumer */
    struct dshq_ring_sleep data_ready; /* 200: producers wake the consumer */
    uint64_t reserved3[5];         /* 216: zero */
};

/* One registered producer of an MPSC ring: 64 bytes, written by it alone. */
struct dshq_mpsc_entry {
    _Atomic uint64_t owner;        /*   0: owner word; 0 = free */
    _Atomic uint64_t intent;       /*   8: position it reserves or holds;
                                    *      UINT64_MAX when it holds none */
    _Atomic uint64_t committed;    /*  16: slots it committed */
    _Atomic uint64_t dropped;      /*  24: claims refused (DROP) */
    _Atomic uint64_t blocked;      /*  32: claims that slept for room */
    _Atomic uint64_t reclaims;     /*  40: takeovers of this entry from a dead owner */
    uint64_t reserved[2];          /*  48: zero */
};

/* --------------------------------------------------------- counters (view) */

struct dshq_lane_stats {
    int32_t owner_pid;     /* 0: none */
    int32_t owner_alive;   /* 1 alive, 0 dead or none */
    uint64_t committed;    /* head */
    uint64_t consumed;     /* tail */
    uint64_t fill;         /* committed - consumed: slots in use */
    uint64_t claimed;      /* 1 while the producer holds a claim */
    uint64_t dropped, blocked, reclaims, abandoned;
};

struct dshq_ring_stats {
    uint32_t capacity, producers, policy, pad;
    uint64_t slot_size;
    int32_t consumer_pid, consumer_alive;
    uint64_t committed;    /* sum over lanes / producers */
    uint64_t consumed;
    uint64_t dropped;
    uint64_t blocked;
    uint64_t unblocked;    /* mpsc: dead reservations skipped; lanes: abandoned claims */
    uint64_t fill;         /* lanes: sum of fills; mpsc: reserved - released */
    uint64_t reserved;     /* mpsc: positions reserved so far; lanes: 0 */
};

/* A producer's own counters (private memory): what it committed, how many
 * of its claims were refused (DROP) or slept for room (BLOCK). */
struct dshq_producer_counts {
    uint64_t committed, dropped, blocked;
};

/* ------------------------------------------------------------------ lanes */

struct dshq_lane_producer; /* process-local handles */
struct dshq_lane_consumer;

/* Bytes a lanes section with these parameters needs; 0 when they are
 * invalid (capacity not a power of two, zero sizes, limits). */
uint64_t dshq_lanes_size(const struct dshq_ring_params *p);
/* Creator: initializes a zeroed or reused section of size bytes (>=
 * dshq_lanes_size), before the region is marked ready.  -EINVAL for bad
 * parameters, -ENOSPC when size is too small. */
int dshq_lanes_init(void *section, uint64_t size, const struct dshq_ring_params *p);
/* Checks a section's control block and reads its parameters (p may be
 * NULL).  0 or DSHQ_ECORRUPT. */
int dshq_lanes_check(const void *section, uint64_t size, struct dshq_ring_params *p);

/* Becomes the producer of lane `lane`.  A lane whose recorded owner is dead
 * is taken over (reclaims += 1; an uncommitted claim it left counts in
 * abandoned and its slot is reused).  -EBUSY when a live process owns it,
 * -EINVAL for a bad lane, DSHQ_ECORRUPT. */
int dshq_lane_producer_open(void *section, uint64_t size, uint32_t lane,
                            struct dshq_lane_producer **out);
/* Gives the lane up (an uncommitted claim is discarded) and frees p. */
void dshq_lane_producer_close(struct dshq_lane_producer *p);
/* Claims the next slot of the lane.  Returns 0 and fills *out; DSHQ_RING_FULL
 * when the lane is full (DROP: at once, dropped += 1; BLOCK: after sleeping
 * up to timeout_ns, < 0 forever).  A second claim before commit returns the
 * same slot again. */
int dshq_lane_claim(struct dshq_lane_producer *p, int64_t timeout_ns,
                    struct dshq_slot *out);
/* Publishes the claimed slot to the consumer.  -EINVAL when none is claimed. */
int dshq_lane_commit(struct dshq_lane_producer *p);

/* Becomes the consumer (one per section; a dead one is replaced, and the
 * slots it polled but never released are delivered again).  -EBUSY when a
 * live consumer exists. */
int dshq_lane_consumer_open(void *section, uint64_t size,
                            struct dshq_lane_consumer **out);
void dshq_lane_consumer_close(struct dshq_lane_consumer *c);
/* The next committed slot, lanes served round-robin.  0 and *out;
 * DSHQ_RING_EMPTY when nothing arrives within timeout_ns (0: don't wait,
 * < 0: forever).  The slot stays valid until released. */
int dshq_lane_poll(struct dshq_lane_consumer *c, int64_t timeout_ns,
                   struct dshq_slot *out);
/* Returns a polled slot to its producer.  Slots of one lane are released in
 * the order they were polled (-EINVAL otherwise). */
int dshq_lane_release(struct dshq_lane_consumer *c, const struct dshq_slot *s);

/* This producer's own counters: loads of its own lane's line only (no
 * other lane is read, no liveness is probed), cheap enough per claim. */
void dshq_lane_producer_counts(const struct dshq_lane_producer *p,
                               struct dshq_producer_counts *out);

/* Read-only counters (for inspect; works on a PROT_READ mapping).  Fills
 * per_lane[0..min(lanes, max)-1] when per_lane is not NULL. */
int dshq_lanes_stats(const void *section, uint64_t size, struct dshq_ring_stats *out,
                     struct dshq_lane_stats *per_lane, uint32_t max);

/* Short path: a region of its own holding one lanes section.
 *   consumer (creator):  dshq_lanes_create("rollouts", &params, &c);
 *   producer i:          dshq_lane_producer_attach("rollouts", i, &p);
 * then claim/commit and poll/release as above.  Closing the creator's
 * consumer destroys the region; closing an attached handle detaches it.
 * Names may start with '/'; a stale region of a dead creator is replaced.
 * create: -EINVAL when dshq_lanes_size(p) is 0, or a region error. */
#define DSHQ_LANES_SECTION "lanes"
int dshq_lanes_create(const char *name, const struct dshq_ring_params *p,
                      struct dshq_lane_consumer **out);
int dshq_lane_producer_attach(const char *name, uint32_t lane,
                              struct dshq_lane_producer **out);
/* A replacement consumer (the creator's died). */
int dshq_lane_consumer_attach(const char *name, struct dshq_lane_consumer **out);

/* ------------------------------------------------------------------- mpsc */

struct dshq_mpsc_producer;
struct dshq_mpsc_consumer;

uint64_t dshq_mpsc_size(const struct dshq_ring_params *p);
int dshq_mpsc_init(void *section, uint64_t size, const struct dshq_ring_params *p);
int dshq_mpsc_check(const void *section, uint64_t size, struct dshq_ring_params *p);

/* Registers a producer in a free entry of the table, or in one whose owner
 * died (reclaims += 1).  DSHQ_ELIMIT when every entry has a live owner. */
int dshq_mpsc_producer_open(void *section, uint64_t size,
                            struct dshq_mpsc_producer **out);
/* The same in entry `id` (0..producers-1): a producer identity.  A
 * restarted producer that opens its id again takes its dead predecessor's
 * entry over and continues its counters (committed, dropped, blocked), so
 * dshq_mpsc_stats reports per identity across restarts.  DSHQ_MPSC_ANY:
 * any entry, as dshq_mpsc_producer_open.  -EBUSY when a live process holds
 * that id, -EINVAL for an id out of range. */
#define DSHQ_MPSC_ANY UINT32_MAX
int dshq_mpsc_producer_open_id(void *section, uint64_t size, uint32_t id,
                               struct dshq_mpsc_producer **out);
/* The entry (identity) this producer holds. */
uint32_t dshq_mpsc_producer_id(const struct dshq_mpsc_producer *p);
/* This producer's own counters, from private copies: no shared access. */
void dshq_mpsc_producer_counts(const struct dshq_mpsc_producer *p,
                               struct dshq_producer_counts *out);
void dshq_mpsc_producer_close(struct dshq_mpsc_producer *p);
/* Reserves the next position of the ring; as dshq_lane_claim.  A second
 * claim before commit returns the same slot again. */
int dshq_mpsc_claim(struct dshq_mpsc_producer *p, int64_t timeout_ns,
                    struct dshq_slot *out);
int dshq_mpsc_commit(struct dshq_mpsc_producer *p);
/* Batch claim: reserves up to max consecutive slots with one reservation
 * (as many as there is room for, at least 1; a full ring is handled as in
 * dshq_mpsc_claim) and fills slots[0..*count-1].  Fill them all, then
 * dshq_mpsc_commit_batch publishes them together (one wake-up).  The
 * consumer sees them as ordinary slots.  -EINVAL for max 0. */
int dshq_mpsc_claim_batch(struct dshq_mpsc_producer *p, uint32_t max, int64_t timeout_ns,
                          struct dshq_slot *slots, uint32_t *count);
int dshq_mpsc_commit_batch(struct dshq_mpsc_producer *p);

int dshq_mpsc_consumer_open(void *section, uint64_t size,
                            struct dshq_mpsc_consumer **out);
void dshq_mpsc_consumer_close(struct dshq_mpsc_consumer *c);
/* The slot at the next position, in reservation order.  A position whose
 * producer died before committing is skipped (unblocked += 1).  0 and
 * *out, or DSHQ_RING_EMPTY after timeout_ns. */
int dshq_mpsc_poll(struct dshq_mpsc_consumer *c, int64_t timeout_ns,
                   struct dshq_slot *out);
/* Releases polled slots in poll order (-EINVAL otherwise). */
int dshq_mpsc_release(struct dshq_mpsc_consumer *c, const struct dshq_slot *s);
/* Batch poll: the next committed slot as dshq_mpsc_poll (waiting up to
 * timeout_ns), then as many of the following ones as are committed already,
 * up to max, into slots[0..*count-1].  -EINVAL for max 0. */
int dshq_mpsc_poll_batch(struct dshq_mpsc_consumer *c, uint32_t max, int64_t timeout_ns,
                         struct dshq_slot *slots, uint32_t *count);
/* Releases every polled slot up to and including `last` (one store of the
 * tail for the lot).  -EINVAL when last is not a polled, unreleased slot. */
int dshq_mpsc_release_upto(struct dshq_mpsc_consumer *c, const struct dshq_slot *last);

/* Short path, as for lanes:
 *   consumer (creator):  dshq_mpsc_create("records", &params, &c);
 *   producer:            dshq_mpsc_producer_attach("records", id, &p);
 *                        (id: its identity 0..producers-1, or DSHQ_MPSC_ANY) */
#define DSHQ_MPSC_SECTION "mpsc"
int dshq_mpsc_create(const char *name, const struct dshq_ring_params *p,
                     struct dshq_mpsc_consumer **out);
int dshq_mpsc_producer_attach(const char *name, uint32_t id,
                              struct dshq_mpsc_producer **out);
int dshq_mpsc_consumer_attach(const char *name, struct dshq_mpsc_consumer **out);

/* Read-only counters.  per_producer[i] gets entry i (owner_pid, alive,
 * committed, dropped, blocked, reclaims; other fields 0). */
int dshq_mpsc_stats(const void *section, uint64_t size, struct dshq_ring_stats *out,
                    struct dshq_lane_stats *per_producer, uint32_t max);

/* ----------------------------------------------------------- layout asserts */

_Static_assert(sizeof(struct dshq_ring_sleep) == 16, "abi");
_Static_assert(offsetof(struct dshq_ring_sleep, ev) == 0, "abi");
_Static_assert(offsetof(struct dshq_ring_sleep, armed) == 8, "abi");
_Static_assert(offsetof(struct dshq_ring_sleep, pad) == 12, "abi");

_Static_assert(sizeof(struct dshq_lanes_ctrl) == 128, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, magic) == 0, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, version) == 8, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, lane_count) == 12, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, capacity) == 16, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, policy) == 20, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, slot_size) == 24, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, slot_stride) == 32, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, lanes_offset) == 40, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, slots_offset) == 48, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, section_size) == 56, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, consumer) == 64, "abi: own line");
_Static_assert(offsetof(struct dshq_lanes_ctrl, data_ready) == 72, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, wake_mode) == 88, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, pad0) == 92, "abi");
_Static_assert(offsetof(struct dshq_lanes_ctrl, reserved) == 96, "abi");

_Static_assert(sizeof(struct dshq_lane_ctrl) == 192, "abi");
_Static_assert(offsetof(struct dshq_lane_ctrl, head) == 0, "abi: producer line");
_Static_assert(offsetof(struct dshq_lane_ctrl, claimed) == 8, "abi");
_Static_assert(offsetof(struct dshq_lane_ctrl, dropped) == 16, "abi");
_Static_assert(offsetof(struct dshq_lane_ctrl, blocked) == 24, "abi");
_Static_assert(offsetof(struct dshq_lane_ctrl, reserved0) == 32, "abi");
_Static_assert(offsetof(struct dshq_lane_ctrl, tail) == 64, "abi: consumer line");
_Static_assert(offsetof(struct dshq_lane_ctrl, space) == 72, "abi");
_Static_assert(offsetof(struct dshq_lane_ctrl, reserved1) == 88, "abi");
_Static_assert(offsetof(struct dshq_lane_ctrl, owner) == 128, "abi: cold line");
_Static_assert(offsetof(struct dshq_lane_ctrl, reclaims) == 136, "abi");
_Static_assert(offsetof(struct dshq_lane_ctrl, abandoned) == 144, "abi");
_Static_assert(offsetof(struct dshq_lane_ctrl, reserved2) == 152, "abi");

_Static_assert(sizeof(struct dshq_mpsc_ctrl) == 256, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, magic) == 0, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, version) == 8, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, capacity) == 12, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, policy) == 16, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, max_producers) == 20, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, slot_size) == 24, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, slot_stride) == 32, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, entries_offset) == 40, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, commits_offset) == 48, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, slots_offset) == 56, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, reserve) == 64, "abi: producers' line");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, section_size) == 72, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, wake_mode) == 80, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, pad1) == 84, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, reserved1) == 88, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, tail) == 128, "abi: consumer line");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, consumed) == 136, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, unblocked) == 144, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, space) == 152, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, reserved2) == 168, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, consumer) == 192, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, data_ready) == 200, "abi");
_Static_assert(offsetof(struct dshq_mpsc_ctrl, reserved3) == 216, "abi");

_Static_assert(sizeof(struct dshq_mpsc_entry) == 64, "abi: one line per producer");
_Static_assert(offsetof(struct dshq_mpsc_entry, owner) == 0, "abi");
_Static_assert(offsetof(struct dshq_mpsc_entry, intent) == 8, "abi");
_Static_assert(offsetof(struct dshq_mpsc_entry, committed) == 16, "abi");
_Static_assert(offsetof(struct dshq_mpsc_entry, dropped) == 24, "abi");
_Static_assert(offsetof(struct dshq_mpsc_entry, blocked) == 32, "abi");
_Static_assert(offsetof(struct dshq_mpsc_entry, reclaims) == 40, "abi");
_Static_assert(offsetof(struct dshq_mpsc_entry, reserved) == 48, "abi");

#endif
