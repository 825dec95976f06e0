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
    """numpy.array: a new Tensor (a copy unless copy=False). A list holding Tensors is stacked,
    so the result stays differentiable in them, as with HIPS autograd."""
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
    """numpy.asarray: Tensors pass through, NumPy arrays are shared without a copy."""
    if copy:
        return array(a, dtype)
    if dtype is None:
        return tensor_of(a, "asarray")
    return as_dtype(a, dtype, "asarray")


def copy(a: ArrayLike, order: str = "K") -> ndarray:
    """numpy.copy: a new Tensor with the same values (differentiable: identity)."""
    return ew.clone(tensor_of(a, "copy"))


def _filled(maker: Any, shape: Any, dtype: Any) -> Tensor:
    return tensor_of(maker(shape, dtype=numpy_dtype(dtype)), maker.__name__)


def zeros(
    shape: int | Sequence[int], dtype: DTypeLike = float, order: str = "C", *, like: None = None
) -> ndarray:
    """numpy.zeros: float64 by default."""
    return _filled(np.zeros, shape, dtype)


def ones(
    shape: int | Sequence[int],
    dtype: DTypeLike | None = None,
    order: str = "C",
    *,
    like: None = None,
) -> ndarray:
    """numpy.ones: float64 by default."""
    return _filled(np.ones, shape, dtype)


def empty(
    shape: int | Sequence[int], dtype: DTypeLike = float, order: str = "C", *, like: None = None
) -> ndarray:
    """numpy.empty (zero-filled here, so results never depend on stale memory)."""
    return _filled(np.zeros, shape, dtype)


def full(
    shape: int | Sequence[int],
    fill_value: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str = "C",
    *,
    like: None = None,
) -> ndarray:
    """numpy.full: the dtype of `fill_value` by default; a Tensor fill value stays
    differentiable (its gradient is the sum over the copies)."""
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
    """numpy.zeros_like: zeros of a's shape and dtype (a constant)."""
    return _filled(np.zeros, _like_shape(a, shape), _like_dtype(a, dtype))


def ones_like(
    a: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str = "K",
    subok: bool = True,
    shape: int | Sequence[int] | None = None,
) -> ndarray:
    """numpy.ones_like: ones of a's shape and dtype (a constant)."""
    return _filled(np.ones, _like_shape(a, shape), _like_dtype(a, dtype))


def empty_like(
    a: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str = "K",
    subok: bool = True,
    shape: int | Sequence[int] | None = None,
) -> ndarray:
    """numpy.empty_like (zero-filled here)."""
    return _filled(np.zeros, _like_shape(a, shape), _like_dtype(a, dtype))


def full_like(
    a: ArrayLike,
    fill_value: ArrayLike,
    dtype: DTypeLike | None = None,
    order: str = "K",
    subok: bool = True,
    shape: int | Sequence[int] | None = None,
) -> ndarray:
    """numpy.full_like: `fill_value` in a's shape and dtype."""
    return full(_like_shape(a, shape), fill_value, _like_dtype(a, dtype))


def arange(
    start: ArrayLike,
    stop: ArrayLike | None = None,
    step: ArrayLike | None = None,
    dtype: DTypeLike | None = None,
    *,
    like: None = None,
) -> ndarray:
    """numpy.arange: int64 for integer arguments, float64 when one is a float."""
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
    Tensor endpoints (which may be arrays: the new axis is `axis`)."""
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
    """numpy.logspace: base ** linspace(start, stop)."""
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
    """numpy.eye: ones on the k-th diagonal, float64 by default."""
    return tensor_of(np.eye(N, M, k, dtype=numpy_dtype(dtype)), "eye")


def identity(n: int, dtype: DTypeLike | None = None, *, like: None = None) -> ndarray:
    """numpy.identity: the n x n identity matrix, float64 by default."""
    return tensor_of(np.identity(n, dtype=numpy_dtype(dtype)), "identity")


def meshgrid(
    *xi: ArrayLike, copy: bool = True, sparse: bool = False, indexing: str = "xy"
) -> tuple[ndarray, ...]:
    """numpy.meshgrid: coordinate arrays, differentiable in the inputs; 'xy' (Cartesian, the
    default) or 'ij' (matrix) indexing."""
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
