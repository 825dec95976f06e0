"""NAdam: Adam with Nesterov momentum and a decaying momentum schedule (Dozat, 2016)."""

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


class NAdam(Optimizer):
    """PyTorch's NAdam, step for step.

    With mu_t = beta1 (1 - 0.5 * 0.96**(t * momentum_decay)) and prod its running product
    (a float32 state, `mu_product`): m <- lerp(m, g, 1 - beta1),
    v <- beta2 v + (1 - beta2) g * g, d = sqrt(v / (1 - beta2**t)) + eps,
    p <- p - lr (1 - mu_t) / (1 - prod_t) g / d - lr mu_{t+1} / (1 - prod_t mu_{t+1}) m / d.
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
        momentum_decay (float): how fast mu_t approaches beta1 (psi in the paper).
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
        >>> optimizer = chainrule.optim.NAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> optimizer.step()
        >>> w
        tensor([ 0.8944, -0.8944], requires_grad=True)
    """

    complex_params = True  # stepped through view_as_real, as PyTorch

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_adam_options(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            **implementation_options(
                ("foreach", "capturable", "differentiable"),
                foreach=foreach,
                capturable=capturable,
                differentiable=differentiable,
            ),
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        momentum_decay = group["momentum_decay"]
        xp = params[0]._backend.xp
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = tensor(0.0, dtype=dtypes.float32)
                state["mu_product"] = tensor(1.0, dtype=dtypes.float32)
                state["exp_avg"] = zeros_like(p)
                state["exp_avg_sq"] = zeros_like(p)
            param, grad = self._real_arrays(p, group["maximize"])
            exp_avg = as_real(state["exp_avg"]._array)
            exp_avg_sq = as_real(state["exp_avg_sq"]._array)
            mu_product = state["mu_product"]._array
            step = self._increment_step(state)
            bias_correction2 = 1 - beta2**step

            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param *= 1 - lr * weight_decay
                else:
                    grad = grad + weight_decay * param

            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            mu_product *= mu  # in float32, as PyTorch's state tensor
            lerp_(exp_avg, grad, 1 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += (1 - beta2) * grad * grad
            denom = xp.sqrt(exp_avg_sq / bias_correction2)
            product = float(mu_product)
            product_next = product * mu_next
            denom += eps
            param += (-lr * (1.0 - mu) / (1.0 - product)) * grad / denom
            param += ((-lr * mu_next) / (1.0 - product_next)) * exp_avg / denom
            self._written(p)
