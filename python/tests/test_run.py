"""Weights, control messages, telemetry and config of a run from Python."""
import os

import numpy as np
import pytest

import dshq


def test_attach_reads_the_config_and_shapes(run_name):
    with dshq.Run.create(run_name, {"workers": 2, "envs": 16, "horizon": 32, "hidden": 32,
                                    "layers": 3, "seed": 99}) as run:
        with dshq.Run.attach(run_name) as other:
            cfg = other.config
            assert cfg["workers"] == 2 and cfg["envs"] == 16 and cfg["horizon"] == 32
            assert cfg["hidden"] == 32 and cfg["layers"] == 3 and cfg["seed"] == 99
            assert (other.T, other.E, other.obs_dim, other.n_actions) == (32, 16, 28, 30)
            assert other.n_params == dshq.Net(28, 30, 32, 3).n_params
            assert other.state == "starting"
        assert run.region == "dshq-" + run_name


def test_create_refuses_bad_config(run_name):
    with pytest.raises(dshq.DshqError, match="lane_slots|power"):
        dshq.Run.create(run_name, {"lane_slots": 3})
    with pytest.raises(dshq.DshqError):
        dshq.Run.create(run_name, "no_such_key = 1")


def test_attach_to_missing_run_raises(run_name):
    with pytest.raises(dshq.DshqError) as e:
        dshq.Run.attach(run_name + "-absent")
    assert e.value.code < 0


def test_publish_and_adopt_across_processes(run_name):
    with dshq.Run.create(run_name, {"workers": 1}) as run:
        w0 = run.adopt()
        assert w0.version == 0 and not w0.valid  # nothing published yet
        p = np.arange(run.n_params, dtype=np.float32) * 0.5
        assert run.publish(p, step=7) == 1
        v = run.adopt()
        assert v.version == 1 and v.step == 7
        np.testing.assert_array_equal(v.params, p)
        assert not v.params.flags.writeable
        with pytest.raises(ValueError):
            v.params[0] = 1
        with pytest.raises(ValueError, match="floats"):
            run.publish(p[:-1])
        # A reader in another process sees exactly what was published.
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                with dshq.Run.attach(run_name) as other:
                    view = other.adopt()
                    ok = view.version == 1 and np.array_equal(view.params, p)
                    code = 0 if ok else 1
            finally:
                os._exit(code)
        _, st = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(st) == 0
        os.close(r), os.close(w)
        # A second publish: the old view is stale, the new one has the data.
        run.publish(p + 1, step=8)
        v2 = run.adopt()
        with pytest.raises(dshq.ReleasedError, match="newer adopt"):
            v.params
        np.testing.assert_array_equal(v2.params, p + 1)
        assert v2.version == 2 and run.weights_version == 2


def test_control_messages_reach_the_consumer(run_name):
    with dshq.Run.create(run_name) as trainer, dshq.Run.attach(run_name) as ctl:
        assert trainer.consume() is None
        assert ctl.post_pause(True) and ctl.post_set("lr", 0.001) and ctl.post_set("clip", 0.3)
        assert ctl.post_reset() and ctl.post_stop()
        got = [trainer.consume() for _ in range(5)]
        assert got[0] == {"type": "pause", "paused": True}
        assert got[1]["type"] == "set" and got[1]["param"] == "lr"
        assert abs(got[1]["value"] - 0.001) < 1e-9
        assert got[2]["param"] == "clip" and abs(got[2]["value"] - 0.3) < 1e-7
        assert got[3] == {"type": "reset"} and got[4] == {"type": "stop"}
        assert trainer.consume() is None
        with pytest.raises(ValueError):
            ctl.post_set("momentum", 1)
        # What a Python trainer does with "set": the C trainer's ranges.
        assert trainer.obey_set(got[1]) and trainer.obey_set(got[2])
        assert not trainer.obey_set({"type": "set", "param": "lr", "value": -1.0})
        assert not trainer.obey_set({"type": "set", "param": "clip", "value": float("nan")})
        assert trainer.obey_set({"type": "set", "param": "shaping", "value": 0.25})


def test_telemetry_round_trip_and_stop_flag(run_name):
    with dshq.Run.create(run_name) as trainer, dshq.Run.attach(run_name, readonly=True) as mon:
        assert mon.telemetry() is None
        trainer.publish_metrics(steps=1234, updates=5, score_ema=0.75, learning_rate=3e-4)
        t = mon.telemetry()
        assert t["steps"] == 1234 and t["updates"] == 5 and t["score_ema"] == 0.75
        assert abs(t["learning_rate"] - 3e-4) < 1e-12
        assert np.isnan(t["entropy"])  # not measured: NaN, as metrics_init says
        assert set(t) == set(dshq.METRICS_DTYPE.names) and len(t) == 28
        trainer.trainer_started()
        assert mon.state == "running"
        trainer.stop()
        assert mon.stopping and mon.state == "stopping"
        totals = mon.worker_totals()
        assert totals["steps"] == 0 and totals["episodes"]["scripted"] == 0
