"""Dtypes between ops: PyTorch's type promotion (`result_type`), and the two copies every family
needs first, `Cast` (`x.to(dtype)`) and `Clone`. They sit right above the Op base, below shape
and the rest.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

from chainrule._tensor import Tensor, raise_inference_write
from chainrule.autograd import grad_mode
from chainrule.autograd.node import InferenceVersionCounter, Node
from chainrule.backend import Array, dtypes, is_array
from chainrule.backend.dtypes import from_numpy_dtype, promote_types
from chainrule.backend.formats import (
    CHANNELS_LAST_SPATIAL,
    channels_last,
    channels_last_3d,
    channels_last_order,
    contiguous_format,
    preserve_format,
)
from chainrule.errors import DTypeError, GradError, ShapeError, warn_once
from chainrule.ops.arguments import Number, return_type
from chainrule.ops.op import (
    Op,
    apply,
    elementwise_batch,
    empty_in_layout,
    is_plainly_row_major,
    keeps_order,
    suggests_channels_last,
    unary_elementwise_jvp,
)

# ---- promotion -------------------------------------------------------------------------------


def _scalar_dtype(value: Any) -> dtypes.dtype:
    return dtypes.default_for_category(dtypes.category_of_scalar(value))


def result_type(*operands: Tensor | Number) -> dtypes.dtype:
    """PyTorch's result type: dimensioned tensors, then 0-dim tensors, then Python scalars, each
    tier only able to raise the category (bool < integer < floating < complex) of the one
    before.

    Args:
        operands (Tensor or number...): the operands of a would-be operation.

    Returns:
        dtype: the dtype the operation's result would have.

    Example:
        >>> import chainrule
        >>> chainrule.result_type(chainrule.tensor([1, 2]), 1.0)
        chainrule.float32
        >>> scalar = chainrule.tensor(1, dtype=chainrule.float64)
        >>> chainrule.result_type(chainrule.tensor([1.0]), scalar)  # a 0-dim tensor cannot widen
        chainrule.float32
    """
    tiers: list[dtypes.dtype | None] = [None, None, None]
    for value in operands:
        if isinstance(value, Tensor):
            tier, dtype = (0 if value._array.ndim else 1), value.dtype
        elif is_array(value):
            tier, dtype = (0 if value.ndim else 1), dtypes.from_numpy_dtype(value.dtype)
        elif hasattr(value, "dtype") and hasattr(value, "item"):  # a NumPy scalar
            tier, dtype = 2, _scalar_dtype(value.item())
        else:
            tier, dtype = 2, _scalar_dtype(value)
        current = tiers[tier]
        tiers[tier] = dtype if current is None else promote_types(current, dtype)
    return _combine(tiers[0], _combine(tiers[1], tiers[2]))


def _combine(higher: dtypes.dtype | None, lower: dtypes.dtype | None) -> dtypes.dtype | None:
    if higher is None:
        return lower
    if lower is None:
        return higher
    if lower.category == dtypes.COMPLEX and higher.category == dtypes.FLOATING:
        return dtypes.complex_of(higher)  # float32 tensor * 1j: complex64, whatever the default
    if higher.category >= dtypes.FLOATING:
        return higher
    if higher.category == dtypes.BOOL or lower.category > higher.category:
        return promote_types(higher, lower)
    return higher


# ---- dtype conversion and copies -------------------------------------------------------------


def real_part_for(x: Array, dtype: Any) -> Array:
    """x, or its real part where complex x is going to a real dtype other than bool (1j is
    True), with PyTorch's UserWarning once per process (NumPy's own cast would warn a
    ComplexWarning each time, or nothing)."""
    if x.dtype.kind == "c" and dtype.kind not in "cb":
        warn_once("Casting complex values to real discards the imaginary part", UserWarning)
        return x.real
    return x


class Cast(Op):
    """x.to(dtype); complex to real keeps the real part, as PyTorch (which warns), and
    complex to bool asks whether either part is nonzero (1j is True). Derivative:
    the gradient cast back to x's dtype (the engine casts): the real part of a complex gradient
    for a real x."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @classmethod
    def node_name(cls) -> str:
        return "ToCopyBackward0"  # PyTorch's name

    bfloat16_native = True  # the target dtype is the point

    @staticmethod
    def forward(ctx: Node, x: Array, dtype: Any) -> Array:
        ctx.save(dtype=dtype)
        x = real_part_for(x, dtype)
        if is_plainly_row_major(x):
            return x.astype(dtype, copy=True)
        out = empty_in_layout(ctx.xp, x, dtype)  # PyTorch's `to`: empty_like, then copy_
        out[...] = x
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return cast(t, from_numpy_dtype(ctx.dtype))

    batch = elementwise_batch


def cast(x: Any, dtype: dtypes.dtype) -> Any:
    if x._array.dtype == dtype.numpy:
        return x
    return apply(Cast, (x,), dtype.numpy)


def layout_name(name: str, memory_format: object, ndim: int) -> str:
    """The Clone layout for a `memory_format` argument: "preserve" (None, preserve_format),
    "contiguous", or a channels-last name, refused for a tensor of the wrong rank."""
    if memory_format is None or memory_format is preserve_format:
        return "preserve"
    if memory_format is contiguous_format:
        return "contiguous"
    if memory_format is channels_last or memory_format is channels_last_3d:
        wanted = 4 if memory_format is channels_last else 5
        if ndim != wanted:
            raise ShapeError(
                f"{name}: required rank {wanted} tensor to use {memory_format.name} format "
                f"(got rank {ndim})"
            )
        return memory_format.name
    raise TypeError(f"{name}: memory_format must be a memory format, not {memory_format!r}")


class Clone(Op):
    """A copy in new memory, laid out as `layout` says: "preserve" is PyTorch's
    preserve_format (`empty_in_layout`: a transpose stays transposed), "contiguous"
    row-major, "channels_last" / "channels_last_3d" with the channels innermost.
    Derivative: identity."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, layout: str = "preserve") -> Array:
        if layout == "contiguous" or (layout == "preserve" and is_plainly_row_major(x)):
            return x.copy()
        if layout == "preserve" and keeps_order(x):
            return x.copy(order="K")
        if layout == "preserve":
            out = empty_in_layout(ctx.xp, x, x.dtype)
        else:
            order = channels_last_order(x.ndim, CHANNELS_LAST_SPATIAL[layout])
            memory = ctx.xp.empty(tuple(x.shape[d] for d in order), dtype=x.dtype)
            out = memory.transpose(inverse_order(order))
        out[...] = x
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


def keep_channels_last(input: Tensor, out: Tensor) -> Tensor:  # noqa: A002
    """`out` copied channels-last when `input` suggests that layout and `out` does not: what
    PyTorch's batch and group norm, average pooling, interpolation and pixel shuffle give a
    channels-last input (a copy in the graph; its gradient is the identity)."""
    array = out._array
    if array.ndim not in (4, 5) or not is_array(input._array):  # not under vmap's stand-ins
        return out
    if not suggests_channels_last(input._array):
        return out
    if suggests_channels_last(array):
        return out
    return apply(Clone, (out,), "channels_last" if array.ndim == 4 else "channels_last_3d")


def inverse_order(order: tuple[int, ...]) -> tuple[int, ...]:
    """The permutation that undoes `order`."""
    return tuple(sorted(range(len(order)), key=order.__getitem__))


def clone(input: Tensor, *, memory_format: object = None) -> Tensor:  # noqa: A002
    """A copy of `input` with its own memory that stays in the graph: the gradient flows back to
    `input` unchanged (`detach().clone()` gives a copy outside it).

    Args:
        input (Tensor): any shape.
        memory_format (optional): `preserve_format` (the default) keeps the strides of a dense
            input (`x.t().clone()` is still transposed in memory; other inputs come out dense
            in the order of their strides, as PyTorch's); `contiguous_format` gives row-major
            memory, `channels_last` (4-D) and `channels_last_3d` (5-D) the channels innermost.

    Returns:
        Tensor: a copy of `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
        >>> y = chainrule.clone(x)
        >>> y.sum().backward()
        >>> x.grad
        tensor([1., 1.])
        >>> chainrule.zeros(2, 3).t().clone().stride()
        (1, 3)
        >>> chainrule.zeros(2, 3, 4, 5).clone(memory_format=chainrule.channels_last).stride()
        (60, 1, 15, 3)
    """
    layout = layout_name("clone", memory_format, input._array.ndim)
    return apply(Clone, (input,), layout)


# ---- out= arguments --------------------------------------------------------------------------

# Which dtypes of `out` PyTorch takes for a result, by op: "cast" where the result's dtype
# casts to out's without leaving its kind (bool < integer < floating < complex: most
# arithmetic), "any" (comparisons, logical ops, sum), "same" (the ops that keep their input's
# dtype: abs, neg, where, clamp with number bounds).
OutRule = Literal["cast", "any", "same"]


def write_out(name: str, result: Tensor, out: Any, rule: OutRule = "cast") -> Tensor:
    """PyTorch's `out=` argument: write `result` into `out` (resized, with PyTorch's warning
    when `out` had elements, if its shape differs) after checking out's dtype by `rule`.
    Like PyTorch, refused when autograd would have to record the write."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: out must be a Tensor, not {type(out).__name__}")
    if (
        type(out._version_counter) is InferenceVersionCounter
        and not grad_mode._inference_mode.get()
    ):
        raise_inference_write()
    if grad_mode.is_grad_enabled() and (result._requires_grad or out._requires_grad):
        raise GradError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    if rule == "same" and result.dtype is not out.dtype:
        raise DTypeError(
            f"{name}: Found dtype {out.dtype.name} but expected {result.dtype.name} (out= must "
            "have the result's dtype)"
        )
    if rule == "cast" and result.dtype.category > out.dtype.category:
        raise DTypeError(
            f"{name}: result type {result.dtype.name} can't be cast to the desired output type "
            f"{out.dtype.name}"
        )
    if out.shape == result.shape:
        _refuse_shared_locations(name, out)
        try:
            out._backend.xp.copyto(out._array, result._array, casting="unsafe")
        except ValueError:  # a read-only view of writable memory (x.expand(2, 3)[0])
            target = out._backend.writable(out._array)
            out._backend.xp.copyto(target, result._array, casting="unsafe")
    else:
        if out._array.size:
            warnings.warn(
                f"{name}: An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape "
                f"{list(result.shape)}. This behavior is deprecated, and in a future PyTorch "
                "release outputs will not be resized unless they have zero elements. You can "
                "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                "with t.resize_(0).",
                UserWarning,
                stacklevel=3,
            )
        out._array = result._array.astype(out._array.dtype, copy=True)
    out._version_counter.value += 1
    return out


def _refuse_shared_locations(name: str, out: Tensor) -> None:
    """PyTorch refuses to write a result into an `out` two of whose elements are one memory
    location (an expanded tensor): which of the values would stay is undefined."""
    array = out._array
    if type(array) is not out._backend.array_type or not array.size:
        return
    if any(stride == 0 and size > 1 for size, stride in zip(array.shape, array.strides)):
        raise ShapeError(
            f"{name}: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location. Please clone() the tensor before performing "
            "the operation."
        )


# The C++ names PyTorch's out= dtype errors print ("Expected out tensor to have dtype float").
_C_TYPE_NAMES = {
    "float32": "float",
    "float64": "double",
    "float16": "c10::Half",
    "bfloat16": "c10::BFloat16",
    "complex64": "c10::complex<float>",
    "complex128": "c10::complex<double>",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "bool": "bool",
}


def write_outs(name: str, result: Any, out: Any) -> Any:
    """PyTorch's `out=` for the ops whose out must have each result's exact dtype (the sorts and
    selections, the linear-algebra functions): a Tensor for one result, a tuple or list of
    Tensors for a named tuple (returned as that named tuple of the `out` tensors). Everything is
    checked before the first write."""
    results = (result,) if isinstance(result, Tensor) else tuple(result)
    if isinstance(result, Tensor):
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        outs: tuple = (out,)
    else:
        if not isinstance(out, (tuple, list)) or not all(isinstance(t, Tensor) for t in out):
            raise TypeError(
                f"{name}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}"
            )
        if len(out) != len(results):
            raise TypeError(
                f"{name}(): argument 'out' must be a tuple of {len(results)} Tensors, "
                f"got {len(out)}"
            )
        outs = tuple(out)
    if grad_mode.is_grad_enabled() and any(
        t._requires_grad for t in (*results, *outs) if isinstance(t, Tensor)
    ):
        raise GradError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    for value, target in zip(results, outs):
        if value.dtype is not target.dtype:
            expected = _C_TYPE_NAMES.get(value.dtype.name, value.dtype.name)
            found = _C_TYPE_NAMES.get(target.dtype.name, target.dtype.name)
            raise DTypeError(
                f"{name}: Expected out tensor to have dtype {expected}, but got {found} instead"
            )
    for value, target in zip(results, outs):
        if value.shape == target.shape:
            _refuse_shared_locations(name, target)
    for value, target in zip(results, outs):
        write_out(name, value, target, "any")
    if isinstance(result, Tensor):
        return out
    return _out_type(type(result))(*outs)


_OUT_TYPES: dict[type, type] = {}


def _out_type(result_type: type) -> type:
    """PyTorch's named tuple for an out= call: `return_types.sort_out` beside `sort`."""
    out_type = _OUT_TYPES.get(result_type)
    if out_type is None:
        name = result_type.__qualname__.removeprefix("return_types.") + "_out"
        out_type = return_type(name, result_type._fields)
        out_type.__module__ = result_type.__module__
        _OUT_TYPES[result_type] = out_type
    return out_type
