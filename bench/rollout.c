/* rollout.c — benchmark of the rollout transport (lanes and the MPSC ring)
 * beside the usual ways of moving the same bytes between processes.
 *
 * Part 1, chunk throughput: one producer process -> one consumer process,
 * chunks of 4 KiB, 64 KiB, 1 MiB and 8 MiB.  The producer writes every byte
 * of every chunk (word i of chunk k := k + i), the consumer reads every byte
 * (sums the words and checks the sum).  The same fill and read loops run for
 * every method:
 *   lanes, mpsc   ours: claim -> fill in place -> commit / poll -> sum in
 *                 place -> release (block policy, 8 slots)
 *   pipe          fill a private buffer, write(); read() into one, sum
 *                 (pipe buffer raised to the system maximum)
 *   unix          the same over a SOCK_STREAM socketpair (4 MiB buffers)
 *   zmq           ZeroMQ ipc PUSH/PULL: fill zmq_msg_data, zmq_msg_send;
 *                 zmq_msg_recv, sum zmq_msg_data in place (HWM 8)
 *   nng           nng ipc push0/pull0: fill nng_msg_body, nng_sendmsg;
 *                 nng_recvmsg, sum the body in place (buffers 8)
 *   memcpy        one process copying chunk-sized buffers: the limit.
 * GB/s = 1e9 bytes of chunks delivered (and checked) per second; the median
 * of --reps runs of --mib MiB each.
 *
 * Part 2, small records: 64-byte records, 2 producer processes -> 1
 * consumer process, records/s.  Ours (the MPSC ring with 64-byte slots, and
 * two lanes) beside Concurrency Kit's ck_ring (typed MPSC ring, records by
 * value) and DPDK's rte_ring (MP enqueue / SC dequeue of 64-byte elements,
 * initialized with rte_ring_init on memory we map, no EAL).  Every method
 * copies the 64 bytes in and out and the consumer checks each producer's
 * sequence.  Peers spin on full/empty with a pause and a sched_yield every
 * 64 failures; ours uses its block policy (bounded spin, then futex sleep).
 *
 * Placement (bench/placement.h): --cpus A,B[,C] pins the consumer to A,
 * the (first) producer to B and the second producer to C (B if absent);
 * each part-1 row and each part-2 round first probes the cache-line round
 * trip between the consumer's and the producer's CPUs and prints it (ns):
 * ~50-100 close, ~300+ far, microseconds on one CPU.  Every run is a child
 * bounded by --limit seconds (default 30) and prints "collapsed" when it
 * does not finish, instead of hanging.  Part 1 also measures the limit for
 * lanes: a bare shared-memory handoff (producer fills a slot, one flag,
 * consumer reads; no protocol).  Part 2 adds our batch API (32 per claim)
 * beside rte_ring's bulk-32 enqueue, and interleaves the runs of all
 * methods round by round so that each round sees one machine state.
 *
 * Peers missing at build time (bench/rollout.mk looks for them) print n/a.
 * Never run by `make test`.  Usage:
 *   build/bench/rollout [--reps N] [--mib M] [--records N] [--part 1|2]
 *                       [--sizes 4k,64k,1m,8m] [--cpus A,B[,C]] [--limit S]
 *                       [--only NAME]  (part 2 methods whose name has NAME)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dshq/error.h"
#include "dshq/region.h"
#include "dshq/rollout.h"
#include "dshq/wait.h"
#include "placement.h"

#ifndef HAVE_ZMQ
#define HAVE_ZMQ 0
#endif
#ifndef HAVE_NNG
#define HAVE_NNG 0
#endif
#ifndef HAVE_CK
#define HAVE_CK 0
#endif
#ifndef HAVE_DPDK
#define HAVE_DPDK 0
#endif

#if HAVE_ZMQ
#include <zmq.h>
#endif
#if HAVE_NNG
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#endif
#if HAVE_CK
#include <ck_ring.h>
#endif
#if HAVE_DPDK
#include <rte_ring.h>
#include <rte_ring_elem.h>
#endif

/* Helpers only some peers use, when those peers are compiled out. */
#define MAYBE_UNUSED __attribute__((unused))

#define DIE(...)                                                              \
    do {                                                                      \
        fprintf(stderr, "bench/rollout: " __VA_ARGS__);                       \
        fputc('\n', stderr);                                                  \
        exit(1);                                                              \
    } while (0)

static int reps = 5;
/* Queue depth in chunks for part 1 (our ring capacity, ZeroMQ's HWM, nng's
 * buffers), and the untimed warm-up lap: min(8, 16 MiB / chunk), at least
 * 2, so that every ring stays within the last-level cache as it would for a
 * trainer's working set. */
static uint32_t depth = 8;
static uint64_t mib_per_rep = 256;
static uint64_t records_per_producer = 2000000;

/* ------------------------------------------------------------ the work */

/* Writes every byte of a chunk: word i of chunk k is k + i.  Words go
 * through memcpy, so any alignment works (ZeroMQ hands out message bodies
 * at odd addresses); the compiler turns both loops into vector moves. */
static void fill(void *p, size_t bytes, uint64_t k)
{
    unsigned char *c = p;
    size_t n = bytes / 8;
    for (size_t i = 0; i < n; i++) {
        uint64_t w = k + i;
        memcpy(c + 8 * i, &w, 8);
    }
}

/* Reads every byte of a chunk. */
static uint64_t sum(const void *p, size_t bytes)
{
    const unsigned char *c = p;
    size_t n = bytes / 8;
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t w;
        memcpy(&w, c + 8 * i, 8);
        s += w;
    }
    return s;
}

static uint64_t expected(size_t bytes, uint64_t k)
{
    uint64_t n = bytes / 8;
    return n * k + n * (n - 1) / 2;
}

static void check(const void *p, size_t bytes, uint64_t k)
{
    if (sum(p, bytes) != expected(bytes, k))
        DIE("chunk %llu: wrong checksum", (unsigned long long)k);
}

/* ----------------------------------------------------- process plumbing */

struct duo {
    int to_child[2], to_parent[2];
    pid_t pid;
};

static void duo_open(struct duo *d)
{
    if (pipe(d->to_child) || pipe(d->to_parent))
        DIE("pipe: %s", strerror(errno));
}

static void say(int fd)
{
    if (write(fd, "x", 1) != 1)
        DIE("sync write: %s", strerror(errno));
}

static void hear(int fd)
{
    char c;
    if (read(fd, &c, 1) != 1)
        DIE("sync read: %s", strerror(errno));
}

/* fork() whose child dies with this process (never left blocked on a
 * ring or a socket when the benchmark stops). */
static pid_t fork_child_role(int role)
{
    pid_t parent = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        DIE("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        place_pin(role);
    }
    return pid;
}

/* A producer (role 1) unless said otherwise. */
static pid_t fork_child(void)
{
    return fork_child_role(1);
}

static void reap(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        DIE("child %d failed (status 0x%x)", (int)pid, st);
}

static void *xalloc(size_t bytes)
{
    void *p = aligned_alloc(4096, (bytes + 4095) & ~(size_t)4095);
    if (!p)
        DIE("out of memory");
    memset(p, 0, bytes);
    return p;
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            DIE("write: %s", strerror(errno));
        c += w;
        n -= (size_t)w;
    }
}

static void read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            DIE("read: %s", r ? strerror(errno) : "eof");
        c += r;
        n -= (size_t)r;
    }
}

/* ------------------------------------------------------- part 1 methods */

/* Each returns the seconds the consumer took from "start" to the last
 * chunk checked.  n chunks of `bytes` each. */

/* The limit: one process copying chunk-sized buffers, cycling through
 * `depth` sources and `depth` destinations (the working set of a ring of
 * that depth, on both sides). */
static double run_memcpy(size_t bytes, uint64_t n)
{
    unsigned char *src[8], *dst[8];
    for (uint32_t i = 0; i < depth; i++) {
        src[i] = xalloc(bytes);
        dst[i] = xalloc(bytes);
        fill(src[i], bytes, i);
        memcpy(dst[i], src[i], bytes); /* untimed: fault everything in */
    }
    uint64_t t0 = dshq_now_ns();
    for (uint64_t k = 0; k < n; k++)
        memcpy(dst[k % depth], src[k % depth], bytes);
    uint64_t t1 = dshq_now_ns();
    uint64_t s = 0;
    for (uint32_t i = 0; i < depth; i++) {
        s += sum(dst[i], bytes); /* the copies are used */
        free(src[i]);
        free(dst[i]);
    }
    if (s == 42)
        printf(" ");
    return (double)(t1 - t0) / 1e9;
}

static struct dshq_region *ring_region(uint32_t kind, const struct dshq_ring_params *p,
                                       void **sec, uint64_t *size)
{
    struct dshq_layout l;
    dshq_layout_init(&l);
    uint64_t need = kind == DSHQ_SECTION_LANES ? dshq_lanes_size(p) : dshq_mpsc_size(p);
    if (dshq_layout_add(&l, kind, "bench", 1, need, DSHQ_PAGE_ALIGN, 0) < 0)
        DIE("layout");
    struct dshq_region *r;
    int rc = dshq_region_create_anon(&l, &r);
    if (rc)
        DIE("region: %s", dshq_strerror(rc));
    if (dshq_region_find(r, kind, "bench", 0, sec, size))
        DIE("find");
    rc = kind == DSHQ_SECTION_LANES ? dshq_lanes_init(*sec, *size, p)
                                    : dshq_mpsc_init(*sec, *size, p);
    if (rc || dshq_region_mark_ready(r))
        DIE("init: %s", dshq_strerror(rc));
    return r;
}

static double run_lanes(size_t bytes, uint64_t n)
{
    struct dshq_ring_params p = {.slot_size = bytes, .capacity = depth, .producers = 1,
                                 .policy = DSHQ_RING_BLOCK};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ring_region(DSHQ_SECTION_LANES, &p, &sec, &size);
    struct duo d;
    duo_open(&d);
    if ((d.pid = fork_child()) == 0) {
        struct dshq_lane_producer *pr;
        if (dshq_lane_producer_open(sec, size, 0, &pr))
            _exit(1);
        say(d.to_parent[1]);
        hear(d.to_child[0]);
        for (uint64_t k = 0; k < n + depth; k++) {
            struct dshq_slot s;
            if (dshq_lane_claim(pr, -1, &s))
                _exit(1);
            fill(s.data, bytes, k);
            dshq_lane_commit(pr);
        }
        dshq_lane_producer_close(pr);
        _exit(0);
    }
    struct dshq_lane_consumer *c;
    if (dshq_lane_consumer_open(sec, size, &c))
        DIE("consumer");
    hear(d.to_parent[0]);
    uint64_t t0 = 0;
    say(d.to_child[1]);
    for (uint64_t k = 0; k < n + depth; k++) {
        if (k == depth)
            t0 = dshq_now_ns(); /* after one untimed lap: steady state */
        struct dshq_slot s;
        if (dshq_lane_poll(c, -1, &s))
            DIE("poll");
        check(s.data, bytes, k);
        dshq_lane_release(c, &s);
    }
    uint64_t t1 = dshq_now_ns();
    reap(d.pid);
    dshq_lane_consumer_close(c);
    dshq_region_destroy(r);
    return (double)(t1 - t0) / 1e9;
}

static double run_mpsc(size_t bytes, uint64_t n)
{
    struct dshq_ring_params p = {.slot_size = bytes, .capacity = depth, .producers = 1,
                                 .policy = DSHQ_RING_BLOCK};
    void *sec;
    uint64_t size;
    struct dshq_region *r = ring_region(DSHQ_SECTION_MPSC, &p, &sec, &size);
    struct duo d;
    duo_open(&d);
    if ((d.pid = fork_child()) == 0) {
        struct dshq_mpsc_producer *pr;
        if (dshq_mpsc_producer_open(sec, size, &pr))
            _exit(1);
        say(d.to_parent[1]);
        hear(d.to_child[0]);
        for (uint64_t k = 0; k < n + depth; k++) {
            struct dshq_slot s;
            if (dshq_mpsc_claim(pr, -1, &s))
                _exit(1);
            fill(s.data, bytes, k);
            dshq_mpsc_commit(pr);
        }
        dshq_mpsc_producer_close(pr);
        _exit(0);
    }
    struct dshq_mpsc_consumer *c;
    if (dshq_mpsc_consumer_open(sec, size, &c))
        DIE("consumer");
    hear(d.to_parent[0]);
    uint64_t t0 = 0;
    say(d.to_child[1]);
    for (uint64_t k = 0; k < n + depth; k++) {
        if (k == depth)
            t0 = dshq_now_ns(); /* after one untimed lap: steady state */
        struct dshq_slot s;
        if (dshq_mpsc_poll(c, -1, &s))
            DIE("poll");
        check(s.data, bytes, k);
        dshq_mpsc_release(c, &s);
    }
    uint64_t t1 = dshq_now_ns();
    reap(d.pid);
    dshq_mpsc_consumer_close(c);
    dshq_region_destroy(r);
    return (double)(t1 - t0) / 1e9;
}

/* The limit for lanes: a bare shared-memory handoff, no protocol.  `depth`
 * slots, one flag word per slot (its own cache line): the producer waits
 * for the flag to be 0, fills the slot, stores 1 (release); the consumer
 * waits for 1, reads the slot, stores 0 (release).  Waits spin with a pause
 * and yield every 64 tries (so it also runs with both on one CPU). */
struct bare_ring {
    _Alignas(64) _Atomic uint64_t flag;
    char pad[56];
};

static void bare_wait(_Atomic uint64_t *f, uint64_t want)
{
    unsigned spins = 0;
    /* Acquire pairs with the other side's release store. */
    while (atomic_load_explicit(f, memory_order_acquire) != want) {
        if (++spins % 64 == 0)
            sched_yield();
        else
            __builtin_ia32_pause();
    }
}

static void *shared_map(size_t bytes);

static double run_bare(size_t bytes, uint64_t n)
{
    struct bare_ring *flags = shared_map(depth * sizeof *flags);
    unsigned char *slots = shared_map(depth * bytes);
    struct duo d;
    duo_open(&d);
    if ((d.pid = fork_child()) == 0) {
        say(d.to_parent[1]);
        hear(d.to_child[0]);
        for (uint64_t k = 0; k < n + depth; k++) {
            uint32_t i = (uint32_t)(k % depth);
            bare_wait(&flags[i].flag, 0);
            fill(slots + (size_t)i * bytes, bytes, k);
            atomic_store_explicit(&flags[i].flag, 1, memory_order_release);
        }
        _exit(0);
    }
    hear(d.to_parent[0]);
    uint64_t t0 = 0;
    say(d.to_child[1]);
    for (uint64_t k = 0; k < n + depth; k++) {
        if (k == depth)
            t0 = dshq_now_ns(); /* after one untimed lap: steady state */
        uint32_t i = (uint32_t)(k % depth);
        bare_wait(&flags[i].flag, 1);
        check(slots + (size_t)i * bytes, bytes, k);
        atomic_store_explicit(&flags[i].flag, 0, memory_order_release);
    }
    uint64_t t1 = dshq_now_ns();
    reap(d.pid);
    munmap(flags, depth * sizeof *flags);
    munmap(slots, depth * bytes);
    return (double)(t1 - t0) / 1e9;
}

/* pipe and unix socket: the same byte stream code over two fds. */
static double run_stream(size_t bytes, uint64_t n, int rfd, int wfd)
{
    struct duo d;
    duo_open(&d);
    if ((d.pid = fork_child()) == 0) {
        close(rfd);
        void *buf = xalloc(bytes);
        say(d.to_parent[1]);
        hear(d.to_child[0]);
        for (uint64_t k = 0; k < n + depth; k++) {
            fill(buf, bytes, k);
            write_all(wfd, buf, bytes);
        }
        _exit(0);
    }
    close(wfd);
    void *buf = xalloc(bytes);
    hear(d.to_parent[0]);
    uint64_t t0 = 0;
    say(d.to_child[1]);
    for (uint64_t k = 0; k < n + depth; k++) {
        if (k == depth)
            t0 = dshq_now_ns(); /* after one untimed lap: steady state */
        read_all(rfd, buf, bytes);
        check(buf, bytes, k);
    }
    uint64_t t1 = dshq_now_ns();
    reap(d.pid);
    close(rfd);
    free(buf);
    return (double)(t1 - t0) / 1e9;
}

static double run_pipe(size_t bytes, uint64_t n)
{
    int p[2];
    if (pipe(p))
        DIE("pipe");
    int max = 1 << 20;
    FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
    if (f) {
        if (fscanf(f, "%d", &max) != 1)
            max = 1 << 20;
        fclose(f);
    }
    fcntl(p[1], F_SETPIPE_SZ, max); /* best effort: the largest pipe allowed */
    return run_stream(bytes, n, p[0], p[1]);
}

static double run_unix(size_t bytes, uint64_t n)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        DIE("socketpair");
    int sz = 4 << 20;
    for (int i = 0; i < 2; i++) {
        setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    }
    return run_stream(bytes, n, sv[0], sv[1]);
}

static char ipc_path[128];

/* ZeroMQ and nng keep threads and state that do not survive fork(), so
 * both of their ends run in children of the (never initialized) main
 * process; the consumer child sends its elapsed time back through a pipe. */
struct peer_run {
    struct duo prod;   /* main <-> producer child */
    int cons_ready[2]; /* consumer child -> main: ready, then the result */
    int cons_go[2];    /* main -> consumer child */
};

static MAYBE_UNUSED double peer_finish(struct peer_run *r, pid_t cons)
{
    double secs;
    read_all(r->cons_ready[0], &secs, sizeof secs);
    reap(cons);
    reap(r->prod.pid);
    for (int k = 0; k < 2; k++) {
        close(r->prod.to_child[k]);
        close(r->prod.to_parent[k]);
        close(r->cons_ready[k]);
        close(r->cons_go[k]);
    }
    return secs;
}

static MAYBE_UNUSED void peer_open(struct peer_run *r)
{
    duo_open(&r->prod);
    if (pipe(r->cons_ready) || pipe(r->cons_go))
        DIE("pipe: %s", strerror(errno));
}

#if HAVE_ZMQ
static double run_zmq(size_t bytes, uint64_t n)
{
    char ep[160];
    snprintf(ep, sizeof ep, "ipc://%s.zmq", ipc_path);
    int hwm = (int)depth;
    struct peer_run r;
    peer_open(&r);
    if ((r.prod.pid = fork_child()) == 0) {
        void *ctx = zmq_ctx_new();
        void *s = zmq_socket(ctx, ZMQ_PUSH);
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        if (zmq_bind(s, ep))
            _exit(1);
        say(r.prod.to_parent[1]);
        hear(r.prod.to_child[0]);
        for (uint64_t k = 0; k < n + depth; k++) {
            zmq_msg_t m;
            zmq_msg_init_size(&m, bytes);
            fill(zmq_msg_data(&m), bytes, k);
            if (zmq_msg_send(&m, s, 0) < 0)
                _exit(1);
        }
        hear(r.prod.to_child[0]); /* all received: close without losing any */
        zmq_close(s);
        zmq_ctx_term(ctx);
        _exit(0);
    }
    hear(r.prod.to_parent[0]); /* bound */
    pid_t cons = fork_child_role(0);
    if (cons == 0) {
        void *ctx = zmq_ctx_new();
        void *s = zmq_socket(ctx, ZMQ_PULL);
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
        if (zmq_connect(s, ep))
            _exit(1);
        say(r.cons_ready[1]);
        hear(r.cons_go[0]);
        uint64_t t0 = 0;
        say(r.prod.to_child[1]);
        for (uint64_t k = 0; k < n + depth; k++) {
            if (k == depth)
                t0 = dshq_now_ns(); /* after one untimed lap: steady state */
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s, 0) != (int)bytes)
                DIE("zmq_msg_recv");
            check(zmq_msg_data(&m), bytes, k);
            zmq_msg_close(&m);
        }
        double secs = (double)(dshq_now_ns() - t0) / 1e9;
        say(r.prod.to_child[1]);
        write_all(r.cons_ready[1], &secs, sizeof secs);
        zmq_close(s);
        zmq_ctx_term(ctx);
        _exit(0);
    }
    hear(r.cons_ready[0]);
    say(r.cons_go[1]);
    double secs = peer_finish(&r, cons);
    unlink(ep + 6);
    return secs;
}
#endif

#if HAVE_NNG
static double run_nng(size_t bytes, uint64_t n)
{
    char url[160];
    snprintf(url, sizeof url, "ipc://%s.nng", ipc_path);
    struct peer_run r;
    peer_open(&r);
    if ((r.prod.pid = fork_child()) == 0) {
        nng_socket s;
        if (nng_push0_open(&s))
            _exit(1);
        nng_socket_set_int(s, NNG_OPT_SENDBUF, (int)depth);
        if (nng_listen(s, url, NULL, 0))
            _exit(1);
        say(r.prod.to_parent[1]);
        hear(r.prod.to_child[0]);
        for (uint64_t k = 0; k < n + depth; k++) {
            nng_msg *m;
            if (nng_msg_alloc(&m, bytes))
                _exit(1);
            fill(nng_msg_body(m), bytes, k);
            if (nng_sendmsg(s, m, 0))
                _exit(1);
        }
        hear(r.prod.to_child[0]); /* all received: nng has no linger */
        nng_close(s);
        _exit(0);
    }
    hear(r.prod.to_parent[0]); /* listening */
    pid_t cons = fork_child_role(0);
    if (cons == 0) {
        nng_socket s;
        if (nng_pull0_open(&s))
            DIE("nng_pull0_open");
        nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0); /* no 1 MiB cap */
        nng_socket_set_int(s, NNG_OPT_RECVBUF, (int)depth);
        int rc = nng_dial(s, url, NULL, 0);
        if (rc)
            DIE("nng_dial: %s", nng_strerror(rc));
        say(r.cons_ready[1]);
        hear(r.cons_go[0]);
        uint64_t t0 = 0;
        say(r.prod.to_child[1]);
        for (uint64_t k = 0; k < n + depth; k++) {
            if (k == depth)
                t0 = dshq_now_ns(); /* after one untimed lap: steady state */
            nng_msg *m;
            if ((rc = nng_recvmsg(s, &m, 0)))
                DIE("nng_recvmsg: %s", nng_strerror(rc));
            if (nng_msg_len(m) != bytes)
                DIE("nng: short message");
            check(nng_msg_body(m), bytes, k);
            nng_msg_free(m);
        }
        double secs = (double)(dshq_now_ns() - t0) / 1e9;
        say(r.prod.to_child[1]);
        write_all(r.cons_ready[1], &secs, sizeof secs);
        nng_close(s);
        _exit(0);
    }
    hear(r.cons_ready[0]);
    say(r.cons_go[1]);
    double secs = peer_finish(&r, cons);
    unlink(url + 6);
    return secs;
}
#endif

/* ------------------------------------------------------------ medians */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef double (*chunk_fn)(size_t, uint64_t);

/* Median GB/s of `reps` runs, each moving mib_per_rep MiB (at least 16
 * chunks). */
static int verbose;
static const char *only; /* --only: part 2 methods whose name contains it */

struct chunk_job {
    chunk_fn fn;
    size_t bytes;
    uint64_t n;
};

static double chunk_job_run(void *x)
{
    struct chunk_job *j = x;
    return (double)j->n * (double)j->bytes / j->fn(j->bytes, j->n) / 1e9;
}

/* The median of v[0..n-1], or the first collapse / failure among them. */
static double median_or_fault(double *v, int n)
{
    for (int i = 0; i < n; i++)
        if (v[i] == PLACE_COLLAPSED || v[i] == PLACE_FAILED)
            return v[i];
    return median(v, n);
}

static double gbps(chunk_fn fn, size_t bytes)
{
    if (!fn)
        return -1;
    if (verbose)
        fprintf(stderr, "  [%p %zu bytes]\n", (void *)fn, bytes);
    uint64_t n = (mib_per_rep << 20) / bytes;
    if (n < 16)
        n = 16;
    double v[64];
    struct chunk_job j = {fn, bytes, n};
    for (int i = 0; i < reps; i++) {
        v[i] = place_run(chunk_job_run, &j);
        if (v[i] == PLACE_COLLAPSED || v[i] == PLACE_FAILED)
            return v[i]; /* no more reps of a method that collapsed */
    }
    return median_or_fault(v, reps);
}

static void cell(double v)
{
    if (v == PLACE_COLLAPSED)
        printf(" %8s", "collapsed");
    else if (v == PLACE_FAILED)
        printf(" %8s", "failed");
    else if (v < 0)
        printf(" %8s", "n/a");
    else
        printf(" %8.2f", v);
}

static void ratio(double a, double b)
{
    if (a <= 0 || b <= 0)
        printf(" %9s", "n/a");
    else
        printf(" %8.2fx", a / b);
}

static void rtt_cell(void)
{
    double r = place_probe();
    if (r < 0)
        printf(" %7s", "n/a");
    else
        printf(" %7.0f", r);
}

static const char *size_name(size_t b, char *buf, size_t len)
{
    if (b >= (1u << 20))
        snprintf(buf, len, "%zu MiB", b >> 20);
    else
        snprintf(buf, len, "%zu KiB", b >> 10);
    return buf;
}

static void part1(const size_t *sizes, int nsizes)
{
    chunk_fn zmq = NULL, nng = NULL;
#if HAVE_ZMQ
    zmq = run_zmq;
#endif
#if HAVE_NNG
    nng = run_nng;
#endif
    printf("Part 1: chunk throughput, 1 producer -> 1 consumer (2 processes), GB/s "
           "(1e9 B/s), median of %d runs x %llu MiB\n",
           reps, (unsigned long long)mib_per_rep);
    printf("ring/queue depth per size: min(8, 16 MiB / chunk) chunks, >= 2; one untimed lap first\n");
    printf("rtt: cache-line round trip (ns) between the consumer's and the producer's CPUs,\n"
           "probed just before the row; placement: %s; a run longer than %.0f s: collapsed\n",
           place_describe((char[64]){0}, 64), place_limit_s);
    printf("%-8s %7s %8s %8s %8s %8s %8s %8s %8s %8s | %9s %9s %9s %9s %9s %9s %9s\n", "chunk",
           "rtt", "memcpy", "bare", "lanes", "mpsc", "pipe", "unix", "zmq", "nng", "lane/bare",
           "lane/mcpy", "lane/pipe", "lane/unix", "lane/zmq", "lane/nng", "mpsc/pipe");
    for (int i = 0; i < nsizes; i++) {
        size_t b = sizes[i];
        depth = 8;
        while (depth > 2 && (size_t)depth * b > (16u << 20))
            depth /= 2;
        char name[32];
        printf("%-8s", size_name(b, name, sizeof name));
        rtt_cell();
        fflush(stdout);
        double m = gbps(run_memcpy, b), x = gbps(run_bare, b), l = gbps(run_lanes, b);
        double q = gbps(run_mpsc, b);
        double p = gbps(run_pipe, b), u = gbps(run_unix, b);
        double z = gbps(zmq, b), g = gbps(nng, b);
        cell(m), cell(x), cell(l), cell(q), cell(p), cell(u), cell(z), cell(g);
        printf(" |");
        ratio(l, x), ratio(l, m), ratio(l, p), ratio(l, u), ratio(l, z), ratio(l, g), ratio(q, p);
        printf("\n");
        fflush(stdout);
    }
}

/* ------------------------------------------------------ part 2: records */

struct rec {
    uint32_t producer;
    uint32_t pad;
    uint64_t seq;
    uint64_t payload[6];
};
_Static_assert(sizeof(struct rec) == 64, "64-byte records");

static void rec_make(struct rec *r, uint32_t id, uint64_t seq)
{
    r->producer = id;
    r->pad = 0;
    r->seq = seq;
    for (int i = 0; i < 6; i++)
        r->payload[i] = seq + (uint64_t)i;
}

/* The consumer's check: per-producer order, and the payload. */
struct rec_check {
    uint64_t next[2];
};

static void rec_take(struct rec_check *c, const struct rec *r)
{
    if (r->producer > 1 || r->seq != c->next[r->producer] || r->payload[5] != r->seq + 5)
        DIE("record out of order or damaged (producer %u seq %llu)", r->producer,
            (unsigned long long)r->seq);
    c->next[r->producer]++;
}

static MAYBE_UNUSED void backoff(unsigned *fails)
{
    if (++*fails % 64 == 0)
        sched_yield();
    else
        __builtin_ia32_pause();
}

/* Runs two producer processes and the consumer (this process); produce(id)
 * and consume(total) are the method.  Returns records/s. */
static double rec_run(void (*produce)(void *, uint32_t, uint64_t),
                      void (*consume)(void *, uint64_t), void *ctx)
{
    struct duo d[2];
    for (uint32_t i = 0; i < 2; i++) {
        duo_open(&d[i]);
        if ((d[i].pid = fork_child_role(1 + (int)i)) == 0) {
            say(d[i].to_parent[1]);
            hear(d[i].to_child[0]);
            produce(ctx, i, records_per_producer);
            _exit(0);
        }
    }
    for (int i = 0; i < 2; i++)
        hear(d[i].to_parent[0]);
    uint64_t t0 = dshq_now_ns();
    for (int i = 0; i < 2; i++)
        say(d[i].to_child[1]);
    consume(ctx, 2 * records_per_producer);
    uint64_t t1 = dshq_now_ns();
    for (int i = 0; i < 2; i++) {
        reap(d[i].pid);
        for (int k = 0; k < 2; k++) {
            close(d[i].to_child[k]);
            close(d[i].to_parent[k]);
        }
    }
    return 2.0 * (double)records_per_producer / ((double)(t1 - t0) / 1e9);
}

#define REC_CAP 1024

struct ours_ctx {
    void *sec;
    uint64_t size;
};

static void mpsc_produce(void *x, uint32_t id, uint64_t n)
{
    struct ours_ctx *o = x;
    struct dshq_mpsc_producer *p;
    if (dshq_mpsc_producer_open(o->sec, o->size, &p))
        _exit(1);
    for (uint64_t k = 0; k < n; k++) {
        struct dshq_slot s;
        struct rec r;
        if (dshq_mpsc_claim(p, -1, &s))
            _exit(1);
        rec_make(&r, id, k);
        memcpy(s.data, &r, sizeof r);
        dshq_mpsc_commit(p);
    }
    dshq_mpsc_producer_close(p);
}

static void mpsc_consume(void *x, uint64_t n)
{
    struct ours_ctx *o = x;
    struct dshq_mpsc_consumer *c;
    if (dshq_mpsc_consumer_open(o->sec, o->size, &c))
        DIE("consumer");
    struct rec_check chk = {{0, 0}};
    for (uint64_t k = 0; k < n; k++) {
        struct dshq_slot s;
        struct rec r;
        if (dshq_mpsc_poll(c, -1, &s))
            DIE("poll");
        memcpy(&r, s.data, sizeof r);
        dshq_mpsc_release(c, &s);
        rec_take(&chk, &r);
    }
    dshq_mpsc_consumer_close(c);
}

static void mpsc_produce_batch(void *x, uint32_t id, uint64_t n)
{
    struct ours_ctx *o = x;
    struct dshq_mpsc_producer *p;
    if (dshq_mpsc_producer_open(o->sec, o->size, &p))
        _exit(1);
    struct dshq_slot s[32];
    for (uint64_t k = 0; k < n;) {
        uint32_t want = n - k < 32 ? (uint32_t)(n - k) : 32, got;
        if (dshq_mpsc_claim_batch(p, want, -1, s, &got))
            _exit(1);
        for (uint32_t i = 0; i < got; i++) {
            struct rec r;
            rec_make(&r, id, k + i);
            memcpy(s[i].data, &r, sizeof r);
        }
        dshq_mpsc_commit_batch(p);
        k += got;
    }
    dshq_mpsc_producer_close(p);
}

static void mpsc_consume_batch(void *x, uint64_t n)
{
    struct ours_ctx *o = x;
    struct dshq_mpsc_consumer *c;
    if (dshq_mpsc_consumer_open(o->sec, o->size, &c))
        DIE("consumer");
    struct rec_check chk = {{0, 0}};
    struct dshq_slot s[32];
    for (uint64_t k = 0; k < n;) {
        uint32_t got;
        if (dshq_mpsc_poll_batch(c, 32, -1, s, &got))
            DIE("poll");
        for (uint32_t i = 0; i < got; i++) {
            struct rec r;
            memcpy(&r, s[i].data, sizeof r);
            rec_take(&chk, &r);
        }
        dshq_mpsc_release_upto(c, &s[got - 1]);
        k += got;
    }
    dshq_mpsc_consumer_close(c);
}

static void lanes_produce(void *x, uint32_t id, uint64_t n)
{
    struct ours_ctx *o = x;
    struct dshq_lane_producer *p;
    if (dshq_lane_producer_open(o->sec, o->size, id, &p))
        _exit(1);
    for (uint64_t k = 0; k < n; k++) {
        struct dshq_slot s;
        struct rec r;
        if (dshq_lane_claim(p, -1, &s))
            _exit(1);
        rec_make(&r, id, k);
        memcpy(s.data, &r, sizeof r);
        dshq_lane_commit(p);
    }
    dshq_lane_producer_close(p);
}

static void lanes_consume(void *x, uint64_t n)
{
    struct ours_ctx *o = x;
    struct dshq_lane_consumer *c;
    if (dshq_lane_consumer_open(o->sec, o->size, &c))
        DIE("consumer");
    struct rec_check chk = {{0, 0}};
    for (uint64_t k = 0; k < n; k++) {
        struct dshq_slot s;
        struct rec r;
        if (dshq_lane_poll(c, -1, &s))
            DIE("poll");
        memcpy(&r, s.data, sizeof r);
        dshq_lane_release(c, &s);
        rec_take(&chk, &r);
    }
    dshq_lane_consumer_close(c);
}

static double rec_ours_run(uint32_t kind, int batch)
{
    /* Lanes: each of the 2 lanes gets half the slots, so both hold 1024. */
    struct dshq_ring_params p = {.slot_size = 64,
                                 .capacity = kind == DSHQ_SECTION_LANES ? REC_CAP / 2 : REC_CAP,
                                 .producers = 2, .policy = DSHQ_RING_BLOCK};
    struct ours_ctx o;
    struct dshq_region *r = ring_region(kind, &p, &o.sec, &o.size);
    double v = kind == DSHQ_SECTION_LANES ? rec_run(lanes_produce, lanes_consume, &o)
               : batch ? rec_run(mpsc_produce_batch, mpsc_consume_batch, &o)
                       : rec_run(mpsc_produce, mpsc_consume, &o);
    dshq_region_destroy(r);
    return v;
}

static void *shared_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        DIE("mmap");
    return p;
}

#if HAVE_CK
CK_RING_PROTOTYPE(rec, rec)

struct ck_ctx {
    struct ck_ring *ring;
    struct rec *buf;
};

static void ck_produce(void *x, uint32_t id, uint64_t n)
{
    struct ck_ctx *c = x;
    unsigned fails = 0;
    for (uint64_t k = 0; k < n; k++) {
        struct rec r;
        rec_make(&r, id, k);
        while (!ck_ring_enqueue_mpsc_rec(c->ring, c->buf, &r))
            backoff(&fails);
    }
}

static void ck_consume(void *x, uint64_t n)
{
    struct ck_ctx *c = x;
    struct rec_check chk = {{0, 0}};
    unsigned fails = 0;
    for (uint64_t k = 0; k < n; k++) {
        struct rec r;
        while (!ck_ring_dequeue_mpsc_rec(c->ring, c->buf, &r))
            backoff(&fails);
        rec_take(&chk, &r);
    }
}

static double rec_ck(void)
{
    struct ck_ctx c;
    c.ring = shared_map(4096);
    c.buf = shared_map(REC_CAP * sizeof(struct rec));
    ck_ring_init(c.ring, REC_CAP); /* holds REC_CAP - 1 */
    double v = rec_run(ck_produce, ck_consume, &c);
    munmap(c.ring, 4096);
    munmap(c.buf, REC_CAP * sizeof(struct rec));
    return v;
}
#endif

#if HAVE_DPDK
static void rte_produce(void *x, uint32_t id, uint64_t n)
{
    struct rte_ring *ring = x;
    unsigned fails = 0;
    for (uint64_t k = 0; k < n; k++) {
        struct rec r;
        rec_make(&r, id, k);
        while (rte_ring_mp_enqueue_elem(ring, &r, sizeof r) != 0)
            backoff(&fails);
    }
}

static void rte_consume(void *x, uint64_t n)
{
    struct rte_ring *ring = x;
    struct rec_check chk = {{0, 0}};
    unsigned fails = 0;
    for (uint64_t k = 0; k < n; k++) {
        struct rec r;
        while (rte_ring_sc_dequeue_elem(ring, &r, sizeof r) != 0)
            backoff(&fails);
        rec_take(&chk, &r);
    }
}

#define BULK 32

static void rte_produce_bulk(void *x, uint32_t id, uint64_t n)
{
    struct rte_ring *ring = x;
    unsigned fails = 0;
    struct rec r[BULK];
    for (uint64_t k = 0; k < n; k += BULK) {
        unsigned m = n - k < BULK ? (unsigned)(n - k) : BULK;
        for (unsigned i = 0; i < m; i++)
            rec_make(&r[i], id, k + i);
        while (rte_ring_mp_enqueue_bulk_elem(ring, r, sizeof r[0], m, NULL) == 0)
            backoff(&fails);
    }
}

static void rte_consume_burst(void *x, uint64_t n)
{
    struct rte_ring *ring = x;
    struct rec_check chk = {{0, 0}};
    unsigned fails = 0;
    struct rec r[BULK];
    for (uint64_t k = 0; k < n;) {
        unsigned got = rte_ring_sc_dequeue_burst_elem(ring, r, sizeof r[0], BULK, NULL);
        if (!got) {
            backoff(&fails);
            continue;
        }
        for (unsigned i = 0; i < got; i++)
            rec_take(&chk, &r[i]);
        k += got;
    }
}

static double rte_ring_run(int bulk)
{
    ssize_t bytes = rte_ring_get_memsize_elem(sizeof(struct rec), REC_CAP);
    if (bytes < 0)
        DIE("rte_ring_get_memsize_elem");
    struct rte_ring *ring = shared_map((size_t)bytes);
    if (rte_ring_init(ring, "dshq-bench", REC_CAP, RING_F_SC_DEQ))
        DIE("rte_ring_init");
    double v = bulk ? rec_run(rte_produce_bulk, rte_consume_burst, ring)
                    : rec_run(rte_produce, rte_consume, ring);
    munmap(ring, (size_t)bytes);
    return v;
}

static double rec_rte_bulk(void)
{
    return rte_ring_run(1);
}

static double rec_rte(void)
{
    ssize_t bytes = rte_ring_get_memsize_elem(sizeof(struct rec), REC_CAP);
    if (bytes < 0)
        DIE("rte_ring_get_memsize_elem");
    struct rte_ring *ring = shared_map((size_t)bytes);
    /* MP enqueue (the default), SC dequeue; holds REC_CAP - 1. */
    if (rte_ring_init(ring, "dshq-bench", REC_CAP, RING_F_SC_DEQ))
        DIE("rte_ring_init");
    double v = rec_run(rte_produce, rte_consume, ring);
    munmap(ring, (size_t)bytes);
    return v;
}
#endif

static double rec_ours(uint32_t kind)
{
    return rec_ours_run(kind, 0);
}

static double rec_mpsc(void)
{
    return rec_ours(DSHQ_SECTION_MPSC);
}

static double rec_mpsc_batch(void)
{
    return rec_ours_run(DSHQ_SECTION_MPSC, 1);
}

static double rec_lanes(void)
{
    return rec_ours(DSHQ_SECTION_LANES);
}

static double rec_job(void *x)
{
    double (*fn)(void) = (double (*)(void))x;
    return fn();
}

struct rec_method {
    const char *name;
    double (*fn)(void);
};

static void part2(void)
{
    struct rec_method ms[] = {
        {"ours mpsc (1/call)", rec_mpsc},
        {"ours mpsc (batch 32)", rec_mpsc_batch},
        {"ours lanes (1/call)", rec_lanes},
#if HAVE_CK
        {"ck_ring mpsc", rec_ck},
#else
        {"ck_ring mpsc", NULL},
#endif
#if HAVE_DPDK
        {"rte_ring mp/sc", rec_rte},
        {"rte_ring bulk-32", rec_rte_bulk},
#else
        {"rte_ring mp/sc", NULL},
        {"rte_ring bulk-32", NULL},
#endif
    };
    enum { NM = sizeof ms / sizeof ms[0], CK = 3, RTE = 4, RTEB = 5 };
    char where[64];
    printf("\nPart 2: 64-byte records, 2 producers -> 1 consumer (3 processes), Mrec/s, "
           "median of %d runs x %llu records, rings of %d records\n",
           reps, (unsigned long long)(2 * records_per_producer), REC_CAP);
    printf("placement: %s (consumer, producer 1, producer 2); runs interleaved across "
           "methods; a run longer than %.0f s: collapsed\n",
           place_describe(where, sizeof where), place_limit_s);
    double v[NM][64], rtt[64];
    for (int r = 0; r < reps; r++) {
        rtt[r] = place_probe();
        for (int m = 0; m < NM; m++) {
            if (!ms[m].fn || (only && !strstr(ms[m].name, only))) {
                v[m][r] = -1;
                continue;
            }
            /* A method that collapsed once is not run again. */
            if (r > 0 && (v[m][0] == PLACE_COLLAPSED || v[m][0] == PLACE_FAILED)) {
                v[m][r] = v[m][0];
                continue;
            }
            v[m][r] = place_run(rec_job, (void *)ms[m].fn);
            if (v[m][r] > 0)
                v[m][r] /= 1e6;
        }
    }
    double med[NM];
    for (int m = 0; m < NM; m++)
        med[m] = v[m][0] < 0 && v[m][0] != PLACE_COLLAPSED && v[m][0] != PLACE_FAILED
                     ? -1
                     : median_or_fault(v[m], reps);
    qsort(rtt, (size_t)reps, sizeof rtt[0], cmp_double);
    printf("rtt (ns, consumer <-> producer 1, probed before each round): median %.0f, "
           "min %.0f, max %.0f\n", rtt[reps / 2], rtt[0], rtt[reps - 1]);
    printf("%-22s %9s %9s %9s %9s\n", "method", "Mrec/s", "/ck_ring", "/rte_ring", "/rte bulk");
    for (int m = 0; m < NM; m++) {
        printf("%-22s", ms[m].name);
        cell(med[m]);
        ratio(med[m], med[CK]), ratio(med[m], med[RTE]), ratio(med[m], med[RTEB]);
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    int part = 0;
    size_t sizes[8] = {4 << 10, 64 << 10, 1 << 20, 8 << 20};
    int nsizes = 4;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--reps") && v)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mib") && v)
            mib_per_rep = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--records") && v)
            records_per_producer = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--cpus") && v) {
            if (place_parse(argv[++i]))
                DIE("--cpus wants A,B[,C] (consumer, producer, second producer)");
        } else if (!strcmp(argv[i], "--limit") && v)
            place_limit_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--only") && v)
            only = argv[++i];
        else if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else if (!strcmp(argv[i], "--part") && v)
            part = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sizes") && v) {
            nsizes = 0;
            char *list = strdup(argv[++i]), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t && nsizes < 8;
                 t = strtok_r(NULL, ",", &save)) {
                char *end;
                size_t b = strtoull(t, &end, 10);
                b <<= (*end == 'k' || *end == 'K') ? 10 : (*end == 'm' || *end == 'M') ? 20 : 0;
                if (b < 64 || b % 64)
                    DIE("--sizes: %s is not a multiple of 64 bytes", t);
                sizes[nsizes++] = b;
            }
            free(list);
        } else {
            fprintf(stderr, "usage: %s [--reps N] [--mib M] [--records N] [--part 1|2] "
                            "[--sizes 4k,64k,1m,8m] [--cpus A,B[,C]] [--limit SECONDS]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 64 || mib_per_rep < 1 || records_per_producer < 1)
        DIE("bad --reps / --mib / --records");
    snprintf(ipc_path, sizeof ipc_path, "/tmp/dshq-bench-rollout-%d", (int)getpid());
    printf("bench/rollout: %ld CPUs online; peers:%s%s%s%s\n", sysconf(_SC_NPROCESSORS_ONLN),
           HAVE_ZMQ ? " zmq" : "", HAVE_NNG ? " nng" : "", HAVE_CK ? " ck" : "",
           HAVE_DPDK ? " dpdk" : "");
    if (part == 0 || part == 1)
        part1(sizes, nsizes);
    if (part == 0 || part == 2)
        part2();
    return 0;
}
