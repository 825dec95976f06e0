"""Upsample (and its two fixed-mode forms) over F.interpolate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.nn.modules.module import Module

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import FloatOrSequence, IntOrSequence


class Upsample(Module):
    """Resizes 1-, 2- or 3-D data (all but the first two dimensions) to a size or by a factor.

    A module form of F.interpolate. Give exactly one of `size` and `scale_factor`. The modes:
    'nearest' (copy the nearest input sample, PyTorch's legacy index rounding), 'nearest-exact' (the
    same with pixel-centre rounding), 'linear', 'bilinear' and 'trilinear' (linear interpolation
    along 1, 2 or 3 dimensions: 3-D, 4-D and 5-D inputs), 'bicubic' (4-D inputs, PyTorch's cubic
    convolution with A = -0.75, edge samples repeated past the border) and 'area' (adaptive
    average pooling).

    Args:
        size (int | tuple, optional): the output's spatial size.
        scale_factor (float | tuple, optional): the factor to multiply each spatial size by.
        mode (str): the interpolation: 'nearest' (the default), 'nearest-exact', 'linear',
            'bilinear', 'bicubic', 'trilinear' or 'area'.
        align_corners (bool, optional): for the linear and bicubic modes, align the centres of
            the corner samples of input and output (True) or their outer edges (False, the
            default when None); it changes every interpolated value, not only the corners.
        recompute_scale_factor (bool, optional): with scale_factor, compute the output size and
            then interpolate from that size, as if it had been given, instead of using the
            factor itself for the sampling positions.

    Shape:
        - Input: (N, C, W_in), (N, C, H_in, W_in) or (N, C, D_in, H_in, W_in)
        - Output: (N, C, W_out), (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out), each
          spatial size `size` or floor(size_in * scale_factor)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Upsample(scale_factor=2)(chainrule.tensor([[[1.0, 2.0]]]))
        tensor([[[1., 1., 2., 2.]]])
        >>> nn.Upsample(scale_factor=2, mode='linear')(chainrule.tensor([[[1.0, 3.0]]]))
        tensor([[[1.0000, 1.5000, 2.5000, 3.0000]]])
    """

    def __init__(
        self,
        size: IntOrSequence | None = None,
        scale_factor: FloatOrSequence | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of images: Upsample(size, scale_factor, mode='nearest').

    Kept for PyTorch compatibility; Upsample (or F.interpolate) is the general form.

    Args:
        size (int | tuple[int, int], optional): the output's (H_out, W_out).
        scale_factor (float | tuple[float, float], optional): the factor to multiply H and W by.

    Shape:
        - Input: (N, C, H_in, W_in)
        - Output: (N, C, H_out, W_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.UpsamplingNearest2d(scale_factor=2)(chainrule.tensor([[[[1.0, 2.0]]]]))
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.]]]])
    """

    def __init__(
        self, size: IntOrSequence | None = None, scale_factor: FloatOrSequence | None = None
    ) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of images with align_corners=True.

    The same as Upsample(size, scale_factor, mode='bilinear', align_corners=True): the corner
    samples of input and output coincide. Kept for PyTorch compatibility; Upsample (or
    F.interpolate) is the general form.

    Args:
        size (int | tuple[int, int], optional): the output's (H_out, W_out).
        scale_factor (float | tuple[float, float], optional): the factor to multiply H and W by.

    Shape:
        - Input: (N, C, H_in, W_in)
        - Output: (N, C, H_out, W_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.UpsamplingBilinear2d(size=(1, 3))(chainrule.tensor([[[[1.0, 3.0]]]]))
        tensor([[[[1., 2., 3.]]]])
    """

    def __init__(
        self, size: IntOrSequence | None = None, scale_factor: FloatOrSequence | None = None
    ) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
