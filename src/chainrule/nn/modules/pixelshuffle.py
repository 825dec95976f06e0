"""PixelShuffle and PixelUnshuffle: channels to pixel blocks and back (sub-pixel convolution);
ChannelShuffle: channel groups interleaved (ShuffleNet)."""

from __future__ import annotations

from chainrule._tensor import Tensor
from chainrule.nn import functional as F
from chainrule.nn.modules.module import Module


class PixelShuffle(Module):
    """Rearranges (*, C r^2, H, W) into (*, C, H r, W r): each group of r^2 channels becomes an
    r x r block of pixels, the upsampling of an efficient sub-pixel convolution (Shi et al.,
    2016).

    Args:
        upscale_factor (int): r, the factor each spatial size grows by.

    Shape:
        - Input: (*, C r^2, H, W)
        - Output: (*, C, H r, W r)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.PixelShuffle(3)(chainrule.zeros(1, 9, 4, 4)).shape
        chainrule.Size([1, 1, 12, 12])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearranges (*, C, H r, W r) into (*, C r^2, H, W): the inverse of PixelShuffle.

    Args:
        downscale_factor (int): r, the factor each spatial size shrinks by.

    Shape:
        - Input: (*, C, H r, W r)
        - Output: (*, C r^2, H, W)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.PixelUnshuffle(3)(chainrule.zeros(1, 1, 12, 12)).shape
        chainrule.Size([1, 9, 4, 4])
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleaves channel groups: the C channels, read as `groups` groups of C / groups, are
    reordered so that each output group takes one channel from every input group (ShuffleNet).

    Args:
        groups (int): the number of groups; it must divide C.

    Shape:
        - Input: (N, C, *)
        - Output: the shape of the input

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.ChannelShuffle(2)(chainrule.arange(4.0).reshape(1, 4, 1)).flatten()
        tensor([0., 2., 1., 3.])
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
