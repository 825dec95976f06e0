"""Linear algebra composed of the decompositions: torch.linalg's vander, householder_product,
tensorinv, tensorsolve and solve_ex, and PyTorch's top-level spellings, older than
torch.linalg and still common in programs (torch.cholesky, torch.qr, torch.svd, torch.lu,
torch.lu_solve, torch.lu_unpack, torch.triangular_solve, torch.cholesky_solve,
torch.cholesky_inverse, torch.pinverse, torch.matrix_exp, torch.nuclear_norm,
torch.frobenius_norm, torch.vander, torch.orgqr). Each is a composition of differentiable ops,
so its derivatives are theirs, to every order.

>>> import chainrule
>>> L = chainrule.tensor([[2.0, 0.0], [1.0, 1.0]])
>>> chainrule.cholesky_inverse(L) @ (L @ L.T)
tensor([[1., 0.],
        [0., 1.]])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from chainrule.backend import dtypes
from chainrule.errors import (
    ArgumentAssertionError,
    DomainError,
    DTypeError,
    LinAlgError,
    ShapeError,
    warn_once,
)
from chainrule.ops import reduction
from chainrule.ops.arguments import return_type
from chainrule.ops.autocast import FLOAT32, autocast_policy
from chainrule.ops.complex import conj
from chainrule.ops.conversion import write_outs
from chainrule.ops.creation import eye, ones_like, randn, zeros
from chainrule.ops.decompositions import (
    _raise_for_info,
    _unpack,
    lu_factor_ex,
    matrix_exp,
    matrix_norm,
    pinv,
)
from chainrule.ops.decompositions import eigh as linalg_eigh
from chainrule.ops.decompositions import (
    lu_solve as linalg_lu_solve,
)
from chainrule.ops.decompositions import (
    qr as linalg_qr,
)
from chainrule.ops.decompositions import (
    svd as linalg_svd,
)
from chainrule.ops.linalg import cholesky as linalg_cholesky
from chainrule.ops.linalg import inv, solve_triangular, tril, triu
from chainrule.ops.linalg import solve as linalg_solve
from chainrule.ops.op import NoDerivative, Op, apply, named
from chainrule.ops.reduction import cumprod, vector_norm
from chainrule.ops.shape import broadcast_shapes, cat, expand, flip, movedim, reshape, unsqueeze

if TYPE_CHECKING:
    from chainrule._tensor import Tensor
    from chainrule.autograd.node import Node
    from chainrule.backend import Array


QrResult = return_type("qr", ("Q", "R"))
SvdResult = return_type("svd", ("U", "S", "V"))
LuUnpackResult = return_type("lu_unpack", ("P", "L", "U"))
TriangularSolveResult = return_type("triangular_solve", ("solution", "cloned_coefficient"))
SolveExResult = return_type("linalg_solve_ex", ("result", "info"))
GeqrfResult = return_type("geqrf", ("a", "tau"))

__all__ = [
    "geqrf",
    "ormqr",
    "cholesky",
    "cholesky_inverse",
    "cholesky_solve",
    "eig",
    "lstsq",
    "matrix_rank",
    "solve",
    "symeig",
    "frobenius_norm",
    "lobpcg",
    "lu",
    "lu_solve",
    "lu_unpack",
    "matrix_exp",
    "norm",
    "nuclear_norm",
    "orgqr",
    "pca_lowrank",
    "pinverse",
    "qr",
    "svd",
    "svd_lowrank",
    "triangular_solve",
    "vander",
]


def _mH(x: Any) -> Any:  # noqa: N802 - PyTorch's spelling of a batched conjugate transpose
    return conj(x.transpose(-2, -1))


# ---- torch.linalg -----------------------------------------------------------------------------


def _vander_operand(x: Tensor) -> Tensor:
    """x, with integers widened to int64 (as PyTorch); bool is refused."""
    if x.dtype is dtypes.bool_:
        raise DTypeError(
            "linalg.vander supports floating point, complex, and integer tensors, but got Bool"
        )
    if x.dtype.is_floating_point or x.is_complex():
        return x
    return x.to(dtypes.int64)


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of increasing powers: element (..., i, j) is x[..., i] ** j for
    j < N (N = x.shape[-1] by default). Built by cumulative products, so its derivative is
    exact at x = 0 too.

    Args:
        x (Tensor): (*, n).
        N (int, optional): the number of columns, at least 2 (default n).

    Returns:
        Tensor: (*, n, N), of x's dtype.

    Example:
        >>> import chainrule
        >>> chainrule.linalg.vander(chainrule.tensor([1.0, 2.0, 3.0]))
        tensor([[1., 1., 1.],
                [1., 2., 4.],
                [1., 3., 9.]])
    """
    if x.ndim < 1:
        raise ShapeError("linalg.vander: x must have at least one dimension (got a 0-d tensor)")
    x = _vander_operand(x)
    columns = x.shape[-1] if N is None else N
    if columns <= 1:  # PyTorch's check, N = 1 included
        raise DomainError(f"linalg.vander: N must be greater than 1, got {columns}")
    column = unsqueeze(x, -1)
    first = ones_like(column)
    if columns == 1:
        return first
    powers = cumprod(expand(column, (*x.shape, columns - 1)), -1)
    return cat((first, powers), -1)


def householder_product(
    A: Tensor,  # noqa: N803
    tau: Tensor,
    *,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^H, where v_i is column
    i of A below the diagonal with a 1 on it (LAPACK's orgqr/ungqr: Q from geqrf's output).
    A product of k rank-one updates, differentiable in A and tau.

    Args:
        A (Tensor): (*, m, n) with m >= n: the Householder vectors below the diagonal.
        tau (Tensor): (*, k) with k <= n: the scales.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*, m, n).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[0.0], [1.0]])
        >>> chainrule.linalg.householder_product(A, chainrule.tensor([1.0]))
        tensor([[ 0.],
                [-1.]])
    """
    if out is not None:
        return write_outs("linalg.householder_product", householder_product(A, tau=tau), out)
    if A.ndim < 2 or tau.ndim < 1:
        raise ShapeError(
            f"linalg.householder_product: A must have at least 2 dimensions and tau at least 1 "
            f"(A shape {tuple(A.shape)}, tau shape {tuple(tau.shape)})"
        )
    m, n, k = A.shape[-2], A.shape[-1], tau.shape[-1]
    if m < n or k > n or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise ShapeError(
            f"linalg.householder_product: expected A (*, m, n) with m >= n and tau (*, k) with "
            f"k <= n and the same batch (A shape {tuple(A.shape)}, tau shape {tuple(tau.shape)})"
        )
    if A.dtype is not tau.dtype:
        raise DTypeError(
            f"linalg.householder_product: tau dtype {tau.dtype.name} does not match input "
            f"dtype {A.dtype.name}"
        )
    identity = eye(m, dtype=A.dtype, device=A.device)
    q = expand(identity, (*A.shape[:-2], m, m))
    for i in range(k):
        below = A[..., i + 1 :, i : i + 1]
        head = zeros((*A.shape[:-2], i, 1), dtype=A.dtype, device=A.device)
        one = ones_like(A[..., :1, :1])
        v = cat((head, one, below), -2)  # (*, m, 1)
        q = q - (q @ v) * unsqueeze(tau[..., i : i + 1], -2) @ _mH(v)
    return named(q[..., :n], "LinalgHouseholderProductBackward0")


def tensorinv(A: Tensor, ind: int = 2, *, out: Tensor | Sequence[Tensor] | None = None) -> Tensor:  # noqa: N803
    """The inverse of A for `tensordot(.., ind)`: A's first `ind` dimensions against the rest,
    as one square matrix, inverted, reshaped to A.shape[ind:] + A.shape[:ind].

    Args:
        A (Tensor): with prod(A.shape[:ind]) == prod(A.shape[ind:]).
        ind (int): how many leading dimensions form the rows, at least 1.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: of shape A.shape[ind:] + A.shape[:ind].

    Example:
        >>> import chainrule
        >>> A = chainrule.eye(4).reshape(4, 2, 2)
        >>> chainrule.linalg.tensorinv(A, ind=1).shape
        chainrule.Size([2, 2, 4])
    """
    if out is not None:
        return write_outs("linalg.tensorinv", tensorinv(A, ind=ind), out)
    if ind <= 0:
        raise DomainError(
            f"linalg.tensorinv: Expected a strictly positive integer for 'ind', got {ind}"
        )
    rows, columns = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(rows) != math.prod(columns):
        raise ShapeError(
            f"linalg.tensorinv: Expected self to satisfy the requirement "
            f"prod(self.shape[ind:]) == prod(self.shape[:ind]), but got {math.prod(columns)} "
            f"!= {math.prod(rows)} (shape {tuple(A.shape)}, ind {ind})"
        )
    square = reshape(A, (math.prod(rows), math.prod(columns)))
    return reshape(inv(square), columns + rows)


def tensorsolve(
    A: Tensor,  # noqa: N803
    B: Tensor,  # noqa: N803
    dims: Sequence[int] | None = None,
    *,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B: A's leading B.ndim dimensions against the rest, as
    one square system (after moving `dims` of A to the end); only the sizes' products must
    agree, as in PyTorch.

    Args:
        A (Tensor): X's shape after B.ndim leading dims, with prod(B.shape) == prod(X.shape).
        B (Tensor): the right-hand side.
        dims (list of int, optional): dimensions of A moved to the end first.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: X, of shape A.shape[B.ndim:].

    Example:
        >>> import chainrule
        >>> A = (2 * chainrule.eye(6)).reshape(2, 3, 6)
        >>> chainrule.linalg.tensorsolve(A, chainrule.ones(2, 3)).shape
        chainrule.Size([6])
    """
    if out is not None:
        return write_outs("linalg.tensorsolve", tensorsolve(A, B=B, dims=dims), out)
    if dims is not None:
        dims = list(dims)
        A = movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))  # noqa: N806
    result_shape = tuple(A.shape[B.ndim :])
    rows = math.prod(B.shape)
    if rows != math.prod(result_shape):
        raise ShapeError(
            f"linalg.tensorsolve: Expected self to satisfy the requirement "
            f"prod(result_shape) == prod(B.shape) (A shape {tuple(A.shape)}, B shape "
            f"{tuple(B.shape)})"
        )
    solution = linalg_solve(reshape(A, (rows, rows)), reshape(B, (rows,)))
    return reshape(solution, result_shape)


def solve_ex(
    A: Tensor,  # noqa: N803
    B: Tensor,  # noqa: N803
    *,
    left: bool = True,
    check_errors: bool = False,
    out: Tensor | Sequence[Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """linalg.solve that reports singular matrices instead of raising: (result, info), info
    (int32, per matrix) 0 on success or the position of LU's first zero pivot (result then
    holds what the solve gives: infinities or nans).

    Args:
        A (Tensor): floating point (*, n, n).
        B (Tensor): (*, n, k) or (*, n), as linalg.solve takes it.
        left (bool): solve A X = B (True) or X A = B.
        check_errors (bool): raise LinAlgError where info is not 0.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (result, info).

    Example:
        >>> import chainrule
        >>> result, info = chainrule.linalg.solve_ex(2 * chainrule.eye(2), chainrule.ones(2))
        >>> result, info
        (tensor([0.5000, 0.5000]), tensor(0, dtype=chainrule.int32))
    """
    if out is not None:
        return write_outs(
            "linalg.solve_ex", solve_ex(A, B=B, left=left, check_errors=check_errors), out
        )
    packed, pivots, info = lu_factor_ex(A)
    if check_errors:  # PyTorch's words, naming the first singular matrix of a batch
        _raise_for_info(
            "linalg.solve_ex", info, "The solver failed because the input matrix is singular."
        )
    try:  # the plain solve: no branch on info's values, so vmap maps it
        return SolveExResult(linalg_solve(A, B, left=left), info)
    except LinAlgError:  # a singular matrix: what its LU gives (infinities, nans)
        vector = B.ndim == 1 or tuple(B.shape) == tuple(A.shape[:-1])
        rhs = unsqueeze(B, -1 if left else -2) if vector else B
        result = linalg_lu_solve(packed, pivots, rhs, left=left)
        return SolveExResult(result.squeeze(-1 if left else -2) if vector else result, info)


class Geqrf(NoDerivative):
    """LAPACK's geqrf: the QR factorization as Householder reflectors (below the diagonal of
    `a`, R on and above it) and their scales `tau`. No derivative, as PyTorch."""

    aten = "geqrf"
    listed = True

    @staticmethod
    def forward(ctx: Any, a: Any) -> tuple:
        xp = ctx.xp
        h, tau = xp.linalg.qr(a, mode="raw")  # h is the transpose LAPACK's Fortran writes
        return xp.ascontiguousarray(xp.swapaxes(h, -1, -2)), tau


def geqrf(input: Tensor) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The QR factorization in LAPACK's packed form (`torch.geqrf`): R on and above the
    diagonal of `a`, the Householder vectors below it, their scales in `tau`;
    `linalg.householder_product(a, tau)` rebuilds Q. Not differentiable.

    Args:
        input (Tensor): floating point (*, m, n).

    Returns:
        (Tensor, Tensor): a named tuple (a, tau), tau of shape (*, min(m, n)).

    Example:
        >>> import chainrule
        >>> a, tau = chainrule.geqrf(chainrule.tensor([[3.0], [4.0]]))
        >>> a[0].abs(), tau.shape
        (tensor([5.]), chainrule.Size([1]))
    """
    if input.ndim < 2 or not (input.dtype.is_floating_point or input.is_complex()):
        raise ShapeError(
            f"geqrf: input must have at least 2 dimensions and a floating dtype (shape "
            f"{tuple(input.shape)}, dtype {input.dtype.name})"
        )
    packed, tau = apply(Geqrf, (input,))
    return GeqrfResult(packed, tau)


def ormqr(
    input: Tensor,  # noqa: A002
    tau: Tensor,
    other: Tensor,
    left: bool = True,
    transpose: bool = False,
) -> Tensor:
    """`other` multiplied by the Q of a geqrf factorization (`torch.ormqr`): Q other, Q^H
    other, other Q or other Q^H. Q is rebuilt by `householder_product` from the reflectors
    (padded to a square), so the product is differentiable in all three.

    Args:
        input (Tensor): (*, mn, k), the reflectors below the diagonal (from geqrf).
        tau (Tensor): (*, min(mn, k)), their scales.
        other (Tensor): (*, m, n); mn is m when `left`, else n.
        left (bool): multiply from the left.
        transpose (bool): multiply by Q^H (the conjugate transpose).

    Returns:
        Tensor: other's shape.

    Example:
        >>> import chainrule
        >>> a, tau = chainrule.geqrf(chainrule.tensor([[3.0, 1.0], [4.0, 2.0]]))
        >>> q = chainrule.ormqr(a, tau, chainrule.eye(2))
        >>> bool(chainrule.allclose(q @ q.T, chainrule.eye(2), atol=1e-6))
        True
    """
    _check_ormqr_shapes(input, tau, other, left)
    size = input.shape[-2]
    k = tau.shape[-1]
    reflectors = input[..., :k]
    padding = zeros((*input.shape[:-2], size, size - k), dtype=input.dtype, device=input.device)
    q = householder_product(cat((reflectors, padding), -1), tau)
    q = _mH(q) if transpose else q
    return named(q @ other if left else other @ q, "OrmqrBackward0")


def _check_ormqr_shapes(input: Tensor, tau: Tensor, other: Tensor, left: bool) -> None:  # noqa: A002
    """PyTorch's checks, in its order: tau has one scale per reflector used (as many as
    min(other's multiplied size, input's columns), not fewer) and one dimension less than
    input, and other input's number of dimensions."""
    if input.ndim < 2:
        raise ShapeError("torch.ormqr: input must have at least 2 dimensions.")
    if other.ndim < 2:
        raise ShapeError("torch.ormqr: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise ShapeError(
            f"torch.ormqr: other.shape[{side}] must be equal to input.shape[-2] (input shape "
            f"{tuple(input.shape)}, other shape {tuple(other.shape)})"
        )
    if tau.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if tau.shape[-1] != min(other.shape[side], input.shape[-1]):
        raise ShapeError(
            f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape[{side}], "
            f"input.shape[-1]) (input shape {tuple(input.shape)}, tau shape "
            f"{tuple(tau.shape)}, other shape {tuple(other.shape)})"
        )
    if input.ndim - tau.ndim != 1:
        raise ShapeError(
            "torch.ormqr: Expected tau to have one dimension less than input, but got tau.ndim "
            f"equal to {tau.ndim} and input.ndim is equal to {input.ndim}"
        )
    if input.ndim != other.ndim:
        raise ShapeError(
            "torch.ormqr: Expected other to have the same number of dimensions as input, but "
            f"got other.ndim equal to {other.ndim} and input.ndim is equal to {input.ndim}"
        )


# ---- PyTorch's top-level spellings ------------------------------------------------------------

# PyTorch 2.13 still runs these older spellings but warns once per process (TORCH_WARN_ONCE)
# that they will go, naming the replacement; the method spellings share the warning.
_DEPRECATED = {
    "cholesky": "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
    "removed in a future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = "
    "torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\nshould be replaced "
    "with\nU = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent results for "
    "all valid (symmetric positive definite) inputs.",
    "qr": "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future "
    "PyTorch release.\nThe boolean parameter 'some' has been replaced with a string parameter "
    "'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, "
    "'reduced' if some else 'complete')",
    "lu": "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex "
    "and will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)"
    "\nshould be replaced with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
    "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\n"
    "LU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)",
    "lu_solve": "torch.lu_solve is deprecated in favor of torch.linalg.lu_solve and will be "
    "removed in a future PyTorch release.\nNote that torch.linalg.lu_solve has its arguments "
    "reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = "
    "torch.linalg.lu_solve(LU, pivots, B)",
    "triangular_solve": "torch.triangular_solve is deprecated in favor of "
    "torch.linalg.solve_triangular and will be removed in a future PyTorch release.\n"
    "torch.linalg.solve_triangular has its arguments reversed and does not return a copy of one "
    "of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced with\nX = "
    "torch.linalg.solve_triangular(A, B).",
}

# Removed in PyTorch 1.9+ but still defined, raising RuntimeError with the replacement.
_REMOVED = "This function was deprecated since version 1.9 and is now removed."
_REMOVED_ADVICE = {
    "symeig": "The default behavior has changed from using the upper triangular portion of the "
    "matrix by default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, "
    "upper=upper) should be replaced with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else "
    "'L')\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) should be replaced with:\nL, V = "
    "torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
    "eig": "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than "
    "real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\n"
    "L_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) "
    "should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)",
    "lstsq": "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` "
    "has reversed arguments and does not return the QR decomposition in the returned tuple "
    "(although it returns other information about the problem).\n\nTo get the QR "
    "decomposition consider using `torch.linalg.qr`.\n\nThe returned solution in "
    "`torch.lstsq` stored the residuals of the solution in the last m - n columns of the "
    "returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field "
    "'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = "
    "torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\nX = "
    "torch.linalg.lstsq(A, B).solution",
    "solve": "`torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` "
    "has its arguments reversed and does not return the LU factorization.\n\nTo get the LU "
    "factorization see `torch.lu`, which can be used with `torch.lu_solve` or "
    "`torch.lu_unpack`.\nX = torch.solve(B, A).solution should be replaced with:\nX = "
    "torch.linalg.solve(A, B)",
    "matrix_rank": "Please use the `torch.linalg.matrix_rank` function instead. The parameter "
    "'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.",
}


# The replacement each removed function's error names, and an example call of it.
_REMOVED_REPLACEMENT = {
    "symeig": ("linalg.eigvalsh / linalg.eigh", "chainrule.eye(2)"),
    "eig": ("linalg.eig", "chainrule.eye(2)"),
    "lstsq": ("linalg.lstsq", "chainrule.ones(2, 1), chainrule.eye(2)"),
    "solve": ("linalg.solve", "chainrule.ones(2, 1), chainrule.eye(2)"),
    "matrix_rank": ("linalg.matrix_rank", "chainrule.eye(2)"),
}


def _removed(name: str) -> Callable[..., NoReturn]:
    """`torch.<name>`, removed from PyTorch 1.9 but still defined there: a function raising its
    RuntimeError, which names the replacement, so ported code fails as it would there."""
    replacement, example = _REMOVED_REPLACEMENT[name]
    separator = "\n" if name == "matrix_rank" else " "
    message = f"{_REMOVED}{separator}{_REMOVED_ADVICE[name]}"

    def function(*args: object, **kwargs: object) -> NoReturn:  # noqa: ARG001 - any call
        raise RuntimeError(message)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"""`torch.{name}`, removed from PyTorch 1.9 but still defined there: raises
    RuntimeError naming {replacement}, as PyTorch, so ported code fails as it would there.

    Args:
        args: anything (ignored).
        kwargs: anything (ignored).

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.{name}({example})
        ... except RuntimeError as error:
        ...     print(str(error).splitlines()[0][:50])
        This function was deprecated since version 1.9 and
    """
    return function


symeig = _removed("symeig")
eig = _removed("eig")
lstsq = _removed("lstsq")
solve = _removed("solve")
matrix_rank = _removed("matrix_rank")


def cholesky(
    input: Tensor,  # noqa: A002
    upper: bool = False,
    *,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """`torch.cholesky`, PyTorch's older spelling of `linalg.cholesky` (upper positional).

    Args:
        input (Tensor): floating point (*, n, n), Hermitian positive-definite.
        upper (bool): return the upper factor U = L^H.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.cholesky(chainrule.tensor([[4.0, 2.0], [2.0, 2.0]]))
        tensor([[2., 0.],
                [1., 1.]])
    """
    if out is not None:
        return write_outs("cholesky", cholesky(input, upper=upper), out)
    warn_once(_DEPRECATED["cholesky"])
    return linalg_cholesky(input, upper=upper)


def _cholesky_product(L: Tensor, upper: bool) -> Tensor:  # noqa: N803
    """A = L L^H (U^H U when upper) from the factor's own triangle, as PyTorch reads it; the
    derivative reaches the whole of L, as PyTorch's (its cholesky_solve and cholesky_inverse
    derivatives treat L as a full matrix), through `L + (tril(L) - L).detach()`."""
    triangle = triu(L) if upper else tril(L)
    factor = L + (triangle - L).detach()
    return _mH(factor) @ factor if upper else factor @ _mH(factor)


@autocast_policy(FLOAT32)
def cholesky_solve(
    B: Tensor,  # noqa: N803
    L: Tensor,  # noqa: N803
    upper: bool = False,
    *,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """X with A X = B for A = L L^H (or U^H U when `upper`) given its Cholesky factor (only
    its triangle is read). Differentiable in B and L; the derivative in L is PyTorch's, which
    treats L as a full matrix (nonzero above a lower factor's diagonal too).

    Args:
        B (Tensor): (*, n, k), the right-hand sides.
        L (Tensor): (*, n, n), the lower (or upper) Cholesky factor.
        upper (bool): `L` is the upper factor.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*, n, k).

    Example:
        >>> import chainrule
        >>> L = chainrule.tensor([[2.0, 0.0], [1.0, 1.0]])
        >>> chainrule.cholesky_solve(chainrule.tensor([[6.0], [3.0]]), L)
        tensor([[1.5000],
                [0.0000]])
    """
    if out is not None:
        return write_outs("cholesky_solve", cholesky_solve(B, L=L, upper=upper), out)
    if B.ndim < 2 or L.ndim < 2:
        raise ShapeError(
            f"cholesky_solve: b should have at least 2 dimensions, but has {B.ndim} dimensions "
            f"instead (B shape {tuple(B.shape)}, L shape {tuple(L.shape)})"
        )
    # B is always a (batch of) matrix here, never linalg.solve's batch of vectors, so the batch
    # dimensions are broadcast first: B (n, k) against L (b, n, n) gives (b, n, k)
    batch = broadcast_shapes(tuple(B.shape[:-2]), tuple(L.shape[:-2]))
    A = _cholesky_product(L, upper)  # noqa: N806
    A, B = expand(A, (*batch, *A.shape[-2:])), expand(B, (*batch, *B.shape[-2:]))  # noqa: N806
    return named(linalg_solve(A, B), "CholeskySolveBackward0")


def cholesky_inverse(
    L: Tensor,  # noqa: N803
    upper: bool = False,
    *,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """The inverse of A = L L^H (or U^H U when `upper`) from its Cholesky factor (only its
    triangle is read; the derivative treats L as a full matrix, as PyTorch's).

    Args:
        L (Tensor): (*, n, n), the lower (or upper) Cholesky factor.
        upper (bool): `L` is the upper factor.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*, n, n).

    Example:
        >>> import chainrule
        >>> chainrule.cholesky_inverse(chainrule.tensor([[2.0, 0.0], [0.0, 1.0]]))
        tensor([[0.2500, 0.0000],
                [0.0000, 1.0000]])
    """
    if out is not None:
        return write_outs("cholesky_inverse", cholesky_inverse(L, upper=upper), out)
    if L.ndim < 2 or L.shape[-1] != L.shape[-2]:
        raise ShapeError(
            f"cholesky_inverse: A must be batches of square matrices, but they are {tuple(L.shape)}"
        )
    return named(inv(_cholesky_product(L, upper)), "CholeskyInverseBackward0")


def qr(
    input: Tensor,  # noqa: A002
    some: bool = True,
    *,
    out: Tensor | Sequence[Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """`torch.qr`: linalg.qr, reduced when `some` (the default) and complete otherwise.

    Args:
        input (Tensor): floating point (*, m, n).
        some (bool): the reduced factorization (Q m x k, R k x n, k = min(m, n)).
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (Q, R).

    Example:
        >>> import chainrule
        >>> Q, R = chainrule.qr(chainrule.tensor([[3.0], [4.0]]))
        >>> R.abs()
        tensor([[5.]])
    """
    if out is not None:
        return write_outs("qr", qr(input, some=some), out)
    warn_once(_DEPRECATED["qr"])
    result = linalg_qr(input, "reduced" if some else "complete")
    return QrResult(result.Q, result.R)


def svd(
    input: Tensor,  # noqa: A002
    some: bool = True,
    compute_uv: bool = True,
    *,
    out: Tensor | Sequence[Tensor] | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """`torch.svd`: input = U diag(S) V^H, returning V (not linalg.svd's V^H); reduced when
    `some`. Without `compute_uv`, U and V are zero matrices of the complete shapes.

    Args:
        input (Tensor): floating point (*, m, n).
        some (bool): the reduced factorization (U m x k, V n x k).
        compute_uv (bool): compute U and V (False: zeros, and S only).
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor, Tensor): a named tuple (U, S, V).

    Example:
        >>> import chainrule
        >>> chainrule.svd(chainrule.tensor([[3.0, 0.0], [0.0, -2.0]])).S
        tensor([3., 2.])
    """
    if out is not None:
        return write_outs("svd", svd(input, some=some, compute_uv=compute_uv), out)
    if not compute_uv:
        values = linalg_svd(input, full_matrices=False).S.detach()
        batch = tuple(input.shape[:-2])
        m, n = input.shape[-2], input.shape[-1]
        u = zeros((*batch, m, m), dtype=input.dtype, device=input.device)
        v = zeros((*batch, n, n), dtype=input.dtype, device=input.device)
        return SvdResult(u, values, v)
    u, s, vh = linalg_svd(input, full_matrices=not some)
    return SvdResult(u, s, _mH(vh).contiguous())  # contiguous, as PyTorch's


def _approximate_basis(A: Tensor, q: int, niter: int) -> Tensor:  # noqa: N803
    """An orthonormal (*, m, q) basis Q with A ~ Q Q^H A (Halko, Martinsson and Tropp 2011,
    algorithm 4.4): the range of A times a Gaussian matrix, sharpened by `niter` power
    iterations, each re-orthonormalized so small singular directions are not lost to
    rounding."""
    sketch = randn(*A.shape[:-2], A.shape[-1], q, dtype=A.dtype, device=A.device)
    basis = linalg_qr(A @ sketch).Q
    for _ in range(niter):
        basis = linalg_qr(_mH(A) @ basis).Q
        basis = linalg_qr(A @ basis).Q
    return basis


def svd_lowrank(
    A: Tensor,  # noqa: N803 - PyTorch's name
    q: int | None = 6,
    niter: int = 2,
    M: Tensor | None = None,  # noqa: N803
) -> tuple[Tensor, Tensor, Tensor]:
    """A rank-q approximation of the SVD of A - M by randomized range finding (PyTorch's
    torch.svd_lowrank): A - M ~ U diag(S) V^H with U (*, m, q), S (*, q), V (*, n, q). Exact
    (up to signs and rounding) when A - M has rank q or less; otherwise it approximates the
    q largest singular triplets, more closely with more power iterations. Draws its Gaussian
    sketch from the global generator. Differentiable through the QR and SVD it is made of.

    Args:
        A (Tensor): (*, m, n).
        q (int, optional): a slightly overestimated rank of A (default: 6).
        niter (int): power iterations (default: 2).
        M (Tensor, optional): subtracted from A first, broadcast to its shape.

    Returns:
        (Tensor, Tensor, Tensor): (U, S, V).

    Example:
        >>> import chainrule
        >>> _ = chainrule.manual_seed(0)
        >>> A = chainrule.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
        >>> U, S, V = chainrule.svd_lowrank(A, q=1)
        >>> round(S.item(), 4)
        8.3666
    """
    q = 6 if q is None else q
    matrix = A if M is None else A - M
    m, n = matrix.shape[-2], matrix.shape[-1]
    if m < n:  # work on the transpose: the small side is the one the sketch multiplies
        v, s, u = svd_lowrank(_mH(matrix), q=q, niter=niter)
        return u, s, v
    basis = _approximate_basis(matrix, q, niter)
    u, s, vh = linalg_svd(_mH(basis) @ matrix, full_matrices=False)
    return basis @ u, s, _mH(vh)


def pca_lowrank(
    A: Tensor,  # noqa: N803 - PyTorch's name
    q: int | None = None,
    center: bool = True,
    niter: int = 2,
) -> tuple[Tensor, Tensor, Tensor]:
    """Principal components of the rows of A by svd_lowrank (PyTorch's torch.pca_lowrank):
    (U, S, V) of A minus its column means (without `center`, of A itself); the columns of V
    are the principal directions and S**2 / (m - 1) the variances along them.

    Args:
        A (Tensor): (*, m, n), m samples of n features.
        q (int, optional): how many components, at most min(m, n) (default: min(6, m, n)).
        center (bool): subtract the column means first (default: True).
        niter (int): power iterations (default: 2).

    Returns:
        (Tensor, Tensor, Tensor): (U, S, V).

    Example:
        >>> import chainrule
        >>> _ = chainrule.manual_seed(0)
        >>> A = chainrule.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
        >>> U, S, V = chainrule.pca_lowrank(A, q=1)
        >>> round(S.item() ** 2 / 2, 4)
        2.0
    """
    m, n = A.shape[-2], A.shape[-1]
    q = min(6, m, n) if q is None else q
    if not (isinstance(q, int) and 0 <= q <= min(m, n)):
        raise ShapeError(
            f"pca_lowrank: q(={q}) must be non-negative integer and not greater than "
            f"min(m, n)={min(m, n)}"
        )
    if not (isinstance(niter, int) and niter >= 0):
        raise ShapeError(f"pca_lowrank: niter(={niter}) must be non-negative integer")
    if center:
        A = A - reduction.mean(A, dim=-2, keepdim=True)  # noqa: N806
    return svd_lowrank(A, q, niter=niter)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple:  # noqa: N803
    """`torch.lu`: the packed LU factorization (LU, pivots), as linalg.lu_factor, and LAPACK's
    info per matrix when `get_infos` (a singular matrix has an LU too: never an error).

    Args:
        A (Tensor): floating point (*, m, n).
        pivot (bool): partial pivoting.
        get_infos (bool): also return the int32 infos.

    Returns:
        tuple: (LU, pivots), or (LU, pivots, infos); pivots 1-based int32 as LAPACK's.

    Example:
        >>> import chainrule
        >>> LU, pivots = chainrule.lu(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> pivots
        tensor([2, 2], dtype=chainrule.int32)
    """
    warn_once(_DEPRECATED["lu"])
    packed, pivots, info = lu_factor_ex(A, pivot=pivot)
    return (packed, pivots, info) if get_infos else (packed, pivots)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
    """`torch.lu_solve`: X with A X = b from torch.lu's packed factorization of A (the
    right-hand side first, unlike linalg.lu_solve).

    Args:
        b (Tensor): (*, n, k).
        LU_data (Tensor): (*, n, n), from `lu`.
        LU_pivots (Tensor): (*, n), from `lu`.

    Returns:
        Tensor: (*, n, k).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> chainrule.lu_solve(chainrule.tensor([[3.0], [3.0]]), *chainrule.lu(A))
        tensor([[1.],
                [1.]])
    """
    warn_once(_DEPRECATED["lu_solve"])
    return linalg_lu_solve(LU_data, LU_pivots, b)


def lu_unpack(
    LU_data: Tensor,  # noqa: N803
    LU_pivots: Tensor,  # noqa: N803
    unpack_data: bool = True,
    unpack_pivots: bool = True,
) -> tuple[Tensor, Tensor, Tensor]:
    """(P, L, U) with A = P L U from `lu`'s packed factorization; differentiable in LU_data.
    What is not unpacked comes back as an empty tensor.

    Args:
        LU_data (Tensor): (*, m, n), from `lu`.
        LU_pivots (Tensor): (*, min(m, n)), from `lu`.
        unpack_data (bool): return L and U.
        unpack_pivots (bool): return P.

    Returns:
        (Tensor, Tensor, Tensor): a named tuple (P, L, U).

    Example:
        >>> import chainrule
        >>> P, L, U = chainrule.lu_unpack(*chainrule.lu(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])))
        >>> P
        tensor([[0., 1.],
                [1., 0.]])
    """
    permutation, lower, upper = _unpack(LU_data, LU_pivots)
    nothing = zeros((0,), dtype=LU_data.dtype, device=LU_data.device)
    if not unpack_data:
        lower = upper = nothing
    if not unpack_pivots:
        permutation = nothing
    lower, upper = named(lower, "LuUnpackBackward0"), named(upper, "LuUnpackBackward0")
    return LuUnpackResult(permutation, lower, upper)


def triangular_solve(
    b: Tensor,
    A: Tensor,  # noqa: N803
    upper: bool = True,
    transpose: bool = False,
    unitriangular: bool = False,
) -> tuple[Tensor, Tensor]:
    """`torch.triangular_solve`: X with A X = b (A^T X = b when `transpose`) for triangular A,
    and a copy of A, as PyTorch returns it.

    Args:
        b (Tensor): (*, m, k).
        A (Tensor): (*, m, m), triangular; only the `upper` (or lower) triangle is read.
        upper (bool): A is upper triangular.
        transpose (bool): solve with A's transpose.
        unitriangular (bool): take A's diagonal to be ones.

    Returns:
        (Tensor, Tensor): a named tuple (solution, cloned_coefficient).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [0.0, 4.0]])
        >>> chainrule.triangular_solve(chainrule.ones(2, 1), A).solution
        tensor([[0.3750],
                [0.2500]])
    """
    warn_once(_DEPRECATED["triangular_solve"])
    coefficient = A.transpose(-2, -1) if transpose else A
    solution = solve_triangular(
        coefficient, b, upper=upper != transpose, unitriangular=unitriangular
    )
    solution = named(solution, "TriangularSolveBackward0")
    return TriangularSolveResult(solution, named(A.clone(), "TriangularSolveBackward0"))


@autocast_policy(FLOAT32)
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """`torch.pinverse`: linalg.pinv with singular values below rcond * the largest taken as 0.

    Args:
        input (Tensor): floating point (*, m, n).
        rcond (float): the relative cutoff.

    Returns:
        Tensor: (*, n, m).

    Example:
        >>> import chainrule
        >>> chainrule.pinverse(chainrule.tensor([[2.0, 0.0], [0.0, 4.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.2500]])
    """
    return pinv(input, rtol=rcond)


def norm(
    input: Tensor,  # noqa: A002
    p: float | str | None = "fro",
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: dtypes.dtype | None = None,
) -> Tensor:
    """`torch.norm`: p='nuc' is the nuclear norm of the matrices over `dim` (two dims; None
    means all of a 2-D input), any other p is `reduction.norm`'s vector norm.

    Args:
        input (Tensor): floating point or complex.
        p (float, str): the order: a number, 'fro', or 'nuc' (the sum of singular values).
        dim (int or tuple of ints, optional): the dimensions reduced (two for 'nuc').
        keepdim (bool): keep each reduced dimension with size 1.
        dtype (dtype, optional): the dtype the input is cast to first.

    Returns:
        Tensor: the norm, reduced over `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.norm(chainrule.tensor([[3.0, 0.0], [0.0, -2.0]]), p="nuc")
        tensor(5.)
    """
    if not (isinstance(p, str) and p == "nuc"):
        return reduction.norm(input, p, dim, keepdim, dtype)
    dims = tuple(range(input.ndim)) if dim is None else (dim,) if isinstance(dim, int) else dim
    if len(dims) != 2:
        raise ShapeError(
            f"norm: the nuclear norm needs two dims (a matrix), got dim={tuple(dims)} for input "
            f"of shape {input.shape}"
        )
    source = input if dtype is None else input.to(dtype)
    return matrix_norm(source, "nuc", tuple(dims), keepdim)


def nuclear_norm(
    input: Tensor,  # noqa: A002
    dim: Sequence[int] | bool | None = None,
    keepdim: bool = False,
) -> Tensor:
    """The nuclear norm (the sum of singular values) of the matrices over `dim` (the last two by
    default): linalg.matrix_norm(input, 'nuc'). `nuclear_norm(x, True)` is keepdim, as in
    PyTorch's overload.

    Args:
        input (Tensor): floating point, at least 2-D.
        dim (tuple of 2 ints, optional): the matrix dimensions.
        keepdim (bool): keep them, of size 1.

    Returns:
        Tensor: input's shape without (or with size-1) `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.nuclear_norm(chainrule.tensor([[3.0, 0.0], [0.0, -2.0]]))
        tensor(5.)
    """
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else tuple(dim), keepdim)


def frobenius_norm(input: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:  # noqa: A002
    """The Frobenius norm over one or two dimensions: the square root of the sum of |x|^2.

    Args:
        input (Tensor): floating point.
        dim (int or tuple of ints): at most two dimensions.
        keepdim (bool): keep them, of size 1.

    Returns:
        Tensor: input's shape without (or with size-1) `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.frobenius_norm(chainrule.tensor([[3.0, 0.0], [0.0, 4.0]]), (0, 1))
        tensor(5.)
    """
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise ShapeError(
            f"frobenius_norm: Expected at most 2 dimensions, but got {len(dims)} dimensions "
            "instead."
        )
    return named(vector_norm(input, 2, dims, keepdim), "NormBackward1")


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """`torch.vander`: the Vandermonde matrix of a 1-D tensor, decreasing powers by default
    (column j is x ** (N - 1 - j)); linalg.vander is the increasing, batched form.

    Args:
        x (Tensor): 1-D.
        N (int, optional): the number of columns (default len(x)).
        increasing (bool): powers increase along each row.

    Returns:
        Tensor: (len(x), N); integer input stays int64.

    Example:
        >>> import chainrule
        >>> chainrule.vander(chainrule.tensor([1, 2, 3]))
        tensor([[1, 1, 1],
                [4, 2, 1],
                [9, 3, 1]])
    """
    if x.ndim != 1:
        raise ShapeError(f"vander: x must be a one-dimensional tensor (got shape {tuple(x.shape)})")
    if N is not None and N < 0:
        raise DomainError(f"vander: N must be non-negative, got {N}")
    if x.dtype is dtypes.bool_:  # (torch.vander takes bool, as int64; linalg.vander refuses it)
        x = x.to(dtypes.int64)
    if N in (0, 1) or (N is None and x.shape[0] <= 1):
        columns = x.shape[0] if N is None else N  # x ** 0: ones, constant in x
        operand = _vander_operand(x.detach())
        return ones_like(operand).reshape(-1, 1)[:, :columns]
    matrix = linalg_vander(x, N=N)
    return matrix if increasing else flip(matrix, (-1,))


orgqr = householder_product


# ---- torch.lobpcg ----------------------------------------------------------------------------


class LobpcgGeneralized(Op):
    """The identity on lobpcg's results when B is given: PyTorch differentiates lobpcg only for
    the standard problem (B = I), so reaching this in backward raises its ValueError."""

    label = "lobpcg"

    @classmethod
    def node_name(cls) -> str:
        return "LOBPCGAutogradFunctionBackward"

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.array(x, copy=True)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        raise ValueError("lobpcg.backward does not support backward with B != I yet.")


def lobpcg(
    A: Tensor,  # noqa: N803 - PyTorch's names
    k: int | None = None,
    B: Tensor | None = None,  # noqa: N803
    X: Tensor | None = None,  # noqa: N803
    n: int | None = None,
    iK: Tensor | None = None,  # noqa: N803
    niter: int | None = None,
    tol: float | None = None,
    largest: bool | None = None,
    method: str | None = None,
    tracker: Callable[..., object] | None = None,
    ortho_iparams: dict | None = None,
    ortho_fparams: dict | None = None,
    ortho_bparams: dict | None = None,
) -> tuple[Tensor, Tensor]:
    """The k largest (or smallest) eigenpairs of the symmetric positive definite problem
    A x = lambda B x (B = I when None), as `torch.lobpcg` returns them: eigenvalues (*, k),
    largest first (smallest first when `largest=False`), and B-orthonormal eigenvectors
    (*, m, k). Solved exactly by a symmetric eigendecomposition rather than LOBPCG iterations,
    so `X`, `n`, `iK`, `niter`, `tol`, `method` and the ortho parameters only shape the call
    (PyTorch's iterations stop within `tol`; each eigenvector's sign is arbitrary in both).
    Without `X`, draws the (*, m, n) Gaussian start PyTorch draws, so the generator moves on as
    there. Real dtypes only (PyTorch's fails on complex input too). Differentiable in A
    (through (A + A^T) / 2, as PyTorch, so a gradient step keeps A symmetric); with B given,
    backward raises ValueError, as PyTorch's.

    Args:
        A (Tensor): (*, m, m), symmetric.
        k (int, optional): how many eigenpairs (default: X's columns, or 1).
        B (Tensor, optional): (*, m, m), symmetric positive definite.
        X (Tensor, optional): (*, m, n), a starting guess; its column count is k's default.
        n (int, optional): the size of the search subspace (default: k); m >= 3 n is needed.
        iK (Tensor, optional): a preconditioner (not needed by the exact solve).
        niter (int, optional): the iteration limit (not needed by the exact solve).
        tol (float, optional): the residual tolerance (not needed by the exact solve).
        largest (bool, optional): the largest (default) or the smallest eigenvalues.
        method (str, optional): "ortho" or "basic" (the same result here).
        tracker (callable, optional): PyTorch's per-iteration hook (never called here).
        ortho_iparams (dict, optional): PyTorch's "ortho" parameters (unused).
        ortho_fparams (dict, optional): PyTorch's "ortho" parameters (unused).
        ortho_bparams (dict, optional): PyTorch's "ortho" parameters (unused).

    Returns:
        (Tensor, Tensor): (eigenvalues (*, k), eigenvectors (*, m, k)).

    Example:
        >>> import chainrule
        >>> A = chainrule.diag(chainrule.arange(1.0, 7.0))
        >>> values, vectors = chainrule.lobpcg(A, k=2)
        >>> values
        tensor([6., 5.])
    """
    if A.ndim < 2 or A.shape[-2] != A.shape[-1]:
        raise ArgumentAssertionError(f"A must be square, got shape {A.shape}")
    if B is not None and B.shape != A.shape:
        raise ArgumentAssertionError(
            f"A and B must have the same shapes, got {A.shape} and {B.shape}"
        )
    if A.is_complex():
        raise DTypeError(f"lobpcg: complex input is not supported (got {A.dtype})")
    if method not in (None, "ortho", "basic"):
        raise ValueError(f'Expected method to be "basic" or "ortho", got {method}')
    m = A.shape[-1]
    if X is None:
        k = 1 if k is None else k
        n = k if n is None else n
    else:
        k = X.shape[-1] if k is None else k
        n = X.shape[-1] if n is None else n
    if m < 3 * n:
        raise ValueError(
            f"LOBPCG algorithm is not applicable when the number of A rows (={m}) is smaller "
            f"than 3 x the number of requested eigenpairs (={n})"
        )
    if X is None:  # PyTorch's random start, drawn so the generator moves on as there
        randn(*A.shape[:-2], m, n, dtype=A.dtype, device=A.device)
    symmetric = (A + A.mT) / 2
    if B is None:
        values, vectors = linalg_eigh(symmetric)
    else:  # A x = l B x as C y = l y: C = L^-1 A L^-T, x = L^-T y, for B = L L^T
        factor = linalg_cholesky((B + B.mT) / 2)
        half = solve_triangular(factor, symmetric, upper=False)
        values, vectors = linalg_eigh(solve_triangular(factor, half.mT, upper=False))
        vectors = solve_triangular(factor.mT, vectors, upper=True)
    if largest is None or largest:
        values, vectors = flip(values[..., m - k :], (-1,)), flip(vectors[..., m - k :], (-1,))
    else:
        values, vectors = values[..., :k], vectors[..., :k]
    if B is not None:
        values = apply(LobpcgGeneralized, (values,))
        vectors = apply(LobpcgGeneralized, (vectors,))
    name = "LOBPCGAutogradFunctionBackward"
    return named(values.contiguous(), name), named(vectors.contiguous(), name)
