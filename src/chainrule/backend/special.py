"""Special functions NumPy lacks, computed with NumPy ufuncs.

SciPy's `erf` runs about 16 ns per float32 element here (it evaluates in double, element by
element), which made the exact GELU's forward a seventh of a transformer's training step. For
float32, the normal CDF below runs in a few vectorised passes over preallocated buffers instead,
about 5x faster, at float32 accuracy.
"""

from __future__ import annotations

import numpy as np

# Chebyshev fit of erfc (Press et al., Numerical Recipes, "erfcc"): for z >= 0,
# erfc(z) = t exp(-z^2 + P(t)) with t = 1 / (1 + z/2); relative error below 1.2e-7 for every z,
# so the far tails keep their relative accuracy (no 1 - erf cancellation).
_ERFC_COEFFICIENTS = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)
_F32_COEFFICIENTS = tuple(np.float32(c) for c in reversed(_ERFC_COEFFICIENTS))
_HALF_SQRT_HALF = np.float32(0.5 / np.sqrt(2.0))  # z / 2 = |x| / (2 sqrt 2)


def normal_cdf_float32(x: np.ndarray) -> np.ndarray:
    """Phi(x) = erfc(-x / sqrt 2) / 2 for a float32 array: relative error a few 1e-7 for
    |x| < 5 and about 5e-6 at |x| = 12, against the float64 result.

    The tail Phi(-|x|) = t exp(-x^2/2 + P(t)) / 2 is computed once for |x|, and Phi(x) is that
    tail for x < 0 and 1 - tail for x >= 0, chosen by arithmetic on a 0/1 mask (np.where on a
    random sign pattern is ~10x slower than a multiply). x^2/2 is formed from x, not from a
    rounded z, so the exponent carries one rounding."""
    if x.ndim == 0:  # ufuncs return scalars at 0-d, which cannot be written in place
        return normal_cdf_float32(x.reshape(1)).reshape(())
    t = np.abs(x)
    t *= _HALF_SQRT_HALF
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    coefficients = iter(_F32_COEFFICIENTS)
    tail = np.full_like(x, next(coefficients))
    for coefficient in coefficients:  # Horner, in place
        tail *= t
        tail += coefficient
    square = np.multiply(x, x)
    square *= np.float32(0.5)
    tail -= square
    np.exp(tail, out=tail)
    tail *= t
    tail *= np.float32(0.5)  # Phi(-|x|)
    # x >= 0: 1 - tail; x < 0: tail.  tail + upper * (1 - 2 tail), upper in {0, 1}.
    upper = np.greater_equal(x, 0, out=square, casting="unsafe")
    np.multiply(tail, np.float32(-2.0), out=t)
    t += np.float32(1.0)  # 1 - 2 tail
    t *= upper
    t += tail
    return t
