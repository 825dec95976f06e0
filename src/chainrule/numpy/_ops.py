"""Ops NumPy has and chainrule's op library lacks (PyTorch has each under another name:
asinh, acosh, atanh, logaddexp, logaddexp2, hypot, sinc; cbrt has no PyTorch twin).

They follow ops/elementwise.py: forward on raw arrays through ctx.xp, vjp and jvp in chainrule
ops, so higher derivatives are exact. Conventions match PyTorch's derivatives.yaml.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.ops.elementwise import (
    cos,
    exp,
    exp2,
    rsqrt,
    unary_elementwise_jvp,
    where,
)
from chainrule.ops.op import Op, unbroadcast
from chainrule.ops.shape import broadcast_shapes, expand

# ---- unary ------------------------------------------------------------------------------------


class Arcsinh(Op):
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


class Arccosh(Op):
    """acosh(x), nan below 1. Derivative: g / sqrt(x**2 - 1) (inf at 1, as PyTorch)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        with ctx.xp.errstate(invalid="ignore"):
            return ctx.xp.arccosh(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g * rsqrt(x * x - 1),)

    jvp = unary_elementwise_jvp


class Arctanh(Op):
    """atanh(x), +-inf at +-1. Derivative: g / (1 - x**2)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        with ctx.xp.errstate(divide="ignore", invalid="ignore"):
            return ctx.xp.arctanh(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g / (1 - x * x),)

    jvp = unary_elementwise_jvp


class Cbrt(Op):
    """The real cube root. Derivative: g / (3 out**2), from the saved output (inf at 0)."""

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


class Sinc(Op):
    """sin(pi x) / (pi x), 1 at 0 (NumPy's normalised sinc, PyTorch's sinc). Derivative:
    (cos(pi x) - sinc(x)) / x, taken as 0 at x = 0 (PyTorch's convention)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.sinc(x)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, out = ctx.x, ctx.out
        at_zero = x == 0
        safe_x = where(at_zero, 1.0, x)  # keeps 0/0 out of the unused branch
        slope = (cos(math.pi * x) - out) / safe_x
        return (g * where(at_zero, 0.0, slope),)

    jvp = unary_elementwise_jvp


# ---- binary ------------------------------------------------------------------------------------


def _tangent_sum(ctx: Node, a: Any, b: Any) -> Any:
    """The tangent of a broadcasting binary op, from the two operands' contributions."""
    total = b if a is None else (a if b is None else a + b)
    if total is None:
        return None
    shape = broadcast_shapes(*(meta[0] for meta in ctx.input_meta))
    return total if tuple(total.shape) == shape else expand(total, shape)


class LogAddExp(Op):
    """log(exp(x) + exp(y)), computed without overflow. Derivatives: exp(x - out) and
    exp(y - out), the softmax weights of the two operands."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        out = ctx.xp.logaddexp(x, y)
        ctx.save(x=x, y=y, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y, out = ctx.x, ctx.y, ctx.out
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(g * exp(x - out), ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(g * exp(y - out), ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y, out = ctx.x, ctx.y, ctx.out
        dx = None if tx is None else tx * exp(x - out)
        dy = None if ty is None else ty * exp(y - out)
        return _tangent_sum(ctx, dx, dy)


class LogAddExp2(Op):
    """log2(2**x + 2**y), computed without overflow. Derivatives: 2**(x - out), 2**(y - out)."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        out = ctx.xp.logaddexp2(x, y)
        ctx.save(x=x, y=y, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y, out = ctx.x, ctx.y, ctx.out
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(g * exp2(x - out), ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(g * exp2(y - out), ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y, out = ctx.x, ctx.y, ctx.out
        dx = None if tx is None else tx * exp2(x - out)
        dy = None if ty is None else ty * exp2(y - out)
        return _tangent_sum(ctx, dx, dy)


class Hypot(Op):
    """sqrt(x**2 + y**2) without overflow. Derivatives: x / out and y / out (nan at the
    origin, as PyTorch)."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        out = ctx.xp.hypot(x, y)
        ctx.save(x=x, y=y, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, y, out = ctx.x, ctx.y, ctx.out
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(g * x / out, ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(g * y / out, ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        x, y, out = ctx.x, ctx.y, ctx.out
        dx = None if tx is None else tx * x / out
        dy = None if ty is None else ty * y / out
        return _tangent_sum(ctx, dx, dy)
