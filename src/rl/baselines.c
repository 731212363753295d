/* baselines.c — random and scripted Ball Drill policies (see baselines.h). */
#include "rl/baselines.h"

#include <math.h>
#include <string.h>

#include "rl/env.h"
#include "rl/rng.h"

void bd_policy_random(struct rl_rng *rng, uint32_t n, int32_t *act)
{
    for (uint32_t i = 0; i < n; i++)
        act[i] = (int32_t)rl_rng_below(rng, BD_NUM_ACTIONS);
}

/* Steering towards a team-frame target point: turn to face it, walk forward
 * when roughly facing it, strafe towards it otherwise. */
static int32_t scripted_one(const float *o)
{
    /* Everything in the team frame: own goal at -x, target goal at (W, 0). */
    float sx = o[BD_OBS_SELF_X] * BD_HALF_X, sy = o[BD_OBS_SELF_Y] * BD_HALF_Y;
    float hc = o[BD_OBS_SELF_COS], hs = o[BD_OBS_SELF_SIN];
    float bx = o[BD_OBS_BALL_X] * BD_HALF_X, by = o[BD_OBS_BALL_Y] * BD_HALF_Y;

    /* Unit vector from the ball to the goal centre. */
    float gx = BD_HALF_X - bx, gy = -by;
    float gl = sqrtf(gx * gx + gy * gy);
    if (gl < 1e-3f)
        gl = 1e-3f;
    gx /= gl;
    gy /= gl;

    /* Where am I relative to the ball, along and across the ball-goal line? */
    float rx = sx - bx, ry = sy - by;
    float along = rx * gx + ry * gy;         /* < 0: behind the ball */
    float across = rx * -gy + ry * gx;       /* signed lateral offset */
    const float behind = BD_BALL_RADIUS + BD_PLAYER_HALF + 0.6f;

    float tx, ty;
    int pushing = 0;
    if (along < -0.3f && fabsf(across) < 0.45f) {
        /* Lined up behind the ball: drive through it. */
        tx = bx + gx * 1.0f;
        ty = by + gy * 1.0f;
        pushing = 1;
    } else if (along < -0.3f) {
        /* Behind but off the line: go to the point behind the ball. */
        tx = bx - gx * behind;
        ty = by - gy * behind;
    } else {
        /* Level with or past the ball: go round it on my side, wide enough
         * not to knock it towards my own goal. */
        float side = across >= 0.0f ? 1.0f : -1.0f;
        tx = bx - gx * behind * 1.5f + -gy * side * 1.2f;
        ty = by - gy * behind * 1.5f + gx * side * 1.2f;
    }
    /* Keep the target inside the field (players cannot enter the recesses). */
    tx = fminf(fmaxf(tx, -BD_HALF_X + 0.7f), BD_HALF_X - 0.7f);
    ty = fminf(fmaxf(ty, -BD_HALF_Y + 0.7f), BD_HALF_Y - 0.7f);

    float dx = tx - sx, dy = ty - sy;
    float fwd = dx * hc + dy * hs, left = dy * hc - dx * hs;
    float ang = atan2f(left, fwd);
    int turn = ang > 0.12f ? BD_TURN_LEFT : ang < -0.12f ? BD_TURN_RIGHT : BD_TURN_NONE;
    int move;
    if (fabsf(ang) < 0.9f)
        move = BD_MOVE_FORWARD;
    else
        move = left > 0.0f ? BD_MOVE_LEFT : BD_MOVE_RIGHT;
    if (dx * dx + dy * dy < 0.04f && !pushing)
        move = BD_MOVE_STOP;
    int dash = pushing && fabsf(ang) < 0.25f && o[BD_OBS_SELF_COOLDOWN] <= 0.0f &&
               (rx * rx + ry * ry) < 2.5f * 2.5f;
    return BD_ACTION(move, turn, dash);
}

void bd_policy_scripted(const float *obs, uint32_t n, int32_t *act)
{
    for (uint32_t i = 0; i < n; i++)
        act[i] = scripted_one(obs + (size_t)i * BD_OBS_DIM);
}

void bd_baseline_act(enum bd_baseline kind, struct rl_rng *rng, const float *obs, uint32_t n,
                     int32_t *act)
{
    if (kind == BD_BASELINE_SCRIPTED)
        bd_policy_scripted(obs, n, act);
    else
        bd_policy_random(rng, n, act);
}

int bd_baseline_parse(const char *name)
{
    if (!strcmp(name, "random"))
        return BD_BASELINE_RANDOM;
    if (!strcmp(name, "scripted"))
        return BD_BASELINE_SCRIPTED;
    return -1;
}

const char *bd_baseline_name(enum bd_baseline kind)
{
    return kind == BD_BASELINE_SCRIPTED ? "scripted" : "random";
}
