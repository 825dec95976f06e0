"""Shape ops: reshape, broadcast, transpose, join and split. Each vjp is the inverse
rearrangement of the gradient (reshape back, sum over broadcast, transpose back, slice)."""

from __future__ import annotations

from typing import Any, Sequence

from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.errors import ShapeError
from chainrule.ops.op import Op, apply

# ---- argument helpers ----------------------------------------------------------------------


def normalize_size(args: Sequence[Any]) -> tuple[int, ...]:
    """(2, 3), ((2, 3),) and ([2, 3],) all mean the shape (2, 3), as PyTorch's size args."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


def normalize_dim(op_name: str, dim: int, ndim: int) -> int:
    """A dimension in [-ndim, ndim) as a non-negative index (0-dim tensors accept 0 and -1)."""
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(
            f"{op_name}: Dimension out of range (expected to be in range of [{-bound}, "
            f"{bound - 1}], but got {dim})"
        )
    return dim % bound if ndim else 0


def normalize_dims(op_name: str, dims: Any, ndim: int) -> tuple[int, ...]:
    if isinstance(dims, int):
        dims = (dims,)
    result = tuple(normalize_dim(op_name, d, ndim) for d in dims)
    if len(set(result)) != len(result):
        raise ShapeError(f"{op_name}: dim {tuple(dims)} appears multiple times in the list of dims")
    return result


def infer_shape(op_name: str, shape: tuple[int, ...], numel: int, source: tuple) -> tuple:
    """Replace one -1 in `shape` so the element count matches, or raise naming both shapes."""
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise ShapeError(f"{op_name}: only one dimension can be inferred, got {shape}")
    known = 1
    for size in shape:
        if size != -1:
            known *= size
    if unknown:
        if known == 0 or numel % known:
            raise ShapeError(f"{op_name}: shape {list(shape)} is invalid for input of size {numel}")
        shape = shape[: unknown[0]] + (numel // known,) + shape[unknown[0] + 1 :]
    elif known != numel:
        raise ShapeError(
            f"{op_name}: shape {list(shape)} is invalid for input of size {numel} "
            f"(input shape {source})"
        )
    return shape


# ---- reshape family --------------------------------------------------------------------------


class Reshape(Op):
    """x with a new shape, same elements in row-major order. Derivative: g reshaped back."""

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple) -> Array:
        ctx.shape = shape
        return x.reshape(shape)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (reshape(g, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return reshape(t, ctx.shape)


class View(Reshape):
    """A reshape that shares memory with its input (an error where that is impossible)."""

    is_view = True
    label = "view"

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple) -> Array:
        ctx.shape = shape
        out = x.view()
        try:
            out.shape = shape
        except AttributeError as error:
            raise ShapeError(
                f"view: view size is not compatible with input tensor's size and stride "
                f"(input shape {x.shape}, requested {shape}); use .reshape(...) instead"
            ) from error
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (reshape(g, ctx.input_meta[0][0]),)

    @classmethod
    def node_name(cls) -> str:
        return "ViewBackward0"


def reshape(input: Any, *shape: Any) -> Any:  # noqa: A002
    target = infer_shape("reshape", normalize_size(shape), input._array.size, input.shape)
    if target == input._array.shape:
        return input if not input._requires_grad else apply(Reshape, (input,), target)
    return apply(Reshape, (input,), target)


def view(input: Any, *shape: Any) -> Any:  # noqa: A002
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        from chainrule.backend.dtypes import as_dtype
        from chainrule.ops.elementwise import cast

        return cast(input, as_dtype(shape[0]))  # view(dtype): reinterpretation is not supported
    target = infer_shape("view", normalize_size(shape), input._array.size, input.shape)
    return apply(View, (input,), target)


def view_as(input: Any, other: Any) -> Any:  # noqa: A002
    return view(input, other.shape)


def reshape_as(input: Any, other: Any) -> Any:  # noqa: A002
    return reshape(input, other.shape)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Any:  # noqa: A002
    shape = input.shape
    if not shape:
        return reshape(input, (1,))
    start = normalize_dim("flatten", start_dim, len(shape))
    end = normalize_dim("flatten", end_dim, len(shape))
    if start > end:
        raise ShapeError("flatten: start_dim cannot come after end_dim")
    if start == end:
        return input
    return reshape(input, shape[:start] + (-1,) + shape[end + 1 :])


def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Any:  # noqa: A002
    shape = input.shape
    dim = normalize_dim("unflatten", dim, len(shape))
    sizes = infer_shape("unflatten", tuple(sizes), shape[dim], shape)
    return reshape(input, shape[:dim] + tuple(sizes) + shape[dim + 1 :])


def squeeze(input: Any, dim: Any = None) -> Any:  # noqa: A002
    shape = input.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        dims = tuple(d for d in normalize_dims("squeeze", dim, len(shape)) if shape and shape[d] == 1)
    if not dims:
        return input
    return view(input, tuple(s for i, s in enumerate(shape) if i not in dims))


def unsqueeze(input: Any, dim: int) -> Any:  # noqa: A002
    shape = input.shape
    dim = normalize_dim("unsqueeze", dim, len(shape) + 1)
    return view(input, shape[:dim] + (1,) + shape[dim:])


def contiguous(input: Any, memory_format: Any = None) -> Any:  # noqa: A002
    if input._array.flags.c_contiguous:
        return input
    from chainrule.ops.elementwise import Clone

    return apply(Clone, (input,))


# ---- transposes ------------------------------------------------------------------------------


class Permute(Op):
    """x with its dimensions reordered (a view). Derivative: g permuted by the inverse order."""

    is_view = True

    @staticmethod
    def forward(ctx: Node, x: Array, dims: tuple) -> Array:
        ctx.dims = dims
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


def permute(input: Any, *dims: Any) -> Any:  # noqa: A002
    dims = normalize_size(dims) if dims and not isinstance(dims[0], int) else tuple(dims)
    ndim = input._array.ndim
    if len(dims) != ndim:
        raise ShapeError(
            f"permute: number of dims don't match in permute (input shape {input.shape}, "
            f"dims {dims})"
        )
    return apply(Permute, (input,), normalize_dims("permute", dims, ndim))


def transpose(input: Any, dim0: int, dim1: int) -> Any:  # noqa: A002
    ndim = input._array.ndim
    if ndim == 0:
        return input
    a = normalize_dim("transpose", dim0, ndim)
    b = normalize_dim("transpose", dim1, ndim)
    if a == b:
        return input
    dims = list(range(ndim))
    dims[a], dims[b] = b, a
    return apply(Permute, (input,), tuple(dims))


def t(input: Any) -> Any:  # noqa: A002
    if input._array.ndim > 2:
        raise ShapeError(f"t: expects a tensor with <= 2 dimensions, but got {input.shape}")
    return transpose(input, 0, 1) if input._array.ndim == 2 else input


def movedim(input: Any, source: Any, destination: Any) -> Any:  # noqa: A002
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
    return apply(Permute, (input,), tuple(order))


# ---- broadcasting ----------------------------------------------------------------------------


class Expand(Op):
    """x broadcast to a larger shape (a read-only view). Derivative: g summed back (sum_to)."""

    is_view = True

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple) -> Array:
        ctx.shape = shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (sum_to(g, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return expand(t, ctx.shape)


class SumTo(Op):
    """g summed over the dimensions broadcasting added or stretched, down to `shape`.
    Derivative: the gradient expanded back (SumTo and Expand are each other's transposes)."""

    @staticmethod
    def forward(ctx: Node, x: Array, shape: tuple) -> Array:
        ctx.shape = shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, size in enumerate(shape) if size == 1 and x.shape[lead + i] != 1
        )
        out = x.sum(axis=axes, keepdims=True) if axes else x
        return out.reshape(shape)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (expand(g, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return sum_to(t, ctx.shape)


def sum_to(input: Any, shape: tuple) -> Any:  # noqa: A002
    shape = tuple(shape)
    if input._array.shape == shape:
        return input
    return apply(SumTo, (input,), shape)


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape all of `shapes` broadcast to, or ShapeError naming them."""
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


def expand(input: Any, *sizes: Any) -> Any:  # noqa: A002
    sizes = normalize_size(sizes)
    shape = input.shape
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
        elif existing is not None and existing != 1 and existing != size:
            raise ShapeError(
                f"expand: the expanded size of the tensor ({size}) must match the existing size "
                f"({existing}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. "
                f"Tensor sizes: {list(shape)}"
            )
        target.append(size)
    target = tuple(target)
    if target == shape:
        return input
    return apply(Expand, (input,), target)


def expand_as(input: Any, other: Any) -> Any:  # noqa: A002
    return expand(input, other.shape)


def broadcast_to(input: Any, size: Sequence[int]) -> Any:  # noqa: A002
    return expand(input, tuple(size))


def broadcast_tensors(*tensors: Any) -> tuple:
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)



# PLACEHOLDER (being written): functions not implemented yet. Remove each name as it lands.
def _placeholder(name: str) -> Any:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(name)

    return missing


for _name in ['chunk', 'flip', 'narrow', 'repeat', 'roll', 'split', 'tile', 'unbind']:
    globals()[_name] = _placeholder(_name)
