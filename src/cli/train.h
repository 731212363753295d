/* train.h — `dshq train`: one parser for both modes, then the fork launcher
 * (launch.c) or the single-process loop (cmd_train_single.c). */
#ifndef DSHQ_CLI_TRAIN_H
#define DSHQ_CLI_TRAIN_H

#include <stdint.h>

#include "run/config.h"
#include "run/run.h"

struct train_args {
    struct run_config cfg;      /* every hyperparameter: flags, --config, --resume */
    uint8_t seen[64];           /* keys of cfg set by a flag or --config (per key index) */
    int single_process;
    int print_config;           /* print the settings (after --resume) and exit */
    int show, keep, quiet;
    int external_trainer;       /* no C trainer: an external program trains the run */
    int eval_episodes;          /* final evaluation (and single-process periodic ones) */
    int eval_greedy;
    double eval_every;          /* single-process: seconds of training between evaluations */
    const char *run_name;
    const char *checkpoint_dir;
    const char *resume;
    const char *metrics;
    int verify_chunks;          /* --verify-chunks */
    double checkpoint_every;    /* --checkpoint-every (default RUN_CHECKPOINT_EVERY_S) */
    int mpi;                    /* --mpi: one rank of an mpirun job (src/mpi) */
    double mpi_weights_ms;      /* --mpi-weights-ms: at most one weights message per T ms */
    double mpi_lost_s;          /* --mpi-lost-s: a rank silent this long is lost (default 10) */
};

/* Parses argv.  Returns 0 (go on), or with *exit_now the exit code (0 after
 * --help, 2 for bad usage). */
int train_parse(int argc, char **argv, struct train_args *a, int *exit_now);

/* --resume: takes the checkpoint's network and learner settings where no
 * flag or --config gave them (and says which), refuses another network, and
 * fills start (version and update numbering).  0 or an exit code. */
int train_apply_resume(struct train_args *a, struct run_start *start);

int train_launch(struct train_args *a, const struct run_start *start);
int train_single_process(const struct train_args *a);

#endif
