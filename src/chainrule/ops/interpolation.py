# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Interpolation's kernel: a product with a constant resampling matrix along each spatial
dimension, built with PyTorch's source-index rules (bicubic is separable too: PyTorch's 4 x 4
kernel is the outer product of two 1-D cubic convolutions). `chainrule.nn.functional.interpolate`
reads the arguments and runs 'area' as adaptive average pooling. Also affine_grid's op, the
sampling grid of an affine map, which grid_sample then interpolates at.
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.ops import ranges
from chainrule.ops.conversion import cast
from chainrule.ops.linalg import matmul
from chainrule.ops.nn_common import merge_batch, shape_constant, split_batch
from chainrule.ops.op import Op, apply
from chainrule.ops.pooling import along_spatial_dims
from chainrule.ops.shape import reshape, transpose

LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}  # and their spatial dims
INTERPOLATING_MODES = {**LINEAR_MODES, "bicubic": 2}  # the modes that take align_corners
CUBIC_A = -0.75  # the cubic convolution coefficient of PyTorch's bicubic (Keys uses -0.5)


def _nearest_source(xp: Any, size: int, out: int, mode: str, scale: Any, precision: Any) -> Array:
    """PyTorch's nearest source index: floor(ratio * i) (i + 1/2 for nearest-exact), computed
    in `precision` and rounded to float32 before the floor, as its CPU kernels do."""
    rows = xp.arange(out)
    ratio = precision.type(1.0 / scale) if scale else precision.type(size) / precision.type(out)
    position = rows.astype(precision) + (precision.type(0.5) if mode == "nearest-exact" else 0)
    real = (position * ratio).astype(xp.float32)
    return xp.minimum(xp.floor(real).astype(rows.dtype), size - 1)


def _cubic_matrix(
    xp: Any, size: int, out: int, align_corners: bool, scale: float | None, dtype: Any
) -> Array:
    """The (out, size) bicubic matrix: output i reads the 4 samples floor(x) - 1 .. floor(x) + 2
    around its source position x (not clamped at 0, unlike the linear modes), with Keys' cubic
    convolution weights for A = -0.75; samples past an edge read the edge sample (PyTorch's
    border clamping), so a row may add several weights into one column."""
    rows = xp.arange(out)
    if align_corners:
        ratio = (size - 1) / (out - 1) if out > 1 else 0.0
        real = rows.astype(dtype) * dtype.type(ratio)
    else:
        ratio = 1.0 / scale if scale else size / out
        real = (rows.astype(dtype) + dtype.type(0.5)) * dtype.type(ratio) - dtype.type(0.5)
    low = xp.minimum(xp.floor(real).astype(rows.dtype), size - 1)
    t = xp.clip(real - low, 0, 1).astype(dtype)
    a = dtype.type(CUBIC_A)

    def near(x: Array) -> Array:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Array) -> Array:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    columns = xp.arange(size)
    matrix = xp.zeros((out, size), dtype=dtype)
    for offset, weight in enumerate(weights):
        source = xp.clip(low - 1 + offset, 0, size - 1)
        matrix += weight[:, None] * (columns[None, :] == source[:, None])
    return matrix


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


def _antialias_matrix(
    xp: Any, size: int, out: int, mode: str, align_corners: bool, scale: float | None, dtype: Any
) -> Array:
    """The (out, size) matrix of PyTorch's (and PIL's) antialiased resampling: output i
    averages the samples within the filter's support around its centre, the filter (a triangle
    for bilinear, Keys' cubic with a = -0.5 for bicubic) widened by the scale when shrinking,
    so every input sample counts, and its weights normalised to sum to 1. Computed in the
    input's precision, as PyTorch's kernel does."""
    if align_corners:
        ratio = (size - 1) / (out - 1) if out > 1 else 0.0
    else:
        ratio = 1.0 / scale if scale else size / out
    ratio = dtype.type(ratio)
    half_width = 1.0 if mode == "bilinear" else 2.0  # the filter's support at scale 1
    support = dtype.type(half_width * ratio if ratio >= 1 else half_width)
    invscale = dtype.type(1 / ratio if ratio >= 1 else 1.0)
    matrix = xp.zeros((out, size), dtype=dtype)
    for i in range(out):
        centre = ratio * dtype.type(i + 0.5)
        low = max(int(centre - support + dtype.type(0.5)), 0)
        high = min(int(centre + support + dtype.type(0.5)), size)
        x = xp.abs((xp.arange(low, high).astype(dtype) - centre + dtype.type(0.5)) * invscale)
        if mode == "bilinear":
            weights = xp.where(x < 1, 1 - x, 0).astype(dtype)
        else:
            a = dtype.type(-0.5)
            near = ((a + 2) * x - (a + 3)) * x * x + 1
            far = (((x - 5) * x + 8) * x - 4) * a
            weights = xp.where(x < 1, near, xp.where(x < 2, far, 0)).astype(dtype)
        total = weights.sum(dtype=dtype)
        matrix[i, low:high] = weights / total if total != 0 else weights
    return matrix


def resample(
    input: Any,
    out_size: tuple,
    scales: tuple,
    mode: str,
    align_corners: bool,
    antialias: bool = False,
) -> Any:
    """input (N, C, *spatial) resized to `out_size` in a non-area mode of F.interpolate, which
    reads the arguments; `scales` holds the scale factors PyTorch's source indices use (None
    where the size was given). bfloat16 is resampled in float32 and rounded once, as PyTorch's
    kernel does (weights and the pass along each axis rounded to bfloat16 lose 2-4 units)."""
    if input.dtype is dtypes.bfloat16:
        wide = resample(
            cast(input, dtypes.float32), out_size, scales, mode, align_corners, antialias
        )
        return cast(wide, dtypes.bfloat16)
    shape = tuple(input.shape[2:])
    matrices = _resampling_matrices(
        input._backend.xp,
        shape,
        out_size,
        scales,
        mode,
        align_corners,
        antialias,
        input._array.dtype,
    )
    if all(matrix is None for matrix in matrices):
        return input.clone()  # a new tensor, as PyTorch's: writing into it leaves input alone
    return apply(Resample, (input,), tuple(out_size), tuple(scales), mode, align_corners, antialias)


def _resampling_matrices(
    xp: Any,
    shape: tuple,
    out_size: tuple,
    scales: tuple,
    mode: str,
    align_corners: bool,
    antialias: bool,
    dtype: Any,
) -> list:
    """The (out, size) weights of each spatial dimension, None where it is copied as it is."""
    n = len(out_size)
    matrices = []
    for size, out, scale in zip(shape, out_size, scales):
        # linear modes copy a dimension whose size stays, nearest ones unless scaled; PyTorch's
        # 2-D nearest kernel copies it always, and doubles by i // 2, in float32 arithmetic
        planar = mode == "nearest" and n == 2
        kept = (
            mode in LINEAR_MODES or scale is None or planar or (mode == "bicubic" and align_corners)
        )
        if out == size and kept:
            matrices.append(None)
            continue
        if antialias:
            matrix = _antialias_matrix(xp, size, out, mode, align_corners, scale, dtype)
        elif planar:
            matrix = xp.zeros((out, size), dtype=dtype)
            rows = xp.arange(out)
            if out == 2 * size:
                matrix[rows, rows // 2] = 1
            else:
                matrix[rows, _nearest_source(xp, size, out, mode, scale, xp.dtype(xp.float32))] = 1
        elif mode == "bicubic":
            matrix = _cubic_matrix(xp, size, out, align_corners, scale, dtype)
        else:
            matrix = _interpolation_matrix(xp, size, out, mode, align_corners, scale, dtype)
        matrices.append(matrix)
    return matrices


class Resample(Op):
    """F.interpolate's non-area modes: out = input with each spatial dimension i mapped by
    its weights W_i (out_i, size_i). Linear: the vjp maps g back by each W_i^T, the jvp maps
    t by each W_i. The weights are remade from the sizes, not saved, so (as with PyTorch's
    upsample kernels, which save no tensor) a second backward needs no retain_graph."""

    @staticmethod
    def forward(
        ctx: Node,
        x: Array,
        out_size: tuple,
        scales: tuple,
        mode: str,
        align_corners: bool,
        antialias: bool,
    ) -> Array:
        params = (out_size, scales, mode, align_corners, antialias)
        ctx.save(params=params)
        xp = ctx.xp
        for axis, matrix in enumerate(_resampling_matrices(xp, x.shape[2:], *params, x.dtype)):
            if matrix is None:
                continue
            moved = xp.moveaxis(x, 2 + axis, -1)
            rows = xp.matmul(moved.reshape(-1, moved.shape[-1]), matrix.T)
            x = xp.moveaxis(rows.reshape(*moved.shape[:-1], matrix.shape[0]), -1, 2 + axis)
        return xp.ascontiguousarray(x)

    @staticmethod
    def _weights(ctx: Node, like: Any, transposed: bool) -> list:
        in_size = ctx.input_meta[0][0][2:]
        matrices = _resampling_matrices(ctx.xp, in_size, *ctx.params, like._array.dtype)
        return [
            None
            if m is None
            else shape_constant(ctx.xp.ascontiguousarray(m.T if transposed else m))
            for m in matrices
        ]

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (along_spatial_dims(g, Resample._weights(ctx, g, transposed=True)),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return along_spatial_dims(t, Resample._weights(ctx, t, transposed=False))

    @staticmethod
    def batch(b: Any, x: Any, *params: Any) -> Any:
        """vmap: the batch becomes more samples."""
        return split_batch(apply(Resample, (merge_batch(x),), *params), b.size)


# ---- affine_grid -----------------------------------------------------------------------------


def _unit_positions(xp: Any, steps: int, align_corners: bool, dtype: Any) -> Array:
    """The normalized positions in [-1, 1] of `steps` samples: their centres (align_corners)
    or their centres in a grid whose edges are at -1 and 1, as PyTorch computes them."""
    if steps <= 1:
        return xp.zeros(1, dtype=dtype)
    positions = ranges.linspace_values(xp, -1, 1, steps, dtype)
    return positions if align_corners else positions * (steps - 1) / steps


def _affine_base(xp: Any, spatial: tuple, align_corners: bool, dtype: Any) -> Array:
    """(1, P, d + 1): each output point's normalized (x, y[, z], 1), x varying fastest."""
    dims = len(spatial)
    base = xp.ones((*spatial, dims + 1), dtype=dtype)
    for axis in range(dims):  # x runs along the last dimension, y the one before, ...
        dim = dims - 1 - axis
        shape = [1] * dims
        shape[dim] = spatial[dim]
        positions = _unit_positions(xp, spatial[dim], align_corners, dtype)
        base[..., axis] = positions.reshape(shape)
    return base.reshape(1, -1, dims + 1)


class AffineGridGenerator(Op):
    """grid = base @ theta^T reshaped to (N, *spatial, d), base the output points' normalized
    coordinates (x, y[, z], 1). Linear in theta: the vjp is (base^T @ g)^T and the jvp
    base @ t^T, with base remade from the size, not saved, so (as with PyTorch's
    affine_grid_generator, which saves no tensor) a second backward needs no retain_graph."""

    @staticmethod
    def forward(ctx: Node, theta: Array, size: tuple, align_corners: bool) -> Array:
        ctx.save(size=size, align_corners=align_corners)
        xp = ctx.xp
        base = _affine_base(xp, size[2:], align_corners, theta.dtype)
        grid = xp.matmul(base, xp.swapaxes(theta, 1, 2))
        return grid.reshape(size[0], *size[2:], len(size) - 2)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        size = ctx.size
        base = shape_constant(_affine_base(ctx.xp, size[2:], ctx.align_corners, g._array.dtype))
        rows = reshape(g, (size[0], base.shape[1], len(size) - 2))
        return (transpose(matmul(transpose(base, 1, 2), rows), 1, 2),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        size = ctx.size
        base = shape_constant(_affine_base(ctx.xp, size[2:], ctx.align_corners, t._array.dtype))
        return reshape(matmul(base, transpose(t, 1, 2)), (size[0], *size[2:], len(size) - 2))


def affine_grid(theta: Any, size: tuple, align_corners: bool) -> Any:
    """The grid of F.affine_grid, whose arguments it has read and checked."""
    return apply(AffineGridGenerator, (theta,), size, align_corners)
