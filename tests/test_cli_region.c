/* The region tools on a region made by another process: inspect (text and
 * JSON) reads it, ls reports its creator alive then STALE after kill -9, rm
 * removes it; errors name the problem and the next step.  The liveness words
 * are read from this region's own line of `dshq ls` only: two decoys, one
 * alive and one stale, sit beside it so that a search running into another
 * region's line cannot pass by accident. */
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "dshq/region.h"
#include "dshq/wait.h"

static const char *dshq_bin(void)
{
    const char *p = getenv("DSHQ");
    return p ? p : "build/dshq";
}

/* Runs "dshq ARGS 2>&1", returns its exit code and output. */
static int run(char *out, size_t len, const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", dshq_bin(), args);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Copies the `dshq ls` line of region NAME (first column equal to NAME)
 * into LINE; fails the test when there is none. */
static void ls_line(const char *name, char *line, size_t len)
{
    char cmd[512], buf[1024];
    snprintf(cmd, sizeof cmd, "%s ls 2>&1", dshq_bin());
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    size_t n = strlen(name);
    int found = 0;
    while (fgets(buf, sizeof buf, f)) {
        if (!strncmp(buf, name, n) && (buf[n] == ' ' || buf[n] == '\t')) {
            CHECK_MSG(!found, "ls lists %s twice", name);
            snprintf(line, len, "%s", buf);
            found = 1;
        }
    }
    int st = pclose(f);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "dshq ls failed (status 0x%x)", st);
    CHECK_MSG(found, "dshq ls does not list %s", name);
}

static void make_layout(struct dshq_layout *l)
{
    dshq_layout_init(l);
    dshq_layout_add(l, DSHQ_SECTION_RAW, "payload", 3, 10000, 4096, 0x1234);
}

int main(void)
{
    if (access(dshq_bin(), X_OK) != 0) {
        printf("skip: %s not built\n", dshq_bin());
        return TEST_SKIP;
    }
    char name[64], args[256], out[16384], want[128];
    test_region_name(name, sizeof name, "cli");

    /* Decoys: one whose creator (a child) is dead, one whose creator (this
     * process) lives.  Their lines must not lend their words to ours. */
    char stale_name[64], live_name[64], line[1024];
    test_region_name(stale_name, sizeof stale_name, "cli-stale");
    test_region_name(live_name, sizeof live_name, "cli-live");
    struct dshq_layout dl;
    make_layout(&dl);
    struct dshq_region *live_decoy;
    CHECK_EQ_INT(dshq_region_create(live_name, &dl, 0, &live_decoy), 0);
    dshq_region_mark_ready(live_decoy);
    pid_t d = test_fork();
    CHECK(d >= 0);
    if (d == 0) {
        struct dshq_region *r;
        _exit(dshq_region_create(stale_name, &dl, 0, &r) == 0 && dshq_region_mark_ready(r) == 0 ? 0 : 1);
    }
    CHECK_CHILD_OK(d, 30);

    struct dshq_event *ev = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint32_t snap = dshq_event_prepare(ev);
    pid_t c = test_fork(); /* its heartbeat loop ends when we do */
    if (c == 0) {
        struct dshq_layout l;
        make_layout(&l);
        struct dshq_region *r;
        CHECK_EQ_INT(dshq_region_create(name, &l, 0, &r), 0);
        dshq_region_mark_ready(r);
        dshq_event_notify(ev);
        for (;;) {
            dshq_region_heartbeat(r);
            usleep(10000);
        }
    }
    while (atomic_load(&ev->seq) == snap)
        CHECK_MSG(dshq_event_wait(ev, snap, (int64_t)(30e9 * test_time_scale())) == 0, "child did not start");

    snprintf(args, sizeof args, "inspect --json %s", name);
    CHECK_EQ_INT(run(out, sizeof out, args), 0);
    snprintf(want, sizeof want, "\"creator_pid\":%d", (int)c);
    CHECK_MSG(strstr(out, want), "no %s in: %s", want, out);
    CHECK(strstr(out, "\"name\":\"payload\""));
    CHECK(strstr(out, "\"shape_hash\":\"0x0000000000001234\""));
    CHECK(strstr(out, "\"creator\":\"alive\""));
    CHECK(out[0] == '{');

    snprintf(args, sizeof args, "inspect %s", name);
    CHECK_EQ_INT(run(out, sizeof out, args), 0);
    CHECK(strstr(out, "payload") && strstr(out, "ready"));

    ls_line(name, line, sizeof line);
    snprintf(want, sizeof want, " %d  alive (heartbeat", (int)c);
    CHECK_MSG(strstr(line, want) && !strstr(line, "STALE"), "want '%s' in: %s", want, line);
    ls_line(stale_name, line, sizeof line);
    CHECK_MSG(strstr(line, "STALE") && !strstr(line, "alive"), "stale decoy: %s", line);
    ls_line(live_name, line, sizeof line);
    CHECK_MSG(strstr(line, "alive") && !strstr(line, "STALE"), "live decoy: %s", line);

    /* rm refuses a live region without --force. */
    snprintf(args, sizeof args, "rm %s", name);
    CHECK_EQ_INT(run(out, sizeof out, args), 1);
    CHECK(strstr(out, "alive"));

    kill(c, SIGKILL);
    int cst;
    CHECK_EQ_INT(test_waitpid(c, &cst, 30), c);
    ls_line(name, line, sizeof line);
    snprintf(want, sizeof want, " %d  STALE: creator dead", (int)c);
    CHECK_MSG(strstr(line, want) && !strstr(line, "alive"), "want '%s' in: %s", want, line);
    ls_line(live_name, line, sizeof line);
    CHECK_MSG(strstr(line, "alive") && !strstr(line, "STALE"), "live decoy: %s", line);

    snprintf(args, sizeof args, "rm %s", name);
    CHECK_EQ_INT(run(out, sizeof out, args), 0);
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    struct stat st;
    CHECK(stat(path, &st) != 0);

    /* Errors say what happened and what to do. */
    snprintf(args, sizeof args, "inspect %s", name);
    CHECK_EQ_INT(run(out, sizeof out, args), 1);
    CHECK(strstr(out, "No such file") && strstr(out, "dshq ls"));
    CHECK_EQ_INT(run(out, sizeof out, "inspect"), 2);
    CHECK_EQ_INT(run(out, sizeof out, "no-such-command"), 2);
    CHECK_EQ_INT(run(out, sizeof out, "--help"), 0);
    CHECK(strstr(out, "inspect"));
    dshq_region_destroy(live_decoy);
    CHECK_EQ_INT(dshq_region_unlink(stale_name), 0);
    puts("cli region: ok");
    return 0;
}
