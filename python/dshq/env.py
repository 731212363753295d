"""Ball Drill as a vectorized environment with the Gymnasium vector API shape.

    env = dshq.BallDrillVecEnv(num_envs=64, opponent="scripted")
    obs, info = env.reset(seed=1)                       # obs [E, 28] float32
    obs, rew, terminated, truncated, info = env.step(actions)   # actions [E] int

The learner plays the left side; the right side is a baseline ("random",
"scripted") or, with opponent=None, takes actions from step(actions,
opponent_actions=...).  The C env (src/rl/env.h) steps the whole batch in
one call and writes straight into this object's arrays: step returns the
SAME arrays every time, overwritten in place (copy what you keep, as with
Gymnasium's copy=False).  Episodes auto-reset: the observation of an env
whose episode ended is the first of its next episode; info["final_obs"]
[E, 28] holds the last one where terminated | truncated, and
info["winner"] [E] is 1 (left = the learner won), 2 (right), 0 (draw), -1
(episode still running).

Spaces are described without depending on gymnasium:
single_observation_space = Box(-4, 4, (28,), float32),
single_action_space = Discrete(30); observation_space / action_space are
the batched ones.  docs/env.md is the full specification.
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import lib
from .core import DshqError


class Box:
    def __init__(self, low, high, shape, dtype):
        self.low, self.high, self.shape, self.dtype = low, high, tuple(shape), np.dtype(dtype)

    def contains(self, x):
        x = np.asarray(x)
        return x.shape == self.shape and bool(np.all(x >= self.low) and np.all(x <= self.high))

    def __repr__(self):
        return "Box(%g, %g, %s, %s)" % (self.low, self.high, self.shape, self.dtype)


class Discrete:
    def __init__(self, n):
        self.n, self.shape, self.dtype = n, (), np.dtype(np.int64)

    def contains(self, x):
        return 0 <= int(x) < self.n

    def __repr__(self):
        return "Discrete(%d)" % self.n


class MultiDiscrete:
    def __init__(self, nvec):
        self.nvec = np.asarray(nvec)
        self.shape, self.dtype = self.nvec.shape, np.dtype(np.int64)

    def __repr__(self):
        return "MultiDiscrete(%s x %d)" % (self.nvec.shape, self.nvec[0])


OBS_DIM = lib.dshq_py_env_obs_dim()
N_ACTIONS = lib.dshq_py_env_actions()
OBS_CLIP = 4.0
_OPP = {"random": 0, "scripted": 1, None: -1}


class BallDrillVecEnv:
    metadata = {"autoreset_mode": "same-step", "render_modes": []}

    def __init__(self, num_envs=16, opponent="scripted", max_goals=1, max_ticks=0):
        if opponent not in _OPP:
            raise ValueError("opponent: 'random', 'scripted' or None")
        h = ctypes.c_void_p()
        rc = lib.dshq_py_env_new(num_envs, _OPP[opponent], max_goals, max_ticks, h)
        if rc < 0:
            raise DshqError("env", rc)
        self._h = h
        self.num_envs = num_envs
        self.opponent = opponent
        self.spec_hash = lib.dshq_py_env_spec_hash()
        self.single_observation_space = Box(-OBS_CLIP, OBS_CLIP, (OBS_DIM,), np.float32)
        self.single_action_space = Discrete(N_ACTIONS)
        self.observation_space = Box(-OBS_CLIP, OBS_CLIP, (num_envs, OBS_DIM), np.float32)
        self.action_space = MultiDiscrete([N_ACTIONS] * num_envs)
        E = num_envs
        # The batch arrays the C env writes in place, allocated once.
        self._obs = np.zeros((E, OBS_DIM), np.float32)
        self._rew = np.zeros(E, np.float32)
        self._done = np.zeros(E, np.uint8)
        self._trunc = np.zeros(E, np.uint8)
        self._final_obs = np.zeros((E, OBS_DIM), np.float32)
        self._winner = np.full(E, -1, np.int32)
        self._act = np.zeros(E, np.int32)
        self._act_r = np.zeros(E, np.int32)
        self.episodes = 0

    def reset(self, seed=None, options=None):
        lib.dshq_py_env_reset(self._h, 0 if seed is None else int(seed), _lib.ptr(self._obs))
        self._winner.fill(-1)
        return self._obs, {}

    def step(self, actions, opponent_actions=None):
        a = self._act if np.asarray(actions).dtype != np.int32 else None
        if a is not None:
            a[:] = actions
        else:
            a = np.ascontiguousarray(actions)
        if a.shape != (self.num_envs,):
            raise ValueError("step: %d actions expected, got shape %s" % (self.num_envs, a.shape))
        r = None
        if self.opponent is None:
            if opponent_actions is None:
                raise ValueError("step: this env has no baseline opponent: pass opponent_actions")
            self._act_r[:] = opponent_actions
            r = _lib.ptr(self._act_r)
        n = lib.dshq_py_env_step(self._h, _lib.ptr(a), r, _lib.ptr(self._obs), _lib.ptr(self._rew),
                                 _lib.ptr(self._done), _lib.ptr(self._trunc),
                                 _lib.ptr(self._final_obs), _lib.ptr(self._winner))
        self.episodes += n
        info = {"final_obs": self._final_obs, "winner": self._winner, "ended": n}
        return (self._obs, self._rew, self._done.view(np.bool_), self._trunc.view(np.bool_), info)

    def close(self):
        if getattr(self, "_h", None):
            lib.dshq_py_env_free(self._h)
            self._h = None

    def __del__(self):
        self.close()
