"""The values of `arange` and `linspace` as PyTorch's CPU kernels round them.

A program sees these roundings: `linspace(-2.5, 10, 7)[3]` is 3.7500002 in PyTorch, not 3.75,
and everything computed from a grid inherits its last bits. NumPy's formulas round
differently (its arange steps by `(start + step) - start`, its linspace by `i * step + start`
with the end patched in), so chainrule computes the kernels' own formulas, in the same order,
with the same fused multiply-adds (what the compiler makes of `start + step * i`):

- arange: `start + step * i` in float64 (PyTorch's accumulate type for float32 too), cast to the
  dtype. Runs of 2 x 256-bit vectors (4 float64 or 8 float32 lanes) take a base per vector,
  `start + step * i0`, cast to the dtype, then `base + k * step` per lane; the last elements
  of each chunk, too few for two vectors, are the scalar formula. Above 32,768 elements the
  range is cut into one chunk per intra-op thread (at::parallel_for), each vectorised from its
  own start.
- linspace: `step = (end - start) / (steps - 1)` in the dtype (float64 for integer dtypes),
  then `start + step * i` for the first half and `end - step * (steps - 1 - i)` for the rest,
  so both ends are exact; in float16 and bfloat16 each operation rounds to the dtype.
- float16 and bfloat16 aranges take the scalar formula throughout.

Found by fitting PyTorch 2.13's outputs on this machine (an AVX512 build; its arange kernel
runs 256-bit vectors): equal bit for bit on every random call tried, and
tests/test_creation_rounding.py keeps 150 calls of each per dtype, and ranges long enough to be
cut per thread.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.backend.parallel import get_threads

_GRAIN = 32768  # at::internal::GRAIN_SIZE
_VECTOR_BYTES = 32  # 256-bit vectors
_SPLITTER = 134217729.0  # 2**27 + 1: Veltkamp's split of a float64 into two 26-bit halves


def fused_multiply_add(xp: Any, scale: float, counts: Any, addend: Any) -> Any:
    """`scale * counts + addend` rounded once, in float64, as a fused multiply-add: `counts`
    hold whole numbers below 2**26, so both halves of the split `scale` multiply them exactly,
    and the exact sum's error is carried into the last addition (correctly rounded but for
    ties so rare that no measured case meets one)."""
    scaled = _SPLITTER * scale
    high = scaled - (scaled - scale)
    low = scale - high
    first = high * counts
    total = addend + first
    back = total - addend
    error = (addend - (total - back)) + (first - back)
    return total + (error + low * counts)


def _chunks(count: int) -> list[tuple[int, int]]:
    """at::parallel_for's chunks of range(count): one per intra-op thread above the grain."""
    threads = get_threads()
    if count <= _GRAIN or threads == 1:
        return [(0, count)]
    tasks = min(threads, -(-count // _GRAIN))
    size = -(-count // tasks)
    return [(begin, min(begin + size, count)) for begin in range(0, count, size)]


def arange_values(xp: Any, start: float, step: float, count: int, dtype: Any) -> Any:
    """`count` values start, start + step, ... of a floating `dtype`: float32 and float64 in
    the kernel's vector runs; float16 and bfloat16 by the scalar formula alone."""
    index = xp.arange(count, dtype="float64")
    values = fused_multiply_add(xp, step, index, start).astype(dtype)  # the scalar formula
    if dtype.itemsize not in (4, 8):
        return values
    lanes = _VECTOR_BYTES // dtype.itemsize
    for begin, end in _chunks(count):
        vectorised = (end - begin) // (2 * lanes) * (2 * lanes)
        if vectorised == 0:
            continue
        span = index[begin : begin + vectorised]
        lane = (span - begin) % lanes
        base = fused_multiply_add(xp, step, span - lane, start).astype(dtype)
        lane_values = fused_multiply_add(xp, step, lane, base.astype("float64"))
        values[begin : begin + vectorised] = lane_values.astype(dtype)
    return values


def linspace_values(xp: Any, start: float, end: float, steps: int, dtype: Any) -> Any:
    """`steps` values from `start` to `end`, of a real floating or integer `dtype`."""
    if steps <= 1:
        return xp.full((steps,), start).astype(dtype)
    if dtype.itemsize == 2 and dtype.kind in "fV":  # float16, bfloat16: each operation rounded
        return _linspace_rounding_each_step(xp, start, end, steps, dtype)
    floating = dtype.kind == "f"
    if floating:
        first, last = dtype.type(start), dtype.type(end)
        step = float((last - first) / dtype.type(steps - 1))
        first, last = float(first), float(last)
    else:  # integers step in float64, from the bounds as the dtype holds them (-2 is 254)
        first, last = (float(xp.asarray(math.trunc(b)).astype(dtype)) for b in (start, end))
        step = (last - first) / (steps - 1)
    index = xp.arange(steps, dtype="float64")
    halfway = steps // 2
    values = xp.empty(steps, dtype="float64")
    values[:halfway] = fused_multiply_add(xp, step, index[:halfway], first)
    values[halfway:] = fused_multiply_add(xp, -step, steps - 1 - index[halfway:], last)
    if floating:
        return values.astype(dtype)
    return xp.trunc(values).astype(dtype)


def _linspace_rounding_each_step(xp: Any, start: float, end: float, steps: int, dtype: Any) -> Any:
    """linspace in a 16-bit float dtype, whose kernel rounds after every operation (no FMA):
    the step, each offset step * i and each sum."""
    first, last = xp.asarray(start).astype(dtype), xp.asarray(end).astype(dtype)
    step = ((last - first) / xp.asarray(steps - 1).astype(dtype)).astype(dtype)
    index = xp.arange(steps, dtype="float64")
    rising = index < steps // 2
    offsets = step * xp.where(rising, index, steps - 1 - index).astype(dtype)
    return xp.where(rising, first + offsets, last - offsets).astype(dtype)
