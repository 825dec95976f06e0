"""Linear algebra: matrix products, einsum, diagonals, inverses, solves and decompositions.

Every contraction (dot, inner, outer, mv, tensordot, trace, einsum) is one `Einsum` op whose
vjp for an operand is again an einsum of the gradient with the other operands, so all of them
are differentiable to any order. Matrix-function vjps (inv, det, solve, cholesky) are written
with matmul, solves and the functions themselves, summed over broadcast batch dimensions.

Functions PyTorch keeps in `torch.linalg` (inv, solve, cholesky, ...) live here too and are
re-exported by `chainrule.linalg`; `__all__` lists only the names of the top-level namespace.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes, is_array
from chainrule.errors import DomainError, DTypeError, LinAlgError, ShapeError, warn_once
from chainrule.ops import reduction
from chainrule.ops.arguments import Number, return_type
from chainrule.ops.autocast import (
    FLOAT32,
    LOWER,
    autocast_active,
    autocast_operands,
    autocast_policy,
)
from chainrule.ops.complex import complex as make_complex
from chainrule.ops.complex import complex_variant, conj, holomorphic, imag, real
from chainrule.ops.conversion import write_out, write_outs
from chainrule.ops.creation import checked_fill, empty
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.elementwise import (
    binary_operands,
    cast,
    clone,
    elementwise_batch,
    log,
    result_type,
    sqrt,
    where,
)
from chainrule.ops.indexing import pad
from chainrule.ops.op import Op, apply, in_c_order, named
from chainrule.ops.shape import (
    broadcast_shapes,
    cat,
    expand,
    normalize_dim,
    reshape,
    roll,
    squeeze,
    transpose,
    unbroadcast,
    unsqueeze,
)

__all__ = [
    "addbmm",
    "addcdiv",
    "addcmul",
    "addmm",
    "addmv",
    "addr",
    "baddbmm",
    "block_diag",
    "bmm",
    "cdist",
    "chain_matmul",
    "cross",
    "diag",
    "diag_embed",
    "diagflat",
    "diagonal",
    "dot",
    "einsum",
    "ger",
    "inner",
    "inverse",
    "kron",
    "logdet",
    "matmul",
    "matrix_power",
    "mm",
    "mv",
    "outer",
    "slogdet",
    "linalg_slogdet",
    "tensordot",
    "trace",
    "tril",
    "triu",
    "vdot",
]


# ---- helpers -------------------------------------------------------------------------------


def _mT(x: Any) -> Any:  # noqa: N802 - PyTorch's spelling of a batched transpose
    return transpose(x, -1, -2)


def _mH(x: Any) -> Any:  # noqa: N802 - PyTorch's spelling of a batched conjugate transpose
    return conj(transpose(x, -1, -2))


def _unsqueeze_matrix(x: Any) -> Any:
    """x of shape (*) as (*, 1, 1), to scale a batch of matrices by a batch of scalars."""
    return reshape(x, tuple(x.shape) + (1, 1))


def _check_same_dtype(op_name: str, x: Any, y: Any) -> None:
    """The products' operands: one dtype, and not bool (PyTorch's matmul, mm, mv, bmm, dot,
    cross and the addmm family have no bool kernel)."""
    if x._array.dtype != y._array.dtype:
        raise DTypeError(
            f"{op_name}: expected both operands to have the same dtype, but got "
            f"{x.dtype.name} and {y.dtype.name}"
        )
    if x._array.dtype.kind == "b":
        raise DTypeError(f"{op_name}: not implemented for 'Bool'")


def _check_linalg_input(op_name: str, x: Any, name: str = "A", complex_ok: bool = False) -> None:
    """A batch of square float32/float64 matrices, as torch.linalg's factorizations need
    (complex64/complex128 too where `complex_ok`: the ops with complex variants)."""
    kind = x._array.dtype.kind
    if not (kind in "fV" or (complex_ok and kind == "c")) or x._array.dtype.itemsize < 4:
        kinds = (
            "a float32, float64, complex64 or complex128"
            if complex_ok
            else ("a float32 or float64")
        )
        raise DTypeError(f"{op_name}: expected {kinds} tensor as {name}, got {x.dtype.name}")
    if x.ndim < 2:
        raise ShapeError(
            f"{op_name}: {name} must have at least 2 dimensions, got shape {tuple(x.shape)}"
        )
    if x.shape[-1] != x.shape[-2]:
        raise ShapeError(
            f"{op_name}: {name} must be batches of square matrices, but they are "
            f"{x.shape[-2]} by {x.shape[-1]} matrices (shape {tuple(x.shape)})"
        )


def _linalg_call(ctx: Node, op_name: str, problem: str, function: Any, *arrays: Array) -> Any:
    """Run a backend linalg routine, turning its singular-matrix error into LinAlgError."""
    try:
        return function(*arrays)
    except ctx.xp.linalg.LinAlgError as error:
        raise LinAlgError(f"{op_name}: {problem} ({error})") from None


# ---- LAPACK's failures, in PyTorch's words -------------------------------------------------

_NOT_POSITIVE_DEFINITE = (
    "The factorization could not be completed because the input is not positive-definite "
    "(the leading minor of order {info} is not positive-definite)."
)
_SINGULAR_INVERSE = (
    "The diagonal element {info} is zero, the inversion could not be completed because the "
    "input matrix is singular."
)
_SINGULAR_SOLVE = "The solver failed because the input matrix is singular."


def _lu_arrays(xp: Any, a: Array, pivot: bool) -> tuple:
    """Packed LU of a batch (L unit lower below the diagonal, U on and above), LAPACK's
    1-based int32 pivots and getrf's info (the 1-based index of the first zero pivot)."""
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    lu = a.copy()
    batch = a.shape[:-2]
    pivots = xp.zeros(batch + (k,), dtype=xp.int32)
    info = xp.zeros(batch, dtype=xp.int32)
    rows = xp.arange(m)
    for j in range(k):
        if pivot:
            column = lu[..., j:, j]
            if column.dtype.kind == "c":  # LAPACK's izamax compares |Re| + |Im|
                column = column.real
                magnitude = xp.abs(column) + xp.abs(lu[..., j:, j].imag)
            else:
                magnitude = xp.abs(column)
            best = j + xp.argmax(magnitude, axis=-1)
            chosen = rows[None, :] if batch else rows
            take = xp.where(
                chosen == j, best[..., None], xp.where(chosen == best[..., None], j, chosen)
            )
            lu = xp.take_along_axis(lu, take[..., :, None], axis=-2)
        else:
            best = xp.full(batch, j)
        pivots[..., j] = best + 1
        diagonal_value = lu[..., j, j]
        zero = diagonal_value == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(xp.int32)
        safe = xp.where(zero, 1, diagonal_value)
        multipliers = xp.where(zero[..., None], 0, lu[..., j + 1 :, j] / safe[..., None])
        lu[..., j + 1 :, j] = multipliers
        lu[..., j + 1 :, j + 1 :] -= multipliers[..., :, None] * lu[..., j, None, j + 1 :]
    return lu, pivots, info


def _cholesky_arrays(xp: Any, a: Array) -> tuple:
    """Cholesky column by column over the batch, as LAPACK's unblocked potrf: a matrix stops
    at its first pivot that is not positive, whose 1-based order is its info; its factor then
    keeps that pivot on the diagonal and A's lower triangle from that column on (what
    PyTorch's cholesky_ex returns), the columns before it computed."""
    n = a.shape[-1]
    lower = xp.tril(a)
    info = xp.zeros(a.shape[:-2], dtype=xp.int32)
    for j in range(n):
        ok = info == 0
        row_conj = xp.conj(lower[..., j, :j])
        pivot = (a[..., j, j] - (lower[..., j, :j] * row_conj).sum(axis=-1)).real
        failed = ok & ~(pivot > 0)
        info = xp.where(failed, j + 1, info).astype(xp.int32)
        lower[..., j, j] = xp.where(failed, pivot, lower[..., j, j])
        ok = info == 0
        root = xp.sqrt(xp.where(ok, pivot, 1.0))
        lower[..., j, j] = xp.where(ok, root, lower[..., j, j])
        below = a[..., j + 1 :, j] - (lower[..., j + 1 :, :j] * row_conj[..., None, :]).sum(-1)
        lower[..., j + 1 :, j] = xp.where(
            ok[..., None], below / root[..., None], a[..., j + 1 :, j]
        )
    return lower, info


def _factorization_error(xp: Any, op_name: str, a: Array, error: Exception) -> LinAlgError:
    """PyTorch's LinAlgError for a failed inv, solve or cholesky: the factorization run again
    (only on this error path) for LAPACK's info, named for the first failing matrix of the
    batch ('(Batch element i): ' when batched) as PyTorch words it."""
    if op_name.endswith("cholesky"):
        info, problem = _cholesky_arrays(xp, a)[1], _NOT_POSITIVE_DEFINITE
    else:
        info = _lu_arrays(xp, a, True)[2]
        problem = _SINGULAR_INVERSE if op_name.endswith("inv") else _SINGULAR_SOLVE
    flat = info.reshape(-1)
    failed = (flat > 0).nonzero()[0]
    if failed.size == 0:  # LAPACK and the re-run disagree (a borderline matrix)
        return LinAlgError(f"{op_name}: {error}")
    first = int(failed[0])
    prefix = f"(Batch element {first}): " if info.ndim else ""
    return LinAlgError(f"{op_name}: {prefix}{problem.format(info=int(flat[first]))}")


# ---- matrix products ------------------------------------------------------------------------


def stacked_matmul(xp: Any, x: Array, y: Array) -> Array:
    """x @ y; a stack of matrices times one matrix (or one vector) is done as one product over
    all rows (one BLAS call instead of NumPy's loop over the stack)."""
    if x.ndim > 2 and y.ndim <= 2:
        # (the row count spelt out: -1 is ambiguous when a row is empty)
        rows = xp.matmul(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]), y)
        return rows.reshape(x.shape[:-1] + y.shape[1:])
    return xp.matmul(x, y)


@holomorphic
class Matmul(Op):
    """x @ y with NumPy's matmul semantics: batched, broadcasting, and a 1-D operand taken as a
    vector (not promoted to a matrix and back, which would cost two view ops and their rules on
    every call, forward and backward). Derivatives: g @ y^T and x^T @ g, reduced over broadcast
    batch dimensions; with a vector operand they are outer products and matrix-vector products.
    Two vectors are `dot`'s business (an Einsum), not this op's."""

    # bilinear: an operand's value is read only for the other's gradient
    vjp_reads_inputs = "others"

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y, display_name=_matmul_node_name(x.ndim, y.ndim))
        return stacked_matmul(ctx.xp, x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x_shape, y_shape = ctx.input_meta[0][0], ctx.input_meta[1][0]
        if len(y_shape) == 1:
            return _matrix_vector_vjp(ctx, g, x_shape)
        if len(x_shape) == 1:
            return _vector_matrix_vjp(ctx, g, y_shape)
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(_product(Matmul, (g, _mT(ctx.y))), x_shape)
        if ctx.next_edges[1] is not None:
            if len(y_shape) == 2 and len(x_shape) > 2:
                # The shared matrix's gradient sums over the stack: one product of all rows.
                stack = math.prod(x_shape[:-1])  # (not -1: ambiguous for empty rows)
                rows_x = reshape(ctx.x, (stack, x_shape[-1]))
                rows_g = reshape(g, (stack, y_shape[-1]))
                grad_y = _product(Matmul, (_mT(rows_x), rows_g))
            else:
                grad_y = unbroadcast(_product(Matmul, (_mT(ctx.x), g)), y_shape)
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        parts = []
        if tx is not None:
            parts.append(_product(Matmul, (tx, ctx.y)))
        if ty is not None:
            parts.append(_product(Matmul, (ctx.x, ty)))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    @staticmethod
    def fused_jvp(ctx: Node, arrays: list, tangents: list, tracked: list) -> tuple | None:
        """A matrix times a vector (either side) where only the vector has a tangent: value
        and tangent as one product with two columns, which reads the matrix once, as one
        matrix-vector product does. Forward-mode's extra cost over f is then nearly nothing.
        The tangent reads the matrix, so a matrix that requires grad takes the usual path."""
        (x, y), (tx, ty) = arrays, tangents
        xp = ctx.xp
        if tx is None and ty is not None and x.ndim == 2 and y.ndim == 1 and not tracked[0]:
            both = xp.matmul(x, xp.stack((y, ty), axis=1))
        elif ty is None and tx is not None and x.ndim == 1 and y.ndim == 2 and not tracked[1]:
            both = xp.matmul(y.T, xp.stack((x, tx), axis=1))
        else:
            return None
        ctx.save(x=x, y=y)
        return both[:, 0], both[:, 1]

    @staticmethod
    def batch(b: Any, x: Any, y: Any) -> Any:
        """vmap: batch dimensions broadcast like any leading ones; a batch of matrices times
        one shared matrix is a single matrix product over all their rows. A per-example vector
        becomes a one-row (or one-column) matrix first, since its batch would otherwise make
        it look like a matrix."""
        x_vector = x.ndim - b.batched[0] == 1
        y_vector = y.ndim - b.batched[1] == 1
        if x_vector:
            x = unsqueeze(x, -2)
        if y_vector:
            y = unsqueeze(y, -1)
        if b.batched[0] and not b.batched[1] and x.ndim == 3 and y.ndim == 2:
            rows = _product(Matmul, (reshape(x, (-1, x.shape[-1])), y))
            out = reshape(rows, (*x.shape[:2], y.shape[-1]))
        else:
            out = _product(Matmul, tuple(b.align((x, y))))
        if y_vector:
            out = squeeze(out, -1)
        if x_vector:
            out = squeeze(out, -2)
        return out


def _matmul_node_name(x_ndim: int, y_ndim: int) -> str:
    """PyTorch's grad_fn name for matmul by operand ranks (its node is the last of the ops
    matmul dispatches to: mm, mv, a squeeze of a vector's added dim, a view of a batch)."""
    if x_ndim <= 2 and y_ndim <= 2:
        return _MATMUL_NAMES[x_ndim, y_ndim]
    return "CloneBackward0" if x_ndim == 2 else "UnsafeViewBackward0"


_MATMUL_NAMES = {
    (2, 2): "MmBackward0",
    (2, 1): "MvBackward0",
    (1, 2): "SqueezeBackward4",
    (1, 1): "DotBackward0",
}


def _matrix_vector_vjp(ctx: Node, g: Any, x_shape: tuple) -> tuple:
    """(..., m, k) @ (k,) -> (..., m): grad_x is the outer product g y^T; grad_y is x^T g,
    summed over the stack as one product of all rows."""
    grad_x = grad_y = None
    if ctx.next_edges[0] is not None:
        grad_x = unsqueeze(g, -1) * ctx.y
    if ctx.next_edges[1] is not None:
        if len(x_shape) == 2:
            grad_y = _product(Matmul, (g, ctx.x))
        else:
            grad_y = _product(Matmul, (reshape(g, (-1,)), reshape(ctx.x, (-1, x_shape[-1]))))
    return (grad_x, grad_y)


def _vector_matrix_vjp(ctx: Node, g: Any, y_shape: tuple) -> tuple:
    """(k,) @ (..., k, n) -> (..., n): grad_x is y g, summed over the stack; grad_y is the
    outer product x g^T."""
    grad_x = grad_y = None
    if ctx.next_edges[0] is not None:
        if len(y_shape) == 2:
            grad_x = _product(Matmul, (ctx.y, g))
        else:
            per_matrix = squeeze(_product(Matmul, (ctx.y, unsqueeze(g, -1))), -1)
            grad_x = unbroadcast(per_matrix, (y_shape[-2],))
    if ctx.next_edges[1] is not None:
        grad_y = unsqueeze(ctx.x, -1) * unsqueeze(g, -2)
    return (grad_x, grad_y)


def _product(op: type, operands: tuple, *params: Any) -> Any:
    """apply for the holomorphic ops (Matmul, Einsum, Inv and Solve here, Det in decompositions):
    complex operands run the complex variant (ops/complex.py), whose vjp conjugates (g @ y.mH,
    not g @ y.mT)."""
    if operands[0]._array.dtype.kind == "c":
        op = complex_variant(op)
    return apply(op, operands, *params)


def _check_matmul(x: Any, y: Any) -> None:
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {x.shape} and {y.shape}"
        )
    inner_x = x.shape[-1]
    inner_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if inner_x != inner_y:
        raise ShapeError(
            f"matmul: shapes {x.shape} and {y.shape} cannot be multiplied ({inner_x} != {inner_y})"
        )


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The matrix product with NumPy's and PyTorch's rules: 1-D operands are a row or a column
    vector (the added dimension removed again), and the batch dimensions of N-D operands
    broadcast. `@` calls it.

    Args:
        input (Tensor): (n,), (n, k) or (*, n, k).
        other (Tensor): (k,), (k, m) or (*, k, m).
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: the product, (*, n, m) with the vector dimensions dropped.

    Example:
        >>> import chainrule
        >>> chainrule.matmul(chainrule.ones(2, 3), chainrule.ones(3)).shape
        chainrule.Size([2])
        >>> chainrule.matmul(chainrule.ones(5, 2, 3), chainrule.ones(3, 4)).shape
        chainrule.Size([5, 2, 4])
    """
    if out is not None:
        return write_outs("matmul", matmul(input, other), out)
    if type(input) is not Tensor or type(other) is not Tensor:
        sparse_product = _sparse_product(input, other)
        if sparse_product is not None:
            return sparse_product
        _refuse_numbers(input, other)
    if autocast_active() is not None:
        input, other = autocast_operands(LOWER, input, other)  # noqa: A001
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        _check_same_dtype("matmul", input, other)
    x, y = binary_operands(input, other)
    _check_matmul(x, y)
    if x.ndim == 1 and y.ndim == 1:
        return named(_product(Einsum, (x, y), "i,i->"), "DotBackward0")
    return _product(Matmul, (x, y))


def _is_sparse(x: Any) -> bool:
    """A sparse COO, CSR or CSC tensor (ops/sparse.py, a layer above); CSR's and CSC's
    is_sparse is False, and CSC has only its layout to tell."""
    if type(x) is Tensor:  # (the common case first)
        return False
    if getattr(x, "is_sparse", False) or getattr(x, "is_sparse_csr", False):
        return True
    return getattr(getattr(x, "layout", None), "name", None) == "sparse_csc"


def _sparse_product(x: Any, y: Any) -> Tensor | None:
    """x @ y by the sparse tensor's own product (ops/sparse.py, a layer above) when either is
    sparse; None when both are dense."""
    if _is_sparse(x):
        return x.matmul(y)
    if _is_sparse(y):
        return y.__rmatmul__(x)
    return None


def _refuse_numbers(x: Any, y: Any) -> None:
    """A product needs two arrays: a number (`x @ 2`) is PyTorch's TypeError, where the
    broadcasting ops would take it."""
    for name, operand in (("input", x), ("other", y)):
        if not isinstance(operand, Tensor) and not is_array(operand):
            raise TypeError(
                f"matmul(): argument '{name}' must be Tensor, not {type(operand).__name__}"
            )


def rmatmul(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return matmul(other, input)


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """The product of two matrices (no broadcasting; `matmul` broadcasts).

    Args:
        input (Tensor): (n, k).
        mat2 (Tensor): (k, m).

    Returns:
        Tensor: (n, m).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.mm(A, chainrule.eye(2))
        tensor([[2., 1.],
                [1., 3.]])
    """
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: expected 2-D tensors, got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """The batched product of two stacks of matrices of equal batch size (no broadcasting).

    Args:
        input (Tensor): (b, n, k).
        mat2 (Tensor): (b, k, m).

    Returns:
        Tensor: (b, n, m).

    Example:
        >>> import chainrule
        >>> chainrule.bmm(chainrule.ones(2, 1, 3), chainrule.ones(2, 3, 4)).shape
        chainrule.Size([2, 1, 4])
    """
    if input.ndim != 3 or mat2.ndim != 3:
        raise ShapeError(f"bmm: expected 3-D tensors, got shapes {input.shape} and {mat2.shape}")
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: batch sizes differ: shapes {input.shape} and {mat2.shape}")
    return named(matmul(input, mat2), "BmmBackward0")


@autocast_policy(LOWER)
def addmm(
    input: Tensor,  # noqa: A002
    mat1: Tensor,
    mat2: Tensor,
    *,
    beta: Number = 1,
    alpha: Number = 1,
) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2); with beta == 0, input is ignored (nan included).

    Args:
        input (Tensor): broadcastable to (n, m).
        mat1 (Tensor): (n, k).
        mat2 (Tensor): (k, m).
        beta (number): the multiplier of `input`.
        alpha (number): the multiplier of the product.

    Returns:
        Tensor: (n, m).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.addmm(chainrule.ones(2, 2), A, chainrule.eye(2), beta=0.5)
        tensor([[2.5000, 1.5000],
                [1.5000, 3.5000]])
    """
    if _is_sparse(mat1):
        return mat1._addmm(input, mat2, beta, alpha)
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(
            f"addmm: mat1 and mat2 must be matrices, got shapes {mat1.shape} and {mat2.shape}"
        )
    _check_same_dtype("addmm", mat1, mat2)
    _check_same_dtype("addmm", input, mat1)
    target = (mat1.shape[0], mat2.shape[1])
    beta, alpha = _check_scaled_input(
        "addmm", input, target, f"mat1 {mat1.shape}, mat2 {mat2.shape}", beta, alpha
    )
    return named(_scaled_product(input, mm, (mat1, mat2), beta, alpha), "AddmmBackward0")


def _check_scaled_input(
    op_name: str,
    input: Any,  # noqa: A002
    target: tuple,
    operands: str,
    beta: Any,
    alpha: Any,
) -> tuple:
    """The addmm family's checks: input broadcasts to the product's shape; for integer inputs
    addr refuses float scales, and the others truncate them to integers, as PyTorch casts a
    Scalar to the tensor's dtype (beta=0.5 ignores an int input). Returns (beta, alpha)."""
    try:
        shape = broadcast_shapes(input.shape, target)
    except ShapeError:
        shape = None
    if shape != target:
        raise ShapeError(
            f"{op_name}: input of shape {input.shape} cannot be broadcast to the product's shape "
            f"{target} ({operands})"
        )
    if input._array.dtype.kind not in "fcV" and (
        isinstance(alpha, float) or isinstance(beta, float)
    ):
        if op_name == "addr":
            raise DTypeError(
                f"{op_name}: for integral input tensors, alpha and beta must not be floats"
            )
        beta, alpha = int(beta), int(alpha)
    return beta, alpha


def _scaled_product(
    input: Any,  # noqa: A002
    product_of: Any,
    operands: tuple,
    beta: Any,
    alpha: Any,
) -> Any:
    """beta * input + alpha * product_of(*operands); float16 and bfloat16 in float32, rounded
    once at the end, as PyTorch's CPU kernels (rounding the product, its scaling and the sum
    each was several units in the last place off)."""
    if isinstance(input, Tensor) and input.dtype in (dtypes.float16, dtypes.bfloat16):
        wide = tuple(cast(operand, dtypes.float32) for operand in operands)
        result = _scaled_sum(cast(input, dtypes.float32), product_of(*wide), beta, alpha)
        return cast(result, input.dtype)
    return _scaled_sum(input, product_of(*operands), beta, alpha)


def _batched_product(batch1: Any, batch2: Any) -> Any:
    return _product(Matmul, (batch1, batch2))


def _summed_batch_product(batch1: Any, batch2: Any) -> Any:
    return _product(Einsum, (batch1, batch2), "bij,bjk->ik")


def _scaled_sum(input: Any, product: Any, beta: Any, alpha: Any) -> Any:  # noqa: A002
    """beta * input + alpha * product; with beta == 0, input is ignored, nan included (the
    addmm family's rule in PyTorch), yet stays in the graph: its gradient is zeros, not None,
    and a result made from an input that requires grad requires grad too, as in PyTorch."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        if isinstance(input, Tensor) and input.requires_grad:
            chosen = Tensor._from_array(product._backend.xp.ones((), dtype=bool))
            return where(chosen, product, input)  # input's values unread, its gradient 0
        return product
    scaled = input if beta == 1 else input * beta
    return scaled + product


def addmv(
    input: Tensor,  # noqa: A002
    mat: Tensor,
    vec: Tensor,
    *,
    beta: Number = 1,
    alpha: Number = 1,
) -> Tensor:
    """beta * input + alpha * (mat @ vec); with beta == 0, input is ignored (nan included).

    Args:
        input (Tensor): broadcastable to (n,).
        mat (Tensor): (n, m).
        vec (Tensor): (m,).
        beta (number): the multiplier of `input`.
        alpha (number): the multiplier of the product.

    Returns:
        Tensor: (n,).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.addmv(chainrule.zeros(2), A, chainrule.ones(2))
        tensor([3., 4.])
    """
    if mat.ndim != 2 or vec.ndim != 1:
        raise ShapeError(
            f"addmv: expected a matrix and a vector, got shapes {mat.shape} and {vec.shape}"
        )
    if mat.shape[1] != vec.shape[0]:
        raise ShapeError(
            f"addmv: shapes {mat.shape} and {vec.shape} cannot be multiplied "
            f"({mat.shape[1]} != {vec.shape[0]})"
        )
    _check_same_dtype("addmv", mat, vec)
    _check_same_dtype("addmv", input, mat)
    target = (mat.shape[0],)
    beta, alpha = _check_scaled_input(
        "addmv", input, target, f"mat {mat.shape}, vec {vec.shape}", beta, alpha
    )
    return named(_scaled_product(input, mv, (mat, vec), beta, alpha), "AddmvBackward0")


def addr(
    input: Tensor,  # noqa: A002
    vec1: Tensor,
    vec2: Tensor,
    *,
    beta: Number = 1,
    alpha: Number = 1,
) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2) (dtypes promote, as PyTorch's addr); with
    beta == 0, input is ignored (nan included).

    Args:
        input (Tensor): broadcastable to (n, m).
        vec1 (Tensor): (n,).
        vec2 (Tensor): (m,).
        beta (number): the multiplier of `input`.
        alpha (number): the multiplier of the product.

    Returns:
        Tensor: (n, m).

    Example:
        >>> import chainrule
        >>> u, v = chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0, 4.0])
        >>> chainrule.addr(chainrule.zeros(2, 2), u, v)
        tensor([[3., 4.],
                [6., 8.]])
    """
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise ShapeError(f"addr: expected 1-D vectors, got shapes {vec1.shape} and {vec2.shape}")
    target = (vec1.shape[0], vec2.shape[0])
    beta, alpha = _check_scaled_input(
        "addr", input, target, f"vec1 {vec1.shape}, vec2 {vec2.shape}", beta, alpha
    )
    return named(_scaled_product(input, outer, (vec1, vec2), beta, alpha), "AddrBackward0")


def _check_batches(op_name: str, batch1: Any, batch2: Any) -> None:
    """Two stacks of matrices of one dtype that can be multiplied pairwise."""
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise ShapeError(
            f"{op_name}: batch1 and batch2 must be 3-D, got shapes {batch1.shape} and "
            f"{batch2.shape}"
        )
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise ShapeError(
            f"{op_name}: shapes {batch1.shape} and {batch2.shape} cannot be multiplied batch by "
            f"batch"
        )
    _check_same_dtype(op_name, batch1, batch2)


@autocast_policy(LOWER)
def baddbmm(
    input: Tensor,  # noqa: A002
    batch1: Tensor,
    batch2: Tensor,
    *,
    beta: Number = 1,
    alpha: Number = 1,
) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2); with beta == 0, input is ignored.

    Args:
        input (Tensor): broadcastable to (b, n, m).
        batch1 (Tensor): (b, n, k).
        batch2 (Tensor): (b, k, m).
        beta (number): the multiplier of `input`.
        alpha (number): the multiplier of the product.

    Returns:
        Tensor: (b, n, m).

    Example:
        >>> import chainrule
        >>> b1, b2 = chainrule.ones(2, 1, 3), chainrule.ones(2, 3, 1)
        >>> chainrule.baddbmm(chainrule.zeros(2, 1, 1), b1, b2).shape
        chainrule.Size([2, 1, 1])
    """
    _check_batches("baddbmm", batch1, batch2)
    _check_same_dtype("baddbmm", input, batch1)
    target = (batch1.shape[0], batch1.shape[1], batch2.shape[2])
    operands = f"batch1 {batch1.shape}, batch2 {batch2.shape}"
    beta, alpha = _check_scaled_input("baddbmm", input, target, operands, beta, alpha)
    product = _scaled_product(input, _batched_product, (batch1, batch2), beta, alpha)
    return named(product, "BaddbmmBackward0")


@autocast_policy(LOWER)
def addbmm(
    input: Tensor,  # noqa: A002
    batch1: Tensor,
    batch2: Tensor,
    *,
    beta: Number = 1,
    alpha: Number = 1,
) -> Tensor:
    """beta * input + alpha * (the sum over the batch of batch1[i] @ batch2[i]); with
    beta == 0, input is ignored.

    Args:
        input (Tensor): broadcastable to (n, m).
        batch1 (Tensor): (b, n, k).
        batch2 (Tensor): (b, k, m).
        beta (number): the multiplier of `input`.
        alpha (number): the multiplier of the product.

    Returns:
        Tensor: (n, m).

    Example:
        >>> import chainrule
        >>> b1, b2 = chainrule.ones(2, 1, 3), chainrule.ones(2, 3, 1)
        >>> chainrule.addbmm(chainrule.zeros(1, 1), b1, b2)
        tensor([[6.]])
    """
    _check_batches("addbmm", batch1, batch2)
    _check_same_dtype("addbmm", input, batch1)
    target = (batch1.shape[1], batch2.shape[2])
    operands = f"batch1 {batch1.shape}, batch2 {batch2.shape}"
    beta, alpha = _check_scaled_input("addbmm", input, target, operands, beta, alpha)
    product = _scaled_product(input, _summed_batch_product, (batch1, batch2), beta, alpha)
    return named(product, "AddbmmBackward0")


class Addcmul(Op):
    """x + value t1 t2 for a real Python value, as PyTorch's CPU kernel: (value t1) rounded,
    then one fused multiply-add with t2 and x, where three ops round three times (a twelfth
    of float32 elements differed). float32 (and float16 / bfloat16, which reach forward as
    float32) forms the fused step in float64, where the product of two float32 numbers is
    exact; float64 multiplies and adds. Derivatives: g for x, g value t2 for t1, g value t1
    for t2, each summed over its broadcast dimensions."""

    label = "addcmul"

    @classmethod
    def node_name(cls) -> str:
        return "AddcmulBackward0"

    @staticmethod
    def forward(ctx: Node, x: Array, t1: Array, t2: Array, value: float | int) -> Array:
        ctx.save(t1=t1, t2=t2, value=value)
        xp = ctx.xp
        if x.dtype == t1.dtype == t2.dtype == xp.float32:
            scaled = (xp.float32(value) * t1).astype(xp.float64)  # rounded to float32 first
            exact = scaled * t2.astype(xp.float64) + x.astype(xp.float64)
            return xp.broadcast_to(exact, broadcast_shapes(x.shape, t1.shape, t2.shape)).astype(
                xp.float32
            )
        return x + value * t1 * t2

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        meta, edges, value = ctx.input_meta, ctx.next_edges, ctx.value
        grad_x = unbroadcast(g, meta[0][0]) if edges[0] is not None else None
        grad_t1 = unbroadcast(g * ctx.t2 * value, meta[1][0]) if edges[1] is not None else None
        grad_t2 = unbroadcast(g * ctx.t1 * value, meta[2][0]) if edges[2] is not None else None
        return (grad_x, grad_t1, grad_t2)

    @staticmethod
    def jvp(ctx: Node, tx: Any, t_t1: Any, t_t2: Any) -> Any:
        parts = [] if tx is None else [tx]
        if t_t1 is not None:
            parts.append(t_t1 * ctx.t2 * ctx.value)
        if t_t2 is not None:
            parts.append(t_t2 * ctx.t1 * ctx.value)
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        shape = broadcast_shapes(*(meta[0] for meta in ctx.input_meta))
        return total if tuple(total.shape) == shape else expand(total, shape)

    batch = elementwise_batch


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:  # noqa: A002
    """input + value * tensor1 * tensor2, the three broadcast together (dtypes promote).

    Args:
        input (Tensor): the addend.
        tensor1 (Tensor): the first factor.
        tensor2 (Tensor): the second factor.
        value (number): the multiplier of the product.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> x, y = chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0, 4.0])
        >>> chainrule.addcmul(chainrule.ones(2), x, y, value=0.5)
        tensor([2.5000, 5.0000])
    """
    dtype = result_type(input, tensor1, tensor2)
    if dtype.numpy.kind == "b":
        raise DTypeError(
            f"addcmul: not implemented for bool tensors (shapes {input.shape}, {tensor1.shape}, "
            f"{tensor2.shape})"
        )
    operands = (input, tensor1, tensor2)
    if (
        dtype.numpy.kind in "fV"
        and type(value) in (float, int)
        and all(isinstance(t, Tensor) for t in operands)
    ):
        checked_fill("addcmul", value, dtype)
        x, t1, t2 = (t if t.dtype is dtype else cast(t, dtype) for t in operands)
        return apply(Addcmul, (x, t1, t2), value)
    # computed in the result's dtype, as PyTorch's kernel: bool factors of an int32 input
    # multiply as int32, not as a Python int's int64
    product = cast(tensor1, dtype) * cast(tensor2, dtype)
    if isinstance(value, Tensor) or value != 1:
        # PyTorch casts the value to the result's dtype: an integer result truncates it, a
        # real one refuses a complex value
        scale = value if isinstance(value, Tensor) else checked_fill("addcmul", value, dtype)
        product = product * (scale if dtype.numpy.kind in "fVc" else int(scale))
    return named(input + product, "AddcmulBackward0")


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:  # noqa: A002
    """input + value * tensor1 / tensor2, the three broadcast together (true division, so two
    integer tensors are refused, as PyTorch).

    Args:
        input (Tensor): the addend.
        tensor1 (Tensor): the numerator.
        tensor2 (Tensor): the denominator.
        value (number): the multiplier of the quotient.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> x, y = chainrule.tensor([1.0, 2.0]), chainrule.tensor([4.0, 4.0])
        >>> chainrule.addcdiv(chainrule.zeros(2), x, y, value=2)
        tensor([0.5000, 1.0000])
    """
    if all(t._array.dtype.kind in "biu" for t in (tensor1, tensor2)):
        raise DTypeError(
            f"addcdiv: integer division with addcdiv is no longer supported; use "
            f"input + value * trunc(tensor1 / tensor2) for integer inputs (got "
            f"{tensor1.dtype.name} {tensor1.shape} and {tensor2.dtype.name} {tensor2.shape})"
        )
    quotient = tensor1 / tensor2
    if isinstance(value, Tensor) or value != 1:
        dtype = result_type(input, quotient)
        quotient = quotient * (
            value if isinstance(value, Tensor) else checked_fill("addcdiv", value, dtype)
        )
    return named(input + quotient, "AddcdivBackward0")


# ---- einsum ---------------------------------------------------------------------------------

# NumPy's einsum takes the 52 ASCII letters; sublist integers map to them in sorted order.
_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _split_equation(equation: str) -> tuple[list[str], str]:
    """'ab,bc->ac' (canonical: letters only, explicit output) as (['ab', 'bc'], 'ac')."""
    inputs, output = equation.split("->")
    return inputs.split(","), output


def _contract(xp: Any, equation: str, arrays: Sequence[Array]) -> Array:
    """The einsum itself, on arrays; BLAS-backed paths for several or large operands."""
    optimize = len(arrays) > 2 or any(a.size > 4096 for a in arrays)
    out = xp.einsum(equation, *arrays, optimize=optimize)
    if len(arrays) == 1 and xp.may_share_memory(out, arrays[0]):
        return out.copy()  # transposes and diagonals come back as views of the input
    return in_c_order(out)  # a product's result can come back transposed


@holomorphic
class Einsum(Op):
    """Einstein summation over a canonical equation (letters only, explicit output, no
    broadcasting left: `einsum` removes broadcast size-1 dimensions first).

    Derivative for operand i: an einsum of g with the other operands onto operand i's labels;
    labels only operand i has are broadcast back, and a label repeated in operand i (a
    diagonal such as 'ii->i') puts the gradient on that diagonal, zero elsewhere.
    """

    # multilinear: an operand's value is read only for another's gradient
    vjp_reads_inputs = "others"

    @staticmethod
    def forward(ctx: Node, *args: Any) -> Array:
        *arrays, equation = args
        ctx.save(equation=equation)
        if len(arrays) > 1:
            ctx.save(**{f"x{i}": array for i, array in enumerate(arrays)})
        return _contract(ctx.xp, equation, arrays)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        inputs, output = _split_equation(ctx.equation)
        operands = [getattr(ctx, f"x{i}") for i in range(len(inputs))] if len(inputs) > 1 else []
        grads = []
        for i, spec in enumerate(inputs):
            if ctx.next_edges[i] is None:
                grads.append(None)
                continue
            terms = [output] + inputs[:i] + inputs[i + 1 :]
            tensors = [g] + operands[:i] + operands[i + 1 :]
            grads.append(_einsum_operand_grad(ctx, terms, tensors, spec, ctx.input_meta[i][0]))
        return tuple(grads)

    @staticmethod
    def jvp(ctx: Node, *tangents: Any) -> Any:
        count = len(tangents)
        operands = [getattr(ctx, f"x{i}") for i in range(count)] if count > 1 else []
        total = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            term = _product(Einsum, operands[:i] + [t] + operands[i + 1 :], ctx.equation)
            total = term if total is None else total + term
        return total

    @staticmethod
    def batch(b: Any, *args: Any) -> Any:
        """vmap: a fresh label for the batch on the batched operands and the output."""
        *operands, equation = args
        inputs, output = _split_equation(equation)
        label = next(c for c in _LETTERS if c not in equation)
        terms = [label + term if batched else term for term, batched in zip(inputs, b.batched)]
        return _product(Einsum, tuple(operands), ",".join(terms) + "->" + label + output)


def _einsum_operand_grad(ctx: Node, terms: list, tensors: list, spec: str, shape: tuple) -> Any:
    """The gradient of one einsum operand with subscripts `spec` and shape `shape`."""
    unique = "".join(dict.fromkeys(spec))
    present = set("".join(terms))
    kept = "".join(c for c in unique if c in present)
    if len(terms) == 1 and terms[0] == kept:
        grad = tensors[0]
    else:
        grad = _product(Einsum, tensors, ",".join(terms) + "->" + kept)
    size = {label: shape[spec.index(label)] for label in unique}
    if kept != unique:  # labels summed inside this operand alone: broadcast the gradient back
        grad = reshape(grad, tuple(size[c] if c in kept else 1 for c in unique))
        grad = expand(grad, tuple(size[c] for c in unique))
    if unique != spec:
        grad = _embed_diagonals(ctx, grad, unique, spec, size)
    return grad


def _embed_diagonals(ctx: Node, grad: Any, unique: str, spec: str, size: dict) -> Any:
    """`grad` over the labels `unique` spread onto `spec`, which repeats some of them: each
    repeat gets a fresh label tied to the first by an identity matrix (a constant)."""
    free = iter(c for c in _LETTERS if c not in spec)
    terms, tensors, output, seen = [unique], [grad], [], set()
    for label in spec:
        if label in seen:
            fresh = next(free)
            identity = ctx.xp.eye(size[label], dtype=grad._array.dtype)
            terms.append(label + fresh)
            tensors.append(Tensor._from_array(identity))
            output.append(fresh)
        else:
            seen.add(label)
            output.append(label)
    return _product(Einsum, tensors, ",".join(terms) + "->" + "".join(output))


def _parse_error(equation: str, message: str) -> ShapeError:
    return ShapeError(f"einsum(): {message} (equation {equation!r})")


@functools.lru_cache(maxsize=1024)
def _parse_einsum(equation: str, ndims: tuple[int, ...]) -> tuple[tuple[str, ...], str]:
    """NumPy's subscripts in canonical form: each operand's labels, with an ellipsis spelled
    out as fresh letters (right-aligned, so fewer ellipsis dimensions broadcast), and the
    output's labels (implicit output: ellipsis, then labels seen once, in ASCII order)."""
    text = equation.replace(" ", "")
    if text.count("->") > 1:
        raise _parse_error(equation, "more than one '->'")
    lhs, arrow, rhs = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise _parse_error(
            equation, f"the equation has {len(terms)} operands but {len(ndims)} were given"
        )
    for term in terms + ([rhs] if arrow else []):
        letters = term.replace("...", "", 1)
        if any(c not in _LETTERS for c in letters):
            raise _parse_error(
                equation, f"invalid subscript in {term!r}: only letters and one '...'"
            )
    covered_dims = []
    for index, (term, ndim) in enumerate(zip(terms, ndims)):
        letters = len(term.replace("...", ""))
        covered = ndim - letters if "..." in term else 0
        if covered < 0 or ("..." not in term and letters != ndim):
            raise _parse_error(
                equation,
                f"operand {index} has {ndim} dimensions but subscripts {term!r} give {letters}",
            )
        covered_dims.append(covered)
    ellipsis_ndim = max(covered_dims, default=0)
    used = set(text)
    fresh = "".join(c for c in _LETTERS if c not in used)[:ellipsis_ndim]
    if len(fresh) < ellipsis_ndim:
        raise _parse_error(equation, "too many dimensions for the 52 available subscripts")
    specs = tuple(
        term.replace("...", fresh[ellipsis_ndim - covered :])
        for term, covered in zip(terms, covered_dims)
    )
    if arrow:
        output = rhs.replace("...", fresh)  # without '...', torch sums the ellipsis dimensions
        for label in output:
            if output.count(label) > 1:
                raise _parse_error(equation, f"output subscript {label!r} appears more than once")
            if not any(label in spec for spec in specs):
                raise _parse_error(equation, f"output subscript {label!r} is not in any input")
    else:
        counts: dict[str, int] = {}
        for label in lhs:
            if label in _LETTERS:
                counts[label] = counts.get(label, 0) + 1
        output = fresh + "".join(sorted(c for c, n in counts.items() if n == 1))
    return specs, output


def _sublist_equation(args: Sequence[Any]) -> tuple[str, tuple]:
    """einsum(op0, [0, 1], op1, [1, 2], [0, 2]) as ('AB,BC->AC', (op0, op1))."""

    def letters(sublist: Sequence[Any]) -> str:
        parts = []
        for item in sublist:
            if item is Ellipsis:
                parts.append("...")
            elif isinstance(item, int) and 0 <= item < len(_LETTERS):
                parts.append(_LETTERS[item])
            else:
                raise ShapeError(f"einsum(): subscripts must be integers in [0, 52), got {item!r}")
        return "".join(parts)

    count = len(args) // 2
    operands = tuple(args[0 : 2 * count : 2])
    equation = ",".join(letters(sublist) for sublist in args[1 : 2 * count : 2])
    if len(args) % 2:  # a trailing sublist names the output
        equation += "->" + letters(args[-1])
    return equation, operands


@autocast_policy(LOWER)
def einsum(*args: str | Tensor | Sequence[Tensor]) -> Tensor:
    """Einstein summation, as torch.einsum: any subscripts NumPy accepts (ellipsis, repeated
    labels for diagonals, implicit output), the sublist form, and broadcasting of size-1
    dimensions. Differentiable in every operand, to every order.

    Args:
        args: the equation then the operands (`einsum("ij,jk->ik", a, b)`), the operands as one
            list after the equation, or the sublist form (`einsum(a, [0, 1], b, [1, 2])`).

    Returns:
        Tensor: as the equation's output subscripts say.

    Example:
        >>> import chainrule
        >>> chainrule.einsum("ij,jk->ik", chainrule.ones(2, 3), chainrule.ones(3, 4)).shape
        chainrule.Size([2, 4])
        >>> chainrule.einsum("ii", chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor(5.)
    """
    if not args:
        raise ShapeError("einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], tuple(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    if not operands:
        raise ShapeError(f"einsum(): must provide at least one operand (equation {equation!r})")
    for operand in operands:
        if not isinstance(operand, Tensor):
            raise DTypeError(f"einsum(): operands must be Tensors, got {type(operand).__name__}")
        if operand._array.dtype != operands[0]._array.dtype:
            dtypes_seen = ", ".join(o.dtype.name for o in operands)
            raise DTypeError(f"einsum(): operands must all have the same dtype, got {dtypes_seen}")
    specs, output = _parse_einsum(equation, tuple(o.ndim for o in operands))
    operands, specs = _remove_broadcast_dims(equation, operands, specs)
    if operands[0]._array.dtype.kind in "biu":
        operands = _einsum_integer_operands(operands, specs, output)
    out = _product(Einsum, operands, ",".join(specs) + "->" + output)
    return named(out, _einsum_node_name(specs, output))


def _einsum_integer_operands(operands: tuple, specs: Sequence[str], output: str) -> tuple:
    """PyTorch's einsum on integers and bools: an index summed out of one operand alone goes
    through `sum` (so the result is int64, as sum promotes); one shared by operands through
    bmm (which keeps the dtype, and has no bool kernel)."""
    summed = {letter for spec in specs for letter in spec} - set(output)
    counts = [sum(letter in spec for spec in specs) for letter in summed]
    if operands[0]._array.dtype.kind == "b" and any(count > 1 for count in counts):
        raise DTypeError("einsum(): bmm not implemented for 'Bool'")
    if any(count == 1 for count in counts):
        return tuple(cast(operand, dtypes.int64) for operand in operands)
    return operands


def _einsum_node_name(specs: Sequence[str], output: str) -> str:
    """PyTorch's grad_fn name for einsum: one operand ends in a sum or a permute; more, in a
    product when nothing is summed (mul), else in a view of bmm's result."""
    summed = set("".join(specs)) - set(output)
    if len(specs) == 1:
        return "SumBackward1" if summed else "PermuteBackward0"
    return "ViewBackward0" if summed else "MulBackward0"


def _remove_broadcast_dims(equation: str, operands: tuple, specs: tuple) -> tuple[list, list]:
    """Check every label's size and drop the size-1 dimensions that broadcast against another
    size elsewhere: a broadcast dimension is the same as that label missing from the operand."""
    sizes: dict[str, int] = {}
    for index, (operand, spec) in enumerate(zip(operands, specs)):
        own: dict[str, int] = {}
        for label, size in zip(spec, operand.shape):
            if own.setdefault(label, size) != size:
                raise ShapeError(
                    f"einsum(): subscript {label!r} is repeated for operand {index} but the "
                    f"sizes don't match, {own[label]} != {size} (shape {tuple(operand.shape)}, "
                    f"equation {equation!r})"
                )
        for label, size in own.items():
            if sizes.get(label, 1) == 1:
                sizes[label] = size
            elif size not in (1, sizes[label]):
                shapes = ", ".join(str(tuple(o.shape)) for o in operands)
                raise ShapeError(
                    f"einsum(): subscript {label!r} has size {sizes[label]} in one operand and "
                    f"{size} in operand {index}; operands of shapes {shapes} do not fit "
                    f"equation {equation!r}"
                )
    new_operands, new_specs = [], []
    for operand, spec in zip(operands, specs):
        keep = [i for i, label in enumerate(spec) if operand.shape[i] != 1 or sizes[label] == 1]
        if len(keep) != len(spec):
            operand = reshape(operand, tuple(operand.shape[i] for i in keep))
            spec = "".join(spec[i] for i in keep)
        new_operands.append(operand)
        new_specs.append(spec)
    return new_operands, new_specs


def _check_vectors(op_name: str, x: Any, y: Any) -> None:
    if x.ndim != 1 or y.ndim != 1:
        raise ShapeError(
            f"{op_name}: 1D tensors expected, but got shapes {tuple(x.shape)} and {tuple(y.shape)}"
        )


def dot(input: Tensor, tensor: Tensor) -> Tensor:  # noqa: A002
    """The inner product of two 1-D tensors of one dtype (no broadcasting, as in PyTorch).

    Args:
        input (Tensor): (n,).
        tensor (Tensor): (n,), of the dtype of `input`.

    Returns:
        Tensor: a scalar.

    Example:
        >>> import chainrule
        >>> chainrule.dot(chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0, 4.0]))
        tensor(11.)
    """
    _check_vectors("dot", input, tensor)
    _check_same_dtype("dot", input, tensor)
    if input.shape != tensor.shape:
        raise ShapeError(
            f"dot: inconsistent tensor size, shapes {tuple(input.shape)} and "
            f"{tuple(tensor.shape)} have {input.shape[0]} and {tensor.shape[0]} elements"
        )
    return named(_product(Einsum, (input, tensor), "i,i->"), "DotBackward0")


def vdot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """conj(input) . other; for real tensors the same as `dot`.

    Args:
        input (Tensor): (n,), conjugated.
        other (Tensor): (n,).

    Returns:
        Tensor: a scalar.

    Example:
        >>> import chainrule
        >>> chainrule.vdot(chainrule.tensor([1j]), chainrule.tensor([1j]))
        tensor(1.+0.j)
    """
    return named(dot(conj(input), other), "VdotBackward0")


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """The outer product of two vectors, out[i, j] = input[i] * vec2[j] (dtypes promote); `ger`
    is the same function.

    Args:
        input (Tensor): (n,).
        vec2 (Tensor): (m,).

    Returns:
        Tensor: (n, m).

    Example:
        >>> import chainrule
        >>> chainrule.outer(chainrule.tensor([1, 2]), chainrule.tensor([3, 4]))
        tensor([[3, 4],
                [6, 8]])
    """
    _check_vectors("outer", input, vec2)
    x, y = binary_operands(input, vec2)
    return named(_product(Einsum, (x, y), "i,j->ij"), "MulBackward0")


ger = outer


def inner(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The sum of products over the last dimension of both; a 0-dim operand multiplies instead.

    Args:
        input (Tensor): (*a, n).
        other (Tensor): (*b, n).

    Returns:
        Tensor: (*a, *b).

    Example:
        >>> import chainrule
        >>> chainrule.inner(chainrule.tensor([[1.0, 2.0]]), chainrule.tensor([[3.0, 4.0]]))
        tensor([[11.]])
    """
    if input.ndim == 0 or other.ndim == 0:
        return input * other  # (a product: dtypes promote, as PyTorch's)
    _check_same_dtype("inner", input, other)
    if input.shape[-1] != other.shape[-1]:
        raise ShapeError(
            f"inner: the last dimension must match on both input tensors, but got shapes "
            f"{tuple(input.shape)} and {tuple(other.shape)}"
        )
    x_labels = _LETTERS[: input.ndim - 1]
    y_labels = _LETTERS[input.ndim - 1 : input.ndim + other.ndim - 2]
    shared = _LETTERS[input.ndim + other.ndim - 2]
    equation = f"{x_labels}{shared},{y_labels}{shared}->{x_labels}{y_labels}"
    return named(_product(Einsum, (input, other), equation), "ViewBackward0")


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """The matrix-vector product (no broadcasting).

    Args:
        input (Tensor): (n, m).
        vec (Tensor): (m,).

    Returns:
        Tensor: (n,).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.mv(A, chainrule.ones(2))
        tensor([3., 4.])
    """
    if input.ndim != 2 or vec.ndim != 1:
        raise ShapeError(
            f"mv: expected a matrix and a vector, got shapes {tuple(input.shape)} and "
            f"{tuple(vec.shape)}"
        )
    if input.shape[1] != vec.shape[0]:
        raise ShapeError(
            f"mv: shapes {tuple(input.shape)} and {tuple(vec.shape)} cannot be multiplied "
            f"({input.shape[1]} != {vec.shape[0]})"
        )
    if _is_sparse(input):
        return input.matmul(vec)  # a sparse operator (COO or CSR) checks dtypes as PyTorch
    _check_same_dtype("mv", input, vec)
    return _product(Matmul, (input, vec))


def _tensordot_dims(a: Any, b: Any, dims: Any) -> tuple[list[int], list[int]]:
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise ShapeError(f"tensordot: expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise ShapeError(
                f"tensordot: dims={dims} is more than the dimensions of shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)}"
            )
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    dims_a, dims_b = dims
    dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
    dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
    if len(dims_a) != len(dims_b):
        raise ShapeError(
            f"tensordot: both dimension lists should have the same length, got {dims_a} and "
            f"{dims_b}"
        )
    dims_a = [normalize_dim("tensordot", d, a.ndim) for d in dims_a]
    dims_b = [normalize_dim("tensordot", d, b.ndim) for d in dims_b]
    return dims_a, dims_b


def tensordot(
    a: Tensor,
    b: Tensor,
    dims: int | tuple[Sequence[int], Sequence[int]] = 2,
    out: Tensor | None = None,
) -> Tensor:
    """The contraction of `dims` dimensions of a and b: the last `dims` of a with the first `dims`
    of b, or the dimensions in two lists.

    Args:
        a (Tensor): the left operand.
        b (Tensor): the right operand.
        dims (int or pair of sequences of ints): a count, or (dims of a, dims of b).
        out (Tensor, optional): accepted for compatibility and ignored.

    Returns:
        Tensor: a's free dimensions, then b's.

    Example:
        >>> import chainrule
        >>> chainrule.tensordot(chainrule.ones(2, 3), chainrule.ones(3, 4), 1).shape
        chainrule.Size([2, 4])
        >>> chainrule.tensordot(chainrule.ones(2, 3), chainrule.ones(3, 2), ([1], [0])).shape
        chainrule.Size([2, 2])
    """
    _check_same_dtype("tensordot", a, b)
    dims_a, dims_b = _tensordot_dims(a, b, dims)
    if autocast_active() is not None:
        # PyTorch's tensordot asks for one dtype, then multiplies with mm, which autocast
        # lowers, unless both sides keep a single element (a dot product, which it does not)
        free_a = math.prod(size for axis, size in enumerate(a.shape) if axis not in dims_a)
        free_b = math.prod(size for axis, size in enumerate(b.shape) if axis not in dims_b)
        if (free_a, free_b) != (1, 1):
            a, b = autocast_operands(LOWER, a, b)
    a_labels = list(_LETTERS[: a.ndim])
    b_labels = list(_LETTERS[a.ndim : a.ndim + b.ndim])
    for da, db in zip(dims_a, dims_b):
        # (a size-1 dimension contracted with a longer one broadcasts: PyTorch sums the other
        # side over that dimension first)
        if b.shape[db] == 1 and a.shape[da] != 1:
            a = reduction.sum(a, da, keepdim=True, dtype=a.dtype)
        elif a.shape[da] == 1 and b.shape[db] != 1:
            b = reduction.sum(b, db, keepdim=True, dtype=b.dtype)
        if a.shape[da] != b.shape[db]:
            raise ShapeError(
                f"tensordot: contracted dimensions need to match, but first has size "
                f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} in dim {db} "
                f"(shapes {tuple(a.shape)} and {tuple(b.shape)})"
            )
        b_labels[db] = a_labels[da]
    output = [c for i, c in enumerate(a_labels) if i not in dims_a]
    output += [c for i, c in enumerate(b_labels) if i not in dims_b]
    equation = "".join(a_labels) + "," + "".join(b_labels) + "->" + "".join(output)
    return named(_product(Einsum, (a, b), equation), "ViewBackward0")


@autocast_policy(FLOAT32)
def trace(input: Tensor) -> Tensor:  # noqa: A002
    """The sum of the main diagonal of a matrix; integer matrices sum to int64, as in PyTorch.

    Args:
        input (Tensor): 2-D.

    Returns:
        Tensor: a scalar.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.trace(A)
        tensor(5.)
    """
    if input.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, but got shape {tuple(input.shape)}")
    matrix = input
    if matrix._array.dtype.kind == "b":
        raise DTypeError("trace: not implemented for 'Bool'")
    if matrix._array.dtype.kind in "iu":
        matrix = cast(matrix, dtypes.int64)
    if matrix.shape[0] != matrix.shape[1]:  # a rectangular matrix: its main diagonal's sum
        out = _product(Einsum, (apply(Diagonal, (matrix,), 0, 0, 1),), "i->")
    else:
        out = _product(Einsum, (matrix,), "ii->")
    return named(out, "TraceBackward0")


# ---- Kronecker and cross products, block diagonals -------------------------------------------


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The Kronecker product: blocks input[i, j, ...] * other, for any number of dimensions
    (the fewer-dimensional operand gains leading size-1 dimensions); dtypes promote.

    Args:
        input (Tensor): the outer blocks.
        other (Tensor): the inner block.

    Returns:
        Tensor: each dimension the product of the operands' sizes.

    Example:
        >>> import chainrule
        >>> chainrule.kron(chainrule.eye(2), chainrule.tensor([[1.0, 2.0]]))
        tensor([[1., 2., 0., 0.],
                [0., 0., 1., 2.]])
    """
    count = max(input.ndim, other.ndim)
    x = reshape(input, (1,) * (count - input.ndim) + tuple(input.shape))
    y = reshape(other, (1,) * (count - other.ndim) + tuple(other.shape))
    x_spread = reshape(x, tuple(s for size in x.shape for s in (size, 1)))
    y_spread = reshape(y, tuple(s for size in y.shape for s in (1, size)))
    sizes = tuple(p * q for p, q in zip(x.shape, y.shape))
    return named(reshape(x_spread * y_spread, sizes), "UnsafeViewBackward0")


def _cross(op_name: str, input: Any, other: Any, dim: int) -> Any:  # noqa: A002
    """a x b along `dim` (size 3 in both), batch dimensions broadcast: out_i = a_(i+1) b_(i+2) -
    a_(i+2) b_(i+1), indices mod 3, each term a roll of the operands."""
    if input.ndim != other.ndim:
        raise ShapeError(
            f"{op_name}: inputs must have the same number of dimensions, got shapes "
            f"{input.shape} and {other.shape}"
        )
    _check_same_dtype(op_name, input, other)
    axis = normalize_dim(op_name, dim, input.ndim)
    if input.ndim == 0 or input.shape[axis] != 3 or other.shape[axis] != 3:
        raise ShapeError(
            f"{op_name}: inputs dimension {dim} must have length 3, got shapes {input.shape} and "
            f"{other.shape}"
        )
    first = roll(input, -1, axis) * roll(other, -2, axis)
    return named(first - roll(input, -2, axis) * roll(other, -1, axis), "LinalgCrossBackward0")


def cross(
    input: Tensor,  # noqa: A002
    other: Tensor,
    dim: int | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """The cross product of 3-vectors along `dim`. Without dim, PyTorch's deprecated default:
    the first dimension of size 3 in input (with its warning); prefer linalg.cross.

    Args:
        input (Tensor): size 3 along `dim`.
        other (Tensor): broadcastable with `input`.
        dim (int, optional): the dimension of the vectors.
        out (Tensor, optional): write the result here (of its dtype, PyTorch's rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.cross(chainrule.tensor([1.0, 0.0, 0.0]), chainrule.tensor([0.0, 1.0, 0.0]), 0)
        tensor([0., 0., 1.])
    """
    if dim is None:
        warn_once(  # PyTorch's words, once per process
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass "
            "the dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will "
            "change to agree with that of linalg.cross in a future release."
        )
        sized = [i for i, size in enumerate(input.shape) if size == 3]
        if not sized:
            raise ShapeError(f"cross: no dimension of size 3 in input (shape {input.shape})")
        dim = sized[0]
    result = _cross("cross", input, other, dim)
    return result if out is None else write_out("cross", result, out, "same")


def linalg_cross(
    input: Tensor,  # noqa: A002
    other: Tensor,
    *,
    dim: int = -1,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """torch.linalg.cross: the cross product of 3-vectors along `dim` (the last by default).

    Args:
        input (Tensor): size 3 along `dim`.
        other (Tensor): broadcastable with `input`.
        dim (int): the dimension of the vectors.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> x, y = chainrule.tensor([[1.0, 0.0, 0.0]]), chainrule.tensor([[0.0, 1.0, 0.0]])
        >>> chainrule.linalg.cross(x, y)
        tensor([[0., 0., 1.]])
    """
    if out is not None:
        return write_outs("linalg.cross", linalg_cross(input, other=other, dim=dim), out)
    return _cross("linalg.cross", input, other, dim)


def block_diag(*tensors: Tensor) -> Tensor:
    """A matrix with the inputs on its diagonal (0-D as 1 x 1, 1-D as one row) and zeros
    elsewhere; dtypes promote.

    Args:
        tensors (Tensor...): at most 2-D each.

    Returns:
        Tensor: (sum of rows, sum of columns).

    Example:
        >>> import chainrule
        >>> chainrule.block_diag(chainrule.tensor([[1, 2]]), chainrule.tensor(3))
        tensor([[1, 2, 0],
                [0, 0, 3]])
    """
    if not tensors:
        return empty(1, 0)
    dtype = result_type(*tensors)
    blocks = []
    for index, tensor in enumerate(tensors):
        if tensor.ndim > 2:
            raise ShapeError(
                f"block_diag: input tensors must have 2 or fewer dimensions, but input {index} "
                f"has shape {tensor.shape}"
            )
        matrix = reshape(tensor, (1,) * (2 - tensor.ndim) + tuple(tensor.shape))
        blocks.append(cast(matrix, dtype))
    width = sum(block.shape[1] for block in blocks)
    rows, start = [], 0
    for block in blocks:
        rows.append(pad(block, (start, width - start - block.shape[1])))
        start += block.shape[1]
    return named(cat(rows, 0), "BlockDiagBackward0")


# ---- diagonals and triangles ----------------------------------------------------------------


class Diagonal(Op):
    """The diagonal (offset, dim1, dim2) as a view, appended as the last dimension.
    Derivative: g placed on that diagonal of zeros (DiagonalScatter, its transpose)."""

    is_view = True

    @staticmethod
    def forward(ctx: Node, x: Array, offset: int, dim1: int, dim2: int) -> Array:
        ctx.save(offset=offset, dim1=dim1, dim2=dim2)
        out = ctx.xp.diagonal(x, offset, dim1, dim2)
        if not getattr(out.flags, "writeable", True) and getattr(x.flags, "writeable", False):
            out.flags.writeable = True  # NumPy hands out read-only diagonals; torch's are views
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        shape = ctx.input_meta[0][0]
        return (apply(DiagonalScatter, (g,), shape, ctx.offset, ctx.dim1, ctx.dim2),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Diagonal, (t,), ctx.offset, ctx.dim1, ctx.dim2)

    @staticmethod
    def batch(b: Any, x: Any, offset: int, dim1: int, dim2: int) -> Any:
        """vmap: the dims one further right."""
        return apply(Diagonal, (x,), offset, dim1 + 1, dim2 + 1)


class DiagonalScatter(Op):
    """Zeros of `shape` with x's last dimension on the diagonal (offset, dim1, dim2).
    Derivative: the diagonal of g (Diagonal, its transpose)."""

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple, offset: int, dim1: int, dim2: int) -> Array:
        ctx.save(offset=offset, dim1=dim1, dim2=dim2, shape=shape)
        xp = ctx.xp
        out = xp.zeros(shape, dtype=x.dtype)
        matrices = xp.moveaxis(out, (dim1, dim2), (-2, -1))
        count = x.shape[-1]
        rows = xp.arange(count) + max(-offset, 0)
        cols = xp.arange(count) + max(offset, 0)
        matrices[..., rows, cols] = x
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(Diagonal, (g,), ctx.offset, ctx.dim1, ctx.dim2),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(DiagonalScatter, (t,), ctx.shape, ctx.offset, ctx.dim1, ctx.dim2)

    @staticmethod
    def batch(b: Any, x: Any, shape: tuple, offset: int, dim1: int, dim2: int) -> Any:
        """vmap: the batch in front of `shape`, the dims one further right."""
        return apply(DiagonalScatter, (x,), (b.size, *shape), offset, dim1 + 1, dim2 + 1)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """A view of the diagonal over dims (dim1, dim2), offset above (> 0) or below (< 0) the main
    one, as the last dimension.

    Args:
        input (Tensor): at least 2-D.
        offset (int): which diagonal.
        dim1 (int): the rows' dimension.
        dim2 (int): the columns' dimension.

    Returns:
        Tensor: a view, the other dimensions then the diagonal.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.diagonal(A), chainrule.diagonal(A, offset=1)
        (tensor([2., 3.]), tensor([1.]))
    """
    ndim = input.ndim
    first = normalize_dim("diagonal", dim1, ndim)
    second = normalize_dim("diagonal", dim2, ndim)
    if first == second:
        raise ShapeError(f"diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(Diagonal, (input,), int(offset), first, second)


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: N803
    """torch.linalg.diagonal: `diagonal` over the last two dimensions by default (a view).

    Args:
        A (Tensor): at least 2-D.
        offset (int): which diagonal (above the main one when positive).
        dim1 (int): the rows' dimension.
        dim2 (int): the columns' dimension.

    Returns:
        Tensor: a view, the other dimensions then the diagonal.

    Example:
        >>> import chainrule
        >>> chainrule.linalg.diagonal(chainrule.ones(5, 2, 3)).shape
        chainrule.Size([5, 2])
    """
    return diagonal(A, offset, dim1, dim2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """Matrices (over output dims dim1, dim2) with input's last dimension on their diagonal.

    Args:
        input (Tensor): (*, n).
        offset (int): which diagonal.
        dim1 (int): the rows' dimension of the output.
        dim2 (int): the columns' dimension of the output.

    Returns:
        Tensor: (*, n + |offset|, n + |offset|) for the default dims.

    Example:
        >>> import chainrule
        >>> chainrule.diag_embed(chainrule.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
    """
    ndim = input.ndim + 1
    first = normalize_dim("diag_embed", dim1, ndim)
    second = normalize_dim("diag_embed", dim2, ndim)
    if first == second:
        raise ShapeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    if input.ndim == 0:
        raise ShapeError("diag_embed: input must have at least 1 dimension, got a 0-dim tensor")
    size = input.shape[-1] + abs(int(offset))
    shape = list(input.shape[:-1])
    for position in sorted((first, second)):
        shape.insert(position, size)
    return named(
        apply(DiagonalScatter, (input,), tuple(shape), int(offset), first, second),
        "DiagEmbedBackward0",
    )


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A vector becomes a square matrix with it on diagonal `diagonal`; a matrix gives that
    diagonal as a new (copied) vector.

    Args:
        input (Tensor): 1-D or 2-D.
        diagonal (int): which diagonal (above the main one when positive).

    Returns:
        Tensor: 2-D for a vector, 1-D for a matrix.

    Example:
        >>> import chainrule
        >>> chainrule.diag(chainrule.tensor([1, 2]))
        tensor([[1, 0],
                [0, 2]])
        >>> chainrule.diag(chainrule.tensor([[1, 2], [3, 4]]))
        tensor([1, 4])
    """
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        out = clone(apply(Diagonal, (input,), int(diagonal), 0, 1))
        return named(out, "DiagonalBackward0_copy")  # sic: PyTorch's copying diagonal
    raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D (shape {input.shape})")


class Tril(Op):
    """The lower triangle (on and below diagonal k) of the last two dimensions, zeros above.
    Derivative: the lower triangle of g (a linear projection)."""

    @staticmethod
    def forward(ctx: Node, x: Array, k: int) -> Array:
        ctx.save(k=k)
        return in_c_order(ctx.xp.tril(x, k))  # a new row-major tensor, as PyTorch's

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(Tril, (g,), ctx.k),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Tril, (t,), ctx.k)

    batch = elementwise_batch  # matrices in the last two dims broadcast


class Triu(Op):
    """The upper triangle (on and above diagonal k), zeros below. Derivative: triu of g."""

    @staticmethod
    def forward(ctx: Node, x: Array, k: int) -> Array:
        ctx.save(k=k)
        return in_c_order(ctx.xp.triu(x, k))  # a new row-major tensor, as PyTorch's

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(Triu, (g,), ctx.k),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Triu, (t,), ctx.k)

    batch = elementwise_batch  # matrices in the last two dims broadcast


def _check_triangle(op_name: str, x: Any) -> None:
    if x.ndim < 2:
        raise ShapeError(
            f"{op_name}: input tensor must have at least 2 dimensions, got shape {tuple(x.shape)}"
        )


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of each matrix in the batch, on and below `diagonal`; zeros above.

    Args:
        input (Tensor): (*, n, m).
        diagonal (int): the last diagonal kept (above the main one when positive).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.tril(chainrule.ones(2, 2))
        tensor([[1., 0.],
                [1., 1.]])
    """
    _check_triangle("tril", input)
    return apply(Tril, (input,), int(diagonal))


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of each matrix in the batch, on and above `diagonal`; zeros below.

    Args:
        input (Tensor): (*, n, m).
        diagonal (int): the first diagonal kept (above the main one when positive).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.triu(chainrule.ones(2, 2), 1)
        tensor([[0., 1.],
                [0., 0.]])
    """
    _check_triangle("triu", input)
    return apply(Triu, (input,), int(diagonal))


# ---- inverses and determinants --------------------------------------------------------------


@holomorphic
class Inv(Op):
    """A^-1 for a batch of square matrices. Derivative: -A^-T g A^-T (from the saved output);
    tangent -A^-1 t A^-1."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgInvExBackward0"  # PyTorch's name

    label = "linalg.inv"

    @staticmethod
    def forward(ctx: Node, a: Array) -> Array:
        try:
            out = ctx.xp.linalg.inv(a)
        except ctx.xp.linalg.LinAlgError as error:
            raise _factorization_error(ctx.xp, "linalg.inv", a, error) from None
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out_t = _mT(ctx.out)
        return (-_product(Matmul, (_product(Matmul, (out_t, g)), out_t)),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        out = ctx.out
        return -_product(Matmul, (_product(Matmul, (out, t)), out))

    batch = elementwise_batch  # matrices in the last two dims broadcast


@autocast_policy(FLOAT32)
def inv(A: Tensor, *, out: Tensor | Sequence[Tensor] | None = None) -> Tensor:  # noqa: N803
    """The inverse of each square matrix in the batch; LinAlgError when one is singular.

    Args:
        A (Tensor): floating point (*, n, n), a batch of square matrices.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the shape of `A`.

    Example:
        >>> import chainrule
        >>> chainrule.linalg.inv(2 * chainrule.eye(2))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.5000]])
    """
    if out is not None:
        return write_outs("linalg.inv", inv(A), out)
    _check_linalg_input("linalg.inv", A, complex_ok=True)
    return _product(Inv, (A,))


@autocast_policy(FLOAT32)
def inverse(input: Tensor, *, out: Tensor | Sequence[Tensor] | None = None) -> Tensor:  # noqa: A002
    """torch.inverse: the same as linalg.inv.

    Args:
        input (Tensor): floating point (*, n, n).
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.inverse(A)
        tensor([[ 0.6000, -0.2000],
                [-0.2000,  0.4000]])
    """
    if out is not None:
        return write_outs("inverse", inverse(input), out)
    _check_linalg_input("inverse", input, "input", complex_ok=True)
    return _product(Inv, (input,))


def _backward_inv(op_name: str, a: Any) -> Any:
    try:
        return _product(Inv, (a,))
    except LinAlgError:
        raise LinAlgError(
            f"{op_name}: the derivative at a singular matrix is not supported by chainrule "
            f"(shape {tuple(a.shape)})"
        ) from None


def _batched_trace(x: Any) -> Any:
    return _product(Einsum, (x,), "...ii->...".replace("...", _LETTERS[: x.ndim - 2]))


SlogdetResult = return_type("slogdet", ("sign", "logabsdet"))
LinalgSlogdetResult = return_type("linalg_slogdet", ("sign", "logabsdet"))


class Slogdet(Op):
    """(sign, log|det A|), sign = det / |det| (complex for complex A). Derivative: with
    c = g_logabsdet + i Im(g_sign conj(sign)), gA = c A^-H (PyTorch's); for real A the sign is
    piecewise constant and c = g_logabsdet (its output is float and in the graph, as in
    PyTorch). Tangent: l = tr(A^-1 t), d logabsdet = Re l, d sign = i Im(l) sign."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgSlogdetBackward0"  # PyTorch's name

    label = "linalg.slogdet"

    @staticmethod
    def forward(ctx: Node, a: Array) -> tuple:
        sign, logabsdet = ctx.xp.linalg.slogdet(a)
        ctx.save(a=a, sign=sign)
        return (sign, logabsdet)

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """A real sign is piecewise constant: without a cotangent for logabsdet, A gets no
        gradient (None, as PyTorch's), and a singular A is no error."""
        if not ctx.a.is_complex() and grads[1] is None:
            return grads
        return Op.materialize_grads(ctx, grads)

    @staticmethod
    def vjp(ctx: Node, g_sign: Any, g_logabsdet: Any) -> tuple:
        if g_logabsdet is None:
            return (None,)
        inverse_h = _mH(_backward_inv("slogdet", ctx.a))
        if ctx.a.is_complex():
            g_logabsdet = make_complex(g_logabsdet, imag(g_sign * conj(ctx.sign)))
        return (_unsqueeze_matrix(g_logabsdet) * inverse_h,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        """d log det = tr(A^-1 t) = sum(A^-T * t): its real part for logabsdet, and for a
        complex A, i Im(...) times the sign; a real sign has no tangent."""
        inverse_t = _mT(_backward_inv("slogdet", ctx.a))
        d_logdet = (inverse_t * t).sum((-2, -1))
        if not ctx.a.is_complex():
            return (None, d_logdet)
        d_logabsdet = real(d_logdet)
        return (ctx.sign * (d_logdet - d_logabsdet), d_logabsdet)

    batch = elementwise_batch  # matrices in the last two dims broadcast


def slogdet(A: Tensor) -> Tensor:  # noqa: N803
    """(sign, logabsdet) with det(A) = sign * exp(logabsdet), stable where det over/underflows;
    for a complex A the sign is the complex number det / |det|.

    Args:
        A (Tensor): floating point or complex (*, n, n), a batch of square matrices.

    Returns:
        (Tensor, Tensor): a named tuple (sign, logabsdet), each (*,).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.slogdet(A)
        chainrule.return_types.slogdet(
        sign=tensor(1.),
        logabsdet=tensor(1.6094))
    """
    _check_linalg_input("linalg.slogdet", A, complex_ok=True)
    sign, logabsdet = apply(Slogdet, (A,))
    return SlogdetResult(sign, logabsdet)


def linalg_slogdet(A: Tensor, *, out: Tensor | Sequence[Tensor] | None = None) -> Tensor:  # noqa: N803
    """torch.linalg.slogdet: `slogdet`'s (sign, logabsdet), named as PyTorch's linalg result.

    Args:
        A (Tensor): floating point or complex (*, n, n), a batch of square matrices.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (sign, logabsdet), each (*,).

    Example:
        >>> import chainrule
        >>> chainrule.linalg.slogdet(chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])).logabsdet
        tensor(1.6094)
    """
    if out is not None:
        return write_outs("linalg.slogdet", linalg_slogdet(A), out)
    return LinalgSlogdetResult(*slogdet(A))


def logdet(input: Tensor) -> Tensor:  # noqa: A002
    """log(det(input)): nan where the determinant is negative, -inf where it is zero; for a
    complex input the principal complex logarithm, logabsdet + log(sign), as PyTorch.

    Args:
        input (Tensor): floating point or complex (*, n, n).

    Returns:
        Tensor: (*,).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.logdet(A)
        tensor(1.6094)
    """
    _check_linalg_input("logdet", input, "input", complex_ok=True)
    sign, logabsdet = apply(Slogdet, (input,))
    if input.is_complex():
        return logabsdet + log(sign)
    return where(sign < 0, math.nan, logabsdet)


# ---- solves and factorizations --------------------------------------------------------------


@holomorphic
class Solve(Op):
    """X = A^-1 B for batches that broadcast. Derivatives: gB = A^-T g, gA = -gB X^T, each
    summed over its broadcast batch dimensions."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgSolveExBackward0"  # PyTorch's name

    label = "linalg.solve"

    @staticmethod
    def forward(ctx: Node, a: Array, b: Array) -> Array:
        try:
            out = ctx.xp.linalg.solve(a, b)
        except ctx.xp.linalg.LinAlgError as error:
            raise _factorization_error(ctx.xp, "linalg.solve", a, error) from None
        ctx.save(a=a, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_b = _product(Solve, (_mT(ctx.a), g))
        grad_a = None
        if ctx.next_edges[0] is not None:
            grad_a = unbroadcast(-_product(Matmul, (grad_b, _mT(ctx.out))), ctx.input_meta[0][0])
        return (grad_a, unbroadcast(grad_b, ctx.input_meta[1][0]))

    @staticmethod
    def jvp(ctx: Node, ta: Any, tb: Any) -> Any:
        rhs = tb
        if ta is not None:
            correction = _product(Matmul, (ta, ctx.out))
            rhs = -correction if rhs is None else rhs - correction
        return _product(Solve, (ctx.a, rhs))

    batch = elementwise_batch  # matrices in the last two dims broadcast


def _check_solve_operands(op_name: str, A: Any, B: Any) -> None:  # noqa: N803
    _check_linalg_input(op_name, A, complex_ok=True)
    if B._array.dtype != A._array.dtype:
        raise DTypeError(
            f"{op_name}: expected A and B to have the same dtype, but got {A.dtype.name} "
            f"and {B.dtype.name}"
        )


def _solve_batches(op_name: str, A: Any, B: Any) -> None:  # noqa: N803
    try:
        broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ShapeError:
        raise ShapeError(
            f"{op_name}: the batch dimensions of A {tuple(A.shape)} and B {tuple(B.shape)} "
            "cannot be broadcast together"
        ) from None


@autocast_policy(FLOAT32)
def solve(
    A: Tensor,  # noqa: N803
    B: Tensor,  # noqa: N803
    *,
    left: bool = True,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """X with A X = B (left) or X A = B (left=False). B is a batch of vectors when it is 1-D
    or has A's shape without the last dimension, as in PyTorch.

    Args:
        A (Tensor): floating point (*, n, n), a batch of square matrices.
        B (Tensor): (*, n, k) or (*, n).
        left (bool): solve A X = B (True) or X A = B.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the shape of `B` (broadcast).

    Example:
        >>> import chainrule
        >>> chainrule.linalg.solve(2 * chainrule.eye(2), chainrule.ones(2))
        tensor([0.5000, 0.5000])
    """
    if out is not None:
        return write_outs("linalg.solve", solve(A, B=B, left=left), out)
    _check_solve_operands("linalg.solve", A, B)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    matrices = unsqueeze(B, -1) if vector else B
    if matrices.ndim < 2:
        raise ShapeError(f"linalg.solve: B must have at least 1 dimension, got shape {B.shape}")
    n = A.shape[-1]
    fits = matrices.shape[-2] == n if left else matrices.shape[-1] == n
    if not fits:
        equation = "AX = B" if left else "XA = B"
        raise ShapeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation {equation} "
            f"({A.shape[-2]}x{n} and {matrices.shape[-2]}x{matrices.shape[-1]}; "
            f"A shape {tuple(A.shape)}, B shape {tuple(B.shape)})"
        )
    _solve_batches("linalg.solve", A, matrices)
    if left:
        out = _product(Solve, (A, matrices))
    else:
        out = _mT(_product(Solve, (_mT(A), _mT(matrices)))).contiguous()  # as PyTorch's
    return named(squeeze(out, -1) if vector else out, "LinalgSolveExBackward0")


@holomorphic
class SolveTriangular(Op):
    """X = A^-1 B (left) or B A^-1 with A triangular: only A's triangle is read (and not its
    diagonal when unitriangular). By substitution, so a zero on the diagonal gives inf/nan
    as in PyTorch. Derivatives: gB = the solve with A^T; gA = -gB X^T (left) or -X^T gB,
    restricted to A's triangle (holomorphic: conjugate transposes for complex operands)."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgSolveTriangularBackward0"  # PyTorch's name

    label = "linalg.solve_triangular"

    @staticmethod
    def forward(ctx: Node, a: Array, b: Array, upper: bool, left: bool, unit: bool) -> Array:
        ctx.save(upper=upper, left=left, unit=unit)
        xp = ctx.xp
        if left:
            out = _substitute(xp, a, b, upper, unit)
        else:  # X A = B  <=>  A^T X^T = B^T, whose triangle is the other one
            a_t, b_t = xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2)
            out = xp.swapaxes(_substitute(xp, a_t, b_t, not upper, unit), -1, -2)
        ctx.save(a=a, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        a, out = ctx.a, ctx.out
        upper, left, unit = ctx.upper, ctx.left, ctx.unit
        grad_b = _product(SolveTriangular, (_mT(a), g), not upper, left, unit)
        grad_a = None
        if ctx.next_edges[0] is not None:
            if left:
                grad_a = -_product(Matmul, (grad_b, _mT(out)))
            else:
                grad_a = -_product(Matmul, (_mT(out), grad_b))
            shift = 1 if unit else 0
            grad_a = apply(Triu, (grad_a,), shift) if upper else apply(Tril, (grad_a,), -shift)
            grad_a = unbroadcast(grad_a, ctx.input_meta[0][0])
        return (grad_a, unbroadcast(grad_b, ctx.input_meta[1][0]))

    @staticmethod
    def jvp(ctx: Node, ta: Any, tb: Any) -> Any:
        """dX = A^-1 (dB - dA X) (left) or (dB - X dA) A^-1, dA restricted to A's triangle."""
        a, out = ctx.a, ctx.out
        upper, left, unit = ctx.upper, ctx.left, ctx.unit
        rhs = tb
        if ta is not None:
            shift = 1 if unit else 0
            ta = apply(Triu, (ta,), shift) if upper else apply(Tril, (ta,), -shift)
            correction = _product(Matmul, (ta, out) if left else (out, ta))
            rhs = -correction if rhs is None else rhs - correction
        if rhs.shape != out.shape:
            rhs = expand(rhs, out.shape)
        return _product(SolveTriangular, (a, rhs), upper, left, unit)

    batch = elementwise_batch  # matrices in the last two dims broadcast


def _substitute(xp: Any, a: Array, b: Array, upper: bool, unit: bool) -> Array:
    """Forward (lower) or back (upper) substitution for A X = B, one row at a time."""
    n = a.shape[-1]
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    dtype = xp.result_type(a, b)
    out = xp.zeros(batch + b.shape[-2:], dtype=dtype)
    order = range(n - 1, -1, -1) if upper else range(n)
    for i in order:
        done = slice(i + 1, n) if upper else slice(0, i)
        row = b[..., i, :] - xp.matmul(a[..., i : i + 1, done], out[..., done, :])[..., 0, :]
        out[..., i, :] = row if unit else row / a[..., i, i : i + 1]
    return out


def solve_triangular(
    A: Tensor,  # noqa: N803
    B: Tensor,  # noqa: N803
    *,
    upper: bool,
    left: bool = True,
    unitriangular: bool = False,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """X with A X = B (or X A = B when left=False) for triangular A; the other triangle of A
    is never read, nor its diagonal when unitriangular.

    Args:
        A (Tensor): (*, n, n), triangular.
        B (Tensor): (*, n, k) (or (*, k, n) with left=False).
        upper (bool): A is upper (True) or lower triangular; required.
        left (bool): solve A X = B (True) or X A = B.
        unitriangular (bool): take A's diagonal as ones.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the shape of `B`.

    Example:
        >>> import chainrule
        >>> L = chainrule.tensor([[2.0, 0.0], [1.0, 1.0]])
        >>> chainrule.linalg.solve_triangular(L, chainrule.tensor([[2.0], [3.0]]), upper=False)
        tensor([[1.],
                [2.]])
    """
    if out is not None:
        return write_outs(
            "linalg.solve_triangular",
            solve_triangular(A, B=B, upper=upper, left=left, unitriangular=unitriangular),
            out,
        )
    _check_solve_operands("linalg.solve_triangular", A, B)
    if B.ndim < 2:
        raise ShapeError(
            f"linalg.solve_triangular: B must have at least 2 dimensions, got shape {B.shape}"
        )
    n = A.shape[-1]
    fits = B.shape[-2] == n if left else B.shape[-1] == n
    if not fits:
        equation = "AX = B" if left else "XA = B"
        raise ShapeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
            f"{equation} (A shape {tuple(A.shape)}, B shape {tuple(B.shape)})"
        )
    _solve_batches("linalg.solve_triangular", A, B)
    return _product(SolveTriangular, (A, B), bool(upper), bool(left), bool(unitriangular))


class Cholesky(Op):
    """L with A = L L^H (or U with A = U^H U when upper) for Hermitian (real: symmetric)
    positive-definite A; only A's lower triangle is read (its upper one when upper, as
    LAPACK's potrf with uplo 'U', so a matrix filled above the diagonal only factors as under
    PyTorch). Derivative (Murray 2016, PyTorch's
    formula, Hermitian): gA = L^-H Phi L^-1 with Phi = tril(L^H gL) made Hermitian from its
    strictly lower part, its diagonal halved."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgCholeskyExBackward0"  # PyTorch's name

    label = "linalg.cholesky"

    @staticmethod
    def forward(ctx: Node, a: Array, upper: bool) -> Array:
        ctx.save(upper=upper)
        xp = ctx.xp
        try:
            # the upper triangle of A is the lower one of A^H: factor that, return its L^H
            lower = xp.linalg.cholesky(xp.conj(xp.swapaxes(a, -1, -2)) if upper else a)
            if xp.isnan(xp.diagonal(lower, axis1=-2, axis2=-1).real).any():
                raise xp.linalg.LinAlgError("nan pivot")  # LAPACK's potrf stops at a nan pivot
        except xp.linalg.LinAlgError as error:
            raise _factorization_error(xp, "linalg.cholesky", a, error) from None
        out = xp.ascontiguousarray(xp.conj(xp.swapaxes(lower, -1, -2))) if upper else lower
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        lower, g_lower = ctx.out, g
        if ctx.upper:
            lower, g_lower = _mH(lower), _mH(g)
        phi = apply(Tril, (_product(Matmul, (_mH(lower), g_lower)),), 0)
        phi = 0.5 * (phi + _mH(apply(Tril, (phi,), -1)))
        grad = _product(SolveTriangular, (_mH(lower), phi), True, True, False)
        grad = _product(SolveTriangular, (lower, grad), False, False, False)
        return (grad,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        """dL = L Phi(L^-1 S L^-H), Phi the lower triangle with the diagonal halved, for the
        Hermitian part S of t: the adjoint of the (Hermitian) vjp, as PyTorch assumes a
        Hermitian tangent."""
        lower = _mH(ctx.out) if ctx.upper else ctx.out
        hermitian = 0.5 * (t + _mH(t))
        inner = _product(SolveTriangular, (lower, hermitian), False, True, False)  # L^-1 S
        inner = _product(SolveTriangular, (_mH(lower), inner), True, False, False)  # ... L^-H
        phi = 0.5 * (apply(Tril, (inner,), 0) + apply(Tril, (inner,), -1))
        tangent = _product(Matmul, (lower, phi))
        return _mH(tangent) if ctx.upper else tangent

    batch = elementwise_batch  # matrices in the last two dims broadcast


@autocast_policy(FLOAT32)
def cholesky(
    A: Tensor,  # noqa: N803
    *,
    upper: bool = False,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """The Cholesky factor of each Hermitian (real: symmetric) positive-definite matrix in the
    batch; raises LinAlgError when one is not positive-definite.

    Args:
        A (Tensor): floating point (*, n, n), symmetric (Hermitian) positive-definite.
        upper (bool): return the upper factor U = L^H instead.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the shape of `A`.

    Example:
        >>> import chainrule
        >>> chainrule.linalg.cholesky(chainrule.tensor([[4.0, 2.0], [2.0, 2.0]]))
        tensor([[2., 0.],
                [1., 1.]])
    """
    if out is not None:
        return write_outs("linalg.cholesky", cholesky(A, upper=upper), out)
    _check_linalg_input("linalg.cholesky", A, complex_ok=True)
    return apply(Cholesky, (A,), bool(upper))


# ---- other compositions -------------------------------------------------------------------


def _vector_norm(*args: Any, **kwargs: Any) -> Any:
    return reduction.vector_norm(*args, **kwargs)


@autocast_policy(LOWER)
def vecdot(
    x: Tensor, y: Tensor, *, dim: int = -1, out: Tensor | Sequence[Tensor] | None = None
) -> Tensor:
    """Dot products of vectors along `dim`, batched with broadcasting: sum(conj(x) * y), as
    torch.linalg.vecdot.

    Args:
        x (Tensor): the first vectors (conjugated).
        y (Tensor): the second; broadcasts with `x`.
        dim (int): the dimension of the vectors.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the broadcast shape without `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.linalg.vecdot(chainrule.tensor([[1.0, 2.0]]), chainrule.tensor([[3.0, 4.0]]))
        tensor([11.])
    """
    if out is not None:
        return write_outs("linalg.vecdot", vecdot(x, y=y, dim=dim), out)

    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(
            f"linalg.vecdot: expected tensors of at least 1 dimension, got shapes "
            f"{tuple(x.shape)} and {tuple(y.shape)}"
        )
    _check_same_dtype("linalg.vecdot", x, y)
    if x._array.dtype.kind not in "fcV":
        raise DTypeError(
            f"linalg.vecdot: Expected a floating point or complex tensor as input. Got "
            f"{x.dtype.name}"
        )
    return reduction.sum(conj(x) * y, dim)


def multi_dot(tensors: Sequence[Tensor], *, out: Tensor | Sequence[Tensor] | None = None) -> Tensor:
    """The product of a chain of matrices; the first and last may be vectors.

    Args:
        tensors (sequence of Tensors): two or more, 2-D except perhaps the first and last.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the product (vector ends dropped, as `matmul`).

    Example:
        >>> import chainrule
        >>> chain = [chainrule.ones(2, 3), chainrule.ones(3, 4), chainrule.ones(4)]
        >>> chainrule.linalg.multi_dot(chain).shape
        chainrule.Size([2])
    """
    if out is not None:
        return write_outs("linalg.multi_dot", multi_dot(tensors), out)
    if len(tensors) < 2:
        raise ShapeError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    for index, tensor in enumerate(tensors):
        allowed = (1, 2) if index in (0, len(tensors) - 1) else (2,)
        if tensor.ndim not in allowed:
            raise ShapeError(
                f"linalg.multi_dot: tensor {index} must be {' or '.join(map(str, allowed))}-D, "
                f"got shape {tuple(tensor.shape)}"
            )
    result = tensors[0]
    for tensor in tensors[1:]:
        result = matmul(result, tensor)
    return named(result, "ViewBackward0")


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D tensors, as linalg.multi_dot (deprecated in PyTorch, which warns).

    Args:
        matrices (Tensor...): 2-D tensors whose inner sizes agree.

    Returns:
        Tensor: the product.

    Example:
        >>> import chainrule
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     product = chainrule.chain_matmul(chainrule.eye(2), chainrule.ones(2, 3))
        >>> product.shape
        chainrule.Size([2, 3])
    """
    warn_once(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
        "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
        "multiple parameters."
    )
    if not matrices:
        raise ShapeError("chain_matmul(): Expected one or more matrices")
    for index, matrix in enumerate(matrices):
        if matrix.ndim != 2:
            raise ShapeError(
                f"chain_matmul: tensor {index} must be 2-D, got shape {tuple(matrix.shape)}"
            )
    if len(matrices) == 1:
        return clone(matrices[0])
    for matrix in matrices[1:]:
        _check_same_dtype("chain_matmul", matrices[0], matrix)
    return multi_dot(matrices)


_CDIST_MODES = (
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


@autocast_policy(FLOAT32)
def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """The p-norm distances between each row of x1 (..., P, M) and each row of x2 (..., R, M),
    as (..., P, R); batch dimensions broadcast. Derivatives as PyTorch's: 0 where a distance
    is 0 (p = 2 and p < 1 alike, never nan), sign(x1 - x2) for p = 1, and for p = inf the full
    gradient to every coordinate attaining the maximum. For p = 2 with more than 25 rows (or
    compute_mode 'use_mm_for_euclid_dist'), |a|^2 + |b|^2 - 2 a.b through one matrix product,
    as PyTorch.

    Args:
        x1 (Tensor): floating point (*, P, M).
        x2 (Tensor): (*, R, M), of the dtype of `x1`.
        p (float): the norm's order, not negative (inf allowed).
        compute_mode (str): 'use_mm_for_euclid_dist_if_necessary', 'use_mm_for_euclid_dist' or
            'donot_use_mm_for_euclid_dist'.

    Returns:
        Tensor: (*, P, R).

    Example:
        >>> import chainrule
        >>> points = chainrule.tensor([[3.0, 4.0], [0.0, 1.0]])
        >>> chainrule.cdist(chainrule.tensor([[0.0, 0.0]]), points)
        tensor([[5., 1.]])
    """
    for name, x in (("x1", x1), ("x2", x2)):
        if x.ndim < 2:
            raise ShapeError(f"cdist only supports at least 2D tensors, {name} has shape {x.shape}")
        if x._array.dtype.kind not in "fV":
            raise DTypeError(
                f"cdist only supports floating-point dtypes, {name} is {x.dtype.name} (shape "
                f"{x.shape})"
            )
    _check_same_dtype("cdist", x1, x2)
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(
            f"cdist: x1 and x2 must have the same number of columns, got shapes {x1.shape} and "
            f"{x2.shape}"
        )
    if p < 0:
        raise DomainError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"cdist: {compute_mode!r} is not a valid compute_mode: {_CDIST_MODES}")
    try:
        batch = broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ShapeError:
        raise ShapeError(
            f"cdist: the batch dimensions of shapes {x1.shape} and {x2.shape} do not broadcast"
        ) from None
    x1 = expand(x1, batch + tuple(x1.shape[-2:]))
    x2 = expand(x2, batch + tuple(x2.shape[-2:]))
    if x1.shape[-1] == 0:  # no coordinates: every distance is 0
        zeros = x1._backend.xp.zeros(batch + (x1.shape[-2], x2.shape[-2]), x1._array.dtype)
        return Tensor._from_array(zeros)
    many_rows = max(x1.shape[-2], x2.shape[-2]) > 25
    by_product = compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == _CDIST_MODES[0] and many_rows
    )
    if p == 2 and by_product:
        return named(_euclidean_by_product(x1, x2), "ViewBackward0")
    difference = unsqueeze(x1, -2) - unsqueeze(x2, -3)  # (..., P, R, M)
    return named(distance_norm(difference, p), "CdistBackward0")


def distance_norm(difference: Tensor, p: float) -> Tensor:
    """The p-norm over the last dimension with the derivatives PyTorch's cdist and pdist share
    (and vector_norm does not): for p = inf the full gradient to every tied coordinate, for
    p = 0 a zero gradient rather than none."""
    if p == math.inf:
        return _largest_coordinate(difference)
    if p == 0:
        return _nonzero_count(difference)
    return _vector_norm(difference, p, -1)


def _euclidean_by_product(x1: Any, x2: Any) -> Any:
    """sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0)) for every pair of rows; the square root's gradient
    is 0 where the distance is 0 (PyTorch's _euclidean_dist_backward), not inf or nan."""

    squares1 = reduction.sum(x1 * x1, -1, keepdim=True)  # (..., P, 1)
    squares2 = _mT(reduction.sum(x2 * x2, -1, keepdim=True))  # (..., 1, R)
    squared = squares1 + squares2 - 2 * _product(Matmul, (x1, _mT(x2)))
    positive = squared > 0
    return where(positive, sqrt(where(positive, squared, 1.0)), 0.0)


def _nonzero_count(difference: Any) -> Any:
    """The number of nonzero coordinates, with PyTorch's zero gradient (cdist's p = 0 backward
    is zeros for both inputs, where a plain count would leave them unreached)."""

    count = _vector_norm(difference.detach(), 0, -1)
    nowhere = Tensor._from_array(difference._backend.xp.zeros(difference.shape, bool))
    return count + reduction.sum(where(nowhere, difference, 0.0), -1)


def _largest_coordinate(difference: Any) -> Any:
    """max |difference| over the last dimension, its gradient going in full to every
    coordinate that attains it (PyTorch's cdist; amax would split it between ties): the
    maximum as a constant, plus each tied coordinate's (zero) distance from it."""

    magnitude = _abs(difference)
    peak = reduction.amax(magnitude.detach(), -1, keepdim=True)
    ties = magnitude == peak
    return squeeze(peak, -1) + reduction.sum(where(ties, magnitude - peak, 0.0), -1)


def matrix_power(A: Tensor, n: int, *, out: Tensor | Sequence[Tensor] | None = None) -> Tensor:  # noqa: N803
    """A^n by repeated squaring; n = 0 gives identities, n < 0 powers of the inverse. The
    result is always a new tensor (A^1 a copy of A, A^0 identities whose gradient is zero).

    Args:
        A (Tensor): (*, n, n).
        n (int): the power.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the shape of `A`.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.matrix_power(A, 2)
        tensor([[ 5.,  5.],
                [ 5., 10.]])
    """
    if out is not None:
        return write_outs("linalg.matrix_power", matrix_power(A, n=n), out)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"linalg.matrix_power: A must be batches of square matrices, got shape {tuple(A.shape)}"
        )
    if n == 0:  # a new writable tensor, as PyTorch's; tied to A with a zero gradient
        identity = Tensor._from_array(A._backend.xp.eye(A.shape[-1], dtype=A._array.dtype))
        identities = expand(identity, tuple(A.shape))
        return clone(A).copy_(identities) if A.requires_grad else clone(identities)
    if n == 1:  # a copy, never A itself: writing into the result must leave A as it was
        return clone(A)
    base = inv(A) if n < 0 else A
    result = None
    power = abs(n)
    while power:
        if power & 1:
            result = base if result is None else _product(Matmul, (result, base))
        power >>= 1
        if power:
            base = _product(Matmul, (base, base))
    return result


def diagflat(input: Tensor, offset: int = 0) -> Tensor:  # noqa: A002
    """A square matrix with the flattened input on diagonal `offset` (above the main one when
    positive), zeros elsewhere.

    Args:
        input (Tensor): any shape, flattened.
        offset (int): which diagonal.

    Returns:
        Tensor: (n + |offset|, n + |offset|), n = input.numel().

    Example:
        >>> import chainrule
        >>> chainrule.diagflat(chainrule.tensor([[1, 2], [3, 4]]))
        tensor([[1, 0, 0, 0],
                [0, 2, 0, 0],
                [0, 0, 3, 0],
                [0, 0, 0, 4]])
    """

    return diag(reshape(input, (-1,)), offset)
