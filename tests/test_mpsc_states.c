/* test_mpsc_states.c — the MPSC ring in exact states, one process: refused
 * parameters, geometry, empty, a half-written slot holding back later
 * commits (in-order consumption), full (drop and block), wrap-around, the
 * producer table, a live slow reserver waited for, a dead reserver skipped
 * and counted (with and without slots held before it), consumer takeover. */
#include <errno.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

static struct dshq_mpsc_entry *entry_of(void *sec, uint32_t i)
{
    struct dshq_mpsc_ctrl *c = sec;
    return (struct dshq_mpsc_entry *)((unsigned char *)sec + c->entries_offset) + i;
}

static unsigned char *slot_addr(void *sec, uint64_t pos)
{
    struct dshq_mpsc_ctrl *c = sec;
    return (unsigned char *)sec + c->slots_offset + (pos & (c->capacity - 1)) * c->slot_stride;
}

static uint64_t dead_owner(void)
{
    uint64_t ticks = dshq_process_start_ticks(getpid());
    CHECK(ticks != 0);
    return (uint64_t)(uint32_t)getpid() | ((uint64_t)(uint32_t)(ticks + 1) << 32);
}

static void fill_slot(struct dshq_slot *s)
{
    ru_fill(s->data, s->size, ru_key(7, s->seq));
}

static void verify_slot(const struct dshq_slot *s)
{
    int64_t bad = ru_verify(s->data, s->size, ru_key(7, s->seq));
    CHECK_MSG(bad < 0, "seq %llu byte %lld", (unsigned long long)s->seq, (long long)bad);
}

static void put(struct dshq_mpsc_producer *p, uint64_t want_seq)
{
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_mpsc_claim(p, 0, &s), 0);
    CHECK_EQ_U64(s.seq, want_seq);
    fill_slot(&s);
    CHECK_EQ_INT(dshq_mpsc_commit(p), 0);
}

static void get(struct dshq_mpsc_consumer *c, uint64_t want_seq, void *sec)
{
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &s), 0);
    CHECK_EQ_U64(s.seq, want_seq);
    CHECK(s.data == slot_addr(sec, want_seq));
    verify_slot(&s);
    CHECK_EQ_INT(dshq_mpsc_release(c, &s), 0);
}

static void refused(void)
{
    struct dshq_ring_params p = {.slot_size = 64, .capacity = 8, .producers = 2,
                                 .policy = DSHQ_RING_BLOCK};
    CHECK(dshq_mpsc_size(&p) > 0);
    struct dshq_ring_params q = p;
    q.capacity = 12;
    CHECK_EQ_U64(dshq_mpsc_size(&q), 0);
    q.capacity = 0;
    CHECK_EQ_U64(dshq_mpsc_size(&q), 0);
    q = p, q.producers = 0;
    CHECK_EQ_U64(dshq_mpsc_size(&q), 0);
    q = p, q.producers = DSHQ_RING_MAX_PRODUCERS + 1;
    CHECK_EQ_U64(dshq_mpsc_size(&q), 0);
    q = p, q.policy = 3;
    CHECK_EQ_U64(dshq_mpsc_size(&q), 0);
    void *mem = aligned_alloc(4096, 1 << 16);
    CHECK(mem);
    memset(mem, 0, 1 << 16);
    q = p, q.capacity = 5;
    CHECK_EQ_INT(dshq_mpsc_init(mem, 1 << 16, &q), -EINVAL);
    CHECK_EQ_INT(dshq_mpsc_init(mem, 4096, &p), -ENOSPC);
    CHECK_EQ_INT(dshq_mpsc_check(mem, 1 << 16, NULL), DSHQ_ECORRUPT);
    q = p, q.flags = DSHQ_RING_FORCE_SEQCST;
    CHECK_EQ_INT(dshq_mpsc_init(mem, 1 << 16, &q), 0);
    CHECK_EQ_INT(((struct dshq_mpsc_ctrl *)mem)->wake_mode, DSHQ_WAKE_SEQCST);
    ((struct dshq_mpsc_ctrl *)mem)->wake_mode = 0;
    CHECK_EQ_INT(dshq_mpsc_check(mem, 1 << 16, NULL), DSHQ_ECORRUPT);
    CHECK_EQ_INT(dshq_mpsc_init(mem, 1 << 16, &p), 0);
    CHECK_EQ_INT(dshq_mpsc_check(mem, 1 << 16, NULL), 0);
    CHECK(((struct dshq_mpsc_ctrl *)mem)->wake_mode == DSHQ_WAKE_SEQCST ||
          ((struct dshq_mpsc_ctrl *)mem)->wake_mode == DSHQ_WAKE_MEMBARRIER);
    /* A lanes reader does not take an MPSC section for its own. */
    CHECK_EQ_INT(dshq_lanes_check(mem, 1 << 16, NULL), DSHQ_ECORRUPT);
    ((struct dshq_mpsc_ctrl *)mem)->capacity = 6;
    struct dshq_mpsc_producer *pr;
    CHECK_EQ_INT(dshq_mpsc_producer_open(mem, 1 << 16, &pr), DSHQ_ECORRUPT);
    free(mem);
}

static void drop_policy(void)
{
    struct dshq_ring_params p = {.slot_size = 100, .capacity = 4, .producers = 3,
                                 .policy = DSHQ_RING_DROP};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(NULL, DSHQ_SECTION_MPSC, &p, 0, &sec, &size);
    struct dshq_mpsc_ctrl *ctl = sec;
    CHECK_EQ_U64(ctl->magic, DSHQ_MPSC_MAGIC);
    CHECK_EQ_INT(ctl->capacity, 4);
    CHECK_EQ_INT(ctl->max_producers, 3);
    CHECK_EQ_U64(ctl->slot_stride, 128);
    CHECK_EQ_U64(ctl->entries_offset, 256);
    CHECK_EQ_U64(ctl->commits_offset, 256 + 3 * 64);
    CHECK_EQ_U64(ctl->slots_offset, 4096);
    CHECK_EQ_U64(ctl->section_size, 4096 + 4 * 128);
    for (uint32_t i = 0; i < 3; i++)
        CHECK_EQ_U64(atomic_load(&entry_of(sec, i)->intent), UINT64_MAX);

    struct dshq_mpsc_producer *a, *b, *x, *extra;
    struct dshq_mpsc_consumer *c, *c2;
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &a), 0);
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &b), 0);
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &x), 0);
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &extra), DSHQ_ELIMIT);
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &c), 0);
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &c2), -EBUSY);
    CHECK_EQ_INT(dshq_mpsc_commit(a), -EINVAL);

    struct dshq_slot s, t, u;
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &s), DSHQ_RING_EMPTY);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 1000 * 1000, &s), DSHQ_RING_EMPTY);

    /* A holds position 0 half-written; B commits 1: nothing is consumable
     * (in order), and A's slot is never shown early. */
    CHECK_EQ_INT(dshq_mpsc_claim(a, 0, &s), 0);
    CHECK(s.seq == 0 && s.data == slot_addr(sec, 0) && s.size == 100 && s.lane == 0);
    CHECK_EQ_U64(atomic_load(&entry_of(sec, 0)->intent), 0);
    memset(s.data, 0x11, 50);
    CHECK_EQ_INT(dshq_mpsc_claim(a, 0, &t), 0); /* the same claim again */
    CHECK(t.seq == 0 && t.data == s.data);
    put(b, 1);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &t), DSHQ_RING_EMPTY);
    /* A is alive: a poll that waits past the liveness check still waits. */
    CHECK_EQ_INT(dshq_mpsc_poll(c, 20 * 1000 * 1000, &t), DSHQ_RING_EMPTY);
    struct dshq_ring_stats rs;
    struct dshq_lane_stats ps[3];
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 3), 0);
    CHECK_EQ_U64(rs.unblocked, 0);
    CHECK_EQ_U64(rs.reserved, 2);
    CHECK_EQ_U64(rs.fill, 2);
    CHECK_EQ_U64(rs.committed, 1);
    fill_slot(&s);
    CHECK_EQ_INT(dshq_mpsc_commit(a), 0);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &t), 0);
    CHECK_EQ_U64(t.seq, 0);
    verify_slot(&t);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &u), 0);
    CHECK_EQ_U64(u.seq, 1);
    verify_slot(&u);
    CHECK_EQ_INT(dshq_mpsc_release(c, &u), -EINVAL); /* out of order */
    CHECK_EQ_INT(dshq_mpsc_release(c, &t), 0);
    CHECK_EQ_INT(dshq_mpsc_release(c, &u), 0);
    CHECK_EQ_INT(dshq_mpsc_release(c, &u), -EINVAL); /* twice */
    CHECK_EQ_U64(atomic_load(&ctl->tail), 2);

    /* Full: positions 2..5 committed; a fifth claim drops, counted on the
     * producer that dropped. */
    put(a, 2);
    put(b, 3);
    put(a, 4);
    put(b, 5);
    CHECK_EQ_INT(dshq_mpsc_claim(a, 0, &s), DSHQ_RING_FULL);
    CHECK_EQ_INT(dshq_mpsc_claim(a, -1, &s), DSHQ_RING_FULL);
    CHECK_EQ_INT(dshq_mpsc_claim(b, 0, &s), DSHQ_RING_FULL);
    CHECK_EQ_U64(atomic_load(&entry_of(sec, 0)->intent), UINT64_MAX); /* gave up */
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 3), 0);
    CHECK_EQ_U64(ps[0].dropped, 2);
    CHECK_EQ_U64(ps[1].dropped, 1);
    CHECK_EQ_U64(rs.dropped, 3);
    CHECK_EQ_U64(rs.fill, 4);
    CHECK_EQ_U64(ps[0].committed, 3);
    CHECK_EQ_U64(ps[1].committed, 3);
    CHECK_EQ_INT(ps[0].owner_pid, getpid());
    CHECK_EQ_INT(ps[0].owner_alive, 1);
    get(c, 2, sec);
    put(a, 6); /* wraps into slot 2 */
    for (uint64_t q = 3; q <= 6; q++)
        get(c, q, sec);

    /* Wrap-around: many laps, every position at its slot. */
    for (uint64_t pos = 7; pos < 7 + 4 * 30; pos++) {
        put(pos % 2 ? a : b, pos);
        if (pos % 4 == 2)
            for (uint64_t q = pos - 3; q <= pos; q++)
                get(c, q, sec);
    }
    /* the last lap (123..126) was drained at pos 126 */
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &t), DSHQ_RING_EMPTY);

    /* A dead reserver: X reserves 127, writes half and "dies"; B commits
     * 128.  The consumer waits past the check interval, finds X dead, skips
     * 127 and delivers 128. */
    CHECK_EQ_INT(dshq_mpsc_claim(x, 0, &s), 0);
    CHECK_EQ_U64(s.seq, 127);
    memset(s.data, 0x77, 40);
    atomic_store(&entry_of(sec, 2)->owner, dead_owner());
    put(b, 128);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &t), DSHQ_RING_EMPTY); /* too early to judge */
    CHECK_EQ_INT(dshq_mpsc_poll(c, 2000 * 1000 * 1000LL, &t), 0);
    CHECK_EQ_U64(t.seq, 128);
    verify_slot(&t);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 3), 0);
    CHECK_EQ_U64(rs.unblocked, 1);
    CHECK_EQ_U64(atomic_load(&ctl->tail), 128); /* 127 given back at once */
    CHECK_EQ_INT(dshq_mpsc_release(c, &t), 0);
    CHECK_EQ_U64(atomic_load(&ctl->tail), 129);
    CHECK_EQ_INT(ps[2].owner_alive, 0);

    /* Dead reserver behind a slot the consumer still holds: 129 polled and
     * held, 130 dead, 131 committed.  Releasing 129 gives back 130 too. */
    struct dshq_mpsc_producer *y;
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &y), 0); /* takes X's entry */
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 3), 0);
    CHECK_EQ_U64(ps[2].reclaims, 1);
    CHECK_EQ_INT(ps[2].owner_alive, 1);
    put(a, 129);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &t), 0);
    CHECK_EQ_U64(t.seq, 129);
    CHECK_EQ_INT(dshq_mpsc_claim(y, 0, &s), 0);
    CHECK_EQ_U64(s.seq, 130);
    atomic_store(&entry_of(sec, 2)->owner, dead_owner());
    put(b, 131);
    CHECK_EQ_INT(dshq_mpsc_poll(c, -1, &u), 0);
    CHECK_EQ_U64(u.seq, 131);
    verify_slot(&u);
    CHECK_EQ_U64(atomic_load(&ctl->tail), 129);
    CHECK_EQ_INT(dshq_mpsc_release(c, &t), 0);
    CHECK_EQ_U64(atomic_load(&ctl->tail), 131);
    CHECK_EQ_INT(dshq_mpsc_release(c, &u), 0);
    CHECK_EQ_U64(atomic_load(&ctl->tail), 132);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 3), 0);
    CHECK_EQ_U64(rs.unblocked, 2);
    CHECK_EQ_U64(rs.consumed, 132 - 2);
    CHECK_EQ_U64(rs.committed, 130);

    /* Consumer takeover: the new consumer starts at tail. */
    put(a, 132);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &t), 0);
    CHECK_EQ_U64(t.seq, 132);
    atomic_store(&ctl->consumer, dead_owner());
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &c2), 0);
    CHECK_EQ_INT(dshq_mpsc_poll(c2, 0, &t), 0);
    CHECK_EQ_U64(t.seq, 132);
    verify_slot(&t);
    CHECK_EQ_INT(dshq_mpsc_release(c2, &t), 0);

    dshq_mpsc_producer_close(x);
    dshq_mpsc_producer_close(y);
    dshq_mpsc_producer_close(a);
    dshq_mpsc_producer_close(b);
    dshq_mpsc_consumer_close(c);
    dshq_mpsc_consumer_close(c2);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 3), 0);
    CHECK_EQ_INT(ps[0].owner_pid, 0);
    CHECK_EQ_INT(ps[1].owner_pid, 0);
    CHECK_EQ_INT(rs.consumer_pid, 0);
    dshq_region_destroy(r);
}

static void block_policy(void)
{
    struct dshq_ring_params p = {.slot_size = 64, .capacity = 2, .producers = 2,
                                 .policy = DSHQ_RING_BLOCK};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(NULL, DSHQ_SECTION_MPSC, &p, 0, &sec, &size);
    struct dshq_mpsc_producer *a;
    struct dshq_mpsc_consumer *c;
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &a), 0);
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &c), 0);
    put(a, 0);
    put(a, 1);
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_mpsc_claim(a, 0, &s), DSHQ_RING_FULL);
    CHECK_EQ_INT(dshq_mpsc_claim(a, 5 * 1000 * 1000, &s), DSHQ_RING_FULL);
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.dropped, 0);
    CHECK_EQ_U64(rs.blocked, 1);
    CHECK_EQ_U64(rs.fill, 2);
    get(c, 0, sec);
    put(a, 2);
    dshq_mpsc_producer_close(a);
    dshq_mpsc_consumer_close(c);
    dshq_region_destroy(r);
}

/* Batch claims: as many as there is room for; published together (last to
 * first); a live batch holder is waited for at every one of its positions;
 * a dead one's whole batch is skipped, positions after it delivered. */
static void batch(void)
{
    struct dshq_ring_params p = {.slot_size = 64, .capacity = 8, .producers = 2,
                                 .policy = DSHQ_RING_DROP};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(NULL, DSHQ_SECTION_MPSC, &p, 0, &sec, &size);
    struct dshq_mpsc_producer *a, *b;
    struct dshq_mpsc_consumer *c;
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &a), 0);
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &b), 0);
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &c), 0);
    struct dshq_slot s[16], t;
    uint32_t n = 99;
    CHECK_EQ_INT(dshq_mpsc_claim_batch(a, 0, 0, s, &n), -EINVAL);
    CHECK_EQ_INT(n, 0);
    put(b, 0);
    CHECK_EQ_INT(dshq_mpsc_claim_batch(a, 5, 0, s, &n), 0);
    CHECK_EQ_INT(n, 5);
    for (uint32_t i = 0; i < n; i++) {
        CHECK_EQ_U64(s[i].seq, 1 + i);
        CHECK(s[i].data == slot_addr(sec, 1 + i));
        fill_slot(&s[i]);
    }
    put(b, 6);
    /* Nothing of the batch is visible before its commit; 0 is. */
    get(c, 0, sec);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &t), DSHQ_RING_EMPTY);
    CHECK_EQ_INT(dshq_mpsc_commit_batch(a), 0);
    CHECK_EQ_INT(dshq_mpsc_commit_batch(a), -EINVAL);
    for (uint64_t q = 1; q <= 6; q++)
        get(c, q, sec);
    /* Room for 8: a batch of 16 gets 8; then the ring is full (drop). */
    CHECK_EQ_INT(dshq_mpsc_claim_batch(a, 16, 0, s, &n), 0);
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_U64(s[0].seq, 7);
    CHECK_EQ_U64(s[7].seq, 14);
    CHECK(s[1].data == slot_addr(sec, 8)); /* wraps: slot of 8 is 0 */
    for (uint32_t i = 0; i < n; i++)
        fill_slot(&s[i]);
    CHECK_EQ_INT(dshq_mpsc_commit_batch(a), 0);
    struct dshq_slot one;
    CHECK_EQ_INT(dshq_mpsc_claim(b, 0, &one), DSHQ_RING_FULL);
    CHECK_EQ_INT(dshq_mpsc_claim_batch(b, 4, 0, s, &n), DSHQ_RING_FULL);
    CHECK_EQ_INT(n, 0);
    /* Partly drained: a batch of 4 gets the 3 free slots. */
    for (uint64_t q = 7; q <= 9; q++)
        get(c, q, sec);
    CHECK_EQ_INT(dshq_mpsc_claim_batch(b, 4, 0, s, &n), 0);
    CHECK_EQ_INT(n, 3);
    for (uint32_t i = 0; i < n; i++)
        fill_slot(&s[i]);
    CHECK_EQ_INT(dshq_mpsc_commit_batch(b), 0);
    for (uint64_t q = 10; q <= 17; q++)
        get(c, q, sec);
    struct dshq_ring_stats rs;
    struct dshq_lane_stats ps[2];
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 2), 0);
    CHECK_EQ_U64(ps[0].committed, 5 + 8);
    CHECK_EQ_U64(ps[1].committed, 2 + 3);
    CHECK_EQ_U64(rs.dropped, 2);
    CHECK_EQ_U64(rs.fill, 0);

    /* A live batch holder (18..21): waited for past the dead-check
     * interval, never skipped. */
    CHECK_EQ_INT(dshq_mpsc_claim_batch(a, 4, 0, s, &n), 0);
    CHECK_EQ_INT(n, 4);
    for (uint32_t i = 0; i < n; i++)
        fill_slot(&s[i]);
    put(b, 22);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 30 * 1000 * 1000, &t), DSHQ_RING_EMPTY);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.unblocked, 0);
    CHECK_EQ_INT(dshq_mpsc_commit_batch(a), 0);
    for (uint64_t q = 18; q <= 22; q++)
        get(c, q, sec);

    /* Batch poll and release: 5 committed, a batch of 8 gets those 5 (an
     * uncommitted position ends it); release_upto checks its argument. */
    for (uint64_t q = 0; q < 5; q++)
        put(b, 23 + q);
    CHECK_EQ_INT(dshq_mpsc_claim(a, 0, &one), 0); /* 28: claimed, not committed */
    put(b, 29);
    struct dshq_slot in[8];
    CHECK_EQ_INT(dshq_mpsc_poll_batch(c, 0, 0, in, &n), -EINVAL);
    CHECK_EQ_INT(dshq_mpsc_poll_batch(c, 8, 0, in, &n), 0);
    CHECK_EQ_INT(n, 5);
    for (uint32_t i = 0; i < n; i++) {
        CHECK_EQ_U64(in[i].seq, 23 + i);
        CHECK(in[i].data == slot_addr(sec, 23 + i));
        verify_slot(&in[i]);
    }
    CHECK_EQ_INT(dshq_mpsc_release_upto(c, &one), -EINVAL); /* never polled */
    CHECK_EQ_INT(dshq_mpsc_release_upto(c, &in[2]), 0);     /* 23..25 */
    CHECK_EQ_U64(atomic_load(&((struct dshq_mpsc_ctrl *)sec)->tail), 26);
    CHECK_EQ_INT(dshq_mpsc_release_upto(c, &in[1]), -EINVAL); /* released already */
    CHECK_EQ_INT(dshq_mpsc_release_upto(c, &in[4]), 0);       /* 26, 27 */
    CHECK_EQ_U64(atomic_load(&((struct dshq_mpsc_ctrl *)sec)->tail), 28);
    fill_slot(&one);
    CHECK_EQ_INT(dshq_mpsc_commit(a), 0);
    CHECK_EQ_INT(dshq_mpsc_poll_batch(c, 8, 0, in, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_U64(in[1].seq, 29);
    CHECK_EQ_INT(dshq_mpsc_release_upto(c, &in[1]), 0);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.consumed, 30);
    CHECK_EQ_U64(rs.fill, 0);

    /* A dead batch holder: 30..32 reserved, then its owner "dies"; every
     * one of its positions is skipped, 33 delivered. */
    CHECK_EQ_INT(dshq_mpsc_claim_batch(a, 3, 0, s, &n), 0);
    CHECK_EQ_INT(n, 3);
    memset(s[0].data, 0x77, 64);
    atomic_store(&entry_of(sec, 0)->owner, dead_owner());
    put(b, 33);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 2000 * 1000 * 1000LL, &t), 0);
    CHECK_EQ_U64(t.seq, 33);
    verify_slot(&t);
    CHECK_EQ_INT(dshq_mpsc_release(c, &t), 0);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.unblocked, 3);
    CHECK_EQ_U64(atomic_load(&((struct dshq_mpsc_ctrl *)sec)->tail), 34);
    dshq_mpsc_producer_close(a);
    dshq_mpsc_producer_close(b);
    dshq_mpsc_consumer_close(c);
    dshq_region_destroy(r);
}

int main(void)
{
    refused();
    drop_policy();
    block_policy();
    batch();
    return 0;
}
