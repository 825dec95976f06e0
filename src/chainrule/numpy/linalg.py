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
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any, Literal

import numpy as np

import chainrule.ops.decompositions as dec
import chainrule.ops.linalg as la
import chainrule.ops.shape as shp
from chainrule._tensor import Tensor
from chainrule.errors import LinAlgError
from chainrule.numpy._core import as_dtype, promoted, tensor_of
from chainrule.numpy._ndarray import returns_ndarrays

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from chainrule.numpy._typing import ArrayLike, ndarray


def _floating(name: str, a: Any) -> Tensor:
    """The operand in float64 when it is an integer or bool array, as numpy.linalg computes."""
    x = tensor_of(a, f"linalg.{name}")
    if not x.dtype.is_floating_point and not x.dtype.is_complex:
        return as_dtype(x, np.float64, f"linalg.{name}")
    return x


@returns_ndarrays
def inv(a: ArrayLike) -> ndarray:
    """numpy.linalg.inv: the inverse of each matrix; LinAlgError when one is singular.
    Gradient: -inv(a).T @ g @ inv(a).T."""
    return la.inv(_floating("inv", a))


@returns_ndarrays
def det(a: ArrayLike) -> ndarray:
    """numpy.linalg.det. Gradient: det(a) * inv(a).T."""
    return la.det(_floating("det", a))


@returns_ndarrays
def slogdet(a: ArrayLike) -> tuple[ndarray, ndarray]:
    """numpy.linalg.slogdet: (sign, logabsdet), differentiable in logabsdet."""
    return la.slogdet(_floating("slogdet", a))


@returns_ndarrays
def solve(a: ArrayLike, b: ArrayLike) -> ndarray:
    """numpy.linalg.solve: x with a @ x = b (b a vector only when 1-D, as in NumPy 2)."""
    x, y = promoted(_floating("solve", a), b, name="linalg.solve")
    if y.ndim == 1:
        return la.solve(x, y)
    batch = shp.broadcast_shapes(tuple(x.shape[:-2]), tuple(y.shape[:-2]))
    x = shp.broadcast_to(x, batch + tuple(x.shape[-2:]))
    y = shp.broadcast_to(y, batch + tuple(y.shape[-2:]))
    return la.solve(x, y)


@returns_ndarrays
def cholesky(a: ArrayLike, /, *, upper: bool = False) -> ndarray:
    """numpy.linalg.cholesky: the lower (or upper) triangular factor L with a = L @ L.T."""
    return la.cholesky(_floating("cholesky", a), upper=upper)


@returns_ndarrays
def norm(
    x: ArrayLike,
    ord: float | str | None = None,  # noqa: A002 - NumPy's name
    axis: int | tuple[int, int] | None = None,
    keepdims: bool = False,
) -> ndarray:
    """numpy.linalg.norm: the 2-norm of the flattened array by default; a vector norm along an
    int `axis`; a matrix norm ('fro', 'nuc', 1, -1, 2, -2, inf, -inf) over a pair of axes.
    Gradient of the 2-norm at zero: 0 (PyTorch's convention)."""
    tensor = _floating("norm", x)
    if isinstance(axis, (list, tuple)):
        axis = tuple(int(a) for a in axis)
    return dec.norm(tensor, ord, axis, keepdims)


@returns_ndarrays
def svd(
    a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> ndarray | tuple[ndarray, ndarray, ndarray]:
    """numpy.linalg.svd: (U, S, Vh) with a = U @ diag(S) @ Vh (S only when compute_uv=False).
    hermitian=True computes the ordinary SVD (the same S; vectors may differ in sign from
    NumPy's, which are only defined up to sign anyway). Gradient: see chainrule.linalg.svd."""
    tensor = _floating("svd", a)
    if not compute_uv:
        return dec.svdvals(tensor)
    return dec.svd(tensor, full_matrices=full_matrices)


@returns_ndarrays
def svdvals(x: ArrayLike, /) -> ndarray:
    """numpy.linalg.svdvals: the singular values, descending."""
    return dec.svdvals(_floating("svdvals", x))


@returns_ndarrays
def eigh(a: ArrayLike, UPLO: Literal["L", "U"] = "L") -> tuple[ndarray, ndarray]:  # noqa: N803
    """numpy.linalg.eigh: (eigenvalues, eigenvectors) of a symmetric matrix, ascending; only
    the UPLO triangle is read."""
    return dec.eigh(_floating("eigh", a), UPLO=UPLO)


@returns_ndarrays
def eigvalsh(a: ArrayLike, UPLO: Literal["L", "U"] = "L") -> ndarray:  # noqa: N803
    """numpy.linalg.eigvalsh: the eigenvalues of a symmetric matrix, ascending."""
    return dec.eigvalsh(_floating("eigvalsh", a), UPLO=UPLO)


@returns_ndarrays
def qr(
    a: ArrayLike, mode: Literal["reduced", "complete", "r"] = "reduced"
) -> ndarray | tuple[ndarray, ndarray]:
    """numpy.linalg.qr: (Q, R) for mode 'reduced' or 'complete'; R alone for mode='r', as
    NumPy ('raw' is not supported)."""
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: Unrecognized mode {mode!r} (chainrule has no 'raw')")
    result = dec.qr(_floating("qr", a), mode=mode)
    return result.R if mode == "r" else result


@returns_ndarrays
def pinv(
    a: ArrayLike,
    rcond: ArrayLike | None = None,
    hermitian: bool = False,
    *,
    rtol: ArrayLike | None = None,
) -> ndarray:
    """numpy.linalg.pinv: singular values at or below rcond (or rtol) times the largest count
    as zero; the default is eps * max(M, N), as NumPy 2."""
    if rcond is not None and rtol is not None:
        raise ValueError("linalg.pinv: `rtol` and `rcond` can't be both set.")
    tolerance = rtol if rcond is None else rcond
    return dec.pinv(_floating("pinv", a), rtol=tolerance, hermitian=hermitian)


@returns_ndarrays
def lstsq(
    a: ArrayLike, b: ArrayLike, rcond: float | None = None
) -> tuple[ndarray, ndarray, ndarray, ndarray]:
    """numpy.linalg.lstsq: (x, residuals, rank, s) for one matrix a: residuals the squared
    residual of each column of b (empty unless a is tall and of full rank), rank (int32), s the
    singular values. rcond defaults to eps * max(M, N), as NumPy 2."""
    x, y = promoted(_floating("lstsq", a), b, name="linalg.lstsq")
    if x.ndim != 2:
        raise LinAlgError(
            f"linalg.lstsq: {x.ndim}-dimensional array given. Array must be two-dimensional"
        )
    result = dec.lstsq(x, y, rcond, driver="gelsd")
    rank = as_dtype(result.rank, np.int32, "linalg.lstsq")  # NumPy's rank is an int32
    return result.solution, result.residuals, rank, result.singular_values


@returns_ndarrays
def matrix_rank(
    A: ArrayLike,  # noqa: N803 - NumPy's name
    tol: ArrayLike | None = None,
    hermitian: bool = False,
    *,
    rtol: ArrayLike | None = None,
) -> ndarray:
    """numpy.linalg.matrix_rank: the number of singular values above tol (absolute), or rtol
    times the largest (default eps * max(M, N)); a vector's rank is 1 unless it is all zero."""
    tensor = _floating("matrix_rank", A)
    if tensor.ndim < 2:
        return (tensor != 0).any().long()
    return dec.matrix_rank(tensor, atol=tol, rtol=rtol, hermitian=hermitian)


@returns_ndarrays
def cond(x: ArrayLike, p: float | str | None = None) -> ndarray:
    """numpy.linalg.cond: the condition number in the matrix norm p (None: 2-norm)."""
    return dec.cond(_floating("cond", x), p)


@returns_ndarrays
def matrix_norm(
    x: ArrayLike,
    /,
    *,
    keepdims: bool = False,
    ord: float | str = "fro",  # noqa: A002 - NumPy's name
) -> ndarray:
    """numpy.linalg.matrix_norm: every matrix norm ('fro', 'nuc', 1, -1, 2, -2, inf, -inf)
    over the last two axes."""
    return dec.matrix_norm(_floating("matrix_norm", x), ord, (-2, -1), keepdims)


@returns_ndarrays
def matrix_power(a: ArrayLike, n: int) -> ndarray:
    """numpy.linalg.matrix_power: a @ a @ ... (n times; inverse powers for n < 0)."""
    return la.matrix_power(tensor_of(a, "linalg.matrix_power"), n)


@returns_ndarrays
def multi_dot(arrays: Sequence[ArrayLike], *, out: None = None) -> ndarray:
    """numpy.linalg.multi_dot: the product of a chain of matrices."""
    return la.multi_dot(promoted(*arrays, name="linalg.multi_dot"))


__all__ = [
    "LinAlgError",
    "cholesky",
    "cond",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
]
