/* owner.h — who holds a role recorded in shared memory (internal to libdshq).
 *
 * Every channel records the holder of a role (a writer, a consumer, a
 * reader slot, a heartbeat slot, a producer) in ONE 64-bit word, so that a
 * single compare-and-swap decides between processes that race for it:
 *
 *   bits  0..30  pid (Linux pids are < 2^22)
 *   bit   31     DSHQ_OWNER_MARK: the word names a process that is
 *                reclaiming the role from a dead holder (see reclaim)
 *   bits 32..63  the low 32 bits of the process's start time (clock ticks
 *                since boot, /proc/PID/stat field 22); 0 when unknown
 *   0            free
 *
 * The start time tells a reused pid apart from the process that took the
 * role.  Truncated to 32 bits it wraps after 2^32 ticks (497 days at 100 Hz),
 * so a pid reused exactly that much later would be mistaken for the holder:
 * accepted.
 *
 * Protocol (every step is one atomic operation on the word):
 *   take:     load w; w == 0, or w names a dead process (mark or not):
 *             CAS w -> self (acquire).  Racing takers expect the SAME word,
 *             so exactly one CAS succeeds; the losers reload and find a live
 *             owner (-EBUSY).  A live holder is never displaced.
 *   drop:     CAS self -> 0 (release): pairs with the next take's acquire,
 *             so the next holder sees everything the last one wrote.
 *   reclaim:  for roles whose holder's state must be cleaned by someone else
 *             (a dead reader's pins): CAS dead -> self|MARK (acquire), clean,
 *             then store 0 (release).  A reclaimer that dies leaves a marked
 *             word naming itself, which is dead, so another reclaims it.
 *   alive:    the pid exists, is not a zombie, and its start time matches.
 *
 * The API below is stable: lanes, the MPSC ring, weights, mailbox and
 * telemetry all use it. */
#ifndef DSHQ_TRANSPORT_OWNER_H
#define DSHQ_TRANSPORT_OWNER_H

#include <stdatomic.h>
#include <stdint.h>

#define DSHQ_OWNER_FREE UINT64_C(0)
#define DSHQ_OWNER_MARK UINT64_C(0x80000000)
#define DSHQ_OWNER_PID_MASK UINT64_C(0x7fffffff)

/* Outcomes of dshq_owner_take (errors are negative). */
enum {
    DSHQ_OWNER_TOOK = 0,      /* the word was free */
    DSHQ_OWNER_TOOK_OVER = 1, /* the word named a dead process; *prev says which */
};

/* The word for pid and its start time (ticks since boot, 0: unknown). */
uint64_t dshq_owner_make(int32_t pid, uint64_t start_ticks);
/* This process's word (computed once per process; a forked child recomputes). */
uint64_t dshq_owner_self(void);
/* The pid a word names (mark ignored); 0 for a free word. */
int32_t dshq_owner_pid(uint64_t w);
/* 1 when the process a word names (mark ignored) is alive and is the same
 * process (start time matches when both are known); 0 when the word is free
 * or the process is gone, a zombie, or the pid was reused. */
int dshq_owner_alive(uint64_t w);

/* Takes the role: free, or held by a dead process (including a dead
 * reclaimer).  DSHQ_OWNER_TOOK / DSHQ_OWNER_TOOK_OVER, or -EBUSY when a live
 * process holds it (this one included: a role is not re-entrant).  prev
 * (may be NULL) receives the word found.  Acquire on success. */
int dshq_owner_take(_Atomic uint64_t *word, uint64_t *prev);
/* Takes the role only if it is free: 0, or -EBUSY.  Acquire on success. */
int dshq_owner_take_free(_Atomic uint64_t *word);
/* Gives the role up if this process holds it: 1 dropped, 0 not ours.
 * Release: the holder's writes happen before the next take. */
int dshq_owner_drop(_Atomic uint64_t *word);
/* 1 when the word names this process (unmarked).  A relaxed load. */
int dshq_owner_held(_Atomic uint64_t *word);

/* Reclaim of a dead holder's role: 1 when we won it (the word now names us
 * with the mark; *prev the dead word), 0 when it is free, alive or another
 * process won.  Acquire on success.  Then clean the role's state and call
 * dshq_owner_reclaim_end, which frees the word (release). */
int dshq_owner_reclaim_begin(_Atomic uint64_t *word, uint64_t *prev);
void dshq_owner_reclaim_end(_Atomic uint64_t *word);

#endif
