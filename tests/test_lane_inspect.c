/* test_lane_inspect.c — `dshq inspect` shows the rollout counters: a region
 * with a lanes section and an MPSC section in known states (committed,
 * consumed, dropped, fill, a dead lane owner) is inspected read-only, as
 * JSON and as text, and every expected counter must appear with its value. */
#include <errno.h>

#include "check.h"
#include "dshq/error.h"
#include "rollout_util.h"

static char *run_inspect(const char *name, int json)
{
    const char *dshq = getenv("DSHQ");
    if (!dshq || access(dshq, X_OK) != 0) {
        fprintf(stderr, "skip: DSHQ (the dshq tool) not set; run through make test\n");
        exit(TEST_SKIP);
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s inspect %s %s", dshq, json ? "--json" : "", name);
    FILE *f = popen(cmd, "r");
    CHECK(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    CHECK_EQ_INT(pclose(f), 0);
    return buf;
}

static void expect(const char *text, const char *needle)
{
    CHECK_MSG(strstr(text, needle) != NULL, "'%s' not in:\n%s", needle, text);
}

int main(void)
{
    char name[64];
    test_region_name(name, sizeof name, "linspect");
    struct dshq_ring_params lp = {.slot_size = 256, .capacity = 4, .producers = 2,
                                  .policy = DSHQ_RING_DROP};
    struct dshq_ring_params mp = {.slot_size = 64, .capacity = 8, .producers = 3,
                                  .policy = DSHQ_RING_BLOCK};
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_LANES, "rollouts", DSHQ_LANES_VERSION,
                          dshq_lanes_size(&lp), DSHQ_PAGE_ALIGN, 0) >= 0);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_MPSC, "records", DSHQ_MPSC_VERSION,
                          dshq_mpsc_size(&mp), DSHQ_PAGE_ALIGN, 0) >= 0);
    struct dshq_region *r;
    ru_guard_region(name);
    int rc = dshq_region_create(name, &l, 0, &r);
    CHECK_MSG(rc == 0, "%s", dshq_strerror(rc));
    void *ls_sec, *mp_sec;
    uint64_t ls_size, mp_size;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_LANES, "rollouts", 0, &ls_sec, &ls_size), 0);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_MPSC, "records", 0, &mp_sec, &mp_size), 0);
    CHECK_EQ_INT(dshq_lanes_init(ls_sec, ls_size, &lp), 0);
    CHECK_EQ_INT(dshq_mpsc_init(mp_sec, mp_size, &mp), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);

    /* Lane 1: 4 committed (full), 3 dropped, 1 consumed -> fill 3. */
    struct dshq_lane_producer *p;
    struct dshq_lane_consumer *c;
    CHECK_EQ_INT(dshq_lane_producer_open(ls_sec, ls_size, 1, &p), 0);
    CHECK_EQ_INT(dshq_lane_consumer_open(ls_sec, ls_size, &c), 0);
    struct dshq_slot s;
    for (int i = 0; i < 7; i++)
        if (dshq_lane_claim(p, 0, &s) == 0)
            CHECK_EQ_INT(dshq_lane_commit(p), 0);
    CHECK_EQ_INT(dshq_lane_poll(c, 0, &s), 0);
    CHECK_EQ_INT(dshq_lane_release(c, &s), 0);
    /* Lane 0: owned by a child that died. */
    pid_t k = ru_fork();
    CHECK(k >= 0);
    if (k == 0) {
        struct dshq_region *cr;
        void *sec;
        uint64_t sz;
        CHECK_EQ_INT(dshq_region_attach(name, 0, 0, &cr), 0);
        CHECK_EQ_INT(dshq_region_find(cr, DSHQ_SECTION_LANES, "rollouts", 0, &sec, &sz), 0);
        struct dshq_lane_producer *cp;
        CHECK_EQ_INT(dshq_lane_producer_open(sec, sz, 0, &cp), 0);
        _exit(0); /* without closing: the lane keeps a dead owner */
    }
    ru_wait_ok(k);
    /* MPSC: 5 committed, 2 consumed. */
    struct dshq_mpsc_producer *mpp;
    struct dshq_mpsc_consumer *mpc;
    CHECK_EQ_INT(dshq_mpsc_producer_open(mp_sec, mp_size, &mpp), 0);
    CHECK_EQ_INT(dshq_mpsc_consumer_open(mp_sec, mp_size, &mpc), 0);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(dshq_mpsc_claim(mpp, 0, &s), 0);
        CHECK_EQ_INT(dshq_mpsc_commit(mpp), 0);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(dshq_mpsc_poll(mpc, 0, &s), 0);
        CHECK_EQ_INT(dshq_mpsc_release(mpc, &s), 0);
    }

    char *j = run_inspect(name, 1);
    char want[128];
    expect(j, "\"kind\":\"lanes\"");
    expect(j, "\"policy\":\"drop\"");
    expect(j, "\"lanes\":2");
    expect(j, "\"committed\":4,\"consumed\":1,\"dropped\":3,\"blocked\":0,\"unblocked\":0,\"fill\":3");
    expect(j, "\"lane\":1,");
    expect(j, "\"committed\":4,\"consumed\":1,\"fill\":3,\"claimed\":0,\"dropped\":3");
    snprintf(want, sizeof want, "\"lane\":0,\"owner_pid\":%d,\"owner\":\"dead\"", (int)k);
    expect(j, want);
    snprintf(want, sizeof want, "\"lane\":1,\"owner_pid\":%d,\"owner\":\"alive\"", (int)getpid());
    expect(j, want);
    expect(j, "\"kind\":\"mpsc\"");
    expect(j, "\"policy\":\"block\"");
    expect(j, "\"reserved\":5");
    expect(j, "\"committed\":5,\"consumed\":2,\"dropped\":0,\"blocked\":0,\"unblocked\":0,\"fill\":3");
    snprintf(want, sizeof want, "\"entry\":0,\"owner_pid\":%d,\"owner\":\"alive\",\"committed\":5",
             (int)getpid());
    expect(j, want);

    char *t = run_inspect(name, 0);
    if (getenv("DSHQ_TEST_VERBOSE"))
        fputs(t, stderr);
    expect(t, "dropped");
    expect(t, "unblocked");
    expect(t, "fill");

    dshq_mpsc_producer_close(mpp);
    dshq_mpsc_consumer_close(mpc);
    dshq_lane_producer_close(p);
    dshq_lane_consumer_close(c);
    dshq_region_destroy(r);
    return 0;
}
