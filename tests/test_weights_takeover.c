/* Weights channel, the writer's death: a live writer cannot be displaced
 * (-EBUSY, from any process); a writer that died mid-fill is replaced and
 * its half-filled buffer never shows; a writer that died in the middle of a
 * commit (seq odd, control words half written — forged here byte by byte,
 * since no kill lands there on demand) leaves readers on their current view
 * until the next writer repairs the commit from the active buffer's stamp. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "weights_util.h"
#include "dshq/error.h"

#define N 4096u
#define R 2u

static int wait_child(pid_t pid)
{
    int st;
    CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct dshq_weights *open_named(const char *name)
{
    struct wt_region cw;
    struct dshq_weights *cc;
    wt_attach(&cw, name);
    CHECK_EQ_INT(dshq_weights_open(cw.sec, cw.size, &cc), 0);
    return cc;
}

int main(void)
{
    char name[64];
    test_region_name(name, sizeof name, "wtakeover");
    const uint64_t shape = 0x5eed;
    struct wt_region wr;
    wt_create(&wr, name, N, R, shape, 0);
    struct dshq_weights_ctrl *c = wr.sec;
    struct dshq_weights_buf *bufs = (void *)((unsigned char *)wr.sec + c->bufs_offset);
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &ch), 0);
    struct dshq_weights_reader *rd;
    struct dshq_weights_view v;
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, shape, &rd), 0);

    /* 1. A live writer in the parent: a child cannot take the role. */
    struct dshq_weights_writer *w;
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);
    pid_t k = fork();
    CHECK(k >= 0);
    if (k == 0) {
        struct dshq_weights_writer *cw;
        CHECK_EQ_INT(dshq_weights_writer_attach(open_named(name), &cw), -EBUSY);
        _exit(0);
    }
    CHECK_EQ_INT(wait_child(k), 0);
    dshq_weights_writer_detach(w);

    /* 2. A child writer publishes v1..v3, then dies while filling v4. */
    k = fork();
    CHECK(k >= 0);
    if (k == 0) {
        struct dshq_weights_writer *cw;
        CHECK_EQ_INT(dshq_weights_writer_attach(open_named(name), &cw), 0);
        for (uint64_t ver = 1; ver <= 3; ver++)
            wt_publish(cw, N, ver);
        float *p;
        CHECK_EQ_INT(dshq_weights_publish_begin(cw, &p), 0);
        weights_fill(p, N / 2, 4);
        _exit(0); /* no detach, no commit */
    }
    CHECK_EQ_INT(wait_child(k), 0);
    CHECK_EQ_INT(dshq_weights_adopt(rd, &v), DSHQ_WEIGHTS_NEW);
    CHECK_EQ_U64(v.version, 3);
    CHECK_EQ_U64(weights_verify(v.params, N, 3), N);
    struct dshq_weights_stats st;
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_INT(st.writer_pid, k);
    CHECK_EQ_INT(st.writer_alive, 0);
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0); /* takeover */
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.writer_takeovers, 1);
    CHECK_EQ_INT(st.writer_pid, getpid());
    for (uint64_t ver = 4; ver <= 5; ver++)
        wt_publish(w, N, ver);
    CHECK_EQ_INT(dshq_weights_adopt(rd, &v), DSHQ_WEIGHTS_NEW);
    CHECK_EQ_U64(v.version, 5);
    CHECK_EQ_U64(weights_verify(v.params, N, 5), N);
    dshq_weights_writer_detach(w);

    /* 3. A child writer dies inside a commit: buffer filled, seq odd, stamp
     * and active_idx written, version / step / shape words not yet.
     * Case 0: it died before `current` (CP): the commit never happened.
     * Case 1: it died after CP (and C3), before C4: the snapshot is
     * published, readers adopt it at once, and the repair completes it. */
    uint64_t base = 5;
    for (int after_cp = 0; after_cp < 2; after_cp++) {
        const uint64_t nv = base + 1;
        int pipefd[2];
        CHECK_EQ_INT(pipe(pipefd), 0);
        k = fork();
        CHECK(k >= 0);
        if (k == 0) {
            /* Its own mapping, by name, like any other process. */
            struct wt_region cr;
            struct dshq_weights *cc;
            struct dshq_weights_writer *cw;
            wt_attach(&cr, name);
            CHECK_EQ_INT(dshq_weights_open(cr.sec, cr.size, &cc), 0);
            CHECK_EQ_INT(dshq_weights_writer_attach(cc, &cw), 0);
            struct dshq_weights_ctrl *cc_ctrl = cr.sec;
            struct dshq_weights_buf *cbufs =
                (void *)((unsigned char *)cr.sec + cc_ctrl->bufs_offset);
            float *p;
            CHECK_EQ_INT(dshq_weights_publish_begin(cw, &p), 0);
            weights_fill(p, N, nv);
            uint32_t f = (uint32_t)(((unsigned char *)p -
                                     ((unsigned char *)cr.sec + cc_ctrl->data_offset)) /
                                    cc_ctrl->data_stride);
            CHECK(atomic_load(&cbufs[f].seq) & 1);
            atomic_store(&cc_ctrl->seq, atomic_load(&cc_ctrl->seq) + 1);
            atomic_store(&cbufs[f].version, nv);
            atomic_store(&cbufs[f].step, weights_step(nv));
            atomic_store(&cbufs[f].shape_hash, shape);
            atomic_store(&cc_ctrl->active_idx, f);
            if (after_cp) {
                atomic_store(&cbufs[f].seq, atomic_load(&cbufs[f].seq) + 1); /* C3 */
                atomic_store(&cc_ctrl->current, nv << 8 | f);                 /* CP */
            }
            CHECK_EQ_INT(write(pipefd[1], &f, sizeof f), (int)sizeof f);
            _exit(0);
        }
        close(pipefd[1]);
        uint32_t f;
        CHECK_EQ_INT(read(pipefd[0], &f, sizeof f), (int)sizeof f);
        close(pipefd[0]);
        CHECK_EQ_INT(wait_child(k), 0);
        CHECK(atomic_load(&c->seq) & 1);
        static float out[N];
        struct dshq_weights_info info;
        if (!after_cp) {
            /* Readers keep their view: the commit never completed. */
            CHECK_EQ_INT(dshq_weights_adopt(rd, &v), DSHQ_WEIGHTS_SAME);
            CHECK_EQ_U64(v.version, base);
            CHECK_EQ_U64(weights_verify(v.params, N, base), N);
            CHECK_EQ_U64(dshq_weights_version(ch), base);
            /* Copy-out sees an active buffer whose seq is odd: it gives up. */
            CHECK_EQ_INT(dshq_weights_copy_out(ch, 0, out, N, NULL), -EAGAIN);
        } else {
            /* Published: adopted at once, seq odd or not. */
            CHECK_EQ_INT(dshq_weights_adopt(rd, &v), DSHQ_WEIGHTS_NEW);
            CHECK_EQ_U64(v.version, nv);
            CHECK_EQ_U64(v.buffer, f);
            CHECK_EQ_U64(weights_verify(v.params, N, nv), N);
        }
        /* The next writer repairs the commit from `current`. */
        CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);
        uint64_t now = after_cp ? nv : base;
        CHECK_EQ_U64(atomic_load(&c->seq) & 1, 0);
        CHECK_EQ_U64(atomic_load(&c->version), now);
        CHECK_EQ_U64(atomic_load(&c->step_counter), weights_step(now));
        CHECK_EQ_U64(DSHQ_WEIGHTS_CUR_VERSION(atomic_load(&c->current)), now);
        CHECK_EQ_U64(atomic_load(&c->active_idx), DSHQ_WEIGHTS_CUR_BUFFER(atomic_load(&c->current)));
        if (after_cp)
            CHECK_EQ_U64(atomic_load(&c->active_idx), f);
        CHECK_EQ_U64(atomic_load(&bufs[atomic_load(&c->active_idx)].seq) & 1, 0);
        CHECK_EQ_INT(dshq_weights_adopt(rd, &v), DSHQ_WEIGHTS_SAME);
        CHECK_EQ_U64(v.version, now);
        CHECK_EQ_U64(weights_verify(v.params, N, now), N);
        CHECK_EQ_INT(dshq_weights_copy_out(ch, 0, out, N, &info), 0);
        CHECK_EQ_U64(info.version, now);
        CHECK_EQ_U64(weights_verify(out, N, now), N);
        /* And it goes on from there. */
        wt_publish(w, N, now + 1);
        CHECK_EQ_INT(dshq_weights_adopt(rd, &v), DSHQ_WEIGHTS_NEW);
        CHECK_EQ_U64(v.version, now + 1);
        CHECK_EQ_U64(weights_verify(v.params, N, now + 1), N);
        CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
        CHECK_EQ_U64(st.writer_takeovers, 2 + after_cp);
        base = now + 1;
        if (!after_cp)
            dshq_weights_writer_detach(w);
    }

    dshq_weights_reader_detach(rd);
    dshq_weights_writer_detach(w);
    dshq_weights_close(ch);
    dshq_region_destroy(wr.r);
    puts("weights takeover: ok");
    return 0;
}
