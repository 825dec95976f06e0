"""torch.nn._functions: the autograd Functions behind legacy modules, named as PyTorch's so
their nodes print as its do (CrossMapLRN2dBackward)."""

from __future__ import annotations

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.autograd.function import Function, FunctionCtx
from chainrule.ops.shape import stack

__all__ = ["CrossMapLRN2d"]


class CrossMapLRN2d(Function):
    """The legacy (Lua Torch) cross-channel LRN: PyTorch keeps its forward recurrence and its
    hand-written backward, so both are reproduced here as they are. The forward's running
    window adds channel c + pre - 1 and drops channel c - pre only once c > pre (channel 0
    is never dropped); the backward sums g * out / scale over channels c - pre .. c + size -
    1 - pre, with pre = int(size - (size - 1) / 2), which is not the forward's exact
    derivative either: PyTorch's numbers, not the textbook's."""

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        input: Tensor,  # noqa: A002 - PyTorch's name
        size: int,
        alpha: float,
        beta: float,
        k: float,
    ) -> Tensor:
        channels = input.shape[1]
        squares = input * input
        pre_pad = int((size - 1) / 2 + 1)
        first = squares[:, : min(pre_pad, channels)].sum(1)
        running = [first]
        for c in range(1, channels):
            current = running[-1]
            if c < channels - pre_pad + 1:
                current = current + squares[:, c + pre_pad - 1]
            if c > pre_pad:
                current = current - squares[:, c - pre_pad]
            running.append(current)
        scale = stack(running, 1) * (alpha / size) + k
        output = scale.pow(-beta) * input
        ctx.save_for_backward(input, output, scale)
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        return output

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> tuple:
        input, output, scale = ctx.saved_tensors  # noqa: A001
        size = ctx.size
        before = int(size - (size - 1) / 2)
        channels = input.shape[1]
        if before + channels > channels + size - 1:  # size 1: PyTorch's narrow fails so
            raise RuntimeError(
                f"start ({before}) + length ({channels}) exceeds dimension size "
                f"({channels + size - 1})."
            )
        ratio = grad_output * output / scale
        padded = F.pad(ratio, (0, 0, 0, 0, before, size - 1 - before))
        window = padded.unfold(1, size, 1).sum(-1)
        factor = 2 * ctx.alpha * ctx.beta / size
        grad_input = scale.pow(-ctx.beta) * grad_output - factor * input * window
        return grad_input, None, None, None, None
