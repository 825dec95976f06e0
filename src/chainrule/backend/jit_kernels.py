"""numba-compiled kernels for host arrays (backend/jit.py wraps them and loads this module on
first use; it imports numba, the optional `chainrule[fast]` extra, at its top, so `import
chainrule` never does): the exact GELU, its backward and the normal CDF on float32, SiLU and its
backward, below; then
layer norm's and softmax's rows, batch norm's channels, running sums, max pooling, two
scatters, a col2im, and layer norm with its affine part, forward and backward, causal
attention's softmax rows (softmax's in float32 lanes, with `_exp32`), group norm with its
affine part, forward and backward, depthwise convolution's three loops, and topk's leaders.

NumPy has no erf ufunc: backend/special.py builds the normal CDF from about twenty NumPy
passes (2.6 ms on a (1024, 512) float32 array on one core here, against 0.25 ms for PyTorch's
SLEEF-vectorised GELU). Here each element is computed in float64 registers by a loop that LLVM
vectorises, as SLEEF does: no libm call, so nothing stops the vectoriser.

- erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2) (the form of Numerical Recipes' erfcc), with
  P a degree-12 polynomial refitted for float64 (scripts/fit_erfc_kernel.py): relative error
  below 6e-9 for every z >= 0, the far tail included, so Phi(x) = erfc(-x/sqrt 2) / 2 keeps
  its relative accuracy where it is tiny. x^2 of a float32 x is exact in float64.
- exp(a) = 2^n exp(r), n = round(a / ln 2), r = a - n ln 2 (ln 2 in two parts, Cody and
  Waite), exp(r) a degree-8 Taylor polynomial (|r| <= ln(2)/2: error 2e-10), and 2^n built
  from its bits (the exponent field) by `_bits_as_float64`, a bit cast that compiles to no
  instruction. Arguments below -708 give 0, as exp's underflow does, and NaN gives NaN.

So Phi(x) comes out within one float32 ulp of the exact value (tests/test_jit_kernels.py
measures 0.6 ulp over a dense grid). Polynomials use Estrin's scheme and `fastmath` allows
only FMA contraction (`contract`): results are exact IEEE operations otherwise, deterministic
on a machine, and the same whatever the split over threads (each element on its own).

Every kernel writes its output arrays in place (the GELU kernels take 1-D C-contiguous
float32 arrays); it is compiled on first call for its argument types and cached on disk
(`cache=True`), with the GIL released (`nogil`), so backend/parallel.py's threads run blocks
of one call side by side.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

# P(t), highest power first (scripts/fit_erfc_kernel.py).
_P12, _P11, _P10, _P9, _P8, _P7, _P6, _P5, _P4, _P3, _P2, _P1, _P0 = (
    0.05483899599601451,
    -0.5078044409461777,
    1.8551488324909782,
    -3.5077288433120515,
    3.644460541757939,
    -2.012277430824714,
    0.6670814654144408,
    -0.32566447856006353,
    -0.058565695559378836,
    0.0809150006677469,
    0.3751101293533041,
    0.999998037260628,
    -1.2655121176564714,
)
# exp(r) = sum r^k / k!, k <= 8.
_E0, _E1, _E2, _E3, _E4, _E5, _E6, _E7, _E8 = (1.0 / math.factorial(k) for k in range(9))
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2's leading 32 bits: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_EXP_MIN = -708.0  # below it exp(a) is subnormal: 0 here
_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327

_FLAGS = {"fastmath": {"contract"}, "error_model": "numpy"}
_kernel = numba.njit(cache=True, nogil=True, **_FLAGS)
_inline = numba.njit(inline="always", cache=True, **_FLAGS)


@intrinsic
def _bits_as_float64(typingctx, bits):  # noqa: ARG001 - numba's intrinsic signature
    """The float64 whose IEEE bits are the int64 `bits` (a register bit cast)."""

    def codegen(context, builder, signature, args):  # noqa: ARG001
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@_inline
def _exp(a):
    """exp(a) for a <= 1 (every caller's range): 0 below -708, NaN for NaN."""
    clamped = a if a > _EXP_MIN else _EXP_MIN
    n = math.floor(clamped * _LOG2E + 0.5)
    r = (clamped - n * _LN2_HI) - n * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    poly = (_E8 * r4 + (_E7 * r + _E6) * r2 + (_E5 * r + _E4)) * r4 + (
        (_E3 * r + _E2) * r2 + (_E1 * r + _E0)
    )
    scale = _bits_as_float64((np.int64(n) + 1023) << 52)
    low = 0.0 if a <= _EXP_MIN else a  # a NaN stays NaN
    return poly * scale if a > _EXP_MIN else low


@intrinsic
def _bits_as_float32(typingctx, bits):  # noqa: ARG001 - numba's intrinsic signature
    """The float32 whose IEEE bits are the int32 `bits` (a register bit cast)."""

    def codegen(context, builder, signature, args):  # noqa: ARG001
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return types.float32(types.int32), codegen


# exp in float32 lanes (Cephes' expf): twice the SIMD width of `_exp`'s float64 ones. The
# constants are float32 scalars, so numba keeps the arithmetic in float32.
_F32 = np.float32
_EXP32_MIN = _F32(-87.0)  # below it exp(a) < 1.7e-38, near float32's smallest normal: 0 here
_LOG2E_32 = _F32(_LOG2E)
_LN2_HI_32 = _F32(0.693359375)  # 9 bits: n * _LN2_HI_32 is exact for |n| < 2^15
_LN2_LO_32 = _F32(-2.12194440e-4)
_X5, _X4, _X3, _X2, _X1, _X0 = (
    _F32(value)
    for value in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2)
    + (1.6666665459e-1, 5.0000001201e-1)
)
_HALF_32, _ONE_32, _ZERO_32 = _F32(0.5), _F32(1.0), _F32(0.0)


@_inline
def _exp32(a):
    """exp(a) of a float32 a <= 0 in float32 arithmetic, within one float32 ulp (0.93 over a
    dense grid, tests/test_jit_kernels.py): a = n ln 2 + r as in `_exp`, exp(r) Cephes' expf
    polynomial, 2^n from its bits. Below -87 it gives 0 (exp's value there is under 1.7e-38)
    and NaN stays NaN."""
    clamped = a if a > _EXP32_MIN else _EXP32_MIN
    n = np.floor(clamped * _LOG2E_32 + _HALF_32)
    r = (clamped - n * _LN2_HI_32) - n * _LN2_LO_32
    r2 = r * r
    poly = (((((_X5 * r + _X4) * r + _X3) * r + _X2) * r + _X1) * r + _X0) * r2 + r + _ONE_32
    scale = _bits_as_float32((np.int32(n) + np.int32(127)) << np.int32(23))
    low = _ZERO_32 if a <= _EXP32_MIN else a  # a NaN stays NaN
    return poly * scale if a > _EXP32_MIN else low


@_kernel
def exp32(x, out):
    """out = `_exp32`(x) for float32 arrays of x <= 0 (what the accuracy tests measure)."""
    for i in range(x.size):
        out[i] = _exp32(x[i])


# float32's exp overflows above ln(FLT_MAX): PyTorch's float32 sigmoid 1 / (1 + exp(-v)) is
# exactly 0 below -88.7228..., and SiLU -0.0 there.
_LN_FLT_MAX = 88.72283911167300


@_inline
def _sigmoid_of_float32(v):
    """sigmoid(v) in float64 of a float32 v as PyTorch's float32 formula gives it: e =
    exp(-|v|) (`_exp`), 1 / (1 + e) or e / (1 + e) by the sign (selects, not branches), 0
    where float32's exp(-v) overflows; NaN for NaN."""
    e = _exp(-abs(v))
    s = (1.0 if v >= 0.0 else e) / (1.0 + e)
    return 0.0 if -v > _LN_FLT_MAX else s


@_kernel
def silu32(x, out):
    """out = x sigmoid(x) for float32 arrays (SiLU's forward), in float64, rounded once."""
    for i in range(x.size):
        v = np.float64(x[i])
        out[i] = np.float32(v * _sigmoid_of_float32(v))


@_kernel
def silu_backward32(g, x, out):
    """out = (g s) (1 + x (1 - s)), s = sigmoid(x) rounded to float32, for float32 arrays
    (SiLU's backward) in float32 arithmetic in PyTorch's order: where 1 + x (1 - s) cancels
    (x near -1.28) that order decides the low bits."""
    for i in range(x.size):
        v = x[i]
        s = np.float32(_sigmoid_of_float32(np.float64(v)))
        out[i] = (g[i] * s) * (_ONE_32 + v * (_ONE_32 - s))


@_inline
def _lower_tail(x):
    """Phi(-|x|) = erfc(|x| / sqrt 2) / 2, NaN for NaN."""
    t = 1.0 / (1.0 + 0.5 * _SQRT_HALF * abs(x))
    t2 = t * t
    t4 = t2 * t2
    t8 = t4 * t4
    high = _P12 * t4 + ((_P11 * t + _P10) * t2 + (_P9 * t + _P8))
    low = ((_P7 * t + _P6) * t2 + (_P5 * t + _P4)) * t4 + ((_P3 * t + _P2) * t2 + (_P1 * t + _P0))
    return 0.5 * t * _exp(high * t8 + low - 0.5 * x * x)


@_inline
def _normal_cdf(x):
    tail = _lower_tail(x)
    return tail if x < 0.0 else 1.0 - tail


@_kernel
def normal_cdf(x, out):
    """out = Phi(x)."""
    for i in range(x.size):
        out[i] = np.float32(_normal_cdf(np.float64(x[i])))


@_kernel
def gelu(x, out, cdf):
    """out = x Phi(x) and cdf = Phi(x) (kept for the backward)."""
    for i in range(x.size):
        value = np.float64(x[i])
        phi = _normal_cdf(value)
        cdf[i] = np.float32(phi)
        out[i] = np.float32(value * phi)


@_kernel
def gelu_backward(g, x, cdf, out):
    """out = g (Phi(x) + x phi(x)), Phi(x) read from the forward's `cdf`."""
    for i in range(x.size):
        value = np.float64(x[i])
        density = _exp(-0.5 * value * value) * _INV_SQRT_2PI
        out[i] = np.float32((np.float64(cdf[i]) + value * density) * np.float64(g[i]))


@_kernel
def window_max_2x2(padded, padding, width, out, flat):
    """Max pooling with 2 x 2 windows at stride 2: the max of each window of `padded`
    (N, C, H + pads, W + pads) into `out` (N, C, OH, OW), and where it sits as a flat index
    into the unpadded plane (rows of `width`) into `flat`. The first maximum in the window
    wins ties and the first NaN wins over numbers, as ops/pooling.py's NumPy passes: a tap
    wins when it is not <= the best so far and that best is not NaN. The taps are written
    out (a loop over a run-time kernel size ran 5x slower here: its branches do not become
    selects) and indexed plainly (an array view made in the loop costs reference counting)."""
    pad_top, pad_left = padding
    batch, channels, out_h, out_w = out.shape
    for n in range(batch):
        for c in range(channels):
            for i in range(out_h):
                y = 2 * i
                for j in range(out_w):
                    x = 2 * j
                    best = padded[n, c, y, x]
                    tap = 0
                    value = padded[n, c, y, x + 1]
                    if not (value <= best) and best == best:
                        best = value
                        tap = 1
                    value = padded[n, c, y + 1, x]
                    if not (value <= best) and best == best:
                        best = value
                        tap = width
                    value = padded[n, c, y + 1, x + 1]
                    if not (value <= best) and best == best:
                        best = value
                        tap = width + 1
                    out[n, c, i, j] = best
                    flat[n, c, i, j] = (y - pad_top) * width + (x - pad_left) + tap


# Row reductions may reassociate (`reassoc`: vectorised partial sums, in an order fixed by the
# compiled code, so the same on every run and any split over rows); sums are in float64.
_row_kernel = numba.njit(
    cache=True, nogil=True, fastmath={"contract", "reassoc"}, error_model="numpy"
)


@_row_kernel
def standardize_rows(x, out, rstd, eps):
    """Layer norm's core over the rows of x (R, D): out = (x - mean) rstd with
    rstd = 1 / sqrt(var + eps) (the biased variance) into `rstd` (R, 1)."""
    rows, size = x.shape
    for r in range(rows):
        total = 0.0
        for j in range(size):
            total += np.float64(x[r, j])
        mean = total / size
        squares = 0.0
        for j in range(size):
            centered = np.float64(x[r, j]) - mean
            squares += centered * centered
        scale = 1.0 / math.sqrt(squares / size + eps)
        rstd[r, 0] = scale
        for j in range(size):
            out[r, j] = (np.float64(x[r, j]) - mean) * scale


@_row_kernel
def standardize_backward_rows(g, out, rstd, result):
    """Its backward over rows: result = rstd (g - mean(g) - out mean(g out))."""
    rows, size = g.shape
    for r in range(rows):
        total = 0.0
        product = 0.0
        for j in range(size):
            gj = np.float64(g[r, j])
            total += gj
            product += gj * np.float64(out[r, j])
        mean = total / size
        mean_product = product / size
        scale = np.float64(rstd[r, 0])
        for j in range(size):
            bracket = np.float64(g[r, j]) - mean - np.float64(out[r, j]) * mean_product
            result[r, j] = bracket * scale


_row_inline = numba.njit(
    inline="always", cache=True, fastmath={"contract", "reassoc"}, error_model="numpy"
)


@_row_inline
def _channel_sums(x, c):
    """The mean of channel c of x (A, C, S) and the sum of squared deviations from it (two
    passes, in float64)."""
    outer, _, inner = x.shape
    total = 0.0
    for a in range(outer):
        for j in range(inner):
            total += np.float64(x[a, c, j])
    mean = total / (outer * inner)
    squares = 0.0
    for a in range(outer):
        for j in range(inner):
            centered = np.float64(x[a, c, j]) - mean
            squares += centered * centered
    return mean, squares


@_row_kernel
def standardize_channels(x, out, rstd, first, last, eps):
    """Batch norm's core for channels first..last of x (A, C, S): per channel c, out = (x -
    mean) rstd over the A x S elements of c, rstd[c] = 1 / sqrt(var + eps) (the biased
    variance)."""
    outer, _, inner = x.shape
    count = outer * inner
    for c in range(first, last):
        mean, squares = _channel_sums(x, c)
        scale = 1.0 / math.sqrt(squares / count + eps)
        rstd[c] = scale
        for a in range(outer):
            for j in range(inner):
                out[a, c, j] = (np.float64(x[a, c, j]) - mean) * scale


@_row_kernel
def standardize_backward_channels(g, out, rstd, result, first, last):
    """Its backward per channel: result = rstd (g - mean(g) - out mean(g out))."""
    outer, _, inner = g.shape
    count = outer * inner
    for c in range(first, last):
        total = 0.0
        product = 0.0
        for a in range(outer):
            for j in range(inner):
                gj = np.float64(g[a, c, j])
                total += gj
                product += gj * np.float64(out[a, c, j])
        mean = total / count
        mean_product = product / count
        scale = np.float64(rstd[c])
        for a in range(outer):
            for j in range(inner):
                bracket = np.float64(g[a, c, j]) - mean - np.float64(out[a, c, j]) * mean_product
                result[a, c, j] = bracket * scale


@_row_kernel
def channel_moments(x, mean, variance, first, last, correction):
    """The mean and the variance (dividing by A S - correction) of each channel first..last of
    x (A, C, S), in float64: batch norm's running statistics."""
    outer, _, inner = x.shape
    count = outer * inner
    for c in range(first, last):
        mean[c], squares = _channel_sums(x, c)
        variance[c] = squares / max(count - correction, 1)


@_kernel
def running_sums(x, out, reverse, first, last, start, stop):
    """Running sums along axis 1 of x (A, L, S) into `out`, from the end when `reverse`, for
    a in first..last and s in start..stop, accumulated in float64 in order and each rounded
    once into out's dtype: NumPy's sequential cumsum with dtype=float64 then cast, bit for
    bit (the sums start from +0.0, as PyTorch's: a leading -0.0 comes out +0.0)."""
    length = x.shape[1]
    if stop - start == 1:  # one lane per a (a cumsum along rows): the sum in a register
        for a in range(first, last):
            total = 0.0
            for step in range(length):
                position = length - 1 - step if reverse else step
                total += np.float64(x[a, position, start])
                out[a, position, start] = total
        return
    totals = np.zeros(stop - start)
    for a in range(first, last):
        totals[:] = 0.0
        for step in range(length):
            position = length - 1 - step if reverse else step
            for j in range(start, stop):
                total = totals[j - start] + np.float64(x[a, position, j])
                totals[j - start] = total
                out[a, position, j] = total


@_row_kernel
def softmax_rows(x, maxima, out):
    """softmax along the rows of a float32 x (R, D) into `out`: exp(x - max) / sum, with
    each row's max given (`maxima` (R,)), in float32 lanes (`_exp32`, within one ulp; the sum
    in float32 partial sums, as PyTorch's; 1.6x the float64 lanes' speed on W7's attention,
    (4096, 64)). A NaN or +inf in a row makes the row NaN, as NumPy's passes do (its exp is
    NaN, and so is the sum)."""
    rows, size = x.shape
    for r in range(rows):
        row, row_out = x[r], out[r]
        top = maxima[r]
        total = _ZERO_32
        for j in range(size):
            exp = _exp32(row[j] - top)
            row_out[j] = exp
            total += exp
        scale = _ONE_32 / total
        for j in range(size):
            row_out[j] *= scale


@_row_kernel
def cross_entropy_rows(x, maxima, target, loss):
    """-log softmax(x)[target] along the rows of a float32 x (R, D), each row's max given
    (`maxima` (R,)): log(sum exp(x - max)) - (x[target] - max) into `loss` (R,), the sum of
    `_exp32`s in float32 partial sums, as softmax_rows' (targets in range: the caller checks)."""
    rows, size = x.shape
    for r in range(rows):
        row, top = x[r], maxima[r]
        total = _ZERO_32
        for j in range(size):
            total += _exp32(row[j] - top)
        loss[r] = np.log(total) - (row[target[r]] - top)


@_row_kernel
def scaled_causal_softmax_rows(x, out, scale, length, first):
    """Causal attention's softmax over the rows of a float32 x (R, S) into `out`: row r, the
    (first + r)-th of the whole array, is query position i = (first + r) mod `length` and
    takes columns j <= i, as softmax(x * scale) over them (as `softmax_rows`), zeros after.
    The masked columns are not read."""
    rows, size = x.shape
    for r in range(rows):
        row, row_out = x[r], out[r]
        stop = min((first + r) % length + 1, size)
        top = row[0] * scale
        for j in range(1, stop):
            value = row[j] * scale
            top = value if value > top else top
        total = _ZERO_32
        for j in range(stop):
            exp = _exp32(row[j] * scale - top)
            row_out[j] = exp
            total += exp
        factor = _ONE_32 / total
        for j in range(stop):
            row_out[j] *= factor
        for j in range(stop, size):
            row_out[j] = _ZERO_32


@_row_kernel
def softmax_backward_rows(g, out, result):
    """Softmax's backward along rows: result = out (g - sum(g out))."""
    rows, size = g.shape
    for r in range(rows):
        total = 0.0
        for j in range(size):
            total += np.float64(g[r, j]) * np.float64(out[r, j])
        for j in range(size):
            result[r, j] = np.float64(out[r, j]) * (np.float64(g[r, j]) - total)


@_kernel
def assign_at(target, index, values):
    """target[index[i]] = values[i] for every i, when every index is in range (returns
    True); else stops at the first one out of range and returns False."""
    size = target.size
    for i in range(index.size):
        position = index[i]
        if position < 0 or position >= size:
            return False
        target[position] = values[i]
    return True


@_kernel
def add_rows(target, index, values):
    """target[index[i]] += values[i] for the rows of 2-D `target` and `values`, in the order
    of i, when every index is in range (returns True; a negative one counts from the end);
    else stops at the first one out of range and returns False."""
    rows, width = target.shape
    for i in range(index.size):
        row = index[i]
        row = row + rows if row < 0 else row
        if row < 0 or row >= rows:
            return False
        for j in range(width):
            target[row, j] += values[i, j]
    return True


@_kernel
def gather_along(x, index, out):
    """out[a, k, s] = x[a, index[a, k, s], s] for x (A, D, S) and index, out (A, K, S): a
    gather along the middle axis, its longest loop innermost. Returns False at the first index
    outside [0, D) (`out` then partly written: the caller's NumPy path raises)."""
    outer, count, inner = index.shape
    size = x.shape[1]
    for a in range(outer):
        for s in range(inner):
            for k in range(count):
                j = index[a, k, s]
                if j < 0 or j >= size:
                    return False
                out[a, k, s] = x[a, j, s]
    return True


@_kernel
def scatter_add_along(target, index, values):
    """target[a, index[a, k, s], s] += values[a, k, s] for target (A, D, S) and index, values
    (A, K, S), every index in [0, D) (the caller checks), each target element's terms added in
    the order of k: np.add.at's order, so the same sums bit for bit."""
    outer, count, inner = index.shape
    for a in range(outer):
        for s in range(inner):
            for k in range(count):
                target[a, index[a, k, s], s] += values[a, k, s]


@_kernel
def col2im_2d(columns, out_size, kernel, stride, padding, dilation, image):
    """The transposed convolution's scatter: image (N, H, W, C), channels last, += each
    column's kernel taps at the input pixels they came from, column (n, y, x) holding tap
    (a, b)'s C numbers at (a * k_w + b) * C. Taps that fall in the padding are dropped. Each
    sample's pixels are summed in one fixed order (rows, then taps), whatever the split."""
    batch, height, width, channels = image.shape
    out_h, out_w = out_size
    kernel_h, kernel_w = kernel
    for n in range(batch):
        for y in range(out_h):
            for x in range(out_w):
                row = (n * out_h + y) * out_w + x
                for a in range(kernel_h):
                    iy = y * stride[0] + a * dilation[0] - padding[0]
                    if iy < 0 or iy >= height:
                        continue
                    for b in range(kernel_w):
                        ix = x * stride[1] + b * dilation[1] - padding[1]
                        if ix < 0 or ix >= width:
                            continue
                        base = (a * kernel_w + b) * channels
                        for c in range(channels):
                            image[n, iy, ix, c] += columns[row, base + c]


@_row_kernel
def layer_norm_rows(x, weight, bias, y, out, rstd, eps):
    """Layer norm with its affine part over the rows of x (R, D) in one pass per row: out =
    (x - mean) rstd, y = out weight + bias (from out in float64, rounded once), rstd as in
    `standardize_rows`."""
    rows, size = x.shape
    for r in range(rows):
        row, row_out, row_y = x[r], out[r], y[r]
        total = 0.0
        for j in range(size):
            total += np.float64(row[j])
        mean = total / size
        squares = 0.0
        for j in range(size):
            centered = np.float64(row[j]) - mean
            squares += centered * centered
        scale = 1.0 / math.sqrt(squares / size + eps)
        rstd[r, 0] = scale
        for j in range(size):
            normalized = (np.float64(row[j]) - mean) * scale
            row_out[j] = normalized
            row_y[j] = normalized * np.float64(weight[j]) + np.float64(bias[j])


@_row_kernel
def layer_norm_backward_rows(g, out, rstd, weight, result, sums_weight, sums_bias, chunk):
    """Its backward over rows: result = rstd (g w - mean(g w) - out mean(g w out)), the two
    means summed in float64, the rest in the arrays' dtype (as PyTorch computes it; float64
    lanes throughout took three times as long); and the weight's and bias's gradients, the
    sums of g out and of g down the rows, as partial sums in the arrays' dtype, one row of
    `sums_weight` and `sums_bias` per `chunk` rows, each added in row order (so a split over
    threads in whole chunks changes no bit)."""
    rows, size = g.shape
    cast = g.dtype.type
    for r in range(rows):
        row_g, row_out, row_result = g[r], out[r], result[r]
        total = 0.0
        product = 0.0
        for j in range(size):
            scaled = np.float64(row_g[j]) * np.float64(weight[j])
            total += scaled
            product += scaled * np.float64(row_out[j])
        sum_weight, sum_bias = sums_weight[r // chunk], sums_bias[r // chunk]
        for j in range(size):
            sum_weight[j] += row_g[j] * row_out[j]
            sum_bias[j] += row_g[j]
        mean = cast(total / size)
        mean_product = cast(product / size)
        scale = rstd[r, 0]
        for j in range(size):
            bracket = row_g[j] * weight[j] - mean - row_out[j] * mean_product
            row_result[j] = bracket * scale


@_row_kernel
def group_norm_rows(x, weight, bias, y, out, rstd, groups, first, eps):
    """Group norm with its affine part over the rows of x (R, K, S), R samples times groups
    (row r is group (first + r) % groups), K channels of a group and S positions each: out =
    (x - mean) rstd over a row's K S elements, y = out weight[g, k] + bias[g, k] (from out in
    float64, rounded once), rstd (R,) as in `standardize_rows`."""
    rows, channels, size = x.shape
    count = channels * size
    for r in range(rows):
        group = (first + r) % groups
        total = 0.0
        for k in range(channels):
            for j in range(size):
                total += np.float64(x[r, k, j])
        mean = total / count
        squares = 0.0
        for k in range(channels):
            for j in range(size):
                centered = np.float64(x[r, k, j]) - mean
                squares += centered * centered
        scale = 1.0 / math.sqrt(squares / count + eps)
        rstd[r] = scale
        for k in range(channels):
            w, b = np.float64(weight[group, k]), np.float64(bias[group, k])
            for j in range(size):
                normalized = (np.float64(x[r, k, j]) - mean) * scale
                out[r, k, j] = normalized
                y[r, k, j] = normalized * w + b


@_row_kernel
def group_norm_backward_rows(g, out, rstd, weight, result, sums_weight, sums_bias, groups, first):
    """Its backward over the rows (R, K, S): result = rstd (g w - mean(g w) - out mean(g w
    out)) with w the channel's weight, the means over the row in float64 from each channel's
    sums, the rest in the arrays' dtype (as layer norm's); and per row and channel the sums
    over the positions of g out and of g (float64, into sums_weight and sums_bias (R, K)),
    which the caller adds down the samples for the weight's and bias's gradients."""
    rows, channels, size = g.shape
    count = channels * size
    cast = g.dtype.type
    for r in range(rows):
        group = (first + r) % groups
        total = 0.0
        product = 0.0
        for k in range(channels):
            sum_g = 0.0
            sum_product = 0.0
            for j in range(size):
                gj = np.float64(g[r, k, j])
                sum_g += gj
                sum_product += gj * np.float64(out[r, k, j])
            sums_weight[r, k] = sum_product
            sums_bias[r, k] = sum_g
            w = np.float64(weight[group, k])
            total += w * sum_g
            product += w * sum_product
        mean = cast(total / count)
        mean_product = cast(product / count)
        scale = rstd[r]
        for k in range(channels):
            w = weight[group, k]
            for j in range(size):
                bracket = g[r, k, j] * w - mean - out[r, k, j] * mean_product
                result[r, k, j] = bracket * scale


# Adam's step rounds as PyTorch's single-tensor kernel does, op by op in the arrays' dtype:
# no fused multiply-adds (no `contract`), so each product and sum is rounded on its own.
_exact_kernel = numba.njit(cache=True, nogil=True, error_model="numpy")


@_exact_kernel
def adam_step(param, grad, exp_avg, exp_avg_sq, weight1, beta2, weight2, correction2, eps, step):
    """One Adam step over 1-D contiguous arrays of one dtype, in one pass: the first moment
    lerped towards g by weight1 (< 0.5: from the moment), the second scaled by beta2 plus
    weight2 g g, then p += (step m) / (sqrt(v) / correction2 + eps), step negative. The
    scalars come in the arrays' dtype, so the arithmetic stays in it."""
    for i in range(param.shape[0]):
        g = grad[i]
        m = exp_avg[i] + weight1 * (g - exp_avg[i])
        v = exp_avg_sq[i] * beta2 + weight2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        param[i] = param[i] + step * m / (np.sqrt(v) / correction2 + eps)


# ---- depthwise convolution (groups = input channels), 2-D --------------------------------------


@_inline
def _valid_range(out_len, in_len, offset, step):
    """The output positions o in [0, out_len) whose input position o * step + offset lies in
    [0, in_len): a half-open range (low, high), empty when high <= low (floor divisions)."""
    return max(0, -(offset // step)), min(out_len, (in_len - 1 - offset) // step + 1)


@_kernel
def depthwise_2d(x, w, stride, padding, dilation, out):
    """out (N, C m, OH, OW) = the depthwise correlation of x (N, C, H, W) with w (C m, 1, k_h,
    k_w): output channel o reads input channel o // m. Each output element sums its taps in
    one fixed order (rows, then columns of the kernel), in the arrays' dtype; at column stride
    1 the innermost loop runs over contiguous numbers, which LLVM vectorises."""
    batch, channels, height, width = x.shape
    out_channels, _, kernel_h, kernel_w = w.shape
    out_h, out_w = out.shape[2], out.shape[3]
    step_y, step_x = stride
    multiplier = out_channels // channels
    out[...] = 0
    for n in range(batch):
        for o in range(out_channels):
            c = o // multiplier
            for a in range(kernel_h):
                row_offset = a * dilation[0] - padding[0]
                y_low, y_high = _valid_range(out_h, height, row_offset, step_y)
                for b in range(kernel_w):
                    col_offset = b * dilation[1] - padding[1]
                    x_low, x_high = _valid_range(out_w, width, col_offset, step_x)
                    tap = w[o, 0, a, b]
                    count = x_high - x_low
                    start = x_low * step_x + col_offset
                    for y in range(y_low, y_high):
                        # row slices indexed from 0: no negative-index wraparound to test, so
                        # the loop vectorises
                        target = out[n, o, y, x_low:x_high]
                        source = x[n, c, y * step_y + row_offset, start:]
                        if step_x == 1:
                            for j in range(count):
                                target[j] += tap * source[j]
                        else:
                            for j in range(count):
                                target[j] += tap * source[j * step_x]


@_kernel
def depthwise_2d_input_grad(g, w, stride, padding, dilation, grad_x):
    """grad_x (N, C, H, W) = the adjoint of `depthwise_2d` in x for the cotangent g (N, C m,
    OH, OW): each output channel's taps added back into its input channel, in one fixed order
    per sample."""
    channels, height, width = grad_x.shape[1], grad_x.shape[2], grad_x.shape[3]
    batch = g.shape[0]
    out_channels, _, kernel_h, kernel_w = w.shape
    out_h, out_w = g.shape[2], g.shape[3]
    step_y, step_x = stride
    multiplier = out_channels // channels
    grad_x[...] = 0
    for n in range(batch):
        for o in range(out_channels):
            c = o // multiplier
            for a in range(kernel_h):
                row_offset = a * dilation[0] - padding[0]
                y_low, y_high = _valid_range(out_h, height, row_offset, step_y)
                for b in range(kernel_w):
                    col_offset = b * dilation[1] - padding[1]
                    x_low, x_high = _valid_range(out_w, width, col_offset, step_x)
                    tap = w[o, 0, a, b]
                    count = x_high - x_low
                    start = x_low * step_x + col_offset
                    for y in range(y_low, y_high):
                        target = grad_x[n, c, y * step_y + row_offset, start:]
                        source = g[n, o, y, x_low:x_high]
                        if step_x == 1:
                            for j in range(count):
                                target[j] += tap * source[j]
                        else:
                            for j in range(count):
                                target[j * step_x] += tap * source[j]


@_kernel
def depthwise_2d_weight_grad(x, g, stride, padding, dilation, first, grad_w):
    """grad_w[k] (1, k_h, k_w) for output channel o = first + k: the correlation of input
    channel o // m with g's channel o over every sample, summed in float64 in one fixed order
    (whatever the split over channels) and rounded once."""
    batch, channels, height, width = x.shape
    out_channels = g.shape[1]
    out_h, out_w = g.shape[2], g.shape[3]
    kernel_h, kernel_w = grad_w.shape[2], grad_w.shape[3]
    step_y, step_x = stride
    multiplier = out_channels // channels
    for k in range(grad_w.shape[0]):
        o = first + k
        c = o // multiplier
        for a in range(kernel_h):
            row_offset = a * dilation[0] - padding[0]
            y_low, y_high = _valid_range(out_h, height, row_offset, step_y)
            for b in range(kernel_w):
                col_offset = b * dilation[1] - padding[1]
                x_low, x_high = _valid_range(out_w, width, col_offset, step_x)
                count = max(0, x_high - x_low)
                start = x_low * step_x + col_offset
                # a float64 sum per output column, added elementwise (so the loop vectorises
                # without reordering any sum), then summed in column order
                columns = np.zeros(count)
                for n in range(batch):
                    for y in range(y_low, y_high):
                        values = g[n, o, y, x_low:x_high]
                        source = x[n, c, y * step_y + row_offset, start:]
                        if step_x == 1:
                            for j in range(count):
                                columns[j] += np.float64(values[j]) * np.float64(source[j])
                        else:
                            for j in range(count):
                                columns[j] += np.float64(values[j]) * np.float64(source[j * step_x])
                total = 0.0
                for j in range(count):
                    total += columns[j]
                grad_w[k, 0, a, b] = total


# ---- topk's leaders ---------------------------------------------------------------------------

# Comparisons only (no arithmetic): no fastmath at all, so NaN tests stay NaN tests.
_exact_inline = numba.njit(inline="always", cache=True, error_model="numpy")


@_exact_inline
def _precedes(a, position_a, b, position_b, largest):
    """Whether element a (at position_a) comes before b in the stable order: NaN the largest
    (a NaN is never less than anything), larger first when `largest` (smaller otherwise), and
    of two equal elements (two NaNs too) the one at the smaller position first."""
    nan_a = a != a
    nan_b = b != b
    if nan_a or nan_b:
        if nan_a and nan_b:
            return position_a < position_b
        return nan_a == largest  # a NaN comes first among the largest, last among the smallest
    if a == b:
        return position_a < position_b
    return (a > b) == largest


@_exact_inline
def _sift_down(heap_values, heap_positions, slot, size, v, j, largest):
    """Put (v, j) into slot `slot` of a heap of `size` whose root comes last in the order,
    moving up the children that come after it."""
    while True:
        child = 2 * slot + 1
        if child >= size:
            break
        other = child + 1
        if other < size and _precedes(
            heap_values[child],
            heap_positions[child],
            heap_values[other],
            heap_positions[other],
            largest,
        ):
            child = other  # the child that comes later
        if not _precedes(v, j, heap_values[child], heap_positions[child], largest):
            break
        heap_values[slot] = heap_values[child]
        heap_positions[slot] = heap_positions[child]
        slot = child
    heap_values[slot] = v
    heap_positions[slot] = j


@_exact_inline
def _sift_up(heap_values, heap_positions, slot, v, j, largest):
    """Put (v, j) into the heap's free slot `slot`, moving down the parents that come before
    it (a parent comes after its children)."""
    while slot > 0:
        parent = (slot - 1) // 2
        if not _precedes(heap_values[parent], heap_positions[parent], v, j, largest):
            break
        heap_values[slot] = heap_values[parent]
        heap_positions[slot] = heap_positions[parent]
        slot = parent
    heap_values[slot] = v
    heap_positions[slot] = j


@_exact_inline
def _offer(v, j, root, heap_values, heap_positions, count, largest):
    """Let element v at position j into the heap of leaders if it precedes the root (the last
    of them); returns the root afterwards."""
    if _precedes(v, j, root, heap_positions[0], largest):
        _sift_down(heap_values, heap_positions, 0, count, v, j, largest)
        return heap_values[0]
    return root


@_exact_kernel
def leading_rows(rows, largest, first, last, order, values):
    """The count = order.shape[1] leading elements of rows first..last of rows (R, D) in the
    stable order of `_precedes`, their positions into `order` and their values into `values`,
    sorted. One pass per row keeps the leaders in a heap whose root is the last of them; an
    element enters only when it precedes that root, so a row costs about one comparison per
    element (1.5 ns here), plus log(count) steps for each that enters: about count log(D /
    count) of a row in random order, every element of a row in the reverse order (14 ms for
    (256, 4096), k = 10, against 1.9 random)."""
    count = order.shape[1]
    for r in range(first, last):
        row, heap_values, heap_positions = rows[r], values[r], order[r]
        for j in range(count):  # the first `count` elements make the heap
            _sift_up(heap_values, heap_positions, j, row[j], j, largest)
        root = heap_values[0]
        # one comparison turns most elements away (a later element equal to the root, or a
        # NaN after a NaN root, never enters); the test is hoisted out of the loops
        if largest:
            for j in range(count, row.shape[0]):
                v = row[j]
                if v > root or v != v:
                    root = _offer(v, j, root, heap_values, heap_positions, count, True)
        else:
            for j in range(count, row.shape[0]):
                v = row[j]
                if v < root or (root != root and v == v):
                    root = _offer(v, j, root, heap_values, heap_positions, count, False)
        # move the root (the last leader) to the end, count - 1 times: sorted in place
        for end in range(count - 1, 0, -1):
            v, j = heap_values[end], heap_positions[end]
            heap_values[end] = heap_values[0]
            heap_positions[end] = heap_positions[0]
            _sift_down(heap_values, heap_positions, 0, end, v, j, largest)
