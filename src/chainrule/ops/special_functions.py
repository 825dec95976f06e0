# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""torch.special's Bessel and Airy functions and its orthogonal polynomials (Chebyshev of the
four kinds and their shifted forms, Hermite, Laguerre, Legendre).

PyTorch gives none of them a derivative: their results never require grad, whatever their
inputs do, and so it is here (`differentiable = False`). They take float32 and float64 (integer
and bool input gives the default dtype); float16, bfloat16 and complex input raise
NotImplementedError, as PyTorch's kernels do.

The Bessel and Airy functions call SciPy's (CuPy's on the GPU) through backend/special.py. The
polynomials are PyTorch's own algorithms (aten/native/Math.h), vectorized: the three-term
recurrence up to the largest degree asked for, the closed trigonometric forms where PyTorch uses
them (high degree inside (-1, 1)), and its values at the interval's ends. A degree is truncated
to an integer; a negative one gives 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.backend.special import scipy_special, special_function
from chainrule.ops.arguments import Number
from chainrule.ops.elementwise import _float_operands, floating_operand
from chainrule.ops.op import Op, apply, elementwise_batch


def _float_kernel(name: str, x: Tensor) -> None:
    """PyTorch's kernels for these functions exist for float32 and float64 only."""
    if x.dtype.name not in ("float32", "float64"):
        raise NotImplementedError(f'"{name}_cpu" not implemented for {x.dtype.name} tensors')


# ---- Bessel and Airy functions ------------------------------------------------------------------


def _airy_ai(xp: Any, x: Array) -> Array:
    """SciPy's Ai, with PyTorch's 0 where SciPy's overflows to nan (finite x past ~1e154):
    Ai(x) decays like exp(-2/3 x**1.5). At +inf both say nan."""
    out = xp.asarray(scipy_special(xp).airy(x)[0])
    decayed = xp.isnan(out) & (x > 0) & xp.isfinite(x)
    return xp.where(decayed, 0, out).astype(x.dtype, copy=False)


def _spherical_bessel_j0(xp: Any, x: Array) -> Array:
    """sin(x) / x, 1 at 0 and 0 at +-inf, as PyTorch's."""
    safe = xp.where((x == 0) | xp.isinf(x), 1, x)
    value = xp.where(xp.isinf(x), 0, xp.sin(safe) / safe)
    return xp.where(x == 0, 1, value).astype(x.dtype, copy=False)


# The kernels that are not one SciPy ufunc of the same name.
_KERNELS = {"airy": _airy_ai, "spherical_j0": _spherical_bessel_j0}


class BesselFunction(Op):
    """A Bessel or Airy function, elementwise: SciPy's ufunc `kernel` (j0, y1, k0e ...), or
    Ai(x) ('airy') and sin(x) / x ('spherical_j0'). No derivative, as PyTorch's."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, kernel: str) -> Array:
        own = _KERNELS.get(kernel)
        return own(ctx.xp, x) if own is not None else special_function(ctx.xp, kernel, x)

    batch = elementwise_batch


def _bessel(name: str, scipy_name: str, what: str, example: str, result: str) -> Callable:
    def function(input: Tensor | Number) -> Tensor:
        x = floating_operand(input, name)
        _float_kernel(name, x)
        return apply(BesselFunction, (x,), scipy_name)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = _sections(f"{what} Not differentiable, as PyTorch's.", example, result)
    return function


def _sections(what: str, example: str, result: str, degree: bool = False) -> str:
    args = "    input (Tensor or number): float32 or float64 (integers give the default dtype)."
    if degree:
        args += (
            "\n    n (Tensor or number): the degree, truncated to an integer (negative: 0);"
            " broadcasts with `input`."
        )
    return (
        f"{what}\n\nArgs:\n{args}\n\nReturns:\n    Tensor: of the (broadcast) shape; it never "
        "requires grad.\n\nExample:\n    >>> import chainrule\n    >>> chainrule.special."
        f"{example}\n    {result}\n"
    )


bessel_j0 = _bessel(
    "bessel_j0",
    "j0",
    "The Bessel function of the first kind of order 0.",
    "bessel_j0(chainrule.tensor([0.0, 1.0]))",
    "tensor([1.0000, 0.7652])",
)
bessel_j1 = _bessel(
    "bessel_j1",
    "j1",
    "The Bessel function of the first kind of order 1.",
    "bessel_j1(chainrule.tensor([0.0, 1.0]))",
    "tensor([0.0000, 0.4401])",
)
bessel_y0 = _bessel(
    "bessel_y0",
    "y0",
    "The Bessel function of the second kind of order 0 (-inf at 0, nan below).",
    "bessel_y0(chainrule.tensor([1.0, 2.0]))",
    "tensor([0.0883, 0.5104])",
)
bessel_y1 = _bessel(
    "bessel_y1",
    "y1",
    "The Bessel function of the second kind of order 1 (-inf at 0, nan below).",
    "bessel_y1(chainrule.tensor([1.0, 2.0]))",
    "tensor([-0.7812, -0.1070])",
)
modified_bessel_i0 = _bessel(
    "modified_bessel_i0",
    "i0",
    "The modified Bessel function of the first kind of order 0.",
    "modified_bessel_i0(chainrule.tensor([0.0, 1.0]))",
    "tensor([1.0000, 1.2661])",
)
modified_bessel_i1 = _bessel(
    "modified_bessel_i1",
    "i1",
    "The modified Bessel function of the first kind of order 1.",
    "modified_bessel_i1(chainrule.tensor([0.0, 1.0]))",
    "tensor([0.0000, 0.5652])",
)
modified_bessel_k0 = _bessel(
    "modified_bessel_k0",
    "k0",
    "The modified Bessel function of the second kind of order 0 (inf at 0, nan below).",
    "modified_bessel_k0(chainrule.tensor([1.0, 2.0]))",
    "tensor([0.4210, 0.1139])",
)
modified_bessel_k1 = _bessel(
    "modified_bessel_k1",
    "k1",
    "The modified Bessel function of the second kind of order 1 (inf at 0, nan below).",
    "modified_bessel_k1(chainrule.tensor([1.0, 2.0]))",
    "tensor([0.6019, 0.1399])",
)
scaled_modified_bessel_k0 = _bessel(
    "scaled_modified_bessel_k0",
    "k0e",
    "exp(x) k0(x): the modified Bessel function K0, scaled to stay finite for large x.",
    "scaled_modified_bessel_k0(chainrule.tensor([1.0, 2.0]))",
    "tensor([1.1445, 0.8416])",
)
scaled_modified_bessel_k1 = _bessel(
    "scaled_modified_bessel_k1",
    "k1e",
    "exp(x) k1(x): the modified Bessel function K1, scaled to stay finite for large x.",
    "scaled_modified_bessel_k1(chainrule.tensor([1.0, 2.0]))",
    "tensor([1.6362, 1.0335])",
)


airy_ai = _bessel(
    "airy_ai",
    "airy",
    "The Airy function Ai(x), the solution of y'' = x y that decays as x grows.",
    "airy_ai(chainrule.tensor([0.0, 1.0]))",
    "tensor([0.3550, 0.1353])",
)
spherical_bessel_j0 = _bessel(
    "spherical_bessel_j0",
    "spherical_j0",
    "sin(x) / x (1 at 0, 0 at +-inf): the spherical Bessel function of the first kind of order 0.",
    "spherical_bessel_j0(chainrule.tensor([0.0, 1.0]))",
    "tensor([1.0000, 0.8415])",
)


# ---- orthogonal polynomials -------------------------------------------------------------------


def _degrees(xp: Any, n: Array) -> Array:
    """Degrees as int64, truncated as PyTorch's static_cast; nan and inf become -1 (a zero)."""
    finite = xp.isfinite(n)
    return xp.where(finite, xp.trunc(xp.where(finite, n, -1)), -1).astype(xp.int64)


def _recurrence(
    xp: Any, n: Array, first: Array, second: Array, step: Callable[[int, Array, Array], Array]
) -> Array:
    """P_n for each element: P_0 = first, P_1 = second, P_{k+1} = step(k, P_k, P_{k-1}),
    run up to the largest degree present (each element keeps the value at its own degree)."""
    result = xp.where(n == 0, first, second)
    top = int(n.max()) if n.size else 0
    previous, current = first, second
    for k in range(1, top):
        previous, current = current, step(k, current, previous)
        result = xp.where(n == k + 1, current, result)
    return result


class Chebyshev(Op):
    """A Chebyshev polynomial of the kind `kind` ('t', 'u', 'v', 'w') in y = x, or y = 2x - 1
    when shifted: T_n(cos t) = cos(n t), U_n(cos t) = sin((n + 1) t) / sin t,
    V_n(cos t) = cos((n + 1/2) t) / cos(t / 2), W_n(cos t) = sin((n + 1/2) t) / sin(t / 2);
    the trigonometric form above degree `trig_above` inside (-1, 1), as PyTorch's. No
    derivative, as PyTorch's."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, n: Array, kind: str, shifted: bool, trig_above: int) -> Array:
        xp = ctx.xp
        x, n = xp.broadcast_arrays(x, n)
        degree = _degrees(xp, n)
        y = x + x - 1 if shifted else x
        one = xp.ones_like(y)
        first = {"t": y, "u": y + y, "v": y + y - 1, "w": y + y + 1}[kind]
        result = _recurrence(xp, degree, one, first, lambda k, q, p: (y + y) * q - p)
        m = degree.astype(x.dtype)
        sign = xp.where(degree % 2 == 0, 1, -1).astype(x.dtype)
        ends = {  # the values at y = 1 and y = -1
            "t": (one, sign),
            "u": (m + 1, sign * (m + 1)),
            "v": (one, sign * (m + m + 1)),
            "w": (m + m + 1, sign),
        }[kind]
        inside = (degree > trig_above) & (xp.abs(y) < 1)
        result = xp.where(inside, _trigonometric(xp, kind, y, m, ends), result)
        result = xp.where(y == 1, ends[0], xp.where(y == -1, ends[1], result))
        return xp.where(degree < 0, 0, result).astype(x.dtype, copy=False)

    batch = elementwise_batch


def _trigonometric(xp: Any, kind: str, y: Array, m: Array, ends: tuple) -> Array:
    """The closed forms of the four kinds at y = cos(theta), with PyTorch's fallbacks where a
    denominator vanishes."""
    theta = xp.arccos(xp.clip(y, -1, 1))
    if kind == "t":
        return xp.cos(m * theta)
    if kind == "u":
        sine = xp.sin(theta)
        safe = xp.where(sine == 0, 1, sine)
        return xp.where(
            sine != 0,
            xp.sin((m + 1) * theta) / safe,
            (m + 1) * xp.cos((m + 1) * theta) / xp.where(y == 0, 1, y),
        )
    half = theta / 2
    if kind == "v":
        degenerate = xp.sin(half) == 1
        value = xp.cos((m + 0.5) * theta) / xp.where(degenerate, 1, xp.cos(half))
        return xp.where(degenerate, ends[1], value)
    degenerate = xp.cos(half) == 1
    value = xp.sin((m + 0.5) * theta) / xp.where(degenerate, 1, xp.sin(half))
    return xp.where(degenerate, ends[0], value)


class _ThreeTerm:
    """The forward of an orthogonal polynomial by its three-term recurrence (Hermite,
    Laguerre, Legendre): each op below mixes it in with its `_values`."""

    differentiable = False

    @classmethod
    def forward(cls, ctx: Node, x: Array, n: Array) -> Array:
        xp = ctx.xp
        x, n = xp.broadcast_arrays(x, n)
        degree = _degrees(xp, n)
        result = cls._values(xp, x, degree)
        return xp.where(degree < 0, 0, result).astype(x.dtype, copy=False)

    @staticmethod
    def _values(xp: Any, x: Array, degree: Array) -> Array:
        raise NotImplementedError

    batch = elementwise_batch


def _hermite_limit(x: Array) -> int:
    """PyTorch's largest Hermite degree: above it the result is nan (float32 128, float64 512)."""
    return 128 if x.dtype.itemsize == 4 else 512


class HermiteH(_ThreeTerm, Op):
    """The physicists' Hermite polynomial: H_0 = 1, H_1 = 2x, H_{k+1} = 2x H_k - 2k H_{k-1}
    (nan above degree 128 in float32, 512 in float64, as PyTorch's)."""

    @staticmethod
    def _values(xp: Any, x: Array, degree: Array) -> Array:
        capped = xp.where(degree > _hermite_limit(x), -1, degree)
        one = xp.ones_like(x)
        result = _recurrence(xp, capped, one, x + x, lambda k, q, p: (x + x) * q - (k + k) * p)
        return xp.where(degree > _hermite_limit(x), math.nan, result)


class HermiteHe(_ThreeTerm, Op):
    """The probabilists' Hermite polynomial: He_0 = 1, He_1 = x, He_{k+1} = x He_k - k He_{k-1}
    (nan above degree 128 in float32, 512 in float64, as PyTorch's)."""

    @staticmethod
    def _values(xp: Any, x: Array, degree: Array) -> Array:
        capped = xp.where(degree > _hermite_limit(x), -1, degree)
        one = xp.ones_like(x)
        result = _recurrence(xp, capped, one, x, lambda k, q, p: x * q - k * p)
        return xp.where(degree > _hermite_limit(x), math.nan, result)


class LaguerreL(_ThreeTerm, Op):
    """The Laguerre polynomial: L_0 = 1, L_1 = 1 - x,
    L_{k+1} = ((2k + 1 - x) L_k - k L_{k-1}) / (k + 1); 1 at x = 0."""

    @staticmethod
    def _values(xp: Any, x: Array, degree: Array) -> Array:
        one = xp.ones_like(x)
        result = _recurrence(
            xp, degree, one, 1 - x, lambda k, q, p: (((k + k) + (1 - x)) * q - k * p) / (k + 1)
        )
        return xp.where(x == 0, one, result)


class LegendreP(_ThreeTerm, Op):
    """The Legendre polynomial: P_0 = 1, P_1 = x, P_{k+1} = ((2k + 1) x P_k - k P_{k-1}) / (k + 1);
    1 at x = 1 and (-1)^n at x = -1."""

    @staticmethod
    def _values(xp: Any, x: Array, degree: Array) -> Array:
        one = xp.ones_like(x)
        result = _recurrence(
            xp, degree, one, x, lambda k, q, p: ((k + k + 1) * x * q - k * p) / (k + 1)
        )
        sign = xp.where(degree % 2 == 0, 1, -1).astype(x.dtype)
        return xp.where(x == 1, one, xp.where(x == -1, sign, result))


def _polynomial(
    op: type, name: str, what: str, example: str, result: str, *options: object
) -> Callable:
    def function(input: Tensor | Number, n: Tensor | Number) -> Tensor:
        x, degree = _float_operands(name, input, n)
        _float_kernel(name, x)
        return apply(op, (x, degree), *options)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = _sections(
        f"{what} Not differentiable, as PyTorch's.", example, result, degree=True
    )
    return function


chebyshev_polynomial_t = _polynomial(
    Chebyshev,
    "chebyshev_polynomial_t",
    "The Chebyshev polynomial of the first kind T_n(x), with T_n(cos t) = cos(n t).",
    "chebyshev_polynomial_t(chainrule.tensor([0.5, 2.0]), 3)",
    "tensor([-1., 26.])",
    "t",
    False,
    6,
)
chebyshev_polynomial_u = _polynomial(
    Chebyshev,
    "chebyshev_polynomial_u",
    "The Chebyshev polynomial of the second kind U_n(x), U_n(cos t) = sin((n+1) t) / sin t.",
    "chebyshev_polynomial_u(chainrule.tensor([0.5, 2.0]), 3)",
    "tensor([-1., 56.])",
    "u",
    False,
    8,
)
chebyshev_polynomial_v = _polynomial(
    Chebyshev,
    "chebyshev_polynomial_v",
    "The Chebyshev polynomial of the third kind V_n(x), V_0 = 1, V_1 = 2x - 1.",
    "chebyshev_polynomial_v(chainrule.tensor([0.5, 2.0]), 3)",
    "tensor([-1., 41.])",
    "v",
    False,
    8,
)
chebyshev_polynomial_w = _polynomial(
    Chebyshev,
    "chebyshev_polynomial_w",
    "The Chebyshev polynomial of the fourth kind W_n(x), W_0 = 1, W_1 = 2x + 1.",
    "chebyshev_polynomial_w(chainrule.tensor([0.5, 2.0]), 3)",
    "tensor([-1., 71.])",
    "w",
    False,
    8,
)
shifted_chebyshev_polynomial_t = _polynomial(
    Chebyshev,
    "shifted_chebyshev_polynomial_t",
    "T_n(2x - 1): the Chebyshev polynomial of the first kind on [0, 1].",
    "shifted_chebyshev_polynomial_t(chainrule.tensor([0.25, 1.5]), 3)",
    "tensor([ 1., 26.])",
    "t",
    True,
    6,
)
shifted_chebyshev_polynomial_u = _polynomial(
    Chebyshev,
    "shifted_chebyshev_polynomial_u",
    "U_n(2x - 1): the Chebyshev polynomial of the second kind on [0, 1].",
    "shifted_chebyshev_polynomial_u(chainrule.tensor([0.25, 1.5]), 3)",
    "tensor([ 1., 56.])",
    "u",
    True,
    6,
)
shifted_chebyshev_polynomial_v = _polynomial(
    Chebyshev,
    "shifted_chebyshev_polynomial_v",
    "V_n(2x - 1): the Chebyshev polynomial of the third kind on [0, 1].",
    "shifted_chebyshev_polynomial_v(chainrule.tensor([0.25, 1.5]), 3)",
    "tensor([ 1., 41.])",
    "v",
    True,
    6,
)
shifted_chebyshev_polynomial_w = _polynomial(
    Chebyshev,
    "shifted_chebyshev_polynomial_w",
    "W_n(2x - 1): the Chebyshev polynomial of the fourth kind on [0, 1].",
    "shifted_chebyshev_polynomial_w(chainrule.tensor([0.25, 1.5]), 3)",
    "tensor([ 1., 71.])",
    "w",
    True,
    4,
)
hermite_polynomial_h = _polynomial(
    HermiteH,
    "hermite_polynomial_h",
    "The physicists' Hermite polynomial H_n(x) (nan above degree 128 in float32, 512 in float64).",
    "hermite_polynomial_h(chainrule.tensor([0.5, 2.0]), 3)",
    "tensor([-5., 40.])",
)
hermite_polynomial_he = _polynomial(
    HermiteHe,
    "hermite_polynomial_he",
    "The probabilists' Hermite polynomial He_n(x) (nan above degree 128 in float32, 512 in "
    "float64).",
    "hermite_polynomial_he(chainrule.tensor([0.5, 2.0]), 3)",
    "tensor([-1.3750,  2.0000])",
)
laguerre_polynomial_l = _polynomial(
    LaguerreL,
    "laguerre_polynomial_l",
    "The Laguerre polynomial L_n(x).",
    "laguerre_polynomial_l(chainrule.tensor([0.5, 2.0]), 3)",
    "tensor([-0.1458, -0.3333])",
)
legendre_polynomial_p = _polynomial(
    LegendreP,
    "legendre_polynomial_p",
    "The Legendre polynomial P_n(x).",
    "legendre_polynomial_p(chainrule.tensor([0.5, 2.0]), 3)",
    "tensor([-0.4375, 17.0000])",
)
