/* Weights channel, reader slots: the limit (DSHQ_ELIMIT while every slot
 * belongs to a live process, in this process or others), detach and
 * re-attach (slot and pin return; a new view after re-attach), and slots of
 * readers that exited without detaching, reclaimed by the attach that needs
 * one. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "weights_util.h"
#include "dshq/error.h"

#define N 2048u
#define R 3u

static int wait_child(pid_t pid)
{
    int st;
    CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
    char name[64];
    test_region_name(name, sizeof name, "wlimit");
    struct wt_region wr;
    wt_create(&wr, name, N, R, 1, 0);
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &ch), 0);
    struct dshq_weights_writer *w;
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);
    wt_publish(w, N, 1);

    /* 1. In one process: R readers, then the limit. */
    struct dshq_weights_reader *rd[R], *extra;
    struct dshq_weights_view v;
    for (uint32_t i = 0; i < R; i++) {
        CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &rd[i]), 0);
        CHECK_EQ_INT(dshq_weights_adopt(rd[i], &v), DSHQ_WEIGHTS_NEW);
    }
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &extra), DSHQ_ELIMIT);
    CHECK(strstr(dshq_strerror(DSHQ_ELIMIT), "limit") != NULL);
    struct dshq_weights_stats st;
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.readers, R);
    CHECK_EQ_U64(st.reclaims, 0); /* live readers are never reclaimed */

    /* 2. Detach one: its slot and its pin return; re-attach takes the slot
     * and adopts anew. */
    uint32_t freed = dshq_weights_reader_slot(rd[1]);
    dshq_weights_reader_detach(rd[1]);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.readers, R - 1);
    CHECK_EQ_INT(st.reader[freed].pid, 0);
    CHECK_EQ_U64(st.reader[freed].held, DSHQ_WEIGHTS_NONE);
    wt_publish(w, N, 2);
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &rd[1]), 0);
    CHECK_EQ_U64(dshq_weights_reader_slot(rd[1]), freed);
    CHECK_EQ_INT(dshq_weights_adopt(rd[1], &v), DSHQ_WEIGHTS_NEW);
    CHECK_EQ_U64(v.version, 2);
    CHECK_EQ_U64(weights_verify(v.params, N, 2), N);
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &extra), DSHQ_ELIMIT);
    /* Detach/re-attach cycles while publishing: no slot leaks. */
    for (uint64_t k = 3; k < 60; k++) {
        wt_publish(w, N, k);
        uint32_t i = (uint32_t)(k % R);
        dshq_weights_reader_detach(rd[i]);
        CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &rd[i]), 0);
        CHECK_EQ_INT(dshq_weights_adopt(rd[i], &v), DSHQ_WEIGHTS_NEW);
        CHECK_EQ_U64(v.version, k);
        CHECK_EQ_U64(weights_verify(v.params, N, k), N);
    }
    for (uint32_t i = 0; i < R; i++)
        dshq_weights_reader_detach(rd[i]);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.readers, 0);
    for (uint32_t i = 0; i < R; i++)
        CHECK_EQ_U64(st.reader[i].held, DSHQ_WEIGHTS_NONE);

    /* 3. Live readers in other processes count against the limit too. */
    int go[2];
    CHECK_EQ_INT(pipe(go), 0);
    pid_t kids[R];
    for (uint32_t i = 0; i < R; i++) {
        int ready[2];
        CHECK_EQ_INT(pipe(ready), 0);
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            close(go[1]);
            struct wt_region cw;
            wt_attach(&cw, name);
            struct dshq_weights *cc;
            struct dshq_weights_reader *cr;
            struct dshq_weights_view cv;
            CHECK_EQ_INT(dshq_weights_open(cw.sec, cw.size, &cc), 0);
            CHECK_EQ_INT(dshq_weights_reader_attach(cc, 0, &cr), 0);
            CHECK_EQ_INT(dshq_weights_adopt(cr, &cv), DSHQ_WEIGHTS_NEW);
            char c = 1;
            CHECK_EQ_INT(write(ready[1], &c, 1), 1);
            CHECK_EQ_INT(read(go[0], &c, 1), 0); /* until the parent closes go */
            CHECK_EQ_U64(weights_verify(cv.params, N, cv.version), N);
            if (cv.version % 2)  /* half of them detach, half just exit */
                dshq_weights_reader_detach(cr);
            _exit(0);
        }
        close(ready[1]);
        char c;
        CHECK_EQ_INT(read(ready[0], &c, 1), 1);
        close(ready[0]);
        wt_publish(w, N, 60 + i);
    }
    close(go[0]);
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &extra), DSHQ_ELIMIT);
    CHECK_EQ_INT(dshq_weights_reclaim(ch), 0);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.readers, R);
    for (uint32_t i = 0; i < R; i++) {
        CHECK(st.reader[i].pid > 0 && st.reader[i].alive == 1);
        CHECK(st.reader[i].held != DSHQ_WEIGHTS_NONE);
    }
    /* The writer never waits, even with every reader holding a buffer. */
    for (uint64_t k = 63; k < 100; k++)
        wt_publish(w, N, k);

    /* 4. They exit (some without detaching): an attach that finds every
     * remaining slot taken reclaims the dead owners' slots. */
    close(go[1]);
    for (uint32_t i = 0; i < R; i++)
        CHECK_EQ_INT(wait_child(kids[i]), 0);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    uint32_t left = st.readers; /* the ones that exited without detaching */
    CHECK(left >= 1);
    for (uint32_t i = 0; i < R; i++)
        if (st.reader[i].pid)
            CHECK_EQ_INT(st.reader[i].alive, 0);
    for (uint32_t i = 0; i < R; i++)
        CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &rd[i]), 0);
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.reclaims, left);
    CHECK_EQ_U64(st.readers, R);
    for (uint32_t i = 0; i < R; i++) {
        CHECK_EQ_INT(st.reader[i].pid, getpid());
        CHECK_EQ_U64(st.reader[i].held, DSHQ_WEIGHTS_NONE);
    }
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &extra), DSHQ_ELIMIT);
    for (uint32_t i = 0; i < R; i++) {
        CHECK_EQ_INT(dshq_weights_adopt(rd[i], &v), DSHQ_WEIGHTS_NEW);
        CHECK_EQ_U64(v.version, 99);
        dshq_weights_reader_detach(rd[i]);
    }

    dshq_weights_writer_detach(w);
    dshq_weights_close(ch);
    dshq_region_destroy(wr.r);
    puts("weights limit: ok");
    return 0;
}
