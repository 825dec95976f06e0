"""Complex decompositions beyond what the op specs check (tests/op_specs/complex.py has their
values and derivatives): the phase checks PyTorch makes on complex singular vectors and
eigenvectors, eig's complex outputs for real input, and the LAPACK conventions (pivots,
info) that a complex matrix meets."""

import numpy as np
import pytest
import torch

import chainrule
import chainrule.linalg
from chainrule.errors import DTypeError, GradError, ShapeError


def _pair(array):
    """The same matrix as a chainrule and a torch leaf that requires grad."""
    return (
        chainrule.tensor(array, requires_grad=True),
        torch.tensor(array, requires_grad=True),
    )


def _complex_matrix(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


PHASE_DEPENDENT = [
    ("svd", lambda lib, a: lib.linalg.svd(a)[0].real.sum(), "svd_backward"),
    ("svd (Vh only)", lambda lib, a: lib.linalg.svd(a)[2].imag.sum(), "svd_backward"),
    ("eig", lambda lib, a: lib.linalg.eig(a)[1].real.sum(), "linalg_eig_backward"),
    ("eigh", lambda lib, a: lib.linalg.eigh(a @ a.mH)[1].real.sum(), "linalg_eigh_backward"),
]


@pytest.mark.parametrize(
    ("name", "loss", "where"), PHASE_DEPENDENT, ids=[p[0] for p in PHASE_DEPENDENT]
)
def test_a_loss_that_depends_on_a_complex_vectors_phase_raises_as_in_pytorch(name, loss, where):
    mine, theirs = _pair(_complex_matrix(3, 3))
    with pytest.raises(RuntimeError, match=f"{where}: .* e\\^{{i phi}}"):
        loss(torch, theirs).backward()
    with pytest.raises(GradError, match=f"{where}: .* e\\^{{i phi}}"):
        loss(chainrule, mine).backward()


PHASE_FREE = [
    (
        "svd: U diag(S) Vh",
        lambda lib, a: (lambda u, s, vh: ((u * s) @ vh).abs().sum())(*lib.linalg.svd(a)),
    ),
    ("eig: |V|^2", lambda lib, a: (lib.linalg.eig(a)[1].abs() ** 2 * lib.arange(3.0)).sum()),
    (
        "eigh: V V^H diag",
        lambda lib, a: (lambda v: ((v * lib.arange(3.0)) @ v.mH).real.sum())(
            lib.linalg.eigh(a @ a.mH)[1]
        ),
    ),
]


@pytest.mark.parametrize(("name", "loss"), PHASE_FREE, ids=[p[0] for p in PHASE_FREE])
def test_a_phase_free_loss_of_complex_vectors_differentiates_as_pytorch(name, loss):
    mine, theirs = _pair(_complex_matrix(3, 3, seed=1))
    loss(chainrule, mine).backward()
    loss(torch, theirs).backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_eig_of_a_real_matrix_is_complex_and_its_gradient_real():
    rotation = np.array([[0.0, -2.0], [1.0, 0.5]], dtype=np.float32)
    mine, theirs = _pair(rotation)
    values, vectors = chainrule.linalg.eig(mine)
    assert values.dtype is chainrule.complex64 and vectors.dtype is chainrule.complex64
    expected = torch.linalg.eigvals(theirs)
    np.testing.assert_allclose(values.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    values.imag.abs().sum().backward()
    expected.imag.abs().sum().backward()
    assert mine.grad.dtype is chainrule.float32
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-5)
    # A diagonal real matrix has real eigenvalues; NumPy returns them real, eig still complex.
    assert chainrule.linalg.eigvals(chainrule.eye(2, dtype=chainrule.float64)).dtype is (
        chainrule.complex128
    )


def test_eig_refuses_what_pytorch_refuses():
    with pytest.raises(ShapeError, match="linalg.eig: A must be batches of square matrices"):
        chainrule.linalg.eig(chainrule.ones(2, 3))
    with pytest.raises(DTypeError, match="linalg.eigvals"):
        chainrule.linalg.eigvals(chainrule.ones(2, 2, dtype=chainrule.int64))


def test_complex_lu_pivots_on_the_largest_re_plus_im_as_lapack():
    # |2+2j| = 2.83 < 3, but |Re| + |Im| = 4 > 3: LAPACK's izamax keeps row 0.
    matrix = np.array([[2 + 2j, 1.0], [3.0, 1j]])
    mine = chainrule.linalg.lu_factor(chainrule.tensor(matrix))
    theirs = torch.linalg.lu_factor(torch.tensor(matrix))
    assert mine.pivots.tolist() == theirs.pivots.tolist() == [1, 2]
    np.testing.assert_allclose(mine.LU.numpy(), theirs.LU.numpy(), rtol=1e-12)


def test_cholesky_ex_reports_a_complex_matrix_that_is_not_positive_definite():
    matrix = np.array([[4.0, 2j], [-2j, -1.0]])
    mine = chainrule.linalg.cholesky_ex(chainrule.tensor(matrix))
    theirs = torch.linalg.cholesky_ex(torch.tensor(matrix))
    assert int(mine.info) == int(theirs.info) == 2
    upper = chainrule.linalg.cholesky(
        chainrule.tensor(np.array([[4.0, 2j], [-2j, 5.0]])), upper=True
    )
    expected = torch.linalg.cholesky(torch.tensor(np.array([[4.0, 2j], [-2j, 5.0]])), upper=True)
    np.testing.assert_allclose(upper.numpy(), expected.numpy(), rtol=1e-12)


def test_slogdet_of_a_complex_matrix_has_a_complex_sign():
    matrix = _complex_matrix(2, 3, 3, seed=2)
    sign, logabsdet = chainrule.linalg.slogdet(chainrule.tensor(matrix))
    assert sign.dtype is chainrule.complex128 and logabsdet.dtype is chainrule.float64
    determinant = np.linalg.det(matrix)
    np.testing.assert_allclose(sign.numpy(), determinant / np.abs(determinant), rtol=1e-12)
    np.testing.assert_allclose(logabsdet.numpy(), np.log(np.abs(determinant)), rtol=1e-12)


def test_complex_matrix_norms_and_rank_match_pytorch():
    matrix = _complex_matrix(2, 3, 4, seed=3)
    mine, theirs = chainrule.tensor(matrix), torch.tensor(matrix)
    for ord in ("fro", "nuc", 2, -2, 1, float("inf")):
        np.testing.assert_allclose(
            chainrule.linalg.matrix_norm(mine, ord).numpy(),
            torch.linalg.matrix_norm(theirs, ord).numpy(),
            rtol=1e-12,
        )
    assert chainrule.linalg.matrix_rank(mine).tolist() == torch.linalg.matrix_rank(theirs).tolist()
    lstsq = chainrule.linalg.lstsq(
        mine.mH, chainrule.tensor(_complex_matrix(2, 4, 1)), driver="gelsd"
    )
    assert lstsq.residuals.dtype is chainrule.float64
    assert lstsq.singular_values.dtype is chainrule.float64
