# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Pooling. Max-pooling (MaxPool, AdaptiveMaxPool) keeps the argmax positions; its vjp
scatters into them (TakeAdjoint), whose vjp gathers them again (Take). Average pooling is a
convolution with a kernel of ones; adaptive average pooling a product with a constant matrix
along each spatial dimension. `chainrule.nn.functional` reads PyTorch's arguments (kernel_size,
stride, padding, ceil_mode, output_size) and calls the kernel entries at the end of this file.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.errors import GradError
from chainrule.ops.convolution import Convolution, pad_spatial
from chainrule.ops.elementwise import connected, div
from chainrule.ops.embedding import Take, TakeAdjoint
from chainrule.ops.linalg import matmul
from chainrule.ops.nn_common import merge_batch, shape_constant, split_batch
from chainrule.ops.op import NoDerivative, Op, apply, in_channels_last, suggests_channels_last
from chainrule.ops.reduction import mean
from chainrule.ops.shape import movedim, reshape, transpose


def _window_max(
    xp: Any,
    padded: Array,
    kernel: tuple,
    stride: tuple,
    dilation: tuple,
    out_size: tuple,
    padding: tuple,
    spatial: tuple,
    host_memory: bool,
    best: Array,
    flat: Array,
) -> None:
    """Into `best` and `flat`: the max of every window and where it sits as a flat index into
    the (unpadded) input plane. One pass per kernel tap over output-sized strided views,
    branch-free: a window's winning tap only ever moves to a later tap, so
    `maximum(tap_so_far, better * tap)` tracks it without a masked copy. The first maximum
    wins ties and NaN wins over numbers, as PyTorch's CPU kernel; NaN costs four more passes
    per tap, so they are run only when a window's max came out NaN."""
    winner = _window_max_taps(xp, padded, kernel, stride, dilation, out_size, False, best)
    # (On a device, where testing for NaN would synchronise, the NaN-aware passes always run.)
    if padded.dtype.kind in "fV" and (not host_memory or xp.isnan(best).any()):
        winner = _window_max_taps(xp, padded, kernel, stride, dilation, out_size, True, best)
    # winning tap -> flat index into the input plane: each window's start plus its tap's offset
    n = len(kernel)
    plane_strides = [math.prod(spatial[axis + 1 :]) for axis in range(n)]
    base = xp.zeros(out_size, dtype=dtypes.int64.numpy)
    for axis in range(n):
        starts = xp.arange(out_size[axis]) * stride[axis] - padding[axis][0]
        base = base + (starts * plane_strides[axis]).reshape((-1,) + (1,) * (n - 1 - axis))
    tap_offsets = xp.asarray(
        [
            sum(o * d * p for o, d, p in zip(_tap_offsets(tap, kernel), dilation, plane_strides))
            for tap in range(math.prod(kernel))
        ],
        dtype=dtypes.int64.numpy,
    )
    xp.add(xp.take(tap_offsets, winner), base, out=flat)


def _window_max_taps(
    xp: Any,
    padded: Array,
    kernel: tuple,
    stride: tuple,
    dilation: tuple,
    out_size: tuple,
    nan_aware: bool,
    best: Array,
) -> Array:
    """The window maxima into `best`, and the winning tap numbers: the passes of
    `_window_max`, in place in arrays made once (each fresh output-sized array would cost
    page faults as well as its pass)."""
    taps = math.prod(kernel)
    tap_dtype = "uint8" if taps < 256 else "int64"
    winner = xp.zeros(best.shape, dtype=tap_dtype)
    better = xp.empty(best.shape, dtype=bool)
    chosen = xp.empty(best.shape, dtype=tap_dtype)
    for tap in range(taps):
        offsets = _tap_offsets(tap, kernel)
        selection = tuple(
            slice(o * d, o * d + s * (size - 1) + 1, s)
            for o, d, s, size in zip(offsets, dilation, stride, out_size)
        )
        values = padded[(slice(None), slice(None), *selection)]
        if tap == 0:
            best[...] = values
            continue
        xp.greater(values, best, out=better)
        if nan_aware:
            better |= xp.isnan(values) & ~xp.isnan(best)
        xp.multiply(better, xp.asarray(tap, dtype=tap_dtype), out=chosen)
        xp.maximum(winner, chosen, out=winner)
        xp.maximum(best, values, out=best)  # NaN propagates, as the index above says
    return winner


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
        lowest = -xp.inf if x.dtype.kind in "fV" else xp.iinfo(x.dtype).min  # never a max
        padded = pad_spatial(xp, x, padding, lowest)
        spatial = x.shape[2:]
        geometry = (kernel, stride, dilation, out_size, padding, spatial, ctx.backend.host_memory)
        out = xp.empty((*x.shape[:2], *out_size), dtype=x.dtype)
        flat = xp.empty(out.shape, dtype=dtypes.int64.numpy)

        def block(start: int, stop: int) -> None:  # the samples are independent
            part = slice(start, stop)
            _window_max(xp, padded[part], *geometry, out[part], flat[part])

        window = (kernel, stride, dilation, padding, spatial)
        if not ctx.backend.window_max(padded, *window, out, flat):  # a compiled pass, or:
            ctx.backend.parallel_for(x.shape[0], block, math.prod(x.shape[1:]))
        plane = math.prod(spatial)
        planes = xp.arange(x.shape[0] * x.shape[1], dtype=flat.dtype).reshape(
            x.shape[0], x.shape[1], *(1,) * n
        )
        # Windows that cannot overlap have distinct argmax positions: the backward assigns.
        disjoint = all(s >= (k - 1) * d + 1 for k, s, d in zip(kernel, stride, dilation))
        ctx.save(x=x, offsets=flat + planes * plane, disjoint=disjoint)
        if suggests_channels_last(x):  # PyTorch lays out both outputs as the input
            return in_channels_last(xp, out), in_channels_last(xp, flat)
        return out, flat

    @staticmethod
    def vjp(ctx: Node, g: Any, g_indices: Any = None) -> tuple:
        shape = ctx.input_meta[0][0]
        size = math.prod(shape)
        grad = reshape(apply(TakeAdjoint, (g, ctx.offsets), size, ctx.disjoint), shape)
        return (connected(grad, ctx.x),)  # zero in x, as PyTorch's: see ConnectedTo

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        return (apply(Take, (reshape(t, (-1,)), ctx.offsets)), None)  # no tangent for indices

    @staticmethod
    def batch(b: Any, x: Any, *geometry: Any) -> Any:
        """vmap: the batch becomes more samples (indices are per plane, so unchanged)."""
        out, indices = apply(b.op, (merge_batch(x),), *geometry)
        return split_batch(out, b.size), split_batch(indices, b.size)


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
        windows = windows.reshape(*windows.shape[: 2 + n], math.prod(windows.shape[2 + n :]))
        local = xp.argmax(windows, axis=-1)
        out = xp.take_along_axis(windows, local[..., None], axis=-1)[..., 0]
        taps = xp.unravel_index(local, tuple(source.shape[1] for source in sources))
        flat = xp.zeros(local.shape, dtype=dtypes.int64.numpy)
        for axis in range(n):
            rows = xp.arange(out_size[axis]).reshape((-1,) + (1,) * (n - 1 - axis))
            flat = flat * spatial[axis] + sources[axis][rows, taps[axis]]
        plane = math.prod(spatial)
        planes = xp.arange(x.shape[0] * x.shape[1], dtype=flat.dtype)
        offsets = flat + planes.reshape(x.shape[0], x.shape[1], *(1,) * n) * plane
        ctx.save(x=x, offsets=offsets, disjoint=False)  # neighbouring bins may share elements
        if x.ndim == 4 and suggests_channels_last(x):  # as MaxPool (3-D: row-major, as PyTorch)
            return in_channels_last(xp, out), in_channels_last(xp, flat)
        return out, flat


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


def along_spatial_dims(x: Any, matrices: Sequence[Any]) -> Any:
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


# ---- kernel entries: what the pools of chainrule.nn.functional run once their arguments are read


def max_pool(
    x: Any, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out_size: tuple
) -> tuple:
    """(max over each window, its flat index in the plane), padding as ((lo, hi), ...)."""
    return apply(MaxPool, (x,), kernel, stride, padding, dilation, out_size)


def adaptive_max_pool(x: Any, out_size: tuple) -> tuple:
    """(max over each adaptive bin, its flat index in the plane)."""
    return apply(AdaptiveMaxPool, (x,), out_size)


def avg_pool(
    x: Any,
    kernel: tuple,
    stride: tuple,
    padding: tuple,
    out_size: tuple,
    count_include_pad: bool,
    divisor_override: Any,
) -> Any:
    """A sum over each window (a convolution of every plane with a kernel of ones), divided
    by the window's element count, or by divisor_override. Windows that tile the input
    (stride = kernel, no padding, every window whole: AvgPool2d(2)) are a mean over a reshape
    instead (TileSum), which copies no window: (32, 64, 32, 32) forward and backward 14.6 ->
    3.4 ms (PyTorch 4.5)."""
    n = len(kernel)
    shape = tuple(x.shape[2:])
    if _tiles(kernel, stride, padding, out_size, shape) and x._array.dtype.kind in "fcV":
        if not divisor_override:
            return apply(TileSum, (x,), tuple(kernel), tuple(out_size)) / math.prod(kernel)
    xp = x._backend.xp
    batch, channels = x.shape[:2]
    planes = reshape(x, (batch * channels, 1, *shape))
    ones = shape_constant(xp.ones((1, 1, *kernel), dtype=x._array.dtype))
    sums = apply(Convolution, (planes, ones), stride, padding, (1,) * n, 1)
    sums = reshape(sums, (batch, channels, *out_size))
    integer = x._array.dtype.kind in "iu"
    if divisor_override:
        if integer:
            return div(sums, int(divisor_override), rounding_mode="trunc")
        return sums / float(divisor_override)
    divisor = _window_divisor(
        xp, n, shape, kernel, stride, padding, out_size, count_include_pad, x._array.dtype
    )
    if integer:  # PyTorch's integer kernel divides in integers, truncating
        return div(sums, shape_constant(divisor), rounding_mode="trunc")
    return sums / shape_constant(divisor)


class TileSum(Op):
    """The sum over each of the windows that tile the last len(kernel) dimensions (window
    size = stride = kernel, the remainder past out_size * kernel left out): one strided slice
    per kernel offset, added, so no window is copied (NumPy's sum over the windows' axes of a
    reshaped x runs 16x slower on 2 x 2 windows). Linear: the vjp spreads g back over each
    window (TileSpread), whose vjp is this op again."""

    @staticmethod
    def forward(ctx: Node, x: Array, kernel: tuple, out_size: tuple) -> Array:
        ctx.save(kernel=kernel, out_size=out_size)
        total = None
        for key in _tile_offsets(x.ndim, kernel, out_size):
            if total is None:
                total = x[key].copy()
            else:
                total += x[key]
        return total

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        shape = tuple(ctx.input_meta[0][0][-len(ctx.kernel) :])
        return (apply(TileSpread, (g,), ctx.kernel, shape),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(TileSum, (t,), ctx.kernel, ctx.out_size)

    @staticmethod
    def batch(b: Any, x: Any, *params: Any) -> Any:
        """vmap: the windows are in the last dimensions, so the batch changes nothing."""
        return apply(b.op, (x,), *params)


class TileSpread(Op):
    """TileSum's adjoint: g (*, *out_size) written into every element of its window of a
    zero array (*, *shape). Linear: its vjp is TileSum."""

    @staticmethod
    def forward(ctx: Node, g: Array, kernel: tuple, shape: tuple) -> Array:
        ctx.save(kernel=kernel, shape=shape)
        n = len(kernel)
        out_size = g.shape[g.ndim - n :]
        spread = ctx.xp.zeros((*g.shape[: g.ndim - n], *shape), dtype=g.dtype)
        for key in _tile_offsets(spread.ndim, kernel, out_size):
            spread[key] = g
        return spread

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out_size = tuple(ctx.input_meta[0][0][-len(ctx.kernel) :])
        return (apply(TileSum, (g,), ctx.kernel, out_size),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(TileSpread, (t,), ctx.kernel, ctx.shape)

    batch = TileSum.batch


def _tile_offsets(ndim: int, kernel: tuple, out_size: tuple) -> Any:
    """For each offset in the window, the index of that element of every window."""
    lead = (slice(None),) * (ndim - len(kernel))
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield (*lead, *(slice(i, i + o * k, k) for i, o, k in zip(offset, out_size, kernel)))


def _tiles(kernel: tuple, stride: tuple, padding: tuple, out_size: tuple, shape: tuple) -> bool:
    """Whether the windows tile the input without overlap or padding, each one whole."""
    return (
        tuple(stride) == tuple(kernel)
        and all(lo == 0 and hi == 0 for lo, hi in padding)
        and all(o * k <= size for o, k, size in zip(out_size, kernel, shape))
    )


class EmptyAdaptivePool(NoDerivative):
    """The empty result of an adaptive pool to an output size with a 0, as PyTorch's: in x's
    graph, and a backward through it raises, as PyTorch's pooling backwards refuse an empty
    gradient (naming its kernel and the size, a 1-d pool's as the 2-d kernel's)."""

    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple, kernel: str, unbatched: bool) -> Array:
        ctx.save(kernel=kernel, unbatched=unbatched)
        return ctx.xp.empty(shape, dtype=x.dtype)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        sizes = list(g.shape[:2]) + [1] * (g.ndim == 3) + list(g.shape[2:])
        if ctx.unbatched:  # PyTorch's kernel saw the (C, *spatial) input itself
            sizes = sizes[1:]
        empty = next(d for d in range(0 if ctx.unbatched else 1, len(sizes)) if sizes[d] == 0)
        raise GradError(
            f"{ctx.kernel}_backward(): Expected grad_output to have non-zero size for non-batch "
            f"dimensions, but grad_output has sizes {sizes} with dimension {empty} being empty"
        )


def empty_adaptive_pool(x: Any, sizes: tuple, kind: str, unbatched: bool) -> Any:
    """adaptive_{kind}_pool of (N, C, *spatial) x to `sizes`, one of them 0 (`unbatched`: x
    is a (C, *spatial) input with a batch of one added)."""
    kernel = f"adaptive_{kind}_pool{max(len(sizes), 2)}d"
    return apply(EmptyAdaptivePool, (x,), (*x.shape[:2], *sizes), kernel, unbatched)


def adaptive_avg_pool(x: Any, out_size: tuple) -> Any:
    """The average over each adaptive bin. A global average is a mean, as PyTorch's, and other
    equal bins that tile the input (14 -> 7) a TileSum: ResNet's global pooling of
    (32, 64, 32, 32), forward and backward, took 5.8 ms through the matrices against PyTorch's
    0.8. Otherwise one constant averaging matrix per resized dimension."""
    shape = tuple(x.shape[2:])
    if all(size % o == 0 and o > 0 for size, o in zip(shape, out_size)):
        if all(o == 1 for o in out_size):
            return mean(x, tuple(range(2, x.ndim)), keepdim=True)
        kernel = tuple(size // o for size, o in zip(shape, out_size))
        return apply(TileSum, (x,), kernel, tuple(out_size)) / math.prod(kernel)
    xp = x._backend.xp
    matrices = [
        None if o == size else shape_constant(_adaptive_matrix(xp, size, o, x._array.dtype))
        for size, o in zip(shape, out_size)
    ]
    return along_spatial_dims(x, matrices)
