/* term.h — an ANSI terminal renderer for one Ball Drill match, and keys.
 *
 * Used by `dshq demo` and by the live show: open the terminal once, then each
 * frame poll the keys and draw one env of a batch with a caller-supplied
 * status text.  While open, the terminal is in the alternate screen with the
 * cursor hidden and the keyboard in raw, non-blocking mode (no echo, no line
 * buffering; Ctrl-C still raises SIGINT).  Closing puts everything back, and
 * so does exit() or a SIGINT/SIGTERM/SIGHUP/SIGQUIT (the handler restores the
 * terminal, then lets the signal do what it did before).  Ctrl-Z restores it
 * too, and a resume re-enters raw mode and redraws.
 *
 * The picture: the field is drawn with half-block characters (two square-ish
 * pixels per cell, 256 colours), scaled to the window and redrawn on resize.
 * Each frame is built in a buffer allocated at open (and on resize only) and
 * goes out as one write(); synchronized-update markers bracket it so
 * terminals that know them never show a half frame.
 *
 * One terminal may be open per process (the signal handlers are global);
 * everything runs on the caller's thread. */
#ifndef DSHQ_CLI_TERM_H
#define DSHQ_CLI_TERM_H

#include <stdint.h>

struct bd_env;
struct bd_state;
struct term;

/* Keys that are not a single byte; a printable key is returned as itself
 * ('q', ' ', '+', ...), Enter as '\r'. */
enum term_key {
    TERM_KEY_NONE = -1,
    TERM_KEY_ESC = 27,
    TERM_KEY_UP = 0x101,
    TERM_KEY_DOWN,
    TERM_KEY_RIGHT,
    TERM_KEY_LEFT,
};

/* 1 when stdout is a terminal (what a command checks before term_open). */
int term_is_tty(void);

/* Enters the alternate screen, hides the cursor, puts stdin in raw mode (when
 * stdin is a terminal too) and installs the restoring signal handlers.
 * Returns 0, -ENOTTY (stdout is not a terminal), -EBUSY (one is already
 * open) or another -errno. */
int term_open(struct term **out);

/* Restores the terminal and the previous signal handlers; NULL is a no-op. */
void term_close(struct term *t);

/* The next key, waiting at most timeout_ms (0: do not wait; -1: forever).
 * Returns a key (see enum term_key) or TERM_KEY_NONE.  Escape sequences for
 * the arrow keys are decoded; keys arrive in order, one per call. */
int term_poll_key(struct term *t, int timeout_ms);

/* Draws env e of the batch (or a state) with the status text under the
 * field: up to 3 lines separated by '\n', each cut to the width.  Returns 0,
 * or -errno if the write failed. */
int term_draw(struct term *t, const struct bd_env *env, uint32_t e, const char *status);
int term_draw_state(struct term *t, const struct bd_state *st, const char *status);

/* Current size in character cells. */
void term_size(const struct term *t, int *cols, int *rows);

#endif
