"""Folding a BatchNorm in eval mode into the convolution or linear layer before it, as
torch.nn.utils.fusion: at inference the normalisation is an affine map per channel, so it can
be applied to the layer's weight and bias once, leaving one layer to run instead of two."""

from __future__ import annotations

import copy

from chainrule._tensor import Tensor
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation
from chainrule.ops.elementwise import rsqrt


def _check_eval(layer: Module, norm: Module) -> None:
    if layer.training or norm.training:
        raise AssertionError("Fusion only for eval!")


def _check_statistics(norm: Module) -> None:
    if norm.running_mean is None or norm.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_eval(conv: Module, bn: Module, transpose: bool = False) -> Module:
    """A copy of `conv` whose weight and bias apply `bn` (both in eval mode) too.

    Args:
        conv (Module): a convolution (transposed with `transpose=True`).
        bn (Module): the BatchNorm after it, with running statistics.
        transpose (bool): `conv` is a transposed convolution (channels on dim 1 of weight).

    Returns:
        Module: the fused convolution.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> conv, bn = nn.Conv2d(2, 3, 3).eval(), nn.BatchNorm2d(3).eval()
        >>> fused = nn.utils.fuse_conv_bn_eval(conv, bn)
        >>> x = chainrule.randn(1, 2, 5, 5)
        >>> bool(chainrule.allclose(fused(x), bn(conv(x)), atol=1e-6))
        True
    """
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    _check_statistics(bn)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight,
        fused.bias,
        bn.running_mean,
        bn.running_var,
        bn.eps,
        bn.weight,
        bn.bias,
        transpose,
    )
    return fused


def fuse_conv_bn_weights(
    conv_w: Tensor,
    conv_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor | None,
    bn_b: Tensor | None,
    transpose: bool = False,
) -> tuple[Parameter, Parameter]:
    """The weight and bias of a convolution followed by a BatchNorm with these statistics and
    affine parameters: w * gamma / sqrt(var + eps) per output channel, and (b - mean) *
    gamma / sqrt(var + eps) + beta, in the convolution's dtypes.

    Args:
        conv_w (Tensor): the convolution's weight.
        conv_b (Tensor, optional): its bias (zeros if None).
        bn_rm (Tensor): the running mean.
        bn_rv (Tensor): the running variance.
        bn_eps (float): the BatchNorm's eps.
        bn_w (Tensor, optional): its weight (ones if None).
        bn_b (Tensor, optional): its bias (zeros if None).
        transpose (bool): the output channels are dim 1 of the weight.

    Returns:
        tuple of Parameter: the fused weight and bias.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> w, b = nn.utils.fuse_conv_bn_weights(
        ...     chainrule.ones(2, 1, 1, 1), None, chainrule.zeros(2), chainrule.ones(2), 0.0,
        ...     None, None)
        >>> w.flatten().tolist(), b.tolist()
        ([1.0, 1.0], [0.0, 0.0])
    """
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    conv_b = creation.zeros_like(bn_rm) if conv_b is None else conv_b
    bn_w = creation.ones_like(bn_rm) if bn_w is None else bn_w
    bn_b = creation.zeros_like(bn_rm) if bn_b is None else bn_b
    inverse_std = rsqrt(bn_rv + bn_eps)
    trailing = [1] * (len(conv_w.shape) - 2)
    shape = [1, -1, *trailing] if transpose else [-1, 1, *trailing]
    fused_w = (conv_w * (bn_w * inverse_std).reshape(shape)).to(dtype=weight_dtype)
    fused_b = ((conv_b - bn_rm) * inverse_std * bn_w + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w, conv_w.requires_grad), Parameter(fused_b, conv_b.requires_grad)


def fuse_linear_bn_eval(linear: Module, bn: Module) -> Module:
    """A copy of `linear` whose weight and bias apply `bn` (both in eval mode) too.

    Args:
        linear (Module): a Linear layer.
        bn (Module): the BatchNorm after it (its features equal to linear's outputs, or 1).

    Returns:
        Module: the fused Linear.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> linear, bn = nn.Linear(4, 3).eval(), nn.BatchNorm1d(3).eval()
        >>> x = chainrule.randn(2, 4)
        >>> fused = nn.utils.fuse_linear_bn_eval(linear, bn)
        >>> bool(chainrule.allclose(fused(x), bn(linear(x)), atol=1e-6))
        True
    """
    _check_eval(linear, bn)
    fused = copy.deepcopy(linear)
    # BatchNorm normalises dim 1; the fused bias is per output feature: the two must match,
    # or the BatchNorm must have one feature, which broadcasts.
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
            f"linear.out_features={linear.out_features} and bn.num_features={bn.num_features}"
        )
    _check_statistics(bn)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return fused


def fuse_linear_bn_weights(
    linear_w: Tensor,
    linear_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor,
    bn_b: Tensor,
) -> tuple[Parameter, Parameter]:
    """The weight and bias of a Linear layer followed by a BatchNorm with these statistics and
    affine parameters: w * gamma / sqrt(var + eps) per output row, (b - mean) * gamma /
    sqrt(var + eps) + beta.

    Args:
        linear_w (Tensor): the Linear's weight.
        linear_b (Tensor, optional): its bias (zeros if None).
        bn_rm (Tensor): the running mean.
        bn_rv (Tensor): the running variance.
        bn_eps (float): the BatchNorm's eps.
        bn_w (Tensor): its weight.
        bn_b (Tensor): its bias.

    Returns:
        tuple of Parameter: the fused weight and bias.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> w, b = nn.utils.fuse_linear_bn_weights(
        ...     chainrule.ones(2, 3), None, chainrule.zeros(2), chainrule.ones(2), 0.0,
        ...     chainrule.full((2,), 2.0), chainrule.ones(2))
        >>> w.tolist(), b.tolist()
        ([[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]], [1.0, 1.0])
    """
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    linear_b = creation.zeros_like(bn_rm) if linear_b is None else linear_b
    scale = bn_w * rsqrt(bn_rv + bn_eps)
    fused_w = linear_w * scale.unsqueeze(-1).to(dtype=weight_dtype)
    fused_b = ((linear_b - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, linear_b.requires_grad)
