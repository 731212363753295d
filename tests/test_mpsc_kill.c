/* test_mpsc_kill.c — kill -9 MPSC producers between reservation and commit.
 *
 * 1. Exactly: A commits positions 0-1, reserves 2, writes half of it; B
 *    commits 3-5.  While A lives the consumer waits at 2; once A is killed
 *    the consumer skips 2 (unblocked 1) and delivers 3-5, never 2.  Then a
 *    dead reserver holding a FULL ring in block mode: the producers blocked
 *    behind it are released as soon as the consumer skips it.
 * 2. At random moments: two streaming producers, one killed and replaced
 *    each round; every slot delivered is complete, positions only grow,
 *    and at the end consumed + unblocked covers every reserved position. */
#include <errno.h>
#include <signal.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

#define CAP 8

static struct dshq_chunk_layout layout;
static char name[64];

static struct dshq_mpsc_producer *child_open(void)
{
    void *sec;
    uint64_t size;
    ru_attach(name, DSHQ_SECTION_MPSC, &sec, &size);
    struct dshq_mpsc_producer *p;
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &p), 0);
    return p;
}

/* Child: commit n chunks as producer id, each header seq its own count. */
static int child_commit(uint32_t id, int n, int fd_done)
{
    struct dshq_mpsc_producer *p = child_open();
    for (int i = 0; i < n; i++) {
        struct dshq_slot s;
        CHECK_EQ_INT(dshq_mpsc_claim(p, -1, &s), 0);
        ru_chunk_fill(&layout, s.data, id, (uint64_t)i, s.seq);
        CHECK_EQ_INT(dshq_mpsc_commit(p), 0);
    }
    if (fd_done >= 0)
        CHECK(write(fd_done, "d", 1) == 1);
    dshq_mpsc_producer_close(p);
    return 0;
}

/* Child: commit `full`, reserve one more, fill half, signal, wait for death. */
static int child_half(uint32_t id, int full, int fd)
{
    struct dshq_mpsc_producer *p = child_open();
    struct dshq_slot s;
    for (int i = 0; i < full; i++) {
        CHECK_EQ_INT(dshq_mpsc_claim(p, -1, &s), 0);
        ru_chunk_fill(&layout, s.data, id, (uint64_t)i, s.seq);
        CHECK_EQ_INT(dshq_mpsc_commit(p), 0);
    }
    CHECK_EQ_INT(dshq_mpsc_claim(p, -1, &s), 0);
    memset(s.data, 0xdd, layout.bytes / 2);
    CHECK(write(fd, "h", 1) == 1);
    for (;;)
        pause();
    return 1;
}

/* Child: stream forever; signals once registered. */
static int child_stream(uint32_t id, int fd)
{
    struct dshq_mpsc_producer *p = child_open();
    CHECK(write(fd, "s", 1) == 1);
    for (uint64_t i = 0;; i++) {
        struct dshq_slot s;
        CHECK_EQ_INT(dshq_mpsc_claim(p, -1, &s), 0);
        ru_chunk_fill(&layout, s.data, id, i, s.seq);
        CHECK_EQ_INT(dshq_mpsc_commit(p), 0);
    }
    return 1;
}

/* Polls one slot (waiting up to 5 s) and checks it completely. */
static void get(struct dshq_mpsc_consumer *c, uint64_t want_pos, uint32_t want_id,
                uint64_t want_seq)
{
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_mpsc_poll(c, 5000LL * 1000 * 1000, &s), 0);
    CHECK_EQ_U64(s.seq, want_pos);
    struct dshq_chunk_header h;
    ru_chunk_verify(&layout, s.data, &h);
    CHECK_EQ_INT(h.producer_id, want_id);
    CHECK_EQ_U64(h.seq, want_seq);
    CHECK_EQ_U64(h.policy_version, want_pos);
    CHECK_EQ_INT(dshq_mpsc_release(c, &s), 0);
}

static pid_t spawn_half(uint32_t id, int full, int fds[2])
{
    pid_t a = ru_fork();
    CHECK(a >= 0);
    if (a == 0)
        _exit(child_half(id, full, fds[1]));
    char b;
    CHECK(read(fds[0], &b, 1) == 1);
    return a;
}

static void reap_killed(pid_t a)
{
    int st;
    CHECK(waitpid(a, &st, 0) == a);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void exact(void *sec, uint64_t size, struct dshq_mpsc_consumer *c)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t a = spawn_half(100, 2, fds); /* positions 0, 1; holds 2 */
    pid_t b = ru_fork();
    CHECK(b >= 0);
    if (b == 0)
        _exit(child_commit(101, 3, -1)); /* positions 3, 4, 5 */
    ru_wait_ok(b);
    get(c, 0, 100, 0);
    get(c, 1, 100, 1);
    struct dshq_slot s;
    /* A lives: position 2 is waited for, not skipped. */
    CHECK_EQ_INT(dshq_mpsc_poll(c, 30 * 1000 * 1000, &s), DSHQ_RING_EMPTY);
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.unblocked, 0);
    CHECK_EQ_U64(rs.reserved, 6);
    CHECK(kill(a, SIGKILL) == 0);
    /* Killed (a zombie until reaped): 2 is skipped, 3..5 arrive. */
    get(c, 3, 101, 0);
    get(c, 4, 101, 1);
    get(c, 5, 101, 2);
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &s), DSHQ_RING_EMPTY);
    reap_killed(a);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.unblocked, 1);
    CHECK_EQ_U64(rs.consumed, 5);
    CHECK_EQ_U64(rs.fill, 0);
    CHECK_EQ_U64(rs.committed, 5);

    /* A dead reserver in a FULL block-mode ring.  D holds position 6 and
     * dies; E commits 2 * CAP slots and must block behind D until the
     * consumer skips position 6. */
    pid_t d = spawn_half(102, 0, fds);
    CHECK(kill(d, SIGKILL) == 0);
    reap_killed(d);
    pid_t e = ru_fork();
    CHECK(e >= 0);
    if (e == 0)
        _exit(child_commit(103, 2 * CAP, fds[1]));
    /* E fills positions 7..13 (the ring holds 6..13) and then blocks: the
     * consumer touches nothing until E's own counter says it is about to
     * sleep for room (bounded wait, whatever the schedule). */
    struct dshq_lane_stats ps[4];
    uint64_t wait_until = dshq_now_ns() + 60ULL * 1000 * 1000 * 1000;
    for (;;) {
        CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 4), 0);
        uint64_t blocked = 0;
        for (int i = 0; i < 4; i++)
            blocked += ps[i].blocked;
        if (blocked >= 1)
            break;
        CHECK_MSG(dshq_now_ns() < wait_until, "E never blocked (reserved %llu)",
                  (unsigned long long)rs.reserved);
        usleep(1000); /* polling a counter with a deadline, not a sync */
    }
    /* E holds 7..13 and waits for position 14: the ring is full behind the
     * dead reservation of 6, and nothing was skipped yet. */
    CHECK_EQ_U64(rs.reserved, 14);
    CHECK_EQ_U64(rs.unblocked, 1);
    for (uint64_t i = 0; i < 2 * CAP; i++)
        get(c, 7 + i, 103, i);
    char done;
    CHECK(read(fds[0], &done, 1) == 1);
    ru_wait_ok(e);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 4), 0);
    CHECK_EQ_U64(rs.unblocked, 2);
    CHECK_EQ_U64(rs.reserved, 7 + 2 * CAP);
    CHECK_EQ_U64(rs.consumed + rs.unblocked, rs.reserved);
    uint64_t blocked = 0;
    for (int i = 0; i < 4; i++)
        blocked += ps[i].blocked;
    CHECK(blocked >= 1); /* E did wait for room */
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &s), DSHQ_RING_EMPTY);
    close(fds[0]);
    close(fds[1]);
}

static void random_kills(void *sec, uint64_t size, struct dshq_mpsc_consumer *c)
{
    const int rounds = 8;
    int fds[2];
    CHECK(pipe(fds) == 0);
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    uint64_t next_pos = rs.reserved, unblocked0 = rs.unblocked, got = 0;
    uint64_t last_seq[2 * rounds + 2];
    for (int i = 0; i < 2 * rounds + 2; i++)
        last_seq[i] = UINT64_MAX;
    pid_t kid[2];
    uint32_t next_id = 0, kid_id[2];
    for (int k = 0; k < 2; k++) {
        kid_id[k] = next_id++;
        kid[k] = ru_fork();
        CHECK(kid[k] >= 0);
        if (kid[k] == 0)
            _exit(child_stream(kid_id[k], fds[1]));
        char b;
        CHECK(read(fds[0], &b, 1) == 1);
    }
    uint64_t rng = (uint64_t)getpid();
    for (int round = 0; round <= rounds; round++) {
        rng = ru_mix(rng);
        uint64_t until = dshq_now_ns() + (1 + rng % 15) * 1000 * 1000;
        for (;;) {
            struct dshq_slot s;
            if (dshq_mpsc_poll(c, 1000 * 1000, &s) != 0) {
                if (dshq_now_ns() >= until)
                    break;
                continue;
            }
            CHECK(s.seq >= next_pos); /* grows; may jump over skipped ones */
            next_pos = s.seq + 1;
            struct dshq_chunk_header h;
            ru_chunk_verify(&layout, s.data, &h);
            CHECK(h.producer_id < next_id);
            CHECK_EQ_U64(h.policy_version, s.seq);
            CHECK(last_seq[h.producer_id] == UINT64_MAX || h.seq == last_seq[h.producer_id] + 1);
            last_seq[h.producer_id] = h.seq;
            got++;
            CHECK_EQ_INT(dshq_mpsc_release(c, &s), 0);
            if (dshq_now_ns() >= until)
                break;
        }
        if (round == rounds)
            break;
        int k = (int)(rng >> 32) & 1;
        CHECK(kill(kid[k], SIGKILL) == 0);
        reap_killed(kid[k]);
        kid_id[k] = next_id++;
        kid[k] = ru_fork();
        CHECK(kid[k] >= 0);
        if (kid[k] == 0)
            _exit(child_stream(kid_id[k], fds[1]));
        char b;
        CHECK(read(fds[0], &b, 1) == 1);
    }
    for (int k = 0; k < 2; k++) {
        CHECK(kill(kid[k], SIGKILL) == 0);
        reap_killed(kid[k]);
    }
    /* Drain: every reserved position ends up consumed or skipped. */
    struct dshq_slot s;
    while (dshq_mpsc_poll(c, 100 * 1000 * 1000, &s) == 0) {
        struct dshq_chunk_header h;
        ru_chunk_verify(&layout, s.data, &h);
        got++;
        CHECK_EQ_INT(dshq_mpsc_release(c, &s), 0);
    }
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, NULL, 0), 0);
    CHECK_EQ_U64(rs.consumed + rs.unblocked, rs.reserved);
    CHECK_EQ_U64(rs.fill, 0);
    CHECK(rs.unblocked - unblocked0 <= (uint64_t)rounds + 2); /* at most one per kill */
    fprintf(stderr, "random kills: %d rounds, %llu slots, %llu reservations skipped\n", rounds,
            (unsigned long long)got, (unsigned long long)(rs.unblocked - unblocked0));
    /* Not stuck: a new producer's slots still arrive. */
    pid_t f = ru_fork();
    CHECK(f >= 0);
    if (f == 0)
        _exit(child_commit(999, 3, -1));
    for (uint64_t i = 0; i < 3; i++)
        get(c, rs.reserved + i, 999, i);
    ru_wait_ok(f);
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    CHECK_EQ_INT(dshq_chunk_layout_init(&layout, 32, 16, 32, 0), 0); /* 74 KiB: a wide window to be killed in */
    test_region_name(name, sizeof name, "mkill");
    struct dshq_ring_params p = {.slot_size = layout.bytes, .capacity = CAP, .producers = 4,
                                 .policy = DSHQ_RING_BLOCK};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(name, DSHQ_SECTION_MPSC, &p, layout.shape_hash, &sec, &size);
    struct dshq_mpsc_consumer *c;
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &c), 0);
    exact(sec, size, c);
    random_kills(sec, size, c);
    dshq_mpsc_consumer_close(c);
    dshq_region_destroy(r);
    return 0;
}
