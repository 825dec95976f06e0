# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Normalization: Standardize ((x - mean) * rstd over some axes, the core of batch, layer,
group and instance norm, returning rstd as PyTorch's native_layer_norm), the *_norm functions
that choose its axes and apply the affine parameters, and rms_norm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.errors import ShapeError
from chainrule.ops.elementwise import rsqrt
from chainrule.ops.nn_common import check_floating, check_vector
from chainrule.ops.op import Op, apply
from chainrule.ops.reduction import mean
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import reshape


class Standardize(Op):
    """(x - mean) * rstd over `axes`, rstd = 1 / sqrt(var + eps) with the biased variance: the
    core of batch, layer, group and instance norm. Returns (out, rstd), as PyTorch's
    native_layer_norm returns its rstd, so the backward reads rstd as a saved output instead of
    recomputing it (6 ops fewer per norm, and exact to every order, since an output is part of
    the graph). out's Jacobian rstd (I - 1/n - out out^T / n) is symmetric, so its vjp and jvp
    are one formula, rstd * (g - mean(g) - out * mean(g * out)); rstd's derivative is
    -rstd^2 out / n."""

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple, eps: float) -> tuple:
        ctx.save(axes=axes, eps=eps)
        centered = x - x.mean(axis=axes, keepdims=True)
        variance = (centered * centered).mean(axis=axes, keepdims=True)
        rstd = 1 / ctx.xp.sqrt(variance + eps)
        out = centered * rstd
        ctx.save(out=out, rstd=rstd)
        return out, rstd.astype(x.dtype, copy=False)

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """rstd is rarely used: no zeros and no extra term for it then."""
        g, g_rstd = grads
        if g is None:
            shape, dtype = ctx.output_meta[0]
            g = Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy))
        return [g, g_rstd]

    @staticmethod
    def vjp(ctx: Node, g: Any, g_rstd: Any = None) -> tuple:
        grad = Standardize._normalized_tangent(ctx, g)
        if g_rstd is not None:
            grad = grad + Standardize._rstd_tangent_adjoint(ctx, g_rstd)
        return (grad,)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> tuple:
        out, rstd, axes = ctx.out, ctx.rstd, ctx.axes
        t_rstd = -(rstd * rstd) * mean(out * t, axes, keepdim=True)
        return Standardize._normalized_tangent(ctx, t), t_rstd

    @staticmethod
    def _normalized_tangent(ctx: Node, t: Any) -> Any:
        out, axes = ctx.out, ctx.axes
        centered = t - mean(t, axes, keepdim=True) - out * mean(t * out, axes, keepdim=True)
        return ctx.rstd * centered

    @staticmethod
    def _rstd_tangent_adjoint(ctx: Node, g_rstd: Any) -> Any:
        out, rstd = ctx.out, ctx.rstd
        count = math.prod(out.shape[axis] for axis in ctx.axes)
        return (g_rstd * rstd * rstd) * out * (-1.0 / count)

    @staticmethod
    def batch(b: Any, x: Any, axes: tuple, eps: float) -> Any:
        """vmap: the axes one further right."""
        return apply(Standardize, (x,), tuple(axis + 1 for axis in axes), eps)


def _affine(out: Any, weight: Any, bias: Any, shape: tuple) -> Any:
    if weight is not None:
        out = out * reshape(weight, shape)
    if bias is not None:
        out = out + reshape(bias, shape)
    return out


def _normalize_with(
    input: Any, running_mean: Any, running_var: Any, eps: float, shape: tuple
) -> Any:
    """(x - running_mean) / sqrt(running_var + eps), the statistics constants of shape `shape`."""
    center = reshape(running_mean.detach(), shape)
    return (input - center) * reshape(rsqrt(running_var.detach() + eps), shape)


def _update_running_stats(
    x: Any, running_mean: Any, running_var: Any, momentum: float, axes: tuple
) -> None:
    """running = (1 - momentum) running + momentum * statistic, in place as PyTorch, with the
    unbiased variance for the running estimate. The statistics are taken over `axes`; what is
    left besides the channel (instance norm's samples) is averaged."""
    with no_grad():
        data = x.detach()
        count = math.prod(data.shape[a] for a in axes)
        centered = data - mean(data, axes, keepdim=True)
        batch_mean = mean(data, axes)
        batch_var = reduce_sum(centered * centered, axes) / max(count - 1, 1)
        if batch_mean.ndim > 1:  # (N, C) per-instance statistics
            batch_mean, batch_var = mean(batch_mean, 0), mean(batch_var, 0)
        if running_mean is not None:
            running_mean.copy_(running_mean * (1 - momentum) + batch_mean * momentum)
        if running_var is not None:
            running_var.copy_(running_var * (1 - momentum) + batch_var * momentum)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) to zero mean and unit variance, then scale by `weight` and
    shift by `bias`. Training uses the batch's statistics (over every dimension but 1) and
    updates `running_mean` and `running_var` in place by
    running = (1 - momentum) * running + momentum * batch; evaluation uses the running ones.

    Args:
        input (Tensor): floating point (N, C) or (N, C, *).
        running_mean (Tensor or None): (C,); required when not training.
        running_var (Tensor or None): (C,); required when not training.
        weight (Tensor, optional): (C,) scale.
        bias (Tensor, optional): (C,) shift.
        training (bool): use (and update) batch statistics.
        momentum (float): the weight of the batch statistics in the running update.
        eps (float): added to the variance before the square root.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> mean, var = chainrule.zeros(1), chainrule.ones(1)
        >>> F.batch_norm(chainrule.tensor([[1.0], [3.0]]), mean, var, training=True)
        tensor([[-1.0000],
                [ 1.0000]])
        >>> mean, var
        (tensor([0.2000]), tensor([1.1000]))
    """
    if input.ndim < 2:
        raise ShapeError(
            f"batch_norm: expected input with at least 2 dimensions, got shape {tuple(input.shape)}"
        )
    check_floating("batch_norm", input=input)
    channels = input.shape[1]
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        check_vector("batch_norm", name, tensor, (channels,))
    axes = (0, *range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise ShapeError(
                f"batch_norm: expected more than 1 value per channel when training, got input of "
                f"shape {tuple(input.shape)}"
            )
        out = apply(Standardize, (input,), axes, eps)[0]
        if running_mean is not None or running_var is not None:
            _update_running_stats(input, running_mean, running_var, momentum, axes)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var must be given when not training"
            )
        out = _normalize_with(input, running_mean, running_var, eps, shape)
    return _affine(out, weight, bias, shape)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each (sample, channel) plane over its spatial dimensions, then scale and shift per
    channel. Running statistics, when given, track the batch average of the per-instance
    statistics; `use_input_stats=False` normalizes by them instead.

    Args:
        input (Tensor): floating point (N, C, *spatial), at least 3-D.
        running_mean (Tensor, optional): (C,), updated in place.
        running_var (Tensor, optional): (C,), updated in place.
        weight (Tensor, optional): (C,) scale.
        bias (Tensor, optional): (C,) shift.
        use_input_stats (bool): normalize by each instance's own statistics.
        momentum (float): the weight of the new statistics in the running update.
        eps (float): added to the variance before the square root.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.instance_norm(chainrule.tensor([[[1.0, 3.0], [5.0, 5.0]]]))
        tensor([[[-1.0000,  1.0000],
                 [ 0.0000,  0.0000]]])
    """
    if input.ndim < 3:
        raise ShapeError(
            "instance_norm: expected input with at least 3 dimensions, got shape "
            f"{tuple(input.shape)}"
        )
    check_floating("instance_norm", input=input)
    channels = input.shape[1]
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        check_vector("instance_norm", name, tensor, (channels,))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if use_input_stats:
        spatial = tuple(range(2, input.ndim))
        out = apply(Standardize, (input,), spatial, eps)[0]
        if running_mean is not None or running_var is not None:
            _update_running_stats(input, running_mean, running_var, momentum, spatial)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: running_mean and running_var must be given when "
                "use_input_stats=False"
            )
        out = _normalize_with(input, running_mean, running_var, eps, shape)
    return _affine(out, weight, bias, shape)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last len(normalized_shape) dimensions (each sample on its own, the same in
    training and evaluation), then scale and shift elementwise by weight and bias.

    Args:
        input (Tensor): floating point (*, *normalized_shape).
        normalized_shape (int or sequence of ints): the trailing shape that is normalized.
        weight (Tensor, optional): of `normalized_shape`, the scale.
        bias (Tensor, optional): of `normalized_shape`, the shift.
        eps (float): added to the variance (the biased one) before the square root.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.layer_norm(chainrule.tensor([[1.0, 2.0, 3.0]]), (3,))
        tensor([[-1.2247,  0.0000,  1.2247]])
    """
    normalized = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    check_floating("layer_norm", input=input)
    count = len(normalized)
    if count == 0 or input.ndim < count or tuple(input.shape[input.ndim - count :]) != normalized:
        raise ShapeError(
            f"layer_norm: given normalized_shape={list(normalized)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized))}], but got input of shape {tuple(input.shape)}"
        )
    check_vector("layer_norm", "weight", weight, normalized)
    check_vector("layer_norm", "bias", bias, normalized)
    axes = tuple(range(input.ndim - count, input.ndim))
    out = apply(Standardize, (input,), axes, eps)[0]
    return _affine(out, weight, bias, normalized)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each group of channels of each sample together (C / num_groups channels and all
    their spatial positions), then scale and shift per channel.

    Args:
        input (Tensor): floating point (N, C, *).
        num_groups (int): divides C.
        weight (Tensor, optional): (C,) scale.
        bias (Tensor, optional): (C,) shift.
        eps (float): added to the variance before the square root.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.group_norm(chainrule.tensor([[1.0, 3.0, 10.0, 10.0]]), num_groups=2)
        tensor([[-1.0000,  1.0000,  0.0000,  0.0000]])
    """
    if input.ndim < 2:
        raise ShapeError(
            f"group_norm: expected input with at least 2 dimensions, got shape {tuple(input.shape)}"
        )
    check_floating("group_norm", input=input)
    batch, channels = input.shape[:2]
    if num_groups < 1 or channels % num_groups:
        raise ShapeError(
            f"group_norm: expected number of channels in input to be divisible by num_groups, "
            f"but got input of shape {tuple(input.shape)} and num_groups={num_groups}"
        )
    check_vector("group_norm", "weight", weight, (channels,))
    check_vector("group_norm", "bias", bias, (channels,))
    grouped = reshape(input, (batch, num_groups, -1))
    out = reshape(apply(Standardize, (grouped,), (2,), eps)[0], tuple(input.shape))
    return _affine(out, weight, bias, (1, channels) + (1,) * (input.ndim - 2))


def rms_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """x / sqrt(mean(x**2) + eps) over the last len(normalized_shape) dimensions, times weight
    (no mean is subtracted and there is no bias).

    Args:
        input (Tensor): floating point (*, *normalized_shape).
        normalized_shape (int or sequence of ints): the trailing shape that is normalized.
        weight (Tensor, optional): of `normalized_shape`, the scale.
        eps (float, optional): default the dtype's machine epsilon, as PyTorch.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.rms_norm(chainrule.tensor([[3.0, 4.0]]), (2,))
        tensor([[0.8485, 1.1314]])
    """
    normalized = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    count = len(normalized)
    if count == 0 or input.ndim < count or tuple(input.shape[input.ndim - count :]) != normalized:
        raise ShapeError(
            f"rms_norm: given normalized_shape={list(normalized)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized))}], but got input of shape {tuple(input.shape)}"
        )
    check_vector("rms_norm", "weight", weight, normalized)
    if eps is None:
        eps = dtypes.finfo(input.dtype).eps
    axes = tuple(range(input.ndim - count, input.ndim))
    out = input * rsqrt(mean(input * input, axes, keepdim=True) + eps)
    return out if weight is None else out * weight
