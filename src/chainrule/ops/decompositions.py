"""Matrix decompositions and what PyTorch builds on them: svd, eigh, eig, qr, matrix_exp, LU,
pinv, lstsq, matrix_rank, cond and the matrix norms that need singular values.

Each decomposition is one op whose vjp and jvp are PyTorch's formulas written in
differentiable chainrule ops (matmul, triangular solves, the decomposition's own saved
outputs), so second and higher derivatives come free. The formulas are PyTorch's complex ones,
written with the conjugate transpose `_mH` (the transpose for a real matrix, where conj is the
identity): one code path serves real and complex matrices, and complex products go through
Matmul's and SolveTriangular's complex variants. The derivative formulas divide by
differences of singular values (or eigenvalues): where two of them coincide the derivative of
the singular vectors does not exist, and the result holds inf/nan exactly as PyTorch's does,
unless only the values are differentiated (svdvals, eigvalsh, the norms), which never divides.

The routines are NumPy's and CuPy's `linalg` (svd, eigh, eig, qr, solve, inv, cholesky);
NumPy has no matrix exponential and no LU factorization, so both are written here
in array operations (Higham's scaling and squaring with the [13/13] Padé approximant; LU with
partial pivoting, column by column over the whole batch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import Node
from chainrule.autograd.observers import observers, tell
from chainrule.backend import Array, dtypes, is_array
from chainrule.errors import DomainError, DTypeError, GradError, LinAlgError, ShapeError
from chainrule.ops import reduction
from chainrule.ops.arguments import return_type
from chainrule.ops.autocast import FLOAT32, autocast_policy
from chainrule.ops.complex import conj, holomorphic, real
from chainrule.ops.conversion import write_outs
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.elementwise import cast, elementwise_batch, where
from chainrule.ops.linalg import (
    Cholesky,
    Inv,
    Matmul,
    SolveTriangular,
    Tril,
    Triu,
    _check_linalg_input,
    _cholesky_arrays,
    _linalg_call,
    _lu_arrays,
    _product,
    diag_embed,
    diagonal,
    solve,
)
from chainrule.ops.op import NoDerivative, Op, apply, named
from chainrule.ops.shape import cat, flip, normalize_dim, squeeze, transpose, unsqueeze

__all__: list[str] = []  # torch.linalg names only: chainrule.linalg re-exports them

SvdResult = return_type("linalg_svd", ["U", "S", "Vh"])
EighResult = return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
EigResult = return_type("linalg_eig", ["eigenvalues", "eigenvectors"])
QrResult = return_type("linalg_qr", ["Q", "R"])
LstsqResult = return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
LuFactorResult = return_type("linalg_lu_factor", ["LU", "pivots"])
LuFactorExResult = return_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LuResult = return_type("linalg_lu", ["P", "L", "U"])
CholeskyExResult = return_type("linalg_cholesky_ex", ["L", "info"])
InvExResult = return_type("linalg_inv_ex", ["inverse", "info"])


# ---- helpers -------------------------------------------------------------------------------


def _mT(x: Any) -> Any:  # noqa: N802 - PyTorch's spelling of a batched transpose
    return transpose(x, -1, -2)


def _mH(x: Any) -> Any:  # noqa: N802 - PyTorch's spelling of a batched conjugate transpose
    """The conjugate transpose; for a real matrix the transpose (conj returns it as is)."""
    return conj(transpose(x, -1, -2))


def _mm(x: Any, y: Any) -> Any:
    """x @ y, complex operands through Matmul's complex variant (its vjp conjugates)."""
    return _product(Matmul, (x, y))


def _eye(like: Any, n: int, m: int | None = None) -> Tensor:
    """The identity (n x m) in `like`'s dtype and on its device, outside any graph."""
    backend = like._backend
    return Tensor._from_array(backend.xp.eye(n, m, dtype=like._array.dtype), backend)


def _tril(x: Any, diagonal: int = 0) -> Any:
    return apply(Tril, (x,), diagonal)


def _triu(x: Any, diagonal: int = 0) -> Any:
    return apply(Triu, (x,), diagonal)


def _solve(a: Any, b: Any, upper: bool, left: bool, unit: bool = False) -> Any:
    """A^-1 B (left) or B A^-1 for triangular A: SolveTriangular, differentiable."""
    return _product(SolveTriangular, (a, b), upper, left, unit)


def _inverse_differences(values: Any) -> Any:
    """F with F_ij = 1 / (values_j - values_i) off the diagonal and 0 on it: inf where two
    values coincide, as in PyTorch."""
    differences = unsqueeze(values, -2) - unsqueeze(values, -1)
    n = values.shape[-1]
    eye = _eye(values, n)
    return (1 - eye) / (differences + eye)


def _check_float_matrix(op_name: str, x: Any, name: str = "A") -> None:
    """A batch of (not necessarily square) float32/float64/complex64/complex128 matrices."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op_name}: expected a Tensor as {name}, got {type(x).__name__}")
    if x._array.dtype.kind not in "fc" or x._array.dtype.itemsize < 4:
        raise DTypeError(
            f"{op_name}: expected a float32, float64, complex64 or complex128 tensor as {name}, "
            f"got {x.dtype.name}"
        )
    if x.ndim < 2:
        raise ShapeError(
            f"{op_name}: {name} must have at least 2 dimensions, got shape {tuple(x.shape)}"
        )


def _empty(like: Any, dtype: Any = None) -> Tensor:
    """A 1-D tensor of size 0, as PyTorch returns for an output it does not compute."""
    backend = like._backend
    return Tensor._from_array(backend.xp.zeros((0,), dtype=dtype or like._array.dtype), backend)


# ---- singular value decomposition ----------------------------------------------------------


class Svd(Op):
    """A = U diag(S) Vh, singular values descending. Derivative: PyTorch's svd_backward
    (Townsend 2016), for real and complex A alike: with E_ij = S_j^2 - S_i^2 (1 on the
    diagonal) and skew(X) = X - X^H,
    gA = U [(skew(U^H gU) S + S skew(V^H gV)) / E + diag(gS)] Vh plus, for a tall (wide) A,
    the part of gU (gVh) outside the span of U (V): (I - U U^H) gU S^-1 Vh; complex A adds
    diag(skew(U^H gU)) / 2S on the diagonal. With only gS, gA = U diag(gS) Vh, which never
    divides. Repeated singular values give inf/nan in the derivative of U and V, as in PyTorch
    (the loss must then be gauge-invariant). Complex singular vectors are unique only up to a
    phase e^{i phi} per pair: a loss that depends on it (Im diag(U^H gU) != -Im diag(V^H gV),
    PyTorch's check, rtol = atol = 1e-2) raises GradError. With full_matrices=True and
    m != n, the extra columns of U (rows of Vh) have no derivative: their cotangent is
    ignored and their tangent is zero, as in PyTorch."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgSvdBackward0"  # PyTorch's name

    label = "linalg.svd"

    @staticmethod
    def forward(ctx: Node, a: Array, full_matrices: bool) -> tuple:
        def svd(x: Array) -> tuple:
            return ctx.xp.linalg.svd(x, full_matrices=full_matrices)

        u, s, vh = _linalg_call(ctx, "linalg.svd", "the SVD did not converge", svd, a)
        ctx.save(u=u, s=s, vh=vh, full_matrices=full_matrices)
        return u, s, vh

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """No zeros for U and V: without their cotangents the vjp never divides."""
        return grads

    @staticmethod
    def vjp(ctx: Node, g_u: Any, g_s: Any, g_vh: Any) -> tuple:
        u, s, vh = ctx.u, ctx.s, ctx.vh
        k = s.shape[-1]
        if ctx.full_matrices:
            u, vh = u[..., :k], vh[..., :k, :]
            g_u = None if g_u is None else g_u[..., :k]
            g_vh = None if g_vh is None else g_vh[..., :k, :]
        return (_svd_backward(g_u, g_s, g_vh, u, s, vh),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        """dP = U^H dA V; dS = Re diag(dP); dU = U (dP S + S dP^H) / E, dV = V (S dP + dP^H S)
        / E, plus +-i Im diag(dP) / 2S for complex A and the parts outside U's (V's) span."""
        u, s, vh = ctx.u, ctx.s, ctx.vh
        m, n, k = u.shape[-2], vh.shape[-1], s.shape[-1]
        if ctx.full_matrices:
            u, vh = u[..., :k], vh[..., :k, :]
        v = _mH(vh)
        t_v = _mm(t, v)
        d_p = _mm(_mH(u), t_v)  # U^H dA V
        d_p_diagonal = diagonal(d_p, 0, -2, -1)
        d_s = real(d_p_diagonal)
        f = _inverse_differences(s * s)
        s_row = unsqueeze(s, -2)
        s_col = unsqueeze(s, -1)
        d_u = _mm(u, f * (d_p * s_row + s_col * _mH(d_p)))
        d_v = _mm(v, f * (s_col * d_p + _mH(d_p) * s_row))
        if d_p.is_complex():  # the phase: i Im diag(dP) / 2S, split between U and V
            phase = diag_embed((d_p_diagonal - d_s) / (2 * s))
            d_u = d_u + _mm(u, phase)
            d_v = d_v - _mm(v, phase)
        if m > n:
            d_u = d_u + (t_v - _mm(u, d_p)) / s_row
        if n > m:
            t_u = _mm(_mH(t), u)
            d_v = d_v + (t_u - _mm(v, _mH(d_p))) / s_row
        d_vh = _mH(d_v)
        if ctx.full_matrices and m != n:  # the completing columns have a zero tangent
            if m > n:
                d_u = cat([d_u, 0 * ctx.u[..., k:]], -1)
            else:
                d_vh = cat([d_vh, 0 * ctx.vh[..., k:, :]], -2)
        return d_u, d_s, d_vh

    batch = elementwise_batch  # matrices in the last two dims


_SVD_PHASE = (
    "svd_backward: The singular vectors in the complex case are specified up to "
    "multiplication by e^{i phi}. The specified loss function depends on this phase term, "
    "making it ill-defined."
)
_EIG_PHASE = (
    "{name}: The eigenvectors in the complex case are specified up to multiplication by "
    "e^{{i phi}}. The specified loss function depends on this quantity, so it is ill-defined."
)


def _check_phase(message: str, first: Any, second: Any = None) -> None:
    """PyTorch's gauge check for complex singular vectors and eigenvectors: GradError unless
    allclose(Im first, -Im second, rtol=1e-2, atol=1e-2) (second None: zeros). It reads the
    values, as PyTorch's does (one device -> host sync per backward)."""
    xp = first._backend.xp
    im_first = xp.imag(first._array)
    im_second = xp.zeros_like(im_first) if second is None else -xp.imag(second._array)
    close = xp.abs(im_first - im_second) <= 1e-2 + 1e-2 * xp.abs(im_second)
    if observers.get() is not None:  # a value read outside ops
        tell(observers.get(), "host_constant", close)
    if not bool(close.all()):
        raise GradError(message)


def _svd_backward(g_u: Any, g_s: Any, g_vh: Any, u: Any, s: Any, vh: Any) -> Any:
    """PyTorch's svd_backward for the reduced factors (see Svd)."""
    m, n = u.shape[-2], vh.shape[-1]
    if g_u is None and g_vh is None:
        return _mm(u * unsqueeze(g_s, -2), vh)
    s_row, s_col = unsqueeze(s, -2), unsqueeze(s, -1)
    f = _inverse_differences(s * s)
    u_skew = v_skew = None
    if g_u is not None:
        u_g = _mm(_mH(u), g_u)
        u_skew = u_g - _mH(u_g)
    if g_vh is not None:
        v_g = _mm(vh, _mH(g_vh))
        v_skew = v_g - _mH(v_g)
    if u.is_complex():
        skews = [diagonal(x, 0, -2, -1) for x in (u_skew, v_skew) if x is not None]
        _check_phase(_SVD_PHASE, *skews)
    core = 0
    if u_skew is not None:
        core = core + u_skew * f * s_row
    if v_skew is not None:
        core = core + s_col * (v_skew * f)
    if g_s is not None:
        core = core + diag_embed(g_s)
    if u.is_complex() and u_skew is not None and v_skew is not None:
        core = core + diag_embed(diagonal(u_skew, 0, -2, -1) / (2 * s))
    if m > n and g_u is not None:
        scaled = g_u / s_row
        outside = scaled - _mm(u, _mm(_mH(u), scaled))
        return _mm(_mm(u, core) + outside, vh)
    if m < n and g_vh is not None:
        scaled = g_vh / s_col
        outside = scaled - _mm(_mm(scaled, _mH(vh)), vh)
        return _mm(u, _mm(core, vh) + outside)
    return _mm(_mm(u, core), vh)


@autocast_policy(FLOAT32)
def svd(
    A: Tensor,  # noqa: N803
    full_matrices: bool = True,
    *,
    driver: str | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> SvdResult:
    """U, S, Vh with A = U diag(S) Vh (batched), S descending; U is m x m and Vh n x n with
    full_matrices, m x k and k x n otherwise (k = min(m, n)). Singular vectors are unique only
    up to sign: differentiate functions that do not depend on it (see Svd for the derivative).
    `driver` is taken on CUDA (and ignored there: each backend has one SVD routine) and
    refused on the CPU, as PyTorch's.

    Args:
        A (Tensor): floating point or complex (*, m, n), a batch of matrices.
        full_matrices (bool): square U and Vh (True) or k columns and rows.
        driver (str, optional): CUDA only; ignored there.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor, Tensor): a named tuple (U, S, Vh).

    Example:
        >>> import chainrule
        >>> U, S, Vh = chainrule.linalg.svd(chainrule.tensor([[3.0, 0.0], [0.0, -2.0]]))
        >>> S
        tensor([3., 2.])
    """
    if out is not None:
        return write_outs("linalg.svd", svd(A, full_matrices=full_matrices, driver=driver), out)
    _check_float_matrix("linalg.svd", A)
    _refuse_cpu_driver(A, driver)
    u, s, vh = apply(Svd, (A,), bool(full_matrices))
    return SvdResult(u, s, vh)


@autocast_policy(FLOAT32)
def svdvals(
    A: Tensor,  # noqa: N803
    *,
    driver: str | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """The singular values of each matrix, descending. Derivative: U diag(g) Vh (defined even
    where singular values repeat).

    Args:
        A (Tensor): floating point or complex (*, m, n), a batch of matrices.
        driver (str, optional): CUDA only; ignored there.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*, min(m, n)), real.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> chainrule.linalg.svdvals(A)
        tensor([3., 1.])
    """
    if out is not None:
        return write_outs("linalg.svdvals", svdvals(A, driver=driver), out)
    _check_float_matrix("linalg.svdvals", A)
    _refuse_cpu_driver(A, driver)
    return apply(Svd, (A,), False)[1]


def _refuse_cpu_driver(A: Tensor, driver: str | None) -> None:  # noqa: N803
    """PyTorch takes svd's `driver` on CUDA only (cuSOLVER's routines)."""
    if driver is not None and A.device.type == "cpu":
        raise RuntimeError(
            "torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs "
            "with cuSOLVER backend."
        )


def _refuse_cpu_no_pivot(A: Tensor, pivot: bool) -> None:  # noqa: N803
    """PyTorch factorizes without pivoting on CUDA only."""
    if not pivot and A.device.type == "cpu":
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


# ---- determinant ----------------------------------------------------------------------------
# Here rather than with inv and solve in ops/linalg.py: at a singular matrix its derivative
# goes through the SVD.


@holomorphic
class Det(Op):
    """det(A) per matrix. Derivative: g C with C the matrix of cofactors (Jacobi's formula),
    det(A) A^-T where A is invertible; at a singular A (inv fails) PyTorch's SVD form,
    C = det(U) det(Vh) conj(U) diag(P) conj(Vh) with P_i the product of the singular values
    other than S_i, which never divides (the cofactors of a rank-deficient matrix are finite:
    nonzero at rank n - 1, zero below). Tangent: sum(C * t)."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgDetBackward0"  # PyTorch's name

    label = "linalg.det"

    @staticmethod
    def forward(ctx: Node, a: Array) -> Array:
        out = ctx.xp.linalg.det(a)
        ctx.save(a=a, out=out)
        return out

    @staticmethod
    def _cofactors(ctx: Node) -> Any:
        try:
            inverse = _product(Inv, (ctx.a,))
        except LinAlgError:
            return _singular_cofactors(ctx.a)
        return unsqueeze(unsqueeze(ctx.out, -1), -1) * _mT(inverse)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (unsqueeze(unsqueeze(g, -1), -1) * Det._cofactors(ctx),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return reduction.sum(Det._cofactors(ctx) * t, (-2, -1))

    batch = elementwise_batch  # matrices in the last two dims broadcast


def _singular_cofactors(a: Any) -> Any:
    """The cofactors of each matrix through its SVD, A = U diag(S) Vh (see Det)."""
    u, s, vh = apply(Svd, (a,), False)
    ones = s[..., :1] * 0 + 1
    before = cat([ones, reduction.cumprod(s[..., :-1], -1)], -1)  # S_0 ... S_{i-1}
    after = flip(cat([ones, reduction.cumprod(flip(s[..., 1:], (-1,)), -1)], -1), (-1,))
    others = before * after  # the product of the singular values but S_i
    if a.is_complex():
        others = cast(others, u.dtype)
    phase = _product(Det, (u,)) * _product(Det, (vh,))
    scaled = conj(u) * unsqueeze(others, -2)
    return unsqueeze(unsqueeze(phase, -1), -1) * _mm(scaled, conj(vh))


def det(A: Tensor, *, out: Tensor | Sequence[Tensor] | None = None) -> Tensor:  # noqa: N803
    """The determinant of each square matrix in the batch. Differentiable at singular
    matrices too (the cofactors, through the SVD there, as PyTorch).

    Args:
        A (Tensor): floating point or complex (*, n, n), a batch of square matrices.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*,).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> chainrule.det(A)
        tensor(5.)
    """
    if out is not None:
        return write_outs("linalg.det", det(A), out)
    _check_linalg_input("linalg.det", A, complex_ok=True)
    return _product(Det, (A,))


# ---- symmetric eigendecomposition ----------------------------------------------------------


class Eigh(Op):
    """A = V diag(L) V^H for Hermitian (real symmetric) A, eigenvalues ascending and real; only
    the triangle UPLO names is read. Derivative (PyTorch's linalg_eig_backward, Hermitian case),
    Hermitian: gA = V (skew(V^H gV) / 2 / E + diag(gL)) V^H with E_ij = L_j - L_i; with only gL,
    V diag(gL) V^H. Repeated eigenvalues give inf/nan in the derivative of V, as in PyTorch.
    Complex eigenvectors are unique only up to a phase each: a loss that depends on it
    (Im diag(V^H gV) != 0, PyTorch's check) raises GradError. Tangent: of the Hermitian part S
    of t (the adjoint of the vjp): dL = Re diag(V^H S V), dV = V ((V^H S V) / E, zero
    diagonal)."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgEighBackward0"  # PyTorch's name

    label = "linalg.eigh"

    @staticmethod
    def forward(ctx: Node, a: Array, uplo: str) -> tuple:
        def eigh(x: Array) -> tuple:
            return ctx.xp.linalg.eigh(x, UPLO=uplo)

        w, v = _linalg_call(ctx, "linalg.eigh", "the algorithm did not converge", eigh, a)
        ctx.save(w=w, v=v)
        return w, v

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """No zeros for V: without its cotangent the vjp never divides."""
        return grads

    @staticmethod
    def vjp(ctx: Node, g_w: Any, g_v: Any) -> tuple:
        w, v = ctx.w, ctx.v
        if g_v is None:
            return (_mm(v * unsqueeze(g_w, -2), _mH(v)),)
        v_g = _mm(_mH(v), g_v)
        if v.is_complex():
            _check_phase(_EIG_PHASE.format(name="linalg_eigh_backward"), diagonal(v_g, 0, -2, -1))
        skew = 0.5 * (v_g - _mH(v_g))
        core = skew * _inverse_differences(w)
        if g_w is not None:
            core = core + diag_embed(g_w)
        elif v.is_complex():  # PyTorch keeps skew's (imaginary, near zero) diagonal
            core = core + diag_embed(diagonal(skew, 0, -2, -1))
        return (_mm(_mm(v, core), _mH(v)),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        w, v = ctx.w, ctx.v
        d_p = _mm(_mm(_mH(v), 0.5 * (t + _mH(t))), v)
        d_w = real(diagonal(d_p, 0, -2, -1))
        d_v = _mm(v, d_p * _inverse_differences(w))
        return d_w, d_v

    batch = elementwise_batch  # matrices in the last two dims


def _check_uplo(op_name: str, uplo: str) -> str:
    if uplo not in ("L", "U", "l", "u"):
        raise DomainError(f"{op_name}: Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    return uplo.upper()


@autocast_policy(FLOAT32)
def eigh(A: Tensor, UPLO: str = "L", *, out: Tensor | Sequence[Tensor] | None = None) -> EighResult:  # noqa: N803
    """(eigenvalues, eigenvectors) of each symmetric (complex: Hermitian) matrix, eigenvalues
    real and ascending; only the lower (UPLO='L') or upper triangle is read. Eigenvectors are
    unique only up to sign (complex: a phase).

    Args:
        A (Tensor): (*, n, n), symmetric (Hermitian); only one triangle is read.
        UPLO (str): 'L' (the lower triangle) or 'U'.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (eigenvalues (*, n), eigenvectors (*, n, n) as columns).

    Example:
        >>> import chainrule
        >>> chainrule.linalg.eigh(chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
        tensor([1., 3.])
    """
    if out is not None:
        return write_outs("linalg.eigh", eigh(A, UPLO=UPLO), out)
    _check_linalg_input("linalg.eigh", A, complex_ok=True)
    w, v = apply(Eigh, (A,), _check_uplo("linalg.eigh", UPLO))
    return EighResult(w, v)


@autocast_policy(FLOAT32)
def eigvalsh(A: Tensor, UPLO: str = "L", *, out: Tensor | Sequence[Tensor] | None = None) -> Tensor:  # noqa: N803
    """The (real) eigenvalues of each symmetric or Hermitian matrix, ascending. Derivative:
    V diag(g) V^H.

    Args:
        A (Tensor): (*, n, n), symmetric (Hermitian); only one triangle is read.
        UPLO (str): 'L' (the lower triangle) or 'U'.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*, n), real, ascending.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> chainrule.linalg.eigvalsh(A)
        tensor([1., 3.])
    """
    if out is not None:
        return write_outs("linalg.eigvalsh", eigvalsh(A, UPLO=UPLO), out)
    _check_linalg_input("linalg.eigvalsh", A, complex_ok=True)
    return apply(Eigh, (A,), _check_uplo("linalg.eigvalsh", UPLO))[0]


# ---- general eigendecomposition ------------------------------------------------------------


class Eig(Op):
    """A V = V diag(L) for a square (real or complex) A, eigenvalues and unit-norm eigenvectors
    always complex, in LAPACK geev's order (PyTorch's). Derivative (PyTorch's
    linalg_eig_backward): with E_ij = L_j - L_i and the projection
    P = V^H gV - V^H V diag(Re diag(V^H gV)) (eigenvectors have unit norm),
    gA = V^-H (P / conj(E) off the diagonal + diag(gL)) V^H; with only gL, V^-H diag(gL) V^H;
    real A takes the real part. Each eigenvector is unique only up to a phase: a loss that
    depends on it (Im diag(V^H gV) != 0, PyTorch's check, rtol = atol = 1e-2) raises GradError.
    Repeated eigenvalues give inf/nan in the derivative of V, as in PyTorch. Tangent:
    dP = V^-1 dA V, dL = diag(dP), dX = V (dP / E, zero diagonal),
    dV = dX - V diag(Re diag(V^H dX))."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgEigBackward0"  # PyTorch's name

    label = "linalg.eig"

    @staticmethod
    def forward(ctx: Node, a: Array) -> tuple:
        xp = ctx.xp
        w, v = _linalg_call(ctx, "linalg.eig", "the algorithm did not converge", xp.linalg.eig, a)
        # NumPy returns real arrays when every eigenvalue of a real matrix is real.
        out_dtype = dtypes.complex_of(dtypes.from_numpy_dtype(a.dtype)).numpy
        w, v = w.astype(out_dtype, copy=False), v.astype(out_dtype, copy=False)
        ctx.save(w=w, v=v)
        return w, v

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """No zeros for V: without its cotangent the vjp never divides."""
        return grads

    @staticmethod
    def vjp(ctx: Node, g_w: Any, g_v: Any) -> tuple:
        w, v = ctx.w, ctx.v
        v_h = _mH(v)
        if g_v is None:
            grad = solve(v_h, unsqueeze(g_w, -1) * v_h)
        else:
            v_g = _mm(v_h, g_v)
            v_g_diagonal = diagonal(v_g, 0, -2, -1)
            _check_phase(_EIG_PHASE.format(name="linalg_eig_backward"), v_g_diagonal)
            projected = v_g - _mm(v_h, v * unsqueeze(real(v_g_diagonal), -2))
            core = projected * conj(_inverse_differences(w))
            if g_w is None:
                core = core + diag_embed(diagonal(projected, 0, -2, -1))
            else:
                core = core + diag_embed(g_w)
            grad = solve(v_h, _mm(core, v_h))
        if not ctx.input_meta[0][1].is_complex:
            grad = real(grad)
        return (grad,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        w, v = ctx.w, ctx.v
        d_p = solve(v, _mm(cast(t, v.dtype), v))
        d_w = diagonal(d_p, 0, -2, -1)
        d_x = _mm(v, d_p * _inverse_differences(w))
        correction = real(diagonal(_mm(_mH(v), d_x), 0, -2, -1))
        return d_w, d_x - v * unsqueeze(correction, -2)

    batch = elementwise_batch  # matrices in the last two dims


@autocast_policy(FLOAT32)
def eig(A: Tensor, *, out: Tensor | Sequence[Tensor] | None = None) -> EigResult:  # noqa: N803
    """(eigenvalues, eigenvectors) of each square matrix, both complex (complex64 for float32
    and complex64 input, complex128 otherwise); eigenvectors have unit norm and are unique
    only up to a complex phase each, so differentiate functions that do not depend on it.

    Args:
        A (Tensor): floating point or complex (*, n, n), a batch of square matrices.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (eigenvalues (*, n), eigenvectors (*, n, n) as
        columns), complex.

    Example:
        >>> import chainrule
        >>> chainrule.linalg.eig(chainrule.tensor([[0.0, -1.0], [1.0, 0.0]])).eigenvalues
        tensor([0.+1.j, 0.-1.j])
    """
    if out is not None:
        return write_outs("linalg.eig", eig(A), out)
    _check_linalg_input("linalg.eig", A, complex_ok=True)
    w, v = apply(Eig, (A,))
    return EigResult(w, v)


@autocast_policy(FLOAT32)
def eigvals(A: Tensor, *, out: Tensor | Sequence[Tensor] | None = None) -> Tensor:  # noqa: N803
    """The eigenvalues of each square matrix (complex). Derivative: V^-H diag(g) V^H (the
    real part for a real A).

    Args:
        A (Tensor): floating point or complex (*, n, n), a batch of square matrices.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*, n), complex.

    Example:
        >>> import chainrule
        >>> chainrule.linalg.eigvals(chainrule.tensor([[2.0, 0.0], [0.0, 3.0]]))
        tensor([2.+0.j, 3.+0.j])
    """
    if out is not None:
        return write_outs("linalg.eigvals", eigvals(A), out)
    _check_linalg_input("linalg.eigvals", A, complex_ok=True)
    return apply(Eig, (A,))[0]


# ---- QR ------------------------------------------------------------------------------------


class Qr(Op):
    """A = Q R, Q with orthonormal columns, R upper triangular with a real diagonal (LAPACK's
    signs: it may be negative, as in PyTorch). Derivative for m >= n (PyTorch's, Walter and
    Lehmann): M = R gR^H - gQ^H Q, gA = (gQ + Q copyltu(M)) R^-H with copyltu(M) the
    Hermitian matrix with M's strictly lower triangle and Re diag(M); for m < n, A = Q [R1 R2]
    is split into its square part X = Q R1 and Y = Q R2: gY = Q gR2 and gX the square formula
    with gQ + Y gR2^H. Not differentiable,
    as in PyTorch, for mode='r' (no Q) and for mode='complete' with m > n."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgQrBackward0"  # PyTorch's name

    label = "linalg.qr"

    @staticmethod
    def forward(ctx: Node, a: Array, mode: str) -> tuple:
        ctx.save(mode=mode)
        if mode == "r":  # no Q, and so no derivative: nothing to save
            return ctx.xp.zeros((0,), dtype=a.dtype), ctx.xp.linalg.qr(a, mode="r")
        q, r = ctx.xp.linalg.qr(a, mode=mode)
        ctx.save(q=q, r=r)
        return q, r

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """Only what reached the op: the formula has a term per cotangent."""
        return grads

    @staticmethod
    def _check_differentiable(ctx: Node) -> None:
        if ctx.mode == "r":
            raise GradError(
                "linalg.qr: The derivative of linalg.qr depends on Q, which is not computed "
                "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                "differentiate through linalg.qr."
            )
        q, r = ctx.q, ctx.r
        if ctx.mode == "complete" and q.shape[-2] > r.shape[-1]:
            raise GradError(
                "linalg.qr: The QR decomposition is not differentiable when mode='complete' "
                f"and nrows > ncols (Q {tuple(q.shape)}, R {tuple(r.shape)})."
            )

    @staticmethod
    def vjp(ctx: Node, g_q: Any, g_r: Any) -> tuple:
        Qr._check_differentiable(ctx)
        q, r = ctx.q, ctx.r
        m, n = q.shape[-2], r.shape[-1]
        if m >= n:
            return (_qr_square_backward(g_q, g_r, q, r),)
        r1, r2 = r[..., :m], r[..., m:]
        g_r1 = None if g_r is None else g_r[..., :m]
        y = _mm(q, r2)
        if g_r is not None:
            g_r2 = g_r[..., m:]
            correction = _mm(y, _mH(g_r2))
            g_q = correction if g_q is None else g_q + correction
            g_y = _mm(q, g_r2)
        else:
            g_y = 0 * y
        g_x = _qr_square_backward(g_q, g_r1, q, r1)
        return (cat([g_x, g_y], -1),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        Qr._check_differentiable(ctx)
        q, r = ctx.q, ctx.r
        m, n = q.shape[-2], r.shape[-1]
        if m >= n:
            return _qr_square_jvp(t, q, r)
        r1, r2 = r[..., :m], r[..., m:]
        d_q, d_r1 = _qr_square_jvp(t[..., :m], q, r1)
        d_r2 = _mm(_mH(q), t[..., m:] - _mm(d_q, r2))
        return d_q, cat([d_r1, d_r2], -1)

    batch = elementwise_batch  # matrices in the last two dims


def _qr_square_backward(g_q: Any, g_r: Any, q: Any, r: Any) -> Any:
    """gA = (gQ + Q copyltu(M)) R^-H, M = R gR^H - gQ^H Q, for m >= n (see Qr)."""
    core = 0
    if g_r is not None:
        core = _mm(r, _mH(g_r))
    if g_q is not None:
        core = core - _mm(_mH(g_q), q)
    lower = _tril(core, -1)
    copied = lower + _mH(lower) + diag_embed(real(diagonal(core, 0, -2, -1)))
    b = _mm(q, copied)
    if g_q is not None:
        b = b + g_q
    return _solve(_mH(r), b, False, False)  # b R^-H


def _qr_square_jvp(t: Any, q: Any, r: Any) -> tuple:
    """dA R^-1 = dQ + Q dR R^-1 with Q^H dQ skew-Hermitian and dR R^-1 upper triangular with
    a real diagonal: with B = Q^H dA R^-1, Q^H dQ = tril(B, -1) - tril(B, -1)^H + i Im diag(B)
    and dR = (B - Q^H dQ) R."""
    t_rinv = _solve(r, t, True, False)  # dA R^-1
    b = _mm(_mH(q), t_rinv)
    lower = _tril(b, -1)
    omega = lower - _mH(lower)
    if b.is_complex():
        b_diagonal = diagonal(b, 0, -2, -1)
        omega = omega + diag_embed(b_diagonal - real(b_diagonal))
    d_r = _mm(b - omega, r)
    d_q = t_rinv - _mm(q, b) + _mm(q, omega)
    return d_q, d_r


@autocast_policy(FLOAT32)
def qr(
    A: Tensor,  # noqa: N803
    mode: str = "reduced",
    *,
    out: Tensor | Sequence[Tensor] | None = None,
) -> QrResult:
    """(Q, R) with A = Q R: mode 'reduced' (Q m x k, R k x n), 'complete' (Q m x m) or 'r'
    (R only; Q is an empty tensor, and there is no derivative, as in PyTorch).

    Args:
        A (Tensor): floating point or complex (*, m, n), a batch of matrices.
        mode (str): 'reduced', 'complete' or 'r'.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (Q, R).

    Example:
        >>> import chainrule
        >>> chainrule.linalg.qr(chainrule.tensor([[3.0], [4.0]])).R
        tensor([[-5.]])
    """
    if out is not None:
        return write_outs("linalg.qr", qr(A, mode=mode), out)
    _check_float_matrix("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise DomainError(
            f"linalg.qr: qr received unrecognized mode '{mode}' but expected one of "
            "'reduced' (default), 'r', or 'complete'"
        )
    q, r = apply(Qr, (A,), mode)
    return QrResult(q, r)


# ---- matrix exponential --------------------------------------------------------------------

# Higham (2005), "The scaling and squaring method for the matrix exponential revisited":
# the [13/13] Padé coefficients and the largest 1-norm for which it is accurate in float64.
_PADE_13 = (
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
)
_THETA_13 = 5.371920351148152


def _expm(xp: Any, a: Array) -> Array:
    """exp(a) for a batch of matrices: each scaled by 2^-s to a 1-norm below theta_13, the
    [13/13] Padé approximant, then squared s times (its own s per matrix)."""
    n = a.shape[-1]
    if n == 0 or a.size == 0:
        return a.copy()
    norm = xp.abs(a).sum(axis=-2).max(axis=-1)
    finite = xp.isfinite(norm)
    ratio = xp.where(finite, norm, 0.0) / _THETA_13
    squarings = xp.ceil(xp.log2(xp.maximum(ratio, 1.0))).astype(xp.int64)
    scale = xp.ldexp(xp.ones_like(norm), -squarings).astype(a.dtype)
    x = a * scale[..., None, None]
    b = _PADE_13
    eye = xp.eye(n, dtype=a.dtype)
    x2 = xp.matmul(x, x)
    x4 = xp.matmul(x2, x2)
    x6 = xp.matmul(x4, x2)
    odd_high = xp.matmul(x6, b[13] * x6 + b[11] * x4 + b[9] * x2)
    odd = xp.matmul(x, odd_high + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    even_high = xp.matmul(x6, b[12] * x6 + b[10] * x4 + b[8] * x2)
    even = even_high + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    out = xp.linalg.solve(even - odd, even + odd)
    for step in range(int(squarings.max())):
        squared = xp.matmul(out, out)
        out = xp.where((step < squarings)[..., None, None], squared, out)
    return out


class MatrixExp(Op):
    """exp(A) = sum A^k / k!. Derivative: the Fréchet derivative, read off the exponential of
    a block matrix (Mathias 1996, as PyTorch): gA = exp([[A^H, g], [0, A^H]])[:n, n:], and the
    tangent exp([[A, t], [0, A]])[:n, n:]; being matrix_exp again, it differentiates to any
    order."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgMatrixExpBackward0"  # PyTorch's name

    label = "linalg.matrix_exp"

    @staticmethod
    def forward(ctx: Node, a: Array) -> Array:
        ctx.save(a=a)
        return _expm(ctx.xp, a)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (_exp_differential(_mH(ctx.a), g),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return _exp_differential(ctx.a, t)

    batch = elementwise_batch  # matrices in the last two dims


def _exp_differential(a: Any, e: Any) -> Any:
    """The Fréchet derivative of exp at a in direction e: exp([[a, e], [0, a]])[:n, n:]."""
    n = a.shape[-1]
    top = cat([a, e], -1)
    bottom = cat([0 * a, a], -1)
    block = apply(MatrixExp, (cat([top, bottom], -2),))
    return block[..., :n, n:]


def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803
    """The matrix exponential of each square matrix (scaling and squaring, Padé [13/13]).

    Args:
        A (Tensor): floating point or complex (*, n, n), a batch of square matrices.

    Returns:
        Tensor: the shape of `A`.

    Example:
        >>> import chainrule
        >>> chainrule.linalg.matrix_exp(chainrule.zeros(2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    _check_linalg_input("linalg.matrix_exp", A, complex_ok=True)
    return apply(MatrixExp, (A,))


# ---- pseudoinverse, least squares, rank, condition number ----------------------------------


def _tolerance_arrays(xp: Any, values: Array, atol: Any, rtol: Any, size: int) -> Array:
    """max(atol, rtol * largest |value|) per matrix, with PyTorch's defaults: rtol is
    eps * max(m, n) unless only a positive atol is given (then 0)."""
    eps = xp.finfo(values.dtype).eps
    if values.shape[-1] == 0:
        largest = xp.zeros(values.shape[:-1], dtype=values.dtype)
    else:
        largest = xp.abs(values).max(axis=-1)
    atol_array = 0.0 if atol is None else _as_param_array(xp, atol)
    if rtol is None:
        default = eps * size
        rtol_array = default if atol is None else xp.where(atol_array > 0, 0.0, default)
    else:
        rtol_array = _as_param_array(xp, rtol)
    return xp.maximum(atol_array, rtol_array * largest)


def _as_param_array(xp: Any, value: Any) -> Any:
    return value._array if isinstance(value, Tensor) else xp.asarray(value)


class Pinv(Op):
    """The Moore-Penrose pseudoinverse A^+, from the SVD (or, hermitian, the eigendecomposition
    of the lower triangle), singular values at or below max(atol, rtol * largest) dropped.
    Derivative (PyTorch's pinv_backward, exact where the rank is locally constant):
    d(A^+) = -A^+ dA A^+ + A^+ A^+^H dA^H (I - A A^+) + (I - A^+ A) dA^H A^+^H A^+."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgPinvBackward0"  # PyTorch's name

    label = "linalg.pinv"

    @staticmethod
    def forward(ctx: Node, a: Array, atol: Any, rtol: Any, hermitian: bool) -> Array:
        xp = ctx.xp
        size = max(a.shape[-2], a.shape[-1])
        if hermitian:
            w, v = _linalg_call(ctx, "linalg.pinv", "eigh did not converge", xp.linalg.eigh, a)
            tolerance = _tolerance_arrays(xp, w, atol, rtol, size)
            keep = xp.abs(w) > tolerance[..., None]
            inverse_w = xp.where(keep, 1 / xp.where(keep, w, 1), 0).astype(a.dtype)
            out = xp.matmul(v * inverse_w[..., None, :], xp.conj(xp.swapaxes(v, -1, -2)))
        else:

            def svd(x: Array) -> tuple:
                return xp.linalg.svd(x, full_matrices=False)

            u, s, vh = _linalg_call(ctx, "linalg.pinv", "the SVD did not converge", svd, a)
            tolerance = _tolerance_arrays(xp, s, atol, rtol, size)
            keep = s > tolerance[..., None]
            inverse_s = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(a.dtype)
            v = xp.conj(xp.swapaxes(vh, -1, -2))
            out = xp.matmul(v * inverse_s[..., None, :], xp.conj(xp.swapaxes(u, -1, -2)))
        ctx.save(a=a, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        a, p = ctx.a, ctx.out
        m, n = a.shape[-2], a.shape[-1]
        p_t, g_t = _mH(p), _mH(g)
        if m <= n:
            k = _mm(g_t, p)
            k_p_t = _mm(k, p_t)
            grad = (
                -_mH(_mm(p, k)) + k_p_t - _mm(_mm(a, p), k_p_t) + _mm(_mm(p_t, p), g_t - _mm(k, a))
            )
        else:
            k = _mm(p, g_t)
            p_t_k = _mm(p_t, k)
            grad = (
                -_mH(_mm(k, p)) + _mm(_mm(g_t - _mm(a, k), p), p_t) + p_t_k - _mm(_mm(p_t_k, p), a)
            )
        return (grad,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        a, p = ctx.a, ctx.out
        t_t, p_t = _mH(t), _mH(p)
        first = -_mm(_mm(p, t), p)
        second = _mm(_mm(p, p_t), t_t - _mm(t_t, _mm(a, p)))
        third = _mm(t_t - _mm(_mm(p, a), t_t), _mm(p_t, p))
        return first + second + third

    batch = elementwise_batch  # matrices in the last two dims


def _tolerance_param(op_name: str, value: Any) -> Any:
    """atol/rtol as a float (or a Tensor's array, constant to the derivative)."""
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{op_name}: atol and rtol must be floats or Tensors, got {value!r}")
    return float(value)


def _legacy_tolerance(
    name: str,
    arg: str,
    atol: float | Tensor | None,
    rtol: float | Tensor | None,
    *,
    absolute: bool,
    tol: float | Tensor,
) -> tuple[float | Tensor, float | Tensor]:
    """(atol, rtol) for the older one-tolerance forms: matrix_rank's `tol` is absolute,
    pinv's `rcond` relative; PyTorch has no overload taking it with atol or rtol."""
    if atol is not None or rtol is not None:
        raise TypeError(f"{name}(): {arg} cannot be given together with atol or rtol")
    return (tol, 0.0) if absolute else (0.0, tol)


def pinv(
    A: Tensor,  # noqa: N803
    rcond: float | Tensor | None = None,
    hermitian: bool = False,
    *,
    atol: float | Tensor | None = None,
    rtol: float | Tensor | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """The pseudoinverse of each matrix; singular values at or below max(atol, rtol * the
    largest) count as zero (rtol defaults to eps * max(m, n), or 0 when only atol > 0 is given).

    Args:
        A (Tensor): floating point or complex (*, m, n), a batch of matrices.
        rcond (float or Tensor, optional): PyTorch's older form, `pinv(A, rcond, hermitian)`:
            the relative tolerance alone (rtol=rcond, atol=0); not with atol or rtol.
        hermitian (bool): A is symmetric (Hermitian): use its eigenvalues.
        atol (float or Tensor, optional): the absolute tolerance.
        rtol (float or Tensor, optional): the tolerance relative to the largest singular value.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*, n, m).

    Example:
        >>> import chainrule
        >>> chainrule.linalg.pinv(chainrule.tensor([[2.0, 0.0], [0.0, 0.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.0000]])
    """
    if out is not None:
        return write_outs(
            "linalg.pinv", pinv(A, rcond=rcond, hermitian=hermitian, atol=atol, rtol=rtol), out
        )
    if rcond is not None:
        atol, rtol = _legacy_tolerance(
            "linalg.pinv", "rcond", atol, rtol, absolute=False, tol=rcond
        )
    if hermitian:
        _check_linalg_input("linalg.pinv", A, complex_ok=True)
    else:
        _check_float_matrix("linalg.pinv", A)
    atol = _tolerance_param("linalg.pinv", atol)
    rtol = _tolerance_param("linalg.pinv", rtol)
    return apply(Pinv, (A,), atol, rtol, bool(hermitian))


class MatrixRank(Op):
    """The number of singular values (|eigenvalues| when hermitian) above the tolerance, as
    int64. Not differentiable."""

    label = "linalg.matrix_rank"
    differentiable = False

    @staticmethod
    def forward(ctx: Node, a: Array, atol: Any, rtol: Any, hermitian: bool) -> Array:
        xp = ctx.xp
        if hermitian:
            values = xp.abs(xp.linalg.eigvalsh(a))
        else:
            values = xp.linalg.svd(a, compute_uv=False)
        tolerance = _tolerance_arrays(xp, values, atol, rtol, max(a.shape[-2], a.shape[-1]))
        return xp.asarray((values > tolerance[..., None]).sum(axis=-1).astype(xp.int64))

    batch = elementwise_batch  # matrices in the last two dims


def matrix_rank(
    A: Tensor,  # noqa: N803
    tol: float | Tensor | None = None,
    hermitian: bool = False,
    *,
    atol: float | Tensor | None = None,
    rtol: float | Tensor | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """The number of singular values (|eigenvalues| when hermitian) above
    max(atol, rtol * the largest), as int64, with pinv's defaults.

    Args:
        A (Tensor): floating point or complex (*, m, n), a batch of matrices.
        tol (float or Tensor, optional): PyTorch's older form, `matrix_rank(A, tol, hermitian)`:
            the absolute tolerance alone (atol=tol, rtol=0); not with atol or rtol.
        hermitian (bool): A is symmetric (Hermitian): use its eigenvalues.
        atol (float or Tensor, optional): the absolute tolerance.
        rtol (float or Tensor, optional): the tolerance relative to the largest singular value.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: int64 (*,).

    Example:
        >>> import chainrule
        >>> chainrule.linalg.matrix_rank(chainrule.ones(2, 2))
        tensor(1)
    """
    if out is not None:
        return write_outs(
            "linalg.matrix_rank",
            matrix_rank(A, tol=tol, hermitian=hermitian, atol=atol, rtol=rtol),
            out,
        )
    if tol is not None:
        atol, rtol = _legacy_tolerance(
            "linalg.matrix_rank", "tol", atol, rtol, absolute=True, tol=tol
        )
    _check_float_matrix("linalg.matrix_rank", A)
    if hermitian:
        _check_linalg_input("linalg.matrix_rank", A, complex_ok=True)
    atol = _tolerance_param("linalg.matrix_rank", atol)
    rtol = _tolerance_param("linalg.matrix_rank", rtol)
    return apply(MatrixRank, (A,), atol, rtol, bool(hermitian))


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _is_vector_rhs(A: Any, B: Any) -> bool:  # noqa: N803
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def _check_lstsq_shapes(A: Any, B: Any) -> None:  # noqa: N803
    """PyTorch's shapes for lstsq: B has A's rank (a batch of matrices, broadcasting) or one
    less, and then is exactly A's batch of right-hand-side vectors; nothing else broadcasts."""
    shapes = f"(A shape {tuple(A.shape)}, B shape {tuple(B.shape)})"
    if not 0 <= A.ndim - B.ndim <= 1:
        raise ShapeError(
            "linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
            f"(input.dim() - other.dim()) <= 1 {shapes}"
        )
    m = A.shape[-2]
    if B.ndim == 1 and B.shape[0] != m:
        raise ShapeError(f"linalg.lstsq: input.size(-2) should match other.size(-1) {shapes}")
    if B.ndim > 1 and not _is_vector_rhs(A, B):
        if B.shape[-2] != m:
            raise ShapeError(f"linalg.lstsq: input.size(-2) should match other.size(-2) {shapes}")
        if A.ndim != B.ndim:  # a matrix B of lower rank: PyTorch reads it as vectors, which fail
            raise ShapeError(
                "linalg.lstsq: B of one dimension fewer than A must be A's batch of vectors, "
                f"of shape A.shape[:-1] {shapes}"
            )


@autocast_policy(FLOAT32)
def lstsq(
    A: Tensor,  # noqa: N803
    B: Tensor,  # noqa: N803
    rcond: float | None = None,
    *,
    driver: str | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> LstsqResult:
    """The least-squares solution X of min ||A X - B||_F (minimum norm when A is rank
    deficient), with PyTorch's four fields for its CPU drivers: `residuals` (the squared
    residual of each column, when m > n, every A has full rank and the driver is not 'gelsy'),
    `rank` (int64; empty for 'gels') and `singular_values` (for 'gelsd' and 'gelss'); the
    default driver is 'gelsy'. The solution is pinv(A, rtol=rcond) @ B, and so is its
    derivative, as PyTorch's (rcond defaults to eps * max(m, n)).

    Args:
        A (Tensor): floating point (*, m, n).
        B (Tensor): (*, m, k), broadcastable batch.
        rcond (float, optional): the relative tolerance for small singular values.
        driver (str, optional): 'gelsy' (default), 'gels', 'gelsd' or 'gelss'.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor, Tensor, Tensor): a named tuple (solution, residuals, rank,
        singular_values).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[1.0], [1.0]])
        >>> chainrule.linalg.lstsq(A, chainrule.tensor([[1.0], [3.0]])).solution
        tensor([[2.0000]])
    """
    if out is not None:
        return write_outs("linalg.lstsq", lstsq(A, B=B, rcond=rcond, driver=driver), out)
    _check_float_matrix("linalg.lstsq", A)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.lstsq: expected a Tensor as B, got {type(B).__name__}")
    if B._array.dtype != A._array.dtype:
        raise DTypeError(
            f"linalg.lstsq: expected A and B to have the same dtype, but got {A.dtype.name} "
            f"and {B.dtype.name}"
        )
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError(
            f"linalg.lstsq: parameter `driver` should be one of {_LSTSQ_DRIVERS}, got {driver!r}"
        )
    _check_lstsq_shapes(A, B)
    vector = _is_vector_rhs(A, B)
    rhs = unsqueeze(B, -1) if vector else B
    m, n = A.shape[-2], A.shape[-1]
    if rcond is not None:
        rcond = float(rcond)
    pseudo = pinv(A, rtol=rcond)
    solution = _mm(pseudo, rhs)
    rank = matrix_rank(A, rtol=rcond) if rcond is not None else matrix_rank(A)
    full_rank = bool((rank._array == n).all())
    real_dtype = dtypes.real_of(A.dtype).numpy
    residuals = _empty(A, real_dtype)
    if driver != "gelsy" and m > n and (driver == "gels" or full_rank):
        difference = _mm(A, solution) - rhs
        residuals = reduction.sum(real(difference * conj(difference)), -2)
    if driver == "gels":
        rank = _empty(A, A._backend.xp.int64)
    singular_values = _empty(A, real_dtype)
    if driver in ("gelsd", "gelss"):
        singular_values = svdvals(A.detach())
    if vector:
        solution = squeeze(solution, -1)
    solution = named(solution, "LinalgLstsqBackward0")
    residuals = named(residuals, "LinalgLstsqBackward0")
    return LstsqResult(solution, residuals, rank, singular_values)


def cond(
    A: Tensor,  # noqa: N803
    p: float | str | None = None,
    *,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """The condition number of each matrix in the matrix norm p: for None, 2 and -2 the ratio
    of extreme singular values (any shape); otherwise ||A||_p ||A^-1||_p for square A, inf
    where A is singular (no error), as in PyTorch.

    Args:
        A (Tensor): floating point or complex (*, m, n), a batch of matrices.
        p (int, float or str, optional): None, 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*,), real.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> chainrule.linalg.cond(A)
        tensor(3.)
    """
    if out is not None:
        return write_outs("linalg.cond", cond(A, p=p), out)
    _check_float_matrix("linalg.cond", A)
    if p not in (None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf):
        raise DomainError(f"linalg.cond got an invalid norm type: {p}")
    if A.numel() == 0:  # PyTorch's: zeros, outside the graph, square or not
        real_dtype = A._array.real.dtype
        backend = A._backend
        return Tensor._from_array(backend.xp.zeros(tuple(A.shape[:-2]), real_dtype), backend)
    if p in (None, 2, -2):
        s = svdvals(A)
        largest, smallest = s[..., 0], s[..., -1]
        # PyTorch squeezes the singular values' ratio, and multiplies the norms for other p
        return named(smallest / largest if p == -2 else largest / smallest, "SqueezeBackward1")
    if p not in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        raise DomainError(f"linalg.cond got an invalid norm type: {p}")
    _check_linalg_input(f"linalg.cond(ord={p})", A, complex_ok=True)
    inverse, info = inv_ex(A)
    product = matrix_norm(A, p) * matrix_norm(inverse, p)
    return named(where(info > 0, math.inf, product), "MulBackward0")


# ---- LU ------------------------------------------------------------------------------------


def _permutation(xp: Any, pivots: Array, m: int, dtype: Any) -> Array:
    """P with A = P L U, from LAPACK's sequential row swaps (1-based pivots)."""
    positions = xp.arange(m)
    order = xp.broadcast_to(positions, pivots.shape[:-1] + (m,))
    for j in range(pivots.shape[-1]):
        target = (pivots[..., j, None] - 1).astype(xp.int64)
        at_target = xp.take_along_axis(order, target, axis=-1)
        at_j = order[..., j, None]
        order = xp.where(positions == j, at_target, xp.where(positions == target, at_j, order))
    # P^T A = A[order]: row i of P^T is e_order[i], so P[order[i], i] = 1.
    return xp.ascontiguousarray(xp.swapaxes((order[..., :, None] == positions), -1, -2), dtype)


class LuPermutation(Op):
    """The permutation matrix P (m x m, of LU's dtype) of LAPACK's 1-based sequential row
    swaps `pivots`. An op, so that vmap batches it (a batch of pivots is a batch of P) where
    reading the pivots' values in Python could not. Not differentiable: P is a constant."""

    label = "linalg.lu_unpack"
    differentiable = False

    @staticmethod
    def forward(ctx: Node, pivots: Array, m: int, dtype: Any) -> Array:
        return _permutation(ctx.xp, pivots, m, dtype)

    batch = elementwise_batch  # pivots in the last dim, any leading batch dims


def _unpack(lu: Any, pivots: Any) -> tuple:
    """P, L, U from a packed LU (L m x k unit lower, U k x n upper), differentiable in LU."""
    m, n = lu.shape[-2], lu.shape[-1]
    k = min(m, n)
    lower = _tril(lu[..., :, :k], -1) + _eye(lu, m, k)
    upper = _triu(lu[..., :k, :])
    permutation = apply(LuPermutation, (pivots,), m, lu._array.dtype)
    return permutation, lower, upper


class LuFactor(Op):
    """The packed LU factorization with partial pivoting, A = P L U (L unit lower triangular
    below LU's diagonal, U on and above). Derivative (PyTorch's linalg_lu_backward), with gL,
    gU the strictly lower and upper parts of gLU: for square A,
    gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T; a wide A = P L [U1 U2] adds
    -gU2 U2^T inside the tril and gA2 = P L^-T gU2; a tall P^T A = [L1; L2] U adds
    -L2^T gL2 inside the triu and gA2 = P gL2 U^-T. Tangent: X = L1^-1 (P^T dA)1 U1^-1 on
    the square block, dL1 = L1 tril(X, -1), dU1 = triu(X) U1, and the rest by substitution."""

    @classmethod
    def node_name(cls) -> str:
        return "LinalgLuFactorExBackward0"  # PyTorch's name

    label = "linalg.lu_factor"

    @staticmethod
    def forward(ctx: Node, a: Array, pivot: bool) -> tuple:
        lu, pivots, info = _lu_arrays(ctx.xp, a, pivot)
        ctx.save(out=lu, pivots=pivots)
        return lu, pivots, info

    @staticmethod
    def vjp(ctx: Node, g: Any, g_pivots: Any = None, g_info: Any = None) -> tuple:
        permutation, lower, upper = _unpack(ctx.out, ctx.pivots)
        m, n = g.shape[-2], g.shape[-1]
        k = min(m, n)
        if m <= n:  # A = P L [U1 U2]
            u1, u2 = upper[..., :k], upper[..., k:]
            g1, g2 = g[..., :k], g[..., k:]
            inner = _mm(_mH(lower), _tril(g1, -1))
            if m < n:
                inner = inner - _mm(g2, _mH(u2))
            phi = _tril(inner, -1) + _triu(_mm(_triu(g1), _mH(u1)))
            grad = _solve(_mH(u1), phi, False, False)  # phi U1^-T
            if m < n:
                grad = cat([grad, g2], -1)
            grad = _solve(_mH(lower), grad, True, True, True)  # L^-T ...
        else:  # P^T A = [L1; L2] U
            l1, l2 = lower[..., :k, :], lower[..., k:, :]
            g1, g2 = g[..., :k, :], g[..., k:, :]
            inner = _mm(_triu(g1), _mH(upper)) - _mm(_mH(l2), g2)
            phi = _tril(_mm(_mH(l1), _tril(g1, -1)), -1) + _triu(inner)
            grad = cat([_solve(_mH(l1), phi, True, True, True), g2], -2)  # [L1^-T phi; gL2]
            grad = _solve(_mH(upper), grad, False, False)  # ... U^-T
        return (_mm(permutation, grad),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        permutation, lower, upper = _unpack(ctx.out, ctx.pivots)
        m, n = t.shape[-2], t.shape[-1]
        k = min(m, n)
        permuted = _mm(_mT(permutation), t)
        if m <= n:
            u1, u2 = upper[..., :k], upper[..., k:]
            x = _solve(u1, _solve(lower, permuted[..., :k], False, True, True), True, False)
            d_lower = _mm(lower, _tril(x, -1))  # strictly lower, as L is unit lower
            packed = d_lower + _mm(_triu(x), u1)
            if m < n:
                rest = permuted[..., k:] - _mm(d_lower, u2)
                packed = cat([packed, _solve(lower, rest, False, True, True)], -1)
        else:
            l1, l2 = lower[..., :k, :], lower[..., k:, :]
            x = _solve(upper, _solve(l1, permuted[..., :k, :], False, True, True), True, False)
            d_upper = _mm(_triu(x), upper)
            d_l2 = _solve(upper, permuted[..., k:, :] - _mm(l2, d_upper), True, False)
            packed = cat([_mm(l1, _tril(x, -1)) + d_upper, d_l2], -2)
        return packed, None, None

    batch = elementwise_batch  # matrices in the last two dims


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LuFactorExResult:  # noqa: N803
    """(LU, pivots, info): lu_factor plus getrf's info per matrix (0, or the 1-based index of
    the first zero pivot of a singular matrix), raising only when check_errors.

    Args:
        A (Tensor): floating point (*, m, n).
        pivot (bool): partial pivoting (True); False on CUDA only.
        check_errors (bool): raise for a singular matrix.

    Returns:
        (Tensor, Tensor, Tensor): a named tuple (LU, pivots, info).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> chainrule.linalg.lu_factor_ex(A).info
        tensor(0, dtype=chainrule.int32)
    """
    _check_float_matrix("linalg.lu_factor_ex", A)
    _refuse_cpu_no_pivot(A, pivot)
    lu, pivots, info = apply(LuFactor, (A,), bool(pivot))
    if check_errors:
        _raise_for_info("linalg.lu_factor_ex", info, _SINGULAR_U)
    return LuFactorExResult(lu, pivots, info)


_SINGULAR_U = (
    "U[{info},{info}] is zero and using it on lu_solve would result in a division by zero. "
    "If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
    "linalg.lu_factor_ex(A, pivot)"
)


def _raise_for_info(op_name: str, info: Any, problem: str) -> None:
    """LinAlgError when any matrix's info is positive: outside vmap worded as PyTorch's, for
    the first failing matrix ('(Batch element i): ' when batched); under vmap, where only the
    batch's maximum can be read, with the largest info."""
    if info.numel() == 0:
        return
    array = info._array
    worst = int(array.max())
    if worst <= 0:
        return
    if not is_array(array):  # a batched value inside vmap
        raise LinAlgError(f"{op_name}: " + problem.format(info=worst))
    flat = array.reshape(-1)
    first = int((flat > 0).nonzero()[0][0])
    prefix = f"(Batch element {first}): " if array.ndim else ""
    raise LinAlgError(f"{op_name}: {prefix}" + problem.format(info=int(flat[first])))


def lu_factor(
    A: Tensor,  # noqa: N803
    *,
    pivot: bool = True,
    out: Tensor | Sequence[Tensor] | None = None,
) -> LuFactorResult:
    """(LU, pivots): the packed LU factorization with partial pivoting of each matrix, pivots
    1-based int32 as LAPACK's. Raises LinAlgError for a singular matrix, as PyTorch.

    Args:
        A (Tensor): floating point (*, m, n).
        pivot (bool): partial pivoting (True); False on CUDA only.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (LU, pivots).

    Example:
        >>> import chainrule
        >>> chainrule.linalg.lu_factor(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])).pivots
        tensor([2, 2], dtype=chainrule.int32)
    """
    if out is not None:
        return write_outs("linalg.lu_factor", lu_factor(A, pivot=pivot), out)
    _check_float_matrix("linalg.lu_factor", A)
    _refuse_cpu_no_pivot(A, pivot)
    lu, pivots, info = apply(LuFactor, (A,), bool(pivot))
    _raise_for_info("linalg.lu_factor", info, _SINGULAR_U)
    return LuFactorResult(lu, pivots)


def lu(A: Tensor, *, pivot: bool = True, out: Tensor | Sequence[Tensor] | None = None) -> LuResult:  # noqa: N803
    """(P, L, U) with A = P L U, L unit lower triangular (m x k), U upper (k x n); the
    derivative is lu_factor's (P is a constant). pivot=False factorizes without row swaps (P
    is the identity) on CUDA, and is refused on the CPU, as PyTorch's.

    Args:
        A (Tensor): floating point (*, m, n).
        pivot (bool): partial pivoting (True); False on CUDA only.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor, Tensor): a named tuple (P, L, U).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> P, L, U = chainrule.linalg.lu(A)
        >>> U
        tensor([[2.0000, 1.0000],
                [0.0000, 1.5000]])
    """
    if out is not None:
        return write_outs("linalg.lu", lu(A, pivot=pivot), out)
    _check_float_matrix("linalg.lu", A)
    _refuse_cpu_no_pivot(A, pivot)
    packed, pivots, _ = apply(LuFactor, (A,), bool(pivot))
    permutation, lower, upper = _unpack(packed, pivots)
    lower, upper = named(lower, "LinalgLuBackward0"), named(upper, "LinalgLuBackward0")
    return LuResult(permutation, lower, upper)


def lu_solve(
    LU: Tensor,  # noqa: N803
    pivots: Tensor,
    B: Tensor,  # noqa: N803
    *,
    left: bool = True,
    adjoint: bool = False,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """X with A X = B (A^H X = B when adjoint; X A = B or X A^H = B when not left) for
    A = P L U given packed by lu_factor; differentiable in LU and B, through two triangular
    solves and the constant permutation.

    Args:
        LU (Tensor): (*, n, n), from lu_factor.
        pivots (Tensor): (*, n), from lu_factor.
        B (Tensor): (*, n, k) (or (*, k, n) when not left).
        left (bool): solve A X = B (True) or X A = B.
        adjoint (bool): solve with A's (conjugate) transpose.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: the shape of `B`.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> LU, pivots = chainrule.linalg.lu_factor(A)
        >>> chainrule.linalg.lu_solve(LU, pivots, chainrule.tensor([[3.0], [3.0]]))
        tensor([[1.],
                [1.]])
    """
    if out is not None:
        return write_outs(
            "linalg.lu_solve", lu_solve(LU, pivots=pivots, B=B, left=left, adjoint=adjoint), out
        )
    _check_linalg_input("linalg.lu_solve", LU, "LU", complex_ok=True)
    if B._array.dtype != LU._array.dtype:
        raise DTypeError(
            f"linalg.lu_solve: expected LU and B to have the same dtype, but got "
            f"{LU.dtype.name} and {B.dtype.name}"
        )
    n = LU.shape[-1]
    if B.ndim < 2 or (B.shape[-2] if left else B.shape[-1]) != n:
        raise ShapeError(
            f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} (LU shape {tuple(LU.shape)}, B shape "
            f"{tuple(B.shape)})"
        )
    permutation, lower, upper = _unpack(LU, pivots)
    if not left:  # X A = B  <=>  A^H X^H = B^H; contiguous, as PyTorch's
        return named(
            _mH(lu_solve(LU, pivots, _mH(B), left=True, adjoint=not adjoint)).contiguous(),
            "LinalgLuSolveBackward0",
        )
    if adjoint:  # A^H = U^H L^H P^T: X = P L^-H U^-H B
        y = _solve(_mH(lower), _solve(_mH(upper), B, False, True), True, True, True)
        return named(_mm(permutation, y), "LinalgLuSolveBackward0")
    return named(
        _solve(upper, _solve(lower, _mm(_mT(permutation), B), False, True, True), True, True),
        "LinalgLuSolveBackward0",
    )


# ---- inverses and Cholesky that report instead of raising ----------------------------------


class CholeskyEx(Cholesky):
    """(L, info): Cholesky's factor and derivative, and LAPACK potrf's info per matrix (0, or
    the order of the leading minor that is not positive-definite) instead of an error."""

    label = "linalg.cholesky_ex"

    @staticmethod
    def forward(ctx: Node, a: Array, upper: bool) -> tuple:
        xp = ctx.xp
        ctx.save(upper=upper)
        if upper:  # the upper triangle is read, as Cholesky's: the lower one of A^H
            a = xp.conj(xp.swapaxes(a, -1, -2))
        try:
            lower = xp.linalg.cholesky(a)
            if xp.isnan(xp.diagonal(lower, axis1=-2, axis2=-1).real).any():
                raise xp.linalg.LinAlgError("nan pivot")  # LAPACK's potrf stops at a nan pivot
            info = xp.zeros(a.shape[:-2], dtype=xp.int32)
        except xp.linalg.LinAlgError:
            lower, info = _cholesky_arrays(xp, a)
        out = xp.ascontiguousarray(xp.conj(xp.swapaxes(lower, -1, -2))) if upper else lower
        ctx.save(out=out)
        return out, info

    @staticmethod
    def vjp(ctx: Node, g: Any, g_info: Any = None) -> tuple:
        return Cholesky.vjp(ctx, g)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        return Cholesky.jvp(ctx, t), None


def cholesky_ex(
    A: Tensor,  # noqa: N803
    *,
    upper: bool = False,
    check_errors: bool = False,
    out: Tensor | Sequence[Tensor] | None = None,
) -> CholeskyExResult:
    """(L, info) with A = L L^T where info == 0; info > 0 marks a matrix that is not
    positive-definite (its factor is then not meaningful), raising only when check_errors.

    Args:
        A (Tensor): floating point (*, n, n), symmetric (Hermitian).
        upper (bool): return the upper factor instead.
        check_errors (bool): raise for a matrix that is not positive-definite.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (L, info).

    Example:
        >>> import chainrule
        >>> chainrule.linalg.cholesky_ex(-chainrule.eye(2)).info
        tensor(1, dtype=chainrule.int32)
    """
    if out is not None:
        return write_outs(
            "linalg.cholesky_ex", cholesky_ex(A, upper=upper, check_errors=check_errors), out
        )
    _check_linalg_input("linalg.cholesky_ex", A, complex_ok=True)
    out, info = apply(CholeskyEx, (A,), bool(upper))
    if check_errors:
        _raise_for_info(
            "linalg.cholesky_ex",
            info,
            "The factorization could not be completed because the input is not "
            "positive-definite (the leading minor of order {info} is not positive-definite).",
        )
    return CholeskyExResult(out, info)


class InvEx(Inv):
    """(inverse, info): Inv's value and derivative, and getrf's info per matrix (0, or the
    1-based index of the first zero pivot of a singular matrix, whose inverse then holds
    inf/nan) instead of an error."""

    label = "linalg.inv_ex"

    @staticmethod
    def forward(ctx: Node, a: Array) -> tuple:
        xp = ctx.xp
        try:
            out = xp.linalg.inv(a)
            info = xp.zeros(a.shape[:-2], dtype=xp.int32)
        except xp.linalg.LinAlgError:
            lu, pivots, info = _lu_arrays(xp, a, True)
            out = _lu_inverse(xp, lu, pivots)
        ctx.save(out=out)
        return out, info

    @staticmethod
    def vjp(ctx: Node, g: Any, g_info: Any = None) -> tuple:
        """-A^-H g A^-H: Inv's, written with the conjugate transpose (no complex variant)."""
        out_h = _mH(ctx.out)
        return (-_mm(_mm(out_h, g), out_h),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        return -_mm(_mm(ctx.out, t), ctx.out), None


def _lu_inverse(xp: Any, lu: Array, pivots: Array) -> Array:
    """A^-1 = U^-1 L^-1 P^T by substitution; a zero pivot gives inf/nan (silently: forward runs
    with NumPy's warnings off)."""
    n = lu.shape[-1]
    permutation = _permutation(xp, pivots, n, lu.dtype)
    x = xp.swapaxes(permutation, -1, -2).copy()
    for i in range(n):  # L y = P^T (unit lower)
        x[..., i, :] -= xp.matmul(lu[..., i : i + 1, :i], x[..., :i, :])[..., 0, :]
    for i in range(n - 1, -1, -1):  # U x = y
        row = x[..., i, :] - xp.matmul(lu[..., i : i + 1, i + 1 :], x[..., i + 1 :, :])[..., 0, :]
        x[..., i, :] = row / lu[..., i, i : i + 1]
    return x


def inv_ex(
    A: Tensor,  # noqa: N803
    *,
    check_errors: bool = False,
    out: Tensor | Sequence[Tensor] | None = None,
) -> InvExResult:
    """(inverse, info): the inverse of each matrix, and info > 0 for a singular one (whose
    inverse holds inf/nan) instead of an error, unless check_errors.

    Args:
        A (Tensor): floating point or complex (*, n, n), a batch of square matrices.
        check_errors (bool): raise for a singular matrix.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (inverse, info).

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> chainrule.linalg.inv_ex(A).info
        tensor(0, dtype=chainrule.int32)
    """
    if out is not None:
        return write_outs("linalg.inv_ex", inv_ex(A, check_errors=check_errors), out)
    _check_linalg_input("linalg.inv_ex", A, complex_ok=True)
    out, info = apply(InvEx, (A,))
    if check_errors:
        _raise_for_info(
            "linalg.inv_ex",
            info,
            "The diagonal element {info} is zero, the inversion could not be completed "
            "because the input matrix is singular.",
        )
    return InvExResult(out, info)


# ---- norms ---------------------------------------------------------------------------------


def _with_dtype(name: str, x: Any, dtype: Any) -> Any:
    """x cast to `dtype` first, as the norms' dtype= argument asks (None: unchanged), which
    PyTorch takes only floating or complex as the input is, and never narrower than it."""
    if dtype is None:
        return x
    wanted = dtypes.as_dtype(dtype)
    given = x.dtype
    if not (given.is_floating_point or given.is_complex):
        raise DTypeError(
            f"{name}: Expected a floating point or complex tensor as input. Got {given.name}"
        )
    if not (wanted.is_floating_point or wanted.is_complex):
        raise DTypeError(
            f"{name}: dtype should be floating point or complex, but got {wanted.name}"
        )
    if wanted.is_complex != given.is_complex:
        kind = "complex for complex" if given.is_complex else "real for real"
        raise DTypeError(f"{name}: dtype should be {kind} inputs, but got {wanted.name}")
    if dtypes.promote_types(given, wanted) is not wanted:
        raise DTypeError(
            f"{name}: the dtype of the input ({given.name}) should be convertible without "
            f"narrowing to the specified dtype ({wanted.name})"
        )
    return cast(x, wanted)


def matrix_norm(
    A: Tensor,  # noqa: N803
    ord: float | str = "fro",  # noqa: A002
    dim: tuple[int, int] = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: dtypes.dtype | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """Matrix norm over the two dimensions `dim`: 'fro'; 'nuc' (the sum of the singular
    values), 2 and -2 (the largest and smallest); 1, -1, inf, -inf (the max/min column or
    row sum of |A|). Singular-value norms differentiate through svdvals (ties of 2 and -2
    share the gradient evenly, as PyTorch's amax and amin).

    Args:
        A (Tensor): floating point or complex, at least 2-D.
        ord (int, float or str): 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2.
        dim (pair of ints): the matrices' dimensions.
        keepdim (bool): keep them with size 1.
        dtype (dtype, optional): compute in this dtype.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: A's shape without `dim`, real.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> chainrule.linalg.matrix_norm(A), chainrule.linalg.matrix_norm(A, "nuc")
        (tensor(3.1623), tensor(4.))
    """
    if out is not None:
        return write_outs(
            "linalg.matrix_norm",
            matrix_norm(A, ord=ord, dim=dim, keepdim=keepdim, dtype=dtype),
            out,
        )
    A = _with_dtype("linalg.matrix_norm", A, dtype)  # noqa: N806
    if A._array.dtype.kind == "c" and ord not in ("nuc", 2, -2):
        A = _abs(A)  # noqa: N806 - these norms read only the moduli |a_ij|
    if A._array.dtype.kind not in "fcV":
        raise DTypeError(f"linalg.matrix_norm: expected a floating point tensor, got {A.dtype}")
    if A.ndim < 2:
        raise ShapeError(
            f"linalg.matrix_norm: the input tensor A must have at least 2 dimensions, got "
            f"shape {tuple(A.shape)}"
        )
    if len(dim) != 2:
        raise ShapeError(f"linalg.matrix_norm: dim must be a 2-tuple, got {dim}")
    rows = normalize_dim("linalg.matrix_norm", dim[0], A.ndim)
    cols = normalize_dim("linalg.matrix_norm", dim[1], A.ndim)
    if rows == cols:
        raise ShapeError(f"linalg.matrix_norm: dims must be different, got {dim}")
    if ord == "fro":
        return reduction.vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        moved = A.movedim((rows, cols), (-2, -1))
        values = svdvals(moved)
        if ord == 2 and values.shape[-1] == 0:
            return _no_norms(A, rows, cols, keepdim)
        if ord == "nuc":
            out = reduction.sum(values, -1)
        else:
            out = (reduction.amax if ord == 2 else reduction.amin)(values, -1)
        if keepdim:
            out = unsqueeze(unsqueeze(out, min(rows, cols)), max(rows, cols))
            return named(out, "PermuteBackward0")  # PyTorch's: the kept dims moved back
        return out
    if ord not in (1, -1, math.inf, -math.inf):
        raise DomainError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed_dim, extreme_dim = (rows, cols) if abs(ord) == 1 else (cols, rows)
    sums = reduction.sum(_abs(A), summed_dim, True)
    extreme = reduction.amax if ord > 0 else reduction.amin
    if ord > 0 and sums.shape[extreme_dim] == 0:
        return _no_norms(A, rows, cols, keepdim)
    out = extreme(sums, extreme_dim, True)
    out = out if keepdim else squeeze(out, (rows, cols))
    return named(out, "AmaxBackward0" if ord > 0 else "AminBackward0")  # PyTorch's last op


def _no_norms(A: Tensor, rows: int, cols: int, keepdim: bool) -> Tensor:  # noqa: N803
    """The largest of no column sums or singular values: zeros outside the graph, as
    PyTorch's (the smallest of none is amin's IndexError)."""
    shape = [1 if axis in (rows, cols) else size for axis, size in enumerate(A.shape)]
    if not keepdim:
        shape = [size for axis, size in enumerate(shape) if axis not in (rows, cols)]
    backend = A._backend
    return Tensor._from_array(backend.xp.zeros(tuple(shape), A._array.real.dtype), backend)


def norm(
    A: Tensor,  # noqa: N803
    ord: float | str | None = None,  # noqa: A002
    dim: int | tuple[int, int] | None = None,
    keepdim: bool = False,
    *,
    dtype: dtypes.dtype | None = None,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """torch.linalg.norm: a vector norm when `dim` is an int (or ord is None and dim is None,
    over everything), a matrix norm (every order of matrix_norm) when `dim` is a pair or the
    input is 2-D with ord given.

    Args:
        A (Tensor): floating point or complex.
        ord (int, float or str, optional): the order (vector or matrix, as `dim` says).
        dim (int or pair of ints, optional): a vector or a matrix dimension pair.
        keepdim (bool): keep the reduced dimensions with size 1.
        dtype (dtype, optional): compute in this dtype.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: A's shape without the reduced dimensions, real.

    Example:
        >>> import chainrule
        >>> chainrule.linalg.norm(chainrule.tensor([3.0, 4.0]))
        tensor(5.)
        >>> chainrule.linalg.norm(chainrule.tensor([[2.0, 1.0], [1.0, 2.0]]), 2)
        tensor(3.)
    """
    if out is not None:
        return write_outs(
            "linalg.norm", norm(A, ord=ord, dim=dim, keepdim=keepdim, dtype=dtype), out
        )
    A = _with_dtype("linalg.norm", A, dtype)  # noqa: N806
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        if ord is None:
            return reduction.vector_norm(A, 2, None, keepdim)
        if A.ndim not in (1, 2):
            raise ShapeError(
                f"linalg.norm: if dim is not given, input must be 1-D or 2-D when ord is "
                f"given, but got shape {tuple(A.shape)}"
            )
        dim = tuple(range(A.ndim))
    if isinstance(ord, str):  # PyTorch's: a named order is always a matrix norm
        return matrix_norm(A, ord, tuple(dim), keepdim)
    if len(dim) == 1:
        return reduction.vector_norm(A, 2 if ord is None else ord, dim, keepdim)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim)
    raise ShapeError(f"linalg.norm: dim must be an int or a 2-tuple, got {dim}")


# ---- LDL^T (Bunch-Kaufman) ----------------------------------------------------------------------

LdlFactorResult = return_type("linalg_ldl_factor", ["LD", "pivots"])
LdlFactorExResult = return_type("linalg_ldl_factor_ex", ["LD", "pivots", "info"])

_BUNCH_KAUFMAN_ALPHA = (1 + math.sqrt(17)) / 8  # balances the growth of 1x1 and 2x2 pivots


def _ldl_one(xp: Any, a: Array, hermitian: bool) -> tuple:
    """LAPACK's unblocked ?sytf2 / ?hetf2 with UPLO='L' on one matrix: P A P^T = L D L^T
    (L^H for hermitian) with D of 1x1 and 2x2 blocks, by Bunch and Kaufman's partial pivoting.
    Returns the packed factors (L below the diagonal, D on and next to it, the strict upper
    triangle zero), LAPACK's 1-based int32 pivots (a negative pair marks a 2x2 block) and
    info (the 1-based index of the first exactly zero D block, 0 if none)."""
    a = a.copy()
    n = a.shape[-1]
    is_complex = a.dtype.kind == "c"
    herm = hermitian and is_complex

    def magnitude(v: Array) -> Array:  # LAPACK's i?amax measure: |Re| + |Im| for complex
        return xp.abs(v.real) + xp.abs(v.imag) if is_complex else xp.abs(v)

    def diagonal_magnitude(v: Any) -> float:
        if herm:
            return abs(float(v.real))
        return float(magnitude(xp.asarray(v)))

    def adjoint(v: Array) -> Array:
        return xp.conj(v) if herm else v

    pivots = xp.zeros(n, dtype=xp.int32)
    info = 0
    k = 0
    while k < n:
        step = 1
        abs_akk = diagonal_magnitude(a[k, k])
        if k < n - 1:
            column = magnitude(a[k + 1 :, k])
            imax = k + 1 + int(xp.argmax(column))
            colmax = float(column[imax - k - 1])
        else:
            imax, colmax = k, 0.0
        if max(abs_akk, colmax) == 0 or math.isnan(abs_akk):
            info = info or k + 1  # a zero column: D[k, k] = 0, nothing to eliminate
            kp = k
        else:
            if abs_akk >= _BUNCH_KAUFMAN_ALPHA * colmax:
                kp = k
            else:
                rowmax = float(magnitude(a[imax, k:imax]).max())
                if imax < n - 1:
                    rowmax = max(rowmax, float(magnitude(a[imax + 1 :, imax]).max()))
                if abs_akk >= _BUNCH_KAUFMAN_ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif diagonal_magnitude(a[imax, imax]) >= _BUNCH_KAUFMAN_ALPHA * rowmax:
                    kp = imax
                else:
                    kp, step = imax, 2
            kk = k + step - 1
            if kp != kk:  # swap rows and columns kk and kp of the trailing lower triangle
                below = a[kp + 1 :, kk].copy()
                a[kp + 1 :, kk] = a[kp + 1 :, kp]
                a[kp + 1 :, kp] = below
                column_part = a[kk + 1 : kp, kk].copy()
                a[kk + 1 : kp, kk] = adjoint(a[kp, kk + 1 : kp])
                a[kp, kk + 1 : kp] = adjoint(column_part)
                if herm:
                    a[kp, kk] = xp.conj(a[kp, kk])
                corner = a[kk, kk].copy()
                a[kk, kk] = a[kp, kp]
                a[kp, kp] = corner
                if step == 2:
                    corner = a[k + 1, k].copy()
                    a[k + 1, k] = a[kp, k]
                    a[kp, k] = corner
            if herm:
                a[k, k] = a[k, k].real
                a[kk, kk] = a[kk, kk].real
            if step == 1:
                if k < n - 1:  # A22 -= x D11^-1 x^H, then L's column x D11^-1
                    inverse = 1 / (a[k, k].real if herm else a[k, k])
                    x = a[k + 1 :, k].copy()
                    a[k + 1 :, k + 1 :] -= inverse * xp.multiply.outer(x, adjoint(x))
                    a[k + 1 :, k] = x * inverse
            elif k < n - 2:  # the 2x2 block D = [[a_kk, conj(d21)], [d21, a_k1k1]]
                xk, xk1 = a[k + 2 :, k].copy(), a[k + 2 :, k + 1].copy()
                if herm:
                    d = abs(complex(a[k + 1, k]))
                    d11 = float(a[k + 1, k + 1].real) / d
                    d22 = float(a[k, k].real) / d
                    d21 = a[k + 1, k] / d
                    scale = 1 / (d11 * d22 - 1) / d
                    wk = scale * (d11 * xk - d21 * xk1)
                    wk1 = scale * (d22 * xk1 - xp.conj(d21) * xk)
                else:
                    d21 = a[k + 1, k]
                    d11 = a[k + 1, k + 1] / d21
                    d22 = a[k, k] / d21
                    scale = 1 / (d11 * d22 - 1) / d21
                    wk = scale * (d11 * xk - xk1)
                    wk1 = scale * (d22 * xk1 - xk)
                a[k + 2 :, k + 2 :] -= xp.multiply.outer(xk, adjoint(wk)) + xp.multiply.outer(
                    xk1, adjoint(wk1)
                )
                a[k + 2 :, k] = wk
                a[k + 2 :, k + 1] = wk1
            if herm:
                rest = xp.arange(k + step, n)
                a[rest, rest] = a[rest, rest].real
        if step == 1:
            pivots[k] = kp + 1
        else:
            pivots[k] = pivots[k + 1] = -(kp + 1)
        k += step
    return xp.tril(a), pivots, info


class LdlFactor(NoDerivative):
    """The LDL^T (LDL^H when hermitian) factorization with Bunch-Kaufman pivoting of each
    matrix, read from its lower triangle, packed as LAPACK's ?sytrf / ?hetrf. No derivative,
    as PyTorch (it used to be a constant, and the gradient through it was silently dropped)."""

    label = "linalg.ldl_factor"
    aten = "linalg_ldl_factor_ex"

    @staticmethod
    def forward(ctx: Node, a: Array, hermitian: bool) -> tuple:
        xp = ctx.xp
        batch = a.shape[:-2]
        flat = a.reshape((-1,) + a.shape[-2:])
        packed = xp.empty_like(flat)
        pivots = xp.zeros(flat.shape[:2], dtype=xp.int32)
        info = xp.zeros(flat.shape[0], dtype=xp.int32)
        for index in range(flat.shape[0]):
            packed[index], pivots[index], info[index] = _ldl_one(xp, flat[index], hermitian)
        n = a.shape[-1]
        return packed.reshape(a.shape), pivots.reshape(batch + (n,)), info.reshape(batch)

    batch = elementwise_batch  # matrices in the last two dims


def _ldl_solve_one(xp: Any, ld: Array, pivots: Array, b: Array, hermitian: bool) -> Array:
    """LAPACK's ?sytrs / ?hetrs with UPLO='L': X = A^-1 B from ldl_factor's packed factors,
    by P, L, the blocks of D, L^T (L^H) and P^T in turn."""
    herm = hermitian and ld.dtype.kind == "c"
    x = b.copy()
    n = ld.shape[-1]
    k = 0
    while k < n:  # L D Y = P^T B
        if pivots[k] > 0:
            kp = int(pivots[k]) - 1
            x[[k, kp]] = x[[kp, k]]
            x[k + 1 :] -= xp.multiply.outer(ld[k + 1 :, k], x[k])
            x[k] = x[k] / (ld[k, k].real if herm else ld[k, k])
            k += 1
        else:
            kp = -int(pivots[k]) - 1
            x[[k + 1, kp]] = x[[kp, k + 1]]
            x[k + 2 :] -= xp.multiply.outer(ld[k + 2 :, k], x[k]) + xp.multiply.outer(
                ld[k + 2 :, k + 1], x[k + 1]
            )
            d21 = ld[k + 1, k]
            d21_upper = xp.conj(d21) if herm else d21
            d11 = ld[k, k] / d21_upper
            d22 = ld[k + 1, k + 1] / d21
            denominator = d11 * d22 - 1
            first, second = x[k] / d21_upper, x[k + 1] / d21
            x[k] = (d22 * first - second) / denominator
            x[k + 1] = (d11 * second - first) / denominator
            k += 2
    k = n - 1
    while k >= 0:  # L^T P^T X = Y
        below = xp.conj(ld[k + 1 :, k]) if herm else ld[k + 1 :, k]
        x[k] -= below @ x[k + 1 :]
        if pivots[k] > 0:
            kp = int(pivots[k]) - 1
            x[[k, kp]] = x[[kp, k]]
            k -= 1
        else:
            below = xp.conj(ld[k + 1 :, k - 1]) if herm else ld[k + 1 :, k - 1]
            x[k - 1] -= below @ x[k + 1 :]
            kp = -int(pivots[k]) - 1
            x[[k, kp]] = x[[kp, k]]
            k -= 2
    return x


class LdlSolve(NoDerivative):
    """X = A^-1 B from ldl_factor's (LD, pivots). No derivative, as PyTorch."""

    label = "linalg.ldl_solve"
    aten = "linalg_ldl_solve"

    @staticmethod
    def forward(ctx: Node, ld: Array, pivots: Array, b: Array, hermitian: bool) -> Array:
        xp = ctx.xp
        n = ld.shape[-1]
        batch = tuple(xp.broadcast_shapes(ld.shape[:-2], pivots.shape[:-1], b.shape[:-2]))
        ld = xp.broadcast_to(ld, batch + (n, n)).reshape((-1, n, n))
        pivots = xp.broadcast_to(pivots, batch + (n,)).reshape((-1, n))
        b_full = xp.broadcast_to(b, batch + b.shape[-2:])
        flat = b_full.reshape((-1,) + b.shape[-2:])
        out = xp.empty_like(flat)
        for index in range(flat.shape[0]):
            out[index] = _ldl_solve_one(xp, ld[index], pivots[index], flat[index], hermitian)
        return out.reshape(batch + b.shape[-2:])


def _check_square(op_name: str, A: Tensor) -> None:  # noqa: N803
    _check_float_matrix(op_name, A)
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"{op_name}: A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices"
        )


def ldl_factor_ex(
    A: Tensor,  # noqa: N803
    *,
    hermitian: bool = False,
    check_errors: bool = False,
    out: Tensor | Sequence[Tensor] | None = None,
) -> LdlFactorExResult:
    """(LD, pivots, info): the LDL^T factorization of symmetric (LDL^H of Hermitian, when
    `hermitian`) matrices with Bunch-Kaufman pivoting, as LAPACK's ?sytrf / ?hetrf with the
    lower triangle: L unit lower triangular below LD's diagonal, D block diagonal (1x1 and
    2x2 blocks) on it and next to it, the strict upper triangle zero; pivots 1-based int32
    (a 2x2 block's two entries both negative); info the 1-based index of the first zero block
    of D (a singular matrix), 0 otherwise. Only the lower triangle of A is read.

    Args:
        A (Tensor): floating point or complex (*, n, n), symmetric or Hermitian.
        hermitian (bool): factor a complex A as Hermitian (LDL^H) rather than symmetric.
        check_errors (bool): raise LinAlgError when a matrix is singular.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor, Tensor): a named tuple (LD, pivots, info); not differentiable.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[0.0, 1.0], [1.0, 0.0]])
        >>> chainrule.linalg.ldl_factor_ex(A).pivots  # one 2x2 block
        tensor([-2, -2], dtype=chainrule.int32)
    """
    if out is not None:
        return write_outs(
            "linalg.ldl_factor_ex",
            ldl_factor_ex(A, hermitian=hermitian, check_errors=check_errors),
            out,
        )
    _check_square("torch.linalg.ldl_factor_ex", A)
    packed, pivots, info = apply(LdlFactor, (A,), bool(hermitian))
    if check_errors:
        _raise_for_info("torch.linalg.ldl_factor_ex", info, _SINGULAR_D)
    return LdlFactorExResult(packed, pivots, info)


_SINGULAR_D = (
    "The factorization could not be completed because the input is not invertible "
    "(D[{info},{info}] is zero)"
)


def ldl_factor(
    A: Tensor,  # noqa: N803
    *,
    hermitian: bool = False,
    out: Tensor | Sequence[Tensor] | None = None,
) -> LdlFactorResult:
    """(LD, pivots): ldl_factor_ex's factors, raising LinAlgError for a singular matrix
    (PyTorch 2.13 raises there too, through an internal assertion).

    Args:
        A (Tensor): floating point or complex (*, n, n), symmetric or Hermitian.
        hermitian (bool): factor a complex A as Hermitian (LDL^H) rather than symmetric.
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        (Tensor, Tensor): a named tuple (LD, pivots); not differentiable.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[4.0, 2.0], [2.0, 3.0]])
        >>> chainrule.linalg.ldl_factor(A).LD
        tensor([[4.0000, 0.0000],
                [0.5000, 2.0000]])
    """
    if out is not None:
        return write_outs("linalg.ldl_factor", ldl_factor(A, hermitian=hermitian), out)
    _check_square("torch.linalg.ldl_factor", A)
    packed, pivots, info = apply(LdlFactor, (A,), bool(hermitian))
    _raise_for_info("torch.linalg.ldl_factor", info, _SINGULAR_D)
    return LdlFactorResult(packed, pivots)


def ldl_solve(
    LD: Tensor,  # noqa: N803
    pivots: Tensor,
    B: Tensor,  # noqa: N803
    *,
    hermitian: bool = False,
    out: Tensor | Sequence[Tensor] | None = None,
) -> Tensor:
    """X with A X = B, from ldl_factor's (LD, pivots) of A; batch dimensions broadcast.

    Args:
        LD (Tensor): (*, n, n), from ldl_factor.
        pivots (Tensor): (*, n), from ldl_factor.
        B (Tensor): (*, n, k), of LD's dtype.
        hermitian (bool): LD is the LDL^H factorization of a Hermitian A (as factored).
        out (Tensor or tuple of Tensors, optional): write the result here, in tensors of
            the result's exact dtypes.

    Returns:
        Tensor: (*, n, k); not differentiable.

    Example:
        >>> import chainrule
        >>> A = chainrule.tensor([[4.0, 2.0], [2.0, 3.0]])
        >>> LD, pivots = chainrule.linalg.ldl_factor(A)
        >>> chainrule.linalg.ldl_solve(LD, pivots, chainrule.tensor([[6.0], [5.0]]))
        tensor([[1.],
                [1.]])
    """
    if out is not None:
        return write_outs(
            "linalg.ldl_solve", ldl_solve(LD, pivots=pivots, B=B, hermitian=hermitian), out
        )
    _check_square("torch.linalg.ldl_solve", LD)
    if B.ndim < 2:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [-1, 0], but got -2): "
            f"torch.linalg.ldl_solve: B must have at least 2 dimensions, got {tuple(B.shape)}"
        )
    if B._array.dtype != LD._array.dtype:
        raise DTypeError(
            f"torch.linalg.ldl_solve: Expected B and LD to have the same dtype, but found B of "
            f"type {B.dtype.name} and LD of type {LD.dtype.name} instead."
        )
    if pivots._array.dtype.kind not in "iu" or pivots.shape[-1:] != LD.shape[-1:]:
        raise ShapeError(
            f"torch.linalg.ldl_solve: expected integer pivots of shape (*, {LD.shape[-1]}), got "
            f"{pivots.dtype.name} of shape {tuple(pivots.shape)}"
        )
    if B.shape[-2] != LD.shape[-1]:
        raise ShapeError(
            f"torch.linalg.ldl_solve: Incompatible shapes of A and B for the equation AX = B "
            f"(LD shape {tuple(LD.shape)}, B shape {tuple(B.shape)})"
        )
    return apply(LdlSolve, (LD, pivots, B), bool(hermitian))
