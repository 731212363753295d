/* placement.h — what a benchmark that times transfers between CPUs needs to
 * make its placement visible and to stay bounded in time (header only;
 * included by bench/rollout.c and the other transfer benchmarks):
 *
 *   --cpus A,B[,C]   place_parse(): role 0 (the consumer / reader) runs on
 *                    CPU A, role 1 (the first producer) on B, role 2 on C
 *                    (B when C is not given); place_pin(role) pins the
 *                    calling process.  Without --cpus nothing is pinned.
 *   place_probe()    the cache-line round trip between the CPUs of roles 0
 *                    and 1: two threads pinned there pass one cache line
 *                    back and forth; the median of 9 batches, in ns.  The
 *                    figure beside a throughput says whether the two CPUs
 *                    were close (shared cache, ~50-100 ns), far (~200-500 ns)
 *                    or the same one (a context switch per trip, µs).
 *   place_run()      runs one measurement in a child process and gives it
 *                    `limit` seconds; a run that does not finish is killed
 *                    (with its children) and reported as collapsed instead
 *                    of hanging the benchmark. */
#ifndef DSHQ_BENCH_PLACEMENT_H
#define DSHQ_BENCH_PLACEMENT_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int place_cpu[3] = {-1, -1, -1};
static double place_limit_s = 30;

static inline uint64_t place_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "A,B[,C]" -> place_cpu; 0 or -1 when malformed. */
static inline int place_parse(const char *s)
{
    int n = 0;
    char *end;
    while (n < 3) {
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v >= CPU_SETSIZE)
            return -1;
        place_cpu[n++] = (int)v;
        if (*end != ',')
            break;
        s = end + 1;
    }
    if (*end || n < 2)
        return -1;
    if (n == 2)
        place_cpu[2] = place_cpu[1];
    return 0;
}

static inline int place_pinned(void)
{
    return place_cpu[0] >= 0;
}

/* Pins the calling thread (after fork: the process) to role's CPU. */
static inline void place_pin(int role)
{
    if (!place_pinned())
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(place_cpu[role], &set);
    if (sched_setaffinity(0, sizeof set, &set)) {
        fprintf(stderr, "bench: cannot pin to CPU %d: %s\n", place_cpu[role], strerror(errno));
        exit(1);
    }
}

static inline const char *place_describe(char *buf, size_t len)
{
    if (!place_pinned())
        snprintf(buf, len, "unpinned");
    else
        snprintf(buf, len, "cpus %d,%d,%d", place_cpu[0], place_cpu[1], place_cpu[2]);
    return buf;
}

static inline void place_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

struct place_probe_arg {
    _Alignas(64) _Atomic uint64_t line; /* the cache line passed back and forth */
    char pad[56];
    _Atomic int stop;
    uint64_t trips;
};

/* Waits until line == want (spins; yields every 64 spins so that two
 * roles on one CPU still progress); 0 when stopped or past deadline_ns
 * (0: none). */
static inline int place_wait(struct place_probe_arg *a, uint64_t want, uint64_t deadline_ns)
{
    unsigned spins = 0;
    /* Acquire pairs with the other side's release store. */
    while (atomic_load_explicit(&a->line, memory_order_acquire) != want) {
        if (atomic_load_explicit(&a->stop, memory_order_relaxed))
            return 0;
        if (++spins % 64 == 0) {
            sched_yield();
            if (deadline_ns && place_now_ns() > deadline_ns)
                return 0;
        } else {
            place_pause();
        }
    }
    return 1;
}

static inline void *place_echo(void *x)
{
    struct place_probe_arg *a = x;
    place_pin(1);
    for (uint64_t i = 0;; i++) {
        if (!place_wait(a, 2 * i + 1, 0))
            return NULL;
        /* Release pairs with the prober's acquire. */
        atomic_store_explicit(&a->line, 2 * i + 2, memory_order_release);
    }
}

/* Median round trip (ns) of one cache line between roles 0 and 1, over 9
 * batches bounded to ~100 ms in all; -1 when it could not run. */
static inline double place_probe(void)
{
    static struct place_probe_arg a;
    atomic_store(&a.line, 0);
    atomic_store(&a.stop, 0);
    pthread_t th;
    cpu_set_t saved;
    sched_getaffinity(0, sizeof saved, &saved);
    if (pthread_create(&th, NULL, place_echo, &a))
        return -1;
    place_pin(0);
    double v[9];
    int nb = 0;
    uint64_t i = 0, end = place_now_ns() + 100u * 1000 * 1000;
    for (int b = 0; b < 9; b++) {
        uint64_t t0 = place_now_ns(), n = 0;
        while (n < 2000 && place_now_ns() < end) {
            atomic_store_explicit(&a.line, 2 * i + 1, memory_order_release);
            if (!place_wait(&a, 2 * i + 2, end + 100u * 1000 * 1000))
                break; /* the echo did not run within 100 ms: no figure */
            i++, n++;
        }
        if (n)
            v[nb++] = (double)(place_now_ns() - t0) / (double)n;
        if (atomic_load_explicit(&a.line, memory_order_relaxed) != 2 * i)
            break; /* an unanswered trip: the line is out of step */
    }
    atomic_store(&a.stop, 1);
    pthread_join(th, NULL);
    sched_setaffinity(0, sizeof saved, &saved);
    if (!nb)
        return -1;
    for (int x = 1; x < nb; x++) /* insertion sort */
        for (int y = x; y > 0 && v[y] < v[y - 1]; y--) {
            double t = v[y];
            v[y] = v[y - 1];
            v[y - 1] = t;
        }
    return v[nb / 2];
}

/* place_run outcomes */
#define PLACE_COLLAPSED (-2.0)
#define PLACE_FAILED (-3.0)

/* Runs fn(arg) in a child (pinned to role 0) and returns its result, or
 * PLACE_COLLAPSED when it did not finish within place_limit_s (the child
 * and, through their parent-death signal, its children are killed), or
 * PLACE_FAILED when it died. */
static inline double place_run(double (*fn)(void *), void *arg)
{
    int p[2];
    if (pipe(p))
        return PLACE_FAILED;
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return PLACE_FAILED;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        close(p[0]);
        place_pin(0);
        double v = fn(arg);
        if (write(p[1], &v, sizeof v) != sizeof v)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    double v = PLACE_FAILED;
    int r;
    do
        r = poll(&pf, 1, (int)(place_limit_s * 1000));
    while (r < 0 && errno == EINTR);
    if (r == 0) {
        v = PLACE_COLLAPSED;
        kill(pid, SIGKILL);
    } else if (read(p[0], &v, sizeof v) != sizeof v) {
        v = PLACE_FAILED;
    }
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    if (v != PLACE_COLLAPSED && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        v = PLACE_FAILED;
    return v;
}

#endif
