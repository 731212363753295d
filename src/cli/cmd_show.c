/* cmd_show.c — 'dshq show RUN', and the show's host for `dshq train --show`:
 * runs the show's simulation (src/run/show.h) in real time and draws it in
 * this terminal (or prints one line per second without one), mapping keys
 * to the show's inputs.  Ctrl-C or q ends the show only; inside `dshq train
 * --show` the launcher then stops the run. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/host.h"
#include "cli/util.h"
#include "run/metrics.h"
#include "run/show.h"
#include "cli/term.h"

static int key_input(int key)
{
    switch (key) {
    case ' ': return SHOW_IN_PAUSE;
    case '+': case '=': return SHOW_IN_FASTER;
    case '-': case '_': return SHOW_IN_SLOWER;
    case 'r': case 'R': return SHOW_IN_RESET;
    case '1': return SHOW_IN_TAKE_LEFT;
    case '2': return SHOW_IN_TAKE_RIGHT;
    case TERM_KEY_UP: case 'w': case 'W': return SHOW_IN_UP;
    case TERM_KEY_DOWN: case 's': case 'S': return SHOW_IN_DOWN;
    case TERM_KEY_LEFT: case 'a': case 'A': return SHOW_IN_LEFT;
    case TERM_KEY_RIGHT: case 'd': case 'D': return SHOW_IN_RIGHT;
    case 'e': case 'E': return SHOW_IN_DASH;
    default: return 0;
    }
}

/* `dshq show RUN` (not the launcher's own show): when the trainer is gone,
 * keep playing the last policy and say so, rather than end. */
static int show_outlives_trainer;

/* 1 when the run's trainer is gone: the stop flag is up, or its heartbeat
 * slot says its process died. */
static int trainer_gone(const struct run *run)
{
    if (run_stopping(run))
        return 1;
    struct dshq_heartbeat hb[80];
    int n = dshq_telemetry_heartbeats(run->telemetry_mem, run->telemetry_size, hb, 80);
    for (int i = 0; i < n; i++)
        if (hb[i].role == METRICS_ROLE_TRAINER)
            return hb[i].alive != DSHQ_CREATOR_ALIVE;
    return 0; /* not registered yet (starting) */
}

/* host.h */int show_host(struct run *run, int headless, double seconds, const char *opponent,
              uint64_t seed, int min_versions, int *versions_seen)
{
    static struct show_sim s;
    if (show_sim_open(&s, run, opponent, seed))
        return 1;
    struct term *t = NULL;
    int rc;
    if (!headless && (rc = term_open(&t))) {
        fprintf(stderr, "show: cannot use the terminal (%s); running headless\n", strerror(-rc));
        t = NULL;
    }
    uint64_t start = dshq_now_ns(), last_frame = 0, last_line = start, last_check = 0;
    int gone = 0;
    while (!host_interrupted) {
        uint64_t now = dshq_now_ns();
        if (now - last_check >= 500000000u) {
            last_check = now;
            if (!gone && trainer_gone(run)) {
                gone = 1;
                if (!show_outlives_trainer)
                    break;
                if (!t) {
                    printf("show: the trainer is gone; playing its last policy (q or Ctrl-C "
                           "ends the show)\n");
                    fflush(stdout);
                }
            }
        }
        if (seconds > 0 && (double)(now - start) / 1e9 >= seconds)
            break;
        show_sim_advance(&s, now);
        char status[512];
        if (t) {
            int key, quit = 0;
            while ((key = term_poll_key(t, 0)) != TERM_KEY_NONE) {
                if (key == 'q' || key == 'Q')
                    quit = 1;
                else if (key_input(key))
                    show_sim_input(&s, (enum show_input)key_input(key));
            }
            if (quit)
                break;
            if (now - last_frame >= 16666666u) {
                show_sim_status(&s, status, sizeof status);
                if (gone)
                    snprintf(status + strlen(status), sizeof status - strlen(status),
                             "  [trainer gone: last policy]");
                term_draw(t, s.env, 0, status);
                last_frame = now;
            }
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        } else {
            if (now - last_line >= 1000000000u) {
                show_sim_status(&s, status, sizeof status);
                char *nl = strchr(status, '\n');
                if (nl)
                    *nl = 0;
                printf("show: %s%s\n", status, gone ? "  [trainer gone: last policy]" : "");
                fflush(stdout);
                last_line = now;
            }
            struct timespec ts = {0, 4000000};
            nanosleep(&ts, NULL);
        }
    }
    if (t)
        term_close(t);
    if (versions_seen)
        *versions_seen = s.versions;
    int code = (min_versions > 0 && s.versions < min_versions) ? 1 : 0;
    show_sim_close(&s);
    return code;
}

int cmd_show(int argc, char **argv)
{
    struct {
        int headless, min_versions;
        double seconds;
        const char *opponent;
        uint64_t seed;
    } o = {.seed = 7};
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: dshq show [--seconds S] [--vs scripted|random] [--headless] RUN\n\n"
                   "Attaches to a running training and plays a live match with its newest\n"
                   "policy (left) against a baseline (right), hot-swapping each new policy.\n"
                   "Keys: space play/pause, + and - speed (0.25x-4x), r reset, 1 or 2 take\n"
                   "control of a player (arrows or WASD, e to dash; again to give it back),\n"
                   "q quit.  Nothing the show does enters training.  Without a terminal it\n"
                   "prints one line per second.\n");
            return 0;
        } else if (!strcmp(a, "--seconds")) {
            o.seconds = cli_parse_double("show", a, v, 0, 1e9);
            i++;
        } else if (!strcmp(a, "--vs") && v) {
            o.opponent = v;
            i++;
        } else if (!strcmp(a, "--headless"))
            o.headless = 1;
        else if (!strcmp(a, "--min-versions")) {
            o.min_versions = (int)cli_parse_int("show", a, v, 0, 1000000);
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "dshq show: unknown option '%s' (see --help)\n", a);
            return 2;
        } else
            name = a;
    }
    if (!name) {
        fprintf(stderr, "usage: dshq show RUN   (see --help)\n");
        return 2;
    }
    if (!isatty(STDOUT_FILENO))
        o.headless = 1;
    struct run run;
    if (cli_attach_run("show", &run, name, 0))
        return 1;
    host_install_signals(NULL);
    show_outlives_trainer = 1;
    int versions = 0;
    int code = show_host(&run, o.headless, o.seconds, o.opponent, o.seed, o.min_versions,
                         &versions);
    if (o.headless)
        printf("show: adopted %d policy versions\n", versions);
    run_detach(&run);
    return code;
}

