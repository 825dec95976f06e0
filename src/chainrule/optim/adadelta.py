"""Adadelta: step sizes from the ratio of running RMS of updates to running RMS of gradients."""

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
)


class Adadelta(Optimizer):
    """PyTorch's Adadelta, step for step.

    v <- rho * v + (1 - rho) * g * g; delta = sqrt(u + eps) / sqrt(v + eps) * g;
    u <- rho * u + (1 - rho) * delta * delta; p <- p - lr * delta.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): scales delta (default 1.0: Adadelta needs no learning rate).
        rho (float): the decay rate of both running averages, in [0, 1] (default 0.9).
        eps (float): added inside both square roots (default 1e-6).
        weight_decay (float): L2 penalty factor added to the gradient (default 0).
        maximize (bool): ascend the objective instead of descending.
        foreach (bool, optional): PyTorch's choice of its multi-tensor kernels; accepted
            and stored in the param groups (chainrule has one implementation, the same numbers).
        capturable (bool): PyTorch's CUDA-graph-safe form; accepted and stored.
        differentiable (bool): autograd through the step itself; True raises
            NotImplementedError rather than stepping without a graph.

    Example:
        >>> import chainrule
        >>> from chainrule import nn, optim
        >>> model = nn.Linear(3, 1)
        >>> optimizer = optim.Adadelta(model.parameters())
        >>> loss = model(chainrule.randn(8, 3)).pow(2).mean()
        >>> optimizer.zero_grad()
        >>> loss.backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        options = implementation_options(
            ("capturable", "foreach", "differentiable"),
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        defaults = {  # in PyTorch's order: state dicts and printed groups read alike
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": options["capturable"],
            "foreach": options["foreach"],
            "differentiable": options["differentiable"],
        }
        super().__init__(params, defaults)

    complex_params = True  # stepped through view_as_real, as PyTorch

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr = group["lr"]
        rho = group["rho"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        xp = params[0]._backend.xp
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = tensor(0.0, dtype=dtypes.float32)
                state["square_avg"] = zeros_like(p)
                state["acc_delta"] = zeros_like(p)
            param, grad = self._real_arrays(p, group["maximize"])
            square_avg = as_real(state["square_avg"]._array)
            acc_delta = as_real(state["acc_delta"]._array)
            self._increment_step(state)

            if weight_decay != 0:
                grad = grad + weight_decay * param
            square_avg *= rho
            square_avg += (1 - rho) * grad * grad
            std = xp.sqrt(square_avg + eps)
            delta = xp.sqrt(acc_delta + eps)
            delta /= std
            delta *= grad
            acc_delta *= rho
            acc_delta += (1 - rho) * delta * delta
            param -= lr * delta
            self._written(p)
