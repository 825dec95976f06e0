"""Decompositions beyond the op specs (tests/op_specs/linalg.py): values against PyTorch up to
the sign freedom of singular vectors and eigenvectors, PyTorch's result types and conventions at
degenerate inputs, the fields lstsq returns per driver, and the info outputs of the _ex
functions."""

import re
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.errors
import chainrule.linalg
from chainrule.errors import GradError
from chainrule.linalg import LinAlgError


def tensor(array, requires_grad=False):
    return chainrule.from_numpy(np.asarray(array, dtype=np.float64)).requires_grad_(requires_grad)


def random(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def grad_of(function, array):
    """The gradient of function(A) at `array`, in chainrule and in torch."""
    mine = tensor(array, requires_grad=True)
    function(mine).backward()
    theirs = torch.tensor(array, requires_grad=True)
    function(theirs).backward()
    return mine.grad.numpy(), theirs.grad.numpy()


def _lib(a):
    return torch if isinstance(a, torch.Tensor) else chainrule


def _signs_free(mine, theirs, axis):
    """mine with each vector (a column when axis=-2) flipped to agree in sign with theirs."""
    dot = np.sum(mine * theirs, axis=axis, keepdims=True)
    return mine * np.where(dot < 0, -1.0, 1.0)


# ---- values against torch, up to the vectors' signs --------------------------------------------


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3), (2, 1, 4, 2)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_matches_torch_up_to_the_sign_of_each_singular_pair(shape, full_matrices):
    A = random(*shape)
    U, S, Vh = chainrule.linalg.svd(tensor(A), full_matrices=full_matrices)
    tU, tS, tVh = torch.linalg.svd(torch.tensor(A), full_matrices=full_matrices)
    assert U.shape == tU.shape and S.shape == tS.shape and Vh.shape == tVh.shape
    k = S.shape[-1]
    np.testing.assert_allclose(S.numpy(), tS.numpy(), atol=1e-12)
    u, tu = U.numpy()[..., :k], tU.numpy()[..., :k]
    vh, tvh = Vh.numpy()[..., :k, :], tVh.numpy()[..., :k, :]
    np.testing.assert_allclose(_signs_free(u, tu, -2), tu, atol=1e-10)
    np.testing.assert_allclose(_signs_free(vh, tvh, -1), tvh, atol=1e-10)
    np.testing.assert_allclose((u * S.numpy()[..., None, :]) @ vh, A, atol=1e-12)
    orthogonal = np.swapaxes(U.numpy(), -1, -2) @ U.numpy()
    np.testing.assert_allclose(
        orthogonal, np.broadcast_to(np.eye(U.shape[-1]), orthogonal.shape), atol=1e-12
    )


def test_eigh_matches_torch_up_to_the_sign_of_each_eigenvector():
    X = random(2, 4, 4)
    A = X + np.swapaxes(X, -1, -2)
    w, V = chainrule.linalg.eigh(tensor(A))
    tw, tV = torch.linalg.eigh(torch.tensor(A))
    np.testing.assert_allclose(w.numpy(), tw.numpy(), atol=1e-12)
    np.testing.assert_allclose(_signs_free(V.numpy(), tV.numpy(), -2), tV.numpy(), atol=1e-10)
    np.testing.assert_allclose(
        chainrule.linalg.eigvalsh(tensor(A), UPLO="U").numpy(), tw.numpy(), atol=1e-12
    )


def test_eigh_reads_only_the_triangle_uplo_names():
    A = random(3, 3)
    lower = np.tril(A) + np.tril(A, -1).T
    upper = np.triu(A) + np.triu(A, 1).T
    np.testing.assert_allclose(
        chainrule.linalg.eigvalsh(tensor(A)).numpy(), np.linalg.eigvalsh(lower), atol=1e-12
    )
    np.testing.assert_allclose(
        chainrule.linalg.eigvalsh(tensor(A), UPLO="U").numpy(),
        np.linalg.eigvalsh(upper),
        atol=1e-12,
    )
    with pytest.raises(ValueError, match="UPLO"):
        chainrule.linalg.eigh(tensor(A), UPLO="X")


@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
def test_qr_matches_torch_exactly_signs_included(mode, shape):
    A = random(*shape)
    Q, R = chainrule.linalg.qr(tensor(A), mode=mode)
    tQ, tR = torch.linalg.qr(torch.tensor(A), mode=mode)
    assert Q.shape == tQ.shape and R.shape == tR.shape
    np.testing.assert_allclose(Q.numpy(), tQ.numpy(), atol=1e-12)
    np.testing.assert_allclose(R.numpy(), tR.numpy(), atol=1e-12)


def test_result_types_are_named_like_torchs():
    A = tensor(random(3, 3))
    S = A @ A.mT + 3 * chainrule.eye(3, dtype=A.dtype)
    pairs = [
        (chainrule.linalg.svd(A), torch.linalg.svd(torch.tensor(A.numpy()))),
        (chainrule.linalg.eigh(S), torch.linalg.eigh(torch.tensor(S.numpy()))),
        (chainrule.linalg.qr(A), torch.linalg.qr(torch.tensor(A.numpy()))),
        (
            chainrule.linalg.lstsq(A, A),
            torch.linalg.lstsq(torch.tensor(A.numpy()), torch.eye(3, dtype=torch.float64)),
        ),
        (chainrule.linalg.lu_factor(A), torch.linalg.lu_factor(torch.tensor(A.numpy()))),
        (chainrule.linalg.lu_factor_ex(A), torch.linalg.lu_factor_ex(torch.tensor(A.numpy()))),
        (chainrule.linalg.lu(A), torch.linalg.lu(torch.tensor(A.numpy()))),
        (chainrule.linalg.cholesky_ex(S), torch.linalg.cholesky_ex(torch.tensor(S.numpy()))),
        (chainrule.linalg.inv_ex(A), torch.linalg.inv_ex(torch.tensor(A.numpy()))),
    ]
    for mine, theirs in pairs:
        assert type(mine).__name__ == type(theirs).__name__
        for field in mine._fields:
            assert getattr(theirs, field) is not None
        assert len(mine) == len(theirs)
    U, S_, Vh = chainrule.linalg.svd(A)
    assert U is not None and S_.shape == (3,) and Vh.shape == (3, 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matrix_exp_squares_each_matrix_of_a_batch_as_often_as_it_needs(dtype):
    # a tiny, a moderate and a large matrix in one batch: each gets its own number of squarings
    A = np.stack([1e-3 * random(3, 3), random(3, 3, seed=1), 12 * random(3, 3, seed=2)])
    A = A.astype(dtype)
    mine = chainrule.linalg.matrix_exp(chainrule.from_numpy(A))
    theirs = torch.linalg.matrix_exp(torch.from_numpy(A)).numpy()
    assert mine.dtype == getattr(chainrule, np.dtype(dtype).name)
    np.testing.assert_allclose(mine.numpy(), theirs, rtol=1e-10 if dtype == np.float64 else 1e-4)


def test_matrix_exp_of_a_diagonal_and_of_a_rotation_generator():
    d = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(
        chainrule.linalg.matrix_exp(tensor(np.diag(d))).numpy(), np.diag(np.exp(d)), rtol=1e-14
    )
    theta = 0.7
    generator = tensor([[0.0, -theta], [theta, 0.0]])
    rotation = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    np.testing.assert_allclose(chainrule.linalg.matrix_exp(generator).numpy(), rotation, atol=1e-15)


# ---- PyTorch's conventions at degenerate inputs -----------------------------------------------


def test_singular_values_of_the_identity_have_a_finite_gradient():
    # svdvals never divides by S_i^2 - S_j^2, so repeated values are fine (as in torch)
    mine, theirs = grad_of(lambda a: _lib(a).linalg.svdvals(a).sum(), np.eye(3))
    np.testing.assert_allclose(mine, theirs)
    np.testing.assert_allclose(mine, np.eye(3))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_repeated_singular_values_make_the_singular_vectors_gradient_non_finite_like_torch():
    A = np.diag([2.0, 2.0, 1.0])
    mine, theirs = grad_of(lambda a: (_lib(a).linalg.svd(a).U ** 3).sum(), A)
    assert not np.isfinite(theirs).all()
    np.testing.assert_array_equal(np.isfinite(mine), np.isfinite(theirs))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_repeated_eigenvalues_give_a_finite_gradient_to_eigvalsh_and_not_to_eigenvectors():
    A = np.diag([1.0, 1.0, 3.0])
    mine, theirs = grad_of(lambda a: _lib(a).linalg.eigvalsh(a)[-1] * 2, A)
    np.testing.assert_allclose(mine, theirs)
    mine, theirs = grad_of(lambda a: (_lib(a).linalg.eigh(a).eigenvectors ** 3).sum(), A)
    np.testing.assert_array_equal(np.isfinite(mine), np.isfinite(theirs))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_full_matrices_ignores_the_completing_vectors_in_the_gradient_like_torch(shape):
    # The loss reads every column of U (m x m) and row of Vh (n x n), squared (sign-free): the
    # columns beyond min(m, n) are arbitrary, and PyTorch drops their cotangent.
    m, n = shape
    A = random(m, n)
    u_weights, vh_weights, s_weights = random(m, m, seed=3), random(n, n, seed=4), random(min(m, n))

    def loss(a):
        as_tensor = torch.tensor if isinstance(a, torch.Tensor) else tensor
        u, s, vh = _lib(a).linalg.svd(a, full_matrices=True)
        terms = (u**2) * as_tensor(u_weights), (vh**2) * as_tensor(vh_weights)
        return terms[0].sum() + terms[1].sum() + (s * as_tensor(s_weights)).sum()

    mine, theirs = grad_of(loss, A)
    np.testing.assert_allclose(mine, theirs, atol=1e-10)


def test_qr_has_no_derivative_without_q_or_when_complete_and_tall_as_in_torch():
    A = tensor(random(4, 3), requires_grad=True)
    with pytest.raises(GradError, match="mode='r'"):
        chainrule.linalg.qr(A, mode="r").R.sum().backward()
    with pytest.raises(GradError, match="complete"):
        chainrule.linalg.qr(A, mode="complete").R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='r'"):
        t = torch.tensor(random(4, 3), requires_grad=True)
        torch.linalg.qr(t, mode="r").R.sum().backward()


# ---- lstsq, pinv, rank, cond -------------------------------------------------------------------


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("shapes", [((4, 3), (4, 2)), ((2, 5, 3), (2, 5, 1)), ((4, 3), (4,))])
def test_lstsq_returns_torchs_fields_for_each_driver(driver, shapes):
    A, B = random(*shapes[0]), random(*shapes[1], seed=1)
    mine = chainrule.linalg.lstsq(tensor(A), tensor(B), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), driver=driver)
    for field in ("solution", "residuals", "rank", "singular_values"):
        m, t = getattr(mine, field), getattr(theirs, field)
        assert tuple(m.shape) == tuple(t.shape), field
        assert m.dtype.name == str(t.dtype).removeprefix("torch."), field
        np.testing.assert_allclose(m.numpy(), t.numpy(), atol=1e-10, err_msg=field)
    assert not mine.singular_values.requires_grad


@pytest.mark.parametrize(
    "shapes",
    [
        ((2, 3, 2), (2, 3)),  # A's batch of vectors
        ((2, 3, 2), (3, 1)),  # a matrix of one dimension fewer: not broadcast, refused
        ((2, 3, 2), (2, 1)),
        ((2, 3, 2), (3,)),  # two dimensions fewer
        ((3, 2), (2, 3, 1)),  # B of more dimensions than A
        ((3, 2), (4,)),
        ((3, 2), (3,)),
        ((2, 3, 2), (1, 3, 4)),  # same rank: the batches broadcast
    ],
)
def test_lstsq_takes_torchs_right_hand_sides_and_refuses_the_others(shapes):
    A, B = random(*shapes[0]), random(*shapes[1], seed=1)
    try:
        expected = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B)).solution
    except RuntimeError:
        with pytest.raises(RuntimeError):
            chainrule.linalg.lstsq(tensor(A), tensor(B))
        return
    mine = chainrule.linalg.lstsq(tensor(A), tensor(B)).solution
    np.testing.assert_allclose(mine.numpy(), expected.numpy(), atol=1e-10)


def test_lstsq_of_a_rank_deficient_matrix_is_the_minimum_norm_solution():
    A = np.array([[1.0, 0.0], [0.0, 1e-3], [0.0, 0.0]])
    B = np.ones((3, 1))
    for driver in ("gelsy", "gelsd"):
        mine = chainrule.linalg.lstsq(tensor(A), tensor(B), rcond=1e-2, driver=driver)
        theirs = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), rcond=1e-2, driver=driver)
        np.testing.assert_allclose(mine.solution.numpy(), theirs.solution.numpy(), atol=1e-12)
        assert mine.rank.item() == theirs.rank.item() == 1
        assert mine.residuals.shape == theirs.residuals.shape == (0,)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"atol": 1e-2}, {"rtol": 1e-2}, {"atol": 0.5, "rtol": 1e-2}, {"hermitian": True}],
)
def test_matrix_rank_and_pinv_tolerances_match_torch(kwargs):
    base = np.diag([3.0, 1.0, 1e-3, 0.0])
    q, _ = np.linalg.qr(random(4, 4))
    A = q @ base @ q.T if kwargs.get("hermitian") else q @ base
    A = np.stack([A, 2 * A])
    rank = chainrule.linalg.matrix_rank(tensor(A), **kwargs)
    expected = torch.linalg.matrix_rank(torch.tensor(A), **kwargs)
    assert rank.dtype == chainrule.int64
    np.testing.assert_array_equal(rank.numpy(), expected.numpy())
    pinv = chainrule.linalg.pinv(tensor(A), **kwargs)
    np.testing.assert_allclose(
        pinv.numpy(), torch.linalg.pinv(torch.tensor(A), **kwargs).numpy(), atol=1e-8
    )


@pytest.mark.parametrize("hermitian", [False, True])
def test_matrix_rank_tol_and_pinv_rcond_older_forms_match_torch(hermitian):
    """PyTorch's one-tolerance overloads: matrix_rank(A, tol, hermitian) with tol absolute,
    pinv(A, rcond, hermitian) with rcond relative, positionally or by keyword; a tensor
    tolerance broadcasts over the batch."""
    q, _ = np.linalg.qr(random(4, 4))
    A = q @ np.diag([3.0, 1.0, 0.4, 0.0]) @ q.T
    A = np.stack([A, 2 * A])
    for tol in (0.5, 0.9, np.array([0.5, 0.9])):
        ours_tol = tensor(tol) if isinstance(tol, np.ndarray) else tol
        theirs_tol = torch.tensor(tol) if isinstance(tol, np.ndarray) else tol
        rank = chainrule.linalg.matrix_rank(tensor(A), ours_tol, hermitian)
        expected = torch.linalg.matrix_rank(torch.tensor(A), theirs_tol, hermitian)
        np.testing.assert_array_equal(rank.numpy(), expected.numpy())
        by_keyword = chainrule.linalg.matrix_rank(tensor(A), tol=ours_tol, hermitian=hermitian)
        np.testing.assert_array_equal(by_keyword.numpy(), expected.numpy())
    for rcond in (0.1, 0.2):
        pinv = chainrule.linalg.pinv(tensor(A), rcond, hermitian)
        expected = torch.linalg.pinv(torch.tensor(A), rcond, hermitian)
        np.testing.assert_allclose(pinv.numpy(), expected.numpy(), atol=1e-10)
        by_keyword = chainrule.linalg.pinv(tensor(A), rcond=rcond, hermitian=hermitian)
        np.testing.assert_allclose(by_keyword.numpy(), expected.numpy(), atol=1e-10)
    leaf = tensor(A[0], requires_grad=True)
    (grad,) = chainrule.autograd.grad(chainrule.linalg.pinv(leaf, 0.1).sum(), leaf)
    torch_leaf = torch.tensor(A[0], requires_grad=True)
    (expected,) = torch.autograd.grad(torch.linalg.pinv(torch_leaf, 0.1).sum(), torch_leaf)
    np.testing.assert_allclose(grad.numpy(), expected.numpy(), atol=1e-8)
    with pytest.raises(TypeError):
        torch.linalg.matrix_rank(torch.tensor(A), 0.5, atol=0.1)
    with pytest.raises(TypeError, match="tol cannot be given together with atol or rtol"):
        chainrule.linalg.matrix_rank(tensor(A), 0.5, atol=0.1)
    with pytest.raises(TypeError, match="rcond cannot be given together with atol or rtol"):
        chainrule.linalg.pinv(tensor(A), rcond=0.5, rtol=0.1)


def test_cond_of_a_singular_matrix_is_inf_without_an_error():
    A = np.array([[1.0, 2.0], [2.0, 4.0]])
    for p in (1, "fro", float("inf")):
        assert (
            chainrule.linalg.cond(tensor(A), p).item()
            == torch.linalg.cond(torch.tensor(A), p).item()
            == float("inf")
        )
    with pytest.raises(ValueError, match="invalid norm type"):
        chainrule.linalg.cond(tensor(A), 3)


def test_nuclear_and_spectral_norms_are_sums_and_extremes_of_singular_values():
    A = random(2, 3, 4)
    for ord in ("nuc", 2, -2):
        np.testing.assert_allclose(
            chainrule.linalg.matrix_norm(tensor(A), ord).numpy(),
            torch.linalg.matrix_norm(torch.tensor(A), ord).numpy(),
            atol=1e-12,
        )
    assert chainrule.linalg.norm(tensor(A[0]), "nuc").item() == pytest.approx(
        np.linalg.norm(A[0], "nuc")
    )


# ---- LU and the _ex functions ------------------------------------------------------------------


def test_lu_factor_of_a_singular_matrix_raises_and_lu_factor_ex_reports_info_like_torch():
    A = np.stack([random(3, 3), np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])])
    with pytest.raises(LinAlgError, match="lu_factor"):
        chainrule.linalg.lu_factor(tensor(A))
    mine = chainrule.linalg.lu_factor_ex(tensor(A))
    theirs = torch.linalg.lu_factor_ex(torch.tensor(A))
    np.testing.assert_array_equal(mine.info.numpy(), theirs.info.numpy())
    np.testing.assert_array_equal(mine.pivots.numpy(), theirs.pivots.numpy())
    np.testing.assert_allclose(mine.LU.numpy(), theirs.LU.numpy(), atol=1e-12)


def test_lu_rebuilds_the_matrix_for_tall_and_wide_inputs_like_torch():
    for shape in [(4, 3), (3, 5), (2, 3, 3)]:
        A = random(*shape)
        P, L, U = chainrule.linalg.lu(tensor(A))
        tP, tL, tU = torch.linalg.lu(torch.tensor(A))
        for mine, theirs in ((P, tP), (L, tL), (U, tU)):
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)
        np.testing.assert_allclose((P @ L @ U).numpy(), A, atol=1e-12)


def test_cholesky_ex_and_inv_ex_report_failures_per_matrix_instead_of_raising():
    spd = np.array([[4.0, 2.0], [2.0, 3.0]])
    indefinite = np.array([[4.0, 2.0], [2.0, -3.0]])
    A = np.stack([spd, indefinite, -np.eye(2)])
    mine = chainrule.linalg.cholesky_ex(tensor(A))
    theirs = torch.linalg.cholesky_ex(torch.tensor(A))
    np.testing.assert_array_equal(mine.info.numpy(), theirs.info.numpy())
    np.testing.assert_allclose(mine.L.numpy()[0], theirs.L.numpy()[0])
    with pytest.raises(LinAlgError, match="cholesky_ex"):
        chainrule.linalg.cholesky_ex(tensor(A), check_errors=True)

    singular = np.stack([spd, np.array([[1.0, 2.0], [2.0, 4.0]])])
    mine = chainrule.linalg.inv_ex(tensor(singular))
    theirs = torch.linalg.inv_ex(torch.tensor(singular))
    np.testing.assert_array_equal(mine.info.numpy(), theirs.info.numpy())
    np.testing.assert_allclose(mine.inverse.numpy()[0], theirs.inverse.numpy()[0])
    assert not np.isfinite(mine.inverse.numpy()[1]).all()
    with pytest.raises(LinAlgError, match="inv_ex"):
        chainrule.linalg.inv_ex(tensor(singular), check_errors=True)


def test_decompositions_refuse_integer_and_vector_inputs_naming_the_op():
    with pytest.raises(TypeError, match="linalg.svd"):
        chainrule.linalg.svd(chainrule.ones(2, 2, dtype=chainrule.int64))
    with pytest.raises(ValueError, match="linalg.qr"):
        chainrule.linalg.qr(chainrule.ones(3))
    with pytest.raises(ValueError, match="linalg.eigh.*square"):
        chainrule.linalg.eigh(chainrule.ones(2, 3))
    with pytest.raises(ValueError, match="mode"):
        chainrule.linalg.qr(chainrule.ones(2, 2), mode="full")


# ---- LDL^T ---------------------------------------------------------------------------------------


def _exact(array):
    """A chainrule tensor of the array's own dtype (the module's `tensor` makes float64)."""
    return chainrule.from_numpy(np.array(array))


def _symmetric(n, dtype, hermitian, batch=()):
    rng = np.random.default_rng(n)
    a = rng.standard_normal(batch + (n, n))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(batch + (n, n))
    transposed = np.swapaxes(a, -1, -2)
    return (a + (np.conj(transposed) if hermitian else transposed)).astype(dtype)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
@pytest.mark.parametrize(
    "dtype, hermitian",
    [(np.float64, False), (np.float32, False), (np.complex128, False), (np.complex128, True)],
)
def test_ldl_factor_and_solve_match_torch(n, dtype, hermitian):
    """Bunch-Kaufman pivoting as LAPACK's ?sytrf / ?hetrf (lower): the same pivots (a negative
    pair for a 2x2 block), packed factors and info as torch, and ldl_solve's solution."""
    A = _symmetric(n, dtype, hermitian, batch=(3,))
    B = np.random.default_rng(1).standard_normal((3, n, 2)).astype(dtype)
    mine = chainrule.linalg.ldl_factor_ex(_exact(A), hermitian=hermitian)
    theirs = torch.linalg.ldl_factor_ex(torch.tensor(A), hermitian=hermitian)
    np.testing.assert_array_equal(mine.pivots.numpy(), theirs.pivots.numpy())
    np.testing.assert_array_equal(mine.info.numpy(), theirs.info.numpy())
    assert mine.pivots.dtype == chainrule.int32 and mine.LD.dtype == _exact(A).dtype
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(mine.LD.numpy(), theirs.LD.numpy(), rtol=tolerance, atol=tolerance)
    solution = chainrule.linalg.ldl_solve(mine.LD, mine.pivots, _exact(B), hermitian=hermitian)
    expected = torch.linalg.ldl_solve(
        theirs.LD, theirs.pivots, torch.tensor(B), hermitian=hermitian
    )
    np.testing.assert_allclose(solution.numpy(), expected.numpy(), rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(A @ solution.numpy(), B, rtol=10 * tolerance, atol=10 * tolerance)


def test_ldl_factor_pivots_on_indefinite_and_singular_matrices_as_torch():
    for M in (
        [[0.0, 1.0], [1.0, 0.0]],  # one 2x2 block
        [[1.0, 2.0, 3.0], [2.0, -1.0, 0.5], [3.0, 0.5, 0.2]],  # a 2x2 block with an interchange
        [[1e-3, 5.0, 0.1, 2.0], [5.0, 1e-4, 3.0, 0.0], [0.1, 3.0, 0.0, 7.0], [2.0, 0.0, 7.0, 1e-2]],
        [[2.0, 5.0], [-7.0, 3.0]],  # not symmetric: only the lower triangle is read
        [[0.0, 0.0], [0.0, 0.0]],  # singular: info 1
    ):
        mine = chainrule.linalg.ldl_factor_ex(_exact(np.array(M)))
        theirs = torch.linalg.ldl_factor_ex(torch.tensor(M, dtype=torch.float64))
        np.testing.assert_array_equal(mine.pivots.numpy(), theirs.pivots.numpy())
        np.testing.assert_allclose(mine.LD.numpy(), theirs.LD.numpy(), rtol=1e-12, atol=1e-15)
        assert mine.info.item() == theirs.info.item()
    with pytest.raises(chainrule.linalg.LinAlgError, match="not invertible"):
        chainrule.linalg.ldl_factor(chainrule.zeros(2, 2))
    with pytest.raises(chainrule.linalg.LinAlgError):
        chainrule.linalg.ldl_factor_ex(chainrule.zeros(2, 2), check_errors=True)


def test_ldl_solve_broadcasts_and_refuses_what_torch_refuses():
    A = _symmetric(3, np.float64, False)
    LD, pivots = chainrule.linalg.ldl_factor(_exact(A))
    their_LD, their_pivots = torch.linalg.ldl_factor(torch.tensor(A))
    B = np.ones((2, 3, 4))
    np.testing.assert_allclose(
        chainrule.linalg.ldl_solve(LD, pivots.long(), _exact(B)).numpy(),
        torch.linalg.ldl_solve(their_LD, their_pivots.long(), torch.tensor(B)).numpy(),
        rtol=1e-10,
    )
    for call, error in [
        (
            lambda lib, ld, p: lib.linalg.ldl_solve(ld, p, lib.ones(3, dtype=lib.float64)),
            IndexError,
        ),
        (lambda lib, ld, p: lib.linalg.ldl_solve(ld, p, lib.ones(3, 1)), RuntimeError),
        (lambda lib, ld, p: lib.linalg.ldl_factor(lib.ones(2, 3)), RuntimeError),
        (lambda lib, ld, p: lib.linalg.ldl_factor(lib.ones(2, 2, dtype=lib.int64)), RuntimeError),
    ]:
        with pytest.raises(error):
            call(torch, their_LD, their_pivots)
        with pytest.raises(error):
            call(chainrule, LD, pivots)


def test_ldl_factor_solve_and_geqrf_have_no_derivative_as_in_torch():
    """PyTorch records them (the outputs require grad, grad_fn <NotImplemented> or
    <GeqrfBackward0>) and raises when a backward reaches them; chainrule made constants of
    them, so a loss through them silently lost that part of its gradient."""
    values = _exact(_symmetric(3, np.float64, False)).numpy()
    for lib in (chainrule, torch):
        A = lib.tensor(values, requires_grad=True)
        B = lib.ones(3, 1, dtype=lib.float64, requires_grad=True)
        LD, pivots = lib.linalg.ldl_factor(A)
        X = lib.linalg.ldl_solve(LD.detach(), pivots, B)
        reflectors, tau = lib.geqrf(A)
        assert LD.requires_grad and X.requires_grad and reflectors.requires_grad
        assert not pivots.requires_grad
        assert LD.grad_fn.name().endswith("NotImplemented")  # torch::autograd::NotImplemented
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex"):
            LD.sum().backward()
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve"):
            X.sum().backward()
        with pytest.raises(NotImplementedError, match="the derivative for 'geqrf'"):
            (reflectors.sum() + tau.sum()).backward()


def test_ldl_factor_under_vmap_is_the_batched_factorization():
    A = _exact(_symmetric(4, np.float64, False, batch=(3,)))
    batched = chainrule.vmap(lambda a: chainrule.linalg.ldl_factor(a).LD)(A)
    np.testing.assert_array_equal(batched.numpy(), chainrule.linalg.ldl_factor(A).LD.numpy())
    expected = torch.vmap(lambda a: torch.linalg.ldl_factor(a).LD)(torch.tensor(A.numpy()))
    np.testing.assert_allclose(batched.numpy(), expected.numpy(), rtol=1e-12, atol=1e-15)


# ---- PyTorch's older top-level spellings: deprecated once, or removed ---------------------------

OLD_SPELLINGS = {
    "cholesky": lambda lib, m, b: lib.cholesky(m),
    "qr": lambda lib, m, b: lib.qr(m),
    "lu": lambda lib, m, b: lib.lu(m),
    "lu_solve": lambda lib, m, b: lib.lu_solve(b, *lib.linalg.lu_factor(m)),
    "triangular_solve": lambda lib, m, b: lib.triangular_solve(b, m),
    "chain_matmul": lambda lib, m, b: lib.chain_matmul(m, m),
}
OLD_METHODS = {
    "cholesky": lambda m, b: m.cholesky(),
    "qr": lambda m, b: m.qr(),
    "lu": lambda m, b: m.lu(),
    "lu_solve": lambda m, b: b.lu_solve(*chainrule.linalg.lu_factor(m)),
    "triangular_solve": lambda m, b: b.triangular_solve(m),
}


@pytest.mark.parametrize("name", sorted(OLD_SPELLINGS))
def test_a_deprecated_spelling_warns_once_per_process_naming_its_replacement(name, monkeypatch):
    """torch.cholesky, torch.lu, ... still work in PyTorch 2.13 but warn (TORCH_WARN_ONCE): the
    first call only, even under an "always" filter, and the method spelling shares it."""
    monkeypatch.setattr(chainrule.errors, "_warned", set())
    A = chainrule.tensor([[4.0, 1.0], [1.0, 3.0]])
    b = chainrule.tensor([[1.0], [2.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = OLD_SPELLINGS[name](chainrule, A, b)
        OLD_SPELLINGS[name](chainrule, A, b)
        if name in OLD_METHODS:
            OLD_METHODS[name](A, b)
    assert [w.category for w in caught] == [UserWarning]
    replacement = "multi_dot" if name == "chain_matmul" else "torch.linalg."
    assert f"torch.{name} is deprecated" in str(caught[0].message)
    assert replacement in str(caught[0].message)
    assert caught[0].filename == __file__  # blames the caller, as PyTorch's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tA, tb = torch.tensor(A.numpy()), torch.tensor(b.numpy())
        theirs = OLD_SPELLINGS[name](torch, tA, tb)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["symeig", "eig", "lstsq", "solve", "matrix_rank"])
def test_a_removed_spelling_is_still_there_and_raises_runtime_error_naming_the_replacement(name):
    A = chainrule.tensor([[4.0, 1.0], [1.0, 3.0]])
    with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed") as e:
        getattr(chainrule, name)(A, A)
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch, name)(torch.tensor(A.numpy()), torch.tensor(A.numpy()))
    assert str(e.value) == str(theirs.value)
    if name != "matrix_rank":  # PyTorch has no Tensor.matrix_rank
        with pytest.raises(RuntimeError, match="now removed"):
            getattr(A, name)(A)


# ---- torch.lobpcg ------------------------------------------------------------------------------


def _spd(m: int, scale: float = 1.0) -> np.ndarray:
    """A symmetric positive definite matrix with distinct eigenvalues."""
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    return scale * (q * np.linspace(1.0, 4.0 * m, m)) @ q.T


@pytest.mark.parametrize("largest", [True, False])
def test_lobpcg_gives_pytorchs_eigenpairs_and_gradients(largest):
    """Largest first (smallest first when largest=False), unit eigenvectors up to sign; the
    gradient of losses blind to the signs is PyTorch's, symmetric, and its finite differences."""
    a = np.stack([_spd(9), _spd(9, 2.0)])
    ours_a = chainrule.tensor(a, requires_grad=True)
    theirs_a = torch.tensor(a, requires_grad=True)
    weights = np.arange(9.0)[:, None]
    results = []
    for lib, A in ((chainrule, ours_a), (torch, theirs_a)):
        values, vectors = lib.lobpcg(A, k=2, largest=largest, tol=1e-12, niter=200)
        loss = values.sum() + (vectors**2 * lib.tensor(weights)).sum()
        (grad,) = lib.autograd.grad(loss, A)
        results.append((values, vectors, grad))
    (values, vectors, grad), (t_values, t_vectors, t_grad) = results
    assert values.shape == (2, 2) and vectors.shape == (2, 9, 2)
    assert type(values.grad_fn).__name__ == "LOBPCGAutogradFunctionBackward"
    np.testing.assert_allclose(values.detach().numpy(), t_values.detach().numpy(), rtol=1e-8)
    np.testing.assert_allclose(
        np.abs(vectors.detach().numpy()), np.abs(t_vectors.detach().numpy()), atol=1e-6
    )
    np.testing.assert_allclose(grad.numpy(), t_grad.numpy(), atol=1e-6)
    np.testing.assert_allclose(grad.numpy(), grad.numpy().transpose(0, 2, 1), atol=1e-12)

    def smallest_values(A):  # noqa: N803
        return chainrule.lobpcg(A, k=2, largest=largest)[0]

    assert chainrule.autograd.gradcheck(smallest_values, (chainrule.tensor(a[0]).requires_grad_(),))


def test_lobpcg_generalized_problem_and_pytorchs_refusals():
    a, b = _spd(9), _spd(9, 0.1) + np.eye(9)
    values, vectors = chainrule.lobpcg(chainrule.tensor(a), k=2, B=chainrule.tensor(b))
    t_values, _ = torch.lobpcg(torch.tensor(a), k=2, B=torch.tensor(b), tol=1e-12, niter=200)
    np.testing.assert_allclose(values.numpy(), t_values.numpy(), rtol=1e-8)
    v = vectors.numpy()  # B-orthonormal, A v = l B v
    np.testing.assert_allclose(v.T @ b @ v, np.eye(2), atol=1e-10)
    np.testing.assert_allclose(a @ v, b @ v * values.numpy(), atol=1e-8)
    for lib in (chainrule, torch):
        A = lib.tensor(a, requires_grad=True)  # noqa: N806
        values, _ = lib.lobpcg(A, k=2, B=lib.tensor(b))
        with pytest.raises(ValueError, match="does not support backward with B != I"):
            values.sum().backward()
        with pytest.raises(ValueError, match=r"smaller than 3 x the number of requested .*\(=4\)"):
            lib.lobpcg(lib.tensor(a), k=4)
        with pytest.raises(AssertionError, match="A must be square"):
            lib.lobpcg(lib.tensor(a[:, :8]), k=1)
        k_from_x, _ = lib.lobpcg(lib.tensor(a), X=lib.tensor(np.cos(np.arange(27.0)).reshape(9, 3)))
        assert tuple(k_from_x.shape) == (3,)


def test_cholesky_ex_leaves_lapacks_partial_factor_where_a_minor_is_not_positive():
    """The columns before the failing one computed, the failing pivot on the diagonal, A's
    lower triangle after it (LAPACK's unblocked potrf, as PyTorch returns it)."""
    zero_pivot = [[4.0, 2.0, 1.0], [2.0, 1.0, 0.0], [1.0, 0.0, 3.0]]
    negative_last = [[4.0, 2.0, 1.0], [2.0, 5.0, 0.0], [1.0, 0.0, -3.0]]
    batch = np.stack([negative_last, np.eye(3), zero_pivot])
    complex_batch = batch * np.exp(0.3j) * np.exp(-0.3j)
    for A in (np.array(zero_pivot), np.array(negative_last), batch, complex_batch):
        for upper in (False, True):
            mine = chainrule.linalg.cholesky_ex(tensor(A), upper=upper)
            theirs = torch.linalg.cholesky_ex(torch.tensor(A), upper=upper)
            np.testing.assert_array_equal(mine.info.numpy(), theirs.info.numpy())
            np.testing.assert_allclose(mine.L.numpy(), theirs.L.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda lib, a: lib.linalg.lu(a, pivot=False), "LU without pivoting is not implemented"),
        (lambda lib, a: lib.linalg.lu_factor(a, pivot=False), "LU without pivoting"),
        (lambda lib, a: lib.linalg.lu_factor_ex(a, pivot=False), "LU without pivoting"),
        (lambda lib, a: lib.lu(a, pivot=False), "LU without pivoting"),
        (lambda lib, a: lib.linalg.svd(a, driver="gesvd"), "`driver=` is only supported on CUDA"),
        (lambda lib, a: lib.linalg.svdvals(a, driver="gesvdj"), "`driver=` is only supported"),
    ],
)
def test_cuda_only_options_are_refused_on_the_cpu_as_torch(call, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.lu's deprecation
        for lib in (torch, chainrule):
            with pytest.raises(RuntimeError, match=re.escape(message)):
                call(lib, lib.eye(3) + 1)
    assert chainrule.linalg.svd(chainrule.eye(3), driver=None).S.tolist() == [1.0, 1.0, 1.0]
