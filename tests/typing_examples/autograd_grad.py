"""chainrule.autograd.grad and Tensor.backward: first and second derivatives."""

from __future__ import annotations

import chainrule
from chainrule import Tensor, autograd

x = chainrule.linspace(-1.0, 1.0, 5, requires_grad=True)
y: Tensor = (x.sin() * x.exp()).sum()
(dy,) = autograd.grad(y, x, create_graph=True)
(d2y,) = autograd.grad(dy.sum(), [x])
first: Tensor = dy
second: Tensor = d2y
y2 = (x**2).sum()
y2.backward()
gradient: Tensor | None = x.grad
with chainrule.enable_grad():
    enabled: bool = autograd.is_grad_enabled()
