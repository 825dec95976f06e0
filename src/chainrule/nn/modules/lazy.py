"""Lazy layers: LazyLinear, LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d, LazyBatchNorm1d/2d/3d
and LazyInstanceNorm1d/2d/3d infer their input size from the first input, as PyTorch's. Until
then their weights are `UninitializedParameter`s (their running statistics
`UninitializedBuffer`s); the first call gives those same objects their memory (so an optimizer
built before it still holds the real parameters), initializes them as the eager layer would,
and turns the module into that layer.

>>> import chainrule
>>> from chainrule import nn
>>> layer = nn.LazyLinear(2)
>>> layer(chainrule.zeros(5, 3)).shape, type(layer).__name__, layer.in_features
(chainrule.Size([5, 2]), 'Linear', 3)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule._tensor import Tensor
from chainrule.backend import device as Device
from chainrule.backend import dtypes
from chainrule.backend.dtypes import dtype as DType
from chainrule.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from chainrule.nn.modules.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from chainrule.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from chainrule.nn.modules.linear import Linear
from chainrule.nn.parameter import UninitializedBuffer, UninitializedParameter
from chainrule.ops import creation

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import IntOrSequence


class LazyModuleMixin:
    """What every lazy layer is (torch.nn.modules.lazy.LazyModuleMixin): a module whose
    parameters wait for the first input. Once it has run, it is its eager class
    (`cls_to_become`) and no longer a LazyModuleMixin, as in PyTorch.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> from chainrule.nn.modules.lazy import LazyModuleMixin
        >>> layer = nn.LazyLinear(2)
        >>> isinstance(layer, LazyModuleMixin), layer.has_uninitialized_params()
        (True, True)
        >>> _ = layer(chainrule.zeros(1, 3))
        >>> isinstance(layer, LazyModuleMixin)
        False
    """

    cls_to_become: type | None = None

    def has_uninitialized_params(self) -> bool:
        """Whether some parameter or buffer still waits for the first input."""
        tensors = [*self._parameters.values(), *self._buffers.values()]  # type: ignore[attr-defined]
        return any(isinstance(t, _WAITING) for t in tensors)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any) -> None:
        """Loading a checkpoint before the first call gives each waiting parameter or buffer
        the shape of its entry (PyTorch's _lazy_load_hook), then copies as any module does;
        the first call then keeps the loaded values (`_become_eager`)."""
        tensors = [*self._parameters.items(), *self._buffers.items()]  # type: ignore[attr-defined]
        for name, value in tensors:
            entry = state_dict.get(prefix + name)
            if (
                isinstance(value, _WAITING)
                and entry is not None
                and not isinstance(entry, _WAITING)
            ):
                if isinstance(value, UninitializedParameter):
                    value.materialize(tuple(entry.shape))
                else:
                    value.materialize(tuple(entry.shape))
        super()._load_from_state_dict(state_dict, prefix, *args)  # type: ignore[misc]

    def _become_eager(self, initialize: bool) -> None:
        """Turn into the eager class; `initialize` draws the fresh parameters' values (not when
        they were loaded from a state_dict)."""
        self.__dict__.pop("_factory", None)
        self.__class__ = self.cls_to_become  # type: ignore[assignment]
        if initialize:
            self.reset_parameters()  # type: ignore[attr-defined]


_WAITING = (UninitializedParameter, UninitializedBuffer)


def _waiting_parameter(factory: dict) -> UninitializedParameter:
    """An UninitializedParameter holding the layer's device and dtype, which `Module.to` and
    `.double()` convert while it waits and `materialize` then takes (as PyTorch's)."""
    parameter = UninitializedParameter()
    fresh = creation.empty(0, **factory)
    parameter._array, parameter._backend = fresh._array, fresh._backend
    return parameter


def _uninitialized(module: Any, names: tuple) -> None:
    for name in names:
        if getattr(module, name, None) is not None:
            setattr(module, name, _waiting_parameter(module._factory))


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear layer whose in_features is the last dimension of its first input.

    Args:
        out_features (int): the size of each output.
        bias (bool): learn an additive bias (default: True).
        device (str or device, optional): where the parameters live.
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (*, H_in), any H_in on the first call, that H_in afterwards
        - Output: (*, out_features)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.LazyLinear(4)(chainrule.zeros(2, 7)).shape
        chainrule.Size([2, 4])
    """

    cls_to_become = Linear

    def __init__(
        self,
        out_features: int,
        bias: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(0, out_features, bias, device=device, dtype=dtype)
        self._factory = {"device": device, "dtype": dtype}
        _uninitialized(self, ("weight", "bias"))

    def reset_parameters(self) -> None:
        """Initialize as Linear does, once the input size is known (a no-op before)."""
        if self.in_features != 0:
            super().reset_parameters()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if isinstance(self.weight, UninitializedParameter):
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self._become_eager(initialize=True)
        else:  # loaded from a state_dict: in_features is read from the input, checked
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(
                    f"The in_features inferred from input: {input.shape[-1]} is not equal to "
                    f"in_features from self.weight: {self.weight.shape[-1]}"
                )
            self.in_features = input.shape[-1]
            self._become_eager(initialize=False)
        return Linear.forward(self, input)


class _LazyConv(LazyModuleMixin):
    """LazyConv1d/2d/3d: in_channels is dimension 1 of the first (batched) input, or 0 of an
    unbatched one."""

    cls_to_become: type

    def _lazy_setup(self, device: Any, dtype: Any) -> None:
        self._factory = {"device": device, "dtype": dtype}
        _uninitialized(self, ("weight", "bias"))

    def reset_parameters(self) -> None:
        """Initialize as the convolution does, once in_channels is known (a no-op before)."""
        if self.in_channels != 0:
            self.cls_to_become.reset_parameters(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        target = self.cls_to_become
        if isinstance(self.weight, UninitializedParameter):
            spatial = target._n
            if input.ndim not in (spatial + 1, spatial + 2):
                raise ValueError(
                    f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input "
                    f"to {type(self).__name__}, but got input of size: {list(input.shape)}"
                )
            channels = input.shape[1] if input.ndim == spatial + 2 else input.shape[0]
            if channels % self.groups:
                raise ValueError("in_channels must be divisible by groups")
            self.in_channels = channels
            if self.transposed:
                shape = (channels, self.out_channels // self.groups, *self.kernel_size)
            else:
                shape = (self.out_channels, channels // self.groups, *self.kernel_size)
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self._become_eager(initialize=True)
        else:  # loaded from a state_dict: in_channels stays 0, as PyTorch leaves it
            self._become_eager(initialize=False)
        return target.forward(self, input)


def _lazy_conv(conv: type, name: str) -> type:
    def initialize(
        self,
        out_channels: int,
        kernel_size: IntOrSequence,
        stride: IntOrSequence = 1,
        padding: IntOrSequence = 0,
        dilation: IntOrSequence = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        conv.__init__(
            self,
            0,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )
        self._lazy_setup(device, dtype)

    doc = f"""A {conv.__name__} whose in_channels is read from its first input.

    Args:
        out_channels (int): the number of output channels.
        kernel_size (int or tuple): the filter's size.
        stride (int or tuple): the step between windows.
        padding (int, tuple or str): implicit padding on both sides, or 'valid' / 'same'.
        dilation (int or tuple): the spacing between filter taps.
        groups (int): split the channels into this many independent groups.
        bias (bool): learn an additive bias.
        padding_mode (str): 'zeros', 'reflect', 'replicate' or 'circular'.
        device (str or device, optional): where the parameters live.
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: as {conv.__name__}'s, any channel count on the first call
        - Output: as {conv.__name__}'s

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.{name}(4, 3)(chainrule.zeros({", ".join(["1", "2"] + ["5"] * conv._n)})).shape[1]
        4
    """
    return type(
        name,
        (_LazyConv, conv),
        {"__init__": initialize, "__doc__": doc, "cls_to_become": conv, "__module__": __name__},
    )


LazyConv1d = _lazy_conv(Conv1d, "LazyConv1d")
LazyConv2d = _lazy_conv(Conv2d, "LazyConv2d")
LazyConv3d = _lazy_conv(Conv3d, "LazyConv3d")


def _lazy_conv_transpose(conv: type, name: str) -> type:
    def initialize(
        self,
        out_channels: int,
        kernel_size: IntOrSequence,
        stride: IntOrSequence = 1,
        padding: IntOrSequence = 0,
        output_padding: IntOrSequence = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: IntOrSequence = 1,
        padding_mode: str = "zeros",
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        conv.__init__(
            self,
            0,
            out_channels,
            kernel_size,
            stride,
            padding,
            output_padding,
            groups,
            bias,
            dilation,
            padding_mode,
            device=device,
            dtype=dtype,
        )
        self._lazy_setup(device, dtype)

    sizes = ", ".join(["1", "2"] + ["5"] * conv._n)
    doc = f"""A {conv.__name__} whose in_channels is read from its first input.

    Args:
        out_channels (int): the number of output channels.
        kernel_size (int or tuple): the filter's size.
        stride (int or tuple): the step between windows.
        padding (int or tuple): the implicit padding the matching convolution had.
        output_padding (int or tuple): extra size added to one side of the output.
        groups (int): split the channels into this many independent groups.
        bias (bool): learn an additive bias.
        dilation (int or tuple): the spacing between filter taps.
        padding_mode (str): 'zeros' only, as PyTorch's transposed convolutions.
        device (str or device, optional): where the parameters live.
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: as {conv.__name__}'s, any channel count on the first call
        - Output: as {conv.__name__}'s

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> layer = nn.{name}(4, 3)
        >>> layer(chainrule.zeros({sizes})).shape[1], tuple(layer.weight.shape[:2])
        (4, (2, 4))
    """
    return type(
        name,
        (_LazyConv, conv),
        {"__init__": initialize, "__doc__": doc, "cls_to_become": conv, "__module__": __name__},
    )


LazyConvTranspose1d = _lazy_conv_transpose(ConvTranspose1d, "LazyConvTranspose1d")
LazyConvTranspose2d = _lazy_conv_transpose(ConvTranspose2d, "LazyConvTranspose2d")
LazyConvTranspose3d = _lazy_conv_transpose(ConvTranspose3d, "LazyConvTranspose3d")


class _LazyNorm(LazyModuleMixin):
    """LazyBatchNorm / LazyInstanceNorm: num_features is dimension 1 of the first input (as
    PyTorch's, which reads dimension 1 even of an unbatched input)."""

    cls_to_become: type

    def _lazy_setup(
        self,
        affine: bool,
        track_running_stats: bool,
        bias: bool,
        device: Device | str | None,
        dtype: DType | None,
    ) -> None:
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = {"device": device, "dtype": dtype}
        self._factory = factory
        if affine:
            self.weight = _waiting_parameter(factory)
            if bias:
                self.bias = _waiting_parameter(factory)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(**factory)
            self.running_var = UninitializedBuffer(**factory)
            self.num_batches_tracked = creation.tensor(0, dtype=dtypes.int64, device=device)

    def reset_parameters(self) -> None:
        """Initialize as the eager layer does, once num_features is known (a no-op before)."""
        if self.num_features != 0:
            self.cls_to_become.reset_parameters(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        target = self.cls_to_become
        if not self.has_uninitialized_params():
            # loaded from a state_dict: num_features stays 0, as PyTorch leaves it
            self._become_eager(initialize=False)
        elif self.num_features == 0:
            if input.ndim < 2:
                raise ValueError(
                    f"{type(self).__name__}: expected an input of at least 2 dimensions to "
                    f"read num_features from, but got input of size: {list(input.shape)}"
                )
            features = input.shape[1]
            self.num_features = features
            for name in ("weight", "bias"):
                parameter = getattr(self, name, None)
                if isinstance(parameter, UninitializedParameter):
                    parameter.materialize((features,))
            for name in ("running_mean", "running_var"):
                buffer = getattr(self, name, None)
                if isinstance(buffer, UninitializedBuffer):
                    buffer.materialize((features,))
            self._become_eager(initialize=True)
        return target.forward(self, input)


def _lazy_norm(norm: type, name: str, example: str) -> type:
    def initialize(
        self,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
        *,
        bias: bool = True,
    ) -> None:
        # The eager layer with no features, parameters or buffers, then uninitialized ones.
        norm.__init__(self, 0, eps, momentum, False, False, device, dtype, bias=False)
        self._lazy_setup(affine, track_running_stats, bias, device, dtype)

    doc = f"""A {norm.__name__} whose num_features is dimension 1 of its first input. Unlike
    the eager {norm.__name__}, affine and track_running_stats default to True, as PyTorch's.

    Args:
        eps (float): added to the variance for stability.
        momentum (float, optional): the running statistics' update weight (None: a
            cumulative average).
        affine (bool): learn a per-feature scale and shift.
        track_running_stats (bool): keep running mean and variance for evaluation.
        device (str or device, optional): where the parameters and buffers live.
        dtype (dtype, optional): their dtype (default: the default dtype).
        bias (bool): with affine, learn the shift too.

    Shape:
        - Input: as {norm.__name__}'s, any feature count on the first call
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> layer = nn.{name}()
        >>> layer(chainrule.randn({example})).shape == ({example},), layer.num_features
        (True, 3)
    """
    return type(
        name,
        (_LazyNorm, norm),
        {"__init__": initialize, "__doc__": doc, "cls_to_become": norm, "__module__": __name__},
    )


LazyBatchNorm1d = _lazy_norm(BatchNorm1d, "LazyBatchNorm1d", "4, 3")
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, "LazyBatchNorm2d", "2, 3, 4, 4")
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, "LazyBatchNorm3d", "2, 3, 2, 2, 2")
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, "LazyInstanceNorm1d", "2, 3, 5")
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, "LazyInstanceNorm2d", "2, 3, 4, 4")
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, "LazyInstanceNorm3d", "2, 3, 2, 2, 2")
