/* rollout_util.h — helpers of the rollout transport tests (lanes, MPSC,
 * chunks): a byte pattern every byte of which can be checked, regions with
 * one rollout section, and child-process plumbing. */
#ifndef DSHQ_TESTS_ROLLOUT_UTIL_H
#define DSHQ_TESTS_ROLLOUT_UTIL_H

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "dshq/chunk.h"
#include "dshq/region.h"
#include "dshq/rollout.h"

static inline uint64_t ru_mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* The pattern of (key): word i is ru_mix(key * 2^32 + i).  Every byte of n
 * is written, the trailing partial word too. */
static inline void ru_fill(void *p, uint64_t n, uint64_t key)
{
    unsigned char *b = p;
    uint64_t i = 0, base = key << 32;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = ru_mix(base + i / 8);
        memcpy(b + i, &w, 8);
    }
    if (i < n) {
        uint64_t w = ru_mix(base + i / 8);
        memcpy(b + i, &w, n - i);
    }
}

/* -1 when all n bytes hold the pattern of key, else the first bad offset. */
static inline int64_t ru_verify(const void *p, uint64_t n, uint64_t key)
{
    const unsigned char *b = p;
    uint64_t i = 0, base = key << 32;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = ru_mix(base + i / 8);
        if (memcmp(b + i, &w, 8))
            for (uint64_t k = 0; k < 8; k++)
                if (b[i + k] != ((unsigned char *)&w)[k])
                    return (int64_t)(i + k);
    }
    if (i < n) {
        uint64_t w = ru_mix(base + i / 8);
        for (uint64_t k = 0; i + k < n; k++)
            if (b[i + k] != ((unsigned char *)&w)[k])
                return (int64_t)(i + k);
    }
    return -1;
}

/* Key of one chunk: producer and its sequence number. */
static inline uint64_t ru_key(uint32_t producer, uint64_t seq)
{
    return ((uint64_t)producer << 24) ^ seq;
}

/* A chunk: header stamped, every byte after it the pattern of its key. */
static inline void ru_chunk_fill(const struct dshq_chunk_layout *l, void *chunk,
                                 uint32_t producer, uint64_t seq, uint64_t version)
{
    dshq_chunk_stamp(l, chunk, producer, seq, version);
    ru_fill((unsigned char *)chunk + sizeof(struct dshq_chunk_header),
            l->bytes - sizeof(struct dshq_chunk_header), ru_key(producer, seq));
}

/* Checks a chunk completely; returns its header (copied) through h. */
static inline void ru_chunk_verify(const struct dshq_chunk_layout *l, const void *chunk,
                                   struct dshq_chunk_header *h)
{
    CHECK_EQ_INT(dshq_chunk_check(l, chunk, l->bytes), 0);
    memcpy(h, chunk, sizeof *h);
    int64_t bad = ru_verify((const unsigned char *)chunk + sizeof *h, l->bytes - sizeof *h,
                            ru_key(h->producer_id, h->seq));
    CHECK_MSG(bad < 0, "chunk of producer %u seq %llu: byte %lld differs", h->producer_id,
              (unsigned long long)h->seq, (long long)bad + (long long)sizeof *h);
}

/* Cleanup whatever happens.  ru_region registers the named region it
 * creates; children forked with ru_fork are recorded.  When the creating
 * process ends for any reason (a failed CHECK exits at once, the runner's
 * timeout sends SIGTERM), its children are killed and its region removed.
 * A child dies with its parent (PR_SET_PDEATHSIG), so nothing keeps
 * running.  Only the process that created the region removes it. */
struct ru_guard {
    pid_t owner;
    char name[96];
    pid_t kids[256];
    int nkids;
};

static inline struct ru_guard *ru_guard_get(void)
{
    static struct ru_guard g;
    return &g;
}

static inline void ru_guard_run(void)
{
    struct ru_guard *g = ru_guard_get();
    if (g->owner != getpid())
        return;
    for (int i = 0; i < g->nkids; i++) {
        int st;
        /* Only a child not yet reaped (its pid cannot have been reused). */
        if (g->kids[i] > 0 && waitpid(g->kids[i], &st, WNOHANG) == 0)
            kill(g->kids[i], SIGKILL);
    }
    if (g->name[0])
        dshq_region_unlink(g->name); /* ENOENT after a normal destroy */
    g->name[0] = 0;
}

static inline void ru_guard_signal(int sig)
{
    ru_guard_run();
    _exit(128 + sig);
}

static inline void ru_guard_region(const char *name)
{
    struct ru_guard *g = ru_guard_get();
    if (g->owner != getpid()) {
        g->owner = getpid();
        g->nkids = 0;
        g->name[0] = 0;
        atexit(ru_guard_run);
        signal(SIGTERM, ru_guard_signal);
        signal(SIGINT, ru_guard_signal);
        signal(SIGHUP, ru_guard_signal);
    }
    if (name[0])
        snprintf(g->name, sizeof g->name, "%s", name);
}

/* fork() for tests: the child dies with its parent; the parent records it
 * for the cleanup.  Returns what fork() returns. */
static inline pid_t ru_fork(void)
{
    pid_t parent = getpid();
    if (ru_guard_get()->owner != parent)
        ru_guard_region(""); /* records children, removes no region */
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1); /* the parent is already gone */
        return 0;
    }
    struct ru_guard *g = ru_guard_get();
    if (pid > 0 && g->owner == getpid() &&
        g->nkids < (int)(sizeof g->kids / sizeof g->kids[0]))
        g->kids[g->nkids++] = pid; /* beyond that, PR_SET_PDEATHSIG still applies */
    return pid;
}

/* Creates a region (named when name != NULL, else anonymous) holding one
 * section of kind DSHQ_SECTION_LANES or DSHQ_SECTION_MPSC called "ring",
 * initialized with p, and marks it ready. */
static inline struct dshq_region *ru_region(const char *name, uint32_t kind,
                                            const struct dshq_ring_params *p,
                                            uint64_t shape_hash, void **sec,
                                            uint64_t *size)
{
    struct dshq_layout l;
    dshq_layout_init(&l);
    uint64_t need = kind == DSHQ_SECTION_LANES ? dshq_lanes_size(p) : dshq_mpsc_size(p);
    CHECK(need > 0);
    CHECK(dshq_layout_add(&l, kind, "ring", 1, need, DSHQ_PAGE_ALIGN, shape_hash) >= 0);
    struct dshq_region *r = NULL;
    if (name)
        ru_guard_region(name);
    int rc = name ? dshq_region_create(name, &l, 0, &r) : dshq_region_create_anon(&l, &r);
    CHECK_MSG(rc == 0, "create: %s", dshq_strerror(rc));
    CHECK_EQ_INT(dshq_region_find(r, kind, "ring", shape_hash, sec, size), 0);
    if (kind == DSHQ_SECTION_LANES)
        CHECK_EQ_INT(dshq_lanes_init(*sec, *size, p), 0);
    else
        CHECK_EQ_INT(dshq_mpsc_init(*sec, *size, p), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    return r;
}

/* A child's view of a named region's "ring" section. */
static inline struct dshq_region *ru_attach(const char *name, uint32_t kind, void **sec,
                                            uint64_t *size)
{
    struct dshq_region *r = NULL;
    int rc = dshq_region_attach(name, 0, 0, &r);
    CHECK_MSG(rc == 0, "attach: %s", dshq_strerror(rc));
    CHECK_EQ_INT(dshq_region_find(r, kind, "ring", 0, sec, size), 0);
    return r;
}

/* Waits for a child and requires exit status 0. */
static inline void ru_wait_ok(pid_t pid)
{
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: status 0x%x", (int)pid, st);
}

#endif
