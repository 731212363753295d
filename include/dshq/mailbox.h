/* mailbox.h — small typed control messages, many posters -> one consumer.
 *
 * A mailbox is a region section holding a bounded multi-producer
 * single-consumer queue of fixed 64-byte records (struct dshq_msg).  Anyone
 * who maps the region may post (the CLI, the show, the launcher); one process
 * consumes (the trainer).  Bulk data never travels here: a message carries
 * intent ("stop", "set the learning rate to 1e-4"), nothing bigger than 32
 * bytes of plain fields.
 *
 * Guarantees:
 *   - a record is handed to the consumer only once its poster committed it
 *     (per-slot commit: no partial record is ever read);
 *   - a full mailbox answers DSHQ_MAILBOX_FULL to the poster; nothing is ever
 *     overwritten;
 *   - messages of one poster handle arrive in the order it posted them;
 *   - the consumer skips and counts records whose type, or whose version of a
 *     known type, it does not know: it never reads them "as if";
 *   - a poster that dies between claim and commit does not wedge the
 *     consumer: its slot records the poster's pid from the claim on, and the
 *     consumer skips (and counts) a claimed slot whose poster is dead.
 *
 * Section layout (docs/abi.md, docs/channels.md "Mailbox"):
 *   offset 0    struct dshq_mailbox_ctrl        (256 bytes)
 *   offset 256  struct dshq_mailbox_slot [capacity]  (128 bytes each)
 *
 * Use:
 *   creator:   dshq_layout_add(l, DSHQ_SECTION_MAILBOX, "control",
 *                              DSHQ_MAILBOX_VERSION, dshq_mailbox_bytes(64), 64,
 *                              DSHQ_MAILBOX_SHAPE)
 *              dshq_region_create(...); dshq_region_find(...);
 *              dshq_mailbox_init(payload, size, 64); dshq_region_mark_ready(...)
 *   poster:    dshq_mailbox_attach(payload, size, 0, &mb)
 *              dshq_mailbox_post(mb, DSHQ_MSG_STOP, 1, NULL, 0)
 *   consumer:  dshq_mailbox_attach(payload, size, DSHQ_MAILBOX_CONSUMER, &mb)
 *              while (dshq_mailbox_consume(mb, known, nknown, &msg) == DSHQ_MAILBOX_MSG)
 *                  ...act on msg...
 */
#ifndef DSHQ_MAILBOX_H
#define DSHQ_MAILBOX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dshq/error.h"
#include "dshq/wait.h"

#define DSHQ_MAILBOX_MAGIC 0x584f424du  /* "MBOX" in memory order (LE) */
#define DSHQ_MAILBOX_VERSION 2u         /* section version of this layout */
/* Shape hash of the section: dshq_shape_hash of this exact string. */
#define DSHQ_MAILBOX_SHAPE_STRING "mailbox/v2;ctrl=256;slot=128;msg=64"
#define DSHQ_MAILBOX_MAX_CAPACITY (1u << 20)
#define DSHQ_MSG_PAYLOAD_BYTES 32

/* ------------------------------------------------------------- messages */

/* Message types.  The numbers are ABI: never renumbered, never reused; a
 * retired type keeps its number reserved.  docs/channels.md has the table. */
enum {
    DSHQ_MSG_NONE = 0,       /* never posted; reserved */
    DSHQ_MSG_STOP = 1,       /* v1, no payload: finish cleanly (checkpoint, exit) */
    DSHQ_MSG_PAUSE = 2,      /* v1, struct dshq_msg_pause: pause/resume training */
    DSHQ_MSG_SET_HPARAM = 3, /* v1, struct dshq_msg_set_hparam */
    DSHQ_MSG_RESET = 4,      /* v1, no payload: the trainer starts learning over (fresh weights, counters kept) */
    DSHQ_MSG_USER = 1024,    /* first number for experiments and tests */
};

/* Hyper-parameter ids of DSHQ_MSG_SET_HPARAM (ABI, never renumbered). */
enum {
    DSHQ_HPARAM_LEARNING_RATE = 1, /* Adam step size, > 0 */
    DSHQ_HPARAM_ENTROPY_COEF = 2,  /* weight of the entropy bonus, >= 0 */
    DSHQ_HPARAM_SHAPING_COEF = 3,  /* scale of the potential-based shaping reward, >= 0 */
    DSHQ_HPARAM_CLIP = 4,          /* PPO clip range epsilon, > 0 */
};

/* One control message: shared, plain data, 64 bytes.  The poster fills type,
 * version and payload; dshq_mailbox_post fills sender_pid, sender_tid,
 * sequence and sent_ns. */
struct dshq_msg {
    uint32_t type;        /*  0: DSHQ_MSG_* */
    uint32_t version;     /*  4: version of this type's payload layout */
    int32_t sender_pid;   /*  8: getpid() of the poster */
    uint32_t sender_tid;  /* 12: gettid() of the poster (threads of one process) */
    uint64_t sequence;    /* 16: per poster handle, 1, 2, 3, ... */
    uint64_t sent_ns;     /* 24: CLOCK_MONOTONIC at post */
    uint8_t payload[DSHQ_MSG_PAYLOAD_BYTES]; /* 32: type-specific, zero-padded */
};

/* Payload of DSHQ_MSG_PAUSE v1. */
struct dshq_msg_pause {
    uint32_t paused;      /*  0: 1 pause, 0 resume */
    uint32_t reserved[7]; /*  4: zero */
};

/* Payload of DSHQ_MSG_SET_HPARAM v1. */
struct dshq_msg_set_hparam {
    uint32_t param;       /*  0: DSHQ_HPARAM_* */
    float value;          /*  4: new value (the consumer validates the range) */
    uint32_t reserved[6]; /*  8: zero */
};

/* --------------------------------------------------------- shared layout */

/* The control block at the start of the section. */
struct dshq_mailbox_ctrl {
    /* line 0: written once by dshq_mailbox_init, before the region is READY */
    uint32_t magic;               /*   0: DSHQ_MAILBOX_MAGIC */
    uint32_t version;             /*   4: DSHQ_MAILBOX_VERSION */
    uint32_t capacity;            /*   8: slots, a power of two */
    uint32_t slot_size;           /*  12: sizeof(struct dshq_mailbox_slot) */
    uint32_t msg_size;            /*  16: sizeof(struct dshq_msg) */
    uint32_t reserved0;           /*  20: zero */
    uint64_t slots_offset;        /*  24: from the section start */
    uint64_t reserved1[4];        /*  32: zero */
    /* line 1: posters */
    _Atomic uint64_t tail;        /*  64: next position to claim (free-running) */
    _Atomic uint64_t posted;      /*  72: messages committed */
    _Atomic uint64_t full;        /*  80: posts refused because the mailbox was full */
    uint64_t reserved2[5];        /*  88: zero */
    /* line 2: the consumer */
    _Atomic uint64_t head;        /* 128: next position to consume (free-running) */
    _Atomic uint64_t consumed;    /* 136: messages handed to the consumer */
    _Atomic uint64_t unknown_type;    /* 144: skipped: type not known to the consumer */
    _Atomic uint64_t unknown_version; /* 152: skipped: known type, unknown version */
    _Atomic uint64_t dead_skipped;    /* 160: skipped: poster died before commit */
    _Atomic uint64_t consumer;    /* 168: owner word of the consumer (0: none);
                                   * pid | start time << 32, one word (v2) */
    uint64_t reserved3;           /* 176: zero */
    uint64_t reserved4;           /* 184: zero */
    /* line 3: wake-ups */
    struct dshq_event event;      /* 192: notified after every commit */
    uint64_t reserved5[7];        /* 200: zero */
};

/* One slot: a state word on its own line, then the record. */
struct dshq_mailbox_slot {
    _Atomic uint64_t state;       /*   0: see "slot states" below */
    _Atomic uint64_t poster_start_ticks; /* 8: the claimant's start time (0: not yet known) */
    uint64_t reserved[6];         /*  16: zero */
    struct dshq_msg msg;          /*  64: the record, written between claim and commit */
};

/* Slot states.  For the slot of position p (index p & (capacity - 1)):
 *   p                       free for p: a poster may claim it
 *   CLAIMED | tag(p) | pid  claimed for p by process pid (being written)
 *   p + 1                   committed: the consumer may read it
 *   p + capacity            released by the consumer: free for p + capacity
 * tag(p) is p's low 31 bits (so a claim of the previous lap is told apart);
 * pid takes the low 32 bits. */
#define DSHQ_MAILBOX_CLAIMED (UINT64_C(1) << 63)
#define DSHQ_MAILBOX_TAG_MASK UINT64_C(0x7fffffff)

/* ------------------------------------------------------------------ API */

struct dshq_mailbox; /* process-local handle */

/* Normal outcomes (not errors). */
enum {
    DSHQ_MAILBOX_EMPTY = 0, /* consume: nothing committed at the head */
    DSHQ_MAILBOX_MSG = 1,   /* consume: *out holds a message of a known type */
    DSHQ_MAILBOX_FULL = 2,  /* post/claim: every slot is taken; nothing written */
};

enum {
    DSHQ_MAILBOX_CONSUMER = 1u << 0, /* attach as the one consumer */
};

/* A (type, version) the consumer understands.  A type listed with one
 * version and received with another counts as unknown_version. */
struct dshq_msg_kind {
    uint32_t type;
    uint32_t version;
};

/* Counters, copied out with relaxed loads (each exact, not a joint snapshot). */
struct dshq_mailbox_stats {
    uint32_t capacity;
    uint64_t tail, head;
    uint64_t posted, full, consumed, unknown_type, unknown_version, dead_skipped;
    int32_t consumer_pid;
};

/* Section bytes for capacity slots (0 if capacity is not a power of two in
 * [2, DSHQ_MAILBOX_MAX_CAPACITY]). */
uint64_t dshq_mailbox_bytes(uint32_t capacity);
/* The same, saying why a capacity is refused: 0 and *bytes (may be NULL),
 * or DSHQ_ECAPACITY (dshq_strerror names the range). */
int dshq_mailbox_bytes_check(uint32_t capacity, uint64_t *bytes);

/* Shape hash to give dshq_layout_add / dshq_region_find. */
uint64_t dshq_mailbox_shape_hash(void);

/* Creator only, before the region is marked READY: formats size bytes at mem
 * as an empty mailbox.  -EINVAL for a bad capacity, -ENOSPC if it does not fit. */
int dshq_mailbox_init(void *mem, uint64_t size, uint32_t capacity);

/* Validates the control block (DSHQ_EMAGIC, DSHQ_ECORRUPT, DSHQ_ESIZE) and
 * returns a handle.  With DSHQ_MAILBOX_CONSUMER it also becomes the consumer:
 * -EBUSY if a live process already is (a dead one's place is taken over).
 * The memory must stay mapped until detach. */
int dshq_mailbox_attach(void *mem, uint64_t size, unsigned flags,
                        struct dshq_mailbox **out);
/* Frees the handle (and gives up the consumer role if it held it). */
void dshq_mailbox_detach(struct dshq_mailbox *mb);

/* Claims the next free slot for this process and returns its record to fill
 * in place (type, version, payload).  0, DSHQ_MAILBOX_FULL, or an error.
 * Every successful claim must be followed by dshq_mailbox_commit of the same
 * record, from the same thread, soon: the consumer waits for it (unless this
 * process dies, then the slot is skipped). */
int dshq_mailbox_claim(struct dshq_mailbox *mb, struct dshq_msg **msg);
/* Fills the sender fields and publishes the claimed record.  0, or
 * DSHQ_EDEAD if the consumer judged this process dead and skipped the slot. */
int dshq_mailbox_commit(struct dshq_mailbox *mb, struct dshq_msg *msg);

/* claim + copy + commit.  payload may be NULL (len 0); len <= 32 bytes, the
 * rest of the payload is zeroed.  0, DSHQ_MAILBOX_FULL, -EINVAL, DSHQ_EDEAD. */
int dshq_mailbox_post(struct dshq_mailbox *mb, uint32_t type, uint32_t version,
                      const void *payload, size_t len);

/* Consumer only.  Hands out the next committed message whose (type, version)
 * is in known[0..nknown), skipping and counting the others and the slots of
 * dead posters.  DSHQ_MAILBOX_MSG (copied to *out), DSHQ_MAILBOX_EMPTY, -EPERM
 * without the consumer role, DSHQ_ECORRUPT if a slot state is impossible. */
int dshq_mailbox_consume(struct dshq_mailbox *mb, const struct dshq_msg_kind *known,
                         size_t nknown, struct dshq_msg *out);

/* Consumer: sleeps until something may have been posted, at most timeout_ns
 * (< 0: forever).  0 (look again with consume) or -ETIMEDOUT.  Returns at
 * once while the head slot is claimed (a poster is writing it, or died
 * doing so: consume will skip it), so a wait/consume loop never sleeps past
 * a record that is about to be committed. */
int dshq_mailbox_wait(struct dshq_mailbox *mb, int64_t timeout_ns);

/* Reads the counters; works on a read-only mapping (no handle needed). */
int dshq_mailbox_stats(const void *mem, uint64_t size, struct dshq_mailbox_stats *st);

/* Names for the numbers above ("stop", "learning_rate"); NULL if unknown. */
const char *dshq_msg_type_name(uint32_t type);
const char *dshq_hparam_name(uint32_t param);

/* Layout asserts: the ABI. */
_Static_assert(sizeof(struct dshq_msg) == 64, "a message is 64 bytes");
_Static_assert(offsetof(struct dshq_msg, type) == 0, "abi");
_Static_assert(offsetof(struct dshq_msg, version) == 4, "abi");
_Static_assert(offsetof(struct dshq_msg, sender_pid) == 8, "abi");
_Static_assert(offsetof(struct dshq_msg, sender_tid) == 12, "abi");
_Static_assert(offsetof(struct dshq_msg, sequence) == 16, "abi");
_Static_assert(offsetof(struct dshq_msg, sent_ns) == 24, "abi");
_Static_assert(offsetof(struct dshq_msg, payload) == 32, "abi");
_Static_assert(sizeof(struct dshq_msg_pause) == DSHQ_MSG_PAYLOAD_BYTES, "abi");
_Static_assert(offsetof(struct dshq_msg_pause, paused) == 0, "abi");
_Static_assert(offsetof(struct dshq_msg_pause, reserved) == 4, "abi");
_Static_assert(sizeof(struct dshq_msg_set_hparam) == DSHQ_MSG_PAYLOAD_BYTES, "abi");
_Static_assert(offsetof(struct dshq_msg_set_hparam, param) == 0, "abi");
_Static_assert(offsetof(struct dshq_msg_set_hparam, value) == 4, "abi");
_Static_assert(offsetof(struct dshq_msg_set_hparam, reserved) == 8, "abi");
_Static_assert(sizeof(struct dshq_mailbox_ctrl) == 256, "mailbox ctrl is 256 bytes");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, magic) == 0, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, version) == 4, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, capacity) == 8, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, slot_size) == 12, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, msg_size) == 16, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, reserved0) == 20, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, slots_offset) == 24, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, reserved1) == 32, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, tail) == 64, "posters' line");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, posted) == 72, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, full) == 80, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, reserved2) == 88, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, head) == 128, "consumer's line");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, consumed) == 136, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, unknown_type) == 144, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, unknown_version) == 152, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, dead_skipped) == 160, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, consumer) == 168, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, reserved3) == 176, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, reserved4) == 184, "abi");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, event) == 192, "wake-up line");
_Static_assert(offsetof(struct dshq_mailbox_ctrl, reserved5) == 200, "abi");
_Static_assert(sizeof(struct dshq_mailbox_slot) == 128, "a slot is 128 bytes");
_Static_assert(offsetof(struct dshq_mailbox_slot, state) == 0, "abi");
_Static_assert(offsetof(struct dshq_mailbox_slot, poster_start_ticks) == 8, "abi");
_Static_assert(offsetof(struct dshq_mailbox_slot, reserved) == 16, "abi");
_Static_assert(offsetof(struct dshq_mailbox_slot, msg) == 64, "record on its own line");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");

#endif
