"""chainrule's dtypes and PyTorch's type-promotion rules.

A `dtype` wraps the NumPy dtype that stores it. Promotion follows PyTorch, not NumPy: any
integer with any float gives that float (NumPy gives float64 for int64 + float16), and Python
scalars or 0-dim tensors only raise the *category* (bool < integer < floating < complex) of a
result. Complex dtypes (complex64, complex128) sit above the floating ones: a float with a complex
gives the complex dtype wide enough for both (float64 + complex64 is complex128), and the default
complex dtype follows the default float dtype (complex64 for float32, complex128 for float64).

bfloat16 is stored as `ml_dtypes.bfloat16` (the NumPy dtype JAX uses). NumPy gives it the kind
'V' (a user-registered dtype), not 'f': code that asks whether an array is floating tests
`dtype.kind in "fV"` (or "fcV" with complex), which is exact because chainrule holds no other
'V' dtype. bfloat16 with float16 promotes to float32, as PyTorch's (neither holds the other).
"""

from __future__ import annotations

import builtins

import ml_dtypes
import numpy as np

from chainrule.errors import DTypeError

BOOL, INTEGER, FLOATING, COMPLEX = 0, 1, 2, 3


# The package name that reprs of dtypes, sizes and legacy type names begin with: "chainrule",
# or "torch" while `python -m chainrule.as_torch` runs a PyTorch program, so that what the
# program prints (x.dtype, x.shape, tensors) reads as it does under PyTorch.
_display_namespace = "chainrule"


def display_namespace() -> str:
    """ "chainrule", or "torch" under chainrule.as_torch: the prefix of printed dtypes."""
    return _display_namespace


def set_display_namespace(name: str) -> None:
    """Print dtypes, sizes and legacy type names as `name`.float32 and so on."""
    global _display_namespace
    _display_namespace = name


class dtype:  # noqa: N801 - PyTorch's spelling
    """A tensor element type, printed and compared like `torch.float32`.

    Args:
        name (str): PyTorch's name, 'float32'.
        numpy_dtype (numpy dtype): the array element type that holds it.
        category (int): bool, integer, floating or complex (0 to 3), for promotion.

    Example:
        >>> import chainrule
        >>> chainrule.float32.is_floating_point, chainrule.float32.itemsize
        (True, 4)
        >>> chainrule.ones(2, dtype=chainrule.int64).dtype == chainrule.int64
        True
    """

    __slots__ = (
        "name",
        "numpy",
        "category",
        "itemsize",
        "is_floating_point",
        "is_complex",
        "is_signed",
    )

    def __init__(self, name: str, numpy_dtype: np.dtype, category: int) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.category = category
        self.itemsize = self.numpy.itemsize
        self.is_floating_point = category == FLOATING
        self.is_complex = category == COMPLEX
        self.is_signed = self.numpy.kind in "ifc" or category == FLOATING

    def __repr__(self) -> str:
        return f"{_display_namespace}.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.numpy,))

    @property
    def abbr(self) -> str:
        """PyTorch's short name: 'f32', 'bf16', 'c64', 'i64', 'u8', 'b8'."""
        kind = "b" if self.category == BOOL else self.name.rstrip("0123456789")[0]
        prefix = "bf" if self.name == "bfloat16" else kind
        return f"{prefix}{self.itemsize * 8}"

    def to_real(self) -> dtype:
        """The dtype of this one's real part: complex64 -> float32; a real dtype is its own
        (spectral code writes `x.dtype.to_real()` for the dtype of `x.abs()`)."""
        return real_of(self)

    def to_complex(self) -> dtype:
        """The complex dtype with this one as its parts: float32 -> complex64, float64 ->
        complex128, bfloat16 -> complex64 (PyTorch's); an integer or bool has none."""
        if self.category == COMPLEX:
            return self
        if self is float16:  # PyTorch's complex32, which chainrule lacks
            raise DTypeError("float16.to_complex(): chainrule has no complex32 dtype")
        if self.category != FLOATING:
            raise DTypeError(f"Unknown Complex ScalarType for {scalar_type_name(self)}")
        return _COMPLEX_OF[self]


float16 = dtype("float16", np.float16, FLOATING)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, FLOATING)
float32 = dtype("float32", np.float32, FLOATING)
float64 = dtype("float64", np.float64, FLOATING)
uint8 = dtype("uint8", np.uint8, INTEGER)
int8 = dtype("int8", np.int8, INTEGER)
int16 = dtype("int16", np.int16, INTEGER)
int32 = dtype("int32", np.int32, INTEGER)
int64 = dtype("int64", np.int64, INTEGER)
bool_ = dtype("bool", np.bool_, BOOL)
complex64 = dtype("complex64", np.complex64, COMPLEX)
complex128 = dtype("complex128", np.complex128, COMPLEX)

half, float, double = float16, float32, float64  # noqa: A001 - PyTorch's aliases
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128


ALL = (
    float16,
    bfloat16,
    float32,
    float64,
    uint8,
    int8,
    int16,
    int32,
    int64,
    bool_,
    complex64,
    complex128,
)
_BY_NUMPY = {d.numpy: d for d in ALL}
_DEFAULT_FOR_CATEGORY = {BOOL: bool_, INTEGER: int64, FLOATING: float32}
# A complex dtype's real and imaginary parts, and the complex dtype of a float (PyTorch has no
# complex32 arithmetic on the CPU: float16 goes to complex64).
_REAL_OF = {complex64: float32, complex128: float64}
_COMPLEX_OF = {float16: complex64, bfloat16: complex64, float32: complex64, float64: complex128}


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
    if value is builtins.complex:
        return complex128
    return from_numpy_dtype(np.dtype(value))


def promote_types(a: dtype, b: dtype) -> dtype:
    """PyTorch's `promote_types` for the supported dtypes.

    Args:
        a (dtype): one operand's dtype.
        b (dtype): the other's.

    Returns:
        dtype: the smallest dtype both cast to safely, as PyTorch's binary ops choose it.

    Example:
        >>> import chainrule
        >>> chainrule.promote_types(chainrule.int32, chainrule.float16)
        chainrule.float16
        >>> chainrule.promote_types(chainrule.uint8, chainrule.int8)
        chainrule.int16
    """
    if a is b:
        return a
    if a.category == COMPLEX or b.category == COMPLEX:
        # The complex dtype whose parts hold both: float64 + complex64 is complex128.
        parts = [real_of(d) if d.category == COMPLEX else d for d in (a, b)]
        floats = [d for d in parts if d.category == FLOATING]
        widest = floats[0] if len(floats) == 1 else promote_types(*floats)
        return complex_of(widest)
    if a.category != b.category:
        high, low = (a, b) if a.category > b.category else (b, a)
        if high.category == FLOATING or low.category == BOOL:
            return high
    if a.category == FLOATING:
        if a.itemsize == b.itemsize:  # float16 and bfloat16: neither holds the other
            return float32
        return a if a.itemsize > b.itemsize else b
    return from_numpy_dtype(np.promote_types(a.numpy, b.numpy))


def real_of(d: dtype) -> dtype:
    """The dtype of a complex dtype's real and imaginary parts (complex64 -> float32); other
    dtypes are their own."""
    return _REAL_OF.get(d, d)


def complex_of(d: dtype) -> dtype:
    """The complex dtype with parts of floating dtype `d` (float64 -> complex128); complex
    dtypes are their own, and integers and bool give the default complex dtype."""
    if d.category == COMPLEX:
        return d
    if d.category == FLOATING:
        return _COMPLEX_OF[d]
    return default_for_category(COMPLEX)


def default_for_category(category: int) -> dtype:
    if category == COMPLEX:  # follows the default float dtype, as PyTorch's
        return _COMPLEX_OF[_DEFAULT_FOR_CATEGORY[FLOATING]]
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

    Args:
        d (dtype): chainrule.float16, float32 or float64.

    Example:
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

    Args:
        from_ (dtype): the dtype cast from.
        to (dtype): the dtype cast to.

    Example:
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
    if isinstance(value, builtins.complex):
        return COMPLEX
    return FLOATING


class finfo:  # noqa: N801 - PyTorch's name (in this module `int` and `float` are dtypes)
    """The limits of a floating dtype (torch.finfo): bits, eps, max, min, tiny (the smallest
    normal number, also `smallest_normal`), resolution and the dtype's name; the default dtype
    without an argument.

    Args:
        type (dtype, optional): a floating (or complex) dtype; the default dtype if None.

    Example:
        >>> import chainrule
        >>> info = chainrule.finfo(chainrule.float16)
        >>> info.bits, info.eps, info.max
        (16, 0.0009765625, 65504.0)
    """

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type: dtype | None = None) -> None:  # noqa: A002 - PyTorch's argument name
        kind = get_default_dtype() if type is None else real_of(as_dtype(type))
        if not kind.is_floating_point:
            raise TypeError(
                "finfo() requires a floating point input type. Use iinfo to handle 'iinfo'"
            )
        info = ml_dtypes.finfo(kind.numpy)  # NumPy's finfo, which also knows bfloat16
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
    """The limits of an integer dtype (torch.iinfo): bits, max, min and the dtype's name.

    Args:
        type (dtype): an integer (or bool) dtype.

    Example:
        >>> import chainrule
        >>> info = chainrule.iinfo(chainrule.int8)
        >>> info.bits, info.min, info.max
        (8, -128, 127)
    """

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type: dtype) -> None:  # noqa: A002 - PyTorch's argument name
        kind = as_dtype(type)
        if kind.category >= FLOATING:
            raise TypeError("iinfo() requires an integer input type. Use finfo to handle 'finfo'")
        info = np.iinfo(kind.numpy)
        self.bits = builtins.int(info.bits)
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = kind.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# PyTorch's C++ scalar-type names, which its error messages use ("expected Double").
_SCALAR_TYPE_NAMES = {
    "float16": "Half",
    "bfloat16": "BFloat16",
    "float32": "Float",
    "float64": "Double",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "uint8": "Byte",
    "bool": "Bool",
}


def scalar_type_name(of: dtype) -> str:
    """PyTorch's scalar-type name of a dtype ("Float" for float32), as its messages spell it."""
    return _SCALAR_TYPE_NAMES.get(of.name, of.name)
