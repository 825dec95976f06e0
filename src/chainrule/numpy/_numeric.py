"""More of NumPy's names, composed from the rest of the namespace: differences and numerical
gradients, interpolation and polynomials, convolution, nan-aware reductions, the index
helpers (`r_`, `c_`, `tril_indices`, ...) and the complex-number helpers (`angle`,
`iscomplex`, `real_if_close`, ...).

Each is written in differentiable functions of the namespace, so gradients of any order come
from theirs. Index computations (search, binning, unique, histogram) are not differentiable;
their results are integer Tensors or constants, as NumPy computes them.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any, Literal

import numpy as np

import chainrule.ops.complex as cx
import chainrule.ops.creation as creation
import chainrule.ops.elementwise as ew
import chainrule.ops.indexing as idx
import chainrule.ops.shape as shp
from chainrule._tensor import Tensor
from chainrule.numpy._core import (
    NO_VALUE,
    inexact,
    normalize_axis,
    promoted,
    tensor_of,
)
from chainrule.numpy._creation import arange, linspace, zeros_like
from chainrule.numpy._math import arctan2, imag, isnan, real, where
from chainrule.numpy._products import diag, diagonal, dot, outer
from chainrule.numpy._reductions import amax, amin, argsort, mean, prod, sort, sum  # noqa: A004
from chainrule.numpy._shape import (
    atleast_1d,
    concatenate,
    flip,
    moveaxis,
    ravel,
    reshape,
    split,
    transpose,
    vstack,
)

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from chainrule.numpy._core import _NoValueType
    from chainrule.numpy._typing import ArrayLike, DTypeLike, ndarray


def _on_device(indices: np.ndarray, like: Tensor) -> Tensor:
    """Host-computed indices as a Tensor on `like`'s device."""
    return creation.tensor(indices, device=like.device)


# ---- differences and numerical derivatives ---------------------------------------------------


def _along(x: Tensor, axis: int, start: int | None, stop: int | None) -> Tensor:
    return x[(slice(None),) * axis + (slice(start, stop),)]


def diff(
    a: ArrayLike,
    n: int = 1,
    axis: int = -1,
    prepend: ArrayLike | _NoValueType = NO_VALUE,
    append: ArrayLike | _NoValueType = NO_VALUE,
) -> ndarray:
    """numpy.diff: the n-th discrete difference along `axis` (`!=` for booleans, as NumPy).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        n (int, optional): how many times to difference.
        axis (int, optional): the axis to difference along.
        prepend (ArrayLike, optional): values put before `a` along axis first (a scalar is
            broadcast).
        append (ArrayLike, optional): values put after `a` along axis first.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.diff([1, 4, 9, 16])
        array([3, 5, 7])
        >>> cnp.diff([1.0, 4.0, 9.0], n=2, prepend=0.0)
        array([2., 2.])
    """
    x = tensor_of(a, "diff")
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n!r}")
    if x.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis("diff", axis, x.ndim)
    pieces = []
    for extra, place in ((prepend, 0), (append, 1)):
        if extra is NO_VALUE:
            continue
        value = tensor_of(extra, "diff")
        if value.ndim == 0:
            shape = list(x.shape)
            shape[axis] = 1
            value = shp.broadcast_to(value, tuple(shape))
        pieces.append((place, value))
    if pieces:
        before = [v for place, v in pieces if place == 0]
        after = [v for place, v in pieces if place == 1]
        x = concatenate([*before, x, *after], axis=axis)
    for _ in range(n):
        upper, lower = _along(x, axis, 1, None), _along(x, axis, None, -1)
        x = ew.ne(upper, lower) if x.dtype.numpy == np.bool_ else upper - lower
    return x


def ediff1d(
    ary: ArrayLike, to_end: ArrayLike | None = None, to_begin: ArrayLike | None = None
) -> ndarray:
    """numpy.ediff1d: differences of the flattened array, with values added at either end.

    Args:
        ary (ArrayLike): the input array (flattened).
        to_end (ArrayLike, optional): values appended to the differences.
        to_begin (ArrayLike, optional): values prepended to the differences.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.ediff1d([[1, 2], [4, 8]], to_begin=0)
        array([0, 1, 2, 4])
    """
    x = diff(ravel(ary))
    pieces = [ravel(to_begin)] if to_begin is not None else []
    pieces.append(x)
    if to_end is not None:
        pieces.append(ravel(to_end))
    return concatenate(pieces) if len(pieces) > 1 else x


def gradient(
    f: ArrayLike,
    *varargs: float,
    axis: int | Sequence[int] | None = None,
    edge_order: Literal[1, 2] = 1,
) -> ndarray | tuple[ndarray, ...]:
    """numpy.gradient: central differences inside, one-sided ones (first or second order,
    `edge_order`) at the boundaries, for uniform spacings (a scalar per axis, default 1).
    A tuple for several axes, one array for one, as NumPy. Differentiable.

    Args:
        f (ArrayLike): the sampled values.
        *varargs (float): the sample spacing: none (1), one scalar for every axis, or one per axis.
        axis (int | Sequence[int], optional): the axis or axes to differentiate along; None for
            every axis.
        edge_order (Literal[1, 2], optional): the order (1 or 2) of the one-sided differences at the
            boundaries.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.gradient([1.0, 4.0, 9.0, 16.0])
        array([3., 4., 6., 7.])
        >>> cnp.gradient([1.0, 4.0, 9.0, 16.0], 0.5, edge_order=2)
        array([ 4.,  8., 12., 16.])
    """
    x = tensor_of(f, "gradient")
    if not inexact(x):
        x = x.double()
    axes = list(range(x.ndim)) if axis is None else [axis] if isinstance(axis, int) else axis
    axes = [normalize_axis("gradient", a, x.ndim) for a in axes]
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes) and all(np.ndim(v) == 0 for v in varargs):
        spacings = list(varargs)
    else:
        raise NotImplementedError(
            "gradient: only scalar spacings are supported (not coordinate arrays)"
        )
    if edge_order not in (1, 2):
        raise ValueError("gradient: 'edge_order' greater than 2 not supported")
    results = []
    for ax, h in zip(axes, spacings):
        length = x.shape[ax]
        if length < edge_order + 1:
            raise ValueError(
                "Shape of array too small to calculate a numerical gradient, at least "
                "(edge_order + 1) elements are required."
            )
        inner = (_along(x, ax, 2, None) - _along(x, ax, None, -2)) / (2.0 * h)
        if edge_order == 1:
            first = (_along(x, ax, 1, 2) - _along(x, ax, 0, 1)) / h
            last = (_along(x, ax, -1, None) - _along(x, ax, -2, -1)) / h
        else:
            first = (
                -1.5 * _along(x, ax, 0, 1) + 2.0 * _along(x, ax, 1, 2) - 0.5 * _along(x, ax, 2, 3)
            ) / h
            last = (
                0.5 * _along(x, ax, -3, -2)
                - 2.0 * _along(x, ax, -2, -1)
                + 1.5 * _along(x, ax, -1, None)
            ) / h
        results.append(shp.cat([first, inner, last], ax))
    return results[0] if len(results) == 1 else tuple(results)


def trapezoid(y: ArrayLike, x: ArrayLike | None = None, dx: float = 1.0, axis: int = -1) -> ndarray:
    """numpy.trapezoid: the integral of y by the trapezoidal rule (spacing `dx`, or sample
    points `x`), differentiable in both.

    Args:
        y (ArrayLike): the values to integrate.
        x (ArrayLike, optional): the sample points (None: evenly spaced by dx).
        dx (float, optional): the spacing when x is None.
        axis (int, optional): the axis to integrate along.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.trapezoid([1.0, 2.0, 3.0])
        array(4.)
        >>> cnp.trapezoid([1.0, 2.0, 3.0], x=[0.0, 1.0, 3.0])
        array(6.5)
    """
    values = tensor_of(y, "trapezoid")
    axis = normalize_axis("trapezoid", axis, values.ndim)
    if x is None:
        widths: Any = dx
    else:
        points = tensor_of(x, "trapezoid")
        widths = diff(points, axis=axis if points.ndim > 1 else 0)
        if points.ndim == 1 and values.ndim > 1:
            shape = [1] * values.ndim
            shape[axis] = widths.shape[0]
            widths = reshape(widths, shape)
    heights = _along(values, axis, 1, None) + _along(values, axis, None, -1)
    return sum(widths * heights / 2.0, axis=axis)


trapz = trapezoid


# ---- interpolation, polynomials, convolution -------------------------------------------------


def interp(
    x: ArrayLike,
    xp: ArrayLike,
    fp: ArrayLike,
    left: ArrayLike | None = None,
    right: ArrayLike | None = None,
    period: None = None,
) -> ndarray:
    """numpy.interp: piecewise-linear interpolation of the points (xp, fp) at x, `left` and
    `right` (default fp[0] and fp[-1]) outside. Differentiable in x, xp and fp; at a knot the
    gradient in x is the right-hand slope.

    Args:
        x (ArrayLike): where to evaluate the interpolant.
        xp (ArrayLike): the increasing x-coordinates of the data points.
        fp (ArrayLike): the y-coordinates of the data points (real or complex).
        left (ArrayLike, optional): the value below xp[0] (default fp[0]).
        right (ArrayLike, optional): the value above xp[-1] (default fp[-1]).
        period (None, optional): not supported; must be None.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.interp([0.5, 1.5, 5.0], [0.0, 1.0, 2.0], [0.0, 10.0, 20.0])
        array([ 5., 15., 20.])
    """
    if period is not None:
        raise NotImplementedError("interp: period= is not supported")
    values = tensor_of(fp, "interp")
    if values.dtype.is_complex:  # the real and imaginary parts interpolated on their own
        bounds = [None if b is None else tensor_of(b, "interp") for b in (left, right)]
        parts = []
        for part in (real, imag):
            low, high = (None if b is None else part(b) for b in bounds)
            parts.append(interp(x, xp, part(values), low, high))
        return cx.complex(*parts)
    points, values, query = promoted(xp, fp, x, name="interp")
    if not query.dtype.is_floating_point:
        points, values, query = points.double(), values.double(), query.double()
    if points.ndim != 1 or values.ndim != 1 or points.shape[0] != values.shape[0]:
        raise ValueError("interp: fp and xp are not of the same length")
    count = points.shape[0]
    if count == 1:
        below = values[0] if left is None else left
        above = values[0] if right is None else right
        inside = shp.broadcast_to(values[0], tuple(query.shape))
    else:
        position = idx.searchsorted(points.detach(), query.detach(), right=True) - 1
        position = ew.clamp(position, 0, count - 2)
        x0, x1 = points[position], points[position + 1]
        y0, y1 = values[position], values[position + 1]
        inside = y0 + (y1 - y0) / (x1 - x0) * (query - x0)
        inside = where(ew.eq(query, points[-1]), values[-1], inside)
        below = values[0] if left is None else left
        above = values[-1] if right is None else right
    result = where(ew.lt(query, points[0]), below, inside)
    return where(ew.gt(query, points[-1]), above, result)


def polyval(p: ArrayLike, x: ArrayLike) -> ndarray:
    """numpy.polyval: p[0] x**(N-1) + ... + p[N-1] by Horner's rule, differentiable in the
    coefficients and in x.

    Args:
        p (ArrayLike): the coefficients, highest power first.
        x (ArrayLike): where to evaluate the polynomial.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.polyval([3.0, 0.0, 1.0], [1.0, 2.0])
        array([ 4., 13.])
    """
    coefficients, point = promoted(p, x, name="polyval")
    if coefficients.shape[0] == 0:
        return zeros_like(point)
    result = shp.broadcast_to(coefficients[0], tuple(point.shape))
    for index in range(1, coefficients.shape[0]):
        result = result * point + coefficients[index]
    return result


def _full_convolution(a: Tensor, v: Tensor) -> Tensor:
    n, m = a.shape[0], v.shape[0]
    padded = idx.pad(a, [m - 1, m - 1], "constant", 0)
    windows = _on_device(np.arange(n + m - 1)[:, None] + np.arange(m)[None, :], a)
    return dot(padded[windows], flip(v))


def convolve(a: ArrayLike, v: ArrayLike, mode: str = "full") -> ndarray:
    """numpy.convolve of two 1-D sequences (modes 'full', 'same', 'valid'), differentiable
    in both.

    Args:
        a (ArrayLike): the first 1-D sequence.
        v (ArrayLike): the second 1-D sequence.
        mode (str, optional): 'full' (every overlap), 'same' (the length of the longer input) or
            'valid' (full overlaps only).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
        array([0. , 1. , 2.5, 4. , 1.5])
        >>> cnp.convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], 'same')
        array([1. , 2.5, 4. ])
    """
    first, second = promoted(a, v, name="convolve")
    if first.ndim != 1 or second.ndim != 1:
        raise ValueError("convolve: object too deep for desired array (1-D inputs only)")
    n, m = first.shape[0], second.shape[0]
    if n == 0 or m == 0:
        raise ValueError("convolve: v cannot be empty" if m == 0 else "a cannot be empty")
    full = _full_convolution(first, second)
    longest, shortest = builtins.max(n, m), builtins.min(n, m)
    if mode == "full":
        return full
    if mode == "same":
        start = (shortest - 1) // 2
        return full[start : start + longest]
    if mode == "valid":
        return full[shortest - 1 : longest]
    raise ValueError(f"convolve: mode must be one of 'valid', 'same', or 'full' (got {mode!r})")


def correlate(a: ArrayLike, v: ArrayLike, mode: str = "valid") -> ndarray:
    """numpy.correlate of two 1-D sequences: c[k] = sum_n a[n + k] conj(v[n]).

    Args:
        a (ArrayLike): the first 1-D sequence.
        v (ArrayLike): the second 1-D sequence (conjugated when complex).
        mode (str, optional): 'valid' (full overlaps only, the default), 'same' or 'full'.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.correlate([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
        array([3.5])
        >>> cnp.correlate([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], 'full')
        array([0.5, 2. , 3.5, 3. , 0. ])
    """
    first, second = tensor_of(a, "correlate"), cx.conj(tensor_of(v, "correlate"))
    if first.ndim != 1 or second.ndim != 1:
        raise ValueError("correlate: object too deep for desired array (1-D inputs only)")
    if second.shape[0] > first.shape[0]:
        return flip(convolve(second, flip(first), mode))
    return convolve(first, flip(second), mode)


def cross(
    a: ArrayLike,
    b: ArrayLike,
    axisa: int = -1,
    axisb: int = -1,
    axisc: int = -1,
    axis: int | None = None,
) -> ndarray:
    """numpy.cross of 3-vectors (or 2-vectors, whose cross product is the scalar z
    component) along the given axes, broadcasting the others; differentiable in both.

    Args:
        a (ArrayLike): the first vectors (2 or 3 components along axisa).
        b (ArrayLike): the second vectors (along axisb).
        axisa (int, optional): the axis of a holding the components.
        axisb (int, optional): the axis of b holding the components.
        axisc (int, optional): the axis of the result holding the components.
        axis (int, optional): if given, axisa, axisb and axisc at once.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
        array([0., 0., 1.])
        >>> cnp.cross([1.0, 2.0], [3.0, 4.0])
        array(-2.)
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    first, second = promoted(a, b, name="cross")
    first = moveaxis(first, axisa, -1)
    second = moveaxis(second, axisb, -1)
    sizes = (first.shape[-1], second.shape[-1])
    if builtins.any(size not in (2, 3) for size in sizes):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    a0, a1 = first[..., 0], first[..., 1]
    b0, b1 = second[..., 0], second[..., 1]
    a2 = first[..., 2] if sizes[0] == 3 else None
    b2 = second[..., 2] if sizes[1] == 3 else None
    z = a0 * b1 - a1 * b0
    if a2 is None and b2 is None:
        return z
    a2 = a2 if a2 is not None else 0.0
    b2 = b2 if b2 is not None else 0.0
    x_part = a1 * b2 - a2 * b1
    y_part = a2 * b0 - a0 * b2
    x_part, y_part, z = shp.broadcast_tensors(*promoted(x_part, y_part, z, name="cross"))
    result = shp.stack([x_part, y_part, z], -1)
    return moveaxis(result, -1, axisc)


def diagflat(v: ArrayLike, k: int = 0) -> ndarray:
    """numpy.diagflat: the flattened input on the k-th diagonal of a square array.

    Args:
        v (ArrayLike): the values, flattened, to put on the diagonal.
        k (int, optional): the diagonal: 0 the main one, k > 0 above it, k < 0 below.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.diagflat([[1, 2], [3, 4]])
        array([[1, 0, 0, 0],
               [0, 2, 0, 0],
               [0, 0, 3, 0],
               [0, 0, 0, 4]])
    """
    return diag(ravel(v), k)


def vander(x: ArrayLike, N: int | None = None, increasing: bool = False) -> ndarray:  # noqa: N803
    """numpy.vander: columns x**(N-1), ..., x, 1 (reversed with increasing=True).

    Args:
        x (ArrayLike): the 1-D input.
        N (int, optional): the number of columns (len(x) when None).
        increasing (bool, optional): powers increasing from left to right (x**0 first).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.vander([1, 2, 3], 3)
        array([[1, 1, 1],
               [4, 2, 1],
               [9, 3, 1]])
    """
    points = tensor_of(x, "vander")
    if points.ndim != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    count = points.shape[0] if N is None else N
    powers = np.arange(count) if increasing else np.arange(count - 1, -1, -1)
    columns = [points**0 if p == 0 else points ** int(p) for p in powers]
    if not columns:
        return reshape(points, (points.shape[0], 0))
    return shp.stack(columns, 1)


# ---- statistics ------------------------------------------------------------------------------


def cov(
    m: ArrayLike,
    y: ArrayLike | None = None,
    rowvar: bool = True,
    bias: bool = False,
    ddof: int | None = None,
) -> ndarray:
    """numpy.cov: the covariance matrix of the variables (rows, or columns with
    rowvar=False), normalised by N - 1 (N with bias=True, or N - ddof).

    Args:
        m (ArrayLike): the variables: one per row (or per column with rowvar=False), the
            observations along the other axis.
        y (ArrayLike, optional): more variables, in the layout of m.
        rowvar (bool, optional): each row is a variable (else each column).
        bias (bool, optional): normalise by N (else N - 1).
        ddof (int, optional): normalise by N - ddof, overriding bias.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.cov([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
        array([[ 1., -1.],
               [-1.,  1.]])
    """
    data = tensor_of(m, "cov")
    if data.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    data = shp.atleast_2d(data)
    if not rowvar and data.shape[0] != 1:
        data = transpose(data)
    if y is not None:
        other = shp.atleast_2d(tensor_of(y, "cov"))
        if not rowvar and other.shape[0] != 1:
            other = transpose(other)
        data = vstack([data, other])
    if not inexact(data):
        data = data.double()
    if ddof is None:
        ddof = 0 if bias else 1
    count = data.shape[1]
    centred = data - mean(data, axis=1, keepdims=True)
    result = dot(centred, transpose(cx.conj(centred))) / (count - ddof)
    return (
        shp.reshape(result, *[s for s in result.shape if s != 1]) if 1 in result.shape else result
    )


def corrcoef(x: ArrayLike, y: ArrayLike | None = None, rowvar: bool = True) -> ndarray:
    """numpy.corrcoef: the correlation coefficients, cov / sqrt(outer(var, var)).

    Args:
        x (ArrayLike): the variables, as in cov.
        y (ArrayLike, optional): more variables, in the layout of x.
        rowvar (bool, optional): each row is a variable (else each column).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.corrcoef([[0.0, 1.0, 2.0], [1.0, 3.0, 2.0]])
        array([[1. , 0.5],
               [0.5, 1. ]])
    """
    covariance = cov(x, y, rowvar)
    if covariance.ndim == 0:
        return covariance / covariance
    deviations = ew.sqrt(
        cx.real(diagonal(covariance)) if covariance.dtype.is_complex else diagonal(covariance)
    )
    ratio = covariance / outer(deviations, deviations)
    if ratio.dtype.is_complex:  # each part clipped, as NumPy
        return cx.complex(ew.clamp(cx.real(ratio), -1.0, 1.0), ew.clamp(cx.imag(ratio), -1.0, 1.0))
    return ew.clamp(ratio, -1.0, 1.0)


def _nan_filled(name: str, a: Any, fill: float) -> Tensor:
    x = tensor_of(a, name)
    if not inexact(x):
        return x
    return where(isnan(x), fill, x)


def nansum(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    dtype: DTypeLike | None = None,
    keepdims: bool = False,
) -> ndarray:
    """numpy.nansum: the sum with nan counted as zero (gradient zero at the nans).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.nansum([1.0, cnp.nan, 2.0])
        array(3.)
    """
    return sum(_nan_filled("nansum", a, 0.0), axis=axis, dtype=dtype, keepdims=keepdims)


def nanprod(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    dtype: DTypeLike | None = None,
    keepdims: bool = False,
) -> ndarray:
    """numpy.nanprod: the product with nan counted as one.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.nanprod([[2.0, cnp.nan], [3.0, 4.0]], axis=1)
        array([ 2., 12.])
    """
    return prod(_nan_filled("nanprod", a, 1.0), axis=axis, dtype=dtype, keepdims=keepdims)


def nanmean(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    dtype: DTypeLike | None = None,
    keepdims: bool = False,
) -> ndarray:
    """numpy.nanmean: the mean of the elements that are not nan (nan where all are).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.nanmean([1.0, cnp.nan, 2.0])
        array(1.5)
    """
    x = tensor_of(a, "nanmean")
    if not inexact(x):
        return mean(x, axis=axis, dtype=dtype, keepdims=keepdims)
    present = ew.logical_not(isnan(x))
    count = sum(present, axis=axis, keepdims=keepdims)
    total = nansum(x, axis=axis, dtype=dtype, keepdims=keepdims)
    return total / count


def _nan_extreme(name: str, reduce: Any, fill: float, a: Any, axis: Any, keepdims: bool):
    x = tensor_of(a, name)
    if not x.dtype.is_floating_point:
        return reduce(x, axis=axis, keepdims=keepdims)
    missing = isnan(x)
    result = reduce(where(missing, fill, x), axis=axis, keepdims=keepdims)
    all_missing = ew.logical_not(sum(ew.logical_not(missing), axis=axis, keepdims=keepdims) > 0)
    return where(all_missing, math.nan, result)


def nanmax(
    a: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False
) -> ndarray:
    """numpy.nanmax: the maximum ignoring nans (nan where all are).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.nanmax([1.0, cnp.nan, 2.0])
        array(2.)
    """
    return _nan_extreme("nanmax", amax, -math.inf, a, axis, keepdims)


def nanmin(
    a: ArrayLike, axis: int | Sequence[int] | None = None, keepdims: bool = False
) -> ndarray:
    """numpy.nanmin: the minimum ignoring nans (nan where all are).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.nanmin([[1.0, cnp.nan], [cnp.nan, -2.0]], axis=0)
        array([ 1., -2.])
    """
    return _nan_extreme("nanmin", amin, math.inf, a, axis, keepdims)


def nan_to_num(
    x: ArrayLike,
    copy: bool = True,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> ndarray:
    """numpy.nan_to_num: nan, inf and -inf replaced by `nan`, `posinf` and `neginf` (default
    the dtype's largest and smallest finite values); gradient 1 at the finite elements.

    Args:
        x (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        copy (bool, optional): ignored: the result is always a new array.
        nan (float, optional): the value for nan.
        posinf (float, optional): the value for inf (the dtype's largest when None).
        neginf (float, optional): the value for -inf (the dtype's smallest when None).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.nan_to_num([cnp.nan, cnp.inf, 1.0], posinf=9.0)
        array([0., 9., 1.])
    """
    tensor = tensor_of(x, "nan_to_num")
    if tensor.dtype.is_complex:  # each part on its own, as NumPy
        parts = (cx.real(tensor), cx.imag(tensor))
        return cx.complex(*(nan_to_num(part, copy, nan, posinf, neginf) for part in parts))
    if not tensor.dtype.is_floating_point:
        return tensor
    info = np.finfo(tensor.dtype.numpy)
    high = float(info.max) if posinf is None else posinf
    low = float(info.min) if neginf is None else neginf
    result = where(isnan(tensor), nan, tensor)
    result = where(ew.logical_and(ew.isinf(tensor), tensor > 0), high, result)
    return where(ew.logical_and(ew.isinf(tensor), tensor < 0), low, result)


# ---- selection, sorting, searching -----------------------------------------------------------


def select(
    condlist: Sequence[ArrayLike], choicelist: Sequence[ArrayLike], default: ArrayLike = 0
) -> ndarray:
    """numpy.select: from the first true condition's choice, `default` where none is true;
    differentiable in the choices.

    Args:
        condlist (Sequence[ArrayLike]): the bool arrays choosing, in order, where each choice
            applies.
        choicelist (Sequence[ArrayLike]): the arrays to take values from, one per condition.
        default (ArrayLike, optional): the value where no condition holds.

    Example:
        >>> import chainrule.numpy as cnp
        >>> x = cnp.arange(6.0)
        >>> cnp.select([x < 2, x > 3], [x, x ** 2], default=-1.0)
        array([ 0.,  1., -1., -1., 16., 25.])
    """
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    choices = promoted(*choicelist, default, name="select")
    result = choices[-1]
    for condition, choice in zip(reversed(condlist), reversed(choices[:-1])):
        mask = tensor_of(condition, "select")
        if mask.dtype.numpy != np.bool_:
            raise TypeError(
                f"invalid entry in condlist: should be boolean ndarray (got {mask.dtype.numpy})"
            )
        result = ew.where(mask, choice, result)
    return result


def partition(
    a: ArrayLike,
    kth: int | Sequence[int],
    axis: int | None = -1,
    kind: str = "introselect",
    order: None = None,
) -> ndarray:
    """numpy.partition: the k-th element in its sorted place, smaller ones before it and
    larger after. chainrule returns the fully sorted array, which satisfies that contract
    (the order within each side is unspecified in NumPy too); gradients as `sort`.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        kth (int | Sequence[int]): the position(s) that must hold their sorted value.
        axis (int, optional): the axis to partition along; None for the flattened array.
        kind (str, optional): ignored (a stable sort is used).
        order (None, optional): not supported; must be None.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.partition([3.0, 4.0, 2.0, 1.0], 2)
        array([1., 2., 3., 4.])
    """
    x = tensor_of(a, "partition")
    if axis is None:
        x, axis = ravel(x), 0
    return sort(x, axis=axis)


def argpartition(
    a: ArrayLike,
    kth: int | Sequence[int],
    axis: int | None = -1,
    kind: str = "introselect",
    order: None = None,
) -> ndarray:
    """numpy.argpartition: the indices that partition `a` (those of a stable sort).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        kth (int | Sequence[int]): the position(s) that must hold their sorted value.
        axis (int, optional): the axis to partition along; None for the flattened array.
        kind (str, optional): ignored (a stable sort is used).
        order (None, optional): not supported; must be None.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.argpartition([3.0, 4.0, 2.0, 1.0], 2)
        array([3, 2, 0, 1])
    """
    x = tensor_of(a, "argpartition")
    if axis is None:
        x, axis = ravel(x), 0
    return argsort(x, axis=axis)


def searchsorted(
    a: ArrayLike,
    v: ArrayLike,
    side: Literal["left", "right"] = "left",
    sorter: ArrayLike | None = None,
) -> ndarray:
    """numpy.searchsorted: where each value of `v` would be inserted into the sorted 1-D `a`
    (the first such place, or the last with side='right'); int64, not differentiable.

    Args:
        a (ArrayLike): the sorted 1-D array (or any order with sorter).
        v (ArrayLike): the values to place.
        side (Literal['left', 'right'], optional): 'left': the first suitable index; 'right': the
            last.
        sorter (ArrayLike, optional): the indices that sort a (as argsort gives), when a is not
            sorted.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.searchsorted([1.0, 2.0, 2.0, 3.0], [2.0, 2.5])
        array([1, 3])
        >>> cnp.searchsorted([1.0, 2.0, 2.0, 3.0], 2.0, side='right')
        array(3)
    """
    sequence, values = promoted(a, v, name="searchsorted")
    if sequence.ndim != 1:
        raise ValueError("searchsorted: a must be 1-D")
    order = None if sorter is None else tensor_of(sorter, "searchsorted")
    if values.ndim == 0:
        found = idx.searchsorted(sequence, values.reshape(1), side=side, sorter=order)
        return found.reshape(())
    return idx.searchsorted(sequence, values, side=side, sorter=order)


def digitize(x: ArrayLike, bins: ArrayLike, right: bool = False) -> ndarray:
    """numpy.digitize: the index of the bin of each value (bins increasing or decreasing).

    Args:
        x (ArrayLike): the values to bin.
        bins (ArrayLike): the bin edges, increasing or decreasing.
        right (bool, optional): whether a bin includes its right edge (else its left).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.digitize([0.5, 1.0, 2.5], [0.0, 1.0, 2.0])
        array([1, 2, 3])
    """
    edges = tensor_of(bins, "digitize")
    if edges.ndim != 1:
        raise ValueError("object too deep for desired array")
    side = "left" if right else "right"
    deltas = np.diff(edges.detach().numpy(force=True))
    if np.all(deltas >= 0):
        return searchsorted(edges, x, side=side)
    if np.all(deltas <= 0):
        return edges.shape[0] - searchsorted(flip(edges), x, side=side)
    raise ValueError("bins must be monotonically increasing or decreasing")


def unique(
    ar: ArrayLike,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: int | None = None,
    *,
    equal_nan: bool = True,
) -> ndarray | tuple[ndarray, ...]:
    """numpy.unique: the sorted distinct values (differentiable: each is its first
    occurrence), with the indices, inverse and counts NumPy returns on request.

    Args:
        ar (ArrayLike): the input array (flattened unless axis is given).
        return_index (bool, optional): also return the index of each value's first occurrence.
        return_inverse (bool, optional): also return the indices that rebuild ar from the values.
        return_counts (bool, optional): also return how often each value occurs.
        axis (int, optional): find the unique slices along this axis; None for the flattened array.
        equal_nan (bool, optional): count every nan as one value.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.unique([3, 1, 3, 2])
        array([1, 2, 3])
        >>> cnp.unique([3, 1, 3, 2], return_counts=True)
        (array([1, 2, 3]), array([1, 1, 2]))
    """
    x = tensor_of(ar, "unique")
    host = x.detach().numpy(force=True)
    found = np.unique(
        host,
        return_index=True,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
        equal_nan=equal_nan,
    )
    first = _on_device(found[1], x)
    if axis is None:
        values = ravel(x)[first]
    else:
        axis = normalize_axis("unique", axis, x.ndim)
        values = x[(slice(None),) * axis + (first,)]
    extras = []
    if return_index:
        extras.append(first)
    if return_inverse:
        extras.append(_on_device(found[2], x))
    if return_counts:
        extras.append(_on_device(found[-1], x))
    return (values, *extras) if extras else values


def histogram(
    a: ArrayLike,
    bins: int | str | ArrayLike = 10,
    range: tuple[float, float] | None = None,  # noqa: A002 - NumPy's name
    density: bool | None = None,
    weights: ArrayLike | None = None,
) -> tuple[ndarray, ndarray]:
    """numpy.histogram: (counts, bin edges), computed by NumPy; not differentiable.

    Args:
        a (ArrayLike): the data (flattened).
        bins (int | str | ArrayLike, optional): the number of equal bins, their edges, or the name
            of NumPy's binning rule.
        range (tuple[float, float], optional): the (lower, upper) range of the bins (the data's by
            default).
        density (bool, optional): return the probability density instead of counts.
        weights (ArrayLike, optional): one weight per element of a.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.histogram([1.0, 2.0, 2.5, 4.0], bins=3)
        (array([1, 2, 1]), array([1., 2., 3., 4.]))
    """
    host = tensor_of(a, "histogram").detach().numpy(force=True)
    if isinstance(bins, Tensor):
        bins = bins.detach().numpy(force=True)
    if isinstance(weights, Tensor):
        weights = weights.detach().numpy(force=True)
    counts, edges = np.histogram(host, bins=bins, range=range, density=density, weights=weights)
    return tensor_of(counts), tensor_of(edges)


# ---- shapes ----------------------------------------------------------------------------------


def append(arr: ArrayLike, values: ArrayLike, axis: int | None = None) -> ndarray:
    """numpy.append: `values` after `arr` (both flattened when axis is None).

    Args:
        arr (ArrayLike): the input array.
        values (ArrayLike): the values to append.
        axis (int, optional): the axis to append along; None flattens both first.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.append([1.0, 2.0], [[3.0, 4.0]])
        array([1., 2., 3., 4.])
        >>> cnp.append([[1.0, 2.0]], [[3.0, 4.0]], axis=0)
        array([[1., 2.],
               [3., 4.]])
    """
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis=axis)


row_stack = vstack


def dsplit(ary: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[ndarray]:
    """numpy.dsplit: split along axis 2 (arrays of at least 3 dimensions).

    Args:
        ary (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        indices_or_sections (int | Sequence[int]): a number of equal sections, or the sorted indices
            to split at.

    Example:
        >>> import chainrule.numpy as cnp
        >>> [piece.shape for piece in cnp.dsplit(cnp.ones((2, 2, 4)), 2)]
        [(2, 2, 2), (2, 2, 2)]
    """
    x = tensor_of(ary, "dsplit")
    if x.ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(x, indices_or_sections, 2)


def rollaxis(a: ArrayLike, axis: int, start: int = 0) -> ndarray:
    """numpy.rollaxis: move `axis` to just before position `start`.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int): the axis to move.
        start (int, optional): the axis is moved to just before this position.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.rollaxis(cnp.ones((2, 3, 4)), 2).shape
        (4, 2, 3)
        >>> cnp.rollaxis(cnp.ones((2, 3, 4)), 0, 2).shape
        (3, 2, 4)
    """
    x = tensor_of(a, "rollaxis")
    n = x.ndim
    axis = normalize_axis("rollaxis", axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(
            f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in"
        )
    if axis < start:
        start -= 1
    if axis == start:
        return x
    return moveaxis(x, axis, start)


def rot90(m: ArrayLike, k: int = 1, axes: tuple[int, int] = (0, 1)) -> ndarray:
    """numpy.rot90: rotate by 90 degrees k times in the plane of `axes` (from the first
    axis towards the second).

    Args:
        m (ArrayLike): the input array (at least 2-D).
        k (int, optional): the number of quarter turns.
        axes (tuple[int, int], optional): the plane of the rotation, turning from its first axis
            towards its second.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.rot90([[1, 2], [3, 4]])
        array([[2, 4],
               [1, 3]])
        >>> cnp.rot90([[1, 2], [3, 4]], k=2)
        array([[4, 3],
               [2, 1]])
    """
    x = tensor_of(m, "rot90")
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    first = normalize_axis("rot90", axes[0], x.ndim)
    second = normalize_axis("rot90", axes[1], x.ndim)
    if first == second:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, first), second)
    order = list(range(x.ndim))
    order[first], order[second] = order[second], order[first]
    if k == 1:
        return transpose(flip(x, second), order)
    return flip(transpose(x, order), second)


# ---- complex numbers -------------------------------------------------------------------------


def real_if_close(a: ArrayLike, tol: float = 100) -> ndarray:
    """numpy.real_if_close: the real part of complex input whose imaginary parts are all below
    `tol` (in machine epsilons of the dtype when tol > 1); anything else as it is.

    Args:
        a (ArrayLike): the input array.
        tol (float, optional): the largest imaginary part dropped, in machine epsilons of the dtype
            when > 1 (else absolute).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.real_if_close([2.1 + 4e-14j, 5.2 + 3e-15j])
        array([2.1+4.e-14j, 5.2+3.e-15j])
        >>> cnp.real_if_close([2.1 + 4e-13j])
        array([2.1+4.e-13j])
    """
    x = tensor_of(a, "real_if_close")
    if not x.dtype.is_complex:
        return x
    tolerance = tol * float(np.finfo(x.dtype.numpy).eps) if tol > 1 else tol
    if bool(ew.lt(ew.abs(cx.imag(x)), tolerance).all().item()):
        return cx.real(x)
    return x


def angle(z: ArrayLike, deg: bool = False) -> ndarray:
    """numpy.angle: the argument atan2(imag, real) of complex input (differentiable, PyTorch's
    gradient); of real data, 0 for non-negative values and pi for negative ones (and -0.0), a
    constant (gradient zero), as the angle of a real number cannot move continuously. In
    degrees with deg=True; nan stays nan.

    Args:
        z (ArrayLike): the input array.
        deg (bool, optional): return degrees instead of radians.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.angle([1.0, 1j, 1 + 1j], deg=True)
        array([ 0., 90., 45.])
        >>> cnp.angle([-2.0, 3.0])
        array([3.14159265, 0.        ])
    """
    x = tensor_of(z, "angle")
    if x.dtype.is_complex:
        result = ew.angle(x)
    else:
        result = arctan2(zeros_like(x), x.detach())
    return result * (180.0 / math.pi) if deg else result


def iscomplex(x: ArrayLike) -> ndarray:
    """numpy.iscomplex: True where the imaginary part is nonzero (False everywhere for real
    data).

    Args:
        x (ArrayLike): the input array (an array, a number, a nested list or a Tensor).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.iscomplex([1 + 1j, 2 + 0j, 3.0])
        array([ True, False, False])
    """
    tensor = tensor_of(x, "iscomplex")
    if tensor.dtype.is_complex:
        return ew.ne(cx.imag(tensor), 0)
    return zeros_like(tensor, dtype=np.bool_)


def isreal(x: ArrayLike) -> ndarray:
    """numpy.isreal: True where the imaginary part is zero (everywhere for real data).

    Args:
        x (ArrayLike): the input array (an array, a number, a nested list or a Tensor).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.isreal([1 + 1j, 2 + 0j, 3.0])
        array([False,  True,  True])
    """
    return ew.logical_not(iscomplex(x))


def iscomplexobj(x: ArrayLike) -> bool:
    """numpy.iscomplexobj: whether the dtype is complex (whatever the values).

    Args:
        x (ArrayLike): the input array (an array, a number, a nested list or a Tensor).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.iscomplexobj([1 + 0j])
        True
        >>> cnp.iscomplexobj([1.0])
        False
    """
    return bool(tensor_of(x, "iscomplexobj").dtype.is_complex)


def isrealobj(x: ArrayLike) -> bool:
    """numpy.isrealobj: whether the dtype is not complex.

    Args:
        x (ArrayLike): the input array (an array, a number, a nested list or a Tensor).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.isrealobj([1 + 0j])
        False
        >>> cnp.isrealobj([1.0])
        True
    """
    return not iscomplexobj(x)


def isscalar(element: object) -> bool:
    """numpy.isscalar: Python and NumPy scalars (not 0-d arrays or Tensors).

    Args:
        element (object): anything.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.isscalar(1.5), cnp.isscalar(cnp.array(1.5)), cnp.isscalar([1.5])
        (True, False, False)
    """
    return bool(np.isscalar(element))


# ---- index helpers (constants) ---------------------------------------------------------------


def _index_tensors(arrays: Any) -> Any:
    if isinstance(arrays, tuple):
        return tuple(tensor_of(a) for a in arrays)
    return tensor_of(arrays)


def tril_indices(n: int, k: int = 0, m: int | None = None) -> tuple[ndarray, ndarray]:
    """numpy.tril_indices: the row and column indices of the lower triangle.

    Args:
        n (int): the number of rows.
        k (int, optional): the diagonal: 0 the main one, k > 0 above it, k < 0 below.
        m (int, optional): the number of columns (n when None).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.tril_indices(3)
        (array([0, 1, 1, 2, 2, 2]), array([0, 0, 1, 0, 1, 2]))
    """
    return _index_tensors(np.tril_indices(n, k, m))


def triu_indices(n: int, k: int = 0, m: int | None = None) -> tuple[ndarray, ndarray]:
    """numpy.triu_indices: the row and column indices of the upper triangle.

    Args:
        n (int): the number of rows.
        k (int, optional): the diagonal: 0 the main one, k > 0 above it, k < 0 below.
        m (int, optional): the number of columns (n when None).

    Example:
        >>> import chainrule.numpy as cnp
        >>> rows, cols = cnp.triu_indices(3, k=1)
        >>> rows, cols
        (array([0, 0, 1]), array([1, 2, 2]))
    """
    return _index_tensors(np.triu_indices(n, k, m))


def tril_indices_from(arr: ArrayLike, k: int = 0) -> tuple[ndarray, ndarray]:
    """numpy.tril_indices_from: tril_indices for the shape of a 2-D array.

    Args:
        arr (ArrayLike): the 2-D array whose shape sets the triangle.
        k (int, optional): the diagonal: 0 the main one, k > 0 above it, k < 0 below.

    Example:
        >>> import chainrule.numpy as cnp
        >>> x = cnp.arange(9.0).reshape(3, 3)
        >>> x[cnp.tril_indices_from(x)]
        array([0., 3., 4., 6., 7., 8.])
    """
    shape = tuple(tensor_of(arr, "tril_indices_from").shape)
    if len(shape) != 2:
        raise ValueError("input array must be 2-d")
    return tril_indices(shape[-2], k, shape[-1])


def triu_indices_from(arr: ArrayLike, k: int = 0) -> tuple[ndarray, ndarray]:
    """numpy.triu_indices_from: triu_indices for the shape of a 2-D array.

    Args:
        arr (ArrayLike): the 2-D array whose shape sets the triangle.
        k (int, optional): the diagonal: 0 the main one, k > 0 above it, k < 0 below.

    Example:
        >>> import chainrule.numpy as cnp
        >>> x = cnp.arange(9.0).reshape(3, 3)
        >>> x[cnp.triu_indices_from(x, k=1)]
        array([1., 2., 5.])
    """
    shape = tuple(tensor_of(arr, "triu_indices_from").shape)
    if len(shape) != 2:
        raise ValueError("input array must be 2-d")
    return triu_indices(shape[-2], k, shape[-1])


def diag_indices(n: int, ndim: int = 2) -> tuple[ndarray, ...]:
    """numpy.diag_indices: the indices of the main diagonal of an n x ... x n array.

    Args:
        n (int): the length of every side.
        ndim (int, optional): the number of dimensions.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.diag_indices(2)
        (array([0, 1]), array([0, 1]))
    """
    return _index_tensors(np.diag_indices(n, ndim))


def diag_indices_from(arr: ArrayLike) -> tuple[ndarray, ...]:
    """numpy.diag_indices_from: diag_indices for an array with equal sides.

    Args:
        arr (ArrayLike): an array with every side of one length (at least 2-D).

    Example:
        >>> import chainrule.numpy as cnp
        >>> x = cnp.arange(4.0).reshape(2, 2)
        >>> x[cnp.diag_indices_from(x)]
        array([0., 3.])
    """
    shape = tuple(tensor_of(arr, "diag_indices_from").shape)
    if len(shape) < 2 or len(set(shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return diag_indices(shape[0], len(shape))


def indices(
    dimensions: Sequence[int], dtype: DTypeLike = int, sparse: bool = False
) -> ndarray | tuple[ndarray, ...]:
    """numpy.indices: the index grid of an array of shape `dimensions`.

    Args:
        dimensions (Sequence[int]): the shape of the grid.
        dtype (DTypeLike, optional): the integer dtype of the indices.
        sparse (bool, optional): return one broadcastable array per dimension instead of one stacked
            grid.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.indices((2, 3))[1]
        array([[0, 1, 2],
               [0, 1, 2]])
    """
    return _index_tensors(np.indices(dimensions, dtype, sparse))


def unravel_index(
    indices: ArrayLike, shape: Sequence[int], order: str = "C"
) -> tuple[ndarray, ...]:
    """numpy.unravel_index: flat indices as a tuple of coordinate arrays.

    Args:
        indices (ArrayLike): flat indices into an array of the given shape.
        shape (Sequence[int]): the shape of that array.
        order (str, optional): 'C' (row-major) or 'F' (column-major) order.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.unravel_index([1, 5], (2, 3))
        (array([0, 1]), array([1, 2]))
    """
    flat = tensor_of(indices, "unravel_index").numpy(force=True)
    return _index_tensors(np.unravel_index(flat, shape, order))


def ravel_multi_index(
    multi_index: Sequence[ArrayLike],
    dims: Sequence[int],
    mode: str | Sequence[str] = "raise",
    order: Literal["C", "F"] = "C",
) -> ndarray:
    """numpy.ravel_multi_index: coordinate arrays as flat indices.

    Args:
        multi_index (Sequence[ArrayLike]): one integer array of coordinates per dimension.
        dims (Sequence[int]): the shape of the array.
        mode (str | Sequence[str], optional): out-of-range coordinates: 'raise', 'wrap' or 'clip'
            (one for all or one per dimension).
        order (Literal['C', 'F'], optional): 'C' (row-major) or 'F' (column-major) order.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.ravel_multi_index(([0, 1], [1, 2]), (2, 3))
        array([1, 5])
    """
    coordinates = tuple(tensor_of(i, "ravel_multi_index").numpy(force=True) for i in multi_index)
    return tensor_of(np.ravel_multi_index(coordinates, dims, mode, order))


def ix_(*args: ArrayLike) -> tuple[ndarray, ...]:
    """numpy.ix_: open-mesh index arrays for selecting a cross product of indices.

    Args:
        *args (ArrayLike): 1-D integer (or bool) sequences, one per dimension.

    Example:
        >>> import chainrule.numpy as cnp
        >>> x = cnp.arange(9.0).reshape(3, 3)
        >>> x[cnp.ix_([0, 2], [1, 2])]
        array([[1., 2.],
               [7., 8.]])
    """
    hosts = [tensor_of(a, "ix_").numpy(force=True) for a in args]
    return _index_tensors(np.ix_(*hosts))


class _AxisConcatenator:
    """numpy.r_ and numpy.c_: `r_[a, b, 1:4, 5]` joins arrays, scalars and ranges (a slice
    `start:stop:step`, or `start:stop:Nj` for N points) along an axis; a leading string
    'axis', 'axis,ndmin' or 'axis,ndmin,trans1d' sets how, as NumPy's. Differentiable in the
    arrays. `r_` joins along the first axis; `c_` along the last, making 1-D pieces columns.
    The matrix directives 'r' and 'c' are not supported.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.r_[[1.0, 2.0], 0, 4:6]
        array([1., 2., 0., 4., 5.])
        >>> cnp.r_[0:1:5j]
        array([0.  , 0.25, 0.5 , 0.75, 1.  ])
        >>> cnp.c_[[1, 2], [3, 4]]
        array([[1, 3],
               [2, 4]])
    """

    def __init__(self, axis: int, ndmin: int, trans1d: int) -> None:
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key: Any) -> Tensor:
        items = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        pieces = []
        for position, item in enumerate(items):
            if isinstance(item, str):
                if position != 0:
                    raise ValueError("r_/c_: a string directive is only allowed first")
                if item in ("r", "c"):
                    raise NotImplementedError(
                        "r_/c_: matrix directives 'r' and 'c' are not supported"
                    )
                numbers = [int(part) for part in item.split(",")]
                axis = numbers[0]
                if len(numbers) > 1:
                    ndmin = numbers[1]
                if len(numbers) > 2:
                    trans1d = numbers[2]
                continue
            if isinstance(item, slice):
                piece = self._range(item)
            else:
                piece = tensor_of(item, "r_")
            pieces.append(self._shaped(piece, ndmin, trans1d))
        if not pieces:
            return tensor_of(np.array([]))
        devices = [item.device for item in items if isinstance(item, Tensor)]
        if devices:  # the ranges, made on the host, join the arrays' device
            pieces = [piece.to(devices[0]) for piece in pieces]
        return concatenate(pieces, axis=axis)

    @staticmethod
    def _range(item: slice) -> Tensor:
        start = 0 if item.start is None else item.start
        step = 1 if item.step is None else item.step
        if isinstance(step, complex):
            return linspace(start, item.stop, int(abs(step)))
        return arange(start, item.stop, step)

    @staticmethod
    def _shaped(piece: Tensor, ndmin: int, trans1d: int) -> Tensor:
        original = piece.ndim
        if original >= ndmin:
            return atleast_1d(piece)
        piece = shp.reshape(piece, *((1,) * (ndmin - original)), *piece.shape)
        if trans1d != -1:
            k2 = ndmin - original
            k1 = trans1d if trans1d >= 0 else trans1d + k2 + 1
            default = list(range(ndmin))
            order = default[:k1] + default[k2:] + default[k1:k2]
            piece = transpose(piece, order)
        return piece


r_ = _AxisConcatenator(0, 1, -1)
c_ = _AxisConcatenator(-1, 2, 0)


__all__ = [
    "angle",
    "append",
    "argpartition",
    "c_",
    "convolve",
    "corrcoef",
    "correlate",
    "cov",
    "cross",
    "diag_indices",
    "diagflat",
    "diag_indices_from",
    "diff",
    "digitize",
    "dsplit",
    "ediff1d",
    "gradient",
    "histogram",
    "indices",
    "interp",
    "iscomplex",
    "iscomplexobj",
    "isreal",
    "isrealobj",
    "isscalar",
    "ix_",
    "nan_to_num",
    "nanmax",
    "nanmean",
    "nanmin",
    "nanprod",
    "nansum",
    "partition",
    "polyval",
    "r_",
    "ravel_multi_index",
    "real_if_close",
    "rollaxis",
    "rot90",
    "row_stack",
    "searchsorted",
    "select",
    "trapezoid",
    "trapz",
    "tril_indices",
    "tril_indices_from",
    "triu_indices",
    "triu_indices_from",
    "unique",
    "unravel_index",
    "vander",
]
