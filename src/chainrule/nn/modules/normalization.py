"""LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm and CrossMapLRN2d: normalisation over
features, the same in train and eval."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.backend import device as Device
from chainrule.backend.dtypes import dtype as DType
from chainrule.nn import _functions, init
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import IntOrSequence


def _register_affine(
    module: Module, shape: Any, affine: bool, bias: bool, device: Any, dtype: Any
) -> None:
    """weight and bias of `shape` (filled by reset_parameters), or None placeholders, in
    PyTorch's registration order."""
    if affine:
        module.weight = Parameter(creation.empty(shape, device=device, dtype=dtype))
        if bias:
            module.bias = Parameter(creation.empty(shape, device=device, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module: Module) -> None:
    """weight = 1, bias = 0: the identity map."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Layer normalisation (Ba et al., 2016): each sample normalised over its trailing
    `normalized_shape` dimensions, (x - mean) / sqrt(var + eps) * weight + bias, with the
    biased variance. Unlike BatchNorm it does not depend on the batch, and is the same in
    training and eval mode; the normalisation of transformers.

    Args:
        normalized_shape (int | tuple[int, ...]): the trailing shape normalised over.
        eps (float): added to the variance before the square root.
        elementwise_affine (bool): learn weight (starting at 1) and bias (starting at 0) of
            shape `normalized_shape`.
        bias (bool): learn the bias (with elementwise_affine).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (N, *, normalized_shape)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.LayerNorm(4)(chainrule.tensor([[1.0, 2.0, 3.0, 4.0]]))
        tensor([[-1.3416, -0.4472,  0.4472,  1.3416]], grad_fn=<...>)
    """

    def __init__(
        self,
        normalized_shape: IntOrSequence,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters from their initial distribution, as the constructor does."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalisation (Wu and He, 2018): channels normalised in groups, per sample.

    The C channels are split into num_groups groups of C / num_groups consecutive channels; each
    sample's group is shifted and scaled to zero mean and unit variance over its channels and
    spatial positions (biased variance, eps added inside the square root), then a learned
    per-channel affine map y = x_hat * weight + bias is applied. Unlike BatchNorm it does not depend
    on the batch (the same in training and eval, fine with batch size 1). num_groups = 1 normalises
    like LayerNorm over (C, *), num_groups = C like InstanceNorm.

    Args:
        num_groups (int): the number of groups; must divide num_channels.
        num_channels (int): C, the number of channels expected in the input.
        eps (float): added to the variance for numerical stability (default: 1e-5).
        affine (bool): learn a per-channel weight (initially 1) and bias (initially 0)
            (default: True).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).
        bias (bool): with affine, learn the additive bias too (default: True).

    Shape:
        - Input: (N, C, *)
        - Output: the input's shape

    Attributes:
        weight (Parameter | None): the per-channel scale, of shape (C,).
        bias (Parameter | None): the per-channel shift, of shape (C,).

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> norm = nn.GroupNorm(2, 4)
        >>> out = norm(chainrule.arange(16.0).reshape(1, 4, 2, 2))
        >>> out.shape
        chainrule.Size([1, 4, 2, 2])
        >>> out.mean().abs().item() < 1e-6
        True
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, num_channels, affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters from their initial distribution, as the constructor does."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """Root-mean-square normalisation (Zhang and Sennrich, 2019), as in LLaMA-style transformers.

    Over the trailing `normalized_shape` dimensions, y = x / sqrt(mean(x**2) + eps) * weight. Unlike
    LayerNorm it neither subtracts the mean nor adds a bias: only the scale is normalised, which is
    cheaper and works as well in practice.

    Args:
        normalized_shape (int | tuple[int, ...]): the shape of the trailing dimensions that are
            normalised together (an int for the last dimension alone).
        eps (float, optional): added to the mean square; None (the default) uses the machine
            epsilon of the input's dtype, as PyTorch does.
        elementwise_affine (bool): learn a weight of shape normalized_shape, initially 1
            (default: True).
        device (str or device, optional): where the parameter lives ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameter's dtype (default: the default dtype).

    Shape:
        - Input: (*, normalized_shape)
        - Output: the input's shape

    Attributes:
        weight (Parameter | None): the learned scale, of shape normalized_shape.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.RMSNorm(2, eps=0.0)(chainrule.tensor([[3.0, 4.0]]))
        tensor([[0.8485, 1.1314]], grad_fn=<...>)
    """

    def __init__(
        self,
        normalized_shape: IntOrSequence,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(
                creation.empty(self.normalized_shape, device=device, dtype=dtype)
            )
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters from their initial distribution, as the constructor does."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class LocalResponseNorm(Module):
    """Normalises each channel by its neighbours' energy: x / (k + alpha * mean of x^2 over
    `size` neighbouring channels)^beta, as AlexNet did (the neighbourhood zero-padded at the
    first and last channels).

    Args:
        size (int): the number of neighbouring channels averaged.
        alpha (float): the scale of the average (default: 1e-4).
        beta (float): the exponent (default: 0.75).
        k (float): the additive constant (default: 1).

    Shape:
        - Input: (N, C, *)
        - Output: the shape of the input

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.LocalResponseNorm(2)(chainrule.ones(1, 3, 2, 2)).shape
        chainrule.Size([1, 3, 2, 2])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class CrossMapLRN2d(Module):
    """The legacy cross-channel local response normalisation of 4-D input, with PyTorch's
    own forward recurrence and hand-written backward (not LocalResponseNorm's numbers: its
    window is lopsided, see nn/_functions.py); for ported Lua Torch / early PyTorch
    models.

    Args:
        size (int): the number of neighbouring channels.
        alpha (float): the scale of their sum of squares (default: 1e-4).
        beta (float): the exponent (default: 0.75).
        k (float): the additive constant (default: 1).

    Shape:
        - Input: (N, C, H, W)
        - Output: the shape of the input

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.CrossMapLRN2d(3, alpha=0.3)(chainrule.ones(1, 4, 1, 1)).flatten()
        tensor([0.8722, 0.8214, 0.7770, 0.8214])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        return _functions.CrossMapLRN2d.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
