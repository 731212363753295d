/* Weights channel with threads (the variant ThreadSanitizer can check):
 * one writer thread publishes as fast as it can, three reader threads adopt,
 * hold and check every float of every view (reader 0 also releases and
 * detaches/re-attaches), and a copier thread makes validated copy-outs.
 * Under TSan every hand-over of a buffer between writer and readers must be
 * a release/acquire pair the tool can see: pins (R4/R7/R9 -> W2/W3) and the
 * control seqlock (C4 -> R1).
 *
 * The one intentional race is the copy-out's memcpy of a buffer the writer
 * may be refilling (CO2 in weights.c); the copy is discarded when the
 * buffer's seq moved.  weights.c marks that copy's reads as ignored for
 * TSan at the site; nothing else is exempt. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#include "check.h"
#include "weights_util.h"
#include "dshq/error.h"
#include "dshq/wait.h"

#define N 8192u
#define R 3u
#define READERS 3
#define MAX_PUBLISHES 200000u

static struct dshq_weights *g_ch;
static _Atomic int g_stop;
static _Atomic uint64_t g_verified, g_torn, g_copies, g_errors, g_published;

static void *writer_thread(void *arg)
{
    (void)arg;
    struct dshq_weights_writer *w;
    CHECK_EQ_INT(dshq_weights_writer_attach(g_ch, &w), 0);
    uint64_t v = 0;
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && v < MAX_PUBLISHES) {
        float *p;
        CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
        weights_fill(p, N, ++v);
        CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(v)), (int64_t)v);
        atomic_store_explicit(&g_published, v, memory_order_relaxed);
    }
    dshq_weights_writer_detach(w);
    return NULL;
}

static void *reader_thread(void *arg)
{
    int idx = (int)(intptr_t)arg;
    struct dshq_weights_reader *rd;
    CHECK_EQ_INT(dshq_weights_reader_attach(g_ch, 0, &rd), 0);
    uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(idx + 1);
    uint64_t last = 0;
    int had_view = 0;
    struct dshq_weights_view v = {0};
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        int rc = dshq_weights_adopt(rd, &v);
        if (rc == DSHQ_WEIGHTS_SAME) {
            dshq_weights_wait(g_ch, v.version, 1000000);
            continue;
        }
        if (rc == -EAGAIN)
            continue;
        if (rc != DSHQ_WEIGHTS_NEW || v.version < last || (had_view && v.version == last)) {
            atomic_fetch_add(&g_errors, 1);
            break;
        }
        last = v.version;
        had_view = 1;
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        uint64_t bad = weights_verify(v.params, N, v.version);
        struct timespec ts = {0, (long)(seed % 300000)};
        nanosleep(&ts, NULL);
        if (bad == N)
            bad = weights_verify(v.params, N, v.version);
        if (bad != N)
            atomic_fetch_add(&g_torn, 1);
        atomic_fetch_add(&g_verified, 1);
        if (seed % 8 == 0) {
            dshq_weights_release(rd);
            had_view = 0;
        }
        if (idx == 0 && seed % 32 == 1) {
            dshq_weights_reader_detach(rd);
            CHECK_EQ_INT(dshq_weights_reader_attach(g_ch, 0, &rd), 0);
            had_view = 0;
        }
    }
    dshq_weights_reader_detach(rd);
    return NULL;
}

static void *copier_thread(void *arg)
{
    (void)arg;
    static float dst[N];
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        struct dshq_weights_info info;
        int rc = dshq_weights_copy_out(g_ch, 0, dst, N, &info);
        if (rc == -ENODATA || rc == -EAGAIN) {
            dshq_weights_wait(g_ch, 0, 1000000);
            continue;
        }
        if (rc != 0) {
            atomic_fetch_add(&g_errors, 1);
            break;
        }
        if (weights_verify(dst, N, info.version) != N)
            atomic_fetch_add(&g_torn, 1);
        atomic_fetch_add(&g_copies, 1);
        dshq_weights_wait(g_ch, info.version, 1000000);
    }
    return NULL;
}

int main(void)
{
    struct wt_region wr;
    wt_create(&wr, NULL, N, R, 1, 0);
    CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &g_ch), 0);
    pthread_t wt, rt[READERS], ct;
    CHECK_EQ_INT(pthread_create(&wt, NULL, writer_thread, NULL), 0);
    for (int i = 0; i < READERS; i++)
        CHECK_EQ_INT(pthread_create(&rt[i], NULL, reader_thread, (void *)(intptr_t)i), 0);
    CHECK_EQ_INT(pthread_create(&ct, NULL, copier_thread, NULL), 0);
    /* 1.5 s, or until the readers have verified plenty. */
    uint64_t until = dshq_now_ns() + UINT64_C(1500) * 1000000;
    while (dshq_now_ns() < until && atomic_load(&g_verified) < 20000 && !atomic_load(&g_errors))
        usleep(10000);
    atomic_store(&g_stop, 1);
    CHECK_EQ_INT(pthread_join(wt, NULL), 0);
    for (int i = 0; i < READERS; i++)
        CHECK_EQ_INT(pthread_join(rt[i], NULL), 0);
    CHECK_EQ_INT(pthread_join(ct, NULL), 0);
    printf("weights threads: %" PRIu64 " publishes, %" PRIu64 " adoptions verified, %" PRIu64
           " copy-outs verified, torn %" PRIu64 ", errors %" PRIu64 "\n",
           atomic_load(&g_published), atomic_load(&g_verified), atomic_load(&g_copies),
           atomic_load(&g_torn), atomic_load(&g_errors));
    CHECK_EQ_U64(atomic_load(&g_torn), 0);
    CHECK_EQ_U64(atomic_load(&g_errors), 0);
    CHECK(atomic_load(&g_verified) > 0);
    CHECK(atomic_load(&g_published) > 0);
    struct dshq_weights_stats st;
    CHECK_EQ_INT(dshq_weights_stats(g_ch, &st), 0);
    CHECK_EQ_U64(st.readers, 0);
    dshq_weights_close(g_ch);
    dshq_region_destroy(wr.r);
    return 0;
}
