/* test_env_term — the terminal renderer on a real pseudo-terminal, and
 * 'dshq demo' without one.
 *
 *  - A child whose stdin/stdout are a pty opens the terminal, draws frames,
 *    reads keys typed by the parent (an arrow escape sequence, an unknown
 *    CSI sequence that must be swallowed, 'q') and closes: the parent sees
 *    the alternate screen entered, each frame as one write with the status
 *    text, and everything restored at the end (termios included).
 *  - A child killed by SIGINT while the terminal is open leaves it restored.
 *  - 'dshq demo --headless' prints the final score and statistics; a bad
 *    option is refused with exit code 2. */
#define _GNU_SOURCE /* memmem, forkpty */
#include "../tests/check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>

#include "cli/term.h"
#include "rl/env.h"

/* Reads from the pty master until `want` appears or timeout; returns all. */
static size_t read_until(int fd, char *buf, size_t cap, size_t have, const char *want,
                         int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms;) {
        buf[have] = 0;
        if (want && memmem(buf, have, want, strlen(want)))
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) {
            waited += 50;
            continue;
        }
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    buf[have] = 0;
    return have;
}

static pid_t spawn_on_pty(int *master, void (*child)(void))
{
    struct winsize ws = {.ws_row = 30, .ws_col = 90};
    pid_t pid = forkpty(master, NULL, NULL, &ws);
    CHECK(pid >= 0);
    if (pid == 0) {
        child();
        _exit(0);
    }
    return pid;
}

static void child_draw_and_keys(void)
{
    struct bd_env *env;
    if (bd_env_create(&env, NULL, 4))
        _exit(10);
    struct termios before, after;
    tcgetattr(0, &before);
    struct term *t;
    if (term_open(&t))
        _exit(11);
    struct term *t2;
    if (term_open(&t2) != -EBUSY) /* one at a time */
        _exit(12);
    int cols, rows;
    term_size(t, &cols, &rows);
    if (cols != 90 || rows != 30)
        _exit(13);
    if (term_draw(t, env, 2, "status line one\nsecond line"))
        _exit(14);
    /* Keys typed by the parent: UP, an F5 sequence (swallowed), 'q'. */
    int keys[8], n = 0;
    for (int tries = 0; tries < 200 && n < 8; tries++) {
        int k = term_poll_key(t, 20);
        if (k == TERM_KEY_NONE)
            continue;
        keys[n++] = k;
        if (k == 'q')
            break;
    }
    if (term_draw(t, env, 0, "frame two"))
        _exit(15);
    term_close(t);
    tcgetattr(0, &after);
    if (before.c_lflag != after.c_lflag || before.c_iflag != after.c_iflag)
        _exit(16);
    if (n != 2 || keys[0] != TERM_KEY_UP || keys[1] != 'q')
        _exit(17);
    printf("child done\n");
    fflush(stdout);
    bd_env_destroy(env);
}

static void test_pty_session(void)
{
    int m;
    pid_t pid = spawn_on_pty(&m, child_draw_and_keys);
    static char buf[1 << 20];
    size_t n = read_until(m, buf, sizeof buf, 0, "second line", 5000);
    CHECK(strstr(buf, "\x1b[?1049h") != NULL); /* alternate screen */
    CHECK(strstr(buf, "\x1b[?25l") != NULL);   /* cursor hidden */
    CHECK(strstr(buf, "status line one") != NULL);
    CHECK(strstr(buf, "\xe2\x96\x80") != NULL); /* half blocks drawn */
    CHECK(write(m, "\x1b[A", 3) == 3);
    usleep(50000);
    CHECK(write(m, "\x1b[15~", 5) == 5);
    usleep(50000);
    CHECK(write(m, "q", 1) == 1);
    n = read_until(m, buf, sizeof buf, n, "child done", 5000);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
    const char *leave = strstr(buf, "\x1b[?1049l");
    CHECK(leave != NULL);                          /* main screen back ... */
    CHECK(strstr(buf, "\x1b[?25h") != NULL);      /* ... cursor shown */
    CHECK(strstr(buf, "frame two") != NULL);
    CHECK(strstr(leave, "child done") != NULL);   /* after the restore */
    close(m);
}

static void child_wait_for_sigint(void)
{
    struct bd_env *env;
    if (bd_env_create(&env, NULL, 1))
        _exit(10);
    struct term *t;
    if (term_open(&t))
        _exit(11);
    term_draw(t, env, 0, "waiting for SIGINT");
    for (;;)
        pause();
}

static void test_sigint_restores(void)
{
    int m;
    pid_t pid = spawn_on_pty(&m, child_wait_for_sigint);
    static char buf[1 << 20];
    size_t n = read_until(m, buf, sizeof buf, 0, "waiting for SIGINT", 5000);
    CHECK(kill(pid, SIGINT) == 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT); /* the default action ran */
    n = read_until(m, buf, sizeof buf, n, "\x1b[?1049l", 2000);
    const char *draw = strstr(buf, "waiting for SIGINT");
    CHECK(draw && strstr(draw, "\x1b[?1049l") && strstr(draw, "\x1b[?25h"));
    close(m);
}

static void test_demo_headless(void)
{
    const char *dshq = getenv("DSHQ");
    if (!dshq || access(dshq, X_OK)) {
        check_skip_part("dshq demo on a pty (DSHQ not set: run through make test)");
        return;
    }
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd, "%s demo --seed 3 --seconds 30 --left random --right scripted 2>&1",
             dshq);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    CHECK_EQ_INT(pclose(p), 0);
    CHECK_MSG(strstr(out, "final score") && strstr(out, "right wins") &&
                  strstr(out, "3600 ticks = 30.0 s") && strstr(out, "ball touches"),
              "unexpected demo output:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s demo --left nobody >/dev/null 2>&1", dshq);
    int rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_pty_session();
    test_sigint_restores();
    test_demo_headless();
    return 0;
}
