"""How bytes move between processes: MPI through mpi4py, or nowhere at all for one process.

This is the only module that imports mpi4py (lazily: `import chainrule` never loads it). A
transport moves *host* buffers (objects with the buffer protocol: NumPy arrays from the backend's
host copy, `bytearray`, `array.array`) and never pickles a tensor; the collectives above it
decide which buffer, and write the result back into the tensor. Every operation is non-blocking
and returns a request with `Test()`, so the one wait loop (ProcessGroup.wait) can keep a
timeout and notice a failed peer instead of hanging in a blocking MPI call.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from array import array
from collections.abc import Callable
from typing import Any

from chainrule.backend import numpy_backend
from chainrule.backend.float_errors import quiet_float_errors

# The variables a launcher sets in each process it starts: MPICH's Hydra and Slurm's PMI-2
# (`srun --mpi=pmi2`) set PMI_*, Open MPI sets OMPI_COMM_WORLD_*, PMIx launchers PMIX_RANK.
_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK")
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")

INSTALL_HINT = (
    "chainrule.distributed needs mpi4py and an MPI library: pip install 'chainrule[mpi]' "
    "(mpi4py and MPICH's wheel, which brings mpiexec)"
)

_FAULT_TAG = 7  # on the fault communicator, which carries nothing else

# The user-defined MPI operations on 16-bit floats (see half_combiner), made on first use and
# shared by every communicator of the process (mpi4py keeps a bounded number of Python ones);
# MPI_Finalize frees them.
_HALF_OPS: dict[tuple[str, str], Any] = {}


def launched_by_mpi() -> bool:
    """Whether an MPI launcher (mpiexec, srun --mpi=pmi2) started this process."""
    return any(name in os.environ for name in _RANK_VARIABLES + ("PMI_FD", "PMIX_NAMESPACE"))


def launcher_rank() -> str:
    """This process's rank as the launcher announced it (for messages before MPI is up)."""
    for name in _RANK_VARIABLES:
        if name in os.environ:
            return os.environ[name]
    return "?"


def launcher_size() -> str:
    for name in _SIZE_VARIABLES:
        if name in os.environ:
            return os.environ[name]
    return "?"


class DoneRequest:
    """A request that completed when it was made (every request of the one-process transport)."""

    __slots__ = ()

    def Test(self) -> bool:  # noqa: N802 - mpi4py's spelling, so both kinds wait alike
        return True


DONE = DoneRequest()


class LocalTransport:
    """World size 1, no MPI: every collective is already complete (gathers copy)."""

    name = "single"
    rank = 0
    size = 1
    failure = None  # no other rank to fail or leave (read only)
    departed: dict[int, float] = {}

    def allreduce(
        self, buffer: Any, op: str, own_part: Callable[[int, int, Any], None] | None = None
    ) -> DoneRequest:
        if own_part is not None:  # the whole buffer is this rank's part
            own_part(0, buffer.size, buffer)
        return DONE

    def broadcast(self, buffer: Any, root: int) -> DoneRequest:
        return DONE

    def allgather(self, send: Any, receive: Any) -> DoneRequest:
        receive[...] = send.reshape(receive.shape)
        return DONE

    def reduce_scatter(self, send: Any, receive: Any, op: str) -> DoneRequest:
        receive[...] = send.reshape(receive.shape)
        return DONE

    def barrier(self) -> DoneRequest:
        return DONE

    def reduce(self, buffer: Any, op: str, root: int) -> DoneRequest:
        return DONE

    def gather(self, send: Any, receive: Any, root: int) -> DoneRequest:
        receive[...] = send.reshape(receive.shape)
        return DONE

    def scatter(self, send: Any, receive: Any, root: int) -> DoneRequest:
        receive[...] = send.reshape(receive.shape)
        return DONE

    def all_to_all(self, send: Any, send_counts: list, receive: Any, receive_counts: list) -> Any:
        receive[...] = send.reshape(receive.shape)
        return DONE

    def allgather_bytes(self, payload: bytes, wait: Callable[[list], None]) -> list[bytes]:
        return [payload]

    def shared_array(self, count: int, dtype: Any) -> None:
        return None  # one process: nothing to share

    def broadcast_bytes(self, payload: bytes | None, root: int, wait: Callable) -> bytes:
        return payload or b""

    def split(self, member: bool) -> LocalTransport | None:
        return self if member else None

    def notify(self, kind: str, message: str) -> bool:
        return False  # nobody to tell

    def poll_notices(self) -> None:
        pass

    def abort(self, code: int) -> None:
        os._exit(code)

    def free(self) -> None:
        pass


def _has_native_half(mpi: Any) -> bool:
    """Whether this MPI has a float16 datatype of its own that mpi4py maps NumPy's float16 to
    (MPICH's MPIX_C_FLOAT16, whose reductions add in float16 as PyTorch's gloo and NCCL do)."""
    try:
        return mpi.Datatype.fromcode("e") != mpi.DATATYPE_NULL
    except (ValueError, KeyError, AttributeError):
        return False


def half_combiner(dtype: Any, op: str) -> Callable[[Any, Any, Any], None]:
    """An MPI user function combining 16-bit floats of `dtype` (NumPy float16 or ml_dtypes'
    bfloat16) that travel as raw 16-bit words: `inout = in op inout`, each pair computed in
    float32 and rounded once to `dtype`. That is each addition rounded as in 16-bit arithmetic
    (float32's 24 bits hold the exact sum of two float16 or bfloat16 values well enough that the
    second rounding is exact: 24 >= 2 x 11 + 2), as PyTorch's gloo and NCCL add 16-bit floats.
    Adding the words as 16-bit integers instead would give garbage: they are signs, exponents
    and mantissas, not numbers."""
    xp = numpy_backend.xp
    combine = {"sum": xp.add, "prod": xp.multiply, "max": xp.maximum, "min": xp.minimum}[op]

    def function(incoming: Any, inout: Any, datatype: Any) -> None:
        mine = xp.frombuffer(inout, dtype=xp.uint16).view(dtype)
        theirs = xp.frombuffer(incoming, dtype=xp.uint16).view(dtype)
        with quiet_float_errors():  # an overflow to inf is a result, as in PyTorch
            wide = combine(theirs.astype(xp.float32), mine.astype(xp.float32))
            mine[...] = wide.astype(dtype)

    return function


def import_mpi(timeout_s: float) -> Any:
    """mpi4py's MPI module, initialising MPI if this process has not yet.

    MPI_Init waits until every rank of the job has started it, and nothing can interrupt it
    from Python; so a watchdog thread ends the process with a message naming the rank if it
    takes longer than `timeout_s` (the launcher then ends the others)."""
    already = sys.modules.get("mpi4py.MPI")
    if already is not None:
        return already
    try:
        import mpi4py
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    # chainrule calls MPI from one thread at a time: no need for MPI_THREAD_MULTIPLE's locks.
    mpi4py.rc.thread_level = "serialized"
    watchdog = threading.Timer(timeout_s, _init_timed_out, args=(timeout_s,))
    watchdog.daemon = True
    watchdog.start()
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    finally:
        watchdog.cancel()
    return MPI


def _init_timed_out(timeout_s: float) -> None:
    sys.stderr.write(
        f"chainrule.distributed: init_process_group timed out after {timeout_s:g} s on rank "
        f"{launcher_rank()} of {launcher_size()}: MPI_Init waits for every rank of the job to "
        "start, and some did not; ending this process\n"
    )
    sys.stderr.flush()
    os._exit(1)


class Receive:
    """A point-to-point receive as one request: from any rank, it first probes for a message,
    then receives from the rank that sent it (so `source` is known when it completes)."""

    def __init__(self, transport: MPITransport, buffer: Any, source: int | None, tag: int) -> None:
        self._transport = transport
        self._buffer = buffer
        self._tag = tag
        self._status = transport.mpi.Status()
        self.source = source
        self._request = None if source is None else self._post()

    def _post(self) -> Any:
        comm = self._transport.comm
        return comm.Irecv(self._buffer, source=self.source, tag=self._tag)

    def Test(self) -> bool:  # noqa: N802 - mpi4py's spelling
        if self._request is None:
            mpi = self._transport.mpi
            if not self._transport.comm.Iprobe(mpi.ANY_SOURCE, self._tag, self._status):
                return False
            self.source = self._status.Get_source()
            self._request = self._post()
        return self._request.Test()


class Joining:
    """MPI's world communicator while the ranks join: making chainrule's own communicators is
    collective (it blocks until every rank arrives), so first a barrier the caller can wait for
    with a timeout, and the ability to abort."""

    name = "mpi"
    failure = None  # no notice channel yet (read only)
    departed: dict[int, float] = {}

    def __init__(self, comm: Any) -> None:
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    def barrier(self) -> Any:
        return self.comm.Ibarrier()

    def notify(self, kind: str, message: str) -> bool:
        return False  # no channel yet

    def poll_notices(self) -> None:
        pass

    def abort(self, code: int) -> None:
        self.comm.Abort(code)


# Elements of each block a rank combines in a shared all-reduce: its part of every rank's segment
# (read) and its result (written to every segment) stay in the core's cache between the two.
_SHARED_BLOCK = 16384
# The reductions a shared all-reduce does itself (NumPy ufuncs on the segments), on dtypes whose
# arithmetic NumPy does as MPI would; 16-bit floats and the rest go through MPI.
_SHARED_COMBINERS = {"sum": "add", "prod": "multiply", "max": "maximum", "min": "minimum"}
SHARED_MEMORY_VARIABLE = "CHAINRULE_DISTRIBUTED_SHARED_MEMORY"


def shared_part(count: int, rank: int, size: int) -> tuple[int, int]:
    """The elements [start, stop) of a shared all-reduce of `count` that `rank` of `size`
    combines (and so reads from every rank's segment)."""
    return count * rank // size, count * (rank + 1) // size


class SharedWindow:
    """An MPI-3 shared-memory window over the ranks of one node (MPI_Win_allocate_shared): each
    rank's segment is a flat array that every other rank of the node maps too, so an all-reduce
    of it needs no message at all: each rank combines 1/n of the elements straight from the n
    segments and writes the result into all of them (see SharedAllreduce).

    The window has a communicator of its own, so the barriers of two windows' all-reduces in
    flight at once never match each other. It is never freed before MPI_Finalize (at exit):
    freeing is collective and would unmap arrays that tensors (a DDP bucket's views, a `.grad`)
    may still hold, so a window lives as long as the process."""

    def __init__(self, mpi: Any, node: Any, count: int, dtype: Any) -> None:
        self.comm = node.Dup()
        itemsize = dtype.itemsize
        self.win = mpi.Win.Allocate_shared(count * itemsize, itemsize, comm=self.comm)
        xp = numpy_backend.xp
        self.segments = [
            xp.frombuffer(self.win.Shared_query(rank)[0], dtype=dtype, count=count)
            for rank in range(self.comm.Get_size())
        ]
        self.rank = self.comm.Get_rank()
        self.mine = self.segments[self.rank]
        self.mine[...] = 0
        self.win.Lock_all()  # one passive epoch for good: Sync() orders loads and stores
        self.busy = False

    def holds(self, buffer: Any) -> bool:
        """Whether `buffer` is exactly this rank's segment (not a part of it, not a copy)."""
        mine = self.mine
        return (
            getattr(buffer, "__array_interface__", None) is not None
            and buffer.__array_interface__["data"][0] == mine.__array_interface__["data"][0]
            and buffer.size == mine.size
            and buffer.dtype == mine.dtype
        )


class SharedAllreduce:
    """An all-reduce of a shared window as a request whose `Test()` moves it on (so the one
    wait loop keeps its timeout and fault checks): a barrier (every segment holds its rank's
    input), then this rank combines its part of the elements from every segment, in blocks,
    and writes the result into every segment, then a second barrier (every segment holds the
    whole result). Each part is combined once, by one rank, so every rank ends with the same
    bits; with two ranks they are MPI's, since a + b == b + a exactly.

    `own_part(start, stop, out)`, if given, writes this rank's input for elements start:stop of
    its own part into `out`, block by block as the combination needs it: a caller that leaves
    that part of its segment unwritten (it is read by no other rank) saves copying it in."""

    def __init__(
        self, window: SharedWindow, op: str, own_part: Callable[[int, int, Any], None] | None
    ) -> None:
        if window.busy:
            raise RuntimeError("chainrule.distributed: a shared all-reduce is already in flight")
        window.busy = True
        self._window = window
        self._combine = getattr(numpy_backend.xp, _SHARED_COMBINERS[op])
        self._own_part = own_part
        window.win.Sync()
        self._barrier = window.comm.Ibarrier()
        self._combined = False
        self._done = False

    def Test(self) -> bool:  # noqa: N802 - mpi4py's spelling
        if self._done:
            return True
        if not self._barrier.Test():
            return False
        window = self._window
        if not self._combined:
            window.win.Sync()
            self._combine_part()
            window.win.Sync()
            self._combined = True
            self._barrier = window.comm.Ibarrier()
            if not self._barrier.Test():
                return False
        window.win.Sync()
        window.busy = False
        self._done = True
        return True

    def _combine_part(self) -> None:
        window = self._window
        mine, segments = window.mine, window.segments
        others = [segment for rank, segment in enumerate(segments) if rank != window.rank]
        start, stop = shared_part(mine.size, window.rank, len(segments))
        own_part = self._own_part
        with quiet_float_errors():  # an overflow to inf is a result, as in MPI
            for low in range(start, stop, _SHARED_BLOCK):
                high = min(low + _SHARED_BLOCK, stop)
                result = mine[low:high]
                if own_part is not None:
                    own_part(low, high, result)
                for other in others:
                    self._combine(result, other[low:high], out=result)
                for other in others:
                    other[low:high] = result


class MPITransport:
    """Collectives on an MPI communicator (a duplicate of the caller's, so chainrule's traffic
    never matches a user's own MPI messages). The world's transport (`notices=True`) has a
    second duplicate that carries only the notices a rank sends when it fails or leaves."""

    name = "mpi"

    def __init__(self, mpi: Any, comm: Any, notices: bool = True) -> None:
        self.mpi = mpi
        self.comm = comm.Dup()
        self.faults = comm.Dup() if notices else None
        self._sent: list = []  # the notices' requests, kept until MPI_Finalize completes them
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.failure: tuple[int, str] | None = None
        self.departed: dict[int, float] = {}
        self._ops = {
            "sum": mpi.SUM,
            "prod": mpi.PROD,
            "max": mpi.MAX,
            "min": mpi.MIN,
            "band": mpi.BAND,
            "bor": mpi.BOR,
            "bxor": mpi.BXOR,
            "land": mpi.LAND,
            "lor": mpi.LOR,
            "lxor": mpi.LXOR,
        }
        self._native_half = _has_native_half(mpi)
        self._node: Any = None  # the ranks' node communicator, once asked; False: several nodes
        self._windows: list[SharedWindow] = []

    def _message(self, buffer: Any) -> Any:
        """`buffer` as mpi4py takes it: the array itself, or, for a 16-bit float MPI has no
        datatype for (bfloat16 always; float16 where the MPI lacks MPIX_C_FLOAT16), its raw
        16-bit words, which the reductions below combine as floats."""
        if buffer is None or not self._words_only(buffer):
            return buffer
        return [buffer.view("uint16"), self.mpi.UINT16_T]

    def _words_only(self, buffer: Any) -> bool:
        dtype = getattr(buffer, "dtype", None)
        if dtype is None or dtype.itemsize != 2 or dtype.kind in "iub":
            return False
        return dtype.name == "bfloat16" or not self._native_half

    def _op(self, buffer: Any, op: str) -> Any:
        """The MPI operation `op` on `buffer`'s dtype: MPI's own, or on 16-bit floats sent as
        words, a user-defined one that adds (multiplies, compares) them as floats."""
        if not self._words_only(buffer):
            return self._ops[op]
        key = (buffer.dtype.name, op)
        if key not in _HALF_OPS:
            _HALF_OPS[key] = self.mpi.Op.Create(half_combiner(buffer.dtype, op), commute=True)
        return _HALF_OPS[key]

    def allreduce(
        self, buffer: Any, op: str, own_part: Callable[[int, int, Any], None] | None = None
    ) -> Any:
        """Combine `buffer` over the ranks, in place: an MPI all-reduce, or for this rank's
        segment of a shared window, a SharedAllreduce (`own_part`: see there)."""
        if op in _SHARED_COMBINERS and self._windows:
            for window in self._windows:
                if window.holds(buffer):
                    return SharedAllreduce(window, op, own_part)
        if own_part is not None:
            raise ValueError("allreduce: own_part needs a segment of a shared window")
        mpi_op = self._op(buffer, op)
        return self.comm.Iallreduce(self.mpi.IN_PLACE, self._message(buffer), op=mpi_op)

    def shared_array(self, count: int, dtype: Any) -> Any:
        """A zeroed flat array of `count` elements in memory every rank maps (collective: every
        rank must ask, in the same order), whose all-reduces need no message; None where that
        cannot help: one rank, ranks on several nodes, a dtype MPI should combine (16-bit
        floats, bool), or CHAINRULE_DISTRIBUTED_SHARED_MEMORY=0 (read when asked)."""
        if os.environ.get(SHARED_MEMORY_VARIABLE, "1") == "0" or self.size == 1 or count == 0:
            return None
        dtype = numpy_backend.xp.dtype(dtype)
        if dtype.kind not in "fiu" or (dtype.kind == "f" and dtype.itemsize < 4):
            return None
        if self._node is None:
            node = self.comm.Split_type(self.mpi.COMM_TYPE_SHARED)
            if node.Get_size() == self.size:
                self._node = node
            else:
                node.Free()
                self._node = False
        if self._node is False:
            return None
        window = SharedWindow(self.mpi, self._node, count, dtype)
        self._windows.append(window)
        return window.mine

    def broadcast(self, buffer: Any, root: int) -> Any:
        return self.comm.Ibcast(self._message(buffer), root=root)

    def allgather(self, send: Any, receive: Any) -> Any:
        return self.comm.Iallgather(self._message(send), self._message(receive))

    def reduce_scatter(self, send: Any, receive: Any, op: str) -> Any:
        message, mpi_op = self._message(send), self._op(send, op)
        return self.comm.Ireduce_scatter_block(message, self._message(receive), op=mpi_op)

    def barrier(self) -> Any:
        return self.comm.Ibarrier()

    def reduce(self, buffer: Any, op: str, root: int) -> Any:
        """`buffer` combined over the ranks into the root's `buffer` (the others' unchanged)."""
        message, mpi_op = self._message(buffer), self._op(buffer, op)
        if self.rank == root:
            return self.comm.Ireduce(self.mpi.IN_PLACE, message, op=mpi_op, root=root)
        return self.comm.Ireduce(message, None, op=mpi_op, root=root)

    def gather(self, send: Any, receive: Any, root: int) -> Any:
        """Every rank's `send`, in rank order, into the root's `receive` (None elsewhere)."""
        target = self._message(receive) if self.rank == root else None
        return self.comm.Igather(self._message(send), target, root=root)

    def scatter(self, send: Any, receive: Any, root: int) -> Any:
        """The root's `send` cut in rank order, one part into each rank's `receive`."""
        source = self._message(send) if self.rank == root else None
        return self.comm.Iscatter(source, self._message(receive), root=root)

    def all_to_all(self, send: Any, send_counts: list, receive: Any, receive_counts: list) -> Any:
        """Rank i's part j (of send_counts[j] elements) to rank j's part i."""
        send_offsets = [sum(send_counts[:i]) for i in range(self.size)]
        receive_offsets = [sum(receive_counts[:i]) for i in range(self.size)]
        return self.comm.Ialltoallv(
            self._vector(send, send_counts, send_offsets),
            self._vector(receive, receive_counts, receive_offsets),
        )

    def _vector(self, buffer: Any, counts: list, offsets: list) -> list:
        """mpi4py's [data, (counts, offsets)] or, for raw words, [data, (counts, offsets),
        datatype]."""
        message = self._message(buffer)
        if isinstance(message, list):
            return [message[0], (counts, offsets), message[1]]
        return [message, (counts, offsets)]

    def send(self, buffer: Any, dest: int, tag: int) -> Any:
        return self.comm.Isend(self._message(buffer), dest=dest, tag=tag)

    def receive(self, buffer: Any, source: int | None, tag: int) -> Receive:
        """A receive into `buffer` from `source`, or from whichever rank sends first if None;
        its `source` says which, once it has completed."""
        return Receive(self, self._message(buffer), source, tag)

    def allgather_bytes(self, payload: bytes, wait: Callable[[list], None]) -> list[bytes]:
        """Every rank's `payload`, in rank order. The lengths travel first (one int64 a rank);
        `wait(requests)` is the caller's wait loop, so neither step can hang."""
        lengths = array("q", [0]) * self.size
        wait([self.comm.Iallgather(array("q", [len(payload)]), lengths)])
        offsets = [sum(lengths[:index]) for index in range(self.size)]
        receive = bytearray(sum(lengths))
        spec = [receive, list(lengths), offsets, self.mpi.BYTE]
        wait([self.comm.Iallgatherv([payload, self.mpi.BYTE], spec)])
        return [bytes(receive[start : start + n]) for start, n in zip(offsets, lengths)]

    def broadcast_bytes(self, payload: bytes | None, root: int, wait: Callable) -> bytes:
        """`payload` of rank `root` on every rank (the others pass None)."""
        length = array("q", [len(payload) if payload is not None else 0])
        wait([self.comm.Ibcast(length, root=root)])
        buffer = bytearray(payload) if self.rank == root else bytearray(length[0])
        wait([self.comm.Ibcast([buffer, self.mpi.BYTE], root=root)])
        return bytes(buffer)

    def split(self, member: bool) -> MPITransport | None:
        """The members' own communicator (collective over all of this one's ranks)."""
        color = 0 if member else self.mpi.UNDEFINED
        comm = self.comm.Split(color, self.rank)
        if comm == self.mpi.COMM_NULL:
            return None
        transport = MPITransport(self.mpi, comm, notices=False)  # groups use the world's
        comm.Free()
        return transport

    def notify(self, kind: str, message: str) -> bool:
        """Tell every other rank that this one "failed" (it is about to abort the job) or
        "left" (it will take part in no more collectives). Fire and forget."""
        if self.faults is None:
            return False
        payload = f"{kind}\n{message}".encode()[:4000]
        for peer in range(self.size):
            if peer != self.rank:
                request = self.faults.Isend([payload, self.mpi.BYTE], dest=peer, tag=_FAULT_TAG)
                self._sent.append(request)
        return True

    def poll_notices(self) -> None:
        """Take in the notices other ranks sent: the first failure (rank, message) into
        `failure`, departures into `departed` (rank: when it was noticed)."""
        if self.faults is None:
            return
        status = self.mpi.Status()
        while self.faults.Iprobe(self.mpi.ANY_SOURCE, _FAULT_TAG, status):
            source = status.Get_source()
            buffer = bytearray(status.Get_count(self.mpi.BYTE))
            self.faults.Recv([buffer, self.mpi.BYTE], source=source, tag=_FAULT_TAG)
            kind, _, message = buffer.decode(errors="replace").partition("\n")
            if kind == "failed" and self.failure is None:
                self.failure = (source, message)
            elif kind == "left":
                self.departed.setdefault(source, time.monotonic())

    def abort(self, code: int) -> None:
        self.comm.Abort(code)

    def free(self) -> None:
        """Free the collectives' communicator. The notices' one stays to MPI_Finalize: a notice
        may still arrive, and freeing a communicator with unreceived messages is an error.
        Shared windows stay too (see SharedWindow); only the node communicator goes."""
        if self._node:
            self._node.Free()
        self._node = None
        self._windows = []
        self.comm.Free()
