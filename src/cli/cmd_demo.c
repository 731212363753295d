/* cmd_demo.c — 'dshq demo': a Ball Drill match between two baselines.
 *
 * In a terminal: the match runs in real time, a fixed 120 Hz simulation
 * driven by an accumulator (so the game clock never depends on the frame
 * rate), policy decisions every 4 ticks (30 Hz, as in the show), rendering
 * at up to 60 frames/s with score and clock on the status line.  Keys: q
 * quits, space pauses, + and - change the speed, r restarts the match.
 *
 * Without a terminal (stdout not a tty, or --headless) the match runs as fast
 * as the CPU allows and the final score and match statistics are printed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/term.h"
#include "cli/util.h"
#include "rl/baselines.h"
#include "rl/env.h"
#include "rl/rng.h"

enum { DECISION_TICKS = 4, MAX_GOAL_LOG = 64 };

struct match {
    struct bd_env *env;
    enum bd_baseline kind[2];
    struct rl_rng rng[2];
    float obs[2][BD_OBS_DIM];
    int32_t act[2];
    uint64_t ticks;           /* ticks of this match so far */
    uint64_t ball_right_half; /* ticks with the ball in the right half */
    uint32_t goal_tick[MAX_GOAL_LOG];
    uint8_t goal_side[MAX_GOAL_LOG];
    int ngoals;
    struct bd_episode result; /* of the last finished match */
    int finished;             /* matches finished */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dshq demo [--left scripted|random] [--right scripted|random]\n"
            "                 [--seed S] [--seconds N] [--headless]\n\n"
            "Plays a Ball Drill match between two baseline policies.\n\n"
            "  --left K, --right K  the policy of each side (default: scripted vs random)\n"
            "  --seed S             base seed of the match (default 1)\n"
            "  --seconds N          length of a match in game seconds (default 60); goals\n"
            "                       restart play from a kickoff, the score decides\n"
            "  --headless           no rendering, even in a terminal\n\n"
            "In a terminal: q quit, space pause, + / - speed (0.25x to 4x), r restart.\n"
            "Without one, the match runs at full speed and its statistics are printed.\n");
}

/* One tick of the match: decide every DECISION_TICKS ticks, step, record.
 * Returns 1 when the match ended in this tick. */
static int match_tick(struct match *m)
{
    if (m->ticks % DECISION_TICKS == 0)
        for (int side = 0; side < 2; side++)
            bd_baseline_act(m->kind[side], &m->rng[side], m->obs[side], 1, &m->act[side]);
    float goal[2];
    uint8_t done = 0, trunc = 0;
    struct bd_episode ep;
    struct bd_step_out out = {.obs = {m->obs[0], m->obs[1]},
                              .rew_goal = {&goal[0], &goal[1]},
                              .done = &done,
                              .trunc = &trunc,
                              .episodes = &ep};
    bd_env_step(m->env, &m->act[0], &m->act[1], &out);
    m->ticks++;
    if (goal[0] != 0.0f && m->ngoals < MAX_GOAL_LOG) {
        m->goal_tick[m->ngoals] = (uint32_t)m->ticks;
        m->goal_side[m->ngoals++] = goal[0] > 0.0f ? 0 : 1;
    }
    if (done | trunc) {
        m->result = ep;
        m->finished++;
        return 1;
    }
    struct bd_state st;
    bd_env_get_state(m->env, 0, &st);
    m->ball_right_half += st.ball.x > 0.0f;
    return 0;
}

static void match_restart(struct match *m, int abandon)
{
    if (abandon)
        bd_env_reset_one(m->env, 0);
    bd_env_observe(m->env, m->obs[0], m->obs[1]);
    m->ticks = 0;
    m->ball_right_half = 0;
    m->ngoals = 0;
}

static const char *winner_text(uint32_t w)
{
    return w == BD_WINNER_LEFT ? "left wins" : w == BD_WINNER_RIGHT ? "right wins" : "draw";
}

static void print_result(const struct match *m, uint64_t seed, double wall)
{
    const struct bd_episode *r = &m->result;
    double secs = (double)r->length / BD_TICK_HZ;
    printf("Ball Drill demo: %s (left) vs %s (right), seed %llu\n",
           bd_baseline_name(m->kind[0]), bd_baseline_name(m->kind[1]),
           (unsigned long long)seed);
    printf("final score      %u - %u (%s)\n", r->goals[0], r->goals[1], winner_text(r->winner));
    printf("match length     %u ticks = %.1f s of game time, simulated in %.3f s (%.2f M ticks/s)\n",
           r->length, secs, wall, wall > 0 ? (double)r->length / wall / 1e6 : 0.0);
    printf("goals            ");
    if (!m->ngoals)
        printf("none");
    for (int i = 0; i < m->ngoals; i++) {
        uint32_t s = m->goal_tick[i] / BD_TICK_HZ;
        printf("%s%u:%02u %s", i ? ", " : "", s / 60, s % 60, m->goal_side[i] ? "right" : "left");
    }
    printf("\n");
    printf("ball touches     left %u, right %u\n", r->touches[0], r->touches[1]);
    printf("territory        ball in the right half %.0f%% of the time\n",
           r->length ? 100.0 * (double)m->ball_right_half / r->length : 0.0);
    printf("returns          left %+.3f, right %+.3f (goals and shaping)\n", r->ret[0], r->ret[1]);
}

static int run_headless(struct match *m, uint64_t seed)
{
    double t0 = now_s();
    while (!match_tick(m))
        ;
    print_result(m, seed, now_s() - t0);
    return 0;
}

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int run_live(struct match *m, uint64_t seed)
{
    /* Our SIGINT/SIGTERM handler first: term's handler restores the terminal
     * and then passes the signal on to it, and the loop ends cleanly. */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    struct term *t;
    int rc = term_open(&t);
    if (rc) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return cli_fail("demo", "opening the terminal", rc);
    }
    const double dt = 1.0 / BD_TICK_HZ, frame = 1.0 / 60.0;
    static const double speeds[] = {0.25, 0.5, 1.0, 2.0, 4.0};
    int speed = 2, paused = 0, quit = 0;
    double acc = 0, last = now_s(), next_frame = last, hold_until = 0;
    struct bd_state shown; /* what is drawn: the live state, or the final one */
    bd_env_get_state(m->env, 0, &shown);
    char status[512];
    const struct bd_config *cfg = bd_env_config(m->env);

    while (!quit && !g_stop) {
        double now = now_s();
        double elapsed = now - last;
        last = now;
        if (now < hold_until) {
            elapsed = 0; /* full time: hold the final picture */
        } else if (hold_until > 0) {
            hold_until = 0;
            match_restart(m, 0);
        }
        if (!paused)
            acc += elapsed * speeds[speed];
        if (acc > 0.25) /* never try to catch up more than 1/4 s */
            acc = 0.25;
        while (acc >= dt && hold_until == 0) {
            struct bd_state before;
            bd_env_get_state(m->env, 0, &before);
            acc -= dt;
            if (match_tick(m)) {
                shown = before; /* the env already kicked off the next match */
                hold_until = now + 3.0;
                acc = 0;
                break;
            }
        }
        if (hold_until == 0)
            bd_env_get_state(m->env, 0, &shown);

        if (now >= next_frame) {
            next_frame = now + frame;
            uint32_t clock = shown.tick / BD_TICK_HZ, limit = cfg->max_ticks / BD_TICK_HZ;
            const char *state = hold_until > 0 ? "  FULL TIME" : paused ? "  PAUSED" : "";
            snprintf(status, sizeof status,
                     " LEFT %s %u - %u %s RIGHT   %u:%02u / %u:%02u   speed %gx%s   matches %d\n"
                     " q quit   space pause   + - speed   r restart   (seed %llu)",
                     bd_baseline_name(m->kind[0]), shown.goals[0], shown.goals[1],
                     bd_baseline_name(m->kind[1]), clock / 60, clock % 60, limit / 60, limit % 60,
                     speeds[speed], state, m->finished, (unsigned long long)seed);
            if (term_draw_state(t, &shown, status))
                break;
        }

        /* Wait for a key until the next frame is due (or the next tick, when
         * the simulation runs faster than the frames). */
        double wait = next_frame - now_s();
        int ms = wait > 0 ? (int)(wait * 1000.0) : 0;
        int key = term_poll_key(t, ms);
        for (; key != TERM_KEY_NONE; key = term_poll_key(t, 0)) {
            if (key == 'q' || key == 'Q' || key == TERM_KEY_ESC)
                quit = 1;
            else if (key == ' ')
                paused = !paused;
            else if (key == '+' || key == '=')
                speed = speed < 4 ? speed + 1 : 4;
            else if (key == '-' || key == '_')
                speed = speed > 0 ? speed - 1 : 0;
            else if (key == 'r' || key == 'R') {
                match_restart(m, hold_until == 0);
                hold_until = 0;
                acc = 0;
            }
        }
    }
    term_close(t);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    struct bd_state st;
    bd_env_get_state(m->env, 0, &st);
    printf("Ball Drill demo: %s (left) vs %s (right), seed %llu: %d match%s finished",
           bd_baseline_name(m->kind[0]), bd_baseline_name(m->kind[1]),
           (unsigned long long)seed, m->finished, m->finished == 1 ? "" : "es");
    if (m->finished)
        printf(", last %u - %u (%s)", m->result.goals[0], m->result.goals[1],
               winner_text(m->result.winner));
    if (hold_until == 0 && st.tick > 0)
        printf("; stopped at %u - %u after %.1f s", st.goals[0], st.goals[1],
               (double)st.tick / BD_TICK_HZ);
    printf("\n");
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    int kind[2] = {BD_BASELINE_SCRIPTED, BD_BASELINE_RANDOM};
    uint64_t seed = 1;
    long long seconds = 60;
    int headless = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--left") || !strcmp(a, "--right")) {
            int side = a[2] == 'r';
            if (i + 1 >= argc || (kind[side] = bd_baseline_parse(argv[i + 1])) < 0) {
                fprintf(stderr, "dshq demo: %s needs 'scripted' or 'random', got '%s'\n", a,
                        i + 1 < argc ? argv[i + 1] : "(nothing)");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--seed")) {
            seed = (uint64_t)cli_parse_int("demo", a, i + 1 < argc ? argv[i + 1] : NULL, 0,
                                           INT64_MAX);
            i++;
        } else if (!strcmp(a, "--seconds")) {
            seconds = cli_parse_int("demo", a, i + 1 < argc ? argv[i + 1] : NULL, 1, 86400);
            i++;
        } else if (!strcmp(a, "--headless")) {
            headless = 1;
        } else {
            fprintf(stderr, "dshq demo: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }

    /* One env, ticked one at a time (frame_skip 1) so every tick can be
     * drawn; goals re-kick off and the clock decides the match. */
    struct bd_config cfg;
    bd_config_default(&cfg);
    cfg.frame_skip = 1;
    cfg.max_goals = 0;
    cfg.max_ticks = (uint32_t)seconds * BD_TICK_HZ;
    struct match m;
    memset(&m, 0, sizeof m);
    int rc = bd_env_create(&m.env, &cfg, 1);
    if (rc)
        return cli_fail("demo", "creating the environment", rc);
    bd_env_reset(m.env, seed);
    m.kind[0] = (enum bd_baseline)kind[0];
    m.kind[1] = (enum bd_baseline)kind[1];
    m.rng[0] = rl_rng_make(rl_rng_derive(seed, 1));
    m.rng[1] = rl_rng_make(rl_rng_derive(seed, 2));
    match_restart(&m, 0);

    rc = headless || !term_is_tty() ? run_headless(&m, seed) : run_live(&m, seed);
    bd_env_destroy(m.env);
    return rc;
}
