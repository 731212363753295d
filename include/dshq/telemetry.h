/* telemetry.h — a latest-value telemetry block and per-process heartbeats.
 *
 * Two things live in one region section:
 *
 *   the blob       one writer (the trainer) publishes a fixed-size record of
 *                  metrics now and then (1-2 Hz); any number of monitors copy
 *                  out a consistent snapshot under a seqlock.  No queue: a
 *                  slow or absent monitor costs the writer nothing, and a
 *                  monitor sees only the newest value.  The transport treats
 *                  the record as bytes plus a shape hash naming its layout
 *                  (the application defines the struct).
 *   heartbeats     a table of slots; each process of a run registers one
 *                  (role, index, pid, start time) and stores the time now and
 *                  then.  Readers compute ages and liveness.
 *
 * Section layout (docs/abi.md, docs/channels.md "Telemetry"):
 *   offset 0                  struct dshq_telemetry_ctrl      (128 bytes)
 *   ctrl.blob_offset          blob, blob_capacity bytes as u64 words
 *   ctrl.slots_offset         struct dshq_heartbeat_slot [slot_count] (64 each)
 *
 * The snapshot copy is race-free in the C11 sense: the blob is stored and
 * loaded as 64-bit atomic words (release stores, acquire loads — plain moves
 * on x86-64), so ThreadSanitizer has nothing to suppress and no fence is
 * needed.
 *
 * Use:
 *   creator:  dshq_layout_add(l, DSHQ_SECTION_TELEMETRY, "telemetry",
 *                  DSHQ_TELEMETRY_VERSION, dshq_telemetry_bytes(cap, 64), 64,
 *                  dshq_telemetry_shape_hash());
 *             dshq_telemetry_init(payload, size, cap, 64) before mark_ready
 *   trainer:  dshq_telemetry_attach(payload, size, DSHQ_TELEMETRY_WRITER, &t);
 *             dshq_telemetry_publish(t, METRICS_SHAPE, &m, sizeof m)
 *   anyone:   slot = dshq_telemetry_register(t, role, index);
 *             dshq_telemetry_beat(t, slot) ... dshq_telemetry_unregister(t, slot)
 *   monitor:  dshq_telemetry_read(payload, size, METRICS_SHAPE, &m, sizeof m, &info)
 *             dshq_telemetry_heartbeats(payload, size, hb, n)
 */
#ifndef DSHQ_TELEMETRY_H
#define DSHQ_TELEMETRY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dshq/error.h"

#define DSHQ_TELEMETRY_MAGIC 0x454c4554u /* "TELE" in memory order (LE) */
#define DSHQ_TELEMETRY_VERSION 2u
#define DSHQ_TELEMETRY_SHAPE_STRING "telemetry/v2;ctrl=128;slot=64;blob=u64words"
#define DSHQ_TELEMETRY_MAX_BLOB (1u << 20)
#define DSHQ_TELEMETRY_MAX_SLOTS 4096u
/* A reader gives up (-EAGAIN) after this many torn copies in a row. */
#define DSHQ_TELEMETRY_READ_TRIES 64

/* The control block at the start of the section. */
struct dshq_telemetry_ctrl {
    /* line 0: written once by dshq_telemetry_init, before the region is READY */
    uint32_t magic;               /*   0: DSHQ_TELEMETRY_MAGIC */
    uint32_t version;             /*   4: DSHQ_TELEMETRY_VERSION */
    uint32_t blob_capacity;       /*   8: bytes, a multiple of 64 */
    uint32_t slot_count;          /*  12: heartbeat slots */
    uint64_t blob_offset;         /*  16: from the section start, 64-aligned */
    uint64_t slots_offset;        /*  24: from the section start, 64-aligned */
    _Atomic uint64_t writer;      /*  32: owner word of the writer role (0: none);
                                   * pid | start time << 32, one word (v2) */
    uint64_t reserved0;           /*  40: zero */
    uint64_t reserved1[2];        /*  48: zero */
    /* line 1: the seqlock and what it guards besides the blob */
    _Atomic uint64_t seq;         /*  64: even: stable; odd: being written; /2 = publications */
    _Atomic uint64_t shape_hash;  /*  72: layout of the blob (guarded by seq) */
    _Atomic uint32_t size;        /*  80: bytes of the blob in use (guarded by seq) */
    _Atomic int32_t published_by; /*  84: pid of the publisher (guarded by seq) */
    _Atomic uint64_t published_ns;/*  88: CLOCK_MONOTONIC at publish (guarded by seq) */
    uint64_t reserved2[4];        /*  96: zero */
};

/* One heartbeat slot.  Its identity (role .. registered_ns) is guarded by the
 * slot's own seqlock seq; heartbeat_ns and beats are single-writer values
 * stored relaxed by the owner. */
struct dshq_heartbeat_slot {
    _Atomic uint64_t owner;       /*   0: owner word holding the slot (0: free), v2 */
    _Atomic uint32_t seq;         /*   8: even: identity stable; odd: being rewritten */
    _Atomic uint32_t role;        /*  12: application-defined (0: none) */
    _Atomic uint32_t index;       /*  16: e.g. worker number */
    _Atomic int32_t pid;          /*  20: the registered process (0: slot empty) */
    _Atomic uint64_t start_ticks; /*  24: its start time (pid reuse) */
    _Atomic uint64_t registered_ns; /* 32: CLOCK_MONOTONIC at register */
    _Atomic uint64_t heartbeat_ns;  /* 40: CLOCK_MONOTONIC of the last beat */
    _Atomic uint64_t beats;       /*  48: beats so far */
    uint64_t reserved1;           /*  56: zero */
};

struct dshq_telemetry; /* process-local handle */

enum {
    DSHQ_TELEMETRY_WRITER = 1u << 0, /* attach as the one publisher of the blob */
};

/* What a reader learns besides the bytes (process-local). */
struct dshq_telemetry_info {
    uint64_t publications; /* seq / 2: how many publishes so far */
    uint64_t shape_hash;   /* of the blob as published */
    uint64_t published_ns; /* CLOCK_MONOTONIC */
    uint64_t age_ns;       /* now - published_ns */
    uint32_t size;         /* bytes published */
    int32_t writer_pid;    /* who published it */
    int writer_alive;      /* DSHQ_CREATOR_ALIVE / _DEAD for the writer role's holder */
    uint32_t tries;        /* copies it took (1 = no retry) */
};

/* One heartbeat as a reader sees it (process-local). */
struct dshq_heartbeat {
    uint32_t slot;
    uint32_t role;
    uint32_t index;
    int32_t pid;
    uint64_t start_ticks;
    uint64_t registered_ns;
    uint64_t heartbeat_ns;
    uint64_t beats;
    uint64_t age_ns;       /* now - heartbeat_ns */
    int alive;             /* DSHQ_CREATOR_ALIVE or DSHQ_CREATOR_DEAD */
};

/* Section bytes (0 if blob_capacity or slots is out of range).  The blob
 * capacity is rounded up to a multiple of 64. */
uint64_t dshq_telemetry_bytes(uint32_t blob_capacity, uint32_t slots);
/* The same, saying why a size is refused: 0 and *bytes (may be NULL), or
 * DSHQ_EBLOBSIZE / DSHQ_ESLOTCOUNT (dshq_strerror names the range). */
int dshq_telemetry_bytes_check(uint32_t blob_capacity, uint32_t slots, uint64_t *bytes);
uint64_t dshq_telemetry_shape_hash(void);

/* Creator only, before the region is READY.  -EINVAL, -ENOSPC. */
int dshq_telemetry_init(void *mem, uint64_t size, uint32_t blob_capacity, uint32_t slots);

/* Validates the control block (DSHQ_EMAGIC, DSHQ_ECORRUPT, DSHQ_ESIZE) and
 * returns a handle.  DSHQ_TELEMETRY_WRITER also takes the writer role:
 * -EBUSY while a live process holds it (a dead holder's is taken over). */
int dshq_telemetry_attach(void *mem, uint64_t size, unsigned flags,
                          struct dshq_telemetry **out);
void dshq_telemetry_detach(struct dshq_telemetry *t);

/* Writer only: publishes len bytes (<= blob capacity) named by shape_hash.
 * Never waits.  0, -EPERM (not the writer), -EMSGSIZE. */
int dshq_telemetry_publish(struct dshq_telemetry *t, uint64_t shape_hash,
                           const void *blob, uint32_t len);

/* Any process with a read-only mapping: copies the newest snapshot into
 * out (cap bytes).  Returns the bytes copied, or -ENODATA (nothing published
 * yet), DSHQ_ESHAPE (expected_shape != 0 and differs; info is filled),
 * -EMSGSIZE (cap too small; info is filled), -EAGAIN (torn
 * DSHQ_TELEMETRY_READ_TRIES times in a row: the writer is publishing
 * non-stop or died mid-publish).  info may be NULL. */
int dshq_telemetry_read(const void *mem, uint64_t size, uint64_t expected_shape,
                        void *out, uint32_t cap, struct dshq_telemetry_info *info);

/* Claims a heartbeat slot for this process (a free one, or one whose owner
 * died) and records role, index, pid and start time.  Returns the slot
 * number, or DSHQ_ELIMIT when every slot is held by a live process. */
int dshq_telemetry_register(struct dshq_telemetry *t, uint32_t role, uint32_t index);
/* Stores "alive now" in the slot (two relaxed stores).  0, or DSHQ_EDEAD if
 * the slot is no longer this process's (it was judged dead and reused). */
int dshq_telemetry_beat(struct dshq_telemetry *t, int slot);
/* Empties the slot.  0, -EINVAL, DSHQ_EDEAD as for beat. */
int dshq_telemetry_unregister(struct dshq_telemetry *t, int slot);

/* Copies up to max occupied slots, in slot order, with ages and liveness.
 * Returns how many were copied, or a negative error. */
int dshq_telemetry_heartbeats(const void *mem, uint64_t size, struct dshq_heartbeat *out,
                              uint32_t max);

/* Layout asserts: the ABI. */
_Static_assert(sizeof(struct dshq_telemetry_ctrl) == 128, "telemetry ctrl is 128 bytes");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, magic) == 0, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, version) == 4, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, blob_capacity) == 8, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, slot_count) == 12, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, blob_offset) == 16, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, slots_offset) == 24, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, writer) == 32, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, reserved0) == 40, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, reserved1) == 48, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, seq) == 64, "seqlock line");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, shape_hash) == 72, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, size) == 80, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, published_by) == 84, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, published_ns) == 88, "abi");
_Static_assert(offsetof(struct dshq_telemetry_ctrl, reserved2) == 96, "abi");
_Static_assert(sizeof(struct dshq_heartbeat_slot) == 64, "a heartbeat slot is one line");
_Static_assert(offsetof(struct dshq_heartbeat_slot, owner) == 0, "abi");
_Static_assert(offsetof(struct dshq_heartbeat_slot, seq) == 8, "abi");
_Static_assert(offsetof(struct dshq_heartbeat_slot, role) == 12, "abi");
_Static_assert(offsetof(struct dshq_heartbeat_slot, index) == 16, "abi");
_Static_assert(offsetof(struct dshq_heartbeat_slot, pid) == 20, "abi");
_Static_assert(offsetof(struct dshq_heartbeat_slot, start_ticks) == 24, "abi");
_Static_assert(offsetof(struct dshq_heartbeat_slot, registered_ns) == 32, "abi");
_Static_assert(offsetof(struct dshq_heartbeat_slot, heartbeat_ns) == 40, "abi");
_Static_assert(offsetof(struct dshq_heartbeat_slot, beats) == 48, "abi");
_Static_assert(offsetof(struct dshq_heartbeat_slot, reserved1) == 56, "abi");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");

#endif
