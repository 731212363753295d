"""The run's network in PyTorch, in the C MLP's parameter layout.

TorchMLP holds one torch Parameter per tensor of dshq.Net.tensors() (weights
[in][out], y = x @ W + b, tanh hidden layers, two trunks pi and v), loads
them from a float32 block (load_block) and writes them back into one
(to_block) that the C workers and the show use as they are.  ppo_loss is the
C learner's loss (src/rl/ppo.h) written with torch operations, so autograd
gives what rl_ppo_loss's hand-written backward gives.

Imported on its own (import dshq.torchnet): `import dshq` needs no torch.
"""
import numpy as np
import torch


class TorchMLP(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.layout = net.tensors()
        self.layers = net.layers
        self.p = torch.nn.ParameterDict()
        for name, (r, c), _ in self.layout:
            self.p[name.replace(".", "_")] = torch.nn.Parameter(torch.zeros(r, c))

    def _t(self, name):
        return self.p[name.replace(".", "_")]

    def load_block(self, block):
        """Copies a float32 block (n_params, e.g. a WeightsView's params)."""
        block = np.asarray(block, dtype=np.float32)
        with torch.no_grad():
            for name, (r, c), off in self.layout:
                self._t(name).copy_(torch.from_numpy(block[off:off + r * c].reshape(r, c).copy()))
        return self

    def to_block(self, out=None):
        """The parameters as one float32 block in the C layout (padding 0)."""
        if out is None:
            out = np.zeros(self.net.n_params, dtype=np.float32)
        with torch.no_grad():
            for name, (r, c), off in self.layout:
                out[off:off + r * c] = self._t(name).detach().reshape(-1).numpy()
        return out

    def grads_block(self):
        """The .grad of every tensor as one block in the C layout."""
        out = np.zeros(self.net.n_params, dtype=np.float32)
        for name, (r, c), off in self.layout:
            g = self._t(name).grad
            if g is not None:
                out[off:off + r * c] = g.detach().reshape(-1).numpy()
        return out

    def _trunk(self, trunk, x):
        for i in range(self.layers):
            x = torch.tanh(x @ self._t("%s.l%d.w" % (trunk, i)) + self._t("%s.l%d.b" % (trunk, i)))
        return x @ self._t(trunk + ".out.w") + self._t(trunk + ".out.b")

    def forward(self, obs):
        """(logits [n][A], value [n])."""
        return self._trunk("pi", obs), self._trunk("v", obs).squeeze(-1)


def ppo_loss(model, obs, act, logp_old, value_old, adv, ret, clip=0.2, vclip=0.0, vf_coef=0.5,
             ent_coef=0.01):
    """Mean PPO loss of src/rl/ppo.h: clipped surrogate + vf_coef * 1/2
    (clipped) squared value error - ent_coef * entropy.  Tensors in, (loss,
    stats dict) out."""
    logits, v = model(obs)
    logp_all = torch.log_softmax(logits, dim=-1)
    ent = -(logp_all.exp() * logp_all).sum(-1)
    logratio = logp_all.gather(1, act.long().unsqueeze(1)).squeeze(1) - logp_old
    ratio = logratio.exp()
    s1 = ratio * adv
    s2 = torch.clamp(ratio, 1 - clip, 1 + clip) * adv
    pl = -torch.min(s1, s2).mean()
    if vclip > 0:
        vc = value_old + torch.clamp(v - value_old, -vclip, vclip)
        vl = 0.5 * torch.max((v - ret) ** 2, (vc - ret) ** 2).mean()
    else:
        vl = 0.5 * ((v - ret) ** 2).mean()
    loss = pl + vf_coef * vl - ent_coef * ent.mean()
    with torch.no_grad():
        stats = {"policy_loss": pl.item(), "value_loss": vl.item(), "entropy": ent.mean().item(),
                 "approx_kl": ((ratio - 1) - logratio).mean().item(),
                 "clip_frac": ((ratio - 1).abs() > clip).float().mean().item()}
    return loss, stats
