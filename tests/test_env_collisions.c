/* test_env_collisions — walls, posts, goals and contacts of Ball Drill.
 *
 *  - A ball bouncing around the walls (players standing still) never gains
 *    kinetic energy, tick after tick.
 *  - At maximum speed nothing tunnels: a ball kept at BD_BALL_MAX_SPEED in
 *    every direction from every region, and players dashing flat out into
 *    the walls, stay inside the boundary at every tick.
 *  - Goal detection: at the post (bounces out), on the line (no goal until
 *    the whole ball is over), in the corners (field corner: no goal; back of
 *    the net: goal), on both ends, with the right winner and rewards.
 *  - Contacts: a player walking into the ball kicks it forwards; players
 *    never end up overlapping each other. */
#include "../tests/check.h"

#include <math.h>

#include "rl/env.h"
#include "rl/rng.h"

#define STILL BD_ACTION(BD_MOVE_STOP, BD_TURN_NONE, 0)
#define EPS 1e-4f

static struct bd_env *make_env(uint32_t max_goals)
{
    struct bd_config cfg;
    bd_config_default(&cfg);
    cfg.frame_skip = 1;
    cfg.max_goals = max_goals;
    cfg.max_ticks = 1u << 30;
    cfg.kickoff_jitter = 0.0f;
    struct bd_env *env;
    CHECK_EQ_INT(bd_env_create(&env, &cfg, 1), 0);
    return env;
}

/* A state with the players parked in two field corners, facing +x. */
static struct bd_state parked(void)
{
    struct bd_state s;
    memset(&s, 0, sizeof s);
    s.p[0] = (struct bd_player){-8.5f, -4.5f, 0, 0, 1, 0, 0, 0};
    s.p[1] = (struct bd_player){8.5f, 4.5f, 0, 0, -1, 0, 0, 0};
    return s;
}

struct tick_out {
    float rew[2], goal[2];
    uint8_t done, trunc;
    struct bd_episode ep;
    float fin[2][BD_OBS_DIM];
};

static int tick(struct bd_env *env, int32_t al, int32_t ar, struct tick_out *t)
{
    struct bd_step_out o;
    memset(&o, 0, sizeof o);
    memset(t, 0, sizeof *t);
    o.rew[0] = &t->rew[0];
    o.rew[1] = &t->rew[1];
    o.rew_goal[0] = &t->goal[0];
    o.rew_goal[1] = &t->goal[1];
    o.done = &t->done;
    o.trunc = &t->trunc;
    o.episodes = &t->ep;
    o.final_obs[0] = t->fin[0];
    o.final_obs[1] = t->fin[1];
    return bd_env_step(env, &al, &ar, &o);
}

static float ball_energy(const struct bd_state *s)
{
    return s->ball.vx * s->ball.vx + s->ball.vy * s->ball.vy;
}

static void test_walls_never_add_energy(void)
{
    struct bd_env *env = make_env(0);
    struct rl_rng rng = rl_rng_make(21);
    int bounces = 0, post_hits = 0;
    for (int trial = 0; trial < 200; trial++) {
        struct bd_state s = parked();
        s.ball.x = (rl_rng_float(&rng) * 2 - 1) * 9.0f;
        s.ball.y = (rl_rng_float(&rng) * 2 - 1) * 5.0f;
        float ang = rl_rng_float(&rng) * 6.2831853f;
        if (trial % 2) { /* every other ball is aimed at a post */
            float px = trial % 4 == 1 ? BD_HALF_X : -BD_HALF_X;
            float py = trial % 8 < 4 ? BD_GOAL_HALF : -BD_GOAL_HALF;
            ang = atan2f(py - s.ball.y, px - s.ball.x) + 0.05f * (rl_rng_float(&rng) - 0.5f);
        }
        float sp = BD_BALL_MAX_SPEED * (0.3f + 0.7f * rl_rng_float(&rng));
        s.ball.vx = sp * cosf(ang);
        s.ball.vy = sp * sinf(ang);
        bd_env_set_state(env, 0, &s);
        float prev = ball_energy(&s);
        for (int t = 0; t < 600; t++) {
            struct tick_out o;
            tick(env, STILL, STILL, &o);
            struct bd_state n;
            bd_env_get_state(env, 0, &n);
            if (o.goal[0] != 0.0f) { /* a goal re-kicks off: a new ball */
                prev = ball_energy(&n);
                continue;
            }
            float en = ball_energy(&n);
            CHECK_MSG(en <= prev, "trial %d tick %d: energy %.9g -> %.9g", trial, t, prev, en);
            /* A bounce loses far more than drag (factor 0.9867 per tick). */
            if (en < prev * 0.95f)
                bounces++;
            float dx = fabsf(n.ball.x) - BD_HALF_X, dy = fabsf(n.ball.y) - BD_GOAL_HALF;
            if (dx * dx + dy * dy < (BD_BALL_RADIUS + 0.02f) * (BD_BALL_RADIUS + 0.02f))
                post_hits++;
            prev = en;
        }
    }
    CHECK(bounces > 100);  /* the test really bounced balls ... */
    CHECK(post_hits > 20); /* ... off the posts too */
    bd_env_destroy(env);
}

/* The boundary seen from the ball's centre, with a small tolerance. */
static void check_ball_inside(const struct bd_ball *b, const char *what, int i)
{
    float ax = fabsf(b->x), ay = fabsf(b->y);
    CHECK_MSG(isfinite(b->x) && isfinite(b->y), "%s %d: non-finite", what, i);
    CHECK_MSG(ay <= BD_HALF_Y - BD_BALL_RADIUS + EPS, "%s %d: through a side wall (y %.6f)",
              what, i, b->y);
    CHECK_MSG(ax <= BD_HALF_X + BD_GOAL_DEPTH - BD_BALL_RADIUS + EPS,
              "%s %d: through the back of a goal (x %.6f)", what, i, b->x);
    if (ax > BD_HALF_X)
        CHECK_MSG(ay <= BD_GOAL_HALF - BD_BALL_RADIUS + EPS,
                  "%s %d: through a recess side (%.6f, %.6f)", what, i, b->x, b->y);
    if (ay >= BD_GOAL_HALF)
        CHECK_MSG(ax <= BD_HALF_X - BD_BALL_RADIUS + EPS, "%s %d: through an end wall (%.6f, %.6f)",
                  what, i, b->x, b->y);
    if (ax <= BD_HALF_X) {
        float dx = ax - BD_HALF_X, dy = ay - BD_GOAL_HALF;
        CHECK_MSG(sqrtf(dx * dx + dy * dy) >= BD_BALL_RADIUS - 1e-3f,
                  "%s %d: inside a post (%.6f, %.6f)", what, i, b->x, b->y);
    }
}

static void test_no_tunnelling_at_max_speed(void)
{
    struct bd_env *env = make_env(0);
    struct rl_rng rng = rl_rng_make(5);
    /* Start points in every region: open field, near the walls, at the
     * posts, in the mouth, inside the recesses. */
    static const float starts[][2] = {{0, 0},    {9.5f, 5.5f}, {9.6f, 2.6f}, {9.6f, 2.2f},
                                      {10.5f, 0}, {11.0f, 2.0f}, {9.9f, -2.4f}, {-9.6f, 2.6f},
                                      {-11.0f, -2.1f}, {5.0f, -5.6f}, {-9.6f, -3.0f}};
    for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
        for (int dir = 0; dir < 64; dir++) {
            float ang = (float)dir * (6.2831853f / 64) + 0.01f * rl_rng_float(&rng);
            struct bd_state s = parked();
            s.ball = (struct bd_ball){starts[k][0], starts[k][1], 0, 0};
            bd_env_set_state(env, 0, &s);
            bd_env_get_state(env, 0, &s);
            /* set_state clamps, so re-read the start */
            for (int t = 0; t < 240; t++) {
                /* Keep the ball at full speed in its current direction (or
                 * the test direction if it stopped). */
                float sp = sqrtf(ball_energy(&s));
                float ux = sp > 1e-3f ? s.ball.vx / sp : cosf(ang);
                float uy = sp > 1e-3f ? s.ball.vy / sp : sinf(ang);
                if (t == 0) {
                    ux = cosf(ang);
                    uy = sinf(ang);
                }
                s.ball.vx = ux * BD_BALL_MAX_SPEED;
                s.ball.vy = uy * BD_BALL_MAX_SPEED;
                bd_env_set_state(env, 0, &s);
                struct tick_out o;
                tick(env, STILL, STILL, &o);
                bd_env_get_state(env, 0, &s);
                check_ball_inside(&s.ball, "start", (int)k);
            }
        }
    }

    /* Players flat out (forward + dash, turning) into every wall. */
    for (int a = 0; a < BD_NUM_ACTIONS; a++) {
        struct bd_state s = parked();
        s.p[0].x = 0;
        s.p[0].y = 0;
        bd_env_set_state(env, 0, &s);
        for (int t = 0; t < 1200; t++) {
            int32_t al = (t / 200) % 2 ? BD_ACTION(BD_MOVE_FORWARD, BD_TURN_NONE, 1) : a;
            struct tick_out o;
            tick(env, al, BD_ACTION(BD_MOVE_FORWARD, BD_TURN_LEFT, 1), &o);
            bd_env_get_state(env, 0, &s);
            for (int i = 0; i < 2; i++) {
                const struct bd_player *p = &s.p[i];
                float reach = BD_PLAYER_HALF * (fabsf(p->hc) + fabsf(p->hs));
                CHECK_MSG(fabsf(p->x) <= BD_HALF_X - reach + EPS &&
                              fabsf(p->y) <= BD_HALF_Y - reach + EPS,
                          "player %d out of the field at (%.5f, %.5f), action %d", i, p->x,
                          p->y, a);
                CHECK(p->vx * p->vx + p->vy * p->vy <=
                      BD_PLAYER_MAX_SPEED * BD_PLAYER_MAX_SPEED * 1.0001f);
            }
            check_ball_inside(&s.ball, "players", a);
        }
    }
    bd_env_destroy(env);
}

/* Plays a ball from (x, y) with velocity (vx, vy); returns the tick of the
 * goal (its result in *o) or -1 if none within max ticks. */
static int play_ball(struct bd_env *env, float x, float y, float vx, float vy, int max,
                     struct tick_out *o, struct bd_state *last)
{
    struct bd_state s = parked();
    s.ball = (struct bd_ball){x, y, vx, vy};
    bd_env_set_state(env, 0, &s);
    for (int t = 0; t < max; t++) {
        struct bd_state before;
        bd_env_get_state(env, 0, &before);
        if (tick(env, STILL, STILL, o)) {
            *last = before;
            return t;
        }
    }
    bd_env_get_state(env, 0, last);
    return -1;
}

static void test_goal_detection(void)
{
    struct bd_env *env = make_env(1);
    const float W = BD_HALF_X, G = BD_GOAL_HALF, R = BD_BALL_RADIUS;
    struct tick_out o;
    struct bd_state s;

    /* Straight in: goal for left, +1/-1, terminal, winner left. */
    CHECK(play_ball(env, W - 2, 0, 8, 0, 120, &o, &s) >= 0);
    CHECK_EQ_INT(o.done, 1);
    CHECK_EQ_INT(o.trunc, 0);
    CHECK(o.goal[0] == 1.0f && o.goal[1] == -1.0f);
    CHECK_EQ_INT(o.ep.winner, BD_WINNER_LEFT);
    CHECK_EQ_INT(o.ep.goals[0], 1);
    CHECK_EQ_INT(o.ep.goals[1], 0);
    CHECK_EQ_INT(o.ep.terminal, 1);
    /* The final observation is the ball in the net, seen from the left. */
    CHECK(o.fin[0][BD_OBS_BALL_X] * W > W + R);
    CHECK(o.fin[1][BD_OBS_BALL_X] * W < -(W + R));

    /* The other end: goal for right. */
    CHECK(play_ball(env, -W + 2, 1, -8, 0, 120, &o, &s) >= 0);
    CHECK(o.goal[0] == -1.0f && o.goal[1] == 1.0f);
    CHECK_EQ_INT(o.ep.winner, BD_WINNER_RIGHT);

    /* At the post: a ball aimed at the post's centre bounces back out. */
    CHECK_EQ_INT(play_ball(env, W - 2, G, 10, 0, 240, &o, &s), -1);
    CHECK(s.ball.x < W - R);
    /* Just inside the post it goes in; just outside it hits the end wall. */
    CHECK(play_ball(env, W - 2, G - R - 0.01f, 10, 0, 240, &o, &s) >= 0);
    CHECK(o.goal[0] == 1.0f);
    CHECK_EQ_INT(play_ball(env, W - 2, -(G + R + 0.01f), 10, 0, 240, &o, &s), -1);
    CHECK(s.ball.x <= W - R);
    /* Grazing the post from inside the mouth is deflected (the ball's edge
     * overlaps the post): the ball rolls straight (vy == 0) until its centre
     * comes within R of the post, then leaves it towards the mouth (vy < 0),
     * having lost speed along the post's normal. */
    {
        struct bd_state st = parked();
        st.ball = (struct bd_ball){W - 2, G - 0.5f * R, 10, 0};
        bd_env_set_state(env, 0, &st);
        int deflected = -1;
        for (int t = 0; t < 240 && deflected < 0; t++) {
            struct bd_state before, after;
            bd_env_get_state(env, 0, &before);
            if (tick(env, STILL, STILL, &o))
                break; /* scored before any deflection: checked below */
            bd_env_get_state(env, 0, &after);
            if (after.ball.vy == 0.0f)
                continue;
            deflected = t;
            float keep = 1.0f - BD_BALL_DRAG * BD_DT;
            float px = after.ball.x - W, py = after.ball.y - G;
            CHECK_MSG(after.ball.vy < -0.5f, "grazing: vy %g after the post", after.ball.vy);
            CHECK_MSG(sqrtf(px * px + py * py) <= R + EPS, "grazing: deflected %g from the post",
                      sqrtf(px * px + py * py));
            CHECK_MSG(after.ball.vx < before.ball.vx * keep - 0.5f, "grazing: vx %g -> %g",
                      before.ball.vx, after.ball.vx);
            CHECK(after.ball.y < before.ball.y); /* pushed off the post, into the mouth */
        }
        CHECK_MSG(deflected >= 0, "the ball grazing the post was never deflected");
    }

    /* On the line: a ball resting with its centre on the line, or with the
     * whole ball one hair short of it, is not a goal. */
    CHECK_EQ_INT(play_ball(env, W, 0, 0, 0, 60, &o, &s), -1);
    CHECK_EQ_INT(play_ball(env, W + R - 0.001f, 0, 0, 0, 60, &o, &s), -1);
    /* Rolling over it slowly: the goal comes on the first tick the whole
     * ball is over, not before (checked tick by tick against the state). */
    {
        struct bd_state st = parked();
        st.ball = (struct bd_ball){W + R - 0.05f, 0.5f, 0.9f, 0};
        bd_env_set_state(env, 0, &st);
        int scored = 0;
        for (int t = 0; t < 120 && !scored; t++) {
            struct bd_state before;
            bd_env_get_state(env, 0, &before);
            float keep = 1.0f - BD_BALL_DRAG * BD_DT;
            float next_x = before.ball.x + before.ball.vx * keep * BD_DT;
            scored = tick(env, STILL, STILL, &o);
            CHECK_EQ_INT(scored, next_x > W + R);
        }
        CHECK(scored);
    }

    /* Corners.  Field corner: the ball is kept in the field, no goal. */
    CHECK_EQ_INT(play_ball(env, W - R - 0.05f, BD_HALF_Y - R - 0.05f, 6, 6, 120, &o, &s), -1);
    check_ball_inside(&s.ball, "field corner", 0);
    /* Where the end wall meets the post, from outside the mouth. */
    CHECK_EQ_INT(play_ball(env, W - 1, G + 1, 6, -6, 30, &o, &s), -1);
    /* The back corner of the net: already over the line, a goal next tick. */
    CHECK_EQ_INT(play_ball(env, W + BD_GOAL_DEPTH - R - 0.01f, G - R - 0.01f, 0, 0, 5, &o, &s),
                 0);
    CHECK(o.goal[0] == 1.0f);
    CHECK_EQ_INT(play_ball(env, -(W + BD_GOAL_DEPTH - R - 0.01f), -(G - R - 0.01f), 2, 2, 5, &o,
                           &s),
                 0);
    CHECK(o.goal[1] == 1.0f);
    bd_env_destroy(env);
}

static void test_player_contacts(void)
{
    struct bd_env *env = make_env(0);
    struct tick_out o;

    /* Walk into a resting ball: it leaves faster than the player, forwards. */
    struct bd_state s = parked();
    s.p[0] = (struct bd_player){-3, 0, 0, 0, 1, 0, 0, 0};
    s.ball = (struct bd_ball){-1.5f, 0, 0, 0};
    bd_env_set_state(env, 0, &s);
    int kicked = 0;
    for (int t = 0; t < 120 && !kicked; t++) {
        tick(env, BD_ACTION(BD_MOVE_FORWARD, BD_TURN_NONE, 0), STILL, &o);
        bd_env_get_state(env, 0, &s);
        kicked = s.ball.vx > s.p[0].vx;
    }
    CHECK(kicked);
    CHECK(s.ball.vx > 4.0f && fabsf(s.ball.vy) < 0.5f);
    CHECK_EQ_INT(s.touches[0], 1);

    /* A dash kicks harder than a walk. */
    s = parked();
    s.p[0] = (struct bd_player){-3, 0, 0, 0, 1, 0, 0, 0};
    s.ball = (struct bd_ball){-1.5f, 0, 0, 0};
    bd_env_set_state(env, 0, &s);
    float walk_kick = 0, dash_kick = 0;
    for (int pass = 0; pass < 2; pass++) {
        s = parked();
        s.p[0] = (struct bd_player){-3, 0, 0, 0, 1, 0, 0, 0};
        s.ball = (struct bd_ball){-1.5f, 0, 0, 0};
        bd_env_set_state(env, 0, &s);
        for (int t = 0; t < 60; t++) {
            int dash = pass == 1 && t == 10;
            tick(env, BD_ACTION(BD_MOVE_FORWARD, BD_TURN_NONE, dash), STILL, &o);
        }
        bd_env_get_state(env, 0, &s);
        *(pass ? &dash_kick : &walk_kick) = s.ball.x;
    }
    CHECK(dash_kick > walk_kick + 0.5f);

    /* Head-on players push against each other but never overlap much. */
    s = parked();
    s.p[0] = (struct bd_player){-2, 0.1f, 0, 0, 1, 0, 0, 0};
    s.p[1] = (struct bd_player){2, -0.1f, 0, 0, -1, 0, 0, 0};
    s.ball = (struct bd_ball){0, 5, 0, 0};
    bd_env_set_state(env, 0, &s);
    for (int t = 0; t < 600; t++) {
        int32_t a = BD_ACTION(BD_MOVE_FORWARD, BD_TURN_NONE, 1);
        tick(env, a, a, &o);
        bd_env_get_state(env, 0, &s);
        float dx = s.p[1].x - s.p[0].x, dy = s.p[1].y - s.p[0].y;
        CHECK_MSG(sqrtf(dx * dx + dy * dy) > 2 * BD_PLAYER_COLLIDE_RADIUS - 0.2f,
                  "players overlap at tick %d", t);
    }
    bd_env_destroy(env);
}

int main(void)
{
    test_walls_never_add_energy();
    test_no_tunnelling_at_max_speed();
    test_goal_detection();
    test_player_contacts();
    return 0;
}
