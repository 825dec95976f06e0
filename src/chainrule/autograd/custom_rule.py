"""One differentiated call of a derivative rule written by hand: the graph node shared by
`chainrule.func.custom_vjp` / `custom_jvp` and `chainrule.numpy.primitive`.

The outputs are computed outside (by the user's function or forward rule); `RuleCall.record`
makes them the outputs of one `autograd.Function` node over the inputs, whose backward calls
the rule's vjp. The engine needs nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd import grad_mode
from chainrule.autograd.function import Function

__all__ = ["RuleCall", "differentiated", "has_tangents"]


class RuleCall:
    """One differentiated call of a hand-written rule: the outputs it computed, and `vjp`, a
    function from the output cotangents (one Tensor per output) to one gradient (or None) per
    input Tensor."""

    __slots__ = ("outputs", "vjp", "name")

    def __init__(self, outputs: list, vjp: Callable, name: str) -> None:
        self.outputs = outputs
        self.vjp = vjp
        self.name = name

    def record(self, inputs: Sequence[Tensor]) -> list:
        """The outputs, as the results of one graph node over `inputs`."""
        outputs = _RuleNode.apply(self, *inputs)
        self.outputs = None  # the node holds this object: no cycle through its outputs
        return list(outputs)


class _RuleNode(Function):
    """The graph node of a RuleCall: forward hands back the outputs the rule computed (as new
    Tensors), backward calls the rule's vjp."""

    _saves_objects = True  # the call, freed with the graph

    @staticmethod
    def forward(ctx: Any, call: RuleCall, *inputs: Tensor) -> tuple:
        ctx.save_for_backward(call)
        return tuple(output.detach() for output in call.outputs)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple:
        (call,) = ctx.saved_tensors
        return (None, *call.vjp(list(grads)))

    @classmethod
    def node_name(cls) -> str:
        return "CustomRuleBackward"


def differentiated(leaves: Sequence[Any]) -> bool:
    """Whether reverse mode records a call on these leaves."""
    return grad_mode.is_grad_enabled() and any(
        isinstance(leaf, Tensor) and leaf.requires_grad for leaf in leaves
    )


def has_tangents(leaves: Sequence[Any]) -> bool:
    """Whether forward mode pushes a tangent through a call on these leaves."""
    return fwAD.current_level() is not None and any(
        isinstance(leaf, Tensor) and fwAD.tangent_of(leaf) is not None for leaf in leaves
    )
