/* test_mpsc_fullwrap.c — a claim that finds the ring full by its cached
 * tail, and is held between its load of `reserve` and its reload of `tail`
 * while another producer reserves and the consumer releases past the
 * position it loaded, must not see a full ring: the ring is empty.  The
 * interleaving is built exactly, in one thread, by compiling mpsc.c here
 * with its test hook (MPSC_TEST_HOOK) running the other parties at that
 * step.  Both policies: DROP must not count a drop, BLOCK with a zero
 * timeout must not fail. */
#include "check.h"
#include "rollout_util.h"

struct dshq_mpsc_producer;
static void hook_at(int step, struct dshq_mpsc_producer *p);
#define MPSC_TEST_HOOK(step, p) hook_at((step), (p))
#include "transport/mpsc.c"

static struct dshq_mpsc_producer *g_victim, *g_other;
static struct dshq_mpsc_consumer *g_cons;
static int g_fired, g_in_hook;
static uint64_t g_next; /* next position the consumer expects */

static void consume_one(void)
{
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_mpsc_poll(g_cons, 0, &s), 0);
    CHECK_EQ_U64(s.seq, g_next);
    int64_t bad = ru_verify(s.data, s.size, ru_key(7, s.seq));
    CHECK_MSG(bad < 0, "seq %llu byte %lld", (unsigned long long)s.seq, (long long)bad);
    CHECK_EQ_INT(dshq_mpsc_release(g_cons, &s), 0);
    g_next++;
}

static void produce_one(struct dshq_mpsc_producer *p)
{
    struct dshq_slot s;
    CHECK_EQ_INT(dshq_mpsc_claim(p, 0, &s), 0);
    ru_fill(s.data, s.size, ru_key(7, s.seq));
    CHECK_EQ_INT(dshq_mpsc_commit(p), 0);
}

/* At the victim's step "full by cache, about to reload tail": the consumer
 * empties the ring, the other producer puts one slot, the consumer takes
 * it: now reserve == tail == (what the victim loaded) + 1. */
static void hook_at(int step, struct dshq_mpsc_producer *p)
{
    if (g_in_hook || p != g_victim || step != MPSC_STEP_FULL_BY_CACHE || g_fired)
        return;
    g_in_hook = 1;
    g_fired = 1;
    while (g_next < atomic_load(&p->v.ctrl->reserve))
        consume_one();
    produce_one(g_other);
    consume_one();
    g_in_hook = 0;
}

static void run(uint32_t policy)
{
    enum { CAP = 4 };
    struct dshq_ring_params prm = {.slot_size = 64, .capacity = CAP, .producers = 2,
                                   .policy = policy};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ru_region(NULL, DSHQ_SECTION_MPSC, &prm, 0, &sec, &size);
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &g_victim), 0);
    CHECK_EQ_INT(dshq_mpsc_producer_open(sec, size, &g_other), 0);
    CHECK_EQ_INT(dshq_mpsc_consumer_open(sec, size, &g_cons), 0);
    g_fired = 0;
    g_next = 0;
    /* Fill the ring from the victim: its cached tail stays 0. */
    for (int i = 0; i < CAP; i++)
        produce_one(g_victim);
    struct dshq_slot s;
    int rc = dshq_mpsc_claim(g_victim, 0, &s);
    CHECK(g_fired); /* the hook ran: the interleaving was built */
    struct dshq_mpsc_ctrl *c = sec;
    CHECK_EQ_U64(atomic_load(&c->tail), CAP + 1);
    CHECK_MSG(rc == 0, "claim on an empty ring returned %d (policy %u)", rc, policy);
    CHECK_EQ_U64(s.seq, CAP + 1);
    ru_fill(s.data, s.size, ru_key(7, s.seq));
    CHECK_EQ_INT(dshq_mpsc_commit(g_victim), 0);
    consume_one();
    struct dshq_ring_stats st;
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &st, NULL, 0), 0);
    CHECK_EQ_U64(st.dropped, 0);
    CHECK_EQ_U64(st.committed, CAP + 2);
    CHECK_EQ_U64(st.consumed, CAP + 2);
    /* A real full ring still refuses (the fix must not hide it). */
    for (int i = 0; i < CAP; i++)
        produce_one(g_other);
    CHECK_EQ_INT(dshq_mpsc_claim(g_victim, 0, &s), DSHQ_RING_FULL);
    CHECK_EQ_INT(dshq_mpsc_stats(sec, size, &st, NULL, 0), 0);
    CHECK_EQ_U64(st.dropped, policy == DSHQ_RING_DROP ? 1 : 0);
    dshq_mpsc_producer_close(g_victim);
    dshq_mpsc_producer_close(g_other);
    dshq_mpsc_consumer_close(g_cons);
    dshq_region_destroy(r);
}

int main(void)
{
    run(DSHQ_RING_DROP);
    run(DSHQ_RING_BLOCK);
    printf("mpsc fullwrap: ok\n");
    return 0;
}
