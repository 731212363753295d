#!/usr/bin/env python3
"""bench_learners.py — the C learner and the PyTorch learner on the same C
workers and the same config.

    /usr/bin/python3 python/bench_learners.py [--seconds 300] [--out DIR] [--skip-runs]

1. Update time per sample: one PPO update (GAE, the run's 2 epochs x 8
   minibatches, Adam) on the same batch size (workers x T x E samples) in
   this process, 1 thread each: the C learner's rl_ppo_update
   (libdshq_py.so) and examples/torch_ppo.py's update.  Median of 7.
2. Time to thresholds: `dshq train` with its C trainer, then `dshq train
   --external-trainer` with examples/torch_ppo.py, one after the other, the
   same settings and seed.  A monitor attached read-only to each run samples
   the workers' counters every second and computes the win rate (wins /
   episodes) of the training episodes of the last 10 s against the random
   and the scripted opponent; it reports when each first reaches 90% vs
   random and 60% vs scripted, in seconds since the run began training.
The figures are printed one line per measure with the ratio torch / C.
"""
import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread each (see torch_ppo.py)
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
import dshq  # noqa: E402
from dshq._lib import lib  # noqa: E402


def update_time_c(T, E, workers, reps=7):
    import ctypes
    lib.dshq_py_ppo_bench.restype = ctypes.c_double
    lib.dshq_py_ppo_bench.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    return float(np.median([lib.dshq_py_ppo_bench(workers, T, E, 1) for _ in range(reps)]))


def update_time_torch(T, E, workers, reps=7):
    import torch
    import dshq.torchnet as tn
    torch.set_num_threads(1)
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    import torch_ppo
    net = dshq.Net(28, 30, 64, 2)
    model = tn.TorchMLP(net).load_block(net.init_params(1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-5)
    rng = np.random.default_rng(0)

    class FakeChunk:  # the arrays a chunk view gives, in private memory
        def __init__(self):
            self.obs = rng.uniform(-1, 1, (T, E, 28)).astype(np.float32)
            self.act = rng.integers(0, 30, (T, E)).astype(np.int32)
            self.rew = rng.normal(0, 0.1, (T, E)).astype(np.float32)
            self.done = (rng.random((T, E)) < 0.01).astype(np.uint8)
            self.trunc = np.zeros((T, E), np.uint8)
            self.logp = np.full((T, E), -np.log(30), np.float32)
            self.value = rng.normal(0, 0.1, (T, E)).astype(np.float32)
            self.final_value = np.zeros((T, E), np.float32)
            self.boot_value = np.zeros(E, np.float32)

    chunks = [FakeChunk() for _ in range(workers)]
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        torch_ppo.update(model, opt, chunks, 28, gamma=0.99, lam=0.95, lr=1e-3, clip=0.2,
                         vf_coef=0.5, ent_coef=0.01, max_gn=0.5, epochs=2, mbs=8)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def monitor(name, proc_list, out, window=10.0):
    """Samples run `name` until every process in proc_list ended; returns
    [(t, win_random, win_scripted)] with t in seconds of training."""
    run = None
    while run is None:
        try:
            run = dshq.Run.attach(name, readonly=True)
        except dshq.DshqError:
            if all(p.poll() is not None for p in proc_list):
                return []
            time.sleep(0.1)
    while run.state == "starting" and not all(p.poll() is not None for p in proc_list):
        time.sleep(0.05)
    t0 = time.monotonic()
    hist, curve = [], []
    try:
        while not all(p.poll() is not None for p in proc_list) and not run.stopping:
            tot = run.worker_totals()
            now = time.monotonic() - t0
            hist.append((now, tot))
            old = next((h for h in hist if h[0] >= now - window), hist[0])
            rates = []
            for k in ("random", "scripted"):
                de = tot["episodes"][k] - old[1]["episodes"][k]
                rates.append((tot["wins"][k] - old[1]["wins"][k]) / de if de >= 20 else None)
            curve.append((round(now, 1), rates[0], rates[1]))
            tel = run.telemetry() or {}
            out.write(json.dumps({"t": round(now, 1), "win_random": rates[0],
                                  "win_scripted": rates[1], "steps": tot["steps"],
                                  "updates": tel.get("updates"),
                                  "wall_s": tel.get("wall_s")}) + "\n")
            out.flush()
            time.sleep(1.0)
    finally:
        run.close()
    return curve


def first(curve, idx, thr):
    return next((c[0] for c in curve if c[idx] is not None and c[idx] >= thr), None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--out", default="/tmp")
    ap.add_argument("--skip-runs", action="store_true")
    a = ap.parse_args()
    dshq_tool = os.path.join(ROOT, "build", "dshq")
    T, E, W = 128, 64, 1

    tc, tt = update_time_c(T, E, W), update_time_torch(T, E, W)
    n = T * E * W
    print("update time per sample (%d samples, 2 epochs x 8 minibatches, 1 thread): "
          "C %.2f us, PyTorch %.2f us, ratio torch/C %.2f" % (n, 1e6 * tc / n, 1e6 * tt / n, tt / tc),
          flush=True)
    if a.skip_runs:
        return 0
    res = {}
    for learner in ("c", "torch"):
        name = "bench-%s-%d" % (learner, os.getpid())
        cmd = [dshq_tool, "train", "--run", name, "--seconds", str(a.seconds), "--quiet",
               "--eval-episodes", "200"]
        procs = []
        if learner == "torch":
            cmd.append("--external-trainer")
        log = open(os.path.join(a.out, "bench-%s.log" % learner), "w")
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
        if learner == "torch":
            procs.append(subprocess.Popen([sys.executable, os.path.join(ROOT, "examples",
                                                                         "torch_ppo.py"), name,
                                           "--quiet", "--seconds", str(a.seconds)],
                                          stdout=log, stderr=subprocess.STDOUT))
        with open(os.path.join(a.out, "bench-%s.jsonl" % learner), "w") as out:
            curve = monitor(name, procs, out)
        for p in procs:
            p.wait()
        res[learner] = (first(curve, 1, 0.9), first(curve, 2, 0.6))
        print("%-5s learner: 90%% vs random at %s s, 60%% vs scripted at %s s (curve %s)" % (
            learner, res[learner][0], res[learner][1],
            os.path.join(a.out, "bench-%s.jsonl" % learner)), flush=True)
    for i, what in enumerate(("90% vs random", "60% vs scripted")):
        c, t = res["c"][i], res["torch"][i]
        print("time to %s: C %s s, PyTorch %s s, ratio torch/C %s" % (
            what, c, t, "%.2f" % (t / c) if c and t else "n/a (not reached)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
