"""Weight initialisation, PyTorch's `torch.nn.init`: in place, under no_grad, returning the tensor.

The formulas (fans, gains, bounds) are PyTorch's; the random streams are chainrule's, so equal
seeds give equal distributions, not equal numbers.

>>> import chainrule
>>> from chainrule.nn import init
>>> w = chainrule.empty(3, 5)
>>> init.kaiming_uniform_(w, a=5 ** 0.5) is w
True
>>> bool(w.abs().le(1 / 5 ** 0.5).all())
True
"""

from __future__ import annotations

import math as _math
import warnings as _warnings
from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.ops import creation
from chainrule.ops.complex import refuse_complex
from chainrule.ops.elementwise import where

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from collections.abc import Callable
    from typing import Any

    from chainrule.ops.creation import Generator

__all__ = [
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh),
    sqrt(2) (relu), sqrt(2 / (1 + slope**2)) (leaky_relu), 3/4 (selu).

    Args:
        nonlinearity (str): 'linear', 'conv1d'..'conv_transpose3d', 'sigmoid', 'tanh', 'relu',
            'leaky_relu' or 'selu'; anything else is a ValueError.
        param (float, optional): the negative slope for 'leaky_relu' (0.01 if None).

    Returns:
        float: the gain.

    Example:
        >>> from chainrule.nn import init
        >>> init.calculate_gain("tanh")
        1.6666666666666667
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return _math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return _math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill with samples of U(a, b).

    Args:
        tensor (Tensor): the tensor to fill in place (a Parameter too: it runs under no_grad).
        a (float): the lower bound.
        b (float): the upper bound.
        generator (Generator, optional): the random stream to draw from; the global one by default.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule.nn import init
        >>> w = init.uniform_(chainrule.empty(3, 5), -0.1, 0.1)
        >>> bool(w.abs().max() <= 0.1)
        True
    """
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill with samples of N(mean, std**2).

    Args:
        tensor (Tensor): the tensor to fill in place (a Parameter too: it runs under no_grad).
        mean (float): the mean.
        std (float): the standard deviation.
        generator (Generator, optional): the random stream to draw from; the global one by default.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule.nn import init
        >>> w = init.normal_(chainrule.empty(1000), mean=2.0, std=0.01)
        >>> round(float(w.mean()), 1)
        2.0
    """
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def _any(mask: Tensor) -> bool:
    return mask.sum().item() != 0


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:
    """Fill with N(mean, std**2) restricted to [a, b], by rejection sampling (PyTorch's method):
    normal proposals when [a, b] holds over 30% of the mass, else uniform proposals on [a, b]
    accepted with probability exp(-(x - mean)**2 / (2 std**2)) relative to the peak. A mean more
    than 2 std outside [a, b] warns.

    Args:
        tensor (Tensor): the tensor to fill in place (a Parameter too: it runs under no_grad).
        mean (float): the mean of the untruncated normal.
        std (float): its standard deviation.
        a (float): the lower cut-off (in values, not in stds).
        b (float): the upper cut-off.
        generator (Generator, optional): the random stream to draw from; the global one by default.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule.nn import init
        >>> w = init.trunc_normal_(chainrule.empty(100), std=0.02, a=-0.04, b=0.04)
        >>> bool(w.abs().max() <= 0.04)
        True
    """

    def norm_cdf(x: float) -> float:
        return (1.0 + _math.erf(x / _math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        _warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of "
            "values may be incorrect.",
            stacklevel=2,
        )
    refuse_complex("trunc_normal_", tensor)  # bounds order real numbers only, as PyTorch's
    with no_grad():
        mass = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
        if mass > 0.3:
            result = creation.randn_like(tensor, generator=generator) * std + mean
            while True:
                rejected = (result < a) | (result > b)
                if not _any(rejected):
                    break
                fresh = creation.randn_like(tensor, generator=generator) * std + mean
                result = where(rejected, fresh, result)
        else:
            mode = max(a, min(mean, b))
            log_peak = -0.5 * ((mode - mean) / std) ** 2

            def propose() -> tuple[Tensor, Tensor]:
                candidate = creation.rand_like(tensor, generator=generator) * (b - a) + a
                log_density = ((candidate - mean) / std) ** 2 * -0.5 - log_peak
                log_u = creation.rand_like(tensor, generator=generator).log()
                return candidate, log_u > log_density

            result, pending = propose()
            while _any(pending):
                candidate, rejected = propose()
                result = where(pending, candidate, result)
                pending = pending & rejected
        return tensor.copy_(result)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill `tensor` with `val` in place, outside autograd.

    Args:
        tensor (Tensor): the tensor to fill in place (a Parameter too: it runs under no_grad).
        val (float): the value.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.init.constant_(chainrule.empty(2), 0.5)
        tensor([0.5000, 0.5000])
    """
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill `tensor` with ones in place, outside autograd.

    Args:
        tensor (Tensor): the tensor to fill in place (a Parameter too: it runs under no_grad).

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.init.ones_(chainrule.empty(2))
        tensor([1., 1.])
    """
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill `tensor` with zeros in place, outside autograd.

    Args:
        tensor (Tensor): the tensor to fill in place (a Parameter too: it runs under no_grad).

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.init.zeros_(chainrule.empty(2))
        tensor([0., 0.])
    """
    with no_grad():
        return tensor.zero_()


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D (possibly non-square) tensor with the identity: ones on the diagonal.

    Args:
        tensor (Tensor): 2-D; other ranks are a ValueError.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.init.eye_(chainrule.empty(2, 3))
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return tensor.copy_(creation.eye(*tensor.shape, dtype=tensor.dtype))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a convolution kernel (3-, 4- or 5-D) so that the convolution passes its input
    channels through unchanged: a one at the kernel's centre for output channel i and input
    channel i (per group), zeros elsewhere.

    Args:
        tensor (Tensor): (out_channels, in_channels / groups, *kernel_size).
        groups (int): the convolution's groups; out_channels must be divisible by it.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> w = nn.init.dirac_(chainrule.empty(2, 2, 3))
        >>> x = chainrule.randn(1, 2, 5)
        >>> chainrule.equal(nn.functional.conv1d(x, w, padding=1), x)
        True
    """
    dims = tensor.ndim
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    centre = tuple(size // 2 for size in sizes[2:])
    with no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min(out_per_group, sizes[1])):
                tensor[(g * out_per_group + d, d, *centre)] = 1
    return tensor


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out): size(1) and size(0), each times the receptive field (dims 2+)."""
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive_field = 1
    for size in tensor.shape[2:]:
        receptive_field *= size
    return tensor.size(1) * receptive_field, tensor.size(0) * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).
    fan_in is size(1), fan_out size(0), each times the receptive field (the dims after 1).

    Args:
        tensor (Tensor): at least 2-D.
        gain (float): the scale, e.g. `calculate_gain('tanh')`.
        generator (Generator, optional): the random stream to draw from; the global one by default.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule.nn import init
        >>> w = init.xavier_uniform_(chainrule.empty(4, 2))
        >>> bool(w.abs().max() <= 1.0)      # sqrt(6 / (2 + 4))
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * _math.sqrt(2.0 / float(fan_in + fan_out))
    bound = _math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio, 2010).

    Args:
        tensor (Tensor): at least 2-D.
        gain (float): the scale.
        generator (Generator, optional): the random stream to draw from; the global one by default.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule.nn import init
        >>> round(init.xavier_normal_(chainrule.empty(300, 200)).std().item(), 2)  # sqrt(2 / 500)
        0.06
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * _math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    """gain / sqrt(fan), or None (after PyTorch's warning) for a tensor with no elements."""
    if 0 in tensor.shape:
        _warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / _math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """U(-bound, bound), bound = gain * sqrt(3 / fan) (He et al., 2015). nn.Linear and
    the convolutions initialise their weight this way with a = sqrt(5). A zero-element tensor
    is left as it is (with PyTorch's warning).

    Args:
        tensor (Tensor): at least 2-D.
        a (float): the negative slope of the leaky_relu after the layer (0 for relu), which sets
            the gain.
        mode (str): 'fan_in' (the default: keeps the forward pass's variance) or 'fan_out'
            (keeps the backward pass's).
        nonlinearity (str): the activation after the layer, whose `calculate_gain` is the gain;
            'relu' or 'leaky_relu' (the default) are the usual choices.
        generator (Generator, optional): the random stream to draw from; the global one by default.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule.nn import init
        >>> w = init.kaiming_uniform_(chainrule.empty(3, 6), nonlinearity="relu")
        >>> bool(w.abs().max() <= 1.0)      # sqrt(2) * sqrt(3 / 6)
        True
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = _math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """N(0, std**2), std = gain / sqrt(fan) (He et al., 2015). A zero-element tensor is
    left as it is (with PyTorch's warning).

    Args:
        tensor (Tensor): at least 2-D.
        a (float): the negative slope of the leaky_relu after the layer (0 for relu).
        mode (str): 'fan_in' (the default: keeps the forward pass's variance) or 'fan_out'
            (keeps the backward pass's).
        nonlinearity (str): the activation after the layer, whose `calculate_gain` is the gain;
            'relu' or 'leaky_relu' (the default) are the usual choices.
        generator (Generator, optional): the random stream to draw from; the global one by default.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule.nn import init
        >>> w = init.kaiming_normal_(chainrule.empty(500, 200), mode="fan_out", nonlinearity="relu")
        >>> round(w.std().item(), 2)         # sqrt(2 / 500)
        0.06
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix (dims after the first flattened) times `gain`: the Q of a
    Gaussian matrix's QR decomposition, signs fixed by R's diagonal (Saxe et al., 2013).

    Args:
        tensor (Tensor): at least 2-D.
        gain (float): the scale.
        generator (Generator, optional): the random stream to draw from; the global one by default.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule.nn import init
        >>> w = init.orthogonal_(chainrule.empty(3, 5))
        >>> chainrule.allclose(w @ w.T, chainrule.eye(3), atol=1e-5)
        True
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    refuse_complex("orthogonal_", tensor)  # PyTorch's takes the signs of R's diagonal: real only
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flattened = creation.randn(rows, cols, generator=generator, dtype=tensor.dtype)
    xp = tensor._backend.xp
    matrix = flattened._array.T if rows < cols else flattened._array
    q, r = xp.linalg.qr(matrix)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    with no_grad():
        tensor.copy_(Tensor._from_array(xp.ascontiguousarray(q)).reshape(tensor.shape))
        tensor.mul_(gain)
    return tensor


def sparse_(
    tensor: Tensor, sparsity: float, std: float = 0.01, generator: Generator | None = None
) -> Tensor:
    """N(0, std**2) with a fraction `sparsity` of each column set to zero (Martens, 2010).

    Args:
        tensor (Tensor): 2-D.
        sparsity (float): the fraction of each column zeroed (ceil(sparsity * rows) entries).
        std (float): the standard deviation of the non-zero entries.
        generator (Generator, optional): the random stream to draw from; the global one by default.

    Returns:
        Tensor: `tensor` itself.

    Example:
        >>> import chainrule
        >>> from chainrule.nn import init
        >>> w = init.sparse_(chainrule.empty(4, 3), sparsity=0.5)
        >>> (w == 0).sum(0)
        tensor([2, 2, 2])
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = _math.ceil(sparsity * rows)
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        for col in range(cols):
            zero_rows = creation.randperm(rows, generator=generator)[:num_zeros]
            tensor[zero_rows, col] = 0
    return tensor


def _deprecated(function: Callable) -> Callable:
    new_name = function.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Any:
        _warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
            FutureWarning,
            stacklevel=2,
        )
        return function(*args, **kwargs)

    deprecated_init.__name__ = old_name
    deprecated_init.__doc__ = f"Deprecated: use {new_name}."
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
