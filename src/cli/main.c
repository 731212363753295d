/* main.c — the dshq command-line tool: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"train", cmd_train, "train the Ball Drill policy: trainer, workers, live show"},
    {"show", cmd_show, "watch a running training's newest policy play, live"},
    {"top", cmd_top, "a running training's telemetry, live"},
    {"ctl", cmd_ctl, "pause, resume, stop or tune a running training"},
    {"serve", cmd_serve, "serve the browser page (make web) on 127.0.0.1, cross-origin isolated"},
    {"eval", cmd_eval, "play a checkpoint against a baseline"},
    {"plot", cmd_plot, "draw a run's learning curve (metrics JSON lines) as an SVG"},
    {"demo", cmd_demo, "play a Ball Drill match between baselines (terminal, or headless stats)"},
    {"inspect", cmd_inspect, "print a live region's header, sections and counters"},
    {"ls", cmd_ls, "list regions in /dev/shm with size, age and creator liveness"},
    {"rm", cmd_rm, "remove a region by name"},
    {"region-demo", cmd_region_demo, "create a region, inspect it from a child process"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: dshq COMMAND [ARGS...]\n\n"
               "DrillSergeantHQ: a reinforcement-learning playground on copy-free\n"
               "shared memory.  Commands:\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'dshq COMMAND --help' for the options of one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "dshq: unknown command '%s'; run 'dshq --help' for the list\n", argv[1]);
    return 2;
}
