/* Telemetry seqlock under fire: a writer publishes as fast as it can while
 * readers copy snapshots out.  Every blob is filled with a pattern derived
 * from its publication number k (stored in its first word), so a torn copy
 * — bytes from two publications — is caught byte by byte; info.publications
 * must equal k (the header fields belong to the same publication as the
 * bytes), and k never goes backwards for one reader.
 *
 * Part 1 (threads, what ThreadSanitizer checks): one writer thread, three
 * reader threads.  Part 2 (processes): the writer is a forked child on a
 * named region; the parent reads. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "dshq/region.h"
#include "dshq/telemetry.h"
#include "dshq/wait.h"

#define BLOB 224u
#define READERS 3
#define RUN_NS (UINT64_C(600) * 1000000)

static void *g_mem;
static uint64_t g_size;
static _Atomic int g_stop;

static void fill(unsigned char *b, uint64_t k)
{
    memcpy(b, &k, 8);
    for (uint32_t i = 8; i < BLOB; i++)
        b[i] = (unsigned char)(k * 131 + i * 29 + (k >> 8));
}

static void writer_loop(struct dshq_telemetry *t, uint64_t until_ns)
{
    unsigned char b[BLOB];
    for (uint64_t k = 1;; k++) {
        fill(b, k);
        CHECK_EQ_INT(dshq_telemetry_publish(t, 0xfeed, b, BLOB), 0);
        if ((k & 255) == 0) {
            if (atomic_load_explicit(&g_stop, memory_order_relaxed) || dshq_now_ns() > until_ns)
                break;
            sched_yield(); /* on 2 cores, let readers run now and then */
        }
    }
}

struct reader_result {
    uint64_t good, again, last_k;
};

/* Reads until stop_fn says so; checks every byte of every snapshot. */
static void reader_loop(struct reader_result *res, int (*stop_fn)(void))
{
    unsigned char b[BLOB], want[BLOB];
    memset(res, 0, sizeof *res);
    while (!stop_fn()) {
        struct dshq_telemetry_info info;
        int rc = dshq_telemetry_read(g_mem, g_size, 0xfeed, b, sizeof b, &info);
        if (rc == -ENODATA)
            continue;
        if (rc == -EAGAIN) {
            res->again++;
            continue;
        }
        CHECK_EQ_INT(rc, (int)BLOB);
        uint64_t k;
        memcpy(&k, b, 8);
        fill(want, k);
        for (uint32_t i = 0; i < BLOB; i++)
            CHECK_MSG(b[i] == want[i], "torn snapshot: publication %llu, byte %u",
                      (unsigned long long)k, i);
        CHECK_EQ_U64(info.publications, k);
        CHECK(k >= res->last_k);
        res->last_k = k;
        res->good++;
    }
}

static int stop_flag(void)
{
    return atomic_load_explicit(&g_stop, memory_order_relaxed);
}

static void *reader_thread(void *arg)
{
    reader_loop(arg, stop_flag);
    return NULL;
}

static void *writer_thread(void *arg)
{
    writer_loop(arg, dshq_now_ns() + RUN_NS);
    atomic_store_explicit(&g_stop, 1, memory_order_relaxed);
    return NULL;
}

static pid_t g_child;
static int child_done(void)
{
    int st;
    pid_t p = waitpid(g_child, &st, WNOHANG);
    if (p == 0)
        return 0;
    CHECK_EQ_INT(p, g_child);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer child failed");
    return 1;
}

static void setup(struct dshq_region *r)
{
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_TELEMETRY, "telemetry", 0, &g_mem, &g_size), 0);
    CHECK_EQ_INT(dshq_telemetry_init(g_mem, g_size, BLOB, 4), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
}

int main(void)
{
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_TELEMETRY, "telemetry", DSHQ_TELEMETRY_VERSION,
                          dshq_telemetry_bytes(BLOB, 4), 64, dshq_telemetry_shape_hash()) >= 0);

    /* Part 2 first (fork before any thread exists). */
    char name[64];
    test_region_name(name, sizeof name, "tele");
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_create(name, &l, 0, &r), 0);
    setup(r);
    g_child = fork();
    CHECK(g_child >= 0);
    if (g_child == 0) {
        struct dshq_region *a;
        void *mem;
        uint64_t size;
        CHECK_EQ_INT(dshq_region_attach(name, 0, DSHQ_ABI_MINOR, &a), 0);
        CHECK_EQ_INT(dshq_region_find(a, DSHQ_SECTION_TELEMETRY, "telemetry",
                                      dshq_telemetry_shape_hash(), &mem, &size), 0);
        struct dshq_telemetry *t;
        CHECK_EQ_INT(dshq_telemetry_attach(mem, size, DSHQ_TELEMETRY_WRITER, &t), 0);
        writer_loop(t, dshq_now_ns() + RUN_NS);
        _exit(0);
    }
    struct reader_result pr;
    reader_loop(&pr, child_done);
    CHECK_MSG(pr.good > 0, "no snapshot read while the writer process ran");
    printf("processes: %llu snapshots checked, %llu gave up (-EAGAIN), last publication %llu\n",
           (unsigned long long)pr.good, (unsigned long long)pr.again,
           (unsigned long long)pr.last_k);
    /* After the writer is gone the last snapshot is stable and complete. */
    unsigned char b[BLOB], want[BLOB];
    struct dshq_telemetry_info info;
    CHECK_EQ_INT(dshq_telemetry_read(g_mem, g_size, 0xfeed, b, sizeof b, &info), (int)BLOB);
    fill(want, info.publications);
    CHECK(memcmp(b, want, BLOB) == 0);
    CHECK(info.publications >= pr.last_k);
    dshq_region_destroy(r);

    /* Part 1: threads on an anonymous region. */
    CHECK_EQ_INT(dshq_region_create_anon(&l, &r), 0);
    setup(r);
    struct dshq_telemetry *w;
    CHECK_EQ_INT(dshq_telemetry_attach(g_mem, g_size, DSHQ_TELEMETRY_WRITER, &w), 0);
    pthread_t wt, rt[READERS];
    struct reader_result res[READERS];
    for (int i = 0; i < READERS; i++)
        CHECK_EQ_INT(pthread_create(&rt[i], NULL, reader_thread, &res[i]), 0);
    CHECK_EQ_INT(pthread_create(&wt, NULL, writer_thread, w), 0);
    CHECK_EQ_INT(pthread_join(wt, NULL), 0);
    uint64_t good = 0, again = 0;
    for (int i = 0; i < READERS; i++) {
        CHECK_EQ_INT(pthread_join(rt[i], NULL), 0);
        good += res[i].good;
        again += res[i].again;
    }
    CHECK_MSG(good > 0, "no snapshot read while the writer thread ran");
    printf("threads: %llu snapshots checked by %d readers, %llu gave up (-EAGAIN)\n",
           (unsigned long long)good, READERS, (unsigned long long)again);
    dshq_telemetry_detach(w);
    dshq_region_destroy(r);
    puts("telemetry seqlock: ok");
    return 0;
}
