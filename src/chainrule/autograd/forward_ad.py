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

Levels nest (torch.func's jvp nests the same way; torch.autograd.forward_ad itself refuses a
second level): a tensor carries one tangent per level, and `make_dual` and `unpack_dual` act
on the innermost level unless given `level=` (0 is the outermost, as `dual_level()` returns).
An op computes its tangent at level L with L and every level inside it closed, so the tangent
is itself a tensor carrying the outer levels' tangents: an inner level's tangent differentiated
at an outer one is a second derivative (forward over forward), exactly.

    >>> with fwAD.dual_level():
    ...     x1 = fwAD.make_dual(x, chainrule.ones(2))                 # level 0: d/dx
    ...     with fwAD.dual_level():
    ...         x2 = fwAD.make_dual(x1, chainrule.ones(2))            # level 1: d/dx again
    ...         dy = fwAD.unpack_dual(x2 ** 3).tangent                # 3 x**2, at level 1
    ...     fwAD.unpack_dual(dy).tangent                              # 6 x, its level-0 tangent
    tensor([ 6., 12.])
"""

from __future__ import annotations

import itertools
from contextvars import ContextVar
from typing import Any, NamedTuple

from chainrule.errors import DTypeValueError, GradError, ShapeError

# The active dual levels' ids, outermost first (None outside every `dual_level`). Each entry
# gets a fresh id, so tangents made under a level that has been exited are never read again.
# While an op's jvp rule for level L runs, the tuple is cut before L (L and the levels inside
# it are closed), so the rule's own ops carry the outer levels' tangents only.
_current_level: ContextVar[tuple[int, ...] | None] = ContextVar(
    "chainrule_dual_levels", default=None
)
_level_ids = itertools.count(1)

# The tokens of the levels entered by `enter_dual_level`, innermost last.
_entered: list = []


class UnpackedDualTensor(NamedTuple):
    """What `unpack_dual` returns: the primal and its tangent (None where it has none)."""

    primal: Any
    tangent: Any


def current_level() -> int | None:
    """The innermost active dual level (0 for the outermost, as `dual_level()` returns), or
    None outside every level."""
    levels = _current_level.get()
    return None if levels is None else len(levels) - 1


def _enter() -> tuple[int, Any]:
    levels = _current_level.get() or ()
    return len(levels), _current_level.set((*levels, next(_level_ids)))


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager inside which dual tensors carry tangents; returns the level's index (0
    for the outermost). A tangent belongs to the level it was made in and is dropped when
    that level exits. Levels nest: see the module docstring."""

    def __enter__(self) -> int:
        level, self._token = _enter()
        return level

    def __exit__(self, *exc: object) -> None:
        _current_level.reset(self._token)


def enter_dual_level() -> int:
    """Enter a new dual level without a `with` block (PyTorch's function); pair it with
    `exit_dual_level`.

    Returns:
        int: the new level's index (0 for the outermost).

    Example:
        >>> import chainrule
        >>> import chainrule.autograd.forward_ad as fwAD
        >>> fwAD.enter_dual_level()
        0
        >>> fwAD.unpack_dual(fwAD.make_dual(chainrule.ones(2), chainrule.ones(2)) * 3).tangent
        tensor([3., 3.])
        >>> fwAD.exit_dual_level()
    """
    level, token = _enter()
    _entered.append(token)
    return level


def exit_dual_level(*, level: int | None = None) -> None:
    """Leave the level entered last by `enter_dual_level`: its tangents are never read again.

    Args:
        level (int, optional): the index of that level, checked when given (a GradError if
            it is not the innermost).

    Example:
        >>> import chainrule.autograd.forward_ad as fwAD
        >>> level = fwAD.enter_dual_level()
        >>> fwAD.exit_dual_level(level=level)
    """
    if not _entered:
        raise GradError("exit_dual_level: no dual level was entered with enter_dual_level()")
    if level is not None and level != current_level():
        raise GradError(
            f"exit_dual_level: trying to exit a forward AD level ({level}) that was not the last "
            "one entered with enter_dual_level(); this is not supported"
        )
    _current_level.reset(_entered.pop())


def _level_id(level: int | None, levels: tuple[int, ...], name: str) -> int:
    """The id of level `level` (an index, 0 the outermost) of the active `levels`; the innermost
    when None."""
    if level is None:
        return levels[-1]
    if not 0 <= level < len(levels):
        raise GradError(
            f"{name}: invalid level {level} given: the active dual levels are 0 to "
            f"{len(levels) - 1}"
        )
    return levels[level]


def tangent_at(tensor: Any, level_id: int) -> Any:
    """The tangent `tensor` carries at the level with this id, or None."""
    extra = tensor._extra
    if extra is None:
        return None
    entry = extra.get("tangent")
    return None if entry is None else entry.get(level_id)


def tangent_of(tensor: Any) -> Any:
    """The tangent `tensor` carries at the innermost active level, or None."""
    levels = _current_level.get()
    return None if levels is None else tangent_at(tensor, levels[-1])


def has_tangent(tensor: Any) -> bool:
    """Whether `tensor` carries a tangent at any active level."""
    levels = _current_level.get()
    extra = tensor._extra
    if levels is None or extra is None:
        return False
    entry = extra.get("tangent")
    return entry is not None and any(level in entry for level in levels)


def set_tangent(tensor: Any, tangent: Any, level_id: int | None = None) -> None:
    """Give `tensor` this tangent at the level with this id (the innermost active one when
    None). The tensor's tangents are replaced, not changed in place: a saved output rebuilt
    for a vjp holds the tangents its output had when it was saved."""
    if level_id is None:
        level_id = _current_level.get()[-1]
    if tensor._extra is None:
        tensor._extra = {}
    entry = tensor._extra.get("tangent")
    tensor._extra["tangent"] = (
        {level_id: tangent} if entry is None else {**entry, level_id: tangent}
    )


def copy_tangents(source: Any, alias: Any, skip: int | None = None) -> Any:
    """`alias` (the same values as `source`) given `source`'s tangents at every level but the
    one with id `skip`; returns `alias`."""
    extra = source._extra
    entry = None if extra is None else extra.get("tangent")
    if entry:
        kept = {level: tangent for level, tangent in entry.items() if level != skip}
        if kept:
            if alias._extra is None:
                alias._extra = {}
            alias._extra["tangent"] = kept
    return alias


def inplace_tangent(target: Any, result: Any) -> None:
    """Before `result` is written into `target` in place (x.mul_(2), x[i] = y, x.fill_(0)):
    at each active level, `target` takes `result`'s tangent, or zeros when it had one and
    `result` has none. (A write into a view also updates its base's tangent: ops/views.py.)
    """
    levels = _current_level.get()
    changes = []
    for level in levels:
        tangent = tangent_at(result, level)
        if tangent is None and tangent_at(target, level) is None:
            continue
        changes.append((level, tangent))
    for level, tangent in changes:
        if tangent is None:
            tangent = target.new_zeros(target.shape)
        elif tangent.dtype != target.dtype:
            tangent = tangent.to(target.dtype)
        set_tangent(target, tangent, level)


def _alias(tensor: Any, skip: int | None) -> Any:
    """A view of `tensor` with its tangents but the one at level id `skip`: in the graph when
    `tensor` is being differentiated, else a plain alias (no op to record)."""
    if not tensor.requires_grad:
        return copy_tangents(tensor, tensor.detach(), skip)
    alias = tensor.view_as(tensor)  # an op: it carries the tangents of the active levels
    entry = None if alias._extra is None else alias._extra.get("tangent")
    if entry is not None and skip in entry:
        alias._extra["tangent"] = {level: t for level, t in entry.items() if level != skip}
    return alias


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A view of `tensor` that carries `tangent` at `level` (the innermost by default) and the
    tangents `tensor` carries at the other levels. Same shape; both floating, and the tangent
    is cast to the primal's dtype. Ops applied to it carry tangents to their results.

    Args:
        tensor (Tensor): the primal, floating point or complex.
        tangent (Tensor): its tangent, of the same shape, floating point or complex.
        level (int, optional): the index of an active dual level.

    Returns:
        Tensor: the dual tensor. Outside every `dual_level` it is a GradError.

    Example:
        >>> import chainrule
        >>> import chainrule.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     y = chainrule.sin(fwAD.make_dual(chainrule.zeros(2), chainrule.ones(2)))
        ...     fwAD.unpack_dual(y).tangent        # cos(0)
        tensor([1., 1.])
    """
    levels = _current_level.get()
    if levels is None:
        if level is not None:
            raise GradError(
                f"make_dual: trying to access a forward AD level ({level}) with an invalid "
                "index: it was either not created or is already exited"
            )
        raise GradError(
            "make_dual: trying to create a dual tensor for forward AD but no level exists; "
            "use `with dual_level():` first"
        )
    level_id = _level_id(level, levels, "make_dual")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise ShapeError(
            f"make_dual: tangent of shape {tuple(tangent.shape)} for a primal of shape "
            f"{tuple(tensor.shape)}; they must match"
        )
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise DTypeValueError(  # PyTorch: ValueError
            f"make_dual: expected the primal to be floating point or complex, but got "
            f"{tensor.dtype}"
        )
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise DTypeValueError(
            f"make_dual: expected the tangent to be floating point or complex, but got "
            f"{tangent.dtype}"
        )
    dual = _alias(tensor, level_id)  # a tangent it had at this level is replaced
    set_tangent(dual, tangent.to(tensor.dtype), level_id)
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent) at `level` (the innermost by default): the primal as a view without
    that tangent (keeping the other levels'), the tangent None if there is none; outside every
    level, always None.

    Args:
        tensor (Tensor): any tensor, dual or not.
        level (int, optional): the index of an active dual level.

    Returns:
        UnpackedDualTensor: the named tuple `(primal, tangent)`.

    Example:
        >>> import chainrule
        >>> import chainrule.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     y = fwAD.make_dual(chainrule.tensor([2.0]), chainrule.tensor([1.0])) ** 2
        ...     fwAD.unpack_dual(y)
        UnpackedDualTensor(primal=tensor([4.]), tangent=tensor([4.]))
    """
    levels = _current_level.get()
    if levels is None:
        return UnpackedDualTensor(tensor, None)
    level_id = _level_id(level, levels, "unpack_dual")
    tangent = tangent_at(tensor, level_id)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor, level_id), tangent)
