"""NumPy's shape functions and indexing helpers over chainrule ops.

Where NumPy and PyTorch disagree, these follow NumPy: `repeat` repeats each element (PyTorch's
`repeat` tiles), `split` takes a number of equal sections or split *indices* (PyTorch's takes
sizes), `squeeze(a, axis)` refuses an axis whose size is not 1, `concatenate(axis=None)`
flattens, and `transpose` reverses all axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any, Literal

import numpy as np

import chainrule.ops.indexing as idx
import chainrule.ops.shape as shp
from chainrule._tensor import Tensor
from chainrule.numpy._core import (
    as_dtype,
    normalize_axes,
    normalize_axis,
    promoted,
    tensor_of,
    unsupported,
)
from chainrule.ops import elementwise as _elementwise

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from chainrule.numpy._typing import ArrayLike, DTypeLike, ndarray

# ---- reshaping -------------------------------------------------------------------------------


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _reversed_axes(x: Tensor) -> Tensor:
    return shp.permute(x, *range(x.ndim - 1, -1, -1)) if x.ndim > 1 else x


def reshape(
    a: ArrayLike,
    /,
    shape: int | Sequence[int] | None = None,
    order: Literal["C", "F"] = "C",
    *,
    newshape: int | Sequence[int] | None = None,
    copy: bool | None = None,
) -> ndarray:
    """numpy.reshape, in C order (row-major, the default) or F order (column-major)."""
    if shape is None:
        shape = newshape
    elif newshape is not None:
        raise TypeError("reshape: you cannot specify 'newshape' and 'shape' arguments together")
    if shape is None:
        raise TypeError("reshape: missing the required argument 'shape'")
    x = tensor_of(a, "reshape")
    target = _shape_tuple(shape)
    if order == "C":
        return shp.reshape(x, *target)
    if order == "F":
        flipped = shp.reshape(_reversed_axes(x), *reversed(target))
        return _reversed_axes(flipped)
    raise NotImplementedError(f"reshape: order={order!r} is not supported (use 'C' or 'F')")


def ravel(a: ArrayLike, order: Literal["C", "F"] = "C") -> ndarray:
    """numpy.ravel: the elements as a 1-D Tensor, in C (or F) order."""
    return reshape(a, -1, order)


def transpose(a: ArrayLike, axes: Sequence[int] | None = None) -> ndarray:
    """numpy.transpose: axes reversed (NumPy's default; also for N-D), or permuted by `axes`."""
    x = tensor_of(a, "transpose")
    if axes is None:
        return _reversed_axes(x)
    order = [normalize_axis("transpose", int(axis), x.ndim) for axis in axes]
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {tuple(axes)} don't match array of {x.ndim} dims")
    return shp.permute(x, *order)


def swapaxes(a: ArrayLike, axis1: int, axis2: int) -> ndarray:
    """numpy.swapaxes: exchange two axes."""
    x = tensor_of(a, "swapaxes")
    first = normalize_axis("swapaxes", axis1, x.ndim)
    second = normalize_axis("swapaxes", axis2, x.ndim)
    return shp.transpose(x, first, second)


def moveaxis(
    a: ArrayLike, source: int | Sequence[int], destination: int | Sequence[int]
) -> ndarray:
    """numpy.moveaxis: move axes to new positions, the others keeping their order."""
    x = tensor_of(a, "moveaxis")
    sources = [normalize_axis("moveaxis", s, x.ndim) for s in _shape_tuple(source)]
    targets = [normalize_axis("moveaxis", d, x.ndim) for d in _shape_tuple(destination)]
    if len(sources) != len(targets):
        raise ValueError(
            "moveaxis: `source` and `destination` arguments must have the same number of elements"
        )
    return shp.movedim(x, tuple(sources), tuple(targets))


def expand_dims(a: ArrayLike, axis: int | Sequence[int]) -> ndarray:
    """numpy.expand_dims: insert size-1 axes at the positions `axis` of the result."""
    x = tensor_of(a, "expand_dims")
    count = len(_shape_tuple(axis))
    axes = normalize_axes("expand_dims", axis, x.ndim + count)
    sizes = iter(x.shape)
    shape = [1 if position in axes else next(sizes) for position in range(x.ndim + count)]
    return shp.reshape(x, *shape)


def squeeze(a: ArrayLike, axis: int | Sequence[int] | None = None) -> ndarray:
    """numpy.squeeze: drop size-1 axes (all of them, or those in `axis`, each of which must
    have size 1, as NumPy insists)."""
    x = tensor_of(a, "squeeze")
    shape = tuple(x.shape)
    if axis is None:
        axes = tuple(i for i, size in enumerate(shape) if size == 1)
    else:
        axes = normalize_axes("squeeze", axis, x.ndim)
        if any(shape[i] != 1 for i in axes):
            raise ValueError(
                "squeeze: cannot select an axis to squeeze out which has size not equal to one"
            )
    kept = [size for i, size in enumerate(shape) if i not in axes]
    return shp.reshape(x, *kept)


def broadcast_to(array: ArrayLike, shape: int | Sequence[int], subok: bool = False) -> ndarray:
    """numpy.broadcast_to: a read-only broadcast view; the gradient sums over the copies."""
    return shp.broadcast_to(tensor_of(array, "broadcast_to"), _shape_tuple(shape))


def broadcast_arrays(*args: ArrayLike, subok: bool = False) -> tuple[ndarray, ...]:
    """numpy.broadcast_arrays: the operands broadcast against each other (dtypes kept)."""
    return tuple(shp.broadcast_tensors(*(tensor_of(a, "broadcast_arrays") for a in args)))


def _at_least(name: str, function: Any, arys: tuple) -> Any:
    results = tuple(function(tensor_of(a, name)) for a in arys)
    return results[0] if len(results) == 1 else results


def atleast_1d(*arys: ArrayLike) -> ndarray | tuple[ndarray, ...]:
    """numpy.atleast_1d: 0-d becomes (1,); one Tensor for one argument, a tuple for several."""
    return _at_least("atleast_1d", shp.atleast_1d, arys)


def atleast_2d(*arys: ArrayLike) -> ndarray | tuple[ndarray, ...]:
    """numpy.atleast_2d: (N,) becomes (1, N)."""
    return _at_least("atleast_2d", shp.atleast_2d, arys)


def atleast_3d(*arys: ArrayLike) -> ndarray | tuple[ndarray, ...]:
    """numpy.atleast_3d: (N,) becomes (1, N, 1) and (M, N) becomes (M, N, 1)."""
    return _at_least("atleast_3d", shp.atleast_3d, arys)


def shape(a: ArrayLike) -> tuple[int, ...]:
    """numpy.shape."""
    return tuple(tensor_of(a, "shape").shape)


def ndim(a: ArrayLike) -> int:
    """numpy.ndim."""
    return tensor_of(a, "ndim").ndim


def size(a: ArrayLike, axis: int | None = None) -> int:
    """numpy.size: the number of elements (along `axis` if given)."""
    x = tensor_of(a, "size")
    if axis is None:
        return x.numel()
    return x.shape[normalize_axis("size", axis, x.ndim)]


# ---- joining and splitting -------------------------------------------------------------------


def _joined(name: str, arrays: Sequence[Any], dtype: Any) -> list[Tensor]:
    if isinstance(arrays, (Tensor, np.ndarray)):
        arrays = list(arrays)  # NumPy iterates an array's first axis
    tensors = [tensor_of(a, name) for a in arrays]
    if not tensors:
        raise ValueError(f"{name}: need at least one array to {name}")
    if dtype is not None:
        return [as_dtype(t, dtype, name) for t in tensors]
    return promoted(*tensors, name=name)


def concatenate(
    arrays: Sequence[ArrayLike],
    axis: int | None = 0,
    out: None = None,
    *,
    dtype: DTypeLike | None = None,
    casting: str = "same_kind",
) -> ndarray:
    """numpy.concatenate along an existing axis (of the flattened arrays when axis is None)."""
    unsupported("concatenate", out=out)
    tensors = _joined("concatenate", arrays, dtype)
    if axis is None:
        tensors = [shp.reshape(t, -1) for t in tensors]
        axis = 0
    if any(t.ndim == 0 for t in tensors):
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    return shp.cat(tensors, normalize_axis("concatenate", axis, tensors[0].ndim))


concat = concatenate


def stack(
    arrays: Sequence[ArrayLike], axis: int = 0, out: None = None, *, dtype: DTypeLike | None = None
) -> ndarray:
    """numpy.stack along a new axis."""
    unsupported("stack", out=out)
    tensors = _joined("stack", arrays, dtype)
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError("stack: all input arrays must have the same shape")
    return shp.stack(tensors, normalize_axis("stack", axis, tensors[0].ndim + 1))


def hstack(tup: Sequence[ArrayLike], *, dtype: DTypeLike | None = None) -> ndarray:
    """numpy.hstack: along axis 1 (axis 0 for 1-D arrays)."""
    tensors = [shp.atleast_1d(t) for t in _joined("hstack", tup, dtype)]
    return shp.cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tup: Sequence[ArrayLike], *, dtype: DTypeLike | None = None) -> ndarray:
    """numpy.vstack: along axis 0, 1-D arrays as rows."""
    return shp.cat([shp.atleast_2d(t) for t in _joined("vstack", tup, dtype)], 0)


def dstack(tup: Sequence[ArrayLike]) -> ndarray:
    """numpy.dstack: along axis 2, after atleast_3d."""
    return shp.cat([shp.atleast_3d(t) for t in _joined("dstack", tup, None)], 2)


def column_stack(tup: Sequence[ArrayLike]) -> ndarray:
    """numpy.column_stack: 1-D arrays as columns, then along axis 1."""
    tensors = _joined("column_stack", tup, None)
    columns = [shp.reshape(t, -1, 1) if t.ndim < 2 else t for t in tensors]
    return shp.cat(columns, 1)


def _pieces(x: Tensor, bounds: list[int], axis: int) -> list[Tensor]:
    before = (slice(None),) * axis
    return [x[(*before, slice(start, stop))] for start, stop in zip(bounds[:-1], bounds[1:])]


def array_split(
    ary: ArrayLike, indices_or_sections: int | Sequence[int], axis: int = 0
) -> list[ndarray]:
    """numpy.array_split: N nearly equal sections (the first ones one longer), or the pieces
    between the given indices."""
    x = tensor_of(ary, "array_split")
    axis = normalize_axis("array_split", axis, x.ndim)
    length = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: number sections must be larger than 0.")
        each, extra = divmod(length, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = [0, *np.cumsum(sizes).tolist()]
    else:
        bounds = [0, *(int(i) for i in indices_or_sections), length]  # slices, as NumPy
    return _pieces(x, bounds, axis)


def split(ary: ArrayLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[ndarray]:
    """numpy.split: like array_split, but a number of sections must divide the axis."""
    x = tensor_of(ary, "split")
    if isinstance(indices_or_sections, (int, np.integer)):
        length = x.shape[normalize_axis("split", axis, x.ndim)]
        if int(indices_or_sections) <= 0 or length % int(indices_or_sections):
            raise ValueError("split: array split does not result in an equal division")
    return array_split(x, indices_or_sections, axis)


def hsplit(ary: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[ndarray]:
    """numpy.hsplit: split along axis 1 (axis 0 for 1-D arrays)."""
    x = tensor_of(ary, "hsplit")
    return split(x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(ary: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[ndarray]:
    """numpy.vsplit: split along axis 0 (arrays of at least 2 dimensions)."""
    x = tensor_of(ary, "vsplit")
    if x.ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(x, indices_or_sections, 0)


# ---- repeating, flipping, rolling, padding ---------------------------------------------------


def _index_array(indices: Any) -> np.ndarray:
    if isinstance(indices, Tensor):
        return indices.numpy()
    return np.asarray(indices)


def repeat(a: ArrayLike, repeats: int | ArrayLike, axis: int | None = None) -> ndarray:
    """numpy.repeat: repeat each element `repeats` times (an int, or one count per element)
    along `axis` (of the flattened array when None). Not PyTorch's repeat, which tiles."""
    x = tensor_of(a, "repeat")
    if axis is None:
        x, axis = shp.reshape(x, -1), 0
    axis = normalize_axis("repeat", axis, x.ndim)
    counts = _index_array(repeats)
    positions = np.repeat(np.arange(x.shape[axis]), counts)
    return x[(slice(None),) * axis + (positions,)]


def tile(A: ArrayLike, reps: int | Sequence[int]) -> ndarray:  # noqa: N803 - NumPy's name
    """numpy.tile: the whole array repeated `reps` times along each axis."""
    return shp.tile(tensor_of(A, "tile"), _shape_tuple(reps))


def flip(m: ArrayLike, axis: int | Sequence[int] | None = None) -> ndarray:
    """numpy.flip: reverse the order of elements along `axis` (all axes when None)."""
    x = tensor_of(m, "flip")
    axes = normalize_axes("flip", axis, x.ndim)
    return shp.flip(x, axes) if axes else x


def fliplr(m: ArrayLike) -> ndarray:
    """numpy.fliplr: flip axis 1."""
    return flip(m, 1)


def flipud(m: ArrayLike) -> ndarray:
    """numpy.flipud: flip axis 0."""
    return flip(m, 0)


def roll(
    a: ArrayLike, shift: int | Sequence[int], axis: int | Sequence[int] | None = None
) -> ndarray:
    """numpy.roll: shift elements cyclically along `axis` (of the flattened array when None)."""
    x = tensor_of(a, "roll")
    if axis is None:
        return shp.reshape(shp.roll(shp.reshape(x, -1), int(shift), 0), *x.shape)
    shifts = _shape_tuple(shift)
    axes = tuple(normalize_axis("roll", int(i), x.ndim) for i in _shape_tuple(axis))
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    return shp.roll(x, shifts, axes)


def pad(
    array: ArrayLike,
    pad_width: int | Sequence[int] | Sequence[Sequence[int]],
    mode: str = "constant",
    **kwargs: float,
) -> ndarray:
    """numpy.pad in mode 'constant' (constant_values a number, default 0)."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode={mode!r} is not supported (only 'constant')")
    x = tensor_of(array, "pad")
    value = kwargs.pop("constant_values", 0)
    if kwargs:
        raise TypeError(f"pad: unsupported keyword arguments {sorted(kwargs)}")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    flat = [int(w) for pair in widths[::-1] for w in pair]
    return idx.pad(x, flat, "constant", value)


# ---- indexing helpers ------------------------------------------------------------------------


def take(
    a: ArrayLike, indices: ArrayLike, axis: int | None = None, out: None = None, mode: str = "raise"
) -> ndarray:
    """numpy.take: elements at `indices` along `axis` (of the flattened array when None);
    mode 'wrap' or 'clip' for out-of-range indices. Gradients add up at repeated indices."""
    unsupported("take", out=out)
    x = tensor_of(a, "take")
    if axis is None:
        x, axis = shp.reshape(x, -1), 0
    axis = normalize_axis("take", axis, x.ndim)
    positions = _index_array(indices)
    length = x.shape[axis]
    if mode == "wrap":
        positions = np.mod(positions, length)
    elif mode == "clip":
        positions = np.clip(positions, 0, length - 1)
    elif mode != "raise":
        raise ValueError(f"take: clipmode not understood: {mode!r}")
    return x[(slice(None),) * axis + (positions,)]


def take_along_axis(arr: ArrayLike, indices: ArrayLike, axis: int | None = -1) -> ndarray:
    """numpy.take_along_axis: pick values along `axis` with an index array of the same number
    of dimensions (as argsort or argmax(keepdims=True) give)."""
    x = tensor_of(arr, "take_along_axis")
    index = tensor_of(indices, "take_along_axis")
    if axis is None:
        x, axis = shp.reshape(x, -1), 0
    if index.ndim != x.ndim:
        raise ValueError(
            "take_along_axis: `indices` and `arr` must have the same number of dimensions"
        )
    return idx.take_along_dim(x, index, normalize_axis("take_along_axis", axis, x.ndim))


def nonzero(a: ArrayLike) -> tuple[ndarray, ...]:
    """numpy.nonzero: one int64 index Tensor per dimension."""
    x = tensor_of(a, "nonzero")
    if x.ndim == 0:
        raise ValueError("nonzero: calling nonzero on 0d arrays is not allowed")
    return tuple(_elementwise.nonzero(x, as_tuple=True))


def argwhere(a: ArrayLike) -> ndarray:
    """numpy.argwhere: the indices of nonzero elements, one row each."""
    return _elementwise.argwhere(tensor_of(a, "argwhere"))


def flatnonzero(a: ArrayLike) -> ndarray:
    """numpy.flatnonzero: indices of nonzero elements of the flattened array."""
    return nonzero(ravel(a))[0]


__all__ = [
    "argwhere",
    "array_split",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_arrays",
    "broadcast_to",
    "column_stack",
    "concat",
    "concatenate",
    "dstack",
    "expand_dims",
    "flatnonzero",
    "flip",
    "fliplr",
    "flipud",
    "hsplit",
    "hstack",
    "moveaxis",
    "ndim",
    "nonzero",
    "pad",
    "ravel",
    "repeat",
    "reshape",
    "roll",
    "shape",
    "size",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "take",
    "take_along_axis",
    "tile",
    "transpose",
    "vsplit",
    "vstack",
]
