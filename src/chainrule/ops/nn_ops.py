# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Neural-network ops: convolution, pooling, normalization, embedding, fused losses, activations.

The heavy ops work on whole arrays: a convolution takes a strided view of every window
(`sliding_window_view`), copies it once into columns and does one matrix product per layer.
Their derivatives are ops of the same family, so any order of derivative works:

  Convolution(x, w)           -> y      vjp: ConvolutionTranspose(g, w), ConvolutionWeight(x, g)
  ConvolutionTranspose(g, w)  -> x-like vjp: Convolution(a, w),           ConvolutionWeight(a, g)
  ConvolutionWeight(x, g)     -> w-like vjp: ConvolutionTranspose(g, b),  Convolution(x, b)

(three views of one trilinear form <conv(x, w), g>). Max-pooling's vjp scatters into the
argmax positions (TakeAdjoint), whose vjp gathers them again (Take). Average pooling is a
convolution with a kernel of ones, adaptive pooling and interpolation are products with
constant matrices along each spatial dimension.

The public functions here are re-exported by `chainrule.nn.functional`, under PyTorch's names.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.errors import DTypeError, ShapeError
from chainrule.ops.creation import rand
from chainrule.ops.elementwise import (
    elementwise_batch,
    rsqrt,
    where,
)
from chainrule.ops.linalg import Einsum, Matmul, matmul, stacked_matmul
from chainrule.ops.op import Op, apply
from chainrule.ops.reduction import log_softmax, mean, softmax
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import expand, movedim, reshape, transpose, unsqueeze

# ---- argument helpers ----------------------------------------------------------------------


def _ntuple(op_name: str, name: str, value: Any, n: int) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of `n` ints (a 1-sequence is repeated)."""
    if isinstance(value, int):
        return (value,) * n
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise ValueError(f"{op_name}: {name} must be an int or a tuple of {n} ints, got {value}")
    return values


def _constant(array: Array) -> Any:
    """A raw array as a Tensor that needs no gradient (masks, weights, matrices)."""
    return Tensor._from_array(array)


def _check_floating(op_name: str, **tensors: Any) -> None:
    """PyTorch's nn ops want floating inputs of one dtype; say which operand is off."""
    dtype = None
    for name, tensor in tensors.items():
        if tensor is None:
            continue
        if not tensor.dtype.is_floating_point:
            raise DTypeError(f"{op_name}: expected a floating point {name}, got {tensor.dtype}")
        if dtype is None:
            dtype = tensor.dtype
        elif tensor.dtype != dtype:
            names = ", ".join(f"{n} {t.dtype}" for n, t in tensors.items() if t is not None)
            raise DTypeError(f"{op_name}: operands must have the same dtype, got {names}")


def _batched(op_name: str, input: Any, n: int) -> tuple[Any, bool]:
    """(N, C, *spatial) input, adding the batch dimension to an unbatched (C, *spatial) one."""
    if input.ndim == n + 2:
        return input, False
    if input.ndim == n + 1:
        return unsqueeze(input, 0), True
    raise ShapeError(
        f"{op_name}: expected {n + 1}D (unbatched) or {n + 2}D (batched) input, but got input "
        f"of shape {tuple(input.shape)}"
    )


# ---- windows and columns -------------------------------------------------------------------


def _pad_spatial(
    xp: Any, x: Array, padding: Sequence[tuple[int, int]], value: float = 0.0
) -> Array:
    if all(lo == 0 and hi == 0 for lo, hi in padding):
        return x
    return xp.pad(x, ((0, 0), (0, 0), *padding), constant_values=value)


def _window_view(
    xp: Any, padded: Array, kernel: tuple, stride: tuple, dilation: tuple, out_size: tuple
) -> Array:
    """A strided view (N, C, *out_size, *kernel) of every window of `padded`; no copy."""
    n = len(kernel)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = xp.lib.stride_tricks.sliding_window_view(padded, span, axis=tuple(range(2, 2 + n)))
    starts = tuple(slice(0, s * (o - 1) + 1, s) for s, o in zip(stride, out_size))
    taps = tuple(slice(None, None, d) for d in dilation)
    return view[(slice(None), slice(None), *starts, *taps)]


def _conv_out_size(
    in_size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple
) -> tuple:
    return tuple(
        (size + lo + hi - d * (k - 1) - 1) // s + 1
        for size, k, s, (lo, hi), d in zip(in_size, kernel, stride, padding, dilation)
    )


def _grouped_windows(xp: Any, x: Array, kernel: tuple, geometry: tuple) -> tuple[Array, tuple]:
    """The window view of x split by group: (N, G, C/G, *out, *kernel), and the output size."""
    stride, padding, dilation, groups = geometry
    out_size = _conv_out_size(x.shape[2:], kernel, stride, padding, dilation)
    view = _window_view(xp, _pad_spatial(xp, x, padding), kernel, stride, dilation, out_size)
    batch, channels = x.shape[:2]
    return view.reshape((batch, groups, channels // groups, *out_size, *kernel)), out_size


def _columns(xp: Any, x: Array, kernel: tuple, geometry: tuple) -> tuple[Array, tuple]:
    """Every window of x copied once into columns (N, G, C/G * K, P), and the output size."""
    view, out_size = _grouped_windows(xp, x, kernel, geometry)
    n = len(kernel)
    batch, groups, group_channels = view.shape[:3]
    order = (0, 1, 2, *range(3 + n, 3 + 2 * n), *range(3, 3 + n))
    columns = view.transpose(order).reshape(batch, groups, group_channels * _prod(kernel), -1)
    return columns, out_size


def _prod(values: Sequence[int]) -> int:
    return math.prod(values)


def _batch_offsets(size: int, rows: int, like: Any) -> Any:
    """vmap: each example's start in a table of `size` stacked tables of `rows` rows, shaped to
    broadcast against `like` (batch first)."""
    xp = like._backend.xp
    starts = xp.arange(size, dtype=like._array.dtype) * rows
    return _constant(starts.reshape((size,) + (1,) * (like.ndim - 1)))


def _merge_batch(x: Any) -> Any:
    """vmap: the batch dimension merged into the (N, ...) sample dimension after it."""
    return reshape(x, (-1, *x.shape[2:]))


def _split_batch(out: Any, size: int) -> Any:
    """vmap: the batch dimension split back out of the sample dimension."""
    return reshape(out, (size, -1, *out.shape[1:]))


def _convolution_batch(b: Any, x: Any, w: Any, *rest: Any) -> Any:
    """vmap rule of Convolution and ConvolutionBias: with shared weights, the batch becomes more
    samples; with a weight per example, the batch becomes more groups (x viewed as (N, B C, ...),
    w as (B C_out, ...)), one convolution either way."""
    count = len(b.batched)
    bias = rest[0] if count == 3 else None
    stride, padding, dilation, groups = rest[count - 2 :]
    if not b.batched[1] and not (count == 3 and b.batched[2]):
        operands = (_merge_batch(x), w) if bias is None else (_merge_batch(x), w, bias)
        return _split_batch(apply(b.op, operands, stride, padding, dilation, groups), b.size)
    x = x if b.batched[0] else b.expand(x)
    w = w if b.batched[1] else b.expand(w)
    size = b.size
    planes = movedim(x, 0, 1)
    planes = reshape(planes, (planes.shape[0], -1, *planes.shape[3:]))
    kernels = reshape(w, (-1, *w.shape[2:]))
    operands = (planes, kernels)
    if bias is not None:
        operands += (reshape(bias if b.batched[2] else b.expand(bias), (-1,)),)
    out = apply(b.op, operands, stride, padding, dilation, groups * size)
    out = reshape(out, (out.shape[0], size, -1, *out.shape[2:]))
    return movedim(out, 1, 0)


class Convolution(Op):
    """Cross-correlation of x (N, C, *spatial) with w (C_out, C/groups, *kernel), as PyTorch's
    convNd. Linear in each operand: the x-gradient is the transposed convolution of g with w,
    the w-gradient the correlation of x with g (ConvolutionWeight)."""

    @classmethod
    def node_name(cls) -> str:
        return "ConvolutionBackward0"

    @staticmethod
    def forward(
        ctx: Node, x: Array, w: Array, stride: tuple, padding: tuple, dilation: tuple, groups: int
    ) -> Array:
        ctx.save(x=x, w=w)
        geometry = (stride, padding, dilation, groups)
        ctx.save(geometry=geometry)
        return Convolution.compute(ctx.xp, x, w, geometry)

    @staticmethod
    def compute(xp: Any, x: Array, w: Array, geometry: tuple) -> Array:
        """The convolution as (N, G, C_out/G, P) products: one matrix product per layer."""
        groups = geometry[3]
        columns, out_size = _columns(xp, x, w.shape[2:], geometry)
        weights = w.reshape(groups, w.shape[0] // groups, -1)
        return xp.matmul(weights, columns).reshape(x.shape[0], w.shape[0], *out_size)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, w = ctx.x, ctx.w
        grad_x = grad_w = None
        if ctx.next_edges[0] is not None:
            in_size = tuple(ctx.input_meta[0][0][2:])
            grad_x = apply(ConvolutionTranspose, (g, w), *ctx.geometry, in_size)
        if ctx.next_edges[1] is not None:
            kernel = tuple(ctx.input_meta[1][0][2:])
            grad_w = apply(ConvolutionWeight, (x, g), *ctx.geometry, kernel)
        return (grad_x, grad_w)

    @staticmethod
    def jvp(ctx: Node, tx: Any, tw: Any) -> Any:
        parts = []
        if tx is not None:
            parts.append(apply(Convolution, (tx, ctx.w), *ctx.geometry))
        if tw is not None:
            parts.append(apply(Convolution, (ctx.x, tw), *ctx.geometry))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    batch = _convolution_batch


class ConvolutionBias(Convolution):
    """conv(x, w) + b per output channel, the bias added in place. Derivatives: Convolution's
    for x and w, g summed over all but the channel dimension for b."""

    @staticmethod
    def forward(
        ctx: Node,
        x: Array,
        w: Array,
        b: Array,
        stride: tuple,
        padding: tuple,
        dilation: tuple,
        groups: int,
    ) -> Array:
        ctx.save(x=x, w=w)
        geometry = (stride, padding, dilation, groups)
        ctx.save(geometry=geometry)
        out = Convolution.compute(ctx.xp, x, w, geometry)
        out += b.reshape((-1,) + (1,) * (out.ndim - 2))
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x, grad_w = Convolution.vjp(ctx, g)
        grad_b = None
        if ctx.next_edges[2] is not None:
            grad_b = reduce_sum(g, (0, *range(2, g.ndim)))
        return (grad_x, grad_w, grad_b)

    @staticmethod
    def jvp(ctx: Node, tx: Any, tw: Any, tb: Any) -> Any:
        out = None if tx is None and tw is None else Convolution.jvp(ctx, tx, tw)
        if tb is None:
            return out
        shift = reshape(tb, (-1,) + (1,) * (len(ctx.input_meta[0][0]) - 2))
        if out is not None:
            return out + shift
        (x_shape, _), (w_shape, _) = ctx.input_meta[:2]
        stride, padding, dilation, _ = ctx.geometry
        spatial = _conv_out_size(x_shape[2:], w_shape[2:], stride, padding, dilation)
        return expand(shift, (x_shape[0], w_shape[0], *spatial))


def _transposed_convolution(xp: Any, g: Array, w: Array, geometry: tuple, in_size: tuple) -> Array:
    """col2im, channels last, one kernel tap at a time: the tap's contribution (N, *out, C) is
    one product of g's rows with the tap's (C_out/G, C/G) weights, added into a padded
    (N, *in, C) image. With channels innermost each strided add moves rows of out_width * C
    contiguous numbers rather than out_width (2x faster for LeNet's sizes), and one tap-sized
    buffer is reused instead of materializing all K taps' columns (20 MiB for LeNet's conv2)."""
    stride, padding, dilation, groups = geometry
    kernel = w.shape[2:]
    batch, out_channels = g.shape[:2]
    out_size = g.shape[2:]
    group_out, group_channels = out_channels // groups, w.shape[1]
    channels = group_channels * groups
    # g's rows as (G, N * P, C_out/G); the weights as (K, G, C_out/G, C/G)
    rows = xp.moveaxis(g, 1, -1).reshape(-1, groups, group_out).transpose(1, 0, 2)
    taps = w.reshape(groups, group_out, group_channels, -1).transpose(3, 0, 1, 2)
    piece = xp.empty((groups, rows.shape[1], group_channels), dtype=xp.result_type(g, w))
    padded_size = tuple(size + lo + hi for size, (lo, hi) in zip(in_size, padding))
    padded = xp.zeros((batch, *padded_size, channels), dtype=piece.dtype)
    for tap, offset in enumerate(itertools.product(*(range(k) for k in kernel))):
        target = tuple(
            slice(i * d, i * d + s * (o - 1) + 1, s)
            for i, d, s, o in zip(offset, dilation, stride, out_size)
        )
        xp.matmul(rows, taps[tap], out=piece)
        pixels = piece[0] if groups == 1 else piece.transpose(1, 0, 2)
        padded[(slice(None), *target)] += pixels.reshape(batch, *out_size, channels)
    crop = tuple(slice(lo, lo + size) for (lo, _), size in zip(padding, in_size))
    return xp.ascontiguousarray(xp.moveaxis(padded[(slice(None), *crop)], -1, 1))


class ConvolutionTranspose(Op):
    """The adjoint of x -> conv(x, w): g (N, C_out, *out) to x's shape (N, C, *in_size), as
    PyTorch's conv_transposeNd (whose weight layout is exactly conv's). Linear in each operand:
    the g-gradient is conv(a, w), the w-gradient ConvolutionWeight(a, g)."""

    @staticmethod
    def forward(
        ctx: Node,
        g: Array,
        w: Array,
        stride: tuple,
        padding: tuple,
        dilation: tuple,
        groups: int,
        in_size: tuple,
    ) -> Array:
        geometry = (stride, padding, dilation, groups)
        ctx.save(g=g, w=w, geometry=geometry, in_size=in_size)
        return _transposed_convolution(ctx.xp, g, w, geometry, in_size)

    @staticmethod
    def vjp(ctx: Node, a: Any) -> tuple:
        g, w = ctx.g, ctx.w
        grad_g = grad_w = None
        if ctx.next_edges[0] is not None:
            grad_g = apply(Convolution, (a, w), *ctx.geometry)
        if ctx.next_edges[1] is not None:
            kernel = tuple(ctx.input_meta[1][0][2:])
            grad_w = apply(ConvolutionWeight, (a, g), *ctx.geometry, kernel)
        return (grad_g, grad_w)

    @staticmethod
    def jvp(ctx: Node, tg: Any, tw: Any) -> Any:
        in_size = ctx.in_size
        parts = []
        if tg is not None:
            parts.append(apply(ConvolutionTranspose, (tg, ctx.w), *ctx.geometry, in_size))
        if tw is not None:
            parts.append(apply(ConvolutionTranspose, (ctx.g, tw), *ctx.geometry, in_size))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    @staticmethod
    def batch(b: Any, g: Any, w: Any, *geometry: Any) -> Any:
        """vmap: with shared weights the batch becomes more samples; else per example."""
        if b.batched[1]:
            return b.loop(g, w, *geometry)
        return _split_batch(apply(ConvolutionTranspose, (_merge_batch(g), w), *geometry), b.size)


class ConvolutionWeight(Op):
    """The adjoint of w -> conv(x, w): the correlation of x with g, of w's shape
    (C_out, C/groups, *kernel). Linear in each operand: the x-gradient is
    ConvolutionTranspose(g, b), the g-gradient conv(x, b)."""

    @staticmethod
    def forward(
        ctx: Node,
        x: Array,
        g: Array,
        stride: tuple,
        padding: tuple,
        dilation: tuple,
        groups: int,
        kernel: tuple,
    ) -> Array:
        geometry = (stride, padding, dilation, groups)
        ctx.save(x=x, g=g, geometry=geometry, kernel=kernel)
        xp = ctx.xp
        batch, out_channels = g.shape[:2]
        group_out = out_channels // groups
        group_channels = x.shape[1] // groups
        size = group_channels * _prod(kernel)
        grads = g.reshape(batch, groups, group_out, -1)  # (N, G, C_out/G, P)
        if batch * out_channels * size <= x.size * _prod(kernel):
            # one product per sample, summed: the per-sample results are smaller than the columns
            columns, _ = _columns(xp, x, kernel, geometry)
            out = xp.matmul(grads, columns.transpose(0, 1, 3, 2)).sum(axis=0)
        else:  # one product with the samples folded into the inner dimension
            n = len(kernel)
            view, _ = _grouped_windows(xp, x, kernel, geometry)
            order = (1, 0, *range(3, 3 + n), 2, *range(3 + n, 3 + 2 * n))
            columns = view.transpose(order).reshape(groups, -1, size)  # (G, N * P, C/G * K)
            folded = grads.transpose(1, 2, 0, 3).reshape(groups, group_out, -1)
            out = xp.matmul(folded, columns)
        return out.reshape(out_channels, group_channels, *kernel)

    @staticmethod
    def vjp(ctx: Node, b: Any) -> tuple:
        x, g = ctx.x, ctx.g
        grad_x = grad_g = None
        if ctx.next_edges[0] is not None:
            in_size = tuple(ctx.input_meta[0][0][2:])
            grad_x = apply(ConvolutionTranspose, (g, b), *ctx.geometry, in_size)
        if ctx.next_edges[1] is not None:
            grad_g = apply(Convolution, (x, b), *ctx.geometry)
        return (grad_x, grad_g)

    @staticmethod
    def jvp(ctx: Node, tx: Any, tg: Any) -> Any:
        kernel = ctx.kernel
        parts = []
        if tx is not None:
            parts.append(apply(ConvolutionWeight, (tx, ctx.g), *ctx.geometry, kernel))
        if tg is not None:
            parts.append(apply(ConvolutionWeight, (ctx.x, tg), *ctx.geometry, kernel))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def _add_channel_bias(op_name: str, out: Any, bias: Any, channels: int) -> Any:
    if bias is None:
        return out
    if tuple(bias.shape) != (channels,):
        raise ShapeError(
            f"{op_name}: expected bias of shape ({channels},), got {tuple(bias.shape)}"
        )
    return out + reshape(bias, (channels,) + (1,) * (out.ndim - 2))


def _conv_padding(
    op_name: str, padding: Any, n: int, kernel: tuple, stride: tuple, dilation: tuple
) -> tuple:
    """PyTorch's padding argument as ((lo, hi), ...) per spatial dimension."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(
                f"{op_name}: invalid padding string {padding!r}, should be one of "
                "{'valid', 'same'}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(f"{op_name}: padding='same' is not supported for strided convolutions")
        total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
        return tuple((t // 2, t - t // 2) for t in total)
    pads = _ntuple(op_name, "padding", padding, n)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op_name}: negative padding is not supported, got {padding}")
    return tuple((p, p) for p in pads)


def _check_conv(op_name: str, x: Any, w: Any, groups: int, n: int, transposed: bool) -> None:
    _check_floating(op_name, input=x, weight=w)
    if w.ndim != n + 2:
        raise ShapeError(
            f"{op_name}: expected {n + 2}D weight, got weight of shape {tuple(w.shape)}"
        )
    if groups < 1:
        raise ValueError(f"{op_name}: non-positive groups is not supported, got {groups}")
    channels = x.shape[1]
    if transposed:
        if channels != w.shape[0]:
            raise ShapeError(
                f"{op_name}: given weight of shape {tuple(w.shape)}, expected input of shape "
                f"{tuple(x.shape)} to have {w.shape[0]} channels, but got {channels} channels"
            )
        if w.shape[0] % groups:
            raise ShapeError(
                f"{op_name}: weight of shape {tuple(w.shape)}: {w.shape[0]} input channels "
                f"not divisible by groups={groups}"
            )
        return
    if w.shape[0] % groups:
        raise ShapeError(
            f"{op_name}: given groups={groups}, expected weight of shape {tuple(w.shape)} to be "
            f"divisible by {groups} at dimension 0"
        )
    if channels != w.shape[1] * groups:
        raise ShapeError(
            f"{op_name}: given groups={groups}, weight of shape {tuple(w.shape)} expects input of "
            f"shape {tuple(x.shape)} to have {w.shape[1] * groups} channels, but got {channels} "
            "channels instead"
        )


def _convolution(
    op_name: str,
    n: int,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Any:
    x, unbatched = _batched(op_name, input, n)
    _check_conv(op_name, x, weight, groups, n, transposed=False)
    kernel = tuple(weight.shape[2:])
    stride = _ntuple(op_name, "stride", stride, n)
    dilation = _ntuple(op_name, "dilation", dilation, n)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(
            f"{op_name}: stride and dilation must be positive, got {stride} and {dilation}"
        )
    pads = _conv_padding(op_name, padding, n, kernel, stride, dilation)
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(x.shape[2:], pads))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s > p for s, p in zip(span, padded)):
        raise ShapeError(
            f"{op_name}: padded input size per channel {padded} is smaller than the (dilated) "
            f"kernel size {span} (input shape {tuple(input.shape)}, weight shape "
            f"{tuple(weight.shape)})"
        )
    if bias is None:
        out = apply(Convolution, (x, weight), stride, pads, dilation, groups)
    else:
        _check_vector(op_name, "bias", bias, (weight.shape[0],))
        _check_floating(op_name, input=x, bias=bias)
        out = apply(ConvolutionBias, (x, weight, bias), stride, pads, dilation, groups)
    return out[0] if unbatched else out


def conv1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    """1-D cross-correlation over (N, C, L) input with a (C_out, C/groups, k) weight."""
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    """2-D cross-correlation over (N, C, H, W) input with a (C_out, C/groups, kh, kw) weight.

    >>> import chainrule
    >>> x = chainrule.ones(1, 1, 3, 3)
    >>> conv2d(x, chainrule.ones(1, 1, 2, 2)).shape
    (1, 1, 2, 2)
    """
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    """3-D cross-correlation over (N, C, D, H, W) input."""
    return _convolution("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _convolution_transpose(
    op_name: str,
    n: int,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
) -> Any:
    x, unbatched = _batched(op_name, input, n)
    _check_conv(op_name, x, weight, groups, n, transposed=True)
    kernel = tuple(weight.shape[2:])
    stride = _ntuple(op_name, "stride", stride, n)
    dilation = _ntuple(op_name, "dilation", dilation, n)
    if isinstance(padding, str):
        raise ValueError(f"{op_name}: padding must be an int or a tuple of ints, got {padding!r}")
    pads = _ntuple(op_name, "padding", padding, n)
    extra = _ntuple(op_name, "output_padding", output_padding, n)
    for e, s, d in zip(extra, stride, dilation):
        if e >= s and e >= d:
            raise ValueError(
                f"{op_name}: output padding must be smaller than either stride or dilation, "
                f"got output_padding={extra}, stride={stride}, dilation={dilation}"
            )
    in_size = tuple(
        (size - 1) * s - 2 * p + d * (k - 1) + e + 1
        for size, s, p, d, k, e in zip(x.shape[2:], stride, pads, dilation, kernel, extra)
    )
    if any(size <= 0 for size in in_size):
        raise ShapeError(
            f"{op_name}: input of shape {tuple(input.shape)} gives a non-positive output "
            f"size {in_size}"
        )
    geometry = (stride, tuple((p, p) for p in pads), dilation, groups)
    out = apply(ConvolutionTranspose, (x, weight), *geometry, in_size)
    out = _add_channel_bias(op_name, out, bias, weight.shape[1] * groups)
    return out[0] if unbatched else out


def conv_transpose1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    """Transposed 1-D convolution (the gradient of conv1d with respect to its input)."""
    return _convolution_transpose(
        "conv_transpose1d",
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


def conv_transpose2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    """Transposed 2-D convolution; weight (C_in, C_out/groups, kh, kw) as in PyTorch."""
    return _convolution_transpose(
        "conv_transpose2d",
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


def conv_transpose3d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    """Transposed 3-D convolution."""
    return _convolution_transpose(
        "conv_transpose3d",
        3,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


# ---- gather and scatter of rows ------------------------------------------------------------


class Take(Op):
    """x[index] along dimension 0 (rows). Derivative: g added into zeros at the rows
    (TakeAdjoint; repeats accumulate). With `padding_idx`, that row gets no gradient, and with
    `scale` (a constant per index) each gradient row is scaled first (embedding's options)."""

    @staticmethod
    def forward(
        ctx: Node,
        x: Array,
        index: Array,
        padding_idx: int | None = None,
        scale: Array | None = None,
    ) -> Array:
        ctx.save(index=index, padding_idx=padding_idx)
        if scale is not None:
            ctx.save(scale=scale)
        ctx.save(scaled=scale is not None)
        return ctx.xp.take(x, index, axis=0)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        index = ctx.index
        trailing = g.ndim - index.ndim
        if ctx.scaled:
            g = g * reshape(ctx.scale, tuple(index.shape) + (1,) * trailing)
        if ctx.padding_idx is not None:
            keep = reshape(index != ctx.padding_idx, tuple(index.shape) + (1,) * trailing)
            g = where(keep, g, 0.0)
        return (apply(TakeAdjoint, (g, index), ctx.input_meta[0][0][0]), None)

    @staticmethod
    def jvp(ctx: Node, t: Any, t_index: Any) -> Any:
        return apply(Take, (t, ctx.index))

    @staticmethod
    def batch(b: Any, x: Any, index: Any, padding_idx: Any = None, scale: Any = None) -> Any:
        """vmap: a shared table reads batched indices directly; a batched table is read flat,
        each example's indices offset by its start."""
        if scale is not None or (b.batched[0] and padding_idx is not None):
            return b.loop(x, index, padding_idx, scale)
        if not b.batched[0]:
            return apply(Take, (x, index), padding_idx)
        rows = x.shape[1]
        index = index if b.batched[1] else b.expand(index)
        flat = reshape(x, (-1, *x.shape[2:]))
        return apply(Take, (flat, index + _batch_offsets(b.size, rows, index)))


class TakeAdjoint(Op):
    """zeros(rows, ...) with the rows of g added at `index` (repeats accumulate).
    Derivative: the gradient's rows read at `index` (Take)."""

    @staticmethod
    def forward(ctx: Node, g: Array, index: Array, rows: int) -> Array:
        ctx.save(index=index, rows=rows)
        xp = ctx.xp
        out = xp.zeros((rows, *g.shape[index.ndim :]), dtype=g.dtype)
        ctx.backend.scatter_add(out, index, g)
        return out

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        return (apply(Take, (gg, ctx.index)), None)

    @staticmethod
    def jvp(ctx: Node, t: Any, t_index: Any) -> Any:
        return apply(TakeAdjoint, (t, ctx.index), ctx.rows)

    @staticmethod
    def batch(b: Any, g: Any, index: Any, rows: int) -> Any:
        """vmap: each example's rows scattered into its own block of a (batch * rows) table."""
        g = g if b.batched[0] else b.expand(g)
        index = index if b.batched[1] else b.expand(index)
        offsets = index + _batch_offsets(b.size, rows, index)
        out = apply(TakeAdjoint, (g, offsets), b.size * rows)
        return reshape(out, (b.size, rows, *out.shape[1:]))


# ---- pooling -------------------------------------------------------------------------------


def _pool_geometry(
    op_name: str,
    n: int,
    shape: tuple,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> tuple:
    """kernel, stride, ((lo, hi), ...) padding, dilation and output size of a pooling window,
    with PyTorch's rule that in ceil mode the last window must start inside the input."""
    kernel = _ntuple(op_name, "kernel_size", kernel_size, n)
    stride = (
        kernel
        if stride is None or stride == [] or stride == ()
        else _ntuple(op_name, "stride", stride, n)
    )
    pads = _ntuple(op_name, "padding", padding, n)
    dilation = _ntuple(op_name, "dilation", dilation, n)
    if any(k < 1 for k in kernel) or any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(
            f"{op_name}: kernel_size, stride and dilation must be positive, got {kernel}, "
            f"{stride}, {dilation}"
        )
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{op_name}: pad should be at most half of kernel size, but got pad={pads} and "
            f"kernel_size={kernel}"
        )
    out_size, padding = [], []
    for size, k, s, p, d in zip(shape, kernel, stride, pads, dilation):
        span = d * (k - 1) + 1
        room = size + 2 * p - span
        count = (-(-room // s) if ceil_mode else room // s) + 1
        if ceil_mode and (count - 1) * s >= size + p:
            count -= 1
        if count < 1:
            raise ShapeError(
                f"{op_name}: input of spatial size {tuple(shape)} is too small for kernel "
                f"{kernel} (output size would be {count})"
            )
        out_size.append(count)
        padding.append((p, max(p, (count - 1) * s + span - size - p)))
    return kernel, stride, tuple(padding), dilation, tuple(out_size)


def _window_max(
    xp: Any,
    padded: Array,
    kernel: tuple,
    stride: tuple,
    dilation: tuple,
    out_size: tuple,
    padding: tuple,
    spatial: tuple,
) -> tuple[Array, Array]:
    """The max of every window and where it sits as a flat index into the (unpadded) input
    plane. One pass per kernel tap over output-sized strided views, branch-free: a window's
    winning tap only ever moves to a later tap, so `maximum(tap_so_far, better * tap)` tracks
    it without a masked copy. The first maximum wins ties and NaN wins over numbers, as
    PyTorch's CPU kernel; NaN costs four more passes per tap, so they are run only when a
    window's max came out NaN."""
    best, winner = _window_max_taps(xp, padded, kernel, stride, dilation, out_size, False)
    if padded.dtype.kind == "f" and xp.isnan(best).any():
        best, winner = _window_max_taps(xp, padded, kernel, stride, dilation, out_size, True)
    # winning tap -> flat index into the input plane: each window's start plus its tap's offset
    n = len(kernel)
    plane_strides = [_prod(spatial[axis + 1 :]) for axis in range(n)]
    base = xp.zeros(out_size, dtype=dtypes.int64.numpy)
    for axis in range(n):
        starts = xp.arange(out_size[axis]) * stride[axis] - padding[axis][0]
        base = base + (starts * plane_strides[axis]).reshape((-1,) + (1,) * (n - 1 - axis))
    tap_offsets = xp.asarray(
        [
            sum(o * d * p for o, d, p in zip(_tap_offsets(tap, kernel), dilation, plane_strides))
            for tap in range(_prod(kernel))
        ],
        dtype=dtypes.int64.numpy,
    )
    return best, xp.take(tap_offsets, winner) + base


def _window_max_taps(
    xp: Any,
    padded: Array,
    kernel: tuple,
    stride: tuple,
    dilation: tuple,
    out_size: tuple,
    nan_aware: bool,
) -> tuple[Array, Array]:
    """(window max, winning tap number): the passes of `_window_max`."""
    taps = _prod(kernel)
    tap_dtype = "uint8" if taps < 256 else "int64"
    best = winner = None
    for tap in range(taps):
        offsets = _tap_offsets(tap, kernel)
        selection = tuple(
            slice(o * d, o * d + s * (size - 1) + 1, s)
            for o, d, s, size in zip(offsets, dilation, stride, out_size)
        )
        values = padded[(slice(None), slice(None), *selection)]
        if best is None:
            best = values.copy()
            winner = xp.zeros(values.shape, dtype=tap_dtype)
            continue
        better = values > best
        if nan_aware:
            better |= xp.isnan(values) & ~xp.isnan(best)
        winner = xp.maximum(winner, better.astype(tap_dtype) * xp.asarray(tap, dtype=tap_dtype))
        best = xp.maximum(best, values)  # NaN propagates, as the index above says
    return best, winner


def _tap_offsets(tap: int, kernel: tuple) -> list:
    """The kernel coordinates of flat tap number `tap` (row-major)."""
    offsets, remainder = [], tap
    for k in reversed(kernel):
        offsets.append(remainder % k)
        remainder //= k
    offsets.reverse()
    return offsets


class MaxPool(Op):
    """Max over each window of x (N, C, *spatial), PyTorch's max_poolNd; returns the values and
    the flat indices into each (n, c) plane. Derivative: g added at the argmax positions (the
    first maximum in the window wins ties, as PyTorch's CPU kernel); NaN propagates."""

    @staticmethod
    def forward(
        ctx: Node,
        x: Array,
        kernel: tuple,
        stride: tuple,
        padding: tuple,
        dilation: tuple,
        out_size: tuple,
    ) -> tuple:
        xp = ctx.xp
        n = len(kernel)
        padded = _pad_spatial(xp, x, padding, -xp.inf)
        spatial = x.shape[2:]
        out, flat = _window_max(xp, padded, kernel, stride, dilation, out_size, padding, spatial)
        plane = _prod(spatial)
        planes = xp.arange(x.shape[0] * x.shape[1], dtype=flat.dtype).reshape(
            x.shape[0], x.shape[1], *(1,) * n
        )
        ctx.save(offsets=flat + planes * plane)
        return out, flat

    @staticmethod
    def vjp(ctx: Node, g: Any, g_indices: Any = None) -> tuple:
        shape = ctx.input_meta[0][0]
        return (reshape(apply(TakeAdjoint, (g, ctx.offsets), _prod(shape)), shape),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        return (apply(Take, (reshape(t, (-1,)), ctx.offsets)), None)  # no tangent for indices

    @staticmethod
    def batch(b: Any, x: Any, *geometry: Any) -> Any:
        """vmap: the batch becomes more samples (indices are per plane, so unchanged)."""
        out, indices = apply(b.op, (_merge_batch(x),), *geometry)
        return _split_batch(out, b.size), _split_batch(indices, b.size)


def _max_pool(
    op_name: str,
    n: int,
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
) -> Any:
    x, unbatched = _batched(op_name, input, n)
    _check_floating(op_name, input=x)
    geometry = _pool_geometry(
        op_name, n, tuple(x.shape[2:]), kernel_size, stride, padding, dilation, ceil_mode
    )
    out, indices = apply(MaxPool, (x,), *geometry)
    if unbatched:
        out, indices = out[0], indices[0]
    return (out, indices) if return_indices else out


def max_pool1d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over sliding windows of (N, C, L) input."""
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over sliding windows of (N, C, H, W) input; `return_indices` also gives the flat
    argmax positions in each plane (as max_unpool2d expects)."""
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool3d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over sliding windows of (N, C, D, H, W) input."""
    return _max_pool(
        "max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


class AdaptiveMaxPool(MaxPool):
    """Max over the adaptive bins of x (N, C, *spatial): bin i of a dimension covers
    [floor(i size / out), ceil((i+1) size / out)). The bins are gathered at once (short bins
    repeat their last element, which changes neither the max nor the first argmax).
    Derivative: MaxPool's, g added at the argmax positions."""

    @staticmethod
    def forward(ctx: Node, x: Array, out_size: tuple) -> tuple:
        xp = ctx.xp
        n = len(out_size)
        spatial = x.shape[2:]
        windows = x
        sources = []
        for axis, (size, out) in enumerate(zip(spatial, out_size)):
            index = xp.arange(out)
            start = (index * size) // out
            end = -((-(index + 1) * size) // out)
            taps = xp.arange(int((end - start).max()))
            source = xp.minimum(start[:, None] + taps[None, :], end[:, None] - 1)  # (out, k)
            sources.append(source)
            windows = xp.take(windows, source, axis=2 + 2 * axis)  # that axis -> (out, k)
        # (N, C, o1, k1, o2, k2, ...) -> (N, C, o1, o2, ..., k1 * k2 * ...)
        order = (0, 1, *range(2, 2 + 2 * n, 2), *range(3, 3 + 2 * n, 2))
        windows = windows.transpose(order)
        windows = windows.reshape(*windows.shape[: 2 + n], -1)
        local = xp.argmax(windows, axis=-1)
        out = xp.take_along_axis(windows, local[..., None], axis=-1)[..., 0]
        taps = xp.unravel_index(local, tuple(source.shape[1] for source in sources))
        flat = xp.zeros(local.shape, dtype=dtypes.int64.numpy)
        for axis in range(n):
            rows = xp.arange(out_size[axis]).reshape((-1,) + (1,) * (n - 1 - axis))
            flat = flat * spatial[axis] + sources[axis][rows, taps[axis]]
        plane = _prod(spatial)
        planes = xp.arange(x.shape[0] * x.shape[1], dtype=flat.dtype)
        ctx.save(offsets=flat + planes.reshape(x.shape[0], x.shape[1], *(1,) * n) * plane)
        return out, flat


def _adaptive_size(op_name: str, n: int, shape: tuple, output_size: Any) -> tuple:
    """output_size as n ints; None keeps that input size."""
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * n
    output_size = tuple(output_size)
    if len(output_size) == 1:
        output_size = output_size * n
    if len(output_size) != n:
        raise ValueError(f"{op_name}: output_size must have {n} elements, got {output_size}")
    sizes = tuple(size if o is None else int(o) for o, size in zip(output_size, shape))
    if any(o < 1 for o in sizes) or any(size < 1 for size in shape):
        raise ShapeError(
            f"{op_name}: invalid output_size {sizes} for input of spatial size {shape}"
        )
    return sizes


def _adaptive_max_pool(
    op_name: str, n: int, input: Any, output_size: Any, return_indices: bool
) -> Any:
    x, unbatched = _batched(op_name, input, n)
    _check_floating(op_name, input=x)
    sizes = _adaptive_size(op_name, n, tuple(x.shape[2:]), output_size)
    out, indices = apply(AdaptiveMaxPool, (x,), sizes)
    if unbatched:
        out, indices = out[0], indices[0]
    return (out, indices) if return_indices else out


def adaptive_max_pool1d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max over `output_size` bins that split L as evenly as possible."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max over bins that split H and W as evenly as possible (None keeps a size)."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max over bins that split D, H and W as evenly as possible."""
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)


def _window_divisor(
    xp: Any,
    n: int,
    shape: tuple,
    kernel: tuple,
    stride: tuple,
    padding: tuple,
    out_size: tuple,
    count_include_pad: bool,
    dtype: Any,
) -> Array:
    """How many elements each average-pooling window divides by, shaped (*out_size):
    the window clipped to the padded input, or to the input itself without count_include_pad."""
    divisor = xp.ones(out_size, dtype=dtype)
    for axis in range(n):
        size, k, s, (lo, _) = shape[axis], kernel[axis], stride[axis], padding[axis]
        start = xp.arange(out_size[axis]) * s - lo
        end = xp.minimum(start + k, size + lo)
        if count_include_pad:
            count = end - start
        else:
            count = xp.minimum(end, size) - xp.maximum(start, 0)
        divisor = divisor * count.reshape((-1,) + (1,) * (n - 1 - axis)).astype(dtype)
    return divisor


def _avg_pool(
    op_name: str,
    n: int,
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Any,
) -> Any:
    """A sum over each window (a convolution of every plane with a kernel of ones), divided
    by the window's element count."""
    x, unbatched = _batched(op_name, input, n)
    _check_floating(op_name, input=x)
    shape = tuple(x.shape[2:])
    kernel, stride, pads, dilation, out_size = _pool_geometry(
        op_name, n, shape, kernel_size, stride, padding, 1, ceil_mode
    )
    xp = x._backend.xp
    batch, channels = x.shape[:2]
    planes = reshape(x, (batch * channels, 1, *shape))
    ones = _constant(xp.ones((1, 1, *kernel), dtype=x._array.dtype))
    sums = apply(Convolution, (planes, ones), stride, pads, dilation, 1)
    sums = reshape(sums, (batch, channels, *out_size))
    if divisor_override:
        out = sums / float(divisor_override)
    else:
        divisor = _window_divisor(
            xp, n, shape, kernel, stride, pads, out_size, count_include_pad, x._array.dtype
        )
        out = sums / _constant(divisor)
    return out[0] if unbatched else out


def avg_pool1d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Any:
    """Average over sliding windows of (N, C, L) input."""
    return _avg_pool(
        "avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None
    )


def avg_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: Any = None,
) -> Any:
    """Average over sliding windows of (N, C, H, W) input."""
    return _avg_pool(
        "avg_pool2d",
        2,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )


def avg_pool3d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: Any = None,
) -> Any:
    """Average over sliding windows of (N, C, D, H, W) input."""
    return _avg_pool(
        "avg_pool3d",
        3,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )


def _along_spatial_dims(x: Any, matrices: Sequence[Any]) -> Any:
    """x with spatial dimension i (from dim 2) replaced by matrices[i] @ it: a separable linear
    map (adaptive pooling, interpolation), one matrix product per dimension."""
    n = len(matrices)
    for axis, matrix in enumerate(matrices):
        if matrix is None:
            continue
        dim = 2 + axis
        moved = movedim(x, dim, -1) if dim != x.ndim - 1 else x
        moved = matmul(moved, transpose(matrix, 0, 1))
        x = movedim(moved, -1, dim) if dim != 2 + n - 1 else moved
    return x


def _adaptive_matrix(xp: Any, size: int, out: int, dtype: Any) -> Array:
    """Averaging weights (out, size): bin i covers [floor(i size / out), ceil((i+1) size / out))."""
    index = xp.arange(out)
    start = (index * size) // out
    end = -((-(index + 1) * size) // out)
    positions = xp.arange(size)
    inside = (positions[None, :] >= start[:, None]) & (positions[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_avg_pool(op_name: str, n: int, input: Any, output_size: Any) -> Any:
    x, unbatched = _batched(op_name, input, n)
    _check_floating(op_name, input=x)
    shape = tuple(x.shape[2:])
    sizes = _adaptive_size(op_name, n, shape, output_size)
    xp = x._backend.xp
    matrices = [
        None if o == size else _constant(_adaptive_matrix(xp, size, o, x._array.dtype))
        for size, o in zip(shape, sizes)
    ]
    out = _along_spatial_dims(x, matrices)
    return out[0] if unbatched else out


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Any:
    """Average over `output_size` bins that split L as evenly as possible."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    """Average over bins that split H and W as evenly as possible (None keeps a size)."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Any, output_size: Any) -> Any:
    """Average over bins that split D, H and W as evenly as possible."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size)


# ---- linear --------------------------------------------------------------------------------


class Linear(Op):
    """x @ w^T (+ b) over the last dimension of x. Derivatives: g @ w for x, g^T x summed over
    every leading dimension for w, g summed over them for b."""

    @staticmethod
    def forward(ctx: Node, x: Array, w: Array, b: Array | None = None) -> Array:
        ctx.save(x=x, w=w)
        out = stacked_matmul(ctx.xp, x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grads = [None, None, None]
        if ctx.next_edges[0] is not None:
            grads[0] = apply(Matmul, (g, ctx.w))
        if ctx.next_edges[1] is not None:
            grads[1] = apply(LinearWeightGrad, (g, ctx.x))
        if len(ctx.next_edges) == 3 and ctx.next_edges[2] is not None:
            grads[2] = reduce_sum(g, tuple(range(g.ndim - 1))) if g.ndim > 1 else g
        return tuple(grads[: len(ctx.next_edges)])

    @staticmethod
    def jvp(ctx: Node, tx: Any, tw: Any, tb: Any = None) -> Any:
        parts = []
        if tx is not None:
            parts.append(matmul(tx, transpose(ctx.w, 0, 1)))
        if tw is not None:
            parts.append(matmul(ctx.x, transpose(tw, 0, 1)))
        if tb is not None:
            parts.append(tb)
        out = parts[0]
        for part in parts[1:]:
            out = out + part
        if tx is None and tw is None:  # the bias's tangent alone, broadcast over the rows
            rows = tuple(ctx.input_meta[0][0][:-1])
            out = expand(out, rows + tuple(out.shape))
        return out

    @staticmethod
    def batch(b: Any, x: Any, w: Any, bias: Any = None) -> Any:
        """vmap: with shared parameters, Linear over the batch as one more leading dimension;
        with parameters per example, a batched matrix product."""
        if not any(b.batched[1:]):
            return apply(Linear, (x, w) if bias is None else (x, w, bias))
        x, w, *rest = b.batch_all((x, w) if bias is None else (x, w, bias))
        rows = reshape(x, (b.size, -1, x.shape[-1]))
        out = apply(Einsum, (rows, w), "bni,boi->bno")  # its vjps beat batched matmuls
        if rest:
            out = out + unsqueeze(rest[0], 1)
        return reshape(out, (*x.shape[:-1], w.shape[1]))


class LinearWeightGrad(Op):
    """g^T x summed over every leading dimension: Linear's weight gradient (out, in) as one
    matrix product of the rows, instead of reshape, transpose and matmul ops.
    Derivatives: x c^T for g (a Linear) and g c for x, for a cotangent c of shape (out, in)."""

    @staticmethod
    def forward(ctx: Node, g: Array, x: Array) -> Array:
        ctx.save(g=g, x=x)
        return ctx.xp.matmul(g.reshape(-1, g.shape[-1]).T, x.reshape(-1, x.shape[-1]))

    @staticmethod
    def vjp(ctx: Node, c: Any) -> tuple:
        grad_g = apply(Linear, (ctx.x, c)) if ctx.next_edges[0] is not None else None
        grad_x = apply(Matmul, (ctx.g, c)) if ctx.next_edges[1] is not None else None
        return (grad_g, grad_x)

    @staticmethod
    def jvp(ctx: Node, tg: Any, tx: Any) -> Any:
        parts = []
        if tg is not None:
            parts.append(apply(LinearWeightGrad, (tg, ctx.x)))
        if tx is not None:
            parts.append(apply(LinearWeightGrad, (ctx.g, tx)))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    @staticmethod
    def batch(b: Any, g: Any, x: Any) -> Any:
        """vmap: each example's rows as one stack, then a batched product."""
        g, x = b.batch_all((g, x))
        rows_g = reshape(g, (b.size, -1, g.shape[-1]))
        rows_x = reshape(x, (b.size, -1, x.shape[-1]))
        return apply(Matmul, (transpose(rows_g, 1, 2), rows_x))


def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    """input @ weight^T + bias: weight is (out_features, in_features), bias (out_features,).

    >>> import chainrule
    >>> linear(chainrule.ones(2, 3), chainrule.ones(4, 3), chainrule.zeros(4)).shape
    (2, 4)
    """
    _check_floating("linear", input=input, weight=weight, bias=bias)
    if weight.ndim != 2:
        raise ShapeError(
            f"linear: expected a 2-D weight, got weight of shape {tuple(weight.shape)}"
        )
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input of shape {tuple(input.shape)} and weight of shape "
            f"{tuple(weight.shape)} cannot be multiplied ({input.shape[-1] if input.ndim else 0} "
            f"!= {weight.shape[1]})"
        )
    if bias is None:
        return apply(Linear, (input, weight))
    if tuple(bias.shape) not in ((weight.shape[0],), (1,), ()):
        raise ShapeError(
            f"linear: expected bias of shape ({weight.shape[0]},), got {tuple(bias.shape)}"
        )
    if tuple(bias.shape) != (weight.shape[0],):
        return apply(Linear, (input, weight)) + bias
    return apply(Linear, (input, weight, bias))


# ---- normalization -------------------------------------------------------------------------


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
        centered = x - x.mean(axis=axes, keepdims=True)
        variance = (centered * centered).mean(axis=axes, keepdims=True)
        rstd = 1 / ctx.xp.sqrt(variance + eps)
        out = centered * rstd
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
        count = _prod(out.shape[axis] for axis in ctx.axes)
        return (g_rstd * rstd * rstd) * out * (-1.0 / count)

    @staticmethod
    def batch(b: Any, x: Any, axes: tuple, eps: float) -> Any:
        """vmap: the axes one further right."""
        return apply(Standardize, (x,), tuple(axis + 1 for axis in axes), eps)


def _check_vector(op_name: str, name: str, tensor: Any, shape: tuple) -> None:
    if tensor is not None and tuple(tensor.shape) != tuple(shape):
        raise ShapeError(
            f"{op_name}: expected {name} of shape {tuple(shape)}, got {tuple(tensor.shape)}"
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


def _update_running_stats(
    x: Any, running_mean: Any, running_var: Any, momentum: float, axes: tuple
) -> None:
    """running = (1 - momentum) running + momentum * statistic, in place as PyTorch, with the
    unbiased variance for the running estimate. The statistics are taken over `axes`; what is
    left besides the channel (instance norm's samples) is averaged."""
    with no_grad():
        data = x.detach()
        count = _prod(data.shape[a] for a in axes)
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
    input: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Normalize each channel (dim 1) by the batch statistics when training (updating the running
    statistics in place), or by the running statistics otherwise; then scale and shift."""
    if input.ndim < 2:
        raise ShapeError(
            f"batch_norm: expected input with at least 2 dimensions, got shape {tuple(input.shape)}"
        )
    _check_floating("batch_norm", input=input)
    channels = input.shape[1]
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_vector("batch_norm", name, tensor, (channels,))
    axes = (0, *range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise ShapeError(
                f"batch_norm: expected more than 1 value per channel when training, got input of "
                f"shape {tuple(input.shape)}"
            )
        out = apply(Standardize, (input,), axes, eps)[0]
        if running_mean is not None or running_var is not None:
            _update_running_stats(input, running_mean, running_var, momentum, axes)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var must be given when not training"
            )
        out = _normalize_with(input, running_mean, running_var, eps, shape)
    return _affine(out, weight, bias, shape)


def instance_norm(
    input: Any,
    running_mean: Any = None,
    running_var: Any = None,
    weight: Any = None,
    bias: Any = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Normalize each (sample, channel) plane over its spatial dimensions; running statistics,
    when given, track the batch average of the per-instance statistics."""
    if input.ndim < 3:
        raise ShapeError(
            "instance_norm: expected input with at least 3 dimensions, got shape "
            f"{tuple(input.shape)}"
        )
    _check_floating("instance_norm", input=input)
    channels = input.shape[1]
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_vector("instance_norm", name, tensor, (channels,))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if use_input_stats:
        spatial = tuple(range(2, input.ndim))
        out = apply(Standardize, (input,), spatial, eps)[0]
        if running_mean is not None or running_var is not None:
            _update_running_stats(input, running_mean, running_var, momentum, spatial)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: running_mean and running_var must be given when "
                "use_input_stats=False"
            )
        out = _normalize_with(input, running_mean, running_var, eps, shape)
    return _affine(out, weight, bias, shape)


def layer_norm(
    input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Any:
    """Normalize over the last len(normalized_shape) dimensions, then scale and shift
    elementwise by weight and bias (of normalized_shape)."""
    normalized = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    _check_floating("layer_norm", input=input)
    count = len(normalized)
    if count == 0 or input.ndim < count or tuple(input.shape[input.ndim - count :]) != normalized:
        raise ShapeError(
            f"layer_norm: given normalized_shape={list(normalized)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized))}], but got input of shape {tuple(input.shape)}"
        )
    _check_vector("layer_norm", "weight", weight, normalized)
    _check_vector("layer_norm", "bias", bias, normalized)
    axes = tuple(range(input.ndim - count, input.ndim))
    out = apply(Standardize, (input,), axes, eps)[0]
    return _affine(out, weight, bias, normalized)


def group_norm(
    input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Any:
    """Normalize each group of channels of each sample together, then scale and shift per
    channel."""
    if input.ndim < 2:
        raise ShapeError(
            f"group_norm: expected input with at least 2 dimensions, got shape {tuple(input.shape)}"
        )
    _check_floating("group_norm", input=input)
    batch, channels = input.shape[:2]
    if num_groups < 1 or channels % num_groups:
        raise ShapeError(
            f"group_norm: expected number of channels in input to be divisible by num_groups, "
            f"but got input of shape {tuple(input.shape)} and num_groups={num_groups}"
        )
    _check_vector("group_norm", "weight", weight, (channels,))
    _check_vector("group_norm", "bias", bias, (channels,))
    grouped = reshape(input, (batch, num_groups, -1))
    out = reshape(apply(Standardize, (grouped,), (2,), eps)[0], tuple(input.shape))
    return _affine(out, weight, bias, (1, channels) + (1,) * (input.ndim - 2))


def rms_norm(
    input: Any, normalized_shape: Any, weight: Any = None, eps: float | None = None
) -> Any:
    """x / sqrt(mean(x**2) + eps) over the last dimensions, times weight; eps defaults to the
    dtype's machine epsilon, as PyTorch."""
    normalized = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    count = len(normalized)
    if count == 0 or input.ndim < count or tuple(input.shape[input.ndim - count :]) != normalized:
        raise ShapeError(
            f"rms_norm: given normalized_shape={list(normalized)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized))}], but got input of shape {tuple(input.shape)}"
        )
    _check_vector("rms_norm", "weight", weight, normalized)
    if eps is None:
        eps = float(input._backend.xp.finfo(input._array.dtype).eps)
    axes = tuple(range(input.ndim - count, input.ndim))
    out = input * rsqrt(mean(input * input, axes, keepdim=True) + eps)
    return out if weight is None else out * weight


# ---- dropout -------------------------------------------------------------------------------


def _dropout_mask(input: Any, p: float, shape: tuple) -> Any:
    """A constant mask of 0 (probability p) and 1 / (1 - p), from the default generator."""

    xp = input._backend.xp
    if p == 1:
        return _constant(xp.zeros(shape, dtype=input._array.dtype))
    keep = rand(shape, dtype=input.dtype)._array < 1 - p
    return _constant(xp.where(keep, 1 / (1 - p), 0).astype(input._array.dtype))


def _check_probability(op_name: str, p: float) -> None:
    if not 0 <= p <= 1:
        raise ValueError(f"{op_name}: dropout probability has to be between 0 and 1, but got {p}")


def _apply_mask(input: Any, mask: Any, inplace: bool) -> Any:
    if inplace:
        return input.mul_(mask)
    return input * mask


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only)."""
    _check_probability("dropout", p)
    if not training or p == 0:
        return input
    return _apply_mask(input, _dropout_mask(input, p, tuple(input.shape)), inplace)


_ALPHA = 1.7580993408473766  # selu's scale * alpha: the value selu saturates to is -_ALPHA


def _alpha_dropout(op_name: str, input: Any, p: float, training: bool, shape: tuple) -> Any:
    """Dropout for selu networks: dropped elements become selu's saturation value, then an
    affine map a x + b restores the mean and variance (PyTorch's constants)."""

    _check_probability(op_name, p)
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return input * 0
    xp = input._backend.xp
    keep = (rand(shape, dtype=input.dtype)._array < 1 - p).astype(input._array.dtype)
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    shift = (keep - 1) * (_ALPHA * a) + _ALPHA * a * p
    return input * _constant(xp.asarray(keep * a)) + _constant(xp.asarray(shift))


def alpha_dropout(input: Any, p: float = 0.5, training: bool = False, inplace: bool = False) -> Any:
    """Alpha dropout (Klambauer et al.): keeps a selu network's mean and variance."""
    result = _alpha_dropout("alpha_dropout", input, p, training, tuple(input.shape))
    return input.copy_(result) if inplace and result is not input else result


def feature_alpha_dropout(
    input: Any, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Any:
    """Alpha dropout of whole channels (dim 1) of (N, C, ...) input."""
    if input.ndim < 2:
        raise ShapeError(
            "feature_alpha_dropout: expected input with at least 2 dimensions, got shape "
            f"{tuple(input.shape)}"
        )
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    result = _alpha_dropout("feature_alpha_dropout", input, p, training, shape)
    return input.copy_(result) if inplace and result is not input else result


def _feature_dropout(
    op_name: str, n: int, input: Any, p: float, training: bool, inplace: bool
) -> Any:
    _check_probability(op_name, p)
    if input.ndim not in (n + 1, n + 2):
        raise ShapeError(
            f"{op_name}: expected {n + 1}D (unbatched) or {n + 2}D (batched) input, but got "
            f"input of shape {tuple(input.shape)}"
        )
    if not training or p == 0:
        return input
    lead = input.ndim - n
    shape = tuple(input.shape[:lead]) + (1,) * n
    return _apply_mask(input, _dropout_mask(input, p, shape), inplace)


def dropout1d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels of (N, C, L) input with probability p, scaling the rest."""
    return _feature_dropout("dropout1d", 1, input, p, training, inplace)


def dropout2d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels of (N, C, H, W) input with probability p, scaling the rest."""
    return _feature_dropout("dropout2d", 2, input, p, training, inplace)


def dropout3d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels of (N, C, D, H, W) input with probability p, scaling the rest."""
    return _feature_dropout("dropout3d", 3, input, p, training, inplace)


# ---- embedding and one_hot -----------------------------------------------------------------


def _check_indices(op_name: str, index: Any) -> None:
    if index.dtype.is_floating_point or index.dtype == dtypes.bool_:
        raise DTypeError(
            f"{op_name}: expected an integer index tensor (Long or Int), got {index.dtype}"
        )


def embedding(
    input: Any,
    weight: Any,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Any:
    """Rows of weight (num_embeddings, dim) at the integer indices `input`. The row at
    padding_idx gets no gradient; max_norm renormalizes the looked-up rows in place (as
    PyTorch); scale_grad_by_freq divides each gradient by the index's count in the batch.
    `sparse` is accepted for compatibility; gradients are always dense."""
    _check_indices("embedding", input)
    if weight.ndim != 2:
        raise ShapeError(
            f"embedding: expected a 2-D weight, got weight of shape {tuple(weight.shape)}"
        )
    rows = weight.shape[0]
    index = input._array
    if index.size and (int(index.min()) < 0 or int(index.max()) >= rows):
        raise IndexError(
            f"embedding: index out of range in self (indices must be in [0, {rows}), got values "
            f"in [{int(index.min())}, {int(index.max())}])"
        )
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(
                f"embedding: padding_idx must be within num_embeddings ({rows}), got {padding_idx}"
            )
        padding_idx = padding_idx % rows
    xp = input._backend.xp
    if max_norm is not None:
        _renorm_rows(weight, xp.unique(index), max_norm, norm_type)
    scale = None
    if scale_grad_by_freq:
        counts = xp.bincount(index.ravel(), minlength=rows)
        scale = (1.0 / counts[index]).astype(weight._array.dtype)
    return apply(Take, (weight, input), padding_idx, scale)


def _renorm_rows(weight: Any, rows: Array, max_norm: float, norm_type: float) -> None:
    """Scale the given rows of weight in place so their norm_type-norm is at most max_norm."""
    xp = weight._backend.xp
    with no_grad():
        selected = weight._array[rows]
        norms = (xp.abs(selected) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(selected.dtype)
        weight[_constant(rows)] = _constant(selected * scale[:, None])


class OneHot(Op):
    """The class indices as one-hot int64 vectors along a new last dimension. Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, index: Array, num_classes: int) -> Array:
        xp = ctx.xp
        return (index[..., None] == xp.arange(num_classes)).astype(dtypes.int64.numpy)

    batch = elementwise_batch


def one_hot(tensor: Any, num_classes: int = -1) -> Any:
    """One-hot encoding; num_classes=-1 means one more than the largest index.

    >>> import chainrule
    >>> one_hot(chainrule.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    if tensor.dtype != dtypes.int64:
        raise DTypeError(
            f"one_hot: is only applicable to index tensors of type int64, got {tensor.dtype}"
        )
    index = tensor._array
    if num_classes == -1:
        if index.size == 0:
            raise ValueError(
                "one_hot: can not infer the total number of classes from an empty tensor"
            )
        num_classes = int(index.max()) + 1
    if index.size:
        if int(index.min()) < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got {int(index.min())}")
        if int(index.max()) >= num_classes:
            raise ValueError(
                f"one_hot: class values must be smaller than num_classes ({num_classes}), got "
                f"{int(index.max())}"
            )
    return apply(OneHot, (tensor,), num_classes)


# ---- fused losses --------------------------------------------------------------------------


class SoftmaxCrossEntropy(Op):
    """-log_softmax(x)[target] at every position, x (N, C, *d) with integer targets (N, *d);
    0 where target == ignore_index. Fused so no log-probability array is kept.
    Derivative: g (softmax(x) - onehot(target)) along the class dimension, 0 where ignored."""

    @staticmethod
    def forward(ctx: Node, x: Array, target: Array, ignore_index: int) -> Array:
        ctx.save(x=x, target=target, ignore_index=ignore_index)
        xp = ctx.xp
        logits = xp.moveaxis(x, 1, -1)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_total = xp.log(xp.exp(shifted).sum(axis=-1))
        keep = target != ignore_index
        safe = xp.where(keep, target, 0)
        if shifted.ndim == 2:  # (N, C), the common case: one fancy index, no index arrays built
            picked = shifted[xp.arange(shifted.shape[0]), safe]
        else:
            picked = xp.take_along_axis(shifted, safe[..., None], axis=-1)[..., 0]
        loss = log_total - picked
        if not keep.all():
            loss = xp.where(keep, loss, 0)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def _parts(ctx: Node) -> tuple:
        x, target = ctx.x, ctx.target
        xp = ctx.xp
        classes = x.shape[1]
        keep = target._array != ctx.ignore_index
        positions = xp.arange(classes).reshape((1, classes) + (1,) * (x.ndim - 2))
        hot = (positions == xp.expand_dims(target._array, 1)) & xp.expand_dims(keep, 1)
        return softmax(x, 1) - _constant(hot.astype(x._array.dtype)), _constant(keep)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        difference, keep = SoftmaxCrossEntropy._parts(ctx)
        return (difference * unsqueeze(where(keep, g, 0.0), 1), None)

    @staticmethod
    def jvp(ctx: Node, t: Any, t_target: Any) -> Any:
        difference, keep = SoftmaxCrossEntropy._parts(ctx)
        return where(keep, reduce_sum(difference * t, 1), 0.0)

    @staticmethod
    def batch(b: Any, x: Any, target: Any, ignore_index: int) -> Any:
        """vmap: the batch becomes more samples."""
        x, target = b.batch_all((x, target))
        loss = apply(SoftmaxCrossEntropy, (_merge_batch(x), _merge_batch(target)), ignore_index)
        return _split_batch(loss, b.size)


_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """PyTorch's deprecated size_average / reduce flags, turned into a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def check_reduction(op_name: str, reduction: str, extra: tuple = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(f"{op_name}: {reduction!r} is not a valid value for reduction")


def _check_class_targets(op_name: str, x: Any, target: Any, ignore_index: int) -> None:
    """Integer targets (N, *d) for input (N, C, *d), each in [0, C) or ignore_index."""
    _check_indices(op_name, target)
    expected = (x.shape[0], *x.shape[2:])
    if tuple(target.shape) != expected:
        if target.ndim == 1 and x.ndim == 2:
            raise ShapeError(
                f"{op_name}: expected input batch_size ({x.shape[0]}) to match target "
                f"batch_size ({target.shape[0]})"
            )
        raise ShapeError(
            f"{op_name}: expected target of shape {expected} for input of shape "
            f"{tuple(x.shape)}, got {tuple(target.shape)}"
        )
    values = target._array
    classes = x.shape[1]
    bad = (values != ignore_index) & ((values < 0) | (values >= classes))
    if bad.any():
        raise IndexError(
            f"{op_name}: Target {int(values[bad].ravel()[0])} is out of bounds (input of shape "
            f"{tuple(x.shape)} has {classes} classes)"
        )


def _class_weights(x: Any, target: Any, weight: Any, ignore_index: int) -> Any:
    """Each position's class weight (0 where ignored): weight[target], differentiable in weight."""
    xp = x._backend.xp
    keep = target._array != ignore_index
    if weight is None:
        return _constant(keep.astype(x._array.dtype))
    safe = _constant(xp.where(keep, target._array, 0))
    return apply(Take, (weight, safe)) * _constant(keep.astype(weight._array.dtype))


def _weighted_reduction(loss: Any, weights: Any, reduction: str) -> Any:
    if reduction == "none":
        return loss
    total = reduce_sum(loss)
    if reduction != "mean":
        return total
    if weights._requires_grad or type(weights._array) is not weights._backend.array_type:
        return total / reduce_sum(weights)  # differentiable, or batched under vmap
    count = weights._array.sum()  # a constant: divide by a number, one op fewer
    return total / float(count) if count != 0 else total / reduce_sum(weights)


def _class_batch(op_name: str, input: Any, target: Any) -> tuple[Any, Any, bool]:
    """Input (C,) with a 0-d target becomes a batch of one; (N, C, *d) passes."""
    if input.ndim == 0:
        raise ShapeError(f"{op_name}: expected input with at least 1 dimension, got shape ()")
    if input.ndim == 1:
        return unsqueeze(input, 0), unsqueeze(target, 0), True
    return input, target, False


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Any:
    """Cross entropy between logits (N, C, *d) and class indices (N, *d) or class
    probabilities (N, C, *d), with PyTorch's weight, ignore_index and label_smoothing.

    >>> import chainrule
    >>> logits = chainrule.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> round(cross_entropy(logits, chainrule.tensor([0, 1])).item(), 4)
    0.1269
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("cross_entropy", reduction)
    _check_floating("cross_entropy", input=input, weight=weight)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    x, labels, unbatched = _class_batch("cross_entropy", input, target)
    classes = x.shape[1]
    _check_vector("cross_entropy", "weight", weight, (classes,))
    class_shape = (1, classes) + (1,) * (x.ndim - 2)
    if labels.dtype.is_floating_point:
        if tuple(labels.shape) != tuple(x.shape):
            raise ShapeError(
                f"cross_entropy: class-probability targets must have the input's shape "
                f"{tuple(input.shape)}, got {tuple(target.shape)}"
            )
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + label_smoothing / classes
        products = log_softmax(x, 1) * labels
        if weight is not None:
            products = products * reshape(weight, class_shape)
        loss = -reduce_sum(products, 1)
        if reduction == "mean":
            return reduce_sum(loss) / (x.numel() // max(classes, 1))
        if reduction == "sum":
            return reduce_sum(loss)
        return loss[0] if unbatched else loss
    _check_class_targets("cross_entropy", x, labels, ignore_index)
    weights = _class_weights(x, labels, weight, ignore_index)
    loss = apply(SoftmaxCrossEntropy, (x, labels), ignore_index)
    if weight is not None:
        loss = loss * weights
    result = _weighted_reduction(loss, weights, reduction)
    if label_smoothing > 0:
        log_probabilities = log_softmax(x, 1)
        if weight is not None:
            log_probabilities = log_probabilities * reshape(weight, class_shape)
        keep = _constant(labels._array != ignore_index)
        smooth = where(keep, -reduce_sum(log_probabilities, 1), 0.0)
        smooth = _weighted_reduction(smooth, weights, reduction)
        result = result * (1 - label_smoothing) + smooth * (label_smoothing / classes)
    return result[0] if unbatched and reduction == "none" else result


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """Negative log likelihood: -input[n, target[n]] (times the class weight), for
    log-probabilities (N, C, *d) and class indices (N, *d)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("nll_loss", reduction)
    _check_floating("nll_loss", input=input, weight=weight)
    x, labels, unbatched = _class_batch("nll_loss", input, target)
    classes = x.shape[1]
    _check_vector("nll_loss", "weight", weight, (classes,))
    _check_class_targets("nll_loss", x, labels, ignore_index)
    xp = x._backend.xp
    safe = xp.where(labels._array != ignore_index, labels._array, 0)
    offsets = xp.arange(safe.size).reshape(safe.shape) * classes + safe
    flat = reshape(movedim(x, 1, -1), (-1,))
    picked = apply(Take, (flat, _constant(offsets)))
    weights = _class_weights(x, labels, weight, ignore_index)
    loss = -picked * weights
    result = _weighted_reduction(loss, weights, reduction)
    return result[0] if unbatched and reduction == "none" else result


# ---- interpolation -------------------------------------------------------------------------


def _nearest_source(xp: Any, size: int, out: int, mode: str, scale: Any, precision: Any) -> Array:
    """PyTorch's nearest source index: floor(ratio * i) (i + 1/2 for nearest-exact), computed
    in `precision` and rounded to float32 before the floor, as its CPU kernels do."""
    rows = xp.arange(out)
    ratio = precision.type(1.0 / scale) if scale else precision.type(size) / precision.type(out)
    position = rows.astype(precision) + (precision.type(0.5) if mode == "nearest-exact" else 0)
    real = (position * ratio).astype(xp.float32)
    return xp.minimum(xp.floor(real).astype(rows.dtype), size - 1)


def _interpolation_matrix(
    xp: Any, size: int, out: int, mode: str, align_corners: bool, scale: float | None, dtype: Any
) -> Array:
    """The (out, size) matrix that resamples one dimension, with PyTorch's source-index rules."""
    matrix = xp.zeros((out, size), dtype=dtype)
    rows = xp.arange(out)
    if mode in ("nearest", "nearest-exact"):
        precision = xp.dtype(xp.float32) if dtype == xp.float32 else xp.dtype(xp.float64)
        matrix[rows, _nearest_source(xp, size, out, mode, scale, precision)] = 1
        return matrix
    if out == size:
        matrix[rows, rows] = 1
        return matrix
    if align_corners:
        ratio = (size - 1) / (out - 1) if out > 1 else 0.0
        real = rows.astype(dtype) * dtype.type(ratio)
    else:
        ratio = 1.0 / scale if scale else size / out
        real = xp.maximum(
            (rows.astype(dtype) + dtype.type(0.5)) * dtype.type(ratio) - dtype.type(0.5), 0
        )
    low = xp.minimum(xp.floor(real).astype(rows.dtype), size - 1)
    weight_high = xp.clip(real - low, 0, 1).astype(dtype)
    high = low + (low < size - 1)
    matrix[rows, low] = 1 - weight_high
    matrix[rows, high] += weight_high  # one entry per row, so no index repeats
    return matrix


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(
    input: Any,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Any:
    """Resize the spatial dimensions of (N, C, *spatial) input to `size` or by `scale_factor`,
    with mode 'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear' or 'area'."""
    n = input.ndim - 2
    if n < 1:
        raise ShapeError(
            "interpolate: expected input with at least 3 dimensions (N, C, ...), got shape "
            f"{tuple(input.shape)}"
        )
    _check_floating("interpolate", input=input)
    if mode not in ("nearest", "nearest-exact", "area", *_LINEAR_MODES):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != n:
        raise NotImplementedError(
            f"interpolate: got {n + 2}D input, but {mode} mode needs "
            f"{_LINEAR_MODES[mode] + 2}D input"
        )
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError(
            "interpolate: align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | trilinear"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor must be given")
    shape = tuple(input.shape[2:])
    scales: tuple = (None,) * n
    if size is not None:
        out_size = _ntuple("interpolate", "size", size, n)
    else:
        factors = (
            (float(scale_factor),) * n
            if isinstance(scale_factor, (int, float))
            else tuple(float(f) for f in scale_factor)
        )
        if len(factors) != n:
            raise ValueError(
                f"interpolate: scale_factor must have {n} elements, got {scale_factor}"
            )
        out_size = tuple(int(math.floor(s * f)) for s, f in zip(shape, factors))
        if not recompute_scale_factor:
            scales = factors
    if any(o < 1 for o in out_size):
        raise ShapeError(
            f"interpolate: output size {out_size} must be positive (input shape "
            f"{tuple(input.shape)})"
        )
    if mode == "area":
        return _adaptive_avg_pool("interpolate", n, input, out_size)
    xp = input._backend.xp
    dtype = input._array.dtype
    matrices = []
    for size, out, scale in zip(shape, out_size, scales):
        # linear modes copy a dimension whose size stays, nearest ones unless scaled; PyTorch's
        # 2-D nearest kernel copies it always, and doubles by i // 2, in float32 arithmetic
        planar = mode == "nearest" and n == 2
        if out == size and (mode in _LINEAR_MODES or scale is None or planar):
            matrices.append(None)
            continue
        if planar:
            matrix = xp.zeros((out, size), dtype=dtype)
            rows = xp.arange(out)
            if out == 2 * size:
                matrix[rows, rows // 2] = 1
            else:
                matrix[rows, _nearest_source(xp, size, out, mode, scale, xp.dtype(xp.float32))] = 1
        else:
            matrix = _interpolation_matrix(xp, size, out, mode, bool(align_corners), scale, dtype)
        matrices.append(_constant(matrix))
    return _along_spatial_dims(input, matrices)
