"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops.creation import tensor, zeros_like
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    as_real,
    check_nonnegative,
    implementation_options,
    lerp_,
)


class RMSprop(Optimizer):
    """PyTorch's RMSprop, step for step.

    v <- alpha * v + (1 - alpha) * g * g; the scale is sqrt(v) + eps, or, when centered,
    sqrt(v - m * m) + eps with m <- lerp(m, g, 1 - alpha). Without momentum
    p <- p - lr * g / scale; with it b <- momentum * b + g / scale and p <- p - lr * b.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate (default 1e-2).
        alpha (float): the decay rate of the running average v (default 0.99).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): L2 penalty factor added to the gradient (default 0).
        momentum (float): the momentum factor (default 0: none).
        centered (bool): divide by the estimated variance rather than the raw second moment.
        maximize (bool): ascend the objective instead of descending.
        capturable (bool): PyTorch's CUDA-graph-safe form; accepted and stored.
        foreach (bool, optional): PyTorch's choice of its multi-tensor kernels; accepted
            and stored in the param groups (chainrule has one implementation, the same numbers).
        differentiable (bool): autograd through the step itself; True raises
            NotImplementedError rather than stepping without a graph.

    Example:
        >>> import chainrule
        >>> from chainrule import nn, optim
        >>> model = nn.Linear(3, 1)
        >>> optimizer = optim.RMSprop(model.parameters(), lr=1e-3)
        >>> loss = model(chainrule.randn(8, 3)).pow(2).mean()
        >>> optimizer.zero_grad()
        >>> loss.backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        options = implementation_options(
            ("capturable", "foreach", "differentiable"),
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        defaults = {  # in PyTorch's order: state dicts and printed groups read alike
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": options["capturable"],
            "foreach": options["foreach"],
            "maximize": maximize,
            "differentiable": options["differentiable"],
        }
        super().__init__(params, defaults)

    complex_params = True  # stepped through view_as_real, as PyTorch

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr = group["lr"]
        alpha = group["alpha"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        momentum = group["momentum"]
        centered = group["centered"]
        xp = params[0]._backend.xp
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = tensor(0.0, dtype=dtypes.float32)
                state["square_avg"] = zeros_like(p)
                if momentum > 0:
                    state["momentum_buffer"] = zeros_like(p)
                if centered:
                    state["grad_avg"] = zeros_like(p)
            param, grad = self._real_arrays(p, group["maximize"])
            square_avg = as_real(state["square_avg"]._array)
            self._increment_step(state)

            if weight_decay != 0:
                grad = grad + weight_decay * param
            square_avg *= alpha
            square_avg += (1 - alpha) * grad * grad
            if centered:
                grad_avg = as_real(state["grad_avg"]._array)
                lerp_(grad_avg, grad, 1 - alpha)
                avg = xp.sqrt(square_avg - grad_avg * grad_avg)
            else:
                avg = xp.sqrt(square_avg)
            avg += eps

            if momentum > 0:
                buf = as_real(state["momentum_buffer"]._array)
                buf *= momentum
                buf += grad / avg
                param -= lr * buf
            else:
                param += -lr * grad / avg
            self._written(p)
