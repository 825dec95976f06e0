"""Rprop: resilient backpropagation, steps sized by the gradient's sign history only."""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops.creation import full_like, tensor, zeros_like
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    as_real,
    check_nonnegative,
    implementation_options,
)


class Rprop(Optimizer):
    """PyTorch's Rprop, step for step: where g agrees in sign with the previous gradient the
    per-element step size grows by etas[1], where it flips it shrinks by etas[0] (and that
    element's gradient counts as 0, this step and as the next one's previous), else it stays;
    sizes are clamped to step_sizes, and p <- p - sign(g) * size. `foreach` and `capturable`
    are accepted and change nothing.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the initial step size of every element.
        etas (tuple[float, float]): the factors (decrease, increase) applied to an
            element's step size when its gradient changes sign or keeps it.
        step_sizes (tuple[float, float]): the smallest and largest step size allowed.
        capturable (bool): PyTorch's CUDA-graph-safe form; accepted and stored.
        foreach (bool, optional): PyTorch's choice of its multi-tensor kernels; accepted
            and stored in the param groups (chainrule has one implementation, the same numbers).
        maximize (bool): ascend the objective instead of descending.
        differentiable (bool): autograd through the step itself; True raises
            NotImplementedError rather than stepping without a graph.

    Example:
        >>> import chainrule
        >>> w = chainrule.tensor([1.0, -1.0], requires_grad=True)
        >>> optimizer = chainrule.optim.Rprop([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> optimizer.step()
        >>> w
        tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    complex_params = True  # stepped through view_as_real, as PyTorch

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        options = implementation_options(
            ("foreach", "differentiable", "capturable"),
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        defaults = {  # in PyTorch's order: state dicts and printed groups read alike
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
            "foreach": options["foreach"],
            "maximize": maximize,
            "differentiable": options["differentiable"],
            "capturable": options["capturable"],
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        xp = params[0]._backend.xp
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = tensor(0.0, dtype=dtypes.float32)
                state["prev"] = zeros_like(p)
                # a complex parameter is two real ones: each part starts at lr, as PyTorch's
                lr = group["lr"]
                state["step_size"] = full_like(p, complex(lr, lr) if p.is_complex() else lr)
            param, grad = self._real_arrays(p, group["maximize"])
            prev = as_real(state["prev"]._array)
            step_size = as_real(state["step_size"]._array)
            self._increment_step(state)
            agreement = xp.sign(grad * prev)
            factor = xp.where(agreement > 0, etaplus, xp.where(agreement < 0, etaminus, 1.0))
            step_size *= factor.astype(step_size.dtype)
            xp.clip(step_size, step_size_min, step_size_max, out=step_size)
            grad = xp.where(agreement < 0, 0, grad)
            param -= xp.sign(grad) * step_size
            prev[...] = grad
            self._written(p)
