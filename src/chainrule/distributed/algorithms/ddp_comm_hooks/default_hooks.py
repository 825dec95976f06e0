"""The communication hooks PyTorch ships for DistributedDataParallel
(torch.distributed.algorithms.ddp_comm_hooks.default_hooks), over MPI.

`allreduce_hook` does what DDP does without a hook (the average of every rank's gradients);
`fp16_compress_hook` and `bf16_compress_hook` send the gradients as 16-bit floats, half the
bytes, at the price of 16-bit rounding; the wrappers cast any other hook's traffic the same way.
Compression changes the numerics, so it is opt-in, as in PyTorch:

    ddp_model.register_comm_hook(None, default_hooks.fp16_compress_hook)

As in PyTorch, each rank divides by the world size *before* the sum (in 16 bits, so the sum
cannot overflow where the average would not), and the sum adds 16-bit values with each addition
rounded to 16 bits (distributed/transport.py says how MPI does that for bfloat16).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend.dtypes import bfloat16, dtype, float16
from chainrule.distributed.collectives import all_reduce
from chainrule.distributed.grad_bucket import GradBucket
from chainrule.distributed.process_group import GroupMember, ProcessGroup
from chainrule.futures import Future

__all__ = [
    "allreduce_hook",
    "bf16_compress_hook",
    "bf16_compress_wrapper",
    "fp16_compress_hook",
    "fp16_compress_wrapper",
]

Hook = Callable[[Any, GradBucket], Future[Tensor]]


def _group(process_group: ProcessGroup | None) -> ProcessGroup:
    group = process_group if process_group is not None else GroupMember.WORLD
    if group is None:
        raise RuntimeError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    return group


def _first(fut: Future[list[Tensor]]) -> Tensor:
    return fut.value()[0]


def _allreduce_fut(process_group: ProcessGroup | None, tensor: Tensor) -> Future[Tensor]:
    """A Future of the average of `tensor` over the group, computed in place in `tensor`."""
    group = _group(process_group)
    tensor.div_(group.size())  # before the sum, so that a 16-bit sum cannot overflow
    work = all_reduce(tensor, group=group, async_op=True)
    return work.get_future().then(_first)


def allreduce_hook(process_group: ProcessGroup | None, bucket: GradBucket) -> Future[Tensor]:
    """Average the bucket over the ranks of `process_group` (the default group if None), in
    the bucket itself: the same result as DDP without a hook, a starting point for your own.

    >>> import chainrule, chainrule.distributed as dist
    >>> from chainrule import nn
    >>> from chainrule.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook
    >>> dist.init_process_group("single")
    >>> ddp = nn.parallel.DistributedDataParallel(nn.Linear(2, 1))
    >>> ddp.register_comm_hook(None, allreduce_hook)
    >>> ddp(chainrule.ones(3, 2)).sum().backward()
    >>> ddp.module.weight.grad
    tensor([[3., 3.]])
    >>> dist.destroy_process_group()
    """
    return _allreduce_fut(process_group, bucket.buffer())


def _compress_hook(
    to: dtype, process_group: ProcessGroup | None, bucket: GradBucket
) -> Future[Tensor]:
    group = _group(process_group)
    buffer = bucket.buffer()
    compressed = buffer.to(to).div_(group.size())

    def decompress(fut: Future[list[Tensor]]) -> Tensor:
        buffer.copy_(fut.value()[0])  # back into the bucket: no second full-size tensor
        return buffer

    work = all_reduce(compressed, group=group, async_op=True)
    return work.get_future().then(decompress)


def fp16_compress_hook(process_group: ProcessGroup | None, bucket: GradBucket) -> Future[Tensor]:
    """Cast the bucket to float16, divide by the world size, sum over the ranks in float16 and
    cast the average back into the bucket: half the bytes of a float32 all-reduce."""
    return _compress_hook(float16, process_group, bucket)


def bf16_compress_hook(process_group: ProcessGroup | None, bucket: GradBucket) -> Future[Tensor]:
    """As fp16_compress_hook, in bfloat16: float32's range, 8 bits of precision. (PyTorch
    allows it only with NCCL on a GPU; over MPI it runs anywhere.)"""
    return _compress_hook(bfloat16, process_group, bucket)


def _compress_wrapper(to: dtype, hook: Hook) -> Hook:
    def wrapped(hook_state: Any, bucket: GradBucket) -> Future[Tensor]:
        bucket.set_buffer(bucket.buffer().to(to))
        fut = hook(hook_state, bucket)

        def decompress(fut: Future[Tensor]) -> Tensor:
            compressed = bucket.buffer()
            compressed.copy_(fut.value())
            return compressed  # DDP casts it back as it copies it into the gradients

        return fut.then(decompress)

    return wrapped


def fp16_compress_wrapper(hook: Hook) -> Hook:
    """`hook` run on the bucket cast to float16, its result cast back to the bucket's dtype:
    `fp16_compress_wrapper(allreduce_hook)` is `fp16_compress_hook`."""
    wrapped = _compress_wrapper(float16, hook)
    wrapped.__name__ = wrapped.__qualname__ = "fp16_compress_wrapper_hook"
    return wrapped


def bf16_compress_wrapper(hook: Hook) -> Hook:
    """`hook` run on the bucket cast to bfloat16, its result cast back to the bucket's dtype."""
    wrapped = _compress_wrapper(bfloat16, hook)
    wrapped.__name__ = wrapped.__qualname__ = "bf16_compress_wrapper_hook"
    return wrapped
