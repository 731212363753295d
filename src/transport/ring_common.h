/* ring_common.h — private helpers shared by lane.c and mpsc.c: owner words,
 * the sleep/wake protocol on struct dshq_event, and the bounded spin.
 *
 * Sleep/wake protocol ("announce before test").  The waker's fast path must
 * make no system call and no read-modify-write when nobody sleeps, so it
 * bumps the event only when it sees a sleeper announced.  For that to lose
 * no wake-up, the sleeper announces itself BEFORE it tests its condition,
 * and both sides use seq_cst operations for the announcement and for the
 * condition word (a Dekker pair, with no standalone fence, which GCC's
 * ThreadSanitizer cannot model):
 *
 *   sleeper                                  waker
 *   -------                                  -----
 *   waiters += 1         (seq_cst RMW)  S1   condition word = v (seq_cst)  K1
 *   snap = dshq_event_prepare(ev)       S2   w = waiters (seq_cst load)    K2
 *   test: condition word (seq_cst load) S3   if w != 0: dshq_event_notify  K3
 *   if true: waiters -= 1; done
 *   dshq_event_wait(ev, snap, t)        S4
 *   waiters -= 1
 *
 * In the single order of seq_cst operations, either K2 comes after S1 (the
 * waker sees the sleeper and notifies) or K2 comes before S1, and then K1
 * comes before S3, so the test sees the new condition.  A notify before S2
 * is inside snap, but then K1 happened before it and S3 sees it; a notify
 * after S2 changes seq, so S4 returns at once.  dshq_event_wait counts the
 * sleeper in waiters again while it sleeps; the double count is harmless.
 * The seq_cst store of K1 carries the release the data protocol needs, and
 * the seq_cst load of S3 the acquire (on x86-64: one xchg, one mov). */
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

/* Waker side, K2..K3: call right after the seq_cst store of the condition
 * word (K1). */
static inline void ring_wake(struct dshq_event *ev)
{
    /* K2: seq_cst load pairs with S1 (single total order with K1, S3). */
    if (atomic_load_explicit(&ev->waiters, memory_order_seq_cst) != 0)
        dshq_event_notify(ev); /* K3 */
}

/* Sleeper side.  ready(arg) is the condition; it must load its condition
 * words with memory_order_seq_cst (S3).  Sleeps until ready() or until
 * deadline_ns (UINT64_MAX: never).  Returns 1 when ready, 0 at the deadline. */
static inline int ring_sleep(struct dshq_event *ev, int (*ready)(void *), void *arg,
                             uint64_t deadline_ns)
{
    for (;;) {
        /* S1: seq_cst RMW pairs with K2 in ring_wake. */
        atomic_fetch_add_explicit(&ev->waiters, 1, memory_order_seq_cst);
        uint32_t snap = dshq_event_prepare(ev); /* S2 */
        int ok = ready(arg);                    /* S3 */
        int64_t left = -1;
        if (!ok && deadline_ns != UINT64_MAX) {
            uint64_t now = dshq_now_ns();
            left = now >= deadline_ns ? 0 : (int64_t)(deadline_ns - now);
        }
        if (!ok && left != 0)
            dshq_event_wait(ev, snap, left); /* S4 */
        /* Relaxed: only decides whether wakers bump seq; a stale non-zero
         * costs one spurious notify, never a lost wake-up. */
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
