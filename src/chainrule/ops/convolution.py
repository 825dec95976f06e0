# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Convolution on whole arrays: a strided view of the windows (`sliding_window_view`), copied
once into columns, and matrix products over all samples. Two column layouts (`_columns`):
channels first, every window (one product per sample), for few channels; channels last over the
kernel's last dimension only, the other taps being slices of it (one product per leading tap),
for many. The forward keeps its columns for the weight gradient (`Convolution.fast_vjp`), and
the input gradient at stride 1 is a forward convolution too. The derivatives are ops of the same
family, so any order of derivative works:

  Convolution(x, w)           -> y      vjp: ConvolutionTranspose(g, w), ConvolutionWeight(x, g)
  ConvolutionTranspose(g, w)  -> x-like vjp: Convolution(a, w),           ConvolutionWeight(a, g)
  ConvolutionWeight(x, g)     -> w-like vjp: ConvolutionTranspose(g, b),  Convolution(x, b)

(three views of one trilinear form <conv(x, w), g>). A depthwise convolution (groups = input
channels) runs each of the three as a direct compiled loop where the backend has one (numba:
backend/jit.py), and then keeps no columns. PyTorch's arguments (ints or tuples,
padding strings, unbatched input) are read by `chainrule.nn.functional`, which calls the
kernel entries at the end of this file with tuples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.ops.complex import apply_holomorphic, holomorphic
from chainrule.ops.nn_common import merge_batch, split_batch
from chainrule.ops.op import Op, apply, in_channels_last, suggests_channels_last
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import expand, movedim, reshape

# ---- windows and columns -------------------------------------------------------------------


def pad_spatial(xp: Any, x: Array, padding: Sequence[tuple[int, int]], value: float = 0.0) -> Array:
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
    view = _window_view(xp, pad_spatial(xp, x, padding), kernel, stride, dilation, out_size)
    batch, channels = x.shape[:2]
    return view.reshape((batch, groups, channels // groups, *out_size, *kernel)), out_size


def _channels_last(group_channels: int, kernel: tuple, out_size: tuple) -> bool:
    """Which column layout copies faster: channels last (`_row_columns`), whose copy moves runs
    of kernel_width * C/G contiguous numbers, or channels first (N, G, C/G * K, P), whose runs
    are out_width long. LeNet's conv2 (16 channels, width 14) goes channels last, its conv1
    (1 channel, width 28) first."""
    return kernel[-1] * group_channels > out_size[-1]


def _columns(backend: Any, x: Array, kernel: tuple, geometry: tuple) -> tuple[Array, tuple]:
    """x's columns for the convolution's products, and the output size: channels first
    (N, G, C/G * K, P), every window copied once, or channels last (`_row_columns`), as
    `_channels_last` picks. The copies split over the intra-op threads."""
    xp = backend.xp
    stride, padding, dilation, groups = geometry
    n = len(kernel)
    batch, channels = x.shape[:2]
    group_channels = channels // groups
    out_size = _conv_out_size(x.shape[2:], kernel, stride, padding, dilation)
    if _channels_last(group_channels, kernel, out_size):
        return _row_columns(backend, x, kernel, geometry, out_size), out_size
    view, out_size = _grouped_windows(xp, x, kernel, geometry)
    order = (0, 1, 2, *range(3 + n, 3 + 2 * n), *range(3, 3 + n))
    size = group_channels * math.prod(kernel)
    positions = math.prod(out_size)  # explicit sizes, not -1: an empty batch reshapes too
    columns = xp.empty((batch, groups, size, positions), dtype=x.dtype)
    _assign_in_blocks(backend, columns.reshape(view.transpose(order).shape), view.transpose(order))
    return columns, out_size


def _row_columns(backend: Any, x: Array, kernel: tuple, geometry: tuple, out_size: tuple) -> Array:
    """Columns over the last kernel dimension only, channels last: (*padded_outer, N * out_w,
    G, k_w * C/G), where padded_outer are the padded image's leading spatial dimensions. The
    leading kernel taps are then slices of the leading axes (`_outer_taps`), so the copy is
    k_w copies of x rather than prod(kernel) (LeNet's conv2: 5 MiB, not 20), and each leading
    tap is one matrix product over all samples and positions."""
    xp = backend.xp
    stride, padding, dilation, groups = geometry
    n = len(kernel)
    batch, channels = x.shape[:2]
    # the image channels last, padded: (*outer, N, W, C)
    padded_size = tuple(size + lo + hi for size, (lo, hi) in zip(x.shape[2:], padding))
    image = xp.zeros((*padded_size[:-1], batch, padded_size[-1], channels), dtype=x.dtype)
    inner = tuple(slice(lo, lo + size) for size, (lo, _) in zip(x.shape[2:], padding))
    moved = x.transpose(*range(2, 1 + n), 0, 1 + n, 1)
    _assign_in_blocks(backend, image[(*inner[:-1], slice(None), inner[-1])], moved)
    span = dilation[-1] * (kernel[-1] - 1) + 1
    view = xp.lib.stride_tricks.sliding_window_view(image, span, axis=n)
    last = slice(0, stride[-1] * (out_size[-1] - 1) + 1, stride[-1])
    view = view[(*(slice(None),) * n, last, slice(None), slice(None, None, dilation[-1]))]
    # (*outer, N, out_w, C, k_w) -> (*outer, N, out_w, G, k_w, C/G), copied
    view = view.reshape(*view.shape[:-2], groups, channels // groups, kernel[-1])
    order = (*range(n + 1), n + 1, n + 3, n + 2)
    rows = batch * out_size[-1]
    size = kernel[-1] * (channels // groups)
    columns = xp.empty((*padded_size[:-1], rows, groups, size), dtype=x.dtype)
    _assign_in_blocks(backend, columns.reshape(view.transpose(order).shape), view.transpose(order))
    return columns


def _assign_in_blocks(backend: Any, target: Array, source: Array) -> None:
    """target[...] = source (a strided view, the copy im2col is made of), split along the
    first axis over the intra-op threads."""

    def block(start: int, stop: int) -> None:
        target[start:stop] = source[start:stop]

    backend.parallel_for(target.shape[0], block, math.prod(target.shape[1:]))


def _outer_taps(columns: Array, kernel: tuple, geometry: tuple, out_size: tuple) -> Any:
    """Each leading kernel tap's columns from `_row_columns`, (G, N * P, k_w * C/G): a view
    at stride 1 (a copy where a leading stride is larger, which reshape makes)."""
    stride, _, dilation, groups = geometry
    for offset in itertools.product(*(range(k) for k in kernel[:-1])):
        target = tuple(
            slice(i * d, i * d + s * (o - 1) + 1, s)
            for i, d, s, o in zip(offset, dilation, stride, out_size)
        )
        taps = columns[target]
        rows = math.prod(taps.shape[:-2])
        yield taps.reshape(rows, groups, taps.shape[-1]).transpose(1, 0, 2)


def _forward_product(
    xp: Any, columns: Array, w: Array, batch: int, out_size: tuple, geometry: tuple
) -> Array:
    """conv(x, w) from x's columns (either layout), (N, C_out, *out)."""
    groups = geometry[3]
    out_channels, group_channels = w.shape[:2]
    kernel = w.shape[2:]
    group_out = out_channels // groups
    if not _channels_last(group_channels, kernel, out_size):
        # (G, C_out/G, C/G K) @ (N, G, C/G K, P): one product per sample
        weights = w.reshape(groups, group_out, group_channels * math.prod(kernel))
        return xp.matmul(weights, columns).reshape(batch, out_channels, *out_size)
    # weights (K_outer, G, k_w C/G, C_out/G); a sum of one product per leading tap
    n = len(kernel)
    leading = math.prod(kernel[:-1])
    weights = w.reshape(groups, group_out, group_channels, leading, kernel[-1])
    weights = weights.transpose(3, 0, 4, 2, 1).reshape(
        leading, groups, kernel[-1] * group_channels, group_out
    )
    out = part = None
    for tap, rows in enumerate(_outer_taps(columns, kernel, geometry, out_size)):
        if out is None:
            out = xp.matmul(rows, weights[tap])  # (G, N P, C_out/G), rows (*out_outer, N, out_w)
            part = xp.empty_like(out)
        else:
            out += xp.matmul(rows, weights[tap], out=part)
    out = out.reshape(groups, *out_size[:-1], batch, out_size[-1], group_out)
    # contiguous (N, C_out, *out), as PyTorch's: the ops after it (bias, activation, pooling,
    # their backwards) run 2x faster on it than on the products' (*out_outer, N, out_w, C_out)
    order = (n, 0, n + 2, *range(1, n), n + 1)
    return xp.ascontiguousarray(out.transpose(order)).reshape(batch, out_channels, *out_size)


def _weight_product(
    xp: Any, columns: Array, g: Array, group_channels: int, kernel: tuple, geometry: tuple
) -> Array:
    """The correlation of x with g from x's columns (either layout): w's shape
    (C_out, C/G, *kernel)."""
    groups = geometry[3]
    batch, out_channels = g.shape[:2]
    out_size = g.shape[2:]
    group_out = out_channels // groups
    if not _channels_last(group_channels, kernel, out_size):
        # one product per sample, summed
        grads = g.reshape(batch, groups, group_out, math.prod(out_size))  # (N, G, C_out/G, P)
        out = xp.matmul(grads, columns.transpose(0, 1, 3, 2)).sum(axis=0)
        return out.reshape(out_channels, group_channels, *kernel)
    # g as rows (G, N P, C_out/G), rows ordered (*out_outer, N, out_w) as the columns'
    n = len(kernel)
    rows = g.reshape(batch, groups, group_out, *out_size).transpose(
        1, *range(3, 2 + n), 0, 2 + n, 2
    )
    rows = rows.reshape(groups, batch * math.prod(out_size), group_out)
    parts = [
        xp.matmul(taps.transpose(0, 2, 1), rows)  # (G, k_w C/G, C_out/G)
        for taps in _outer_taps(columns, kernel, geometry, out_size)
    ]
    leading = math.prod(kernel[:-1])
    out = xp.stack(parts).reshape(leading, groups, kernel[-1], group_channels, group_out)
    # (K_outer, G, k_w, C/G, C_out/G) -> (G, C_out/G, C/G, K_outer, k_w)
    out = xp.ascontiguousarray(out.transpose(1, 4, 3, 0, 2))
    return out.reshape(out_channels, group_channels, *kernel)


def _pointwise(kernel: tuple, geometry: tuple) -> bool:
    """Whether a convolution is pointwise: 1 x 1 kernels at stride 1, unpadded, one group (a
    ResNet bottleneck's, a MobileNet's projection). Each sample is then one channel-mixing
    product straight on its (C, P) plane, where the columns path copied x twice and the result
    once: (16, 64, 32, 32) -> 128 channels, forward and backward 21.5 -> 14.9 ms at one
    thread (PyTorch 14.1-14.4 in the same runs)."""
    stride, padding, _, groups = geometry
    return (
        groups == 1
        and all(k == 1 for k in kernel)
        and all(s == 1 for s in stride)
        and all(lo == hi == 0 for lo, hi in padding)
    )


def _planes(array: Array) -> Array:
    """(N, C, *spatial) as (N, C, P): the planes a pointwise convolution multiplies."""
    return array.reshape(*array.shape[:2], math.prod(array.shape[2:]))


def _convolution_batch(b: Any, x: Any, w: Any, *rest: Any) -> Any:
    """vmap rule of Convolution and ConvolutionBias: with shared weights, the batch becomes more
    samples; with a weight per example, the batch becomes more groups (x viewed as (N, B C, ...),
    w as (B C_out, ...)), one convolution either way."""
    count = len(b.batched)
    bias = rest[0] if count == 3 else None
    stride, padding, dilation, groups = rest[count - 2 :]
    if not b.batched[1] and not (count == 3 and b.batched[2]):
        operands = (merge_batch(x), w) if bias is None else (merge_batch(x), w, bias)
        return split_batch(apply(b.op, operands, stride, padding, dilation, groups), b.size)
    x = x if b.batched[0] else b.expand(x)
    w = w if b.batched[1] else b.expand(w)
    size = b.size
    planes = movedim(x, 0, 1)  # explicit sizes, not -1: an empty batch reshapes too
    planes = reshape(planes, (planes.shape[0], size * planes.shape[2], *planes.shape[3:]))
    kernels = reshape(w, (size * w.shape[1], *w.shape[2:]))
    operands = (planes, kernels)
    if bias is not None:
        operands += (reshape(bias if b.batched[2] else b.expand(bias), (size * w.shape[1],)),)
    out = apply(b.op, operands, stride, padding, dilation, groups * size)
    out = reshape(out, (out.shape[0], size, out.shape[1] // size, *out.shape[2:]))
    return movedim(out, 1, 0)


@holomorphic
class Convolution(Op):
    """Cross-correlation of x (N, C, *spatial) with w (C_out, C/groups, *kernel), as PyTorch's
    convNd. Linear in each operand: the x-gradient is the transposed convolution of g with w,
    the w-gradient the correlation of x with g (ConvolutionWeight). Holomorphic in each, as
    every op of this file: complex operands' gradients conjugate the other operand."""

    @classmethod
    def node_name(cls) -> str:
        return "ConvolutionBackward0"

    @staticmethod
    def forward(
        ctx: Node, x: Array, w: Array, stride: tuple, padding: tuple, dilation: tuple, groups: int
    ) -> Array:
        geometry = (stride, padding, dilation, groups)
        out = ctx.backend.depthwise_convolution(x, w, geometry)  # a direct kernel, or None
        if out is None and _pointwise(w.shape[2:], geometry):
            out = ctx.xp.matmul(w.reshape(w.shape[:2]), _planes(x))
            out = out.reshape(x.shape[0], w.shape[0], *x.shape[2:])
            ctx.save(x=x, w=w, columns=None, geometry=geometry)
        elif out is None:
            columns, out_size = _columns(ctx.backend, x, w.shape[2:], geometry)
            # the columns are kept for the weight gradient (fast_vjp), which would otherwise
            # copy them again. Their memory, held until backward frees the node (only when a
            # graph is recorded): k_w / stride_w copies of x channels last, prod(kernel) /
            # prod(stride) channels first (LeNet's two layers: 5 MiB each)
            ctx.save(x=x, w=w, columns=columns, geometry=geometry)
            out = _forward_product(ctx.xp, columns, w, x.shape[0], out_size, geometry)
        else:
            ctx.save(x=x, w=w, columns=None, geometry=geometry)
        if suggests_channels_last(x) or suggests_channels_last(w):  # PyTorch keeps the layout
            return in_channels_last(ctx.xp, out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x, w = ctx.x, ctx.w
        grad_x = grad_w = None
        if ctx.next_edges[0] is not None:
            in_size = tuple(ctx.input_meta[0][0][2:])
            grad_x = apply_holomorphic(ConvolutionTranspose, (g, w), *ctx.geometry, in_size)
        if ctx.next_edges[1] is not None:
            kernel = tuple(ctx.input_meta[1][0][2:])
            grad_w = apply_holomorphic(ConvolutionWeight, (x, g), *ctx.geometry, kernel)
        return (grad_x, grad_w)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """vjp's, with the weight gradient made from the forward's saved columns (if it made
        any: a direct kernel makes none)."""
        if ctx.columns is None:
            return Convolution.vjp(ctx, g)
        grad_x = grad_w = None
        if ctx.next_edges[0] is not None:
            in_size = tuple(ctx.input_meta[0][0][2:])
            grad_x = apply_holomorphic(ConvolutionTranspose, (g, ctx.w), *ctx.geometry, in_size)
        if ctx.next_edges[1] is not None:
            kernel = tuple(ctx.input_meta[1][0][2:])
            operands = (ctx.x, g, ctx.columns)
            grad_w = apply(ConvolutionWeightFromColumns, operands, *ctx.geometry, kernel)
        return (grad_x, grad_w)

    @staticmethod
    def jvp(ctx: Node, tx: Any, tw: Any) -> Any:
        parts = []
        if tx is not None:
            parts.append(apply_holomorphic(Convolution, (tx, ctx.w), *ctx.geometry))
        if tw is not None:
            parts.append(apply_holomorphic(Convolution, (ctx.x, tw), *ctx.geometry))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    batch = _convolution_batch


@holomorphic
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
        out = Convolution.forward(ctx, x, w, stride, padding, dilation, groups)
        out += b.reshape((-1,) + (1,) * (out.ndim - 2))
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x, grad_w = Convolution.vjp(ctx, g)
        return (grad_x, grad_w, ConvolutionBias.bias_grad(ctx, g))

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        grad_x, grad_w = Convolution.fast_vjp(ctx, g)
        return (grad_x, grad_w, ConvolutionBias.bias_grad(ctx, g))

    @staticmethod
    def bias_grad(ctx: Node, g: Any) -> Any:
        if ctx.next_edges[2] is None:
            return None
        return reduce_sum(g, (0, *range(2, g.ndim)))

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


def _flipped_correlation(backend: Any, g: Array, w: Array, geometry: tuple) -> Array:
    """conv(g, w'), w' (C, C_out/G, *kernel) being w's kernels flipped with each group's in and
    out channels swapped: the transposed convolution at stride 1, `geometry` padding g fully."""
    xp = backend.xp
    groups = geometry[3]
    out_channels, group_channels = w.shape[:2]
    n = w.ndim - 2
    flipped = w[(slice(None), slice(None), *(slice(None, None, -1),) * n)]
    flipped = flipped.reshape(groups, out_channels // groups, group_channels, *w.shape[2:])
    flipped = xp.ascontiguousarray(flipped.swapaxes(1, 2)).reshape(
        groups * group_channels, out_channels // groups, *w.shape[2:]
    )
    columns, out_size = _columns(backend, g, w.shape[2:], geometry)
    return _forward_product(xp, columns, flipped, g.shape[0], out_size, geometry)


def _transposed_convolution(
    backend: Any, g: Array, w: Array, geometry: tuple, in_size: tuple
) -> Array:
    """col2im, channels last, one kernel tap at a time: the tap's contribution (N, *out, C) is
    one product of g's rows with the tap's (C_out/G, C/G) weights, added into a padded
    (N, *in, C) image. With channels innermost each strided add moves rows of out_width * C
    contiguous numbers rather than out_width (2x faster for LeNet's sizes), and one tap-sized
    buffer is reused instead of materializing all K taps' columns (20 MiB for LeNet's conv2)."""
    xp = backend.xp
    stride, padding, dilation, groups = geometry
    kernel = w.shape[2:]
    if _pointwise(kernel, geometry):
        out = xp.matmul(w.reshape(w.shape[:2]).T, _planes(g))
        return out.reshape(g.shape[0], w.shape[1], *in_size)
    compiled = backend.transposed_convolution(g, w, geometry, in_size)  # one product + col2im
    if compiled is None:
        compiled = backend.depthwise_input_grad(g, w, geometry, in_size)  # a direct kernel
    if compiled is not None:
        return compiled
    if all(s == 1 for s in stride):
        # the correlation of g, padded by d (k - 1) - pad, with w flipped and transposed: a
        # forward convolution, whose columns copy and products beat the col2im's K narrow
        # products and adds (LeNet's conv2: 10 against 12 ms)
        full = tuple(
            (d * (k - 1) - lo, d * (k - 1) - hi)
            for k, d, (lo, hi) in zip(kernel, dilation, padding)
        )
        natural = _conv_out_size(g.shape[2:], kernel, stride, full, dilation)
        if natural == tuple(in_size) and all(lo >= 0 and hi >= 0 for lo, hi in full):
            return _flipped_correlation(backend, g, w, (stride, full, dilation, groups))
    batch, out_channels = g.shape[:2]
    out_size = g.shape[2:]
    group_out, group_channels = out_channels // groups, w.shape[1]
    channels = group_channels * groups
    # g's rows as (G, N * P, C_out/G); the weights as (K, G, C_out/G, C/G)
    count = batch * math.prod(out_size)
    rows = xp.moveaxis(g, 1, -1).reshape(count, groups, group_out).transpose(1, 0, 2)
    taps = w.reshape(groups, group_out, group_channels, math.prod(kernel)).transpose(3, 0, 1, 2)
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


@holomorphic
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
        out = _transposed_convolution(ctx.backend, g, w, geometry, in_size)
        if suggests_channels_last(g) or suggests_channels_last(w):  # as Convolution
            return in_channels_last(ctx.xp, out)
        return out

    @staticmethod
    def vjp(ctx: Node, a: Any) -> tuple:
        g, w = ctx.g, ctx.w
        grad_g = grad_w = None
        if ctx.next_edges[0] is not None:
            grad_g = apply_holomorphic(Convolution, (a, w), *ctx.geometry)
        if ctx.next_edges[1] is not None:
            kernel = tuple(ctx.input_meta[1][0][2:])
            grad_w = apply_holomorphic(ConvolutionWeight, (a, g), *ctx.geometry, kernel)
        return (grad_g, grad_w)

    @staticmethod
    def jvp(ctx: Node, tg: Any, tw: Any) -> Any:
        in_size = ctx.in_size
        parts = []
        if tg is not None:
            parts.append(
                apply_holomorphic(ConvolutionTranspose, (tg, ctx.w), *ctx.geometry, in_size)
            )
        if tw is not None:
            parts.append(
                apply_holomorphic(ConvolutionTranspose, (ctx.g, tw), *ctx.geometry, in_size)
            )
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    @staticmethod
    def batch(b: Any, g: Any, w: Any, *geometry: Any) -> Any:
        """vmap: with shared weights the batch becomes more samples; else per example."""
        if b.batched[1]:
            return b.loop(g, w, *geometry)
        return split_batch(
            apply_holomorphic(ConvolutionTranspose, (merge_batch(g), w), *geometry), b.size
        )


@holomorphic
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
        if _pointwise(kernel, geometry):  # one product per sample, summed
            planes = ctx.xp.matmul(_planes(g), _planes(x).swapaxes(1, 2))
            return planes.sum(axis=0).reshape(g.shape[1], x.shape[1], *kernel)
        direct = ctx.backend.depthwise_weight_grad(x, g, geometry, kernel)
        if direct is not None:
            return direct
        columns, _ = _columns(ctx.backend, x, kernel, geometry)
        return _weight_product(ctx.xp, columns, g, x.shape[1] // groups, kernel, geometry)

    @staticmethod
    def vjp(ctx: Node, b: Any) -> tuple:
        x, g = ctx.x, ctx.g
        grad_x = grad_g = None
        if ctx.next_edges[0] is not None:
            in_size = tuple(ctx.input_meta[0][0][2:])
            grad_x = apply_holomorphic(ConvolutionTranspose, (g, b), *ctx.geometry, in_size)
        if ctx.next_edges[1] is not None:
            grad_g = apply_holomorphic(Convolution, (x, b), *ctx.geometry)
        return (grad_x, grad_g)

    @staticmethod
    def jvp(ctx: Node, tx: Any, tg: Any) -> Any:
        kernel = ctx.kernel
        parts = []
        if tx is not None:
            parts.append(apply_holomorphic(ConvolutionWeight, (tx, ctx.g), *ctx.geometry, kernel))
        if tg is not None:
            parts.append(apply_holomorphic(ConvolutionWeight, (ctx.x, tg), *ctx.geometry, kernel))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]


class ConvolutionWeightFromColumns(ConvolutionWeight):
    """ConvolutionWeight(x, g) made from x's columns, saved by the Convolution that made them
    (its fast_vjp): the same value, derivatives and tangents as ConvolutionWeight, the columns
    a constant operand that gets no gradient."""

    @classmethod
    def node_name(cls) -> str:
        return "ConvolutionWeightBackward0"

    @staticmethod
    def forward(
        ctx: Node,
        x: Array,
        g: Array,
        columns: Array,
        stride: tuple,
        padding: tuple,
        dilation: tuple,
        groups: int,
        kernel: tuple,
    ) -> Array:
        geometry = (stride, padding, dilation, groups)
        ctx.save(x=x, g=g, geometry=geometry, kernel=kernel)
        return _weight_product(ctx.xp, columns, g, x.shape[1] // groups, kernel, geometry)

    @staticmethod
    def vjp(ctx: Node, b: Any) -> tuple:
        return (*ConvolutionWeight.vjp(ctx, b), None)

    @staticmethod
    def jvp(ctx: Node, tx: Any, tg: Any, tcolumns: Any) -> Any:
        return ConvolutionWeight.jvp(ctx, tx, tg)


# ---- kernel entries ------------------------------------------------------------------------


def convolution(
    x: Any,
    weight: Any,
    bias: Any,
    stride: tuple,
    padding: tuple,
    dilation: tuple,
    groups: int,
) -> Any:
    """The cross-correlation of x (N, C, *spatial) with weight, plus bias (or None) per output
    channel, with padding as ((lo, hi), ...): what conv1d/2d/3d run once their arguments are
    read (chainrule.nn.functional)."""
    if bias is None:
        return apply_holomorphic(Convolution, (x, weight), stride, padding, dilation, groups)
    return apply_holomorphic(ConvolutionBias, (x, weight, bias), stride, padding, dilation, groups)


def convolution_transpose(
    x: Any,
    weight: Any,
    stride: tuple,
    padding: tuple,
    dilation: tuple,
    groups: int,
    out_size: tuple,
) -> Any:
    """The transposed convolution of x with weight, to spatial size `out_size`: what
    conv_transpose1d/2d/3d run once their arguments are read."""
    return apply_holomorphic(
        ConvolutionTranspose, (x, weight), stride, padding, dilation, groups, out_size
    )
