/* term.c — the ANSI renderer and raw keyboard of term.h.
 *
 * Terminal state machine (one terminal per process, hence the globals):
 *
 *   closed --term_open--> raw (alternate screen, cursor hidden, raw stdin)
 *   raw --term_close / exit() / fatal signal--> restored
 *   raw --Ctrl-Z--> restored, stopped --SIGCONT--> raw, full redraw
 *
 * Everything a signal handler does is async-signal-safe: write(),
 * tcsetattr(), sigaction(), raise().  A fatal signal restores the terminal,
 * reinstalls the handler that was there before term_open and raises the
 * signal again, so a caller's own SIGINT handler still runs (and term_draw
 * then refuses to draw on the restored screen). */
#include "cli/term.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "rl/env.h"

struct term {
    int cols, rows;
    char *buf; /* one frame */
    size_t cap;
    int stdin_tty;
    unsigned char in[64]; /* keyboard bytes not yet returned */
    int in_len;
};

static const char seq_enter[] = "\x1b[?1049h\x1b[?25l\x1b[2J";
static const char seq_leave[] = "\x1b[0m\x1b[?2026l\x1b[?25h\x1b[?1049l";

static struct term *g_term;
static struct termios g_saved_tio, g_raw_tio;
static int g_have_tio;
static volatile sig_atomic_t g_raw;       /* terminal currently in our mode */
static volatile sig_atomic_t g_dirty;     /* size changed or resumed: clear + resize */
static volatile sig_atomic_t g_cancelled; /* restored by a fatal signal */
static int g_atexit_done;

static const int fatal_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
enum { NFATAL = sizeof fatal_sigs / sizeof fatal_sigs[0] };
static struct sigaction g_old_fatal[NFATAL], g_old_winch, g_old_tstp, g_old_cont;

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Async-signal-safe: back to the terminal as it was. */
static void term_leave(void)
{
    if (!g_raw)
        return;
    g_raw = 0;
    write_all(STDOUT_FILENO, seq_leave, sizeof seq_leave - 1);
    if (g_have_tio)
        tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tio);
}

/* Async-signal-safe: into our mode. */
static void term_enter(void)
{
    if (g_have_tio)
        tcsetattr(STDIN_FILENO, TCSANOW, &g_raw_tio);
    write_all(STDOUT_FILENO, seq_enter, sizeof seq_enter - 1);
    g_raw = 1;
    g_dirty = 1;
}

static void on_fatal(int sig)
{
    int saved = errno;
    term_leave();
    g_cancelled = 1;
    for (int i = 0; i < NFATAL; i++)
        if (fatal_sigs[i] == sig)
            sigaction(sig, &g_old_fatal[i], NULL);
    raise(sig); /* delivered when this handler returns, to the old handler */
    errno = saved;
}

static void on_winch(int sig)
{
    (void)sig;
    g_dirty = 1;
}

static void on_tstp(int sig)
{
    int saved = errno;
    term_leave();
    /* Stop for real with the default action, then come back here. */
    struct sigaction dfl, ours;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGTSTP, &dfl, &ours);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTSTP);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    /* Resumed (SIGCONT): back into our mode, redraw everything. */
    sigaction(SIGTSTP, &ours, NULL);
    if (!g_cancelled && g_term)
        term_enter();
    errno = saved;
}

static void on_cont(int sig)
{
    (void)sig;
    /* A resume that did not pass through on_tstp (SIGSTOP from outside). */
    if (!g_raw && !g_cancelled && g_term)
        term_enter();
}

static void at_exit_restore(void)
{
    term_leave();
}

int term_is_tty(void)
{
    return isatty(STDOUT_FILENO);
}

static void term_query_size(struct term *t)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        t->cols = ws.ws_col;
        t->rows = ws.ws_row;
    } else {
        t->cols = 80;
        t->rows = 24;
    }
}

/* Worst case per cell: two 256-colour SGRs (11 bytes each) and a 3-byte
 * glyph; per row a cursor move; plus the status lines and the markers. */
static int term_fit_buffer(struct term *t)
{
    size_t need = (size_t)t->cols * (size_t)t->rows * 26 + (size_t)t->rows * 16 + 256;
    if (need <= t->cap)
        return 0;
    char *nb = realloc(t->buf, need);
    if (!nb)
        return -ENOMEM;
    t->buf = nb;
    t->cap = need;
    return 0;
}

static void install(int sig, void (*fn)(int), int flags, struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    sigaction(sig, &sa, old);
}

int term_open(struct term **out)
{
    *out = NULL;
    if (!isatty(STDOUT_FILENO))
        return -ENOTTY;
    if (g_term)
        return -EBUSY;
    struct term *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    term_query_size(t);
    if (term_fit_buffer(t)) {
        free(t);
        return -ENOMEM;
    }
    t->stdin_tty = isatty(STDIN_FILENO);
    g_have_tio = 0;
    if (t->stdin_tty && tcgetattr(STDIN_FILENO, &g_saved_tio) == 0) {
        g_raw_tio = g_saved_tio;
        /* No line buffering, no echo, no flow control, CR stays CR; keep
         * ISIG so Ctrl-C and Ctrl-Z still send their signals. */
        g_raw_tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        g_raw_tio.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
        g_raw_tio.c_cc[VMIN] = 0;
        g_raw_tio.c_cc[VTIME] = 0;
        g_have_tio = 1;
    }
    g_cancelled = 0;
    g_term = t;
    if (!g_atexit_done) {
        atexit(at_exit_restore);
        g_atexit_done = 1;
    }
    for (int i = 0; i < NFATAL; i++)
        install(fatal_sigs[i], on_fatal, 0, &g_old_fatal[i]);
    install(SIGWINCH, on_winch, SA_RESTART, &g_old_winch);
    install(SIGTSTP, on_tstp, SA_RESTART | SA_NODEFER, &g_old_tstp);
    install(SIGCONT, on_cont, SA_RESTART, &g_old_cont);
    term_enter();
    *out = t;
    return 0;
}

void term_close(struct term *t)
{
    if (!t)
        return;
    term_leave();
    /* Put back what was there before term_open (again, for a fatal signal
     * whose handler already did it: harmless). */
    for (int i = 0; i < NFATAL; i++)
        sigaction(fatal_sigs[i], &g_old_fatal[i], NULL);
    sigaction(SIGWINCH, &g_old_winch, NULL);
    sigaction(SIGTSTP, &g_old_tstp, NULL);
    sigaction(SIGCONT, &g_old_cont, NULL);
    g_term = NULL;
    free(t->buf);
    free(t);
}

void term_size(const struct term *t, int *cols, int *rows)
{
    *cols = t->cols;
    *rows = t->rows;
}

/* ---- keys ------------------------------------------------------------- */

static void consume(struct term *t, int n)
{
    memmove(t->in, t->in + n, (size_t)(t->in_len - n));
    t->in_len -= n;
}

int term_poll_key(struct term *t, int timeout_ms)
{
    if (t->in_len == 0) {
        if (!t->stdin_tty) {
            if (timeout_ms > 0)
                poll(NULL, 0, timeout_ms);
            return TERM_KEY_NONE;
        }
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0)
            return TERM_KEY_NONE;
        ssize_t n = read(STDIN_FILENO, t->in, sizeof t->in);
        if (n <= 0)
            return TERM_KEY_NONE;
        t->in_len = (int)n;
    }
    unsigned char c = t->in[0];
    if (c != 0x1b || t->in_len == 1) {
        consume(t, 1);
        return c;
    }
    /* ESC [ X or ESC O X: arrows; any other CSI sequence is swallowed whole
     * (through its final byte, 0x40..0x7e) so its digits are not keys. */
    if (t->in[1] == 'O' && t->in_len >= 3) {
        int k = t->in[2];
        consume(t, 3);
        return k == 'A' ? TERM_KEY_UP : k == 'B' ? TERM_KEY_DOWN
               : k == 'C' ? TERM_KEY_RIGHT : k == 'D' ? TERM_KEY_LEFT : TERM_KEY_NONE;
    }
    if (t->in[1] == '[') {
        int i = 2;
        while (i < t->in_len && !(t->in[i] >= 0x40 && t->in[i] <= 0x7e))
            i++;
        if (i >= t->in_len) { /* truncated sequence: drop it */
            t->in_len = 0;
            return TERM_KEY_NONE;
        }
        int k = i == 2 ? t->in[2] : 0;
        consume(t, i + 1);
        return k == 'A' ? TERM_KEY_UP : k == 'B' ? TERM_KEY_DOWN
               : k == 'C' ? TERM_KEY_RIGHT : k == 'D' ? TERM_KEY_LEFT : TERM_KEY_NONE;
    }
    consume(t, 1); /* ESC followed by a key: the ESC alone */
    return TERM_KEY_ESC;
}

/* ---- drawing ---------------------------------------------------------- */

/* 256-colour palette entries. */
enum {
    COL_OUT = 16,     /* outside the walls */
    COL_GRASS_A = 28, /* field stripes */
    COL_GRASS_B = 34,
    COL_LINE = 255,   /* walls and markings */
    COL_NET_A = 240,  /* goal recess */
    COL_NET_B = 244,
    COL_LEFT = 33,    /* left player, blue */
    COL_LEFT_NOSE = 159,
    COL_RIGHT = 196,  /* right player, red */
    COL_RIGHT_NOSE = 224,
    COL_BALL = 226,   /* ball, yellow */
};

struct view {
    float scale;  /* pixels per metre */
    float cx, cy; /* pixel coordinates of the world origin */
    float px_m;   /* one pixel in metres */
};

static int pixel_colour(const struct view *v, const struct bd_state *s, int px, int py)
{
    float wx = ((float)px + 0.5f - v->cx) * v->px_m;
    float wy = -((float)py + 0.5f - v->cy) * v->px_m; /* y up */
    float ax = fabsf(wx), ay = fabsf(wy), lw = v->px_m;

    /* Ball on top, then players, then the ground. */
    float dx = wx - s->ball.x, dy = wy - s->ball.y;
    float br = BD_BALL_RADIUS > 0.6f * lw ? BD_BALL_RADIUS : 0.6f * lw;
    if (dx * dx + dy * dy <= br * br)
        return COL_BALL;
    for (int i = 0; i < 2; i++) {
        const struct bd_player *p = &s->p[i];
        float qx = wx - p->x, qy = wy - p->y;
        float lx = qx * p->hc + qy * p->hs, ly = -qx * p->hs + qy * p->hc;
        float h = BD_PLAYER_HALF + 0.25f * lw;
        if (fabsf(lx) <= h && fabsf(ly) <= h) {
            int nose = lx > 0.3f * BD_PLAYER_HALF && fabsf(ly) < 0.4f * BD_PLAYER_HALF;
            return i == 0 ? (nose ? COL_LEFT_NOSE : COL_LEFT) : (nose ? COL_RIGHT_NOSE : COL_RIGHT);
        }
    }
    if (ax <= BD_HALF_X && ay <= BD_HALF_Y) {
        if (ax > BD_HALF_X - lw || ay > BD_HALF_Y - lw || (wx >= -0.5f * lw && wx < 0.5f * lw))
            return COL_LINE; /* walls, goal lines, halfway line */
        float r = sqrtf(wx * wx + wy * wy);
        if (fabsf(r - 2.0f) < 0.5f * lw)
            return COL_LINE; /* centre circle */
        return ((int)floorf((wx + 40.0f) / 2.0f)) & 1 ? COL_GRASS_A : COL_GRASS_B;
    }
    if (ax <= BD_HALF_X + BD_GOAL_DEPTH && ay <= BD_GOAL_HALF) {
        if (ax > BD_HALF_X + BD_GOAL_DEPTH - lw || ay > BD_GOAL_HALF - lw)
            return COL_LINE;
        return (px + py) & 1 ? COL_NET_A : COL_NET_B;
    }
    return COL_OUT;
}

struct out {
    char *p;
    int fg, bg;
};

static void put(struct out *o, const char *s, size_t n)
{
    memcpy(o->p, s, n);
    o->p += n;
}

static void put_fmt2(struct out *o, const char *fmt, int a, int b)
{
    o->p += sprintf(o->p, fmt, a, b);
}

static void put_colour(struct out *o, int fg, int bg)
{
    if (fg >= 0 && fg != o->fg) {
        o->p += sprintf(o->p, "\x1b[38;5;%dm", fg);
        o->fg = fg;
    }
    if (bg != o->bg) {
        o->p += sprintf(o->p, "\x1b[48;5;%dm", bg);
        o->bg = bg;
    }
}

int term_draw_state(struct term *t, const struct bd_state *st, const char *status)
{
    if (g_cancelled || !g_raw)
        return -ECANCELED;
    int clear = 0;
    if (g_dirty) {
        g_dirty = 0;
        term_query_size(t);
        if (term_fit_buffer(t))
            return -ENOMEM;
        clear = 1;
    }
    /* Status lines: up to 3, at the bottom. */
    const char *lines[3] = {"", NULL, NULL};
    int nlines = 1;
    size_t lens[3] = {0, 0, 0};
    if (status) {
        lines[0] = status;
        const char *p = status;
        for (;;) {
            const char *nl = strchr(p, '\n');
            lens[nlines - 1] = nl ? (size_t)(nl - p) : strlen(p);
            if (!nl || nlines == 3)
                break;
            p = nl + 1;
            lines[nlines++] = p;
        }
    }
    int field_rows = t->rows - nlines;
    if (field_rows < 1)
        field_rows = 0;

    struct out o = {t->buf, -1, -1};
    static const char sync_on[] = "\x1b[?2026h", sync_off[] = "\x1b[?2026l";
    put(&o, sync_on, sizeof sync_on - 1);
    if (clear)
        put(&o, "\x1b[0m\x1b[2J", 8);

    if (field_rows > 0) {
        struct view v;
        int ph = 2 * field_rows;
        float sx = (float)t->cols / (2.0f * (BD_HALF_X + BD_GOAL_DEPTH) + 0.5f);
        float sy = (float)ph / (2.0f * BD_HALF_Y + 0.5f);
        v.scale = sx < sy ? sx : sy;
        v.px_m = 1.0f / v.scale;
        v.cx = 0.5f * (float)t->cols;
        v.cy = 0.5f * (float)ph;
        for (int r = 0; r < field_rows; r++) {
            put_fmt2(&o, "\x1b[%d;%dH", r + 1, 1);
            for (int c = 0; c < t->cols; c++) {
                int top = pixel_colour(&v, st, c, 2 * r);
                int bot = pixel_colour(&v, st, c, 2 * r + 1);
                if (top == bot) {
                    put_colour(&o, -1, top);
                    put(&o, " ", 1);
                } else {
                    put_colour(&o, top, bot);
                    put(&o, "\xe2\x96\x80", 3); /* U+2580 upper half block */
                }
            }
        }
    }
    put(&o, "\x1b[0m", 4);
    for (int i = 0; i < nlines; i++) {
        size_t n = lens[i] < (size_t)t->cols ? lens[i] : (size_t)t->cols;
        put_fmt2(&o, "\x1b[%d;%dH", field_rows + i + 1, 1);
        put(&o, lines[i], n);
        put(&o, "\x1b[K", 3);
    }
    put(&o, sync_off, sizeof sync_off - 1);

    /* One write() per frame (a short write is finished, not re-framed). */
    size_t n = (size_t)(o.p - t->buf);
    const char *p = t->buf;
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int term_draw(struct term *t, const struct bd_env *env, uint32_t e, const char *status)
{
    struct bd_state st;
    bd_env_get_state(env, e, &st);
    return term_draw_state(t, &st, status);
}
