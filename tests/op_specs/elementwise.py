"""Specs for chainrule.ops.elementwise: one or more per differentiable op.

Domains keep away from kinks and singularities, so finite differences apply. The kink and tie
specs (`*_kink`, `*_ties`) put inputs exactly on the kink with `make_inputs` and compare
against PyTorch only (finite_differences=False): there the derivative is a convention.
"""

import numpy as np
import torch
import torch.nn.functional as F

import chainrule
from chainrule.ops import activation, elementwise, linear, losses, normalization, reduction
from chainrule.ops.op import apply
from chainrule.testing import OpSpec

BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (2, 3)), ((2, 1), ())]
UNARY_SHAPES = [((2, 3),), ((5,),), ((),)]
POSITIVE = (0.5, 2.0)
WIDE = (-2.0, 2.0)


def _away_from_zero(shape, rng, low=0.3, high=2.0):
    """Values with |x| in [low, high] and random signs: no kink at 0 in reach of finite
    differences."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _on_grid(shape, rng, grid=(-1.0, -0.5, 0.0, 0.5, 1.0)):
    """Values drawn from a small grid, so two operands tie exactly and some sit on kinks."""
    return rng.choice(np.asarray(grid), size=shape)


def _binary(name, fn, torch_fn, domains=(WIDE, WIDE), shapes=BINARY_SHAPES, **options):
    return OpSpec(name, fn, torch_fn, shapes=shapes, domains=list(domains), **options)


def _unary(name, fn, torch_fn, domain=WIDE, shapes=UNARY_SHAPES, **options):
    return OpSpec(name, fn, torch_fn, shapes=shapes, domains=[domain], **options)


# ---- arithmetic -------------------------------------------------------------------------------

ARITHMETIC = [
    _binary("add", chainrule.add, torch.add),
    _binary(
        "add_alpha",
        lambda x, y: chainrule.add(x, y, alpha=2.5),
        lambda x, y: torch.add(x, y, alpha=2.5),
    ),
    _binary(
        "add_scalar", lambda x: x + 1.5, lambda x: x + 1.5, domains=[WIDE], shapes=UNARY_SHAPES
    ),
    _binary(
        "radd_scalar", lambda x: 1.5 + x, lambda x: 1.5 + x, domains=[WIDE], shapes=UNARY_SHAPES
    ),
    _binary("sub", chainrule.sub, torch.sub),
    _binary(
        "sub_alpha",
        lambda x, y: chainrule.sub(x, y, alpha=-0.5),
        lambda x, y: torch.sub(x, y, alpha=-0.5),
    ),
    _binary(
        "sub_scalar", lambda x: x - 1.5, lambda x: x - 1.5, domains=[WIDE], shapes=UNARY_SHAPES
    ),
    _binary("rsub_scalar", lambda x: 2 - x, lambda x: 2 - x, domains=[WIDE], shapes=UNARY_SHAPES),
    _binary(
        "mul_scalar", lambda x: x * -2.5, lambda x: x * -2.5, domains=[WIDE], shapes=UNARY_SHAPES
    ),
    _binary("mul", chainrule.mul, torch.mul),
    _binary("rmul_scalar", lambda x: 3 * x, lambda x: 3 * x, domains=[WIDE], shapes=UNARY_SHAPES),
    _binary(
        "mul_same_input", lambda x: x * x, lambda x: x * x, domains=[WIDE], shapes=UNARY_SHAPES
    ),
    _binary("div", chainrule.div, torch.div, domains=[WIDE, POSITIVE]),
    _binary(
        "div_negative_divisor",
        chainrule.div,
        torch.div,
        domains=[WIDE, (-2.0, -0.5)],
        shapes=[((2, 3), (3,))],
    ),
    _binary(
        "div_scalar", lambda x: x / -3.0, lambda x: x / -3.0, domains=[WIDE], shapes=UNARY_SHAPES
    ),
    _binary(
        "rdiv_scalar", lambda x: 2 / x, lambda x: 2 / x, domains=[POSITIVE], shapes=UNARY_SHAPES
    ),
    _binary(
        "div_trunc",
        lambda x, y: chainrule.div(x, y, rounding_mode="trunc"),
        lambda x, y: torch.div(x, y, rounding_mode="trunc"),
        domains=[(-5.0, 5.0), (0.3, 1.7)],
        finite_differences=False,
    ),
    _binary(
        "div_floor",
        lambda x, y: chainrule.div(x, y, rounding_mode="floor"),
        lambda x, y: torch.div(x, y, rounding_mode="floor"),
        domains=[(-5.0, 5.0), (-1.7, -0.3)],
        finite_differences=False,
    ),
    _binary("remainder", chainrule.remainder, torch.remainder, domains=[(-5.0, 5.0), (0.7, 1.3)]),
    _binary(
        "remainder_negative_divisor",
        chainrule.remainder,
        torch.remainder,
        domains=[(-5.0, 5.0), (-1.3, -0.7)],
        shapes=[((2, 3), (3,))],
    ),
    _binary(
        "mod_operator",
        lambda x: x % 0.75,
        lambda x: x % 0.75,
        domains=[(-3.0, 3.0)],
        shapes=UNARY_SHAPES,
    ),
    _binary("fmod", chainrule.fmod, torch.fmod, domains=[(-5.0, 5.0), (0.7, 1.3)]),
    _binary(
        "fmod_negative_divisor",
        chainrule.fmod,
        torch.fmod,
        domains=[(-5.0, 5.0), (-1.3, -0.7)],
        shapes=[((2, 3), (3,))],
    ),
    _binary("atan2", chainrule.atan2, torch.atan2, domains=[WIDE, POSITIVE]),
    _binary(
        "atan2_left_half_plane",
        chainrule.atan2,
        torch.atan2,
        domains=[POSITIVE, (-2.0, -0.5)],
        shapes=[((2, 3), (2, 3))],
    ),
    _binary("maximum", chainrule.maximum, torch.maximum),
    _binary("minimum", chainrule.minimum, torch.minimum),
    _binary("fmax", chainrule.fmax, torch.fmax),
    _binary("fmin", chainrule.fmin, torch.fmin),
]

POW = [
    _binary("pow", chainrule.pow, torch.pow, domains=[POSITIVE, (-1.5, 1.5)]),
    _unary("pow_square", lambda x: x**2, lambda x: x**2),
    _unary("pow_cube", lambda x: chainrule.pow(x, 3), lambda x: torch.pow(x, 3)),
    _unary("pow_half", lambda x: x**0.5, lambda x: x**0.5, domain=POSITIVE),
    _unary("pow_negative", lambda x: x**-1.5, lambda x: x**-1.5, domain=POSITIVE),
    _unary("pow_zero", lambda x: x**0, lambda x: x**0),
    _unary("rpow_int", lambda x: 2**x, lambda x: 2**x),
    _unary("rpow_float", lambda x: 0.7**x, lambda x: 0.7**x),
    _unary(
        "pow_0d_exponent",
        lambda x: x ** chainrule.tensor(3.0, dtype=chainrule.float64),
        lambda x: x ** torch.tensor(3.0, dtype=torch.float64),
    ),
    _binary(
        "float_power",
        chainrule.float_power,
        torch.float_power,
        domains=[POSITIVE, WIDE],
        shapes=[((2, 3), (3,))],
    ),
]

# ---- unary math ---------------------------------------------------------------------------------

UNARY = [
    _unary("neg", chainrule.neg, torch.neg),
    _unary("neg_operator", lambda x: -x, lambda x: -x),
    _unary("reciprocal", chainrule.reciprocal, torch.reciprocal, domain=POSITIVE),
    _unary("reciprocal_negative", chainrule.reciprocal, torch.reciprocal, domain=(-2.0, -0.5)),
    OpSpec(
        "abs",
        chainrule.abs,
        torch.abs,
        shapes=[((2, 3),)],
        make_inputs=lambda rng: (_away_from_zero((2, 3), rng),),
    ),
    OpSpec(
        "sign",
        chainrule.sign,
        torch.sign,
        shapes=[((2, 3),)],
        make_inputs=lambda rng: (_away_from_zero((2, 3), rng),),
    ),
    _unary("exp", chainrule.exp, torch.exp),
    _unary("exp2", chainrule.exp2, torch.exp2),
    _unary("expm1", chainrule.expm1, torch.expm1),
    _unary("log", chainrule.log, torch.log, domain=POSITIVE),
    _unary("log1p", chainrule.log1p, torch.log1p, domain=(-0.5, 2.0)),
    _unary("log2", chainrule.log2, torch.log2, domain=POSITIVE),
    _unary("log10", chainrule.log10, torch.log10, domain=POSITIVE),
    _unary("sqrt", chainrule.sqrt, torch.sqrt, domain=POSITIVE),
    _unary("rsqrt", chainrule.rsqrt, torch.rsqrt, domain=POSITIVE),
    OpSpec(  # NumPy's cbrt; torch has none: the real cube root written in torch ops
        "cbrt",
        lambda x: apply(elementwise.Cbrt, (x,)),
        lambda x: torch.sign(x) * torch.abs(x) ** (1 / 3),
        shapes=UNARY_SHAPES,
        make_inputs=lambda rng: (_away_from_zero((2, 3), rng),),
    ),
    _unary("square", chainrule.square, torch.square),
    _unary("sin", chainrule.sin, torch.sin, domain=(-4.0, 4.0)),
    _unary("cos", chainrule.cos, torch.cos, domain=(-4.0, 4.0)),
    _unary("tan", chainrule.tan, torch.tan, domain=(-1.2, 1.2)),
    _unary("asin", chainrule.asin, torch.asin, domain=(-0.9, 0.9)),
    _unary("acos", chainrule.acos, torch.acos, domain=(-0.9, 0.9)),
    _unary("atan", chainrule.atan, torch.atan, domain=(-3.0, 3.0)),
    _unary("sinh", chainrule.sinh, torch.sinh),
    _unary("asinh", chainrule.asinh, torch.asinh),
    _unary("acosh", chainrule.acosh, torch.acosh, domain=(1.2, 3.0)),
    _unary("atanh", chainrule.atanh, torch.atanh, domain=(-0.9, 0.9)),
    _unary("sinc", chainrule.sinc, torch.sinc),
    _unary("deg2rad", chainrule.deg2rad, torch.deg2rad),
    _unary("rad2deg", chainrule.rad2deg, torch.rad2deg),
    _binary("logaddexp", chainrule.logaddexp, torch.logaddexp),
    _binary("logaddexp2", chainrule.logaddexp2, torch.logaddexp2),
    _binary("hypot", chainrule.hypot, torch.hypot, domains=[POSITIVE, WIDE]),
    _unary("cosh", chainrule.cosh, torch.cosh),
    _unary("tanh", chainrule.tanh, torch.tanh),
    _unary("erf", chainrule.erf, torch.erf),
    _unary("sigmoid", chainrule.sigmoid, torch.sigmoid, domain=(-6.0, 6.0)),
    _unary("logit", chainrule.logit, torch.logit, domain=(0.1, 0.9)),
    # eps clamps to [0.2, 0.8]: inputs on both sides of the clamp, gradient 0 outside it.
    _unary(
        "logit_eps",
        lambda x: chainrule.logit(x, eps=0.2),
        lambda x: torch.logit(x, eps=0.2),
        domain=(0.02, 0.98),
        shapes=[((4, 5),)],
    ),
    _unary("floor", chainrule.floor, torch.floor, domain=(-3.0, 3.0)),
    _unary("ceil", chainrule.ceil, torch.ceil, domain=(-3.0, 3.0)),
    _unary("round", chainrule.round, torch.round, domain=(-3.0, 3.0)),
    _unary(
        "round_decimals",
        lambda x: chainrule.round(x, decimals=1),
        lambda x: torch.round(x, decimals=1),
        domain=(-3.0, 3.0),
    ),
    _unary("trunc", chainrule.trunc, torch.trunc, domain=(-3.0, 3.0)),
    _unary("frac", chainrule.frac, torch.frac, domain=(-3.0, 3.0)),
]

# ---- activations ---------------------------------------------------------------------------------

ACTIVATIONS = [
    _unary("relu", chainrule.relu, F.relu),
    _unary("gelu", chainrule.gelu, F.gelu, domain=(-3.0, 3.0)),
    _unary(
        "gelu_tanh",
        lambda x: chainrule.gelu(x, approximate="tanh"),
        lambda x: F.gelu(x, approximate="tanh"),
        domain=(-3.0, 3.0),
    ),
    _unary("silu", chainrule.silu, F.silu, domain=(-4.0, 4.0)),
    _unary("softplus", chainrule.softplus, F.softplus, domain=(-4.0, 4.0)),
    # beta x > threshold for x > 0.5: both the soft and the linear branch are exercised.
    _unary(
        "softplus_beta_threshold",
        lambda x: chainrule.softplus(x, beta=2.0, threshold=1.0),
        lambda x: F.softplus(x, beta=2.0, threshold=1.0),
        shapes=[((4, 5),)],
    ),
    _unary("leaky_relu", chainrule.leaky_relu, F.leaky_relu),
    _unary(
        "leaky_relu_slope",
        lambda x: chainrule.leaky_relu(x, 0.3),
        lambda x: F.leaky_relu(x, 0.3),
    ),
    _unary("elu", chainrule.elu, F.elu),
    _unary("elu_alpha", lambda x: chainrule.elu(x, alpha=0.7), lambda x: F.elu(x, alpha=0.7)),
    _unary("hardtanh", chainrule.hardtanh, F.hardtanh, shapes=[((4, 5),)]),
    _unary(
        "hardtanh_bounds",
        lambda x: chainrule.hardtanh(x, -0.5, 1.5),
        lambda x: F.hardtanh(x, -0.5, 1.5),
        shapes=[((4, 5),)],
    ),
]

# ---- clamp, where, lerp, nan_to_num --------------------------------------------------------------

SELECTION = [
    _unary(
        "clamp",
        lambda x: chainrule.clamp(x, -0.5, 0.7),
        lambda x: torch.clamp(x, -0.5, 0.7),
        shapes=[((4, 5),), ((),)],
    ),
    _unary("clamp_min", lambda x: chainrule.clamp(x, min=0.3), lambda x: torch.clamp(x, min=0.3)),
    _unary("clamp_max", lambda x: x.clamp(max=0.3), lambda x: x.clamp(max=0.3)),
    _unary("clip", lambda x: chainrule.clip(x, -1, 1), lambda x: torch.clip(x, -1, 1)),
    OpSpec(
        "clamp_tensor_bounds",
        chainrule.clamp,
        torch.clamp,
        shapes=[((2, 3), (3,), (2, 1)), ((4,), (), (4,)), ((2, 3), (2, 3), ())],
        domains=[WIDE, (-1.5, -0.1), (0.1, 1.5)],
    ),
    # Bounds wider than the input broadcast it up; PyTorch's backward fails there (an in-place
    # logical_and_ in clamp_backward_min_max), so this one is checked by finite differences only.
    OpSpec(
        "clamp_tensor_bounds_wider_than_input",
        chainrule.clamp,
        shapes=[((3,), (2, 3), ()), ((), (2,), (3, 1))],
        domains=[WIDE, (-1.5, -0.1), (0.1, 1.5)],
    ),
    # min > max somewhere: the result is max there, and only max receives the gradient.
    OpSpec(
        "clamp_tensor_crossed_bounds",
        chainrule.clamp,
        torch.clamp,
        shapes=[((3, 4), (3, 4), (3, 4))],
        domains=[WIDE, WIDE, WIDE],
    ),
    OpSpec(
        "clamp_tensor_min_only",
        lambda x, lo: chainrule.clamp(x, min=lo),
        lambda x, lo: torch.clamp(x, min=lo),
        shapes=[((2, 3), (3,))],
    ),
    OpSpec(
        "clamp_tensor_max_only",
        lambda x, hi: chainrule.clamp(x, max=hi),
        lambda x, hi: torch.clamp(x, max=hi),
        shapes=[((2, 3), (2, 1))],
    ),
    OpSpec(
        "where",
        chainrule.where,
        torch.where,
        shapes=[((2, 3), (2, 3), (3,))],
        make_inputs=lambda rng: (
            rng.uniform(size=(2, 3)) > 0.5,
            rng.uniform(-2.0, 2.0, size=(2, 3)),
            rng.uniform(-2.0, 2.0, size=(3,)),
        ),
    ),
    OpSpec(
        "where_broadcast_condition",
        chainrule.where,
        torch.where,
        shapes=[((4, 1), (3,), ())],
        make_inputs=lambda rng: (
            np.array([[True], [False], [True], [False]]),
            rng.uniform(-2.0, 2.0, size=(3,)),
            rng.uniform(-2.0, 2.0, size=()),
        ),
    ),
    OpSpec(
        "where_scalar_other",
        lambda c, x: chainrule.where(c, x, 0.5),
        lambda c, x: torch.where(c, x, 0.5),
        shapes=[((2, 3), (2, 3))],
        make_inputs=lambda rng: (
            rng.uniform(size=(2, 3)) > 0.5,
            rng.uniform(-2.0, 2.0, size=(2, 3)),
        ),
    ),
    OpSpec(
        "tensor_where_method",
        lambda x, c, y: x.where(c, y),
        lambda x, c, y: x.where(c, y),
        shapes=[((2, 3), (2, 3), (2, 3))],
        make_inputs=lambda rng: (
            rng.uniform(-2.0, 2.0, size=(2, 3)),
            rng.uniform(size=(2, 3)) > 0.5,
            rng.uniform(-2.0, 2.0, size=(2, 3)),
        ),
    ),
    OpSpec(
        "lerp_scalar_weight",
        lambda a, b: chainrule.lerp(a, b, 0.3),
        lambda a, b: torch.lerp(a, b, 0.3),
        shapes=[((2, 3), (2, 3)), ((2, 3), (3,)), ((), (2,))],
    ),
    OpSpec(
        "lerp_scalar_weight_high",
        lambda a, b: a.lerp(b, 0.8),
        lambda a, b: a.lerp(b, 0.8),
        shapes=[((2, 3), (2, 3))],
    ),
    OpSpec(
        "lerp_tensor_weight",
        chainrule.lerp,
        torch.lerp,
        shapes=[((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((3,), (), ())],
        domains=[WIDE, WIDE, (-0.5, 1.5)],
    ),
    OpSpec(
        "nan_to_num",
        chainrule.nan_to_num,
        torch.nan_to_num,
        shapes=[((2, 4),)],
        make_inputs=lambda rng: (
            np.where(
                np.arange(8).reshape(2, 4) % 4 == 0,
                np.array([np.nan, np.inf, -np.inf, 0.0, np.nan, -np.inf, np.inf, 1.0]).reshape(
                    2, 4
                ),
                rng.uniform(-2.0, 2.0, size=(2, 4)),
            ),
        ),
        float32=False,
    ),
    OpSpec(
        "nan_to_num_values",
        lambda x: chainrule.nan_to_num(x, nan=1.5, posinf=9.0, neginf=-9.0),
        lambda x: torch.nan_to_num(x, nan=1.5, posinf=9.0, neginf=-9.0),
        shapes=[((6,),)],
        make_inputs=lambda rng: (
            np.array([np.nan, np.inf, -np.inf, *rng.uniform(-2.0, 2.0, size=3)]),
        ),
    ),
]

# ---- dtype conversion and copies ---------------------------------------------------------

CONVERSION = [
    # float32 rounding (1e-7) is below the value tolerance but far above a finite-difference step.
    _unary(
        "cast_to_float32",
        lambda x: x.to(chainrule.float32),
        lambda x: x.to(torch.float32),
        finite_differences=False,
    ),
    _unary(
        "cast_to_float16",
        lambda x: x.to(chainrule.float16),
        lambda x: x.to(torch.float16),
        finite_differences=False,
        atol=2e-3,
        rtol=1e-3,
    ),
    _unary(
        "cast_round_trip",
        lambda x: (x.float() * 3).double() * x,
        lambda x: (x.float() * 3).double() * x,
        finite_differences=False,
    ),
    # A float16 tensor times / over a 0-dim float32 tensor: the scalar is used unrounded
    # (MulByScalarTensor, DivByScalarTensor); float16 rounding is far above a difference step.
    OpSpec(
        "mul_float16_by_float32_scalar_tensor",
        lambda a, s: (a.to(chainrule.float16) * s.to(chainrule.float32)).double(),
        lambda a, s: (a.to(torch.float16) * s.to(torch.float32)).double(),
        shapes=[((2, 3), ())],
        finite_differences=False,
        atol=2e-2,
        rtol=2e-3,
    ),
    OpSpec(
        "mul_float32_scalar_tensor_by_float16",
        lambda s, a: (s.to(chainrule.float32) * a.to(chainrule.float16)).double(),
        lambda s, a: (s.to(torch.float32) * a.to(torch.float16)).double(),
        shapes=[((), (2, 3))],
        finite_differences=False,
        atol=2e-2,
        rtol=2e-3,
    ),
    OpSpec(
        "div_float16_by_float32_scalar_tensor",
        lambda a, s: (a.to(chainrule.float16) / s.to(chainrule.float32)).double(),
        lambda a, s: (a.to(torch.float16) / s.to(torch.float32)).double(),
        shapes=[((2, 3), ())],
        domains=[WIDE, (0.5, 2.0)],
        finite_differences=False,
        atol=2e-2,
        rtol=2e-3,
    ),
    # float16 floor / trunc division by a number or a 0-dim float tensor: the divisor is taken
    # in float32 (FloorDivideByScalar, TruncDivideByScalar).
    _unary(
        "floor_divide_float16_by_number",
        lambda x: chainrule.div(x.to(chainrule.float16), 0.37, rounding_mode="floor").double(),
        lambda x: torch.div(x.to(torch.float16), 0.37, rounding_mode="floor").double(),
        finite_differences=False,
    ),
    _unary(
        "trunc_divide_float16_by_scalar_tensor",
        lambda x: chainrule.div(
            x.to(chainrule.float16), chainrule.tensor(0.37), rounding_mode="trunc"
        ).double(),
        lambda x: torch.div(
            x.to(torch.float16), torch.tensor(0.37), rounding_mode="trunc"
        ).double(),
        finite_differences=False,
    ),
    _unary("clone", chainrule.clone, torch.clone),
    _unary("clone_method", lambda x: x.clone() * 2, lambda x: x.clone() * 2),
    OpSpec(
        "copy_non_leaf",
        lambda x, s: (x * 1).copy_(s) * x,
        lambda x, s: (x * 1).copy_(s) * x,
        shapes=[((2, 3), (3,)), ((2, 3), (2, 3)), ((3,), ())],
    ),
    _unary(
        "fill_non_leaf",
        lambda x: (x * 2).fill_(1.5) + x,
        lambda x: (x * 2).fill_(1.5) + x,
        shapes=[((2, 3),)],
    ),
    OpSpec(
        "fill_tensor_value_non_leaf",
        lambda x, v: (x * 2).fill_(v) * x,
        lambda x, v: (x * 2).fill_(v) * x,
        shapes=[((2, 3), ())],
    ),
    _unary(
        "zero_non_leaf",
        lambda x: (x * 2).zero_() + x * x,
        lambda x: (x * 2).zero_() + x * x,
        shapes=[((2, 3),)],
    ),
    # A comparison written in place keeps x in the graph with a zero gradient (LtBackward1):
    # x and y come from apart ranges, so finite differences never cross the step.
    _binary(
        "lt_non_leaf",
        lambda x, y: (x * 2).lt_(y) * x,
        lambda x, y: (x * 2).lt_(y) * x,
        domains=[(-2.0, -1.0), (0.5, 2.0)],
        shapes=[((2, 3), (3,)), ((2, 3), (2, 3)), ((), ())],
    ),
    _unary(
        "ge_scalar_non_leaf",
        lambda x: (x * 2).ge_(0.0) + x,
        lambda x: (x * 2).ge_(0.0) + x,
        domain=POSITIVE,
    ),
]

# ---- kinks and ties: the derivative is a convention, compared with PyTorch's ----------------


def _grid_pair(shape_x, shape_y):
    return lambda rng: (_on_grid(shape_x, rng), _on_grid(shape_y, rng))


def _grid_one(shape):
    return lambda rng: (_on_grid(shape, rng),)


def _kink(name, fn, torch_fn, make_inputs, **options):
    return OpSpec(
        name,
        fn,
        torch_fn,
        shapes=[()],
        make_inputs=make_inputs,
        finite_differences=False,
        **options,
    )


KINKS = [
    _kink("maximum_ties", chainrule.maximum, torch.maximum, _grid_pair((4, 5), (4, 5))),
    _kink("maximum_ties_broadcast", chainrule.maximum, torch.maximum, _grid_pair((4, 5), (5,))),
    _kink("minimum_ties", chainrule.minimum, torch.minimum, _grid_pair((4, 5), (4, 5))),
    _kink("minimum_ties_broadcast", chainrule.minimum, torch.minimum, _grid_pair((4, 1), (5,))),
    _kink("fmax_ties", chainrule.fmax, torch.fmax, _grid_pair((4, 5), (4, 5))),
    _kink("fmin_ties", chainrule.fmin, torch.fmin, _grid_pair((4, 5), (5,))),
    _kink(
        "maximum_nan",
        chainrule.maximum,
        torch.maximum,
        lambda rng: (np.array([np.nan, 1.0, 2.0, np.nan]), np.array([1.0, np.nan, 1.0, np.nan])),
    ),
    _kink(
        "fmax_nan",
        chainrule.fmax,
        torch.fmax,
        lambda rng: (np.array([np.nan, 1.0, 2.0, np.nan]), np.array([1.0, np.nan, 1.0, np.nan])),
    ),
    _kink(
        "fmin_nan",
        chainrule.fmin,
        torch.fmin,
        lambda rng: (np.array([np.nan, 1.0, 2.0, np.nan]), np.array([1.0, np.nan, 1.0, np.nan])),
    ),
    _kink("abs_at_zero", chainrule.abs, torch.abs, _grid_one((4, 5))),
    _kink("relu_at_zero", chainrule.relu, F.relu, _grid_one((4, 5))),
    _kink("leaky_relu_at_zero", chainrule.leaky_relu, F.leaky_relu, _grid_one((4, 5))),
    _kink("elu_at_zero", chainrule.elu, F.elu, _grid_one((4, 5))),
    _kink("hardtanh_at_edges", chainrule.hardtanh, F.hardtanh, _grid_one((4, 5))),
    _kink(
        "clamp_at_bounds",
        lambda x: chainrule.clamp(x, -0.5, 0.5),
        lambda x: torch.clamp(x, -0.5, 0.5),
        _grid_one((4, 5)),
    ),
    _kink(
        "clamp_crossed_scalar_bounds",
        lambda x: chainrule.clamp(x, 0.5, -0.5),
        lambda x: torch.clamp(x, 0.5, -0.5),
        _grid_one((4, 5)),
    ),
    _kink(
        "clamp_tensor_bounds_ties",
        chainrule.clamp,
        torch.clamp,
        lambda rng: (_on_grid((4, 5), rng), _on_grid((4, 5), rng), _on_grid((5,), rng)),
    ),
    _kink(
        "clamp_tensor_min_ties",
        lambda x, lo: chainrule.clamp(x, min=lo),
        lambda x, lo: torch.clamp(x, min=lo),
        _grid_pair((4, 5), (4, 5)),
    ),
    _kink(
        "clamp_tensor_max_ties",
        lambda x, hi: chainrule.clamp(x, max=hi),
        lambda x, hi: torch.clamp(x, max=hi),
        _grid_pair((4, 5), (4, 5)),
    ),
    _kink(
        "logit_eps_at_edges",
        lambda x: chainrule.logit(x, eps=0.25),
        lambda x: torch.logit(x, eps=0.25),
        lambda rng: (np.array([0.25, 0.75, 0.5, 0.1, 0.9]),),
    ),
    # PyTorch's second derivative of pow(x, y) is nan wherever x == 0 (it takes log(0)), so
    # the second derivatives there are checked against their analytic values in
    # test_elementwise_semantics.py instead.
    _kink(
        "pow_at_zero",
        chainrule.pow,
        torch.pow,
        lambda rng: (
            np.array([0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.5, 1.5]),
            np.array([0.0, 1.0, 2.0, 3.0, 0.5, 0.0, 2.0, 1.0]),
        ),
        second_order=False,
    ),
    _kink(
        "pow_scalar_at_zero",
        lambda x: x**2 + x**1 + x**0 + x**3,
        lambda x: x**2 + x**1 + x**0 + x**3,
        lambda rng: (np.array([0.0, 1.0, -1.0, 0.0]),),
    ),
    _kink(
        "pow_negative_base_integer_exponent",
        chainrule.pow,
        torch.pow,
        lambda rng: (np.array([-1.5, -0.5, -2.0]), np.array([2.0, 3.0, -1.0])),
        second_order=False,
    ),
    _kink("sqrt_at_zero", chainrule.sqrt, torch.sqrt, lambda rng: (np.array([0.0, 1.0, 4.0]),)),
    _kink("sign_at_zero", chainrule.sign, torch.sign, _grid_one((4, 5))),
    _kink(
        "round_half_to_even",
        chainrule.round,
        torch.round,
        lambda rng: (np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]),),
    ),
    _kink("floor_at_integers", chainrule.floor, torch.floor, _grid_one((4, 5))),
    _kink(
        "remainder_exact_multiples",
        chainrule.remainder,
        torch.remainder,
        lambda rng: (np.array([1.5, -1.5, 0.0, 3.0]), np.array([0.5, 0.5, 0.5, -1.5])),
    ),
]


def _torch_affine_standardize_backward(g, out, rstd, w, axes):
    """PyTorch's native_layer_norm_backward as a formula: the input's gradient (Standardize's
    vjp of g w), and the sums of g out and g over the leading dimensions."""
    scaled = g * w
    mean_product = (scaled * out).mean(axes, keepdim=True)
    grad = rstd * (scaled - scaled.mean(axes, keepdim=True) - out * mean_product)
    leading = tuple(range(g.ndim - len(axes)))
    return grad, (g * out).sum(leading), g.sum(leading)


def _torch_cross_entropy_backward(g, x, target, ignore_index):
    """g (softmax(x) - onehot(target)) along dim 1, 0 where ignored, in torch ops."""
    target = torch.as_tensor(target)
    keep = target != ignore_index
    hot = F.one_hot(torch.where(keep, target, 0), x.shape[1]).movedim(-1, 1).to(x.dtype)
    return (torch.softmax(x, 1) - hot) * torch.where(keep, g, 0).unsqueeze(1)


# The fused backward rules of tanh and sigmoid are ops of their own (so double backward
# differentiates them); torch exposes the same functions as aten ops.
FUSED_BACKWARD = [
    OpSpec(
        "linear_weight_grad",
        lambda g, x: apply(linear.LinearWeightGrad, (g, x)),
        lambda g, x: g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1]),
        shapes=[((4, 3), (4, 2)), ((2, 3, 4), (2, 3, 5)), ((3,), (2,))],
    ),
    *(
        OpSpec(
            f"gelu_backward_{mode}",
            lambda g, x, mode=mode: apply(activation.GeluBackward, (g, x), mode, None),
            lambda g, x, mode=mode: torch.ops.aten.gelu_backward(g, x, approximate=mode),
            shapes=[((2, 3), (2, 3)), ((), ())],
            float32=False,
        )
        for mode in ("none", "tanh")
    ),
    *(
        OpSpec(
            f"softmax_backward_axis{axis}",
            lambda g, out, axis=axis: apply(reduction.SoftmaxBackward, (g, out), axis),
            lambda g, out, axis=axis: torch.ops.aten._softmax_backward_data(
                g, out, axis, out.dtype
            ),
            shapes=[((2, 3), (2, 3)), ((2, 3, 4), (2, 3, 4))],
            domains=[(-2.0, 2.0), (0.05, 0.5)],
            float32=False,
        )
        for axis in (0, 1)
    ),
    *(
        OpSpec(
            f"log_softmax_backward_axis{axis}",
            lambda g, out, axis=axis: apply(reduction.LogSoftmaxBackward, (g, out), axis),
            lambda g, out, axis=axis: torch.ops.aten._log_softmax_backward_data(
                g, out, axis, out.dtype
            ),
            shapes=[((2, 3), (2, 3)), ((2, 3, 4), (2, 3, 4))],
            domains=[(-2.0, 2.0), (-3.0, -0.5)],
            float32=False,
        )
        for axis in (0, 1)
    ),
    *(
        OpSpec(
            f"standardize_backward_{name}",
            lambda g, out, rstd, axes=axes: apply(
                normalization.StandardizeBackward, (g, out, rstd), axes
            ),
            lambda g, out, rstd, axes=axes: (
                rstd * (g - g.mean(axes, keepdim=True) - out * (g * out).mean(axes, keepdim=True))
            ),
            shapes=[((2, 3, 4), (2, 3, 4), kept)],
            domains=[(-2.0, 2.0), (-2.0, 2.0), (0.5, 2.0)],
            float32=False,
        )
        for name, axes, kept in (
            ("layer", (2,), (2, 3, 1)),
            ("layer_two_axes", (1, 2), (2, 1, 1)),
            ("batch", (0, 2), (1, 3, 1)),
        )
    ),
    *(
        OpSpec(
            f"scaled_causal_softmax_{name}",
            lambda x: apply(reduction.ScaledCausalSoftmax, (x,), 0.7),
            lambda x: torch.softmax(
                x * 0.7 + torch.full(x.shape[-2:], -torch.inf, dtype=x.dtype).triu(1), -1
            ),
            shapes=[(shape,)],
            float32=False,
        )
        for name, shape in (("square", (2, 4, 4)), ("wide", (3, 5)), ("tall", (2, 5, 3)))
    ),
    *(
        OpSpec(
            f"affine_standardize_backward_{name}",
            lambda g, out, rstd, w, axes=axes: apply(
                normalization.AffineStandardizeBackward, (g, out, rstd, w), axes
            ),
            lambda g, out, rstd, w, axes=axes: _torch_affine_standardize_backward(
                g, out, rstd, w, axes
            ),
            shapes=[((2, 3, 4), (2, 3, 4), kept, w)],
            domains=[(-2.0, 2.0), (-2.0, 2.0), (0.5, 2.0), (-2.0, 2.0)],
            float32=False,
        )
        for name, axes, kept, w in (
            ("one_axis", (2,), (2, 3, 1), (4,)),
            ("two_axes", (1, 2), (2, 1, 1), (3, 4)),
        )
    ),
    *(
        OpSpec(
            f"softmax_cross_entropy_backward_{name}",
            lambda g, x, target=target: apply(
                losses.SoftmaxCrossEntropyBackward,
                (g, x, chainrule.tensor(target, device=x.device)),
                -100,
            ),
            lambda g, x, target=target: _torch_cross_entropy_backward(g, x, target, -100),
            shapes=[(target.shape, (target.shape[0], 4, *target.shape[1:]))],
            float32=False,
        )
        for name, target in (
            ("rows", np.array([0, 3, -100])),
            ("spatial", np.array([[1, -100], [2, 0]])),
        )
    ),
    OpSpec(
        "threshold_backward",
        lambda g, out: apply(activation.ThresholdBackward, (g, out)),
        lambda g, out: torch.ops.aten.threshold_backward(g, out, 0.0),
        shapes=[((2, 3), (2, 3)), ((), ())],
        domains=[(-2.0, 2.0), (-1.0, 1.0)],
        float32=False,
    ),
    OpSpec(
        "tanh_backward",
        lambda g, out: apply(elementwise.TanhBackward, (g, out)),
        torch.ops.aten.tanh_backward,
        shapes=[((2, 3), (2, 3)), ((), ())],
        domains=[(-2.0, 2.0), (-0.9, 0.9)],
        float32=False,
    ),
    OpSpec(
        "sigmoid_backward",
        lambda g, out: apply(elementwise.SigmoidBackward, (g, out)),
        torch.ops.aten.sigmoid_backward,
        shapes=[((2, 3), (2, 3)), ((), ())],
        domains=[(-2.0, 2.0), (0.1, 0.9)],
        float32=False,
    ),
]

# ---- torch-namespace additions: erfc, xlogy, copysign, ldexp, frexp, aliases, rrelu -----------


def _seeded_rrelu(x):
    """rrelu in training mode with the same draws on every call (finite differences re-run
    it); PyTorch's random stream differs, so this one is checked against finite differences."""
    chainrule.manual_seed(0)
    return chainrule.rrelu(x, 0.1, 0.4, training=True)


def _xlogy_at_zero(rng):
    """x exactly 0 in places (with y > 0, y == 0 and y < 0): PyTorch's masks apply there."""
    x = rng.choice(np.asarray([0.0, 0.7, -1.3]), size=(3, 4))
    y = rng.choice(np.asarray([0.0, 0.5, 1.5]), size=(3, 4))
    return x, y


TORCH_NAMESPACE = [
    _unary("erfc", chainrule.erfc, torch.erfc),
    _unary("erfc_tail", chainrule.erfc, torch.erfc, domain=(3.0, 8.0), shapes=[((2, 3),)]),
    _binary("xlogy", chainrule.xlogy, torch.xlogy, domains=[WIDE, POSITIVE]),
    _binary(
        "xlogy_scalar_other",
        lambda x: chainrule.xlogy(x, 3.0),
        lambda x: torch.xlogy(x, 3.0),
        domains=[WIDE],
        shapes=UNARY_SHAPES,
    ),
    OpSpec(
        "xlogy_zero_x",  # the masks at x == 0: torch only, the derivative is a convention
        chainrule.xlogy,
        torch.xlogy,
        shapes=[((3, 4), (3, 4))],
        make_inputs=_xlogy_at_zero,
        finite_differences=False,
    ),
    _binary("copysign", chainrule.copysign, torch.copysign, domains=[WIDE, WIDE]),
    # one ulp toward y: PyTorch's derivative passes g to x unchanged and gives y zeros
    _binary("nextafter", chainrule.nextafter, torch.nextafter, domains=[WIDE, WIDE]),
    _binary(
        "copysign_scalar",
        lambda x: chainrule.copysign(x, -1.0),
        lambda x: torch.copysign(x, -1.0),
        domains=[WIDE],
        shapes=UNARY_SHAPES,
    ),
    OpSpec(
        # 0 gradient where x == 0, as PyTorch; its second derivative there is nan (0 / 0 in
        # result / self), ours 0, so only first order is compared
        "copysign_zero_x",
        chainrule.copysign,
        torch.copysign,
        shapes=[((4, 5), (4, 5))],
        make_inputs=_grid_pair((4, 5), (4, 5)),
        finite_differences=False,
        second_order=False,
    ),
    _binary("ldexp", chainrule.ldexp, torch.ldexp, domains=[WIDE, (-3.0, 3.0)]),
    OpSpec(
        "ldexp_integer_exponent",
        chainrule.ldexp,
        torch.ldexp,
        shapes=[((2, 3), (3,))],
        make_inputs=lambda rng: (rng.uniform(-2, 2, (2, 3)), rng.integers(-4, 5, (3,))),
    ),
    _unary("frexp", chainrule.frexp, torch.frexp, domain=(-20.0, 20.0)),
    _unary("frexp_method", lambda x: x.frexp().mantissa, lambda x: x.frexp().mantissa),
    OpSpec(
        "sgn",
        chainrule.sgn,
        torch.sgn,
        shapes=[((2, 3),)],
        make_inputs=lambda rng: (_away_from_zero((2, 3), rng),),
    ),
    _unary(
        "clamp_min_function",
        lambda x: chainrule.clamp_min(x, 0.3),
        lambda x: torch.clamp_min(x, 0.3),
    ),
    _binary(
        "clamp_max_function_tensor",
        chainrule.clamp_max,
        torch.clamp_max,
        shapes=[((2, 3), (3,))],
    ),
    _binary("true_divide", chainrule.true_divide, torch.true_divide, domains=[WIDE, POSITIVE]),
    _unary(
        "rrelu_eval",
        lambda x: chainrule.rrelu(x, 0.1, 0.3),
        lambda x: torch.rrelu(x, 0.1, 0.3),
    ),
    OpSpec("rrelu_training", _seeded_rrelu, shapes=[((4, 5),), ((),)], domains=[WIDE]),
]

# The ops piecewise-linear vjps use to stay connected to their input (issue 11, item 4); last,
# so the specs above draw the inputs they always drew.
CONNECTING = [
    OpSpec(  # value, joined to x's graph at zero derivative (piecewise-linear vjps end in it)
        "connected",
        lambda value, x: apply(elementwise.ConnectedTo, (value, x)),
        lambda value, x: value + 0 * x,
        shapes=[((2, 3), (2, 3)), ((), ())],
    ),
    OpSpec(  # identity whose vjp joins the gradient to x (hardshrink, threshold, prelu)
        "piecewise_input",
        lambda x: apply(elementwise.PiecewiseInput, (x,)),
        lambda x: x * 1,
        shapes=UNARY_SHAPES,
    ),
]

SPECS = [
    *ARITHMETIC,
    *POW,
    *UNARY,
    *ACTIVATIONS,
    *SELECTION,
    *CONVERSION,
    *KINKS,
    *FUSED_BACKWARD,
    *TORCH_NAMESPACE,
    *CONNECTING,
]
