"""Adagrad: per-coordinate step sizes that shrink with the sum of squared gradients."""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops.creation import full_like, tensor
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    as_real,
    check_nonnegative,
    implementation_options,
)


class Adagrad(Optimizer):
    """PyTorch's Adagrad, step for step.

    s <- s + g * g (s starts at `initial_accumulator_value`), and
    p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps).

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate (default 1e-2).
        lr_decay (float): the learning rate's decay per step, as above (default 0).
        weight_decay (float): L2 penalty factor added to the gradient (default 0).
        initial_accumulator_value (float): the starting value of s (default 0).
        eps (float): added to the denominator (default 1e-10).
        maximize (bool): ascend the objective instead of descending.
        foreach (bool, optional): PyTorch's choice of its multi-tensor kernels; accepted
            and stored in the param groups (chainrule has one implementation, the same numbers).
        differentiable (bool): autograd through the step itself; True raises
            NotImplementedError rather than stepping without a graph.
        fused (bool, optional): PyTorch's choice of its fused kernel; accepted and stored.

    Example:
        >>> import chainrule
        >>> from chainrule import nn, optim
        >>> model = nn.Linear(3, 1)
        >>> optimizer = optim.Adagrad(model.parameters(), lr=0.1)
        >>> loss = model(chainrule.randn(8, 3)).pow(2).mean()
        >>> optimizer.zero_grad()
        >>> loss.backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_nonnegative(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        options = implementation_options(
            ("foreach", "differentiable", "fused"),
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        defaults = {  # in PyTorch's order: state dicts and printed groups read alike
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": options["foreach"],
            "maximize": maximize,
            "differentiable": options["differentiable"],
            "fused": options["fused"],
        }
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch creates Adagrad's state up front
            for p in group["params"]:
                self._init_state(self.state[p], p, group)

    complex_params = True  # stepped through view_as_real, as PyTorch
    sparse_gradients = True

    @staticmethod
    def _init_state(state: dict[str, Any], p: Tensor, group: dict[str, Any]) -> None:
        state["step"] = tensor(0.0, dtype=dtypes.float32)
        value = group["initial_accumulator_value"]
        if p.is_complex():  # each real part of view_as_real(p) starts at the value
            value = complex(value, value)
        state["sum"] = full_like(p, value)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr = group["lr"]
        lr_decay = group["lr_decay"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        self._refuse_sparse_with(
            weight_decay,
            params,
            "weight_decay option is not compatible with sparse gradients",
        )
        xp = params[0]._backend.xp
        for p in params:
            state = self.state[p]
            if len(state) == 0:  # a parameter added with add_param_group
                self._init_state(state, p, group)
            param, grad = self._real_arrays(p, group["maximize"])
            state_sum = as_real(state["sum"]._array)
            step = self._increment_step(state)

            if weight_decay != 0:
                grad = grad + weight_decay * param
            clr = lr / (1 + (step - 1) * lr_decay)
            state_sum += grad * grad
            std = xp.sqrt(state_sum) + eps
            param += -clr * grad / std
            self._written(p)
