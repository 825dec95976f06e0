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
from chainrule.futures import Future


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
        if kind not in "fV":
            raise DTypeError(f"{label}: {op} needs a floating tensor, got {tensor.dtype}")
        return "sum"
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind in "fV":
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
    is in the tensors; `get_future()` is a Future of the output tensors, for `then()` chains."""

    def __init__(
        self,
        group: ProcessGroup,
        label: str,
        requests: list,
        finish: Callable[[], None],
        outputs: list[Tensor] | None = None,
    ) -> None:
        self._group = group
        self._label = label
        self._requests = requests
        self._finish: Callable[[], None] | None = finish
        self._outputs = [] if outputs is None else outputs
        self._future: Future | None = None

    def _complete(self) -> None:
        finish, self._finish = self._finish, None
        if finish is not None:
            finish()
            if self._future is not None:
                self._future.set_result(self._outputs)

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

    def get_future(self) -> Future[list[Tensor]]:
        """A Future completed with the collective's output tensors (a list: `[tensor]` for
        all_reduce and broadcast, the output tensor or list for the gathers, `[]` for barrier)
        once it is done. Nothing completes it behind the scenes: its `wait()` waits on this
        Work, its `done()` checks on it."""
        if self._future is None:
            future: Future[list[Tensor]] = Future()
            if self._finish is None:
                future.set_result(self._outputs)
            else:
                future._drive = self._drive_future
                future._poll = self.is_completed
                future._nudge = self._progress
            self._future = future
        return self._future

    def _drive_future(self) -> None:
        """Wait for the collective on behalf of its Future, which takes any error."""
        try:
            self.wait()
        except Exception as error:
            if self._future is not None and not self._future._done:
                self._future.set_exception(error)

    def _progress(self) -> None:
        """Let MPI move this collective along, without completing it here."""
        if self._finish is not None:
            for request in self._requests:
                request.Test()

    def __repr__(self) -> str:
        state = "completed" if self._finish is None else "pending"
        return f"Work({self._label}, {state})"


def _start(
    group: ProcessGroup,
    label: str,
    requests: list,
    finish: Callable[[], None],
    async_op: bool,
    outputs: list[Tensor],
) -> Work | None:
    work = Work(group, label, requests, finish, outputs)
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

    return _start(found, label, [request], finish, async_op, [tensor])


def shared_sum(
    tensor: Tensor, own_part: Callable[[int, int, Any], None], group: Any = None
) -> Work | None:
    """Start a sum (async) of `tensor`, a flat tensor over ProcessGroup.shared_array's memory,
    whose own part (transport.shared_part) this rank has not written: `own_part(start, stop,
    out)` writes this rank's input for those elements into `out` when the sum needs them.
    DDP's buckets: it saves copying that part of each gradient in."""
    label = "all_reduce"
    found = resolve_group(group, label)
    if found is None:
        return None
    found.check_same_call(label, f"{_describe(tensor)}, op=SUM")
    host = _Host(tensor)
    request = found.transport.allreduce(host.buffer, "sum", own_part)
    return _start(found, label, [request], host.store, True, [tensor])


def _root(
    label: str, found: ProcessGroup, rank: int | None, group_rank: int | None, name: str = "src"
) -> int:
    """The group rank of a source or destination, given as a global rank or a group rank."""
    if (rank is None) == (group_rank is None):
        raise ValueError(f"{label}: give exactly one of {name} and group_{name}")
    if group_rank is not None:
        if not 0 <= group_rank < found.size():
            raise ValueError(f"{label}: group_{name} {group_rank} is out of range for {found!r}")
        return group_rank
    if rank not in found.ranks:
        raise ValueError(f"{label}: rank {rank} is not part of {found!r}")
    return found.ranks.index(rank)


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
    return _start(found, label, [request], host.store, async_op, [tensor])


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
    return _start(found, label, [request], target.store, async_op, [output_tensor])


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

    return _start(found, label, [request], finish, async_op, [output])


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
    _check_list(label, "tensor_list", tensor_list, tensor, found.size())
    found.check_same_call(label, _describe(tensor))
    source = _Host(tensor)
    gathered = _stacked_like(tensor, found.size())
    target = _Host(gathered)
    request = found.transport.allgather(source.buffer, target.buffer)

    def finish() -> None:
        target.store()
        _unstack_into(gathered, tensor_list)

    return _start(found, label, [request], finish, async_op, list(tensor_list))


def reduce(
    tensor: Tensor,
    dst: int | None = None,
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
    group_dst: int | None = None,
) -> Work | None:
    """Combine `tensor` over the ranks with `op` into `tensor` on rank `dst` only (the other
    ranks' tensors are left as they were)."""
    label = "reduce"
    _check_tensor(label, "tensor", tensor)
    found = resolve_group(group, label)
    if found is None:
        return None
    root = _root(label, found, dst, group_dst, "dst")
    reduction = _reduction(label, op, tensor)
    found.check_same_call(label, f"{_describe(tensor)}, op={op.name}, dst={found.ranks[root]}")
    host = _Host(tensor)
    request = found.transport.reduce(host.buffer, reduction, root)
    is_root = found.rank() == root

    def finish() -> None:
        if is_root:
            if op is ReduceOp.AVG:
                host.buffer /= found.size()
            host.store()

    return _start(found, label, [request], finish, async_op, [tensor])


def gather(
    tensor: Tensor,
    gather_list: list[Tensor] | None = None,
    dst: int | None = None,
    group: Any = None,
    async_op: bool = False,
    group_dst: int | None = None,
) -> Work | None:
    """Every rank's `tensor` into `gather_list[rank]` on rank `dst` (None on the others)."""
    label = "gather"
    _check_tensor(label, "tensor", tensor)
    found = resolve_group(group, label)
    if found is None:
        return None
    root = _root(label, found, dst, group_dst, "dst")
    is_root = found.rank() == root
    if is_root:
        _check_list(label, "gather_list", gather_list, tensor, found.size())
    elif gather_list:
        raise ValueError(f"{label}: gather_list must be given on the destination rank only")
    found.check_same_call(label, f"{_describe(tensor)}, dst={found.ranks[root]}")
    source = _Host(tensor)
    gathered = _stacked_like(tensor, found.size()) if is_root else None
    target = _Host(gathered) if gathered is not None else None
    request = found.transport.gather(source.buffer, target and target.buffer, root)

    def finish() -> None:
        if target is not None:
            target.store()
            _unstack_into(gathered, gather_list)

    return _start(found, label, [request], finish, async_op, list(gather_list) if is_root else [])


def scatter(
    tensor: Tensor,
    scatter_list: list[Tensor] | None = None,
    src: int | None = None,
    group: Any = None,
    async_op: bool = False,
    group_src: int | None = None,
) -> Work | None:
    """`scatter_list[rank]` of rank `src` into `tensor` on every rank."""
    label = "scatter"
    _check_tensor(label, "tensor", tensor)
    found = resolve_group(group, label)
    if found is None:
        return None
    root = _root(label, found, src, group_src)
    is_root = found.rank() == root
    if is_root:
        _check_list(label, "scatter_list", scatter_list, tensor, found.size())
    elif scatter_list:
        raise ValueError(f"{label}: scatter_list must be given on the source rank only")
    found.check_same_call(label, f"{_describe(tensor)}, src={found.ranks[root]}")
    source = None
    if is_root:
        xp = tensor._backend.xp
        stacked = xp.stack([item._array.reshape(tensor.shape) for item in scatter_list])
        source = _Host(Tensor._from_array(stacked, tensor._backend))
    target = _Host(tensor)
    request = found.transport.scatter(source and source.buffer, target.buffer, root)
    return _start(found, label, [request], target.store, async_op, [tensor])


def all_to_all_single(
    output: Tensor,
    input: Tensor,  # noqa: A002 - PyTorch's name
    output_split_sizes: list[int] | None = None,
    input_split_sizes: list[int] | None = None,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Cut `input` along dim 0 into one part per rank (equal parts, or `input_split_sizes`
    rows), send part j to rank j, and put what rank i sent into part i of `output`."""
    label = "all_to_all_single"
    _check_tensor(label, "output", output)
    _check_tensor(label, "input", input)
    found = resolve_group(group, label)
    if found is None:
        return None
    if output.dtype is not input.dtype:
        raise DTypeError(f"{label}: output and input must have the same dtype")
    size = found.size()
    send_counts = _split_counts(label, "input", input, input_split_sizes, size)
    receive_counts = _split_counts(label, "output", output, output_split_sizes, size)
    found.check_same_call(label, f"dtype={input.dtype}")
    source = _Host(input)
    target = _Host(output)
    request = found.transport.all_to_all(source.buffer, send_counts, target.buffer, receive_counts)
    return _start(found, label, [request], target.store, async_op, [output])


def _split_counts(
    label: str, name: str, tensor: Tensor, splits: list[int] | None, size: int
) -> list[int]:
    """Elements per rank of `tensor` cut along dim 0 into `splits` rows (equal if None)."""
    rows = tensor.shape[0] if tensor.ndim else 1
    row_size = tensor.numel() // rows if rows else 0
    if splits is None:
        if rows % size:
            raise ShapeError(
                f"{label}: {name} of shape {tuple(tensor.shape)} does not split into {size} "
                "equal parts along dim 0"
            )
        splits = [rows // size] * size
    if len(splits) != size or sum(splits) != rows:
        raise ShapeError(
            f"{label}: {name}_split_sizes {list(splits)} must give {size} parts summing to "
            f"{rows} rows"
        )
    return [int(split) * row_size for split in splits]


def _check_list(label: str, name: str, items: Any, tensor: Tensor, size: int) -> None:
    if items is None or len(items) != size:
        given = "none" if items is None else len(items)
        raise ValueError(f"{label}: {name} must hold {size} tensors (one per rank), got {given}")
    for index, item in enumerate(items):
        _check_tensor(label, f"{name}[{index}]", item)
        _check_sizes(label, item, tensor, 1, f"{name}[{index}]", "tensor")


def _stacked_like(tensor: Tensor, count: int) -> Tensor:
    """An uninitialised (count, *tensor.shape) tensor of its dtype and device."""
    xp = tensor._backend.xp
    array = xp.empty((count, *tensor.shape), dtype=tensor._array.dtype)
    return Tensor._from_array(array, tensor._backend)


def _unstack_into(stacked: Tensor, items: list[Tensor]) -> None:
    for index, item in enumerate(items):
        item._array[...] = stacked._array[index].reshape(item.shape)
        item._version_counter.value += 1


def _peer(label: str, found: ProcessGroup, rank: int | None, group_rank: int | None, name: str):
    root = _root(label, found, rank, group_rank, name)
    if root == found.rank():
        raise ValueError(
            f"{label}: Invalid {name} rank: should not be the same as the rank of the current "
            "process."
        )
    return root


def isend(
    tensor: Tensor,
    dst: int | None = None,
    group: Any = None,
    tag: int = 0,
    group_dst: int | None = None,
) -> Work | None:
    """Start sending `tensor` to rank `dst`; `wait()` on the result before changing it."""
    label = "isend"
    _check_tensor(label, "tensor", tensor)
    found = resolve_group(group, label)
    if found is None:
        return None
    peer = _peer(label, found, dst, group_dst, "dst")
    source = _Host(tensor)
    request = found.transport.send(source.buffer, peer, tag)
    return Work(found, label, [request], _nothing, [tensor])


def _start_receive(
    label: str, tensor: Tensor, src: int | None, group: Any, tag: int, group_src: int | None
) -> tuple[Work, Any, ProcessGroup] | None:
    _check_tensor(label, "tensor", tensor)
    found = resolve_group(group, label)
    if found is None:
        return None
    if src is None and group_src is None:  # from whichever rank sends first
        if found.size() == 1:
            raise ValueError(f"{label}: there is no other rank to receive from in {found!r}")
        peer = None
    else:
        peer = _peer(label, found, src, group_src, "src")
    target = _Host(tensor)
    request = found.transport.receive(target.buffer, peer, tag)
    return Work(found, label, [request], target.store, [tensor]), request, found


def irecv(
    tensor: Tensor,
    src: int | None = None,
    group: Any = None,
    tag: int = 0,
    group_src: int | None = None,
) -> Work | None:
    """Start receiving into `tensor` from rank `src` (from any rank if neither src nor
    group_src is given); `wait()` before reading it."""
    started = _start_receive("irecv", tensor, src, group, tag, group_src)
    return None if started is None else started[0]


def send(
    tensor: Tensor,
    dst: int | None = None,
    group: Any = None,
    tag: int = 0,
    group_dst: int | None = None,
) -> None:
    """Send `tensor` to rank `dst`, waiting until it has left."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(
    tensor: Tensor,
    src: int | None = None,
    group: Any = None,
    tag: int = 0,
    group_src: int | None = None,
) -> int:
    """Receive into `tensor` from rank `src` (from any rank if None); returns the sender's
    global rank (-1 on a rank outside `group`)."""
    started = _start_receive("recv", tensor, src, group, tag, group_src)
    if started is None:
        return -1
    work, request, found = started
    work.wait()
    return found.ranks[request.source]


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank of `group` has reached this call."""
    found = resolve_group(group, "barrier")
    if found is None:
        return None
    found.check_same_call("barrier", "")
    return _start(found, "barrier", [found.transport.barrier()], _nothing, async_op, [])


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


def gather_object(
    obj: Any,
    object_gather_list: list | None = None,
    dst: int | None = None,
    group: Any = None,
    group_dst: int | None = None,
) -> None:
    """Every rank's picklable `obj` into `object_gather_list[rank]` on rank `dst` (which must
    pass a list of one entry per rank; the other ranks pass None)."""
    label = "gather_object"
    found = resolve_group(group, label)
    if found is None:
        return
    root = _root(label, found, 0 if dst is None and group_dst is None else dst, group_dst, "dst")
    if found.rank() == root and (
        object_gather_list is None or len(object_gather_list) != found.size()
    ):
        given = "none" if object_gather_list is None else len(object_gather_list)
        raise ValueError(
            f"{label}: object_gather_list must hold {found.size()} entries on the destination "
            f"rank, got {given}"
        )
    found.check_same_call(label, f"dst={found.ranks[root]}")
    parts = found.transport.allgather_bytes(pickle.dumps(obj), lambda r: found.wait(r, label))
    if found.rank() == root and object_gather_list is not None:
        for index, part in enumerate(parts):
            object_gather_list[index] = pickle.loads(part)


def scatter_object_list(
    scatter_object_output_list: list,
    scatter_object_input_list: list | None = None,
    src: int | None = None,
    group: Any = None,
    group_src: int | None = None,
) -> None:
    """`scatter_object_input_list[rank]` of rank `src` into `scatter_object_output_list[0]`
    on every rank."""
    label = "scatter_object_list"
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError(
            "Expected argument scatter_object_output_list to be a list of size at least 1."
        )
    found = resolve_group(group, label)
    if found is None:
        return
    root = _root(label, found, 0 if src is None and group_src is None else src, group_src)
    is_root = found.rank() == root
    if is_root and (
        scatter_object_input_list is None or len(scatter_object_input_list) != found.size()
    ):
        raise ValueError(
            f"{label}: scatter_object_input_list must hold {found.size()} entries on the source "
            "rank"
        )
    found.check_same_call(label, f"src={found.ranks[root]}")
    mine = pickle.dumps(list(scatter_object_input_list)) if is_root else None
    payload = found.transport.broadcast_bytes(mine, root, lambda r: found.wait(r, label))
    scatter_object_output_list[0] = pickle.loads(payload)[found.rank()]


def all_to_all(
    output_tensor_list: list[Tensor],
    input_tensor_list: list[Tensor],
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """`input_tensor_list[j]` to rank j, and what rank i sent into `output_tensor_list[i]`,
    the tensors of any sizes (one flat all_to_all_single underneath)."""
    label = "all_to_all"
    found = resolve_group(group, label)
    if found is None:
        return None
    size = found.size()
    for name, items in (
        ("output_tensor_list", output_tensor_list),
        ("input_tensor_list", input_tensor_list),
    ):
        if len(items) != size:
            raise ValueError(
                f"{label}: {name} must hold {size} tensors (one per rank), got {len(items)}"
            )
        for index, item in enumerate(items):
            _check_tensor(label, f"{name}[{index}]", item)
    dtypes = {item.dtype for item in (*output_tensor_list, *input_tensor_list)}
    if len(dtypes) != 1:
        raise DTypeError(
            f"{label}: every tensor must have one dtype, got {sorted(map(str, dtypes))}"
        )
    first = input_tensor_list[0]
    xp = first._backend.xp
    flat_input = xp.concatenate([item._array.reshape(-1) for item in input_tensor_list])
    send_counts = [item.numel() for item in input_tensor_list]
    receive_counts = [item.numel() for item in output_tensor_list]
    flat_output = xp.empty(sum(receive_counts), dtype=flat_input.dtype)
    found.check_same_call(label, f"dtype={first.dtype}")
    source = _Host(Tensor._from_array(flat_input, first._backend))
    target = _Host(Tensor._from_array(flat_output, first._backend))
    request = found.transport.all_to_all(source.buffer, send_counts, target.buffer, receive_counts)

    def finish() -> None:
        target.store()
        start = 0
        for item, count in zip(output_tensor_list, receive_counts, strict=True):
            item._array[...] = flat_output[start : start + count].reshape(item.shape)
            item._version_counter.value += 1
            start += count

    return _start(found, label, [request], finish, async_op, list(output_tensor_list))


def reduce_scatter(
    output: Tensor,
    input_list: list[Tensor],
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Combine `input_list[j]` across ranks with `op` into `output` of rank j (the list form
    of reduce_scatter_tensor, each entry of `output`'s shape)."""
    label = "reduce_scatter"
    _check_tensor(label, "output", output)
    found = resolve_group(group, label)
    if found is None:
        return None
    _check_list(label, "input_list", input_list, output, found.size())
    xp = output._backend.xp
    stacked = xp.stack([item._array.reshape(output.shape) for item in input_list])
    return reduce_scatter_tensor(
        output, Tensor._from_array(stacked, output._backend), op, group, async_op
    )


def monitored_barrier(
    group: Any = None,
    timeout: Any = None,  # noqa: ARG001 - the group's own timeout applies
    wait_all_ranks: bool = False,  # noqa: ARG001
) -> None:
    """A barrier (torch's gloo-only debugging form; chainrule's collectives already time out
    and name a rank that failed or left)."""
    barrier(group)


def wait_seconds(group: Any = None) -> float:
    """Seconds this process has spent so far waiting for other ranks in `group`'s collectives
    (the communication a rank could not hide behind computation)."""
    found = resolve_group(group, "wait_seconds")
    return 0.0 if found is None else found.wait_seconds


__all__ = [
    "scatter_object_list",
    "reduce_scatter",
    "monitored_barrier",
    "gather_object",
    "all_to_all",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "all_to_all_single",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "gather",
    "irecv",
    "isend",
    "recv",
    "reduce",
    "reduce_scatter_tensor",
    "scatter",
    "send",
    "wait_seconds",
]
