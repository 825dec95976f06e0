"""SGD: stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import Array
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_nonnegative,
    implementation_options,
    update_in_blocks,
)


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay;
    PyTorch's SGD, step for step.

    With g the gradient (negated when maximizing) plus `weight_decay * p`, the momentum buffer is
    b <- g on the first step and b <- momentum * b + (1 - dampening) * g after; the step
    direction is b (or g + momentum * b with nesterov), and p <- p - lr * direction.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate.
        momentum (float): the momentum factor (0: plain gradient descent).
        dampening (float): how much of the new gradient the momentum buffer lets in.
        weight_decay (float): L2 penalty factor added to the gradient.
        nesterov (bool): Nesterov momentum (needs momentum > 0 and dampening 0).
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
        >>> optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> loss = model(chainrule.randn(8, 3)).pow(2).mean()
        >>> optimizer.zero_grad()
        >>> loss.backward()
        >>> optimizer.step()
    """

    complex_params = True  # every step is linear in the gradient
    sparse_gradients = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_nonnegative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            **implementation_options(
                ("foreach", "differentiable", "fused"),
                foreach=foreach,
                differentiable=differentiable,
                fused=fused,
            ),
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr = group["lr"]
        momentum = group["momentum"]
        weight_decay = group["weight_decay"]
        self._refuse_sparse_with(
            weight_decay,
            params,
            "add(sparse, dense) is not supported. Use add(dense, sparse) instead.",
        )
        if momentum == 0:
            rule = _sgd_update(lr, weight_decay)
        else:  # the first step's buffer is the gradient itself, as PyTorch
            options = (lr, weight_decay, momentum, group["dampening"], group["nesterov"])
            first_rule, rule = (
                _sgd_momentum_update(*options, True),
                _sgd_momentum_update(*options, False),
            )
        for p in params:
            param, grad = self._arrays(p, group["maximize"])
            if momentum == 0:
                update_in_blocks(p, rule, param, grad)
            else:
                state = self.state[p]
                first = state.get("momentum_buffer") is None
                if first:
                    empty = p._backend.xp.empty_like(param)
                    state["momentum_buffer"] = self._state_tensor(empty, p)
                buffer = state["momentum_buffer"]._array
                update_in_blocks(p, first_rule if first else rule, param, grad, buffer)
            self._written(p)


def _sgd_update(lr: float, weight_decay: float) -> Callable[..., None]:
    """Plain SGD's step on a block of the parameter and its gradient."""

    def update(param: Array, grad: Array) -> None:
        if weight_decay != 0:
            grad = grad + weight_decay * param
        param -= lr * grad

    return update


def _sgd_momentum_update(
    lr: float, weight_decay: float, momentum: float, dampening: float, nesterov: bool, first: bool
) -> Callable[..., None]:
    """SGD with momentum's step on a block of the parameter, its gradient and its buffer."""

    def update(param: Array, grad: Array, buffer: Array) -> None:
        if weight_decay != 0:
            grad = grad + weight_decay * param
        if first:
            buffer[...] = grad
        else:
            buffer *= momentum
            buffer += (1 - dampening) * grad
        param -= lr * (grad + momentum * buffer if nesterov else buffer)

    return update
