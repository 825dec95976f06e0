"""bfloat16 as PyTorch's CPU has it: the dtype, promotion, conversions, printing, and every
elementwise, reduction, nn, shape and indexing op spec run in bfloat16 against torch in bfloat16.

PyTorch's CPU computes bfloat16 in float32 and rounds once; chainrule's Op.apply does the same,
so values agree to a unit in the last place (bfloat16 keeps 8 bits: eps 2**-7) and gradients,
composed of several rounded ops on both sides, to a few.
"""

from __future__ import annotations

import os

import ml_dtypes
import numpy as np
import pytest
import torch

import chainrule
from chainrule.nn.functional import cross_entropy as F_cross_entropy
from chainrule.testing.op_check import _draw_inputs
from tests.op_specs import elementwise, indexing, nn_ops, reduction, shape

bf16 = chainrule.bfloat16

# torch.testing.assert_close's bfloat16 rtol for values, and an atol of about one unit at 1
# for ops chainrule composes of several rounded ops where torch has one kernel (layer_norm,
# scaled_dot_product_attention: a cancellation near 0 shows it). Gradients go through several
# rounded ops on both sides (in a different order), so they get a few units more.
VALUE_RTOL, VALUE_ATOL = 1.6e-2, 1e-2
GRAD_RTOL, GRAD_ATOL = 6e-2, 3e-2
# Gradients with a reason to differ more: {spec name: (input index or None for all, atol)}.
GRAD_EXCEPTIONS = {
    # d fmod(x, y) / dy = -trunc(x / y): torch rounds x / y to bfloat16 before truncating, so
    # where the quotient is within a rounding of an integer the two jump to neighbours.
    "fmod": (1, None),
    # torch's bilinear backward contracts in one kernel; chainrule's is two einsums, rounded
    # in between: about 6 units where two contributions cancel.
    "bilinear": (None, 6e-2),
    # the grid's gradient through 16 taps' cubic weights: torch's backward kernel sums them in
    # its own order, chainrule's composite rounds each weight and product to bfloat16 (the
    # values agree; float32 and float64 gradients match torch and finite differences)
    "grid_sample_bicubic": (1, 0.25),
    "grid_sample_bicubic_border_aligned": (1, 0.25),
    "grid_sample_bicubic_reflection": (1, 0.25),
}


# ---- the dtype -----------------------------------------------------------------------------


def test_bfloat16_is_a_floating_dtype_named_like_torchs():
    assert repr(bf16) == "chainrule.bfloat16"
    assert bf16.is_floating_point and bf16.is_signed and bf16.itemsize == 2
    assert chainrule.zeros(2, dtype=bf16).is_floating_point()
    assert not hasattr(chainrule, "bf16")  # PyTorch has no such alias


@pytest.mark.parametrize(
    "other", ["float16", "float32", "float64", "int64", "int32", "uint8", "bool", "complex64"]
)
def test_promotion_with_bfloat16_is_torchs(other):
    mine = chainrule.promote_types(bf16, getattr(chainrule, other))
    theirs = torch.promote_types(torch.bfloat16, getattr(torch, other))
    assert mine.name == str(theirs).removeprefix("torch.")


def test_finfo_of_bfloat16_is_torchs():
    mine, theirs = chainrule.finfo(bf16), torch.finfo(torch.bfloat16)
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(mine, name) == getattr(theirs, name), name
    assert repr(mine) == repr(theirs)


def test_arithmetic_with_numbers_and_other_dtypes_promotes_as_torch():
    x, tx = chainrule.tensor([1.5, -2.25], dtype=bf16), torch.tensor([1.5, -2.25]).bfloat16()
    cases = [
        (lambda a: a + 1, lambda a: a + 1),
        (lambda a: a * 2.5, lambda a: a * 2.5),
        (lambda a: a + chainrule.tensor([1, 2]), lambda a: a + torch.tensor([1, 2])),
        (lambda a: a + chainrule.tensor([1.0, 2.0]), lambda a: a + torch.tensor([1.0, 2.0])),
        (
            lambda a: a + chainrule.tensor([1.0, 2.0], dtype=chainrule.float16),
            lambda a: a + torch.tensor([1.0, 2.0], dtype=torch.float16),
        ),
        (lambda a: a / chainrule.tensor(3), lambda a: a / torch.tensor(3)),
    ]
    for mine, theirs in cases:
        got, expected = mine(x), theirs(tx)
        assert got.dtype.name == str(expected.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(got.float().numpy(), expected.float().numpy())


def test_creation_conversion_and_python_values():
    x = chainrule.tensor([1.0, 3.14159, -2.3], dtype=bf16)
    tx = torch.tensor([1.0, 3.14159, -2.3], dtype=torch.bfloat16)
    assert x.tolist() == tx.tolist()  # rounded to bfloat16: 3.140625, -2.296875
    assert x[1].item() == tx[1].item()
    assert repr(x) == repr(tx).replace("torch.", "chainrule.")
    assert x.float().dtype is chainrule.float32 and x.float().tolist() == tx.float().tolist()
    assert chainrule.tensor([0.1]).bfloat16().tolist() == torch.tensor([0.1]).bfloat16().tolist()
    assert chainrule.tensor([0.1]).to(bf16).dtype is bf16
    assert x.numpy().dtype == np.dtype(ml_dtypes.bfloat16)
    for factory in (chainrule.zeros, chainrule.ones, chainrule.randn, chainrule.rand):
        assert factory(2, 3, dtype=bf16).dtype is bf16
    assert chainrule.full((2,), 1.1, dtype=bf16).tolist() == [1.1015625, 1.1015625]


def test_modules_convert_to_bfloat16_and_train():
    model = chainrule.nn.Linear(4, 3).bfloat16()
    assert model.weight.dtype is bf16 and model.bias.dtype is bf16
    out = model(chainrule.ones(2, 4, dtype=bf16))
    out.sum().backward()
    assert out.dtype is bf16
    assert model.weight.grad.dtype is bf16  # gradients flow in the parameter's dtype


def test_matmul_accumulates_in_float32_and_rounds_once_as_torch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 300)).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((300, 8)).astype(ml_dtypes.bfloat16)
    mine = chainrule.tensor(a) @ chainrule.tensor(b)
    theirs = (
        torch.from_numpy(a.astype(np.float32)).bfloat16()
        @ torch.from_numpy(b.astype(np.float32)).bfloat16()
    )
    assert mine.dtype is bf16
    # Accumulating in bfloat16 would be off by tens of units; float32 accumulation then one
    # rounding agrees with torch to one unit at most (summation order).
    np.testing.assert_allclose(mine.float().numpy(), theirs.float().numpy(), rtol=2**-7, atol=2**-7)


def test_elementwise_chain_rounds_once():
    # sigmoid(x) is exp, add, divide: rounding each step would differ from torch's one rounding
    x = np.linspace(-6, 6, 1001).astype(ml_dtypes.bfloat16)
    mine = chainrule.tensor(x).sigmoid().float().numpy()
    theirs = torch.from_numpy(x.astype(np.float32)).bfloat16().sigmoid().float().numpy()
    np.testing.assert_array_equal(mine, theirs)


# ---- every elementwise, reduction, nn, shape and indexing op spec in bfloat16, against torch --

SPECS = [
    spec
    for spec in (
        *elementwise.SPECS,
        *reduction.SPECS,
        *nn_ops.SPECS,
        *shape.SPECS,
        *indexing.SPECS,
    )
    if spec.torch_fn is not None and spec.float32 and spec.complex is False
]

# Ops PyTorch's CPU does not run in bfloat16 (torch raises): nothing to compare with.
TORCH_LACKS_BFLOAT16: set[str] = set()


def _bfloat16_inputs(arrays):
    """The drawn float64 arrays rounded to bfloat16, as (chainrule, torch) leaf tensors; index
    and mask arrays pass through."""
    mine, theirs = [], []
    for array in arrays:
        if array.dtype.kind == "f":
            rounded = array.astype(ml_dtypes.bfloat16)
            mine.append(chainrule.tensor(rounded).requires_grad_(True))
            wide = torch.from_numpy(rounded.astype(np.float32))
            theirs.append(wide.bfloat16().requires_grad_(True))
        else:
            mine.append(chainrule.tensor(array.copy()))
            theirs.append(torch.from_numpy(array.copy()))
    return mine, theirs


def _flat(outputs):
    if isinstance(outputs, (tuple, list)):
        return [leaf for item in outputs for leaf in _flat(item)]
    return [outputs]


def _as_float64(value):
    return value.detach().double().numpy() if hasattr(value, "double") else np.asarray(value)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op_in_bfloat16_matches_torch(spec):
    rng = np.random.default_rng(0)
    cases = spec.shapes if spec.make_inputs is None else spec.shapes[:1] or [()]
    for case in cases:
        arrays = _draw_inputs(spec, case, rng)
        mine_in, theirs_in = _bfloat16_inputs(arrays)
        try:
            theirs = _flat(spec.torch_fn(*theirs_in, **spec.kwargs))
        except (RuntimeError, NotImplementedError) as error:
            pytest.skip(f"torch has no bfloat16 {spec.name} on the CPU: {error}")
        mine = _flat(spec.fn(*mine_in, **spec.kwargs))
        label = f"{spec.name}{tuple(a.shape for a in arrays)}"
        assert len(mine) == len(theirs), label
        for got, expected in zip(mine, theirs):
            if not isinstance(expected, torch.Tensor):
                continue
            assert got.dtype.name == str(expected.dtype).removeprefix("torch."), label
            np.testing.assert_allclose(
                _as_float64(got),
                _as_float64(expected),
                rtol=VALUE_RTOL,
                atol=max(VALUE_ATOL, spec.atol),
                err_msg=f"{label}: value",
            )
        _check_gradients(spec.name, label, mine, theirs, mine_in, theirs_in, rng)


def _check_gradients(name, label, mine, theirs, mine_in, theirs_in, rng):
    pairs = [
        (got, expected)
        for got, expected in zip(mine, theirs)
        if isinstance(expected, torch.Tensor) and expected.requires_grad
    ]
    wanted = [(a, b) for a, b in zip(mine_in, theirs_in) if b.requires_grad]
    if not pairs or not wanted:
        return
    cotangents = [
        rng.standard_normal(tuple(expected.shape)).astype(ml_dtypes.bfloat16)
        for _, expected in pairs
    ]
    mine_grads = chainrule.autograd.grad(
        [got for got, _ in pairs],
        [a for a, _ in wanted],
        [chainrule.tensor(c) for c in cotangents],
        allow_unused=True,
    )
    theirs_grads = torch.autograd.grad(
        [expected for _, expected in pairs],
        [b for _, b in wanted],
        [torch.from_numpy(c.astype(np.float32)).bfloat16() for c in cotangents],
        allow_unused=True,
    )
    exception_input, exception_atol = GRAD_EXCEPTIONS.get(name, (-1, GRAD_ATOL))
    for index, (got, expected) in enumerate(zip(mine_grads, theirs_grads)):
        if expected is None:
            continue
        if got is None:  # no path to the input: torch's gradient is a zero tensor then
            assert not expected.any(), f"{label}: no gradient for input {index}"
            continue
        atol = GRAD_ATOL
        if exception_input is None or exception_input == index:
            if exception_atol is None:
                continue
            atol = exception_atol
        assert got.dtype is bf16, f"{label}: gradient {index} is {got.dtype}"
        np.testing.assert_allclose(
            _as_float64(got),
            _as_float64(expected),
            rtol=GRAD_RTOL,
            atol=atol,
            err_msg=f"{label}: gradient of input {index}",
        )


# ---- devices --------------------------------------------------------------------------------

DEVICE = os.environ.get("CHAINRULE_TEST_DEVICE", "fake")


@pytest.mark.device
def test_bfloat16_training_step_on_the_device_matches_the_cpu():
    # the float32 round trip in Op.apply runs through the device's own arrays (astype), so a
    # bfloat16 step there gives the CPU's bits
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(ml_dtypes.bfloat16) for s in ((4, 6), (3, 6), (3,))]
    results = {}
    for device in ("cpu", DEVICE):
        x, w, b = (chainrule.tensor(a, device=device) for a in arrays)
        w.requires_grad_(True)
        loss = F_cross_entropy(
            chainrule.tanh(x @ w.t() + b), chainrule.tensor([0, 2, 1, 1], device=device)
        )
        loss.backward()
        assert loss.dtype is bf16 and w.grad.dtype is bf16
        assert w.grad.device == chainrule.device(device)
        results[device] = (loss.float().item(), w.grad.float().cpu().numpy())
    assert results["cpu"][0] == results[DEVICE][0]
    np.testing.assert_array_equal(results["cpu"][1], results[DEVICE][1])


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("scalar_dtype", ["float32", "float64"])
@pytest.mark.parametrize("spelling", ["x * s", "s * x", "x / s", "x.mul_(s)", "x.div_(s)"])
def test_a_half_tensor_times_a_float32_scalar_tensor_uses_it_unrounded_as_torch(
    dtype, scalar_dtype, spelling
):
    """`x * self.scale` with a half-precision x and a 0-dim float32 (or float64) tensor as the
    second operand: PyTorch's kernel takes it as a CPU scalar in float32, not rounded to x's
    dtype first (a third to a half of the products differed), and rounds the product once; as
    the first operand (`logit_scale * x`) it is rounded for the product but x's gradient is
    g times the float32 s. The result keeps x's dtype; both gradients (the scalar's summed in
    x's dtype, then cast to its own) are PyTorch's bit for bit."""
    rng = np.random.default_rng(2)
    data = (rng.standard_normal((3, 50)) + 2).astype(np.float32)
    cotangent = rng.standard_normal((3, 50)).astype(np.float32)
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(data).to(getattr(lib, dtype)).requires_grad_()
        s = lib.tensor(0.37, dtype=getattr(lib, scalar_dtype)).requires_grad_()
        y = x * 1
        if spelling == "x * s":
            out = x * s
        elif spelling == "s * x":  # s rounded for the product, not for x's gradient
            out = s * x
        elif spelling == "x / s":
            out = x / s
        elif spelling == "x.mul_(s)":
            out = y.mul_(s)
        else:
            out = y.div_(s)
        out.backward(lib.tensor(cotangent).to(getattr(lib, dtype)))
        assert str(out.dtype).split(".")[-1] == dtype
        assert str(s.grad.dtype).split(".")[-1] == scalar_dtype
        results.append([t.detach().double().numpy() for t in (out, x.grad, s.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("divisor", ["number", "0-dim float32", "0-dim float64"])
@pytest.mark.parametrize("spelling", ["x // s", "div floor", "div trunc", "floor_divide"])
def test_half_floor_and_trunc_division_take_the_divisor_in_float32_as_torch(
    dtype, divisor, spelling
):
    """x // 0.37 on a half-precision x divides by 0.37 in float32, not by 0.37 rounded to x's
    dtype (83 of 4096 bfloat16 quotients differed), as PyTorch's kernel; dtype and values are
    PyTorch's bit for bit, and the derivative (where PyTorch has one) is zero."""
    data = (np.random.default_rng(1).standard_normal(4096) * 3).astype(np.float32)
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(data).to(getattr(lib, dtype))
        s = {
            "number": 0.37,
            "0-dim float32": lib.tensor(0.37),
            "0-dim float64": lib.tensor(0.37, dtype=lib.float64),
        }[divisor]
        if spelling == "x // s":
            out = x // s
        elif spelling == "floor_divide":
            out = lib.floor_divide(x, s)
        else:
            out = lib.div(x, s, rounding_mode=spelling.split()[1])
        assert str(out.dtype).split(".")[-1] == dtype
        results.append(out.double().numpy())
    np.testing.assert_array_equal(*results)
    x = chainrule.tensor(data[:4]).to(getattr(chainrule, dtype)).requires_grad_()
    chainrule.div(x, 0.37, rounding_mode="floor").sum().backward()
    assert not x.grad.double().numpy().any()
