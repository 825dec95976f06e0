"""NumPy's elementwise functions (its ufuncs and a few relatives) over chainrule ops.

Each ufunc casts its operands to the inner-loop dtypes NumPy itself would pick (so int / int is
float64 and exp of an int array is float64, as in NumPy, not float32 as in PyTorch), runs the
chainrule op, and returns a Tensor of NumPy's result dtype.
"""

from __future__ import annotations

import math
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


def _unary(ufunc: np.ufunc, function: Callable, name: str | None = None) -> Callable:
    """numpy.<name>(x) as a differentiable function of Tensors, arrays and numbers."""
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
    wrapper.__doc__ = f"numpy.{ufunc.__name__} on chainrule Tensors, differentiable."
    return wrapper


def _binary(ufunc: np.ufunc, function: Callable, name: str | None = None) -> Callable:
    """numpy.<name>(x1, x2) as a differentiable function, broadcasting like NumPy."""
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
    wrapper.__doc__ = f"numpy.{ufunc.__name__} on chainrule Tensors, differentiable."
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

add = _binary(np.add, ew.add)
subtract = _binary(np.subtract, ew.sub)
multiply = _binary(np.multiply, ew.mul)
divide = _binary(np.divide, ew.div, "divide")
true_divide = _binary(np.true_divide, ew.div, "true_divide")
floor_divide = _binary(np.floor_divide, ew.floor_divide)
power = _binary(np.power, ew.pow)
float_power = _binary(np.float_power, ew.pow)
mod = _binary(np.remainder, ew.remainder, "mod")
remainder = _binary(np.remainder, ew.remainder)
fmod = _binary(np.fmod, ew.fmod)
negative = _unary(np.negative, ew.neg)
positive = _unary(np.positive, _identity)
absolute = _unary(np.absolute, ew.abs)
abs = _unary(np.absolute, ew.abs, "abs")  # noqa: A001 - NumPy's name
fabs = _unary(np.fabs, ew.abs)
sign = _unary(np.sign, _sign)
square = _unary(np.square, ew.square)
reciprocal = _unary(np.reciprocal, ew.reciprocal)
sqrt = _unary(np.sqrt, ew.sqrt)
cbrt = _unary(np.cbrt, _op(ew.Cbrt))
maximum = _binary(np.maximum, ew.maximum)
minimum = _binary(np.minimum, ew.minimum)
fmax = _binary(np.fmax, ew.fmax)
fmin = _binary(np.fmin, ew.fmin)
hypot = _binary(np.hypot, _op(ew.Hypot))
conj = _unary(np.conjugate, cx.conj, "conj")
conjugate = _unary(np.conjugate, cx.conj, "conjugate")

# ---- exponentials and logarithms -----------------------------------------------------------

exp = _unary(np.exp, ew.exp)
exp2 = _unary(np.exp2, ew.exp2)
expm1 = _unary(np.expm1, ew.expm1)
log = _unary(np.log, ew.log)
log2 = _unary(np.log2, ew.log2)
log10 = _unary(np.log10, ew.log10)
log1p = _unary(np.log1p, ew.log1p)
logaddexp = _binary(np.logaddexp, _op(ew.LogAddExp))
logaddexp2 = _binary(np.logaddexp2, _op(ew.LogAddExp2))

# ---- trigonometric and hyperbolic ------------------------------------------------------------

sin = _unary(np.sin, ew.sin)
cos = _unary(np.cos, ew.cos)
tan = _unary(np.tan, ew.tan)
arcsin = _unary(np.arcsin, ew.asin)
arccos = _unary(np.arccos, ew.acos)
arctan = _unary(np.arctan, ew.atan)
arctan2 = _binary(np.arctan2, ew.atan2)
sinh = _unary(np.sinh, ew.sinh)
cosh = _unary(np.cosh, ew.cosh)
tanh = _unary(np.tanh, ew.tanh)
arcsinh = _unary(np.arcsinh, _op(ew.Asinh))
arccosh = _unary(np.arccosh, _op(ew.Acosh))
arctanh = _unary(np.arctanh, _op(ew.Atanh))
deg2rad = _unary(np.deg2rad, _scaled(math.pi / 180))
radians = _unary(np.radians, _scaled(math.pi / 180))
rad2deg = _unary(np.rad2deg, _scaled(180 / math.pi))
degrees = _unary(np.degrees, _scaled(180 / math.pi))

# ---- rounding (gradient zero) ----------------------------------------------------------------

floor = _unary(np.floor, ew.floor)
ceil = _unary(np.ceil, ew.ceil)
trunc = _unary(np.trunc, ew.trunc)
rint = _unary(np.rint, ew.round)

# ---- comparisons and logic (not differentiable) ----------------------------------------------

equal = _binary(np.equal, ew.eq)
not_equal = _binary(np.not_equal, ew.ne)
less = _binary(np.less, ew.lt)
less_equal = _binary(np.less_equal, ew.le)
greater = _binary(np.greater, ew.gt)
greater_equal = _binary(np.greater_equal, ew.ge)
logical_and = _binary(np.logical_and, ew.logical_and)
logical_or = _binary(np.logical_or, ew.logical_or)
logical_xor = _binary(np.logical_xor, ew.logical_xor)
logical_not = _unary(np.logical_not, _logical_not)
isnan = _unary(np.isnan, ew.isnan)
isinf = _unary(np.isinf, ew.isinf)
isfinite = _unary(np.isfinite, ew.isfinite)
signbit = _unary(np.signbit, ew.signbit)


# ---- relatives of the ufuncs -----------------------------------------------------------------


def real(val: ArrayLike) -> ndarray:
    """numpy.real: the real part, of the real dtype (complex128 -> float64); real data as it
    is. Gradient: PyTorch's real, the cotangent as the real part of the input's."""
    tensor = tensor_of(val, "real")
    return cx.real(tensor) if tensor.dtype.is_complex else tensor


def imag(val: ArrayLike) -> ndarray:
    """numpy.imag: the imaginary part, of the real dtype; zeros for real data (gradient zero)."""
    tensor = tensor_of(val, "imag")
    return cx.imag(tensor) if tensor.dtype.is_complex else zeros_like(tensor)


def sinc(x: ArrayLike) -> ndarray:
    """numpy.sinc: sin(pi x) / (pi x), 1 at 0; integer input gives float64, as NumPy."""
    tensor = tensor_of(x, "sinc")
    (operand,), result = ufunc_operands(np.sin, (tensor,))
    return finish(apply(ew.Sinc, (operand,)), result)


def round(a: ArrayLike, decimals: int = 0, out: None = None) -> ndarray:  # noqa: A001 - NumPy's name
    """numpy.round: halves to even, at `decimals` places; integers are returned unchanged
    (for decimals >= 0), as NumPy. Gradient zero."""
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
    Gradient: 1 where a_min <= a <= a_max, bounds included (PyTorch's clamp convention)."""
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
    numpy.where(condition) alone is `nonzero(condition)`."""
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
    """numpy.isclose: |a - b| <= atol + rtol * |b| elementwise (not symmetric, as NumPy)."""
    first, second = promoted(a, b, name="isclose")
    if not inexact(first):
        first, second = first.double(), second.double()
    return ew.isclose(first, second, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(
    a: ArrayLike, b: ArrayLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """numpy.allclose: whether isclose holds everywhere (a Python bool)."""
    return bool(isclose(a, b, rtol, atol, equal_nan).all().item())


def array_equal(a1: ArrayLike, a2: ArrayLike, equal_nan: bool = False) -> bool:
    """numpy.array_equal: same shape and elements (a Python bool)."""
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
