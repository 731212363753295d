/* check.h — the small test harness of DrillSergeantHQ.
 *
 * One test program per behaviour (liburing style): it exits 0 on success,
 * 1 on a failed check and 77 when it must skip (for example a sanitizer that
 * cannot run it).  tests/run.sh runs every program and prints the summary.
 *
 * CHECK(cond) and the typed CHECK_EQ helpers print file:line, the expression
 * and both values, then exit(1): a failed check never lets a test go on with
 * state it no longer trusts.  In a fork()ed child, use _exit paths through
 * the same macros: exit status 1 propagates to the parent's CHECK on it. */
#ifndef DSHQ_TESTS_CHECK_H
#define DSHQ_TESTS_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_SKIP 77

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                 \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, \
                    #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                   \
    do {                                                                     \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);      \
        if (check_a_ != check_b_) {                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);         \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                   \
    do {                                                                     \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);         \
        if (check_a_ != check_b_) {                                          \
            fprintf(stderr,                                                  \
                    "%s:%d: CHECK failed: %s == %s (%" PRIu64 " != %" PRIu64 \
                    ")\n",                                                   \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);         \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                \
    do {                                                                     \
        double check_a_ = (double)(a), check_b_ = (double)(b);               \
        if (!(check_a_ - check_b_ <= (tol) && check_b_ - check_a_ <= (tol))) { \
            fprintf(stderr, "%s:%d: CHECK failed: %s ~= %s (%.9g vs %.9g, tol %g)\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_,          \
                    (double)(tol));                                          \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *check_a_ = (a), *check_b_ = (b);                         \
        if (strcmp(check_a_, check_b_) != 0) {                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" vs \"%s\")\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);         \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

/* Sanitizer detection, so a test can skip what a sanitizer cannot run. */
#if defined(__SANITIZE_THREAD__)
#define TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_UNDER_TSAN 1
#endif
#endif
#ifndef TEST_UNDER_TSAN
#define TEST_UNDER_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNDER_ASAN 1
#endif
#endif
#ifndef TEST_UNDER_ASAN
#define TEST_UNDER_ASAN 0
#endif

/* A region name unique to this test process, so parallel runs never collide:
 * "dshq-test-WHAT-PID", or "dshq-test-TAG-WHAT-PID" under tests/run.sh, which
 * sets DSHQ_TEST_TAG per test and removes every new /dev/shm entry carrying
 * the tag (or ending in "-PID" of the test) when the test ends, even when it
 * failed or was killed.  Name other shared objects the same way. */
static inline void test_region_name(char *buf, size_t len, const char *what)
{
    const char *tag = getenv("DSHQ_TEST_TAG");
    if (tag && *tag)
        snprintf(buf, len, "dshq-test-%s-%s-%ld", tag, what, (long)getpid());
    else
        snprintf(buf, len, "dshq-test-%s-%ld", what, (long)getpid());
}

/* ---- Parts that did not run --------------------------------------------
 * A test that passes but left a part out (no AVX-512 on this CPU, not root,
 * the dshq tool not given) calls check_skip_part("why") and goes on.  The
 * reason goes to stderr and, under tests/run.sh, to the file named by
 * DSHQ_TEST_SKIPS; the runner then prints "PASS (N parts skipped: ...)" and
 * lists the parts in its summary.  Safe from forked children (O_APPEND). */
__attribute__((format(printf, 1, 2))) static inline void check_skip_part(const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *c = line; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    fprintf(stderr, "skip part: %s\n", line);
    const char *path = getenv("DSHQ_TEST_SKIPS");
    if (!path || !*path)
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    size_t n = strlen(line);
    line[n < sizeof line - 1 ? n : sizeof line - 2] = '\n';
    ssize_t w = write(fd, line, (n < sizeof line - 1 ? n : sizeof line - 2) + 1);
    (void)w;
    close(fd);
}

/* ---- Deadlines ---------------------------------------------------------
 * Every wait in a test has a deadline a few times its expected length.
 * DSHQ_TEST_TIME_SCALE (a factor, default 1) stretches them all on a slow
 * or loaded machine; sanitizer builds double them on their own. */
static inline uint64_t test_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double test_time_scale(void)
{
    const char *s = getenv("DSHQ_TEST_TIME_SCALE");
    double k = s && *s ? atof(s) : 1.0;
    if (!(k >= 1.0 && k <= 1000.0))
        k = 1.0;
    return (TEST_UNDER_TSAN || TEST_UNDER_ASAN) ? 2.0 * k : k;
}

/* CLOCK_MONOTONIC time, in ns, SECONDS (scaled) from now. */
static inline uint64_t test_deadline_ns(double seconds)
{
    return test_now_ns() + (uint64_t)(seconds * test_time_scale() * 1e9);
}

/* Spins (yielding) until *v >= want, as processes sharing a counter in a
 * MAP_SHARED page meet at a barrier; fails the test after SECONDS (scaled). */
static inline void test_await_at_least(_Atomic int *v, int want, double seconds)
{
    uint64_t limit = test_deadline_ns(seconds);
    while (atomic_load(v) < want) {
        CHECK_MSG(test_now_ns() < limit, "waited %.0f s for %d (have %d)", seconds, want,
                  atomic_load(v));
        sched_yield();
    }
}

static inline void test_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- Children that die with the test -----------------------------------
 * test_fork() is fork() whose child gets SIGKILL when the forking thread
 * dies (PR_SET_PDEATHSIG), so a test that fails and exits never leaves a
 * child spinning or paused behind it.  Fork from the main thread: the
 * signal follows the thread that forked, not the process.  A child can
 * also call test_die_with_parent(parent_pid) itself.  tests/run.sh kills
 * the test's whole process group (and anything else carrying its tag) as
 * well, so this is the second line of defence, not the only one. */
static inline void test_die_with_parent(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before prctl took effect */
        _exit(1);
}

static inline pid_t test_fork(void)
{
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0)
        test_die_with_parent(parent);
    return pid;
}

/* waitpid() with a deadline of SECONDS (scaled).  Returns the pid, or -1
 * (errno ETIMEDOUT) after sending SIGKILL to a child that did not end in
 * time; the child is reaped either way. */
static inline pid_t test_waitpid(pid_t pid, int *status, double seconds)
{
    uint64_t deadline = test_deadline_ns(seconds);
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r != 0)
            return r;
        if (test_now_ns() > deadline) {
            fprintf(stderr, "test_waitpid: child %ld still running after %.0f s; killing it\n",
                    (long)pid, seconds * test_time_scale());
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            errno = ETIMEDOUT;
            return -1;
        }
        test_sleep_ms(2);
    }
}

/* Waits (with a deadline) for child PID and checks that it exited 0. */
#define CHECK_CHILD_OK(pid, seconds)                                          \
    do {                                                                      \
        int check_st_ = 0;                                                    \
        pid_t check_r_ = test_waitpid((pid), &check_st_, (seconds));          \
        CHECK_MSG(check_r_ == (pid) && WIFEXITED(check_st_) &&                \
                      WEXITSTATUS(check_st_) == 0,                            \
                  "child %ld: %s status 0x%x", (long)(pid),                   \
                  check_r_ < 0 ? "timed out," : "ended with", check_st_);     \
    } while (0)

#endif
