/* env.h — Ball Drill: a deterministic, vectorized 2D soccer environment.
 *
 * One bd_env holds a batch of E independent matches, stored as Structure of
 * Arrays.  A match: a rectangular field with a goal recess at each end, one
 * ball (circle) and two players (rotatable squares), integrated with
 * semi-implicit Euler at a fixed dt = 1/120 s (one "tick").  The left player
 * (side 0) attacks the goal at +x, the right player (side 1) the goal at -x.
 *
 * Contract in one paragraph: bd_env_step() takes E actions per side, advances
 * every env by cfg.frame_skip ticks (the action is held), and writes
 * observations, rewards, done/truncated flags and finished-episode results into
 * caller-owned arrays.  An env whose episode ends is reset in the same call
 * (auto-reset); the observation written for it is the first one of its new
 * episode, and the last one of the old episode goes to the optional final_obs
 * arrays.  Stepping allocates nothing, does no I/O and is bit-for-bit
 * deterministic: an env's trajectory depends only on (base seed, its global
 * env id, the actions), never on the batch size or on the other envs.
 *
 * Threading: one bd_env belongs to one thread at a time; distinct bd_env
 * objects are independent.  The RL layer knows nothing of shared memory: the
 * caller decides where the output arrays live.
 *
 * docs/env.md is the full specification (geometry, constants, observation
 * field by field, action table, rewards, episode ends); bd_spec_hash()
 * versions the observation/action contract. */
#ifndef DSHQ_RL_ENV_H
#define DSHQ_RL_ENV_H

#include <stddef.h>
#include <stdint.h>

/* ---- the observation/action contract (versioned by bd_spec_hash) ------- */

#define BD_OBS_DIM 28     /* floats per observation, per side */
#define BD_NUM_ACTIONS 30 /* discrete actions, indices 0..29 */
#define BD_SPEC_VERSION 1

/* Action index = (move * 3 + turn) * 2 + dash.  Moves and turns are relative
 * to the player's own heading, so an action means the same on either side. */
enum bd_move { BD_MOVE_STOP = 0, BD_MOVE_FORWARD, BD_MOVE_BACK, BD_MOVE_LEFT, BD_MOVE_RIGHT };
enum bd_turn { BD_TURN_NONE = 0, BD_TURN_LEFT, BD_TURN_RIGHT }; /* left = counter-clockwise */
#define BD_ACTION(move, turn, dash) (((move) * 3 + (turn)) * 2 + (dash))
#define BD_ACTION_MOVE(a) ((a) / 6)
#define BD_ACTION_TURN(a) ((a) / 2 % 3)
#define BD_ACTION_DASH(a) ((a) % 2)

/* Observation layout, side-relative ("team frame": the observer's own goal is
 * at -x, the goal it attacks at +x; for the right player the world is turned
 * by 180 degrees, a rotation, so left and right keep their meaning).  "body"
 * vectors are in the observer's own frame: (forward, left).  Every value is
 * clipped to [-BD_OBS_CLIP, BD_OBS_CLIP] and is never NaN or infinite. */
enum bd_obs_index {
    BD_OBS_SELF_X = 0,    /* team-frame position / BD_HALF_X            */
    BD_OBS_SELF_Y,        /*                     / BD_HALF_Y            */
    BD_OBS_SELF_VX,       /* team-frame velocity / BD_PLAYER_MAX_SPEED  */
    BD_OBS_SELF_VY,
    BD_OBS_SELF_COS,      /* team-frame heading unit vector             */
    BD_OBS_SELF_SIN,
    BD_OBS_SELF_TURN,     /* -1 turning right, 0, +1 turning left       */
    BD_OBS_SELF_COOLDOWN, /* dash cooldown left, 1 = just dashed, 0 = ready */
    BD_OBS_BALL_X,        /* team-frame ball position / half extents    */
    BD_OBS_BALL_Y,
    BD_OBS_BALL_VX,       /* team-frame ball velocity / BD_BALL_MAX_SPEED */
    BD_OBS_BALL_VY,
    BD_OBS_BALL_FWD,      /* ball - self, body frame, / (2 * BD_HALF_X) */
    BD_OBS_BALL_LEFT,
    BD_OBS_BALL_VFWD,     /* ball velocity - self velocity, body frame, / BD_BALL_MAX_SPEED */
    BD_OBS_BALL_VLEFT,
    BD_OBS_OPP_X,         /* opponent, team frame, as for self          */
    BD_OBS_OPP_Y,
    BD_OBS_OPP_VX,
    BD_OBS_OPP_VY,
    BD_OBS_OPP_COS,
    BD_OBS_OPP_SIN,
    BD_OBS_OPP_COOLDOWN,
    BD_OBS_OPP_FWD,       /* opponent - self, body frame, / (2 * BD_HALF_X) */
    BD_OBS_OPP_LEFT,
    BD_OBS_GOAL_FWD,      /* centre of the goal to attack - self, body frame, / (2 * BD_HALF_X) */
    BD_OBS_GOAL_LEFT,
    BD_OBS_TIME_LEFT,     /* 1 at kickoff, 0 at the time limit          */
    BD_OBS_COUNT
};
_Static_assert(BD_OBS_COUNT == BD_OBS_DIM, "observation table and BD_OBS_DIM disagree");
#define BD_OBS_CLIP 4.0f

/* ---- world constants (units: metres, seconds) ---------------------------- */

#define BD_TICK_HZ 120
#define BD_DT (1.0f / 120.0f)
#define BD_HALF_X 10.0f          /* field is [-10, 10] x [-6, 6]              */
#define BD_HALF_Y 6.0f
#define BD_GOAL_HALF 2.5f        /* goal mouth |y| < 2.5 (5 m wide)          */
#define BD_GOAL_DEPTH 1.5f       /* recess behind each goal line             */
#define BD_BALL_RADIUS 0.3f
#define BD_PLAYER_HALF 0.5f      /* players are 1 m squares                  */
#define BD_PLAYER_SPEED 5.0f     /* target speed forward                     */
#define BD_PLAYER_SPEED_BACK 3.5f
#define BD_PLAYER_SPEED_SIDE 4.0f
#define BD_PLAYER_ACCEL 25.0f    /* bound on |dv/dt| towards the target      */
#define BD_PLAYER_MAX_SPEED 10.0f
#define BD_DASH_IMPULSE 6.0f     /* velocity added along the heading         */
#define BD_TURN_RATE 4.0f        /* rad/s                                    */
#define BD_BALL_MAX_SPEED 16.0f  /* 0.133 m per tick, under half the radius  */
#define BD_BALL_DRAG 0.8f        /* v *= 1 - drag * dt each tick             */
#define BD_WALL_RESTITUTION 0.75f
#define BD_WALL_FRICTION 0.95f   /* tangential speed kept at a wall bounce   */
#define BD_KICK_RESTITUTION 0.6f /* ball against player                      */
#define BD_KICK_FRICTION 0.2f    /* share of tangential slip removed         */
#define BD_KICK_MAX_IMPULSE 24.0f /* bound on the ball's |dv| per contact    */
#define BD_PLAYER_COLLIDE_RADIUS 0.55f /* player-player contact uses circles */
#define BD_PLAYER_RESTITUTION 0.2f

/* ---- configuration ----------------------------------------------------- */

struct bd_config {
    uint32_t max_ticks;           /* time limit (truncation), ticks; default 2400 = 20 s */
    uint32_t frame_skip;          /* ticks per bd_env_step, action held; default 4 (30 Hz decisions) */
    uint32_t max_goals;           /* the episode ends (terminal) when a side reaches it;
                                     0 = play to the time limit; default 1 (first goal wins) */
    uint32_t dash_cooldown_ticks; /* default 120 (1 s) */
    uint32_t env_id_base;         /* global id of env 0 (seeding and episode ids); default 0 */
    float shaping_coef;           /* ball-towards-goal potential; default 1.0; may be annealed */
    float approach_coef;          /* player-towards-ball potential; default 0.5; may be annealed */
    float kickoff_jitter;         /* 0 = fixed, symmetric kickoff; 1 = default randomisation */
};

/* Fills *cfg with the defaults above. */
void bd_config_default(struct bd_config *cfg);

/* ---- one env's state, for rendering, tests and tools ---------------------- */

struct bd_player {
    float x, y;     /* world position of the centre */
    float vx, vy;   /* world velocity */
    float hc, hs;   /* heading unit vector (cos, sin) */
    float turn;     /* last turn command: -1 right, 0, +1 left */
    uint32_t cooldown; /* ticks until dash is ready */
};

struct bd_ball {
    float x, y, vx, vy;
};

struct bd_state {
    struct bd_ball ball;
    struct bd_player p[2]; /* [0] left, [1] right */
    uint32_t tick;         /* ticks since kickoff of this episode */
    uint32_t goals[2];     /* goals scored by left, right */
    uint32_t touches[2];   /* ball contacts started by left, right */
    uint32_t contact;      /* bit i: player i touched the ball last tick */
    uint32_t episode;      /* episode index within this env (0, 1, ...) */
    float ret[2];          /* undiscounted return so far, left and right */
    uint64_t rng;          /* per-env random state (kickoffs) */
};

/* ---- per-episode results ---------------------------------------------- */

enum bd_winner { BD_WINNER_DRAW = 0, BD_WINNER_LEFT = 1, BD_WINNER_RIGHT = 2 };

struct bd_episode {
    uint64_t episode_id;  /* ((env_id_base + e) << 32) + episode index; seed = base_seed + id */
    uint32_t length;      /* ticks played */
    uint32_t winner;      /* enum bd_winner: more goals at the end; equal = draw */
    uint32_t goals[2];    /* left, right */
    uint32_t touches[2];
    uint8_t terminal;     /* ended by max_goals */
    uint8_t truncated;    /* ended by the time limit */
    uint8_t pad[6];
    float ret[2];         /* undiscounted return, left and right (goal + shaping) */
};

struct bd_stats {         /* totals over all envs since bd_env_reset */
    uint64_t episodes, wins_left, wins_right, draws;
    uint64_t terminal, truncated;
    uint64_t ticks, goals_left, goals_right;
};

/* ---- stepping ---------------------------------------------------------- */

/* Caller-owned outputs of bd_env_step.  Every pointer may be NULL (that output
 * is skipped), and so may the struct itself.  Shapes in brackets;
 * E = bd_env_count(). */
struct bd_step_out {
    float *obs[2];        /* [E][BD_OBS_DIM] per side, after auto-reset */
    float *rew[2];        /* [E] per side: goal + shaping, summed over the step's ticks */
    float *rew_goal[2];   /* [E] per side: +1 scored, -1 conceded (summed) */
    float *rew_shape[2];  /* [E] per side: shaping term alone */
    uint8_t *done;        /* [E] 1 when the episode ended by max_goals (terminal) */
    uint8_t *trunc;       /* [E] 1 when it ended by the time limit; never both */
    float *final_obs[2];  /* [E][BD_OBS_DIM] per side: written ONLY for envs with
                             done|trunc: the last observation of the ended episode */
    struct bd_episode *episodes; /* [E]: written ONLY for envs with done|trunc */
};

struct bd_env;

/* Allocates a batch of num_envs envs (one allocation, 64-byte aligned arrays)
 * and resets it with base seed 0.  Returns 0, -EINVAL (bad config or count)
 * or -ENOMEM.  cfg NULL means defaults. */
int bd_env_create(struct bd_env **out, const struct bd_config *cfg, uint32_t num_envs);
void bd_env_destroy(struct bd_env *env);

uint32_t bd_env_count(const struct bd_env *env);
const struct bd_config *bd_env_config(const struct bd_env *env);

/* Starts episode 0 of every env: env e gets episode id (env_id_base + e) << 32
 * and is seeded from base_seed + episode id.  Zeroes the stats. */
void bd_env_reset(struct bd_env *env, uint64_t base_seed);

/* Abandons env e's episode (no result is reported) and starts its next one. */
void bd_env_reset_one(struct bd_env *env, uint32_t e);

/* Writes the current observations of all envs (NULL skips a side): what a
 * caller needs after bd_env_reset, before the first step. */
void bd_env_observe(const struct bd_env *env, float *obs_left, float *obs_right);

/* Advances every env by frame_skip ticks.  act_left/act_right: [E] int32 in
 * 0..BD_NUM_ACTIONS-1 (an index out of range is taken as 0, "stand still").
 * Returns the number of episodes that ended in this call. */
int bd_env_step(struct bd_env *env, const int32_t *act_left, const int32_t *act_right,
                const struct bd_step_out *out);

/* Runtime-settable (annealable) shaping coefficients; 0 turns a term off. */
void bd_env_set_shaping(struct bd_env *env, float shaping_coef, float approach_coef);

void bd_env_stats(const struct bd_env *env, struct bd_stats *out);

/* Reads / overwrites env e's state.  set_state sanitizes what it is given
 * (non-finite values become 0, positions are clamped into the field, the
 * heading is renormalised), so no input can put a NaN into the env. */
void bd_env_get_state(const struct bd_env *env, uint32_t e, struct bd_state *st);
void bd_env_set_state(struct bd_env *env, uint32_t e, const struct bd_state *st);

/* ---- helpers usable without an env ------------------------------------- */

/* The observation of one side (0 left, 1 right) for a state. */
void bd_obs_from_state(const struct bd_state *st, const struct bd_config *cfg, int side,
                       float *obs /* [BD_OBS_DIM] */);

/* The mirror image of a state: the world turned by 180 degrees and the two
 * players swapped, so left becomes right.  The dynamics commute with it
 * exactly: stepping the mirror with swapped actions gives the mirror. */
void bd_state_mirror(const struct bd_state *in, struct bd_state *out);

/* The canonical text of the observation/action spec, and its FNV-1a 64 hash
 * (the shape hash a policy checks before it plays this env). */
const char *bd_spec_string(void);
uint64_t bd_spec_hash(void);

/* FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3), continued
 * from h; start with BD_FNV_OFFSET. */
#define BD_FNV_OFFSET 0xcbf29ce484222325ULL
uint64_t bd_fnv1a64(uint64_t h, const void *data, size_t len);

#endif
