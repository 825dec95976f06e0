# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Interpolation (PyTorch's F.interpolate): a product with a constant resampling matrix along
each spatial dimension, built with PyTorch's source-index rules; 'area' is adaptive average
pooling.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.backend import Array
from chainrule.errors import ShapeError
from chainrule.ops.nn_common import (
    check_floating,
    constant,
    ntuple,
)
from chainrule.ops.pooling import _adaptive_avg_pool, along_spatial_dims


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
    check_floating("interpolate", input=input)
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
        out_size = ntuple("interpolate", "size", size, n)
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
        matrices.append(constant(matrix))
    return along_spatial_dims(input, matrices)
