# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Rows gathered and scattered: Take (x[index] along dimension 0) and its adjoint
TakeAdjoint (rows added at an index), the kernels of embedding, of max-pooling's derivative and
of nll_loss; and one_hot.

  Take(x, index)           vjp: TakeAdjoint(g, index)
  TakeAdjoint(g, index)    vjp: Take(gg, index)
"""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.errors import (
    ArgumentAssertionError,
    DomainError,
    DTypeError,
    IndexRangeError,
    ShapeError,
)
from chainrule.ops.elementwise import elementwise_batch, where
from chainrule.ops.nn_common import check_indices, constant, refuse_complex_autograd, shape_constant
from chainrule.ops.op import Op, apply, named
from chainrule.ops.shape import reshape
from chainrule.ops.sparse import SparseTensor, sparse_coo_tensor


def _batch_offsets(size: int, rows: int, like: Any) -> Any:
    """vmap: each example's start in a table of `size` stacked tables of `rows` rows, shaped to
    broadcast against `like` (batch first)."""
    xp = like._backend.xp
    starts = xp.arange(size, dtype=like._array.dtype) * rows
    return shape_constant(starts.reshape((size,) + (1,) * (like.ndim - 1)))


# ---- gather and scatter of rows ------------------------------------------------------------


class Take(Op):
    """x[index] along dimension 0 (rows). Derivative: g added into zeros at the rows
    (TakeAdjoint; repeats accumulate). With `padding_idx`, that row gets no gradient, and with
    `scale` (a constant per index) each gradient row is scaled first (embedding's options)."""

    @staticmethod
    def forward(
        ctx: Node,
        x: Array,
        index: Array,
        padding_idx: int | None = None,
        scale: Array | None = None,
        sparse: bool = False,
    ) -> Array:
        ctx.save(index=index, padding_idx=padding_idx, sparse=sparse)
        if scale is not None:
            ctx.save(scale=scale)
        ctx.save(scaled=scale is not None)
        return ctx.xp.take(x, index, axis=0)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        index = ctx.index
        trailing = g.ndim - index.ndim
        if ctx.scaled:
            g = g * reshape(ctx.scale, tuple(index.shape) + (1,) * trailing)
        if ctx.sparse:
            return (_sparse_rows(g, index, ctx.padding_idx, ctx.input_meta[0][0]), None)
        if ctx.padding_idx is not None:
            keep = reshape(index != ctx.padding_idx, tuple(index.shape) + (1,) * trailing)
            g = where(keep, g, 0.0)
        return (apply(TakeAdjoint, (g, index), ctx.input_meta[0][0][0]), None)

    @staticmethod
    def jvp(ctx: Node, t: Any, t_index: Any) -> Any:
        return apply(Take, (t, ctx.index))

    @staticmethod
    def batch(
        b: Any, x: Any, index: Any, padding_idx: Any = None, scale: Any = None, sparse: Any = False
    ) -> Any:
        """vmap: a shared table reads batched indices directly; a batched table is read flat,
        each example's indices offset by its start (gradients dense under vmap)."""
        if scale is not None or (b.batched[0] and padding_idx is not None):
            return b.loop(x, index, padding_idx, scale)
        if not b.batched[0]:
            return apply(Take, (x, index), padding_idx)
        rows = x.shape[1]
        index = index if b.batched[1] else b.expand(index)
        flat = reshape(x, (-1, *x.shape[2:]))
        return apply(Take, (flat, index + _batch_offsets(b.size, rows, index)))


def _sparse_rows(g: Any, index: Any, padding_idx: int | None, shape: tuple) -> SparseTensor:
    """The table's gradient as a sparse tensor: row index[k] gets g's row k (repeats left
    uncoalesced, the padding row's left out), as PyTorch's embedding with sparse=True."""
    rows = reshape(g, (-1, *g.shape[index.ndim :]))
    flat = index._array.reshape(-1)
    if padding_idx is not None:
        keep = flat != padding_idx
        flat = flat[keep]
        rows = rows[constant(keep)]
    return sparse_coo_tensor(constant(flat.reshape(1, -1)), rows, shape)


class TakeAdjoint(Op):
    """zeros(rows, ...) with the rows of g added at `index` (repeats accumulate); with
    `distinct`, the caller's promise that no index repeats (max pooling over disjoint
    windows), the rows are assigned, several times faster than accumulating.
    Derivative: the gradient's rows read at `index` (Take)."""

    @staticmethod
    def forward(ctx: Node, g: Array, index: Array, rows: int, distinct: bool = False) -> Array:
        ctx.save(index=index, rows=rows, distinct=distinct)
        xp = ctx.xp
        out = xp.zeros((rows, *g.shape[index.ndim :]), dtype=g.dtype)
        if distinct:
            if not ctx.backend.assign_at(out, index, g):  # a compiled loop, where there is one
                out[index] = g
        else:
            ctx.backend.scatter_add(out, index, g)
        return out

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        return (apply(Take, (gg, ctx.index)), None)

    @staticmethod
    def jvp(ctx: Node, t: Any, t_index: Any) -> Any:
        return apply(TakeAdjoint, (t, ctx.index), ctx.rows, ctx.distinct)

    @staticmethod
    def batch(b: Any, g: Any, index: Any, rows: int, distinct: bool = False) -> Any:
        """vmap: each example's rows scattered into its own block of a (batch * rows) table
        (an index repeated only across examples lands in different blocks)."""
        g = g if b.batched[0] else b.expand(g)
        index = index if b.batched[1] else b.expand(index)
        offsets = index + _batch_offsets(b.size, rows, index)
        out = apply(TakeAdjoint, (g, offsets), b.size * rows, distinct)
        return reshape(out, (b.size, rows, *out.shape[1:]))


# ---- embedding and one_hot -----------------------------------------------------------------


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of `weight` at the integer indices `input`: a lookup table. The row at padding_idx
    gets no gradient; max_norm renormalizes the looked-up rows of `weight` in place (as
    PyTorch); scale_grad_by_freq divides each row's gradient by its index's count in `input`.

    Args:
        input (Tensor): integer indices into the rows, any shape.
        weight (Tensor): (num_embeddings, embedding_dim), floating point.
        padding_idx (int, optional): a row that gets no gradient.
        max_norm (float, optional): rescale looked-up rows whose norm exceeds it.
        norm_type (float): the p of the norm for max_norm.
        scale_grad_by_freq (bool): scale gradients by the inverse index frequency.
        sparse (bool): give `weight` a sparse COO gradient (the looked-up rows only), as
            PyTorch's; for SGD, Adagrad and SparseAdam.

    Returns:
        Tensor: (*input.shape, embedding_dim).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> table = chainrule.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
        >>> F.embedding(chainrule.tensor([[2, 1]]), table)
        tensor([[[3., 4.],
                 [1., 2.]]])
    """
    check_indices("embedding", input)
    refuse_complex_autograd("embedding", weight)
    if weight.ndim != 2:
        raise ShapeError(
            f"embedding: expected a 2-D weight, got weight of shape {tuple(weight.shape)}"
        )
    rows = weight.shape[0]
    index = input._array
    if index.size and (int(index.min()) < 0 or int(index.max()) >= rows):
        # (PyTorch: IndexError from embedding, RuntimeError from embedding_bag's kernel)
        raise IndexRangeError(
            f"embedding: index out of range in self (indices must be in [0, {rows}), got values "
            f"in [{int(index.min())}, {int(index.max())}])"
        )
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ArgumentAssertionError(
                f"embedding: Padding_idx must be within num_embeddings ({rows}), got {padding_idx}"
            )
        padding_idx = padding_idx % rows
    if sparse and scale_grad_by_freq:
        raise RuntimeError(
            "embedding_backward: scale_grad_by_freq not supported with sparse gradients"
        )
    xp = input._backend.xp
    if max_norm is not None:
        _renorm_rows(weight, xp.unique(index), max_norm, norm_type)
    scale = None
    if scale_grad_by_freq:
        counts = xp.bincount(index.ravel(), minlength=rows)
        scale = (1.0 / counts[index]).astype(weight._array.dtype)
    return named(apply(Take, (weight, input), padding_idx, scale, sparse), "EmbeddingBackward0")


def _renorm_rows(weight: Any, rows: Array, max_norm: float, norm_type: float) -> None:
    """Scale the given rows of weight in place so their norm_type-norm is at most max_norm."""
    xp = weight._backend.xp
    with no_grad():
        selected = weight._array[rows]
        norms = (xp.abs(selected) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(selected.dtype)
        weight[constant(rows)] = constant(selected * scale[:, None])


class OneHot(Op):
    """The class indices as one-hot int64 vectors along a new last dimension. Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, index: Array, num_classes: int) -> Array:
        xp = ctx.xp
        return (index[..., None] == xp.arange(num_classes)).astype(dtypes.int64.numpy)

    batch = elementwise_batch


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """One-hot encoding: a new last dimension with a 1 at each index and 0 elsewhere (int64, not
    differentiable).

    Args:
        tensor (Tensor): integer class indices, any shape, none negative.
        num_classes (int): the size of the new dimension; -1 means one more than the largest
            index.

    Returns:
        Tensor: int64 of shape (*tensor.shape, num_classes).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.one_hot(chainrule.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    if tensor.dtype != dtypes.int64:
        raise DTypeError(
            f"one_hot: is only applicable to index tensors of type int64, got {tensor.dtype}"
        )
    index = tensor._array
    if num_classes == -1:
        if index.size == 0:
            raise DomainError(  # (PyTorch: RuntimeError)
                "one_hot: can not infer the total number of classes from an empty tensor"
            )
        num_classes = int(index.max()) + 1
    if index.size:
        if int(index.min()) < 0:
            raise DomainError(f"one_hot: class values must be non-negative, got {int(index.min())}")
        if int(index.max()) >= num_classes:
            raise DomainError(
                f"one_hot: class values must be smaller than num_classes ({num_classes}), got "
                f"{int(index.max())}"
            )
    return apply(OneHot, (tensor,), num_classes)
