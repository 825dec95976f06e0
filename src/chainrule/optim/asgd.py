"""ASGD: averaged stochastic gradient descent (Polyak and Juditsky, 1992)."""

from __future__ import annotations

import struct
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


def _float32(value: float) -> float:
    """`value` rounded to the nearest float32."""
    return struct.unpack("f", struct.pack("f", value))[0]


class ASGD(Optimizer):
    """PyTorch's ASGD, step for step: p <- p (1 - lambd eta) - eta g, and the average
    ax <- ax + mu (p - ax) (a copy of p while mu is 1); then eta <- lr / (1 + lambd lr t)**alpha
    and mu <- 1 / max(1, t - t0). eta and mu are float32 state tensors, as PyTorch's.
    `foreach` and `capturable` are accepted and change nothing.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate.
        lambd (float): the decay term of the step size.
        alpha (float): the power of that decay, eta = lr / (1 + lambd lr t)**alpha.
        t0 (float): the step at which averaging starts.
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
        >>> optimizer = chainrule.optim.ASGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> optimizer.step()
        >>> w
        tensor([ 0.8000, -0.8000], requires_grad=True)
    """

    complex_params = True  # stepped through view_as_real, as PyTorch

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr, weight_decay=weight_decay)
        options = implementation_options(
            ("foreach", "differentiable", "capturable"),
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        defaults = {  # in PyTorch's order: state dicts and printed groups read alike
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "foreach": options["foreach"],
            "maximize": maximize,
            "differentiable": options["differentiable"],
            "capturable": options["capturable"],
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        lr = group["lr"]
        lambd = group["lambd"]
        alpha = group["alpha"]
        t0 = group["t0"]
        weight_decay = group["weight_decay"]
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = tensor(0.0, dtype=dtypes.float32)
                state["eta"] = tensor(float(lr), dtype=dtypes.float32)
                state["mu"] = tensor(1.0, dtype=dtypes.float32)
                state["ax"] = zeros_like(p)
            param, grad = self._real_arrays(p, group["maximize"])
            eta, mu, ax = state["eta"]._array, state["mu"]._array, as_real(state["ax"]._array)
            step = self._increment_step(state)
            if weight_decay != 0:
                grad = grad + weight_decay * param
            eta_value = float(eta)
            param *= 1 - lambd * eta_value
            param += -eta_value * grad
            mu_value = float(mu)
            if mu_value != 1:
                ax += (param - ax) * mu_value
            else:
                ax[...] = param
            # rounded to float32 even where eta and mu are float64 (loaded beside a float64
            # parameter): PyTorch makes each new value with torch.as_tensor of a Python float
            # (of a float64 lr Tensor's value, eta keeps float64)
            new_eta = lr / ((1 + lambd * lr * step) ** alpha)
            exact_eta = group.get("lr_dtype") is dtypes.float64
            eta[...] = new_eta if exact_eta else _float32(new_eta)
            mu[...] = _float32(1 / max(1, step - t0))
            self._written(p)
