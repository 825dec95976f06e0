"""Helpers shared by the distributions, as torch.distributions.utils."""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops import elementwise, reduction
from chainrule.ops.creation import tensor
from chainrule.ops.shape import broadcast_tensors

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
]


def broadcast_all(*values: Any) -> tuple:
    """The values as Tensors broadcast to one shape; numbers take the dtype and device of the
    Tensors among them (the default dtype, on the CPU, when there are none)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None and not all(isinstance(v, (int, float)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, Tensor.")
    dtype = like.dtype if like is not None else dtypes.get_default_dtype()
    device = like.device if like is not None else None
    tensors = [
        v if isinstance(v, Tensor) else tensor(v, dtype=dtype, device=device) for v in values
    ]
    return broadcast_tensors(*tensors)


def clamp_probs(probs: Tensor) -> Tensor:
    """probs clamped to [eps, 1 - eps], so their logarithms are finite."""
    eps = dtypes.finfo(probs.dtype).eps
    return elementwise.clamp(probs, min=eps, max=1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: the sigmoid when binary, else the softmax of the last dim."""
    if is_binary:
        return elementwise.sigmoid(logits)
    return reduction.softmax(logits, -1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (clamped away from 0 and 1 first): log(p) - log(1 - p) when
    binary, else log(p) (unnormalised logits, as PyTorch)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return elementwise.log(clamped) - elementwise.log1p(-clamped)
    return elementwise.log(clamped)


class lazy_property:  # noqa: N801 - PyTorch's name
    """A property computed on first access and then stored on the instance (probs from
    logits, scale_tril from a covariance)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
