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
    """numpy.reshape, in C order (row-major, the default) or F order (column-major).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        shape (int | Sequence[int], optional): the new shape; one entry may be -1 (inferred).
        order (Literal['C', 'F'], optional): read and write the elements in 'C' (row-major) or 'F'
            (column-major) order.
        newshape (int | Sequence[int], optional): NumPy 1's name for shape.
        copy (bool, optional): ignored: the result shares memory with `a` where it can, as NumPy's
            default.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.reshape(cnp.arange(6), (2, 3))
        array([[0, 1, 2],
               [3, 4, 5]])
        >>> cnp.reshape(cnp.arange(6), (2, -1), order='F')
        array([[0, 2, 4],
               [1, 3, 5]])
    """
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
    """numpy.ravel: the elements as a 1-D array, in C (or F) order; differentiable.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        order (Literal['C', 'F'], optional): 'C' (row-major) or 'F' (column-major) order.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.ravel([[1, 2], [3, 4]])
        array([1, 2, 3, 4])
        >>> cnp.ravel([[1, 2], [3, 4]], order='F')
        array([1, 3, 2, 4])
    """
    return reshape(a, -1, order)


def transpose(a: ArrayLike, axes: Sequence[int] | None = None) -> ndarray:
    """numpy.transpose: axes reversed (NumPy's default; also for N-D), or permuted by `axes`.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axes (Sequence[int], optional): the permutation of the axes; None reverses them.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.transpose(cnp.ones((2, 3, 4))).shape
        (4, 3, 2)
        >>> cnp.transpose(cnp.ones((2, 3, 4)), (1, 0, 2)).shape
        (3, 2, 4)
    """
    x = tensor_of(a, "transpose")
    if axes is None:
        return _reversed_axes(x)
    order = [normalize_axis("transpose", int(axis), x.ndim) for axis in axes]
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {tuple(axes)} don't match array of {x.ndim} dims")
    return shp.permute(x, *order)


def swapaxes(a: ArrayLike, axis1: int, axis2: int) -> ndarray:
    """numpy.swapaxes: exchange two axes (a differentiable view).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis1 (int): the first axis.
        axis2 (int): the second axis.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.swapaxes(cnp.ones((2, 3, 4)), 0, 2).shape
        (4, 3, 2)
    """
    x = tensor_of(a, "swapaxes")
    first = normalize_axis("swapaxes", axis1, x.ndim)
    second = normalize_axis("swapaxes", axis2, x.ndim)
    return shp.transpose(x, first, second)


def moveaxis(
    a: ArrayLike, source: int | Sequence[int], destination: int | Sequence[int]
) -> ndarray:
    """numpy.moveaxis: move axes to new positions, the others keeping their order.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        source (int | Sequence[int]): the original position(s) of the axes to move.
        destination (int | Sequence[int]): their new position(s), in the same order.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.moveaxis(cnp.ones((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    x = tensor_of(a, "moveaxis")
    sources = [normalize_axis("moveaxis", s, x.ndim) for s in _shape_tuple(source)]
    targets = [normalize_axis("moveaxis", d, x.ndim) for d in _shape_tuple(destination)]
    if len(sources) != len(targets):
        raise ValueError(
            "moveaxis: `source` and `destination` arguments must have the same number of elements"
        )
    return shp.movedim(x, tuple(sources), tuple(targets))


def expand_dims(a: ArrayLike, axis: int | Sequence[int]) -> ndarray:
    """numpy.expand_dims: insert size-1 axes at the positions `axis` of the result.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int]): the position(s) of the new size-1 axes in the result.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.expand_dims([1.0, 2.0], 0)
        array([[1., 2.]])
        >>> cnp.expand_dims([1.0, 2.0], (0, 2)).shape
        (1, 2, 1)
    """
    x = tensor_of(a, "expand_dims")
    count = len(_shape_tuple(axis))
    axes = normalize_axes("expand_dims", axis, x.ndim + count)
    sizes = iter(x.shape)
    shape = [1 if position in axes else next(sizes) for position in range(x.ndim + count)]
    return shp.reshape(x, *shape)


def squeeze(a: ArrayLike, axis: int | Sequence[int] | None = None) -> ndarray:
    """numpy.squeeze: drop size-1 axes (all of them, or those in `axis`, each of which must
    have size 1, as NumPy insists).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the size-1 axes to drop; None drops every one.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.squeeze(cnp.ones((1, 3, 1))).shape
        (3,)
        >>> cnp.squeeze(cnp.ones((1, 3, 1)), axis=0).shape
        (3, 1)
    """
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
    """numpy.broadcast_to: a read-only broadcast view; the gradient sums over the copies.

    Args:
        array (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        shape (int | Sequence[int]): the shape to broadcast to.
        subok (bool, optional): ignored: results are always chainrule.numpy.ndarray.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.broadcast_to([1.0, 2.0], (2, 2))
        array([[1., 2.],
               [1., 2.]])
    """
    return shp.broadcast_to(tensor_of(array, "broadcast_to"), _shape_tuple(shape))


def broadcast_arrays(*args: ArrayLike, subok: bool = False) -> tuple[ndarray, ...]:
    """numpy.broadcast_arrays: the operands broadcast against each other (dtypes kept).

    Args:
        *args (ArrayLike): the arrays to broadcast against each other.
        subok (bool, optional): ignored: results are always chainrule.numpy.ndarray.

    Example:
        >>> import chainrule.numpy as cnp
        >>> x, y = cnp.broadcast_arrays([[1], [2]], [3, 4, 5])
        >>> x.shape, y.shape
        ((2, 3), (2, 3))
    """
    return tuple(shp.broadcast_tensors(*(tensor_of(a, "broadcast_arrays") for a in args)))


def _at_least(name: str, function: Any, arys: tuple) -> Any:
    results = tuple(function(tensor_of(a, name)) for a in arys)
    return results[0] if len(results) == 1 else results


def atleast_1d(*arys: ArrayLike) -> ndarray | tuple[ndarray, ...]:
    """numpy.atleast_1d: 0-d becomes (1,); one array for one argument, a tuple for several.

    Args:
        *arys (ArrayLike): the arrays; each one with fewer than 1 dimensions gets size-1 axes.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.atleast_1d(2.0)
        array([2.])
        >>> cnp.atleast_1d(1.0, [2.0, 3.0])
        (array([1.]), array([2., 3.]))
    """
    return _at_least("atleast_1d", shp.atleast_1d, arys)


def atleast_2d(*arys: ArrayLike) -> ndarray | tuple[ndarray, ...]:
    """numpy.atleast_2d: (N,) becomes (1, N).

    Args:
        *arys (ArrayLike): the arrays; each one with fewer than 2 dimensions gets size-1 axes.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.atleast_2d([1.0, 2.0])
        array([[1., 2.]])
    """
    return _at_least("atleast_2d", shp.atleast_2d, arys)


def atleast_3d(*arys: ArrayLike) -> ndarray | tuple[ndarray, ...]:
    """numpy.atleast_3d: (N,) becomes (1, N, 1) and (M, N) becomes (M, N, 1).

    Args:
        *arys (ArrayLike): the arrays; each one with fewer than 3 dimensions gets size-1 axes.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.atleast_3d([[1.0, 2.0]]).shape
        (1, 2, 1)
    """
    return _at_least("atleast_3d", shp.atleast_3d, arys)


def shape(a: ArrayLike) -> tuple[int, ...]:
    """numpy.shape: the shape of an array, a tuple of ints.

    Args:
        a (ArrayLike): the input array.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.shape([[1, 2, 3], [4, 5, 6]])
        (2, 3)
    """
    return tuple(tensor_of(a, "shape").shape)


def ndim(a: ArrayLike) -> int:
    """numpy.ndim: the number of dimensions of an array.

    Args:
        a (ArrayLike): the input array.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.ndim([[1, 2, 3], [4, 5, 6]])
        2
    """
    return tensor_of(a, "ndim").ndim


def size(a: ArrayLike, axis: int | None = None) -> int:
    """numpy.size: the number of elements (along `axis` if given).

    Args:
        a (ArrayLike): the input array.
        axis (int, optional): count along this axis only; None counts every element.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.size([[1, 2, 3], [4, 5, 6]])
        6
        >>> cnp.size([[1, 2, 3], [4, 5, 6]], axis=1)
        3
    """
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
    """numpy.concatenate: join arrays along an existing axis (of the flattened arrays when axis
    is None), differentiable.

    Args:
        arrays (Sequence[ArrayLike]): the arrays to join (a sequence of arrays, numbers, nested
            lists or Tensors).
        axis (int, optional): the existing axis to join along; None flattens the arrays first.
        out (None, optional): not supported; must be None (results are new arrays).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.
        casting (str, optional): accepted for NumPy compatibility and not checked.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.concatenate([[1.0, 2.0], [3.0]])
        array([1., 2., 3.])
        >>> cnp.concatenate([cnp.ones((1, 2)), cnp.zeros((1, 2))], axis=0)
        array([[1., 1.],
               [0., 0.]])
    """
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
    """numpy.stack: join arrays of one shape along a new axis, differentiable.

    Args:
        arrays (Sequence[ArrayLike]): the arrays to stack, all of one shape.
        axis (int, optional): the position of the new axis in the result.
        out (None, optional): not supported; must be None (results are new arrays).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.stack([[1.0, 2.0], [3.0, 4.0]], axis=1)
        array([[1., 3.],
               [2., 4.]])
    """
    unsupported("stack", out=out)
    tensors = _joined("stack", arrays, dtype)
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError("stack: all input arrays must have the same shape")
    return shp.stack(tensors, normalize_axis("stack", axis, tensors[0].ndim + 1))


def hstack(tup: Sequence[ArrayLike], *, dtype: DTypeLike | None = None) -> ndarray:
    """numpy.hstack: join along axis 1 (axis 0 for 1-D arrays); differentiable.

    Args:
        tup (Sequence[ArrayLike]): the arrays to join (a sequence of arrays, numbers, nested lists
            or Tensors).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.hstack([[1.0, 2.0], [3.0]])
        array([1., 2., 3.])
        >>> cnp.hstack([cnp.ones((2, 1)), cnp.zeros((2, 2))]).shape
        (2, 3)
    """
    tensors = [shp.atleast_1d(t) for t in _joined("hstack", tup, dtype)]
    return shp.cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tup: Sequence[ArrayLike], *, dtype: DTypeLike | None = None) -> ndarray:
    """numpy.vstack (numpy.row_stack): join along axis 0, 1-D arrays as rows; differentiable.

    Args:
        tup (Sequence[ArrayLike]): the arrays to join (a sequence of arrays, numbers, nested lists
            or Tensors).
        dtype (DTypeLike, optional): the dtype of the result (and of the computation); NumPy's
            choice when None.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.vstack([[1.0, 2.0], [3.0, 4.0]])
        array([[1., 2.],
               [3., 4.]])
    """
    return shp.cat([shp.atleast_2d(t) for t in _joined("vstack", tup, dtype)], 0)


def dstack(tup: Sequence[ArrayLike]) -> ndarray:
    """numpy.dstack: join along axis 2, after atleast_3d; differentiable.

    Args:
        tup (Sequence[ArrayLike]): the arrays to join (a sequence of arrays, numbers, nested lists
            or Tensors).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.dstack([[1.0, 2.0], [3.0, 4.0]])
        array([[[1., 3.],
                [2., 4.]]])
    """
    return shp.cat([shp.atleast_3d(t) for t in _joined("dstack", tup, None)], 2)


def column_stack(tup: Sequence[ArrayLike]) -> ndarray:
    """numpy.column_stack: join 1-D arrays as columns (others along axis 1); differentiable.

    Args:
        tup (Sequence[ArrayLike]): the arrays to join (a sequence of arrays, numbers, nested lists
            or Tensors).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.column_stack([[1.0, 2.0], [3.0, 4.0]])
        array([[1., 3.],
               [2., 4.]])
    """
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
    between the given indices.

    Args:
        ary (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        indices_or_sections (int | Sequence[int]): a number of equal sections, or the sorted indices
            to split at.
        axis (int, optional): the axis to split along.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.array_split(cnp.arange(5), 3)
        [array([0, 1]), array([2, 3]), array([4])]
        >>> cnp.array_split(cnp.arange(5), [1, 3])
        [array([0]), array([1, 2]), array([3, 4])]
    """
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
    """numpy.split: like array_split, but a number of sections must divide the axis.

    Args:
        ary (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        indices_or_sections (int | Sequence[int]): a number of equal sections, or the sorted indices
            to split at.
        axis (int, optional): the axis to split along.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.split(cnp.arange(6.0), 3)
        [array([0., 1.]), array([2., 3.]), array([4., 5.])]
    """
    x = tensor_of(ary, "split")
    if isinstance(indices_or_sections, (int, np.integer)):
        length = x.shape[normalize_axis("split", axis, x.ndim)]
        if int(indices_or_sections) <= 0 or length % int(indices_or_sections):
            raise ValueError("split: array split does not result in an equal division")
    return array_split(x, indices_or_sections, axis)


def hsplit(ary: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[ndarray]:
    """numpy.hsplit: split along axis 1 (axis 0 for 1-D arrays).

    Args:
        ary (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        indices_or_sections (int | Sequence[int]): a number of equal sections, or the sorted indices
            to split at.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.hsplit(cnp.arange(4.0).reshape(2, 2), 2)
        [array([[0.],
               [2.]]), array([[1.],
               [3.]])]
    """
    x = tensor_of(ary, "hsplit")
    return split(x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(ary: ArrayLike, indices_or_sections: int | Sequence[int]) -> list[ndarray]:
    """numpy.vsplit: split along axis 0 (arrays of at least 2 dimensions).

    Args:
        ary (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        indices_or_sections (int | Sequence[int]): a number of equal sections, or the sorted indices
            to split at.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.vsplit(cnp.arange(4.0).reshape(2, 2), 2)
        [array([[0., 1.]]), array([[2., 3.]])]
    """
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
    along `axis` (of the flattened array when None). Not PyTorch's repeat, which tiles.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        repeats (int | ArrayLike): how many times to repeat each element: an int, or one count per
            element along the axis.
        axis (int, optional): the axis to work along; None works on the flattened array.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.repeat([1, 2], 2)
        array([1, 1, 2, 2])
        >>> cnp.repeat([[1, 2], [3, 4]], [1, 2], axis=0)
        array([[1, 2],
               [3, 4],
               [3, 4]])
    """
    x = tensor_of(a, "repeat")
    if axis is None:
        x, axis = shp.reshape(x, -1), 0
    axis = normalize_axis("repeat", axis, x.ndim)
    counts = _index_array(repeats)
    positions = np.repeat(np.arange(x.shape[axis]), counts)
    return x[(slice(None),) * axis + (positions,)]


def tile(A: ArrayLike, reps: int | Sequence[int]) -> ndarray:  # noqa: N803 - NumPy's name
    """numpy.tile: the whole array repeated `reps` times along each axis.

    Args:
        A (ArrayLike): the input array.
        reps (int | Sequence[int]): the number of copies along each axis.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.tile([1, 2], 2)
        array([1, 2, 1, 2])
        >>> cnp.tile([1, 2], (2, 1))
        array([[1, 2],
               [1, 2]])
    """
    return shp.tile(tensor_of(A, "tile"), _shape_tuple(reps))


def flip(m: ArrayLike, axis: int | Sequence[int] | None = None) -> ndarray:
    """numpy.flip: reverse the order of elements along `axis` (all axes when None).

    Args:
        m (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        axis (int | Sequence[int], optional): the axis or axes to reverse; None reverses every axis.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.flip([[1, 2], [3, 4]])
        array([[4, 3],
               [2, 1]])
        >>> cnp.flip([[1, 2], [3, 4]], axis=1)
        array([[2, 1],
               [4, 3]])
    """
    x = tensor_of(m, "flip")
    axes = normalize_axes("flip", axis, x.ndim)
    return shp.flip(x, axes) if axes else x


def fliplr(m: ArrayLike) -> ndarray:
    """numpy.fliplr: flip axis 1.

    Args:
        m (ArrayLike): the input array (an array, a number, a nested list or a Tensor).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.fliplr([[1, 2], [3, 4]])
        array([[2, 1],
               [4, 3]])
    """
    return flip(m, 1)


def flipud(m: ArrayLike) -> ndarray:
    """numpy.flipud: flip axis 0.

    Args:
        m (ArrayLike): the input array (an array, a number, a nested list or a Tensor).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.flipud([[1, 2], [3, 4]])
        array([[3, 4],
               [1, 2]])
    """
    return flip(m, 0)


def roll(
    a: ArrayLike, shift: int | Sequence[int], axis: int | Sequence[int] | None = None
) -> ndarray:
    """numpy.roll: shift elements cyclically along `axis` (of the flattened array when None).

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        shift (int | Sequence[int]): how many places to shift (one per axis, or one for all of
            them).
        axis (int | Sequence[int], optional): the axis or axes to roll along; None rolls the
            flattened array (keeping the shape).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.roll([1, 2, 3, 4], 1)
        array([4, 1, 2, 3])
        >>> cnp.roll([[1, 2], [3, 4]], 1, axis=0)
        array([[3, 4],
               [1, 2]])
    """
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
    """numpy.pad in mode 'constant' (constant_values a number, default 0).

    Args:
        array (ArrayLike): the input array.
        pad_width (int | Sequence[int] | Sequence[Sequence[int]]): the number of values added before
            and after each axis: ((before, after), ...), (before, after) for every axis, or one int.
        mode (str, optional): only 'constant' is supported.
        **kwargs (float): constant_values, the value to pad with (default 0).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.pad([1.0, 2.0], (1, 2))
        array([0., 1., 2., 0., 0.])
        >>> cnp.pad([[1.0]], 1, constant_values=9.0)
        array([[9., 9., 9.],
               [9., 1., 9.],
               [9., 9., 9.]])
    """
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
    mode 'wrap' or 'clip' for out-of-range indices. Gradients add up at repeated indices.

    Args:
        a (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        indices (ArrayLike): the indices of the elements to take.
        axis (int, optional): the axis to work along; None works on the flattened array.
        out (None, optional): not supported; must be None (results are new arrays).
        mode (str, optional): what out-of-range indices do: 'raise' (an error), 'wrap' (around) or
            'clip' (to the ends).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.take([4.0, 3.0, 5.0], [0, 2, 2])
        array([4., 5., 5.])
        >>> cnp.take([4.0, 3.0, 5.0], [-1, 5], mode='clip')
        array([4., 5.])
    """
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
    of dimensions (as argsort or argmax(keepdims=True) give).

    Args:
        arr (ArrayLike): the input array (an array, a number, a nested list or a Tensor).
        indices (ArrayLike): an integer array with the number of dimensions of arr (as argsort
            gives).
        axis (int, optional): the axis to take along; None for the flattened array.

    Example:
        >>> import chainrule.numpy as cnp
        >>> x = cnp.array([[3.0, 1.0], [0.5, 2.0]])
        >>> cnp.take_along_axis(x, cnp.argsort(x, axis=1), axis=1)
        array([[1. , 3. ],
               [0.5, 2. ]])
    """
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
    """numpy.nonzero: one int64 index array per dimension (not differentiable).

    Args:
        a (ArrayLike): the input array (at least 1-D).

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.nonzero([[1, 0], [0, 3]])
        (array([0, 1]), array([0, 1]))
    """
    x = tensor_of(a, "nonzero")
    if x.ndim == 0:
        raise ValueError("nonzero: calling nonzero on 0d arrays is not allowed")
    return tuple(_elementwise.nonzero(x, as_tuple=True))


def argwhere(a: ArrayLike) -> ndarray:
    """numpy.argwhere: the indices of nonzero elements, one row each.

    Args:
        a (ArrayLike): the input array.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.argwhere([[1, 0], [0, 3]])
        array([[0, 0],
               [1, 1]])
    """
    return _elementwise.argwhere(tensor_of(a, "argwhere"))


def flatnonzero(a: ArrayLike) -> ndarray:
    """numpy.flatnonzero: indices of nonzero elements of the flattened array.

    Args:
        a (ArrayLike): the input array.

    Example:
        >>> import chainrule.numpy as cnp
        >>> cnp.flatnonzero([[1, 0], [0, 3]])
        array([0, 3])
    """
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
