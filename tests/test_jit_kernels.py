"""The compiled float32 kernels (backend/jit.py, backend/jit_kernels.py): the exact GELU, its
backward and the normal CDF, used when numba is installed for arrays of MIN_ELEMENTS or more.

Tolerances: the kernels compute each element in float64 and round once, so Phi is within one
float32 ulp of the exact value; the NumPy path rounds at every pass (Phi within 1.2e-6
relative for |x| < 5, backend/special.py), so the two agree to a few ulps, not bit for bit.
"""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as F
from chainrule.backend import jit, parallel
from chainrule.backend.special import normal_cdf_float32

pytest.importorskip("numba")

LARGE = 3 * jit.MIN_ELEMENTS + 7  # above the threshold, and uneven over threads


@pytest.fixture
def jit_on(monkeypatch):
    monkeypatch.setattr(jit, "JIT", True)


def _exact_normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi in float64 from the C library's erfc (accurate to a few float64 ulps)."""
    erfc = np.vectorize(math.erfc, otypes=[np.float64])
    return 0.5 * erfc(-x.astype(np.float64) / math.sqrt(2.0))


def _float32_ulps(value: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|value - exact| in units of the float32 spacing at the exact value (subnormals too)."""
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(value.astype(np.float64) - exact) / spacing


def _assert_the_same_bits_on_any_number_of_threads(compute) -> None:
    """compute() (a tuple of arrays) on one thread, then on three in small blocks: the same
    arrays bit for bit (each element or row is computed on its own)."""
    before = parallel.get_threads()
    try:
        parallel.set_threads(1)
        whole = compute()
        parallel.set_threads(3)
        parallel.GRAIN = 1000
        split = compute()
    finally:
        parallel.set_threads(before)
        parallel.GRAIN = 1 << 16
    for one, other in zip(whole, split, strict=True):
        np.testing.assert_array_equal(one, other)


def _kernel_cdf(x: np.ndarray) -> np.ndarray:
    compiled = jit.kernels()
    out = np.empty_like(x)
    compiled.normal_cdf(x, out)
    return out


def test_normal_cdf_is_within_one_float32_ulp_over_a_dense_grid_and_the_tails(jit_on):
    dense = np.linspace(-14.0, 14.0, 280_001)  # past -14 Phi is below float32's subnormals
    tails = np.geomspace(1e-30, 14.0, 20_000)
    x = np.concatenate([dense, tails, -tails]).astype(np.float32)
    exact = _exact_normal_cdf(x)
    ulps = _float32_ulps(_kernel_cdf(x), exact)
    assert ulps.max() <= 1.0, f"{ulps.max():.2f} ulps at x = {x[ulps.argmax()]}"
    lower = exact > 1e-37  # normal float32 values: the relative error too
    relative = np.abs(_kernel_cdf(x)[lower] / exact[lower] - 1)
    assert relative.max() < 1.2e-7


def test_normal_cdf_special_values(jit_on):
    x = np.array([-np.inf, -200.0, -15.0, -0.0, 0.0, 40.0, np.inf, np.nan], np.float32)
    out = _kernel_cdf(x)
    np.testing.assert_array_equal(out[:7], [0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.0])
    assert np.isnan(out[7])


def test_normal_cdf_agrees_with_the_numpy_path(jit_on):
    x = (np.random.default_rng(0).standard_normal(LARGE) * 4).astype(np.float32)
    normal = x > -12.0  # the NumPy path's documented range (relative error below 8e-6)
    np.testing.assert_allclose(
        jit.normal_cdf_float32(x)[normal], normal_cdf_float32(x)[normal], rtol=8e-6, atol=0
    )


def test_gelu_is_within_one_float32_ulp_of_the_exact_value(jit_on):
    x = np.linspace(-14.0, 14.0, 2 * LARGE).astype(np.float32)
    g = np.ones_like(x)
    value, grad = _gelu_value_and_grad(x, g)
    wide = x.astype(np.float64)
    exact_cdf = _exact_normal_cdf(x)
    exact_density = np.exp(-0.5 * wide * wide) / math.sqrt(2.0 * math.pi)
    assert _float32_ulps(value, wide * exact_cdf).max() <= 1.0
    # gelu'(x) = Phi(x) + x phi(x) from the forward's rounded Phi: within Phi's spacing
    slope = exact_cdf + wide * exact_density
    slack = np.spacing(exact_cdf.astype(np.float32)).astype(np.float64)
    assert np.all(np.abs(grad - slope) <= slack + np.spacing(np.abs(slope).astype(np.float32)))


def _gelu_value_and_grad(x: np.ndarray, g: np.ndarray, approximate: str = "none"):
    tensor = chainrule.tensor(x, requires_grad=True)
    out = F.gelu(tensor, approximate=approximate)
    out.backward(chainrule.tensor(g))
    return out.detach().numpy(), tensor.grad.numpy()


def _torch_gelu_value_and_grad(x: np.ndarray, g: np.ndarray):
    tensor = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.gelu(tensor)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), tensor.grad.numpy()


@pytest.mark.parametrize("shape", [(LARGE,), (64, 3, 512)], ids=str)
def test_gelu_matches_pytorch_and_the_numpy_path(jit_on, monkeypatch, shape):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    value, grad = _gelu_value_and_grad(x, g)
    torch_value, torch_grad = _torch_gelu_value_and_grad(x, g)
    # PyTorch's float32 erf is accurate in absolute terms only (gelu(-5) is 17% off there)
    np.testing.assert_allclose(value, torch_value, rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-5, atol=2e-6)
    monkeypatch.setattr(jit, "JIT", False)
    plain_value, plain_grad = _gelu_value_and_grad(x, g)
    np.testing.assert_allclose(value, plain_value, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, plain_grad, rtol=1e-5, atol=1e-6)


def test_gelu_takes_strided_inputs_and_a_broadcast_cotangent(jit_on):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((512, 2 * LARGE // 512)) * 3).astype(np.float32)[:, ::2].T
    g = rng.standard_normal(x.shape[-1:]).astype(np.float32)  # broadcast: the NumPy product
    tensor = chainrule.tensor(x, requires_grad=True)
    out = F.gelu(tensor)
    out.backward(chainrule.tensor(np.broadcast_to(g, x.shape).copy()))
    torch_value, torch_grad = _torch_gelu_value_and_grad(x, np.broadcast_to(g, x.shape).copy())
    np.testing.assert_allclose(out.detach().numpy(), torch_value, rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(tensor.grad.numpy(), torch_grad, rtol=1e-5, atol=2e-6)


def test_gelu_special_values_are_the_numpy_paths(jit_on, monkeypatch):
    x = np.full(LARGE, 1.0, np.float32)
    x[:8] = [-np.inf, -20.0, -0.0, 0.0, 20.0, 40.0, np.inf, np.nan]
    g = np.ones_like(x)
    value, grad = _gelu_value_and_grad(x, g)
    monkeypatch.setattr(jit, "JIT", False)
    plain_value, plain_grad = _gelu_value_and_grad(x, g)
    np.testing.assert_array_equal(value[:8], plain_value[:8])  # nan where the NumPy path has it
    np.testing.assert_array_equal(grad[:8], plain_grad[:8])


def test_gelu_kernels_give_the_same_bits_on_any_number_of_threads(jit_on):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(LARGE) * 3).astype(np.float32)
    g = rng.standard_normal(LARGE).astype(np.float32)
    _assert_the_same_bits_on_any_number_of_threads(
        lambda: (*_gelu_value_and_grad(x, g), jit.normal_cdf_float32(x))
    )


def test_other_dtypes_and_small_arrays_take_the_numpy_path(jit_on):
    small = (np.random.default_rng(4).standard_normal(jit.MIN_ELEMENTS - 1) * 3).astype(np.float32)
    assert jit.gelu_float32(small) is None
    assert jit.gelu_float32(np.zeros(LARGE)) is None  # float64: NumPy's (SciPy's) erf
    value, _ = _gelu_value_and_grad(small, np.ones_like(small))
    np.testing.assert_array_equal(value, small * normal_cdf_float32(small))


def test_switched_off_the_kernels_are_never_used(monkeypatch):
    monkeypatch.setattr(jit, "JIT", False)
    x = np.zeros(LARGE, np.float32)
    assert jit.kernels() is None
    assert jit.gelu_float32(x) is None
    assert jit.normal_cdf_float32(x) is None


def _run_fresh(code: str, **environment: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **environment},
    )
    return result.stdout.strip()


def test_numba_loads_only_for_an_array_worth_a_kernel():
    code = """
import sys
import numpy as np
import chainrule, chainrule.nn.functional as F
F.gelu(chainrule.ones(100))
print("numba" in sys.modules)
F.gelu(chainrule.ones(1 << 15))
print("numba" in sys.modules)
"""
    assert _run_fresh(code).split() == ["False", "True"]
    assert _run_fresh(code, CHAINRULE_JIT="0").split() == ["False", "False"]


# ---- SiLU ------------------------------------------------------------------------------------


def _silu(lib, x: np.ndarray, g: np.ndarray):
    tensor = lib.tensor(x, requires_grad=True)
    out = lib.nn.functional.silu(tensor)
    out.backward(lib.tensor(g))
    return out.detach().numpy(), tensor.grad.numpy()


def test_silu_matches_pytorch_to_the_last_bits_and_in_its_tails(jit_on, monkeypatch):
    """Values within 2 float32 ulps of PyTorch's; where float32's exp(-x) overflows (x below
    -88.72) PyTorch's sigmoid is 0 and SiLU -0.0, just above it tiny but not 0: the same here.
    The backward cancels near x = -1.28 (its zero): there the absolute error is compared."""
    rng = np.random.default_rng(16)
    x = (rng.standard_normal(1 << 15) * 30).astype(np.float32)
    tails = [0.0, -0.0, np.inf, -np.inf, np.nan, -88.72283, -88.722839, -88.0, -87.0, 100.0]
    x[: len(tails)] = tails
    g = rng.standard_normal(x.shape).astype(np.float32)
    kernel = jit.silu_float32
    taken = []
    monkeypatch.setattr(jit, "silu_float32", lambda *a: taken.append(kernel(*a)) or taken[-1])
    value, grad = _silu(chainrule, x, g)
    assert taken and taken[0] is not None
    theirs_value, theirs_grad = _silu(torch, x, g)
    numbers = ~np.isnan(theirs_value)  # (a NaN's sign bit means nothing)
    np.testing.assert_array_equal(np.isnan(value), ~numbers)
    np.testing.assert_array_equal(np.signbit(value[numbers]), np.signbit(theirs_value[numbers]))
    np.testing.assert_array_equal(value[: len(tails)] == 0, theirs_value[: len(tails)] == 0)
    np.testing.assert_allclose(value, theirs_value, rtol=2.5e-7, atol=0)
    np.testing.assert_allclose(grad, theirs_grad, rtol=1e-6, atol=1e-6)
    monkeypatch.setattr(jit, "JIT", False)
    plain_value, plain_grad = _silu(chainrule, x, g)
    np.testing.assert_allclose(value, plain_value, rtol=5e-7, atol=0)
    np.testing.assert_allclose(grad, plain_grad, rtol=1e-6, atol=1e-6)


# ---- max pooling's 2 x 2 windows -----------------------------------------------------------


def _pool(x: np.ndarray, **arguments):
    tensor = chainrule.tensor(x, requires_grad=True)
    out, indices = F.max_pool2d(tensor, 2, return_indices=True, **arguments)
    out.backward(chainrule.tensor(np.arange(out.numel(), dtype=x.dtype).reshape(out.shape)))
    return out.detach().numpy(), indices.numpy(), tensor.grad.numpy()


def _pooling_input(dtype, shape=(8, 16, 29, 30)) -> np.ndarray:
    """ReLU-like data (ties of zeros), a NaN after a number and one before, -inf, repeats."""
    x = np.maximum(np.random.default_rng(5).standard_normal(shape), 0).astype(dtype)
    x[0, 0, 0, :4] = [1.0, np.nan, 2.0, 3.0]  # NaN wins over the numbers around it
    x[0, 0, 1, :4] = [np.nan, 5.0, np.nan, 0.0]  # and the first NaN of a window wins
    x[0, 1, :2, :2] = -np.inf
    x[1, 2, 4:6, 6:8] = 7.0  # a four-way tie: the first wins
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "arguments",
    [{}, {"padding": 1}, {"ceil_mode": True}, {"stride": 2, "padding": (0, 1)}],
    ids=["plain", "padding", "ceil_mode", "padding_w"],
)
def test_max_pool_kernel_equals_the_numpy_passes_bit_for_bit(jit_on, monkeypatch, dtype, arguments):
    x = _pooling_input(dtype)
    value, indices, grad = _pool(x, **arguments)
    monkeypatch.setattr(jit, "JIT", False)
    plain = _pool(x, **arguments)
    for compiled, numpy_path in zip((value, indices, grad), plain, strict=True):
        np.testing.assert_array_equal(compiled, numpy_path)


def test_max_pool_kernel_matches_pytorch_on_a_strided_input(jit_on):
    x = _pooling_input(np.float32, (8, 16, 30, 58))[..., ::2]  # a non-contiguous view
    x[0, 0, 1, 0] = 0.0  # one NaN per window: of two, PyTorch 2.13 keeps the last, we the first
    assert x.size >= jit.MIN_ELEMENTS
    value, indices, grad = _pool(x)
    tensor = torch.tensor(x, requires_grad=True)
    torch_value, torch_indices = torch.nn.functional.max_pool2d(tensor, 2, return_indices=True)
    torch_value.backward(
        torch.arange(torch_value.numel(), dtype=torch.float32).reshape(torch_value.shape)
    )
    np.testing.assert_array_equal(value, torch_value.detach().numpy())
    np.testing.assert_array_equal(indices, torch_indices.numpy())
    np.testing.assert_array_equal(grad, tensor.grad.numpy())


def test_max_pool_kernel_gives_the_same_bits_on_any_number_of_threads(jit_on):
    x = _pooling_input(np.float32)
    _assert_the_same_bits_on_any_number_of_threads(lambda: _pool(x))


# ---- layer norm's rows ---------------------------------------------------------------------


def _layer_norm(x: np.ndarray, g: np.ndarray | None, affine: str | None = "weight and bias"):
    """layer_norm's value and the gradients of x (and of the weight and bias it is given)."""
    tensor = chainrule.tensor(x, requires_grad=True)
    size = x.shape[-1:]
    weight = bias = None
    if affine:
        weight = chainrule.tensor(_ramp(size[0], 0.5, 1.5, x.dtype), requires_grad=True)
    if affine == "weight and bias":
        bias = chainrule.tensor(_ramp(size[0], -1.0, 1.0, x.dtype), requires_grad=True)
    out = F.layer_norm(tensor, size, weight, bias)
    if g is None:  # the backward of a sum: a broadcast (stride-0) cotangent
        out.sum().backward()
    else:
        out.backward(chainrule.tensor(g))
    parameters = [p.grad.numpy() for p in (weight, bias) if p is not None]
    return out.detach().numpy(), tensor.grad.numpy(), *parameters


def _ramp(size: int, low: float, high: float, dtype) -> np.ndarray:
    return np.linspace(low, high, size, dtype=dtype)


def _torch_layer_norm(x: np.ndarray, g: np.ndarray, affine: str):
    tensor = torch.tensor(x, requires_grad=True)
    size = x.shape[-1]
    weight = torch.tensor(_ramp(size, 0.5, 1.5, x.dtype), requires_grad=True)
    bias = torch.tensor(_ramp(size, -1.0, 1.0, x.dtype), requires_grad=True)
    parameters = [weight, bias] if affine == "weight and bias" else [weight]
    out = torch.nn.functional.layer_norm(tensor, (size,), *parameters)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), tensor.grad.numpy(), *(p.grad.numpy() for p in parameters)


@pytest.mark.parametrize("affine", ["weight", "weight and bias"])
@pytest.mark.parametrize(
    ("dtype", "tolerance"), [(np.float32, (1e-5, 1e-6)), (np.float64, (1e-12, 1e-13))]
)
def test_layer_norm_kernels_match_the_numpy_path_and_pytorch(
    jit_on, monkeypatch, dtype, tolerance, affine
):
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((16, 64, 128)) * 3 + 2).astype(dtype)
    x[0, 0] = 7.0  # a constant row: variance 0, rstd 1 / sqrt(eps)
    g = rng.standard_normal(x.shape).astype(dtype)
    rtol, atol = tolerance  # float64 sums against NumPy's pairwise float32 ones
    # the parameters' gradients sum 1024 rows: float32 partial sums of 64 rows (the kernel),
    # pairwise ones (NumPy) and PyTorch's differ by more
    sums_tolerance = {"rtol": 100 * rtol, "atol": 100 * atol}
    results = _layer_norm(x, g, affine)
    monkeypatch.setattr(jit, "JIT", False)
    plain = _layer_norm(x, g, affine)
    theirs = _torch_layer_norm(x, g, affine)
    for other in (theirs, plain):
        for index, (mine, reference) in enumerate(zip(results, other, strict=True)):
            tolerances = {"rtol": rtol, "atol": atol} if index < 2 else sums_tolerance
            np.testing.assert_allclose(mine, reference, **tolerances)


def test_layer_norm_kernels_take_strided_inputs(jit_on, monkeypatch):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((128, 64, 32)).astype(np.float32).transpose(1, 0, 2)
    g = rng.standard_normal((64, 32, 128)).astype(np.float32).transpose(0, 2, 1)
    for affine in (None, "weight and bias"):
        monkeypatch.setattr(jit, "JIT", True)
        results = _layer_norm(x, g, affine)
        monkeypatch.setattr(jit, "JIT", False)
        plain = _layer_norm(x, g, affine)
        for mine, reference in zip(results[:2], plain[:2], strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)
        for mine, reference in zip(results[2:], plain[2:], strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-4)


def test_layer_norm_kernels_take_a_broadcast_cotangent(jit_on, monkeypatch):
    """The backward of `y.sum()` hands the norm a stride-0 cotangent: the kernels copy it."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((64, 8, 256)).astype(np.float32)
    taken = []
    for name in ("layer_norm_backward_rows", "standardize_backward_rows"):
        kernel = getattr(jit, name)
        spy = lambda *args, kernel=kernel: taken.append(kernel(*args)) or taken[-1]  # noqa: E731
        monkeypatch.setattr(jit, name, spy)
    for affine in (None, "weight and bias"):
        monkeypatch.setattr(jit, "JIT", True)
        taken.clear()
        results = _layer_norm(x, None, affine)
        assert taken and all(result not in (None, False) for result in taken)
        monkeypatch.setattr(jit, "JIT", False)
        plain = _layer_norm(x, None, affine)
        for mine, reference in zip(results[:2], plain[:2], strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-5)
        for mine, reference in zip(results[2:], plain[2:], strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-3)


def test_layer_norm_kernels_give_the_same_bits_on_any_number_of_threads(jit_on):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((301, 128)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    _assert_the_same_bits_on_any_number_of_threads(lambda: _layer_norm(x, g))
    _assert_the_same_bits_on_any_number_of_threads(lambda: _layer_norm(x, g, "weight"))


def test_layer_norm_kernels_handle_a_remainder_chunk_of_rows(jit_on, monkeypatch):
    """301 rows: four chunks of 64 for the parameters' sums and one of 45."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((301, 128)).astype(np.float64)
    g = rng.standard_normal(x.shape)
    results = _layer_norm(x, g)
    monkeypatch.setattr(jit, "JIT", False)
    for mine, reference in zip(results, _layer_norm(x, g), strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


# ---- batch norm's channels ------------------------------------------------------------------


def _batch_norm(lib, x: np.ndarray, g: np.ndarray | None):
    """Training-mode batch norm's value, the input's, weight's and bias's gradients and the
    updated running statistics, in chainrule or PyTorch (`lib`)."""
    channels = x.shape[1]
    tensor = lib.tensor(x, requires_grad=True)
    weight = lib.tensor(_ramp(channels, 0.5, 1.5, x.dtype), requires_grad=True)
    bias = lib.tensor(_ramp(channels, -1.0, 1.0, x.dtype), requires_grad=True)
    running_mean = lib.tensor(_ramp(channels, -0.2, 0.2, x.dtype))
    running_var = lib.tensor(_ramp(channels, 0.5, 2.0, x.dtype))
    out = lib.nn.functional.batch_norm(
        tensor, running_mean, running_var, weight, bias, training=True, momentum=0.3
    )
    if g is None:  # the backward of a sum: a broadcast (stride-0) cotangent
        out.sum().backward()
    else:
        out.backward(lib.tensor(g))
    arrays = (out, tensor.grad, weight.grad, bias.grad, running_mean, running_var)
    return [array.detach().numpy() for array in arrays]


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((32, 16, 8, 8), np.float32),  # BatchNorm2d
        ((8, 24, 10, 3, 4), np.float64),  # BatchNorm3d
        ((16, 32, 40), np.float32),  # BatchNorm1d over sequences
        ((2048, 12), np.float64),  # BatchNorm1d over features: one element a row per channel
    ],
)
@pytest.mark.parametrize("cotangent", ["given", "sum"])
def test_batch_norm_kernels_match_the_numpy_path_and_pytorch(
    jit_on, monkeypatch, shape, dtype, cotangent
):
    rng = np.random.default_rng(12)
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    x[:, 0] = 3.0  # a constant channel: variance 0, rstd 1 / sqrt(eps)
    g = rng.standard_normal(shape).astype(dtype) if cotangent == "given" else None
    taken = []
    for name in ("standardize_channels", "standardize_backward_channels", "channel_moments"):
        kernel = getattr(jit, name)
        spy = lambda *args, kernel=kernel: taken.append(kernel(*args)) or taken[-1]  # noqa: E731
        monkeypatch.setattr(jit, name, spy)
    results = _batch_norm(chainrule, x, g)
    assert len(taken) == 3 and all(result not in (None, False) for result in taken)
    monkeypatch.setattr(jit, "JIT", False)
    plain = _batch_norm(chainrule, x, g)
    theirs = _batch_norm(torch, x, g)
    tolerance = (
        {"rtol": 2e-4, "atol": 2e-4} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-9}
    )
    # the weight's gradient sums g out over each channel; with g = 1 that is a sum of terms
    # that cancel to about 0, float32 noise of the order of its thousands of terms' rounding
    sums_tolerance = {key: 10 * value for key, value in tolerance.items()}
    for other in (plain, theirs):
        for index, (mine, reference) in enumerate(zip(results, other, strict=True)):
            np.testing.assert_allclose(
                mine, reference, **(sums_tolerance if index == 2 else tolerance)
            )


def test_batch_norm_kernels_give_the_same_bits_on_any_number_of_threads(jit_on):
    x = np.random.default_rng(13).standard_normal((16, 30, 64)).astype(np.float32)
    g = np.random.default_rng(14).standard_normal(x.shape).astype(np.float32)
    _assert_the_same_bits_on_any_number_of_threads(lambda: _batch_norm(chainrule, x, g))


# ---- running sums ---------------------------------------------------------------------------


def _cumsum(x: np.ndarray, dim: int):
    """cumsum's value and its input's gradient (a reversed running sum) for a ramp cotangent."""
    tensor = chainrule.tensor(x, requires_grad=True)
    out = chainrule.cumsum(tensor, dim)
    ramp = np.linspace(-1.0, 2.0, x.size).reshape(x.shape).astype(x.dtype)
    out.backward(chainrule.tensor(ramp))
    return out.detach().numpy(), tensor.grad.numpy()


@pytest.mark.parametrize(
    ("shape", "dim", "dtype"),
    [
        ((256, 512), 1, np.float32),  # along rows: one lane per row
        ((256, 512), 0, np.float32),  # down columns: lanes side by side, split over them
        ((6, 700, 5), 1, np.float64),
        ((40000,), 0, np.float32),  # one long lane
    ],
)
def test_running_sums_kernel_gives_the_numpy_paths_bits(jit_on, monkeypatch, shape, dim, dtype):
    """Both sum each lane in float64 in order and round once: the same bits, -0.0, NaN and
    infinities included (a leading -0.0 comes out +0.0, as PyTorch's)."""
    x = np.random.default_rng(15).standard_normal(shape).astype(dtype) * 100
    flat = x.reshape(-1)
    flat[0], flat[7], flat[99], flat[3000] = -0.0, np.nan, np.inf, -np.inf
    taken = []
    kernel = jit.running_sums
    monkeypatch.setattr(jit, "running_sums", lambda *a: taken.append(kernel(*a)) or taken[-1])
    results = _cumsum(x, dim)
    assert len(taken) == 2 and all(result is not None for result in taken)  # forward, backward
    monkeypatch.setattr(jit, "JIT", False)
    for mine, reference in zip(results, _cumsum(x, dim), strict=True):
        np.testing.assert_array_equal(mine, reference)
    assert np.signbit(results[0].reshape(-1)[0]) == np.signbit(
        torch.cumsum(torch.tensor(x), dim).reshape(-1)[0].item()
    )
    _assert_the_same_bits_on_any_number_of_threads(lambda: _cumsum(x, dim))


# ---- softmax's rows ------------------------------------------------------------------------


def _cross_entropy(lib, x: np.ndarray, target: np.ndarray):
    logits = lib.tensor(x, requires_grad=True)
    loss = lib.nn.functional.cross_entropy(logits, lib.tensor(target), ignore_index=3)
    loss.backward()
    return loss.detach().numpy(), logits.grad.numpy()


def test_cross_entropy_backward_takes_the_softmax_row_kernel(jit_on, monkeypatch):
    """The fused cross-entropy backward's softmax runs as one compiled pass a row for float32
    logits (ignored targets included): PyTorch's gradient, and the NumPy path's to rounding."""
    rng = np.random.default_rng(18)
    x = (rng.standard_normal((256, 300)) * 4).astype(np.float32)
    target = rng.integers(0, 300, 256)
    target[:10] = 3  # ignored
    kernel = jit.softmax_rows
    taken = []
    monkeypatch.setattr(jit, "softmax_rows", lambda *a: taken.append(kernel(*a)) or taken[-1])
    loss, grad = _cross_entropy(chainrule, x, target)
    assert taken == [True]
    theirs = _cross_entropy(torch, x, target)
    np.testing.assert_allclose(loss, theirs[0], rtol=1e-6)
    np.testing.assert_allclose(grad, theirs[1], rtol=1e-5, atol=1e-9)
    monkeypatch.setattr(jit, "JIT", False)
    plain = _cross_entropy(chainrule, x, target)
    np.testing.assert_allclose(grad, plain[1], rtol=1e-5, atol=1e-9)


def test_cross_entropy_forward_takes_one_compiled_pass_a_row(jit_on, monkeypatch):
    """Without ignored targets, float32 (N, C) logits take the compiled log-sum-exp pass:
    PyTorch's loss (each reduction) and the NumPy path's, to float32 rounding; rows holding
    NaN or +inf give NaN as there; a target out of range still raises PyTorch's error."""
    rng = np.random.default_rng(19)
    x = (rng.standard_normal((256, 300)) * 4).astype(np.float32)
    x[7, 11], x[9, 0] = np.nan, np.inf
    target = rng.integers(0, 300, 256)
    kernel = jit.cross_entropy_rows
    taken = []
    monkeypatch.setattr(jit, "cross_entropy_rows", lambda *a: taken.append(kernel(*a)) or taken[-1])
    results = {}
    for reduction in ("none", "sum", "mean"):
        ours = F.cross_entropy(chainrule.tensor(x), chainrule.tensor(target), reduction=reduction)
        theirs = torch.nn.functional.cross_entropy(
            torch.tensor(x), torch.tensor(target), reduction=reduction
        )
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
        results[reduction] = ours.numpy()
    assert len(taken) == 3 and all(loss is not None for loss in taken)
    assert (
        np.isnan(results["none"][[7, 9]]).all()
        and np.isfinite(np.delete(results["none"], [7, 9])).all()
    )
    out_of_range = chainrule.tensor(np.where(np.arange(256) == 5, 300, target))
    with pytest.raises(IndexError):
        F.cross_entropy(chainrule.tensor(x), out_of_range)
    monkeypatch.setattr(jit, "JIT", False)
    plain = F.cross_entropy(chainrule.tensor(x), chainrule.tensor(target), reduction="none")
    np.testing.assert_allclose(results["none"], plain.numpy(), rtol=1e-6, atol=1e-6)


def _softmax(x: np.ndarray, g: np.ndarray, dim: int = -1):
    tensor = chainrule.tensor(x, requires_grad=True)
    out = F.softmax(tensor, dim)
    out.backward(chainrule.tensor(g))
    return out.detach().numpy(), tensor.grad.numpy()


def _softmax_input(dtype) -> np.ndarray:
    """Attention scores with a causal mask, and rows that hold NaN, +inf, -inf or only -inf."""
    x = (np.random.default_rng(9).standard_normal((16, 4, 64, 64)) * 3).astype(dtype)
    x += np.triu(np.full((64, 64), -np.inf), 1).astype(dtype)
    x[0, 0, 5, 2] = np.nan
    x[0, 0, 6, 1] = np.inf
    x[0, 0, 7, :] = -np.inf
    x[0, 0, 8, 0] = np.nan  # the first element: the row's max starts from it
    return x


def test_float32_exp_is_within_one_ulp_over_a_dense_grid_and_flushes_below_minus_87(jit_on):
    """The float32 lanes' exp (softmax's) against float64 exp, rounded: every float32 of
    (-87, 0] at a 4e-5 spacing, then the edges."""
    x = np.linspace(-87.0, 0.0, 2_000_001)[1:].astype(np.float32)
    out = np.empty_like(x)
    jit.kernels().exp32(x, out)
    assert _float32_ulps(out, np.exp(x.astype(np.float64))).max() < 1.0
    edges = np.array([-np.inf, -1000.0, -87.0, np.nan, -0.0, -1e-30], np.float32)
    out = np.empty_like(edges)
    jit.kernels().exp32(edges, out)
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, np.nan, 1.0, 1.0])


def test_softmax_kernels_match_the_numpy_path_and_pytorch(jit_on, monkeypatch):
    x = _softmax_input(np.float32)
    g = np.random.default_rng(10).standard_normal(x.shape).astype(np.float32)
    value, grad = _softmax(x, g)
    # float32 lanes against float32 passes; the gradient's g - sum(g out) cancels, so it is
    # compared in absolute terms
    tensor = torch.tensor(x, requires_grad=True)
    torch_out = torch.softmax(tensor, -1)
    torch_out.backward(torch.tensor(g))
    np.testing.assert_allclose(value, torch_out.detach().numpy(), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=2e-6, atol=1e-6)
    monkeypatch.setattr(jit, "JIT", False)
    plain_value, plain_grad = _softmax(x, g)
    np.testing.assert_allclose(value, plain_value, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(grad, plain_grad, rtol=2e-6, atol=1e-6)
    assert np.isnan(value[0, 0, 5:9]).all()  # each of those rows is NaN throughout


def test_softmax_kernels_give_the_same_bits_on_any_number_of_threads(jit_on):
    x = _softmax_input(np.float32)
    g = np.random.default_rng(11).standard_normal(x.shape).astype(np.float32)
    _assert_the_same_bits_on_any_number_of_threads(lambda: _softmax(x, g))


def _causal_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, g: np.ndarray, lib=chainrule):
    """Causal attention's output and the gradients of q, k and v, in chainrule or torch."""
    functional = F if lib is chainrule else torch.nn.functional
    q, k, v = (lib.tensor(a, requires_grad=True) for a in (q, k, v))
    out = functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    out.backward(lib.tensor(g))
    return tuple(a.detach().numpy() for a in (out, q.grad, k.grad, v.grad))


@pytest.mark.parametrize(("length", "source"), [(64, 64), (40, 64), (64, 40)])
def test_causal_softmax_kernel_matches_the_numpy_path_and_pytorch(
    jit_on, monkeypatch, length, source
):
    rng = np.random.default_rng(14)
    q = (rng.standard_normal((16, 4, length, 32)) * 2).astype(np.float32)
    k, v = (rng.standard_normal((16, 4, source, 32)).astype(np.float32) for _ in range(2))
    g = rng.standard_normal((16, 4, length, 32)).astype(np.float32)
    results = _causal_attention(q, k, v, g)
    theirs = _causal_attention(q, k, v, g, torch)
    monkeypatch.setattr(jit, "JIT", False)
    plain = _causal_attention(q, k, v, g)
    for other in (theirs, plain):
        for mine, reference in zip(results, other, strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-5)


def test_causal_softmax_kernel_gives_the_same_bits_on_any_number_of_threads(jit_on):
    rng = np.random.default_rng(15)
    q, k, v, g = (rng.standard_normal((3, 5, 64, 32)).astype(np.float32) for _ in range(4))
    _assert_the_same_bits_on_any_number_of_threads(lambda: _causal_attention(q, k, v, g))


@pytest.mark.parametrize(("dtype", "dim"), [(np.float32, 2), (np.float64, -1)])
def test_softmax_over_another_dim_or_in_float64_takes_the_numpy_path(
    jit_on, monkeypatch, dtype, dim
):
    """Not along the last dim: NumPy's passes both ways. float64: NumPy's exp (the kernel's
    lanes are float32); the backward, which needs no exp, is compiled (float64 sums)."""
    x = _softmax_input(dtype)[1:]
    g = np.random.default_rng(12).standard_normal(x.shape).astype(dtype)
    value, grad = _softmax(x, g, dim=dim)
    monkeypatch.setattr(jit, "JIT", False)
    plain_value, plain_grad = _softmax(x, g, dim=dim)
    np.testing.assert_array_equal(value, plain_value)
    if dtype == np.float32:
        np.testing.assert_array_equal(grad, plain_grad)
    else:
        np.testing.assert_allclose(grad, plain_grad, rtol=1e-12, atol=1e-15)


def test_assign_at_declines_indices_out_of_range_for_numpy_to_judge(jit_on):
    values = np.arange(LARGE, dtype=np.float32)
    index = np.random.default_rng(14).permutation(LARGE).astype(np.int64)
    target = np.zeros(LARGE, np.float32)
    assert jit.assign_at(target, index, values)
    np.testing.assert_array_equal(target[index], values)
    for bad in (LARGE, -1):
        index[100] = bad
        assert not jit.assign_at(np.zeros(LARGE, np.float32), index, values)


# ---- an embedding's gradient: rows added at an index ---------------------------------------


def test_add_rows_is_np_add_at_bit_for_bit(jit_on):
    rng = np.random.default_rng(15)
    index = rng.integers(-65, 65, size=(16, 64))  # repeats, and negative rows from the end
    values = rng.standard_normal((16, 64, 128)).astype(np.float32)
    start = rng.standard_normal((65, 128)).astype(np.float32)
    target, expected = start.copy(), start.copy()
    assert jit.add_rows(target, index, values)
    np.add.at(expected, index.reshape(-1), values.reshape(-1, 128))
    np.testing.assert_array_equal(target, expected)
    index[3, 4] = 65
    assert not jit.add_rows(start.copy(), index, values)  # NumPy's path raises for it


def test_embedding_gradient_matches_pytorch(jit_on):
    rng = np.random.default_rng(16)
    tokens = rng.integers(0, 65, size=(16, 64))
    weight = rng.standard_normal((65, 128)).astype(np.float32)
    g = rng.standard_normal((16, 64, 128)).astype(np.float32)
    table = chainrule.tensor(weight, requires_grad=True)
    F.embedding(chainrule.tensor(tokens), table).backward(chainrule.tensor(g))
    torch_table = torch.tensor(weight, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(tokens), torch_table).backward(torch.tensor(g))
    np.testing.assert_allclose(table.grad.numpy(), torch_table.grad.numpy(), rtol=1e-5, atol=1e-5)


# ---- the transposed convolution: one product and a col2im ----------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"padding": 2},
        {"stride": 2, "padding": 1},
        {"dilation": 2, "padding": (0, 3)},
        {"stride": (2, 1), "padding": 0},
    ],
    ids=["lenet", "stride", "dilation", "uneven_stride"],
)
def test_conv_input_gradient_matches_the_numpy_path_and_pytorch(jit_on, monkeypatch, arguments):
    rng = np.random.default_rng(17)
    x = rng.standard_normal((32, 16, 15, 14)).astype(np.float32)
    w = (rng.standard_normal((24, 16, 5, 5)) * 0.1).astype(np.float32)

    def input_gradient():
        tensor = chainrule.tensor(x, requires_grad=True)
        out = F.conv2d(tensor, chainrule.tensor(w), **arguments)
        g = np.random.default_rng(18).standard_normal(tuple(out.shape)).astype(np.float32)
        out.backward(chainrule.tensor(g))
        return tensor.grad.numpy(), g

    grad, g = input_gradient()
    assert g.size >= jit.MIN_ELEMENTS
    tensor = torch.tensor(x, requires_grad=True)
    torch.nn.functional.conv2d(tensor, torch.tensor(w), **arguments).backward(torch.tensor(g))
    # sums of 600 products in another order: float32 rounding of the largest terms
    np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-4, atol=2e-5)
    monkeypatch.setattr(jit, "JIT", False)
    plain, _ = input_gradient()
    np.testing.assert_allclose(grad, plain, rtol=1e-4, atol=2e-5)


def test_conv_transpose2d_matches_pytorch(jit_on):
    rng = np.random.default_rng(19)
    x = rng.standard_normal((16, 24, 12, 12)).astype(np.float32)
    w = (rng.standard_normal((24, 8, 3, 3)) * 0.2).astype(np.float32)
    out = F.conv_transpose2d(chainrule.tensor(x), chainrule.tensor(w), stride=2, padding=1)
    expected = torch.nn.functional.conv_transpose2d(
        torch.tensor(x), torch.tensor(w), stride=2, padding=1
    )
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-4, atol=2e-5)


# ---- depthwise convolution: direct kernels ---------------------------------------------------

DEPTHWISE = {
    "mobilenet": ((8, 16, 20, 20), (16, 1, 3, 3), {"padding": 1}, np.float32),
    "stride": ((8, 16, 21, 20), (16, 1, 3, 3), {"stride": 2, "padding": 1}, np.float32),
    "uneven_stride_and_padding": (
        (8, 16, 20, 21),
        (16, 1, 5, 3),
        {"stride": (1, 3), "padding": (2, 0)},
        np.float32,
    ),
    "dilation": ((8, 16, 20, 20), (16, 1, 3, 3), {"dilation": 2, "padding": "same"}, np.float32),
    "multiplier_2": ((8, 12, 20, 20), (24, 1, 3, 3), {"padding": 1}, np.float32),
    "float64_even_kernel": ((8, 16, 20, 20), (16, 1, 4, 4), {"padding": "same"}, np.float64),
    "window_past_the_input": ((32, 16, 6, 6), (16, 1, 7, 7), {"padding": 3}, np.float32),
}


def _depthwise_step(library, functional, x, w, g, bias, arguments, channels_last=False):
    """Output, input gradient and weight gradient of one depthwise conv2d step."""
    tensor = library.tensor(x, requires_grad=True)
    if channels_last:
        tensor = tensor.detach().to(memory_format=library.channels_last).requires_grad_()
    weight = library.tensor(w, requires_grad=True)
    out = functional.conv2d(tensor, weight, library.tensor(bias), groups=x.shape[1], **arguments)
    out.backward(library.tensor(g))
    return out.detach().numpy(), tensor.grad.numpy(), weight.grad.numpy()


@pytest.mark.parametrize("case", sorted(DEPTHWISE))
def test_depthwise_conv2d_matches_pytorch_and_the_numpy_path(jit_on, monkeypatch, case):
    x_shape, w_shape, arguments, dtype = DEPTHWISE[case]
    rng = np.random.default_rng(23)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (rng.standard_normal(w_shape) * 0.3).astype(dtype)
    bias = rng.standard_normal(w_shape[0]).astype(dtype)
    expected_out = torch.nn.functional.conv2d(
        torch.tensor(x), torch.tensor(w), groups=x_shape[1], **arguments
    )
    g = rng.standard_normal(tuple(expected_out.shape)).astype(dtype)
    assert max(x.size, g.size) >= jit.MIN_ELEMENTS
    calls = []
    kernel = jit.depthwise_convolution_2d
    monkeypatch.setattr(jit, "depthwise_convolution_2d", lambda *a: calls.append(1) or kernel(*a))
    ours = _depthwise_step(chainrule, F, x, w, g, bias, arguments)
    assert calls, "the direct kernel ran"
    theirs = _depthwise_step(torch, torch.nn.functional, x, w, g, bias, arguments)
    tolerance = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10}
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, **tolerance)
    monkeypatch.setattr(jit, "JIT", False)
    plain = _depthwise_step(chainrule, F, x, w, g, bias, arguments)
    for mine, expected in zip(ours, plain):
        np.testing.assert_allclose(mine, expected, **tolerance)


def test_depthwise_conv2d_of_channels_last_input_keeps_its_layout(jit_on):
    x_shape, w_shape, arguments, dtype = DEPTHWISE["mobilenet"]
    rng = np.random.default_rng(29)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    tensor = chainrule.tensor(x).to(memory_format=chainrule.channels_last)
    out = F.conv2d(tensor, chainrule.tensor(w), groups=x_shape[1], **arguments)
    expected = torch.nn.functional.conv2d(
        torch.tensor(x).to(memory_format=torch.channels_last),
        torch.tensor(w),
        groups=x_shape[1],
        **arguments,
    )
    assert out.is_contiguous(memory_format=chainrule.channels_last)
    assert expected.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)


def test_depthwise_gradients_have_second_derivatives(jit_on):
    """The double backward runs the kernels again (through the convolution ops' vjps)."""
    rng = np.random.default_rng(31)
    x = rng.standard_normal((8, 16, 20, 20))
    w = rng.standard_normal((16, 1, 3, 3)) * 0.3
    results = []
    for library, functional in ((chainrule, F), (torch, torch.nn.functional)):
        tensor = library.tensor(x, requires_grad=True)
        weight = library.tensor(w, requires_grad=True)
        out = functional.conv2d(tensor, weight, padding=1, groups=16)
        (grad_x,) = library.autograd.grad((out * out).sum(), tensor, create_graph=True)
        (grad_w,) = library.autograd.grad((grad_x * grad_x).sum(), weight)
        results.append(grad_w.numpy())
    np.testing.assert_allclose(*results, rtol=1e-10)


def test_a_depthwise_transposed_convolution_runs_the_input_gradient_kernel(jit_on):
    """conv_transpose2d with groups = channels and one output channel per group is the adjoint
    the depthwise input-gradient kernel computes."""
    rng = np.random.default_rng(41)
    x = rng.standard_normal((8, 16, 20, 20)).astype(np.float32)
    w = rng.standard_normal((16, 1, 3, 3)).astype(np.float32)
    arguments = {"stride": 2, "padding": 1, "output_padding": 1, "groups": 16}
    ours = F.conv_transpose2d(chainrule.tensor(x), chainrule.tensor(w), **arguments)
    theirs = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), **arguments)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-4)


def test_the_depthwise_weight_gradient_is_the_same_on_any_number_of_threads(jit_on):
    rng = np.random.default_rng(37)
    x = rng.standard_normal((8, 16, 20, 20)).astype(np.float32)
    g = rng.standard_normal((8, 16, 20, 20)).astype(np.float32)
    geometry = ((1, 1), ((1, 1), (1, 1)), (1, 1), 16)
    grads = []
    for threads in (1, 2):
        parallel.set_threads(threads)
        grads.append(jit.depthwise_weight_grad_2d(x, g, geometry, (3, 3)))
    parallel.set_threads(parallel._default_threads())
    np.testing.assert_array_equal(*grads)


def _adam_steps(dtype, shape, **options) -> np.ndarray:
    rng = np.random.default_rng(0)
    p = chainrule.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    optimizer = chainrule.optim.Adam([p], lr=0.01, **options)
    for _ in range(4):
        p.grad = chainrule.tensor(rng.standard_normal(shape).astype(dtype))
        optimizer.step()
    return p.detach().numpy().copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize(
    "options",
    [{}, {"maximize": True}, {"betas": (0.3, 0.9)}, {"weight_decay": 0.1}, {"amsgrad": True}],
    ids=["plain", "maximize", "beta1 below a half", "weight decay", "amsgrad"],
)
def test_adam_kernel_steps_as_the_numpy_passes_bit_for_bit(jit_on, monkeypatch, dtype, options):
    """The fused step (plain Adam) rounds op by op as the NumPy passes do; the other options
    take the NumPy passes, on any number of threads."""
    shape = (LARGE // 64, 64)
    _assert_the_same_bits_on_any_number_of_threads(lambda: (_adam_steps(dtype, shape, **options),))
    compiled = _adam_steps(dtype, shape, **options)
    monkeypatch.setattr(jit, "JIT", False)
    np.testing.assert_array_equal(compiled, _adam_steps(dtype, shape, **options))


# ---- group norm's rows ---------------------------------------------------------------------


def _group_norm(lib, x: np.ndarray, g: np.ndarray | None, groups: int = 4):
    """group_norm's value and the gradients of x, its weight and its bias, in `lib`."""
    tensor = lib.tensor(x, requires_grad=True)
    channels = x.shape[1]
    weight = lib.tensor(_ramp(channels, 0.5, 1.5, x.dtype), requires_grad=True)
    bias = lib.tensor(_ramp(channels, -1.0, 1.0, x.dtype), requires_grad=True)
    out = lib.nn.functional.group_norm(tensor, groups, weight, bias)
    if g is None:  # the backward of a sum: a broadcast (stride-0) cotangent
        out.sum().backward()
    else:
        out.backward(lib.tensor(g))
    return tuple(t.detach().numpy() for t in (out, tensor.grad, weight.grad, bias.grad))


@pytest.mark.parametrize("cotangent", ["given", "of a sum"])
@pytest.mark.parametrize(
    ("dtype", "tolerance"), [(np.float32, (2e-5, 2e-6)), (np.float64, (1e-12, 1e-13))]
)
def test_group_norm_kernels_match_the_numpy_path_and_pytorch(
    jit_on, monkeypatch, dtype, tolerance, cotangent
):
    """Group norm with its affine part, forward and backward, in one compiled pass per (sample,
    group): the NumPy passes' values and PyTorch's, within float rounding (the kernels sum in
    float64), the parameters' gradients summed over samples and positions included."""
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((6, 16, 20, 24)) * 3 + 2).astype(dtype)
    x[0, :4] = 7.0  # a constant group: variance 0, rstd 1 / sqrt(eps)
    g = rng.standard_normal(x.shape).astype(dtype) if cotangent == "given" else None
    taken = []
    for name in ("group_norm_rows", "group_norm_backward_rows"):
        kernel = getattr(jit, name)
        spy = lambda *args, kernel=kernel: taken.append(kernel(*args)) or taken[-1]  # noqa: E731
        monkeypatch.setattr(jit, name, spy)
    results = _group_norm(chainrule, x, g)
    assert len(taken) == 2 and all(result not in (None, False) for result in taken)
    theirs = _group_norm(torch, x, g)
    monkeypatch.setattr(jit, "JIT", False)
    plain = _group_norm(chainrule, x, g)
    rtol, atol = tolerance
    for other in (theirs, plain):
        for index, (mine, reference) in enumerate(zip(results, other, strict=True)):
            scale = 1 if index < 2 else 100  # the parameters' sums of 720 rows in other orders
            if other is theirs and index == 0:
                # PyTorch folds the mean into a per-channel shift, x scale + (bias - scale
                # mean), which rounds at x scale's magnitude: 5e-5 off the constant group
                scale = 50
            np.testing.assert_allclose(mine, reference, rtol=scale * rtol, atol=scale * atol)


def test_group_norm_kernels_give_the_same_bits_on_any_number_of_threads(jit_on):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((8, 32, 16, 16)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    _assert_the_same_bits_on_any_number_of_threads(lambda: _group_norm(chainrule, x, g, 8))


# ---- gather and scatter_add along a dimension ----------------------------------------------


def _gather_scatter(lib, x: np.ndarray, index: np.ndarray, dim: int):
    """gather's value and x's gradient (a scatter-add of g), and scatter_add's value and its
    src's gradient (a gather), for a cotangent that weighs every position differently."""
    source = lib.tensor(x, requires_grad=True)
    gathered = source.gather(dim, lib.tensor(index))
    weights = lib.tensor(np.linspace(-1.0, 2.0, index.size).reshape(index.shape).astype(x.dtype))
    (gathered * weights).sum().backward()
    src = lib.tensor(x, requires_grad=True)
    scattered = lib.zeros_like(src).scatter_add(dim, lib.tensor(index), src)
    (
        scattered * lib.tensor(np.cos(np.arange(x.size)).reshape(x.shape).astype(x.dtype))
    ).sum().backward()
    return tuple(t.detach().numpy() for t in (gathered, source.grad, scattered, src.grad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gather_and_scatter_add_kernels_match_pytorch_and_numpys_add_at(
    jit_on, monkeypatch, dim, dtype
):
    """gather and scatter_add along any dimension (with repeated indices) through the compiled
    loops: PyTorch's values and gradients, and the NumPy path's bit for bit (the scatter adds
    each element's terms in np.add.at's order)."""
    rng = np.random.default_rng(22)
    x = (rng.standard_normal((12, 40, 36)) * 3).astype(dtype)
    index = rng.integers(0, x.shape[dim], x.shape)  # repeats everywhere
    taken = []
    for name in ("gather_along", "scatter_add_along"):
        kernel = getattr(jit, name)
        spy = lambda *args, kernel=kernel: taken.append(kernel(*args)) or taken[-1]  # noqa: E731
        monkeypatch.setattr(jit, name, spy)
    compiled = _gather_scatter(chainrule, x, index, dim)
    assert len(taken) == 4 and all(result is not None and result is not False for result in taken)
    for mine, theirs in zip(compiled, _gather_scatter(torch, x, index, dim), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(jit, "JIT", False)
    for mine, plain in zip(compiled, _gather_scatter(chainrule, x, index, dim), strict=True):
        np.testing.assert_array_equal(mine, plain)


def test_gather_and_scatter_add_kernels_leave_bad_indices_to_the_numpy_path(jit_on):
    """An index out of range makes the kernels step aside (the scatter before writing
    anything), so the error is the one the NumPy path raises; a smaller index in another
    dimension takes the NumPy path too."""
    x = np.random.default_rng(23).standard_normal((64, 512)).astype(np.float32)
    index = np.zeros((64, 512), dtype=np.int64)
    index[5, 7] = 512
    assert jit.gather_along(x, index, 1) is None
    target = np.zeros_like(x)
    assert not jit.scatter_add_along(target, index, x, 1) and not target.any()
    with pytest.raises(IndexError):
        chainrule.tensor(x).gather(1, chainrule.tensor(index))
    assert jit.gather_along(x, np.zeros((32, 1024), dtype=np.int64), 1) is None


# ---- topk's leaders ----------------------------------------------------------------------------


def _leading_rows_case(kind: str, dtype) -> np.ndarray:
    """(64, 512) rows: random, with ties, with NaN and infinities, or already in (reverse)
    order, the cases where a heap of leaders could slip."""
    rng = np.random.default_rng(21)
    shape = (64, 512)
    if kind == "ties":
        return rng.integers(0, 6, shape).astype(dtype)
    values = rng.standard_normal(shape).astype(dtype)
    if kind == "nan and infinities":
        values[rng.random(shape) < 0.05] = np.nan
        values[rng.random(shape) < 0.02] = np.inf
        values[rng.random(shape) < 0.02] = -np.inf
        values[:4] = np.nan  # rows of NaN alone
    elif kind == "ascending":
        values.sort(axis=1)
    elif kind == "descending":
        values = -np.sort(values, axis=1)
    return values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "kind", ["random", "ties", "nan and infinities", "ascending", "descending"]
)
def test_topk_through_the_leaders_kernel_takes_torchs_elements_in_torchs_order(
    jit_on, monkeypatch, kind, dtype
):
    """topk's compiled selection (a heap of the k + 1 leaders per row, in the stable order)
    gives PyTorch's values and indices, both directions, for k from 1 to the kernel's most,
    and the same as the NumPy path (a partition, then the candidates sorted)."""
    values = _leading_rows_case(kind, dtype)
    taken = []
    kernel = jit.leading_rows
    monkeypatch.setattr(jit, "leading_rows", lambda *a: taken.append(kernel(*a)) or taken[-1])
    for k in (1, 3, 10, jit.MAX_LEADERS - 1):
        for largest in (True, False):
            ours = chainrule.topk(chainrule.tensor(values), k, largest=largest)
            theirs = torch.topk(torch.tensor(values), k, largest=largest)
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    assert len(taken) == 8 and all(result is not None for result in taken)
    monkeypatch.setattr(jit, "JIT", False)
    ours = chainrule.topk(chainrule.tensor(values), 10, largest=False)
    np.testing.assert_array_equal(
        ours.indices.numpy(), torch.topk(torch.tensor(values), 10, largest=False).indices.numpy()
    )


def test_leaders_kernel_gives_the_same_leaders_on_any_number_of_threads(jit_on):
    values = _leading_rows_case("nan and infinities", np.float32)
    _assert_the_same_bits_on_any_number_of_threads(lambda: jit.leading_rows(values, 11, True))
