"""Dropout modules: random zeroing in training mode, the identity in eval mode."""

from __future__ import annotations

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.nn.modules.module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training mode, zeroes each element with probability p and scales the others by
    1 / (1 - p), so the expected value is unchanged; in eval mode (`model.eval()`), the
    identity. A regulariser: units cannot rely on each other being there.

    Args:
        p (float): the probability of zeroing an element, in [0, 1].
        inplace (bool): overwrite the input.

    Shape:
        - Input: any shape
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> drop = nn.Dropout(0.5)
        >>> out = drop(chainrule.ones(1000))
        >>> sorted(set(out.tolist()))
        [0.0, 2.0]
        >>> drop.eval()(chainrule.ones(3))
        tensor([1., 1., 1.])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Channel-wise dropout: zeroes whole channels of a 1-D feature map at random in training mode.

    Each channel (one (n, c) slice) is zeroed with probability p and the surviving ones are scaled
    by 1 / (1 - p), so the expected value is unchanged; in eval mode the layer is the identity.
    Neighbouring elements of a convolutional feature map are strongly correlated, so dropping single
    elements regularises little, while dropping whole channels stops channels from relying on each
    other.

    Args:
        p (float): the probability of zeroing a channel, in [0, 1] (default: 0.5).
        inplace (bool): overwrite the input (default: False).

    Shape:
        - Input: (N, C, L) or (C, L)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> drop = nn.Dropout1d(0.5)
        >>> out = drop(chainrule.ones(8, 16, 3))
        >>> channels = out.reshape(128, -1).tolist()
        >>> all(len(set(channel)) == 1 for channel in channels)  # each channel kept or zeroed
        True
        >>> sorted({value for channel in channels for value in channel})
        [0.0, 2.0]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Channel-wise dropout: zeroes whole channels of a 2-D feature map at random in training mode.

    Each channel (one (n, c) slice) is zeroed with probability p and the surviving ones are scaled
    by 1 / (1 - p), so the expected value is unchanged; in eval mode the layer is the identity.
    Neighbouring elements of a convolutional feature map are strongly correlated, so dropping single
    elements regularises little, while dropping whole channels stops channels from relying on each
    other.

    Args:
        p (float): the probability of zeroing a channel, in [0, 1] (default: 0.5).
        inplace (bool): overwrite the input (default: False).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> drop = nn.Dropout2d(0.5)
        >>> out = drop(chainrule.ones(8, 16, 3, 3))
        >>> channels = out.reshape(128, -1).tolist()
        >>> all(len(set(channel)) == 1 for channel in channels)  # each channel kept or zeroed
        True
        >>> sorted({value for channel in channels for value in channel})
        [0.0, 2.0]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Channel-wise dropout: zeroes whole channels of a 3-D feature map at random in training mode.

    Each channel (one (n, c) slice) is zeroed with probability p and the surviving ones are scaled
    by 1 / (1 - p), so the expected value is unchanged; in eval mode the layer is the identity.
    Neighbouring elements of a convolutional feature map are strongly correlated, so dropping single
    elements regularises little, while dropping whole channels stops channels from relying on each
    other.

    Args:
        p (float): the probability of zeroing a channel, in [0, 1] (default: 0.5).
        inplace (bool): overwrite the input (default: False).

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> drop = nn.Dropout3d(0.5)
        >>> out = drop(chainrule.ones(8, 16, 3, 3, 3))
        >>> channels = out.reshape(128, -1).tolist()
        >>> all(len(set(channel)) == 1 for channel in channels)  # each channel kept or zeroed
        True
        >>> sorted({value for channel in channels for value in channel})
        [0.0, 2.0]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout for self-normalising networks: keeps a SELU network's mean and variance.

    In training mode each element is, with probability p, set to SELU's negative saturation value
    -scale * alpha (about -1.7581) instead of 0, and the result is then passed through an affine map
    chosen so that inputs of zero mean and unit variance keep that mean and variance. In eval mode
    the layer is the identity. Use it with SELU; plain Dropout would shift the statistics SELU
    relies on.

    Args:
        p (float): the probability of dropping an element, in [0, 1] (default: 0.5).
        inplace (bool): overwrite the input (default: False).

    Shape:
        - Input: (*), any shape
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> drop = nn.AlphaDropout(0.2)
        >>> drop(chainrule.zeros(4, 5)).shape
        chainrule.Size([4, 5])
        >>> drop.eval()(chainrule.tensor([1.0, -1.0]))
        tensor([ 1., -1.])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels: AlphaDropout's rule applied per channel.

    In training mode each channel (one (n, c) slice of an (N, C, *) input) is, with probability p,
    set entirely to SELU's negative saturation value, and the result goes through the affine map
    that keeps zero mean and unit variance, as in AlphaDropout. In eval mode the layer is the
    identity. It is to AlphaDropout what Dropout2d is to Dropout, for SELU convolutional networks.

    Args:
        p (float): the probability of dropping a channel, in [0, 1] (default: 0.5).
        inplace (bool): overwrite the input (default: False).

    Shape:
        - Input: (N, C, *) or (C, *)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.FeatureAlphaDropout(0.2)(chainrule.zeros(2, 3, 4, 4)).shape
        chainrule.Size([2, 3, 4, 4])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.feature_alpha_dropout(input, self.p, self.training)
