"""The meta device: tensors that have a shape and a dtype and no data, as PyTorch's.

`device("meta")` tensors hold `MetaArray`s, which know their shape and dtype only. Ops run on
them as on any backend: each forward calls the array namespace (`ctx.xp`, here `meta_numpy`),
whose functions compute the result's shape and dtype with NumPy's rules and allocate nothing.
So a model can be built and run on the meta device to learn its shapes (`nn.Linear(3, 4,
device="meta")`, then `Module.to_empty(device="cpu")` for real memory), at no cost in memory.

What has a shape rule here: creation (`zeros`, `empty`, `full`, `arange`, `*_like`, from host
data), copies and casts (`.to("meta")`, `astype`), every ufunc (elementwise math, comparisons),
`where`, the reductions (`sum`, `mean`, `amax`, `argmax`, `var` ...), `matmul`, the
reshape/view functions (`reshape`, `transpose`, `moveaxis`, `expand_dims`, `squeeze`,
`broadcast_to`, `concatenate`, `stack`, `flip`, basic and integer-array indexing, `pad`,
`as_strided`), which covers linear layers and convolutions. Anything else raises
NotImplementedError naming the NumPy function (and `Op.apply` adds the op's name). Reading
values (`.item()`, `.tolist()`, `.numpy()`, printing values) raises as PyTorch's meta tensors
do; writes and scatters do nothing, as there is nothing to write to.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

_NO_DATA = "Cannot copy out of meta tensor; no data!"


def _no_data() -> NotImplementedError:
    return NotImplementedError(_NO_DATA)


def _unsupported(name: str) -> NotImplementedError:
    return NotImplementedError(
        f"the meta device has no shape rule for numpy.{name} (shape-only tensors cover "
        "creation, casts, elementwise math, reductions, matmul and reshape/view ops)"
    )


class _MetaFlags:
    """A meta array is laid out as a fresh C-contiguous one."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata", "writeable")

    def __init__(self, ndim: int) -> None:
        self.c_contiguous = True
        self.f_contiguous = ndim <= 1
        self.owndata = True
        self.writeable = True


class MetaArray:
    """An array with a shape and a dtype and no data."""

    __slots__ = ("shape", "dtype", "__weakref__")
    __array_priority__ = 100

    def __init__(self, shape: Any, dtype: Any) -> None:
        self.shape = tuple(operator.index(size) for size in shape)
        self.dtype = np.dtype(dtype)

    # ---- metadata -------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def strides(self) -> tuple:
        strides, step = [], self.dtype.itemsize
        for size in reversed(self.shape):
            strides.append(step)
            step *= max(size, 1)
        return tuple(reversed(strides))

    @property
    def flags(self) -> _MetaFlags:
        return _MetaFlags(self.ndim)

    @property
    def base(self) -> None:
        return None

    @property
    def T(self) -> MetaArray:  # noqa: N802 - NumPy's name
        return MetaArray(self.shape[::-1], self.dtype)

    @property
    def real(self) -> MetaArray:
        return MetaArray(self.shape, np.zeros((), self.dtype).real.dtype)

    @property
    def imag(self) -> MetaArray:
        return self.real

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"meta_array(shape={self.shape}, dtype={self.dtype})"

    # ---- no data to read -----------------------------------------------------------------
    def item(self) -> Any:
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def tolist(self) -> Any:
        raise _no_data()

    def get(self) -> Any:
        raise _no_data()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise _no_data()

    def __float__(self) -> float:
        return self.item()

    __int__ = __complex__ = __bool__ = __index__ = __float__

    def __iter__(self) -> Any:
        for _ in range(len(self)):
            yield MetaArray(self.shape[1:], self.dtype)

    # ---- indexing: the shape NumPy's rules give, found on a zero-memory stand-in ------------
    def __getitem__(self, key: Any) -> MetaArray:
        return MetaArray(_standin(self.shape)[_standin_key(key)].shape, self.dtype)

    def __setitem__(self, key: Any, value: Any) -> None:
        _standin(self.shape)[_standin_key(key)]  # the key must be valid; nothing to write

    # ---- methods whose signature differs from the function's -----------------------------
    def reshape(self, *shape: Any, order: str = "C") -> MetaArray:
        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> MetaArray:
        return transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def astype(self, dtype: Any, copy: bool = True, **kwargs: Any) -> MetaArray:
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        return MetaArray(self.shape, dtype)

    def view(self, dtype: Any = None) -> MetaArray:
        if dtype is None:
            return MetaArray(self.shape, self.dtype)
        raise _unsupported("ndarray.view(dtype)")

    def copy(self, order: str = "C") -> MetaArray:
        return MetaArray(self.shape, self.dtype)

    def fill(self, value: Any) -> None:
        pass

    def __copy__(self) -> MetaArray:
        return self.copy()

    def __deepcopy__(self, memo: dict) -> MetaArray:
        return self.copy()

    def __getattr__(self, name: str) -> Any:
        """Every other method is the namespace's function of that name, on this array."""
        if name.startswith("__"):
            raise AttributeError(f"'MetaArray' object has no attribute '{name}'")
        function = getattr(meta_numpy, name)
        return lambda *args, **kwargs: function(self, *args, **kwargs)

    # ---- the NumPy protocols ---------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__":
            return _apply_ufunc(ufunc, inputs, kwargs)
        if method == "reduce":
            return _reduce_with(ufunc.reduce, *inputs, **kwargs)
        if method == "accumulate":
            return MetaArray(inputs[0].shape, _ufunc_dtype(ufunc, inputs[:1] * ufunc.nin, {}))
        if method == "at":
            return None  # an in-place scatter: nothing to write to
        raise _unsupported(f"{ufunc.__name__}.{method}")

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        name = function.__name__
        if function.__module__ != "numpy" or name not in meta_numpy.__dict__:
            raise _unsupported(f"{function.__module__.removeprefix('numpy.')}.{name}")
        return meta_numpy.__dict__[name](*args, **kwargs)

    def __matmul__(self, other: Any) -> MetaArray:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> MetaArray:
        return matmul(other, self)

    def __imatmul__(self, other: Any) -> MetaArray:
        return self


def _operator(ufunc: np.ufunc, reflected: bool = False, inplace: bool = False) -> Callable:
    def method(self: MetaArray, other: Any) -> MetaArray:
        result = _apply_ufunc(ufunc, (other, self) if reflected else (self, other), {})
        if inplace:
            if result.shape != self.shape:
                raise ValueError(
                    f"non-broadcastable output operand with shape {self.shape} doesn't match "
                    f"the broadcast shape {result.shape}"
                )
            return self
        return result

    return method


_OPERATORS = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "truediv": np.true_divide,
    "floordiv": np.floor_divide,
    "mod": np.remainder,
    "pow": np.power,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
    "xor": np.bitwise_xor,
    "lshift": np.left_shift,
    "rshift": np.right_shift,
}
for _name, _ufunc in _OPERATORS.items():
    setattr(MetaArray, f"__{_name}__", _operator(_ufunc))
    setattr(MetaArray, f"__r{_name}__", _operator(_ufunc, reflected=True))
    setattr(MetaArray, f"__i{_name}__", _operator(_ufunc, inplace=True))
_COMPARISONS = {
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
}
for _name, _ufunc in _COMPARISONS.items():
    setattr(MetaArray, f"__{_name}__", _operator(_ufunc))
for _name, _ufunc in {
    "neg": np.negative,
    "pos": np.positive,
    "abs": np.absolute,
    "invert": np.invert,
}.items():
    setattr(MetaArray, f"__{_name}__", lambda self, f=_ufunc: _apply_ufunc(f, (self,), {}))
MetaArray.__hash__ = None  # type: ignore[assignment]  # arrays are unhashable


# ---- shape rules -----------------------------------------------------------------------------


def _standin(shape: tuple, dtype: Any = bool) -> np.ndarray:
    """A NumPy array of `shape` in no memory (every element is the same one): NumPy's own
    indexing and broadcasting rules run on it for free."""
    return np.broadcast_to(np.zeros((), dtype=dtype), shape)


def _standin_key(key: Any) -> Any:
    """An index with meta index arrays replaced by zero-memory stand-ins (integer ones); a
    boolean mask has a data-dependent shape, which a meta tensor cannot know."""
    if isinstance(key, tuple):
        return tuple(_standin_key(part) for part in key)
    if isinstance(key, list):
        return [_standin_key(part) for part in key]
    if isinstance(key, MetaArray):
        if key.dtype.kind == "b":
            raise NotImplementedError(
                "indexing with a boolean mask has a data-dependent shape, which a meta tensor "
                "cannot know (as PyTorch's meta device)"
            )
        return _standin(key.shape, np.intp)
    return key


def _meta_like(value: Any) -> Any:
    """A 0-d NumPy stand-in of an operand's dtype (Python scalars stay: NumPy types them weakly)."""
    if isinstance(value, (MetaArray, np.ndarray)):
        return np.zeros((), dtype=value.dtype)
    return value


def _shape_of(value: Any) -> tuple:
    return value.shape if isinstance(value, (MetaArray, np.ndarray)) else ()


def _ufunc_dtype(ufunc: np.ufunc, inputs: tuple, kwargs: dict) -> Any:
    options = {key: kwargs[key] for key in ("dtype", "casting", "signature") if key in kwargs}
    with np.errstate(all="ignore"):
        sample = ufunc(*(_meta_like(value) for value in inputs), **options)
    if isinstance(sample, tuple):
        return tuple(np.asarray(part).dtype for part in sample)
    return np.asarray(sample).dtype


def _apply_ufunc(ufunc: np.ufunc, inputs: tuple, kwargs: dict) -> Any:
    """An elementwise function: the broadcast shape, and the dtype NumPy gives the operands'."""
    shape = np.broadcast_shapes(*(_shape_of(value) for value in inputs))
    dtype = _ufunc_dtype(ufunc, inputs, kwargs)
    out = kwargs.get("out")
    if out is not None:
        return out[0] if len(out) == 1 else out
    if isinstance(dtype, tuple):
        return tuple(MetaArray(shape, part) for part in dtype)
    return MetaArray(shape, dtype)


def _axes(axis: Any, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    normalized = []
    for one in axes:
        if not -ndim <= one < max(ndim, 1):
            raise ValueError(f"axis {one} is out of bounds for array of dimension {ndim}")
        normalized.append(one % ndim if ndim else 0)
    return tuple(normalized)


def _reduce_with(function: Callable, a: Any, axis: Any = None, **kwargs: Any) -> Any:
    """A reduction: the shape without (or with size 1 in) the reduced axes, and the dtype the
    same function gives on a one-element array of the operand's dtype."""
    kwargs.pop("out", None)
    keepdims = kwargs.get("keepdims", False)
    axes = _axes(axis, a.ndim)
    with np.errstate(all="ignore"):
        sample = function(np.ones((1,) * a.ndim, dtype=a.dtype), axis=axis, **kwargs)
    if keepdims:
        shape = tuple(1 if i in axes else size for i, size in enumerate(a.shape))
    else:
        shape = tuple(size for i, size in enumerate(a.shape) if i not in axes)
    return MetaArray(shape, np.asarray(sample).dtype)


def _reduction(name: str) -> Callable:
    function = getattr(np, name)

    def reduce(a: Any, axis: Any = None, *args: Any, **kwargs: Any) -> MetaArray:
        if args:
            raise _unsupported(f"{name} with positional arguments after axis")
        return _reduce_with(function, a, axis, **kwargs)

    reduce.__name__ = name
    return reduce


def reshape(a: Any, shape: Any, order: str = "C") -> MetaArray:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    known = math.prod(size for size in shape if size != -1)
    if -1 in shape:
        if known == 0 or a.size % known:
            raise ValueError(f"cannot reshape array of size {a.size} into shape {shape}")
        shape = tuple(a.size // known if size == -1 else size for size in shape)
    elif known != a.size:
        raise ValueError(f"cannot reshape array of size {a.size} into shape {shape}")
    return MetaArray(shape, a.dtype)


def transpose(a: Any, axes: Any = None) -> MetaArray:
    order = tuple(range(a.ndim))[::-1] if axes is None else _axes(axes, a.ndim)
    if sorted(order) != list(range(a.ndim)):
        raise ValueError("axes don't match array")
    return MetaArray(tuple(a.shape[i] for i in order), a.dtype)


def _via_standin(name: str) -> Callable:
    """A function that only rearranges shape (a view in NumPy): run on the stand-in."""
    function = getattr(np, name)

    def rearrange(a: Any, *args: Any, **kwargs: Any) -> MetaArray:
        return MetaArray(function(_standin(a.shape), *args, **kwargs).shape, a.dtype)

    rearrange.__name__ = name
    return rearrange


def matmul(a: Any, b: Any, out: Any = None, **kwargs: Any) -> MetaArray:
    """NumPy's matmul rule: batch dims broadcast, a 1-D operand taken as a vector."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    left = a.shape if a.ndim > 1 else (1, *a.shape)
    right = b.shape if b.ndim > 1 else (*b.shape, 1)
    if left[-1] != right[-2]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0 (size {right[-2]} "
            f"is different from {left[-1]})"
        )
    shape = np.broadcast_shapes(left[:-2], right[:-2])
    shape += (left[-2],) if a.ndim > 1 else ()
    shape += (right[-1],) if b.ndim > 1 else ()
    dtype = np.result_type(a.dtype, b.dtype)
    return MetaArray(shape, dtype)


def concatenate(arrays: Any, axis: int | None = 0, **kwargs: Any) -> MetaArray:
    dtype = kwargs.get("dtype") or np.result_type(*(a.dtype for a in arrays))
    if axis is None:
        return MetaArray((sum(a.size for a in arrays),), dtype)
    first = arrays[0]
    axis = _axes(axis, first.ndim)[0]
    for other in arrays[1:]:
        same = other.ndim == first.ndim and all(
            have == want
            for i, (have, want) in enumerate(zip(other.shape, first.shape))
            if i != axis
        )
        if not same:
            raise ValueError(
                "all the input array dimensions except for the concatenation axis must match "
                f"exactly (shapes {first.shape} and {other.shape}, axis {axis})"
            )
    shape = list(first.shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    return MetaArray(shape, dtype)


def stack(arrays: Any, axis: int = 0, **kwargs: Any) -> MetaArray:
    first = arrays[0]
    if any(a.shape != first.shape for a in arrays):
        raise ValueError("all input arrays must have the same shape")
    axis = _axes(axis, first.ndim + 1)[0]
    shape = (*first.shape[:axis], len(arrays), *first.shape[axis:])
    return MetaArray(shape, np.result_type(*(a.dtype for a in arrays)))


def broadcast_to(a: Any, shape: Any, **kwargs: Any) -> MetaArray:
    return MetaArray(np.broadcast_to(_standin(_shape_of(a)), shape).shape, _dtype_of(a))


def broadcast_arrays(*arrays: Any, **kwargs: Any) -> list:
    shape = np.broadcast_shapes(*(_shape_of(a) for a in arrays))
    return [MetaArray(shape, _dtype_of(a)) for a in arrays]


def where(condition: Any, x: Any = None, y: Any = None) -> MetaArray:
    if x is None and y is None:
        raise NotImplementedError(
            "where(condition) (nonzero) has a data-dependent shape, which a meta tensor cannot "
            "know (as PyTorch's meta device)"
        )
    shape = np.broadcast_shapes(_shape_of(condition), _shape_of(x), _shape_of(y))
    return MetaArray(shape, np.result_type(_meta_like(x), _meta_like(y)))


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> MetaArray:
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (array.ndim, 2))
    shape = tuple(int(size + before + after) for size, (before, after) in zip(array.shape, widths))
    return MetaArray(shape, array.dtype)


def as_strided(x: Any, shape: Any = None, strides: Any = None, **kwargs: Any) -> MetaArray:
    return MetaArray(x.shape if shape is None else shape, x.dtype)


def take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> MetaArray:
    if axis is None:
        return MetaArray(indices.shape, arr.dtype)
    axis = _axes(axis, arr.ndim)[0]
    others = [list(arr.shape), list(indices.shape)]
    for shape in others:
        shape[axis] = 1
    shape = list(np.broadcast_shapes(*map(tuple, others)))
    shape[axis] = indices.shape[axis]
    return MetaArray(shape, arr.dtype)


def take(a: Any, indices: Any, axis: Any = None, **kwargs: Any) -> MetaArray:
    index_shape = _shape_of(indices)
    if axis is None:
        return MetaArray(index_shape, a.dtype)
    axis = _axes(axis, a.ndim)[0]
    return MetaArray((*a.shape[:axis], *index_shape, *a.shape[axis + 1 :]), a.dtype)


def copyto(dst: Any, src: Any, **kwargs: Any) -> None:
    np.broadcast_shapes(_shape_of(src), dst.shape)  # the shapes must fit; nothing to copy


def _dtype_of(value: Any) -> Any:
    return value.dtype if isinstance(value, (MetaArray, np.ndarray)) else np.asarray(value).dtype


def _creation(kind: str) -> Callable:
    def create(shape: Any, *args: Any, dtype: Any = None, **kwargs: Any) -> MetaArray:
        if kind == "full":  # full(shape, fill_value, dtype=None)
            fill = args[0] if args else kwargs.get("fill_value")
            dtype = dtype or (args[1] if len(args) > 1 else None) or np.asarray(fill).dtype
        elif args and dtype is None:  # empty/zeros/ones(shape, dtype=float), as NumPy
            dtype = args[0]
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return MetaArray(shape, dtype if dtype is not None else np.float64)

    create.__name__ = kind
    return create


def _creation_like(kind: str) -> Callable:
    def create(a: Any, *args: Any, dtype: Any = None, shape: Any = None, **kwargs: Any) -> Any:
        return MetaArray(a.shape if shape is None else shape, dtype or a.dtype)

    create.__name__ = f"{kind}_like"
    return create


def asarray(data: Any, dtype: Any = None, **kwargs: Any) -> MetaArray:
    """Host data (an array, a scalar, nested lists) as a meta array of its shape and dtype."""
    if isinstance(data, MetaArray):
        return data if dtype is None or np.dtype(dtype) == data.dtype else data.astype(dtype)
    host = np.asarray(data, dtype=dtype)
    return MetaArray(host.shape, host.dtype)


def arange(*args: Any, dtype: Any = None, **kwargs: Any) -> MetaArray:
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
    count = max(math.ceil((stop - start) / step), 0)
    first = np.arange(start, start + step, step, dtype=dtype)  # one element: NumPy's dtype
    return MetaArray((count,), first.dtype)


def eye(rows: int, cols: int | None = None, k: int = 0, dtype: Any = float, **kw: Any) -> Any:
    return MetaArray((rows, rows if cols is None else cols), dtype)


def result_type(*operands: Any) -> Any:
    return np.result_type(*(_meta_like(o) if isinstance(o, MetaArray) else o for o in operands))


def can_cast(source: Any, target: Any, casting: str = "safe") -> bool:
    source = source.dtype if isinstance(source, MetaArray) else source
    return np.can_cast(source, target, casting)


def _same(name: str) -> Callable:
    """A function whose result has its first operand's shape and dtype."""

    def same(a: Any, *args: Any, **kwargs: Any) -> MetaArray:
        return MetaArray(a.shape, a.dtype)

    same.__name__ = name
    return same


_REDUCTIONS = (
    "sum",
    "prod",
    "mean",
    "max",
    "min",
    "amax",
    "amin",
    "any",
    "all",
    "argmax",
    "argmin",
    "var",
    "std",
    "nansum",
    "nanmean",
    "nanmax",
    "nanmin",
    "count_nonzero",
    "median",
)
_VIEWS = (
    "moveaxis",
    "swapaxes",
    "expand_dims",
    "squeeze",
    "ravel",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
)
_SAME = ("flip", "ascontiguousarray", "copy", "clip", "cumsum", "cumprod", "sort", "real_if_close")


class MetaNamespace:
    """NumPy's namespace for meta arrays: the functions with a shape rule, NumPy's dtypes and
    constants as they are, and NotImplementedError naming any other function."""

    def __init__(self) -> None:
        functions: dict[str, Any] = {
            "reshape": reshape,
            "transpose": transpose,
            "matmul": matmul,
            "concatenate": concatenate,
            "stack": stack,
            "broadcast_to": broadcast_to,
            "broadcast_arrays": broadcast_arrays,
            "where": where,
            "pad": pad,
            "asarray": asarray,
            "array": asarray,
            "asanyarray": asarray,
            "arange": arange,
            "eye": eye,
            "result_type": result_type,
            "can_cast": can_cast,
            "copyto": copyto,
            "take_along_axis": take_along_axis,
            "take": take,
            "empty": _creation("empty"),
            "zeros": _creation("zeros"),
            "ones": _creation("ones"),
            "full": _creation("full"),
        }
        for kind in ("empty", "zeros", "ones", "full"):
            functions[f"{kind}_like"] = _creation_like(kind)
        for name in _REDUCTIONS:
            functions[name] = _reduction(name)
        for name in _VIEWS:
            functions[name] = _via_standin(name)
        for name in _SAME:
            functions[name] = _same(name)
        self.__dict__.update(functions)
        self.lib = _MetaLib()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(np, name)
        if isinstance(attribute, ModuleType):  # linalg, fft, random: no shape rules
            wrapped: Any = _Unsupported(name)
        elif isinstance(attribute, np.ufunc):
            wrapped = _MetaUfunc(attribute)
        elif callable(attribute) and not isinstance(attribute, type) and name not in _HOST_ONLY:
            raise _unsupported(name)
        else:
            wrapped = attribute  # dtypes, iinfo/finfo, promote_types, constants
        setattr(self, name, wrapped)
        return wrapped

    def __repr__(self) -> str:
        return "<meta-device namespace numpy>"


# Functions of dtypes (not arrays), which need no shape rule.
_HOST_ONLY = frozenset({"iinfo", "finfo", "promote_types", "issubdtype", "dtype"})


class _MetaUfunc:
    """A ufunc on meta arrays: called, reduced, accumulated or scattered (`at`, a no-op)."""

    __slots__ = ("_ufunc",)

    def __init__(self, ufunc: np.ufunc) -> None:
        self._ufunc = ufunc

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        return _apply_ufunc(self._ufunc, inputs, kwargs)

    def reduce(self, a: Any, axis: Any = 0, **kwargs: Any) -> MetaArray:
        return _reduce_with(self._ufunc.reduce, a, axis, **kwargs)

    def accumulate(self, a: Any, axis: int = 0, **kwargs: Any) -> MetaArray:
        return MetaArray(a.shape, _ufunc_dtype(self._ufunc, (a,) * self._ufunc.nin, kwargs))

    def at(self, *args: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ufunc, name)  # nin, nout, __name__ ...


def sliding_window_view(x: Any, window_shape: Any, axis: Any = None, **kwargs: Any) -> MetaArray:
    windows = np.lib.stride_tricks.sliding_window_view(_standin(x.shape), window_shape, axis)
    return MetaArray(windows.shape, x.dtype)


class _Unsupported:
    """A NumPy submodule on the meta device: every function in it raises; its exception
    classes are NumPy's (an op's `except xp.linalg.LinAlgError` names one)."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(getattr(np, self._prefix), name, None)
        if isinstance(attribute, type) and issubclass(attribute, BaseException):
            return attribute
        raise _unsupported(f"{self._prefix}.{name}")


class _MetaStrideTricks:
    as_strided = staticmethod(as_strided)
    sliding_window_view = staticmethod(sliding_window_view)

    def __getattr__(self, name: str) -> Any:
        raise _unsupported(f"lib.stride_tricks.{name}")


class _MetaLib:
    stride_tricks = _MetaStrideTricks()

    def __getattr__(self, name: str) -> Any:
        raise _unsupported(f"lib.{name}")


meta_numpy = MetaNamespace()


class MetaRandom:
    """A random Generator on the meta device: draws have a shape and a dtype, no values."""

    def random(self, size: Any = None, dtype: Any = np.float64, **kwargs: Any) -> MetaArray:
        return MetaArray(_size(size), dtype)

    def standard_normal(self, size: Any = None, dtype: Any = np.float64, **kw: Any) -> Any:
        return MetaArray(_size(size), dtype)

    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Any = None) -> MetaArray:
        return MetaArray(_size(size), np.float64)

    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None) -> MetaArray:
        return MetaArray(_size(size), np.float64)

    def integers(self, low: Any, high: Any = None, size: Any = None, dtype: Any = np.int64,
                 **kwargs: Any) -> MetaArray:  # fmt: skip
        return MetaArray(_size(size), dtype)

    def permutation(self, n: Any) -> MetaArray:
        return MetaArray((n,), np.int64)

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"the meta device draws no random.{name}")


def _size(size: Any) -> tuple:
    if size is None:
        return ()
    return (size,) if isinstance(size, int) else tuple(size)
