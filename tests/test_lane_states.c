/* test_lane_states.c — rollout lanes in exact states, one process: refused
 * parameters, geometry, empty, a half-written slot, full (drop and block
 * policies), wrap-around, round-robin fairness, release order, ownership,
 * takeover of a lane and of the consumer from a dead owner. */
#include <errno.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

static struct dshq_lanes_ctrl *ctrl_of(void *sec)
{
    return sec;
}

static struct dshq_lane_ctrl *lane_of(void *sec, uint32_t i)
{
    return (struct dshq_lane_ctrl *)((unsigned char *)sec + ctrl_of(sec)->lanes_offset) + i;
}

static unsigned char *slot_addr(void *sec, uint32_t lane, uint64_t pos)
{
    struct dshq_lanes_ctrl *c = sec;
    return (unsigned char *)sec + c->slots_offset +
           ((uint64_t)lane * c->capacity + (pos & (c->capacity - 1))) * c->slot_stride;
}

/* An owner word naming this very pid with another start time: "a process
 * that had our pid and is gone" (the pid was reused). */
static uint64_t dead_owner(void)
{
    uint64_t ticks = dshq_process_start_ticks(getpid());
    CHECK(ticks != 0);
    return (uint64_t)(uint32_t)getpid() | ((uint64_t)(uint32_t)(ticks + 1) << 32);
}

/* What init must choose: membarrier where this kernel offers the global
 * expedited command (and this is not a TSan build), else seq_cst. */
static uint32_t expected_wake_mode(void)
{
    if (TEST_UNDER_TSAN)
        return DSHQ_WAKE_SEQCST;
    long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    long need = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
    return q > 0 && (q & need) == need ? DSHQ_WAKE_MEMBARRIER : DSHQ_WAKE_SEQCST;
}

static void refused(void)
{
    struct dshq_ring_params p = {.slot_size = 64, .capacity = 4, .producers = 2,
                                 .policy = DSHQ_RING_DROP};
    CHECK(dshq_lanes_size(&p) > 0);
    struct dshq_ring_params q = p;
    q.capacity = 3; /* not a power of two */
    CHECK_EQ_U64(dshq_lanes_size(&q), 0);
    q.capacity = 6;
    CHECK_EQ_U64(dshq_lanes_size(&q), 0);
    q.capacity = 0;
    CHECK_EQ_U64(dshq_lanes_size(&q), 0);
    q = p, q.policy = 0;
    CHECK_EQ_U64(dshq_lanes_size(&q), 0);
    q = p, q.producers = 0;
    CHECK_EQ_U64(dshq_lanes_size(&q), 0);
    q = p, q.slot_size = 0;
    CHECK_EQ_U64(dshq_lanes_size(&q), 0);
    q = p, q.capacity = DSHQ_RING_MAX_CAPACITY * 2;
    CHECK_EQ_U64(dshq_lanes_size(&q), 0);

    void *mem = aligned_alloc(4096, 1 << 16);
    CHECK(mem);
    memset(mem, 0, 1 << 16);
    q = p, q.capacity = 3;
    CHECK_EQ_INT(dshq_lanes_init(mem, 1 << 16, &q), -EINVAL);
    CHECK_EQ_INT(dshq_lanes_init(mem, 100, &p), -ENOSPC);
    CHECK_EQ_INT(dshq_lanes_init((char *)mem + 64, 1 << 15, &p), -EINVAL); /* misaligned */
    CHECK_EQ_INT(dshq_lanes_check(mem, 1 << 16, NULL), DSHQ_ECORRUPT);     /* all zero */
    q = p, q.flags = DSHQ_RING_FORCE_SEQCST;
    CHECK_EQ_INT(dshq_lanes_init(mem, 1 << 16, &q), 0);
    CHECK_EQ_INT(ctrl_of(mem)->wake_mode, DSHQ_WAKE_SEQCST);
    ctrl_of(mem)->wake_mode = 3; /* unknown */
    CHECK_EQ_INT(dshq_lanes_check(mem, 1 << 16, NULL), DSHQ_ECORRUPT);
    CHECK_EQ_INT(dshq_lanes_init(mem, 1 << 16, &p), 0);
    CHECK_EQ_INT(ctrl_of(mem)->wake_mode, expected_wake_mode());
    struct dshq_ring_params back;
    CHECK_EQ_INT(dshq_lanes_check(mem, 1 << 16, &back), 0);
    CHECK(back.slot_size == 64 && back.capacity == 4 && back.producers == 2 &&
          back.policy == DSHQ_RING_DROP);
    CHECK_EQ_INT(dshq_lanes_check(mem, dshq_lanes_size(&p) - 1, NULL), DSHQ_ECORRUPT);
    /* A corrupted capacity is refused by everyone who opens the section. */
    ctrl_of(mem)->capacity = 3;
    struct dshq_lane_producer *pr;
    struct dshq_lane_consumer *co;
    CHECK_EQ_INT(dshq_lane_producer_open(mem, 1 << 16, 0, &pr), DSHQ_ECORRUPT);
    CHECK_EQ_INT(dshq_lane_consumer_open(mem, 1 << 16, &co), DSHQ_ECORRUPT);
    ctrl_of(mem)->capacity = 4;
    ctrl_of(mem)->slots_offset += 64;
    CHECK_EQ_INT(dshq_lanes_check(mem, 1 << 16, NULL), DSHQ_ECORRUPT);
    free(mem);
}

static void geometry(void *sec, uint64_t size)
{
    struct dshq_lanes_ctrl *c = sec;
    CHECK_EQ_U64(c->magic, DSHQ_LANES_MAGIC);
    CHECK_EQ_INT(c->version, DSHQ_LANES_VERSION);
    CHECK_EQ_INT(c->lane_count, 3);
    CHECK_EQ_INT(c->capacity, 4);
    CHECK_EQ_INT(c->policy, DSHQ_RING_DROP);
    CHECK_EQ_U64(c->slot_size, 100);
    CHECK_EQ_U64(c->slot_stride, 128);
    CHECK_EQ_U64(c->lanes_offset, 128);
    CHECK_EQ_U64(c->slots_offset, 4096); /* align(128 + 3*192, 4096) */
    CHECK_EQ_U64(c->section_size, 4096 + 3 * 4 * 128);
    CHECK(size >= c->section_size);
    CHECK_EQ_INT(c->wake_mode, expected_wake_mode());
}

static void expect_stats(void *sec, uint64_t size, uint32_t lane, uint64_t committed,
                         uint64_t consumed, uint64_t dropped, uint64_t claimed)
{
    struct dshq_ring_stats rs;
    struct dshq_lane_stats ls[8];
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, 8), 0);
    CHECK_EQ_U64(ls[lane].committed, committed);
    CHECK_EQ_U64(ls[lane].consumed, consumed);
    CHECK_EQ_U64(ls[lane].fill, committed - consumed);
    CHECK_EQ_U64(ls[lane].dropped, dropped);
    CHECK_EQ_U64(ls[lane].claimed, claimed);
}

static void fill_slot(struct dshq_slot *s, uint32_t lane)
{
    ru_fill(s->data, s->size, ru_key(lane, s->seq));
}

static void verify_slot(const struct dshq_slot *s)
{
    int64_t bad = ru_verify(s->data, s->size, ru_key(s->lane, s->seq));
    CHECK_MSG(bad < 0, "lane %u seq %llu byte %lld", s->lane, (unsigned long long)s->seq,
              (long long)bad);
}

static void drop_policy(void)
{
    struct dshq_ring_params p = {.slot_size = 100, .capacity = 4, .producers = 3,
                                 .policy = DSHQ_RING_DROP};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(NULL, DSHQ_SECTION_LANES, &p, 0, &sec, &size);
    geometry(sec, size);

    struct dshq_lane_producer *p0, *p1, *p2, *again;
    struct dshq_lane_consumer *c, *c2;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 3, &again), -EINVAL);
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 0, &p0), 0);
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 1, &p1), 0);
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 2, &p2), 0);
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 1, &again), -EBUSY); /* live owner */
    CHECK_EQ_INT(dshq_lane_consumer_open(sec, size, &c), 0);
    CHECK_EQ_INT(dshq_lane_consumer_open(sec, size, &c2), -EBUSY);
    CHECK_EQ_INT(dshq_lane_commit(p0), -EINVAL); /* nothing claimed */

    /* Empty. */
    struct dshq_slot s, t, u;
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &s), DSHQ_RING_EMPTY);
    CHECK_EQ_INT(dshq_lane_poll(c, 1000 * 1000, &s), DSHQ_RING_EMPTY);
    expect_stats(sec, size, 1, 0, 0, 0, 0);

    /* A half-written slot is invisible; claiming again gives the same slot. */
    CHECK_EQ_INT(dshq_lane_claim(p1, 0, &s), 0);
    CHECK(s.data == slot_addr(sec, 1, 0));
    CHECK(s.size == 100 && s.seq == 0 && s.lane == 1);
    memset(s.data, 0x5a, 50);
    expect_stats(sec, size, 1, 0, 0, 0, 1);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), DSHQ_RING_EMPTY);
    CHECK_EQ_INT(dshq_lane_claim(p1, 0, &t), 0);
    CHECK(t.data == s.data && t.seq == 0);
    fill_slot(&s, 1);
    CHECK_EQ_INT(dshq_lane_commit(p1), 0);
    CHECK_EQ_INT(dshq_lane_commit(p1), -EINVAL);
    expect_stats(sec, size, 1, 1, 0, 0, 0);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), 0);
    CHECK(t.data == s.data && t.seq == 0 && t.lane == 1 && t.size == 100);
    verify_slot(&t);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &u), DSHQ_RING_EMPTY);
    CHECK_EQ_INT(dshq_lane_release(c, &t), 0);
    CHECK_EQ_INT(dshq_lane_release(c, &t), -EINVAL); /* twice */
    expect_stats(sec, size, 1, 1, 1, 0, 0);

    /* Full: four slots committed, the fifth claim drops, counted each time. */
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(dshq_lane_claim(p0, 0, &s), 0);
        CHECK_EQ_U64(s.seq, (uint64_t)i);
        CHECK(s.data == slot_addr(sec, 0, (uint64_t)i));
        fill_slot(&s, 0);
        CHECK_EQ_INT(dshq_lane_commit(p0), 0);
    }
    CHECK_EQ_INT(dshq_lane_claim(p0, 0, &s), DSHQ_RING_FULL);
    CHECK_EQ_INT(dshq_lane_claim(p0, -1, &s), DSHQ_RING_FULL); /* drop never waits */
    expect_stats(sec, size, 0, 4, 0, 2, 0);
    /* One released: the claim wraps around to slot 0 as position 4. */
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), 0);
    CHECK(t.lane == 0 && t.seq == 0);
    verify_slot(&t);
    CHECK_EQ_INT(dshq_lane_claim(p0, 0, &s), DSHQ_RING_FULL); /* polled is not released */
    CHECK_EQ_INT(dshq_lane_release(c, &t), 0);
    CHECK_EQ_INT(dshq_lane_claim(p0, 0, &s), 0);
    CHECK_EQ_U64(s.seq, 4);
    CHECK(s.data == slot_addr(sec, 0, 0));
    fill_slot(&s, 0);
    CHECK_EQ_INT(dshq_lane_commit(p0), 0);
    expect_stats(sec, size, 0, 5, 1, 3, 0);

    /* Release order: polled 1, 2 from lane 0; releasing 2 first is refused. */
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), 0);
    CHECK(t.lane == 0 && t.seq == 1);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &u), 0);
    CHECK(u.lane == 0 && u.seq == 2);
    CHECK_EQ_INT(dshq_lane_release(c, &u), -EINVAL);
    struct dshq_slot bogus = t;
    bogus.lane = 7;
    CHECK_EQ_INT(dshq_lane_release(c, &bogus), -EINVAL);
    bogus = t, bogus.seq = 3; /* not polled yet */
    CHECK_EQ_INT(dshq_lane_release(c, &bogus), -EINVAL);
    verify_slot(&t);
    verify_slot(&u);
    CHECK_EQ_INT(dshq_lane_release(c, &t), 0);
    CHECK_EQ_INT(dshq_lane_release(c, &u), 0);
    /* Drain lane 0 (positions 3 and 4). */
    for (uint64_t want = 3; want <= 4; want++) {
        CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), 0);
        CHECK(t.lane == 0 && t.seq == want);
        verify_slot(&t);
        CHECK_EQ_INT(dshq_lane_release(c, &t), 0);
    }
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), DSHQ_RING_EMPTY);

    /* Wrap-around: many laps through lane 2, positions and slots exact. */
    for (uint64_t pos = 0; pos < 4 * 25 + 3; pos++) {
        CHECK_EQ_INT(dshq_lane_claim(p2, 0, &s), 0);
        CHECK_EQ_U64(s.seq, pos);
        CHECK(s.data == slot_addr(sec, 2, pos));
        fill_slot(&s, 2);
        CHECK_EQ_INT(dshq_lane_commit(p2), 0);
        if (pos % 3 == 2) { /* let the lane run 3 deep, then drain it */
            for (uint64_t q = pos - 2; q <= pos; q++) {
                CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), 0);
                CHECK(t.lane == 2 && t.seq == q && t.data == slot_addr(sec, 2, q));
                verify_slot(&t);
                CHECK_EQ_INT(dshq_lane_release(c, &t), 0);
            }
        }
    }
    expect_stats(sec, size, 2, 103, 102, 0, 0);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), 0);
    CHECK(t.lane == 2 && t.seq == 102);
    CHECK_EQ_INT(dshq_lane_release(c, &t), 0);

    /* Fairness: lane 0 has 4 waiting, lane 1 has 2, lane 2 has 4: poll
     * serves them round-robin, one per lane per round. */
    struct dshq_lane_producer *ps[3] = {p0, p1, p2};
    int depth[3] = {4, 2, 4};
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < depth[l]; i++) {
            CHECK_EQ_INT(dshq_lane_claim(ps[l], 0, &s), 0);
            fill_slot(&s, (uint32_t)l);
            CHECK_EQ_INT(dshq_lane_commit(ps[l]), 0);
        }
    /* The last lane served was 2 (above), so the scan starts at lane 0. */
    static const uint32_t order[] = {0, 1, 2, 0, 1, 2, 0, 2, 0, 2};
    struct dshq_slot got[10];
    for (int i = 0; i < 10; i++) {
        CHECK_EQ_INT(dshq_lane_poll(c, 0, &got[i]), 0);
        CHECK_MSG(got[i].lane == order[i], "poll %d: lane %u, expected %u", i, got[i].lane,
                  order[i]);
        verify_slot(&got[i]);
    }
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), DSHQ_RING_EMPTY);
    for (int i = 0; i < 10; i++) /* in poll order: per lane in order too */
        CHECK_EQ_INT(dshq_lane_release(c, &got[i]), 0);

    /* Totals. */
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.committed, 9 + 3 + 107);
    CHECK_EQ_U64(rs.consumed, rs.committed);
    CHECK_EQ_U64(rs.fill, 0);
    CHECK_EQ_U64(rs.dropped, 3);
    CHECK_EQ_INT(rs.consumer_pid, getpid());
    CHECK_EQ_INT(rs.consumer_alive, 1);
    CHECK_EQ_INT(rs.producers, 3);
    CHECK_EQ_INT(rs.capacity, 4);

    /* Close and reopen: the lane continues where it was. */
    dshq_lane_producer_close(p1);
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 1, &p1), 0);
    CHECK_EQ_INT(dshq_lane_claim(p1, 0, &s), 0);
    CHECK_EQ_U64(s.seq, 3);
    fill_slot(&s, 1);
    CHECK_EQ_INT(dshq_lane_commit(p1), 0);

    /* Takeover of lane 1 from a dead owner that left a claim uncommitted. */
    CHECK_EQ_INT(dshq_lane_claim(p1, 0, &s), 0);
    CHECK_EQ_U64(s.seq, 4);
    memset(s.data, 0xa5, 60); /* half a slot, then "killed" */
    atomic_store(&lane_of(sec, 1)->owner, dead_owner());
    struct dshq_lane_producer *p1b;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 1, &p1b), 0);
    struct dshq_lane_stats ls[3];
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, 3), 0);
    CHECK_EQ_U64(ls[1].reclaims, 1);
    CHECK_EQ_U64(ls[1].abandoned, 1);
    CHECK_EQ_U64(ls[1].claimed, 0);
    CHECK_EQ_U64(rs.unblocked, 1);
    CHECK_EQ_INT(ls[1].owner_pid, getpid());
    CHECK_EQ_INT(ls[1].owner_alive, 1);
    /* The consumer saw only the complete slot 3; the new owner reuses 4. */
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), 0);
    CHECK(t.lane == 1 && t.seq == 3);
    verify_slot(&t);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &u), DSHQ_RING_EMPTY);
    CHECK_EQ_INT(dshq_lane_claim(p1b, 0, &s), 0);
    CHECK_EQ_U64(s.seq, 4);
    fill_slot(&s, 1);
    CHECK_EQ_INT(dshq_lane_commit(p1b), 0);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &u), 0);
    CHECK(u.lane == 1 && u.seq == 4);
    verify_slot(&u);
    /* A second, clean takeover finds nothing abandoned. */
    atomic_store(&lane_of(sec, 1)->owner, dead_owner());
    struct dshq_lane_producer *p1c;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 1, &p1c), 0);
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, 3), 0);
    CHECK_EQ_U64(ls[1].reclaims, 2);
    CHECK_EQ_U64(ls[1].abandoned, 1);

    /* Consumer takeover: polled-but-unreleased slots are delivered again. */
    atomic_store(&ctrl_of(sec)->consumer, dead_owner());
    CHECK_EQ_INT(dshq_lane_consumer_open(sec, size, &c2), 0);
    CHECK_EQ_INT(dshq_lane_poll(c2, 0, &s), 0);
    CHECK(s.lane == 1 && s.seq == 3);
    verify_slot(&s);
    CHECK_EQ_INT(dshq_lane_poll(c2, 0, &s), 0);
    CHECK(s.lane == 1 && s.seq == 4);
    CHECK_EQ_INT(dshq_lane_poll(c2, 0, &s), DSHQ_RING_EMPTY);

    dshq_lane_consumer_close(c2);
    dshq_lane_consumer_close(c); /* no longer the owner: its close is harmless */
    CHECK_EQ_INT(dshq_lane_consumer_open(sec, size, &c), 0); /* c2 closed cleanly */
    dshq_lane_consumer_close(c);
    dshq_lane_producer_close(p0);
    dshq_lane_producer_close(p1);
    dshq_lane_producer_close(p1b);
    dshq_lane_producer_close(p1c);
    dshq_lane_producer_close(p2);
    dshq_region_destroy(r);
}

static void block_policy(void)
{
    struct dshq_ring_params p = {.slot_size = 4096, .capacity = 2, .producers = 1,
                                 .policy = DSHQ_RING_BLOCK};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(NULL, DSHQ_SECTION_LANES, &p, 0, &sec, &size);
    struct dshq_lane_producer *pr;
    struct dshq_lane_consumer *c;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 0, &pr), 0);
    CHECK_EQ_INT(dshq_lane_consumer_open(sec, size, &c), 0);
    struct dshq_slot s, t;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(dshq_lane_claim(pr, 0, &s), 0);
        fill_slot(&s, 0);
        CHECK_EQ_INT(dshq_lane_commit(pr), 0);
    }
    /* Full: no drop; timeout 0 returns at once, a timeout sleeps first. */
    CHECK_EQ_INT(dshq_lane_claim(pr, 0, &s), DSHQ_RING_FULL);
    CHECK_EQ_INT(dshq_lane_claim(pr, 5 * 1000 * 1000, &s), DSHQ_RING_FULL);
    struct dshq_lane_stats ls;
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, &ls, 1), 0);
    CHECK_EQ_U64(ls.dropped, 0);
    CHECK_EQ_U64(ls.blocked, 1);
    CHECK_EQ_U64(ls.fill, 2);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &t), 0);
    CHECK_EQ_INT(dshq_lane_release(c, &t), 0);
    CHECK_EQ_INT(dshq_lane_claim(pr, -1, &s), 0); /* room: never sleeps */
    CHECK_EQ_U64(s.seq, 2);
    dshq_lane_producer_close(pr);
    dshq_lane_consumer_close(c);
    dshq_region_destroy(r);
}

int main(void)
{
    refused();
    drop_policy();
    block_policy();
    return 0;
}
