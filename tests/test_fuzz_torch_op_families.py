"""Differential fuzzing against PyTorch, round two: op families that the op-chain fuzz
(test_fuzz_torch.py) and the family fuzz (test_fuzz_torch_families.py) draw too rarely to
combine: indexing with mixed advanced and basic indices (read and written), the scatter /
gather / index_* family with duplicate indices, reductions over dim tuples and negative dims
of empty and 0-d tensors, in-place writes through views (values, version counters, the
base's gradient), `where` / `clamp` with tensor bounds, `einsum` equations, `unfold` /
`fold`, cumulative ops with zeros, and `pad` / `interpolate` options. Each case runs one
random program on chainrule and on PyTorch and compares values, dtype, shape,
requires_grad and the gradients of every float input, or the exception type when PyTorch
raises (see `check_program`).

Seeded: a failure names its case (`pytest -k 'einsum-case_17'`), and
`python -m tests.test_fuzz_torch_op_families FAMILY START COUNT` runs more cases of a family
than the suite does."""

from __future__ import annotations

import string
import sys

import numpy as np
import pytest

from tests.test_fuzz_torch_families import check_program, family_cases, main, run_family_case

FLOATS = ("float32", "float64")


def _leaf(lib, values, dtype: str = "float64", requires_grad: bool = True):
    """A leaf tensor of `values`; only floating ones require grad."""
    requires_grad = requires_grad and dtype in FLOATS
    return lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=requires_grad)


def _with_gradients(lib, outputs, leaves: list, seed: int) -> tuple:
    """The outputs and, when the first one is differentiable, the gradients of a random
    weighting of it with respect to `leaves` (None for a leaf it does not reach)."""
    first = outputs[0]
    differentiable = [leaf for leaf in leaves if leaf.requires_grad]
    if not (isinstance(first, lib.Tensor) and first.requires_grad and differentiable):
        return tuple(outputs)
    weights = np.random.default_rng(seed).standard_normal(tuple(first.shape))
    loss = (first * lib.tensor(weights, dtype=first.dtype)).sum()
    gradients = lib.autograd.grad(loss, differentiable, allow_unused=True)
    # (detached: PyTorch's cummax backward gives an empty input back itself, requiring grad)
    return (*outputs, tuple(g if g is None else g.detach() for g in gradients))


# ---- family: indexing ----------------------------------------------------------------------
# x[index] for an index of ints, slices (negative steps excluded: PyTorch refuses them),
# None, Ellipsis, integer lists or tensors (duplicates included) and boolean masks; read
# (with the gradient), or written with x[index] = value on a clone.


def _index_part(rng, size: int):
    kind = str(rng.choice(["int", "slice", "none", "list", "tensor", "mask", "ellipsis"]))
    if kind == "int":
        return ("int", int(rng.integers(-size, size)) if size else 0)
    if kind == "slice":
        start = [None, 0, 1, -1, -size][int(rng.integers(0, 5))]
        stop = [None, size, -1, 2, 0][int(rng.integers(0, 5))]
        step = [None, 1, 2, 3][int(rng.integers(0, 4))]
        return ("slice", (start, stop, step))
    if kind == "none":
        return ("none", None)
    if kind == "ellipsis":
        return ("ellipsis", None)
    count = int(rng.integers(0, 4))
    if kind == "mask":
        return ("mask", [bool(b) for b in rng.random(size) < 0.5])
    values = [int(v) for v in rng.integers(-size, size, count)] if size else []
    if kind == "list" and not values:
        values = [0] if size else []
    return (kind, values)


def _index(lib, parts: list):
    index = []
    for kind, value in parts:
        if kind == "int":
            index.append(value)
        elif kind == "slice":
            index.append(slice(*value))
        elif kind == "none":
            index.append(None)
        elif kind == "ellipsis":
            index.append(Ellipsis)
        elif kind == "list":
            index.append(list(value))
        elif kind == "tensor":
            index.append(lib.tensor(value, dtype=lib.int64))
        else:
            index.append(lib.tensor(value, dtype=lib.bool))
    return tuple(index)


def _draw_indexing(seed: int):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(0, 4, int(rng.integers(1, 4))))
    if rng.random() < 0.8:
        shape = tuple(max(s, 1) for s in shape)
    parts, dim = [], 0
    for _ in range(int(rng.integers(1, 4))):
        size = shape[dim] if dim < len(shape) else 1
        part = _index_part(rng, size)
        if part[0] == "ellipsis" and any(p[0] == "ellipsis" for p in parts):
            part = ("none", None)
        parts.append(part)
        dim += part[0] not in ("none", "ellipsis")
    write = str(rng.choice(["read", "read", "scalar", "tensor", "index_put"]))
    values = rng.standard_normal(shape)
    dtype = str(rng.choice(["float64", "float32", "int64"]))

    def program(lib):
        x = _leaf(lib, values if dtype in FLOATS else values.round(), dtype)
        index = _index(lib, parts)
        if write == "read":
            return _with_gradients(lib, (x[index],), [x], seed)
        y = x.clone()
        if write == "scalar":
            y[index] = 1.5
        elif write == "tensor":
            source = _leaf(lib, np.arange(int(np.prod(y[index].shape))) - 2.0, dtype)
            y[index] = source.reshape(y[index].shape) * 2
            return _with_gradients(lib, (y, y._version), [x, source], seed)
        else:
            tensors = tuple(i for i in index if isinstance(i, lib.Tensor) and i.dtype == lib.int64)
            if not tensors:
                return (y,)
            y.index_put_(tensors, lib.tensor(2.0, dtype=y.dtype), accumulate=True)
        return _with_gradients(lib, (y, y._version), [x], seed)

    return f"x{shape}[{parts}] {write} ({dtype})", program


# ---- family: scatter / gather / index_* with duplicate indices -----------------------------

SCATTER_OPS = [
    "gather",
    "scatter_src",
    "scatter_value",
    "scatter_add",
    "scatter_reduce",
    "index_add",
    "index_copy",
    "index_fill",
    "index_select",
    "index_put_accumulate",
    "take",
    "take_along_dim",
    "masked_scatter",
    "masked_select",
    "put_accumulate",
]


def _draw_scatter(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(SCATTER_OPS))
    shape = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(1, 4))))
    ndim = len(shape)
    dim = int(rng.integers(-ndim, ndim))
    size = shape[dim]
    unique = name in ("scatter_src", "scatter_value", "index_copy")  # duplicates: undefined
    index_shape = tuple(int(rng.integers(1, s + 1)) for s in shape)
    if unique:
        # distinct along `dim` (each column a permutation prefix), as a defined write needs
        count = index_shape[dim]
        columns = np.moveaxis(np.zeros(index_shape, dtype=np.int64), dim, -1)
        for position in np.ndindex(columns.shape[:-1]):
            columns[position] = rng.permutation(size)[:count]
        index_values = np.moveaxis(columns, -1, dim)
    else:
        index_values = rng.integers(0, size, index_shape)
    vector = rng.integers(0, size, int(rng.integers(0, 5)))
    if name == "index_copy":
        vector = rng.permutation(size)[: int(rng.integers(0, size + 1))]
    reduce = str(rng.choice(["sum", "prod", "mean", "amax", "amin"]))
    include_self = bool(rng.random() < 0.5)
    values = rng.integers(-3, 4, shape) / 2.0
    mask = rng.random(shape) < 0.5
    dtype = str(rng.choice(["float64", "float32", "int64"]))

    def program(lib):
        x = _leaf(lib, values if dtype in FLOATS else values.round(), dtype)
        index = lib.tensor(index_values, dtype=lib.int64)
        source = _leaf(lib, np.arange(np.prod(index_shape)).reshape(index_shape) - 1.5, dtype)
        picks = lib.tensor(vector, dtype=lib.int64)
        leaves = [x, source]
        if name == "gather":
            out = lib.gather(x, dim, index)
        elif name == "scatter_src":
            out = x.scatter(dim, index, source)
        elif name == "scatter_value":
            out = x.scatter(dim, index, 2.5 if dtype in FLOATS else 2)
        elif name == "scatter_add":
            out = x.scatter_add(dim, index, source)
        elif name == "scatter_reduce":
            out = x.scatter_reduce(dim, index, source, reduce, include_self=include_self)
        elif name in ("index_add", "index_copy"):
            sizes = list(shape)
            sizes[dim] = len(vector)
            rows = _leaf(lib, np.arange(int(np.prod(sizes))).reshape(sizes) - 2.0, dtype)
            leaves = [x, rows]
            if name == "index_add":
                out = x.index_add(dim, picks, rows, alpha=2)
            else:
                out = x.index_copy(dim, picks, rows)
        elif name == "index_fill":
            out = x.index_fill(dim, picks, -1)
        elif name == "index_select":
            out = x.index_select(dim, picks)
        elif name == "index_put_accumulate":
            y = x.clone()
            y.index_put_((picks,), lib.tensor(1.0, dtype=y.dtype), accumulate=True)
            out = y
        elif name == "take":
            out = lib.take(x, picks)
        elif name == "take_along_dim":
            out = lib.take_along_dim(x, index, dim)
        elif name == "masked_scatter":
            out = x.masked_scatter(lib.tensor(mask), source.reshape(-1).repeat(8)[: x.numel()])
        elif name == "masked_select":
            out = x.masked_select(lib.tensor(mask))
        else:
            y = x.clone()
            y.put_(picks, lib.ones(len(vector), dtype=y.dtype), accumulate=True)
            out = y
        return _with_gradients(lib, (out,), leaves, seed)

    return (
        f"{name} dim={dim} x{shape} index{index_shape} vector={list(vector)} reduce={reduce} "
        f"include_self={include_self} ({dtype})",
        program,
    )


# ---- family: reductions over dims ----------------------------------------------------------

REDUCTIONS = [
    "sum",
    "mean",
    "prod",
    "amax",
    "amin",
    "max",
    "min",
    "argmax",
    "argmin",
    "std",
    "var",
    "logsumexp",
    "nansum",
    "nanmean",
    "all",
    "any",
    "count_nonzero",
    "norm",
    "median",
    "std_mean",
    "var_mean",
    "aminmax",
]
# the reductions that take a tuple of dims (the others take one int, or none)
TUPLE_DIMS = {"sum", "mean", "amax", "amin", "std", "var", "logsumexp", "nansum", "nanmean",
              "all", "any", "count_nonzero", "norm", "std_mean", "var_mean"}  # fmt: skip


def _draw_reduction(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(REDUCTIONS))
    shape = [(), (0,), (3,), (2, 0), (0, 3), (2, 3), (2, 1, 3), (1, 2, 0), (2, 2, 2)][
        int(rng.integers(0, 9))
    ]
    ndim = len(shape)
    span = max(ndim, 1)
    form = str(rng.choice(["none", "int", "tuple", "empty_tuple"]))
    if form == "int" or (form == "tuple" and name not in TUPLE_DIMS):
        dim = int(rng.integers(-span, span))
    elif form == "tuple":
        dim = tuple(int(d) for d in rng.choice(np.arange(-span, span), int(rng.integers(1, 3))))
    elif form == "empty_tuple" and name in TUPLE_DIMS:
        dim = ()
    else:
        dim = None
    keepdim = bool(rng.random() < 0.5)
    dtype = str(rng.choice(["float64", "float32", "int64", "bool"]))
    if name == "median" and dtype == "bool":
        dtype = "int64"  # PyTorch's median of an empty bool tensor is an uninitialised value
    if dim == () and name in ("std", "var", "std_mean", "var_mean", "logsumexp"):
        # PyTorch reduces every dim forward, but its backward (std, var) reduces none, and
        # its logsumexp fails on its own output's shape
        dim = None
    values = rng.integers(-2, 3, shape) / 2.0
    if rng.random() < 0.2 and values.size and name != "prod":
        # (no NaN for prod: with two zeros PyTorch's full-product gradient is 0, chainrule's
        # the exact product of the others, NaN when one is)
        values.flat[0] = np.nan

    def program(lib):
        data = values
        if dtype == "int64":
            data = np.nan_to_num(values * 2)
        elif dtype == "bool":
            data = np.nan_to_num(values) > 0
        x = _leaf(lib, data, dtype)
        function = getattr(lib, name)
        if name == "aminmax":
            out = function(x, dim=dim, keepdim=keepdim) if dim is not None else function(x)
        elif dim is None:
            if name in ("logsumexp",):
                raise TypeError("logsumexp needs a dim")
            out = function(x) if name != "count_nonzero" else function(x, dim=None)
        elif name == "count_nonzero":
            out = function(x, dim=dim)
        elif name == "norm":
            out = function(x, dim=dim, keepdim=keepdim)
        else:
            out = function(x, dim, keepdim=keepdim)
        outputs = tuple(out) if isinstance(out, tuple) else (out,)
        return _with_gradients(lib, outputs, [x], seed)

    return f"{name}(x{shape}, dim={dim}, keepdim={keepdim}) ({dtype})", program


# ---- family: in-place writes through views -------------------------------------------------

VIEWS = ["slice", "select", "t", "view", "diagonal", "unsqueeze", "narrow", "unbind", "split",
         "expand_clone", "as_strided", "detach"]  # fmt: skip
WRITES = ["add_", "mul_", "copy_", "zero_", "fill_", "clamp_", "exp_", "setitem",
          "masked_fill_", "index_fill_", "sub_scalar_tensor", "pow_"]  # fmt: skip


def _view(lib, base, kind: str):
    if kind == "slice":
        return base[1:, ::2]
    if kind == "select":
        return base[1]
    if kind == "t":
        return base.t()
    if kind == "view":
        return base.view(-1)
    if kind == "diagonal":
        return base.diagonal()
    if kind == "unsqueeze":
        return base.unsqueeze(0)
    if kind == "narrow":
        return base.narrow(1, 1, 2)
    if kind == "unbind":
        return base.unbind(1)[2]
    if kind == "split":
        return base.split(2, dim=1)[0]
    if kind == "expand_clone":
        return base[:1].expand(3, 4).clone()
    if kind == "as_strided":
        return base.as_strided((2, 2), (1, 4))
    return base.detach()


def _write(lib, view, kind: str, scale: float):
    if kind in ("add_", "mul_"):
        getattr(view, kind)(scale)
    elif kind == "copy_":
        view.copy_(lib.full(view.shape[-1:], scale, dtype=view.dtype))
    elif kind == "fill_":
        view.fill_(scale)
    elif kind == "zero_":
        view.zero_()
    elif kind == "clamp_":
        view.clamp_(-0.5, abs(scale))
    elif kind == "exp_":
        view.exp_()
    elif kind == "setitem":
        view[..., 0] = scale
    elif kind == "masked_fill_":
        view.masked_fill_(view > 0, scale)
    elif kind == "index_fill_":
        view.index_fill_(-1, lib.tensor([0, 0]), scale)
    elif kind == "sub_scalar_tensor":
        view.sub_(lib.tensor(scale, dtype=view.dtype), alpha=2)
    else:
        view.pow_(2)


def _draw_inplace_view(seed: int):
    rng = np.random.default_rng(seed)
    view_kind, write_kind = str(rng.choice(VIEWS)), str(rng.choice(WRITES))
    scale = float(rng.choice([-1.5, 0.0, 2.0]))
    then = str(rng.choice(["nothing", "read_base", "write_base", "second_view_write"]))
    under_no_grad = bool(rng.random() < 0.15)
    values = rng.integers(-4, 5, (3, 4)) / 4

    def program(lib):
        x = _leaf(lib, values)
        base = x * 1.0
        view = _view(lib, base, view_kind)
        if under_no_grad:
            with lib.no_grad():
                _write(lib, view, write_kind, scale)
        else:
            _write(lib, view, write_kind, scale)
        if then == "write_base":
            base.mul_(2)
        elif then == "second_view_write":
            base[0].add_(1)
        result = (base, view, base._version, view._version, view.requires_grad)
        if then == "read_base" or view.requires_grad:
            loss_source = base if then != "nothing" else view
            return _with_gradients(lib, (loss_source, *result), [x], seed)
        return result

    label = f"{view_kind} view, {write_kind}({scale}), then {then}, no_grad={under_no_grad}"
    return label, program


# ---- family: where / clamp with tensor bounds ---------------------------------------------


def _bound(rng):
    kind = str(rng.choice(["none", "number", "tensor", "tensor0d", "int_tensor"]))
    value = float(rng.choice([-1.0, 0.0, 0.5, 2.0, np.nan]))
    shape = [(4,), (3, 1), (1,)][int(rng.integers(0, 3))]
    return kind, value, shape, rng.integers(-2, 3, shape) / 2.0


def _bound_value(lib, bound, leaves: list, dtype: str = "float64"):
    kind, value, shape, values = bound
    if kind == "none":
        return None
    if kind == "number":
        return value
    if kind == "tensor0d":
        return lib.tensor(value, dtype=lib.float64)
    if kind == "int_tensor":
        return lib.tensor((values * 2).astype(np.int64))
    tensor = _leaf(lib, values, dtype)
    leaves.append(tensor)
    return tensor


def _draw_where_clamp(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(["where", "clamp", "clamp_min", "clamp_max", "clamp_"]))
    low, high = _bound(rng), _bound(rng)
    dtype = str(rng.choice(["float64", "float32", "int64", "bool"]))
    values = rng.integers(-4, 5, (3, 4)) / 2.0
    condition = rng.random((3, 4)) < 0.5

    def program(lib):
        data = values if dtype in FLOATS else (values * 2).astype(np.int64)
        x = _leaf(lib, data if dtype != "bool" else data > 0, dtype)
        leaves = [x]
        # clamp_ into float32: PyTorch sums a float64 bound's gradient in float32 (the
        # result's dtype), chainrule in float64; the bounds take x's dtype there
        bound_dtype = "float32" if name == "clamp_" and dtype == "float32" else "float64"
        a = _bound_value(lib, low, leaves, bound_dtype)
        b = _bound_value(lib, high, leaves, bound_dtype)
        if name == "where":
            out = lib.where(lib.tensor(condition), x if a is None else a, x if b is None else b)
        elif name == "clamp":
            out = lib.clamp(x, min=a, max=b)
        elif name == "clamp_min":
            out = lib.clamp_min(x, x if a is None else a)
        elif name == "clamp_max":
            out = lib.clamp_max(x, x if b is None else b)
        else:
            out = x.clone()
            out.clamp_(min=a, max=b)
        return _with_gradients(lib, (out,), leaves, seed)

    return f"{name}(x {dtype}, {low[:3]}, {high[:3]})", program


# ---- family: einsum --------------------------------------------------------------------------


def _draw_einsum(seed: int):
    rng = np.random.default_rng(seed)
    letters = string.ascii_lowercase[: int(rng.integers(1, 5))]
    sizes = {letter: int(rng.integers(1, 4)) for letter in letters}
    use_ellipsis = bool(rng.random() < 0.25)
    operands = []
    for _ in range(int(rng.integers(1, 4))):
        count = int(rng.integers(0, 4))
        subscript = "".join(str(rng.choice(list(letters))) for _ in range(count))
        if use_ellipsis and rng.random() < 0.7:
            subscript = "..." + subscript
        operands.append(subscript)
    used = sorted(set("".join(operands).replace(".", "")))
    explicit = bool(rng.random() < 0.6)
    output = "".join(str(s) for s in rng.permutation(used)[: int(rng.integers(0, len(used) + 1))])
    if use_ellipsis and any("..." in o for o in operands) and rng.random() < 0.7:
        output = "..." + output
    equation = ",".join(operands) + ("->" + output if explicit else "")
    batch = tuple(int(s) for s in rng.integers(1, 3, int(rng.integers(0, 3))))
    shapes = []
    for subscript in operands:
        core = tuple(sizes[c] for c in subscript.replace("...", ""))
        extra = batch[len(batch) - int(rng.integers(0, len(batch) + 1)) :] if batch else ()
        shapes.append((extra if "..." in subscript else ()) + core)
    values = [rng.standard_normal(shape) for shape in shapes]
    as_list = bool(rng.random() < 0.3)

    def program(lib):
        tensors = [_leaf(lib, v) for v in values]
        out = lib.einsum(equation, tensors) if as_list else lib.einsum(equation, *tensors)
        return _with_gradients(lib, (out,), tensors, seed)

    return f"einsum({equation!r}, shapes {shapes})", program


# ---- family: unfold / fold -----------------------------------------------------------------


def _draw_unfold(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(["F.unfold", "F.fold", "Tensor.unfold"]))
    kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    padding = tuple(int(p) for p in rng.integers(0, 2, 2))
    stride = tuple(int(s) for s in rng.integers(1, 3, 2))
    if rng.random() < 0.5:
        kernel, dilation, padding, stride = kernel[0], dilation[0], padding[0], stride[0]
    spatial = tuple(int(s) for s in rng.integers(2, 6, 2))
    unbatched = bool(rng.random() < 0.25)
    tensor_dim = int(rng.integers(-2, 2))
    tensor_size, tensor_step = int(rng.integers(0, 4)), int(rng.integers(1, 3))

    def blocks(total, k, d, p, s):
        return (total + 2 * p - d * (k - 1) - 1) // s + 1

    def program(lib):
        F = lib.nn.functional
        options = {"dilation": dilation, "padding": padding, "stride": stride}
        if name == "F.unfold":
            shape = (2, 3) + spatial
            x = _leaf(lib, np.random.default_rng(seed).standard_normal(shape))
            y = x[0] if unbatched else x
            return _with_gradients(lib, (F.unfold(y, kernel, **options),), [x], seed)
        if name == "F.fold":
            pairs = [
                (v, v) if isinstance(v, int) else v for v in (kernel, dilation, padding, stride)
            ]
            counts = [blocks(spatial[i], *(pair[i] for pair in pairs)) for i in range(2)]
            columns = 3 * pairs[0][0] * pairs[0][1]
            shape = (2, columns, max(counts[0], 0) * max(counts[1], 0))
            x = _leaf(lib, np.random.default_rng(seed).standard_normal(shape))
            y = x[0] if unbatched else x
            out = F.fold(y, spatial, kernel, **options)
            return _with_gradients(lib, (out,), [x], seed)
        x = _leaf(lib, np.random.default_rng(seed).standard_normal((3, 4)))
        out = x.unfold(tensor_dim, tensor_size, tensor_step)
        return _with_gradients(lib, (out, out.stride()), [x], seed)

    return (
        f"{name} kernel={kernel} dilation={dilation} padding={padding} stride={stride} "
        f"spatial={spatial} unbatched={unbatched} Tensor.unfold({tensor_dim}, {tensor_size}, "
        f"{tensor_step})",
        program,
    )


# ---- family: cumulative ops ------------------------------------------------------------------

CUMULATIVE = ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"]


def _draw_cumulative(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(CUMULATIVE))
    shape = [(), (0,), (5,), (2, 4), (3, 0), (2, 3, 2)][int(rng.integers(0, 6))]
    span = max(len(shape), 1)
    dim = int(rng.integers(-span, span))
    dtype = str(rng.choice(["float64", "float64", "float32", "int64", "bool", "int32"]))
    out_dtype = str(rng.choice(["none", "none", "float64", "int64"]))
    zeros = int(rng.integers(0, 3))
    values = rng.integers(-3, 4, shape) / 2.0
    for _ in range(zeros):
        if values.size:
            values.flat[int(rng.integers(0, values.size))] = 0.0

    def program(lib):
        data = values
        if dtype in ("int64", "int32"):
            data = values * 2
        elif dtype == "bool":
            data = values > 0
        x = _leaf(lib, data, dtype)
        kwargs = {}
        if out_dtype != "none" and name in ("cumsum", "cumprod"):
            kwargs["dtype"] = getattr(lib, out_dtype)
        out = getattr(lib, name)(x, dim, **kwargs)
        outputs = tuple(out) if isinstance(out, tuple) else (out,)
        return _with_gradients(lib, outputs, [x], seed)

    return f"{name}(x{shape} {dtype}, dim={dim}, dtype={out_dtype}) zeros={zeros}", program


# ---- family: pad and interpolate options --------------------------------------------------

INTERPOLATE_MODES = {
    1: ["nearest", "nearest-exact", "linear", "area"],
    2: ["nearest", "nearest-exact", "bilinear", "bicubic", "area"],
    3: ["nearest", "nearest-exact", "trilinear", "area"],
}


def _draw_resize(seed: int):
    rng = np.random.default_rng(seed)
    dims = int(rng.integers(1, 4))
    spatial = tuple(int(s) for s in rng.integers(1, 6, dims))
    if rng.random() < 0.5:
        mode = str(rng.choice(["constant", "reflect", "replicate", "circular"]))
        pad = [int(p) for p in rng.integers(-2, 4, 2 * int(rng.integers(1, dims + 1)))]
        if mode == "circular":
            # PyTorch wraps around what is left after cropping, reading its own output where
            # a width exceeds that: keep the widths within it
            for pair in range(len(pad) // 2):
                size = spatial[dims - 1 - pair]
                left = size + min(pad[2 * pair], 0) + min(pad[2 * pair + 1], 0)
                pad[2 * pair] = min(pad[2 * pair], max(left, 0))
                pad[2 * pair + 1] = min(pad[2 * pair + 1], max(left, 0))
        pad = tuple(pad)
        value = float(rng.choice([0.0, -1.5]))
        unbatched = bool(rng.random() < 0.3)

        def program(lib):
            shape = (2, 2) + spatial
            x = _leaf(lib, np.random.default_rng(seed).standard_normal(shape))
            y = x[0] if unbatched else x
            kwargs = {"value": value} if mode == "constant" else {}
            out = lib.nn.functional.pad(y, pad, mode=mode, **kwargs)
            if out.numel() == 0:
                return (out,)  # PyTorch's reflection backward leaves such a gradient unwritten
            return _with_gradients(lib, (out,), [x], seed)

        return f"pad(x{spatial}, {pad}, {mode}, unbatched={unbatched})", program

    mode = str(rng.choice(INTERPOLATE_MODES[dims]))
    options: dict = {"mode": mode}
    if rng.random() < 0.4:
        options["size"] = tuple(int(s) for s in rng.integers(1, 8, dims))
    else:
        factors = [0.4, 0.75, 1.0, 1.3, 2.0, 2.5, 3.0]
        if rng.random() < 0.5:
            options["scale_factor"] = float(rng.choice(factors))
        else:
            options["scale_factor"] = tuple(float(rng.choice(factors)) for _ in range(dims))
        if rng.random() < 0.4:
            options["recompute_scale_factor"] = bool(rng.random() < 0.5)
    if mode in ("linear", "bilinear", "bicubic", "trilinear") and rng.random() < 0.6:
        options["align_corners"] = bool(rng.random() < 0.5)
    if mode in ("bilinear", "bicubic") and rng.random() < 0.4:
        factor = options.get("scale_factor", 1.0)
        factor = factor[-1] if isinstance(factor, tuple) else factor
        width = options["size"][-1] if "size" in options else int(spatial[-1] * factor)
        # PyTorch 2.13's antialiased kernel, to an output width of 1, repeats its first row's
        # value down every row (README: where chainrule differs); chainrule resamples each
        if width != 1:
            options["antialias"] = True

    def program(lib):
        shape = (2, 2) + spatial
        x = _leaf(lib, np.random.default_rng(seed).standard_normal(shape))
        out = lib.nn.functional.interpolate(x, **options)
        factors = options.get("scale_factor", 1.0)
        factors = factors if isinstance(factors, tuple) else (factors,) * dims
        kept = [out.shape[2 + d] == shape[2 + d] and factors[d] != 1.0 for d in range(dims)]
        if any(kept):
            # where a scale leaves a size as it was, PyTorch's backward copies the gradient
            # through (the sizes' ratio, 1), not the scale its forward used: x of size 3 by
            # 1.3 in 'nearest' reads rows 0, 0, 1, and the gradient goes to rows 0, 1, 2
            return (out,)
        return _with_gradients(lib, (out,), [x], seed)

    return f"interpolate(x{spatial}, {options})", program


# ---- family: operands of mixed dtypes beyond the binary ops --------------------------------

MIXED_OPS = ["index_add", "scatter", "scatter_add", "masked_fill", "index_put", "index_fill",
             "cat", "stack", "addcmul", "addcdiv", "lerp", "where_scalar", "copy_",
             "masked_scatter", "index_copy", "put", "fill_", "hstack"]  # fmt: skip
MIXED_DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool", "complex64"]


def _mixed_tensor(lib, dtype: str, values, requires_grad: bool = False):
    data = np.asarray(values)
    if dtype == "bool":
        data = data > 0
    elif dtype == "uint8":
        data = np.abs(data)
    return _leaf(lib, data, dtype, requires_grad)


def _draw_mixed(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(MIXED_OPS))
    self_dtype, other_dtype = (str(rng.choice(MIXED_DTYPES)) for _ in range(2))
    scalar = [2, -1.5, True, 1 + 1j, 0][int(rng.integers(0, 5))]
    if "float16" in (self_dtype, other_dtype) and isinstance(scalar, complex):
        scalar = 2  # PyTorch's float16 with a complex number is complex32 (no kernels)
    zero_dim_other = bool(rng.random() < 0.3)
    in_place = bool(rng.random() < 0.5)
    values = rng.integers(-3, 4, (3, 4))
    other_values = rng.integers(-3, 4, (3, 4))

    def program(lib):
        x = _mixed_tensor(lib, self_dtype, values, requires_grad=True)
        leaves = [x]
        # other's gradient only where the dtypes agree: into an integer x, PyTorch refuses
        # the integer result autograd would record (chainrule returns it without a history);
        # into float32 from float64, PyTorch sums other's gradient in float32, chainrule in
        # float64 (a last-bit difference)
        grads_other = self_dtype == other_dtype
        other = _mixed_tensor(lib, other_dtype, other_values, requires_grad=grads_other)
        leaves.append(other)
        base = x.clone() if in_place else x
        index = lib.tensor([2, 0])
        mask = lib.tensor(values > 0)
        if name == "index_add":
            out = (base.index_add_ if in_place else base.index_add)(0, index, other[:2])
        elif name == "scatter":
            # (src as large as index: PyTorch's backward refuses a larger one, see README)
            func = base.scatter_ if in_place else base.scatter
            out = func(1, index.expand(3, 2), other[:, :2])
        elif name == "scatter_add":
            func = base.scatter_add_ if in_place else base.scatter_add
            out = func(1, index.expand(3, 2), other[:, :2])
        elif name == "masked_fill":
            value = other[0, 0] if zero_dim_other else scalar
            out = (base.masked_fill_ if in_place else base.masked_fill)(mask, value)
        elif name == "index_put":
            value = other[0, 0] if zero_dim_other else other[:2]
            func = base.index_put_ if in_place else base.index_put
            out = func((index,), value, accumulate=bool(seed % 2))
        elif name == "index_fill":
            value = other[0, 0] if zero_dim_other else scalar
            out = (base.index_fill_ if in_place else base.index_fill)(1, index, value)
        elif name == "cat":
            out = lib.cat([x, other[:1]])
        elif name == "stack":
            out = lib.stack([x, other])
        elif name == "hstack":
            out = lib.hstack([x, other])
        elif name in ("addcmul", "addcdiv"):
            third = other[0] if zero_dim_other else other
            func = getattr(base, name + ("_" if in_place else ""))
            out = func(third, third, value=scalar if not isinstance(scalar, bool) else 2)
        elif name == "lerp":
            weight = other if zero_dim_other else 0.25
            out = (base.lerp_ if in_place else base.lerp)(other, weight)
        elif name == "where_scalar":
            out = lib.where(mask, x, scalar) if seed % 2 else lib.where(mask, scalar, other)
        elif name == "copy_":
            out = base.copy_(other[0] if zero_dim_other else other)
        elif name == "masked_scatter":
            out = (base.masked_scatter_ if in_place else base.masked_scatter)(mask, other)
        elif name == "index_copy":
            out = (base.index_copy_ if in_place else base.index_copy)(0, index, other[:2])
        elif name == "put":
            out = base.put_(index, other[0, :2], accumulate=bool(seed % 2))
        else:
            out = base.fill_(other[0, 0] if zero_dim_other else scalar)
        return _with_gradients(lib, (out,), leaves, seed)

    label = (
        f"{name}(self {self_dtype}, other {other_dtype}, scalar {scalar!r}, "
        f"zero_dim_other={zero_dim_other}, in_place={in_place})"
    )
    return label, program


# ---- family: sorting and order statistics with ties and NaN ------------------------------

ORDER_OPS = ["sort", "argsort", "topk", "kthvalue", "msort", "unique", "unique_consecutive",
             "searchsorted", "bucketize", "nanmedian", "mode", "median_dim", "max_dim",
             "quantile", "nanquantile", "histc", "bincount", "cummax"]  # fmt: skip


def _draw_order(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(ORDER_OPS))
    shape = [(0,), (1,), (5,), (2, 4), (3, 3), (2, 1, 3)][int(rng.integers(0, 6))]
    span = max(len(shape), 1)
    dim = int(rng.integers(-span, span))
    dtype = str(rng.choice(["float64", "float32", "int64", "float64"]))
    values = rng.integers(-2, 3, shape).astype(float)  # few values: ties
    if name in ("kthvalue", "topk"):
        # distinct values: which of tied elements PyTorch's quickselect returns (and sends
        # the gradient to) is unspecified
        values = rng.permutation(int(np.prod(shape))).reshape(shape) - 2.0
    if dtype in FLOATS and values.size and rng.random() < 0.3 and name not in ("mode", "unique"):
        # (no NaN for mode: PyTorch's choice among NaNs depends on their positions, a
        # documented difference, see chainrule.mode; nor for unique, whose dim= form in
        # PyTorch leaves the slices unsorted around a NaN)
        values.flat[int(rng.integers(0, values.size))] = np.nan
    descending = bool(rng.random() < 0.5)
    stable = bool(rng.random() < 0.5)
    k = int(rng.integers(0, 4))
    flags = [bool(b) for b in rng.random(3) < 0.5]
    boundaries = sorted(rng.integers(-3, 4, 4).tolist())
    q = float(rng.choice([0.0, 0.25, 0.5, 0.9, 1.0]))
    interpolation = str(rng.choice(["linear", "lower", "higher", "midpoint", "nearest"]))

    def program(lib):
        x = _leaf(lib, values, dtype)
        leaves = [x]
        if name.startswith("unique"):
            # PyTorch's unique of a tensor that requires grad gives outputs that require grad
            # and a backward that raises NotImplementedError; chainrule's do not require grad
            x = x.detach()
        if name == "sort":
            out = tuple(x.sort(dim=dim, descending=descending, stable=stable))
        elif name == "argsort":
            out = (x.argsort(dim=dim, descending=descending, stable=True),)
        elif name == "topk":
            out = tuple(x.topk(k, dim=dim, largest=descending, sorted=True))
        elif name == "kthvalue":
            out = tuple(x.kthvalue(max(k, 1), dim=dim, keepdim=flags[0]))
        elif name == "msort":
            out = (lib.msort(x),)
        elif name == "unique":
            result = lib.unique(
                x, sorted=True, return_inverse=flags[0], return_counts=flags[1],
                dim=dim if flags[2] else None,
            )  # fmt: skip
            out = result if isinstance(result, tuple) else (result,)
        elif name == "unique_consecutive":
            result = lib.unique_consecutive(x, return_inverse=flags[0], return_counts=flags[1])
            out = result if isinstance(result, tuple) else (result,)
        elif name == "searchsorted":
            sorted_sequence = lib.tensor(boundaries, dtype=x.dtype)
            out = (lib.searchsorted(sorted_sequence, x.detach(), right=flags[0]),)
        elif name == "bucketize":
            out = (lib.bucketize(x.detach(), lib.tensor(boundaries), right=flags[0]),)
        elif name == "nanmedian":
            out = tuple(x.nanmedian(dim=dim, keepdim=flags[0]))
        elif name == "mode":
            out = tuple(x.mode(dim=dim, keepdim=flags[0]))
        elif name == "median_dim":
            out = tuple(x.median(dim=dim, keepdim=flags[0]))
        elif name == "max_dim":
            out = tuple(x.max(dim=dim, keepdim=flags[0]))
        elif name in ("quantile", "nanquantile"):
            function = getattr(lib, name)
            out = (function(x, q, dim=dim, keepdim=flags[0], interpolation=interpolation),)
        elif name == "histc":
            out = (lib.histc(x.detach(), bins=4, min=-2, max=2),)
        elif name == "bincount":
            counts = (x.detach().nan_to_num(0) + 2).to(lib.int64).reshape(-1)
            out = (lib.bincount(counts, minlength=k),)
        else:
            out = tuple(lib.cummax(x, dim))
        return _with_gradients(lib, out, leaves, seed)

    label = (
        f"{name}(x{shape} {dtype}, dim={dim}, descending={descending}, stable={stable}, k={k}, "
        f"flags={flags}, boundaries={boundaries}, q={q}, {interpolation})"
    )
    return label, program


# ---- family: Python numbers beside tensors, beyond the binary operators ------------------

NUMBER_OPS = ["full", "arange", "where_numbers", "clamp_numbers", "add_alpha", "sub_alpha",
              "remainder", "fmod", "bitwise_and", "bitwise_or", "eq", "lt", "maximum_0d",
              "lerp_number", "xlogy", "copysign", "true_divide", "floor_divide", "pow_number",
              "rsub", "heaviside_0d", "nan_to_num", "fill_diagonal_", "masked_fill_number",
              "float_power", "ldexp", "logaddexp_0d", "hypot_0d"]  # fmt: skip
NUMBERS = [0, 1, -2, 2.5, -0.5, True, False, 1 + 2j, 3.0, 1e10]


def _draw_numbers(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(NUMBER_OPS))
    a, b = (NUMBERS[int(i)] for i in rng.integers(0, len(NUMBERS), 2))
    dtype = str(rng.choice(["float32", "float64", "float16", "int64", "int32", "uint8", "bool",
                            "complex64", "int8"]))  # fmt: skip
    values = rng.integers(-3, 4, (2, 3))
    if name == "arange" and 1e10 in (a, b):
        a, b = 2.5, 0.5  # (ten billion elements: MemoryError here, RuntimeError there)
    if name == "pow_number" and a == 1e10:
        # (the derivative's x ** (1e10 - 1): PyTorch rounds the exponent in double, NumPy in
        # float32, so the sign of -2 ** it differs)
        a = 3.0
    if name in ("ldexp", "logaddexp_0d"):
        # chainrule has no complex ldexp / logaddexp yet; PyTorch's logaddexp with a bool
        # 0-d tensor fails in its own subtraction
        dtype = "float64" if dtype == "complex64" else dtype
        a = 2.5 if isinstance(a, (bool, complex)) else a
    # PyTorch has no derivative for heaviside and floor_divide (its backward raises)
    differentiable = name not in ("heaviside_0d", "floor_divide")

    def program(lib):
        x = _mixed_tensor(lib, dtype, values, requires_grad=differentiable)
        zero_dim = lib.tensor(a)
        if name == "full":
            out = lib.full((2, 2), a)
        elif name == "arange":
            out = lib.arange(a, 6, b if b not in (0, False) else 1)
        elif name == "where_numbers":
            out = lib.where(x > 0, a, b)
        elif name == "clamp_numbers":
            out = lib.clamp(x, min=a, max=b)
        elif name in ("add_alpha", "sub_alpha"):
            out = getattr(lib, name[:3])(x, x, alpha=a)
        elif name in ("maximum_0d", "heaviside_0d", "logaddexp_0d", "hypot_0d"):
            out = getattr(lib, name[:-3])(x, zero_dim)
        elif name == "lerp_number":
            out = lib.lerp(x, x * 2, a)
        elif name == "pow_number":
            out = lib.pow(x, a)
        elif name == "rsub":
            out = a - x
        elif name == "nan_to_num":
            out = lib.nan_to_num(x, nan=a, posinf=b)
        elif name == "fill_diagonal_":
            out = x.clone().fill_diagonal_(a)
        elif name == "masked_fill_number":
            out = x.masked_fill(x > 0, a)
        elif name == "ldexp":
            out = lib.ldexp(x, lib.tensor(2))
        else:
            out = getattr(lib, name)(x, a)
        return _with_gradients(lib, (out,), [x], seed)

    return f"{name}(x {dtype}, {a!r}, {b!r})", program


# ---- fixed programs: what earlier fuzz rounds found, kept as regressions ------------------


def _norm_with(name: str, input_dtype: str, weight_dtype: str, bias_dtype: str | None):
    def program(lib):
        F = lib.nn.functional
        x = lib.tensor(np.arange(12.0).reshape(2, 6) / 7, dtype=getattr(lib, input_dtype))
        x.requires_grad_()
        weight = lib.linspace(0.5, 1.5, 6, dtype=getattr(lib, weight_dtype), requires_grad=True)
        bias = None if bias_dtype is None else lib.ones(6, dtype=getattr(lib, bias_dtype))
        if name == "layer_norm":
            out = F.layer_norm(x, (6,), weight, bias)
        elif name == "group_norm":
            out = F.group_norm(x.reshape(2, 6, 1), 2, weight, bias)
        else:
            stats = (lib.zeros(6, dtype=weight.dtype), lib.ones(6, dtype=weight.dtype))
            out = F.batch_norm(x, *stats, weight, bias, training=True)
        # (a half input's weight gradient is left out: PyTorch's differs from a float32
        # computation by half-precision rounding of its own)
        leaves = [x, weight] if input_dtype in FLOATS else [x]
        return _with_gradients(lib, (out,), leaves, 0)

    return program


def _bce(logits: bool, input_dtype: str, target_dtype: str, weight_dtype: str | None):
    def program(lib):
        F = lib.nn.functional
        x = lib.tensor([0.2, 0.7, 0.9], dtype=getattr(lib, input_dtype), requires_grad=True)
        target = lib.tensor([0, 1, 1]).to(getattr(lib, target_dtype))
        weight = None if weight_dtype is None else lib.tensor([0.5, 1.0, 2.0])
        weight = weight if weight is None else weight.to(getattr(lib, weight_dtype))
        loss = F.binary_cross_entropy_with_logits if logits else F.binary_cross_entropy
        return _with_gradients(lib, (loss(x, target, weight, reduction="none"),), [x], 0)

    return program


def _class_target(name: str, target_dtype: str):
    def program(lib):
        loss = getattr(lib.nn.functional, name)
        target = lib.tensor([0, 2]).to(getattr(lib, target_dtype))
        return (loss(lib.zeros(2, 3, requires_grad=True), target),)

    return program


def _conv_of(name: str, dtype: str, bias: bool):
    def program(lib):
        F = lib.nn.functional
        kind = getattr(lib, dtype)
        dims = int(name[-2])
        x = lib.arange(2 * 4**dims).reshape((1, 2) + (4,) * dims).to(kind) % 5 - 2
        if name.startswith("conv_transpose"):
            weight = lib.ones((2, 1) + (2,) * dims, dtype=kind)
        else:
            weight = lib.ones((1, 2) + (2,) * dims, dtype=kind)
        return (getattr(F, name)(x, weight, lib.tensor([3]).to(kind) if bias else None),)

    return program


def _pool_of(dims: int, dtype: str, **options):
    def program(lib):
        x = lib.tensor(np.arange(-7, 2 * 5**dims - 7).reshape((1, 2) + (5,) * dims))
        pool = getattr(lib.nn.functional, f"avg_pool{dims}d")
        return (pool(x.to(getattr(lib, dtype)), 3, **options),)

    return program


def _pow_of(base, exponent):
    def operand(lib, value):
        if isinstance(value, str):  # a tensor of those values: "b" bool, "c" complex, "i" int
            kind, values = value[0], eval(value[1:])  # noqa: S307 - literals of this file
            dtype = {"b": lib.bool, "c": lib.complex64, "i": lib.int64, "f": lib.float32}[kind]
            return lib.tensor(values, dtype=dtype)
        return value

    return lambda lib: (lib.pow(operand(lib, base), operand(lib, exponent)),)


def _in_place_view_node(method: str, *args):
    def program(lib):
        x = lib.ones(1, 3, requires_grad=True)
        y = x * 2
        y.retain_grad()
        getattr(y, method)(*args)
        (y * lib.arange(1.0, 4.0).reshape(y.shape)).sum().backward()
        return (y.grad_fn.name(), y.retains_grad, y.grad, y._version, x.grad)

    return program


def _embedding_padding(padding_idx: int, module: bool):
    def program(lib):
        if module:
            return (lib.nn.Embedding(3, 2, padding_idx=padding_idx).padding_idx,)
        weight = lib.arange(6.0).reshape(3, 2)
        return (lib.nn.functional.embedding(lib.tensor([0, 2]), weight, padding_idx=padding_idx),)

    return program


def _saved_output_written_later(through_view: bool):
    def program(lib):
        x = lib.tensor([[0.5, -1.0], [2.0, 1.0]], dtype=lib.float64, requires_grad=True)
        y = x * 1.0
        target = y[1] if through_view else y
        target.exp_()  # saves its output, which is `target`
        y.mul_(2)
        y.sum().backward()
        return (x.grad,)

    return program


def _stale_split_view(lib):
    x = lib.ones(3, 4, dtype=lib.float64, requires_grad=True)
    base = x * 1.0
    first, _ = base.split(2, dim=1)
    with lib.no_grad():
        base.mul_(2)
    return (first.requires_grad, (first * 2).sum())


REGRESSIONS = {
    # dtype promotion of the norms' parameters (PyTorch's CPU rule) and of BCE's operands
    "layer_norm_half_input_float_parameters": _norm_with("layer_norm", "float16", "float32", None),
    "layer_norm_float_input_double_weight": _norm_with("layer_norm", "float32", "float64", None),
    "layer_norm_double_input_float_weight": _norm_with("layer_norm", "float64", "float32", None),
    "layer_norm_weight_and_bias_differ": _norm_with("layer_norm", "float16", "float16", "float32"),
    "group_norm_bfloat16_input_float_parameters": _norm_with(
        "group_norm", "bfloat16", "float32", "float32"
    ),
    "batch_norm_half_input_float_parameters": _norm_with(
        "batch_norm", "float16", "float32", "float32"
    ),
    "batch_norm_float_input_half_weight": _norm_with("batch_norm", "float32", "float16", None),
    "bce_target_of_another_dtype": _bce(False, "float32", "float64", None),
    "bce_weight_of_another_dtype": _bce(False, "float32", "float32", "float64"),
    "bce_integer_target": _bce(False, "float32", "int64", None),
    "bce_logits_result_in_target_dtype": _bce(True, "float64", "float32", None),
    "bce_logits_half_target": _bce(True, "float32", "float16", "float64"),
    "bce_logits_integer_target": _bce(True, "float32", "int64", None),
    "cross_entropy_int32_target": _class_target("cross_entropy", "int32"),
    "cross_entropy_uint8_target": _class_target("cross_entropy", "uint8"),
    "nll_loss_int16_target": _class_target("nll_loss", "int16"),
    # tensor() of tensors: one-element ones are numbers, longer ones refused
    "tensor_of_zero_dim_tensors": lambda lib: (lib.tensor([lib.tensor(1.0), lib.tensor(2.0)]),),
    "tensor_of_one_element_tensors": lambda lib: (
        lib.tensor([lib.tensor([1.0]), lib.tensor([[3.0]])]),
    ),
    "tensor_of_longer_tensors": lambda lib: (lib.tensor([lib.ones(2), lib.ones(2)]),),
    "tensor_nested_with_tensors": lambda lib: (
        lib.tensor([[lib.tensor(1, dtype=lib.int32), 2.5], [3, lib.tensor([True])]]),
    ),
    # integer convolutions and int64 average pooling (truncating), PyTorch's CPU kernels
    "conv2d_int64_bias": _conv_of("conv2d", "int64", True),
    "conv1d_int8": _conv_of("conv1d", "int8", False),
    "conv3d_uint8": _conv_of("conv3d", "uint8", False),
    "conv2d_bool": _conv_of("conv2d", "bool", False),
    "conv_transpose2d_int64": _conv_of("conv_transpose2d", "int64", True),
    "conv_transpose1d_int32": _conv_of("conv_transpose1d", "int32", False),
    "conv2d_int_input_float_weight": lambda lib: (
        lib.nn.functional.conv2d(lib.ones(1, 1, 3, 3, dtype=lib.int64), lib.ones(1, 1, 2, 2)),
    ),
    "avg_pool1d_int64_truncates": _pool_of(1, "int64", stride=2, padding=1, ceil_mode=True),
    "avg_pool2d_int64_divisor": _pool_of(2, "int64", divisor_override=4),
    "avg_pool3d_int64_no_pad_count": _pool_of(3, "int64", padding=1, count_include_pad=False),
    "avg_pool2d_int32": _pool_of(2, "int32"),
    # bool and complex powers
    "bool_tensor_to_true": _pow_of("b[True, False]", True),
    "bool_tensor_to_false": _pow_of("b[True, False]", False),
    "bool_tensor_to_bool_tensor": _pow_of("b[True, False]", "b[True, True]"),
    "true_to_bool_tensor": _pow_of(True, "b[True, False]"),
    "bool_tensor_to_minus_one": _pow_of("b[True, False]", -1),
    "int_tensor_to_minus_one": _pow_of("i[2, 3]", -1),
    "complex_zero_to_zero_tensor": _pow_of("c[0j, 1 + 1j]", "c[0j, 0j]"),
    "complex_zero_to_zero_number": _pow_of("c[0j, 1 + 1j]", 0),
    "zero_to_complex_zero": _pow_of(0, "c[0j, 1j]"),
    "complex_zero_to_negative": _pow_of("c[0j, 0j]", "c[-1 + 0j, -1 + 1j]"),
    "complex_zero_to_negative_number": _pow_of("c[0j]", -1 + 0j),
    "real_zero_to_complex_exponent": _pow_of("f[0.0, 0.0]", "c[0j, 1 + 0j]"),
    # in-place view ops: node names, and retain_grad staying with the old node
    "unsqueeze_retains_grad": _in_place_view_node("unsqueeze_", 0),
    "squeeze_dim_retains_grad": _in_place_view_node("squeeze_", 0),
    "squeeze_all_node_name": _in_place_view_node("squeeze_"),
    "transpose_node_name": _in_place_view_node("transpose_", 0, 1),
    "t_node_name": _in_place_view_node("t_"),
    # embedding's out-of-range padding_idx: an AssertionError, as PyTorch's Python assert
    "embedding_padding_idx_past_the_end": _embedding_padding(3, False),
    "embedding_padding_idx_below": _embedding_padding(-4, False),
    "embedding_padding_idx_negative": _embedding_padding(-3, False),
    "Embedding_padding_idx_past_the_end": _embedding_padding(5, True),
    # a saved output written in place later, and a stale view returned with others
    "exp_output_written_later": _saved_output_written_later(False),
    "exp_output_written_through_base": _saved_output_written_later(True),
    "split_view_of_a_base_written_in_place": _stale_split_view,
    # found by this file's draws outside the seeds the suite runs
    "clamp_without_bounds": lambda lib: (lib.clamp(lib.ones(2)),),
    "clamp_zero_dim_tensor_beside_number": lambda lib: (
        lib.clamp(lib.tensor([True, False]), lib.tensor(0.5, dtype=lib.float64), 2.0),
    ),
    "reflection_pad_to_nothing": lambda lib: (
        lib.nn.functional.pad(lib.ones(1, 2, 2), (0, -2), mode="reflect"),
    ),
    "replication_pad_one_dimension_to_nothing": lambda lib: (
        lib.nn.functional.pad(lib.ones(1, 2, 2, 4), (-1, -1, -2, 0), mode="replicate"),
    ),
    "cumsum_integer_dtype_of_grad_input": lambda lib: (
        lib.ones(3, requires_grad=True).cumsum(0, dtype=lib.int64),
    ),
    "sum_integer_dtype_of_grad_input": lambda lib: (
        lib.ones(3, requires_grad=True).sum(dtype=lib.int32),
    ),
    "all_of_zero_dim_over_dim_zero": lambda lib: (lib.tensor(2.0).all(0, keepdim=True),),
    "any_of_zero_dim_over_dims": lambda lib: (lib.tensor(0.0).any((-1,)),),
    "index_out_of_range_beside_an_empty_index": lambda lib: (
        lib.arange(6.0).reshape(1, 3, 2)[..., lib.tensor([], dtype=lib.int64), [-5]],
    ),
    "index_out_of_range_beside_a_nonempty_index": lambda lib: (
        lib.arange(6.0).reshape(1, 3, 2)[..., lib.tensor([0]), [-5]],
    ),
    "amax_over_empty_and_repeated_dims": lambda lib: (lib.zeros(0, 3).amax((0, -2)),),
    "amax_over_repeated_dims": lambda lib: (lib.zeros(2, 3).amax((0, -2)),),
    # operands of mixed dtypes (the "mixed" family)
    "index_put_of_another_dtype": lambda lib: (
        lib.zeros(2).index_put((lib.tensor([0]),), lib.tensor(1.0, dtype=lib.float64)),
    ),
    "index_put_accumulating_another_dtype": lambda lib: (
        lib.zeros(2).index_put_((lib.tensor([0]),), lib.tensor([1]), accumulate=True),
    ),
    "setitem_zero_dim_of_another_dtype": lambda lib: _set(
        lib.zeros(2), lib.tensor([0]), lib.tensor(1.0, dtype=lib.float64)
    ),
    "put_of_another_dtype": lambda lib: (
        lib.zeros(2).put(lib.tensor([0]), lib.tensor([1.0], dtype=lib.float64)),
    ),
    "masked_scatter_of_another_dtype": lambda lib: (
        lib.zeros(2).masked_scatter(lib.tensor([True, False]), lib.ones(2, dtype=lib.float64)),
    ),
    "index_copy_of_another_dtype": lambda lib: (
        lib.zeros(2).index_copy(0, lib.tensor([0]), lib.ones(1, dtype=lib.float64)),
    ),
    "index_fill_complex_number": lambda lib: (lib.zeros(2).index_fill(0, lib.tensor([0]), 1j),),
    "index_fill_negative_into_uint8": lambda lib: (
        lib.zeros(2, dtype=lib.uint8).index_fill(0, lib.tensor([0]), -1.5),
    ),
    "index_fill_complex_tensor": lambda lib: (
        lib.zeros(2).index_fill(0, lib.tensor([0]), lib.tensor(1j)),
    ),
    "masked_fill_complex_number": lambda lib: (
        lib.zeros(2).masked_fill(lib.tensor([True, False]), 1j),
    ),
    "masked_fill_tensor_beyond_uint8": lambda lib: (
        lib.zeros(2, dtype=lib.uint8).masked_fill(lib.tensor([True, False]), lib.tensor(-2.5)),
    ),
    "addcmul_bool_factors_of_int32": lambda lib: (
        lib.addcmul(
            lib.ones(2, dtype=lib.int32),
            lib.tensor([True, False]),
            lib.tensor([True, True]),
            value=2,
        ),
    ),
    "addcmul_complex_value_of_float": lambda lib: (
        lib.addcmul(lib.ones(2), lib.ones(2), lib.ones(2), value=1j),
    ),
    "backward_of_a_complex_scalar": lambda lib: _backward_of(
        (lib.ones(2, dtype=lib.complex64, requires_grad=True) * 2).sum()
    ),
    # Python numbers beside tensors (the "numbers" family)
    "add_bool_alpha_to_floats": lambda lib: (lib.add(lib.ones(2), lib.ones(2), alpha=True),),
    "add_bool_alpha_to_bools": lambda lib: (
        lib.add(lib.tensor([True, False]), lib.tensor([True, True]), alpha=True),
    ),
    "sub_alpha_beyond_float16": lambda lib: (
        lib.sub(lib.ones(2, dtype=lib.float16), lib.ones(2, dtype=lib.float16), alpha=1e10),
    ),
    "add_complex_alpha_to_uint8": lambda lib: (
        lib.add(lib.ones(2, dtype=lib.uint8), lib.ones(2, dtype=lib.uint8), alpha=1j),
    ),
    "float_power_of_complex_tensor": lambda lib: (
        lib.float_power(lib.tensor([1 + 1j, -2.0], dtype=lib.complex64), -0.5),
    ),
    "float_power_to_complex_number": lambda lib: (lib.float_power(lib.tensor([2, 3]), 1 + 2j),),
    "fill_diagonal_complex_into_int": lambda lib: (
        lib.zeros(2, 2, dtype=lib.int64).fill_diagonal_(1 + 2j),
    ),
    "fill_diagonal_beyond_int32": lambda lib: (
        lib.zeros(2, 2, dtype=lib.int32).fill_diagonal_(1e10),
    ),
    "clamp_to_complex_number": lambda lib: (lib.clamp(lib.ones(2), min=0, max=1 + 2j),),
    "nan_to_num_complex_value": lambda lib: (lib.nan_to_num(lib.ones(2, dtype=lib.int32), 1j),),
    "arange_to_complex_end": lambda lib: (lib.arange(0, 1 + 2j),),
    "lerp_complex_weight_of_floats": lambda lib: (lib.lerp(lib.ones(2), lib.zeros(2), 1j),),
    "float16_to_ten_billion": lambda lib: (lib.pow(lib.ones(2, dtype=lib.float16), 1e10),),
}


def _set(tensor, key, value):
    tensor[key] = value
    return (tensor,)


def _backward_of(loss):
    loss.backward()
    return (loss,)


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_a_program_an_earlier_round_found_agrees_with_pytorch(name):
    check_program(name, REGRESSIONS[name])


# ---- the tests -------------------------------------------------------------------------------


FAMILIES = {
    "indexing": (_draw_indexing, 150),
    "scatter": (_draw_scatter, 150),
    "reduction": (_draw_reduction, 150),
    "inplace_view": (_draw_inplace_view, 120),
    "where_clamp": (_draw_where_clamp, 100),
    "einsum": (_draw_einsum, 100),
    "unfold": (_draw_unfold, 80),
    "cumulative": (_draw_cumulative, 100),
    "resize": (_draw_resize, 100),
    "mixed": (_draw_mixed, 150),
    "order": (_draw_order, 150),
    "numbers": (_draw_numbers, 150),
}


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_family_case(FAMILIES, family, seed)


if __name__ == "__main__":
    main(FAMILIES, sys.argv)
