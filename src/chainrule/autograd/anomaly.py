"""Anomaly mode: find the op that made a NaN, and where in your code it was called.

Inside `detect_anomaly()`, every recorded node keeps the stack of its forward call
(`node.metadata["traceback_"]`, as in PyTorch), and when a node's backward returns NaN the engine
raises GradError naming the node and printing that stack. Any other error raised while a node's
backward runs gets the same stack attached as a note. With `check_forward=True`, an op whose
forward turns NaN-free inputs into a NaN output is blamed as well, at once: PyTorch checks only
backward, because NaNs in forward are often deliberate (`where(x > 0, log(x), 0)` computes
log of negatives and throws the NaNs away), so this is opt-in.

The mode lives in a ContextVar (like grad mode), so it is per thread; it costs a stack capture per
op and a NaN scan per gradient, so it is for debugging only.

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    >>> data = chainrule.tensor([0.5, float("nan")])     # a missing value in the data
    >>> with chainrule.autograd.detect_anomaly():
    ...     loss = (w * data).sum()
    ...     loss.backward()
    Traceback (most recent call last):
    ...
    chainrule.errors.GradError: Function 'MulBackward0' returned nan values in its 0th output.
    Traceback of forward call that caused the error:
    ...
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from chainrule.autograd.node import Node
from chainrule.autograd.observers import Observer, add_observer, observers, remove_observer
from chainrule.errors import GradError

__all__ = [
    "detect_anomaly",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "set_detect_anomaly",
]

# Frames between the op call and AnomalyMode.forward_end: forward_end, observed_call, apply.
_OWN_FRAMES = 3


class AnomalyMode(Observer):
    """The observer: records forward stacks, checks results for NaN."""

    def __init__(self, check_nan: bool, check_forward: bool) -> None:
        self.check_nan = check_nan
        self.check_forward = check_forward
        self._backward_depth = 0  # > 0 while a node's backward runs (its ops are not "forward")

    def forward_end(
        self, op: type, inputs: Sequence[Any], outputs: tuple, node: Node | None, state: Any
    ) -> None:
        import traceback  # here, not at the top: only anomaly mode needs it

        stack = None
        if node is not None:
            stack = traceback.extract_stack(sys._getframe(_OWN_FRAMES))
            node.metadata["traceback_"] = stack
        if self.check_nan and self.check_forward and self._backward_depth == 0:
            self._check_forward(op, inputs, outputs, node, stack)

    def _check_forward(
        self, op: type, inputs: Sequence[Any], outputs: tuple, node: Node | None, stack: Any
    ) -> None:
        for index, output in enumerate(outputs):
            if _has_nan(output):
                if any(_has_nan(tensor) for tensor in inputs):
                    return  # the NaN came in; the op that made it was blamed (or is not an op)
                if stack is None:
                    import traceback

                    stack = traceback.extract_stack(sys._getframe(_OWN_FRAMES + 1))
                name = node.name() if node is not None else op.__name__
                raise GradError(
                    f"Function '{name}' returned nan values in its {index}th output during "
                    f"forward (its inputs have none).\n{_describe(stack)}"
                )

    def backward_begin(self, node: Node, grads: list) -> Any:
        self._backward_depth += 1

    def backward_end(self, node: Node, grads: list, input_grads: Any, state: Any) -> None:
        self._backward_depth -= 1
        if not self.check_nan or type(input_grads) is not tuple:
            return
        for index, grad in enumerate(input_grads):
            if grad is not None and _has_nan(grad):
                raise GradError(
                    f"Function '{node.name()}' returned nan values in its {index}th output."
                    f"\n{_describe(_stack_of(node))}"
                )

    def backward_error(self, node: Node, error: BaseException, state: Any) -> None:
        self._backward_depth -= 1
        if isinstance(error, GradError) and "returned nan values" in str(error):
            return  # raised by this mode, already carries the stack
        stack = _stack_of(node)
        if stack is not None and hasattr(error, "add_note"):
            error.add_note(f"Error detected in {node.name()}. {_describe(stack)}")


def _has_nan(tensor: Any) -> bool:
    array = tensor._array
    if array.dtype.kind not in "fcV":
        return False
    return bool(tensor._backend.xp.isnan(array).any())


def _stack_of(node: Node) -> Any:
    return node.metadata.get("traceback_")


def _describe(stack: Any) -> str:
    import traceback

    if stack is None:
        return (
            "No forward trace was recorded for it: its forward ran outside detect_anomaly(), or "
            "it is a custom autograd.Function (not traced yet)."
        )
    return "Traceback of forward call that caused the error:\n" + "".join(
        traceback.format_list(stack)
    )


def _current() -> AnomalyMode | None:
    for observer in observers.get() or ():
        if isinstance(observer, AnomalyMode):
            return observer
    return None


def _install(mode: AnomalyMode | None) -> None:
    """Make `mode` the active anomaly mode (None: off), replacing any other."""
    current = _current()
    if current is not None:
        remove_observer(current)
    if mode is not None:
        add_observer(mode)


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly mode on or off for good (torch.set_anomaly_enabled), rather than for a
    block as `detect_anomaly` does.

    Args:
        enabled (bool): anomaly mode on.
        check_nan (bool): also check every backward result for NaN (default: True).

    Example:
        >>> import chainrule
        >>> chainrule.set_anomaly_enabled(True, check_nan=False)
        >>> chainrule.is_anomaly_enabled(), chainrule.is_anomaly_check_nan_enabled()
        (True, False)
        >>> chainrule.set_anomaly_enabled(False)
    """
    _install(AnomalyMode(check_nan, False) if enabled else None)


def is_anomaly_enabled() -> bool:
    """Whether a `detect_anomaly` context (or `set_detect_anomaly(True)`) is active here.

    Example:
        >>> import chainrule
        >>> with chainrule.autograd.detect_anomaly():
        ...     chainrule.autograd.is_anomaly_enabled()
        True
        >>> chainrule.autograd.is_anomaly_enabled()
        False
    """
    return _current() is not None


def is_anomaly_check_nan_enabled() -> bool:
    """Whether the active anomaly mode also checks every backward result for NaN (False when
    anomaly mode is off).

    Example:
        >>> import chainrule
        >>> with chainrule.autograd.detect_anomaly(check_nan=False):
        ...     chainrule.autograd.is_anomaly_check_nan_enabled()
        False
    """
    mode = _current()
    return mode is not None and mode.check_nan


class detect_anomaly(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: anomaly mode on inside. Every recorded op keeps the
    stack of its forward call, and a backward that returns NaN (or raises) is reported with
    that stack. For debugging only: it costs a stack capture per op.

    Args:
        check_nan (bool): raise GradError when a node's backward returns NaN.
        check_forward (bool): also raise, at once, when an op's forward makes a NaN from
            NaN-free inputs (chainrule's addition; off by default because some code makes
            NaNs on purpose and discards them).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([0.0], requires_grad=True)
        >>> with chainrule.autograd.detect_anomaly():
        ...     chainrule.sqrt(x * 0.0 - 1.0).sum().backward()
        Traceback (most recent call last):
        ...
        chainrule.errors.GradError: Function 'SqrtBackward0' returned nan values in its 0th output.
        ...
    """

    def __init__(self, check_nan: bool = True, *, check_forward: bool = False) -> None:
        self.check_nan = check_nan
        self.check_forward = check_forward
        self._previous: list[AnomalyMode | None] = []
        warnings.warn(  # PyTorch's, each time the mode is made
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self._previous.append(_current())
        _install(AnomalyMode(self.check_nan, self.check_forward))

    def __exit__(self, *exc: object) -> None:
        _install(self._previous.pop())


class set_detect_anomaly(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Turn anomaly mode on or off. Takes effect when called, like PyTorch; used as a context
    manager it restores the previous mode on exit.

    Args:
        mode (bool): on or off.
        check_nan (bool): as in `detect_anomaly`.
        check_forward (bool): as in `detect_anomaly`.

    Example:
        >>> import chainrule
        >>> with chainrule.autograd.set_detect_anomaly(True):
        ...     chainrule.autograd.is_anomaly_enabled()
        True
    """

    def __init__(self, mode: bool, check_nan: bool = True, *, check_forward: bool = False) -> None:
        self._previous = _current()
        _install(AnomalyMode(check_nan, check_forward) if mode else None)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _install(self._previous)
