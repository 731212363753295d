/* Weights channel, kill -9 of a reader holding a view: while it is dead and
 * unreclaimed the writer keeps publishing at full speed without touching
 * its buffer; an explicit reclaim frees its slot and pin, and the buffer is
 * then filled again.  A second victim is found by the writer itself: its
 * publish_begin looks for dead readers once a second. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "weights_util.h"
#include "dshq/error.h"
#include "dshq/wait.h"

#define N 10000u
#define R 3u

struct hold_msg {
    uint32_t buffer;
    uint32_t slot;
    uint64_t version;
};

/* Forks a reader that adopts the newest snapshot, reports which buffer it
 * holds, and sleeps holding it until killed. */
static pid_t spawn_holder(const char *name, struct hold_msg *m)
{
    int fd[2];
    CHECK_EQ_INT(pipe(fd), 0);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        close(fd[0]);
        struct wt_region cw;
        wt_attach(&cw, name);
        struct dshq_weights *cc;
        struct dshq_weights_reader *cr;
        struct dshq_weights_view v;
        CHECK_EQ_INT(dshq_weights_open(cw.sec, cw.size, &cc), 0);
        CHECK_EQ_INT(dshq_weights_reader_attach(cc, 0, &cr), 0);
        CHECK_EQ_INT(dshq_weights_adopt(cr, &v), DSHQ_WEIGHTS_NEW);
        CHECK_EQ_U64(weights_verify(v.params, N, v.version), N);
        struct hold_msg msg = {v.buffer, dshq_weights_reader_slot(cr), v.version};
        CHECK_EQ_INT(write(fd[1], &msg, sizeof msg), (int)sizeof msg);
        for (;;)
            pause();
    }
    close(fd[1]);
    CHECK_EQ_INT(read(fd[0], m, sizeof *m), (int)sizeof *m);
    close(fd[0]);
    return c;
}

static void kill_and_reap(pid_t c)
{
    int st;
    CHECK_EQ_INT(kill(c, SIGKILL), 0);
    CHECK_EQ_INT(waitpid(c, &st, 0), c);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

int main(void)
{
    char name[64];
    test_region_name(name, sizeof name, "wkill");
    struct wt_region wr;
    wt_create(&wr, name, N, R, 1, 0);
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &ch), 0);
    struct dshq_weights_writer *w;
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);
    uint64_t v = 0;
    wt_publish(w, N, ++v);

    /* 1. The victim holds v1's buffer. */
    struct hold_msg m;
    pid_t victim = spawn_holder(name, &m);
    CHECK_EQ_U64(m.version, 1);
    const struct dshq_weights_ctrl *c = wr.sec;
    const float *held = (const float *)((unsigned char *)wr.sec + c->data_offset +
                                        (uint64_t)m.buffer * c->data_stride);
    struct dshq_weights_stats st;
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_INT(st.reader[m.slot].pid, victim);
    CHECK_EQ_INT(st.reader[m.slot].alive, 1);
    CHECK_EQ_U64(st.reader[m.slot].held, m.buffer);

    kill_and_reap(victim);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_INT(st.reader[m.slot].pid, victim);
    CHECK_EQ_INT(st.reader[m.slot].alive, 0);           /* seen dead ... */
    CHECK_EQ_U64(st.reader[m.slot].held, m.buffer);     /* ... still pinning */

    /* 2. The writer keeps publishing, never into the dead reader's buffer
     * as long as nobody reclaimed it (the writer's own check runs once a
     * second, inside publish_begin: hence the test on `reclaims`). */
    struct dshq_weights_ctrl *cw = wr.sec;
    for (int i = 0; i < 200; i++) {
        float *p;
        CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
        CHECK(p != held || atomic_load(&cw->reclaims) > 0);
        weights_fill(p, N, ++v);
        CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(v)), (int64_t)v);
    }
    if (atomic_load(&cw->reclaims) == 0) {
        CHECK_EQ_U64(weights_verify(held, N, 1), N);
        CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
        CHECK_EQ_U64(st.buffer_version[m.buffer], 1);
        CHECK_EQ_U64(st.reader[m.slot].held, m.buffer);
    }

    /* 3. Reclaim: slot and buffer return; the buffer is filled again. */
    dshq_weights_reclaim(ch);
    CHECK_EQ_U64(atomic_load(&cw->reclaims), 1);
    CHECK_EQ_INT(dshq_weights_reclaim(ch), 0);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.reclaims, 1);
    CHECK_EQ_INT(st.reader[m.slot].pid, 0);
    CHECK_EQ_U64(st.reader[m.slot].held, DSHQ_WEIGHTS_NONE);
    CHECK_EQ_U64(st.readers, 0);
    int refilled = 0;
    for (uint32_t i = 0; i < R + 2; i++) {
        float *p;
        CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
        refilled |= p == held;
        weights_fill(p, N, ++v);
        CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(v)), (int64_t)v);
    }
    CHECK(refilled);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK(st.buffer_version[m.buffer] > 1);

    /* 4. A second victim, found by the writer's own periodic check while it
     * publishes (every ~2 ms for up to 3 s). */
    victim = spawn_holder(name, &m);
    CHECK_EQ_U64(m.version, v);
    kill_and_reap(victim);
    uint64_t deadline = dshq_now_ns() + UINT64_C(3) * 1000000000;
    do {
        wt_publish(w, N, ++v);
        usleep(2000);
        CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    } while (st.reclaims < 2 && dshq_now_ns() < deadline);
    CHECK_EQ_U64(st.reclaims, 2);
    CHECK_EQ_INT(st.reader[m.slot].pid, 0);
    CHECK_EQ_U64(st.reader[m.slot].held, DSHQ_WEIGHTS_NONE);

    /* 5. A live reader afterwards works as ever. */
    struct dshq_weights_reader *rd;
    struct dshq_weights_view view;
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &rd), 0);
    CHECK_EQ_INT(dshq_weights_adopt(rd, &view), DSHQ_WEIGHTS_NEW);
    CHECK_EQ_U64(view.version, v);
    CHECK_EQ_U64(weights_verify(view.params, N, v), N);
    dshq_weights_reader_detach(rd);

    printf("weights kill: ok (%" PRIu64 " publishes, 2 dead readers reclaimed)\n", v);
    dshq_weights_writer_detach(w);
    dshq_weights_close(ch);
    dshq_region_destroy(wr.r);
    return 0;
}
