"""chainrule's dtypes and PyTorch's type-promotion rules.

A `dtype` wraps the NumPy dtype that stores it. Promotion follows PyTorch, not NumPy: any
integer with any float gives that float (NumPy gives float64 for int64 + float16), and Python
scalars or 0-dim tensors only raise the *category* (bool < integer < floating) of a result.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

BOOL, INTEGER, FLOATING = 0, 1, 2


class dtype:  # noqa: N801 - PyTorch's spelling
    """A tensor element type, printed and compared like `torch.float32`."""

    __slots__ = ("name", "numpy", "category", "itemsize", "is_floating_point", "is_signed")

    def __init__(self, name: str, numpy_dtype: np.dtype, category: int) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.category = category
        self.itemsize = self.numpy.itemsize
        self.is_floating_point = category == FLOATING
        self.is_signed = self.numpy.kind in "if"

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.numpy,))

    @property
    def is_complex(self) -> bool:
        return False


float16 = dtype("float16", np.float16, FLOATING)
float32 = dtype("float32", np.float32, FLOATING)
float64 = dtype("float64", np.float64, FLOATING)
uint8 = dtype("uint8", np.uint8, INTEGER)
int8 = dtype("int8", np.int8, INTEGER)
int16 = dtype("int16", np.int16, INTEGER)
int32 = dtype("int32", np.int32, INTEGER)
int64 = dtype("int64", np.int64, INTEGER)
bool_ = dtype("bool", np.bool_, BOOL)

half, float, double = float16, float32, float64  # noqa: A001 - PyTorch's aliases
short, int, long = int16, int32, int64  # noqa: A001

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool_)
_BY_NUMPY = {d.numpy: d for d in ALL}
_DEFAULT_FOR_CATEGORY = {BOOL: bool_, INTEGER: int64, FLOATING: float32}


def from_numpy_dtype(numpy_dtype) -> dtype:
    """The chainrule dtype stored as `numpy_dtype`; raises for dtypes we do not support."""
    try:
        return _BY_NUMPY[numpy_dtype]
    except KeyError:
        pass
    key = np.dtype(numpy_dtype)
    if key in _BY_NUMPY:
        return _BY_NUMPY[key]
    if key.kind == "u":  # uint16/32/64: PyTorch has no arithmetic on them; widen losslessly
        return int64
    raise TypeError(
        f"chainrule does not support the dtype {key} (supported: {', '.join(d.name for d in ALL)})"
    )


def as_dtype(value) -> dtype:
    """Accept a chainrule dtype, a NumPy dtype or type, or a name like 'float32'."""
    if type(value) is dtype:
        return value
    if value is builtins.float:  # PyTorch maps Python's float to float64, as NumPy does
        return float64
    if value is builtins.int:
        return int64
    if value is builtins.bool:
        return bool_
    return from_numpy_dtype(np.dtype(value))


def promote_types(a: dtype, b: dtype) -> dtype:
    """PyTorch's `promote_types` for the supported dtypes."""
    if a is b:
        return a
    if a.category != b.category:
        high, low = (a, b) if a.category > b.category else (b, a)
        if high.category == FLOATING or low.category == BOOL:
            return high
    if a.category == FLOATING:
        return a if a.itemsize >= b.itemsize else b
    return from_numpy_dtype(np.promote_types(a.numpy, b.numpy))


def default_for_category(category: int) -> dtype:
    return _DEFAULT_FOR_CATEGORY[category]


def get_default_dtype() -> dtype:
    """The dtype of float factories (zeros, rand, tensor(1.5)) and of integer math that
    produces floats (int / int, exp of an int tensor): float32 unless set_default_dtype said
    otherwise.

    >>> chainrule.get_default_dtype()
    chainrule.float32
    """
    return _DEFAULT_FOR_CATEGORY[FLOATING]


def set_default_dtype(d: dtype) -> None:
    """Make `d` (float16, float32 or float64) the default floating dtype, process-wide, as
    torch.set_default_dtype: factories, Python floats and int-to-float promotion follow it.

    >>> chainrule.set_default_dtype(chainrule.float64)
    >>> chainrule.tensor([1.5]).dtype
    chainrule.float64
    >>> chainrule.set_default_dtype(chainrule.float32)
    """
    if type(d) is not dtype or d.category != FLOATING:
        raise TypeError(
            f"set_default_dtype: invalid dtype object {d!r}: only floating-point types are "
            "supported as the default type"
        )
    _DEFAULT_FOR_CATEGORY[FLOATING] = d


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether PyTorch's casting rules allow from_ -> to: never to a lower category
    (float -> integer, integer -> bool); any size within a category.

    >>> chainrule.can_cast(chainrule.float64, chainrule.int32)
    False
    """
    for name, value in (("from_", from_), ("to", to)):
        if type(value) is not dtype:
            raise TypeError(
                f"can_cast(): argument '{name}' must be a dtype, not {type(value).__name__}"
            )
    return from_.category <= to.category


def category_of_scalar(value) -> int:
    if isinstance(value, builtins.bool):
        return BOOL
    if isinstance(value, builtins.int):
        return INTEGER
    return FLOATING


class finfo:  # noqa: N801 - PyTorch's name (in this module `int` and `float` are dtypes)
    """The limits of a floating dtype (torch.finfo): bits, eps, max, min, tiny (the smallest
    normal number, also `smallest_normal`), resolution and the dtype's name; the default dtype
    without an argument."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type: Any = None) -> None:  # noqa: A002 - PyTorch's argument name
        kind = get_default_dtype() if type is None else as_dtype(type)
        if not kind.is_floating_point:
            raise TypeError(
                "finfo() requires a floating point input type. Use iinfo to handle 'iinfo'"
            )
        info = np.finfo(kind.numpy)
        self.bits = builtins.int(info.bits)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins.int(info.precision)  # exact, as torch's (not rounded)
        self.dtype = kind.name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:  # noqa: N801 - PyTorch's name
    """The limits of an integer dtype (torch.iinfo): bits, max, min and the dtype's name."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type: Any) -> None:  # noqa: A002 - PyTorch's argument name
        kind = as_dtype(type)
        if kind.is_floating_point:
            raise TypeError("iinfo() requires an integer input type. Use finfo to handle 'finfo'")
        info = np.iinfo(kind.numpy)
        self.bits = builtins.int(info.bits)
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = kind.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
