"""Differential fuzzing against PyTorch, round four: what the earlier rounds
(test_fuzz_torch.py, test_fuzz_torch_families.py, test_fuzz_torch_op_families.py,
test_fuzz_torch_round3.py) leave out: composed programs of 5 to 12 steps that take views of
views (steps, negative indices, select, narrow, transpose, view, unsqueeze, expand,
as_strided, diagonal, unfold), write into them in place, compute from them and differentiate
at the end, with the layout (strides, storage offset, contiguity) and version counter of
every tensor they made; advanced indexing with mixed index kinds (the rule that moves the
advanced dimensions to the front when a slice separates them, out-of-range and 0-d bool
indices, accumulating writes with duplicates); Python's dunder protocol on tensors (reflected
operators, truth value, len, iter, index, format, contains, copy, reversed, NumPy arrays);
printing after random ops under random print options; and factories' dtype inference (NumPy
scalars and arrays, a changed default dtype, arange's length with float steps). Each case
runs one random program on chainrule and on PyTorch and compares values, dtype, shape,
requires_grad and gradients, or the exception type when PyTorch raises (see
`check_program`). REGRESSIONS keeps each program this round found, fixed.

Seeded: a failure names its case (`pytest -k 'view_programs-case_17'`), and
`python -m tests.test_fuzz_torch_round4 FAMILY START COUNT` runs more cases of a family than
the suite does."""

from __future__ import annotations

import copy
import math
import sys

import numpy as np
import pytest

from tests.test_fuzz_torch_families import (
    _SUFFIX_BREAK,
    check_program,
    family_cases,
    main,
    run_family_case,
)
from tests.test_fuzz_torch_op_families import _index, _with_gradients


class Raised:
    """An exception a program caught and went on from, compared as `check_program` compares a
    program's own: chainrule's (on the left of ==) must be an instance of PyTorch's type."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Raised) and isinstance(self.error, type(other.error))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self.error).__name__}({str(self.error)[:160]!r})"


# ---- family: composed programs of views, in-place writes and autograd ------------------------
# A pool of tensors that starts with one (a leaf, a non-leaf copy of it, or a detached alias);
# each step takes a view of a pool member, writes into one in place, or computes a new one
# from one. An exception (the same type as PyTorch's) is recorded and the program goes on, so
# a refused write must have changed nothing. At the end: every pool member's values, layout
# and version, then the gradient of a weighted sum of them.

VIEW_STEPS = ["slice", "select", "narrow", "transpose", "view", "unsqueeze", "expand",
              "as_strided", "diagonal", "unfold", "permute", "squeeze", "getitem_none",
              "movedim", "t", "split", "view_as_flat"]  # fmt: skip
WRITE_STEPS = ["add_", "mul_", "clamp_", "copy_", "masked_fill_", "index_put_", "zero_",
               "fill_", "setitem_tensor", "setitem_bool", "setitem_ellipsis", "setitem_none",
               "sub_tensor", "div_", "index_add_", "exp_"]  # fmt: skip
MATH_STEPS = ["exp", "mul_self", "sin", "sum_dim", "cumsum", "sigmoid", "mul_other", "pow"]
STARTS = ["nonleaf", "nonleaf", "nonleaf", "leaf", "detached", "no_grad_copy", "int"]


def _draw_view(rng, shape: tuple) -> tuple:
    """A view step's parameters for a tensor of `shape` (any may be out of range: PyTorch's
    refusal is then what is compared)."""
    kind = str(rng.choice(VIEW_STEPS))
    ndim = len(shape)
    span = max(ndim, 1)
    dim = int(rng.integers(-span, span))
    other = int(rng.integers(-span, span))
    size = shape[dim] if ndim else 1
    if kind == "slice":
        start = [None, 0, 1, -1, -2, -size][int(rng.integers(0, 6))]
        stop = [None, -1, size, 1, 2][int(rng.integers(0, 5))]
        step = [None, 1, 2, 3][int(rng.integers(0, 4))]
        return kind, (dim, start, stop, step)
    if kind in ("select", "narrow", "unfold"):
        index = int(rng.integers(-size - 1, size + 1))
        length = int(rng.integers(0, 3))
        return kind, (dim, index, length)
    if kind == "view":
        return kind, (str(rng.choice(["flat", "split", "merge"])), dim)
    if kind == "expand":
        return kind, (int(rng.integers(1, 4)), bool(rng.random() < 0.5))
    if kind == "as_strided":
        sizes = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(1, 3))))
        strides = tuple(int(s) for s in rng.integers(0, 4, len(sizes)))
        return kind, (sizes, strides, int(rng.integers(0, 3)), bool(rng.random() < 0.5))
    if kind == "diagonal":
        return kind, (int(rng.integers(-2, 3)), dim, other)
    if kind == "permute":
        return kind, tuple(int(i) for i in rng.permutation(ndim))
    if kind == "split":
        return kind, (dim, int(rng.integers(1, 3)), int(rng.integers(0, 2)))
    return kind, (dim, other)


def _take_view(lib, t, kind: str, detail, placed: bool = True):
    if kind == "slice":
        dim, start, stop, step = detail
        index = [slice(None)] * (dim % t.dim()) + [slice(start, stop, step)]
        return t[tuple(index)]
    if kind == "select":
        return t.select(detail[0], detail[1])
    if kind == "narrow":
        return t.narrow(detail[0], detail[1], detail[2])
    if kind == "unfold":
        dim, step, size = detail
        return t.unfold(dim, size + 1, abs(step) + 1)
    if kind == "transpose":
        return t.transpose(detail[0], detail[1])
    if kind == "view":
        how, dim = detail
        if how == "flat":
            return t.view(-1)
        if how == "split":
            return t.view(*t.shape[: dim % max(t.dim(), 1)], 1, -1)
        return t.view(-1, *t.shape[2:]) if t.dim() >= 2 else t.view(1, -1)
    if kind == "unsqueeze":
        return t.unsqueeze(detail[0])
    if kind == "expand":
        count, prepend = detail
        if prepend:
            return t.expand(count, *t.shape)
        return t.expand(*[count if n == 1 else -1 for n in t.shape])
    if kind == "as_strided":
        sizes, strides, offset, keep_offset = detail
        if t.numel() == 0 or not placed:  # (NumPy's empty views keep no place, and
            return t  # a result's memory is laid out by each library's own rules)
        if _overlapping(sizes, strides) or _overlapping(t.shape, t.stride()):
            return t  # (PyTorch's gradient of an as_strided that repeats memory is its own)
        start = t.storage_offset() + (0 if keep_offset else offset)
        if not _addresses(sizes, strides, start) <= _addresses(
            t.shape, t.stride(), t.storage_offset()
        ):
            # (left: an as_strided view of a view that reaches memory outside that view, which
            # PyTorch differentiates as a view of the base; chainrule's gradient stops there)
            return t
        return t.as_strided(sizes, strides, start)
    if kind == "diagonal":
        return t.diagonal(*detail)
    if kind == "permute":
        return t.permute(*detail)
    if kind == "squeeze":
        return t.squeeze(detail[0])
    if kind == "getitem_none":
        return t[None, ..., None] if detail[0] % 2 else t[..., None, :] if t.dim() else t[None]
    if kind == "movedim":
        return t.movedim(detail[0], detail[1])
    if kind == "t":
        return t.t()
    if kind == "split":
        dim, size, which = detail
        parts = t.split(size, dim)
        return parts[which % len(parts)]
    return t.view_as(t)


def _write(lib, t, kind: str, scale: float, seed: int):
    if kind in ("add_", "mul_", "fill_"):
        getattr(t, kind)(scale)
    elif kind == "div_":
        t.div_(2.0)
    elif kind == "clamp_":
        t.clamp_(min=-0.5, max=abs(scale))
    elif kind == "copy_":
        t.copy_(lib.arange(t.shape[-1] if t.dim() else 1, dtype=lib.float64).reshape(t.shape[-1:]))
    elif kind == "masked_fill_":
        t.masked_fill_(t > 0, scale)
    elif kind == "index_put_":
        size = t.shape[0] if t.dim() else 1
        index = lib.tensor([0, -1, 0][: max(size, 1)] if size else [], dtype=lib.int64)
        t.index_put_((index,), lib.tensor(scale, dtype=t.dtype), accumulate=True)
    elif kind == "index_add_":
        size = t.shape[0] if t.dim() else 1
        index = lib.tensor([size - 1, 0] if size else [], dtype=lib.int64)
        t.index_add_(0, index, lib.ones((len(index), *t.shape[1:]), dtype=t.dtype))
    elif kind == "zero_":
        t.zero_()
    elif kind == "exp_":
        t.exp_()
    elif kind == "sub_tensor":
        t.sub_(lib.tensor(scale, dtype=t.dtype), alpha=2)
    elif kind == "setitem_tensor":
        size = t.shape[0] if t.dim() else 1
        t[lib.tensor([size - 1] if size else [], dtype=lib.int64)] = scale
    elif kind == "setitem_bool":
        t[t < 0.25] = scale
    elif kind == "setitem_ellipsis":
        t[..., :1] = scale
    else:
        t[None] = lib.tensor(scale, dtype=t.dtype)


def _compute(lib, t, kind: str, other):
    if kind == "exp":
        return t.exp()
    if kind == "mul_self":
        return t * t
    if kind == "sin":
        return t.sin()
    if kind == "sum_dim":
        return t.sum(-1) if t.dim() else t.sum()
    if kind == "cumsum":
        return t.cumsum(-1) if t.dim() else t.cumsum(0)
    if kind == "sigmoid":
        return t.sigmoid()
    if kind == "pow":
        return t.pow(3)
    return t * other.sum()


def _layout(t, placed: bool = True) -> tuple:
    """What a view's place in memory says: its shape, its strides on its dimensions of more
    than one element (a dimension of one has no stride to keep), its storage offset,
    contiguity and version; and whether it requires grad. The place is left out for an
    empty view (it has no element to place; NumPy's empty views keep neither) and for a
    tensor computed from a non-contiguous one, or a view of it (`placed` False): PyTorch
    orders a result's dimensions by its operands' strides, NumPy by its own rules."""
    if not placed:
        return tuple(t.shape), t._version, t.requires_grad
    if t.numel() == 0:
        return tuple(t.shape), t.is_contiguous(), t._version, t.requires_grad
    sized = tuple(i for i, n in enumerate(t.shape) if n > 1)
    strides = tuple(t.stride(i) for i in sized)
    offset = t.storage_offset()
    return tuple(t.shape), strides, offset, t.is_contiguous(), t._version, t.requires_grad


def _write_left_out(t, kind: str) -> bool:
    """Whether a write into t is left out: one where two of t's elements share memory though
    no dimension has stride 0 (as `unfold` with a step under its size, or `as_strided`):
    PyTorch writes into such a tensor (its overlap check cannot tell, and the result depends
    on the order of the writes, which its documentation leaves undefined); chainrule refuses.
    Writes into expanded tensors (stride 0) and their views are all compared: which PyTorch
    lets through (fill_, masked_fill_, index_put_, a view that repeats nothing) and which it
    refuses."""
    if t.numel() < 2 or any(t.stride(i) == 0 for i, n in enumerate(t.shape) if n > 1):
        return False
    return _overlapping(t.shape, t.stride())


def _element_addresses(shape, strides, offset: int = 0) -> np.ndarray:
    return offset + sum(
        (np.arange(n).reshape([-1 if j == i else 1 for j in range(len(shape))]) * stride)
        for i, (n, stride) in enumerate(zip(shape, strides))
    )


def _addresses(shape, strides, offset: int) -> set:
    return set(np.ravel(_element_addresses(shape, strides, offset)).tolist())


def _overlapping(shape, strides) -> bool:
    """Whether two elements of a tensor of `shape` and `strides` share a memory location."""
    count = int(np.prod(shape))
    return count > 1 and len(np.unique(_element_addresses(shape, strides))) < count


def _draw_view_program(seed: int):
    rng = np.random.default_rng(seed)
    shape = [(4, 6), (3, 4, 5), (6,), (2, 3, 4, 2), (5, 5)][int(rng.integers(0, 5))]
    start = str(rng.choice(STARTS))
    values = rng.integers(-4, 5, shape) / 4
    steps = []
    shapes = [shape]  # the shapes the draw expects (a wrong guess only makes a step fail)
    for _ in range(int(rng.integers(5, 13))):
        target = int(rng.integers(max(0, len(shapes) - 3), len(shapes)))
        category = str(rng.choice(["view", "view", "write", "write", "math"]))
        if category == "view":
            kind, detail = _draw_view(rng, shapes[target])
            shapes.append(shapes[target])
        elif category == "write":
            kind, detail = str(rng.choice(WRITE_STEPS)), float(rng.choice([-1.5, 0.5, 2.0]))
        else:
            kind, detail = str(rng.choice(MATH_STEPS)), int(rng.integers(0, len(shapes)))
            shapes.append(shapes[target])
        under_no_grad = bool(rng.random() < 0.1)
        steps.append((category, target, kind, detail, under_no_grad))

    def program(lib):
        dtype = lib.int64 if start == "int" else lib.float64
        x = lib.tensor(values if start != "int" else values * 4, dtype=dtype)
        x.requires_grad_(start != "int")
        if start == "nonleaf":
            base = x * 1
        elif start == "detached":
            base = x.detach()
        elif start == "no_grad_copy":
            with lib.no_grad():
                base = x * 1
        else:
            base = x
        pool, placed, record = [base], [True], []
        for category, target, kind, detail, under_no_grad in steps:
            target = min(target, len(pool) - 1)
            t = pool[target]
            try:
                with lib.no_grad() if under_no_grad else lib.enable_grad():
                    if category == "view":
                        made = _take_view(lib, t, kind, detail, placed[target])
                        pool.append(made)
                        placed.append(placed[target])
                        record.append(_layout(made, placed[-1]))
                    elif category == "write" and _write_left_out(t, kind):
                        record.append("an overlapping write left out")
                    elif category == "write":
                        _write(lib, t, kind, detail, seed)
                        record.append(("written", t._version))
                    else:
                        pool.append(_compute(lib, t, kind, pool[detail % len(pool)]))
                        placed.append(placed[target] and t.is_contiguous())
                        record.append(("computed", pool[-1].requires_grad))
            except (RuntimeError, IndexError, ValueError, TypeError) as error:
                record.append(Raised(error))
        final = tuple((_layout(t, p), t.detach().clone()) for t, p in zip(pool, placed))
        differentiable = [t for t in pool if t.requires_grad]
        if not differentiable or not x.requires_grad:
            return tuple(record), final
        rng_weights = np.random.default_rng(seed)
        loss = sum(
            (t * lib.tensor(rng_weights.standard_normal(tuple(t.shape)))).sum()
            for t in differentiable
        )
        try:
            (grad,) = lib.autograd.grad(loss, [x], allow_unused=True)
        except RuntimeError:
            return tuple(record), final, "backward raised RuntimeError"
        return tuple(record), final, grad

    label = f"{start} x{shape}: " + "; ".join(
        f"{c}#{t} {k}({d}){' no_grad' if g else ''}" for c, t, k, d, g in steps
    )
    return label, program


# ---- family: advanced indexing ----------------------------------------------------------------
# x[index] read (with the gradient) or written, for an index that mixes integer tensors of
# broadcasting shapes (negative, sometimes out of range), boolean masks (0-d too), lists,
# Python ints and bools, slices with steps, None and Ellipsis: where the advanced dimensions
# go (first when a slice, None or Ellipsis separates them), what a write with repeated
# positions does (accumulate=True adds them), and the gradients of both.

INDEX_TENSOR_SHAPES = [(2,), (2, 1), (1, 3), (), (3,), (0,)]


def _advanced_part(rng, size: int, remaining: list) -> tuple:
    kind = str(rng.choice(["int", "slice", "none", "ellipsis", "tensor", "tensor", "list",
                           "mask", "bool0d", "pybool"]))  # fmt: skip
    if kind == "int":
        return ("int", int(rng.integers(-size, size)) if size else 0)
    if kind == "slice":
        start = [None, 0, 1, -1, -2][int(rng.integers(0, 5))]
        stop = [None, -1, 2, size][int(rng.integers(0, 4))]
        return ("slice", (start, stop, [None, 1, 2, 3][int(rng.integers(0, 4))]))
    if kind in ("none", "ellipsis"):
        return (kind, None)
    if kind == "bool0d":
        return (kind, bool(rng.random() < 0.7))
    if kind == "pybool":
        return (kind, bool(rng.random() < 0.7))
    if kind == "mask":
        dims = 2 if len(remaining) >= 2 and rng.random() < 0.3 else 1
        mask_shape = tuple(remaining[:dims]) if remaining else (1,)
        return ("mask", (rng.random(mask_shape) < 0.5).tolist())
    shape = INDEX_TENSOR_SHAPES[int(rng.integers(0, len(INDEX_TENSOR_SHAPES)))]
    low, high = (-size, size) if size else (0, 1)
    values = rng.integers(low, high, shape)
    if rng.random() < 0.08:  # out of range: IndexError
        values = np.full(shape, [size, -size - 1][int(rng.integers(0, 2))])
    if kind == "list":
        return ("list", [int(v) for v in np.ravel(values)] or [0])
    return ("tensor", values.tolist())


def _advanced_index(lib, parts: list) -> tuple:
    """The index of round two's family (a Python bool goes in as it is, as an int does; a 0-d
    bool is a mask)."""
    return _index(
        lib, [("int", value) if kind == "pybool" else (kind, value) for kind, value in parts]
    )


def _draw_advanced_indexing(seed: int):
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 5, int(rng.integers(1, 5))))
    parts, dim = [], 0
    for _ in range(int(rng.integers(1, 5))):
        size = shape[dim] if dim < len(shape) else 1
        part = _advanced_part(rng, size, list(shape[dim:]))
        if part[0] == "ellipsis" and any(p[0] == "ellipsis" for p in parts):
            part = ("slice", (None, None, 2))  # (PyTorch takes two ellipses; NumPy refuses)
        parts.append(part)
        if part[0] == "mask":
            dim += np.asarray(part[1]).ndim
        elif part[0] not in ("none", "ellipsis", "bool0d", "pybool"):
            dim += 1
    action = str(rng.choice(["read", "read", "scalar", "tensor", "index_put", "accumulate"]))
    dtype = str(rng.choice(["float64", "float64", "float32", "int64"]))
    values = rng.integers(-8, 9, shape) / 4
    tensor_only = all(kind == "tensor" for kind, _ in parts)

    def program(lib):
        x = lib.tensor(values if dtype != "int64" else values * 4, dtype=getattr(lib, dtype))
        x.requires_grad_(dtype != "int64")
        index = _advanced_index(lib, parts)
        if action == "read":
            return _with_gradients(lib, (x[index],), [x], seed)
        positions = lib.arange(x.numel()).reshape(x.shape)[index]
        repeated = len(set(positions.flatten().tolist())) < positions.numel()
        y = x * 1 if x.requires_grad else x.clone()
        if action == "scalar":
            y[index] = -2.5 if dtype != "int64" else -2
            return _with_gradients(lib, (y, y._version), [x], seed)
        source_values = np.arange(positions.numel()).reshape(tuple(positions.shape)) - 1.5
        if repeated and action != "accumulate":
            source_values = np.full(tuple(positions.shape), 0.5)  # (which write wins: undefined)
        source = lib.tensor(source_values, dtype=x.dtype, requires_grad=x.requires_grad)
        if action == "tensor":
            y[index] = source
        elif not tensor_only:
            return (positions,)
        else:
            y.index_put_(index, source, accumulate=action == "accumulate")
        return _with_gradients(lib, (y, y._version), [x, source], seed)

    return f"x{shape}[{parts}] {action} ({dtype})", program


# ---- family: Python's protocol on tensors ----------------------------------------------------
# A dunder (reflected arithmetic, unary operators, truth value, len, iter, index, int/float/
# complex, format, contains, hash, copy, reversed, NumPy's array protocol) on a small tensor
# of a drawn dtype and shape, with a drawn other operand: the result, or the exception type.

DUNDER_DTYPES = ["bool", "int64", "int32", "uint8", "float32", "float64", "complex64"]
DUNDER_SHAPES = [(), (1,), (3,), (2, 2), (0,), (1, 1)]
OTHERS = ["int", "float", "bool", "complex", "list", "ndarray", "ndarray0d", "none", "str",
          "tensor", "np_float64", "np_int64"]  # fmt: skip
REFLECTED = ["radd", "rsub", "rmul", "rtruediv", "rfloordiv", "rmod", "rpow", "rmatmul",
             "rand", "ror", "rxor", "rlshift", "rrshift", "eq", "ne", "lt", "ge"]  # fmt: skip
UNARY_DUNDERS = ["neg", "pos", "abs", "invert", "bool", "len", "iter", "index", "int", "float",
                 "complex", "format_spec", "format_empty", "format_int", "contains", "hash_type",
                 "copy", "deepcopy", "deepcopy_nonleaf", "reversed", "array", "array_grad",
                 "array_dtype", "round", "round_digits", "trunc", "floor", "ceil", "divmod",
                 "list_index", "operator_index"]  # fmt: skip


def _other_operand(lib, kind: str, dtype: str):
    if kind == "int":
        return 3
    if kind == "float":
        return 2.5
    if kind == "bool":
        return True
    if kind == "complex":
        return 1 + 2j
    if kind == "list":
        return [1, 2, 3]
    if kind == "ndarray":
        return np.array([1.0, 2.0, 3.0])
    if kind == "ndarray0d":
        return np.array(2.0)
    if kind == "none":
        return None
    if kind == "str":
        return "a"
    if kind == "np_float64":
        return np.float64(1.5)
    if kind == "np_int64":
        return np.int64(2)
    return lib.tensor([2, 1, 3], dtype=getattr(lib, dtype))


def _reflected(name: str, x, other):
    left = {
        "radd": lambda: other + x,
        "rsub": lambda: other - x,
        "rmul": lambda: other * x,
        "rtruediv": lambda: other / x,
        "rfloordiv": lambda: other // x,
        "rmod": lambda: other % x,
        "rpow": lambda: other**x,
        "rmatmul": lambda: other @ x,
        "rand": lambda: other & x,
        "ror": lambda: other | x,
        "rxor": lambda: other ^ x,
        "rlshift": lambda: other << x,
        "rrshift": lambda: other >> x,
        "eq": lambda: x == other,
        "ne": lambda: x != other,
        "lt": lambda: x < other,
        "ge": lambda: x >= other,
    }
    return left[name]()


def _unary_dunder(lib, name: str, x, other):
    if name == "neg":
        return -x
    if name == "pos":
        return +x
    if name == "abs":
        return abs(x)
    if name == "invert":
        return ~x
    if name == "bool":
        return bool(x)
    if name == "len":
        return len(x)
    if name == "iter":
        return tuple(x)
    if name in ("index", "list_index"):
        return [10, 20, 30, 40][x] if name == "list_index" else x.__index__()
    if name == "operator_index":
        return range(5)[x]
    if name in ("int", "float", "complex"):
        return {"int": int, "float": float, "complex": complex}[name](x)
    if name == "format_spec":
        return f"{x:.3f}"
    if name == "format_empty":
        return f"{x}"
    if name == "format_int":
        return format(x, "d")
    if name == "contains":
        return other in x
    if name == "hash_type":
        return type(hash(x)).__name__
    if name == "copy":
        y = copy.copy(x)
        return y, y is x, y.requires_grad
    if name == "deepcopy":
        y = copy.deepcopy(x)
        return y, y is x, y.requires_grad
    if name == "deepcopy_nonleaf":
        return copy.deepcopy(x * 1)
    if name == "reversed":
        return reversed(x)
    if name == "array":
        return np.asarray(x).dtype.name, np.asarray(x).shape
    if name == "array_grad":
        return np.asarray(x.detach().requires_grad_(x.is_floating_point())).tolist()
    if name == "array_dtype":
        return np.asarray(x, dtype=np.float64).dtype.name
    if name == "round":
        return round(x)
    if name == "round_digits":
        return round(x, 1)
    if name in ("trunc", "floor", "ceil"):
        return getattr(math, name)(x)
    return divmod(x, 2)


def _draw_dunders(seed: int):
    rng = np.random.default_rng(seed)
    reflected = bool(rng.random() < 0.5)
    name = str(rng.choice(REFLECTED if reflected else UNARY_DUNDERS))
    dtype = str(rng.choice(DUNDER_DTYPES))
    shape = DUNDER_SHAPES[int(rng.integers(0, len(DUNDER_SHAPES)))]
    other = str(rng.choice(OTHERS))
    if reflected and other in ("ndarray", "ndarray0d", "list"):
        # PyTorch is not consistent here: `x + array` converts the array and `array + x`
        # raises TypeError, `x == array` compares and `x < array` raises; `list * x` repeats
        # the list when x is an integer scalar (Python's sequence repetition, by __index__)
        other = "int"
    values = rng.integers(1, 4, shape)
    requires_grad = dtype.startswith(("float", "complex")) and rng.random() < 0.3

    def program(lib):
        x = lib.tensor(values, dtype=getattr(lib, dtype))
        if dtype == "bool":
            x = x > 1
        x.requires_grad_(requires_grad)
        operand = _other_operand(lib, other, dtype)
        if reflected:
            return _reflected(name, x, operand)
        return _unary_dunder(lib, name, x, operand)

    label = f"{name}(<{dtype} {shape} requires_grad={requires_grad}>, {other})"
    return label, program


# ---- family: printing after random ops --------------------------------------------------------
# repr of a tensor made by a drawn op (its grad_fn name), of values the formatter must choose
# a notation for (signed zeros, subnormals, magnitudes far apart, integers past float
# precision, inf and nan beside ordinary numbers), under drawn print options; compared
# character for character, torch's names spelt as chainrule's.

PRINT_OPS = ["add", "mul", "sub", "div", "neg", "abs", "exp", "pow", "sum", "mean", "view",
             "transpose", "index", "cat", "stack", "clone", "to_double", "relu", "softmax",
             "matmul", "max_dim", "cumsum", "unsqueeze", "expand", "t", "squeeze", "reshape",
             "select", "narrow", "masked_fill", "where", "flip", "repeat", "sigmoid", "norm",
             "unbind", "split", "real", "sort_values", "amax", "std", "prod", "none"]  # fmt: skip
PRINT_VALUES = [0.0, -0.0, 1.0, -1.5, 1e-8, 3e-42, 1e8, -1e12, 123456789.0, 0.1, 2.5e-4,
                float("inf"), float("-inf"), float("nan"), 65504.0, 1e-5, 7.0, 1 / 3]  # fmt: skip
PRINT_FLOATS = ["float32", "float64", "float16", "bfloat16", "complex64"]


def _print_op(lib, name: str, x):
    two_d = x.reshape(2, -1)
    ops = {
        "add": lambda: x + 1,
        "mul": lambda: x * 2,
        "sub": lambda: 1 - x,
        "div": lambda: x / 3,
        "neg": lambda: -x,
        "abs": lambda: x.abs(),
        "exp": lambda: (x / 1e9).exp(),
        "pow": lambda: x.pow(2),
        "sum": lambda: x.sum(),
        "mean": lambda: two_d.mean(0),
        "view": lambda: x.view(2, -1),
        "transpose": lambda: two_d.transpose(0, 1),
        "index": lambda: x[lib.tensor([0, 2])],
        "cat": lambda: lib.cat([x, x]),
        "stack": lambda: lib.stack([x, x]),
        "clone": lambda: x.clone(),
        "to_double": lambda: x.to(lib.float64),
        "relu": lambda: x.relu(),
        "softmax": lambda: (x / 1e9).nan_to_num().softmax(0),
        "matmul": lambda: two_d @ two_d.t(),
        "max_dim": lambda: two_d.max(1).values,
        "cumsum": lambda: x.cumsum(0),
        "unsqueeze": lambda: x.unsqueeze(0),
        "expand": lambda: x[:1].expand(3),
        "t": lambda: two_d.t(),
        "squeeze": lambda: x.unsqueeze(1).squeeze(1),
        "reshape": lambda: x.reshape(-1, 2),
        "select": lambda: two_d[1],
        "narrow": lambda: x.narrow(0, 1, 2),
        "masked_fill": lambda: x.masked_fill(lib.arange(x.numel()) % 2 == 0, 0.5),
        "where": lambda: lib.where(lib.arange(x.numel()) > 2, x, 0.0),
        "flip": lambda: x.flip(0),
        "repeat": lambda: x.repeat(2),
        "sigmoid": lambda: x.sigmoid(),
        "norm": lambda: x.norm(),
        "unbind": lambda: two_d.unbind(0)[1],
        "split": lambda: x.split(2)[1],
        "real": lambda: x.real,
        "sort_values": lambda: x.sort().values,
        "amax": lambda: two_d.amax(1),
        "std": lambda: two_d.std(1),
        "prod": lambda: x.prod(),
    }
    return ops[name]() if name in ops else x


def _draw_printing_ops(seed: int):
    rng = np.random.default_rng(seed)
    dtype = str(rng.choice(PRINT_FLOATS))
    name = str(rng.choice(PRINT_OPS))
    pool = PRINT_VALUES if rng.random() < 0.7 else PRINT_VALUES[:11]
    values = [pool[int(i)] for i in rng.integers(0, len(pool), 6)]
    if name in ("amax", "max_dim", "sort_values"):
        values = [0.0 if v == 0 else v for v in values]  # (which zero wins a tie: unspecified)
    if name in ("sort_values", "amax", "max_dim") and dtype.startswith("complex"):
        name = "clone"  # (complex numbers have no order)
    if name in ("sub", "matmul") and dtype.startswith("complex"):
        # (PyTorch's `1 - x` multiplies x by alpha = 1 as a complex product, so an infinite
        # part makes the other nan; a complex matmul of magnitudes far apart cancels in an
        # order of its own)
        name = "neg"
    if name in ("pow", "prod", "std", "sum", "mean") and dtype.startswith("complex"):
        # (the sign of a zero part of a complex power, a complex product through infinities,
        # the last digit of a complex64 sum or deviation: each library's own rounding)
        name = "mul"
    if name == "prod" and dtype in ("float16", "bfloat16"):
        name = "sum"  # (a half product rounds at each step, in an order of PyTorch's own)
    requires_grad = bool(rng.random() < 0.7)
    options = {}
    if rng.random() < 0.5:
        # (up to 6 digits: a 7th or 8th of a float32 shows the last bit of libm's rounding)
        options["precision"] = int(rng.integers(1, 7))
    if rng.random() < 0.3:
        options["sci_mode"] = bool(rng.random() < 0.5)
    if rng.random() < 0.3:
        options["linewidth"] = int(rng.choice([30, 50, 200]))
    under_no_grad = bool(rng.random() < 0.2)

    def program(lib):
        data = np.array(values)
        if dtype.startswith("complex"):
            data = data + 1j * np.roll(data, 1)
        x = lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=requires_grad)
        with lib.no_grad() if under_no_grad else lib.enable_grad():
            out = _print_op(lib, name, x)
        if options:
            lib.set_printoptions(**options)
        try:
            text = repr(out)
        finally:
            if options:
                lib.set_printoptions(profile="default")
        return _SUFFIX_BREAK.sub(r", \1", text.replace("torch.", "chainrule."))

    label = f"repr({name}(<{dtype} {values} requires_grad={requires_grad}>)) {options}"
    return label, program


# ---- family: factories and dtype inference -----------------------------------------------------
# torch.tensor / as_tensor / from_numpy of nested data that mixes Python numbers, NumPy scalars
# and arrays and 0-d tensors; arange (its length with float steps), linspace, logspace, full,
# eye and the *_like factories with Python int and float arguments; each under the default
# dtype float32 or float64 (set_default_dtype), with a Python scalar's promotion after.

NUMPY_SCALARS = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                 "bool", "complex64", "complex128"]  # fmt: skip
FACTORY_DTYPES = [None, None, "float32", "float64", "float16", "int64", "int32", "uint8",
                  "bool", "complex64"]  # fmt: skip


def _datum(rng):
    """One element of drawn data: a Python number, a NumPy scalar or a 0-d tensor maker."""
    kind = str(rng.choice(["python", "python", "numpy", "tensor0d"]))
    number = [0, 1, -2, 2.5, -0.5, True, False, 1 + 2j, 7.0, 3][int(rng.integers(0, 10))]
    if kind == "python":
        return ("python", number)
    dtype = str(rng.choice(NUMPY_SCALARS))
    if dtype == "bool":
        number = bool(number)
    elif not dtype.startswith("complex"):
        number = number.real if isinstance(number, complex) else number
        if not dtype.startswith("float"):
            number = int(number)
        if dtype == "uint8":
            number = abs(number)
    return (kind, (dtype, number))


def _materialize(lib, datum):
    kind, value = datum
    if kind == "python":
        return value
    dtype, number = value
    if kind == "numpy":
        return np.dtype(dtype).type(number)
    return lib.tensor(number, dtype=getattr(lib, dtype))


def _draw_factories(seed: int):
    rng = np.random.default_rng(seed)
    default = str(rng.choice(["float32", "float64"]))
    dtype = FACTORY_DTYPES[int(rng.integers(0, len(FACTORY_DTYPES)))]
    choice = str(rng.choice(["tensor_list", "tensor_scalar", "tensor_array", "as_tensor_array",
                             "from_numpy", "arange", "linspace", "logspace", "full", "eye",
                             "like", "promotion", "tensor_of_tensors"]))  # fmt: skip
    data = [_datum(rng) for _ in range(int(rng.integers(1, 5)))]
    array_dtype = str(rng.choice(NUMPY_SCALARS))
    start = [0, 1, -2, 0.5, 2.5, -1.5, 10][int(rng.integers(0, 7))]
    end = [3, 5, 1.25, -1, 7.5, 0, 10][int(rng.integers(0, 7))]
    step = [1, 2, 0.5, -1, 0.3, -0.25, 0.1][int(rng.integers(0, 7))]
    count = int(rng.integers(0, 6))
    if dtype not in (None, "complex64") or choice == "full":
        # PyTorch is not consistent here: a NumPy complex scalar (or a 0-d complex tensor)
        # becomes its real part in a real tensor, a Python complex is a TypeError, and
        # full() fills a real tensor with a NumPy complex scalar (and a float tensor with a
        # NumPy bool, where a Python bool fills a bool tensor)
        data = [
            d
            for d in data
            if not (d[0] != "python" and d[1][0].startswith("complex"))
            and not (choice == "full" and d[0] == "numpy" and d[1][0] == "bool")
        ]
        data = data or [("python", 2)]
    if dtype == "uint8":
        # (a negative float beside a refused NumPy scalar: PyTorch reports whichever comes
        # first in the data, chainrule the refusal)
        data = [("python", abs(d[1])) if d[0] == "python" else d for d in data]

    def program(lib):
        kwargs = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        previous = lib.get_default_dtype()
        lib.set_default_dtype(getattr(lib, default))
        try:
            return _factory(lib, choice, kwargs)
        finally:
            lib.set_default_dtype(previous)

    def _factory(lib, choice, kwargs):
        items = [_materialize(lib, d) for d in data]
        array = np.array([1, 0, 3], dtype=array_dtype)
        if choice == "tensor_list":
            return lib.tensor(items, **kwargs)
        if choice == "tensor_scalar":
            return lib.tensor(items[0], **kwargs)
        if choice == "tensor_of_tensors":
            return lib.tensor([lib.tensor(d[1][1] if d[0] != "python" else d[1]) for d in data])
        if choice == "tensor_array":
            return lib.tensor(array, **kwargs), lib.tensor([array, array])
        if choice == "as_tensor_array":
            made = lib.as_tensor(array, **kwargs)
            array[0] = 2  # shared when no conversion was needed
            return made, made.dtype
        if choice == "from_numpy":
            made = lib.from_numpy(array)
            array[1] = 5
            return made
        if choice == "arange":
            return lib.arange(start, end, step, **kwargs)
        if choice == "linspace":
            return lib.linspace(start, end, count, **kwargs)
        if choice == "logspace":
            return lib.logspace(start, end, count, base=2, **kwargs)
        if choice == "full":
            return lib.full((2,), items[0] if data[0][0] != "tensor0d" else start, **kwargs)
        if choice == "eye":
            return lib.eye(count, max(count - 1, 0), **kwargs)
        if choice == "like":
            like = lib.ones(2, 3, dtype=lib.int32)
            made = (lib.zeros_like(like, **kwargs), lib.full_like(like, start, **kwargs))
            return (*made, lib.empty_like(like, **kwargs).dtype, lib.rand_like(like.float()).dtype)
        # promotion of a Python scalar against tensors of each kind, under the default dtype
        ints = lib.tensor([1, 2])
        bools = lib.tensor([True, False])
        halves = lib.zeros(1, dtype=lib.float16)
        return (ints * 2.5, bools + 1.5, ints / 2, ints + (1 + 1j), lib.tensor(1.5),
                lib.tensor(1 + 1j), lib.arange(3.0), lib.ones(1) * 2, halves + 1e5)  # fmt: skip

    label = f"{choice} default={default} dtype={dtype} data={data} array={array_dtype} " + (
        f"start={start} end={end} step={step} count={count}"
    )
    return label, program


# ---- the tests --------------------------------------------------------------------------------

FAMILIES = {
    "view_programs": (_draw_view_program, 300),
    "advanced_indexing": (_draw_advanced_indexing, 400),
    "dunders": (_draw_dunders, 400),
    "printing_ops": (_draw_printing_ops, 300),
    "factories": (_draw_factories, 400),
}

# ---- fixed programs: what this round found, kept as regressions ------------------------------


def _as_strided_offsets(lib):
    x = lib.arange(6.0)
    v = x.as_strided((2, 2), (1, 2), 1)
    return v, v.storage_offset(), v.as_strided((2,), (2,)).storage_offset()


def _offset_in_a_transposed_result(lib):
    y = lib.arange(12.0).reshape(3, 4).t().exp()  # laid out as its transposed operand
    return y.stride(), y[1].storage_offset(), y[:, 2].storage_offset()


def _expand_that_repeats_nothing(lib):
    x = lib.zeros(3, 1)
    y = x.expand(3, 1)
    y.add_(1)
    z = x.expand(1, 3, 1)
    z.mul_(3)
    return x, z.stride(), z.is_contiguous(), x._version


def _write_through_a_view_of_a_split_output(lib):
    b = lib.ones(5, 5, requires_grad=True) * 1
    first = b.split(2)[0]
    first.movedim(1, 0).add_(1)


def _setitem_index_error_first(lib):
    x = lib.ones(3, requires_grad=True)
    x[0][..., :1] = 2.0


def _empty_result_reads_no_index(lib):
    x = lib.ones(4, 1, 3, requires_grad=True)
    return _with_gradients(lib, (x[lib.tensor([4, 4]), -1, -1:2],), [x], 0)


def _deepcopy_keeps_grad(lib):
    x = lib.ones(2, requires_grad=True)
    x.sum().backward()
    y = copy.deepcopy(x)
    return y, y.grad, y.requires_grad, y.grad is x.grad


def _half_cumsum(lib):
    """Exact values (.tolist()): a float16 rounding is within the comparison's tolerance."""
    values = [7.0, 1 / 3, 2.5e-4, 1e-5, 1 / 3]
    return tuple(
        lib.tensor(values, dtype=d).cumsum(0).tolist() for d in (lib.float16, lib.bfloat16)
    )


def _clamp_and_relu_keep_negative_zero(lib):
    results = []
    for dtype in (lib.float16, lib.bfloat16, lib.float32, lib.float64):
        x = lib.tensor([-0.0, 0.0, -1.0, 2.0], dtype=dtype)
        results += [x.relu(), x.clamp(min=0), x.clamp(max=0), x.clamp(-0.0, 0.0)]
    return tuple(results)


def _signed(result):
    """Values with the sign of each zero visible (1/-0.0 is -inf), for the comparison."""
    return tuple(1 / t.double() for t in result)


def _write_into_interleaved_strides(lib):
    """as_strided((3, 3), (3, 2)) repeats no element, though its strides interleave."""
    x = lib.arange(11.0, requires_grad=True)
    base = x * 1
    view = base.as_strided((3, 3), (3, 2))
    view.mul_(lib.arange(9.0).reshape(3, 3))
    return _with_gradients(lib, (base,), [x], 0) + (view._version,)


def _uint8_from_a_negative_numpy_float(lib):
    return lib.tensor(np.float64(-0.5), dtype=lib.uint8)


REGRESSIONS = {
    # views and in-place writes
    "as_strided_view_storage_offset": _as_strided_offsets,
    "storage_offset_in_a_transposed_result": _offset_in_a_transposed_result,
    "expand_that_repeats_nothing_is_writable": _expand_that_repeats_nothing,
    "write_through_a_view_of_a_split_output": _write_through_a_view_of_a_split_output,
    "movedim_of_a_scalar": lambda lib: (
        lib.tensor(2.0).movedim(0, -1).shape,
        lib.tensor(2.0).movedim([-1], [0]).shape,
    ),
    "setitem_index_error_before_the_leaf_refusal": _setitem_index_error_first,
    "write_into_interleaved_strides": _write_into_interleaved_strides,
    "index_add_of_a_scalar_from_a_vector": lambda lib: lib.zeros(()).index_add_(
        0, lib.tensor([0, 0]), lib.ones(2)
    ),
    # advanced indexing
    "python_bool_beside_an_index_tensor": lambda lib: lib.ones(2, 3)[lib.tensor([0, 1]), False],
    "out_of_range_index_where_the_result_is_empty": _empty_result_reads_no_index,
    "out_of_range_index_beside_an_empty_dimension": lambda lib: (
        lib.ones(2, 0)[lib.tensor([5])].shape
    ),
    # Python's protocol
    "reversed_flips": lambda lib: (reversed(lib.tensor([[1, 2], [3, 4]])), reversed(lib.ones(()))),
    "contains_broadcasts": lambda lib: lib.tensor([1, 2]) in lib.tensor([[1, 2], [3, 4]]),
    "contains_a_tensor_that_does_not_broadcast": lambda lib: lib.ones(3) in lib.ones(2),
    "contains_a_string": lambda lib: "a" in lib.ones(2),
    "deepcopy_of_a_non_leaf": lambda lib: copy.deepcopy(lib.ones(2, requires_grad=True) * 2),
    "deepcopy_keeps_grad": _deepcopy_keeps_grad,
    "float_and_int_of_a_real_complex_scalar": lambda lib: (
        float(lib.tensor(2 + 0j)),
        int(lib.tensor(3 + 0j)),
        math.ceil(lib.tensor(1.5 + 0j)),
    ),
    "float_of_a_complex_scalar": lambda lib: float(lib.tensor(2 + 1j)),
    "format_of_a_vector_with_a_spec": lambda lib: f"{lib.ones(2):.3f}",
    "format_of_a_vector_without_one": lambda lib: f"{lib.ones(2)}",
    "bool_of_an_empty_tensor": lambda lib: bool(lib.ones(0)),
    "string_times_an_integer_scalar": lambda lib: "ab" * lib.tensor(2),
    "number_at_a_tensor": lambda lib: 3 @ lib.ones(2),
    "none_plus_a_tensor": lambda lib: None + lib.ones(2),
    # values that printing showed
    "clamp_and_relu_keep_negative_zero": lambda lib: _signed(
        _clamp_and_relu_keep_negative_zero(lib)
    ),
    "cumsum_starts_from_positive_zero": lambda lib: _signed(
        (lib.tensor([-0.0, -0.0, 1.0]).cumsum(0), lib.tensor([-0.0, -0.0]).flip(0).cumsum(0))
    ),
    "half_cumsum_sums_in_float32": _half_cumsum,
    "float32_cumsum_sums_in_float64": lambda lib: (
        lib.tensor([-1.5, 0.00025, -1.5]).cumsum(0).tolist(),
        lib.tensor([-1.5 + 1j, 0.00025, -1.5], dtype=lib.complex64).cumsum(0).tolist(),
    ),
    "float16_std_does_not_overflow": lambda lib: (
        lib.tensor([[7.0, 65504.0, 65504.0, 0.0, 1e-5]], dtype=lib.float16).std(1),
        lib.tensor([[7.0, 65504.0, 1.0]], dtype=lib.bfloat16).var(1),
    ),
    # (exact values, .item(): each differed by less than the comparison's tolerance)
    "float32_std_of_subnormals": lambda lib: lib.tensor([0.0, 0.0, 3e-42]).std().item(),
    "float32_std_rounded_once": lambda lib: lib.tensor([0.0, 123456789.0, 0.00025]).std().item(),
    "float16_norm_of_small_values": lambda lib: (
        lib.tensor([2.5e-4, -0.0, 1e-8], dtype=lib.float16).norm().item()
    ),
    "nan_to_num_of_bfloat16": lambda lib: lib.tensor(
        [float("inf"), -float("inf"), float("nan")], dtype=lib.bfloat16
    ).nan_to_num(),
    # factories
    "numpy_float_into_an_integer_dtype": lambda lib: lib.tensor([np.float32(1.5)], dtype=lib.int64),
    "numpy_bool_into_an_integer_dtype": lambda lib: lib.tensor(np.bool_(True), dtype=lib.int32),
    "numpy_bool_into_a_bool_dtype": lambda lib: lib.tensor([np.bool_(True)], dtype=lib.bool),
    "float_tensor_into_an_integer_dtype": lambda lib: lib.tensor(
        [lib.tensor(2.5)], dtype=lib.int32
    ),
    "negative_numpy_float_into_uint8": _uint8_from_a_negative_numpy_float,
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_a_program_this_round_found_agrees_with_pytorch(name):
    check_program(name, REGRESSIONS[name])


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_family_case(FAMILIES, family, seed)


if __name__ == "__main__":
    main(FAMILIES, sys.argv)
