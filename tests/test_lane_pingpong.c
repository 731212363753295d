/* test_lane_pingpong.c — no lost wake-ups.  Two processes bounce a token
 * through two rings (lanes, then MPSC rings; each wake mode), thousands of
 * times, each side delaying its answer by a random 0-300 us so that the
 * other has often gone from spinning to sleeping.  Every wait has a 5 s
 * limit: a wake-up lost by the arm/test/notify protocol shows up as a
 * timeout, and the token's value is checked on every hop. */
#include <errno.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

#define ROUNDS 2000
#define LIMIT_NS (5LL * 1000 * 1000 * 1000)

static void busy_wait_ns(uint64_t ns)
{
    uint64_t t0 = dshq_now_ns();
    while (dshq_now_ns() - t0 < ns)
        ;
}

struct side {
    int mpsc;
    struct dshq_lane_producer *lp;
    struct dshq_lane_consumer *lc;
    struct dshq_mpsc_producer *mp;
    struct dshq_mpsc_consumer *mc;
};

static void send(struct side *s, uint64_t v)
{
    struct dshq_slot slot;
    int rc = s->mpsc ? dshq_mpsc_claim(s->mp, LIMIT_NS, &slot) : dshq_lane_claim(s->lp, LIMIT_NS, &slot);
    CHECK_EQ_INT(rc, 0);
    memcpy(slot.data, &v, sizeof v);
    CHECK_EQ_INT(s->mpsc ? dshq_mpsc_commit(s->mp) : dshq_lane_commit(s->lp), 0);
}

static uint64_t receive(struct side *s)
{
    struct dshq_slot slot;
    int rc = s->mpsc ? dshq_mpsc_poll(s->mc, LIMIT_NS, &slot) : dshq_lane_poll(s->lc, LIMIT_NS, &slot);
    CHECK_MSG(rc == 0, "no token within 5 s: a lost wake-up (rc %d)", rc);
    uint64_t v;
    memcpy(&v, slot.data, sizeof v);
    CHECK_EQ_INT(s->mpsc ? dshq_mpsc_release(s->mc, &slot) : dshq_lane_release(s->lc, &slot), 0);
    return v;
}

/* Opens "out" as producer and "in" as consumer. */
static void side_open(struct side *s, int mpsc, void *out, uint64_t out_size, void *in,
                      uint64_t in_size)
{
    memset(s, 0, sizeof *s);
    s->mpsc = mpsc;
    if (mpsc) {
        CHECK_EQ_INT(dshq_mpsc_producer_open(out, out_size, &s->mp), 0);
        CHECK_EQ_INT(dshq_mpsc_consumer_open(in, in_size, &s->mc), 0);
    } else {
        CHECK_EQ_INT(dshq_lane_producer_open(out, out_size, 0, &s->lp), 0);
        CHECK_EQ_INT(dshq_lane_consumer_open(in, in_size, &s->lc), 0);
    }
}

static void side_close(struct side *s)
{
    dshq_lane_producer_close(s->lp);
    dshq_lane_consumer_close(s->lc);
    dshq_mpsc_producer_close(s->mp);
    dshq_mpsc_consumer_close(s->mc);
}

static void run(int mpsc, uint32_t flags)
{
    uint32_t kind = mpsc ? DSHQ_SECTION_MPSC : DSHQ_SECTION_LANES;
    struct dshq_ring_params p = {.slot_size = 64, .capacity = 2, .producers = 1,
                                 .policy = DSHQ_RING_BLOCK, .flags = flags};
    uint64_t need = mpsc ? dshq_mpsc_size(&p) : dshq_lanes_size(&p);
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, kind, "ping", 1, need, DSHQ_PAGE_ALIGN, 0) >= 0);
    CHECK(dshq_layout_add(&l, kind, "pong", 1, need, DSHQ_PAGE_ALIGN, 0) >= 0);
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_create_anon(&l, &r), 0);
    void *ping, *pong;
    uint64_t ping_size, pong_size;
    CHECK_EQ_INT(dshq_region_find(r, kind, "ping", 0, &ping, &ping_size), 0);
    CHECK_EQ_INT(dshq_region_find(r, kind, "pong", 0, &pong, &pong_size), 0);
    if (mpsc) {
        CHECK_EQ_INT(dshq_mpsc_init(ping, ping_size, &p), 0);
        CHECK_EQ_INT(dshq_mpsc_init(pong, pong_size, &p), 0);
    } else {
        CHECK_EQ_INT(dshq_lanes_init(ping, ping_size, &p), 0);
        CHECK_EQ_INT(dshq_lanes_init(pong, pong_size, &p), 0);
    }
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);

    pid_t kid = ru_fork();
    CHECK(kid >= 0);
    if (kid == 0) {
        struct side s;
        side_open(&s, mpsc, pong, pong_size, ping, ping_size);
        uint64_t rng = 12345;
        for (uint64_t i = 0; i < ROUNDS; i++) {
            uint64_t v = receive(&s);
            CHECK_EQ_U64(v, 2 * i);
            rng = ru_mix(rng);
            busy_wait_ns(rng % 300000);
            send(&s, v + 1);
        }
        side_close(&s);
        _exit(0);
    }
    struct side s;
    side_open(&s, mpsc, ping, ping_size, pong, pong_size);
    uint64_t rng = 777;
    for (uint64_t i = 0; i < ROUNDS; i++) {
        rng = ru_mix(rng);
        busy_wait_ns(rng % 300000);
        send(&s, 2 * i);
        CHECK_EQ_U64(receive(&s), 2 * i + 1);
    }
    ru_wait_ok(kid);
    side_close(&s);
    dshq_region_destroy(r);
}

int main(void)
{
    for (int mpsc = 0; mpsc < 2; mpsc++) {
        run(mpsc, 0);
        run(mpsc, DSHQ_RING_FORCE_SEQCST);
    }
    return 0;
}
