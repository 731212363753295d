/* Mailbox across real processes: several forked posters share a small
 * mailbox in a named region with the parent as consumer.  Every message
 * arrives exactly once, each poster's in the order it posted them, with
 * its payload intact; posters that meet FULL retry; the unknown types and
 * versions they mix in are counted exactly, never delivered. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "dshq/mailbox.h"
#include "dshq/region.h"

#define POSTERS 4
#define PER_POSTER 3000   /* known messages per poster */
#define UNKNOWN_EVERY 100 /* plus one unknown type and one unknown version per 100 */
#define CAP 16u

static const struct dshq_msg_kind known[] = {{DSHQ_MSG_USER + 1, 1}};

struct payload {
    uint32_t poster;
    uint32_t index;
    uint64_t check; /* a function of both, to catch torn or misread records */
    uint64_t pad[2];
};

static uint64_t mix(uint32_t poster, uint32_t index)
{
    uint64_t x = ((uint64_t)poster << 32 | index) * UINT64_C(0x9e3779b97f4a7c15);
    return x ^ (x >> 29);
}

static void post_retry(struct dshq_mailbox *mb, uint32_t type, uint32_t version,
                       const void *p, size_t len)
{
    for (;;) {
        int rc = dshq_mailbox_post(mb, type, version, p, len);
        if (rc == 0)
            return;
        CHECK_EQ_INT(rc, DSHQ_MAILBOX_FULL);
        sched_yield();
    }
}

static void poster(const char *name, uint32_t id)
{
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_attach(name, 0, DSHQ_ABI_MINOR, &r), 0);
    void *mem;
    uint64_t size;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_MAILBOX, "control",
                                  dshq_mailbox_shape_hash(), &mem, &size), 0);
    struct dshq_mailbox *mb;
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, 0, &mb), 0);
    for (uint32_t i = 0; i < PER_POSTER; i++) {
        struct payload p = {id, i, mix(id, i), {0, 0}};
        post_retry(mb, DSHQ_MSG_USER + 1, 1, &p, sizeof p);
        if (i % UNKNOWN_EVERY == 0) {
            post_retry(mb, DSHQ_MSG_USER + 2, 1, &p, sizeof p); /* unknown type */
            post_retry(mb, DSHQ_MSG_USER + 1, 9, &p, sizeof p); /* unknown version */
        }
    }
    dshq_mailbox_detach(mb);
    dshq_region_detach(r);
    _exit(0);
}

int main(void)
{
    char name[64];
    test_region_name(name, sizeof name, "mbox");
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_MAILBOX, "control", DSHQ_MAILBOX_VERSION,
                          dshq_mailbox_bytes(CAP), 64, dshq_mailbox_shape_hash()) >= 0);
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_create(name, &l, 0, &r), 0);
    void *mem;
    uint64_t size;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_MAILBOX, "control", 0, &mem, &size), 0);
    CHECK_EQ_INT(dshq_mailbox_init(mem, size, CAP), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    struct dshq_mailbox *cons;
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, DSHQ_MAILBOX_CONSUMER, &cons), 0);

    pid_t pids[POSTERS];
    for (uint32_t i = 0; i < POSTERS; i++) {
        pids[i] = fork();
        CHECK(pids[i] >= 0);
        if (pids[i] == 0)
            poster(name, i);
    }

    uint32_t next[POSTERS] = {0};
    uint64_t last_seq[POSTERS] = {0};
    uint64_t got = 0, total = (uint64_t)POSTERS * PER_POSTER;
    uint64_t deadline = dshq_now_ns() + UINT64_C(20) * 1000000000u;
    while (got < total) {
        struct dshq_msg m;
        int rc = dshq_mailbox_consume(cons, known, 1, &m);
        if (rc == DSHQ_MAILBOX_EMPTY) {
            CHECK_MSG(dshq_now_ns() < deadline, "only %llu of %llu messages arrived",
                      (unsigned long long)got, (unsigned long long)total);
            rc = dshq_mailbox_wait(cons, 50 * 1000000);
            CHECK(rc == 0 || rc == -ETIMEDOUT);
            continue;
        }
        CHECK_EQ_INT(rc, DSHQ_MAILBOX_MSG);
        CHECK_EQ_U64(m.type, DSHQ_MSG_USER + 1);
        CHECK_EQ_U64(m.version, 1);
        struct payload p;
        memcpy(&p, m.payload, sizeof p);
        CHECK(p.poster < POSTERS);
        CHECK_EQ_INT(m.sender_pid, pids[p.poster]);
        CHECK_EQ_U64(p.index, next[p.poster]); /* once each, in per-sender order */
        CHECK_EQ_U64(p.check, mix(p.poster, p.index));
        CHECK(m.sequence > last_seq[p.poster]);
        for (size_t b = sizeof p; b < DSHQ_MSG_PAYLOAD_BYTES; b++)
            CHECK_EQ_INT(m.payload[b], 0);
        last_seq[p.poster] = m.sequence;
        next[p.poster]++;
        got++;
    }
    for (uint32_t i = 0; i < POSTERS; i++) {
        int st;
        CHECK_EQ_INT(waitpid(pids[i], &st, 0), pids[i]);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "poster %u failed", i);
        CHECK_EQ_U64(next[i], PER_POSTER);
    }
    /* Drain the tail of unknowns (posted after the last known message). */
    struct dshq_msg m;
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, 1, &m), DSHQ_MAILBOX_EMPTY);

    uint64_t unknown_each = POSTERS * ((PER_POSTER + UNKNOWN_EVERY - 1) / UNKNOWN_EVERY);
    struct dshq_mailbox_stats st;
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_U64(st.consumed, total);
    CHECK_EQ_U64(st.unknown_type, unknown_each);
    CHECK_EQ_U64(st.unknown_version, unknown_each);
    CHECK_EQ_U64(st.posted, total + 2 * unknown_each);
    CHECK_EQ_U64(st.head, st.posted);
    CHECK_EQ_U64(st.tail, st.posted);
    CHECK_EQ_U64(st.dead_skipped, 0);
    printf("mailbox procs: %llu messages from %d posters, %llu FULL retries: ok\n",
           (unsigned long long)st.posted, POSTERS, (unsigned long long)st.full);
    dshq_mailbox_detach(cons);
    dshq_region_destroy(r);
    return 0;
}
