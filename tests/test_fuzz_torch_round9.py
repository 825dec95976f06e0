"""Differential fuzzing against PyTorch, round nine: the numerical libraries and the layers
rounds one to eight touch only thinly. torch.linalg with gradients (batched, complex,
ill-conditioned, singular and non-contiguous matrices through the decompositions and
solvers, with gauge-invariant losses), torch.fft with gradients (every transform, n=, s=,
dim=, norm=, odd and even lengths), the recurrent and attention layers with their options
(weights copied from PyTorch's modules), mixed precision (autocast's dtype lists, half
tensors, GradScaler over inf gradients) and whole training loops (a random small model,
optimizer, scheduler and loss, stepped on the same numbers in both libraries). Each case runs
one random program on chainrule and on PyTorch and compares values, dtype, shape,
requires_grad and gradients, or the exception type when PyTorch raises (see `check_case`).
REGRESSIONS keeps each program this round found, fixed.

Seeded: a failure names its case (`pytest -k 'linalg-case_17'`), and
`python -m tests.test_fuzz_torch_round9 FAMILY START COUNT` runs more cases of a family than
the suite does."""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pytest
import torch

import chainrule
from tests.test_fuzz_torch import _refused_argument
from tests.test_fuzz_torch_families import (
    Outcome,
    _complex_half,
    _plain,
    family_cases,
)
from tests.test_fuzz_torch_round7 import _choice, _outcome

# float64 linear algebra goes through different LAPACK paths in the two libraries (PyTorch's
# batched kernels, NumPy's per-matrix ones), so results agree to rounding, not to the bit
LOOSE = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-4, "complex64": 1e-4,
         "float64": 1e-7, "complex128": 1e-7}  # fmt: skip


def _assert_close(case: str, ours, theirs, tolerance: dict) -> None:
    if isinstance(theirs, tuple) and theirs[:1] == ("tensor",):
        assert isinstance(ours, tuple) and ours[:1] == ("tensor",), f"{case}: {ours} vs tensor"
        _, dtype, shape, requires_grad, values = theirs
        assert ours[1:4] == (dtype, shape, requires_grad), (
            f"{case}: dtype, shape, requires_grad {ours[1:4]} vs {(dtype, shape, requires_grad)}"
        )
        bound = tolerance.get(dtype, 1e-9)
        np.testing.assert_allclose(
            ours[4], values, rtol=bound, atol=bound, equal_nan=True, err_msg=case
        )
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{case}: {ours} vs {theirs}"
        for mine, expected in zip(ours, theirs):
            _assert_close(case, mine, expected, tolerance)
    else:
        assert ours == theirs, f"{case}: {ours!r} vs {theirs!r}"


def check_case(case: str, program: Callable, tolerance: dict = LOOSE) -> None:
    """`check_program` to a tolerance fit for accumulated rounding, with PyTorch's
    LinAlgError answered by chainrule's (both RuntimeErrors, of the libraries' own classes)."""
    ours, theirs = Outcome(chainrule, program), Outcome(torch, program)
    if theirs.error is not None:
        if _refused_argument(theirs.error):
            return
        assert ours.error is not None, (
            f"{case}: PyTorch raised {type(theirs.error).__name__}: {theirs.error}; "
            f"chainrule returned {ours.value!r}"
        )
        expected = type(theirs.error)
        if issubclass(expected, torch.linalg.LinAlgError):
            expected = chainrule.linalg.LinAlgError
        assert isinstance(ours.error, expected), (
            f"{case}: chainrule raised {type(ours.error).__name__}: {ours.error}; "
            f"PyTorch {type(theirs.error).__name__}: {theirs.error}"
        )
        return
    if _complex_half(theirs.value):
        return
    if ours.error is not None:
        raise AssertionError(
            f"{case}: chainrule raised {type(ours.error).__name__}: {ours.error}; "
            f"PyTorch returned {theirs.value!r}"
        )
    _assert_close(case, _plain(_resolved(ours.value)), _plain(_resolved(theirs.value)), tolerance)


def _resolved(value):
    """Conjugate views made plain (NumPy cannot read PyTorch's conjugate bit)."""
    if isinstance(value, torch.Tensor):
        return value.resolve_conj()
    if isinstance(value, (list, tuple)):
        return tuple(_resolved(item) for item in value)
    return value


def run_case(families: dict, family: str, seed: int) -> None:
    draw, _ = families[family]
    label, program = draw(seed)
    if program is not None:
        check_case(f"{family} case_{seed}: {label}", program)


def _grads(lib, loss, leaves: list) -> tuple:
    """d loss / d leaves, None where a leaf is unused."""
    return tuple(lib.autograd.grad(loss, leaves, allow_unused=True))


# ---- family: linalg with gradients -------------------------------------------------------------
# A random matrix (batched or not, real or complex, well- or ill-conditioned, singular,
# sometimes read through its transpose so it is not contiguous) through one linalg function;
# the result, then the gradient of a loss that does not depend on the decomposition's gauge
# (signs and phases of singular and eigenvectors) with respect to every input.

LINALG_CALLS = ["inv", "solve", "solve_left_false", "det", "slogdet", "cholesky", "qr", "eigh",
                "eigvalsh", "svd", "svdvals", "lstsq", "pinv", "matrix_norm", "vector_norm",
                "matrix_exp", "lu_factor_solve", "solve_triangular", "cross", "multi_dot",
                "householder_product", "tensorsolve", "tensorinv", "lu", "matrix_power",
                "norm", "cond", "matrix_rank", "inv_ex", "cholesky_ex", "vecdot", "eigvals",
                "vander", "diagonal"]  # fmt: skip
INVERSES = ("inv", "solve", "solve_left_false", "lu_factor_solve", "tensorinv", "tensorsolve",
            "matrix_power", "inv_ex")  # fmt: skip
MATRIX_KINDS = ["well", "well", "well", "ill", "singular", "zero", "spd", "wide", "tall", "empty"]


def _matrix(rng, batch: tuple, rows: int, cols: int, kind: str, complex_: bool) -> np.ndarray:
    shape = batch + (rows, cols)
    values = rng.standard_normal(shape)
    if complex_:
        values = values + 1j * rng.standard_normal(shape)
    if kind == "well" and rows == cols:
        values = values + 3 * np.eye(rows)
    elif kind == "ill" and rows == cols and rows > 1:
        values[..., -1, :] = values[..., 0, :] + 1e-7 * values[..., -1, :]
    elif kind == "singular" and rows == cols and rows > 1:
        values[..., -1, :] = 2 * values[..., 0, :]
    elif kind in ("singular", "zero"):  # (every inverse refuses a zero matrix: LinAlgError)
        values = np.zeros(shape, dtype=values.dtype)
    elif kind == "spd" and rows == cols:
        values = values @ np.conj(np.swapaxes(values, -1, -2)) + rows * np.eye(rows)
    return values


def _real_loss(lib, *tensors):
    """A real scalar from results that may be complex, weighting entries unevenly so a wrong
    gradient cannot hide in a symmetric one."""
    total = 0
    for tensor in tensors:
        if tensor is None or not tensor.dtype.is_floating_point and not tensor.is_complex():
            continue
        weights = lib.arange(1, tensor.numel() + 1, dtype=lib.float64).reshape(tensor.shape)
        weights = weights.to(tensor.real.dtype if tensor.is_complex() else tensor.dtype) / 7
        total = (
            total + (lib.abs(tensor) * weights).sum()
            if tensor.is_complex()
            else (total + (tensor * weights).sum())
        )
    return total


def _draw_linalg(seed: int):
    rng = np.random.default_rng(seed)
    call = _choice(rng, LINALG_CALLS)
    batch = _choice(rng, [(), (), (2,), (2, 1), (1, 3)])
    n = int(rng.integers(1, 5))
    kind = _choice(rng, MATRIX_KINDS)
    rows, cols = {"wide": (n, n + 2), "tall": (n + 2, n), "empty": (0, 0)}.get(kind, (n, n))
    complex_ = bool(rng.random() < 0.25)
    dtype = _choice(rng, ["float64", "float64", "float32"])
    if complex_:
        dtype = "complex128" if dtype == "float64" else "complex64"
    transposed = bool(rng.random() < 0.3)
    a_values = _matrix(rng, batch, rows, cols, kind, complex_)
    if transposed:
        a_values = np.swapaxes(a_values, -1, -2).copy()
    b_batch = _choice(rng, [batch, (), (3,) + batch if len(batch) < 2 else batch])
    k = int(rng.integers(1, 4))
    b_values = rng.standard_normal(b_batch + (max(rows, cols), k))
    if complex_:
        b_values = b_values + 1j * rng.standard_normal(b_values.shape)
    vector_rhs = bool(rng.random() < 0.25)
    upper = bool(rng.random() < 0.5)
    unitriangular = bool(rng.random() < 0.3)
    left = bool(rng.random() < 0.7)
    mode = _choice(rng, ["reduced", "complete", "r"])
    uplo = _choice(rng, ["L", "U"])
    full = bool(rng.random() < 0.5)
    keepdim = bool(rng.random() < 0.5)
    matrix_ord = _choice(rng, ["fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")])
    vector_ord = _choice(rng, [2, 1, 0, 3, 0.5, -1, float("inf"), float("-inf")])
    norm_dtype = _choice(rng, [None, None, "float64", "complex128"])
    power = int(rng.integers(-2, 4))
    cond_p = _choice(rng, [None, "fro", 1, 2, -2])
    norm_dim = _choice(rng, [None, -1, (-2, -1), 0])
    vander_n = _choice(rng, [None, 1, 3])
    offset = _choice(rng, [0, 1, -1])
    gradients = bool(rng.random() < 0.8)
    if kind == "ill" and call in ("svd", "eigh", "pinv", "lstsq", "cond", "matrix_rank",
                                  "matrix_norm", "norm"):  # fmt: skip
        # (the gradient through nearly repeated or vanishing singular values is as large as
        # 1 / (s_i - s_j): a rounding difference in the inputs' LAPACK calls dominates it)
        gradients = False
    if kind == "ill" and call in INVERSES:
        gradients = False  # (an ill-conditioned inverse is its rounding: see cond)
    if kind in ("singular", "zero"):
        # (at a singular matrix the derivatives are kinks (|s| at s = 0) or hang on whether
        # rounding leaves an exact zero pivot: PyTorch's det gradient is det * A^-H, zero
        # when det rounds to 0 exactly, the cofactor matrix otherwise)
        gradients = False
    inverting = call in ("inv", "inv_ex", "solve", "solve_left_false", "lu_factor_solve",
                         "tensorinv", "tensorsolve", "matrix_power", "cond", "lu", "eigvals",
                         "slogdet")  # fmt: skip
    if kind in ("singular", "ill") and inverting and (dtype in ("float32", "complex64")
                                                     or kind == "singular"):  # fmt: skip
        # (whether an elimination meets an exact zero pivot, and so raises, or a rounding
        # error of 1e-16 and divides by it, differs between LAPACK builds; in float32 an
        # ill-conditioned inverse is all rounding)
        return "an inverse of a (nearly) singular matrix", None
    if kind == "zero" and call == "solve_triangular" and not unitriangular:
        return "a triangular solve dividing by zero", None  # (0/0 or x/0: inf or nan by BLAS)
    if kind == "ill" and dtype in ("float32", "complex64"):
        gradients = False  # (as large as the condition number times float32's epsilon)
    if call == "cond" and cond_p not in (None, 2, -2):
        # (PyTorch's cond with p in 1, inf, 'fro' writes into inv_ex's output in place, and
        # its backward then raises that a saved tensor was modified)
        gradients = False

    def program(lib):
        tensor_dtype = getattr(lib, dtype)
        a = lib.tensor(a_values, dtype=tensor_dtype, requires_grad=gradients)
        matrix = a.mT if transposed else a
        b = lib.tensor(b_values, dtype=tensor_dtype, requires_grad=gradients)
        rhs = b[..., : matrix.shape[-2], :]
        linalg = lib.linalg
        leaves = [a, b]
        if call == "inv":
            outputs = (linalg.inv(matrix),)
        elif call == "inv_ex":
            inverse, info = linalg.inv_ex(matrix)
            outputs = (inverse, info) if kind != "singular" else (info,)
        elif call == "solve":
            rhs = rhs[..., 0] if vector_rhs and not batch else rhs
            outputs = (linalg.solve(matrix, rhs),)
        elif call == "solve_left_false":
            rhs = b[..., : matrix.shape[-1]].mT[..., :k, :]
            outputs = (linalg.solve(matrix, rhs, left=False),)
        elif call == "det":
            outputs = (linalg.det(matrix),)
        elif call == "slogdet":
            sign, logabsdet = linalg.slogdet(matrix)
            outputs = (sign, logabsdet) if kind != "singular" else (sign,)
        elif call == "cholesky":
            outputs = (linalg.cholesky(matrix, upper=upper),)
        elif call == "cholesky_ex":
            factor, info = linalg.cholesky_ex(matrix, upper=upper)
            outputs = (info,) if kind != "spd" else (factor, info)
        elif call == "qr":
            q, r = linalg.qr(matrix, mode=mode)
            if mode == "r":
                outputs = (lib.abs(r),)
            elif mode == "complete" and matrix.shape[-2] > matrix.shape[-1]:
                outputs = (q @ r,)  # (the completed columns are a free basis)
            else:
                outputs = (q, r)
        elif call == "eigh":
            values, vectors = linalg.eigh(matrix @ matrix.mH, UPLO=uplo)
            degenerate = kind in ("tall", "singular")  # (repeated zero eigenvalues)
            outputs = (values,) if degenerate else (values, lib.abs(vectors) ** 2)
        elif call == "eigvalsh":
            outputs = (linalg.eigvalsh(matrix + matrix.mH, UPLO=uplo),)
        elif call == "eigvals":
            outputs = (lib.sort(lib.abs(linalg.eigvals(matrix)), dim=-1).values,)
            leaves = [a]
        elif call == "svd":
            u, s, vh = linalg.svd(matrix, full_matrices=full)
            outputs = (s, (u[..., : s.shape[-1]] * s.unsqueeze(-2)) @ vh[..., : s.shape[-1], :])
        elif call == "svdvals":
            outputs = (linalg.svdvals(matrix),)
        elif call == "lstsq":
            result = linalg.lstsq(matrix, rhs)
            outputs = (result.solution,) if kind != "singular" else ()
        elif call == "pinv":
            outputs = (linalg.pinv(matrix, hermitian=False),)
        elif call == "matrix_norm":
            outputs = (linalg.matrix_norm(matrix, ord=matrix_ord, keepdim=keepdim),)
        elif call == "norm":
            outputs = (linalg.norm(matrix, ord=matrix_ord, dim=(-2, -1), keepdim=keepdim),)
        elif call == "cond":
            outputs = (linalg.cond(matrix, p=cond_p),)
        elif call == "matrix_rank":
            outputs = (linalg.matrix_rank(matrix),)
        elif call == "vector_norm":
            dtype_arg = None if norm_dtype is None else getattr(lib, norm_dtype)
            outputs = (linalg.vector_norm(matrix, ord=vector_ord, dim=norm_dim, keepdim=keepdim,
                                          dtype=dtype_arg),)  # fmt: skip
        elif call == "matrix_exp":
            outputs = (linalg.matrix_exp(matrix / 3),)
        elif call == "lu_factor_solve":
            factors, pivots = linalg.lu_factor(matrix)
            outputs = (factors, pivots, linalg.lu_solve(factors, pivots, rhs))
        elif call == "lu":
            p, lower, upper_factor = linalg.lu(matrix)
            outputs = (p, lower, upper_factor)
        elif call == "solve_triangular":
            triangle = matrix.triu() if upper else matrix.tril()
            other = rhs if left else rhs.mT[..., : matrix.shape[-1]]
            outputs = (linalg.solve_triangular(triangle, other, upper=upper, left=left,
                                               unitriangular=unitriangular),)  # fmt: skip
        elif call == "cross":
            outputs = (linalg.cross(b[..., :3, :].mT, b[..., 1:4, :].mT if b.shape[-2] > 3
                                    else b[..., :3, :].mT.flip(-1)),)  # fmt: skip
            leaves = [b]
        elif call == "multi_dot":
            second = matrix.mT[..., :, :]
            if batch:
                outputs = (linalg.multi_dot([matrix, second]),)
            else:
                outputs = (linalg.multi_dot([matrix, second, b[: matrix.shape[-2]]]),)
        elif call == "householder_product":
            tau = b[..., 0, : min(matrix.shape[-2:])]
            outputs = (linalg.householder_product(matrix, tau),)
        elif call == "tensorsolve":
            square = matrix.reshape(matrix.shape[-2:]) if not batch else matrix[(0,) * len(batch)]
            outputs = (linalg.tensorsolve(square, rhs.reshape(-1, k)[: square.shape[0], 0]),)
        elif call == "tensorinv":
            square = matrix.reshape(matrix.shape[-2:]) if not batch else matrix
            outputs = (linalg.tensorinv(square, ind=1 if not batch else len(batch) + 1),)
        elif call == "matrix_power":
            outputs = (linalg.matrix_power(matrix, power),)
        elif call == "vecdot":
            outputs = (linalg.vecdot(matrix, rhs[..., : matrix.shape[-1]].mT[..., :1, :]
                                     if k else rhs, dim=-1),)  # fmt: skip
        elif call == "vander":
            outputs = (linalg.vander(matrix[..., 0], N=vander_n),)
        else:  # diagonal
            outputs = (linalg.diagonal(matrix, offset=offset),)
        used = [leaf for leaf in leaves if leaf.requires_grad]
        loss = _real_loss(lib, *outputs)
        if not used or not isinstance(loss, lib.Tensor) or not loss.requires_grad:
            return outputs
        return outputs, _grads(lib, loss, used)

    label = f"{call} {dtype} {batch} {rows}x{cols} {kind}{' mT' if transposed else ''}"
    return label, program


# ---- the tests -----------------------------------------------------------------------------------

FAMILIES = {
    "linalg": (_draw_linalg, 300),
}

REGRESSIONS: dict = {
    # a real slogdet's sign is piecewise constant: a loss of the sign alone gives A no
    # gradient (None), even at a singular A; chainrule gave zeros, and raised at a singular A
    "slogdet_sign_alone_gives_no_gradient": lambda lib: tuple(
        (lambda a: lib.autograd.grad(lib.linalg.slogdet(a).sign * 2, a, allow_unused=True))(
            lib.tensor(values, requires_grad=True)
        )
        for values in ([[2.0, 1.0], [1.0, 3.0]], [[1.0, 2.0], [2.0, 4.0]])
    ),
    # the largest column sum or singular value of an empty matrix is 0, a tensor outside the
    # graph (the smallest is amin's IndexError), and cond of an empty batch is zeros; chainrule
    # raised amax's IndexError
    "norms_of_empty_matrices": lambda lib: (
        tuple(
            _outcome(
                lambda shape=shape, order=order, keep=keep: lib.linalg.matrix_norm(
                    lib.zeros(shape, requires_grad=True), order, keepdim=keep
                )
            )
            for shape in ((0, 0), (3, 0), (0, 3), (2, 0, 4))
            for order in ("fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf"))
            for keep in (False, True)
        )
        + tuple(
            _outcome(lambda p=p: lib.linalg.cond(lib.zeros(2, 0, 0, dtype=lib.complex64), p))
            for p in (None, "fro", "nuc", 1, -2, float("inf"), 3)
        )
    ),
    # a stack of empty rows times a matrix: matmul's one-product path reshaped with -1, which
    # is ambiguous for empty rows (a ShapeError)
    "matmul_of_a_stack_of_empty_rows": lambda lib: tuple(
        (lambda x, y: (x @ y, lib.autograd.grad((x @ y).sum(), [x, y])))(
            lib.ones(xs, requires_grad=True), lib.ones(ys, requires_grad=True)
        )
        for xs, ys in (((2, 1, 0, 0), (0, 2)), ((2, 3, 0), (0, 4)), ((0, 3, 2), (2, 5)))
    ),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_a_program_this_round_found_agrees_with_pytorch(name):
    check_case(name, REGRESSIONS[name])


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_case(FAMILIES, family, seed)


def _main(argv: list[str]) -> None:
    family, start, count = argv[1], int(argv[2]), int(argv[3])
    failures = 0
    for seed in range(start, start + count):
        try:
            run_case(FAMILIES, family, seed)
        except AssertionError as error:
            failures += 1
            print(f"case_{seed}: {str(error)[:600]}\n")
    print(f"{failures} of {count} cases differ")


if __name__ == "__main__":
    _main(sys.argv)
