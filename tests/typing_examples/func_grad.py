"""chainrule.func: grad, vmap and jacrev over plain functions of Tensors."""

from __future__ import annotations

import chainrule
from chainrule import Tensor, func


def loss(weights: Tensor, inputs: Tensor) -> Tensor:
    return (inputs @ weights).tanh().square().mean()


weights = chainrule.randn(3)
inputs = chainrule.randn(8, 3)
gradient: Tensor = func.grad(loss)(weights, inputs)
per_example = func.vmap(func.grad(loss), in_dims=(None, 0))(weights, inputs.unsqueeze(1))
jacobian = func.jacrev(chainrule.sin)(weights)
value, vjp_fn = func.vjp(chainrule.exp, weights)
(cotangent,) = vjp_fn(chainrule.ones_like(value))
