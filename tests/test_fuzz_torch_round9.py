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

import math
import sys
from collections.abc import Callable

import numpy as np
import pytest
import torch

import chainrule
from tests.test_fuzz_torch import _refused_argument
from tests.test_fuzz_torch_families import (
    Outcome,
    _assert_same,
    _complex_half,
    _plain,
    family_cases,
)
from tests.test_fuzz_torch_round7 import _choice, _outcome

# float64 linear algebra goes through different LAPACK paths in the two libraries (PyTorch's
# batched kernels, NumPy's per-matrix ones), so results agree to rounding, not to the bit
LOOSE = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-4, "complex64": 1e-4,
         "float64": 1e-7, "complex128": 1e-7}  # fmt: skip


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
    _assert_same(case, _plain(_resolved(ours.value)), _plain(_resolved(theirs.value)), tolerance)


def _resolved(value):
    """Conjugate views made plain (NumPy cannot read PyTorch's conjugate bit)."""
    if isinstance(value, torch.Tensor):
        return value.resolve_conj()
    if isinstance(value, (list, tuple)):
        return tuple(_resolved(item) for item in value)
    return value


def run_case(families: dict, family: str, seed: int) -> None:
    draw, _ = families[family]
    label, program, *tolerance = draw(seed)
    if program is not None:
        check_case(f"{family} case_{seed}: {label}", program, *tolerance)


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


# ---- family: fft with gradients ----------------------------------------------------------------
# A random real or complex signal (1-3 dims, odd and even lengths, sometimes non-contiguous)
# through one transform with random n= or s=, dim= and norm=, then fftshift/ifftshift or a
# frequency grid; the result, and the gradient of a weighted sum of |result| or its real part.

FFT_CALLS = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
             "fftn", "ifftn", "rfftn", "irfftn", "hfft2", "ihfft2", "hfftn", "ihfftn"]  # fmt: skip
ONE_DIM = {"fft", "ifft", "rfft", "irfft", "hfft", "ihfft"}


def _draw_fft(seed: int):
    rng = np.random.default_rng(seed)
    call = _choice(rng, FFT_CALLS)
    ndim = int(rng.integers(1, 4))
    shape = tuple(int(size) for size in rng.integers(1, 6, size=ndim))
    real_only = call.startswith(("rfft", "ihfft"))  # (a complex input is their RuntimeError)
    complex_input = bool(rng.random() < (0.05 if real_only else 0.5))
    dtype = _choice(rng, ["float64", "float64", "float32"])
    if complex_input:
        dtype = {"float64": "complex128", "float32": "complex64"}[dtype]
    values = rng.standard_normal(shape)
    if complex_input:
        values = values + 1j * rng.standard_normal(shape)
    transposed = ndim > 1 and bool(rng.random() < 0.3)
    norm = _choice(rng, [None, "backward", "ortho", "forward"])
    dim_draw = _choice(
        rng,
        ["default", "default", "last", "first", "pair", "neg", "neg"]
        + ["bad"] * (rng.random() < 0.3),
    )
    length = _choice(rng, [None, None, 1, 2, 3, 4, 7, 8, 0])
    sizes = _choice(
        rng, [None, None, "same", "grow", "shrink", "shrink"] + ["bad"] * (rng.random() < 0.3)
    )
    after = _choice(rng, ["none", "none", "fftshift", "ifftshift", "fftfreq", "rfftfreq"])
    shift_dim = _choice(rng, [None, -1, 0, (0, -1)])
    spacing = _choice(rng, [1.0, 0.5, 2.0])
    gradients = bool(rng.random() < 0.8)

    def program(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=gradients)
        signal = x.mT if transposed else x
        function = getattr(lib.fft, call)
        options = {} if norm is None else {"norm": norm}
        if call in ONE_DIM:
            if length is not None:
                options["n"] = length
            if dim_draw == "first":
                options["dim"] = 0
            elif dim_draw == "bad":
                options["dim"] = signal.ndim
        else:
            dims = {"default": None, "last": (-1,), "first": (0,), "pair": (0, -1),
                    "neg": (-2, -1) if signal.ndim > 1 else (-1,),
                    "bad": (0, 0)}[dim_draw]  # fmt: skip
            if call.endswith("2") and dims is None and signal.ndim < 2:
                dims = (-1,)
            if dims is not None:
                options["dim"] = dims
            if sizes is not None:
                count = len(dims) if dims is not None else (2 if call.endswith("2") else
                                                            signal.ndim)  # fmt: skip
                grid = signal.shape[-count:] if count <= signal.ndim else (2,) * count
                options["s"] = {"same": tuple(grid), "grow": tuple(size + 1 for size in grid),
                                "shrink": tuple(max(size - 1, 1) for size in grid),
                                "bad": (0,) * count}[sizes]  # fmt: skip
        out = function(signal, **options)
        outputs = [out]
        if after == "fftshift":
            outputs.append(lib.fft.fftshift(out, dim=shift_dim if out.ndim > 1 else None))
        elif after == "ifftshift":
            outputs.append(lib.fft.ifftshift(out, dim=shift_dim if out.ndim > 1 else None))
        elif after == "fftfreq":
            outputs.append(lib.fft.fftfreq(out.shape[-1], d=spacing))
        elif after == "rfftfreq":
            outputs.append(lib.fft.rfftfreq(out.shape[-1], d=spacing, dtype=lib.float64))
        if not gradients:
            return tuple(outputs)
        loss = _real_loss(lib, *[item for item in outputs if item.requires_grad])
        return tuple(outputs), _grads(lib, loss, [x])

    label = f"{call} {dtype} {shape}{' mT' * transposed} norm={norm} {dim_draw} {length} {sizes}"
    return label, program


# ---- family: recurrent layers ------------------------------------------------------------------
# nn.RNN/LSTM/GRU (random layers, directions, batch_first, bias, nonlinearity, proj_size) or
# a *Cell, with PyTorch's initial weights copied into chainrule's module, over a padded,
# packed or unbatched float64 input, with given or zero initial states: the outputs, the
# final states and the gradients of the input, the states and every parameter.


def _torch_weights(make) -> dict:
    """The float64 state dict PyTorch's constructor draws for a fixed seed, as NumPy arrays."""
    torch.manual_seed(0)
    module = make(torch).double()
    return {name: value.detach().numpy().copy() for name, value in module.state_dict().items()}


def _with_weights(lib, make, weights: dict):
    module = make(lib).double()
    module.load_state_dict({name: lib.tensor(value) for name, value in weights.items()})
    return module


def _parameter_grads(lib, loss, module, extra: list) -> tuple:
    leaves = [parameter for _, parameter in module.named_parameters()] + extra
    names = tuple(name for name, _ in module.named_parameters())
    return names, _grads(lib, loss, leaves)


def _draw_recurrent(seed: int):
    rng = np.random.default_rng(seed)
    kind = _choice(rng, ["RNN", "LSTM", "GRU", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell",
                         "GRUCell"])  # fmt: skip
    features, hidden = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    options: dict = {"bias": bool(rng.random() < 0.8)}
    cell = kind.endswith("Cell")
    if kind.startswith("RNN") and rng.random() < 0.4:
        options["nonlinearity"] = "relu"
    if not cell:
        options["num_layers"] = int(rng.integers(1, 4))
        options["bidirectional"] = bool(rng.random() < 0.5)
        options["batch_first"] = bool(rng.random() < 0.5)
        options["dropout"] = 0.0
        if kind == "LSTM" and hidden > 1 and rng.random() < 0.4:
            options["proj_size"] = int(rng.integers(1, hidden))
    layout = _choice(rng, ["padded", "padded", "packed", "unbatched"])
    batch, steps = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    lengths = sorted(rng.integers(1, steps + 1, size=batch).tolist(), reverse=True)
    if rng.random() < 0.5:
        rng.shuffle(lengths)
    enforce_sorted = lengths == sorted(lengths, reverse=True) and bool(rng.random() < 0.5)
    given_state = bool(rng.random() < 0.5)
    values = rng.standard_normal((steps, batch, features))
    directions = 2 if options.get("bidirectional") else 1
    layers = options.get("num_layers", 1)
    out_hidden = options.get("proj_size", 0) or hidden
    h0 = rng.standard_normal((layers * directions, batch, out_hidden))
    c0 = rng.standard_normal((layers * directions, batch, hidden))

    def make(lib):
        return getattr(lib.nn, kind)(features, hidden, **options)

    weights = _torch_weights(make)

    def program(lib):
        module = _with_weights(lib, make, weights)
        x = lib.tensor(values, requires_grad=True)
        h = lib.tensor(h0, requires_grad=True)
        c = lib.tensor(c0, requires_grad=True)
        if cell:
            inputs = x[0] if layout != "unbatched" else x[0, 0]
            state_h, state_c = (h[0], c[0]) if layout != "unbatched" else (h[0, 0], c[0, 0])
            state = (
                None if not given_state else ((state_h, state_c) if kind == "LSTMCell" else state_h)
            )
            out = module(inputs, state)
            outputs = tuple(out) if kind == "LSTMCell" else (out,)
        else:
            inputs = x.transpose(0, 1) if options["batch_first"] else x
            state_h, state_c = h, c
            if layout == "unbatched":
                inputs, state_h, state_c = x[:, 0], h[:, 0], c[:, 0]
            state = None if not given_state else ((state_h, state_c) if kind == "LSTM" else state_h)
            if layout == "packed":
                inputs = lib.nn.utils.rnn.pack_padded_sequence(
                    inputs, lengths, batch_first=options["batch_first"],
                    enforce_sorted=enforce_sorted,
                )  # fmt: skip
            out, final = module(inputs, state)
            if layout == "packed":
                out, out_lengths = lib.nn.utils.rnn.pad_packed_sequence(
                    out, batch_first=options["batch_first"]
                )
                outputs = (out, out_lengths)
            else:
                outputs = (out,)
            outputs += tuple(final) if kind == "LSTM" else (final,)
        loss = _real_loss(lib, *outputs)
        return outputs, _parameter_grads(lib, loss, module, [x, h, c])

    return f"{kind} {options} {layout} given={given_state}", program


# ---- family: attention -------------------------------------------------------------------------
# nn.MultiheadAttention (kdim/vdim, add_bias_kv, add_zero_attn, bool or float key padding and
# attention masks, 2-D or 3-D, need_weights, average_attn_weights, batch_first, unbatched),
# nn.TransformerEncoderLayer/DecoderLayer (norm_first, activation, masks, is_causal) and
# F.scaled_dot_product_attention (scale=, enable_gqa=, is_causal, bool and float masks), with
# PyTorch's weights: the outputs, attention weights and gradients.


def _mask(rng, shape: tuple, kind: str) -> np.ndarray | None:
    if kind == "none":
        return None
    keep = rng.random(shape) < 0.7
    keep[..., 0] = True  # (a fully masked row is nan in both, by different routes)
    if kind == "bool":
        return ~keep
    return np.where(keep, rng.standard_normal(shape) * 0.5, -np.inf)


def _lib_mask(lib, mask):
    if mask is None:
        return None
    return lib.tensor(mask)


def _draw_attention(seed: int):
    rng = np.random.default_rng(seed)
    kind = _choice(rng, ["mha", "mha", "encoder", "decoder", "sdpa", "sdpa"])
    heads = _choice(rng, [1, 2])
    embed = heads * int(rng.integers(1, 4))
    batch, target, source = (
        int(rng.integers(1, 3)),
        int(rng.integers(1, 4)),
        int(rng.integers(1, 4)),
    )
    unbatched = bool(rng.random() < 0.2)
    batch_first = bool(rng.random() < 0.5)
    mask_kind = _choice(rng, ["none", "bool", "float"])
    padding_kind = _choice(rng, ["none", "bool", "float"])
    if mask_kind != "none" and padding_kind != "none" and mask_kind != padding_kind:
        padding_kind = mask_kind  # (mixed mask types: PyTorch warns and converts; not fuzzed)
    three_d = bool(rng.random() < 0.3) and not unbatched
    need_weights = bool(rng.random() < 0.6)
    average = bool(rng.random() < 0.5)
    options: dict = {}
    if kind == "mha":
        if rng.random() < 0.4:
            options["kdim"], options["vdim"] = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        options["bias"] = bool(rng.random() < 0.8)
        options["add_bias_kv"] = bool(rng.random() < 0.3)
        options["add_zero_attn"] = bool(rng.random() < 0.3)
        options["batch_first"] = batch_first
    elif kind in ("encoder", "decoder"):
        options = {"dim_feedforward": int(rng.integers(1, 6)), "dropout": 0.0,
                   "activation": _choice(rng, ["relu", "gelu"]), "batch_first": batch_first,
                   "norm_first": bool(rng.random() < 0.5), "bias": bool(rng.random() < 0.8),
                   "layer_norm_eps": _choice(rng, [1e-5, 1e-3])}  # fmt: skip
    kdim, vdim = options.get("kdim", embed), options.get("vdim", embed)
    query = rng.standard_normal((target, batch, embed))
    key = rng.standard_normal((source, batch, kdim))
    value = rng.standard_normal((source, batch, vdim))
    attn_shape = (batch * heads, target, source) if three_d else (target, source)
    attn_mask = _mask(rng, attn_shape, mask_kind)
    padding = _mask(rng, (batch, source) if not unbatched else (source,), padding_kind)
    self_mask = _mask(rng, (target, target), mask_kind)
    memory_mask = _mask(rng, (target, target), mask_kind)
    self_padding = _mask(rng, (batch, target) if not unbatched else (target,), padding_kind)
    is_causal = kind == "sdpa" and attn_mask is None and bool(rng.random() < 0.3)
    scale = _choice(rng, [None, None, 0.5, 2.0])
    gqa = kind == "sdpa" and bool(rng.random() < 0.3)
    sdpa_heads, kv_heads = (4, 2) if gqa else (heads, heads)
    sdpa_q = rng.standard_normal((batch, sdpa_heads, target, embed))
    sdpa_k = rng.standard_normal((batch, kv_heads, source, embed))
    sdpa_v = rng.standard_normal((batch, kv_heads, source, vdim))
    sdpa_mask = _mask(rng, (target, source), mask_kind)

    def make(lib):
        if kind == "mha":
            return lib.nn.MultiheadAttention(embed, heads, **options)
        if kind == "encoder":
            return lib.nn.TransformerEncoderLayer(embed, heads, **options)
        return lib.nn.TransformerDecoderLayer(embed, heads, **options)

    weights = _torch_weights(make) if kind != "sdpa" else None

    def program(lib):
        if kind == "sdpa":
            q, k, v = (lib.tensor(array, requires_grad=True) for array in (sdpa_q, sdpa_k, sdpa_v))
            extra = {"enable_gqa": True} if gqa else {}
            out = lib.nn.functional.scaled_dot_product_attention(
                q, k, v, attn_mask=_lib_mask(lib, sdpa_mask), is_causal=is_causal, scale=scale,
                **extra,
            )  # fmt: skip
            return out, _grads(lib, _real_loss(lib, out), [q, k, v])
        module = _with_weights(lib, make, weights)
        module.train()  # (the eval fast path is PyTorch's fused kernel: its own rounding)
        q, k, v = (lib.tensor(array, requires_grad=True) for array in (query, key, value))
        if unbatched:
            q, k, v = q[:, 0], k[:, 0], v[:, 0]
        elif batch_first:
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        mask, pad = _lib_mask(lib, attn_mask), _lib_mask(lib, padding)
        if kind == "mha":
            out, attention = module(q, k, v, key_padding_mask=pad, attn_mask=mask,
                                    need_weights=need_weights,
                                    average_attn_weights=average)  # fmt: skip
            outputs = (out, attention)
        elif kind == "encoder":
            outputs = (module(q, src_mask=_lib_mask(lib, self_mask),
                              src_key_padding_mask=_lib_mask(lib, self_padding)),)  # fmt: skip
        else:
            outputs = (module(q, q * 0.5 + 1, tgt_mask=_lib_mask(lib, self_mask),
                              memory_mask=_lib_mask(lib, memory_mask),
                              tgt_key_padding_mask=_lib_mask(lib, self_padding),
                              memory_key_padding_mask=_lib_mask(lib, self_padding)),)  # fmt: skip
        loss = _real_loss(lib, *outputs)
        return outputs, _parameter_grads(lib, loss, module, [q, k, v])

    return f"{kind} heads={heads} {options} masks={mask_kind}/{padding_kind} 3d={three_d}", program


# ---- family: mixed precision -------------------------------------------------------------------
# A chain of two to four ops on float32, float16 or bfloat16 tensors, under
# autocast("cpu", dtype=bfloat16 or float16) or not: every intermediate's dtype (which ops
# autocast lowers, which it keeps in float32, which follow their inputs), the values (drawn
# from small dyadic numbers, so that products and sums are exact in bfloat16 and rounding
# order cannot matter) and the leaves' gradients after a backward outside autocast. Or a few
# GradScaler steps with inf or nan gradients on some.

AMP_OPS = ["matmul", "mm", "linear", "bmm", "addmm", "conv1d", "softmax", "log_softmax", "exp",
           "sum", "mean", "layer_norm", "mse_loss", "add", "mul", "relu", "gelu", "sigmoid",
           "cross_entropy", "prod", "cumsum", "norm", "baddbmm", "pow", "tanh", "sqrt",
           "cat", "stack", "where", "to_float", "einsum", "tensordot",
           "binary_cross_entropy_with_logits", "l1_loss", "smooth_l1_loss", "group_norm",
           "batch_norm", "dropout0"]  # fmt: skip
DYADIC = [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0]


def _amp_step(lib, name: str, x, w):
    """One op of the chain on x (n, n) (w (n, n) a second operand of its own dtype)."""
    functional = lib.nn.functional
    n = x.shape[-1]
    if name == "matmul":
        return x @ w
    if name == "mm":
        return lib.mm(x, w)
    if name == "linear":
        return functional.linear(x, w, w[0])
    if name == "bmm":
        return lib.bmm(x.unsqueeze(0), w.unsqueeze(0))[0]
    if name == "baddbmm":
        return lib.baddbmm(x.unsqueeze(0), x.unsqueeze(0), w.unsqueeze(0))[0]
    if name == "addmm":
        return lib.addmm(x, x, w)
    if name == "conv1d":
        return functional.conv1d(x.unsqueeze(0), w.unsqueeze(-1))[0]
    if name == "softmax":
        return x.softmax(-1)
    if name == "log_softmax":
        return functional.log_softmax(x, -1)
    if name in ("exp", "relu", "sigmoid", "tanh", "cumsum"):
        return getattr(lib, name)(x) if name != "cumsum" else lib.cumsum(x, 0)
    if name == "gelu":
        return functional.gelu(x)
    if name == "sqrt":
        return (x * x).sqrt()
    if name == "sum":
        return x.sum(0, keepdim=True).expand(n, n)
    if name == "mean":
        return x.mean(-1, keepdim=True) + x
    if name == "prod":
        return x.prod(0, keepdim=True) + x
    if name == "norm":
        return lib.linalg.vector_norm(x, dim=-1, keepdim=True) + x
    if name == "layer_norm":
        return functional.layer_norm(x, (n,), w[0], w[1 % n])
    if name == "group_norm":
        return functional.group_norm(x, 1)
    if name == "batch_norm":
        return functional.batch_norm(x, None, None, training=True)
    if name == "mse_loss":
        return functional.mse_loss(x, w, reduction="none")
    if name == "l1_loss":
        return functional.l1_loss(x, w, reduction="none")
    if name == "smooth_l1_loss":
        return functional.smooth_l1_loss(x, w, reduction="none")
    if name == "binary_cross_entropy_with_logits":
        return functional.binary_cross_entropy_with_logits(x, w.sigmoid(), reduction="none")
    if name == "cross_entropy":
        return functional.cross_entropy(x, w.softmax(-1), reduction="none").unsqueeze(-1) + x
    if name == "add":
        return x + w
    if name == "mul":
        return x * w
    if name == "pow":
        return x**2
    if name == "cat":
        return lib.cat([x, w], 0)[:n]
    if name == "stack":
        return lib.stack([x, w])[1] + x
    if name == "where":
        return lib.where(x > 0, x, w)
    if name == "tensordot":
        return lib.tensordot(x, w, dims=1)
    if name == "to_float":
        return x.float()
    if name == "einsum":
        # (PyTorch's einsum of mixed dtypes multiplies 1 x 1 operands, promoting, and refuses
        # larger ones: w takes x's dtype)
        return lib.einsum("ij,jk->ik", x, w.to(x.dtype))
    return functional.dropout(x, 0.0)


def _draw_amp(seed: int):
    rng = np.random.default_rng(seed)
    if rng.random() < 0.25:
        return _draw_grad_scaler(rng)
    n = int(rng.integers(1, 4))
    steps = [_choice(rng, AMP_OPS) for _ in range(int(rng.integers(2, 5)))]
    input_dtype = _choice(rng, ["float32", "float32", "bfloat16", "float16", "float64"])
    weight_dtype = _choice(rng, ["float32", "float32", input_dtype, "bfloat16"])
    autocast_dtype = _choice(rng, ["bfloat16", "bfloat16", "float16", None])
    x_values = rng.choice(DYADIC, size=(n, n))
    w_values = rng.choice(DYADIC, size=(n, n))
    if n == 1 and "einsum" in steps:
        # (PyTorch's einsum multiplies 1 x 1 operands elementwise, which autocast does not
        # list, and larger ones with bmm, which it lowers: its dtype hangs on the size)
        return "einsum of 1 x 1 matrices under autocast", None

    def program(lib):
        x = lib.tensor(x_values, dtype=getattr(lib, input_dtype), requires_grad=True)
        w = lib.tensor(w_values, dtype=getattr(lib, weight_dtype), requires_grad=True)
        trace = []
        with lib.autocast("cpu", dtype=getattr(lib, autocast_dtype or "bfloat16"),
                          enabled=autocast_dtype is not None):  # fmt: skip
            y = x
            for name in steps:
                y = _amp_step(lib, name, y, w)
                trace.append(str(y.dtype).rsplit(".", 1)[-1])
        loss = (y.float() * lib.arange(1.0, y.numel() + 1).reshape(y.shape) / 16).sum()
        return tuple(trace), y, _grads(lib, loss, [x, w])

    # (bfloat16 rounding of an intermediate reaches the float32 results and gradients after
    # it, and a normalization of a nearly constant row amplifies float32's)
    halves = autocast_dtype is not None or "16" in input_dtype + weight_dtype
    normalizing = any(name.endswith("_norm") for name in steps)
    rounding = (0.15 if normalizing else 5e-2) if halves else 2e-3
    tolerance = {"float16": rounding, "bfloat16": rounding, "float32": rounding,
                 "float64": rounding if halves else 1e-7}  # fmt: skip
    return f"{steps} {input_dtype}/{weight_dtype} autocast={autocast_dtype}", program, tolerance


def _draw_grad_scaler(rng):
    steps = int(rng.integers(2, 7))
    bad_steps = {int(step): _choice(rng, [np.inf, -np.inf, np.nan])
                 for step in rng.integers(0, steps, size=int(rng.integers(0, 3)))}  # fmt: skip
    options = {"init_scale": _choice(rng, [2.0**16, 8.0, 1.0]),
               "growth_factor": _choice(rng, [2.0, 3.0]),
               "backoff_factor": _choice(rng, [0.5, 0.25]),
               "growth_interval": int(rng.integers(1, 4))}  # fmt: skip
    optimizer_name = _choice(rng, ["SGD", "Adam"])
    unscale_first = bool(rng.random() < 0.5)
    clip = bool(rng.random() < 0.4)
    data = rng.choice(DYADIC, size=(steps, 3))

    def program(lib):
        weight = lib.nn.Parameter(lib.tensor([0.5, -1.0, 2.0]))
        optimizer = getattr(lib.optim, optimizer_name)([weight], lr=0.25)
        scaler = lib.amp.GradScaler("cpu", **options)
        record = []
        for step in range(steps):
            optimizer.zero_grad()
            row = data[step].copy()
            if step in bad_steps:
                row[1] = bad_steps[step]
            with lib.autocast("cpu", dtype=lib.bfloat16):
                loss = (lib.tensor(row, dtype=lib.float32) * weight).sum() ** 2 / 4
            scaler.scale(loss).backward()
            if unscale_first:
                scaler.unscale_(optimizer)
                if clip:
                    lib.nn.utils.clip_grad_norm_([weight], 1.0)
            scaler.step(optimizer)
            scaler.update()
            record.append((weight.detach().clone(), scaler.get_scale(), scaler._get_growth_tracker()
                           if hasattr(scaler, "_get_growth_tracker") else None))  # fmt: skip
        return tuple(record), scaler.state_dict()["scale"]

    return f"GradScaler {options} {optimizer_name} bad={bad_steps}", program


# ---- family: training loops --------------------------------------------------------------------
# A random small model (Linear or Conv1d stacks with norms, Dropout(p=0) and activations, in
# float64, PyTorch's initial weights copied), a random optimizer, scheduler and loss, trained
# 5-8 steps on the same batches: gradient accumulation over micro-batches, gradient clipping,
# zero_grad(set_to_none=), and a state_dict round trip of model, optimizer and scheduler into
# fresh objects mid-run. Every step's loss, learning rate and parameters, then the model's
# output in eval mode.

TRAIN_OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax"]
TRAIN_SCHEDULERS = [None, "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                    "MultiStepLR", "OneCycleLR", "ReduceLROnPlateau"]  # fmt: skip
TRAIN_LOSSES = ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss",
                "BCEWithLogitsLoss", "NLLLoss"]  # fmt: skip
ACTIVATIONS = ["ReLU", "Tanh", "GELU", "SiLU", "LeakyReLU", "ELU", "Sigmoid", "Softplus"]


def _train_layers(rng, conv: bool, features: int, outputs: int) -> list:
    """The model as (class name, args, kwargs) rows, built alike in both libraries."""
    hidden = int(rng.integers(2, 6))
    activation = (_choice(rng, ACTIVATIONS), (), {})
    if conv:
        channels = int(rng.integers(1, 4))
        kernel = int(rng.integers(1, 4))
        # (a bias before a BatchNorm has a gradient of exactly 0, which rounding makes 1e-17
        # of either sign, and Adagrad's or Adam's first step divides by its size: no bias)
        batch_norm = bool(rng.random() < 0.5)
        bias = bool(rng.random() < 0.8) and not batch_norm
        padding = int(rng.integers(0, 2))
        rows = [("Conv1d", (features, channels, kernel), {"padding": padding, "bias": bias})]
        if batch_norm:
            rows.append(("BatchNorm1d", (channels,), {"momentum": _choice(rng, [0.1, 0.5])}))
        rows += [activation, ("Flatten", (), {}), ("LazyLinear", (outputs,), {})]
        return rows
    bias = bool(rng.random() < 0.8)
    norm = _choice(rng, [None, "LayerNorm", "BatchNorm1d"])
    rows = [("Linear", (features, hidden), {"bias": bias and norm != "BatchNorm1d"})]
    if norm is not None:
        rows.append((norm, (hidden,), {}))
    rows += [activation, ("Dropout", (0.0,), {})]
    if rng.random() < 0.4:
        rows += [("Linear", (hidden, hidden), {}), (_choice(rng, ACTIVATIONS), (), {})]
    rows.append(("Linear", (hidden, outputs), {}))
    return rows


def _build(lib, rows: list, sample):
    model = lib.nn.Sequential(
        *[getattr(lib.nn, name)(*args, **kwargs) for name, args, kwargs in rows]
    )
    model = model.double()
    model(sample)  # (materializes LazyLinear)
    return model


def _train_optimizer(lib, name: str, parameters, options: dict):
    return getattr(lib.optim, name)(parameters, **options)


def _train_scheduler(lib, name, optimizer, steps: int):
    schedulers = lib.optim.lr_scheduler
    if name is None:
        return None
    if name == "StepLR":
        return schedulers.StepLR(optimizer, step_size=2, gamma=0.5)
    if name == "ExponentialLR":
        return schedulers.ExponentialLR(optimizer, gamma=0.8)
    if name == "CosineAnnealingLR":
        return schedulers.CosineAnnealingLR(optimizer, T_max=4, eta_min=0.001)
    if name == "LinearLR":
        return schedulers.LinearLR(optimizer, start_factor=0.5, total_iters=3)
    if name == "MultiStepLR":
        return schedulers.MultiStepLR(optimizer, milestones=[1, 3], gamma=0.3)
    if name == "OneCycleLR":
        return schedulers.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps + 1)
    return schedulers.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)


def _draw_training(seed: int):
    rng = np.random.default_rng(seed)
    conv = bool(rng.random() < 0.3)
    features, classes = int(rng.integers(1, 4)), int(rng.integers(2, 4))
    loss_name = _choice(rng, TRAIN_LOSSES)
    outputs = classes if loss_name in ("CrossEntropyLoss", "NLLLoss") else int(rng.integers(1, 3))
    rows = _train_layers(rng, conv, features, outputs)
    optimizer_name = _choice(rng, TRAIN_OPTIMIZERS)
    options: dict = {"lr": _choice(rng, [0.1, 0.05, 0.01])}
    if optimizer_name == "SGD" and rng.random() < 0.6:
        options["momentum"] = 0.9
        options["nesterov"] = bool(rng.random() < 0.5)
    if rng.random() < 0.4:
        options["weight_decay"] = 0.01
    scheduler_name = _choice(rng, TRAIN_SCHEDULERS)
    if scheduler_name == "OneCycleLR" and optimizer_name in ("Adagrad", "RMSprop"):
        scheduler_name = "StepLR"  # (OneCycleLR cycles a momentum these have not)
    steps = int(rng.integers(5, 7))
    micro = int(rng.integers(1, 3))
    batch = int(rng.integers(2, 5))
    length = int(rng.integers(3, 6))
    shape = (batch, features, length) if conv else (batch, features)
    inputs = rng.standard_normal((steps, micro) + shape)
    if loss_name in ("CrossEntropyLoss", "NLLLoss"):
        targets = rng.integers(0, classes, size=(steps, micro, batch))
    elif loss_name == "BCEWithLogitsLoss":
        targets = rng.random((steps, micro, batch, outputs))
    else:
        targets = rng.standard_normal((steps, micro, batch, outputs))
    clip = _choice(rng, [None, None, "norm", "value"])
    set_to_none = bool(rng.random() < 0.5)
    reload_at = int(rng.integers(1, steps)) if rng.random() < 0.5 else None
    torch.manual_seed(seed)
    initial = _build(torch, rows, torch.tensor(inputs[0, 0])).state_dict()
    weights = {name: value.detach().numpy().copy() for name, value in initial.items()}

    def program(lib):
        model = _build(lib, rows, lib.tensor(inputs[0, 0]))
        model.load_state_dict({name: lib.tensor(value) for name, value in weights.items()})
        criterion = getattr(lib.nn, loss_name)()
        optimizer = _train_optimizer(lib, optimizer_name, model.parameters(), options)
        scheduler = _train_scheduler(lib, scheduler_name, optimizer, steps)
        record = []
        for step in range(steps):
            optimizer.zero_grad(set_to_none=set_to_none)
            total = 0.0
            for part in range(micro):
                out = model(lib.tensor(inputs[step, part]))
                if loss_name == "NLLLoss":
                    out = lib.log_softmax(out, -1)
                target = lib.tensor(targets[step, part])
                loss = criterion(out, target) / micro
                loss.backward()
                total += loss.item()
            if clip == "norm":
                record.append(lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5))
            elif clip == "value":
                lib.nn.utils.clip_grad_value_(model.parameters(), 0.1)
            optimizer.step()
            if scheduler_name == "ReduceLROnPlateau":
                scheduler.step(total)
            elif scheduler is not None:
                scheduler.step()
            rates = lib.tensor([total, optimizer.param_groups[0]["lr"]], dtype=lib.float64)
            record.append((rates, tuple(p.detach().clone() for p in model.parameters())))
            if step == reload_at:
                saved = (model.state_dict(), optimizer.state_dict(),
                         scheduler.state_dict() if scheduler is not None else None)  # fmt: skip
                model = _build(lib, rows, lib.tensor(inputs[0, 0]))
                model.load_state_dict(saved[0])
                optimizer = _train_optimizer(lib, optimizer_name, model.parameters(), options)
                optimizer.load_state_dict(saved[1])
                scheduler = _train_scheduler(lib, scheduler_name, optimizer, steps)
                if scheduler is not None:
                    scheduler.load_state_dict(saved[2])
        model.eval()
        return tuple(record), model(lib.tensor(inputs[0, 0]))

    label = f"{[row[0] for row in rows]} {optimizer_name} {options} {scheduler_name} {loss_name}"
    return label, program


# ---- the tests -----------------------------------------------------------------------------------

FAMILIES = {
    "linalg": (_draw_linalg, 250),
    "fft": (_draw_fft, 200),
    "recurrent": (_draw_recurrent, 80),
    "attention": (_draw_attention, 40),
    "amp": (_draw_amp, 160),
    "training": (_draw_training, 12),
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
    # group_norm refuses groups of a single value (ValueError, before it checks that the
    # groups divide the channels), and normalizes an empty batch; chainrule normalized the
    # single value to 0, and reshaped the empty batch with an ambiguous -1 (a ShapeError)
    "group_norm_of_single_values_and_of_an_empty_batch": lambda lib: tuple(
        _outcome(
            lambda shape=shape, groups=groups: lib.nn.functional.group_norm(lib.ones(shape), groups)
        )
        for shape, groups in (
            ((1, 1), 1),
            ((1, 2), 2),
            ((1, 2), 1),
            ((1, 3, 1, 1), 3),
            ((1, 3), 2),
            ((0, 2), 1),
            ((0, 2, 3), 2),
            ((2, 1), 1),
        )
    ),  # fmt: skip
    # under autocast, cat and stack (and the joins on them) walk their floating operands
    # from the autocast dtype: float32 wins, float64 is passed over, and the other half
    # dtype met before a float32 is PyTorch's RuntimeError; chainrule promoted as usual
    "autocast_joins_refuse_the_other_half_dtype": lambda lib: tuple(
        _outcome(lambda join=join, names=names: _join_under_autocast(lib, join, names))
        for join in ("cat", "stack", "hstack")
        for names in (
            ("float16", "bfloat16"),
            ("bfloat16", "float16"),
            ("float32", "float16"),
            ("float16", "float32"),
            ("float64", "float16"),
            ("float16",),
            ("bfloat16", "float32"),
        )
    ),  # fmt: skip
    # tensordot under autocast: one dtype asked of its operands first (RuntimeError), then
    # the product lowered as its mm is, unless both free sides hold one element (a dot);
    # chainrule kept float32
    "tensordot_under_autocast": lambda lib: (
        tuple(
            _outcome(lambda a=a, b=b, dims=dims: _tensordot_under_autocast(lib, a, b, dims))
            for a, b, dims in (
                ((2, 2), (2, 3), 1),
                ((1, 2), (2, 1), 1),
                ((2, 2), (2, 2), 2),
                ((2,), (2, 3), 1),
                ((1,), (1,), 0),
                ((2, 2), (2, 2), 0),
            )
        )
        + (_outcome(lambda: _tensordot_under_autocast(lib, (2, 2), (2, 2), 1, lib.bfloat16)),)
    ),
    # a lazy layer cast while it waits (.double(), .to(float16)) materializes its parameters
    # and buffers in that dtype, as PyTorch's; chainrule's took the default dtype (float32)
    # and lost the waiting buffers' class (a ShapeError on the first call)
    "lazy_layers_cast_before_their_first_call": lambda lib: tuple(
        _outcome(lambda make=make, dtype=dtype, shape=shape: _cast_lazy(lib, make, dtype, shape))
        for make, dtype, shape in (
            (lambda nn: nn.LazyLinear(2), "float64", (3, 4)),
            (lambda nn: nn.LazyConv1d(2, 1), "float16", (1, 3, 4)),
            (lambda nn: nn.LazyBatchNorm1d(), "float64", (2, 3)),
            (lambda nn: nn.LazyLinear(2, dtype=lib.float64), "float32", (3, 4)),
        )
    ),
    # linalg.norm with a named order ('fro', 'nuc', or a bad name) is always a matrix norm: a
    # 1-D input is matrix_norm's RuntimeError; chainrule took 'fro' as a number (ValueError)
    "norm_with_a_named_order_is_a_matrix_norm": lambda lib: tuple(
        _outcome(lambda shape=shape, options=options: lib.linalg.norm(lib.ones(shape), **options))
        for shape in ((2,), (2, 2), (2, 2, 2))
        for options in (
            {"ord": "fro"},
            {"ord": "nuc", "dim": 0},
            {"ord": "bad"},
            {"ord": "fro", "dim": (1, 0), "keepdim": True},
        )
    ),  # fmt: skip
    # torch.fft's edges: a 0-d input has no dim to transform (IndexError), a 1-D transform's
    # n= of -1 is refused (s= keeps a size of -1), fftshift over no dims is roll's "`shifts`
    # required", and fftfreq takes n = 0 (empty) and d = 0 (inf and nan), refusing integer
    # dtypes; chainrule let NumPy's errors through, shifted nothing, or refused n = 0
    "fft_edges": lambda lib: tuple(
        _outcome(call)
        for call in (
            lambda: lib.fft.fft(lib.tensor(1.0)),
            lambda: lib.fft.rfft(lib.tensor(1.0)),
            lambda: lib.fft.fft2(lib.tensor(1.0)),
            lambda: lib.fft.fftn(lib.tensor(1.0)),
            lambda: lib.fft.fft(lib.ones(4), n=-1),
            lambda: lib.fft.irfft(lib.ones(4), n=-1),
            lambda: lib.fft.fftn(lib.ones(2, 3), s=(-1, 4)),
            lambda: lib.fft.fftshift(lib.tensor(1.0)),
            lambda: lib.fft.ifftshift(lib.ones(3), dim=()),
            lambda: lib.fft.fftshift(lib.ones(0)),
            lambda: lib.fft.fftfreq(0),
            lambda: lib.fft.fftfreq(-1),
            lambda: lib.fft.fftfreq(4, d=0),
            lambda: lib.fft.rfftfreq(0),
            lambda: lib.fft.rfftfreq(-1),
            lambda: lib.fft.fftfreq(4, dtype=lib.int64),
            lambda: lib.fft.rfftfreq(4, dtype=lib.complex64),
            lambda: lib.fft.fftfreq(4, dtype=lib.bfloat16),
        )
    ),
    # the torch.fft transforms take out=: complex for a complex result (any precision, but
    # ifft and ihfft of a real input, which PyTorch writes through a conj, want the result's
    # own: left out), real floating for a real one; chainrule had no out= there (TypeError)
    "fft_transforms_take_out": lambda lib: tuple(
        _outcome(
            lambda name=name, dtype=dtype: (
                lambda out: (getattr(lib.fft, name)(_fft_input(lib, name), out=out), out)[1]
            )(lib.zeros(0, dtype=getattr(lib, dtype)))
        )
        for name in ("fft", "rfft", "irfft", "hfft2", "ifftn", "ihfft2", "irfftn")
        for dtype in ("float32", "float64", "float16", "complex64", "complex128", "int64")
    ),
    # the recurrent and attention layers' refusals, of PyTorch's types: LSTMCell's hx must be
    # a pair (TypeError for a lone Tensor, RuntimeError for one state), an RNN's input of
    # another dtype than its weights is ValueError, an integer attention or padding mask is
    # MultiheadAttention's AssertionError, a bad activation name is RuntimeError; chainrule
    # took the lone Tensor and raised TypeError, TypeError and ValueError
    "recurrent_and_attention_refusals": lambda lib: tuple(
        _outcome(call)
        for call in (
            lambda: lib.nn.LSTMCell(3, 4)(lib.ones(2, 3), lib.zeros(2, 4)),
            lambda: lib.nn.LSTMCell(3, 4)(lib.ones(2, 3), (lib.zeros(2, 4),)),
            lambda: (
                lib.nn.LSTMCell(3, 4)(lib.ones(2, 3), [lib.zeros(2, 4), lib.zeros(2, 4)])[0].shape
            ),
            lambda: lib.nn.LSTM(3, 4)(lib.ones(2, 1, 3, dtype=lib.float64)),
            lambda: lib.nn.GRU(3, 4).double()(lib.ones(2, 1, 3)),
            lambda: lib.nn.MultiheadAttention(4, 2)(
                lib.ones(3, 1, 4),
                lib.ones(2, 1, 4),
                lib.ones(2, 1, 4),
                attn_mask=lib.zeros(3, 2, dtype=lib.int64),
            ),
            lambda: lib.nn.MultiheadAttention(4, 2)(
                lib.ones(3, 1, 4),
                lib.ones(2, 1, 4),
                lib.ones(2, 1, 4),
                key_padding_mask=lib.zeros(1, 2, dtype=lib.int64),
            ),
            lambda: lib.nn.TransformerEncoderLayer(4, 2, activation="tanh"),
            lambda: lib.nn.TransformerDecoderLayer(4, 2, activation="silu"),
        )
    ),  # fmt: skip
}


def _fft_input(lib, name: str):
    """Constant signals, whose transforms are exact in float32 (a float32 result in a float64
    out keeps float32's rounding, which differs between the libraries)."""
    if name.startswith(("rfft", "ihfft", "fft", "ifft")):
        return lib.ones(2, 4)
    return lib.ones(2, 4) * (1 + 0.5j)


def _cast_lazy(lib, make, dtype: str, shape: tuple):
    layer = make(lib.nn).to(getattr(lib, dtype))
    out = layer(lib.ones(shape, dtype=getattr(lib, dtype)))
    return out.dtype, tuple((name, value.dtype) for name, value in layer.state_dict().items())


def _join_under_autocast(lib, join: str, names: tuple):
    with lib.autocast("cpu", dtype=lib.bfloat16):
        return getattr(lib, join)([lib.ones(2, dtype=getattr(lib, name)) for name in names])


def _tensordot_under_autocast(lib, a_shape, b_shape, dims, b_dtype=None):
    a = lib.arange(1.0, math.prod(a_shape) + 1).reshape(a_shape).requires_grad_()
    b = lib.ones(b_shape, dtype=b_dtype, requires_grad=True)
    with lib.autocast("cpu", dtype=lib.bfloat16):
        out = lib.tensordot(a, b, dims=dims)
    return out, _grads(lib, out.float().sum(), [a, b])


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
