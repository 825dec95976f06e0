"""Elementwise ops beyond one spec each, specified against PyTorch: type promotion, broadcasting
(hypothesis-drawn shapes), comparisons and logic, errors, reflected operators, integer and
rounding semantics, and the jvp rules (checked against the vjps through <jvp(t), c> = <t, vjp(c)>).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule
from chainrule.errors import DTypeError, GradError, ShapeError
from chainrule.ops import conversion
from chainrule.ops import elementwise as ew
from chainrule.ops.op import NoDerivative, Op
from chainrule.testing.op_check import _draw_inputs
from tests.op_specs.complex import SPECS as COMPLEX_SPECS
from tests.op_specs.elementwise import SPECS

# Elementwise ops, with the dtype conversion and copy ops (Cast, Clone) below them.
ELEMENTWISE_MODULES = (ew.__name__, conversion.__name__)

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
HYPOTHESIS = settings(max_examples=25, deadline=None, database=None)


def ours(dtype_name):
    return getattr(chainrule, dtype_name)


def theirs(dtype_name):
    return getattr(torch, dtype_name)


def pair(values, dtype_name, ndim=1):
    """The same values as a chainrule and a torch tensor (0-dim when ndim == 0)."""
    array = np.asarray(values if ndim else values[0]).astype(dtype_name)
    return chainrule.tensor(array), torch.tensor(array)


def as_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value.detach().numpy())


def assert_same_tensor(mine, expected, exact=False):
    assert isinstance(mine, chainrule.Tensor), type(mine)
    assert mine.dtype.name == str(expected.dtype).removeprefix("torch."), (
        mine.dtype,
        expected.dtype,
    )
    assert tuple(mine.shape) == tuple(expected.shape)
    a, b = as_numpy(mine).astype(np.float64), as_numpy(expected).astype(np.float64)
    if exact:
        np.testing.assert_array_equal(a, b)
    else:  # float16 may differ in the last bit (1e-3) where PyTorch's kernels round differently
        rtol = 1e-3 if expected.dtype == torch.float16 else 1e-6
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, equal_nan=True)


def values_for(dtype_name):
    return [True, True] if dtype_name == "bool" else [1, 2]


# ---- (a) type promotion --------------------------------------------------------------------


PROMOTING_OPS = {
    "add": (chainrule.add, torch.add),
    "mul": (chainrule.mul, torch.mul),
    "div": (chainrule.div, torch.div),
}


@pytest.mark.parametrize("op_name", sorted(PROMOTING_OPS))
@pytest.mark.parametrize("ndims", [(1, 1), (1, 0), (0, 1), (0, 0)], ids=str)
def test_tensor_tensor_promotion_matches_torch(op_name, ndims):
    fn, torch_fn = PROMOTING_OPS[op_name]
    for a, b in itertools.product(DTYPES, DTYPES):
        x, tx = pair(values_for(a), a, ndims[0])
        y, ty = pair(values_for(b), b, ndims[1])
        expected = torch_fn(tx, ty)
        assert_same_tensor(fn(x, y), expected)
        assert chainrule.result_type(x, y).name == str(torch.result_type(tx, ty))[6:], (a, b)


@pytest.mark.parametrize("op_name", sorted(PROMOTING_OPS))
@pytest.mark.parametrize("scalar", [3, 2.5, True, -1], ids=repr)
@pytest.mark.parametrize("ndim", [1, 0])
def test_tensor_python_scalar_promotion_matches_torch(op_name, scalar, ndim):
    fn, torch_fn = PROMOTING_OPS[op_name]
    for name in DTYPES:
        if name == "uint8" and scalar == -1:
            continue  # PyTorch wraps -1 into uint8 only for some ops; not a promotion question
        x, tx = pair(values_for(name), name, ndim)
        assert_same_tensor(fn(x, scalar), torch_fn(tx, scalar))
        assert_same_tensor(fn(scalar, x), torch_fn(scalar, tx))
        assert chainrule.result_type(x, scalar).name == str(torch.result_type(tx, scalar))[6:]


@pytest.mark.parametrize("ndim", [1, 0])
def test_operators_with_scalars_on_either_side_promote_like_torch(ndim):
    for name, scalar in itertools.product(DTYPES, [3, 2.5, True]):
        x, tx = pair(values_for(name), name, ndim)
        for op in (
            lambda a, b: a + b,
            lambda a, b: a * b,
            lambda a, b: a / b,
            lambda a, b: b + a,
            lambda a, b: b * a,
            lambda a, b: b / a,
        ):
            assert_same_tensor(op(x, scalar), op(tx, scalar))


def test_sub_promotion_matches_torch_for_non_bool_pairs():
    names = [n for n in DTYPES if n != "bool"]
    for a, b in itertools.product(names, names):
        x, tx = pair(values_for(a), a)
        y, ty = pair(values_for(b), b, 0)
        assert_same_tensor(chainrule.sub(x, y), torch.sub(tx, ty))
        assert_same_tensor(y - x, ty - tx)


def test_numpy_scalars_promote_like_python_scalars():
    x = chainrule.ones(2, dtype=chainrule.float32)
    assert (x * np.float64(2.0)).dtype is chainrule.float32
    assert (chainrule.ones(2, dtype=chainrule.int32) + np.int64(1)).dtype is chainrule.int32


@pytest.mark.parametrize(
    "fn, torch_fn",
    [
        (chainrule.exp, torch.exp),
        (chainrule.sqrt, torch.sqrt),
        (chainrule.sigmoid, torch.sigmoid),
        (chainrule.reciprocal, torch.reciprocal),
        (chainrule.logit, torch.logit),
        (chainrule.neg, torch.neg),
        (chainrule.abs, torch.abs),
        (chainrule.sign, torch.sign),
        (chainrule.square, torch.square),
        (chainrule.floor, torch.floor),
        (chainrule.trunc, torch.trunc),
        (chainrule.round, torch.round),
        (chainrule.relu, torch.relu),
        (chainrule.nan_to_num, torch.nan_to_num),
        (lambda x: chainrule.clamp(x, 0.5), lambda x: torch.clamp(x, 0.5)),
        (lambda x: chainrule.clamp(x, 0, 1), lambda x: torch.clamp(x, 0, 1)),
        (lambda x: chainrule.atan2(x, x), lambda x: torch.atan2(x, x)),
        (lambda x: x**2, lambda x: x**2),
        (lambda x: x**0.5, lambda x: x**0.5),
        (lambda x: 2**x, lambda x: 2**x),
        (lambda x: 2.0**x, lambda x: 2.0**x),
        (lambda x: chainrule.float_power(x, 2), lambda x: torch.float_power(x, 2)),
        (
            lambda x: chainrule.hardtanh(x, -0.5, 1.5),
            lambda x: torch.nn.functional.hardtanh(x, -0.5, 1.5),
        ),
    ],
)
def test_unary_result_dtypes_match_torch(fn, torch_fn):
    for name in DTYPES:
        x, tx = pair([1, 2, 0], name) if name != "bool" else pair([True, False, True], name)
        try:
            expected = torch_fn(tx)
        except (RuntimeError, NotImplementedError):
            with pytest.raises((DTypeError, ShapeError)):
                fn(x)
            continue
        assert_same_tensor(fn(x), expected)


# ---- (b) broadcasting: hypothesis-drawn shapes, values and gradients vs torch ----------------


def _grads_match(fn, torch_fn, arrays, cotangent_seed):
    inputs = [chainrule.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    torch_inputs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out, expected = fn(*inputs), torch_fn(*torch_inputs)
    assert_same_tensor(out, expected)
    cotangent = np.random.default_rng(cotangent_seed).standard_normal(expected.shape)
    wanted = [t for t in inputs if t.requires_grad]
    wanted_torch = [t for t in torch_inputs if t.requires_grad]
    grads = chainrule.autograd.grad(out, wanted, chainrule.tensor(cotangent))
    expected_grads = torch.autograd.grad(expected, wanted_torch, torch.tensor(cotangent))
    for mine, reference in zip(grads, expected_grads):
        assert_same_tensor(mine, reference)


BROADCAST_OPS = {
    "add": (chainrule.add, torch.add, (-2.0, 2.0)),
    "sub": (chainrule.sub, torch.sub, (-2.0, 2.0)),
    "mul": (chainrule.mul, torch.mul, (-2.0, 2.0)),
    "div": (chainrule.div, torch.div, (0.5, 2.0)),
    "maximum": (chainrule.maximum, torch.maximum, (-2.0, 2.0)),
    "operator_pow": (lambda x, y: x**y, lambda x, y: x**y, (0.5, 2.0)),
}


@pytest.mark.parametrize("op_name", sorted(BROADCAST_OPS))
@HYPOTHESIS
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_broadcasting_matches_torch(op_name, shapes, seed):
    fn, torch_fn, (low, high) = BROADCAST_OPS[op_name]
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=shapes.input_shapes[0])
    y = rng.uniform(low, high, size=shapes.input_shapes[1])
    if op_name == "operator_pow":
        x = rng.uniform(0.5, 2.0, size=shapes.input_shapes[0])
    if op_name == "maximum" and seed % 2:  # values on a grid: exact ties split the gradient
        x, y = np.round(x * 2) / 2, np.round(y * 2) / 2
    _grads_match(fn, torch_fn, (x, y), seed)


@HYPOTHESIS
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_where_broadcasting_matches_torch(shapes, seed):
    rng = np.random.default_rng(seed)
    condition_shape, x_shape, y_shape = shapes.input_shapes
    condition = rng.uniform(size=condition_shape) > 0.5
    x = rng.uniform(-2.0, 2.0, size=x_shape)
    y = rng.uniform(-2.0, 2.0, size=y_shape)
    _grads_match(chainrule.where, torch.where, (condition, x, y), seed)


def test_broadcast_result_shape_with_0d_tensor():
    x = chainrule.ones(2, 3, requires_grad=True)
    s = chainrule.tensor(2.0, requires_grad=True)
    out = x * s
    assert out.shape == (2, 3)
    out.sum().backward()
    assert s.grad.shape == ()
    assert float(s.grad) == 6.0


# ---- (c) comparisons and logical ops -------------------------------------------------------


COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"]
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor"]


@pytest.mark.parametrize("name", COMPARISONS + BITWISE)
def test_comparisons_and_logic_match_torch(name):
    values = {"bool": [True, False, True, False], "float": [0.0, 1.5, float("nan"), -2.0]}
    for a, b in itertools.product(DTYPES, DTYPES):
        x_values = (
            values["bool"] if a == "bool" else [0, 1, 2, -1] if a != "uint8" else [0, 1, 2, 3]
        )
        y_values = values["bool"] if b == "bool" else [0, 2, 2, 1]
        if "float" in a:
            x_values = values["float"]
        x, tx = pair(x_values, a)
        y, ty = pair(y_values, b)
        torch_fn = getattr(torch, name)
        try:
            expected = torch_fn(tx, ty)
        except (RuntimeError, NotImplementedError):
            with pytest.raises(DTypeError):
                getattr(chainrule, name)(x, y)
            continue
        assert_same_tensor(getattr(chainrule, name)(x, y), expected, exact=True)
        if not name.startswith("logical"):  # torch.logical_* take tensors only
            assert_same_tensor(getattr(chainrule, name)(x, 1), torch_fn(tx, 1), exact=True)


def test_comparison_operators_match_torch():
    x, tx = pair([1.0, 2.0, 3.0], "float32")
    y, ty = pair([3, 2, 1], "int64")
    for op in (
        lambda a, b: a == b,
        lambda a, b: a != b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a == 2,
        lambda a, b: 2 < a,
        lambda a, b: 2.5 >= a,
    ):
        assert_same_tensor(op(x, y), op(tx, ty), exact=True)
    m, tm = pair([True, False, True], "bool")
    n, tn = pair([True, True, False], "bool")
    for op in (lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b, lambda a, b: ~a):
        assert_same_tensor(op(m, n), op(tm, tn), exact=True)
    i, ti = pair([5, 6, 7], "int32")
    assert_same_tensor(i & 3, ti & 3, exact=True)
    assert_same_tensor(3 | i, 3 | ti, exact=True)
    assert_same_tensor(~i, ~ti, exact=True)


def test_comparison_with_none_is_false_like_torch():
    x = chainrule.ones(2)
    assert (x == None) is False  # noqa: E711
    assert (x != None) is True  # noqa: E711
    with pytest.raises(TypeError):
        x < None  # noqa: B015


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "signbit", "logical_not"])
def test_predicates_match_torch(name):
    for dtype in ["float32", "float64", "int64", "bool"]:
        data = (
            [0.0, -1.0, float("inf"), float("-inf"), float("nan")]
            if "float" in dtype
            else [0, 1, 1]
        )
        if dtype == "bool":
            data = [True, False, True]
        x, tx = pair(data, dtype)
        assert_same_tensor(getattr(chainrule, name)(x), getattr(torch, name)(tx), exact=True)


def test_isclose_allclose_equal_match_torch():
    x, tx = pair([1.0, 2.0, float("nan")], "float64")
    y, ty = pair([1.0 + 1e-9, 2.1, float("nan")], "float64")
    assert_same_tensor(chainrule.isclose(x, y), torch.isclose(tx, ty), exact=True)
    assert_same_tensor(
        chainrule.isclose(x, y, equal_nan=True), torch.isclose(tx, ty, equal_nan=True), exact=True
    )
    assert chainrule.allclose(x[:1], y[:1]) == torch.allclose(tx[:1], ty[:1])
    assert chainrule.allclose(x, y) == torch.allclose(tx, ty)
    assert chainrule.equal(x[:2], x[:2]) and not chainrule.equal(x[:2], y[:2])
    with pytest.raises(DTypeError):
        chainrule.isclose(x, x.float())


def test_bitwise_ops_refuse_floats():
    x = chainrule.ones(2)
    for fn in (chainrule.bitwise_and, chainrule.bitwise_or, chainrule.bitwise_xor):
        with pytest.raises(DTypeError):
            fn(x, x)
    with pytest.raises(DTypeError):
        chainrule.bitwise_not(x)


def test_comparisons_are_not_differentiable():
    x = chainrule.ones(3, requires_grad=True)
    for result in (x > 0, x == x, chainrule.isnan(x), chainrule.logical_and(x, x)):
        assert result.dtype is chainrule.bool
        assert not result.requires_grad and result.grad_fn is None


# ---- (d) errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, fn",
    [
        ("add", chainrule.add),
        ("sub", chainrule.sub),
        ("mul", chainrule.mul),
        ("div", chainrule.div),
        ("pow", chainrule.pow),
        ("maximum", chainrule.maximum),
        ("minimum", chainrule.minimum),
        ("atan2", chainrule.atan2),
        ("remainder", chainrule.remainder),
        ("eq", chainrule.eq),
        ("add", lambda x, y: x + y),
        ("mul", lambda x, y: x * y),
    ],
)
def test_broadcast_mismatch_raises_shape_error_naming_op_and_shapes(name, fn):
    x, y = chainrule.ones(2, 3), chainrule.ones(4, 3)
    with pytest.raises(ShapeError) as info:
        fn(x, y)
    message = str(info.value)
    assert message.startswith(f"{name}:"), message
    assert "(2, 3)" in message and "(4, 3)" in message, message


def test_where_broadcast_mismatch_names_the_op_and_every_shape():
    condition = chainrule.ones(2, dtype=chainrule.bool)
    with pytest.raises(ShapeError, match=r"^where:.*\(2,\).*\(3,\).*\(4,\)"):
        chainrule.where(condition, chainrule.ones(3), chainrule.ones(4))


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.ones(2, 3) * t.ones(4),
        lambda t: t.ones(2, 3, 4) + t.ones(5, 1, 6),  # the last clashing dimension is named
        lambda t: t.ones(2, 3).add_(t.ones(4, 3)),
        lambda t: t.where(t.ones(2, 3) > 0, t.ones(3, 1), t.ones(4)),  # against a's broadcast
        lambda t: t.lerp(t.ones(2, 3), t.ones(3), t.ones(5)),
        lambda t: t.addcmul(t.ones(2, 3), t.ones(3), t.ones(5, 1)),
        lambda t: t.ones(3).copy_(t.ones(2)),
    ],
)
def test_broadcast_mismatch_says_what_pytorch_says(make):
    """The message read NumPy's "operands could not be broadcast together with shapes"; it
    is PyTorch's "The size of tensor a (3) must match ...", still naming the op and shapes."""
    with pytest.raises(RuntimeError) as theirs:
        make(torch)
    with pytest.raises(ShapeError) as ours:
        make(chainrule)
    assert str(theirs.value) in str(ours.value)
    assert str(ours.value).endswith(")") and "operand shapes" in str(ours.value)


def test_shape_error_is_raised_before_any_state_change():
    x = chainrule.ones(3)
    with pytest.raises(ShapeError):
        x.add_(chainrule.ones(2, 3))
    assert x._version == 0 and x.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_tensors_cannot_require_grad(dtype):
    with pytest.raises(GradError):
        chainrule.tensor([1, 0], dtype=ours(dtype), requires_grad=True)
    with pytest.raises(GradError):
        chainrule.tensor([1, 0], dtype=ours(dtype)).requires_grad_()


def test_integer_results_of_grad_inputs_do_not_require_grad():
    x = chainrule.tensor([1.5, -2.5], requires_grad=True)
    for result in (x.to(chainrule.int64), x > 0, chainrule.sign(x).long()):
        assert not result.requires_grad


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: -chainrule.tensor([True]), DTypeError),
        (lambda: chainrule.tensor([True]) - chainrule.tensor([False]), DTypeError),
        (lambda: chainrule.tensor([1.0]) - True, DTypeError),
        (lambda: chainrule.abs(chainrule.tensor([True])), DTypeError),
        (lambda: chainrule.tensor([2]) ** -1, RuntimeError),  # a DomainError, as PyTorch
        (lambda: chainrule.tensor([True]) ** chainrule.tensor([True]), DTypeError),
        (lambda: chainrule.tensor([1, 2]) // chainrule.tensor([1, 0]), ZeroDivisionError),
        (lambda: chainrule.tensor([1, 2]) % 0, ZeroDivisionError),
        (lambda: chainrule.fmod(chainrule.tensor([1, 2]), 0), ZeroDivisionError),
        (lambda: chainrule.div(chainrule.tensor([1]), 0, rounding_mode="trunc"), ZeroDivisionError),
        (lambda: chainrule.div(chainrule.ones(2), 2, rounding_mode="round"), ValueError),
        (lambda: chainrule.add(chainrule.tensor([1]), 1, alpha=0.5), DTypeError),
        (lambda: chainrule.clamp(chainrule.ones(2)), ValueError),
        (lambda: chainrule.gelu(chainrule.ones(2), approximate="erf"), ValueError),
        (lambda: chainrule.gelu(chainrule.tensor([1])), DTypeError),
        (lambda: chainrule.frac(chainrule.tensor([1])), DTypeError),
        (lambda: chainrule.floor(chainrule.tensor([True])), DTypeError),
        (lambda: chainrule.round(chainrule.tensor([15]), decimals=-1), DTypeError),
        (lambda: chainrule.relu(chainrule.tensor([True])), DTypeError),
        (lambda: chainrule.where(chainrule.tensor([1, 0]), 1.0, 0.0), DTypeError),
        (lambda: chainrule.lerp(chainrule.ones(2), chainrule.ones(2).double(), 0.5), DTypeError),
        (
            lambda: chainrule.lerp(
                chainrule.ones(2), chainrule.ones(2), chainrule.ones(2).double()
            ),
            DTypeError,
        ),
        (lambda: chainrule.lerp(chainrule.tensor([1]), chainrule.tensor([2]), 0.5), DTypeError),
        (lambda: chainrule.ones(2) + None, TypeError),
        (lambda: chainrule.ones(2) + "a", TypeError),
        (lambda: chainrule.ones(2) * [1, 2], TypeError),
        (lambda: chainrule.ones(2).fill_(chainrule.ones(2)), ShapeError),
    ],
)
def test_refusals_match_torch(call, error):
    with pytest.raises(error):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.tensor([1, 2]) // lib.tensor([1, 0]),
        lambda lib: lib.tensor([1, 2]) % 0,
        lambda lib: 5 // lib.tensor([0]),
        lambda lib: lib.fmod(lib.tensor([1, 2]), 0),
        lambda lib: lib.div(lib.tensor([1]), 0, rounding_mode="trunc"),
        lambda lib: lib.tensor([4]).floor_divide_(lib.tensor([0])),
    ],
)
def test_integer_division_by_zero_is_torchs_runtime_error(call):
    """PyTorch raises RuntimeError("ZeroDivisionError"): a script's `except RuntimeError`
    must catch ours too (which is also Python's ZeroDivisionError)."""
    with pytest.raises(RuntimeError, match="ZeroDivisionError") as theirs:
        call(torch)
    assert type(theirs.value) is RuntimeError
    with pytest.raises(RuntimeError, match="division by zero") as ours:
        call(chainrule)
    assert isinstance(ours.value, ZeroDivisionError)


def test_out_argument_writes_and_refuses_autograd():
    out = chainrule.zeros(3)
    result = chainrule.add(chainrule.ones(3), 2, out=out)
    assert result is out and out.tolist() == [3.0, 3.0, 3.0]
    resized = chainrule.empty(0)
    chainrule.mul(chainrule.ones(2, 2), 3, out=resized)
    assert resized.shape == (2, 2) and resized.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    with pytest.raises(GradError):
        chainrule.add(chainrule.ones(3, requires_grad=True), 1, out=chainrule.zeros(3))
    with pytest.raises(DTypeError):
        chainrule.div(chainrule.ones(3), 2, out=chainrule.zeros(3, dtype=chainrule.int64))


# ---- (e) reflected operators ----------------------------------------------------------------


REFLECTED = {
    "s + t": lambda s, t: s + t,
    "s - t": lambda s, t: s - t,
    "s * t": lambda s, t: s * t,
    "s / t": lambda s, t: s / t,
    "s ** t": lambda s, t: s**t,
    "s // t": lambda s, t: s // t,
    "s % t": lambda s, t: s % t,
    "t - s": lambda s, t: t - s,
    "t / s": lambda s, t: t / s,
    "t ** s": lambda s, t: t**s,
}


@pytest.mark.parametrize("scalar", [2, 2.5, np.float64(1.5), np.ones(3), np.arange(1, 4)], ids=repr)
@pytest.mark.parametrize("expression", sorted(REFLECTED))
def test_reflected_operators_with_scalars_and_arrays(scalar, expression):
    op = REFLECTED[expression]
    data = np.array([0.5, 1.25, 2.0])
    t = chainrule.tensor(data, requires_grad=True)
    tt = torch.tensor(data, requires_grad=True)
    torch_scalar = torch.from_numpy(scalar) if isinstance(scalar, np.ndarray) else scalar
    if isinstance(scalar, np.float64):
        torch_scalar = float(scalar)
    out, expected = op(scalar, t), op(torch_scalar, tt)
    assert type(out) is chainrule.Tensor
    assert_same_tensor(out, expected)
    if expression == "s // t" or (expression == "s % t" and not isinstance(scalar, np.ndarray)):
        # torch has no derivative for these (floor_divide, remainder.Scalar_Tensor)
        for result, source, lib in ((out, t, chainrule), (expected, tt, torch)):
            assert type(result.grad_fn).__name__ == "NotImplemented"
            with pytest.raises(RuntimeError, match="is not implemented"):
                lib.autograd.grad(result.sum(), source)
        return
    (grad,) = chainrule.autograd.grad(out.sum(), t)
    (expected_grad,) = torch.autograd.grad(expected.sum(), tt)
    assert_same_tensor(grad, expected_grad)


def test_numpy_array_times_tensor_is_a_chainrule_tensor():
    t = chainrule.ones(3, dtype=chainrule.float32, requires_grad=True)
    out = np.ones(3) * t
    assert type(out) is chainrule.Tensor
    assert out.dtype is chainrule.float64  # a float64 array is a dimensioned float64 operand
    assert out.requires_grad
    assert type(t * np.ones(3)) is chainrule.Tensor
    assert type(np.ones(3) - t) is chainrule.Tensor
    assert type(np.float32(2.0) * t) is chainrule.Tensor


def test_add_and_sub_alpha_with_scalars_match_torch():
    x, tx = pair([1.0, 2.0], "float32")
    i, ti = pair([1, 2], "int64")
    assert_same_tensor(x.add(2, alpha=3), tx.add(2, alpha=3))
    assert_same_tensor(i.add(2, alpha=3), ti.add(2, alpha=3))
    assert_same_tensor(x.sub(i, alpha=0.5), tx.sub(ti, alpha=0.5))
    assert_same_tensor(chainrule.rsub(x, 1.0, alpha=2), torch.rsub(tx, 1.0, alpha=2))


# ---- integer and rounding semantics ----------------------------------------------------------


def test_division_rounding_modes_match_torch():
    # (1e300 % 1e-10 is left out: PyTorch's vectorised kernel gives nan, its scalar one and
    # chainrule the exact 5.48e-11.)
    a = np.array([7.0, -7.0, 0.3, -0.3, 1.0, 5.0, -0.0, 1e30, 0.5])
    b = np.array([2.0, 2.0, 0.1, 0.1, 0.1, -0.7, 3.0, 1e-10, -0.25])
    for dtype in ("float64", "float32"):
        x, tx = pair(a, dtype)
        y, ty = pair(b, dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for mode in ("floor", "trunc"):
                expected = torch.div(tx, ty, rounding_mode=mode)
                assert_same_tensor(chainrule.div(x, y, rounding_mode=mode), expected, exact=True)
            assert_same_tensor(chainrule.floor_divide(x, y), torch.floor_divide(tx, ty), exact=True)
            assert_same_tensor(x // y, tx // ty, exact=True)
            assert_same_tensor(x % y, tx % ty)
            assert_same_tensor(chainrule.fmod(x, y), torch.fmod(tx, ty))


def test_integer_division_is_exact_and_matches_torch():
    a = np.array([7, -7, 7, -7, 0, 2**62 + 1, -(2**62) - 1])
    b = np.array([2, 2, -2, -2, 3, 1, 3])
    x, tx = pair(a, "int64")
    y, ty = pair(b, "int64")
    for mode in ("floor", "trunc"):
        assert_same_tensor(
            chainrule.div(x, y, rounding_mode=mode),
            torch.div(tx, ty, rounding_mode=mode),
            exact=True,
        )
    assert_same_tensor(x // y, tx // ty, exact=True)
    assert_same_tensor(x % y, tx % ty, exact=True)
    assert_same_tensor(chainrule.fmod(x, y), torch.fmod(tx, ty), exact=True)
    assert_same_tensor(x / y, tx / ty)
    small, t_small = pair([7, -7, 5], "int8")
    assert_same_tensor(
        chainrule.div(small, 2, rounding_mode="trunc"), torch.div(t_small, 2, rounding_mode="trunc")
    )


def test_integer_pow_matches_torch_including_negative_exponents():
    base, t_base = pair([2, 1, -1, -1, 0, 3, -2], "int64")
    exponent, t_exponent = pair([-1, -3, -1, -2, 2, 3, 3], "int64")
    assert_same_tensor(base**exponent, t_base**t_exponent, exact=True)
    assert_same_tensor(2**exponent, 2**t_exponent, exact=True)
    assert_same_tensor(base**2, t_base**2, exact=True)
    assert_same_tensor(base**0.5, t_base**0.5)
    assert_same_tensor(chainrule.float_power(base, exponent), torch.float_power(t_base, t_exponent))


def test_round_floor_ceil_trunc_frac_match_torch():
    data = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.26, -1.26, 123.456]
    for dtype in ("float64", "float32", "float16"):
        x, tx = pair(data, dtype)
        for name in ("round", "floor", "ceil", "trunc", "frac"):
            assert_same_tensor(getattr(chainrule, name)(x), getattr(torch, name)(tx), exact=True)
        for decimals in (1, 2, -1):
            expected = torch.round(tx, decimals=decimals)
            np.testing.assert_allclose(
                as_numpy(chainrule.round(x, decimals=decimals)).astype(float),
                as_numpy(expected).astype(float),
                rtol=1e-3 if dtype == "float16" else 1e-6,
            )
    i, ti = pair([1, -2, 3], "int64")
    for name in ("round", "floor", "ceil", "trunc"):
        result = getattr(chainrule, name)(i)
        assert_same_tensor(result, getattr(torch, name)(ti), exact=True)
        assert result is not i


def test_special_values_match_torch():
    data = [float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1.0]
    for dtype in ("float32", "float64", "float16"):
        x, tx = pair(data, dtype)
        assert_same_tensor(chainrule.sign(x), torch.sign(tx), exact=True)
        assert_same_tensor(chainrule.nan_to_num(x), torch.nan_to_num(tx), exact=True)
        assert_same_tensor(
            chainrule.nan_to_num(x, nan=2.0, posinf=3.0), torch.nan_to_num(tx, nan=2.0, posinf=3.0)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            assert_same_tensor(chainrule.relu(x), torch.relu(tx), exact=True)
            assert_same_tensor(chainrule.sigmoid(x), torch.sigmoid(tx))
            assert_same_tensor(chainrule.clamp(x, -1, 0.5), torch.clamp(tx, -1, 0.5), exact=True)
            assert_same_tensor(chainrule.maximum(x, x.flip(0)), torch.maximum(tx, tx.flip(0)))
            assert_same_tensor(chainrule.fmax(x, x.flip(0)), torch.fmax(tx, tx.flip(0)))
            assert_same_tensor(chainrule.fmin(x, x.flip(0)), torch.fmin(tx, tx.flip(0)))
    i, ti = pair([1, 2], "int64")
    assert_same_tensor(chainrule.nan_to_num(i), torch.nan_to_num(ti), exact=True)


def test_clamp_dtypes_and_nan_bounds_match_torch():
    i, ti = pair([-3, 2, 5], "int32")
    x, tx = pair([-3.0, 2.0, 5.0], "float32")
    nan_bound, t_nan_bound = pair([float("nan"), 0.0, 1.0], "float32")
    cases = [
        (lambda a: chainrule.clamp(a, 0.5), lambda a: torch.clamp(a, 0.5)),
        (lambda a: chainrule.clamp(a, 0, 3), lambda a: torch.clamp(a, 0, 3)),
        (lambda a: chainrule.clamp(a, 2, 3.5), lambda a: torch.clamp(a, 2, 3.5)),
        (
            lambda a: chainrule.clamp(a, chainrule.tensor(0.5)),
            lambda a: torch.clamp(a, torch.tensor(0.5)),
        ),
        (
            lambda a: chainrule.clamp(a, chainrule.tensor([0, 1, 2], dtype=chainrule.int64)),
            lambda a: torch.clamp(a, torch.tensor([0, 1, 2])),
        ),
        (
            lambda a: chainrule.clamp(a, chainrule.tensor([0.0, 1, 2], dtype=chainrule.float64)),
            lambda a: torch.clamp(a, torch.tensor([0.0, 1, 2], dtype=torch.float64)),
        ),
        (
            lambda a: chainrule.clamp(a, chainrule.tensor(2.0), 3.5),
            lambda a: torch.clamp(a, torch.tensor(2.0), 3.5),
        ),
    ]
    for fn, torch_fn in cases:
        assert_same_tensor(fn(i), torch_fn(ti))
        assert_same_tensor(fn(x), torch_fn(tx))
    assert_same_tensor(chainrule.clamp(x, nan_bound), torch.clamp(tx, t_nan_bound))
    assert_same_tensor(chainrule.clamp(x, max=nan_bound), torch.clamp(tx, max=t_nan_bound))
    assert_same_tensor(chainrule.clamp(x, float("nan")), torch.clamp(tx, float("nan")))


@pytest.mark.parametrize(
    "low, high",
    [(0.0, -1.0), (0.0, 0.0), (0.0, None), (None, 0.0), (-1.0, 0.0), (float("nan"), 0.0)],
)
def test_clamp_at_a_zero_bound_keeps_signed_zeros_only_where_the_result_is_zero(low, high):
    """Signed zeros at a zero bound are kept (PyTorch's max(x, 0) gives x on a tie), but a
    zero the other bound moves is moved: clamp(0., min=0, max=-1) is -1 (it was 0); bools too."""
    data = [-2.0, -0.5, -0.0, 0.0, 0.5, 2.0]
    for dtype in ("float64", "bool"):
        x, tx = pair(data, "float64") if dtype == "float64" else pair([1, 0, 1], "bool")
        ours, theirs = chainrule.clamp(x, low, high), torch.clamp(tx, low, high)
        assert_same_tensor(ours, theirs, exact=True)
        assert np.array_equal(np.signbit(ours.numpy()), np.signbit(theirs.numpy()))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int64"])
@pytest.mark.parametrize(
    "bounds",
    [(-2, None), (None, -2), (-2, 2), (300, None), (None, 300), (-255, None), (-256, None)]
    + [(-129, None), (None, 127), (False, True), (1.5, None)],
    ids=str,
)
def test_clamp_of_integers_converts_number_bounds_as_torch(dtype, bounds):
    """A number bound of an integer tensor converts as PyTorch's fill does: -2 on uint8 wraps
    to 254, 300 (or -256) overflows with RuntimeError (chainrule clipped some silently and
    raised OverflowError for others)."""
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([1, 0, 3], dtype=getattr(lib, dtype))
        try:
            out = lib.clamp(x, *bounds)
            results.append((out.tolist(), str(out.dtype).split(".")[1]))
        except RuntimeError as error:
            results.append(("overflow" in str(error), "RuntimeError"))
    assert results[0] == results[1]


@pytest.mark.parametrize("mantissa", ["float64", "float32", "float16", "int64"])
@pytest.mark.parametrize("exponent", ["float64", "float32", "float16", "int64", "int32"])
def test_ldexp_takes_two_to_a_floating_exponent_in_its_dtype_as_torch(mantissa, exponent):
    """ldexp(x, e) is x * 2.0**e with 2.0**e in e's dtype when e is floating (float64 x with
    float32 e is float32's 2**-0.5 times x; chainrule computed it in float64)."""
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([0.0, 4.0, -3.0, 1.0], dtype=getattr(lib, mantissa))
        e = lib.tensor([-2.0, -0.5, 3.0, 1.5] if "float" in exponent else [-2, 1, 3, 200])
        out = lib.ldexp(x, e.to(getattr(lib, exponent)))
        results.append((str(out.dtype).split(".")[1], [float(v) for v in out.tolist()]))
    assert results[0] == results[1]


@pytest.mark.parametrize("exponent", [0, 0.0, 2, 2.5, -1, True])
@pytest.mark.parametrize("dtype", ["complex64", "float32", "int64"])
def test_float_power_with_a_number_exponent_is_pow_of_a_scalar_as_torch(dtype, exponent):
    """float_power(x, number) is PyTorch's pow(Tensor, Scalar) in double: a number 0 gives 1
    at a complex zero base (it gave nan + nan j)."""
    results = []
    for lib in (chainrule, torch):
        out = lib.float_power(lib.tensor([0, 1, 2], dtype=getattr(lib, dtype)), exponent)
        results.append((str(out.dtype).split(".")[1], np.asarray(out.tolist())))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])  # nan for nan


def test_where_and_lerp_dtypes_match_torch():
    condition, t_condition = pair([True, False], "bool")
    for x_value, y_value in [(1.0, 0), (1, 0), (True, False), (1, 0.5)]:
        assert_same_tensor(
            chainrule.where(condition, x_value, y_value), torch.where(t_condition, x_value, y_value)
        )
    i, ti = pair([1, 2], "int32")
    assert_same_tensor(chainrule.where(condition, i, 2.5), torch.where(t_condition, ti, 2.5))
    x, tx = pair([1.0, 2.0], "float32")
    weight = chainrule.tensor(0.25, dtype=chainrule.float64)
    expected = torch.lerp(tx, tx * 3, torch.tensor(0.25, dtype=torch.float64))
    assert_same_tensor(chainrule.lerp(x, x * 3, weight), expected)
    start, t_start = pair([1.0], "float32", 0)
    assert_same_tensor(chainrule.lerp(start, x, 0.5), torch.lerp(t_start, tx, 0.5))


def test_uint8_and_small_ints_wrap_like_torch():
    u, tu = pair([3, 250], "uint8")
    assert_same_tensor(u + 10, tu + 10, exact=True)
    assert_same_tensor(-u, -tu, exact=True)
    assert_same_tensor(u - 5, tu - 5, exact=True)
    assert_same_tensor(u + -1, tu + -1, exact=True)
    s, ts = pair([100, -100], "int8")
    assert_same_tensor(s * 2, ts * 2, exact=True)


# ---- derivatives: pow at zero, copies, fill, in-place activations ----------------------------


def _second_derivative(fn, x0):
    x = chainrule.tensor([x0], dtype=chainrule.float64, requires_grad=True)
    (first,) = chainrule.autograd.grad(fn(x).sum(), x, create_graph=True)
    if not first.requires_grad:
        return float(first), 0.0
    (second,) = chainrule.autograd.grad(first.sum(), x)
    return float(first), float(second)


@pytest.mark.parametrize(
    "exponent, first, second", [(0, 0.0, 0.0), (1, 1.0, 0.0), (2, 0.0, 2.0), (3, 0.0, 0.0)]
)
def test_pow_derivatives_at_zero_are_exact(exponent, first, second):
    """At x == 0, as torch: a number exponent gives the exact derivatives; a tensor exponent
    of 0 masks 0 * x ** -1, so its second derivative there is torch's nan (0 * inf)."""
    assert _second_derivative(lambda x: x**exponent, 0.0) == (first, second)
    y = chainrule.tensor([float(exponent)], dtype=chainrule.float64)
    tensor_first, tensor_second = _second_derivative(lambda x: chainrule.pow(x, y), 0.0)
    assert tensor_first == first
    if exponent == 0:
        assert math.isnan(tensor_second)
    else:
        assert tensor_second == second


def test_pow_exponent_gradient_at_zero_base_matches_torch():
    x = chainrule.tensor([0.0, 0.0, 0.0], requires_grad=True)
    y = chainrule.tensor([0.0, 2.0, -1.0], requires_grad=True)
    tx = torch.tensor([0.0, 0.0, 0.0], requires_grad=True)
    ty = torch.tensor([0.0, 2.0, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        grads = chainrule.autograd.grad((x**y).sum(), [x, y])
    expected = torch.autograd.grad((tx**ty).sum(), [tx, ty])
    for mine, reference in zip(grads, expected):
        assert_same_tensor(mine, reference)


@pytest.mark.parametrize(
    "function",
    [
        lambda lib, x: x**0,
        lambda lib, x: x**0.0,
        lambda lib, x: x ** lib.tensor([0.0, 0.0, 2.0], dtype=lib.float64),
        lambda lib, x: lib.sinc(x),
    ],
    ids=["pow 0", "pow 0.0", "pow tensor", "sinc"],
)
def test_masked_derivatives_are_positive_zeros_whatever_the_cotangents_sign(function):
    """PyTorch masks pow's base derivative where the exponent is 0, and sinc's at x = 0, after
    multiplying by the cotangent: a negative cotangent still gives +0 there (a printed
    gradient reads 0., not -0.)."""
    values, cotangent = [-2.0, 0.0, 3.0], [-1.0, -1.0, -1.0]
    x = chainrule.tensor(values, dtype=chainrule.float64, requires_grad=True)
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (grad,) = chainrule.autograd.grad(function(chainrule, x), x, chainrule.tensor(cotangent))
    (expected,) = torch.autograd.grad(function(torch, tx), tx, torch.tensor(cotangent))
    np.testing.assert_array_equal(grad.numpy(), expected.numpy())
    np.testing.assert_array_equal(np.signbit(grad.numpy()), np.signbit(expected.numpy()))


def test_fill_and_copy_on_non_leaf_rewrite_history_like_torch():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.fill_(5.0)
    assert y.grad_fn is not None and y.requires_grad
    (y * x).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    src = chainrule.tensor([4.0], requires_grad=True)
    z = (x * 1).copy_(src)
    (grad,) = chainrule.autograd.grad(z.sum(), src)
    assert grad.tolist() == [2.0]


def test_copy_casts_and_gradient_returns_in_source_dtype():
    src = chainrule.tensor([1.5, 2.5], dtype=chainrule.float32, requires_grad=True)
    target = chainrule.zeros(2, dtype=chainrule.float64) * 1
    target.copy_(src)
    assert target.dtype is chainrule.float64
    (grad,) = chainrule.autograd.grad((target * target).sum(), src)
    assert grad.dtype is chainrule.float32 and grad.tolist() == [3.0, 5.0]


def test_cast_gradient_comes_back_in_input_dtype():
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    (grad,) = chainrule.autograd.grad((x.to(chainrule.float32) * 2).sum(), x)
    assert grad.dtype is chainrule.float64 and grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize(
    "name, kwargs",
    [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}), ("silu", {})],
)
def test_inplace_activations_on_non_leaf_match_torch(name, kwargs):
    data = np.array([-1.5, 0.5, 2.0])
    x = chainrule.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    y = getattr(chainrule, name)(x * 2, inplace=True, **kwargs)
    ty = getattr(torch.nn.functional, name)(tx * 2, inplace=True, **kwargs)
    assert_same_tensor(y, ty)
    (grad,) = chainrule.autograd.grad(y.sum(), x)
    (expected,) = torch.autograd.grad(ty.sum(), tx)
    assert_same_tensor(grad, expected)


FLOOR_DIVISIONS = {
    "broadcast": (lambda lib, x, y: lib.floor_divide(x, y), (2, 3), (3,)),
    "operator": (lambda lib, x, y: x // y, (2, 3), (2, 3)),
    "negative_divisor": (lambda lib, x, y: x // -y, (4,), (4,)),
    "by_number": (lambda lib, x, y: x // 0.37, (5,), (1,)),
    "number_by_tensor": (lambda lib, x, y: 3 // y, (1,), (4,)),
    "float16_by_number": (lambda lib, x, y: x.to(lib.float16) // 0.37, (6,), (1,)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", FLOOR_DIVISIONS)
def test_floor_divide_values_match_torch(name, dtype):
    """floor_divide's values (it has no derivative, so no op spec checks it), as torch's:
    Python's exact floor of the quotient, broadcast, with negative divisors and half inputs."""
    call, x_shape, y_shape = FLOOR_DIVISIONS[name]
    rng = np.random.default_rng(0)
    x = rng.uniform(-5.0, 5.0, x_shape).astype(dtype)
    y = rng.uniform(0.3, 1.7, y_shape).astype(dtype)
    ours = call(chainrule, chainrule.tensor(x), chainrule.tensor(y))
    theirs = call(torch, torch.tensor(x), torch.tensor(y))
    assert_same_tensor(ours, theirs)


def test_piecewise_constant_ops_give_zero_gradients_like_torch():
    data = np.array([1.3, -2.7, 0.4])
    for fn in (
        chainrule.floor,
        chainrule.ceil,
        chainrule.round,
        chainrule.trunc,
        chainrule.sign,
        lambda t: chainrule.div(t, 0.7, rounding_mode="floor"),
        lambda t: chainrule.div(t, 0.7, rounding_mode="trunc"),
    ):  # `t // 0.7` has none: PyTorch's floor_divide is recorded without a derivative
        x = chainrule.tensor(data, requires_grad=True)
        out = fn(x)
        assert out.requires_grad
        out.sum().backward()
        assert x.grad is not None and x.grad.tolist() == [0.0, 0.0, 0.0]


# ---- jvp rules: <jvp(t), c> == <t, vjp(c)> at every elementwise node ---------------------------


def _draw(spec, rng):
    if spec.complex:
        return _draw_inputs(spec, spec.shapes[0], rng)
    if spec.make_inputs is not None:
        return tuple(np.asarray(a) for a in spec.make_inputs(rng))
    shapes = spec.shapes[0]
    domains = spec.domains or [(-2.0, 2.0)] * len(shapes)
    return tuple(rng.uniform(lo, hi, size=shape) for shape, (lo, hi) in zip(shapes, domains))


def _elementwise_nodes(outputs):
    """Every node of an elementwise op reachable from `outputs` (iterative walk)."""
    seen, nodes = set(), []
    stack = [o.grad_fn for o in outputs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op is not None and node.op.__module__ in ELEMENTWISE_MODULES:
            nodes.append(node)
        stack.extend(edge[0] for edge in node.next_edges if edge is not None)
    return nodes


def _spec_nodes(spec, rng):
    arrays = _draw(spec, rng)
    inputs = [
        chainrule.tensor(a, requires_grad=True) if a.dtype.kind in "fc" else chainrule.tensor(a)
        for a in arrays
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        outputs = spec.fn(*inputs, **spec.kwargs)
    outputs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    return _elementwise_nodes([o for o in outputs if isinstance(o, chainrule.Tensor)])


def _random_tensor(rng, shape, dtype):
    return chainrule.tensor(rng.standard_normal(shape).astype(dtype.numpy))


def _inner(a, b):
    return float(np.sum(as_numpy(a).astype(np.float64) * as_numpy(b).astype(np.float64)))


def _inner_abs(a, b):
    return float(np.sum(np.abs(as_numpy(a).astype(np.float64) * as_numpy(b).astype(np.float64))))


def test_jvp_rules_are_the_transpose_of_the_vjp_rules():
    rng = np.random.default_rng(0)
    checked = set()
    for spec in SPECS:
        for node in _spec_nodes(spec, rng):
            if node.op.jvp is None:
                continue
            tangents = [
                None if edge is None else _random_tensor(rng, shape, dtype)
                for edge, (shape, dtype) in zip(node.next_edges, node.input_meta)
            ]
            output_shape = np.broadcast_shapes(*(shape for shape, _ in node.input_meta))
            if node.op is ew.CopyFrom:
                output_shape = node.input_meta[0][0]
            cotangent = _random_tensor(rng, output_shape, chainrule.float64)
            with chainrule.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                tangent_out = node.op.jvp(node, *tangents)
                grads = node.op.vjp(node, cotangent)
            if tangent_out is not None:
                assert tuple(tangent_out.shape) == tuple(output_shape), (spec.name, node.name())
            expected = sum(
                _inner(t, g) for t, g in zip(tangents, grads) if t is not None and g is not None
            )
            actual = 0.0 if tangent_out is None else _inner(tangent_out, cotangent)
            if np.isnan(expected) and np.isnan(actual):
                continue
            floating = [d.itemsize for _, d in node.input_meta if d.is_floating_point]
            narrowest = min(floating, default=node.input_meta[0][1].itemsize)  # s * x: x's
            rounding = {2: 1e-2, 4: 1e-5}.get(narrowest, 0.0)
            if node.op is conversion.Cast:  # the tangent is rounded to the output's dtype
                rounding = 1e-2
            tolerance = max(1e-6, rounding)
            # Rounding errors scale with the terms summed, not with their (maybe cancelling) sum.
            scale = sum(
                _inner_abs(t, g) for t, g in zip(tangents, grads) if t is not None and g is not None
            )
            if np.isfinite(scale):
                error = abs(actual - expected)
                assert error <= tolerance * scale + 1e-9, (spec.name, node.name(), error, scale)
            else:  # infinite terms (a pole on the grid): the two sides must agree exactly
                assert np.isclose(actual, expected, rtol=tolerance), (spec.name, node.name())
            checked.add(node.op)
    # Ops on complex input only: check_op's complex specs check their jvp against their vjp,
    # with complex tangents and the real inner product Re <a, b> (tests/op_specs/complex.py).
    complex_only = {ew.ComplexAbs}
    missing = {
        op.__name__
        for op in _differentiable_ops()
        if op.jvp is not None and op not in checked and op not in complex_only
    }
    assert not missing, f"jvp rules never exercised: {sorted(missing)}"
    assert ew.Lerp in checked and ew.ClampTensor in checked


def _differentiable_ops():
    return [
        value
        for module in (ew, conversion)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Op)
        and value is not Op
        and value.__module__ == module.__name__
        and value.differentiable
        # recorded without a derivative, as PyTorch's: a backward through them raises, so no
        # spec can check one (tests/test_torch_gaps.py checks that they raise)
        and not issubclass(value, NoDerivative)
    ]


def test_every_differentiable_elementwise_op_has_a_spec():
    rng = np.random.default_rng(1)
    covered = set()
    for spec in SPECS + COMPLEX_SPECS:
        covered.update(node.op for node in _spec_nodes(spec, rng))
    missing = sorted(op.__name__ for op in _differentiable_ops() if op not in covered)
    assert not missing, f"ops without an OpSpec in tests/op_specs/elementwise.py: {missing}"
    assert all(op.jvp is not None for op in _differentiable_ops()), [
        op.__name__ for op in _differentiable_ops() if op.jvp is None
    ]


@pytest.mark.parametrize("operation", ["add", "sub", "mul", "div", "radd", "rmul"])
def test_a_half_tensor_and_a_python_number_round_once_as_torch(operation):
    """float16 with a Python number gives PyTorch's bits: mul and div compute in float32 and
    round once (3 * 0.1 is 0.30005, not 0.2998); add and sub round the number first."""
    values = np.linspace(-4, 4, 41)
    apply_to = {
        "add": lambda t: t + 0.1,
        "sub": lambda t: t - 0.1,
        "mul": lambda t: t * 0.1,
        "div": lambda t: t / 0.3,
        "radd": lambda t: 0.1 + t,
        "rmul": lambda t: 0.1 * t,
    }[operation]
    ours = apply_to(chainrule.tensor(values, dtype=chainrule.float16))
    theirs = apply_to(torch.tensor(values, dtype=torch.float16))
    assert ours.dtype == chainrule.float16
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_inf_and_nan_come_without_numpy_warnings_as_in_torch():
    """PyTorch yields inf and nan silently; NumPy would warn from inside chainrule's files."""
    x = chainrule.tensor([0.0, -1.0, 1000.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        values = [x.log(), x.sqrt(), x.exp(), 1 / x, x / x, x.log() * 0]
        sum(v.sum() for v in values).backward()
        optimizer = chainrule.optim.SGD([x], lr=float("inf"))
        optimizer.step()
    assert chainrule.isinf(values[0][0]).item() and chainrule.isnan(values[1][1]).item()
    with chainrule.no_grad():  # torch agrees on every value
        t = torch.tensor([0.0, -1.0, 1000.0])
        for mine, theirs in zip(values, [t.log(), t.sqrt(), t.exp(), 1 / t, t / t, t.log() * 0]):
            np.testing.assert_allclose(mine.detach().numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_atan2_at_the_origin_has_torchs_zero_gradient(dtype):
    """1 / (x^2 + y^2) is inf at the origin (and where the squares underflow): PyTorch masks
    it to 0, so atan2's gradient there is 0, not 0 * inf = nan."""
    x_values, y_values = [0.0, 1e-30, 1.0], [0.0, 1e-30, 2.0]
    mine = [
        chainrule.tensor(v, dtype=getattr(chainrule, dtype), requires_grad=True)
        for v in (x_values, y_values)
    ]
    theirs = [
        torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True)
        for v in (x_values, y_values)
    ]
    chainrule.atan2(*mine).sum().backward()
    torch.atan2(*theirs).sum().backward()
    for ours, reference in zip(mine, theirs):
        np.testing.assert_allclose(ours.grad.numpy(), reference.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("alpha", [0, 1, 2, True])
@pytest.mark.parametrize("other", [[True, True, False, False], True])
def test_adding_bools_with_an_alpha_stays_bool_as_torch(alpha, other):
    """torch.add(bool, bool, alpha=2) is bool: alpha is taken as a bool (x | (alpha & y))."""
    x = [True, False, True, False]

    def result(lib):
        y = lib.tensor(other) if isinstance(other, list) else other
        return lib.add(lib.tensor(x), y, alpha=alpha)

    ours, theirs = result(chainrule), result(torch)
    assert ours.dtype == chainrule.bool and theirs.dtype == torch.bool
    assert ours.tolist() == theirs.tolist()


def test_isclose_of_0d_tensors_is_a_0d_tensor_that_reduces():
    """NumPy's isclose gives a NumPy bool_ for 0-d arrays: the result must still be an array
    (cummax over it once failed with a view error)."""
    close = chainrule.isclose(chainrule.tensor(3), chainrule.tensor(3))
    assert close.shape == () and close.item() is True
    assert chainrule.cummax(close, 0).values.item() is True
    assert torch.cummax(torch.isclose(torch.tensor(3), torch.tensor(3)), 0).values.item() is True


def test_isclose_of_unbroadcastable_shapes_is_torchs_runtime_error():
    with pytest.raises(RuntimeError):
        torch.isclose(torch.ones(2), torch.ones(3))
    with pytest.raises(RuntimeError):
        chainrule.isclose(chainrule.ones(2), chainrule.ones(3))


@pytest.mark.parametrize(
    "x_dtype, y_dtype, alpha",
    [
        ("float16", "int8", 0.5),
        ("float32", "int64", 0.25),
        ("float16", "float32", 2),
        ("int32", "int8", 3),
    ],
)
@pytest.mark.parametrize("name", ["add", "sub"])
def test_alpha_scales_other_in_the_results_dtype_as_torch(name, x_dtype, y_dtype, alpha):
    """torch.sub(float16, int8, alpha=0.5) is float16: alpha * other is computed in the
    result's dtype, not in the default float dtype."""

    def result(lib):
        x = lib.tensor([[1.0, 2.0, 3.0]]).to(getattr(lib, x_dtype))
        y = lib.tensor([1, 0, 1]).to(getattr(lib, y_dtype))
        return getattr(lib, name)(x, y, alpha=alpha)

    ours, theirs = result(chainrule), result(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 3])
def test_relu_backward_on_a_large_array_is_pytorchs_threshold_backward(dtype, threads):
    """The blocked path (over the intra-op threads) drops the gradient at ties at 0 and where
    g is NaN but out <= 0, keeps it where out is NaN, and its own derivative is the mask."""
    from chainrule.backend import parallel

    rng = np.random.default_rng(13)
    x = rng.standard_normal((64, 3, 17, 19)).astype(dtype)
    x[0, 0, 0, :3] = [0.0, -0.0, np.nan]
    g = rng.standard_normal(x.shape).astype(dtype)
    g[0, 0, 1, :2] = [np.nan, np.nan]
    x[0, 0, 1, :2] = [-1.0, 1.0]
    before, grain = parallel.get_threads(), parallel.GRAIN
    try:
        parallel.set_threads(threads)
        parallel.GRAIN = 1000
        tensor = chainrule.tensor(x, requires_grad=True)
        cotangent = chainrule.tensor(g, requires_grad=True)
        (grad,) = chainrule.autograd.grad(
            chainrule.relu(tensor), tensor, cotangent, create_graph=True
        )
        (mask,) = chainrule.autograd.grad(grad.sum(), cotangent)
    finally:
        parallel.set_threads(before)
        parallel.GRAIN = grain
    expected = torch.tensor(x, requires_grad=True)
    torch.relu(expected).backward(torch.tensor(g))
    np.testing.assert_array_equal(grad.detach().numpy(), expected.grad.numpy())
    np.testing.assert_array_equal(mask.numpy(), ~(x <= 0))


@pytest.mark.parametrize("dtype_name", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("weight", [0.3, 0.7, -0.2, 1.5, "tensor"])
def test_lerp_rounds_its_multiply_add_once_as_torchs_fused_kernel(dtype_name, weight):
    """torch's lerp is start + w (end - start) as one fused multiply-add (float32 opmath for
    the half dtypes, a Python weight taken as float32, not rounded to float16 first); two
    roundings differed in about a sixth of the float32 elements. The gradients of a Python
    weight's lerp multiply by that float32 number too (LerpBackward0)."""
    start = (np.sin(np.arange(2000) * 1.7) * 3).astype(np.float32)
    end = np.cos(np.arange(2000) * 0.3).astype(np.float32)
    results = []
    for library in (chainrule, torch):
        dtype = getattr(library, dtype_name)
        a = library.tensor(start).to(dtype).requires_grad_(True)
        b = library.tensor(end).to(dtype).requires_grad_(True)
        w = library.full((2000,), 0.4).to(dtype) if weight == "tensor" else weight
        out = library.lerp(a, b, w)
        out.backward(library.tensor(end).to(dtype))
        results.append([t.detach().float().numpy() for t in (out, a.grad, b.grad)])
        results[-1].append(out.grad_fn.name())
    (out, grad_a, grad_b, name), (t_out, t_grad_a, t_grad_b, t_name) = results
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_array_equal(grad_a, t_grad_a)
    np.testing.assert_array_equal(grad_b, t_grad_b)
    assert name == t_name


@pytest.mark.parametrize("dtype_name", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("operation", ["add", "sub", "add_", "sub_"])
def test_add_and_sub_with_alpha_round_once_as_torchs_fused_multiply_add(dtype_name, operation):
    """torch.add(x, y, alpha=a) is fma(a, y, x): one rounding, where a multiply then an add
    differed in about a tenth of the float32 elements (and in every `p.add_(g, alpha=-lr)`
    written by hand); float16 and bfloat16 round alpha to their dtype first. Gradients: g and
    g * alpha, as AddBackward0 / SubBackward0. (2048 elements: PyTorch's float16 kernel rounds
    differently in the scalar tail of its vector loop.)"""
    x0 = (np.sin(np.arange(2048) * 1.7) * 3).astype(np.float32)
    y0 = np.cos(np.arange(2048) * 0.3).astype(np.float32)
    outs, grads = [], []
    for library in (chainrule, torch):
        dtype = getattr(library, dtype_name)
        x = library.tensor(x0).to(dtype).requires_grad_(True)
        y = library.tensor(y0).to(dtype).reshape(1, 2048).requires_grad_(True)  # broadcasts
        if operation.endswith("_"):
            out = getattr(x.detach().clone(), operation)(y.detach().reshape(2048), alpha=0.3)
        else:
            out = getattr(library, operation)(x, y, alpha=0.3)
            out.backward(library.tensor(x0).to(dtype).reshape(1, 2048))
            grads.append([x.grad.double().numpy(), y.grad.double().numpy(), out.grad_fn.name()])
        outs.append(out.detach().double().numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    if grads:
        (grad_x, grad_y, name), (t_grad_x, t_grad_y, t_name) = grads
        np.testing.assert_array_equal(grad_x, t_grad_x)
        np.testing.assert_array_equal(grad_y, t_grad_y)
        assert name == t_name


@pytest.mark.parametrize("dtype_name", ["float32", "float16", "bfloat16", "float64"])
def test_addcmul_rounds_as_torchs_kernel(dtype_name):
    """torch.addcmul(x, t1, t2, value=v) is fma(v * t1, t2, x) on the CPU (v * t1 rounded,
    then one fused step): three ops rounding three times differed in a twelfth of the
    float32 elements. Gradients as AddcmulBackward0 (to a unit in the last place: the order
    of torch's products is its own)."""
    x0 = (np.sin(np.arange(2048) * 1.7) * 3).astype(np.float32)
    a0 = np.cos(np.arange(2048) * 0.3).astype(np.float32).reshape(1, 2048)
    b0 = np.cos(np.arange(2048) * 0.7).astype(np.float32)
    results = []
    for library in (chainrule, torch):
        dtype = getattr(library, dtype_name)
        x, a, b = (library.tensor(v).to(dtype).requires_grad_(True) for v in (x0, a0, b0))
        out = library.addcmul(x, a, b, value=0.3)
        out.backward(library.tensor(b0).to(dtype).reshape(1, 2048))
        results.append([t.detach().double().numpy() for t in (out, x.grad, a.grad, b.grad)])
        results[-1].append(out.grad_fn.name())
    (out, *grads, name), (t_out, *t_grads, t_name) = results
    if dtype_name != "float64":  # torch's float64 fma: the last bit can differ
        np.testing.assert_array_equal(out, t_out)
    np.testing.assert_allclose(out, t_out, rtol=1e-15, atol=1e-15)
    eps = {"float32": 2**-23, "float16": 2**-10, "bfloat16": 2**-7, "float64": 2**-52}
    for grad, t_grad in zip(grads, t_grads):
        np.testing.assert_allclose(grad, t_grad, rtol=eps[dtype_name], atol=eps[dtype_name])
    assert name == t_name


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_the_divisors_gradient_is_torchs_to_the_last_bit(dtype):
    """d(x / y)/dy is -g * ((x / y) / y), in PyTorch's order: ((-g) * (x / y)) / y rounds
    differently, and a third of the divisor's gradients differed in the last bit in every
    dtype (enough for a chaotic training run to drift from PyTorch's)."""
    rng = np.random.default_rng(3)
    x_data = rng.standard_normal(4096).astype(np.float32)
    y_data = (rng.standard_normal(4096) + 3).astype(np.float32)
    cotangent = rng.standard_normal(4096).astype(np.float32)
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(x_data).to(getattr(lib, dtype)).requires_grad_()
        y = lib.tensor(y_data).to(getattr(lib, dtype)).requires_grad_()
        (x / y).backward(lib.tensor(cotangent).to(getattr(lib, dtype)))
        results.append([x.grad.double().numpy(), y.grad.double().numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)
