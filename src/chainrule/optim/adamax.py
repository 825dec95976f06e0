"""Adamax: Adam with the infinity norm in place of the second moment (Kingma and Ba, 2015)."""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops.creation import tensor, zeros_like
from chainrule.optim.adam import _check_adam_options
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    as_real,
    implementation_options,
    lerp_,
)


class Adamax(Optimizer):
    """PyTorch's Adamax, step for step: m <- lerp(m, g, 1 - beta1),
    u <- max(beta2 u, |g| + eps), p <- p - lr / (1 - beta1**t) m / u (g plus
    `weight_decay * p`, negated when maximizing). `foreach` and `capturable` are accepted and
    change nothing.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate.
        betas (tuple[float, float]): the decay rates of the first moment and of the
            infinity norm.
        eps (float): added to the denominator for numerical stability.
        weight_decay (float): L2 penalty factor added to the gradient.
        foreach (bool, optional): PyTorch's choice of its multi-tensor kernels; accepted
            and stored in the param groups (chainrule has one implementation, the same numbers).
        maximize (bool): ascend the objective instead of descending.
        differentiable (bool): autograd through the step itself; True raises
            NotImplementedError rather than stepping without a graph.
        capturable (bool): PyTorch's CUDA-graph-safe form; accepted and stored.

    Example:
        >>> import chainrule
        >>> w = chainrule.tensor([1.0, -1.0], requires_grad=True)
        >>> optimizer = chainrule.optim.Adamax([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> optimizer.step()
        >>> w
        tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_adam_options(lr, betas, eps, weight_decay)
        options = implementation_options(
            ("foreach", "differentiable", "capturable"),
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        defaults = {  # in PyTorch's order: state dicts and printed groups read alike
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": options["foreach"],
            "maximize": maximize,
            "differentiable": options["differentiable"],
            "capturable": options["capturable"],
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        xp = params[0]._backend.xp
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = tensor(0.0, dtype=dtypes.float32)
                state["exp_avg"] = zeros_like(p)
                state["exp_inf"] = zeros_like(p)
            param, grad = self._real_arrays(p, group["maximize"])
            exp_avg = as_real(state["exp_avg"]._array)
            exp_inf = as_real(state["exp_inf"]._array)
            step = self._increment_step(state)
            if weight_decay != 0:
                grad = grad + weight_decay * param
            lerp_(exp_avg, grad, 1 - beta1)
            exp_inf *= beta2
            xp.maximum(exp_inf, xp.abs(grad) + eps, out=exp_inf)
            clr = lr / (1 - beta1**step)
            param += -clr * exp_avg / exp_inf
            self._written(p)
