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

from chainrule.errors import DTypeError, GradError, ShapeError

# The active dual level's id (None outside `dual_level`). Each entry gets a fresh id, so
# tangents made under a level that has been exited are never read again.
_current_level: ContextVar[int | None] = ContextVar("chainrule_dual_level", default=None)
_level_ids = itertools.count(1)

current_level = _current_level.get
# The tokens of the levels entered by `enter_dual_level`, innermost last.
_entered: list = []


class UnpackedDualTensor(NamedTuple):
    primal: Any
    tangent: Any


def _new_level() -> int:
    if _current_level.get() is not None:
        raise GradError(
            "Nested forward mode AD is not supported: a dual level is already active (as in "
            "PyTorch); jvp of jvp and jacfwd of jacfwd are not supported either"
        )
    return next(_level_ids)


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager inside which dual tensors carry tangents. A tangent belongs to the
    level it was made in and is dropped when that level exits; levels do not nest (PyTorch)."""

    def __enter__(self) -> int:
        level = _new_level()
        self._token = _current_level.set(level)
        return level

    def __exit__(self, *exc: object) -> None:
        _current_level.reset(self._token)


def enter_dual_level() -> int:
    """Enter a new dual level without a `with` block (PyTorch's function); pair it with
    `exit_dual_level`."""
    level = _new_level()
    _entered.append(_current_level.set(level))
    return level


def exit_dual_level(*, level: int | None = None) -> None:
    """Leave the level entered last by `enter_dual_level`: its tangents are never read again."""
    if not _entered or (level is not None and level != _current_level.get()):
        raise GradError(
            f"exit_dual_level: level {level} is not the innermost level entered with "
            "enter_dual_level()"
        )
    _current_level.reset(_entered.pop())


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


def inplace_tangent(target: Any, result: Any) -> None:
    """Before `result` is written into `target` in place (x.mul_(2), x[i] = y, x.fill_(0)):
    `target` takes `result`'s tangent, or zeros when it had one and `result` has none.

    A write into a view of a dual tensor would leave the base's tangent stale (chainrule does
    not track tangents through views, as it does not record in-place writes to views of graph
    tensors), so it is refused.
    """
    tangent = tangent_of(result)
    if tangent is None and tangent_of(target) is None:
        return
    base = target._base
    if base is not None and tangent_of(base) is not None:
        raise GradError(
            "in-place write into a view of a dual tensor: chainrule does not propagate tangents "
            "from a view back to its base; write into the base (e.g. by indexing assignment) "
            f"or clone the view first (view shape {tuple(target.shape)})"
        )
    if tangent is None:
        tangent = target.new_zeros(target.shape)
    elif tangent.dtype != target.dtype:
        tangent = tangent.to(target.dtype)
    set_tangent(target, tangent)


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A view of `tensor` that carries `tangent` (same shape; both floating, and the tangent is
    cast to the primal's dtype). Ops applied to it carry tangents to their results."""
    current = _current_level.get()
    if current is None:
        raise GradError(
            "make_dual: trying to create a dual tensor for forward AD but no level exists; "
            "use `with dual_level():` first"
        )
    if level is not None and level != current:
        raise GradError(f"make_dual: level {level} is not the current dual level {current}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise ShapeError(
            f"make_dual: tangent of shape {tuple(tangent.shape)} for a primal of shape "
            f"{tuple(tensor.shape)}; they must match"
        )
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise DTypeError(
            f"make_dual: expected the primal to be floating point or complex, but got "
            f"{tensor.dtype}"
        )
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise DTypeError(
            f"make_dual: expected the tangent to be floating point or complex, but got "
            f"{tangent.dtype}"
        )
    # An alias: a view in the graph when the primal is being differentiated, else a plain
    # alias (no op to record or to give a tangent of its own).
    dual = tensor.view_as(tensor) if tensor.requires_grad else tensor.detach()
    set_tangent(dual, tangent.to(tensor.dtype))
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent): the primal as a view without tangent; tangent None if there is none
    (at the current level; outside every level, always None)."""
    tangent = tangent_of(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    primal = tensor.view_as(tensor) if tensor.requires_grad else tensor.detach()
    primal._extra = None
    return UnpackedDualTensor(primal, tangent)
