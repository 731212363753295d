/* test_lane_threads.c — the lanes with producer threads in one process (an
 * anonymous region), so ThreadSanitizer (`make tsan`) can watch every
 * access: N threads x M chunks, every byte checked, lane positions
 * contiguous, block mode lossless, drop mode losses == `dropped`. */
#include <pthread.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

#define NPROD 3
#define M 10000

static struct dshq_chunk_layout layout;
static void *sec;
static uint64_t size;
static uint32_t policy;
/* Drop mode: the consumer starts only once every producer has had a claim
 * refused (and each producer waits for `go` after its first refusal), so
 * drops happen whatever the schedule. */
static _Atomic int first_drop[NPROD], go;

static void wait_flag(_Atomic int *flag, const char *what)
{
    uint64_t deadline = dshq_now_ns() + 60ULL * 1000 * 1000 * 1000;
    while (!atomic_load(flag)) {
        CHECK_MSG(dshq_now_ns() < deadline, "%s never came", what);
        usleep(100); /* polling with a deadline, not a sync */
    }
}
static _Atomic uint64_t attempted[NPROD], committed[NPROD];

static void *producer(void *arg)
{
    uint32_t lane = (uint32_t)(uintptr_t)arg;
    struct dshq_lane_producer *p;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, lane, &p), 0);
    uint64_t n = 0;
    for (uint64_t seq = 0; seq < M; seq++) {
        struct dshq_slot s;
        int rc = dshq_lane_claim(p, 10LL * 1000 * 1000 * 1000, &s);
        if (rc == DSHQ_RING_FULL) {
            CHECK(policy == DSHQ_RING_DROP);
            atomic_store(&attempted[lane], seq + 1);
            if (!atomic_load(&first_drop[lane])) {
                atomic_store(&first_drop[lane], 1);
                wait_flag(&go, "go");
            }
            usleep(10);
            continue;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_U64(s.seq, n);
        ru_chunk_fill(&layout, s.data, lane, seq, 7);
        CHECK_EQ_INT(dshq_lane_commit(p), 0);
        atomic_store(&committed[lane], ++n);
        /* Last: "attempted == M" means every commit is already visible. */
        atomic_store(&attempted[lane], seq + 1);
    }
    dshq_lane_producer_close(p);
    return NULL;
}

static void run(uint32_t pol, uint32_t flags)
{
    policy = pol;
    struct dshq_ring_params p = {.slot_size = layout.bytes, .capacity = 4, .producers = NPROD,
                                 .policy = pol, .flags = flags};
    struct dshq_region *r = ru_region(NULL, DSHQ_SECTION_LANES, &p, layout.shape_hash, &sec, &size);
    struct dshq_lane_consumer *c;
    CHECK_EQ_INT(dshq_lane_consumer_open(sec, size, &c), 0);
    pthread_t th[NPROD];
    for (uint32_t i = 0; i < NPROD; i++) {
        atomic_store(&attempted[i], 0);
        atomic_store(&committed[i], 0);
        atomic_store(&first_drop[i], 0);
    }
    atomic_store(&go, pol == DSHQ_RING_BLOCK);
    for (uint32_t i = 0; i < NPROD; i++)
        CHECK(pthread_create(&th[i], NULL, producer, (void *)(uintptr_t)i) == 0);
    if (pol == DSHQ_RING_DROP) {
        for (int i = 0; i < NPROD; i++)
            wait_flag(&first_drop[i], "a refused claim");
        atomic_store(&go, 1);
    }
    uint64_t received[NPROD] = {0}, last[NPROD];
    for (int i = 0; i < NPROD; i++)
        last[i] = UINT64_MAX;
    for (;;) {
        struct dshq_slot s;
        int rc = dshq_lane_poll(c, 20 * 1000 * 1000, &s);
        if (rc == DSHQ_RING_EMPTY) {
            int finished = 1;
            for (int i = 0; i < NPROD; i++)
                finished &= atomic_load(&attempted[i]) == M;
            /* Finished, and the final poll after that saw nothing either. */
            if (finished && dshq_lane_poll(c, 0, &s) == DSHQ_RING_EMPTY)
                break;
            if (!finished)
                continue;
            rc = 0;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_U64(s.seq, received[s.lane]);
        struct dshq_chunk_header h;
        ru_chunk_verify(&layout, s.data, &h);
        CHECK_EQ_INT(h.producer_id, s.lane);
        CHECK(last[s.lane] == UINT64_MAX || h.seq > last[s.lane]);
        if (pol == DSHQ_RING_BLOCK)
            CHECK_EQ_U64(h.seq, s.seq);
        last[s.lane] = h.seq;
        received[s.lane]++;
        CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
    }
    for (int i = 0; i < NPROD; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    struct dshq_ring_stats rs;
    struct dshq_lane_stats ls[NPROD];
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, NPROD), 0);
    for (int i = 0; i < NPROD; i++) {
        CHECK_EQ_U64(received[i], atomic_load(&committed[i]));
        CHECK_EQ_U64(ls[i].committed, received[i]);
        CHECK_EQ_U64(ls[i].dropped, M - received[i]);
        if (pol == DSHQ_RING_DROP)
            CHECK(ls[i].dropped >= 1); /* drops did happen */
        if (pol == DSHQ_RING_BLOCK)
            CHECK_EQ_U64(received[i], M);
    }
    CHECK_EQ_U64(rs.fill, 0);
    dshq_lane_consumer_close(c);
    dshq_region_destroy(r);
}

int main(void)
{
    CHECK_EQ_INT(dshq_chunk_layout_init(&layout, 8, 4, 12, 0), 0);
    /* Both wake modes: membarrier (where the kernel has it) and seq_cst. */
    for (int m = 0; m < 2; m++) {
        uint32_t flags = m ? DSHQ_RING_FORCE_SEQCST : 0;
        run(DSHQ_RING_BLOCK, flags);
        run(DSHQ_RING_DROP, flags);
    }
    return 0;
}
