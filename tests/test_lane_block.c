/* test_lane_block.c — sleeping and waking across processes, lanes.
 *  - an empty consumer sleeps (its announcement is seen in data_ready) and a
 *    commit from another process wakes it;
 *  - a producer on a full lane in block mode sleeps (seen in the lane's
 *    space event) and a release from another process wakes it; the chunk it
 *    then commits arrives intact and nothing was dropped. */
#include <errno.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

static char name[64];

static struct dshq_lane_ctrl *lane_of(void *sec, uint32_t i)
{
    return (struct dshq_lane_ctrl *)((unsigned char *)sec + ((struct dshq_lanes_ctrl *)sec)->lanes_offset) + i;
}

/* Waits (bounded) until *w != 0. */
static void wait_nonzero(_Atomic uint32_t *w)
{
    uint64_t t0 = dshq_now_ns();
    while (atomic_load(w) == 0) {
        CHECK_MSG(dshq_now_ns() - t0 < 10LL * 1000 * 1000 * 1000, "nobody went to sleep");
        usleep(200);
    }
}

static int child_wake_consumer(void)
{
    void *sec;
    uint64_t size;
    ru_attach(name, DSHQ_SECTION_LANES, &sec, &size);
    struct dshq_lane_producer *p;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 1, &p), 0);
    wait_nonzero(&((struct dshq_lanes_ctrl *)sec)->data_ready.ev.waiters); /* consumer asleep */
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_lane_claim(p, 0, &s), 0);
    ru_fill(s.data, s.size, ru_key(1, s.seq));
    struct dshq_event *ev = &((struct dshq_lanes_ctrl *)sec)->data_ready.ev;
    uint32_t seq0 = atomic_load(&ev->seq);
    CHECK_EQ_INT(dshq_lane_commit(p), 0);
    /* The consumer sleeps with its flag armed: this commit must notify
     * (not leave it to its timeout). */
    CHECK_MSG(atomic_load(&ev->seq) != seq0, "commit did not wake the sleeping consumer");
    dshq_lane_producer_close(p);
    return 0;
}

static int child_blocked_producer(void)
{
    void *sec;
    uint64_t size;
    ru_attach(name, DSHQ_SECTION_LANES, &sec, &size);
    struct dshq_lane_producer *p;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 0, &p), 0);
    struct dshq_slot s;
    for (int i = 0; i < 3; i++) { /* 2 fit; the third sleeps until a release */
        CHECK_EQ_INT(dshq_lane_claim(p, -1, &s), 0);
        ru_fill(s.data, s.size, ru_key(0, s.seq));
        CHECK_EQ_INT(dshq_lane_commit(p), 0);
    }
    dshq_lane_producer_close(p);
    return 0;
}

static void run(uint32_t flags)
{
    test_region_name(name, sizeof name, "lblock");
    struct dshq_ring_params p = {.slot_size = 8192, .capacity = 2, .producers = 2,
                                 .policy = DSHQ_RING_BLOCK, .flags = flags};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(name, DSHQ_SECTION_LANES, &p, 0, &sec, &size);
    struct dshq_lane_consumer *c;
    CHECK_EQ_INT(dshq_lane_consumer_open(sec, size, &c), 0);

    /* 1. Consumer sleeps on an empty section; a commit wakes it. */
    pid_t a = ru_fork();
    CHECK(a >= 0);
    if (a == 0)
        _exit(child_wake_consumer());
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_lane_poll(c, 10LL * 1000 * 1000 * 1000, &s), 0);
    CHECK(s.lane == 1 && s.seq == 0);
    CHECK(ru_verify(s.data, s.size, ru_key(1, 0)) < 0);
    CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
    ru_wait_ok(a);
    CHECK_EQ_U64(atomic_load(&((struct dshq_lanes_ctrl *)sec)->data_ready.ev.waiters), 0);

    /* 2. Producer sleeps on a full lane; a release wakes it. */
    pid_t b = ru_fork();
    CHECK(b >= 0);
    if (b == 0)
        _exit(child_blocked_producer());
    wait_nonzero(&lane_of(sec, 0)->space.ev.waiters);
    struct dshq_ring_stats rs;
    struct dshq_lane_stats ls[2];
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, 2), 0);
    CHECK_EQ_U64(ls[0].fill, 2);
    CHECK_EQ_U64(ls[0].blocked, 1);
    uint32_t seq0 = atomic_load(&lane_of(sec, 0)->space.ev.seq);
    for (uint64_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(dshq_lane_poll(c, 10LL * 1000 * 1000 * 1000, &s), 0);
        CHECK(s.lane == 0 && s.seq == i);
        CHECK(ru_verify(s.data, s.size, ru_key(0, i)) < 0);
        CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
        /* The producer sleeps armed: the first release must notify. */
        if (i == 0)
            CHECK_MSG(atomic_load(&lane_of(sec, 0)->space.ev.seq) != seq0,
                      "release did not wake the blocked producer");
    }
    ru_wait_ok(b);
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, 2), 0);
    CHECK_EQ_U64(ls[0].dropped, 0);
    CHECK_EQ_U64(rs.fill, 0);
    CHECK_EQ_U64(atomic_load(&lane_of(sec, 0)->space.ev.waiters), 0);
    dshq_lane_consumer_close(c);
    dshq_region_destroy(r);
}

int main(void)
{
    run(0);                      /* membarrier wake mode where available */
    run(DSHQ_RING_FORCE_SEQCST); /* seq_cst wake mode */
    return 0;
}
