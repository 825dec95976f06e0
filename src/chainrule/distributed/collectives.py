"""The collectives, with torch.distributed's names, arguments and in-place semantics.

Tensor collectives hand MPI the tensor's own memory: the backend's host view of the array (on
the NumPy backend the array itself), reduced in place with MPI_IN_PLACE, gathered straight into
the output tensor. Nothing is pickled and nothing copied unless the tensor is not contiguous
or lives on a GPU, where the data is staged through a host copy and written back once the
collective completes (no CUDA-aware MPI path yet). Every collective is non-blocking underneath;
with `async_op=True` it returns a `Work` to `wait()` on, else it waits before returning.
Object collectives (`all_gather_object`, `broadcast_object_list`) pickle small Python values.
"""

from __future__ import annotations

import enum
import pickle
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing datetime costs every `import chainrule.nn`
    import datetime

from chainrule._tensor import Tensor
from chainrule.distributed.process_group import ProcessGroup, as_seconds, resolve_group
from chainrule.errors import DTypeError, ShapeError


class ReduceOp(enum.Enum):
    """How all_reduce and reduce_scatter combine the ranks' values. On bool tensors SUM and MAX
    are logical or, PRODUCT and MIN logical and (as NCCL does); AVG needs a floating dtype."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "prod"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


_ON_BOOL = {
    ReduceOp.SUM: "lor",
    ReduceOp.MAX: "lor",
    ReduceOp.BOR: "lor",
    ReduceOp.PRODUCT: "land",
    ReduceOp.MIN: "land",
    ReduceOp.BAND: "land",
    ReduceOp.BXOR: "lxor",
}


def _reduction(label: str, op: Any, tensor: Tensor) -> str:
    """The transport's name for `op` on `tensor`'s dtype."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{label}: op must be a ReduceOp, got {op!r}")
    kind = tensor._array.dtype.kind
    if kind == "b":
        if op not in _ON_BOOL:
            raise DTypeError(f"{label}: {op} needs a floating tensor, got {tensor.dtype}")
        return _ON_BOOL[op]
    if op is ReduceOp.AVG:
        if kind != "f":
            raise DTypeError(f"{label}: {op} needs a floating tensor, got {tensor.dtype}")
        return "sum"
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind == "f":
        raise DTypeError(f"{label}: {op} needs an integer or bool tensor, got {tensor.dtype}")
    return op.value


class _Host:
    """A tensor's data as a contiguous host buffer MPI can use: the array itself when it is a
    contiguous NumPy array, else a host copy that `store()` writes back into the tensor."""

    __slots__ = ("tensor", "buffer", "staged")

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        array = tensor._array
        host = tensor._backend.to_numpy(array)  # no copy on the NumPy backend
        if not host.flags.c_contiguous:
            host = host.copy()
        self.buffer = host
        self.staged = host is not array

    def store(self) -> None:
        tensor = self.tensor
        if self.staged:
            tensor._array[...] = tensor._backend.from_numpy(self.buffer).reshape(tensor.shape)
        tensor._version_counter.value += 1


class Work:
    """A collective in flight (`async_op=True`): `wait()` blocks until it is done and its result
    is in the tensors."""

    def __init__(
        self, group: ProcessGroup, label: str, requests: list, finish: Callable[[], None]
    ) -> None:
        self._group = group
        self._label = label
        self._requests = requests
        self._finish: Callable[[], None] | None = finish

    def _complete(self) -> None:
        finish, self._finish = self._finish, None
        if finish is not None:
            finish()

    def wait(self, timeout: datetime.timedelta | float | None = None) -> bool:
        if self._finish is not None:
            seconds = None if timeout is None else as_seconds(timeout)  # None: the group's
            self._group.wait(self._requests, self._label, seconds)
            self._complete()
        return True

    def is_completed(self) -> bool:
        if self._finish is not None and all(request.Test() for request in self._requests):
            self._complete()
        return self._finish is None

    def is_success(self) -> bool:
        return self.is_completed()

    def __repr__(self) -> str:
        state = "completed" if self._finish is None else "pending"
        return f"Work({self._label}, {state})"


def _start(
    group: ProcessGroup, label: str, requests: list, finish: Callable[[], None], async_op: bool
) -> Work | None:
    work = Work(group, label, requests, finish)
    if async_op:
        return work
    work.wait()
    return None


def _check_tensor(label: str, name: str, tensor: Any) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"{label}: expected parameter `{name}` of type Tensor but got {type(tensor)} instead"
        )


def _describe(tensor: Tensor) -> str:
    return f"shape={tuple(tensor.shape)}, dtype={tensor.dtype}"


def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """Combine `tensor` across the ranks of `group` with `op`, in place on every rank.

    >>> import chainrule, chainrule.distributed as dist
    >>> dist.init_process_group("single")
    >>> t = chainrule.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)
    >>> t
    tensor([1., 2.])
    >>> dist.destroy_process_group()
    """
    label = "all_reduce"
    _check_tensor(label, "tensor", tensor)
    found = resolve_group(group, label)
    if found is None:
        return None
    reduction = _reduction(label, op, tensor)
    found.check_same_call(label, f"{_describe(tensor)}, op={op.name}")
    host = _Host(tensor)
    request = found.transport.allreduce(host.buffer, reduction)

    def finish() -> None:
        if op is ReduceOp.AVG:
            host.buffer /= found.size()
        host.store()

    return _start(found, label, [request], finish, async_op)


def _root(label: str, found: ProcessGroup, src: int | None, group_src: int | None) -> int:
    """The group rank of the source, given as a global rank `src` or a group rank."""
    if (src is None) == (group_src is None):
        raise ValueError(f"{label}: give exactly one of src and group_src")
    if group_src is not None:
        if not 0 <= group_src < found.size():
            raise ValueError(f"{label}: group_src {group_src} is out of range for {found!r}")
        return group_src
    if src not in found.ranks:
        raise ValueError(f"{label}: rank {src} is not part of {found!r}")
    return found.ranks.index(src)


def broadcast(
    tensor: Tensor,
    src: int | None = None,
    group: Any = None,
    async_op: bool = False,
    group_src: int | None = None,
) -> Work | None:
    """Copy `tensor` of rank `src` (a global rank) into `tensor` on every rank of `group`."""
    label = "broadcast"
    _check_tensor(label, "tensor", tensor)
    found = resolve_group(group, label)
    if found is None:
        return None
    root = _root(label, found, src, group_src)
    found.check_same_call(label, f"{_describe(tensor)}, src={found.ranks[root]}")
    host = _Host(tensor)
    request = found.transport.broadcast(host.buffer, root)
    return _start(found, label, [request], host.store, async_op)


def all_gather_into_tensor(
    output_tensor: Tensor, input_tensor: Tensor, group: Any = None, async_op: bool = False
) -> Work | None:
    """Every rank's `input_tensor`, in rank order, into `output_tensor`: world_size times the
    input's size, either concatenated along dim 0 or stacked on a new leading dim."""
    label = "all_gather_into_tensor"
    _check_tensor(label, "output_tensor", output_tensor)
    _check_tensor(label, "input_tensor", input_tensor)
    found = resolve_group(group, label)
    if found is None:
        return None
    _check_sizes(label, output_tensor, input_tensor, found.size(), "output", "input")
    found.check_same_call(label, _describe(input_tensor))
    source = _Host(input_tensor)
    target = _Host(output_tensor)
    request = found.transport.allgather(source.buffer, target.buffer)
    return _start(found, label, [request], target.store, async_op)


def reduce_scatter_tensor(
    output: Tensor,
    input: Tensor,  # noqa: A002 - PyTorch's name
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Combine `input` (world_size times `output`'s size) across ranks with `op` and give each
    rank its slice, in rank order, in `output`."""
    label = "reduce_scatter_tensor"
    _check_tensor(label, "output", output)
    _check_tensor(label, "input", input)
    found = resolve_group(group, label)
    if found is None:
        return None
    _check_sizes(label, input, output, found.size(), "input", "output")
    reduction = _reduction(label, op, input)
    found.check_same_call(label, f"{_describe(input)}, op={op.name}")
    source = _Host(input)
    target = _Host(output)
    request = found.transport.reduce_scatter(source.buffer, target.buffer, reduction)

    def finish() -> None:
        if op is ReduceOp.AVG:
            target.buffer /= found.size()
        target.store()

    return _start(found, label, [request], finish, async_op)


def _check_sizes(
    label: str, whole: Tensor, part: Tensor, size: int, whole_name: str, part_name: str
) -> None:
    if whole.dtype is not part.dtype:
        raise DTypeError(
            f"{label}: {whole_name} and {part_name} must have the same dtype, got "
            f"{whole.dtype} and {part.dtype}"
        )
    if whole.numel() != size * part.numel():
        raise ShapeError(
            f"{label}: {whole_name} of shape {tuple(whole.shape)} must hold world_size ({size}) "
            f"times the {part_name} of shape {tuple(part.shape)}"
        )


def all_gather(
    tensor_list: list[Tensor], tensor: Tensor, group: Any = None, async_op: bool = False
) -> Work | None:
    """Every rank's `tensor` into `tensor_list[rank]` (one tensor per rank, same size)."""
    label = "all_gather"
    _check_tensor(label, "tensor", tensor)
    found = resolve_group(group, label)
    if found is None:
        return None
    if len(tensor_list) != found.size():
        raise ValueError(
            f"{label}: tensor_list has {len(tensor_list)} tensors for {found.size()} ranks"
        )
    for index, item in enumerate(tensor_list):
        _check_tensor(label, f"tensor_list[{index}]", item)
        _check_sizes(label, item, tensor, 1, f"tensor_list[{index}]", "tensor")
    found.check_same_call(label, _describe(tensor))
    source = _Host(tensor)
    xp = tensor._backend.xp
    gathered = xp.empty((found.size(), *tensor.shape), dtype=tensor._array.dtype)
    target = _Host(Tensor._from_array(gathered, tensor._backend))
    request = found.transport.allgather(source.buffer, target.buffer)

    def finish() -> None:
        target.store()
        for index, item in enumerate(tensor_list):
            item._array[...] = gathered[index].reshape(item.shape)
            item._version_counter.value += 1

    return _start(found, label, [request], finish, async_op)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank of `group` has reached this call."""
    found = resolve_group(group, "barrier")
    if found is None:
        return None
    found.check_same_call("barrier", "")
    return _start(found, "barrier", [found.transport.barrier()], _nothing, async_op)


def _nothing() -> None:
    pass


def all_gather_object(object_list: list, obj: Any, group: Any = None) -> None:
    """Every rank's picklable `obj` into `object_list[rank]` (for small metadata: tensors go
    through the tensor collectives, which never pickle)."""
    label = "all_gather_object"
    found = resolve_group(group, label)
    if found is None:
        return
    if len(object_list) != found.size():
        raise ValueError(
            f"{label}: object_list has {len(object_list)} entries for {found.size()} ranks"
        )
    found.check_same_call(label, "")
    payload = pickle.dumps(obj)
    parts = found.transport.allgather_bytes(payload, lambda r: found.wait(r, label))
    for index, part in enumerate(parts):
        object_list[index] = pickle.loads(part)


def broadcast_object_list(
    object_list: list,
    src: int | None = None,
    group: Any = None,
    device: Any = None,
    group_src: int | None = None,
) -> None:
    """Replace the entries of `object_list` on every rank by those of rank `src`."""
    label = "broadcast_object_list"
    found = resolve_group(group, label)
    if found is None:
        return
    root = _root(label, found, 0 if src is None and group_src is None else src, group_src)
    found.check_same_call(label, f"{len(object_list)} objects, src={found.ranks[root]}")
    mine = pickle.dumps(list(object_list)) if found.rank() == root else None
    payload = found.transport.broadcast_bytes(mine, root, lambda r: found.wait(r, label))
    received = pickle.loads(payload)
    object_list[: len(received)] = received


def wait_seconds(group: Any = None) -> float:
    """Seconds this process has spent so far waiting for other ranks in `group`'s collectives
    (the communication a rank could not hide behind computation)."""
    found = resolve_group(group, "wait_seconds")
    return 0.0 if found is None else found.wait_seconds


__all__ = [
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "reduce_scatter_tensor",
    "wait_seconds",
]
