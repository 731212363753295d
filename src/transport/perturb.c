/* perturb.c — see perturb.h.  Compiled in every build; it does something
 * only where DSHQ_PERTURB() calls it (builds with -DDSHQ_PERTURB_BUILD). */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "transport/perturb.h"

void dshq_perturb_point(void);

static _Thread_local uint64_t rng;
static _Thread_local int32_t rng_pid;
static _Atomic int odds = -1; /* lazily read from the environment */

void dshq_perturb_point(void)
{
    int32_t pid = (int32_t)getpid();
    if (rng == 0 || rng_pid != pid) { /* first use in this thread, or a forked child */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        rng = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)pid << 32 ^
              (uint64_t)(uintptr_t)&rng;
        rng |= 1;
        rng_pid = pid;
    }
    /* Relaxed: every thread computes the same constant. */
    int o = atomic_load_explicit(&odds, memory_order_relaxed);
    if (o < 0) {
        const char *e = getenv("DSHQ_PERTURB_ODDS");
        o = e ? atoi(e) : 8;
        o = o > 0 ? o : 8;
        atomic_store_explicit(&odds, o, memory_order_relaxed);
    }
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    uint64_t r = rng;
    if (r % (uint64_t)o)
        return;
    r /= (uint64_t)o;
    if (r % 3 == 0) {
        sched_yield();
    } else if (r % 3 == 1) {
        /* A real pause: the other side surely runs meanwhile. */
        struct timespec ts = {0, (long)(1000 + (r >> 2) % 100000)};
        nanosleep(&ts, NULL);
    } else {
        r /= 3;
        unsigned spins = (unsigned)(r >> 1) % 2000u;
        for (volatile unsigned i = 0; i < spins; i++) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
}

#ifdef DSHQ_PERTURB_BUILD
void dshq_perturb(void)
{
    dshq_perturb_point();
}
#endif
