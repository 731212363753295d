/* proc_show.c — the show: one Ball Drill match in real time, played by the
 * newest policy of a running training, hot-swapped without stopping.
 *
 * A fixed 120 Hz simulation driven by an accumulator (so game time never
 * depends on the frame rate or the speed setting), decisions every 4 ticks
 * (30 Hz), rendering at up to 60 frames/s.  At each decision the show checks
 * the weights version (one relaxed load) and adopts a newer snapshot, in O(1)
 * with no copy; it also re-adopts at least once a second.  The show's own
 * match, its keys and any human play never reach training: it only reads the
 * weights channel and writes its heartbeat. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/metrics.h"
#include "app/procs.h"
#include "app/term.h"
#include "rl/baselines.h"
#include "rl/env.h"
#include "rl/rng.h"

enum { DECISION_TICKS = 4, HUMAN_HOLD = 8 };

struct show {
    struct run *run;
    struct dshq_weights *wch;
    struct dshq_weights_reader *rd;
    struct dshq_weights_view view;
    struct bd_env *env;
    enum bd_baseline opp;
    struct rl_rng rng;
    float obs[2][BD_OBS_DIM];
    int32_t act[2];
    int human;           /* 0 none, 1 controls left, 2 controls right */
    int32_t human_act;
    int human_left;      /* decisions the last human action still holds */
    int versions;        /* adoptions of a new version */
    uint64_t adopted_ns; /* when the current view was adopted */
    uint64_t last_check_ns;
    int wins, losses, draws;
    uint64_t ticks;
};

static void show_adopt(struct show *s, uint64_t now, int force)
{
    if (!force && dshq_weights_version(s->wch) == s->view.version &&
        now - s->last_check_ns < 1000000000u)
        return;
    s->last_check_ns = now;
    int rc = dshq_weights_adopt(s->rd, &s->view);
    if (rc == DSHQ_WEIGHTS_NEW) {
        s->versions++;
        s->adopted_ns = now;
    }
}

static void show_decide(struct show *s)
{
    for (int side = 0; side < 2; side++) {
        if (s->human == side + 1 && s->human_left > 0) {
            s->act[side] = s->human_act;
            continue;
        }
        if (s->human == side + 1) {
            s->act[side] = 0; /* the human let go: stand still */
            continue;
        }
        if (side == 0 && s->view.params)
            rl_mlp_act(&s->run->net, s->view.params, s->obs[0], 1, &s->rng, &s->act[0], NULL,
                       NULL);
        else
            bd_baseline_act(side == 0 ? BD_BASELINE_RANDOM : s->opp, &s->rng, s->obs[side], 1,
                            &s->act[side]);
    }
    if (s->human_left > 0)
        s->human_left--;
}

static void show_tick(struct show *s)
{
    uint8_t done = 0, trunc = 0;
    struct bd_episode ep;
    struct bd_step_out out = {.obs = {s->obs[0], s->obs[1]}, .done = &done, .trunc = &trunc,
                              .episodes = &ep};
    bd_env_step(s->env, &s->act[0], &s->act[1], &out);
    s->ticks++;
    if (done || trunc) {
        if (ep.winner == BD_WINNER_LEFT)
            s->wins++;
        else if (ep.winner == BD_WINNER_RIGHT)
            s->losses++;
        else
            s->draws++;
    }
}

static void human_key(struct show *s, int key)
{
    int move = -1, turn = BD_TURN_NONE;
    switch (key) {
    case TERM_KEY_UP: case 'w': case 'W': move = BD_MOVE_FORWARD; break;
    case TERM_KEY_DOWN: case 's': case 'S': move = BD_MOVE_BACK; break;
    case TERM_KEY_LEFT: case 'a': case 'A': move = BD_MOVE_STOP; turn = BD_TURN_LEFT; break;
    case TERM_KEY_RIGHT: case 'd': case 'D': move = BD_MOVE_STOP; turn = BD_TURN_RIGHT; break;
    case 'e': case 'E': move = BD_MOVE_FORWARD; s->human_act = BD_ACTION(move, 0, 1);
        s->human_left = HUMAN_HOLD; return; /* dash */
    default: return;
    }
    s->human_act = BD_ACTION(move, turn, 0);
    s->human_left = HUMAN_HOLD;
}

static void status_line(struct show *s, char *buf, size_t len, double speed, int paused)
{
    struct metrics m;
    double win = NAN;
    if (dshq_telemetry_read(s->run->telemetry_mem, s->run->telemetry_size, metrics_shape_hash(),
                            &m, sizeof m, NULL) == (int)sizeof m)
        win = m.win_rate_ema;
    struct bd_state st;
    bd_env_get_state(s->env, 0, &st);
    double age = s->adopted_ns ? (double)(dshq_now_ns() - s->adopted_ns) / 1e9 : 0;
    snprintf(buf, len,
             "policy v%llu (adopted %.1fs ago, %d swaps)  score %u:%u  clock %5.1fs  "
             "show W/D/L %d/%d/%d  training win-rate %.0f%%\n"
             "%s vs %s   speed %.2fx%s   keys: space pause, +/- speed, r reset, 1/2 play "
             "left/right (arrows/WASD, e dash), q quit",
             (unsigned long long)s->view.version, age, s->versions, st.goals[0], st.goals[1],
             (double)st.tick / BD_TICK_HZ, s->wins, s->draws, s->losses, win * 100,
             s->human == 1 ? "YOU" : "policy", s->human == 2 ? "YOU" : bd_baseline_name(s->opp),
             speed, paused ? "  PAUSED" : "");
}


int show_main(struct run *run, const struct show_opts *o, int *versions_seen)
{
    struct show s;
    memset(&s, 0, sizeof s);
    s.run = run;
    s.rng = rl_rng_make(o->seed ? o->seed : 7);
    s.opp = (o->opponent && !strcmp(o->opponent, "random")) ? BD_BASELINE_RANDOM
                                                             : BD_BASELINE_SCRIPTED;
    struct term *t = NULL;
    struct dshq_telemetry *tel = NULL;
    int beat = -1, rc, code = 1;
    struct bd_config cfg;
    bd_config_default(&cfg);
    cfg.frame_skip = 1; /* the show steps tick by tick and holds actions itself */
    if ((rc = bd_env_create(&s.env, &cfg, 1))) {
        fprintf(stderr, "show: %s\n", strerror(-rc));
        return 1;
    }
    bd_env_reset(s.env, o->seed);
    bd_env_observe(s.env, s.obs[0], s.obs[1]);
    if ((rc = dshq_weights_open(run->weights_mem, run->weights_size, &s.wch)) ||
        (rc = dshq_weights_reader_attach(s.wch, run->blk->mlp_shape, &s.rd))) {
        fprintf(stderr, "show: weights channel: %s\n", dshq_strerror(rc));
        goto out;
    }
    if (dshq_telemetry_attach(run->telemetry_mem, run->telemetry_size, 0, &tel) == 0)
        beat = dshq_telemetry_register(tel, METRICS_ROLE_SHOW, 0);
    if (!o->headless && (rc = term_open(&t))) {
        fprintf(stderr, "show: cannot use the terminal (%s); running headless\n", strerror(-rc));
        t = NULL;
    }

    const double dt = 1.0 / BD_TICK_HZ;
    double speed = 1.0, acc = 0;
    int paused = 0;
    uint64_t start = dshq_now_ns(), last = start, last_frame = 0, last_line = start;
    show_adopt(&s, start, 1);
    while (!procs_stop) {
        uint64_t now = dshq_now_ns();
        if (o->seconds > 0 && (double)(now - start) / 1e9 >= o->seconds)
            break;
        if (run_state(run) == RUN_STOPPING)
            break;
        double frame_dt = (double)(now - last) / 1e9;
        last = now;
        if (!paused)
            acc += frame_dt * speed;
        if (acc > 0.25)
            acc = 0.25; /* after a stall, do not try to catch up for ever */
        while (acc >= dt) {
            if (s.ticks % DECISION_TICKS == 0) {
                show_adopt(&s, now, 0);
                show_decide(&s);
            }
            show_tick(&s);
            acc -= dt;
        }
        if (beat >= 0)
            dshq_telemetry_beat(tel, beat);
        if (t) {
            int key;
            while ((key = term_poll_key(t, 0)) != TERM_KEY_NONE) {
                if (key == 'q' || key == 'Q')
                    goto done;
                else if (key == ' ')
                    paused = !paused;
                else if (key == '+' || key == '=')
                    speed = speed * 2 > 4 ? 4 : speed * 2;
                else if (key == '-' || key == '_')
                    speed = speed / 2 < 0.25 ? 0.25 : speed / 2;
                else if (key == 'r' || key == 'R') {
                    bd_env_reset_one(s.env, 0);
                    bd_env_observe(s.env, s.obs[0], s.obs[1]);
                } else if (key == '1' || key == '2')
                    s.human = s.human == key - '0' ? 0 : key - '0';
                else if (s.human)
                    human_key(&s, key);
            }
            if (now - last_frame >= 16666666u) {
                char status[512];
                status_line(&s, status, sizeof status, speed, paused);
                term_draw(t, s.env, 0, status);
                last_frame = now;
            }
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        } else {
            if (now - last_line >= 1000000000u) {
                char status[512];
                status_line(&s, status, sizeof status, speed, paused);
                char *nl = strchr(status, '\n');
                if (nl)
                    *nl = 0;
                printf("show: %s\n", status);
                fflush(stdout);
                last_line = now;
            }
            struct timespec ts = {0, 4000000};
            nanosleep(&ts, NULL);
        }
    }
done:
    code = (o->min_versions > 0 && s.versions < o->min_versions) ? 1 : 0;
out:
    if (t)
        term_close(t);
    if (versions_seen)
        *versions_seen = s.versions;
    if (tel) {
        if (beat >= 0)
            dshq_telemetry_unregister(tel, beat);
        dshq_telemetry_detach(tel);
    }
    if (s.rd)
        dshq_weights_reader_detach(s.rd);
    if (s.wch)
        dshq_weights_close(s.wch);
    bd_env_destroy(s.env);
    return code;
}
