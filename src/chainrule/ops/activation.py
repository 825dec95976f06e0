# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Activations: every nonlinearity of torch.nn.functional's activation family, in one place.

Ops with a rule of their own (ReLU, GELU, SiLU, softplus, leaky ReLU, ELU and its scaled forms
selu and celu, mish, hardtanh, hardsigmoid, hardswish, logsigmoid) are classes here; ReLU's and
GELU's vjps are written plainly, and run as fused backward ops (ThresholdBackward,
GeluBackward, as PyTorch's) through their `fast_vjp` hooks, as do SiLU's, mish's, the ELUs',
softplus's and hardswish's (FusedActivationBackward: one array expression, and in float16 and
bfloat16 one rounding, as PyTorch's kernels). The rest
(relu6, softsign, tanhshrink, the shrinks, threshold, prelu, glu) are compositions of
differentiable ops. The math functions they build on (tanh, sigmoid, erf, ...) stay in
`chainrule.ops.elementwise`. `chainrule.relu` and friends come from here (`__all__`), and
`chainrule.nn.functional` re-exports every function under PyTorch's names.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import grad_mode
from chainrule.autograd.forward_ad import current_level
from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.errors import DomainError, DTypeError, GradError, ShapeError
from chainrule.ops.autocast import LOWER, autocast_policy
from chainrule.ops.complex import refuse_complex
from chainrule.ops.creation import checked_fill, rand
from chainrule.ops.elementwise import (
    _opmath,
    _refuse_bool,
    _require_floating,
    _sigmoid_array,
    _sum_tangents,
    _zero_grad,
    connected,
    erf,
    exp,
    floating_operand,
    piecewise_input,
    sigmoid,
    tanh,
    where,
)
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.indexing import narrow
from chainrule.ops.op import Op, apply, elementwise_batch, named, unary_elementwise_jvp
from chainrule.ops.shape import reshape

# ---- ReLU, GELU and their fused backward ops -----------------------------------------------


class Relu(Op):
    """max(x, 0). Derivative: g where out > 0, else 0 (0 at x == 0, as PyTorch); g at a nan,
    as PyTorch's threshold_backward, which zeroes where out <= 0."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.backend.relu(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (connected(where(out <= 0, 0.0, g), out),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """The same as one op, ThresholdBackward: a multiply by the mask (a `where` with a
        random mask is an order of magnitude slower)."""
        return (apply(ThresholdBackward, (g, ctx.out)),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class ThresholdBackward(Op):
    """g except where out <= 0 (so at a nan too): relu's vjp as one op (PyTorch's
    threshold_backward), computed as g times the mask, which is an order of magnitude faster
    than a branchy `where` (a NaN in g where masked is zeroed after, as PyTorch's). No
    compiled kernel: one measured only 2-5% faster (backend/jit.py).
    Derivatives: the same mask for g; zero for out (the mask is piecewise constant)."""

    @staticmethod
    def forward(ctx: Node, g: Array, out: Array) -> Array:
        xp = ctx.xp
        if not ctx.backend.host_memory:  # testing g for nan would synchronise a device
            keep = ~(out <= 0)  # not out > 0: a nan keeps its gradient, as PyTorch
            ctx.save(keep=keep)
            return xp.where(keep, g, 0).astype(g.dtype, copy=False)
        if g.shape == out.shape and ctx.backend.splits(out.size):
            # the same in blocks over the intra-op threads, into arrays made once
            keep, result = xp.empty(out.shape, dtype=bool), xp.empty(g.shape, dtype=g.dtype)
            flat_g, flat_out = g.reshape(-1), out.reshape(-1)
            flat_keep, flat_result = keep.reshape(-1), result.reshape(-1)

            def block(start: int, stop: int) -> None:
                part = flat_keep[start:stop]
                xp.less_equal(flat_out[start:stop], 0, out=part)
                xp.logical_not(part, out=part)
                xp.multiply(flat_g[start:stop], part, out=flat_result[start:stop])

            ctx.backend.parallel_for(flat_result.size, block)
        else:
            keep = ~(out <= 0)
            result = g * keep
        ctx.save(keep=keep)
        if xp.isnan(g).any():  # 0 where masked even when g is nan, as PyTorch
            result[~keep] = 0
        return result.astype(g.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        grad_g = apply(ThresholdBackward, (gg, ctx.keep)) if ctx.next_edges[0] else None
        grad_out = _zero_grad(ctx, 1) if ctx.next_edges[1] is not None else None
        return (grad_g, grad_out)

    @staticmethod
    def jvp(ctx: Node, t_g: Any, t_out: Any) -> Any:
        return None if t_g is None else apply(ThresholdBackward, (t_g, ctx.keep))

    batch = elementwise_batch


class Gelu(Op):
    """x * Phi(x) ('none') or its tanh approximation ('tanh').
    Derivative: Phi(x) + x phi(x), or the derivative of the tanh form."""

    @staticmethod
    def forward(ctx: Node, x: Array, approximate: str) -> Array:
        ctx.save(x=x, approximate=approximate)
        xp = ctx.xp
        wide = _opmath(x)
        if approximate == "tanh":
            inner = math.sqrt(2.0 / math.pi) * (wide + 0.044715 * wide * wide * wide)
            return (0.5 * wide * (1 + xp.tanh(inner))).astype(x.dtype, copy=False)
        fused = ctx.backend.fused_gelu(wide)  # one compiled pass where the backend has one
        if fused is not None:
            out, cdf = fused
            ctx.save(cdf=cdf)
            return out.astype(x.dtype, copy=False)
        cdf = ctx.backend.normal_cdf(wide)
        ctx.save(cdf=cdf)  # a value for GeluBackward's forward only, never differentiated
        out = xp.empty(cdf.shape, dtype=cdf.dtype)  # C order, so its flat view is a view
        flat_x, flat_cdf, flat_out = wide.reshape(-1), cdf.reshape(-1), out.reshape(-1)

        def block(start: int, stop: int) -> None:
            xp.multiply(flat_x[start:stop], flat_cdf[start:stop], out=flat_out[start:stop])

        ctx.backend.parallel_for(flat_out.size, block)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        slope, _ = gelu_slopes(ctx.x, ctx.approximate)
        return (g * slope,)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """The same as one op, GeluBackward, which reuses the forward's Phi(x): one pass over
        the array instead of about ten ops."""
        cdf = ctx.cdf._array if ctx.approximate == "none" else None
        return (apply(GeluBackward, (g, ctx.x), ctx.approximate, cdf),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def gelu_slopes(x: Any, approximate: str) -> tuple[Any, Any]:
    """gelu'(x) and gelu''(x) as differentiable tensors: Gelu's plain vjp, GeluBackward's."""
    if approximate == "tanh":
        t = tanh(_GELU_K * (x + _GELU_C * x * x * x))
        d_inner = _GELU_K * (1 + 3 * _GELU_C * x * x)
        first = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner
        dd_inner = 6 * _GELU_K * _GELU_C * x
        second = (1 - t * t) * (d_inner + 0.5 * x * (dd_inner - 2 * t * d_inner * d_inner))
        return first, second
    cdf = 0.5 * (1 + erf(x / math.sqrt(2.0)))
    pdf = exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return cdf + x * pdf, pdf * (2 - x * x)


class GeluBackward(Op):
    """g gelu'(x), GELU's vjp as one op (PyTorch's gelu_backward): one array expression, and
    with the exact form the forward's Phi(x) reused instead of a second erf.
    gelu'(x) = Phi(x) + x phi(x) (exact) or the derivative of the tanh form; the derivatives
    are gelu'(x) for g and g gelu''(x) for x, written in chainrule ops."""

    @staticmethod
    def forward(ctx: Node, g: Array, x: Array, approximate: str, cdf: Array | None) -> Array:
        ctx.save(g=g, x=x, approximate=approximate)
        wide, wide_g = _opmath(x), _opmath(g)
        if approximate == "none":
            if cdf is None or cdf.dtype.itemsize < wide.dtype.itemsize:
                # (a half-precision forward's saved Phi(x) was rounded: torch's kernel
                # recomputes it in float32)
                cdf = ctx.backend.normal_cdf(wide)
            fused = ctx.backend.fused_gelu_backward(wide_g, wide, cdf)
            if fused is None:
                fused = GeluBackward._exact_product(ctx, wide, cdf, wide_g)
            return fused.astype(g.dtype, copy=False)
        t = ctx.xp.tanh(_GELU_K * (wide + _GELU_C * wide * wide * wide))
        d_inner = _GELU_K * (1 + 3 * _GELU_C * wide * wide)
        slope = 0.5 * (1 + t) + 0.5 * wide * (1 - t * t) * d_inner
        if slope.shape == wide_g.shape and slope.dtype == wide_g.dtype:
            slope *= wide_g
        else:
            slope = slope * wide_g
        return slope.astype(g.dtype, copy=False)

    @staticmethod
    def _exact_product(ctx: Node, wide: Array, cdf: Array, wide_g: Array) -> Array:
        """(Phi(x) + x phi(x)) g in place in one buffer (each fresh activation-sized temporary
        costs page faults as well as a pass), in blocks over the intra-op threads."""
        xp = ctx.xp
        slope = xp.empty(wide.shape, dtype=wide.dtype)  # C order, so its flat view is a view
        fits = slope.shape == wide_g.shape and slope.dtype == wide_g.dtype
        flat_x, flat_cdf, flat_slope = wide.reshape(-1), cdf.reshape(-1), slope.reshape(-1)
        flat_g = wide_g.reshape(-1) if fits else None

        def block(start: int, stop: int) -> None:
            x, part = flat_x[start:stop], flat_slope[start:stop]
            xp.multiply(x, x, out=part)
            part *= -0.5
            xp.exp(part, out=part)
            part *= x
            part *= 1.0 / math.sqrt(2.0 * math.pi)
            part += flat_cdf[start:stop]
            if flat_g is not None:
                part *= flat_g[start:stop]

        ctx.backend.parallel_for(flat_slope.size, block)
        return slope if fits else slope * wide_g

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        first, second = gelu_slopes(ctx.x, ctx.approximate)
        grad_g = gg * first if ctx.next_edges[0] is not None else None
        grad_x = gg * ctx.g * second if ctx.next_edges[1] is not None else None
        return (grad_g, grad_x)

    @staticmethod
    def jvp(ctx: Node, t_g: Any, t_x: Any) -> Any:
        first, second = gelu_slopes(ctx.x, ctx.approximate)
        return _sum_tangents(
            None if t_g is None else t_g * first,
            None if t_x is None else ctx.g * second * t_x,
        )

    batch = elementwise_batch


class FusedActivationBackward(Op):
    """g f'(x) of an activation as one op on raw arrays, as PyTorch's fused backward kernels
    (silu_backward, mish_backward, elu_backward, softplus_backward, hardswish_backward) compute
    it: the activation's `slope` (its derivative on arrays) times g. The plain vjps compose
    five to eight ops, a node and an array each: SiLU's forward and backward on (64, 128, 512)
    float32 took 21.9 ms against PyTorch's 3.2 (15.9 fused). In float16 and bfloat16, Op.apply hands
    `forward` g and x widened to float32 and the product is rounded once, as there (the plain
    vjps round after each op: about half the elements came out a unit off). Reached through
    the activations' `fast_vjp` only where no graph of the backward is built, so it is never
    differentiated; the plain vjps stay the definition."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, g: Array, x: Array, slope: Any, params: tuple) -> Array:
        compiled = _COMPILED_BACKWARDS.get(slope)
        if compiled is not None:  # one compiled pass, where the backend has it
            fused = getattr(ctx.backend, compiled)(g, x)
            if fused is not None:
                return fused
        return g * slope(ctx.xp, x, *params)


def _fused_vjp(ctx: Node, g: Any, plain_vjp: Any, slope: Any, *params: Any) -> tuple:
    """`plain_vjp(ctx, g)`, or for real floating g and x of one dtype without a graph to
    build or tangents to carry (forward mode), the same derivative as one
    FusedActivationBackward."""
    x = ctx.x
    dtype = x._array.dtype
    if dtype.kind not in "fV" or g._array.dtype != dtype or grad_mode.is_grad_enabled():
        return plain_vjp(ctx, g)
    if current_level() is not None:  # a jvp of this vjp (forward over reverse) differentiates it
        return plain_vjp(ctx, g)
    return (apply(FusedActivationBackward, (g, x), slope, params),)


def _silu_slope(xp: Any, x: Array) -> Array:
    s = _sigmoid_array(xp, x)
    return s * (1 + x * (1 - s))


def _mish_slope(xp: Any, x: Array) -> Array:
    t = xp.tanh(xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x))))
    return t + x * _sigmoid_array(xp, x) * (1 - t * t)


def _softplus_slope(xp: Any, x: Array, beta: float, threshold: float) -> Array:
    scaled = x * beta
    return xp.where(scaled > threshold, 1, _sigmoid_array(xp, scaled)).astype(x.dtype)


def _elu_slope(xp: Any, x: Array, alpha: float, scale: float, input_scale: float) -> Array:
    negative = (scale * alpha * input_scale) * xp.exp(xp.minimum(x, 0) * input_scale)
    return xp.where(x <= 0, negative, scale).astype(x.dtype)


def _hardswish_slope(xp: Any, x: Array) -> Array:
    inside = xp.where(x < 3, x / 3 + 0.5, 1)
    return xp.where(x <= -3, 0, inside).astype(x.dtype)


# Slopes whose g f'(x) a backend may compute in one compiled pass (backend/jit.py), by the
# name of its method; it returns None where it has no kernel for the operands.
_COMPILED_BACKWARDS = {_silu_slope: "fused_silu_backward"}


class Silu(Op):
    """x * sigmoid(x). Derivative: g s (1 + x (1 - s)) with s = sigmoid(x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        fused = ctx.backend.fused_silu(x)  # float32 in one compiled pass, where available
        if fused is not None:
            return fused
        wide = _opmath(x)
        return (wide * _sigmoid_array(ctx.xp, wide)).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        s = sigmoid(x)
        return (g * s * (1 + x * (1 - s)),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """One fused op (FusedActivationBackward), as silu_backward."""
        return _fused_vjp(ctx, g, Silu.vjp, _silu_slope)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Softplus(Op):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold.
    Derivative: g sigmoid(beta x), or g in the linear region; at beta x == threshold the
    first derivative is sigmoid's and the second 0, as PyTorch's (its double backward masks
    beta x < threshold)."""

    @staticmethod
    def forward(ctx: Node, x: Array, beta: float, threshold: float) -> Array:
        ctx.save(x=x, beta=beta, threshold=threshold)
        xp = ctx.xp
        scaled = _opmath(x) * beta
        soft = (xp.log1p(xp.exp(scaled)) / beta).astype(x.dtype, copy=False)
        return ctx.backend.where(scaled > threshold, x, soft)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        scaled = ctx.x * ctx.beta
        below = where(scaled >= ctx.threshold, ctx.threshold, scaled)  # constant from there on
        return (where(scaled > ctx.threshold, g, g * sigmoid(below)),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """One fused op (FusedActivationBackward), as softplus_backward."""
        return _fused_vjp(ctx, g, Softplus.vjp, _softplus_slope, ctx.beta, ctx.threshold)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


def _refuse_in_place_negative_backward(ctx: Node, name: str) -> None:
    """PyTorch's in-place leaky_relu, elu and celu with a negative slope or alpha have no
    backward: their in-place rule reads the sign of the output, which that flips."""
    if ctx.refuse_backward:
        raise GradError(
            f"In-place {name} backward calculation is triggered with a negative slope which is "
            f"not supported; call the out-of-place {name} instead"
        )


class LeakyRelu(Op):
    """x if x > 0 else slope * x. Derivative: g or slope * g (slope at x == 0, PyTorch).
    `refuse_backward` is PyTorch's in-place form with a negative slope, whose backward raises
    (its in-place rule reads the sign of the output, which a negative slope flips)."""

    label = "leaky_relu"

    @staticmethod
    def forward(ctx: Node, x: Array, negative_slope: float, refuse_backward: bool = False) -> Array:
        ctx.save(x=x, negative_slope=negative_slope, refuse_backward=refuse_backward)
        return ctx.backend.where(x > 0, x, (x * negative_slope).astype(x.dtype, copy=False))

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        _refuse_in_place_negative_backward(ctx, "leaky_relu")
        x = ctx.x
        return (connected(where(x > 0, g, g * ctx.negative_slope), x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Elu(Op):
    """x if x > 0 else alpha (exp(x) - 1). Derivative: g, or g alpha exp(x) for x <= 0 (the
    left branch at x == 0, as PyTorch). Second derivative alpha exp(x) for x < 0 only: 0 at
    x == 0, again PyTorch's convention."""

    @staticmethod
    def forward(ctx: Node, x: Array, alpha: float, refuse_backward: bool = False) -> Array:
        ctx.save(x=x, alpha=alpha, refuse_backward=refuse_backward)
        xp = ctx.xp
        negative_part = (alpha * xp.expm1(xp.minimum(_opmath(x), 0))).astype(x.dtype, copy=False)
        return ctx.backend.where(x > 0, x, negative_part)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        _refuse_in_place_negative_backward(ctx, "elu")
        x = ctx.x
        negative_part = where(x < 0, x, 0.0)  # exp of it never overflows for large x
        return (where(x <= 0, g * ctx.alpha * exp(negative_part), g),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """One fused op (FusedActivationBackward), as elu_backward."""
        _refuse_in_place_negative_backward(ctx, "elu")
        return _fused_vjp(ctx, g, Elu.vjp, _elu_slope, ctx.alpha, 1.0, 1.0)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Hardtanh(Op):
    """clamp(x, min_val, max_val). Derivative: g strictly inside, 0 at and beyond the edges."""

    @staticmethod
    def forward(ctx: Node, x: Array, min_val: float, max_val: float) -> Array:
        ctx.save(x=x, min_val=min_val, max_val=max_val)
        return ctx.xp.clip(x, min_val, max_val).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (connected(where((x <= ctx.min_val) | (x >= ctx.max_val), 0.0, g), x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) elementwise, as `torch.relu` / `F.relu`. Its derivative is 1 where x > 0 and 0
    elsewhere, including at x = 0 (PyTorch's choice at the kink).

    Args:
        input (Tensor): any shape; bool is refused.
        inplace (bool): overwrite `input` (a leaf that requires grad cannot be).

    Returns:
        Tensor: the same shape and dtype as `input`.

    Example:
        >>> import chainrule
        >>> chainrule.relu(chainrule.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    input = _refuse_bool("relu", input)  # noqa: A001
    refuse_complex("relu", input)
    result = apply(Relu, (input,))
    return _maybe_inplace(input, result, inplace, "relu_")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF (Hendrycks and Gimpel's GELU), as `F.gelu`.

    Args:
        input (Tensor): floating point, any shape.
        approximate (str): 'none' for the exact erf form, 'tanh' for
            0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    Example:
        >>> import chainrule
        >>> chainrule.nn.functional.gelu(chainrule.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.1587,  0.0000,  0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise DomainError(f"gelu: approximate must be 'none' or 'tanh', not {approximate!r}")
    return apply(Gelu, (_require_floating("gelu", input),), approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (the "swish" activation), as `F.silu`; derivative
    sigmoid(x) (1 + x (1 - sigmoid(x))).

    Args:
        input (Tensor): floating point, any shape.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.nn.functional.silu(chainrule.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """
    result = apply(Silu, (_require_floating("silu", input),))
    return _maybe_inplace(input, result, inplace, "silu_")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, a smooth relu, as `F.softplus`. Where beta * x > threshold
    it returns x itself (the two agree to float precision there and exp would overflow).

    Args:
        input (Tensor): floating point, any shape.
        beta (float): the sharpness; larger values approach relu.
        threshold (float): above beta * x = threshold the result is x.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.nn.functional.softplus(chainrule.tensor([0.0, 30.0]))
        tensor([ 0.6931, 30.0000])
    """
    return apply(Softplus, (_require_floating("softplus", input),), beta, threshold)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x, as `F.leaky_relu`; the slope at 0 is
    negative_slope, as in PyTorch.

    Args:
        input (Tensor): any shape.
        negative_slope (float): the slope for x <= 0.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.nn.functional.leaky_relu(chainrule.tensor([-2.0, 3.0]), 0.1)
        tensor([-0.2000,  3.0000])
    """
    refuse_backward = inplace and negative_slope < 0
    x = _require_floating("leaky_relu", input)
    result = apply(LeakyRelu, (x,), negative_slope, refuse_backward)
    return _maybe_inplace(input, result, inplace, "leaky_relu_")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1), as `F.elu`: smooth for alpha = 1, with negative
    outputs that push mean activations toward zero.

    Args:
        input (Tensor): floating point, any shape.
        alpha (float): the value the negative side saturates at is -alpha.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.nn.functional.elu(chainrule.tensor([-1.0, 2.0]))
        tensor([-0.6321,  2.0000])
    """
    result = apply(Elu, (_require_floating("elu", input),), alpha, inplace and alpha < 0)
    return _maybe_inplace(input, result, inplace, "elu_")


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8.0,
    upper: float = 1.0 / 3.0,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky relu: x for x > 0, a x below, with a drawn uniformly from [lower, upper]
    per element in training and (lower + upper) / 2 otherwise (leaky_relu). Derivative: 1 or a
    (a at 0).

    Args:
        input (Tensor): floating point, any shape.
        lower (float): the smallest negative slope drawn.
        upper (float): the largest negative slope drawn.
        training (bool): draw the slopes (True) or use their mean (False, the default).
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.rrelu(chainrule.tensor([-1.0, 2.0]), 0.1, 0.3)
        tensor([-0.2000,  2.0000])
    """
    if lower > upper:  # (PyTorch: RuntimeError, in training or not)
        raise DomainError(
            f"rrelu: Lower bound should be less than or equal to the upper bound, got lower "
            f"{lower} and upper {upper}"
        )
    x = _require_floating("rrelu", input)
    if not training:
        out = leaky_relu(x, (lower + upper) / 2.0, inplace)
        return out if inplace else named(out, "RreluWithNoiseBackward0")

    slopes = rand(x.shape, dtype=x.dtype, device=x.device)._array * (upper - lower) + lower
    noise = x._backend.xp.where(x._array <= 0, slopes, 1).astype(x._array.dtype, copy=False)
    result = x * Tensor._from_array(noise, x._backend)
    if not inplace:
        return named(result, "RreluWithNoiseBackward0")
    return _maybe_inplace(input, result, inplace, "rrelu_")


def hardtanh(
    input: Tensor,
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """x clamped to [min_val, max_val]; the gradient is 1 strictly inside and 0 at and beyond the
    bounds. Integer tensors clamp to the bounds truncated to integers.

    Args:
        input (Tensor): any shape.
        min_val (float): the lower bound.
        max_val (float): the upper bound.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.hardtanh(chainrule.tensor([-3.0, 0.5, 3.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val cannot be greater than max_val ({min_val} > {max_val})"
        )
    input = _refuse_bool("hardtanh", input)  # noqa: A001
    refuse_complex("hardtanh", input)
    if input._array.dtype.kind not in "fV":
        min_val, max_val = int(min_val), int(max_val)
    result = apply(Hardtanh, (input,), min_val, max_val)
    return _maybe_inplace(input, result, inplace, "hardtanh_")


def _maybe_inplace(input: Any, result: Any, inplace: bool, name: str) -> Any:
    if not inplace:
        return result
    recording = input._check_inplace(name)
    return input._commit_inplace(name, result, recording)


# ---- scaled ELUs, mish, the hard and log sigmoids ------------------------------------------


class ScaledElu(Op):
    """scale * (x if x > 0 else alpha (exp(input_scale x) - 1)): selu and celu, as PyTorch's elu
    with scale and input_scale. Derivative: g scale, or g scale alpha input_scale
    exp(input_scale x) for x <= 0 (the negative branch at 0, as PyTorch). Second derivative
    for x < 0 only: 0 at x == 0, as Elu's and PyTorch's. `grad_input_scale` is the
    input_scale the derivative uses: celu's is 1 / alpha with alpha rounded to float32 in
    PyTorch's derivative formula (`1.0 / alpha.toFloat()`), off by 2e-8 for alpha 0.7."""

    @staticmethod
    def forward(
        ctx: Node,
        x: Array,
        alpha: float,
        scale: float,
        input_scale: float,
        grad_input_scale: float,
        refuse_backward: bool = False,
    ) -> Array:
        ctx.save(
            x=x,
            alpha=alpha,
            scale=scale,
            input_scale=grad_input_scale,
            refuse_backward=refuse_backward,
        )
        xp = ctx.xp
        negative = alpha * xp.expm1(xp.minimum(x, 0) * input_scale)
        return (scale * xp.where(x > 0, x, negative)).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        _refuse_in_place_negative_backward(ctx, "celu")
        x = ctx.x
        negative = (
            g
            * (ctx.scale * ctx.alpha * ctx.input_scale)
            * exp(where(x < 0, x, 0.0) * ctx.input_scale)  # constant at 0: no 2nd derivative
        )
        return (where(x <= 0, negative, g * ctx.scale),)  # a nan takes the scaled g, as Elu

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """One fused op (FusedActivationBackward), as elu_backward."""
        _refuse_in_place_negative_backward(ctx, "celu")
        params = (ctx.alpha, ctx.scale, ctx.input_scale)
        return _fused_vjp(ctx, g, ScaledElu.vjp, _elu_slope, *params)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return ScaledElu.vjp(ctx, t)[0]

    batch = elementwise_batch


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalizing constants of Klambauer et al.
    (alpha = 1.6733, scale = 1.0507).

    Args:
        input (Tensor): floating point, any shape.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.selu(chainrule.tensor([-1.0, 1.0]))
        tensor([-1.1113,  1.0507])
    """
    x = floating_operand(input, "selu")
    result = apply(ScaledElu, (x,), _SELU_ALPHA, _SELU_SCALE, 1.0, 1.0)
    if not inplace:
        return named(result, "EluBackward0")
    return _maybe_inplace(input, result, inplace, "selu_")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)): elu with its negative side scaled so the
    derivative is continuous at 0 for every alpha.

    Args:
        input (Tensor): floating point, any shape.
        alpha (float): the negative side saturates at -alpha (must not be 0).
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.celu(chainrule.tensor([-1.0, 1.0]), alpha=2.0)
        tensor([-0.7869,  1.0000])
    """
    if alpha == 0:
        raise DomainError("celu: ZeroDivisionError: alpha cannot be 0")  # (PyTorch: RuntimeError)
    alpha_as_float32 = struct.unpack("f", struct.pack("f", alpha))[0]
    x = floating_operand(input, "celu")
    refuse_backward = inplace and alpha < 0
    result = apply(
        ScaledElu, (x,), alpha, 1.0, 1.0 / alpha, 1.0 / alpha_as_float32, refuse_backward
    )
    if not inplace:
        return named(result, "CeluBackward0")
    return _maybe_inplace(input, result, inplace, "celu_")


class Mish(Op):
    """x tanh(softplus(x)).
    Derivative: g (t + x sigmoid(x) (1 - t^2)) with t = tanh(softplus(x))."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        """softplus as max(x, 0) + log1p(exp(-|x|)), in place: NumPy's logaddexp(0, x) gives
        the same to a float32 ulp but runs 7x slower."""
        ctx.save(x=x)
        xp = ctx.xp
        wide = _opmath(x)
        soft = xp.abs(wide, out=xp.empty_like(wide))  # an array even when x is 0-d
        xp.negative(soft, out=soft)
        xp.exp(soft, out=soft)
        xp.log1p(soft, out=soft)
        soft += ctx.backend.relu(wide)
        return (wide * xp.tanh(soft, out=soft)).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        t = tanh(softplus(x))
        return (g * (t + x * sigmoid(x) * (1 - t * t)),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """One fused op (FusedActivationBackward), as mish_backward."""
        return _fused_vjp(ctx, g, Mish.vjp, _mish_slope)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return Mish.vjp(ctx, t)[0]

    batch = elementwise_batch


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)), the self-regularized activation of Misra (2019).

    Args:
        input (Tensor): floating point, any shape.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.mish(chainrule.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.3034,  0.0000,  0.8651])
    """
    result = apply(Mish, (floating_operand(input, "mish"),))
    return _maybe_inplace(input, result, inplace, "mish_")


# PyTorch's hardsigmoid_backward multiplies by 1/6 as a float32 constant, in every dtype: a
# float64 gradient is 0.1666666716337204 g, not g / 6 (3e-8 apart)
_ONE_SIXTH_IN_FLOAT32 = 0.1666666716337204


class Hardsigmoid(Op):
    """clamp(x / 6 + 1/2, 0, 1). Derivative: g / 6 strictly inside (-3, 3), else 0 (PyTorch),
    with 1/6 rounded to float32 as PyTorch's kernel has it."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return ctx.xp.clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (where((x > -3) & (x < 3), g * _ONE_SIXTH_IN_FLOAT32, 0.0),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return Hardsigmoid.vjp(ctx, t)[0]

    batch = elementwise_batch


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6, a piecewise-linear sigmoid: 0 below -3, 1 above 3.

    Args:
        input (Tensor): floating point, any shape.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.hardsigmoid(chainrule.tensor([-4.0, 0.0, 1.5, 4.0]))
        tensor([0.0000, 0.5000, 0.7500, 1.0000])
    """
    result = apply(Hardsigmoid, (floating_operand(input, "hardsigmoid"),))
    return _maybe_inplace(input, result, inplace, "hardsigmoid_")


class Hardswish(Op):
    """x relu6(x + 3) / 6. Derivative: 0 up to -3, g (x / 3 + 1/2) strictly between -3 and
    3, g from 3 on (PyTorch 2.13's conventions at the kinks: 0 at -3 and 1 at 3)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return (x * ctx.xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (where(x <= -3, 0.0, where(x < 3, g * (x / 3 + 0.5), g)),)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """One fused op (FusedActivationBackward), as hardswish_backward."""
        return _fused_vjp(ctx, g, Hardswish.vjp, _hardswish_slope)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return Hardswish.vjp(ctx, t)[0]

    batch = elementwise_batch


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6, the piecewise swish of MobileNetV3.

    Args:
        input (Tensor): floating point, any shape.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.hardswish(chainrule.tensor([-4.0, 1.0, 4.0]))
        tensor([-0.0000,  0.6667,  4.0000])
    """
    result = apply(Hardswish, (floating_operand(input, "hardswish"),))
    return _maybe_inplace(input, result, inplace, "hardswish_")


class LogSigmoid(Op):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), without overflow.
    Derivative: g sigmoid(-x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        xp = ctx.xp
        return (xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * sigmoid(-ctx.x),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return LogSigmoid.vjp(ctx, t)[0]

    batch = elementwise_batch


def logsigmoid(input: Tensor) -> Tensor:
    """log(1 / (1 + exp(-x))), computed as min(x, 0) - log1p(exp(-|x|)) so that large |x|
    neither overflows nor loses precision.

    Args:
        input (Tensor): floating point, any shape.

    Returns:
        Tensor: the shape of `input`, every value <= 0.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.logsigmoid(chainrule.tensor([-20.0, 0.0]))
        tensor([-20.0000,  -0.6931])
    """
    return apply(LogSigmoid, (floating_operand(input, "logsigmoid"),))


# ---- compositions --------------------------------------------------------------------------


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) (hardtanh on [0, 6]; no gradient at the edges, as PyTorch).

    Args:
        input (Tensor): any shape.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.relu6(chainrule.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|), a sigmoid-shaped map onto (-1, 1).

    Args:
        input (Tensor): floating point, any shape.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.softsign(chainrule.tensor([-1.0, 3.0]))
        tensor([-0.5000,  0.7500])
    """
    return input / (_abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x).

    Args:
        input (Tensor): floating point, any shape.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.tanhshrink(chainrule.tensor([0.0, 1.0]))
        tensor([0.0000, 0.2384])
    """
    return input - tanh(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between.

    Args:
        input (Tensor): floating point, any shape.
        lambd (float): the half-width of the band set to zero (not negative).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.softshrink(chainrule.tensor([-2.0, 0.3, 2.0]), 0.5)
        tensor([-1.5000,  0.0000,  1.5000])
    """
    refuse_complex("softshrink", input)
    input = _require_floating("softshrink", input)  # noqa: A001 - no integer kernel to promote into
    largest = dtypes.finfo(input.dtype).max
    if not 0 <= float(lambd) <= largest:  # PyTorch's range: one the dtype cannot hold too
        raise DomainError(
            f"softshrink: lambda must be in range [0, {largest:g}] for input dtype "
            f"{dtypes.scalar_type_name(input.dtype)}, but found {float(lambd):g}"
        )
    x = piecewise_input(input)
    inside = (x >= -lambd) & (x <= lambd)  # PyTorch's test: a nan is outside, and stays nan
    return named(where(inside, 0.0, where(x > lambd, x - lambd, x + lambd)), "SoftshrinkBackward0")


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0.

    Args:
        input (Tensor): floating point, any shape.
        lambd (float): the half-width of the band set to zero.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.hardshrink(chainrule.tensor([-2.0, 0.3, 2.0]), 0.5)
        tensor([-2.,  0.,  2.])
    """
    refuse_complex("hardshrink", input)
    input = _require_floating("hardshrink", input)  # noqa: A001
    x = piecewise_input(input)
    out = where((x >= -lambd) & (x <= lambd), 0.0, x)  # a nan stays nan, as in PyTorch
    return named(out, "HardshrinkBackward0")


def _number_in(name: str, number: float, dtype: Any) -> float:
    """A Python number converted to `dtype` as PyTorch's Scalar arguments are: overflow refused,
    negative ints wrapped into unsigned dtypes, floats truncated toward 0 into integers."""
    number = checked_fill(name, number, dtype)
    if not (dtype.is_floating_point or dtype.is_complex) and isinstance(number, float):
        return int(number)
    return number


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value.

    Args:
        input (Tensor): any shape.
        threshold (float): the values at or below it are replaced.
        value (float): what they are replaced with.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.threshold(chainrule.tensor([0.5, 1.0, 2.0]), 1.0, -1.0)
        tensor([-1., -1.,  2.])
    """
    refuse_complex("threshold", input)
    # both numbers in input's dtype, as PyTorch converts them (an int tensor stays int; 300
    # into int8 overflows; -1 into uint8 wraps to 255)
    threshold, value = (
        _number_in("threshold", number, input.dtype) for number in (threshold, value)
    )
    # in place, the rule reads a copy of the input, not the tensor the result overwrites
    source = input.clone() if inplace and input._requires_grad else input
    x = piecewise_input(source)
    result = where(x <= threshold, value, x)  # a nan stays nan, as in PyTorch
    return input.copy_(result) if inplace else named(result, "ThresholdBackward0")


@autocast_policy(LOWER)
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight * x, with one weight per channel (dim 1) or one in all.

    Args:
        input (Tensor): floating point, (N, C, ...), (C,) or a scalar.
        weight (Tensor): the slopes, of C elements or one element.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.prelu(chainrule.tensor([[-1.0, -1.0]]), chainrule.tensor([0.1, 0.2]))
        tensor([[-0.1000, -0.2000]])
    """
    refuse_complex("prelu", input, weight)
    if input.dtype != weight.dtype:
        raise DTypeError(
            f"prelu: Type promoting not supported. Got {input.dtype.name} input and "
            f"{weight.dtype.name} weight"
        )
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise ShapeError(
            f"prelu: mismatch of parameter numbers and input channel size: weight of shape "
            f"{tuple(weight.shape)} for input of shape {tuple(input.shape)}"
        )
    slope = weight
    if weight.numel() != 1 and input.ndim >= 2:
        slope = reshape(weight, (channels,) + (1,) * (input.ndim - 2))
    elif weight.numel() == 1:
        slope = reshape(weight, ())
    x = piecewise_input(input)
    return named(where(x > 0, x, slope * x), "PreluKernelBackward0")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit a * sigmoid(b), with a and b the first and second halves of input
    along dim.

    Args:
        input (Tensor): floating point; its size along `dim` must be even.
        dim (int): the dimension that is halved.

    Returns:
        Tensor: the shape of `input` with `dim` halved.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.glu(chainrule.tensor([1.0, 2.0, 0.0, 100.0]))
        tensor([0.5000, 2.0000])
    """
    refuse_complex("glu", input)  # PyTorch has no complex glu kernel
    if input.ndim == 0:
        raise ShapeError("glu: does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise ShapeError(f"glu: halving dimension must be even, but dimension {dim} is size {size}")
    half = size // 2
    return named(
        narrow(input, dim, 0, half) * sigmoid(narrow(input, dim, half, half)), "GluBackward0"
    )


__all__ = ["elu", "gelu", "hardtanh", "leaky_relu", "relu", "rrelu", "silu", "softplus"]
