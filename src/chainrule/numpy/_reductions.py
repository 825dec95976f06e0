"""NumPy's reductions, scans, statistics and sorting over chainrule ops.

Arguments are NumPy's: `axis` (None, an int or a tuple; `()` reduces nothing), `keepdims`,
`ddof` (default 0: the population variance, NumPy's default, not PyTorch's 1), `dtype`.
Result dtypes are NumPy's: the mean of integers is float64, the sum of int32 is int64.
"""

from __future__ import annotations

import builtins
import functools
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any, Literal

import numpy as np

import chainrule.ops.elementwise as ew
import chainrule.ops.reduction as red
import chainrule.ops.shape as shp
from chainrule._tensor import Tensor
from chainrule.numpy._core import (
    NO_VALUE,
    as_dtype,
    finish,
    normalize_axes,
    normalize_axis,
    promoted,
    tensor_of,
    unsupported,
)
from chainrule.numpy._math import maximum, minimum
from chainrule.ops.creation import full_like

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from collections.abc import Sequence

    from chainrule.numpy._core import _NoValueType
    from chainrule.numpy._typing import ArrayLike, DTypeLike, ndarray


@functools.lru_cache(maxsize=256)
def _reduced_dtype(name: str, dtype: np.dtype) -> np.dtype:
    """The dtype NumPy's reduction `name` gives for input of `dtype` (asked of NumPy itself)."""
    with np.errstate(all="ignore"):
        return getattr(np, name)(np.ones((1,), dtype)).dtype


def _input(name: str, a: Any, dtype: Any) -> Tensor:
    """The operand, in the dtype NumPy's reduction computes in (`dtype=` if given)."""
    tensor = tensor_of(a, name)
    if dtype is not None:
        return as_dtype(tensor, dtype, name)
    if tensor.dtype.is_complex:  # var and std of complex data are real: computed from it
        return tensor
    return as_dtype(tensor, _reduced_dtype(name, tensor.dtype.numpy), name)


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def _merge_axes(x: Tensor, axes: tuple) -> Tensor:
    """x with `axes` moved to the end and merged into one last axis."""
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = shp.permute(x, *rest, *axes)
    return shp.reshape(moved, *[x.shape[i] for i in rest], -1)


def sum(  # noqa: A001 - NumPy's name
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    dtype: DTypeLike | None = None,
    out: None = None,
    keepdims: bool = False,
    initial: ArrayLike | _NoValueType = NO_VALUE,
    where: Literal[True] = True,
) -> ndarray:
    """numpy.sum: the sum over `axis`, differentiable; integer sums are int64, as NumPy.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        initial (ArrayLike, optional): a value the reduction starts from (it takes part in the
            result), as NumPy's.
        where (Literal[True], optional): not supported; must be True.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.sum([[1, 2], [3, 4]], axis=0)
        array([4, 6])
        >>> cnp.sum([0.5, 1.5], initial=10.0)
        array(12.)
    """
    unsupported("sum", out=out, where=where)
    x = _input("sum", a, dtype)
    axes = normalize_axes("sum", axis, x.ndim)
    result = red.sum(x, axes, keepdims) if axes else x
    if initial is not NO_VALUE:
        result = result + initial
    return result


def mean(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    dtype: DTypeLike | None = None,
    out: None = None,
    keepdims: bool = False,
    *,
    where: Literal[True] = True,
) -> ndarray:
    """numpy.mean: the arithmetic mean over `axis`, differentiable; float64 for integer input,
    as NumPy.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        where (Literal[True], optional): not supported; must be True.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.mean([[1, 2], [3, 4]])
        array(2.5)
        >>> cnp.mean([[1.0, 2.0], [3.0, 4.0]], axis=1, keepdims=True)
        array([[1.5],
               [3.5]])
    """
    unsupported("mean", out=out, where=where)
    x = _input("mean", a, dtype)
    axes = normalize_axes("mean", axis, x.ndim)
    return red.mean(x, axes, keepdims) if axes else x


def prod(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    dtype: DTypeLike | None = None,
    out: None = None,
    keepdims: bool = False,
    initial: ArrayLike | _NoValueType = NO_VALUE,
    where: Literal[True] = True,
) -> ndarray:
    """numpy.prod: the product over `axis` (several axes at once too), differentiable; exact
    gradients also with zeros.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        initial (ArrayLike, optional): a value the reduction starts from (it takes part in the
            result), as NumPy's.
        where (Literal[True], optional): not supported; must be True.

    Example:
        >>> import numpy as np
        >>> import chainrule.numpy as cnp
        >>> cnp.prod([[1.0, 2.0], [3.0, 4.0]], axis=1)
        array([ 2., 12.])
        >>> from chainrule.func import grad
        >>> grad(cnp.prod)(np.array([2.0, 0.0, 3.0]))
        array([0., 6., 0.])
    """
    unsupported("prod", out=out, where=where)
    x = _input("prod", a, dtype)
    axes = normalize_axes("prod", axis, x.ndim)
    if not axes:
        result = x
    elif len(axes) == 1:
        result = red.prod(x, axes[0], keepdims)
    else:
        result = red.prod(_merge_axes(x, axes), -1)
        if keepdims:
            result = shp.reshape(result, *_kept_shape(tuple(x.shape), axes))
    if initial is not NO_VALUE:
        result = result * initial
    return result


def _extreme(
    name: str, reduce: Any, pick: Any, a: Any, axis: Any, keepdims: bool, initial: Any
) -> Tensor:
    x = tensor_of(a, name)
    axes = normalize_axes(name, axis, x.ndim)
    result = reduce(x, axes, keepdims) if axes else x
    if initial is not NO_VALUE:
        result = pick(result, initial)
    return result


def amax(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    out: None = None,
    keepdims: bool = False,
    initial: ArrayLike | _NoValueType = NO_VALUE,
    where: Literal[True] = True,
) -> ndarray:
    """numpy.amax (numpy.max): the largest value over `axis`, differentiable; ties share the
    gradient equally (PyTorch's amax convention, also HIPS autograd's).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        initial (ArrayLike, optional): a value the reduction starts from (it takes part in the
            result), as NumPy's.
        where (Literal[True], optional): not supported; must be True.

    Example:
        >>> import numpy as np
        >>> import chainrule.numpy as cnp
        >>> cnp.amax([[1.0, 5.0], [3.0, 2.0]], axis=0)
        array([3., 5.])
        >>> from chainrule.func import grad
        >>> grad(cnp.max)(np.array([1.0, 3.0, 3.0]))
        array([0. , 0.5, 0.5])
    """
    unsupported("amax", out=out, where=where)
    return _extreme("amax", red.amax, maximum, a, axis, keepdims, initial)


def amin(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    out: None = None,
    keepdims: bool = False,
    initial: ArrayLike | _NoValueType = NO_VALUE,
    where: Literal[True] = True,
) -> ndarray:
    """numpy.amin (numpy.min): the smallest value over `axis`, differentiable; ties share the
    gradient equally.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        initial (ArrayLike, optional): a value the reduction starts from (it takes part in the
            result), as NumPy's.
        where (Literal[True], optional): not supported; must be True.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.amin([[1.0, 5.0], [3.0, 2.0]], axis=1)
        array([1., 2.])
        >>> cnp.min([2.0, 7.0], initial=0.0)
        array(0.)
    """
    unsupported("amin", out=out, where=where)
    return _extreme("amin", red.amin, minimum, a, axis, keepdims, initial)


max = amax  # noqa: A001 - NumPy's names
min = amin  # noqa: A001


def ptp(
    a: ArrayLike, axis: int | Sequence[int] | None = None, out: None = None, keepdims: bool = False
) -> ndarray:
    """numpy.ptp: max - min ("peak to peak").

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.ptp([[1.0, 5.0], [3.0, 2.0]], axis=1)
        array([4., 1.])
    """
    unsupported("ptp", out=out)
    return amax(a, axis, keepdims=keepdims) - amin(a, axis, keepdims=keepdims)


def _arg_extreme(name: str, function: Any, a: Any, axis: Any, keepdims: bool) -> Tensor:
    x = tensor_of(a, name)
    if axis is None:
        index = function(shp.reshape(x, -1), 0)
        return shp.reshape(index, *([1] * x.ndim)) if keepdims else index
    return function(x, normalize_axis(name, int(axis), builtins.max(x.ndim, 1)), keepdims)


def argmax(
    a: ArrayLike, axis: int | None = None, out: None = None, *, keepdims: bool = False
) -> ndarray:
    """numpy.argmax: the first index of the largest value (flat when axis is None).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int, optional): the axis to work along; None works on the flattened array.
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.argmax([[1, 5], [7, 2]])
        array(2)
        >>> cnp.argmax([[1, 5], [7, 2]], axis=1)
        array([1, 0])
    """
    unsupported("argmax", out=out)
    return _arg_extreme("argmax", red.argmax, a, axis, keepdims)


def argmin(
    a: ArrayLike, axis: int | None = None, out: None = None, *, keepdims: bool = False
) -> ndarray:
    """numpy.argmin: the first index of the smallest value (flat when axis is None).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int, optional): the axis to work along; None works on the flattened array.
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.argmin([[1, 5], [7, 2]], axis=0)
        array([0, 1])
    """
    unsupported("argmin", out=out)
    return _arg_extreme("argmin", red.argmin, a, axis, keepdims)


def _statistic(
    name: str,
    function: Any,
    a: Any,
    axis: Any,
    dtype: Any,
    ddof: float,
    keepdims: bool,
    correction: Any,
) -> Tensor:
    if correction is not NO_VALUE:
        if ddof != 0:
            raise ValueError(f"{name}: ddof and correction can't be provided simultaneously.")
        ddof = correction
    x = _input(name, a, dtype)
    axes = normalize_axes(name, axis, x.ndim)
    if not axes:
        return x * 0
    return function(x, axes, keepdim=keepdims, correction=ddof)


def var(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    dtype: DTypeLike | None = None,
    out: None = None,
    ddof: float = 0,
    keepdims: bool = False,
    *,
    where: Literal[True] = True,
    mean: None | _NoValueType = NO_VALUE,
    correction: float | _NoValueType = NO_VALUE,
) -> ndarray:
    """numpy.var: mean((a - a.mean())**2) * n / (n - ddof), ddof=0 by default (NumPy's, not
    PyTorch's unbiased default).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        out (None, optional): not supported; must be None (results are new arrays).
        ddof (float, optional): delta degrees of freedom: the divisor is N - ddof (0, NumPy's
            default; PyTorch's is 1).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        where (Literal[True], optional): not supported; must be True.
        mean (None, optional): not supported (a precomputed mean); leave it out.
        correction (float, optional): the Array API's name for ddof.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.var([1.0, 2.0, 3.0, 4.0])
        array(1.25)
        >>> cnp.var([1.0, 2.0, 3.0, 4.0], ddof=1)
        array(1.66666667)
    """
    unsupported("var", out=out, where=where, mean=mean)
    return _statistic("var", red.var, a, axis, dtype, ddof, keepdims, correction)


def std(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    dtype: DTypeLike | None = None,
    out: None = None,
    ddof: float = 0,
    keepdims: bool = False,
    *,
    where: Literal[True] = True,
    mean: None | _NoValueType = NO_VALUE,
    correction: float | _NoValueType = NO_VALUE,
) -> ndarray:
    """numpy.std: sqrt(var(a, ddof=ddof)); ddof=0 by default, as NumPy.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        out (None, optional): not supported; must be None (results are new arrays).
        ddof (float, optional): delta degrees of freedom: the divisor is N - ddof (0, NumPy's
            default; PyTorch's is 1).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        where (Literal[True], optional): not supported; must be True.
        mean (None, optional): not supported (a precomputed mean); leave it out.
        correction (float, optional): the Array API's name for ddof.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.std([[1.0, 3.0], [2.0, 6.0]], axis=1)
        array([1., 2.])
    """
    unsupported("std", out=out, where=where, mean=mean)
    return _statistic("std", red.std, a, axis, dtype, ddof, keepdims, correction)


def _scan(name: str, function: Any, a: Any, axis: Any, dtype: Any) -> Tensor:
    x = _input(name, a, dtype)
    if axis is None:
        x = shp.reshape(x, -1)
        axis = 0
    result = function(x, normalize_axis(name, int(axis), builtins.max(x.ndim, 1)))
    return finish(result, x.dtype.numpy) if dtype is None else result


def cumsum(
    a: ArrayLike, axis: int | None = None, dtype: DTypeLike | None = None, out: None = None
) -> ndarray:
    """numpy.cumsum: running sums along `axis` (over the flattened array when None).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int, optional): the axis to work along; None works on the flattened array.
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        out (None, optional): not supported; must be None (results are new arrays).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.cumsum([[1, 2], [3, 4]])
        array([ 1,  3,  6, 10])
        >>> cnp.cumsum([[1, 2], [3, 4]], axis=0)
        array([[1, 2],
               [4, 6]])
    """
    unsupported("cumsum", out=out)
    return _scan("cumsum", red.cumsum, a, axis, dtype)


def cumprod(
    a: ArrayLike, axis: int | None = None, dtype: DTypeLike | None = None, out: None = None
) -> ndarray:
    """numpy.cumprod: running products along `axis`; exact gradients also with zeros.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int, optional): the axis to work along; None works on the flattened array.
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        out (None, optional): not supported; must be None (results are new arrays).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.cumprod([1.0, 2.0, 3.0])
        array([1., 2., 6.])
    """
    unsupported("cumprod", out=out)
    return _scan("cumprod", red.cumprod, a, axis, dtype)


def _logic(name: str, function: Any, a: Any, axis: Any, keepdims: bool) -> Tensor:
    x = tensor_of(a, name)
    axes = normalize_axes(name, axis, x.ndim)
    if not axes:
        return ew.ne(x, 0)
    return function(x, axes, keepdims)


def all(  # noqa: A001 - NumPy's name
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    out: None = None,
    keepdims: bool = False,
    *,
    where: Literal[True] = True,
) -> ndarray:
    """numpy.all: whether every element along `axis` is nonzero (a bool array).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        where (Literal[True], optional): not supported; must be True.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.all([[True, False], [True, True]], axis=1)
        array([False,  True])
    """
    unsupported("all", out=out, where=where)
    return _logic("all", red.all, a, axis, keepdims)


def any(  # noqa: A001 - NumPy's name
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    out: None = None,
    keepdims: bool = False,
    *,
    where: Literal[True] = True,
) -> ndarray:
    """numpy.any: whether some element along `axis` is nonzero (a bool array).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        out (None, optional): not supported; must be None (results are new arrays).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        where (Literal[True], optional): not supported; must be True.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.any([[0.0, 0.0], [0.0, 2.0]], axis=0)
        array([False,  True])
    """
    unsupported("any", out=out, where=where)
    return _logic("any", red.any, a, axis, keepdims)


def count_nonzero(
    a: ArrayLike, axis: int | Sequence[int] | None = None, *, keepdims: bool = False
) -> ndarray:
    """numpy.count_nonzero: the number of nonzero elements along `axis` (int64).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.count_nonzero([[0, 1], [2, 3]])
        array(3)
        >>> cnp.count_nonzero([[0, 1], [2, 3]], axis=0)
        array([1, 2])
    """
    x = tensor_of(a, "count_nonzero")
    return sum(ew.ne(x, 0), axis, keepdims=keepdims)


def median(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    out: None = None,
    overwrite_input: bool = False,
    keepdims: bool = False,
) -> ndarray:
    """numpy.median: the middle value, or the mean of the two middle values for an even count
    (PyTorch's median takes the lower one); nan if the slice holds a nan. The gradient goes
    to the element(s) chosen.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        out (None, optional): not supported; must be None (results are new arrays).
        overwrite_input (bool, optional): ignored (the input is never changed).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.median([3.0, 1.0, 4.0, 2.0])
        array(2.5)
        >>> cnp.median([[3, 1, 2], [6, 5, 4]], axis=1)
        array([2., 5.])
    """
    unsupported("median", out=out)
    x = _input("mean", a, None)  # the median's dtype is the mean's: float64 for integers
    axes = normalize_axes("median", axis, x.ndim)
    work = _merge_axes(x, axes) if axes else shp.reshape(x, *x.shape, 1)
    ordered = red.sort(work, -1).values
    count = work.shape[-1]
    lower = ordered[..., (count - 1) // 2]
    upper = ordered[..., count // 2]
    result = (lower + upper) / 2
    result = ew.where(red.any(ew.isnan(work), -1), float("nan"), result)
    if keepdims:
        result = shp.reshape(result, *_kept_shape(tuple(x.shape), axes))
    return result


def average(
    a: ArrayLike,
    axis: int | Sequence[int] | None = None,
    weights: ArrayLike | None = None,
    returned: bool = False,
    *,
    keepdims: bool = False,
) -> ndarray | tuple[ndarray, ndarray]:
    """numpy.average: sum(a * w) / sum(w) along `axis`, differentiable in a and weights;
    `returned=True` also gives sum(w).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reduce (an int or a tuple; None
            reduces them all, () none).
        weights (ArrayLike, optional): one weight per element (or, with an int axis, per position
            along it); None for equal weights.
        returned (bool, optional): also return the sum of the weights.
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.average([1.0, 2.0, 4.0], weights=[1.0, 1.0, 2.0])
        array(2.75)
        >>> cnp.average([[1.0, 2.0], [3.0, 5.0]], axis=1, weights=[3.0, 1.0], returned=True)
        (array([1.25, 3.5 ]), array([4., 4.]))
    """
    if weights is None:
        result = mean(a, axis, keepdims=keepdims)
        if not returned:
            return result
        count = tensor_of(a, "average").numel() // builtins.max(result.numel(), 1)
        return result, full_like(result, count)
    x = _input("mean", a, None)
    x, w = promoted(x, weights, name="average")
    if w.ndim != x.ndim:
        if axis is None or w.ndim != 1:
            raise TypeError("average: axis must be specified when shapes of a and weights differ.")
        position = normalize_axis("average", int(axis), x.ndim)
        w = shp.reshape(w, *[-1 if i == position else 1 for i in range(x.ndim)])
    w = shp.broadcast_to(w, tuple(x.shape))
    scale = sum(w, axis, keepdims=keepdims)
    result = sum(x * w, axis, keepdims=keepdims) / scale
    return (result, scale) if returned else result


def sort(
    a: ArrayLike,
    axis: int | None = -1,
    kind: str | None = None,
    order: None = None,
    *,
    stable: bool | None = None,
) -> ndarray:
    """numpy.sort: sorted values (stable; the flattened array when axis is None); gradients go
    back to the element each value came from.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int, optional): the axis to sort along (-1 the last); None sorts the flattened array.
        kind (str, optional): ignored: the sort is always stable.
        order (None, optional): not supported (structured arrays); must be None.
        stable (bool, optional): ignored: the sort is always stable.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.sort([[3, 1, 2], [0, 5, 4]])
        array([[1, 2, 3],
               [0, 4, 5]])
        >>> cnp.sort([[3, 1, 2], [0, 5, 4]], axis=None)
        array([0, 1, 2, 3, 4, 5])
    """
    unsupported("sort", order=order)
    x = tensor_of(a, "sort")
    if axis is None:
        x, axis = shp.reshape(x, -1), 0
    return red.sort(x, normalize_axis("sort", int(axis), builtins.max(x.ndim, 1))).values


def argsort(
    a: ArrayLike,
    axis: int | None = -1,
    kind: str | None = None,
    order: None = None,
    *,
    stable: bool | None = None,
) -> ndarray:
    """numpy.argsort: the indices that sort `a` (stable: equal values keep their order).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int, optional): the axis to sort along (-1 the last); None sorts the flattened array.
        kind (str, optional): ignored: the sort is always stable.
        order (None, optional): not supported (structured arrays); must be None.
        stable (bool, optional): ignored: the sort is always stable.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.argsort([3.0, 1.0, 2.0, 1.0])
        array([1, 3, 2, 0])
    """
    unsupported("argsort", order=order)
    x = tensor_of(a, "argsort")
    if axis is None:
        x, axis = shp.reshape(x, -1), 0
    return red.argsort(x, normalize_axis("argsort", int(axis), builtins.max(x.ndim, 1)))


__all__ = [
    "all",
    "amax",
    "amin",
    "any",
    "argmax",
    "argmin",
    "argsort",
    "average",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "max",
    "mean",
    "median",
    "min",
    "prod",
    "ptp",
    "sort",
    "std",
    "sum",
    "var",
]
