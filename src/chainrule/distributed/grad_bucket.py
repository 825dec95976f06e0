"""What DistributedDataParallel hands a communication hook (torch.distributed.GradBucket): one
bucket of gradients as a flat tensor, and which parameters they belong to.

A hook is `hook(state, bucket) -> Future[Tensor]`: it starts whatever communication it likes on
`bucket.buffer()` and returns a Future of a tensor with the bucket's number of elements, which
DDP writes back into the gradients (nn/parallel/distributed.py, `register_comm_hook`). The
hooks PyTorch ships are in chainrule.distributed.algorithms.ddp_comm_hooks.
"""

from __future__ import annotations

import enum

from chainrule._tensor import Tensor


class GradBucket:
    """One bucket of gradients, as a communication hook sees it.

    The buffer holds the gradients of `parameters()`, flattened and concatenated in that order,
    not yet divided by the world size; `gradients()` are views of it in the parameters' shapes.
    """

    __slots__ = ("_index", "_buffer", "_gradients", "_parameters", "_is_last")

    def __init__(
        self,
        index: int,
        buffer: Tensor,
        gradients: list[Tensor],
        parameters: list[Tensor],
        is_last: bool,
    ) -> None:
        self._index = index
        self._buffer = buffer
        self._gradients = gradients
        self._parameters = parameters
        self._is_last = is_last

    def index(self) -> int:
        """The bucket's position: 0 is the first to be communicated (the last layers')."""
        return self._index

    def buffer(self) -> Tensor:
        """The flat tensor of the bucket's gradients (the one `set_buffer` put, if any)."""
        return self._buffer

    def gradients(self) -> list[Tensor]:
        """Each parameter's gradient, a view of the bucket in the parameter's shape."""
        return list(self._gradients)

    def parameters(self) -> list[Tensor]:
        """The model parameters whose gradients the bucket holds, in the buffer's order."""
        return list(self._parameters)

    def is_last(self) -> bool:
        """Whether this is the last bucket of the iteration (the first layers' gradients)."""
        return self._is_last

    def set_buffer(self, buffer: Tensor) -> None:
        """Replace the tensor `buffer()` returns (a compressing wrapper puts its cast there)."""
        self._buffer = buffer

    def __repr__(self) -> str:
        return (
            f"GradBucket(index={self._index}, numel={self._buffer.numel()}, "
            f"dtype={self._buffer.dtype}, parameters={len(self._parameters)})"
        )


class BuiltinCommHookType(enum.Enum):
    """The hooks `DistributedDataParallel._register_builtin_comm_hook` takes by name (PyTorch
    runs them in C++; here they are the Python ones of ddp_comm_hooks.default_hooks)."""

    ALLREDUCE = 1
    FP16_COMPRESS = 2


__all__ = ["BuiltinCommHookType", "GradBucket"]
