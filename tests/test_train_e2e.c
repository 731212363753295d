/* End to end, headless and bounded: `dshq train` with one worker for a few
 * seconds while `dshq show` watches from another process.  Checks that the
 * weights version advances, the show adopts at least 2 versions, chunks are
 * consumed, no chunk used was older than the lag limit, a worker killed with
 * SIGKILL is restarted on its lane, unknown control messages are counted and
 * not obeyed, `dshq ctl` set/pause/resume take effect, the checkpoint is written and resumes with its counters, and
 * the region is gone afterwards.  Then the MPSC ring and the drop policy,
 * each combination once: every run trains and consumes through what it
 * says it used. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "run/checkpoint.h"
#include "run/metrics.h"
#include "run/run.h"
#include "check.h"
#include "dshq/mailbox.h"

static const char *dshq_bin(void)
{
    const char *p = getenv("DSHQ");
    return p ? p : "build/dshq";
}

/* Starts `dshq ARGS...` with stdout+stderr into log; returns its pid. */
static pid_t start(const char *log, char *const args[])
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(dshq_bin(), args);
        _exit(127);
    }
    return pid;
}

static int finish(pid_t pid, int timeout_s)
{
    for (int i = 0; i < timeout_s * 20; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_MSG(0, "process %d did not finish within %d s", (int)pid, timeout_s);
    return -1;
}

static void dump(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tail -n 30 %s >&2", path);
    if (system(cmd) != 0)
        fprintf(stderr, "(cannot show %s)\n", path);
}

static uint64_t json_u64(const char *line, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(line, k);
    CHECK_MSG(p, "no %s in %s", key, line);
    return strtoull(p + strlen(k), NULL, 10);
}

int main(void)
{
    if (access(dshq_bin(), X_OK) != 0) {
        printf("skip: %s not built\n", dshq_bin());
        return TEST_SKIP;
    }
    int slow = TEST_UNDER_TSAN || TEST_UNDER_ASAN;
    char name[64], dir[128], log[256], slog[256], metrics[256], ckpt[256], region[96];
    snprintf(name, sizeof name, "test-e2e-%d", (int)getpid());
    snprintf(region, sizeof region, "dshq-%s", name);
    snprintf(dir, sizeof dir, "/tmp/dshq-e2e-%d", (int)getpid());
    CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
    snprintf(log, sizeof log, "%s/train.log", dir);
    snprintf(slog, sizeof slog, "%s/show.log", dir);
    snprintf(metrics, sizeof metrics, "%s/m.jsonl", dir);
    snprintf(ckpt, sizeof ckpt, "%s/%s.dshq", dir, name);
    unlink(metrics);

    const char *secs = slow ? "14" : "8";
    char *targs[] = {"dshq", "train", "--run", name, "--seconds", (char *)secs, "--workers", "1",
                     "--envs", "16", "--horizon", "32", "--checkpoint-dir", dir, "--metrics",
                     metrics, "--eval-episodes", "10", "--keep", NULL};
    pid_t train = start(log, targs);

    /* Wait for the run to be up and publishing. */
    struct run run;
    int rc = -1;
    for (int i = 0; i < 200 && rc; i++) {
        rc = run_attach(&run, region, 0);
        if (rc)
            usleep(50000);
    }
    CHECK_MSG(rc == 0, "could not attach to the run: %s", dshq_strerror(rc));
    for (int i = 0; i < 200 && run_state(&run) != RUN_RUNNING; i++)
        usleep(50000);
    CHECK_EQ_INT(run_state(&run), RUN_RUNNING);

    char *sargs[] = {"dshq", "show", "--headless", "--seconds", slow ? "8" : "5",
                     "--min-versions", "2", name, NULL};
    pid_t show = start(slog, sargs);

    /* Unknown control messages: a type nobody knows, a known type with a
     * version from the future.  Both must be counted and not obeyed (a PAUSE
     * v9 obeyed would freeze training; the checks below would catch it). */
    struct dshq_mailbox *mb;
    CHECK_EQ_INT(dshq_mailbox_attach(run.mailbox_mem, run.mailbox_size, 0, &mb), 0);
    CHECK_EQ_INT(dshq_mailbox_post(mb, DSHQ_MSG_USER + 7, 1, "hello", 5), 0);
    uint32_t pause_v9[8] = {1};
    CHECK_EQ_INT(dshq_mailbox_post(mb, DSHQ_MSG_PAUSE, 9, pause_v9, sizeof pause_v9), 0);
    dshq_mailbox_detach(mb);

    /* A known message posted after them by `dshq ctl`: once its effect shows
     * in the telemetry, the trainer has consumed the two before it. */
    char ctl[256];
    snprintf(ctl, sizeof ctl, "%s ctl %s set lr 0.00077 >/dev/null", dshq_bin(), name);
    CHECK_EQ_INT(system(ctl), 0);
    struct metrics m;
    int seen = 0;
    for (int i = 0; i < 400 && !seen; i++) {
        if (dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(), &m,
                                sizeof m, NULL) == (int)sizeof m &&
            m.learning_rate > 0.00076 && m.learning_rate < 0.00078)
            seen = 1;
        else
            usleep(25000);
    }
    CHECK_MSG(seen, "set lr never took effect");
    struct dshq_mailbox_stats ms;
    CHECK_EQ_INT(dshq_mailbox_stats(run.mailbox_mem, run.mailbox_size, &ms), 0);
    CHECK_EQ_U64(ms.unknown_type, 1);
    CHECK_EQ_U64(ms.unknown_version, 1);
    CHECK_EQ_INT(atomic_load(&run.blk->paused), 0); /* PAUSE v9 was not obeyed */
    /* Pause and resume through the mailbox. */
    snprintf(ctl, sizeof ctl, "%s ctl %s pause >/dev/null", dshq_bin(), name);
    CHECK_EQ_INT(system(ctl), 0);
    for (int i = 0; i < 400 && !atomic_load(&run.blk->paused); i++)
        usleep(25000);
    CHECK_EQ_INT(atomic_load(&run.blk->paused), 1);
    snprintf(ctl, sizeof ctl, "%s ctl %s resume >/dev/null", dshq_bin(), name);
    CHECK_EQ_INT(system(ctl), 0);
    for (int i = 0; i < 400 && atomic_load(&run.blk->paused); i++)
        usleep(25000);
    CHECK_EQ_INT(atomic_load(&run.blk->paused), 0);

    /* Kill the worker mid-run: the launcher must restart it on its lane. */
    usleep(1500000);
    int64_t wpid = atomic_load(&run.blk->worker[0].pid);
    CHECK(wpid > 0);
    CHECK_EQ_INT(kill((pid_t)wpid, SIGKILL), 0);
    uint64_t chunks_before = atomic_load(&run.blk->worker[0].chunks);

    int show_code = finish(show, 60);
    if (show_code)
        dump(slog);
    CHECK_EQ_INT(show_code, 0);
    int train_code = finish(train, 120);
    if (train_code)
        dump(log);
    CHECK_EQ_INT(train_code, 0);
    /* Names: the progress lines give the score (draws count half), the
     * summary wins, draws and losses; "1 worker", not "1 workers". */
    char grep[640];
    static const char *const says[] = {"score [0-9.]* (vs ", "vs random .*wins .*draws .*losses",
                                       ": 1 worker x 16 envs"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(grep, sizeof grep, "grep -q '%s' %s", says[i], log);
        CHECK_MSG(system(grep) == 0, "the run's output lacks /%s/", says[i]);
    }

    /* After the run (kept with --keep): counters in the region. */
    CHECK(atomic_load(&run.blk->worker[0].restarts) >= 1);
    CHECK(atomic_load(&run.blk->worker[0].pid) != wpid);
    CHECK_MSG(atomic_load(&run.blk->worker[0].chunks) > chunks_before,
              "the restarted worker produced nothing");
    CHECK_EQ_INT(dshq_mailbox_stats(run.mailbox_mem, run.mailbox_size, &ms), 0);
    CHECK_EQ_U64(ms.unknown_type, 1);
    CHECK_EQ_U64(ms.unknown_version, 1);
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(run_rollouts_stats(&run, &rs), 0);
    CHECK(rs.consumed > 2);
    run_detach(&run);

    /* The show adopted >= 2 versions (its --min-versions made it exit 0),
     * and says how many. */
    FILE *f = fopen(slog, "r");
    CHECK(f);
    char line[4096];
    int versions = -1;
    while (fgets(line, sizeof line, f))
        sscanf(line, "show: adopted %d policy versions", &versions);
    fclose(f);
    CHECK_MSG(versions >= 2, "show adopted %d versions", versions);

    /* Metrics: the version advances, chunks are consumed, and no chunk used
     * in an update was older than the lag limit (default 4). */
    f = fopen(metrics, "r");
    CHECK(f);
    uint64_t last_version = 0, consumed = 0;
    int lines = 0;
    int markers = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "\"run_begin\"")) { /* the line that opens a run */
            markers++;
            continue;
        }
        lines++;
        uint64_t v = json_u64(line, "weights_version");
        CHECK(v >= last_version);
        last_version = v;
        consumed = json_u64(line, "chunks_consumed");
        if (json_u64(line, "updates") > 0)
            CHECK_MSG(json_u64(line, "policy_lag_max") <= 4, "lag over the limit: %s", line);
    }
    fclose(f);
    CHECK(lines >= 3);
    CHECK_EQ_INT(markers, 1);
    CHECK_MSG(last_version >= 3, "weights version only reached %llu",
              (unsigned long long)last_version);
    CHECK(consumed >= 2);

    /* The checkpoint; then resume from it for 3 more updates. */
    struct ckpt_meta meta;
    char err[256];
    CHECK_MSG(ckpt_read_meta(ckpt, &meta, err, sizeof err) == 0, "%s", err);
    CHECK(meta.updates >= 2);
    uint64_t updates_before = meta.updates;

    char rm_args[160];
    snprintf(rm_args, sizeof rm_args, "%s rm %s >/dev/null", dshq_bin(), name);
    CHECK_EQ_INT(system(rm_args), 0);
    char path[160];
    snprintf(path, sizeof path, "/dev/shm/%s", region);
    struct stat st;
    CHECK(stat(path, &st) != 0);

    char *rargs[] = {"dshq", "train", "--run", name, "--updates", "3", "--workers", "1",
                     "--envs", "16", "--horizon", "32", "--checkpoint-dir", dir, "--resume", ckpt,
                     "--eval-episodes", "0", NULL};
    train = start(log, rargs);
    train_code = finish(train, 120);
    if (train_code)
        dump(log);
    CHECK_EQ_INT(train_code, 0);
    CHECK_MSG(ckpt_read_meta(ckpt, &meta, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_U64(meta.updates, updates_before + 3);
    /* Without --keep the region is gone. */
    CHECK(stat(path, &st) != 0);

    /* dshq eval plays the checkpoint, and refuses a truncated copy. */
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "%s eval %s --vs random --episodes 4 2>&1", dshq_bin(), ckpt);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    CHECK_EQ_INT(WEXITSTATUS(pclose(p)), 0);
    CHECK_MSG(strstr(out, "wins") && strstr(out, "4 episodes"), "%s", out);
    snprintf(cmd, sizeof cmd, "head -c 1000 %s > %s/cut.dshq && %s eval %s/cut.dshq 2>&1", ckpt,
             dir, dshq_bin(), dir);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    CHECK_EQ_INT(WEXITSTATUS(pclose(p)), 1);
    CHECK_MSG(strstr(out, "truncated"), "%s", out);

    /* The other transport and full policies, end to end: each run trains,
     * says what it used, and consumes chunks through it. */
    static const char *const combos[][2] = {{"mpsc", "drop"}, {"mpsc", "block"}, {"lanes", "drop"}};
    for (size_t c = 0; c < 3; c++) {
        char mpath[256], run2[96];
        snprintf(mpath, sizeof mpath, "%s/m%zu.jsonl", dir, c);
        snprintf(run2, sizeof run2, "%s-%zu", name, c);
        snprintf(cmd, sizeof cmd,
                 "%s train --run %s --transport %s --when-full %s --updates 4 --workers 2 "
                 "--envs 8 --horizon 16 --hidden 16 --layers 1 --eval-episodes 0 "
                 "--checkpoint-dir %s --metrics %s 2>&1", dshq_bin(), run2, combos[c][0],
                 combos[c][1], dir, mpath);
        p = popen(cmd, "r");
        n = fread(out, 1, sizeof out - 1, p);
        out[n] = 0;
        CHECK_MSG(WEXITSTATUS(pclose(p)) == 0, "%s", out);
        char want[64];
        snprintf(want, sizeof want, "over %s (%s when full)",
                 !strcmp(combos[c][0], "mpsc") ? "one MPSC ring" : "lanes", combos[c][1]);
        CHECK_MSG(strstr(out, want), "no '%s' in %s", want, out);
        CHECK_MSG(strstr(out, "updates             4 (weights version 5)"), "%s", out);
        CHECK_MSG(strstr(out, "dropped full"), "%s", out);
        f = fopen(mpath, "r");
        CHECK(f);
        consumed = 0;
        while (fgets(line, sizeof line, f))
            if (!strstr(line, "run_begin"))
                consumed = json_u64(line, "chunks_consumed");
        fclose(f);
        CHECK_MSG(consumed >= 8, "%s/%s consumed %llu chunks", combos[c][0], combos[c][1],
                  (unsigned long long)consumed);
    }

    snprintf(rm_args, sizeof rm_args, "rm -rf %s", dir);
    CHECK_EQ_INT(system(rm_args), 0);
    puts("train e2e: ok");
    return 0;
}
