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

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* A region name unique to this test process, so parallel runs never collide. */
static inline void test_region_name(char *buf, size_t len, const char *what)
{
    snprintf(buf, len, "dshq-test-%s-%ld", what, (long)getpid());
}

#endif
