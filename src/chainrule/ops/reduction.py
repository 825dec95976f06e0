# ruff: noqa: A001, A002 - PyTorch's names (`input`, `sum`, `max`, `all`, ...) throughout
"""Reductions over dimensions: sums, means, extremes, statistics, scans, sorting, softmax.

Conventions (PyTorch's): `dim` is an int, a tuple of ints, or None for all dimensions;
negative dims count from the end; `keepdim` keeps reduced dimensions as size 1. A vjp first
restores the reduced dimensions (`restore_dims`) and then broadcasts.

Value-selecting reductions (max/min along a dim, sort, topk, kthvalue, median along a dim) find
their indices with a non-differentiable op, then read the values with `TakeAlongAxis`, whose vjp
`PutAlongAxis` adds the gradient back at the selected elements. The two are each other's
transposes, so derivatives of every order flow. Reductions to one extreme value (amax, max(),
median()) split the gradient evenly between tied elements, as PyTorch does. Among tied
elements, selected indices are the first occurrence in input order (stable sorting).
"""

from __future__ import annotations

import builtins as _builtins
import math
import warnings
from collections.abc import Sequence
from types import SimpleNamespace as _SimpleNamespace
from typing import TYPE_CHECKING, Any, overload

from chainrule._tensor import Tensor
from chainrule.autograd import forward_ad
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.backend.float_errors import quiet_float_errors
from chainrule.errors import DomainError, DTypeError, GradError, IndexRangeError, ShapeError
from chainrule.ops import tie_order
from chainrule.ops.arguments import numpy_keywords, return_type
from chainrule.ops.autocast import FLOAT32, autocast_policy
from chainrule.ops.complex import complex_variant, conj, holomorphic, imag, real, refuse_complex
from chainrule.ops.conversion import write_out, write_outs
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.elementwise import (
    cast,
    ceil,
    exp,
    floor,
    isnan,
    lerp,
    log,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    sign,
    sub,
    where,
)
from chainrule.ops.elementwise import round as _round
from chainrule.ops.indexing import getitem
from chainrule.ops.op import (
    Computed,
    NoDerivative,
    Op,
    apply,
    elementwise_batch,
    in_c_order,
    named,
    unary_elementwise_jvp,
)
from chainrule.ops.shape import (
    expand,
    movedim,
    normalize_dim,
    normalize_dims,
    require_dims,
    reshape,
    unsqueeze,
)

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import MinMax, ValuesIndices

# ---- dimensions ----------------------------------------------------------------------------------


def reduced_axes(op_name: str, dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """`dim` as a sorted tuple of non-negative axes; None or () means every axis."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    axes = normalize_dims(op_name, dim, ndim)
    return tuple(sorted(axes)) if ndim else ()  # a 0-dim tensor accepts dim 0 and -1


def restore_dims(g: Any, input_shape: tuple, axes: tuple, keepdim: bool) -> Tensor:
    """A reduced gradient reshaped so it broadcasts against the input (size 1 on `axes`)."""
    if keepdim or not axes:
        return g
    shape = tuple(1 if i in axes else size for i, size in enumerate(input_shape))
    return reshape(g, shape)


def axes_batch(b: Any, x: Any, axes: tuple, *params: Any) -> Any:
    """vmap rule of reductions over a tuple of `axes` (their first parameter): the same axes
    one place further right, past the batch dimension."""
    return apply(b.op, (x,), tuple(axis + 1 for axis in axes), *params)


def axis_batch(b: Any, x: Any, axis: int, *params: Any) -> Any:
    """vmap rule of ops along one `axis` (their first parameter): the axis one place further
    right; a 0-dim example is taken as a 1-element vector."""
    if x.ndim == 1:
        column = apply(b.op, (reshape(x, (b.size, 1)),), 1, *params)
        return reshape(column, (b.size,))
    return apply(b.op, (x,), axis + 1, *params)


def _wrap(array: Array) -> Any:
    """A constant Tensor (a mask, an index) around a raw array."""
    return Tensor._from_array(array)


def _positions(xp: Any, size: int, axis: int, ndim: int) -> Array:
    """0, 1, ..., size - 1 laid along `axis` (size 1 on the other axes), to broadcast."""
    shape = [1] * ndim
    shape[axis] = size
    return xp.arange(size).reshape(shape)


def _count(shape: tuple, axes: tuple) -> int:
    count = 1
    for axis in axes:
        count *= shape[axis]
    return count


def _require_nonempty(op_name: str, input: Any, axes: tuple | None) -> None:
    """PyTorch refuses extremes over empty dimensions (they have no identity element)."""
    shape = input.shape
    if axes is None:
        if input._array.size == 0:  # PyTorch: IndexError (argmax) or RuntimeError (amax)
            raise IndexRangeError(
                f"{op_name}(): Expected reduction dim to be specified for input.numel() == 0 "
                f"(input shape {shape}). Specify the reduction dim with the 'dim' argument."
            )
        return
    for axis in axes:
        if shape and shape[axis] == 0:
            raise IndexRangeError(
                f"{op_name}(): Expected reduction dim {axis} to have non-zero size "
                f"(input shape {shape})."
            )


def _empty_dims_first(op_name: str, input: Any, dim: Any) -> None:
    """PyTorch checks that a named dimension is not empty before it checks the dtype:
    amax(<complex (0, 3)>, 0) and kthvalue(<bool (0, 3)>, 1, 0) raise IndexError."""
    if dim is None or isinstance(dim, Tensor):
        return
    dims = _each_dim(op_name, dim, input._array.ndim)
    if dims is not None:
        _require_nonempty(op_name, input, dims)


def _each_dim(op_name: str, dim: Any, ndim: int) -> tuple | None:
    """The dims a reduction names, each normalized but repeats kept: PyTorch refuses an
    empty reduced dimension before a repeated one."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(normalize_dim(op_name, d, ndim) for d in dims)


def _refuse_bool(op_name: str, input: Any) -> None:
    """Selections PyTorch does not implement for bool tensors."""
    if input._array.dtype.kind == "b":
        raise DTypeError(f"{op_name}: does not support bool input (shape {input.shape})")


def _require_floating(op_name: str, input: Any, message: str) -> None:
    if input._array.dtype.kind not in "fV":
        raise DTypeError(f"{op_name}: {message} Got {input.dtype.name} (shape {input.shape})")


# ---- reading and writing along one axis ----------------------------------------------------------


class TakeAlongAxis(Op):
    """x read at `index` along `axis` (torch.gather). Derivative: g added into zeros at the same
    positions (PutAlongAxis). The two ops are each other's transposes."""

    @staticmethod
    def forward(ctx: Node, x: Array, index: Array, axis: int) -> Array:
        ctx.save(index=index, axis=axis)
        return ctx.xp.take_along_axis(x, index, axis)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        # the index comes back as a constant Tensor; the op takes its array as a parameter
        return (apply(PutAlongAxis, (g,), ctx.index._array, ctx.axis, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(TakeAlongAxis, (t,), ctx.index._array, ctx.axis)

    @staticmethod
    def batch(b: Any, x: Any, index: Array, axis: int) -> Any:
        """vmap: x and the index array both with the batch first (a shared index broadcasts)."""
        index, index_batched = b.param(index)
        if not b.batched[0]:
            x = b.expand(x)
        if not index_batched:
            index = unsqueeze(index, 0)
        return apply(TakeAlongAxis, (x,), index._array, axis + 1)


class PutAlongAxis(Op):
    """zeros(shape) with g added at `index` along `axis` (repeated positions accumulate).
    Derivative: the gradient read back at `index` (TakeAlongAxis)."""

    @staticmethod
    def forward(ctx: Node, g: Array, index: Array, axis: int, shape: tuple) -> Array:
        ctx.save(index=index, axis=axis, shape=shape)
        xp = ctx.xp
        index = xp.broadcast_to(index, g.shape)
        key = []
        for i, size in enumerate(g.shape):
            if i == axis:
                key.append(index)
                continue
            line = _positions(xp, size, i, g.ndim)
            if shape[i] != size:  # x had size 1 here and was broadcast: every entry lands on 0
                line = line * 0
            key.append(line)
        out = xp.zeros(shape, dtype=g.dtype)
        ctx.backend.scatter_add(out, tuple(key), g)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(TakeAlongAxis, (g,), ctx.index._array, ctx.axis),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(PutAlongAxis, (t,), ctx.index._array, ctx.axis, ctx.shape)

    @staticmethod
    def batch(b: Any, g: Any, index: Array, axis: int, shape: tuple) -> Any:
        """vmap: as TakeAlongAxis, into zeros with the batch in front of `shape`."""
        index, index_batched = b.param(index)
        if not b.batched[0]:
            g = b.expand(g)
        if not index_batched:
            index = unsqueeze(index, 0)
        return apply(PutAlongAxis, (g,), index._array, axis + 1, (b.size, *shape))


def _take(x: Any, index: Array, axis: int) -> Any:
    """x read at the constant integer array `index` along `axis` (0-dim x: index 0)."""
    if x._array.ndim == 0:
        flat = apply(TakeAlongAxis, (reshape(x, (1,)),), index.reshape(1), 0)
        return reshape(flat, ())
    return apply(TakeAlongAxis, (x,), index, axis)


def _selected(input: Any, index: Any, axis: int, keepdim: bool) -> tuple[Any, Any]:
    """The values at `index` (an int64 Tensor of size 1 on `axis`) and the indices, with the
    axis dropped unless `keepdim`: what max/min/kthvalue/median along a dim return."""
    values = _take(input, index._array, axis)
    if keepdim or input._array.ndim == 0:
        return values, index
    shape = tuple(size for i, size in enumerate(values.shape) if i != axis)
    return reshape(values, shape), reshape(index, shape)


# ---- sum, mean, prod -----------------------------------------------------------------------------


def _kept_dtype(x: Array) -> Any:
    """The dtype a sum or product of x accumulates in: x's own (NumPy would widen an int32 or
    bool sum to int64, where PyTorch's sum(x, dtype=int32) stays int32 and a bool one is an
    `or`); None, NumPy's default, for floats."""
    return x.dtype if x.dtype.kind in "biu" else None


class Sum(Op):
    """Sum over `axes`. Derivative: g broadcast back over the summed dimensions."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple, keepdim: bool) -> Array:
        ctx.save(axes=axes, keepdim=keepdim)
        return in_c_order(x.sum(axis=axes, keepdims=keepdim, dtype=_kept_dtype(x)))

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        shape = ctx.input_meta[0][0]
        return (expand(restore_dims(g, shape, ctx.axes, ctx.keepdim), shape),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Sum, (t,), ctx.axes, ctx.keepdim)

    batch = axes_batch


class SumDim(Sum):
    """Sum over the dimensions a caller named (`sum(x, dim)`): Sum under PyTorch's name for
    that overload, SumBackward1 (a plain `sum(x)` is SumBackward0)."""

    label = "sum"

    @classmethod
    def node_name(cls) -> str:
        return "SumBackward1"


def sum(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: dtypes.dtype | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """The sum of the elements over `dim` (all when None). Integer and bool input sums to int64, as
    PyTorch. The gradient is the incoming one broadcast back over the reduced dimensions.

    Args:
        input (Tensor): any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        dtype (dtype, optional): cast `input` to this dtype first (an integer sum can then not
            overflow, a float16 one not lose precision).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.sum(x)
        tensor(15.)
        >>> chainrule.sum(x, dim=1, keepdim=True)
        tensor([[8.],
                [7.]])
        >>> chainrule.sum(chainrule.tensor([True, True, False]))
        tensor(2)
    """
    if out is not None:
        # (PyTorch sums in out's dtype: each element cast first, as with dtype=)
        dtype = out.dtype if dtype is None else dtype
        return write_out(
            "sum", sum(input, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims), out, "any"
        )
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("sum", dim, keepdim, axis, keepdims)
    x = _accumulating(input, dtype)
    op = Sum if dim is None and not keepdim else SumDim
    return apply(op, (x,), reduced_axes("sum", dim, x._array.ndim), keepdim)


def mean_array(x: Array, axes: tuple, keepdims: bool) -> Array:
    """x.mean over `axes`; of nothing it is nan, as PyTorch's, without NumPy's 'Mean of empty
    slice' warning (0 / 0 runs under Op.apply's silenced floating-point errors)."""
    if x.size:
        return x.mean(axis=axes, keepdims=keepdims)
    return x.sum(axis=axes, keepdims=keepdims) / 0


class Mean(Op):
    """Mean over `axes`. Derivative: g / count broadcast back."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple, keepdim: bool) -> Array:
        ctx.save(axes=axes, keepdim=keepdim)
        return in_c_order(mean_array(x, axes, keepdim))

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

    batch = axes_batch


class MeanDim(Mean):
    """Mean over the dimensions a caller named (`mean(x, dim)`): Mean under PyTorch's name for
    that overload, MeanBackward1 (a plain `mean(x)` is MeanBackward0)."""

    label = "mean"

    @classmethod
    def node_name(cls) -> str:
        return "MeanBackward1"


def mean(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: dtypes.dtype | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """The mean of the elements over `dim` (all when None). Integer input is an error unless
    `dtype` is given, as PyTorch.

    Args:
        input (Tensor): floating point or complex, any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        dtype (dtype, optional): cast `input` to this dtype first.
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.mean(x, dim=1)
        tensor([2.6667, 2.3333])
    """
    if out is not None:
        result = mean(input, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
        if dtype is None and (out.dtype.is_floating_point or out.dtype.is_complex):
            # (PyTorch averages in out's dtype, as with dtype=; a complex input's real part
            # into a real out)
            source = real(input) if result.dtype.is_complex and not out.dtype.is_complex else input
            result = mean(source, dim, keepdim, dtype=out.dtype, axis=axis, keepdims=keepdims)
        return write_out("mean", result, out, "cast")
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("mean", dim, keepdim, axis, keepdims)
    x = input if dtype is None else cast(input, dtypes.as_dtype(dtype))
    if x._array.dtype.kind not in "fcV":
        raise DTypeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {dtypes.scalar_type_name(x.dtype)}"
        )
    op = Mean if dim is None and not keepdim else MeanDim
    return apply(op, (x,), reduced_axes("mean", dim, x._array.ndim), keepdim)


class NanToZero(Op):
    """x with its NaNs replaced by 0: nansum's first step. Derivative: g times the mask of
    the other elements, PyTorch's `grad * ~isnan(x)`, so that an infinite g (nanmean over a
    slice of NaNs divides by a count of 0) gives NaN there, not the 0 a `where` would."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        kept = ~ctx.xp.isnan(x)
        ctx.save(kept=kept)
        return ctx.xp.where(kept, x, 0).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * cast(ctx.kept, g.dtype),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


def _without_nan(x: Any) -> Any:
    """x with its NaNs replaced by 0 (and so a zero gradient there); other dtypes as they are."""
    return apply(NanToZero, (x,)) if x._array.dtype.kind in "fV" else x


def nansum(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: dtypes.dtype | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The sum over `dim` treating NaN as 0; the gradient at a NaN is 0, as PyTorch's.

    Args:
        input (Tensor): any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        dtype (dtype, optional): cast `input` to this dtype first.
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> chainrule.nansum(chainrule.tensor([1.0, float("nan"), 2.0]))
        tensor(3.)
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("nansum", dim, keepdim, axis, keepdims)
    refuse_complex("nansum", input)
    x = _accumulating(input, dtype)
    summed = sum(_without_nan(x), dim, keepdim, dtype=x.dtype)  # (int32 dtype= stays int32)
    return named(summed, "NansumBackward0")


def nanmean(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: dtypes.dtype | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The mean over `dim` of the elements that are not NaN (NaN where all are): nansum / count.
    The gradient is g / count at the other elements and 0 at the NaNs, and NaN throughout a
    slice that is all NaN (the 0 / 0 of its count), as PyTorch's.

    Args:
        input (Tensor): floating point or complex, any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        dtype (dtype, optional): cast `input` to this dtype first.
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> chainrule.nanmean(chainrule.tensor([1.0, float("nan"), 3.0]))
        tensor(2.)
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("nanmean", dim, keepdim, axis, keepdims)
    if input._array.dtype.kind not in "fV":
        raise DTypeError(
            f"nanmean(): expected input to have floating point or complex dtype but got "
            f"{input.dtype.name} (shape {input.shape})"
        )
    x = input if dtype is None else cast(input, dtypes.as_dtype(dtype))
    count = sum(logical_not(isnan(x)), dim, keepdim)
    return named(nansum(x, dim, keepdim) / count, "DivBackward0")


@holomorphic
class Prod(Op):
    """Product over one axis (or all when axis is None). Derivative: g times the product of
    the other elements: out / x when x has no zero, else products of the elements before and
    after each one (`_exclusive_products`), exact to every order even with several zeros."""

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int | None, keepdim: bool) -> Array:
        out = in_c_order(x.prod(axis=axis, keepdims=keepdim, dtype=_kept_dtype(x)))
        zeros = x == 0
        has_zero = bool(zeros.any())
        # the product of everything with two zeros or more: its gradient is 0
        several_zeros = has_zero and axis is None and int(zeros.sum()) > 1
        ctx.save(x=x, out=out, axis=axis, keepdim=keepdim, has_zero=has_zero)
        ctx.save(several_zeros=several_zeros)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        shape = ctx.input_meta[0][0]
        if not shape:
            return (g,)
        axes = tuple(range(len(shape))) if ctx.axis is None else (ctx.axis,)
        g = restore_dims(g, shape, axes, ctx.keepdim)
        x = ctx.x
        if not ctx.has_zero:
            return (g * (restore_dims(ctx.out, shape, axes, ctx.keepdim) / x),)
        if ctx.several_zeros and not (is_grad_enabled() or _has_tangent(x, g)):  # zeros when
            # not differentiated again, as PyTorch (the exclusive products: nan beside a nan)
            return (_wrap(ctx.xp.zeros(shape, dtype=ctx.input_meta[0][1].numpy)),)
        if ctx.axis is None:
            others = reshape(_exclusive_products(reshape(x, (-1,)), 0), shape)
        else:
            others = _exclusive_products(x, ctx.axis)
        return (g * others,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return _reduction_jvp(ctx, t, ctx.axis, ctx.keepdim)

    @staticmethod
    def batch(b: Any, x: Any, axis: int | None, keepdim: bool) -> Any:
        """vmap: the axis one further right; all elements (axis None) per example."""
        if axis is not None:
            return apply(Prod, (x,), axis + 1, keepdim)
        out = apply(Prod, (reshape(x, (b.size, -1)),), 1, False)
        return reshape(out, (b.size,) + (1,) * (x.ndim - 1)) if keepdim else out


def _reduction_jvp(ctx: Node, t: Any, axes: Any, keepdim: bool) -> Any:
    """The jvp of a reduction whose outputs read disjoint groups of x: its vjp with a
    cotangent of ones is d out / d x_i at each i (one vjp's cost, no transpose), so the
    tangent is sum(t * that) over the same axes (every axis when `axes` is None)."""
    shape, dtype = ctx.input_meta[0]
    axes = tuple(range(len(shape))) if axes is None else axes
    axes = (axes,) if isinstance(axes, int) else axes
    kept = tuple(1 if i in axes else size for i, size in enumerate(shape))
    out_shape = kept if keepdim else tuple(s for i, s in enumerate(shape) if i not in axes)
    local = ctx.op.vjp(ctx, _wrap(ctx.xp.ones(out_shape, dtype.numpy)))[0]
    if local is None:
        return None
    if dtype.is_complex:  # a complex variant's vjp gives conj(d out / d x): ops/complex.py
        local = conj(local)
    return _over(sum, t * local, axes, keepdim)


def _exclusive_products(x: Any, axis: int) -> Any:
    """prod_{j != i} x_j along `axis`: the products of the elements before i and after i,
    each an exclusive cumprod, so zeros need no division (PyTorch's prod_safe_zeros_backward)."""
    xp = x._backend.xp
    size = x.shape[axis]
    position = _positions(xp, size, axis, x._array.ndim)
    first = _wrap(position == 0)
    previous = where(first, 1.0, _take(x, xp.maximum(position - 1, 0), axis))  # x[i-1]
    from_end = where(first, 1.0, _take(x, (size - position) % size, axis))  # x[n-i]
    before = cumprod(previous, axis)  # prod_{j < i} x_j
    after = _take(cumprod(from_end, axis), size - 1 - position, axis)  # prod_{j > i} x_j
    return before * after


@autocast_policy(FLOAT32)
def prod(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    dtype: dtypes.dtype | None = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The product of all elements, or along one `dim`. Integer and bool input gives int64. The
    gradient is exact where elements are zero (it is not computed as product / x).

    Args:
        input (Tensor): any shape.
        dim (int, optional): the dimension reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        dtype (dtype, optional): cast `input` to this dtype first.
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> chainrule.prod(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
        tensor([ 2., 12.])
        >>> x = chainrule.tensor([2.0, 0.0, 3.0], requires_grad=True)
        >>> chainrule.prod(x).backward()
        >>> x.grad
        tensor([0., 6., 0.])
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("prod", dim, keepdim, axis, keepdims)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    x = _accumulating(input, dtype)
    ndim = x._array.ndim
    axis = None
    if dim is not None:
        axis = normalize_dim("prod", dim, ndim)  # a 0-dim input accepts dim 0 and -1
        axis = axis if ndim else None
    out = apply(Prod if x._array.dtype.kind != "c" else complex_variant(Prod), (x,), axis, keepdim)
    return out if dim is None else named(out, "ProdBackward1")


def _accumulating(input: Any, dtype: Any) -> Any:
    """The input of a sum, product or scan: cast to `dtype`, or integers and bools to int64.
    An integer `dtype` for an input that requires grad is refused, as PyTorch's autograd
    refuses a differentiable integer result."""
    if dtype is not None:
        target = dtypes.as_dtype(dtype)
        integral = not (target.is_floating_point or target.is_complex)
        if integral and input._requires_grad and is_grad_enabled():
            raise GradError(f"Autograd not support dtype: {target.name}")
        return cast(input, target)
    if input._array.dtype.kind in "biu":
        return cast(input, dtypes.int64)
    return input


# ---- extremes ------------------------------------------------------------------------------------


class Amax(Op):
    """Maximum over `axes`. Derivative: g split evenly between the elements equal to the
    maximum (PyTorch's amax and max() convention). With `nan_aware` (max(), median()), a NaN
    result sends g to the NaNs; without it, as amax, a NaN result gives NaN gradients."""

    reduce = "max"

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple, keepdim: bool, nan_aware: bool) -> Array:
        out = in_c_order(getattr(x, ctx.op.reduce)(axis=axes, keepdims=keepdim))
        ctx.save(x=x, out=out, axes=axes, keepdim=keepdim, nan_aware=nan_aware)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        weights = _tie_weights(ctx.x, ctx.out, ctx.axes, ctx.keepdim, ctx.nan_aware, g.dtype)
        return (restore_dims(g, ctx.x.shape, ctx.axes, ctx.keepdim) * weights,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        weights = _tie_weights(ctx.x, ctx.out, ctx.axes, ctx.keepdim, ctx.nan_aware, t.dtype)
        return _over(sum, t * weights, ctx.axes, ctx.keepdim)

    batch = axes_batch


class Amin(Amax):
    """Minimum over `axes`. Derivative: g split evenly between the elements equal to the
    minimum, as Amax."""

    reduce = "min"


def _tie_weights(x: Any, out: Any, axes: tuple, keepdim: bool, nan_aware: bool, dtype: Any) -> Any:
    """1 / (number of ties) at the elements equal to the reduced value `out`, 0 elsewhere."""
    value = restore_dims(out, x.shape, axes, keepdim)
    mask = x == value
    if nan_aware:
        mask = logical_or(mask, logical_and(isnan(x), isnan(value)))
    mask = cast(mask, dtype)
    return mask / _over(sum, mask, axes, True)


def _over(reduce: Any, x: Any, axes: tuple, keepdim: bool) -> Any:
    """reduce(x, axes, keepdim) over the axes an op reduced, which may be none (a 0-dim input,
    or a 0-dim example under vmap, whose batch dimension the public functions' () would take
    as one of "every axis")."""
    return x if not axes else reduce(x, axes, keepdim=keepdim)


def amax(
    input: Tensor,
    dim: int | Sequence[int] = (),
    keepdim: bool = False,
    *,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The maximum over `dim` (all when ()), without indices; ties share the gradient evenly
    (`max` with a dim sends it to one element).

    Args:
        input (Tensor): any shape.
        dim (int or tuple of ints): the dimensions reduced; () reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.amax(x, 0)
        tensor([4., 5., 3.])
        >>> chainrule.amax(x)
        tensor(5.)
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("amax", dim, keepdim, axis, keepdims)
    _empty_dims_first("amax", input, dim)
    refuse_complex("amax", input)
    _require_nonempty("amax", input, _each_dim("amax", dim, input._array.ndim))
    axes = reduced_axes("amax", dim, input._array.ndim)
    return apply(Amax, (input,), axes, keepdim, False)


def amin(
    input: Tensor,
    dim: int | Sequence[int] = (),
    keepdim: bool = False,
    *,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The minimum over `dim` (all when ()), without indices; ties share the gradient evenly
    (`max` with a dim sends it to one element).

    Args:
        input (Tensor): any shape.
        dim (int or tuple of ints): the dimensions reduced; () reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.amin(x, 0)
        tensor([1., 0., 2.])
        >>> chainrule.amin(x)
        tensor(0.)
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("amin", dim, keepdim, axis, keepdims)
    _empty_dims_first("amin", input, dim)
    refuse_complex("amin", input)
    _require_nonempty("amin", input, _each_dim("amin", dim, input._array.ndim))
    axes = reduced_axes("amin", dim, input._array.ndim)
    return apply(Amin, (input,), axes, keepdim, False)


def aminmax(
    input: Tensor,
    *,
    dim: int | None = None,
    keepdim: bool = False,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> MinMax:
    """(min, max) over one `dim` (all when None), as `amin` and `amax`: ties share each gradient
    evenly.

    Args:
        input (Tensor): any shape.
        dim (int, optional): the dimension reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        (Tensor, Tensor): a named tuple (min, max).

    Example:
        >>> import chainrule
        >>> result = chainrule.aminmax(chainrule.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1)
        >>> result.min, result.max
        (tensor([1., 2.]), tensor([5., 3.]))
    """
    if out is not None:
        return write_outs(
            "aminmax", aminmax(input, dim=dim, keepdim=keepdim, axis=axis, keepdims=keepdims), out
        )
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("aminmax", dim, keepdim, axis, keepdims)
    _empty_dims_first("aminmax", input, dim)
    refuse_complex("aminmax", input)
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool)):
        raise TypeError(f"aminmax(): argument 'dim' must be int, not {type(dim).__name__}")
    axes = reduced_axes("aminmax", dim, input._array.ndim)
    if input._array.size == 0 and (dim is None or input.shape[axes[0]] == 0):
        raise IndexRangeError(
            f"aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
            f"identity (input shape {input.shape}, dim {dim})"
        )
    low = named(apply(Amin, (input,), axes, keepdim, False), "AminmaxBackward0")
    high = named(apply(Amax, (input,), axes, keepdim, False), "AminmaxBackward0")
    return return_types.aminmax(low, high)


class Argmax(Op):
    """Index of the first maximum along `axis` (of the flattened input when None); NaN counts
    as the maximum. Not differentiable."""

    differentiable = False
    pick = "argmax"

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int | None, keepdim: bool) -> Array:
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=dtypes.int64.numpy)
        pick = getattr(xp, ctx.op.pick)
        if axis is None:
            index = pick(x)
            if keepdim:
                return xp.full((1,) * x.ndim, index, dtype=dtypes.int64.numpy)
            return xp.asarray(index, dtype=dtypes.int64.numpy)
        return pick(x, axis=axis, keepdims=keepdim).astype(dtypes.int64.numpy, copy=False)

    @staticmethod
    def batch(b: Any, x: Any, axis: int | None, keepdim: bool) -> Any:
        """vmap: the axis one further right; the flattened example for axis None (and for a
        0-dim example, whose only index is 0 whatever the axis)."""
        if axis is not None and x.ndim > 1:
            return apply(b.op, (x,), axis + 1, keepdim)
        out = apply(b.op, (reshape(x, (b.size, -1)),), 1, False)
        return reshape(out, (b.size,) + (1,) * (x.ndim - 1)) if keepdim else out


class Argmin(Argmax):
    """Index of the first minimum along `axis`; NaN counts as the minimum. Not differentiable."""

    pick = "argmin"


def argmax(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The index of the first maximal value along `dim`, or in the flattened input when `dim` is
    None (not differentiable).

    Args:
        input (Tensor): any shape.
        dim (int, optional): the dimension searched; None searches the flattened input.
        keepdim (bool): keep the searched dimension(s) with size 1.
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: int64 indices.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.argmax(x)
        tensor(1)
        >>> chainrule.argmax(x, dim=1, keepdim=True)
        tensor([[1],
                [0]])
    """
    refuse_complex("argmax", input)
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("argmax", dim, keepdim, axis, keepdims)
    return _arg_extreme("argmax", Argmax, input, dim, keepdim)


def argmin(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The index of the first minimal value along `dim`, or in the flattened input when `dim` is
    None (not differentiable).

    Args:
        input (Tensor): any shape.
        dim (int, optional): the dimension searched; None searches the flattened input.
        keepdim (bool): keep the searched dimension(s) with size 1.
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: int64 indices.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.argmin(x)
        tensor(4)
        >>> chainrule.argmin(x, dim=1, keepdim=True)
        tensor([[0],
                [1]])
    """
    refuse_complex("argmin", input)
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("argmin", dim, keepdim, axis, keepdims)
    return _arg_extreme("argmin", Argmin, input, dim, keepdim)


def _arg_extreme(name: str, op: type, input: Any, dim: Any, keepdim: bool) -> Any:
    _refuse_bool(name, input)
    if dim is None:
        _require_nonempty(name, input, None)
        return apply(op, (input,), None, keepdim)
    axis = normalize_dim(name, dim, input._array.ndim)
    _require_nonempty(name, input, (axis,))
    return apply(op, (input,), axis, keepdim)


# One result type per call form, for static tools: max(x) is a Tensor, max(x, dim)
# a named tuple (values, indices), max(x, other) the elementwise maximum.
@overload
def max(
    input: Tensor,  # noqa: A002
    dim: None = None,
    keepdim: bool = False,
    *,
    other: None = None,
    axis: None = None,
    keepdims: bool | None = None,
) -> Tensor: ...
@overload
def max(
    input: Tensor,  # noqa: A002
    dim: int,
    keepdim: bool = False,
    *,
    other: None = None,
    axis: None = None,
    keepdims: bool | None = None,
) -> ValuesIndices: ...
@overload
def max(
    input: Tensor,  # noqa: A002
    dim: None = None,
    keepdim: bool = False,
    *,
    other: None = None,
    axis: int,
    keepdims: bool | None = None,
) -> ValuesIndices: ...
@overload
def max(input: Tensor, dim: Tensor, keepdim: bool = False) -> Tensor: ...  # noqa: A002
@overload
def max(input: Tensor, *, other: Tensor) -> Tensor: ...  # noqa: A002
def max(
    input: Tensor,
    dim: int | Tensor | None = None,
    keepdim: bool = False,
    *,
    other: Tensor | None = None,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor | ValuesIndices:
    """Three calls in one, as PyTorch: max(input) is the largest element (ties share the gradient
    evenly); max(input, dim, keepdim=False) is a named tuple (values, indices) along `dim`, the
    gradient going to the first maximum only; max(input, other) is the elementwise `maximum`.

    Args:
        input (Tensor): any shape.
        dim (int or Tensor, optional): the dimension reduced (a Tensor here is read as `other`).
        keepdim (bool): keep `dim` with size 1.
        other (Tensor, optional): compare elementwise with this instead.
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        Tensor, or (values, indices) when `dim` is given.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.max(x, 1)
        chainrule.return_types.max(
        values=tensor([5., 4.]),
        indices=tensor([1, 0]))
        >>> x = chainrule.tensor([1.0, 3.0, 3.0], requires_grad=True)
        >>> x.max().backward()
        >>> x.grad
        tensor([0.0000, 0.5000, 0.5000])
    """
    if out is not None:
        return write_outs(
            "max",
            max(input, dim=dim, keepdim=keepdim, other=other, axis=axis, keepdims=keepdims),
            out,
        )
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("max", dim, keepdim, axis, keepdims)
    _empty_dims_first("max", input, dim)
    refuse_complex("max", input)
    if other is not None or isinstance(dim, Tensor):
        return maximum(input, dim if other is None else other)
    return _extreme("max", Amax, Argmax, input, dim, keepdim)


# One result type per call form, for static tools: min(x) is a Tensor, min(x, dim)
# a named tuple (values, indices), min(x, other) the elementwise minimum.
@overload
def min(
    input: Tensor,  # noqa: A002
    dim: None = None,
    keepdim: bool = False,
    *,
    other: None = None,
    axis: None = None,
    keepdims: bool | None = None,
) -> Tensor: ...
@overload
def min(
    input: Tensor,  # noqa: A002
    dim: int,
    keepdim: bool = False,
    *,
    other: None = None,
    axis: None = None,
    keepdims: bool | None = None,
) -> ValuesIndices: ...
@overload
def min(
    input: Tensor,  # noqa: A002
    dim: None = None,
    keepdim: bool = False,
    *,
    other: None = None,
    axis: int,
    keepdims: bool | None = None,
) -> ValuesIndices: ...
@overload
def min(input: Tensor, dim: Tensor, keepdim: bool = False) -> Tensor: ...  # noqa: A002
@overload
def min(input: Tensor, *, other: Tensor) -> Tensor: ...  # noqa: A002
def min(
    input: Tensor,
    dim: int | Tensor | None = None,
    keepdim: bool = False,
    *,
    other: Tensor | None = None,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor | ValuesIndices:
    """min(input), min(input, dim, keepdim=False) -> (values, indices), min(input, other): as `max`,
    for the smallest elements.

    Args:
        input (Tensor): any shape.
        dim (int or Tensor, optional): the dimension reduced (a Tensor here is read as `other`).
        keepdim (bool): keep `dim` with size 1.
        other (Tensor, optional): compare elementwise with this instead.
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        Tensor, or (values, indices) when `dim` is given.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.min(x)
        tensor(0.)
        >>> chainrule.min(x, 0)
        chainrule.return_types.min(
        values=tensor([1., 0., 2.]),
        indices=tensor([0, 1, 0]))
    """
    if out is not None:
        return write_outs(
            "min",
            min(input, dim=dim, keepdim=keepdim, other=other, axis=axis, keepdims=keepdims),
            out,
        )
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("min", dim, keepdim, axis, keepdims)
    _empty_dims_first("min", input, dim)
    refuse_complex("min", input)
    if other is not None or isinstance(dim, Tensor):
        return minimum(input, dim if other is None else other)
    return _extreme("min", Amin, Argmin, input, dim, keepdim)


def _extreme(name: str, reduce: type, pick: type, input: Any, dim: Any, keepdim: bool) -> Any:
    ndim = input._array.ndim
    if dim is None:
        _require_nonempty(name, input, None)
        out = apply(reduce, (input,), tuple(range(ndim)), False, True)
        return named(out, f"{name.capitalize()}Backward1")  # max() and min(): MaxBackward1
    axis = normalize_dim(name, dim, ndim)
    _require_nonempty(name, input, (axis,))
    index = apply(pick, (input,), axis, True)
    values, indices = _selected(input, index, axis, keepdim)
    values = named(values, f"{name.capitalize()}Backward0")
    return getattr(return_types, name)(values, indices)


# ---- statistics ----------------------------------------------------------------------------------


def _variance(
    xp: Any, x: Array, axes: tuple, keepdim: bool, dof: float, root: bool = False
) -> Array:
    """Two passes over x shifted by its first element, so equal elements give exactly 0 (as
    PyTorch's Welford update does) even where their mean is not representable; its square
    root when `root` (the standard deviation). Half precision in float32, and float32 in
    float64, rounded once at the end, as PyTorch's CPU kernels accumulate (a float16 square
    overflows past 256, a float32 one of 1e-23 underflows)."""
    wider = {"float32": xp.float64, "complex64": xp.complex128}.get(x.dtype.name)
    if _is_half(x) or wider is not None:
        wide = _variance(xp, x.astype(wider or xp.float32), axes, keepdim, dof, root)
        return wide.astype(x.dtype)
    if root:
        return xp.sqrt(_variance(xp, x, axes, keepdim, dof))
    if x.size:
        x = x - x[tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))]
    centred = x - mean_array(x, axes, True)
    total = (centred * centred).sum(axis=axes, keepdims=keepdim)
    divisor = _builtins.max(0, dof)  # dof 0 or below: inf or nan, as PyTorch
    return (total / divisor).astype(x.dtype, copy=False)


def _variance_vjp(x: Any, g: Any, axes: tuple, dof: float, whole: bool) -> Any:
    """d var / dx for a gradient `g` already broadcastable to x: g 2 (x - mean) / dof, with
    dof = N - correction as it is (negative when correction exceeds N, as PyTorch's
    var_backward: only the value divides by max(0, dof)). Over the `whole` tensor (no dim
    given, or a 0-dim input) with dof <= 0, PyTorch's var_backward gives g * inf instead,
    nan where x equals the mean: var(tensor([1., 2.]), correction=3) has gradient [inf, inf],
    var(..., 0, correction=3) [1., -1.]."""
    centered = x - _over(mean, x, axes, True)
    if whole and dof <= 0:
        return g * where(centered == 0, math.nan, math.inf)
    scale = 2.0 / dof if dof != 0 else math.inf
    return g * (scale * centered)


class Var(Op):
    """Variance over `axes`, dividing by max(0, dof), dof = N - correction. Derivative:
    g 2 (x - mean) / dof (PyTorch's var_backward; inf or nan when dof is 0)."""

    @staticmethod
    def forward(
        ctx: Node, x: Array, axes: tuple, keepdim: bool, dof: float, whole: bool = False
    ) -> Array:
        ctx.save(x=x, axes=axes, keepdim=keepdim, dof=dof, whole=whole)
        return in_c_order(_variance(ctx.xp, x, axes, keepdim, dof))

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        g = restore_dims(g, x.shape, ctx.axes, ctx.keepdim)
        return (_variance_vjp(x, g, ctx.axes, ctx.dof, ctx.whole),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return _reduction_jvp(ctx, t, ctx.axes, ctx.keepdim)

    batch = axes_batch


class Std(Op):
    """Standard deviation sqrt(var). Derivative: the variance's with g / (2 std), and 0 where
    std is 0 (PyTorch's std_backward masks it there instead of giving nan)."""

    @staticmethod
    def forward(
        ctx: Node, x: Array, axes: tuple, keepdim: bool, dof: float, whole: bool = False
    ) -> Array:
        out = in_c_order(_variance(ctx.xp, x, axes, keepdim, dof, root=True))
        ctx.save(x=x, out=out, axes=axes, keepdim=keepdim, dof=dof, whole=whole)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        out = restore_dims(ctx.out, x.shape, ctx.axes, ctx.keepdim)
        g = restore_dims(g, x.shape, ctx.axes, ctx.keepdim)
        zero = out == 0
        grad_var = where(zero, 0.0, g / (2 * where(zero, 1.0, out)))
        return (_variance_vjp(x, grad_var, ctx.axes, ctx.dof, ctx.whole),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return _reduction_jvp(ctx, t, ctx.axes, ctx.keepdim)

    batch = axes_batch


def _statistic(
    name: str,
    op: type,
    input: Any,
    dim: Any,
    unbiased: Any,
    keepdim: bool,
    correction: Any,
) -> Any:
    if isinstance(dim, bool):  # var(x, True): the old positional `unbiased`
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise ValueError(f"{name}(): cannot specify both `unbiased` and `correction`")
    if correction is None:
        correction = 0 if unbiased is False else 1
    shape = input.shape
    axes = reduced_axes(name, dim, len(shape))
    whole = dim is None or not shape  # (PyTorch's var_backward tells these apart)
    dof = _count(shape, axes) - correction
    if dof <= 0:  # nan or inf, as PyTorch, with its warning
        warnings.warn(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than "
            "the reduction factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=3,
        )
    if input._array.dtype.kind == "c":  # real: the spreads of the two parts add up
        parts = [
            apply(Var, (part,), axes, keepdim, dof, whole) for part in (real(input), imag(input))
        ]
        spread = parts[0] + parts[1]
        if op is not Var:  # the root, with Std's zero gradient where it is 0 (not 0 * inf)
            zero = spread.detach() == 0
            spread = where(zero, 0.0, where(zero, 1.0, spread).sqrt())
        return named(spread, op.node_name())  # one node in PyTorch
    _require_floating(name, input, "std and var only support floating point and complex dtypes.")
    return apply(op, (input,), axes, keepdim, dof, whole)


def var(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The variance over `dim`: sum((x - mean)**2) / (N - correction).

    Args:
        input (Tensor): floating point or complex, any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        unbiased (bool, optional): the older spelling: False means correction 0.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        correction (float, optional): divide by N - correction (default 1, Bessel's).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.var(x, dim=1)
        tensor([4.3333, 4.3333])
        >>> chainrule.var(x, dim=1, correction=0)
        tensor([2.8889, 2.8889])
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("var", dim, keepdim, axis, keepdims)
    return _statistic("var", Var, input, dim, unbiased, keepdim, correction)


def std(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The standard deviation over `dim`, sqrt of `var`; its gradient is 0 where it is 0, as
    PyTorch.

    Args:
        input (Tensor): floating point or complex, any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        unbiased (bool, optional): the older spelling: False means correction 0.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        correction (float, optional): divide by N - correction (default 1, Bessel's).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.std(x, dim=1)
        tensor([2.0817, 2.0817])
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("std", dim, keepdim, axis, keepdims)
    return _statistic("std", Std, input, dim, unbiased, keepdim, correction)


def var_mean(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim` in one call, with `var`'s arguments.

    Args:
        input (Tensor): floating point or complex, any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        unbiased (bool, optional): the older spelling: False means correction 0.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        correction (float, optional): divide by N - correction (default 1, Bessel's).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        (Tensor, Tensor): the variance and the mean.

    Example:
        >>> import chainrule
        >>> chainrule.var_mean(chainrule.tensor([1.0, 2.0, 3.0]))
        (tensor(1.), tensor(2.))
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("var_mean", dim, keepdim, axis, keepdims)
    if isinstance(dim, bool):  # var_mean(x, True): the old positional `unbiased`
        dim, unbiased = None, dim
    spread = _statistic("var_mean", Var, input, dim, unbiased, keepdim, correction)
    return named(spread, "VarMeanBackward0"), named(mean(input, dim, keepdim), "VarMeanBackward0")


def std_mean(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """(std, mean) over `dim` in one call, with `std`'s arguments.

    Args:
        input (Tensor): floating point or complex, any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        unbiased (bool, optional): the older spelling: False means correction 0.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        correction (float, optional): divide by N - correction (default 1, Bessel's).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        (Tensor, Tensor): the standard deviation and the mean.

    Example:
        >>> import chainrule
        >>> chainrule.std_mean(chainrule.tensor([1.0, 2.0, 3.0]))
        (tensor(1.), tensor(2.))
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("std_mean", dim, keepdim, axis, keepdims)
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    spread = _statistic("std_mean", Std, input, dim, unbiased, keepdim, correction)
    return named(spread, "StdMeanBackward0"), named(mean(input, dim, keepdim), "StdMeanBackward0")


class VectorNorm(Op):
    """(sum |x|^ord)^(1/ord) over `axes`; ord inf/-inf: max/min |x|; ord 0: count of nonzeros.
    Derivatives as PyTorch's norm_backward, its masked divisions included (so the second
    derivative is nan at a zero norm for ord 2, and at a zero element for ord < 1, as in
    PyTorch): ord 2: g x / norm, 0 where norm is 0; ord 1:
    g sign(x); inf: g sign(x) split between the elements attaining the norm; ord 0: none;
    other ord: g sign(x) |x|^(ord-1) / norm^(ord-1), 0 at x == 0 for ord < 1."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgVectorNormBackward0"  # PyTorch's spelling

    @staticmethod
    def forward(ctx: Node, x: Array, ord: float, axes: tuple, keepdim: bool) -> Array:
        ctx.save(x=x, ord=ord, axes=axes, keepdim=keepdim)
        xp = ctx.xp
        magnitude = xp.abs(x)
        if _is_half(x):  # in float32, rounded once, as PyTorch accumulates half precision
            magnitude = magnitude.astype(xp.float32)
        if ord == 2:
            out = xp.sqrt((magnitude * magnitude).sum(axis=axes, keepdims=keepdim))
        elif ord == 1:
            out = magnitude.sum(axis=axes, keepdims=keepdim)
        elif ord == math.inf:
            out = magnitude.max(axis=axes, keepdims=keepdim)
        elif ord == -math.inf:
            out = magnitude.min(axis=axes, keepdims=keepdim)
        elif ord == 0:
            out = (x != 0).sum(axis=axes, keepdims=keepdim)
        else:
            # |0|^ord is inf for ord < 0, and inf^(1/ord) is 0, as PyTorch
            out = (magnitude**ord).sum(axis=axes, keepdims=keepdim) ** (1.0 / ord)
        out = in_c_order(xp.asarray(out).astype(x.dtype, copy=False))
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        order = ctx.ord
        if order == 0:
            return (None,)
        x = ctx.x
        g = restore_dims(g, x.shape, ctx.axes, ctx.keepdim)
        if order == 1:
            return (g * sign(x),)
        norm = restore_dims(ctx.out, x.shape, ctx.axes, ctx.keepdim)
        if math.isinf(order):
            magnitude = _abs(x)
            mask = cast(logical_or(magnitude == norm, isnan(magnitude)), g.dtype)
            return (sign(x) * (g / _over(sum, mask, ctx.axes, True) * mask),)
        zero_norm = norm == 0
        if order == 2:  # x / norm is 0/0 at a zero norm: masked, so its second derivative is nan
            return (g * where(zero_norm, 0.0, x / norm),)
        if order < 1:  # |x|^(order-1) is inf at x == 0: masked, and nan one order up, as torch
            powered = where(x == 0, 0.0, _abs(x) ** (order - 1))
            return (sign(x) * powered * g * norm ** (1 - order),)
        safe_norm = where(zero_norm, 1.0, norm)
        scale = where(zero_norm, 0.0, g / safe_norm ** (order - 1))
        if order < 2:
            return (sign(x) * _abs(x) ** (order - 1) * scale,)
        return (x * _abs(x) ** (order - 2) * scale,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return _reduction_jvp(ctx, t, ctx.axes, ctx.keepdim)

    @staticmethod
    def batch(b: Any, x: Any, ord: float, axes: tuple, keepdim: bool) -> Any:
        """vmap: the axes one further right."""
        return apply(VectorNorm, (x,), ord, tuple(axis + 1 for axis in axes), keepdim)


def vector_norm(
    x: Tensor,
    ord: float = 2,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: dtypes.dtype | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """The vector `ord`-norm over `dim` (all when None): (sum |x|**ord)**(1 / ord), the maximum
    |x| for inf, the minimum for -inf and the count of nonzeros for 0, as
    `torch.linalg.vector_norm`.

    Args:
        x (Tensor): floating point or complex, any shape.
        ord (float): the order.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        dtype (dtype, optional): compute in this dtype.
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> v = chainrule.tensor([3.0, -4.0])
        >>> chainrule.vector_norm(v), chainrule.vector_norm(v, ord=1)
        (tensor(5.), tensor(7.))
        >>> chainrule.vector_norm(v, ord=float("inf"))
        tensor(4.)
    """
    if out is not None:
        return write_outs(
            "linalg.vector_norm",
            vector_norm(
                x, ord=ord, dim=dim, keepdim=keepdim, dtype=dtype, axis=axis, keepdims=keepdims
            ),
            out,
        )
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("vector_norm", dim, keepdim, axis, keepdims)
    if x._array.dtype.kind not in "fVc":
        _require_floating("linalg.vector_norm", x, "Expected a floating point or complex tensor.")
    if dtype is not None:
        x = cast(x, _norm_dtype(x.dtype, dtypes.as_dtype(dtype)))
    if x._array.dtype.kind == "c":
        x = _abs(x)  # the norm of the moduli, real; abs's vjp gives PyTorch's complex gradient
    order = float(ord)
    shape = x.shape
    axes = reduced_axes("linalg.vector_norm", dim, len(shape))
    if (order < 0 or order == math.inf) and _count(shape, axes) == 0 and x._array.size == 0:
        raise ShapeError(
            f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor (shape "
            f"{shape}) because the operation does not have an identity"
        )
    return apply(VectorNorm, (x,), order, axes, keepdim)


def _norm_dtype(given: dtypes.dtype, wanted: dtypes.dtype) -> dtypes.dtype:
    """A vector norm's dtype= as PyTorch's takes it: complex for a complex input, real floating
    for a real one, and never narrower than the input (float64 to float32 is refused)."""
    if wanted.is_complex != given.is_complex or not (wanted.is_floating_point or wanted.is_complex):
        kind = "complex" if given.is_complex else "real floating point"
        raise DTypeError(
            f"linalg.vector_norm: dtype should be {kind} for {given.name} input, got {wanted.name}"
        )
    if dtypes.promote_types(given, wanted) is not wanted:
        raise DTypeError(
            f"linalg.vector_norm: the dtype of the input ({given.name}) should be convertible "
            f"without narrowing to the specified dtype ({wanted.name})"
        )
    return wanted


def norm(
    input: Tensor,
    p: float | str = "fro",
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: dtypes.dtype | None = None,
) -> Tensor:
    """`Tensor.norm`, PyTorch's older norm: p='fro' (the default, the 2-norm of the elements) or a
    number is a vector norm over `dim` (all when None); 'fro' accepts at most two dims. Newer code
    calls `linalg.vector_norm` or `linalg.matrix_norm`.

    Args:
        input (Tensor): floating point or complex, any shape.
        p (float or str): the order, or 'fro'.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        dtype (dtype, optional): compute in this dtype.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.norm(chainrule.tensor([[3.0, 4.0]]))
        tensor(5.)
        >>> chainrule.norm(x, 1, dim=1)
        tensor([8., 7.])
    """
    if p is None or p == "fro":
        if dim is not None and not isinstance(dim, int) and len(dim) > 2:
            raise ShapeError(f"norm: 'fro' norm needs at most 2 dims, got dim={tuple(dim)}")
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"norm: p={p!r} is not supported (only 'fro' and numbers)")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of input - other (broadcast), with vector_norm's derivatives.

    Args:
        input (Tensor): floating point.
        other (Tensor): broadcastable with `input`.
        p (float): the norm's order.

    Returns:
        Tensor: a scalar.

    Example:
        >>> import chainrule
        >>> chainrule.dist(chainrule.tensor([1.0, 1.0]), chainrule.tensor([4.0, 5.0]))
        tensor(5.)
    """
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):  # (sub would take numbers: dist does not)
            raise TypeError(f"dist(): argument '{name}' must be Tensor, not {type(value).__name__}")
    difference = sub(input, other)  # promoted as PyTorch: dist(float32, int8) is float32
    if difference._array.dtype.kind not in "fcV":
        raise DTypeError(
            f"dist: expected floating point tensors, got {input.dtype.name} (shape "
            f"{input.shape}) and {other.dtype.name} (shape {other.shape})"
        )
    out = vector_norm(difference, float(p))
    return out if p == 0 else named(out, "DistBackward0")  # PyTorch: a p=0 norm, not dist


@holomorphic
class LogSumExp(Op):
    """log(sum(exp(x))) over `axes`, computed as m + log(sum(exp(x - m))) with m the maximum
    (of the real parts, for complex x: the imaginary part is then the principal argument of
    the sum, as PyTorch's). Derivative: g exp(x - out) (the softmax); holomorphic in x."""

    @classmethod
    def node_name(cls) -> str:
        return "LogsumexpBackward0"  # PyTorch's spelling

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple, keepdim: bool) -> Array:
        xp = ctx.xp
        ctx.save(axes=axes, keepdim=keepdim)
        if x.size == 0:
            shape = tuple(
                1 if i in axes else s for i, s in enumerate(x.shape) if keepdim or i not in axes
            )
            out = xp.full(shape, -math.inf, dtype=x.dtype)
        else:
            shift = x.real.max(axis=axes, keepdims=True)
            shift = xp.where(xp.isinf(shift), 0, shift)  # all -inf (or an inf): no shift
            total = xp.exp(x - shift).sum(axis=axes, keepdims=True)
            out = xp.log(total) + shift
            if not keepdim:
                out = out.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))
        out = in_c_order(out)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        out = restore_dims(ctx.out, x.shape, ctx.axes, ctx.keepdim)
        return (restore_dims(g, x.shape, ctx.axes, ctx.keepdim) * exp(x - out),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        x = ctx.x
        out = restore_dims(ctx.out, x.shape, ctx.axes, ctx.keepdim)
        return _over(sum, t * exp(x - out), ctx.axes, ctx.keepdim)

    batch = axes_batch


def logsumexp(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """log(sum(exp(input))) over `dim`, computed with the maximum taken out first so large inputs do
    not overflow. Its gradient is softmax(input).

    Args:
        input (Tensor): floating point or complex, any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: `input`'s shape without the reduced dimensions (size 1 with `keepdim`).

    Example:
        >>> import chainrule
        >>> chainrule.logsumexp(chainrule.tensor([1000.0, 1000.0]), 0)
        tensor(1000.6932)
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("logsumexp", dim, keepdim, axis, keepdims)
    if dim is None:
        raise TypeError("logsumexp() missing 1 required positional argument: 'dim'")
    x = input if input._array.dtype.kind in "fcV" else cast(input, dtypes.float32)
    op = LogSumExp if x._array.dtype.kind != "c" else complex_variant(LogSumExp)
    return apply(op, (x,), reduced_axes("logsumexp", dim, x._array.ndim), keepdim)


# ---- scans ---------------------------------------------------------------------------------------


_WIDER_SUM = {"float32": "float64", "complex64": "complex128"}


class Cumsum(Op):
    """Running sum along `axis` (from the end when `reverse`). Derivative: the running sum of
    g in the other direction."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int, reverse: bool) -> Array:
        ctx.save(axis=axis, reverse=reverse)
        xp = ctx.xp
        if x.ndim == 0:
            return x.copy()
        if x.dtype.kind == "f":  # float32 and float64: one compiled pass, where available
            lanes = (math.prod(x.shape[:axis]), x.shape[axis], math.prod(x.shape[axis + 1 :]))
            out = ctx.backend.running_sums(x.reshape(lanes), reverse)
            if out is not None:
                return out.reshape(x.shape)
        # each running sum rounded once from a wider one, as PyTorch's CPU kernel
        # accumulates: half precision in float32, float32 (and complex64) in float64
        wide = xp.float32 if _is_half(x) else _WIDER_SUM.get(x.dtype.name, x.dtype)
        if reverse:
            out = xp.flip(xp.cumsum(xp.flip(x, axis), axis=axis, dtype=wide), axis).copy()
        else:
            out = in_c_order(xp.cumsum(x, axis=axis, dtype=wide))  # as PyTorch's
        if x.dtype.kind in "fcV":
            out += 0  # PyTorch's sums start from +0.0: a leading -0.0 comes out +0.0
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(Cumsum, (g,), ctx.axis, not ctx.reverse),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Cumsum, (t,), ctx.axis, ctx.reverse)

    batch = axis_batch


def cumsum(
    input: Tensor,
    dim: int | None = None,
    *,
    dtype: dtypes.dtype | None = None,
    axis: int | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """The running sum along `dim`. Integer and bool input gives int64 unless `dtype` is given.

    Args:
        input (Tensor): any shape.
        dim (int): the dimension accumulated along.
        dtype (dtype, optional): cast `input` to this dtype first.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.cumsum(chainrule.tensor([1, 2, 3]), 0)
        tensor([1, 3, 6])
    """
    if out is not None:
        if out.dtype is dtypes.bool_:
            raise DTypeError('cumsum: "cumsum_out_cpu" not implemented for a bool out')
        # (PyTorch accumulates in out's dtype: each element cast first, as with dtype=)
        dtype = out.dtype if dtype is None else dtype
        return write_out("cumsum", cumsum(input, dim, dtype=dtype, axis=axis), out, "any")
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("cumsum", dim, None, axis, None)
    if dim is None:
        raise TypeError("cumsum() missing 1 required positional argument: 'dim'")
    x = _accumulating(input, dtype)
    return apply(Cumsum, (x,), normalize_dim("cumsum", dim, x._array.ndim), False)


@holomorphic
class Cumprod(Op):
    """Running product along `axis`. Derivative: grad_i = sum_{k >= i} g_k prod_{j <= k, j != i}
    x_j; without zeros that is reverse_cumsum(g out) / x. With zeros, as PyTorch: an O(n) masked
    formula when no graph is built, and an exact O(n^2) one under create_graph."""

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int) -> Array:
        ctx.save(axis=axis)
        out = x.copy() if x.ndim == 0 else in_c_order(ctx.xp.cumprod(x, axis=axis, dtype=x.dtype))
        ctx.save(x=x, out=out, has_zero=bool((x == 0).any()))
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        shape, axis = ctx.input_meta[0][0], ctx.axis
        if not shape or shape[axis] <= 1:
            return (g,)
        x = ctx.x
        if not ctx.has_zero:
            return (apply(Cumsum, (g * ctx.out,), axis, True) / x,)
        if is_grad_enabled() or _has_tangent(x, g):  # differentiated again: the exact form
            return (_cumprod_vjp_exact(x, g, axis),)
        return (_cumprod_vjp_masked(x, ctx.out, g, axis),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        """d out_k = sum_{i <= k} t_i prod_{j <= k, j != i} x_j: out cumsum(t / x) without
        zeros; with zeros, O(n) masks, or the exact O(n^2) form when the tangent is itself
        differentiated (as the vjp under create_graph, or at an outer dual level)."""
        shape, axis = ctx.input_meta[0][0], ctx.axis
        if not shape or shape[axis] <= 1:
            return t
        x = ctx.x
        if not ctx.has_zero:
            return ctx.out * apply(Cumsum, (t / x,), axis, False)
        if (is_grad_enabled() and (x.requires_grad or t.requires_grad)) or _has_tangent(x, t):
            return _cumprod_jvp_exact(x, t, axis)
        return _cumprod_jvp_masked(x, ctx.out, t, axis)

    batch = axis_batch


def _cumprod_vjp_masked(x: Any, out: Any, g: Any, axis: int) -> Any:
    """The cumprod vjp with zeros, in O(n): before the first zero z, reverse_cumsum(g out) / x
    (later outputs are 0); at z, prod_{j<z} x_j sum_{k>=z} g_k prod_{z<j<=k} x_j; after z, 0."""
    xp = x._backend.xp
    size = x.shape[axis]
    position = _positions(xp, size, axis, x._array.ndim)
    is_zero = x._array == 0
    has_zero = is_zero.any(axis=axis, keepdims=True)
    first = xp.where(has_zero, xp.argmax(is_zero, axis=axis, keepdims=True), size)
    before, at, after = _wrap(position < first), _wrap(position == first), _wrap(position > first)
    safe_x = where(before, x, 1.0)
    grad_before = where(before, apply(Cumsum, (g * out,), axis, True) / safe_x, 0.0)
    left = where(_wrap(first == 0), 1.0, _take(out, xp.maximum(first - 1, 0), axis))
    right = cumprod(where(after, x, 1.0), axis)  # prod_{z<j<=k} x_j: 0 from the next zero on
    tail = sum(where(logical_or(at, after), g * right, 0.0), axis, keepdim=True)
    return grad_before + where(at, left * tail, 0.0)


def _has_tangent(*tensors: Any) -> bool:
    """Whether a dual level is on and a tensor carries a tangent (forward over reverse)."""
    return _builtins.any(forward_ad.has_tangent(t) for t in tensors)


def _cumprod_jvp_masked(x: Any, out: Any, t: Any, axis: int) -> Any:
    """The cumprod jvp with zeros, in O(n), z the first zero: before z, out cumsum(t / x);
    from z on, only the term i = z survives: t_z prod_{j<z} x_j prod_{z<j<=k} x_j."""
    xp = x._backend.xp
    size = x.shape[axis]
    position = _positions(xp, size, axis, x._array.ndim)
    is_zero = x._array == 0
    has_zero = is_zero.any(axis=axis, keepdims=True)
    first = xp.where(has_zero, xp.argmax(is_zero, axis=axis, keepdims=True), size)
    before, after = _wrap(position < first), _wrap(position > first)
    safe_x = where(before, x, 1.0)
    tangent_before = where(before, out * apply(Cumsum, (t / safe_x,), axis, False), 0.0)
    at_first = xp.minimum(first, size - 1)
    left = where(_wrap(first == 0), 1.0, _take(out, xp.maximum(first - 1, 0), axis))
    right = cumprod(where(after, x, 1.0), axis)  # prod_{z<j<=k} x_j: 0 from the next zero on
    tail = _take(t, at_first, axis) * left * right
    return tangent_before + where(before, 0.0, tail)


def _cumprod_jvp_exact(x: Any, t: Any, axis: int) -> Any:
    """The cumprod jvp as a polynomial in x (the rows of `_cumprod_vjp_exact`), exact to every
    order: d out_k = sum_{i <= k} t_i prod_{j <= k, j != i} x_j."""
    xp = x._backend.xp
    size = x.shape[axis]
    last_x, last_t = movedim(x, axis, -1), movedim(t, axis, -1)
    rows = where(_wrap(xp.eye(size, dtype=bool)), 1.0, unsqueeze(last_x, -2))
    partial = cumprod(rows, -1)  # partial[..., i, k] = prod_{j <= k, j != i} x_j
    upper = _wrap(xp.triu(xp.ones((size, size), dtype=bool)))  # k >= i
    tangent = sum(where(upper, unsqueeze(last_t, -1) * partial, 0.0), -2)
    return movedim(tangent, -1, axis)


def _cumprod_vjp_exact(x: Any, g: Any, axis: int) -> Any:
    """The cumprod vjp as a polynomial in x, so its own derivative is exact: row i of an
    n x n matrix is x with x_i replaced by 1, whose cumprod gives prod_{j<=k, j!=i} x_j."""
    xp = x._backend.xp
    size = x.shape[axis]
    last_x, last_g = movedim(x, axis, -1), movedim(g, axis, -1)
    rows = where(_wrap(xp.eye(size, dtype=bool)), 1.0, unsqueeze(last_x, -2))
    partial = cumprod(rows, -1)  # partial[..., i, k] = prod_{j <= k, j != i} x_j
    upper = _wrap(xp.triu(xp.ones((size, size), dtype=bool)))  # k >= i
    grad = sum(where(upper, unsqueeze(last_g, -2) * partial, 0.0), -1)
    return movedim(grad, -1, axis)


def cumprod(
    input: Tensor,
    dim: int | None = None,
    *,
    dtype: dtypes.dtype | None = None,
    axis: int | None = None,
) -> Tensor:
    """The running product along `dim`; the gradients are exact where elements are zero, to every
    order.

    Args:
        input (Tensor): any shape.
        dim (int): the dimension accumulated along.
        dtype (dtype, optional): cast `input` to this dtype first.
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.cumprod(chainrule.tensor([1.0, 2.0, 3.0]), 0)
        tensor([1., 2., 6.])
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("cumprod", dim, None, axis, None)
    if dim is None:
        raise TypeError("cumprod() missing 1 required positional argument: 'dim'")
    x = _accumulating(input, dtype)
    op = Cumprod if x._array.dtype.kind != "c" else complex_variant(Cumprod)
    return apply(op, (x,), normalize_dim("cumprod", dim, x._array.ndim))


def _scan(xp: Any, x: Array, axis: int, combine: Any) -> Array:
    """The running `combine` (associative: maximum, logaddexp, ...) of x along `axis`, in
    log2(n) whole-array steps (Hillis-Steele), so every backend can run it."""
    out = x.copy()
    size = x.shape[axis]
    shift = 1
    while shift < size:
        later = tuple(slice(shift, None) if i == axis else slice(None) for i in range(x.ndim))
        earlier = tuple(slice(0, size - shift) if i == axis else slice(None) for i in range(x.ndim))
        out[later] = combine(out[later], out[earlier])  # the right side is a new array
        shift *= 2
    return out


def _complex_log_add_exp(xp: Any, acc: Array, new: Array) -> Array:
    """log(exp(acc) + exp(new)) for complex arrays, PyTorch's way: the operand with the larger
    real part (new on a tie) keeps its imaginary part's branch and the other enters through
    log1p(exp(smaller - larger)); a nan anywhere gives nan + nan j, and two -inf real parts
    give -inf + 0j (where the phase is undetermined)."""
    acc_larger = acc.real > new.real
    larger = xp.where(acc_larger, acc, new)
    smaller = xp.where(acc_larger, new, acc)
    with quiet_float_errors():  # (NumPy's; CuPy raises none)
        out = xp.log1p(xp.exp(smaller - larger)) + larger
    nothing = (larger.real == -xp.inf) & (smaller.real == -xp.inf)
    out = xp.where(nothing, xp.asarray(complex(-math.inf, 0.0), out.dtype), out)
    undefined = xp.isnan(acc) | xp.isnan(new)
    return xp.where(undefined, xp.asarray(complex(math.nan, math.nan), out.dtype), out)


def _complex_log_cum_sum_exp(xp: Any, x: Array, axis: int) -> Array:
    """The running complex log-add-exp of x along `axis`, one step at a time from a start of
    -inf + 0j: the branch each imaginary part lands on depends on the order of the additions,
    and this is PyTorch's order (a tree of additions could end 2 pi away)."""
    moved = xp.moveaxis(x, axis, 0)
    out = xp.empty_like(moved)
    running = xp.full(moved.shape[1:], complex(-math.inf, 0.0), moved.dtype)
    for i in range(moved.shape[0]):
        running = _complex_log_add_exp(xp, running, moved[i])
        out[i] = running
    return xp.moveaxis(out, 0, axis)


@holomorphic
class LogCumSumExp(Op):
    """log(cumsum(exp(x))) along `axis` (from the end when `reverse`), a running logaddexp that
    neither overflows nor underflows. Derivative, PyTorch's stable form: with g split into its
    positive and negative parts, grad = exp(x + L(log g+ - out)) - exp(x + L(log g- - out)), L
    this scan in the other direction; the jvp likewise, from the tangent's two parts. Complex
    operands run the same rules as a holomorphic function (one part: log g is complex)."""

    @classmethod
    def node_name(cls) -> str:
        return "LogcumsumexpBackward0"  # PyTorch's spelling

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int, reverse: bool) -> Array:
        ctx.save(axis=axis, reverse=reverse)
        xp = ctx.xp
        if x.ndim == 0:
            out = x.copy()
        elif x.dtype.kind == "c":
            flipped = xp.flip(x, axis) if reverse else x
            out = _complex_log_cum_sum_exp(xp, flipped, axis)
            out = xp.flip(out, axis).copy() if reverse else out
        elif reverse:
            out = xp.flip(_scan(xp, xp.flip(x, axis), axis, xp.logaddexp), axis).copy()
        else:
            out = _scan(xp, x, axis, xp.logaddexp)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        if not ctx.input_meta[0][0]:  # 0-dim: the identity, so g (PyTorch's, even at inf, nan)
            return (g,)
        # grad_i = sum over the outputs k that read x_i of g_k exp(x_i - out_k)
        return (_signed_log_scan(g, -ctx.out, ctx.x, ctx.axis, not ctx.reverse),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        if not ctx.input_meta[0][0]:
            return t
        # tangent_k = sum over the inputs j that out_k reads of t_j exp(x_j - out_k)
        return _signed_log_scan(t, ctx.x, -ctx.out, ctx.axis, ctx.reverse)

    batch = axis_batch


def _signed_log_scan(v: Any, inner: Any, outer: Any, axis: int, reverse: bool) -> Any:
    """exp(outer) * running sum of v exp(inner), in log space: the positive and negative parts
    of v each through LogCumSumExp. Where a part is empty it holds the lowest float rather
    than -inf (whose derivatives would be nan). A complex v is one part: log v is complex."""
    lowest = dtypes.finfo(v.dtype).min
    if v._array.dtype.kind == "c":
        logs = where(v == 0, lowest, log(where(v == 0, 1.0, v)) + inner)
        return exp(apply(complex_variant(LogCumSumExp), (logs,), axis, reverse) + outer)
    log_magnitude = log(where(v == 0, 1.0, _abs(v)))
    parts = []
    for side in (v > 0, v < 0):
        logs = where(side, log_magnitude + inner, lowest)
        parts.append(exp(apply(LogCumSumExp, (logs,), axis, reverse) + outer))
    return parts[0] - parts[1]


def logcumsumexp(input: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """log(cumsum(exp(input))) along `dim`, without overflow for large inputs.

    Args:
        input (Tensor): floating point or complex, any shape.
        dim (int): the dimension accumulated along.
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.logcumsumexp(chainrule.tensor([1000.0, 1000.0]), 0)
        tensor([1000.0000, 1000.6932])
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("logcumsumexp", dim, None, axis, None)
    if dim is None:
        raise TypeError("logcumsumexp() missing 1 required positional argument: 'dim'")
    if input._array.dtype.kind != "c":
        _require_floating("logcumsumexp", input, "not implemented for integer or bool tensors.")
    axis = normalize_dim("logcumsumexp", dim, input._array.ndim)
    op = LogCumSumExp if input._array.dtype.kind != "c" else complex_variant(LogCumSumExp)
    return apply(op, (input,), axis, False)


class CummaxIndex(Op):
    """Index of the running maximum along `axis`: the last position where x reached it (an
    equal element moves it on, as PyTorch), and once a NaN is seen the last NaN. Not
    differentiable: cummax reads its values at these indices, so gradients flow there."""

    differentiable = False
    running = "maximum"

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int) -> Array:
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=dtypes.int64.numpy)
        extreme = _scan(xp, x, axis, getattr(xp, ctx.op.running))
        reached = x >= extreme if ctx.op.running == "maximum" else x <= extreme
        if x.dtype.kind in "fV":
            nan = xp.isnan(x)
            reached = xp.where(_scan(xp, nan, axis, xp.logical_or), nan, reached)
        position = _positions(xp, x.shape[axis], axis, x.ndim)
        index = _scan(xp, xp.where(reached, position, 0), axis, xp.maximum)
        return index.astype(dtypes.int64.numpy, copy=False)

    batch = axis_batch


class CumminIndex(CummaxIndex):
    """Index of the running minimum along `axis`, as CummaxIndex. Not differentiable."""

    running = "minimum"


def _cumulative_extreme(name: str, op: type, input: Any, dim: int) -> Any:
    axis = normalize_dim(name, dim, input._array.ndim)
    index = apply(op, (input,), axis)
    values = named(_take(input, index._array, axis), f"{name.capitalize()}Backward0")
    return getattr(return_types, name)(values, index)


def cummax(
    input: Tensor,
    dim: int | None = None,
    *,
    axis: int | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> ValuesIndices:
    """(values, indices) of the running maximum along `dim`; each value's gradient goes to the
    element it was read from (the last of equal ones, as PyTorch).

    Args:
        input (Tensor): any shape.
        dim (int): the dimension accumulated along.
        axis (int, optional): NumPy's name for `dim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        (Tensor, Tensor): a named tuple (values, indices), each the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.cummax(chainrule.tensor([1.0, 3.0, 2.0, 3.0]), 0).indices
        tensor([0, 1, 1, 3])
    """
    if out is not None:
        return write_outs("cummax", cummax(input, dim=dim, axis=axis), out)
    refuse_complex("cummax", input)
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("cummax", dim, None, axis, None)
    if dim is None:
        raise TypeError("cummax() missing 1 required positional argument: 'dim'")
    return _cumulative_extreme("cummax", CummaxIndex, input, dim)


def cummin(
    input: Tensor,
    dim: int | None = None,
    *,
    axis: int | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> ValuesIndices:
    """(values, indices) of the running minimum along `dim`, as `cummax`.

    Args:
        input (Tensor): any shape.
        dim (int): the dimension accumulated along.
        axis (int, optional): NumPy's name for `dim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        (Tensor, Tensor): a named tuple (values, indices), each the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.cummin(chainrule.tensor([3.0, 1.0, 2.0]), 0)
        chainrule.return_types.cummin(
        values=tensor([3., 1., 1.]),
        indices=tensor([0, 1, 1]))
    """
    if out is not None:
        return write_outs("cummin", cummin(input, dim=dim, axis=axis), out)
    refuse_complex("cummin", input)
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("cummin", dim, None, axis, None)
    if dim is None:
        raise TypeError("cummin() missing 1 required positional argument: 'dim'")
    return _cumulative_extreme("cummin", CumminIndex, input, dim)


# ---- logic ---------------------------------------------------------------------------------------


class All(Op):
    """True where every element over `axes` is nonzero (uint8 stays uint8, as PyTorch).
    Not differentiable."""

    differentiable = False
    reduce = "all"

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple | None, keepdim: bool) -> Array:
        out = in_c_order(ctx.xp.asarray(getattr(x, ctx.op.reduce)(axis=axes, keepdims=keepdim)))
        return out.astype(x.dtype) if x.dtype == dtypes.uint8.numpy else out

    @staticmethod
    def batch(b: Any, x: Any, axes: tuple | None, keepdim: bool) -> Any:
        """vmap: the axes one further right (every per-example axis for None)."""
        shifted = range(1, x.ndim) if axes is None else (axis + 1 for axis in axes)
        return apply(b.op, (x,), tuple(shifted), keepdim)


class AnyNonzero(All):
    """True where any element over `axes` is nonzero. Not differentiable."""

    reduce = "any"
    label = "any"


def _logic_axes(name: str, input: Any, dim: Any) -> tuple | None:
    """None reduces every dimension; unlike sum, dim=() reduces none (PyTorch). A 0-dim
    tensor takes dim 0 or -1, reducing nothing."""
    if dim is None:
        return None
    ndim = input._array.ndim
    axes = normalize_dims(name, dim, ndim)
    return axes if ndim else ()


def all(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Whether every element over `dim` (all when None) is nonzero, as a bool tensor (uint8 input
    gives uint8, as PyTorch).

    Args:
        input (Tensor): any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: bool, `input`'s shape without the reduced dimensions.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.all(x, dim=1)
        tensor([ True, False])
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("all", dim, keepdim, axis, keepdims)
    return apply(All, (input,), _logic_axes("all", input, dim), keepdim)


def any(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Whether any element over `dim` (all when None) is nonzero, as a bool tensor (uint8 input
    gives uint8, as PyTorch).

    Args:
        input (Tensor): any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int or tuple of ints, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: bool, `input`'s shape without the reduced dimensions.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.any(x, dim=1)
        tensor([True, True])
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("any", dim, keepdim, axis, keepdims)
    return apply(AnyNonzero, (input,), _logic_axes("any", input, dim), keepdim)


class CountNonzero(Op):
    """Number of nonzero elements over `axes`, as int64. Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple) -> Array:
        return in_c_order(ctx.xp.asarray((x != 0).sum(axis=axes), dtype=dtypes.int64.numpy))

    batch = axes_batch


def count_nonzero(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    *,
    axis: int | Sequence[int] | None = None,
) -> Tensor:
    """The number of nonzero elements over `dim` (all when None), as int64.

    Args:
        input (Tensor): any shape.
        dim (int or tuple of ints, optional): the dimensions reduced; None reduces all.
        axis (int or tuple of ints, optional): NumPy's name for `dim`.

    Returns:
        Tensor: int64, `input`'s shape without the reduced dimensions.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
        >>> chainrule.count_nonzero(x), chainrule.count_nonzero(x, dim=0)
        (tensor(5), tensor([2, 1, 2]))
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("count_nonzero", dim, None, axis, None)
    return apply(CountNonzero, (input,), reduced_axes("count_nonzero", dim, input._array.ndim))


# ---- order ---------------------------------------------------------------------------------------


def _stable_order(xp: Any, x: Array, axis: int, descending: bool) -> Array:
    """Indices that sort x along `axis`, stable in both directions, NaN the largest."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable").astype(dtypes.int64.numpy, copy=False)
    # sort the reversed input ascending, then read that order backwards: the largest first,
    # and among equal elements the one first in the input first
    order = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return (x.shape[axis] - 1 - xp.flip(order, axis)).astype(dtypes.int64.numpy)


class Argsort(Op):
    """Indices that sort x along `axis`; NaN sorts as the largest value, as PyTorch. Stable
    (equal elements keep their input order, in both directions), or with `stable=False` in the
    order PyTorch's CPU sort gives: the C++ standard library's std::sort, an introsort that
    keeps equal elements in input order only in slices of up to 16 (the stable order is
    rearranged by PyTorch's steps, chainrule.ops.tie_order, in the longer slices holding ties,
    for inputs of up to 16,384 elements). Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int, descending: bool, stable: bool = True) -> Array:
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=dtypes.int64.numpy)
        order = _stable_order(xp, x, axis, descending)
        size = x.shape[axis]
        if stable or size <= 16 or x.size > _UNSTABLE_ORDER_LIMIT:
            return order
        rows = _rows(xp, x, axis)
        order_rows = _rows(xp, order, axis)
        tied = _tied_neighbours(xp, _ordered_rows(xp, rows, order_rows, size))
        if not tied.any():
            return order
        order_rows = order_rows.copy()
        for row in xp.nonzero(tied)[0].tolist():
            order_rows[row] = xp.asarray(
                tie_order.sort_positions(_row_values(rows[row]), descending)
            )
        shape = tuple(s for i, s in enumerate(x.shape) if i != axis) + (size,)
        return xp.ascontiguousarray(xp.moveaxis(order_rows.reshape(shape), -1, axis))

    batch = axis_batch


# PyTorch's unstable sort order is run step by step (in Python) for inputs up to this many
# elements; larger ones keep the stable order (the same values, ties in input order).
_UNSTABLE_ORDER_LIMIT = 1 << 14


# PyTorch's unsorted topk order is run step by step (in Python) for inputs up to this many
# elements; above it, topk(sorted=False) returns the sorted order (PyTorch leaves it unspecified).
_UNSORTED_ORDER_LIMIT = 1 << 16


def _rows(xp: Any, array: Array, axis: int) -> Array:
    """The slices along `axis` as the rows of a matrix (the row count spelt out: -1 cannot be
    inferred beside a dimension of size 0)."""
    count = math.prod(n for i, n in enumerate(array.shape) if i != axis)
    return xp.moveaxis(array, axis, -1).reshape(count, array.shape[axis])


def _row_values(row: Array) -> list:
    """A slice as Python numbers, compared as PyTorch compares them (half types as float)."""
    return (row if row.dtype.kind in "biuf" else row.astype("float32")).tolist()


def _tied_neighbours(xp: Any, ordered: Array) -> Array:
    """Per row, whether any two neighbours of the ordered values compare equal (NaNs too)."""
    same = ordered[:, 1:] == ordered[:, :-1]
    if ordered.dtype.kind not in "biu":
        same = same | (xp.isnan(ordered[:, 1:]) & xp.isnan(ordered[:, :-1]))
    return same.any(axis=1)


def _leading(backend: Any, rows: Array, count: int, largest: bool) -> tuple[Array, Array]:
    """The positions of the `count` largest (or smallest) elements of each row, in the stable
    order (NaN the largest, ties by position), and their values. The backend's compiled pass
    per row where it has one (a heap of the leaders: topk(k=10) of (256, 4096) forward 0.6 ms
    against 9.5 for the NumPy path below, at one thread). Otherwise a partial selection first
    (`argpartition`, which also puts NaN last) where `count` is a small part of the row, so
    only the selected elements are sorted (66.8 ms sorting whole rows). Which of several equal
    elements at the selection's edge it keeps is arbitrary, but its value is not, and the
    caller redoes every row whose leading values hold a tie."""
    compiled = backend.leading_rows(rows, count, largest)
    if compiled is not None:
        return compiled
    xp = backend.xp
    size = rows.shape[1]
    if 4 * count >= size or rows.dtype.kind not in "biuf":
        order = _stable_order(xp, rows, 1, largest)[:, :count]
        return order, xp.take_along_axis(rows, order, axis=1)
    # The edge value by a partition of the values (3x faster than of the positions), then the
    # elements past it; where a row has ties at the edge (or NaN) the positions' partition.
    edge = size - count if largest else count - 1
    threshold = xp.partition(rows, edge, axis=1)[:, edge : edge + 1]
    past = rows >= threshold if largest else rows <= threshold
    if bool((past.sum(axis=1) == count).all()):
        chosen = xp.nonzero(past)[1].reshape(rows.shape[0], count)  # in input order
    else:
        if largest:
            chosen = xp.argpartition(rows, edge, axis=1)[:, edge:]
        else:
            chosen = xp.argpartition(rows, edge, axis=1)[:, :count]
        chosen.sort(axis=1)  # input order: the stable sort below then breaks ties by position
    values = xp.take_along_axis(rows, chosen, axis=1)
    local = _stable_order(xp, values, 1, largest)
    order = xp.take_along_axis(chosen, local, axis=1).astype(dtypes.int64.numpy, copy=False)
    return order, xp.take_along_axis(values, local, axis=1)


def _ordered_rows(xp: Any, rows: Array, order: Array, stop: int) -> Array:
    return xp.take_along_axis(rows, order[:, :stop], axis=1)


class TopkIndex(Op):
    """Positions of the k largest (or smallest) elements along `axis`, in the order PyTorch's
    CPU topk gives them: the stable order where no tie decides anything, and PyTorch's own
    selection steps (chainrule.ops.tie_order) for the slices where a tie does, or where the
    order is the unsorted one. Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int, k: int, largest: bool, sorted: bool) -> Array:  # noqa: A002
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=dtypes.int64.numpy)
        size = x.shape[axis]
        rows = _rows(xp, x, axis)
        if not sorted and k * 64 > size and x.size <= _UNSORTED_ORDER_LIMIT and k:
            # nth_element's arrangement: always PyTorch's steps
            index = xp.empty((rows.shape[0], k), dtype=dtypes.int64.numpy)
            redo: Any = range(rows.shape[0])
        else:
            order, ordered = _leading(ctx.backend, rows, _builtins.min(k + 1, size), largest)
            index = order[:, :k].copy()
            redo = xp.nonzero(_tied_neighbours(xp, ordered))[0].tolist() if k else []
        for row in redo:
            index[row] = xp.asarray(
                tie_order.topk_positions(_row_values(rows[row]), k, largest, sorted)
            )
        shape = tuple(s for i, s in enumerate(x.shape) if i != axis) + (k,)
        return xp.ascontiguousarray(xp.moveaxis(index.reshape(shape), -1, axis))

    batch = axis_batch


class KthIndex(Op):
    """Position along `axis` (kept, of size 1) of the k-th smallest element (k from 1), as
    PyTorch's CPU kthvalue picks it among equal elements: the stable order's where the k-th
    value is unique in its slice, PyTorch's quickselect (chainrule.ops.tie_order) where not.
    Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int, k: int) -> Array:
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=dtypes.int64.numpy)
        size = x.shape[axis]
        order = _rows(xp, _stable_order(xp, x, axis, False), axis)
        rows = _rows(xp, x, axis)
        index = order[:, k - 1 : k].copy()
        ordered = _ordered_rows(xp, rows, order, size)[:, _builtins.max(k - 2, 0) : k + 1]
        for row in xp.nonzero(_tied_neighbours(xp, ordered))[0].tolist():
            index[row, 0] = tie_order.quickselect_position(_row_values(rows[row]), k - 1)
        shape = tuple(s for i, s in enumerate(x.shape) if i != axis) + (1,)
        return xp.ascontiguousarray(xp.moveaxis(index.reshape(shape), -1, axis))

    batch = axis_batch


class MedianIndex(Op):
    """Index of the lower median along `axis` (of the first NaN in slices holding one, as
    PyTorch). Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int) -> Array:
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=dtypes.int64.numpy)
        middle = (x.shape[axis] - 1) // 2
        order = xp.argsort(x, axis=axis, kind="stable")
        index = xp.take(order, [middle], axis=axis)
        if x.dtype.kind in "fV":
            nan = xp.isnan(x)
            has_nan = nan.any(axis=axis, keepdims=True)
            index = xp.where(has_nan, xp.argmax(nan, axis=axis, keepdims=True), index)
        return index.astype(dtypes.int64.numpy, copy=False)

    batch = axis_batch


def _entries(index: Any, axis: int, start: int, stop: int) -> Any:
    """Entries start..stop-1 of an index Tensor along `axis` (a 0-dim index as it is), in
    memory of their own: contiguous, as PyTorch's topk and kthvalue indices."""
    if index._array.ndim == 0:
        return index
    return getitem(index, (slice(None),) * axis + (slice(start, stop),)).contiguous()


def sort(
    input: Tensor,
    dim: int = -1,
    descending: bool = False,
    *,
    stable: bool | None = None,
    axis: int | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> ValuesIndices:
    """(values, indices) sorted along `dim`. Gradients go back to the elements each value came
    from. Equal elements come in PyTorch's CPU order: input order with `stable=True` or in
    slices of up to 16, else std::sort's arrangement (see `Argsort`).

    Args:
        input (Tensor): any shape.
        dim (int): the dimension sorted along.
        descending (bool): largest first.
        stable (bool): keep equal elements in their input order.
        axis (int, optional): NumPy's name for `dim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        (Tensor, Tensor): a named tuple (values, indices), each the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.sort(chainrule.tensor([3.0, 1.0, 2.0]), descending=True)
        chainrule.return_types.sort(
        values=tensor([3., 2., 1.]),
        indices=tensor([0, 2, 1]))
    """
    if out is not None:
        return write_outs(
            "sort", sort(input, dim=dim, descending=descending, stable=stable, axis=axis), out
        )
    refuse_complex("sort", input)
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("sort", dim, None, axis, None)
    axis = normalize_dim("sort", dim, input._array.ndim)
    index = apply(Argsort, (input,), axis, descending, bool(stable))
    values = _take(input, index._array, axis)
    # PyTorch names the overload taking `stable` (either value) SortBackward1
    values = named(values, "SortBackward0" if stable is None else "SortBackward1")
    return return_types.sort(values, index)


def argsort(
    input: Tensor,
    dim: int = -1,
    descending: bool = False,
    *,
    stable: bool = False,
    axis: int | None = None,
) -> Tensor:
    """The indices that sort `input` along `dim`: `sort(...).indices`.

    Args:
        input (Tensor): any shape.
        dim (int): the dimension sorted along.
        descending (bool): largest first.
        stable (bool): keep equal elements in their input order (else PyTorch's CPU order).
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        Tensor: int64, the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.argsort(chainrule.tensor([3.0, 1.0, 2.0]))
        tensor([1, 2, 0])
    """
    refuse_complex("argsort", input)
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("argsort", dim, None, axis, None)
    axis = normalize_dim("argsort", dim, input._array.ndim)
    return apply(Argsort, (input,), axis, descending, bool(stable))


def msort(input: Tensor) -> Tensor:
    """`input` sorted along its first dimension: sort(input, dim=0).values.

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.msort(chainrule.tensor([[3.0, 1.0], [2.0, 5.0]]))
        tensor([[2., 1.],
                [3., 5.]])
    """
    refuse_complex("msort", input)
    return sort(input, 0).values


def _size_along(input: Any, axis: int) -> int:
    shape = input.shape
    return shape[axis] if shape else 1


def topk(
    input: Tensor,
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,
    *,
    axis: int | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> ValuesIndices:
    """(values, indices) of the k largest (or smallest) elements along `dim` (NaN the largest),
    sorted unless `sorted=False`. Which of equal elements are taken, and the unsorted order, are
    those of PyTorch's CPU kernel (nth_element, then sort), for unsorted slices up to 65536
    elements in all; beyond that, sorted=False gives the sorted order.

    Args:
        input (Tensor): any shape.
        k (int): how many, at most the size of `dim`.
        dim (int): the dimension searched.
        largest (bool): the largest (True) or the smallest.
        sorted (bool): sort the k elements (otherwise in PyTorch's selection order).
        axis (int, optional): NumPy's name for `dim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        (Tensor, Tensor): a named tuple (values, indices), `dim` of size k.

    Example:
        >>> import chainrule
        >>> chainrule.topk(chainrule.tensor([1.0, 4.0, 2.0, 3.0]), 2)
        chainrule.return_types.topk(
        values=tensor([4., 3.]),
        indices=tensor([1, 3]))
    """
    if out is not None:
        return write_outs(
            "topk", topk(input, k=k, dim=dim, largest=largest, sorted=sorted, axis=axis), out
        )
    refuse_complex("topk", input)
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("topk", dim, None, axis, None)
    _refuse_bool("topk", input)
    axis = normalize_dim("topk", dim, input._array.ndim)
    size = _size_along(input, axis)
    if not 0 <= k <= size:
        raise IndexRangeError(
            f"topk: selected index k out of range (k={k}, size {size} along dim {dim}, input "
            f"shape {input.shape})"
        )
    index = apply(TopkIndex, (input,), axis, k, largest, sorted)
    values = named(_take(input, index._array, axis), "TopkBackward0")
    return return_types.topk(values, index)


def kthvalue(
    input: Tensor,
    k: int,
    dim: int = -1,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> ValuesIndices:
    """(values, indices) of the k-th smallest element along `dim` (k counts from 1; NaN the
    largest); among equal elements, the one PyTorch's CPU quickselect picks.

    Args:
        input (Tensor): any shape.
        k (int): which, from 1 (the minimum) to the size of `dim`.
        dim (int): the dimension searched.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        (Tensor, Tensor): a named tuple (values, indices).

    Example:
        >>> import chainrule
        >>> chainrule.kthvalue(chainrule.tensor([3.0, 1.0, 2.0]), 2)
        chainrule.return_types.kthvalue(
        values=tensor(2.),
        indices=tensor(2))
    """
    if out is not None:
        return write_outs(
            "kthvalue",
            kthvalue(input, k=k, dim=dim, keepdim=keepdim, axis=axis, keepdims=keepdims),
            out,
        )
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("kthvalue", dim, keepdim, axis, keepdims)
    _empty_dims_first("kthvalue", input, dim)
    refuse_complex("kthvalue", input)
    _refuse_bool("kthvalue", input)
    axis = normalize_dim("kthvalue", dim, input._array.ndim)
    size = _size_along(input, axis)
    if not 1 <= k <= size:
        raise IndexRangeError(
            f"kthvalue(): selected number k={k} out of range for dimension {dim} of size {size} "
            f"(input shape {input.shape})"
        )
    index = apply(KthIndex, (input,), axis, k)
    values, indices = _selected(input, index, axis, keepdim)
    return return_types.kthvalue(named(values, "KthvalueBackward0"), indices)


class ModeIndex(Op):
    """Index along `axis` of the mode: the most frequent value, the smallest of those on a tie
    (each NaN counts alone, as NaN != NaN), at its last position in PyTorch's CPU mode's sort
    order (run step by step, chainrule.ops.tie_order, where that is not the stable order). Not
    differentiable (mode's gradient goes to that position, through the gather)."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int) -> Array:
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=dtypes.int64.numpy)
        rows = xp.moveaxis(x, axis, -1)
        batch, size = rows.shape[:-1], rows.shape[-1]
        rows = rows.reshape(-1, size)
        order = xp.argsort(rows, axis=-1, kind="stable")  # equal values keep their order
        ordered = xp.take_along_axis(rows, order, axis=-1)
        starts = xp.ones(ordered.shape, dtype=bool)  # where a run of equal values begins
        starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        run = xp.cumsum(starts.reshape(-1)) - 1  # one id per run, over all rows at once
        lengths = xp.bincount(run)[run].reshape(ordered.shape)
        ends = xp.ones(ordered.shape, dtype=bool)
        ends[:, :-1] = starts[:, 1:]
        run_lengths = xp.where(ends, lengths, 0)
        best = xp.argmax(run_lengths, axis=-1)  # the first longest run
        index = xp.take_along_axis(order, best[:, None], axis=-1)  # its last original position
        # Where std::sort's order differs from the stable one, PyTorch's own steps: a slice
        # holding NaN (`<` leaves NaNs unsorted), or a tied mode in a slice past 16 elements,
        # where introsort is unstable.
        redo = xp.zeros(rows.shape[0], dtype=bool)
        if x.dtype.kind in "fV":
            redo |= xp.isnan(rows).any(axis=-1)
        if size > 16 and x.size <= _UNSORTED_ORDER_LIMIT:
            redo |= run_lengths.max(axis=-1) > 1
        for row in xp.nonzero(redo)[0].tolist():
            index[row, 0] = tie_order.mode_position(_row_values(rows[row]))
        index = xp.moveaxis(index.reshape(batch + (1,)), -1, axis)
        return index.astype(dtypes.int64.numpy, copy=False)

    batch = axis_batch


def mode(
    input: Tensor,
    dim: int = -1,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> ValuesIndices:
    """(values, indices) of the most frequent value along `dim`: the smallest of the most
    frequent on a tie, and the index of its last occurrence in the order PyTorch's CPU `mode`
    sorts the slice (std::sort by `<`: input order up to 16 elements; with NaN, which compares
    neither way, the NaNs stay about where they are and each counts once, so a NaN can be the
    mode). The gradient reaches the element at the index.

    Args:
        input (Tensor): any shape.
        dim (int): the dimension searched.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        (Tensor, Tensor): a named tuple (values, indices).

    Example:
        >>> import chainrule
        >>> chainrule.mode(chainrule.tensor([3, 3, 1, 2, 2]))
        chainrule.return_types.mode(
        values=tensor(2),
        indices=tensor(4))
    """
    if out is not None:
        return write_outs(
            "mode", mode(input, dim=dim, keepdim=keepdim, axis=axis, keepdims=keepdims), out
        )
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("mode", dim, keepdim, axis, keepdims)
    _empty_dims_first("mode", input, dim)
    refuse_complex("mode", input)
    axis = normalize_dim("mode", dim, input._array.ndim)
    if _size_along(input, axis) == 0:
        raise IndexError(
            f"mode(): Expected reduction dim {dim} to have non-zero size (input shape "
            f"{input.shape})"
        )
    index = apply(ModeIndex, (input,), axis)
    values, indices = _selected(input, index, axis, keepdim)
    return return_types.mode(named(values, "ModeBackward0"), indices)


class Median(Op):
    """The lower median of all elements (NaN when any is NaN or x is empty; subclasses with
    `ignore_nan` skip NaNs). Derivative: g split evenly between the elements equal to it
    (PyTorch's convention for median())."""

    ignore_nan = False

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        xp = ctx.xp
        flat = xp.sort(x.reshape(-1))
        if ctx.op.ignore_nan and x.dtype.kind in "fV":
            flat = flat[: int((~xp.isnan(flat)).sum())]  # NaN sorts last
        if flat.size == 0:
            out = xp.full((), math.nan, dtype=x.dtype)
        elif x.dtype.kind in "fV" and xp.isnan(flat[-1]):  # NaN sorts last
            out = flat[-1:].reshape(())
        else:
            out = flat[(flat.size - 1) // 2 : (flat.size + 1) // 2].reshape(())
            if out == 0 and x.dtype.kind in "fV" and xp.signbit(flat[flat == 0]).any():
                # Which of -0.0 and 0.0: PyTorch's nth_element decides (chainrule.ops.tie_order)
                chosen = tie_order.median_value(_row_values(x.reshape(-1)), ctx.op.ignore_nan)
                out = xp.asarray(chosen, dtype=x.dtype)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        axes = tuple(range(x._array.ndim))
        return (g * _tie_weights(x, ctx.out, axes, False, True, g.dtype),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return _reduction_jvp(ctx, t, None, False)


# One result type per call form, for static tools: median(x) is a Tensor, median(x, dim)
# a named tuple (values, indices).
@overload
def median(
    input: Tensor,  # noqa: A002
    dim: None = None,
    keepdim: bool = False,
    *,
    axis: None = None,
    keepdims: bool | None = None,
) -> Tensor: ...
@overload
def median(
    input: Tensor,  # noqa: A002
    dim: int,
    keepdim: bool = False,
    *,
    axis: None = None,
    keepdims: bool | None = None,
) -> ValuesIndices: ...
@overload
def median(
    input: Tensor,  # noqa: A002
    dim: None = None,
    keepdim: bool = False,
    *,
    axis: int,
    keepdims: bool | None = None,
) -> ValuesIndices: ...
def median(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor | ValuesIndices:
    """median(input) is the lower median of all elements (ties share the gradient);
    median(input, dim, keepdim=False) is a named tuple (values, indices) of the lower median along
    `dim`. The lower median of an even count is the smaller middle value (no averaging).

    Args:
        input (Tensor): any shape.
        dim (int, optional): the dimension reduced; None reduces all (and gives no indices).
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        Tensor, or (values, indices) when `dim` is given.

    Example:
        >>> import chainrule
        >>> chainrule.median(chainrule.tensor([4.0, 1.0, 3.0, 2.0]))
        tensor(2.)
    """
    if out is not None and dim is None and axis is None:
        # (PyTorch has no out= form of the all-elements median)
        raise TypeError('median() missing 1 required positional arguments: "dim"')
    if out is not None:
        return write_outs(
            "median", median(input, dim=dim, keepdim=keepdim, axis=axis, keepdims=keepdims), out
        )
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("median", dim, keepdim, axis, keepdims)
    _empty_dims_first("median", input, dim)
    refuse_complex("median", input)
    return _median("median", Median, MedianIndex, input, dim, keepdim)


def _median(name: str, reduce: type, pick: type, input: Any, dim: Any, keepdim: bool) -> Any:
    """median or nanmedian: `reduce` over all elements, or (values, indices) along `dim` at the
    index `pick` finds."""
    _refuse_bool(name, input)
    if dim is None:
        return apply(reduce, (input,))
    axis = normalize_dim(name, dim, input._array.ndim)
    _require_nonempty(name, input, (axis,))
    index = apply(pick, (input,), axis)
    values, indices = _selected(input, index, axis, keepdim)
    values = named(values, f"{name.capitalize()}Backward1")  # MedianBackward1, Nanmedian...
    return getattr(return_types, name)(values, indices)


class NanMedian(Median):
    """The lower median of the elements that are not NaN (NaN when all are). Derivative: g
    split evenly between the elements equal to it (between the NaNs when all are NaN), as
    PyTorch's nanmedian()."""

    ignore_nan = True

    @classmethod
    def node_name(cls) -> str:
        return "NanmedianBackward0"


class NanMedianIndex(Op):
    """Index of the lower median along `axis` of the elements that are not NaN, the first of
    equal ones (of the first element when all are NaN; PyTorch leaves which one unspecified).
    Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int) -> Array:
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=dtypes.int64.numpy)
        order = xp.argsort(x, axis=axis, kind="stable")  # NaN sorts last
        if x.dtype.kind in "fV":
            count = (~xp.isnan(x)).sum(axis=axis, keepdims=True)
        else:
            count = xp.full((1,) * x.ndim, x.shape[axis])
        middle = xp.maximum(count - 1, 0) // 2
        return xp.take_along_axis(order, middle, axis).astype(dtypes.int64.numpy, copy=False)

    batch = axis_batch


# One result type per call form, for static tools: nanmedian(x) is a Tensor, nanmedian(x, dim)
# a named tuple (values, indices).
@overload
def nanmedian(
    input: Tensor,  # noqa: A002
    dim: None = None,
    keepdim: bool = False,
    *,
    axis: None = None,
    keepdims: bool | None = None,
) -> Tensor: ...
@overload
def nanmedian(
    input: Tensor,  # noqa: A002
    dim: int,
    keepdim: bool = False,
    *,
    axis: None = None,
    keepdims: bool | None = None,
) -> ValuesIndices: ...
@overload
def nanmedian(
    input: Tensor,  # noqa: A002
    dim: None = None,
    keepdim: bool = False,
    *,
    axis: int,
    keepdims: bool | None = None,
) -> ValuesIndices: ...
def nanmedian(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor | ValuesIndices:
    """`median` ignoring NaNs: nanmedian(input) is the lower median of the other elements
    (ties share the gradient); nanmedian(input, dim, keepdim=False) gives (values, indices).

    Args:
        input (Tensor): any shape.
        dim (int, optional): the dimension reduced; None reduces all (and gives no indices).
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.
        out (Tensor or tuple, optional): write the result here; a (values, indices)
            pair for the named tuple (each of the result's exact dtype).

    Returns:
        Tensor, or (values, indices) when `dim` is given.

    Example:
        >>> import chainrule
        >>> chainrule.nanmedian(chainrule.tensor([4.0, float("nan"), 1.0, 3.0]))
        tensor(3.)
    """
    if out is not None and dim is None and axis is None:
        # (PyTorch has no out= form of the all-elements nanmedian)
        raise TypeError('nanmedian() missing 1 required positional arguments: "dim"')
    if out is not None:
        return write_outs(
            "nanmedian",
            nanmedian(input, dim=dim, keepdim=keepdim, axis=axis, keepdims=keepdims),
            out,
        )
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("nanmedian", dim, keepdim, axis, keepdims)
    _empty_dims_first("nanmedian", input, dim)
    refuse_complex("nanmedian", input)
    return _median("nanmedian", NanMedian, NanMedianIndex, input, dim, keepdim)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


@autocast_policy(FLOAT32)
def quantile(
    input: Tensor,
    q: float | Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """The q-th quantiles over `dim` (of all elements when None). 'linear' interpolates between the
    two sorted values around rank q (n - 1), so the gradient goes to those two elements (and to q,
    when it is a tensor that requires grad), as PyTorch; NaN in a slice gives NaN.

    Args:
        input (Tensor): floating point, any shape.
        q (float or Tensor): in [0, 1]; a 1-D tensor of them adds a first dimension to the
            result.
        dim (int, optional): the dimension reduced; None reduces the flattened input.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        interpolation (str): between the two sorted values around rank q (n - 1): 'linear',
            'lower', 'higher', 'midpoint' or 'nearest'.
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: the reduced shape, with a first dimension of len(q) for a 1-D `q`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([0.0, 10.0, 20.0, 30.0])
        >>> chainrule.quantile(x, 0.5)
        tensor(15.)
        >>> chainrule.quantile(x, chainrule.tensor([0.25, 0.5]), interpolation="lower")
        tensor([ 0., 10.])
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("quantile", dim, keepdim, axis, keepdims)
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


@autocast_policy(FLOAT32)
def nanquantile(
    input: Tensor,
    q: float | Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """`quantile` of the elements that are not NaN (NaN where all are).

    Args:
        input (Tensor): floating point, any shape.
        q (float or Tensor): in [0, 1]; a 1-D tensor of them adds a first dimension to the
            result.
        dim (int, optional): the dimension reduced; None reduces the flattened input.
        keepdim (bool): keep each reduced dimension with size 1 (so the result broadcasts
            against `input`).
        interpolation (str): between the two sorted values around rank q (n - 1): 'linear',
            'lower', 'higher', 'midpoint' or 'nearest'.
        axis (int, optional): NumPy's name for `dim`.
        keepdims (bool, optional): NumPy's name for `keepdim`.

    Returns:
        Tensor: the reduced shape, with a first dimension of len(q) for a 1-D `q`.

    Example:
        >>> import chainrule
        >>> chainrule.nanquantile(chainrule.tensor([1.0, float("nan"), 3.0]), 0.5)
        tensor(2.)
    """
    if axis is not None or keepdims is not None:  # NumPy's names, as PyTorch
        dim, keepdim = numpy_keywords("nanquantile", dim, keepdim, axis, keepdims)
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


def _quantile_level(name: str, input: Any, q: Any) -> Any:
    """q as a 0-dim or 1-D Tensor of the input's dtype, every entry checked to be in [0, 1]."""
    xp = input._backend.xp
    if isinstance(q, Tensor):
        if q._array.ndim > 1:
            raise ShapeError(f"{name}() q must be a scalar or 1D tensor, got shape {q.shape}")
        if q._array.dtype != input._array.dtype:
            raise DTypeError(
                f"{name}() q tensor must be same dtype as the input tensor, got {q.dtype.name} "
                f"and {input.dtype.name}"
            )
        if not bool(((q._array >= 0) & (q._array <= 1)).all()):
            raise DomainError(f"{name}() q values must be in the range [0, 1]")
        return q
    if not 0 <= q <= 1:
        raise DomainError(f"{name}() q must be in the range [0, 1] but got {q}")
    return _wrap(xp.asarray(q, dtype=input._array.dtype))


def _quantile(
    name: str,
    input: Any,
    q: Any,
    dim: int | None,
    keepdim: bool,
    interpolation: str,
    ignore_nan: bool,
) -> Any:
    """The values at rank q (n - 1) among the sorted elements (n counting only non-NaN ones
    when `ignore_nan`), read at the two neighbouring ranks and interpolated (PyTorch's
    quantile). The q dimension is laid last while computing and moved first at the end."""
    dtype = input._array.dtype
    if dtype.kind not in "fV" or dtype.itemsize < 4:
        raise DTypeError(
            f"{name}() input tensor must be either float or double dtype, got {input.dtype.name}"
        )
    if interpolation not in _INTERPOLATIONS:
        raise DomainError(
            f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
            f"but got {interpolation}"
        )
    level = _quantile_level(name, input, q)
    if math.prod(input.shape) == 0:
        raise ShapeError(f"{name}() input tensor must be non-empty (shape {input.shape})")
    ndim = input.ndim
    if dim is None:
        x = reshape(input, (-1,))
    else:
        axis = normalize_dim(name, dim, ndim)
        x = movedim(input, axis, -1) if ndim else reshape(input, (1,))
    last = x.ndim - 1
    size = x.shape[last]
    nan = isnan(x)
    levels = reshape(level, (-1,))
    if ignore_nan:  # all NaN: rank 0, which reads a NaN
        ranks = levels * cast(sum(logical_not(nan), last, keepdim=True) - 1, x.dtype)
        ranks = where(ranks < 0, 0.0, ranks)
    else:  # a NaN: the last rank, where it sorts
        ranks = where(any(nan, last, keepdim=True), size - 1, levels * (size - 1))
    if interpolation == "lower":
        ranks = floor(ranks)
    elif interpolation == "higher":
        ranks = ceil(ranks)
    elif interpolation == "nearest":
        ranks = _round(ranks)  # half to even, as PyTorch
    order = apply(Argsort, (x,), last, False)
    below = floor(ranks)
    out = _at_ranks(x, order, below, last)
    if interpolation in ("linear", "midpoint"):
        above = _at_ranks(x, order, ceil(ranks), last)
        out = lerp(out, above, ranks - below if interpolation == "linear" else 0.5)
    out = movedim(out, -1, 0)
    if keepdim and ndim:
        if dim is None:
            out = reshape(out, (out.shape[0],) + (1,) * ndim)
        else:
            out = unsqueeze(out, axis + 1)
    return named(reshape(out, out.shape[1:]) if level._array.ndim == 0 else out, "SqueezeBackward4")


def _at_ranks(x: Any, order: Any, ranks: Any, axis: int) -> Any:
    """The elements of x at the (whole, float) `ranks` of its sorted `order` along `axis`."""
    index = apply(TakeAlongAxis, (order,), cast(ranks, dtypes.int64)._array, axis)
    return apply(TakeAlongAxis, (x,), index._array, axis)


# ---- softmax -------------------------------------------------------------------------------------


class Softmax(Op):
    """exp(x - max) / sum(exp(x - max)) along `axis`. Derivative: out (g - sum(g out)), run as
    one op, SoftmaxBackward (PyTorch's _softmax_backward_data), through `fast_vjp`."""

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int) -> Array:
        ctx.save(axis=axis)
        xp = ctx.xp
        out = xp.empty(x.shape, dtype=x.dtype)
        if x.size and not _compiled_rows(ctx.backend.softmax_rows, axis, x, out):
            _along_rows(ctx, softmax_into, axis, out, x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (out * (g - sum(g * out, ctx.axis, keepdim=True)),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """The same as one op: three passes in place instead of four ops and their arrays."""
        return (apply(SoftmaxBackward, (g, ctx.out), ctx.axis),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        out = ctx.out
        return out * (t - sum(t * out, ctx.axis, keepdim=True))

    batch = axis_batch


class ScaledCausalSoftmax(Op):
    """softmax(x * scale + causal mask) along the last axis of scores x (*, L, S): row i
    takes columns j <= i only, the rest of the row is 0 (PyTorch's is_causal, top-left
    aligned). The causal attention's scale, mask and softmax as one op, one pass per row
    under the JIT (`Backend.scaled_causal_softmax_rows`), where a Mul, an Add of the mask and
    a Softmax took three ops and their arrays. Masked scores take no part, so a NaN or +inf
    there does not reach the row, as in PyTorch's fused CPU attention. Derivative: scale out
    (g - sum(g out)), run as SoftmaxBackward through `fast_vjp`."""

    @staticmethod
    def forward(ctx: Node, x: Array, scale: float) -> Array:
        ctx.save(scale=scale)
        xp = ctx.xp
        out = xp.empty(x.shape, dtype=x.dtype)
        if x.size and not _causal_rows(ctx, x, out, scale):
            length, source = x.shape[-2:]
            blocked = xp.triu(xp.ones((length, source), dtype=bool), 1)
            xp.multiply(x, scale, out=out)
            out[..., blocked] = -xp.inf
            _along_rows(ctx, softmax_into, out.ndim - 1, out, out)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return ((out * (g - sum(g * out, -1, keepdim=True))) * ctx.scale,)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """The same with the softmax part as one op (SoftmaxBackward)."""
        return (apply(SoftmaxBackward, (g, ctx.out), -1) * ctx.scale,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        out = ctx.out
        return (out * (t - sum(t * out, -1, keepdim=True))) * ctx.scale

    @staticmethod
    def batch(b: Any, x: Any, scale: float) -> Any:
        """vmap: one more leading dimension; the rows stay the last two."""
        return apply(ScaledCausalSoftmax, b.batch_all((x,)), scale)


def _causal_rows(ctx: Node, x: Array, out: Array, scale: float) -> bool:
    """ScaledCausalSoftmax's compiled rows, when the backend has a kernel for them."""
    length, source = x.shape[-2:]
    rows = (x.reshape(-1, source), out.reshape(-1, source))
    return ctx.backend.scaled_causal_softmax_rows(*rows, scale, length)


def _compiled_rows(kernel: Any, axis: int, *arrays: Array) -> bool:
    """A backend's compiled row kernel (`Backend.softmax_rows`, ...) over the arrays as rows
    of their last axis, when `axis` is the last; False where none ran. The last array, the
    output, is C-order, so its rows are a view."""
    if axis != arrays[-1].ndim - 1:
        return False
    return kernel(*(array.reshape(-1, array.shape[-1]) for array in arrays))


def _along_rows(ctx: Node, kernel: Any, axis: int, out: Array, *arrays: Array) -> None:
    """kernel(xp, *arrays, out, axis) for arrays of out's (C-order) shape: when `axis` is the
    last, between blocks of rows over the intra-op threads (the kernel along axis 1 of each
    block, the same numbers), else in one call."""
    xp = ctx.xp
    if axis != out.ndim - 1 or not ctx.backend.splits(out.size):
        kernel(xp, *arrays, out, axis)
        return
    rows = [array.reshape(-1, array.shape[-1]) for array in (*arrays, out)]

    def block(start: int, stop: int) -> None:
        kernel(xp, *(row[start:stop] for row in rows), 1)

    ctx.backend.parallel_for(rows[-1].shape[0], block, rows[-1].shape[1])


def softmax_into(xp: Any, x: Array, out: Array, axis: int) -> None:
    """softmax of the array x along `axis` into `out`, in place: no temporary the size of x
    (Softmax's forward, and SoftmaxCrossEntropyBackward's first passes). Half precision is
    computed in float32 and rounded once, as PyTorch's kernels accumulate."""
    if _is_half(x):
        out[...] = _in_float32(xp, softmax_into, x, axis)
        return
    xp.subtract(x, x.max(axis=axis, keepdims=True), out=out)
    xp.exp(out, out=out)
    out /= out.sum(axis=axis, keepdims=True)


def _is_half(x: Array) -> bool:
    return x.dtype.itemsize == 2 and x.dtype.kind in "fV"  # float16, bfloat16


def _in_float32(xp: Any, kernel: Any, x: Array, axis: int) -> Array:
    wide = x.astype(xp.float32)
    out = xp.empty(wide.shape, dtype=wide.dtype)
    kernel(xp, wide, out, axis)
    return out


class SoftmaxBackward(Op):
    """out (g - sum(g out)) along `axis`, softmax's vjp as one op (PyTorch's
    _softmax_backward_data). It is linear in g with a symmetric Jacobian, so its derivative
    for g is itself; for out, gg (g - s) - g sum(gg out) with s = sum(g out)."""

    @classmethod
    def node_name(cls) -> str:
        return "SoftmaxBackwardDataBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, g: Array, out: Array, axis: int) -> Array:
        ctx.save(g=g, out=out, axis=axis)
        xp = ctx.xp
        if g.shape != out.shape or g.dtype != out.dtype or out.size == 0:
            return out * (g - (g * out).sum(axis=axis, keepdims=True))
        result = xp.empty(out.shape, dtype=out.dtype)
        if not _compiled_rows(ctx.backend.softmax_backward_rows, axis, g, out, result):
            _along_rows(ctx, _softmax_backward_into, axis, result, g, out)
        return result

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        g, out, axis = ctx.g, ctx.out, ctx.axis
        grad_g = apply(SoftmaxBackward, (gg, out), axis) if ctx.next_edges[0] else None
        grad_out = None
        if ctx.next_edges[1] is not None:
            s = sum(g * out, axis, keepdim=True)
            grad_out = gg * (g - s) - g * sum(gg * out, axis, keepdim=True)
        return (grad_g, grad_out)

    @staticmethod
    def jvp(ctx: Node, t_g: Any, t_out: Any) -> Any:
        g, out, axis = ctx.g, ctx.out, ctx.axis
        parts = []
        if t_g is not None:
            parts.append(apply(SoftmaxBackward, (t_g, out), axis))
        if t_out is not None:
            s = sum(g * out, axis, keepdim=True)
            parts.append(t_out * (g - s) - out * sum(g * t_out, axis, keepdim=True))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    @staticmethod
    def batch(b: Any, g: Any, out: Any, axis: int) -> Any:
        g = g if b.batched[0] else b.expand(g)
        out = out if b.batched[1] else b.expand(out)
        return apply(b.op, (g, out), axis + 1)


def _softmax_backward_into(xp: Any, g: Array, out: Array, result: Array, axis: int) -> None:
    """out (g - sum(g out)) along `axis` into `result`: g out, its sum, g - sum, times out,
    the last three in place (the product with out commutes, so this rounds as the vjp's)."""
    xp.multiply(g, out, out=result)
    total = result.sum(axis=axis, keepdims=True)
    xp.subtract(g, total, out=result)
    result *= out


class LogSoftmax(Op):
    """x - max - log(sum(exp(x - max))) along `axis`. Derivative: g - exp(out) sum(g), run as
    one op, LogSoftmaxBackward (PyTorch's _log_softmax_backward_data), through `fast_vjp`."""

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int) -> Array:
        ctx.save(axis=axis)
        xp = ctx.xp
        out = xp.empty(x.shape, dtype=x.dtype)
        if x.size:
            _along_rows(ctx, log_softmax_into, axis, out, x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g - exp(ctx.out) * sum(g, ctx.axis, keepdim=True),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """The same as one op: three passes in place instead of three ops and their arrays."""
        return (apply(LogSoftmaxBackward, (g, ctx.out), ctx.axis),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return t - sum(t * exp(ctx.out), ctx.axis, keepdim=True)

    batch = axis_batch


def log_softmax_into(xp: Any, x: Array, out: Array, axis: int) -> None:
    """log_softmax of the array x along `axis` into `out`: x - max, then the log of the sum
    of its exponentials (one temporary the size of x, for the exponentials) taken off; half
    precision in float32, as `softmax_into`."""
    if _is_half(x):
        out[...] = _in_float32(xp, log_softmax_into, x, axis)
        return
    xp.subtract(x, x.max(axis=axis, keepdims=True), out=out)
    out -= xp.log(xp.exp(out).sum(axis=axis, keepdims=True))


class LogSoftmaxBackward(Op):
    """g - exp(out) sum(g) along `axis`, log_softmax's vjp as one op (PyTorch's
    _log_softmax_backward_data). Linear in g, as g - s sum(g) with s = exp(out), so its
    derivative for g is the adjoint, gg - sum(gg s); for out, -gg s sum(g)."""

    @classmethod
    def node_name(cls) -> str:
        return "LogSoftmaxBackwardDataBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, g: Array, out: Array, axis: int) -> Array:
        ctx.save(g=g, out=out, axis=axis)
        xp = ctx.xp
        if g.shape != out.shape or g.dtype != out.dtype or out.size == 0:
            return g - xp.exp(out) * g.sum(axis=axis, keepdims=True)
        result = xp.empty(out.shape, dtype=out.dtype)
        _along_rows(ctx, _log_softmax_backward_into, axis, result, g, out)
        return result

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        g, out, axis = ctx.g, ctx.out, ctx.axis
        s = exp(out)
        grad_g = gg - sum(gg * s, axis, keepdim=True) if ctx.next_edges[0] is not None else None
        grad_out = None
        if ctx.next_edges[1] is not None:
            grad_out = -gg * s * sum(g, axis, keepdim=True)
        return (grad_g, grad_out)

    @staticmethod
    def jvp(ctx: Node, t_g: Any, t_out: Any) -> Any:
        g, out, axis = ctx.g, ctx.out, ctx.axis
        s = exp(out)
        parts = []
        if t_g is not None:
            parts.append(t_g - s * sum(t_g, axis, keepdim=True))
        if t_out is not None:
            parts.append(-s * t_out * sum(g, axis, keepdim=True))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    @staticmethod
    def batch(b: Any, g: Any, out: Any, axis: int) -> Any:
        g = g if b.batched[0] else b.expand(g)
        out = out if b.batched[1] else b.expand(out)
        return apply(b.op, (g, out), axis + 1)


def _log_softmax_backward_into(xp: Any, g: Array, out: Array, result: Array, axis: int) -> None:
    """g - exp(out) sum(g) along `axis` into `result`: exp(out), times sum(g), taken from g."""
    xp.exp(out, out=result)
    result *= g.sum(axis=axis, keepdims=True)
    xp.subtract(g, result, out=result)


def _softmax(name: str, op: type, input: Any, dim: int | None, dtype: Any) -> Any:
    x = input if dtype is None else cast(input, dtypes.as_dtype(dtype))
    refuse_complex(name, x)  # PyTorch has no complex softmax kernel
    _require_floating(name, x, f'"{name}" is not implemented for integer or bool tensors.')
    ndim = x._array.ndim
    if dim is None:  # PyTorch's legacy implicit dim
        dim = 0 if ndim in (0, 1, 3) else 1
    axis = normalize_dim(name, dim, ndim)
    if ndim == 0:  # named as the op, as PyTorch's (a 0-d kernel there)
        return named(reshape(apply(op, (reshape(x, (1,)),), 0), ()), op.node_name())
    return apply(op, (x,), axis)


def softmax(
    input: Tensor,
    dim: int | None = None,
    dtype: dtypes.dtype | None = None,
    *,
    axis: int | None = None,
) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, computed with the maximum subtracted first so it does not
    overflow; each slice becomes a probability distribution.

    Args:
        input (Tensor): floating point, any shape.
        dim (int): the dimension normalized over.
        dtype (dtype, optional): cast `input` to this dtype first.
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.softmax(chainrule.tensor([1000.0, 1000.0]), 0)
        tensor([0.5000, 0.5000])
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("softmax", dim, None, axis, None)
    return _softmax("softmax", Softmax, input, dim, dtype)


def log_softmax(
    input: Tensor,
    dim: int | None = None,
    dtype: dtypes.dtype | None = None,
    *,
    axis: int | None = None,
) -> Tensor:
    """log(softmax(x)) along `dim`, computed as x - logsumexp(x) without overflow or log(0).

    Args:
        input (Tensor): floating point, any shape.
        dim (int): the dimension normalized over.
        dtype (dtype, optional): cast `input` to this dtype first.
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.log_softmax(chainrule.tensor([0.0, 0.0]), 0)
        tensor([-0.6931, -0.6931])
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("log_softmax", dim, None, axis, None)
    return _softmax("log_softmax", LogSoftmax, input, dim, dtype)


# ---- integration ---------------------------------------------------------------------------------


def trapezoid(
    y: Tensor,
    x: Tensor | None = None,
    *,
    dx: float | None = None,
    dim: int = -1,
    axis: int | None = None,
) -> Tensor:
    """The trapezoidal rule along `dim`: samples `y` at points `x` (1-D along dim, or a tensor
    broadcasting with y), or spaced `dx` apart (1 by default). Linear in y (and in x's
    differences); computed with PyTorch's two formulas, so values round as its do.

    Args:
        y (Tensor): the sampled values.
        x (Tensor, optional): the sample points.
        dx (float, optional): the spacing when `x` is not given.
        dim (int): the dimension integrated along.
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        Tensor: `y`'s shape without `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.trapezoid(chainrule.tensor([1.0, 2.0, 3.0]), dx=0.5)
        tensor(2.)
        >>> chainrule.trapezoid(chainrule.tensor([1.0, 1.0]), chainrule.tensor([0.0, 3.0]))
        tensor(3.)
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("trapezoid", dim, None, axis, None)
    if x is not None and dx is not None:
        raise TypeError("trapezoid(): pass either the sample points x or the spacing dx, not both")
    ndim = y._array.ndim
    axis = require_dims("trapezoid", dim, ndim)
    if y._array.dtype.kind == "b" or (x is not None and x._array.dtype.kind == "b"):
        raise DTypeError(f"trapezoid: bool inputs are not supported (y shape {y.shape})")
    size = y.shape[axis]
    if size == 0:  # no samples: 0, as NumPy
        shape = tuple(s for i, s in enumerate(y.shape) if i != axis)
        return _wrap(y._backend.xp.zeros(shape, dtype=y._array.dtype))
    if x is None:  # (sum(y) - (y_0 + y_last) / 2) dx
        ends = _along(y, axis, 0) + _along(y, axis, size - 1)
        out = (sum(y, axis) - ends * 0.5) * (1 if dx is None else dx)
        return named(out, "MulBackward1")  # PyTorch multiplies by a Scalar
    if x._array.ndim == 1:
        if x.shape[0] != size:
            raise ShapeError(
                f"trapezoid: There must be one `x` value for each sample point (x shape "
                f"{x.shape}, y shape {y.shape}, dim {dim})"
            )
        x = reshape(x, tuple(size if i == axis else 1 for i in range(ndim)))
    elif x._array.ndim < ndim:
        x = reshape(x, (1,) * (ndim - x._array.ndim) + tuple(x.shape))
    spacing = _along(x, axis, slice(1, None)) - _along(x, axis, slice(0, -1))
    pairs = _along(y, axis, slice(1, None)) + _along(y, axis, slice(0, -1))
    return named(sum(pairs * spacing, axis) / 2.0, "DivBackward1")  # a division by a Scalar


def _along(x: Any, axis: int, key: Any) -> Any:
    """x[..., key, ...] with `key` (an int or a slice) on `axis`."""
    return getitem(x, (slice(None),) * axis + (key,))


trapz = trapezoid


# ---- named results -------------------------------------------------------------------------------


def _return_type(name: str, fields: tuple = ("values", "indices")) -> type:
    """A named tuple like torch.return_types.<name>: (values, indices) unless `fields` differ."""
    return return_type(name, fields)


_SELECTIONS = (
    "max",
    "min",
    "sort",
    "topk",
    "kthvalue",
    "median",
    "nanmedian",
    "mode",
    "cummax",
    "cummin",
)
return_types = _SimpleNamespace(
    **{name: _return_type(name) for name in _SELECTIONS},
    aminmax=_return_type("aminmax", ("min", "max")),
    histogram=_return_type("histogram", ("hist", "bin_edges")),
    histogramdd=_return_type("histogramdd", ("hist", "bin_edges")),
)


# ---- counting (not differentiable) ------------------------------------------------------------
# PyTorch records bincount's and the histograms' outputs of inputs that require grad, and a
# backward through them raises (NoDerivative): the gradient is never dropped in silence.


class BincountWeighted(Computed):
    """bincount's sums of weights, in the graph of the weights (no derivative)."""

    aten = "bincount"


class HistogramddCounts(Computed):
    """histogramdd's counts, in the graph of the points, edges and weights (no derivative)."""

    aten = "_histogramdd_from_bin_cts"


class HistogramddEdges(Computed):
    """histogramdd's bin edges of one dimension, in the graph of the points (no derivative)."""

    aten = "_histogramdd_bin_edges"


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:  # noqa: A002
    """How often each value 0, 1, ..., max(input) occurs in a 1-D tensor of non-negative
    integers (the sum of `weights` at each value's positions, when given). Not differentiable.

    Args:
        input (Tensor): 1-D, non-negative integers.
        weights (Tensor, optional): 1-D, the length of `input`.
        minlength (int): the least length of the result.

    Returns:
        Tensor: int64 counts of length max(max(input) + 1, minlength); with `weights`,
        float32 for float32 weights and float64 otherwise (as PyTorch), except for an empty
        `input`, whose result is int64 zeros whatever the weights (as PyTorch's).

    Example:
        >>> import chainrule
        >>> chainrule.bincount(chainrule.tensor([0, 1, 1, 3]))
        tensor([1, 2, 0, 1])
    """
    array = input._array
    if array.dtype.kind == "b" or array.dtype.kind not in "iu":
        raise DTypeError(f"bincount: not implemented for {input.dtype.name} tensors")
    if array.ndim != 1 or (array.size and int(array.min()) < 0):
        raise DomainError(
            f"bincount: only supports 1-d non-negative integral inputs (shape {input.shape})"
        )
    if minlength < 0:
        raise DomainError(f"bincount: minlength should be >= 0, got {minlength}")
    xp = input._backend.xp
    if weights is None or array.size == 0:
        # PyTorch answers an empty input with int64 zeros before it looks at any weights, so
        # an empty batch's weighted counts are integers there too
        return _wrap(xp.bincount(array, minlength=minlength).astype(xp.int64))
    if weights._array.shape != array.shape:
        raise DomainError(
            f"bincount: weights should be 1-d and have the same length as input (input shape "
            f"{input.shape}, weights shape {weights.shape})"
        )
    kind = weights._array.dtype
    target = xp.float32 if kind == xp.float32 else xp.float64
    counts = xp.bincount(array, weights=weights._array.astype(xp.float64), minlength=minlength)
    return apply(BincountWeighted, (weights,), counts.astype(target))


def _equal_width_edges(
    xp: Any,
    values: Array,
    bins: int,
    bounds: Sequence[float] | None,
    dtype: Any,
    name: str,
    where: str = "",
) -> Array:
    """`bins` + 1 equal-width edges over `bounds` (low, high), or over the values' own range,
    widened by 1/2 each way when the values are all equal (PyTorch's histogram kernel)."""
    if bounds is not None:
        low, high = float(bounds[0]), float(bounds[1])
        if low > high:
            raise DomainError(
                f"{name}: min should not exceed max, but got min {low:g} max {high:g}{where}"
            )
    elif values.size:
        low, high = float(values.min()), float(values.max())
    else:
        low, high = 0.0, 1.0
    if not (math.isfinite(low) and math.isfinite(high)):
        raise DomainError(f"{name}: range of [{low}, {high}] is not finite{where}")
    if low == high:
        low, high = low - 0.5, high + 0.5
    return xp.linspace(low, high, bins + 1).astype(dtype)


def histogram(
    input: Tensor,  # noqa: A002
    bins: int | Tensor = 100,
    *,
    range: Sequence[float] | None = None,  # noqa: A002
    weight: Tensor | None = None,
    density: bool = False,
) -> tuple[Tensor, Tensor]:
    """A histogram of `input`'s values: `bins` equal-width bins over `range` (the data's own
    range by default), or the bins between consecutive edges of a 1-D `bins` tensor. Each bin
    holds its left edge; the last holds its right edge too; values outside are not counted.
    Not differentiable.

    Args:
        input (Tensor): float32 or float64, any shape (flattened).
        bins (int or Tensor): the number of bins, or their edges (increasing).
        range (tuple of float, optional): the lowest and highest edge when `bins` is an int.
        weight (Tensor, optional): each value's weight, the shape of `input`.
        density (bool): normalize so that the histogram integrates to 1 over its edges.

    Returns:
        (Tensor, Tensor): `hist` (input's dtype) and `bin_edges`, a named tuple.

    Example:
        >>> import chainrule
        >>> chainrule.histogram(chainrule.tensor([1.0, 2.0, 1.0]), bins=2, range=(0.0, 2.0))
        chainrule.return_types.histogram(
        hist=tensor([0., 3.]),
        bin_edges=tensor([0., 1., 2.]))
    """
    kind = input.dtype.numpy
    if kind.kind not in "f" or kind.itemsize < 4:  # PyTorch's kernel, too
        raise DTypeError(f"histogram: not implemented for {input.dtype.name} tensors")
    if isinstance(bins, Tensor):
        if bins.ndim != 1 or bins.numel() < 1:
            raise ShapeError(f"histogram: bins must be a non-empty 1-D tensor, got {bins.shape}")
        if range is not None:
            raise TypeError("histogram(): range is for an int number of bins, not bin edges")
        if bins.dtype != input.dtype:
            raise DTypeError(
                f"histogram: input tensor and bins tensors should have the same dtype, but got "
                f"input with dtype {input.dtype.name} and bins with dtype {bins.dtype.name}"
            )
        edges = bins
    else:
        if bins <= 0:
            raise DomainError(f"histogram: bins must be > 0, but got {bins}")
        bounds = None if range is None else (float(range[0]), float(range[1]))
        edges = apply(HistogramEdges, (input,), int(bins), bounds)
    operands = (input, edges) + (() if weight is None else (weight,))
    hist = apply(HistogramCounts, operands, bool(density))
    if edges is bins:  # the edges come back as an output of the histogram, as PyTorch's
        edges = apply(HistogramEdgesGiven, (input, bins), bins._array.copy())
    return return_types.histogram(hist, edges)


class HistogramEdges(NoDerivative):
    """`bins` + 1 equal-width edges over `bounds`, or over x's own range (each example's under
    vmap, which runs it once per example as PyTorch's fallback). Not differentiable."""

    aten = "histogram"

    @staticmethod
    def forward(ctx: Node, x: Array, bins: int, bounds: tuple | None) -> Array:
        return _equal_width_edges(ctx.xp, x.reshape(-1), bins, bounds, x.dtype, "histogram")


class HistogramEdgesGiven(Computed):
    """histogram's edges when given as a tensor: a copy, in the graph (no derivative)."""

    aten = "histogram"


class HistogramCounts(NoDerivative):
    """How many of x's values (or how much of their weight) fall in each bin between
    consecutive edges: a bin holds its left edge, the last one its right edge too. Not
    differentiable; vmap runs it once per example."""

    aten = "histogram"

    @staticmethod
    def forward(ctx: Node, x: Array, edges: Array, *rest: Any) -> Array:
        *weight, density = rest
        xp = ctx.xp
        values = x.reshape(-1)
        count = edges.size - 1
        inside = (values >= edges[0]) & (values <= edges[-1])
        position = xp.searchsorted(edges, values[inside], side="right") - 1
        position = xp.minimum(position, count - 1)  # the last edge belongs to the last bin
        chosen = weight[0].reshape(-1)[inside].astype(xp.float64) if weight else None
        hist = xp.bincount(position, weights=chosen, minlength=count)[:count].astype(x.dtype)
        if density:
            widths = edges[1:] - edges[:-1]
            hist = hist / (hist.sum() * widths)
        return hist


def histogramdd(
    input: Tensor,  # noqa: A002
    bins: int | Sequence[int] | Sequence[Tensor],
    *,
    range: Sequence[float] | None = None,  # noqa: A002
    weight: Tensor | None = None,
    density: bool = False,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """A D-dimensional histogram of the points in the rows of `input` (*, D): per dimension
    `bins` equal-width bins over `range` (the data's own range by default, widened by 1/2 each
    way when constant), or the bins between consecutive given edges. As `histogram` along each
    dimension: a bin holds its lower edge, the last one its upper edge too; a point outside
    (or NaN) in any dimension is not counted. Not differentiable.

    Args:
        input (Tensor): float32 or float64 (*, D), one point per row.
        bins (int, sequence of int, or sequence of Tensor): the number of bins for every
            dimension, one number per dimension, or each dimension's increasing edges.
        range (sequence of float, optional): 2 D numbers, (low, high) of each dimension in turn,
            when `bins` are counts.
        weight (Tensor, optional): each point's weight, of shape (*).
        density (bool): normalize so that the histogram integrates to 1 over its bins' volume.

    Returns:
        (Tensor, tuple of Tensor): `hist` of shape (bins_0, ..., bins_{D-1}) in input's dtype,
        and `bin_edges`, one 1-D tensor per dimension; a named tuple.

    Example:
        >>> import chainrule
        >>> points = chainrule.tensor([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
        >>> chainrule.histogramdd(points, bins=[2, 1]).hist
        tensor([[1.],
                [2.]])
    """
    name = "torch.histogramdd"
    array = input._array
    if array.dtype.kind not in "f" or array.dtype.itemsize < 4:
        raise DTypeError(f"histogramdd: not implemented for {input.dtype.name} tensors")
    if array.ndim < 2:
        raise ShapeError(f"{name}: input tensor should have at least 2 dimensions")
    xp = input._backend.xp
    ndim = array.shape[-1]
    points = array.reshape(-1, ndim)
    if isinstance(bins, int):
        bins = [bins] * ndim
    bins = list(bins)
    given_edges = bool(bins) and isinstance(bins[0], Tensor)
    if len(bins) != ndim:
        if given_edges:
            raise ShapeError(
                f"{name}: expected {ndim} sequences of bin edges for a {ndim}-dimensional "
                f"histogram but got {len(bins)}"
            )
        raise ShapeError(
            "histogramdd: The size of bins must be equal to the innermost dimension of the input."
        )
    if range is not None and len(range) != 2 * ndim:
        raise ShapeError(
            f"{name}: for a {ndim}-dimensional histogram range should have {2 * ndim} "
            f"elements, but got {len(range)}"
        )
    if weight is not None and tuple(weight.shape) != tuple(array.shape[:-1]):
        raise ShapeError(
            f"{name}: if weight tensor is provided it should have the same shape as the input "
            f"tensor excluding its innermost dimension, but got input with shape "
            f"{list(array.shape)} and weight with shape {list(weight.shape)}"
        )
    edges = []
    for d, spec in enumerate(bins):
        column = points[:, d]
        if isinstance(spec, Tensor):
            if spec._array.ndim != 1 or spec._array.size < 1:
                raise ShapeError(
                    f"{name}: bin edges must be a non-empty 1-D tensor, got {spec.shape}"
                )
            edges.append(spec._array.astype(array.dtype))
            continue
        if spec <= 0:
            raise DomainError(
                f"torch.histogram(): bins must be > 0, but got {spec} for dimension {d}"
            )
        bounds = None if range is None else range[2 * d : 2 * d + 2]
        where = f" for dimension {d}"
        edges.append(_equal_width_edges(xp, column, spec, bounds, array.dtype, name, where))
    counts = tuple(e.size - 1 for e in edges)
    inside = xp.ones(points.shape[0], dtype=bool)
    for d, e in enumerate(edges):
        inside &= (points[:, d] >= e[0]) & (points[:, d] <= e[-1])
    positions = []
    for d, e in enumerate(edges):
        position = xp.searchsorted(e, points[inside, d], side="right") - 1
        positions.append(xp.minimum(position, counts[d] - 1))  # the last edge: the last bin
    size = math.prod(counts)
    flat = xp.ravel_multi_index(tuple(positions), counts) if positions else xp.zeros(0, int)
    chosen = None if weight is None else weight._array.reshape(-1)[inside].astype(xp.float64)
    hist = xp.bincount(flat, weights=chosen, minlength=size)[:size].astype(xp.float64)
    hist = hist.reshape(counts)
    if density:
        volume = xp.ones(counts, dtype=xp.float64)
        for d, e in enumerate(edges):
            widths = (e[1:] - e[:-1]).astype(xp.float64)
            volume = volume * widths.reshape((-1,) + (1,) * (ndim - d - 1))
        hist = hist / (hist.sum() * volume)
    operands = (input, *(spec for spec in bins if isinstance(spec, Tensor)))
    weighted = operands + ((weight,) if weight is not None else ())
    result = apply(HistogramddCounts, weighted, hist.astype(array.dtype))
    edges = tuple(apply(HistogramddEdges, operands, e) for e in edges)
    return return_types.histogramdd(result, edges)


# The public names: PyTorch's functions (helpers above stay importable by module path).
__all__ = [
    "bincount",
    "histogram",
    "histogramdd",
    "all",
    "amax",
    "amin",
    "aminmax",
    "any",
    "argmax",
    "argmin",
    "argsort",
    "count_nonzero",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "dist",
    "kthvalue",
    "log_softmax",
    "logcumsumexp",
    "logsumexp",
    "max",
    "mean",
    "median",
    "min",
    "mode",
    "msort",
    "nanmean",
    "nanmedian",
    "nanquantile",
    "nansum",
    "prod",
    "quantile",
    "softmax",
    "sort",
    "std",
    "std_mean",
    "sum",
    "topk",
    "trapezoid",
    "trapz",
    "var",
    "var_mean",
    "vector_norm",
]
