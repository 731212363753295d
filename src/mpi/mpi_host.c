/* mpi_host.c — the forwarder (ranks > 0) and the receiver (rank 0) of
 * `dshq train --mpi` (mpi_host.h, docs/scale-out.md). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/train.h"
#include "mpi/mpi_host.h"
#include "mpi/mpi_stats.h"
#include "run/metrics.h"

#ifndef DSHQ_HAVE_MPI

int mpi_host_available(void) { return 0; }

int mpi_host_plan(struct train_args *a, struct mpi_plan *p)
{
    (void)a;
    (void)p;
    fprintf(stderr, "dshq train: --mpi: this dshq was built without MPI (no mpicc at build "
                    "time; install openmpi-bin libopenmpi-dev and rebuild)\n");
    return 2;
}

int mpi_host_start(struct run *run, const struct mpi_plan *p)
{
    (void)run;
    (void)p;
    return 2;
}

int mpi_host_finish(struct run *run, const struct mpi_plan *p)
{
    (void)run;
    (void)p;
    return 1;
}

#else /* DSHQ_HAVE_MPI */

#include <mpi.h>

#include "dshq/hash.h"
#include "run/chunk_rollout.h"

enum { TAG_HELLO = 10, TAG_UP = 11, TAG_DATA = 12, TAG_DOWN = 13 };
enum { UP_CHUNK = 1, UP_STATS = 2, UP_BYE = 3 };
enum { DOWN_WEIGHTS = 1, DOWN_STOP = 2 };
#define MPI_MSG_MAGIC 0x4951504du /* "MPQI" */
#define MAX_INFLIGHT 4            /* chunks a forwarder has in flight */
#define VMAP 1024                 /* local -> global weights versions remembered */

/* Upward envelope: plain data, 192 bytes. */
struct up_msg {
    uint32_t magic, type;
    uint64_t bytes;          /* CHUNK: bytes of the DATA message that follows */
    uint64_t checksum;       /* CHUNK: mpi_checksum of those bytes */
    uint64_t seq;            /* CHUNK: the forwarder's sequence number */
    uint64_t policy_version; /* CHUNK: in rank 0's numbering (0: unknown) */
    /* STATS (every message carries the latest) */
    uint64_t steps, chunks, episodes[3], wins[3], losses[3], ret_micro, len_sum;
    uint64_t local_dropped;  /* chunks the rank's own lanes refused (drop policy) */
    uint64_t weights_version;/* newest rank-0 version re-published on the rank */
    uint64_t weights_msgs;   /* weights messages received */
    uint64_t reserved[3];
};
_Static_assert(sizeof(struct up_msg) == 192, "envelope size");

/* Downward header, followed by n_params floats for WEIGHTS. */
struct down_msg {
    uint32_t magic, type;
    uint64_t version, step, shape_hash, n_params;
    uint64_t reserved[3];
};
_Static_assert(sizeof(struct down_msg) == 64, "down header size");

/* 64-bit checksum of a chunk's bytes (a multiple of 8): fast, order- and
 * position-sensitive, so a lost, repeated or moved word changes it. */
static uint64_t mpi_checksum(const void *data, uint64_t bytes)
{
    const unsigned char *p = data;
    uint64_t h = DSHQ_FNV64_OFFSET ^ bytes, i = 0;
    for (; i + 8 <= bytes; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ (w + i)) * UINT64_C(0x9e3779b97f4a7c15);
        h ^= h >> 29;
    }
    for (; i < bytes; i++)
        h = (h ^ p[i]) * DSHQ_FNV64_PRIME;
    return h;
}

static uint64_t now_ns(void) { return dshq_now_ns(); }

static void nap_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

int mpi_host_available(void) { return 1; }

/* ------------------------------------------------------------- the state */

static struct {
    pthread_t thread;
    int started;
    int result;
    struct run *run;
    struct mpi_plan plan;
    struct mpi_stats_region *stats; /* rank 0: per-rank counters for `dshq top` */
    /* rank 0: per remote rank (index = rank) */
    struct mpi_rank_stats rs[MPI_HOST_MAX_RANKS];
    /* remote: own counters */
    uint64_t fwd_chunks, fwd_bytes, w_msgs, w_version, unmapped, corrupted;
    double lost_s;         /* --mpi-lost-s */
    int lost;              /* rank 0: ranks lost */
    char hosts[MPI_HOST_MAX_RANKS][MPI_MAX_PROCESSOR_NAME];
} G;

/* Start-up, point to point only: each remote rank sends its host name to
 * rank 0, which then answers every rank with its settings and all host
 * names.  So each connection is opened by one side only, before any other
 * traffic: Open MPI 4.1's TCP transport can fail a connection that both
 * sides open at once ("failed to TCP connect to a peer ... Operation now in
 * progress", seen across network namespaces under load).  0 or -1. */
static int handshake(int rank, int size, struct run_config *c0)
{
    char me[MPI_MAX_PROCESSOR_NAME] = "";
    int len = 0;
    MPI_Get_processor_name(me, &len);
    me[MPI_MAX_PROCESSOR_NAME - 1] = 0;
    const int hb = size * MPI_MAX_PROCESSOR_NAME;
    if (rank == 0) {
        memcpy(G.hosts[0], me, sizeof me);
        for (int r = 1; r < size; r++)
            if (MPI_Recv(G.hosts[r], MPI_MAX_PROCESSOR_NAME, MPI_CHAR, r, TAG_HELLO,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS)
                return -1;
        for (int r = 1; r < size; r++)
            if (MPI_Send(c0, (int)sizeof *c0, MPI_BYTE, r, TAG_HELLO, MPI_COMM_WORLD) ||
                MPI_Send(G.hosts, hb, MPI_CHAR, r, TAG_HELLO, MPI_COMM_WORLD))
                return -1;
    } else if (MPI_Send(me, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, TAG_HELLO, MPI_COMM_WORLD) ||
               MPI_Recv(c0, (int)sizeof *c0, MPI_BYTE, 0, TAG_HELLO, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE) ||
               MPI_Recv(G.hosts, hb, MPI_CHAR, 0, TAG_HELLO, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE)) {
        return -1;
    }
    for (int r = 0; r < size; r++) /* untrusted: terminate every name */
        G.hosts[r][MPI_MAX_PROCESSOR_NAME - 1] = 0;
    return 0;
}

int mpi_host_plan(struct train_args *a, struct mpi_plan *p)
{
    memset(p, 0, sizeof *p);
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "dshq train: --mpi: MPI_Init failed\n");
        return 1;
    }
    if (provided < MPI_THREAD_SERIALIZED) {
        fprintf(stderr, "dshq train: --mpi: this MPI gives no MPI_THREAD_SERIALIZED\n");
        MPI_Finalize();
        return 1;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &p->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &p->size);
    if (p->size > MPI_HOST_MAX_RANKS) {
        if (p->rank == 0)
            fprintf(stderr, "dshq train: --mpi: %d ranks; at most %d\n", p->size,
                    MPI_HOST_MAX_RANKS);
        MPI_Finalize();
        return 2;
    }
    /* Rank 0's settings (after --resume) everywhere; each rank keeps its own
     * number of local workers. */
    uint32_t own_workers = a->cfg.workers;
    struct run_config c0 = a->cfg;
    if (handshake(p->rank, p->size, &c0)) {
        fprintf(stderr, "dshq train: --mpi rank %d: the start-up exchange failed\n", p->rank);
        MPI_Finalize();
        return 1;
    }
    char err[256];
    if (run_config_check(&c0, err, sizeof err)) {
        fprintf(stderr, "dshq train: --mpi rank %d: rank 0's settings do not check: %s\n",
                p->rank, err);
        MPI_Finalize();
        return 1;
    }
    int bad = c0.deterministic != 0;
    if (bad) {
        if (p->rank == 0)
            fprintf(stderr, "dshq train: --mpi and --deterministic do not go together (remote "
                            "chunks arrive in no fixed order)\n");
        MPI_Finalize();
        return 2;
    }
    G.lost_s = a->mpi_lost_s > 0 ? a->mpi_lost_s : 10;
    a->cfg = c0;
    p->n_local = own_workers;
    p->weights_ms = a->mpi_weights_ms;
    if (p->rank == 0) {
        uint32_t lanes = own_workers + (uint32_t)(p->size - 1);
        if (lanes > RUN_MAX_WORKERS) {
            fprintf(stderr, "dshq train: --mpi: %u local workers + %d remote ranks exceed the "
                            "%d lanes of a run\n", own_workers, p->size - 1, RUN_MAX_WORKERS);
            MPI_Finalize();
            return 2;
        }
        a->cfg.workers = lanes;
        p->first_remote = own_workers;
        snprintf(p->run_name, sizeof p->run_name, "%s", a->run_name);
    } else {
        a->cfg.workers = own_workers;
        snprintf(p->run_name, sizeof p->run_name, "%s-rank%d", a->run_name, p->rank);
        a->checkpoint_dir = NULL;
        a->metrics = NULL;
        a->show = 0;
        a->eval_episodes = 0;
        a->resume = NULL;
    }
    a->run_name = p->run_name;
    return 0;
}

/* --------------------------------------------------------- the forwarder */

struct inflight {
    struct dshq_slot slot;
    struct up_msg env;
    MPI_Request req[2];
};

static void fill_stats(struct run *run, struct up_msg *m)
{
    /* Relaxed: counters for rates and display (the workers' relaxed adds). */
    for (uint32_t i = 0; i < run->cfg.workers; i++) {
        struct run_worker_stats *w = &run->blk->worker[i];
        m->steps += atomic_load_explicit(&w->steps, memory_order_relaxed);
        m->chunks += atomic_load_explicit(&w->chunks, memory_order_relaxed);
        for (int k = 0; k < 3; k++) {
            m->episodes[k] += atomic_load_explicit(&w->episodes[k], memory_order_relaxed);
            m->wins[k] += atomic_load_explicit(&w->wins[k], memory_order_relaxed);
            m->losses[k] += atomic_load_explicit(&w->losses[k], memory_order_relaxed);
        }
        m->ret_micro += atomic_load_explicit(&w->ret_micro, memory_order_relaxed);
        m->len_sum += atomic_load_explicit(&w->len_sum, memory_order_relaxed);
    }
    struct dshq_ring_stats rs;
    if (run_rollouts_stats(run, &rs) == 0)
        m->local_dropped = rs.dropped;
    m->weights_version = G.w_version;
    m->weights_msgs = G.w_msgs;
}

static int forwarder(struct run *run)
{
    struct dshq_weights *wch = NULL;
    struct dshq_weights_writer *w = NULL;
    struct run_consumer cons = {0};
    unsigned char *down = NULL;
    int rc, result = 1;
    const uint64_t n_params = run->net.n_params;
    const uint64_t down_bytes = sizeof(struct down_msg) + 4 * n_params;
    uint64_t vmap[VMAP] = {0}; /* local version v -> rank 0's, at v % VMAP */
    struct inflight fifo[MAX_INFLIGHT];
    unsigned head = 0, count = 0;
    struct up_msg stats_msg, bye;
    MPI_Request down_req = MPI_REQUEST_NULL, stats_req = MPI_REQUEST_NULL,
                bye_req = MPI_REQUEST_NULL;
    int got_stop = 0, bye_sent = 0;
    uint64_t seq = 0, last_stats = 0, bye_ns = 0;
    const char *ce = getenv("DSHQ_MPI_TEST_CORRUPT_EVERY");
    const uint64_t corrupt_every = ce ? strtoull(ce, NULL, 10) : 0;

    if ((rc = dshq_weights_open(run->weights_mem, run->weights_size, &wch)) ||
        (rc = dshq_weights_writer_attach(wch, &w)) || (rc = run_consumer_open(run, &cons))) {
        fprintf(stderr, "dshq train: rank %d: local channels: %s\n", G.plan.rank,
                dshq_strerror(rc));
        run_stop(run->blk);
        /* Still take part in the protocol so that rank 0 is not left waiting. */
    }
    if (!(down = aligned_alloc(64, (down_bytes + 63) & ~(uint64_t)63))) {
        run_stop(run->blk);
        goto out;
    }
    MPI_Irecv(down, (int)down_bytes, MPI_BYTE, 0, TAG_DOWN, MPI_COMM_WORLD, &down_req);
    for (;;) {
        int busy = 0, flag = 0;
        MPI_Status st;
        /* Downward: weights, then STOP. */
        if (!got_stop && MPI_Test(&down_req, &flag, &st) == MPI_SUCCESS && flag) {
            busy = 1;
            const struct down_msg *d = (const struct down_msg *)down;
            int n = 0;
            MPI_Get_count(&st, MPI_BYTE, &n);
            if ((uint64_t)n < sizeof *d || d->magic != MPI_MSG_MAGIC) {
                fprintf(stderr, "dshq train: rank %d: bad message from rank 0\n", G.plan.rank);
            } else if (d->type == DOWN_STOP) {
                got_stop = 1;
                if (d->reserved[0]) {
                    fprintf(stderr, "dshq train: --mpi rank %d: rank 0 lost %llu rank%s; "
                                    "stopping\n", G.plan.rank,
                            (unsigned long long)d->reserved[0], d->reserved[0] == 1 ? "" : "s");
                    G.lost = (int)d->reserved[0];
                }
                run_stop(run->blk);
            } else if (d->type == DOWN_WEIGHTS && d->n_params == n_params &&
                       (uint64_t)n == down_bytes && d->shape_hash == run->blk->mlp_shape && w) {
                int64_t v = dshq_weights_publish(w, (const float *)(down + sizeof *d), d->step);
                if (v > 0) {
                    vmap[(uint64_t)v % VMAP] = d->version;
                    G.w_version = d->version;
                    G.w_msgs++;
                    run_set_state(run, RUN_RUNNING);
                }
            }
            if (!got_stop)
                MPI_Irecv(down, (int)down_bytes, MPI_BYTE, 0, TAG_DOWN, MPI_COMM_WORLD,
                          &down_req);
        }
        /* Upward: finished sends give their slots back, oldest first (a lane's
         * slots are released in the order they were polled). */
        while (count) {
            struct inflight *f = &fifo[head];
            int done = 0;
            if (MPI_Testall(2, f->req, &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS || !done)
                break;
            run_consumer_release(&cons, &f->slot);
            head = (head + 1) % MAX_INFLIGHT;
            count--;
            busy = 1;
        }
        int stopping = run_stopping(run);
        if (!stopping && count < MAX_INFLIGHT && (cons.lane || cons.mpsc)) {
            struct inflight *f = &fifo[(head + count) % MAX_INFLIGHT];
            rc = run_consumer_poll(&cons, 0, &f->slot);
            if (rc == 0) {
                busy = 1;
                if (dshq_chunk_check(&run->chunk, f->slot.data, f->slot.size) != 0) {
                    run_consumer_release(&cons, &f->slot);
                } else {
                    struct dshq_chunk_header *h = f->slot.data;
                    uint64_t lv = h->policy_version, gv = 0;
                    if (lv && lv + VMAP > dshq_weights_version(wch))
                        gv = vmap[lv % VMAP];
                    if (!gv)
                        G.unmapped++;
                    h->policy_version = gv; /* 0: the trainer refuses it */
                    memset(&f->env, 0, sizeof f->env);
                    f->env.magic = MPI_MSG_MAGIC;
                    f->env.type = UP_CHUNK;
                    f->env.bytes = run->chunk.bytes;
                    f->env.seq = seq++;
                    f->env.policy_version = gv;
                    f->env.checksum = mpi_checksum(f->slot.data, run->chunk.bytes);
                    /* Tests: damage every Nth chunk after its checksum, so
                     * rank 0 must find exactly those. */
                    if (corrupt_every && f->env.seq % corrupt_every == corrupt_every - 1) {
                        ((unsigned char *)f->slot.data)[run->chunk.off_obs + f->env.seq % 97] ^= 0x40;
                        G.corrupted++;
                    }
                    fill_stats(run, &f->env);
                    MPI_Isend(&f->env, (int)sizeof f->env, MPI_BYTE, 0, TAG_UP, MPI_COMM_WORLD,
                              &f->req[0]);
                    MPI_Isend(f->slot.data, (int)run->chunk.bytes, MPI_BYTE, 0, TAG_DATA,
                              MPI_COMM_WORLD, &f->req[1]);
                    count++;
                    G.fwd_chunks++;
                    G.fwd_bytes += run->chunk.bytes;
                }
            } else if (rc < 0) {
                fprintf(stderr, "dshq train: rank %d: poll: %s\n", G.plan.rank,
                        dshq_strerror(rc));
                run_stop(run->blk);
            }
        }
        /* Counters every 250 ms, so rank 0 sees a rank that sends no chunks. */
        uint64_t now = now_ns();
        if (!bye_sent && now - last_stats > 250000000u) {
            int done = 1;
            if (stats_req != MPI_REQUEST_NULL)
                MPI_Test(&stats_req, &done, MPI_STATUS_IGNORE);
            if (done) {
                memset(&stats_msg, 0, sizeof stats_msg);
                stats_msg.magic = MPI_MSG_MAGIC;
                stats_msg.type = UP_STATS;
                fill_stats(run, &stats_msg);
                MPI_Isend(&stats_msg, (int)sizeof stats_msg, MPI_BYTE, 0, TAG_UP,
                          MPI_COMM_WORLD, &stats_req);
                last_stats = now;
            }
        }
        /* Stopping: once every chunk in flight is out, say BYE (the last
         * upward message); the thread ends when rank 0's STOP has come. */
        if (stopping && !bye_sent && !count) {
            MPI_Wait(&stats_req, MPI_STATUS_IGNORE);
            memset(&bye, 0, sizeof bye);
            bye.magic = MPI_MSG_MAGIC;
            bye.type = UP_BYE;
            fill_stats(run, &bye);
            MPI_Isend(&bye, (int)sizeof bye, MPI_BYTE, 0, TAG_UP, MPI_COMM_WORLD, &bye_req);
            bye_sent = 1;
        }
        if (bye_sent && got_stop) {
            MPI_Wait(&bye_req, MPI_STATUS_IGNORE);
            break;
        }
        if (bye_sent && !bye_ns)
            bye_ns = now;
        if (bye_sent && now - bye_ns > (uint64_t)(G.lost_s * 1e9)) {
            fprintf(stderr, "dshq train: --mpi rank %d: rank 0 (host %s) sent no STOP within "
                            "%.0f s of our goodbye: lost\n", G.plan.rank, G.hosts[0], G.lost_s);
            G.lost = 1;
            break;
        }
        if (!busy)
            nap_us(200);
    }
    result = 0;
out:
    while (count) { /* only after a failure before the loop */
        run_consumer_release(&cons, &fifo[head].slot);
        head = (head + 1) % MAX_INFLIGHT;
        count--;
    }
    run_consumer_close(&cons);
    if (w)
        dshq_weights_writer_detach(w);
    if (wch)
        dshq_weights_close(wch);
    free(down);
    return result;
}

/* ---------------------------------------------------------- the receiver */

struct remote {
    struct run_producer prod;
    int open, bye, stop_sent, held; /* held: an envelope waits for room in the lane */
    int lost;                       /* silent too long: never addressed again */
    struct up_msg env;
    unsigned char *wbuf;            /* this rank's weights message */
    MPI_Request wreq, sreq;
    struct down_msg stop;
    uint64_t sent_version;
};

static void put_stats(struct run *run, uint32_t lane, const struct up_msg *m)
{
    /* Relaxed: the receiver alone writes a remote lane's line, with the
     * rank's totals; the trainer reads them for rates (as a worker's). */
    struct run_worker_stats *w = &run->blk->worker[lane];
    atomic_store_explicit(&w->steps, m->steps, memory_order_relaxed);
    atomic_store_explicit(&w->chunks, m->chunks, memory_order_relaxed);
    for (int k = 0; k < 3; k++) {
        atomic_store_explicit(&w->episodes[k], m->episodes[k], memory_order_relaxed);
        atomic_store_explicit(&w->wins[k], m->wins[k], memory_order_relaxed);
        atomic_store_explicit(&w->losses[k], m->losses[k], memory_order_relaxed);
    }
    atomic_store_explicit(&w->ret_micro, m->ret_micro, memory_order_relaxed);
    atomic_store_explicit(&w->len_sum, m->len_sum, memory_order_relaxed);
    atomic_store_explicit(&w->version, run->blk->version_base + m->weights_version,
                          memory_order_relaxed);
}

static void note_lag(struct mpi_rank_stats *s, uint64_t cur, uint64_t pv, int dropped)
{
    uint64_t lag = pv && pv <= cur ? cur - pv : 0;
    if (dropped) {
        s->dropped++;
        s->dropped_lag_sum += lag;
        return;
    }
    s->lag_sum += lag;
    s->lag_n++;
    if (lag > s->lag_max)
        s->lag_max = lag;
}

/* Receives rank r's DATA message into buf, waiting at most lost_s (a rank
 * that died between its envelope and its bytes must not hang rank 0).
 * 0 and *n bytes, or -1 (an error, or the rank is lost). */
static int recv_data(void *buf, uint64_t bytes, int r, int *n)
{
    MPI_Request req;
    MPI_Status st;
    int done = 0;
    if (MPI_Irecv(buf, (int)bytes, MPI_BYTE, r, TAG_DATA, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -1;
    uint64_t deadline = now_ns() + (uint64_t)(G.lost_s * 1e9);
    for (;;) {
        if (MPI_Test(&req, &done, &st) != MPI_SUCCESS)
            return -1;
        if (done)
            break;
        if (now_ns() > deadline) {
            MPI_Cancel(&req);
            return -1;
        }
        nap_us(50);
    }
    *n = 0;
    MPI_Get_count(&st, MPI_BYTE, n);
    return 0;
}

static void mark_lost(struct run *run, struct remote *x, int r, const char *why)
{
    if (x->lost)
        return;
    x->lost = x->bye = 1;
    G.lost++;
    fprintf(stderr, "dshq train: --mpi: rank %d (host %s) is lost: %s; stopping the run\n", r,
            G.hosts[r], why);
    run_stop(run->blk);
}

static int receiver(struct run *run)
{
    const int size = G.plan.size;
    struct remote *rem = calloc((size_t)size, sizeof *rem);
    struct dshq_weights *wch = NULL;
    float *params = NULL;
    unsigned char *scratch = NULL;
    const uint64_t n_params = run->net.n_params;
    const uint64_t wbytes = sizeof(struct down_msg) + 4 * n_params;
    const uint64_t chunk_bytes = run->chunk.bytes;
    int rc, result = 1;
    uint64_t last_bcast = 0, stop_ns = 0, t0 = now_ns();

    if (!rem || !(params = malloc(4 * n_params)) ||
        !(scratch = aligned_alloc(64, (chunk_bytes + 63) & ~(uint64_t)63))) {
        fprintf(stderr, "dshq train: rank 0: out of memory\n");
        run_stop(run->blk);
    }
    if ((rc = dshq_weights_open(run->weights_mem, run->weights_size, &wch))) {
        fprintf(stderr, "dshq train: rank 0: weights channel: %s\n", dshq_strerror(rc));
        run_stop(run->blk);
    }
    for (int r = 1; rem && r < size; r++) {
        struct remote *x = &rem[r];
        x->wreq = x->sreq = MPI_REQUEST_NULL;
        x->wbuf = malloc(wbytes);
        uint32_t lane = G.plan.first_remote + (uint32_t)(r - 1);
        if (!x->wbuf || (rc = run_producer_open(run, lane, &x->prod))) {
            fprintf(stderr, "dshq train: rank 0: lane %u for rank %d: %s\n", lane, r,
                    x->wbuf ? dshq_strerror(rc) : "out of memory");
            run_stop(run->blk);
        } else {
            x->open = 1;
        }
        G.rs[r].lane = lane;
    }
    if (!rem)
        return 1;
    for (;;) {
        int busy = 0, stopping = run_stopping(run), left = 0;
        uint64_t now = now_ns(), cur = wch ? dshq_weights_version(wch) : 0;
        if (stopping && !stop_ns)
            stop_ns = now;
        /* A rank is lost when it is silent for lost_s while the run goes
         * (it sends counters every 250 ms), or has not said BYE lost_s
         * after the stop: the run stops (the trainer writes its checkpoint)
         * and the rank is never addressed again. */
        for (int r = 1; r < size; r++) {
            struct remote *x = &rem[r];
            uint64_t since = G.rs[r].heard_ns ? G.rs[r].heard_ns : t0;
            if (stop_ns && stop_ns > since)
                since = stop_ns;
            /* A rank we hold (its lane is full) cannot be heard: its next
             * messages queue behind the held chunk.  Not silence. */
            if (x->held && !stopping)
                G.rs[r].heard_ns = now;
            if (x->bye || x->lost || now - since < (uint64_t)(G.lost_s * 1e9))
                continue;
            mark_lost(run, x, r, stopping ? "no goodbye after the stop" : "nothing heard from it");
        }
        /* Downward: the newest weights to every rank whose previous message
         * is out (so a slow link gets the newest, never a queue). */
        if (!stopping && cur && params &&
            (now - last_bcast) >= (uint64_t)(G.plan.weights_ms * 1e6)) {
            int copied = 0;
            struct dshq_weights_info info;
            for (int r = 1; r < size; r++) {
                struct remote *x = &rem[r];
                int done = 1;
                if (x->bye || x->sent_version >= cur)
                    continue;
                if (x->wreq != MPI_REQUEST_NULL)
                    MPI_Test(&x->wreq, &done, MPI_STATUS_IGNORE);
                if (!done)
                    continue;
                if (!copied) {
                    if (dshq_weights_copy_out(wch, run->blk->mlp_shape, params, n_params,
                                              &info) != 0)
                        break;
                    copied = 1;
                }
                struct down_msg *d = (struct down_msg *)x->wbuf;
                memset(d, 0, sizeof *d);
                d->magic = MPI_MSG_MAGIC;
                d->type = DOWN_WEIGHTS;
                d->version = info.version;
                d->step = info.step;
                d->shape_hash = info.shape_hash;
                d->n_params = n_params;
                memcpy(x->wbuf + sizeof *d, params, 4 * n_params);
                MPI_Isend(x->wbuf, (int)wbytes, MPI_BYTE, r, TAG_DOWN, MPI_COMM_WORLD, &x->wreq);
                x->sent_version = info.version;
                G.rs[r].weights_sent++;
                busy = 1;
            }
            if (copied)
                last_bcast = now;
        }
        for (int r = 1; r < size; r++) {
            struct remote *x = &rem[r];
            struct mpi_rank_stats *s = &G.rs[r];
            /* STOP after the last weights (one tag: they arrive in order). */
            if ((stopping || x->bye) && !x->stop_sent && !x->lost) {
                memset(&x->stop, 0, sizeof x->stop);
                x->stop.magic = MPI_MSG_MAGIC;
                x->stop.type = DOWN_STOP;
                x->stop.reserved[0] = (uint64_t)G.lost; /* > 0: nobody finalizes */
                MPI_Isend(&x->stop, (int)sizeof x->stop, MPI_BYTE, r, TAG_DOWN, MPI_COMM_WORLD,
                          &x->sreq);
                x->stop_sent = 1;
                busy = 1;
            }
            if (x->bye)
                continue;
            left++;
            if (!x->held) {
                int flag = 0;
                MPI_Status st;
                if (MPI_Iprobe(r, TAG_UP, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS || !flag)
                    continue;
                MPI_Recv(&x->env, (int)sizeof x->env, MPI_BYTE, r, TAG_UP, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
                busy = 1;
                if (x->env.magic != MPI_MSG_MAGIC) {
                    s->bad++;
                    continue;
                }
                s->heard_ns = now;
                if (x->open)
                    put_stats(run, s->lane, &x->env);
                s->remote_steps = x->env.steps;
                s->remote_dropped = x->env.local_dropped;
                s->weights_version = x->env.weights_version;
                s->weights_msgs = x->env.weights_msgs;
                if (x->env.type == UP_BYE) {
                    x->bye = 1;
                    continue;
                }
                if (x->env.type != UP_CHUNK)
                    continue;
                x->held = 1;
            }
            /* A chunk's bytes are next from this rank: into a slot of its
             * lane, or (stopping, a bad size, a full lane under drop) away. */
            uint64_t pv = x->env.policy_version;
            struct dshq_slot slot;
            int into_lane = 0;
            if (!stopping && x->open && x->env.bytes == chunk_bytes) {
                rc = run_producer_claim(&x->prod, 0, &slot);
                if (rc == DSHQ_RING_FULL && run->cfg.when_full == RUN_FULL_BLOCK)
                    continue; /* hold: the rank's sends wait, then its workers */
                into_lane = rc == 0;
            }
            x->held = 0;
            busy = 1;
            if (!into_lane) {
                /* The sender's size is untrusted: take at most our buffer
                 * (a longer message is an error, reported by MPI_Recv). */
                int n = 0;
                if (recv_data(scratch, chunk_bytes, r, &n)) {
                    mark_lost(run, x, r, "its chunk's bytes did not come");
                    continue;
                }
                if (x->env.bytes != chunk_bytes) {
                    s->bad++;
                    continue;
                }
                if ((uint64_t)n != chunk_bytes ||
                    mpi_checksum(scratch, chunk_bytes) != x->env.checksum)
                    s->checksum_failed++;
                else if (stopping)
                    s->discarded++;
                else
                    note_lag(s, cur, pv, 1);
                continue;
            }
            int n = 0;
            if (recv_data(slot.data, chunk_bytes, r, &n)) {
                ((struct dshq_chunk_header *)slot.data)->magic = 0;
                run_producer_commit(&x->prod);
                mark_lost(run, x, r, "its chunk's bytes did not come");
                continue;
            }
            if ((uint64_t)n != chunk_bytes ||
                mpi_checksum(slot.data, chunk_bytes) != x->env.checksum) {
                /* Never handed on: the trainer refuses a chunk without magic. */
                ((struct dshq_chunk_header *)slot.data)->magic = 0;
                s->checksum_failed++;
            } else {
                /* The run layer's seal travels no further than the rank:
                 * sealed again here, after the MPI checksum matched, so
                 * --verify-chunks holds end to end (docs/reliability.md). */
                run_chunk_seal(&run->chunk, slot.data);
                s->chunks++;
                s->bytes += chunk_bytes;
                note_lag(s, cur, pv, 0);
            }
            run_producer_commit(&x->prod);
        }
        if (G.stats)
            mpi_stats_publish(G.stats, G.rs, size);
        if (stopping && !left) {
            int ok = 1;
            for (int r = 1; r < size; r++) {
                if (rem[r].lost)
                    continue; /* its requests may never complete */
                MPI_Wait(&rem[r].wreq, MPI_STATUS_IGNORE);
                if (MPI_Wait(&rem[r].sreq, MPI_STATUS_IGNORE) != MPI_SUCCESS)
                    ok = 0;
            }
            result = ok ? 0 : 1;
            break;
        }
        if (!busy)
            nap_us(200);
    }
    for (int r = 1; r < size; r++) {
        if (rem[r].open)
            run_producer_close(&rem[r].prod);
        free(rem[r].wbuf);
    }
    free(rem);
    free(params);
    free(scratch);
    if (wch)
        dshq_weights_close(wch);
    return result;
}

static void *mpi_thread(void *arg)
{
    (void)arg;
    G.result = G.plan.rank == 0 ? receiver(G.run) : forwarder(G.run);
    return NULL;
}

int mpi_host_start(struct run *run, const struct mpi_plan *p)
{
    G.run = run;
    G.plan = *p;
    G.result = 1;
    for (int r = 0; r < MPI_HOST_MAX_RANKS; r++)
        memset(&G.rs[r], 0, sizeof G.rs[r]);
    if (p->rank == 0)
        G.stats = mpi_stats_create(run->region_name, p->size);
    if (pthread_create(&G.thread, NULL, mpi_thread, NULL) != 0) {
        fprintf(stderr, "dshq train: --mpi: cannot start the MPI thread\n");
        return 1;
    }
    G.started = 1;
    return 0;
}

int mpi_host_finish(struct run *run, const struct mpi_plan *p)
{
    (void)run;
    if (G.started)
        pthread_join(G.thread, NULL);
    int rc = G.started ? G.result : 1;
    if (p->rank == 0) {
        for (int r = 1; r < p->size; r++) {
            const struct mpi_rank_stats *s = &G.rs[r];
            printf("  rank %d lane %u: chunks %llu (%.1f MiB), checksum failures %llu, "
                   "dropped %llu (here) + %llu (there), after stop %llu, lag mean %.2f max %llu, "
                   "weights version %llu (%llu messages)\n",
                   r, s->lane, (unsigned long long)s->chunks, (double)s->bytes / (1 << 20),
                   (unsigned long long)s->checksum_failed, (unsigned long long)s->dropped,
                   (unsigned long long)s->remote_dropped, (unsigned long long)s->discarded,
                   s->lag_n ? (double)s->lag_sum / (double)s->lag_n : 0.0,
                   (unsigned long long)s->lag_max, (unsigned long long)s->weights_version,
                   (unsigned long long)s->weights_msgs);
        }
        if (G.stats)
            mpi_stats_destroy(G.stats);
        G.stats = NULL;
        if (G.lost) {
            /* MPI_Finalize could wait for the lost ranks: leave without it
             * (mpirun then ends the job). */
            fprintf(stderr, "dshq train: --mpi: %d rank%s lost (above); the trainer wrote its "
                            "checkpoint: continue with --resume\n", G.lost,
                    G.lost == 1 ? " was" : "s were");
            fflush(NULL);
            return 3;
        }
    } else {
        printf("dshq train: rank %d: forwarded %llu chunks (%.1f MiB) to rank 0, weights "
               "versions adopted %llu (newest %llu), %llu with an unknown version, %llu "
               "damaged on purpose%s\n",
               p->rank, (unsigned long long)G.fwd_chunks, (double)G.fwd_bytes / (1 << 20),
               (unsigned long long)G.w_msgs, (unsigned long long)G.w_version,
               (unsigned long long)G.unmapped, (unsigned long long)G.corrupted,
               rc ? "; failed" : "");
        if (G.lost) {
            fflush(NULL);
            return 3; /* no MPI_Finalize: it would wait for the lost ranks */
        }
    }
    fflush(stdout);
    MPI_Finalize();
    return rc;
}

#endif /* DSHQ_HAVE_MPI */
