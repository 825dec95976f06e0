"""NumPy's array creation functions, returning Tensors with NumPy's default dtypes (float64
for floats and for zeros/ones/eye, int64 for Python ints), not PyTorch's float32.

Constant arrays are made by NumPy itself and wrapped; `array` of a list holding Tensors stacks
them (differentiably), and `linspace`/`full` accept Tensor endpoints or fill values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any

import numpy as np

import chainrule.ops.elementwise as ew
import chainrule.ops.shape as shp
from chainrule._tensor import Tensor
from chainrule.numpy._core import (
    _contains_tensor,
    as_dtype,
    numpy_dtype,
    promoted,
    stack_nested,
    tensor_of,
)

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from collections.abc import Sequence

    from chainrule.numpy._typing import ArrayLike, DTypeLike, ndarray


def _plain(value: Any) -> Any:
    """A Python number for NumPy's own creation functions (0-d Tensors included)."""
    return value.item() if isinstance(value, Tensor) else value


def array(
    object: ArrayLike,  # noqa: A002 - NumPy's name
    dtype: DTypeLike | None = None,
    *,
    copy: bool = True,
    order: str = "K",
    subok: bool = False,
    ndmin: int = 0,
    like: None = None,
) -> ndarray:
    """numpy.array: a new array (a copy unless copy=False). A list holding Tensors is stacked,
    so the result stays differentiable in them, as with HIPS autograd.

    Args:
        object (ArrayLike): an array, a number, a (nested) list of them, or a Tensor; a list holding
            Tensors is stacked, differentiably.
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        copy (bool, optional): copy the data (the default); False may share it.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        subok (bool, optional): ignored: results are always chainrule.numpy.ndarray.
        ndmin (int, optional): the least number of dimensions of the result (size-1 axes prepended).
        like (None, optional): accepted for NumPy compatibility and ignored.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.array([[1, 2], [3, 4]], dtype=cnp.float32)
        array([[1., 2.],
               [3., 4.]], dtype=float32)
        >>> cnp.array(5.0, ndmin=2)
        array([[5.]])
    """
    if isinstance(object, Tensor):
        result = ew.clone(object) if copy else object
        result = result if dtype is None else as_dtype(result, dtype, "array")
    elif isinstance(object, (list, tuple)) and _contains_tensor(object):
        result = stack_nested(object, "array")
        result = result if dtype is None else as_dtype(result, dtype, "array")
    else:
        result = tensor_of(np.array(object, dtype=numpy_dtype(dtype), copy=copy), "array")
    if result.ndim < ndmin:
        result = shp.reshape(result, *([1] * (ndmin - result.ndim)), *result.shape)
    return result


def asarray(
    a: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str | None = None,
    *,
    copy: bool | None = None,
) -> ndarray:
    """numpy.asarray: Tensors pass through, NumPy arrays are shared without a copy.

    Args:
        a (ArrayLike): the input: arrays are shared without a copy, Tensors pass through.
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        copy (bool, optional): True always copies; None or False share where they can.

    Example:
        >>> import numpy as np
        >>> import chainrule.numpy as cnp
        >>> source = np.zeros(2)
        >>> view = cnp.asarray(source)
        >>> source[0] = 7.0
        >>> view
        array([7., 0.])
    """
    if copy:
        return array(a, dtype)
    if dtype is None:
        return tensor_of(a, "asarray")
    return as_dtype(a, dtype, "asarray")


def copy(a: ArrayLike, order: str = "K") -> ndarray:
    """numpy.copy: a new array with the same values (differentiable: the identity).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.copy([1.0, 2.0])
        array([1., 2.])
    """
    return ew.clone(tensor_of(a, "copy"))


def _filled(maker: Any, shape: Any, dtype: Any) -> Tensor:
    return tensor_of(maker(shape, dtype=numpy_dtype(dtype)), maker.__name__)


def zeros(
    shape: int | Sequence[int], dtype: DTypeLike = float, order: str = "C", *, like: None = None
) -> ndarray:
    """numpy.zeros: an array of zeros (a constant), float64 by default.

    Args:
        shape (int | Sequence[int]): the shape of the result (an int or a sequence of ints).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        like (None, optional): accepted for NumPy compatibility and ignored.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.zeros((2, 3)).dtype
        dtype('float64')
        >>> cnp.zeros(2, dtype=int)
        array([0, 0])
    """
    return _filled(np.zeros, shape, dtype)


def ones(
    shape: int | Sequence[int],
    dtype: DTypeLike | None = None,
    order: str = "C",
    *,
    like: None = None,
) -> ndarray:
    """numpy.ones: an array of ones (a constant), float64 by default.

    Args:
        shape (int | Sequence[int]): the shape of the result (an int or a sequence of ints).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        like (None, optional): accepted for NumPy compatibility and ignored.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.ones((2, 2))
        array([[1., 1.],
               [1., 1.]])
    """
    return _filled(np.ones, shape, dtype)


def empty(
    shape: int | Sequence[int], dtype: DTypeLike = float, order: str = "C", *, like: None = None
) -> ndarray:
    """numpy.empty (zero-filled here, so results never depend on stale memory).

    Args:
        shape (int | Sequence[int]): the shape of the result (an int or a sequence of ints).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        like (None, optional): accepted for NumPy compatibility and ignored.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.empty(3)
        array([0., 0., 0.])
    """
    return _filled(np.zeros, shape, dtype)


def full(
    shape: int | Sequence[int],
    fill_value: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str = "C",
    *,
    like: None = None,
) -> ndarray:
    """numpy.full: an array filled with `fill_value`, of its dtype by default; a Tensor fill
    value stays differentiable (its gradient is the sum over the copies).

    Args:
        shape (int | Sequence[int]): the shape of the result (an int or a sequence of ints).
        fill_value (ArrayLike): the value of every element (a Tensor stays differentiable).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        like (None, optional): accepted for NumPy compatibility and ignored.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.full((2, 2), 7)
        array([[7, 7],
               [7, 7]])
        >>> cnp.full(3, 0.5, dtype=cnp.float32)
        array([0.5, 0.5, 0.5], dtype=float32)
    """
    if isinstance(fill_value, Tensor) and fill_value.requires_grad:
        value = fill_value if dtype is None else as_dtype(fill_value, dtype, "full")
        size = (shape,) if isinstance(shape, int) else tuple(shape)
        return ew.clone(shp.broadcast_to(value, size))
    return tensor_of(np.full(shape, _plain_array(fill_value), dtype=numpy_dtype(dtype)), "full")


def _plain_array(value: Any) -> Any:
    return value.numpy() if isinstance(value, Tensor) else value


def _like_shape(a: Any, shape: Any) -> tuple:
    return tuple(tensor_of(a, "like").shape) if shape is None else shape


def _like_dtype(a: Any, dtype: Any) -> Any:
    return tensor_of(a, "like").dtype.numpy if dtype is None else numpy_dtype(dtype)


def zeros_like(
    a: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str = "K",
    subok: bool = True,
    shape: int | Sequence[int] | None = None,
) -> ndarray:
    """numpy.zeros_like: zeros of a's shape and dtype (a constant).

    Args:
        a (ArrayLike): the array whose shape and dtype the result takes.
        dtype (DTypeLike, optional): the dtype of the result; None takes a's.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        subok (bool, optional): ignored: results are always chainrule.numpy.ndarray.
        shape (int | Sequence[int], optional): the shape of the result; None takes a's.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.zeros_like([[1, 2], [3, 4]])
        array([[0, 0],
               [0, 0]])
    """
    return _filled(np.zeros, _like_shape(a, shape), _like_dtype(a, dtype))


def ones_like(
    a: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str = "K",
    subok: bool = True,
    shape: int | Sequence[int] | None = None,
) -> ndarray:
    """numpy.ones_like: ones of a's shape and dtype (a constant).

    Args:
        a (ArrayLike): the array whose shape and dtype the result takes.
        dtype (DTypeLike, optional): the dtype of the result; None takes a's.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        subok (bool, optional): ignored: results are always chainrule.numpy.ndarray.
        shape (int | Sequence[int], optional): the shape of the result; None takes a's.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.ones_like([1.5, 2.5])
        array([1., 1.])
    """
    return _filled(np.ones, _like_shape(a, shape), _like_dtype(a, dtype))


def empty_like(
    a: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str = "K",
    subok: bool = True,
    shape: int | Sequence[int] | None = None,
) -> ndarray:
    """numpy.empty_like (zero-filled here).

    Args:
        a (ArrayLike): the array whose shape and dtype the result takes.
        dtype (DTypeLike, optional): the dtype of the result; None takes a's.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        subok (bool, optional): ignored: results are always chainrule.numpy.ndarray.
        shape (int | Sequence[int], optional): the shape of the result; None takes a's.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.empty_like([1.5, 2.5])
        array([0., 0.])
    """
    return _filled(np.zeros, _like_shape(a, shape), _like_dtype(a, dtype))


def full_like(
    a: ArrayLike,
    fill_value: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str = "K",
    subok: bool = True,
    shape: int | Sequence[int] | None = None,
) -> ndarray:
    """numpy.full_like: `fill_value` in a's shape and dtype.

    Args:
        a (ArrayLike): the array whose shape and dtype the result takes.
        fill_value (ArrayLike): the value of every element.
        dtype (DTypeLike, optional): the dtype of the result; None takes a's.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        subok (bool, optional): ignored: results are always chainrule.numpy.ndarray.
        shape (int | Sequence[int], optional): the shape of the result; None takes a's.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.full_like([1, 2, 3], 0.7)
        array([0, 0, 0])
        >>> cnp.full_like([1, 2, 3], 0.7, dtype=float)
        array([0.7, 0.7, 0.7])
    """
    return full(_like_shape(a, shape), fill_value, _like_dtype(a, dtype))


def arange(
    start: ArrayLike,
    stop: ArrayLike | None = None,
    step: ArrayLike | None = None,
    dtype: DTypeLike | None = None,
    *,
    like: None = None,
) -> ndarray:
    """numpy.arange: evenly spaced values in [start, stop) (a constant); int64 for integer
    arguments, float64 when one is a float.

    Args:
        start (ArrayLike): the first value (the stop when it is the only argument).
        stop (ArrayLike, optional): the end, excluded.
        step (ArrayLike, optional): the spacing (default 1).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        like (None, optional): accepted for NumPy compatibility and ignored.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.arange(4)
        array([0, 1, 2, 3])
        >>> cnp.arange(1.0, 2.0, 0.25)
        array([1.  , 1.25, 1.5 , 1.75])
    """
    arguments = [_plain(v) for v in (start, stop, step) if v is not None]
    if step is not None and stop is None:
        arguments = [0, _plain(start), _plain(step)]
    return tensor_of(np.arange(*arguments, dtype=numpy_dtype(dtype)), "arange")


def linspace(
    start: ArrayLike,
    stop: ArrayLike,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: DTypeLike | None = None,
    axis: int = 0,
) -> ndarray | tuple[ndarray, ndarray | float]:
    """numpy.linspace: `num` evenly spaced values from start to stop; differentiable in
    Tensor endpoints (which may be arrays: the new axis is `axis`).

    Args:
        start (ArrayLike): the first value (a Tensor or array stays differentiable).
        stop (ArrayLike): the last value (included unless endpoint=False).
        num (int, optional): the number of values.
        endpoint (bool, optional): include stop as the last value.
        retstep (bool, optional): also return the spacing.
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        axis (int, optional): where the new axis goes, for array endpoints.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linspace(0.0, 1.0, 5)
        array([0.  , 0.25, 0.5 , 0.75, 1.  ])
        >>> cnp.linspace(0.0, 1.0, 4, endpoint=False, retstep=True)
        (array([0.  , 0.25, 0.5 , 0.75]), np.float64(0.25))
    """
    if not (isinstance(start, Tensor) or isinstance(stop, Tensor)):
        result = np.linspace(start, stop, num, endpoint, retstep, numpy_dtype(dtype), axis)
        if retstep:
            return tensor_of(result[0], "linspace"), result[1]
        return tensor_of(result, "linspace")
    low, high = promoted(start, stop, 0.0, name="linspace")[:2]
    divisions = num - 1 if endpoint else num
    fractions = np.arange(num, dtype=low.dtype.numpy) / max(divisions, 1)
    shape = shp.broadcast_shapes(tuple(low.shape), tuple(high.shape))
    weights = tensor_of(fractions.reshape((num,) + (1,) * len(shape)), "linspace")
    step = (high - low) / max(divisions, 1)
    result = low + weights * (high - low)
    if endpoint and num > 1:
        last = shp.reshape(shp.broadcast_to(high, shape), 1, *shape)
        result = shp.cat([result[: num - 1], last], 0)
    if axis != 0:
        result = shp.movedim(result, 0, axis % result.ndim)
    if dtype is not None:
        result = as_dtype(result, dtype, "linspace")
    return (result, step) if retstep else result


def logspace(
    start: ArrayLike,
    stop: ArrayLike,
    num: int = 50,
    endpoint: bool = True,
    base: float = 10.0,
    dtype: DTypeLike | None = None,
    axis: int = 0,
) -> ndarray:
    """numpy.logspace: base ** linspace(start, stop).

    Args:
        start (ArrayLike): the first exponent.
        stop (ArrayLike): the last exponent.
        num (int, optional): the number of values.
        endpoint (bool, optional): include base ** stop as the last value.
        base (float, optional): the base of the powers.
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        axis (int, optional): where the new axis goes, for array endpoints.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.logspace(0.0, 3.0, 4)
        array([   1.,   10.,  100., 1000.])
    """
    exponents = linspace(start, stop, num, endpoint, axis=axis)
    result = ew.pow(base, exponents) if isinstance(base, (int, float)) else base**exponents
    return result if dtype is None else as_dtype(result, dtype, "logspace")


def eye(
    N: int,  # noqa: N803 - NumPy's names
    M: int | None = None,  # noqa: N803
    k: int = 0,
    dtype: DTypeLike = float,
    order: str = "C",
    *,
    like: None = None,
) -> ndarray:
    """numpy.eye: a 2-D array with ones on the k-th diagonal (a constant), float64 by default.

    Args:
        N (int): the number of rows.
        M (int, optional): the number of columns (N when None).
        k (int, optional): the diagonal: 0 the main one, k > 0 above it, k < 0 below.
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        order (str, optional): accepted for NumPy compatibility and ignored (results are C-ordered).
        like (None, optional): accepted for NumPy compatibility and ignored.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.eye(2)
        array([[1., 0.],
               [0., 1.]])
        >>> cnp.eye(2, 3, k=1, dtype=int)
        array([[0, 1, 0],
               [0, 0, 1]])
    """
    return tensor_of(np.eye(N, M, k, dtype=numpy_dtype(dtype)), "eye")


def identity(n: int, dtype: DTypeLike | None = None, *, like: None = None) -> ndarray:
    """numpy.identity: the n x n identity matrix, float64 by default.

    Args:
        n (int): the number of rows and columns.
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        like (None, optional): accepted for NumPy compatibility and ignored.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.identity(2)
        array([[1., 0.],
               [0., 1.]])
    """
    return tensor_of(np.identity(n, dtype=numpy_dtype(dtype)), "identity")


def meshgrid(
    *xi: ArrayLike, copy: bool = True, sparse: bool = False, indexing: str = "xy"
) -> tuple[ndarray, ...]:
    """numpy.meshgrid: coordinate arrays, differentiable in the inputs; 'xy' (Cartesian, the
    default) or 'ij' (matrix) indexing.

    Args:
        *xi (ArrayLike): the 1-D coordinate vectors (each is flattened).
        copy (bool, optional): ignored: the results are new arrays (shared views when sparse=True).
        sparse (bool, optional): return broadcastable arrays with size-1 axes instead of full grids.
        indexing (str, optional): 'xy' (Cartesian: the first two axes swapped) or 'ij' (matrix).

    Example:
        >>> import chainrule.numpy as cnp
        >>> x, y = cnp.meshgrid([1, 2, 3], [4, 5])
        >>> x
        array([[1, 2, 3],
               [1, 2, 3]])
        >>> y
        array([[4, 4, 4],
               [5, 5, 5]])
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("meshgrid: Valid values for `indexing` are 'xy' and 'ij'.")
    vectors = [shp.reshape(tensor_of(x, "meshgrid"), -1) for x in xi]
    count = len(vectors)
    outputs = []
    for position, vector in enumerate(vectors):
        shape = [1] * count
        shape[position] = -1
        if indexing == "xy" and count > 1 and position < 2:
            shape[0], shape[1] = shape[1], shape[0]
        outputs.append(shp.reshape(vector, *shape))
    if not sparse:
        full_shape = shp.broadcast_shapes(*(tuple(o.shape) for o in outputs))
        outputs = [ew.clone(shp.broadcast_to(o, full_shape)) for o in outputs]
    return tuple(outputs)


__all__ = [
    "arange",
    "array",
    "asarray",
    "copy",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "identity",
    "linspace",
    "logspace",
    "meshgrid",
    "ones",
    "ones_like",
    "zeros",
    "zeros_like",
]
