"""`chainrule.multiprocessing`: PyTorch's `torch.multiprocessing`, which is Python's
multiprocessing (every name of it is here: `Process`, `Queue`, `get_context`,
`set_start_method`, ...) with PyTorch's additions: the sharing strategies and `spawn`, which
runs `fn(i, *args)` in `nprocs` fresh processes and raises, in the parent, the first error a
child raised. A tensor in shared memory (`share_memory_()`, `Module.share_memory()`) goes to
another process by the name of its POSIX shared-memory block, so both write the same memory
(Hogwild training); other tensors go by value. There is one way of sharing, so
`set_sharing_strategy` records the choice.

>>> import chainrule.multiprocessing as mp
>>> mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
True
"""

from __future__ import annotations

import multiprocessing as _multiprocessing
import sys as _sys
import traceback as _traceback
from collections.abc import Callable as _Callable
from typing import Any as _Any

__all__ = [
    "ProcessContext",
    "ProcessException",
    "ProcessExitedException",
    "ProcessRaisedException",
    "get_all_sharing_strategies",
    "get_sharing_strategy",
    "set_sharing_strategy",
    "spawn",
    "start_processes",
]

_STRATEGIES = {"file_descriptor", "file_system"} if _sys.platform != "darwin" else {"file_system"}
_sharing = {"strategy": "file_descriptor" if _sys.platform != "darwin" else "file_system"}


def __getattr__(name: str) -> _Any:
    """Python's multiprocessing names (`Process`, `Queue`, `set_start_method`, ...)."""
    try:
        return getattr(_multiprocessing, name)
    except AttributeError:
        raise AttributeError(
            f"module 'chainrule.multiprocessing' has no attribute {name!r}"
        ) from None


def get_all_sharing_strategies() -> set[str]:
    """The strategies `set_sharing_strategy` accepts on this system.

    Returns:
        set of str

    Example:
        >>> import chainrule.multiprocessing as mp
        >>> "file_system" in mp.get_all_sharing_strategies()
        True
    """
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    """The strategy `set_sharing_strategy` chose (PyTorch's default for this system until then).

    Returns:
        str

    Example:
        >>> import chainrule.multiprocessing as mp
        >>> isinstance(mp.get_sharing_strategy(), str)
        True
    """
    return _sharing["strategy"]


def set_sharing_strategy(new_strategy: str) -> None:
    """Record how tensors would be shared between processes; chainrule's travel by value, so
    the choice changes nothing (programs set 'file_system' to avoid running out of file
    descriptors under PyTorch).

    Args:
        new_strategy (str): one of `get_all_sharing_strategies()`.

    Example:
        >>> import chainrule.multiprocessing as mp
        >>> mp.set_sharing_strategy("file_system")
        >>> mp.get_sharing_strategy()
        'file_system'
    """
    if new_strategy not in _STRATEGIES:
        raise ValueError(
            f"set_sharing_strategy: unknown strategy {new_strategy!r}; this system has "
            f"{sorted(_STRATEGIES)}"
        )
    _sharing["strategy"] = new_strategy


class ProcessException(Exception):  # noqa: N818 - PyTorch's name
    """A process started by `spawn` failed.

    Args:
        msg (str): what happened.
        error_index (int): the failed process's index (its first argument).
        pid (int): its process id.

    Example:
        >>> import chainrule.multiprocessing as mp
        >>> mp.ProcessException("failed", 0, 123).error_index
        0
    """

    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self) -> tuple:
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A process started by `spawn` raised: the message holds its traceback.

    Args:
        msg (str): the child's traceback.
        error_index (int): the failed process's index.
        error_pid (int): its process id.

    Example:
        >>> import chainrule.multiprocessing as mp
        >>> issubclass(mp.ProcessRaisedException, mp.ProcessException)
        True
    """

    def __init__(self, msg: str, error_index: int, error_pid: int) -> None:
        super().__init__(msg, error_index, error_pid)


class ProcessExitedException(ProcessException):
    """A process started by `spawn` exited with a nonzero code (or a signal) without raising.

    Args:
        msg (str): what happened.
        error_index (int): the failed process's index.
        error_pid (int): its process id.
        exit_code (int): its exit code (negative: killed by that signal).

    Example:
        >>> import chainrule.multiprocessing as mp
        >>> mp.ProcessExitedException("exited", 1, 123, 9).exit_code
        9
    """

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code

    def __reduce__(self) -> tuple:
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code)


def _run(fn: _Callable[..., object], index: int, args: tuple, errors: _Any) -> None:
    """A child's body: fn(index, *args), its traceback sent to the parent if it raises."""
    try:
        fn(index, *args)
    except KeyboardInterrupt:
        pass  # the parent is shutting the children down
    except Exception:  # noqa: BLE001 - every error goes back to the parent
        errors.put(_traceback.format_exc())
        _sys.exit(1)


class ProcessContext:
    """The processes `start_processes` started, to `join`.

    Args:
        processes (list): the started processes, by index.
        error_queues (list): one queue per process, on which it reports a traceback.

    Example:
        >>> import chainrule.multiprocessing as mp
        >>> context = mp.ProcessContext([], [])
        >>> context.join()
        True
    """

    def __init__(self, processes: list, error_queues: list) -> None:
        self.processes = processes
        self.error_queues = error_queues

    def pids(self) -> list[int]:
        """The children's process ids, by index."""
        return [int(process.pid) for process in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the children: True when all have exited successfully; raise
        ProcessRaisedException (ProcessExitedException) for the first that raised (failed),
        after stopping the others.

        Args:
            timeout (float, optional): seconds to wait for each child.
        """
        for process in self.processes:
            process.join(timeout)
        for index, process in enumerate(self.processes):
            if process.exitcode is None:
                return False
            if process.exitcode != 0:
                for other in self.processes:
                    if other.is_alive():
                        other.terminate()
                if not self.error_queues[index].empty():
                    trace = self.error_queues[index].get()
                    message = f"\n\n-- Process {index} terminated with the following error:\n"
                    raise ProcessRaisedException(message + trace, index, process.pid)
                raise ProcessExitedException(
                    f"process {index} terminated with exit code {process.exitcode}",
                    index,
                    process.pid,
                    process.exitcode,
                )
        return True


def start_processes(
    fn: _Callable[..., object],
    args: tuple = (),
    nprocs: int = 1,
    join: bool = True,
    daemon: bool = False,
    start_method: str = "spawn",
) -> ProcessContext | None:
    """Start `nprocs` processes running fn(i, *args), i = 0 .. nprocs - 1, by `start_method`;
    wait for them when `join` (else return their ProcessContext).

    Args:
        fn (callable): a module-level function (pickled to the children).
        args (tuple): its arguments after the process index.
        nprocs (int): how many processes.
        join (bool): wait for them and raise the first child's error.
        daemon (bool): make the children daemonic.
        start_method (str): 'spawn', 'fork' or 'forkserver'.

    Returns:
        ProcessContext, or None when joined.

    Example:
        >>> import chainrule.multiprocessing as mp
        >>> mp.start_processes(print, nprocs=0) is None
        True
    """
    context = _multiprocessing.get_context(start_method)
    error_queues, processes = [], []
    for index in range(nprocs):
        errors = context.SimpleQueue()
        process = context.Process(target=_run, args=(fn, index, args, errors), daemon=daemon)
        process.start()
        error_queues.append(errors)
        processes.append(process)
    started = ProcessContext(processes, error_queues)
    if not join:
        return started
    started.join()
    return None


def spawn(
    fn: _Callable[..., object],
    args: tuple = (),
    nprocs: int = 1,
    join: bool = True,
    daemon: bool = False,
    start_method: str = "spawn",
) -> ProcessContext | None:
    """`start_processes` by 'spawn': fn(i, *args) in `nprocs` fresh interpreters.

    Args:
        fn (callable): a module-level function (pickled to the children).
        args (tuple): its arguments after the process index.
        nprocs (int): how many processes.
        join (bool): wait for them and raise the first child's error.
        daemon (bool): make the children daemonic.
        start_method (str): must be 'spawn' (PyTorch's rule).

    Returns:
        ProcessContext, or None when joined.

    Example:
        >>> import chainrule.multiprocessing as mp
        >>> mp.spawn(print, nprocs=0) is None
        True
    """
    if start_method != "spawn":
        raise ValueError(
            f"spawn: start_method must be 'spawn' (got {start_method!r}); use start_processes"
        )
    return start_processes(fn, args, nprocs, join, daemon, start_method)
