/* test_mpsc_threads.c — the MPSC ring with producer threads in one process
 * (an anonymous region), for ThreadSanitizer (`make tsan`): N threads x M
 * slots, every byte checked, positions contiguous and in order, each
 * producer's sequence increasing, block lossless, drop losses == `dropped`. */
#include <pthread.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

#define NPROD 3
#define M 30000

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
static _Atomic uint64_t attempted[NPROD], committed[NPROD], entry[NPROD];

#define SLOT 200 /* bytes: 8-byte id, 8-byte seq, then the pattern */

static void *producer(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    struct dshq_mpsc_producer *p;
    /* Its own identity (entry): a producer that finishes and closes before
     * another one opens would otherwise hand that one its entry, and its
     * counters (they continue per entry). */
    CHECK_EQ_INT(dshq_mpsc_producer_open_id(sec, size, id, &p), 0);
    CHECK_EQ_INT(dshq_mpsc_producer_id(p), id);
    uint64_t n = 0;
    /* The last producer uses batch claims of up to 4 slots. */
    int batch = id == NPROD - 1;
    for (uint64_t seq = 0; seq < M; seq++) {
        struct dshq_slot s, sb[4];
        uint32_t got = 1;
        int rc = batch ? dshq_mpsc_claim_batch(p, M - seq < 4 ? (uint32_t)(M - seq) : 4,
                                               10LL * 1000 * 1000 * 1000, sb, &got)
                       : dshq_mpsc_claim(p, 10LL * 1000 * 1000 * 1000, &s);
        if (rc == DSHQ_RING_FULL) {
            CHECK(policy == DSHQ_RING_DROP);
            atomic_store(&attempted[id], seq + 1);
            if (!atomic_load(&first_drop[id])) {
                atomic_store(&first_drop[id], 1);
                wait_flag(&go, "go");
            }
            usleep(10);
            continue;
        }
        CHECK_EQ_INT(rc, 0);
        if (batch)
            s = sb[0];
        atomic_store(&entry[id], s.lane);
        CHECK(got >= 1 && got <= 4);
        for (uint32_t i = 0; i < got; i++) {
            struct dshq_slot *d = batch ? &sb[i] : &s;
            if (batch)
                CHECK_EQ_U64(d->seq, sb[0].seq + i);
            uint64_t hdr[2] = {id, seq + i};
            memcpy(d->data, hdr, 16);
            ru_fill((unsigned char *)d->data + 16, SLOT - 16, ru_key(id, seq + i));
        }
        CHECK_EQ_INT(batch ? dshq_mpsc_commit_batch(p) : dshq_mpsc_commit(p), 0);
        n += got;
        seq += got - 1;
        atomic_store(&committed[id], n);
        /* Last: "attempted == M" means every commit is already visible. */
        atomic_store(&attempted[id], seq + 1);
    }
    dshq_mpsc_producer_close(p);
    return NULL;
}

static void run(uint32_t pol, uint32_t flags)
{
    policy = pol;
    struct dshq_ring_params p = {.slot_size = SLOT, .capacity = 16, .producers = NPROD,
                                 .policy = pol, .flags = flags};
    struct dshq_region *r = ru_region(NULL, DSHQ_SECTION_MPSC, &p, 0, &sec, &size);
    struct dshq_mpsc_consumer *c;
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &c), 0);
    pthread_t th[NPROD];
    for (uint32_t i = 0; i < NPROD; i++) {
        atomic_store(&attempted[i], 0);
        atomic_store(&committed[i], 0);
        atomic_store(&entry[i], UINT64_MAX);
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
    uint64_t received[NPROD] = {0}, last[NPROD], pos = 0;
    for (int i = 0; i < NPROD; i++)
        last[i] = UINT64_MAX;
    /* The seq_cst runs consume in batches (poll_batch + release_upto). */
    int batched = (flags & DSHQ_RING_FORCE_SEQCST) != 0;
    for (;;) {
        struct dshq_slot in[8];
        uint32_t got = 1;
        int rc = batched ? dshq_mpsc_poll_batch(c, 8, 20 * 1000 * 1000, in, &got)
                         : dshq_mpsc_poll(c, 20 * 1000 * 1000, &in[0]);
        if (rc == DSHQ_RING_EMPTY) {
            int finished = 1;
            for (int i = 0; i < NPROD; i++)
                finished &= atomic_load(&attempted[i]) == M;
            if (finished && dshq_mpsc_poll(c, 0, &in[0]) == DSHQ_RING_EMPTY)
                break;
            if (!finished)
                continue;
            rc = 0;
            got = 1;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK(got >= 1 && got <= 8);
        for (uint32_t k = 0; k < got; k++) {
            struct dshq_slot *sl = &in[k];
            CHECK_EQ_U64(sl->seq, pos);
            pos++;
            uint64_t hdr[2];
            memcpy(hdr, sl->data, 16);
            CHECK(hdr[0] < NPROD);
            uint32_t id = (uint32_t)hdr[0];
            CHECK(last[id] == UINT64_MAX || hdr[1] > last[id]);
            if (pol == DSHQ_RING_BLOCK)
                CHECK_EQ_U64(hdr[1], received[id]);
            int64_t bad = ru_verify((unsigned char *)sl->data + 16, SLOT - 16, ru_key(id, hdr[1]));
            CHECK_MSG(bad < 0, "producer %u seq %llu byte %lld", id, (unsigned long long)hdr[1],
                      (long long)bad);
            last[id] = hdr[1];
            received[id]++;
            if (!batched)
                CHECK_EQ_INT(dshq_mpsc_release(c, sl), 0);
        }
        if (batched)
            CHECK_EQ_INT(dshq_mpsc_release_upto(c, &in[got - 1]), 0);
    }
    for (int i = 0; i < NPROD; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    struct dshq_ring_stats rs;
    struct dshq_lane_stats ps[NPROD];
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, NPROD), 0);
    uint64_t total = 0;
    for (int i = 0; i < NPROD; i++) {
        uint64_t e = atomic_load(&entry[i]);
        CHECK_EQ_U64(e, (uint64_t)i); /* slots carry the producer's identity */
        CHECK_EQ_U64(received[i], atomic_load(&committed[i]));
        CHECK_EQ_U64(ps[e].committed, received[i]);
        CHECK_EQ_U64(ps[e].dropped, M - received[i]);
        if (pol == DSHQ_RING_DROP)
            CHECK(ps[e].dropped >= 1); /* drops did happen */
        if (pol == DSHQ_RING_BLOCK)
            CHECK_EQ_U64(received[i], M);
        total += received[i];
    }
    CHECK_EQ_U64(rs.consumed, total);
    CHECK_EQ_U64(rs.reserved, total);
    CHECK_EQ_U64(rs.unblocked, 0);
    dshq_mpsc_consumer_close(c);
    dshq_region_destroy(r);
}

int main(void)
{
    /* Both wake modes: membarrier (where the kernel has it) and seq_cst. */
    for (int m = 0; m < 2; m++) {
        uint32_t flags = m ? DSHQ_RING_FORCE_SEQCST : 0;
        run(DSHQ_RING_BLOCK, flags);
        run(DSHQ_RING_DROP, flags);
    }
    return 0;
}
