"""chainrule.numpy.ndarray: the results of chainrule.numpy, Tensors that behave as NumPy arrays.

The rule: values inside `chainrule.numpy` code behave as NumPy arrays do. Every function of the
namespace returns an `ndarray`, a Tensor subclass with NumPy's attributes, methods, operators
and indexing (`x.dtype` is a NumPy dtype, `x.size` an int, `x.astype`, `x.sum(axis=0)`,
`x[::-1]`, `x == (1, 2)` elementwise, `int_array / 2` in float64), and NumPy's own functions
called on one (`np.sum(x, axis=0)`, `np.exp(x)`) run chainrule.numpy's, so they stay
differentiable. It remains a Tensor of the same graph: `backward()`, `.grad`,
`requires_grad_()`, `.detach()`, `.numpy()`, `.item()` are Tensor's, and the func transforms
take it as any Tensor.

Plain Tensors keep PyTorch's semantics (`t.size()`, `t[::-1]` raises, torch dtypes): the two
meet only through this class. Inside the namespace, every operand is first seen as a plain
Tensor (`_core.tensor_of`), so chainrule's ops never see an ndarray; at the namespace's surface
`numpy_results` turns each resulting Tensor into an ndarray: an alias of the same memory and
the same place in the graph (a leaf's alias sends its gradient to the leaf).

Tensor's other methods (`x.exp()`, `x.view(...)`, ...) still work on an ndarray: they run on
the plain Tensor and return plain Tensors, with PyTorch's semantics.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import chainrule.ops.shape as shp
from chainrule._tensor import Tensor
from chainrule.numpy import _creation, _math, _products, _reductions, _shape
from chainrule.numpy._core import NUMPY_BEHAVING, alias_as, as_dtype, plain, tensor_of
from chainrule.ops.tensor_methods import _ELEMENTWISE_INPLACE, TensorMethods

if TYPE_CHECKING:  # annotations only
    from chainrule.numpy._typing import ArrayLike, DTypeLike


class ndarray(Tensor):  # noqa: N801 - NumPy's name (JAX's jnp.ndarray is its arrays' type too)
    """A Tensor with NumPy's behaviour: what every chainrule.numpy function returns.

    >>> import chainrule.numpy as cnp
    >>> x = cnp.arange(6.0).reshape(2, 3)
    >>> x.size, x.dtype, x.dtype.type
    (6, dtype('float64'), <class 'numpy.float64'>)
    >>> x[::-1, ::-2]
    array([[5., 3.],
           [2., 0.]])
    >>> x.sum(axis=0) == (3, 5, 7)
    array([ True,  True,  True])
    """

    __slots__ = ()
    _numpy_behaving = NUMPY_BEHAVING

    def __new__(cls, *args: Any, **kwargs: Any) -> ndarray:
        raise TypeError(
            "chainrule.numpy.ndarray is the type of chainrule.numpy's results; make one with "
            "cnp.array, cnp.asarray, cnp.zeros, ..."
        )

    def as_tensor(self) -> Tensor:
        """This value as a plain chainrule Tensor, with PyTorch's behaviour: the same memory
        and the same place in the graph (for code written against chainrule's Tensor API)."""
        return plain(self)

    # ---- NumPy's attributes ----------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:  # type: ignore[override]
        return self._array.dtype

    @property
    def shape(self) -> tuple[int, ...]:  # type: ignore[override]
        return tuple(self._array.shape)  # a plain tuple, as NumPy's (not a chainrule.Size)

    @property
    def size(self) -> int:  # type: ignore[override]
        return int(self._array.size)

    @property
    def itemsize(self) -> int:
        return int(self._array.itemsize)

    @property
    def nbytes(self) -> int:
        return int(self._array.nbytes)

    @property
    def T(self) -> ndarray:  # noqa: N802 - NumPy's name
        return numpy_results(_shape.transpose(self))

    @property
    def real(self) -> ndarray:  # type: ignore[override]
        return numpy_results(_math.real(self))

    @property
    def imag(self) -> ndarray:  # type: ignore[override]
        return numpy_results(_math.imag(self))

    def astype(
        self,
        dtype: DTypeLike,
        order: str = "K",
        casting: str = "unsafe",
        subok: bool = True,
        copy: bool = True,
    ) -> ndarray:
        """ndarray.astype: a differentiable cast (a copy unless copy=False and the dtype is
        already `dtype`)."""
        result = as_dtype(plain(self), dtype, "astype")
        if copy and result._array is self._array:
            result = _creation.copy(result)
        return numpy_results(result)

    # ---- indexing ----------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> ndarray:
        x = plain(self)
        flipped, key = _without_negative_steps(x, _plain_key(key))
        if flipped:
            x = shp.flip(x, tuple(flipped))
        return numpy_results(x[key])

    def __setitem__(self, key: Any, value: Any) -> None:
        alias = plain(self)
        key = _negative_steps_as_indices(alias, _plain_key(key))
        value = tensor_of(value, "__setitem__") if not isinstance(value, (int, float)) else value
        alias[key] = value
        _take_history(self, alias)

    def __iter__(self) -> Iterator[ndarray]:
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._array.shape[0]))

    # ---- methods with NumPy's names and arguments ----------------------------------------
    def reshape(self, *shape: int | Sequence[int], order: str = "C") -> ndarray:  # type: ignore[override]
        target = shape[0] if len(shape) == 1 else shape
        return numpy_results(_shape.reshape(self, target, order))

    def transpose(self, *axes: int | Sequence[int] | None) -> ndarray:  # type: ignore[override]
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            axes = axes[0]
        return numpy_results(_shape.transpose(self, axes or None))

    def flatten(self, order: str = "C") -> ndarray:  # type: ignore[override]
        return numpy_results(_creation.copy(_shape.ravel(self, order)))

    def copy(self, order: str = "C") -> ndarray:
        """ndarray.copy: new memory, still differentiable, as np.copy (Tensor.clone)."""
        return numpy_results(_creation.copy(self))

    def sort(  # type: ignore[override]
        self, axis: int = -1, kind: str | None = None, order: str | Sequence[str] | None = None
    ) -> None:
        """ndarray.sort: in place, as NumPy."""
        self[...] = _reductions.sort(self, axis, kind, order)

    def fill(self, value: ArrayLike) -> None:
        """ndarray.fill: every element set to `value`, in place."""
        self[...] = value

    def __repr__(self) -> str:
        text = repr(self._backend.to_numpy(self._array))
        if self._node is not None:
            return f"{text[:-1]}, grad_fn=<{self._node.name()}>)"
        if self._requires_grad:
            return f"{text[:-1]}, requires_grad=True)"
        return text

    __hash__ = Tensor.__hash__

    # ---- NumPy's functions on an ndarray: chainrule.numpy's -----------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        function = _NAMESPACE.get(ufunc.__name__)
        if method != "__call__" or function is None:
            name = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            return _on_numpy_values(getattr(ufunc, method), name, inputs, kwargs)
        return function(*inputs, **kwargs)

    def __array_function__(self, func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
        module = func.__module__ or "numpy"
        table = _LINALG if module.endswith("linalg") else _NAMESPACE
        function = table.get(func.__name__) if module.startswith("numpy") else None
        if function is None:
            return _on_numpy_values(func, f"{module}.{func.__name__}", args, kwargs)
        return function(*args, **kwargs)


# The namespace's public functions, for NumPy's dispatch; filled in by chainrule/numpy/__init__.
_NAMESPACE: dict[str, Callable] = {}
_LINALG: dict[str, Callable] = {}


def register_for_dispatch(namespace: dict[str, Callable], linalg: dict[str, Callable]) -> None:
    """Which function answers numpy.<name> (and numpy.linalg.<name>) called on an ndarray."""
    _NAMESPACE.update(namespace)
    _LINALG.update(linalg)


def _on_numpy_values(function: Callable, name: str, args: Any, kwargs: dict) -> Any:
    """A NumPy function chainrule.numpy does not have: run on plain NumPy values, which is
    only possible when nothing is being differentiated."""

    def host(value: Any) -> Any:
        if isinstance(value, Tensor):
            if value.requires_grad:
                raise TypeError(
                    f"{name} is not in chainrule.numpy, so it cannot be differentiated; called "
                    "on an array that requires grad"
                )
            return value.numpy(force=True)
        if isinstance(value, (list, tuple)):
            return type(value)(host(v) for v in value)
        return value

    return function(*host(tuple(args)), **{k: host(v) for k, v in kwargs.items()})


def numpy_results(value: Any) -> Any:
    """Each plain Tensor in `value` (a Tensor, or a tuple or list of them, named tuples
    included) as an ndarray; anything else unchanged."""
    if type(value) is Tensor:
        return alias_as(value, ndarray)
    if isinstance(value, tuple):
        items = [numpy_results(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if type(value) is list:
        return [numpy_results(v) for v in value]
    return value


def returns_ndarrays(function: Callable) -> Callable:
    """`function` with its Tensor results given as ndarrays (the namespace's surface)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return numpy_results(function(*args, **kwargs))

    return wrapper


class ResultsAsArrays:
    """An index trick (`r_`, `c_`) whose results are ndarrays."""

    def __init__(self, trick: Any) -> None:
        self._trick = trick
        self.__doc__ = type(trick).__doc__

    def __getitem__(self, key: Any) -> Any:
        return numpy_results(self._trick[key])


# ---- NumPy's indexing: negative steps -------------------------------------------------------


def _plain_key(key: Any) -> Any:
    if isinstance(key, tuple):
        return tuple(plain(part) for part in key)
    return plain(key)


def _axes_of_key(x: Tensor, key: tuple) -> list[int | None]:
    """The input axis each part of an index tuple starts at (None for parts that consume no
    axis: None and Ellipsis)."""
    consumed = []
    for part in key:
        if part is None or part is Ellipsis:
            consumed.append(0)
        elif isinstance(part, (Tensor, np.ndarray, list)):
            array = part._array if isinstance(part, Tensor) else np.asarray(part)
            consumed.append(array.ndim if array.dtype == np.bool_ else 1)
        else:
            consumed.append(1)
    explicit = sum(consumed)
    axes: list[int | None] = []
    axis = 0
    for part, count in zip(key, consumed):
        if part is Ellipsis:
            axes.append(None)
            axis += x.ndim - explicit
            continue
        axes.append(axis if count else None)
        axis += count
    return axes


def _positive_slice(part: slice, length: int) -> slice:
    """slice `part` (negative step) of an axis of `length`, on the flipped axis."""
    positions = range(length)[part]
    if len(positions) == 0:
        return slice(0, 0)
    first, last = positions[0], positions[-1]
    return slice(length - 1 - first, length - last, -part.step)


def _has_negative_step(key: tuple) -> bool:
    return any(isinstance(p, slice) and p.step is not None and p.step < 0 for p in key)


def _without_negative_steps(x: Tensor, key: Any) -> tuple[list[int], Any]:
    """(axes to flip, the key with positive steps on the flipped axes): x[key] as NumPy reads
    a negative step, from PyTorch-style indexing (which refuses them)."""
    parts = key if isinstance(key, tuple) else (key,)
    if not _has_negative_step(parts):
        return [], key
    flipped, new = [], []
    for part, axis in zip(parts, _axes_of_key(x, parts)):
        if isinstance(part, slice) and part.step is not None and part.step < 0:
            flipped.append(axis)
            new.append(_positive_slice(part, x.shape[axis]))
        else:
            new.append(part)
    return flipped, tuple(new)


def _negative_steps_as_indices(x: Tensor, key: Any) -> Any:
    """For a write: a negative-step slice as the index array it selects (allowed where it is
    the only advanced index, so the result keeps its place)."""
    parts = key if isinstance(key, tuple) else (key,)
    if not _has_negative_step(parts):
        return key
    advanced = [p for p in parts if not isinstance(p, (slice, int, type(None), type(Ellipsis)))]
    negative = [p for p in parts if isinstance(p, slice) and p.step is not None and p.step < 0]
    if advanced or len(negative) > 1:
        raise NotImplementedError(
            "chainrule.numpy: assignment through more than one negative-step slice, or one "
            "combined with index arrays, is not supported"
        )
    new = []
    for part, axis in zip(parts, _axes_of_key(x, parts)):
        if isinstance(part, slice) and part.step is not None and part.step < 0:
            part = np.arange(x.shape[axis])[part]
        new.append(part)
    return tuple(new)


# ---- in place: the write happens on a plain alias, whose new history the ndarray takes -------


def _take_history(target: ndarray, alias: Tensor) -> None:
    target._node = alias._node
    target._output_nr = alias._output_nr
    target._requires_grad = alias._requires_grad
    target._edge = alias._edge if alias._node is None else None


def _inplace_delegate(name: str) -> Callable:
    def method(self: ndarray, *args: Any, **kwargs: Any) -> ndarray:
        alias = plain(self)
        getattr(alias, name)(*args, **kwargs)
        _take_history(self, alias)
        return self

    method.__name__ = name
    method.__doc__ = _tensor_doc(name)
    method.__wrapped__ = getattr(Tensor, name)  # type: ignore[attr-defined] # help() shows its signature
    return method


def _tensor_doc(name: str) -> str:
    """The docstring of an ndarray method that delegates to the Tensor method `name`."""
    return f"`Tensor.{name}`, run on the plain Tensor (its arguments and result are Tensor's)."


def _augmented(function: Callable) -> Callable:
    """`x += y` as NumPy: the result written into x's memory (cast to x's dtype)."""

    def method(self: ndarray, other: Any) -> ndarray:
        self[...] = as_dtype(function(self, other), self._array.dtype)
        return self

    return method


def _delegate(name: str) -> Callable:
    def method(self: ndarray, *args: Any, **kwargs: Any) -> Any:
        return getattr(plain(self), name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = _tensor_doc(name)
    method.__wrapped__ = getattr(Tensor, name)  # type: ignore[attr-defined] # help() shows its signature
    return method


def _delegate_property(name: str) -> property:
    return property(lambda self: getattr(plain(self), name))


def _numpy_method(function: Callable) -> Callable:
    """A NumPy method from the namespace function of the same arguments (after the array),
    with the function's signature less its first argument (`help(x.sum)` shows `axis`, ...)."""

    def method(self: ndarray, *args: Any, **kwargs: Any) -> Any:
        return numpy_results(function(self, *args, **kwargs))

    name = function.__name__
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__name__ = name
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_parameter, *parameters[1:]]
    )
    method.__doc__ = (
        f"`chainrule.numpy.{name}` with this array as its first argument, as in NumPy: see "
        "that function for the arguments and an example."
    )
    return method


def _operator(function: Callable, reflected: bool = False) -> Callable:
    def method(self: ndarray, other: Any) -> Any:
        try:
            result = function(other, self) if reflected else function(self, other)
        except TypeError:  # DTypeError included: an operand that is not numeric data (None)
            return NotImplemented
        return numpy_results(result)

    return method


def _logical_or_bitwise(logical: Callable, name: str) -> Callable:
    def method(self: ndarray, other: Any) -> Any:
        first, second = tensor_of(self), tensor_of(other)
        if first.dtype.numpy == np.bool_ and second.dtype.numpy == np.bool_:
            return numpy_results(logical(first, second))
        return numpy_results(getattr(first, name)(second))

    return method


def _attach() -> None:
    """ndarray's methods: NumPy's (the namespace's functions), in-place ones written back,
    and every other Tensor method run on the plain Tensor."""
    numpy_methods = {
        "all": _reductions.all,
        "any": _reductions.any,
        "argmax": _reductions.argmax,
        "argmin": _reductions.argmin,
        "argsort": _reductions.argsort,
        "clip": _math.clip,
        "conj": _math.conj,
        "conjugate": _math.conjugate,
        "cumprod": _reductions.cumprod,
        "cumsum": _reductions.cumsum,
        "diagonal": _products.diagonal,
        "dot": _products.dot,
        "max": _reductions.amax,
        "mean": _reductions.mean,
        "min": _reductions.amin,
        "nonzero": _shape.nonzero,
        "prod": _reductions.prod,
        "ptp": _reductions.ptp,
        "ravel": _shape.ravel,
        "repeat": _shape.repeat,
        "round": _math.round,
        "squeeze": _shape.squeeze,
        "std": _reductions.std,
        "sum": _reductions.sum,
        "swapaxes": _shape.swapaxes,
        "take": _shape.take,
        "trace": _products.trace,
        "var": _reductions.var,
    }
    operators = {
        "__add__": _math.add,
        "__sub__": _math.subtract,
        "__mul__": _math.multiply,
        "__truediv__": _math.true_divide,
        "__floordiv__": _math.floor_divide,
        "__mod__": _math.remainder,
        "__pow__": _math.power,
        "__matmul__": _products.matmul,
    }
    comparisons = {
        "__eq__": _math.equal,
        "__ne__": _math.not_equal,
        "__lt__": _math.less,
        "__le__": _math.less_equal,
        "__gt__": _math.greater,
        "__ge__": _math.greater_equal,
    }
    own = set(vars(ndarray))
    for name, function in numpy_methods.items():
        setattr(ndarray, name, _numpy_method(function))
    for name, function in operators.items():
        setattr(ndarray, name, _operator(function))
        setattr(ndarray, "__r" + name[2:], _operator(function, reflected=True))
        setattr(ndarray, "__i" + name[2:], _augmented(function))
    for name, function in comparisons.items():
        setattr(ndarray, name, _operator(function))
    for name, logical in (
        ("__and__", _math.logical_and),
        ("__or__", _math.logical_or),
        ("__xor__", _math.logical_xor),
    ):
        setattr(ndarray, name, _logical_or_bitwise(logical, name))
        setattr(ndarray, "__r" + name[2:], _logical_or_bitwise(logical, name))
    ndarray.__neg__ = _numpy_method(_math.negative)
    ndarray.__pos__ = _numpy_method(_math.positive)
    ndarray.__abs__ = _numpy_method(_math.absolute)
    ndarray.__invert__ = lambda self: (
        numpy_results(_math.logical_not(self))
        if self._array.dtype == np.bool_
        else numpy_results(~plain(self))
    )
    taken = own | set(numpy_methods) | set(vars(ndarray))
    for name, value in vars(TensorMethods).items():
        if name in taken or name.startswith("__"):
            continue
        if isinstance(value, property):
            setattr(ndarray, name, _delegate_property(name))
        elif callable(value):
            inplace = name.endswith("_") and not name.endswith("__")
            setattr(ndarray, name, _inplace_delegate(name) if inplace else _delegate(name))
    for name in _ELEMENTWISE_INPLACE:
        setattr(ndarray, name + "_", _inplace_delegate(name + "_"))


_attach()
