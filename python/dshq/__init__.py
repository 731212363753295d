"""dshq: Python over libdshq, the copy-free shared-memory transport of
DrillSergeantHQ, and over its RL core.

    import dshq
    with dshq.Run.attach("default") as run:          # dshq train --run default
        for chunk in run.chunks(timeout=2.0, count=10):
            with chunk:                               # released at the end
                print(chunk.seq, chunk.obs.shape, chunk.rew.mean())

Run: a training run's region (chunks as numpy views, weights adopt/publish,
telemetry, control messages, config).  BallDrillVecEnv: the C env in batch,
Gymnasium vector API shape.  Net: the C MLP's layout, forward pass and PPO
loss (for learners in other frameworks and for cross-checks).  docs/python.md
is the guide.
"""
from .core import (CHUNK_FIELDS, METRICS_DTYPE, Chunk, DshqError, ReleasedError, Run,
                   WeightsView)
from .env import BallDrillVecEnv
from .nn import Net

__all__ = ["Run", "Chunk", "WeightsView", "DshqError", "ReleasedError", "BallDrillVecEnv", "Net",
           "CHUNK_FIELDS", "METRICS_DTYPE"]
__version__ = "1.0.0"
