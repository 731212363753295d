/* ring_common.h — private helpers shared by lane.c and mpsc.c:
 * the sleep/wake protocol on struct dshq_ring_sleep, and the bounded spin
 * (owner words are transport/owner.h's).
 *
 * Sleep/wake protocol ("arm before test").  The waker's fast path must make
 * no system call and no read-modify-write when nobody sleeps, and a sleep
 * must cost one notify however many commits follow it (on an oversubscribed
 * machine a woken sleeper may take long to run; a notify per commit in that
 * window would be a system call per commit).  So the sleeper arms a flag
 * after taking its event snapshot and before testing its condition, and the
 * first waker that finds the flag set takes it (exchange) and notifies:
 *
 *   sleeper                                  waker
 *   -------                                  -----
 *   snap = dshq_event_prepare(ev) (acq) S1   condition word = v            K1
 *   armed = 1                  (seq_cst) S2   [barrier B]
 *   [membarrier M, in MEMBARRIER mode]        if armed                      K2
 *   test: condition word (seq_cst load) S3      and exchange(armed, 0) == 1 K3
 *   if true: done                                  dshq_event_notify(ev)    K4
 *   dshq_event_wait(ev, snap, t)        S4
 *   loop (take a new snapshot, re-arm)
 *
 * S2..S3 against K1..K2 is a Dekker pair: each side stores, then loads what
 * the other stored, and a store->load reordering on either side would lose
 * the wake-up.  Two ways to forbid it, chosen per ring at creation
 * (wake_mode):
 *   DSHQ_WAKE_SEQCST      K1 is a seq_cst store and K2 a seq_cst load (B is
 *                         implied): in the single order of seq_cst
 *                         operations either K2 sees S2 or S3 sees K1.  Costs
 *                         the waker a locked instruction (xchg) per commit.
 *   DSHQ_WAKE_MEMBARRIER  K1 is a release store, B only a compiler barrier,
 *                         K2 a relaxed load; the sleeper pays instead:
 *                         membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) (M)
 *                         runs a full barrier on every CPU that runs a
 *                         thread of a registered process, so a waker's K1
 *                         either precedes that barrier (and S3 sees it) or
 *                         its K2 follows it (and sees S2).  Every waker
 *                         registers at open (MEMBARRIER_CMD_REGISTER_GLOBAL_
 *                         EXPEDITED); one that cannot falls back to the
 *                         seq_cst forms, which are correct in both modes.
 *                         A sleeper whose membarrier fails sleeps in 1 ms
 *                         slices instead of trusting the pair.  (The
 *                         asymmetric fence of liburcu and folly.)
 * When K2 sees armed = 1 but another waker took the flag after S2, that
 * waker notifies after S2, hence after S1, so seq differs from snap and S4
 * returns at once; the sleeper loops, re-arms and re-tests.  Several
 * sleepers may share one flag (producers waiting for room in the MPSC
 * ring): the notify wakes them all, and each re-arms.  The flag is left set
 * when a sleeper finds its condition true; the next waker then pays one
 * exchange and one notify without a system call (dshq_event_notify calls
 * the kernel only for threads inside dshq_event_wait).  The store of K1
 * carries the release the data protocol needs, the seq_cst load of S3 the
 * acquire.  No standalone thread fence is used (GCC's ThreadSanitizer cannot
 * model one); ThreadSanitizer builds always use DSHQ_WAKE_SEQCST. */
#ifndef DSHQ_TRANSPORT_RING_COMMON_H
#define DSHQ_TRANSPORT_RING_COMMON_H

#include <errno.h>
#include <stdatomic.h>
#ifndef __EMSCRIPTEN__
#include <linux/membarrier.h>
#else
/* WebAssembly has no membarrier: every ring there uses DSHQ_WAKE_SEQCST
 * (the query below fails), so these values are never passed anywhere. */
#define MEMBARRIER_CMD_QUERY 0
#define MEMBARRIER_CMD_GLOBAL_EXPEDITED (1 << 1)
#define MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED (1 << 2)
#endif
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dshq/error.h"
#include "dshq/region.h"
#include "dshq/rollout.h"
#include "dshq/wait.h"

#if defined(__SANITIZE_THREAD__)
#define RING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RING_TSAN 1
#endif
#endif
#ifndef RING_TSAN
#define RING_TSAN 0
#endif

/* Before sleeping, a waiter spins RING_SPIN times (a peer mid-commit is
 * done within that: a few microseconds), then yields the CPU up to
 * RING_YIELDS times: on a machine with more runnable processes than cores
 * that lets the peer it waits for run, which is far cheaper than a futex
 * sleep and wake per handful of slots.  Both phases are bounded; the fast
 * path (room, or data, at once) does neither.  Overridable at build time
 * (-DRING_SPIN=N -DRING_YIELDS=N) for tuning on other machines. */
#ifndef RING_SPIN
#define RING_SPIN 64
#endif
#ifndef RING_YIELDS
#define RING_YIELDS 16
#endif

static inline void ring_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Owner words (lane producers, consumers, MPSC producer entries) are
 * transport/owner.h's: one word, taken and dropped by one CAS. */

/* ------------------------------------------------------------ sleep/wake */

/* ------------------------------------------------------------ membarrier */

static inline long ring_membarrier_call(int cmd)
{
#ifdef __EMSCRIPTEN__
    (void)cmd;
    return -1; /* no such call in wasm: the seq_cst wake mode */
#else
    return syscall(SYS_membarrier, cmd, 0, 0);
#endif
}

/* The wake mode a new ring gets: MEMBARRIER when this kernel offers the
 * global expedited barrier (and this is not a ThreadSanitizer build, which
 * cannot see it), else SEQCST. */
static inline uint32_t ring_wake_mode_for_new(uint32_t flags)
{
    if (RING_TSAN || (flags & DSHQ_RING_FORCE_SEQCST))
        return DSHQ_WAKE_SEQCST;
    long q = ring_membarrier_call(MEMBARRIER_CMD_QUERY);
    long need = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
    return q > 0 && (q & need) == need ? DSHQ_WAKE_MEMBARRIER : DSHQ_WAKE_SEQCST;
}

/* A waker's choice at open: 1 (cheap release stores) only in MEMBARRIER
 * mode and once this process is registered for the sleepers' barrier. */
static inline int ring_waker_cheap(uint32_t wake_mode)
{
    if (RING_TSAN || wake_mode != DSHQ_WAKE_MEMBARRIER)
        return 0;
    return ring_membarrier_call(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
}

/* K1: publishes a condition word (a cursor or a commit word).  Release
 * order for the data either way; seq_cst for the wake pairing unless the
 * sleepers use membarrier (cheap). */
static inline void ring_publish(_Atomic uint64_t *word, uint64_t v, int cheap)
{
    if (cheap) {
        atomic_store_explicit(word, v, memory_order_release);
        /* B: compiler barrier only; M in the sleeper supplies the CPU one. */
        atomic_signal_fence(memory_order_seq_cst);
    } else {
        atomic_store_explicit(word, v, memory_order_seq_cst);
    }
}

/* ------------------------------------------------------------ sleep/wake */

/* Waker side, K2..K4: call right after ring_publish (K1, B). */
static inline void ring_wake(struct dshq_ring_sleep *w, int cheap)
{
    /* K2: seq_cst load, the Dekker partner of S2 (with K1 and S3); relaxed
     * in membarrier mode, where M orders it.  Then K3: only the first
     * waker after an arming notifies. */
    uint32_t armed = atomic_load_explicit(&w->armed, cheap ? memory_order_relaxed
                                                           : memory_order_seq_cst);
    if (armed && atomic_exchange_explicit(&w->armed, 0, memory_order_seq_cst) != 0)
        dshq_event_notify(&w->ev); /* K4 */
}

#define RING_FALLBACK_SLICE_NS (1000 * 1000)

/* Sleeper side.  ready(arg) is the condition; it must load its condition
 * words with memory_order_seq_cst (S3).  wake_mode: the ring's.  Sleeps
 * until ready() or until deadline_ns (UINT64_MAX: never).  Returns 1 when
 * ready, 0 at the deadline. */
static inline int ring_sleep(struct dshq_ring_sleep *w, uint32_t wake_mode,
                             int (*ready)(void *), void *arg, uint64_t deadline_ns)
{
    for (;;) {
        uint32_t snap = dshq_event_prepare(&w->ev); /* S1 */
        /* S2: seq_cst store, the Dekker partner of K2. */
        atomic_store_explicit(&w->armed, 1, memory_order_seq_cst);
        int trusted = 1;
        if (wake_mode == DSHQ_WAKE_MEMBARRIER &&
            ring_membarrier_call(MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0) /* M */
            trusted = 0; /* no barrier: do not rely on a wake-up */
        if (ready(arg)) /* S3 */
            return 1;
        uint64_t now = dshq_now_ns();
        if (deadline_ns != UINT64_MAX && now >= deadline_ns)
            return 0;
        uint64_t until = deadline_ns;
        if (!trusted && (until == UINT64_MAX || until - now > RING_FALLBACK_SLICE_NS))
            until = now + RING_FALLBACK_SLICE_NS;
        dshq_event_wait(&w->ev, snap, until == UINT64_MAX ? -1 : (int64_t)(until - now)); /* S4 */
    }
}

/* The bounded spin, then the bounded yields, before a sleep.  Returns 1 as
 * soon as ready(arg), 0 when both phases found it false (or the deadline
 * passed during the yields). */
static inline int ring_spin(int (*ready)(void *), void *arg, uint64_t deadline_ns)
{
    for (int i = 0; i < RING_SPIN; i++) {
        ring_cpu_relax();
        if (ready(arg))
            return 1;
    }
    for (int i = 0; i < RING_YIELDS; i++) {
        sched_yield();
        if (ready(arg))
            return 1;
        if (deadline_ns != UINT64_MAX && dshq_now_ns() >= deadline_ns)
            return 0;
    }
    return 0;
}

static inline uint64_t ring_deadline(int64_t timeout_ns)
{
    return timeout_ns < 0 ? UINT64_MAX : dshq_now_ns() + (uint64_t)timeout_ns;
}

/* ------------------------------------------------------------ short path */

/* Creates region NAME holding one section of `kind` called secname, of
 * `bytes` bytes, initialized by init(section, size, p); not yet ready
 * (the caller opens its handle, then marks it ready). */
static inline int ring_short_create(const char *name, uint32_t kind, const char *secname,
                                    uint64_t bytes, const struct dshq_ring_params *p,
                                    int (*init)(void *, uint64_t, const struct dshq_ring_params *),
                                    struct dshq_region **r, void **sec, uint64_t *size)
{
    if (bytes == 0)
        return -EINVAL;
    struct dshq_layout l;
    dshq_layout_init(&l);
    int rc = dshq_layout_add(&l, kind, secname, kind == DSHQ_SECTION_LANES ? DSHQ_LANES_VERSION
                                                                           : DSHQ_MPSC_VERSION,
                             bytes, DSHQ_PAGE_ALIGN, 0);
    if (rc < 0)
        return rc;
    rc = dshq_region_create(name, &l, DSHQ_CREATE_REPLACE_STALE, r);
    if (rc)
        return rc;
    if ((rc = dshq_region_find(*r, kind, secname, 0, sec, size)) ||
        (rc = init(*sec, *size, p))) {
        dshq_region_destroy(*r);
        return rc;
    }
    return 0;
}

/* Attaches to region NAME and finds its section of `kind` called secname,
 * or else its first section of that kind. */
static inline int ring_short_attach(const char *name, uint32_t kind, const char *secname,
                                    struct dshq_region **r, void **sec, uint64_t *size)
{
    int rc = dshq_region_attach(name, 0, 0, r);
    if (rc)
        return rc;
    rc = dshq_region_find(*r, kind, secname, 0, sec, size);
    if (rc == DSHQ_ENOSECTION) {
        uint32_t n = 0;
        const struct dshq_section *t = dshq_region_sections(*r, &n);
        for (uint32_t i = 0; i < n && rc; i++)
            if (t[i].kind == kind)
                rc = dshq_region_find(*r, kind, t[i].name, 0, sec, size);
    }
    if (rc)
        dshq_region_detach(*r);
    return rc;
}

/* Ends a short-path handle's hold on its region: the creator destroys it. */
static inline void ring_short_release(struct dshq_region *r, int creator)
{
    if (!r)
        return;
    if (creator)
        dshq_region_destroy(r);
    else
        dshq_region_detach(r);
}

static inline uint64_t ring_align(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

#endif
