/* wasm_wait — wait/notify (dshq/wait.h) between threads of the wasm build,
 * where the futex is Atomics.wait / Atomics.notify on the shared memory: the
 * assertions of tests/test_wait.c with a thread where that test forks.  A
 * changed value does not sleep, a timeout expires, a notify after the
 * snapshot returns at once, and a ping-pong of many rounds loses no wake-up
 * (every value is seen in order).  Runs under node (make test-web). */
#include <errno.h>
#include <pthread.h>

#include "check.h"
#include "dshq/wait.h"

enum { ROUNDS = 2000 };

static struct {
    struct dshq_event ev;   /* main -> peer */
    struct dshq_event back; /* peer -> main */
    _Atomic uint32_t value;
    _Atomic uint32_t acked;
} S;

static void *peer(void *arg)
{
    (void)arg;
    for (uint32_t want = 1; want <= ROUNDS; want++) {
        for (;;) {
            uint32_t e = dshq_event_prepare(&S.ev);
            /* acquire pairs with the release store of value in main */
            uint32_t v = atomic_load_explicit(&S.value, memory_order_acquire);
            if (v == want)
                break;
            if (v > want)
                return (void *)1; /* a value skipped: a lost round */
            if (dshq_event_wait(&S.ev, e, 10LL * 1000000000) == -ETIMEDOUT)
                return (void *)2; /* a lost wake-up */
        }
        atomic_store_explicit(&S.acked, want, memory_order_release); /* pairs with main's acquire */
        dshq_event_notify(&S.back);
    }
    return NULL;
}

int main(void)
{
    atomic_store(&S.value, 7);
    CHECK_EQ_INT(dshq_futex_wait(&S.value, 8, 1000000), -EAGAIN);
    CHECK_EQ_INT(dshq_futex_wait(&S.value, 7, 20000000), -ETIMEDOUT);
    CHECK_EQ_INT(dshq_futex_wake(&S.value, 1), 0);
    uint32_t e = dshq_event_prepare(&S.ev);
    CHECK_EQ_INT(dshq_event_wait(&S.ev, e, 10000000), -ETIMEDOUT);
    CHECK_EQ_INT(atomic_load(&S.ev.waiters), 0);
    dshq_event_notify(&S.ev);
    CHECK_EQ_INT(dshq_event_wait(&S.ev, e, 1000000000), 0);

    atomic_store(&S.value, 0);
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, peer, NULL), 0);
    for (uint32_t r = 1; r <= ROUNDS; r++) {
        atomic_store_explicit(&S.value, r, memory_order_release); /* pairs with the peer's acquire */
        dshq_event_notify(&S.ev);
        for (;;) {
            uint32_t b = dshq_event_prepare(&S.back);
            if (atomic_load_explicit(&S.acked, memory_order_acquire) == r)
                break;
            CHECK_MSG(dshq_event_wait(&S.back, b, 10LL * 1000000000) != -ETIMEDOUT,
                      "round %u: no acknowledgement within 10 s (lost wake-up)", r);
        }
    }
    void *ret;
    CHECK_EQ_INT(pthread_join(t, &ret), 0);
    CHECK_MSG(ret == NULL, "peer failed: %s", ret == (void *)1 ? "skipped a value" : "lost wake-up");
    CHECK_EQ_INT(atomic_load(&S.ev.waiters), 0);
    CHECK_EQ_INT(atomic_load(&S.back.waiters), 0);
    printf("wasm wait: %d rounds of ping-pong, none lost: ok\n", ROUNDS);
    return 0;
}
