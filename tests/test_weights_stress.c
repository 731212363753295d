/* Weights channel across processes, under fire: the parent publishes as fast
 * as it can while four reader processes adopt, hold each view for a random
 * short time (sleeping or re-reading it) and check the whole snapshot float
 * by float against the pattern of its version — when adopted and again when
 * they let it go, so a buffer refilled under a reader is caught.  One reader
 * also releases now and then and detaches/re-attaches; a fifth process makes
 * validated copy-outs.  Every process attaches by name.  Reports publishes
 * and verified adoptions; torn views must be 0.
 *
 * WEIGHTS_STRESS_SECONDS (default 3) sets the duration. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "weights_util.h"
#include "dshq/error.h"
#include "dshq/wait.h"

#define N 40000u /* floats: 160000 bytes, not a page multiple */
#define R 4u /* one slot per reader: R + 2 = 6 buffers */
#define READERS 4
#define KIDS (READERS + 1)
#define MAX_PUBLISHES 2000000u

struct result {
    _Atomic uint64_t verified;   /* adoptions checked end to end, twice */
    _Atomic uint64_t torn;       /* views (or copies) with a wrong float */
    _Atomic uint64_t same;
    _Atomic uint64_t eagain;
    _Atomic uint64_t released;
    _Atomic uint64_t reattached;
    _Atomic uint64_t copies;
    _Atomic uint64_t copy_retry; /* copy-outs invalidated (-EAGAIN) or -ENODATA */
    _Atomic uint64_t errors;     /* anything else unexpected */
};

struct shared {
    _Atomic uint32_t stop;
    _Atomic uint32_t ready;
    struct result res[KIDS];
};

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void reader_main(const char *name, int idx)
{
    struct wt_region cw;
    wt_attach(&cw, name);
    struct shared *sh = cw.raw;
    struct result *res = &sh->res[idx];
    struct dshq_weights *ch;
    struct dshq_weights_reader *rd;
    CHECK_EQ_INT(dshq_weights_open(cw.sec, cw.size, &ch), 0);
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 1, &rd), 0);
    atomic_fetch_add(&sh->ready, 1);
    uint64_t seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull | 1;
    uint64_t last = 0;    /* version of the previous view: the next is newer, */
    int had_view = 0;     /* or the same one again after a release */
    struct dshq_weights_view v = {0};
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        int rc = dshq_weights_adopt(rd, &v);
        if (rc == DSHQ_WEIGHTS_SAME) {
            atomic_fetch_add_explicit(&res->same, 1, memory_order_relaxed);
            dshq_weights_wait(ch, v.version, 2 * 1000000);
            continue;
        }
        if (rc == -EAGAIN) {
            atomic_fetch_add_explicit(&res->eagain, 1, memory_order_relaxed);
            continue;
        }
        if (rc != DSHQ_WEIGHTS_NEW || v.version < last || (had_view && v.version == last) ||
            v.step != weights_step(v.version)) {
            fprintf(stderr, "reader %d: rc %d version %" PRIu64 " after %" PRIu64 "\n", idx, rc,
                    v.version, last);
            atomic_fetch_add_explicit(&res->errors, 1, memory_order_relaxed);
            break;
        }
        last = v.version;
        had_view = 1;
        uint64_t bad = weights_verify(v.params, N, v.version);
        /* Hold it 0-200 us (one time in eight 0-4 ms, many publishes long):
         * asleep, or re-reading it the whole time. */
        uint64_t r = rng_next(&seed);
        uint64_t hold_ns = r % ((r >> 50) % 8 == 0 ? 4000000 : 200000);
        if (r & (1ull << 40)) {
            struct timespec ts = {0, (long)hold_ns};
            nanosleep(&ts, NULL);
        } else {
            uint64_t until = dshq_now_ns() + hold_ns;
            while (dshq_now_ns() < until && bad == N)
                bad = weights_verify(v.params, N, v.version);
        }
        if (bad == N)
            bad = weights_verify(v.params, N, v.version);
        if (bad != N) {
            fprintf(stderr, "reader %d: TORN view of v%" PRIu64 " at float %" PRIu64 "\n", idx,
                    v.version, bad);
            atomic_fetch_add_explicit(&res->torn, 1, memory_order_relaxed);
        }
        atomic_fetch_add_explicit(&res->verified, 1, memory_order_relaxed);
        if ((r >> 20) % 16 == 0) {
            dshq_weights_release(rd);
            had_view = 0;
            atomic_fetch_add_explicit(&res->released, 1, memory_order_relaxed);
        }
        if (idx == 0 && (r >> 28) % 64 == 0) {
            dshq_weights_reader_detach(rd);
            CHECK_EQ_INT(dshq_weights_reader_attach(ch, 1, &rd), 0);
            had_view = 0;
            atomic_fetch_add_explicit(&res->reattached, 1, memory_order_relaxed);
        }
    }
    dshq_weights_reader_detach(rd);
    dshq_weights_close(ch);
    _exit(0);
}

static void copier_main(const char *name, int idx)
{
    struct wt_region cw;
    wt_attach(&cw, name);
    struct shared *sh = cw.raw;
    struct result *res = &sh->res[idx];
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(cw.sec, cw.size, &ch), 0);
    float *dst = malloc(N * sizeof(float));
    CHECK(dst != NULL);
    atomic_fetch_add(&sh->ready, 1);
    uint64_t last = 0;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        struct dshq_weights_info info;
        int rc = dshq_weights_copy_out(ch, 1, dst, N, &info);
        if (rc == -ENODATA || rc == -EAGAIN) {
            atomic_fetch_add_explicit(&res->copy_retry, 1, memory_order_relaxed);
            dshq_weights_wait(ch, 0, 2 * 1000000);
            continue;
        }
        if (rc != 0 || info.version < last || info.step != weights_step(info.version)) {
            atomic_fetch_add_explicit(&res->errors, 1, memory_order_relaxed);
            break;
        }
        last = info.version;
        uint64_t bad = weights_verify(dst, N, info.version);
        if (bad != N) {
            fprintf(stderr, "copier: TORN copy of v%" PRIu64 " at float %" PRIu64 "\n",
                    info.version, bad);
            atomic_fetch_add_explicit(&res->torn, 1, memory_order_relaxed);
        }
        atomic_fetch_add_explicit(&res->copies, 1, memory_order_relaxed);
        dshq_weights_wait(ch, info.version, 2 * 1000000);
    }
    free(dst);
    dshq_weights_close(ch);
    _exit(0);
}

int main(void)
{
    const char *env = getenv("WEIGHTS_STRESS_SECONDS");
    double seconds = env ? atof(env) : 3.0;
    char name[64];
    test_region_name(name, sizeof name, "wstress");
    struct wt_region wr;
    wt_create(&wr, name, N, R, 1, sizeof(struct shared));
    struct shared *sh = wr.raw;

    pid_t kids[KIDS];
    for (int i = 0; i < KIDS; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            if (i < READERS)
                reader_main(name, i);
            copier_main(name, i);
        }
    }
    struct dshq_weights *ch;
    struct dshq_weights_writer *w;
    CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &ch), 0);
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);
    uint64_t t_ready = dshq_now_ns() + UINT64_C(10) * 1000000000;
    while (atomic_load(&sh->ready) < KIDS && dshq_now_ns() < t_ready)
        usleep(1000);
    CHECK_EQ_INT(atomic_load(&sh->ready), KIDS);

    uint64_t t0 = dshq_now_ns();
    uint64_t until = t0 + (uint64_t)(seconds * 1e9);
    uint64_t v = 0;
    while (v < MAX_PUBLISHES && dshq_now_ns() < until) {
        float *p;
        CHECK_EQ_INT(dshq_weights_publish_begin(w, &p), 0);
        weights_fill(p, N, ++v);
        CHECK_EQ_INT(dshq_weights_publish_commit(w, weights_step(v)), (int64_t)v);
    }
    double secs = (double)(dshq_now_ns() - t0) / 1e9;
    atomic_store(&sh->stop, 1);
    for (int i = 0; i < KIDS; i++) {
        int st;
        CHECK_EQ_INT(waitpid(kids[i], &st, 0), kids[i]);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d status %d", i, st);
    }

    uint64_t verified = 0, torn = 0, eagain = 0, copies = 0, errors = 0, released = 0,
             reattached = 0, copy_retry = 0, same = 0;
    for (int i = 0; i < KIDS; i++) {
        struct result *r = &sh->res[i];
        verified += r->verified;
        torn += r->torn;
        eagain += r->eagain;
        copies += r->copies;
        copy_retry += r->copy_retry;
        same += r->same;
        errors += r->errors;
        released += r->released;
        reattached += r->reattached;
        if (i < READERS)
            CHECK_MSG(r->verified > 0, "reader %d verified nothing", i);
    }
    struct dshq_weights_stats st;
    CHECK_EQ_INT(dshq_weights_stats(ch, &st), 0);
    printf("weights stress: %" PRIu64 " publishes in %.2f s (%.0f/s, %u KB each), %d reader "
           "processes: %" PRIu64 " adoptions verified end to end, %" PRIu64 " copy-outs verified, "
           "%" PRIu64 " releases, %" PRIu64 " re-attaches, %" PRIu64 " adopts with nothing new, "
           "%" PRIu64 " adopts -EAGAIN, %" PRIu64 " copy-outs -EAGAIN/-ENODATA, %" PRIu64
           " claims stolen, torn views: %" PRIu64 "\n",
           v, secs, (double)v / secs, (unsigned)(N * 4 / 1000), READERS, verified, copies,
           released, reattached, same, eagain, copy_retry, st.claims_stolen, torn);
    CHECK_EQ_U64(torn, 0);
    CHECK_EQ_U64(errors, 0);
    CHECK(copies > 0);
    CHECK(v > 0);
    CHECK_EQ_U64(st.readers, 0);
    dshq_weights_writer_detach(w);
    dshq_weights_close(ch);
    dshq_region_destroy(wr.r);
    return 0;
}
