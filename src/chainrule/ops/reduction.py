"""Reductions over dimensions: sums, means, extremes, statistics, scans, sorting, softmax.

Conventions (PyTorch's): `dim` is an int, a tuple of ints, or None for all dimensions;
negative dims count from the end; `keepdim` keeps reduced dimensions as size 1. A vjp first
restores the reduced dimensions (`restore_dims`) and then broadcasts.
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.ops.elementwise import cast
from chainrule.ops.op import Op, apply
from chainrule.ops.shape import expand, normalize_dims, reshape


def reduced_axes(op_name: str, dim: Any, ndim: int) -> tuple[int, ...]:
    """`dim` as a sorted tuple of non-negative axes; None or () means every axis."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    return tuple(sorted(normalize_dims(op_name, dim, ndim)))


def restore_dims(g: Any, input_shape: tuple, axes: tuple, keepdim: bool) -> Any:
    """A reduced gradient reshaped so it broadcasts against the input (size 1 on `axes`)."""
    if keepdim or not axes:
        return g
    shape = tuple(1 if i in axes else size for i, size in enumerate(input_shape))
    return reshape(g, shape)


class Sum(Op):
    """Sum over `axes`. Derivative: g broadcast back over the summed dimensions."""

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple, keepdim: bool) -> Array:
        ctx.axes, ctx.keepdim = axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        shape = ctx.input_meta[0][0]
        return (expand(restore_dims(g, shape, ctx.axes, ctx.keepdim), shape),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Sum, (t,), ctx.axes, ctx.keepdim)


def sum(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:  # noqa: A001, A002
    """Sum of elements over `dim` (all when None). Integer and bool inputs sum to int64."""
    if dtype is not None:
        input = cast(input, dtypes.as_dtype(dtype))
    elif input._array.dtype.kind in "biu":
        input = cast(input, dtypes.int64)
    axes = reduced_axes("sum", dim, input._array.ndim)
    return apply(Sum, (input,), axes, keepdim)


class Mean(Op):
    """Mean over `axes`. Derivative: g / count broadcast back."""

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple, keepdim: bool) -> Array:
        ctx.axes, ctx.keepdim = axes, keepdim
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        shape = ctx.input_meta[0][0]
        count = 1
        for axis in ctx.axes:
            count *= shape[axis]
        return (expand(restore_dims(g, shape, ctx.axes, ctx.keepdim), shape) / count,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Mean, (t,), ctx.axes, ctx.keepdim)


def mean(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:  # noqa: A002
    """Mean over `dim`; like PyTorch, integer inputs are an error unless `dtype` is given."""
    if dtype is not None:
        input = cast(input, dtypes.as_dtype(dtype))
    elif input._array.dtype.kind != "f":
        from chainrule.errors import DTypeError

        raise DTypeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name.capitalize()}"
        )
    axes = reduced_axes("mean", dim, input._array.ndim)
    return apply(Mean, (input,), axes, keepdim)


# PLACEHOLDER (being written): functions not implemented yet. Remove each name as it lands.
def _placeholder(name: str) -> Any:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(name)

    return missing


for _name in ['all', 'amax', 'amin', 'any', 'argmax', 'argmin', 'argsort', 'count_nonzero', 'cumprod', 'cumsum', 'kthvalue', 'log_softmax', 'logsumexp', 'max', 'median', 'min', 'norm', 'prod', 'softmax', 'sort', 'std', 'topk', 'var']:
    globals()[_name] = _placeholder(_name)
