/* mpi_stats.c — per-rank counters of an --mpi run (mpi_stats.h). */
#include <stdlib.h>
#include <string.h>

#include "dshq/hash.h"
#include "dshq/region.h"
#include "dshq/wait.h"
#include "mpi/mpi_stats.h"

#define N_FIELDS 17
_Static_assert(sizeof(struct mpi_rank_stats) == 8 * N_FIELDS, "fields map to v[]");

struct mpi_stats_region {
    struct dshq_region *r;
    struct mpi_stats_block *b;
};

static uint64_t stats_shape(void)
{
    return dshq_shape_hashf("mpi-stats/v%d;ranks=%d;fields=%d;bytes=%zu", MPI_STATS_VERSION,
                            MPI_STATS_MAX_RANKS, N_FIELDS, sizeof(struct mpi_stats_block));
}

static void stats_name(char *buf, size_t len, const char *region)
{
    snprintf(buf, len, "%s-mpi", region);
}

struct mpi_stats_region *mpi_stats_create(const char *region, int ranks)
{
    if (!region || !*region || ranks < 1 || ranks > MPI_STATS_MAX_RANKS)
        return NULL;
    struct mpi_stats_region *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    char name[128];
    stats_name(name, sizeof name, region);
    struct dshq_layout l;
    dshq_layout_init(&l);
    dshq_layout_add(&l, DSHQ_SECTION_RAW, "mpi", MPI_STATS_VERSION,
                    sizeof(struct mpi_stats_block), DSHQ_SECTION_ALIGN, stats_shape());
    void *mem;
    uint64_t size;
    if (l.error || dshq_region_create(name, &l, DSHQ_CREATE_REPLACE_STALE, &s->r)) {
        free(s);
        return NULL;
    }
    if (dshq_region_find(s->r, DSHQ_SECTION_RAW, "mpi", stats_shape(), &mem, &size) ||
        size < sizeof(struct mpi_stats_block)) {
        dshq_region_destroy(s->r);
        free(s);
        return NULL;
    }
    s->b = mem;
    s->b->version = MPI_STATS_VERSION;
    s->b->ranks = (uint32_t)ranks;
    dshq_region_mark_ready(s->r);
    return s;
}

void mpi_stats_publish(struct mpi_stats_region *s, const struct mpi_rank_stats *rs, int ranks)
{
    for (int r = 0; r < ranks && r < MPI_STATS_MAX_RANKS; r++) {
        uint64_t f[N_FIELDS];
        memcpy(f, &rs[r], sizeof f);
        /* Relaxed: display counters; each is meaningful alone. */
        for (int i = 0; i < N_FIELDS; i++)
            atomic_store_explicit(&s->b->rank[r].v[i], f[i], memory_order_relaxed);
    }
    atomic_store_explicit(&s->b->updated_ns, dshq_now_ns(), memory_order_relaxed);
}

void mpi_stats_destroy(struct mpi_stats_region *s)
{
    if (!s)
        return;
    dshq_region_destroy(s->r);
    free(s);
}

int mpi_stats_print(FILE *f, const char *region)
{
    char name[128];
    stats_name(name, sizeof name, region);
    struct dshq_region *r;
    if (dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &r))
        return 0;
    void *mem;
    uint64_t size;
    int printed = 0;
    if (dshq_region_find(r, DSHQ_SECTION_RAW, "mpi", stats_shape(), &mem, &size) == 0 &&
        size >= sizeof(struct mpi_stats_block)) {
        const struct mpi_stats_block *b = mem;
        uint32_t ranks = b->ranks; /* untrusted: bounded below */
        if (b->version == MPI_STATS_VERSION && ranks <= MPI_STATS_MAX_RANKS) {
            for (uint32_t k = 1; k < ranks; k++) {
                struct mpi_rank_stats s;
                uint64_t v[N_FIELDS];
                for (int i = 0; i < N_FIELDS; i++) /* Relaxed: display counters. */
                    v[i] = atomic_load_explicit(&b->rank[k].v[i], memory_order_relaxed);
                memcpy(&s, v, sizeof s);
                fprintf(f, "  rank %u (lane %u): chunks %llu  checksum bad %llu  policy lag "
                           "mean/max %.2f/%llu  dropped here %llu (lag mean %.2f) there %llu  "
                           "weights v%llu  heard %.1fs ago\n",
                        k, s.lane, (unsigned long long)s.chunks,
                        (unsigned long long)s.checksum_failed,
                        s.lag_n ? (double)s.lag_sum / (double)s.lag_n : 0.0,
                        (unsigned long long)s.lag_max, (unsigned long long)s.dropped,
                        s.dropped ? (double)s.dropped_lag_sum / (double)s.dropped : 0.0,
                        (unsigned long long)s.remote_dropped,
                        (unsigned long long)s.weights_version,
                        s.heard_ns ? (double)(dshq_now_ns() - s.heard_ns) / 1e9 : -1.0);
                printed++;
            }
        }
    }
    dshq_region_detach(r);
    return printed;
}
