"""Linear algebra: matrix products, einsum, inverses, solves and decompositions.

Matrix-product vjps are matrix products themselves (g @ y^T, x^T @ g), summed over broadcast
batch dimensions, so they are differentiable again.
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.errors import ShapeError
from chainrule.ops.elementwise import binary_operands
from chainrule.ops.op import Op, apply, unbroadcast
from chainrule.ops.shape import transpose, unsqueeze, squeeze


class Matmul(Op):
    """x @ y for operands of at least 2 dimensions (batched, broadcasting).
    Derivatives: g @ y^T and x^T @ g, reduced over broadcast batch dimensions."""

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        return ctx.xp.matmul(x, y)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x = grad_y = None
        if ctx.next_edges[0] is not None:
            grad_x = unbroadcast(apply(Matmul, (g, transpose(ctx.y, -1, -2))), ctx.input_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_y = unbroadcast(apply(Matmul, (transpose(ctx.x, -1, -2), g)), ctx.input_meta[1][0])
        return (grad_x, grad_y)

    @staticmethod
    def jvp(ctx: Node, tx: Any, ty: Any) -> Any:
        parts = []
        if tx is not None:
            parts.append(apply(Matmul, (tx, ctx.y)))
        if ty is not None:
            parts.append(apply(Matmul, (ctx.x, ty)))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def _check_matmul(x: Any, y: Any) -> None:
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {x.shape} and {y.shape}"
        )
    inner_x = x.shape[-1]
    inner_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if inner_x != inner_y:
        raise ShapeError(
            f"matmul: shapes {x.shape} and {y.shape} cannot be multiplied ({inner_x} != {inner_y})"
        )


def matmul(input: Any, other: Any) -> Any:  # noqa: A002
    """Matrix product with NumPy/PyTorch semantics for 1-D operands and batch broadcasting."""
    x, y = binary_operands(input, other)
    _check_matmul(x, y)
    if x.ndim == 1 and y.ndim == 1:
        return squeeze(squeeze(apply(Matmul, (unsqueeze(x, 0), unsqueeze(y, 1))), -1), -1)
    if x.ndim == 1:
        return squeeze(apply(Matmul, (unsqueeze(x, 0), y)), -2)
    if y.ndim == 1:
        return squeeze(apply(Matmul, (x, unsqueeze(y, 1))), -1)
    return apply(Matmul, (x, y))


def rmatmul(input: Any, other: Any) -> Any:  # noqa: A002
    return matmul(other, input)


def mm(input: Any, mat2: Any) -> Any:  # noqa: A002
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: expected 2-D tensors, got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def bmm(input: Any, mat2: Any) -> Any:  # noqa: A002
    if input.ndim != 3 or mat2.ndim != 3:
        raise ShapeError(f"bmm: expected 3-D tensors, got shapes {input.shape} and {mat2.shape}")
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(
            f"bmm: batch sizes differ: shapes {input.shape} and {mat2.shape}"
        )
    return matmul(input, mat2)


# PLACEHOLDER (being written): functions not implemented yet. Remove each name as it lands.
def _placeholder(name: str) -> Any:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(name)

    return missing


for _name in ['det', 'diagonal', 'dot', 'inv', 'outer', 'trace', 'tril', 'triu']:
    globals()[_name] = _placeholder(_name)
