"""torch.distributed.algorithms.ddp_comm_hooks.debugging_hooks: a hook that communicates
nothing, to measure DDP without its all-reduces."""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.distributed.grad_bucket import GradBucket
from chainrule.futures import Future

__all__ = ["noop_hook"]


def noop_hook(_: Any, bucket: GradBucket) -> Future[Tensor]:
    """Return the bucket as it is (each rank keeps its own gradients): the time a step takes
    without communication. The model's replicas drift apart; only for measuring."""
    fut: Future[Tensor] = Future()
    fut.set_result(bucket.buffer())
    return fut
