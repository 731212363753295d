/* ring_common.h — private helpers shared by lane.c and mpsc.c: owner words,
 * the sleep/wake protocol on struct dshq_event, and the bounded spin.
 *
 * Sleep/wake protocol ("announce before test").  The waker's fast path must
 * make no system call and no read-modify-write when nobody sleeps, so it
 * bumps the event only when it sees a sleeper announced.  For that to lose
 * no wake-up, the sleeper announces itself BEFORE it tests its condition:
 *
 *   sleeper                                  waker
 *   -------                                  -----
 *   waiters += 1                  (S1)       make the condition true (store,
 *   fence seq_cst                 (S2)         release)                   (K1)
 *   snap = dshq_event_prepare(ev) (S3)       fence seq_cst                (K2)
 *   if condition: waiters -= 1; done         if waiters != 0:             (K3)
 *   dshq_event_wait(ev, snap, t)  (S4)          dshq_event_notify(ev)
 *   waiters -= 1
 *
 * S2 pairs with K2 (Dekker): either the sleeper's test sees K1, or the
 * waker's K3 sees the announcement and notifies.  A notify before S3 is in
 * snap, but then K1 happened before it and the test (after S3's acquire,
 * which pairs with the notify's release) sees the condition; a notify after
 * S3 changes seq, so S4 returns at once.  dshq_event_wait counts itself in
 * waiters again while it sleeps; the double count is harmless. */
#ifndef DSHQ_TRANSPORT_RING_COMMON_H
#define DSHQ_TRANSPORT_RING_COMMON_H

#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "dshq/region.h"
#include "dshq/wait.h"

/* Spins before a sleep: enough to ride out a peer that is mid-commit, far
 * too short to burn a core (a few microseconds). */
#define RING_SPIN 128

static inline void ring_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* ----------------------------------------------------------- owner words */

static inline uint64_t ring_owner_word(int32_t pid, uint64_t start_ticks)
{
    return (uint64_t)(uint32_t)pid | ((uint64_t)(uint32_t)start_ticks << 32);
}

static inline uint64_t ring_owner_self(void)
{
    int32_t pid = (int32_t)getpid();
    return ring_owner_word(pid, dshq_process_start_ticks(pid));
}

static inline int32_t ring_owner_pid(uint64_t w)
{
    return (int32_t)(uint32_t)w;
}

/* 1 when the process named by owner word w is alive (and is the same one:
 * its start time matches), 0 when it is dead, reaped or a zombie, or w is 0. */
static inline int ring_owner_alive(uint64_t w)
{
    int32_t pid = ring_owner_pid(w);
    if (w == 0 || pid <= 0)
        return 0;
    if (dshq_process_alive(pid, 0) != DSHQ_CREATOR_ALIVE)
        return 0;
    uint32_t want = (uint32_t)(w >> 32);
    uint64_t now = dshq_process_start_ticks(pid);
    if (want && now && (uint32_t)now != want)
        return 0; /* the pid was reused */
    return 1;
}

/* ------------------------------------------------------------ sleep/wake */

/* Waker side, K2..K3 (call after the release store K1). */
static inline void ring_wake(struct dshq_event *ev)
{
    /* K2: pairs with S2 — after it, either the sleeper saw K1 or we see its
     * announcement. */
    atomic_thread_fence(memory_order_seq_cst);
    /* Relaxed: K2 orders it; a false "nobody" is excluded by S2/K2. */
    if (atomic_load_explicit(&ev->waiters, memory_order_relaxed) != 0)
        dshq_event_notify(ev);
}

/* Sleeper side.  ready(arg) is the condition (it does its own acquire
 * loads).  Sleeps until ready() or until deadline_ns (UINT64_MAX: never).
 * Returns 1 when ready, 0 at the deadline. */
static inline int ring_sleep(struct dshq_event *ev, int (*ready)(void *), void *arg,
                             uint64_t deadline_ns)
{
    for (;;) {
        /* S1: relaxed — S2 orders it before the test. */
        atomic_fetch_add_explicit(&ev->waiters, 1, memory_order_relaxed);
        /* S2: pairs with K2 in ring_wake. */
        atomic_thread_fence(memory_order_seq_cst);
        uint32_t snap = dshq_event_prepare(ev); /* S3 */
        int ok = ready(arg);
        int64_t left = -1;
        if (!ok && deadline_ns != UINT64_MAX) {
            uint64_t now = dshq_now_ns();
            left = now >= deadline_ns ? 0 : (int64_t)(deadline_ns - now);
        }
        if (!ok && left != 0)
            dshq_event_wait(ev, snap, left); /* S4 */
        /* Relaxed: only decides whether wakers bump seq; see ring_wake. */
        atomic_fetch_sub_explicit(&ev->waiters, 1, memory_order_relaxed);
        if (ok)
            return 1;
        if (left == 0)
            return ready(arg);
    }
}

static inline uint64_t ring_deadline(int64_t timeout_ns)
{
    return timeout_ns < 0 ? UINT64_MAX : dshq_now_ns() + (uint64_t)timeout_ns;
}

static inline uint64_t ring_align(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

#endif
