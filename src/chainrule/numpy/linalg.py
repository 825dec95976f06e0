"""chainrule.numpy.linalg: NumPy's `numpy.linalg` names over chainrule's linear algebra ops.

Integer input is solved in float64, as NumPy does. `solve(a, b)` follows NumPy 2: b is a
vector only when it is 1-D; otherwise it is a (stack of) matrix, never a batch of vectors
(PyTorch's reading of b when b.ndim == a.ndim - 1).

>>> import numpy as np
>>> import chainrule.numpy as cnp
>>> from chainrule.func import grad
>>> grad(lambda a: cnp.linalg.det(a))(np.array([[2.0, 1.0], [1.0, 3.0]]))  # det(a) * inv(a).T
array([[ 3., -1.],
       [-1.,  2.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import chainrule.ops.decompositions as dec
import chainrule.ops.linalg as la
import chainrule.ops.shape as shp
from chainrule._tensor import Tensor
from chainrule.errors import LinAlgError
from chainrule.numpy._core import as_dtype, promoted, tensor_of


def _floating(name: str, a: Any) -> Tensor:
    """The operand in float64 when it is an integer or bool array, as numpy.linalg computes."""
    x = tensor_of(a, f"linalg.{name}")
    if not x.dtype.is_floating_point:
        return as_dtype(x, np.float64, f"linalg.{name}")
    return x


def inv(a: Any) -> Tensor:
    """numpy.linalg.inv: the inverse of each matrix; LinAlgError when one is singular.
    Gradient: -inv(a).T @ g @ inv(a).T."""
    return la.inv(_floating("inv", a))


def det(a: Any) -> Tensor:
    """numpy.linalg.det. Gradient: det(a) * inv(a).T."""
    return la.det(_floating("det", a))


def slogdet(a: Any) -> Any:
    """numpy.linalg.slogdet: (sign, logabsdet), differentiable in logabsdet."""
    return la.slogdet(_floating("slogdet", a))


def solve(a: Any, b: Any) -> Tensor:
    """numpy.linalg.solve: x with a @ x = b (b a vector only when 1-D, as in NumPy 2)."""
    x, y = promoted(_floating("solve", a), b, name="linalg.solve")
    if y.ndim == 1:
        return la.solve(x, y)
    batch = shp.broadcast_shapes(tuple(x.shape[:-2]), tuple(y.shape[:-2]))
    x = shp.broadcast_to(x, batch + tuple(x.shape[-2:]))
    y = shp.broadcast_to(y, batch + tuple(y.shape[-2:]))
    return la.solve(x, y)


def cholesky(a: Any, /, *, upper: bool = False) -> Tensor:
    """numpy.linalg.cholesky: the lower (or upper) triangular factor L with a = L @ L.T."""
    return la.cholesky(_floating("cholesky", a), upper=upper)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """numpy.linalg.norm: the 2-norm of the flattened array by default; a vector norm along an
    int `axis`; a matrix norm ('fro', 1, -1, inf, -inf) over a pair of axes. Gradient of the
    2-norm at zero: 0 (PyTorch's convention)."""
    tensor = _floating("norm", x)
    if isinstance(axis, (list, tuple)):
        axis = tuple(int(a) for a in axis)
    return dec.norm(tensor, ord, axis, keepdims)


def matrix_power(a: Any, n: int) -> Tensor:
    """numpy.linalg.matrix_power: a @ a @ ... (n times; inverse powers for n < 0)."""
    return la.matrix_power(tensor_of(a, "linalg.matrix_power"), n)


def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> Tensor:
    """numpy.linalg.multi_dot: the product of a chain of matrices."""
    return la.multi_dot(promoted(*arrays, name="linalg.multi_dot"))


__all__ = [
    "LinAlgError",
    "cholesky",
    "det",
    "inv",
    "matrix_power",
    "multi_dot",
    "norm",
    "slogdet",
    "solve",
]
