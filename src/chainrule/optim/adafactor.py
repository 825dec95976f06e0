"""Adafactor (Shazeer and Stern, 2018): Adam's second moment stored as row and column
averages for matrices, so its memory grows with rows + columns rather than their product."""

from __future__ import annotations

import math
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops.creation import tensor
from chainrule.optim.optimizer import Optimizer, ParamsT, implementation_options, lerp_


class Adafactor(Optimizer):
    """PyTorch's Adafactor, step for step. At step t, with rho = min(lr, 1 / sqrt(t)) and
    alpha = max(eps2, RMS(p)) * rho: the second moment is averaged with weight
    t ** beta2_decay, as a row and a column factor for a matrix (their product over the mean
    row factor estimates it) or whole for a vector; the update g / sqrt(v) is clipped to RMS
    `d`, then p <- p (1 - lr * weight_decay) - alpha * update. Complex parameters are refused,
    as PyTorch's.

    Args:
        params (iterable): the tensors to optimise (`model.parameters()`), or dicts of
            parameter groups, each with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate (the relative step size's upper bound).
        beta2_decay (float): the exponent (<= 0) of the second moment's averaging weight.
        eps (tuple[float | None, float]): eps1, the floor of the second moment's square root
            (None: the dtype's machine epsilon), and eps2, the floor of a parameter's RMS.
        d (float): the clipping threshold (>= 1) of the update's RMS.
        weight_decay (float): decoupled weight decay, as AdamW's.
        foreach (bool, optional): PyTorch's choice of its multi-tensor kernels; accepted
            and stored in the param groups (chainrule has one implementation, the same numbers).
        maximize (bool): ascend the objective instead of descending.

    Example:
        >>> import chainrule
        >>> w = chainrule.ones(2, 2, requires_grad=True)
        >>> optimizer = chainrule.optim.Adafactor([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> optimizer.step()
        >>> w
        tensor([[0.9000, 0.9000],
                [0.9000, 0.9000]], requires_grad=True)
    """

    # complex parameters are taken, and refused at the step, as PyTorch's
    complex_params = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            **implementation_options(("foreach",), foreach=foreach),
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        if any(p.is_complex() for p in params):
            raise RuntimeError("Adafactor does not support complex parameters")
        lr = group["lr"]
        eps1, eps2 = group["eps"]
        xp = params[0]._backend.xp
        for p in params:
            state = self.state[p]
            param, grad = self._arrays(p, group["maximize"])
            if len(state) == 0:
                state["step"] = tensor(0.0, dtype=dtypes.float32)
                if grad.ndim > 1:
                    state["row_var"] = self._state_tensor(xp.zeros_like(grad[..., :1]), p)
                    state["col_var"] = self._state_tensor(xp.zeros_like(grad[..., :1, :]), p)
                else:
                    state["variance"] = self._state_tensor(xp.zeros_like(grad), p)
            floor = xp.finfo(param.dtype).eps if eps1 is None else eps1
            step = self._increment_step(state)
            weight = step ** group["beta2_decay"]
            rho = min(lr, 1 / math.sqrt(step))
            rms = float(xp.sqrt((param * param).sum())) / math.sqrt(param.size)
            alpha = max(eps2, rms) * rho
            if group["weight_decay"] != 0:
                param *= 1 - lr * group["weight_decay"]
            if grad.ndim > 1:
                row_var, col_var = state["row_var"]._array, state["col_var"]._array
                squares = grad * grad
                lerp_(row_var, squares.sum(axis=-1, keepdims=True) / grad.shape[-1], weight)
                lerp_(col_var, squares.sum(axis=-2, keepdims=True) / grad.shape[-2], weight)
                row_mean = xp.maximum(row_var.mean(axis=-2, keepdims=True), floor)
                estimate = (row_var @ col_var) / row_mean
            else:
                variance = state["variance"]._array
                lerp_(variance, grad * grad, weight)
                estimate = variance
            update = grad / xp.sqrt(xp.maximum(estimate, floor * floor))
            update_rms = float(xp.sqrt((update * update).sum())) / math.sqrt(update.size)
            param -= (alpha / max(1.0, update_rms / group["d"])) * update
            self._written(p)
