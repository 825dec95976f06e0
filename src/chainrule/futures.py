"""torch.futures: a `Future` holds the result of work that may not have finished yet.

Distributed collectives started with `async_op=True` return a Work whose `get_future()` is a
Future of the list of output tensors; `then(callback)` chains more work on it, which is how
DistributedDataParallel's communication hooks (distributed/algorithms/ddp_comm_hooks) say what
to do once an all-reduce has landed. No thread completes these: MPI makes progress when asked,
so `wait()` drives the collective to its end (and `done()` checks on it), and the callbacks run
in the thread that saw it finish. A Future made by hand is completed by `set_result` or
`set_exception`, from any thread.

>>> from chainrule.futures import Future
>>> fut = Future()
>>> doubled = fut.then(lambda f: f.value() * 2)
>>> fut.set_result(21)
>>> doubled.wait()
42
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")

_TWICE = (
    "Attempting to mark a completed Future as complete again. Note that a Future can only be "
    "marked completed once."
)


class Future(Generic[T]):
    """A value to come: `wait()` for it, or `then()` a callback on it.

    Args:
        devices (list, optional): accepted for PyTorch's signature; chainrule's futures need no
            stream synchronisation.
    """

    def __init__(self, *, devices: list | None = None) -> None:
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Future], None]] = []
        # Set by whoever produces the value (a collective's Work, a parent Future): `_drive()`
        # blocks until this Future is completed, `_poll()` completes it if its work has ended,
        # `_nudge()` lets the work progress without completing anything (no callback runs).
        self._drive: Callable[[], None] | None = None
        self._poll: Callable[[], Any] | None = None
        self._nudge: Callable[[], None] | None = None

    def done(self) -> bool:
        """Whether the Future has a result or an exception (checking on its work first)."""
        if not self._done and self._poll is not None:
            self._poll()
        return self._done

    def wait(self) -> T:
        """Block until the Future is completed and return its value (raising its exception)."""
        self._settle()
        return self.value()

    def value(self) -> T:
        """The value of a completed Future; raises its exception if it holds one."""
        if not self._done:
            raise RuntimeError(
                "Future.value() was called before the Future completed: call wait() first, or "
                "read the value inside a callback given to then()"
            )
        if self._error is not None:
            raise self._error
        return self._value

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new Future holding `callback(self)`, run once this one completes (at once if it
        already has). If this Future holds an exception and the callback reads `value()`, or
        the callback raises, the new Future holds a RuntimeError saying so."""
        child: Future[S] = Future()
        child._drive = self._settle
        child._poll = self.done
        child._nudge = self._progress

        def run(parent: Future[T]) -> None:
            try:
                result = callback(parent)
            except Exception as error:  # the child carries it to whoever waits on it
                wrapped = RuntimeError(
                    "Got the following error when running the callback: "
                    f"{type(error).__name__}: {error}"
                )
                wrapped.__cause__ = error
                child.set_exception(wrapped)
            else:
                child.set_result(result)

        self.add_done_callback(run)
        return child

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Run `callback(self)` when the Future completes (now, if it has). An exception the
        callback raises is reported as a warning, not raised: use then() to keep it."""
        with self._lock:
            if not self._done:
                self._callbacks.append(callback)
                return
        _run_callback(callback, self)

    def set_result(self, result: T) -> None:
        """Complete the Future with `result` and run its callbacks."""
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Complete the Future with the exception `result`: wait() and value() raise it."""
        if not isinstance(result, Exception):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def __repr__(self) -> str:
        state = "pending" if not self._done else "error" if self._error else "done"
        return f"<chainrule.futures.Future ({state})>"

    # ---- completion and progress ------------------------------------------------------------
    def _complete(self, value: Any, error: BaseException | None) -> None:
        with self._lock:
            if self._done:
                raise RuntimeError(_TWICE)
            self._value, self._error, self._done = value, error, True
            callbacks, self._callbacks = self._callbacks, []
            self._drive = self._poll = self._nudge = None  # the producer's work is over
        self._finished.set()
        for callback in callbacks:
            _run_callback(callback, self)

    def _settle(self) -> None:
        """Block until completed: drive the work behind it, or wait for another thread."""
        drive = self._drive
        if not self._done and drive is not None:
            drive()
        self._finished.wait()

    def _progress(self) -> None:
        """Let the work behind this Future progress without completing it (no callback runs)."""
        nudge = self._nudge
        if nudge is not None:
            nudge()


def _run_callback(callback: Callable[[Future], None], future: Future) -> None:
    try:
        callback(future)
    except Exception as error:  # PyTorch logs these and goes on
        warnings.warn(
            f"Got the following error when running the callback: {type(error).__name__}: {error}",
            RuntimeWarning,
            stacklevel=3,
        )


def collect_all(futures: list[Future]) -> Future[list[Future]]:
    """A Future of the list `futures`, completed once every one of them is; it holds the first
    exception any of them ends with instead, as soon as one does.

    >>> from chainrule.futures import Future, collect_all
    >>> a, b = Future(), Future()
    >>> both = collect_all([a, b])
    >>> a.set_result(1); b.set_result(2)
    >>> [f.value() for f in both.wait()]
    [1, 2]
    """
    futures = list(futures)
    combined: Future[list[Future]] = Future()
    if not futures:
        combined.set_result([])
        return combined
    remaining = [len(futures)]
    lock = threading.Lock()

    def one_done(future: Future) -> None:
        with lock:
            if combined._done:
                return
            error = future._error
            remaining[0] -= 1
            finished = error is not None or remaining[0] == 0
        if finished:
            if error is not None:
                combined.set_exception(error)  # type: ignore[arg-type]
            else:
                combined.set_result(futures)

    def drive() -> None:
        for future in futures:
            if not combined._done:
                future._settle()

    def poll() -> None:
        for future in futures:
            future.done()

    def nudge() -> None:
        for future in futures:
            future._progress()

    combined._drive, combined._poll, combined._nudge = drive, poll, nudge
    for future in futures:
        future.add_done_callback(one_done)
    return combined


def wait_all(futures: list[Future]) -> list:
    """The values of `futures`, once all are completed; raises the first exception among them.

    >>> from chainrule.futures import Future, wait_all
    >>> a = Future(); a.set_result("x")
    >>> wait_all([a])
    ['x']
    """
    return [future.wait() for future in collect_all(futures).wait()]
