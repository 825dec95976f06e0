"""Specs for the torch names that real programs use and chainrule added as compositions of its
differentiable ops (the view scatters, cumulative_trapezoid, combinations, renorm, fill, the
top-level linear algebra, torch.linalg's vander, householder_product, tensorinv, tensorsolve
and solve_ex, torch.fft's hfftn family): each is checked against torch for values, the vjp,
the jvp and second order, as any op."""

import numpy as np
import torch

import chainrule
import chainrule.fft
import chainrule.linalg
from chainrule.testing import OpSpec


def _spec(name, fn, torch_fn, make_inputs, **options):
    return OpSpec(name, fn, torch_fn, shapes=[()], make_inputs=make_inputs, **options)


def _normal(*shapes):
    return lambda rng: tuple(rng.standard_normal(shape) for shape in shapes)


def _lower_factor(n, batch=()):
    """A lower-triangular Cholesky-like factor: random below, positive diagonal."""

    def draw(rng):
        x = np.tril(rng.standard_normal((*batch, n, n)), -1)
        return x + np.eye(n) * rng.uniform(1.0, 2.0, size=(*batch, n, 1))

    return draw


def _factor(lib, x):
    """A well-conditioned lower-triangular factor made from a free matrix x."""
    n = x.shape[-1]
    return lib.tril(x) + 3 * lib.eye(n, dtype=x.dtype, device=x.device)


def _both(name):
    """The same function of the same name in both libraries."""
    return getattr(chainrule, name), getattr(torch, name)


SPECS = [
    # ---- the view scatters
    _spec(
        "diagonal_scatter",
        lambda x, s: chainrule.diagonal_scatter(x, s, 1, 0, 1),
        lambda x, s: torch.diagonal_scatter(x, s, 1, 0, 1),
        _normal((3, 4), (3,)),
    ),
    _spec(
        "diagonal_scatter_batched_dims",
        lambda x, s: chainrule.diagonal_scatter(x, s, -1, 2, 0),
        lambda x, s: torch.diagonal_scatter(x, s, -1, 2, 0),
        _normal((3, 2, 4), (2, 3)),
    ),
    _spec(
        "select_scatter",
        lambda x, s: chainrule.select_scatter(x, s, 1, -1),
        lambda x, s: torch.select_scatter(x, s, 1, -1),
        _normal((3, 4), (3,)),
    ),
    _spec(
        "slice_scatter",
        lambda x, s: chainrule.slice_scatter(x, s, 1, 1, None, 2),
        lambda x, s: torch.slice_scatter(x, s, 1, 1, None, 2),
        _normal((3, 5), (3, 2)),
    ),
    _spec(
        "slice_scatter_defaults",
        lambda x, s: chainrule.slice_scatter(x, s, end=2),
        lambda x, s: torch.slice_scatter(x, s, end=2),
        _normal((4, 2), (2, 2)),
    ),
    # torch 2.13's as_strided_scatter has the derivative in input backwards (g where src was
    # written, 0 elsewhere), so its derivatives are checked against finite differences only;
    # tests/test_torch_names.py compares its values with torch.
    _spec(
        "as_strided_scatter",
        lambda x, s: chainrule.as_strided_scatter(x, s, (2, 2), (4, 1), 1),
        None,
        _normal((3, 4), (2, 2)),
        noncontiguous=False,  # positions are in input's row-major order (torch: its storage)
    ),
    # ---- integrals, combinations, norms
    _spec(
        "cumulative_trapezoid",
        lambda y: chainrule.cumulative_trapezoid(y, dim=0),
        lambda y: torch.cumulative_trapezoid(y, dim=0),
        _normal((4, 3)),
    ),
    _spec(
        "cumulative_trapezoid_dx",
        lambda y: chainrule.cumulative_trapezoid(y, dx=0.5),
        lambda y: torch.cumulative_trapezoid(y, dx=0.5),
        _normal((2, 5)),
    ),
    _spec(
        "cumulative_trapezoid_x",
        chainrule.cumulative_trapezoid,
        torch.cumulative_trapezoid,
        _normal((2, 4), (4,)),
    ),
    _spec("combinations", *_both("combinations"), _normal((4,))),
    _spec(
        "combinations_with_replacement",
        lambda x: chainrule.combinations(x, 3, with_replacement=True),
        lambda x: torch.combinations(x, 3, with_replacement=True),
        _normal((3,)),
    ),
    _spec(
        "renorm",
        lambda x: chainrule.renorm(x, 2, 0, 1.5),
        lambda x: torch.renorm(x, 2, 0, 1.5),
        _normal((3, 4)),
    ),
    _spec(
        "renorm_p1_dim1",
        lambda x: chainrule.renorm(x, 1, 1, 1.0),
        lambda x: torch.renorm(x, 1, 1, 1.0),
        _normal((2, 3, 2)),
    ),
    _spec(
        "fill_tensor_value",
        lambda x, v: chainrule.fill(x, v),
        lambda x, v: torch.fill(x, v),
        _normal((2, 3), ()),
    ),
    _spec(
        "frobenius_norm",
        lambda x: chainrule.frobenius_norm(x, (0, 2)),
        lambda x: torch.frobenius_norm(x, (0, 2)),
        _normal((2, 3, 4)),
    ),
    _spec(
        "nuclear_norm",
        chainrule.nuclear_norm,
        torch.nuclear_norm,
        _normal((4, 3)),
        atol=1e-5,
    ),
    _spec(
        "nuclear_norm_dims_keepdim",
        lambda x: chainrule.nuclear_norm(x, (0, 2), keepdim=True),
        lambda x: torch.nuclear_norm(x, (0, 2), keepdim=True),
        _normal((3, 2, 4)),
        atol=1e-5,
    ),
    _spec("gradient", lambda x: chainrule.gradient(x), lambda x: torch.gradient(x), _normal((5,))),
    _spec(
        "gradient_dims_edge_order_2",
        lambda x: chainrule.gradient(x, spacing=[0.5, 2.0], dim=(0, 2), edge_order=2),
        lambda x: torch.gradient(x, spacing=[0.5, 2.0], dim=(0, 2), edge_order=2),
        _normal((3, 2, 4)),
    ),
    _spec(
        "gradient_coordinates",
        lambda y, x: chainrule.gradient(y, spacing=(x,), dim=1, edge_order=2),
        lambda y, x: torch.gradient(y, spacing=(x,), dim=1, edge_order=2),
        lambda rng: (rng.standard_normal((2, 5)), np.cumsum(rng.uniform(0.5, 1.5, size=5))),
    ),
    # ---- the top-level linear algebra
    # The factor is made inside from a free matrix (its lower triangle plus a diagonal shift),
    # so that finite differences perturb only what the op reads; torch's convention for the
    # other triangle's derivative is checked in tests/test_torch_names.py.
    _spec(
        "cholesky_solve",
        lambda b, x: chainrule.cholesky_solve(b, _factor(chainrule, x)),
        lambda b, x: torch.cholesky_solve(b, _factor(torch, x)),
        _normal((3, 2), (3, 3)),
    ),
    _spec(
        "cholesky_solve_upper_batched",
        lambda b, x: chainrule.cholesky_solve(b, _factor(chainrule, x).mT, upper=True),
        lambda b, x: torch.cholesky_solve(b, _factor(torch, x).mT, upper=True),
        _normal((2, 3, 1), (2, 3, 3)),
    ),
    # B's batch dimensions broadcast against L's: a matrix B is never read as linalg.solve's
    # batch of vectors (MultivariateNormal.precision_matrix of a batch solves I against each)
    _spec(
        "cholesky_solve_broadcast_batch",
        lambda b, x: chainrule.cholesky_solve(b, _factor(chainrule, x)),
        lambda b, x: torch.cholesky_solve(b, _factor(torch, x)),
        _normal((3, 3), (3, 3, 3)),
    ),
    _spec(
        "cholesky_solve_broadcast_both",
        lambda b, x: chainrule.cholesky_solve(b, _factor(chainrule, x)),
        lambda b, x: torch.cholesky_solve(b, _factor(torch, x)),
        _normal((2, 1, 3, 2), (3, 3, 3)),
    ),
    # lobpcg's eigenvalues of a symmetric positive definite matrix made from a free one; its
    # (first-order) derivative against torch's LOBPCGAutogradFunction, iterated to convergence
    _spec(
        "lobpcg_eigenvalues",
        lambda x: chainrule.lobpcg(
            x @ x.mT + 9 * chainrule.eye(9, dtype=x.dtype, device=x.device), k=2
        )[0],
        lambda x: torch.lobpcg(
            x @ x.mT + 9 * torch.eye(9, dtype=x.dtype), k=2, tol=1e-12, niter=500
        )[0],
        _normal((9, 9)),
        second_order=False,
        forward_mode=False,
        float32=False,
        noncontiguous=False,
        atol=1e-6,
    ),
    _spec(
        "cholesky_inverse",
        lambda x: chainrule.cholesky_inverse(_factor(chainrule, x)),
        lambda x: torch.cholesky_inverse(_factor(torch, x)),
        _normal((3, 3)),
    ),
    _spec(
        "triangular_solve",
        lambda b, a: tuple(chainrule.triangular_solve(b, a)),
        lambda b, a: tuple(torch.triangular_solve(b, a)),
        lambda rng: (rng.standard_normal((3, 2)), _lower_factor(3)(rng).T.copy()),
    ),
    _spec(
        "triangular_solve_transposed_unit",
        lambda b, a: tuple(
            chainrule.triangular_solve(b, a, upper=False, transpose=True, unitriangular=True)
        ),
        lambda b, a: tuple(
            torch.triangular_solve(b, a, upper=False, transpose=True, unitriangular=True)
        ),
        lambda rng: (rng.standard_normal((3, 2)), _lower_factor(3)(rng)),
    ),
    _spec(
        "lu_unpack",
        lambda a: tuple(chainrule.lu_unpack(*chainrule.lu(a)))[1:],
        lambda a: tuple(torch.lu_unpack(*torch.linalg.lu_factor(a)))[1:],
        lambda rng: (rng.standard_normal((3, 3)) + 3 * np.eye(3),),
    ),
    _spec(
        "lu_solve",
        lambda b, a: chainrule.lu_solve(b, *chainrule.lu(a)),
        lambda b, a: torch.linalg.lu_solve(*torch.linalg.lu_factor(a), b),
        lambda rng: (rng.standard_normal((3, 2)), rng.standard_normal((3, 3)) + 3 * np.eye(3)),
    ),
    _spec(
        "svd_V",
        lambda a: chainrule.svd(a).V.abs(),
        lambda a: torch.svd(a).V.abs(),
        _normal((4, 3)),
        atol=1e-5,
    ),
    _spec(
        "qr_R_complete",
        lambda a: chainrule.qr(a, some=False).R,
        lambda a: torch.qr(a, some=False).R,
        _normal((3, 3)),
    ),
    _spec("pinverse", *_both("pinverse"), _normal((4, 3)), atol=1e-5),
    _spec(
        "ormqr",
        lambda a, t, c: chainrule.ormqr(a, t, c),
        lambda a, t, c: torch.ormqr(a, t, c),
        _normal((4, 3), (3,), (4, 2)),
    ),
    _spec(
        "ormqr_right_transposed",
        lambda a, t, c: chainrule.ormqr(a, t, c, left=False, transpose=True),
        lambda a, t, c: torch.ormqr(a, t, c, left=False, transpose=True),
        _normal((2, 3, 2), (2, 2), (2, 4, 3)),
    ),
    # torch.vander's second derivative fails inside torch (an in-place cumprod it saved), so
    # the reference is torch.linalg.vander, flipped: the same matrix.
    _spec(
        "vander",
        chainrule.vander,
        lambda x: torch.linalg.vander(x).flip(-1),
        _normal((4,)),
    ),
    _spec(
        "vander_increasing_N",
        lambda x: chainrule.vander(x, N=5, increasing=True),
        lambda x: torch.linalg.vander(x, N=5),
        lambda rng: (np.array([0.0, 1.5, -0.5]),),  # an exact zero: cumprod's derivative there
    ),
    # ---- torch.linalg
    _spec(
        "linalg.vander",
        lambda x: chainrule.linalg.vander(x, N=3),
        lambda x: torch.linalg.vander(x, N=3),
        _normal((2, 3)),
    ),
    _spec(
        "linalg.householder_product",
        chainrule.linalg.householder_product,
        torch.linalg.householder_product,
        _normal((4, 3), (2,)),
    ),
    _spec(
        "linalg.householder_product_batched",
        chainrule.linalg.householder_product,
        torch.linalg.householder_product,
        _normal((2, 3, 3), (2, 3)),
        complex=True,
    ),
    _spec(
        "linalg.tensorinv",
        lambda a: chainrule.linalg.tensorinv(a, ind=1),
        lambda a: torch.linalg.tensorinv(a, ind=1),
        lambda rng: ((rng.standard_normal((4, 4)) + 4 * np.eye(4)).reshape(4, 2, 2),),
    ),
    _spec(
        "linalg.tensorsolve",
        chainrule.linalg.tensorsolve,
        torch.linalg.tensorsolve,
        lambda rng: (
            (rng.standard_normal((6, 6)) + 6 * np.eye(6)).reshape(2, 3, 6),
            rng.standard_normal((2, 3)),
        ),
    ),
    _spec(
        "linalg.tensorsolve_dims",
        lambda a, b: chainrule.linalg.tensorsolve(a, b, dims=(0,)),
        lambda a, b: torch.linalg.tensorsolve(a, b, dims=(0,)),
        lambda rng: (
            (rng.standard_normal((4, 4)) + 4 * np.eye(4)).reshape(2, 2, 4).transpose(2, 0, 1),
            rng.standard_normal((2, 2)),
        ),
    ),
    _spec(
        "linalg.solve_ex",
        lambda a, b: chainrule.linalg.solve_ex(a, b).result,
        lambda a, b: torch.linalg.solve_ex(a, b).result,
        lambda rng: (rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((3,))),
    ),
    _spec(
        "linalg.solve_ex_right",
        lambda a, b: chainrule.linalg.solve_ex(a, b, left=False).result,
        lambda a, b: torch.linalg.solve_ex(a, b, left=False).result,
        lambda rng: (rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal((2, 3))),
    ),
    # ---- torch.fft
    _spec(
        "fft.hfftn",
        lambda x: chainrule.fft.hfftn(x, s=(3, 6)),
        lambda x: torch.fft.hfftn(x, s=(3, 6)),
        _normal((2, 3, 4)),
        complex=True,
    ),
    _spec(
        "fft.hfft2_ortho",
        lambda x: chainrule.fft.hfft2(x, norm="ortho"),
        lambda x: torch.fft.hfft2(x, norm="ortho"),
        _normal((3, 3)),
        complex=True,
    ),
    _spec(
        "fft.ihfftn",
        lambda x: chainrule.fft.ihfftn(x, dim=(0, 2)),
        lambda x: torch.fft.ihfftn(x, dim=(0, 2)),
        _normal((2, 3, 4)),
    ),
    _spec(
        "fft.ihfft2_forward",
        lambda x: chainrule.fft.ihfft2(x, norm="forward"),
        lambda x: torch.fft.ihfft2(x, norm="forward"),
        _normal((3, 5)),
    ),
]


def _integers(rng):
    return rng.integers(-12, 13, size=(3, 4)), rng.integers(0, 9, size=(4,))


def _values(name, fn, torch_fn, make_inputs):
    """A spec of values only: nothing to differentiate (integers, or torch has no derivative)."""
    return OpSpec(
        name, fn, torch_fn, shapes=[()], make_inputs=make_inputs, finite_differences=False
    )


SPECS += [
    _values(
        "geqrf",
        lambda a: tuple(chainrule.geqrf(a.detach())),
        lambda a: tuple(torch.geqrf(a.detach())),
        _normal((2, 4, 3)),
    ),
    _values("gcd", *_both("gcd"), _integers),
    _values("lcm", *_both("lcm"), _integers),
    _values(
        "nextafter",
        lambda x, y: chainrule.nextafter(x.detach(), y.detach()),
        lambda x, y: torch.nextafter(x.detach(), y.detach()),
        lambda rng: (
            np.array([[0.0, 1.0, -1.0, 1e-300], [2.5, -0.0, np.inf, 3.0]]),
            np.array([[1.0, 0.0, -2.0, 0.0], [2.5, -1.0, 0.0, np.inf]]),
        ),
    ),
]
