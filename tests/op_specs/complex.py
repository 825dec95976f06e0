"""Specs with complex inputs (OpSpec(complex=...)): every op PyTorch supports for complex
tensors, checked against PyTorch's values and gradients (grad = dL/da + i dL/db for z = a + ib)
and against finite differences along the real and the imaginary parts.

Domains keep the parts in [-2, 2] (or away from branch cuts and poles where the op has them:
log, sqrt and the inverse functions have a cut on a half-line of the real axis, which a
finite difference must not straddle).
"""

import math
from functools import partial

import numpy as np
import torch

import chainrule
from chainrule.testing import OpSpec

BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((), (2, 3))]
UNARY_SHAPES = [((2, 3),), ((),)]
WIDE = (-2.0, 2.0)
RIGHT = (0.5, 2.0)  # both parts positive: away from the cuts on the negative real axis
SMALL = (-0.6, 0.6)  # inside the unit disc: away from the cuts of asin, acos, atanh


def _unary(name, fn, torch_fn, domain=WIDE, shapes=UNARY_SHAPES, **options):
    options.setdefault("complex", True)
    return OpSpec(f"complex_{name}", fn, torch_fn, shapes=shapes, domains=[domain], **options)


def _binary(name, fn, torch_fn, domains=(WIDE, WIDE), shapes=BINARY_SHAPES, **options):
    options.setdefault("complex", True)
    return OpSpec(f"complex_{name}", fn, torch_fn, shapes=shapes, domains=list(domains), **options)


# ---- arithmetic --------------------------------------------------------------------------------

ARITHMETIC = [
    _binary("add", chainrule.add, torch.add),
    _binary("sub", chainrule.sub, torch.sub),
    _binary("mul", chainrule.mul, torch.mul),
    _binary("div", chainrule.div, torch.div, domains=(WIDE, RIGHT)),
    _binary("pow", chainrule.pow, torch.pow, domains=(RIGHT, WIDE)),
    _binary("logaddexp", chainrule.logaddexp, torch.logaddexp),
    # A real operand promotes: its gradient is the real part of the complex one.
    _binary("mul_real_by_complex", chainrule.mul, torch.mul, complex=(False, True)),
    _binary(
        "div_complex_by_real",
        chainrule.div,
        torch.div,
        domains=(WIDE, RIGHT),
        complex=(True, False),
    ),  # fmt: skip
    _unary("mul_python_complex", lambda z: z * (1.5 - 2j), lambda z: z * (1.5 - 2j)),
    _unary("add_python_complex", lambda z: 2j + z, lambda z: 2j + z),
    _unary("mul_python_float", lambda z: z * 2.5, lambda z: z * 2.5),
    _unary("real_times_1j", lambda x: x * 1j, lambda x: x * 1j, complex=False),
    OpSpec(
        "complex_lerp",
        chainrule.lerp,
        torch.lerp,
        shapes=[((2, 3), (2, 3), (2, 3)), ((3,), (3,), ())],
        complex=True,
    ),
    _unary(
        "lerp_scalar_weight",
        lambda z: chainrule.lerp(z, z * 2j, 0.3),
        lambda z: torch.lerp(z, z * 2j, 0.3),
    ),  # fmt: skip
    _unary("neg", chainrule.neg, torch.neg),
    _unary("square", chainrule.square, torch.square),
    _unary("reciprocal", chainrule.reciprocal, torch.reciprocal, domain=RIGHT),
    _unary("pow_scalar", lambda z: z**3, lambda z: z**3),
    _unary("pow_fractional", lambda z: z**1.5, lambda z: z**1.5, domain=RIGHT),
]

# ---- holomorphic functions --------------------------------------------------------------------

HOLOMORPHIC = [
    _unary("exp", chainrule.exp, torch.exp),
    _unary("exp2", chainrule.exp2, torch.exp2),
    _unary("expm1", chainrule.expm1, torch.expm1),
    _unary("log", chainrule.log, torch.log, domain=RIGHT),
    _unary("log1p", chainrule.log1p, torch.log1p, domain=RIGHT),
    _unary("log2", chainrule.log2, torch.log2, domain=RIGHT),
    _unary("log10", chainrule.log10, torch.log10, domain=RIGHT),
    _unary("sqrt", chainrule.sqrt, torch.sqrt, domain=RIGHT),
    _unary("rsqrt", chainrule.rsqrt, torch.rsqrt, domain=RIGHT),
    _unary("sin", chainrule.sin, torch.sin),
    _unary("cos", chainrule.cos, torch.cos),
    _unary("tan", chainrule.tan, torch.tan, domain=SMALL),
    _unary("asin", chainrule.asin, torch.asin, domain=SMALL),
    _unary("acos", chainrule.acos, torch.acos, domain=SMALL),
    _unary("atan", chainrule.atan, torch.atan, domain=SMALL),
    _unary("sinh", chainrule.sinh, torch.sinh),
    _unary("cosh", chainrule.cosh, torch.cosh),
    _unary("tanh", chainrule.tanh, torch.tanh, domain=SMALL),
    _unary("sigmoid", chainrule.sigmoid, torch.sigmoid, domain=SMALL),
    _unary("asinh", chainrule.asinh, torch.asinh, domain=SMALL),
    _unary("acosh", chainrule.acosh, torch.acosh, domain=RIGHT),
    _unary("atanh", chainrule.atanh, torch.atanh, domain=SMALL),
    _unary("sinc", chainrule.sinc, torch.sinc, domain=RIGHT),
]

# ---- parts, conjugate, modulus and argument ------------------------------------------------------

PARTS = [
    _unary("real", chainrule.real, torch.real),
    _unary("imag", chainrule.imag, torch.imag),
    _unary("real_property", lambda z: z.real * z.imag, lambda z: z.real * z.imag),
    _unary("conj", chainrule.conj, torch.conj),
    _unary("conj_physical", chainrule.conj_physical, torch.conj_physical),
    _unary("abs", chainrule.abs, torch.abs),
    _unary("sgn", chainrule.sgn, torch.sgn),
    _unary("angle", chainrule.angle, torch.angle),
    _unary("angle_of_real", chainrule.angle, torch.angle, complex=False),
    _unary("view_as_real", chainrule.view_as_real, torch.view_as_real),
    OpSpec(
        "view_as_complex",
        chainrule.view_as_complex,
        torch.view_as_complex,
        shapes=[((3, 2),), ((2, 4, 2),)],
        noncontiguous=False,  # torch's view needs the last dimension contiguous
    ),
    OpSpec("complex", chainrule.complex, torch.complex, shapes=[((2, 3), (2, 3)), ((3,), ())]),
    OpSpec(
        "polar",
        chainrule.polar,
        torch.polar,
        shapes=[((2, 3), (2, 3))],
        domains=[(0.5, 2.0), (-math.pi, math.pi)],
    ),
    _unary("abs_squared", lambda z: (z * z.conj()).real, lambda z: (z * z.conj()).real),
]

# ---- reductions, matrix products, shape and indexing -------------------------------------------

REDUCTIONS = [
    _unary("sum", chainrule.sum, torch.sum),
    _unary("sum_dim", lambda z: z.sum(1), lambda z: z.sum(1), shapes=[((2, 3),)]),
    _unary("mean", chainrule.mean, torch.mean),
    _unary("mean_dim", lambda z: z.mean(0), lambda z: z.mean(0), shapes=[((2, 3),)]),
    _unary("prod", lambda z: z.prod(1), lambda z: z.prod(1), shapes=[((2, 3),)]),
    _unary("cumprod", lambda z: z.cumprod(1), lambda z: z.cumprod(1), shapes=[((2, 3),)]),
    _unary("cumsum", lambda z: z.cumsum(0), lambda z: z.cumsum(0), shapes=[((2, 3),)]),
    # log(cumsum(exp(z))), holomorphic; the branch of each imaginary part is PyTorch's
    _unary(
        "logcumsumexp",
        lambda z: chainrule.logcumsumexp(z, -1),
        lambda z: torch.logcumsumexp(z, -1),
        shapes=[((2, 4),), ((),)],
    ),
    _unary("var", chainrule.var, torch.var, shapes=[((2, 3),)]),
    # The real parts are shifted out (the imaginary part is the sum's principal argument).
    _unary(
        "logsumexp",
        lambda z: chainrule.logsumexp(z, 1),
        lambda z: torch.logsumexp(z, 1),
        shapes=[((2, 3),)],
    ),
    _unary(
        "logsumexp_large",  # exp(1000) overflows: the real parts' maximum is shifted out
        lambda z: chainrule.logsumexp(z, 1),
        lambda z: torch.logsumexp(z, 1),
        shapes=[((2, 3),)],
        domain=(999.0, 1001.0),
    ),
    _unary(
        "logsumexp_empty",  # -inf + 0j (no finite differences at -inf)
        lambda z: chainrule.logsumexp(z, 1),
        lambda z: torch.logsumexp(z, 1),
        shapes=[((3, 0),)],
        finite_differences=False,
    ),
    _unary(
        "logsumexp_dims_keepdim",
        lambda z: chainrule.logsumexp(z, (0, 2), keepdim=True),
        lambda z: torch.logsumexp(z, (0, 2), keepdim=True),
        shapes=[((2, 3, 2),)],
        domain=(-4.0, 4.0),  # the imaginary parts wrap past pi: the sums' arguments vary widely
    ),
    _unary(
        "special.logsumexp",
        lambda z: chainrule.special.logsumexp(z, 0),
        lambda z: torch.special.logsumexp(z, 0),
        shapes=[((4,),), ((),)],
    ),
    _unary("std_dim", lambda z: z.std(1), lambda z: z.std(1), shapes=[((2, 3),)]),
    _unary(
        "vector_norm",
        lambda z: chainrule.linalg.vector_norm(z),
        lambda z: torch.linalg.vector_norm(z),
    ),
    _unary("norm", lambda z: z.norm(), lambda z: z.norm()),
    _unary(
        "matrix_norm_fro",
        lambda z: chainrule.linalg.matrix_norm(z),
        lambda z: torch.linalg.matrix_norm(z),
        shapes=[((2, 3),)],
    ),
    _unary(
        "matrix_norm_inf",
        lambda z: chainrule.linalg.matrix_norm(z, float("inf")),
        lambda z: torch.linalg.matrix_norm(z, float("inf")),
        shapes=[((2, 3),)],
    ),
]

PRODUCTS = [
    _binary("matmul", chainrule.matmul, torch.matmul, shapes=[((2, 3), (3, 4)), ((3,), (3, 2))]),
    _binary("mm", chainrule.mm, torch.mm, shapes=[((2, 3), (3, 4))]),
    _binary("bmm", chainrule.bmm, torch.bmm, shapes=[((2, 2, 3), (2, 3, 4))]),
    _binary(
        "einsum",
        lambda a, b: chainrule.einsum("ij,jk->ik", a, b),
        lambda a, b: torch.einsum("ij,jk->ik", a, b),
        shapes=[((2, 3), (3, 4))],
    ),
    _binary(
        "vecdot",
        lambda a, b: chainrule.linalg.vecdot(a, b),
        lambda a, b: torch.linalg.vecdot(a, b),
        shapes=[((2, 3), (2, 3))],
    ),
    _binary(
        "vdot",
        chainrule.vdot,
        torch.vdot,
        shapes=[((3,), (3,))],
    ),
    _binary("outer", chainrule.outer, torch.outer, shapes=[((3,), (2,))]),
]


def _well_conditioned(rng):
    """A complex matrix near 3 I (comfortably invertible) and a right-hand side."""
    noise = rng.uniform(-0.5, 0.5, (2, 3, 3)) + 1j * rng.uniform(-0.5, 0.5, (2, 3, 3))
    rhs = rng.uniform(-2, 2, (2, 3, 2)) + 1j * rng.uniform(-2, 2, (2, 3, 2))
    return noise + 3 * np.eye(3), rhs


LINALG = [
    OpSpec(
        "complex_linalg.inv",
        chainrule.linalg.inv,
        torch.linalg.inv,
        make_inputs=lambda rng: _well_conditioned(rng)[:1],
    ),
    OpSpec(
        "complex_linalg.det",
        chainrule.linalg.det,
        torch.linalg.det,
        make_inputs=lambda rng: _well_conditioned(rng)[:1],
    ),
    OpSpec(
        "complex_linalg.solve",
        chainrule.linalg.solve,
        torch.linalg.solve,
        make_inputs=_well_conditioned,
    ),
]

# ---- decompositions -----------------------------------------------------------------------------
# Complex singular vectors and eigenvectors are unique only up to a phase each, so their specs
# check functions that do not depend on it (|U|^2, U diag(w) Vh, V diag(w) V^H); matrices are
# drawn with well-separated singular values (eigenvalues), where the derivatives exist.


def _normal(rng, shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _unitary(rng, shape):
    q, _ = np.linalg.qr(_normal(rng, shape))
    return q


def _separated(*shape, hermitian=False):
    """Q1 diag(s) Q2 with complex unitary Q1, Q2 (Q diag(s) Q^H when hermitian) and s spread
    over [1, 3] (with signs, hermitian): values well apart and away from zero."""
    m, n = shape[-2], shape[-1]
    k = min(m, n)

    def draw(rng):
        q1, q2 = _unitary(rng, shape[:-2] + (m, m)), _unitary(rng, shape[:-2] + (n, n))
        s = np.linspace(3.0, 1.0, k) + rng.uniform(-0.2, 0.2, size=shape[:-2] + (k,))
        if hermitian:
            s = s * np.where(np.arange(k) % 2, -1.0, 1.0) + 0.5 * np.arange(k)
            return (q1 * s[..., None, :]) @ np.conj(np.swapaxes(q1, -1, -2))
        return (q1[..., :, :k] * s[..., None, :]) @ q2[..., :k, :]

    return draw


def _near_identity(*shape):
    """A complex matrix (batch) near 3 I: invertible, eigenvalues apart from each other."""
    n = shape[-1]
    return lambda rng: 0.5 * _normal(rng, shape) + 3 * np.eye(n) + np.diag(np.arange(n))


def _draws(*draws):
    """make_inputs from one draw per input: a shape (complex normal) or a function of rng."""
    return lambda rng: tuple(d(rng) if callable(d) else _normal(rng, d) for d in draws)


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else chainrule


def _abs2(z):
    return (z * z.conj()).real


def _svd_invariants(x, full_matrices=False):
    """(|U|^2, S, |Vh|^2): free of the singular vectors' phases."""
    u, s, vh = _lib(x).linalg.svd(x, full_matrices=full_matrices)
    k = s.shape[-1]
    return _abs2(u[..., :k]), s, _abs2(vh[..., :k, :])


def _svd_weighted(x):
    """U diag(w) Vh for fixed w: each u_i v_i^H is phase-free (gU and gVh both reach svd)."""
    u, s, vh = _lib(x).linalg.svd(x, full_matrices=False)
    weights = _lib(x).arange(1, s.shape[-1] + 1, dtype=s.dtype, device=x.device) ** 2
    return (u * weights) @ vh


def _svd_left_projector(x):
    """U diag(w) U^H: only U is differentiated."""
    u, s, _ = _lib(x).linalg.svd(x, full_matrices=False)
    weights = _lib(x).arange(1, s.shape[-1] + 1, dtype=s.dtype, device=x.device)
    return (u * weights) @ u.mH


def _hermitian_part(function):
    """function(X + X^H): finite differences of X then see the Hermitian gradient that
    eigh-like ops return."""
    return lambda x, *args, **kwargs: function(x + x.mH, *args, **kwargs)


def _eigh_invariants(x):
    w, v = _lib(x).linalg.eigh(x)
    return w, _abs2(v)


def _eigh_projector(x):
    """V diag(w) V^H for fixed w: only V is differentiated."""
    _, v = _lib(x).linalg.eigh(x)
    weights = _lib(x).arange(1, v.shape[-1] + 1, dtype=x.real.dtype, device=x.device)
    return (v * weights) @ v.mH


def _eig_invariants(x):
    """(L, |V|^2): free of each eigenvector's phase."""
    w, v = _lib(x).linalg.eig(x)
    return w, _abs2(v)


def _eig_projector(x):
    """V diag(w) V^H for fixed w: phase-free, and only V is differentiated."""
    _, v = _lib(x).linalg.eig(x)
    weights = _lib(x).arange(1, v.shape[-1] + 1, dtype=x.real.dtype, device=x.device)
    return (v * weights) @ v.mH


def _cholesky_of_gram(x, upper=False):
    """cholesky(X X^H + n I): finite differences of X perturb the input Hermitian."""
    n = x.shape[-1]
    gram = x @ x.mH + n * _lib(x).eye(n, dtype=x.dtype, device=x.device)
    return _lib(x).linalg.cholesky(gram, upper=upper)


def _cholesky_ex_of_gram(x):
    n = x.shape[-1]
    gram = x @ x.mH + n * _lib(x).eye(n, dtype=x.dtype, device=x.device)
    return _lib(x).linalg.cholesky_ex(gram)


def _lu_solve_of(a, b, **kwargs):
    lu, pivots = _lib(a).linalg.lu_factor(a)
    return _lib(a).linalg.lu_solve(lu, pivots, b, **kwargs)


def _lstsq_differentiable(a, b, **kwargs):
    solution, residuals, rank, _ = _lib(a).linalg.lstsq(a, b, **kwargs)
    return solution, residuals, rank


def _decomposition(name, fn, torch_fn=None, **options):
    return OpSpec(f"complex_linalg.{name}", fn, torch_fn or fn, **options)


# NumPy computes complex64 eigenvalues in double precision, PyTorch with LAPACK's cgeev: the
# values agree, their order may not, so eig's specs compare complex128 only.
_EIG_OPTIONS = {"float32": False}


DECOMPOSITIONS = [
    _decomposition(
        "svd (|U|^2, S, |Vh|^2; tall)", _svd_invariants, make_inputs=_draws(_separated(4, 3))
    ),
    _decomposition(
        "svd (|U|^2, S, |Vh|^2; wide, batch)",
        _svd_invariants,
        make_inputs=_draws(_separated(2, 3, 4)),
    ),
    _decomposition(
        "svd (full_matrices, tall)",
        partial(_svd_invariants, full_matrices=True),
        make_inputs=_draws(_separated(4, 2)),
    ),
    _decomposition("svd (U diag(w) Vh)", _svd_weighted, make_inputs=_draws(_separated(3, 3))),
    _decomposition("svd (U diag(w) Vh, wide)", _svd_weighted, make_inputs=_draws(_separated(3, 5))),
    _decomposition(
        "svd (U diag(w) U^H, tall)", _svd_left_projector, make_inputs=_draws(_separated(4, 3))
    ),
    _decomposition(
        "svdvals",
        chainrule.linalg.svdvals,
        torch.linalg.svdvals,
        make_inputs=_draws(_separated(2, 3, 4)),
    ),
    _decomposition(
        "eigh",
        _eigh_invariants,
        make_inputs=_draws(_separated(3, 3, hermitian=True)),
        finite_differences=False,  # one triangle read, a Hermitian gradient returned
    ),
    _decomposition(
        "eigh (of X + X^H)",
        _hermitian_part(_eigh_invariants),
        make_inputs=_draws(_separated(2, 3, 3, hermitian=True)),
    ),
    _decomposition(
        "eigh (V only, of X + X^H)",
        _hermitian_part(_eigh_projector),
        make_inputs=_draws(_separated(3, 3, hermitian=True)),
    ),
    _decomposition(
        "eigvalsh (UPLO='U', of X + X^H)",
        _hermitian_part(partial(chainrule.linalg.eigvalsh, UPLO="U")),
        _hermitian_part(partial(torch.linalg.eigvalsh, UPLO="U")),
        make_inputs=_draws(_separated(3, 3, hermitian=True)),
    ),
    _decomposition(
        "eig (L, |V|^2)", _eig_invariants, make_inputs=_draws(_near_identity(3, 3)), **_EIG_OPTIONS
    ),
    _decomposition(
        "eig (V diag(w) V^H, batch)",
        _eig_projector,
        make_inputs=_draws(_near_identity(2, 3, 3)),
        **_EIG_OPTIONS,
    ),
    _decomposition(
        "eigvals",
        chainrule.linalg.eigvals,
        torch.linalg.eigvals,
        make_inputs=_draws(_near_identity(2, 3, 3)),
        **_EIG_OPTIONS,
    ),
    _decomposition(
        "qr (tall)", chainrule.linalg.qr, torch.linalg.qr, make_inputs=_draws(_separated(4, 3))
    ),
    _decomposition(
        "qr (wide, batch)",
        chainrule.linalg.qr,
        torch.linalg.qr,
        make_inputs=_draws(_separated(2, 3, 4)),
    ),
    _decomposition("cholesky (of X X^H + n I)", _cholesky_of_gram, shapes=[((3, 3),)]),
    _decomposition(
        "cholesky (upper, of X X^H + n I)",
        partial(_cholesky_of_gram, upper=True),
        shapes=[((2, 3, 3),)],
    ),
    _decomposition("cholesky_ex (of X X^H + n I)", _cholesky_ex_of_gram, shapes=[((3, 3),)]),
    _decomposition(
        "slogdet",
        chainrule.linalg.slogdet,
        torch.linalg.slogdet,
        make_inputs=_draws(_near_identity(2, 3, 3)),
    ),
    _decomposition(
        "logdet",
        chainrule.logdet,
        torch.logdet,
        make_inputs=_draws(_near_identity(2, 3, 3)),
    ),
    _decomposition(
        "inv_ex",
        chainrule.linalg.inv_ex,
        torch.linalg.inv_ex,
        make_inputs=_draws(_near_identity(3, 3)),
    ),
    _decomposition(
        "solve_triangular (upper)",
        partial(chainrule.linalg.solve_triangular, upper=True),
        partial(torch.linalg.solve_triangular, upper=True),
        make_inputs=_draws(_near_identity(3, 3), (3, 2)),
    ),
    _decomposition(
        "solve_triangular (right, lower, unitriangular)",
        partial(chainrule.linalg.solve_triangular, upper=False, left=False, unitriangular=True),
        partial(torch.linalg.solve_triangular, upper=False, left=False, unitriangular=True),
        make_inputs=_draws(_near_identity(2, 3, 3), (2, 2, 3)),
    ),
    _decomposition(
        "lu_factor",
        chainrule.linalg.lu_factor,
        torch.linalg.lu_factor,
        make_inputs=_draws(_near_identity(2, 3, 3)),
    ),
    _decomposition("lu (wide)", chainrule.linalg.lu, torch.linalg.lu, make_inputs=_draws((3, 4))),
    _decomposition(
        "lu_solve (adjoint, of lu_factor)",
        partial(_lu_solve_of, adjoint=True),
        make_inputs=_draws(_near_identity(3, 3), (3, 2)),
    ),
    _decomposition(
        "lu_solve (right, of lu_factor)",
        partial(_lu_solve_of, left=False),
        make_inputs=_draws(_near_identity(3, 3), (2, 3)),
    ),
    _decomposition(
        "pinv (tall)",
        chainrule.linalg.pinv,
        torch.linalg.pinv,
        make_inputs=_draws(_separated(4, 3)),
    ),
    _decomposition(
        "pinv (hermitian, of X + X^H)",
        _hermitian_part(partial(chainrule.linalg.pinv, hermitian=True)),
        _hermitian_part(partial(torch.linalg.pinv, hermitian=True)),
        make_inputs=_draws(_separated(3, 3, hermitian=True)),
    ),
    _decomposition(
        "lstsq (gelsd: residuals)",
        partial(_lstsq_differentiable, driver="gelsd"),
        make_inputs=_draws(_separated(4, 3), (4, 2)),
    ),
    _decomposition(
        "lstsq (wide)",
        chainrule.linalg.lstsq,
        torch.linalg.lstsq,
        make_inputs=_draws(_separated(2, 4), (2, 3)),
    ),
    _decomposition(
        "matrix_exp",
        chainrule.linalg.matrix_exp,
        torch.linalg.matrix_exp,
        make_inputs=_draws((2, 3, 3)),
    ),
    *[
        _decomposition(
            f"matrix_norm (ord={o})",
            partial(chainrule.linalg.matrix_norm, ord=o),
            partial(torch.linalg.matrix_norm, ord=o),
            make_inputs=_draws(_separated(2, 3, 4)),
        )
        for o in ("nuc", 2, -2)
    ],
    _decomposition(
        "cond",
        chainrule.linalg.cond,
        torch.linalg.cond,
        make_inputs=_draws(_separated(3, 3)),
    ),
]


SHAPE = [
    _unary("reshape", lambda z: z.reshape(3, 2), lambda z: z.reshape(3, 2), shapes=[((2, 3),)]),
    _unary(
        "view", lambda z: z.view(-1), lambda z: z.view(-1), shapes=[((2, 3),)], noncontiguous=False
    ),  # fmt: skip
    _unary(
        "transpose", lambda z: z.transpose(0, 1), lambda z: z.transpose(0, 1), shapes=[((2, 3),)]
    ),  # fmt: skip
    _unary("mH", lambda z: z.mH, lambda z: z.mH, shapes=[((2, 3),)]),
    _unary("index", lambda z: z[1:, ::2], lambda z: z[1:, ::2], shapes=[((3, 4),)]),
    _binary(
        "cat",
        lambda a, b: chainrule.cat([a, b]),
        lambda a, b: torch.cat([a, b]),
        shapes=[((2, 3), (1, 3))],
    ),  # fmt: skip
    _binary(
        "stack",
        lambda a, b: chainrule.stack([a, b]),
        lambda a, b: torch.stack([a, b]),
        shapes=[((2, 3), (2, 3))],
    ),  # fmt: skip
    _binary(
        "where",
        lambda a, b: chainrule.where(chainrule.tensor([True, False, True], device=a.device), a, b),
        lambda a, b: torch.where(torch.tensor([True, False, True]), a, b),
        shapes=[((2, 3), (2, 3))],
    ),
]

# ---- nn layers PyTorch has complex kernels for (Linear, convolutions) ------------------------
# Bilinear in (input, weight): holomorphic in each, so every gradient conjugates the other
# operand. The shapes are nn_ops.py's, covering each kernel path (both column layouts, the
# transposed convolution at stride 1 and strided, groups, an empty batch).


def _nn(name, function_name, shapes, **kwargs):
    return OpSpec(
        f"complex_{function_name}:{name}",
        getattr(chainrule.nn.functional, function_name),
        getattr(torch.nn.functional, function_name),
        shapes=shapes,
        kwargs=kwargs,
        complex=True,
    )


NN = [
    _nn("bias", "linear", [((2, 3, 4), (5, 4), (5,)), ((4,), (3, 4), (3,))]),
    _nn("no_bias", "linear", [((3, 4), (2, 4))]),
    _nn("broadcast_bias", "linear", [((3, 4), (2, 4), (1,))]),
    _nn("stride_padding", "conv1d", [((2, 3, 7), (4, 3, 3), (4,))], stride=2, padding=1),
    _nn(
        "groups_dilation_same",
        "conv1d",
        [((2, 4, 8), (6, 2, 3))],
        dilation=2,
        groups=2,
        padding="same",
    ),  # fmt: skip
    _nn("padding", "conv2d", [((2, 3, 5, 5), (4, 3, 3, 3), (4,))], padding=1),
    _nn(
        "stride_dilation_groups",
        "conv2d",
        [((2, 4, 7, 6), (6, 2, 3, 2))],
        stride=(2, 1),
        padding=(1, 0),
        dilation=(1, 2),
        groups=2,
    ),
    _nn("many_channels", "conv2d", [((2, 2, 3, 2), (9, 2, 2, 2), (9,))], padding=1),
    _nn("unbatched", "conv2d", [((2, 5, 5), (3, 2, 3, 3))]),
    _nn("empty_batch", "conv2d", [((0, 6, 5, 5), (4, 6, 3, 3), (4,))], padding=1),
    _nn("padding", "conv3d", [((1, 2, 4, 4, 3), (2, 2, 2, 2, 2), (2,))], padding=(1, 0, 1)),
    _nn("stride_1", "conv_transpose1d", [((2, 3, 5), (3, 2, 3), (2,))], padding=1),
    _nn("stride", "conv_transpose1d", [((2, 3, 5), (3, 2, 3))], stride=3, padding=1),
    _nn(
        "output_padding",
        "conv_transpose2d",
        [((2, 4, 3, 3), (4, 3, 3, 3), (3,))],
        stride=2,
        padding=1,
        output_padding=1,
    ),
    _nn(
        "groups_dilation",
        "conv_transpose2d",
        [((1, 4, 3, 4), (4, 1, 2, 3))],
        stride=(1, 2),
        groups=2,
        dilation=2,
        output_padding=(0, 1),
    ),
    _nn(
        "stride",
        "conv_transpose3d",
        [((1, 2, 2, 3, 2), (2, 2, 2, 1, 2), (2,))],
        stride=(2, 1, 2),
        padding=(0, 0, 1),
    ),  # fmt: skip
]

SPECS = [
    *ARITHMETIC,
    *HOLOMORPHIC,
    *PARTS,
    *REDUCTIONS,
    *PRODUCTS,
    *LINALG,
    *DECOMPOSITIONS,
    *SHAPE,
    *NN,
]
