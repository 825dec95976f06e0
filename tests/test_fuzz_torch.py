"""Random op chains run by chainrule and by PyTorch side by side: every step's values, dtype,
shape, strides and contiguity, the error type when PyTorch raises, and at the end the
gradient of each float input. Seeded: a failure names its case (`pytest -k 'case_17'`), and
`python tests/test_fuzz_torch.py START COUNT` runs more cases than the suite does.

The draws cover what the op specs do not combine: dtype mixes (bool, integers, float16,
bfloat16, float64), 0-dim and empty tensors, transposed and sliced operands, broadcasting,
reductions with dim/keepdim, basic and advanced indexing, views and in-place writes through
them."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import chainrule

LIBS = (chainrule, torch)
CASES = 500
STEPS = 4

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "int8", "bool"]
FLOATS = {"float32", "float64", "float16", "bfloat16"}
SHAPES = [(), (0,), (1,), (3,), (2, 3), (3, 1), (1, 4), (2, 0), (2, 3, 4), (4, 1, 2), (2, 2, 2)]


class Skip(Exception):  # noqa: N818 - a signal, not an error
    """This draw does not apply to the tensor at hand (a dim it lacks): draw another."""


# ---- making operands -----------------------------------------------------------------------


def _values(rng: np.random.Generator, shape: tuple, dtype: str) -> np.ndarray:
    """Small exact values: integers, halves and quarters, so float16 and bfloat16 hold them
    and every sum or product of a few stays exact."""
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in ("uint8",):
        return rng.integers(0, 6, shape)
    if dtype in FLOATS:
        return rng.integers(-8, 9, shape) / 4
    return rng.integers(-5, 6, shape)


def _make(lib, values: np.ndarray, dtype: str, layout: str, requires_grad: bool):
    """`values` as a tensor of `dtype`, laid out as `layout` says (the same values either
    way): 'contiguous', 'transposed' (a transpose of the transposed data) or 'sliced' (every
    other element of a twice-longer last dimension)."""
    torch_dtype = getattr(lib, dtype)
    data = values.astype(np.float64 if dtype in FLOATS else values.dtype)
    if layout == "transposed" and values.ndim >= 2:
        base = lib.tensor(np.ascontiguousarray(np.swapaxes(data, 0, -1)), dtype=torch_dtype)
        x = base.transpose(0, -1)
    elif layout == "sliced" and values.ndim >= 1:
        wide = np.repeat(data, 2, axis=-1)
        x = lib.tensor(wide, dtype=torch_dtype)[..., ::2]
    else:
        x = lib.tensor(data, dtype=torch_dtype)
    if requires_grad:
        x = x.detach().requires_grad_(True)
    return x


def _broadcastable(rng: np.random.Generator, shape: tuple) -> tuple:
    """A shape that broadcasts with `shape`: a suffix of it, some sizes made 1."""
    keep = rng.integers(0, len(shape) + 1)
    tail = list(shape[len(shape) - keep :])
    for i in range(len(tail)):
        if rng.random() < 0.3:
            tail[i] = 1
    return tuple(tail)


# ---- the ops: each draws its parameters, then runs the same call in both libraries ----------


def _dim(rng, x) -> int:
    if x.dim() == 0:
        raise Skip
    return int(rng.integers(-x.dim(), x.dim()))


def _other(rng, x, state):
    """A second operand: a tensor of a drawn dtype and broadcastable shape, or a number."""
    kind = rng.integers(0, 4)
    if kind == 0:
        return float(rng.integers(-4, 5) / 2)
    if kind == 1:
        return int(rng.integers(-3, 4))
    dtype = str(rng.choice(DTYPES))
    shape = _broadcastable(rng, tuple(x.shape)) if kind == 2 else tuple(x.shape)
    values = _values(rng, shape, dtype)
    layout = str(rng.choice(["contiguous", "transposed"]))
    grad = dtype in FLOATS and rng.random() < 0.5
    return ("tensor", values, dtype, layout, grad)


def _operand(lib, other, inputs):
    if isinstance(other, tuple):
        _, values, dtype, layout, grad = other
        tensor = _make(lib, values, dtype, layout, grad)
        if grad:
            inputs.append(tensor)
        return tensor
    return other


def unary(rng, x, state):
    name = str(
        rng.choice(
            [
                "neg",
                "abs",
                "exp",
                "sigmoid",
                "tanh",
                "relu",
                "floor",
                "ceil",
                "round",
                "sign",
                "square",
                "sqrt",
                "reciprocal",
                "logical_not",
                "bitwise_not",
                "frac",
                "trunc",
                "sin",
                "log1p",
                "isnan",
                "nan_to_num",
                "positive",
            ]
        )
    )
    return name, lambda lib, x, inputs: getattr(lib, name)(x)


def binary(rng, x, state):
    name = str(
        rng.choice(
            [
                "add",
                "sub",
                "mul",
                "div",
                "maximum",
                "minimum",
                "eq",
                "lt",
                "ge",
                "logical_and",
                "remainder",
                "floor_divide",
                "pow",
                "atan2",
                "fmod",
                "bitwise_and",
                "true_divide",
                "hypot",
            ]
        )
    )
    other = _other(rng, x, state)
    reflected = rng.random() < 0.2 and not isinstance(other, tuple)

    def call(lib, x, inputs):
        y = _operand(lib, other, inputs)
        if reflected:
            return {"add": y + x, "sub": y - x, "mul": y * x}.get(name, getattr(lib, name)(x, y))
        return getattr(lib, name)(x, y)

    return f"{name}({'reflected ' if reflected else ''}{_describe(other)})", call


def operator_binary(rng, x, state):
    symbol = str(rng.choice(["+", "-", "*", "/", "//", "%", "**", "==", "<", "&", "|"]))
    other = _other(rng, x, state)
    flip = rng.random() < 0.3

    def call(lib, x, inputs):
        y = _operand(lib, other, inputs)
        a, b = (y, x) if flip else (x, y)
        return eval(f"a {symbol} b", {"a": a, "b": b})  # noqa: S307 - our own symbols

    return f"x {symbol} {_describe(other)}{' flipped' if flip else ''}", call


def where(rng, x, state):
    other = _other(rng, x, state)
    threshold = float(rng.integers(-1, 2))

    def call(lib, x, inputs):
        return lib.where(x > threshold, x, _operand(lib, other, inputs))

    return f"where(x > {threshold}, x, {_describe(other)})", call


def reduction(rng, x, state):
    name = str(
        rng.choice(["sum", "mean", "amax", "amin", "prod", "argmax", "any", "all", "logsumexp"])
    )
    form = rng.integers(0, 3)
    keepdim = bool(rng.random() < 0.5)
    if form == 0:
        return name, lambda lib, x, inputs: getattr(x, name)()
    dim = _dim(rng, x)
    return (
        f"{name}(dim={dim}, keepdim={keepdim})",
        lambda lib, x, inputs: getattr(x, name)(dim=dim, keepdim=keepdim),
    )


def reduction_with_indices(rng, x, state):
    name = str(rng.choice(["max", "min", "median", "mode", "sort", "cummax", "topk"]))
    if name == "median" and x.dtype is torch.bool:
        raise Skip  # an empty bool median: PyTorch checks the size first, chainrule the dtype
    dim = _dim(rng, x)
    which = int(rng.integers(0, 2))
    if name == "topk":  # its values: which of tied elements it picks is unspecified
        k = int(rng.integers(0, 2))
        return f"topk({k}, dim={dim})", lambda lib, x, inputs: x.topk(k, dim=dim)[0]
    return f"{name}(dim={dim})[{which}]", lambda lib, x, inputs: getattr(x, name)(dim)[which]


def cumulative(rng, x, state):
    name = str(rng.choice(["cumsum", "cumprod", "logcumsumexp", "softmax", "log_softmax"]))
    if name.endswith("softmax") and not x.is_floating_point():
        raise Skip  # PyTorch returns an empty integer tensor as it is, refuses a full one
    dim = _dim(rng, x)
    return f"{name}({dim})", lambda lib, x, inputs: getattr(x, name)(dim)


def shape_op(rng, x, state):
    shape = tuple(x.shape)
    choice = int(rng.integers(0, 15))
    if choice == 0:
        if x.dim() < 2:
            raise Skip
        d0, d1 = (int(d) for d in rng.choice(x.dim(), 2, replace=False))
        return f"transpose({d0}, {d1})", lambda lib, x, inputs: x.transpose(d0, d1)
    if choice == 1:
        perm = tuple(int(d) for d in rng.permutation(x.dim()))
        return f"permute{perm}", lambda lib, x, inputs: x.permute(*perm)
    if choice == 2:
        return "reshape(-1)", lambda lib, x, inputs: x.reshape(-1)
    if choice == 3:
        return "view(-1)", lambda lib, x, inputs: x.view(-1)
    if choice == 4:
        dim = int(rng.integers(-x.dim() - 1, x.dim() + 1))
        return f"unsqueeze({dim})", lambda lib, x, inputs: x.unsqueeze(dim)
    if choice == 5:
        dim = _dim(rng, x)
        return f"squeeze({dim})", lambda lib, x, inputs: x.squeeze(dim)
    if choice == 6:
        return "flatten()", lambda lib, x, inputs: x.flatten()
    if choice == 7:
        sizes = tuple(2 if s == 1 else -1 for s in shape)
        lead = int(rng.integers(0, 2))
        target = (3,) * lead + sizes
        return f"expand{target}", lambda lib, x, inputs: x.expand(*target)
    if choice == 8:
        return "contiguous()", lambda lib, x, inputs: x.contiguous()
    if choice == 9:
        return "clone()", lambda lib, x, inputs: x.clone()
    if choice == 10:
        dim = _dim(rng, x)
        return f"flip({dim})", lambda lib, x, inputs: x.flip(dim)
    if choice == 11:
        dim = _dim(rng, x)
        shift = int(rng.integers(-2, 3))
        return f"roll({shift}, {dim})", lambda lib, x, inputs: x.roll(shift, dim)
    if choice == 12:
        reps = tuple(int(r) for r in rng.integers(1, 3, x.dim()))
        return f"repeat{reps}", lambda lib, x, inputs: x.repeat(*reps)
    if choice == 13:
        dim = _dim(rng, x)
        return f"chunk(2, {dim})[0]", lambda lib, x, inputs: x.chunk(2, dim)[0]
    dim = _dim(rng, x)
    return f"cat((x, x), {dim})", lambda lib, x, inputs: lib.cat((x, x), dim)


def index(rng, x, state):
    if x.dim() == 0:
        raise Skip
    size = x.shape[0]
    choice = int(rng.integers(0, 8))
    if choice == 0:
        start, stop = sorted(int(v) for v in rng.integers(-size - 1, size + 2, 2))
        step = int(rng.integers(1, 3))
        key = slice(start, stop, step)
    elif choice == 1:
        key = int(rng.integers(-size - 1, size + 1))
    elif choice == 2:
        key = (Ellipsis, None)
    elif choice == 3:
        key = ("tensor", tuple(int(i) for i in rng.integers(-size, max(size, 1), 3)))
    elif choice == 4:
        key = ("mask", None)
    elif choice == 5:
        if x.dim() < 2:
            raise Skip
        key = (slice(None), int(rng.integers(-x.shape[1], max(x.shape[1], 1))))
    elif choice == 6:
        key = ("list", [int(i) for i in rng.integers(0, max(size, 1), 2)])
    else:
        key = (slice(None, None, 2), Ellipsis)

    def call(lib, x, inputs):
        if isinstance(key, tuple) and key and key[0] == "tensor":
            return x[lib.tensor(key[1])]
        if isinstance(key, tuple) and key and key[0] == "mask":
            return x[x > 0] if x.dtype is not lib.bool else x[x]
        if isinstance(key, tuple) and key and key[0] == "list":
            return x[key[1]]
        return x[key]

    return f"x[{key}]", call


def in_place(rng, x, state):
    """A write into a view of a copy: the view's and the copy's values, strides, history."""
    name = str(rng.choice(["mul_", "add_", "zero_", "fill_", "clamp_", "neg_", "copy_", "lt_"]))
    view = int(rng.integers(0, 3))
    argument = float(rng.integers(-2, 3))
    if view == 0 and x.dim() == 0:
        raise Skip

    def call(lib, x, inputs):
        y = x.clone()
        target = {0: lambda: y[:1], 1: lambda: y, 2: lambda: y.unsqueeze(0)}[view]()
        method = getattr(target, name)
        if name in ("zero_", "neg_"):
            method()
        elif name == "clamp_":
            method(min=-argument, max=abs(argument))
        elif name == "copy_":
            method(lib.ones(()) * argument)
        else:
            method(argument)
        return y

    return f"y = x.clone(); y{['[:1]', '', '.unsqueeze(0)'][view]}.{name}({argument})", call


def conversion(rng, x, state):
    dtype = str(rng.choice(DTYPES))
    choice = int(rng.integers(0, 3))
    if choice == 0:
        return f"to({dtype})", lambda lib, x, inputs: x.to(getattr(lib, dtype))
    if choice == 1:
        return "float()", lambda lib, x, inputs: x.float()
    return "long()", lambda lib, x, inputs: x.long()


def in_place_arithmetic(rng, x, state):
    """`y op= other` on a copy: PyTorch refuses a result its dtype cannot hold (an int
    tensor += a float), casts one it can (a float16 += a float64 tensor)."""
    symbol = str(rng.choice(["+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|="]))
    other = _other(rng, x, state)

    def call(lib, x, inputs):
        y = x.clone()
        z = _operand(lib, other, inputs)
        scope = {"y": y, "z": z}
        exec(f"y {symbol} z", scope)  # noqa: S102 - our own symbols
        return scope["y"]

    return f"y = x.clone(); y {symbol} {_describe(other)}", call


def setitem(rng, x, state):
    """x.clone()[key] = value, for a basic or advanced key and a number or tensor value."""
    if x.dim() == 0:
        raise Skip
    size = x.shape[0]
    key_kind = int(rng.integers(0, 4))
    value_kind = int(rng.integers(0, 3))
    stop = int(rng.integers(0, size + 1))
    picks = tuple(int(i) for i in rng.integers(-size, max(size, 1), 2)) if size else ()
    number = float(rng.integers(-3, 4)) if rng.random() < 0.5 else int(rng.integers(-3, 4))
    dtype = str(rng.choice(DTYPES))

    def call(lib, x, inputs):
        y = x.clone()
        key = {
            0: slice(0, stop),
            1: lib.tensor(picks, dtype=lib.long),
            2: y > 0 if y.dtype is not lib.bool else y.clone(),
            3: (Ellipsis, slice(None, None, 2)),
        }[key_kind]
        if value_kind == 0:
            value = number
        else:
            target_shape = tuple(y[key].shape)
            shape = target_shape[1:] if value_kind == 1 else target_shape
            value = lib.tensor(_values(np.random.default_rng(len(shape)), shape, dtype))
            value = value.to(getattr(lib, dtype))
        y[key] = value
        return y

    return f"y[key{key_kind}] = value{value_kind} ({number}, {dtype})", call


def selection(rng, x, state):
    choice = int(rng.integers(0, 12))
    if choice == 0:
        return "nonzero()", lambda lib, x, inputs: x.nonzero()
    if choice == 1:
        return "masked_select(x > 0)", lambda lib, x, inputs: x.masked_select(x > 0)
    dim = _dim(rng, x)
    size = x.shape[dim]
    if choice == 2:
        picks = [int(i) for i in rng.integers(0, max(size, 1), 3)]
        return (
            f"index_select({dim}, {picks})",
            lambda lib, x, inputs: x.index_select(dim, lib.tensor(picks)),
        )
    if choice == 3:
        start = int(rng.integers(-size, size + 1)) if size else 0
        length = int(rng.integers(0, 3))
        return f"narrow({dim}, {start}, {length})", lambda lib, x, inputs: x.narrow(
            dim, start, length
        )
    if choice == 4:
        sizes = int(rng.integers(1, 3))
        return f"split({sizes}, {dim})[-1]", lambda lib, x, inputs: x.split(sizes, dim)[-1]
    if choice == 5:
        return f"stack((x, x), {dim})", lambda lib, x, inputs: lib.stack((x, x), dim)
    if choice == 6:
        if x.dim() < 2:
            raise Skip
        offset = int(rng.integers(-2, 3))
        name = str(rng.choice(["tril", "triu"]))
        return f"{name}({offset})", lambda lib, x, inputs: getattr(x, name)(offset)
    if choice == 7:
        if x.dim() < 2:
            raise Skip
        offset = int(rng.integers(-1, 2))
        return f"diagonal({offset})", lambda lib, x, inputs: x.diagonal(offset)
    if choice == 8:
        low = float(rng.integers(-2, 1))
        return f"clamp(min=tensor {low})", lambda lib, x, inputs: x.clamp(
            min=lib.tensor(low), max=lib.tensor(low + 2)
        )
    if choice == 9:
        picks = [int(i) for i in rng.integers(0, max(x.numel(), 1), 2)]
        return f"take({picks})", lambda lib, x, inputs: x.take(lib.tensor(picks))
    if choice == 10:
        return "x[:, None] (unsqueezed slice)", lambda lib, x, inputs: x[:, None]
    return f"movedim(0, {dim})", lambda lib, x, inputs: x.movedim(0, dim)


def reduction_options(rng, x, state):
    choice = int(rng.integers(0, 6))
    dim = _dim(rng, x) if x.dim() else None
    if choice == 0:  # (PyTorch refuses an integer sum of a tensor that requires grad)
        dtype = str(rng.choice(["float64", "float32"] + ([] if x.requires_grad else ["int64"])))
        return f"sum(dtype={dtype})", lambda lib, x, inputs: x.sum(dtype=getattr(lib, dtype))
    if choice == 1:
        # (correction past the count over all dims: PyTorch's gradient follows no formula)
        correction = int(rng.integers(0, 2))
        return f"var(dim={dim}, correction={correction})", lambda lib, x, inputs: x.var(
            dim=dim, correction=correction
        )
    if choice == 2:
        unbiased = bool(rng.random() < 0.5)
        return f"std(unbiased={unbiased})", lambda lib, x, inputs: x.std(unbiased=unbiased)
    if choice == 3:
        return f"mean(dim={dim})", lambda lib, x, inputs: x.mean(dim)
    if choice == 4:
        p = float(rng.choice([1, 2, 3, float("inf")]))
        return f"norm(p={p}, dim={dim})", lambda lib, x, inputs: x.norm(p=p, dim=dim)
    return f"count_nonzero({dim})", lambda lib, x, inputs: lib.count_nonzero(x, dim)


FAMILIES = [
    unary,
    binary,
    operator_binary,
    where,
    reduction,
    reduction_with_indices,
    cumulative,
    shape_op,
    shape_op,
    index,
    index,
    in_place,
    conversion,
    in_place_arithmetic,
    setitem,
    selection,
    reduction_options,
]

# Families whose results may be laid out otherwise than PyTorch's (see _compare).
MIXED_LAYOUTS = {
    binary,
    operator_binary,
    where,
    reduction_with_indices,
    index,
    in_place_arithmetic,
    setitem,
    selection,
}


def _describe(other) -> str:
    if isinstance(other, tuple):
        _, values, dtype, layout, grad = other
        return f"<{dtype} {values.shape} {layout}{' grad' if grad else ''}>"
    return repr(other)


# ---- running a case ------------------------------------------------------------------------


def _draw_case(seed: int) -> tuple:
    """The start tensor and the op chain of case `seed`, drawn without running anything."""
    rng = np.random.default_rng(seed)
    dtype = str(rng.choice(DTYPES))
    shape = SHAPES[int(rng.integers(0, len(SHAPES)))]
    values = _values(rng, shape, dtype)
    layout = str(rng.choice(["contiguous", "transposed", "sliced"]))
    grad = dtype in FLOATS and dtype != "bfloat16" and rng.random() < 0.6
    return rng, (values, dtype, layout, grad)


TOLERANCES = {
    "float16": {"rtol": 2e-2, "atol": 2e-2},
    "bfloat16": {"rtol": 2e-2, "atol": 2e-2},
    "float32": {"rtol": 1e-5, "atol": 1e-5},
}
EXACT = {"rtol": 1e-9, "atol": 1e-9}


def _tolerance(*dtypes) -> dict:
    """The loosest tolerance of the dtypes a value went through: a float16 result widened to
    float32 keeps float16's rounding."""
    names = [str(d).rsplit(".", 1)[-1] for d in dtypes]
    return max((TOLERANCES.get(n, EXACT) for n in names), key=lambda t: t["rtol"])


def _as_numpy(t) -> np.ndarray:
    t = t.detach()
    if str(t.dtype).endswith("bfloat16"):
        t = t.float()
    return np.asarray(t.cpu().numpy() if isinstance(t, torch.Tensor) else t.numpy())


def _same_error(ours: BaseException, theirs: BaseException) -> bool:
    """chainrule raises an exception a `except` written for PyTorch's catches."""
    return isinstance(ours, type(theirs))


def _refused_argument(error: BaseException) -> bool:
    """PyTorch refusing an argument chainrule accepts on purpose: a Python number where its
    binding declares a Tensor, or a dtype it has no kernel for."""
    message = str(error)
    refused_type = isinstance(error, TypeError) and (
        "must be Tensor, not" in message or "invalid combination of arguments" in message
    )
    # a kernel PyTorch lacks for a dtype ("hypot_cpu" not implemented for 'Int')
    missing_kernel = isinstance(error, NotImplementedError) and "not implemented for" in message
    return refused_type or missing_kernel


def _compare(step: str, ours, theirs, seen: tuple = (), layout_may_differ: bool = False) -> None:
    assert type(ours).__name__ == type(theirs).__name__ or isinstance(ours, chainrule.Tensor), (
        f"{step}: result types {type(ours).__name__} vs {type(theirs).__name__}"
    )
    if not isinstance(theirs, torch.Tensor):
        assert ours == theirs, f"{step}: {ours!r} vs {theirs!r}"
        return
    assert str(ours.dtype).rsplit(".", 1)[-1] == str(theirs.dtype).rsplit(".", 1)[-1], (
        f"{step}: dtype {ours.dtype} vs {theirs.dtype}"
    )
    assert tuple(ours.shape) == tuple(theirs.shape), f"{step}: shape {ours.shape} vs {theirs.shape}"
    assert ours.requires_grad == theirs.requires_grad, (
        f"{step}: requires_grad {ours.requires_grad} vs {theirs.requires_grad}"
    )
    # Layout: where PyTorch's result is contiguous, chainrule's must be (a later .view()
    # relies on it), and strides that are not row-major must be PyTorch's. chainrule may be
    # contiguous where PyTorch is not (advanced indexing, sort), and once operands of mixed
    # layouts met (PyTorch's TensorIterator orders dimensions by the first operand's
    # strides, NumPy by all of theirs) the layouts may differ for the rest of the chain.
    lenient = layout_may_differ or (ours.is_contiguous() and not theirs.is_contiguous())
    if theirs.numel() > 1 and not lenient:
        assert ours.is_contiguous() == theirs.is_contiguous(), (
            f"{step}: is_contiguous {ours.is_contiguous()} vs {theirs.is_contiguous()}"
        )
        sized = [i for i, n in enumerate(theirs.shape) if n > 1]
        mine = [ours.stride(i) for i in sized]
        expected = [theirs.stride(i) for i in sized]
        assert mine == expected, f"{step}: strides {ours.stride()} vs {theirs.stride()}"
    np.testing.assert_allclose(
        _as_numpy(ours),
        _as_numpy(theirs),
        equal_nan=True,
        err_msg=step,
        **_tolerance(theirs.dtype, *seen),
    )


def run_case(seed: int) -> list[str]:
    """Run case `seed` in both libraries; raise AssertionError naming the first difference.
    Returns the steps it ran (for the report of a failure)."""
    rng, (values, dtype, layout, grad) = _draw_case(seed)
    inputs = {lib: [] for lib in LIBS}
    current = {}
    for lib in LIBS:
        current[lib] = _make(lib, values, dtype, layout, grad)
        if grad:
            inputs[lib].append(current[lib])
    steps = [f"x = <{dtype} {values.shape} {layout}{' grad' if grad else ''}>"]
    seen = {getattr(torch, dtype)}  # the dtypes values went through, for the tolerance
    layout_may_differ = False
    for _ in range(STEPS):
        theirs = current[torch]
        try:
            family = FAMILIES[int(rng.integers(0, len(FAMILIES)))]
            label, call = family(rng, theirs, None)
        except Skip:
            continue
        steps.append(label)
        where = " -> ".join(steps)
        results, errors = {}, {}
        for lib in LIBS:
            try:
                results[lib] = call(lib, current[lib], inputs[lib])
            except Exception as error:  # noqa: BLE001 - compared below
                errors[lib] = error
        if torch in errors and chainrule not in errors and _refused_argument(errors[torch]):
            return steps  # chainrule takes a number where PyTorch's binding wants a Tensor
        if torch in errors and chainrule not in errors and layout_may_differ:
            if "view size is not compatible" in str(errors[torch]):
                return steps  # chainrule's result is contiguous where PyTorch's is not
        if torch in errors:
            assert chainrule in errors, (
                f"{where}: PyTorch raised {type(errors[torch]).__name__}: {errors[torch]}; "
                f"chainrule returned {results[chainrule]!r}"
            )
            assert _same_error(errors[chainrule], errors[torch]), (
                f"{where}: chainrule raised {type(errors[chainrule]).__name__}: "
                f"{errors[chainrule]}; PyTorch {type(errors[torch]).__name__}: {errors[torch]}"
            )
            return steps
        if chainrule in errors:
            raise AssertionError(
                f"{where}: chainrule raised {type(errors[chainrule]).__name__}: "
                f"{errors[chainrule]}; PyTorch returned {results[torch]!r}"
            )
        if isinstance(results[torch], torch.Tensor):
            seen.add(results[torch].dtype)
        if family in MIXED_LAYOUTS:
            layout_may_differ = True
        _compare(where, results[chainrule], results[torch], tuple(seen), layout_may_differ)
        if not isinstance(results[torch], torch.Tensor):
            return steps
        current = results
    _compare_gradients(" -> ".join(steps), current, inputs, rng, tuple(seen))
    return steps


def _compare_gradients(where: str, outputs: dict, inputs: dict, rng, seen: tuple) -> None:
    """Backward from sum(output * random weights), then every float input's gradient."""
    theirs = outputs[torch]
    if not theirs.requires_grad or torch.uint8 in seen:
        return  # (PyTorch's backward negates a uint8 operand in uint8: atan2(uint8, float))
    weights = rng.integers(-3, 4, tuple(theirs.shape)).astype(np.float64)
    grads = {}
    for lib in (torch, chainrule):
        out = outputs[lib]
        w = lib.tensor(weights, dtype=out.dtype)
        try:
            (out * w).sum().backward()
        except RuntimeError as error:
            if lib is torch:
                return  # PyTorch has no derivative here (floor_divide) or fails (atan2 of bool)
            raise AssertionError(f"{where}: backward raised {error!r}") from error
        grads[lib] = [t.grad for t in inputs[lib]]
    for i, (ours, expected) in enumerate(zip(grads[chainrule], grads[torch])):
        assert (ours is None) == (expected is None), f"{where}: gradient {i} presence"
        if expected is not None:
            _compare(f"{where}: gradient of input {i}", ours, expected, seen, True)


@pytest.mark.parametrize("seed", range(CASES), ids=[f"case_{i}" for i in range(CASES)])
def test_a_random_op_chain_agrees_with_pytorch(seed):
    run_case(seed)


if __name__ == "__main__":
    start, count = (int(a) for a in sys.argv[1:3])
    failures = 0
    for seed in range(start, start + count):
        try:
            run_case(seed)
        except AssertionError as error:
            failures += 1
            print(f"case_{seed}: {str(error)[:600]}\n")
    print(f"{failures} of {count} cases differ")
