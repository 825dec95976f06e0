"""Ops NumPy has and PyTorch lacks, so they live with the NumPy namespace: cbrt (the real
cube root). The others NumPy spells differently (arcsinh, logaddexp, hypot, sinc) are
PyTorch's ops, in ops/elementwise.py.

They follow ops/elementwise.py: forward on raw arrays through ctx.xp, vjp and jvp in chainrule
ops, so higher derivatives are exact. Conventions match PyTorch's derivatives.yaml.
"""

from __future__ import annotations

from typing import Any

from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.ops.elementwise import elementwise_batch, unary_elementwise_jvp
from chainrule.ops.op import Op

# ---- unary ------------------------------------------------------------------------------------


class Cbrt(Op):
    """The real cube root. Derivative: g / (3 out**2), from the saved output (inf at 0)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = ctx.xp.cbrt(x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (g / (3 * out * out),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch
