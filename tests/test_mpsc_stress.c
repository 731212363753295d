/* test_mpsc_stress.c — N producer processes x M chunks into one MPSC ring of
 * a named region; this process consumes.  Every byte is checked; positions
 * come out contiguous and in order; each producer's sequence numbers (its
 * own and its ring positions) strictly increase; block mode loses nothing,
 * drop mode loses exactly what the producers' `dropped` counters say. */
#include <errno.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

#define NPROD 3
#define M 20000
#define DEADLINE_NS (20LL * 1000 * 1000 * 1000)

struct result {
    _Atomic uint64_t attempted;
    _Atomic uint64_t committed;
    _Atomic uint64_t done;
    _Atomic uint64_t entry; /* its index in the producer table */
    uint64_t pad[4];
};

static struct dshq_chunk_layout layout;

static int producer(const char *name, uint32_t id, uint32_t policy)
{
    void *sec, *res;
    uint64_t size;
    struct dshq_region *r = ru_attach(name, DSHQ_SECTION_MPSC, &sec, &size);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_RAW, "results", 0, &res, NULL), 0);
    struct result *out = (struct result *)res + id;
    struct dshq_mpsc_producer *p;
    /* Its own identity: one that finished and closed before another opened
     * would otherwise hand it its entry and counters. */
    CHECK_EQ_INT(dshq_mpsc_producer_open_id(sec, size, id, &p), 0);
    uint64_t t0 = dshq_now_ns(), committed = 0, seq, last_pos = UINT64_MAX;
    for (seq = 0; seq < M && dshq_now_ns() - t0 < DEADLINE_NS; seq++) {
        struct dshq_slot s;
        int rc = dshq_mpsc_claim(p, 5LL * 1000 * 1000 * 1000, &s);
        atomic_store(&out->attempted, seq + 1);
        if (rc == DSHQ_RING_FULL) {
            CHECK(policy == DSHQ_RING_DROP);
            usleep(20);
            continue;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK(last_pos == UINT64_MAX || s.seq > last_pos);
        last_pos = s.seq;
        atomic_store(&out->entry, s.lane);
        ru_chunk_fill(&layout, s.data, id, seq, s.seq); /* policy_version := position */
        CHECK_EQ_INT(dshq_mpsc_commit(p), 0);
        atomic_store(&out->committed, ++committed);
    }
    atomic_store(&out->done, 1);
    dshq_mpsc_producer_close(p);
    dshq_region_detach(r);
    return 0;
}

static void run(uint32_t policy, uint32_t flags)
{
    char name[64];
    test_region_name(name, sizeof name, policy == DSHQ_RING_DROP ? "mstress-drop" : "mstress-blk");
    struct dshq_ring_params p = {.slot_size = layout.bytes, .capacity = 8, .producers = 4,
                                 .policy = policy, .flags = flags};
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_MPSC, "ring", DSHQ_MPSC_VERSION, dshq_mpsc_size(&p),
                          DSHQ_PAGE_ALIGN, layout.shape_hash) >= 0);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_RAW, "results", 1, NPROD * sizeof(struct result),
                          64, 0) >= 0);
    struct dshq_region *r;
    int rc = dshq_region_create(name, &l, 0, &r);
    CHECK_MSG(rc == 0, "%s", dshq_strerror(rc));
    void *sec, *res;
    uint64_t size;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_MPSC, "ring", layout.shape_hash, &sec, &size), 0);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_RAW, "results", 0, &res, NULL), 0);
    CHECK_EQ_INT(dshq_mpsc_init(sec, size, &p), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    struct result *results = res;
    struct dshq_mpsc_consumer *c;
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &c), 0);

    pid_t pids[NPROD];
    for (uint32_t i = 0; i < NPROD; i++) {
        pids[i] = ru_fork();
        CHECK(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(producer(name, i, policy));
    }
    if (policy == DSHQ_RING_DROP) {
        /* Nothing consumed until every producer has seen the ring full. */
        uint64_t t0 = dshq_now_ns();
        for (uint32_t i = 0; i < NPROD; i++)
            while (atomic_load(&results[i].attempted) - atomic_load(&results[i].committed) == 0 &&
                   !atomic_load(&results[i].done) && dshq_now_ns() - t0 < DEADLINE_NS)
                usleep(1000);
    }

    uint64_t received[NPROD] = {0}, last_hseq[NPROD], last_pos[NPROD], next_pos = 0;
    for (uint32_t i = 0; i < NPROD; i++)
        last_hseq[i] = last_pos[i] = UINT64_MAX;
    int live = NPROD;
    while (live > 0) {
        struct dshq_slot s;
        rc = dshq_mpsc_poll(c, 50 * 1000 * 1000, &s);
        if (rc == DSHQ_RING_EMPTY) {
            for (uint32_t i = 0; i < NPROD; i++)
                if (pids[i] > 0) {
                    int st;
                    if (waitpid(pids[i], &st, WNOHANG) == pids[i]) {
                        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "producer %u: 0x%x", i, st);
                        pids[i] = 0;
                        live--;
                    }
                }
            continue;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_U64(s.seq, next_pos); /* in order, none skipped */
        next_pos++;
        struct dshq_chunk_header h;
        ru_chunk_verify(&layout, s.data, &h);
        uint32_t id = h.producer_id;
        CHECK(id < NPROD);
        CHECK_EQ_U64(h.policy_version, s.seq);
        CHECK(last_hseq[id] == UINT64_MAX || h.seq > last_hseq[id]);
        CHECK(last_pos[id] == UINT64_MAX || s.seq > last_pos[id]);
        if (policy == DSHQ_RING_BLOCK)
            CHECK_EQ_U64(h.seq, received[id]);
        last_hseq[id] = h.seq;
        last_pos[id] = s.seq;
        received[id]++;
        CHECK_EQ_INT(dshq_mpsc_release(c, &s), 0);
    }
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_mpsc_poll(c, 0, &s), DSHQ_RING_EMPTY);

    struct dshq_ring_stats rs;
    struct dshq_lane_stats ps[4];
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &rs, ps, 4), 0);
    uint64_t total = 0, dropped = 0;
    for (uint32_t i = 0; i < NPROD; i++) {
        uint64_t att = atomic_load(&results[i].attempted);
        uint64_t com = atomic_load(&results[i].committed);
        uint64_t e = atomic_load(&results[i].entry);
        CHECK(e < 4);
        CHECK_EQ_U64(received[i], com);
        CHECK_EQ_U64(ps[e].committed, com);
        CHECK_EQ_U64(ps[e].dropped, att - com);
        if (policy == DSHQ_RING_BLOCK)
            CHECK_EQ_U64(com, att);
        else
            CHECK(ps[e].dropped > 0);
        total += com;
        dropped += att - com;
        fprintf(stderr, "producer %u (entry %llu): attempted %llu committed %llu dropped %llu "
                "blocked %llu\n", i, (unsigned long long)e, (unsigned long long)att,
                (unsigned long long)com, (unsigned long long)ps[e].dropped,
                (unsigned long long)ps[e].blocked);
    }
    CHECK_EQ_U64(rs.committed, total);
    CHECK_EQ_U64(rs.consumed, total);
    CHECK_EQ_U64(rs.reserved, total);
    CHECK_EQ_U64(rs.fill, 0);
    CHECK_EQ_U64(rs.dropped, dropped);
    CHECK_EQ_U64(rs.unblocked, 0);
    dshq_mpsc_consumer_close(c);
    dshq_region_destroy(r);
}

int main(void)
{
    /* 4 steps x 4 envs x 10 floats: a 1 KiB chunk. */
    CHECK_EQ_INT(dshq_chunk_layout_init(&layout, 4, 4, 10, 0), 0);
    /* Both wake modes: membarrier (where the kernel has it) and seq_cst. */
    for (int m = 0; m < 2; m++) {
        uint32_t flags = m ? DSHQ_RING_FORCE_SEQCST : 0;
        run(DSHQ_RING_BLOCK, flags);
        run(DSHQ_RING_DROP, flags);
    }
    return 0;
}
