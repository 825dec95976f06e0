"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import Array, dtypes
from chainrule.ops.creation import tensor, zeros_like
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    as_real,
    check_nonnegative,
    implementation_options,
    lerp_,
    update_in_blocks,
)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): steps scaled per parameter by running estimates of the
    gradient's first and second moments; PyTorch's Adam, step for step.

    With g the gradient (negated when maximizing; plus `weight_decay * p` unless the decay is
    decoupled, where p <- p * (1 - lr * weight_decay) first):
    m <- lerp(m, g, 1 - beta1), v <- beta2 * v + (1 - beta2) * g * g,
    p <- p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps),
    where amsgrad replaces v in the denominator by its running maximum. A complex parameter
    is stepped as its pair of real parts (view_as_real), as in PyTorch.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate.
        betas (tuple[float, float]): the decay rates of the first and second moment estimates.
        eps (float): added to the denominator for numerical stability.
        weight_decay (float): L2 penalty factor (coupled to the gradient, as in PyTorch's Adam).
        amsgrad (bool): use the running maximum of v (Reddi et al., 2018).
        maximize (bool): ascend the objective instead of descending.
        decoupled_weight_decay (bool): decay the weights directly, as AdamW.
        foreach (bool, optional): PyTorch's choice of its multi-tensor kernels; accepted
            and stored in the param groups (chainrule has one implementation, the same numbers).
        capturable (bool): PyTorch's CUDA-graph-safe form; accepted and stored.
        differentiable (bool): autograd through the step itself; True raises
            NotImplementedError rather than stepping without a graph.
        fused (bool, optional): PyTorch's choice of its fused kernel; accepted and stored.

    Example:
        >>> import chainrule
        >>> from chainrule import nn, optim
        >>> model = nn.Linear(3, 1)
        >>> optimizer = optim.Adam(model.parameters(), lr=1e-3)
        >>> for _ in range(3):
        ...     loss = model(chainrule.randn(8, 3)).pow(2).mean()
        ...     optimizer.zero_grad()
        ...     loss.backward()
        ...     optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_adam_options(lr, betas, eps, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            **implementation_options(
                ("foreach", "capturable", "differentiable", "fused"),
                foreach=foreach,
                capturable=capturable,
                differentiable=differentiable,
                fused=fused,
            ),
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    complex_params = True  # stepped through view_as_real, as PyTorch

    def _sparse_refusal(self) -> str:
        return "Adam does not support sparse gradients, please consider SparseAdam instead"

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        eps = group["eps"]
        xp = params[0]._backend.xp
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = tensor(0.0, dtype=dtypes.float32)
                state["exp_avg"] = zeros_like(p)
                state["exp_avg_sq"] = zeros_like(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = zeros_like(p)
            param, grad = self._real_arrays(p, group["maximize"])
            moments = [as_real(state[key]._array) for key in ("exp_avg", "exp_avg_sq")]
            if amsgrad:
                moments.append(as_real(state["max_exp_avg_sq"]._array))
            step = self._increment_step(state)
            step_size, correction2 = lr / (1 - beta1**step), (1 - beta2**step) ** 0.5
            plain = not amsgrad and group["weight_decay"] == 0
            arrays = (param, grad, *moments)
            # The common case in one compiled pass where there is a kernel (same numbers)
            if not (
                plain and p._backend.adam_step(arrays, beta1, beta2, correction2, eps, step_size)
            ):
                rule = _adam_update(xp, group, step_size=step_size, correction2=correction2)
                update_in_blocks(p, rule, *arrays)
            self._written(p)


def _adam_update(
    xp: Any, group: dict[str, Any], step_size: float, correction2: float
) -> Callable[..., None]:
    """Adam's step on a block of the parameter, its gradient and its moments; `step_size` is
    lr over the first moment's bias correction, `correction2` the square root of the
    second's."""
    lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
    beta1, beta2 = group["betas"]
    decoupled = group["decoupled_weight_decay"]

    def update(
        param: Array,
        grad: Array,
        exp_avg: Array,
        exp_avg_sq: Array,
        max_exp_avg_sq: Array | None = None,
    ) -> None:
        if weight_decay != 0:
            if decoupled:
                param *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        second_moment = exp_avg_sq
        if max_exp_avg_sq is not None:
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            second_moment = max_exp_avg_sq
        denom = xp.sqrt(second_moment) / correction2 + eps
        param += -step_size * exp_avg / denom

    return update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019): each step first shrinks
    the weights, p <- p * (1 - lr * weight_decay), then takes Adam's step on the bare gradient.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate (default 1e-3).
        betas (tuple[float, float]): the decay rates of the moment estimates
            (default (0.9, 0.999)).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): the decoupled decay factor (default 1e-2, unlike Adam's 0).
        amsgrad (bool): use the running maximum of v (Reddi et al., 2018).
        maximize (bool): ascend the objective instead of descending.
        foreach (bool, optional): PyTorch's choice of its multi-tensor kernels; accepted
            and stored in the param groups (chainrule has one implementation, the same numbers).
        capturable (bool): PyTorch's CUDA-graph-safe form; accepted and stored.
        differentiable (bool): autograd through the step itself; True raises
            NotImplementedError rather than stepping without a graph.
        fused (bool, optional): PyTorch's choice of its fused kernel; accepted and stored.

    Example:
        >>> import chainrule
        >>> from chainrule import nn, optim
        >>> model = nn.Linear(3, 1)
        >>> optimizer = optim.AdamW(model.parameters(), lr=1e-3)
        >>> loss = model(chainrule.randn(8, 3)).pow(2).mean()
        >>> optimizer.zero_grad()
        >>> loss.backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def _check_adam_options(
    lr: float, betas: tuple[float, float], eps: float, weight_decay: float
) -> None:
    check_nonnegative(lr=lr, eps=eps)
    for index, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
    check_nonnegative(weight_decay=weight_decay)
