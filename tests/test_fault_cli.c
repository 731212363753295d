/* test_fault_cli — the commands and the supervision policy under bad input:
 *   restarts are limited by a rate window: 50 deaths spread over a long run
 *     are all restarted; more than RUN_WORKER_MAX_RESTARTS within
 *     RUN_RESTART_WINDOW_S stop the run
 *   `dshq rm NAME` without --force keeps a name without the dshq- prefix and
 *     a dshq- file it cannot attach to (garbage); --force removes them
 *   a run block with a damaged config (NaN --seconds, a huge worker count):
 *     `top` and `show` say exactly what is wrong (exit 1), `ctl stop` still
 *     raises the stop flag (exit 0)
 *   a telemetry block damaged during a run: the summary does not print
 *     made-up numbers ("nan s") and the exit code is not 0 */
#include <fcntl.h>
#include <stdarg.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "cli_run.h"
#include "run/roles.h"

static void restart_window(void)
{
    struct run_config cfg;
    run_config_default(&cfg);
    cfg.workers = 1;
    cfg.envs = 4;
    cfg.horizon = 8;
    cfg.hidden = 16;
    cfg.layers = 1;
    struct run run;
    CHECK_EQ_INT(run_create(&run, NULL, &cfg, NULL), 0);
    const uint64_t s = 1000000000ull;
    /* 50 deaths, one every 2 s: never more than 5 in a window. */
    struct run_restarts r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 50; i++) {
        uint32_t recent = run_restarts_note(&r, (uint64_t)(100 + 2 * i) * s);
        CHECK_EQ_INT(run_supervise_exit(&run, 0, recent), RUN_ACTION_RESTART);
    }
    CHECK_EQ_U64(r.total, 50);
    /* A crash loop: RUN_WORKER_MAX_RESTARTS within the window are
     * restarted, the next one stops the run. */
    memset(&r, 0, sizeof r);
    for (int i = 0; i < RUN_WORKER_MAX_RESTARTS; i++)
        CHECK_EQ_INT(run_supervise_exit(&run, 0, run_restarts_note(&r, 5 * s + (uint64_t)i)),
                     RUN_ACTION_RESTART);
    CHECK_EQ_INT(run_supervise_exit(&run, 0, run_restarts_note(&r, 6 * s)), RUN_ACTION_STOP_RUN);
    /* After a quiet window, restarts again. */
    CHECK_EQ_INT(run_supervise_exit(&run, 0,
                                    run_restarts_note(&r, (6 + RUN_RESTART_WINDOW_S + 1) * s)),
                 RUN_ACTION_RESTART);
    /* The trainer's end stops the run; a stopping run restarts nothing. */
    CHECK_EQ_INT(run_supervise_exit(&run, -1, 0), RUN_ACTION_STOP_RUN);
    run_stop(run.blk);
    CHECK_EQ_INT(run_supervise_exit(&run, 0, 1), RUN_ACTION_NONE);
    run_destroy(&run);
}

static void write_shm(const char *name, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    char buf[4096];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(i * 131 + 7);
    for (size_t done = 0; done < len; done += sizeof buf)
        CHECK(write(fd, buf, sizeof buf) == (ssize_t)sizeof buf);
    close(fd);
}

static int shm_exists(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    return access(path, F_OK) == 0;
}

static void rm_cases(void)
{
    char out[8192], foreign[64], garbage[64];
    snprintf(foreign, sizeof foreign, "notdshq-faulttest-%d", (int)getpid());
    snprintf(garbage, sizeof garbage, "dshq-faulttest-garbage-%d", (int)getpid());
    write_shm(foreign, 8192);
    write_shm(garbage, 8192);
    CHECK(cli_run(out, sizeof out, "rm %s", foreign) != 0);
    CHECK_MSG(shm_exists(foreign), "rm removed a name without the dshq- prefix: %s", out);
    CHECK(strstr(out, "not a dshq region name"));
    CHECK(cli_run(out, sizeof out, "rm %s", garbage) != 0);
    CHECK_MSG(shm_exists(garbage), "rm removed a file it cannot attach to: %s", out);
    CHECK(strstr(out, "cannot attach"));
    CHECK_EQ_INT(cli_run(out, sizeof out, "rm --force %s %s", foreign, garbage), 0);
    CHECK(!shm_exists(foreign) && !shm_exists(garbage));
}

static void damaged_block(void)
{
    struct run_config cfg;
    run_config_default(&cfg);
    cfg.workers = 1;
    cfg.envs = 4;
    cfg.horizon = 8;
    cfg.hidden = 16;
    cfg.layers = 1;
    char name[64], out[8192];
    snprintf(name, sizeof name, "faulttest-blk-%d", (int)getpid());
    struct run run;
    CHECK_EQ_INT(run_create(&run, name, &cfg, NULL), 0);
    run.blk->config.seconds = NAN;
    run.blk->config.workers = 1000000;
    CHECK(cli_run(out, sizeof out, "top --once %s", name) == 1);
    CHECK_MSG(strstr(out, "damaged") && strstr(out, "workers"), "top: %s", out);
    CHECK(cli_run(out, sizeof out, "show --headless --seconds 1 %s", name) == 1);
    CHECK_MSG(strstr(out, "damaged"), "show: %s", out);
    CHECK(!run_stopping(&run));
    CHECK_MSG(cli_run(out, sizeof out, "ctl %s stop", name) == 0, "ctl stop: %s", out);
    CHECK_MSG(run_stopping(&run), "ctl stop did not raise the stop flag: %s", out);
    /* seconds alone */
    run.blk->config.workers = 1;
    CHECK(cli_run(out, sizeof out, "top --once %s", name) == 1);
    CHECK_MSG(strstr(out, "seconds"), "top names the field: %s", out);
    run_destroy(&run);
}

static void damaged_telemetry(void)
{
    char name[64], region[80], log[128], ckdir[128], ck[256];
    snprintf(name, sizeof name, "faulttest-tel-%d", (int)getpid());
    snprintf(ckdir, sizeof ckdir, "/tmp/dshq-faulttest-tel-%d", (int)getpid());
    snprintf(ck, sizeof ck, "%s/%s.dshq", ckdir, name);
    snprintf(region, sizeof region, "dshq-%s", name);
    snprintf(log, sizeof log, "/tmp/dshq-faulttest-tel-%d.log", (int)getpid());
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(cli_bin(), "dshq", "train", "--run", name, "--workers", "1", "--envs", "8",
              "--horizon", "16", "--hidden", "16", "--layers", "1", "--seconds", "3", "--quiet",
              "--eval-episodes", "0", "--checkpoint-dir", ckdir, (char *)NULL);
        _exit(127);
    }
    struct run run;
    int attached = 0;
    for (int i = 0; i < 6000 && !attached; i++) {
        if (run_attach(&run, region, 0) == 0) {
            if (run_state(&run) == RUN_RUNNING)
                attached = 1;
            else
                run_detach(&run);
        }
        if (!attached)
            usleep(10000);
    }
    CHECK_MSG(attached, "the run did not start");
    /* Garbage over the telemetry block's control words. */
    memset(run.telemetry_mem, 0xa5, 64);
    run_detach(&run);
    int st;
    CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
    FILE *f = fopen(log, "r");
    CHECK(f);
    char out[16384];
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    fclose(f);
    unlink(log);
    unlink(ck);
    rmdir(ckdir);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) != 0, "exit 0 with a damaged telemetry:\n%s", out);
    CHECK_MSG(!strstr(out, "nan s") && !strstr(out, "finished"), "%s", out);
    CHECK_MSG(strstr(out, "stopped"), "%s", out);
    if (getenv("VERBOSE"))
        fputs(out, stdout);
}

int main(void)
{
    restart_window();
    if (access(cli_bin(), X_OK) != 0) {
        puts("fault cli: no dshq binary; command cases skipped");
        return 0;
    }
    rm_cases();
    damaged_block();
    damaged_telemetry();
    puts("fault cli: ok");
    return 0;
}
