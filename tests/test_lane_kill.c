/* test_lane_kill.c — kill -9 a lane producer between claim and commit.
 *
 * 1. Exactly: a producer commits 3 chunks, claims a 4th, writes half of it
 *    and is killed.  The consumer gets the 3 complete chunks and nothing
 *    else (zombie and reaped alike); a live owner's lane cannot be taken; a
 *    restarted producer takes the lane over (reclaims 1, abandoned 1),
 *    reuses position 3, and its chunks arrive complete.
 * 2. Repeatedly: a producer streaming chunks is killed, a new one takes
 *    over, while the consumer reads; every chunk read is complete and
 *    positions never skip or repeat.  Even rounds kill at a synchronised
 *    point: after a random number of chunks the producer claims one more,
 *    fills a random part of it and reports; the kill lands there, and the
 *    next owner must count that claim as abandoned.  Odd rounds kill at a
 *    random moment (wherever it lands, the accounting must match). */
#include <poll.h>
#include <errno.h>
#include <signal.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

static struct dshq_chunk_layout layout;
static char name[64];

static void sleep_forever(void)
{
    for (;;)
        pause();
}

/* Child: commit `full` chunks on lane, claim one more, fill half of it,
 * tell the parent (a byte on fd), wait to be killed. */
static int child_half(uint32_t lane, int full, int fd)
{
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_attach(name, DSHQ_SECTION_LANES, &sec, &size);
    struct dshq_lane_producer *p;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, lane, &p), 0);
    struct dshq_slot s;
    for (int i = 0; i < full; i++) {
        CHECK_EQ_INT(dshq_lane_claim(p, -1, &s), 0);
        ru_chunk_fill(&layout, s.data, lane, s.seq, 1);
        CHECK_EQ_INT(dshq_lane_commit(p), 0);
    }
    CHECK_EQ_INT(dshq_lane_claim(p, -1, &s), 0);
    ru_chunk_fill(&layout, s.data, lane, s.seq, 1);
    memset((unsigned char *)s.data + layout.bytes / 2, 0xcc, layout.bytes / 2); /* half done */
    CHECK(write(fd, "x", 1) == 1);
    sleep_forever();
    (void)r;
    return 1;
}

/* Child: take the lane over and commit n complete chunks. */
static int child_full(uint32_t lane, int n)
{
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_attach(name, DSHQ_SECTION_LANES, &sec, &size);
    struct dshq_lane_producer *p;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, lane, &p), 0);
    for (int i = 0; i < n; i++) {
        struct dshq_slot s;
        CHECK_EQ_INT(dshq_lane_claim(p, -1, &s), 0);
        ru_chunk_fill(&layout, s.data, lane, s.seq, 2);
        CHECK_EQ_INT(dshq_lane_commit(p), 0);
    }
    dshq_lane_producer_close(p);
    dshq_region_detach(r);
    return 0;
}

/* Child: stream chunks until killed; a byte on fd once it owns the lane.
 * With stop_after >= 0: after stop_after chunks, claim one more, fill
 * `part` bytes of it, send a second byte and wait to be killed. */
static int child_stream(uint32_t lane, int fd, int64_t stop_after, uint64_t part)
{
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_attach(name, DSHQ_SECTION_LANES, &sec, &size);
    struct dshq_lane_producer *p;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, lane, &p), 0);
    CHECK(write(fd, "s", 1) == 1);
    for (int64_t i = 0;; i++) {
        struct dshq_slot s;
        int rc = dshq_lane_claim(p, -1, &s);
        CHECK_EQ_INT(rc, 0);
        if (i == stop_after) {
            ru_chunk_fill(&layout, s.data, lane, s.seq, 3);
            memset((unsigned char *)s.data + part, 0xcc, layout.bytes - part);
            CHECK(write(fd, "c", 1) == 1);
            sleep_forever();
        }
        ru_chunk_fill(&layout, s.data, lane, s.seq, 3);
        CHECK_EQ_INT(dshq_lane_commit(p), 0);
    }
    (void)r;
    return 1;
}

static void get_chunk(struct dshq_lane_consumer *c, uint32_t lane, uint64_t seq)
{
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_lane_poll(c, 2000LL * 1000 * 1000, &s), 0);
    CHECK_EQ_INT(s.lane, lane);
    CHECK_EQ_U64(s.seq, seq);
    struct dshq_chunk_header h;
    ru_chunk_verify(&layout, s.data, &h);
    CHECK_EQ_U64(h.seq, seq);
    CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
}

static void exact(void *sec, uint64_t size, struct dshq_lane_consumer *c)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t a = ru_fork();
    CHECK(a >= 0);
    if (a == 0)
        _exit(child_half(0, 3, fds[1]));
    char b;
    CHECK(read(fds[0], &b, 1) == 1);
    /* A is alive and owns lane 0. */
    struct dshq_lane_producer *steal;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, 0, &steal), -EBUSY);
    CHECK(kill(a, SIGKILL) == 0);
    /* Not reaped yet: a zombie.  Only the 3 complete chunks are visible. */
    for (uint64_t i = 0; i < 3; i++)
        get_chunk(c, 0, i);
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_lane_poll(c, 100 * 1000 * 1000, &s), DSHQ_RING_EMPTY);
    int st;
    CHECK(waitpid(a, &st, 0) == a);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    struct dshq_lane_stats ls[2];
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, 2), 0);
    CHECK_EQ_INT(ls[0].owner_pid, a);
    CHECK_EQ_INT(ls[0].owner_alive, 0);
    CHECK_EQ_U64(ls[0].claimed, 1);
    CHECK_EQ_U64(ls[0].committed, 3);
    CHECK_EQ_U64(ls[0].fill, 0);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &s), DSHQ_RING_EMPTY);

    /* A restarted producer takes the lane over and reuses position 3. */
    pid_t b2 = ru_fork();
    CHECK(b2 >= 0);
    if (b2 == 0)
        _exit(child_full(0, 3));
    for (uint64_t i = 3; i < 6; i++)
        get_chunk(c, 0, i);
    ru_wait_ok(b2);
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, 2), 0);
    CHECK_EQ_U64(ls[0].reclaims, 1);
    CHECK_EQ_U64(ls[0].abandoned, 1);
    CHECK_EQ_U64(ls[0].committed, 6);
    CHECK_EQ_U64(ls[0].consumed, 6);
    CHECK_EQ_U64(ls[0].claimed, 0);
    CHECK_EQ_INT(ls[0].owner_pid, 0);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &s), DSHQ_RING_EMPTY);
    close(fds[0]);
    close(fds[1]);
}

static void random_kills(void *sec, uint64_t size, struct dshq_lane_consumer *c)
{
    const int rounds = 8;
    uint64_t next = 0, abandoned = 0, rng = (uint64_t)getpid();
    int fds[2];
    CHECK(pipe(fds) == 0);
    uint64_t sync_kills = 0;
    for (int round = 0; round < rounds; round++) {
        int sync = round % 2 == 0;
        rng = ru_mix(rng);
        int64_t stop_after = sync ? (int64_t)(rng % 40) : -1;
        uint64_t part = sync ? (rng >> 16) % layout.bytes : 0;
        uint64_t first = next;
        pid_t k = ru_fork();
        CHECK(k >= 0);
        if (k == 0)
            _exit(child_stream(1, fds[1], stop_after, part));
        char b;
        CHECK(read(fds[0], &b, 1) == 1); /* it owns the lane now */
        /* Random rounds: consume for 1..20 ms, then kill it wherever it is.
         * Synchronised rounds: consume its stop_after chunks, then wait for
         * its report that it holds a claim, then kill. */
        uint64_t until = dshq_now_ns() + (1 + (rng >> 40) % 20) * 1000 * 1000;
        uint64_t deadline = dshq_now_ns() + 60ULL * 1000 * 1000 * 1000;
        for (;;) {
            CHECK_MSG(dshq_now_ns() < deadline, "round %d: no progress", round);
            if (sync && next - first == (uint64_t)stop_after)
                break;
            struct dshq_slot s;
            if (dshq_lane_poll(c, 1000 * 1000, &s) != 0) {
                if (!sync && dshq_now_ns() >= until)
                    break;
                continue;
            }
            CHECK_EQ_INT(s.lane, 1);
            CHECK_EQ_U64(s.seq, next);
            struct dshq_chunk_header h;
            ru_chunk_verify(&layout, s.data, &h);
            CHECK_EQ_U64(h.seq, next);
            next++;
            CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
            /* Right after a release the producer is most likely mid-chunk. */
            if (!sync && dshq_now_ns() >= until)
                break;
        }
        if (sync) {
            struct pollfd pf = {.fd = fds[0], .events = POLLIN};
            CHECK_MSG(poll(&pf, 1, 60 * 1000) == 1, "round %d: no claim report", round);
            CHECK(read(fds[0], &b, 1) == 1 && b == 'c');
        }
        CHECK(kill(k, SIGKILL) == 0);
        int st;
        CHECK(waitpid(k, &st, 0) == k);
        CHECK(WIFSIGNALED(st));
        /* Drain what it committed before dying. */
        struct dshq_slot s;
        while (dshq_lane_poll(c, 0, &s) == 0) {
            CHECK_EQ_U64(s.seq, next);
            struct dshq_chunk_header h;
            ru_chunk_verify(&layout, s.data, &h);
            next++;
            CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
        }
        struct dshq_lane_stats ls[2];
        struct dshq_ring_stats rs;
        CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, 2), 0);
        CHECK_EQ_U64(ls[1].committed, next);
        CHECK_EQ_U64(ls[1].reclaims, (uint64_t)round);
        CHECK_EQ_U64(ls[1].abandoned, abandoned);
        if (sync) {
            /* Killed holding a claim: it is visible, nothing of it was
             * delivered, and the next owner must count it. */
            CHECK_EQ_U64(ls[1].claimed, 1);
            CHECK_EQ_U64(ls[1].committed, first + (uint64_t)stop_after);
            sync_kills++;
        }
        abandoned += ls[1].claimed; /* the next owner will count it */
    }
    CHECK_EQ_U64(sync_kills, (uint64_t)rounds / 2);
    CHECK(abandoned >= sync_kills);
    close(fds[0]);
    close(fds[1]);
    fprintf(stderr, "random kills: %d rounds, %llu chunks, %llu claims abandoned\n", rounds,
            (unsigned long long)next, (unsigned long long)abandoned);
    /* The lane still works after all that. */
    pid_t b = ru_fork();
    CHECK(b >= 0);
    if (b == 0)
        _exit(child_full(1, 2));
    for (int i = 0; i < 2; i++) {
        struct dshq_slot s;
        CHECK_EQ_INT(dshq_lane_poll(c, 2000LL * 1000 * 1000, &s), 0);
        CHECK_EQ_U64(s.seq, next);
        struct dshq_chunk_header h;
        ru_chunk_verify(&layout, s.data, &h);
        next++;
        CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
    }
    ru_wait_ok(b);
    struct dshq_lane_stats ls[2];
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, 2), 0);
    CHECK_EQ_U64(ls[1].abandoned, abandoned);
    CHECK_EQ_U64(ls[1].reclaims, (uint64_t)rounds);
}

int main(void)
{
    CHECK_EQ_INT(dshq_chunk_layout_init(&layout, 8, 8, 16, 0), 0);
    test_region_name(name, sizeof name, "lkill");
    struct dshq_ring_params p = {.slot_size = layout.bytes, .capacity = 8, .producers = 2,
                                 .policy = DSHQ_RING_BLOCK};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(name, DSHQ_SECTION_LANES, &p, layout.shape_hash, &sec, &size);
    struct dshq_lane_consumer *c;
    CHECK_EQ_INT(dshq_lane_consumer_open(sec, size, &c), 0);
    exact(sec, size, c);
    random_kills(sec, size, c);
    dshq_lane_consumer_close(c);
    dshq_region_destroy(r);
    return 0;
}
