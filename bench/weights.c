/* weights.c — benchmark of the weights channel, one line per snapshot size
 * (40 KiB, 4 MiB, 64 MiB of float32):
 *
 *   memcpy     the peer: a plain memcpy of the same size from the same
 *              private source into destinations of the same kind of memory
 *              as the channel's (shared anonymous pages), taken round-robin,
 *              as many as the channel has buffers
 *   publish    ours: dshq_weights_publish (begin: scan the reader pins and
 *              pick a buffer; memcpy into it; commit: stamp, flip, notify),
 *              with a reader attached and holding a view;  runs alternate
 *              with the memcpy runs, so both see the same machine;  ratio =
 *              publish / memcpy
 *   adopt_new  ours: a reader thread sleeps in dshq_weights_wait, wakes on
 *              each new version and adopts it: ns per dshq_weights_adopt
 *              call that returns NEW (clock overhead subtracted; the
 *              control line comes from the writer's core); no byte is copied
 *   adopt_same ns per adopt call when nothing is new (the polling cost)
 *   copy_out   the seqlock-style alternative: dshq_weights_copy_out of the
 *              newest snapshot into a private buffer (copy + validation):
 *              what a reader pays per version without zero-copy adoption;
 *              c/memcpy is its ratio to a plain memcpy of the same buffer
 *              into the same private buffer, run alternately
 *
 * Every figure is the median of repeated runs (more for small sizes).
 * Never run by `make test`.  Usage: build/bench/weights [--sizes 40k,4m,64m] [--cpus A,B]
 *                                                       [--reps-scale X] */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dshq/error.h"
#include "dshq/region.h"
#include "dshq/wait.h"
#include "dshq/weights.h"
#include "placement.h"

#define READERS 2u
#define NBUF (READERS + 2)

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return v[n / 2];
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench/weights: %s: %s\n", what, dshq_strerror(rc));
    exit(1);
}

/* The adopting reader thread. */
struct adopter {
    struct dshq_weights *ch;
    int n;                       /* adoptions to time */
    uint64_t *ns;                /* [n] */
    _Atomic int done;            /* adoptions timed so far */
    _Atomic int ready;
    uint64_t same_ns_x1000;      /* adopt cost with nothing new, ps */
};

static void *adopter_main(void *arg)
{
    struct adopter *a = arg;
    place_pin(1); /* --cpus: the reader on the second CPU */
    struct dshq_weights_reader *rd;
    int rc = dshq_weights_reader_attach(a->ch, 0, &rd);
    if (rc)
        die("reader attach", rc);
    struct dshq_weights_view v = {0};
    dshq_weights_adopt(rd, &v);
    /* The polling cost first: nothing is published meanwhile. */
    const int same_calls = 2000000;
    uint64_t t0 = dshq_now_ns();
    for (int i = 0; i < same_calls; i++)
        if (dshq_weights_adopt(rd, &v) != DSHQ_WEIGHTS_SAME)
            die("adopt (same)", -1);
    a->same_ns_x1000 = (dshq_now_ns() - t0) * 1000 / same_calls;
    atomic_store(&a->ready, 1);
    uint64_t last = v.version;
    for (int i = 0; i < a->n; i++) {
        while (dshq_weights_version(a->ch) <= last)
            dshq_weights_wait(a->ch, last, 1000000);
        uint64_t s = dshq_now_ns();
        rc = dshq_weights_adopt(rd, &v);
        uint64_t e = dshq_now_ns();
        if (rc == DSHQ_WEIGHTS_SAME) { /* commit still in flight: again */
            i--;
            continue;
        }
        if (rc != DSHQ_WEIGHTS_NEW)
            die("adopt", rc);
        a->ns[i] = e - s;
        last = v.version;
        atomic_store_explicit(&a->done, i + 1, memory_order_release);
    }
    dshq_weights_reader_detach(rd);
    return NULL;
}

static uint64_t clock_overhead(void)
{
    uint64_t d[1001];
    for (int i = 0; i < 1001; i++) {
        uint64_t s = dshq_now_ns();
        d[i] = dshq_now_ns() - s;
    }
    return median(d, 1001);
}

static void human_time(uint64_t ns, char *buf, size_t len)
{
    if (ns < 10000)
        snprintf(buf, len, "%.2f us", (double)ns / 1e3);
    else if (ns < 10000000)
        snprintf(buf, len, "%.1f us", (double)ns / 1e3);
    else
        snprintf(buf, len, "%.2f ms", (double)ns / 1e6);
}

static void run_size(uint64_t bytes, const char *label, double reps_scale)
{
    uint64_t n = bytes / sizeof(float);
    int reps = bytes <= (64u << 10) ? 2001 : bytes <= (8u << 20) ? 101 : 11;
    reps = (int)(reps * reps_scale) | 1;
    if (reps < 3)
        reps = 3;

    struct dshq_layout l;
    dshq_layout_init(&l);
    dshq_layout_add(&l, DSHQ_SECTION_WEIGHTS, "policy", DSHQ_WEIGHTS_VERSION,
                    dshq_weights_layout(n, READERS), DSHQ_PAGE_ALIGN, 1);
    struct dshq_region *r;
    int rc = dshq_region_create_anon(&l, &r);
    if (rc)
        die("region", rc);
    void *sec;
    uint64_t size;
    dshq_region_find(r, DSHQ_SECTION_WEIGHTS, "policy", 0, &sec, &size);
    if ((rc = dshq_weights_init(sec, size, n, READERS, 1)))
        die("init", rc);
    dshq_region_mark_ready(r);
    struct dshq_weights *ch;
    struct dshq_weights_writer *w;
    if ((rc = dshq_weights_open(sec, size, &ch)) || (rc = dshq_weights_writer_attach(ch, &w)))
        die("open", rc);

    float *src = malloc(bytes), *dst[NBUF], *copy = malloc(bytes);
    if (!src || !copy)
        die("malloc", -12);
    for (uint64_t i = 0; i < n; i++)
        src[i] = (float)(i & 0xffff);
    memset(copy, 0, bytes);
    for (unsigned b = 0; b < NBUF; b++) {
        dst[b] = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (dst[b] == MAP_FAILED)
            die("mmap", -12);
        memset(dst[b], 0, bytes);
    }
    for (unsigned b = 0; b < 2 * NBUF; b++) /* fault every buffer in */
        dshq_weights_publish(w, src, b);

    uint64_t *t = calloc((size_t)reps, sizeof *t), *tp = calloc((size_t)reps, sizeof *tp);
    /* 1 + 2. The peer (memcpy) and publish, alternating; the reader holds
     * a view meanwhile (adopted once, then idle). */
    struct dshq_weights_reader *holder;
    struct dshq_weights_view hv;
    if ((rc = dshq_weights_reader_attach(ch, 0, &holder)))
        die("reader attach", rc);
    dshq_weights_adopt(holder, &hv);
    for (int i = 0; i < reps; i++) {
        uint64_t s = dshq_now_ns();
        memcpy(dst[i % NBUF], src, bytes);
        t[i] = dshq_now_ns() - s;
        s = dshq_now_ns();
        int64_t v = dshq_weights_publish(w, src, (uint64_t)i);
        tp[i] = dshq_now_ns() - s;
        if (v < 0)
            die("publish", (int)v);
    }
    dshq_weights_reader_detach(holder);
    uint64_t memcpy_ns = median(t, reps);
    uint64_t publish_ns = median(tp, reps);

    /* 3. Adopt latency: a reader thread adopts every new version. */
    struct adopter a = {.ch = ch, .n = reps};
    a.ns = calloc((size_t)reps, sizeof *a.ns);
    pthread_t th;
    pthread_create(&th, NULL, adopter_main, &a);
    while (!atomic_load(&a.ready))
        usleep(100);
    for (int i = 0; i < reps; i++) {
        int64_t v = dshq_weights_publish(w, src, (uint64_t)i);
        if (v < 0)
            die("publish", (int)v);
        while (atomic_load_explicit(&a.done, memory_order_acquire) < i + 1)
            sched_yield();
    }
    pthread_join(th, NULL);
    uint64_t over = clock_overhead();
    double rtt = place_probe(); /* the two CPUs, right after the adopt runs */
    uint64_t adopt_ns = median(a.ns, reps);
    adopt_ns = adopt_ns > over ? adopt_ns - over : 0;

    /* 4. Seqlock-style copy-out of the same size, alternating with its
     * peer: a plain memcpy of the same active buffer into the same private
     * buffer (so the ratio is the cost of the validation). */
    uint64_t *tc = calloc((size_t)reps, sizeof *tc);
    const float *active = NULL;
    {
        struct dshq_weights_reader *rd;
        struct dshq_weights_view av;
        if ((rc = dshq_weights_reader_attach(ch, 0, &rd)) || dshq_weights_adopt(rd, &av) < 0)
            die("reader", rc);
        active = av.params;
        for (int i = 0; i < reps; i++) {
            struct dshq_weights_info info;
            uint64_t s = dshq_now_ns();
            rc = dshq_weights_copy_out(ch, 0, copy, n, &info);
            tc[i] = dshq_now_ns() - s;
            if (rc)
                die("copy_out", rc);
            s = dshq_now_ns();
            memcpy(copy, active, bytes);
            t[i] = dshq_now_ns() - s;
        }
        dshq_weights_reader_detach(rd);
    }
    uint64_t copy_ns = median(tc, reps);
    uint64_t copy_peer_ns = median(t, reps);
    free(tc);

    char m[32], p[32], c[32];
    human_time(memcpy_ns, m, sizeof m);
    human_time(publish_ns, p, sizeof p);
    human_time(copy_ns, c, sizeof c);
    printf("%-7s %5d  %6.0f  %11s  %11s  %6.2fx  %8llu ns  %7.2f ns  %11s  %6.2fx\n", label, reps,
           rtt, m, p,
           (double)publish_ns / (double)memcpy_ns, (unsigned long long)adopt_ns,
           (double)a.same_ns_x1000 / 1000.0, c, (double)copy_ns / (double)copy_peer_ns);
    fflush(stdout);

    free(a.ns);
    free(t);
    free(tp);
    for (unsigned b = 0; b < NBUF; b++)
        munmap(dst[b], bytes);
    free(src);
    free(copy);
    dshq_weights_writer_detach(w);
    dshq_weights_close(ch);
    dshq_region_destroy(r);
}

static uint64_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024;
    return (uint64_t)(v * (double)mul) & ~UINT64_C(3);
}

int main(int argc, char **argv)
{
    const char *sizes = "40k,4m,64m";
    double reps_scale = 1.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sizes") && i + 1 < argc)
            sizes = argv[++i];
        else if (!strcmp(argv[i], "--reps-scale") && i + 1 < argc)
            reps_scale = atof(argv[++i]);
        else if (!strcmp(argv[i], "--cpus") && i + 1 < argc) {
            if (place_parse(argv[++i])) {
                fprintf(stderr, "--cpus wants A,B (writer, reader)\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [--sizes 40k,4m,64m] [--reps-scale X] [--cpus A,B]\n",
                    argv[0]);
            return 2;
        }
    }
    printf("weights channel: %u readers (%u buffers), medians; memcpy = peer, "
           "ratio = publish/memcpy; adopt copies nothing; copy_out = seqlock copy\n",
           READERS, NBUF);
    char where[64];
    place_pin(0); /* --cpus: the writer (this thread) on the first CPU */
    printf("placement: %s (writer, reader); rtt: cache-line round trip (ns) between "
           "the writer's and the reader's CPUs, probed after each row's adopt runs\n",
           place_describe(where, sizeof where));
    printf("%-7s %5s  %6s  %11s  %11s  %7s  %11s  %10s  %11s  %7s\n", "size", "runs", "rtt", "memcpy",
           "publish", "ratio", "adopt_new", "adopt_same", "copy_out", "c/memcpy");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", sizes);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        uint64_t bytes = parse_size(tok);
        if (bytes < 4) {
            fprintf(stderr, "bad size '%s'\n", tok);
            return 2;
        }
        char label[32];
        if (bytes >= (1u << 20))
            snprintf(label, sizeof label, "%g MB", (double)bytes / (1 << 20));
        else
            snprintf(label, sizeof label, "%g KB", (double)bytes / 1024);
        run_size(bytes, label, reps_scale);
    }
    return 0;
}
