/* owner.c — one-word role ownership shared by every channel (owner.h). */
#include <errno.h>
#include <unistd.h>

#include "dshq/region.h"
#include "transport/owner.h"
#include "transport/perturb.h"

uint64_t dshq_owner_make(int32_t pid, uint64_t start_ticks)
{
    return ((uint64_t)(uint32_t)pid & DSHQ_OWNER_PID_MASK) |
           (uint64_t)(uint32_t)start_ticks << 32;
}

/* Per process: the pid it was computed for, and the word.  Two relaxed
 * atomics: threads may race to fill it, and they compute the same value. */
static _Atomic int32_t self_pid;
static _Atomic uint64_t self_word;

uint64_t dshq_owner_self(void)
{
    int32_t pid = (int32_t)getpid();
    /* Relaxed: a private cache; a thread that sees a stale pair recomputes. */
    uint64_t w = atomic_load_explicit(&self_word, memory_order_relaxed);
    if (atomic_load_explicit(&self_pid, memory_order_relaxed) == pid &&
        dshq_owner_pid(w) == pid)
        return w;
    w = dshq_owner_make(pid, dshq_process_start_ticks(pid));
    atomic_store_explicit(&self_word, w, memory_order_relaxed);
    atomic_store_explicit(&self_pid, pid, memory_order_relaxed);
    return w;
}

int32_t dshq_owner_pid(uint64_t w)
{
    return (int32_t)(w & DSHQ_OWNER_PID_MASK);
}

int dshq_owner_alive(uint64_t w)
{
    int32_t pid = dshq_owner_pid(w);
    if (pid <= 0 || dshq_process_alive(pid, 0) != DSHQ_CREATOR_ALIVE)
        return 0;
    uint32_t want = (uint32_t)(w >> 32);
    uint64_t now = dshq_process_start_ticks(pid);
    if (want && now && (uint32_t)now != want)
        return 0; /* the pid was reused */
    return 1;
}

int dshq_owner_take(_Atomic uint64_t *word, uint64_t *prev)
{
    uint64_t me = dshq_owner_self();
    /* Relaxed: only the expected value of the CAS, which decides. */
    uint64_t cur = atomic_load_explicit(word, memory_order_relaxed);
    for (;;) {
        if (prev)
            *prev = cur;
        if (cur != DSHQ_OWNER_FREE && ((cur & ~DSHQ_OWNER_MARK) == me || dshq_owner_alive(cur)))
            return -EBUSY;
        DSHQ_PERTURB();
        /* OW1: exactly one of the takers that found this very word wins.
         * Acquire pairs with OW2 (drop) / OW4 (reclaim_end): what the last
         * holder wrote is visible to us.  A dead holder wrote nothing more
         * after its death; its last stores are visible once it exited. */
        if (atomic_compare_exchange_strong_explicit(word, &cur, me, memory_order_acquire,
                                                    memory_order_relaxed)) {
            if (prev)
                *prev = cur;
            return cur == DSHQ_OWNER_FREE ? DSHQ_OWNER_TOOK : DSHQ_OWNER_TOOK_OVER;
        }
        /* cur now holds the word another process stored: judge it again. */
    }
}

int dshq_owner_take_free(_Atomic uint64_t *word)
{
    uint64_t zero = DSHQ_OWNER_FREE;
    /* OW1 (free only): acquire pairs with OW2 / OW4. */
    return atomic_compare_exchange_strong_explicit(word, &zero, dshq_owner_self(),
                                                   memory_order_acquire, memory_order_relaxed)
               ? 0
               : -EBUSY;
}

int dshq_owner_drop(_Atomic uint64_t *word)
{
    uint64_t me = dshq_owner_self();
    /* OW2: release pairs with OW1 of the next holder.  A CAS, not a store:
     * a holder that was (wrongly) judged dead and replaced does not free
     * the role of its replacement. */
    return atomic_compare_exchange_strong_explicit(word, &me, DSHQ_OWNER_FREE,
                                                   memory_order_release, memory_order_relaxed);
}

int dshq_owner_held(_Atomic uint64_t *word)
{
    /* Relaxed: only this process stores its own word. */
    return atomic_load_explicit(word, memory_order_relaxed) == dshq_owner_self();
}

int dshq_owner_reclaim_begin(_Atomic uint64_t *word, uint64_t *prev)
{
    uint64_t me = dshq_owner_self();
    /* Relaxed: only a candidate; the CAS decides. */
    uint64_t cur = atomic_load_explicit(word, memory_order_relaxed);
    if (cur == DSHQ_OWNER_FREE || (cur & ~DSHQ_OWNER_MARK) == me || dshq_owner_alive(cur))
        return 0;
    DSHQ_PERTURB();
    /* OW3: one reclaimer wins; the word names it (marked), so a reclaimer
     * that dies here is itself reclaimed later.  Acquire: as OW1. */
    if (!atomic_compare_exchange_strong_explicit(word, &cur, me | DSHQ_OWNER_MARK,
                                                 memory_order_acquire, memory_order_relaxed))
        return 0;
    if (prev)
        *prev = cur;
    return 1;
}

void dshq_owner_reclaim_end(_Atomic uint64_t *word)
{
    /* OW4: release pairs with OW1 of the next holder: it starts from the
     * state we cleaned. */
    atomic_store_explicit(word, DSHQ_OWNER_FREE, memory_order_release);
}
