/* wait/notify across processes: a sleeper in a child is woken by the parent;
 * timeouts expire; a changed value does not sleep; many wake-ups, none lost.
 * The racing phase aims each notify at the moment the sleeper goes to sleep
 * (the notifier waits until the sleeper has taken its snapshot), where a
 * lost wake-up lives: a sleeper that is not woken hits a 20 s deadline and
 * the test fails.  No timing is assumed: the deadline only bounds a bug. */
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "check.h"
#include "dshq/wait.h"

struct shared {
    struct dshq_event ev;     /* parent -> child */
    struct dshq_event back;   /* child -> parent */
    _Atomic uint32_t value;
    _Atomic uint32_t acked;
    _Atomic uint32_t ready;   /* racing phase: the round the sleeper is in */
};

int main(void)
{
    struct shared *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED);

    /* Raw futex: EAGAIN when the word differs, ETIMEDOUT when nobody wakes. */
    atomic_store(&s->value, 7);
    CHECK_EQ_INT(dshq_futex_wait(&s->value, 8, 1000000), -EAGAIN);
    uint64_t t0 = dshq_now_ns();
    CHECK_EQ_INT(dshq_futex_wait(&s->value, 7, 20000000), -ETIMEDOUT);
    CHECK(dshq_now_ns() - t0 >= 15000000ull);
    CHECK_EQ_INT(dshq_futex_wake(&s->value, 1), 0); /* nobody asleep */

    /* Event: timeout with no notify; waiters back to 0 afterwards. */
    uint32_t e = dshq_event_prepare(&s->ev);
    CHECK_EQ_INT(dshq_event_wait(&s->ev, e, 10000000), -ETIMEDOUT);
    CHECK_EQ_INT(atomic_load(&s->ev.waiters), 0);
    /* A notify after the snapshot makes wait return at once. */
    dshq_event_notify(&s->ev);
    CHECK_EQ_INT(dshq_event_wait(&s->ev, e, 1000000000), 0);

    /* Ping-pong across processes: N rounds, each a sleep and a wake-up on
     * both sides; the values prove every round was seen in order. */
    enum { ROUNDS = 2000 };
    atomic_store(&s->value, 0);
    atomic_store(&s->acked, 0);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        for (uint32_t i = 1; i <= ROUNDS; i++) {
            for (;;) {
                uint32_t snap = dshq_event_prepare(&s->ev);
                if (atomic_load_explicit(&s->value, memory_order_acquire) >= i)
                    break;
                CHECK_MSG(dshq_event_wait(&s->ev, snap, 5000000000LL) == 0, "round %u lost", i);
            }
            CHECK_EQ_INT(atomic_load(&s->value), i);
            atomic_store_explicit(&s->acked, i, memory_order_release);
            dshq_event_notify(&s->back);
        }
        _exit(0);
    }
    for (uint32_t i = 1; i <= ROUNDS; i++) {
        atomic_store_explicit(&s->value, i, memory_order_release);
        dshq_event_notify(&s->ev);
        for (;;) {
            uint32_t snap = dshq_event_prepare(&s->back);
            if (atomic_load_explicit(&s->acked, memory_order_acquire) >= i)
                break;
            CHECK_MSG(dshq_event_wait(&s->back, snap, 5000000000LL) == 0, "ack %u lost", i);
        }
    }
    int st;
    CHECK_EQ_INT(waitpid(c, &st, 0), c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ_INT(atomic_load(&s->ev.waiters), 0);
    CHECK_EQ_INT(atomic_load(&s->back.waiters), 0);
    /* Racing phase: the notify lands while the sleeper is between its
     * snapshot and its futex sleep, round after round. */
    enum { RACES = 50000 };
    atomic_store(&s->value, 0);
    atomic_store(&s->ready, 0);
    c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        for (uint32_t i = 1; i <= RACES; i++) {
            uint32_t snap = dshq_event_prepare(&s->ev);
            atomic_store_explicit(&s->ready, i, memory_order_release); /* "about to sleep" */
            while (atomic_load_explicit(&s->value, memory_order_acquire) < i) {
                CHECK_MSG(dshq_event_wait(&s->ev, snap, 20000000000LL) == 0,
                          "race %u: wake-up lost", i);
                snap = dshq_event_prepare(&s->ev);
            }
        }
        _exit(0);
    }
    for (uint32_t i = 1; i <= RACES; i++) {
        uint64_t limit = dshq_now_ns() + 60000000000ull;
        /* Spin tightly (yield now and then): the notify should follow the
         * sleeper's snapshot within nanoseconds, inside its way to sleep. */
        for (uint32_t spins = 0; atomic_load_explicit(&s->ready, memory_order_acquire) < i;
             spins++) {
            if (spins % 1024 == 1023) {
                CHECK_MSG(dshq_now_ns() < limit, "race %u: the sleeper never got ready", i);
                sched_yield();
            }
        }
        atomic_store_explicit(&s->value, i, memory_order_release);
        dshq_event_notify(&s->ev);
    }
    CHECK_EQ_INT(waitpid(c, &st, 0), c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ_INT(atomic_load(&s->ev.waiters), 0);
    puts("wait: ok");
    return 0;
}
