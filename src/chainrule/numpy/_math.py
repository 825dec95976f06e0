"""NumPy's elementwise functions (its ufuncs and a few relatives) over chainrule ops.

Each ufunc casts its operands to the inner-loop dtypes NumPy itself would pick (so int / int is
float64 and exp of an int array is float64, as in NumPy, not float32 as in PyTorch), runs the
chainrule op, and returns a Tensor of NumPy's result dtype.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Literal

import numpy as np

import chainrule.ops.complex as cx
import chainrule.ops.elementwise as ew
from chainrule._tensor import Tensor
from chainrule.numpy._core import (
    NO_VALUE,
    finish,
    inexact,
    promoted,
    tensor_of,
    ufunc_operands,
    unsupported,
)
from chainrule.numpy._creation import zeros_like
from chainrule.numpy._shape import nonzero
from chainrule.ops.op import apply

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from chainrule.numpy._core import _NoValueType
    from chainrule.numpy._typing import ArrayLike, DTypeLike, ndarray


_UFUNC_DOC = """numpy.{name} on chainrule.numpy arrays.

{summary}

Args:
{operands}
    out (None): not supported; must be None (results are new arrays).
    where (Literal[True]): not supported; must be True.
    dtype (DTypeLike, optional): the dtype to compute in and return, as NumPy's `dtype=`.

Returns:
    ndarray: {returns}

Example:
    >>> import chainrule.numpy as cnp
    >>> {call}
    {output}
"""
_UNARY_OPERAND = "    x (ArrayLike): the input: an array, a number, a nested list or a Tensor."
_BINARY_OPERANDS = (
    "    x1 (ArrayLike): the first operand.\n"
    "    x2 (ArrayLike): the second operand; x1 and x2 broadcast against each other."
)
_UFUNC_RULES = (
    "A ufunc: NumPy's broadcasting and result dtypes (NumPy's own loop resolution, so an "
    "integer array gives float64 where NumPy's does)."
)


def _ufunc_doc(name: str, summary: str, example: tuple[str, str], operands: str) -> str:
    """The docstring of the ufunc `name`: what it computes (`summary`), its arguments, and
    `example`, a call with its output."""
    call, output = example
    returns = "the shape of `x`." if operands == _UNARY_OPERAND else "the broadcast shape."
    paragraph = textwrap.fill(f"{summary} {_UFUNC_RULES}", width=92)
    return _UFUNC_DOC.format(
        name=name, summary=paragraph, operands=operands, returns=returns, call=call, output=output
    )


def _unary(
    ufunc: np.ufunc,
    function: Callable,
    summary: str,
    example: tuple[str, str],
    name: str | None = None,
) -> Callable:
    """numpy.<name>(x) as a differentiable function of Tensors, arrays and numbers, documented
    by `summary` (what it computes, its gradient) and `example` (a call and its output)."""
    name = name or ufunc.__name__

    def wrapper(
        x: ArrayLike,
        /,
        out: None = None,
        *,
        where: Literal[True] = True,
        dtype: DTypeLike | None = None,
    ) -> ndarray:
        unsupported(name, out=out, where=where)
        (operand,), result = ufunc_operands(ufunc, (x,), dtype)
        return finish(function(operand), result)

    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = _ufunc_doc(name, summary, example, _UNARY_OPERAND)
    return wrapper


def _binary(
    ufunc: np.ufunc,
    function: Callable,
    summary: str,
    example: tuple[str, str],
    name: str | None = None,
) -> Callable:
    """numpy.<name>(x1, x2) as a differentiable function, broadcasting like NumPy (documented
    as `_unary`)."""
    name = name or ufunc.__name__

    def wrapper(
        x1: ArrayLike,
        x2: ArrayLike,
        /,
        out: None = None,
        *,
        where: Literal[True] = True,
        dtype: DTypeLike | None = None,
    ) -> ndarray:
        unsupported(name, out=out, where=where)
        (a, b), result = ufunc_operands(ufunc, (x1, x2), dtype)
        return finish(function(a, b), result)

    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = _ufunc_doc(name, summary, example, _BINARY_OPERANDS)
    return wrapper


def _op(op: type) -> Callable:
    def function(*tensors: Tensor) -> Tensor:
        return apply(op, tensors)

    return function


def _scaled(factor: float) -> Callable:
    def function(x: Tensor) -> Tensor:
        return x * factor

    return function


def _identity(x: Tensor) -> Tensor:
    return x


def _logical_not(x: Tensor) -> Tensor:
    return ew.logical_not(x)


def _sign(x: Tensor) -> Tensor:
    return ew.sgn(x)  # NumPy 2's sign of a complex number is z / |z|, PyTorch's sgn


# ---- arithmetic ----------------------------------------------------------------------------

add = _binary(
    np.add,
    ew.add,
    "x1 + x2, elementwise with broadcasting.",
    ("cnp.add([1.0, 2.0], 0.5)", "array([1.5, 2.5])"),
)
subtract = _binary(
    np.subtract,
    ew.sub,
    "x1 - x2, elementwise with broadcasting.",
    ("cnp.subtract([1.0, 2.0], 0.5)", "array([0.5, 1.5])"),
)
multiply = _binary(
    np.multiply,
    ew.mul,
    "x1 * x2, elementwise with broadcasting.",
    ("cnp.multiply([1.5, 2.0], 2)", "array([3., 4.])"),
)
divide = _binary(
    np.divide,
    ew.div,
    "x1 / x2, true division (integers give float64, as NumPy).",
    ("cnp.divide([1, 2], 4)", "array([0.25, 0.5 ])"),
    "divide",
)
true_divide = _binary(
    np.true_divide,
    ew.div,
    "x1 / x2, the same function as `divide`.",
    ("cnp.true_divide([1, 2], 4)", "array([0.25, 0.5 ])"),
    "true_divide",
)
floor_divide = _binary(
    np.floor_divide,
    ew.floor_divide,
    "floor(x1 / x2), Python's `//`. Gradient zero.",
    ("cnp.floor_divide([7, -7], 2)", "array([ 3, -4])"),
)
power = _binary(
    np.power,
    ew.pow,
    "x1 ** x2, differentiable in both (PyTorch's pow).",
    ("cnp.power([2.0, 3.0], 2)", "array([4., 9.])"),
)
float_power = _binary(
    np.float_power,
    ew.pow,
    "x1 ** x2 computed in float64 (complex128 for complex input).",
    ("cnp.float_power([2, 3], 2)", "array([4., 9.])"),
)
mod = _binary(
    np.remainder,
    ew.remainder,
    "The remainder with the sign of x2 (Python's `%`), the same function as `remainder`. "
    "Gradient: 1 in x1, -floor(x1 / x2) in x2.",
    ("cnp.mod([5, -5], 3)", "array([2, 1])"),
    "mod",
)
remainder = _binary(
    np.remainder,
    ew.remainder,
    "The remainder with the sign of x2 (Python's `%`). Gradient: 1 in x1, -floor(x1 / x2) in x2.",
    ("cnp.remainder([5.5, -5.5], 3)", "array([2.5, 0.5])"),
)
fmod = _binary(
    np.fmod,
    ew.fmod,
    "C's remainder, with the sign of x1. Gradient: 1 in x1, -trunc(x1 / x2) in x2.",
    ("cnp.fmod([5, -5], 3)", "array([ 2, -2])"),
)
negative = _unary(
    np.negative,
    ew.neg,
    "-x.",
    ("cnp.negative([1.0, -2.0])", "array([-1.,  2.])"),
)
positive = _unary(
    np.positive,
    _identity,
    "+x (a copy of x).",
    ("cnp.positive([1.0, -2.0])", "array([ 1., -2.])"),
)
absolute = _unary(
    np.absolute,
    ew.abs,
    "|x|; the modulus of complex numbers (a real result). Gradient sign(x), 0 at 0 (PyTorch's).",
    ("cnp.absolute([-1.5, 0.0, 3 + 4j])", "array([1.5, 0. , 5. ])"),
)
abs = _unary(  # noqa: A001 - NumPy's name
    np.absolute,
    ew.abs,
    "|x|, the same function as `absolute`. Gradient sign(x), 0 at 0 (PyTorch's).",
    ("cnp.abs([-1.5, 2.0])", "array([1.5, 2. ])"),
    "abs",
)
fabs = _unary(
    np.fabs,
    ew.abs,
    "|x| of real data (NumPy refuses complex input). Gradient sign(x), 0 at 0.",
    ("cnp.fabs([-1.5, 2.0])", "array([1.5, 2. ])"),
)
sign = _unary(
    np.sign,
    _sign,
    "-1, 0 or 1 by the sign of x; z / |z| for complex z (NumPy 2's). Gradient zero for real data.",
    ("cnp.sign([-2.0, 0.0, 3.0])", "array([-1.,  0.,  1.])"),
)
square = _unary(
    np.square,
    ew.square,
    "x * x.",
    ("cnp.square([1.5, -2.0])", "array([2.25, 4.  ])"),
)
reciprocal = _unary(
    np.reciprocal,
    ew.reciprocal,
    "1 / x (an integer array stays integer, as NumPy: use floats).",
    ("cnp.reciprocal([2.0, 0.5])", "array([0.5, 2. ])"),
)
sqrt = _unary(
    np.sqrt,
    ew.sqrt,
    "The non-negative square root (nan below 0 for real data). Gradient 1 / (2 sqrt(x)), inf at 0.",
    ("cnp.sqrt([4.0, 2.0])", "array([2.        , 1.41421356])"),
)
cbrt = _unary(
    np.cbrt,
    _op(ew.Cbrt),
    "The real cube root, negative numbers included.",
    ("cnp.cbrt([8.0, -27.0])", "array([ 2., -3.])"),
)
maximum = _binary(
    np.maximum,
    ew.maximum,
    "The larger of x1 and x2, nan if either is nan. Gradient shared equally at ties.",
    ("cnp.maximum([1.0, 5.0], [3.0, 2.0])", "array([3., 5.])"),
)
minimum = _binary(
    np.minimum,
    ew.minimum,
    "The smaller of x1 and x2, nan if either is nan. Gradient shared equally at ties.",
    ("cnp.minimum([1.0, 5.0], [3.0, 2.0])", "array([1., 2.])"),
)
fmax = _binary(
    np.fmax,
    ew.fmax,
    "The larger of x1 and x2, ignoring a nan (nan only if both are).",
    ("cnp.fmax([1.0, float('nan')], [3.0, 2.0])", "array([3., 2.])"),
)
fmin = _binary(
    np.fmin,
    ew.fmin,
    "The smaller of x1 and x2, ignoring a nan (nan only if both are).",
    ("cnp.fmin([1.0, float('nan')], [3.0, 2.0])", "array([1., 2.])"),
)
hypot = _binary(
    np.hypot,
    _op(ew.Hypot),
    "sqrt(x1**2 + x2**2), without overflow. Gradient nan at the origin (PyTorch's).",
    ("cnp.hypot(3.0, [4.0, 0.0])", "array([5., 3.])"),
)
conj = _unary(
    np.conjugate,
    cx.conj,
    "The complex conjugate; real data unchanged. Gradient: the conjugate of the cotangent.",
    ("cnp.conj([1 + 2j, 3.0])", "array([1.-2.j, 3.-0.j])"),
    "conj",
)
conjugate = _unary(
    np.conjugate,
    cx.conj,
    "The complex conjugate, the same function as `conj`.",
    ("cnp.conjugate([1 + 2j, 3 - 1j])", "array([1.-2.j, 3.+1.j])"),
    "conjugate",
)

# ---- exponentials and logarithms -----------------------------------------------------------

exp = _unary(
    np.exp,
    ew.exp,
    "e ** x. Gradient exp(x).",
    ("cnp.exp([0.0, 1.0])", "array([1.        , 2.71828183])"),
)
exp2 = _unary(
    np.exp2,
    ew.exp2,
    "2 ** x.",
    ("cnp.exp2([3.0, 0.5])", "array([8.        , 1.41421356])"),
)
expm1 = _unary(
    np.expm1,
    ew.expm1,
    "exp(x) - 1, accurate for small x.",
    ("cnp.expm1([1e-10, 1.0])", "array([1.00000000e-10, 1.71828183e+00])"),
)
log = _unary(
    np.log,
    ew.log,
    "The natural logarithm (nan below 0, -inf at 0 for real data). Gradient 1 / x.",
    ("cnp.log([1.0, 10.0])", "array([0.        , 2.30258509])"),
)
log2 = _unary(
    np.log2,
    ew.log2,
    "The base-2 logarithm.",
    ("cnp.log2([1.0, 8.0])", "array([0., 3.])"),
)
log10 = _unary(
    np.log10,
    ew.log10,
    "The base-10 logarithm.",
    ("cnp.log10([1.0, 1000.0])", "array([0., 3.])"),
)
log1p = _unary(
    np.log1p,
    ew.log1p,
    "log(1 + x), accurate for small x.",
    ("cnp.log1p([1e-10, 1.0])", "array([1.00000000e-10, 6.93147181e-01])"),
)
logaddexp = _binary(
    np.logaddexp,
    _op(ew.LogAddExp),
    "log(exp(x1) + exp(x2)), computed without overflow.",
    ("cnp.logaddexp(1000.0, [1000.0, 0.0])", "array([1000.69314718, 1000.        ])"),
)
logaddexp2 = _binary(
    np.logaddexp2,
    _op(ew.LogAddExp2),
    "log2(2**x1 + 2**x2), computed without overflow.",
    ("cnp.logaddexp2([1.0, 3.0], 1.0)", "array([2.        , 3.32192809])"),
)

# ---- trigonometric and hyperbolic ------------------------------------------------------------

sin = _unary(
    np.sin,
    ew.sin,
    "The sine (radians). Gradient cos(x).",
    ("cnp.sin([0.0, 1.0])", "array([0.        , 0.84147098])"),
)
cos = _unary(
    np.cos,
    ew.cos,
    "The cosine (radians). Gradient -sin(x).",
    ("cnp.cos([0.0, 1.0])", "array([1.        , 0.54030231])"),
)
tan = _unary(
    np.tan,
    ew.tan,
    "The tangent (radians).",
    ("cnp.tan([0.0, 1.0])", "array([0.        , 1.55740772])"),
)
arcsin = _unary(
    np.arcsin,
    ew.asin,
    "The inverse sine, in [-pi/2, pi/2].",
    ("cnp.arcsin([0.0, 1.0])", "array([0.        , 1.57079633])"),
)
arccos = _unary(
    np.arccos,
    ew.acos,
    "The inverse cosine, in [0, pi].",
    ("cnp.arccos([0.0, 1.0])", "array([1.57079633, 0.        ])"),
)
arctan = _unary(
    np.arctan,
    ew.atan,
    "The inverse tangent, in (-pi/2, pi/2).",
    ("cnp.arctan([0.0, 1.0])", "array([0.        , 0.78539816])"),
)
arctan2 = _binary(
    np.arctan2,
    ew.atan2,
    "The angle of the point (x2, x1) from the positive x axis, in [-pi, pi] (the quadrant "
    "from both signs).",
    ("cnp.arctan2([1.0, -1.0], [-1.0, -1.0])", "array([ 2.35619449, -2.35619449])"),
)
sinh = _unary(
    np.sinh,
    ew.sinh,
    "The hyperbolic sine.",
    ("cnp.sinh([0.0, 1.0])", "array([0.        , 1.17520119])"),
)
cosh = _unary(
    np.cosh,
    ew.cosh,
    "The hyperbolic cosine.",
    ("cnp.cosh([0.0, 1.0])", "array([1.        , 1.54308063])"),
)
tanh = _unary(
    np.tanh,
    ew.tanh,
    "The hyperbolic tangent. Gradient 1 - tanh(x)**2.",
    ("cnp.tanh([0.0, 1.0])", "array([0.        , 0.76159416])"),
)
arcsinh = _unary(
    np.arcsinh,
    _op(ew.Asinh),
    "The inverse hyperbolic sine.",
    ("cnp.arcsinh([0.0, 1.0])", "array([0.        , 0.88137359])"),
)
arccosh = _unary(
    np.arccosh,
    _op(ew.Acosh),
    "The inverse hyperbolic cosine (x >= 1).",
    ("cnp.arccosh([1.0, 2.0])", "array([0.       , 1.3169579])"),
)
arctanh = _unary(
    np.arctanh,
    _op(ew.Atanh),
    "The inverse hyperbolic tangent (|x| < 1).",
    ("cnp.arctanh([0.0, 0.5])", "array([0.        , 0.54930614])"),
)
deg2rad = _unary(
    np.deg2rad,
    _scaled(math.pi / 180),
    "Degrees to radians, x * pi / 180.",
    ("cnp.deg2rad([90.0, 180.0])", "array([1.57079633, 3.14159265])"),
)
radians = _unary(
    np.radians,
    _scaled(math.pi / 180),
    "Degrees to radians, the same as `deg2rad`.",
    ("cnp.radians([90.0, 180.0])", "array([1.57079633, 3.14159265])"),
)
rad2deg = _unary(
    np.rad2deg,
    _scaled(180 / math.pi),
    "Radians to degrees, x * 180 / pi.",
    ("cnp.rad2deg([cnp.pi / 2, cnp.pi])", "array([ 90., 180.])"),
)
degrees = _unary(
    np.degrees,
    _scaled(180 / math.pi),
    "Radians to degrees, the same as `rad2deg`.",
    ("cnp.degrees([cnp.pi / 2, cnp.pi])", "array([ 90., 180.])"),
)

# ---- rounding (gradient zero) ----------------------------------------------------------------

floor = _unary(
    np.floor,
    ew.floor,
    "The largest integer <= x (a float result for float input). Gradient zero.",
    ("cnp.floor([-1.5, 1.5])", "array([-2.,  1.])"),
)
ceil = _unary(
    np.ceil,
    ew.ceil,
    "The smallest integer >= x. Gradient zero.",
    ("cnp.ceil([-1.5, 1.5])", "array([-1.,  2.])"),
)
trunc = _unary(
    np.trunc,
    ew.trunc,
    "x rounded towards zero. Gradient zero.",
    ("cnp.trunc([-1.5, 1.5])", "array([-1.,  1.])"),
)
rint = _unary(
    np.rint,
    ew.round,
    "x rounded to the nearest integer, halves to even. Gradient zero.",
    ("cnp.rint([0.5, 1.5, -2.7])", "array([ 0.,  2., -3.])"),
)

# ---- comparisons and logic (not differentiable) ----------------------------------------------

equal = _binary(
    np.equal,
    ew.eq,
    "x1 == x2, elementwise (a bool array; not differentiable).",
    ("cnp.equal([1, 2], [1.0, 3.0])", "array([ True, False])"),
)
not_equal = _binary(
    np.not_equal,
    ew.ne,
    "x1 != x2, elementwise (a bool array; not differentiable).",
    ("cnp.not_equal([1, 2], [1.0, 3.0])", "array([False,  True])"),
)
less = _binary(
    np.less,
    ew.lt,
    "x1 < x2, elementwise (a bool array; not differentiable).",
    ("cnp.less([1, 2], 2)", "array([ True, False])"),
)
less_equal = _binary(
    np.less_equal,
    ew.le,
    "x1 <= x2, elementwise (a bool array; not differentiable).",
    ("cnp.less_equal([1, 2], 2)", "array([ True,  True])"),
)
greater = _binary(
    np.greater,
    ew.gt,
    "x1 > x2, elementwise (a bool array; not differentiable).",
    ("cnp.greater([1, 2], 1)", "array([False,  True])"),
)
greater_equal = _binary(
    np.greater_equal,
    ew.ge,
    "x1 >= x2, elementwise (a bool array; not differentiable).",
    ("cnp.greater_equal([1, 2], 2)", "array([False,  True])"),
)
logical_and = _binary(
    np.logical_and,
    ew.logical_and,
    "The truth of x1 and x2, elementwise (a bool array).",
    ("cnp.logical_and([True, True], [False, True])", "array([False,  True])"),
)
logical_or = _binary(
    np.logical_or,
    ew.logical_or,
    "The truth of x1 or x2, elementwise (a bool array).",
    ("cnp.logical_or([True, False], [False, False])", "array([ True, False])"),
)
logical_xor = _binary(
    np.logical_xor,
    ew.logical_xor,
    "The truth of x1 xor x2, elementwise (a bool array).",
    ("cnp.logical_xor([True, True], [False, True])", "array([ True, False])"),
)
logical_not = _unary(
    np.logical_not,
    _logical_not,
    "The truth of not x, elementwise (a bool array).",
    ("cnp.logical_not([0.0, 2.0])", "array([ True, False])"),
)
isnan = _unary(
    np.isnan,
    ew.isnan,
    "Whether each element is nan (a bool array).",
    ("cnp.isnan([1.0, float('nan')])", "array([False,  True])"),
)
isinf = _unary(
    np.isinf,
    ew.isinf,
    "Whether each element is +inf or -inf (a bool array).",
    ("cnp.isinf([1.0, -cnp.inf])", "array([False,  True])"),
)
isfinite = _unary(
    np.isfinite,
    ew.isfinite,
    "Whether each element is neither inf nor nan (a bool array).",
    ("cnp.isfinite([1.0, cnp.inf, cnp.nan])", "array([ True, False, False])"),
)
signbit = _unary(
    np.signbit,
    ew.signbit,
    "Whether the sign bit is set (True for -0.0 too; a bool array).",
    ("cnp.signbit([-0.0, 0.0, -2.0])", "array([ True, False,  True])"),
)


# ---- relatives of the ufuncs -----------------------------------------------------------------


def real(val: ArrayLike) -> ndarray:
    """numpy.real: the real part, of the real dtype (complex128 -> float64); real data as it
    is. Gradient: PyTorch's real, the cotangent as the real part of the input's.

    Args:
        val (ArrayLike): the input array.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.real([1 + 2j, 3 - 4j])
        array([1., 3.])
        >>> cnp.real([1.5, 2.0])
        array([1.5, 2. ])
    """
    tensor = tensor_of(val, "real")
    return cx.real(tensor) if tensor.dtype.is_complex else tensor


def imag(val: ArrayLike) -> ndarray:
    """numpy.imag: the imaginary part, of the real dtype; zeros for real data (gradient zero).

    Args:
        val (ArrayLike): the input array.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.imag([1 + 2j, 3 - 4j])
        array([ 2., -4.])
        >>> cnp.imag([1.5, 2.0])
        array([0., 0.])
    """
    tensor = tensor_of(val, "imag")
    return cx.imag(tensor) if tensor.dtype.is_complex else zeros_like(tensor)


def sinc(x: ArrayLike) -> ndarray:
    """numpy.sinc: sin(pi x) / (pi x), 1 at 0; integer input gives float64, as NumPy.

    Args:
        x (ArrayLike): the input array.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.sinc([0.0, 0.5, 1.0])
        array([1.00000000e+00, 6.36619772e-01, 3.89817183e-17])
    """
    tensor = tensor_of(x, "sinc")
    (operand,), result = ufunc_operands(np.sin, (tensor,))
    return finish(apply(ew.Sinc, (operand,)), result)


def round(a: ArrayLike, decimals: int = 0, out: None = None) -> ndarray:  # noqa: A001 - NumPy's name
    """numpy.round: halves to even, at `decimals` places; integers are returned unchanged
    (for decimals >= 0), as NumPy. Gradient zero.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        decimals (int, optional): the number of decimal places (negative: to tens, hundreds, ...).
        out (None, optional): not supported; must be None (results are new arrays).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.round([0.5, 1.5, 2.675], 2)
        array([0.5 , 1.5 , 2.68])
        >>> cnp.round([1234, 5678], -2)
        array([1200, 5700])
    """
    unsupported("round", out=out)
    tensor = tensor_of(a, "round")
    if tensor.dtype.is_complex:  # each part rounded, as NumPy
        parts = (round(cx.real(tensor), decimals), round(cx.imag(tensor), decimals))
        return cx.complex(*parts)
    if not tensor.dtype.is_floating_point:
        if decimals >= 0:
            return tensor
        scale = 10 ** (-decimals)
        return finish(ew.round(tensor.double() / scale) * scale, tensor.dtype.numpy)
    return ew.round(tensor, decimals=decimals)


around = round


def clip(
    a: ArrayLike,
    a_min: ArrayLike | None | _NoValueType = NO_VALUE,
    a_max: ArrayLike | None | _NoValueType = NO_VALUE,
    out: None = None,
    *,
    min: ArrayLike | None | _NoValueType = NO_VALUE,  # noqa: A002 - NumPy's names
    max: ArrayLike | None | _NoValueType = NO_VALUE,  # noqa: A002
) -> ndarray:
    """numpy.clip(a, a_min, a_max) (or min=, max=); either bound may be None or an array.
    Gradient: 1 where a_min <= a <= a_max, bounds included (PyTorch's clamp convention).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        a_min (ArrayLike, optional): the lower bound (an array broadcasts), or None for none.
        a_max (ArrayLike, optional): the upper bound, or None for none.
        out (None, optional): not supported; must be None (results are new arrays).
        min (ArrayLike, optional): NumPy 2's name for a_min.
        max (ArrayLike, optional): NumPy 2's name for a_max.

    Example:
        >>> import numpy as np
        >>> import chainrule.numpy as cnp
        >>> cnp.clip([-2.0, 0.5, 3.0], -1, 1)
        array([-1. ,  0.5,  1. ])
        >>> from chainrule.func import grad
        >>> grad(lambda a: cnp.sum(cnp.clip(a, -1, 1)))(np.array([-2.0, 0.5, 1.0]))
        array([0., 1., 1.])
    """
    unsupported("clip", out=out)
    low = min if a_min is NO_VALUE else a_min
    high = max if a_max is NO_VALUE else a_max
    low = None if low is NO_VALUE else low
    high = None if high is NO_VALUE else high
    if low is None and high is None:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    present = [v for v in (a, low, high) if v is not None]
    operands = iter(promoted(*present, name="clip"))
    tensor = next(operands)
    low = None if low is None else next(operands)
    high = None if high is None else next(operands)
    return ew.clamp(tensor, low, high)


def where(
    condition: ArrayLike,
    x: ArrayLike | _NoValueType = NO_VALUE,
    y: ArrayLike | _NoValueType = NO_VALUE,
) -> ndarray | tuple[ndarray, ...]:
    """numpy.where(condition, x, y): x where condition, else y, differentiable in x and y;
    numpy.where(condition) alone is `nonzero(condition)`.

    Args:
        condition (ArrayLike): where True, take x; else y (nonzero values count as True).
        x (ArrayLike, optional): the values where condition holds (broadcast with the others).
        y (ArrayLike, optional): the values elsewhere.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.where([True, False, True], [1.0, 2.0, 3.0], 0.0)
        array([1., 0., 3.])
        >>> cnp.where([0, 3, 0, 5])
        (array([1, 3]),)
    """
    if x is NO_VALUE and y is NO_VALUE:
        return nonzero(condition)
    if x is NO_VALUE or y is NO_VALUE:
        raise ValueError("where: either both or neither of x and y should be given")
    mask = tensor_of(condition, "where")
    if mask.dtype.numpy != np.bool_:
        mask = ew.ne(mask, 0)
    first, second = promoted(x, y, name="where")
    return ew.where(mask, first, second)


def isclose(
    a: ArrayLike, b: ArrayLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> ndarray:
    """numpy.isclose: |a - b| <= atol + rtol * |b| elementwise (not symmetric, as NumPy).

    Args:
        a (ArrayLike): the first array.
        b (ArrayLike): the second array (the reference: the test is not symmetric).
        rtol (float, optional): the relative tolerance.
        atol (float, optional): the absolute tolerance.
        equal_nan (bool, optional): count nan as equal to nan.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.isclose([1.0, 1.1], [1.0 + 1e-9, 1.0])
        array([ True, False])
    """
    first, second = promoted(a, b, name="isclose")
    if not inexact(first):
        first, second = first.double(), second.double()
    return ew.isclose(first, second, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(
    a: ArrayLike, b: ArrayLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """numpy.allclose: whether isclose holds everywhere (a Python bool).

    Args:
        a (ArrayLike): the first array.
        b (ArrayLike): the second array (the reference).
        rtol (float, optional): the relative tolerance.
        atol (float, optional): the absolute tolerance.
        equal_nan (bool, optional): count nan as equal to nan.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9])
        True
    """
    return bool(isclose(a, b, rtol, atol, equal_nan).all().item())


def array_equal(a1: ArrayLike, a2: ArrayLike, equal_nan: bool = False) -> bool:
    """numpy.array_equal: same shape and elements (a Python bool).

    Args:
        a1 (ArrayLike): the first array.
        a2 (ArrayLike): the second array.
        equal_nan (bool, optional): count nan as equal to nan.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.array_equal([1, 2], [1.0, 2.0])
        True
        >>> cnp.array_equal([1, 2], [1, 2, 3])
        False
    """
    first, second = tensor_of(a1, "array_equal"), tensor_of(a2, "array_equal")
    if tuple(first.shape) != tuple(second.shape):
        return False
    first, second = promoted(first, second, name="array_equal")
    same = ew.eq(first, second)
    if equal_nan and inexact(first):
        same = ew.logical_or(same, ew.logical_and(ew.isnan(first), ew.isnan(second)))
    return bool(same.all().item())


__all__ = [
    "abs",
    "absolute",
    "add",
    "allclose",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "around",
    "array_equal",
    "cbrt",
    "ceil",
    "clip",
    "conj",
    "conjugate",
    "cos",
    "cosh",
    "deg2rad",
    "degrees",
    "divide",
    "equal",
    "exp",
    "exp2",
    "expm1",
    "fabs",
    "float_power",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "greater",
    "greater_equal",
    "hypot",
    "imag",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "less",
    "less_equal",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "logaddexp2",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "mod",
    "multiply",
    "negative",
    "not_equal",
    "positive",
    "power",
    "rad2deg",
    "radians",
    "real",
    "reciprocal",
    "remainder",
    "rint",
    "round",
    "sign",
    "signbit",
    "sin",
    "sinc",
    "sinh",
    "sqrt",
    "square",
    "subtract",
    "tan",
    "tanh",
    "true_divide",
    "trunc",
    "where",
]
