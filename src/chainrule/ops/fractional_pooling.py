# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Fractional max pooling (Graham, 2014), as torch's fractional_max_pool2d/3d: windows of a
fixed size whose starts are spread pseudo-randomly over the input, so the output can shrink by
any ratio. Each (example, channel) plane draws one number per spatial dimension in [0, 1)
(`_random_samples`, chainrule's generator unless given); PyTorch's formula turns it into the
window starts: start_i = int((i + u) a) - int(u a) with a = (in - k) / (out - 1), computed in
the input's dtype, the last window flush with the input's end.

An exact composition: the windows' elements are gathered (flat positions in each plane) and the
maximum taken, so the gradient reaches each window's maximum (the first one at a tie, as
PyTorch's) and adds up where windows overlap, as PyTorch's backward does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.errors import ShapeError
from chainrule.ops import creation, indexing, reduction, shape

_DIMENSION_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _tuple(value: int | Sequence[int], dims: int) -> tuple[int, ...]:
    return (value,) * dims if isinstance(value, int) else tuple(value)


def _window_starts(xp: Any, samples: Any, size: int, output: int, kernel: int) -> Any:
    """(N, C, output) window starts for per-plane samples u of shape (N, C): PyTorch's
    generate_intervals, in the samples' dtype."""
    dtype = samples.dtype
    starts = xp.full(samples.shape + (output,), size - kernel, dtype=xp.int64)
    if output > 1:
        alpha = xp.asarray(size - kernel, dtype=dtype) / xp.asarray(output - 1, dtype=dtype)
        steps = xp.arange(output - 1, dtype=dtype)
        scaled = (steps + samples[..., None]) * alpha
        offset = (samples * alpha).astype(xp.int64)[..., None]
        starts[..., :-1] = scaled.astype(xp.int64) - offset
    return starts


def _output_size(
    name: str,
    spatial: tuple[int, ...],
    output_size: int | Sequence[int] | None,
    output_ratio: float | Sequence[float] | None,
) -> tuple[int, ...]:
    dims = len(spatial)
    if output_size is not None:
        return _tuple(output_size, dims)
    if output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    ratios = (output_ratio,) * dims if isinstance(output_ratio, (int, float)) else output_ratio
    return tuple(int(size * ratio) for size, ratio in zip(spatial, ratios))


def fractional_max_pool(
    name: str,
    dims: int,
    input: Tensor,
    kernel_size: int | Sequence[int],
    output_size: int | Sequence[int] | None,
    output_ratio: float | Sequence[float] | None,
    random_samples: Tensor | None,
) -> tuple[Tensor, Tensor]:
    """(values, indices) of fractional max pooling over the last `dims` dimensions of an
    (N, C, *spatial) or (C, *spatial) input; indices are flat positions within each plane."""
    if input.ndim not in (dims + 1, dims + 2):
        raise ShapeError(
            f"{name}: expected a {dims + 1}D or {dims + 2}D input, got {tuple(input.shape)}"
        )
    if not input.is_floating_point():
        raise NotImplementedError(f"{name}: not implemented for {input.dtype.name} tensors")
    batched = input.ndim == dims + 2
    x = input if batched else shape.unsqueeze(input, 0)
    batch, channels, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
    kernel = _tuple(kernel_size, dims)
    output = _output_size(name, spatial, output_size, output_ratio)
    # PyTorch's 2-D kernel lets the last window end at the input's end; its 3-D kernel does not
    last_allowed = spatial if dims == 2 else tuple(size - 1 for size in spatial)
    kernel_name = name if dims == 2 else f"{name}_out"
    for label, size, limit, out, k in zip(
        _DIMENSION_NAMES[dims], spatial, last_allowed, output, kernel
    ):
        if out + k - 1 > limit:
            raise RuntimeError(
                f"{kernel_name}(): pool {label} {k} too large relative to input {label} {size}"
            )
    if random_samples is None:
        random_samples = creation.rand(
            (batch, channels, dims), dtype=input.dtype, device=input.device
        )
    if random_samples.shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    xp = x._backend.xp
    samples = random_samples._array[:batch]
    # PyTorch's sample order: (W, H) for 2-D, (T, H, W) for 3-D.
    order = (1, 0) if dims == 2 else (0, 1, 2)
    plane_strides = [math.prod(spatial[d + 1 :]) for d in range(dims)]
    positions = xp.zeros((batch, channels) + (1,) * (2 * dims), dtype=xp.int64)
    for d in range(dims):
        starts = _window_starts(xp, samples[..., order[d]], spatial[d], output[d], kernel[d])
        window_shape = [batch, channels] + [1] * (2 * dims)
        window_shape[2 + d] = output[d]
        taps_shape = [1, 1] + [1] * (2 * dims)
        taps_shape[2 + dims + d] = kernel[d]
        along = starts.reshape(window_shape) + xp.arange(kernel[d]).reshape(taps_shape)
        positions = positions + along * plane_strides[d]
    positions = xp.broadcast_to(positions, (batch, channels) + output + kernel)
    # explicit sizes, not -1: an empty batch reshapes too
    flat_positions = positions.reshape(batch, channels, math.prod(output) * math.prod(kernel))
    index = Tensor._from_array(xp.ascontiguousarray(flat_positions), x._backend)
    planes = shape.reshape(x, (batch, channels, math.prod(spatial)))
    windows = indexing.gather(planes, 2, index)
    windows = shape.reshape(windows, (batch, channels) + output + (math.prod(kernel),))
    values, which = reduction.max(windows, -1)
    window_positions = shape.reshape(index, (batch, channels) + output + (math.prod(kernel),))
    # tensor ops, not arrays: under vmap `which` differs per example
    chosen = indexing.take_along_dim(window_positions, shape.unsqueeze(which, -1), -1)
    indices = shape.squeeze(chosen, -1)
    if not batched:
        values, indices = shape.squeeze(values, 0), shape.squeeze(indices, 0)
    return values, indices
