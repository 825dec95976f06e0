"""A device that behaves as CuPy's, on the CPU: how the backend seam is tested without a GPU.

`device("fake")` tensors hold `FakeArray`s: NumPy memory behind a wrapper that refuses what
CuPy refuses, so code that works on the fake device has no NumPy-only habit left:

- mixing with a NumPy array in math (`fake + ndarray`, `np.add(fake, ndarray)`) raises
  TypeError, as `cupy_array + numpy_array` does;
- implicit conversion to host (`np.asarray(fake)`) raises TypeError with CuPy's message;
  `.get()` (and `backend.to_numpy`) is the explicit way, and `.item()`, `float()`, `bool()`,
  `.tolist()` work as in CuPy, each counted in `FAKE_HOST_SYNCS` (a hot path must do none);
- reductions return 0-d arrays, never NumPy scalars (CuPy has no scalar type of its own);
- the namespace (`fake_numpy`, an op's `ctx.xp`) lacks what CuPy lacks: `errstate`,
  `seterr`, `ufunc.at`, `ufunc.reduceat`; `isinstance(a, xp.ndarray)` means a device array;
- host-to-device is explicit but allowed, as in CuPy: `xp.asarray(ndarray)` and
  `fake[...] = ndarray` copy the host data in.

It is slow (every call unwraps and wraps) and exists for the tests: `pytest -m device` runs
the op checker, the nn and optimizer tests and a training run on it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

# CuPy has none of these: NumPy's floating-point error state, and the unbuffered ufunc
# methods (scatter-adds go through Backend.scatter_add).
_MISSING_IN_CUPY = frozenset({"errstate", "seterr", "geterr", "seterrcall", "geterrcall"})
_MISSING_UFUNC_METHODS = frozenset({"at", "reduceat"})
# Creation from host data: CuPy copies a NumPy array in on these (host -> device is allowed).
_HOST_TO_DEVICE = frozenset({"asarray", "array", "asanyarray", "ascontiguousarray"})

FAKE_HOST_SYNCS = [0]  # device -> host conversions made implicitly (item, float, tolist ...)

_MIXING_ERROR = (
    "Unsupported type <class 'numpy.ndarray'>: a fake-device array cannot be mixed with a "
    "NumPy array in {where} (CuPy raises the same; move the host data with xp.asarray first)"
)


def _refuse_host(where: str) -> TypeError:
    return TypeError(_MIXING_ERROR.format(where=where))


def unwrap(value: Any, where: str) -> Any:
    """The NumPy data inside `value` (and inside lists, tuples and dicts of it); a plain NumPy
    array among the inputs is refused as CuPy refuses it."""
    kind = type(value)
    if kind is FakeArray:
        return value._data
    if kind is np.ndarray:
        raise _refuse_host(where)
    if kind is list or kind is tuple:
        return kind(unwrap(item, where) for item in value)
    if kind is dict:
        return {key: unwrap(item, where) for key, item in value.items()}
    if kind is slice:
        return slice(
            unwrap(value.start, where), unwrap(value.stop, where), unwrap(value.step, where)
        )
    return value


def wrap(value: Any, device_inputs: bool = True) -> Any:
    """NumPy results as FakeArrays; a NumPy scalar computed from device arrays becomes a 0-d
    array, as CuPy returns."""
    kind = type(value)
    if kind is np.ndarray:
        return FakeArray(value)
    if device_inputs and isinstance(value, np.generic):
        return FakeArray(np.asarray(value))
    if kind is list or kind is tuple:
        return kind(wrap(item, device_inputs) for item in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # named tuples (np.linalg)
        return kind(*(wrap(item, device_inputs) for item in value))
    return value


def _has_device_array(args: Any) -> bool:
    stack = [args]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is FakeArray:
            return True
        if kind is list or kind is tuple:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item.values())
    return False


def _call(function: Callable, name: str, args: tuple, kwargs: dict, owner: Any = None) -> Any:
    """function(*args, **kwargs) on the NumPy data; `owner` is the array a method belongs to.
    A result that is an input's own data (`astype(copy=False)`, `asarray(a)`) comes back as
    that input's wrapper: identity matters (forward's saved arrays are matched by it)."""
    on_device = owner is not None or _has_device_array(args) or _has_device_array(kwargs)
    if name in _HOST_TO_DEVICE and args and type(args[0]) is np.ndarray:
        args = (args[0].copy(),) + args[1:]  # an explicit host -> device copy
        on_device = True
    else:
        if args and type(args[0]) is FakeArray and owner is None:
            owner = args[0]
        args = unwrap(args, name)
    result = function(*args, **unwrap(kwargs, name))
    if owner is not None and result is owner._data:
        return owner
    return wrap(result, on_device or name in _HOST_TO_DEVICE)


class _FakeFunction:
    """A NumPy function (or an array's method) called on device arrays: unwrap, call, wrap."""

    __slots__ = ("_function", "_name", "_owner")

    def __init__(self, function: Callable, name: str, owner: Any = None) -> None:
        self._function = function
        self._name = name
        self._owner = owner

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _call(self._function, self._name, args, kwargs, self._owner)

    def __repr__(self) -> str:
        return f"<fake-device {self._name}>"


class _FakeUfunc(_FakeFunction):
    """A ufunc with the methods CuPy's ufuncs have (reduce, accumulate, outer)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name in _MISSING_UFUNC_METHODS:
            raise AttributeError(f"'ufunc' object has no attribute '{name}' on the fake device")
        attribute = getattr(self._function, name)
        if callable(attribute):
            return _FakeFunction(attribute, f"{self._name}.{name}")
        return attribute


class FakeNamespace:
    """NumPy's namespace (or a submodule, or an object such as a random Generator) whose
    functions take and return device arrays."""

    def __init__(self, target: Any, name: str) -> None:
        self._target = target
        self._name = name

    def __getattr__(self, name: str) -> Any:
        if name in _MISSING_IN_CUPY:
            raise AttributeError(f"module 'cupy' has no attribute '{name}' (fake device)")
        if name == "ndarray":
            return FakeArray
        attribute = getattr(self._target, name)
        if isinstance(attribute, ModuleType):
            wrapped: Any = FakeNamespace(attribute, f"{self._name}.{name}")
        elif isinstance(attribute, np.ufunc):
            wrapped = _FakeUfunc(attribute, name)
        elif callable(attribute) and not isinstance(attribute, type):
            wrapped = _FakeFunction(attribute, name)
        else:
            wrapped = attribute  # dtypes, exception classes, constants
        setattr(self, name, wrapped)
        return wrapped

    def __repr__(self) -> str:
        return f"<fake-device namespace {self._name}>"


fake_numpy = FakeNamespace(np, "numpy")


class _FakeFlags:
    """CuPy's flags: contiguity only (no `writeable`)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, flags: Any) -> None:
        self.c_contiguous = flags.c_contiguous
        self.f_contiguous = flags.f_contiguous
        self.owndata = flags.owndata


def _count_sync() -> None:
    FAKE_HOST_SYNCS[0] += 1


class FakeArray:
    """NumPy memory on the fake device. See the module docstring for what it refuses."""

    __slots__ = ("_data", "__weakref__")
    __array_priority__ = 100

    def __init__(self, data: np.ndarray) -> None:
        self._data = data

    # ---- what every array answers without touching data -----------------------------------
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @shape.setter
    def shape(self, shape: tuple) -> None:  # in place, as NumPy and CuPy allow for views
        self._data.shape = shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def strides(self) -> tuple:
        return self._data.strides

    @property
    def flags(self) -> _FakeFlags:
        return _FakeFlags(self._data.flags)

    @property
    def base(self) -> Any:
        base = self._data.base
        return None if base is None else FakeArray(base)

    @property
    def T(self) -> FakeArray:  # noqa: N802 - NumPy's name
        return FakeArray(self._data.T)

    @property
    def real(self) -> FakeArray:
        return FakeArray(self._data.real)

    @property
    def imag(self) -> FakeArray:
        return FakeArray(self._data.imag)

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Any:
        for row in self._data:
            yield wrap(row)

    def __repr__(self) -> str:
        return f"fake_array({np.array2string(self._data, separator=', ')}, dtype={self.dtype})"

    # ---- device -> host: explicit, or implicit where CuPy allows it (counted) ---------------
    def get(self) -> np.ndarray:
        """The host copy, as cupy.ndarray.get()."""
        return self._data.copy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
            "construct a NumPy array explicitly."
        )

    def item(self) -> Any:
        _count_sync()
        return self._data.item()

    def tolist(self) -> Any:
        _count_sync()
        return self._data.tolist()

    def __float__(self) -> float:
        _count_sync()
        return float(self._data)

    def __int__(self) -> int:
        _count_sync()
        return int(self._data)

    def __complex__(self) -> complex:
        _count_sync()
        return complex(self._data)

    def __bool__(self) -> bool:
        _count_sync()
        return bool(self._data)

    def __index__(self) -> int:
        _count_sync()
        return operator.index(self._data)

    # ---- indexing ---------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        return wrap(self._data[unwrap(key, "indexing")])

    def __setitem__(self, key: Any, value: Any) -> None:
        if type(value) is not np.ndarray:  # a NumPy value is copied in (host -> device)
            value = unwrap(value, "assignment")
        self._data[unwrap(key, "indexing")] = value

    # ---- the NumPy protocols: numpy functions on device arrays stay on the device -----------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method in _MISSING_UFUNC_METHODS:
            raise TypeError(f"ufunc.{method} is not supported on the fake device")
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        out = kwargs.get("out")
        result = function(*unwrap(inputs, ufunc.__name__), **unwrap(kwargs, ufunc.__name__))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return wrap(result)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _call(function, function.__name__, args, kwargs)

    # ---- methods: every other ndarray method, wrapped ----------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # __array_interface__, __array_struct__: host memory
            raise AttributeError(f"'FakeArray' object has no attribute '{name}'")
        attribute = getattr(self._data, name)
        if callable(attribute):
            return _FakeFunction(attribute, name, self)
        return wrap(attribute, device_inputs=False)

    def __copy__(self) -> FakeArray:
        return FakeArray(self._data.copy())

    def __deepcopy__(self, memo: dict) -> FakeArray:
        return FakeArray(self._data.copy())

    def __getstate__(self) -> Any:
        raise TypeError("fake-device arrays are not pickled (CuPy's are copied to host first)")


def _binary(name: str) -> Callable:
    function = getattr(operator, name)

    def method(self: FakeArray, other: Any) -> Any:
        if type(other) is np.ndarray:
            raise _refuse_host(f"'{name}'")
        return wrap(function(self._data, unwrap(other, name)))

    method.__name__ = f"__{name}__"
    return method


def _reflected(name: str) -> Callable:
    function = getattr(operator, name)

    def method(self: FakeArray, other: Any) -> Any:
        if type(other) is np.ndarray:
            raise _refuse_host(f"'{name}'")
        return wrap(function(unwrap(other, name), self._data))

    method.__name__ = f"__r{name}__"
    return method


def _inplace(name: str) -> Callable:
    function = getattr(operator, f"i{name.rstrip('_')}")

    def method(self: FakeArray, other: Any) -> FakeArray:
        if type(other) is np.ndarray:
            raise _refuse_host(f"'{name}='")
        function(self._data, unwrap(other, name))
        return self

    method.__name__ = f"__i{name}__"
    return method


def _unary(name: str) -> Callable:
    function = getattr(operator, name)

    def method(self: FakeArray) -> FakeArray:
        return wrap(function(self._data))

    method.__name__ = f"__{name}__"
    return method


_ARITHMETIC = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul")
_BITWISE = ("and", "or", "xor", "lshift", "rshift")
for _name in _ARITHMETIC + _BITWISE:
    _key = _name if _name not in ("and", "or") else f"{_name}_"
    setattr(FakeArray, f"__{_name}__", _binary(_key))
    setattr(FakeArray, f"__r{_name}__", _reflected(_key))
    setattr(FakeArray, f"__i{_name}__", _inplace(_key))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(FakeArray, f"__{_name}__", _binary(_name))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(FakeArray, f"__{_name}__", _unary(_name))
FakeArray.__hash__ = None  # type: ignore[assignment]  # arrays are unhashable, as NumPy's


def fake_rng(seed: int | None) -> FakeNamespace:
    """A random Generator whose draws land on the fake device."""
    return FakeNamespace(np.random.Generator(np.random.PCG64(seed)), "random.Generator")


def fake_from_numpy(array: np.ndarray) -> FakeArray:
    return FakeArray(np.array(array, copy=True))


def fake_to_numpy(array: FakeArray) -> np.ndarray:
    return array.get()


def fake_data(array: FakeArray) -> np.ndarray:
    """The NumPy memory behind a fake-device array: for the backend's own kernels only."""
    return array._data
