/* Weights channel, shape hash: a reader that expects another shape is
 * refused with DSHQ_ESHAPE, says so clearly, and keeps its current view —
 * intact, however many snapshots of the other shape follow — until a
 * snapshot of its own shape comes.  Copy-out refuses the same way and leaves
 * the caller's buffer alone. */
#include <errno.h>

#include "check.h"
#include "weights_util.h"
#include "dshq/error.h"

#define N 5000u
#define R 3u

int main(void)
{
    const uint64_t A = dshq_shape_hash("weights/v1;params=5000;arch=mlp-a");
    const uint64_t B = dshq_shape_hash("weights/v1;params=5000;arch=mlp-b");
    CHECK(A != B);
    struct wt_region wr;
    wt_create(&wr, NULL, N, R, A, 0);
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &ch), 0);

    /* The section table names the creator's shape: a lookup for B fails. */
    CHECK_EQ_INT(dshq_region_find(wr.r, DSHQ_SECTION_WEIGHTS, WT_SECTION, B, NULL, NULL),
                 DSHQ_ESHAPE);
    CHECK(strstr(dshq_strerror(DSHQ_ESHAPE), "shape") != NULL);

    struct dshq_weights_writer *w;
    struct dshq_weights_reader *ra, *rb, *rany;
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, A, &ra), 0);
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, B, &rb), 0);
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &rany), 0);

    /* v1, shape A. */
    wt_publish(w, N, 1);
    struct dshq_weights_view va, vb, vany;
    CHECK_EQ_INT(dshq_weights_adopt(ra, &va), DSHQ_WEIGHTS_NEW);
    CHECK_EQ_U64(va.version, 1);
    CHECK_EQ_U64(va.shape_hash, A);
    CHECK_EQ_INT(dshq_weights_adopt(rb, &vb), DSHQ_ESHAPE);
    CHECK(vb.params == NULL); /* nothing to keep: no view */
    CHECK_EQ_U64(vb.version, 0);
    CHECK_EQ_INT(dshq_weights_adopt(rany, &vany), DSHQ_WEIGHTS_NEW);

    /* The trainer changes architecture: v2..v40 have shape B. */
    dshq_weights_writer_set_shape(w, B);
    const float *held = va.params;
    for (uint64_t v = 2; v <= 40; v++) {
        wt_publish(w, N, v);
        struct dshq_weights_view now;
        CHECK_EQ_INT(dshq_weights_adopt(ra, &now), DSHQ_ESHAPE);
        /* Refused, and the view is the one held before, still intact. */
        CHECK(now.params == held);
        CHECK_EQ_U64(now.version, 1);
        CHECK_EQ_U64(now.shape_hash, A);
        CHECK_EQ_U64(weights_verify(now.params, N, 1), N);
        if (v % 3 == 0) {
            CHECK_EQ_INT(dshq_weights_adopt(rb, &vb), DSHQ_WEIGHTS_NEW);
            CHECK_EQ_U64(vb.shape_hash, B);
            CHECK_EQ_U64(weights_verify(vb.params, N, v), N);
        }
        CHECK_EQ_INT(dshq_weights_adopt(rany, &vany), DSHQ_WEIGHTS_NEW);
        CHECK_EQ_U64(vany.version, v);
    }
    /* Asking again without a new publish: the same answer, counted once per
     * snapshot. */
    CHECK_EQ_INT(dshq_weights_adopt(ra, &va), DSHQ_ESHAPE);
    CHECK(va.params == held);
    struct dshq_weights_stats st;
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    CHECK_EQ_U64(st.shape_hash, B);
    CHECK_EQ_U64(st.reader[dshq_weights_reader_slot(ra)].refusals, 39 + 0);
    CHECK_EQ_U64(st.reader[dshq_weights_reader_slot(ra)].held, va.buffer);
    CHECK_EQ_U64(st.reader[dshq_weights_reader_slot(ra)].version, 1);
    CHECK_EQ_U64(st.buffer_version[va.buffer], 1); /* never refilled */

    /* Copy-out with the wrong shape: refused, dst untouched. */
    static float dst[N];
    for (uint32_t i = 0; i < N; i++)
        dst[i] = -1.0f;
    CHECK_EQ_INT(dshq_weights_copy_out(ch, A, dst, N, NULL), DSHQ_ESHAPE);
    for (uint32_t i = 0; i < N; i++)
        CHECK(dst[i] == -1.0f);
    struct dshq_weights_info info;
    CHECK_EQ_INT(dshq_weights_copy_out(ch, B, dst, N, &info), 0);
    CHECK_EQ_U64(info.version, 40);
    CHECK_EQ_U64(info.shape_hash, B);
    CHECK_EQ_U64(weights_verify(dst, N, 40), N);
    CHECK_EQ_INT(dshq_weights_copy_out(ch, 0, dst, N, &info), 0);

    /* Back to shape A: ra adopts again; rb is now the one refused. */
    dshq_weights_writer_set_shape(w, A);
    wt_publish(w, N, 41);
    CHECK_EQ_INT(dshq_weights_adopt(ra, &va), DSHQ_WEIGHTS_NEW);
    CHECK_EQ_U64(va.version, 41);
    CHECK_EQ_U64(weights_verify(va.params, N, 41), N);
    const float *bheld = vb.params;
    uint64_t bver = vb.version;
    CHECK_EQ_INT(dshq_weights_adopt(rb, &vb), DSHQ_ESHAPE);
    CHECK(vb.params == bheld && vb.version == bver);
    CHECK_EQ_U64(weights_verify(vb.params, N, bver), N);

    dshq_weights_reader_detach(ra);
    dshq_weights_reader_detach(rb);
    dshq_weights_reader_detach(rany);
    dshq_weights_writer_detach(w);
    dshq_weights_close(ch);
    dshq_region_destroy(wr.r);
    puts("weights shape: ok");
    return 0;
}
