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

from typing import TYPE_CHECKING as _TYPE_CHECKING

import numpy as _np

import chainrule.ops.decompositions as _dec
import chainrule.ops.linalg as _la
import chainrule.ops.shape as _shp
from chainrule._tensor import Tensor
from chainrule.errors import LinAlgError
from chainrule.numpy._core import as_dtype, promoted, tensor_of, unsupported
from chainrule.numpy._ndarray import returns_ndarrays

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from collections.abc import Sequence
    from typing import Literal

    from chainrule.numpy._typing import ArrayLike, ndarray


def _floating(name: str, a: ArrayLike) -> Tensor:
    """The operand in float64 when it is an integer or bool array, as numpy.linalg computes."""
    x = tensor_of(a, f"linalg.{name}")
    if not x.dtype.is_floating_point and not x.dtype.is_complex:
        return as_dtype(x, _np.float64, f"linalg.{name}")
    return x


@returns_ndarrays
def inv(a: ArrayLike) -> ndarray:
    """numpy.linalg.inv: the inverse of each matrix; LinAlgError when one is singular.
    Gradient: -inv(a).T @ g @ inv(a).T.

    Args:
        a (ArrayLike): a square a matrix, or a stack of matrices in the last two axes.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.inv([[2.0, 0.0], [0.0, 4.0]])
        array([[0.5 , 0.  ],
               [0.  , 0.25]])
    """
    return _la.inv(_floating("inv", a))


@returns_ndarrays
def det(a: ArrayLike) -> ndarray:
    """numpy.linalg.det: the determinant of each matrix. Gradient: det(a) * inv(a).T, the
    cofactors (through the SVD at a singular matrix, as PyTorch).

    Args:
        a (ArrayLike): a square a matrix, or a stack of matrices in the last two axes.

    Example:
        >>> import numpy as np
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.det([[2.0, 1.0], [1.0, 3.0]])
        array(5.)
        >>> from chainrule.func import grad
        >>> grad(cnp.linalg.det)(np.array([[2.0, 1.0], [1.0, 3.0]]))
        array([[ 3., -1.],
               [-1.,  2.]])
    """
    return _dec.det(_floating("det", a))


@returns_ndarrays
def slogdet(a: ArrayLike) -> tuple[ndarray, ndarray]:
    """numpy.linalg.slogdet: (sign, logabsdet), differentiable in logabsdet.

    Args:
        a (ArrayLike): a square a matrix, or a stack of matrices in the last two axes.

    Example:
        >>> import chainrule.numpy as cnp
        >>> sign, logabsdet = cnp.linalg.slogdet([[-2.0, 0.0], [0.0, 3.0]])
        >>> sign, logabsdet
        (array(-1.), array(1.79175947))
    """
    return _la.slogdet(_floating("slogdet", a))


@returns_ndarrays
def solve(a: ArrayLike, b: ArrayLike) -> ndarray:
    """numpy.linalg.solve: x with a @ x = b (b a vector only when 1-D, as in NumPy 2).

    Args:
        a (ArrayLike): the square coefficient a matrix, or a stack of matrices in the last two axes.
        b (ArrayLike): the right-hand side: a vector when 1-D, else a (stack of) matrix.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.solve([[2.0, 0.0], [0.0, 4.0]], [1.0, 1.0])
        array([0.5 , 0.25])
    """
    x, y = promoted(_floating("solve", a), b, name="linalg.solve")
    if y.ndim == 1:
        return _la.solve(x, y)
    batch = _shp.broadcast_shapes(tuple(x.shape[:-2]), tuple(y.shape[:-2]))
    x = _shp.broadcast_to(x, batch + tuple(x.shape[-2:]))
    y = _shp.broadcast_to(y, batch + tuple(y.shape[-2:]))
    return _la.solve(x, y)


@returns_ndarrays
def cholesky(a: ArrayLike, /, *, upper: bool = False) -> ndarray:
    """numpy.linalg.cholesky: the lower (or upper) triangular factor L with a = L @ L.T.

    Args:
        a (ArrayLike): a symmetric (Hermitian) positive-definite a matrix, or a stack of matrices in
            the last two axes.
        upper (bool, optional): return the upper factor U with a = U.T @ U instead.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.cholesky([[4.0, 2.0], [2.0, 5.0]])
        array([[2., 0.],
               [1., 2.]])
    """
    return _la.cholesky(_floating("cholesky", a), upper=upper)


@returns_ndarrays
def norm(
    x: ArrayLike,
    ord: float | str | None = None,  # noqa: A002 - NumPy's name
    axis: int | tuple[int, int] | None = None,
    keepdims: bool = False,
) -> ndarray:
    """numpy.linalg.norm: the 2-norm of the flattened array by default; a vector norm along an
    int `axis`; a matrix norm ('fro', 'nuc', 1, -1, 2, -2, inf, -inf) over a pair of axes.
    Gradient of the 2-norm at zero: 0 (PyTorch's convention).

    Args:
        x (ArrayLike): the input array.
        ord (float | str, optional): the order of the norm: for vectors a number (inf, -inf, 0
            included), for matrices 'fro', 'nuc', 1, -1, 2, -2, inf, -inf; None is the 2-norm
            (Frobenius for matrices).
        axis (int | tuple[int, int], optional): an int for vector norms along it, a pair for matrix
            norms over it; None: the whole array (a vector or matrix norm by its dimensions).
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.norm([3.0, 4.0])
        array(5.)
        >>> cnp.linalg.norm([[1.0, 2.0], [3.0, 4.0]], ord=1)
        array(6.)
        >>> cnp.linalg.norm([[3.0, 4.0], [6.0, 8.0]], axis=1)
        array([ 5., 10.])
    """
    tensor = _floating("norm", x)
    if isinstance(axis, (list, tuple)):
        axis = tuple(int(a) for a in axis)
    return _dec.norm(tensor, ord, axis, keepdims)


@returns_ndarrays
def svd(
    a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> ndarray | tuple[ndarray, ndarray, ndarray]:
    """numpy.linalg.svd: (U, S, Vh) with a = U @ diag(S) @ Vh (S only when compute_uv=False).
    hermitian=True computes the ordinary SVD (the same S; vectors may differ in sign from
    NumPy's, which are only defined up to sign anyway). Gradient: see chainrule.linalg.svd.

    Args:
        a (ArrayLike): a matrix, or a stack of matrices in the last two axes.
        full_matrices (bool, optional): U and Vh square (else reduced to the smaller side).
        compute_uv (bool, optional): return U and Vh too (else S alone).
        hermitian (bool, optional): accepted; the ordinary SVD is computed.

    Example:
        >>> import chainrule.numpy as cnp
        >>> u, s, vh = cnp.linalg.svd([[3.0, 0.0], [0.0, -2.0]])
        >>> s
        array([3., 2.])
        >>> cnp.linalg.svd(cnp.ones((3, 2)), compute_uv=False)
        array([2.44948974e+00, 2.21534718e-17])
    """
    tensor = _floating("svd", a)
    if not compute_uv:
        return _dec.svdvals(tensor)
    return _dec.svd(tensor, full_matrices=full_matrices)


@returns_ndarrays
def svdvals(x: ArrayLike, /) -> ndarray:
    """numpy.linalg.svdvals: the singular values, descending.

    Args:
        x (ArrayLike): a matrix, or a stack of matrices in the last two axes.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.svdvals([[3.0, 0.0], [0.0, -2.0]])
        array([3., 2.])
    """
    return _dec.svdvals(_floating("svdvals", x))


@returns_ndarrays
def eigh(a: ArrayLike, UPLO: Literal["L", "U"] = "L") -> tuple[ndarray, ndarray]:  # noqa: N803
    """numpy.linalg.eigh: (eigenvalues, eigenvectors) of a symmetric matrix, ascending; only
    the UPLO triangle is read.

    Args:
        a (ArrayLike): a symmetric (Hermitian) a matrix, or a stack of matrices in the last two
            axes.
        UPLO (Literal['L', 'U'], optional): which triangle to read: 'L' (lower) or 'U' (upper).

    Example:
        >>> import chainrule.numpy as cnp
        >>> values, vectors = cnp.linalg.eigh([[2.0, 1.0], [1.0, 2.0]])
        >>> values
        array([1., 3.])
    """
    return _dec.eigh(_floating("eigh", a), UPLO=UPLO)


@returns_ndarrays
def eigvalsh(a: ArrayLike, UPLO: Literal["L", "U"] = "L") -> ndarray:  # noqa: N803
    """numpy.linalg.eigvalsh: the eigenvalues of a symmetric matrix, ascending.

    Args:
        a (ArrayLike): a symmetric (Hermitian) a matrix, or a stack of matrices in the last two
            axes.
        UPLO (Literal['L', 'U'], optional): which triangle to read: 'L' (lower) or 'U' (upper).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.eigvalsh([[2.0, 1.0], [1.0, 2.0]])
        array([1., 3.])
    """
    return _dec.eigvalsh(_floating("eigvalsh", a), UPLO=UPLO)


@returns_ndarrays
def qr(
    a: ArrayLike, mode: Literal["reduced", "complete", "r"] = "reduced"
) -> ndarray | tuple[ndarray, ndarray]:
    """numpy.linalg.qr: (Q, R) for mode 'reduced' or 'complete'; R alone for mode='r', as
    NumPy ('raw' is not supported).

    Args:
        a (ArrayLike): a matrix, or a stack of matrices in the last two axes.
        mode (Literal['reduced', 'complete', 'r'], optional): 'reduced' (Q with min(M, N) columns),
            'complete' (Q square) or 'r' (R alone).

    Example:
        >>> import chainrule.numpy as cnp
        >>> q, r = cnp.linalg.qr([[3.0, 1.0], [4.0, 2.0]])
        >>> cnp.allclose(q @ r, [[3.0, 1.0], [4.0, 2.0]])
        True
    """
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: Unrecognized mode {mode!r} (chainrule has no 'raw')")
    result = _dec.qr(_floating("qr", a), mode=mode)
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
    as zero; the default is eps * max(M, N), as NumPy 2.

    Args:
        a (ArrayLike): a matrix, or a stack of matrices in the last two axes.
        rcond (ArrayLike, optional): singular values at or below rcond times the largest count as
            zero.
        hermitian (bool, optional): a is symmetric (Hermitian): computed through its eigenvalues.
        rtol (ArrayLike, optional): NumPy 2's name for rcond.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.pinv([[1.0, 0.0], [0.0, 0.0]])
        array([[1., 0.],
               [0., 0.]])
    """
    if rcond is not None and rtol is not None:
        raise ValueError("linalg.pinv: `rtol` and `rcond` can't be both set.")
    tolerance = rtol if rcond is None else rcond
    return _dec.pinv(_floating("pinv", a), rtol=tolerance, hermitian=hermitian)


@returns_ndarrays
def lstsq(
    a: ArrayLike, b: ArrayLike, rcond: float | None = None
) -> tuple[ndarray, ndarray, ndarray, ndarray]:
    """numpy.linalg.lstsq: (x, residuals, rank, s) for one matrix a: residuals the squared
    residual of each column of b (empty unless a is tall and of full rank), rank (int32), s the
    singular values. rcond defaults to eps * max(M, N), as NumPy 2.

    Args:
        a (ArrayLike): the (M, N) coefficient matrix.
        b (ArrayLike): the right-hand side, (M,) or (M, K).
        rcond (float, optional): singular values at or below rcond times the largest count as zero.

    Example:
        >>> import chainrule.numpy as cnp
        >>> a = [[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
        >>> x, residuals, rank, s = cnp.linalg.lstsq(a, [1.0, 2.0, 4.0])
        >>> x
        array([0.83333333, 1.5       ])
        >>> residuals, rank
        (array([0.16666667]), array(2, dtype=int32))
    """
    x, y = promoted(_floating("lstsq", a), b, name="linalg.lstsq")
    if x.ndim != 2:
        raise LinAlgError(
            f"linalg.lstsq: {x.ndim}-dimensional array given. Array must be two-dimensional"
        )
    result = _dec.lstsq(x, y, rcond, driver="gelsd")
    rank = as_dtype(result.rank, _np.int32, "linalg.lstsq")  # NumPy's rank is an int32
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
    times the largest (default eps * max(M, N)); a vector's rank is 1 unless it is all zero.

    Args:
        A (ArrayLike): a matrix, a stack of matrices, or a vector.
        tol (ArrayLike, optional): the absolute threshold for singular values.
        hermitian (bool, optional): A is symmetric (Hermitian).
        rtol (ArrayLike, optional): the threshold relative to the largest singular value.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.matrix_rank([[1.0, 2.0], [2.0, 4.0]])
        array(1)
    """
    tensor = _floating("matrix_rank", A)
    if tensor.ndim < 2:
        return (tensor != 0).any().long()
    return _dec.matrix_rank(tensor, atol=tol, rtol=rtol, hermitian=hermitian)


@returns_ndarrays
def cond(x: ArrayLike, p: float | str | None = None) -> ndarray:
    """numpy.linalg.cond: the condition number in the matrix norm p (None: 2-norm).

    Args:
        x (ArrayLike): a matrix, or a stack of matrices in the last two axes.
        p (float | str, optional): the matrix norm ('fro', 'nuc', 1, -1, 2, -2, inf, -inf); None is
            the 2-norm.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.cond([[2.0, 0.0], [0.0, 0.5]])
        array(4.)
    """
    return _dec.cond(_floating("cond", x), p)


@returns_ndarrays
def matrix_norm(
    x: ArrayLike,
    /,
    *,
    keepdims: bool = False,
    ord: float | str = "fro",  # noqa: A002 - NumPy's name
) -> ndarray:
    """numpy.linalg.matrix_norm: every matrix norm ('fro', 'nuc', 1, -1, 2, -2, inf, -inf)
    over the last two axes.

    Args:
        x (ArrayLike): a matrix, or a stack of matrices in the last two axes.
        keepdims (bool, optional): keep the reduced axes in the result, with size 1.
        ord (float | str, optional): 'fro', 'nuc', 1, -1, 2, -2, inf or -inf.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.matrix_norm([[1.0, 2.0], [3.0, 4.0]], ord='nuc')
        array(5.83095189)
    """
    return _dec.matrix_norm(_floating("matrix_norm", x), ord, (-2, -1), keepdims)


@returns_ndarrays
def matrix_power(a: ArrayLike, n: int) -> ndarray:
    """numpy.linalg.matrix_power: a @ a @ ... (n times; inverse powers for n < 0).

    Args:
        a (ArrayLike): a square a matrix, or a stack of matrices in the last two axes.
        n (int): the power (negative: of the inverse; 0: the identity).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.matrix_power([[1, 1], [0, 1]], 3)
        array([[1, 3],
               [0, 1]])
    """
    return _la.matrix_power(tensor_of(a, "linalg.matrix_power"), n)


@returns_ndarrays
def multi_dot(arrays: Sequence[ArrayLike], *, out: None = None) -> ndarray:
    """numpy.linalg.multi_dot: the product of a chain of matrices.

    Args:
        arrays (Sequence[ArrayLike]): the matrices to multiply (the first and last may be vectors).
        out (None, optional): not supported; must be None (results are new arrays).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.linalg.multi_dot([cnp.eye(2), [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]])
        array([3., 7.])
    """
    unsupported("linalg.multi_dot", out=out)
    return _la.multi_dot(promoted(*arrays, name="linalg.multi_dot"))


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
