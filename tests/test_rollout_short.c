/* test_rollout_short.c — the short path of lanes and the MPSC ring: create
 * by name (a leading '/' accepted) returning the consumer, producers attach
 * by name in other processes; a producer's own counters (drops included)
 * read cheaply; MPSC producer identities: a restarted producer that attaches
 * with its id continues its entry's counters (statistics per identity
 * across restarts), a live id is refused; the creator's close removes the
 * region. */
#include <errno.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

static char name[80];

/* Child: attach as MPSC producer `id`, commit n records (key id, seq), then
 * exit (or, with hold, claim one more and wait to be killed). */
static int mpsc_child(uint32_t id, int n, int base, int fd)
{
    struct dshq_mpsc_producer *p;
    CHECK_EQ_INT(dshq_mpsc_producer_attach(name, id, &p), 0);
    CHECK_EQ_INT(dshq_mpsc_producer_id(p), id);
    for (int i = 0; i < n; i++) {
        struct dshq_slot s;
        CHECK_EQ_INT(dshq_mpsc_claim(p, -1, &s), 0);
        ru_fill(s.data, s.size, ru_key(id, (uint64_t)(base + i)));
        CHECK_EQ_INT(dshq_mpsc_commit(p), 0);
    }
    struct dshq_producer_counts pc;
    dshq_mpsc_producer_counts(p, &pc);
    /* Counters continue across restarts of the same identity. */
    CHECK_EQ_U64(pc.committed, (uint64_t)(base + n));
    if (fd >= 0) {
        CHECK(write(fd, "r", 1) == 1);
        for (;;)
            pause();
    }
    dshq_mpsc_producer_close(p);
    return 0;
}

static void get(struct dshq_mpsc_consumer *c, uint32_t id, uint64_t seq)
{
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_mpsc_poll(c, 10LL * 1000 * 1000 * 1000, &s), 0);
    int64_t bad = ru_verify(s.data, s.size, ru_key(id, seq));
    CHECK_MSG(bad < 0, "id %u seq %llu byte %lld", id, (unsigned long long)seq, (long long)bad);
    CHECK_EQ_INT(dshq_mpsc_release(c, &s), 0);
}

static void mpsc(void)
{
    snprintf(name, sizeof name, "/dshq-test-short-m-%ld", (long)getpid());
    ru_guard_region(name);
    struct dshq_ring_params prm = {.slot_size = 100, .capacity = 16, .producers = 3,
                                   .policy = DSHQ_RING_BLOCK};
    struct dshq_ring_params bad = prm;
    bad.capacity = 12;
    struct dshq_mpsc_consumer *c;
    CHECK_EQ_INT(dshq_mpsc_create(name, &bad, &c), -EINVAL);
    CHECK_EQ_INT(dshq_mpsc_create(name, &prm, &c), 0);
    struct dshq_mpsc_producer *p;
    CHECK_EQ_INT(dshq_mpsc_producer_attach(name, 3, &p), -EINVAL);
    /* Identity 1: 5 records, then a restart (killed while holding the id:
     * its successor with the same id must wait for it to die). */
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t a = ru_fork();
    CHECK(a >= 0);
    if (a == 0)
        _exit(mpsc_child(1, 5, 0, fds[1]));
    char b;
    CHECK(read(fds[0], &b, 1) == 1);
    CHECK_EQ_INT(dshq_mpsc_producer_attach(name, 1, &p), -EBUSY);
    for (uint64_t i = 0; i < 5; i++)
        get(c, 1, i);
    CHECK(kill(a, SIGKILL) == 0);
    CHECK(waitpid(a, NULL, 0) == a);
    pid_t a2 = ru_fork();
    CHECK(a2 >= 0);
    if (a2 == 0)
        _exit(mpsc_child(1, 4, 5, -1));
    for (uint64_t i = 5; i < 9; i++)
        get(c, 1, i);
    ru_wait_ok(a2);
    /* Identity 0; then "any" takes the lowest free entry (0) and sees that
     * entry's history. */
    pid_t z = ru_fork();
    CHECK(z >= 0);
    if (z == 0)
        _exit(mpsc_child(0, 3, 0, -1));
    for (uint64_t i = 0; i < 3; i++)
        get(c, 0, i);
    ru_wait_ok(z);
    struct dshq_mpsc_producer *any;
    CHECK_EQ_INT(dshq_mpsc_producer_attach(name, DSHQ_MPSC_ANY, &any), 0);
    CHECK_EQ_INT(dshq_mpsc_producer_id(any), 0);
    struct dshq_producer_counts pc;
    dshq_mpsc_producer_counts(any, &pc);
    CHECK_EQ_U64(pc.committed, 3); /* entry 0's history */
    dshq_mpsc_producer_close(any);
    /* Statistics per identity: entry 1 holds both runs of identity 1. */
    struct dshq_region *mon;
    CHECK_EQ_INT(dshq_region_attach(name, 0, 0, &mon), 0);
    void *sec;
    uint64_t size;
    CHECK_EQ_INT(dshq_region_find(mon, DSHQ_SECTION_MPSC, DSHQ_MPSC_SECTION, 0, &sec, &size), 0);
    struct dshq_ring_stats rs;
    struct dshq_lane_stats ps[3];
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 3), 0);
    CHECK_EQ_U64(ps[1].committed, 9);
    CHECK_EQ_U64(ps[1].reclaims, 1);
    CHECK_EQ_U64(ps[0].committed, 3);
    CHECK_EQ_U64(ps[2].committed, 0);
    CHECK_EQ_U64(rs.consumed, 12);
    dshq_region_detach(mon);
    /* The creator's close removes the region. */
    dshq_mpsc_consumer_close(c);
    CHECK_EQ_INT(dshq_mpsc_producer_attach(name, 0, &p), -ENOENT);
    close(fds[0]);
    close(fds[1]);
}

/* Lanes: drop mode, a producer reads its own drop count. */
static void lanes(void)
{
    snprintf(name, sizeof name, "dshq-test-short-l-%ld", (long)getpid());
    ru_guard_region(name);
    struct dshq_ring_params prm = {.slot_size = 64, .capacity = 4, .producers = 2,
                                   .policy = DSHQ_RING_DROP};
    struct dshq_lane_consumer *c;
    CHECK_EQ_INT(dshq_lanes_create(name, &prm, &c), 0);
    struct dshq_lane_consumer *c2;
    CHECK_EQ_INT(dshq_lane_consumer_attach(name, &c2), -EBUSY);
    pid_t k = ru_fork();
    CHECK(k >= 0);
    if (k == 0) {
        struct dshq_lane_producer *p;
        CHECK_EQ_INT(dshq_lane_producer_attach(name, 1, &p), 0);
        struct dshq_lane_producer *q;
        CHECK_EQ_INT(dshq_lane_producer_attach(name, 1, &q), -EBUSY);
        CHECK_EQ_INT(dshq_lane_producer_attach(name, 2, &q), -EINVAL);
        /* 4 fit, the next 3 are dropped (nobody consumes yet). */
        for (uint64_t i = 0; i < 7; i++) {
            struct dshq_slot s;
            int rc = dshq_lane_claim(p, 0, &s);
            CHECK_EQ_INT(rc, i < 4 ? 0 : DSHQ_RING_FULL);
            if (rc == 0) {
                ru_fill(s.data, s.size, ru_key(1, i));
                CHECK_EQ_INT(dshq_lane_commit(p), 0);
            }
            struct dshq_producer_counts pc;
            dshq_lane_producer_counts(p, &pc);
            CHECK_EQ_U64(pc.committed, i < 4 ? i + 1 : 4);
            CHECK_EQ_U64(pc.dropped, i < 4 ? 0 : i - 3);
            CHECK_EQ_U64(pc.blocked, 0);
        }
        dshq_lane_producer_close(p);
        _exit(0);
    }
    ru_wait_ok(k);
    for (uint64_t i = 0; i < 4; i++) {
        struct dshq_slot s;
        CHECK_EQ_INT(dshq_lane_poll(c, 0, &s), 0);
        CHECK_EQ_INT(s.lane, 1);
        CHECK_EQ_U64(s.seq, i);
        CHECK(ru_verify(s.data, s.size, ru_key(1, i)) < 0);
        CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
    }
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &s), DSHQ_RING_EMPTY);
    dshq_lane_consumer_close(c);
    struct dshq_lane_producer *p;
    CHECK_EQ_INT(dshq_lane_producer_attach(name, 0, &p), -ENOENT);
}

int main(void)
{
    mpsc();
    lanes();
    printf("rollout short path: ok\n");
    return 0;
}
