/* wait.c — cross-process wait/notify on a 32-bit word (see dshq/wait.h). */
#include <errno.h>
#include <limits.h>
#ifdef __EMSCRIPTEN__
#include <emscripten/threading.h>
#include <math.h>
#else
#include <linux/futex.h>
#include <sys/syscall.h>
#endif
#include <time.h>
#include <unistd.h>

#include "dshq/wait.h"
#include "transport/perturb.h"

uint64_t dshq_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifdef __EMSCRIPTEN__
/* WebAssembly (threads are Web Workers over one shared memory): Emscripten's
 * futex is Atomics.wait / Atomics.notify on the SharedArrayBuffer.  The
 * browser's main thread may not block: roles never run there. */
/* Waits attempted on the browser's main thread, where Atomics.wait is not
 * allowed (Emscripten busy-waits there instead): the web host's tests
 * check it stays 0.  Relaxed: a counter read after the fact. */
_Atomic uint32_t dshq_wasm_main_thread_waits;

int dshq_futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
    if (emscripten_is_main_browser_thread())
        atomic_fetch_add_explicit(&dshq_wasm_main_thread_waits, 1, memory_order_relaxed);
    double ms = timeout_ns >= 0 ? (double)timeout_ns / 1e6 : INFINITY;
    int rc = emscripten_futex_wait((volatile void *)addr, expected, ms);
    if (rc == -EWOULDBLOCK)
        return -EAGAIN;
    return rc == 0 || rc == -ETIMEDOUT ? rc : -EINTR;
}

int dshq_futex_wake(_Atomic uint32_t *addr, int32_t count)
{
    int rc = emscripten_futex_wake((volatile void *)addr, count);
    return rc;
}
#else
int dshq_futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    /* FUTEX_WAIT without FUTEX_PRIVATE_FLAG: keyed on the physical page, so a
     * waker in another process that maps the same region finds us. */
    long rc = syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, expected, tsp, NULL, 0);
    if (rc == 0)
        return 0;
    return -errno; /* EAGAIN: value differed; ETIMEDOUT; EINTR */
}

int dshq_futex_wake(_Atomic uint32_t *addr, int32_t count)
{
    long rc = syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE, count, NULL, NULL, 0);
    return rc < 0 ? -errno : (int)rc;
}
#endif

uint32_t dshq_event_prepare(struct dshq_event *ev)
{
    /* W1: acquire pairs with N1, so the condition written before the notify
     * (N0) is visible once we see its seq. */
    return atomic_load_explicit(&ev->seq, memory_order_acquire);
}

int dshq_event_wait(struct dshq_event *ev, uint32_t snapshot, int64_t timeout_ns)
{
    uint64_t deadline = timeout_ns >= 0 ? dshq_now_ns() + (uint64_t)timeout_ns : 0;
    int rc = 0;
    DSHQ_PERTURB(); /* between the caller's test of its condition and W2 */
    /* W2: announce the sleeper before the final check of seq. */
    atomic_fetch_add_explicit(&ev->waiters, 1, memory_order_relaxed);
    DSHQ_PERTURB();
    /* W3: pairs with N2 (Dekker): after this fence, either we see the new seq
     * or the notifier sees waiters != 0. */
    atomic_thread_fence(memory_order_seq_cst);
    while (atomic_load_explicit(&ev->seq, memory_order_acquire) == snapshot) {
        int64_t left = -1;
        if (timeout_ns >= 0) {
            uint64_t now = dshq_now_ns();
            if (now >= deadline) {
                rc = -ETIMEDOUT;
                break;
            }
            left = (int64_t)(deadline - now);
        }
        DSHQ_PERTURB(); /* between the last check and the sleep */
        int w = dshq_futex_wait(&ev->seq, snapshot, left);
        if (w == -ETIMEDOUT) {
            rc = -ETIMEDOUT;
            break;
        }
        if (w == 0)
            break; /* woken: the caller re-tests its condition */
        /* -EAGAIN (seq moved) ends the loop by its test; -EINTR retries. */
    }
    /* Relaxed: the counter only decides whether notifiers syscall; a stale
     * value costs one spurious FUTEX_WAKE, never a lost wake-up. */
    atomic_fetch_sub_explicit(&ev->waiters, 1, memory_order_relaxed);
    return rc;
}

void dshq_event_notify(struct dshq_event *ev)
{
    /* N1: release pairs with W1 and with the acquire loads in wait. */
    atomic_fetch_add_explicit(&ev->seq, 1, memory_order_release);
    DSHQ_PERTURB();
    /* N2: pairs with W3. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&ev->waiters, memory_order_relaxed) != 0)
        dshq_futex_wake(&ev->seq, INT32_MAX); /* N3 */
}
