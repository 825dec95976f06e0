"""Differential fuzzing against PyTorch, round three: what the op-chain fuzz
(test_fuzz_torch.py) and the two family fuzzes (test_fuzz_torch_families.py,
test_fuzz_torch_op_families.py) leave out: elementwise and special functions at their edge
values (infinities, nan, signed zeros, subnormals) with the gradient at the kinks and poles;
integer arithmetic with negative operands, zero divisors and shifts; float division's sign
conventions at the same edges; every dtype, bool to complex128, through unary functions,
reductions and binary functions; `out=` arguments and in-place results a dtype cannot hold;
reductions over ties and NaNs (which index wins, how the gradient is routed); the shape and
split ops the earlier rounds never draw, and whether their results are views; scatter's
`reduce=` and the index ops at negative dims; and autograd's bookkeeping of in-place writes
(version counters, leaf and saved-tensor errors, `.data` against `.detach()`). Each case runs
one random program on chainrule and on PyTorch and compares values, dtype, shape,
requires_grad and the gradients of every float input, or the exception type when PyTorch
raises (see `check_program`). REGRESSIONS keeps each program this round found, fixed.

Seeded: a failure names its case (`pytest -k 'edge_math-case_17'`), and
`python -m tests.test_fuzz_torch_round3 FAMILY START COUNT` runs more cases of a family than
the suite does."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.test_fuzz_torch_families import check_program, family_cases, main, run_family_case
from tests.test_fuzz_torch_op_families import _leaf, _with_gradients

INF, NAN = float("inf"), float("nan")


def _dense(lib, value):
    """`value` with PyTorch's ZeroTensors (the gradient of an op whose derivative is zero
    everywhere, such as sgn's, which it cannot read back as an array) spelt as zeros."""
    if isinstance(value, tuple):
        return tuple(_dense(lib, item) for item in value)
    if isinstance(value, lib.Tensor) and getattr(value, "_is_zerotensor", bool)():
        return lib.zeros(value.shape, dtype=value.dtype)
    return value


# ---- family: elementwise math at edge values ------------------------------------------------
# One op on a vector of edge values (infinities, nan, signed zeros, subnormals, the ends of a
# domain) beside ordinary ones; the value and the gradient of a random weighting, so each
# op's convention at its kinks and poles is PyTorch's.

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.5, INF, -INF, NAN, 5e-324, -1e-310, 1e-40,
         1e300, -1e300, 0.999, 1e-8]  # fmt: skip
UNARY_EDGE = ["sqrt", "rsqrt", "log1p", "expm1", "sigmoid", "logit", "logit_eps", "erfinv",
              "sinc", "lgamma", "digamma", "polygamma1", "polygamma2", "i0", "sgn", "abs",
              "sign", "exp2", "log2", "asin", "acos", "atanh", "acosh", "asinh", "erfc",
              "ndtri", "entr", "erfcx", "i0e", "i1", "i1e", "log_ndtr", "relu", "tan", "rad2deg",
              "reciprocal", "square", "cosh", "deg2rad", "trunc", "frac", "nan_to_num",
              "exp", "log", "log10", "sin", "cos", "tanh", "atan", "sinh", "erf", "angle",
              "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
              "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
              "scaled_modified_bessel_k0", "spherical_bessel_j0", "ndtr", "expit", "airy_ai",
              "mvlgamma2", "isinf", "signbit", "positive", "sgn_complex", "round_decimals",
              "frexp_mantissa"]  # fmt: skip
BINARY_EDGE = ["atan2", "hypot", "copysign", "nextafter", "xlogy", "xlog1py", "maximum",
               "minimum", "fmax", "fmin", "logaddexp", "logaddexp2", "pow", "float_power",
               "clamp_tensor", "heaviside", "ldexp", "div", "fmod", "remainder", "zeta",
               "gammainc", "gammaincc", "lerp", "sub", "mul", "polar", "complex",
               "where_gt"]  # fmt: skip
# ops whose gradient PyTorch does not define (its backward raises) or that have none
NOT_DIFFERENTIABLE = {"heaviside", "sign", "trunc", "isinf", "signbit", "zeta",
                      "gammainc", "gammaincc", "bessel_y0", "bessel_y1", "bessel_j0", "bessel_j1",
                      "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
                      "modified_bessel_k1", "scaled_modified_bessel_k0", "spherical_bessel_j0",
                      "airy_ai", "frexp_mantissa", "round_decimals"}  # fmt: skip


def _unary(lib, name: str, x):
    special = lib.special
    if name == "logit_eps":
        return lib.logit(x, eps=1e-6)
    if name.startswith("polygamma"):
        return lib.polygamma(int(name[-1]), x)
    if name == "mvlgamma2":
        return lib.mvlgamma(x, 2)
    if name == "sgn_complex":
        return lib.sgn(lib.complex(x, x.flip(0)))
    if name == "round_decimals":
        return lib.round(x, decimals=2)
    if name == "frexp_mantissa":
        return lib.frexp(x)
    if hasattr(lib, name) and name not in ("ndtri", "entr", "erfcx", "i0e", "i1", "i1e"):
        return getattr(lib, name)(x)
    return getattr(special, name)(x)


def _binary(lib, name: str, x, y):
    if name == "xlog1py":
        return lib.special.xlog1py(x, y)
    if name == "clamp_tensor":
        return lib.clamp(x, min=y, max=y + 1)
    if name in ("zeta", "gammainc", "gammaincc"):
        return getattr(lib.special, name)(x, y)
    if name == "lerp":
        return lib.lerp(x, y, 0.25)
    if name in ("polar", "complex"):
        return getattr(lib, name)(x, y)
    if name == "where_gt":
        return lib.where(x > y, x, y)
    if name == "ldexp":
        # (exponents from 0: PyTorch's gradient takes 2 ** other in the integer dtype of
        # other, so a negative exponent gives a zero gradient)
        return lib.ldexp(x, y.nan_to_num().abs().round().clamp(0, 4).to(lib.int64))
    return getattr(lib, name)(x, y)


def _draw_edge_math(seed: int):
    rng = np.random.default_rng(seed)
    binary = rng.random() < 0.45
    name = str(rng.choice(BINARY_EDGE if binary else UNARY_EDGE))
    dtype = str(rng.choice(["float64", "float32"]))
    size = int(rng.integers(1, 7))
    first = [EDGES[int(i)] for i in rng.integers(0, len(EDGES), size)]
    # ties with the first operand, for maximum / clamp / hypot kinks
    second = [
        first[i] if rng.random() < 0.3 else EDGES[int(j)]
        for i, j in enumerate(rng.integers(0, len(EDGES), size))
    ]
    if name.startswith("polygamma") or name in ("digamma", "i1", "i1e"):
        # PyTorch's trigamma at a negative integer (a pole, digamma's gradient) is a finite
        # rounding artefact (1.29e15 in float32), and its float32 i1 / i1e gradients of a nan
        # are finite
        if name in ("i1", "i1e"):
            first = [1.5 if v != v else v for v in first]
        else:
            first = [1.5 if v in (-1.0, -1e300) else v for v in first]
    if name in ("zeta", "gammainc", "gammaincc"):
        # ordinary arguments only: at infinities, nans and subnormals PyTorch's Cephes kernels
        # answer by the order of their checks (gammaincc(nan, 0) = 1, zeta(2, inf) = nan,
        # gammainc of a float32 subnormal = 0), SciPy's by the limits
        first, second = (
            [
                v if v == v and abs(v) not in (INF, 1e300) and abs(v) > 1e-30 or v == 0 else 1.5
                for v in values
            ]
            for values in (first, second)
        )
    differentiable = name not in NOT_DIFFERENTIABLE

    def program(lib):
        x = _leaf(lib, first, dtype, requires_grad=differentiable)
        leaves = [x]
        if binary:
            y = _leaf(lib, second, dtype, requires_grad=differentiable and name != "ldexp")
            leaves.append(y)
            out = _binary(lib, name, x, y)
        else:
            out = _unary(lib, name, x)
        return _dense(lib, _with_gradients(lib, (out,), leaves, seed))

    return f"{name}({first}{', ' + str(second) if binary else ''}) ({dtype})", program


# ---- family: integer arithmetic ---------------------------------------------------------------
# Division and remainders with negative operands and zero divisors, shifts past the width,
# integer powers with negative exponents, gcd / lcm, on every integer dtype and against Python
# numbers and 0-d tensors; and the float sign conventions of the same ops.

INT_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64"]
INT_OPS = ["floor_divide", "remainder", "fmod", "div_trunc", "div_floor", "div", "pow",
           "bitwise_left_shift", "bitwise_right_shift", "lshift_op", "rshift_op", "bitwise_xor",
           "bitwise_not", "gcd", "lcm", "abs", "neg", "floordiv_op", "mod_op", "rfloordiv",
           "rmod", "rpow", "sign", "square", "mul", "sub"]  # fmt: skip


def _int_operand(lib, spec, values):
    kind, detail = spec
    if kind == "number":
        return detail
    dtype, zero_dim = detail
    data = np.array(values[:1] if zero_dim else values)
    if dtype == "bool":
        data = data != 0
    elif dtype == "uint8":
        data = np.abs(data)
    tensor = lib.tensor(data.tolist(), dtype=getattr(lib, dtype))
    return tensor.reshape(()) if zero_dim else tensor


def _draw_int_arith(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(INT_OPS))
    floats = rng.random() < 0.25
    dtypes = ["float64", "float32", "float16"] if floats else INT_DTYPES
    left = ("tensor", (str(rng.choice(dtypes)), False))
    if rng.random() < 0.35:
        right = ("number", [0, 1, -1, 2, -3, 7, 65, -8, 2.5, -0.5, True][int(rng.integers(0, 11))])
    else:
        right = ("tensor", (str(rng.choice(dtypes + ["int64"])), bool(rng.random() < 0.3)))
    values = [int(v) for v in rng.integers(-9, 10, 4)]
    others = [int(v) for v in rng.integers(-4, 5, 4)]
    if rng.random() < 0.5:
        others = [o if o else 3 for o in others]  # mostly nonzero divisors

    def program(lib):
        a = _int_operand(lib, left, values)
        b = _int_operand(lib, right, others)
        if name == "div_trunc":
            return lib.div(a, b, rounding_mode="trunc")
        if name == "div_floor":
            return lib.div(a, b, rounding_mode="floor")
        if name in ("bitwise_not", "abs", "neg", "sign", "square"):
            return getattr(lib, name)(a)
        if name == "lshift_op":
            return a << b
        if name == "rshift_op":
            return a >> b
        if name == "floordiv_op":
            return a // b
        if name == "mod_op":
            return a % b
        if name == "rfloordiv":
            return b // a
        if name == "rmod":
            return b % a
        if name == "rpow":
            return b**a
        return getattr(lib, name)(a, b)

    return f"{name}({left}, {right}) on {values}, {others}", program


# ---- family: float division at edge values ---------------------------------------------------
# floor division, remainders and rounded division of floats with infinities, nans, signed
# zeros and zero divisors (tensors, 0-d tensors and Python floats), values and gradients: the
# sign conventions of each (remainder takes the divisor's sign, fmod the dividend's).

FLOAT_DIVISION_OPS = ["floor_divide", "remainder", "fmod", "div_trunc", "div_floor", "div",
                      "floordiv_op", "mod_op", "rmod", "rfloordiv"]  # fmt: skip
DIVISION_EDGES = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 7.0, -7.0, 0.5, INF, -INF, NAN, 1e-300, 3.0]


def _draw_float_division(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(FLOAT_DIVISION_OPS))
    dtype = str(rng.choice(["float64", "float32"]))
    size = int(rng.integers(1, 6))
    first = [DIVISION_EDGES[int(i)] for i in rng.integers(0, len(DIVISION_EDGES), size)]
    second = [DIVISION_EDGES[int(i)] for i in rng.integers(0, len(DIVISION_EDGES), size)]
    form = str(rng.choice(["tensor", "zero_dim", "number"]))
    number = second[0]
    # PyTorch has no derivative for floor_divide, nor for remainder(number, tensor) (its
    # backward raises; chainrule's gives one)
    differentiable = "floor" not in name and name != "rmod"

    def program(lib):
        x = _leaf(lib, first, dtype, requires_grad=differentiable)
        leaves = [x]
        if form == "number":
            y = number
        else:
            y = _leaf(lib, second if form == "tensor" else number, dtype, differentiable)
            leaves.append(y)
        if name == "div_trunc":
            out = lib.div(x, y, rounding_mode="trunc")
        elif name == "div_floor":
            out = lib.div(x, y, rounding_mode="floor")
        elif name == "floordiv_op":
            out = x // y
        elif name == "mod_op":
            out = x % y
        elif name == "rmod":
            out = y % x
        elif name == "rfloordiv":
            out = y // x
        else:
            out = getattr(lib, name)(x, y)
        return _with_gradients(lib, (out,), leaves, seed)

    return f"{name}({first}, {form} {second if form == 'tensor' else number}) ({dtype})", program


# ---- family: every dtype through unary functions and reductions ------------------------------
# One function of one 3x3 tensor of a drawn dtype (bool to complex128): the result dtype, or
# the refusal's type, is what it checks.

ALL_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
              "float32", "float64", "complex64", "complex128"]  # fmt: skip
DTYPE_UNARY = ["abs", "neg", "sign", "sgn", "exp", "log", "sqrt", "rsqrt", "sin", "tanh",
               "sigmoid", "floor", "ceil", "round", "trunc", "frac", "reciprocal", "square",
               "bitwise_not", "logical_not", "isnan", "isinf", "isfinite", "isreal", "signbit",
               "positive", "erf", "erfinv", "lgamma", "digamma", "expm1", "log1p", "log2",
               "exp2", "angle", "conj", "conj_physical", "real", "deg2rad", "nan_to_num", "relu",
               "i0", "sinc", "logit", "count_nonzero", "argmax", "cumsum", "cumprod", "sum",
               "prod", "mean", "std", "var", "amax", "max", "median", "mode", "sort", "argsort",
               "unique", "flip_none", "roll", "trace", "diag", "tril", "nonzero", "all", "any",
               "norm", "logsumexp", "softmax", "log_softmax", "clone", "float_power", "fix",
               "absolute", "negative", "arccos", "arcsinh", "msort", "ravel", "t", "heaviside",
               "logcumsumexp", "matrix_exp"]  # fmt: skip
WITH_DIM = {"softmax", "log_softmax", "cumsum", "cumprod", "logcumsumexp", "mode", "median",
            "logsumexp"}  # fmt: skip


def _draw_dtypes(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(DTYPE_UNARY))
    dtype = str(rng.choice(ALL_DTYPES))
    if name == "matrix_exp" and dtype in ("float16", "bfloat16"):
        return name, None  # (PyTorch's half matrix_exp gives nans; chainrule refuses)

    def program(lib):
        x = lib.tensor([[1, -2, 3], [0, 2, -1], [1, 1, 0]]).to(getattr(lib, dtype))
        if name in WITH_DIM:
            out = getattr(lib, name)(x, 1)
        elif name == "roll":
            out = lib.roll(x, 1)
        elif name == "float_power":
            out = lib.float_power(x, 2)
        elif name == "flip_none":
            out = x.flip()
        elif name == "heaviside":
            out = lib.heaviside(x, x)
        else:
            out = getattr(lib, name)(x)
        return out.resolve_conj() if isinstance(out, lib.Tensor) else out

    return f"{name}(<{dtype} 3x3>)", program


# ---- family: every dtype pair through binary functions ---------------------------------------
# Beyond round two's promotion family: shifts, xor, where, fmod, copysign, fmax, nextafter,
# xlogy, hypot, logaddexp, isclose and heaviside, for a tensor, a 0-d tensor or a Python
# number of any dtype on either side.

DTYPE_BINARY = ["where", "lshift", "rshift", "xor", "ge", "pow", "fmod", "true_div", "floordiv",
                "copysign", "heaviside", "fmax", "nextafter", "xlogy", "hypot", "logaddexp",
                "isclose", "eq_method"]  # fmt: skip


def _binary_dtype_operand(lib, spec, values):
    kind, detail = spec
    if kind == "number":
        return detail
    tensor = lib.tensor(values).to(getattr(lib, detail))
    return tensor if kind == "tensor" else tensor[0].clone()


def _draw_binary_dtypes(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(DTYPE_BINARY))
    specs = []
    for _ in range(2):
        kind = str(rng.choice(["tensor", "tensor", "zero_dim", "number"]))
        detail = (
            [True, 3, -2, 2.5, 1 + 1j][int(rng.integers(0, 5))]
            if kind == "number"
            else str(rng.choice(ALL_DTYPES))
        )
        specs.append((kind, detail))
    if specs[0][0] == "number" and name not in ("where", "pow", "true_div", "floordiv", "xor"):
        specs[0] = ("tensor", "float32")

    def program(lib):
        a = _binary_dtype_operand(lib, specs[0], [1, -2, 3])
        b = _binary_dtype_operand(lib, specs[1], [2, 1, -1])
        if name == "where":
            return lib.where(lib.tensor([True, False, True]), a, b)
        if name == "lshift":
            return a << b
        if name == "rshift":
            return lib.bitwise_right_shift(a, b)
        if name == "xor":
            return a ^ b
        if name == "ge":
            return a >= b
        if name == "pow":
            return a**b
        if name == "true_div":
            return a / b
        if name == "floordiv":
            return a // b
        if name == "eq_method":
            return a.eq(b)
        return getattr(lib, name)(a, b)

    return f"{name}({specs[0]}, {specs[1]})", program


# ---- family: out= arguments and in-place results ----------------------------------------------
# op(a, b, out=c) for a drawn dtype and shape of c, and a.op_(b) where the result type may
# not cast back to a's dtype (PyTorch: RuntimeError before anything is written).

OUT_DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64", "complex64"]
OUT_OPS = ["add", "mul", "sub", "div", "eq", "lt", "maximum", "where", "clamp", "floor_divide",
           "remainder", "sum", "mean", "abs", "neg", "exp", "bitwise_and", "logical_and",
           "cumsum", "matmul", "cat", "pow"]  # fmt: skip
INPLACE_OPS = ["add_", "sub_", "mul_", "div_", "floor_divide_", "remainder_", "pow_", "clamp_",
               "bitwise_and_", "logical_and_", "eq_", "lt_", "exp_", "abs_", "neg_", "sqrt_",
               "copysign_", "atan2_", "hypot_", "fmod_", "maximum_out_self", "lerp_",
               "masked_fill_", "index_fill_", "fill_"]  # fmt: skip


def _typed(lib, dtype: str, values):
    data = np.asarray(values)
    if dtype == "bool":
        data = data > 0
    elif dtype == "uint8":
        data = np.abs(data)
    return lib.tensor(data.tolist(), dtype=getattr(lib, dtype))


def _draw_out(seed: int):
    rng = np.random.default_rng(seed)
    in_place = rng.random() < 0.5
    name = str(rng.choice(INPLACE_OPS if in_place else OUT_OPS))
    a_dtype, b_dtype, out_dtype = (str(d) for d in rng.choice(OUT_DTYPES, 3))
    b_form = str(rng.choice(["tensor", "zero_dim", "int", "float", "bool"]))
    out_shape = [(2, 3), (0,), (6,), (2, 3)][int(rng.integers(0, 4))]
    a_values = rng.integers(-3, 4, (2, 3))
    a_values[0, 0] = 2
    b_values = rng.integers(1, 4, (2, 3)) * rng.choice([-1, 1], (2, 3))

    def program(lib):
        a = _typed(lib, a_dtype, a_values)
        if b_form == "tensor":
            b = _typed(lib, b_dtype, b_values)
        elif b_form == "zero_dim":
            b = _typed(lib, b_dtype, b_values[0, 0])
        else:
            b = {"int": -2, "float": 1.5, "bool": True}[b_form]
        if in_place:
            return _in_place(lib, name, a, b)
        out = lib.zeros(out_shape, dtype=getattr(lib, out_dtype))
        returned = _with_out(lib, name, a, b, out)
        if out.dtype is lib.float64 and a.dtype is not lib.float64:
            # (a float32 result in a float64 out: compared at float32's tolerance, NumPy's and
            # PyTorch's float32 exp differing in the last bit)
            return returned is out, out.dtype, out.to(lib.float32)
        return returned is out, out

    label = "in-place" if in_place else f"out=<{out_dtype} {out_shape}>"
    return f"{name}(<{a_dtype}>, {b_form} {b_dtype}) {label}", program


def _with_out(lib, name: str, a, b, out):
    """`name` of a (and b, a tensor or a number) written into `out`."""
    tensor_b = b if isinstance(b, lib.Tensor) else lib.tensor(b)
    if name == "where":
        return lib.where(a > 0, a, tensor_b, out=out)
    if name == "clamp":
        return lib.clamp(a, min=tensor_b, max=tensor_b + 2, out=out)
    if name in ("sum", "mean", "cumsum"):
        return getattr(lib, name)(a, 1, out=out)
    if name in ("abs", "neg", "exp"):
        return getattr(lib, name)(a, out=out)
    if name == "matmul":
        return lib.matmul(a, a.T.to(tensor_b.dtype), out=out)
    if name == "cat":
        return lib.cat([a, tensor_b.expand(2, 3)], out=out)
    return getattr(lib, name)(a, b, out=out)


def _in_place(lib, name: str, a, b):
    if name == "maximum_out_self":
        return lib.maximum(a, b if isinstance(b, lib.Tensor) else lib.tensor(b), out=a)
    if name in ("exp_", "abs_", "neg_", "sqrt_"):
        getattr(a, name)()
    elif name == "clamp_":
        a.clamp_(min=b, max=b + 2 if not isinstance(b, bool) else None)
    elif name == "lerp_":
        a.lerp_(b if isinstance(b, lib.Tensor) else lib.full_like(a, b), 0.5)
    elif name == "masked_fill_":
        a.masked_fill_(a > 0, b)
    elif name == "index_fill_":
        a.index_fill_(1, lib.tensor([0, 2]), b)
    elif name == "fill_":
        a.fill_(b)
    else:
        getattr(a, name)(b)
    return a


# ---- family: reductions over ties and NaNs -----------------------------------------------------
# Which index max / min / argmax / median / mode / kthvalue return among equal values and
# NaNs, and where the gradient of each goes (split among ties, or routed to one).

TIE_REDUCTIONS = ["max", "min", "max_dim", "min_dim", "argmax", "argmin", "amax", "amin",
                  "median", "median_dim", "nanmedian", "nanmedian_dim", "mode", "kthvalue",
                  "aminmax", "sort", "topk", "cummax", "cummin", "msort", "logsumexp", "norm_inf",
                  "prod", "std", "var_mean", "count_nonzero", "nansum", "nanmean",
                  "maximum_self"]  # fmt: skip


def _draw_ties(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(TIE_REDUCTIONS))
    shape = [(4,), (2, 4), (3, 3), (2, 2, 3), (1, 5), ()][int(rng.integers(0, 6))]
    values = rng.choice([-1.0, 0.0, 1.0, 1.0, 2.0], shape)
    if rng.random() < 0.3 and values.size:
        values.flat[int(rng.integers(0, values.size))] = NAN
    # (no infinities for prod, whose full-product gradient with zeros beside a nan or an
    # infinity PyTorch takes from another formula (see test_fuzz_torch_op_families), nor for
    # var_mean, whose mean of an infinity and a number PyTorch's Welford pass makes nan or
    # +-inf by their order)
    if rng.random() < 0.2 and values.size and name not in ("prod", "var_mean"):
        values.flat[int(rng.integers(0, values.size))] = rng.choice([INF, -INF])
    if name == "prod":
        values = np.nan_to_num(values, nan=2.0)
    ndim = len(shape)
    dim = int(rng.integers(-max(ndim, 1), max(ndim, 1)))
    keepdim = bool(rng.random() < 0.5)
    dtype = str(rng.choice(["float64", "float64", "float32", "int64", "int32", "bool", "uint8",
                            "int8", "int16", "float16", "bfloat16"]))  # fmt: skip
    k = int(rng.integers(1, (shape[dim] if ndim else 1) + 1))

    def program(lib):
        data = values
        if dtype not in ("float64", "float32", "float16", "bfloat16"):
            data = np.nan_to_num(values, posinf=3, neginf=-3)
            data = data > 0 if dtype == "bool" else np.abs(data) if dtype == "uint8" else data
        x = _leaf(lib, data, dtype)
        if name in ("max", "min", "median", "nanmedian", "msort", "prod", "nansum", "nanmean"):
            out = getattr(lib, name)(x)
        elif name in ("max_dim", "min_dim", "median_dim", "nanmedian_dim"):
            out = getattr(lib, name[:-4])(x, dim, keepdim=keepdim)
        elif name in ("argmax", "argmin", "amax", "amin", "logsumexp"):
            out = getattr(lib, name)(x, dim, keepdim=keepdim)
        elif name in ("mode", "cummax", "cummin"):
            out = getattr(lib, name)(x, dim)
        elif name == "kthvalue":
            # its values only: which of tied elements it picks (its index, and so where the
            # gradient goes) is its selection algorithm's, unspecified
            out = lib.kthvalue(x, k, dim, keepdim=keepdim)[0].detach()
        elif name == "aminmax":
            out = lib.aminmax(x, dim=dim, keepdim=keepdim)
        elif name == "sort":
            out = lib.sort(x, dim, descending=keepdim, stable=True)
        elif name == "topk":
            out = lib.topk(x, k, dim, largest=keepdim)[0].detach()  # (ties: as kthvalue)
        elif name == "norm_inf":
            out = lib.linalg.vector_norm(x, INF, dim=dim)
        elif name == "std":
            out = lib.std(x, dim=None if keepdim else dim)
        elif name == "var_mean":
            out = lib.var_mean(x, dim, correction=0)
        elif name == "count_nonzero":
            out = lib.count_nonzero(x, dim)
        else:
            out = lib.maximum(x, x.flip(-1) if ndim else x)
        outputs = tuple(out) if isinstance(out, tuple) else (out,)
        return _with_gradients(lib, outputs, [x], seed)

    return f"{name}(x{shape}={values.tolist()}, dim={dim}, keepdim={keepdim}, k={k}) ({dtype})", (
        program
    )


# ---- family: shape, split and view ops ------------------------------------------------------
# The shape ops the op chain never draws, with odd arguments (negative dims, dim tuples,
# empty pieces, index lists), their values, whether the result is a view of the input, and
# the gradient.

SHAPE_OPS = ["unflatten", "movedim_list", "squeeze_tuple", "expand_as", "repeat_interleave",
             "repeat_interleave_tensor", "repeat_interleave_flat", "tile", "select", "unbind",
             "split_sizes", "tensor_split_int", "tensor_split_indices", "tensor_split_tensor",
             "hsplit", "vsplit", "dsplit", "cat_empty", "stack_neg", "flip_dims", "roll_dims",
             "roll_flat", "rot90", "diag_embed", "diagonal_dims", "diag", "tril_3d", "triu_3d",
             "take_along_dim_none", "narrow_tensor", "swapdims", "unfold", "chunk_uneven",
             "view_neg", "flatten_range", "atleast_3d", "column_stack", "hstack", "dstack",
             "vstack", "broadcast_to", "permute_neg", "mT", "split_with_sizes",
             "unsafe_chunk"]  # fmt: skip


def _draw_shapes(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(SHAPE_OPS))
    shape = [(2, 3), (3, 1, 2), (4,), (2, 3, 4), (1, 2, 1, 3), (0, 3), (2, 0, 1), ()][
        int(rng.integers(0, 8))
    ]
    ndim = len(shape)
    span = max(ndim, 1)
    dim = int(rng.integers(-span, span))
    other_dim = int(rng.integers(-span, span))
    count = int(rng.integers(1, 4))
    offset = int(rng.integers(-2, 3))
    indices = sorted(int(i) for i in rng.integers(-1, 5, int(rng.integers(0, 3))))
    sizes_draw = rng.integers(0, 3, 3)
    values = rng.integers(-4, 5, shape) / 2.0
    dtype = str(rng.choice(["float64", "float64", "float32", "int64"]))

    def program(lib):
        x = _leaf(lib, values, dtype)
        out = _shape_op(lib, name, x, dim, other_dim, count, offset, indices, sizes_draw)
        outputs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        # whether each result shares the input's memory (a view) is part of the contract
        # (a write into the input shows through a view, not through a copy)
        shares = tuple(
            o._base is not None and (o._base is x or o._base is x._base) for o in outputs
        )
        return _with_gradients(lib, outputs, [x], seed) + (shares,)

    return (
        f"{name}(x{shape}, dim={dim}, other={other_dim}, count={count}, offset={offset}, "
        f"indices={indices}, sizes={list(sizes_draw)}) ({dtype})",
        program,
    )


def _shape_op(lib, name, x, dim, other_dim, count, offset, indices, sizes_draw):
    shape = tuple(x.shape)
    if name == "unflatten":
        return x.unflatten(dim, (-1, 1) if offset > 0 else (1, shape[dim] if shape else 1))
    if name == "movedim_list":
        return lib.movedim(x, [dim, other_dim], [other_dim, dim])
    if name == "squeeze_tuple":
        return x.squeeze((dim, other_dim) if dim != other_dim else (dim,))
    if name == "expand_as":
        return x.expand_as(lib.zeros((count, *shape)))
    if name == "repeat_interleave":
        return x.repeat_interleave(count, dim=dim)
    if name == "repeat_interleave_tensor":
        repeats = lib.tensor([int(s) for s in np.resize(sizes_draw, shape[dim] if shape else 1)])
        return x.repeat_interleave(repeats, dim=dim)
    if name == "repeat_interleave_flat":
        return lib.repeat_interleave(x, count)
    if name == "tile":
        return x.tile((count, 1))
    if name == "select":
        return x.select(dim, offset)
    if name == "unbind":
        return x.unbind(dim)
    if name == "split_sizes":
        return x.split([int(s) for s in sizes_draw[:count]], dim)
    if name == "split_with_sizes":
        return x.split_with_sizes([int(s) for s in sizes_draw[:count]], dim)
    if name == "tensor_split_int":
        return x.tensor_split(count, dim)
    if name == "tensor_split_indices":
        return x.tensor_split(indices, dim)
    if name == "tensor_split_tensor":
        return lib.tensor_split(x, lib.tensor(indices, dtype=lib.int64), dim)
    if name in ("hsplit", "vsplit", "dsplit"):
        return getattr(lib, name)(x, count if offset >= 0 else indices)
    if name == "cat_empty":
        return lib.cat([lib.tensor([], dtype=x.dtype), x, x[:0]], dim)
    if name == "stack_neg":
        return lib.stack([x, x * 2], dim=-1 - (abs(dim) % (len(shape) + 1)))
    if name == "flip_dims":
        return x.flip((dim, other_dim) if dim % len(shape) != other_dim % len(shape) else dim)
    if name == "roll_dims":
        return x.roll((offset, count), (dim, other_dim))
    if name == "roll_flat":
        return x.roll(offset)
    if name == "rot90":
        return x.rot90(offset, (dim, other_dim))
    if name == "diag_embed":
        return lib.diag_embed(x, offset, dim, other_dim)
    if name == "diagonal_dims":
        return x.diagonal(offset, dim, other_dim)
    if name == "diag":
        return lib.diag(x, offset)
    if name in ("tril_3d", "triu_3d"):
        return getattr(x, name[:4])(offset)
    if name == "take_along_dim_none":
        picks = lib.tensor([int(i) % max(x.numel(), 1) for i in indices], dtype=lib.int64)
        return lib.take_along_dim(x, picks)
    if name == "narrow_tensor":
        return x.narrow(dim, lib.tensor(abs(offset) % 2), 1)
    if name == "swapdims":
        return x.swapdims(dim, other_dim)
    if name == "unfold":
        return x.unfold(dim, count, abs(offset) + 1)
    if name == "chunk_uneven":
        return x.chunk(count + 1, dim)
    if name == "view_neg":
        return x.view(-1, count)
    if name == "flatten_range":
        return x.flatten(min(dim, other_dim), max(dim, other_dim))
    if name == "atleast_3d":
        return lib.atleast_3d(x)
    if name in ("column_stack", "hstack", "dstack", "vstack"):
        return getattr(lib, name)([x, x])
    if name == "broadcast_to":
        return lib.broadcast_to(x, (count, *(1 if offset > 0 else s for s in shape)))
    if name == "permute_neg":
        return x.permute(*[d - len(shape) for d in reversed(range(len(shape)))])
    if name == "mT":
        return x.mT
    return x.unsafe_chunk(count, dim)


# ---- family: scatter with reduce=, and index ops at negative dims ---------------------------
# The corners round two's scatter family leaves: scatter's own `reduce=` argument (add and
# multiply, with a tensor or a number), masked_fill with a 0-d tensor value that requires
# grad, index ops at negative dims and with 0-d indices, put_ and index_put_ with bool masks,
# and the promotion of a cat of mixed dtypes with legacy empty tensors.

INDEX_OPS = ["scatter_reduce_arg", "scatter_value_reduce", "masked_fill_tensor", "index_fill_neg",
             "index_add_alpha", "index_select_0d", "gather_neg", "take_along_dim_broadcast",
             "index_put_mask", "put_", "cat_mixed_empty", "select_scatter", "slice_scatter",
             "diagonal_scatter", "index_reduce"]  # fmt: skip


def _draw_index_ops(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(INDEX_OPS))
    shape = [(3,), (2, 3), (3, 2, 2)][int(rng.integers(0, 3))]
    ndim = len(shape)
    dim = int(rng.integers(-ndim, 0))
    size = shape[dim]
    picks = rng.integers(0, size, int(rng.integers(1, 4)))
    reduce = str(rng.choice(["add", "multiply"]))
    index_reduce = str(rng.choice(["prod", "mean", "amax", "amin"]))
    include_self = bool(rng.random() < 0.5)
    values = rng.integers(-3, 4, shape) / 2.0
    mask = rng.random(shape) < 0.5
    dtype = str(rng.choice(["float64", "float32", "int64"]))
    other_dtype = str(rng.choice(["float64", "float32", "int64", "bool", "float16"]))

    def program(lib):
        x = _leaf(lib, values, dtype)
        leaves = [x]
        index_shape = list(shape)
        index_shape[dim] = len(picks)
        index = lib.tensor(np.broadcast_to(
            picks.reshape([-1 if d == dim % ndim else 1 for d in range(ndim)]), index_shape
        ).copy())  # fmt: skip
        source = _leaf(lib, np.arange(np.prod(index_shape)).reshape(index_shape) - 1.5, dtype)
        if name in ("scatter_reduce_arg", "scatter_value_reduce"):
            # values only: PyTorch has no derivative for scatter with reduce= (its backward
            # raises; chainrule's gives one)
            x = x.detach()
            value = source.detach() if name == "scatter_reduce_arg" else 2.0
            out = x.scatter(dim, index, value if dtype != "int64" else 2, reduce=reduce)
        elif name == "masked_fill_tensor":
            # (a value that requires grad beside an integer x: PyTorch is inconsistent,
            # masked_fill and index_fill refuse it, copy_ takes it, fill_ makes an integer
            # tensor that requires grad)
            value = _leaf(lib, 2.5, "float64" if dtype == "int64" else dtype, dtype != "int64")
            leaves.append(value)
            out = x.masked_fill(lib.tensor(mask), value)
        elif name == "index_fill_neg":
            out = x.index_fill(dim, lib.tensor(picks), -1)
        elif name == "index_add_alpha":
            leaves.append(source)
            out = x.index_add(dim, lib.tensor(picks), source, alpha=-2)
        elif name == "index_select_0d":
            out = x.index_select(dim, lib.tensor(int(picks[0])))
        elif name == "gather_neg":
            out = x.gather(dim, index)
        elif name == "take_along_dim_broadcast":
            narrow = index.narrow(0, 0, 1) if ndim > 1 else index
            out = lib.take_along_dim(x, narrow, dim)
        elif name == "index_put_mask":
            y = x.clone()
            y.index_put_((lib.tensor(mask),), lib.tensor(1.0).to(y.dtype), accumulate=True)
            out = y
        elif name == "put_":
            y = x.clone()
            y.put_(lib.tensor(picks), lib.ones(len(picks), dtype=y.dtype), accumulate=include_self)
            out = y
        elif name == "cat_mixed_empty":
            other = lib.tensor(values, dtype=getattr(lib, other_dtype))
            out = lib.cat([lib.tensor([], dtype=getattr(lib, other_dtype)), x, other], dim)
        elif name == "select_scatter":
            src = _leaf(lib, np.ones(shape[: dim % ndim] + shape[dim % ndim + 1 :]), dtype)
            leaves.append(src)
            out = lib.select_scatter(x, src, dim, int(picks[0]))
        elif name == "slice_scatter":
            src_shape = list(shape)
            src_shape[dim] = len(range(0, size, 2))
            src = _leaf(lib, np.ones(src_shape), dtype)
            leaves.append(src)
            out = lib.slice_scatter(x, src, dim, 0, None, 2)
        elif name == "diagonal_scatter":
            if ndim < 2:
                raise RuntimeError("diagonal_scatter needs two dimensions")
            src = _leaf(lib, np.ones(x.diagonal(0, 0, 1).shape), dtype)
            leaves.append(src)
            out = lib.diagonal_scatter(x, src, 0, 0, 1)
        else:
            leaves.append(source)
            out = x.index_reduce(dim, lib.tensor(picks), source, index_reduce,
                                 include_self=include_self)  # fmt: skip
        return _with_gradients(lib, (out,), leaves, seed)

    return (
        f"{name} x{shape} ({dtype}) dim={dim} picks={list(picks)} reduce={reduce}/"
        f"{index_reduce} include_self={include_self} other={other_dtype}",
        program,
    )


# ---- family: autograd's bookkeeping of in-place writes ----------------------------------------
# A leaf, a view or detached or `.data` alias of something, then in-place writes: where
# PyTorch raises (a leaf requiring grad written, a saved tensor written before backward),
# the version counters it reports, which aliases see the write, and the gradients.

ALIASES = ["leaf", "leaf_view", "nonleaf", "nonleaf_view", "detach", "data", "detach_view",
           "no_grad_leaf", "int_leaf", "expanded"]  # fmt: skip
MUTATIONS = ["add_", "mul_", "setitem", "copy_", "zero_", "requires_grad_false",
             "requires_grad_true", "t_", "unsqueeze_", "squeeze_", "resize_as_",
             "detach_", "retain_grad", "data_add_", "detach_add_", "view_setitem",
             "set_data", "grad_assign"]  # fmt: skip
USES = ["exp", "mul_self", "sigmoid", "pow2", "sum", "sin", "div", "none"]


def _alias(lib, name: str, x):
    if name == "leaf":
        return x
    if name == "leaf_view":
        return x[0]
    if name == "nonleaf":
        return x * 2
    if name == "nonleaf_view":
        return (x * 2)[:, 1:]
    if name == "detach":
        return x.detach()
    if name == "data":
        return x.data
    if name == "detach_view":
        return x.detach()[1]
    if name == "no_grad_leaf":
        with lib.no_grad():
            return x * 2
    if name == "int_leaf":
        return lib.ones((2, 3), dtype=lib.int64)
    return x[:1].expand(3, 3)


def _mutate(lib, name: str, a):
    if name == "add_":
        a.add_(1)
    elif name == "mul_":
        a.mul_(2)
    elif name == "setitem":
        a[..., 0] = 5
    elif name == "copy_":
        a.copy_(lib.ones(()))
    elif name == "zero_":
        a.zero_()
    elif name == "requires_grad_false":
        a.requires_grad_(False)
    elif name == "requires_grad_true":
        a.requires_grad_(True)
    elif name in ("t_", "unsqueeze_", "squeeze_"):
        if name == "t_":
            a.t_() if a.dim() <= 2 else a.unsqueeze_(0)
        elif name == "unsqueeze_":
            a.unsqueeze_(0)
        else:
            a.squeeze_()
    elif name == "resize_as_":
        a.resize_as_(a)
    elif name == "detach_":
        a.detach_()
    elif name == "data_add_":  # (.data shares the memory, not the version counter)
        a.data.add_(1)
    elif name == "detach_add_":  # (.detach() shares both)
        a.detach().add_(1)
    elif name == "view_setitem":
        a.view(-1)[0] = 7
    elif name == "set_data":
        # (a view's `.data` replaced is left out: PyTorch keeps it a view of its base, writes
        # through its own views then go to the new memory; chainrule's views of it take the
        # base's memory for theirs, and such a write fails)
        target = a.detach() if a._base is not None else a
        target.data = lib.full_like(a, 3.0)
    elif name == "grad_assign":
        a.grad = lib.ones_like(a)
    else:
        a.retain_grad()


def _use(lib, name: str, a):
    if name == "exp":
        return a.exp()
    if name == "mul_self":
        return a * a
    if name == "sigmoid":
        return a.sigmoid()
    if name == "pow2":
        return a**2
    if name == "sum":
        return a.sum()
    if name == "sin":
        return a.sin()
    if name == "div":
        return 1 / (a + 10)
    return a


def _draw_versions(seed: int):
    rng = np.random.default_rng(seed)
    alias = str(rng.choice(ALIASES))
    before = str(rng.choice(MUTATIONS))
    if alias == "detach_view" and before == "requires_grad_true":
        # (left: a view of a base that does not require grad, made a leaf that does, passes
        # that on to its own views in PyTorch, so writing through them is refused; chainrule's
        # views of it take the root base, and allow the write)
        before = "requires_grad_false"
    use = str(rng.choice(USES))
    after = str(rng.choice(MUTATIONS))
    values = rng.integers(-3, 4, (3, 3)) / 2.0

    def program(lib):
        x = lib.tensor(values, requires_grad=True)
        a = _alias(lib, alias, x)
        record = []
        for mutation in (before,):
            try:
                _mutate(lib, mutation, a)
                record.append("ok")
            except RuntimeError:
                record.append("RuntimeError")
        used = _use(lib, use, a)
        try:
            _mutate(lib, after, a)
            record.append("ok")
        except RuntimeError:
            record.append("RuntimeError")
        state = (
            tuple(record),
            x._version,
            a._version,
            a.is_leaf,
            a.requires_grad,
            x.detach().clone(),
            a.detach().clone(),
        )
        if not used.requires_grad:
            return state
        try:
            used.sum().backward()
        except RuntimeError:
            return state + ("backward raised RuntimeError",)
        a_grad = a.grad if a.is_leaf or a.retains_grad else None  # (a non-leaf's: a warning)
        return state + (x.grad, a_grad)

    return f"a = {alias}(x); a.{before}; y = {use}(a); a.{after}; y.sum().backward()", program


# ---- fixed programs: what this round found, kept as regressions ------------------------------


def _unary_at(name: str, values: list, dtype: str = "float64"):
    """An edge_math unary op at `values`: its value and gradient (of a fixed weighting)."""

    def program(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        return _dense(lib, _with_gradients(lib, (_unary(lib, name, x),), [x], 0))

    return program


def _binary_at(name: str, first: list, second: list, dtype: str = "float64"):
    def program(lib):
        x, y = (
            lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in (first, second)
        )
        return _with_gradients(lib, (_binary(lib, name, x, y),), [x, y], 0)

    return program


def _complex_logaddexp(lib):
    """Its value and the gradients of the real part of a weighted sum."""
    x = lib.tensor([1 + 1j, -2j, 3.0], requires_grad=True)
    y = lib.tensor([2.0, 1j, -1 + 2j], requires_grad=True)
    out = lib.logaddexp(x, y)
    weights = lib.tensor([1.0, -2.0 + 1j, 0.5j])
    return out.detach(), lib.autograd.grad((out * weights).real.sum(), (x, y))


def _nanmean_of_nans(lib):
    x = lib.tensor([[NAN, NAN], [1.0, NAN]], requires_grad=True)
    return _with_gradients(lib, (lib.nanmean(x, 1),), [x], 0)


def _repeat_interleave_once_is_a_copy(lib):
    x = lib.tensor([[1.0, 2.0]])
    y = x.repeat_interleave(1, dim=0)
    y.add_(10)  # (not seen by x: PyTorch's result is a view of its own copy, not of x)
    return x, y


def _unsafe_chunk_written_in_place(lib):
    x = lib.ones(4, requires_grad=True)
    y = x * 1
    a, _ = y.unsafe_chunk(2)
    a.mul_(3)
    y.sum().backward()
    return y.detach(), a._base is None, y._version, a._version, x.grad


def _transposes_of_a_scalar(lib):
    x = lib.tensor(2.0, requires_grad=True)
    return x.T, x.mT, x.H, x.mH, x.adjoint(), x.mT is x


def _detach_in_place(alias: str):
    def program(lib):
        x = lib.ones(2, 3, requires_grad=True)
        a = {"view": lambda: x.detach()[0], "nonleaf": lambda: x * 2, "leaf": lambda: x}[alias]()
        y = a.sin() if alias != "view" else a * 2
        a.detach_()
        y.sum().backward() if y.requires_grad else None
        return x.grad

    return program


def _leaf_stops_requiring_grad(lib):
    x = lib.ones(3, requires_grad=True)
    y = (x * 2).sum()
    x.requires_grad_(False)
    y.backward()
    return x.grad, x.requires_grad


def _resize_to_own_shape(lib):
    x = lib.ones(2, 3)
    x.resize_as_(x)
    versions = [x._version]
    x.resize_(3, 2)
    return versions + [x._version], x.shape


def _out_of(dtype: str, shape: tuple, call):
    """call(lib, out) with `out` a zeros tensor of dtype and shape: whether it returns `out`,
    and `out`."""

    def program(lib):
        out = lib.zeros(shape, dtype=getattr(lib, dtype))
        returned = call(lib, out)
        return returned is out, out

    return program


def _out(call):
    """_out_of a float64 out of the result's shape, (2,)."""
    return _out_of("float64", (2,), call)


REGRESSIONS = {
    # special functions at their edges (SciPy's conventions differ from PyTorch's there)
    "lgamma_of_subnormals": _unary_at("lgamma", [5e-324, 1e-310, -1e-310, 0.5]),
    "digamma_at_signed_zeros_and_infinities": _unary_at("digamma", [-0.0, 0.0, -INF, INF]),
    "trigamma_at_minus_infinity": _unary_at("polygamma1", [-INF, 2.0]),
    "polygamma_at_the_infinities": lambda lib: tuple(
        lib.polygamma(n, lib.tensor([-INF, INF, 2.0], dtype=lib.float64)) for n in (1, 2, 3)
    ),
    "i1_gradient_at_a_subnormal": _unary_at("i1", [1e-40, -1e-40, 0.0], "float32"),
    "i1e_gradient_at_a_subnormal": _unary_at("i1e", [1e-40, 2.0], "float32"),
    "logaddexp_gradient_beside_infinity": _binary_at(
        "logaddexp", [INF, 1e300, -INF], [-0.5, 1e300, 1.0]
    ),
    "logaddexp2_gradient_beside_infinity": _binary_at(
        "logaddexp2", [INF, 1e300, 2.0], [-0.5, 1e300, INF]
    ),
    "logit_gradient_at_negative_zero": _unary_at("logit", [-0.0, 0.0, 0.5]),
    "i1_gradient_at_the_smallest_subnormal": _unary_at("i1", [5e-324, -1e-310, 2.0]),
    "mvlgamma_gradient_at_negative_zero": _unary_at("mvlgamma2", [-0.0, 1.5]),
    "frexp_of_subnormals": lambda lib: tuple(
        lib.frexp(lib.tensor([5e-324, -1e-310, 1e-40, 2.0], dtype=dtype))
        for dtype in (lib.float64, lib.float32)
    ),
    "airy_ai_far_right": lambda lib: lib.special.airy_ai(
        lib.tensor([1e300, INF, 200.0, -1.0], dtype=lib.float64)
    ),
    "nanmean_gradient_over_a_slice_of_nans": _nanmean_of_nans,
    "div_gradient_beside_a_tiny_divisor": _binary_at("div", [0.0, 1.0], [1e-300, 1e-300]),
    # shape ops
    "repeat_interleave_once_is_a_copy": _repeat_interleave_once_is_a_copy,
    "unsafe_chunk_written_in_place": _unsafe_chunk_written_in_place,
    "transposes_of_a_scalar": _transposes_of_a_scalar,
    "H_of_a_vector": lambda lib: lib.ones(3).H,
    "split_with_sizes_of_a_scalar": lambda lib: lib.split_with_sizes(lib.ones(()), [1]),
    "unflatten_of_a_scalar": lambda lib: lib.ones(()).unflatten(-1, (1,)),
    # autograd's bookkeeping
    "detach_in_place_of_a_view": _detach_in_place("view"),
    "detach_in_place_of_a_saved_non_leaf": _detach_in_place("nonleaf"),
    "detach_in_place_of_a_leaf_after_its_graph": _detach_in_place("leaf"),
    "leaf_stops_requiring_grad_before_backward": _leaf_stops_requiring_grad,
    "resize_to_its_own_shape": _resize_to_own_shape,
    "write_into_an_empty_expanded_tensor": lambda lib: (
        lib.zeros(0, 3).expand(2, 0, 3).detach().add_(1)
    ),
    "logaddexp_of_complex": _complex_logaddexp,
    "heaviside_of_complex": lambda lib: lib.heaviside(lib.tensor([1j]), lib.tensor([1j])),
    "flip_without_dims": lambda lib: lib.ones(2).flip(),
    "write_into_the_data_of_an_expanded_tensor": lambda lib: (
        lib.ones(1, 3).expand(3, 3).data.add_(1)
    ),
    "write_into_a_detached_expanded_tensor": lambda lib: (
        lib.ones(1, 3).expand(3, 3).detach().mul_(2)
    ),
    # out= arguments
    "mean_in_a_double_out": _out(
        lambda lib, out: lib.mean(lib.tensor([[1 / 3, 2 / 3, 1.0], [1.0, 2.0, 4.0]]), 1, out=out)
    ),
    "sum_in_a_bool_out": _out_of(
        "bool", (2,), lambda lib, out: lib.sum(lib.tensor([[0.5, -0.5], [0.0, 0.0]]), 1, out=out)
    ),
    "sum_in_an_integer_out": _out_of(
        "int64", (0,), lambda lib, out: lib.sum(lib.tensor([[0.5, 0.5], [1.5, -1.5]]), 1, out=out)
    ),
    "cumsum_in_an_integer_out": _out_of(
        "int64", (3,), lambda lib, out: lib.cumsum(lib.tensor([0.5, 0.5, 1.0]), 0, out=out)
    ),
    "comparison_in_an_integer_out": _out_of(
        "int32", (2,), lambda lib, out: lib.lt(lib.tensor([1.0, 3.0]), 2, out=out)
    ),
    "float_math_in_an_integer_out": _out_of(
        "int64", (2,), lambda lib, out: lib.exp(lib.tensor([1, 2]), out=out)
    ),
    "abs_of_complex_in_a_double_out": _out(
        lambda lib, out: lib.abs(lib.tensor([3 + 4j, -1j]), out=out)
    ),
    "neg_in_another_float_out": _out(lambda lib, out: lib.neg(lib.tensor([1.0, 2.0]), out=out)),
    "where_in_another_dtype_out": _out_of(
        "int64",
        (2,),
        lambda lib, out: lib.where(
            lib.tensor([True, False]), lib.tensor([1.0, 3.0]), lib.tensor(2.0), out=out
        ),
    ),
    "clamp_number_bounds_in_another_dtype_out": _out(
        lambda lib, out: lib.clamp(lib.tensor([1, 5]), min=2, out=out)
    ),
    "clamp_tensor_bounds_in_a_wider_out": _out(
        lambda lib, out: lib.clamp(lib.tensor([1, 5]), min=lib.tensor(2), out=out)
    ),
    "cat_in_a_wider_out": _out(
        lambda lib, out: lib.cat([lib.tensor([1]), lib.tensor([2], dtype=lib.int32)], out=out)
    ),
    "maximum_into_its_input": lambda lib: (
        lambda a: (lib.maximum(a, lib.tensor([2, 0]), out=a) is a, a)
    )(lib.tensor([1, 1])),
    "floor_divide_in_a_resized_out": _out_of(
        "int64", (5,), lambda lib, out: lib.floor_divide(lib.tensor([-7, 7]), 2, out=out)
    ),
    "abs_in_place_of_complex": lambda lib: lib.tensor([3 + 4j]).abs_(),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_a_program_this_round_found_agrees_with_pytorch(name):
    check_program(name, REGRESSIONS[name])


# ---- the tests --------------------------------------------------------------------------------

FAMILIES = {
    "edge_math": (_draw_edge_math, 250),
    "int_arith": (_draw_int_arith, 250),
    "float_division": (_draw_float_division, 200),
    "dtypes": (_draw_dtypes, 200),
    "binary_dtypes": (_draw_binary_dtypes, 200),
    "out": (_draw_out, 200),
    "ties": (_draw_ties, 200),
    "shapes": (_draw_shapes, 200),
    "index_ops": (_draw_index_ops, 200),
    "versions": (_draw_versions, 200),
}


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_family_case(FAMILIES, family, seed)


if __name__ == "__main__":
    main(FAMILIES, sys.argv)
