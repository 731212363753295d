/* Weights channel, one process, exact states: layout and validation, the
 * writer/reader life cycle, views that survive any number of publishes, the
 * writer's choice of buffer against pins and claims (claims stolen, claims
 * promoted), copy-out, and wait-for-version. */
#include <errno.h>
#include <sys/wait.h>

#include "check.h"
#include "weights_util.h"
#include "dshq/error.h"
#include "dshq/wait.h"

#define N 3000u /* floats: 12000 bytes, not a page multiple */
#define R 2u

static struct dshq_weights_slot *slot_of(void *sec, uint32_t i)
{
    struct dshq_weights_ctrl *c = sec;
    return (struct dshq_weights_slot *)((unsigned char *)sec + c->slots_offset) + i;
}

static uint32_t buffer_of(void *sec, const float *p)
{
    struct dshq_weights_ctrl *c = sec;
    return (uint32_t)(((const unsigned char *)p - ((unsigned char *)sec + c->data_offset)) /
                      c->data_stride);
}

static void test_layout(void)
{
    CHECK_EQ_U64(dshq_weights_layout(0, 1), 0);
    CHECK_EQ_U64(dshq_weights_layout(1, 0), 0);
    CHECK_EQ_U64(dshq_weights_layout(1, DSHQ_WEIGHTS_MAX_READERS + 1), 0);
    CHECK_EQ_U64(dshq_weights_layout(DSHQ_WEIGHTS_MAX_PARAMS + 1, 1), 0);
    /* 1 reader: ctrl 192 + 3 stamps + 1 slot < 4096, then 3 buffers of 4096. */
    CHECK_EQ_U64(dshq_weights_layout(1, 1), 4096 + 3 * 4096);
    CHECK_EQ_U64(dshq_weights_layout(1024, 1), 4096 + 3 * 4096);
    CHECK_EQ_U64(dshq_weights_layout(1025, 1), 4096 + 3 * 8192);
    uint64_t big = dshq_weights_layout(16u << 20, 4);
    CHECK_EQ_U64(big, 4096 + 6 * (UINT64_C(64) << 20));
    CHECK_EQ_U64(dshq_weights_layout(N, R) % 4096, 0);

    /* init refuses bad memory; open refuses what init did not write. */
    static unsigned char mem[16 * 4096] __attribute__((aligned(4096)));
    uint64_t need = dshq_weights_layout(N, R);
    CHECK(need <= sizeof mem);
    CHECK_EQ_INT(dshq_weights_init(mem + 64, sizeof mem - 64, N, R, 1), -EINVAL);
    CHECK_EQ_INT(dshq_weights_init(mem, need - 1, N, R, 1), -ENOSPC);
    CHECK_EQ_INT(dshq_weights_init(mem, need, 0, R, 1), -EINVAL);
    struct dshq_weights *ch;
    memset(mem, 0, sizeof mem);
    CHECK_EQ_INT(dshq_weights_open(mem, sizeof mem, &ch), DSHQ_ECORRUPT);
    CHECK_EQ_INT(dshq_weights_init(mem, need, N, R, 1), 0);
    CHECK_EQ_INT(dshq_weights_open(mem, need - 1, &ch), DSHQ_ECORRUPT);
    CHECK_EQ_INT(dshq_weights_open(mem, 100, &ch), DSHQ_ECORRUPT);
    struct dshq_weights_ctrl *c = (void *)mem;
    c->layout_version = 1; /* the layout before `current` and grants */
    CHECK_EQ_INT(dshq_weights_open(mem, need, &ch), DSHQ_EABIMAJOR);
    c->layout_version = DSHQ_WEIGHTS_VERSION + 1;
    CHECK_EQ_INT(dshq_weights_open(mem, need, &ch), DSHQ_EABIMAJOR);
    c->layout_version = DSHQ_WEIGHTS_VERSION;
    c->data_stride += 4096; /* a lying offset is never followed */
    CHECK_EQ_INT(dshq_weights_open(mem, sizeof mem, &ch), DSHQ_ECORRUPT);
    c->data_stride -= 4096;
    c->max_readers = 63;
    CHECK_EQ_INT(dshq_weights_open(mem, sizeof mem, &ch), DSHQ_ECORRUPT);
    c->max_readers = R;
    CHECK_EQ_INT(dshq_weights_open(mem, need, &ch), 0);
    CHECK_EQ_U64(dshq_weights_param_count(ch), N);
    dshq_weights_close(ch);
}

static void test_lifecycle(void)
{
    const uint64_t shape = dshq_shape_hash("weights/v1;params=3000;test");
    struct wt_region wr;
    wt_create(&wr, NULL, N, R, shape, 0);
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &ch), 0);

    /* Nothing published yet. */
    struct dshq_weights_reader *ra, *rb;
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, shape, &ra), 0);
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &rb), 0);
    CHECK(dshq_weights_reader_slot(ra) != dshq_weights_reader_slot(rb));
    struct dshq_weights_view va, vb = {0};
    CHECK_EQ_INT(dshq_weights_adopt(ra, &va), DSHQ_WEIGHTS_SAME);
    CHECK(va.params == NULL);
    CHECK_EQ_U64(va.version, 0);
    static float out[N];
    CHECK_EQ_INT(dshq_weights_copy_out(ch, 0, out, N, NULL), -ENODATA);
    CHECK_EQ_INT(dshq_weights_copy_out(ch, 0, out, N - 1, NULL), -EINVAL);
    CHECK_EQ_U64(dshq_weights_version(ch), 0);

    /* One writer at a time; commit needs a begin. */
    struct dshq_weights_writer *w, *w2;
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w2), -EBUSY);
    CHECK_EQ_INT(dshq_weights_publish_commit(w, 1), -EINVAL);
    dshq_weights_writer_detach(w);
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);

    /* Begin twice: the same buffer. */
    float *p1, *p2;
    CHECK_EQ_INT(dshq_weights_publish_begin(w, &p1), 0);
    CHECK_EQ_INT(dshq_weights_publish_begin(w, &p2), 0);
    CHECK(p1 == p2);
    weights_fill(p1, N, 1);
    CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(1)), 1);
    CHECK_EQ_U64(dshq_weights_version(ch), 1);

    CHECK_EQ_INT(dshq_weights_adopt(ra, &va), DSHQ_WEIGHTS_NEW);
    CHECK(va.params == p1);
    CHECK_EQ_U64(va.version, 1);
    CHECK_EQ_U64(va.step, weights_step(1));
    CHECK_EQ_U64(va.shape_hash, shape);
    CHECK_EQ_U64(va.param_count, N);
    CHECK_EQ_U64(weights_verify(va.params, N, 1), N);
    struct dshq_weights_view again;
    CHECK_EQ_INT(dshq_weights_adopt(ra, &again), DSHQ_WEIGHTS_SAME);
    CHECK(again.params == va.params && again.version == 1);

    /* ra holds v1 while the writer publishes 200 times and rb adopts every
     * other one: no begin ever hands out a held buffer, and both views stay
     * intact. */
    uint32_t nbuf = R + 2;
    for (uint64_t v = 2; v <= 201; v++) {
        float *p;
        CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
        CHECK(p != va.params);
        if (vb.params)
            CHECK(p != vb.params);
        CHECK(buffer_of(wr.sec, p) < nbuf);
        weights_fill(p, N, v);
        CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(v)), (int64_t)v);
        if (v % 2 == 0) {
            CHECK_EQ_INT(dshq_weights_adopt(rb, &vb), DSHQ_WEIGHTS_NEW);
            CHECK_EQ_U64(vb.version, v);
        }
        CHECK_EQ_U64(weights_verify(va.params, N, 1), N);
        CHECK_EQ_U64(weights_verify(vb.params, N, vb.version), N);
    }
    CHECK_EQ_INT(dshq_weights_adopt(ra, &va), DSHQ_WEIGHTS_NEW);
    CHECK_EQ_U64(va.version, 201);
    CHECK_EQ_U64(weights_verify(va.params, N, 201), N);

    /* Copy-out: the newest, exact, with its stamp. */
    struct dshq_weights_info info;
    CHECK_EQ_INT(dshq_weights_copy_out(ch, shape, out, N, &info), 0);
    CHECK_EQ_U64(info.version, 201);
    CHECK_EQ_U64(info.step, weights_step(201));
    CHECK_EQ_U64(weights_verify(out, N, 201), N);

    /* Stats: who holds what. */
    struct dshq_weights_stats st;
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.version, 201);
    CHECK_EQ_U64(st.step, weights_step(201));
    CHECK_EQ_U64(st.shape_hash, shape);
    CHECK_EQ_U64(st.buffer_count, R + 2);
    CHECK_EQ_U64(st.readers, 2);
    CHECK_EQ_INT(st.writer_pid, getpid());
    CHECK_EQ_INT(st.writer_alive, 1);
    CHECK_EQ_U64(st.reader[dshq_weights_reader_slot(ra)].held, va.buffer);
    CHECK_EQ_U64(st.reader[dshq_weights_reader_slot(ra)].version, 201);
    CHECK_EQ_U64(st.reader[dshq_weights_reader_slot(rb)].held, vb.buffer);
    CHECK_EQ_U64(st.reader[dshq_weights_reader_slot(ra)].adoptions, 2);
    CHECK_EQ_U64(st.buffer_version[va.buffer], 201);
    CHECK_EQ_U64(st.active_idx, va.buffer);

    /* Release: the pin goes, the next adopt pins again. */
    dshq_weights_release(rb);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.reader[dshq_weights_reader_slot(rb)].held, DSHQ_WEIGHTS_NONE);
    CHECK_EQ_INT(dshq_weights_adopt(rb, &vb), DSHQ_WEIGHTS_NEW);
    CHECK_EQ_U64(vb.version, 201);

    /* ---- The writer's choice against exact pin/claim states (R = 2, 4
     * buffers).  ra and rb both hold the active buffer a = 201's. */
    uint32_t a = va.buffer;
    struct dshq_weights_slot *sb = slot_of(wr.sec, dshq_weights_reader_slot(rb));
    dshq_weights_release(rb);
    /* rb "mid-adopt": holds x, claims the buffer the writer wants next
     * (round-robin after a).  The writer redirects the claim to its active
     * buffer a, as a grant (the reader would adopt a), and uses want. */
    uint32_t x = (a + 2) % nbuf, want = (a + 1) % nbuf;
    atomic_store(&sb->pins, (uint64_t)x | (uint64_t)want << 32);
    float *p;
    CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
    CHECK_EQ_U64(buffer_of(wr.sec, p), want);
    uint64_t pins = atomic_load(&sb->pins);
    CHECK_EQ_U64((uint32_t)pins, x);
    CHECK_EQ_U64(DSHQ_WEIGHTS_PENDING_BUFFER(pins >> 32), a);
    CHECK((pins >> 32) & DSHQ_WEIGHTS_GRANT);
    /* A grant is not a pin: the next begin redirects it again, with
     * another tag, when it wants that buffer. */
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.claims_stolen, 1);
    weights_fill(p, N, 202);
    CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(202)), 202);
    /* Now active = want; ra holds a, rb holds x: the only free buffer is the
     * fourth one, whatever round-robin would prefer. */
    uint32_t fourth = 0;
    while (fourth == a || fourth == x || fourth == want)
        fourth++;
    CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
    CHECK_EQ_U64(buffer_of(wr.sec, p), fourth);
    weights_fill(p, N, 203);
    CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(203)), 203);
    /* Every buffer is active or held, plus a claim on want: the writer
     * still gets one (want: not active any more, only claimed) at once. */
    atomic_store(&sb->pins, (uint64_t)x | (uint64_t)want << 32);
    CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
    CHECK_EQ_U64(buffer_of(wr.sec, p), want);
    weights_fill(p, N, 204);
    CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(204)), 204);
    CHECK_EQ_U64(weights_verify(va.params, N, 201), N); /* ra's view: untouched */
    /* A claim promoted to a pin is never taken. */
    atomic_store(&sb->pins, (uint64_t)fourth | (uint64_t)DSHQ_WEIGHTS_NONE << 32);
    CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
    CHECK(buffer_of(wr.sec, p) != fourth && buffer_of(wr.sec, p) != a &&
          buffer_of(wr.sec, p) != want);
    CHECK_EQ_U64(buffer_of(wr.sec, p), x);
    weights_fill(p, N, 205);
    CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(205)), 205);
    atomic_store(&sb->pins, (uint64_t)DSHQ_WEIGHTS_NONE | (uint64_t)DSHQ_WEIGHTS_NONE << 32);

    /* publish() = begin + copy + commit. */
    static float src[N];
    weights_fill(src, N, 206);
    CHECK_EQ_INT(dshq_weights_publish(w, src, weights_step(206)), 206);
    CHECK_EQ_INT(dshq_weights_adopt(ra, &va), DSHQ_WEIGHTS_NEW);
    CHECK_EQ_U64(va.version, 206);
    CHECK_EQ_U64(weights_verify(va.params, N, 206), N);

    dshq_weights_reader_detach(ra);
    dshq_weights_reader_detach(rb);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.readers, 0);
    dshq_weights_writer_detach(w);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_INT(st.writer_pid, 0);
    dshq_weights_close(ch);
    dshq_region_destroy(wr.r);
}

static void test_wait(void)
{
    struct wt_region wr;
    wt_create(&wr, NULL, N, R, 1, 0);
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &ch), 0);
    CHECK_EQ_INT(dshq_weights_wait(ch, 0, 20 * 1000000), -ETIMEDOUT);
    CHECK_EQ_INT(dshq_weights_wait(ch, 0, 0), -ETIMEDOUT);
    /* A child (the writer) publishes after 50 ms; we sleep until then. */
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        struct dshq_weights *cc;
        struct dshq_weights_writer *w;
        CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &cc), 0);
        CHECK_EQ_INT(dshq_weights_writer_attach(cc, &w), 0);
        usleep(50 * 1000);
        wt_publish(w, N, 1);
        dshq_weights_writer_detach(w);
        _exit(0);
    }
    uint64_t t0 = dshq_now_ns();
    CHECK_EQ_INT(dshq_weights_wait(ch, 0, INT64_C(10) * 1000000000), 0);
    CHECK(dshq_now_ns() - t0 < UINT64_C(10) * 1000000000);
    CHECK_EQ_U64(dshq_weights_version(ch), 1);
    CHECK_EQ_INT(dshq_weights_wait(ch, 0, 0), 0); /* already newer: no sleep */
    int st;
    CHECK_EQ_INT(waitpid(c, &st, 0), c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    dshq_weights_close(ch);
    dshq_region_destroy(wr.r);
}

int main(void)
{
    test_layout();
    test_lifecycle();
    test_wait();
    puts("weights basic: ok");
    return 0;
}
