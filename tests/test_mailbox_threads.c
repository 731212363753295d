/* Mailbox with threads (the variant ThreadSanitizer can check): poster
 * threads, each with its own handle, race for a small mailbox while a
 * consumer thread sleeps on it with dshq_mailbox_wait.  Every message
 * arrives once, in per-thread order, intact. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "check.h"
#include "dshq/mailbox.h"

#define THREADS 4
#define PER_THREAD 5000
#define CAP 8u

static void *g_mem;
static uint64_t g_size;

struct payload {
    uint32_t thread;
    uint32_t index;
    uint64_t check;
};

static uint64_t mix(uint32_t t, uint32_t i)
{
    uint64_t x = ((uint64_t)t << 32 | i) * UINT64_C(0xbf58476d1ce4e5b9);
    return x ^ (x >> 31);
}

static void *poster(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    struct dshq_mailbox *mb;
    CHECK_EQ_INT(dshq_mailbox_attach(g_mem, g_size, 0, &mb), 0);
    for (uint32_t i = 0; i < PER_THREAD; i++) {
        struct payload p = {id, i, mix(id, i)};
        int rc;
        while ((rc = dshq_mailbox_post(mb, DSHQ_MSG_USER, 1, &p, sizeof p)) == DSHQ_MAILBOX_FULL)
            sched_yield();
        CHECK_EQ_INT(rc, 0);
    }
    dshq_mailbox_detach(mb);
    return NULL;
}

int main(void)
{
    g_size = dshq_mailbox_bytes(CAP);
    g_mem = aligned_alloc(64, g_size);
    CHECK(g_mem);
    CHECK_EQ_INT(dshq_mailbox_init(g_mem, g_size, CAP), 0);
    struct dshq_mailbox *cons;
    CHECK_EQ_INT(dshq_mailbox_attach(g_mem, g_size, DSHQ_MAILBOX_CONSUMER, &cons), 0);

    pthread_t th[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        CHECK_EQ_INT(pthread_create(&th[i], NULL, poster, (void *)i), 0);

    static const struct dshq_msg_kind known[] = {{DSHQ_MSG_USER, 1}};
    uint32_t next[THREADS] = {0};
    uint32_t tid[THREADS] = {0};
    uint64_t got = 0, total = (uint64_t)THREADS * PER_THREAD;
    uint64_t deadline = dshq_now_ns() + UINT64_C(25) * 1000000000u;
    while (got < total) {
        struct dshq_msg m;
        int rc = dshq_mailbox_consume(cons, known, 1, &m);
        if (rc == DSHQ_MAILBOX_EMPTY) {
            CHECK_MSG(dshq_now_ns() < deadline, "%llu of %llu arrived",
                      (unsigned long long)got, (unsigned long long)total);
            rc = dshq_mailbox_wait(cons, 20 * 1000000);
            CHECK(rc == 0 || rc == -ETIMEDOUT);
            continue;
        }
        CHECK_EQ_INT(rc, DSHQ_MAILBOX_MSG);
        struct payload p;
        memcpy(&p, m.payload, sizeof p);
        CHECK(p.thread < THREADS);
        CHECK_EQ_U64(p.index, next[p.thread]);
        CHECK_EQ_U64(p.check, mix(p.thread, p.index));
        CHECK_EQ_INT(m.sender_pid, getpid());
        if (p.index == 0)
            tid[p.thread] = m.sender_tid;
        CHECK_EQ_U64(m.sender_tid, tid[p.thread]); /* one sender thread per stream */
        CHECK_EQ_U64(m.sequence, (uint64_t)p.index + 1); /* per-handle sequence */
        next[p.thread]++;
        got++;
    }
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ_INT(pthread_join(th[i], NULL), 0);
    struct dshq_mailbox_stats st;
    CHECK_EQ_INT(dshq_mailbox_stats(g_mem, g_size, &st), 0);
    CHECK_EQ_U64(st.posted, total);
    CHECK_EQ_U64(st.consumed, total);
    CHECK_EQ_U64(st.unknown_type + st.unknown_version + st.dead_skipped, 0);
    printf("mailbox threads: %llu messages, %llu FULL retries: ok\n",
           (unsigned long long)total, (unsigned long long)st.full);
    dshq_mailbox_detach(cons);
    free(g_mem);
    return 0;
}
