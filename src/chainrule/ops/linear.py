# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""The fully connected layer: Linear (x @ w^T + b over the last dimension) and its weight
gradient LinearWeightGrad (g^T x summed over every leading dimension, one matrix product), each
the other's derivative, so any order of derivative works.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.errors import ShapeError
from chainrule.ops.autocast import LOWER, autocast_active, autocast_operands
from chainrule.ops.complex import apply_holomorphic, holomorphic
from chainrule.ops.linalg import Einsum, Matmul, matmul, stacked_matmul
from chainrule.ops.nn_common import check_floating
from chainrule.ops.op import Op, named
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import expand, reshape, transpose, unsqueeze

# PyTorch's grad_fn name for linear by (input rank, at most 3; with bias): the last of the ops
# it dispatches to (addmm or mm on a matrix; a view, or a squeeze of a vector's added dim).
_LINEAR_NODE_NAMES = {
    (1, True): "ViewBackward0",
    (1, False): "SqueezeBackward4",
    (2, True): "AddmmBackward0",
    (2, False): "MmBackward0",
    (3, True): "ViewBackward0",
    (3, False): "UnsafeViewBackward0",
}


@holomorphic
class Linear(Op):
    """x @ w^T (+ b) over the last dimension of x. Derivatives: g @ w for x, g^T x summed over
    every leading dimension for w, g summed over them for b (conjugated operands for complex
    ones: holomorphic in each, as every op of this file)."""

    @staticmethod
    def forward(ctx: Node, x: Array, w: Array, b: Array | None = None) -> Array:
        ctx.save(x=x, w=w, display_name=_LINEAR_NODE_NAMES[min(x.ndim, 3), b is not None])
        out = stacked_matmul(ctx.xp, x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grads = [None, None, None]
        if ctx.next_edges[0] is not None:
            grads[0] = apply_holomorphic(Matmul, (g, ctx.w))
        if ctx.next_edges[1] is not None:
            grads[1] = apply_holomorphic(LinearWeightGrad, (g, ctx.x))
        if len(ctx.next_edges) == 3 and ctx.next_edges[2] is not None:
            grads[2] = reduce_sum(g, tuple(range(g.ndim - 1))) if g.ndim > 1 else g
        return tuple(grads[: len(ctx.next_edges)])

    @staticmethod
    def jvp(ctx: Node, tx: Any, tw: Any, tb: Any = None) -> Any:
        parts = []
        if tx is not None:
            parts.append(matmul(tx, transpose(ctx.w, 0, 1)))
        if tw is not None:
            parts.append(matmul(ctx.x, transpose(tw, 0, 1)))
        if tb is not None:
            parts.append(tb)
        out = parts[0]
        for part in parts[1:]:
            out = out + part
        if tx is None and tw is None:  # the bias's tangent alone, broadcast over the rows
            rows = tuple(ctx.input_meta[0][0][:-1])
            out = expand(out, rows + tuple(out.shape))
        return out

    @staticmethod
    def batch(b: Any, x: Any, w: Any, bias: Any = None) -> Any:
        """vmap: with shared parameters, Linear over the batch as one more leading dimension;
        with parameters per example, a batched matrix product."""
        if not any(b.batched[1:]):
            return apply_holomorphic(Linear, (x, w) if bias is None else (x, w, bias))
        x, w, *rest = b.batch_all((x, w) if bias is None else (x, w, bias))
        rows = reshape(x, (b.size, -1, x.shape[-1]))
        out = apply_holomorphic(Einsum, (rows, w), "bni,boi->bno")  # its vjps beat batched matmuls
        if rest:
            out = out + unsqueeze(rest[0], 1)
        return reshape(out, (*x.shape[:-1], w.shape[1]))


@holomorphic
class LinearWeightGrad(Op):
    """g^T x summed over every leading dimension: Linear's weight gradient (out, in) as one
    matrix product of the rows, instead of reshape, transpose and matmul ops.
    Derivatives: x c^T for g (a Linear) and g c for x, for a cotangent c of shape (out, in)."""

    @staticmethod
    def forward(ctx: Node, g: Array, x: Array) -> Array:
        ctx.save(g=g, x=x)
        rows = math.prod(g.shape[:-1])  # not -1: a layer with no inputs or outputs has size 0
        return ctx.xp.matmul(g.reshape(rows, g.shape[-1]).T, x.reshape(rows, x.shape[-1]))

    @classmethod
    def node_name(cls) -> str:
        return "MmBackward0"  # PyTorch's weight gradient is one mm of the rows, as this

    @staticmethod
    def vjp(ctx: Node, c: Any) -> tuple:
        grad_g = apply_holomorphic(Linear, (ctx.x, c)) if ctx.next_edges[0] is not None else None
        grad_x = apply_holomorphic(Matmul, (ctx.g, c)) if ctx.next_edges[1] is not None else None
        return (grad_g, grad_x)

    @staticmethod
    def jvp(ctx: Node, tg: Any, tx: Any) -> Any:
        parts = []
        if tg is not None:
            parts.append(apply_holomorphic(LinearWeightGrad, (tg, ctx.x)))
        if tx is not None:
            parts.append(apply_holomorphic(LinearWeightGrad, (ctx.g, tx)))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    @staticmethod
    def batch(b: Any, g: Any, x: Any) -> Any:
        """vmap: each example's rows as one stack, then a batched product."""
        g, x = b.batch_all((g, x))
        rows_g = reshape(g, (b.size, -1, g.shape[-1]))
        rows_x = reshape(x, (b.size, -1, x.shape[-1]))
        return apply_holomorphic(Matmul, (transpose(rows_g, 1, 2), rows_x))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight^T + bias, the affine map of `nn.Linear`.

    Args:
        input (Tensor): (*, in_features).
        weight (Tensor): (out_features, in_features); or (in_features,) without a bias, which
            gives input @ weight, of shape (*) (PyTorch's linear is then a matmul).
        bias (Tensor, optional): (out_features,).

    Returns:
        Tensor: (*, out_features).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.linear(chainrule.ones(2, 3), chainrule.ones(4, 3), chainrule.zeros(4)).shape
        chainrule.Size([2, 4])
        >>> w, b = chainrule.tensor([[1.0, 1.0]]), chainrule.tensor([0.5])
        >>> F.linear(chainrule.tensor([1.0, 2.0]), w, b)
        tensor([3.5000])
    """
    try:  # (free on the hot path: an operand that is not a Tensor fails on .dtype or .ndim)
        if autocast_active() is not None:
            input, weight, bias = autocast_operands(LOWER, input, weight, bias)  # noqa: A001
        check_floating("linear", input=input, weight=weight, bias=bias, complex_ok=True)
        if weight.ndim == 1 and bias is None:
            return matmul(input, weight)  # PyTorch's linear is a matmul here: MvBackward0 / Dot
        if weight.ndim == 1:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")  # PyTorch's addmm message
        if weight.ndim != 2:
            raise ShapeError(
                f"linear: expected a 2-D weight, got weight of shape {tuple(weight.shape)}"
            )
        if input.ndim == 0 or input._array.shape[-1] != weight._array.shape[1]:
            features = input.shape[-1] if input.ndim else 0
            raise ShapeError(
                f"linear: input of shape {tuple(input.shape)} and weight of shape "
                f"{tuple(weight.shape)} cannot be multiplied ({features} != {weight.shape[1]})"
            )
        if bias is None:
            return apply_holomorphic(Linear, (input, weight))
        bias_shape = bias._array.shape
        if bias_shape not in ((weight._array.shape[0],), (1,), ()):
            raise ShapeError(
                f"linear: expected bias of shape ({weight.shape[0]},), got {tuple(bias.shape)}"
            )
        if bias_shape != (weight._array.shape[0],):
            out = apply_holomorphic(Linear, (input, weight)) + bias
            return named(out, _LINEAR_NODE_NAMES[min(input.ndim, 3), True])
        return apply_holomorphic(Linear, (input, weight, bias))
    except AttributeError:
        _refuse_non_tensors(input, weight, bias)
        raise


def _refuse_non_tensors(input: Any, weight: Any, bias: Any) -> None:  # noqa: A002
    """PyTorch's TypeError for an operand of linear that is not a Tensor (`F.linear(5, w)`)."""
    operands = (("input", input), ("weight", weight), ("bias", bias))
    for position, (name, value) in enumerate(operands, start=1):
        if not isinstance(value, Tensor) and not (name == "bias" and value is None):
            raise TypeError(
                f"linear(): argument '{name}' (position {position}) must be Tensor, not "
                f"{type(value).__name__}"
            )
