"""Gradient clipping, PyTorch's `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.errors import GradError
from chainrule.ops import creation
from chainrule.ops.elementwise import clamp
from chainrule.ops.reduction import vector_norm
from chainrule.ops.shape import stack


def _tensors(tensors: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


@no_grad()
def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The norm of all `tensors` together, as if concatenated into one vector.

    Args:
        tensors (Tensor or iterable of Tensors): typically the gradients.
        norm_type (float): the order of the norm (inf for the largest absolute value).
        error_if_nonfinite (bool): raise GradError when the norm is nan or inf.
        foreach (bool, optional): accepted for PyTorch's signature.

    Returns:
        Tensor: 0-d, the norm.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils import get_total_norm
        >>> get_total_norm([chainrule.tensor([3.0]), chainrule.tensor([4.0])])
        tensor(5.)
    """
    tensors = _tensors(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return creation.tensor(0.0)
    # PyTorch takes the norms grouped by device and dtype (in order of first appearance) and
    # stacks them, so gradients of several dtypes give the promoted one (float32 and float64:
    # a float64 total)
    groups: dict[tuple, list[Tensor]] = {}
    for t in tensors:
        groups.setdefault((str(t.device), t.dtype), []).append(t)
    norms = [vector_norm(t, norm_type) for group in groups.values() for t in group]
    total = vector_norm(stack(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise GradError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return total


@no_grad()
def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: Tensor,
    foreach: bool | None = None,
) -> None:
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place.

    Args:
        parameters (Tensor or iterable of Tensors): whose gradients are scaled.
        max_norm (float): the largest total norm allowed.
        total_norm (Tensor): the total norm, as `get_total_norm` computes it.
        foreach (bool, optional): accepted for PyTorch's signature.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils import clip_grads_with_norm_, get_total_norm
        >>> w = chainrule.tensor([3.0, 4.0], requires_grad=True)
        >>> w.backward(chainrule.tensor([3.0, 4.0]))
        >>> clip_grads_with_norm_([w], 1.0, get_total_norm([w.grad]))
        >>> w.grad
        tensor([0.6000, 0.8000])
    """
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return
    coefficient = clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
    for grad in grads:
        grad.mul_(coefficient.to(grad.dtype))


@no_grad()
def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale the gradients so that their total `norm_type`-norm is at most `max_norm`;
    returns the total norm before clipping.

    Args:
        parameters (Tensor or iterable of Tensors): whose gradients are rescaled.
        max_norm (float): the largest total norm allowed.
        norm_type (float): the order of the norm (inf for the largest absolute value).
        error_if_nonfinite (bool): raise GradError when the total norm is nan or inf.
        foreach (bool, optional): accepted for PyTorch's signature.

    Returns:
        Tensor: the total norm before clipping.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils import clip_grad_norm_
        >>> w = chainrule.tensor([3.0, 4.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> clip_grad_norm_([w], max_norm=1.0)
        tensor(10.)
        >>> round(float(w.grad.norm()), 4)
        1.0
    """
    parameters = _tensors(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


@no_grad()
def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient into [-clip_value, clip_value], in place.

    Args:
        parameters (Tensor or iterable of Tensors): whose gradients are clamped.
        clip_value (float): the largest absolute value a gradient element keeps.
        foreach (bool, optional): accepted for PyTorch's signature.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils import clip_grad_value_
        >>> w = chainrule.tensor([1.0, -3.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> clip_grad_value_([w], clip_value=1.0)
        >>> w.grad
        tensor([ 1., -1.])
    """
    clip_value = float(clip_value)
    for param in _tensors(parameters):
        if param.grad is not None:
            param.grad.clamp_(-clip_value, clip_value)


def clip_grad_norm(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Deprecated alias of clip_grad_norm_ (with PyTorch's FutureWarning).

    Args:
        parameters (Tensor or iterable of Tensors): whose gradients are rescaled.
        max_norm (float): the largest total norm allowed.
        norm_type (float): the order of the norm (inf for the largest absolute value).
        error_if_nonfinite (bool): raise GradError when the total norm is nan or inf.
        foreach (bool, optional): accepted for PyTorch's signature.

    Returns:
        Tensor: the total norm before clipping.

    Example:
        >>> import warnings
        >>> import chainrule
        >>> from chainrule.nn.utils import clip_grad_norm
        >>> w = chainrule.tensor([3.0, 4.0], requires_grad=True)
        >>> w.sum().backward()
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     clip_grad_norm([w], max_norm=1.0)
        tensor(1.4142)
    """

    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
