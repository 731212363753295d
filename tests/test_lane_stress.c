/* test_lane_stress.c — N producer processes x M chunks into a named region's
 * lanes, one consumer (this process).  Every byte of every chunk is checked,
 * per-producer sequence numbers must be strictly increasing (lane positions
 * contiguous), and the totals must add up: in block mode nothing is lost,
 * in drop mode the chunks lost equal the `dropped` counter of each lane. */
#include <errno.h>
#include <signal.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

#define NPROD 3
#define M 10000
#define DEADLINE_NS (20LL * 1000 * 1000 * 1000) /* producers stop early past this */

/* Filled in by each producer before it exits (a RAW section). */
struct result {
    _Atomic uint64_t attempted; /* chunks it tried to send */
    _Atomic uint64_t committed; /* chunks it committed */
    _Atomic uint64_t done;      /* 1 when finished */
    uint64_t pad[5];
};

static struct dshq_chunk_layout layout;

static int producer(const char *name, uint32_t lane, uint32_t policy)
{
    void *sec, *res;
    uint64_t size;
    struct dshq_region *r = ru_attach(name, DSHQ_SECTION_LANES, &sec, &size);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_RAW, "results", 0, &res, NULL), 0);
    struct result *out = (struct result *)res + lane;
    struct dshq_lane_producer *p;
    CHECK_EQ_INT(dshq_lane_producer_open(sec, size, lane, &p), 0);
    uint64_t t0 = dshq_now_ns(), committed = 0, seq;
    for (seq = 0; seq < M && dshq_now_ns() - t0 < DEADLINE_NS; seq++) {
        struct dshq_slot s;
        int rc = dshq_lane_claim(p, 5LL * 1000 * 1000 * 1000, &s);
        atomic_store(&out->attempted, seq + 1);
        if (rc == DSHQ_RING_FULL) {
            CHECK(policy == DSHQ_RING_DROP); /* block mode: 5 s without room is a bug */
            usleep(20); /* a worker would go on stepping its envs */
            continue;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_U64(s.seq, committed); /* lane positions are contiguous */
        CHECK_EQ_U64(s.size, layout.bytes);
        ru_chunk_fill(&layout, s.data, lane, seq, 1000 + seq / 100);
        CHECK_EQ_INT(dshq_lane_commit(p), 0);
        atomic_store(&out->committed, ++committed);
    }
    atomic_store(&out->done, 1);
    dshq_lane_producer_close(p);
    dshq_region_detach(r);
    return 0;
}

static void run(uint32_t policy, uint32_t flags)
{
    char name[64];
    test_region_name(name, sizeof name, policy == DSHQ_RING_DROP ? "lstress-drop" : "lstress-blk");
    struct dshq_ring_params p = {.slot_size = layout.bytes, .capacity = 4, .producers = NPROD,
                                 .policy = policy, .flags = flags};
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_LANES, "ring", DSHQ_LANES_VERSION,
                          dshq_lanes_size(&p), DSHQ_PAGE_ALIGN, layout.shape_hash) >= 0);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_RAW, "results", 1,
                          NPROD * sizeof(struct result), 64, 0) >= 0);
    struct dshq_region *r;
    int rc = dshq_region_create(name, &l, 0, &r);
    CHECK_MSG(rc == 0, "%s", dshq_strerror(rc));
    void *sec, *res;
    uint64_t size;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_LANES, "ring", layout.shape_hash, &sec, &size), 0);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_RAW, "results", 0, &res, NULL), 0);
    CHECK_EQ_INT(dshq_lanes_init(sec, size, &p), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    struct result *results = res;

    struct dshq_lane_consumer *c;
    CHECK_EQ_INT(dshq_lane_consumer_open(sec, size, &c), 0);
    pid_t pids[NPROD];
    for (uint32_t i = 0; i < NPROD; i++) {
        pids[i] = ru_fork();
        CHECK(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(producer(name, i, policy));
    }
    if (policy == DSHQ_RING_DROP) {
        /* Let every lane fill up and drop before consuming anything, so
         * the drop path is certainly taken. */
        uint64_t t0 = dshq_now_ns();
        for (uint32_t i = 0; i < NPROD; i++)
            while (atomic_load(&results[i].attempted) <= p.capacity &&
                   !atomic_load(&results[i].done) && dshq_now_ns() - t0 < DEADLINE_NS)
                usleep(1000);
    }

    uint64_t received[NPROD] = {0}, last_hseq[NPROD], bytes = 0;
    for (uint32_t i = 0; i < NPROD; i++)
        last_hseq[i] = UINT64_MAX;
    int live = NPROD;
    while (live > 0) {
        struct dshq_slot s;
        rc = dshq_lane_poll(c, 50 * 1000 * 1000, &s);
        if (rc == DSHQ_RING_EMPTY) {
            /* Finished only when every producer exited and nothing is left. */
            for (uint32_t i = 0; i < NPROD; i++)
                if (pids[i] > 0) {
                    int st;
                    pid_t w = waitpid(pids[i], &st, WNOHANG);
                    if (w == pids[i]) {
                        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "producer %u: 0x%x", i, st);
                        pids[i] = 0;
                        live--;
                    }
                }
            continue;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK(s.lane < NPROD);
        CHECK_EQ_U64(s.seq, received[s.lane]); /* lane order, nothing skipped */
        struct dshq_chunk_header h;
        ru_chunk_verify(&layout, s.data, &h);
        CHECK_EQ_INT(h.producer_id, s.lane);
        CHECK_MSG(last_hseq[s.lane] == UINT64_MAX || h.seq > last_hseq[s.lane],
                  "lane %u: seq %llu after %llu", s.lane, (unsigned long long)h.seq,
                  (unsigned long long)last_hseq[s.lane]);
        if (policy == DSHQ_RING_BLOCK)
            CHECK_EQ_U64(h.seq, s.seq); /* nothing lost: no gaps either */
        CHECK_EQ_U64(h.policy_version, 1000 + h.seq / 100);
        last_hseq[s.lane] = h.seq;
        received[s.lane]++;
        bytes += s.size;
        CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
    }
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &s), DSHQ_RING_EMPTY);

    struct dshq_ring_stats rs;
    struct dshq_lane_stats ls[NPROD];
    CHECK_EQ_INT(dshq_lanes_stats(sec, size, &rs, ls, NPROD), 0);
    uint64_t total_dropped = 0;
    for (uint32_t i = 0; i < NPROD; i++) {
        uint64_t att = atomic_load(&results[i].attempted);
        uint64_t com = atomic_load(&results[i].committed);
        CHECK(atomic_load(&results[i].done) == 1);
        CHECK_EQ_U64(received[i], com);
        CHECK_EQ_U64(ls[i].committed, com);
        CHECK_EQ_U64(ls[i].consumed, com);
        CHECK_EQ_U64(ls[i].fill, 0);
        CHECK_EQ_U64(ls[i].dropped, att - com); /* losses == the counter */
        CHECK_EQ_INT(ls[i].owner_pid, 0);        /* closed cleanly */
        CHECK_EQ_U64(ls[i].reclaims, 0);
        if (policy == DSHQ_RING_BLOCK)
            CHECK_EQ_U64(ls[i].dropped, 0);
        else
            CHECK(ls[i].dropped > 0);
        total_dropped += ls[i].dropped;
        fprintf(stderr, "lane %u: attempted %llu committed %llu dropped %llu blocked %llu\n", i,
                (unsigned long long)att, (unsigned long long)com,
                (unsigned long long)ls[i].dropped, (unsigned long long)ls[i].blocked);
    }
    CHECK_EQ_U64(rs.dropped, total_dropped);
    fprintf(stderr, "%s: %llu chunks, %llu MiB verified\n",
            policy == DSHQ_RING_DROP ? "drop" : "block",
            (unsigned long long)rs.consumed, (unsigned long long)(bytes >> 20));
    dshq_lane_consumer_close(c);
    dshq_region_destroy(r);
}

int main(void)
{
    /* 16 steps x 8 envs x 20 floats: a 13 KiB chunk. */
    CHECK_EQ_INT(dshq_chunk_layout_init(&layout, 16, 8, 20, 0x5eed), 0);
    /* Both wake modes: membarrier (where the kernel has it) and seq_cst. */
    for (int m = 0; m < 2; m++) {
        uint32_t flags = m ? DSHQ_RING_FORCE_SEQCST : 0;
        run(DSHQ_RING_BLOCK, flags);
        run(DSHQ_RING_DROP, flags);
    }
    return 0;
}
