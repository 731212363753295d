"""The C network and learner against PyTorch autograd, on the same weights
and batch: forward pass, PPO loss terms and every gradient.

Reference: PyTorch in float64 on the float32 weights (so the comparison
measures the C code's float32 error, the approximate tanh of src/rl/mlp.h
(4e-7 absolute) included, not PyTorch's).  Tolerances:
  forward  logits and values       |C - torch| <= 2e-5 absolute
  loss     each term and the total  |C - torch| <= 2e-5 (1 + |torch|)
  grads    every parameter          |C - torch| <= 1e-4 max|grad| + 1e-6
Weights: orthogonal init (as a run starts) and after random perturbation
(as a run goes on), value clipping off and on, the ratio inside and outside
the clip range."""
import numpy as np
import pytest

import dshq

torch = pytest.importorskip("torch", reason="python3-torch is not installed (apt-get install "
                                            "python3-torch) for the cross-checks")
tn = pytest.importorskip("dshq.torchnet")


def batch(net, n, rng, params, spread):
    obs = rng.uniform(-2, 2, size=(n, net.obs_dim)).astype(np.float32)
    logits, value = net.forward(params, obs)
    act = rng.integers(0, net.n_actions, size=n).astype(np.int32)
    lse = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    logp_now = logits[np.arange(n), act] - lse
    # behaviour log-probs near the current ones: ratios around 1 +- spread
    logp = (logp_now + rng.normal(0, spread, n)).astype(np.float32)
    val_old = (value + rng.normal(0, 0.3, n)).astype(np.float32)
    adv = rng.normal(0, 1, n).astype(np.float32)
    ret = (val_old + rng.normal(0, 1, n)).astype(np.float32)
    return obs, act, logp, val_old, adv, ret


@pytest.mark.parametrize("hidden,layers", [(64, 2), (32, 3), (16, 1)])
def test_forward_matches(hidden, layers):
    net = dshq.Net(28, 30, hidden, layers)
    rng = np.random.default_rng(hidden)
    params = net.init_params(seed=7)
    params += rng.normal(0, 0.05, params.size).astype(np.float32) * (params != 0)
    obs = rng.uniform(-4, 4, size=(257, 28)).astype(np.float32)  # 257: a ragged block
    lc, vc = net.forward(params, obs)
    m = tn.TorchMLP(net).load_block(params).double()
    with torch.no_grad():
        lt, vt = m(torch.from_numpy(obs).double())
    assert np.abs(lc - lt.numpy()).max() <= 2e-5
    assert np.abs(vc - vt.numpy()).max() <= 2e-5


@pytest.mark.parametrize("vclip", [0.0, 0.2])
@pytest.mark.parametrize("spread", [0.05, 0.5])
def test_ppo_loss_and_gradients_match_autograd(vclip, spread):
    net = dshq.Net(28, 30, 64, 2)
    rng = np.random.default_rng(int(spread * 100) + int(vclip * 10))
    params = net.init_params(seed=3)
    params += rng.normal(0, 0.05, params.size).astype(np.float32) * (params != 0)
    obs, act, logp, val_old, adv, ret = batch(net, 300, rng, params, spread)
    kw = dict(clip=0.2, vclip=vclip, vf_coef=0.5, ent_coef=0.01)
    loss_c, g_c, st_c = net.ppo_loss(params, obs, act, logp, val_old, adv, ret, **kw)

    m = tn.TorchMLP(net).load_block(params).double()
    T = lambda a: torch.from_numpy(np.asarray(a)).double()
    loss_t, st_t = tn.ppo_loss(m, T(obs), torch.from_numpy(act), T(logp), T(val_old), T(adv),
                               T(ret), **kw)
    loss_t.backward()
    g_t = np.zeros(net.n_params)
    for name, (r, c), off in net.tensors():
        g_t[off:off + r * c] = m.p[name.replace(".", "_")].grad.numpy().reshape(-1)

    lt = loss_t.item()
    assert abs(loss_c - lt) <= 2e-5 * (1 + abs(lt)), (loss_c, lt)
    for k in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_frac"):
        assert abs(st_c[k] - st_t[k]) <= 2e-5 * (1 + abs(st_t[k])), (k, st_c[k], st_t[k])
    if spread == 0.5:
        assert st_c["clip_frac"] > 0.2  # the clipped branch is exercised
    scale = np.abs(g_t).max()
    assert scale > 1e-3
    err = np.abs(g_c - g_t).max()
    assert err <= 1e-4 * scale + 1e-6, (err, scale)
    # Padding between tensors gets no gradient in C either.
    pad = np.ones(net.n_params, bool)
    for _, (r, c), off in net.tensors():
        pad[off:off + r * c] = False
    assert not g_c[pad].any()


def test_layout_round_trip_through_torch():
    net = dshq.Net(28, 30, 64, 2)
    p = net.init_params(seed=11)
    m = tn.TorchMLP(net).load_block(p)
    np.testing.assert_array_equal(m.to_block(), p)
    names = [t[0] for t in net.tensors()]
    assert names[0] == "pi.l0.w" and "v.out.b" in names
    assert dict((t[0], t[1]) for t in net.tensors())["pi.l0.w"] == (28, 64)
