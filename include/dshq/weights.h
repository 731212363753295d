/* weights.h — the weights channel: one writer publishes float32 parameter
 * snapshots, any number of readers (up to max_readers) adopt the newest one
 * without copying it.  The seed's pattern A (write the inactive buffer, then
 * flip active_idx and bump version), made safe:
 *
 *   - max_readers + 2 snapshot buffers.  A reader that adopts PINS the
 *     buffer it reads in its own slot; the writer only ever fills a buffer
 *     that is neither active nor pinned, and with R pins and one active
 *     buffer out of R + 2 there is always one: the writer never waits.
 *   - A view stays valid and unchanged until the same reader adopts again,
 *     releases it or detaches, whatever the publish rate.  Adopt is O(1):
 *     a few loads, one store, one fence, one CAS; nothing is copied.
 *   - Every snapshot carries a shape hash; a reader that expects another is
 *     refused with DSHQ_ESHAPE and keeps the view it has.
 *   - A reader that dies holding a pin is found by its recorded pid and start
 *     time (dshq_process_alive) and its slot and buffer return.
 *   - dshq_weights_copy_out: a validated (seqlock-style) copy into private
 *     memory, for readers without a slot.
 * The protocol, with the pairing of every barrier, is the comment above
 * dshq_weights_publish_commit in src/transport/weights.c and in
 * docs/channels.md; the byte map is in docs/abi.md.
 *
 * Short path (a region of its own holding one weights channel):
 *   creator:  dshq_weights_create("demo", nfloats, max_readers, &ch);
 *   others:   dshq_weights_attach("demo", &ch);
 *   then dshq_weights_writer_attach / dshq_weights_reader_attach as below,
 *   and dshq_weights_close(ch) (the creator's close removes the region).
 *
 * Setup in a region of several sections (creator):
 *   uint64_t bytes = dshq_weights_layout(params, readers);
 *   dshq_layout_add(&l, DSHQ_SECTION_WEIGHTS, "policy", DSHQ_WEIGHTS_VERSION,
 *                   bytes, DSHQ_PAGE_ALIGN, shape_hash);
 *   dshq_region_create(...); dshq_region_find(r, DSHQ_SECTION_WEIGHTS,
 *                                             "policy", 0, &sec, &size);
 *   dshq_weights_init(sec, size, params, readers, shape_hash);
 *   dshq_region_mark_ready(r);
 * Anyone: dshq_region_find(...), dshq_weights_open(sec, size, &ch), then
 *   dshq_weights_writer_attach(ch, &w)  (one writer at a time), or
 *   dshq_weights_reader_attach(ch, expected_shape, &rd).
 *
 * Handles are private to the process (and, for writer and reader, the
 * thread) that made them; a forked child opens its own.  A channel handle
 * must outlive the writer and reader handles made from it.  Functions return
 * 0 or a negative error (errno or DSHQ_E*) unless they say otherwise. */
#ifndef DSHQ_WEIGHTS_H
#define DSHQ_WEIGHTS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dshq/wait.h"

#define DSHQ_WEIGHTS_MAGIC UINT64_C(0x3153544847575144) /* "DQWGHTS1" (LE) */
#define DSHQ_WEIGHTS_VERSION 2         /* layout version of the section */
#define DSHQ_WEIGHTS_MAX_READERS 62    /* so that R + 2 buffers fit a u64 mask */
#define DSHQ_WEIGHTS_MAX_PARAMS (UINT64_C(1) << 36)
#define DSHQ_WEIGHTS_NONE 0xffffffffu  /* "no buffer" in a pins half-word */

/* Normal outcomes of dshq_weights_adopt (errors are negative). */
enum {
    DSHQ_WEIGHTS_SAME = 0, /* nothing newer: the view is the newest complete snapshot */
    DSHQ_WEIGHTS_NEW = 1,  /* the view now is a newer snapshot (the newest at some
                            * moment during the call) */
    DSHQ_WEIGHTS_BUSY = 2, /* a newer snapshot exists but was not adopted within
                            * the call's bound (the writer kept moving and never
                            * ran its help); the old view is kept: call again.
                            * Not expected in practice: see weights.c. */
};

/* `current` (ctrl offset 120): the newest complete snapshot in one word, the
 * point of publication for adopters: version << 8 | buffer; 0: none yet. */
#define DSHQ_WEIGHTS_CUR_BUFFER(c) ((uint32_t)((c) & 0xffu))
#define DSHQ_WEIGHTS_CUR_VERSION(c) ((c) >> 8)

/* The pending half of a slot's pins word: buffer in bits 0..7 (0xff: none),
 * DSHQ_WEIGHTS_GRANT when the writer put it there (a claim redirected to
 * the writer's active buffer), a tag in bits 9..31 that the writer changes
 * with every redirect (so a reader's compare-and-swap cannot be fooled by a
 * buffer redirected away and back). */
#define DSHQ_WEIGHTS_GRANT 0x100u
#define DSHQ_WEIGHTS_PENDING_BUFFER(p) ((uint32_t)(p) & 0xffu)

/* ------------------------------------------------------------- shared ABI */

/* Owner words (the writer, each reader slot) are one 64-bit value: pid in
 * the low 32 bits, the low 32 bits of the process's start time (clock ticks
 * since boot) in the high 32; 0 means free.  Bit 31 of the low half (never
 * set in a pid) marks a slot being reclaimed: the rest of the word then
 * names the reclaimer, so a reclaimer that dies can be replaced. */
#define DSHQ_WEIGHTS_OWNER_RECLAIM UINT64_C(0x80000000)

/* Section map, offsets from the section start (all recorded below):
 *   0               struct dshq_weights_ctrl                 192 bytes
 *   bufs_offset     struct dshq_weights_buf [buffer_count]    64 bytes each
 *   slots_offset    struct dshq_weights_slot[max_readers]     64 bytes each
 *   data_offset     buffer_count snapshots of param_count float32, each
 *                   data_stride bytes apart (page multiple, page aligned) */
struct dshq_weights_ctrl {
    /* line 0: geometry, written once by dshq_weights_init */
    uint64_t magic;                /*   0: DSHQ_WEIGHTS_MAGIC */
    uint32_t layout_version;       /*   8: DSHQ_WEIGHTS_VERSION */
    uint32_t max_readers;          /*  12: reader slots R */
    uint32_t buffer_count;         /*  16: R + 2 */
    uint32_t reserved0;            /*  20: zero */
    uint64_t param_count;          /*  24: float32 per snapshot */
    uint64_t bufs_offset;          /*  32 */
    uint64_t slots_offset;         /*  40 */
    uint64_t data_offset;          /*  48: multiple of 4096 */
    uint64_t data_stride;          /*  56: param_count*4 rounded up to 4096 */
    /* line 1: the seed's control words, written by the writer's commit
     * under the seqlock `seq` (odd while they change) */
    _Atomic uint64_t seq;          /*  64: commits*2 (+1 inside a commit) */
    _Atomic uint32_t active_idx;   /*  72: buffer of the newest snapshot */
    uint32_t reserved1;            /*  76: zero */
    _Atomic uint64_t version;      /*  80: newest version, monotonic; 0: none */
    _Atomic uint64_t step_counter; /*  88: trainer step of the newest snapshot */
    _Atomic uint64_t shape_hash;   /*  96: shape of the newest snapshot */
    _Atomic uint64_t published_ns; /* 104: CLOCK_MONOTONIC of the last commit */
    uint64_t section_size;         /* 112: bytes the layout needs */
    _Atomic uint64_t current;      /* 120: version << 8 | buffer (publication) */
    /* line 2: the writer's identity, wake-ups, cold counters */
    _Atomic uint64_t writer;       /* 128: owner word of the writer */
    struct dshq_event new_version; /* 136: notified after every commit */
    _Atomic uint64_t claims_stolen;   /* 144: readers' pending claims redirected */
    _Atomic uint64_t reclaims;        /* 152: reader slots taken from dead owners */
    _Atomic uint64_t writer_takeovers;/* 160: writers replaced after death */
    uint64_t reserved3[3];            /* 168: zero */
};

/* One snapshot buffer's stamp: 64 bytes, written by the writer alone. */
struct dshq_weights_buf {
    _Atomic uint64_t seq;          /*  0: odd while the writer fills it */
    _Atomic uint64_t version;      /*  8: version of the snapshot it holds */
    _Atomic uint64_t step;         /* 16 */
    _Atomic uint64_t shape_hash;   /* 24 */
    uint64_t reserved[4];          /* 32: zero */
};

/* One reader slot: 64 bytes, its own cache line. */
struct dshq_weights_slot {
    _Atomic uint64_t owner;        /*  0: owner word of the reader; 0 free */
    _Atomic uint64_t pins;         /*  8: held | pending << 32 (NONE: none) */
    _Atomic uint64_t version;      /* 16: version of the held view; 0 none */
    _Atomic uint64_t adoptions;    /* 24: successful adopts */
    _Atomic uint64_t refusals;     /* 32: adopts refused for the shape */
    uint64_t reserved[3];          /* 40: zero */
};

/* ---------------------------------------------------------- private views */

/* An adopted snapshot (private memory). */
struct dshq_weights_view {
    const float *params;   /* [param_count] in the region; NULL: none yet */
    uint64_t param_count;
    uint64_t version;      /* 0: none yet */
    uint64_t step;
    uint64_t shape_hash;
    uint32_t buffer;       /* index of the pinned buffer (DSHQ_WEIGHTS_NONE) */
    uint32_t pad;
};

/* What a copy-out read copied (private memory). */
struct dshq_weights_info {
    uint64_t version;
    uint64_t step;
    uint64_t shape_hash;
    uint32_t buffer;
    uint32_t retries;      /* attempts that were invalidated by the writer */
};

struct dshq_weights_reader_stats {
    int32_t pid;           /* 0: slot free */
    int32_t alive;         /* 1 alive, 0 dead (reclaimable) or free */
    uint32_t held;         /* pinned buffer or DSHQ_WEIGHTS_NONE */
    uint32_t pending;      /* buffer being claimed or DSHQ_WEIGHTS_NONE */
    uint64_t version;      /* of the held view */
    uint64_t adoptions;
    uint64_t refusals;
};

struct dshq_weights_stats {
    uint64_t param_count;
    uint32_t max_readers;
    uint32_t buffer_count;
    uint64_t buffer_bytes;    /* data_stride */
    uint64_t version;         /* newest */
    uint64_t step;
    uint64_t shape_hash;
    uint64_t published_ns;
    uint32_t active_idx;
    int32_t writer_pid;       /* 0: no writer */
    int32_t writer_alive;
    uint32_t readers;         /* attached (slots in use) */
    uint64_t claims_stolen, reclaims, writer_takeovers;
    uint64_t buffer_version[DSHQ_WEIGHTS_MAX_READERS + 2]; /* stamp per buffer */
    struct dshq_weights_reader_stats reader[DSHQ_WEIGHTS_MAX_READERS];
};

/* ---------------------------------------------------------------- creator */

/* Bytes a weights section for param_count floats and max_readers readers
 * needs (a multiple of 4096); 0 when a value is out of range. */
uint64_t dshq_weights_layout(uint64_t param_count, uint32_t max_readers);
/* The same, saying why a value is refused: 0 and *bytes (may be NULL), or
 * DSHQ_EPARAMCOUNT / DSHQ_EREADERS (dshq_strerror names the range). */
int dshq_weights_layout_check(uint64_t param_count, uint32_t max_readers, uint64_t *bytes);

/* ------------------------------------------------------------- short path */

#define DSHQ_WEIGHTS_SECTION "weights" /* section name used by the short path */

struct dshq_weights; /* process-local channel handle */

/* Creates the region NAME (a leading '/' is accepted; a stale region of a
 * dead creator is replaced) holding one weights channel of nfloats floats
 * and max_readers reader slots, ready for attachers, and opens it.  The
 * shape hash is dshq_weights_shape_hash(nfloats).  DSHQ_EPARAMCOUNT /
 * DSHQ_EREADERS for sizes out of range, -EEXIST when a live region has the
 * name, or a region error.  dshq_weights_close destroys the region (mapped
 * attachers keep theirs until they close). */
int dshq_weights_create(const char *name, uint64_t nfloats, uint32_t max_readers,
                        struct dshq_weights **out);
/* Attaches to the region NAME and opens its weights channel (the section
 * dshq_weights_create made, or else the region's first weights section).
 * DSHQ_ENOTREADY while its creator is still initializing it (try again),
 * -ENOENT when there is none.  dshq_weights_close detaches. */
int dshq_weights_attach(const char *name, struct dshq_weights **out);
/* The shape hash of the short path: "weights/v2;params=N". */
uint64_t dshq_weights_shape_hash(uint64_t nfloats);

/* Creator: initializes the section (size >= dshq_weights_layout) before the
 * region is marked ready; shape_hash is the initial shape (the writer may
 * publish others, see dshq_weights_writer_set_shape).  The section must be
 * page aligned (DSHQ_PAGE_ALIGN in dshq_layout_add).  -EINVAL for bad
 * values or alignment, -ENOSPC when size is too small. */
int dshq_weights_init(void *section, uint64_t size, uint64_t param_count,
                      uint32_t max_readers, uint64_t shape_hash);

/* ---------------------------------------------------------------- channel */

struct dshq_weights;        /* process-local handles */
struct dshq_weights_writer;
struct dshq_weights_reader;

/* Validates the control block against size and maps out the section; reads
 * only, so it works on a read-only mapping.  DSHQ_ECORRUPT for a block that
 * does not hold together, DSHQ_EABIMAJOR for another layout version. */
int dshq_weights_open(void *section, uint64_t size, struct dshq_weights **out);
/* Frees the handle; for a handle of the short path also detaches from (or,
 * for its creator, destroys) the region. */
void dshq_weights_close(struct dshq_weights *ch);
uint64_t dshq_weights_param_count(const struct dshq_weights *ch);
/* The newest published version (0: none yet); one relaxed load. */
uint64_t dshq_weights_version(const struct dshq_weights *ch);

/* Sleeps until a version newer than after_version is published, at most
 * timeout_ns (< 0: forever).  0, or -ETIMEDOUT.  Needs a writable mapping. */
int dshq_weights_wait(struct dshq_weights *ch, uint64_t after_version, int64_t timeout_ns);

/* Copies the newest snapshot into dst[count] (count == param_count) and
 * validates it seqlock-style: the copy is a snapshot exactly as published,
 * or the call retries.  Needs no reader slot and works on a read-only
 * mapping.  expected_shape != 0 must match (DSHQ_ESHAPE, dst untouched).
 * -ENODATA before the first publish; -EAGAIN when the writer recycled the
 * buffer under every one of a bounded number of attempts (dst unspecified);
 * -EINVAL for a wrong count.  info may be NULL. */
int dshq_weights_copy_out(const struct dshq_weights *ch, uint64_t expected_shape,
                          float *dst, uint64_t count, struct dshq_weights_info *info);

/* Frees the slots of readers that died (their pins with them).  Anyone with a
 * writable mapping may call it; the writer does every second from
 * publish_begin and a reader attach does when every slot is taken.  Returns
 * the number of slots freed. */
int dshq_weights_reclaim(struct dshq_weights *ch);

/* Read-only counters and who holds what (for inspect). */
int dshq_weights_stats(const struct dshq_weights *ch, struct dshq_weights_stats *out);

/* ----------------------------------------------------------------- writer */

/* Becomes the channel's writer.  A writer whose recorded owner is dead is
 * replaced (writer_takeovers += 1), and a commit it left half done is
 * repaired from the active buffer's stamp.  -EBUSY while a live writer
 * holds the channel. */
int dshq_weights_writer_attach(struct dshq_weights *ch, struct dshq_weights_writer **out);
/* Gives the writer role up (a begun, uncommitted snapshot is dropped). */
void dshq_weights_writer_detach(struct dshq_weights_writer *w);
/* Shape hash stamped on the following commits (initially the channel's). */
void dshq_weights_writer_set_shape(struct dshq_weights_writer *w, uint64_t shape_hash);

/* Returns, in *params, a buffer that no reader holds or can come to hold,
 * to fill in place with param_count floats (page aligned).  Never waits for
 * readers.  Calling it again before commit returns the same buffer. */
int dshq_weights_publish_begin(struct dshq_weights_writer *w, float **params);
/* Publishes the begun buffer as the newest snapshot, stamped with step and
 * the writer's shape: flips active_idx, bumps version, wakes waiters.
 * Returns the new version (> 0), or -EINVAL when nothing was begun. */
int64_t dshq_weights_publish_commit(struct dshq_weights_writer *w, uint64_t step);
/* begin + memcpy(src, param_count floats) + commit. */
int64_t dshq_weights_publish(struct dshq_weights_writer *w, const float *src, uint64_t step);

/* ----------------------------------------------------------------- reader */

/* Takes a free reader slot (needs a writable mapping).  expected_shape: the
 * shape this reader can use (0: any).  DSHQ_ELIMIT when all max_readers
 * slots belong to live processes (dead ones are reclaimed first). */
int dshq_weights_reader_attach(struct dshq_weights *ch, uint64_t expected_shape,
                               struct dshq_weights_reader **out);
/* Releases the view and the slot; frees rd. */
void dshq_weights_reader_detach(struct dshq_weights_reader *rd);

/* Adopts the newest complete snapshot: O(1), no copy, whatever the writer
 * does (a commit in flight never hides the snapshot before it, and a writer
 * publishing without pause helps a reader it outruns).  Fills *view with the
 * reader's view after the call and returns DSHQ_WEIGHTS_NEW (the view
 * changed: the previous one must no longer be read; its version is at least
 * the newest published when the call began), DSHQ_WEIGHTS_SAME (nothing
 * newer; view->params is NULL before the first publish) or
 * DSHQ_WEIGHTS_BUSY (newer exists, not adopted within the bound: call
 * again).  DSHQ_ESHAPE: the newest snapshot has another shape than expected.
 * On every outcome but NEW *view is the view held before, unchanged and
 * still valid. */
int dshq_weights_adopt(struct dshq_weights_reader *rd, struct dshq_weights_view *view);
/* Drops the view (the buffer returns to the writer); the slot stays. */
void dshq_weights_release(struct dshq_weights_reader *rd);
/* Slot index of this reader (for stats). */
uint32_t dshq_weights_reader_slot(const struct dshq_weights_reader *rd);

/* ----------------------------------------------------------- layout asserts */

_Static_assert(sizeof(struct dshq_weights_ctrl) == 192, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, magic) == 0, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, layout_version) == 8, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, max_readers) == 12, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, buffer_count) == 16, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, reserved0) == 20, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, param_count) == 24, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, bufs_offset) == 32, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, slots_offset) == 40, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, data_offset) == 48, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, data_stride) == 56, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, seq) == 64, "abi: control line");
_Static_assert(offsetof(struct dshq_weights_ctrl, active_idx) == 72, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, reserved1) == 76, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, version) == 80, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, step_counter) == 88, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, shape_hash) == 96, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, published_ns) == 104, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, section_size) == 112, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, current) == 120, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, writer) == 128, "abi: cold line");
_Static_assert(offsetof(struct dshq_weights_ctrl, new_version) == 136, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, claims_stolen) == 144, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, reclaims) == 152, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, writer_takeovers) == 160, "abi");
_Static_assert(offsetof(struct dshq_weights_ctrl, reserved3) == 168, "abi");

_Static_assert(sizeof(struct dshq_weights_buf) == 64, "abi: one line per buffer");
_Static_assert(offsetof(struct dshq_weights_buf, seq) == 0, "abi");
_Static_assert(offsetof(struct dshq_weights_buf, version) == 8, "abi");
_Static_assert(offsetof(struct dshq_weights_buf, step) == 16, "abi");
_Static_assert(offsetof(struct dshq_weights_buf, shape_hash) == 24, "abi");
_Static_assert(offsetof(struct dshq_weights_buf, reserved) == 32, "abi");

_Static_assert(sizeof(struct dshq_weights_slot) == 64, "abi: one line per reader");
_Static_assert(offsetof(struct dshq_weights_slot, owner) == 0, "abi");
_Static_assert(offsetof(struct dshq_weights_slot, pins) == 8, "abi");
_Static_assert(offsetof(struct dshq_weights_slot, version) == 16, "abi");
_Static_assert(offsetof(struct dshq_weights_slot, adoptions) == 24, "abi");
_Static_assert(offsetof(struct dshq_weights_slot, refusals) == 32, "abi");
_Static_assert(offsetof(struct dshq_weights_slot, reserved) == 40, "abi");

#endif
