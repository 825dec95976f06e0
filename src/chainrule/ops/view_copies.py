# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""PyTorch's `*_copy` functions (`torch.view_copy`, `torch.permute_copy`, ...): a view op's
result as a fresh tensor of its own, row-major, rather than an alias of its input. Each is the
view followed by a contiguous clone, so its gradient is the view's (a clone's vjp is the
identity) and every order of derivative works. The split and unbind forms return a tuple of
copies. `out=` takes a tensor (a list of them for the tuple forms) of the result's dtype.

`view_copy` reshapes where a view is impossible (`torch.view_copy(x.t(), (6,))` is the
transposed values in row-major order, as PyTorch's), and `detach_copy` returns a detached copy:
PyTorch's result requires grad with a derivative that raises when reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.backend.formats import contiguous_format
from chainrule.ops.complex import view_as_complex, view_as_real
from chainrule.ops.conversion import clone, write_out
from chainrule.ops.indexing import narrow, select, unfold
from chainrule.ops.linalg import diagonal
from chainrule.ops.shape import (
    expand,
    permute,
    reshape,
    split,
    squeeze,
    t,
    transpose,
    unbind,
    unsqueeze,
    view,
)
from chainrule.ops.strided import as_strided

__all__ = [
    "alias_copy",
    "as_strided_copy",
    "detach_copy",
    "diagonal_copy",
    "expand_copy",
    "narrow_copy",
    "permute_copy",
    "select_copy",
    "slice_copy",
    "split_copy",
    "split_with_sizes_copy",
    "squeeze_copy",
    "t_copy",
    "transpose_copy",
    "unbind_copy",
    "unfold_copy",
    "unsqueeze_copy",
    "view_as_complex_copy",
    "view_as_real_copy",
    "view_copy",
]


def _fresh(result: Tensor) -> Tensor:
    return clone(result, memory_format=contiguous_format)


def _finish(name: str, result: Tensor, out: Tensor | None) -> Tensor:
    fresh = _fresh(result)
    return fresh if out is None else write_out(name, fresh, out, "same")


def _finish_all(name: str, results: Sequence[Tensor], out: Sequence[Tensor] | None) -> Any:
    fresh = tuple(_fresh(result) for result in results)
    if out is None:
        return fresh
    if len(out) != len(fresh):
        raise RuntimeError(
            f"{name}: expected {len(fresh)} out tensors (one per result), got {len(out)}"
        )
    for target, result in zip(out, fresh):
        write_out(name, result, target, "same")
    return None


def _slice(input: Tensor, dim: int, start: int | None, end: int | None, step: int) -> Tensor:
    index = [slice(None)] * input.ndim
    index[dim] = slice(start, end, step)
    return input[tuple(index)]


def _view(input: Tensor, size: Sequence[int] | dtypes.dtype) -> Tensor:
    """As a view where one exists (a dtype view, or a shape the strides allow); else the
    reshape, which copies the values in row-major order."""
    if isinstance(size, dtypes.dtype):
        return view(input, size)
    return reshape(input, size)


def alias_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """A copy of input (PyTorch's alias, copied).

    Args:
        input (Tensor): the tensor to copy from.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.alias_copy(chainrule.tensor([1.0, 2.0]))
        tensor([1., 2.])
    """
    return _finish("alias_copy", input, out)


def as_strided_copy(
    input: Tensor,
    size: Sequence[int],
    stride: Sequence[int],
    storage_offset: int | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """`as_strided(input, size, stride, storage_offset)`, copied.

    Args:
        input (Tensor): the tensor to copy from.
        size (sequence of int): the view's shape.
        stride (sequence of int): its strides, in elements.
        storage_offset (int, optional): its first element's offset in input's memory.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.as_strided_copy(chainrule.arange(6.0), (2, 2), (1, 2))
        tensor([[0., 2.],
                [1., 3.]])
    """
    return _finish("as_strided_copy", as_strided(input, size, stride, storage_offset), out)


def diagonal_copy(
    input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1, *, out: Tensor | None = None
) -> Tensor:
    """`diagonal(input, offset, dim1, dim2)`, copied.

    Args:
        input (Tensor): the tensor to copy from.
        offset (int): which diagonal: 0 the main one, above it positive.
        dim1 (int): the first of the two dimensions it runs along.
        dim2 (int): the second.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.diagonal_copy(chainrule.eye(2) * 3)
        tensor([3., 3.])
    """
    return _finish("diagonal_copy", diagonal(input, offset, dim1, dim2), out)


def expand_copy(
    input: Tensor, size: Sequence[int], *, implicit: bool = False, out: Tensor | None = None
) -> Tensor:
    """`input.expand(size)`, copied: every repeated element its own.

    Args:
        input (Tensor): the tensor to copy from.
        size (sequence of int): the expanded shape (-1 keeps a dimension).
        implicit (bool): PyTorch's tracing flag; it changes nothing.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.expand_copy(chainrule.tensor([[1.0], [2.0]]), (2, 3))
        tensor([[1., 1., 1.],
                [2., 2., 2.]])
    """
    return _finish("expand_copy", expand(input, size), out)


def narrow_copy(
    input: Tensor, dim: int, start: int, length: int, *, out: Tensor | None = None
) -> Tensor:
    """`narrow(input, dim, start, length)`, copied.

    Args:
        input (Tensor): the tensor to copy from.
        dim (int): the dimension to narrow.
        start (int): the first index kept.
        length (int): how many are kept.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.narrow_copy(chainrule.arange(5.0), 0, 1, 2)
        tensor([1., 2.])
    """
    return _finish("narrow_copy", narrow(input, dim, start, length), out)


def permute_copy(input: Tensor, dims: Sequence[int], *, out: Tensor | None = None) -> Tensor:
    """`permute(input, dims)`, copied: row-major in the new order.

    Args:
        input (Tensor): the tensor to copy from.
        dims (sequence of int): the new order of the dimensions.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.permute_copy(chainrule.zeros(2, 3), (1, 0)).stride()
        (2, 1)
    """
    return _finish("permute_copy", permute(input, dims), out)


def select_copy(input: Tensor, dim: int, index: int, *, out: Tensor | None = None) -> Tensor:
    """`select(input, dim, index)`, copied.

    Args:
        input (Tensor): the tensor to copy from.
        dim (int): the dimension to index.
        index (int): the index kept (negative counts from the end).
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.select_copy(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]), 1, -1)
        tensor([2., 4.])
    """
    return _finish("select_copy", select(input, dim, index), out)


def slice_copy(
    input: Tensor,
    dim: int = 0,
    start: int | None = None,
    end: int | None = None,
    step: int = 1,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """`input[start:end:step]` along `dim`, copied.

    Args:
        input (Tensor): the tensor to copy from.
        dim (int): the dimension to slice.
        start (int, optional): the first index (None: the start).
        end (int, optional): one past the last (None: the end).
        step (int): the stride of the slice.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.slice_copy(chainrule.arange(6.0), 0, 1, 6, 2)
        tensor([1., 3., 5.])
    """
    return _finish("slice_copy", _slice(input, dim, start, end, step), out)


def squeeze_copy(
    input: Tensor, dim: int | Sequence[int] | None = None, *, out: Tensor | None = None
) -> Tensor:
    """`squeeze(input, dim)`, copied.

    Args:
        input (Tensor): the tensor to copy from.
        dim (int or sequence of int, optional): the size-1 dimensions to remove (None: all).
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.squeeze_copy(chainrule.zeros(1, 2, 1)).shape
        chainrule.Size([2])
    """
    return _finish("squeeze_copy", squeeze(input, dim), out)


def t_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """`t(input)`, copied: the transpose, row-major.

    Args:
        input (Tensor): the tensor to copy from.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.t_copy(chainrule.zeros(2, 3)).stride()
        (2, 1)
    """
    return _finish("t_copy", t(input), out)


def transpose_copy(input: Tensor, dim0: int, dim1: int, *, out: Tensor | None = None) -> Tensor:
    """`transpose(input, dim0, dim1)`, copied.

    Args:
        input (Tensor): the tensor to copy from.
        dim0 (int): one dimension to swap.
        dim1 (int): the other.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.transpose_copy(chainrule.zeros(2, 3, 4), 0, 2).shape
        chainrule.Size([4, 3, 2])
    """
    return _finish("transpose_copy", transpose(input, dim0, dim1), out)


def unfold_copy(
    input: Tensor, dimension: int, size: int, step: int, *, out: Tensor | None = None
) -> Tensor:
    """`input.unfold(dimension, size, step)`, copied: overlapping windows each their own.

    Args:
        input (Tensor): the tensor to copy from.
        dimension (int): the dimension the windows slide along.
        size (int): each window's length.
        step (int): the distance between windows' starts.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.unfold_copy(chainrule.arange(5.0), 0, 2, 2)
        tensor([[0., 1.],
                [2., 3.]])
    """
    return _finish("unfold_copy", unfold(input, dimension, size, step), out)


def unsqueeze_copy(input: Tensor, dim: int, *, out: Tensor | None = None) -> Tensor:
    """`unsqueeze(input, dim)`, copied.

    Args:
        input (Tensor): the tensor to copy from.
        dim (int): where the new size-1 dimension goes.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.unsqueeze_copy(chainrule.zeros(2, 3), 1).shape
        chainrule.Size([2, 1, 3])
    """
    return _finish("unsqueeze_copy", unsqueeze(input, dim), out)


def view_as_complex_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """`view_as_complex(input)` (last dimension of size 2: real, imaginary), copied.

    Args:
        input (Tensor): the tensor to copy from.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.view_as_complex_copy(chainrule.tensor([[1.0, 2.0]]))
        tensor([1.+2.j])
    """
    return _finish("view_as_complex_copy", view_as_complex(input), out)


def view_as_real_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """`view_as_real(input)`, copied.

    Args:
        input (Tensor): the tensor to copy from.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.view_as_real_copy(chainrule.tensor([1.0 + 2.0j]))
        tensor([[1., 2.]])
    """
    return _finish("view_as_real_copy", view_as_real(input), out)


def view_copy(
    input: Tensor, size: Sequence[int] | dtypes.dtype, *, out: Tensor | None = None
) -> Tensor:
    """`input.view(size)` (or `.view(dtype)`), copied; where no view of that shape exists (a
    transposed input) the values in row-major order, as PyTorch's.

    Args:
        input (Tensor): the tensor to copy from.
        size (sequence of int, or dtype): the new shape (-1 inferred), or a dtype to view
            the memory as (`Tensor.view(dtype)`'s rules).
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.view_copy(chainrule.arange(6.0).reshape(2, 3).t(), (6,))
        tensor([0., 3., 1., 4., 2., 5.])
    """
    return _finish("view_copy", _view(input, size), out)


def detach_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """A copy of input outside the graph (PyTorch's requires grad, with a derivative that
    raises when reached).

    Args:
        input (Tensor): the tensor to copy from.
        out (Tensor, optional): where to write the result, of its dtype.

    Example:
        >>> import chainrule
        >>> chainrule.detach_copy(chainrule.ones(2, requires_grad=True))
        tensor([1., 1.])
    """
    return _finish("detach_copy", input.detach(), out)


def split_copy(
    tensor: Tensor, split_size: int, dim: int = 0, *, out: Sequence[Tensor] | None = None
) -> tuple[Tensor, ...] | None:
    """`split(tensor, split_size, dim)`, each piece copied.

    Args:
        tensor (Tensor): the tensor to split.
        split_size (int): each piece's length along dim (the last may be shorter).
        dim (int): the dimension to split.
        out (list of Tensor, optional): one tensor per piece to write it into (then None is
            returned).

    Example:
        >>> import chainrule
        >>> chainrule.split_copy(chainrule.arange(3.0), 2)
        (tensor([0., 1.]), tensor([2.]))
    """
    return _finish_all("split_copy", split(tensor, split_size, dim), out)


def split_with_sizes_copy(
    input: Tensor, split_sizes: Sequence[int], dim: int = 0, *, out: Sequence[Tensor] | None = None
) -> tuple[Tensor, ...] | None:
    """`split(input, split_sizes, dim)` with a list of sizes, each piece copied.

    Args:
        input (Tensor): the tensor to split.
        split_sizes (sequence of int): the pieces' lengths along dim, summing to its size.
        dim (int): the dimension to split.
        out (list of Tensor, optional): one tensor per piece to write it into (then None is
            returned).

    Example:
        >>> import chainrule
        >>> chainrule.split_with_sizes_copy(chainrule.arange(3.0), [1, 2])
        (tensor([0.]), tensor([1., 2.]))
    """
    return _finish_all("split_with_sizes_copy", split(input, list(split_sizes), dim), out)


def unbind_copy(
    input: Tensor, dim: int = 0, *, out: Sequence[Tensor] | None = None
) -> tuple[Tensor, ...] | None:
    """`unbind(input, dim)`, each slice copied.

    Args:
        input (Tensor): the tensor to take apart.
        dim (int): the dimension removed.
        out (list of Tensor, optional): one tensor per slice to write it into (then None is
            returned).

    Example:
        >>> import chainrule
        >>> chainrule.unbind_copy(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
        (tensor([1., 3.]), tensor([2., 4.]))
    """
    return _finish_all("unbind_copy", unbind(input, dim), out)
