"""ctypes signatures of libdshq_py.so (python/shim/dshq_py.c), in one place.

Only this module names C functions: when the C API changes, this file and
the shim change, nothing else.  The library is found through, in order:
the environment variable DSHQ_PY_LIB (a path), the build folder of the
source tree this package sits in (../../build/libdshq_py.so), the dynamic
loader's search path.
"""
import ctypes
import os
from ctypes import (POINTER, c_char_p, c_double, c_float, c_int, c_int32, c_int64,
                    c_uint32, c_uint64, c_void_p)

c_uint8_p = POINTER(ctypes.c_uint8)
c_float_p = POINTER(c_float)
c_int32_p = POINTER(c_int32)
c_uint64_p = POINTER(c_uint64)


class Info(ctypes.Structure):
    """struct dpy_info: what a run looks like (shapes, offsets, sizes)."""
    _fields_ = [("T", c_uint32), ("E", c_uint32), ("obs_dim", c_uint32),
                ("n_actions", c_uint32), ("workers", c_uint32), ("hidden", c_uint32),
                ("layers", c_uint32), ("transport", c_uint32), ("n_params", c_uint64),
                ("mlp_shape", c_uint64), ("chunk_bytes", c_uint64), ("chunk_shape", c_uint64),
                ("off", c_uint64 * 10), ("region_size", c_uint64), ("version_base", c_uint64),
                ("updates_base", c_uint64), ("base_addr", c_uint64),
                ("region", ctypes.c_char * 80)]


class Msg(ctypes.Structure):
    """struct dshq_msg (include/dshq/mailbox.h), 64 bytes."""
    _fields_ = [("type", c_uint32), ("version", c_uint32), ("sender_pid", c_int32),
                ("sender_tid", c_uint32), ("sequence", c_uint64), ("sent_ns", c_uint64),
                ("payload", ctypes.c_uint8 * 32)]


# Numbers of the C API that Python needs (include/dshq/*.h, src/run/run.h).
RING_FULL = 1
RING_EMPTY = 2
WEIGHTS_SAME = 0
WEIGHTS_NEW = 1
MAILBOX_EMPTY = 0
MAILBOX_MSG = 1
MAILBOX_FULL = 2
ENODATA = 61
RUN_STARTING, RUN_RUNNING, RUN_STOPPING = 0, 1, 2
MSG_STOP, MSG_PAUSE, MSG_SET_HPARAM, MSG_RESET, MSG_USER = 1, 2, 3, 4, 1024
HPARAM = {"lr": 1, "learning_rate": 1, "ent_coef": 2, "entropy_coef": 2, "shaping": 3,
          "shaping_coef": 3, "clip": 4}


def _candidates():
    env = os.environ.get("DSHQ_PY_LIB")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "..", "..", "build", "libdshq_py.so")
    yield "libdshq_py.so"


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise ImportError("dshq: cannot load libdshq_py.so (build it with `make python` in the "
                      "source tree, or set DSHQ_PY_LIB):\n  " + "\n  ".join(errors))


lib = _load()


def _sig(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


_sig("dshq_py_strerror", c_char_p, c_int)
_sig("dshq_py_info_size", c_uint32)
_sig("dshq_py_run_attach", c_int, c_char_p, c_int, POINTER(c_void_p))
_sig("dshq_py_run_create", c_int, c_char_p, c_char_p, c_char_p, c_uint32, POINTER(c_void_p))
_sig("dshq_py_run_close", None, c_void_p, c_int)
_sig("dshq_py_run_info", c_int, c_void_p, POINTER(Info))
_sig("dshq_py_run_config_text", c_int, c_void_p, c_char_p, c_uint32)
_sig("dshq_py_run_state", c_uint32, c_void_p)
_sig("dshq_py_run_stop", None, c_void_p)
_sig("dshq_py_run_paused", c_int, c_void_p)
_sig("dshq_py_run_set_paused", None, c_void_p, c_int)
_sig("dshq_py_run_trainer_started", None, c_void_p)
_sig("dshq_py_run_set_progress", None, c_void_p, c_double)
_sig("dshq_py_run_worker_totals", None, c_void_p, c_uint64_p)
_sig("dshq_py_consumer_open", c_int, c_void_p)
_sig("dshq_py_poll", c_int, c_void_p, c_int64, c_uint64_p)
_sig("dshq_py_release", c_int, c_void_p, c_uint64)
_sig("dshq_py_chunks_refused", c_uint64, c_void_p)
_sig("dshq_py_weights_adopt", c_int, c_void_p, c_uint64_p, c_uint64_p, c_uint64_p)
_sig("dshq_py_weights_writer", c_int, c_void_p)
_sig("dshq_py_weights_publish", c_int64, c_void_p, c_void_p, c_uint64, c_uint64)
_sig("dshq_py_weights_version", c_uint64, c_void_p)
_sig("dshq_py_post", c_int, c_void_p, c_uint32, c_uint32, c_void_p, c_uint32)
_sig("dshq_py_consume", c_int, c_void_p, POINTER(Msg))
_sig("dshq_py_metrics_count", c_uint32)
_sig("dshq_py_metrics_size", c_uint32)
_sig("dshq_py_metrics_field", c_char_p, c_uint32, POINTER(c_uint32), POINTER(c_int))
_sig("dshq_py_metrics_init", None, c_void_p)
_sig("dshq_py_telemetry_read", c_int, c_void_p, c_void_p, c_uint32)
_sig("dshq_py_telemetry_writer", c_int, c_void_p)
_sig("dshq_py_telemetry_publish", c_int, c_void_p, c_void_p, c_uint32)
_sig("dshq_py_net_new", c_int, c_int, c_int, c_int, c_int, POINTER(c_void_p))
_sig("dshq_py_net_free", None, c_void_p)
_sig("dshq_py_net_params", c_uint64, c_void_p)
_sig("dshq_py_net_shape", c_uint64, c_void_p)
_sig("dshq_py_net_tensor_count", c_int, c_void_p)
_sig("dshq_py_net_tensor", c_char_p, c_void_p, c_int, POINTER(c_int), POINTER(c_int), c_uint64_p)
_sig("dshq_py_net_init_params", None, c_void_p, c_void_p, c_uint64)
_sig("dshq_py_net_forward", None, c_void_p, c_void_p, c_void_p, c_int, c_void_p, c_void_p)
_sig("dshq_py_ppo_loss", c_double, c_void_p, c_void_p, c_int, c_void_p, c_void_p, c_void_p,
     c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p)
_sig("dshq_py_evaluate", c_int, c_void_p, c_void_p, c_int, c_int, c_int, c_uint64, c_int32_p)
_sig("dshq_py_env_new", c_int, c_uint32, c_int, c_uint32, c_uint32, POINTER(c_void_p))
_sig("dshq_py_env_free", None, c_void_p)
_sig("dshq_py_env_obs_dim", c_uint32)
_sig("dshq_py_env_actions", c_uint32)
_sig("dshq_py_env_spec_hash", c_uint64)
_sig("dshq_py_env_reset", None, c_void_p, c_uint64, c_void_p)
_sig("dshq_py_env_step", c_int, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p, c_void_p,
     c_void_p, c_void_p, c_void_p)
_sig("dshq_py_produce", c_int, c_void_p, c_uint32, c_uint64, c_uint64, c_int64)
_sig("dshq_py_hparam_ok", c_int, c_uint32, c_double)
_sig("dshq_py_run_control_refused", None, c_void_p)
_sig("dshq_py_run_set_shaping", None, c_void_p, c_float)
_sig("dshq_py_peek_f32", c_float, c_uint64)
_sig("dshq_py_poke_f32", None, c_uint64, c_float)

if lib.dshq_py_info_size() != ctypes.sizeof(Info):
    raise ImportError("dshq: libdshq_py.so's struct dpy_info is %d bytes, this package expects "
                      "%d: rebuild (make python)" % (lib.dshq_py_info_size(), ctypes.sizeof(Info)))


def strerror(rc):
    return lib.dshq_py_strerror(rc).decode()


def ptr(a):
    """Address of a numpy array's data, for a void * argument."""
    return a.ctypes.data
