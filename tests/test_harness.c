/* test_harness — tests/run.sh and check.h keep their promises:
 *  - a test that fails while it holds a /dev/shm region, a child in its
 *    process group (no parent-death signal) and a setsid()ed grandchild
 *    leaves none of them behind, and the runner says what it removed;
 *  - a part skipped with check_skip_part() shows on the PASS line and in
 *    the summary ("N part(s) skipped");
 *  - a test that hangs is stopped at TEST_TIMEOUT and reported as timed out;
 *  - an empty or missing test folder, or a filter that selects nothing, is a
 *    failure, not "0 passed, 0 failed".
 * It runs tests/run.sh on a folder of tiny tests that are this very program
 * started in another role (DSHQ_HARNESS_ROLE). */
#include <dirent.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "check.h"

static char self[4096], dir[256];

/* ---- the roles ---------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs(text, f);
    CHECK(fclose(f) == 0);
}

/* Makes a region, a child in our group that ignores its parent's death and
 * a grandchild in a session of its own, records all three in DIR/leaks,
 * then fails a check. */
static int role_fail(void)
{
    char name[64], line[256];
    test_region_name(name, sizeof name, "harness-leak");
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0);
    close(fd);
    pid_t in_group = fork(); /* plain fork(): no parent-death signal */
    CHECK(in_group >= 0);
    if (in_group == 0)
        for (;;)
            pause();
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t mid = fork();
    CHECK(mid >= 0);
    if (mid == 0) {
        setsid();
        pid_t g = fork();
        if (g == 0)
            for (;;)
                pause();
        ssize_t w = write(p[1], &g, sizeof g);
        _exit(w == sizeof g ? 0 : 1);
    }
    pid_t escaped = 0;
    CHECK(read(p[0], &escaped, sizeof escaped) == sizeof escaped);
    CHECK_CHILD_OK(mid, 30);
    snprintf(line, sizeof line, "%s %ld %ld\n", name, (long)in_group, (long)escaped);
    char path[300];
    snprintf(path, sizeof path, "%s/leaks", getenv("DSHQ_HARNESS_DIR"));
    write_file(path, line);
    check_skip_part("a part skipped before the failure");
    CHECK_MSG(0, "deliberate failure with a region and two processes alive");
    return 0;
}

static int role_role(const char *role)
{
    if (!strcmp(role, "fail"))
        return role_fail();
    if (!strcmp(role, "skip")) {
        check_skip_part("demo reason %d", 7);
        return 0;
    }
    if (!strcmp(role, "hang"))
        for (;;)
            pause();
    return 2;
}

/* ---- the checks --------------------------------------------------------- */

/* Runs "tests/run.sh ARGS" with ENV; returns its exit status, output in out. */
static int run_runner(const char *env, const char *args, char *out, size_t len)
{
    char cmd[1024];
    /* The outer run's TEST_FILTER / TEST_TIMEOUT must not leak in. */
    snprintf(cmd, sizeof cmd, "TEST_FILTER=. TEST_TIMEOUT=120 %s tests/run.sh %s 2>&1", env, args);
    FILE *f = popen(cmd, "r");
    CHECK(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void add_test(const char *name, const char *role)
{
    char path[400], text[4800];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(text, sizeof text, "#!/bin/sh\nDSHQ_HARNESS_ROLE=%s DSHQ_HARNESS_DIR=%s exec %s\n",
             role, dir, self);
    write_file(path, text);
    CHECK(chmod(path, 0755) == 0);
}

/* 1 while PID exists and is not a zombie. */
static int running(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    const char *rp = ok ? strrchr(line, ')') : NULL;
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static void rm_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[600];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    const char *role = getenv("DSHQ_HARNESS_ROLE");
    if (role)
        return role_role(role);
    if (access("tests/run.sh", X_OK) != 0) {
        printf("skip: tests/run.sh not found (run from the repository root)\n");
        return TEST_SKIP;
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    self[n] = 0;
    snprintf(dir, sizeof dir, "/tmp/dshq-harness-%ld", (long)getpid());
    CHECK(mkdir(dir, 0700) == 0);
    atexit(rm_dir);

    static char out[65536];
    /* Empty and missing folders, and a filter that selects nothing, fail. */
    CHECK_MSG(run_runner("", dir, out, sizeof out) != 0, "empty folder passed: %s", out);
    CHECK_MSG(run_runner("", "/nonexistent/dshq-tests", out, sizeof out) != 0,
              "missing folder passed: %s", out);

    add_test("test_a_fail", "fail");
    add_test("test_b_skip", "skip");
    CHECK_MSG(run_runner("TEST_FILTER=nomatch", dir, out, sizeof out) != 0,
              "a filter that selects nothing passed: %s", out);

    /* The failing test: FAIL, its region removed, its processes dead. */
    CHECK_EQ_INT(run_runner("", dir, out, sizeof out), 1);
    printf("%s", out);
    CHECK_MSG(strstr(out, "FAIL test_a_fail"), "no FAIL line: %s", out);
    CHECK(strstr(out, "deliberate failure"));
    char leaks[400], name[128];
    long in_group = 0, escaped = 0;
    snprintf(leaks, sizeof leaks, "%s/leaks", dir);
    FILE *f = fopen(leaks, "r");
    CHECK_MSG(f, "the failing test did not run");
    CHECK_EQ_INT(fscanf(f, "%127s %ld %ld", name, &in_group, &escaped), 3);
    fclose(f);
    char path[300];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    struct stat st;
    CHECK_MSG(stat(path, &st) != 0 && errno == ENOENT, "%s was left behind", path);
    char said[300];
    snprintf(said, sizeof said, "removed leftover /dev/shm/%s", name);
    CHECK_MSG(strstr(out, said), "the runner did not say it removed %s", name);
    /* Killed processes may stay zombies until init reaps them: dead is
     * enough; give the kernel a moment to deliver SIGKILL. */
    uint64_t deadline = test_deadline_ns(10);
    while ((running((pid_t)in_group) || running((pid_t)escaped)) && test_now_ns() < deadline)
        test_sleep_ms(5);
    CHECK_MSG(!running((pid_t)in_group), "the child in the test's group (%ld) still runs",
              in_group);
    CHECK_MSG(!running((pid_t)escaped), "the setsid()ed grandchild (%ld) still runs", escaped);

    /* The skipped part is on the PASS line and in the summary. */
    CHECK_MSG(strstr(out, "PASS test_b_skip") && strstr(out, "(1 part(s) skipped: demo reason 7)"),
              "skip not shown: %s", out);
    CHECK(strstr(out, "1 passed, 1 failed, 0 skipped, 2 part(s) skipped"));
    CHECK(strstr(out, "  test_b_skip: demo reason 7"));
    CHECK(strstr(out, "  test_a_fail: a part skipped before the failure"));

    /* A hanging test is stopped at the limit and reported. */
    unlink(leaks);
    snprintf(path, sizeof path, "%s/test_a_fail", dir);
    unlink(path);
    add_test("test_c_hang", "hang");
    CHECK_EQ_INT(run_runner("TEST_TIMEOUT=1 TEST_FILTER=hang", dir, out, sizeof out), 1);
    CHECK_MSG(strstr(out, "FAIL test_c_hang") && strstr(out, "timed out after 1s"),
              "hang not reported: %s", out);
    puts("harness: ok");
    return 0;
}
