"""Identity, Linear and Bilinear, with PyTorch's parameter names and default initialisation.

>>> import chainrule
>>> from chainrule import nn
>>> layer = nn.Linear(3, 2)
>>> layer(chainrule.ones(4, 3)).shape
chainrule.Size([4, 2])
>>> layer
Linear(in_features=3, out_features=2, bias=True)
"""

from __future__ import annotations

import math

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.backend import device as Device
from chainrule.backend.dtypes import dtype as DType
from chainrule.nn import init
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation


class Identity(Module):
    """A placeholder layer that returns its input unchanged.

    Useful to switch a part of a model off without changing its structure, e.g. replacing a
    classifier head to read out features: model.fc = nn.Identity().

    Args:
        *args (Any): ignored, so it can stand in for any layer's constructor call.
        **kwargs (Any): ignored, likewise.

    Shape:
        - Input: (*), any shape
        - Output: the input itself

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Identity(54, unused='argument')(chainrule.tensor([1.0, 2.0]))
        tensor([1., 2.])
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input


class Linear(Module):
    """A fully connected layer: y = x W^T + b, applied to the last dimension of the input.

    W has shape (out_features, in_features) and b shape (out_features,); both start as
    U(-k, k) with k = 1 / sqrt(in_features) (kaiming_uniform_ with a = sqrt(5)), as in PyTorch,
    so a model initialised with the same seed starts from the same weights' distribution.

    Args:
        in_features (int): the size of each input's last dimension.
        out_features (int): the size of each output's last dimension.
        bias (bool): learn an additive bias b; without it y = x W^T.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (*, in_features), any number of leading dimensions
        - Output: (*, out_features)

    Attributes:
        weight (Parameter): W, of shape (out_features, in_features).
        bias (Parameter | None): b, of shape (out_features,).

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> layer = nn.Linear(20, 30)
        >>> layer(chainrule.randn(128, 20)).shape
        chainrule.Size([128, 30])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(
            creation.empty((out_features, in_features), device=device, dtype=dtype)
        )
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters from their initial distribution, as the constructor does."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """MultiheadAttention's output projection: a Linear under another name (as in PyTorch, so
    that reprs match)."""


class Bilinear(Module):
    """A bilinear layer: y_k = x1^T A_k x2 + b_k for each output feature k.

    Every output feature is a learned bilinear form of the two inputs, which lets the layer model
    multiplicative interactions between them. A has shape (out_features, in1_features, in2_features)
    and b shape (out_features,); both start as U(-k, k), k = 1 / sqrt(in1_features), as in PyTorch.

    Args:
        in1_features (int): the size of the first input's last dimension.
        in2_features (int): the size of the second input's last dimension.
        out_features (int): the size of the output's last dimension.
        bias (bool): learn the additive bias b (default: True).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input1: (*, in1_features)
        - Input2: (*, in2_features), the same leading dimensions
        - Output: (*, out_features)

    Attributes:
        weight (Parameter): A, of shape (out_features, in1_features, in2_features).
        bias (Parameter | None): b, of shape (out_features,).

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> layer = nn.Bilinear(3, 4, 5)
        >>> layer(chainrule.zeros(8, 3), chainrule.zeros(8, 4)).shape
        chainrule.Size([8, 5])
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(
            creation.empty((out_features, in1_features, in2_features), device=device, dtype=dtype)
        )
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters from their initial distribution, as the constructor does."""
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
