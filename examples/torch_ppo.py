#!/usr/bin/env python3
"""torch_ppo.py — a PyTorch trainer for a DrillSergeantHQ run: the C rollout
workers play, this program learns.

    build/dshq train --external-trainer --run NAME [--show] [--workers N] ... &
    python3 examples/torch_ppo.py NAME [--metrics curve.jsonl]

It takes the trainer's place in the run (python/dshq over libdshq):
  - reads each committed chunk through numpy views of the shared memory
    (dshq.Run.poll), computes GAE from the views, and copies the samples
    into the learner's tensors once, then releases the slot;
  - runs PPO in PyTorch with the run's settings (lr and its anneal, gamma,
    lambda, clip, vf-coef, ent-coef, max-grad-norm, epochs, minibatches;
    advantages normalised per minibatch, Adam eps 1e-5: as src/rl/ppo.c);
  - publishes every new policy in the C MLP's parameter layout
    (dshq.torchnet.TorchMLP.to_block), which the workers and the show use
    as they are;
  - obeys the run's mailbox (dshq ctl NAME stop|pause|resume|reset|set ...),
    drives the workers' schedules (progress), publishes telemetry (dshq top),
    and stops the run at the end of its budget (--seconds / --updates of
    the run's config, or the flags here).
With --metrics FILE it appends one JSON line per second: wall_s, updates,
steps, and the win rates of the workers' recent episodes against the random
and the scripted opponent (wins / episodes, draws count as not won).
"""
import argparse
import json
import os
import sys
import time

# One BLAS thread: the learner is one thread, like the C trainer, and
# OpenBLAS's spinning threads slow a loaded machine down severalfold.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import dshq  # noqa: E402
import dshq.torchnet as tn  # noqa: E402


def gae(c, gamma, lam):
    """Advantages and returns [T][E] of one chunk, from its views (the
    formula of src/rl/gae.c: done cuts, trunc bootstraps from final_value)."""
    rew, val, done, trunc = c.rew, c.value, c.done, c.trunc
    fv = c.final_value
    T, E = rew.shape
    adv = np.empty((T, E), np.float32)
    next_adv = np.zeros(E, np.float32)
    next_val = c.boot_value.copy()
    for t in range(T - 1, -1, -1):
        d, tr = done[t].astype(bool), trunc[t].astype(bool)
        boot = np.where(tr, fv[t], next_val)
        delta = rew[t] + gamma * np.where(d, 0.0, boot) - val[t]
        a = np.where(d | tr, delta, delta + gamma * lam * next_adv)
        adv[t] = a
        next_adv = a
        next_val = val[t]
    return adv, adv + val


def update(model, opt, held, D, gamma, lam, lr, clip, vf_coef, ent_coef, max_gn, epochs, mbs):
    """One PPO update on the held chunks: GAE from the views, one copy into
    the learner's tensors, the slots released, then the epochs.  Returns
    (samples, stats)."""
    advs, rets = zip(*(gae(ch, gamma, lam) for ch in held))
    obs = torch.from_numpy(np.concatenate([ch.obs.reshape(-1, D) for ch in held]))
    act = torch.from_numpy(np.concatenate([ch.act.reshape(-1) for ch in held]))
    logp = torch.from_numpy(np.concatenate([ch.logp.reshape(-1) for ch in held]))
    val = torch.from_numpy(np.concatenate([ch.value.reshape(-1) for ch in held]))
    adv = torch.from_numpy(np.concatenate([x.reshape(-1) for x in advs]))
    ret = torch.from_numpy(np.concatenate([x.reshape(-1) for x in rets]))
    for ch in held:
        if hasattr(ch, "release"):
            ch.release()
    N = obs.shape[0]
    for g in opt.param_groups:
        g["lr"] = lr
    acc = {}
    for _ in range(epochs):
        perm = torch.randperm(N)
        for k in range(mbs):
            idx = perm[N * k // mbs:N * (k + 1) // mbs]
            madv = adv[idx]
            madv = (madv - madv.mean()) / (madv.std(unbiased=False) + 1e-8)
            loss, st = tn.ppo_loss(model, obs[idx], act[idx], logp[idx], val[idx], madv,
                                   ret[idx], clip=clip, vf_coef=vf_coef, ent_coef=ent_coef)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if max_gn > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_gn)
            opt.step()
            for key, v in st.items():
                acc[key] = acc.get(key, 0.0) + v / (epochs * mbs)
    return N, {"policy_loss": acc["policy_loss"], "value_loss": acc["value_loss"],
               "entropy": acc["entropy"], "approx_kl": acc["approx_kl"],
               "clip_fraction": acc["clip_frac"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="the run's name (dshq train --run NAME --external-trainer)")
    ap.add_argument("--seconds", type=float, help="training budget (default: the run's)")
    ap.add_argument("--updates", type=int, help="update budget (default: the run's)")
    ap.add_argument("--metrics", help="append JSON lines (win rates against time) to this file")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--wait", type=float, default=30, help="seconds to wait for the run to appear")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    deadline = time.monotonic() + a.wait
    while True:
        try:
            run = dshq.Run.attach(a.run)
            break
        except dshq.DshqError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    cfg = run.config
    seconds = a.seconds if a.seconds is not None else float(cfg["seconds"])
    updates_budget = a.updates if a.updates is not None else int(cfg["updates"])
    lr0, lr1 = float(cfg["lr"]), float(cfg["lr-end"])
    gamma, lam, clip = float(cfg["gamma"]), float(cfg["lambda"]), float(cfg["clip"])
    vf_coef, ent_coef = float(cfg["vf-coef"]), float(cfg["ent-coef"])
    max_gn, epochs, mbs = float(cfg["max-grad-norm"]), int(cfg["epochs"]), int(cfg["minibatches"])
    max_lag, workers = int(cfg["max-lag"]), run.workers

    net = dshq.Net.of_run(run)
    model = tn.TorchMLP(net).load_block(net.init_params(int(cfg["seed"])))
    opt = torch.optim.Adam(model.parameters(), lr=lr0, eps=1e-5)
    block = np.zeros(net.n_params, np.float32)
    version = run.publish(model.to_block(block), step=0)
    run.trainer_started()
    if not a.quiet:
        print("torch_ppo: training run %s (%d workers x %d envs x %d steps, network %dx%d, "
              "%d parameters) with PyTorch %s" % (run.region, workers, run.E, run.T, run.hidden,
                                                  run.layers, net.n_params, torch.__version__),
              flush=True)
    mf = open(a.metrics, "a") if a.metrics else None

    t0 = time.monotonic()
    updates = steps = consumed = dropped_lag = 0
    paused_s, pause_began = 0.0, None
    last_tick = last_print = t0
    last_tot = run.worker_totals()
    rate = {"random": float("nan"), "scripted": float("nan")}
    ema = {"random": None, "scripted": None}
    upd_time, upd_samples = 0.0, 0
    stats = {}
    held = []
    stop = False
    while not stop and not run.stopping:
        while (m := run.consume()) is not None:
            if m["type"] == "stop":
                stop = True
            elif m["type"] == "pause":
                run.set_paused(m["paused"])
            elif m["type"] == "set" and run.obey_set(m):  # range-checked, shaping applied
                if m["param"] == "lr":
                    lr0 = lr1 = m["value"]
                elif m["param"] == "ent_coef":
                    ent_coef = m["value"]
                elif m["param"] == "clip":
                    clip = m["value"]
            elif m["type"] == "reset":
                model.load_block(net.init_params(int(cfg["seed"]) + updates))
                opt = torch.optim.Adam(model.parameters(), lr=lr0, eps=1e-5)
        now = time.monotonic()
        paused = run.paused
        if paused and pause_began is None:
            pause_began = now
        elif not paused and pause_began is not None:
            paused_s += now - pause_began
            pause_began = None
        elapsed = now - t0 - paused_s - ((now - pause_began) if pause_began else 0)
        if (seconds > 0 and elapsed >= seconds) or (updates_budget and updates >= updates_budget):
            break
        progress = updates / updates_budget if updates_budget else elapsed / seconds
        run.set_progress(progress)

        if now - last_tick >= 1.0:
            tot = run.worker_totals()
            for k in ("random", "scripted"):
                de = tot["episodes"][k] - last_tot["episodes"][k]
                if de:
                    dw = tot["wins"][k] - last_tot["wins"][k]
                    dl = tot["losses"][k] - last_tot["losses"][k]
                    rate[k] = dw / de
                    score = (dw + 0.5 * (de - dw - dl)) / de
                    ema[k] = score if ema[k] is None else 0.7 * ema[k] + 0.3 * score
            opp = "scripted" if ema["scripted"] is not None else "random"
            dt = now - last_tick
            run.publish_metrics(
                steps=steps, updates=updates, weights_version=run.version_base + version,
                chunks_consumed=consumed, chunks_dropped_lag=dropped_lag,
                episodes=sum(tot["episodes"].values()), paused=int(paused),
                opponent=2 if opp == "scripted" else 1, wall_s=elapsed,
                steps_per_s=(tot["steps"] - last_tot["steps"]) / dt,
                score_ema=ema[opp] if ema[opp] is not None else float("nan"),
                learning_rate=lr0 + (lr1 - lr0) * min(progress, 1.0), entropy_coef=ent_coef,
                clip=clip, **stats)
            if mf:
                mf.write(json.dumps({"wall_s": round(elapsed, 2), "updates": updates,
                                     "steps": steps, "win_rate_random": rate["random"],
                                     "win_rate_scripted": rate["scripted"],
                                     "update_s_per_sample": upd_time / max(upd_samples, 1)})
                         .replace("NaN", "null") + "\n")
                mf.flush()
            last_tot, last_tick = tot, now
        if not a.quiet and now - last_print >= 5.0:
            last_print = now
            print("update %5d  %6.1fs  steps %9d  win rate vs random %5.1f%%  vs scripted "
                  "%5.1f%%  entropy %.3f" % (updates, elapsed, steps, 100 * rate["random"],
                                             100 * rate["scripted"], stats.get("entropy", 0)),
                  flush=True)
        if paused:
            time.sleep(0.1)
            continue

        c = run.poll(timeout=0.05)
        if c is None:
            continue
        if (c.producer_id >= workers or c.policy_version == 0 or c.policy_version > version
                or version - c.policy_version > max_lag):
            dropped_lag += 1
            c.release()
            continue
        held.append(c)
        if len(held) < workers:
            continue

        tu = time.perf_counter()
        lr = lr0 + (lr1 - lr0) * min(progress, 1.0)
        N, stats = update(model, opt, held, run.obs_dim, gamma, lam, lr, clip, vf_coef, ent_coef,
                          max_gn, epochs, mbs)
        consumed += len(held)
        held = []
        updates += 1
        steps += N
        version = run.publish(model.to_block(block), step=updates)
        upd_time += time.perf_counter() - tu
        upd_samples += N

    for ch in held:
        ch.release()
    tot = run.worker_totals()
    run.publish_metrics(steps=steps, updates=updates, weights_version=run.version_base + version,
                        chunks_consumed=consumed, chunks_dropped_lag=dropped_lag,
                        episodes=sum(tot["episodes"].values()),
                        wall_s=time.monotonic() - t0 - paused_s, **stats)
    if not a.quiet:
        print("torch_ppo: %d updates, %d samples, %.1f us per sample per update (GAE, copy, "
              "%d epochs)" % (updates, steps, 1e6 * upd_time / max(upd_samples, 1), epochs),
              flush=True)
    if mf:
        mf.close()
    run.stop()
    run.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
