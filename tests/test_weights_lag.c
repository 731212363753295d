/* Weights channel, readers never fall behind: the parent publishes 10k-float
 * snapshots as fast as it can while four reader processes adopt in a loop.
 * Before each adopt a reader notes the newest published version v0
 * (dshq_weights_version); the adopt must then leave it a view of version
 * >= v0 (lag 0: what a reader pinning one buffer per version would have) —
 * never "same" with an old view while newer complete snapshots exist, never
 * "busy", never an error.  (Before `current` and the writer's grants, the
 * readers here fell 3 to 6 versions behind on every run.)  Every adopted view is checked float by float when adopted and
 * again before the next adopt.  A fifth process makes validated copy-outs
 * (no slot) and checks every float of each copy it keeps.  No timing: the
 * bound is in versions.
 *
 * WEIGHTS_LAG_VERSIONS (default 20000) sets how many snapshots. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "weights_util.h"
#include "dshq/error.h"

#define N 10000u
#define READERS 4
#define R 4u

struct result {
    _Atomic uint64_t adopts, news, max_lag, lag_at, bad_rc, last_bad_rc, torn, final_version;
};
struct copier {
    _Atomic uint64_t copies, retried, torn, bad_rc, final_version;
};
struct shared {
    _Atomic uint32_t ready, stop;
    _Atomic uint64_t last;
    struct result res[READERS];
    struct copier cp;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void reader(const char *name, struct result *res)
{
    struct wt_region w;
    wt_attach(&w, name);
    struct shared *sh = w.raw;
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(w.sec, w.size, &ch), 0);
    struct dshq_weights_reader *rd;
    CHECK_EQ_INT(dshq_weights_reader_attach(ch, 0, &rd), 0);
    atomic_fetch_add(&sh->ready, 1);
    struct dshq_weights_view v = {0};
    double limit = now_s() + 300.0;
    for (;;) {
        int stopping = atomic_load(&sh->stop) != 0;
        uint64_t v0 = dshq_weights_version(ch);
        if (v.params && weights_verify(v.params, N, v.version) != N)
            atomic_fetch_add(&res->torn, 1); /* refilled under us */
        int rc = dshq_weights_adopt(rd, &v);
        atomic_fetch_add(&res->adopts, 1);
        if (rc != DSHQ_WEIGHTS_NEW && rc != DSHQ_WEIGHTS_SAME) {
            atomic_fetch_add(&res->bad_rc, 1);
            atomic_store(&res->last_bad_rc, (uint64_t)(int64_t)rc);
        } else {
            if (rc == DSHQ_WEIGHTS_NEW) {
                atomic_fetch_add(&res->news, 1);
                if (weights_verify(v.params, N, v.version) != N || v.step != weights_step(v.version))
                    atomic_fetch_add(&res->torn, 1);
            }
            if (v0 > v.version && v0 - v.version > atomic_load(&res->max_lag)) {
                atomic_store(&res->max_lag, v0 - v.version);
                atomic_store(&res->lag_at, v0);
            }
        }
        if (stopping && v.version == atomic_load(&sh->last))
            break;
        CHECK_MSG(now_s() < limit, "reader never saw the last version");
    }
    atomic_store(&res->final_version, v.version);
    dshq_weights_reader_detach(rd);
    dshq_weights_close(ch);
    dshq_region_detach(w.r);
    _exit(0);
}

/* A slot-less reader: validated copy-outs while the writer refills buffers
 * under it; every copy kept must be exactly the version it says. */
static void copier(const char *name, struct copier *cp)
{
    struct wt_region w;
    wt_attach(&w, name);
    struct shared *sh = w.raw;
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(w.sec, w.size, &ch), 0);
    static float buf[N];
    atomic_fetch_add(&sh->ready, 1);
    for (;;) {
        int stopping = atomic_load(&sh->stop) != 0;
        struct dshq_weights_info info;
        int rc = dshq_weights_copy_out(ch, 0, buf, N, &info);
        if (rc == 0) {
            atomic_fetch_add(&cp->copies, 1);
            if (weights_verify(buf, N, info.version) != N || info.step != weights_step(info.version))
                atomic_fetch_add(&cp->torn, 1);
            if (stopping) {
                atomic_store(&cp->final_version, info.version);
                break;
            }
        } else if (rc == -EAGAIN || rc == -ENODATA) {
            atomic_fetch_add(&cp->retried, 1);
        } else {
            atomic_fetch_add(&cp->bad_rc, 1);
            break;
        }
    }
    dshq_weights_close(ch);
    dshq_region_detach(w.r);
    _exit(0);
}

int main(void)
{
    const char *env = getenv("WEIGHTS_LAG_VERSIONS");
    uint64_t versions = env ? strtoull(env, NULL, 10) : 20000;
    char name[64];
    test_region_name(name, sizeof name, "wlag");
    struct wt_region wr;
    wt_create(&wr, name, N, R, 0x1a9, sizeof(struct shared));
    struct shared *sh = wr.raw;
    pid_t kids[READERS + 1];
    for (int i = 0; i <= READERS; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            if (i == READERS)
                copier(name, &sh->cp);
            reader(name, &sh->res[i]);
        }
    }
    struct dshq_weights *ch;
    CHECK_EQ_INT(dshq_weights_open(wr.sec, wr.size, &ch), 0);
    struct dshq_weights_writer *w;
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);
    double limit = now_s() + 120.0;
    while (atomic_load(&sh->ready) < READERS + 1) {
        CHECK_MSG(now_s() < limit, "readers did not attach");
        sched_yield();
    }
    for (uint64_t v = 1; v <= versions; v++)
        wt_publish(w, N, v);
    atomic_store(&sh->last, versions);
    atomic_store(&sh->stop, 1);
    int failed = 0;
    for (int i = 0; i <= READERS; i++) {
        int st;
        CHECK_EQ_INT(waitpid(kids[i], &st, 0), kids[i]);
        failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    uint64_t worst = 0, bad = 0, torn = 0;
    for (int i = 0; i < READERS; i++) {
        struct result *r = &sh->res[i];
        printf("reader %d: %" PRIu64 " adopts, %" PRIu64 " new, max lag %" PRIu64
               " (at version %" PRIu64 "), %" PRIu64 " bad outcomes (last %" PRId64 "), %" PRIu64
               " torn, final %" PRIu64 "\n",
               i, r->adopts, r->news, r->max_lag, r->lag_at, r->bad_rc, (int64_t)r->last_bad_rc,
               r->torn, r->final_version);
        worst = r->max_lag > worst ? r->max_lag : worst;
        bad += r->bad_rc;
        torn += r->torn;
    }
    struct copier *cp = &sh->cp;
    printf("copier: %" PRIu64 " copies verified, %" PRIu64 " retried, %" PRIu64 " torn, final %" PRIu64
           "\n", cp->copies, cp->retried, cp->torn, cp->final_version);
    uint64_t cp_torn = cp->torn, cp_bad = cp->bad_rc, cp_final = cp->final_version;
    dshq_weights_writer_detach(w);
    dshq_weights_close(ch);
    dshq_region_destroy(wr.r);
    CHECK_EQ_INT(failed, 0);
    CHECK_EQ_U64(cp_torn, 0);
    CHECK_EQ_U64(cp_bad, 0);
    CHECK_EQ_U64(cp_final, versions);
    CHECK_EQ_U64(torn, 0);
    CHECK_EQ_U64(bad, 0);
    CHECK_MSG(worst == 0, "a reader was left %" PRIu64 " versions behind", worst);
    return 0;
}
