/* show.h — the show's simulation: one Ball Drill match in real time, played
 * by the newest policy of a running training and hot-swapped without
 * stopping.  Timing, hot-swap and input handling live here; drawing and
 * keys-to-inputs live in the host (src/cli/cmd_show.c for a terminal).
 *
 * A fixed 120 Hz simulation driven by an accumulator (game time never
 * depends on the frame rate or the speed setting), decisions every 4 ticks
 * (30 Hz).  At each decision the show checks the weights version (one
 * relaxed load) and adopts a newer snapshot, in O(1) with no copy; it also
 * re-adopts at least once a second.  Nothing the show does reaches
 * training: it only reads the weights channel and writes its heartbeat. */
#ifndef DSHQ_RUN_SHOW_H
#define DSHQ_RUN_SHOW_H

#include <stddef.h>
#include <stdint.h>

#include "rl/baselines.h"
#include "rl/env.h"
#include "rl/rng.h"
#include "run/run.h"

/* What a host may ask of the show (a terminal maps keys to these). */
enum show_input {
    SHOW_IN_PAUSE = 1,   /* play / pause */
    SHOW_IN_FASTER,      /* speed x2, at most 4x */
    SHOW_IN_SLOWER,      /* speed / 2, at least 0.25x */
    SHOW_IN_RESET,       /* restart the match */
    SHOW_IN_TAKE_LEFT,   /* a human takes (or gives back) the left player */
    SHOW_IN_TAKE_RIGHT,
    SHOW_IN_UP,          /* the human's player: forward */
    SHOW_IN_DOWN,        /* back */
    SHOW_IN_LEFT,        /* turn left */
    SHOW_IN_RIGHT,       /* turn right */
    SHOW_IN_DASH,
};

struct show_sim {
    struct run *run;
    struct dshq_weights *wch;
    struct dshq_weights_reader *rd;
    struct dshq_weights_view view;
    struct dshq_telemetry *tel;
    int beat;
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
    uint64_t min_swap_ns; /* 0: adopt each new version at once; else at most one swap per this */
    uint64_t last_check_ns, last_ns;
    double speed, acc;
    int paused;
    int wins, losses, draws;
    uint64_t ticks;
};

/* Opens the show on a run: its env, a weights reader, a heartbeat.
 * opponent: "scripted" (default, NULL) or "random".  0 or a negative error
 * (described on stderr). */
int show_sim_open(struct show_sim *s, struct run *run, const char *opponent, uint64_t seed);
void show_sim_close(struct show_sim *s);

/* Advances the match to now_ns (CLOCK_MONOTONIC): the ticks due at the
 * current speed, a decision every 4 ticks with the newest policy. */
void show_sim_advance(struct show_sim *s, uint64_t now_ns);

/* Applies one input. */
void show_sim_input(struct show_sim *s, enum show_input in);

/* Two status lines ("\n"-separated) for the host to print under the field:
 * policy version, swaps, score, clock, the show's W/D/L, the training's
 * score, who plays whom, speed. */
void show_sim_status(const struct show_sim *s, char *buf, size_t len);

#endif
