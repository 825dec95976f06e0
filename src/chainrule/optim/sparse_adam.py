"""SparseAdam: Adam for sparse gradients (an Embedding's with sparse=True), moving only the rows
a step's gradient holds ("lazy" Adam)."""

from __future__ import annotations

import math
from typing import Any

from chainrule._tensor import Tensor
from chainrule.optim.optimizer import Optimizer, ParamsT


class SparseAdam(Optimizer):
    """PyTorch's SparseAdam, step for step: Adam's update applied only to the entries a sparse
    gradient holds. Their moments decay and their bias corrections use the parameter's step
    count; entries the gradient leaves out keep their moments and values, so a large embedding
    whose batches touch few rows costs only those rows.

    With g the coalesced gradient's values at its rows (repeated rows summed) and m, v the
    moments there: m += (1 - beta1) (g - m), v += (1 - beta2) (g^2 - v), and the rows move by
    -lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps).

    Args:
        params (iterable): the parameters (or parameter groups) whose gradients are sparse.
        lr (float): the learning rate (default 1e-3).
        betas (tuple of float): the moments' decay rates (default (0.9, 0.999)).
        eps (float): added to the denominator (default 1e-8).
        maximize (bool): ascend the objective instead of descending.

    Example:
        >>> import chainrule
        >>> from chainrule import nn, optim
        >>> embedding = nn.Embedding(10, 3, sparse=True)
        >>> optimizer = optim.SparseAdam(embedding.parameters(), lr=0.1)
        >>> embedding(chainrule.tensor([1, 4])).sum().backward()
        >>> optimizer.step()
    """

    sparse_gradients = True
    tensor_steps = False  # `step` is a Python int, as PyTorch's

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        for label, value in (("learning rate", lr), ("epsilon value", eps)):
            if not 0.0 < value:  # both strictly positive, unlike the other optimizers'
                raise ValueError(f"Invalid {label}: {value}")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        positions = [
            (p, [group_index, index])
            for group_index, group in enumerate(self.param_groups)
            for index, p in enumerate(group["params"])
        ]
        sparse = [position for p, position in positions if p.is_sparse]
        if sparse:
            raise ValueError(
                f"Sparse params at indices {sparse}: SparseAdam requires dense parameter tensors"
            )
        complex_ = [position for p, position in positions if p.is_complex()]
        if complex_:
            raise ValueError(
                f"Complex params at indices {complex_}: SparseAdam does not support complex "
                "parameters"
            )

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        beta1, beta2 = group["betas"]
        for p in params:
            if not p.grad.is_sparse:
                raise RuntimeError(
                    "SparseAdam does not support dense gradients, please consider Adam instead"
                )
        for p in params:
            state = self.state[p]
            if not state:
                xp = p._backend.xp
                state["step"] = 0
                state["exp_avg"] = self._state_tensor(xp.zeros_like(p._array), p)
                state["exp_avg_sq"] = self._state_tensor(xp.zeros_like(p._array), p)
            state["step"] += 1
            grad = p.grad.coalesce()  # the update is not linear: each row once
            rows = grad._indices()._array[0]
            values = grad._values()._array
            if values.size == 0:
                continue
            if group["maximize"]:
                values = -values
            exp_avg, exp_avg_sq = state["exp_avg"]._array, state["exp_avg_sq"]._array
            old_avg, old_avg_sq = exp_avg[rows], exp_avg_sq[rows]
            avg = old_avg + (values - old_avg) * (1 - beta1)
            avg_sq = old_avg_sq + (values * values - old_avg_sq) * (1 - beta2)
            exp_avg[rows] = avg
            exp_avg_sq[rows] = avg_sq
            step = state["step"]
            step_size = group["lr"] * math.sqrt(1 - beta2**step) / (1 - beta1**step)
            param = p._array
            param[rows] = param[rows] - step_size * (
                avg / (p._backend.xp.sqrt(avg_sq) + group["eps"])
            )
            self._written(p)
