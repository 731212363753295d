/* wait.h — wait/notify on a 32-bit word in shared memory.
 *
 * The native counterpart of JavaScript's Atomics.wait / Atomics.notify, built
 * on Linux futexes WITHOUT FUTEX_PRIVATE_FLAG, so that waiters and notifiers
 * may live in different processes mapping the same region.
 *
 * Two layers:
 *   dshq_futex_wait / dshq_futex_wake: the raw primitive on any aligned
 *     uint32 in shared memory.
 *   struct dshq_event: an event count with a waiter counter, so that a
 *     notify with nobody asleep is one atomic add and one load, no syscall.
 *
 * Event protocol (who sleeps on what):
 *
 *   waiter                                 notifier
 *   ------                                 --------
 *   e = dshq_event_prepare(ev)  (W1)       make the condition true (N0)
 *   if condition: done                     dshq_event_notify(ev):
 *   dshq_event_wait(ev, e, timeout)          seq += 1                 (N1)
 *     waiters += 1         (W2)              fence seq_cst            (N2)
 *     fence seq_cst        (W3)              if waiters != 0: futex_wake (N3)
 *     if seq == e: futex_wait(seq, e)
 *     waiters -= 1
 *
 * W3 and N2 form a Dekker pair: either the waiter sees the new seq and does
 * not sleep, or the notifier sees waiters != 0 and wakes it.  futex_wait
 * itself re-checks seq == e atomically in the kernel, so a wake between the
 * check and the sleep is never lost. */
#ifndef DSHQ_WAIT_H
#define DSHQ_WAIT_H

#include <stdatomic.h>
#include <stdint.h>
#include "dshq/cxx_begin.h"

/* Sleeps while *addr == expected, at most timeout_ns (< 0: forever).
 * Returns 0 when woken (or spuriously), -EAGAIN if *addr != expected at the
 * call, -ETIMEDOUT on timeout, -EINTR on a signal. */
int dshq_futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns);

/* Wakes up to count waiters sleeping on addr (INT32_MAX: all).  Returns the
 * number woken or a negative errno. */
int dshq_futex_wake(_Atomic uint32_t *addr, int32_t count);

/* Event count; lives in shared memory, 8 bytes, zero-initialized is valid. */
struct dshq_event {
    _Atomic uint32_t seq;     /* 0: bumped by every notify */
    _Atomic uint32_t waiters; /* 4: sleepers on seq right now */
};
_Static_assert(sizeof(struct dshq_event) == 8, "dshq_event is 8 bytes");

/* Snapshot to pass to dshq_event_wait; take it BEFORE testing the condition. */
uint32_t dshq_event_prepare(struct dshq_event *ev);

/* Sleeps until a notify after the snapshot, or timeout_ns (< 0: forever).
 * Returns 0 (notified or spurious: re-test the condition), -ETIMEDOUT. */
int dshq_event_wait(struct dshq_event *ev, uint32_t snapshot, int64_t timeout_ns);

/* Wakes every waiter; no system call when nobody is waiting. */
void dshq_event_notify(struct dshq_event *ev);

/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC, shared by all processes). */
uint64_t dshq_now_ns(void);

#include "dshq/cxx_end.h"
#endif
