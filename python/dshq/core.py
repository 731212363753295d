"""Runs, chunks and weights of DrillSergeantHQ as numpy views of shared memory.

A Run is one process's attachment to a training run's region
(/dev/shm/dshq-NAME).  The C library (through libdshq_py.so) does every
protocol step: polling and releasing chunks, pinning weights snapshots,
publishing, posting.  Python maps the same region file once more (the
standard mmap module) and lays numpy arrays over the bytes the C side
points at, so nothing on the data path is copied.

Lifetimes:
  Chunk        valid from poll until release(); its arrays are the slot's
               bytes in the ring.  After release the producer reuses the slot,
               so every attribute of a released Chunk raises ReleasedError.
  WeightsView  valid until the same Run adopts again or detaches; after that
               .params raises ReleasedError.
  Run          after close() every Chunk and WeightsView of it raises
               ReleasedError.  numpy arrays taken out of a view earlier hold a
               reference to the Python mapping of the region, so they never
               point at unmapped memory (they may see newer data: copy what you
               keep, e.g. np.array(chunk.obs)).
"""
import mmap
import os

import numpy as np

from . import _lib
from ._lib import lib

__all__ = ["DshqError", "ReleasedError", "Run", "Chunk", "WeightsView", "METRICS_DTYPE"]


class DshqError(OSError):
    """A libdshq call failed: .code is its negative return code."""

    def __init__(self, what, code):
        self.code = code
        super().__init__("%s: %s (%d)" % (what, _lib.strerror(code), code))


class ReleasedError(RuntimeError):
    """A view was used after its chunk was released, its weights snapshot was
    replaced, or its run was closed."""


def _check(what, rc):
    if rc < 0:
        raise DshqError(what, rc)
    return rc


def _metrics_dtype():
    names, formats, offsets = [], [], []
    for i in range(lib.dshq_py_metrics_count()):
        off, dbl = _lib.c_uint32(), _lib.c_int()
        name = lib.dshq_py_metrics_field(i, off, dbl)
        names.append(name.decode())
        formats.append("<f8" if dbl.value else "<u8")
        offsets.append(off.value)
    return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                     "itemsize": lib.dshq_py_metrics_size()})


METRICS_DTYPE = _metrics_dtype()

# The chunk's arrays: name, dtype, shape as a function of (T, E, D).  The
# order is that of the offsets in struct dpy_info (include/dshq/chunk.h).
_CHUNK_ARRAYS = (
    ("obs", np.float32, lambda T, E, D: (T, E, D)),
    ("act", np.int32, lambda T, E, D: (T, E)),
    ("rew", np.float32, lambda T, E, D: (T, E)),
    ("done", np.uint8, lambda T, E, D: (T, E)),
    ("trunc", np.uint8, lambda T, E, D: (T, E)),
    ("logp", np.float32, lambda T, E, D: (T, E)),
    ("value", np.float32, lambda T, E, D: (T, E)),
    ("final_value", np.float32, lambda T, E, D: (T, E)),
    ("boot_value", np.float32, lambda T, E, D: (E,)),
    ("final_obs", np.float32, lambda T, E, D: (E, D)),
)
CHUNK_FIELDS = tuple(name for name, _, _ in _CHUNK_ARRAYS)


def pattern_chunk(T, E, D, worker, seq):
    """The arrays Run.produce_pattern writes (dshq_py_produce's formula)."""
    def pat(n, array):
        i = np.arange(n, dtype=np.uint64)
        v = (np.uint64(seq) * np.uint64(7919) + i * np.uint64(31) + np.uint64(array * 1009)) \
            % np.uint64(65521)
        return v.astype(np.float32) + np.float32(worker * 65536.0)
    te = T * E
    k = np.uint64(seq) + np.arange(te, dtype=np.uint64)
    done = (k % np.uint64(7) == 0)
    return {"obs": pat(te * D, 0).reshape(T, E, D), "act": (k % np.uint64(30)).astype(np.int32)
            .reshape(T, E), "rew": pat(te, 2).reshape(T, E),
            "done": done.astype(np.uint8).reshape(T, E),
            "trunc": ((k % np.uint64(11) == 0) & ~done).astype(np.uint8).reshape(T, E),
            "logp": -pat(te, 5).reshape(T, E), "value": pat(te, 6).reshape(T, E),
            "final_value": pat(te, 7).reshape(T, E), "boot_value": pat(E, 8),
            "final_obs": pat(E * D, 9).reshape(E, D)}


class Chunk:
    """One committed rollout chunk, read in place (include/dshq/chunk.h).

    Arrays (numpy views of the slot, no copy), with E envs, T steps, D =
    obs_dim: obs f32 [T,E,D], act i32 [T,E], rew f32 [T,E], done u8 [T,E],
    trunc u8 [T,E], logp f32 [T,E], value f32 [T,E], final_value f32 [T,E],
    boot_value f32 [E], final_obs f32 [E,D].  Header: producer_id, seq,
    policy_version.  Use as a context manager, or call release().
    """

    def __init__(self, run, addr):
        self._run = run
        self._addr = addr
        self._off = addr - run._base
        self._live = True
        hdr = np.ndarray((8,), dtype="<u8", buffer=run._mm, offset=self._off)
        self.producer_id = int(hdr[1]) & 0xffffffff
        self.seq = int(hdr[2])
        self.policy_version = int(hdr[3])

    def _view(self, i):
        if not self._live or self._run._closed:
            raise ReleasedError("chunk seq %d of producer %d was %s: its slot belongs to the "
                                "producer again" % (self.seq, self.producer_id, "released"
                                                    if not self._live else "left by close()"))
        r = self._run
        name, dt, shape = _CHUNK_ARRAYS[i]
        return np.ndarray(shape(r.T, r.E, r.obs_dim), dtype=dt, buffer=r._mm,
                          offset=self._off + r._off[i])

    @property
    def address(self):
        """The chunk's address in the C library's mapping of the region."""
        return self._addr

    @property
    def released(self):
        return not self._live

    def release(self):
        """Returns the slot to its producer; every view of it is dead after."""
        if self._live:
            self._live = False
            self._run._release(self)

    def arrays(self):
        """All arrays, as a dict name -> numpy view."""
        return {name: self._view(i) for i, name in enumerate(CHUNK_FIELDS)}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    def __repr__(self):
        return "<dshq.Chunk producer %d seq %d policy v%d%s>" % (
            self.producer_id, self.seq, self.policy_version, "" if self._live else " released")


def _chunk_property(i, name):
    return property(lambda self: self._view(i), doc="chunk array %s (a view)" % name)


for _i, _name in enumerate(CHUNK_FIELDS):
    setattr(Chunk, _name, _chunk_property(_i, _name))


class WeightsView:
    """The newest weights snapshot, pinned: .params is a read-only float32
    view [n_params] of the region, unchanged until the same Run adopts again
    or closes.  .version and .step as the writer published them."""

    def __init__(self, run, addr, version, step, gen):
        self._run, self._addr, self._gen = run, addr, gen
        self.version, self.step = version, step

    @property
    def valid(self):
        return self._gen == self._run._adopt_gen and not self._run._closed and self._addr != 0

    @property
    def params(self):
        if not self.valid:
            raise ReleasedError("weights view v%d was replaced by a newer adopt() or its run was "
                                "closed" % self.version)
        a = np.ndarray((self._run.n_params,), dtype=np.float32, buffer=self._run._mm,
                       offset=self._addr - self._run._base)
        a.flags.writeable = False
        return a

    def __repr__(self):
        return "<dshq.WeightsView v%d step %d%s>" % (self.version, self.step,
                                                     "" if self.valid else " stale")


def _parse_config(text):
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        k, v = (s.strip() for s in line.split("=", 1))
        for conv in (int, float):
            try:
                v = conv(v)
                break
            except ValueError:
                pass
        out[k] = v
    return out


class Run:
    """One attachment to a run's region.  Run.attach("NAME") (the run of
    `dshq train --run NAME`, region dshq-NAME) or Run.create("NAME", config)
    for tests and tools.  A Run belongs to the thread that made it."""

    def __init__(self, handle, owner, readonly):
        self._h = handle
        self._owner = owner
        self._closed = False
        self._held = {}
        self._adopt_gen = 0
        self._consumer = False
        info = _lib.Info()
        lib.dshq_py_run_info(self._h, info)
        self.T, self.E, self.obs_dim = info.T, info.E, info.obs_dim
        self.n_actions, self.n_params = info.n_actions, info.n_params
        self.workers, self.hidden, self.layers = info.workers, info.hidden, info.layers
        self.transport = "mpsc" if info.transport == 1 else "lanes"
        self.chunk_bytes, self.chunk_shape, self.mlp_shape = (info.chunk_bytes, info.chunk_shape,
                                                              info.mlp_shape)
        self.region = info.region.decode()
        self.version_base = info.version_base
        self._off = list(info.off)
        self._base = info.base_addr
        fd = os.open("/dev/shm/" + self.region, os.O_RDONLY if readonly else os.O_RDWR)
        try:
            self._mm = mmap.mmap(fd, info.region_size,
                                 access=mmap.ACCESS_READ if readonly else mmap.ACCESS_WRITE)
        finally:
            os.close(fd)

    # ---- life cycle -----------------------------------------------------
    @staticmethod
    def _region_name(name):
        return name if name.startswith("dshq-") else "dshq-" + name

    @classmethod
    def attach(cls, name, readonly=False):
        """Attaches to run NAME (or region dshq-NAME); validates the region,
        its sections and its config (run_attach)."""
        h = _lib.c_void_p()
        _check("attach %s" % name, lib.dshq_py_run_attach(cls._region_name(name).encode(),
                                                          1 if readonly else 0, h))
        return cls(h, False, readonly)

    @classmethod
    def create(cls, name, config=None):
        """Creates run NAME (region dshq-NAME) with the defaults and config
        (a dict of `dshq train --print-config` keys, "_" for "-" allowed, or
        key = value text);
        close() removes it."""
        if isinstance(config, dict):
            config = "\n".join("%s = %s" % (k.replace("_", "-"), v) for k, v in config.items())
        err = _lib.ctypes.create_string_buffer(512)
        h = _lib.c_void_p()
        rc = lib.dshq_py_run_create(name.encode(), (config or "").encode(), err, 512, h)
        if rc < 0:
            raise DshqError("create %s%s" % (name, ": " + err.value.decode()
                                              if err.value else ""), rc)
        return cls(h, True, False)

    def close(self):
        """Releases held chunks and every channel role, detaches (a created
        run is removed).  Views of this run raise ReleasedError after."""
        if self._closed:
            return
        for c in list(self._held.values()):
            c._live = False
        self._held.clear()
        self._closed = True
        lib.dshq_py_run_close(self._h, 1)
        self._h = None
        self._mm = None  # unmapped when the last array taken from a view dies

    detach = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if not getattr(self, "_closed", True):
            self.close()

    def _live(self):
        if self._closed:
            raise ReleasedError("run %s was closed" % self.region)
        return self._h

    # ---- config and state ----------------------------------------------
    @property
    def config_text(self):
        buf = _lib.ctypes.create_string_buffer(8192)
        n = _check("config", lib.dshq_py_run_config_text(self._live(), buf, 8192))
        return buf.raw[:n].decode()

    @property
    def config(self):
        """The run's training config: a dict of `dshq train --print-config`
        keys (spelled as there: "lane-slots") to numbers or names."""
        return _parse_config(self.config_text)

    @property
    def state(self):
        return ("starting", "running", "stopping")[min(lib.dshq_py_run_state(self._live()), 2)]

    @property
    def stopping(self):
        return lib.dshq_py_run_state(self._live()) == _lib.RUN_STOPPING

    @property
    def paused(self):
        return bool(lib.dshq_py_run_paused(self._live()))

    def stop(self):
        """Raises the run's stop flag: every role returns soon."""
        lib.dshq_py_run_stop(self._live())

    def worker_totals(self):
        """Sums of the workers' counters (steps, chunks, and episodes, wins,
        losses per opponent: random, scripted, self)."""
        a = (_lib.c_uint64 * 13)()
        lib.dshq_py_run_worker_totals(self._live(), a)
        v = list(a)
        opp = ("random", "scripted", "self")
        ret = v[11] - (1 << 64) if v[11] >= 1 << 63 else v[11]
        return {"steps": v[0], "chunks": v[1],
                "episodes": dict(zip(opp, v[2:5])), "wins": dict(zip(opp, v[5:8])),
                "losses": dict(zip(opp, v[8:11])), "return_sum": ret / 1e6, "length_sum": v[12]}

    # ---- chunks ----------------------------------------------------------
    def poll(self, timeout=1.0):
        """The next committed chunk (this Run becomes the run's consumer on
        first use), or None when none arrives within timeout seconds."""
        h = self._live()
        if not self._consumer:
            _check("open the rollouts consumer", lib.dshq_py_consumer_open(h))
            self._consumer = True
        addr = _lib.c_uint64()
        rc = lib.dshq_py_poll(h, int(timeout * 1e9) if timeout >= 0 else -1, addr)
        if rc == _lib.RING_EMPTY:
            return None
        _check("poll", rc)
        c = Chunk(self, addr.value)
        self._held[addr.value] = c
        return c

    def chunks(self, timeout=1.0, count=None):
        """Yields chunks as they arrive until the run stops, count chunks
        were yielded, or none came within timeout seconds.  The caller
        releases each (with chunk: ... does)."""
        n = 0
        while count is None or n < count:
            if self.stopping:
                return
            c = self.poll(timeout)
            if c is None:
                return
            n += 1
            yield c

    def _release(self, chunk):
        self._held.pop(chunk._addr, None)
        if not self._closed:
            _check("release", lib.dshq_py_release(self._h, chunk._addr))

    @property
    def chunks_refused(self):
        """Chunks that failed dshq_chunk_check and were released unread."""
        return lib.dshq_py_chunks_refused(self._live())

    def produce_pattern(self, worker, seq, policy_version=1, timeout=5.0):
        """Tests and tools: writes one chunk on lane (or MPSC producer)
        `worker` whose values follow from (worker, seq) (pattern_chunk gives
        them) and commits it.  False when the ring stayed full for timeout s."""
        rc = _check("produce", lib.dshq_py_produce(self._live(), worker, seq, policy_version,
                                                   int(timeout * 1e9)))
        return rc == 0

    # ---- weights ---------------------------------------------------------
    def adopt(self):
        """Pins the newest weights snapshot and returns it as a WeightsView
        (version 0 and no .params while nothing was published yet).  The
        previous view of this Run becomes stale."""
        p, v, s = _lib.c_uint64(), _lib.c_uint64(), _lib.c_uint64()
        _check("adopt", lib.dshq_py_weights_adopt(self._live(), p, v, s))
        self._adopt_gen += 1
        return WeightsView(self, p.value, v.value, s.value, self._adopt_gen)

    @property
    def weights_version(self):
        return lib.dshq_py_weights_version(self._live())

    def publish(self, params, step=0):
        """Publishes params (float32, n_params values in the MLP's layout;
        dshq.nn describes it) as the newest snapshot; returns its version.
        This Run becomes the run's weights writer on first use (refused with
        EBUSY while another live process is)."""
        h = self._live()
        a = np.ascontiguousarray(params, dtype=np.float32).reshape(-1)
        if a.size != self.n_params:
            raise ValueError("publish: %d floats, the network has %d" % (a.size, self.n_params))
        _check("become the weights writer", lib.dshq_py_weights_writer(h))
        return _check("publish", lib.dshq_py_weights_publish(h, _lib.ptr(a), a.size, step))

    # ---- control ---------------------------------------------------------
    def post(self, msg_type, version=1, payload=b""):
        """Posts a control message to the run's trainer.  False when the
        mailbox is full."""
        payload = bytes(payload)
        rc = _check("post", lib.dshq_py_post(self._live(), msg_type, version, payload,
                                             len(payload)))
        return rc != _lib.MAILBOX_FULL

    def post_stop(self):
        return self.post(_lib.MSG_STOP)

    def post_pause(self, paused=True):
        return self.post(_lib.MSG_PAUSE, 1, np.array([1 if paused else 0] + [0] * 7,
                                                     dtype="<u4").tobytes())

    def post_reset(self):
        return self.post(_lib.MSG_RESET)

    def post_set(self, name, value):
        """Sets a hyperparameter: lr, ent_coef, shaping or clip."""
        if name not in _lib.HPARAM:
            raise ValueError("unknown hyperparameter %r (one of %s)" % (name, sorted(_lib.HPARAM)))
        p = np.zeros(8, dtype="<u4")
        p[0] = _lib.HPARAM[name]
        p[1:2] = np.array([value], dtype="<f4").view("<u4")
        return self.post(_lib.MSG_SET_HPARAM, 1, p.tobytes())

    def consume(self):
        """Trainer side: the next control message as a dict (type: stop,
        pause, set, reset), or None.  This Run becomes the mailbox's consumer."""
        m = _lib.Msg()
        rc = _check("consume", lib.dshq_py_consume(self._live(), m))
        if rc != _lib.MAILBOX_MSG:
            return None
        pl = bytes(m.payload)
        if m.type == _lib.MSG_STOP:
            return {"type": "stop"}
        if m.type == _lib.MSG_RESET:
            return {"type": "reset"}
        if m.type == _lib.MSG_PAUSE:
            return {"type": "pause", "paused": bool(np.frombuffer(pl[:4], "<u4")[0])}
        names = {1: "lr", 2: "ent_coef", 3: "shaping", 4: "clip"}
        return {"type": "set", "param": names.get(int(np.frombuffer(pl[:4], "<u4")[0]), "?"),
                "value": float(np.frombuffer(pl[4:8], "<f4")[0])}

    def obey_set(self, msg):
        """Trainer side, for a "set" message: False (and counted in the run's
        ctl_refused, as the C trainer does) when the value is out of the
        parameter's range; True otherwise.  A shaping value is applied here
        (the workers read it from the run block); lr, ent_coef and clip are
        the caller's to apply."""
        num = _lib.HPARAM.get(msg.get("param"), 0)
        if not lib.dshq_py_hparam_ok(num, float(msg.get("value", float("nan")))):
            lib.dshq_py_run_control_refused(self._live())
            return False
        if msg["param"] == "shaping":
            lib.dshq_py_run_set_shaping(self._live(), float(msg["value"]))
        return True

    def set_paused(self, paused):
        lib.dshq_py_run_set_paused(self._live(), 1 if paused else 0)

    # ---- telemetry -------------------------------------------------------
    def telemetry(self):
        """The newest metrics the trainer published, as a dict (None before
        the first)."""
        buf = np.zeros(1, dtype=METRICS_DTYPE)
        rc = lib.dshq_py_telemetry_read(self._live(), _lib.ptr(buf), METRICS_DTYPE.itemsize)
        if rc == -_lib.ENODATA:
            return None
        _check("telemetry", rc)
        return {k: buf[k][0].item() for k in METRICS_DTYPE.names}

    def publish_metrics(self, **fields):
        """Trainer side: publishes struct metrics (fields as named by
        telemetry(); the others 'not measured': 0 or NaN) and beats the
        trainer's heartbeat."""
        h = self._live()
        _check("become the telemetry writer", lib.dshq_py_telemetry_writer(h))
        buf = np.zeros(1, dtype=METRICS_DTYPE)
        lib.dshq_py_metrics_init(_lib.ptr(buf))
        for k, v in fields.items():
            buf[k] = v
        _check("publish metrics", lib.dshq_py_telemetry_publish(h, _lib.ptr(buf),
                                                                METRICS_DTYPE.itemsize))

    # ---- trainer duties ----------------------------------------------------
    def trainer_started(self):
        """Tells the workers and monitors training began (state running)."""
        lib.dshq_py_run_trainer_started(self._live())

    def set_progress(self, progress):
        """Training progress 0..1: the workers' schedules (shaping, opponents)."""
        lib.dshq_py_run_set_progress(self._live(), float(progress))

    def __repr__(self):
        return "<dshq.Run %s T=%d E=%d obs_dim=%d workers=%d %s>" % (
            self.region, self.T, self.E, self.obs_dim, self.workers,
            "closed" if self._closed else "attached")
