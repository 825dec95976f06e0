"""Forward-mode AD, with PyTorch's API: `dual_level`, `make_dual`, `unpack_dual`.

Inside `with dual_level():`, a tensor made by `make_dual(x, t)` carries a tangent t. Every op
applied to it computes its output's tangent with the op's `jvp` rule next to its forward
(see ops/op.py), so the cost is a small constant times the function's own cost: no
reverse pass is involved.

    >>> import chainrule
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> x = chainrule.tensor([1.0, 2.0])
    >>> with fwAD.dual_level():
    ...     y = fwAD.make_dual(x, chainrule.ones(2)) ** 3
    ...     fwAD.unpack_dual(y).tangent       # 3 x**2
    tensor([ 3., 12.])
"""

from __future__ import annotations

import itertools
from contextvars import ContextVar
from typing import Any, NamedTuple

from chainrule.errors import GradError, ShapeError

# The active dual level's id (None outside `dual_level`). Each entry gets a fresh id, so
# tangents made under a level that has been exited are never read again.
_current_level: ContextVar[int | None] = ContextVar("chainrule_dual_level", default=None)
_level_ids = itertools.count(1)

current_level = _current_level.get


class UnpackedDualTensor(NamedTuple):
    primal: Any
    tangent: Any


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager inside which dual tensors carry tangents."""

    def __enter__(self) -> int:
        level = next(_level_ids)
        self._token = _current_level.set(level)
        return level

    def __exit__(self, *exc: object) -> None:
        _current_level.reset(self._token)


def enter_dual_level() -> int:
    level = next(_level_ids)
    _current_level.set(level)
    return level


def exit_dual_level(*, level: int | None = None) -> None:
    _current_level.set(None)


def tangent_of(tensor: Any) -> Any:
    """The tangent `tensor` carries at the current level, or None."""
    extra = tensor._extra
    if extra is None:
        return None
    entry = extra.get("tangent")
    if entry is None or entry[0] != _current_level.get():
        return None
    return entry[1]


def set_tangent(tensor: Any, tangent: Any) -> None:
    if tensor._extra is None:
        tensor._extra = {}
    tensor._extra["tangent"] = (_current_level.get(), tangent)


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A view of `tensor` that carries `tangent` (same shape, floating dtype)."""
    if _current_level.get() is None:
        raise GradError("make_dual: no dual level is active; use `with dual_level():`")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise ShapeError(
            f"make_dual: tangent of shape {tuple(tangent.shape)} for a primal of shape "
            f"{tuple(tensor.shape)}; they must match"
        )
    if not tensor.is_floating_point() or not tangent.is_floating_point():
        raise GradError("make_dual: primal and tangent must be floating tensors")
    dual = tensor.view_as(tensor)
    set_tangent(dual, tangent.to(tensor.dtype))
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent): the primal as a view without tangent; tangent None if there is none."""
    tangent = tangent_of(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    primal = tensor.view_as(tensor)
    primal._extra = None
    return UnpackedDualTensor(primal, tangent)
