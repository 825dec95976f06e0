"""Linear algebra beyond the op specs: errors that name the op and the shapes, LinAlgError on
singular inputs, view semantics, result types, and each rule's jvp against its vjp."""

import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.errors
import chainrule.linalg
from chainrule.errors import ChainruleError, DTypeError, ShapeError
from chainrule.linalg import LinAlgError


def tensor(array, requires_grad=False):
    return chainrule.from_numpy(np.asarray(array, dtype=np.float64)).requires_grad_(requires_grad)


def random(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- errors ------------------------------------------------------------------------------------


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ShapeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        chainrule.matmul(chainrule.ones(2, 3), chainrule.ones(4, 5))


def test_matmul_of_different_dtypes_is_a_dtype_error_as_in_torch():
    with pytest.raises(DTypeError, match="matmul.*float32.*float64"):
        chainrule.matmul(chainrule.ones(2, 3), chainrule.ones(3, 2, dtype=chainrule.float64))


def test_solve_shape_mismatch_names_both_shapes():
    with pytest.raises(ShapeError, match=r"linalg.solve.*AX = B.*\(3, 3\).*\(4, 2\)"):
        chainrule.linalg.solve(chainrule.eye(3), chainrule.ones(4, 2))
    with pytest.raises(ShapeError, match=r"XA = B"):
        chainrule.linalg.solve(chainrule.eye(3), chainrule.ones(3), left=False)


def test_solve_batches_that_do_not_broadcast():
    A = chainrule.eye(3).expand(2, 3, 3)
    with pytest.raises(ShapeError, match=r"batch dimensions.*\(2, 3, 3\).*\(4, 3, 2\)"):
        chainrule.linalg.solve(A, chainrule.ones(4, 3, 2))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: chainrule.linalg.inv(chainrule.ones(2, 3)), r"linalg.inv.*square.*2 by 3"),
        (lambda: chainrule.linalg.det(chainrule.ones(3)), r"linalg.det.*at least 2 dimensions"),
        (lambda: chainrule.dot(chainrule.ones(3), chainrule.ones(4)), r"dot.*\(3,\).*\(4,\)"),
        (lambda: chainrule.dot(chainrule.ones(2, 2), chainrule.ones(4)), r"dot: 1D"),
        (lambda: chainrule.mv(chainrule.ones(2, 3), chainrule.ones(2)), r"mv.*\(2, 3\).*\(2,\)"),
        (lambda: chainrule.inner(chainrule.ones(2, 3), chainrule.ones(2)), r"inner.*last dim"),
        (lambda: chainrule.tensordot(chainrule.ones(2, 3), chainrule.ones(4, 2), 1), "tensordot"),
        (lambda: chainrule.diagonal(chainrule.ones(3, 3), 0, 1, -1), r"diagonal.*identical"),
        (lambda: chainrule.tril(chainrule.ones(3)), r"tril.*at least 2 dimensions"),
        (lambda: chainrule.diag(chainrule.ones(2, 2, 2)), r"diag\(\).*3D"),
        (
            lambda: chainrule.addmm(
                chainrule.ones(2, 2, 3), chainrule.ones(2, 4), chainrule.ones(4, 3)
            ),
            r"addmm.*\(2, 2, 3\).*\(2, 3\)",
        ),
        (
            lambda: chainrule.linalg.solve_triangular(
                chainrule.eye(3), chainrule.ones(2, 3), upper=True
            ),
            r"solve_triangular.*\(3, 3\).*\(2, 3\)",
        ),
    ],
)
def test_shape_errors_name_the_op(call, message):
    with pytest.raises(ShapeError, match=message):
        call()


def test_linalg_dtype_errors():
    with pytest.raises(DTypeError, match="linalg.inv.*int64"):
        chainrule.linalg.inv(chainrule.ones(2, 2, dtype=chainrule.int64))
    with pytest.raises(DTypeError, match="linalg.solve.*float32.*float64"):
        chainrule.linalg.solve(chainrule.eye(2), chainrule.ones(2, dtype=chainrule.float64))
    with pytest.raises(DTypeError, match="dot.*float32.*float64"):
        chainrule.dot(chainrule.ones(2), chainrule.ones(2, dtype=chainrule.float64))
    with pytest.raises(DTypeError, match="einsum"):
        chainrule.einsum("i,i->", chainrule.ones(2), chainrule.ones(2, dtype=chainrule.float64))


@pytest.mark.parametrize(
    "equation, shapes, message",
    [
        ("ij,jk->ik", [(2, 3)], "2 operands but 1"),
        ("ij->ij", [(2, 3, 4)], "3 dimensions"),
        ("ij,jk->ik", [(2, 3), (4, 5)], r"'j' has size 3.*4"),
        ("ii->i", [(2, 3)], "repeated for operand 0"),
        ("ij->ii", [(2, 2)], "more than once"),
        ("ij->k", [(2, 2)], "not in any input"),
        ("i1->i", [(2, 2)], "invalid subscript"),
        ("i->i->i", [(2,)], "more than one"),
    ],
)
def test_einsum_equation_errors(equation, shapes, message):
    operands = [chainrule.ones(*shape) for shape in shapes]
    with pytest.raises(ShapeError, match=message):
        chainrule.einsum(equation, *operands)


# ---- singular and non-positive-definite inputs -------------------------------------------------


def test_linalg_error_is_torchs_kind_of_error():
    assert chainrule.linalg.LinAlgError is LinAlgError
    assert issubclass(LinAlgError, RuntimeError) and issubclass(LinAlgError, ChainruleError)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda a: chainrule.linalg.inv(a), "linalg.inv"),
        (lambda a: chainrule.inverse(a), "linalg.inv"),
        (lambda a: chainrule.linalg.solve(a, chainrule.ones(3, dtype=a.dtype)), "linalg.solve"),
        (lambda a: chainrule.linalg.cholesky(a), "linalg.cholesky"),
    ],
)
def test_singular_input_raises_linalg_error_naming_the_op(call, name):
    singular = tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]])
    with pytest.raises(LinAlgError, match=name):
        call(singular)


def test_cholesky_of_a_non_positive_definite_matrix():
    with pytest.raises(LinAlgError, match="not positive-definite"):
        chainrule.linalg.cholesky(-chainrule.eye(3))


@pytest.mark.parametrize(
    "factor",
    [
        lambda lib, a: lib.linalg.cholesky(a, upper=True),
        lambda lib, a: lib.linalg.cholesky_ex(a, upper=True).L,
        lambda lib, a: lib.cholesky(a, upper=True),
        lambda lib, a: lib.linalg.cholesky(a),
    ],
    ids=["linalg.cholesky", "cholesky_ex", "torch.cholesky", "lower"],
)
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_cholesky_reads_the_triangle_it_returns_as_torch(factor, dtype):
    """upper=True factors the Hermitian matrix of A's upper triangle (LAPACK potrf's 'U'),
    the default the one of its lower triangle: a matrix filled on one side only, or not
    symmetric, gives PyTorch's factor and gradient (chainrule read the lower one for both)."""
    base = np.array([[5.0, -1.5, 0.2], [-1.0, 5.0, -1.5], [0.0, -1.0, 5.0]])
    if dtype == "complex128":
        base = base + 1j * (np.triu(base, 1) * 0.3 - np.tril(base, -1) * 0.2)
    cotangent = np.arange(9.0).reshape(3, 3) / 9
    results = []
    for lib in (chainrule, torch):
        a = lib.tensor(base, requires_grad=True)
        out = factor(lib, a)
        (grad,) = lib.autograd.grad((out.abs() * lib.tensor(cotangent)).sum(), a)
        results.append((out.detach().numpy(), grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)


_INDEFINITE = [[[1.0, 2.0], [2.0, 1.0]]]  # the leading minor of order 2
_NEGATIVE = [[[-1.0, 0.0], [0.0, 1.0]]]  # order 1
_NAN_PIVOT = [[[float("nan"), 0.0], [0.0, 1.0]]]  # LAPACK stops at a nan pivot
_SINGULAR = [[[1.0, 2.0], [2.0, 4.0]]]  # U's second diagonal element is zero
_BATCH = [[[2.0, 0.0], [0.0, 2.0]], [[1.0, 3.0], [3.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]]


def _inv(lib, a):
    return lib.linalg.inv(a)


def _inverse(lib, a):
    return lib.inverse(a)


def _solve(lib, a):
    return lib.linalg.solve(a, lib.ones(a.shape[-1], dtype=a.dtype))


def _solve_right(lib, a):
    return lib.linalg.solve(a, lib.eye(a.shape[-1], dtype=a.dtype).expand(a.shape), left=False)


def _cholesky(lib, a):
    return lib.linalg.cholesky(a)


def _cholesky_ex_checked(lib, a):
    return lib.linalg.cholesky_ex(a, check_errors=True)


def _inv_ex_checked(lib, a):
    return lib.linalg.inv_ex(a, check_errors=True)


def _solve_ex_checked(lib, a):
    return lib.linalg.solve_ex(a, lib.ones(a.shape[-1], dtype=a.dtype), check_errors=True)


def _lu_factor(lib, a):
    return lib.linalg.lu_factor(a)


def _lu_factor_ex_checked(lib, a):
    return lib.linalg.lu_factor_ex(a, check_errors=True)


def _cholesky_upper_complex(lib, a):
    return lib.linalg.cholesky(a.to(lib.complex128), upper=True)


@pytest.mark.parametrize(
    "call, matrices",
    [
        (call, matrices)
        for call in (_inv, _inverse, _solve, _solve_right, _inv_ex_checked, _solve_ex_checked)
        + (_lu_factor, _lu_factor_ex_checked)
        for matrices in (_SINGULAR, [*_BATCH[:1], *_SINGULAR])
    ]
    + [
        (call, matrices)
        for call in (_cholesky, _cholesky_upper_complex, _cholesky_ex_checked)
        for matrices in (_INDEFINITE, _NEGATIVE, _NAN_PIVOT, _SINGULAR, _BATCH)
    ],
    ids=lambda case: case.__name__ if callable(case) else f"{len(case)}-matrices",
)
def test_failed_factorizations_are_worded_as_torchs(call, matrices):
    """The LinAlgError names the leading minor that is not positive-definite (cholesky) or the
    zero diagonal element of U (inv), and the first failing matrix of a batch ("(Batch
    element i): "), in PyTorch's words."""
    messages = []
    for lib in (torch, chainrule):
        a = lib.tensor(matrices if len(matrices) > 1 else matrices[0], dtype=lib.float64)
        with pytest.raises(RuntimeError) as error:
            call(lib, a)
        messages.append(str(error.value).removeprefix("torch."))
    assert messages[1] == messages[0]


@pytest.mark.parametrize(
    "matrix",
    [
        [[1.0, 2.0], [2.0, 4.0]],  # rank 1: the cofactors are not zero
        [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
        [[0.0, 0.0], [0.0, 0.0]],  # rank 0: zero cofactors, second derivative nan as torch's
    ],
)
def test_det_of_a_singular_matrix_has_torchs_first_and_second_derivatives(matrix):
    """At a singular matrix inv fails: the cofactors come through the SVD, as PyTorch's."""
    A = chainrule.tensor(matrix, dtype=chainrule.float64, requires_grad=True)
    B = torch.tensor(matrix, dtype=torch.float64, requires_grad=True)
    assert chainrule.linalg.det(A).item() == 0.0
    weights = np.arange(A.numel(), dtype=np.float64).reshape(A.shape)
    (mine,) = chainrule.autograd.grad(chainrule.linalg.det(A), A, create_graph=True)
    (theirs,) = torch.autograd.grad(torch.linalg.det(B), B, create_graph=True)
    np.testing.assert_allclose(mine.tolist(), theirs.tolist(), atol=1e-12)
    (mine,) = chainrule.autograd.grad((mine * chainrule.tensor(weights)).sum(), A)
    (theirs,) = torch.autograd.grad((theirs * torch.tensor(weights)).sum(), B)
    np.testing.assert_allclose(mine.tolist(), theirs.tolist(), atol=1e-9, equal_nan=True)


def test_det_tangent_at_a_singular_matrix_is_the_cofactors_along_it():
    """d det(A)[T] = sum(C * T), with C the cofactors; PyTorch's jvp there gives det(A) times
    a trace, 0 (a documented difference: README, Where chainrule differs)."""
    A = chainrule.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=chainrule.float64)
    T = chainrule.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=chainrule.float64)
    _, tangent = chainrule.func.jvp(chainrule.linalg.det, (A,), (T,))
    cofactors = np.array([[4.0, -2.0], [-2.0, 1.0]])
    assert tangent.item() == pytest.approx(float((cofactors * T.numpy()).sum()))


def test_solve_triangular_with_a_zero_pivot_gives_inf_and_nan_like_torch():
    A, B = np.zeros((3, 3)), np.ones((3, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mine = chainrule.linalg.solve_triangular(tensor(A), tensor(B), upper=True).numpy()
    theirs = torch.linalg.solve_triangular(torch.tensor(A), torch.tensor(B), upper=True).numpy()
    np.testing.assert_array_equal(mine, theirs)


def test_solve_triangular_reads_only_its_triangle():
    A = random(3, 3) + 3 * np.eye(3)
    B = random(3, 2, seed=1)
    full = chainrule.linalg.solve_triangular(tensor(A), tensor(B), upper=False)
    lower = chainrule.linalg.solve_triangular(tensor(np.tril(A)), tensor(B), upper=False)
    np.testing.assert_allclose(full.numpy(), lower.numpy())
    unit = chainrule.linalg.solve_triangular(tensor(A), tensor(B), upper=False, unitriangular=True)
    unit_a = np.tril(A, -1) + np.eye(3)
    np.testing.assert_allclose(unit.numpy(), np.linalg.solve(unit_a, B))


# ---- semantics ---------------------------------------------------------------------------------


def test_diagonal_is_a_view_of_its_input():
    x = chainrule.zeros(3, 3)
    x.diagonal().fill_(1.0)
    np.testing.assert_array_equal(x.numpy(), np.eye(3))
    assert chainrule.diagonal(x)._base is x


def test_diag_of_a_matrix_is_a_copy():
    x = chainrule.zeros(3, 3)
    chainrule.diag(x).fill_(1.0)
    assert x.numpy().sum() == 0


def test_slogdet_returns_a_named_pair():
    A = tensor(np.diag([-2.0, 1.0, 3.0]))
    result = chainrule.linalg.slogdet(A)
    sign, logabsdet = result
    assert result.sign is sign and result.logabsdet is logabsdet
    assert sign.item() == -1.0
    assert logabsdet.item() == pytest.approx(np.log(6.0))
    assert np.isnan(chainrule.logdet(A).item())


def test_integer_contractions_keep_integers_and_trace_widens():
    x = chainrule.arange(6).reshape(2, 3)
    assert chainrule.einsum("ij,kj->ik", x, x).dtype == chainrule.int64
    small = chainrule.ones(2, 2, dtype=chainrule.int32)
    assert chainrule.trace(small).dtype == chainrule.int64
    assert chainrule.trace(small).item() == 2


def test_vector_norm_is_the_reductions():
    from chainrule.ops.reduction import vector_norm

    assert chainrule.linalg.vector_norm is vector_norm


def test_einsum_third_derivative_through_a_repeated_index():
    # f(A) = sum_i A_ii^3 through 'ii->i' and products: d3f/dA_ii^3 = 6 on the diagonal.
    A = tensor(random(3, 3), requires_grad=True)
    diagonal = chainrule.einsum("ii->i", A)
    f = chainrule.einsum("i,i,i->", diagonal, diagonal, diagonal)
    (g,) = chainrule.autograd.grad(f, A, create_graph=True)
    (h,) = chainrule.autograd.grad(chainrule.einsum("ii->", g), A, create_graph=True)
    (t,) = chainrule.autograd.grad(chainrule.einsum("ii->", h), A)
    np.testing.assert_allclose(t.numpy(), 6 * np.eye(3))


# ---- jvp rules agree with vjp rules: <jvp(t), c> == <t, vjp(c)> -------------------------------


def _well_conditioned(*shape, seed=0):
    return random(*shape, seed=seed) + shape[-1] * np.eye(shape[-1])


JVP_CASES = [
    ("matmul", lambda a, b: chainrule.matmul(a, b), [random(2, 3), random(3, 4, seed=1)]),
    ("einsum", lambda a, b: chainrule.einsum("ij,jk->ik", a, b), [random(2, 3), random(3, 2)]),
    ("einsum repeated", lambda a: chainrule.einsum("iij->ij", a), [random(2, 2, 3)]),
    ("diagonal", lambda a: chainrule.diagonal(a, 1, 0, 2), [random(3, 2, 4)]),
    ("diag_embed", lambda a: chainrule.diag_embed(a, -1), [random(2, 3)]),
    ("tril", lambda a: chainrule.tril(a, -1), [random(3, 4)]),
    ("triu", lambda a: chainrule.triu(a, 1), [random(3, 4)]),
    ("inv", chainrule.linalg.inv, [_well_conditioned(2, 3, 3)]),
    ("det", chainrule.linalg.det, [_well_conditioned(2, 3, 3)]),
    ("solve", chainrule.linalg.solve, [_well_conditioned(3, 3), random(3, 2, seed=2)]),
]


@pytest.mark.parametrize("name, fn, arrays", JVP_CASES, ids=[case[0] for case in JVP_CASES])
def test_jvp_is_the_transpose_of_vjp(name, fn, arrays):
    rng = np.random.default_rng(3)
    inputs = [tensor(array, requires_grad=True) for array in arrays]
    out = fn(*inputs)
    node = out.grad_fn
    assert node.op.jvp is not None, f"{name} has no jvp"
    tangents = [rng.standard_normal(array.shape) for array in arrays]
    jvp = node.op.jvp(node, *[tensor(t) for t in tangents])
    cotangent = rng.standard_normal(out.shape)
    grads = chainrule.autograd.grad(out, inputs, tensor(cotangent))
    forward = float(np.sum(jvp.detach().numpy() * cotangent))
    backward = sum(float(np.sum(g.numpy() * t)) for g, t in zip(grads, tangents))
    assert forward == pytest.approx(backward, rel=1e-9, abs=1e-9)


def test_torch_norm_takes_nuc_over_two_dims():
    """torch.norm(x, 'nuc') is the nuclear norm of a matrix (or of the matrices over `dim`),
    as Tensor.norm; three dims are refused. The matrices have full rank, so the nuclear norm's
    gradient U V^T is unique (sin(arange(24)) reshaped has rank 2, and its gradient is then
    whatever null vectors each LAPACK build returns)."""
    x = np.random.default_rng(11).standard_normal((2, 3, 4))
    ours, theirs = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    pairs = [
        (chainrule.norm(ours, p="nuc", dim=(1, 2)), torch.norm(theirs, p="nuc", dim=(1, 2))),
        (ours[0].norm("nuc", keepdim=True), theirs[0].norm("nuc", keepdim=True)),
        (chainrule.norm(ours, 3, dim=1), torch.norm(theirs, 3, dim=1)),
    ]
    for value, expected in pairs:
        np.testing.assert_allclose(value.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    sum(value.sum() for value, _ in pairs).backward()
    sum(expected.sum() for _, expected in pairs).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)
    with pytest.raises(RuntimeError):
        torch.norm(theirs, p="nuc")
    with pytest.raises(RuntimeError, match="two dims"):
        chainrule.norm(ours, p="nuc")


def test_cross_without_dim_warns_once_in_pytorchs_words(monkeypatch):
    monkeypatch.setattr(chainrule.errors, "_warned", set())
    a, b = np.eye(3), np.arange(9.0).reshape(3, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = chainrule.cross(chainrule.tensor(a), chainrule.tensor(b))
        chainrule.cross(chainrule.tensor(a), chainrule.tensor(b))
    assert [w.category for w in caught] == [UserWarning] and caught[0].filename == __file__
    assert str(caught[0].message).startswith(
        "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(
            ours.numpy(), torch.cross(torch.tensor(a), torch.tensor(b)).numpy()
        )


# ---- out= ----------------------------------------------------------------------------------------

_LINALG_WITH_OUT = [
    ("solve", 1, lambda m, a, **o: m.linalg.solve(a, a[:, :1], **o)),
    ("inv", 1, lambda m, a, **o: m.linalg.inv(a, **o)),
    ("det", 1, lambda m, a, **o: m.linalg.det(a, **o)),
    ("slogdet", 2, lambda m, a, **o: m.linalg.slogdet(a, **o)),
    ("eigh", 2, lambda m, a, **o: m.linalg.eigh(a @ a.mT, **o)),
    ("eigvalsh", 1, lambda m, a, **o: m.linalg.eigvalsh(a @ a.mT, **o)),
    ("svd", 3, lambda m, a, **o: m.linalg.svd(a, **o)),
    ("svdvals", 1, lambda m, a, **o: m.linalg.svdvals(a, **o)),
    ("qr", 2, lambda m, a, **o: m.linalg.qr(a, **o)),
    ("cholesky", 1, lambda m, a, **o: m.linalg.cholesky(a @ a.mT, **o)),
    ("matmul", 1, lambda m, a, **o: m.linalg.matmul(a, a, **o)),
    ("norm", 1, lambda m, a, **o: m.linalg.norm(a, **o)),
    ("vector_norm", 1, lambda m, a, **o: m.linalg.vector_norm(a, 3, dim=1, **o)),
    ("matrix_norm", 1, lambda m, a, **o: m.linalg.matrix_norm(a, "nuc", **o)),
    ("pinv", 1, lambda m, a, **o: m.linalg.pinv(a, **o)),
    ("lu", 3, lambda m, a, **o: m.linalg.lu(a, **o)),
    ("torch.inverse", 1, lambda m, a, **o: m.inverse(a, **o)),
    (
        "torch.cholesky_solve",
        1,
        lambda m, a, **o: m.cholesky_solve(a, m.eye(3, dtype=a.dtype), **o),
    ),
    ("torch.svd", 3, lambda m, a, **o: m.svd(a, **o)),
]


@pytest.mark.parametrize(
    "name, count, call", _LINALG_WITH_OUT, ids=[n for n, *_ in _LINALG_WITH_OUT]
)
def test_a_linalg_function_writes_into_out_as_torch(name, count, call):
    array = _well_conditioned(3, 3)
    mine, theirs = chainrule.from_numpy(array.copy()), torch.from_numpy(array.copy())
    torch_outs = tuple(torch.empty(0, dtype=torch.float64) for _ in range(count))
    my_outs = tuple(chainrule.empty(0, dtype=chainrule.float64) for _ in range(count))
    expected = call(torch, theirs, out=torch_outs if count > 1 else torch_outs[0])
    result = call(chainrule, mine, out=my_outs if count > 1 else my_outs[0])
    if count == 1:
        assert result is my_outs[0]
    else:
        assert type(result).__name__ == type(expected).__name__  # e.g. linalg_svd_out
        assert all(r is o for r, o in zip(result, my_outs))
    for written, reference in zip(my_outs, torch_outs):
        if name in ("eigh", "svd", "torch.svd"):  # singular and eigenvectors: up to sign
            written, reference = written.abs(), reference.abs()
        np.testing.assert_allclose(written.numpy(), reference.numpy(), atol=1e-10)


def test_linalg_out_must_have_the_results_exact_dtype_and_refuses_grad():
    a = chainrule.eye(2)
    with pytest.raises(
        RuntimeError, match="Expected out tensor to have dtype float, but got double"
    ):
        chainrule.linalg.solve(a, a, out=chainrule.empty(0, dtype=chainrule.float64))
    with pytest.raises(RuntimeError, match="dtype float, but got double"):
        chainrule.linalg.eigh(
            a, out=(chainrule.empty(0), chainrule.empty(0, dtype=chainrule.float64))
        )
    kept = chainrule.zeros(2)
    with pytest.raises(RuntimeError, match="dtype int, but got float"):
        chainrule.linalg.inv_ex(a, out=(chainrule.empty(0), kept))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        chainrule.linalg.inv(a.requires_grad_(), out=chainrule.empty(0))


def test_matrix_power_returns_a_new_tensor_and_keeps_the_zeroth_power_in_the_graph():
    """PyTorch's A^1 is a clone (CloneBackward0) and A^0 fresh, writable identities tied to A
    with a zero gradient (CopyBackwards); neither is A itself or a broadcast view of eye."""
    for lib in (chainrule, torch):
        A = lib.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
        first = lib.linalg.matrix_power(A, 1)
        with lib.no_grad():
            first.add_(10)
        assert A.tolist() == [[2.0, 1.0], [1.0, 3.0]] and first.grad_fn.name() == "CloneBackward0"
        zeroth = lib.linalg.matrix_power(A.expand(2, 2, 2), 0)
        assert zeroth.requires_grad and zeroth.is_contiguous()
        (zeroth * 3).sum().backward()
        assert A.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
        with lib.no_grad():
            zeroth[0, 0, 1] = 7.0
        assert zeroth.tolist() == [[[1.0, 7.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]
        assert not lib.linalg.matrix_power(A.detach(), 0).requires_grad


@pytest.mark.parametrize(
    "name, shapes",
    [
        ("addmm", [(3,), (2, 4), (4, 3)]),
        ("addmv", [(2,), (2, 4), (4,)]),
        ("addr", [(2, 1), (2,), (3,)]),
        ("baddbmm", [(1, 2, 3), (2, 2, 4), (2, 4, 3)]),
        ("addbmm", [(2, 3), (2, 2, 4), (2, 4, 3)]),
    ],
)
def test_the_addmm_family_with_beta_zero_ignores_input_but_gives_it_a_zero_gradient(name, shapes):
    """beta=0: input's values (nan too) are not read, yet it stays in the graph as in PyTorch,
    so input.grad is zeros rather than None, and a result whose only differentiable operand is
    input still requires grad."""
    rng = np.random.default_rng(0)
    arrays = [np.full(shapes[0], np.nan)] + [rng.standard_normal(s) for s in shapes[1:]]
    results = {}
    for lib in (chainrule, torch):
        input_, *operands = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = getattr(lib, name)(input_, *operands, beta=0, alpha=2.0)
        cotangent = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
        grads = lib.autograd.grad((out * cotangent).sum(), [input_, *operands])
        only_input = getattr(lib, name)(input_, *(o.detach() for o in operands), beta=0)
        results[lib.__name__] = [out.detach().numpy(), *(g.numpy() for g in grads)]
        assert only_input.requires_grad and out.grad_fn.name() == f"{name.capitalize()}Backward0"
    for ours, theirs in zip(results["chainrule"], results["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert not np.any(results["chainrule"][1])  # input's gradient: zeros of its shape


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda lib, a: lib.linalg.matrix_norm(a, ord=3), "Order 3 not supported"),
        (lambda lib, a: lib.linalg.norm(a, ord="bad"), "Order bad not supported"),
        (lambda lib, a: lib.linalg.cond(a, p=3), "invalid norm type: 3"),
        (lambda lib, a: lib.linalg.eigh(a, UPLO="X"), "Expected UPLO argument to be 'L' or 'U'"),
        (lambda lib, a: lib.linalg.qr(a, mode="bad"), "unrecognized mode 'bad'"),
        (lambda lib, a: lib.linalg.tensorinv(a, ind=0), "strictly positive integer for 'ind'"),
        (lambda lib, a: lib.linalg.vander(a[0], N=1), "N must be greater than 1"),
        (lambda lib, a: lib.vander(a[0], N=-1), "N must be non-negative"),
        (lambda lib, a: lib.cdist(a, a, p=-1.0), "cdist only supports non-negative p"),
        (
            lambda lib, a: lib.linalg.householder_product(a, a[0, :2].float()),
            "tau dtype .* does not match input dtype",
        ),
    ],
)
def test_invalid_arguments_are_torchs_runtime_error(call, message):
    """PyTorch reports these bad arguments as RuntimeError; chainrule's are RuntimeErrors too
    (and ValueErrors or TypeErrors), so `except RuntimeError` catches both."""
    for lib in (torch, chainrule):
        a = lib.eye(3, dtype=lib.float64) + 1
        with pytest.raises(RuntimeError, match=message):
            call(lib, a)


@pytest.mark.parametrize(
    "shapes, left, message",
    [
        (((3, 2), (1,), (3, 4)), True, r"tau.shape\[-1\] must be equal to min"),
        (((3, 3), (2,), (3, 2)), True, r"tau.shape\[-1\] must be equal to min"),
        (((3, 2), (2,), (3, 1)), False, r"other.shape\[-1\] must be equal to input.shape\[-2\]"),
        (((2, 3, 2), (2,), (2, 3, 4)), True, "one dimension less than input"),
        (((3, 2), (2,), (1, 3, 4)), True, "same number of dimensions as input"),
    ],
)
def test_ormqr_refuses_what_torch_refuses(shapes, left, message):
    """A tau with fewer scales than reflectors used was taken as zero reflectors (a wrong Q,
    silently); PyTorch refuses it, and mismatched dimensions, with a RuntimeError."""
    for lib in (chainrule, torch):
        a, tau, other = (lib.ones(*shape, dtype=lib.float64) for shape in shapes)
        with pytest.raises(RuntimeError, match=message):
            lib.ormqr(a, tau, other, left=left)
