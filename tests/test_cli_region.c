/* The region tools on a region made by another process: inspect (text and
 * JSON) reads it, ls reports its creator alive then STALE after kill -9, rm
 * removes it; errors name the problem and the next step. */
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

int main(void)
{
    if (access(dshq_bin(), X_OK) != 0) {
        printf("skip: %s not built\n", dshq_bin());
        return TEST_SKIP;
    }
    char name[64], args[256], out[16384], want[128];
    test_region_name(name, sizeof name, "cli");

    struct dshq_event *ev = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint32_t snap = dshq_event_prepare(ev);
    pid_t c = fork();
    if (c == 0) {
        struct dshq_layout l;
        dshq_layout_init(&l);
        dshq_layout_add(&l, DSHQ_SECTION_RAW, "payload", 3, 10000, 4096, 0x1234);
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
        CHECK_MSG(dshq_event_wait(ev, snap, 5000000000LL) == 0, "child did not start");

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

    CHECK_EQ_INT(run(out, sizeof out, "ls"), 0);
    char *line = strstr(out, name);
    CHECK_MSG(line, "ls does not list %s: %s", name, out);
    CHECK(strstr(line, "alive"));

    /* rm refuses a live region without --force. */
    snprintf(args, sizeof args, "rm %s", name);
    CHECK_EQ_INT(run(out, sizeof out, args), 1);
    CHECK(strstr(out, "alive"));

    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    CHECK_EQ_INT(run(out, sizeof out, "ls"), 0);
    line = strstr(out, name);
    CHECK(line && strstr(line, "STALE"));

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
    puts("cli region: ok");
    return 0;
}
