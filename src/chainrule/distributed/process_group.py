"""Process groups: which processes take part in a collective, and how long to wait for them.

`init_process_group` makes the default group (every rank of the MPI job, or this one process
for the "single" backend); `new_group` makes groups of some ranks. A group owns a transport
(distributed/transport.py) and the one wait loop every collective goes through, which enforces
the group's timeout and notices a peer that failed, so a job never hangs silently.

Faults: once a group spanning several processes exists, an uncaught exception on any rank tells
the other ranks (they raise `DistBackendError` naming it if they are waiting on a collective)
and then aborts the whole job (MPI_Abort), as `python -m mpi4py` does. The default state is a
per-process global, like PyTorch's default process group.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing datetime costs every `import chainrule.nn`
    import datetime

from chainrule.distributed.transport import (
    Joining,
    LocalTransport,
    MPITransport,
    import_mpi,
    launched_by_mpi,
)
from chainrule.errors import ChainruleError

DEBUG_VARIABLE = "CHAINRULE_DISTRIBUTED_DEBUG"
DEFAULT_TIMEOUT_S = 30 * 60.0  # PyTorch's default_pg_timeout, 30 minutes
_NOT_INITIALIZED = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)
# How long a failing rank waits, after telling the others, before it aborts the job: enough for
# a rank blocked in a collective to print which rank failed.
# A wait polls MPI this many times before it starts sleeping 50 us between polls: spinning
# longer burns a core the other ranks (or other jobs) could use, for no gain on long waits.
_SPINS = 256
_FAULT_GRACE_S = 1.0
_OUTPUT_GRACE_S = 0.5
# How long a rank waiting on a collective keeps waiting after a member announced it left: its
# last messages may still be on their way.
_DEPARTED_GRACE_S = 2.0


class DistError(ChainruleError, RuntimeError):
    """A collective went wrong (torch.distributed.DistError)."""


class DistBackendError(DistError):
    """The transport failed: a timeout, or a peer rank that failed (torch's DistBackendError)."""


class ProcessGroup:
    """Some ranks of the job and the transport that connects them. `rank()` and `size()` are
    this process's place in the group, as on PyTorch's ProcessGroup."""

    def __init__(
        self, transport: Any, ranks: Sequence[int], timeout_s: float, world: Any, debug: bool
    ) -> None:
        self.transport = transport
        self.ranks = tuple(ranks)  # the members' global ranks, in group-rank order
        self.timeout_s = timeout_s
        self.debug = debug
        self.wait_seconds = 0.0  # time spent waiting on other ranks, for benchmarks
        self._world = world  # the world transport, whose fault channel every wait polls

    def rank(self) -> int:
        return self.transport.rank

    def size(self) -> int:
        return self.transport.size

    def name(self) -> str:
        return self.transport.name

    def __repr__(self) -> str:
        return f"ProcessGroup({self.transport.name}, ranks={list(self.ranks)})"

    def wait(self, requests: Sequence[Any], label: str, timeout_s: float | None = None) -> None:
        """Wait until every request completes. Raises DistBackendError when the timeout passes
        or another rank announces that it failed."""
        pending = [request for request in requests if not request.Test()]
        if not pending:
            return
        start = time.perf_counter()
        deadline = start + (self.timeout_s if timeout_s is None else timeout_s)
        spins = 0
        while True:
            pending = [request for request in pending if not request.Test()]
            if not pending:
                break
            spins += 1
            if spins % 64 == 0:
                self._check_peers(label, start)
                now = time.perf_counter()
                if now > deadline:
                    self.wait_seconds += now - start
                    raise DistBackendError(
                        f"{label}: rank {self._world.rank} timed out after "
                        f"{now - start:.3g} s waiting for the other ranks of {self!r} (some "
                        f"rank did not call {label}, or called another collective)"
                    )
            if spins > _SPINS:
                time.sleep(50e-6)  # a long wait: leave the core to the other ranks
        self.wait_seconds += time.perf_counter() - start

    def _check_peers(self, label: str, start: float) -> None:
        """Raise if another rank failed, or if a member left the job and what this rank waits
        for has not arrived within a grace period (its last messages may still be in flight)."""
        world = self._world
        world.poll_notices()
        if world.failure is not None:
            self.wait_seconds += time.perf_counter() - start
            rank, message = world.failure
            raise PeerFailedError(
                f"{label}: rank {rank} failed ({message}); rank {world.rank} stops too", rank
            )
        if world.departed:
            now = time.monotonic()
            for rank in self.ranks:
                noticed = world.departed.get(rank)
                if noticed is not None and now - noticed > _DEPARTED_GRACE_S:
                    self.wait_seconds += time.perf_counter() - start
                    raise PeerFailedError(
                        f"{label}: rank {rank} left the job (destroy_process_group, or its "
                        f"script ended) while rank {world.rank} waits for it in {label}",
                        rank,
                    )

    def shared_array(self, count: int, dtype: Any) -> Any:
        """A zeroed flat host array of `count` elements that every rank of the group maps, so
        that its all-reduces move no message (transport.SharedWindow), or None where that
        cannot help (one process, ranks on several nodes). Collective: every rank asks alike."""
        return self.transport.shared_array(count, dtype)

    def check_same_call(self, label: str, description: str) -> None:
        """In debug mode, make sure every rank called the same collective on the same shapes
        and dtypes; raise DistError on every rank, naming them, if not."""
        if not self.debug:
            return
        mine = f"{label}({description})"
        parts = self.transport.allgather_bytes(mine.encode(), lambda r: self.wait(r, label))
        calls = [part.decode() for part in parts]
        if len(set(calls)) > 1:
            listed = "; ".join(f"rank {self.ranks[i]} called {c}" for i, c in enumerate(calls))
            raise DistError(
                f"{label}: the ranks called mismatched collectives ({DEBUG_VARIABLE}=1): {listed}"
            )


class PeerFailedError(DistBackendError):
    """Another rank failed, or left, while this one waited for it."""

    def __init__(self, message: str, rank: int) -> None:
        super().__init__(message)
        self.rank = rank


class _NonGroupMember:
    def __repr__(self) -> str:
        return "GroupMember.NON_GROUP_MEMBER"


class GroupMember:
    """`GroupMember.WORLD` is the default group once initialised (None before);
    `NON_GROUP_MEMBER` is what `new_group` returns on ranks it does not include."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = _NonGroupMember()


group = GroupMember  # torch.distributed.group.WORLD


class _State:
    """The process's default group and what init_process_group changed (to undo it)."""

    def __init__(self) -> None:
        self.default: ProcessGroup | None = None
        self.groups: list[ProcessGroup] = []
        self.previous_excepthook: Callable | None = None
        self.failing: Any = None  # the world transport, while the excepthook may abort it
        self.exit_announced = False  # the atexit hook is registered (once a process)


_state = _State()


def is_available() -> bool:
    return True


def is_mpi_available() -> bool:
    """Whether mpi4py is installed (without importing it, which would start MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


class Backend(str):
    """A backend's name, lower-cased (torch.distributed.Backend): the constants name PyTorch's
    backends so a script's `init_process_group(backend=dist.Backend.GLOO)` runs; chainrule's
    transports are "mpi" and "single" (gloo and nccl are taken as MPI, with a warning)."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"

    def __new__(cls, name: str) -> Backend:
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {name}")
        return str.__new__(cls, name.lower())


def is_nccl_available() -> bool:
    """False: chainrule's collectives run over MPI (or in one process), never NCCL."""
    return False


def is_gloo_available() -> bool:
    """False: chainrule's collectives run over MPI (or in one process), never Gloo."""
    return False


def is_ucc_available() -> bool:
    """False: chainrule has no UCC backend."""
    return False


def is_xccl_available() -> bool:
    """False: chainrule has no XCCL backend."""
    return False


def is_torchelastic_launched() -> bool:
    """Whether torchrun (torch elastic) started this process: its TORCHELASTIC_RUN_ID is set."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its node: the launcher's LOCAL_RANK (torchrun sets it; under
    mpiexec, MPI's local rank variables), else `fallback_rank`, else RuntimeError."""
    for variable in ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"):
        if variable in os.environ:
            return int(os.environ[variable])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
        "`get_node_local_rank` to work, assuming you are not running in a multi-device context "
        "and want the code to run locally instead."
    )


def is_initialized() -> bool:
    return _state.default is not None


def as_seconds(timeout: datetime.timedelta | float | None) -> float:
    """A timeout given as a datetime.timedelta (PyTorch's way) or in seconds."""
    if timeout is None:
        return DEFAULT_TIMEOUT_S
    total_seconds = getattr(timeout, "total_seconds", None)
    return float(total_seconds() if total_seconds is not None else timeout)


def _choose_backend(backend: str | None, world_size: int) -> str:
    """The backend to use: "mpi" under an MPI launcher, "single" otherwise. PyTorch's "gloo"
    and "nccl" name transports chainrule lacks: a ported script gets MPI (or one process) and a
    warning."""
    if backend is None:
        return "mpi" if launched_by_mpi() or world_size > 1 else "single"
    name = str(backend).lower()
    if name in ("mpi", "single"):
        return name
    if "gloo" in name or "nccl" in name:
        chosen = "mpi" if launched_by_mpi() or world_size > 1 else "single"
        warnings.warn(
            f"init_process_group: chainrule runs collectives over MPI; backend {backend!r} is "
            f"treated as {chosen!r}",
            stacklevel=3,
        )
        return chosen
    raise ValueError(
        f"init_process_group: unknown backend {backend!r}; chainrule has 'mpi' and 'single'"
    )


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: datetime.timedelta | float | None = None,
    world_size: int = -1,
    rank: int = -1,
    store: Any = None,
    group_name: str = "",
    pg_options: Any = None,
    device_id: Any = None,
) -> None:
    """Join the job's default process group: every process `mpiexec` started, or just this
    one (backend "single", the default when no MPI launcher started the process).

    `timeout` (default 30 minutes, as PyTorch's) bounds the wait for the other ranks here and
    in every later collective. `world_size` and `rank`, if given, must be what MPI says.
    `CHAINRULE_DISTRIBUTED_DEBUG=1` (or DETAIL) makes every collective first check that all
    ranks called the same one on the same shapes and dtypes.

    >>> import chainrule.distributed as dist
    >>> dist.init_process_group("single")
    >>> dist.get_rank(), dist.get_world_size()
    (0, 1)
    >>> dist.destroy_process_group()
    """
    if _state.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if init_method is not None or store is not None:
        warnings.warn(
            "init_process_group: init_method and store are ignored: the MPI launcher connects "
            "the processes",
            stacklevel=2,
        )
    timeout_s = as_seconds(timeout)
    chosen = _choose_backend(backend, world_size)
    debug = os.environ.get(DEBUG_VARIABLE, "0").upper() not in ("", "0", "OFF")
    if chosen == "single":
        if world_size not in (-1, 1) or rank not in (-1, 0):
            raise ValueError(
                f"init_process_group: the 'single' backend is one process (rank 0 of 1); got "
                f"world_size={world_size}, rank={rank}. Launch with mpiexec -n N for more"
            )
        transport: Any = LocalTransport()
    else:
        mpi = import_mpi(timeout_s)
        joining = Joining(mpi.COMM_WORLD)
        if world_size not in (-1, joining.size) or rank not in (-1, joining.rank):
            raise ValueError(
                f"init_process_group: world_size={world_size}, rank={rank}, but MPI started "
                f"this process as rank {joining.rank} of {joining.size}"
            )
        if joining.size > 1:  # from here on, a rank that fails takes the job down with it
            _state.failing = joining
            _state.previous_excepthook = sys.excepthook
            sys.excepthook = _abort_on_uncaught_exception
        arrival = ProcessGroup(joining, range(joining.size), timeout_s, joining, debug)
        arrival.wait([joining.barrier()], "init_process_group")  # every rank has joined
        transport = MPITransport(mpi, mpi.COMM_WORLD)
        if joining.size > 1:
            _state.failing = transport
            if not _state.exit_announced:  # atexit runs it before mpi4py's MPI_Finalize
                atexit.register(_announce_exit)
                _state.exit_announced = True
    world = ProcessGroup(transport, range(transport.size), timeout_s, transport, debug)
    _state.default = world
    GroupMember.WORLD = world


def _announce_exit() -> None:
    """At exit, tell the other ranks this one takes part in no more collectives, so one still
    waiting for it fails with a message instead of waiting out its timeout."""
    world = _state.default
    if world is not None and world._world.size > 1:
        world._world.notify("left", "exit")


def _abort_on_uncaught_exception(kind: type, error: BaseException, traceback: Any) -> None:
    """Print the error as usual, tell the other ranks which rank failed, and abort the job:
    without this the other ranks would wait forever in their next collective."""
    previous = _state.previous_excepthook or sys.__excepthook__
    previous(kind, error, traceback)
    transport = _state.failing
    if transport is None:
        return
    sys.stderr.write(
        f"chainrule.distributed: rank {transport.rank} of {transport.size} stopped on "
        f"{kind.__name__}; aborting every rank of the job\n"
    )
    sys.stderr.flush()
    told = False
    if not isinstance(error, PeerFailedError):  # the first to fail tells the others, once
        told = transport.notify("failed", f"{kind.__name__}: {error}")
    # Give mpiexec time to forward what this rank printed: MPI_Abort tears the job down at
    # once, and output still in its forwarding pipes would be lost (the error message with it).
    time.sleep(_FAULT_GRACE_S if told else _OUTPUT_GRACE_S)
    transport.abort(1)


def _default_group(caller: str) -> ProcessGroup:
    if _state.default is None:
        raise ValueError(_NOT_INITIALIZED)
    return _state.default


def resolve_group(group: Any, caller: str) -> ProcessGroup | None:
    """The group a call names (None: the default), or None on a rank outside it."""
    world = _default_group(caller)
    if group is None:
        return world
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{caller}: group must be a ProcessGroup, got {type(group).__name__}")
    return group


def get_rank(group: Any = None) -> int:
    """This process's rank in `group` (the default group if None); -1 outside the group."""
    found = resolve_group(group, "get_rank")
    return -1 if found is None else found.rank()


def get_world_size(group: Any = None) -> int:
    """How many processes `group` (the default group if None) has; -1 outside the group."""
    found = resolve_group(group, "get_world_size")
    return -1 if found is None else found.size()


def get_backend(group: Any = None) -> str:
    found = resolve_group(group, "get_backend")
    if found is None:
        raise ValueError("Invalid process group specified")
    return found.name()


def new_subgroups_by_enumeration(
    ranks_per_subgroup_list: Sequence[Sequence[int]],
    timeout: datetime.timedelta | float | None = None,
    backend: str | None = None,
    pg_options: Any = None,
    group_desc: str | None = None,
) -> tuple[Any, list]:
    """One group per list of ranks (every rank of the default group calls it): (the group
    this rank is in, or None, and all of them)."""
    if not ranks_per_subgroup_list:
        raise ValueError("The arg 'ranks_per_subgroup_list' cannot be empty")
    seen: set[int] = set()
    for ranks in ranks_per_subgroup_list:
        overlap = seen.intersection(ranks)
        if overlap:
            raise ValueError(f"Rank {min(overlap)} has appeared in both subgroup")
        seen.update(ranks)
    me = get_rank()
    current = None
    subgroups = []
    for ranks in ranks_per_subgroup_list:
        subgroup = new_group(ranks, timeout, backend, pg_options, group_desc=group_desc)
        subgroups.append(subgroup)
        if me in ranks:
            current = subgroup
    return current, subgroups


def new_subgroups(
    group_size: int | None = None,
    group: Any = None,
    timeout: datetime.timedelta | float | None = None,
    backend: str | None = None,
    pg_options: Any = None,
    group_desc: str | None = None,
) -> tuple[Any, list]:
    """Groups of `group_size` consecutive ranks of `group` (the default group if None): (the
    one this rank is in, and all of them). PyTorch's default size is the node's GPU count;
    chainrule asks for it, as PyTorch does without CUDA."""
    if group_size is None:
        raise ValueError(
            "Default group size only takes effect when CUDA is available.If your subgroup using "
            "a backend that does not depend on CUDA,please pass in 'group_size' correctly."
        )
    if group_size <= 0:
        raise ValueError(f"The arg 'group_size' ({group_size}) must be positive")
    ranks = get_process_group_ranks(group if group is not None else _default_group("new_subgroups"))
    if len(ranks) < group_size:
        raise ValueError(
            f"The arg 'group_size' ({group_size}) must not exceed the world size ({len(ranks)})"
        )
    if len(ranks) % group_size:
        raise ValueError(
            f"The world size ({len(ranks)}) must be divisible by 'group_size={group_size}'"
        )
    chunks = [ranks[i : i + group_size] for i in range(0, len(ranks), group_size)]
    return new_subgroups_by_enumeration(chunks, timeout, backend, pg_options, group_desc)


def get_process_group_ranks(group: Any) -> list[int]:
    """The global ranks of `group`'s members, in group-rank order."""
    found = resolve_group(group, "get_process_group_ranks")
    if found is None:
        raise ValueError("get_process_group_ranks: this rank is not a member of the group")
    return list(found.ranks)


def get_global_rank(group: Any, group_rank: int) -> int:
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {ranks}")
    return ranks[group_rank]


def get_group_rank(group: Any, global_rank: int) -> int:
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {ranks}")
    return ranks.index(global_rank)


def new_group(
    ranks: Sequence[int] | None = None,
    timeout: datetime.timedelta | float | None = None,
    backend: str | None = None,
    pg_options: Any = None,
    use_local_synchronization: bool = False,
    group_desc: str | None = None,
    device_id: Any = None,
) -> Any:
    """A group of some ranks (all if None), in sorted order as PyTorch's. Every rank of the
    default group must call it; ranks left out get `GroupMember.NON_GROUP_MEMBER`."""
    world = _default_group("new_group")
    members = sorted(range(world.size()) if ranks is None else {int(r) for r in ranks})
    for member in members:
        if not 0 <= member < world.size():
            raise ValueError(
                f"new_group: rank {member} is out of range for a world of size {world.size()}"
            )
    world.wait([world.transport.barrier()], "new_group")  # all arrived: the split won't hang
    transport = world.transport.split(world.rank() in members)
    if transport is None:
        return GroupMember.NON_GROUP_MEMBER
    timeout_s = world.timeout_s if timeout is None else as_seconds(timeout)
    made = ProcessGroup(transport, members, timeout_s, world._world, world.debug)
    _state.groups.append(made)
    return made


def destroy_process_group(group: Any = None) -> None:
    """Free `group`, or, without one, every group and the default one (MPI itself stays up
    until the process exits, so init_process_group may be called again)."""
    if group is not None and group is not GroupMember.WORLD:
        if isinstance(group, ProcessGroup) and group in _state.groups:
            _state.groups.remove(group)
            group.transport.free()
        return
    world = _default_group("destroy_process_group")
    transport = world._world
    transport.poll_notices()
    if transport.failure is not None:  # a peer failed after this rank's last collective
        rank, message = transport.failure
        raise PeerFailedError(f"destroy_process_group: rank {rank} failed ({message})", rank)
    transport.notify("left", "destroy_process_group")
    for made in _state.groups:
        made.transport.free()
    _state.groups.clear()
    if _state.failing is not None:
        sys.excepthook = _state.previous_excepthook or sys.__excepthook__
        _state.failing = None
    world.transport.free()
    _state.default = None
    GroupMember.WORLD = None
