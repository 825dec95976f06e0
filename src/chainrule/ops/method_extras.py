# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""The Tensor methods that are more than one line into an existing op: renorm_ and
fill_diagonal (exact compositions, so their derivatives are the ops'), the random fills
(exponential_, geometric_, log_normal_, cauchy_, random_: each a transform of chainrule's own
uniform or normal draws, with PyTorch's parameters, dtype rules and errors, not its bits) and
the in-place shape changes (squeeze_, t_, as_strided_, resize_ ...). Methods that are a
top-level function's twin (renorm, svd, qr, lu, gcd ...) are bound to that function in
ops/tensor_methods.py.

Tensor binds them in ops/tensor_methods.py; none is a top-level function here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from chainrule._tensor import Tensor
from chainrule.autograd import grad_mode
from chainrule.autograd.forward_ad import copy_tangents
from chainrule.backend import dtypes
from chainrule.errors import DTypeError, GradError
from chainrule.ops import composites, conversion, creation, elementwise
from chainrule.ops.arguments import normalize_size
from chainrule.ops.op import named

if TYPE_CHECKING:  # annotations only
    from chainrule.ops.creation import Generator


# ---- what a chainrule tensor never is ---------------------------------------------------


def never(tensor: Tensor) -> bool:
    """False: what a chainrule tensor never is (sparse, quantized, on an XLA device ...)."""
    return False


# ---- exact compositions ----------------------------------------------------------------------


def renorm_of_copy(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """renorm of a copy of input, for renorm_: more than one of renorm's ops saves its input,
    and the in-place write keeps the old contents only for the last one."""
    return composites.renorm(conversion.clone(input), p, dim, maxnorm)


def fill_diagonal(input: Tensor, fill_value: float | int | bool, wrap: bool = False) -> Tensor:
    """A copy of input with its main diagonal (i, i, ..., i) set to `fill_value`; for a tall
    matrix with wrap=True the diagonal starts again N + 1 rows below, as torch's fill_diagonal_.
    The written elements get no gradient; the others pass theirs through."""
    if isinstance(fill_value, Tensor):
        raise TypeError(
            "fill_diagonal_(): argument 'fill_value' (position 1) must be Number, not Tensor"
        )
    if input.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    fill_value = creation.checked_fill("fill_diagonal_", fill_value, input.dtype)
    sizes = tuple(input.shape)
    if input.ndim > 2 and len(set(sizes)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = input._backend.xp
    count = min(sizes)
    flat_step = sum(math.prod(sizes[k + 1 :]) for k in range(input.ndim))
    numel = math.prod(sizes)
    end = numel if (wrap and input.ndim == 2) else count * flat_step
    positions = xp.arange(0, min(end, numel), flat_step, dtype=xp.int64)
    mask = xp.zeros(numel, dtype=bool)
    mask[positions] = True
    written = Tensor._from_array(mask.reshape(sizes), input._backend)
    return elementwise.where(written, fill_value, input).to(input.dtype)


# ---- random fills ----------------------------------------------------------------------------


def _continuous_only(op_name: str, distribution: str, x: Tensor) -> None:
    if not x.is_floating_point():
        name = dtypes.scalar_type_name(x.dtype)
        raise DTypeError(
            f"{op_name}: {distribution} distribution is a continuous probability distribution. "
            f"dtype must be a floating point but you specified {name}"
        )


def _real_only(op_name: str, x: Tensor) -> None:
    if x.is_complex():
        raise NotImplementedError(f"{op_name}: not implemented for {x.dtype.name} tensors")


def _draw_dtype(x: Tensor) -> dtypes.dtype:
    """The dtype the draws for x are made in: x's where that is float32 or float64, float32
    for float16 and bfloat16, float64 for integers (the transforms below need the range)."""
    if x.dtype in (dtypes.float32, dtypes.float64):
        return x.dtype
    return dtypes.float32 if x.is_floating_point() else dtypes.float64


def _uniform(x: Tensor, generator: Generator | None) -> Tensor:
    """Uniform draws on [0, 1) of x's shape and device."""
    return creation.rand_like(x, generator=generator, dtype=_draw_dtype(x))


def _fill_from(op_name: str, x: Tensor, sample: Tensor) -> Tensor:
    """Write `sample` into x in place: x's old history gets a zero gradient (PyTorch's
    ExponentialBackward and friends), and a leaf that requires grad refuses, as PyTorch's."""
    return x._inplace(op_name, elementwise.copy_from, sample.detach())


def exponential_(x: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill x with draws from Exponential(rate=lambd): -log(1 - u) / lambd."""
    _continuous_only("exponential_", "Exponential", x)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    sample = -elementwise.log1p(-_uniform(x, generator)) / lambd
    return _fill_from("exponential_", x, sample)


def geometric_(x: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Fill x with the number of Bernoulli(p) trials up to the first success (1, 2, ...):
    floor(log(v) / log(1 - p)) + 1 for v uniform on (0, 1]."""
    _real_only("geometric_", x)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    v = 1 - _uniform(x, generator)
    sample = elementwise.floor(elementwise.log(v) / math.log1p(-p)) + 1
    return _fill_from("geometric_", x, sample)


def log_normal_(
    x: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill x with exp(N(mean, std**2)) draws (mean and std are the underlying normal's)."""
    _real_only("log_normal_", x)
    if not x.is_floating_point():
        raise NotImplementedError(f"log_normal_: not implemented for {x.dtype.name} tensors")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    normal = creation.randn_like(x, generator=generator, dtype=_draw_dtype(x))
    return _fill_from("log_normal_", x, elementwise.exp(normal * std + mean))


def cauchy_(
    x: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill x with Cauchy(median, sigma) draws: median + sigma * tan(pi * (u - 1/2))."""
    _continuous_only("cauchy_", "Cauchy", x)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    sample = elementwise.tan(math.pi * (_uniform(x, generator) - 0.5)) * sigma + median
    return _fill_from("cauchy_", x, sample)


# Where random_() with no bounds stops: every integer a float dtype holds exactly (2 ** its
# significand's digits, inclusive), an integer dtype's largest value.
_FLOAT_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
_INT_RANGES = {
    "bool": (0, 1),
    "uint8": (0, 255),
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}


def random_(
    x: Tensor,
    low: int | None = None,
    high: int | None = None,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """Fill x with integers drawn uniformly: random_() from [0, the largest integer x's dtype
    holds exactly], random_(to) from [0, to), random_(from, to) from [from, to)."""
    _real_only("random_", x)
    if low is not None and high is None:
        low, high = 0, low
    if low is None:
        low = 0
    name = x.dtype.name
    largest = 2 ** _FLOAT_DIGITS[name] if name in _FLOAT_DIGITS else _INT_RANGES[name][1]
    if high is None:
        high = largest + 1
    elif low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    creation.check_random_bounds(low, high, x.dtype)
    sample = creation.randint(
        low, high, tuple(x.shape), generator=generator, dtype=dtypes.int64, device=x.device
    )
    return _fill_from("random_", x, sample)


# ---- shape changes in place --------------------------------------------------------------


def restride_(op_name: str, x: Tensor, view: Callable[..., Tensor], *args: Any) -> Tensor:
    """x becomes `view(x, *args)` in place (squeeze_, t_, as_strided_ ...): the same memory
    under a new shape and strides, and, where recorded, that view's history, as PyTorch's
    in-place view ops. The version counter moves on, as for any in-place op."""
    recording = x._check_inplace(op_name)
    # A graph tensor reshaped under no_grad keeps a history of its new shape (PyTorch's engine
    # sums the old history's gradient to shape instead), so backward still fits.
    keep_history = recording or (x._node is not None and x._requires_grad)
    with grad_mode.set_grad_enabled(keep_history):
        result = view(x, *args)
    x._array = result._array
    if keep_history and result._requires_grad:
        if x.retains_grad:
            # PyTorch leaves the retain_grad hook where it was: `.grad` is still filled, in
            # the old shape, and retains_grad stays True.
            x._extra = {**(x._extra or {}), "retained_before_restride": True}
        x._node = result._node
        x._output_nr = result._output_nr
        x._requires_grad = True
        x._edge = None
        if recording and result._node is not None:
            named(x, _in_place_view_name(result._node.name()))
    copy_tangents(result, x)
    x._version_counter.value += 1
    if x._base is not None:
        x._view_version = x._version_counter.value  # its new layout is current, not stale
    return x


def _in_place_view_name(name: str) -> str:
    """PyTorch's node name for an in-place view op, numbered after the out-of-place forms:
    unsqueeze_ is UnsqueezeBackward1, squeeze_(dim) SqueezeBackward4 (three squeeze forms)."""
    stem = name.rstrip("0123456789")
    number = int(name[len(stem) :] or 0)
    return f"{stem}{number + (3 if stem == 'SqueezeBackward' else 1)}"


def set_(
    x: Tensor,
    source: Tensor | None = None,
    storage_offset: int = 0,
    size: Sequence[int] | None = None,
    stride: Sequence[int] | None = None,
) -> Tensor:
    """x takes `source`'s memory, shape and strides in place, with no copy (a write through
    either shows in both), or with no source becomes an empty 1-d tensor: PyTorch's set_,
    which also refuses a leaf that requires grad in grad mode and a source of another dtype
    (and has no derivative: a source that requires grad is refused in grad mode).
    `size` (with `stride`, default row-major, and `storage_offset`) views source's memory
    instead. x counts one write; its version counter stays its own, as PyTorch's."""
    if x._requires_grad and grad_mode.is_grad_enabled():
        if x._node is None:
            raise GradError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        raise GradError("set_: a tensor that is part of a graph cannot take other memory")
    if source is None:
        array = x._backend.xp.empty((0,), dtype=x._array.dtype)
        backend = x._backend
    else:
        if not isinstance(source, Tensor):
            raise TypeError(f"set_: expected a Tensor source, got {type(source).__name__}")
        if source._requires_grad and grad_mode.is_grad_enabled():
            # PyTorch records a node whose backward raises this; here it is refused at once
            raise GradError("derivative for set_ is not implemented")
        if source.dtype != x.dtype:
            raise DTypeError(
                f"Could not set tensor of type {source.dtype.name} to a tensor of type "
                f"{x.dtype.name}"
            )
        backend = source._backend
        array = source._array
        if size is not None:
            shape = normalize_size(tuple(size))
            steps = tuple(stride) if stride is not None else _row_major_strides(shape)
            with grad_mode.no_grad():
                array = source.as_strided(shape, steps, storage_offset)._array
    x._array = array
    x._backend = backend
    x._version_counter.value += 1
    return x


def _row_major_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for extent in reversed(shape):
        strides.append(step)
        step *= max(extent, 1)
    return tuple(reversed(strides))


def resize_(x: Tensor, sizes: Sequence[int]) -> Tensor:
    """x's shape becomes `sizes`, in place: the first elements keep their values (row-major);
    elements past the old ones are uninitialised, as torch's resize_. Not for tensors that
    require grad."""
    if x.requires_grad:
        raise GradError("cannot resize variables that require grad")
    size = normalize_size(tuple(sizes))
    if any(s < 0 for s in size):
        raise RuntimeError(f"resize_: Trying to create tensor with negative dimension: {size}")
    if size == tuple(x._array.shape):
        return x  # nothing to do: PyTorch neither copies nor counts a version
    xp = x._backend.xp
    count = math.prod(size)
    old = xp.ascontiguousarray(x._array).reshape(-1)
    if count <= old.size and x._array.flags.c_contiguous:
        array = x._array.reshape(-1)[:count].reshape(size)
    else:
        array = xp.empty(count, dtype=x._array.dtype)
        kept = min(count, old.size)
        array[:kept] = old[:kept]
        array = array.reshape(size)
    x._array = array
    x._version_counter.value += 1
    return x


# ---- aliases -----------------------------------------------------------------------------


def alias_as(tensor: Tensor, cls: type) -> Tensor:
    """A new Tensor object of class `cls` for `tensor`'s memory and place in the graph: the
    same array, version counter, node and tangent; a leaf's alias sends its gradient to the
    leaf (they share its gradient edge)."""
    alias = object.__new__(cls)
    alias._array = tensor._array
    alias._backend = tensor._backend
    alias._requires_grad = tensor._requires_grad
    alias._grad = None
    alias._node = tensor._node
    alias._output_nr = tensor._output_nr
    alias._version_counter = tensor._version_counter
    alias._base = tensor._base
    if tensor._base is not None:
        alias._view_version = tensor._view_version
        alias._view_kind = tensor._view_kind
    alias._extra = tensor._extra
    leaf_in_graph = tensor._node is None and tensor._requires_grad
    alias._edge = tensor._gradient_edge() if leaf_in_graph else None
    return alias


def as_subclass(tensor: Tensor, cls: type) -> Tensor:
    """`tensor` as an instance of the Tensor subclass `cls`: the same memory and place in the
    graph (gradients reach `tensor`'s history), as torch's Tensor.as_subclass."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(
            "Creating a Tensor subclass from a class that does not inherit from Tensor is not "
            "possible. Make sure your class inherits from Tensor."
        )
    return alias_as(tensor, cls)
