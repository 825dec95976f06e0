"""Compiled fast paths for host arrays, used when numba (the optional `chainrule[fast]` extra)
is installed: one pass each (backend/jit_kernels.py) where NumPy takes several, for the exact
GELU and its backward, SiLU and its backward, the float32 normal CDF, layer norm's rows
(with the affine part, and its backward with the parameters' gradients), batch norm's
channels (and their running statistics), group norm with its affine part (and its backward),
running sums (cumsum), softmax's rows (and causal
attention's), 2 x 2 max pooling, the gradient scatters of max pooling and embeddings, the
2-D transposed convolution's col2im, 2-D depthwise convolution (groups = input channels:
forward and both gradients as direct loops, where the columns path runs a tiny product per
sample and channel), and topk's leaders (a heap per row, where NumPy partitions and sorts).
A kernel is here only where it beats NumPy by a margin worth numba's load (about 0.7 s and
150 MiB of LLVM per process): ReLU's backward in one pass measured 2-5%
faster than its NumPy passes on W3's and W4's shapes, so it has none, and an MLP never loads
numba.

Each function here returns None or False where it has no kernel for its operands (numba
missing, JIT off, another dtype or layout, an array too small to be worth numba's import), and
the caller computes the NumPy way: the NumpyBackend methods of backend/arrays.py are the only
callers. With `CHAINRULE_JIT=0` in the environment (read once, at import: the switch
chainrule.compile's fusion reads too) or `jit.JIT = False`, every result is the NumPy path's.

Results agree with the NumPy path's to float rounding (most kernels compute in float64 and round
once, the NumPy path rounds at each pass; softmax's float32 rows and layer norm's backward
compute in float32 lanes, as PyTorch does), bit for bit where no arithmetic changes order (max
pooling, the scatters); the work splits over the intra-op threads in blocks
whose elements do not depend on the split (tests/test_jit_kernels.py).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from chainrule.backend.parallel import parallel_blocks, parallel_for

# Whether the kernels are used when numba is installed.
JIT = os.environ.get("CHAINRULE_JIT", "1") != "0"
# The fewest elements for which a kernel is used. The first use imports numba and loads the
# compiled kernels from numba's disk cache (0.7-0.8 s and about 130 MiB of memory, once per
# process; compiling them with a cold cache, once per machine, 2.6 s); below this size a NumPy
# call takes tens of microseconds at most, so a script that never sees a larger array never
# pays that.
MIN_ELEMENTS = 1 << 14

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_CHUNK_BYTES = 1 << 20  # the transposed convolution's columns per product: cache-sized

_kernels: Any = None  # backend/jit_kernels.py once imported; False when numba is missing


def kernels() -> Any:
    """The compiled kernels' module, or None when numba is not installed or JIT is off."""
    global _kernels
    if not JIT:
        return None
    if _kernels is None:
        try:
            import chainrule.backend.jit_kernels as module
        except ImportError:  # numba is not installed (the module imports it at its top)
            module = False
        _kernels = module
    return _kernels or None


def _float32_kernels(*arrays: np.ndarray) -> Any:
    """The kernels when every array is float32 and large enough, else None."""
    if arrays[0].size < MIN_ELEMENTS:
        return None
    if any(array.dtype != np.float32 for array in arrays):
        return None
    return kernels()


def _flat(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array).reshape(-1)


def _elementwise_float32(name: str, *inputs: np.ndarray, outputs: int = 1) -> tuple | None:
    """The kernel `name`(*inputs, *outputs) element by element over float32 arrays of one
    shape (a broadcast one is made contiguous), split over the threads: the outputs, of the
    inputs' shape, or None without a kernel."""
    shape = inputs[0].shape
    if any(array.shape != shape for array in inputs):
        return None
    module = _float32_kernels(*inputs)
    if module is None:
        return None
    kernel = getattr(module, name)
    flats = [_flat(array) for array in inputs]
    results = [np.empty_like(flats[0]) for _ in range(outputs)]

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        kernel(*(flat[part] for flat in flats), *(result[part] for result in results))

    parallel_for(flats[0].size, block)
    return tuple(result.reshape(shape) for result in results)


def _first(results: tuple | None) -> np.ndarray | None:
    return None if results is None else results[0]


def normal_cdf_float32(x: np.ndarray) -> np.ndarray | None:
    """Phi(x) for a float32 array, or None without a kernel."""
    return _first(_elementwise_float32("normal_cdf", x))


def gelu_float32(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(x Phi(x), Phi(x)) for a float32 array, or None without a kernel."""
    return _elementwise_float32("gelu", x, outputs=2)  # type: ignore[return-value]


def gelu_backward_float32(g: np.ndarray, x: np.ndarray, cdf: np.ndarray) -> np.ndarray | None:
    """g (Phi(x) + x phi(x)) for float32 arrays of one shape, Phi(x) the forward's `cdf`, or
    None without a kernel (or when g must broadcast)."""
    return _first(_elementwise_float32("gelu_backward", g, x, cdf))


def silu_float32(x: np.ndarray) -> np.ndarray | None:
    """x sigmoid(x) for a float32 array (computed in float64), or None without a kernel."""
    return _first(_elementwise_float32("silu32", x))


def silu_backward_float32(g: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """g s (1 + x (1 - s)), s = sigmoid(x), for float32 arrays of one shape, or None without
    a kernel."""
    return _first(_elementwise_float32("silu_backward32", g, x))


def window_max_2x2(
    padded: np.ndarray, padding: tuple, width: int, out: np.ndarray, flat: np.ndarray
) -> bool:
    """Max pooling's 2 x 2 windows at stride 2 over a float (N, C, H, W) array padded with
    -inf: the maxima into `out` and their flat indices in the unpadded plane (rows of `width`)
    into `flat`, split over the samples. False (nothing written) without a kernel."""
    if padded.ndim != 4 or padded.dtype not in _FLOATS or padded.size < MIN_ELEMENTS:
        return False
    if padded.shape[2] < 2 * out.shape[2] or padded.shape[3] < 2 * out.shape[3]:
        return False  # every window must lie inside `padded`: the kernel reads unchecked
    module = kernels()
    if module is None:
        return False
    leading = (padding[0][0], padding[1][0])

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        module.window_max_2x2(padded[part], leading, width, out[part], flat[part])

    parallel_for(padded.shape[0], block, math.prod(padded.shape[1:]))
    return True


def _contiguous_kernels(ndim: int, arrays: tuple) -> Any:
    """The kernels when the first array has `ndim` dimensions and enough elements, and every
    array is C-contiguous, of one float dtype."""
    first = arrays[0]
    if first.ndim != ndim or first.dtype not in _FLOATS or first.size < MIN_ELEMENTS:
        return None
    if any(a.dtype != first.dtype or not a.flags.c_contiguous for a in arrays):
        return None
    return kernels()


def _row_kernels(*rows: np.ndarray) -> Any:
    """The kernels for rows: 2-D (R, D) arrays (see _contiguous_kernels)."""
    return _contiguous_kernels(2, rows)


def standardize_rows(x: np.ndarray, out: np.ndarray, rstd: np.ndarray, eps: float) -> bool:
    """Layer norm's core along the rows of x (R, D) into `out` and `rstd` (R, 1), split over
    the rows; False (nothing written) without a kernel."""
    module = _row_kernels(x, out, rstd)
    if module is None:
        return False

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        module.standardize_rows(x[part], out[part], rstd[part], eps)

    parallel_for(x.shape[0], block, x.shape[1])
    return True


def standardize_backward_rows(
    g: np.ndarray, out: np.ndarray, rstd: np.ndarray, result: np.ndarray
) -> bool:
    """rstd (g - mean(g) - out mean(g out)) along rows into `result`; False without a kernel.
    A broadcast g is made contiguous once, as in layer_norm_backward_rows."""
    module = _row_kernels(out, rstd, result)
    if module is None or g.shape != out.shape or g.dtype != out.dtype:
        return False
    g = np.ascontiguousarray(g)

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        module.standardize_backward_rows(g[part], out[part], rstd[part], result[part])

    parallel_for(g.shape[0], block, g.shape[1])
    return True


def _channel_kernels(*arrays: np.ndarray) -> Any:
    """The kernels for batch norm's layout per channel C: 3-D (A, C, S) arrays (see
    _contiguous_kernels)."""
    return _contiguous_kernels(3, arrays)


def standardize_channels(x: np.ndarray, out: np.ndarray, rstd: np.ndarray, eps: float) -> bool:
    """Batch norm's core: x (A, C, S) standardized per channel C over A and S into `out`,
    rstd (C,) into `rstd`, split over the channels; False (nothing written) without a kernel."""
    module = _channel_kernels(x, out, rstd)
    if module is None or x.shape != out.shape or rstd.shape != (x.shape[1],):
        return False

    def block(start: int, stop: int) -> None:
        module.standardize_channels(x, out, rstd, start, stop, eps)

    parallel_for(x.shape[1], block, x.shape[0] * x.shape[2])
    return True


def standardize_backward_channels(
    g: np.ndarray, out: np.ndarray, rstd: np.ndarray, result: np.ndarray
) -> bool:
    """Its backward per channel: result = rstd (g - mean(g) - out mean(g out)); a broadcast g
    is made contiguous once. False (nothing written) without a kernel."""
    module = _channel_kernels(out, rstd, result)
    if module is None or not g.shape == out.shape == result.shape or g.dtype != out.dtype:
        return False
    g = np.ascontiguousarray(g)

    def block(start: int, stop: int) -> None:
        module.standardize_backward_channels(g, out, rstd, result, start, stop)

    parallel_for(out.shape[1], block, out.shape[0] * out.shape[2])
    return True


def channel_moments(x: np.ndarray, correction: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The mean and variance (dividing by A S - correction) of each channel C of x (A, C, S),
    in float64, or None without a kernel."""
    module = _channel_kernels(x)
    if module is None:
        return None
    mean = np.empty(x.shape[1])
    variance = np.empty(x.shape[1])

    def block(start: int, stop: int) -> None:
        module.channel_moments(x, mean, variance, start, stop, correction)

    parallel_for(x.shape[1], block, x.shape[0] * x.shape[2])
    return mean, variance


def running_sums(x: np.ndarray, reverse: bool) -> np.ndarray | None:
    """cumsum along axis 1 of a float x (A, L, S), summed in float64 and rounded once into
    x's dtype (PyTorch's accumulation for float32), from the end when `reverse`; split over A,
    or over S when A is smaller than the threads. None without a kernel."""
    if x.ndim != 3 or x.dtype not in _FLOATS or x.size < MIN_ELEMENTS:
        return None
    module = kernels()
    if module is None:
        return None
    x = np.ascontiguousarray(x)
    out = np.empty(x.shape, dtype=x.dtype)
    outer, length, inner = x.shape
    if outer >= parallel_blocks(x.size) or inner == 1:

        def block(start: int, stop: int) -> None:
            module.running_sums(x, out, reverse, start, stop, 0, inner)

        parallel_for(outer, block, length * inner)
    else:

        def block(start: int, stop: int) -> None:
            module.running_sums(x, out, reverse, 0, outer, start, stop)

        parallel_for(inner, block, outer * length)
    return out


def layer_norm_rows(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    y: np.ndarray,
    out: np.ndarray,
    rstd: np.ndarray,
    eps: float,
) -> bool:
    """Layer norm with its affine part along the rows of x (R, D): out = (x - mean) rstd
    and y = out weight + bias into `y` and `out`, rstd into `rstd` (R, 1), weight and bias
    of shape (D,), split over the rows; False (nothing written) without a kernel."""
    if not x.shape == y.shape == out.shape or rstd.shape != (x.shape[0], 1):
        return False
    module = _row_kernels(x, y, out, rstd)
    if module is None or not _vectors(x, weight, bias):
        return False

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        module.layer_norm_rows(x[part], weight, bias, y[part], out[part], rstd[part], eps)

    parallel_for(x.shape[0], block, x.shape[1])
    return True


# Rows per partial sum of layer norm's weight and bias gradients: the unit of work the threads
# share, so the sums do not depend on the split.
LAYER_NORM_CHUNK = 64


def layer_norm_backward_rows(
    g: np.ndarray,
    out: np.ndarray,
    rstd: np.ndarray,
    weight: np.ndarray,
    result: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Layer norm's backward along rows in one pass: result = rstd (g w - mean(g w) - out
    mean(g w out)) into `result`, and returned, the weight's and the bias's gradients (the
    sums of g out and of g down the rows); None (nothing written) without a kernel. The rows
    go to the threads in chunks of LAYER_NORM_CHUNK rows, each chunk's sums (in g's dtype)
    kept apart and then added in order in float64: the same bits on any number of threads."""
    if not g.shape == out.shape == result.shape or rstd.shape != (g.shape[0], 1):
        return None
    module = _row_kernels(out, rstd, result)
    if module is None or g.dtype != out.dtype or not _vectors(g, weight):
        return None
    # A broadcast cotangent (the backward of a sum or a mean) is made contiguous once, as
    # PyTorch's kernel does: a copy costs a fifth of the NumPy passes it saves.
    g = np.ascontiguousarray(g)
    rows, size = g.shape
    chunks = -(-rows // LAYER_NORM_CHUNK)
    sums_weight = np.zeros((chunks, size), dtype=g.dtype)
    sums_bias = np.zeros((chunks, size), dtype=g.dtype)

    def block(start: int, stop: int) -> None:
        part = slice(start * LAYER_NORM_CHUNK, stop * LAYER_NORM_CHUNK)
        module.layer_norm_backward_rows(
            g[part],
            out[part],
            rstd[part],
            weight,
            result[part],
            sums_weight[start:stop],
            sums_bias[start:stop],
            LAYER_NORM_CHUNK,
        )

    parallel_for(chunks, block, LAYER_NORM_CHUNK * size)
    grad_weight = sums_weight.sum(axis=0, dtype=np.float64).astype(g.dtype)
    grad_bias = sums_bias.sum(axis=0, dtype=np.float64).astype(g.dtype)
    return grad_weight, grad_bias


def group_norm_rows(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    y: np.ndarray,
    out: np.ndarray,
    rstd: np.ndarray,
    eps: float,
) -> bool:
    """Group norm with its affine part over x (R, K, S) (R samples times G groups, K channels
    per group, S positions), weight and bias (G, K): out = (x - mean) rstd over each row's K S
    elements and y = out weight + bias per channel into `y` and `out`, rstd into `rstd` (R,),
    split over the rows; False (nothing written) without a kernel."""
    if not x.shape == y.shape == out.shape or rstd.shape != (x.shape[0],):
        return False
    module = _contiguous_kernels(3, (x, y, out, rstd, weight, bias))
    if module is None or not _group_vectors(x, weight, bias):
        return False
    groups = weight.shape[0]

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        module.group_norm_rows(
            x[part], weight, bias, y[part], out[part], rstd[part], groups, start, eps
        )

    parallel_for(x.shape[0], block, x.shape[1] * x.shape[2])
    return True


def group_norm_backward_rows(
    g: np.ndarray, out: np.ndarray, rstd: np.ndarray, weight: np.ndarray, result: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Group norm's backward over rows (R, K, S) in one pass per row: result = rstd (g w -
    mean(g w) - out mean(g w out)) into `result`, and returned, the weight's and the bias's
    gradients (G, K) (the sums of g out and of g over the samples and positions: per row and
    channel in the kernel, then down the samples in float64, so the same bits on any number
    of threads); None (nothing written) without a kernel."""
    if not g.shape == out.shape == result.shape or rstd.shape != (g.shape[0],):
        return None
    module = _contiguous_kernels(3, (out, rstd, result, weight))
    if module is None or g.dtype != out.dtype or not _group_vectors(out, weight):
        return None
    g = np.ascontiguousarray(g)  # a broadcast cotangent, once (see layer_norm_backward_rows)
    groups, channels = weight.shape
    sums_weight = np.empty((g.shape[0], channels))
    sums_bias = np.empty((g.shape[0], channels))

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        module.group_norm_backward_rows(
            g[part],
            out[part],
            rstd[part],
            weight,
            result[part],
            sums_weight[part],
            sums_bias[part],
            groups,
            start,
        )

    parallel_for(g.shape[0], block, g.shape[1] * g.shape[2])
    per_group = (-1, groups * channels)
    grad_weight = sums_weight.reshape(per_group).sum(axis=0).astype(g.dtype)
    grad_bias = sums_bias.reshape(per_group).sum(axis=0).astype(g.dtype)
    return grad_weight.reshape(weight.shape), grad_bias.reshape(weight.shape)


def _group_vectors(rows: np.ndarray, *parameters: np.ndarray) -> bool:
    """Whether each parameter is a C-contiguous (G, K) of the rows' dtype, G dividing the rows
    and K the rows' channels."""
    return all(
        p.ndim == 2
        and p.shape[1] == rows.shape[1]
        and rows.shape[0] % p.shape[0] == 0
        and p.dtype == rows.dtype
        and p.flags.c_contiguous
        for p in parameters
    )


def _vectors(rows: np.ndarray, *vectors: np.ndarray) -> bool:
    """Whether each vector is C-contiguous, of the rows' dtype and width."""
    width = rows.shape[1]
    return all(
        v.ndim == 1 and v.shape[0] == width and v.dtype == rows.dtype and v.flags.c_contiguous
        for v in vectors
    )


def softmax_rows(x: np.ndarray, out: np.ndarray) -> bool:
    """softmax along the rows of a float32 x (R, D) into `out`, split over the rows; False
    (nothing written) without a kernel (float64 too: the kernel computes in float32 lanes)."""
    module = _row_kernels(x, out) if x.dtype == np.float32 else None
    if module is None:
        return False

    def block(start: int, stop: int) -> None:
        rows = x[start:stop]
        # NumPy's row maxima are vectorised; the kernel's own select loop was not (a float
        # max without fast-math flags stays scalar): (512, 1000) 0.46 -> 0.26 ms, same bits
        module.softmax_rows(rows, rows.max(axis=1), out[start:stop])

    parallel_for(x.shape[0], block, x.shape[1])
    return True


def cross_entropy_rows(x: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """-log softmax(x)[target] along the rows of a float32 x (R, D) for int64 targets (R,),
    split over the rows; None without a kernel or with a target out of range (the caller's
    NumPy path then raises as it does)."""
    module = _row_kernels(x) if x.dtype == np.float32 else None
    if module is None or target.dtype != np.int64 or target.shape != x.shape[:1]:
        return None
    if target.size and (target.min() < 0 or target.max() >= x.shape[1]):
        return None
    target = np.ascontiguousarray(target)
    loss = np.empty(x.shape[0], dtype=x.dtype)

    def block(start: int, stop: int) -> None:
        rows = x[start:stop]
        module.cross_entropy_rows(rows, rows.max(axis=1), target[start:stop], loss[start:stop])

    parallel_for(x.shape[0], block, x.shape[1])
    return loss


def scaled_causal_softmax_rows(x: np.ndarray, out: np.ndarray, scale: float, length: int) -> bool:
    """softmax(x * scale) over the first (r mod length) + 1 columns of each row r of a float32
    x (R, S), zeros after them, into `out`, split over the rows; False (nothing written)
    without a kernel."""
    module = _row_kernels(x, out) if x.dtype == np.float32 else None
    if module is None or x.shape != out.shape:
        return False
    factor = np.float32(scale)  # x * scale rounds as NumPy's float32 product does

    def block(start: int, stop: int) -> None:
        module.scaled_causal_softmax_rows(x[start:stop], out[start:stop], factor, length, start)

    parallel_for(x.shape[0], block, x.shape[1])
    return True


def softmax_backward_rows(g: np.ndarray, out: np.ndarray, result: np.ndarray) -> bool:
    """out (g - sum(g out)) along rows into `result`; False without a kernel."""
    module = _row_kernels(g, out, result)
    if module is None:
        return False

    def block(start: int, stop: int) -> None:
        module.softmax_backward_rows(g[start:stop], out[start:stop], result[start:stop])

    parallel_for(g.shape[0], block, g.shape[1])
    return True


def assign_at(target: np.ndarray, index: np.ndarray, values: np.ndarray) -> bool:
    """target[index] = values for a C-contiguous float `target` and distinct int64 indices
    into it, values of index's shape; False when there is no kernel or an index is out of
    range (the caller's NumPy assignment then raises or wraps, as NumPy does)."""
    if target.dtype not in _FLOATS or values.dtype != target.dtype or index.dtype != np.int64:
        return False
    if values.shape != index.shape or index.size < MIN_ELEMENTS or target.ndim != 1:
        return False
    module = kernels()
    if module is None:
        return False
    flat_index, flat_values = _flat(index), _flat(values)
    return bool(module.assign_at(target, flat_index, flat_values))


def add_rows(target: np.ndarray, index: np.ndarray, values: np.ndarray) -> bool:
    """target[index] += values for an integer index into the first axis of a C-contiguous
    float target (an embedding's gradient), values of shape index.shape + target.shape[1:],
    the rows accumulated in index order, as np.add.at does; False without a kernel, or when an
    index is out of range (checked first: the caller's NumPy path then raises, as NumPy does)."""
    if target.dtype not in _FLOATS or values.dtype != target.dtype or index.dtype.kind not in "iu":
        return False
    if not target.flags.c_contiguous or target.ndim < 1 or values.size < MIN_ELEMENTS:
        return False
    flat_index = index.reshape(-1)
    if flat_index.size and (
        flat_index.min() < -target.shape[0] or flat_index.max() >= target.shape[0]
    ):
        return False
    module = kernels()
    if module is None:
        return False
    rows = target.reshape(target.shape[0], -1)
    flat_values = _flat(values).reshape(flat_index.size, rows.shape[1])
    return bool(module.add_rows(rows, flat_index.astype(np.int64, copy=False), flat_values))


def _along(array: np.ndarray, dim: int) -> tuple:
    """`array`'s shape as (A, D, S) around dimension `dim`: the layout of the along kernels."""
    shape = array.shape
    return math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1 :])


def _along_operands(data: np.ndarray, index: np.ndarray, dim: int, *others: np.ndarray) -> Any:
    """The kernels for a gather or scatter along `dim` of a float `data` with an int64 index of
    data's shape but in `dim` (and `others` of the index's shape and data's dtype), big
    enough; None otherwise (a smaller index in another dimension keeps the NumPy path)."""
    if data.dtype not in _FLOATS or index.dtype != np.int64 or index.ndim != data.ndim:
        return None
    if index.size < MIN_ELEMENTS or any(o.shape != index.shape for o in others):
        return None
    if any(o.dtype != data.dtype for o in others):
        return None
    if any(i != n for axis, (i, n) in enumerate(zip(index.shape, data.shape)) if axis != dim):
        return None
    return kernels()


def gather_along(x: np.ndarray, index: np.ndarray, dim: int) -> np.ndarray | None:
    """x gathered at `index` along `dim` (torch.gather), split over the leading positions;
    None without a kernel or with an index out of range (the NumPy path then raises)."""
    module = _along_operands(x, index, dim)
    if module is None:
        return None
    x3 = np.ascontiguousarray(x).reshape(_along(x, dim))
    index3 = np.ascontiguousarray(index).reshape(_along(index, dim))
    out = np.empty(index.shape, dtype=x.dtype)
    out3 = out.reshape(index3.shape)
    failed = []

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        if not module.gather_along(x3[part], index3[part], out3[part]):
            failed.append(start)

    parallel_for(index3.shape[0], block, index3.shape[1] * index3.shape[2])
    return None if failed else out


def scatter_add_along(target: np.ndarray, index: np.ndarray, values: np.ndarray, dim: int) -> bool:
    """target += values scattered at `index` along `dim` (torch.scatter_add_) for a
    C-contiguous target, in np.add.at's order; False (nothing written) without a kernel or
    with an index out of range. Split over the leading positions, each of which only its own
    block writes."""
    module = _along_operands(target, index, dim, values)
    if module is None or not target.flags.c_contiguous:
        return False
    index3 = np.ascontiguousarray(index).reshape(_along(index, dim))
    if index3.min() < 0 or index3.max() >= target.shape[dim]:
        return False  # checked before any block writes
    target3 = target.reshape(_along(target, dim))
    values3 = np.ascontiguousarray(values).reshape(index3.shape)

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        module.scatter_add_along(target3[part], index3[part], values3[part])

    parallel_for(index3.shape[0], block, index3.shape[1] * index3.shape[2])
    return True


def transposed_convolution_2d(
    g: np.ndarray,
    w: np.ndarray,
    stride: tuple,
    padding: tuple,
    dilation: tuple,
    in_size: tuple,
) -> np.ndarray | None:
    """The 2-D transposed convolution (one group) of g (N, C_out, OH, OW) with w (C_out, C,
    k_h, k_w) to (N, C, *in_size), as one wide product and a compiled col2im: g's rows
    (N OH OW, C_out) times w as (C_out, k_h k_w C) gives every tap's contribution at once, and
    `col2im_2d` adds them into a channels-last image, split over the samples. None without a
    kernel. The one product beats k_h k_w narrow ones (C outputs wide) or a forward convolution
    of g (C outputs wide too): LeNet's conv2 input gradient, (12544, 32) @ (32, 400), runs
    at twice their rate in OpenBLAS here."""
    if g.ndim != 4 or g.dtype not in _FLOATS or w.dtype != g.dtype or g.size < MIN_ELEMENTS:
        return None
    module = kernels()
    if module is None:
        return None
    batch, out_channels, out_h, out_w = g.shape
    channels, kernel_h, kernel_w = w.shape[1:]
    rows = np.ascontiguousarray(np.moveaxis(g, 1, -1)).reshape(-1, out_channels)
    taps = w.reshape(out_channels, channels, kernel_h * kernel_w).transpose(0, 2, 1)
    weights = np.ascontiguousarray(taps).reshape(out_channels, -1)
    image = np.zeros((batch, *in_size, channels), dtype=g.dtype)
    geometry = ((out_h, out_w), (kernel_h, kernel_w), stride, (padding[0][0], padding[1][0]))
    per_sample = out_h * out_w
    # a few samples at a time, so their columns stay in cache between product and scatter
    chunk = max(1, _CHUNK_BYTES // (per_sample * weights.shape[1] * g.itemsize))
    columns = np.empty((chunk * per_sample, weights.shape[1]), dtype=g.dtype)
    for start in range(0, batch, chunk):
        stop = min(start + chunk, batch)
        part = columns[: (stop - start) * per_sample]
        np.matmul(rows[start * per_sample : stop * per_sample], weights, out=part)
        module.col2im_2d(part, *geometry, dilation, image[start:stop])
    return np.ascontiguousarray(image.transpose(0, 3, 1, 2))


def _depthwise_geometry(x_shape: tuple, w_shape: tuple, geometry: tuple) -> tuple | None:
    """(stride, leading padding, dilation) of a 2-D depthwise convolution (groups = input
    channels, one input channel per group) of an x and a w of these shapes, as the kernels take
    them; None for any other convolution."""
    stride, padding, dilation, groups = geometry
    if len(x_shape) != 4 or len(w_shape) != 4 or groups < 2 or groups != x_shape[1]:
        return None
    if w_shape[1] != 1 or w_shape[0] % groups:
        return None
    return tuple(stride), (padding[0][0], padding[1][0]), tuple(dilation)


def _depthwise_kernels(*arrays: np.ndarray) -> Any:
    """The kernels for real float operands of one dtype, the largest big enough."""
    first = arrays[0]
    if first.dtype not in _FLOATS or any(a.dtype != first.dtype for a in arrays):
        return None
    if max(a.size for a in arrays) < MIN_ELEMENTS:
        return None
    return kernels()


def depthwise_convolution_2d(x: np.ndarray, w: np.ndarray, geometry: tuple) -> np.ndarray | None:
    """The 2-D depthwise convolution (groups = input channels) of x (N, C, H, W) with w
    (C m, 1, k_h, k_w): (N, C m, OH, OW), split over the samples; None without a kernel. The
    windows path copies every window and runs one tiny product per sample and channel: a
    MobileNet-style (32, 64, 32, 32) 3 x 3 layer's forward took 17 ms against PyTorch's 1.9."""
    kept = _depthwise_geometry(x.shape, w.shape, geometry)
    module = None if kept is None else _depthwise_kernels(x, w)
    if module is None:
        return None
    stride, leading, dilation = kept
    padding = geometry[1]
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    out_size = tuple(
        (size + lo + hi - d * (k - 1) - 1) // s + 1
        for size, k, s, (lo, hi), d in zip(x.shape[2:], w.shape[2:], stride, padding, dilation)
    )
    out = np.empty((x.shape[0], w.shape[0], *out_size), dtype=x.dtype)

    def block(start: int, stop: int) -> None:
        module.depthwise_2d(x[start:stop], w, stride, leading, dilation, out[start:stop])

    parallel_for(x.shape[0], block, math.prod(out.shape[1:]))
    return out


def depthwise_input_grad_2d(
    g: np.ndarray, w: np.ndarray, geometry: tuple, in_size: tuple
) -> np.ndarray | None:
    """The adjoint in x of `depthwise_convolution_2d`: g (N, C m, OH, OW) to (N, C, *in_size),
    split over the samples; None without a kernel."""
    x_shape = (g.shape[0], geometry[3], *in_size)
    kept = _depthwise_geometry(x_shape, w.shape, geometry)
    module = None if kept is None else _depthwise_kernels(g, w)
    if module is None:
        return None
    stride, leading, dilation = kept
    g, w = np.ascontiguousarray(g), np.ascontiguousarray(w)
    grad_x = np.empty(x_shape, dtype=g.dtype)

    def block(start: int, stop: int) -> None:
        module.depthwise_2d_input_grad(
            g[start:stop], w, stride, leading, dilation, grad_x[start:stop]
        )

    parallel_for(g.shape[0], block, math.prod(g.shape[1:]))
    return grad_x


def depthwise_weight_grad_2d(
    x: np.ndarray, g: np.ndarray, geometry: tuple, kernel: tuple
) -> np.ndarray | None:
    """The adjoint in w of `depthwise_convolution_2d`: (C m, 1, *kernel), split over the
    output channels, each summed in float64 in one order (the same bits on any number of
    threads); None without a kernel."""
    shape = (g.shape[1], 1, *kernel)
    kept = _depthwise_geometry(x.shape, shape, geometry)
    module = None if kept is None else _depthwise_kernels(x, g)
    if module is None:
        return None
    stride, leading, dilation = kept
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    grad_w = np.empty(shape, dtype=x.dtype)

    def block(start: int, stop: int) -> None:
        module.depthwise_2d_weight_grad(x, g, stride, leading, dilation, start, grad_w[start:stop])

    per_channel = g.shape[0] * math.prod(g.shape[2:]) * math.prod(kernel)
    parallel_for(shape[0], block, per_channel)
    return grad_w


def adam_step(
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    beta1: float,
    beta2: float,
    correction2: float,
    eps: float,
    step_size: float,
) -> bool:
    """Adam's step (no weight decay, no AMSGrad) on C-contiguous (param, grad, exp_avg,
    exp_avg_sq) of one float dtype in one compiled pass, rounding as PyTorch's kernel does;
    False (nothing written) without a kernel. Small parameters use it too once the kernels
    are loaded (a transformer's: the NumPy form costs ten calls each)."""
    first = arrays[0]
    if first.dtype not in _FLOATS or not (first.size >= MIN_ELEMENTS or _kernels):
        return False
    if any(a.dtype != first.dtype or not a.flags.c_contiguous for a in arrays):
        return False
    module = kernels()
    if module is None:
        return False
    cast = first.dtype.type
    weight1 = cast(1 - beta1)
    if not abs(weight1) < 0.5:
        return False  # lerp's other branch (beta1 <= 0.5): the NumPy form takes it
    scalars = (
        weight1,
        cast(beta2),
        cast(1 - beta2),
        cast(correction2),
        cast(eps),
        cast(-step_size),
    )
    param, grad, exp_avg, exp_avg_sq = (a.reshape(-1) for a in arrays)
    if parallel_blocks(first.size) == 1:  # most parameters: one call, no split
        module.adam_step(param, grad, exp_avg, exp_avg_sq, *scalars)
        return True

    def block(start: int, stop: int) -> None:
        part = slice(start, stop)
        module.adam_step(param[part], grad[part], exp_avg[part], exp_avg_sq[part], *scalars)

    parallel_for(first.size, block)
    return True


# The most leaders `leading_rows` keeps per row: a heap of more gains little over NumPy's
# partition (which topk's caller uses above it).
MAX_LEADERS = 64


def leading_rows(rows: np.ndarray, count: int, largest: bool) -> tuple | None:
    """(positions, values) of the `count` leading elements of each row of a float rows (R, D)
    in the stable order (NaN the largest, larger first when `largest`, equal elements by
    position): int64 and rows' dtype, (R, count). One compiled pass per row, split over the
    rows; None without a kernel, or for more than MAX_LEADERS."""
    if not 0 < count <= MAX_LEADERS or count > rows.shape[1]:
        return None
    module = _row_kernels(rows)
    if module is None:
        return None
    order = np.empty((rows.shape[0], count), dtype=np.int64)
    values = np.empty((rows.shape[0], count), dtype=rows.dtype)

    def block(start: int, stop: int) -> None:
        module.leading_rows(rows, largest, start, stop, order, values)

    parallel_for(rows.shape[0], block, rows.shape[1])
    return order, values
