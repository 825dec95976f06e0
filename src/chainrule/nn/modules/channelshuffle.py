"""ChannelShuffle: interleave channel groups (ShuffleNet)."""

from __future__ import annotations

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.nn.modules.module import Module


class ChannelShuffle(Module):
    """Splits the channels into `groups` groups and interleaves them: channel j of group i
    moves to position j * groups + i.

    Args:
        groups (int): the number of groups; it must divide the channel count.

    Shape:
        - Input: (N, C, *), with C divisible by groups
        - Output: the input's shape

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
