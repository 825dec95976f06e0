"""Grad modes: whether ops record the graph. Thread-local through a ContextVar.

Each mode is a context manager and a decorator, as in PyTorch. A new thread starts with
recording enabled, whatever the spawning thread had.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from chainrule.autograd.node import InferenceVersionCounter, VersionCounter

_grad_enabled: ContextVar[bool] = ContextVar("chainrule_grad_enabled", default=True)
_inference_mode: ContextVar[bool] = ContextVar("chainrule_inference_mode", default=False)
# The version counter a new tensor gets: inference_mode() makes inference tensors by giving
# them InferenceVersionCounter (Tensor._from_array reads this, one lookup per tensor).
counter_class: ContextVar[type[VersionCounter]] = ContextVar(
    "chainrule_counter_class", default=VersionCounter
)


def is_grad_enabled() -> bool:
    """Whether ops record the graph in this context: False inside `no_grad()` and
    `inference_mode()`, True by default. (The per-op path reads the ContextVar's bound `get`
    itself, as ops/op.py does: one Python call less per op.)

    Returns:
        bool: whether new results of differentiable ops can require grad.

    Example:
        >>> import chainrule
        >>> chainrule.is_grad_enabled()
        True
        >>> with chainrule.no_grad():
        ...     chainrule.is_grad_enabled()
        False
    """
    return _grad_enabled.get()


def is_inference_mode_enabled() -> bool:
    """Whether an `inference_mode()` block is active in this context.

    >>> import chainrule
    >>> with chainrule.inference_mode():
    ...     chainrule.is_inference_mode_enabled()
    True
    """
    return _inference_mode.get()


class _Mode:
    """Base for the mode context managers: enter sets, exit restores, calling decorates."""

    def _target(self) -> bool:
        raise NotImplementedError

    def __new__(cls, *args: Any, **kwargs: Any):
        # `@no_grad` without parentheses, as modern PyTorch allows.
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self) -> None:
        if not hasattr(self, "_tokens"):
            self._tokens = []
        self._tokens.append(_grad_enabled.set(self._target()))

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def clone(self) -> _Mode:
        """A fresh copy of this context manager (what a decorator uses for each call)."""
        return type(self)()

    def __call__(self, fn: Callable) -> Callable:
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, fn: Callable) -> Callable:
        """A generator runs in the mode each time it resumes, not only when it is created."""

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Any:
            gen = fn(*args, **kwargs)
            try:
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as error:
                        with self.clone():
                            response = gen.throw(error)
                    else:
                        with self.clone():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator


class no_grad(_Mode):  # noqa: N801 - PyTorch's names
    """Context manager and decorator (with or without parentheses): ops inside record
    nothing, so their outputs do not require grad and hold no graph. Per thread.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(2, requires_grad=True)
        >>> with chainrule.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    __signature__ = inspect.Signature()  # help() shows `no_grad()`, PyTorch's signature

    def _target(self) -> bool:
        return False


class enable_grad(_Mode):  # noqa: N801
    """Context manager and decorator: turn recording back on inside a `no_grad` block.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(2, requires_grad=True)
        >>> with chainrule.no_grad(), chainrule.enable_grad():
        ...     (x * 2).requires_grad
        True
    """

    __signature__ = inspect.Signature()  # help() shows `enable_grad()`, PyTorch's signature

    def _target(self) -> bool:
        return True


class set_grad_enabled(_Mode):  # noqa: N801
    """Set recording on or off, as a context manager or decorator; like PyTorch, a plain call
    `set_grad_enabled(False)` takes effect at once and lasts until changed.

    Args:
        mode (bool): record (True) or not (False).

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(2, requires_grad=True)
        >>> with chainrule.set_grad_enabled(False):
        ...     (x * 2).requires_grad
        False
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous = _grad_enabled.get()
        _grad_enabled.set(self.mode)

    def _target(self) -> bool:
        return self.mode

    def __enter__(self) -> None:
        self._tokens = getattr(self, "_tokens", [])
        self._tokens.append(_grad_enabled.set(self.mode))

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.reset(self._tokens.pop())
        _grad_enabled.set(self._previous)

    def clone(self) -> set_grad_enabled:
        """A fresh copy of this context manager (what a decorator uses for each call)."""
        previous = _grad_enabled.get()
        clone = set_grad_enabled(self.mode)
        _grad_enabled.set(previous)
        return clone

    def __call__(self, fn: Callable) -> Callable:
        _grad_enabled.set(self._previous)  # as a decorator it must not change the mode now
        return super().__call__(fn)


class inference_mode(_Mode):  # noqa: N801
    """Like `no_grad`, and `is_inference_mode_enabled()` is True inside. A context manager and
    decorator. As in PyTorch, tensors made inside (not views of tensors made outside) are
    inference tensors (`is_inference()`): outside inference mode, they cannot be saved for
    backward by an op that records (RuntimeError), nor be written in place, nor be made to
    require grad; any op outside (`clone()`) gives an ordinary tensor.

    Args:
        mode (bool): False turns inference mode off inside, recording on (as PyTorch,
            even inside a `no_grad` block): tensors made there are ordinary.

    Example:
        >>> import chainrule
        >>> with chainrule.inference_mode():
        ...     y = chainrule.ones(2, requires_grad=True) * 2
        >>> y.requires_grad, y.is_inference(), y.clone().is_inference()
        (False, True, False)
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def _target(self) -> bool:
        return not self.mode

    def __enter__(self) -> None:
        super().__enter__()
        self._inference_tokens = getattr(self, "_inference_tokens", [])
        counter = InferenceVersionCounter if self.mode else VersionCounter
        tokens = (_inference_mode.set(self.mode), counter_class.set(counter))
        self._inference_tokens.append(tokens)

    def __exit__(self, *exc: object) -> None:
        mode_token, counter_token = self._inference_tokens.pop()
        counter_class.reset(counter_token)
        _inference_mode.reset(mode_token)
        super().__exit__(*exc)

    def clone(self) -> inference_mode:
        """A fresh copy of this context manager (what a decorator uses for each call)."""
        return inference_mode(self.mode)


# What `set_multithreading_enabled` last set (`is_multithreading_enabled` reports it).
_multithreading: ContextVar[bool] = ContextVar("chainrule_multithreading", default=True)


def is_multithreading_enabled() -> bool:
    """Whether PyTorch would run backward on per-device worker threads: what
    `set_multithreading_enabled` set, True by default (chainrule's backward always runs on
    the calling thread; the flag is kept for programs that read it).

    >>> import chainrule
    >>> chainrule.autograd.is_multithreading_enabled()
    True
    """
    return _multithreading.get()


class set_multithreading_enabled:  # noqa: N801 - PyTorch's name
    """PyTorch's switch for running backward on per-device worker threads: accepted as a
    context manager, a decorator or a plain call (which, as PyTorch's, takes effect at once),
    and changes only what `is_multithreading_enabled` reports, since chainrule's backward
    always runs on the thread that calls it.

    Args:
        mode (bool): PyTorch's multithreaded backward on (True) or off (False).

    Example:
        >>> import chainrule
        >>> with chainrule.autograd.set_multithreading_enabled(False):
        ...     chainrule.ones(1, requires_grad=True).sum().backward()
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous = _multithreading.get()
        _multithreading.set(self.mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _multithreading.set(self._previous)

    def clone(self) -> set_multithreading_enabled:
        """A fresh copy of this context manager (made without changing the flag now)."""
        previous = _multithreading.get()
        clone = set_multithreading_enabled(self.mode)
        _multithreading.set(previous)
        return clone

    def __call__(self, fn: Callable) -> Callable:
        _multithreading.set(self._previous)  # as a decorator it must not change the flag now
        return fn
