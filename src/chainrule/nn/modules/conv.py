"""Convolution layers (Conv1d/2d/3d, ConvTranspose1d/2d/3d) over
`chainrule.nn.functional`, with PyTorch's parameters, padding modes and initialisation.

>>> import chainrule
>>> from chainrule import nn
>>> conv = nn.Conv2d(3, 8, kernel_size=3, padding="same")
>>> conv(chainrule.ones(2, 3, 5, 5)).shape
chainrule.Size([2, 8, 5, 5])
>>> conv
Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=same)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.backend import device as Device
from chainrule.backend.dtypes import dtype as DType
from chainrule.nn import init
from chainrule.nn.modules.module import Module
from chainrule.nn.modules.utils import _ntuple, _reverse_repeat_tuple
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation

_VALID_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


class _ConvNd(Module):
    """Shared set-up: weight (out, in / groups, *kernel) for convolutions and
    (in, out / groups, *kernel) for transposed ones, both kaiming_uniform_(a=sqrt(5)); bias
    ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple,
        stride: tuple,
        padding: Any,
        dilation: tuple,
        transposed: bool,
        output_padding: tuple,
        groups: int,
        bias: bool,
        padding_mode: str,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        valid_padding_strings = {"same", "valid"}
        if isinstance(padding, str):
            if padding not in valid_padding_strings:
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {valid_padding_strings}"
                )
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _VALID_PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {_VALID_PADDING_MODES}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            # 'same': total padding d * (k - 1), the odd pixel on the right, as PyTorch.
            pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i] = total // 2
                    pads[2 * i + 1] = total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = _reverse_repeat_tuple(padding, 2)
        factory = {"device": device, "dtype": dtype}
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = Parameter(creation.empty(shape, **factory))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * len(self.padding):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _ConvLayer(_ConvNd):
    """Conv1d/2d/3d: PyTorch's constructor, with the dimension from `_n`."""

    _n = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        n = self._n
        super().__init__(
            in_channels,
            out_channels,
            _ntuple(n)(kernel_size),
            _ntuple(n)(stride),
            padding if isinstance(padding, str) else _ntuple(n)(padding),
            _ntuple(n)(dilation),
            False,
            (0,) * n,
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        conv = getattr(F, f"conv{self._n}d")
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(
                padded,
                self.weight,
                self.bias,
                self.stride,
                (0,) * self._n,
                self.dilation,
                self.groups,
            )
        return conv(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv1d(_ConvLayer):
    """A 1-D convolution (a cross-correlation, as in every deep learning library) over an input of
    shape (N, C_in, L) or (C_in, L): each output channel is a learned filter slid along L.

    Args:
        in_channels (int): channels of the input.
        out_channels (int): channels of the output (the number of filters).
        kernel_size (int | tuple[int, ...]): the filter's spatial size.
        stride (int | tuple[int, ...]): the step between windows.
        padding (int | tuple[int, ...] | str): implicit padding of each side, or 'valid' (none)
            or 'same' (the output as large as the input; stride 1 only).
        dilation (int | tuple[int, ...]): the spacing between a filter's taps.
        groups (int): split the channels into this many independent groups (in_channels and
            out_channels must both divide by it; groups = in_channels is a depthwise
            convolution).
        bias (bool): add a learned bias per output channel.
        padding_mode (str): 'zeros', 'reflect', 'replicate' or 'circular'.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, C_in, L_in) or (C_in, L_in)
        - Output: (N, C_out, L_out) or (C_out, L_out), where
          L_out = floor((L_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Conv1d(16, 33, 3, stride=2)(chainrule.randn(20, 16, 50)).shape
        chainrule.Size([20, 33, 24])
    """

    _n = 1


class Conv2d(_ConvLayer):
    """A 2-D convolution (a cross-correlation, as in every deep learning library) over an input of
    shape (N, C_in, H, W) or (C_in, H, W): each output channel is a learned filter of shape
    (C_in / groups, kH, kW) slid over the image. Weights and bias start as U(-k, k),
    k = 1 / sqrt(C_in / groups * kH * kW), as in PyTorch.

    Args:
        in_channels (int): channels of the input.
        out_channels (int): channels of the output (the number of filters).
        kernel_size (int | tuple[int, ...]): the filter's spatial size.
        stride (int | tuple[int, ...]): the step between windows.
        padding (int | tuple[int, ...] | str): implicit padding of each side, or 'valid' (none)
            or 'same' (the output as large as the input; stride 1 only).
        dilation (int | tuple[int, ...]): the spacing between a filter's taps.
        groups (int): split the channels into this many independent groups (in_channels and
            out_channels must both divide by it; groups = in_channels is a depthwise
            convolution).
        bias (bool): add a learned bias per output channel.
        padding_mode (str): 'zeros', 'reflect', 'replicate' or 'circular'.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, C_in, H_in, W_in) or (C_in, H_in, W_in)
        - Output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out), each spatial size
          floor((size_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> conv = nn.Conv2d(1, 4, kernel_size=3)
        >>> conv(chainrule.zeros(8, 1, 28, 28)).shape
        chainrule.Size([8, 4, 26, 26])
    """

    _n = 2


class Conv3d(_ConvLayer):
    """A 3-D convolution (a cross-correlation, as in every deep learning library) over volumes.

    The input has shape (N, C_in, D, H, W) or (C_in, D, H, W) (a video clip or a 3-D scan); each
    output channel is a learned filter of shape (C_in / groups, kD, kH, kW) slid over the volume.
    Weights and bias start as U(-k, k), k = 1 / sqrt(C_in / groups * kD * kH * kW), as in PyTorch.

    Args:
        in_channels (int): channels of the input.
        out_channels (int): channels of the output (the number of filters).
        kernel_size (int | tuple[int, ...]): the filter's spatial size.
        stride (int | tuple[int, ...]): the step between windows (default: 1).
        padding (int | tuple[int, ...] | str): implicit padding of each side, or 'valid' (none)
            or 'same' (the output as large as the input; stride 1 only) (default: 0).
        dilation (int | tuple[int, ...]): the spacing between a filter's taps (default: 1).
        groups (int): split the channels into this many independent groups (in_channels and
            out_channels must both divide by it) (default: 1).
        bias (bool): add a learned bias per output channel (default: True).
        padding_mode (str): 'zeros' (the default), 'reflect', 'replicate' or 'circular'.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, C_in, D_in, H_in, W_in) or (C_in, D_in, H_in, W_in)
        - Output: (N, C_out, D_out, H_out, W_out) or (C_out, D_out, H_out, W_out), each spatial
          size floor((size_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> conv = nn.Conv3d(2, 4, kernel_size=3, padding=1)
        >>> conv(chainrule.zeros(1, 2, 5, 6, 7)).shape
        chainrule.Size([1, 4, 5, 6, 7])
    """

    _n = 3


class _ConvTransposeNd(_ConvNd):
    """ConvTranspose1d/2d/3d: PyTorch's constructor, with the dimension from `_n`."""

    _n = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        output_padding: int | tuple[int, ...] | str = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, ...] = 1,
        padding_mode: str = "zeros",
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        n = self._n
        super().__init__(
            in_channels,
            out_channels,
            _ntuple(n)(kernel_size),
            _ntuple(n)(stride),
            _ntuple(n)(padding),
            _ntuple(n)(dilation),
            True,
            _ntuple(n)(output_padding),
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )

    def _output_padding(
        self,
        input: Tensor,  # noqa: A002
        output_size: Any,
        stride: tuple,
        padding: tuple,
        kernel_size: tuple,
        num_spatial_dims: int,
        dilation: tuple | None = None,
    ) -> tuple:
        """The output_padding that makes the output `output_size` (when given)."""
        if output_size is None:
            return self.output_padding
        has_batch_dim = input.dim() == num_spatial_dims + 2
        num_non_spatial = 2 if has_batch_dim else 1
        output_size = list(output_size)
        if len(output_size) == num_non_spatial + num_spatial_dims:
            output_size = output_size[num_non_spatial:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(
                f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, output_size must "
                f"have {num_spatial_dims} or {num_non_spatial + num_spatial_dims} elements (got "
                f"{len(output_size)})"
            )
        min_sizes = []
        max_sizes = []
        for d in range(num_spatial_dims):
            size = (
                (input.size(d + num_non_spatial) - 1) * stride[d]
                - 2 * padding[d]
                + (dilation[d] if dilation is not None else 1) * (kernel_size[d] - 1)
                + 1
            )
            min_sizes.append(size)
            max_sizes.append(size + stride[d] - 1)
        for size, low, high in zip(output_size, min_sizes, max_sizes):
            if size < low or size > high:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from "
                    f"{min_sizes} to {max_sizes} (for an input of "
                    f"{tuple(input.shape[num_non_spatial:])})"
                )
        return tuple(size - low for size, low in zip(output_size, min_sizes))

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:  # noqa: A002
        if self.padding_mode != "zeros":
            raise ValueError(f"Only `zeros` padding mode is supported for {type(self).__name__}")
        n = self._n
        output_padding = self._output_padding(
            input, output_size, self.stride, self.padding, self.kernel_size, n, self.dilation
        )
        return getattr(F, f"conv_transpose{n}d")(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(_ConvTransposeNd):
    """A 1-D transposed convolution: Conv1d's input-gradient map, used as a layer.

    Where Conv1d shrinks a 1-D signal by its stride, this layer grows it by the same factor (it is
    sometimes called a fractionally strided convolution, or loosely a deconvolution): every input
    element scatters a copy of the filter, scaled by its value, into the output. The weight has
    shape (C_in, C_out / groups, *kernel_size) and starts, with the bias, as U(-k, k), k = 1 /
    sqrt(C_out / groups * prod(kernel_size)), as in PyTorch.

    Args:
        in_channels (int): channels of the input.
        out_channels (int): channels of the output.
        kernel_size (int | tuple[int, ...]): the filter's spatial size.
        stride (int | tuple[int, ...]): the upsampling factor: the step, in the output, between
            the places two neighbouring inputs write to (default: 1).
        padding (int | tuple[int, ...] | str): how much is cropped from each side of the full
            output; give the `padding` of the Conv1d whose shapes this layer inverts (default: 0).
        output_padding (int | tuple[int, ...] | str): extra size added to one side of each
            output dimension, to pick among the output sizes that a strided Conv1d maps to the
            same input size; must be smaller than stride or dilation (default: 0). Passing
            `output_size` to forward computes it for you.
        groups (int): split the channels into this many independent groups (default: 1).
        bias (bool): add a learned bias per output channel (default: True).
        dilation (int | tuple[int, ...]): the spacing between a filter's taps (default: 1).
        padding_mode (str): only 'zeros' is supported, as in PyTorch.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, C_in, L_in) or (C_in, L_in)
        - Output: (N, C_out, L_out) or (C_out, L_out), each spatial size
          (size_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> up = nn.ConvTranspose1d(4, 2, kernel_size=2, stride=2)
        >>> up(chainrule.zeros(1, 4, 10)).shape
        chainrule.Size([1, 2, 20])
    """

    _n = 1


class ConvTranspose2d(_ConvTransposeNd):
    """A 2-D transposed convolution: Conv2d's input-gradient map, used as a layer.

    Where Conv2d shrinks a 2-D signal by its stride, this layer grows it by the same factor (it is
    sometimes called a fractionally strided convolution, or loosely a deconvolution): every input
    element scatters a copy of the filter, scaled by its value, into the output. The weight has
    shape (C_in, C_out / groups, *kernel_size) and starts, with the bias, as U(-k, k), k = 1 /
    sqrt(C_out / groups * prod(kernel_size)), as in PyTorch.

    Args:
        in_channels (int): channels of the input.
        out_channels (int): channels of the output.
        kernel_size (int | tuple[int, ...]): the filter's spatial size.
        stride (int | tuple[int, ...]): the upsampling factor: the step, in the output, between
            the places two neighbouring inputs write to (default: 1).
        padding (int | tuple[int, ...] | str): how much is cropped from each side of the full
            output; give the `padding` of the Conv2d whose shapes this layer inverts (default: 0).
        output_padding (int | tuple[int, ...] | str): extra size added to one side of each
            output dimension, to pick among the output sizes that a strided Conv2d maps to the
            same input size; must be smaller than stride or dilation (default: 0). Passing
            `output_size` to forward computes it for you.
        groups (int): split the channels into this many independent groups (default: 1).
        bias (bool): add a learned bias per output channel (default: True).
        dilation (int | tuple[int, ...]): the spacing between a filter's taps (default: 1).
        padding_mode (str): only 'zeros' is supported, as in PyTorch.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, C_in, H_in, W_in) or (C_in, H_in, W_in)
        - Output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out), each spatial size
          (size_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> up = nn.ConvTranspose2d(8, 3, kernel_size=3, stride=2, padding=1)
        >>> x = chainrule.zeros(1, 8, 12, 12)
        >>> up(x).shape
        chainrule.Size([1, 3, 23, 23])
        >>> up(x, output_size=(24, 24)).shape
        chainrule.Size([1, 3, 24, 24])
    """

    _n = 2


class ConvTranspose3d(_ConvTransposeNd):
    """A 3-D transposed convolution: Conv3d's input-gradient map, used as a layer.

    Where Conv3d shrinks a 3-D signal by its stride, this layer grows it by the same factor (it is
    sometimes called a fractionally strided convolution, or loosely a deconvolution): every input
    element scatters a copy of the filter, scaled by its value, into the output. The weight has
    shape (C_in, C_out / groups, *kernel_size) and starts, with the bias, as U(-k, k), k = 1 /
    sqrt(C_out / groups * prod(kernel_size)), as in PyTorch.

    Args:
        in_channels (int): channels of the input.
        out_channels (int): channels of the output.
        kernel_size (int | tuple[int, ...]): the filter's spatial size.
        stride (int | tuple[int, ...]): the upsampling factor: the step, in the output, between
            the places two neighbouring inputs write to (default: 1).
        padding (int | tuple[int, ...] | str): how much is cropped from each side of the full
            output; give the `padding` of the Conv3d whose shapes this layer inverts (default: 0).
        output_padding (int | tuple[int, ...] | str): extra size added to one side of each
            output dimension, to pick among the output sizes that a strided Conv3d maps to the
            same input size; must be smaller than stride or dilation (default: 0). Passing
            `output_size` to forward computes it for you.
        groups (int): split the channels into this many independent groups (default: 1).
        bias (bool): add a learned bias per output channel (default: True).
        dilation (int | tuple[int, ...]): the spacing between a filter's taps (default: 1).
        padding_mode (str): only 'zeros' is supported, as in PyTorch.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, C_in, D_in, H_in, W_in) or (C_in, D_in, H_in, W_in)
        - Output: (N, C_out, D_out, H_out, W_out) or (C_out, D_out, H_out, W_out), each spatial size
          (size_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> up = nn.ConvTranspose3d(4, 2, kernel_size=2, stride=2)
        >>> up(chainrule.zeros(1, 4, 2, 3, 4)).shape
        chainrule.Size([1, 2, 4, 6, 8])
    """

    _n = 3
