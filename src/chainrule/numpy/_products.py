"""NumPy's products and matrix structure functions: dot, vdot, inner, outer, matmul,
tensordot, einsum, kron, trace, diag, diagonal, tril, triu.

`dot` keeps NumPy's meaning for N-D operands (a sum over the last axis of `a` and the
second-to-last of `b`, every pair of batch indices combined), which is not `matmul`'s batching.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any

import chainrule.ops.complex as cx
import chainrule.ops.linalg as la
import chainrule.ops.shape as shp
from chainrule._tensor import Tensor
from chainrule.numpy._core import (
    as_dtype,
    normalize_axis,
    promoted,
    tensor_of,
    unsupported,
)
from chainrule.numpy._reductions import sum as _sum

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from chainrule.numpy._typing import ArrayLike, DTypeLike, ndarray


def _tensordot(x: Tensor, y: Tensor, axes_x: Sequence[int], axes_y: Sequence[int]) -> Tensor:
    return la.tensordot(x, y, dims=(list(axes_x), list(axes_y)))


def dot(a: ArrayLike, b: ArrayLike, out: None = None) -> ndarray:
    """numpy.dot: a product for 0-d operands, the inner product of vectors, the matrix
    product of 2-D arrays, and for N-D a sum over a's last axis and b's second-to-last.

    Args:
        a (ArrayLike): the first operand.
        b (ArrayLike): the second operand.
        out (None, optional): not supported; must be None (results are new arrays).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.dot([1.0, 2.0], [3.0, 4.0])
        array(11.)
        >>> cnp.dot([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0])
        array([3., 7.])
    """
    unsupported("dot", out=out)
    x, y = promoted(a, b, name="dot")
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    if x.ndim <= 2 and y.ndim <= 2:
        return la.matmul(x, y)
    if y.ndim == 1:
        return _tensordot(x, y, [x.ndim - 1], [0])
    return _tensordot(x, y, [x.ndim - 1], [y.ndim - 2])


def vdot(a: ArrayLike, b: ArrayLike) -> ndarray:
    """numpy.vdot: the dot product of the flattened arrays, the first conjugated.

    Args:
        a (ArrayLike): the first operand (conjugated when complex).
        b (ArrayLike): the second operand.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.vdot([[1.0, 2.0], [3.0, 4.0]], [[1.0, 1.0], [1.0, 1.0]])
        array(10.)
        >>> cnp.vdot([1j], [1j])
        array(1.+0.j)
    """
    x, y = promoted(a, b, name="vdot")
    return la.dot(cx.conj(shp.reshape(x, -1)), shp.reshape(y, -1))


def inner(a: ArrayLike, b: ArrayLike) -> ndarray:
    """numpy.inner: a sum over the last axes of both (a product for 0-d operands).

    Args:
        a (ArrayLike): the first operand.
        b (ArrayLike): the second operand.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.inner([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0])
        array([3., 7.])
    """
    x, y = promoted(a, b, name="inner")
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    return _tensordot(x, y, [x.ndim - 1], [y.ndim - 1])


def outer(a: ArrayLike, b: ArrayLike, out: None = None) -> ndarray:
    """numpy.outer: every product of an element of a and one of b (inputs flattened).

    Args:
        a (ArrayLike): the first operand.
        b (ArrayLike): the second operand.
        out (None, optional): not supported; must be None (results are new arrays).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.outer([1.0, 2.0], [1.0, 10.0, 100.0])
        array([[  1.,  10., 100.],
               [  2.,  20., 200.]])
    """
    unsupported("outer", out=out)
    x, y = promoted(a, b, name="outer")
    return la.outer(shp.reshape(x, -1), shp.reshape(y, -1))


def matmul(
    x1: ArrayLike, x2: ArrayLike, /, out: None = None, *, dtype: DTypeLike | None = None
) -> ndarray:
    """numpy.matmul (the @ operator): matrix products broadcast over leading batch axes.

    Args:
        x1 (ArrayLike): the first operand (at least 1-D).
        x2 (ArrayLike): the second operand (at least 1-D).
        out (None, optional): not supported; must be None (results are new arrays).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.matmul([[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [1.0, 0.0]])
        array([[2., 1.],
               [4., 3.]])
        >>> cnp.matmul(cnp.ones((5, 2, 3)), cnp.ones((3, 4))).shape
        (5, 2, 4)
    """
    unsupported("matmul", out=out)
    x, y = promoted(x1, x2, name="matmul")
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    result = la.matmul(x, y)
    return result if dtype is None else as_dtype(result, dtype, "matmul")


def tensordot(
    a: ArrayLike, b: ArrayLike, axes: int | tuple[int | Sequence[int], int | Sequence[int]] = 2
) -> ndarray:
    """numpy.tensordot: sum over the last `axes` axes of a and first of b, or over the axes
    listed in the pair `axes`.

    Args:
        a (ArrayLike): the first operand.
        b (ArrayLike): the second operand.
        axes (int | tuple[int | Sequence[int], int | Sequence[int]], optional): N to sum over the
            last N axes of a and the first N of b, or a pair (axes of a, axes of b).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.tensordot(cnp.ones((2, 3, 4)), cnp.ones((3, 4, 5))).shape
        (2, 5)
        >>> cnp.tensordot(cnp.ones((2, 3)), cnp.ones((2, 5)), axes=([0], [0])).shape
        (3, 5)
    """
    x, y = promoted(a, b, name="tensordot")
    if isinstance(axes, int):
        return la.tensordot(x, y, dims=axes)
    axes_x, axes_y = axes
    axes_x = [axes_x] if isinstance(axes_x, int) else list(axes_x)
    axes_y = [axes_y] if isinstance(axes_y, int) else list(axes_y)
    if len(axes_x) != len(axes_y):
        raise ValueError("tensordot: shape-mismatch for sum")
    axes_x = [normalize_axis("tensordot", i, x.ndim) for i in axes_x]
    axes_y = [normalize_axis("tensordot", i, y.ndim) for i in axes_y]
    return _tensordot(x, y, axes_x, axes_y)


def einsum(
    *operands: ArrayLike | str | Sequence[int],
    out: None = None,
    dtype: DTypeLike | None = None,
    optimize: bool | str = False,
    **kwargs: object,
) -> ndarray:
    """numpy.einsum, with a subscripts string ('ij,jk->ik', '...' allowed) or in the
    interleaved form einsum(a, [0, 1], b, [1, 2]). `optimize` is accepted and ignored.

    Args:
        *operands (ArrayLike | str | Sequence[int]): the subscripts string ('ij,jk->ik', '...'
            allowed) and the arrays, or the arrays interleaved with their axis lists (and an
            optional output list).
        out (None, optional): not supported; must be None (results are new arrays).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        optimize (bool | str, optional): accepted and ignored.
        **kwargs (object): NumPy's other keywords (order, casting), accepted and ignored.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.einsum('ij,j->i', [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0])
        array([3., 7.])
        >>> cnp.einsum('ii', cnp.eye(3))
        array(3.)
    """
    unsupported("einsum", out=out)
    if isinstance(operands[0], str):
        tensors = promoted(*operands[1:], name="einsum")
        result = la.einsum(operands[0], *tensors)
    else:
        pairs_end = len(operands) - len(operands) % 2  # an odd count ends with the output
        arguments = list(operands)
        arguments[0:pairs_end:2] = promoted(*operands[0:pairs_end:2], name="einsum")
        result = la.einsum(*arguments)
    return result if dtype is None else as_dtype(result, dtype, "einsum")


def kron(a: ArrayLike, b: ArrayLike) -> ndarray:
    """numpy.kron: the Kronecker product (blocks a[i, j] * b), for any number of dimensions.

    Args:
        a (ArrayLike): the first operand.
        b (ArrayLike): the second operand.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.kron([1.0, 10.0], [1.0, 2.0, 3.0])
        array([ 1.,  2.,  3., 10., 20., 30.])
    """
    x, y = promoted(a, b, name="kron")
    count = max(x.ndim, y.ndim)
    x = shp.reshape(x, *([1] * (count - x.ndim)), *x.shape)
    y = shp.reshape(y, *([1] * (count - y.ndim)), *y.shape)
    x_spread = shp.reshape(x, *[s for size in x.shape for s in (size, 1)])
    y_spread = shp.reshape(y, *[s for size in y.shape for s in (1, size)])
    product = x_spread * y_spread
    return shp.reshape(product, *[p * q for p, q in zip(x.shape, y.shape)])


def diagonal(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> ndarray:
    """numpy.diagonal: the diagonal of the (axis1, axis2) planes, as the last axis.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        offset (int, optional): the diagonal: 0 the main one, > 0 above, < 0 below.
        axis1 (int, optional): the first axis of the planes.
        axis2 (int, optional): the second axis of the planes.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.diagonal([[1, 2], [3, 4]])
        array([1, 4])
        >>> cnp.diagonal([[1, 2], [3, 4]], offset=1)
        array([2])
    """
    x = tensor_of(a, "diagonal")
    if x.ndim < 2:
        raise ValueError("diagonal requires an array of at least two dimensions")
    return la.diagonal(x, offset, axis1, axis2)


def trace(
    a: ArrayLike,
    offset: int = 0,
    axis1: int = 0,
    axis2: int = 1,
    dtype: DTypeLike | None = None,
    out: None = None,
) -> ndarray:
    """numpy.trace: the sum along a diagonal (of every (axis1, axis2) plane).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        offset (int, optional): the diagonal: 0 the main one, > 0 above, < 0 below.
        axis1 (int, optional): the first axis of the planes.
        axis2 (int, optional): the second axis of the planes.
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        out (None, optional): not supported; must be None (results are new arrays).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.trace([[1.0, 2.0], [3.0, 4.0]])
        array(5.)
    """
    unsupported("trace", out=out)
    return _sum(diagonal(a, offset, axis1, axis2), -1, dtype=dtype)


def diag(v: ArrayLike, k: int = 0) -> ndarray:
    """numpy.diag: the k-th diagonal of a 2-D array, or a 2-D array with a 1-D one on it.

    Args:
        v (ArrayLike): a 2-D array (its diagonal is extracted) or a 1-D one (put on a diagonal).
        k (int, optional): the diagonal: 0 the main one, k > 0 above it, k < 0 below.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.diag([[1, 2], [3, 4]])
        array([1, 4])
        >>> cnp.diag([1, 2], k=1)
        array([[0, 1, 0],
               [0, 0, 2],
               [0, 0, 0]])
    """
    x = tensor_of(v, "diag")
    if x.ndim not in (1, 2):
        raise ValueError("diag: Input must be 1- or 2-d.")
    return la.diag(x, k)


def _triangle(name: str, function: Any, m: Any, k: int) -> Tensor:
    x = tensor_of(m, name)
    if x.ndim == 0:
        raise ValueError(f"{name}: input must be at least 1-d")
    if x.ndim == 1:
        x = shp.broadcast_to(x, (x.shape[0], x.shape[0]))
    return function(x, k)


def tril(m: ArrayLike, k: int = 0) -> ndarray:
    """numpy.tril: zeros above the k-th diagonal (of each matrix in a stack).

    Args:
        m (ArrayLike): the input array (a 1-D one is broadcast to a square).
        k (int, optional): the diagonal: 0 the main one, k > 0 above it, k < 0 below.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.tril([[1, 2], [3, 4]])
        array([[1, 0],
               [3, 4]])
    """
    return _triangle("tril", la.tril, m, k)


def triu(m: ArrayLike, k: int = 0) -> ndarray:
    """numpy.triu: zeros below the k-th diagonal (of each matrix in a stack).

    Args:
        m (ArrayLike): the input array (a 1-D one is broadcast to a square).
        k (int, optional): the diagonal: 0 the main one, k > 0 above it, k < 0 below.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.triu([[1, 2], [3, 4]], k=1)
        array([[0, 2],
               [0, 0]])
    """
    return _triangle("triu", la.triu, m, k)


__all__ = [
    "diag",
    "diagonal",
    "dot",
    "einsum",
    "inner",
    "kron",
    "matmul",
    "outer",
    "tensordot",
    "trace",
    "tril",
    "triu",
    "vdot",
]
