/* env.c — Ball Drill physics, rewards, observations and the batched step.
 *
 * Storage is Structure of Arrays: one array per state field, each [E], all
 * carved out of one 64-byte aligned allocation made at create time.  The step
 * loads one env's fields into a struct bd_state held in registers, runs
 * frame_skip ticks on it, stores it back and writes that env's outputs: the
 * arrays stream linearly, nothing is allocated, nothing branches on the batch.
 *
 * Determinism.  Every operation on an env reads only that env's state and its
 * actions, in a fixed order, so the trajectory is the same in any batch.  The
 * physics is written so that it also commutes exactly with the mirror (world
 * turned by 180 degrees, players swapped): signs are handled with fabsf and
 * copysignf, and the two ball-player contacts are computed from the same state
 * and summed (IEEE addition is commutative), so no side is "first".
 *
 * One tick, in order (semi-implicit Euler: velocities first, then positions):
 *   1. players: turn, accelerate towards the target velocity (bounded), dash
 *      impulse if ready, clamp speed, move;
 *   2. player-player contact (circles), then players against the walls;
 *   3. ball: drag, move; contacts with both players (oriented squares);
 *      clamp speed; walls, goal recesses and posts;
 *   4. goal check: the whole ball beyond a goal line. */
#include "rl/env.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rl/rng.h"

#define W BD_HALF_X
#define H BD_HALF_Y
#define G BD_GOAL_HALF
#define D BD_GOAL_DEPTH
#define BR BD_BALL_RADIUS
#define PH BD_PLAYER_HALF

/* Per-turn-command rotation of the heading in one tick: cos and sin of
 * (turn * BD_TURN_RATE * dt), turn in {0, +1, -1} for none, left, right. */
struct bd_rot {
    float c, s, turn;
};

struct bd_env {
    struct bd_config cfg;
    uint32_t n;
    uint64_t base_seed;
    struct bd_stats stats;
    struct bd_rot rot[3];
    /* SoA state: every array is [n]. */
    float *bx, *by, *bvx, *bvy;
    float *px[2], *py[2], *pvx[2], *pvy[2], *hc[2], *hs[2], *turn[2];
    uint32_t *cool[2];
    uint32_t *tick, *goals[2], *touches[2], *contact, *episode;
    float *ret[2];
    uint64_t *rng;
    void *mem;
};

/* ---- small pure helpers ------------------------------------------------ */

uint64_t bd_fnv1a64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Uniform in [-1, 1), 24 bits, from the env's generator (rl/rng.h). */
static inline float bd_rng_sym(struct rl_rng *r)
{
    return rl_rng_float(r) * 2.0f - 1.0f;
}

/* Comparisons, not fminf/fmaxf: those are libm calls at -O2 (their NaN rule
 * differs from minss/maxss).  A NaN v fails "v > lo" and comes out as lo. */
static inline float clampf(float v, float lo, float hi)
{
    v = v > lo ? v : lo;
    return v < hi ? v : hi;
}

/* Finite or 0: the last line of defence for observations and set_state. */
static inline float finite_or_zero(float v)
{
    return isfinite(v) ? v : 0.0f;
}

void bd_config_default(struct bd_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_ticks = 20 * BD_TICK_HZ;
    cfg->frame_skip = 4;
    cfg->max_goals = 1;
    cfg->dash_cooldown_ticks = BD_TICK_HZ;
    cfg->env_id_base = 0;
    cfg->shaping_coef = 1.0f;
    cfg->approach_coef = 0.5f;
    cfg->kickoff_jitter = 1.0f;
}

/* ---- the spec and its hash ---------------------------------------------- */

static const char bd_spec_text[] =
    "ball-drill/v1;"
    "obs=f32[28]:self_x,self_y,self_vx,self_vy,self_cos,self_sin,self_turn,self_cooldown,"
    "ball_x,ball_y,ball_vx,ball_vy,ball_fwd,ball_left,ball_vfwd,ball_vleft,"
    "opp_x,opp_y,opp_vx,opp_vy,opp_cos,opp_sin,opp_cooldown,opp_fwd,opp_left,"
    "goal_fwd,goal_left,time_left;"
    "frame=team(own goal -x),body(fwd,left);clip=4;"
    "act=i32[30]:(move*3+turn)*2+dash;move=stop,fwd,back,left,right;turn=none,left,right;"
    "dash=no,yes";

const char *bd_spec_string(void)
{
    return bd_spec_text;
}

uint64_t bd_spec_hash(void)
{
    return bd_fnv1a64(BD_FNV_OFFSET, bd_spec_text, sizeof bd_spec_text - 1);
}

/* ---- state <-> SoA ------------------------------------------------------ */

static inline void bd_load(const struct bd_env *env, uint32_t e, struct bd_state *s)
{
    s->ball.x = env->bx[e];
    s->ball.y = env->by[e];
    s->ball.vx = env->bvx[e];
    s->ball.vy = env->bvy[e];
    for (int i = 0; i < 2; i++) {
        struct bd_player *p = &s->p[i];
        p->x = env->px[i][e];
        p->y = env->py[i][e];
        p->vx = env->pvx[i][e];
        p->vy = env->pvy[i][e];
        p->hc = env->hc[i][e];
        p->hs = env->hs[i][e];
        p->turn = env->turn[i][e];
        p->cooldown = env->cool[i][e];
        s->goals[i] = env->goals[i][e];
        s->touches[i] = env->touches[i][e];
        s->ret[i] = env->ret[i][e];
    }
    s->tick = env->tick[e];
    s->contact = env->contact[e];
    s->episode = env->episode[e];
    s->rng = env->rng[e];
}

static inline void bd_store(struct bd_env *env, uint32_t e, const struct bd_state *s)
{
    env->bx[e] = s->ball.x;
    env->by[e] = s->ball.y;
    env->bvx[e] = s->ball.vx;
    env->bvy[e] = s->ball.vy;
    for (int i = 0; i < 2; i++) {
        const struct bd_player *p = &s->p[i];
        env->px[i][e] = p->x;
        env->py[i][e] = p->y;
        env->pvx[i][e] = p->vx;
        env->pvy[i][e] = p->vy;
        env->hc[i][e] = p->hc;
        env->hs[i][e] = p->hs;
        env->turn[i][e] = p->turn;
        env->cool[i][e] = p->cooldown;
        env->goals[i][e] = s->goals[i];
        env->touches[i][e] = s->touches[i];
        env->ret[i][e] = s->ret[i];
    }
    env->tick[e] = s->tick;
    env->contact[e] = s->contact;
    env->episode[e] = s->episode;
    env->rng[e] = s->rng;
}

/* ---- physics ----------------------------------------------------------- */

/* Target velocity in the body frame for each move: (forward, left). */
static const float bd_move_fwd[5] = {0.0f, BD_PLAYER_SPEED, -BD_PLAYER_SPEED_BACK, 0.0f, 0.0f};
static const float bd_move_left[5] = {0.0f, 0.0f, 0.0f, BD_PLAYER_SPEED_SIDE,
                                      -BD_PLAYER_SPEED_SIDE};

static inline void bd_player_drive(struct bd_player *p, uint32_t a, const struct bd_rot *rot,
                                   uint32_t cooldown_ticks)
{
    uint32_t move = a / 6, turn = a / 2 % 3, dash = a & 1;
    const struct bd_rot *r = &rot[turn];

    /* Turn at a fixed rate by a precomputed rotation, then pull the length
     * back to 1 (one Newton step): no trig in the hot loop, and the heading
     * stays a unit vector to float precision over any number of ticks. */
    float hc = p->hc * r->c - p->hs * r->s;
    float hs = p->hc * r->s + p->hs * r->c;
    float m = 1.5f - 0.5f * (hc * hc + hs * hs);
    p->hc = hc * m;
    p->hs = hs * m;
    p->turn = r->turn;

    /* Accelerate towards the target velocity, |dv| <= accel * dt. */
    float tf = bd_move_fwd[move], tl = bd_move_left[move];
    float tvx = tf * p->hc - tl * p->hs;
    float tvy = tf * p->hs + tl * p->hc;
    float dvx = tvx - p->vx, dvy = tvy - p->vy;
    float dv2 = dvx * dvx + dvy * dvy;
    const float amax = BD_PLAYER_ACCEL * BD_DT;
    if (dv2 > amax * amax) {
        float k = amax / sqrtf(dv2);
        dvx *= k;
        dvy *= k;
    }
    p->vx += dvx;
    p->vy += dvy;

    /* Dash: a bounded impulse along the heading, then a cooldown. */
    if (p->cooldown > 0) {
        p->cooldown--;
    } else if (dash) {
        p->vx += BD_DASH_IMPULSE * p->hc;
        p->vy += BD_DASH_IMPULSE * p->hs;
        p->cooldown = cooldown_ticks;
    }

    float v2 = p->vx * p->vx + p->vy * p->vy;
    if (v2 > BD_PLAYER_MAX_SPEED * BD_PLAYER_MAX_SPEED) {
        float k = BD_PLAYER_MAX_SPEED / sqrtf(v2);
        p->vx *= k;
        p->vy *= k;
    }
    p->x += p->vx * BD_DT;
    p->y += p->vy * BD_DT;
}

/* Players are squares, but a square's reach along x or y depends on its
 * rotation: h * (|cos| + |sin|).  Walls stop the inward velocity (no bounce).
 * Players never enter the goal recesses. */
static inline void bd_player_walls(struct bd_player *p)
{
    float reach = PH * (fabsf(p->hc) + fabsf(p->hs));
    float limx = W - reach, limy = H - reach;
    if (fabsf(p->x) > limx) {
        p->x = copysignf(limx, p->x);
        if (p->vx * p->x > 0.0f)
            p->vx = 0.0f;
    }
    if (fabsf(p->y) > limy) {
        p->y = copysignf(limy, p->y);
        if (p->vy * p->y > 0.0f)
            p->vy = 0.0f;
    }
}

/* Player-player contact as two circles of equal mass: split the overlap,
 * remove most of the approaching normal velocity. */
static inline void bd_players_collide(struct bd_player *a, struct bd_player *b)
{
    const float rr = 2.0f * BD_PLAYER_COLLIDE_RADIUS;
    float dx = b->x - a->x, dy = b->y - a->y;
    float d2 = dx * dx + dy * dy;
    if (d2 >= rr * rr)
        return;
    float d = sqrtf(d2);
    float nx = 1.0f, ny = 0.0f;
    if (d > 1e-6f) {
        nx = dx / d;
        ny = dy / d;
    }
    float half = 0.5f * (rr - d);
    a->x -= nx * half;
    a->y -= ny * half;
    b->x += nx * half;
    b->y += ny * half;
    float vn = (b->vx - a->vx) * nx + (b->vy - a->vy) * ny;
    if (vn < 0.0f) {
        float j = -0.5f * (1.0f + BD_PLAYER_RESTITUTION) * vn;
        a->vx -= j * nx;
        a->vy -= j * ny;
        b->vx += j * nx;
        b->vy += j * ny;
    }
}

/* The contact of the ball with one player (an oriented square).  Returns 1
 * on contact and the position correction and velocity change it asks for;
 * the player is kinematic against the ball (much heavier), and the contact
 * point moves with the player's velocity plus its spin (omega x r). */
static inline int bd_ball_player(const struct bd_ball *b, const struct bd_player *p, float *cx,
                                 float *cy, float *cvx, float *cvy)
{
    float dx = b->x - p->x, dy = b->y - p->y;
    /* Cheap reject: farther than the square's circumcircle plus the ball. */
    const float reach = PH * 1.41421356f + BR;
    if (dx * dx + dy * dy >= reach * reach)
        return 0;
    float lx = dx * p->hc + dy * p->hs; /* body frame */
    float ly = -dx * p->hs + dy * p->hc;
    float qx = clampf(lx, -PH, PH), qy = clampf(ly, -PH, PH);
    float ex = lx - qx, ey = ly - qy;
    float e2 = ex * ex + ey * ey;
    float nlx, nly, pen;
    if (e2 > 1e-12f) {
        if (e2 >= BR * BR)
            return 0;
        float e = sqrtf(e2);
        nlx = ex / e;
        nly = ey / e;
        pen = BR - e;
    } else if (PH - fabsf(lx) < PH - fabsf(ly)) {
        /* Centre inside the square: leave by the nearest face. */
        nlx = copysignf(1.0f, lx);
        nly = 0.0f;
        pen = BR + PH - fabsf(lx);
    } else {
        nlx = 0.0f;
        nly = copysignf(1.0f, ly);
        pen = BR + PH - fabsf(ly);
    }
    float nx = nlx * p->hc - nly * p->hs; /* back to world */
    float ny = nlx * p->hs + nly * p->hc;
    *cx = nx * pen;
    *cy = ny * pen;

    /* Contact point relative to the player's centre, and its velocity. */
    float rx = qx * p->hc - qy * p->hs, ry = qx * p->hs + qy * p->hc;
    float w = p->turn * BD_TURN_RATE;
    float pvx = p->vx - w * ry, pvy = p->vy + w * rx;
    float relx = b->vx - pvx, rely = b->vy - pvy;
    float vn = relx * nx + rely * ny;
    *cvx = 0.0f;
    *cvy = 0.0f;
    if (vn < 0.0f) {
        float tx = relx - vn * nx, ty = rely - vn * ny;
        float jx = -(1.0f + BD_KICK_RESTITUTION) * vn * nx - BD_KICK_FRICTION * tx;
        float jy = -(1.0f + BD_KICK_RESTITUTION) * vn * ny - BD_KICK_FRICTION * ty;
        float j2 = jx * jx + jy * jy;
        if (j2 > BD_KICK_MAX_IMPULSE * BD_KICK_MAX_IMPULSE) {
            float k = BD_KICK_MAX_IMPULSE / sqrtf(j2);
            jx *= k;
            jy *= k;
        }
        *cvx = jx;
        *cvy = jy;
    }
    return 1;
}

/* Reflect the ball's velocity component along the unit normal (nx, ny),
 * which points into the field, if it moves against it. */
static inline void bd_ball_bounce(struct bd_ball *b, float nx, float ny)
{
    float vn = b->vx * nx + b->vy * ny;
    if (vn >= 0.0f)
        return;
    float tx = b->vx - vn * nx, ty = b->vy - vn * ny;
    b->vx = tx * BD_WALL_FRICTION - BD_WALL_RESTITUTION * vn * nx;
    b->vy = ty * BD_WALL_FRICTION - BD_WALL_RESTITUTION * vn * ny;
}

/* The boundary, seen from the ball's centre (one half shown, the other is its
 * mirror):
 *
 *     y=+H  +-------------------------------------+
 *           |                                     |   side walls |y| <= H - r
 *           |                                     +--+
 *           |                              (W,G)  o  |  post: a point
 *           |          field |x| <= W             |  |  recess: W < |x| <= W+D,
 *           |                                     |  |          |y| <= G - r
 *           |                                     +--+
 *           |                                     |   end wall: |x| <= W - r
 *     y=-H  +-------------------------------------+          where |y| >= G
 *
 * Which constraint applies depends on the region of the centre: past a goal
 * line (recess), beyond a post's y (end wall), or in the mouth band in front
 * of the line (posts).  The ball moves under half its radius per tick, so it
 * cannot jump between regions across a wall. */
static inline void bd_ball_walls(struct bd_ball *b)
{
    const float side = H - BR;
    if (fabsf(b->y) > side) {
        b->y = copysignf(side, b->y);
        bd_ball_bounce(b, 0.0f, -copysignf(1.0f, b->y));
    }
    float ax = fabsf(b->x), ay = fabsf(b->y);
    if (ax > W) {
        const float rside = G - BR, back = W + D - BR;
        if (ay > rside) {
            b->y = copysignf(rside, b->y);
            bd_ball_bounce(b, 0.0f, -copysignf(1.0f, b->y));
        }
        if (ax > back) {
            b->x = copysignf(back, b->x);
            bd_ball_bounce(b, -copysignf(1.0f, b->x), 0.0f);
        }
    } else if (ay >= G) {
        const float end = W - BR;
        if (ax > end) {
            b->x = copysignf(end, b->x);
            bd_ball_bounce(b, -copysignf(1.0f, b->x), 0.0f);
        }
    } else {
        float dx = b->x - copysignf(W, b->x), dy = b->y - copysignf(G, b->y);
        float d2 = dx * dx + dy * dy;
        if (d2 < BR * BR && d2 > 1e-12f) {
            float d = sqrtf(d2);
            float nx = dx / d, ny = dy / d;
            b->x += nx * (BR - d);
            b->y += ny * (BR - d);
            bd_ball_bounce(b, nx, ny);
        }
    }
}

/* One tick.  Returns the goal event: 0 none, 1 left scored, 2 right scored. */
static inline int bd_tick(struct bd_state *s, const struct bd_rot *rot, uint32_t a0, uint32_t a1,
                          uint32_t cooldown_ticks)
{
    bd_player_drive(&s->p[0], a0, rot, cooldown_ticks);
    bd_player_drive(&s->p[1], a1, rot, cooldown_ticks);
    bd_players_collide(&s->p[0], &s->p[1]);
    bd_player_walls(&s->p[0]);
    bd_player_walls(&s->p[1]);

    struct bd_ball *b = &s->ball;
    const float keep = 1.0f - BD_BALL_DRAG * BD_DT;
    b->vx *= keep;
    b->vy *= keep;
    b->x += b->vx * BD_DT;
    b->y += b->vy * BD_DT;

    float cx0, cy0, cvx0, cvy0, cx1, cy1, cvx1, cvy1;
    int c0 = bd_ball_player(b, &s->p[0], &cx0, &cy0, &cvx0, &cvy0);
    int c1 = bd_ball_player(b, &s->p[1], &cx1, &cy1, &cvx1, &cvy1);
    if (c0 | c1) {
        if (!c0)
            cx0 = cy0 = cvx0 = cvy0 = 0.0f;
        if (!c1)
            cx1 = cy1 = cvx1 = cvy1 = 0.0f;
        b->x += cx0 + cx1;
        b->y += cy0 + cy1;
        b->vx += cvx0 + cvx1;
        b->vy += cvy0 + cvy1;
        float v2 = b->vx * b->vx + b->vy * b->vy;
        if (v2 > BD_BALL_MAX_SPEED * BD_BALL_MAX_SPEED) {
            float k = BD_BALL_MAX_SPEED / sqrtf(v2);
            b->vx *= k;
            b->vy *= k;
        }
    }
    uint32_t contact = (uint32_t)c0 | (uint32_t)c1 << 1;
    uint32_t fresh = contact & ~s->contact;
    s->touches[0] += fresh & 1;
    s->touches[1] += fresh >> 1;
    s->contact = contact;

    bd_ball_walls(b);

    /* A goal: the whole ball past the goal line. */
    if (fabsf(b->x) > W + BR)
        return b->x > 0.0f ? 1 : 2;
    return 0;
}

/* Shaping potentials of one side: minus the ball's distance to the goal it
 * attacks, and minus its own distance to the ball, both / (2 * half length). */
static inline void bd_potentials(const struct bd_state *s, float *goal0, float *goal1,
                                 float *near0, float *near1)
{
    const float inv = 1.0f / (2.0f * W);
    float gx0 = s->ball.x - W, gx1 = s->ball.x + W, gy = s->ball.y;
    *goal0 = -sqrtf(gx0 * gx0 + gy * gy) * inv;
    *goal1 = -sqrtf(gx1 * gx1 + gy * gy) * inv;
    float ax = s->p[0].x - s->ball.x, ay = s->p[0].y - s->ball.y;
    float bx = s->p[1].x - s->ball.x, by = s->p[1].y - s->ball.y;
    *near0 = -sqrtf(ax * ax + ay * ay) * inv;
    *near1 = -sqrtf(bx * bx + by * by) * inv;
}

/* ---- episodes ------------------------------------------------------------ */

/* Places ball and players for a kickoff, drawing from the env's generator. */
static void bd_kickoff(struct bd_state *s, float jitter)
{
    struct rl_rng r = {s->rng};
    float u[10];
    for (int i = 0; i < 10; i++)
        u[i] = jitter * bd_rng_sym(&r);
    s->rng = r.s;
    s->ball = (struct bd_ball){0.5f * u[0], 1.5f * u[1], u[2], u[3]};
    for (int i = 0; i < 2; i++) {
        /* Left starts at x = -5 facing +x, right at +5 facing -x. */
        float sgn = i == 0 ? 1.0f : -1.0f;
        float ang = 0.5f * u[6 + i];
        struct bd_player *p = &s->p[i];
        p->x = sgn * (-5.0f + u[4 + i]);
        p->y = 2.0f * u[8 + i];
        p->hc = sgn * cosf(ang);
        p->hs = sgn * sinf(ang);
        p->vx = p->vy = 0.0f;
        p->turn = 0.0f;
        p->cooldown = 0;
    }
    s->contact = 0;
}

static uint64_t bd_episode_id(const struct bd_env *env, uint32_t e, uint32_t episode)
{
    return ((uint64_t)(uint32_t)(env->cfg.env_id_base + e) << 32) + episode;
}

/* Starts episode s->episode of env e: seed, kickoff, counters. */
static void bd_begin_episode(const struct bd_env *env, uint32_t e, struct bd_state *s)
{
    uint64_t seed = env->base_seed + bd_episode_id(env, e, s->episode);
    struct rl_rng r = rl_rng_make(seed);
    s->rng = rl_rng_u64(&r); /* decorrelates neighbouring seeds */
    bd_kickoff(s, env->cfg.kickoff_jitter);
    s->tick = 0;
    s->goals[0] = s->goals[1] = 0;
    s->touches[0] = s->touches[1] = 0;
    s->ret[0] = s->ret[1] = 0.0f;
}

/* ---- observations ---------------------------------------------------------- */

static inline void bd_obs_write(const struct bd_state *s, int side, float inv_cool,
                                float inv_ticks, float *o)
{
    const float sg = side == 0 ? 1.0f : -1.0f; /* team frame: turn right's world */
    const struct bd_player *me = &s->p[side], *op = &s->p[side ^ 1];
    const struct bd_ball *b = &s->ball;
    const float ix = 1.0f / W, iy = 1.0f / H, ip = 1.0f / BD_PLAYER_MAX_SPEED;
    const float ib = 1.0f / BD_BALL_MAX_SPEED, ir = 1.0f / (2.0f * W);
    float hc = me->hc, hs = me->hs;

    o[BD_OBS_SELF_X] = sg * me->x * ix;
    o[BD_OBS_SELF_Y] = sg * me->y * iy;
    o[BD_OBS_SELF_VX] = sg * me->vx * ip;
    o[BD_OBS_SELF_VY] = sg * me->vy * ip;
    o[BD_OBS_SELF_COS] = sg * hc;
    o[BD_OBS_SELF_SIN] = sg * hs;
    o[BD_OBS_SELF_TURN] = me->turn;
    o[BD_OBS_SELF_COOLDOWN] = (float)me->cooldown * inv_cool;
    o[BD_OBS_BALL_X] = sg * b->x * ix;
    o[BD_OBS_BALL_Y] = sg * b->y * iy;
    o[BD_OBS_BALL_VX] = sg * b->vx * ib;
    o[BD_OBS_BALL_VY] = sg * b->vy * ib;
    /* Body-frame vectors need no sign: relative vector and heading turn together. */
    float rx = b->x - me->x, ry = b->y - me->y;
    o[BD_OBS_BALL_FWD] = (rx * hc + ry * hs) * ir;
    o[BD_OBS_BALL_LEFT] = (ry * hc - rx * hs) * ir;
    float rvx = b->vx - me->vx, rvy = b->vy - me->vy;
    o[BD_OBS_BALL_VFWD] = (rvx * hc + rvy * hs) * ib;
    o[BD_OBS_BALL_VLEFT] = (rvy * hc - rvx * hs) * ib;
    o[BD_OBS_OPP_X] = sg * op->x * ix;
    o[BD_OBS_OPP_Y] = sg * op->y * iy;
    o[BD_OBS_OPP_VX] = sg * op->vx * ip;
    o[BD_OBS_OPP_VY] = sg * op->vy * ip;
    o[BD_OBS_OPP_COS] = sg * op->hc;
    o[BD_OBS_OPP_SIN] = sg * op->hs;
    o[BD_OBS_OPP_COOLDOWN] = (float)op->cooldown * inv_cool;
    rx = op->x - me->x;
    ry = op->y - me->y;
    o[BD_OBS_OPP_FWD] = (rx * hc + ry * hs) * ir;
    o[BD_OBS_OPP_LEFT] = (ry * hc - rx * hs) * ir;
    rx = sg * W - me->x;
    ry = -me->y;
    o[BD_OBS_GOAL_FWD] = (rx * hc + ry * hs) * ir;
    o[BD_OBS_GOAL_LEFT] = (ry * hc - rx * hs) * ir;
    o[BD_OBS_TIME_LEFT] = 1.0f - (float)s->tick * inv_ticks;
    /* clampf also maps NaN to -clip: no non-finite value can leave,
     * whatever the state. */
    for (int i = 0; i < BD_OBS_DIM; i++)
        o[i] = clampf(o[i], -BD_OBS_CLIP, BD_OBS_CLIP);
}

static float bd_inv_cool(const struct bd_config *cfg)
{
    return 1.0f / (float)(cfg->dash_cooldown_ticks ? cfg->dash_cooldown_ticks : 1);
}

static float bd_inv_ticks(const struct bd_config *cfg)
{
    return 1.0f / (float)(cfg->max_ticks ? cfg->max_ticks : 1);
}

void bd_obs_from_state(const struct bd_state *st, const struct bd_config *cfg, int side, float *obs)
{
    struct bd_config def;
    if (!cfg) {
        bd_config_default(&def);
        cfg = &def;
    }
    bd_obs_write(st, side ? 1 : 0, bd_inv_cool(cfg), bd_inv_ticks(cfg), obs);
}

void bd_state_mirror(const struct bd_state *in, struct bd_state *out)
{
    struct bd_state m = *in;
    m.ball = (struct bd_ball){-in->ball.x, -in->ball.y, -in->ball.vx, -in->ball.vy};
    for (int i = 0; i < 2; i++) {
        const struct bd_player *p = &in->p[i ^ 1];
        m.p[i] = *p;
        m.p[i].x = -p->x;
        m.p[i].y = -p->y;
        m.p[i].vx = -p->vx;
        m.p[i].vy = -p->vy;
        m.p[i].hc = -p->hc;
        m.p[i].hs = -p->hs;
        m.goals[i] = in->goals[i ^ 1];
        m.touches[i] = in->touches[i ^ 1];
        m.ret[i] = in->ret[i ^ 1];
    }
    m.contact = (in->contact & 1) << 1 | (in->contact >> 1 & 1);
    *out = m;
}

/* ---- the batch ----------------------------------------------------------- */

static int bd_config_valid(const struct bd_config *c)
{
    return c->frame_skip >= 1 && c->frame_skip <= 1024 && c->max_ticks >= 1 &&
           isfinite(c->shaping_coef) && isfinite(c->approach_coef) &&
           isfinite(c->kickoff_jitter) && c->kickoff_jitter >= 0.0f && c->kickoff_jitter <= 1.0f;
}

int bd_env_create(struct bd_env **out, const struct bd_config *cfg, uint32_t num_envs)
{
    struct bd_config def;
    *out = NULL;
    if (!cfg) {
        bd_config_default(&def);
        cfg = &def;
    }
    if (num_envs == 0 || num_envs > (1u << 26) || !bd_config_valid(cfg))
        return -EINVAL;
    struct bd_env *env = calloc(1, sizeof *env);
    if (!env)
        return -ENOMEM;
    env->cfg = *cfg;
    env->n = num_envs;
    for (int t = 0; t < 3; t++) {
        float turn = t == 0 ? 0.0f : t == 1 ? 1.0f : -1.0f;
        double ang = (double)turn * BD_TURN_RATE / BD_TICK_HZ;
        env->rot[t] = (struct bd_rot){(float)cos(ang), (float)sin(ang), turn};
    }

    /* One block; every array starts on a 64-byte boundary.  One spare cache
     * line per array staggers the arrays: with E a power of two they would
     * otherwise all start at the same offset modulo 4 KiB, so the ~30 streams
     * of a step would fight over the same L1 set (measured: 3x slower at
     * E = 1024 without it). */
    size_t stride4 = (((size_t)num_envs * 4 + 63) & ~(size_t)63) + 64;
    size_t stride8 = (((size_t)num_envs * 8 + 63) & ~(size_t)63) + 64;
    enum { N4 = 4 + 2 * 8 + 1 + 2 * 2 + 2 + 2, N8 = 1 };
    size_t bytes = N4 * stride4 + N8 * stride8;
    if (posix_memalign(&env->mem, 64, bytes)) {
        free(env);
        return -ENOMEM;
    }
    memset(env->mem, 0, bytes);
    char *p = env->mem;
#define CARVE(field, stride) (field = (void *)p, p += (stride))
    CARVE(env->bx, stride4);
    CARVE(env->by, stride4);
    CARVE(env->bvx, stride4);
    CARVE(env->bvy, stride4);
    for (int i = 0; i < 2; i++) {
        CARVE(env->px[i], stride4);
        CARVE(env->py[i], stride4);
        CARVE(env->pvx[i], stride4);
        CARVE(env->pvy[i], stride4);
        CARVE(env->hc[i], stride4);
        CARVE(env->hs[i], stride4);
        CARVE(env->turn[i], stride4);
        CARVE(env->cool[i], stride4);
        CARVE(env->goals[i], stride4);
        CARVE(env->touches[i], stride4);
        CARVE(env->ret[i], stride4);
    }
    CARVE(env->tick, stride4);
    CARVE(env->contact, stride4);
    CARVE(env->episode, stride4);
    CARVE(env->rng, stride8);
#undef CARVE
    if ((size_t)(p - (char *)env->mem) > bytes) { /* table above out of date */
        free(env->mem);
        free(env);
        return -EINVAL;
    }
    bd_env_reset(env, 0);
    *out = env;
    return 0;
}

void bd_env_destroy(struct bd_env *env)
{
    if (!env)
        return;
    free(env->mem);
    free(env);
}

uint32_t bd_env_count(const struct bd_env *env)
{
    return env->n;
}

const struct bd_config *bd_env_config(const struct bd_env *env)
{
    return &env->cfg;
}

void bd_env_set_shaping(struct bd_env *env, float shaping_coef, float approach_coef)
{
    env->cfg.shaping_coef = finite_or_zero(shaping_coef);
    env->cfg.approach_coef = finite_or_zero(approach_coef);
}

void bd_env_stats(const struct bd_env *env, struct bd_stats *out)
{
    *out = env->stats;
}

void bd_env_reset(struct bd_env *env, uint64_t base_seed)
{
    env->base_seed = base_seed;
    memset(&env->stats, 0, sizeof env->stats);
    for (uint32_t e = 0; e < env->n; e++) {
        struct bd_state s;
        memset(&s, 0, sizeof s);
        bd_begin_episode(env, e, &s);
        bd_store(env, e, &s);
    }
}

void bd_env_reset_one(struct bd_env *env, uint32_t e)
{
    if (e >= env->n)
        return;
    struct bd_state s;
    bd_load(env, e, &s);
    s.episode++;
    bd_begin_episode(env, e, &s);
    bd_store(env, e, &s);
}

void bd_env_observe(const struct bd_env *env, float *obs_left, float *obs_right)
{
    float ic = bd_inv_cool(&env->cfg), it = bd_inv_ticks(&env->cfg);
    for (uint32_t e = 0; e < env->n; e++) {
        struct bd_state s;
        bd_load(env, e, &s);
        if (obs_left)
            bd_obs_write(&s, 0, ic, it, obs_left + (size_t)e * BD_OBS_DIM);
        if (obs_right)
            bd_obs_write(&s, 1, ic, it, obs_right + (size_t)e * BD_OBS_DIM);
    }
}

void bd_env_get_state(const struct bd_env *env, uint32_t e, struct bd_state *st)
{
    memset(st, 0, sizeof *st);
    if (e < env->n)
        bd_load(env, e, st);
}

static void bd_sanitize_player(struct bd_player *p)
{
    p->x = clampf(finite_or_zero(p->x), -W, W);
    p->y = clampf(finite_or_zero(p->y), -H, H);
    p->vx = clampf(finite_or_zero(p->vx), -BD_PLAYER_MAX_SPEED, BD_PLAYER_MAX_SPEED);
    p->vy = clampf(finite_or_zero(p->vy), -BD_PLAYER_MAX_SPEED, BD_PLAYER_MAX_SPEED);
    float hc = finite_or_zero(p->hc), hs = finite_or_zero(p->hs);
    float n2 = hc * hc + hs * hs;
    if (!(n2 > 1e-12f) || !isfinite(n2)) {
        hc = 1.0f;
        hs = 0.0f;
    } else {
        float n = sqrtf(n2);
        hc /= n;
        hs /= n;
    }
    p->hc = hc;
    p->hs = hs;
    p->turn = p->turn > 0.5f ? 1.0f : p->turn < -0.5f ? -1.0f : 0.0f;
}

void bd_env_set_state(struct bd_env *env, uint32_t e, const struct bd_state *st)
{
    if (e >= env->n)
        return;
    struct bd_state s = *st;
    for (int i = 0; i < 2; i++) {
        bd_sanitize_player(&s.p[i]);
        s.ret[i] = finite_or_zero(s.ret[i]);
    }
    s.ball.x = clampf(finite_or_zero(s.ball.x), -(W + D), W + D);
    s.ball.y = clampf(finite_or_zero(s.ball.y), -H, H);
    s.ball.vx = clampf(finite_or_zero(s.ball.vx), -BD_BALL_MAX_SPEED, BD_BALL_MAX_SPEED);
    s.ball.vy = clampf(finite_or_zero(s.ball.vy), -BD_BALL_MAX_SPEED, BD_BALL_MAX_SPEED);
    s.contact &= 3;
    bd_store(env, e, &s);
}

int bd_env_step(struct bd_env *env, const int32_t *act_left, const int32_t *act_right,
                const struct bd_step_out *out)
{
    static const struct bd_step_out no_outputs;
    if (!out)
        out = &no_outputs;
    const struct bd_config *cfg = &env->cfg;
    const float ic = bd_inv_cool(cfg), it = bd_inv_ticks(cfg);
    const float kg = cfg->shaping_coef, kn = cfg->approach_coef;
    const uint32_t fs = cfg->frame_skip, max_ticks = cfg->max_ticks;
    const uint32_t max_goals = cfg->max_goals, cool = cfg->dash_cooldown_ticks;
    int ended = 0;

    for (uint32_t e = 0; e < env->n; e++) {
        struct bd_state s;
        bd_load(env, e, &s);
        uint32_t a0 = (uint32_t)act_left[e], a1 = (uint32_t)act_right[e];
        a0 = a0 < BD_NUM_ACTIONS ? a0 : 0;
        a1 = a1 < BD_NUM_ACTIONS ? a1 : 0;

        float goal0 = 0.0f, shape0 = 0.0f, shape1 = 0.0f;
        uint8_t done = 0, trunc = 0;
        float g0, g1, n0, n1;
        bd_potentials(&s, &g0, &g1, &n0, &n1);
        for (uint32_t k = 0; k < fs; k++) {
            int ev = bd_tick(&s, env->rot, a0, a1, cool);
            s.tick++;
            float g0n, g1n, n0n, n1n;
            bd_potentials(&s, &g0n, &g1n, &n0n, &n1n);
            shape0 += kg * (g0n - g0) + kn * (n0n - n0);
            shape1 += kg * (g1n - g1) + kn * (n1n - n1);
            g0 = g0n, g1 = g1n, n0 = n0n, n1 = n1n;
            if (ev) {
                int scorer = ev - 1;
                goal0 += scorer == 0 ? 1.0f : -1.0f;
                s.goals[scorer]++;
                if (max_goals && s.goals[scorer] >= max_goals) {
                    done = 1;
                } else {
                    /* Play on: a new kickoff (potentials restart from it). */
                    bd_kickoff(&s, cfg->kickoff_jitter);
                    bd_potentials(&s, &g0, &g1, &n0, &n1);
                }
            }
            if (!done && s.tick >= max_ticks)
                trunc = 1;
            if (done | trunc)
                break;
        }
        float r0 = goal0 + shape0, r1 = -goal0 + shape1;
        s.ret[0] += r0;
        s.ret[1] += r1;
        if (out->rew[0])
            out->rew[0][e] = r0;
        if (out->rew[1])
            out->rew[1][e] = r1;
        if (out->rew_goal[0])
            out->rew_goal[0][e] = goal0;
        if (out->rew_goal[1])
            out->rew_goal[1][e] = -goal0;
        if (out->rew_shape[0])
            out->rew_shape[0][e] = shape0;
        if (out->rew_shape[1])
            out->rew_shape[1][e] = shape1;
        if (out->done)
            out->done[e] = done;
        if (out->trunc)
            out->trunc[e] = trunc;

        if (done | trunc) {
            ended++;
            for (int side = 0; side < 2; side++)
                if (out->final_obs[side])
                    bd_obs_write(&s, side, ic, it, out->final_obs[side] + (size_t)e * BD_OBS_DIM);
            uint32_t winner = s.goals[0] > s.goals[1]   ? BD_WINNER_LEFT
                              : s.goals[1] > s.goals[0] ? BD_WINNER_RIGHT
                                                        : BD_WINNER_DRAW;
            if (out->episodes) {
                struct bd_episode *ep = &out->episodes[e];
                memset(ep, 0, sizeof *ep);
                ep->episode_id = bd_episode_id(env, e, s.episode);
                ep->length = s.tick;
                ep->winner = winner;
                ep->goals[0] = s.goals[0];
                ep->goals[1] = s.goals[1];
                ep->touches[0] = s.touches[0];
                ep->touches[1] = s.touches[1];
                ep->terminal = done;
                ep->truncated = trunc;
                ep->ret[0] = s.ret[0];
                ep->ret[1] = s.ret[1];
            }
            struct bd_stats *st = &env->stats;
            st->episodes++;
            st->wins_left += winner == BD_WINNER_LEFT;
            st->wins_right += winner == BD_WINNER_RIGHT;
            st->draws += winner == BD_WINNER_DRAW;
            st->terminal += done;
            st->truncated += trunc;
            st->ticks += s.tick;
            st->goals_left += s.goals[0];
            st->goals_right += s.goals[1];
            s.episode++;
            bd_begin_episode(env, e, &s);
        }
        bd_store(env, e, &s);
        if (out->obs[0])
            bd_obs_write(&s, 0, ic, it, out->obs[0] + (size_t)e * BD_OBS_DIM);
        if (out->obs[1])
            bd_obs_write(&s, 1, ic, it, out->obs[1] + (size_t)e * BD_OBS_DIM);
    }
    return ended;
}
