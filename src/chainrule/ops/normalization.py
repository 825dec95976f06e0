# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Normalization: Standardize ((x - mean) * rstd over some axes, the core of batch, layer,
group and instance norm, returning rstd as PyTorch's native_layer_norm), the *_norm functions
that choose its axes and apply the affine parameters, and rms_norm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.errors import DTypeError, ShapeError
from chainrule.ops.conversion import cast, keep_channels_last
from chainrule.ops.elementwise import rsqrt
from chainrule.ops.nn_common import check_floating, check_vector
from chainrule.ops.op import Op, apply, named
from chainrule.ops.reduction import mean
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import broadcast_to, reshape, summed_to, unbroadcast


class Standardize(Op):
    """(x - mean) * rstd over `axes`, rstd = 1 / sqrt(var + eps) with the biased variance: the
    core of batch, layer, group and instance norm. Returns (out, rstd), as PyTorch's
    native_layer_norm returns its rstd, so the backward reads rstd as a saved output instead of
    recomputing it (6 ops fewer per norm, and exact to every order, since an output is part of
    the graph). out's Jacobian rstd (I - 1/n - out out^T / n) is symmetric, so its vjp and jvp
    are one formula, rstd * (g - mean(g) - out * mean(g * out)); rstd's derivative is
    -rstd^2 out / n."""

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple, eps: float) -> tuple:
        ctx.save(axes=axes, eps=eps)
        xp = ctx.xp
        if _trailing_rows(x, axes):  # layer norm: rows of the trailing axes, over the threads
            out, rstd = _standardize_rows(ctx, x, axes, eps)
        else:
            out = xp.empty(x.shape, dtype=x.dtype)
            rstd = xp.empty(_kept_shape(x.shape, axes), dtype=x.dtype)
            channels = _channel_shape(x, axes)  # batch norm: one pass per channel
            if channels is None or not ctx.backend.standardize_channels(
                x.reshape(channels), out.reshape(channels), rstd.reshape(-1), eps
            ):
                rstd = _standardize(xp, x, out, None, axes, eps)
        ctx.save(out=out, rstd=rstd)
        return out, rstd.astype(x.dtype, copy=False)

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """rstd is rarely used: no zeros and no extra term for it then."""
        g, g_rstd = grads
        if g is None:
            shape, dtype = ctx.output_meta[0]
            g = Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy))
        return [g, g_rstd]

    @staticmethod
    def vjp(ctx: Node, g: Any, g_rstd: Any = None) -> tuple:
        grad = Standardize._normalized_tangent(ctx, g)
        if g_rstd is not None:
            grad = grad + Standardize._rstd_tangent_adjoint(ctx, g_rstd)
        return (grad,)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any, g_rstd: Any = None) -> tuple:
        """The same, out's part as one op (StandardizeBackward, PyTorch's layer norm backward
        without the affine part): a few passes in place instead of about eight ops."""
        grad = apply(StandardizeBackward, (g, ctx.out, ctx.rstd), ctx.axes)
        if g_rstd is not None:
            grad = grad + Standardize._rstd_tangent_adjoint(ctx, g_rstd)
        return (grad,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        out, rstd, axes = ctx.out, ctx.rstd, ctx.axes
        t_rstd = -(rstd * rstd) * mean(out * t, axes, keepdim=True)
        return Standardize._normalized_tangent(ctx, t), t_rstd

    @staticmethod
    def _normalized_tangent(ctx: Node, t: Any) -> Any:
        out, axes = ctx.out, ctx.axes
        centered = t - mean(t, axes, keepdim=True) - out * mean(t * out, axes, keepdim=True)
        return ctx.rstd * centered

    @staticmethod
    def _rstd_tangent_adjoint(ctx: Node, g_rstd: Any) -> Any:
        out, rstd = ctx.out, ctx.rstd
        count = math.prod(out.shape[axis] for axis in ctx.axes)
        return (g_rstd * rstd * rstd) * out * (-1.0 / count)

    @staticmethod
    def batch(b: Any, x: Any, axes: tuple, eps: float) -> Any:
        """vmap: the axes one further right."""
        return apply(Standardize, (x,), tuple(axis + 1 for axis in axes), eps)


class StandardizeBackward(Op):
    """rstd (g - mean(g) - out mean(g out)) over `axes`: Standardize's vjp for out as one op.
    It is linear in g with a symmetric Jacobian, so its derivative for g is itself; for out,
    -rstd (gg mean(g out) + g mean(gg out)); for rstd, the sum of gg times the bracket."""

    @staticmethod
    def forward(ctx: Node, g: Array, out: Array, rstd: Array, axes: tuple) -> Array:
        ctx.save(g=g, out=out, rstd=rstd, axes=axes)
        xp = ctx.xp
        if g.shape != out.shape or g.dtype != out.dtype or not _trailing_rows(out, axes):
            channels = _channel_shape(out, axes)
            if channels is not None and g.shape == out.shape:
                result = xp.empty(out.shape, dtype=out.dtype)
                rows = (g.reshape(channels), out.reshape(channels), rstd.reshape(-1))
                if ctx.backend.standardize_backward_channels(*rows, result.reshape(channels)):
                    return result
            mean_product = (g * out).mean(axis=axes, keepdims=True)
            return rstd * (g - g.mean(axis=axes, keepdims=True) - out * mean_product)
        result = xp.empty(out.shape, dtype=out.dtype)
        rows_g, rows_out, rows_result = (_as_rows(array, axes) for array in (g, out, result))
        rows_rstd = rstd.reshape(-1, 1)

        def block(start: int, stop: int) -> None:
            part = slice(start, stop)
            _standardize_backward(
                xp, rows_g[part], rows_out[part], rows_rstd[part], rows_result[part]
            )

        if not ctx.backend.standardize_backward_rows(rows_g, rows_out, rows_rstd, rows_result):
            ctx.backend.parallel_for(rows_result.shape[0], block, rows_result.shape[1])
        return result

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        g, out, rstd, axes = ctx.g, ctx.out, ctx.rstd, ctx.axes
        grad_g = grad_out = grad_rstd = None
        if ctx.next_edges[0] is not None:
            grad_g = apply(StandardizeBackward, (gg, out, rstd), axes)
        if ctx.next_edges[1] is not None:
            grad_out = -rstd * (gg * _mean_product(g, out, axes) + g * _mean_product(gg, out, axes))
        if ctx.next_edges[2] is not None:
            grad_rstd = reduce_sum(gg * _bracket(g, out, axes), axes, keepdim=True)
        return (grad_g, grad_out, grad_rstd)

    @staticmethod
    def jvp(ctx: Node, t_g: Any, t_out: Any, t_rstd: Any) -> Any:
        g, out, rstd, axes = ctx.g, ctx.out, ctx.rstd, ctx.axes
        parts = []
        if t_g is not None:
            parts.append(apply(StandardizeBackward, (t_g, out, rstd), axes))
        if t_out is not None:
            parts.append(
                -rstd * (t_out * _mean_product(g, out, axes) + out * _mean_product(g, t_out, axes))
            )
        if t_rstd is not None:
            parts.append(t_rstd * _bracket(g, out, axes))
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total

    @staticmethod
    def batch(b: Any, g: Any, out: Any, rstd: Any, axes: tuple) -> Any:
        g, out, rstd = (
            x if batched else b.expand(x) for x, batched in zip((g, out, rstd), b.batched)
        )
        return apply(b.op, (g, out, rstd), tuple(axis + 1 for axis in axes))


class AffineStandardize(Op):
    """Layer or group norm with its affine part as one op: y = out * weight + bias with out =
    (x - mean) * rstd over the trailing `axes` (Standardize's), weight and bias either of
    those axes' shape (layer norm) or, for x (..., G, K, S) normalized over its last two axes,
    (G, K, 1): one per channel of each group (group norm). Returns (y, out, rstd), as PyTorch's
    native_layer_norm returns its statistics: out and rstd are outputs, so the rules read them
    as part of the graph (exact to every order). Derivatives: Standardize's vjp of g * weight
    for x, the sum of g * out over the dimensions the weight broadcasts along for weight, and
    of g for bias. One pass per row forward and, through `fast_vjp`, backward
    (AffineStandardizeBackward), where Standardize, a Mul and an Add took three forwards and
    five backward ops: `F.layer_norm` on W7's (16, 64, 128) float32, forward 0.38 -> 0.19 ms
    and forward + backward 1.16 -> 0.57 ms; `nn.GroupNorm(8, 64)` on (32, 64, 32, 32), forward
    and backward 7.3 -> 3.7 ms (CPU time, one thread, benchmarks/README.md)."""

    @staticmethod
    def forward(ctx: Node, x: Array, weight: Array, bias: Array, axes: tuple, eps: float) -> tuple:
        ctx.save(weight=weight, axes=axes)
        xp = ctx.xp
        y = xp.empty(x.shape, dtype=x.dtype)
        out = xp.empty(x.shape, dtype=x.dtype)
        rstd = xp.empty(_kept_shape(x.shape, axes), dtype=x.dtype)
        if _per_element(weight, x, axes):  # layer norm
            rows = (_as_rows(x, axes), weight.reshape(-1), bias.reshape(-1))
            outputs = (_as_rows(y, axes), _as_rows(out, axes), rstd.reshape(-1, 1))
            if not ctx.backend.layer_norm_rows(*rows, *outputs, eps):
                rows_x, rows_weight, rows_bias = rows
                rows_y, rows_out, rows_rstd = outputs

                def block(start: int, stop: int) -> None:
                    part = slice(start, stop)
                    _standardize(xp, rows_x[part], rows_out[part], rows_rstd[part], (1,), eps)
                    xp.multiply(rows_out[part], rows_weight, out=rows_y[part])
                    rows_y[part] += rows_bias

                ctx.backend.parallel_for(rows_y.shape[0], block, rows_y.shape[1])
        else:  # group norm: rows (samples x groups, K, S), weight and bias (G, K)
            rows_shape, parameter_shape = _group_rows(x, weight)
            per_channel = (weight.reshape(parameter_shape), bias.reshape(parameter_shape))
            rows = (y.reshape(rows_shape), out.reshape(rows_shape), rstd.reshape(-1))
            if not ctx.backend.group_norm_rows(x.reshape(rows_shape), *per_channel, *rows, eps):
                out, rstd = _standardize_rows(ctx, x, axes, eps)
                xp.multiply(out, weight, out=y)
                y += bias
        ctx.save(out=out, rstd=rstd)
        return y, out, rstd

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """out and rstd are rarely used: no zeros and no extra terms for them then."""
        g, g_out, g_rstd = grads
        if g is None:
            shape, dtype = ctx.output_meta[0]
            g = Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy), ctx.backend)
        return [g, g_out, g_rstd]

    @staticmethod
    def vjp(ctx: Node, g: Any, g_out: Any = None, g_rstd: Any = None) -> tuple:
        weight_shape, bias_shape = ctx.input_meta[1][0], ctx.input_meta[2][0]
        grad_x = grad_weight = grad_bias = None
        if ctx.next_edges[0] is not None:
            g_normalized = g * ctx.weight
            if g_out is not None:
                g_normalized = g_normalized + g_out
            grad_x = Standardize._normalized_tangent(ctx, g_normalized)
            if g_rstd is not None:
                grad_x = grad_x + Standardize._rstd_tangent_adjoint(ctx, g_rstd)
        if ctx.next_edges[1] is not None:
            grad_weight = unbroadcast(g * ctx.out, weight_shape)
        if ctx.next_edges[2] is not None:
            grad_bias = unbroadcast(g, bias_shape)
        return (grad_x, grad_weight, grad_bias)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any, g_out: Any = None, g_rstd: Any = None) -> tuple:
        """The same as one op, AffineStandardizeBackward (PyTorch's native_layer_norm_backward),
        when only y has a gradient."""
        if g_out is not None or g_rstd is not None:
            return AffineStandardize.vjp(ctx, g, g_out, g_rstd)
        grads = apply(AffineStandardizeBackward, (g, ctx.out, ctx.rstd, ctx.weight), ctx.axes)
        return tuple(
            grad if edge is not None else None for grad, edge in zip(grads, ctx.next_edges)
        )

    @staticmethod
    def jvp(ctx: Node, t_x: Any, t_weight: Any, t_bias: Any) -> tuple:
        out, weight, axes = ctx.out, ctx.weight, ctx.axes
        t_out = t_rstd = None
        parts = []
        if t_x is not None:
            t_out = Standardize._normalized_tangent(ctx, t_x)
            t_rstd = -(ctx.rstd * ctx.rstd) * mean(out * t_x, axes, keepdim=True)
            parts.append(t_out * weight)
        if t_weight is not None:
            parts.append(out * t_weight)
        if t_bias is not None:
            parts.append(t_bias)
        t_y = parts[0]
        for part in parts[1:]:
            t_y = t_y + part
        if t_y.shape != out.shape:  # only the bias had a tangent
            t_y = broadcast_to(t_y, out.shape)
        return t_y, t_out, t_rstd

    @staticmethod
    def batch(b: Any, x: Any, weight: Any, bias: Any, axes: tuple, eps: float) -> Any:
        """vmap: with shared parameters, the axes one further right; with parameters per
        example, Standardize and the affine part as ops, the parameters broadcast per
        example."""
        shifted = tuple(axis + 1 for axis in axes)
        if not any(b.batched[1:]):
            return apply(AffineStandardize, (b.batch_all((x,))[0], weight, bias), shifted, eps)
        x, weight, bias = b.batch_all((x, weight, bias))
        out, rstd = apply(Standardize, (x,), shifted, eps)
        shape = (b.size,) + (1,) * (x.ndim - weight.ndim) + tuple(weight.shape[1:])
        return out * reshape(weight, shape) + reshape(bias, shape), out, rstd


class AffineStandardizeBackward(Op):
    """AffineStandardize's vjp for y as one op, PyTorch's native_layer_norm_backward (and
    native_group_norm_backward): returns (rstd (g w - mean(g w) - out mean(g w out)), sum(g
    out), sum(g)), the sums down to w's shape (over the dimensions it broadcasts along), for
    the cotangent g, the saved out and rstd, and weight w. The first is StandardizeBackward of
    g w, so its rules are that op's, through g w; the sums are linear in g (and in out)."""

    @staticmethod
    def forward(ctx: Node, g: Array, out: Array, rstd: Array, weight: Array, axes: tuple) -> tuple:
        ctx.save(g=g, out=out, rstd=rstd, weight=weight, axes=axes)
        xp = ctx.xp
        result = xp.empty(out.shape, dtype=out.dtype)
        rows_out, rows_result = _as_rows(out, axes), _as_rows(result, axes)
        rows_rstd = rstd.reshape(-1, 1)
        sums = None
        if g.shape == out.shape and g.dtype == out.dtype:
            if _per_element(weight, out, axes):  # layer norm
                sums = ctx.backend.layer_norm_backward_rows(
                    _as_rows(g, axes), rows_out, rows_rstd, weight.reshape(-1), rows_result
                )
            else:  # group norm
                rows_shape, parameter_shape = _group_rows(out, weight)
                rows = (g.reshape(rows_shape), out.reshape(rows_shape), rstd.reshape(-1))
                sums = ctx.backend.group_norm_backward_rows(
                    *rows, weight.reshape(parameter_shape), result.reshape(rows_shape)
                )
        if sums is None:
            g = xp.broadcast_to(g, out.shape)
            scaled = _as_rows(g * weight, axes)

            def block(start: int, stop: int) -> None:
                part = slice(start, stop)
                _standardize_backward(
                    xp, scaled[part], rows_out[part], rows_rstd[part], rows_result[part]
                )

            ctx.backend.parallel_for(rows_result.shape[0], block, rows_result.shape[1])
            return result, summed_to(g * out, weight.shape), summed_to(g, weight.shape)
        grad_weight, grad_bias = sums
        return result, grad_weight.reshape(weight.shape), grad_bias.reshape(weight.shape)

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """Outputs without a gradient contribute nothing: no zeros for them."""
        return grads

    @staticmethod
    def vjp(ctx: Node, gg: Any, gg_weight: Any = None, gg_bias: Any = None) -> tuple:
        g, out, rstd, weight, axes = ctx.g, ctx.out, ctx.rstd, ctx.weight, ctx.axes
        needs = [edge is not None for edge in ctx.next_edges]
        grad_g = grad_out = grad_rstd = grad_weight = None
        if gg is not None:
            adjoint = apply(StandardizeBackward, (gg, out, rstd), axes)  # symmetric, linear
            scaled = g * weight
            if needs[0]:
                grad_g = adjoint * weight
            if needs[1]:
                grad_out = -rstd * (
                    gg * _mean_product(scaled, out, axes) + scaled * _mean_product(gg, out, axes)
                )
            if needs[2]:
                grad_rstd = reduce_sum(gg * _bracket(scaled, out, axes), axes, keepdim=True)
            if needs[3]:
                grad_weight = unbroadcast(adjoint * g, ctx.input_meta[3][0])
        if gg_weight is not None:
            if needs[0]:
                grad_g = _plus(grad_g, gg_weight * out)
            if needs[1]:
                grad_out = _plus(grad_out, gg_weight * g)
        if gg_bias is not None and needs[0]:
            grad_g = _plus(grad_g, broadcast_to(gg_bias, out.shape))
        if grad_g is not None:
            grad_g = unbroadcast(grad_g, ctx.input_meta[0][0])
        return (grad_g, grad_out, grad_rstd, grad_weight)

    @staticmethod
    def jvp(ctx: Node, t_g: Any, t_out: Any, t_rstd: Any, t_weight: Any) -> tuple:
        g, out, rstd, weight, axes = ctx.g, ctx.out, ctx.rstd, ctx.weight, ctx.axes
        weight_shape = tuple(weight.shape)
        scaled = g * weight
        t_scaled = None
        if t_g is not None:
            t_scaled = t_g * weight
        if t_weight is not None:
            t_scaled = _plus(t_scaled, g * t_weight)
        t_result = t_sum_weight = t_sum_bias = None
        if t_scaled is not None:
            t_result = apply(StandardizeBackward, (t_scaled, out, rstd), axes)
        if t_out is not None:
            t_result = _plus(
                t_result,
                -rstd
                * (
                    t_out * _mean_product(scaled, out, axes)
                    + out * _mean_product(scaled, t_out, axes)
                ),
            )
            t_sum_weight = unbroadcast(g * t_out, weight_shape)
        if t_rstd is not None:
            t_result = _plus(t_result, t_rstd * _bracket(scaled, out, axes))
        if t_g is not None:
            t_sum_weight = _plus(t_sum_weight, unbroadcast(t_g * out, weight_shape))
            t_sum_bias = unbroadcast(broadcast_to(t_g, out.shape), weight_shape)
        if t_result is not None and t_result.shape != out.shape:
            t_result = broadcast_to(t_result, out.shape)
        return t_result, t_sum_weight, t_sum_bias

    @staticmethod
    def batch(b: Any, g: Any, out: Any, rstd: Any, weight: Any, axes: tuple) -> tuple:
        """vmap: the three results as ops, each example's sums kept apart."""
        g, out, rstd, weight = b.batch_all((g, out, rstd, weight))
        shifted = tuple(axis + 1 for axis in axes)
        per_example = tuple(weight.shape)
        shape = (b.size,) + (1,) * (out.ndim - weight.ndim) + per_example[1:]
        result = apply(StandardizeBackward, (g * reshape(weight, shape), out, rstd), shifted)
        g = broadcast_to(g, out.shape)
        sums = (unbroadcast(g * out, shape), unbroadcast(g, shape))  # each example's own
        return result, *(reshape(total, per_example) for total in sums)


def _plus(total: Any, part: Any) -> Any:
    """total + part, where None is zero."""
    return part if total is None else total + part


def _standardize_backward(xp: Any, g: Array, out: Array, rstd: Array, result: Array) -> None:
    """rstd (g - (out mean(g out) + mean(g))) along rows into `result`, in place."""
    mean_product = xp.multiply(g, out, out=result).mean(axis=1, keepdims=True)
    xp.multiply(out, mean_product, out=result)
    result += g.mean(axis=1, keepdims=True)
    xp.subtract(g, result, out=result)
    result *= rstd


def _mean_product(a: Any, b: Any, axes: tuple) -> Any:
    """mean(a b) over `axes`, kept."""
    return mean(a * b, axes, keepdim=True)


def _bracket(g: Any, out: Any, axes: tuple) -> Any:
    """g - mean(g) - out mean(g out), the tensors' bracket of StandardizeBackward."""
    return g - mean(g, axes, keepdim=True) - out * _mean_product(g, out, axes)


def _standardize(
    xp: Any, x: Array, out: Array, rstd_out: Array | None, axes: tuple, eps: float
) -> Array:
    """(x - mean) rstd into `out` in place, rstd = 1 / sqrt(var + eps) over `axes` (into
    `rstd_out` if given), returned."""
    xp.subtract(x, x.mean(axis=axes, keepdims=True), out=out)
    variance = (out * out).mean(axis=axes, keepdims=True)
    rstd = xp.divide(1, xp.sqrt(variance + eps), out=rstd_out)
    out *= rstd
    return rstd


def _standardize_rows(ctx: Node, x: Array, axes: tuple, eps: float) -> tuple[Array, Array]:
    """(out, rstd) of Standardize over x's trailing `axes`, row by row: the backend's
    compiled rows, else NumPy passes over the threads."""
    xp = ctx.xp
    out = xp.empty(x.shape, dtype=x.dtype)
    rstd = xp.empty(_kept_shape(x.shape, axes), dtype=x.dtype)
    rows_x, rows_out, rows_rstd = _as_rows(x, axes), _as_rows(out, axes), rstd.reshape(-1, 1)

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        _standardize(xp, rows_x[part], rows_out[part], rows_rstd[part], (1,), eps)

    if not ctx.backend.standardize_rows(rows_x, rows_out, rows_rstd, eps):
        ctx.backend.parallel_for(rows_out.shape[0], block, rows_out.shape[1])
    return out, rstd


def _per_element(weight: Array, x: Array, axes: tuple) -> bool:
    """Whether AffineStandardize's weight has one element per element of a row (layer norm's)
    rather than one per channel of a group (group norm's (G, K, 1))."""
    return weight.shape == x.shape[x.ndim - len(axes) :]


def _group_rows(x: Array, weight: Array) -> tuple[tuple, tuple]:
    """Group norm's rows: x (..., G, K, S) as (samples x groups, K, S), and its weight (G, K,
    1) as (G, K)."""
    groups, channels = weight.shape[:2]
    return (-1, channels, x.shape[-1]), (groups, channels)


def _trailing_rows(x: Array, axes: tuple) -> bool:
    """Whether `axes` are x's last ones (layer norm's), non-empty, and x a float array that
    splits into rows of them."""
    return (
        bool(axes)
        and axes == tuple(range(x.ndim - len(axes), x.ndim))
        and x.size > 0
        and x.dtype.kind == "f"
    )


def _channel_shape(x: Array, axes: tuple) -> tuple | None:
    """x's shape as (A, C, S) when the axes not in `axes` (the channels, C) are one block
    between reduced leading (A) and trailing (S) axes: batch norm's statistics per channel,
    for the backend's per-channel kernels; None for other reductions or a non-float x."""
    kept = [axis for axis in range(x.ndim) if axis not in axes]
    if not axes or not kept or kept[-1] - kept[0] + 1 != len(kept) or x.dtype.kind != "f":
        return None
    first, stop = kept[0], kept[-1] + 1
    shape = x.shape
    return math.prod(shape[:first]), math.prod(shape[first:stop]), math.prod(shape[stop:])


def _as_rows(array: Array, axes: tuple) -> Array:
    """The array as rows of its trailing `axes` (a view of a C-order array)."""
    return array.reshape(-1, math.prod(array.shape[len(array.shape) - len(axes) :]))


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if axis in axes else size for axis, size in enumerate(shape))


def _reduced_input_with_float_parameters(name: str, input: Any, *parameters: Any) -> bool:
    """PyTorch's CPU rule for a norm's weight, bias and running statistics: one dtype among
    them, and that of the input, except that a float16 / bfloat16 input may take float32
    parameters (mixed precision; the result keeps the input's dtype). Returns whether that
    exception applies, so the caller computes in float32 and casts its result back."""
    given = [p for p in parameters if p is not None and p.dtype.is_floating_point]
    if not given or not input.dtype.is_floating_point:
        return False
    wanted = given[0].dtype
    for parameter in given[1:]:
        if parameter.dtype != wanted:
            raise DTypeError(
                f"{name}: expected scalar type {wanted.name} but found {parameter.dtype.name}"
            )
    if wanted == input.dtype:
        return False
    if input.dtype in (dtypes.float16, dtypes.bfloat16) and wanted == dtypes.float32:
        return True
    if input.dtype == dtypes.float64:
        raise DTypeError(f"{name}: mixed dtype (CPU): all inputs must share same datatype.")
    raise DTypeError(
        f"{name}: mixed dtype (CPU): expect parameter to have scalar type of Float "
        f"(input {input.dtype.name}, parameters {wanted.name})"
    )


def _affine(out: Any, weight: Any, bias: Any, shape: tuple) -> Any:
    if weight is not None:
        out = out * reshape(weight, shape)
    if bias is not None:
        out = out + reshape(bias, shape)
    return out


def _normalize_with(
    input: Any, running_mean: Any, running_var: Any, eps: float, shape: tuple
) -> Any:
    """(x - running_mean) / sqrt(running_var + eps), the statistics constants of shape `shape`."""
    center = reshape(running_mean.detach(), shape)
    return (input - center) * reshape(rsqrt(running_var.detach() + eps), shape)


def _channel_moments(data: Tensor, axes: tuple) -> tuple[Tensor, Tensor] | None:
    """The mean and the unbiased variance over `axes` (the kept axes' shape) in one compiled
    pass per channel, where the backend has the kernel for the layout; None otherwise."""
    array = data._array
    channels = _channel_shape(array, axes)
    moments = (
        None if channels is None else data._backend.channel_moments(array.reshape(channels), 1)
    )
    if moments is None:
        return None
    kept = tuple(size for axis, size in enumerate(array.shape) if axis not in axes)
    return tuple(  # type: ignore[return-value]
        Tensor._from_array(moment.astype(array.dtype).reshape(kept), data._backend)
        for moment in moments
    )


def _update_running_stats(
    x: Any, running_mean: Any, running_var: Any, momentum: float, axes: tuple
) -> None:
    """running = (1 - momentum) running + momentum * statistic, in place as PyTorch, with the
    unbiased variance for the running estimate. The statistics are taken over `axes`; what is
    left besides the channel (instance norm's samples) is averaged."""
    with no_grad():
        data = x.detach()
        moments = _channel_moments(data, axes)
        if moments is not None:
            batch_mean, batch_var = moments
        else:
            count = math.prod(data.shape[a] for a in axes)
            centered = data - mean(data, axes, keepdim=True)
            batch_mean = mean(data, axes)
            batch_var = reduce_sum(centered * centered, axes) / max(count - 1, 1)
        if batch_mean.ndim > 1:  # (N, C) per-instance statistics
            batch_mean, batch_var = mean(batch_mean, 0), mean(batch_var, 0)
        if running_mean is not None:
            running_mean.copy_(running_mean * (1 - momentum) + batch_mean * momentum)
        if running_var is not None:
            running_var.copy_(running_var * (1 - momentum) + batch_var * momentum)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) to zero mean and unit variance, then scale by `weight` and
    shift by `bias`. Training uses the batch's statistics (over every dimension but 1) and
    updates `running_mean` and `running_var` in place by
    running = (1 - momentum) * running + momentum * batch; evaluation uses the running ones.

    Args:
        input (Tensor): floating point (N, C) or (N, C, *).
        running_mean (Tensor or None): (C,); required when not training.
        running_var (Tensor or None): (C,); required when not training.
        weight (Tensor, optional): (C,) scale.
        bias (Tensor, optional): (C,) shift.
        training (bool): use (and update) batch statistics.
        momentum (float): the weight of the batch statistics in the running update.
        eps (float): added to the variance before the square root.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> mean, var = chainrule.zeros(1), chainrule.ones(1)
        >>> F.batch_norm(chainrule.tensor([[1.0], [3.0]]), mean, var, training=True)
        tensor([[-1.0000],
                [ 1.0000]])
        >>> mean, var
        (tensor([0.2000]), tensor([1.1000]))
    """
    if input.ndim < 2:
        raise ShapeError(
            f"batch_norm: expected input with at least 2 dimensions, got shape {tuple(input.shape)}"
        )
    check_floating("batch_norm", input=input)
    channels = input.shape[1]
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        check_vector("batch_norm", name, tensor, (channels,))
    cast_back = _reduced_input_with_float_parameters(
        "batch_norm", input, weight, bias, running_mean, running_var
    )
    work = cast(input, dtypes.float32) if cast_back else input  # statistics in float32
    axes = (0, *range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.shape[0] * math.prod(input.shape[2:])  # values per channel
        if count == 1:
            raise ShapeError(
                f"batch_norm: expected more than 1 value per channel when training, got input of "
                f"shape {tuple(input.shape)}"
            )
        if count == 0:  # an empty batch (a detection head given no boxes): PyTorch returns it
            out = work * 0  # empty, and leaves the running statistics as they were
        else:
            out = apply(Standardize, (work,), axes, eps)[0]
            if running_mean is not None or running_var is not None:
                _update_running_stats(work, running_mean, running_var, momentum, axes)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var must be given when not training"
            )
        out = _normalize_with(work, running_mean, running_var, eps, shape)
    out = _affine(out, weight, bias, shape)
    if cast_back:
        out = cast(out, input.dtype)
    return named(keep_channels_last(input, out), "NativeBatchNormBackward0")


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each (sample, channel) plane over its spatial dimensions, then scale and shift per
    channel. Running statistics, when given, track the batch average of the per-instance
    statistics; `use_input_stats=False` normalizes by them instead.

    Args:
        input (Tensor): floating point (N, C, *spatial), at least 3-D.
        running_mean (Tensor, optional): (C,), updated in place.
        running_var (Tensor, optional): (C,), updated in place.
        weight (Tensor, optional): (C,) scale.
        bias (Tensor, optional): (C,) shift.
        use_input_stats (bool): normalize by each instance's own statistics.
        momentum (float): the weight of the new statistics in the running update.
        eps (float): added to the variance before the square root.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.instance_norm(chainrule.tensor([[[1.0, 3.0], [5.0, 5.0]]]))
        tensor([[[-1.0000,  1.0000],
                 [ 0.0000,  0.0000]]])
    """
    if input.ndim < 3:
        raise ShapeError(
            "instance_norm: expected input with at least 3 dimensions, got shape "
            f"{tuple(input.shape)}"
        )
    check_floating("instance_norm", input=input)
    channels = input.shape[1]
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        check_vector("instance_norm", name, tensor, (channels,))
    cast_back = _reduced_input_with_float_parameters(
        "instance_norm", input, weight, bias, running_mean, running_var
    )
    work = cast(input, dtypes.float32) if cast_back else input  # statistics in float32
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if use_input_stats:
        spatial = tuple(range(2, input.ndim))
        if all(input.shape[d] == 1 for d in spatial):  # a variance of one value is 0
            raise ShapeError(
                "instance_norm: Expected more than 1 spatial element when training, got "
                f"input size {tuple(input.shape)}"
            )
        out = apply(Standardize, (work,), spatial, eps)[0]
        if running_mean is not None or running_var is not None:
            _update_running_stats(work, running_mean, running_var, momentum, spatial)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: running_mean and running_var must be given when "
                "use_input_stats=False"
            )
        out = _normalize_with(work, running_mean, running_var, eps, shape)
    out = _affine(out, weight, bias, shape)
    if cast_back:
        out = cast(out, input.dtype)
    return named(out, "ViewBackward0")


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last len(normalized_shape) dimensions (each sample on its own, the same in
    training and evaluation), then scale and shift elementwise by weight and bias.

    Args:
        input (Tensor): floating point (*, *normalized_shape).
        normalized_shape (int or sequence of ints): the trailing shape that is normalized.
        weight (Tensor, optional): of `normalized_shape`, the scale.
        bias (Tensor, optional): of `normalized_shape`, the shift.
        eps (float): added to the variance (the biased one) before the square root.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.layer_norm(chainrule.tensor([[1.0, 2.0, 3.0]]), (3,))
        tensor([[-1.2247,  0.0000,  1.2247]])
    """
    normalized = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    check_floating("layer_norm", input=input)
    count = len(normalized)
    if count == 0 or input.ndim < count or tuple(input.shape[input.ndim - count :]) != normalized:
        raise ShapeError(
            f"layer_norm: given normalized_shape={list(normalized)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized))}], but got input of shape {tuple(input.shape)}"
        )
    check_vector("layer_norm", "weight", weight, normalized)
    check_vector("layer_norm", "bias", bias, normalized)
    cast_back = _reduced_input_with_float_parameters("layer_norm", input, weight, bias)
    work = cast(input, dtypes.float32) if cast_back else input  # statistics in float32
    axes = tuple(range(input.ndim - count, input.ndim))
    if weight is not None and bias is not None and weight.dtype == bias.dtype == input.dtype:
        out = apply(AffineStandardize, (input, weight, bias), axes, eps)[0]
        return named(out, "NativeLayerNormBackward0")
    out = apply(Standardize, (work,), axes, eps)[0]
    out = _affine(out, weight, bias, normalized)
    if cast_back:
        out = cast(out, input.dtype)
    return named(out, "NativeLayerNormBackward0")


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each group of channels of each sample together (C / num_groups channels and all
    their spatial positions), then scale and shift per channel.

    Args:
        input (Tensor): floating point (N, C, *).
        num_groups (int): divides C.
        weight (Tensor, optional): (C,) scale.
        bias (Tensor, optional): (C,) shift.
        eps (float): added to the variance before the square root.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.group_norm(chainrule.tensor([[1.0, 3.0, 10.0, 10.0]]), num_groups=2)
        tensor([[-1.0000,  1.0000,  0.0000,  0.0000]])
    """
    if input.ndim < 2:
        raise ShapeError(
            f"group_norm: expected input with at least 2 dimensions, got shape {tuple(input.shape)}"
        )
    check_floating("group_norm", input=input)
    batch, channels = input.shape[:2]
    # PyTorch's functional checks first that each group's statistics see more than one value
    # (taking C // num_groups before it knows that num_groups divides C)
    if num_groups > 0 and batch * (channels // num_groups) * math.prod(input.shape[2:]) == 1:
        raise ShapeError(
            f"group_norm: expected more than 1 value per channel when training, got input of "
            f"shape {tuple(input.shape)} and num_groups={num_groups}"
        )
    if num_groups < 1 or channels % num_groups:
        raise ShapeError(
            f"group_norm: expected number of channels in input to be divisible by num_groups, "
            f"but got input of shape {tuple(input.shape)} and num_groups={num_groups}"
        )
    check_vector("group_norm", "weight", weight, (channels,))
    check_vector("group_norm", "bias", bias, (channels,))
    cast_back = _reduced_input_with_float_parameters("group_norm", input, weight, bias)
    same_dtype = weight is not None and bias is not None and weight.dtype == bias.dtype
    if same_dtype and weight.dtype == input.dtype and input.numel() > 0:
        per_group = channels // num_groups
        grouped = reshape(input, (batch, num_groups, per_group, math.prod(input.shape[2:])))
        shape = (num_groups, per_group, 1)
        parameters = (reshape(weight, shape), reshape(bias, shape))
        y = apply(AffineStandardize, (grouped, *parameters), (2, 3), eps)[0]
        out = reshape(y, tuple(input.shape))
        return named(keep_channels_last(input, out), "NativeGroupNormBackward0")
    work = cast(input, dtypes.float32) if cast_back else input  # statistics in float32
    group_size = channels // num_groups * math.prod(input.shape[2:])  # (-1: ambiguous if empty)
    grouped = reshape(work, (batch, num_groups, group_size))
    out = reshape(apply(Standardize, (grouped,), (2,), eps)[0], tuple(input.shape))
    out = _affine(out, weight, bias, (1, channels) + (1,) * (input.ndim - 2))
    if cast_back:
        out = cast(out, input.dtype)
    return named(keep_channels_last(input, out), "NativeGroupNormBackward0")


def rms_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """x / sqrt(mean(x**2) + eps) over the last len(normalized_shape) dimensions, times weight
    (no mean is subtracted and there is no bias).

    Args:
        input (Tensor): floating point (*, *normalized_shape).
        normalized_shape (int or sequence of ints): the trailing shape that is normalized.
        weight (Tensor, optional): of `normalized_shape`, the scale.
        eps (float, optional): default the machine epsilon of the dtype it is computed in
            (float32 for float16 and bfloat16 inputs), as PyTorch.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.rms_norm(chainrule.tensor([[3.0, 4.0]]), (2,))
        tensor([[0.8485, 1.1314]])
    """
    normalized = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    count = len(normalized)
    if count == 0 or input.ndim < count or tuple(input.shape[input.ndim - count :]) != normalized:
        raise ShapeError(
            f"rms_norm: given normalized_shape={list(normalized)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized))}], but got input of shape {tuple(input.shape)}"
        )
    check_vector("rms_norm", "weight", weight, normalized)
    # As PyTorch: float16 and bfloat16 are computed in float32 (with float32's eps by
    # default), the weight applied there too, and rounded once into the input's dtype.
    half = input.dtype in (dtypes.float16, dtypes.bfloat16)
    work = cast(input, dtypes.float32) if half else input
    if eps is None:
        eps = dtypes.finfo(work.dtype).eps
    axes = tuple(range(input.ndim - count, input.ndim))
    out = work * rsqrt(mean(work * work, axes, keepdim=True) + eps)
    if weight is not None:
        out = out * weight
    return cast(out, input.dtype) if half else out
