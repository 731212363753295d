/* region.h — the self-describing shared region of libdshq.
 *
 * A region is one block of shared memory: a fixed header, a table of
 * sections, then the sections' payloads.  Everything a channel needs lives in
 * a section; nothing is a pointer; every field has a fixed offset, asserted
 * below and documented in docs/abi.md.
 *
 *   offset 0            struct dshq_region_header      (128 bytes)
 *   header.table_offset struct dshq_section[count]     (64 bytes each)
 *   section.offset      payload, 64-byte aligned (page-aligned on request)
 *
 * A named region is a POSIX shared-memory object (/dev/shm/NAME), created
 * exclusively and owner-only, its size reserved up front.  An anonymous region
 * is the same bytes in MAP_SHARED|MAP_ANONYMOUS memory: shared by threads and
 * by children forked after it was created.
 *
 * Life cycle:
 *   creator:  dshq_layout_add()...  dshq_region_create()   (state INIT)
 *             initialize the sections' control blocks
 *             dshq_region_mark_ready()                     (state READY, release)
 *             ... dshq_region_heartbeat() now and then ...
 *             dshq_region_destroy()                        (unlink + unmap)
 *   others:   dshq_region_attach()   validates, then maps  (acquire on state)
 *             dshq_region_find()     a section by kind, name and shape hash
 *             dshq_region_detach()
 */
#ifndef DSHQ_REGION_H
#define DSHQ_REGION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dshq/error.h"

#define DSHQ_REGION_MAGIC UINT64_C(0x3147455251485344) /* "DSHQREG1" in memory order (LE) */
#define DSHQ_ABI_MAJOR 1
#define DSHQ_ABI_MINOR 0
#define DSHQ_REGION_INIT 0u
#define DSHQ_REGION_READY 0x59444552u /* "REDY": unlikely in random bytes */

#define DSHQ_MAX_SECTIONS 64
#define DSHQ_SECTION_NAME_LEN 24
#define DSHQ_REGION_NAME_LEN 48
#define DSHQ_SECTION_ALIGN 64
#define DSHQ_PAGE_ALIGN 4096

/* Section kinds.  A reader looks a section up by kind AND name, so an unknown
 * kind is simply never found: it is never read "as if" it were another. */
enum {
    DSHQ_SECTION_RAW = 1,       /* opaque bytes, for tests and tools */
    DSHQ_SECTION_WEIGHTS = 2,   /* weights channel (weights.h) */
    DSHQ_SECTION_LANES = 3,     /* rollout lanes (rollout.h) */
    DSHQ_SECTION_MPSC = 4,      /* MPSC ring (rollout.h) */
    DSHQ_SECTION_MAILBOX = 5,   /* control messages */
    DSHQ_SECTION_TELEMETRY = 6, /* latest-value telemetry block */
};

/* The region header: shared, plain data.  Writer: the creator, once, before
 * state goes READY; afterwards only heartbeat_ns changes. */
struct dshq_region_header {
    uint64_t magic;               /*   0: DSHQ_REGION_MAGIC */
    uint16_t abi_major;           /*   8: incompatible layout changes */
    uint16_t abi_minor;           /*  10: compatible additions */
    uint32_t header_size;         /*  12: sizeof(struct dshq_region_header) */
    uint64_t region_size;         /*  16: total bytes; must equal the file size */
    _Atomic uint32_t state;       /*  24: INIT or READY; READY stored last (release) */
    uint32_t section_count;       /*  28: entries in the section table */
    uint32_t table_offset;        /*  32: byte offset of the section table */
    uint32_t section_entry_size;  /*  36: sizeof(struct dshq_section) */
    int32_t creator_pid;          /*  40 */
    uint32_t creator_uid;         /*  44 */
    uint64_t creator_start_ticks; /*  48: /proc/PID/stat starttime, tells pid reuse apart */
    uint64_t created_unix_ns;     /*  56: CLOCK_REALTIME at creation */
    _Atomic uint64_t heartbeat_ns;/*  64: CLOCK_MONOTONIC of the creator's last beat */
    char name[DSHQ_REGION_NAME_LEN]; /* 72: NUL-terminated, informative */
    uint64_t reserved;            /* 120: zero */
};

/* One entry of the section table: shared, plain data, written once. */
struct dshq_section {
    uint32_t kind;        /*  0: DSHQ_SECTION_* */
    uint32_t version;     /*  4: layout version of this kind */
    uint64_t offset;      /*  8: from the region start; multiple of 64 */
    uint64_t size;        /* 16: payload bytes */
    uint64_t shape_hash;  /* 24: what the payload holds (0: untyped) */
    char name[DSHQ_SECTION_NAME_LEN]; /* 32: NUL-terminated */
    uint64_t reserved;    /* 56: zero */
};

/* Builder for a region's section table (private memory, not shared). */
struct dshq_layout {
    uint32_t count;
    int error;                                /* first error of an add, sticky */
    struct dshq_section sections[DSHQ_MAX_SECTIONS];
    uint32_t align[DSHQ_MAX_SECTIONS];
};

struct dshq_region; /* process-local handle */

enum {
    DSHQ_ATTACH_RDONLY = 1u << 0, /* map read-only (inspection tools) */
};
enum {
    DSHQ_CREATE_REPLACE_STALE = 1u << 0, /* replace NAME if its creator is dead */
};
enum {
    DSHQ_CREATOR_ALIVE = 1,
    DSHQ_CREATOR_DEAD = 0,
};

void dshq_layout_init(struct dshq_layout *l);
/* Adds a section of size bytes aligned to align (>= 64, power of two).
 * Returns its index or a negative error (also kept in l->error). */
int dshq_layout_add(struct dshq_layout *l, uint32_t kind, const char *name,
                    uint32_t version, uint64_t size, uint32_t align,
                    uint64_t shape_hash);

/* Region names: up to 47 bytes of [A-Za-z0-9._-] not starting with '.';
 * one leading '/' is accepted and dropped, as shm_open does ("/run-1" and
 * "run-1" name the same region, /dev/shm/run-1).  The same holds for
 * attach and unlink.
 *
 * Creates /dev/shm/NAME (O_EXCL, 0600, posix_fallocate'd).  The region is in
 * state INIT: attach refuses it with DSHQ_ENOTREADY until mark_ready.
 * -EEXIST if NAME exists (see DSHQ_CREATE_REPLACE_STALE), -ENOSPC if /dev/shm
 * is full, -EINVAL for a bad name or layout. */
int dshq_region_create(const char *name, const struct dshq_layout *l,
                       unsigned flags, struct dshq_region **out);
/* Same header and sections in anonymous shared memory of this process. */
int dshq_region_create_anon(const struct dshq_layout *l, struct dshq_region **out);
/* Publishes the region: stores state READY with release semantics. */
int dshq_region_mark_ready(struct dshq_region *r);

/* Maps NAME and validates it (dshq_region_validate) before returning it. */
int dshq_region_attach(const char *name, unsigned flags, uint16_t min_minor,
                       struct dshq_region **out);
/* Unmaps and frees the handle; the region stays (for everyone else). */
void dshq_region_detach(struct dshq_region *r);
/* Unlinks the name (if any) and detaches. */
void dshq_region_destroy(struct dshq_region *r);
/* Removes /dev/shm/NAME; 0 or -errno (-ENOENT). */
int dshq_region_unlink(const char *name);

/* Checks len bytes that claim to be a region: never reads outside them and
 * never trusts a field before checking it.  0 or a DSHQ_E* code. */
int dshq_region_validate(const void *base, uint64_t len, uint16_t min_minor);

/* Finds a section by kind and name; when shape_hash != 0 it must match
 * (DSHQ_ESHAPE otherwise).  Returns 0 and the payload and size. */
int dshq_region_find(const struct dshq_region *r, uint32_t kind, const char *name,
                     uint64_t shape_hash, void **payload, uint64_t *size);

/* Creator side: record "I am alive" (one relaxed store). */
void dshq_region_heartbeat(struct dshq_region *r);
/* DSHQ_CREATOR_ALIVE or DSHQ_CREATOR_DEAD (process gone, zombie or pid reused). */
int dshq_region_creator_state(const struct dshq_region *r);
/* Nanoseconds since the last heartbeat. */
uint64_t dshq_region_heartbeat_age_ns(const struct dshq_region *r);
/* Liveness of an arbitrary process, with the start time recorded for it
 * (0: unknown).  Used for readers and producers recorded in channels too. */
int dshq_process_alive(int32_t pid, uint64_t start_ticks);
/* This process's start time in clock ticks since boot (0 if unknown). */
uint64_t dshq_process_start_ticks(int32_t pid);

const struct dshq_region_header *dshq_region_header(const struct dshq_region *r);
/* The private (validated) copy of the section table. */
const struct dshq_section *dshq_region_sections(const struct dshq_region *r,
                                                uint32_t *count);
void *dshq_region_base(const struct dshq_region *r);
uint64_t dshq_region_size(const struct dshq_region *r);
const char *dshq_region_name(const struct dshq_region *r); /* "" if anonymous */
int dshq_region_is_owner(const struct dshq_region *r);

/* Layout asserts: the ABI. */
_Static_assert(sizeof(struct dshq_region_header) == 128, "header is 128 bytes");
_Static_assert(offsetof(struct dshq_region_header, magic) == 0, "abi");
_Static_assert(offsetof(struct dshq_region_header, abi_major) == 8, "abi");
_Static_assert(offsetof(struct dshq_region_header, abi_minor) == 10, "abi");
_Static_assert(offsetof(struct dshq_region_header, header_size) == 12, "abi");
_Static_assert(offsetof(struct dshq_region_header, region_size) == 16, "abi");
_Static_assert(offsetof(struct dshq_region_header, state) == 24, "abi");
_Static_assert(offsetof(struct dshq_region_header, section_count) == 28, "abi");
_Static_assert(offsetof(struct dshq_region_header, table_offset) == 32, "abi");
_Static_assert(offsetof(struct dshq_region_header, section_entry_size) == 36, "abi");
_Static_assert(offsetof(struct dshq_region_header, creator_pid) == 40, "abi");
_Static_assert(offsetof(struct dshq_region_header, creator_uid) == 44, "abi");
_Static_assert(offsetof(struct dshq_region_header, creator_start_ticks) == 48, "abi");
_Static_assert(offsetof(struct dshq_region_header, created_unix_ns) == 56, "abi");
_Static_assert(offsetof(struct dshq_region_header, heartbeat_ns) == 64, "abi");
_Static_assert(offsetof(struct dshq_region_header, name) == 72, "abi");
_Static_assert(offsetof(struct dshq_region_header, reserved) == 120, "abi");
_Static_assert(sizeof(struct dshq_section) == 64, "section entry is 64 bytes");
_Static_assert(offsetof(struct dshq_section, kind) == 0, "abi");
_Static_assert(offsetof(struct dshq_section, version) == 4, "abi");
_Static_assert(offsetof(struct dshq_section, offset) == 8, "abi");
_Static_assert(offsetof(struct dshq_section, size) == 16, "abi");
_Static_assert(offsetof(struct dshq_section, shape_hash) == 24, "abi");
_Static_assert(offsetof(struct dshq_section, name) == 32, "abi");
_Static_assert(offsetof(struct dshq_section, reserved) == 56, "abi");
/* Only lock-free atomics are safe across processes. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

#endif
