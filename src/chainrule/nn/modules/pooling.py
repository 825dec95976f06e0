"""Pooling layers over `chainrule.nn.functional`: max, average and adaptive average/max.

Attributes are stored as given (an int stays an int), except AvgPool1d's, which PyTorch
stores as 1-tuples; reprs follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.nn.modules.module import Module


def _single(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class _MaxPoolNd(Module):
    """MaxPool1d/2d/3d: PyTorch's constructor, with the dimension from `_n`."""

    _n = 2

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:  # noqa: A002
        return getattr(F, f"max_pool{self._n}d")(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """The maximum over sliding windows, each channel on its own.

    The input is (N, C, L_in) or (C, L_in). The gradient goes to the position of each window's
    maximum (the first one at a tie, as in PyTorch). Padding counts as -inf, so it is never chosen.

    Args:
        kernel_size (int | tuple[int]): the window's size.
        stride (int | tuple[int], optional): the step between windows (default
            kernel_size: windows that do not overlap).
        padding (int | tuple[int]): implicit -inf padding of each side (at most half the
            window).
        dilation (int | tuple[int]): the spacing between a window's elements.
        return_indices (bool): also return where each maximum came from (for MaxUnpool1d).
        ceil_mode (bool): round the output size up instead of down, so a partial window at the
            end still yields an output.

    Shape:
        - Input: (N, C, L_in) or (C, L_in)
        - Output: (N, C, L_out) or (C, L_out), each spatial size
          floor((size_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.MaxPool1d(2)(chainrule.tensor([[[1.0, 3.0, 2.0, 5.0]]]))
        tensor([[[3., 5.]]])
    """

    _n = 1


class MaxPool2d(_MaxPoolNd):
    """The maximum over sliding windows of an (N, C, H, W) or (C, H, W) input, each channel on its
    own. The gradient goes to the position of each window's maximum (the first one at a tie, as
    in PyTorch).

    Args:
        kernel_size (int | tuple[int, int]): the window's size.
        stride (int | tuple[int, int], optional): the step between windows (default
            kernel_size: windows that do not overlap).
        padding (int | tuple[int, int]): implicit -inf padding of each side (at most half the
            window).
        dilation (int | tuple[int, int]): the spacing between a window's elements.
        return_indices (bool): also return where each maximum came from (for MaxUnpool2d).
        ceil_mode (bool): round the output size up instead of down.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), each spatial size
          floor((size_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.MaxPool2d(2)(chainrule.tensor([[[1.0, 2.0], [4.0, 3.0]]]))
        tensor([[[4.]]])
    """

    _n = 2


class MaxPool3d(_MaxPoolNd):
    """The maximum over sliding windows, each channel on its own.

    The input is (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in). The gradient goes to the
    position of each window's maximum (the first one at a tie, as in PyTorch). Padding counts as
    -inf, so it is never chosen.

    Args:
        kernel_size (int | tuple[int, int, int]): the window's size.
        stride (int | tuple[int, int, int], optional): the step between windows (default
            kernel_size: windows that do not overlap).
        padding (int | tuple[int, int, int]): implicit -inf padding of each side (at most half the
            window).
        dilation (int | tuple[int, int, int]): the spacing between a window's elements.
        return_indices (bool): also return where each maximum came from (for MaxUnpool3d).
        ceil_mode (bool): round the output size up instead of down, so a partial window at the
            end still yields an output.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out), each spatial size
          floor((size_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.MaxPool3d(2)(chainrule.zeros(1, 3, 4, 6, 8)).shape
        chainrule.Size([1, 3, 2, 3, 4])
    """

    _n = 3


class AvgPool1d(Module):
    """The mean over sliding windows, each channel on its own.

    The input is (N, C, L_in) or (C, L_in). Every element of a window gets an equal share, 1 /
    (number of elements averaged), of the output's gradient.

    Args:
        kernel_size (int | tuple[int]): the window's size.
        stride (int | tuple[int], optional): the step between windows (default
            kernel_size: windows that do not overlap).
        padding (int | tuple[int]): implicit zero padding of each side (at most half the
            window).
        ceil_mode (bool): round the output size up instead of down, so a partial window at the
            end still yields an output.
        count_include_pad (bool): count the padded zeros in each window's divisor (default:
            True); with False, a window is averaged over its real elements only.

    Shape:
        - Input: (N, C, L_in) or (C, L_in)
        - Output: (N, C, L_out) or (C, L_out), each spatial size
          floor((size_in + 2 * padding - kernel_size) / stride + 1)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.AvgPool1d(2)(chainrule.tensor([[[1.0, 3.0, 2.0, 5.0]]]))
        tensor([[[2.0000, 3.5000]]])
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(Module):
    """AvgPool2d/3d: PyTorch's constructor, with the dimension from `_n`."""

    _n = 2

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return getattr(F, f"avg_pool{self._n}d")(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """The mean over sliding windows, each channel on its own.

    The input is (N, C, H_in, W_in) or (C, H_in, W_in). Every element of a window gets an equal
    share, 1 / (number of elements averaged), of the output's gradient.

    Args:
        kernel_size (int | tuple[int, int]): the window's size.
        stride (int | tuple[int, int], optional): the step between windows (default
            kernel_size: windows that do not overlap).
        padding (int | tuple[int, int]): implicit zero padding of each side (at most half the
            window).
        ceil_mode (bool): round the output size up instead of down, so a partial window at the
            end still yields an output.
        count_include_pad (bool): count the padded zeros in each window's divisor (default:
            True); with False, a window is averaged over its real elements only.
        divisor_override (int, optional): divide every window's sum by this number instead
            of the window's size.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), each spatial size
          floor((size_in + 2 * padding - kernel_size) / stride + 1)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.AvgPool2d(2)(chainrule.tensor([[[1.0, 2.0], [4.0, 3.0]]]))
        tensor([[[2.5000]]])
    """

    _n = 2


class AvgPool3d(_AvgPoolNd):
    """The mean over sliding windows, each channel on its own.

    The input is (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in). Every element of a window gets
    an equal share, 1 / (number of elements averaged), of the output's gradient.

    Args:
        kernel_size (int | tuple[int, int, int]): the window's size.
        stride (int | tuple[int, int, int], optional): the step between windows (default
            kernel_size: windows that do not overlap).
        padding (int | tuple[int, int, int]): implicit zero padding of each side (at most half the
            window).
        ceil_mode (bool): round the output size up instead of down, so a partial window at the
            end still yields an output.
        count_include_pad (bool): count the padded zeros in each window's divisor (default:
            True); with False, a window is averaged over its real elements only.
        divisor_override (int, optional): divide every window's sum by this number instead
            of the window's size.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out), each spatial size
          floor((size_in + 2 * padding - kernel_size) / stride + 1)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.AvgPool3d(2, stride=1)(chainrule.ones(2, 1, 3, 3, 3)).shape
        chainrule.Size([2, 1, 2, 2, 2])
    """

    _n = 3


class _AdaptivePoolNd(Module):
    _n = 2

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return getattr(F, f"adaptive_avg_pool{self._n}d")(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Average pooling to a fixed output size, whatever the input's size.

    The input is (N, C, L_in) or (C, L_in). The windows are chosen for you: output position i along
    a dimension of input size L and output size S takes the mean of input positions floor(i * L / S)
    up to ceil((i + 1) * L / S) - 1, so neighbouring windows overlap when S does not divide L.

    Args:
        output_size (int): the output length.

    Shape:
        - Input: (N, C, L_in) or (C, L_in)
        - Output: (N, C, output_size) or (C, output_size)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.AdaptiveAvgPool1d(2)(chainrule.tensor([[1.0, 3.0, 2.0, 6.0]]))
        tensor([[2., 4.]])
    """

    _n = 1


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Average pooling to a fixed output size, whatever the input's size.

    The input is (N, C, H_in, W_in) or (C, H_in, W_in). The windows are chosen for you: output
    position i along a dimension of input size L and output size S takes the mean of input positions
    floor(i * L / S) up to ceil((i + 1) * L / S) - 1, so neighbouring windows overlap when S does
    not divide L.

    Args:
        output_size (int | tuple): (H_out, W_out), or one int for a square output; None for a
            dimension keeps its input size. AdaptiveAvgPool2d(1) is global average pooling.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.AdaptiveAvgPool2d((5, None))(chainrule.zeros(1, 64, 8, 9)).shape
        chainrule.Size([1, 64, 5, 9])
    """

    _n = 2


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """Average pooling to a fixed output size, whatever the input's size.

    The input is (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in). The windows are chosen for you:
    output position i along a dimension of input size L and output size S takes the mean of input
    positions floor(i * L / S) up to ceil((i + 1) * L / S) - 1, so neighbouring windows overlap when
    S does not divide L.

    Args:
        output_size (int | tuple): (D_out, H_out, W_out), or one int for a cubic output; None
            for a dimension keeps its input size.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.AdaptiveAvgPool3d(1)(chainrule.ones(2, 3, 4, 5, 6)).shape
        chainrule.Size([2, 3, 1, 1, 1])
    """

    _n = 3


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:  # noqa: A002
        pool = getattr(F, f"adaptive_max_pool{self._n}d")
        return pool(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output size, whatever the input's size.

    The input is (N, C, L_in) or (C, L_in). The windows are chosen for you: output position i along
    a dimension of input size L and output size S takes the maximum of input positions floor(i * L /
    S) up to ceil((i + 1) * L / S) - 1, so neighbouring windows overlap when S does not divide L.

    Args:
        output_size (int): the output length.
        return_indices (bool): also return where each maximum came from (default: False).

    Shape:
        - Input: (N, C, L_in) or (C, L_in)
        - Output: (N, C, output_size) or (C, output_size)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.AdaptiveMaxPool1d(2)(chainrule.tensor([[1.0, 3.0, 2.0, 6.0]]))
        tensor([[3., 6.]])
    """

    _n = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output size, whatever the input's size.

    The input is (N, C, H_in, W_in) or (C, H_in, W_in). The windows are chosen for you: output
    position i along a dimension of input size L and output size S takes the maximum of input
    positions floor(i * L / S) up to ceil((i + 1) * L / S) - 1, so neighbouring windows overlap when
    S does not divide L.

    Args:
        output_size (int | tuple): (H_out, W_out), or one int for a square output; None for a
            dimension keeps its input size.
        return_indices (bool): also return where each maximum came from (default: False).

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.AdaptiveMaxPool2d(1)(chainrule.tensor([[[1.0, 2.0], [4.0, 3.0]]]))
        tensor([[[4.]]])
    """

    _n = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output size (D_out, H_out, W_out), whatever the input's size, with
    the windows of AdaptiveMaxPool2d along each of the three dimensions.

    Args:
        output_size (int | tuple): (D_out, H_out, W_out), or one int for a cube; None for a
            dimension keeps its input size.
        return_indices (bool): also return where each maximum came from (default: False).

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.AdaptiveMaxPool3d((1, 2, 2))(chainrule.zeros(1, 3, 4, 5, 6)).shape
        chainrule.Size([1, 3, 1, 2, 2])
    """

    _n = 3


class _LPPoolNd(Module):
    _n = 2

    def __init__(
        self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False
    ) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        pool = getattr(F, f"lp_pool{self._n}d")
        return pool(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """Power-average pooling: each window's p-norm (sum x^p)^(1/p); p = 1 is sum pooling, and p
    to infinity tends to max pooling.

    Args:
        norm_type (float): p.
        kernel_size (int): the window's length.
        stride (int, optional): the step between windows (default: kernel_size).
        ceil_mode (bool): round the output length up instead of down (default: False).

    Shape:
        - Input: (N, C, L_in) or (C, L_in)
        - Output: (N, C, L_out) or (C, L_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.LPPool1d(2, 2)(chainrule.tensor([[[3.0, 4.0, 1.0, 0.0]]]))
        tensor([[[5., 1.]]])
    """

    _n = 1


class LPPool2d(_LPPoolNd):
    """Power-average pooling over 2-D windows: each window's p-norm (sum x^p)^(1/p).

    Args:
        norm_type (float): p.
        kernel_size (int | tuple): the window's size.
        stride (int | tuple, optional): the step between windows (default: kernel_size).
        ceil_mode (bool): round output sizes up instead of down (default: False).

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.LPPool2d(1, 2)(chainrule.ones(1, 1, 4, 4))
        tensor([[[[4., 4.],
                  [4., 4.]]]])
    """

    _n = 2


class LPPool3d(_LPPoolNd):
    """Power-average pooling over 3-D windows: each window's p-norm (sum x^p)^(1/p).

    Args:
        norm_type (float): p.
        kernel_size (int | tuple): the window's size.
        stride (int | tuple, optional): the step between windows (default: kernel_size).
        ceil_mode (bool): round output sizes up instead of down (default: False).

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.LPPool3d(2, 2)(chainrule.ones(1, 1, 2, 2, 4)).shape
        chainrule.Size([1, 1, 1, 1, 2])
    """

    _n = 3


class _MaxUnpoolNd(Module):
    """Max pooling undone: `forward(input, indices, output_size=None)` puts each value back at
    the index its max pooling gave, zeros elsewhere (F.max_unpool1d/2d/3d)."""

    dims = 2

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
    ) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self.dims)  # tuples, as PyTorch keeps them
        self.stride = _ntuple(stride if stride is not None else kernel_size, self.dims)
        self.padding = _ntuple(padding, self.dims)

    def forward(
        self,
        input: Tensor,  # noqa: A002
        indices: Tensor,
        output_size: Sequence[int] | None = None,
    ) -> Tensor:
        unpool = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[self.dims - 1]
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: each value goes back to the position its max pooling
    took it from (the `indices` of `MaxPool1d(return_indices=True)`), zeros elsewhere.

    Args:
        kernel_size (int | tuple[int, ...]): the pooling window's size.
        stride (int | tuple[int, ...], optional): default `kernel_size`.
        padding (int | tuple[int, ...]): the pooling's implicit padding.

    Shape:
        - Input: (N, C, L_in) or (C, L_in), and `indices` of the same shape
        - Output: (N, C, L_out) or (C, L_out), where
          L_out = (L_in - 1) * stride - 2 * padding + kernel_size, or `output_size`

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> pool, unpool = nn.MaxPool1d(2, return_indices=True), nn.MaxUnpool1d(2)
        >>> out, indices = pool(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
        >>> unpool(out, indices)
        tensor([[[0., 3., 2., 0.]]])
    """

    dims = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d: each value goes back to the position its max pooling
    took it from (the `indices` of `MaxPool2d(return_indices=True)`), zeros elsewhere.

    Args:
        kernel_size (int | tuple[int, ...]): the pooling window's size.
        stride (int | tuple[int, ...], optional): default `kernel_size`.
        padding (int | tuple[int, ...]): the pooling's implicit padding.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in), and `indices` of the same shape
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), each as in MaxUnpool1d

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
        >>> out, indices = pool(chainrule.rand(1, 1, 4, 4))
        >>> unpool(out, indices).shape
        chainrule.Size([1, 1, 4, 4])
    """

    dims = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d: each value goes back to the position its max pooling
    took it from (the `indices` of `MaxPool3d(return_indices=True)`), zeros elsewhere.

    Args:
        kernel_size (int | tuple[int, ...]): the pooling window's size.
        stride (int | tuple[int, ...], optional): default `kernel_size`.
        padding (int | tuple[int, ...]): the pooling's implicit padding.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in), and `indices` of the same shape
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out), each as in MaxUnpool1d

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> pool = nn.MaxPool3d(2, return_indices=True)
        >>> pooled, indices = pool(chainrule.randn(1, 1, 4, 4, 4))
        >>> nn.MaxUnpool3d(2)(pooled, indices).shape
        chainrule.Size([1, 1, 4, 4, 4])
    """

    dims = 3


def _ntuple(value: Any, n: int) -> tuple | None:
    if value is None:
        return None
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _FractionalMaxPoolNd(Module):
    """FractionalMaxPool2d/3d: PyTorch's constructor and checks, with the dimension from `_n`."""

    _n = 2

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        output_size: int | tuple[int, ...] | None = None,
        output_ratio: float | tuple[float, ...] | None = None,
        return_indices: bool = False,
        _random_samples: Tensor | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _ntuple(kernel_size, self._n)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, self._n)
        self.output_ratio = _ntuple(output_ratio, self._n)
        if output_size is None and output_ratio is None:
            raise ValueError(
                f"{name} requires specifying either an output size, or a pooling ratio"
            )
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:  # noqa: A002
        pool = F.fractional_max_pool2d if self._n == 2 else F.fractional_max_pool3d
        return pool(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            _random_samples=self._random_samples,
        )


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling over (H, W): the maximum over kernel_size windows whose starts
    are spread pseudo-randomly, fresh at each call unless `_random_samples` fixes them, so the
    output shrinks by any ratio (Graham, 2014). The gradient reaches each window's maximum.

    Args:
        kernel_size (int or tuple): the window's size.
        output_size (int or tuple, optional): the output's (H, W).
        output_ratio (float or tuple, optional): or the output's size as a fraction (in
            (0, 1)) of the input's; exactly one of the two.
        return_indices (bool): also return each maximum's flat position in its plane.
        _random_samples (Tensor, optional): (N, C, 2) draws in [0, 1) fixing the windows.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), from output_size, or
          floor(size_in * output_ratio)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.FractionalMaxPool2d(3, output_ratio=0.5)(chainrule.randn(2, 4, 16, 12)).shape
        chainrule.Size([2, 4, 8, 6])
    """

    _n = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling over (T, H, W): FractionalMaxPool2d with a third dimension.

    Args:
        kernel_size (int or tuple): the window's size.
        output_size (int or tuple, optional): the output's (T, H, W).
        output_ratio (float or tuple, optional): or the output's size as a fraction (in
            (0, 1)) of the input's; exactly one of the two.
        return_indices (bool): also return each maximum's flat position in its volume.
        _random_samples (Tensor, optional): (N, C, 3) draws in [0, 1) fixing the windows.

    Shape:
        - Input: (N, C, T_in, H_in, W_in) or (C, T_in, H_in, W_in)
        - Output: (N, C, T_out, H_out, W_out) or (C, T_out, H_out, W_out)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.FractionalMaxPool3d(2, output_size=3)(chainrule.randn(1, 2, 6, 6, 6)).shape
        chainrule.Size([1, 2, 3, 3, 3])
    """

    _n = 3
