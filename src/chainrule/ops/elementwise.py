"""Elementwise ops: arithmetic, transcendental functions, activations, comparisons.

Binary ops promote their operands with PyTorch's rules first (`binary_operands`), so each op's
forward sees two arrays of one dtype, and broadcast in forward; their vjps reduce the gradient
back to each operand's shape with `unbroadcast`. A unary op's Jacobian is diagonal, so its jvp
is its vjp applied to the tangent (`unary_elementwise_jvp`).
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes, is_array
from chainrule.backend.dtypes import promote_types
from chainrule.errors import DTypeError
from chainrule.ops import op as _op
from chainrule.ops.op import Op, apply, unbroadcast

# ---- operands and promotion ---------------------------------------------------------------


def _scalar_dtype(value: Any) -> dtypes.dtype:
    return dtypes.default_for_category(dtypes.category_of_scalar(value))


def result_type(*operands: Any) -> dtypes.dtype:
    """PyTorch's result type: dimensioned tensors, then 0-dim tensors, then Python scalars, each
    tier only able to raise the category (bool < integer < floating) of the one before."""
    tiers: list[dtypes.dtype | None] = [None, None, None]
    for value in operands:
        if isinstance(value, _op.Tensor):
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
    if lower is None or higher.is_floating_point:
        return higher
    if higher.category == dtypes.BOOL or lower.category > higher.category:
        return promote_types(higher, lower)
    return higher


def as_tensor_operand(value: Any, dtype: dtypes.dtype, like: Any) -> Any:
    """`value` as a Tensor of `dtype` on `like`'s device; Tensors of that dtype pass through."""
    if isinstance(value, _op.Tensor):
        if value._array.dtype == dtype.numpy:
            return value
        return cast(value, dtype)
    xp = like._backend.xp
    return _op.Tensor._wrap(xp.asarray(value, dtype=dtype.numpy))


def binary_operands(x: Any, y: Any) -> tuple[Any, Any]:
    """Both operands as Tensors of the promoted dtype (fast when they already agree)."""
    x_is_tensor = isinstance(x, _op.Tensor)
    if x_is_tensor and isinstance(y, _op.Tensor):
        if x._array.dtype == y._array.dtype:
            return x, y
    elif x_is_tensor and type(y) is float and x._array.dtype.kind == "f":
        return x, _op.Tensor._wrap(x._backend.xp.asarray(y, dtype=x._array.dtype))
    like = x if x_is_tensor else y
    if not isinstance(like, _op.Tensor):
        like = _op.Tensor._wrap(like) if is_array(like) else None
        if like is None:
            raise DTypeError(f"expected at least one Tensor operand, got {type(x)} and {type(y)}")
    dtype = result_type(x, y)
    return as_tensor_operand(x, dtype, like), as_tensor_operand(y, dtype, like)


def floating_operand(x: Any) -> Any:
    """Integer and bool tensors become float32 for ops like exp and sqrt, as in PyTorch."""
    if not isinstance(x, _op.Tensor):
        x = tensor_of(x)
    if x._array.dtype.kind != "f":
        return cast(x, dtypes.float32)
    return x


def tensor_of(value: Any) -> Any:
    from chainrule.ops.creation import tensor

    return tensor(value)


def unary_elementwise_jvp(ctx: Node, t: Any) -> Any:
    """A diagonal Jacobian is its own transpose: the jvp is the vjp applied to the tangent."""
    return ctx.op.vjp(ctx, t)[0]


def elementwise_batch(*args: Any) -> Any:  # vmap rule: elementwise ops batch trivially
    raise NotImplementedError


# ---- dtype conversion --------------------------------------------------------------------


class Cast(Op):
    """x.to(dtype). Derivative: the gradient cast back (the engine casts to the input's dtype)."""

    @staticmethod
    def forward(ctx: Node, x: Array, dtype: Any) -> Array:
        return x.astype(dtype, copy=False) if x.dtype != dtype else x.copy()

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g,)

    jvp = unary_elementwise_jvp


def cast(x: Any, dtype: dtypes.dtype) -> Any:
    if x._array.dtype == dtype.numpy:
        return x
    return apply(Cast, (x,), dtype.numpy)


class Clone(Op):
    """A copy in new memory. Derivative: identity."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return x.copy()

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g,)

    jvp = unary_elementwise_jvp


def clone(input: Any, *, memory_format: Any = None) -> Any:  # noqa: A002
    return apply(Clone, (input,))


class CopyFrom(Op):
    """x.copy_(src) as a function: src broadcast to x's shape and cast to x's dtype.
    Derivative: zero for x (overwritten), the reduced gradient for src."""

    @staticmethod
    def forward(ctx: Node, x: Array, src: Array) -> Array:
        return ctx.xp.broadcast_to(src, x.shape).astype(x.dtype, copy=True)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (None, unbroadcast(g, ctx.input_meta[1][0]))


def copy_from(x: Any, src: Any) -> Any:
    if not isinstance(src, _op.Tensor):
        src = as_tensor_operand(src, x.dtype, x)
    return apply(CopyFrom, (x, src))


class FillLike(Op):
    """A tensor like x filled with a value; x's values do not matter, so no gradient flows."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, value: Any) -> Array:
        return ctx.xp.full(x.shape, value, dtype=x.dtype)


def fill_like(x: Any, value: Any) -> Any:
    if isinstance(value, _op.Tensor):
        return copy_from(x, value)
    return apply(FillLike, (x,), value)


# ---- arithmetic ----------------------------------------------------------------------------


class Add(Op):
    """x + y. Derivative: g to both, summed over broadcast dimensions."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        return x + y

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (unbroadcast(g, ctx.input_meta[0][0]), unbroadcast(g, ctx.input_meta[1][0]))

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        return _sum_tangents(tx, ty)


class Sub(Op):
    """x - y. Derivative: g and -g."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        return x - y

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (unbroadcast(g, ctx.input_meta[0][0]), unbroadcast(-g, ctx.input_meta[1][0]))

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        return _sum_tangents(tx, None if ty is None else -ty)


class Mul(Op):
    """x * y. Derivative: g * y and g * x."""

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
        return _sum_tangents(None if tx is None else tx * ctx.y, None if ty is None else ctx.x * ty)


class Div(Op):
    """x / y. Derivative: g / y and -g * x / y**2."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return x / y

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        y = ctx.y
        grad_x = unbroadcast(g / y, ctx.input_meta[0][0]) if ctx.next_edges[0] else None
        grad_y = None
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(-g * ctx.x / (y * y), ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        y = ctx.y
        return _sum_tangents(
            None if tx is None else tx / y, None if ty is None else -ty * ctx.x / (y * y)
        )


def _sum_tangents(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


class FloorDivide(Op):
    """floor(x / y). Piecewise constant: zero derivative, as in PyTorch."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        return ctx.xp.floor_divide(x, y)


class TruncDivide(Op):
    """trunc(x / y). Piecewise constant: zero derivative."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        quotient = x / y
        if x.dtype.kind in "iu":
            return ctx.xp.trunc(quotient).astype(x.dtype)
        return ctx.xp.trunc(quotient)


class Remainder(Op):
    """x - floor(x / y) * y (sign of the divisor). Derivative: g and -g * floor(x / y)."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.remainder(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_y = None
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(-g * floor_divide(ctx.x, ctx.y), ctx.input_meta[1][0])
        return (unbroadcast(g, ctx.input_meta[0][0]), grad_y)


class Fmod(Op):
    """x - trunc(x / y) * y (sign of the dividend). Derivative: g and -g * trunc(x / y)."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.fmod(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_y = None
        if ctx.next_edges[1] is not None:
            quotient = div(ctx.x, ctx.y, rounding_mode="trunc")
            grad_y = unbroadcast(-g * quotient, ctx.input_meta[1][0])
        return (unbroadcast(g, ctx.input_meta[0][0]), grad_y)


class Pow(Op):
    """x ** y. Derivatives: y * x**(y-1) (0 where y == 0) and x**y * log(x) (0 where x == 0
    and y >= 0), PyTorch's conventions at the kinks."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        out = x**y
        ctx.save(x=x, y=y, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y = ctx.x, ctx.y
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            local = where(y == 0, 0.0, y * x ** (y - 1))
            grad_x = unbroadcast(g * local, ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            at_zero = (x == 0) & (y >= 0)
            safe_x = where(at_zero, 1.0, x)  # log(0) = -inf would make 0 * -inf = nan
            grad_y = unbroadcast(where(at_zero, 0.0, g * ctx.out * log(safe_x)), ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y = ctx.x, ctx.y
        dx = dy = None
        if tx is not None:
            dx = tx * where(y == 0, 0.0, y * x ** (y - 1))
        if ty is not None:
            at_zero = (x == 0) & (y >= 0)
            dy = ty * where(at_zero, 0.0, ctx.out * log(where(at_zero, 1.0, x)))
        return _sum_tangents(dx, dy)


class Atan2(Op):
    """atan2(y, x) for inputs (x=y_coord, y=x_coord) in PyTorch's order atan2(input, other).
    Derivatives: other / r2 and -input / r2 with r2 = input**2 + other**2."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.arctan2(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y = ctx.x, ctx.y
        scale = g / (x * x + y * y)
        return (unbroadcast(scale * y, ctx.input_meta[0][0]), unbroadcast(-scale * x, ctx.input_meta[1][0]))

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y = ctx.x, ctx.y
        r2 = x * x + y * y
        return _sum_tangents(None if tx is None else tx * y / r2, None if ty is None else -ty * x / r2)


class Maximum(Op):
    """max(x, y) elementwise. Derivative: g to the larger; ties split g / 2 to each."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.maximum(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return _select_vjp(ctx, g, ctx.x, ctx.y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        return _select_jvp(ctx.x, ctx.y, tx, ty)


class Minimum(Op):
    """min(x, y) elementwise. Derivative: g to the smaller; ties split g / 2 to each."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.minimum(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return _select_vjp(ctx, g, ctx.y, ctx.x)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        return _select_jvp(ctx.y, ctx.x, ty, tx)


def _select_vjp(ctx: Node, g: Any, winner: Any, loser: Any) -> tuple:
    """Gradients of an elementwise choice of `winner` where winner > loser, split on ties."""
    half = where(winner == loser, g / 2, g)
    grad_winner = where(winner < loser, 0.0, half)
    grad_loser = where(winner > loser, 0.0, half)
    if ctx.op is Minimum:
        grad_winner, grad_loser = grad_loser, grad_winner
    return (unbroadcast(grad_winner, ctx.input_meta[0][0]), unbroadcast(grad_loser, ctx.input_meta[1][0]))


def _select_jvp(winner: Any, loser: Any, t_winner: Any, t_loser: Any) -> Any:
    weight = where(winner > loser, 1.0, where(winner == loser, 0.5, 0.0))
    parts = []
    if t_winner is not None:
        parts.append(t_winner * weight)
    if t_loser is not None:
        parts.append(t_loser * (1 - weight))
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def add(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Any:  # noqa: A002
    if alpha != 1:
        other = mul(other, alpha)
    x, y = binary_operands(input, other)
    return apply(Add, (x, y))


def radd(input: Any, other: Any) -> Any:  # noqa: A002
    x, y = binary_operands(other, input)
    return apply(Add, (x, y))


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Any:  # noqa: A002
    if alpha != 1:
        other = mul(other, alpha)
    x, y = binary_operands(input, other)
    if x._array.dtype.kind == "b":
        raise DTypeError("sub: subtraction of bool tensors is not supported; use logical_xor")
    return apply(Sub, (x, y))


def rsub(input: Any, other: Any, *, alpha: Any = 1) -> Any:  # noqa: A002
    """other - input * alpha (PyTorch's `rsub` argument order)."""
    return sub(other, input, alpha=alpha)


def mul(input: Any, other: Any, *, out: Any = None) -> Any:  # noqa: A002
    x, y = binary_operands(input, other)
    return apply(Mul, (x, y))


def rmul(input: Any, other: Any) -> Any:  # noqa: A002
    x, y = binary_operands(other, input)
    return apply(Mul, (x, y))


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Any = None) -> Any:  # noqa: A002
    """True division by default (integers give float32); rounding_mode 'trunc' or 'floor'."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    x, y = binary_operands(input, other)
    if rounding_mode == "trunc":
        if x._array.dtype.kind in "iub":
            return apply(TruncDivide, (x, y))
        return trunc(apply(Div, (x, y)))
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', not {rounding_mode!r}")
    if x._array.dtype.kind != "f":
        x, y = cast(x, dtypes.float32), cast(y, dtypes.float32)
    return apply(Div, (x, y))


def rdiv(input: Any, other: Any) -> Any:  # noqa: A002
    return div(other, input)


def floor_divide(input: Any, other: Any) -> Any:  # noqa: A002
    x, y = binary_operands(input, other)
    if x._array.dtype.kind == "f":
        return floor(apply(Div, (x, y)))
    return apply(FloorDivide, (x, y))


def rfloordiv(input: Any, other: Any) -> Any:  # noqa: A002
    return floor_divide(other, input)


def remainder(input: Any, other: Any) -> Any:  # noqa: A002
    x, y = binary_operands(input, other)
    return apply(Remainder, (x, y))


def rremainder(input: Any, other: Any) -> Any:  # noqa: A002
    return remainder(other, input)


def fmod(input: Any, other: Any) -> Any:  # noqa: A002
    x, y = binary_operands(input, other)
    return apply(Fmod, (x, y))


def pow(input: Any, exponent: Any) -> Any:  # noqa: A001, A002
    x, y = binary_operands(input, exponent)
    if x._array.dtype.kind in "iu" and not isinstance(exponent, _op.Tensor) and exponent < 0:
        raise DTypeError("pow: integers to negative integer powers are not allowed")
    return apply(Pow, (x, y))


def rpow(input: Any, other: Any) -> Any:  # noqa: A002
    return pow(other, input)


def float_power(input: Any, exponent: Any) -> Any:  # noqa: A002
    x, y = binary_operands(input, exponent)
    return pow(cast(x, dtypes.float64), cast(y, dtypes.float64))


def atan2(input: Any, other: Any) -> Any:  # noqa: A002
    x, y = binary_operands(floating_operand(input), other)
    return apply(Atan2, (x, y))


def maximum(input: Any, other: Any) -> Any:  # noqa: A002
    x, y = binary_operands(input, other)
    return apply(Maximum, (x, y))


def minimum(input: Any, other: Any) -> Any:  # noqa: A002
    x, y = binary_operands(input, other)
    return apply(Minimum, (x, y))


fmax = maximum
fmin = minimum


# ---- unary math ----------------------------------------------------------------------------


class Neg(Op):
    """-x. Derivative: -g."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return -x

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (-g,)

    jvp = unary_elementwise_jvp


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


class Sign(Op):
    """sign(x). Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.sign(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * 0,)

    jvp = unary_elementwise_jvp


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


class Log1p(Op):
    """log(1 + x), accurate near 0. Derivative: g / (1 + x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.log1p(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g / (ctx.x + 1),)

    jvp = unary_elementwise_jvp


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


class Rsqrt(Op):
    """1 / sqrt(x). Derivative: -g * out**3 / 2."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = 1 / ctx.xp.sqrt(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (-0.5 * g * out * out * out,)

    jvp = unary_elementwise_jvp


class Square(Op):
    """x**2. Derivative: 2 x g."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return x * x

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (2 * g * ctx.x,)

    jvp = unary_elementwise_jvp


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

    jvp = unary_elementwise_jvp


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


def _sigmoid_array(xp: Any, x: Array) -> Array:
    # exp of a non-positive number never overflows: use exp(-|x|) on both branches.
    z = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


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

    jvp = unary_elementwise_jvp


class Logit(Op):
    """log(x / (1 - x)), with x clamped to [eps, 1 - eps] when eps is given.
    Derivative: g / (x (1 - x)), 0 outside [eps, 1 - eps] when clamped (PyTorch)."""

    @staticmethod
    def forward(ctx: Node, x: Array, eps: float | None) -> Array:
        ctx.save(x=x)
        ctx.eps = eps
        z = x if eps is None else ctx.xp.clip(x, eps, 1 - eps)
        return ctx.xp.log(z / (1 - z))

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        grad = g / (x * (1 - x))
        if ctx.eps is not None:
            grad = where((x < ctx.eps) | (x > 1 - ctx.eps), 0.0, grad)
        return (grad,)

    jvp = unary_elementwise_jvp


class Floor(Op):
    """floor(x). Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.floor(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * 0,)

    jvp = unary_elementwise_jvp


class Ceil(Op):
    """ceil(x). Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.ceil(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * 0,)

    jvp = unary_elementwise_jvp


class Round(Op):
    """round half to even, to `decimals` places. Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array, decimals: int) -> Array:
        return ctx.xp.round(x, decimals)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * 0,)

    jvp = unary_elementwise_jvp


class Trunc(Op):
    """trunc(x). Piecewise constant: zero derivative."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.trunc(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * 0,)

    jvp = unary_elementwise_jvp


class Frac(Op):
    """x - trunc(x). Derivative: g."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return x - ctx.xp.trunc(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g,)

    jvp = unary_elementwise_jvp


def _unary(op: type) -> Any:
    """The public function for a unary op on floating input (integers promote to float32)."""

    def function(input: Any) -> Any:  # noqa: A002
        return apply(op, (floating_operand(input),))

    function.__name__ = op.__name__.lower()
    function.__doc__ = op.__doc__
    return function


def _unary_keep_dtype(op: type) -> Any:
    """The public function for a unary op that keeps integer dtypes (neg, abs, sign, ...)."""

    def function(input: Any) -> Any:  # noqa: A002
        if not isinstance(input, _op.Tensor):
            input = tensor_of(input)
        return apply(op, (input,))

    function.__name__ = op.__name__.lower()
    function.__doc__ = op.__doc__
    return function


exp = _unary(Exp)
exp2 = _unary(Exp2)
expm1 = _unary(Expm1)
log = _unary(Log)
log1p = _unary(Log1p)
log2 = _unary(Log2)
log10 = _unary(Log10)
sqrt = _unary(Sqrt)
rsqrt = _unary(Rsqrt)
reciprocal = _unary(Reciprocal)
sin = _unary(Sin)
cos = _unary(Cos)
tan = _unary(Tan)
asin = _unary(Asin)
acos = _unary(Acos)
atan = _unary(Atan)
sinh = _unary(Sinh)
cosh = _unary(Cosh)
tanh = _unary(Tanh)
erf = _unary(Erf)
sigmoid = _unary(Sigmoid)
neg = _unary_keep_dtype(Neg)
abs = _unary_keep_dtype(Abs)  # noqa: A001
sign = _unary_keep_dtype(Sign)
square = _unary_keep_dtype(Square)
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
negative, absolute = neg, abs


def positive(input: Any) -> Any:  # noqa: A002
    return input


def _keep_integers(op: type) -> Any:
    """floor/ceil/trunc: identity on integer tensors, as PyTorch."""

    def function(input: Any) -> Any:  # noqa: A002
        if not isinstance(input, _op.Tensor):
            input = tensor_of(input)
        if input._array.dtype.kind != "f":
            return input.clone()
        return apply(op, (input,))

    function.__name__ = op.__name__.lower()
    function.__doc__ = op.__doc__
    return function


floor = _keep_integers(Floor)
ceil = _keep_integers(Ceil)
trunc = _keep_integers(Trunc)
fix = trunc
frac = _unary(Frac)


def round(input: Any, *, decimals: int = 0) -> Any:  # noqa: A001, A002
    if input._array.dtype.kind != "f":
        return input.clone()
    return apply(Round, (input,), decimals)


def logit(input: Any, eps: float | None = None) -> Any:  # noqa: A002
    return apply(Logit, (floating_operand(input),), eps)


# ---- activations ---------------------------------------------------------------------------


class Relu(Op):
    """max(x, 0). Derivative: g where out > 0, else 0 (0 at x == 0, as PyTorch)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.maximum(x, 0)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (where(ctx.out > 0, g, 0.0),)

    jvp = unary_elementwise_jvp


class Gelu(Op):
    """x * Phi(x) ('none') or its tanh approximation ('tanh').
    Derivative: Phi(x) + x phi(x), or the derivative of the tanh form."""

    @staticmethod
    def forward(ctx: Node, x: Array, approximate: str) -> Array:
        ctx.save(x=x)
        ctx.approximate = approximate
        xp = ctx.xp
        if approximate == "tanh":
            inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
            return (0.5 * x * (1 + xp.tanh(inner))).astype(x.dtype, copy=False)
        cdf = 0.5 * (1 + ctx.backend.erf(x / math.sqrt(2.0)))
        return (x * cdf).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        if ctx.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            inner = k * (x + 0.044715 * x * x * x)
            t = tanh(inner)
            d_inner = k * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner),)
        cdf = 0.5 * (1 + erf(x / math.sqrt(2.0)))
        pdf = exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        return (g * (cdf + x * pdf),)

    jvp = unary_elementwise_jvp


class Silu(Op):
    """x * sigmoid(x). Derivative: g s (1 + x (1 - s)) with s = sigmoid(x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return x * _sigmoid_array(ctx.xp, x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        s = sigmoid(x)
        return (g * s * (1 + x * (1 - s)),)

    jvp = unary_elementwise_jvp


class Softplus(Op):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold.
    Derivative: g sigmoid(beta x), or g in the linear region."""

    @staticmethod
    def forward(ctx: Node, x: Array, beta: float, threshold: float) -> Array:
        ctx.save(x=x)
        ctx.beta, ctx.threshold = beta, threshold
        xp = ctx.xp
        scaled = x * beta
        soft = (xp.logaddexp(0, scaled) / beta).astype(x.dtype, copy=False)
        return xp.where(scaled > threshold, x, soft)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        scaled = ctx.x * ctx.beta
        return (where(scaled > ctx.threshold, g, g * sigmoid(scaled)),)

    jvp = unary_elementwise_jvp


class LeakyRelu(Op):
    """x if x > 0 else slope * x. Derivative: g or slope * g (slope at x == 0, PyTorch)."""

    @staticmethod
    def forward(ctx: Node, x: Array, negative_slope: float) -> Array:
        ctx.save(x=x)
        ctx.negative_slope = negative_slope
        return ctx.xp.where(x > 0, x, x * negative_slope)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (where(ctx.x > 0, g, g * ctx.negative_slope),)

    jvp = unary_elementwise_jvp


class Elu(Op):
    """x if x > 0 else alpha (exp(x) - 1). Derivative: g, or g alpha exp(x) for x <= 0."""

    @staticmethod
    def forward(ctx: Node, x: Array, alpha: float) -> Array:
        ctx.save(x=x)
        ctx.alpha = alpha
        xp = ctx.xp
        return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0))).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (where(x > 0, g, g * ctx.alpha * exp(minimum(x, 0.0))),)

    jvp = unary_elementwise_jvp


class Hardtanh(Op):
    """clamp(x, min_val, max_val). Derivative: g strictly inside, 0 at and beyond the edges."""

    @staticmethod
    def forward(ctx: Node, x: Array, min_val: float, max_val: float) -> Array:
        ctx.save(x=x)
        ctx.min_val, ctx.max_val = min_val, max_val
        return ctx.xp.clip(x, min_val, max_val)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (where((x <= ctx.min_val) | (x >= ctx.max_val), 0.0, g),)

    jvp = unary_elementwise_jvp


def relu(input: Any, inplace: bool = False) -> Any:  # noqa: A002
    result = apply(Relu, (input,))
    return _maybe_inplace(input, result, inplace, "relu_")


def gelu(input: Any, approximate: str = "none") -> Any:  # noqa: A002
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', not {approximate!r}")
    return apply(Gelu, (floating_operand(input),), approximate)


def silu(input: Any, inplace: bool = False) -> Any:  # noqa: A002
    return _maybe_inplace(input, apply(Silu, (floating_operand(input),)), inplace, "silu_")


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:  # noqa: A002
    return apply(Softplus, (floating_operand(input),), beta, threshold)


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:  # noqa: A002
    result = apply(LeakyRelu, (input,), negative_slope)
    return _maybe_inplace(input, result, inplace, "leaky_relu_")


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:  # noqa: A002
    return _maybe_inplace(input, apply(Elu, (floating_operand(input),), alpha), inplace, "elu_")


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Any:  # noqa: A002
    result = apply(Hardtanh, (input,), min_val, max_val)
    return _maybe_inplace(input, result, inplace, "hardtanh_")


def _maybe_inplace(input: Any, result: Any, inplace: bool, name: str) -> Any:  # noqa: A002
    if not inplace:
        return result
    recording = input._check_inplace(name)
    return input._commit_inplace(name, result, recording)


# ---- clamp, where, lerp ----------------------------------------------------------------------


class Clamp(Op):
    """min(max(x, lo), hi) with scalar bounds. Derivative: g where lo <= x <= hi (the bounds
    pass gradient, as PyTorch), else 0."""

    @staticmethod
    def forward(ctx: Node, x: Array, lo: Any, hi: Any) -> Array:
        ctx.save(x=x)
        ctx.lo, ctx.hi = lo, hi
        return ctx.xp.clip(x, lo, hi)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        keep = None
        if ctx.lo is not None:
            keep = x >= ctx.lo
        if ctx.hi is not None:
            upper = x <= ctx.hi
            keep = upper if keep is None else keep & upper
        return (where(keep, g, 0.0),)

    jvp = unary_elementwise_jvp


def clamp(input: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A001, A002
    """Clamp to [min, max]; bounds may be numbers or tensors (then as maximum/minimum)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, _op.Tensor) or isinstance(max, _op.Tensor):
        result = input
        if min is not None:
            result = _clamp_bound(result, min, lower=True)
        if max is not None:
            result = _clamp_bound(result, max, lower=False)
        return result
    return apply(Clamp, (input,), min, max)


def _clamp_bound(x: Any, bound: Any, lower: bool) -> Any:
    """One tensor bound of clamp: where x is past the bound take the bound, else x."""
    x, bound = binary_operands(x, bound)
    past = x < bound if lower else x > bound
    return where(past, bound, x)


clip = clamp


class Where(Op):
    """cond ? x : y. Derivative: g where cond to x, g elsewhere to y (reduced over broadcasting)."""

    @staticmethod
    def forward(ctx: Node, condition: Array, x: Array, y: Array) -> Array:
        ctx.save(condition=condition)
        return ctx.xp.where(condition, x, y)

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
        condition = ctx.condition
        if tx is None:
            return where(condition, 0.0, ty)
        if ty is None:
            return where(condition, tx, 0.0)
        return where(condition, tx, ty)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """Elementwise choice; `where(condition)` alone gives the indices, like `nonzero`."""
    if input is None and other is None:
        from chainrule.ops.indexing import nonzero

        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, _op.Tensor):
        condition = tensor_of(condition)
    if condition._array.dtype.kind != "b":
        condition = cast(condition, dtypes.bool_)
    x, y = binary_operands(input, other)
    return apply(Where, (condition, x, y))


def tensor_where(self: Any, condition: Any, y: Any) -> Any:
    """Tensor.where(condition, y): self where condition, else y."""
    return where(condition, self, y)


class Lerp(Op):
    """start + weight (end - start). Derivatives: g (1 - weight), g weight, g (end - start)."""

    @staticmethod
    def forward(ctx: Node, start: Array, end: Array, weight: Array) -> Array:
        ctx.save(start=start, end=end, weight=weight)
        return start + weight * (end - start)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        start, end, weight = ctx.start, ctx.end, ctx.weight
        meta = ctx.input_meta
        return (
            unbroadcast(g * (1 - weight), meta[0][0]),
            unbroadcast(g * weight, meta[1][0]),
            unbroadcast(g * (end - start), meta[2][0]),
        )


def lerp(input: Any, end: Any, weight: Any) -> Any:  # noqa: A002
    start, end = binary_operands(input, end)
    _, weight = binary_operands(start, weight)
    return apply(Lerp, (start, end, weight))


def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Any:  # noqa: A002
    finite = isfinite(input)
    result = where(isnan(input), nan, input)
    info = input._backend.xp.finfo(input._array.dtype) if input._array.dtype.kind == "f" else None
    if info is not None:
        big = info.max if posinf is None else posinf
        small = info.min if neginf is None else neginf
        result = where(~finite & (input > 0), big, result)
        result = where(~finite & (input < 0), small, result)
    return result


# ---- comparisons and logic (not differentiable) -----------------------------------------------


def _comparison(name: str, ufunc_name: str) -> tuple[type, Any]:
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        return getattr(ctx.xp, ufunc_name)(x, y)

    op = type(name.capitalize(), (Op,), {
        "differentiable": False,
        "forward": staticmethod(forward),
        "label": name,
        "__doc__": f"{name}(x, y) elementwise, as a bool tensor. Not differentiable.",
    })

    def function(input: Any, other: Any) -> Any:  # noqa: A002
        x, y = binary_operands(input, other)
        return apply(op, (x, y))

    function.__name__ = name
    return op, function


Eq, eq = _comparison("eq", "equal")
Ne, ne = _comparison("ne", "not_equal")
Lt, lt = _comparison("lt", "less")
Le, le = _comparison("le", "less_equal")
Gt, gt = _comparison("gt", "greater")
Ge, ge = _comparison("ge", "greater_equal")
LogicalAnd, logical_and = _comparison("logical_and", "logical_and")
LogicalOr, logical_or = _comparison("logical_or", "logical_or")
LogicalXor, logical_xor = _comparison("logical_xor", "logical_xor")
BitwiseAnd, bitwise_and = _comparison("bitwise_and", "bitwise_and")
BitwiseOr, bitwise_or = _comparison("bitwise_or", "bitwise_or")
BitwiseXor, bitwise_xor = _comparison("bitwise_xor", "bitwise_xor")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _predicate(name: str, ufunc_name: str) -> tuple[type, Any]:
    def forward(ctx: Node, x: Array) -> Array:
        return getattr(ctx.xp, ufunc_name)(x)

    op = type(name.capitalize(), (Op,), {
        "differentiable": False,
        "forward": staticmethod(forward),
        "label": name,
        "__doc__": f"{name}(x) elementwise. Not differentiable.",
    })

    def function(input: Any) -> Any:  # noqa: A002
        if not isinstance(input, _op.Tensor):
            input = tensor_of(input)
        return apply(op, (input,))

    function.__name__ = name
    return op, function


LogicalNot, logical_not = _predicate("logical_not", "logical_not")
BitwiseNot, _bitwise_not = _predicate("bitwise_not", "invert")
Isnan, isnan = _predicate("isnan", "isnan")
Isinf, isinf = _predicate("isinf", "isinf")
Isfinite, isfinite = _predicate("isfinite", "isfinite")
Signbit, signbit = _predicate("signbit", "signbit")


def bitwise_not(input: Any) -> Any:  # noqa: A002
    if input._array.dtype.kind == "f":
        raise DTypeError("bitwise_not: not implemented for floating tensors (use logical_not)")
    return _bitwise_not(input)


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:  # noqa: A002
    x, y = binary_operands(input, other)
    array = x._backend.xp.isclose(x._array, y._array, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return _op.Tensor._wrap(array)


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:  # noqa: A002
    return bool(isclose(input, other, rtol, atol, equal_nan)._array.all())


def equal(input: Any, other: Any) -> bool:  # noqa: A002
    """True when both have the same shape and elements."""
    return input.shape == other.shape and bool((input._array == other._array).all())
