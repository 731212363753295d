"""The C network (src/rl/mlp.h) and its PPO loss, for Python.

Net describes the parameter layout every process of a run agrees on (one
float32 block, tensors at 64-byte aligned offsets, weights stored [in][out]
so y = x @ W + b, zero padding between tensors) and runs the C forward pass
and the C PPO loss with its gradients on numpy arrays.  A learner in another
framework (examples/torch_ppo.py) uses tensors() to read and write the block.
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import lib
from .core import DshqError


class Net:
    """The policy/value MLP: obs_dim inputs, n_actions logits, `layers`
    hidden layers of `hidden` tanh units in each of two trunks (pi, v)."""

    def __init__(self, obs_dim=28, n_actions=30, hidden=64, layers=2):
        h = ctypes.c_void_p()
        rc = lib.dshq_py_net_new(obs_dim, n_actions, hidden, layers, h)
        if rc < 0:
            raise DshqError("net", rc)
        self._h = h
        self.obs_dim, self.n_actions, self.hidden, self.layers = obs_dim, n_actions, hidden, layers
        self.n_params = lib.dshq_py_net_params(h)
        self.shape_hash = lib.dshq_py_net_shape(h)

    @classmethod
    def of_run(cls, run):
        return cls(run.obs_dim, run.n_actions, run.hidden, run.layers)

    def __del__(self):
        if getattr(self, "_h", None):
            lib.dshq_py_net_free(self._h)
            self._h = None

    def tensors(self):
        """[(name, (rows, cols), offset)] in block order: "pi.l0.w" [in][out],
        "pi.l0.b" [1][out], ..., "pi.out.w", "v.l0.w", ..., "v.out.b"."""
        out = []
        for i in range(lib.dshq_py_net_tensor_count(self._h)):
            r, c, o = ctypes.c_int(), ctypes.c_int(), ctypes.c_uint64()
            name = lib.dshq_py_net_tensor(self._h, i, r, c, o)
            out.append((name.decode(), (r.value, c.value), o.value))
        return out

    def views(self, params):
        """name -> numpy view [rows][cols] of that tensor inside params."""
        return {name: params[off:off + r * c].reshape(r, c) for name, (r, c), off in self.tensors()}

    def init_params(self, seed=1):
        p = np.zeros(self.n_params, dtype=np.float32)
        lib.dshq_py_net_init_params(self._h, _lib.ptr(p), seed)
        return p

    def forward(self, params, obs):
        """(logits [n][A], value [n]) of the C forward pass."""
        params = np.ascontiguousarray(params, dtype=np.float32)
        obs = np.ascontiguousarray(obs, dtype=np.float32).reshape(-1, self.obs_dim)
        n = obs.shape[0]
        logits = np.empty((n, self.n_actions), dtype=np.float32)
        value = np.empty(n, dtype=np.float32)
        lib.dshq_py_net_forward(self._h, _lib.ptr(params), _lib.ptr(obs), n, _lib.ptr(logits),
                                _lib.ptr(value))
        return logits, value

    def ppo_loss(self, params, obs, act, logp, value, adv, ret, clip=0.2, vclip=0.0,
                 vf_coef=0.5, ent_coef=0.01, norm_adv=False, grads=True):
        """The C learner's mean PPO loss (src/rl/ppo.h) on one batch; with
        grads, also d(loss)/d(params) in the block layout.  Returns
        (loss, grads or None, stats dict)."""
        f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)
        params, obs, logp, value, adv, ret = map(f32, (params, obs, logp, value, adv, ret))
        act = np.ascontiguousarray(act, dtype=np.int32)
        cfg = np.array([clip, vclip, vf_coef, ent_coef, 1.0 if norm_adv else 0.0], np.float32)
        g = np.zeros(self.n_params, dtype=np.float32) if grads else None
        st = np.zeros(6, dtype=np.float32)
        loss = lib.dshq_py_ppo_loss(self._h, _lib.ptr(params), act.size, _lib.ptr(obs),
                                    _lib.ptr(act), _lib.ptr(logp), _lib.ptr(value), _lib.ptr(adv),
                                    _lib.ptr(ret), _lib.ptr(cfg),
                                    _lib.ptr(g) if grads else None, _lib.ptr(st))
        names = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_frac", "loss")
        return loss, g, dict(zip(names, map(float, st)))

    def evaluate(self, params, opponent="scripted", episodes=200, max_goals=1, seed=12345):
        """Plays params (left) against a baseline: dict of episodes, wins,
        draws, losses, win_rate (the C evaluation `dshq train` reports)."""
        params = np.ascontiguousarray(params, dtype=np.float32)
        out = (ctypes.c_int32 * 4)()
        opp = {"random": 0, "scripted": 1}[opponent]
        rc = lib.dshq_py_evaluate(self._h, _lib.ptr(params), opp, episodes, max_goals, seed, out)
        if rc < 0:
            raise DshqError("evaluate", rc)
        e, w, d, l = list(out)
        return {"episodes": e, "wins": w, "draws": d, "losses": l, "win_rate": w / max(e, 1)}
