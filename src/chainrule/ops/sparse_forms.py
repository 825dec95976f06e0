"""The namespace functions that have a sparse form: `chainrule.add(s, t)`, `mul`, `div`, `cat`,
`stack`, `select`, `index_select` of sparse COO tensors (ops/sparse.py) as PyTorch's.

Each is the dense function, tried first: an operand that is sparse has no array, and the dense
function's first read of it raises SparseLayoutError, where the sparse form takes over (a try
costs the dense path nothing but one call).

>>> import chainrule
>>> s = chainrule.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
>>> chainrule.mul(s, 2).to_dense()
tensor([[0., 4.],
        [6., 0.]])
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.errors import ShapeError
from chainrule.ops import elementwise, indexing, out_arguments, shape
from chainrule.ops.arguments import normalize_dim
from chainrule.ops.sparse import (
    Number,
    SparseCsrTensor,
    SparseLayoutError,
    SparseTensor,
    _reads_structure,
    _unsupported,
)

__all__ = [
    "add",
    "cat",
    "concat",
    "concatenate",
    "div",
    "divide",
    "index_select",
    "mul",
    "multiply",
    "select",
    "stack",
    "sub",
    "subtract",
    "true_divide",
]


def _with_sparse_form(dense: Callable[..., Any], sparse: Callable[..., Any]) -> Callable[..., Any]:
    """`dense`, or `sparse` where an operand is a sparse tensor."""

    @functools.wraps(dense)
    def function(*args: Any, **kwargs: Any) -> Any:
        try:
            return dense(*args, **kwargs)
        except SparseLayoutError:
            if not any(map(_is_sparse, (*args, *kwargs.values()))):
                raise
            return sparse(*args, **kwargs)

    return function


def _is_sparse(operand: Any) -> bool:
    """A sparse tensor, or a list or tuple of tensors (cat's, stack's) holding one."""
    if isinstance(operand, (list, tuple)):
        return any(isinstance(item, SparseTensor) for item in operand)
    return isinstance(operand, SparseTensor)


def _refuse_out(name: str, out: Any) -> None:
    if out is not None:
        raise _unsupported(f"{name} with out= of a sparse result")


def _sparse_add(
    input: Any,  # noqa: A002
    other: Any,
    *,
    alpha: Number = 1,
    out: Tensor | None = None,
) -> Tensor:
    """sparse + sparse is sparse, dense + sparse dense; PyTorch refuses sparse + dense."""
    _refuse_out("add", out)
    if isinstance(input, SparseTensor):
        if not isinstance(other, SparseTensor):
            raise RuntimeError(
                "add(sparse, dense) is not supported. Use add(dense, sparse) instead."
            )
        return input.add(other, alpha=alpha)
    dense = other.to_dense()
    return input + (dense if alpha == 1 else dense * alpha)


def _sparse_sub(
    input: Any,  # noqa: A002
    other: Any,
    *,
    alpha: Number = 1,
    out: Tensor | None = None,
) -> Tensor:
    return _sparse_add(input, other, alpha=-alpha, out=out)


def _sparse_mul(input: Any, other: Any, *, out: Tensor | None = None) -> SparseTensor:  # noqa: A002
    """sparse * number, dense of its shape or sparse: sparse, in either order."""
    _refuse_out("mul", out)
    if isinstance(input, SparseTensor):
        return input.mul(other)
    return other.mul(input)


def _sparse_div(
    input: Any,  # noqa: A002
    other: Any,
    *,
    rounding_mode: str | None = None,
    out: Tensor | None = None,
) -> SparseTensor:
    """sparse / number (or 0-dim tensor); a rounded quotient rounds the summed entries."""
    _refuse_out("div", out)
    if not isinstance(input, SparseTensor) or (isinstance(other, Tensor) and other.ndim > 0):
        divisor = other if isinstance(other, Tensor) else input
        raise RuntimeError(
            "Sparse division requires a scalar or zero-dim dense tensor divisor (got shape "
            f"{list(divisor.shape)} for divisor)"
        )
    if rounding_mode is None:
        return input.div(other)
    coalesced = input.coalesce()
    quotient = elementwise.div(coalesced._sparse_values, other, rounding_mode=rounding_mode)
    return coalesced._with_values(quotient)


def _sparse_select(input: SparseTensor, dim: int, index: int) -> SparseTensor:  # noqa: A002
    return input.select(dim, index)


def _sparse_index_select(
    input: SparseTensor,  # noqa: A002
    dim: int,
    index: Tensor,
    *,
    out: Tensor | None = None,
) -> SparseTensor:
    _refuse_out("index_select", out)
    return input.index_select(dim, index)


def _coo_operands(name: str, tensors: Sequence[Any]) -> list[SparseTensor]:
    tensors = list(tensors)
    if not tensors or not all(
        isinstance(t, SparseTensor) and not isinstance(t, SparseCsrTensor) for t in tensors
    ):
        raise _unsupported(f"{name} of sparse tensors with dense or compressed ones")
    first = tensors[0]
    for t in tensors[1:]:
        if t.ndim != first.ndim or t.sparse_dim() != first.sparse_dim():
            raise RuntimeError(
                f"{name}: expected all sparse tensors to have {first.ndim} dimensions and "
                f"sparse_dim {first.sparse_dim()}, got {t.ndim} and {t.sparse_dim()}"
            )
    return tensors


def _sparse_cat(
    tensors: Sequence[Any],
    dim: int = 0,
    *,
    axis: int | None = None,
    out: Tensor | None = None,
) -> SparseTensor:
    """Sparse tensors joined along a sparse dimension: each one's indices shifted past the
    ones before it, the values concatenated (differentiably)."""
    _refuse_out("cat", out)
    tensors = _coo_operands("cat", tensors)
    first = tensors[0]
    dim = normalize_dim("cat", dim if axis is None else axis, first.ndim)
    if dim >= first.sparse_dim():
        raise _unsupported("cat of sparse tensors along a dense dimension")
    for t in tensors[1:]:
        for d in range(first.ndim):
            if d != dim and t.shape[d] != first.shape[d]:
                raise ShapeError(
                    f"cat: sizes of tensors must match except in dimension {dim}, got "
                    f"{tuple(first.shape)} and {tuple(t.shape)}"
                )
    xp = first._backend.xp
    parts, offset = [], 0
    for t in tensors:
        _reads_structure(t._sparse_indices)
        shifted = t._sparse_indices._array.copy()
        shifted[dim] += offset
        parts.append(shifted)
        offset += t.shape[dim]
    size = list(first.shape)
    size[dim] = offset
    values = shape.cat([t._sparse_values for t in tensors], 0)
    indices = Tensor._from_array(xp.concatenate(parts, axis=1), first._backend)
    return SparseTensor._make(indices, values, tuple(size), False)


def _sparse_stack(
    tensors: Sequence[Any],
    dim: int = 0,
    *,
    axis: int | None = None,
    out: Tensor | None = None,
) -> SparseTensor:
    """Sparse tensors stacked along a new sparse dimension (a cat of each with a new
    dimension of size 1)."""
    _refuse_out("stack", out)
    tensors = _coo_operands("stack", tensors)
    first = tensors[0]
    dim = normalize_dim("stack", dim if axis is None else axis, first.ndim + 1)
    if dim > first.sparse_dim():
        raise _unsupported("stack of sparse tensors along a dense dimension")
    for t in tensors[1:]:
        if t.shape != first.shape:
            raise ShapeError(
                f"stack expects each tensor to be equal size, but got {tuple(first.shape)} "
                f"and {tuple(t.shape)}"
            )
    xp = first._backend.xp
    widened = []
    for t in tensors:
        indices = t._sparse_indices._array
        zeros_row = xp.zeros((1, indices.shape[1]), dtype=indices.dtype)
        raised = xp.concatenate([indices[:dim], zeros_row, indices[dim:]], axis=0)
        size = tuple(t.shape[:dim]) + (1,) + tuple(t.shape[dim:])
        widened.append(
            SparseTensor._make(
                Tensor._from_array(raised, t._backend), t._sparse_values, size, t._coalesced
            )
        )
    return _sparse_cat(widened, dim)


add = _with_sparse_form(elementwise.add, _sparse_add)
sub = _with_sparse_form(elementwise.sub, _sparse_sub)
subtract = _with_sparse_form(elementwise.subtract, _sparse_sub)
mul = _with_sparse_form(elementwise.mul, _sparse_mul)
multiply = _with_sparse_form(elementwise.multiply, _sparse_mul)
div = _with_sparse_form(elementwise.div, _sparse_div)
divide = _with_sparse_form(elementwise.divide, _sparse_div)
true_divide = _with_sparse_form(elementwise.true_divide, _sparse_div)
select = _with_sparse_form(indexing.select, _sparse_select)
index_select = _with_sparse_form(out_arguments.index_select, _sparse_index_select)
cat = _with_sparse_form(shape.cat, _sparse_cat)
concat = _with_sparse_form(shape.concat, _sparse_cat)
concatenate = _with_sparse_form(shape.concatenate, _sparse_cat)
stack = _with_sparse_form(out_arguments.stack, _sparse_stack)
