/* mpi_host.h — `dshq train --mpi`: rollout workers on other hosts through
 * Open MPI (docs/scale-out.md).
 *
 * Every rank of `mpirun -np K dshq train --mpi ...` is a normal launcher
 * (src/cli/launch.c) with its own region and local worker processes:
 *
 *   rank 0       region NAME: the trainer, n_local local workers on lanes
 *                0..n_local-1, and one lane per remote rank (n_local+r-1),
 *                filled by the receiver thread of this launcher
 *   rank r > 0   region NAME-rankR: local workers only; the forwarder thread
 *                of this launcher is the consumer of its lanes and the writer
 *                of its weights channel
 *
 * Upward (tag UP then DATA): a committed chunk's bytes, sent straight from
 * the slot with MPI_Isend (a bounded number in flight), preceded by a small
 * envelope with its size, its sequence number and a checksum; rank 0 claims
 * a slot of the rank's lane and receives the bytes into it (no copy), checks
 * the checksum and commits: the trainer sees an ordinary chunk.  The only
 * header field the forwarder rewrites is policy_version, translated from
 * the rank's local weights numbering into rank 0's.
 * Downward (tag DOWN): each new weights version (or the newest at most
 * every --mpi-weights-ms), re-published in the rank's weights channel; then
 * STOP.  A remote rank's last upward message is BYE.
 *
 * The MPI calls are made by one thread at a time: the launcher's main thread
 * (init, the config, finalize) and the one MPI thread (everything between),
 * which the main thread joins: MPI_THREAD_SERIALIZED.
 *
 * Built without Open MPI (no mpicc at build time), mpi_host_plan says so and
 * fails. */
#ifndef DSHQ_MPI_HOST_H
#define DSHQ_MPI_HOST_H

#include <stdint.h>

#include "run/run.h"

#define MPI_HOST_MAX_RANKS 32

struct train_args;

/* What the launcher does differently under --mpi (filled by mpi_host_plan). */
struct mpi_plan {
    int rank, size;         /* this process in MPI_COMM_WORLD */
    uint32_t n_local;       /* worker processes this launcher forks */
    uint32_t first_remote;  /* rank 0: lane of rank 1 (= n_local) */
    double weights_ms;      /* rank 0: at most one weights message per this many ms (0: each) */
    char run_name[64];      /* the region's run name on this rank */
};

/* 1 when this build has Open MPI. */
int mpi_host_available(void);

/* Before the region is made, on every rank: MPI_Init, the config of rank 0
 * to every rank (remote ranks keep their own --workers), then a->cfg.workers
 * on rank 0 grows by one lane per remote rank, and on a remote rank the run
 * name gets "-rankR" and the checkpoint, metrics, show and final evaluation
 * are off.  0, or an exit code after a message on stderr. */
int mpi_host_plan(struct train_args *a, struct mpi_plan *p);

/* After the local roles are forked: starts the receiver (rank 0) or the
 * forwarder (rank > 0) thread on run.  0 or an exit code. */
int mpi_host_start(struct run *run, const struct mpi_plan *p);

/* After the local roles ended: joins the thread, prints this rank's lines
 * (rank 0: one per remote rank), MPI_Finalize.  Returns 0, or 1 when the
 * thread failed. */
int mpi_host_finish(struct run *run, const struct mpi_plan *p);

#endif
