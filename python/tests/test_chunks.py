"""Chunks of a run as numpy views: shapes, dtypes, every value across
processes, no copy, and the errors of a view used too late."""
import os

import numpy as np
import pytest

import dshq
from dshq._lib import lib
from dshq.core import pattern_chunk

CFG = {"workers": 3, "envs": 8, "horizon": 16, "lane_slots": 4}


def produce_in_child(name, worker, seqs):
    """fork: the child attaches by name and commits chunks seqs on its lane."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with dshq.Run.attach(name) as r:
                code = 0 if all(r.produce_pattern(worker, s, 1, timeout=30) for s in seqs) else 1
        finally:
            os._exit(code)
    return pid


def wait_ok(pid):
    _, st = os.waitpid(pid, 0)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0


@pytest.mark.parametrize("transport", ["lanes", "mpsc"])
def test_every_value_of_every_chunk_from_three_processes(run_name, transport):
    cfg = dict(CFG, transport=transport)
    with dshq.Run.create(run_name, cfg) as run:
        T, E, D = run.T, run.E, run.obs_dim
        assert (T, E, D) == (16, 8, 28)
        n = 20  # per worker, 5x the ring's slots: the ring wraps and blocks
        pids = [produce_in_child(run_name, w, range(1, n + 1)) for w in range(3)]
        last = {0: 0, 1: 0, 2: 0}
        got = 0
        while got < 3 * n:
            c = run.poll(timeout=30)
            assert c is not None, "no chunk within 30 s"
            with c:
                w = c.producer_id
                assert c.seq == last[w] + 1, "per-producer order"
                last[w] = c.seq
                assert c.policy_version == 1
                want = pattern_chunk(T, E, D, w, c.seq)
                arrs = c.arrays()
                for field, dt, shape in (("obs", np.float32, (T, E, D)), ("act", np.int32, (T, E)),
                                         ("rew", np.float32, (T, E)), ("done", np.uint8, (T, E)),
                                         ("trunc", np.uint8, (T, E)), ("logp", np.float32, (T, E)),
                                         ("value", np.float32, (T, E)),
                                         ("final_value", np.float32, (T, E)),
                                         ("boot_value", np.float32, (E,)),
                                         ("final_obs", np.float32, (E, D))):
                    a = arrs[field]
                    assert a.dtype == dt and a.shape == shape, field
                    np.testing.assert_array_equal(a, want[field], err_msg=field)
            got += 1
        for p in pids:
            wait_ok(p)
        assert last == {0: n, 1: n, 2: n}
        assert run.poll(timeout=0) is None
        assert run.chunks_refused == 0


def test_views_are_the_shared_memory_not_copies(run_name):
    with dshq.Run.create(run_name, CFG) as run:
        wait_ok(produce_in_child(run_name, 1, [1]))
        c = run.poll(timeout=30)
        obs = c.obs
        # 1. The array's address lies in this process's mapping of the
        #    region, at the chunk's offset: no buffer of its own.
        mm_base = np.frombuffer(run._mm, np.uint8).ctypes.data
        assert obs.ctypes.data == mm_base + (c.address - run._base) + run._off[0]
        assert not obs.flags.owndata
        # 2. Writing through the view changes the region: the C library
        #    reads the new value through its own mapping of the same bytes.
        c_addr = c.address + run._off[0]
        assert lib.dshq_py_peek_f32(c_addr) == obs[0, 0, 0]
        obs[0, 0, 0] = 12345.5
        assert lib.dshq_py_peek_f32(c_addr) == 12345.5
        # 3. ... and the other way round.
        lib.dshq_py_poke_f32(c_addr + 4 * (D := run.obs_dim), -7.25)
        assert obs[0, 1, 0] == -7.25 and D == 28
        c.release()


def test_released_chunk_and_closed_run_raise(run_name):
    run = dshq.Run.create(run_name, CFG)
    wait_ok(produce_in_child(run_name, 0, [1, 2]))
    c1 = run.poll(timeout=30)
    kept = c1.rew  # an array taken out while the chunk was held
    c1.release()
    with pytest.raises(dshq.ReleasedError, match="released"):
        c1.obs
    with pytest.raises(dshq.ReleasedError):
        c1.arrays()
    c1.release()  # twice: nothing happens
    c2 = run.poll(timeout=30)
    run.close()
    with pytest.raises(dshq.ReleasedError):
        c2.act
    with pytest.raises(dshq.ReleasedError, match="closed"):
        run.poll(0)
    with pytest.raises(dshq.ReleasedError):
        run.config
    # The array taken earlier still points into a live mapping (kept by
    # numpy's reference), never at unmapped memory: reading it is safe.
    assert kept.shape == (16, 8) and np.isfinite(kept).all()


def test_chunk_generator_stops_on_timeout_and_count(run_name):
    with dshq.Run.create(run_name, CFG) as run:
        wait_ok(produce_in_child(run_name, 2, [1, 2, 3]))
        seqs = []
        for c in run.chunks(timeout=5, count=2):
            with c:
                seqs.append(c.seq)
        assert seqs == [1, 2]
        rest = [c for c in run.chunks(timeout=0.2)]
        assert [c.seq for c in rest] == [3]
        rest[0].release()
