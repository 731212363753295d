/* mpi_stats.h — per-rank counters of an `--mpi` run, for `dshq top`.
 *
 * Rank 0's receiver keeps one line per remote rank and publishes them in a
 * small region of their own, /dev/shm/dshq-NAME-mpi (one RAW section
 * "mpi"), next to the run's region: the run block and include/dshq stay as
 * they are, and a run without --mpi has no such region.  Writer: the
 * receiver thread (relaxed stores of counters); readers: `dshq top`, which
 * copies the lines and checks them before printing.  No MPI here. */
#ifndef DSHQ_MPI_STATS_H
#define DSHQ_MPI_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define MPI_STATS_MAX_RANKS 32
#define MPI_STATS_VERSION 1

/* One remote rank, as seen by rank 0 (private memory). */
struct mpi_rank_stats {
    uint64_t chunks;          /* chunks received into the rank's lane, checksum good */
    uint64_t bytes;
    uint64_t checksum_failed; /* received, checksum bad: never handed to the trainer */
    uint64_t bad;             /* envelopes refused (magic, size) */
    uint64_t discarded;       /* received after the stop, not handed on */
    uint64_t dropped;         /* refused by a full lane (drop policy) */
    uint64_t dropped_lag_sum; /* their policy lag, summed */
    uint64_t lag_sum, lag_n, lag_max; /* policy lag of the chunks taken, at arrival */
    uint64_t remote_steps;    /* env steps its workers made */
    uint64_t remote_dropped;  /* chunks its own lanes refused */
    uint64_t weights_version; /* newest version it re-published */
    uint64_t weights_msgs;    /* weights messages it received */
    uint64_t weights_sent;    /* weights messages sent to it */
    uint64_t heard_ns;        /* CLOCK_MONOTONIC of its last message */
    uint32_t lane, pad;
};

/* The shared form: the same fields, atomic, one per rank (index = rank). */
struct mpi_stats_line {
    _Atomic uint64_t v[17];   /* the fields of mpi_rank_stats in order, lane last */
};
struct mpi_stats_block {
    uint32_t version;         /* MPI_STATS_VERSION */
    uint32_t ranks;           /* MPI world size */
    _Atomic uint64_t updated_ns;
    uint64_t reserved[6];
    struct mpi_stats_line rank[MPI_STATS_MAX_RANKS];
};

struct mpi_stats_region;

/* Rank 0: creates /dev/shm/REGION-mpi (REGION: the run's region name);
 * NULL when it cannot (the run goes on without per-rank telemetry). */
struct mpi_stats_region *mpi_stats_create(const char *region, int ranks);
void mpi_stats_publish(struct mpi_stats_region *s, const struct mpi_rank_stats *rs, int ranks);
void mpi_stats_destroy(struct mpi_stats_region *s);

/* `dshq top`: prints one line per remote rank of the run whose region is
 * REGION, when it has an -mpi region; prints nothing otherwise.  Returns the
 * number of ranks printed. */
int mpi_stats_print(FILE *f, const char *region);

#endif
