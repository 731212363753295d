/* cmd_train.c — 'dshq train': parses every flag once (getopt_long over the
 * config table of src/run/config.c plus the host's own options) and starts
 * the multi-process run (launch.c) or the single-process loop
 * (cmd_train_single.c).  Both modes take the same config flags, with the
 * same defaults and ranges. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/train.h"
#include "cli/util.h"
#include "run/roles.h"

enum {
    OPT_HOST = 1000, /* host options; config keys are indexed from 0 */
    OPT_HELP = OPT_HOST,
    OPT_SINGLE,
    OPT_PRINT_CONFIG,
    OPT_CONFIG,
    OPT_RUN,
    OPT_SHOW,
    OPT_KEEP,
    OPT_QUIET,
    OPT_CKPT_DIR,
    OPT_RESUME,
    OPT_METRICS,
    OPT_EVAL_EPISODES,
    OPT_EVAL_EVERY,
    OPT_EVAL_GREEDY,
    OPT_VERIFY_CHUNKS,
    OPT_CKPT_EVERY,
    OPT_MPI,
    OPT_MPI_WEIGHTS_MS,
    OPT_MPI_LOST_S,
    OPT_EXTERNAL_TRAINER,
};

static const struct {
    const char *name;
    int has_arg, id;
    const char *arg, *help;
} host_opts[] = {
    {"help", no_argument, OPT_HELP, NULL, "this text"},
    {"single-process", no_argument, OPT_SINGLE, NULL,
     "collect and learn in this process (the reference loop)"},
    {"config", required_argument, OPT_CONFIG, "FILE",
     "read settings from FILE (key = value lines); flags override them"},
    {"print-config", no_argument, OPT_PRINT_CONFIG, NULL,
     "print the resulting settings as a --config file and exit"},
    {"run", required_argument, OPT_RUN, "NAME",
     "run name; its region is /dev/shm/dshq-NAME (default 'default')"},
    {"show", no_argument, OPT_SHOW, NULL, "live match in this terminal (q stops training)"},
    {"keep", no_argument, OPT_KEEP, NULL, "keep the region after the run (for 'dshq inspect')"},
    {"quiet", no_argument, OPT_QUIET, NULL, "no progress lines"},
    {"checkpoint-dir", required_argument, OPT_CKPT_DIR, "D",
     "checkpoints go to D/NAME.dshq every minute and at the end (default 'runs')"},
    {"checkpoint-every", required_argument, OPT_CKPT_EVERY, "S",
     "seconds between checkpoints (default 60; 0: only at the end)"},
    {"verify-chunks", no_argument, OPT_VERIFY_CHUNKS, NULL,
     "the trainer copies every chunk and checks its checksum before learning from it"},
    {"resume", required_argument, OPT_RESUME, "FILE",
     "continue from a checkpoint (weights, optimizer, counters, its settings)"},
    {"metrics", required_argument, OPT_METRICS, "FILE",
     "append metrics as JSON lines (each run opens with a run_begin line)"},
    {"eval-episodes", required_argument, OPT_EVAL_EPISODES, "N",
     "episodes per baseline in each evaluation (default 200; 0: none)"},
    {"eval-every", required_argument, OPT_EVAL_EVERY, "S",
     "single-process: seconds of training between evaluations (default 5; 0 off)"},
    {"eval-greedy", no_argument, OPT_EVAL_GREEDY, NULL,
     "evaluate the argmax policy instead of sampling"},
    {"mpi", no_argument, OPT_MPI, NULL,
     "one rank of `mpirun -np K dshq train --mpi`: rank 0 trains, the others send chunks "
     "(docs/scale-out.md)"},
    {"mpi-weights-ms", required_argument, OPT_MPI_WEIGHTS_MS, "T",
     "--mpi: send the newest weights at most every T ms (default 0: every version)"},
    {"mpi-lost-s", required_argument, OPT_MPI_LOST_S, "S",
     "--mpi: a rank silent for S s is lost: the run stops with a checkpoint (default 10)"},
    {"external-trainer", no_argument, OPT_EXTERNAL_TRAINER, NULL,
     "workers (and --show) but no C trainer: a program of yours attaches to the run "
     "and trains it (examples/torch_ppo.py NAME)"},
};
#define N_HOST (sizeof host_opts / sizeof host_opts[0])

static void usage(FILE *f, const struct run_config *d)
{
    fprintf(f,
            "usage: dshq train [--single-process] [--config FILE] [OPTIONS]\n\n"
            "Trains the Ball Drill policy with PPO.  By default N rollout worker processes\n"
            "play matches and write experience into shared memory; the trainer learns from\n"
            "it in place and publishes each new policy (--show plays a live match that\n"
            "hot-swaps every new policy).  --single-process runs collect and update in\n"
            "turn in one process.  Both modes take the same settings below.\n\n"
            "Run and host:\n");
    for (size_t i = 0; i < N_HOST; i++) {
        char left[48];
        snprintf(left, sizeof left, "--%s%s%s", host_opts[i].name, host_opts[i].arg ? " " : "",
                 host_opts[i].arg ? host_opts[i].arg : "");
        fprintf(f, "  %-22s %s\n", left, host_opts[i].help);
    }
    fprintf(f, "\nSettings (also the keys of a --config file; default, range):\n");
    for (size_t i = 0; i < run_config_key_count; i++) {
        const struct run_config_key *k = &run_config_keys[i];
        char left[48], def[64], range[160];
        run_config_format(d, k, def, sizeof def);
        if (k->type == RUN_KEY_FLAG) {
            snprintf(left, sizeof left, "--%s", k->name);
            snprintf(range, sizeof range, "off");
        } else {
            snprintf(left, sizeof left, "--%s X", k->name);
            if (k->type == RUN_KEY_CHOICE)
                snprintf(range, sizeof range, "%s; %s", def, k->choices);
            else
                snprintf(range, sizeof range, "%s; %g..%g", def, k->min, k->max);
        }
        fprintf(f, "  %-22s %s [%s]\n", left, k->help, range);
    }
    fprintf(f, "\nWith --single-process, workers, max-lag, lane-slots, transport, when-full and\n"
               "deterministic have no effect (one process; it is deterministic by updates).\n");
    fprintf(f, "\nWhile it runs: 'dshq show NAME', 'dshq top NAME', 'dshq inspect NAME' and\n"
               "'dshq ctl NAME pause|resume|stop|set lr X' from another terminal.\n");
}

/* --config is applied before the flags, wherever it stands. */
static int load_config_first(int argc, char **argv, struct train_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            path = argv[i] + 9;
        if (!path)
            continue;
        char err[512];
        if (run_config_load(&a->cfg, path, a->seen, err, sizeof err)) {
            fprintf(stderr, "dshq train: --config: %s\n", err);
            return 1;
        }
    }
    return 0;
}

int train_parse(int argc, char **argv, struct train_args *a, int *exit_now)
{
    memset(a, 0, sizeof *a);
    run_config_default(&a->cfg);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    a->cfg.workers = cores > 1 ? (uint32_t)(cores - 1) : 1;
    if (a->cfg.workers > RUN_MAX_WORKERS)
        a->cfg.workers = RUN_MAX_WORKERS;
    a->run_name = "default";
    a->checkpoint_dir = "runs";
    a->eval_episodes = 200;
    a->eval_every = 5;
    a->checkpoint_every = RUN_CHECKPOINT_EVERY_S;
    *exit_now = 1;
    _Static_assert(sizeof a->seen >= 32, "room for every key");
    if (run_config_key_count > sizeof a->seen)
        return 2;
    struct run_config defaults = a->cfg;
    if (load_config_first(argc, argv, a))
        return 2;

    struct option opts[N_HOST + 64 + 1];
    size_t n = 0;
    for (size_t i = 0; i < N_HOST; i++)
        opts[n++] = (struct option){host_opts[i].name, host_opts[i].has_arg, NULL,
                                    host_opts[i].id};
    for (size_t i = 0; i < run_config_key_count; i++)
        opts[n++] = (struct option){run_config_keys[i].name,
                                    run_config_keys[i].type == RUN_KEY_FLAG ? no_argument
                                                                            : required_argument,
                                    NULL, (int)i};
    opts[n] = (struct option){0, 0, 0, 0};
    int print_config = 0, c;
    optind = 1;
    opterr = 0;
    char err[256];
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            fprintf(stderr, "dshq train: %s '%s' (see --help)\n",
                    c == ':' ? "missing value for" : "unknown or incomplete option", bad);
            return 2;
        }
        if (c >= 0 && (size_t)c < run_config_key_count) {
            if (run_config_set(&a->cfg, run_config_keys[c].name, optarg, err, sizeof err)) {
                fprintf(stderr, "dshq train: --%s\n", err);
                return 2;
            }
            a->seen[c] = 1;
            continue;
        }
        switch (c) {
        case 'h':
        case OPT_HELP:
            usage(stdout, &defaults);
            return 0;
        case OPT_SINGLE: a->single_process = 1; break;
        case OPT_PRINT_CONFIG: print_config = 1; break;
        case OPT_CONFIG: break; /* done first */
        case OPT_RUN:
            if (!*optarg || strlen(optarg) >= 40 || strchr(optarg, '/')) {
                fprintf(stderr, "dshq train: --run needs a name of 1-39 characters without '/'\n");
                return 2;
            }
            a->run_name = optarg;
            break;
        case OPT_SHOW: a->show = 1; break;
        case OPT_KEEP: a->keep = 1; break;
        case OPT_QUIET: a->quiet = 1; break;
        case OPT_CKPT_DIR: a->checkpoint_dir = optarg; break;
        case OPT_RESUME: a->resume = optarg; break;
        case OPT_METRICS: a->metrics = optarg; break;
        case OPT_EVAL_GREEDY: a->eval_greedy = 1; break;
        case OPT_VERIFY_CHUNKS: a->verify_chunks = 1; break;
        case OPT_CKPT_EVERY:
            a->checkpoint_every = cli_parse_double("train", "--checkpoint-every", optarg, 0, 1e7);
            break;
        case OPT_MPI: a->mpi = 1; break;
        case OPT_MPI_WEIGHTS_MS:
            a->mpi_weights_ms = cli_parse_double("train", "--mpi-weights-ms", optarg, 0, 1e6);
            break;
        case OPT_MPI_LOST_S:
            a->mpi_lost_s = cli_parse_double("train", "--mpi-lost-s", optarg, 0.5, 1e6);
            break;
        case OPT_EXTERNAL_TRAINER: a->external_trainer = 1; break;
        case OPT_EVAL_EPISODES:
            a->eval_episodes = (int)cli_parse_int("train", "--eval-episodes", optarg, 0, 1000000);
            break;
        case OPT_EVAL_EVERY:
            a->eval_every = cli_parse_double("train", "--eval-every", optarg, 0, 1e7);
            break;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dshq train: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (a->single_process && a->mpi) {
        fprintf(stderr, "dshq train: --mpi needs the multi-process run (drop --single-process)\n");
        return 2;
    }
    if (a->single_process && (a->show || a->keep || a->resume)) {
        fprintf(stderr, "dshq train: --show, --keep and --resume need the multi-process run "
                        "(drop --single-process)\n");
        return 2;
    }
    if (a->external_trainer && (a->single_process || a->resume)) {
        fprintf(stderr, "dshq train: --external-trainer starts no C trainer: it does not go with "
                        "--single-process or --resume\n");
        return 2;
    }
    if (run_config_check(&a->cfg, err, sizeof err)) {
        fprintf(stderr, "dshq train: %s\n", err);
        return 2;
    }
    a->print_config = print_config;
    *exit_now = 0;
    return 0;
}

int cmd_train(int argc, char **argv)
{
    static struct train_args a;
    int exit_now;
    int rc = train_parse(argc, argv, &a, &exit_now);
    if (exit_now)
        return rc;
    struct run_start start = {0};
    /* --mpi: only rank 0 reads the checkpoint; the others take its settings. */
    const char *mpi_rank = getenv("OMPI_COMM_WORLD_RANK");
    if (a.mpi && mpi_rank && strcmp(mpi_rank, "0"))
        a.resume = NULL;
    if (a.resume && (rc = train_apply_resume(&a, &start)))
        return rc;
    if (a.print_config) {
        run_config_write(stdout, &a.cfg);
        return 0;
    }
    return a.single_process ? train_single_process(&a) : train_launch(&a, &start);
}
