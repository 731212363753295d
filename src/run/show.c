/* show.c — the show's simulation (show.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "run/metrics.h"
#include "run/show.h"

enum { DECISION_TICKS = 4, HUMAN_HOLD = 8 };

static void show_adopt(struct show_sim *s, uint64_t now, int force)
{
    if (!force && dshq_weights_version(s->wch) == s->view.version &&
        now - s->last_check_ns < 1000000000u)
        return;
    if (!force && s->min_swap_ns && s->adopted_ns && now - s->adopted_ns < s->min_swap_ns)
        return; /* a host's limit on the swap rate (the page's setting) */
    s->last_check_ns = now;
    int rc = dshq_weights_adopt(s->rd, &s->view);
    if (rc == DSHQ_WEIGHTS_NEW) {
        s->versions++;
        s->adopted_ns = now;
    }
}

static void show_decide(struct show_sim *s)
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

static void show_tick(struct show_sim *s)
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

static void human_input(struct show_sim *s, enum show_input in)
{
    int move = -1, turn = BD_TURN_NONE;
    switch (in) {
    case SHOW_IN_UP: move = BD_MOVE_FORWARD; break;
    case SHOW_IN_DOWN: move = BD_MOVE_BACK; break;
    case SHOW_IN_LEFT: move = BD_MOVE_STOP; turn = BD_TURN_LEFT; break;
    case SHOW_IN_RIGHT: move = BD_MOVE_STOP; turn = BD_TURN_RIGHT; break;
    case SHOW_IN_DASH: s->human_act = BD_ACTION(BD_MOVE_FORWARD, 0, 1);
        s->human_left = HUMAN_HOLD; return;
    default: return;
    }
    s->human_act = BD_ACTION(move, turn, 0);
    s->human_left = HUMAN_HOLD;
}

void show_sim_status(const struct show_sim *s, char *buf, size_t len)
{
    struct metrics m;
    double win = NAN;
    if (dshq_telemetry_read(s->run->telemetry_mem, s->run->telemetry_size, metrics_shape_hash(),
                            &m, sizeof m, NULL) == (int)sizeof m)
        win = m.score_ema;
    struct bd_state st;
    bd_env_get_state(s->env, 0, &st);
    double age = s->adopted_ns ? (double)(dshq_now_ns() - s->adopted_ns) / 1e9 : 0;
    snprintf(buf, len,
             "policy v%llu (adopted %.1fs ago, %d swaps)  goals %u:%u  clock %5.1fs  "
             "show W/D/L %d/%d/%d  training score %.0f%%\n"
             "%s vs %s   speed %.2fx%s   keys: space pause, +/- speed, r reset, 1/2 play "
             "left/right (arrows/WASD, e dash), q quit",
             (unsigned long long)(s->run->blk->version_base + s->view.version), age, s->versions, st.goals[0], st.goals[1],
             (double)st.tick / BD_TICK_HZ, s->wins, s->draws, s->losses, win * 100,
             s->human == 1 ? "YOU" : "policy", s->human == 2 ? "YOU" : bd_baseline_name(s->opp),
             s->speed, s->paused ? "  PAUSED" : "");
}



int show_sim_open(struct show_sim *s, struct run *run, const char *opponent, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->run = run;
    s->beat = -1;
    s->speed = 1.0;
    s->rng = rl_rng_make(seed ? seed : 7);
    s->opp = (opponent && !strcmp(opponent, "random")) ? BD_BASELINE_RANDOM
                                                       : BD_BASELINE_SCRIPTED;
    struct bd_config cfg;
    bd_config_default(&cfg);
    cfg.frame_skip = 1; /* the show steps tick by tick and holds actions itself */
    int rc;
    if ((rc = bd_env_create(&s->env, &cfg, 1))) {
        fprintf(stderr, "show: %s\n", strerror(-rc));
        return rc;
    }
    bd_env_reset(s->env, seed);
    bd_env_observe(s->env, s->obs[0], s->obs[1]);
    if ((rc = dshq_weights_open(run->weights_mem, run->weights_size, &s->wch)) ||
        (rc = dshq_weights_reader_attach(s->wch, run->blk->mlp_shape, &s->rd))) {
        fprintf(stderr, "show: weights channel: %s\n", dshq_strerror(rc));
        show_sim_close(s);
        return rc;
    }
    if (dshq_telemetry_attach(run->telemetry_mem, run->telemetry_size, 0, &s->tel) == 0)
        s->beat = dshq_telemetry_register(s->tel, METRICS_ROLE_SHOW, 0);
    s->last_ns = dshq_now_ns();
    show_adopt(s, s->last_ns, 1);
    return 0;
}

void show_sim_close(struct show_sim *s)
{
    if (s->tel) {
        if (s->beat >= 0)
            dshq_telemetry_unregister(s->tel, s->beat);
        dshq_telemetry_detach(s->tel);
    }
    if (s->rd)
        dshq_weights_reader_detach(s->rd);
    if (s->wch)
        dshq_weights_close(s->wch);
    if (s->env)
        bd_env_destroy(s->env);
    s->tel = NULL;
    s->rd = NULL;
    s->wch = NULL;
    s->env = NULL;
}

void show_sim_advance(struct show_sim *s, uint64_t now)
{
    const double dt = 1.0 / BD_TICK_HZ;
    double frame_dt = (double)(now - s->last_ns) / 1e9;
    s->last_ns = now;
    if (!s->paused)
        s->acc += frame_dt * s->speed;
    if (s->acc > 0.25)
        s->acc = 0.25; /* after a stall, do not try to catch up for ever */
    while (s->acc >= dt) {
        if (s->ticks % DECISION_TICKS == 0) {
            show_adopt(s, now, 0);
            show_decide(s);
        }
        show_tick(s);
        s->acc -= dt;
    }
    if (s->beat >= 0)
        dshq_telemetry_beat(s->tel, s->beat);
}

void show_sim_input(struct show_sim *s, enum show_input in)
{
    switch (in) {
    case SHOW_IN_PAUSE: s->paused = !s->paused; break;
    case SHOW_IN_FASTER: s->speed = s->speed * 2 > 4 ? 4 : s->speed * 2; break;
    case SHOW_IN_SLOWER: s->speed = s->speed / 2 < 0.25 ? 0.25 : s->speed / 2; break;
    case SHOW_IN_RESET:
        bd_env_reset_one(s->env, 0);
        bd_env_observe(s->env, s->obs[0], s->obs[1]);
        break;
    case SHOW_IN_TAKE_LEFT: s->human = s->human == 1 ? 0 : 1; break;
    case SHOW_IN_TAKE_RIGHT: s->human = s->human == 2 ? 0 : 2; break;
    default:
        if (s->human)
            human_input(s, in);
        break;
    }
}
