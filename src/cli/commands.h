/* commands.h — the subcommands of the dshq tool.
 *
 * Each command lives in its own src/cli/cmd_NAME.c as
 *     int cmd_NAME(int argc, char **argv);
 * where argv[0] is the subcommand's name.  It returns the process exit code:
 * 0 success, 1 failure (after printing what went wrong and what to do),
 * 2 bad usage.  Add a new one here and to the table in main.c. */
#ifndef DSHQ_CLI_COMMANDS_H
#define DSHQ_CLI_COMMANDS_H

int cmd_ls(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_region_demo(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
