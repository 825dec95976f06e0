"""Elementwise ops: arithmetic, transcendental functions, clamp and where, comparisons.

The activations (relu, gelu, ...) are in `chainrule.ops.activation`.

Binary ops promote their operands with PyTorch's rules first (`binary_operands`), so each op's
forward sees two arrays of one dtype, and broadcast in forward; their vjps reduce the gradient
back to each operand's shape with `unbroadcast`. A unary op's Jacobian is diagonal, so its jvp
is its vjp applied to the tangent (`unary_elementwise_jvp`); a broadcasting op's jvp broadcasts
its tangent to the output's shape (`_finish_tangent`).
"""

from __future__ import annotations

import inspect
import math
import numbers
import textwrap
from collections.abc import Callable
from typing import Any, Literal, overload

from chainrule._tensor import Tensor
from chainrule.autograd import grad_mode
from chainrule.autograd.forward_ad import has_tangent
from chainrule.autograd.node import InferenceVersionCounter, Node
from chainrule.backend import Array, dtypes, is_array, is_numpy_scalar
from chainrule.backend.dtypes import from_numpy_dtype
from chainrule.backend.float_errors import quiet_float_errors
from chainrule.errors import DomainError, DTypeError, IntegerDivisionError, ShapeError
from chainrule.ops import complex as complex_ops
from chainrule.ops import shape as _shape
from chainrule.ops.arguments import Number, return_type
from chainrule.ops.autocast import FLOAT32, autocast_policy
from chainrule.ops.complex import complex_variant, conj, holomorphic, imag, real, refuse_complex
from chainrule.ops.conversion import cast, clone, real_part_for, result_type, write_out
from chainrule.ops.creation import checked_fill, ones_like, scalar_value, tensor, zeros_like
from chainrule.ops.op import (
    NoDerivative,
    Op,
    apply,
    elementwise_batch,
    named,
    unary_elementwise_jvp,
)
from chainrule.ops.shape import broadcast_shapes, unbroadcast

# is_grad_enabled without its call layer, as ops/op.py reads it (per-op path)
_grad_enabled = grad_mode._grad_enabled.get

# ---- operands and promotion ---------------------------------------------------------------


def is_operand(value: Any) -> bool:
    """Whether `value` can take part in elementwise math: a Tensor, an array, a number."""
    if isinstance(value, (Tensor, int, float, complex)) or is_array(value):
        return True
    return is_numpy_scalar(value) and value.dtype.kind in "biufcV"


def _check_operands(name: str, *values: Any) -> None:
    for value in values:
        if not is_operand(value):
            kinds = ", ".join(type(v).__name__ for v in values)
            raise DTypeError(f"{name}: unsupported operand types ({kinds})")


def as_tensor_operand(value: Any, dtype: dtypes.dtype, like: Any) -> Any:
    """`value` as a Tensor of `dtype` on `like`'s device; Tensors of that dtype pass through."""
    if isinstance(value, Tensor):
        if value._array.dtype == dtype.numpy:
            return value
        return cast(value, dtype)
    xp = like._backend.xp
    try:
        return Tensor._from_array(xp.asarray(value, dtype=dtype.numpy))
    except OverflowError:  # uint8 tensor + (-1): PyTorch wraps the scalar around, NumPy refuses
        return Tensor._from_array(xp.asarray(value).astype(dtype.numpy))


_PLAIN_NUMBERS = (float, int)


def _scalar_like(value: float | int, like: Any) -> Any:
    """A 0-d tensor holding a Python number in `like`'s dtype and device."""
    backend = like._backend
    if type(value) is int and not _INT64_MIN <= value <= _INT64_MAX:
        value = _wide_int(value)
    return Tensor._from_array(backend.xp.asarray(value, dtype=like._array.dtype), backend)


_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


def _wide_int(value: int) -> float:
    """A Python int beyond int64 as PyTorch's scalar: up to 2**64 - 1 it is a uint64 (here, for
    a floating tensor, its float); beyond, PyTorch's OverflowError."""
    if value < _INT64_MIN or value > _UINT64_MAX:
        raise OverflowError(f"Python int too large to convert to a scalar: {value}")
    return float(value)


def _check_wide_ints(x: Any, y: Any) -> None:
    """A Python int beyond int64 as PyTorch takes it: beyond uint64 too, its OverflowError; in
    uint64's range (2**63 up to 2**64 - 1) with a bool tensor, refused (PyTorch has no
    promotion for uint64)."""
    for number, other in ((x, y), (y, x)):
        if type(number) is not int or _INT64_MIN <= number <= _INT64_MAX:
            continue
        _wide_int(number)
        if isinstance(other, Tensor) and other._array.dtype.kind == "b":
            raise DTypeError(
                "Promotion for uint16, uint32, uint64 types is not supported, attempted to "
                "promote Bool and UInt64"
            )


def binary_operands(x: Any, y: Any, name: str = "elementwise op") -> tuple[Any, Any]:
    """Both operands as Tensors of the promoted dtype (fast when they already agree)."""
    x_is_tensor = isinstance(x, Tensor)
    if x_is_tensor and isinstance(y, Tensor):
        if x._array.dtype == y._array.dtype:
            return x, y
    elif x_is_tensor and type(y) in _PLAIN_NUMBERS and x._array.dtype.kind in "fV":
        return x, _scalar_like(y, x)  # a Python number never changes a float tensor's dtype
    elif type(x) in _PLAIN_NUMBERS and isinstance(y, Tensor) and y._array.dtype.kind in "fV":
        return _scalar_like(x, y), y
    else:
        _check_operands(name, x, y)
        _check_wide_ints(x, y)
    like = x if x_is_tensor else y
    if not isinstance(like, Tensor):
        like = Tensor._from_array(like) if is_array(like) else None
        if like is None:
            raise DTypeError(
                f"{name}: expected at least one Tensor operand, got {type(x).__name__} and "
                f"{type(y).__name__}"
            )
    dtype = result_type(x, y)
    if x_is_tensor != isinstance(y, Tensor) and (is_array(x) or is_array(y)):
        dtype = _numpy_promotion(x, y, dtype)
    return as_tensor_operand(x, dtype, like), as_tensor_operand(y, dtype, like)


def _numpy_promotion(x: Any, y: Any, dtype: dtypes.dtype) -> dtypes.dtype:
    """The dtype of a tensor and a NumPy array combined: NumPy's promotion, as under PyTorch,
    whose ops refuse an ndarray operand so that `tensor + array` falls to NumPy's reflected
    operator (float32 tensor + int64 array is float64). `dtype` (PyTorch's rule) stays for
    dtypes NumPy lacks (bfloat16)."""
    tensor, array = (x, y) if isinstance(x, Tensor) else (y, x)
    if tensor._array.dtype.kind not in "biufc" or array.dtype.kind not in "biufc":
        return dtype
    return from_numpy_dtype(tensor._backend.xp.result_type(tensor._array.dtype, array.dtype))


def floating_operand(x: Any, name: str = "this op") -> Any:
    """Integer and bool tensors become the default dtype (float32) for ops like exp and sqrt,
    as in PyTorch; complex tensors are refused (ops for real numbers only, such as erf)."""
    if not isinstance(x, Tensor):
        x = tensor_of(x)
    kind = x._array.dtype.kind
    if kind not in "fV":
        if kind == "c":
            raise DTypeError(f"{name}: not implemented for complex tensors ({x.dtype.name})")
        return cast(x, dtypes.get_default_dtype())
    return x


def _default_float(x: Any) -> Any:
    """x cast to the default dtype: what integer operands of a float-only op become."""
    return cast(x, dtypes.get_default_dtype())


def _widened_for_number(input: Any, other: Any, dtype: dtypes.dtype | None = None) -> tuple:  # noqa: A002
    """For an op with a floating result, operands that promote to an integer (or bool) dtype:
    each tensor cast to `dtype` (the default dtype) on its own first, so no value passes
    through the other's integer dtype, as PyTorch's (uint8 [2] / -3 is -0.6667: converting
    -3 to uint8 first would wrap it to 253; so would a 0-dim int64 tensor's -3)."""
    if isinstance(input, Tensor) == isinstance(other, Tensor) and not isinstance(input, Tensor):
        return input, other
    if result_type(input, other).category > dtypes.INTEGER:
        return input, other
    target = dtype or dtypes.get_default_dtype()
    if isinstance(input, Tensor):
        input = cast(input, target)  # noqa: A001
    if isinstance(other, Tensor):
        other = cast(other, target)
    return input, other


def _tensor_operand(x: Any) -> Any:
    return x if isinstance(x, Tensor) else tensor_of(x)


def _require_floating(name: str, x: Any) -> Any:
    """Activations PyTorch implements for floating dtypes only."""
    x = _tensor_operand(x)
    if x._array.dtype.kind not in "fV":
        raise DTypeError(f"{name}: not implemented for {x.dtype.name} tensors")
    return x


def _refuse_bool(name: str, x: Any) -> Any:
    x = _tensor_operand(x)
    if x._array.dtype.kind == "b":
        raise DTypeError(f"{name}: not implemented for bool tensors")
    return x


def tensor_of(value: Any) -> Any:

    return tensor(value)


def _opmath(x: Array) -> Array:
    """float16 computed in float32 and rounded once at the end, as PyTorch does, for forwards
    that chain several operations."""
    return x.astype("float32") if x.dtype.kind in "fV" and x.dtype.itemsize == 2 else x


def _output_shape(ctx: Node) -> tuple:
    """The broadcast shape of an op's inputs, which is its output's shape."""
    return _shape.broadcast_shapes(*(meta[0] for meta in ctx.input_meta))


def _finish_tangent(ctx: Node, t: Any) -> Any:
    """A tangent built from some inputs only may lack the broadcast dimensions of the others."""
    if t is None:
        return None
    shape = _output_shape(ctx)
    return t if t.shape == shape else _shape.expand(t, shape)


def _sum_tangents(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _zero_grad(ctx: Node, index: int) -> Any:
    """The gradient of a piecewise-constant op: zeros of input `index`'s shape, outside the graph
    (so the second derivative is zero too), as PyTorch's zeros."""
    shape, dtype = ctx.input_meta[index]
    return Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy))


class ConnectedTo(Op):
    """`value` unchanged, recorded as depending on `x` with a zero derivative. PyTorch writes
    the backward of a piecewise-linear op (threshold_backward, hardtanh_backward, max pooling's)
    as a function of the op's input that is constant in it, so a second derivative through it
    is a zero tensor, not an unused input. Those ops' vjps end in `connected(grad, x)` to give
    the same answer. Derivatives: g for value, zeros for x."""

    label = "connected"

    @staticmethod
    def forward(ctx: Node, value: Array, x: Array) -> Array:
        return value.view()

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g, _zero_grad(ctx, 1) if ctx.next_edges[1] is not None else None)

    @staticmethod
    def jvp(ctx: Node, t_value: Any, t_x: Any) -> Any:
        return t_value

    batch = elementwise_batch


def connected(value: Any, x: Any) -> Any:
    """`value` (a gradient the vjp of a piecewise-linear op made from x's mask), joined to x's
    graph at zero derivative while a graph is being recorded (create_graph); else `value`."""
    if x._requires_grad and _grad_enabled():
        return apply(ConnectedTo, (value, x))
    return value


class PiecewiseInput(Op):
    """x unchanged, as the input of a piecewise-linear composition (hardshrink, softshrink,
    threshold, prelu): its vjp joins the incoming gradient to x at zero derivative
    (`connected`), as the native backward of those functions in PyTorch depends on x, so their
    second derivative is a zero tensor rather than an unused input. Derivative: identity."""

    label = "piecewise_input"

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return x.view()

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (connected(g, ctx.x),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return t

    batch = elementwise_batch


def piecewise_input(x: Any) -> Any:
    """x, through PiecewiseInput when it is being differentiated; else x itself."""
    if x._requires_grad and _grad_enabled():
        return apply(PiecewiseInput, (x,))
    return x


def _piecewise_constant_vjp(ctx: Node, g: Any) -> tuple:
    return tuple(
        None if edge is None else _zero_grad(ctx, index)
        for index, edge in enumerate(ctx.next_edges)
    )


def _piecewise_constant_jvp(ctx: Node, *tangents: Any) -> Any:
    shape = _output_shape(ctx)
    dtype = ctx.input_meta[0][1]
    return Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy))


def _check_integer_divisor(name: str, x: Array, y: Array) -> None:
    """Refuse an integer division by zero, as PyTorch; one with an empty result divides
    nothing (`empty // 0` is empty)."""
    if y.dtype.kind in "iub" and x.size != 0 and (y == 0).any():
        raise IntegerDivisionError(f"{name}: integer division by zero")


# ---- dtype conversion and copies -----------------------------------------------------------


class CopyFrom(Op):
    """x.copy_(src) as a function: src broadcast to x's shape and cast to x's dtype.
    Derivative: zero for x (overwritten: a zero tensor, as PyTorch's, so x's history still
    receives a gradient), the reduced gradient for src."""

    label = "copy_"

    @staticmethod
    def forward(ctx: Node, x: Array, src: Array) -> Array:
        src = real_part_for(src, x.dtype)
        return ctx.xp.broadcast_to(src, x.shape).astype(x.dtype, copy=True)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x = grad_src = None
        if ctx.next_edges[0] is not None:
            grad_x = zeros_like(g)
        if ctx.next_edges[1] is not None:
            grad_src = unbroadcast(g, ctx.input_meta[1][0])
        return (grad_x, grad_src)

    @staticmethod
    def jvp(ctx: Node, tx: Any, t_src: Any) -> Any:
        if t_src is None:
            return None
        shape, dtype = ctx.input_meta[0]
        return cast(_shape.expand(t_src, shape), dtype)

    @staticmethod
    def batch(b: Any, x: Any, src: Any) -> Any:
        """vmap: every example of x is written, so x carries the batch (broadcast if shared)."""
        if not b.batched[0]:
            x = b.expand(x)
        return apply(CopyFrom, (x, b.align((x, src), x.ndim - 1)[1]))


def copy_from(x: Any, src: Any) -> Any:
    if not isinstance(src, Tensor):
        _check_operands("copy_", src)
        src = as_tensor_operand(src, x.dtype, x)
    return apply(CopyFrom, (x, src))


class FillLike(Op):
    """A tensor like x filled with a value. x's values do not matter: a zero gradient for x
    (PyTorch's FillBackward), so x.fill_() on a graph tensor keeps a grad_fn and sends zeros
    back through x's history, as in PyTorch."""

    label = "fill_"

    @staticmethod
    def forward(ctx: Node, x: Array, value: Any) -> Array:
        return ctx.xp.full(x.shape, value, dtype=x.dtype)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (zeros_like(g),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return None

    batch = elementwise_batch


def fill_like(x: Any, value: Any) -> Any:
    if isinstance(value, Tensor):
        if value._array.ndim:
            raise ShapeError(
                f"fill_: only supports 0-dimension value tensor but got tensor with "
                f"{value._array.ndim} dimensions (shape {tuple(value.shape)})"
            )
        return copy_from(x, value)
    _check_operands("fill_", value)
    value = checked_fill("fill_", value, x.dtype)
    return apply(FillLike, (x,), value)


# ---- arithmetic ----------------------------------------------------------------------------


class Add(Op):
    """x + y. Derivative: g to both, summed over broadcast dimensions."""

    # vjp reads no input values (only shapes): vmap's per-example graph may see them written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        return x + y

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        edges, meta = ctx.next_edges, ctx.input_meta
        grad_x = unbroadcast(g, meta[0][0]) if edges[0] is not None else None
        grad_y = unbroadcast(g, meta[1][0]) if edges[1] is not None else None
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        return _finish_tangent(ctx, _sum_tangents(tx, ty))

    batch = elementwise_batch


class AddScalar(Op):
    """x + c for a Python number c (PyTorch's add.Scalar): one input, nothing saved, so a
    `y + 0.001` costs one small op forward and none backward. With float16 or bfloat16, c is
    rounded to that dtype first, as PyTorch's add does. Derivative: g."""

    # vjp reads no input values (only shapes): vmap's per-example graph may see them written
    vjp_reads_inputs = False

    label = "add"
    scalar_operands = 1  # for the profiler's input shapes
    rounds_scalars_to_half = True

    @classmethod
    def node_name(cls) -> str:
        return "AddBackward0"

    @staticmethod
    def forward(ctx: Node, x: Array, c: float | int) -> Array:
        return x + c

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return t

    @staticmethod
    def batch(b: Any, x: Any, c: float | int) -> Any:
        return apply(b.op, (x,), c)


class SubScalar(AddScalar):
    """x - c for a Python number c. Derivative: g."""

    label = "sub"

    @classmethod
    def node_name(cls) -> str:
        return "SubBackward0"

    @staticmethod
    def forward(ctx: Node, x: Array, c: float | int) -> Array:
        return x - c


class MulScalar(Op):
    """x * c for a Python number c (PyTorch's mul.Scalar): one input and c saved; the
    op is linear in x, so its vjp and jvp are the same op again. float16 multiplies in float32
    and rounds once, as PyTorch's mul and div do (3 * 0.1 is 0.30005, not 0.2998).
    Derivative: g * c."""

    # vjp reads no input values (only shapes): vmap's per-example graph may see them written
    vjp_reads_inputs = False

    label = "mul"
    scalar_operands = 1  # for the profiler's input shapes

    @classmethod
    def node_name(cls) -> str:
        return "MulBackward0"

    @staticmethod
    def forward(ctx: Node, x: Array, c: float | int) -> Array:
        ctx.save(scalar=c)
        return (_opmath(x) * c).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        if ctx._freed:  # PyTorch saves c as a wrapped tensor: a second backward raises
            raise ctx.freed_error()
        return (apply(ctx.op, (g,), ctx.scalar),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(ctx.op, (t,), ctx.scalar)

    @staticmethod
    def batch(b: Any, x: Any, c: float | int) -> Any:
        return apply(b.op, (x,), c)


class DivScalar(MulScalar):
    """x / c for a Python number c (true division, as PyTorch's div.Scalar; not x * (1/c),
    which rounds differently). Derivative: g / c."""

    label = "div"

    @classmethod
    def node_name(cls) -> str:
        return "DivBackward0"

    @staticmethod
    def forward(ctx: Node, x: Array, c: float | int) -> Array:
        ctx.save(scalar=c)
        return (_opmath(x) / c).astype(x.dtype, copy=False)


def _float_and_number(x: Any, c: Any) -> bool:
    """A floating Tensor and a plain Python number (not bool): the scalar ops apply, and the
    number never changes the tensor's dtype."""
    return (
        (type(c) is float or type(c) is int and _INT64_MIN <= c <= _INT64_MAX)
        and isinstance(x, Tensor)
        and x._array.dtype.kind in "fV"
    )


class Sub(Op):
    """x - y. Derivative: g and -g. A complex difference is PyTorch's x + (-1 + 0j) y, whose
    zeros are signed as its (x - y would leave -0.0 imaginary parts where it gives +0.0)."""

    # vjp reads no input values (only shapes): vmap's per-example graph may see them written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        out = x - y
        if out.dtype.kind == "c":
            out = (x + _MINUS_ONE_COMPLEX * y).astype(out.dtype, copy=False)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(g, ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(-g, ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        return _finish_tangent(ctx, _sum_tangents(tx, None if ty is None else -ty))

    batch = elementwise_batch


_MINUS_ONE_COMPLEX = complex(-1.0, 0.0)


class AddScaled(Op):
    """x + alpha y for a Python number alpha (torch.add's alpha=), as one fused multiply-add:
    PyTorch's CPU kernel rounds alpha y + x once, where a multiply and then an add round twice
    (a tenth of float32 elements, and every `p.add_(grad, alpha=-lr)` written by hand,
    differed). float32 (and float16 / bfloat16, which reach forward as float32, with alpha
    rounded to their dtype first by `add`, as PyTorch's) computes in float64, where the
    product of two float32 numbers is exact, and rounds once; float64 multiplies and adds
    (PyTorch's float64 fma can differ from that in the last bit). Derivative: g for x,
    g grad_alpha for y (alpha as given, unrounded, as PyTorch's AddBackward0), each summed
    over its broadcast dimensions."""

    # vjp reads no input values (only shapes): vmap's per-example graph may see them written
    vjp_reads_inputs = False

    label = "add"

    @classmethod
    def node_name(cls) -> str:
        return "AddBackward0"

    @staticmethod
    def forward(
        ctx: Node, x: Array, y: Array, alpha: float | int, grad_alpha: float | int
    ) -> Array:
        ctx.save(alpha=grad_alpha)
        xp = ctx.xp
        if x.dtype == xp.float32 and y.dtype == xp.float32:
            scale = float(xp.float32(alpha))  # PyTorch takes alpha as float32 here
            exact = xp.float64
            return (x.astype(exact) + scale * y.astype(exact)).astype(xp.float32)
        return x + alpha * y

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        edges, meta = ctx.next_edges, ctx.input_meta
        grad_x = unbroadcast(g, meta[0][0]) if edges[0] is not None else None
        grad_y = unbroadcast(g * ctx.alpha, meta[1][0]) if edges[1] is not None else None
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        return _finish_tangent(ctx, _sum_tangents(tx, None if ty is None else ty * ctx.alpha))

    batch = elementwise_batch


class SubScaled(AddScaled):
    """x - alpha y, torch.sub's alpha=: AddScaled with -alpha (so one rounding, as PyTorch's
    sub, which is add with -alpha). Derivative: g for x, -g alpha for y."""

    label = "sub"

    @classmethod
    def node_name(cls) -> str:
        return "SubBackward0"


class Mul(Op):
    """x * y. Derivative: g * y and g * x."""

    # bilinear: an operand's value is read only for the other's gradient
    vjp_reads_inputs = "others"

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return x * y

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        needs_x, needs_y = ctx.next_edges[0] is not None, ctx.next_edges[1] is not None
        grad_x = unbroadcast(g * ctx.y, ctx.input_meta[0][0]) if needs_x else None
        grad_y = unbroadcast(g * ctx.x, ctx.input_meta[1][0]) if needs_y else None
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        dx = None if tx is None else tx * ctx.y
        dy = None if ty is None else ctx.x * ty
        return _finish_tangent(ctx, _sum_tangents(dx, dy))

    batch = elementwise_batch


class Div(Op):
    """x / y. Derivative: g / y and -g * ((x / y) / y) (PyTorch's order, to the last bit: y**2
    would underflow to 0, making 0 / 0 = nan for x = 0 beside a tiny y, or overflow)."""

    # y is read for either gradient, x only for y's (vmap's per-example graph lets x be
    # written after the call when y is a constant, as PyTorch's backward does)
    vjp_reads_inputs = staticmethod(lambda index, edges: index == 1 or edges[1] is not None)

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return x / y

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        y = ctx.y
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(g / y, ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(-g * ((ctx.x / y) / y), ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        y = ctx.y
        dx = None if tx is None else tx / y
        dy = None if ty is None else -ty * (ctx.x / y) / y
        return _finish_tangent(ctx, _sum_tangents(dx, dy))

    batch = elementwise_batch


class MulByScalarTensor(Mul):
    """x * s for a float16 / bfloat16 tensor x and a 0-dim float32 tensor s (a float64 one
    comes as float32): PyTorch's kernel takes such a second operand as a CPU scalar, used in
    float32 rather than rounded to x's dtype first, and rounds the product once (`x *
    self.scale` with a float32 buffer). Derivatives as Mul's (g * s takes this path again; the
    gradient of s is summed in x's dtype and then cast, as PyTorch's)."""

    label = "mul"
    wide_scalar_operands = True

    @classmethod
    def node_name(cls) -> str:
        return "MulBackward0"


class ScalarTensorTimes(Mul):
    """s * x for a 0-dim float32 tensor s and a float16 / bfloat16 tensor x: PyTorch rounds a
    first 0-dim operand to x's dtype for the product, but its backward multiplies the gradient
    by the float32 s (g * s takes MulByScalarTensor's path). `narrow` is x's dtype. Derivatives
    as Mul's."""

    label = "mul"
    wide_scalar_operands = True

    @classmethod
    def node_name(cls) -> str:
        return "MulBackward0"

    @staticmethod
    def forward(ctx: Node, s: Array, x: Array, narrow: Any) -> Array:  # type: ignore[override]
        ctx.save(x=s, y=x)
        return s.astype(narrow).astype(x.dtype) * x

    @staticmethod
    def jvp(ctx: Node, ts: Any, tx: Any) -> Any:
        total = None if ts is None else ts * ctx.y
        if tx is not None:
            total = _sum_tangents(total, tx * ctx.x)  # t * s: the float32 s, as PyTorch's
        return _finish_tangent(ctx, total)


class DivByScalarTensor(Div):
    """x / s for a float16 / bfloat16 tensor x and a 0-dim float32 tensor s, s used in float32
    as PyTorch's kernel does (see MulByScalarTensor). Derivatives as Div's."""

    label = "div"
    wide_scalar_operands = True

    @classmethod
    def node_name(cls) -> str:
        return "DivBackward0"


def _one_operand_0d(input: Any, other: Any) -> bool:  # noqa: A002
    """Whether both are Tensors and exactly one is 0-dim (where _scalar_tensor_second may
    apply)."""
    return (
        isinstance(input, Tensor)
        and isinstance(other, Tensor)
        and (input._array.ndim == 0) != (other._array.ndim == 0)
    )


def _scalar_tensor_second(input: Any, other: Any) -> Any:  # noqa: A002
    """`other` as the float32 0-dim operand of MulByScalarTensor / DivByScalarTensor when the
    call is a half-precision tensor (of at least one dimension) times or over a 0-dim float32
    or float64 CPU tensor; None otherwise (the usual promotion then rounds it to the half dtype,
    as PyTorch does for a 0-dim first operand)."""
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        return None
    if other._array.ndim != 0 or input._array.ndim == 0:
        return None
    if input.dtype not in (dtypes.float16, dtypes.bfloat16):
        return None
    if other.dtype not in (dtypes.float32, dtypes.float64) or other.device.type != "cpu":
        return None
    return other if other.dtype is dtypes.float32 else cast(other, dtypes.float32)


class FloorDivide(Op):
    """floor(x / y) as Python's `//` computes it: the exact quotient rounded down, which can be
    below floor of the rounded true division (0.3 // 0.1 == 2.0), as PyTorch. Piecewise
    constant: zero derivative (PyTorch's div(rounding_mode='floor'))."""

    label = "floor_divide"

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        _check_integer_divisor("floor_divide", x, y)
        return ctx.xp.floor_divide(x, y)

    vjp = _piecewise_constant_vjp
    jvp = _piecewise_constant_jvp
    batch = elementwise_batch


class TruncDivide(Op):
    """trunc(x / y), exact for integers. Piecewise constant: zero derivative."""

    label = "div"

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        xp = ctx.xp
        if x.dtype.kind in "fV":
            return xp.trunc(x / y)
        _check_integer_divisor("div", x, y)
        floored = xp.floor_divide(x, y)
        inexact = (xp.remainder(x, y) != 0) & ((x < 0) != (y < 0))
        return xp.where(inexact, floored + 1, floored).astype(x.dtype, copy=False)

    vjp = _piecewise_constant_vjp
    jvp = _piecewise_constant_jvp
    batch = elementwise_batch


class FloorDivideByScalar(FloorDivide):
    """floor(x / s) for a float16 / bfloat16 x and a divisor given as a number or a 0-dim float
    tensor, taken in float32 rather than rounded to x's dtype first, as PyTorch's kernel (a
    few in a hundred quotients differed)."""

    wide_scalar_operands = True

    @classmethod
    def node_name(cls) -> str:
        return "FloorDivideBackward0"


class FloorDivideOperator(NoDerivative, FloorDivide):
    """`x // y` and floor_divide: div(rounding_mode='floor')'s values, but, as PyTorch's
    floor_divide, no derivative (a backward through it raises; div's has a zero one)."""

    aten = "floor_divide"


class FloorDivideOperatorByScalar(NoDerivative, FloorDivideByScalar):
    """`x // s` of a half-precision x and a number: FloorDivideByScalar without a derivative."""

    aten = "floor_divide"


class TruncDivideByScalar(TruncDivide):
    """trunc(x / s) for a float16 / bfloat16 x and a number or 0-dim float divisor, taken in
    float32 as PyTorch's kernel (see FloorDivideByScalar)."""

    wide_scalar_operands = True

    @classmethod
    def node_name(cls) -> str:
        return "TruncDivideBackward0"


def _scalar_divisor(input: Any, other: Any) -> Any:  # noqa: A002
    """The float32 0-dim operand for a half-precision x (of at least one dimension) divided
    with rounding by a Python number or a 0-dim float32 / float64 CPU tensor; None otherwise."""
    if type(other) in (float, int) and isinstance(input, Tensor) and input._array.ndim:
        if input.dtype in (dtypes.float16, dtypes.bfloat16):
            return cast(tensor_of(float(other)), dtypes.float32)
        return None
    return _scalar_tensor_second(input, other)


class Remainder(Op):
    """x - floor(x / y) * y (sign of the divisor), computed as PyTorch does: fmod(x, y), plus y
    when the signs differ. Derivative: g and -g * floor(x / y)."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        xp = ctx.xp
        if x.dtype.kind not in "fV":
            _check_integer_divisor("remainder", x, y)
            return xp.remainder(x, y)
        mod = xp.fmod(x, y)
        return xp.where((mod != 0) & ((y < 0) != (mod < 0)), mod + y, mod)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_y = None
        if ctx.next_edges[1] is not None:
            floored = div(ctx.x, ctx.y, rounding_mode="floor")  # PyTorch's formula
            grad_y = unbroadcast(-g * floored, ctx.input_meta[1][0])
        return (unbroadcast(g, ctx.input_meta[0][0]), grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        dy = None if ty is None else -ty * div(ctx.x, ctx.y, rounding_mode="floor")
        return _finish_tangent(ctx, _sum_tangents(tx, dy))

    batch = elementwise_batch


class RemainderOfNumber(NoDerivative, Remainder):
    """`number % tensor`: PyTorch's remainder.Scalar_Tensor, recorded without a derivative."""

    aten = "remainder"


class Fmod(Op):
    """x - trunc(x / y) * y (sign of the dividend). Derivative: g and -g * trunc(x / y)."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        _check_integer_divisor("fmod", x, y)
        return ctx.xp.fmod(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_y = None
        if ctx.next_edges[1] is not None:
            quotient = div(ctx.x, ctx.y, rounding_mode="trunc")
            grad_y = unbroadcast(-g * quotient, ctx.input_meta[1][0])
        return (unbroadcast(g, ctx.input_meta[0][0]), grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        dy = None if ty is None else -ty * div(ctx.x, ctx.y, rounding_mode="trunc")
        return _finish_tangent(ctx, _sum_tangents(tx, dy))

    batch = elementwise_batch


def _integer_pow(xp: Any, x: Array, y: Array) -> Array:
    """Integer powers with PyTorch's results for negative exponents (NumPy refuses them):
    1 for x == 1, +-1 for x == -1, and 0 (the truncated fraction) otherwise."""
    negative = y < 0
    if not negative.any():
        return x**y
    powers = x ** xp.where(negative, 0, y)
    odd = (y % 2) != 0
    fraction = xp.where(x == 1, 1, xp.where(x == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, fraction, powers).astype(x.dtype, copy=False)


def _complex_pow(xp: Any, x: Array, y: Array, zero_number_exponent: bool) -> Array:
    """Complex powers with PyTorch's values at a zero base, exp(y * log(0)): nan for 0 ** 0,
    inf + nan j for a negative real part, 0 otherwise; except that a Python number 0 as the
    exponent gives 1, PyTorch's pow(Tensor, Scalar) shortcut."""
    out = x**y
    zero_base = x == 0
    if zero_number_exponent or not zero_base.any():
        return out
    with quiet_float_errors():  # (NumPy's; CuPy raises none)
        from_log = xp.exp(y * xp.log(x))
    return xp.where(zero_base, from_log, out).astype(out.dtype, copy=False)


class Pow(Op):
    """x ** y. Derivatives, with PyTorch's conventions at the kinks: y * x**(y-1), 0 where
    y == 0 (also at x == 0); and x**y * log(x), 0 where x == 0 and y >= 0. Both mask the
    discarded branch as PyTorch's pow_backward does, so at x == 0 the second derivative is
    PyTorch's nan (0 * inf through the mask) where it is one."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array, zero_number_exponent: bool = False) -> Array:
        kind = x.dtype.kind
        if kind in "iu":
            out = _integer_pow(ctx.xp, x, y)
        elif kind == "c":
            out = _complex_pow(ctx.xp, x, y, zero_number_exponent)
        else:
            out = x**y
        ctx.save(x=x, y=y, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            # Where the exponent is 0 the gradient is a positive 0 whatever g's sign, as
            # PyTorch's pow_backward masks after multiplying (g * 0 would print -0.).
            exponent = _constant_exponent(ctx.y)
            if exponent is None:
                grad = where(ctx.y == 0, 0.0, g * _pow_base_derivative(ctx.x, ctx.y))
            elif exponent == 0:
                grad = zeros_like(g)
            else:
                grad = g * _scalar_pow_derivative(ctx.x, exponent)
            grad_x = unbroadcast(grad, ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            local = _pow_exponent_derivative(ctx.x, ctx.y, ctx.out)
            grad_y = unbroadcast(g * local, ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        # A constant exponent (x ** 2) has no tangent, so no log(x), which is nan for x < 0.
        y = ctx.y
        exponent = _constant_exponent(y) if ty is None else None
        if exponent is not None and tx is not None:
            return _finish_tangent(ctx, tx * _scalar_pow_derivative(ctx.x, exponent))
        dx = None if tx is None else tx * _pow_base_derivative(ctx.x, y)
        dy = None if ty is None else ty * _pow_exponent_derivative(ctx.x, y, ctx.out)
        return _finish_tangent(ctx, _sum_tangents(dx, dy))

    batch = elementwise_batch


def _constant_exponent(y: Any) -> float | int | None:
    """The exponent as a plain number when it is a 0-d constant (x ** 2, x ** 0.5), else None."""
    if y._array.ndim == 0 and not y._requires_grad:
        return y._array.item()
    return None


def _scalar_pow_derivative(x: Any, exponent: float | int) -> Any:
    """d(x ** c)/dx for a number c in 1-2 ops instead of the general rule's 7: c x ** (c - 1),
    0 for c == 0 (also at x == 0, PyTorch's convention), 2 x for the common square."""
    if exponent == 0:
        return x * 0.0
    if exponent == 2:
        return x * 2.0
    return exponent * x ** (exponent - 1)


def _pow_base_derivative(x: Any, y: Any) -> Any:
    return where(y == 0, 0.0, y * x ** (y - 1))


def _pow_exponent_derivative(x: Any, y: Any, out: Any) -> Any:
    return where((x == 0) & (real(y) >= 0), 0.0, out * log(x))


class Atan2(Op):
    """atan2(x, y) = the angle of the point (y, x), PyTorch's atan2(input, other).
    Derivatives: y / r2 and -x / r2 with r2 = x**2 + y**2; 0 at the origin (where 1 / r2
    is inf), as PyTorch masks it."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.arctan2(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y = ctx.x, ctx.y
        reciprocal_r2 = 1.0 / (x * x + y * y)
        scale = g * where(reciprocal_r2 == math.inf, 0.0, reciprocal_r2)
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(scale * y, ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(-scale * x, ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y = ctx.x, ctx.y
        r2 = x * x + y * y
        dx = None if tx is None else tx * y / r2
        dy = None if ty is None else -ty * x / r2
        return _finish_tangent(ctx, _sum_tangents(dx, dy))

    batch = elementwise_batch


class Maximum(Op):
    """max(x, y) elementwise, nan if either is. Derivative: g to the larger; ties split g / 2
    to each (PyTorch's convention); where a nan is involved, g to both."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.maximum(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y = ctx.x, ctx.y
        return _tie_split_vjp(ctx, g, x < y, y < x, x == y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y = ctx.x, ctx.y
        return _tie_split_jvp(ctx, tx, ty, x < y, y < x, x == y)

    batch = elementwise_batch


class Minimum(Op):
    """min(x, y) elementwise, nan if either is. Derivative: g to the smaller; ties split g / 2
    to each (PyTorch's convention); where a nan is involved, g to both."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.minimum(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y = ctx.x, ctx.y
        return _tie_split_vjp(ctx, g, x > y, y > x, x == y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y = ctx.x, ctx.y
        return _tie_split_jvp(ctx, tx, ty, x > y, y > x, x == y)

    batch = elementwise_batch


def _tie_split_vjp(ctx: Node, g: Any, x_loses: Any, y_loses: Any, ties: Any) -> tuple:
    """Gradients of an elementwise choice between x and y: none to the loser, half to each on
    a tie."""
    half = where(ties, g / 2, g)
    grad_x = grad_y = None
    if ctx.next_edges[0] is not None:
        grad_x = unbroadcast(where(x_loses, 0.0, half), ctx.input_meta[0][0])
    if ctx.next_edges[1] is not None:
        grad_y = unbroadcast(where(y_loses, 0.0, half), ctx.input_meta[1][0])
    return (grad_x, grad_y)


def _tie_split_jvp(ctx: Node, tx: Any, ty: Any, x_loses: Any, y_loses: Any, ties: Any) -> Any:
    """The transpose of `_tie_split_vjp`: each tangent weighted 0, 1/2 or 1."""
    dx = dy = None
    # (the weights in the tangent's dtype: a 0-dim float64 tangent times float32 weights of
    # the broadcast shape would round to float32, 0-dim operands promoting as numbers do)
    if tx is not None:
        dx = tx * where(x_loses, 0.0, where(ties, 0.5, 1.0)).to(tx.dtype)
    if ty is not None:
        dy = ty * where(y_loses, 0.0, where(ties, 0.5, 1.0)).to(ty.dtype)
    return _finish_tangent(ctx, _sum_tangents(dx, dy))


class Fmax(Op):
    """max(x, y) elementwise, ignoring a nan operand. Derivative (PyTorch's): g to x where
    x >= y or y is nan, else to y; a tie gives everything to x."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.fmax(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y = ctx.x, ctx.y
        return _choice_vjp(ctx, g, (x >= y) | isnan(y))

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y = ctx.x, ctx.y
        return _choice_jvp(ctx, tx, ty, (x >= y) | isnan(y))

    batch = elementwise_batch


class Fmin(Op):
    """min(x, y) elementwise, ignoring a nan operand. Derivative (PyTorch's): g to x where
    x <= y or y is nan, else to y; a tie gives everything to x."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.fmin(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y = ctx.x, ctx.y
        return _choice_vjp(ctx, g, (x <= y) | isnan(y))

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y = ctx.x, ctx.y
        return _choice_jvp(ctx, tx, ty, (x <= y) | isnan(y))

    batch = elementwise_batch


def _choice_vjp(ctx: Node, g: Any, take_x: Any) -> tuple:
    grad_x = grad_y = None
    if ctx.next_edges[0] is not None:
        grad_x = unbroadcast(where(take_x, g, 0.0), ctx.input_meta[0][0])
    if ctx.next_edges[1] is not None:
        grad_y = unbroadcast(where(take_x, 0.0, g), ctx.input_meta[1][0])
    return (grad_x, grad_y)


def _choice_jvp(ctx: Node, tx: Any, ty: Any, take_x: Any) -> Any:
    dx = None if tx is None else where(take_x, tx, 0.0)
    dy = None if ty is None else where(take_x, 0.0, ty)
    return _finish_tangent(ctx, _sum_tangents(dx, dy))


def _fused_alpha(name: str, input: Any, other: Any, alpha: Any) -> tuple | None:  # noqa: A002
    """(x, y, alpha for the forward) for add/sub with a real Python alpha != 1 between two
    tensors of a real floating result, which AddScaled computes as PyTorch does (one rounding,
    alpha rounded to a float16 / bfloat16 result's dtype first); None for the other cases,
    which multiply first (integers, bools, complex, numbers, tensor alphas)."""
    if type(alpha) not in (float, int) or alpha == 1:
        return None
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        return None
    target = result_type(input, other)
    if target.numpy.kind not in "fV":
        return None
    checked_fill(name, alpha, target)
    x, y = binary_operands(input, other, name)
    half = target in (dtypes.float16, dtypes.bfloat16)
    return x, y, float(target.numpy.type(alpha)) if half else alpha


def _scaled(name: str, other: Any, alpha: Any, input: Any) -> Any:  # noqa: A002
    """other * alpha for add/sub, refusing what PyTorch refuses: a bool alpha unless the
    result is bool, a float (or complex) alpha with integer operands, an alpha the result's
    dtype cannot hold (1e10 for float16, a complex one for a real result)."""
    bool_result = all(_is_bool_operand(v) for v in (input, other))
    if isinstance(alpha, bool) and not bool_result:
        raise DTypeError(f"{name}: Boolean alpha only supported for Boolean results.")
    if alpha == 1:
        return other
    if isinstance(alpha, (float, complex)):
        # the result's dtype decides, numbers included: 1j - int32 tensor takes alpha=0.5
        if result_type(input, other).category <= dtypes.INTEGER:
            raise DTypeError(
                f"{name}: for integral input tensors, argument alpha must not be a floating "
                "point number"
            )
    if all(_is_bool_operand(v) for v in (input, other)):
        alpha = bool(alpha)  # bool + alpha * bool stays bool, alpha taken as a bool (PyTorch)
        if not isinstance(other, Tensor):
            return other and alpha
    if isinstance(other, Tensor):
        target = result_type(input, other)
        if other.dtype is not target:  # alpha multiplies in the result's dtype, as PyTorch's
            other = cast(other, target)
        if not isinstance(alpha, Tensor) and target.category != dtypes.BOOL:
            checked_fill(name, alpha, target)
        return mul(other, alpha)
    _check_operands(name, other)
    return other * alpha


def _is_bool_operand(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value._array.dtype.kind == "b"
    return isinstance(value, bool)


def _first_number_as_tensor(input: Any, other: Any) -> Any:  # noqa: A002
    """PyTorch's add, sub, mul, div and floor_divide given two Python numbers read the first
    as a 0-d tensor (torch.add(3, 2) is tensor(5), torch.div(3, 2) tensor(1.5)), where the
    other binary functions refuse two numbers."""
    if isinstance(input, (bool, int, float, complex)) and isinstance(
        other, (bool, int, float, complex)
    ):
        return tensor_of(input)
    return input


def add(
    input: Tensor | Number,  # noqa: A002
    other: Tensor | Number,
    *,
    alpha: Number = 1,
    out: Tensor | None = None,
) -> Tensor:
    """input + alpha * other, elementwise with broadcasting, as `torch.add`. The gradient of each
    operand is the incoming gradient (times alpha for `other`) summed over the dimensions it was
    broadcast along.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second operand; the two broadcast against each other
            and promote to a common dtype as in PyTorch (a Python number does not widen a
            tensor's floating dtype).
        alpha (number): the multiplier of `other`.
        out (Tensor, optional): write the result here.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.add(chainrule.tensor([1.0, 2.0]), chainrule.tensor([[10.0], [20.0]]))
        tensor([[11., 12.],
                [21., 22.]])
        >>> chainrule.add(chainrule.tensor([1, 2]), 3, alpha=2)
        tensor([7, 8])
    """
    input = _first_number_as_tensor(input, other)  # noqa: A001
    if (
        alpha == 1
        and out is None
        and not isinstance(alpha, bool)
        and _float_and_number(input, other)
    ):
        return apply(AddScalar, (input,), other)
    fused = _fused_alpha("add", input, other, alpha)
    if fused is not None:
        x, y, rounded = fused
        result = apply(AddScaled, (x, y), rounded, alpha)
        return result if out is None else write_out("add", result, out)
    other = _scaled("add", other, alpha, input)
    x, y = binary_operands(input, other, "add")
    result = apply(Add, (x, y))
    return result if out is None else write_out("add", result, out)


def radd(input: Tensor, other: Number) -> Tensor:  # noqa: A002
    if _float_and_number(input, other):
        return apply(AddScalar, (input,), other)
    x, y = binary_operands(other, input, "add")
    return apply(Add, (x, y))


def sub(
    input: Tensor | Number,  # noqa: A002
    other: Tensor | Number,
    *,
    alpha: Number = 1,
    out: Tensor | None = None,
) -> Tensor:
    """input - alpha * other, elementwise with broadcasting, as `torch.sub`. Bool operands are
    refused, as in PyTorch.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second operand; the two broadcast against each other
            and promote to a common dtype as in PyTorch (a Python number does not widen a
            tensor's floating dtype).
        alpha (number): the multiplier of `other`.
        out (Tensor, optional): write the result here.

    Example:
        >>> import chainrule
        >>> chainrule.sub(chainrule.tensor([5.0, 7.0]), 2.0)
        tensor([3., 5.])
    """
    input = _first_number_as_tensor(input, other)  # noqa: A001
    for value in (input, other):
        if isinstance(value, bool) or (
            isinstance(value, Tensor) and value._array.dtype.kind == "b"
        ):
            raise DTypeError(
                "sub: subtraction, the `-` operator, with a bool tensor is not supported; "
                "use logical_xor or logical_not"
            )
    if (
        alpha == 1
        and out is None
        and not isinstance(alpha, bool)
        and _float_and_number(input, other)
    ):
        return apply(SubScalar, (input,), other)
    fused = _fused_alpha("sub", input, other, alpha)
    if fused is not None:
        x, y, rounded = fused
        result = apply(SubScaled, (x, y), -rounded, -alpha)
        return result if out is None else write_out("sub", result, out)
    other = _scaled("sub", other, alpha, input)
    x, y = binary_operands(input, other, "sub")
    result = apply(Sub, (x, y))
    return result if out is None else write_out("sub", result, out)


def rsub(input: Tensor | Number, other: Tensor | Number, *, alpha: Number = 1) -> Tensor:  # noqa: A002
    """other - alpha * input (PyTorch's `rsub` argument order: `input` is subtracted).

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        alpha (number): the multiplier of `input`.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.rsub(chainrule.tensor([1.0, 2.0]), 10.0)
        tensor([9., 8.])
    """
    if not isinstance(input, Tensor):  # (sub takes a number first: rsub does not)
        raise TypeError(f"rsub(): argument 'input' must be Tensor, not {type(input).__name__}")
    if alpha != 1:
        input = _scaled("rsub", input, alpha, other)  # noqa: A001
    out = sub(other, input)
    return named(out, "RsubBackward0" if isinstance(other, Tensor) else "RsubBackward1")


def mul(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input * other, elementwise with broadcasting, as `torch.mul`; d/dinput = other and
    d/dother = input.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second operand; the two broadcast against each other
            and promote to a common dtype as in PyTorch (a Python number does not widen a
            tensor's floating dtype).
        out (Tensor, optional): write the result here.

    Example:
        >>> import chainrule
        >>> chainrule.mul(chainrule.tensor([1.0, 2.0, 3.0]), 2)
        tensor([2., 4., 6.])
    """
    input = _first_number_as_tensor(input, other)  # noqa: A001
    if out is None and _float_and_number(input, other):
        return apply(MulScalar, (input,), other)
    if _one_operand_0d(input, other):  # (one test on the hot path of tensor products)
        scalar = _scalar_tensor_second(input, other)
        if scalar is not None:
            result = apply(MulByScalarTensor, (input, scalar))
            return result if out is None else write_out("mul", result, out)
        scalar = _scalar_tensor_second(other, input)
        if scalar is not None:
            result = apply(ScalarTensorTimes, (scalar, other), other._array.dtype)
            return result if out is None else write_out("mul", result, out)
    x, y = binary_operands(input, other, "mul")
    result = apply(Mul if x._array.dtype.kind != "c" else _COMPLEX_MUL, (x, y))
    return result if out is None else write_out("mul", result, out)


def rmul(input: Tensor, other: Number) -> Tensor:  # noqa: A002
    if _float_and_number(input, other):
        return apply(MulScalar, (input,), other)
    x, y = binary_operands(other, input, "mul")
    return apply(Mul if x._array.dtype.kind != "c" else _COMPLEX_MUL, (x, y))


def div(
    input: Tensor | Number,  # noqa: A002
    other: Tensor | Number,
    *,
    rounding_mode: str | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """input / other. True division by default (integers give float32); rounding_mode 'trunc' rounds
    the quotient toward zero and 'floor' down, keeping integer dtypes.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        rounding_mode (str, optional): None, 'trunc' or 'floor'.
        out (Tensor, optional): write the result here.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([7, -7])
        >>> x / 2
        tensor([ 3.5000, -3.5000])
        >>> chainrule.div(x, 2, rounding_mode="trunc"), chainrule.div(x, 2, rounding_mode="floor")
        (tensor([ 3, -3]), tensor([ 3, -4]))
    """
    if rounding_mode not in (None, "trunc", "floor"):
        raise ValueError(
            f"div: rounding_mode must be None, 'trunc' or 'floor', not {rounding_mode!r}"
        )
    input = _first_number_as_tensor(input, other)  # noqa: A001
    if rounding_mode is None and out is None and _float_and_number(input, other):
        return apply(DivScalar, (input,), other)
    scalar = _scalar_tensor_second(input, other) if rounding_mode is None else None
    if scalar is not None:
        result = apply(DivByScalarTensor, (input, scalar))
        return result if out is None else write_out("div", result, out)
    if rounding_mode is None:
        input, other = _widened_for_number(input, other)  # noqa: A001
    else:
        scalar = _scalar_divisor(input, other)
        if scalar is not None:
            rounded = TruncDivideByScalar if rounding_mode == "trunc" else FloorDivideByScalar
            result = named(apply(rounded, (input, scalar)), "DivBackward2")
            return result if out is None else write_out("div", result, out)
    x, y = binary_operands(input, other, "div")
    if rounding_mode is None:
        kind = x._array.dtype.kind
        if kind == "c":
            result = apply(complex_variant(Div), (x, y))
        else:
            if kind not in "fV":
                x, y = _default_float(x), _default_float(y)
            result = apply(Div, (x, y))
    else:
        refuse_complex("div", x)
        if x._array.dtype.kind == "b":
            raise DTypeError(f"div: rounding_mode={rounding_mode!r} is not implemented for bool")
        result = apply(TruncDivide if rounding_mode == "trunc" else FloorDivide, (x, y))
        result = named(result, "DivBackward2")  # PyTorch's div with a rounding mode
    return result if out is None else write_out("div", result, out)


def rdiv(input: Tensor, other: Number) -> Tensor:  # noqa: A002
    out = div(other, input)
    # number / x is PyTorch's reciprocal(x) * number
    return out if isinstance(other, Tensor) else named(out, "MulBackward0")


def floor_divide(
    input: Tensor | Number,  # noqa: A002
    other: Tensor | Number,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """Python's floor division `//`, exact rather than floor(x / y). Not differentiable, as
    PyTorch's (`div(..., rounding_mode="floor")` has a zero derivative).

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.floor_divide(chainrule.tensor([7, -7]), 2)
        tensor([ 3, -4])
        >>> chainrule.tensor([0.3], dtype=chainrule.float64) // 0.1
        tensor([2.], dtype=chainrule.float64)
    """
    input = _first_number_as_tensor(input, other)  # noqa: A001
    if out is not None:
        return write_out("floor_divide", floor_divide(input, other), out, "cast")
    scalar = _scalar_divisor(input, other)
    if scalar is not None:
        return apply(FloorDivideOperatorByScalar, (input, scalar))
    x, y = binary_operands(input, other, "floor_divide")
    refuse_complex("floor_divide", x)
    if x._array.dtype.kind == "b":
        raise DTypeError("floor_divide: not implemented for bool tensors")
    return apply(FloorDivideOperator, (x, y))


def rfloordiv(input: Tensor, other: Number) -> Tensor:  # noqa: A002
    return floor_divide(other, input)


def remainder(
    input: Tensor | Number,  # noqa: A002
    other: Tensor | Number,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """The remainder of input / other with the sign of the divisor (Python's `%`), as
    `torch.remainder`; `fmod` keeps the sign of the dividend instead.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.remainder(chainrule.tensor([-3, 3]), 2)
        tensor([1, 1])
    """
    if out is not None:
        return write_out("remainder", remainder(input, other), out, "cast")
    x, y = binary_operands(input, other, "remainder")
    refuse_complex("remainder", x)
    if x._array.dtype.kind == "b":
        raise DTypeError("remainder: not implemented for bool tensors")
    if isinstance(input, numbers.Number):
        return apply(RemainderOfNumber, (x, y))
    out = apply(Remainder, (x, y))
    return named(out, "RemainderBackward1") if isinstance(other, Tensor) else out


def rremainder(input: Tensor, other: Number) -> Tensor:  # noqa: A002
    return remainder(other, input)


def fmod(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The remainder of input / other with the sign of the dividend (C's fmod), as `torch.fmod`.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.fmod(chainrule.tensor([-3, 3]), 2)
        tensor([-1,  1])
    """
    if out is not None:
        return write_out("fmod", fmod(input, other), out, "cast")
    x, y = binary_operands(input, other, "fmod")
    refuse_complex("fmod", x)
    if x._array.dtype.kind == "b":
        raise DTypeError("fmod: not implemented for bool tensors")
    out = apply(Fmod, (x, y))
    return named(out, "FmodBackward1") if isinstance(other, Tensor) else out


def pow(input: Tensor | Number, exponent: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    """input ** exponent, elementwise with broadcasting, as `torch.pow`. Integer tensors raised to
    integer powers stay integers (a negative integer exponent is an error, as in PyTorch). The
    exponent's derivative, out * log(input), is taken as 0 where input is 0 and the exponent
    is not negative (PyTorch's convention; log(0) would make it nan).

    Args:
        input (Tensor or number): the base.
        exponent (Tensor or number): the power; broadcasts with `input`.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.pow(chainrule.tensor([1.0, 2.0, 3.0]), 2)
        tensor([1., 4., 9.])
        >>> chainrule.pow(2, chainrule.tensor([1, 3]))
        tensor([2, 8])
    """
    if out is not None:
        return write_out("pow", pow(input, exponent), out, "cast")
    x, y = binary_operands(input, exponent, "pow")
    kind = x._array.dtype.kind
    number_exponent = not isinstance(exponent, Tensor)
    if kind == "b":
        if isinstance(exponent, bool) and isinstance(input, Tensor):
            return x.clone() if exponent else ones_like(x)  # PyTorch's bool ** bool number
        raise DTypeError("pow: \"pow\" not implemented for 'Bool'")
    if kind in "iu" and number_exponent and exponent < 0:
        raise DomainError("pow: Integers to negative integer powers are not allowed.")
    if kind == "f" and number_exponent and isinstance(input, Tensor):
        checked_fill("pow", exponent, x.dtype)  # PyTorch: 1e10 overflows a float16 exponent
    if kind == "c":
        zero_number_exponent = number_exponent and exponent == 0
        out = apply(complex_variant(Pow), (x, y), zero_number_exponent)
    else:
        out = apply(Pow, (x, y))
    if not isinstance(exponent, Tensor):
        return out  # PowBackward0, PyTorch's pow(Tensor, Scalar)
    return named(out, "PowBackward1" if isinstance(input, Tensor) else "PowBackward2")


def rpow(input: Tensor, other: Number) -> Tensor:  # noqa: A002
    return pow(other, input)


def float_power(input: Tensor | Number, exponent: Tensor | Number) -> Tensor:  # noqa: A002
    """`pow` computed in float64, whatever the dtypes of the (real) operands.

    Args:
        input (Tensor or number): the base.
        exponent (Tensor or number): the power; broadcasts with `input`.

    Returns:
        Tensor: float64, of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.float_power(chainrule.tensor([2, 3]), 2)
        tensor([4., 9.], dtype=chainrule.float64)
    """
    operands = (input, exponent)
    complex_operand = any(
        isinstance(v, complex) or (isinstance(v, Tensor) and v.dtype.is_complex) for v in operands
    )
    target = dtypes.complex128 if complex_operand else dtypes.float64  # PyTorch's double
    if isinstance(input, Tensor) and isinstance(exponent, (int, float, complex)):
        # pow(Tensor, Scalar), as PyTorch's: a number 0 gives 1 even at a complex zero base
        number = complex(exponent) if complex_operand else float(exponent)
        return pow(cast(input, target), number)
    if isinstance(exponent, Tensor) and isinstance(input, (int, float, complex)):
        # pow(Scalar, Tensor), as PyTorch's (its node is PowBackward2)
        number = complex(input) if complex_operand else float(input)
        return pow(number, cast(exponent, target))
    input, exponent = _widened_for_number(input, exponent, target)  # noqa: A001
    x, y = binary_operands(input, exponent, "float_power")
    return pow(cast(x, target), cast(y, target))


def atan2(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The angle of the point (other, input), atan(input / other) in the right quadrant, in
    (-pi, pi]; `arctan2` is the same function.

    Args:
        input (Tensor or number): the y coordinates.
        other (Tensor or number): the x coordinates; broadcasts with `input`.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.atan2(chainrule.tensor([1.0]), chainrule.tensor([-1.0]))
        tensor([2.3562])
    """
    if out is not None:
        return write_out("atan2", atan2(input, other), out, "cast")
    input, other = _widened_for_number(input, other)  # noqa: A001
    x, y = binary_operands(input, other, "atan2")
    refuse_complex("atan2", x)
    if x._array.dtype.kind not in "fV":
        x, y = _default_float(x), _default_float(y)
    return apply(Atan2, (x, y))


def maximum(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The elementwise larger of input and other, NaN if either is NaN, as `torch.maximum`. At a
    tie the gradient is split evenly between the two, as in PyTorch.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.maximum(chainrule.tensor([1.0, 5.0]), chainrule.tensor([3.0, 2.0]))
        tensor([3., 5.])
    """
    if out is not None:
        return write_out("maximum", maximum(input, other), out, "cast")
    x, y = binary_operands(input, other, "maximum")
    refuse_complex("maximum", x)
    return apply(Maximum, (x, y))


def minimum(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The elementwise smaller of input and other, NaN if either is NaN, as `torch.minimum`; at a
    tie the gradient is split evenly between the two.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.minimum(chainrule.tensor([1.0, 5.0]), chainrule.tensor([3.0, 2.0]))
        tensor([1., 2.])
    """
    if out is not None:
        return write_out("minimum", minimum(input, other), out, "cast")
    x, y = binary_operands(input, other, "minimum")
    refuse_complex("minimum", x)
    return apply(Minimum, (x, y))


def fmax(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The elementwise larger of input and other, ignoring a NaN when the other value is a number
    (NumPy's fmax), as `torch.fmax`.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.fmax(chainrule.tensor([float("nan"), 1.0]), chainrule.tensor([2.0, 0.0]))
        tensor([2., 1.])
    """
    if out is not None:
        return write_out("fmax", fmax(input, other), out, "cast")
    x, y = binary_operands(input, other, "fmax")
    refuse_complex("fmax", x)
    return apply(Fmax, (x, y))


def fmin(input: Tensor | Number, other: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The elementwise smaller of input and other, ignoring a NaN when the other is a number.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.fmin(chainrule.tensor([float("nan"), 1.0]), chainrule.tensor([2.0, 0.0]))
        tensor([2., 0.])
    """
    if out is not None:
        return write_out("fmin", fmin(input, other), out, "cast")
    x, y = binary_operands(input, other, "fmin")
    refuse_complex("fmin", x)
    return apply(Fmin, (x, y))


# ---- unary math ----------------------------------------------------------------------------


class Neg(Op):
    """-x. Derivative: -g."""

    # vjp reads no input values (only shapes): vmap's per-example graph may see them written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return -x

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (-g,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Abs(Op):
    """|x|. Derivative: g * sign(x), 0 at x == 0 (PyTorch's subgradient)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.abs(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * sign(ctx.x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Sign(Op):
    """sign(x): -1, 0 or 1, and 0 for nan (PyTorch). Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        xp = ctx.xp
        out = xp.sign(x)
        if x.dtype.kind in "fV":
            out = xp.where(xp.isnan(x), 0, out).astype(x.dtype, copy=False)
        return out

    vjp = _piecewise_constant_vjp
    jvp = _piecewise_constant_jvp
    batch = elementwise_batch


class Exp(Op):
    """exp(x). Derivative: g * exp(x), from the saved output."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.exp(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * ctx.out,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Exp2(Op):
    """2**x. Derivative: g * 2**x * ln 2."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.exp2(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * ctx.out * math.log(2.0),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Expm1(Op):
    """exp(x) - 1, accurate near 0. Derivative: g * (out + 1)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.expm1(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * (ctx.out + 1),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Log(Op):
    """log(x). Derivative: g / x."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.log(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g / ctx.x,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Log1p(Op):
    """log(1 + x), accurate near 0. Derivative: g / (1 + x)."""

    @classmethod
    def node_name(cls) -> str:
        return "Log1PBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.log1p(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g / (ctx.x + 1),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Log2(Op):
    """log2(x). Derivative: g / (x ln 2)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.log2(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g / (ctx.x * math.log(2.0)),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Log10(Op):
    """log10(x). Derivative: g / (x ln 10)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.log10(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g / (ctx.x * math.log(10.0)),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Sqrt(Op):
    """sqrt(x). Derivative: g / (2 sqrt(x)), from the saved output (inf at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.sqrt(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g / (2 * ctx.out),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Rsqrt(Op):
    """1 / sqrt(x). Derivative: -g * out**3 / 2."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = (1 / ctx.xp.sqrt(_opmath(x))).astype(x.dtype, copy=False)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (-0.5 * g * out * out * out,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Cbrt(Op):
    """The real cube root (NumPy's cbrt; PyTorch has none, so only chainrule.numpy.cbrt calls
    it). Derivative: g / (3 out**2), from the saved output (inf at 0)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.cbrt(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (g / (3 * out * out),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Square(Op):
    """x**2. Derivative: 2 x g."""

    @classmethod
    def node_name(cls) -> str:
        return "PowBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return x * x

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (2 * g * ctx.x,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Reciprocal(Op):
    """1 / x. Derivative: -g * out**2."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = 1 / x
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (-g * out * out,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Sin(Op):
    """sin(x). Derivative: g cos(x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.sin(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * cos(ctx.x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Cos(Op):
    """cos(x). Derivative: -g sin(x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.cos(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (-g * sin(ctx.x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Tan(Op):
    """tan(x). Derivative: g (1 + tan(x)**2), from the saved output."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.tan(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (g * (1 + out * out),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Asin(Op):
    """asin(x). Derivative: g / sqrt(1 - x**2)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.arcsin(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g * rsqrt(1 - x * x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Acos(Op):
    """acos(x). Derivative: -g / sqrt(1 - x**2)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.arccos(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (-g * rsqrt(1 - x * x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Atan(Op):
    """atan(x). Derivative: g / (1 + x**2)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.arctan(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g / (1 + x * x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Sinh(Op):
    """sinh(x). Derivative: g cosh(x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.sinh(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * cosh(ctx.x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Cosh(Op):
    """cosh(x). Derivative: g sinh(x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.cosh(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * sinh(ctx.x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Tanh(Op):
    """tanh(x). Derivative: g (1 - tanh(x)**2), from the saved output."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.tanh(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (g * (1 - out * out),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """The same as one op, TanhBackward: one array pass instead of three ops."""
        return (apply(TanhBackward, (g, ctx.out)),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class TanhBackward(Op):
    """g (1 - out**2), tanh's vjp as one op (PyTorch's tanh_backward): Tanh's `fast_vjp`, so a
    backward pass runs one array expression per tanh instead of three ops.
    Derivatives: 1 - out**2 for g, and -2 g out for out."""

    @staticmethod
    def forward(ctx: Node, g: Array, out: Array) -> Array:
        ctx.save(g=g, out=out)
        return g * (1 - out * out)

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        out = ctx.out
        # Linear in g with the same factor: its g-part is this op again (1 op, not 3).
        grad_g = apply(TanhBackward, (gg, out)) if ctx.next_edges[0] is not None else None
        grad_out = -2 * gg * ctx.g * out if ctx.next_edges[1] is not None else None
        return (grad_g, grad_out)

    @staticmethod
    def jvp(ctx: Node, t_g: Any, t_out: Any) -> Any:
        out = ctx.out
        return _sum_tangents(
            None if t_g is None else apply(TanhBackward, (t_g, out)),
            None if t_out is None else -2 * ctx.g * out * t_out,
        )

    batch = elementwise_batch


class Erf(Op):
    """erf(x). Derivative: g 2/sqrt(pi) exp(-x**2)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.backend.erf(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g * (2.0 / math.sqrt(math.pi)) * exp(-(x * x)),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Erfc(Op):
    """1 - erf(x), computed directly so the tail keeps its relative accuracy (erfc(10) is
    2e-45, where 1 - erf(10) is 0). Derivative: -g 2/sqrt(pi) exp(-x**2)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.backend.erfc(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g * (-2.0 / math.sqrt(math.pi)) * exp(-(x * x)),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


def _sigmoid_array(xp: Any, x: Array) -> Array:
    """1 / (1 + exp(-x)), PyTorch's formula: below about -88 (float32) exp(-x) overflows to
    inf and the result is 0, as PyTorch's; elsewhere accurate in both tails. Four passes in
    place; the branch-free form matters: selecting between exp(-|x|) forms by the sign ran
    14x slower on a (256, 1024) float32 array (a select on random signs)."""
    if x.dtype.kind == "c":
        return 1 / (1 + xp.exp(-x))
    wide = _opmath(x)
    out = xp.negative(wide, out=xp.empty_like(wide))  # an array even when x is 0-d
    xp.exp(out, out=out)
    out += 1
    xp.reciprocal(out, out=out)
    return out.astype(x.dtype, copy=False)


class Sigmoid(Op):
    """1 / (1 + exp(-x)), computed without overflow. Derivative: g out (1 - out)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = _sigmoid_array(ctx.xp, x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (g * out * (1 - out),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """The same as one op, SigmoidBackward: one array pass instead of three ops."""
        return (apply(SigmoidBackward, (g, ctx.out)),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class SigmoidBackward(Op):
    """g out (1 - out), sigmoid's vjp as one op (PyTorch's sigmoid_backward).
    Derivatives: out (1 - out) for g, and g (1 - 2 out) for out."""

    @staticmethod
    def forward(ctx: Node, g: Array, out: Array) -> Array:
        ctx.save(g=g, out=out)
        return g * out * (1 - out)

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        out = ctx.out
        # Linear in g with the same factor: its g-part is this op again (1 op, not 3).
        grad_g = apply(SigmoidBackward, (gg, out)) if ctx.next_edges[0] is not None else None
        grad_out = gg * ctx.g * (1 - 2 * out) if ctx.next_edges[1] is not None else None
        return (grad_g, grad_out)

    @staticmethod
    def jvp(ctx: Node, t_g: Any, t_out: Any) -> Any:
        out = ctx.out
        return _sum_tangents(
            None if t_g is None else apply(SigmoidBackward, (t_g, out)),
            None if t_out is None else ctx.g * (1 - 2 * out) * t_out,
        )

    batch = elementwise_batch


class Logit(Op):
    """log(x / (1 - x)), with x clamped to [eps, 1 - eps] when eps is given.
    Derivative: g / (x (1 - x)); with eps, 0 outside [eps, 1 - eps]; without, nan outside
    [0, 1], and at -0 the pole of +0 (g * inf, PyTorch's conventions)."""

    @staticmethod
    def forward(ctx: Node, x: Array, eps: float | None) -> Array:
        ctx.save(x=x, eps=eps)
        wide = _opmath(x)
        z = wide if eps is None else ctx.xp.clip(wide, eps, 1 - eps)
        return ctx.xp.log(z / (1 - z)).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        grad = g / (x * (1 - x) + 0.0)  # (+ 0.0 makes a -0 denominator +0, as PyTorch's)
        if ctx.eps is None:
            return (where((x < 0) | (x > 1), math.nan, grad),)
        return (where((x < ctx.eps) | (x > 1 - ctx.eps), 0.0, grad),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Floor(Op):
    """floor(x). Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.floor(x)

    vjp = _piecewise_constant_vjp
    jvp = _piecewise_constant_jvp
    batch = elementwise_batch


class Ceil(Op):
    """ceil(x). Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.ceil(x)

    vjp = _piecewise_constant_vjp
    jvp = _piecewise_constant_jvp
    batch = elementwise_batch


class Round(Op):
    """Round half to even, to `decimals` places. Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array, decimals: int) -> Array:
        return ctx.xp.round(x, decimals)

    vjp = _piecewise_constant_vjp
    jvp = _piecewise_constant_jvp
    batch = elementwise_batch


class Trunc(Op):
    """trunc(x). Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.trunc(x)

    vjp = _piecewise_constant_vjp
    jvp = _piecewise_constant_jvp
    batch = elementwise_batch


class Frac(Op):
    """x - trunc(x). Derivative: g."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return x - ctx.xp.trunc(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


# ---- inverse hyperbolic, sinc, and the overflow-safe binary functions ----------------------


class Asinh(Op):
    """asinh(x). Derivative: g / sqrt(x**2 + 1)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.arcsinh(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g * rsqrt(x * x + 1),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Acosh(Op):
    """acosh(x), nan below 1. Derivative: g / sqrt(x**2 - 1) (inf at 1, as PyTorch)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.arccosh(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g * rsqrt(x * x - 1),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Atanh(Op):
    """atanh(x), +-inf at +-1. Derivative: g / (1 - x**2)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.arctanh(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g / (1 - x * x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Sinc(Op):
    """sin(pi x) / (pi x), 1 at 0 (NumPy's normalised sinc, PyTorch's sinc). Derivative:
    (cos(pi x) - sinc(x)) / x, taken as 0 at x = 0 (PyTorch's convention; its mask makes the
    second derivative there nan, not -pi^2 / 3, in PyTorch and here)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.sinc(x)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, out = ctx.x, ctx.out
        slope = (cos(math.pi * x) - out) / x  # 0/0 at 0, masked: torch's nan one order up
        return (where(x == 0, 0.0, g * slope),)  # +0 at 0 whatever g's sign, as PyTorch

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


def _partials_vjp(ctx: Node, g: Any) -> tuple:
    """vjp of a broadcasting binary op from its `partial(ctx, index)`, the local derivative
    with respect to operand `index` (written in chainrule ops)."""
    grads = []
    for index in (0, 1):
        if ctx.next_edges[index] is None:
            grads.append(None)
        else:
            local = ctx.op.partial(ctx, index)
            grads.append(unbroadcast(g * local, ctx.input_meta[index][0]))
    return tuple(grads)


def _partials_jvp(ctx: Node, tx: Any, ty: Any) -> Any:
    """jvp of a broadcasting binary op from its `partial(ctx, index)`."""
    parts = [None if t is None else t * ctx.op.partial(ctx, i) for i, t in enumerate((tx, ty))]
    return _finish_tangent(ctx, _sum_tangents(*parts))


def _operand(ctx: Node, index: int) -> Any:
    return ctx.x if index == 0 else ctx.y


def _complex_logaddexp(xp: Any, x: Array, y: Array) -> Array:
    """log(exp(x) + exp(y)) of complex operands, as PyTorch's: the operand of larger real part
    plus log1p(exp(the other - it)); nan where an operand has a nan part, the operand itself
    where both real parts are -inf, and the plain formula where both are +inf."""
    swap = x.real < y.real
    big, small = xp.where(swap, y, x), xp.where(swap, x, y)
    out = big + xp.log1p(xp.exp(small - big))
    infinite = ~xp.isfinite(small.real) & (small.real == big.real)
    if infinite.any():
        plain = xp.log(xp.exp(small) + xp.exp(big))
        out = xp.where(infinite, xp.where(small.real < 0, small, plain), out)
    has_nan = xp.isnan(x) | xp.isnan(y)
    return xp.where(has_nan, complex(math.nan, math.nan), out).astype(out.dtype, copy=False)


@holomorphic
class LogAddExp(Op):
    """log(exp(x) + exp(y)), computed without overflow. Derivatives: the softmax weights of
    the two operands, 1 / (1 + exp(y - x)) and 1 / (1 + exp(x - y)): PyTorch's form, exact
    where exp(x - out) is not (one operand infinite, or both huge so that out rounds to x).
    Holomorphic, so complex operands take the same rule (`_complex_logaddexp` forward)."""

    @classmethod
    def node_name(cls) -> str:
        return "LogaddexpBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        if x.dtype.kind == "c":
            return _complex_logaddexp(ctx.xp, x, y)
        return ctx.xp.logaddexp(x, y)

    @staticmethod
    def partial(ctx: Node, index: int) -> Any:
        return 1 / (1 + exp(_operand(ctx, 1 - index) - _operand(ctx, index)))

    vjp, jvp, batch = _partials_vjp, _partials_jvp, elementwise_batch


class LogAddExp2(Op):
    """log2(2**x + 2**y), computed without overflow. Derivatives: 1 / (1 + 2**(y - x)) and
    1 / (1 + 2**(x - y)) (PyTorch's form, exact where 2**(x - out) is not)."""

    @classmethod
    def node_name(cls) -> str:
        return "Logaddexp2Backward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.logaddexp2(x, y)

    @staticmethod
    def partial(ctx: Node, index: int) -> Any:
        return 1 / (1 + exp2(_operand(ctx, 1 - index) - _operand(ctx, index)))

    vjp, jvp, batch = _partials_vjp, _partials_jvp, elementwise_batch


class Hypot(Op):
    """sqrt(x**2 + y**2) without overflow. Derivatives: x / out and y / out (nan at the
    origin, as PyTorch)."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        out = ctx.xp.hypot(x, y)
        ctx.save(x=x, y=y, out=out)
        return out

    @staticmethod
    def partial(ctx: Node, index: int) -> Any:
        return _operand(ctx, index) / ctx.out

    vjp, jvp, batch = _partials_vjp, _partials_jvp, elementwise_batch


class XLogY(Op):
    """x log(y), 0 where x == 0 (unless y is nan), as PyTorch's xlogy. Derivatives, PyTorch's:
    xlogy(g, y) for x, 0 where x == 0 and y <= 0 (where log(y) is -inf or nan); g x / y for y
    (nan at x == y == 0)."""

    @classmethod
    def node_name(cls) -> str:
        return "XlogyBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        xp = ctx.xp
        product = x * xp.log(y)
        return xp.where((x == 0) & ~xp.isnan(y), 0, product).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y = ctx.x, ctx.y
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(_xlogy_x_part(g, x, y), ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(g * x / y, ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y = ctx.x, ctx.y
        dx = None if tx is None else _xlogy_x_part(tx, x, y)
        dy = None if ty is None else ty * x / y
        return _finish_tangent(ctx, _sum_tangents(dx, dy))

    batch = elementwise_batch


def _xlogy_x_part(g: Any, x: Any, y: Any) -> Any:
    """g log(y) as xlogy(g, y), zeroed where x == 0 and y <= 0 (PyTorch's mask)."""
    return where((x == 0) & (y <= 0), 0.0, apply(XLogY, (g, y)))


class Copysign(Op):
    """|x| with the sign (bit) of y. Derivatives, PyTorch's: g out / x for x (+-g), 0 where
    x == 0; zero for y."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        out = ctx.xp.copysign(x, y)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(g * _copysign_ratio(ctx.x, ctx.out), ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = _zero_grad(ctx, 1)
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        if tx is None:
            return None
        return _finish_tangent(ctx, tx * _copysign_ratio(ctx.x, ctx.out))

    batch = elementwise_batch


def _copysign_ratio(x: Any, out: Any) -> Any:
    """out / x (+-1), 0 where x == 0."""
    zero = x == 0
    safe_x = where(zero, 1.0, x)  # 0 / 0 would warn, though where drops it
    return where(zero, 0.0, out / safe_x)


# The ops whose derivative formulas hold for complex z as written (holomorphic functions, and
# the bilinear mul): their complex variants (ops/complex.py) conjugate the cotangent.
for _op in (
    Mul, Div, Pow, Exp, Exp2, Expm1, Log, Log1p, Log2, Log10, Sqrt, Rsqrt, Square, Reciprocal,
    Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Tanh, Sigmoid, Asinh, Acosh, Atanh, Sinc,
):  # fmt: skip
    holomorphic(_op)
_COMPLEX_MUL = complex_variant(Mul)


# The Args sections shared by the generated functions' docstrings (see `with_sections`).
BINARY_ARGS = (
    "    input (Tensor or number): the first operand.\n"
    "    other (Tensor or number): the second; the two broadcast together and promote to a\n"
    "        common dtype, as PyTorch."
)
UNARY_FLOAT_ARGS = (
    "    input (Tensor or number): floating point or complex, any shape; integer and bool input\n"
    "        is computed in the default dtype (float32)."
)
OUT_ARG = "\n    out (Tensor, optional): write the result here (PyTorch's out= dtype rule)."


def with_sections(doc: str | None, args: str, returns: str, call: str, result: str) -> str:
    """A public function's docstring: `doc` (its op's: the formula and derivative) followed by
    PyTorch's sections. The example runs `chainrule.<call>` and prints `result`;
    tests/test_docs.py executes it, so the text cannot drift from the code."""
    example = f"    >>> import chainrule\n    >>> chainrule.{call}\n" + textwrap.indent(
        result, "    "
    )
    return (
        f"{inspect.cleandoc(doc or '')}\n\nArgs:\n{args}\n\nReturns:\n    {returns}\n\n"
        f"Example:\n{example}\n"
    )


def _on_sparse(name: str, input: Any, function: Callable) -> Tensor:  # noqa: A002
    """Called while handling the NotImplementedError a sparse tensor (ops/sparse.py, a layer
    above) raises when asked for its array: `function` of its stored values where f(0) = 0,
    as PyTorch's sparse kernels. Any other input re-raises the error being handled."""
    mapper = getattr(input, "_map_zero_preserving", None)
    if mapper is None:
        raise  # noqa: PLE0704 - re-raise the caller's active exception
    return mapper(name, function)


def _unary(op: type, example: str, result: str) -> Callable[[Tensor | Number], Tensor]:
    """The public function for a unary op on floating input (integers promote to float32). Its
    docstring is the op's (the formula and derivative) with PyTorch's sections, the example
    calling it on `example` and printing `result` (tests/test_docs.py runs it)."""

    def function(input: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        if out is not None:
            return write_out(name, function(input), out)
        x = input if isinstance(input, Tensor) else tensor_of(input)
        try:
            kind = x._array.dtype.kind
        except NotImplementedError:  # a sparse tensor has no array
            return _on_sparse(name, x, function)
        if kind in "fV":  # the common case first: one dtype test, as before complex existed
            return apply(op, (x,))
        if kind == "c":
            return apply(complex_variant(op), (x,))
        return apply(op, (cast(x, dtypes.get_default_dtype()),))

    function.__name__ = name = op.__name__.lower()
    call = f"{name}(chainrule.tensor({example}))"
    function.__doc__ = with_sections(
        op.__doc__, UNARY_FLOAT_ARGS + OUT_ARG, "Tensor: the shape of `input`.", call, result
    )
    return function


exp = _unary(Exp, "[0.0, 1.0]", "tensor([1.0000, 2.7183])")
exp2 = _unary(Exp2, "[0.0, 3.0]", "tensor([1., 8.])")
expm1 = _unary(Expm1, "[0.0, 1.0]", "tensor([0.0000, 1.7183])")
log = _unary(Log, "[1.0, 2.718281828]", "tensor([0., 1.])")
log1p = _unary(Log1p, "[0.0, 1.0]", "tensor([0.0000, 0.6931])")
log2 = _unary(Log2, "[1.0, 8.0]", "tensor([0., 3.])")
log10 = _unary(Log10, "[1.0, 1000.0]", "tensor([0.0000, 3.0000])")
sqrt = _unary(Sqrt, "[4.0, 2.0]", "tensor([2.0000, 1.4142])")
rsqrt = _unary(Rsqrt, "[4.0, 0.25]", "tensor([0.5000, 2.0000])")
reciprocal = _unary(Reciprocal, "[2.0, -4.0]", "tensor([ 0.5000, -0.2500])")
sin = _unary(Sin, "[0.0, 1.5707963]", "tensor([0., 1.])")
cos = _unary(Cos, "[0.0, 3.1415927]", "tensor([ 1., -1.])")
tan = _unary(Tan, "[0.0, 0.7853982]", "tensor([0., 1.])")
asin = _unary(Asin, "[0.0, 1.0]", "tensor([0.0000, 1.5708])")
acos = _unary(Acos, "[1.0, 0.0]", "tensor([0.0000, 1.5708])")
atan = _unary(Atan, "[0.0, 1.0]", "tensor([0.0000, 0.7854])")
sinh = _unary(Sinh, "[0.0, 1.0]", "tensor([0.0000, 1.1752])")
cosh = _unary(Cosh, "[0.0, 1.0]", "tensor([1.0000, 1.5431])")
tanh = _unary(Tanh, "[0.0, 1.0]", "tensor([0.0000, 0.7616])")
erf = _unary(Erf, "[0.0, 1.0]", "tensor([0.0000, 0.8427])")
erfc = _unary(Erfc, "[0.0, 1.0]", "tensor([1.0000, 0.1573])")
sigmoid = _unary(Sigmoid, "[0.0, 2.0]", "tensor([0.5000, 0.8808])")
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
asinh = _unary(Asinh, "[0.0, 1.0]", "tensor([0.0000, 0.8814])")
acosh = _unary(Acosh, "[1.0, 2.0]", "tensor([0.0000, 1.3170])")
atanh = _unary(Atanh, "[0.0, 0.5]", "tensor([0.0000, 0.5493])")
sinc = _unary(Sinc, "[0.0, 0.5]", "tensor([1.0000, 0.6366])")
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def _floating_binary(
    op: type, name: str, call: str, result: str
) -> Callable[[Tensor | Number, Tensor | Number], Tensor]:
    """The public function for a binary op on floating operands (an integer or bool tensor
    beside a float one promotes; two of them are refused, as PyTorch has no integer kernel),
    documented with an example `call` -> `result`. Complex operands run the op's
    `holomorphic` variant where it has one, else are refused."""

    def function(
        input: Tensor | Number,  # noqa: A002
        other: Tensor | Number,
        *,
        out: Tensor | None = None,
    ) -> Tensor:
        if out is not None:
            return write_out(name, function(input, other), out)
        if isinstance(input, Tensor) and isinstance(other, Tensor):
            promoted = result_type(input, other)
            if promoted.category <= dtypes.INTEGER:
                raise DTypeError(f"{name}: not implemented for {promoted.name} tensors")
        input, other = _widened_for_number(input, other)  # noqa: A001
        x, y = binary_operands(input, other, name)
        if x._array.dtype.kind == "c":
            return apply(complex_variant(op), (x, y))  # (a DTypeError where there is none)
        if x._array.dtype.kind not in "fV":  # (beside a Python number, which PyTorch refuses)
            x, y = _default_float(x), _default_float(y)
        return apply(op, (x, y))

    function.__name__ = name
    returns = "Tensor: floating point, of the broadcast shape."
    function.__doc__ = with_sections(op.__doc__, BINARY_ARGS + OUT_ARG, returns, call, result)
    return function


logaddexp = _floating_binary(
    LogAddExp,
    "logaddexp",
    "logaddexp(chainrule.tensor([0.0, 100.0]), chainrule.tensor([0.0, 100.0]))",
    "tensor([  0.6931, 100.6931])",
)
logaddexp2 = _floating_binary(
    LogAddExp2,
    "logaddexp2",
    "logaddexp2(chainrule.tensor([1.0, 3.0]), chainrule.tensor([1.0, 3.0]))",
    "tensor([2., 4.])",
)
hypot = _floating_binary(
    Hypot, "hypot", "hypot(chainrule.tensor([3.0, 5.0]), 4.0)", "tensor([5.0000, 6.4031])"
)


def _float_operands(name: str, input: Any, other: Any) -> tuple[Any, Any]:  # noqa: A002
    """Both operands promoted together, then integers and bool to the default dtype."""
    input, other = _widened_for_number(input, other)  # noqa: A001
    x, y = binary_operands(input, other, name)
    refuse_complex(name, x)
    if x._array.dtype.kind not in "fV":
        x, y = _default_float(x), _default_float(y)
    return x, y


def xlogy(input: Tensor | Number, other: Tensor | Number) -> Tensor:  # noqa: A002
    """input * log(other), 0 where input == 0 (unless other is nan); either may be a number.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
            Integers give the default float dtype.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.xlogy(chainrule.tensor([0.0, 2.0]), chainrule.tensor([0.0, 1.0]))
        tensor([0., 0.])
    """
    out = apply(XLogY, _float_operands("xlogy", input, other))
    if not isinstance(other, Tensor):
        return named(out, "XlogyBackward2")  # PyTorch's xlogy(Tensor, Scalar)
    return out if isinstance(input, Tensor) else named(out, "XlogyBackward1")


def copysign(
    input: Tensor | Number,  # noqa: A002
    other: Tensor | Number,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """|input| with the sign of other (-0.0 counts as negative); integers give floats.

    Args:
        input (Tensor or number): the first operand.
        other (Tensor or number): the second; the two broadcast together and promote to a common
            dtype.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.copysign(chainrule.tensor([1.0, -2.0]), -0.0)
        tensor([-1., -2.])
    """
    if out is not None:
        return write_out("copysign", copysign(input, other), out, "cast")
    out = apply(Copysign, _float_operands("copysign", input, other))
    return out if isinstance(other, Tensor) else named(out, "CopysignBackward1")


def ldexp(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """input * 2**other for tensors of any dtypes (promoted together; integers give floats).
    Derivatives those of the product: 2**other, and input 2**other ln 2.

    Args:
        input (Tensor): the mantissas.
        other (Tensor): the exponents; broadcasts with `input`.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.ldexp(chainrule.tensor([1.0]), chainrule.tensor([3]))
        tensor([8.])
    """
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"ldexp(): argument '{name}' must be Tensor, not {type(value).__name__}"
            )
    if input._array.dtype.kind == "c" or other._array.dtype.kind == "c":
        # PyTorch's complex ldexp is input * 2.0**other, promoted as that product is
        return named(mul(input, pow(2.0, other)), "LdexpBackward0")
    x, y = _float_operands("ldexp", input, other)
    if other._array.dtype.kind in "fV":
        y = other  # PyTorch's 2.0**other keeps a floating exponent's dtype, then multiplies
    return named(x * exp2(y), "LdexpBackward0")


FrexpResult = return_type("frexp", ["mantissa", "exponent"])


class FrexpParts(Op):
    """frexp's exponent e (int32) and the scale 2**-e as two factors 2**-(e // 2) and
    2**-(e - e // 2) (float32 for float16 input): constants, from which frexp builds the
    mantissa x * 2**-e. Two factors because 2**-e itself overflows for a subnormal x (2**1073
    for 5e-324) while each half and the products stay exact. Not differentiable itself."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array) -> tuple:
        xp = ctx.xp
        exponent = xp.frexp(x)[1].astype(dtypes.int32.numpy, copy=False)
        work = xp.float32 if x.dtype == xp.float16 else x.dtype
        one = xp.ones((), work)
        half = exponent // 2
        return exponent, xp.ldexp(one, -half), xp.ldexp(one, half - exponent)

    batch = elementwise_batch


def frexp(input: Tensor) -> FrexpResult:  # noqa: A002
    """(mantissa, exponent) with input = mantissa * 2**exponent, |mantissa| in [0.5, 1) (0 for
    0): a named tuple, the exponent int32. The mantissa is input * 2**-exponent, exactly, so
    its derivative is 2**-exponent.

    Args:
        input (Tensor): floating point, any shape.

    Returns:
        (Tensor, Tensor): a named tuple (mantissa, exponent), each the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.frexp(chainrule.tensor([8.0, -3.0]))
        chainrule.return_types.frexp(
        mantissa=tensor([ 0.5000, -0.7500]),
        exponent=tensor([4, 2], dtype=chainrule.int32))
    """
    input = _tensor_operand(input)  # noqa: A001
    if input._array.dtype.kind not in "fV":
        raise DTypeError("frexp: only supports floating-point dtypes")
    exponent, scale, rest = apply(FrexpParts, (input,))
    mantissa = cast(cast(input, scale.dtype) * scale * rest, input.dtype)
    return FrexpResult(named(mantissa, "FrexpBackward0"), exponent)


def clamp_min(input: Tensor, min: Number | Tensor) -> Tensor:  # noqa: A001, A002
    """clamp(input, min=min): every value below `min` raised to it.

    Args:
        input (Tensor): any shape.
        min (number or Tensor): the lower bound (a tensor broadcasts with `input`).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.clamp_min(chainrule.tensor([-1.0, 2.0]), 0.0)
        tensor([0., 2.])
    """
    return named(
        clamp(input, min=min),
        "ClampMinBackward0" if not isinstance(min, Tensor) else "ClampMinBackward1",
    )


def clamp_max(input: Tensor, max: Number | Tensor) -> Tensor:  # noqa: A001, A002
    """clamp(input, max=max): every value above `max` lowered to it.

    Args:
        input (Tensor): any shape.
        max (number or Tensor): the upper bound (a tensor broadcasts with `input`).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.clamp_max(chainrule.tensor([-1.0, 2.0]), 1.0)
        tensor([-1.,  1.])
    """
    return named(
        clamp(input, max=max),
        "ClampMaxBackward0" if not isinstance(max, Tensor) else "ClampMaxBackward1",
    )


true_divide = div


def deg2rad(input: Tensor) -> Tensor:  # noqa: A002
    """Degrees to radians, x * pi / 180 (integers give float32).

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.deg2rad(chainrule.tensor([180.0, 90.0]))
        tensor([3.1416, 1.5708])
    """
    return named(floating_operand(input) * (math.pi / 180.0), "Deg2RadBackward0")


def rad2deg(input: Tensor) -> Tensor:  # noqa: A002
    """Radians to degrees, x * 180 / pi (integers give float32).

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.rad2deg(chainrule.tensor([3.1415927]))
        tensor([180.])
    """
    return named(floating_operand(input) * (180.0 / math.pi), "Rad2DegBackward0")


def neg(input: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """-input; keeps integer dtypes (unsigned ones wrap around), refuses bool like PyTorch.
    `negative` is the same function.

    Args:
        input (Tensor or number): any dtype but bool.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.neg(chainrule.tensor([1, -2]))
        tensor([-1,  2])
    """
    if out is not None:
        return write_out("neg", neg(input), out, "same")
    input = _tensor_operand(input)  # noqa: A001
    if input._array.dtype.kind == "b":
        raise DTypeError(
            "neg: negation, the `-` operator, on a bool tensor is not supported; use `~` or "
            "logical_not"
        )
    return apply(Neg, (input,))


def abs(input: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    """|input|, keeping integer dtypes; the modulus, a real tensor, for complex input. The
    derivative at 0 is 0 (PyTorch's). `absolute` is the same function.

    Args:
        input (Tensor or number): any shape.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.abs(chainrule.tensor([-1.5, 2.0]))
        tensor([1.5000, 2.0000])
        >>> chainrule.abs(chainrule.tensor([3 + 4j]))
        tensor([5.])
    """
    if out is not None:
        # (a complex input's real magnitudes cast into a real out, and into a complex out of
        # the input's own dtype only; any other input keeps its dtype)
        complex_input = isinstance(input, Tensor) and input._array.dtype.kind == "c"
        if complex_input and isinstance(out, Tensor) and out.dtype.is_complex:
            return write_out("abs", abs(input).to(input.dtype), out, "same")
        return write_out("abs", abs(input), out, "cast" if complex_input else "same")
    try:
        input = _refuse_bool("abs", input)  # noqa: A001
    except NotImplementedError:  # a sparse tensor has no array
        return _on_sparse("abs", input, abs)
    if input._array.dtype.kind == "c":
        return apply(ComplexAbs, (input,))
    return apply(Abs, (input,))


class ComplexAbs(Op):
    """|z| of a complex z, real. Derivative: g * z / |z| backward (0 at z = 0, PyTorch's
    sgn), Re(conj(z) t) / |z| forward."""

    label = "abs"

    @classmethod
    def node_name(cls) -> str:
        return "AbsBackward0"

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.abs(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * sgn(ctx.x),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return real(conj(sgn(ctx.x)) * t)

    batch = elementwise_batch


def angle(input: Tensor) -> Tensor:  # noqa: A002
    """The argument of each element in radians: atan2(imag, real) for complex input (real
    output), 0 or pi for real input (nan stays nan). Derivative: that of atan2 for complex
    input, 0 for real input (PyTorch's).

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: real, the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.angle(chainrule.tensor([1j, -1.0 + 0j]))
        tensor([1.5708, 3.1416])
    """
    input = _tensor_operand(input)  # noqa: A001
    if input._array.dtype.kind == "c":
        return named(atan2(imag(input), real(input)), "AngleBackward0")
    x = floating_operand(input, "angle")
    constant = x.detach()
    out = where(constant < 0, math.pi, where(isnan(constant), constant, 0.0))
    return named(connected(out, x), "AngleBackward0")  # in x's graph, at zero derivative


@autocast_policy(FLOAT32)
def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    """abs * (cos(angle) + i sin(angle)) from two real tensors of one dtype, as torch.polar.

    Args:
        abs (Tensor): the moduli, float32 or float64.
        angle (Tensor): the arguments in radians, of the dtype of `abs`.

    Returns:
        Tensor: complex, of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.polar(chainrule.tensor([2.0]), chainrule.tensor([0.0]))
        tensor([2.+0.j])
    """
    for name, value in (("abs", abs), ("angle", angle)):
        if not isinstance(value, Tensor):
            kind = type(value).__name__
            raise TypeError(f"polar(): argument '{name}' must be Tensor, not {kind}")
    # PyTorch promotes neither operand: integers, complex and mixed precisions are refused.
    names = [dtypes.scalar_type_name(value.dtype) for value in (abs, angle)]
    if any(value._array.dtype.kind not in "fV" for value in (abs, angle)) or any(
        value.dtype == dtypes.bfloat16 for value in (abs, angle)
    ):
        raise DTypeError(
            f"polar: Expected both inputs to be Half, Float or Double tensors but got {names[0]} "
            f"and {names[1]}"
        )
    if abs.dtype != angle.dtype:
        raise DTypeError(
            f"polar: Expected object of scalar type {names[0]} but got scalar type {names[1]} "
            "for second argument"
        )
    if abs.dtype == dtypes.float16 and abs.device.type == "cpu":  # PyTorch's CPU has no kernel
        raise DTypeError("polar: \"polar_cpu\" not implemented for 'Half'")
    modulus = abs
    if abs.requires_grad and not has_tangent(abs):
        # PyTorch's backward goes through its result's sign: d/d(abs) is sgn(abs) e^(i angle),
        # so a zero modulus gets no gradient (one that starts at zero stays there) and a
        # negative one a negated gradient. |abs| plus the detached rest has the value of abs
        # and that derivative, to second order as PyTorch's (its forward mode is exact).
        magnitude = abs.abs()
        modulus = magnitude + (abs - magnitude).detach()
    return named(complex_ops.complex(modulus * cos(angle), modulus * sin(angle)), "PolarBackward0")


def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """-1, 0 or 1 in input's dtype (a bool tensor is its own sign); complex tensors are refused,
    as PyTorch's (`sgn` is their sign). Zero derivative.

    Args:
        input (Tensor): real, any shape.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.sign(chainrule.tensor([-2.0, 0.0, 3.0]))
        tensor([-1.,  0.,  1.])
    """
    if out is not None:
        return write_out("sign", sign(input), out, "same")
    input = _tensor_operand(input)  # noqa: A001
    try:
        kind = input._array.dtype.kind
    except NotImplementedError:  # a sparse tensor has no array
        return _on_sparse("sign", input, sign)
    if kind == "c":
        raise DTypeError(
            "sign: Unlike NumPy, torch.sign is not intended to support complex numbers. "
            "Please use sgn instead."
        )
    if input._array.dtype.kind == "b":
        return input.clone()
    return apply(Sign, (input,))


def sgn(input: Tensor) -> Tensor:  # noqa: A002
    """z / |z| for complex tensors (0 at 0), sign(input) for real ones, as PyTorch's sgn.
    Derivative: that of the composition, 0 at 0.

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.sgn(chainrule.tensor([3 + 4j, 0j]))
        tensor([0.6000+0.8000j, 0.0000+0.0000j])
    """
    input = _tensor_operand(input)  # noqa: A001
    if input._array.dtype.kind != "c":
        return named(sign(input), "SgnBackward0")
    magnitude = abs(input)
    at_zero = magnitude == 0
    return named(where(at_zero, 0.0, input / where(at_zero, 1.0, magnitude)), "SgnBackward0")


def square(input: Tensor | Number, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input * input, keeping integer dtypes; bool becomes int64 (PyTorch's pow(x, 2)).

    Args:
        input (Tensor or number): any shape.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.square(chainrule.tensor([-2, 3]))
        tensor([4, 9])
    """
    if out is not None:
        return write_out("square", square(input), out, "cast")
    input = _tensor_operand(input)  # noqa: A001
    try:
        kind = input._array.dtype.kind
    except NotImplementedError:  # a sparse tensor has no array
        return _on_sparse("square", input, square)
    if kind == "b":
        input = cast(input, dtypes.int64)  # noqa: A001
    return apply(Square if input._array.dtype.kind != "c" else complex_variant(Square), (input,))


negative, absolute = neg, abs


def positive(input: Tensor) -> Tensor:  # noqa: A002
    """`input` itself (unary plus); bool tensors are refused, as in PyTorch.

    Args:
        input (Tensor): any dtype but bool.

    Returns:
        Tensor: `input`.

    Example:
        >>> import chainrule
        >>> chainrule.positive(chainrule.tensor([-1.0]))
        tensor([-1.])
    """
    return _refuse_bool("positive", input)


def _keep_integers(op: type, result: str) -> Callable[[Tensor], Tensor]:
    """floor/ceil/trunc: a copy for integer tensors, an error for bool, as in PyTorch; the
    example applies it to [-1.5, 0.5, 2.0] and prints `result`."""
    name = op.__name__.lower()

    def function(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
        if out is not None:
            return write_out(name, function(input), out, "same")
        try:
            input = _refuse_bool(name, input)  # noqa: A001
        except NotImplementedError:  # a sparse tensor has no array
            return _on_sparse(name, input, function)
        refuse_complex(name, input)
        if input._array.dtype.kind not in "fV":
            return input.clone()
        return apply(op, (input,))

    function.__name__ = name
    function.__doc__ = with_sections(
        op.__doc__,
        "    input (Tensor): any real dtype but bool; integer input is returned as a copy."
        + OUT_ARG,
        "Tensor: the shape and dtype of `input`.",
        f"{name}(chainrule.tensor([-1.5, 0.5, 2.0]))",
        result,
    )
    return function


floor = _keep_integers(Floor, "tensor([-2.,  0.,  2.])")
ceil = _keep_integers(Ceil, "tensor([-1.,  1.,  2.])")
trunc = _keep_integers(Trunc, "tensor([-1.,  0.,  2.])")
fix = trunc


def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input - trunc(input), the fractional part with the sign of `input`, for floating tensors
    only (as PyTorch).

    Args:
        input (Tensor): floating point.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.frac(chainrule.tensor([1.25, -1.25]))
        tensor([ 0.2500, -0.2500])
    """
    if out is not None:
        return write_out("frac", frac(input), out, "same")
    return apply(Frac, (_require_floating("frac", input),))


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A001, A002
    """Round half to even (2.5 to 2, 3.5 to 4), or to `decimals` decimal places; integer tensors
    are returned as a copy (decimals must then be 0). Zero derivative.

    Args:
        input (Tensor): any shape.
        decimals (int): the number of decimal places (negative rounds to tens, hundreds...).
        out (Tensor, optional): write the result here (of the result's dtype, as PyTorch).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.round(chainrule.tensor([0.5, 1.5, 2.5]))
        tensor([0., 2., 2.])
        >>> chainrule.round(chainrule.tensor([1.2345]), decimals=2)
        tensor([1.2300])
    """
    if out is not None:
        return write_out("round", round(input, decimals=decimals), out, "same")
    input = _refuse_bool("round", input)  # noqa: A001
    refuse_complex("round", input)
    if input._array.dtype.kind not in "fV":
        if decimals != 0:
            raise DTypeError(f"round: decimals is not supported for {input.dtype.name} tensors")
        return input.clone()
    out = apply(Round, (input,), int(decimals))
    return out if decimals == 0 else named(out, "RoundBackward1")


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002
    """log(p / (1 - p)), the inverse of sigmoid. With `eps`, p is first clamped to
    [eps, 1 - eps] (the gradient is zero where the clamp acts), else 0 and 1 give -inf and inf.

    Args:
        input (Tensor): probabilities, any shape (integers give the default float dtype).
        eps (float, optional): the clamp margin.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.logit(chainrule.tensor([0.5, 0.75]))
        tensor([0.0000, 1.0986])
    """
    return apply(Logit, (floating_operand(input, "logit"),), eps)


# ---- clamp, where, lerp, nan_to_num ----------------------------------------------------------


class Clamp(Op):
    """min(max(x, lo), hi) with scalar bounds (hi wins when lo > hi). Derivative: g where
    lo <= x <= hi (the bounds themselves pass gradient, as PyTorch), else 0."""

    @classmethod
    def node_name(cls) -> str:
        return "ClampBackward1"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array, lo: Any, hi: Any) -> Array:
        ctx.save(x=x, lo=lo, hi=hi)
        if hi is None and lo is not None and lo == 0 and not isinstance(lo, complex):
            return ctx.backend.relu(x)  # clamp(min=0), the common case: -0.0 kept, one pass
        out = ctx.xp.clip(x, lo, hi).astype(x.dtype, copy=False)
        if (lo is not None and lo == 0) or (hi is not None and hi == 0):
            # a signed zero at a zero bound is kept (PyTorch's max(x, lo) gives x on a tie:
            # clamp(-0.0, min=0) is -0.0); NumPy's clip answers either zero by dtype and loop.
            # Only where the result is a zero: the other bound may move x (min=0, max=-1).
            zeros = (x == 0) & (out == 0)
            out = ctx.xp.where(zeros, x, out) if zeros.any() else out
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (where(_clamp_keeps(ctx.x, ctx.lo, ctx.hi), g, 0.0),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


def _clamp_keeps(x: Any, lo: Any, hi: Any) -> Any:
    """Where clamp passes x through: lo <= x <= hi, for whichever bounds are given."""
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return (x >= lo) & (x <= hi)


class ClampTensor(Op):
    """min(max(x, lo), hi) with tensor bounds, broadcast together; either bound may be absent
    (`names` says which are given). Derivatives, PyTorch's: g to x where lo <= x <= hi; to lo
    where x < lo < hi (just x < lo without hi); to hi where x > hi or hi < lo (so hi wins
    crossed bounds); nan in x or a bound gives nan."""

    @classmethod
    def node_name(cls) -> str:
        return "ClampBackward0"  # PyTorch's name

    label = "clamp"

    @staticmethod
    def forward(ctx: Node, x: Array, *bounds_and_names: Any) -> Array:
        *arrays, names = bounds_and_names
        ctx.save(x=x, **dict(zip(names, arrays)), names=names)
        xp = ctx.xp
        out = x
        for name, bound in zip(names, arrays):
            out = xp.maximum(out, bound) if name == "lo" else xp.minimum(out, bound)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        lo = ctx.lo if "lo" in ctx.names else None
        hi = ctx.hi if "hi" in ctx.names else None
        grads = []
        if ctx.next_edges[0] is not None:
            grads.append(unbroadcast(where(_clamp_keeps(x, lo, hi), g, 0.0), ctx.input_meta[0][0]))
        else:
            grads.append(None)
        for index, name in enumerate(ctx.names, start=1):
            if ctx.next_edges[index] is None:
                grads.append(None)
                continue
            takes = _bound_takes(name, x, lo, hi)
            grads.append(unbroadcast(where(takes, g, 0.0), ctx.input_meta[index][0]))
        return tuple(grads)

    @staticmethod
    def jvp(ctx: Node, tx: Any, *t_bounds: Any) -> Any:
        x = ctx.x
        lo = ctx.lo if "lo" in ctx.names else None
        hi = ctx.hi if "hi" in ctx.names else None
        total = None if tx is None else where(_clamp_keeps(x, lo, hi), tx, 0.0)
        for name, t in zip(ctx.names, t_bounds):
            if t is not None:
                total = _sum_tangents(total, where(_bound_takes(name, x, lo, hi), t, 0.0))
        return _finish_tangent(ctx, total)

    batch = elementwise_batch


def _bound_takes(name: str, x: Any, lo: Any, hi: Any) -> Any:
    """Where the clamp's result is the bound `name` ('lo' or 'hi'): hi wins crossed bounds."""
    if name == "lo":
        return x < lo if hi is None else (x < lo) & (lo < hi)
    return x > hi if lo is None else (x > hi) | (hi < lo)


def clamp(
    input: Tensor,  # noqa: A002
    min: Number | Tensor | None = None,  # noqa: A002
    max: Number | Tensor | None = None,  # noqa: A002
    *,
    out: Tensor | None = None,
) -> Tensor:
    """Clamp to [min, max] (max wins if min > max); bounds may be numbers or tensors, which
    broadcast with input and take part in type promotion. The gradient is 1 inside the bounds
    and flows to a tensor bound where it acts. `clip` is the same function.

    Args:
        input (Tensor): any shape.
        min (number or Tensor, optional): the lower bound.
        max (number or Tensor, optional): the upper bound (at least one of the two).
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.clamp(chainrule.tensor([-2.0, 0.5, 3.0]), min=chainrule.tensor(0.0), max=1)
        tensor([0.0000, 0.5000, 1.0000])
    """
    if out is not None:
        # (tensor bounds: the result casts into out; number bounds: out has its dtype)
        rule = "cast" if isinstance(min, Tensor) or isinstance(max, Tensor) else "same"
        return write_out("clamp", clamp(input, min, max), out, rule)
    if min is None and max is None:
        raise DomainError("clamp: At least one of 'min' or 'max' must not be None")
    input = _tensor_operand(input)  # noqa: A001
    min, max = _number_overload_bounds(min, max)  # noqa: A001
    if isinstance(min, complex) or isinstance(max, complex):
        raise DTypeError("clamp: clamp is not supported for complex types")
    refuse_complex("clamp", input, min, max)
    _check_operands("clamp", *(b for b in (min, max) if b is not None))
    bounds = [b for b in (min, max) if b is not None]
    dtype = result_type(input, *bounds)
    if not any(isinstance(b, Tensor) or is_array(b) for b in bounds):
        if dtype.category == dtypes.INTEGER:  # PyTorch's conversion: -2 on uint8 is 254,
            min, max = (  # noqa: A001 - 300 on uint8 overflows
                None if b is None else checked_fill("clamp", b, dtype) for b in (min, max)
            )
        return apply(Clamp, (cast(input, dtype),), min, max)
    names, tensors = [], []
    for name, bound in (("lo", min), ("hi", max)):
        if bound is not None:
            names.append(name)
            tensors.append(as_tensor_operand(bound, dtype, input))
    return apply(ClampTensor, (cast(input, dtype), *tensors), tuple(names))


clip = clamp


def _number_overload_bounds(low: Any, high: Any) -> tuple:
    """A 0-d tensor bound beside a number bound is a number, as PyTorch's clamp(Tensor,
    Number, Number) overload reads it: it then promotes like a Python number (a bool
    tensor clamped to a float64 0-d tensor and 2.0 is float32)."""
    bounds = (low, high)
    numbers = [b for b in bounds if isinstance(b, (int, float)) and not isinstance(b, Tensor)]
    tensors = [b for b in bounds if isinstance(b, Tensor)]
    if len(numbers) != 1 or len(tensors) != 1:
        return low, high
    tensor = tensors[0]
    value = None if tensor._array.ndim or tensor._requires_grad else scalar_value(tensor)
    if value is None:
        return low, high
    return (value, high) if low is tensor else (low, value)


class Where(Op):
    """cond ? x : y. Derivative: g where cond to x, g elsewhere to y (reduced over broadcasting)."""

    # its vjp reads the condition alone
    vjp_reads_inputs = (0,)

    @staticmethod
    def forward(ctx: Node, condition: Array, x: Array, y: Array) -> Array:
        ctx.save(condition=condition)
        return ctx.backend.where(condition, x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        condition = ctx.condition
        grad_x = grad_y = None
        if ctx.next_edges[1] is not None:
            grad_x = unbroadcast(where(condition, g, 0.0), ctx.input_meta[1][0])
        if ctx.next_edges[2] is not None:
            grad_y = unbroadcast(where(condition, 0.0, g), ctx.input_meta[2][0])
        return (None, grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, t_condition: Any, tx: Any, ty: Any) -> Any:
        if tx is None and ty is None:
            return None
        condition = ctx.condition
        tx = 0.0 if tx is None else tx
        ty = 0.0 if ty is None else ty
        return _finish_tangent(ctx, where(condition, tx, ty))

    batch = elementwise_batch


class Nonzero(Op):
    """Indices of the non-zero elements, one row per element. Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.argwhere(x).astype(dtypes.int64.numpy, copy=False)

    @staticmethod
    def batch(b: Any, x: Any) -> Any:
        """vmap: refused, as PyTorch does: the result's shape depends on each example."""
        raise RuntimeError(
            "vmap: We do not support batching operators that can support dynamic shape. "
            "Attempting to batch over nonzero."
        )


# One result type per call form, for static tools: an (n, ndim) Tensor, or a tuple of them.
@overload
def nonzero(input: Tensor, *, as_tuple: Literal[False] = False) -> Tensor: ...  # noqa: A002
@overload
def nonzero(input: Tensor, *, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...  # noqa: A002
@overload
def nonzero(input: Tensor, *, as_tuple: bool) -> Tensor | tuple[Tensor, ...]: ...  # noqa: A002
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:  # noqa: A002
    """The positions of the nonzero elements, in row-major order: an (n, ndim) int64 tensor, or
    with as_tuple one index tensor per dimension (a 0-dim input gives a single one, as PyTorch).
    Not differentiable.

    Args:
        input (Tensor): any shape.
        as_tuple (bool): return one 1-D index tensor per dimension (usable as an index).

    Returns:
        Tensor, or a tuple of Tensors with `as_tuple`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[0, 1], [1, 0]])
        >>> chainrule.nonzero(x)
        tensor([[0, 1],
                [1, 0]])
        >>> chainrule.nonzero(x, as_tuple=True)
        (tensor([0, 1]), tensor([1, 0]))
    """
    result = apply(Nonzero, (input,))
    if not as_tuple:
        return result
    if input.ndim == 0:
        count = result.shape[0]
        return (Tensor._from_array(input._backend.xp.zeros(count, dtypes.int64.numpy)),)
    array = result._array
    return tuple(Tensor._from_array(array[:, i].copy()) for i in range(array.shape[1]))


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:  # noqa: A002
    """`nonzero(input)` with exactly `size` rows: the first `size` positions, padded with rows
    of `fill_value` when there are fewer (a shape known in advance, as compiled code wants).
    Not differentiable.

    Args:
        input (Tensor): any shape.
        size (int): the number of rows, at least 0.
        fill_value (int): the value of the padding rows.

    Returns:
        Tensor: int64 (size, input.ndim).

    Example:
        >>> import chainrule
        >>> chainrule.nonzero_static(chainrule.tensor([0, 3, 0, 5]), size=3)
        tensor([[ 1],
                [ 3],
                [-1]])
    """
    if size < 0:
        raise DomainError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    found = apply(Nonzero, (input,))._array[:size]
    xp = input._backend.xp
    padding = xp.full((size - found.shape[0], found.shape[1]), fill_value, dtype=found.dtype)
    return Tensor._from_array(xp.concatenate((found, padding)))


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    """The indices of the nonzero elements of `input`, one row per element (shape
    (count, input.ndim)), in row-major order: `nonzero(input)`.

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: int64 (count, input.ndim).

    Example:
        >>> import chainrule
        >>> chainrule.argwhere(chainrule.tensor([[0, 1], [1, 0]]))
        tensor([[0, 1],
                [1, 0]])
    """
    return nonzero(input)


# One result type per call form, for static tools: where(c) gives index tensors, as nonzero.
@overload
def where(condition: Tensor) -> tuple[Tensor, ...]: ...
@overload
def where(
    condition: Tensor,
    input: Tensor | Number,  # noqa: A002
    other: Tensor | Number,
    *,
    out: Tensor | None = None,
) -> Tensor: ...
def where(
    condition: Tensor,
    input: Tensor | Number | None = None,  # noqa: A002
    other: Tensor | Number | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """input where condition is True, else other, elementwise with broadcasting; the gradient of
    each goes to the positions it was chosen at. `where(condition)` alone gives the indices, as
    `nonzero(condition, as_tuple=True)`.

    Args:
        condition (Tensor): bool.
        input (Tensor or number, optional): the values where `condition` holds.
        other (Tensor or number, optional): the values elsewhere.
        out (Tensor, optional): write the result here (of the result's dtype, as PyTorch).

    Returns:
        Tensor: of the broadcast shape (a tuple of index tensors for `where(condition)`).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([-1.0, 2.0])
        >>> chainrule.where(x > 0, x, 0.0)
        tensor([0., 2.])
    """
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if out is not None:
        return write_out("where", where(condition, input, other), out, "same")
    condition = _tensor_operand(condition)
    kind = condition._array.dtype.kind
    if kind != "b":
        if condition._array.dtype.name != "uint8":  # PyTorch still accepts uint8, deprecated
            raise DTypeError(
                f"where: expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{condition.dtype.name}"
            )
        condition = cast(condition, dtypes.bool_)
    if isinstance(input, Tensor) or isinstance(other, Tensor):
        x, y = binary_operands(input, other, "where")
    else:
        _check_operands("where", input, other)
        dtype = result_type(input, other)
        x = as_tensor_operand(input, dtype, condition)
        y = as_tensor_operand(other, dtype, condition)
    return apply(Where, (condition, x, y))


def tensor_where(self: Tensor, condition: Tensor, y: Tensor | Number) -> Tensor:
    """Tensor.where(condition, y): self where condition, else y."""
    return where(condition, self, y)


class Lerp(Op):
    """start + weight (end - start), computed from the nearer end and with the multiply-add
    rounded once (float32 and the half dtypes), as PyTorch's kernel does. Derivatives:
    g (1 - weight), g weight, g (end - start). A Python-number weight with float16 or
    bfloat16 ends comes as a float32 0-dim operand, not rounded to their dtype first
    (PyTorch's kernel takes the number as float32)."""

    # the weight is read for every gradient, start and end only for the weight's
    vjp_reads_inputs = staticmethod(lambda index, edges: index == 2 or edges[2] is not None)

    wide_scalar_operands = True

    @staticmethod
    def forward(ctx: Node, start: Array, end: Array, weight: Array) -> Array:
        ctx.save(start=start, end=end, weight=weight)
        xp = ctx.xp
        wide_start, wide_end, wide_weight = _opmath(start), _opmath(end), _opmath(weight)
        difference = wide_end - wide_start
        complement = 1 - wide_weight
        if difference.dtype == xp.float32:
            # PyTorch's kernel fuses each multiply-add (one rounding, not two): in float64 the
            # product of two float32 numbers is exact, so the sum rounds once to float32
            exact = xp.float64
            wide_start, wide_end = wide_start.astype(exact), wide_end.astype(exact)
            wide_weight, complement = wide_weight.astype(exact), complement.astype(exact)
            difference = difference.astype(exact)
        from_start = wide_start + wide_weight * difference
        from_end = wide_end - difference * complement
        out = xp.where(xp.abs(wide_weight) < 0.5, from_start, from_end)
        return out.astype(start.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        weight = ctx.weight
        if weight.dtype != g.dtype and weight.ndim == 0:  # the float32 number of a half lerp
            weight = weight.item()  # g times it computes in float32, as PyTorch's LerpBackward0
        meta, edges = ctx.input_meta, ctx.next_edges
        grad_start = grad_end = grad_weight = None
        if edges[0] is not None:
            grad_start = unbroadcast(g * (1 - weight), meta[0][0])
        if edges[1] is not None:
            grad_end = unbroadcast(g * weight, meta[1][0])
        if edges[2] is not None:
            grad_weight = unbroadcast(g * (ctx.end - ctx.start), meta[2][0])
        return (grad_start, grad_end, grad_weight)

    @staticmethod
    def jvp(ctx: Node, t_start: Any, t_end: Any, t_weight: Any) -> Any:
        weight = ctx.weight
        total = None if t_start is None else t_start * (1 - weight)
        if t_end is not None:
            total = _sum_tangents(total, t_end * weight)
        if t_weight is not None:
            total = _sum_tangents(total, t_weight * (ctx.end - ctx.start))
        return _finish_tangent(ctx, total)

    batch = elementwise_batch


holomorphic(Lerp)  # a polynomial in its operands: holomorphic in each


def lerp(input: Tensor, end: Tensor, weight: float | Tensor) -> Tensor:  # noqa: A002
    """Linear interpolation input + weight * (end - input); input and end must share a floating
    dtype, and a weight tensor must have it too unless it is 0-dim (PyTorch's rules).

    Args:
        input (Tensor): the start points.
        end (Tensor): the end points; broadcasts with `input`.
        weight (float or Tensor): 0 gives `input`, 1 gives `end`.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.lerp(chainrule.tensor([0.0, 10.0]), chainrule.tensor([1.0, 20.0]), 0.25)
        tensor([ 0.2500, 12.5000])
    """
    start = _tensor_operand(input)
    if start._array.dtype.kind not in "fcV":
        raise DTypeError(f"lerp: not implemented for {start.dtype.name} tensors")
    dtype = start.dtype
    end = _tensor_operand(end)
    if end.dtype is not dtype:
        raise DTypeError(f"lerp: expected dtype {dtype.name} for `end` but got {end.dtype.name}")
    weight_is_tensor = isinstance(weight, Tensor)  # PyTorch's LerpBackward1, else 0
    if weight_is_tensor:
        if weight.dtype is not dtype:
            if weight._array.ndim:
                raise DTypeError(
                    f"lerp: expected dtype {dtype.name} for `weight` but got {weight.dtype.name}"
                )
            weight = cast(weight, dtype)
    else:
        _check_operands("lerp", weight)
        if isinstance(weight, complex) and dtype.category != dtypes.COMPLEX:
            raise DomainError(
                f"lerp: value cannot be converted to type {dtype.name} without overflow"
            )
        half = dtype in (dtypes.float16, dtypes.bfloat16)
        weight = as_tensor_operand(weight, dtypes.float32 if half else dtype, start)
    op = Lerp if dtype.category != dtypes.COMPLEX else complex_variant(Lerp)
    out = apply(op, (start, end, weight))
    return named(out, "LerpBackward1") if weight_is_tensor else out


class NanToNum(Op):
    """nan, +inf and -inf replaced by given values (by default 0 and the dtype's largest
    finite values). Derivative: g where x is finite, 0 where it was replaced."""

    label = "nan_to_num"

    @staticmethod
    def forward(ctx: Node, x: Array, nan: float, posinf: Any, neginf: Any) -> Array:
        ctx.save(x=x)
        return ctx.xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (where(isfinite(ctx.x), g, 0.0),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


def nan_to_num(
    input: Tensor,  # noqa: A002
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    """`input` with NaN replaced by `nan` (0 by default), +inf by `posinf` and -inf by `neginf`
    (the dtype's largest and smallest finite values by default). The gradient passes through
    where the value is kept and is zero where it was replaced.

    Args:
        input (Tensor): any shape.
        nan (float): the value for NaN.
        posinf (float, optional): the value for +inf.
        neginf (float, optional): the value for -inf.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.nan_to_num(chainrule.tensor([float("nan"), 1.0, float("inf")]), posinf=9.0)
        tensor([0., 1., 9.])
    """
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if isinstance(value, complex):
            raise TypeError(f"nan_to_num(): argument '{name}' must be float, not complex")
    input = _tensor_operand(input)  # noqa: A001
    if input._array.dtype.kind not in "fV":
        return input.clone()
    if posinf is None or neginf is None:  # the input dtype's, not float32's (a half forward)
        limits = dtypes.finfo(input.dtype)
        posinf = limits.max if posinf is None else posinf
        neginf = limits.min if neginf is None else neginf
    return apply(NanToNum, (input,), nan, posinf, neginf)


# ---- comparisons and logic (not differentiable) -----------------------------------------------


def _comparison(
    name: str,
    ufunc_name: str,
    meaning: str,
    example: tuple[str, str],
    integral_only: bool = False,
    ordered: bool = False,
    refuse_bool: bool = False,
) -> tuple[type, Any]:
    """The op and public function of an elementwise comparison, logical or bitwise op; the
    function's docstring says `meaning` and runs `example` (a call and its printed result).
    `refuse_bool`: bool tensors are refused too (gcd and lcm, as PyTorch)."""
    out_rule = "cast" if integral_only else "any"  # (a bitwise result casts; a bool any way)

    def forward(ctx: Node, x: Array, y: Array) -> Array:
        return getattr(ctx.xp, ufunc_name)(x, y)

    op = type(
        "".join(part.capitalize() for part in name.split("_")),
        (Op,),
        {
            "differentiable": False,
            "forward": staticmethod(forward),
            "label": name,
            "__doc__": f"{name}(x, y) elementwise. Not differentiable.",
            "batch": elementwise_batch,
        },
    )

    def function(
        input: Tensor,  # noqa: A002
        other: Tensor | Number,
        *,
        out: Tensor | None = None,
    ) -> Tensor:
        if out is not None:  # (PyTorch writes a comparison into out of any dtype)
            return write_out(name, function(input, other), out, out_rule)
        if not (is_operand(input) and is_operand(other)):
            return NotImplemented  # so `t == None` is False and `t < None` a TypeError
        x, y = binary_operands(input, other, name)
        kind = x._array.dtype.kind
        refused = (integral_only and kind in "fcV") or (refuse_bool and kind == "b")
        if refused or (ordered and kind == "c"):
            raise DTypeError(f"{name}: not implemented for {x.dtype.name} tensors")
        return apply(op, (x, y))

    function.__name__ = name
    kind = "of the promoted integer (or bool) dtype" if integral_only else "bool"
    function.__doc__ = with_sections(
        f"{meaning}, elementwise with broadcasting. Not differentiable.",
        BINARY_ARGS + OUT_ARG,
        f"Tensor: {kind}, of the broadcast shape.",
        *example,
    )
    return op, function


Eq, eq = _comparison(
    "eq",
    "equal",
    "input == other",
    ("eq(chainrule.tensor([1, 2]), chainrule.tensor([1, 3]))", "tensor([ True, False])"),
)
Ne, ne = _comparison(
    "ne",
    "not_equal",
    "input != other",
    ("ne(chainrule.tensor([1, 2]), 2)", "tensor([ True, False])"),
)
Lt, lt = _comparison(
    "lt",
    "less",
    "input < other (real dtypes)",
    ("lt(chainrule.tensor([1.0, 2.0]), 2.0)", "tensor([ True, False])"),
    ordered=True,
)
Le, le = _comparison(
    "le",
    "less_equal",
    "input <= other (real dtypes)",
    ("le(chainrule.tensor([1.0, 2.0]), 1.5)", "tensor([ True, False])"),
    ordered=True,
)
Gt, gt = _comparison(
    "gt",
    "greater",
    "input > other (real dtypes)",
    ("gt(chainrule.tensor([1.0, 2.0]), 1.5)", "tensor([False,  True])"),
    ordered=True,
)
Ge, ge = _comparison(
    "ge",
    "greater_equal",
    "input >= other (real dtypes)",
    ("ge(chainrule.tensor([1.0, 2.0]), 2.0)", "tensor([False,  True])"),
    ordered=True,
)
LogicalAnd, logical_and = _comparison(
    "logical_and",
    "logical_and",
    "Whether both are nonzero",
    (
        "logical_and(chainrule.tensor([0, 1, 2]), chainrule.tensor([1, 1, 0]))",
        "tensor([False,  True, False])",
    ),
)
LogicalOr, logical_or = _comparison(
    "logical_or",
    "logical_or",
    "Whether either is nonzero",
    (
        "logical_or(chainrule.tensor([0, 1, 0]), chainrule.tensor([0, 0, 3]))",
        "tensor([False,  True,  True])",
    ),
)
LogicalXor, logical_xor = _comparison(
    "logical_xor",
    "logical_xor",
    "Whether exactly one is nonzero",
    (
        "logical_xor(chainrule.tensor([0, 1, 2]), chainrule.tensor([1, 1, 0]))",
        "tensor([ True, False,  True])",
    ),
)
BitwiseAnd, bitwise_and = _comparison(
    "bitwise_and",
    "bitwise_and",
    "input & other for integer and bool tensors",
    ("bitwise_and(chainrule.tensor([12, 10]), 6)", "tensor([4, 2])"),
    integral_only=True,
)
BitwiseOr, bitwise_or = _comparison(
    "bitwise_or",
    "bitwise_or",
    "input | other for integer and bool tensors",
    ("bitwise_or(chainrule.tensor([12, 10]), 6)", "tensor([14, 14])"),
    integral_only=True,
)
BitwiseXor, bitwise_xor = _comparison(
    "bitwise_xor",
    "bitwise_xor",
    "input ^ other for integer and bool tensors",
    ("bitwise_xor(chainrule.tensor([12, 10]), 6)", "tensor([10, 12])"),
    integral_only=True,
)
BitwiseLeftShift, bitwise_left_shift = _comparison(
    "bitwise_left_shift",
    "left_shift",
    "input << other (integer tensors)",
    ("bitwise_left_shift(chainrule.tensor([1, 3]), 2)", "tensor([ 4, 12])"),
    integral_only=True,
)
BitwiseRightShift, bitwise_right_shift = _comparison(
    "bitwise_right_shift",
    "right_shift",
    "input >> other (integer tensors)",
    ("bitwise_right_shift(chainrule.tensor([8, 13]), 2)", "tensor([2, 3])"),
    integral_only=True,
)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


class Overwritten(Op):
    """`values`, raw and of x's shape and dtype, standing in the graph for an op without a
    derivative that writes into x in place (`x.lt_(y)` on a float x). Derivative: zero for x
    and for a tensor y, as PyTorch's LtBackward1, so both stay in the graph (the result
    requires grad) and their histories receive zeros."""

    label = "overwritten"

    @staticmethod
    def forward(ctx: Node, *arrays_then_values: Array) -> Array:
        return arrays_then_values[-1]

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        zero = zeros_like(g)
        return tuple(
            cast(unbroadcast(zero, shape), dtype) if edge is not None else None
            for edge, (shape, dtype) in zip(ctx.next_edges, ctx.input_meta)
        )

    @staticmethod
    def jvp(ctx: Node, *tangents: Any) -> Any:
        return None


# PyTorch's node name of each comparison written in place (`x.greater_(y)` is GtBackward1).
_COMPARISON_NODE_NAMES = {"eq": "Eq", "ne": "Ne", "lt": "Lt", "le": "Le", "gt": "Gt", "ge": "Ge"}
_COMPARISON_NODE_NAMES.update(
    greater="Gt", greater_equal="Ge", less="Lt", less_equal="Le", not_equal="Ne"
)


def inplace_comparison(name: str) -> Callable:
    """The function behind `x.lt_(y)`: the comparison, as x's dtype; when x or y requires grad
    and grad mode is on, an `Overwritten` node over both (LtBackward0 for a number y,
    LtBackward1 for a tensor y), so x keeps requiring grad and gets a zero gradient, as in
    PyTorch, instead of silently leaving the graph."""
    comparison = globals()[name]
    node_name = _COMPARISON_NODE_NAMES[name]

    def function(input: Tensor, other: Tensor | Number) -> Tensor:  # noqa: A002
        result = comparison(input, other)
        if result is NotImplemented:
            raise TypeError(f"{name}_(): argument 'other' must be Tensor or Number")
        values = result._array.astype(input._array.dtype)
        operands = (input, other) if isinstance(other, Tensor) else (input,)
        recorded = grad_mode.is_grad_enabled() and any(t._requires_grad for t in operands)
        if not recorded:
            return Tensor._from_array(values, input._backend)
        suffix = "1" if isinstance(other, Tensor) else "0"
        return named(apply(Overwritten, operands, values), f"{node_name}Backward{suffix}")

    function.__name__ = f"{name}_"
    return function


Gcd, gcd = _comparison(
    "gcd",
    "gcd",
    "The greatest common divisor of |input| and |other| (integer tensors; gcd(0, 0) = 0)",
    ("gcd(chainrule.tensor([4, 6, 0]), chainrule.tensor([6, -4, 0]))", "tensor([2, 2, 0])"),
    integral_only=True,
    refuse_bool=True,
)
Lcm, lcm = _comparison(
    "lcm",
    "lcm",
    "The least common multiple of |input| and |other| (integer tensors; 0 where either is 0)",
    ("lcm(chainrule.tensor([4, -4, 3]), chainrule.tensor([6, 6, 0]))", "tensor([12, 12,  0])"),
    integral_only=True,
    refuse_bool=True,
)


class Nextafter(Op):
    """The next representable float after x in the direction of y (x itself where x == y).
    Derivatives, PyTorch's: g for x where x != y (one ulp is no change to first order), 0
    where x == y (the output is y there); zeros for y. bfloat16 steps its own bit pattern: a
    float32 step would round back to x."""

    bfloat16_native = True  # forward sees bfloat16 itself, not float32

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        xp = ctx.xp
        ctx.save(x=x, y=y)
        if x.dtype.kind != "V":
            return xp.nextafter(x, y)
        # bfloat16 (no ufunc of its own): one step of the bit pattern, towards y
        x, y = xp.broadcast_arrays(x, y)
        bits = x.view(xp.uint16).astype(xp.int32)
        step = xp.where((x < y) == (x > 0), 1, -1)
        smallest = xp.where(y > 0, 1, 0x8001)  # the smallest subnormal, with y's sign
        stepped = xp.where(x == 0, smallest, bits + step).astype(xp.uint16).view(x.dtype)
        return xp.where((x == y) | xp.isnan(x) | xp.isnan(y), x + y - x, stepped)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(where(ctx.x != ctx.y, g, 0.0), ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = _zero_grad(ctx, 1)
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        if tx is None:
            return None
        return _finish_tangent(ctx, where(ctx.x != ctx.y, tx, 0.0))

    batch = elementwise_batch


def nextafter(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The next floating-point value after `input` towards `other`, elementwise with
    broadcasting. Its gradient passes to `input` unchanged where `input != other` (zero where
    they are equal, and to `other`), as PyTorch's.

    Args:
        input (Tensor): floating point, any shape.
        other (Tensor): floating point, broadcastable with `input`.

    Returns:
        Tensor: of the promoted floating dtype and the broadcast shape.

    Example:
        >>> import chainrule
        >>> eps = chainrule.nextafter(chainrule.tensor([1.0]), chainrule.tensor([2.0])) - 1
        >>> bool(eps == chainrule.finfo(chainrule.float32).eps)
        True
    """
    x, y = binary_operands(input, other, "nextafter")
    if x._array.dtype.kind not in "fV":
        raise DTypeError(f"nextafter: not implemented for {x.dtype.name} tensors")
    return apply(Nextafter, (x, y))


# PyTorch's longer names of the arithmetic ops (`torch.divide`, `torch.multiply`, ...).
divide = div
multiply = mul
subtract = sub


def _predicate(
    name: str,
    ufunc_name: str = "",
    forward: Any = None,
    doc: str = "",
    example: tuple[str, str] | None = None,
) -> tuple[type, Any]:
    """A non-differentiable elementwise test: the op and its public function. It applies the
    NumPy ufunc `ufunc_name`, or `forward` where one is given; a public function's docstring
    runs `example` (a call and its printed result)."""
    if forward is None:

        def forward(ctx: Node, x: Array) -> Array:
            return getattr(ctx.xp, ufunc_name)(x)

    op = type(
        "".join(part.capitalize() for part in name.split("_")),
        (Op,),
        {
            "differentiable": False,
            "forward": staticmethod(forward),
            "label": name,
            "__doc__": doc or f"{name}(x) elementwise. Not differentiable.",
            "batch": elementwise_batch,
        },
    )

    def function(input: Tensor) -> Tensor:  # noqa: A002
        return apply(op, (_tensor_operand(input),))

    function.__name__ = name
    function.__doc__ = op.__doc__
    if example is not None:
        returns = "Tensor: bool, the shape of `input`."
        args = "    input (Tensor or number): any shape."
        function.__doc__ = with_sections(op.__doc__, args, returns, *example)
    return op, function


LogicalNot, logical_not = _predicate(
    "logical_not",
    "logical_not",
    example=("logical_not(chainrule.tensor([0, 1, 2]))", "tensor([ True, False, False])"),
)
BitwiseNot, _bitwise_not = _predicate("bitwise_not", "invert")
Isnan, isnan = _predicate(
    "isnan",
    "isnan",
    example=('isnan(chainrule.tensor([1.0, float("nan")]))', "tensor([False,  True])"),
)
Isinf, isinf = _predicate(
    "isinf",
    "isinf",
    example=('isinf(chainrule.tensor([1.0, float("-inf")]))', "tensor([False,  True])"),
)
Isfinite, isfinite = _predicate(
    "isfinite",
    "isfinite",
    example=(
        'isfinite(chainrule.tensor([1.0, float("inf"), float("nan")]))',
        "tensor([ True, False, False])",
    ),
)
Signbit, signbit = _predicate(
    "signbit",
    "signbit",
    example=("signbit(chainrule.tensor([-1.0, -0.0, 2.0]))", "tensor([ True,  True, False])"),
)


def _equals_infinity(sign: float) -> Any:
    """forward of isposinf / isneginf: x == sign * inf, all False for integers and bool."""

    def forward(ctx: Node, x: Array) -> Array:
        if x.dtype.kind not in "fV":
            return ctx.xp.zeros(x.shape, dtype=bool)
        return x == sign * math.inf

    return forward


Isposinf, isposinf = _predicate(
    "isposinf",
    forward=_equals_infinity(1.0),
    doc="x == +inf elementwise (False for integers). Not differentiable.",
    example=(
        'isposinf(chainrule.tensor([float("inf"), float("-inf"), 1.0]))',
        "tensor([ True, False, False])",
    ),
)
Isneginf, isneginf = _predicate(
    "isneginf",
    forward=_equals_infinity(-1.0),
    doc="x == -inf elementwise (False for integers). Not differentiable.",
    example=(
        'isneginf(chainrule.tensor([float("inf"), float("-inf"), 1.0]))',
        "tensor([False,  True, False])",
    ),
)


def _require_tensor(name: str, input: Any) -> Any:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input


def isreal(input: Tensor) -> Tensor:  # noqa: A002
    """Where the imaginary part is 0 (True everywhere for real dtypes), as PyTorch's isreal.

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: bool, the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.isreal(chainrule.tensor([1 + 0j, 1j]))
        tensor([ True, False])
    """
    input = _require_tensor("isreal", input)  # noqa: A001
    backend = input._backend
    if input._array.dtype.kind == "c":
        return Tensor._from_array(input._array.imag == 0, backend)
    return Tensor._from_array(backend.xp.ones(input.shape, dtype=bool), backend)


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    """Whether input's dtype is a floating-point one (float16, float32, float64).

    Args:
        input (Tensor): any shape.

    Returns:
        bool

    Example:
        >>> import chainrule
        >>> chainrule.is_floating_point(chainrule.tensor([1.0]))
        True
        >>> chainrule.is_floating_point(chainrule.tensor([1]))
        False
    """
    return _require_tensor("is_floating_point", input)._array.dtype.kind in "fV"


def is_complex(input: Tensor) -> bool:  # noqa: A002
    """Whether input's dtype is a complex one (complex64, complex128).

    Args:
        input (Tensor): any shape.

    Returns:
        bool

    Example:
        >>> import chainrule
        >>> chainrule.is_complex(chainrule.tensor([1j]))
        True
        >>> chainrule.is_complex(chainrule.tensor([1.0]))
        False
    """
    return _require_tensor("is_complex", input)._array.dtype.kind == "c"


def is_inference(input: Tensor) -> bool:  # noqa: A002
    """Whether input is an inference tensor: made inside `inference_mode()` (or a view of
    one), so that outside it, it cannot be saved for backward or written in place.

    Args:
        input (Tensor): any shape.

    Returns:
        bool

    Example:
        >>> import chainrule
        >>> with chainrule.inference_mode():
        ...     x = chainrule.ones(2)
        >>> chainrule.is_inference(x), chainrule.is_inference(x.clone())
        (True, False)
    """
    counter = _require_tensor("is_inference", input)._version_counter
    return type(counter) is InferenceVersionCounter


def is_signed(input: Tensor) -> bool:  # noqa: A002
    """Whether input's dtype can hold negative values (every dtype but uint8 and bool).

    Args:
        input (Tensor): any shape.

    Returns:
        bool

    Example:
        >>> import chainrule
        >>> chainrule.is_signed(chainrule.tensor([1], dtype=chainrule.uint8))
        False
    """
    return _require_tensor("is_signed", input)._array.dtype.kind not in "ub"


def is_nonzero(input: Tensor) -> bool:  # noqa: A002
    """Whether the single element of a one-element tensor is not zero (`bool(input)`);
    RuntimeError for no element or several.

    Args:
        input (Tensor): exactly one element.

    Returns:
        bool

    Example:
        >>> import chainrule
        >>> chainrule.is_nonzero(chainrule.tensor([0.5]))
        True
    """
    size = _require_tensor("is_nonzero", input)._array.size
    if size != 1:
        which = "no values" if size == 0 else "more than one value"
        raise RuntimeError(f"Boolean value of Tensor with {which} is ambiguous")
    return bool(input._array.reshape(-1)[0])


def is_same_size(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """Whether both tensors have the same shape.

    Args:
        input (Tensor): any shape.
        other (Tensor): any shape.

    Returns:
        bool

    Example:
        >>> import chainrule
        >>> chainrule.is_same_size(chainrule.ones(2, 3), chainrule.zeros(2, 3))
        True
    """
    return tuple(input.shape) == tuple(other.shape)


def get_device(input: Tensor) -> int:  # noqa: A002
    """The index of the accelerator holding `input`, or -1 on the CPU (PyTorch's convention).

    Args:
        input (Tensor): any tensor.

    Returns:
        int

    Example:
        >>> import chainrule
        >>> chainrule.get_device(chainrule.ones(2))
        -1
    """
    device = _require_tensor("get_device", input).device
    if device.type == "cpu":
        return -1
    return device.index or 0


class Heaviside(NoDerivative):
    """0 where x < 0, `values` where x == 0, 1 where x > 0 (0 for nan, as PyTorch). No
    derivative, as PyTorch."""

    aten = "heaviside"

    @staticmethod
    def forward(ctx: Node, x: Array, values: Array) -> Array:
        xp = ctx.xp
        return xp.where(x == 0, values, x > 0).astype(x.dtype, copy=False)

    batch = elementwise_batch


def heaviside(input: Tensor, values: Tensor) -> Tensor:  # noqa: A002
    """The Heaviside step function: 0 below 0, 1 above, `values` at 0; both tensors of one dtype.
    Not differentiable.

    Args:
        input (Tensor): real, any shape.
        values (Tensor): the value at 0; broadcasts with `input`.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.heaviside(chainrule.tensor([-1.0, 0.0, 2.0]), chainrule.tensor(0.5))
        tensor([0.0000, 0.5000, 1.0000])
    """
    input = _require_tensor("heaviside", input)  # noqa: A001
    if not isinstance(values, Tensor):
        raise TypeError(
            f"heaviside(): argument 'values' must be Tensor, not {type(values).__name__}"
        )
    if input.dtype is not values.dtype:
        raise DTypeError(
            f"heaviside: is not yet implemented for tensors with different dtypes "
            f"({input.dtype.name} and {values.dtype.name})"
        )
    if input._array.dtype.kind == "c":
        raise DTypeError("heaviside is not yet implemented for complex tensors.")
    _shape.broadcast_shapes(input.shape, values.shape)  # raises naming both shapes
    return apply(Heaviside, (input, values))


def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    """~input: the bitwise complement of an integer tensor, logical not of a bool one.

    Args:
        input (Tensor): integer or bool.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.bitwise_not(chainrule.tensor([True, False]))
        tensor([False,  True])
        >>> chainrule.bitwise_not(chainrule.tensor([0, 5]))
        tensor([-1, -6])
    """
    input = _tensor_operand(input)  # noqa: A001
    if input._array.dtype.kind in "fV":
        raise DTypeError("bitwise_not: not implemented for floating tensors (use logical_not)")
    if input._array.dtype.kind == "c":
        raise DTypeError("bitwise_not: not implemented for complex tensors")
    return _bitwise_not(input)


def isclose(
    input: Tensor,  # noqa: A002
    other: Tensor,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise (equal infinities are close); tensors
    must share a dtype (as PyTorch).

    Args:
        input (Tensor): any shape.
        other (Tensor): broadcastable with `input`, of its dtype.
        rtol (float): the relative tolerance.
        atol (float): the absolute tolerance.
        equal_nan (bool): count two NaNs as close.

    Returns:
        Tensor: bool, of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.isclose(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0 + 1e-9, 2.1]))
        tensor([ True, False])
    """
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        if input.dtype is not other.dtype:
            raise DTypeError(
                f"isclose: {input.dtype.name} did not match {other.dtype.name} (cast one of them)"
            )
    x, y = binary_operands(input, other, "isclose")
    broadcast_shapes(x.shape, y.shape)  # a ShapeError naming both, not NumPy's ValueError
    xp = x._backend.xp
    array = xp.isclose(x._array, y._array, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return Tensor._from_array(xp.asarray(array))  # 0-d operands: an array, not NumPy's bool_


def allclose(
    input: Tensor,  # noqa: A002
    other: Tensor,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> bool:
    """Whether every |input - other| <= atol + rtol * |other| (broadcasting), NaNs equal only with
    `equal_nan`.

    Args:
        input (Tensor): any shape.
        other (Tensor): broadcastable with `input`, of its dtype.
        rtol (float): the relative tolerance.
        atol (float): the absolute tolerance.
        equal_nan (bool): count two NaNs as close.

    Returns:
        bool

    Example:
        >>> import chainrule
        >>> chainrule.allclose(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.0 + 1e-9]))
        True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan)._array.all())


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True when both have the same shape and the same elements.

    Args:
        input (Tensor): any shape.
        other (Tensor): any shape.

    Returns:
        bool

    Example:
        >>> import chainrule
        >>> chainrule.equal(chainrule.tensor([1, 2]), chainrule.tensor([1, 2]))
        True
        >>> chainrule.equal(chainrule.tensor([1, 2]), chainrule.tensor([[1, 2]]))
        False
    """
    return input.shape == other.shape and bool((input._array == other._array).all())


# The public names: PyTorch's functions (helpers above stay importable by module path).
__all__ = [
    "nonzero_static",
    "get_device",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "divide",
    "gcd",
    "lcm",
    "multiply",
    "nextafter",
    "subtract",
    "abs",
    "angle",
    "polar",
    "absolute",
    "acos",
    "acosh",
    "add",
    "allclose",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "argwhere",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "bitwise_and",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "ceil",
    "clamp",
    "clamp_max",
    "clamp_min",
    "clip",
    "clone",
    "copysign",
    "cos",
    "cosh",
    "deg2rad",
    "div",
    "eq",
    "equal",
    "erf",
    "erfc",
    "exp",
    "exp2",
    "expm1",
    "fix",
    "float_power",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "frac",
    "frexp",
    "ge",
    "greater",
    "greater_equal",
    "gt",
    "heaviside",
    "hypot",
    "is_complex",
    "is_floating_point",
    "is_inference",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "isreal",
    "ldexp",
    "le",
    "lerp",
    "less",
    "less_equal",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "logaddexp2",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logit",
    "lt",
    "maximum",
    "minimum",
    "mul",
    "nan_to_num",
    "ne",
    "neg",
    "negative",
    "nonzero",
    "not_equal",
    "positive",
    "pow",
    "rad2deg",
    "reciprocal",
    "remainder",
    "result_type",
    "round",
    "rsqrt",
    "rsub",
    "sgn",
    "sigmoid",
    "sign",
    "signbit",
    "sin",
    "sinc",
    "sinh",
    "sqrt",
    "square",
    "sub",
    "tan",
    "tanh",
    "true_divide",
    "trunc",
    "where",
    "xlogy",
]
