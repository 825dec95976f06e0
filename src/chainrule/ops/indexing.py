"""Indexing: slicing, integer and boolean masks, gather/scatter and friends.

Reading at an index and adding into zeros at that index are each other's transposes, so each
is the other's vjp and gradients accumulate over repeated indices (the backend's scatter_add,
np.add.at on CPU): Index <-> IndexAddIntoZeros for `x[key]`, Gather <-> ScatterAdd along a
dimension, IndexSelect <-> IndexAdd for whole slices. Writing at an index (IndexPut, Scatter,
ScatterFill) sends the gradient at the written positions to the written values and zero to
what was overwritten.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from warnings import warn as _warn  # private: `chainrule` star-imports this module

from chainrule._tensor import Tensor
from chainrule.autograd.node import Node
from chainrule.autograd.observers import observers, tell
from chainrule.backend import Array, dtypes, is_array
from chainrule.backend.formats import contiguous_format
from chainrule.errors import (
    DomainError,
    DTypeError,
    GradError,
    IndexRangeError,
    ShapeError,
    warn_once,
)
from chainrule.ops import creation, tie_order
from chainrule.ops.arguments import normalize_dim, numpy_keywords, require_dims
from chainrule.ops.autocast import FLOAT32, autocast_active, autocast_operands
from chainrule.ops.conversion import cast, clone, keep_channels_last, result_type
from chainrule.ops.creation import arange
from chainrule.ops.elementwise import as_tensor_operand, logical_and, logical_xor, mul, where
from chainrule.ops.op import Computed, Op, apply, in_c_order, named
from chainrule.ops.shape import (
    Split,
    broadcast_shapes,
    cat,
    expand,
    mark_views,
    movedim,
    reshape,
    sum_to,
    unbroadcast,
    unsqueeze,
)

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import IndexKey, Number, Sections

# ---- keys ------------------------------------------------------------------------------------


def _sequence_as_tuple(key: list) -> bool:
    """PyTorch (like old NumPy) reads a short list holding tensors, sequences, slices, None or
    Ellipsis as a tuple of indices: x[[0, slice(None)]] is x[0, :]."""
    if len(key) >= 32:
        return False
    for item in key:
        if isinstance(item, (Tensor, list, tuple, slice)) or item is None or item is Ellipsis:
            return True
        if is_array(item):
            return True
    return False


def _index_array(part: Any, xp: Any) -> Any:
    """An index given as a Tensor, array, list, tuple or range (inside the key, PyTorch reads
    a tuple or range as a list), as an array of int32/int64 or bool."""
    if isinstance(part, Tensor):
        array = part._array
    elif isinstance(part, (list, tuple, range)):
        array = xp.asarray(list(part))
        if array.size == 0:
            array = array.astype(dtypes.int64.numpy)
    else:
        array = part
    kind = array.dtype.kind
    if kind == "u" and array.dtype.itemsize == 1:
        _warn(
            "indexing with dtype uint8 is deprecated, please use a dtype bool instead",
            UserWarning,
            stacklevel=4,
        )
        return array.astype(bool)
    if kind == "b" or (kind == "i" and array.dtype.itemsize in (4, 8)):
        return array
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def normalize_key(key: Any, xp: Any) -> tuple[Any, bool]:
    """The key with Tensors and lists turned into arrays, and whether it is basic indexing
    (only ints, slices, None and Ellipsis: a view, with no repeated elements)."""
    if isinstance(key, list) and _sequence_as_tuple(key):
        _warn(
            "Using a non-tuple sequence for multidimensional indexing is deprecated (as in "
            "PyTorch); use x[tuple(seq)] instead of x[seq]",
            UserWarning,
            stacklevel=3,
        )
        key = tuple(key)
    if isinstance(key, range):
        key = list(key)
    if not isinstance(key, tuple):
        key = (key,)
    parts = []
    basic = True
    for part in key:
        if part is None or part is Ellipsis:
            pass
        elif isinstance(part, bool):
            basic = False
        elif isinstance(part, int):
            pass
        elif isinstance(part, slice):
            part = _plain_slice(part)
        elif isinstance(part, (Tensor, list, tuple, range)) or is_array(part):
            array = _index_array(part, xp)
            if array.ndim == 0 and array.dtype.kind == "i" and is_array(array):
                part = int(array)  # (not a batched index under vmap: that one is advanced)
            else:
                part = array
                basic = False
        elif hasattr(part, "__index__"):
            part = part.__index__()
        else:
            raise IndexError(
                f"getitem: only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                f"Variables are valid indices (got {type(part).__name__})"
            )
        parts.append(part)
    if basic and not any(part is Ellipsis for part in parts):
        parts.append(Ellipsis)  # so an all-int key gives a 0-dim view, not a copied scalar
    return tuple(parts), basic


def _plain_slice(part: slice) -> slice:
    """A slice of plain ints (0-dim tensors allowed as bounds); steps must be positive."""
    bounds = (part.start, part.stop, part.step)
    start, stop, step = (None if v is None else v.__index__() for v in bounds)
    if step is not None and step <= 0:
        message = "slice step cannot be zero" if step == 0 else "step must be greater than zero"
        raise ValueError(message)
    return slice(start, stop, step)


def check_key(key: tuple, shape: tuple) -> tuple[int, tuple]:
    """Raise IndexError, as PyTorch does, for a key that does not fit `shape`; else return how
    many of its dimensions the key's parts consume (`...` aside), and the key to index with:
    where the result has no element PyTorch reads no index, so one out of range is not an
    error, and its index arrays become zeros (NumPy checks them all)."""
    ndim = len(shape)
    consumed = 0
    ellipses = 0
    for part in key:
        if part is None or type(part) is bool:
            continue
        if part is Ellipsis:
            ellipses += 1
        elif is_array(part) and part.dtype.kind == "b":
            consumed += part.ndim
        else:
            consumed += 1
    if ellipses > 1:
        raise IndexError("getitem: an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        if ndim == 0:
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python to convert a "
                "0-dim tensor to a number"
            )
        raise IndexError(f"too many indices for tensor of dimension {ndim} (shape {shape})")
    dim = 0
    index_arrays = []  # (array, dim): checked once their broadcast is known to hold elements
    # whether a dimension the index arrays leave alone is empty: the result then has no
    # element, and PyTorch, which checks an index as it reads it, raises nothing
    empty_elsewhere = False
    for part in key:
        if part is None or type(part) is bool:
            continue
        if part is Ellipsis:
            empty_elsewhere |= 0 in shape[dim : dim + ndim - consumed]
            dim += ndim - consumed
        elif isinstance(part, int):
            _check_bounds(part, part, shape[dim], dim)
            dim += 1
        elif isinstance(part, slice):
            empty_elsewhere |= not range(*part.indices(shape[dim]))
            dim += 1
        elif part.dtype.kind == "b":
            expected = shape[dim : dim + part.ndim]
            if part.shape != expected:
                mismatch = next(i for i, (a, b) in enumerate(zip(part.shape, expected)) if a != b)
                raise IndexError(
                    f"The shape of the mask {list(part.shape)} at index {mismatch} does not "
                    f"match the shape of the indexed tensor {list(shape)} at index {dim + mismatch}"
                )
            dim += part.ndim
        else:
            index_arrays.append((part, dim))
            dim += 1
    empty_elsewhere |= 0 in shape[dim:]
    broadcast = _check_index_shapes(key)
    if empty_elsewhere:
        unread = tuple(
            part.clip(0, 0) if is_array(part) and part.dtype.kind != "b" else part for part in key
        )
        return consumed, unread
    if broadcast is None or math.prod(broadcast):  # an empty broadcast selects nothing to check
        for part, dim in index_arrays:
            if part.size:
                _check_bounds(int(part.min()), int(part.max()), shape[dim], dim)
    return consumed, key


def _check_index_shapes(key: tuple) -> tuple | None:
    """The index arrays must broadcast together (a mask, or a Python bool, counts as its
    number of True elements), else IndexError with PyTorch's message, before NumPy's
    ValueError. Returns their broadcast shape (None for fewer than two)."""
    shapes = []
    for part in key:
        if is_array(part):
            shapes.append((int(part.sum()),) if part.dtype.kind == "b" else part.shape)
        elif type(part) is bool:  # a Python bool is a 0-d mask: one position, or none
            shapes.append((int(part),))
    if len(shapes) < 2:
        return None
    try:
        return tuple(broadcast_shapes(*shapes))
    except ShapeError:
        listed = ", ".join(str(list(shape)) for shape in shapes)
        raise IndexError(
            "shape mismatch: indexing tensors could not be broadcast together with shapes " + listed
        ) from None


def _check_bounds(low: int, high: int, size: int, dim: int) -> None:
    """Indices in [-size, size) are valid; report the first offender like PyTorch."""
    bad = low if low < -size else high if high >= size else None
    if bad is not None:
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


# ---- keys under vmap ------------------------------------------------------------------------


def _is_advanced(part: Any) -> bool:
    """Whether a normalized key part is an index array (batched under vmap or not)."""
    return not (part is None or part is Ellipsis or isinstance(part, (int, slice)))


def _batched_key(b: Any, key: tuple, ndim: int) -> tuple[tuple, tuple | None, int]:
    """vmap: the key for x with the batch first, the (source, destination) dims that move
    NumPy's result to (batch, example's result) (None when it is already so), and the number of
    dimensions the index arrays broadcast to. NumPy puts the broadcast dimensions of index
    arrays (and of ints among them) where the first one is when they are adjacent in the key,
    else in front; a batched index array is paired with an arange over the batch."""
    positions = [i for i, part in enumerate(key) if _is_advanced(part) or type(part) is int]
    arrays = {i: b.param(key[i]) for i in positions if _is_advanced(key[i])}
    if not arrays:
        return (slice(None), *key), None, 0
    adv_ndim = 0
    for tensor, batched in arrays.values():
        if tensor._array.dtype.kind == "b":
            if batched:
                raise RuntimeError(
                    "vmap: We do not support batching operators that can support dynamic shape. "
                    "Attempting to batch over indexing with a boolean mask."
                )
            adv_ndim = max(adv_ndim, 1)
        else:
            adv_ndim = max(adv_ndim, tensor.ndim - 1 if batched else tensor.ndim)
    adjacent = positions == list(range(positions[0], positions[-1] + 1))
    if not any(batched for _, batched in arrays.values()):
        layout = None if adjacent else ((adv_ndim,), (0,))
        return (slice(None), *key), layout, adv_ndim
    size = b.size
    xp = next(iter(arrays.values()))[0]._backend.xp
    physical: list = [xp.arange(size).reshape((size,) + (1,) * adv_ndim)]
    for i, part in enumerate(key):
        if i in arrays:
            tensor, batched = arrays[i]
            if batched:
                shape = tuple(tensor.shape)
                padding = (1,) * (adv_ndim - len(shape) + 1)
                tensor = reshape(tensor, (size, *padding, *shape[1:]))
            part = tensor._array
        physical.append(part)
    first = positions[0]
    if not adjacent or first == 0:
        return tuple(physical), None, adv_ndim
    consumed = 0
    for i, part in enumerate(key):
        if i in arrays and arrays[i][0]._array.dtype.kind == "b":
            consumed += arrays[i][0].ndim
        elif part is not None and part is not Ellipsis:
            consumed += 1
    lead = sum(ndim - consumed if part is Ellipsis else 1 for part in key[:first])
    moved = tuple(range(1 + adv_ndim, 1 + adv_ndim + lead))
    return tuple(physical), (moved, tuple(range(1, 1 + lead))), adv_ndim


def _key_result_ndim(key: tuple, ndim: int, adv_ndim: int) -> int:
    """The number of dimensions of x[key] for an x of `ndim` dimensions: the dimensions the
    key does not consume are kept, behind an Ellipsis or, without one, at the end."""
    consumed = 0
    kept = 0
    for part in key:
        if part is Ellipsis:
            continue
        if part is None:
            kept += 1
        elif isinstance(part, slice):
            consumed += 1
            kept += 1
        elif _is_advanced(part):
            consumed += part.ndim if part.dtype.kind == "b" else 1
        else:
            consumed += 1
    return kept + adv_ndim + ndim - consumed


class Index(Op):
    """x[key] with integer arrays or masks: a copy. Derivative: g added into zeros of x's shape
    at `key` (repeated indices accumulate)."""

    @staticmethod
    def forward(ctx: Node, x: Array, key: tuple, basic: bool) -> Array:
        ctx.save(key=key, basic=basic)
        return x[key] if basic else in_c_order(x[key])

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(IndexAddIntoZeros, (g,), ctx.key, ctx.basic, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Index, (t,), ctx.key, ctx.basic)

    @staticmethod
    def batch(b: Any, x: Any, key: tuple, basic: bool) -> Any:
        """vmap: the key with a full slice for the batch, or with an arange over the batch
        paired with batched index arrays; NumPy's result moved to have the batch first."""
        if basic:
            return apply(BasicIndex, (x,), (slice(None), *key), True)
        if any(type(part) is bool for part in key):
            return b.loop(x, key, basic)
        ndim = x.ndim - 1 if b.batched[0] else x.ndim
        physical, layout, _ = _batched_key(b, key, ndim)
        out = apply(Index, (x if b.batched[0] else b.expand(x),), physical, False)
        return out if layout is None else movedim(out, *layout)


class BasicIndex(Index):
    """x[key] for ints, slices, None and Ellipsis only: a view of x."""

    is_view = True

    @classmethod
    def node_name(cls) -> str:
        return "SliceBackward0"


# BasicIndex under PyTorch's other names for x[key], which applies the key part by part and
# is named by the last part that does something (`_basic_index_op`).
class SelectIndex(BasicIndex):
    """x[..., i] (`select`): BasicIndex, named as PyTorch's select."""

    @classmethod
    def node_name(cls) -> str:
        return "SelectBackward0"


class UnsqueezeIndex(BasicIndex):
    """x[..., None]: BasicIndex, named as PyTorch's unsqueeze."""

    @classmethod
    def node_name(cls) -> str:
        return "UnsqueezeBackward0"


class AliasIndex(BasicIndex):
    """x[...] or x[:]: BasicIndex, named as PyTorch's alias (a view of all of x)."""

    @classmethod
    def node_name(cls) -> str:
        return "AliasBackward0"


def _basic_index_op(key: tuple, shape: tuple) -> type:
    """The BasicIndex class named as PyTorch names x[key]: by the last part of the key that
    does something (an int selects, None unsqueezes, a slice not spanning its dimension
    slices), or an alias when none does."""
    op = AliasIndex
    dim = 0
    for part in key:
        if part is None:
            op = UnsqueezeIndex
        elif part is Ellipsis:
            dim += len(shape) - sum(1 for p in key if p is not None and p is not Ellipsis)
        elif isinstance(part, slice):
            if part.indices(shape[dim]) != (0, shape[dim], 1):
                op = BasicIndex
            dim += 1
        else:
            op = SelectIndex
            dim += 1
    return op


class IndexAddIntoZeros(Op):
    """zeros(shape) with g added at `key`. Derivative: the gradient read at `key`."""

    @staticmethod
    def forward(ctx: Node, g: Array, key: tuple, basic: bool, shape: tuple) -> Array:
        ctx.save(key=key, basic=basic, shape=shape)
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        if basic:
            out[key] = g
        else:
            ctx.backend.scatter_add(out, key, g)
        return out

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        return (apply(Index, (gg,), ctx.key, ctx.basic),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(IndexAddIntoZeros, (t,), ctx.key, ctx.basic, ctx.shape)

    @staticmethod
    def batch(b: Any, g: Any, key: tuple, basic: bool, shape: tuple) -> Any:
        """vmap: as Index, g first laid out as NumPy indexes."""
        if not b.batched[0]:
            g = b.expand(g)
        if basic:
            return apply(IndexAddIntoZeros, (g,), (slice(None), *key), True, (b.size, *shape))
        if any(type(part) is bool for part in key):
            return b.loop(g, key, basic, shape)
        physical, layout, _ = _batched_key(b, key, len(shape))
        if layout is not None:
            g = movedim(g, layout[1], layout[0])
        return apply(IndexAddIntoZeros, (g,), physical, False, (b.size, *shape))


def getitem(input: Tensor, key: IndexKey) -> Tensor:  # noqa: A002
    """x[key] with PyTorch semantics: ints, slices, None and ... give views; integer tensors
    (int64/int32, negative counting from the end) and bool masks select copies.

    >>> import chainrule
    >>> x = chainrule.arange(6).reshape(2, 3)
    >>> x[1, [0, 2]]
    tensor([3, 5])
    """
    normalized, basic = normalize_key(key, input._backend.xp)
    consumed, normalized = check_key(normalized, input._array.shape)
    if not basic:
        normalized = expand_ellipsis(normalized, input._array.ndim, consumed)
        selects, rest = split_integer_selects(normalized)
        if selects is not None:  # PyTorch applies the integers first, as selects
            input = apply(BasicIndex, (input,), selects, True)  # noqa: A001
            normalized = rest
    if basic:
        # a bare slice is PyTorch's slice op even where it spans the dimension (x[:] is
        # SliceBackward0, x[:, :] an alias)
        op = BasicIndex if type(key) is slice else _basic_index_op(normalized, input._array.shape)
        return apply(op, (input,), normalized, True)
    return apply(Index, (input,), normalized, False)


def expand_ellipsis(key: tuple, ndim: int, consumed: int) -> tuple:
    """An advanced key with its `...` written out as the slices it stands for (`consumed`: the
    dimensions the other parts take, from check_key). PyTorch places the advanced dimensions
    by the indices' adjacency once `...` is expanded (an empty `...` between two masks leaves
    them adjacent); NumPy counts any `...` as a separation."""
    at = next((i for i, part in enumerate(key) if part is Ellipsis), None)
    if at is None:
        return key
    return key[:at] + (slice(None),) * (ndim - consumed) + key[at + 1 :]


def split_integer_selects(key: tuple) -> tuple[tuple | None, tuple]:
    """PyTorch's order for a key mixing integers with advanced indices: the integers are
    plain selects, applied first, so they never take part in where the advanced dimensions
    go (NumPy treats them as advanced: x[0, :, [0, 1]] would come out transposed). Returns
    (the selects as a basic key, the rest of the key), or (None, key) when nothing to split."""
    if not any(type(part) is int for part in key):
        return None, key
    selects = []
    for part in key:
        if type(part) is int or part is Ellipsis:
            selects.append(part)
        elif isinstance(part, slice):
            selects.append(slice(None))
        elif part is not None and type(part) is not bool:  # an index array consumes dims
            selects.extend([slice(None)] * (part.ndim if part.dtype.kind == "b" else 1))
    if not any(part is Ellipsis for part in selects):
        selects.append(Ellipsis)
    return tuple(selects), tuple(part for part in key if type(part) is not int)


class IndexPut(Op):
    """x with x[key] = value (value broadcast), or x[key] += value with `accumulate`.
    Derivatives: for x, g with g[key] zeroed (g itself when accumulating); for value, g[key]
    reduced to value's shape (every written position, also where a repeated index was
    overwritten, as PyTorch)."""

    label = "index_put"

    @staticmethod
    def forward(ctx: Node, x: Array, value: Array, key: tuple, accumulate: bool) -> Array:
        ctx.save(key=key, accumulate=accumulate)
        out = x.copy()
        while value.ndim and value.shape[0] == 1:  # as PyTorch; never changes broadcasting
            value = value[0]
        if accumulate:
            ctx.backend.scatter_add(out, key, value)
        else:
            out[key] = value
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        key = ctx.key
        grad_x = grad_value = None
        if ctx.next_edges[0] is not None:
            if ctx.accumulate:
                grad_x = g
            else:
                zero = Tensor._from_array(g._backend.xp.zeros((), g._array.dtype))
                grad_x = apply(IndexPut, (g, zero), key, False)
        if ctx.next_edges[1] is not None:
            grad_value = _reduce_to(apply(Index, (g,), key, False), ctx.input_meta[1][0])
        return (grad_x, grad_value)

    @staticmethod
    def jvp(ctx: Node, tx: Any, tvalue: Any) -> Any:
        tx, tvalue = _zeros_for_missing(ctx, ((0, tx), (1, tvalue)))
        return apply(IndexPut, (tx, tvalue), ctx.key, ctx.accumulate)

    @staticmethod
    def batch(b: Any, x: Any, value: Any, key: tuple, accumulate: bool) -> Any:
        """vmap: as Index; x written per example, value laid out as NumPy indexes."""
        if any(type(part) is bool for part in key):
            return b.loop(x, value, key, accumulate)
        ndim = x.ndim - 1 if b.batched[0] else x.ndim
        physical, layout, adv_ndim = _batched_key(b, key, ndim)
        if not b.batched[0]:
            x = b.expand(x)
        if b.batched[1] or layout is not None:
            if not b.batched[1]:
                value = b.expand(value)
            rank = _key_result_ndim(key, ndim, adv_ndim)
            shape = tuple(value.shape)
            value = reshape(value, (b.size,) + (1,) * (rank - len(shape) + 1) + shape[1:])
            if layout is not None:
                value = movedim(value, layout[1], layout[0])
        return apply(IndexPut, (x, value), physical, accumulate)


def _reduce_to(grad: Any, shape: tuple) -> Any:
    """A gradient of the broadcast value reduced to the value's own `shape` (which may carry
    extra leading size-1 dimensions)."""
    lead = len(shape) - grad.ndim
    if lead > 0:
        return reshape(sum_to(grad, shape[lead:]), shape)
    return unbroadcast(grad, shape)


def index_put(
    input: Tensor,  # noqa: A002
    indices: Sequence[Tensor | None],
    values: Tensor | Number,
    accumulate: bool = False,
) -> Tensor:
    """A copy of `input` with input[indices] = values (the out-of-place form of
    `x[indices] = values`); with accumulate=True repeated indices add up.

    Args:
        input (Tensor): the tensor written into (not modified).
        indices (tuple of Tensors): one index tensor per indexed dimension, as `x[indices]`.
        values (Tensor or number): broadcast to the indexed places.
        accumulate (bool): add into the places instead of writing.

    Example:
        >>> import chainrule
        >>> x = chainrule.zeros(3)
        >>> chainrule.index_put(x, (chainrule.tensor([0, 0]),), chainrule.tensor(1.0), True)
        tensor([2., 0., 0.])
    """
    for position, part in enumerate(indices):
        if not isinstance(part, Tensor):  # PyTorch's binding: no None, slices or lists here
            raise TypeError(
                f"expected Tensor as element {position} in argument 1, but got "
                f"{type(part).__name__}"
            )
    if isinstance(values, Tensor) and values._array.dtype != input._array.dtype:
        raise DTypeError(
            "index_put: Index put requires the source and destination dtypes match, got "
            f"{input.dtype.name} for the destination and {values.dtype.name} for the source."
        )
    return index_put_values(input, indices, values, accumulate)


def index_put_values(
    input: Tensor,  # noqa: A002
    indices: Sequence[Tensor | None],
    values: Tensor | Number,
    accumulate: bool = False,
) -> Tensor:
    """`index_put` taking values of any dtype, cast to input's: what `x[key] = value` runs
    where PyTorch casts (basic keys, a lone mask; tensor_methods._put refuses the rest)."""
    normalized, basic = normalize_key(indices, input._backend.xp)
    consumed, normalized = check_key(normalized, input._array.shape)
    values = as_tensor_operand(values, input.dtype, input)
    if not basic:
        normalized = expand_ellipsis(normalized, input._array.ndim, consumed)
        selects, rest = split_integer_selects(normalized)
        if selects is not None:  # write into the selected part, then that part back
            part = apply(BasicIndex, (input,), selects, True)
            updated = apply(IndexPut, (part, values), rest, bool(accumulate))
            return apply(IndexPut, (input, updated), selects, False)
    return apply(IndexPut, (input, values), normalized, bool(accumulate))


def masked_fill(input: Tensor, mask: Tensor, value: Tensor | Number) -> Tensor:  # noqa: A002
    """`input` where mask is False and `value` where True; mask broadcasts, the result keeps
    input's dtype. A 0-dim tensor value receives the summed gradient of the filled places.

    Args:
        input (Tensor): any shape.
        mask (Tensor): bool, broadcastable to `input`.
        value (number or 0-d Tensor): written where `mask` is True.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([1.0, 2.0, 3.0])
        >>> x.masked_fill(x > 1.5, 0.0)
        tensor([1., 0., 0.])
    """
    if not isinstance(mask, Tensor) or mask._array.dtype.kind != "b":
        dtype = mask.dtype.name if isinstance(mask, Tensor) else type(mask).__name__
        raise DTypeError(
            f"masked_fill: masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{dtype}"
        )
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ShapeError(
                f"masked_fill: only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s) (shape {value.shape})"
            )
        creation.checked_fill("masked_fill", creation.scalar_value(value), input.dtype)
        fill = cast(value, input.dtype)
    else:
        value = creation.checked_fill("masked_fill", value, input.dtype)
        fill = as_tensor_operand(value, input.dtype, input)
    broadcast_shapes(input.shape, mask.shape)
    node_name = "MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0"
    return named(where(mask, fill, input), node_name)


# ---- along a dimension: gather, scatter, index_select, index_add -----------------------------


def _along_key(xp: Any, index: Array, dim: int) -> tuple:
    """The advanced-index key that reads x[..., index[i, j, k], ...] at position (i, j, k):
    `index` in dimension `dim`, broadcast aranges of index's shape in every other one."""
    ndim = index.ndim
    key = []
    for axis, size in enumerate(index.shape):
        if axis == dim:
            key.append(index)
        else:
            shape = [1] * ndim
            shape[axis] = size
            key.append(xp.arange(size).reshape(shape))
    return tuple(key)


def _leading(index_shape: tuple, array: Array) -> Array:
    """The part of `array` (src) that an index of `index_shape` addresses."""
    if array.shape == index_shape:
        return array
    return array[tuple(slice(0, size) for size in index_shape)]


def _pad_to(grad: Any, shape: tuple) -> Any:
    """A gradient for the addressed part of src, zero-padded to src's whole `shape`."""
    if grad.shape == tuple(shape):
        return grad
    widths: list[int] = []
    for have, want in zip(reversed(grad.shape), reversed(shape)):
        widths += [0, want - have]
    return pad(grad, widths)


def gather_batch(b: Any, *args: Any) -> Any:
    """vmap rule of gather and the scatters: every tensor input with the batch first (shared
    ones broadcast), the dim (their first parameter) one further right."""
    count = len(b.batched)
    dim, *params = args[count:]
    return apply(b.op, tuple(b.batch_all(args[:count])), dim + 1, *params)


class Gather(Op):
    """out[i][j] = x[index[i][j]][j] (for dim 0). Derivative: g scatter-added into zeros at
    the same places (ScatterAdd), so repeated indices accumulate."""

    # its vjp reads the index alone (the values may be written after)
    vjp_reads_inputs = (1,)

    @staticmethod
    def forward(ctx: Node, x: Array, index: Array, dim: int) -> Array:
        ctx.save(dim=dim, index=index)
        compiled = ctx.backend.gather_along(x, index, dim)  # (256, 4096): 3.4 -> 0.7-1.1 ms
        return compiled if compiled is not None else x[_along_key(ctx.xp, index, dim)]

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(ScatterAdd, (_zeros_of_input(ctx, 0), ctx.index, g), ctx.dim), None)

    @staticmethod
    def jvp(ctx: Node, t: Any, t_index: Any) -> Any:
        return apply(Gather, (t, ctx.index), ctx.dim)

    batch = gather_batch


class ScatterAdd(Op):
    """x with src[i][j] added at x[index[i][j]][j] (for dim 0), repeats accumulating.
    Derivatives: g for x; g gathered at index for src (Gather), zero where src is unused."""

    @staticmethod
    def forward(ctx: Node, x: Array, index: Array, src: Array, dim: int) -> Array:
        ctx.save(dim=dim, index=index)
        out = x.copy()
        values = _leading(index.shape, src)
        if not ctx.backend.scatter_add_along(out, index, values, dim):  # 3.8 -> 0.7-1.2 ms
            ctx.backend.scatter_add(out, _along_key(ctx.xp, index, dim), values)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_src = None
        if ctx.next_edges[2] is not None:
            gathered = apply(Gather, (g, ctx.index), ctx.dim)
            grad_src = _pad_to(gathered, ctx.input_meta[2][0])
        return (g, None, grad_src)

    @staticmethod
    def jvp(ctx: Node, tx: Any, t_index: Any, tsrc: Any) -> Any:
        tx, tsrc = _zeros_for_missing(ctx, ((0, tx), (2, tsrc)))
        return apply(ScatterAdd, (tx, ctx.index, tsrc), ctx.dim)

    batch = gather_batch


class Scatter(Op):
    """x with x[index[i][j]][j] = src[i][j] (for dim 0). Derivatives: for x, g with the
    written places zeroed (ScatterFill); for src, g gathered at index (as PyTorch, also where
    a repeated index was overwritten)."""

    @staticmethod
    def forward(ctx: Node, x: Array, index: Array, src: Array, dim: int) -> Array:
        ctx.save(dim=dim, index=index)
        out = x.copy()
        out[_along_key(ctx.xp, index, dim)] = _leading(index.shape, src)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x = grad_src = None
        if ctx.next_edges[0] is not None:
            grad_x = apply(ScatterFill, (g, ctx.index), ctx.dim, 0)
        if ctx.next_edges[2] is not None:
            gathered = apply(Gather, (g, ctx.index), ctx.dim)
            grad_src = _pad_to(gathered, ctx.input_meta[2][0])
        return (grad_x, None, grad_src)

    @staticmethod
    def jvp(ctx: Node, tx: Any, t_index: Any, tsrc: Any) -> Any:
        tx, tsrc = _zeros_for_missing(ctx, ((0, tx), (2, tsrc)))
        return apply(Scatter, (tx, ctx.index, tsrc), ctx.dim)

    batch = gather_batch


class ScatterFill(Op):
    """x with x[index[i][j]][j] = value (for dim 0). Derivative: g with those places zeroed."""

    @classmethod
    def node_name(cls) -> str:
        return "ScatterBackward1"  # PyTorch's scatter with a value

    label = "scatter"

    @staticmethod
    def forward(ctx: Node, x: Array, index: Array, dim: int, value: Any) -> Array:
        ctx.save(dim=dim, index=index)
        out = x.copy()
        out[_along_key(ctx.xp, index, dim)] = value
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(ScatterFill, (g, ctx.index), ctx.dim, 0), None)

    @staticmethod
    def jvp(ctx: Node, t: Any, t_index: Any) -> Any:
        return apply(ScatterFill, (t, ctx.index), ctx.dim, 0)

    batch = gather_batch


class ScatterMultiply(Op):
    """x with x[index[i][j]][j] *= src[i][j] (scatter's deprecated reduce='multiply').
    PyTorch defines no derivative for it; neither do we."""

    label = "scatter"

    @staticmethod
    def forward(ctx: Node, x: Array, index: Array, src: Array, dim: int) -> Array:
        out = x.copy()
        key = _along_key(ctx.xp, index, dim)
        ctx.backend.scatter_multiply(out, key, _leading(index.shape, src))
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        raise GradError("scatter: the derivative for reduce='multiply' is not implemented")

    @staticmethod
    def jvp(ctx: Node, *tangents: Any) -> Any:
        raise GradError("scatter: the derivative for reduce='multiply' is not implemented")

    batch = gather_batch


def _zeros_of_input(ctx: Node, position: int) -> Any:
    """A zero Tensor with the shape and dtype input `position` had."""
    shape, dtype = ctx.input_meta[position]
    return Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy))


def _zeros_for_missing(ctx: Node, pairs: tuple) -> list:
    """The (position, tangent) pairs' tangents, zeros where an input carried none."""
    return [_zeros_of_input(ctx, i) if t is None else t for i, t in pairs]


def _check_index_dtype(op_name: str, index: Any) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op_name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    array = index._array
    if array.dtype.kind != "i" or array.dtype.itemsize not in (4, 8):
        raise DTypeError(
            f"{op_name}(): Expected dtype int32/int64 for index, but got {index.dtype.name}"
        )


def check_long_index(op_name: str, index: Any, error: type = DTypeError) -> None:
    """Refuse an index that is not int64 where PyTorch's op does (take, take_along_dim, put_,
    index_copy_, index_fill_; index_select, index_add, gather and scatter take int32 too),
    before any other check of the index."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op_name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype is not dtypes.int64:
        raise error(f"{op_name}(): Expected a long tensor for index, but got {index.dtype.name}")


def _check_range(op_name: str, index: Any, size: int, dim: int) -> None:
    """Index values along `dim` must lie in [0, size) (no negative counting, as PyTorch)."""
    array = index._array
    if array.size:
        low, high = int(array.min()), int(array.max())
        bad = low if low < 0 else high if high >= size else None
        if bad is not None:
            raise IndexRangeError(
                f"{op_name}: index {bad} is out of bounds for dimension {dim} with size {size}"
            )


def _as_1d(tensor: Any) -> Any:
    return reshape(tensor, (1,)) if tensor._array.ndim == 0 else tensor


def _saved_as_1d(tensor: Any) -> Any:
    """_as_1d for an input an op saves: a 0-dim one copied, since a view shares its version
    counter, and `x.scatter_reduce_(...)` writing the result back into x would then make what
    the op saved look modified."""
    return reshape(clone(tensor), (1,)) if tensor._array.ndim == 0 else tensor


def _gather_like_operands(op_name: str, input: Any, dim: int, index: Any) -> int:  # noqa: A002
    """Validate dim, index dtype, rank and values for gather and the scatters; return dim."""
    _check_index_dtype(op_name, index)
    ndim = input._array.ndim
    dim = normalize_dim(op_name, dim, ndim)
    if max(ndim, 1) != max(index._array.ndim, 1):
        raise ShapeError(
            f"{op_name}: Index tensor must have the same number of dimensions as input tensor "
            f"(input shape {input.shape}, index shape {index.shape})"
        )
    _check_range(op_name, index, input.shape[dim] if ndim else 1, dim)
    return dim


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    """`out[i][j][k] = input[index[i][j][k]][j][k]` for dim=0 (likewise for other dims); index
    has input's rank and is no larger in the other dimensions.

    Args:
        input (Tensor): the source.
        dim (int): the dimension indexed.
        index (Tensor): int64 indices, of input's rank.
        sparse_grad (bool): accepted for PyTorch's signature; the gradient is always dense.

    Returns:
        Tensor: shaped like `index`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1, 2], [3, 4]])
        >>> chainrule.gather(x, 1, chainrule.tensor([[0, 0], [1, 0]]))
        tensor([[1, 1],
                [4, 3]])
    """
    dim = _gather_like_operands("gather", input, dim, index)
    if input._array.ndim == 0 or index._array.ndim == 0:
        out = gather(_as_1d(input), 0, _as_1d(index))
        return named(reshape(out, index.shape), "GatherBackward0")
    shape, index_shape = input.shape, index.shape
    for axis, (have, want) in enumerate(zip(shape, index_shape)):
        if axis != dim and want > have:
            raise ShapeError(
                f"gather: Size does not match at dimension {axis} expected index "
                f"{list(index_shape)} to be no larger than self {list(shape)} apart from "
                f"dimension {dim}"
            )
    return apply(Gather, (input, index), dim)


def _scatter_operands(op_name: str, input: Any, dim: int, index: Any, src: Any) -> int:  # noqa: A002
    dim = _gather_like_operands(op_name, input, dim, index)
    if src is None:
        sizes = input.shape
    else:
        if src._array.dtype != input._array.dtype:
            raise DTypeError(
                f"{op_name}(): Expected self.dtype to be equal to src.dtype (got "
                f"{input.dtype.name} and {src.dtype.name})"
            )
        if max(src._array.ndim, 1) != max(input._array.ndim, 1):
            raise ShapeError(
                f"{op_name}: src must have the same number of dimensions as input (input shape "
                f"{input.shape}, src shape {src.shape})"
            )
        sizes = src.shape
    shape, index_shape = input.shape, index.shape
    for axis, want in enumerate(index_shape):
        too_big_for_input = axis != dim and want > shape[axis]
        if too_big_for_input or (src is not None and want > sizes[axis]):
            raise ShapeError(
                f"{op_name}: Expected index {list(index_shape)} to be no larger than self "
                f"{list(shape)} apart from dimension {dim} and to be no larger size than src "
                f"{list(sizes)}"
            )
    return dim


def scatter(
    input: Tensor,  # noqa: A002
    dim: int,
    index: Tensor,
    src: Tensor | None = None,
    *,
    value: Number | None = None,
    reduce: str | None = None,
) -> Tensor:
    """A copy of input with `input[index[i][j]][j] = src[i][j]` for dim=0 (likewise for other
    dims); `src` may be a number, or pass `value=`. reduce='add' or 'multiply' combines
    instead of writing. Which write wins at a repeated index is unspecified, as in PyTorch.

    Args:
        input (Tensor): the tensor written into (not modified).
        dim (int): the dimension indexed.
        index (Tensor): int64 indices, of input's rank.
        src (Tensor or number, optional): the values written.
        value (number, optional): one value written everywhere `index` points.
        reduce (str, optional): 'add' or 'multiply' to combine instead of writing.

    Example:
        >>> import chainrule
        >>> chainrule.zeros(3).scatter(0, chainrule.tensor([2]), 5.0)
        tensor([0., 0., 5.])
    """
    if src is None and value is None:
        raise TypeError("scatter(): expected a `src` tensor or a `value`")
    if src is not None and not isinstance(src, Tensor):
        value, src = src, None
    if reduce not in (None, "add", "multiply"):
        raise DomainError(
            f"scatter: reduce argument must be either add or multiply, got {reduce!r}"
        )
    dim = _scatter_operands("scatter", input, dim, index, src)
    if input._array.ndim == 0 or index._array.ndim == 0:
        out = scatter(
            _as_1d(input),
            0,
            _as_1d(index),
            None if src is None else _as_1d(src),
            value=value,
            reduce=reduce,
        )
        return reshape(out, input.shape)
    if src is None:
        if reduce is None:
            return apply(ScatterFill, (input, index), dim, value)
        src = as_tensor_operand(value, input.dtype, input)
        src = expand(src, index.shape)
    if reduce == "add":
        return apply(ScatterAdd, (input, index, src), dim)
    if reduce == "multiply":
        return apply(ScatterMultiply, (input, index, src), dim)
    return apply(Scatter, (input, index, src), dim)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:  # noqa: A002
    """A copy of input with `src[i][j]` added at `input[index[i][j]][j]` for dim=0 (likewise for
    other dims); repeated indices accumulate. The transpose of gather.

    Args:
        input (Tensor): the tensor added into (not modified).
        dim (int): the dimension indexed.
        index (Tensor): int64 indices, of input's rank.
        src (Tensor): the values added.

    Example:
        >>> import chainrule
        >>> chainrule.zeros(3).scatter_add(0, chainrule.tensor([0, 0, 2]), chainrule.ones(3))
        tensor([2., 0., 1.])
    """
    dim = _scatter_operands("scatter_add", input, dim, index, src)
    if input._array.ndim == 0 or index._array.ndim == 0:
        out = scatter_add(_as_1d(input), 0, _as_1d(index), _as_1d(src))
        return named(reshape(out, input.shape), "ScatterAddBackward0")
    return apply(ScatterAdd, (input, index, src), dim)


# ---- scatter_reduce and index_reduce ---------------------------------------------------------

_SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_SCATTER_REDUCTION_ALIASES = {"max": "amax", "min": "amin"}  # scatter_reduce takes them quietly


def _reduce_identity(xp: Any, dtype: Any, reduce: str) -> Any:
    """The value that leaves every other unchanged under `reduce` (include_self=False starts
    the reduced places from it)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "b":
        return reduce == "amin"
    if dtype.kind in "iu":
        limits = xp.iinfo(dtype)
        return limits.min if reduce == "amax" else limits.max
    return -math.inf if reduce == "amax" else math.inf


def _scatter_reduce_array(
    ctx: Node, x: Array, key: tuple, src: Array, reduce: str, include_self: bool
) -> Array:
    """x with src combined into x[key] by `reduce`, on raw arrays: the backend's scatter
    kernels, so repeated positions combine (CuPy's, on a GPU)."""
    xp, backend = ctx.xp, ctx.backend
    out = x.copy()
    if not include_self:
        out[key] = _reduce_identity(xp, x.dtype, reduce)
    if reduce in ("sum", "mean"):
        backend.scatter_add(out, key, src)
    elif reduce == "prod":
        backend.scatter_multiply(out, key, src)
    elif reduce == "amax":
        backend.scatter_max(out, key, src)
    else:
        backend.scatter_min(out, key, src)
    if reduce == "mean":
        counts = xp.full(x.shape, 1 if include_self else 0, dtype=xp.int64)
        backend.scatter_add(counts, key, xp.ones(src.shape, dtype=xp.int64))
        counts = xp.maximum(counts, 1)  # an untouched place keeps its value
        if out.dtype.kind in "fc":
            out = (out / counts).astype(out.dtype, copy=False)
        else:
            out = xp.floor_divide(out, counts).astype(out.dtype, copy=False)
    return out


class ScatterReduce(Op):
    """x with src[i][j] combined into x[index[i][j]][j] (for dim 0) by `reduce` ('sum',
    'prod', 'mean', 'amax', 'amin'), x's own value taking part unless include_self=False.

    Derivatives (PyTorch's): each output place p is a function of x[p] (when included) and the
    src entries sent to it, so d out[p] / d x[p] = a[p] and d out[p] / d src[j] = b[j]: sum
    a = b = 1; mean a = 1/N, b = 1/N with N the count at p; amax/amin split evenly among the
    entries equal to the result (x[p] counted among them even when not included, as PyTorch);
    prod the product of the others, zeros handled without dividing by them. vjp: g * a for x
    (zero where not included) and g gathered times b for src; jvp: a * tx plus b * tsrc
    scatter-added.
    """

    @staticmethod
    def forward(
        ctx: Node, x: Array, index: Array, src: Array, dim: int, reduce: str, include_self: bool
    ) -> Array:
        key = _along_key(ctx.xp, index, dim)
        out = _scatter_reduce_array(ctx, x, key, _leading(index.shape, src), reduce, include_self)
        ctx.save(x=x, index=index, src=src, out=out, dim=dim)
        ctx.save(reduce=reduce, include_self=include_self)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        a, b = _scatter_reduce_slopes(ctx)
        grad_x = grad_src = None
        if ctx.next_edges[0] is not None:
            grad_x = g * a
        if ctx.next_edges[2] is not None:
            gathered = apply(Gather, (g, ctx.index), ctx.dim) * b
            grad_src = _pad_to(gathered, ctx.input_meta[2][0])
        return (grad_x, None, grad_src)

    @staticmethod
    def jvp(ctx: Node, tx: Any, t_index: Any, tsrc: Any) -> Any:
        a, b = _scatter_reduce_slopes(ctx)
        out = None if tx is None else tx * a
        if tsrc is not None:
            spread = tsrc * b if tsrc.shape == b.shape else _src_part(tsrc, ctx.index) * b
            into = _zeros_of_input(ctx, 0) if out is None else out
            out = apply(ScatterAdd, (into, ctx.index, spread), ctx.dim)
        return out

    batch = gather_batch


def _src_part(src: Any, index: Any) -> Any:
    """The part of src (a Tensor) that an index addresses: its leading index.shape block."""
    if src.shape == index.shape:
        return src
    return src[tuple(slice(0, size) for size in index.shape)]


def _scatter_reduce_slopes(ctx: Node) -> tuple[Any, Any]:
    """(a, b) of ScatterReduce's docstring, in differentiable ops: a has x's shape (zero where
    include_self=False leaves x out), b has index's."""
    x, out, index, dim, reduce = ctx.x, ctx.out, ctx.index, ctx.dim, ctx.reduce
    src = _src_part(ctx.src, index)

    def gather_at(values: Any) -> Any:
        return apply(Gather, (values, index), dim)

    def add_at(into: Any, values: Any) -> Any:
        return apply(ScatterAdd, (into, index, values), dim)

    if reduce == "sum":
        a, b = creation.ones_like(x), creation.ones_like(src)
    elif reduce == "mean":
        count = creation.ones_like(x) if ctx.include_self else creation.zeros_like(x)
        count = add_at(count, creation.ones_like(src))
        count = where(count == 0, 1, count)
        a, b = 1 / count, 1 / gather_at(count)
    elif reduce in ("amax", "amin"):
        x_is_result = cast(x == out, x.dtype)
        src_is_result = cast(src == gather_at(out), x.dtype)
        ties = add_at(x_is_result, src_is_result)
        a, b = x_is_result / ties, src_is_result / gather_at(ties)
    else:
        a, b = _scatter_prod_slopes(ctx, x, out, src, gather_at, add_at)
    if not ctx.include_self:
        a = apply(ScatterFill, (a, index), dim, 0)
    return a, b


def _scatter_prod_slopes(
    ctx: Node, x: Any, out: Any, src: Any, gather_at: Any, add_at: Any
) -> tuple[Any, Any]:
    """prod's slopes as PyTorch's scatter_reduce_backward computes them: the product of the
    others, by division where the divisor is not zero, and by reducing again with a lone zero
    replaced by 1 where it is (two zeros at one place give 0)."""
    index, dim, include_self = ctx.index, ctx.dim, ctx.include_self
    x_safe = where(x == 0, 1, x)
    a = apply(ScatterReduce, (x_safe, index, src), dim, "prod", include_self) / x_safe
    src_zero = src == 0
    zeros_at = gather_at(add_at(creation.zeros_like(x), cast(src_zero, x.dtype)))
    lone_zero = logical_and(src_zero, zeros_at == 1)
    src_safe = where(lone_zero, 1, src)
    without_lone_zero = apply(ScatterReduce, (x, index, src_safe), dim, "prod", include_self)
    b = where(lone_zero, gather_at(without_lone_zero), gather_at(out) / where(src_zero, 1, src))
    return a, b


def _reduce_name(op_name: str, reduce: str, allowed: tuple) -> str:
    name = _SCATTER_REDUCTION_ALIASES.get(reduce, reduce) if op_name == "scatter_reduce" else reduce
    if name not in allowed:
        listed = ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
        raise DomainError(f"{op_name}: reduce argument must be one of {listed}, got {reduce!r}")
    return name


def scatter_reduce(
    input: Tensor,  # noqa: A002
    dim: int,
    index: Tensor,
    src: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
) -> Tensor:
    """A copy of input with `src[i][j]` combined into `input[index[i][j]][j]` for dim=0
    (likewise for other dims) by `reduce`: 'sum', 'prod', 'mean', 'amax' or 'amin'. With
    include_self=False the input's own values at the places written take no part. Integer
    'mean' rounds down, as PyTorch. Gradients as PyTorch's: amax/amin share it evenly among
    ties.

    Args:
        input (Tensor): the tensor reduced into (not modified).
        dim (int): the dimension indexed.
        index (Tensor): int64 indices, of input's rank.
        src (Tensor): the values combined.
        reduce (str): 'sum', 'prod', 'mean', 'amax' or 'amin'.
        include_self (bool): let input's own values take part.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([1.0, 2.0, 3.0])
        >>> src = chainrule.tensor([5.0, 4.0, 0.0])
        >>> x.scatter_reduce(0, chainrule.tensor([0, 0, 2]), src, "amax")
        tensor([5., 2., 3.])
    """
    reduce = _reduce_name("scatter_reduce", reduce, _SCATTER_REDUCTIONS)
    dim = _scatter_operands("scatter_reduce", input, dim, index, src)
    if input._array.ndim == 0 or index._array.ndim == 0:
        out = scatter_reduce(
            _saved_as_1d(input), 0, _as_1d(index), _as_1d(src), reduce, include_self=include_self
        )
        return named(reshape(out, input.shape), "ScatterReduceBackward0")
    return apply(ScatterReduce, (input, index, src), dim, reduce, bool(include_self))


# PyTorch's TORCH_WARN_ONCE: the op is beta there, so a ported program sees the same notice
INDEX_REDUCE_BETA = "index_reduce() is in beta and the API may change at any time."


class IndexReduce(ScatterReduce):
    """x with source's slice k combined into x's slice index[k] along `dim` by `reduce`
    ('prod', 'mean', 'amax', 'amin'). It is ScatterReduce with the index spread over source's
    shape (the public function does that), so the forward, the derivatives (PyTorch's) and the
    vmap rule are ScatterReduce's."""


def index_reduce(
    input: Tensor,  # noqa: A002
    dim: int,
    index: Tensor,
    source: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
) -> Tensor:
    """A copy of input with `source`'s slice k combined into input's slice `index[k]` along
    `dim` by `reduce`: 'prod', 'mean', 'amax' or 'amin'. With include_self=False the input's
    own values in the slices written take no part. Gradients as PyTorch's.

    Args:
        input (Tensor): the tensor reduced into (not modified).
        dim (int): the dimension indexed.
        index (Tensor): 1-D int indices, one per slice of `source`.
        source (Tensor): the slices combined.
        reduce (str): 'prod', 'mean', 'amax' or 'amin'.
        include_self (bool): let input's own values take part.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(3, 2)
        >>> source = chainrule.tensor([[2.0, 3.0], [4.0, 5.0]])
        >>> x.index_reduce(0, chainrule.tensor([0, 0]), source, "prod")
        tensor([[ 8., 15.],
                [ 1.,  1.],
                [ 1.,  1.]])
    """
    reduce = _reduce_name("index_reduce", reduce, ("prod", "mean", "amax", "amin"))
    dim, index = _vector_index("index_reduce", input, dim, index)
    if source._array.dtype != input._array.dtype:
        raise DTypeError(
            f"index_reduce(): self ({input.dtype.name}) and source ({source.dtype.name}) must "
            "have the same scalar type"
        )
    warn_once(INDEX_REDUCE_BETA)
    shape, source_shape = input._array.shape, source._array.shape
    if len(source_shape) != len(shape) or any(
        have != want for axis, (have, want) in enumerate(zip(source_shape, shape)) if axis != dim
    ):
        raise ShapeError(
            "index_reduce: source tensor shape must match self tensor shape, excluding the "
            f"specified dimension. Got self.shape = {list(shape)} source.shape = "
            f"{list(source_shape)}"
        )
    if input._array.ndim == 0:
        out = index_reduce(
            _saved_as_1d(input), 0, index, _as_1d(source), reduce, include_self=include_self
        )
        return named(reshape(out, ()), "IndexReduceBackward0")
    if source_shape[dim] != index._array.shape[0]:
        raise ShapeError(
            f"index_reduce: Number of indices ({index._array.shape[0]}) should be equal to "
            f"source.size(dim): ({source_shape[dim]}), for dim: {dim}"
        )
    along = [1] * len(shape)
    along[dim] = index._array.shape[0]
    spread = expand(reshape(index, tuple(along)), source_shape)
    return apply(IndexReduce, (input, spread, source), dim, reduce, bool(include_self))


class IndexSelect(Op):
    """The slices x[..., index[k], ...] along `dim`. Derivative: g added into zeros at those
    slices (IndexAdd), so repeated indices accumulate."""

    # its vjp reads the index alone (the values may be written after)
    vjp_reads_inputs = (1,)

    @staticmethod
    def forward(ctx: Node, x: Array, index: Array, dim: int) -> Array:
        ctx.save(dim=dim, index=index)
        return ctx.xp.take(x, index, axis=dim)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(IndexAdd, (_zeros_of_input(ctx, 0), ctx.index, g), ctx.dim), None)

    @staticmethod
    def jvp(ctx: Node, t: Any, t_index: Any) -> Any:
        return apply(IndexSelect, (t, ctx.index), ctx.dim)

    @staticmethod
    def batch(b: Any, x: Any, index: Any, dim: int) -> Any:
        """vmap: a shared index selects along dim + 1; a batched one becomes a gather."""
        if not b.batched[1]:
            return apply(IndexSelect, (x, index), dim + 1)
        if not b.batched[0]:
            x = b.expand(x)
        shape = list(x.shape)
        shape[dim + 1] = index.shape[1]
        view = (b.size,) + (1,) * dim + (index.shape[1],) + (1,) * (len(shape) - dim - 2)
        return apply(Gather, (x, expand(reshape(index, view), tuple(shape))), dim + 1)


class IndexAdd(Op):
    """x with source's slice k added to x's slice index[k] along `dim`, repeats accumulating.
    Derivatives: g for x; g's slices at index for source (IndexSelect)."""

    @staticmethod
    def forward(ctx: Node, x: Array, index: Array, source: Array, dim: int) -> Array:
        ctx.save(dim=dim, index=index)
        out = x.copy()
        ctx.backend.scatter_add(out, (slice(None),) * dim + (index,), source)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_source = None
        if ctx.next_edges[2] is not None:
            grad_source = apply(IndexSelect, (g, ctx.index), ctx.dim)
        return (g, None, grad_source)

    @staticmethod
    def jvp(ctx: Node, tx: Any, t_index: Any, tsource: Any) -> Any:
        tx, tsource = _zeros_for_missing(ctx, ((0, tx), (2, tsource)))
        return apply(IndexAdd, (tx, ctx.index, tsource), ctx.dim)

    @staticmethod
    def batch(b: Any, x: Any, index: Any, source: Any, dim: int) -> Any:
        """vmap: with a shared index, x and source batched and dim + 1; else per example."""
        if b.batched[1]:
            return b.loop(x, index, source, dim)
        x = x if b.batched[0] else b.expand(x)
        source = source if b.batched[2] else b.expand(source)
        return apply(IndexAdd, (x, index, source), dim + 1)


def _vector_index(op_name: str, input: Any, dim: int, index: Any) -> tuple[int, Any]:  # noqa: A002
    """Validate a 1-D (or 0-dim) index along `dim`; return dim and the index as 1-D."""
    _check_index_dtype(op_name, index)
    ndim = input._array.ndim
    dim = normalize_dim(op_name, dim, ndim)
    if index._array.ndim > 1:
        raise IndexError(
            f"{op_name}(): Index is supposed to be a vector (index shape {index.shape})"
        )
    _check_range(op_name, index, input.shape[dim] if ndim else 1, dim)
    return dim, _as_1d(index)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002
    """The slices of input at `index` (1-D int tensor) along `dim`, in that order.

    Args:
        input (Tensor): the source.
        dim (int): the dimension indexed.
        index (Tensor): 1-D int indices.

    Example:
        >>> import chainrule
        >>> chainrule.arange(6).reshape(3, 2).index_select(0, chainrule.tensor([2, 0]))
        tensor([[4, 5],
                [0, 1]])
    """
    dim, index = _vector_index("index_select", input, dim, index)
    if input._array.ndim == 0:
        return named(reshape(index_select(_as_1d(input), 0, index), ()), "IndexSelectBackward0")
    return apply(IndexSelect, (input, index), dim)


def index_add(
    input: Tensor,  # noqa: A002
    dim: int,
    index: Tensor,
    source: Tensor,
    *,
    alpha: Number = 1,
) -> Tensor:
    """A copy of input with alpha * source[k] added to the slice index[k] along `dim`;
    repeated indices accumulate. The transpose of index_select.

    Args:
        input (Tensor): the tensor added into (not modified).
        dim (int): the dimension indexed.
        index (Tensor): 1-D int indices, one per slice of `source`.
        source (Tensor): the slices added.
        alpha (number): scales `source`.

    Example:
        >>> import chainrule
        >>> chainrule.zeros(3).index_add(0, chainrule.tensor([0, 0]), chainrule.ones(2))
        tensor([2., 0., 0.])
    """
    dim, index = _vector_index("index_add", input, dim, index)
    if source._array.dtype != input._array.dtype:
        raise DTypeError(
            f"index_add(): self ({input.dtype.name}) and source ({source.dtype.name}) must have "
            f"the same scalar type"
        )
    if input._array.ndim == 0:
        if source._array.ndim != 0:  # (PyTorch: a scalar's source is a scalar)
            raise ShapeError(
                f"index_add: source tensor shape must match self tensor shape, excluding the "
                f"specified dimension. Got self.shape = [] source.shape = {list(source.shape)}"
            )
        out = index_add(_as_1d(input), 0, index, _as_1d(source), alpha=alpha)
        return named(reshape(out, ()), "IndexAddBackward0")
    shape, source_shape = input.shape, _as_1d(source).shape
    if len(source_shape) != len(shape) or any(
        have != want for axis, (have, want) in enumerate(zip(source_shape, shape)) if axis != dim
    ):
        raise ShapeError(
            f"index_add: source tensor shape must match self tensor shape, excluding the "
            f"specified dimension. Got self.shape = {list(shape)} source.shape = "
            f"{list(source.shape)}"
        )
    if source_shape[dim] != index.shape[0]:
        raise ShapeError(
            f"index_add: Number of indices ({index.shape[0]}) should be equal to "
            f"source.size(dim): ({source_shape[dim]}), for dim: {dim}"
        )
    if alpha != 1:
        if input.dtype is dtypes.bool_:  # (PyTorch casts alpha to the input's dtype first)
            alpha = bool(alpha)
        elif not (input.is_floating_point() or input.is_complex()):
            alpha = int(alpha)  # truncated toward zero: 0.5 adds nothing to an int tensor
        source = mul(source, alpha)
    return apply(IndexAdd, (input, index, _as_1d(source)), dim)


def take_along_dim(
    input: Tensor,  # noqa: A002
    indices: Tensor,
    dim: int | None = None,
    *,
    axis: int | None = None,
) -> Tensor:
    """Values of input at `indices` along `dim`, input and indices broadcast against each
    other in the other dimensions; with dim=None, along the flattened input. With a dim,
    negative indices count from the end (as PyTorch, which rejects them with dim=None).

    Args:
        input (Tensor): the source.
        indices (Tensor): int64, broadcastable with `input` outside `dim`.
        dim (int, optional): the dimension indexed; None flattens both.
        axis (int, optional): NumPy's name for `dim`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[10, 30, 20], [60, 40, 50]])
        >>> chainrule.take_along_dim(x, chainrule.tensor([[1], [-3]]), dim=1)
        tensor([[30],
                [60]])
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("take_along_dim", dim, None, axis, None)
    check_long_index("take_along_dim", indices)
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))  # no negatives here
    if input._array.ndim != indices._array.ndim:
        raise ShapeError(
            f"take_along_dim: input and indices should have the same number of dimensions, but "
            f"got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices"
        )
    ndim = input._array.ndim
    dim = normalize_dim("take_along_dim", dim, ndim)
    if ndim == 0:
        return gather(input, 0, _wrapped(indices, 1))
    input_shape, index_shape = list(input.shape), list(indices.shape)
    size, count = input_shape[dim], index_shape[dim]
    input_shape[dim] = index_shape[dim] = 1
    shape = list(broadcast_shapes(input_shape, index_shape))
    shape[dim] = size
    expanded = expand(input, shape)
    shape[dim] = count
    index = _wrapped(indices, size)
    if index.shape != tuple(shape):
        index = expand(index, shape)
    return gather(expanded, dim, index)


def _wrapped(indices: Any, size: int) -> Any:
    """indices with negative values counted from the end of a dimension of `size`."""
    array = indices._array
    if observers.get() is not None:  # a branch on the indices' values
        tell(observers.get(), "host_read", indices, "negative-index check")
    if array.size and int(array.min()) < 0:  # tensor ops: under vmap, per example
        return where(indices < 0, indices + size, indices)
    return indices


def take(input: Tensor, index: Tensor) -> Tensor:  # noqa: A002
    """input.flatten()[index], shaped like index (negative indices count from the end).

    Args:
        input (Tensor): any shape.
        index (Tensor): int indices into the flattened `input`.

    Example:
        >>> import chainrule
        >>> chainrule.take(chainrule.tensor([[4, 3], [5, 7]]), chainrule.tensor([0, 3]))
        tensor([4, 7])
    """
    check_long_index("take", index)
    flat = reshape(input, (-1,))
    index = _wrapped(index, flat.shape[0])
    return named(reshape(gather(flat, 0, reshape(index, (-1,))), index.shape), "TakeBackward0")


def masked_select(input: Tensor, mask: Tensor) -> Tensor:  # noqa: A002
    """The elements of input where the (broadcast) bool mask is True, as a 1-D tensor.

    Args:
        input (Tensor): any shape.
        mask (Tensor): bool, broadcastable with `input`.

    Returns:
        Tensor: 1-D, as long as `mask` has True values.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1, 2], [3, 4]])
        >>> chainrule.masked_select(x, x > 1)
        tensor([2, 3, 4])
    """
    if not isinstance(mask, Tensor) or mask._array.dtype.kind != "b":
        raise DTypeError("masked_select: expected a bool mask")
    shape = broadcast_shapes(input.shape, mask.shape)
    if mask.shape != shape:
        mask = Tensor._from_array(mask._backend.xp.broadcast_to(mask._array, shape))
    return named(getitem(expand(input, shape), mask), "MaskedSelectBackward0")


# ---- searching, counting, unique values (not differentiable) ----------------------------------
# These return indices, masks or counts, which have no derivative: plain arrays wrapped as
# tensors that do not require grad.


def _wrap_like(like: Any, array: Array) -> Any:
    """`array` as a tensor on `like`'s device."""
    return Tensor._from_array(like._backend.xp.asarray(array), like._backend)


def _as_operand(name: str, value: Any, like: Any = None) -> Any:
    """A tensor argument, or a Python number as a 0-dim tensor (on `like`'s device)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float)):
        return creation.tensor(value, device=None if like is None else like.device)
    raise TypeError(f"{name}(): expected a Tensor or a number, got {type(value).__name__}")


def isin(
    elements: Tensor | Number,
    test_elements: Tensor | Number,
    *,
    assume_unique: bool = False,
    invert: bool = False,
) -> Tensor:
    """Whether each element of `elements` occurs in `test_elements` (either may be a number);
    bool tensor of elements' shape. Values compare after type promotion; nan is in nothing.

    Args:
        elements (Tensor or number): the values looked up.
        test_elements (Tensor or number): the values looked in.
        assume_unique (bool): accepted for PyTorch's signature (a speed hint).
        invert (bool): whether each element does NOT occur.

    Example:
        >>> chainrule.isin(chainrule.tensor([1, 2, 3]), chainrule.tensor([2, 5]))
        tensor([False,  True, False])
    """
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected at least one of elements and test_elements a Tensor")
    like = elements if isinstance(elements, Tensor) else test_elements
    x = _as_operand("isin", elements, like)
    y = _as_operand("isin", test_elements, like)
    for tensor in (x, y):
        if tensor.dtype is dtypes.bool_:
            raise DTypeError("isin: not implemented for bool tensors")
    common = result_type(x, y)
    operands = (x.detach().to(common), y.detach().to(common))
    return apply(IsIn, operands, bool(assume_unique), bool(invert))


class IsIn(Op):
    """Whether each element of x occurs among y's (`invert`: does not). Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array, assume_unique: bool, invert: bool) -> Array:
        found = ctx.xp.isin(x, y, assume_unique=assume_unique, invert=invert)
        return ctx.xp.asarray(found).reshape(x.shape)

    @staticmethod
    def batch(b: Any, x: Tensor, y: Tensor, assume_unique: bool, invert: bool) -> Tensor:
        """vmap: every example looks in the same y in one call (membership is elementwise in
        x); an example's own y is searched per example."""
        if not b.batched[1]:
            return apply(IsIn, (x, y), assume_unique, invert)
        return b.loop(x, y, assume_unique, invert)


def searchsorted(
    sorted_sequence: Tensor,
    input: Tensor | Number,  # noqa: A002
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    out: Tensor | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """Where each value of `input` would be inserted to keep `sorted_sequence` sorted along its
    last dimension: the first such position, or the last with right=True / side='right'. An
    N-D sequence searches each row for the matching row of input; `sorter` holds the indices
    that sort an unsorted sequence. int64 indices (int32 with out_int32).

    Args:
        sorted_sequence (Tensor): increasing along its last dimension.
        input (Tensor or number): the values to place.
        out_int32 (bool): int32 indices instead of int64.
        right (bool): the last suitable position instead of the first.
        side (str, optional): 'left' or 'right', the same choice by name.
        out (Tensor, optional): written with the result, which is also returned.
        sorter (Tensor, optional): the indices that sort `sorted_sequence`.

    Example:
        >>> chainrule.searchsorted(chainrule.tensor([1, 3, 5, 7]), chainrule.tensor([3, 6, 9]))
        tensor([1, 3, 4])
    """
    if side is not None:
        if side not in ("left", "right"):
            raise DomainError(f"searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise DomainError(
                "searchsorted(): side and right can't be set to opposites, got side of left "
                "while right was True"
            )
        right = side == "right"
    if not isinstance(sorted_sequence, Tensor):
        raise TypeError(
            f"searchsorted(): argument 'sorted_sequence' must be Tensor, not "
            f"{type(sorted_sequence).__name__}"
        )
    values = _as_operand("searchsorted", input, sorted_sequence)
    boundaries, queries = sorted_sequence._array, values._array
    if boundaries.ndim == 0:
        raise ShapeError(
            "searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension"
        )
    if boundaries.ndim > 1 and boundaries.shape[:-1] != queries.shape[:-1]:
        raise ShapeError(
            f"searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            f"dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(boundaries.shape)} and input value tensor "
            f"{list(queries.shape)}"
        )
    common = result_type(sorted_sequence, values)
    if common is dtypes.bool_:  # (a bool beside another dtype promotes, as PyTorch's)
        raise DTypeError("searchsorted: not implemented for bool tensors")
    ordered, queries = sorted_sequence.detach().to(common), values.detach().to(common)
    if sorter is not None:
        if tuple(sorter.shape) != tuple(sorted_sequence.shape):
            raise ShapeError(
                f"searchsorted(): boundary and sorter must have the same size, but got "
                f"boundary tensor {list(sorted_sequence.shape)} and sorter tensor "
                f"{list(sorter.shape)}"
            )
        ordered = gather(ordered, -1, sorter)
    dtype = dtypes.int32 if out_int32 else dtypes.int64
    return apply(SearchSorted, (ordered, queries), bool(right), dtype)


class SearchSorted(Op):
    """Where each query would be inserted in `ordered` (sorted along its last dimension): one
    search for all queries in a 1-D sequence, one per row otherwise (the leading dimensions
    of both match). Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, ordered: Array, queries: Array, right: bool, dtype: Any) -> Array:
        xp = ctx.xp
        side = "right" if right else "left"
        if ordered.shape[-1] and (_has_nan(xp, ordered) or _has_nan(xp, queries)):
            rows = ordered.reshape(-1, ordered.shape[-1])
            positions = _bisect_as_torch(xp, rows, queries.reshape(rows.shape[0], -1), right)
            return positions.reshape(queries.shape).astype(dtype.numpy)
        if ordered.ndim == 1:
            positions = xp.asarray(xp.searchsorted(ordered, queries, side=side))
        else:
            rows = ordered.reshape(-1, ordered.shape[-1])
            query_rows = queries.reshape(rows.shape[0], -1)
            searched = [xp.searchsorted(row, q, side=side) for row, q in zip(rows, query_rows)]
            positions = xp.stack(searched).reshape(queries.shape)
        return positions.astype(dtype.numpy)

    @staticmethod
    def batch(b: Any, ordered: Tensor, queries: Tensor, right: bool, dtype: Any) -> Tensor:
        """vmap: a shared 1-D sequence searches every example's queries in one call; otherwise
        each example's sequence (batched, or shared and broadcast) is one row of a row search,
        its queries that row's."""
        if not b.batched[0] and ordered.ndim == 1:
            return apply(SearchSorted, (ordered, queries), right, dtype)
        ordered, queries = b.batch_all((ordered, queries))
        return apply(SearchSorted, (ordered, queries), right, dtype)


def _has_nan(xp: Any, array: Array) -> bool:
    return array.dtype.kind in "fc" and bool(xp.isnan(array).any())


def _bisect_as_torch(xp: Any, rows: Array, queries: Array, right: bool) -> Array:
    """PyTorch's binary search, run for every query of every row at once: step right past
    row[mid] unless row[mid] >= value (> with `right`). Every comparison with a NaN is false,
    so a NaN query lands past the end and a NaN met on the way counts as smaller, where
    NumPy's searchsorted orders NaN last; used only when a NaN is present."""
    start = xp.zeros(queries.shape, dtype=xp.int64)
    end = xp.full(queries.shape, rows.shape[-1], dtype=xp.int64)
    while bool((start < end).any()):
        active = start < end
        mid = xp.minimum(start + (end - start) // 2, rows.shape[-1] - 1)
        mid_values = xp.take_along_axis(rows, mid, axis=-1)
        stop = mid_values > queries if right else mid_values >= queries
        start = xp.where(active & ~stop, mid + 1, start)
        end = xp.where(active & stop, mid, end)
    return start


def bucketize(
    input: Tensor | Number,  # noqa: A002
    boundaries: Tensor,
    *,
    out_int32: bool = False,
    right: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """The bucket of each value of `input` between the 1-D sorted `boundaries`: i with
    boundaries[i - 1] < x <= boundaries[i] (< x <= becomes <= x < with right=True).

    Args:
        input (Tensor or number): the values to place.
        boundaries (Tensor): 1-D, increasing.
        out_int32 (bool): int32 indices instead of int64.
        right (bool): put a value equal to a boundary in the bucket above it.
        out (Tensor, optional): written with the result, which is also returned.

    Returns:
        Tensor: the bucket indices, shaped like `input`.

    Example:
        >>> chainrule.bucketize(chainrule.tensor([3, 6, 9]), chainrule.tensor([1, 3, 5, 7]))
        tensor([1, 3, 4])
    """
    if not isinstance(boundaries, Tensor) or boundaries._array.ndim != 1:
        ndim = boundaries.ndim if isinstance(boundaries, Tensor) else 0
        raise ShapeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim({ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _unique_result(
    values: Any, inverse: Any, counts: Any, return_inverse: bool, return_counts: bool
) -> Any:
    """unique's result: the values alone, or a tuple with the inverse and counts asked for."""
    if not (return_inverse or return_counts):
        return values
    result = (values,)
    if return_inverse:
        result += (inverse,)
    if return_counts:
        result += (counts,)
    return result


# unique() runs PyTorch's sort steps in Python (to pick between -0.0 and 0.0) up to this size.
_TIE_ORDER_LIMIT = 1 << 14


def _has_both_zeros(xp: Any, array: Array) -> bool:
    """Whether a floating-point array holds both -0.0 and 0.0 (which unique keeps is PyTorch's
    sort order's choice)."""
    if array.dtype.kind != "f":
        return False
    zeros = array == 0
    if not zeros.any():
        return False
    negative = xp.signbit(array) & zeros
    return bool(negative.any()) and not bool(negative[zeros].all())


def _check_unique_dim(name: str, array: Array, dim: int) -> int:
    dim = require_dims(name, dim, array.ndim)
    if array.size == 0 and any(size == 0 for axis, size in enumerate(array.shape) if axis != dim):
        raise ShapeError(
            f"{name}: There are 0 sized dimensions, and they aren't selected, so unique cannot "
            f"be applied (input shape {array.shape})"
        )
    return dim


class Unique2(Computed):
    """unique's distinct values, recorded as PyTorch's (Unique2Backward0, whose backward
    raises): computed on the host, not differentiable."""

    aten = "_unique2"
    listed = True


class UniqueDim(Computed):
    """unique's distinct slices along a dim, recorded as PyTorch's (UniqueDimBackward0)."""

    aten = "unique_dim"
    listed = True


class UniqueConsecutive(Computed):
    """unique_consecutive's values, recorded as PyTorch's (UniqueConsecutiveBackward0)."""

    aten = "unique_consecutive"
    listed = True


def unique(
    input: Tensor,  # noqa: A002
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct elements (distinct slices along `dim`), sorted, with optionally the
    inverse (the position in the result of each element or slice) and the counts. Each nan is
    distinct. The result is always sorted, as PyTorch's on CPU.

    Args:
        input (Tensor): any shape.
        sorted (bool): accepted for PyTorch's signature: the result is always sorted.
        return_inverse (bool): also return where each element went.
        return_counts (bool): also return how often each distinct value occurs.
        dim (int, optional): unique slices along this dimension instead of elements.

    Returns:
        Tensor, or a tuple (output, inverse_indices?, counts?) when a return_* flag is set.

    Example:
        >>> chainrule.unique(chainrule.tensor([3, 1, 3, 2]), return_counts=True)
        (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    array = input._array
    xp = input._backend.xp
    int64 = dtypes.int64.numpy
    if dim is None:
        values, inverse, counts = xp.unique(
            array.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False
        )
        inverse = inverse.reshape(array.shape)
        if _has_both_zeros(xp, array) and array.size <= _TIE_ORDER_LIMIT:
            # Which of -0.0 and 0.0 stands for both: the first in PyTorch's sort order
            flat = array.reshape(-1)
            order = tie_order.sort_positions(flat.tolist(), False)
            values = values.copy()
            values[values == 0] = flat[next(p for p in order if flat[p] == 0)]
    else:
        dim = _check_unique_dim("unique", array, dim)
        if array.shape[dim] == 0:
            values, inverse, counts = array, xp.zeros(0, int64), xp.zeros(0, int64)
        elif array.dtype.kind in "fc" and (xp.isnan(array).any() or _has_both_zeros(xp, array)):
            # NaN compares neither way and -0.0 == 0.0: PyTorch's own steps decide the order,
            # the groups and which slice stands for each
            rows = xp.moveaxis(array, dim, 0)
            firsts, groups, sizes = tie_order.unique_slices(
                rows.reshape(rows.shape[0], -1).tolist()
            )
            values = xp.take(array, xp.asarray(firsts, dtype=int64), axis=dim)
            inverse = xp.asarray(groups, dtype=int64)
            counts = xp.asarray(sizes, dtype=int64)
        else:
            values, inverse, counts = xp.unique(
                array, return_inverse=True, return_counts=True, axis=dim
            )
            inverse = inverse.reshape(-1)
    recorded = Unique2 if dim is None else UniqueDim
    return _unique_result(
        apply(recorded, (input,), xp.asarray(values)),
        _wrap_like(input, inverse.astype(int64, copy=False)),
        _wrap_like(input, counts.astype(int64, copy=False)),
        return_inverse,
        return_counts,
    )


def unique_consecutive(
    input: Tensor,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The elements (slices along `dim`) with each run of equal consecutive ones kept once,
    with optionally the inverse and each run's length.

    Args:
        input (Tensor): any shape.
        return_inverse (bool): also return where each element went.
        return_counts (bool): also return each run's length.
        dim (int, optional): runs of slices along this dimension instead of elements.

    Returns:
        Tensor, or a tuple (output, inverse_indices?, counts?) when a return_* flag is set.

    Example:
        >>> chainrule.unique_consecutive(chainrule.tensor([1, 1, 2, 2, 3, 1]))
        tensor([1, 2, 3, 1])
    """
    array = input._array
    xp = input._backend.xp
    if dim is None:
        rows = array.reshape(-1, 1)
    else:
        dim = _check_unique_dim("unique_consecutive", array, dim)
        rows = xp.moveaxis(array, dim, 0)
        rows = rows.reshape(rows.shape[0], -1)
    length = rows.shape[0]
    starts = xp.ones(length, dtype=bool)
    if length > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    if dim is None:
        values = array.reshape(-1)[starts]
    else:
        values = xp.compress(starts, array, axis=dim)
    run_starts = xp.flatnonzero(starts)
    counts = xp.diff(xp.concatenate((run_starts, xp.asarray([length])))).astype(dtypes.int64.numpy)
    inverse = (xp.cumsum(starts) - 1).astype(dtypes.int64.numpy)
    if dim is None:
        inverse = inverse.reshape(array.shape)
    return _unique_result(
        apply(UniqueConsecutive, (input,), values),
        _wrap_like(input, inverse),
        _wrap_like(input, counts),
        return_inverse,
        return_counts,
    )


class Histc(Op):
    """Counts of x's elements in `bins` equal-width bins between low and high (x's own range
    when they are equal). An op so that vmap runs it once per example (each example's own
    range, as PyTorch's fallback does). Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, x: Array, bins: int, low: float, high: float) -> Array:
        xp = ctx.xp
        if low == high and x.size:
            low, high = float(x.min()), float(x.max())
        if low == high:
            low, high = low - 1, high + 1
        if not (math.isfinite(low) and math.isfinite(high)):
            raise DomainError(f"histc: range of [{low}, {high}] is not finite")
        if not low < high:
            raise DomainError("histc: max must be larger than min")
        # PyTorch's arithmetic: edges in input's dtype, float16 computed in float32
        work = xp.dtype("float32") if x.dtype.itemsize == 2 else x.dtype
        edge_low, edge_high = xp.asarray(low, x.dtype), xp.asarray(high, x.dtype)
        values = x.reshape(-1).astype(work)
        inside = values[(values >= edge_low) & (values <= edge_high)]
        position = (
            (inside - edge_low.astype(work))
            * work.type(bins)
            / (edge_high.astype(work) - edge_low.astype(work))
        )
        position = xp.minimum(position.astype(xp.int64), bins - 1)
        return xp.bincount(position, minlength=bins).astype(x.dtype)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A001, A002
    """Counts of the elements in `bins` equal-width bins between min and max (the data's own
    range when both are equal), in input's floating dtype; elements outside (and nan) are
    not counted, the top edge belongs to the last bin.

    Args:
        input (Tensor): any shape, floating.
        bins (int): the number of bins.
        min (float): the lower edge of the first bin.
        max (float): the upper edge of the last bin.

    Example:
        >>> chainrule.histc(chainrule.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
        tensor([0., 2., 1., 0.])
    """
    if input.dtype.numpy.kind not in "fV":
        raise DTypeError(f"histc: not implemented for {input.dtype.name} tensors")
    if bins <= 0:
        raise DomainError(f"histc: bins must be > 0, but got {bins}")
    return apply(Histc, (input,), int(bins), float(min), float(max))


# The public names: PyTorch's functions (helpers above stay importable by module path).
__all__ = [
    "bucketize",
    "diff",
    "dsplit",
    "gather",
    "histc",
    "hsplit",
    "index_add",
    "index_put",
    "index_reduce",
    "index_select",
    "isin",
    "masked_fill",
    "masked_select",
    "narrow",
    "pad",
    "repeat_interleave",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "searchsorted",
    "select",
    "take",
    "take_along_dim",
    "tensor_split",
    "unique",
    "unique_consecutive",
    "vsplit",
]


class Unfold(Op):
    """Tensor.unfold: every window of `size` along `dim`, `step` apart, as a new last
    dimension; a view of x (strides only, as PyTorch's), so writes go through and windows may
    overlap. Derivative: each window's gradient added back where it came from (UnfoldBackward,
    overlapping windows adding up)."""

    is_view = True

    @staticmethod
    def forward(ctx: Node, x: Array, dim: int, size: int, step: int) -> Array:
        ctx.save(dim=dim, size=size, step=step)
        count = (x.shape[dim] - size) // step + 1
        shape = (*x.shape[:dim], count, *x.shape[dim + 1 :], size)
        strides = (*x.strides[:dim], x.strides[dim] * step, *x.strides[dim + 1 :], x.strides[dim])
        return ctx.xp.lib.stride_tricks.as_strided(x, shape, strides)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        shape = ctx.input_meta[0][0]
        return (apply(UnfoldBackward, (g,), shape, ctx.dim, ctx.size, ctx.step),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Unfold, (t,), ctx.dim, ctx.size, ctx.step)

    @staticmethod
    def batch(b: Any, x: Any, dim: int, size: int, step: int) -> Any:
        """vmap: the dim one further right."""
        return apply(Unfold, (x,), dim + 1, size, step)


class UnfoldBackward(Op):
    """Zeros of `shape` with each window of g (Unfold's output layout) added back at its
    place: one strided slice per position in the window, as the windows of one position never
    overlap. Derivative: Unfold of g (its transpose)."""

    @staticmethod
    def forward(ctx: Node, g: Array, shape: tuple, dim: int, size: int, step: int) -> Array:
        ctx.save(shape=shape, dim=dim, size=size, step=step)
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        count = g.shape[dim]
        for offset in range(size):
            rows = slice(offset, offset + step * (count - 1) + 1, step)
            out[(slice(None),) * dim + (rows,)] += g[..., offset]
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(Unfold, (g,), ctx.dim, ctx.size, ctx.step),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(UnfoldBackward, (t,), ctx.shape, ctx.dim, ctx.size, ctx.step)

    @staticmethod
    def batch(b: Any, g: Any, shape: tuple, dim: int, size: int, step: int) -> Any:
        """vmap: the batch in front of shape, the dim one further right."""
        return apply(UnfoldBackward, (g,), (b.size, *shape), dim + 1, size, step)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """Tensor.unfold: every window of `size` along `dimension`, `step` apart, as a new last
    dimension: a view, as PyTorch's (writing into it writes into the input).

    >>> import chainrule
    >>> chainrule.arange(5.0).unfold(0, 2, 1)
    tensor([[0., 1.],
            [1., 2.],
            [2., 3.],
            [3., 4.]])
    """
    ndim = input._array.ndim
    dim = normalize_dim("unfold", dimension, ndim)
    length = input._array.shape[dim] if ndim else 1
    if size > length:
        raise ShapeError(
            f"unfold: maximum size for tensor at dimension {dim} is {length} but size is {size}"
        )
    if step <= 0:
        raise ShapeError(f"unfold: step is {step} but must be > 0")
    if ndim == 0:
        return reshape(input, (1,))
    return apply(Unfold, (input,), dim, size, step)


def repeat_interleave(
    input: Tensor,  # noqa: A002
    repeats: Tensor | int | None = None,
    dim: int | None = None,
    *,
    output_size: int | None = None,
    axis: int | None = None,
) -> Tensor:
    """Each element (each slice along `dim`; of the flattened input when dim is None) repeated
    `repeats` times in place: an int, or an int64 tensor of one count per slice (or a single
    count). `repeat_interleave(counts)` alone repeats each index i counts[i] times. The
    gradient sums over the copies.

    Args:
        input (Tensor): the tensor repeated (or, alone, the counts).
        repeats (int or Tensor, optional): the repeat count, or one per slice.
        dim (int, optional): the dimension repeated along; None flattens first.
        output_size (int, optional): the total length along `dim`, if known.
        axis (int, optional): NumPy's name for `dim`.

    Example:
        >>> chainrule.repeat_interleave(chainrule.tensor([1, 2]), 2)
        tensor([1, 1, 2, 2])
        >>> chainrule.tensor([[1, 2], [3, 4]]).repeat_interleave(chainrule.tensor([1, 2]), dim=0)
        tensor([[1, 2],
                [3, 4],
                [3, 4]])
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("repeat_interleave", dim, None, axis, None)
    if repeats is None:  # repeat_interleave(counts): the indices, repeated
        counts = input
        if counts._array.ndim != 1:
            raise ShapeError("repeat_interleave: only accept 1D vector as repeat")

        indices = arange(counts._array.shape[0], device=counts.device)
        return repeat_interleave(indices, counts, 0, output_size=output_size)
    if dim is None:
        input = reshape(input, (-1,))  # noqa: A001
        dim = 0
    elif input._array.ndim == 0:
        raise IndexError(
            f"repeat_interleave: Dimension specified as {dim} but tensor has no dimensions"
        )
    dim = normalize_dim("repeat_interleave", dim, input._array.ndim)
    size = input._array.shape[dim]
    counts = _repeat_counts(repeats, size)
    xp = input._backend.xp
    total = counts * size if isinstance(counts, int) else sum(counts)
    if output_size is not None and output_size != total:
        raise ShapeError(
            f"repeat_interleave: Invalid output_size, expected {total} but got {output_size}"
        )
    shape = input._array.shape
    if isinstance(counts, int):  # each slice expanded along a new dimension, then merged
        stretched = expand(
            unsqueeze(input, dim + 1), shape[: dim + 1] + (counts,) + shape[dim + 1 :]
        )
        out = reshape(stretched, shape[:dim] + (total,) + shape[dim + 1 :])
        if out._base is not None:
            # a copy, as PyTorch's, never a view of the input: reshape gives one when nothing
            # repeats (a count of 1, an empty input) and a stride-0 one of a size-1 input
            out = clone(out, memory_format=contiguous_format)
        return named(out, "ViewBackward0")  # PyTorch's: a view of its expanded copy

    index = xp.repeat(xp.arange(size, dtype=xp.int64), counts)
    return apply(IndexSelect, (input, Tensor._from_array(index, input._backend)), dim)


def _repeat_counts(repeats: Any, size: int) -> Any:
    """The repeat counts as an int (the same for every slice) or a list of `size` ints."""
    if not isinstance(repeats, Tensor):
        count = int(repeats)
        if count < 0:
            raise ShapeError(f"repeat_interleave: Repeats must be non-negative, got {count}")
        return count
    if repeats._array.dtype.kind not in "iu":
        raise DTypeError(
            f"repeat_interleave: repeats must be an integer tensor, got {repeats.dtype.name}"
        )
    if repeats._array.ndim > 1:
        raise ShapeError(
            f"repeat_interleave: repeats must be 0-dim or 1-dim tensor (repeats shape "
            f"{repeats.shape})"
        )
    counts = reshape(repeats, (-1,)).tolist()
    if len(counts) == 1:
        return _repeat_counts(counts[0], size)
    if len(counts) != size:
        raise ShapeError(
            f"repeat_interleave: repeats must have the same size as input along dim, but got "
            f"repeats.size(0) = {len(counts)} and input.size(dim) = {size}"
        )
    if any(count < 0 for count in counts):
        raise ShapeError("repeat_interleave: repeats can not be negative")
    return counts


def narrow(input: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:  # noqa: A002
    """The view input[..., start:start + length, ...] along `dim` (start may be negative).

    Args:
        input (Tensor): the tensor viewed.
        dim (int): the dimension narrowed.
        start (int or 0-d Tensor): the first index kept.
        length (int): how many indices are kept.

    Example:
        >>> import chainrule
        >>> chainrule.arange(6).reshape(2, 3).narrow(1, 1, 2)
        tensor([[1, 2],
                [4, 5]])
    """
    ndim = input._array.ndim
    if ndim == 0:
        raise ShapeError("narrow: narrow() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim("narrow", dim, ndim)
    size = input._array.shape[dim]
    start, length = int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(
            f"narrow: start out of range (expected to be in range of [{-size}, {size}], but got "
            f"{start})"
        )
    if start < 0:
        start += size
    if length < 0:
        raise ShapeError("narrow: narrow(): length must be non-negative.")
    if start + length > size:
        raise ShapeError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}) "
            f"(input shape {input.shape})."
        )

    key = (slice(None),) * dim + (slice(start, start + length), Ellipsis)
    return apply(BasicIndex, (input,), key, True)


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """The view input[..., index, ...] along `dim`, that dimension removed (index may be
    negative).

    Args:
        input (Tensor): the tensor viewed.
        dim (int): the dimension removed.
        index (int): which index along it.

    Example:
        >>> chainrule.select(chainrule.tensor([[1, 2], [3, 4]]), 1, -1)
        tensor([2, 4])
    """
    ndim = input._array.ndim
    if ndim == 0:
        raise IndexError("select(): select() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim("select", dim, ndim)
    size = input._array.shape[dim]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {dim}"
        )

    key = (slice(None),) * dim + (index % size, Ellipsis)
    return apply(SelectIndex, (input,), key, True)


def _sections_or_indices(op_name: str, indices_or_sections: Any) -> int | tuple[int, ...]:
    """tensor_split's argument as a number of sections (an int, or a 0-dim int64 tensor) or a
    tuple of indices (a sequence, or a 1-D int64 tensor)."""
    value = indices_or_sections
    if isinstance(value, Tensor):
        if value.dtype.name != "int64":
            raise DTypeError(
                f"{op_name}: expected tensor_indices_or_sections to have dtype of long, but "
                f"got {value.dtype.name}"
            )
        if value._array.ndim > 1:
            raise ShapeError(
                f"{op_name}: expected tensor_indices_or_sections to be a zero-dimensional or "
                f"one-dimensional tensor, but got a tensor with {value._array.ndim} dims"
            )
        value = value.tolist()
    if isinstance(value, (tuple, list)):
        return tuple(int(i) for i in value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{op_name}(): indices_or_sections must be an int, a sequence of ints or an int64 "
            f"tensor, not {type(value).__name__}"
        )
    return value


def tensor_split(
    input: Tensor,  # noqa: A002
    indices_or_sections: Tensor | Sections,
    dim: int = 0,
    *,
    axis: int | None = None,
) -> tuple:
    """Views of `input` along `dim`: `n` sections of near-equal size (the first n % size one
    larger), or the pieces between the given indices (x[:i0], x[i0:i1], ..., sliced as
    Python slices, so out-of-range or decreasing indices give empty pieces).

    Args:
        input (Tensor): the tensor to split.
        indices_or_sections (int, list of ints or Tensor): a number of sections, or the indices
            to split before.
        dim (int): the dimension split.
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        tuple of Tensors: views of `input`.

    Example:
        >>> [p.tolist() for p in chainrule.tensor_split(chainrule.arange(7), 3)]
        [[0, 1, 2], [3, 4], [5, 6]]
        >>> [p.tolist() for p in chainrule.tensor_split(chainrule.arange(7), [2, 5])]
        [[0, 1], [2, 3, 4], [5, 6]]
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("tensor_split", dim, None, axis, None)
    ndim = input._array.ndim
    if ndim == 0:
        raise ShapeError(
            "tensor_split: expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        )
    dim = normalize_dim("tensor_split", dim, ndim)
    split = _sections_or_indices("tensor_split", indices_or_sections)
    length = input._array.shape[dim]
    if isinstance(split, int):
        if split <= 0:
            raise ShapeError(f"tensor_split: number of sections must be larger than 0, got {split}")
        small, larger = divmod(length, split)
        sizes = (small + 1,) * larger + (small,) * (split - larger)
        pieces = apply(Split, (input,), sizes, dim)
        named(pieces[0], "SliceBackward0")  # the pieces' node: PyTorch slices each
        return mark_views(input, pieces)
    bounds = (None, *split, None)
    return tuple(_along(input, dim, start, stop) for start, stop in zip(bounds[:-1], bounds[1:]))


def _split_at(op_name: str, input: Any, indices_or_sections: Any, dim: int, min_ndim: int) -> tuple:  # noqa: A002
    """hsplit, vsplit and dsplit: tensor_split along `dim`, sections dividing it exactly."""
    ndim = input._array.ndim
    if ndim < min_ndim:
        raise ShapeError(
            f"{op_name}: torch.{op_name} requires a tensor with at least {min_ndim} dimension, "
            f"but got a tensor with {ndim} dimensions!"
        )
    split = _sections_or_indices(op_name, indices_or_sections)
    if isinstance(split, int):
        size = input._array.shape[dim]
        if split == 0 or size % split:
            raise ShapeError(
                f"{op_name}: torch.{op_name} attempted to split along dimension {dim}, but the "
                f"size of the dimension {size} is not divisible by the split_size {split}!"
            )
    return tensor_split(input, split, dim)


def hsplit(input: Tensor, indices_or_sections: Tensor | Sections) -> tuple:  # noqa: A002
    """tensor_split along dim 1 (dim 0 for 1-D input); sections must divide it exactly.

    Args:
        input (Tensor): at least 1-D.
        indices_or_sections (int, list of ints or Tensor): a number of equal sections, or the
            indices to split before.

    Returns:
        tuple of Tensors: views of `input`.

    Example:
        >>> import chainrule
        >>> [p.tolist() for p in chainrule.hsplit(chainrule.arange(6).reshape(2, 3), [1])]
        [[[0], [3]], [[1, 2], [4, 5]]]
    """
    dim = 0 if input._array.ndim == 1 else 1
    return _split_at("hsplit", input, indices_or_sections, dim, 1)


def vsplit(input: Tensor, indices_or_sections: Tensor | Sections) -> tuple:  # noqa: A002
    """tensor_split along dim 0 of an at least 2-D tensor; sections must divide it exactly.

    Args:
        input (Tensor): at least 2-D.
        indices_or_sections (int, list of ints or Tensor): a number of equal sections, or the
            indices to split before.

    Returns:
        tuple of Tensors: views of `input`.

    Example:
        >>> import chainrule
        >>> [p.tolist() for p in chainrule.vsplit(chainrule.arange(4).reshape(2, 2), 2)]
        [[[0, 1]], [[2, 3]]]
    """
    return _split_at("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections: Tensor | Sections) -> tuple:  # noqa: A002
    """tensor_split along dim 2 of an at least 3-D tensor; sections must divide it exactly.

    Args:
        input (Tensor): at least 3-D.
        indices_or_sections (int, list of ints or Tensor): a number of equal sections, or the
            indices to split before.

    Returns:
        tuple of Tensors: views of `input`.

    Example:
        >>> import chainrule
        >>> [tuple(p.shape) for p in chainrule.dsplit(chainrule.zeros(2, 2, 4), 2)]
        [(2, 2, 2), (2, 2, 2)]
    """
    return _split_at("dsplit", input, indices_or_sections, 2, 3)


def _along(input: Any, dim: int, start: int | None, stop: int | None) -> Any:  # noqa: A002
    """The view input[..., start:stop, ...] along `dim`."""

    key = (slice(None),) * dim + (slice(start, stop), Ellipsis)
    return apply(BasicIndex, (input,), key, True)


def diff(
    input: Tensor,  # noqa: A002
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
    *,
    axis: int | None = None,
) -> Tensor:
    """The n-th forward difference along `dim`, out[i] = x[i + 1] - x[i] applied n times,
    after joining `prepend` and `append` (tensors) to the ends; bool tensors give
    x[i + 1] != x[i]. Each difference shortens the dimension by one, down to 0.

    Args:
        input (Tensor): at least 1-D.
        n (int): how many times to take the difference.
        dim (int): the dimension along which to take it.
        prepend (Tensor, optional): joined before `input` along `dim` first.
        append (Tensor, optional): joined after `input` along `dim` first.
        axis (int, optional): NumPy's name for `dim`.

    Example:
        >>> chainrule.diff(chainrule.tensor([1, 4, 9, 16]))
        tensor([3, 5, 7])
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("diff", dim, None, axis, None)
    ndim = input._array.ndim
    if ndim == 0:
        raise ShapeError("diff: diff expects input to be at least one-dimensional")
    if n < 0:
        raise ShapeError(f"diff: order must be non-negative but got {n}")
    dim = normalize_dim("diff", dim, ndim)
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is not None and not isinstance(extra, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(extra).__name__}")
        if extra is not None and extra._array.ndim != ndim:
            raise ShapeError(
                f"diff: diff expects prepend or append to be the same dimension as input (input "
                f"shape {input.shape}, {name} shape {extra.shape})"
            )
    if n == 0:  # (PyTorch: a copy of input, prepend and append left out)
        return clone(input)
    pieces = [t for t in (prepend, input, append) if t is not None]
    out = cat(pieces, dim) if len(pieces) > 1 else input
    for _ in range(n):
        later, earlier = _along(out, dim, 1, None), _along(out, dim, None, -1)
        out = logical_xor(later, earlier) if out._array.dtype.kind == "b" else later - earlier
    return out


class ConstantPadNd(Op):
    """x grown by `widths` (before, after) per dimension and filled with `value`; negative
    widths crop. Derivative: g cropped back, which is the same pad with negated widths."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, widths: tuple, value: Any) -> Array:
        ctx.save(widths=widths)
        if not widths:
            return x.copy()
        crop = tuple(
            slice(max(-before, 0), size - max(-after, 0))
            for (before, after), size in zip(widths, x.shape)
        )
        grow = tuple((max(before, 0), max(after, 0)) for before, after in widths)
        # contiguous, as PyTorch's (NumPy keeps a transposed input's layout)
        return in_c_order(ctx.xp.pad(x[crop], grow, mode="constant", constant_values=value))

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        negated = tuple((-before, -after) for before, after in ctx.widths)
        return (apply(ConstantPadNd, (g,), negated, 0),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(ConstantPadNd, (t,), ctx.widths, 0)

    @staticmethod
    def batch(b: Any, x: Any, widths: tuple, value: Any) -> Any:
        """vmap: no padding along the batch dimension."""
        return apply(ConstantPadNd, (x,), ((0, 0), *widths), value)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(
    input: Tensor,  # noqa: A002
    pad: Sequence[int],
    mode: str = "constant",
    value: float | None = None,
) -> Tensor:
    """torch.nn.functional.pad: `pad` lists (before, after) widths starting from the LAST
    dimension. 'constant' fills with `value` (negative widths crop); 'reflect' mirrors without
    repeating the edge, 'replicate' repeats the edge, 'circular' wraps around.

    Args:
        input (Tensor): any shape.
        pad (sequence of ints): (before, after) pairs, last dimension first.
        mode (str): 'constant', 'reflect', 'replicate' or 'circular'.
        value (float, optional): the fill of 'constant' (0 by default).

    Example:
        >>> import chainrule
        >>> chainrule.pad(chainrule.tensor([1.0, 2.0, 3.0]), (1, 2))
        tensor([0., 1., 2., 3., 0., 0.])
    """
    widths_flat = tuple(int(p) for p in pad)
    shape = input._array.shape
    ndim = len(shape)
    if len(widths_flat) % 2:
        raise ShapeError(f"pad: Padding length must be divisible by 2, got {list(widths_flat)}")
    count = len(widths_flat) // 2
    if count > ndim:
        raise ShapeError(
            f"pad: Padding length should be less than or equal to two times the input dimension "
            f"but got padding length {len(widths_flat)} and input of dimension {ndim} (input "
            f"shape {shape})"
        )
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}")
    widths = [(0, 0)] * ndim
    for i in range(count):
        widths[ndim - 1 - i] = (widths_flat[2 * i], widths_flat[2 * i + 1])
    if mode != "constant":
        if value is not None and value != 0:
            raise DomainError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
        if ndim not in (count + 1, count + 2):  # PyTorch's kernels: batched or unbatched input
            raise NotImplementedError(
                f"pad: Padding size {len(widths_flat)} is not supported for {ndim}D input "
                f"tensor (mode '{mode}' pads {count} dimensions of a {count + 1}D or "
                f"{count + 2}D input)"
            )
        batch = 1 if ndim == count + 2 else 0  # only a batch dimension may be empty
        if mode != "circular" and 0 in shape[batch:]:
            raise ShapeError(
                f"pad: Expected {count + 1}D or {count + 2}D (batch mode) tensor with possibly 0 "
                f"batch size and other non-zero dimensions for input, but got: {list(shape)}"
            )
    for dim, ((before, after), size) in enumerate(zip(widths, shape)):
        if mode == "constant" and size + min(before, 0) + min(after, 0) < 0:
            # PyTorch cuts the negative widths off first (a narrow), then pads
            raise ShapeError(
                f"pad: narrow(): length must be non-negative. (dimension {dim} of size {size} "
                f"cut by padding {before} and {after}; input shape {shape})"
            )
        if size + before + after < 0:
            raise ShapeError(
                f"pad: The input size {size}, plus negative padding {before} and {after} "
                f"resulted in a negative output size, which is invalid. Check dimension {dim} "
                f"of your input (shape {shape})."
            )
    if mode == "constant":
        result = apply(ConstantPadNd, (input,), tuple(widths), 0 if value is None else value)
        kept = keep_channels_last(input, result)  # (PyTorch's constant pad keeps the layout)
        return result if kept is result else named(kept, "ConstantPadNdBackward0")
    if autocast_active() is not None and (mode == "replicate" or (mode == "reflect" and count < 3)):
        # PyTorch's autocast float32 list holds these kernels (reflection_pad1d/2d, replication)
        (input,) = autocast_operands(FLOAT32, input)  # noqa: A001
    padded = [shape[d] + widths[d][0] + widths[d][1] for d in range(ndim - count, ndim)]
    if mode != "circular" and all(size < 1 for size in padded):
        # PyTorch's reflection and replication kernels: some padded dimension must stay
        raise ShapeError(
            f"pad: input (sizes {shape[ndim - count :]}) is too small. Calculated output "
            f"sizes: {tuple(padded)}"
        )

    result = input
    xp = input._backend.xp
    for dim in range(ndim - count, ndim):
        before, after = widths[dim]
        if before == 0 and after == 0:
            continue
        positions = _pad_positions(mode, shape, dim, before, after)
        index = Tensor._from_array(xp.asarray(positions, dtype=xp.int64))
        result = index_select(result, dim, index)
    if result is input:
        result = clone(input)
    if mode != "circular":  # (reflection and replication keep a channels-last layout too)
        result = keep_channels_last(input, result)
    if mode in _PAD_NODE_NAMES:
        return named(result, _PAD_NODE_NAMES[mode].format(count))
    return result


# PyTorch's grad_fn names for pad's modes, by the number of padded dimensions (its circular
# mode writes slices into a new tensor, so a printed result shows CopySlices).
_PAD_NODE_NAMES = {
    "reflect": "ReflectionPad{}DBackward0",
    "replicate": "ReplicationPad{}DBackward0",
    "circular": "CopySlices",
}


def _pad_positions(mode: str, shape: tuple, dim: int, before: int, after: int) -> list[int]:
    """Which input position each output position along `dim` copies, for a non-constant pad."""
    size = shape[dim]
    if size == 0:
        raise ShapeError(
            f"pad: {mode} padding needs a non-empty dimension {dim}, got input shape {shape}"
        )
    if mode == "reflect":
        if before >= size or after >= size:
            raise ShapeError(
                f"pad: Padding size should be less than the corresponding input dimension, but "
                f"got: padding ({before}, {after}) at dimension {dim} of input {list(shape)}"
            )
        period = 2 * (size - 1) or 1
        positions = []
        for p in range(-before, size + after):
            p = abs(p) % period
            positions.append(p if p < size else period - p)
        return positions
    if mode == "replicate":
        return [min(max(p, 0), size - 1) for p in range(-before, size + after)]
    # circular: crop first (negative widths), then wrap around what is left
    if before > size or after > size:
        raise ShapeError(
            f"pad: Padding value causes wrapping around more than once (padding ({before}, "
            f"{after}) at dimension {dim} of input {list(shape)})"
        )
    kept = list(range(max(-before, 0), size - max(-after, 0)))
    if not kept:
        return []
    grow_before, grow_after = max(before, 0), max(after, 0)
    return [kept[q % len(kept)] for q in range(-grow_before, len(kept) + grow_after)]
