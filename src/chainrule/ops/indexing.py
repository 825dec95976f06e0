"""Indexing: slicing, integer and boolean masks, gather/scatter and friends.

Reading with an index (`x[key]`) and adding into zeros at that index (`IndexAdd` of the
gradient) are each other's transposes, so the vjp of one is the other and gradients
accumulate over repeated indices.
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes, is_array
from chainrule.errors import ShapeError
from chainrule.ops import op as _op
from chainrule.ops.elementwise import as_tensor_operand, binary_operands, where
from chainrule.ops.op import Op, apply, unbroadcast

# ---- keys ------------------------------------------------------------------------------------


def normalize_key(key: Any, xp: Any) -> tuple[Any, bool]:
    """The key with Tensors and lists turned into arrays, and whether it is basic indexing
    (only ints, slices, None and Ellipsis: a view, with no repeated elements)."""
    if not isinstance(key, tuple):
        key = (key,)
    parts = []
    basic = True
    for part in key:
        if isinstance(part, _op.Tensor):
            part = part._array
            if part.ndim == 0 and part.dtype.kind in "iu":
                part = int(part)
            else:
                basic = False
        elif isinstance(part, (list,)) or is_array(part):
            part = xp.asarray(part)
            basic = False
        elif isinstance(part, bool):
            basic = False
        elif part is not None and part is not Ellipsis and not isinstance(part, (int, slice)):
            if hasattr(part, "__index__"):
                part = part.__index__()
            else:
                raise TypeError(f"getitem: unsupported index of type {type(part).__name__}")
        if is_array(part) and part.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        parts.append(part)
    return tuple(parts), basic


class Index(Op):
    """x[key]. Derivative: g added into zeros of x's shape at `key` (repeats accumulate)."""

    @staticmethod
    def forward(ctx: Node, x: Array, key: tuple, basic: bool) -> Array:
        ctx.key, ctx.basic = key, basic
        return x[key]

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(IndexAddIntoZeros, (g,), ctx.key, ctx.basic, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Index, (t,), ctx.key, ctx.basic)


class BasicIndex(Index):
    """x[key] for ints and slices only: a view of x."""

    is_view = True

    @classmethod
    def node_name(cls) -> str:
        return "SliceBackward0"


class IndexAddIntoZeros(Op):
    """zeros(shape) with g added at `key`. Derivative: the gradient read at `key`."""

    @staticmethod
    def forward(ctx: Node, g: Array, key: tuple, basic: bool, shape: tuple) -> Array:
        ctx.key, ctx.basic = key, basic
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        if basic:
            out[key] = g
        else:
            ctx.backend.scatter_add(out, key, g)
        return out

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        return (apply(Index, (gg,), ctx.key, ctx.basic),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(IndexAddIntoZeros, (t,), ctx.key, ctx.basic, ctx.input_meta[0][0])


def getitem(input: Any, key: Any) -> Any:  # noqa: A002
    """x[key] with NumPy/PyTorch semantics: slices and ints give views; integer tensors and
    boolean masks select copies."""
    normalized, basic = normalize_key(key, input._backend.xp)
    return apply(BasicIndex if basic else Index, (input,), normalized, basic)


class IndexPut(Op):
    """x with x[key] = value (value broadcast). Derivatives: g with g[key] zeroed for x, and
    g[key] reduced to value's shape for value."""

    @staticmethod
    def forward(ctx: Node, x: Array, value: Array, key: tuple) -> Array:
        ctx.key = key
        out = x.copy()
        out[key] = value
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        key = ctx.key
        grad_x = grad_value = None
        if ctx.next_edges[0] is not None:
            grad_x = apply(IndexPut, (g, _op.Tensor._wrap(g._backend.xp.zeros((), g._array.dtype))), key)
        if ctx.next_edges[1] is not None:
            selected = apply(Index, (g,), key, False)
            grad_value = unbroadcast(selected, ctx.input_meta[1][0])
        return (grad_x, grad_value)


def index_put(input: Any, key: Any, value: Any) -> Any:  # noqa: A002
    """A copy of x with x[key] = value: the out-of-place form of `x[key] = value`."""
    normalized, _ = normalize_key(key, input._backend.xp)
    value = as_tensor_operand(value, input.dtype, input)
    return apply(IndexPut, (input, value), normalized)


def masked_fill(input: Any, mask: Any, value: Any) -> Any:  # noqa: A002
    """x where mask is False, value where True (mask broadcast to x)."""
    if mask._array.dtype.kind != "b":
        raise TypeError(f"masked_fill: expected a bool mask, got {mask.dtype}")
    if isinstance(value, _op.Tensor) and value.ndim != 0:
        raise ShapeError(
            f"masked_fill: only supports a 0-dimensional value tensor, got shape {value.shape}"
        )
    x, fill = binary_operands(input, value) if isinstance(value, _op.Tensor) else (input, value)
    if not isinstance(fill, _op.Tensor):
        fill = as_tensor_operand(fill, x.dtype, x)
    result = where(mask, fill, x)
    if result.shape != x.shape:
        raise ShapeError(f"masked_fill: mask of shape {mask.shape} does not broadcast to {x.shape}")
    return result


class Nonzero(Op):
    """Indices of the non-zero elements. Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.stack(ctx.xp.nonzero(x), axis=-1).astype(dtypes.int64.numpy)


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:  # noqa: A002
    result = apply(Nonzero, (input,))
    if as_tuple:
        if input.ndim == 0:
            return (result.reshape(-1),)
        return tuple(result[:, i] for i in range(result.shape[1]))
    return result


# PLACEHOLDER (being written): functions not implemented yet. Remove each name as it lands.
def _placeholder(name: str) -> Any:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(name)

    return missing


for _name in ['gather', 'index_add', 'index_select', 'scatter', 'scatter_add', 'take_along_dim']:
    globals()[_name] = _placeholder(_name)
