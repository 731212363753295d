"""`dshq train --external-trainer`: the C workers run without a C trainer and
act with the weights a Python trainer publishes, in the MLP's layout."""
import os
import subprocess
import time

import numpy as np
import pytest

import dshq

DSHQ = os.environ.get("DSHQ") or os.path.join(os.path.dirname(__file__), "..", "..", "build",
                                              "dshq")


@pytest.mark.skipif(not os.path.exists(DSHQ), reason="build/dshq not built")
def test_workers_act_with_weights_published_from_python(run_name, tmp_path):
    launcher = subprocess.Popen([DSHQ, "train", "--external-trainer", "--run", run_name,
                                 "--workers", "2", "--envs", "8", "--horizon", "16",
                                 "--seconds", "600", "--eval-episodes", "0", "--quiet",
                                 "--checkpoint-dir", str(tmp_path / "runs")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        run = None
        while run is None:
            try:
                run = dshq.Run.attach(run_name)
            except dshq.DshqError:
                assert launcher.poll() is None, launcher.stdout.read()
                assert time.monotonic() < deadline, "the run's region did not appear"
                time.sleep(0.05)
        net = dshq.Net.of_run(run)
        assert run.poll(timeout=0.5) is None  # no weights yet: the workers wait
        published = {}
        t0 = time.monotonic()
        for v in range(1, 4):
            params = net.init_params(seed=100 + v)
            assert run.publish(params, step=v) == v
            published[v] = params
            if v == 1:
                run.trainer_started()
            # Chunks made with this version: their log-probs are the ones
            # the C network gives with these parameters.
            seen = set()
            while len(seen) < 2:
                c = run.poll(timeout=60)
                assert c is not None, "no chunk within 60 s"
                with c:
                    if c.policy_version != v:
                        assert c.policy_version < v
                        continue
                    seen.add(c.producer_id)
                    logits, value = net.forward(published[v], c.obs.reshape(-1, 28))
                    lse = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + \
                        logits.max(1)
                    act = c.act.reshape(-1)
                    logp = logits[np.arange(act.size), act] - lse
                    np.testing.assert_allclose(c.logp.reshape(-1), logp, atol=2e-5)
                    np.testing.assert_allclose(c.value.reshape(-1), value, atol=2e-5)
        assert run.worker_totals()["chunks"] >= 6
        # A trainer's telemetry says how long it trained: the launcher's
        # summary refuses a record without a finite training time.
        run.publish_metrics(updates=3, steps=3 * 2 * 8 * 16, weights_version=3,
                            wall_s=time.monotonic() - t0)
        run.stop()
        out, _ = launcher.communicate(timeout=60)
        assert launcher.returncode == 0, out
        assert "no C trainer" in out and "updates             3" in out
        run.close()
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
