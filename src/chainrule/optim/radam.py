"""RAdam: Adam with the variance of its adaptive learning rate rectified (Liu et al., 2020)."""

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


class RAdam(Optimizer):
    """PyTorch's RAdam, step for step.

    m <- lerp(m, g, 1 - beta1), v <- beta2 v + (1 - beta2) g * g; with
    rho_inf = 2 / (1 - beta2) - 1 and rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t):
    while rho_t <= 5 the step is plain momentum, p <- p - lr m / (1 - beta1**t); after, it is
    scaled by sqrt(1 - beta2**t) / (sqrt(v) + eps) and the rectification
    sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)).
    Weight decay adds `weight_decay * p` to g, or (decoupled_weight_decay) scales p by
    1 - lr * weight_decay first. `foreach` and `capturable` are accepted and change nothing.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate.
        betas (tuple[float, float]): the decay rates of the first and second moment
            estimates.
        eps (float): added to the denominator for numerical stability.
        weight_decay (float): L2 penalty factor.
        decoupled_weight_decay (bool): decay the weights directly, as AdamW.
        foreach (bool, optional): PyTorch's choice of its multi-tensor kernels; accepted
            and stored in the param groups (chainrule has one implementation, the same numbers).
        maximize (bool): ascend the objective instead of descending.
        capturable (bool): PyTorch's CUDA-graph-safe form; accepted and stored.
        differentiable (bool): autograd through the step itself; True raises
            NotImplementedError rather than stepping without a graph.

    Example:
        >>> import chainrule
        >>> w = chainrule.tensor([1.0, -1.0], requires_grad=True)
        >>> optimizer = chainrule.optim.RAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> optimizer.step()
        >>> w
        tensor([ 0.8000, -0.8000], requires_grad=True)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_adam_options(lr, betas, eps, weight_decay)
        options = implementation_options(
            ("foreach", "capturable", "differentiable"),
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        defaults = {  # in PyTorch's order: state dicts and printed groups read alike
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": options["foreach"],
            "capturable": options["capturable"],
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": options["differentiable"],
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
                state["exp_avg_sq"] = zeros_like(p)
            param, grad = self._real_arrays(p, group["maximize"])
            exp_avg = as_real(state["exp_avg"]._array)
            exp_avg_sq = as_real(state["exp_avg_sq"]._array)
            step = self._increment_step(state)

            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param *= 1 - lr * weight_decay
                else:
                    grad = grad + weight_decay * param

            lerp_(exp_avg, grad, 1 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += (1 - beta2) * grad * grad
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            corrected = exp_avg / bias_correction1
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
            if rho_t > 5.0:
                rect = (
                    (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                ) ** 0.5
                adaptive_lr = (bias_correction2**0.5) / (xp.sqrt(exp_avg_sq) + eps)
                param -= corrected * lr * adaptive_lr * rect
            else:
                param -= corrected * lr
            self._written(p)
