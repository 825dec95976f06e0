"""Fold and Unfold: sliding blocks of an image as columns (im2col) and back (col2im)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainrule._tensor import Tensor
from chainrule.nn import functional as F
from chainrule.nn.modules.module import Module

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import IntOrSequence


class Unfold(Module):
    """Extracts sliding local blocks: (N, C, H, W) -> (N, C k_h k_w, L), column l holding the
    padded input under the l-th window position (PyTorch's channel-major order), L the number
    of positions. A convolution is Unfold, a matmul and a reshape.

    Args:
        kernel_size (int | tuple): the block's size.
        dilation (int | tuple): the spacing between a block's elements (default: 1).
        padding (int | tuple): zeros added on both sides of each spatial dimension (default: 0).
        stride (int | tuple): the step between block positions (default: 1).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C k_h k_w, L) or (C k_h k_w, L)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Unfold(kernel_size=(2, 3))(chainrule.zeros(2, 5, 3, 4)).shape
        chainrule.Size([2, 30, 4])
    """

    def __init__(
        self,
        kernel_size: IntOrSequence,
        dilation: IntOrSequence = 1,
        padding: IntOrSequence = 0,
        stride: IntOrSequence = 1,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """Combines sliding local blocks into an image: (N, C k_h k_w, L) -> (N, C, H, W), the
    adjoint of Unfold (where windows overlap, their values add up).

    Args:
        output_size (int | tuple): the image's spatial size (H, W).
        kernel_size (int | tuple): the block's size.
        dilation (int | tuple): the spacing between a block's elements (default: 1).
        padding (int | tuple): the padding Unfold would have added, cut off (default: 0).
        stride (int | tuple): the step between block positions (default: 1).

    Shape:
        - Input: (N, C k_h k_w, L) or (C k_h k_w, L)
        - Output: (N, C, H, W) or (C, H, W)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(chainrule.ones(1, 12, 12)).shape
        chainrule.Size([1, 3, 4, 5])
    """

    def __init__(
        self,
        output_size: IntOrSequence,
        kernel_size: IntOrSequence,
        dilation: IntOrSequence = 1,
        padding: IntOrSequence = 0,
        stride: IntOrSequence = 1,
    ) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
