"""InstanceNorm1d/2d/3d: each sample's channels normalised over their own spatial positions."""

from __future__ import annotations

import warnings

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.errors import ShapeError
from chainrule.nn.modules.batchnorm import _NormBase


class _InstanceNorm(_NormBase):
    """PyTorch's defaults: affine=False, track_running_stats=False (so no parameters or
    buffers unless asked for)."""

    _no_batch_dim = 0
    _dims: tuple = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: object = None,
        dtype: object = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.dim() not in self._dims:
            expected = " or ".join(f"{d}D" for d in self._dims)
            raise ShapeError(f"expected {expected} input (got {input.dim()}D input)")

    def _apply_instance_norm(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        feature_dim = input.dim() - self._no_batch_dim
        if input.size(feature_dim) != self.num_features:
            if self.affine:
                raise ShapeError(
                    f"expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), but got: {input.size(feature_dim)}."
                )
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can "
                "silence this warning by not passing in num_features, which is not used "
                "because affine=False",
                stacklevel=2,
            )
        if input.dim() == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation: each channel of each sample normalised over its own 1-D extent.

    Every (n, c) slice of the input is shifted and scaled to zero mean and unit variance over its
    spatial positions (biased variance, eps added inside the square root), then, with affine, a
    learned per-channel affine map is applied. Used for style transfer, where each image's own
    contrast should be removed. Unlike BatchNorm, by default it has no parameters and keeps no
    running statistics, so it computes the statistics from each input in eval mode too.

    Args:
        num_features (int): C, the number of channels (only checked, and only needed, with
            affine or track_running_stats).
        eps (float): added to the variance for numerical stability (default: 1e-5).
        momentum (float): the weight of each new batch in the running statistics' moving
            average, with track_running_stats (default: 0.1).
        affine (bool): learn a per-channel weight (initially 1) and bias (initially 0)
            (default: False).
        track_running_stats (bool): keep running means and variances during training and use
            them in eval mode (default: False).
        device (str or device, optional): where the parameters and buffers live.
        dtype (dtype, optional): their dtype (default: the default dtype).
        bias (bool): with affine, learn the additive bias too (default: True).

    Shape:
        - Input: (N, C, L) or (C, L)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> norm = nn.InstanceNorm1d(3)
        >>> norm(chainrule.zeros(2, 3, 4)).shape
        chainrule.Size([2, 3, 4])
    """

    _no_batch_dim = 2
    _dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation: each channel of each sample normalised over its own 2-D extent.

    Every (n, c) slice of the input is shifted and scaled to zero mean and unit variance over its
    spatial positions (biased variance, eps added inside the square root), then, with affine, a
    learned per-channel affine map is applied. Used for style transfer, where each image's own
    contrast should be removed. Unlike BatchNorm, by default it has no parameters and keeps no
    running statistics, so it computes the statistics from each input in eval mode too.

    Args:
        num_features (int): C, the number of channels (only checked, and only needed, with
            affine or track_running_stats).
        eps (float): added to the variance for numerical stability (default: 1e-5).
        momentum (float): the weight of each new batch in the running statistics' moving
            average, with track_running_stats (default: 0.1).
        affine (bool): learn a per-channel weight (initially 1) and bias (initially 0)
            (default: False).
        track_running_stats (bool): keep running means and variances during training and use
            them in eval mode (default: False).
        device (str or device, optional): where the parameters and buffers live.
        dtype (dtype, optional): their dtype (default: the default dtype).
        bias (bool): with affine, learn the additive bias too (default: True).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> norm = nn.InstanceNorm2d(3)
        >>> norm(chainrule.zeros(2, 3, 4, 4)).shape
        chainrule.Size([2, 3, 4, 4])
    """

    _no_batch_dim = 3
    _dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation: each channel of each sample normalised over its own 3-D extent.

    Every (n, c) slice of the input is shifted and scaled to zero mean and unit variance over its
    spatial positions (biased variance, eps added inside the square root), then, with affine, a
    learned per-channel affine map is applied. Used for style transfer, where each image's own
    contrast should be removed. Unlike BatchNorm, by default it has no parameters and keeps no
    running statistics, so it computes the statistics from each input in eval mode too.

    Args:
        num_features (int): C, the number of channels (only checked, and only needed, with
            affine or track_running_stats).
        eps (float): added to the variance for numerical stability (default: 1e-5).
        momentum (float): the weight of each new batch in the running statistics' moving
            average, with track_running_stats (default: 0.1).
        affine (bool): learn a per-channel weight (initially 1) and bias (initially 0)
            (default: False).
        track_running_stats (bool): keep running means and variances during training and use
            them in eval mode (default: False).
        device (str or device, optional): where the parameters and buffers live.
        dtype (dtype, optional): their dtype (default: the default dtype).
        bias (bool): with affine, learn the additive bias too (default: True).

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> norm = nn.InstanceNorm3d(3)
        >>> norm(chainrule.zeros(2, 3, 4, 4, 4)).shape
        chainrule.Size([2, 3, 4, 4, 4])
    """

    _no_batch_dim = 4
    _dims = (4, 5)
