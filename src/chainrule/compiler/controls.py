"""torch.compiler's controls, for code written against PyTorch's compiler: what they mean for
`chainrule.compile`, which traces a whole call and replays it (docs/how-it-works.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable)

__all__ = [
    "allow_in_graph",
    "assume_constant_result",
    "disable",
    "is_compiling",
    "is_dynamo_compiling",
    "is_exporting",
    "list_backends",
    "reset",
]


def disable(fn: F | None = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """`fn` left out of compilation in PyTorch. chainrule.compile records array work, not
    Python, so the function's ops are captured like any others; returns `fn` (as a decorator
    without `fn`, a decorator that returns its function).

    Args:
        fn (callable, optional): the function.
        recursive (bool): PyTorch's: also the functions it calls.
        reason (str, optional): PyTorch's: why, for its logs.

    Example:
        >>> from chainrule.compiler import disable
        >>> @disable
        ... def f(x):
        ...     return x + 1
        >>> f(1)
        2
    """
    if fn is None:
        return lambda function: function
    return fn


def is_compiling() -> bool:
    """Whether PyTorch's compiler is tracing this call: never, here (chainrule.compile runs the
    function itself, eagerly, to capture it).

    Returns:
        bool: False.

    Example:
        >>> from chainrule.compiler import is_compiling
        >>> is_compiling()
        False
    """
    return False


is_dynamo_compiling = is_compiling
is_exporting = is_compiling


def reset() -> None:
    """Forget PyTorch's compiled programs. chainrule.compile keeps its programs on each
    compiled function, which a new `chainrule.compile` call starts afresh; nothing to do.

    Example:
        >>> from chainrule.compiler import reset
        >>> reset()
    """


def allow_in_graph(fn: F) -> F:
    """PyTorch: trace `fn` as one opaque call. Its array work is captured either way here;
    returns `fn`.

    Args:
        fn (callable): the function.

    Example:
        >>> from chainrule.compiler import allow_in_graph
        >>> allow_in_graph(abs)(-2)
        2
    """
    return fn


def assume_constant_result(fn: F) -> F:
    """PyTorch: treat `fn`'s result as a constant of the graph. Returns `fn`.

    Args:
        fn (callable): the function.

    Example:
        >>> from chainrule.compiler import assume_constant_result
        >>> assume_constant_result(len)([1, 2])
        2
    """
    return fn


def list_backends(exclude_tags: Any = ("debug", "experimental")) -> list[str]:
    """The compiler backends: chainrule.compile's one, capture and replay.

    Args:
        exclude_tags (tuple): PyTorch's: backend tags to leave out.

    Returns:
        list of str: the backend names.

    Example:
        >>> from chainrule.compiler import list_backends
        >>> list_backends()
        ['chainrule']
    """
    return ["chainrule"]
