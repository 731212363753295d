/* test_chaos_run — fault scenarios against real `dshq train` runs
 * (docs/reliability.md), each bounded in time, with one table at the end:
 *
 *   scenario | faults injected | chunks verified | chunks refused |
 *   corrupt consumed | recoveries | final win rate | result
 *
 *   kill9-workers  kill -9 of random workers, many times; the run goes on
 *                  (restarts limited by a rate window) and ends with exit 0
 *   hostile        worker 1 damages chunks (random header and body bytes,
 *                  NaN / huge floats, out-of-range actions, changes after
 *                  commit); --verify-chunks: every bad chunk is refused and
 *                  counted against worker 1, the policy stays finite
 *   hostile-inplace  the same without --verify-chunks (in-place checks only)
 *   sigstop        a worker stopped with SIGSTOP is shown stalled and killed
 *                  after RUN_WORKER_STALL_S, then restarted      (full only)
 *   trainer-kill   kill -9 of the trainer: a `dshq show` keeps playing and
 *                  says the trainer is gone; the launcher exits non-zero
 *                  naming the last checkpoint; --resume continues from it
 *   launcher-kill  kill -9 of the launcher: no child outlives it for long
 *                  (parent-death signal); `dshq rm` removes the stale region
 *
 * "corrupt consumed" counts chunks that got past the checks into an update
 * and were caught there (updates skipped as not finite, or an out-of-range
 * action seen by PPO): it must be 0.  "recoveries": worker restarts, or the
 * resume.  The "final win rate" is the summary's evaluation against the
 * random baseline.
 *
 * Without arguments (make test) the cheap scenarios run briefly; with
 * --full (make chaos) every scenario runs at full length (about 5 min).
 * Needs the dshq binary: $DSHQ (tests/run.sh sets it) or build/dshq. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "run/roles.h"

static const char *dshq_bin(void)
{
    const char *p = getenv("DSHQ");
    return p ? p : "build/dshq";
}

static char g_dir[128];
static int g_full;

struct row {
    char name[32];
    long faults, verified, refused, corrupt, recoveries;
    double win;
    int pass;
    char note[96];
};
static struct row rows[16];
static int nrows;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Starts `dshq ARGS...` with stdout+stderr into log (env: NAME=VALUE or NULL). */
static pid_t start(const char *log, const char *env, char *const args[])
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        if (env)
            putenv((char *)env);
        execv(dshq_bin(), args);
        _exit(127);
    }
    return pid;
}

/* Waits for pid up to timeout_s (then kills it): its exit code, 128+signal. */
static int finish(pid_t pid, int timeout_s)
{
    uint64_t end = now_ns() + (uint64_t)timeout_s * 1000000000ull;
    while (now_ns() < end) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        nap_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strdup(buf);
}

/* The number after `key` in text, or -1. */
static double after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

/* Attaches to the run (polling until it exists and is running, up to 60 s). */
static int attach_running(struct run *run, const char *region)
{
    uint64_t end = now_ns() + 60000000000ull;
    while (now_ns() < end) {
        if (run_attach(run, region, DSHQ_ATTACH_RDONLY) == 0) {
            if (run_state(run) == RUN_RUNNING)
                return 0;
            run_detach(run);
        }
        nap_ms(50);
    }
    return -1;
}

static pid_t worker_pid(const struct run *run, uint32_t i)
{
    /* Relaxed: informative; the launcher restarts workers on its own. */
    return (pid_t)atomic_load_explicit(&run->blk->worker[i].pid, memory_order_relaxed);
}

/* Fills a row's counters from a summary. */
static void from_summary(struct row *r, const char *out)
{
    r->verified = (long)after(out, "; verified ");
    r->refused = (long)after(out, "chunks refused      ");
    r->corrupt = (long)after(out, "updates skipped (not finite) ");
    if (r->refused < 0)
        r->refused = 0, r->verified = 0, r->corrupt = 0; /* the line is left out when all 0 */
    r->recoveries = (long)after(out, "worker restarts     ");
    if (r->recoveries < 0)
        r->recoveries = 0;
    const char *vr = strstr(out, "vs random");
    r->win = vr ? after(vr, "wins ") : -1;
}

static void add_row(const struct row *r)
{
    rows[nrows++] = *r;
    printf("chaos: %-16s %s  %s\n", r->name, r->pass ? "PASS" : "FAIL", r->note);
    fflush(stdout);
}

static void train_args(char **a, int *n, const char *run, int workers, int seconds, int verify,
                       const char *ckdir)
{
    static char sw[16], ss[16];
    snprintf(sw, sizeof sw, "%d", workers);
    snprintf(ss, sizeof ss, "%d", seconds);
    int k = 0;
    a[k++] = "dshq"; a[k++] = "train"; a[k++] = "--run"; a[k++] = (char *)run;
    a[k++] = "--workers"; a[k++] = sw; a[k++] = "--seconds"; a[k++] = ss;
    a[k++] = "--envs"; a[k++] = "16"; a[k++] = "--horizon"; a[k++] = "64";
    a[k++] = "--quiet"; a[k++] = "--eval-episodes"; a[k++] = "100";
    a[k++] = "--checkpoint-dir"; a[k++] = (char *)ckdir;
    a[k++] = "--checkpoint-every"; a[k++] = "1";
    if (verify)
        a[k++] = "--verify-chunks";
    a[k] = NULL;
    *n = k;
}

/* kill -9 of random workers, `kills` times spread over `seconds`. */
static void scenario_kill9(int kills, int seconds)
{
    struct row r = {.pass = 1};
    snprintf(r.name, sizeof r.name, "kill9-workers");
    char run_name[64], region[80], log[256];
    snprintf(run_name, sizeof run_name, "chaos-%d-k9", (int)getpid());
    snprintf(region, sizeof region, "dshq-%s", run_name);
    snprintf(log, sizeof log, "%s/k9.log", g_dir);
    char *args[32];
    int n;
    train_args(args, &n, run_name, 4, seconds, 1, g_dir);
    pid_t launcher = start(log, NULL, args);
    struct run run;
    CHECK_MSG(attach_running(&run, region) == 0, "the run did not start");
    unsigned seed = (unsigned)getpid();
    uint64_t t0 = now_ns();
    long gap_ms = (long)seconds * 1000 * 8 / 10 / kills; /* within the first 80% */
    for (int k = 0; k < kills; k++) {
        uint32_t w = (uint32_t)(rand_r(&seed) % 4);
        /* Wait for this worker's current incarnation to be up (its pid
         * published), then kill it. */
        pid_t pid = 0;
        for (int tries = 0; tries < 400 && (pid = worker_pid(&run, w)) <= 0; tries++)
            nap_ms(10);
        if (pid > 0 && kill(pid, SIGKILL) == 0)
            r.faults++;
        nap_ms(gap_ms);
        if (run_stopping(&run))
            break;
        (void)t0;
    }
    run_detach(&run);
    int code = finish(launcher, seconds + 120);
    char *out = slurp(log);
    from_summary(&r, out);
    r.pass = code == 0 && strstr(out, "finished") && r.corrupt <= 0 &&
             r.recoveries >= r.faults * 9 / 10;
    snprintf(r.note, sizeof r.note, "exit %d, %ld kills, %ld restarts", code, r.faults,
             r.recoveries);
    if (!r.pass)
        fprintf(stderr, "---- %s\n%s\n", log, out);
    free(out);
    add_row(&r);
}

/* Worker 1 damages one chunk in `every`. */
static void scenario_hostile(int seconds, int verify)
{
    struct row r = {.pass = 1};
    snprintf(r.name, sizeof r.name, verify ? "hostile" : "hostile-inplace");
    char run_name[64], log[256];
    snprintf(run_name, sizeof run_name, "chaos-%d-h%d", (int)getpid(), verify);
    snprintf(log, sizeof log, "%s/hostile%d.log", g_dir, verify);
    char *args[32];
    int n;
    train_args(args, &n, run_name, 3, seconds, verify, g_dir);
    pid_t launcher = start(log, "DSHQ_CHAOS_HOSTILE=0x2:2", args);
    int code = finish(launcher, seconds + 120);
    char *out = slurp(log);
    from_summary(&r, out);
    /* Each refused chunk was a damaged one (the others do not damage). */
    r.faults = r.refused;
    const char *w1 = strstr(out, "(worker 1: ");
    long by_w1 = w1 ? (long)after(w1, "(worker 1: ") : 0;
    long unknown = strstr(out, "no worker: ") ? (long)after(out, "no worker: ") : 0;
    r.pass = code == 0 && strstr(out, "finished") && r.refused > 0 &&
             by_w1 + unknown == r.refused && r.win >= 0;
    if (verify)
        r.pass = r.pass && r.corrupt == 0 && r.verified > 0;
    snprintf(r.note, sizeof r.note, "exit %d, refused %ld (worker 1: %ld, no worker: %ld)",
             code, r.refused, by_w1, unknown);
    if (!r.pass)
        fprintf(stderr, "---- %s\n%s\n", log, out);
    free(out);
    add_row(&r);
}

/* SIGSTOP of worker 0: stalled, killed after RUN_WORKER_STALL_S, restarted. */
static void scenario_sigstop(int seconds)
{
    struct row r = {.pass = 1};
    snprintf(r.name, sizeof r.name, "sigstop");
    char run_name[64], region[80], log[256];
    snprintf(run_name, sizeof run_name, "chaos-%d-st", (int)getpid());
    snprintf(region, sizeof region, "dshq-%s", run_name);
    snprintf(log, sizeof log, "%s/sigstop.log", g_dir);
    char *args[32];
    int n;
    train_args(args, &n, run_name, 3, seconds, 1, g_dir);
    pid_t launcher = start(log, NULL, args);
    struct run run;
    CHECK_MSG(attach_running(&run, region) == 0, "the run did not start");
    pid_t pid = 0;
    for (int tries = 0; tries < 400 && (pid = worker_pid(&run, 0)) <= 0; tries++)
        nap_ms(10);
    CHECK(pid > 0 && kill(pid, SIGSTOP) == 0);
    r.faults = 1;
    /* `dshq top --once` shows it STALLED once its beat is old enough. */
    int seen_stalled = 0;
    char top_log[256];
    snprintf(top_log, sizeof top_log, "%s/top.log", g_dir);
    uint64_t end = now_ns() + (uint64_t)(RUN_WORKER_STALL_S + 30) * 1000000000ull;
    while (!seen_stalled && now_ns() < end && worker_pid(&run, 0) == pid) {
        char *targs[] = {"dshq", "top", "--once", run_name, NULL};
        finish(start(top_log, NULL, targs), 30);
        char *t = slurp(top_log);
        seen_stalled = strstr(t, " STALLED") != NULL;
        free(t);
        nap_ms(500);
    }
    run_detach(&run);
    int code = finish(launcher, seconds + 120);
    char *out = slurp(log);
    from_summary(&r, out);
    r.pass = code == 0 && strstr(out, "finished") && strstr(out, "stalled: no heartbeat") &&
             r.recoveries >= 1;
    snprintf(r.note, sizeof r.note, "exit %d, top showed STALLED: %s", code,
             seen_stalled ? "yes" : "no");
    r.pass = r.pass && seen_stalled;
    if (!r.pass)
        fprintf(stderr, "---- %s\n%s\n", log, out);
    free(out);
    add_row(&r);
}

/* kill -9 of the trainer once a checkpoint exists; show outlives it; resume. */
static void scenario_trainer_kill(int seconds)
{
    struct row r = {.pass = 1};
    snprintf(r.name, sizeof r.name, "trainer-kill");
    char run_name[64], region[80], log[256], slog[256], ck[256];
    snprintf(run_name, sizeof run_name, "chaos-%d-tk", (int)getpid());
    snprintf(region, sizeof region, "dshq-%s", run_name);
    snprintf(log, sizeof log, "%s/tk.log", g_dir);
    snprintf(slog, sizeof slog, "%s/tk-show.log", g_dir);
    snprintf(ck, sizeof ck, "%s/%s.dshq", g_dir, run_name);
    char *args[32];
    int n;
    train_args(args, &n, run_name, 2, seconds * 10, 1, g_dir);
    pid_t launcher = start(log, NULL, args);
    struct run run;
    CHECK_MSG(attach_running(&run, region) == 0, "the run did not start");
    char show_secs[16];
    snprintf(show_secs, sizeof show_secs, "%d", seconds + 4);
    char *sargs[] = {"dshq", "show", "--headless", "--seconds", show_secs, run_name, NULL};
    pid_t show = start(slog, NULL, sargs);
    /* The trainer's pid: the heartbeat of role trainer. */
    pid_t trainer = 0;
    uint64_t end = now_ns() + 60000000000ull;
    struct stat sb;
    while (now_ns() < end && (trainer <= 0 || stat(ck, &sb) != 0)) {
        struct dshq_heartbeat hb[80];
        int nb = dshq_telemetry_heartbeats(run.telemetry_mem, run.telemetry_size, hb, 80);
        for (int i = 0; i < nb; i++)
            if (hb[i].role == 2 /* METRICS_ROLE_TRAINER */)
                trainer = hb[i].pid;
        nap_ms(50);
    }
    CHECK_MSG(trainer > 0 && stat(ck, &sb) == 0, "no trainer or no checkpoint");
    nap_ms(1000L * seconds / 2);
    CHECK_EQ_INT(kill(trainer, SIGKILL), 0);
    r.faults = 1;
    run_detach(&run);
    int code = finish(launcher, 120);
    int scode = finish(show, seconds + 60);
    char *out = slurp(log), *sout = slurp(slog);
    from_summary(&r, out);
    int named = strstr(out, "the last good one this run wrote") != NULL;
    int said_gone = strstr(sout, "trainer is gone") != NULL;
    /* --resume continues from the checkpoint. */
    char rlog[256];
    snprintf(rlog, sizeof rlog, "%s/tk-resume.log", g_dir);
    char run2[80];
    snprintf(run2, sizeof run2, "%s-r", run_name);
    char *rargs[] = {"dshq", "train", "--run", run2, "--resume", ck, "--updates", "3",
                     "--envs", "16", "--horizon", "64", "--workers", "2", "--quiet",
                     "--eval-episodes", "100", "--checkpoint-dir", g_dir, NULL};
    int rcode = finish(start(rlog, NULL, rargs), 180);
    char *rout = slurp(rlog);
    /* Resumed: its update count continues the checkpoint's (more than the 3
     * of this run) and it ended cleanly. */
    int resumed = rcode == 0 && strstr(rout, "finished") && after(rout, "updates             ") > 3;
    r.recoveries = resumed;
    const char *vr = strstr(rout, "vs random");
    r.win = vr ? after(vr, "wins ") : -1;
    r.pass = code != 0 && code != -1 && named && said_gone && scode == 0 && resumed;
    snprintf(r.note, sizeof r.note, "launcher exit %d, ckpt named %d, show said gone %d, "
             "resume exit %d", code, named, said_gone, rcode);
    if (!r.pass)
        fprintf(stderr, "---- %s\n%s\n---- %s\n%s\n---- %s\n%s\n", log, out, slog, sout, rlog,
                rout);
    free(out);
    free(sout);
    free(rout);
    add_row(&r);
}

static int process_gone(pid_t pid)
{
    if (kill(pid, 0) != 0)
        return 1;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* kill -9 of the launcher: its children go (parent-death signal); the stale
 * region is removed by `dshq rm` without --force. */
static void scenario_launcher_kill(void)
{
    struct row r = {.pass = 1};
    snprintf(r.name, sizeof r.name, "launcher-kill");
    char run_name[64], region[80], log[256];
    snprintf(run_name, sizeof run_name, "chaos-%d-lk", (int)getpid());
    snprintf(region, sizeof region, "dshq-%s", run_name);
    snprintf(log, sizeof log, "%s/lk.log", g_dir);
    char *args[32];
    int n;
    train_args(args, &n, run_name, 3, 600, 1, g_dir);
    pid_t launcher = start(log, NULL, args);
    struct run run;
    CHECK_MSG(attach_running(&run, region) == 0, "the run did not start");
    pid_t kids[8];
    int nk = 0;
    for (uint32_t i = 0; i < 3; i++) {
        pid_t p = 0;
        for (int tries = 0; tries < 400 && (p = worker_pid(&run, i)) <= 0; tries++)
            nap_ms(10);
        if (p > 0)
            kids[nk++] = p;
    }
    struct dshq_heartbeat hb[80];
    int nb = dshq_telemetry_heartbeats(run.telemetry_mem, run.telemetry_size, hb, 80);
    for (int i = 0; i < nb; i++)
        if (hb[i].role == 2 /* trainer */)
            kids[nk++] = hb[i].pid;
    run_detach(&run);
    CHECK_EQ_INT(kill(launcher, SIGKILL), 0);
    CHECK_EQ_INT(finish(launcher, 30), 128 + SIGKILL);
    r.faults = 1;
    /* Every child is gone within 30 s (they stop on SIGTERM; the trainer
     * saves its checkpoint first). */
    uint64_t end = now_ns() + 30000000000ull;
    int left = nk;
    while (left && now_ns() < end) {
        left = 0;
        for (int i = 0; i < nk; i++)
            left += !process_gone(kids[i]);
        if (left)
            nap_ms(50);
    }
    char rlog[256];
    snprintf(rlog, sizeof rlog, "%s/lk-rm.log", g_dir);
    char *rargs[] = {"dshq", "rm", run_name, NULL};
    int rcode = finish(start(rlog, NULL, rargs), 30);
    struct stat sb;
    char shm[128];
    snprintf(shm, sizeof shm, "/dev/shm/%s", region);
    int region_gone = stat(shm, &sb) != 0;
    if (!region_gone)
        dshq_region_unlink(region);
    r.recoveries = region_gone;
    r.win = -1;
    r.pass = left == 0 && rcode == 0 && region_gone && nk == 4;
    snprintf(r.note, sizeof r.note, "%d of %d children left after 30 s; rm exit %d", left, nk,
             rcode);
    if (!r.pass) {
        char *out = slurp(log);
        fprintf(stderr, "---- %s\n%s\n", log, out);
        free(out);
        for (int i = 0; i < nk; i++)
            kill(kids[i], SIGKILL);
    }
    add_row(&r);
}

int main(int argc, char **argv)
{
    g_full = argc > 1 && !strcmp(argv[1], "--full");
    if (access(dshq_bin(), X_OK) != 0) {
        printf("chaos: no dshq binary at %s; skipped\n", dshq_bin());
        return 0;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/dshq-chaos-%d", (int)getpid());
    CHECK_EQ_INT(mkdir(g_dir, 0700), 0);
    if (g_full) {
        scenario_kill9(50, 60);
        scenario_hostile(40, 1);
        scenario_hostile(30, 0);
        scenario_sigstop(RUN_WORKER_STALL_S + 20);
        scenario_trainer_kill(10);
        scenario_launcher_kill();
    } else {
        scenario_kill9(6, 8);
        scenario_hostile(6, 1);
        scenario_trainer_kill(3);
        scenario_launcher_kill();
    }
    printf("\n| scenario | faults injected | chunks verified | chunks refused | corrupt consumed "
           "| recoveries | final win rate (vs random) | result |\n"
           "|---|---:|---:|---:|---:|---:|---:|---|\n");
    int failed = 0;
    for (int i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        char win[32];
        if (r->win >= 0)
            snprintf(win, sizeof win, "%.1f%%", r->win);
        else
            snprintf(win, sizeof win, "-");
        printf("| %s | %ld | %ld | %ld | %ld | %ld | %s | %s |\n", r->name, r->faults,
               r->verified, r->refused, r->corrupt < 0 ? 0 : r->corrupt, r->recoveries, win,
               r->pass ? "PASS" : "FAIL");
        failed += !r->pass;
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (!failed && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
    CHECK_MSG(failed == 0, "%d scenario(s) failed (logs in %s)", failed, g_dir);
    puts("chaos: ok");
    return 0;
}
