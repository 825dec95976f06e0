"""Differential fuzzing against PyTorch, round eight: the machinery around the ops that rounds
one to seven leave out. The Tensor's Python protocol (int/float/bool/complex/index, format
specs, tolist, item, len, iteration, `in`, NumPy conversion and ufuncs, odd operands) and
its dtype rules with Python and NumPy scalars on either side, in-place methods (casts,
refusals, leaves, views, expanded tensors) and `out=` (dtype rules, resizing, aliasing,
tuples, and the functions that had none), result_type, can_cast and promote_types; the
nn.Module machinery (random module trees: state dicts and their loading, the named_* walks,
dtype moves, attribute rules, printing; hooks; containers; state dict hooks, extra state,
deepcopy); torch.utils.data (default collation, samplers, datasets, loaders and their
argument errors, random_split); and nn.utils (gradient clipping, parameter vectors, padded
and packed sequences and their misuse, parametrizations). Each case runs one random program
on chainrule and on PyTorch and compares values, dtype, shape, requires_grad and gradients,
or the exception type when PyTorch raises (see `check_program`). REGRESSIONS keeps each
program this round found, fixed.

Seeded: a failure names its case (`pytest -k 'protocol-case_17'`), and
`python -m tests.test_fuzz_torch_round8 FAMILY START COUNT` runs more cases of a family than
the suite does."""

from __future__ import annotations

import collections
import copy
import math
import operator
import sys

import numpy as np
import pytest

from tests.test_fuzz_torch import _refused_argument
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
                  "abs_builtin", "neg", "invert", "divmod", "trunc", "floor", "ceil",
                  "round_digits", "eq_other", "add_other", "lt_other", "numpy_ufunc",
                  "asarray_dtype", "builtin_sum", "builtin_max", "sorted", "reversed", "copy",
                  "deepcopy", "pow_builtin", "isclose", "contains_tensor"]  # fmt: skip
ODD_OPERANDS = [None, "a", [1, 2], (1.5,), np.array([1.0, 2.0]), np.array(2), 1e300, -(2**70),
                2**63, float("nan")]  # fmt: skip
FORMAT_SPECS = ["", ".3f", ".2e", "g", "8.2f", "d", "x", ">10", "+.1f", "%", ".0f", "s", "r"]


def _protocol_values(rng, shape: tuple, dtype: str, finite: bool = False) -> np.ndarray:
    values = rng.choice([0.0, 1.0, -1.0, 2.5, -2.5, 0.5, 7.0, 300.0, -0.0], size=shape)
    # (not for arithmetic: complex kernels differ on inf and nan by their formulas)
    if not finite and rng.random() < 0.15 and dtype.startswith(("float", "bfloat", "complex")):
        values = rng.choice([np.nan, np.inf, -np.inf, 1e10, 2.5], size=shape)
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
    odd = _choice(rng, ODD_OPERANDS)
    digits = _choice(rng, [None, 0, 1, 2, -1])
    swap = bool(rng.random() < 0.5)
    requires_grad = dtype.startswith(("float", "complex", "bfloat")) and bool(rng.random() < 0.4)
    if call == "add_other" and isinstance(odd, float) and odd == 1e300 and dtype[0] == "c":
        # (PyTorch's add computes self + alpha * other, and (inf + 0j) * 1 is inf + nanj)
        return "a complex tensor plus a number that overflows", None
    if call in ("numpy_grad", "array_grad", "numpy_ufunc", "asarray_dtype") and dtype == "bfloat16":
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
        if call == "round_digits":
            return round(x, digits) if digits is not None else round(x)
        if call in ("eq_other", "add_other", "lt_other"):
            if isinstance(odd, np.ndarray) and call != "eq_other":
                # (chainrule computes a Tensor, on the graph, from a tensor and an ndarray on
                # either side, NumPy's promotion (test_elementwise_semantics); PyTorch gives
                # TypeError for `array + tensor` and any `<`, and refuses a tensor that
                # requires grad: a deliberate superset)
                return "an ndarray operand"
            name = {"eq_other": "eq", "add_other": "add", "lt_other": "lt"}[call]
            operands = (odd, x) if swap else (x, odd)
            return getattr(operator, name)(*operands)
        if call == "numpy_ufunc":
            return (
                np.sin(x.detach())
                if not requires_grad
                else _py(type(_outcome(lambda: np.sin(x))).__name__)
            )
        if call == "asarray_dtype":
            return _py(np.asarray(x.detach(), dtype=np.float32).tolist())
        if call == "builtin_sum":
            return sum(x)
        if call == "builtin_max":
            return max(x)
        if call == "sorted":
            return tuple(sorted(x))
        if call == "reversed":
            return tuple(reversed(x))
        if call in ("copy", "deepcopy"):
            copied = getattr(copy, call)(x)
            return (copied, copied is x, _py(copied.requires_grad))
        if call == "pow_builtin":
            return pow(x, 2) if not swap else pow(2, x)
        if call == "isclose":
            return _py(math.isclose(x, 2.5))
        if call == "contains_tensor":
            return _py(lib.tensor([1.0, 2.5]) in x)
        if call == "trunc":
            return _py(math.trunc(x))
        if call == "floor":
            return _py(math.floor(x))
        return _py(math.ceil(x))

    label = (
        f"{call} of {dtype}{list(shape)} {values.tolist()} requires_grad={requires_grad} "
        f"spec={spec!r} in={needle!r} odd={odd!r} digits={digits} swap={swap}"
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
    return ("tensor", dtype, shape, _protocol_values(rng, shape, dtype, finite=True))


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
        right = right[:3] + (_protocol_values(rng, (2,), right[1], finite=True),)
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
        and ("complex" in str(left) + str(right) or complex in (type(left[-1]), type(right[-1])))
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
            if isinstance(outcome, Raised):  # (PyTorch's integer division by zero raises
                return (outcome, before)  # after writing the elements before it)
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


# ---- family: the nn.Module machinery -----------------------------------------------------------
# A random module tree: Sequential, ModuleList and ModuleDict nested, leaves of Linear,
# BatchNorm1d and a custom module with a parameter, a persistent and a non-persistent buffer,
# a None parameter, a None buffer and a None submodule; some leaves shared between two places
# and some parameters tied. Then a few drawn actions, each recorded: state dicts, loading
# them (strict or not, assign, missing, unexpected and misshapen keys), the named_* walks,
# children, apply, train/eval, requires_grad_, zero_grad, dtype moves, attribute rules,
# get_submodule/get_parameter, and repr.

MODULE_ACTIONS = ["state_dict", "state_dict_keep_vars", "state_dict_prefix", "named_parameters",
                  "named_buffers", "named_modules", "children", "apply", "train_eval",
                  "requires_grad_", "zero_grad", "to_dtype", "load_loose", "load_strict",
                  "load_misshapen", "load_assign", "setattr_rules", "register_rules",
                  "get_submodule", "get_parameter", "delattr", "repr", "parameters_count",
                  "buffers", "modules_count", "set_submodule", "extra_state"]  # fmt: skip


def _draw_module_tree(rng, depth: int, leaves: list) -> tuple:
    kind = _choice(
        rng, ["leaf", "leaf", "seq", "list", "dict", "parent"] if depth < 3 else ["leaf"]
    )
    if kind == "leaf":
        if leaves and rng.random() < 0.2:
            return ("shared", int(rng.integers(0, len(leaves))))
        leaf = _choice(rng, ["linear", "bn", "custom"])
        size = int(rng.integers(1, 4))
        flags = tuple(bool(rng.random() < 0.5) for _ in range(3))
        leaves.append(None)
        return (leaf, size, flags, len(leaves) - 1)
    count = int(rng.integers(0, 4))
    children = [_draw_module_tree(rng, depth + 1, leaves) for _ in range(count)]
    if kind in ("list", "dict") and rng.random() < 0.2:
        children.append(("none",))
    if kind in ("dict", "parent"):
        keys = [
            _choice(rng, ["a", "b", "enc", "dec", "head", "x1"]) + str(i)
            for i in range(len(children))
        ]
        return (kind, tuple(zip(keys, children)))
    return (kind, tuple(children))


def _custom_module(lib):
    class Block(lib.nn.Module):
        """A parameter, buffers persistent or not, None entries, and an extra_repr."""

        def __init__(self, size: int, flags: tuple) -> None:
            super().__init__()
            self.size = size
            self.scale = lib.nn.Parameter(lib.arange(size, dtype=lib.float32) + 1.0)
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))
            self.register_buffer("cache", lib.ones(size), persistent=flags[0])
            self.register_parameter("missing", None)
            self.register_buffer("empty", None)
            self.child = None
            if flags[1]:
                self.inner = lib.nn.Linear(size, 1, bias=flags[2])

        def extra_repr(self) -> str:
            return f"size={self.size}"

    return Block


def _build_module(lib, spec, built: dict, block):
    kind = spec[0]
    if kind == "shared":
        return built[spec[1]] if spec[1] in built else lib.nn.Identity()
    if kind == "none":
        return None
    if kind in ("linear", "bn", "custom"):
        _, size, flags, index = spec
        lib.manual_seed(index)
        if kind == "linear":
            module = lib.nn.Linear(size, size + 1, bias=flags[0])
        elif kind == "bn":
            module = lib.nn.BatchNorm1d(size, affine=flags[0], track_running_stats=flags[1])
        else:
            module = block(size, flags)
        built[index] = module
        return module
    if kind == "seq":
        return lib.nn.Sequential(*[_build_module(lib, c, built, block) for c in spec[1]])
    if kind == "list":
        return lib.nn.ModuleList([_build_module(lib, c, built, block) for c in spec[1]])
    if kind == "dict":
        return lib.nn.ModuleDict({k: _build_module(lib, c, built, block) for k, c in spec[1]})
    parent = lib.nn.Module()
    for key, child in spec[1]:
        setattr(parent, key, _build_module(lib, child, built, block))
    return parent


def _named(items) -> tuple:
    """(name, tensor) pairs as (name, detached tensor, is a Parameter)."""
    return tuple(
        (name, type(t).__name__, t.detach() if t is not None else None) for name, t in items
    )


def _state(sd) -> tuple:
    return tuple(
        (key, type(value).__name__, value.detach() if hasattr(value, "detach") else value)
        for key, value in sd.items()
    )


def _draw_modules(seed: int):
    rng = np.random.default_rng(seed)
    leaves: list = []
    spec = _draw_module_tree(rng, 0, leaves)
    if spec[0] in ("linear", "bn", "custom", "shared"):
        spec = ("seq", (spec,))
    tie = bool(rng.random() < 0.3)
    actions = [_choice(rng, MODULE_ACTIONS) for _ in range(int(rng.integers(1, 4)))]
    options = {
        "prefix": _choice(rng, ["", "model.", "x"]),
        "recurse": bool(rng.random() < 0.7),
        "remove_duplicate": bool(rng.random() < 0.6),
        "dtype": _choice(rng, ["float64", "float16", "bfloat16", "float32", "double", "half"]),
        "drop": int(rng.integers(0, 3)),
        "extra": bool(rng.random() < 0.5),
        "mode": bool(rng.random() < 0.5),
        "set_to_none": bool(rng.random() < 0.5),
        "name": _choice(rng, ["0", "a0", "0.0", "1.a0", "nope", "", "0.nope", "a0.weight"]),
        "attr": _choice(rng, ["weight", "bias", "scale", "cache", "steps", "missing", "child"]),
        "bad_name": _choice(rng, ["a.b", "", "weight", "fresh", "training"]),
    }

    def program(lib):
        built: dict = {}
        model = _build_module(lib, spec, built, _custom_module(lib))
        linears = [m for m in model.modules() if isinstance(m, lib.nn.Linear)]
        if tie and len(linears) >= 2 and linears[0].weight.shape == linears[-1].weight.shape:
            linears[-1].weight = linears[0].weight
        with lib.no_grad():  # (the initialisations draw from different generators)
            for i, p in enumerate(model.parameters()):
                p.copy_(lib.tensor(np.random.default_rng(i).standard_normal(tuple(p.shape))))
        record = []
        for action in actions:
            record.append(
                (
                    action,
                    _outcome(lambda action=action: _module_action(lib, model, action, options)),
                )
            )
        return record

    label = f"{spec} tie={tie} actions={actions} {options}"
    return label, program


def _module_action(lib, model, action: str, options: dict):
    if action == "state_dict":
        return _state(model.state_dict())
    if action == "state_dict_keep_vars":
        return _state(model.state_dict(keep_vars=True))
    if action == "state_dict_prefix":
        return _state(model.state_dict(prefix=options["prefix"]))
    if action == "named_parameters":
        return _named(
            model.named_parameters(
                options["prefix"], options["recurse"], options["remove_duplicate"]
            )
        )
    if action == "named_buffers":
        return _named(
            model.named_buffers(options["prefix"], options["recurse"], options["remove_duplicate"])
        )
    if action == "named_modules":
        return tuple(
            (name, type(m).__name__)
            for name, m in model.named_modules(
                prefix=options["prefix"], remove_duplicate=options["remove_duplicate"]
            )
        )
    if action == "children":
        return tuple((name, type(m).__name__) for name, m in model.named_children())
    if action == "apply":
        seen = []
        model.apply(lambda m: seen.append(type(m).__name__))
        return tuple(seen)
    if action == "train_eval":
        returned = model.train(options["mode"]) is model
        model.eval() if options["extra"] else None
        return returned, tuple(m.training for m in model.modules())
    if action == "requires_grad_":
        model.requires_grad_(options["mode"])
        return tuple(p.requires_grad for p in model.parameters())
    if action == "zero_grad":
        for p in model.parameters():
            p.grad = lib.ones_like(p)
        model.zero_grad(set_to_none=options["set_to_none"])
        return tuple(p.grad for p in model.parameters())
    if action == "to_dtype":
        for p in model.parameters():
            p.grad = lib.ones_like(p)
        name = options["dtype"]
        moved = (
            getattr(model, name)() if name in ("double", "half") else model.to(getattr(lib, name))
        )
        return (
            moved is model,
            _named(model.named_parameters()),
            _named(model.named_buffers()),
            tuple(p.grad.dtype for p in model.parameters()),
        )
    if action in ("load_loose", "load_strict", "load_misshapen", "load_assign"):
        sd = model.state_dict()
        keys = list(sd)
        for key in keys[: options["drop"]]:
            del sd[key]
        if options["extra"]:
            sd["surplus.weight"] = lib.zeros(2)
        sd = {k: v + 1 if v.is_floating_point() else v for k, v in sd.items()}
        if action == "load_misshapen" and keys:
            sd[keys[-1]] = lib.zeros(7, 7)
        strict = action == "load_strict"
        result = model.load_state_dict(sd, strict=strict, assign=action == "load_assign")
        return (
            tuple(result.missing_keys),
            tuple(result.unexpected_keys),
            _state(model.state_dict()),
            tuple(p.requires_grad for p in model.parameters()),
            tuple(type(p).__name__ for p in model.parameters()),
        )
    if action == "setattr_rules":
        target = next((m for m in model.modules() if getattr(m, "weight", None) is not None), None)
        if target is None:
            return None
        outcomes = [_outcome(lambda: setattr(target, "weight", lib.zeros(2)))]
        outcomes.append(_outcome(lambda: setattr(target, "weight", None)))
        outcomes.append(_outcome(lambda: setattr(target, "weight", lib.nn.Parameter(lib.zeros(2)))))
        outcomes.append(_outcome(lambda: setattr(target, "training", 3)))
        return (tuple(outcomes), _named(target.named_parameters()))
    if action == "register_rules":
        name = options["bad_name"]
        return (
            _outcome(lambda: model.register_parameter(name, lib.nn.Parameter(lib.zeros(1)))),
            _outcome(lambda: model.register_buffer(name, lib.zeros(1))),
            _outcome(lambda: model.add_module(name, lib.nn.Identity())),
            _outcome(lambda: model.register_parameter("plain", lib.zeros(1))),
            _outcome(lambda: model.register_buffer("notensor", 3)),
            _state(model.state_dict()),
        )
    if action == "get_submodule":
        return _outcome(lambda: type(model.get_submodule(options["name"])).__name__)
    if action == "get_parameter":
        return _outcome(lambda: model.get_parameter(options["name"]).detach())
    if action == "delattr":
        attr = options["attr"]
        touched = []
        for m in model.modules():
            if hasattr(m, attr) or attr in m._parameters or attr in m._buffers:
                touched.append(_outcome(lambda m=m: delattr(m, attr)))
        touched.append(_outcome(lambda: delattr(model, "never_set")))
        return (tuple(touched), _state(model.state_dict()))
    if action == "repr":
        return repr(model)
    if action == "parameters_count":
        return (len(list(model.parameters())), len(list(model.parameters(recurse=False))))
    if action == "buffers":
        return tuple(b.detach() for b in model.buffers(recurse=options["recurse"]))
    if action == "modules_count":
        return (len(list(model.modules())), len(list(model.children())))
    if action == "set_submodule":
        return (
            _outcome(lambda: model.set_submodule(options["name"], lib.nn.Tanh())),
            tuple((name, type(m).__name__) for name, m in model.named_modules()),
        )
    if action == "extra_state":
        return _outcome(lambda: model.get_extra_state())
    raise AssertionError(action)


# ---- family: module hooks ---------------------------------------------------------------------
# Sequential(Linear, Tanh, Linear) (or a module taking keyword arguments) with random hooks on
# random modules: forward pre-hooks and hooks (with_kwargs, prepend, always_call) that record
# their call and may replace the inputs or output, full backward hooks and backward pre-hooks
# that record grad_input/grad_output (None where an input needs no gradient) and may replace
# them, some handles removed, sometimes a forward that raises. The record: every hook's call in
# order with what it saw, the output, and the gradients.

HOOK_KINDS = ["forward_pre", "forward", "backward", "backward_pre"]


def _seen(value):
    """What a hook saw: tensors copied (PyTorch's .grad may steal a gradient's buffer and
    accumulate into it later), None kept, tuples and dicts walked."""
    if hasattr(value, "detach"):
        return value.detach().clone()
    if isinstance(value, (tuple, list)):
        return tuple(_seen(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _seen(value[key])) for key in sorted(value))
    return value


def _hooked_model(lib, kwargs_module: bool):
    class Scaled(lib.nn.Module):
        """A module with a keyword argument, for with_kwargs hooks."""

        def __init__(self) -> None:
            super().__init__()
            self.linear = lib.nn.Linear(3, 2)

        def forward(self, x, scale=1.0, fail=False):
            if fail:
                raise ValueError("asked to fail")
            return self.linear(x) * scale

    model = (
        Scaled()
        if kwargs_module
        else lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    )
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.tensor(np.random.default_rng(i).standard_normal(tuple(p.shape))))
    return model


def _draw_module_hooks(seed: int):
    rng = np.random.default_rng(seed)
    kwargs_module = bool(rng.random() < 0.3)
    hooks = []
    for index in range(int(rng.integers(1, 6))):
        kind = _choice(rng, HOOK_KINDS)
        hooks.append(
            {
                "kind": kind,
                "target": int(rng.integers(0, 4)),
                "with_kwargs": bool(rng.random() < 0.4),
                "prepend": bool(rng.random() < 0.3),
                "always_call": bool(rng.random() < 0.3),
                "replace": bool(rng.random() < 0.4),
                "remove": bool(rng.random() < 0.15),
                "label": f"{kind}{index}",
            }
        )
    x_requires_grad = bool(rng.random() < 0.6)
    fail = kwargs_module and bool(rng.random() < 0.2)
    backward = bool(rng.random() < 0.85)
    call_twice = bool(rng.random() < 0.2)

    def program(lib):
        model = _hooked_model(lib, kwargs_module)
        modules = list(model.modules())
        log = []
        handles = []
        for hook in hooks:
            target = modules[hook["target"] % len(modules)]
            label, replace = hook["label"], hook["replace"]
            if hook["kind"] == "forward_pre":
                if hook["with_kwargs"]:

                    def pre(module, args, kwargs, label=label, replace=replace):
                        log.append((label, _seen(args), _seen(kwargs)))
                        if replace:
                            return tuple(a * 2 for a in args), kwargs
                        return None
                else:

                    def pre(module, args, label=label, replace=replace):
                        log.append((label, _seen(args)))
                        return args[0] * 2 if replace else None

                handles.append(
                    target.register_forward_pre_hook(
                        pre, prepend=hook["prepend"], with_kwargs=hook["with_kwargs"]
                    )
                )
            elif hook["kind"] == "forward":
                if hook["with_kwargs"]:

                    def post(module, args, kwargs, output, label=label, replace=replace):
                        log.append((label, _seen(args), _seen(kwargs), _seen(output)))
                        return output * 3 if replace and output is not None else None
                else:

                    def post(module, args, output, label=label, replace=replace):
                        log.append((label, _seen(args), _seen(output)))
                        return output * 3 if replace and output is not None else None

                handles.append(
                    target.register_forward_hook(
                        post,
                        prepend=hook["prepend"],
                        with_kwargs=hook["with_kwargs"],
                        always_call=hook["always_call"],
                    )
                )
            elif hook["kind"] == "backward":

                def back(module, grad_input, grad_output, label=label, replace=replace):
                    log.append((label, _seen(grad_input), _seen(grad_output)))
                    if replace:
                        return tuple(None if g is None else g * 0.5 for g in grad_input)
                    return None

                handles.append(target.register_full_backward_hook(back, prepend=hook["prepend"]))
            else:

                def back_pre(module, grad_output, label=label, replace=replace):
                    log.append((label, _seen(grad_output)))
                    return tuple(g * -1 for g in grad_output) if replace else None

                handles.append(
                    target.register_full_backward_pre_hook(back_pre, prepend=hook["prepend"])
                )
            if hook["remove"]:
                handles[-1].remove()
        x = lib.tensor(
            np.random.default_rng(seed).standard_normal((2, 3)),
            dtype=lib.float32,
            requires_grad=x_requires_grad,
        )
        outputs = []
        for _ in range(2 if call_twice else 1):
            if kwargs_module:
                out = _outcome(lambda: model(x, scale=2.0, fail=fail))
            else:
                out = _outcome(lambda: model(x))
            outputs.append(out)
            if backward and not isinstance(out, Raised) and out.requires_grad:
                out.sum().backward()
        grads = tuple(p.grad for p in model.parameters())
        return (
            tuple(log),
            tuple(_seen(o) if not isinstance(o, Raised) else o for o in outputs),
            x.grad,
            grads,
        )

    label = (
        f"kwargs_module={kwargs_module} hooks={hooks} x_grad={x_requires_grad} fail={fail} "
        f"backward={backward} twice={call_twice}"
    )
    return label, program


# ---- family: torch.utils.data -----------------------------------------------------------------
# Default collation of random nested samples (dicts, tuples, namedtuples, lists, NumPy arrays
# and scalars, Python numbers, strings, tensors); DataLoaders over map-style and iterable
# datasets (batch_size None, drop_last, samplers and batch samplers and their exclusivity,
# collate_fn, len); the samplers' lengths and contents (sorted where they shuffle: the random
# streams differ); Subset, ConcatDataset (negative indices), TensorDataset, random_split.

Pair = collections.namedtuple("Pair", ["left", "right"])
DATA_ACTIONS = ["collate", "collate", "loader", "loader", "iterable_loader", "sequential",
                "random_sampler", "batch_sampler", "subset_random", "weighted", "subset",
                "concat", "tensor_dataset", "random_split", "convert", "loader_errors",
                "collate_errors", "sampler_errors", "stack_dataset", "chain_dataset",
                "loader_generator"]  # fmt: skip
LOADER_ERRORS = [{"shuffle": True, "sampler": "list"},
                 {"batch_sampler": "batch", "batch_size": 2},
                 {"batch_sampler": "batch", "drop_last": True},
                 {"batch_sampler": "batch", "shuffle": True},
                 {"batch_sampler": "batch", "sampler": "list"}, {"num_workers": -1},
                 {"timeout": -1}, {"persistent_workers": True}, {"prefetch_factor": 2},
                 {"iterable": True, "shuffle": True}, {"iterable": True, "sampler": "list"},
                 {"iterable": True, "batch_sampler": "batch"}, {"batch_size": 0},
                 {"batch_size": -2}, {"batch_size": None, "drop_last": True},
                 {"multiprocessing_context": "spawn"}, {"pin_memory": True},
                 {"in_order": False}, {"batch_size": 2.0}]  # fmt: skip
COLLATE_ERRORS = [["a", 1], [1, 2.5], [True, 1], [None, None], [{"a": 1}, {"b": 2}],
                  [(1, 2), (3,)], [b"x", b"y"], [{1, 2}, {3}], [np.array(["a"]), np.array(["b"])],
                  [np.zeros(2), np.zeros(3)],
                  [np.array(1, dtype=object), np.array(2, dtype=object)],
                  [1.5, 2], [[1, 2], [3, 4, 5]], [np.float32(1), np.float64(2)],
                  [np.int64(1), 2], ["x", "y"], [{"a": [1, 2]}, {"a": [3, 4]}]]  # fmt: skip


def _structure(value):
    """A collated result with its container types named (tuple, list, namedtuple and dict
    differ in what default_collate gives back)."""
    if isinstance(value, dict):
        return ("dict", tuple((key, _structure(value[key])) for key in value))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, tuple(_structure(item) for item in value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_structure(item) for item in value))
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.tolist())
    if hasattr(value, "detach"):
        return value.detach()
    return (
        _py(value)
        if isinstance(value, (bool, int, float, str))
        else (type(value).__name__, repr(value))
    )


def _draw_sample(rng, depth: int = 0) -> tuple:
    """A recipe for one sample; `_make_sample(lib, recipe, i)` makes sample i of it."""
    kinds = ["int", "float", "bool", "str", "np_array", "np_scalar", "tensor", "tensor_int"]
    if depth < 2:
        kinds += ["dict", "tuple", "list", "pair"]
    kind = _choice(rng, kinds)
    if kind in ("dict", "tuple", "list"):
        count = int(rng.integers(1, 4))
        return (kind, tuple(_draw_sample(rng, depth + 1) for _ in range(count)))
    if kind == "pair":
        return (kind, (_draw_sample(rng, depth + 1), _draw_sample(rng, depth + 1)))
    if kind == "np_array":
        return (
            kind,
            _choice(rng, ["float32", "float64", "int32", "int64", "bool", "uint8"]),
            _choice(rng, [(), (2,), (1, 2)]),
        )
    if kind == "np_scalar":
        return (kind, _choice(rng, ["float32", "float64", "int32", "int64", "bool_"]))
    if kind.startswith("tensor"):
        return (kind, _choice(rng, [(), (2,), (2, 1)]))
    return (kind,)


def _make_sample(lib, recipe: tuple, i: int):
    kind = recipe[0]
    if kind == "dict":
        return {f"k{j}": _make_sample(lib, r, i) for j, r in enumerate(recipe[1])}
    if kind == "tuple":
        return tuple(_make_sample(lib, r, i) for r in recipe[1])
    if kind == "list":
        return [_make_sample(lib, r, i) for r in recipe[1]]
    if kind == "pair":
        return Pair(*(_make_sample(lib, r, i) for r in recipe[1]))
    if kind == "int":
        return i * 3 - 2
    if kind == "float":
        return i * 0.5 - 1.0
    if kind == "bool":
        return i % 2 == 0
    if kind == "str":
        return f"s{i}"
    if kind == "np_array":
        return (
            (np.arange(int(np.prod(recipe[2])), dtype=np.float64) + i)
            .reshape(recipe[2])
            .astype(recipe[1])
        )
    if kind == "np_scalar":
        return getattr(np, recipe[1])(i + 1)
    dtype = lib.int64 if kind == "tensor_int" else lib.float32
    return lib.arange(int(np.prod(recipe[1])), dtype=dtype).reshape(recipe[1]) + i


class _Squares:
    """A map-style dataset of `count` samples of one recipe, for both libraries."""

    def __init__(self, lib, recipe: tuple, count: int) -> None:
        self.lib, self.recipe, self.count = lib, recipe, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int):
        if not 0 <= i < self.count:
            raise IndexError(i)
        return _make_sample(self.lib, self.recipe, i)


def _draw_data(seed: int):
    rng = np.random.default_rng(seed)
    action = _choice(rng, DATA_ACTIONS)
    recipe = _draw_sample(rng)
    count = int(rng.integers(0, 8))
    batch_size = _choice(rng, [None, 1, 2, 3, 5])
    drop_last = bool(rng.random() < 0.4)
    options = {
        "sampler": _choice(rng, [None, None, "sequential", "list"]),
        "batch_sampler": _choice(rng, [None, None, None, "batch"]),
        "shuffle": _choice(rng, [False, False, None, True]),
        "collate_fn": _choice(rng, [None, None, "identity"]),
        "replacement": bool(rng.random() < 0.5),
        "num_samples": _choice(rng, [None, None, 1, 4, 9, 0, -1]),
        "weights": _choice(
            rng, [[1.0, 2.0, 0.5], [0.0, 1.0], [1.0], [-1.0, 2.0], [[1.0, 2.0]], []]
        ),
        "indices": _choice(rng, [[0, 2], [1, 1, 0], [], [-1, 0]]),
        "index": int(rng.integers(-9, 9)),
        "lengths": _choice(
            rng,
            [
                [0.5, 0.5],
                [0.3, 0.7],
                [0.1, 0.2, 0.7],
                [2, 3],
                [0.33, 0.33, 0.34],
                [1.0],
                [0.6, 0.6],
                [1, 1],
            ],
        ),
        "sizes": [int(rng.integers(0, 4)) for _ in range(int(rng.integers(1, 4)))],
        "length_hint": bool(rng.random() < 0.5),
        "loader_error": _choice(rng, LOADER_ERRORS),
        "collate_error": int(rng.integers(0, len(COLLATE_ERRORS))),
        "sampler_error": int(rng.integers(0, 9)),
    }

    def program(lib):
        data = lib.utils.data
        samples = [_make_sample(lib, recipe, i) for i in range(count)]
        if action == "collate":
            return _structure(data.default_collate(samples))
        if action == "convert":
            return _structure(data.default_convert(samples[0] if samples else np.zeros(2)))
        if action == "loader":
            dataset = _Squares(lib, recipe, count)
            kwargs: dict = {"batch_size": batch_size, "drop_last": drop_last}
            if options["shuffle"] is not None:
                kwargs["shuffle"] = options["shuffle"]
            if options["sampler"] == "sequential":
                kwargs["sampler"] = data.SequentialSampler(dataset)
            elif options["sampler"] == "list":
                kwargs["sampler"] = list(range(count))[::-1]
            if options["batch_sampler"] == "batch":
                kwargs["batch_sampler"] = data.BatchSampler(range(count), 2, drop_last=False)
            if options["collate_fn"] == "identity":
                kwargs["collate_fn"] = lambda batch: ("batch", batch)
            loader = data.DataLoader(dataset, **kwargs)
            batches = list(loader)
            if kwargs.get("shuffle"):
                return (len(loader), len(batches))
            return (_outcome(lambda: len(loader)), _structure(batches))
        if action == "iterable_loader":

            class Stream(data.IterableDataset):
                def __iter__(self):
                    return iter(samples)

            if options["length_hint"]:
                Stream.__len__ = lambda self: count
            loader = data.DataLoader(Stream(), batch_size=batch_size, drop_last=drop_last)
            return (_outcome(lambda: len(loader)), _structure(list(loader)))
        if action == "sequential":
            sampler = data.SequentialSampler(range(count))
            return (len(sampler), tuple(sampler))
        if action == "random_sampler":
            sampler = data.RandomSampler(
                range(count), replacement=options["replacement"], num_samples=options["num_samples"]
            )
            drawn = list(sampler)
            if options["replacement"]:
                return (len(sampler), len(drawn), all(0 <= i < count for i in drawn))
            # (whole permutations, then part of one: how often each index comes, sorted)
            return (len(sampler), len(drawn), tuple(sorted(collections.Counter(drawn).values())))
        if action == "batch_sampler":
            sampler = data.BatchSampler(
                range(count), batch_size if batch_size is not None else 0, drop_last
            )
            return (len(sampler), tuple(tuple(b) for b in sampler))
        if action == "subset_random":
            sampler = data.SubsetRandomSampler(options["indices"])
            return (len(sampler), tuple(sorted(sampler)))
        if action == "weighted":
            num = options["num_samples"] if options["num_samples"] is not None else 3
            sampler = data.WeightedRandomSampler(
                options["weights"], num, replacement=options["replacement"]
            )
            drawn = list(sampler)
            return (len(sampler), len(drawn), all(0 <= i < len(options["weights"]) for i in drawn))
        if action == "subset":
            subset = data.Subset(_Squares(lib, recipe, count), options["indices"])
            return (
                len(subset),
                _outcome(lambda: _structure(subset[options["index"]])),
                _structure([subset[i] for i in range(len(subset))]),
            )
        if action == "concat":
            parts = [_Squares(lib, recipe, size) for size in options["sizes"]]
            dataset = data.ConcatDataset(parts)
            return (
                len(dataset),
                tuple(dataset.cumulative_sizes),
                _outcome(lambda: _structure(dataset[options["index"]])),
            )
        if action == "tensor_dataset":
            tensors = [lib.arange(size * 2).reshape(size, 2) for size in options["sizes"]]
            dataset = data.TensorDataset(*tensors)
            return (len(dataset), _outcome(lambda: _structure(dataset[options["index"]])))
        if action == "loader_errors":
            spec = dict(options["loader_error"])
            dataset = _Squares(lib, recipe, count)
            if spec.pop("iterable", False):

                class Stream(data.IterableDataset):
                    def __iter__(self):
                        return iter(samples)

                dataset = Stream()
            if spec.get("sampler") == "list":
                spec["sampler"] = list(range(count))
            if spec.get("batch_sampler") == "batch":
                spec["batch_sampler"] = data.BatchSampler(range(count), 2, drop_last=False)
            loader = data.DataLoader(dataset, **spec)
            return _outcome(lambda: _structure(list(loader)))
        if action == "collate_errors":
            batch = COLLATE_ERRORS[options["collate_error"]]
            return _structure(data.default_collate(batch))
        if action == "sampler_errors":
            which = options["sampler_error"]
            makers = [
                lambda: data.RandomSampler(range(3), num_samples=0),
                lambda: data.RandomSampler(range(3), replacement=1),
                lambda: data.BatchSampler(range(3), 0, False),
                lambda: data.BatchSampler(range(3), 2, drop_last=1),
                lambda: data.BatchSampler(range(3), True, False),
                lambda: data.WeightedRandomSampler([1.0, 2.0], 0),
                lambda: data.WeightedRandomSampler([[1.0, 2.0]], 2),
                lambda: data.WeightedRandomSampler([1.0, 2.0], 2, replacement=0),
                lambda: data.WeightedRandomSampler([1.0, 2.0], 3, replacement=False),
            ]
            sampler = makers[which]()
            return (_outcome(lambda: len(sampler)), _outcome(lambda: len(list(sampler))))
        if action == "stack_dataset":
            tensors = [lib.arange(size * 2).reshape(size, 2) for size in options["sizes"]]
            as_dict = options["length_hint"]
            if as_dict:
                dataset = data.StackDataset(**{f"t{i}": t for i, t in enumerate(tensors)})
            else:
                dataset = data.StackDataset(*tensors)
            return (
                len(dataset),
                _outcome(lambda: _structure(dataset[options["index"]])),
                _outcome(lambda: _structure(dataset.__getitems__([0, 0]))),
            )
        if action == "chain_dataset":

            class Stream(data.IterableDataset):
                def __init__(self, n):
                    self.n = n

                def __iter__(self):
                    return iter(range(self.n))

                def __len__(self):
                    return self.n

            chained = data.ChainDataset([Stream(size) for size in options["sizes"]])
            added = Stream(2) + Stream(1)
            return (
                tuple(chained),
                _outcome(lambda: len(chained)),
                tuple(added),
                type(added).__name__,
            )
        if action == "loader_generator":
            dataset = _Squares(lib, ("int",), count)
            # (drop_last=False: which samples a shuffled loader drops is random)
            loader = data.DataLoader(
                dataset,
                batch_size=batch_size,
                shuffle=True,
                generator=lib.Generator().manual_seed(3),
            )
            drawn = [b for b in loader]
            flat = sorted(
                int(v) for b in drawn for v in (b.reshape(-1) if hasattr(b, "reshape") else [b])
            )
            return (len(loader), len(drawn), tuple(flat))
        split = data.random_split(
            range(count), options["lengths"], generator=lib.Generator().manual_seed(0)
        )
        return (
            tuple(len(part) for part in split),
            tuple(sorted(i for part in split for i in part)),
        )

    label = (
        f"{action} recipe={recipe} count={count} batch_size={batch_size} "
        f"drop_last={drop_last} {options}"
    )
    return label, program


# ---- family: nn.utils --------------------------------------------------------------------------
# Gradient clipping (norm types 1, 2, inf, 0.5, error_if_nonfinite, foreach, parameters without
# a gradient, a single tensor, mixed dtypes), get_total_norm and clip_grads_with_norm_,
# parameters_to_vector and back; pad_sequence (batch_first, padding_value, padding_side),
# pack_padded_sequence / pad_packed_sequence round trips (enforce_sorted, total_length),
# pack_sequence, unpad_sequence and unpack_sequence with gradients; weight_norm,
# spectral_norm and orthogonal parametrizations (values, gradients, state dict keys).

UTILS_ACTIONS = ["clip_norm", "clip_norm", "clip_value", "total_norm", "vector", "pad",
                 "pack", "pack", "pack_sequence", "unpad", "weight_norm", "orthogonal",
                 "spectral_norm", "rnn_errors", "packed_methods", "old_weight_norm",
                 "parametrize", "vector_errors"]  # fmt: skip
RNN_ERRORS = ["zero_length", "unsorted", "lengths_2d", "too_long", "total_length_short",
              "empty_list", "pad_mixed_dtypes", "pad_mixed_trailing", "bad_side",
              "lengths_float", "lengths_count"]  # fmt: skip


def _draw_utils(seed: int):
    rng = np.random.default_rng(seed)
    action = _choice(rng, UTILS_ACTIONS)
    shapes = [
        _choice(rng, [(2,), (2, 3), (), (1, 4), (0,)]) for _ in range(int(rng.integers(0, 4)))
    ]
    dtypes = [_choice(rng, ["float32", "float64", "float32", "float16"]) for _ in shapes]
    no_grad = [bool(rng.random() < 0.2) for _ in shapes]
    options = {
        "max_norm": _choice(rng, [0.5, 1.0, 100.0, 0.0]),
        "norm_type": _choice(rng, [2.0, 1, "inf", 0.5, 3.0, 0.0, -1.0]),
        "error_if_nonfinite": bool(rng.random() < 0.3),
        "foreach": _choice(rng, [None, True, False]),
        "nonfinite": _choice(rng, [None, None, None, "nan", "inf"]),
        "single": bool(rng.random() < 0.2),
        "clip_value": _choice(rng, [0.1, 1.0, 0.0]),
        "lengths": sorted(
            [int(rng.integers(1, 5)) for _ in range(int(rng.integers(1, 4)))],
            reverse=bool(rng.random() < 0.7),
        ),
        "batch_first": bool(rng.random() < 0.5),
        "padding_value": _choice(rng, [0.0, -1.0, 2.5]),
        "padding_side": _choice(rng, ["right", "right", "left"]),
        "enforce_sorted": bool(rng.random() < 0.5),
        "total_length": _choice(rng, [None, None, 5, 6, 2]),
        "feature": _choice(rng, [(), (2,), (2, 1)]),
        "dim": _choice(rng, [0, 1, None, -1]),
        "orthogonal_map": _choice(rng, [None, "matrix_exp", "cayley", "householder"]),
        "use_trivialization": bool(rng.random() < 0.5),
        "weight_shape": _choice(rng, [(3, 2), (2, 3), (3, 3)]),
        "rnn_error": _choice(rng, RNN_ERRORS),
        "leave_parametrized": bool(rng.random() < 0.5),
        "unsafe": bool(rng.random() < 0.3),
    }
    if options["norm_type"] == "inf":
        options["norm_type"] = float("inf")
    if action == "rnn_errors" and options["rnn_error"] == "too_long":
        # (PyTorch's pack_padded_sequence reads past the padded steps unchecked; chainrule
        # refuses a length longer than them)
        return "a length past the padding", None
    if action == "clip_value" and (all(no_grad) or options["single"] and no_grad[0]):
        # (PyTorch 2.13's clip_grad_value_ of no gradients fails an internal check of its
        # foreach kernels, "Expected !nested_tensorlist[0].empty()", where clip_grad_norm_
        # of none returns 0: an accident, chainrule's clips nothing)
        return "clip_grad_value_ of no gradients", None

    def params_with_grads(lib):
        params = []
        for i, (shape, dtype) in enumerate(zip(shapes, dtypes)):
            p = lib.tensor(
                _normal_values(seed + i, shape), dtype=getattr(lib, dtype), requires_grad=True
            )
            if not no_grad[i]:
                grad = _normal_values(seed + 10 + i, shape)
                if options["nonfinite"] and i == 0 and grad.size:
                    grad.flat[0] = float(options["nonfinite"])
                p.grad = lib.tensor(grad, dtype=getattr(lib, dtype))
            params.append(p)
        return params

    def program(lib):
        utils = lib.nn.utils
        rnn = utils.rnn
        if action in ("clip_norm", "clip_value", "total_norm", "vector", "vector_errors"):
            params = params_with_grads(lib)
            given = params[0] if options["single"] and params else params
            if action == "clip_norm":
                total = utils.clip_grad_norm_(
                    given,
                    options["max_norm"],
                    norm_type=options["norm_type"],
                    error_if_nonfinite=options["error_if_nonfinite"],
                    foreach=options["foreach"],
                )
                return _rounded(lib, total, params, dtypes)
            if action == "clip_value":
                returned = utils.clip_grad_value_(
                    given, options["clip_value"], foreach=options["foreach"]
                )
                return (returned, tuple(p.grad for p in params))
            if action == "total_norm":
                grads = [p.grad for p in params if p.grad is not None]
                total = utils.get_total_norm(
                    grads,
                    norm_type=options["norm_type"],
                    error_if_nonfinite=options["error_if_nonfinite"],
                    foreach=options["foreach"],
                )
                utils.clip_grads_with_norm_(
                    params, options["max_norm"], total, foreach=options["foreach"]
                )
                return _rounded(lib, total, params, dtypes)
            if action == "vector_errors":
                return (
                    _outcome(lambda: utils.vector_to_parameters([1.0, 2.0], params)),
                    _outcome(lambda: utils.vector_to_parameters(lib.zeros(2, 2), params)),
                    _outcome(lambda: utils.parameters_to_vector(p for p in params)),
                    _outcome(lambda: utils.vector_to_parameters(lib.zeros(100), params)),
                )
            vector = utils.parameters_to_vector(params)
            utils.vector_to_parameters(vector * 2, params)
            return (vector, tuple(p.detach() for p in params))
        lengths = options["lengths"]
        feature = options["feature"]
        sequences = [
            lib.tensor(_normal_values(seed + i, (n, *feature)), requires_grad=True)
            for i, n in enumerate(lengths)
        ]
        if action == "rnn_errors":
            return _rnn_error(lib, rnn, sequences, lengths, options["rnn_error"])
        if action == "packed_methods":
            packed = rnn.pack_sequence(sequences, enforce_sorted=False)
            moved = packed.double()
            return (
                type(moved).__name__,
                moved.data.dtype,
                moved.is_cuda,
                packed.is_pinned(),
                packed.to(lib.float32).data.dtype,
                tuple(packed),
                packed.cpu().data.shape,
                _outcome(lambda: packed.float().batch_sizes),
            )
        if action == "pad":
            padded = rnn.pad_sequence(
                sequences,
                batch_first=options["batch_first"],
                padding_value=options["padding_value"],
                padding_side=options["padding_side"],
            )
            padded.pow(2).sum().backward()
            return (padded, tuple(s.grad for s in sequences))
        if action == "unpad":
            padded = rnn.pad_sequence(sequences, batch_first=options["batch_first"])
            parts = rnn.unpad_sequence(
                padded, lib.tensor(lengths), batch_first=options["batch_first"]
            )
            sum(p.pow(3).sum() for p in parts).backward()
            return (tuple(parts), tuple(s.grad for s in sequences))
        if action == "pack_sequence":
            packed = rnn.pack_sequence(sequences, enforce_sorted=options["enforce_sorted"])
            parts = rnn.unpack_sequence(packed)
            sum(p.pow(3).sum() for p in parts).backward()
            return (
                packed.data,
                packed.batch_sizes,
                packed.sorted_indices,
                packed.unsorted_indices,
                tuple(parts),
                tuple(s.grad for s in sequences),
            )
        if action == "pack":
            padded = rnn.pad_sequence(sequences, batch_first=options["batch_first"])
            length_kind = lib.tensor(lengths) if options["single"] else lengths
            packed = rnn.pack_padded_sequence(
                padded,
                length_kind,
                batch_first=options["batch_first"],
                enforce_sorted=options["enforce_sorted"],
            )
            unpacked, out_lengths = rnn.pad_packed_sequence(
                packed,
                batch_first=options["batch_first"],
                padding_value=options["padding_value"],
                total_length=options["total_length"],
            )
            (unpacked * unpacked).sum().backward()
            return (
                packed.data,
                packed.batch_sizes,
                packed.sorted_indices,
                unpacked,
                out_lengths,
                tuple(s.grad for s in sequences),
            )
        # (float64: some gradients are zero but for rounding, which float32 leaves at 1e-5)
        linear = lib.nn.Linear(*options["weight_shape"][::-1], dtype=lib.float64)
        with lib.no_grad():
            linear.weight.copy_(lib.tensor(_normal_values(seed, options["weight_shape"])))
            linear.bias.zero_()
        x = lib.tensor(_normal_values(seed + 5, (2, options["weight_shape"][1])), dtype=lib.float64)
        if action == "old_weight_norm":
            module = utils.weight_norm(linear, dim=options["dim"])
            names = tuple(n for n, _ in module.named_parameters())
            out = module(x)
            out.pow(2).sum().backward()
            grads = tuple((n, p.grad) for n, p in module.named_parameters())
            utils.remove_weight_norm(module)
            again = _outcome(lambda: utils.remove_weight_norm(module))
            return (names, out, grads, tuple(n for n, _ in module.named_parameters()), again)
        if action == "parametrize":
            return _parametrize_program(lib, linear, x, options)
        if action == "weight_norm":
            dim = options["dim"]
            parametrized = utils.parametrizations.weight_norm(linear, dim=dim)
        elif action == "orthogonal":
            parametrized = utils.parametrizations.orthogonal(
                linear,
                orthogonal_map=options["orthogonal_map"],
                use_trivialization=options["use_trivialization"],
            )
        else:
            parametrized = utils.parametrizations.spectral_norm(linear, n_power_iterations=30)
            parametrized.eval()  # (the power iteration's start is random; converged, it agrees)
        out = parametrized(x)
        out.pow(2).sum().backward()
        keys = tuple(parametrized.state_dict())
        grads = tuple((name, p.grad) for name, p in parametrized.named_parameters())
        shape = options["weight_shape"]
        if action == "orthogonal" and options["use_trivialization"] and shape[0] != shape[1]:
            # (a rectangular weight's base is completed to a square orthogonal matrix with
            # random columns, which the gradient of `original` depends on)
            grads = grads[:1]
        if action == "spectral_norm":
            # (converged from a random start, to 1e-3 where two singular values are close)
            norm = lambda: lib.linalg.matrix_norm(parametrized.weight.detach(), 2).half()  # noqa: E731
            return (keys, _outcome(norm))
        return (keys, parametrized.weight.detach(), out, grads)

    label = f"{action} shapes={shapes} dtypes={dtypes} no_grad={no_grad} {options}"
    return label, program


def _rnn_error(lib, rnn, sequences: list, lengths: list, which: str):
    """One misuse of the padding and packing functions (or its legal neighbour)."""
    padded = rnn.pad_sequence(sequences, batch_first=True)
    if which == "zero_length":
        return rnn.pack_padded_sequence(
            padded, [0] + lengths[1:], batch_first=True, enforce_sorted=False
        )
    if which == "unsorted":
        return rnn.pack_padded_sequence(padded, sorted(lengths), batch_first=True).data
    if which == "lengths_2d":
        return rnn.pack_padded_sequence(padded, lib.tensor([lengths]), batch_first=True).data
    if which == "too_long":
        return rnn.pack_padded_sequence(padded, [n + 1 for n in lengths], batch_first=True).data
    if which == "total_length_short":
        packed = rnn.pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
        return rnn.pad_packed_sequence(packed, batch_first=True, total_length=max(lengths) - 1)
    if which == "empty_list":
        return rnn.pad_sequence([])
    if which == "pad_mixed_dtypes":
        return rnn.pad_sequence([sequences[0], sequences[0].detach().to(lib.float16)])
    if which == "pad_mixed_trailing":
        return rnn.pad_sequence([lib.zeros(2, 3), lib.zeros(3, 2)])
    if which == "bad_side":
        return rnn.pad_sequence(sequences, padding_side="middle")
    if which == "lengths_float":
        return rnn.pack_padded_sequence(
            padded, lib.tensor(lengths, dtype=lib.float32), batch_first=True, enforce_sorted=False
        ).batch_sizes
    return rnn.pack_padded_sequence(
        padded, lengths + [1], batch_first=True, enforce_sorted=False
    ).data


def _parametrize_program(lib, linear, x, options: dict):
    """A custom parametrization (symmetric, with a right_inverse), cached or not, removed
    keeping its value or the original."""
    parametrize = lib.nn.utils.parametrize

    class Symmetric(lib.nn.Module):
        def forward(self, w):
            return w.triu() + w.triu(1).transpose(-1, -2)

        def right_inverse(self, w):
            return w.triu()

    class Scale(lib.nn.Module):
        def forward(self, w):
            return w * 2

    if linear.weight.shape[0] != linear.weight.shape[1]:
        return _outcome(lambda: parametrize.register_parametrization(linear, "weight", Symmetric()))
    parametrize.register_parametrization(linear, "weight", Symmetric(), unsafe=options["unsafe"])
    parametrize.register_parametrization(linear, "weight", Scale())
    names = tuple(n for n, _ in linear.named_parameters())
    with parametrize.cached():
        out = linear(x) + linear(x)
    out.pow(2).sum().backward()
    grads = tuple((n, p.grad) for n, p in linear.named_parameters())
    flags = (
        parametrize.is_parametrized(linear),
        parametrize.is_parametrized(linear, "bias"),
        type(linear).__name__,
    )
    with lib.no_grad():
        linear.weight = lib.eye(3, dtype=lib.float64) * 4
    assigned = linear.weight.detach()
    parametrize.remove_parametrizations(
        linear, "weight", leave_parametrized=options["leave_parametrized"]
    )
    return (
        names,
        out,
        grads,
        flags,
        assigned,
        linear.weight.detach(),
        type(linear).__name__,
        _outcome(lambda: parametrize.remove_parametrizations(linear, "weight")),
    )


def _assign_through_unsafe_parametrization(lib):
    class Double(lib.nn.Module):
        def forward(self, w):
            return w * 2

    linear = lib.nn.Linear(2, 2)
    lib.nn.utils.parametrize.register_parametrization(linear, "weight", Double(), unsafe=True)
    with lib.no_grad():
        linear.weight = lib.ones(2, 2)
    return linear.weight


def _rounded(lib, total, params: list, dtypes: list) -> tuple:
    """The total norm and the gradients, in float32 where a float32 or float16 gradient's
    norm went into them: its last bit depends on the summation order."""
    if set(dtypes) == {"float64"}:
        return (total, tuple(p.grad for p in params))
    rounded = tuple(
        p.grad.float() if p.grad is not None and p.grad.dtype == lib.float64 else p.grad
        for p in params
    )
    return (total.float(), rounded)


def _normal_values(seed: int, shape: tuple) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# ---- family: module containers ----------------------------------------------------------------
# A Sequential, ModuleList, ModuleDict, ParameterList or ParameterDict, then random operations
# on it (indexing and slicing with negative indices, insert, append, extend, pop, del, +,
# update, keys order, `in`, len, assignment of a wrong type), each recorded with the
# container's names and types afterwards.

CONTAINER_OPS = {
    "Sequential": ["getitem", "slice", "setitem", "delitem", "delslice", "append", "insert",
                   "extend", "pop", "add", "len", "iadd", "mul", "forward"],
    "ModuleList": ["getitem", "slice", "setitem", "delitem", "delslice", "append", "insert",
                   "extend", "pop", "add", "len", "iadd", "setitem_wrong", "extend_wrong"],
    "ModuleDict": ["getitem", "setitem", "delitem", "pop", "update", "update_pairs", "keys",
                   "contains", "len", "clear", "setitem_wrong", "update_wrong", "items"],
    "ParameterList": ["getitem", "slice", "setitem", "append", "extend", "len", "setitem_tensor",
                      "append_tensor", "append_other", "iadd"],
    "ParameterDict": ["getitem", "setitem", "delitem", "pop", "update", "keys", "contains",
                      "len", "setitem_tensor", "get", "popitem", "setdefault", "fromkeys",
                      "or", "copy"],
}  # fmt: skip


def _container(lib, kind: str, count: int):
    if kind in ("Sequential", "ModuleList"):
        modules = [lib.nn.Linear(i + 1, i + 2) if i % 2 else lib.nn.ReLU() for i in range(count)]
        return (
            getattr(lib.nn, kind)(*modules) if kind == "Sequential" else lib.nn.ModuleList(modules)
        )
    if kind == "ModuleDict":
        return lib.nn.ModuleDict(
            {f"m{i}": lib.nn.Tanh() if i % 2 else lib.nn.Identity() for i in range(count)}
        )
    params = [lib.nn.Parameter(lib.full((i + 1,), float(i))) for i in range(count)]
    if kind == "ParameterList":
        return lib.nn.ParameterList(params)
    return lib.nn.ParameterDict({f"p{i}": p for i, p in enumerate(params)})


def _describe_container(lib, container) -> tuple:
    names = tuple((name, type(m).__name__) for name, m in container.named_children())
    # (a Linear's initial values are random: its parameters' shapes only)
    params = tuple(
        (name, type(p).__name__, p.detach() if "." not in name else tuple(p.shape))
        for name, p in container.named_parameters()
    )
    return (type(container).__name__, names, params, len(container))


def _draw_containers(seed: int):
    rng = np.random.default_rng(seed)
    kind = _choice(rng, sorted(CONTAINER_OPS))
    count = int(rng.integers(0, 5))
    ops = [
        (_choice(rng, CONTAINER_OPS[kind]), int(rng.integers(-6, 6)), int(rng.integers(-6, 6)))
        for _ in range(int(rng.integers(1, 5)))
    ]

    def program(lib):
        container = _container(lib, kind, count)
        record = []
        for op, i, j in ops:
            record.append(
                (
                    op,
                    _outcome(lambda op=op, i=i, j=j: _container_op(lib, container, kind, op, i, j)),
                )
            )
            record.append(_describe_container(lib, container))
        return record

    return f"{kind} count={count} ops={ops}", program


def _summary(value):
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_summary(v) for v in value))
    if hasattr(value, "named_children"):
        return ("module", type(value).__name__, len(list(value.parameters())))
    if hasattr(value, "detach"):
        return (type(value).__name__, value.detach())
    return _py(value) if isinstance(value, (bool, int, float, str)) else value


def _container_op(lib, c, kind: str, op: str, i: int, j: int):
    key = f"m{abs(i)}" if kind == "ModuleDict" else f"p{abs(i)}"
    if kind in ("ModuleDict", "ParameterDict"):
        index = key
    else:
        index = i
    if op == "getitem":
        return _summary(c[index])
    if op == "slice":
        return _summary(c[i:j])
    if op == "setitem":
        value = lib.nn.Parameter(lib.zeros(2)) if kind.startswith("Parameter") else lib.nn.Sigmoid()
        c[index] = value
        return None
    if op == "setitem_tensor":
        c[index] = lib.ones(3)
        return _summary(c[index])
    if op == "setitem_wrong":
        c[index] = 3
        return None
    if op == "delitem":
        del c[index]
        return None
    if op == "delslice":
        del c[i:j]
        return None
    if op == "append":
        value = lib.nn.Parameter(lib.ones(1)) if kind.startswith("Parameter") else lib.nn.GELU()
        return _summary(c.append(value))
    if op == "append_tensor":
        c.append(lib.ones(2))
        return _summary(c[-1])
    if op == "append_other":
        c.append("text")
        return _summary(c[-1])
    if op == "insert":
        c.insert(i, lib.nn.Softplus())
        return None
    if op == "extend":
        if kind == "ParameterList":
            return _summary(c.extend([lib.nn.Parameter(lib.ones(2)), lib.zeros(1)]))
        return _summary(c.extend([lib.nn.ELU(), lib.nn.Tanh()]))
    if op == "extend_wrong":
        c.extend(lib.nn.ReLU())
        return None
    if op == "pop":
        return _summary(c.pop(index))
    if op == "add":
        return _describe_container(lib, c + _container(lib, kind, 2))
    if op == "iadd":
        c += _container(lib, kind, 1)
        return None
    if op == "mul":
        return _describe_container(lib, c * 2)
    if op == "len":
        return len(c)
    if op == "forward":
        x = lib.ones(1, 1)
        return _outcome(lambda: c(x).shape)
    if op == "update":
        if kind == "ParameterDict":
            c.update({key: lib.nn.Parameter(lib.zeros(1)), "new": lib.ones(2)})
        else:
            c.update({key: lib.nn.Hardtanh(), "new": lib.nn.ReLU()})
        return None
    if op == "update_pairs":
        c.update([("z", lib.nn.ReLU()), (key, lib.nn.Tanh())])
        return None
    if op == "update_wrong":
        c.update([lib.nn.ReLU()])
        return None
    if op == "keys":
        return tuple(c.keys())
    if op == "items":
        return tuple((k, type(v).__name__) for k, v in c.items())
    if op == "contains":
        return (key in c, "nothing" in c)
    if op == "clear":
        c.clear()
        return None
    if op == "get":
        return _summary(c.get(key, None))
    if op == "popitem":
        return _summary(c.popitem())
    if op == "setdefault":
        return _summary(c.setdefault(key, lib.nn.Parameter(lib.ones(4))))
    if op == "fromkeys":
        return _describe_container(lib, c.fromkeys(["a", "b"], lib.ones(2)))
    if op == "or":
        return _describe_container(lib, c | lib.nn.ParameterDict({"q": lib.ones(1)}))
    if op == "copy":
        copied = c.copy()
        return (_describe_container(lib, copied), copied is c)
    raise AssertionError(op)


# ---- family: module state in and out ----------------------------------------------------------
# A small model (Linear, BatchNorm1d, a custom module with extra state) with random steps:
# state dict hooks (pre, post, load pre and post) that record and edit, loads across dtypes
# (kept unless assign=True), assign keeping requires_grad, old checkpoints without
# num_batches_tracked, extra state, deepcopy keeping tied parameters, to()/type()/bfloat16()
# moves, and a global forward hook.

IO_STEPS = ["state_dict_pre_hook", "state_dict_post_hook", "load_pre_hook", "load_post_hook",
            "load_other_dtype", "load_assign_other_dtype", "load_assign_requires_grad",
            "load_without_num_batches", "extra_state", "deepcopy", "to_variants",
            "global_forward_hook", "load_parameter_values", "state_dict_of_half",
            "load_missing_buffer", "load_non_persistent"]  # fmt: skip


def _io_model(lib):
    class WithState(lib.nn.Module):
        """A module whose extra state (a dict) goes into the state dict."""

        def __init__(self) -> None:
            super().__init__()
            self.linear = lib.nn.Linear(2, 2)
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.counter = 0

        def get_extra_state(self):
            return {"counter": self.counter}

        def set_extra_state(self, state) -> None:
            self.counter = state["counter"] + 100

        def forward(self, x):
            return self.linear(x)

    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2), WithState())
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.tensor(np.random.default_rng(i).standard_normal(tuple(p.shape))))
    return model


def _draw_module_io(seed: int):
    rng = np.random.default_rng(seed)
    steps = [_choice(rng, IO_STEPS) for _ in range(int(rng.integers(1, 4)))]
    dtype = _choice(rng, ["float64", "float16", "bfloat16"])
    strict = bool(rng.random() < 0.5)

    def program(lib):
        model = _io_model(lib)
        record = []
        for step in steps:
            record.append(
                (step, _outcome(lambda step=step: _io_step(lib, model, step, dtype, strict)))
            )
        record.append(_state(model.state_dict()))
        record.append(tuple((n, p.dtype, p.requires_grad) for n, p in model.named_parameters()))
        return _tree(record)

    return f"steps={steps} dtype={dtype} strict={strict}", program


def _floating(value) -> bool:
    """A floating tensor of a state dict (not its extra state, a dict)."""
    return hasattr(value, "is_floating_point") and value.is_floating_point()


def _io_step(lib, model, step: str, dtype: str, strict: bool):
    other = getattr(lib, dtype)
    if step == "state_dict_pre_hook":
        seen = []
        handle = model.register_state_dict_pre_hook(
            lambda m, prefix, keep_vars: seen.append((type(m).__name__, prefix, keep_vars))
        )
        keys = tuple(model.state_dict(keep_vars=strict))
        handle.remove()
        return (tuple(seen), keys)
    if step == "state_dict_post_hook":

        def post(module, state_dict, prefix, local_metadata):
            state_dict[prefix + "added"] = lib.ones(1)

        handle = model[0].register_state_dict_post_hook(post)
        keys = tuple(model.state_dict())
        handle.remove()
        return keys
    if step == "load_pre_hook":
        seen = []

        def pre(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            seen.append((type(module).__name__, prefix, strict))
            state_dict.pop(prefix + "bias", None)

        handle = model[0].register_load_state_dict_pre_hook(pre)
        result = model.load_state_dict(model.state_dict(), strict=strict)
        handle.remove()
        return (tuple(seen), tuple(result.missing_keys), tuple(result.unexpected_keys))
    if step == "load_post_hook":
        seen = []

        def post(module, incompatible):
            seen.append((tuple(incompatible.missing_keys), tuple(incompatible.unexpected_keys)))
            incompatible.unexpected_keys.clear()

        handle = model.register_load_state_dict_post_hook(post)
        sd = dict(model.state_dict())
        sd["stray"] = lib.zeros(1)
        result = model.load_state_dict(sd, strict=strict)
        handle.remove()
        return (tuple(seen), tuple(result.unexpected_keys))
    if step in ("load_other_dtype", "load_assign_other_dtype"):
        sd = {k: (v.to(other) if _floating(v) else v) for k, v in model.state_dict().items()}
        model.load_state_dict(sd, assign=step == "load_assign_other_dtype")
        return tuple(
            (n, p.dtype, type(p).__name__, p.requires_grad) for n, p in model.named_parameters()
        )
    if step == "load_assign_requires_grad":
        sd = {k: v.detach().clone() if _floating(v) else v for k, v in model.state_dict().items()}
        model.load_state_dict(sd, assign=True)
        return tuple((n, type(p).__name__, p.requires_grad) for n, p in model.named_parameters())
    if step == "load_without_num_batches":
        sd = model.state_dict()
        del sd["1.num_batches_tracked"]
        result = model.load_state_dict(sd, strict=strict)
        return (tuple(result.missing_keys), model[1].num_batches_tracked)
    if step == "extra_state":
        model[2].counter = 7
        sd = model.state_dict()
        model.load_state_dict(sd)
        return (sd["2._extra_state"], model[2].counter)
    if step == "deepcopy":
        model[2].linear.weight = model[0].weight
        copied = copy.deepcopy(model)
        return (
            copied[2].linear.weight is copied[0].weight,
            copied[0].weight is model[0].weight,
            len(list(copied.parameters())),
        )
    if step == "to_variants":
        moved = model.to(other)
        kinds = [(n, p.dtype) for n, p in model.named_parameters()]
        model.to(lib.zeros(1, dtype=lib.float64))
        kinds += [(n, b.dtype) for n, b in model.named_buffers()]
        model.bfloat16()
        kinds += [(n, p.dtype) for n, p in model.named_parameters()]
        model.float()
        return (moved is model, tuple(kinds))
    if step == "global_forward_hook":
        seen = []
        handle = lib.nn.modules.module.register_module_forward_hook(
            lambda m, args, out: seen.append(type(m).__name__)
        )
        try:
            model.eval()
            model(lib.ones(3, 2))
        finally:
            handle.remove()
        model.train()
        return tuple(seen)
    if step == "load_parameter_values":
        sd = {
            k: lib.nn.Parameter(v.float() * 2) if _floating(v) else v
            for k, v in model.state_dict().items()
        }
        model.load_state_dict(sd, strict=strict)
        return tuple(p.requires_grad for p in model.parameters())
    if step == "state_dict_of_half":
        return _state(copy.deepcopy(model).half().state_dict())
    if step == "load_missing_buffer":
        sd = model.state_dict()
        del sd["1.running_mean"]
        result = model.load_state_dict(sd, strict=strict)
        return tuple(result.missing_keys)
    sd = dict(model.state_dict())
    sd["2.scratch"] = lib.ones(2)
    result = model.load_state_dict(sd, strict=strict)
    return (tuple(result.unexpected_keys), model[2].scratch)


# ---- family: in-place methods and their dtype and shape rules ---------------------------------
# A tensor of a random dtype (a leaf that requires grad, a view of one, a plain one), then one
# in-place method with a random argument: whether PyTorch casts the result into the tensor,
# refuses it (RuntimeError), or refuses the broadcast; the tensor and its version after.

IN_PLACE_METHODS = ["add_", "sub_", "mul_", "div_", "div_floor", "pow_", "sqrt_", "exp_",
                    "abs_", "neg_", "clamp_", "clamp_tensor", "fill_", "fill_tensor",
                    "masked_fill_", "copy_", "lerp_", "logical_not_", "bitwise_not_", "sign_",
                    "round_", "zero_", "remainder_", "floor_divide_", "addcmul_", "sigmoid_",
                    "relu_", "trunc_", "clamp_min_", "square_", "reciprocal_", "t_",
                    "unsqueeze_", "squeeze_", "transpose_", "resize_", "index_fill_",
                    "fmod_", "hypot_", "atan2_", "logical_and_", "where_"]  # fmt: skip


def _draw_in_place(seed: int):
    rng = np.random.default_rng(seed)
    dtype = _choice(rng, SCALAR_DTYPES)
    shape = _choice(rng, [(), (2,), (2, 2), (1, 2)])
    values = _protocol_values(rng, shape, dtype, finite=True)
    method = _choice(rng, IN_PLACE_METHODS)
    other = _scalar_operand(rng)
    start = _choice(rng, ["plain", "plain", "leaf", "view", "expanded"])
    if start in ("leaf", "view") and not dtype.startswith(("float", "bfloat", "complex")):
        start = "plain"
    if start == "expanded" and method in ("fill_", "zero_", "masked_fill_", "index_fill_"):
        # (left: PyTorch writes these into an expanded tensor's shared memory, masked_fill_
        # and index_fill_ with a deprecation warning; chainrule refuses the write)
        return "a fill of an expanded tensor", None
    if method == "resize_" and start == "expanded":
        return "resize_ of an expanded tensor", None  # (PyTorch's keeps the storage's layout)
    if method.startswith("clamp") and other[0] != "python" and "complex" in str(other[1]):
        return "clamp_ with a complex bound", None  # (PyTorch drops its imaginary part)

    def program(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=start in ("leaf", "view"))
        if start == "view":
            x = x.clone()[..., None].squeeze(-1) if shape else x.clone().view(())
        elif start == "expanded":
            x = x.reshape(-1)[:1].expand(2) if x.numel() else x
        y = _make_operand(lib, other)
        before = x.detach().clone()
        version = x._version
        outcome = _outcome(lambda: _call_in_place(lib, x, y, method))
        if (
            isinstance(outcome, Raised)
            and lib.__name__ == "torch"
            and _refused_argument(outcome.error)
        ):
            raise outcome.error  # (a number where PyTorch's binding wants a Tensor: taken)
        if isinstance(outcome, Raised):
            # (unchanged: PyTorch checks before it writes, except integer division by zero)
            return (outcome, x._version == version)
        if method == "resize_":  # (its new elements are uninitialised memory)
            return (outcome is x, x.detach().reshape(-1)[: before.numel()], tuple(x.shape))
        return (outcome is x, x.detach(), x.dtype, tuple(x.shape), x._version > version, before)

    return f"{method} on {start} {dtype}{list(shape)} {values.tolist()} with {other}", program


def _call_in_place(lib, x, y, method: str):
    if method == "div_floor":
        return x.div_(y, rounding_mode="floor")
    if method in ("add_", "sub_", "mul_", "div_", "pow_", "remainder_", "floor_divide_", "fmod_",
                  "hypot_", "atan2_", "logical_and_", "lerp_"):  # fmt: skip
        if method == "lerp_":
            return x.lerp_(y if isinstance(y, lib.Tensor) else lib.full_like(x, y), 0.5)
        return getattr(x, method)(y)
    if method in ("clamp_", "clamp_min_"):
        return getattr(x, method)(y)
    if method == "clamp_tensor":
        return x.clamp_(min=y if isinstance(y, lib.Tensor) else lib.tensor(y))
    if method == "fill_":
        return x.fill_(y)
    if method == "fill_tensor":
        return x.fill_(y if isinstance(y, lib.Tensor) else lib.tensor(y))
    if method == "masked_fill_":
        return x.masked_fill_(x.detach() != 0, y)
    if method == "copy_":
        return x.copy_(y if isinstance(y, lib.Tensor) else lib.tensor(y))
    if method == "addcmul_":  # (value is a number: chainrule also takes a 0-d tensor)
        value = y if not isinstance(y, lib.Tensor) else 0.5
        return x.addcmul_(x.detach(), x.detach(), value=value)
    if method == "round_":
        return x.round_(decimals=1)
    if method == "t_":
        return x.t_()
    if method == "unsqueeze_":
        return x.unsqueeze_(0)
    if method == "squeeze_":
        return x.squeeze_()
    if method == "transpose_":
        return x.transpose_(0, -1)
    if method == "resize_":
        return x.resize_(4)
    if method == "index_fill_":
        return x.index_fill_(0, lib.tensor([0]), y)
    if method == "where_":
        return x.where(x.detach() != 0, y)
    return getattr(x, method)()


# ---- family: out= beyond dtypes -------------------------------------------------------------
# An op with `out=`: an out that requires grad, an input that does (in and out of no_grad),
# the out aliasing the input, an out of another shape (resized, warned), a non-contiguous or
# expanded out, and the ops whose out is a tuple (sort, max with a dim, topk, aminmax).

OUT_CASES = ["out_requires_grad", "input_requires_grad", "input_requires_grad_no_grad",
             "alias_input", "resize", "non_contiguous", "expanded", "tuple_sort",
             "tuple_max", "tuple_topk", "tuple_wrong_count", "tuple_wrong_dtype", "cumsum",
             "matmul_same_dtype", "argmax", "tuple_aminmax", "out_not_tensor",
             "out_view"]  # fmt: skip


def _draw_out_rules(seed: int):
    rng = np.random.default_rng(seed)
    case = _choice(rng, OUT_CASES)
    dtype = _choice(rng, ["float32", "float64", "int64"])
    shape = _choice(rng, [(3,), (2, 3), (0,)])
    values = _protocol_values(rng, shape, dtype, finite=True)
    out_shape = _choice(rng, [None, (2,), (0,), (3, 2)])

    def program(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype))
        float_x = x.double()
        shape_of = tuple(x.shape) if out_shape is None else out_shape
        if case == "out_requires_grad":
            out = lib.zeros(shape_of, requires_grad=True)
            return (_outcome(lambda: lib.exp(float_x, out=out)), out.detach())
        if case == "input_requires_grad":
            leaf = float_x.clone().requires_grad_()
            out = lib.zeros(shape_of, dtype=lib.float64)
            return (_outcome(lambda: lib.exp(leaf, out=out)), out)
        if case == "input_requires_grad_no_grad":
            leaf = float_x.clone().requires_grad_()
            out = lib.zeros(shape_of, dtype=lib.float64)
            with lib.no_grad():
                returned = lib.mul(leaf, 2, out=out)
            return (returned is out, out, out.requires_grad)
        if case == "alias_input":
            y = float_x.clone()
            returned = lib.add(y, 1, out=y)
            return (returned is y, y, y._version)
        if case == "resize":
            out = lib.zeros(shape_of, dtype=x.dtype)
            returned = lib.add(x, x, out=out)
            return (returned is out, out, tuple(out.shape))
        if case == "non_contiguous":
            out = (
                lib.zeros(6, dtype=x.dtype)[::2]
                if x.numel() == 3
                else lib.zeros(x.shape, dtype=x.dtype).t()
            )
            lib.add(x, 1, out=out)
            return (out, out.is_contiguous())
        if case == "expanded":
            out = (
                lib.zeros(1, dtype=x.dtype).expand(x.shape)
                if x.dim()
                else lib.zeros((), dtype=x.dtype)
            )
            return _outcome(lambda: lib.add(x, 1, out=out))
        if case == "out_view":
            base = lib.zeros(12, dtype=x.dtype)
            out = base[: x.numel()].view(x.shape)
            lib.neg(x, out=out)
            return (base, out._version, base._version)
        if case == "out_not_tensor":
            return _outcome(lambda: lib.add(x, 1, out=[1, 2]))
        if case == "cumsum":
            out = lib.zeros(shape_of, dtype=lib.float64)
            return (_outcome(lambda: lib.cumsum(x, -1, out=out)), out)
        if case == "matmul_same_dtype":
            out = lib.zeros((), dtype=lib.float64)
            v = x.reshape(-1)
            return (_outcome(lambda: lib.matmul(v, v, out=out)), out)
        if case == "argmax":
            out = lib.zeros(
                shape_of,
                dtype=_choice(np.random.default_rng(seed), [lib.int64, lib.int32, lib.float32]),
            )
            return (_outcome(lambda: lib.argmax(x, -1, out=out) if x.numel() else None), out)
        outs = (lib.zeros(shape_of, dtype=x.dtype), lib.zeros(shape_of, dtype=lib.int64))
        if case == "tuple_sort":
            returned = _outcome(lambda: lib.sort(x, -1, out=outs))
        elif case == "tuple_max":
            returned = _outcome(lambda: lib.max(x, -1, out=outs) if x.numel() else None)
        elif case == "tuple_topk":
            returned = _outcome(lambda: lib.topk(x, min(2, x.shape[-1]), out=outs))
        elif case == "tuple_aminmax":
            pair = (lib.zeros(shape_of, dtype=x.dtype), lib.zeros(shape_of, dtype=x.dtype))
            returned = _outcome(lambda: lib.aminmax(x, dim=-1, out=pair) if x.numel() else None)
            outs = pair
        elif case == "tuple_wrong_count":
            returned = _outcome(lambda: lib.sort(x, -1, out=outs[:1]))
        else:
            wrong = (outs[0], lib.zeros(shape_of, dtype=lib.int32))
            returned = _outcome(lambda: lib.sort(x, -1, out=wrong))
        if isinstance(returned, Raised):
            return returned
        kind = type(returned).__name__ if returned is not None else None
        same = returned is not None and all(a is b for a, b in zip(returned, outs))
        return (kind, same, outs)

    return f"{case} {dtype}{list(shape)} {values.tolist()} out_shape={out_shape}", program


# ---- family: out= of the functions that had none -----------------------------------------------
# The namespace functions PyTorch gives `out=` (matrix products, stacks, selections, reductions
# to indices, special functions...), with an out of a random dtype and shape: PyTorch's rule
# for each op's out dtype ("same", "cast", any), resizing, and the values written.

OUT_FUNCTIONS = {
    "stack": lambda lib, a, m, b, i: lib.stack([a, a]),
    "hstack": lambda lib, a, m, b, i: lib.hstack([a, a]),
    "vstack": lambda lib, a, m, b, i: lib.vstack([a, a]),
    "column_stack": lambda lib, a, m, b, i: lib.column_stack([a, a]),
    "mm": lambda lib, a, m, b, i: lib.mm(m, m),
    "bmm": lambda lib, a, m, b, i: lib.bmm(b, b),
    "mv": lambda lib, a, m, b, i: lib.mv(m, a),
    "dot": lambda lib, a, m, b, i: lib.dot(a, a),
    "inner": lambda lib, a, m, b, i: lib.inner(a, a),
    "outer": lambda lib, a, m, b, i: lib.outer(a, a),
    "addmm": lambda lib, a, m, b, i: lib.addmm(m, m, m),
    "addr": lambda lib, a, m, b, i: lib.addr(m, a, a),
    "baddbmm": lambda lib, a, m, b, i: lib.baddbmm(b, b, b),
    "argmax": lambda lib, a, m, b, i: lib.argmax(m, 0),
    "argmin": lambda lib, a, m, b, i: lib.argmin(m, 1),
    "amax": lambda lib, a, m, b, i: lib.amax(m, 0),
    "all": lambda lib, a, m, b, i: lib.all(m, 0),
    "any": lambda lib, a, m, b, i: lib.any(m, 1),
    "logsumexp": lambda lib, a, m, b, i: lib.logsumexp(m, 0),
    "std": lambda lib, a, m, b, i: lib.std(m, 0),
    "var": lambda lib, a, m, b, i: lib.var(m, 1),
    "gather": lambda lib, a, m, b, i: lib.gather(a, 0, i),
    "index_select": lambda lib, a, m, b, i: lib.index_select(a, 0, i),
    "masked_select": lambda lib, a, m, b, i: lib.masked_select(a, a > 1),
    "tril": lambda lib, a, m, b, i: lib.tril(m),
    "triu": lambda lib, a, m, b, i: lib.triu(m, 1),
    "diag": lambda lib, a, m, b, i: lib.diag(a),
    "kron": lambda lib, a, m, b, i: lib.kron(a, a),
    "cross": lambda lib, a, m, b, i: lib.cross(m, m.flip(0), dim=0),
    "lerp": lambda lib, a, m, b, i: lib.lerp(a, a * 2, 0.5),
    "addcmul": lambda lib, a, m, b, i: lib.addcmul(a, a, a),
    "nan_to_num": lambda lib, a, m, b, i: lib.nan_to_num(a),
    "logical_not": lambda lib, a, m, b, i: lib.logical_not(a),
    "xlogy": lambda lib, a, m, b, i: lib.xlogy(a, a),
    "float_power": lambda lib, a, m, b, i: lib.float_power(a, 2),
    "deg2rad": lambda lib, a, m, b, i: lib.deg2rad(a),
    "sgn": lambda lib, a, m, b, i: lib.sgn(a),
    "signbit": lambda lib, a, m, b, i: lib.signbit(a),
    "lgamma": lambda lib, a, m, b, i: lib.lgamma(a),
    "polygamma": lambda lib, a, m, b, i: lib.polygamma(1, a),
    "nonzero": lambda lib, a, m, b, i: lib.nonzero(a > 1),
    "bitwise_not": lambda lib, a, m, b, i: lib.bitwise_not(i),
    "complex": lambda lib, a, m, b, i: lib.complex(a, a),
    "msort": lambda lib, a, m, b, i: lib.msort(a),
    "quantile": lambda lib, a, m, b, i: lib.quantile(a, 0.5),
    "heaviside": lambda lib, a, m, b, i: lib.heaviside(a, a),
}


def _draw_out_functions(seed: int):
    rng = np.random.default_rng(seed)
    name = _choice(rng, sorted(OUT_FUNCTIONS))
    out_dtype = _choice(rng, ["float32", "float64", "float16", "complex64", "int64", "bool"])
    out_shape = _choice(rng, [None, None, (0,), (1,), (3, 3)])
    dtype = _choice(rng, ["float32", "float64"])
    requires_grad = bool(rng.random() < 0.15)
    if requires_grad and name in ("diag", "heaviside"):
        # (left: PyTorch takes an input that requires grad there and gives `out` a backward
        # that raises "not implemented"; chainrule refuses the call, as for the other ops)
        return "out= of diag or heaviside on the graph", None

    def program(lib):
        data = np.array([0.5, 1.5, 2.0])
        a = lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=requires_grad)
        m = lib.tensor(np.outer(data, data[::-1]) - 1, dtype=getattr(lib, dtype))
        b = lib.stack([m, m * 2])
        i = lib.tensor([2, 0, 1])
        call = OUT_FUNCTIONS[name]
        expected = call(lib, a.detach(), m, b, i)
        shape = tuple(expected.shape) if out_shape is None else out_shape
        out = lib.zeros(shape, dtype=getattr(lib, out_dtype))

        def with_out():
            # (the call again, with out=: each function's own arguments, then out)
            function = getattr(lib, name)
            original = function

            def capture(*args, **kwargs):
                return original(*args, **kwargs, out=out)

            setattr(lib, name, capture)
            try:
                return call(lib, a, m, b, i)
            finally:
                setattr(lib, name, original)

        returned = with_out()
        written = out
        if dtype == "float32" and out.dtype in (lib.float64, lib.complex64):
            # (float32 special functions may differ from PyTorch's in the last bit: compared
            # at float32's precision; REGRESSIONS checks the reductions that compute in out's
            # dtype exactly)
            written = out.to(lib.complex64 if out.is_complex() else lib.float32)
        return (returned is out, written, tuple(out.shape), out.dtype)

    return f"{name} {dtype} out={out_dtype}{out_shape} requires_grad={requires_grad}", program


FAMILIES = {
    "protocol": (_draw_protocol, 200),
    "scalars": (_draw_scalars, 300),
    "modules": (_draw_modules, 200),
    "module_hooks": (_draw_module_hooks, 200),
    "data": (_draw_data, 300),
    "utils": (_draw_utils, 200),
    "containers": (_draw_containers, 200),
    "module_io": (_draw_module_io, 150),
    "in_place": (_draw_in_place, 300),
    "out_rules": (_draw_out_rules, 150),
    "out_functions": (_draw_out_functions, 200),
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
    # a Python int beyond int64: up to 2**64 - 1 PyTorch's uint64 scalar (refused with a bool
    # tensor, RuntimeError), beyond that its OverflowError; chainrule computed with a wrapped
    # or rounded value, or raised TypeError for bfloat16
    "python_ints_beyond_int64": lambda lib: tuple(
        _outcome(
            lambda dtype=dtype, value=value: (
                lib.ones(2, dtype=dtype) + value,
                value * lib.ones(2, dtype=dtype),
                lib.ones(2, dtype=dtype) < value,
            )
        )
        for dtype in (lib.bool, lib.int8, lib.float32, lib.bfloat16, lib.complex64)
        for value in (2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1)
    ),
    # NumPy's ufuncs take a tensor as PyTorch's __array__ and __array_wrap__ do: a Tensor back
    # (of NumPy's dtype: float16 for a bool tensor), refused for a tensor that requires grad;
    # chainrule refused every ufunc (__array_ufunc__ = None)
    "numpy_ufuncs_of_tensors": lambda lib: (
        np.sin(lib.tensor([0.5, 1.0])),
        np.sqrt(lib.tensor([True, False])),
        np.maximum(lib.tensor([1, 5]), 3),
        np.add.reduce(lib.tensor([1.0, 2.0, 4.0])),
        _outcome(lambda: np.exp(lib.ones(2, requires_grad=True))),
    ),
    # an expanded tensor takes the in-place shape changes (they write nothing: t_, squeeze_,
    # unsqueeze_, transpose_), and an op that refuses its dtype says so before the overlap;
    # chainrule refused every in-place op of an expanded tensor first (a ShapeError)
    "in_place_shape_changes_of_an_expanded_tensor": lambda lib: (
        lib.ones(1, 3).expand(2, 3).t_().shape,
        lib.ones(3).expand(2, 3).unsqueeze_(0).squeeze_().transpose_(0, 1).shape,
        _outcome(lambda: lib.ones(1, dtype=lib.complex64).expand(2).sign_()),
        _outcome(lambda: lib.ones(1, dtype=lib.complex64).expand(2).clamp_(0)),
        _outcome(lambda: lib.ones(1).expand(2).add_(1)),
    ),
    # logical_not_/and_/or_/xor_ write a tensor that requires grad outside autograd, as
    # PyTorch's (no leaf check, the history kept); chainrule refused a leaf
    "logical_in_place_ops_leave_autograd_alone": lambda lib: (
        (lambda x: (x.logical_not_(), x.is_leaf, x.grad_fn, x._version))(
            lib.tensor([1.5, 0.0], requires_grad=True)
        ),
        (lambda y: (y.logical_or_(y.detach()), type(y.grad_fn).__name__))(
            lib.tensor([1.5, 0.0], requires_grad=True) * 2
        ),
    ),
    # uniform_, normal_ and bernoulli_ refuse a leaf that requires grad in grad mode, as
    # exponential_ did already; chainrule filled it
    "random_fills_refuse_a_leaf_that_requires_grad": lambda lib: tuple(
        _outcome(lambda fill=fill: fill(lib.zeros(2, requires_grad=True)))
        for fill in (
            lambda x: x.uniform_(),
            lambda x: x.normal_(),
            lambda x: x.bernoulli_(0.5),
            lambda x: x.exponential_(),
        )
    ),
    # ~ of a complex tensor is PyTorch's NotImplementedError ("bitwise_not_cpu" not
    # implemented); chainrule let NumPy's TypeError through
    "bitwise_not_refuses_complex": lambda lib: (
        _outcome(lambda: ~lib.ones(2, dtype=lib.complex64)),
        _outcome(lambda: lib.ones(2, dtype=lib.complex128).bitwise_not_()),
    ),
    # clamp casts a number bound to an integer tensor's dtype as PyTorch's: a negative bound
    # wraps around into uint8 (-3 is 253), a bound out of the dtype's range is refused
    # (RuntimeError); chainrule's NumPy clip raised OverflowError or compared unwrapped
    "clamp_of_integers_casts_its_number_bounds": lambda lib: tuple(
        _outcome(call)
        for call in (
            lambda: lib.clamp(lib.tensor([7, 0, 255], dtype=lib.uint8), min=-3),
            lambda: lib.clamp(lib.tensor([7, 0, 255], dtype=lib.uint8), max=-3),
            lambda: lib.tensor([7, 0], dtype=lib.uint8).clamp_min_(-255),
            lambda: lib.clamp(lib.tensor([7, 0, 255], dtype=lib.uint8), min=-256),
            lambda: lib.clamp(lib.tensor([7, -100], dtype=lib.int8), min=-200),
            lambda: lib.clamp(lib.tensor([7, -100], dtype=lib.int8), max=127),
            lambda: lib.clamp(lib.tensor([1, 2]), min=2**63),
        )
    ),
    # pack_padded_sequence(enforce_sorted=False) packs the rows its lengths pick (fewer than
    # the batch) and refuses more (IndexError, from its index_select); chainrule required one
    # length per row (a ShapeError), as enforce_sorted=True does
    "pack_padded_unsorted_with_fewer_or_more_lengths": lambda lib: tuple(
        _outcome(
            lambda lengths=lengths: (
                lambda packed: (packed.data, packed.batch_sizes, packed.sorted_indices)
            )(
                lib.nn.utils.rnn.pack_padded_sequence(
                    lib.arange(12.0).reshape(3, 4),
                    lengths,
                    batch_first=True,
                    enforce_sorted=False,
                )
            )
        )
        for lengths in ([2, 4], [4, 2, 2, 1], [3, 1, 2])
    ),
    # assigning to a parametrized tensor runs every parametrization's right_inverse, and one
    # without it is refused (RuntimeError) with unsafe=True too; chainrule skipped it there
    "parametrization_without_right_inverse_refuses_an_assignment": lambda lib: _outcome(
        lambda: _assign_through_unsafe_parametrization(lib)
    ),
    # std, var and nanmean of a float32 tensor into a float64 out compute in float64, as
    # PyTorch's (the out= wrappers computed in float32 and cast)
    "reductions_compute_in_a_wider_out_dtype": lambda lib: tuple(
        (
            lambda out: (
                reduce(
                    lib.outer(lib.tensor([0.1, 0.7, 1.3]), lib.tensor([0.3, 2.9, 1.7])), 0, out=out
                ),
                out,
            )
        )(lib.zeros(0, dtype=lib.float64))[1]
        for reduce in (lib.std, lib.var, lib.nanmean)
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
