"""Shape ops: reshape, broadcast, transpose, reorder, join, split and pad.

Each vjp is the inverse rearrangement of the gradient, written with the ops of this file so
higher derivatives come for free: reshape back, sum over broadcast (SumTo <-> Expand), permute
by the inverse order, flip and roll back, split what was concatenated (Cat <-> Split, Stack <->
Unbind), crop what was padded (a pad with negated widths). Ops that return views of their input
(view, reshape where possible, permute, expand, squeeze, slices, split, unbind) share its memory
and version counter, as in PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from warnings import warn as _warn  # private: `chainrule` star-imports this module

from chainrule._tensor import VIEW_MULTI_OUTPUT, Tensor
from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.backend.dtypes import as_dtype, from_numpy_dtype
from chainrule.backend.formats import contiguous_format, is_contiguous_as
from chainrule.errors import DTypeError, ShapeError
from chainrule.ops.arguments import (
    normalize_dim,
    normalize_dims,
    normalize_size,
    numpy_keywords,
    require_dims,
    size_by_keyword,
)
from chainrule.ops.autocast import autocast_active, check_promote_operands
from chainrule.ops.conversion import Clone, cast, clone, layout_name, write_out
from chainrule.ops.op import (
    Op,
    apply,
    in_c_order,
    in_channels_last,
    named,
    suggests_channels_last,
)

# ---- argument helpers ----------------------------------------------------------------------


def infer_shape(op_name: str, shape: tuple[int, ...], numel: int, source: tuple) -> tuple:
    """Replace one -1 in `shape` so the element count matches, or raise naming both shapes."""
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise ShapeError(f"{op_name}: only one dimension can be inferred, got {shape}")
    if any(size < -1 for size in shape):
        raise ShapeError(f"{op_name}: invalid shape dimension in {list(shape)}")
    known = 1
    for size in shape:
        if size != -1:
            known *= size
    if unknown:
        if known == 0 or numel % known:
            raise ShapeError(
                f"{op_name}: shape {list(shape)} is invalid for input of size {numel} "
                f"(input shape {source})"
            )
        shape = shape[: unknown[0]] + (numel // known,) + shape[unknown[0] + 1 :]
    elif known != numel:
        raise ShapeError(
            f"{op_name}: shape {list(shape)} is invalid for input of size {numel} "
            f"(input shape {source})"
        )
    return shape


def _dims_argument(args: tuple, dims: Any) -> Any:
    """`f(x, (0, 1))`, `x.f(0, 1)` and `f(x, dims=(0, 1))` all name the dims (0, 1)."""
    if dims is not None:
        return dims
    if len(args) == 1:
        return args[0]
    return args


def mark_views(input: Any, outputs: tuple) -> tuple:  # noqa: A002
    """Outputs of a multi-output view op share the input's memory and version counter; like
    PyTorch, writing in place into one of them while recording is refused (ops/views.py)."""
    for output in outputs:
        output._become_view_of(input, VIEW_MULTI_OUTPUT)
    return outputs


# ---- reshape family --------------------------------------------------------------------------


def _view_array(x: Array, shape: tuple) -> Array | None:
    """x with a new shape in the same memory, or None where the strides do not allow it."""
    out = x.view()
    try:
        out.shape = shape
    except AttributeError:
        return None
    return out


class Reshape(Op):
    """x with a new shape, same elements in row-major order, in new memory (used where a view
    is impossible). Derivative: g reshaped back."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple) -> Array:
        ctx.save(shape=shape)
        return x.reshape(shape)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (reshape(g, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return reshape(t, ctx.shape)

    @classmethod
    def node_name(cls) -> str:
        return "UnsafeViewBackward0"

    @staticmethod
    def batch(b: Any, x: Any, shape: tuple) -> Any:
        """vmap: the batch in front of the new shape (a view where the strides allow)."""
        return reshape(x, (b.size, *shape))


class View(Reshape):
    """A reshape that shares memory with its input (an error where that is impossible)."""

    is_view = True
    label = "view"

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple) -> Array:
        ctx.save(shape=shape)
        out = _view_array(x, shape)
        if out is None:
            raise ShapeError(
                f"view: view size is not compatible with input tensor's size and stride "
                f"(input shape {x.shape}, requested {shape}); use .reshape(...) instead"
            )
        return out

    @classmethod
    def node_name(cls) -> str:
        return "ViewBackward0"


# View under PyTorch's names for squeeze and unsqueeze (the same op here: a view to a shape).
class SqueezeAll(View):
    """squeeze(x): a View, named as PyTorch's (SqueezeBackward0)."""

    @classmethod
    def node_name(cls) -> str:
        return "SqueezeBackward0"


class SqueezeDim(View):
    """squeeze(x, dim) with one dim: a View, named as PyTorch's (SqueezeBackward1)."""

    @classmethod
    def node_name(cls) -> str:
        return "SqueezeBackward1"


class SqueezeDims(View):
    """squeeze(x, dims) with a tuple of dims: a View, named as PyTorch's (SqueezeBackward2)."""

    @classmethod
    def node_name(cls) -> str:
        return "SqueezeBackward2"


class Unsqueeze(View):
    """unsqueeze(x, dim): a View, named as PyTorch's (UnsqueezeBackward0)."""

    @classmethod
    def node_name(cls) -> str:
        return "UnsqueezeBackward0"


class ViewDtype(Op):
    """x.view(dtype): the same memory read as another dtype, bit for bit (PyTorch's view.dtype).
    With a different element size the last dimension is rescaled, so it must be contiguous and
    its byte size divisible by the new element size. Not differentiable, as in PyTorch."""

    is_view = True
    differentiable = False
    label = "view"

    @staticmethod
    def forward(ctx: Node, x: Array, dtype: Any) -> Array:
        old, new = x.dtype.itemsize, dtype.itemsize
        if old != new:
            names = f"{from_numpy_dtype(x.dtype).name} as {from_numpy_dtype(dtype).name}"
            condition = f"to view {names} (different element sizes)"
            if x.ndim == 0:
                raise ShapeError(f"view: self.dim() cannot be 0 {condition}")
            if x.strides[-1] != old and x.shape[-1] != 1:
                raise ShapeError(
                    f"view: self.stride(-1) must be 1 {condition}, but got {x.strides[-1] // old}"
                )
            if new > old and x.shape[-1] % (new // old):
                raise ShapeError(
                    f"view: self.size(-1) must be divisible by {new // old} {condition}, but "
                    f"got {x.shape[-1]}"
                )
        return x.view(dtype)


def reshape(input: Tensor, *shape: int | Sequence[int], **keywords: Sequence[int]) -> Tensor:  # noqa: A002
    """The elements of `input` in a new shape (one size may be -1, inferred): a view when the
    strides allow it, else a copy, as PyTorch.

    Args:
        input (Tensor): any shape.
        shape (int...): the new shape, as separate ints or one sequence; its product must equal
            `input.numel()`.
        **keywords: `shape=`, PyTorch's keyword form of the shape (one sequence).

    Returns:
        Tensor: of the new shape.

    Example:
        >>> import chainrule
        >>> chainrule.reshape(chainrule.arange(6), (2, -1))
        tensor([[0, 1, 2],
                [3, 4, 5]])
    """
    if keywords:
        shape = size_by_keyword("reshape", "shape", shape, keywords)
    array = input._array
    target = infer_shape("reshape", normalize_size(shape), array.size, array.shape)
    if array.flags.c_contiguous or (
        isinstance(array, input._backend.array_type) and _view_array(array, target) is not None
    ):  # (a batched tensor's stand-in under vmap has no strides to view: it copies)
        return apply(View, (input,), target)
    return apply(Reshape, (input,), target)


def view(
    input: Tensor,  # noqa: A002
    *shape: int | Sequence[int] | dtypes.dtype,
    **keywords: Sequence[int] | dtypes.dtype,
) -> Tensor:
    """`input` with a new shape sharing its memory (one entry may be -1, inferred); with a dtype
    instead, its bytes reinterpreted as that dtype. `reshape` copies when a view is impossible.

    Args:
        input (Tensor): any shape.
        shape (int..., or dtype): the new shape, as separate ints or one sequence, or a dtype.
        **keywords: `size=` or `dtype=`, PyTorch's keyword forms of the two.

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.arange(6).view(2, 3)
        tensor([[0, 1, 2],
                [3, 4, 5]])
    """
    if keywords:
        if keywords.keys() == {"dtype"} and not shape:
            shape = (keywords["dtype"],)
        else:
            shape = size_by_keyword("view", "size", shape, keywords)
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        return apply(ViewDtype, (input,), as_dtype(shape[0]).numpy)
    target = infer_shape("view", normalize_size(shape), input._array.size, input.shape)
    return apply(View, (input,), target)


def view_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """`input` viewed to `other`'s shape: `input.view(other.shape)`.

    Args:
        input (Tensor): any shape.
        other (Tensor): the tensor whose shape is taken.

    Returns:
        Tensor: of `other`'s shape.

    Example:
        >>> import chainrule
        >>> chainrule.view_as(chainrule.arange(6), chainrule.zeros(2, 3)).shape
        chainrule.Size([2, 3])
    """
    return view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """`input` reshaped to `other`'s shape: `input.reshape(other.shape)`.

    Args:
        input (Tensor): any shape.
        other (Tensor): the tensor whose shape is taken.

    Returns:
        Tensor: of `other`'s shape.

    Example:
        >>> import chainrule
        >>> chainrule.reshape_as(chainrule.arange(6), chainrule.zeros(2, 3)).shape
        chainrule.Size([2, 3])
    """
    return reshape(input, other.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """The dimensions start_dim..end_dim (both included) merged into one; `input` itself when none
    are merged. A view when the strides allow it, else a copy.

    Args:
        input (Tensor): any shape.
        start_dim (int): the first dimension merged.
        end_dim (int): the last dimension merged.

    Returns:
        Tensor: with end_dim - start_dim fewer dimensions.

    Example:
        >>> import chainrule
        >>> chainrule.flatten(chainrule.zeros(2, 3, 4)).shape
        chainrule.Size([24])
        >>> chainrule.flatten(chainrule.zeros(2, 3, 4), start_dim=1).shape
        chainrule.Size([2, 12])
    """
    shape = input.shape
    if not shape:
        return reshape(input, (1,))
    start = normalize_dim("flatten", start_dim, len(shape))
    end = normalize_dim("flatten", end_dim, len(shape))
    if start > end:
        raise ShapeError("flatten: start_dim cannot come after end_dim")
    if start == end:
        return input
    # the merged size itself, not -1: an empty batch's (0, C, 1, 1) flattens to (0, C)
    return reshape(input, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    """The elements in one dimension, row-major: a view when the strides allow, else a copy.

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: 1-D, of `input.numel()` elements.

    Example:
        >>> import chainrule
        >>> chainrule.ravel(chainrule.tensor([[1, 2], [3, 4]]))
        tensor([1, 2, 3, 4])
    """
    return named(reshape(input, (-1,)), "ViewBackward0")  # PyTorch's: contiguous(), then view


def numel(input: Tensor) -> int:  # noqa: A002
    """The number of elements of `input` (the product of its shape).

    Args:
        input (Tensor): any shape.

    Returns:
        int: the count.

    Example:
        >>> import chainrule
        >>> chainrule.numel(chainrule.zeros(2, 3))
        6
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"numel(): argument 'input' must be Tensor, not {type(input).__name__}")
    return int(input._array.size)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:  # noqa: A002
    """Split dimension `dim` into `sizes` (one entry may be -1, inferred): the inverse of
    `flatten`.

    Args:
        input (Tensor): any shape.
        dim (int): the dimension split.
        sizes (sequence of ints): the new sizes; their product is input.shape[dim].

    Returns:
        Tensor: with len(sizes) - 1 more dimensions (a view when the strides allow it).

    Example:
        >>> import chainrule
        >>> chainrule.unflatten(chainrule.zeros(2, 6), 1, (3, 2)).shape
        chainrule.Size([2, 3, 2])
    """
    shape = input.shape
    if not shape:  # (PyTorch wraps its dimension's IndexError in a RuntimeError here)
        raise ShapeError(f"unflatten: Dimension specified as {dim} but tensor has no dimensions")
    dim = require_dims("unflatten", dim, len(shape))
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise ShapeError("unflatten: sizes must be non-empty")
    sizes = infer_shape("unflatten", sizes, shape[dim], shape)
    return reshape(input, shape[:dim] + tuple(sizes) + shape[dim + 1 :])


def squeeze(
    input: Tensor,  # noqa: A002
    dim: int | Sequence[int] | None = None,
    *,
    axis: int | Sequence[int] | None = None,
) -> Tensor:
    """A view without the size-1 dimensions (only those in `dim` when given; a listed dimension
    whose size is not 1 is kept).

    Args:
        input (Tensor): any shape.
        dim (int or tuple of ints, optional): the dimensions to remove.
        axis (int or tuple of ints, optional): NumPy's name for `dim`.

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.zeros(1, 2, 1)
        >>> chainrule.squeeze(x).shape, chainrule.squeeze(x, 0).shape
        (chainrule.Size([2]), chainrule.Size([2, 1]))
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("squeeze", dim, None, axis, None)
    shape = input.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
        op = SqueezeAll
    else:
        named = normalize_dims("squeeze", dim, len(shape))
        dims = tuple(d for d in named if shape and shape[d] == 1)
        op = SqueezeDims if isinstance(dim, (tuple, list)) else SqueezeDim
    return apply(op, (input,), tuple(s for i, s in enumerate(shape) if i not in dims))


def unsqueeze(input: Tensor, dim: int = None, *, axis: int | None = None) -> Tensor:  # noqa: A002
    """A view with a new dimension of size 1 at `dim` (negative counts from the end of the result).

    Args:
        input (Tensor): any shape.
        dim (int): where the new dimension goes, in [-input.ndim - 1, input.ndim].
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        Tensor: a view with one more dimension.

    Example:
        >>> import chainrule
        >>> chainrule.unsqueeze(chainrule.tensor([1, 2]), 0)
        tensor([[1, 2]])
        >>> chainrule.unsqueeze(chainrule.tensor([1, 2]), -1).shape
        chainrule.Size([2, 1])
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("unsqueeze", dim, None, axis, None)
    if dim is None:
        raise TypeError("unsqueeze() missing 1 required positional argument: 'dim'")
    shape = input.shape
    dim = normalize_dim("unsqueeze", dim, len(shape) + 1)
    return apply(Unsqueeze, (input,), shape[:dim] + (1,) + shape[dim:])


def contiguous(input: Tensor, memory_format: object = None) -> Tensor:  # noqa: A002
    """`input` itself when its memory is C-contiguous, else a contiguous copy (recorded in the
    graph).

    Args:
        input (Tensor): any shape.
        memory_format (optional): `contiguous_format` (row-major, the default) or
            `channels_last` / `channels_last_3d` (channels innermost, for 4-D / 5-D input).

    Returns:
        Tensor: laid out in `memory_format`.

    Example:
        >>> import chainrule
        >>> x = chainrule.zeros(2, 3).t()
        >>> x.is_contiguous(), chainrule.contiguous(x).is_contiguous()
        (False, True)
    """
    if memory_format is None:
        memory_format = contiguous_format
    if is_contiguous_as(input._array, memory_format):
        return input
    return apply(Clone, (input,), layout_name("contiguous", memory_format, input._array.ndim))


def atleast_1d(*tensors: Tensor | Sequence[Tensor]) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least 1 dimension:
    0-dim becomes shape (1,).
    Tensors that have them are returned as they are.

    Args:
        tensors (Tensor...): one or more tensors, or one sequence of them.

    Returns:
        Tensor, or a tuple of Tensors when given several.

    Example:
        >>> import chainrule
        >>> chainrule.atleast_1d(chainrule.tensor(5.0))
        tensor([5.])
    """
    return _at_least(tensors, lambda x: reshape(x, (1,)) if x.ndim == 0 else x)


def atleast_2d(*tensors: Tensor | Sequence[Tensor]) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least 2 dimensions:
    0-dim becomes (1, 1), (n,) becomes (1, n).
    Tensors that have them are returned as they are.

    Args:
        tensors (Tensor...): one or more tensors, or one sequence of them.

    Returns:
        Tensor, or a tuple of Tensors when given several.

    Example:
        >>> import chainrule
        >>> chainrule.atleast_2d(chainrule.tensor([1, 2])).shape
        chainrule.Size([1, 2])
    """

    def lift(x: Any) -> Any:
        if x.ndim == 1:
            return unsqueeze(x, 0)
        return reshape(x, (1, 1)) if x.ndim == 0 else x

    return _at_least(tensors, lift)


def atleast_3d(*tensors: Tensor | Sequence[Tensor]) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least 3 dimensions:
    (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1).
    Tensors that have them are returned as they are.

    Args:
        tensors (Tensor...): one or more tensors, or one sequence of them.

    Returns:
        Tensor, or a tuple of Tensors when given several.

    Example:
        >>> import chainrule
        >>> chainrule.atleast_3d(chainrule.zeros(2, 3)).shape
        chainrule.Size([2, 3, 1])
    """

    def lift(x: Any) -> Any:
        if x.ndim == 0:
            return reshape(x, (1, 1, 1))
        if x.ndim == 1:
            return unsqueeze(unsqueeze(x, 0), 2)
        if x.ndim == 2:
            return unsqueeze(x, 2)
        return x

    return _at_least(tensors, lift)


def _at_least(tensors: tuple, lift: Any) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        return tuple(lift(t) for t in tensors[0])
    if len(tensors) == 1:
        return lift(tensors[0])
    return tuple(lift(t) for t in tensors)


# ---- transposes ------------------------------------------------------------------------------


class Permute(Op):
    """x with its dimensions reordered (a view). Derivative: g permuted by the inverse order."""

    is_view = True

    @staticmethod
    def forward(ctx: Node, x: Array, dims: tuple) -> Array:
        ctx.save(dims=dims)
        return x.transpose(dims)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        inverse = [0] * len(ctx.dims)
        for position, dim in enumerate(ctx.dims):
            inverse[dim] = position
        return (apply(Permute, (g,), tuple(inverse)),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Permute, (t,), ctx.dims)

    @staticmethod
    def batch(b: Any, x: Any, dims: tuple) -> Any:
        """vmap: the batch dimension stays first."""
        return apply(Permute, (x,), (0, *(dim + 1 for dim in dims)))


class Transpose(Permute):
    """transpose(x, dim0, dim1): a Permute, named as PyTorch's (TransposeBackward0)."""

    label = "permute"

    @classmethod
    def node_name(cls) -> str:
        return "TransposeBackward0"


class T(Permute):
    """t(x) of a matrix: a Permute, named as PyTorch's (TBackward0)."""

    label = "permute"

    @classmethod
    def node_name(cls) -> str:
        return "TBackward0"


def permute(input: Tensor, *dims: int | Sequence[int], **keywords: Sequence[int]) -> Tensor:  # noqa: A002
    """A view of `input` with its dimensions reordered: dimension i of the result is dimension
    `dims[i]` of `input`.

    Args:
        input (Tensor): any shape.
        dims (int...): a permutation of 0, ..., ndim - 1 (negative counts from the end), as
            separate ints or one sequence.
        **keywords: `dims=`, PyTorch's keyword form of the permutation (one sequence).

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.permute(chainrule.zeros(2, 3, 4), (2, 0, 1)).shape
        chainrule.Size([4, 2, 3])
    """
    if keywords:
        dims = size_by_keyword("permute", "dims", dims, keywords)
    if not dims:  # `x.permute()`: PyTorch's binding wants dims (`x.permute(())` is some)
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = normalize_size(dims) if not isinstance(dims[0], int) else tuple(dims)
    ndim = input._array.ndim
    if len(dims) != ndim:
        raise ShapeError(
            f"permute: number of dims don't match in permute (input shape {input.shape}, "
            f"dims {dims})"
        )
    return apply(Permute, (input,), normalize_dims("permute", dims, ndim))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """A view with dimensions dim0 and dim1 swapped (`swapdims` is the same function).

    Args:
        input (Tensor): any shape.
        dim0 (int): one dimension.
        dim1 (int): the other.

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.transpose(chainrule.zeros(2, 3, 4), 0, 2).shape
        chainrule.Size([4, 3, 2])
    """
    ndim = input._array.ndim
    a = normalize_dim("transpose", dim0, ndim)
    b = normalize_dim("transpose", dim1, ndim)
    if ndim == 0:
        return apply(Transpose, (input,), ())
    dims = list(range(ndim))
    dims[a], dims[b] = b, a
    return apply(Transpose, (input,), tuple(dims))


def t(input: Tensor) -> Tensor:  # noqa: A002
    """The transpose of a matrix (a view); of a 0-D or 1-D tensor, a view of it as it is.

    Args:
        input (Tensor): at most 2-D.

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.t(chainrule.tensor([[1, 2, 3]])).shape
        chainrule.Size([3, 1])
    """
    if input._array.ndim > 2:
        raise ShapeError(f"t: expects a tensor with <= 2 dimensions, but got {input.shape}")
    # a new view of a 0-D or 1-D tensor too, as PyTorch's (under no_grad, not in the graph)
    return apply(T, (input,), (1, 0) if input._array.ndim == 2 else tuple(range(input.ndim)))


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:  # noqa: A002
    """A view of `input` with the dimensions at `source` moved to `destination` (ints or sequences),
    the others keeping their order. `moveaxis` is the same function.

    Args:
        input (Tensor): any shape.
        source (int or sequence of ints): the dimensions moved.
        destination (int or sequence of ints): where they go, one for each.

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.movedim(chainrule.zeros(2, 3, 4), 0, -1).shape
        chainrule.Size([3, 4, 2])
    """
    ndim = input._array.ndim
    source = normalize_dims("movedim", source, ndim)
    destination = normalize_dims("movedim", destination, ndim)
    if len(source) != len(destination):
        raise ShapeError(
            f"movedim: Invalid source or destination dims: source ({list(source)}) and "
            f"destination ({list(destination)}) must have the same number of elements"
        )
    order = [d for d in range(ndim) if d not in source]
    for dst, src in sorted(zip(destination, source)):
        order.insert(dst, src)
    if ndim == 0:  # dim 0 (or -1) of a scalar names no dimension: a view of it, as PyTorch's
        order = []
    return apply(Permute, (input,), tuple(order))


moveaxis = movedim
swapdims = transpose


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    """`transpose` under NumPy's argument names.

    Args:
        input (Tensor): any shape.
        axis0 (int): one dimension.
        axis1 (int): the other.

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.swapaxes(chainrule.zeros(2, 3), 0, 1).shape
        chainrule.Size([3, 2])
    """
    return transpose(input, axis0, axis1)


# ---- broadcasting ----------------------------------------------------------------------------


class Expand(Op):
    """x broadcast to a larger shape (a view). Derivative: g summed back (sum_to).

    A view that repeats an element is read-only (a write is refused, as PyTorch's); one that
    only adds or keeps dimensions of size 1 stays writable, as PyTorch's `x.expand(1, *shape)`
    or `x.expand_as(x)`."""

    is_view = True

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple) -> Array:
        ctx.save(shape=shape)
        out = ctx.xp.broadcast_to(x, shape)
        repeats = any(n > 1 and stride == 0 for n, stride in zip(out.shape, out.strides))
        if repeats or not getattr(x.flags, "writeable", False):  # (CuPy has no such flag)
            return out
        # PyTorch's strides: a kept dimension keeps its own, a new one strides over the rest
        strides = [0] * out.ndim
        reach = x.itemsize
        for i in range(out.ndim - 1, -1, -1):
            kept = i - (out.ndim - x.ndim)
            strides[i] = x.strides[kept] if kept >= 0 else reach
            reach = strides[i] * out.shape[i]
        return ctx.xp.lib.stride_tricks.as_strided(x, shape=out.shape, strides=tuple(strides))

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (sum_to(g, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return expand(t, ctx.shape)

    @staticmethod
    def batch(b: Any, x: Any, shape: tuple) -> Any:
        """vmap: new dimensions go after the batch dimension, not in front of it."""
        return apply(Expand, tuple(b.align((x,), len(shape))), (b.size, *shape))


class SumTo(Op):
    """g summed over the dimensions broadcasting added or stretched, down to `shape`.
    Derivative: the gradient expanded back (SumTo and Expand are each other's transposes)."""

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple) -> Array:
        ctx.save(shape=shape)
        return summed_to(x, shape)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (expand(g, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return sum_to(t, ctx.shape)

    @staticmethod
    def batch(b: Any, x: Any, shape: tuple) -> Any:
        """vmap: the batch dimension moved last while summing, so the leading dimensions
        summed away are the example's own."""
        if not b.batched[0]:
            x = b.expand(x)
        summed = apply(SumTo, (movedim(x, 0, -1),), (*shape, b.size))
        return movedim(summed, -1, 0)


def summed_to(x: Array, shape: tuple) -> Array:
    """The array x summed over the dimensions broadcasting added or stretched, down to
    `shape`: SumTo's forward, for ops whose forward sums arrays to an operand's shape."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and x.shape[lead + i] != 1
    )
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape)


def sum_to(input: Any, shape: tuple) -> Any:  # noqa: A002
    shape = tuple(shape)
    if input._array.shape == shape:
        return input
    return apply(SumTo, (input,), shape)


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum `grad` over the dimensions broadcasting added to an operand of `shape`: the vjp of
    broadcasting, which every binary op applies to its gradients explicitly."""
    if grad.shape == shape:
        return grad
    return sum_to(grad, shape)


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape all of `shapes` broadcast to (NumPy's rules: align from the right, a size 1 or a
    missing dimension stretches), or ShapeError naming them.

    Args:
        shapes (sequence of ints...): the shapes.

    Returns:
        tuple of ints: the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.broadcast_shapes((3, 1), (4,))
        (3, 4)
    """
    try:
        ndim = max((len(s) for s in shapes), default=0)
    except TypeError:  # an int among them is a 1-D shape, as PyTorch's (kept off the fast path)
        shapes = tuple((s,) if isinstance(s, int) else s for s in shapes)
        ndim = max((len(s) for s in shapes), default=0)
    result = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape):
            position = ndim - len(shape) + i
            current = result[position]
            if size != 1 and current != 1 and size != current:
                raise ShapeError(
                    f"shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast "
                    f"together (size {current} vs {size} at dimension {position})"
                )
            if size != 1:
                result[position] = size
    return tuple(result)


def expand(
    input: Tensor,  # noqa: A002
    *sizes: int | Sequence[int],
    implicit: bool = False,
    **keywords: Sequence[int],
) -> Tensor:
    """A read-only view broadcast to `sizes`: size-1 dimensions stretch without copying, -1 keeps a
    dimension, new dimensions go in front. The gradient sums over the stretched dimensions.

    Args:
        input (Tensor): any shape.
        sizes (int...): the new shape, as separate ints or one sequence.
        implicit (bool): PyTorch's tracing flag, accepted and ignored.
        **keywords: `size=`, PyTorch's keyword form of the shape (one sequence).

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.expand(chainrule.tensor([[1], [2]]), 2, 3)
        tensor([[1, 1, 1],
                [2, 2, 2]])
    """
    if keywords:
        sizes = size_by_keyword("expand", "size", sizes, keywords)
    if not sizes:  # `x.expand()`: PyTorch's binding wants a size (`x.expand(())` is one)
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = normalize_size(sizes)
    shape = input._array.shape
    if len(sizes) < len(shape):
        raise ShapeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, size in enumerate(sizes):
        existing = shape[i - lead] if i >= lead else None
        if size == -1:
            if existing is None:
                raise ShapeError("expand: -1 is not allowed in a leading, non-existing dimension")
            size = existing
        elif size < 0:
            raise ShapeError(f"expand: invalid size {size} in {list(sizes)}")
        elif existing is not None and existing != 1 and existing != size:
            raise ShapeError(
                f"expand: the expanded size of the tensor ({size}) must match the existing size "
                f"({existing}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. "
                f"Tensor sizes: {list(shape)}"
            )
        target.append(size)
    # (a new view even to the same shape, as PyTorch's: its own ExpandBackward0, never input)
    return apply(Expand, (input,), tuple(target))


def expand_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """`input` expanded (a broadcast view) to `other`'s shape: `input.expand(other.size())`.

    Args:
        input (Tensor): any shape.
        other (Tensor): the tensor whose shape is taken.

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.expand_as(chainrule.tensor([1]), chainrule.zeros(2, 2))
        tensor([[1, 1],
                [1, 1]])
    """
    return expand(input, other.shape)


def broadcast_to(input: Tensor, size: int | Sequence[int]) -> Tensor:  # noqa: A002
    """`input` viewed with shape `size` by broadcasting (as `expand`); the gradient sums over the
    broadcast dimensions.

    Args:
        input (Tensor): any shape.
        size (int or sequence of ints): the shape.

    Returns:
        Tensor: a view of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.broadcast_to(chainrule.tensor([1, 2]), (2, 2))
        tensor([[1, 2],
                [1, 2]])
    """
    return expand(input, (size,) if isinstance(size, int) else tuple(size))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """The tensors expanded (as views, no copy) to their common broadcast shape; one already
    of that shape comes back itself, as PyTorch's (where `expand` always makes a view).

    Args:
        tensors (Tensor...): the tensors.

    Returns:
        tuple of Tensors: one view for each, all of one shape.

    Example:
        >>> import chainrule
        >>> a, b = chainrule.broadcast_tensors(chainrule.zeros(3, 1), chainrule.zeros(4))
        >>> a.shape, b.shape
        (chainrule.Size([3, 4]), chainrule.Size([3, 4]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if tuple(t.shape) == tuple(shape) else expand(t, shape) for t in tensors)


# ---- reordering: flip, roll, repeat ------------------------------------------------------------


class Flip(Op):
    """x reversed along `dims`, in new memory as PyTorch. Derivative: g flipped the same way
    (a flip is its own inverse and transpose)."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, dims: tuple) -> Array:
        ctx.save(dims=dims)
        return ctx.xp.flip(x, axis=dims).copy()

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(Flip, (g,), ctx.dims),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Flip, (t,), ctx.dims)

    @staticmethod
    def batch(b: Any, x: Any, dims: tuple) -> Any:
        """vmap: the dims one further right."""
        return apply(Flip, (x,), tuple(dim + 1 for dim in dims))


def flip(
    input: Tensor,  # noqa: A002
    *args: int | Sequence[int],
    dims: int | Sequence[int] | None = None,
) -> Tensor:
    """`input` reversed along `dims` (a copy, as PyTorch): flip(x, (0, 1)), x.flip(0, 1) or
    flip(x, dims=0).

    Args:
        input (Tensor): any shape.
        args (int...): the dimensions, given positionally (`x.flip(0, 1)` or `flip(x, (0, 1))`).
        dims (int or sequence of ints, optional): the dimensions, given by keyword.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.flip(chainrule.arange(3), (0,))
        tensor([2, 1, 0])
    """
    if not args and dims is None:  # (`x.flip(())` flips nothing; `x.flip()` names no dims)
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    dims = _dims_argument(args, dims)
    ndim = input._array.ndim
    dims = normalize_dims("flip", dims, ndim)
    return apply(Flip, (input,), dims if ndim else ())


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    """`input` reversed left to right (along dim 1); it needs at least 2 dimensions.

    Args:
        input (Tensor): at least 2-D.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.fliplr(chainrule.tensor([[1, 2, 3]]))
        tensor([[3, 2, 1]])
    """
    if input._array.ndim < 2:
        raise ShapeError(f"fliplr: Input must be >= 2-d (input shape {input.shape}).")
    return apply(Flip, (input,), (1,))


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    """`input` reversed upside down (along dim 0); it needs at least 1 dimension.

    Args:
        input (Tensor): at least 1-D.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.flipud(chainrule.tensor([[1], [2]]))
        tensor([[2],
                [1]])
    """
    if input._array.ndim < 1:
        raise ShapeError(f"flipud: Input must be >= 1-d (input shape {input.shape}).")
    return apply(Flip, (input,), (0,))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """`input` rotated k times by 90 degrees in the plane of `dims`, from the first toward the
    second: a flip and a transpose (a copy, as PyTorch).

    Args:
        input (Tensor): at least 2-D.
        k (int): the number of quarter turns (negative turns the other way).
        dims (sequence of two ints): the plane.

    Returns:
        Tensor: with the two dimensions swapped when k is odd.

    Example:
        >>> import chainrule
        >>> chainrule.rot90(chainrule.tensor([[1, 2], [3, 4]]))
        tensor([[2, 4],
                [1, 3]])
    """
    dims = tuple(dims)
    ndim = input._array.ndim
    if len(dims) != 2:
        raise ShapeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise ShapeError(f"rot90: expected total dims >= 2, but got total dims = {ndim}")
    first, second = (normalize_dim("rot90", d, ndim) for d in dims)
    if first == second:
        raise ShapeError(
            f"rot90: expected rotation dims to be different, but got dim0 = {dims[0]} and "
            f"dim1 = {dims[1]}"
        )
    k %= 4
    if k == 0:
        return named(clone(input), "Rot90Backward0")
    if k == 2:
        return named(apply(Flip, (input,), (first, second)), "Rot90Backward0")
    flipped = apply(Flip, (input,), (second,) if k == 1 else (first,))
    return named(transpose(flipped, first, second), "Rot90Backward0")


class Roll(Op):
    """x shifted circularly by `shifts` along `dims` (the flattened tensor when dims is None).
    Derivative: g rolled back by the negated shifts."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, shifts: Any, dims: Any) -> Array:
        ctx.save(shifts=shifts, dims=dims)
        if x.size == 0:
            return x.copy()
        return in_c_order(ctx.xp.roll(x, shifts, axis=dims))  # as Cat

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(Roll, (g,), _negate(ctx.shifts), ctx.dims),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Roll, (t,), ctx.shifts, ctx.dims)

    @staticmethod
    def batch(b: Any, x: Any, shifts: Any, dims: Any) -> Any:
        """vmap: the dims one further right; with dims None, each example rolled flat."""
        if dims is None:
            flat = apply(Roll, (reshape(x, (b.size, -1)),), (shifts,), (1,))
            return reshape(flat, tuple(x.shape))
        return apply(Roll, (x,), shifts, tuple(dim + 1 for dim in dims))


def _negate(shifts: Any) -> Any:
    return -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)


def roll(
    input: Tensor,  # noqa: A002
    shifts: int | Sequence[int],
    dims: int | Sequence[int] | None = None,
) -> Tensor:
    """Elements shifted circularly by `shifts` along `dims` (those pushed off one end come back at
    the other); with dims=None, along the flattened tensor, keeping its shape.

    Args:
        input (Tensor): any shape.
        shifts (int or sequence of ints): the shift for each of `dims`.
        dims (int or sequence of ints, optional): the dimensions (a repeated one shifts again).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.roll(chainrule.arange(5), 2)
        tensor([3, 4, 0, 1, 2])
        >>> chainrule.roll(chainrule.tensor([[0, 1, 2]]), 1, 1)
        tensor([[2, 0, 1]])
    """
    if isinstance(shifts, (tuple, list)):
        shifts = tuple(int(s) for s in shifts)
    else:
        shifts = (int(shifts),)
    ndim = input._array.ndim
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(
                f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:0"
            )
        return apply(Roll, (input,), shifts[0], None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(
            f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    dims = tuple(require_dims("roll", d, ndim) for d in dims)
    return apply(Roll, (input,), shifts, dims)


class Repeat(Op):
    """x tiled `repeats` times along each dimension (extra leading repeats add dimensions), in
    new memory. Derivative: g summed over the copies: viewed as (r0, s0, r1, s1, ...) and
    summed over the r axes."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, x: Array, repeats: tuple) -> Array:
        ctx.save(repeats=repeats)
        return in_c_order(ctx.xp.tile(x, repeats))  # NumPy's tile by ones copies the layout

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        shape = ctx.input_meta[0][0]
        repeats = ctx.repeats
        padded = (1,) * (len(repeats) - len(shape)) + tuple(shape)
        interleaved: tuple = ()
        summed: tuple = ()
        for count, size in zip(repeats, padded):
            interleaved += (count, size)
            summed += (1, size)
        return (reshape(sum_to(reshape(g, interleaved), summed), shape),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Repeat, (t,), ctx.repeats)

    @staticmethod
    def batch(b: Any, x: Any, repeats: tuple) -> Any:
        """vmap: the example tiled, the batch repeated once."""
        return apply(Repeat, tuple(b.align((x,), len(repeats))), (1, *repeats))


def repeat(input: Tensor, *sizes: int | Sequence[int], **keywords: Sequence[int]) -> Tensor:  # noqa: A002
    """x.repeat(2, 3): `input` tiled 2 times along dim 0 and 3 along dim 1 (a copy); more sizes
    than dimensions add leading dimensions.

    Args:
        input (Tensor): any shape.
        sizes (int...): the number of copies along each dimension, at least `input.ndim` of
            them, as separate ints or one sequence.
        **keywords: `repeats=`, PyTorch's keyword form of the counts (one sequence).

    Returns:
        Tensor: each dimension multiplied by its count.

    Example:
        >>> import chainrule
        >>> chainrule.tensor([1, 2]).repeat(2)
        tensor([1, 2, 1, 2])
        >>> chainrule.repeat(chainrule.tensor([1, 2]), 2, 1)
        tensor([[1, 2],
                [1, 2]])
    """
    if keywords or not sizes:
        sizes = size_by_keyword("repeat", "repeats", sizes, keywords)
    repeats = normalize_size(sizes)
    ndim = input._array.ndim
    if len(repeats) < ndim:
        raise ShapeError(
            f"repeat: Number of dimensions of repeat dims can not be smaller than number of "
            f"dimensions of tensor (repeats {list(repeats)}, input shape {input.shape})"
        )
    if any(r < 0 for r in repeats):
        raise ShapeError(f"repeat: repeats must be non-negative, got {list(repeats)}")
    return apply(Repeat, (input,), repeats)


def tile(input: Tensor, *dims: int | Sequence[int], **keywords: Sequence[int]) -> Tensor:  # noqa: A002
    """`input` repeated along each dimension, as `repeat`; fewer dims than the tensor has count
    from the last dimension (the others repeated once), as torch.tile.

    Args:
        input (Tensor): any shape.
        dims (int...): the number of copies along each dimension, as separate ints or one
            sequence.
        **keywords: `dims=`, PyTorch's keyword form of the counts (one sequence).

    Returns:
        Tensor: each dimension multiplied by its count.

    Example:
        >>> import chainrule
        >>> chainrule.tile(chainrule.tensor([[1, 2]]), (2,))
        tensor([[1, 2, 1, 2]])
    """
    if keywords:
        dims = size_by_keyword("tile", "dims", dims, keywords)
    repeats = normalize_size(dims)
    ndim = input._array.ndim
    repeats = (1,) * (ndim - len(repeats)) + repeats
    if any(r < 0 for r in repeats):
        raise ShapeError(f"tile: repeats must be non-negative, got {list(repeats)}")
    return apply(Repeat, (input,), repeats)


# ---- joining ---------------------------------------------------------------------------------


class Cat(Op):
    """Concatenation along `dim`. Derivative: g split back into the inputs' sizes (Split)."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, *arrays_and_dim: Any) -> Array:
        dim = arrays_and_dim[-1]
        ctx.save(dim=dim)
        arrays = arrays_and_dim[:-1]
        out = ctx.xp.concatenate(arrays, axis=dim)
        # PyTorch's: channels-last when every input suggests it, else contiguous (NumPy
        # keeps transposed inputs' layout)
        if out.ndim in (4, 5) and all(suggests_channels_last(a) for a in arrays):
            return in_channels_last(ctx.xp, out)
        return in_c_order(out)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        dim = ctx.dim
        sizes = tuple(shape[dim] for shape, _ in ctx.input_meta)
        return apply(Split, (g,), sizes, dim)

    @staticmethod
    def jvp(ctx: Node, *tangents: Any) -> Any:
        return apply(Cat, _fill_tangents(ctx, tangents), ctx.dim)

    @staticmethod
    def batch(b: Any, *tensors_and_dim: Any) -> Any:
        """vmap: every input with the batch first (shared ones broadcast), dim one right."""
        tensors = b.batch_all(tensors_and_dim[:-1])
        return apply(Cat, tuple(tensors), tensors_and_dim[-1] + 1)


class Stack(Op):
    """The inputs stacked along a new dimension `dim`. Derivative: g unbound along it."""

    # its vjp reads only shapes: vmap's per-example graph may see the input written
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, *arrays_and_dim: Any) -> Array:
        dim = arrays_and_dim[-1]
        ctx.save(dim=dim)
        return in_c_order(ctx.xp.stack(arrays_and_dim[:-1], axis=dim))  # as Cat

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return apply(Unbind, (g,), ctx.dim)

    @staticmethod
    def jvp(ctx: Node, *tangents: Any) -> Any:
        return apply(Stack, _fill_tangents(ctx, tangents), ctx.dim)

    @staticmethod
    def batch(b: Any, *tensors_and_dim: Any) -> Any:
        """vmap: every input with the batch first (shared ones broadcast), dim one right."""
        tensors = b.batch_all(tensors_and_dim[:-1])
        return apply(Stack, tuple(tensors), tensors_and_dim[-1] + 1)


def _fill_tangents(ctx: Node, tangents: tuple) -> tuple:
    """Zeros for the inputs that carry no tangent (Op.materialize_grads, for inputs)."""
    filled = []
    for tangent, (shape, dtype) in zip(tangents, ctx.input_meta):
        if tangent is None:
            tangent = Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy))
        filled.append(tangent)
    return tuple(filled)


def _join_operands(op_name: str, tensors: Any) -> list:
    """The tensors of cat/stack as a list, promoted to their common dtype like PyTorch."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(
            f"{op_name}(): argument 'tensors' must be a tuple or list of Tensors, not "
            f"{type(tensors).__name__}"
        )
    tensors = list(tensors)
    if not tensors:
        raise ShapeError(f"{op_name}(): expected a non-empty list of Tensors")
    for index, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"{op_name}(): expected Tensor as element {index} in argument 0, but got "
                f"{type(tensor).__name__}"
            )
    if autocast_active() is not None:
        check_promote_operands(op_name, tensors)
    first = tensors[0]._array.dtype
    if any(t._array.dtype != first for t in tensors):
        # every tensor counts alike, 0-dim ones too (they become rows in hstack, stack)
        dtype = tensors[0].dtype
        for t in tensors[1:]:
            dtype = dtypes.promote_types(dtype, t.dtype)
        tensors = [cast(t, dtype) for t in tensors]
    return tensors


def cat(
    tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None, out: Tensor | None = None
) -> Tensor:
    """The tensors joined along an existing dimension `dim`; sizes must agree elsewhere. Dtypes
    promote like PyTorch; legacy empty 1-D tensors (shape (0,)) are skipped. `concat` and
    `concatenate` are the same function.

    Args:
        tensors (sequence of Tensors): the tensors, all of one number of dimensions.
        dim (int): the dimension joined along.
        axis (int, optional): NumPy's name for `dim`.
        out (Tensor, optional): write the result here (PyTorch's out= dtype rule).

    Returns:
        Tensor: a new tensor (a copy).

    Example:
        >>> import chainrule
        >>> chainrule.cat([chainrule.zeros(2, 3), chainrule.ones(1, 3)]).shape
        chainrule.Size([3, 3])
    """
    if out is not None:
        return write_out("cat", cat(tensors, dim, axis=axis), out, "cast")
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("cat", dim, None, axis, None)
    tensors = _join_operands("cat", tensors)
    kept = [t for t in tensors if t._array.shape != (0,)] or tensors[:1]
    reference = kept[0]
    ndim = reference._array.ndim
    for position, tensor in enumerate(tensors):
        if tensor._array.ndim == 0:
            raise ShapeError(
                f"cat: zero-dimensional tensor (at position {position}) cannot be concatenated"
            )
    dim = normalize_dim("cat", dim, ndim)
    shape = reference._array.shape
    for position, tensor in enumerate(kept):
        other = tensor._array.shape
        if len(other) != ndim:
            raise ShapeError(
                f"cat: Tensors must have same number of dimensions: got {ndim} and {len(other)} "
                f"(shapes {_shapes(tensors)})"
            )
        for axis in range(ndim):
            if axis != dim and other[axis] != shape[axis]:
                raise ShapeError(
                    f"cat: Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{shape[axis]} but got size {other[axis]} for tensor number {position} in "
                    f"the list (shapes {_shapes(tensors)})"
                )
    return apply(Cat, tuple(kept), dim)


concat = cat
concatenate = cat


def _shapes(tensors: Sequence[Any]) -> str:
    return ", ".join(str(tuple(t.shape)) for t in tensors)


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """The tensors (all of one shape) joined along a new dimension `dim`.

    Args:
        tensors (sequence of Tensors): the tensors.
        dim (int): where the new dimension goes, in [-ndim - 1, ndim].
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        Tensor: with one more dimension, of size len(tensors).

    Example:
        >>> import chainrule
        >>> chainrule.stack([chainrule.zeros(2, 3), chainrule.ones(2, 3)], dim=1).shape
        chainrule.Size([2, 2, 3])
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("stack", dim, None, axis, None)
    if isinstance(tensors, (tuple, list)) and not tensors:
        raise ShapeError("stack: stack expects a non-empty TensorList")
    tensors = _join_operands("stack", tensors)
    shape = tensors[0]._array.shape
    for position, tensor in enumerate(tensors):
        if tensor._array.shape != shape:
            raise ShapeError(
                f"stack: stack expects each tensor to be equal size, but got {list(shape)} at "
                f"entry 0 and {list(tensor.shape)} at entry {position}"
            )
    dim = normalize_dim("stack", dim, len(shape) + 1)
    return apply(Stack, tuple(tensors), dim)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 0 for 1-D tensors, else along dim 1 (0-dim tensors become 1-D).

    Args:
        tensors (sequence of Tensors): the tensors joined; dtypes promote as in `cat`.

    Returns:
        Tensor: a new tensor (a copy).

    Example:
        >>> import chainrule
        >>> chainrule.hstack([chainrule.tensor([1, 2]), chainrule.tensor([3])])
        tensor([1, 2, 3])
    """
    tensors = atleast_1d(tuple(_join_operands("hstack", tensors)))
    return cat(tensors, 0 if tensors[0]._array.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 0 after making every tensor at least 2-D ((n,) becomes (1, n)); `row_stack`
    is the same function.

    Args:
        tensors (sequence of Tensors): the tensors joined; dtypes promote as in `cat`.

    Returns:
        Tensor: a new tensor (a copy).

    Example:
        >>> import chainrule
        >>> chainrule.vstack([chainrule.tensor([1, 2]), chainrule.tensor([3, 4])])
        tensor([[1, 2],
                [3, 4]])
    """
    return cat(atleast_2d(tuple(_join_operands("vstack", tensors))), 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 2 after making every tensor at least 3-D.

    Args:
        tensors (sequence of Tensors): the tensors joined; dtypes promote as in `cat`.

    Returns:
        Tensor: a new tensor (a copy).

    Example:
        >>> import chainrule
        >>> chainrule.dstack([chainrule.tensor([1, 2]), chainrule.tensor([3, 4])]).shape
        chainrule.Size([1, 2, 2])
    """
    return cat(atleast_3d(tuple(_join_operands("dstack", tensors))), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1 after making 0-dim and 1-D tensors columns ((n,) becomes (n, 1)).

    Args:
        tensors (sequence of Tensors): the tensors joined; dtypes promote as in `cat`.

    Returns:
        Tensor: a new tensor (a copy).

    Example:
        >>> import chainrule
        >>> chainrule.column_stack([chainrule.tensor([1, 2]), chainrule.tensor([3, 4])])
        tensor([[1, 3],
                [2, 4]])
    """
    if isinstance(tensors, (tuple, list)) and not tensors:
        raise ShapeError("column_stack: column_stack expects a non-empty TensorList")
    tensors = _join_operands("column_stack", tensors)
    columns = [reshape(t, (-1, 1)) if t._array.ndim <= 1 else t for t in tensors]
    return cat(columns, 1)


# ---- splitting -------------------------------------------------------------------------------


class Split(Op):
    """Consecutive pieces of x along `dim` with the given sizes (views of x).
    Derivative: the pieces' gradients concatenated (zeros for pieces no gradient reached)."""

    bfloat16_native = True  # views: a bfloat16 x is sliced as it is, never widened (copied)

    @staticmethod
    def forward(ctx: Node, x: Array, sizes: tuple, dim: int) -> tuple:
        ctx.save(dim=dim)
        lead = (slice(None),) * dim
        pieces = []
        start = 0
        for size in sizes:
            pieces.append(x[lead + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    @staticmethod
    def vjp(ctx: Node, *grads: Any) -> tuple:
        return (apply(Cat, grads, ctx.dim),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        sizes = tuple(shape[ctx.dim] for shape, _ in ctx.output_meta)
        return apply(Split, (t,), sizes, ctx.dim)

    @staticmethod
    def batch(b: Any, x: Any, sizes: tuple, dim: int) -> Any:
        """vmap: the dim one further right."""
        return apply(Split, (x,), sizes, dim + 1)


class Unbind(Op):
    """The slices of x along `dim`, with that dimension removed (views of x).
    Derivative: the slices' gradients stacked along `dim`."""

    bfloat16_native = True  # views: a bfloat16 x is sliced as it is, never widened (copied)

    @staticmethod
    def forward(ctx: Node, x: Array, dim: int) -> tuple:
        ctx.save(dim=dim)
        lead = (slice(None),) * dim
        return tuple(x[lead + (index, Ellipsis)] for index in range(x.shape[dim]))

    @staticmethod
    def vjp(ctx: Node, *grads: Any) -> tuple:
        return (apply(Stack, grads, ctx.dim),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Unbind, (t,), ctx.dim)

    @staticmethod
    def batch(b: Any, x: Any, dim: int) -> Any:
        """vmap: the dim one further right."""
        return apply(Unbind, (x,), dim + 1)


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Views of `tensor` along `dim`: pieces of split_size (the last may be smaller), or of the
    sizes in a list, which must add up to the dimension's size.

    Args:
        tensor (Tensor): any shape.
        split_size_or_sections (int or sequence of ints): the size of each piece, or the list
            of sizes.
        dim (int): the dimension split.

    Returns:
        tuple of Tensors: views of `tensor`.

    Example:
        >>> import chainrule
        >>> [p.shape for p in chainrule.arange(5).split(2)]
        [chainrule.Size([2]), chainrule.Size([2]), chainrule.Size([1])]
        >>> chainrule.split(chainrule.arange(5), [1, 4])
        (tensor([0]), tensor([1, 2, 3, 4]))
    """
    ndim = tensor._array.ndim
    if ndim == 0:
        raise ShapeError("split: split expects at least a 1-dimensional tensor")
    dim = normalize_dim("split", dim, ndim)
    length = tensor._array.shape[dim]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if any(s < 0 for s in sizes):
            raise ShapeError(
                f"split: split_with_sizes expects split_sizes have only non-negative entries, "
                f"but got split_sizes={list(sizes)}"
            )
        if sum(sizes) != length:
            raise ShapeError(
                f"split: split_with_sizes expects split_sizes to sum exactly to {length} (input "
                f"tensor's size at dimension {dim}), but got split_sizes={list(sizes)} (input "
                f"shape {tensor.shape})"
            )
    else:
        size = int(split_size_or_sections)
        if size < 0:
            raise ShapeError(f"split: split expects split_size be non-negative, but got {size}")
        if size == 0 and length != 0:
            raise ShapeError(
                f"split: split_size can only be 0 if dimension size is 0, but got dimension "
                f"size of {length}"
            )
        if length == 0:
            sizes = (0,)
        else:
            sizes = (size,) * (length // size) + ((length % size,) if length % size else ())
    pieces = apply(Split, (tensor,), sizes, dim)
    if not isinstance(split_size_or_sections, int):
        named(pieces[0], "SplitWithSizesBackward0")  # the pieces' node, as PyTorch's
    return mark_views(tensor, pieces)


def chunk(input: Tensor, chunks: int, dim: int = 0, *, axis: int | None = None) -> tuple:  # noqa: A002
    """At most `chunks` views of equal size ceil(n / chunks) along `dim` (fewer when they run out,
    as torch.chunk).

    Args:
        input (Tensor): any shape.
        chunks (int): the number of pieces wanted.
        dim (int): the dimension split.
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        tuple of Tensors: views of `input`.

    Example:
        >>> import chainrule
        >>> [p.tolist() for p in chainrule.chunk(chainrule.arange(5), 3)]
        [[0, 1], [2, 3], [4]]
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("chunk", dim, None, axis, None)
    chunks = int(chunks)
    if chunks <= 0:
        raise ShapeError(f"chunk: chunk expects `chunks` to be greater than 0, got: {chunks}")
    ndim = input._array.ndim
    if ndim == 0:
        raise ShapeError("chunk: chunk expects at least a 1-dimensional tensor")
    dim = normalize_dim("chunk", dim, ndim)
    length = input._array.shape[dim]
    if length == 0:
        return split(input, (0,) * chunks, dim)
    return split(input, -(-length // chunks), dim)


def unbind(input: Tensor, dim: int = 0, *, axis: int | None = None) -> tuple:  # noqa: A002
    """The slices of `input` along `dim`, that dimension removed (views).

    Args:
        input (Tensor): any shape.
        dim (int): the dimension taken apart.
        axis (int, optional): NumPy's name for `dim`.

    Returns:
        tuple of Tensors: input.shape[dim] views.

    Example:
        >>> import chainrule
        >>> chainrule.unbind(chainrule.tensor([[1, 2], [3, 4]]))
        (tensor([1, 2]), tensor([3, 4]))
    """
    if axis is not None:  # NumPy's name, as PyTorch
        dim, _ = numpy_keywords("unbind", dim, None, axis, None)
    dim = require_dims("unbind", dim, input._array.ndim)
    return mark_views(input, apply(Unbind, (input,), dim))


# ---- differences, grids, diagonals -------------------------------------------------------------


def meshgrid(*tensors: Tensor | Sequence[Tensor], indexing: str | None = None) -> tuple:
    """Coordinate grids of 0-dim or 1-D tensors (of one dtype): grid i holds tensor i's values along
    dimension i ('ij') or, for the first two, with those two dimensions swapped ('xy', NumPy's
    default). Views of the inputs, expanded. Without `indexing`, 'ij' and a warning, as PyTorch.

    Args:
        tensors (Tensor...): the 1-D coordinates, or one sequence of them.
        indexing (str, optional): 'ij' (matrix indexing) or 'xy' (Cartesian).

    Returns:
        tuple of Tensors: one grid for each input, all of one shape.

    Example:
        >>> import chainrule
        >>> a, b = chainrule.tensor([1, 2]), chainrule.tensor([3, 4, 5])
        >>> xs, ys = chainrule.meshgrid(a, b, indexing="ij")
        >>> xs.shape, ys[0]
        (chainrule.Size([2, 3]), tensor([3, 4, 5]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        _warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ShapeError(
            f'meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    if not tensors:
        raise ShapeError("meshgrid: meshgrid expects a non-empty TensorList")
    for tensor in tensors:
        if tensor._array.ndim > 1:
            raise ShapeError(
                f"meshgrid: Expected 0D or 1D tensor in the tensor list but got shape "
                f"{tensor.shape}"
            )
        if tensor._array.dtype != tensors[0]._array.dtype:
            raise DTypeError(
                f"meshgrid: meshgrid expects all tensors to have the same dtype (got "
                f"{', '.join(t.dtype.name for t in tensors)})"
            )
    positions = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(tensors)
    for position, tensor in zip(positions, tensors):
        shape[position] = tensor._array.size
    grids = []
    for position, tensor in zip(positions, tensors):
        along = [1] * len(tensors)
        along[position] = tensor._array.size
        grid = expand(reshape(tensor, tuple(along)), tuple(shape))
        grids.append(named(grid, "ExpandBackward0"))  # an expand, even of the same shape
    return tuple(grids)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element from each 1-D tensor, one per row, the last tensor varying
    fastest (itertools.product); one tensor is returned as it is.

    Args:
        tensors (Tensor...): 1-D tensors.

    Returns:
        Tensor: (N, len(tensors)), N the product of their lengths.

    Example:
        >>> import chainrule
        >>> chainrule.cartesian_prod(chainrule.tensor([1, 2]), chainrule.tensor([3, 4]))
        tensor([[1, 3],
                [1, 4],
                [2, 3],
                [2, 4]])
    """
    for tensor in tensors:
        if tensor._array.ndim != 1:
            raise ShapeError(
                f"cartesian_prod: Expect a 1D vector, but got shape {list(tensor.shape)}"
            )
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(grid, (-1,)) for grid in grids], 1)


# ---- padding ---------------------------------------------------------------------------------


# The public names: PyTorch's functions (helpers above stay importable by module path).
__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "broadcast_tensors",
    "broadcast_to",
    "cartesian_prod",
    "cat",
    "chunk",
    "column_stack",
    "concat",
    "concatenate",
    "contiguous",
    "dstack",
    "expand",
    "expand_as",
    "flatten",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "meshgrid",
    "moveaxis",
    "movedim",
    "numel",
    "permute",
    "ravel",
    "repeat",
    "reshape",
    "reshape_as",
    "roll",
    "rot90",
    "row_stack",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "swapdims",
    "t",
    "tile",
    "transpose",
    "unbind",
    "unflatten",
    "unsqueeze",
    "view",
    "view_as",
    "vstack",
]
