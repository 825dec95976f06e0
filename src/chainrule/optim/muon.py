"""Muon (Jordan et al., 2024): momentum SGD for the 2-D weights of hidden layers, each update
orthogonalized by a few Newton-Schulz iterations run in bfloat16."""

from __future__ import annotations

import math
from typing import Any

from chainrule._tensor import Tensor
from chainrule.ops.creation import zeros_like
from chainrule.ops.linalg import addmm
from chainrule.optim.optimizer import Optimizer, ParamsT, lerp_

_ADJUSTMENTS = (None, "original", "match_rms_adamw")


def zeropower_via_newtonschulz(
    grad: Tensor, ns_coefficients: tuple[float, float, float], ns_steps: int, eps: float
) -> Tensor:
    """An approximate orthogonalization U S' V^T of a matrix U S V^T (S' near 1), by `ns_steps`
    quintic Newton-Schulz iterations in bfloat16, as PyTorch's Muon: each product (and addmm)
    is computed in float32 and rounded to bfloat16 once, as PyTorch's bfloat16 kernels do."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    ortho = _bfloat16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        ortho = ortho.T
    ortho = _bfloat16(ortho / _bfloat16(ortho.norm()).clamp(min=eps))
    for _ in range(ns_steps):
        gram = _bfloat16(ortho @ ortho.T)
        gram_update = _bfloat16(addmm(gram, gram, gram, beta=b, alpha=c))
        ortho = _bfloat16(addmm(ortho, gram_update, ortho, beta=a))
    return (ortho.T if tall else ortho).bfloat16()


def _bfloat16(x: Tensor) -> Tensor:
    """x rounded to bfloat16, kept in float32 for the next product."""
    return x.bfloat16().float()


def _adjusted_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    rows, columns = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / columns))
    return lr * 0.2 * math.sqrt(max(rows, columns))


class Muon(Optimizer):
    """PyTorch's Muon, step for step: B <- lerp(B, g, 1 - momentum), the update
    lerp(g, B, momentum) (Nesterov) or B, orthogonalized by Newton-Schulz in bfloat16; then
    p <- p (1 - lr * weight_decay) - lr' * update, where lr' scales lr by
    sqrt(max(1, rows / columns)) ('original') or 0.2 sqrt(max(rows, columns))
    ('match_rms_adamw'). For 2-D parameters only: biases and embeddings belong to another
    optimizer, such as AdamW.

    Args:
        params (iterable): the 2-D tensors to optimise, or dicts of parameter groups, each
            with its own options (`[{"params": ..., "lr": ...}]`).
        lr (float): the learning rate.
        weight_decay (float): decoupled weight decay.
        momentum (float): the momentum factor.
        nesterov (bool): use Nesterov momentum.
        ns_coefficients (tuple[float, float, float]): the quintic iteration's coefficients.
        eps (float): the floor of the update's norm before the iterations.
        ns_steps (int): the number of Newton-Schulz iterations (< 100).
        adjust_lr_fn (str, optional): 'original' (the default) or 'match_rms_adamw'.

    Example:
        >>> import chainrule
        >>> w = chainrule.eye(2, requires_grad=True)
        >>> optimizer = chainrule.optim.Muon([w], lr=0.1, weight_decay=0.0)
        >>> (w * chainrule.tensor([[2.0, 0.0], [0.0, 1.0]])).sum().backward()
        >>> optimizer.step()
        >>> w.detach().diagonal().round(decimals=1)
        tensor([0.9000, 0.9000])
    """

    # complex parameters are taken, and refused at the step, as PyTorch's
    complex_params = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str | None = None,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn not in _ADJUSTMENTS:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": ns_coefficients,
            "eps": eps,
            "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with "
                        f"size: {p.size()}"
                    )

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        if any(p.is_complex() for p in params):
            raise RuntimeError("Muon does not support complex parameters")
        lr, momentum = group["lr"], group["momentum"]
        for p in params:
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = zeros_like(p.grad)
            grad = p.grad
            buffer = state["momentum_buffer"]
            lerp_(buffer._array, grad._array, 1 - momentum)
            update = grad.lerp(buffer, momentum) if group["nesterov"] else buffer
            update = zeropower_via_newtonschulz(
                update, group["ns_coefficients"], group["ns_steps"], group["eps"]
            )
            step = _adjusted_lr(lr, group["adjust_lr_fn"], tuple(p.shape))
            param = p._array
            param *= 1 - lr * group["weight_decay"]
            param -= step * update._array.astype(param.dtype)
            self._written(p)
