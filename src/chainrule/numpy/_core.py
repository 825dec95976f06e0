"""Operands and dtypes for chainrule.numpy: NumPy's rules, applied to chainrule Tensors.

Every function of the namespace turns its operands into Tensors here. NumPy arrays are wrapped
without a copy, Python numbers stay "weak" (they never widen an array's dtype, as in NumPy 2),
and the dtype of each result is the one NumPy itself would give: ufuncs ask NumPy's own loop
resolution (`ufunc.resolve_dtypes`), other functions `numpy.result_type`. NumPy is the
specification of this namespace, so it is imported here by name.

The modules of the namespace import one way: _core <- _shape <- _math <- _reductions <-
_products; _creation and linalg use _core only, _constants only NumPy.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

import chainrule.ops.shape as shp
from chainrule._tensor import Tensor
from chainrule.backend.dtypes import dtype as _chainrule_dtype
from chainrule.backend.dtypes import from_numpy_dtype
from chainrule.errors import DTypeError
from chainrule.ops.creation import from_numpy
from chainrule.ops.elementwise import cast
from chainrule.ops.method_extras import alias_as  # noqa: F401 - _ndarray's and func's

_WEAK_SCALARS = (int, float, complex)  # weak in NumPy 2's promotion (NEP 50)


class _NoValueType:
    """The default of arguments where None has a meaning (NumPy's `initial`)."""

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValueType()
_COMPLEX = (np.dtype(np.complex64), np.dtype(np.complex128))


# ---- NumPy-behaving Tensors (chainrule.numpy.ndarray, in _ndarray.py) ------------------------

NUMPY_BEHAVING = "numpy"  # the `_numpy_behaving` class attribute that marks ndarray


def is_numpy_behaving(value: Any) -> bool:
    return type(value) is not Tensor and getattr(type(value), "_numpy_behaving", None) == (
        NUMPY_BEHAVING
    )


def plain(value: Any) -> Any:
    """An ndarray as a plain Tensor (PyTorch's semantics, for chainrule's ops); anything else
    unchanged."""
    if is_numpy_behaving(value):
        return alias_as(value, Tensor)
    return value


def numpy_dtype(dtype: Any) -> np.dtype | None:
    """A NumPy dtype from anything NumPy accepts, or from a chainrule dtype; None stays None."""
    if dtype is None:
        return None
    if isinstance(dtype, _chainrule_dtype):
        return dtype.numpy
    return np.dtype(dtype)


def _wrap_array(array: np.ndarray, name: str) -> Tensor:
    kind = array.dtype.kind
    if kind == "u" and array.dtype != np.uint8:
        array = array.astype(np.int64)  # chainrule has no uint16/32/64; widen losslessly
    elif kind not in "biufV" and array.dtype not in _COMPLEX:
        raise DTypeError(
            f"{name}: chainrule.numpy handles bool, integer, floating and complex64/complex128 "
            f"arrays, got dtype {array.dtype}"
        )
    return from_numpy(array)


def _contains_tensor(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            return True
        if isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def tensor_of(value: Any, name: str = "chainrule.numpy") -> Tensor:
    """`value` as a Tensor: Tensors as they are, NumPy arrays shared (no copy), Python numbers
    and nested lists with NumPy's default dtypes (float64, int64). Lists holding Tensors are
    stacked, so `array([x, y])` stays differentiable in x and y."""
    if isinstance(value, Tensor):
        return plain(value)
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        return stack_nested(value, name)
    return _wrap_array(np.asarray(value), name)


def stack_nested(value: Sequence, name: str) -> Tensor:
    """A nested sequence of Tensors and numbers as one Tensor of NumPy's common dtype."""
    items = [tensor_of(item, name) for item in value]
    common = result_dtype(*items)
    items = [as_dtype(item, common) for item in items]
    shapes = {tuple(item.shape) for item in items}
    if len(shapes) > 1:
        raise ValueError(
            f"{name}: setting an array element with a sequence: the nested sequences have "
            f"inhomogeneous shapes {sorted(shapes)}"
        )
    return shp.stack(items, 0)


def dtype_key(value: Any) -> Any:
    """What NumPy's dtype resolution sees for `value`: a dtype, or `int`/`float` for a weak
    Python number."""
    if isinstance(value, Tensor):
        return value._array.dtype
    if isinstance(value, bool):
        return np.dtype(np.bool_)
    if type(value) in _WEAK_SCALARS:
        return type(value)
    if isinstance(value, np.ndarray | np.generic):
        return value.dtype
    return np.asarray(value).dtype


def inexact(tensor: Tensor) -> bool:
    """Whether `tensor` is floating or complex (integer and bool data are computed in float64
    by NumPy's floating functions)."""
    return tensor._array.dtype.kind in "fc"


def result_dtype(*values: Any) -> np.dtype:
    """numpy.result_type of the operands, Python numbers weak (NEP 50)."""
    keys = [dtype_key(v) for v in values]
    strong = [k for k in keys if isinstance(k, np.dtype)]
    weak = [k(0) for k in keys if not isinstance(k, np.dtype)]
    return np.result_type(*strong, *weak)


def as_dtype(value: Any, dtype: Any, name: str = "chainrule.numpy") -> Tensor:
    """`value` as a Tensor of NumPy dtype `dtype` (a differentiable cast for Tensors)."""
    target = numpy_dtype(dtype)
    if isinstance(value, Tensor):
        value = plain(value)
        if value.dtype.numpy == target:
            return value
        return cast(value, from_numpy_dtype(_storable(target)))
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        return as_dtype(stack_nested(value, name), target, name)
    return _wrap_array(np.asarray(value, dtype=target), name)


def _storable(dtype: np.dtype) -> np.dtype:
    if dtype.kind == "u" and dtype != np.uint8:
        return np.dtype(np.int64)
    return dtype


def promoted(*values: Any, name: str = "chainrule.numpy") -> list[Tensor]:
    """All operands as Tensors of their NumPy result type."""
    common = result_dtype(*values)
    return [as_dtype(v, common, name) for v in values]


@functools.lru_cache(maxsize=4096)
def _resolve(ufunc: np.ufunc, keys: tuple, dtype: np.dtype | None) -> tuple:
    if dtype is None:
        return ufunc.resolve_dtypes((*keys, None))
    signature = (None,) * len(keys) + (dtype,)
    return ufunc.resolve_dtypes((*keys, None), signature=signature, casting="unsafe")


def ufunc_operands(
    ufunc: np.ufunc, values: Sequence[Any], dtype: Any = None
) -> tuple[list[Tensor], np.dtype]:
    """The operands cast to the inner-loop dtypes NumPy's `ufunc` would choose, and the dtype
    of its result."""
    keys = tuple(dtype_key(v) for v in values)
    try:
        loop = _resolve(ufunc, keys, numpy_dtype(dtype))
    except TypeError as error:
        raise DTypeError(f"{ufunc.__name__}: {error}") from None
    count = len(values)
    tensors = [as_dtype(v, loop[i], ufunc.__name__) for i, v in enumerate(values)]
    return tensors, loop[count]


def finish(result: Tensor, dtype: np.dtype) -> Tensor:
    """`result` in NumPy's result dtype, when chainrule's op gave another."""
    if result.dtype.numpy == _storable(dtype):
        return result
    return cast(result, from_numpy_dtype(_storable(dtype)))


def unsupported(name: str, **arguments: Any) -> None:
    """Refuse NumPy arguments chainrule.numpy does not implement (each passed here with the
    value that means "not used"), with an error that names them."""
    for argument, value in arguments.items():
        if value is not None and value is not True and value is not NO_VALUE:
            raise NotImplementedError(
                f"chainrule.numpy.{name}: the {argument}= argument is not supported (results "
                f"are new Tensors; write `y = {name}(...)` instead)"
                if argument == "out"
                else f"chainrule.numpy.{name}: the {argument}= argument is not supported"
            )


def normalize_axis(name: str, axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim, name)
    return axis % ndim


def normalize_axes(name: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """`axis` (None, an int or a sequence) as a sorted tuple of distinct non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        return (normalize_axis(name, int(axis), ndim),)
    axes = tuple(normalize_axis(name, int(a), ndim) for a in axis)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: repeated axis in {tuple(axis)}")
    return tuple(sorted(axes))
