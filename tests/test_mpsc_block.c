/* test_mpsc_block.c — sleeping and waking across processes, MPSC ring:
 * an empty consumer sleeps and a commit from another process wakes it; a
 * producer on a full ring (block mode) sleeps and a release wakes it. */
#include <errno.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

static char name[64];

static void wait_nonzero(_Atomic uint32_t *w)
{
    uint64_t t0 = dshq_now_ns();
    while (atomic_load(w) == 0) {
        CHECK_MSG(dshq_now_ns() - t0 < 10LL * 1000 * 1000 * 1000, "nobody went to sleep");
        usleep(200);
    }
}

static int child(int mode)
{
    void *sec;
    uint64_t size;
    ru_attach(name, DSHQ_SECTION_MPSC, &sec, &size);
    struct dshq_mpsc_ctrl *ctl = sec;
    struct dshq_mpsc_producer *p;
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &p), 0);
    if (mode == 0)
        wait_nonzero(&ctl->data_ready.ev.waiters); /* the consumer sleeps */
    int n = mode == 0 ? 1 : 3;                  /* mode 1: 2 fit, the third sleeps */
    for (int i = 0; i < n; i++) {
        struct dshq_slot s;
        CHECK_EQ_INT(dshq_mpsc_claim(p, -1, &s), 0);
        ru_fill(s.data, s.size, ru_key(9, s.seq));
        uint32_t seq0 = atomic_load(&ctl->data_ready.ev.seq);
        CHECK_EQ_INT(dshq_mpsc_commit(p), 0);
        /* The consumer sleeps armed: this commit must notify. */
        if (mode == 0)
            CHECK_MSG(atomic_load(&ctl->data_ready.ev.seq) != seq0,
                      "commit did not wake the sleeping consumer");
    }
    dshq_mpsc_producer_close(p);
    return 0;
}

static void run(uint32_t flags)
{
    test_region_name(name, sizeof name, "mblock");
    struct dshq_ring_params p = {.slot_size = 300, .capacity = 2, .producers = 2,
                                 .policy = DSHQ_RING_BLOCK, .flags = flags};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(name, DSHQ_SECTION_MPSC, &p, 0, &sec, &size);
    struct dshq_mpsc_ctrl *ctl = sec;
    struct dshq_mpsc_consumer *c;
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &c), 0);

    pid_t a = ru_fork();
    CHECK(a >= 0);
    if (a == 0)
        _exit(child(0));
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_mpsc_poll(c, 10LL * 1000 * 1000 * 1000, &s), 0);
    CHECK_EQ_U64(s.seq, 0);
    CHECK(ru_verify(s.data, s.size, ru_key(9, 0)) < 0);
    CHECK_EQ_INT(dshq_mpsc_release(c, &s), 0);
    ru_wait_ok(a);

    pid_t b = ru_fork();
    CHECK(b >= 0);
    if (b == 0)
        _exit(child(1));
    wait_nonzero(&ctl->space.ev.waiters);
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.fill, 2);
    CHECK_EQ_U64(rs.blocked, 1);
    uint32_t seq0 = atomic_load(&ctl->space.ev.seq);
    for (uint64_t i = 1; i <= 3; i++) {
        CHECK_EQ_INT(dshq_mpsc_poll(c, 10LL * 1000 * 1000 * 1000, &s), 0);
        CHECK_EQ_U64(s.seq, i);
        CHECK(ru_verify(s.data, s.size, ru_key(9, i)) < 0);
        CHECK_EQ_INT(dshq_mpsc_release(c, &s), 0);
        /* The producer sleeps armed: the first release must notify. */
        if (i == 1)
            CHECK_MSG(atomic_load(&ctl->space.ev.seq) != seq0,
                      "release did not wake the blocked producer");
    }
    ru_wait_ok(b);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.dropped, 0);
    CHECK_EQ_U64(rs.consumed, 4);
    CHECK_EQ_U64(atomic_load(&ctl->space.ev.waiters), 0);
    CHECK_EQ_U64(atomic_load(&ctl->data_ready.ev.waiters), 0);
    dshq_mpsc_consumer_close(c);
    dshq_region_destroy(r);
}

int main(void)
{
    run(0);                      /* membarrier wake mode where available */
    run(DSHQ_RING_FORCE_SEQCST); /* seq_cst wake mode */
    return 0;
}
