# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""chainrule.nn.functional: PyTorch's torch.nn.functional, imported as `F`.

The heavy ops are Op classes in the nn kernel files of `chainrule.ops` (activation,
convolution, pooling, normalization, embedding, linear, dropout, losses, interpolation); the
rest are compositions of differentiable chainrule ops here, so every function has exact higher
derivatives. Convolution, pooling and interpolation read PyTorch's arguments here, once for
their 1-d, 2-d and 3-d variants, and hand the kernels tuples.

>>> import chainrule
>>> import chainrule.nn.functional as F
>>> F.relu(chainrule.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""

from __future__ import annotations

import math as _math
import warnings as _warnings
from itertools import product as _product
from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule.backend.dtypes import bfloat16 as _bfloat16
from chainrule.backend.dtypes import bool_ as _bool
from chainrule.backend.dtypes import float16 as _float16
from chainrule.backend.dtypes import float32 as _float32
from chainrule.backend.dtypes import int64 as _int64
from chainrule.backends.cuda import flash_sdp_enabled as _flash_sdp_enabled
from chainrule.errors import (
    ArgumentAssertionError,
    DomainError,
    DTypeError,
    IndexRangeError,
    ShapeError,
    warn_once,
)
from chainrule.nn.attention.bias import CausalBias as _CausalBias
from chainrule.nn.attention.bias import CausalVariant as _CausalVariant
from chainrule.ops import activation as _activation_ops
from chainrule.ops import convolution as _conv_ops
from chainrule.ops import fractional_pooling as _fractional_ops
from chainrule.ops import interpolation as _interpolation_ops
from chainrule.ops import pooling as _pool_ops
from chainrule.ops.activation import (
    celu,
    elu,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    rrelu,
    selu,
    silu,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from chainrule.ops.autocast import FLOAT32 as _FLOAT32
from chainrule.ops.autocast import LOWER as _LOWER
from chainrule.ops.autocast import autocast_active as _autocast_active
from chainrule.ops.autocast import autocast_operands as _autocast_operands
from chainrule.ops.autocast import autocast_policy as _autocast_policy
from chainrule.ops.complex import refuse_complex as _refuse_complex
from chainrule.ops.conversion import cast as _cast
from chainrule.ops.conversion import keep_channels_last as _keep_channels_last
from chainrule.ops.creation import ones as _ones
from chainrule.ops.creation import rand_like as _rand_like
from chainrule.ops.creation import triu_indices as _triu_indices
from chainrule.ops.creation import zeros as _zeros
from chainrule.ops.creation import zeros_like as _zeros_like
from chainrule.ops.dropout import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.elementwise import clamp as _clamp
from chainrule.ops.elementwise import exp as _exp
from chainrule.ops.elementwise import floor as _floor
from chainrule.ops.elementwise import fmod as _fmod
from chainrule.ops.elementwise import isneginf as _isneginf
from chainrule.ops.elementwise import log, sigmoid, sqrt, tanh, where
from chainrule.ops.elementwise import log1p as _log1p
from chainrule.ops.elementwise import minimum as _minimum
from chainrule.ops.elementwise import nan_to_num as _nan_to_num
from chainrule.ops.elementwise import round as _round
from chainrule.ops.elementwise import sign as _sign
from chainrule.ops.elementwise import xlogy as _xlogy
from chainrule.ops.embedding import embedding, one_hot
from chainrule.ops.indexing import masked_fill, pad, scatter
from chainrule.ops.interpolation import INTERPOLATING_MODES as _INTERPOLATING_MODES
from chainrule.ops.linalg import bmm as _bmm
from chainrule.ops.linalg import distance_norm as _distance_norm
from chainrule.ops.linalg import matmul
from chainrule.ops.linalg import tril as _tril
from chainrule.ops.linear import linear
from chainrule.ops.losses import binary_cross_entropy_elements as _binary_cross_entropy_elements
from chainrule.ops.losses import check_reduction as _check_reduction
from chainrule.ops.losses import cross_entropy, nll_loss
from chainrule.ops.losses import legacy_reduction as _legacy_reduction
from chainrule.ops.losses_extra import ctc_loss, multi_margin_loss, multilabel_margin_loss
from chainrule.ops.nn_common import check_floating as _check_floating
from chainrule.ops.nn_common import check_vector as _check_vector
from chainrule.ops.nn_common import refuse_complex_autograd as _refuse_complex_autograd
from chainrule.ops.nn_common import shape_constant as _shape_constant
from chainrule.ops.normalization import batch_norm, group_norm, instance_norm, layer_norm, rms_norm
from chainrule.ops.op import apply as _apply
from chainrule.ops.op import named as _named
from chainrule.ops.reduction import ScaledCausalSoftmax as _ScaledCausalSoftmax
from chainrule.ops.reduction import all as _all
from chainrule.ops.reduction import log_softmax as _log_softmax
from chainrule.ops.reduction import mean as _mean
from chainrule.ops.reduction import norm
from chainrule.ops.reduction import softmax as _softmax
from chainrule.ops.reduction import sum as _sum
from chainrule.ops.shape import broadcast_tensors, expand, reshape, transpose, unsqueeze
from chainrule.ops.shape import cat as _cat

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from collections.abc import Callable, Sequence
    from typing import Any

    from chainrule._tensor import Tensor
    from chainrule._typing import FloatOrSequence, IntOrSequence
    from chainrule.backend import dtypes

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices", "affine_grid", "alpha_dropout",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "batch_norm", "bilinear", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "celu", "celu_", "channel_shuffle", "conv1d", "conv2d",
    "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "cosine_embedding_loss",
    "cosine_similarity", "cross_entropy", "ctc_loss", "dropout", "dropout1d", "dropout2d",
    "dropout3d", "elu", "elu_", "embedding", "embedding_bag", "feature_alpha_dropout", "fold",
    "fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
    "gaussian_nll_loss", "gelu", "glu", "grid_sample", "group_norm", "gumbel_softmax", "hardshrink",
    "hardsigmoid", "hardswish", "hardtanh", "hardtanh_", "hinge_embedding_loss", "huber_loss",
    "instance_norm", "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "leaky_relu_",
    "linear", "local_response_norm", "log_softmax", "logsigmoid", "lp_pool1d", "lp_pool2d",
    "lp_pool3d", "margin_ranking_loss", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
    "max_pool2d_with_indices", "max_pool3d", "max_pool3d_with_indices", "max_unpool1d",
    "max_unpool2d", "max_unpool3d", "mish", "mse_loss", "multi_head_attention_forward",
    "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "native_channel_shuffle", "nll_loss",
    "normalize", "one_hot", "pad", "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle",
    "poisson_nll_loss", "prelu", "relu", "relu6", "relu_", "rms_norm", "rrelu", "rrelu_",
    "scaled_dot_product_attention", "selu", "selu_", "sigmoid", "silu", "smooth_l1_loss",
    "soft_margin_loss", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold", "threshold_", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "unfold", "upsample", "upsample_bilinear",
    "upsample_nearest",
]  # fmt: skip


# ---- softmax, log_softmax, softmin ---------------------------------------------------------


def _softmax_dim(name: str, ndim: int) -> int:
    """PyTorch's legacy implicit dim for softmax-like functions called without one (with its
    deprecation warning)."""
    _warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: dtypes.dtype | None = None
) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`: each slice becomes a probability distribution. Computed
    with the maximum subtracted first, so large inputs do not overflow.

    Args:
        input (Tensor): floating point, any shape.
        dim (int): the dimension that sums to 1. None picks PyTorch's legacy implicit one
            (0 for 0-D, 1-D and 3-D input, else 1): pass it explicitly.
        dtype (dtype, optional): convert the input to this dtype first.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.softmax(chainrule.tensor([[1.0, 1.0], [0.0, 1000.0]]), dim=1)
        tensor([[0.5000, 0.5000],
                [0.0000, 1.0000]])
    """
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return _softmax(input, dim, dtype=dtype)


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: dtypes.dtype | None = None
) -> Tensor:
    """x - logsumexp(x) along `dim`: the log of softmax, computed stably (pair it with `nll_loss`,
    or use `cross_entropy`, which does both).

    Args:
        input (Tensor): floating point, any shape.
        dim (int): the dimension normalized over. None picks PyTorch's legacy implicit one
            (0 for 0-D, 1-D and 3-D input, else 1) with a warning: pass it explicitly.
        dtype (dtype, optional): convert the input to this dtype first.

    Returns:
        Tensor: the shape of `input`; exp of each slice along `dim` sums to 1.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.log_softmax(chainrule.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return _log_softmax(input, dim, dtype=dtype)


def softmin(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: dtypes.dtype | None = None
) -> Tensor:
    """softmax(-x) along `dim`: the smallest values get the largest probabilities.

    Args:
        input (Tensor): floating point, any shape.
        dim (int): the dimension that sums to 1 (None: PyTorch's legacy implicit choice, with a
            warning).
        dtype (dtype, optional): convert the input to this dtype first.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.softmin(chainrule.tensor([0.0, 1.0]), dim=0)
        tensor([0.7311, 0.2689])
    """
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    return _softmax(-input, dim, dtype=dtype)


# ---- linear layers -------------------------------------------------------------------------


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = x1 W[o] x2 + b[o], the bilinear form of `nn.Bilinear`.

    Args:
        input1 (Tensor): (*, in1_features).
        input2 (Tensor): (*, in2_features), the same leading shape as `input1`.
        weight (Tensor): (out_features, in1_features, in2_features).
        bias (Tensor, optional): (out_features,).

    Returns:
        Tensor: (*, out_features).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x1, x2 = chainrule.tensor([[1.0, 2.0]]), chainrule.tensor([[3.0]])
        >>> F.bilinear(x1, x2, chainrule.ones(4, 2, 1)).shape
        chainrule.Size([1, 4])
        >>> F.bilinear(x1, x2, chainrule.ones(1, 2, 1), chainrule.tensor([1.0]))
        tensor([[10.]])
    """
    _refuse_complex_autograd("bilinear", input1, input2, weight, bias)
    if (
        weight.ndim != 3
        or input1.shape[-1] != weight.shape[1]
        or input2.shape[-1] != weight.shape[2]
    ):
        raise ShapeError(
            f"bilinear: weight of shape {tuple(weight.shape)} does not fit inputs of shapes "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise ShapeError(
            f"bilinear: input batch dimensions differ: {tuple(input1.shape)} and "
            f"{tuple(input2.shape)}"
        )
    out_features, in1, in2 = weight.shape
    lead = tuple(input1.shape[:-1])
    rows = reshape(input1, (-1, in1))
    mixed = matmul(rows, reshape(transpose(weight, 0, 1), (in1, out_features * in2)))
    mixed = reshape(mixed, (-1, out_features, in2)) * unsqueeze(reshape(input2, (-1, in2)), 1)
    out = reshape(_sum(mixed, -1), lead + (out_features,))
    return out if bias is None else out + bias


# ---- convolution, pooling, interpolation: PyTorch's arguments, read once -------------------
# conv1d/2d/3d, conv_transpose1d/2d/3d and the pools are thin wrappers that name the function
# and its number of spatial dimensions; the helpers below read PyTorch's arguments (an int or a
# tuple per dimension, padding strings, ceil_mode, output_size) once for every variant, so the
# kernels in chainrule.ops.convolution, pooling and interpolation get tuples.


def _ntuple(name: str, argument: str, value: int | Sequence[int], dims: int) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of `dims` ints (a 1-sequence is repeated)."""
    if isinstance(value, int):
        return (value,) * dims
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise DomainError(
            f"{name}: {argument} must be an int or a tuple of {dims} ints, got {value}"
        )
    return values


def _spatial_input(
    name: str, input: Tensor, dims: int, integers: bool = False, complex_ok: bool = False
) -> tuple[Tensor, bool]:
    """A floating (N, C, *spatial) input (or an integer one, where `integers`: max pooling, as
    PyTorch; or a complex one, where `complex_ok`: convolutions), the batch dimension added to
    an unbatched (C, *spatial) one; and whether it was added (the result drops it again)."""
    if input.ndim == dims + 2:
        x, unbatched = input, False
    elif input.ndim == dims + 1:
        x, unbatched = unsqueeze(input, 0), True
    else:
        raise ShapeError(
            f"{name}: expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input, but got "
            f"input of shape {tuple(input.shape)}"
        )
    kind = x._array.dtype.kind
    if not (integers and kind in "iu"):
        _check_floating(name, input=x, complex_ok=complex_ok)
    return x, unbatched


def _conv_padding(
    name: str,
    padding: int | Sequence[int] | str,
    dims: int,
    kernel: tuple,
    stride: tuple,
    dilation: tuple,
) -> tuple:
    """PyTorch's padding argument ('valid', 'same', an int or ints) as ((lo, hi), ...)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding != "same":
            raise DomainError(
                f"{name}: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
        if any(s != 1 for s in stride):
            raise DomainError(f"{name}: padding='same' is not supported for strided convolutions")
        total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
        if any(t % 2 for t in total):  # PyTorch's TORCH_WARN_ONCE: the odd pixel goes right
            warn_once(
                "Using padding='same' with even kernel lengths and odd dilation may require a "
                "zero-padded copy of the input be created",
                stacklevel=5,
            )
        return tuple((t // 2, t - t // 2) for t in total)
    pads = _ntuple(name, "padding", padding, dims)
    if any(p < 0 for p in pads):
        raise DomainError(f"{name}: negative padding is not supported, got {padding}")
    return tuple((p, p) for p in pads)


def _check_conv(name: str, x: Tensor, w: Tensor, groups: int, dims: int, transposed: bool) -> None:
    # Integer convolutions too, as PyTorch's CPU kernels (forward only, integer results);
    # its transposed ones take int64 alone.
    _check_floating(name, input=x, weight=w, complex_ok=True, integer_ok=True)
    real_or_int64 = x.dtype.is_floating_point or x.dtype.is_complex or x.dtype.name == "int64"
    if transposed and not real_or_int64:
        raise DTypeError(f"{name}: not implemented for {x.dtype.name} (int64 only)")
    if w.ndim != dims + 2:
        raise ShapeError(
            f"{name}: expected {dims + 2}D weight, got weight of shape {tuple(w.shape)}"
        )
    if groups < 1:
        raise DomainError(f"{name}: non-positive groups is not supported, got {groups}")
    channels = x.shape[1]
    if transposed:
        if channels != w.shape[0]:
            raise ShapeError(
                f"{name}: given weight of shape {tuple(w.shape)}, expected input of shape "
                f"{tuple(x.shape)} to have {w.shape[0]} channels, but got {channels} channels"
            )
        if w.shape[0] % groups:
            raise ShapeError(
                f"{name}: weight of shape {tuple(w.shape)}: {w.shape[0]} input channels "
                f"not divisible by groups={groups}"
            )
        return
    if w.shape[0] % groups:
        raise ShapeError(
            f"{name}: given groups={groups}, expected weight of shape {tuple(w.shape)} to be "
            f"divisible by {groups} at dimension 0"
        )
    if channels != w.shape[1] * groups:
        raise ShapeError(
            f"{name}: given groups={groups}, weight of shape {tuple(w.shape)} expects input of "
            f"shape {tuple(x.shape)} to have {w.shape[1] * groups} channels, but got {channels} "
            "channels instead"
        )


def _convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: int | Sequence[int],
    padding: int | Sequence[int] | str,
    dilation: int | Sequence[int],
    groups: int,
    dims: int,
    name: str,
) -> Tensor:
    """convNd's arguments checked and read for the Convolution kernel."""
    if _autocast_active() is not None:
        input, weight, bias = _autocast_operands(_LOWER, input, weight, bias)  # noqa: A001
    x, unbatched = _spatial_input(name, input, dims, integers=True, complex_ok=True)
    _check_conv(name, x, weight, groups, dims, transposed=False)
    kernel = tuple(weight.shape[2:])
    stride = _ntuple(name, "stride", stride, dims)
    dilation = _ntuple(name, "dilation", dilation, dims)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise DomainError(
            f"{name}: stride and dilation must be positive, got {stride} and {dilation}"
        )
    pads = _conv_padding(name, padding, dims, kernel, stride, dilation)
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(x.shape[2:], pads))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s > p for s, p in zip(span, padded)):
        raise ShapeError(
            f"{name}: padded input size per channel {padded} is smaller than the (dilated) "
            f"kernel size {span} (input shape {tuple(input.shape)}, weight shape "
            f"{tuple(weight.shape)})"
        )
    if bias is not None:
        _check_vector(name, "bias", bias, (weight.shape[0],))
        _check_floating(name, input=x, bias=bias, complex_ok=True, integer_ok=True)
    out = _conv_ops.convolution(x, weight, bias, stride, pads, dilation, groups)
    return _named(out[0], "SqueezeBackward1") if unbatched else out


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution (cross-correlation, as every deep-learning library computes it) of
    (N, C_in, L) input with a (C_out, C_in / groups, kL) weight.

    Args:
        input (Tensor): floating point (N, C_in, L) or unbatched (C_in, L).
        weight (Tensor): (C_out, C_in / groups, kL).
        bias (Tensor, optional): (C_out,).
        stride (int or tuple): the step between windows (an int applies to every dimension).
        padding (int, tuple or str): zeros added on both sides of each spatial dimension, or
            'valid' (none) or 'same' (the output keeps the input's size; stride 1 only).
        dilation (int or tuple): the spacing between kernel elements.
        groups (int): split the channels into this many independent groups (divides C_in and
            C_out).

    Shape:
        output: (N, C_out, *out) with out = floor((in + 2 padding - dilation (k - 1) - 1) /
        stride) + 1 per spatial dimension.

    Returns:
        Tensor: as Shape says (unbatched input gives unbatched output).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x, w = chainrule.ones(1, 2, 5), chainrule.ones(4, 2, 3)
        >>> F.conv1d(x, w).shape
        chainrule.Size([1, 4, 3])
        >>> F.conv1d(x, w, padding="same").shape
        chainrule.Size([1, 4, 5])
    """
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as every deep-learning library computes it) of
    (N, C_in, H, W) input with a (C_out, C_in / groups, kH, kW) weight.

    Args:
        input (Tensor): floating point (N, C_in, H, W) or unbatched (C_in, H, W).
        weight (Tensor): (C_out, C_in / groups, kH, kW).
        bias (Tensor, optional): (C_out,).
        stride (int or tuple): the step between windows (an int applies to every dimension).
        padding (int, tuple or str): zeros added on both sides of each spatial dimension, or
            'valid' (none) or 'same' (the output keeps the input's size; stride 1 only).
        dilation (int or tuple): the spacing between kernel elements.
        groups (int): split the channels into this many independent groups (divides C_in and
            C_out).

    Shape:
        output: (N, C_out, *out) with out = floor((in + 2 padding - dilation (k - 1) - 1) /
        stride) + 1 per spatial dimension.

    Returns:
        Tensor: as Shape says (unbatched input gives unbatched output).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x, w = chainrule.ones(1, 2, 5, 5), chainrule.ones(4, 2, 3, 3)
        >>> F.conv2d(x, w).shape
        chainrule.Size([1, 4, 3, 3])
        >>> F.conv2d(x, w, padding="same").shape
        chainrule.Size([1, 4, 5, 5])
    """
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution (cross-correlation, as every deep-learning library computes it) of
    (N, C_in, D, H, W) input with a (C_out, C_in / groups, kD, kH, kW) weight.

    Args:
        input (Tensor): floating point (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight (Tensor): (C_out, C_in / groups, kD, kH, kW).
        bias (Tensor, optional): (C_out,).
        stride (int or tuple): the step between windows (an int applies to every dimension).
        padding (int, tuple or str): zeros added on both sides of each spatial dimension, or
            'valid' (none) or 'same' (the output keeps the input's size; stride 1 only).
        dilation (int or tuple): the spacing between kernel elements.
        groups (int): split the channels into this many independent groups (divides C_in and
            C_out).

    Shape:
        output: (N, C_out, *out) with out = floor((in + 2 padding - dilation (k - 1) - 1) /
        stride) + 1 per spatial dimension.

    Returns:
        Tensor: as Shape says (unbatched input gives unbatched output).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x, w = chainrule.ones(1, 2, 5, 5, 5), chainrule.ones(4, 2, 3, 3, 3)
        >>> F.conv3d(x, w).shape
        chainrule.Size([1, 4, 3, 3, 3])
        >>> F.conv3d(x, w, padding="same").shape
        chainrule.Size([1, 4, 5, 5, 5])
    """
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _convolution_transpose(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    output_padding: int | Sequence[int],
    groups: int,
    dilation: int | Sequence[int],
    dims: int,
    name: str,
) -> Tensor:
    """conv_transposeNd's arguments checked and read for the ConvolutionTranspose kernel."""
    if _autocast_active() is not None:
        input, weight, bias = _autocast_operands(_LOWER, input, weight, bias)  # noqa: A001
    x, unbatched = _spatial_input(name, input, dims, integers=True, complex_ok=True)
    _check_conv(name, x, weight, groups, dims, transposed=True)
    kernel = tuple(weight.shape[2:])
    stride = _ntuple(name, "stride", stride, dims)
    dilation = _ntuple(name, "dilation", dilation, dims)
    if isinstance(padding, str):
        raise TypeError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
    pads = _ntuple(name, "padding", padding, dims)
    extra = _ntuple(name, "output_padding", output_padding, dims)
    for e, s, d in zip(extra, stride, dilation):
        if e >= s and e >= d:
            raise DomainError(
                f"{name}: output padding must be smaller than either stride or dilation, "
                f"got output_padding={extra}, stride={stride}, dilation={dilation}"
            )
    out_size = tuple(
        (size - 1) * s - 2 * p + d * (k - 1) + e + 1
        for size, s, p, d, k, e in zip(x.shape[2:], stride, pads, dilation, kernel, extra)
    )
    if any(size <= 0 for size in out_size):
        raise ShapeError(
            f"{name}: input of shape {tuple(input.shape)} gives a non-positive output "
            f"size {out_size}"
        )
    channels = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (channels,):
        raise ShapeError(f"{name}: expected bias of shape ({channels},), got {tuple(bias.shape)}")
    if bias is not None:
        _check_floating(name, input=x, bias=bias, complex_ok=True, integer_ok=True)
    padding_pairs = tuple((p, p) for p in pads)
    out = _conv_ops.convolution_transpose(
        x, weight, stride, padding_pairs, dilation, groups, out_size
    )
    if bias is not None:
        out = out + reshape(bias, (channels,) + (1,) * (out.ndim - 2))
    if unbatched:
        return _named(out[0], "SqueezeBackward1")
    return _named(out, "ConvolutionBackward0")  # PyTorch's one node, bias included


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """Transposed 1-D convolution (the gradient of conv1d with respect to its input, sometimes
    called deconvolution): it maps (N, C_in, L) to a larger (N, C_out, ...).

    Args:
        input (Tensor): floating point (N, C_in, L) or unbatched (C_in, L).
        weight (Tensor): (C_in, C_out / groups, kL), laid out as PyTorch's.
        bias (Tensor, optional): (C_out,).
        stride (int or tuple): the step between windows of the matching convolution.
        padding (int or tuple): dilation (k - 1) - padding zeros are added on both sides.
        output_padding (int or tuple): extra size added on one side of the output (smaller than
            stride or dilation), to pick among the input sizes a strided convolution maps alike.
        groups (int): split the channels into this many independent groups.
        dilation (int or tuple): the spacing between kernel elements.

    Shape:
        output: (N, C_out, *out) with out = (in - 1) stride - 2 padding + dilation (k - 1) +
        output_padding + 1 per spatial dimension.

    Returns:
        Tensor: as Shape says (unbatched input gives unbatched output).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x, w = chainrule.ones(1, 2, 3), chainrule.ones(2, 4, 3)
        >>> F.conv_transpose1d(x, w).shape
        chainrule.Size([1, 4, 5])
    """
    arguments = (stride, padding, output_padding, groups, dilation)
    return _convolution_transpose(input, weight, bias, *arguments, 1, "conv_transpose1d")


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input, sometimes
    called deconvolution): it maps (N, C_in, H, W) to a larger (N, C_out, ...).

    Args:
        input (Tensor): floating point (N, C_in, H, W) or unbatched (C_in, H, W).
        weight (Tensor): (C_in, C_out / groups, kH, kW), laid out as PyTorch's.
        bias (Tensor, optional): (C_out,).
        stride (int or tuple): the step between windows of the matching convolution.
        padding (int or tuple): dilation (k - 1) - padding zeros are added on both sides.
        output_padding (int or tuple): extra size added on one side of the output (smaller than
            stride or dilation), to pick among the input sizes a strided convolution maps alike.
        groups (int): split the channels into this many independent groups.
        dilation (int or tuple): the spacing between kernel elements.

    Shape:
        output: (N, C_out, *out) with out = (in - 1) stride - 2 padding + dilation (k - 1) +
        output_padding + 1 per spatial dimension.

    Returns:
        Tensor: as Shape says (unbatched input gives unbatched output).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x, w = chainrule.ones(1, 2, 3, 3), chainrule.ones(2, 4, 3, 3)
        >>> F.conv_transpose2d(x, w).shape
        chainrule.Size([1, 4, 5, 5])
    """
    arguments = (stride, padding, output_padding, groups, dilation)
    return _convolution_transpose(input, weight, bias, *arguments, 2, "conv_transpose2d")


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """Transposed 3-D convolution (the gradient of conv3d with respect to its input, sometimes
    called deconvolution): it maps (N, C_in, D, H, W) to a larger (N, C_out, ...).

    Args:
        input (Tensor): floating point (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight (Tensor): (C_in, C_out / groups, kD, kH, kW), laid out as PyTorch's.
        bias (Tensor, optional): (C_out,).
        stride (int or tuple): the step between windows of the matching convolution.
        padding (int or tuple): dilation (k - 1) - padding zeros are added on both sides.
        output_padding (int or tuple): extra size added on one side of the output (smaller than
            stride or dilation), to pick among the input sizes a strided convolution maps alike.
        groups (int): split the channels into this many independent groups.
        dilation (int or tuple): the spacing between kernel elements.

    Shape:
        output: (N, C_out, *out) with out = (in - 1) stride - 2 padding + dilation (k - 1) +
        output_padding + 1 per spatial dimension.

    Returns:
        Tensor: as Shape says (unbatched input gives unbatched output).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x, w = chainrule.ones(1, 2, 3, 3, 3), chainrule.ones(2, 4, 3, 3, 3)
        >>> F.conv_transpose3d(x, w).shape
        chainrule.Size([1, 4, 5, 5, 5])
    """
    arguments = (stride, padding, output_padding, groups, dilation)
    return _convolution_transpose(input, weight, bias, *arguments, 3, "conv_transpose3d")


def _pool_geometry(
    name: str,
    dims: int,
    shape: tuple,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    ceil_mode: bool,
) -> tuple:
    """kernel, stride, ((lo, hi), ...) padding, dilation and output size of a pooling window,
    with PyTorch's rule that in ceil mode the last window must start inside the input."""
    kernel = _ntuple(name, "kernel_size", kernel_size, dims)
    stride = (
        kernel
        if stride is None or stride == [] or stride == ()
        else _ntuple(name, "stride", stride, dims)
    )
    pads = _ntuple(name, "padding", padding, dims)
    dilation = _ntuple(name, "dilation", dilation, dims)
    if any(k < 1 for k in kernel) or any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise DomainError(
            f"{name}: kernel_size, stride and dilation must be positive, got {kernel}, "
            f"{stride}, {dilation}"
        )
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise DomainError(
            f"{name}: pad should be at most half of kernel size, but got pad={pads} and "
            f"kernel_size={kernel}"
        )
    out_size: list[int] = []
    pairs: list[tuple[int, int]] = []
    for size, k, s, p, d in zip(shape, kernel, stride, pads, dilation):
        span = d * (k - 1) + 1
        room = size + 2 * p - span
        count = (-(-room // s) if ceil_mode else room // s) + 1
        if ceil_mode and (count - 1) * s >= size + p:
            count -= 1
        if count < 1:
            raise ShapeError(
                f"{name}: input of spatial size {tuple(shape)} is too small for kernel "
                f"{kernel} (output size would be {count})"
            )
        out_size.append(count)
        pairs.append((p, max(p, (count - 1) * s + span - size - p)))
    return kernel, stride, tuple(pairs), dilation, tuple(out_size)


def _adaptive_size(
    name: str, dims: int, shape: tuple, output_size: int | None | Sequence[int | None]
) -> tuple:
    """output_size as `dims` ints; None keeps that input size."""
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * dims
    output_size = tuple(output_size)
    if len(output_size) == 1:
        output_size = output_size * dims
    if len(output_size) != dims:
        raise DomainError(f"{name}: output_size must have {dims} elements, got {output_size}")
    sizes = tuple(size if o is None else int(o) for o, size in zip(output_size, shape))
    # An empty output is PyTorch's answer to output_size 0 (an empty input is refused).
    if any(o < 0 for o in sizes) or any(size < 1 for size in shape):
        raise ShapeError(f"{name}: invalid output_size {sizes} for input of spatial size {shape}")
    return sizes


def _pool_node_name(pattern: str, dims: int) -> str:
    """PyTorch's grad_fn name for a pooling of `dims` spatial dimensions, `pattern` formatted
    with dims: its 1-d pools run as 2-d ones on an unsqueezed input, squeezed back after."""
    return "SqueezeBackward1" if dims == 1 else pattern.format(dims)


def _max_result(
    out: Tensor, indices: Tensor, unbatched: bool, return_indices: bool, node_name: str
) -> Tensor | tuple[Tensor, Tensor]:
    if unbatched:
        out, indices = out[0], indices[0]
    out = _named(out, node_name)
    return (out, indices) if return_indices else out


def _max_pool(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    ceil_mode: bool,
    return_indices: bool,
    dims: int,
    name: str,
) -> Tensor | tuple[Tensor, Tensor]:
    # Integer input as PyTorch takes it: everywhere but max_pool1d without indices.
    integers = dims > 1 or return_indices
    x, unbatched = _spatial_input(name, input, dims, integers)
    shape = tuple(x.shape[2:])
    geometry = _pool_geometry(name, dims, shape, kernel_size, stride, padding, dilation, ceil_mode)
    out, indices = _pool_ops.max_pool(x, *geometry)
    node_name = _pool_node_name("MaxPool{}DWithIndicesBackward0", dims)
    return _max_result(out, indices, unbatched, return_indices, node_name)


def max_pool1d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over sliding windows of (N, C, L) input, each channel on its own.
    Padding is -inf, so it is never picked; the gradient goes to the (first) maximum of each window.

    Args:
        input (Tensor): (N, C, L) or unbatched (C, L).
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the step between windows; default `kernel_size`.
        padding (int or tuple): at most half the kernel size on both sides.
        dilation (int or tuple): the spacing between window elements.
        ceil_mode (bool): round the output size up (a last window may hang over the edge if it
            starts inside the input or left padding).
        return_indices (bool): also return the flat index of each maximum in its plane (what
            max_unpool1d takes).

    Shape:
        output: (N, C, *out) with out = floor((in + 2 padding - dilation (k - 1) - 1) /
        stride) + 1 (ceil in ceil_mode).

    Returns:
        Tensor, or (Tensor, Tensor) with `return_indices`: the maxima and their int64 indices.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.max_pool1d(chainrule.ones(1, 2, 5), 2).shape
        chainrule.Size([1, 2, 2])
    """
    window = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(input, *window, return_indices, 1, "max_pool1d")


def max_pool2d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over sliding windows of (N, C, H, W) input, each channel on its own.
    Padding is -inf, so it is never picked; the gradient goes to the (first) maximum of each window.

    Args:
        input (Tensor): (N, C, H, W) or unbatched (C, H, W).
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the step between windows; default `kernel_size`.
        padding (int or tuple): at most half the kernel size on both sides.
        dilation (int or tuple): the spacing between window elements.
        ceil_mode (bool): round the output size up (a last window may hang over the edge if it
            starts inside the input or left padding).
        return_indices (bool): also return the flat index of each maximum in its plane (what
            max_unpool2d takes).

    Shape:
        output: (N, C, *out) with out = floor((in + 2 padding - dilation (k - 1) - 1) /
        stride) + 1 (ceil in ceil_mode).

    Returns:
        Tensor, or (Tensor, Tensor) with `return_indices`: the maxima and their int64 indices.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.max_pool2d(chainrule.ones(1, 2, 5, 5), 2).shape
        chainrule.Size([1, 2, 2, 2])
    """
    window = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(input, *window, return_indices, 2, "max_pool2d")


@_autocast_policy(_FLOAT32)
def max_pool3d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over sliding windows of (N, C, D, H, W) input, each channel on its own.
    Padding is -inf, so it is never picked; the gradient goes to the (first) maximum of each window.

    Args:
        input (Tensor): (N, C, D, H, W) or unbatched (C, D, H, W).
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the step between windows; default `kernel_size`.
        padding (int or tuple): at most half the kernel size on both sides.
        dilation (int or tuple): the spacing between window elements.
        ceil_mode (bool): round the output size up (a last window may hang over the edge if it
            starts inside the input or left padding).
        return_indices (bool): also return the flat index of each maximum in its plane (what
            max_unpool3d takes).

    Shape:
        output: (N, C, *out) with out = floor((in + 2 padding - dilation (k - 1) - 1) /
        stride) + 1 (ceil in ceil_mode).

    Returns:
        Tensor, or (Tensor, Tensor) with `return_indices`: the maxima and their int64 indices.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.max_pool3d(chainrule.ones(1, 2, 5, 5, 5), 2).shape
        chainrule.Size([1, 2, 2, 2, 2])
    """
    window = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(input, *window, return_indices, 3, "max_pool3d")


def _max_unpool(
    input: Tensor,  # noqa: A002
    indices: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    output_size: Sequence[int] | None,
    dims: int,
    name: str,
) -> Tensor:
    """The inverse of max pooling: zeros with each value written back at its flat index into
    its (n, c) plane. Derivative: the gradient read at those indices (scatter's)."""
    kernel = _ntuple(name, "kernel_size", kernel_size, dims)
    steps = kernel if stride is None else _ntuple(name, "stride", stride, dims)
    pads = _ntuple(name, "padding", padding, dims)
    x, unbatched = _spatial_input(name, input, dims)
    spatial = tuple(x.shape[2:])
    default = tuple((i - 1) * s - 2 * p + k for i, s, p, k in zip(spatial, steps, pads, kernel))
    size = default
    if output_size is not None:
        size = tuple(int(v) for v in tuple(output_size)[-dims:])
        for d, (wanted, usual, step) in enumerate(zip(size, default, steps)):
            if not usual - step <= wanted <= usual + step:
                raise ValueError(
                    f'invalid output_size "{tuple(output_size)}" (dim {d} must be between '
                    f"{usual - step} and {usual + step})"
                )
    batch, channels = x.shape[:2]
    places = reshape(indices if not unbatched else unsqueeze(indices, 0), (batch, channels, -1))
    planes = x.new_zeros(batch, channels, _math.prod(size))
    out = reshape(
        scatter(planes, 2, places, reshape(x, (batch, channels, -1))), (batch, channels, *size)
    )
    return out[0] if unbatched else out


def max_unpool1d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """Undo max_pool1d: a zero tensor with each value of `input` written back at its index (the
    indices max_pool1d returned), so only the maxima survive.

    Args:
        input (Tensor): floating point (N, C, L), the pooled values.
        indices (Tensor): int64, the shape of `input`: flat positions in each output plane.
        kernel_size (int or tuple): the pooling window size.
        stride (int or tuple, optional): the pooling step; default `kernel_size`.
        padding (int or tuple): the pooling padding.
        output_size (sequence of ints, optional): the exact output size, to pick among the
            sizes a strided pooling maps alike.

    Shape:
        output: (N, C, *out) with out = (in - 1) stride - 2 padding + kernel_size, or
        `output_size`.

    Returns:
        Tensor: as Shape says.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]])
        >>> pooled, indices = F.max_pool1d(x, 2, return_indices=True)
        >>> F.max_unpool1d(pooled, indices, 2)
        tensor([[[0., 3., 2., 0.]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


@_autocast_policy(_FLOAT32)
def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """Undo max_pool2d: a zero tensor with each value of `input` written back at its index (the
    indices max_pool2d returned), so only the maxima survive.

    Args:
        input (Tensor): floating point (N, C, H, W), the pooled values.
        indices (Tensor): int64, the shape of `input`: flat positions in each output plane.
        kernel_size (int or tuple): the pooling window size.
        stride (int or tuple, optional): the pooling step; default `kernel_size`.
        padding (int or tuple): the pooling padding.
        output_size (sequence of ints, optional): the exact output size, to pick among the
            sizes a strided pooling maps alike.

    Shape:
        output: (N, C, *out) with out = (in - 1) stride - 2 padding + kernel_size, or
        `output_size`.

    Returns:
        Tensor: as Shape says.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([[[[1.0, 3.0, 2.0, 0.0]]]])
        >>> pooled, indices = F.max_pool2d(x, (1, 2), return_indices=True)
        >>> F.max_unpool2d(pooled, indices, (1, 2))
        tensor([[[[0., 3., 2., 0.]]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


@_autocast_policy(_FLOAT32)
def max_unpool3d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """Undo max_pool3d: a zero tensor with each value of `input` written back at its index (the
    indices max_pool3d returned), so only the maxima survive.

    Args:
        input (Tensor): floating point (N, C, D, H, W), the pooled values.
        indices (Tensor): int64, the shape of `input`: flat positions in each output plane.
        kernel_size (int or tuple): the pooling window size.
        stride (int or tuple, optional): the pooling step; default `kernel_size`.
        padding (int or tuple): the pooling padding.
        output_size (sequence of ints, optional): the exact output size, to pick among the
            sizes a strided pooling maps alike.

    Shape:
        output: (N, C, *out) with out = (in - 1) stride - 2 padding + kernel_size, or
        `output_size`.

    Returns:
        Tensor: as Shape says.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([[[[[1.0, 3.0, 2.0, 0.0]]]]])
        >>> pooled, indices = F.max_pool3d(x, (1, 1, 2), return_indices=True)
        >>> F.max_unpool3d(pooled, indices, (1, 1, 2))
        tensor([[[[[0., 3., 2., 0.]]]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")


def _adaptive_max_pool(
    input: Tensor,
    output_size: int | None | Sequence[int | None],
    return_indices: bool,
    dims: int,
    name: str,
) -> Tensor | tuple[Tensor, Tensor]:
    x, unbatched = _spatial_input(name, input, dims)
    sizes = _adaptive_size(name, dims, tuple(x.shape[2:]), output_size)
    if 0 in sizes:  # PyTorch's empty result
        out = _pool_ops.empty_adaptive_pool(x, sizes, "max", unbatched)
        indices = out.detach().to(_int64)
    else:
        out, indices = _pool_ops.adaptive_max_pool(x, sizes)
    node_name = _pool_node_name("AdaptiveMaxPool{}DBackward0", dims)
    return _max_result(out, indices, unbatched, return_indices, node_name)


def adaptive_max_pool1d(
    input: Tensor, output_size: int | None | Sequence[int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over `output_size` bins that split each spatial dimension as evenly as possible
    (bin i covers floor(i in / out) to ceil((i + 1) in / out)).

    Args:
        input (Tensor): floating point (N, C, L) or unbatched (C, L).
        output_size (int or tuple): the output's spatial size.
        return_indices (bool): also return the flat index of each maximum in its plane.

    Returns:
        Tensor, or (Tensor, Tensor) with `return_indices`: (N, C, *output_size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_max_pool1d(chainrule.ones(1, 2, 5), 1).shape
        chainrule.Size([1, 2, 1])
    """
    return _adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(
    input: Tensor, output_size: int | None | Sequence[int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over `output_size` bins that split each spatial dimension as evenly as possible
    (bin i covers floor(i in / out) to ceil((i + 1) in / out)).

    Args:
        input (Tensor): floating point (N, C, H, W) or unbatched (C, H, W).
        output_size (int or tuple): the output's spatial size (None in a tuple
            keeps that input size).
        return_indices (bool): also return the flat index of each maximum in its plane.

    Returns:
        Tensor, or (Tensor, Tensor) with `return_indices`: (N, C, *output_size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_max_pool2d(chainrule.ones(1, 2, 5, 5), 1).shape
        chainrule.Size([1, 2, 1, 1])
    """
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


@_autocast_policy(_FLOAT32)
def adaptive_max_pool3d(
    input: Tensor, output_size: int | None | Sequence[int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over `output_size` bins that split each spatial dimension as evenly as possible
    (bin i covers floor(i in / out) to ceil((i + 1) in / out)).

    Args:
        input (Tensor): floating point (N, C, D, H, W) or unbatched (C, D, H, W).
        output_size (int or tuple): the output's spatial size (None in a tuple
            keeps that input size).
        return_indices (bool): also return the flat index of each maximum in its plane.

    Returns:
        Tensor, or (Tensor, Tensor) with `return_indices`: (N, C, *output_size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_max_pool3d(chainrule.ones(1, 2, 5, 5, 5), 1).shape
        chainrule.Size([1, 2, 1, 1, 1])
    """
    return _adaptive_max_pool(input, output_size, return_indices, 3, "adaptive_max_pool3d")


def _avg_pool(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
    dims: int,
    name: str,
) -> Tensor:
    # int64 too, as PyTorch's CPU kernel: the window sums divided with truncation
    x, unbatched = _spatial_input(name, input, dims, integers=input.dtype.name == "int64")
    shape = tuple(x.shape[2:])
    kernel, steps, pads, _, out_size = _pool_geometry(
        name, dims, shape, kernel_size, stride, padding, 1, ceil_mode
    )
    out = _pool_ops.avg_pool(x, kernel, steps, pads, out_size, count_include_pad, divisor_override)
    if not unbatched and dims == 2:  # PyTorch's avg_pool3d answers row-major
        out = _keep_channels_last(x, out)
    out = out[0] if unbatched else out
    return _named(out, _pool_node_name("AvgPool{}DBackward0", dims))


def avg_pool1d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean over sliding kL windows of (N, C, L) input, each channel on its own.

    Args:
        input (Tensor): floating point (N, C, L) or unbatched (C, L).
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the step between windows; default `kernel_size`.
        padding (int or tuple): zeros added on both sides, at most half the kernel size.
        ceil_mode (bool): round the output size up.
        count_include_pad (bool): count the padding zeros in each window's divisor.

    Shape:
        output: (N, C, *out) with out = floor((in + 2 padding - k) / stride) + 1 (ceil in
        ceil_mode).

    Returns:
        Tensor: as Shape says.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.avg_pool1d(chainrule.arange(4.0).reshape(1, 1, 4), 2)
        tensor([[[0.5000, 2.5000]]])
    """
    window = (kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _avg_pool(input, *window, None, 1, "avg_pool1d")


def avg_pool2d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean over sliding kH, kW windows of (N, C, H, W) input, each channel on its own.

    Args:
        input (Tensor): floating point (N, C, H, W) or unbatched (C, H, W).
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the step between windows; default `kernel_size`.
        padding (int or tuple): zeros added on both sides, at most half the kernel size.
        ceil_mode (bool): round the output size up.
        count_include_pad (bool): count the padding zeros in each window's divisor.
        divisor_override (int, optional): divide every window's sum by this instead.

    Shape:
        output: (N, C, *out) with out = floor((in + 2 padding - k) / stride) + 1 (ceil in
        ceil_mode).

    Returns:
        Tensor: as Shape says.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.avg_pool2d(chainrule.arange(4.0).reshape(1, 1, 1, 4), (1, 2))
        tensor([[[[0.5000, 2.5000]]]])
    """
    window = (kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _avg_pool(input, *window, divisor_override, 2, "avg_pool2d")


@_autocast_policy(_FLOAT32)
def avg_pool3d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean over sliding kD, kH, kW windows of (N, C, D, H, W) input, each channel on its own.

    Args:
        input (Tensor): floating point (N, C, D, H, W) or unbatched (C, D, H, W).
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the step between windows; default `kernel_size`.
        padding (int or tuple): zeros added on both sides, at most half the kernel size.
        ceil_mode (bool): round the output size up.
        count_include_pad (bool): count the padding zeros in each window's divisor.
        divisor_override (int, optional): divide every window's sum by this instead.

    Shape:
        output: (N, C, *out) with out = floor((in + 2 padding - k) / stride) + 1 (ceil in
        ceil_mode).

    Returns:
        Tensor: as Shape says.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.avg_pool3d(chainrule.arange(4.0).reshape(1, 1, 1, 1, 4), (1, 1, 2))
        tensor([[[[[0.5000, 2.5000]]]]])
    """
    window = (kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _avg_pool(input, *window, divisor_override, 3, "avg_pool3d")


def _adaptive_avg_pool(
    input: Tensor, output_size: int | None | Sequence[int | None], dims: int, name: str
) -> Tensor:
    x, unbatched = _spatial_input(name, input, dims)
    sizes = _adaptive_size(name, dims, tuple(x.shape[2:]), output_size)
    if 0 in sizes:  # PyTorch's empty result
        out = _pool_ops.empty_adaptive_pool(x, sizes, "avg", unbatched)
    else:
        out = _pool_ops.adaptive_avg_pool(x, sizes)
    if out is x and not unbatched:
        return out  # the input itself (no bin to average): its grad_fn is not ours to name
    global_average = dims > 1 and all(size == 1 for size in sizes)
    if not unbatched and (dims == 2 or global_average):  # 3-D bins answer row-major
        out = _keep_channels_last(x, out)
    out = out[0] if unbatched else out
    if global_average:
        return _named(out, "MeanBackward1")  # PyTorch takes a global average as a mean
    return _named(out, _pool_node_name("AdaptiveAvgPool{}DBackward0", dims))


def adaptive_avg_pool1d(input: Tensor, output_size: int | None | Sequence[int | None]) -> Tensor:
    """The mean over `output_size` bins that split each spatial dimension as evenly as possible
    (bin i covers floor(i in / out) to ceil((i + 1) in / out)): a fixed output size whatever
    the input's.

    Args:
        input (Tensor): floating point (N, C, L) or unbatched (C, L).
        output_size (int or tuple): the output's spatial size.

    Returns:
        Tensor: (N, C, *output_size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_avg_pool1d(chainrule.ones(1, 2, 5), 1).shape
        chainrule.Size([1, 2, 1])
    """
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input: Tensor, output_size: int | None | Sequence[int | None]) -> Tensor:
    """The mean over `output_size` bins that split each spatial dimension as evenly as possible
    (bin i covers floor(i in / out) to ceil((i + 1) in / out)): a fixed output size whatever
    the input's.

    Args:
        input (Tensor): floating point (N, C, H, W) or unbatched (C, H, W).
        output_size (int or tuple): the output's spatial size (None in a tuple
            keeps that input size).

    Returns:
        Tensor: (N, C, *output_size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_avg_pool2d(chainrule.ones(1, 2, 5, 5), 1).shape
        chainrule.Size([1, 2, 1, 1])
    """
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


@_autocast_policy(_FLOAT32)
def adaptive_avg_pool3d(input: Tensor, output_size: int | None | Sequence[int | None]) -> Tensor:
    """The mean over `output_size` bins that split each spatial dimension as evenly as possible
    (bin i covers floor(i in / out) to ceil((i + 1) in / out)): a fixed output size whatever
    the input's.

    Args:
        input (Tensor): floating point (N, C, D, H, W) or unbatched (C, D, H, W).
        output_size (int or tuple): the output's spatial size (None in a tuple
            keeps that input size).

    Returns:
        Tensor: (N, C, *output_size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_avg_pool3d(chainrule.ones(1, 2, 5, 5, 5), 1).shape
        chainrule.Size([1, 2, 1, 1, 1])
    """
    return _adaptive_avg_pool(input, output_size, 3, "adaptive_avg_pool3d")


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dimensions of (N, C, *spatial) input to `size` or by `scale_factor`
    (give exactly one).

    Args:
        input (Tensor): floating point (or uint8 for the nearest modes) (N, C, *spatial), with
            1 to 3 spatial dimensions.
        size (int or tuple, optional): the output's spatial size.
        scale_factor (float or tuple, optional): multiplies each spatial size (rounded down).
        mode (str): 'nearest' (default), 'nearest-exact', 'linear' (3-D input), 'bilinear'
            or 'bicubic' (4-D), 'trilinear' (5-D) or 'area' (adaptive average pooling).
        align_corners (bool, optional): linear modes only; True maps the corner pixels' centers
            onto each other, False (default) their outer edges.
        recompute_scale_factor (bool, optional): compute the sampling scale from the output
            size instead of using `scale_factor` as given.
        antialias (bool): bilinear and bicubic only: when shrinking, average every input
            sample under the widened filter (PyTorch's and PIL's antialiasing).

    Returns:
        Tensor: (N, C, *size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([[[1.0, 2.0]]])
        >>> F.interpolate(x, scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
        >>> F.interpolate(x, size=3, mode="linear", align_corners=True)
        tensor([[[1.0000, 1.5000, 2.0000]]])
    """
    n = input.ndim - 2
    if n < 1:  # (PyTorch: NotImplementedError, as for a mode the rank has no kernel for)
        raise NotImplementedError(
            "interpolate: only 3D, 4D and 5D input tensors (N, C, ...) are supported, got shape "
            f"{tuple(input.shape)}"
        )
    bytes_in = input._array.dtype.kind == "u" and mode in ("nearest", "nearest-exact")
    if bytes_in:  # uint8 images, as PyTorch resizes them: nearest copies values, exact in float
        input = input.float()  # noqa: A001
    _check_floating("interpolate", input=input)
    if mode not in ("nearest", "nearest-exact", "area", *_INTERPOLATING_MODES):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported")
    if mode in _INTERPOLATING_MODES and _INTERPOLATING_MODES[mode] != n:
        raise NotImplementedError(
            f"interpolate: got {n + 2}D input, but {mode} mode needs "
            f"{_INTERPOLATING_MODES[mode] + 2}D input"
        )
    if align_corners is not None and mode not in _INTERPOLATING_MODES:
        raise ValueError(
            "interpolate: align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear"
        )
    if antialias and (mode not in ("bilinear", "bicubic") or n != 2):
        raise ValueError(
            "interpolate: Anti-alias option is restricted to bilinear and bicubic modes and "
            f"requires a 4-D tensor as input (got mode {mode!r} and {n + 2}-D input)"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor must be given")
    if isinstance(size, (list, tuple)) and len(size) != n:  # (no broadcasting of a 1-list)
        raise ValueError(
            f"interpolate: input and output must have the same number of spatial dimensions, "
            f"got input of shape {tuple(input.shape)} and output size {size}"
        )
    if recompute_scale_factor and size is not None:
        raise ValueError("interpolate: recompute_scale_factor is not meaningful with a size")
    shape = tuple(input.shape[2:])
    scales: tuple = (None,) * n
    if size is not None:
        out_size = _ntuple("interpolate", "size", size, n)
    else:
        factors = (
            (float(scale_factor),) * n
            if isinstance(scale_factor, (int, float))
            else tuple(float(f) for f in scale_factor)
        )
        if len(factors) != n:
            raise ValueError(
                f"interpolate: scale_factor must have {n} elements, got {scale_factor}"
            )
        out_size = tuple(int(_math.floor(s * f)) for s, f in zip(shape, factors))
        if not recompute_scale_factor:
            scales = factors
    if mode == "area":  # an adaptive average pool, which gives an empty output for size 0
        return _adaptive_avg_pool(input, out_size, n, "interpolate")
    if any(o < 1 for o in out_size):
        raise ShapeError(
            f"interpolate: output size {out_size} must be positive (input shape "
            f"{tuple(input.shape)})"
        )
    result = _interpolation_ops.resample(
        input, out_size, scales, mode, bool(align_corners), antialias
    )
    if bytes_in:
        return result.byte()
    if result is input:
        return result  # the same size: the input itself, whose grad_fn is not ours to name
    name = _UPSAMPLE_NODE_NAMES[mode].format(n)
    name = name.replace("DBackward", "DAaBackward") if antialias else name
    return _named(_keep_channels_last(input, result), name)


# PyTorch's grad_fn names for interpolate's modes, formatted with the spatial dimensions.
_UPSAMPLE_NODE_NAMES = {
    "nearest": "UpsampleNearest{}DBackward0",
    "nearest-exact": "UpsampleNearestExact{}DBackward0",
    "linear": "UpsampleLinear{}DBackward0",
    "bilinear": "UpsampleBilinear{}DBackward0",
    "bicubic": "UpsampleBicubic{}DBackward0",
    "trilinear": "UpsampleTrilinear{}DBackward0",
}


# ---- distances -----------------------------------------------------------------------------


def _clamped_norm(input: Tensor, dim: int, eps: float) -> Tensor:
    """The 2-norm along dim (kept), its value clamped below at eps but its gradient the
    norm's, as PyTorch's cosine_similarity (which clamps under no_grad)."""
    value = norm(input, 2, dim, keepdim=True)
    return value + (_clamp(value, min=eps) - value).detach()


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 along `dim`: sum(x1 x2) / (|x1| |x2|) after
    broadcasting, each norm clamped below at eps.

    Args:
        x1 (Tensor): floating point.
        x2 (Tensor): broadcastable with `x1`.
        dim (int): the dimension of the vectors.
        eps (float): the smallest norm divided by.

    Returns:
        Tensor: the broadcast shape without `dim`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x1 = chainrule.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> F.cosine_similarity(x1, chainrule.tensor([[1.0, 0.0]]))
        tensor([1.0000, 0.7071])
    """
    _refuse_complex("cosine_similarity", x1, x2)  # PyTorch: floating point only
    x1, x2 = broadcast_tensors(x1, x2)
    return _sum((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps)), dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """The p-norm of x1 - x2 + eps along the last dimension (eps keeps the gradient finite when the
    points coincide).

    Args:
        x1 (Tensor): floating point (N, D) or (D,).
        x2 (Tensor): broadcastable with `x1`.
        p (float): the norm's order.
        eps (float): added to the difference.
        keepdim (bool): keep the last dimension with size 1.

    Returns:
        Tensor: (N,) (or (N, 1) with keepdim).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x1, x2 = chainrule.tensor([[0.0, 0.0]]), chainrule.tensor([[3.0, 4.0]])
        >>> F.pairwise_distance(x1, x2, eps=0.0)
        tensor([5.])
    """
    difference = x1 - x2 + eps
    return _named(
        norm(difference, p, -1 if difference.ndim else None, keepdim=keepdim), "NormBackward1"
    )


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None
) -> Tensor:
    """input / max(|input|_p, eps) along `dim`: each vector scaled to unit p-norm.

    Args:
        input (Tensor): floating point, any shape.
        p (float): the norm's order.
        dim (int): the dimension of the vectors.
        eps (float): the smallest norm divided by (zero vectors stay zero).
        out (Tensor, optional): accepted for compatibility and ignored.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.normalize(chainrule.tensor([[3.0, 4.0], [0.0, 0.0]]))
        tensor([[0.6000, 0.8000],
                [0.0000, 0.0000]])
    """
    denominator = _clamp(norm(input, p, dim, keepdim=True), min=eps)
    return input / expand(denominator, tuple(input.shape))


# ---- losses --------------------------------------------------------------------------------


def _reduce(op_name: str, loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(op_name, reduction)
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return _sum(loss)
    return loss


def _weighted(
    op_name: str, loss: Tensor, weight: Tensor | None, reduction: str, mean_by_weight: bool
) -> Tensor:
    """PyTorch's elementwise-weighted losses: mse and l1 divide by the weights' sum for
    'mean', huber by the element count."""
    if weight is None:
        return _reduce(op_name, loss, reduction)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ShapeError(
            f"{op_name}: weights and input must have the same size, got {tuple(weight.shape)} "
            f"and {tuple(loss.shape)}"
        )
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return _sum(loss) / _sum(weight)
    return _reduce(op_name, loss, reduction)


def _warn_if_target_broadcasts(input: Tensor, target: Tensor) -> None:
    """PyTorch's warning for a regression loss whose target's shape differs from the input's
    (a (N, 1) prediction against (N,) targets broadcasts to (N, N), silently wrong)."""
    if tuple(target.shape) != tuple(input.shape):
        _warnings.warn(
            f"Using a target size ({target.size()!r}) that is different to the input size "
            f"({input.size()!r}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            stacklevel=4,  # the caller of the loss (past the loss and its autocast wrapper)
        )


@_autocast_policy(_FLOAT32)
def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """The squared error (input - target)**2, averaged ('mean'), summed ('sum') or kept per
    element ('none').

    Args:
        input (Tensor): floating point, any shape.
        target (Tensor): broadcastable with `input`.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).
        weight (Tensor, optional): the shape of `input`, a weight per element.
            With 'mean' the weighted sum is divided by the weights' sum.

    Returns:
        Tensor: a scalar, or the broadcast shape for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.mse_loss(chainrule.tensor([1.0, 2.0]), chainrule.tensor([0.0, 4.0]))
        tensor(2.5000)
    """
    _refuse_complex("mse_loss", input, target)
    _warn_if_target_broadcasts(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    difference = input - target
    loss = _weighted("mse_loss", difference * difference, weight, reduction, True)
    return loss if weight is not None else _named(loss, "MseLossBackward0")


@_autocast_policy(_FLOAT32)
def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """The absolute error |input - target| (gradient 0 where they are equal, as PyTorch), reduced.

    Args:
        input (Tensor): floating point, any shape.
        target (Tensor): broadcastable with `input`.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).
        weight (Tensor, optional): the shape of `input`, a weight per element.
            With 'mean' the weighted sum is divided by the weights' sum.

    Returns:
        Tensor: a scalar, or the broadcast shape for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.l1_loss(chainrule.tensor([1.0, 2.0]), chainrule.tensor([0.0, 4.0]))
        tensor(1.5000)
    """
    _warn_if_target_broadcasts(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _weighted("l1_loss", _abs(input - target), weight, reduction, True)


@_autocast_policy(_FLOAT32)
def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """With d = |input - target|: 0.5 d**2 / beta where d < beta, else d - 0.5 beta (quadratic
    near zero, linear beyond; l1 for beta = 0). `huber_loss` is this times beta.

    Args:
        input (Tensor): floating point, any shape.
        target (Tensor): broadcastable with `input`.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).
        beta (float): where the quadratic part ends (not negative).

    Returns:
        Tensor: a scalar, or the broadcast shape for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.smooth_l1_loss(chainrule.tensor([0.5, 3.0]), chainrule.zeros(2), reduction="none")
        tensor([0.1250, 2.5000])
    """
    _refuse_complex("smooth_l1_loss", input, target)
    _warn_if_target_broadcasts(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise DomainError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    distance = _abs(input - target)
    if beta == 0:
        return _reduce("smooth_l1_loss", distance, reduction)
    near = _minimum(distance, beta)  # the quadratic branch never sees an inf (0 * inf = nan)
    loss = where(distance < beta, 0.5 * near * near / beta, distance - 0.5 * beta)
    return _named(_reduce("smooth_l1_loss", loss, reduction), "SmoothL1LossBackward0")


@_autocast_policy(_FLOAT32)
def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """With d = |input - target|: 0.5 d**2 where d < delta, else delta (d - 0.5 delta).

    Args:
        input (Tensor): floating point, any shape.
        target (Tensor): broadcastable with `input`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).
        delta (float): where the quadratic part ends (positive).
        weight (Tensor, optional): the shape of `input`, a weight per element.
            With 'mean' the weighted sum is divided by the element count.

    Returns:
        Tensor: a scalar, or the broadcast shape for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([0.5, 3.0])
        >>> F.huber_loss(x, chainrule.zeros(2), reduction="none", delta=2.0)
        tensor([0.1250, 4.0000])
    """
    _refuse_complex("huber_loss", input, target)
    _warn_if_target_broadcasts(input, target)
    if delta <= 0:
        raise DomainError(f"huber_loss: delta must be positive, got {delta}")
    if target.dtype != input.dtype and input.dtype.is_floating_point:
        target = target.to(input.dtype)  # PyTorch computes in input's dtype (f32 with a f64 target)
    distance = _abs(input - target)
    near = _minimum(distance, delta)  # the quadratic branch never sees an inf (0 * inf = nan)
    loss = where(distance < delta, 0.5 * near * near, delta * (distance - 0.5 * delta))
    loss = _weighted("huber_loss", loss, weight, reduction, False)
    return loss if weight is not None else _named(loss, "HuberLossBackward0")


def _same_shape(op_name: str, input: Tensor, target: Tensor) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(
            f"{op_name}: target size {tuple(target.shape)} must be the same as input size "
            f"{tuple(input.shape)}"
        )


@_autocast_policy(_FLOAT32)
def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-(t log x + (1 - t) log(1 - x)) for probabilities x (each log clamped at -100, as PyTorch, so
    x = 0 or 1 gives a finite loss). From logits, `binary_cross_entropy_with_logits` is stabler.

    Args:
        input (Tensor): probabilities in [0, 1], any shape.
        target (Tensor): the shape of `input`, values in [0, 1].
        weight (Tensor, optional): broadcastable with `input`, multiplies each element's loss.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).

    Returns:
        Tensor: a scalar, or the shape of `input` for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.binary_cross_entropy(chainrule.tensor([0.9, 0.2]), chainrule.tensor([1.0, 0.0]))
        tensor(0.1643)
    """
    _refuse_complex("binary_cross_entropy", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _same_shape("binary_cross_entropy", input, target)
    if target.dtype != input.dtype:
        raise DTypeError(
            f"binary_cross_entropy: Found dtype {target.dtype.name} of target but expected "
            f"{input.dtype.name}, the input's"
        )
    values = input._array
    if values.size and (bool((values < 0).any()) or bool((values > 1).any())):
        raise DomainError("binary_cross_entropy: all elements of input should be between 0 and 1")
    loss = _binary_cross_entropy_elements(input, target)
    if weight is not None:
        loss = _cast(loss * weight, input.dtype)  # PyTorch's loss keeps the input's dtype
    return _named(_reduce("binary_cross_entropy", loss, reduction), "BinaryCrossEntropyBackward0")


@_autocast_policy(_FLOAT32)
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """binary_cross_entropy(sigmoid(x), t) computed stably from logits x as
    (1 - t) x - (1 + (pos_weight - 1) t) logsigmoid(x).

    Args:
        input (Tensor): floating point logits, any shape.
        target (Tensor): the shape of `input`, values in [0, 1].
        weight (Tensor, optional): broadcastable with `input`, multiplies each element's loss.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).
        pos_weight (Tensor, optional): a weight for the positive term, broadcast over the last
            dimension (one per class), to trade recall against precision.

    Returns:
        Tensor: a scalar, or the shape of `input` for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> logits, target = chainrule.tensor([2.0, -1.0]), chainrule.tensor([1.0, 0.0])
        >>> F.binary_cross_entropy_with_logits(logits, target)
        tensor(0.2201)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    if not (target.dtype.is_floating_point or target.dtype.is_complex):
        raise DTypeError(
            f"binary_cross_entropy_with_logits: result type {input.dtype.name} can't be cast to "
            f"the desired output type {target.dtype.name} (the target's)"
        )
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    loss = (1 - target) * input - log_weight * logsigmoid(input)
    if weight is not None:
        loss = loss * weight
    # PyTorch computes the loss in place in a tensor of the target's dtype.
    loss = _cast(loss, target.dtype)
    loss = _reduce("binary_cross_entropy_with_logits", loss, reduction)
    return _named(loss, "BinaryCrossEntropyWithLogitsBackward0")


@_autocast_policy(_FLOAT32)
def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """The Kullback-Leibler divergence terms target * (log(target) - input), for log-probabilities
    `input` (0 where target == 0; the target's gradient there is nan, as PyTorch's, which
    composes xlogy(target, target) - target * input).

    Args:
        input (Tensor): floating point log-probabilities, any shape.
        target (Tensor): probabilities (or log-probabilities with `log_target`), the shape of
            `input`.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default: over every element, which is not the divergence),
            'batchmean' (the sum divided by the batch size: the mathematical KL divergence),
            'sum' or 'none'.
        log_target (bool): `target` is given as log-probabilities.

    Returns:
        Tensor: a scalar, or the shape of `input` for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> p = chainrule.tensor([[0.5, 0.5]])
        >>> F.kl_div(chainrule.tensor([[0.25, 0.75]]).log(), p, reduction="batchmean")
        tensor(0.1438)
    """
    _refuse_complex("kl_div", input, target)
    for operand in (input, target):
        if not (operand.dtype.is_floating_point or operand.dtype.is_complex):
            raise DTypeError(f"kl_div: Integral inputs not supported (got {operand.dtype.name})")
    if size_average is None and reduce is None and reduction == "mean":
        _warnings.warn(  # PyTorch's words, each call
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            stacklevel=2,
        )
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("kl_div", reduction, ("batchmean",))
    if log_target:
        loss = _exp(target) * (target - input)
    else:
        loss = _xlogy(target, target) - target * input  # PyTorch's composition, its derivatives
    if reduction == "batchmean":
        total = _sum(loss)
        return total / input.shape[0] if input.ndim else total
    return _reduce("kl_div", loss, reduction)


@_autocast_policy(_FLOAT32)
def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) where target is 1 (pull together), max(0, cos(x1, x2) - margin) where it is
    -1 (push apart), with the cosine taken along the last dimension.

    Args:
        input1 (Tensor): floating point (N, D) or (D,).
        input2 (Tensor): the shape of `input1`.
        target (Tensor): (N,) or (), of 1 and -1.
        margin (float): how dissimilar a -1 pair must be to cost nothing, in [-1, 1].
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).

    Returns:
        Tensor: a scalar, or (N,) for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x1 = chainrule.tensor([[1.0, 0.0], [1.0, 0.0]])
        >>> x2 = chainrule.tensor([[0.0, 1.0], [1.0, 1.0]])
        >>> F.cosine_embedding_loss(x1, x2, chainrule.tensor([1, -1]), reduction="none")
        tensor([1.0000, 0.7071])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise ShapeError(
            f"cosine_embedding_loss: expected 1-D or 2-D inputs of one shape, got "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    if target.ndim > 1:
        raise ShapeError(
            f"cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not "
            f"supported (target of shape {tuple(target.shape)})"
        )
    if target.ndim != input1.ndim - 1:  # a 0-d target for 1-d inputs, a 1-d one for 2-d
        raise ShapeError(
            f"cosine_embedding_loss: {target.ndim}D target tensor expects "
            f"{target.ndim + 1}D input tensors, got inputs of shape {tuple(input1.shape)}"
        )
    dim = input1.ndim - 1
    epsilon = 1e-12
    products = _sum(input1 * input2, dim)
    squares1 = _sum(input1 * input1, dim) + epsilon
    squares2 = _sum(input2 * input2, dim) + epsilon
    cosine = products / sqrt(squares1 * squares2)
    positive = where(target == 1, 1 - cosine, 0.0)
    negative = where(target == -1, _clamp(cosine - margin, min=0.0), 0.0)
    return _reduce("cosine_embedding_loss", positive + negative, reduction)


@_autocast_policy(_FLOAT32)
def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -target * (x1 - x2) + margin): x1 should rank above x2 where target is 1, below
    where it is -1.

    Args:
        input1 (Tensor): floating point scores, (N,) or ().
        input2 (Tensor): the shape of `input1`.
        target (Tensor): the shape of `input1`, of 1 and -1.
        margin (float): how far apart a pair must be ranked to cost nothing.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).

    Returns:
        Tensor: a scalar, or the shape of `input1` for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x1, x2 = chainrule.tensor([1.0, 1.0]), chainrule.tensor([2.0, 0.0])
        >>> F.margin_ranking_loss(x1, x2, chainrule.tensor([1.0, 1.0]), reduction="none")
        tensor([1., 0.])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ShapeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: "
            f"{tuple(target.shape)}"
        )
    loss = _named(_clamp(-target * (input1 - input2) + margin, min=0.0), "ClampMinBackward0")
    return _reduce("margin_ranking_loss", loss, reduction)


@_autocast_policy(_FLOAT32)
def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """x where target is 1, max(0, margin - x) where it is -1 (both terms where it is neither,
    as PyTorch computes them). x is typically a distance between two embeddings.

    Args:
        input (Tensor): floating point, any shape.
        target (Tensor): the shape of `input`, of 1 and -1.
        margin (float): the distance beyond which a -1 pair costs nothing.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).

    Returns:
        Tensor: a scalar, or the shape of `input` for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([0.3, 0.3])
        >>> F.hinge_embedding_loss(x, chainrule.tensor([1.0, -1.0]), reduction="none")
        tensor([0.3000, 0.7000])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    margin_term = where(target != 1, _clamp(margin - input, min=0.0), 0.0)
    self_term = where(target != -1, input, 0.0)
    return _reduce("hinge_embedding_loss", margin_term + self_term, reduction)


@_autocast_policy(_FLOAT32)
def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """log(1 + exp(-target * x)): a smooth two-class margin loss, target 1 or -1.

    Args:
        input (Tensor): floating point scores, any shape.
        target (Tensor): the shape of `input`, of 1 and -1.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).

    Returns:
        Tensor: a scalar, or the shape of `input` for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([2.0, -1.0])
        >>> F.soft_margin_loss(x, chainrule.tensor([1.0, 1.0]), reduction="none")
        tensor([0.1269, 1.3133])
    """
    _refuse_complex_autograd("soft_margin_loss", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.dtype != input.dtype and input.dtype.is_floating_point:
        target = target.to(input.dtype)  # PyTorch computes in input's dtype (f32 with a f64 target)
    loss = _reduce("soft_margin_loss", _log1p(_exp(-input * target)), reduction)
    return _named(loss, "SoftMarginLossBackward0")


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy on logits, per class (optionally weighted), averaged over the last
    dimension (the classes): -(y log sigmoid(x) + (1 - y) log sigmoid(-x)).

    Args:
        input (Tensor): floating point logits (N, C) or (C,).
        target (Tensor): the shape of `input`, 1 where the class applies and 0 where not.
        weight (Tensor, optional): (C,), multiplies each class's loss.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (one loss per sample).

    Returns:
        Tensor: a scalar, or (N,) for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([[2.0, -1.0], [0.0, 0.0]])
        >>> y = chainrule.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> F.multilabel_soft_margin_loss(x, y, reduction="none")
        tensor([0.2201, 0.6931])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    classes = input.shape[-1] if input.ndim else 1
    loss = _sum(loss, input.ndim - 1) / classes if input.ndim else loss
    return _reduce("multilabel_soft_margin_loss", loss, reduction)


@_autocast_policy(_FLOAT32)
def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin), d the p-norm distance (pairwise_distance, eps
    added); with swap, d(a, n) is replaced by d(p, n) where that is smaller.

    Args:
        anchor (Tensor): floating point (N, D) or (D,).
        positive (Tensor): the shape of `anchor`, the embeddings to pull towards it.
        negative (Tensor): the shape of `anchor`, the embeddings to push away from it.
        margin (float): how much farther the negative must be than the positive.
        p (float): the norm of the distance.
        eps (float): added to the differences before the norm (keeps its gradient finite at 0).
        swap (bool): use the positive-negative distance when it is the smaller.
        size_average (bool, optional): deprecated, use `reduction`.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (one loss per triplet).

    Returns:
        Tensor: a scalar, or (N,) for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> a = chainrule.tensor([[0.0, 0.0]])
        >>> p, n = chainrule.tensor([[1.0, 0.0]]), chainrule.tensor([[0.0, 1.5]])
        >>> F.triplet_margin_loss(a, p, n)
        tensor(0.5000)
    """
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise ShapeError(
            "triplet_margin_loss: The anchor, positive, and negative tensors are expected to "
            f"have the same number of dimensions, but got: anchor {dims[0]}D, positive "
            f"{dims[1]}D, and negative {dims[2]}D inputs"
        )
    if dims[0] not in (1, 2):
        raise ShapeError(
            "triplet_margin_loss: expected anchor, positive and negative of rank 1 or 2, got "
            f"shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}"
        )
    distance_positive = pairwise_distance(anchor, positive, p, eps)
    distance_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_swap = pairwise_distance(positive, negative, p, eps)
        distance_negative = _minimum(distance_negative, distance_swap)
    loss = _clamp(margin + distance_positive - distance_negative, min=0.0)
    loss = _named(loss, "ClampMinBackward0")  # PyTorch's clamp_min
    return _reduce("triplet_margin_loss", loss, reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) for any distance d (default: pairwise_distance);
    with swap, d(a, n) is replaced by d(p, n) where that is smaller.

    Args:
        anchor (Tensor): (N, *) or unbatched, the rank of `positive` and `negative`.
        positive (Tensor): the embeddings to pull towards `anchor`.
        negative (Tensor): the embeddings to push away from it.
        distance_function (callable, optional): d(x, y), a tensor of one distance per sample;
            default `pairwise_distance` (the 2-norm).
        margin (float): how much farther the negative must be than the positive; positive.
        swap (bool): use the positive-negative distance when it is the smaller.
        reduction (str): 'mean' (default), 'sum' or 'none' (one loss per triplet).

    Returns:
        Tensor: a scalar, or the distances' shape for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> a = chainrule.tensor([[0.0, 0.0]])
        >>> p, n = chainrule.tensor([[1.0, 0.0]]), chainrule.tensor([[0.0, 1.5]])
        >>> l1 = lambda x, y: (x - y).abs().sum(-1)
        >>> F.triplet_margin_with_distance_loss(a, p, n, distance_function=l1)
        tensor(0.5000)
    """
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise ShapeError(
            "triplet_margin_with_distance_loss: expected anchor, positive and negative of one "
            f"rank, got shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and "
            f"{tuple(negative.shape)}"
        )
    distance = distance_function if distance_function is not None else pairwise_distance
    distance_positive = distance(anchor, positive)
    distance_negative = distance(anchor, negative)
    if swap:
        distance_negative = _minimum(distance_negative, distance(positive, negative))
    loss = _clamp(margin + distance_positive - distance_negative, min=0.0)
    return _reduce("triplet_margin_with_distance_loss", loss, reduction)


@_autocast_policy(_FLOAT32)
def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The negative log-likelihood of target under Poisson(rate): exp(x) - target * x with
    log_input (x the log rate), else x - target * log(x + eps); `full` adds Stirling's
    approximation of log(target!) where target > 1.

    Args:
        input (Tensor): floating point, any shape: the log rate (log_input) or the rate.
        target (Tensor): the shape of `input`, counts (non-negative).
        log_input (bool): whether `input` is the log of the rate (default True).
        full (bool): add the Stirling term, so the loss is the full negative log-likelihood.
        size_average (bool, optional): deprecated, use `reduction`.
        eps (float): keeps log(x) finite at rate 0 (log_input=False only).
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).

    Returns:
        Tensor: a scalar, or the shape of `input` for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> log_rate = chainrule.tensor([0.0, 1.0])
        >>> F.poisson_nll_loss(log_rate, chainrule.tensor([1.0, 2.0]), reduction="none")
        tensor([1.0000, 0.7183])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_input:
        loss = _exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        safe = where(target > 1, target, 2.0)  # the term is masked where target <= 1
        stirling = safe * log(safe) - safe + 0.5 * log(2 * _math.pi * safe)
        # added in place in PyTorch, so the loss keeps its dtype (an integer target's term is
        # float32)
        loss = loss + where(target > 1, stirling, 0.0).to(loss.dtype)
    return _reduce("poisson_nll_loss", loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """The negative log-likelihood of target under N(input, var): 0.5 (log var + (input -
    target)^2 / var) (+ 0.5 log(2 pi) with full). var may lack the last dimension or have
    size 1 there (one variance shared by its features); it is clamped below at eps for the
    value, but its gradient is taken as if unclamped, as in PyTorch.

    Args:
        input (Tensor): floating point (N, *), the predicted means.
        target (Tensor): the shape of `input`, the observations.
        var (Tensor or float): the predicted variances, non-negative: the shape of `input`,
            without its last dimension or with size 1 there, or one float for all.
        full (bool): add the constant 0.5 log(2 pi).
        eps (float): the smallest variance used in the value.
        reduction (str): 'mean' (default), 'sum' or 'none' (the elementwise losses).

    Returns:
        Tensor: a scalar, or the shape of `input` for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> mean, target = chainrule.tensor([[0.0, 1.0]]), chainrule.tensor([[1.0, 1.0]])
        >>> F.gaussian_nll_loss(mean, target, chainrule.tensor([[1.0]]), reduction="none")
        tensor([[0.5000, 0.0000]])
    """
    if not isinstance(var, type(input)):
        var = input.new_full(tuple(input.shape[:-1]) + (1,), float(var))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = unsqueeze(var, -1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ShapeError(
                f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} for input "
                f"{tuple(input.shape)}"
            )
    _check_reduction("gaussian_nll_loss", reduction)
    if not var.dtype.is_floating_point:  # (PyTorch clamps var in place: an int var refuses eps)
        raise DTypeError(
            f"gaussian_nll_loss: result type Float can't be cast to var's dtype {var.dtype.name}"
        )
    if bool((var < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    var = var + (_clamp(var, min=eps) - var).detach()
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * _math.log(2 * _math.pi)
    return _reduce("gaussian_nll_loss", loss, reduction)


# ---- embedding bags ------------------------------------------------------------------------


def _bag_bounds(input: Tensor, offsets: Any, include_last_offset: bool) -> list[tuple[int, int]]:
    """(start, end) of each bag in the flattened input."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets).__name__}"
            )
        bags, length = input.shape
        return [(b * length, (b + 1) * length) for b in range(bags)]
    if input.ndim != 1:
        raise ShapeError(
            f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension "
            f"{input.ndim}"
        )
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    starts = [int(offset) for offset in offsets.tolist()]
    if starts and starts[0] != 0:  # (PyTorch's kernel: RuntimeError)
        raise DomainError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
            f"from position 0. However, got {starts[0]}"
        )
    total = input.shape[0]
    if include_last_offset:
        return list(zip(starts[:-1], starts[1:]))
    return list(zip(starts, [*starts[1:], total]))


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The sum, mean or elementwise max of the embeddings in each bag, without building the
    (bags, length, dim) tensor of embeddings: bags are the rows of a 2-D input, or the runs of a
    1-D input that start at `offsets`. Indices equal to padding_idx are left out (an empty bag
    gives zeros); per_sample_weights scale each embedding ('sum' only).

    Args:
        input (Tensor): integer indices into `weight`: (B, length), one bag a row, or (n,) cut
            into bags by `offsets`.
        weight (Tensor): the embedding table (num_embeddings, dim).
        offsets (Tensor, optional): 1-D input only (and then required): where each bag starts,
            the first at 0.
        max_norm (float, optional): renormalize the looked-up rows of `weight` in place to at
            most this norm, as `embedding`.
        norm_type (float): the p of that norm.
        scale_grad_by_freq (bool): divide each row's gradient by its index's count in `input`.
        mode (str): 'mean' (default), 'sum' or 'max'.
        sparse (bool): give `weight` a sparse COO gradient (the rows the bags read).
        per_sample_weights (Tensor, optional): the shape of `input`, a weight for each embedding
            ('sum' only).
        include_last_offset (bool): `offsets` has one more entry, the end of the last bag.
        padding_idx (int, optional): an index that counts in no bag (and gets no gradient).

    Returns:
        Tensor: (B, dim), one row a bag.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> table = chainrule.arange(8.0).reshape(4, 2)
        >>> F.embedding_bag(chainrule.tensor([0, 1, 3]), table, chainrule.tensor([0, 2]))
        tensor([[1., 2.],
                [6., 7.]])
    """
    _refuse_complex("embedding_bag", weight)
    # (PyTorch's order: the weights' shape, then the mode, then the weights' mode)
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ShapeError(
            f"embedding_bag: per_sample_weights of shape {tuple(per_sample_weights.shape)} "
            f"must have the shape of input {tuple(input.shape)}"
        )
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub."
        )
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise DTypeError(  # (PyTorch's kernel: RuntimeError)
            f"embedding_bag: expected per_sample_weights of weight's dtype {weight.dtype.name}, "
            f"got {per_sample_weights.dtype.name}"
        )
    bounds = _bag_bounds(input, offsets, include_last_offset)
    if padding_idx is not None and padding_idx < 0:
        padding_idx = padding_idx + weight.shape[0]
    flat = reshape(input, (-1,))
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)
    bags, dim = len(bounds), weight.shape[1]
    keep = flat != padding_idx if padding_idx is not None else None
    if mode == "max":
        fill = rows.new_full((1, dim), float("-inf"))
        if keep is not None:
            rows = where(unsqueeze(keep, 1), rows, fill)
        table = _cat([rows, fill], 0)
        longest = max((end - start for start, end in bounds), default=0)
        sentinel = rows.shape[0]
        positions = [
            [start + i if start + i < end else sentinel for i in range(max(longest, 1))]
            for start, end in bounds
        ]
        index = _shape_constant(table._backend.xp.asarray(positions, dtype="int64"))
        best = table[index].max(1).values  # (bags, dim)
        return _named(where(best == float("-inf"), 0.0, best), "EmbeddingBagBackward0")
    bag_of = [b for b, (start, end) in enumerate(bounds) for _ in range(end - start)]
    xp = rows._backend.xp
    bag_index = _shape_constant(xp.asarray(bag_of, dtype="int64"))
    scale = None
    if per_sample_weights is not None:
        scale = reshape(per_sample_weights, (-1,))
    if keep is not None:
        kept = keep.to(rows.dtype)
        scale = kept if scale is None else scale * kept
    entries = [i for start, end in bounds for i in range(start, end)]
    if entries != list(range(rows.shape[0])):  # entries past the last offset belong to no bag
        chosen = _shape_constant(xp.asarray(entries, dtype="int64"))
        rows = rows[chosen]
        keep = None if keep is None else keep[chosen]
        scale = None if scale is None else scale[chosen]
    terms = rows if scale is None else rows * unsqueeze(scale, 1)
    out = rows.new_zeros(bags, dim).index_add(0, bag_index, terms)
    if mode == "sum":
        return _named(out, "EmbeddingBagBackward0")
    counts = rows.new_zeros(bags).index_add(
        0, bag_index, rows.new_ones(rows.shape[0]) if keep is None else keep.to(rows.dtype)
    )
    return _named(out / unsqueeze(_clamp(counts, min=1.0), 1), "EmbeddingBagBackward0")


# ---- spatial transformers: affine_grid, grid_sample ----------------------------------------


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps theta (N, 2, 3)
    (or (N, 3, 4)) applied to the output's normalized coordinates, for grid_sample.

    Args:
        theta (Tensor): floating point (N, 2, 3) for 2-D maps, (N, 3, 4) for 3-D ones.
        size (tuple): the output image's size, (N, C, H, W) or (N, C, D, H, W).
        align_corners (bool, optional): True puts -1 and 1 at the corner pixels' centres,
            False at their outer edges; None means False, with PyTorch's warning. Pass the
            same value to grid_sample.

    Returns:
        Tensor: (N, H, W, 2) or (N, D, H, W, 3), each point's (x, y[, z]) in [-1, 1] units.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> identity = chainrule.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> F.affine_grid(identity, (1, 1, 1, 2), align_corners=True)
        tensor([[[[-1.,  0.],
                  [ 1.,  0.]]]])
    """
    size = tuple(int(s) for s in size)
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    dims = len(size) - 2
    if dims not in (2, 3):
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}."
        )
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (dims, dims + 1):
        raise ValueError(
            f"Expected a batch of {dims}D affine matrices of shape Nx{dims}x{dims + 1} for "
            f"size {list(size)}. Got {tuple(theta.shape)}."
        )
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    return _interpolation_ops.affine_grid(theta, size, _default_align_corners(align_corners))


_GRID_MODES = ("bilinear", "nearest", "bicubic")


def _default_align_corners(align_corners: bool | None) -> bool:
    """align_corners, False when None, with PyTorch's warning that the default changed."""
    if align_corners is None:
        _warnings.warn(
            "Default grid_sample and affine_grid behavior has changed to align_corners=False "
            "since 1.3.0. Please specify align_corners=True if the old behavior is desired. See "
            "the documentation of grid_sample for details.",
            stacklevel=3,
        )
        return False
    return bool(align_corners)


_GRID_PADDING = ("zeros", "border", "reflection")


def _reflect(coordinate: Any, twice_low: int, twice_high: int) -> Any:
    """coordinate reflected about the bounds twice_low / 2 and twice_high / 2 until inside."""
    if twice_low == twice_high:
        return coordinate * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    distance = _abs(coordinate - low)
    extra = _fmod(distance, span)
    flips = _floor(distance.detach() / span)
    return where(_fmod(flips, 2) == 0, extra + low, span - extra + low)


def _source_coordinate(coordinate: Any, size: int, padding_mode: str, align_corners: bool) -> Any:
    """A normalized grid coordinate in input pixels, its padding rule applied (PyTorch's
    grid_sampler_compute_source_index)."""
    return _padded(
        _unnormalized(coordinate, size, align_corners), size, padding_mode, align_corners
    )


def _unnormalized(coordinate: Any, size: int, align_corners: bool) -> Any:
    """A normalized grid coordinate in input pixels (PyTorch's grid_sampler_unnormalize)."""
    if align_corners:
        return (coordinate + 1) / 2 * (size - 1)
    return ((coordinate + 1) * size - 1) / 2


def _padded(pixels: Any, size: int, padding_mode: str, align_corners: bool) -> Any:
    """A position in input pixels moved inside by the padding rule: clamped to the border, or
    reflected at the edges then clamped (PyTorch's compute_coordinates); as is for zeros."""
    if padding_mode == "border":
        return _clipped(pixels, size)
    if padding_mode == "reflection":
        if align_corners:
            pixels = _reflect(pixels, 0, 2 * (size - 1))
        else:
            pixels = _reflect(pixels, -1, 2 * size - 1)
        return _clipped(pixels, size)
    return pixels


def _clipped(pixels: Any, size: int) -> Any:
    """pixels clamped to [0, size - 1], with gradient 1 strictly inside and 0 on the borders
    too: PyTorch's clip_coordinates_set_grad counts a position exactly on a border as outside
    (clamp's own gradient is 1 there), which a grid reaching -1 or 1 with align_corners=True
    hits."""
    inside = (pixels > 0) & (pixels < size - 1)
    # a NaN position (a diverged grid, or reflection of an infinite one) lands on pixel 0 and
    # an infinite one on its edge, as PyTorch's 2-D kernel clips them
    edge = _clamp(_nan_to_num(pixels.detach(), nan=0.0), 0, size - 1)
    return where(inside, pixels, edge)


def _tap_index(position: Tensor, valid: Tensor, size: int, stride: int) -> Tensor:
    """The flat offset of a tap along one dimension; a tap outside (or at a non-finite
    position) reads pixel 0, its value masked out by the caller."""
    return _clamp(where(valid, position, 0.0), 0, size - 1).long() * stride


def grid_sample(
    input: Tensor,
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Sample input (N, C, H, W) (or (N, C, D, H, W)) at the normalized positions of grid
    (N, H_out, W_out, 2) (or (..., 3)), x first, by bilinear (trilinear) or nearest
    interpolation; positions outside read zeros, the border, or the input reflected.
    Differentiable with respect to input and grid.

    Args:
        input (Tensor): floating point (N, C, H, W) or (N, C, D, H, W).
        grid (Tensor): floating point (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3): the
            positions, (x, y[, z]) with -1 and 1 at the input's edges.
        mode (str): 'bilinear' (default; trilinear for 5-D input), 'nearest' or 'bicubic'
            (4-D input only; PyTorch's cubic convolution with a = -0.75).
        padding_mode (str): what positions outside the input read: 'zeros' (default),
            'border' (the nearest edge value) or 'reflection' (the input mirrored at its edges).
        align_corners (bool, optional): True puts -1 and 1 at the corner pixels' centres,
            False at their outer edges; None means False, with PyTorch's warning.

    Returns:
        Tensor: (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> image = chainrule.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
        >>> F.grid_sample(image, chainrule.zeros(1, 1, 1, 2), align_corners=True)
        tensor([[[[1.5000]]]])
    """
    if _autocast_active() is not None:  # PyTorch's float32 list, inline: its warning
        input, grid = _autocast_operands(_FLOAT32, input, grid)  # noqa: A001 (blames the caller)
    if mode not in _GRID_MODES:
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
            f"'bicubic', but got: '{mode}'"
        )
    if padding_mode not in _GRID_PADDING:
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
            f"'reflection', but got: '{padding_mode}'"
        )
    dims = input.ndim - 2
    if mode == "bicubic" and input.ndim == 5:
        raise ShapeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if dims not in (2, 3) or grid.ndim != input.ndim or grid.shape[-1] != dims:
        raise ShapeError(
            "grid_sample: expected input (N, C, H, W) with grid (N, H_out, W_out, 2), or input "
            f"(N, C, D, H, W) with grid (N, D_out, H_out, W_out, 3); got input "
            f"{tuple(input.shape)} and grid {tuple(grid.shape)}"
        )
    if grid.shape[0] != input.shape[0]:
        raise ShapeError(
            "grid_sample: expected grid and input to have the same batch size, but got input "
            f"{tuple(input.shape)} and grid {tuple(grid.shape)}"
        )
    _check_floating("grid_sample", input=input, grid=grid)
    align = _default_align_corners(align_corners)
    batch, channels = input.shape[0], input.shape[1]
    sizes = tuple(input.shape[2:])
    out_spatial = tuple(grid.shape[1:-1])
    points = _math.prod(out_spatial)
    if mode == "bicubic":
        out = _grid_sample_bicubic(input, grid, padding_mode, align)
        return _named(reshape(out, (batch, channels, *out_spatial)), "GridSampler2DBackward0")
    coordinates = []  # per input dimension (D,) H, W: grid component dims - 1 - dim
    for dim, size in enumerate(sizes):
        component = reshape(grid[..., dims - 1 - dim], (batch, points))
        coordinates.append(_source_coordinate(component, size, padding_mode, align))
    plane = reshape(input, (batch, channels, _math.prod(sizes)))
    strides = [_math.prod(sizes[dim + 1 :]) for dim in range(dims)]
    if mode == "nearest":
        corners = [(None,) * dims]
        lows = [_round(c.detach()) for c in coordinates]
    else:
        corners = list(_product((0, 1), repeat=dims))
        lows = [_floor(c.detach()) for c in coordinates]
    out = None
    for corner in corners:
        index = None
        weight = None
        valid = None
        for dim, bit in enumerate(corner):
            position = lows[dim] + (bit or 0)
            inside = (position >= 0) & (position <= sizes[dim] - 1)
            valid = inside if valid is None else valid & inside
            flat = _tap_index(position, inside, sizes[dim], strides[dim])
            index = flat if index is None else index + flat
            if bit is not None:
                factor = coordinates[dim] - lows[dim] if bit else lows[dim] + 1 - coordinates[dim]
            else:  # 1, through round's zero derivative: the grid gets PyTorch's zero gradient
                factor = _round(coordinates[dim]) - lows[dim] + 1
            weight = factor if weight is None else weight * factor
        gathered = plane.gather(2, expand(unsqueeze(index, 1), (batch, channels, points)))
        if mode == "nearest" or dims == 3:
            term = where(unsqueeze(valid, 1), gathered * unsqueeze(weight, 1), 0.0)
        else:  # PyTorch's 2-D kernel masks the value, not the term: a NaN weight stays NaN
            term = where(unsqueeze(valid, 1), gathered, 0.0) * unsqueeze(weight, 1)
        out = term if out is None else out + term
    return _named(
        reshape(out, (batch, channels, *out_spatial)), f"GridSampler{len(out_spatial)}DBackward0"
    )


# PyTorch's bicubic kernel (Keys' cubic convolution with a = -0.75, as OpenCV's).
_CUBIC_A = -0.75


def _cubic_weights(t: Tensor) -> list[Tensor]:
    """The weights of the taps at -1, 0, 1, 2 for a position t in [0, 1) past tap 0: cubic
    polynomials of t, so the grid's gradient is their derivative (PyTorch's
    get_cubic_upsample_coefficients)."""
    a = _CUBIC_A

    def near(x: Tensor) -> Tensor:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Tensor) -> Tensor:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _grid_sample_bicubic(input: Tensor, grid: Tensor, padding_mode: str, align: bool) -> Tensor:
    """grid_sample's bicubic mode on (N, C, H, W): the 4 x 4 taps around each unnormalized
    position (no padding rule on the position itself, as PyTorch's), each tap's pixel moved
    inside by the padding rule and read as zero outside; returns (N, C, points)."""
    batch, channels, height, width = input.shape
    points = _math.prod(grid.shape[1:-1])
    plane = reshape(input, (batch, channels, height * width))
    pixels = [
        _unnormalized(reshape(grid[..., 1], (batch, points)), height, align),
        _unnormalized(reshape(grid[..., 0], (batch, points)), width, align),
    ]
    lows = [_floor(p.detach()) for p in pixels]
    weights = [_cubic_weights(p - low) for p, low in zip(pixels, lows)]
    taps = []  # per dimension: (flat index part, valid mask) of the taps at -1, 0, 1, 2
    for low, size, stride in zip(lows, (height, width), (width, 1)):
        dimension_taps = []
        for offset in (-1, 0, 1, 2):
            position = _padded(low + offset, size, padding_mode, align)
            valid = (position >= 0) & (position <= size - 1)
            flat = _tap_index(position, valid, size, stride)
            dimension_taps.append((flat, valid))
        taps.append(dimension_taps)
    out = None
    for (row, row_valid), row_weight in zip(taps[0], weights[0]):
        for (column, column_valid), column_weight in zip(taps[1], weights[1]):
            index = expand(unsqueeze(row + column, 1), (batch, channels, points))
            value = where(unsqueeze(row_valid & column_valid, 1), plane.gather(2, index), 0.0)
            term = value * unsqueeze(row_weight * column_weight, 1)
            out = term if out is None else out + term
    return out


# ---- pooling and normalization variants ----------------------------------------------------


@_autocast_policy(_FLOAT32)
def fractional_max_pool2d(
    input: Tensor,
    kernel_size: IntOrSequence,
    output_size: IntOrSequence | None = None,
    output_ratio: FloatOrSequence | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """Fractional max pooling: the maximum over kernel_size windows whose starts are spread
    pseudo-randomly (one draw per plane and dimension) so the output has any size below the
    input's. The gradient reaches each window's maximum.

    Args:
        input (Tensor): floating point (N, C, H, W) or unbatched (C, H, W).
        kernel_size (int or tuple): the window's size.
        output_size (int or tuple, optional): the output's (H, W).
        output_ratio (float or tuple, optional): or the output's size as a fraction of the
            input's (one of the two must be given).
        return_indices (bool): also return each maximum's flat position in its plane.
        _random_samples (Tensor, optional): (N, C, 2) draws in [0, 1) fixing the windows
            (drawn from chainrule's generator if None).

    Returns:
        Tensor: (N, C, H_out, W_out), with the indices too if `return_indices`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.arange(36.0).reshape(1, 1, 6, 6)
        >>> F.fractional_max_pool2d(x, 2, output_size=3).shape
        chainrule.Size([1, 1, 3, 3])
        >>> F.fractional_max_pool2d(x, 2, output_size=5, _random_samples=chainrule.zeros(1, 1, 2))
        tensor([[[[ 7.,  8.,  9., 10., 11.],
                  [13., 14., 15., 16., 17.],
                  [19., 20., 21., 22., 23.],
                  [25., 26., 27., 28., 29.],
                  [31., 32., 33., 34., 35.]]]])
    """
    values, indices = _fractional_ops.fractional_max_pool(
        "fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio, _random_samples
    )
    values = _named(values, "FractionalMaxPool2DBackward0")
    return (values, indices) if return_indices else values


def fractional_max_pool2d_with_indices(
    input: Tensor,
    kernel_size: IntOrSequence,
    output_size: IntOrSequence | None = None,
    output_ratio: FloatOrSequence | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """fractional_max_pool2d with the indices always returned.

    Args:
        input (Tensor): floating point (N, C, H, W) or unbatched (C, H, W).
        kernel_size (int or tuple): the window's size.
        output_size (int or tuple, optional): the output's (H, W).
        output_ratio (float or tuple, optional): or the output's size as a fraction of the
            input's.
        return_indices (bool): ignored: the indices are returned.
        _random_samples (Tensor, optional): (N, C, 2) draws in [0, 1) fixing the windows.

    Returns:
        (Tensor, Tensor): the maxima, and the int64 flat index of each in its plane.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.arange(16.0).reshape(1, 1, 4, 4)
        >>> F.fractional_max_pool2d_with_indices(x, 2, output_size=2)[1]
        tensor([[[[ 5,  7],
                  [13, 15]]]])
    """
    return _fractional_ops.fractional_max_pool(
        "fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio, _random_samples
    )


@_autocast_policy(_FLOAT32)
def fractional_max_pool3d(
    input: Tensor,
    kernel_size: IntOrSequence,
    output_size: IntOrSequence | None = None,
    output_ratio: FloatOrSequence | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """Fractional max pooling over (T, H, W): fractional_max_pool2d with a third dimension.

    Args:
        input (Tensor): floating point (N, C, T, H, W) or unbatched (C, T, H, W).
        kernel_size (int or tuple): the window's size.
        output_size (int or tuple, optional): the output's (T, H, W).
        output_ratio (float or tuple, optional): or the output's size as a fraction of the
            input's (one of the two must be given).
        return_indices (bool): also return each maximum's flat position in its volume.
        _random_samples (Tensor, optional): (N, C, 3) draws in [0, 1) fixing the windows
            (drawn from chainrule's generator if None).

    Returns:
        Tensor: (N, C, T_out, H_out, W_out), with the indices too if `return_indices`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.fractional_max_pool3d(chainrule.randn(2, 3, 8, 8, 8), 2, output_ratio=0.5).shape
        chainrule.Size([2, 3, 4, 4, 4])
    """
    values, indices = _fractional_ops.fractional_max_pool(
        "fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio, _random_samples
    )
    values = _named(values, "FractionalMaxPool3DBackward0")
    return (values, indices) if return_indices else values


def fractional_max_pool3d_with_indices(
    input: Tensor,
    kernel_size: IntOrSequence,
    output_size: IntOrSequence | None = None,
    output_ratio: FloatOrSequence | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """fractional_max_pool3d with the indices always returned.

    Args:
        input (Tensor): floating point (N, C, T, H, W) or unbatched (C, T, H, W).
        kernel_size (int or tuple): the window's size.
        output_size (int or tuple, optional): the output's (T, H, W).
        output_ratio (float or tuple, optional): or the output's size as a fraction of the
            input's.
        return_indices (bool): ignored: the indices are returned.
        _random_samples (Tensor, optional): (N, C, 3) draws in [0, 1) fixing the windows.

    Returns:
        (Tensor, Tensor): the maxima, and the int64 flat index of each in its volume.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.arange(27.0).reshape(1, 1, 3, 3, 3)
        >>> F.fractional_max_pool3d_with_indices(x, 2, output_size=1)
        (tensor([[[[[26.]]]]]), tensor([[[[[26]]]]]))
    """
    return _fractional_ops.fractional_max_pool(
        "fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio, _random_samples
    )


def max_pool1d_with_indices(input: Tensor, *args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """max_pool1d with `return_indices` always True: the maxima and where they are.

    Args:
        input (Tensor): (N, C, L) or unbatched (C, L).
        *args (Any): kernel_size, stride, padding, dilation and ceil_mode, as max_pool1d
            takes them.
        **kwargs (Any): the same, by name (return_indices is set to True).

    Returns:
        (Tensor, Tensor): the maxima, and the int64 flat index of each in its plane.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([[[1.0, 3.0, 2.0, 5.0]]])
        >>> F.max_pool1d_with_indices(x, 2)
        (tensor([[[3., 5.]]]), tensor([[[1, 3]]]))
    """
    kwargs["return_indices"] = True
    return max_pool1d(input, *args, **kwargs)


def max_pool2d_with_indices(input: Tensor, *args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """max_pool2d with `return_indices` always True: the maxima and where they are.

    Args:
        input (Tensor): (N, C, H, W) or unbatched (C, H, W).
        *args (Any): kernel_size, stride, padding, dilation and ceil_mode, as max_pool2d
            takes them.
        **kwargs (Any): the same, by name (return_indices is set to True).

    Returns:
        (Tensor, Tensor): the maxima, and the int64 flat index of each in its plane.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.arange(16.0).reshape(1, 1, 4, 4)
        >>> values, indices = F.max_pool2d_with_indices(x, 2)
        >>> indices
        tensor([[[[ 5,  7],
                  [13, 15]]]])
    """
    kwargs["return_indices"] = True
    return max_pool2d(input, *args, **kwargs)


def max_pool3d_with_indices(input: Tensor, *args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """max_pool3d with `return_indices` always True: the maxima and where they are.

    Args:
        input (Tensor): (N, C, D, H, W) or unbatched (C, D, H, W).
        *args (Any): kernel_size, stride, padding, dilation and ceil_mode, as max_pool3d
            takes them.
        **kwargs (Any): the same, by name (return_indices is set to True).

    Returns:
        (Tensor, Tensor): the maxima, and the int64 flat index of each in its plane.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> values, indices = F.max_pool3d_with_indices(chainrule.ones(1, 1, 2, 2, 2), 2)
        >>> values.shape, indices.shape
        (chainrule.Size([1, 1, 1, 1, 1]), chainrule.Size([1, 1, 1, 1, 1]))
    """
    kwargs["return_indices"] = True
    return max_pool3d(input, *args, **kwargs)


def adaptive_max_pool1d_with_indices(
    input: Tensor, output_size: int | None | Sequence[int | None], return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """adaptive_max_pool1d with `return_indices` always True: the maxima and where they are.

    Args:
        input (Tensor): floating point (N, C, L) or unbatched (C, L).
        output_size (int or tuple): the output's spatial size.
        return_indices (bool): ignored; the indices are always returned.

    Returns:
        (Tensor, Tensor): the maxima (N, C, *output_size), and the int64 flat index of each in
        its plane.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([[[1.0, 3.0, 2.0, 5.0]]])
        >>> F.adaptive_max_pool1d_with_indices(x, 2)
        (tensor([[[3., 5.]]]), tensor([[[1, 3]]]))
    """
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(
    input: Tensor, output_size: int | None | Sequence[int | None], return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """adaptive_max_pool2d with `return_indices` always True: the maxima and where they are.

    Args:
        input (Tensor): floating point (N, C, H, W) or unbatched (C, H, W).
        output_size (int or tuple): the output's spatial size.
        return_indices (bool): ignored; the indices are always returned.

    Returns:
        (Tensor, Tensor): the maxima (N, C, *output_size), and the int64 flat index of each in
        its plane.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.arange(16.0).reshape(1, 1, 4, 4)
        >>> F.adaptive_max_pool2d_with_indices(x, 1)
        (tensor([[[[15.]]]]), tensor([[[[15]]]]))
    """
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(
    input: Tensor, output_size: int | None | Sequence[int | None], return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """adaptive_max_pool3d with `return_indices` always True: the maxima and where they are.

    Args:
        input (Tensor): floating point (N, C, D, H, W) or unbatched (C, D, H, W).
        output_size (int or tuple): the output's spatial size.
        return_indices (bool): ignored; the indices are always returned.

    Returns:
        (Tensor, Tensor): the maxima (N, C, *output_size), and the int64 flat index of each in
        its plane.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.ones(1, 1, 2, 2, 2)
        >>> values, indices = F.adaptive_max_pool3d_with_indices(x, 1)
        >>> values.shape, indices.shape
        (chainrule.Size([1, 1, 1, 1, 1]), chainrule.Size([1, 1, 1, 1, 1]))
    """
    return adaptive_max_pool3d(input, output_size, True)


def _lp_pool(
    name: str, input: Tensor, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool
) -> Any:
    """(sum over each window of x^p)^(1/p), as PyTorch computes it: an average pool of x^p
    times the window's size (sign(s) * relu(|s|) is s itself: a negative sum, possible for
    odd p, stays negative, and its 1/p power is nan unless p = 1)."""
    dims = int(name[-2])
    kernel = _ntuple(name, "kernel_size", kernel_size, dims)
    pool = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[dims]
    out = pool(input**norm_type, kernel, stride, 0, ceil_mode)
    return (_sign(out) * relu(_abs(out)) * _math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(
    input: Tensor,
    norm_type: float,
    kernel_size: IntOrSequence,
    stride: IntOrSequence | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """The p-norm of each window: (sum x^p)^(1/p) over (N, C, L), each channel on
    its own; a window whose sum of x^p is negative (odd p) gives nan, or the sum itself for
    p = 1, as PyTorch.

    Args:
        input (Tensor): floating point (N, C, L) or unbatched (C, L).
        norm_type (float): p.
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the step between windows; default `kernel_size`.
        ceil_mode (bool): round the output size up (a last window may hang over the edge).

    Returns:
        Tensor: (N, C, *out) with out = floor((in - kernel_size) / stride) + 1 (ceil in
        ceil_mode).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.lp_pool1d(chainrule.tensor([[[3.0, 4.0, 1.0, 1.0]]]), 2, 2)
        tensor([[[5.0000, 1.4142]]])
    """
    return _lp_pool("lp_pool1d", input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(
    input: Tensor,
    norm_type: float,
    kernel_size: IntOrSequence,
    stride: IntOrSequence | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """The p-norm of each window: (sum x^p)^(1/p) over (N, C, H, W), each channel on
    its own; a window whose sum of x^p is negative (odd p) gives nan, or the sum itself for
    p = 1, as PyTorch.

    Args:
        input (Tensor): floating point (N, C, H, W) or unbatched (C, H, W).
        norm_type (float): p.
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the step between windows; default `kernel_size`.
        ceil_mode (bool): round the output size up (a last window may hang over the edge).

    Returns:
        Tensor: (N, C, *out) with out = floor((in - kernel_size) / stride) + 1 (ceil in
        ceil_mode).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.lp_pool2d(chainrule.tensor([[[[3.0, 4.0], [0.0, 0.0]]]]), 2, 2)
        tensor([[[[5.]]]])
    """
    return _lp_pool("lp_pool2d", input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(
    input: Tensor,
    norm_type: float,
    kernel_size: IntOrSequence,
    stride: IntOrSequence | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """The p-norm of each window: (sum x^p)^(1/p) over (N, C, D, H, W), each channel on
    its own; a window whose sum of x^p is negative (odd p) gives nan, or the sum itself for
    p = 1, as PyTorch.

    Args:
        input (Tensor): floating point (N, C, D, H, W) or unbatched (C, D, H, W).
        norm_type (float): p.
        kernel_size (int or tuple): the window size.
        stride (int or tuple, optional): the step between windows; default `kernel_size`.
        ceil_mode (bool): round the output size up (a last window may hang over the edge).

    Returns:
        Tensor: (N, C, *out) with out = floor((in - kernel_size) / stride) + 1 (ceil in
        ceil_mode).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.lp_pool3d(chainrule.ones(1, 1, 2, 2, 2), 1, 2)  # p = 1: the sum
        tensor([[[[[8.]]]]])
    """
    return _lp_pool("lp_pool3d", input, norm_type, kernel_size, stride, ceil_mode)


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta (AlexNet's
    normalization), the neighbourhood zero-padded at the ends as in PyTorch.

    Args:
        input (Tensor): floating point (N, C, *), at least 3-D.
        size (int): how many channels each neighbourhood spans (size // 2 before the channel,
            (size - 1) // 2 after).
        alpha (float): the multiplier of the mean square.
        beta (float): the exponent.
        k (float): the additive constant.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.local_response_norm(chainrule.ones(1, 3, 1), 2, alpha=1.0, beta=1.0)
        tensor([[[0.6667],
                 [0.5000],
                 [0.5000]]])
    """
    if input.ndim < 3:
        raise ShapeError(
            "local_response_norm: expected 3D or higher dimensional input, got shape "
            f"{tuple(input.shape)}"
        )
    if input.numel() == 0:
        return input
    squares = unsqueeze(input * input, 1)  # (N, 1, C, *)
    if input.ndim == 3:
        padded = pad(squares, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(padded, (size, 1), stride=1)[:, 0]
    else:
        shape = tuple(input.shape)
        squares = reshape(squares, (shape[0], 1, shape[1], shape[2], -1))
        padded = pad(squares, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = reshape(avg_pool3d(padded, (size, 1, 1), stride=1)[:, 0], shape)
    out = input / (div * alpha + k) ** beta
    return _named(_keep_channels_last(input, out), "DivBackward0")  # (channels-last kept)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) with its C channels, read as `groups` groups, interleaved: channel g * (C /
    groups) + i goes to i * groups + g (ShuffleNet). native_channel_shuffle is the same function.

    Args:
        input (Tensor): (N, C, *), at least 3-D.
        groups (int): how many groups; it divides C.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.channel_shuffle(chainrule.arange(4.0).reshape(1, 4, 1), 2)
        tensor([[[0.],
                 [2.],
                 [1.],
                 [3.]]])
    """
    if input.ndim < 3:
        raise ShapeError(
            f"channel_shuffle: expected input with at least 3 dimensions, got shape "
            f"{tuple(input.shape)}"
        )
    batch, channels, *rest = input.shape
    if groups <= 0 or channels % groups:
        raise ShapeError(
            f"channel_shuffle: number of channels {channels} must be divisible by groups {groups}"
        )
    grouped = reshape(input, (batch, groups, channels // groups, *rest))
    out = reshape(transpose(grouped, 1, 2), tuple(input.shape))
    return _named(_keep_channels_last(input, out), "ChannelShuffleBackward0")


native_channel_shuffle = channel_shuffle


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distance between every pair of rows i < j of (N, M) input, in row-major
    order of the pairs: N (N - 1) / 2 values.

    Args:
        input (Tensor): floating point (N, M), one point a row.
        p (float): the norm of the distance.

    Returns:
        Tensor: (N (N - 1) / 2,): d(0, 1), d(0, 2), ..., d(1, 2), ...

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.pdist(chainrule.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
        tensor([5.0000, 1.0000, 4.2426])
    """
    _refuse_complex("pdist", input)
    if input.ndim != 2:
        raise ShapeError(f"pdist: expected a 2-D input, got shape {tuple(input.shape)}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"pdist only supports floating-point dtypes, got {input.dtype.name}")
    if p < 0:
        raise DomainError(f"pdist only supports non-negative p values, got {p}")
    rows = input.shape[0]
    first, second = _triu_indices(rows, rows, 1, device=input.device)
    return _named(_distance_norm(input[first] - input[second], p), "PdistBackward0")


def gumbel_softmax(
    logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """softmax((logits + g) / tau) with g drawn from Gumbel(0, 1): a differentiable sample of
    a categorical distribution; with hard, the one-hot of its argmax, whose gradient is the
    soft sample's (straight-through).

    Args:
        logits (Tensor): floating point, any shape: unnormalized log-probabilities along `dim`.
        tau (float): the temperature; smaller is closer to one-hot.
        hard (bool): return one-hot samples (with the soft sample's gradient).
        eps (float): unused, kept for PyTorch's signature.
        dim (int): the dimension of the categories.

    Returns:
        Tensor: the shape of `logits`, summing to 1 along `dim`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> y = F.gumbel_softmax(chainrule.tensor([[1.0, 2.0, 3.0]]), tau=0.5, hard=True)
        >>> y.shape, y.sum().item()
        (chainrule.Size([1, 3]), 1.0)
    """
    exponentials = -log(1 - _rand_like(logits))  # Exp(1) draws; 1 - U keeps log finite
    gumbels = -log(exponentials)
    y_soft = _softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = _zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


# ---- in-place activations and deprecated aliases --------------------------------------------


def _in_place(activation: Any, input: Tensor, *args: Any) -> Any:
    """input overwritten with activation(input, *args), a graph-aware copy. The activation
    reads a clone, so what its rule saves is not the tensor the copy overwrites."""
    return input.copy_(activation(input.clone(), *args))


def relu_(input: Tensor) -> Tensor:
    """relu, in place: max(x, 0) written into `input`.

    Args:
        input (Tensor): any shape; not a leaf that requires grad.

    Returns:
        Tensor: `input` itself, overwritten.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([-1.0, 2.0])
        >>> F.relu_(x)
        tensor([0., 2.])
        >>> x
        tensor([0., 2.])
    """
    return _in_place(relu, input)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """elu, in place: x where x > 0, else alpha * (exp(x) - 1), written into `input`.

    Args:
        input (Tensor): floating point, any shape; not a leaf that requires grad.
        alpha (float): the value the negative side saturates at is -alpha.

    Returns:
        Tensor: `input` itself, overwritten.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([-1.0, 2.0])
        >>> F.elu_(x)
        tensor([-0.6321,  2.0000])
        >>> x
        tensor([-0.6321,  2.0000])
    """
    return _in_place(elu, input, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """celu, in place: max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), written into
    `input`.

    Args:
        input (Tensor): floating point, any shape; not a leaf that requires grad.
        alpha (float): the value the negative side saturates at is -alpha.

    Returns:
        Tensor: `input` itself, overwritten.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([-1.0, 2.0])
        >>> F.celu_(x, 2.0)
        tensor([-0.7869,  2.0000])
        >>> x
        tensor([-0.7869,  2.0000])
    """
    return _in_place(celu, input, alpha)


def selu_(input: Tensor) -> Tensor:
    """selu, in place: scale * elu(x, alpha) with PyTorch's self-normalizing constants,
    written into `input`.

    Args:
        input (Tensor): floating point, any shape; not a leaf that requires grad.

    Returns:
        Tensor: `input` itself, overwritten.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([-1.0, 2.0])
        >>> F.selu_(x)
        tensor([-1.1113,  2.1014])
        >>> x
        tensor([-1.1113,  2.1014])
    """
    return _in_place(selu, input)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu, in place: x where x > 0, else negative_slope * x, written into `input`.

    Args:
        input (Tensor): floating point, any shape; not a leaf that requires grad.
        negative_slope (float): the slope for x <= 0.

    Returns:
        Tensor: `input` itself, overwritten.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([-1.0, 2.0])
        >>> F.leaky_relu_(x, 0.1)
        tensor([-0.1000,  2.0000])
        >>> x
        tensor([-0.1000,  2.0000])
    """
    return _in_place(leaky_relu, input, negative_slope)


def rrelu_(
    input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False
) -> Tensor:
    """rrelu, in place: x for x > 0, a x below, a drawn from [lower, upper] per element in
    training and (lower + upper) / 2 otherwise, written into `input`.

    Args:
        input (Tensor): floating point, any shape; not a leaf that requires grad.
        lower (float): the smallest negative slope drawn.
        upper (float): the largest negative slope drawn.
        training (bool): draw the slopes (True) or use their mean (False, the default).

    Returns:
        Tensor: `input` itself, overwritten.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([-1.0, 2.0])
        >>> F.rrelu_(x, 0.1, 0.3)
        tensor([-0.2000,  2.0000])
        >>> x
        tensor([-0.2000,  2.0000])
    """
    return _in_place(rrelu, input, lower, upper, training)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """hardtanh, in place: x clamped to [min_val, max_val], written into `input`.

    Args:
        input (Tensor): any shape; not a leaf that requires grad.
        min_val (float): the lower bound.
        max_val (float): the upper bound.

    Returns:
        Tensor: `input` itself, overwritten.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([-1.0, 2.0])
        >>> F.hardtanh_(x, -0.5, 0.5)
        tensor([-0.5000,  0.5000])
        >>> x
        tensor([-0.5000,  0.5000])
    """
    return _in_place(hardtanh, input, min_val, max_val)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """threshold, in place: x where x > threshold, else value, written into `input`.

    Args:
        input (Tensor): any shape; not a leaf that requires grad.
        threshold (float): the values at or below it are replaced.
        value (float): what replaces them.

    Returns:
        Tensor: `input` itself, overwritten.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([-1.0, 2.0])
        >>> F.threshold_(x, 0.0, 5.0)
        tensor([5., 2.])
        >>> x
        tensor([5., 2.])
    """
    return _in_place(_activation_ops.threshold, input, threshold, value)


def upsample(
    input: Tensor,
    size: IntOrSequence | None = None,
    scale_factor: FloatOrSequence | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Deprecated alias of interpolate (with PyTorch's deprecation warning).

    Args:
        input (Tensor): floating point (N, C, *spatial), 1 to 3 spatial dimensions.
        size (int or tuple, optional): the output's spatial size.
        scale_factor (float or tuple, optional): multiplies each spatial size.
        mode (str): as interpolate's: 'nearest' (default), 'linear', 'bilinear', ...
        align_corners (bool, optional): linear modes only, as interpolate's.

    Returns:
        Tensor: (N, C, *size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.upsample(chainrule.tensor([[[1.0, 2.0]]]), scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
    """
    _warnings.warn(
        "nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor, size: IntOrSequence | None = None, scale_factor: FloatOrSequence | None = None
) -> Tensor:
    """Deprecated: interpolate(mode='nearest'), with PyTorch's deprecation warning.

    Args:
        input (Tensor): (N, C, *spatial), 1 to 3 spatial dimensions.
        size (int or tuple, optional): the output's spatial size.
        scale_factor (float or tuple, optional): multiplies each spatial size.

    Returns:
        Tensor: (N, C, *size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.upsample_nearest(chainrule.tensor([[[[1.0, 2.0]]]]), scale_factor=2)
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.]]]])
    """
    _warnings.warn(
        "nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor, size: IntOrSequence | None = None, scale_factor: FloatOrSequence | None = None
) -> Tensor:
    """Deprecated: interpolate(mode='bilinear', align_corners=True), with PyTorch's deprecation
    warning.

    Args:
        input (Tensor): floating point (N, C, H, W).
        size (int or tuple, optional): the output's (H, W).
        scale_factor (float or tuple, optional): multiplies H and W.

    Returns:
        Tensor: (N, C, *size).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.upsample_bilinear(chainrule.tensor([[[[1.0, 2.0]]]]), size=(1, 3))
        tensor([[[[1.0000, 1.5000, 2.0000]]]])
    """
    _warnings.warn(
        "nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- attention -----------------------------------------------------------------------------


@_autocast_policy(_LOWER)
def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention: softmax(query key^T * scale + mask) value over the last two dimensions (the
    leading ones are batch and heads). A bool mask marks the positions that take part, a float
    mask is added to the scores; rows left with no position give 0, as PyTorch.

    Args:
        query (Tensor): (*, L, E).
        key (Tensor): (*, S, E).
        value (Tensor): (*, S, Ev).
        attn_mask (Tensor, optional): bool or floating point, broadcastable to (*, L, S); or a
            CausalBias of torch.nn.attention.bias (`causal_lower_right(L, S)`).
        dropout_p (float): dropout on the attention weights (pass 0 in evaluation).
        is_causal (bool): query i attends to key positions j <= i only. With `attn_mask`
            too, both apply where PyTorch's CPU flash kernel would run (a 2-D or 4-D mask
            without grad, no dropout); elsewhere PyTorch refuses the pair, and so does this.
        scale (float, optional): default 1 / sqrt(E).
        enable_gqa (bool): grouped-query attention: key and value may have fewer heads (dim -3)
            than query, each shared by a group of query heads.

    Returns:
        Tensor: (*, L, Ev).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> q = k = chainrule.zeros(1, 2, 3, 4)  # batch, heads, length, embedding
        >>> v = chainrule.arange(3.0).reshape(1, 1, 3, 1).expand(1, 2, 3, 1)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True)[0, 0]
        tensor([[0.0000],
                [0.5000],
                [1.0000]])
    """
    if isinstance(attn_mask, _CausalBias):  # as PyTorch dispatches one on the CPU
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        same_length = attn_mask.seq_len_q == attn_mask.seq_len_kv
        if attn_mask.variant == _CausalVariant.UPPER_LEFT or same_length:
            attn_mask, is_causal = None, True
        else:
            attn_mask = attn_mask._materialize(query.device)
    _refuse_complex("scaled_dot_product_attention", query, key, value)  # no complex softmax
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ShapeError("scaled_dot_product_attention: query, key and value need at least 2 dims")
    if key.shape[-1] != query.shape[-1] or value.shape[-2] != key.shape[-2]:
        raise ShapeError(
            f"scaled_dot_product_attention: shapes do not fit: query {tuple(query.shape)}, "
            f"key {tuple(key.shape)}, value {tuple(value.shape)}"
        )
    if not query.dtype == key.dtype == value.dtype:
        raise DTypeError(
            "scaled_dot_product_attention: Expected query, key, and value to have the same "
            f"dtype, but got query.dtype: {query.dtype} key.dtype: {key.dtype} and "
            f"value.dtype: {value.dtype} instead."
        )
    if attn_mask is not None:
        if attn_mask.dtype not in (_bool, _float32, query.dtype):
            raise DTypeError(
                "scaled_dot_product_attention: Expected attn_mask dtype to be bool or float or to "
                f"match query dtype, but got attn_mask.dtype: {attn_mask.dtype} and query.dtype: "
                f"{query.dtype} instead."
            )
    flash = _cpu_flash_applies(query, key, value, attn_mask, dropout_p, enable_gqa)
    if attn_mask is not None and is_causal:
        if not flash:  # PyTorch's math kernel refuses the pair; its CPU flash kernel takes both
            raise DomainError(
                "scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
        causal = _tril(_ones(query.shape[-2], key.shape[-2], dtype=_bool, device=query.device))
        if attn_mask.dtype == _bool:
            attn_mask = attn_mask & causal
        else:
            attn_mask = where(causal, attn_mask, float("-inf"))
        is_causal = False
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    factor = 1 / _math.sqrt(query.shape[-1]) if scale is None else scale
    if query.dtype in (_float16, _bfloat16):
        # PyTorch's CPU kernels accumulate half-precision attention in float32 and round the
        # result once: rounding the scores and weights too would be ten times further off.
        if attn_mask is not None and attn_mask.dtype.is_floating_point:
            attn_mask = attn_mask.float()
        out = _attention(
            query.float(), key.float(), value.float(), attn_mask, dropout_p, is_causal, factor
        ).to(query.dtype)
    else:
        if attn_mask is not None and attn_mask.dtype.is_floating_point:
            attn_mask = attn_mask.to(query.dtype)  # a float32 mask serves a float64 query
        out = _attention(query, key, value, attn_mask, dropout_p, is_causal, factor)
    return _named(out, "ScaledDotProductFlashAttentionForCpuBackward0") if flash else out


def _cpu_flash_applies(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None,
    dropout_p: float,
    enable_gqa: bool,
) -> bool:
    """Whether PyTorch's CPU dispatcher would run its flash kernel, whose node a printed result
    names (ScaledDotProductFlashAttentionForCpuBackward0; the math kernel's is its last op):
    the flash switch on, no dropout, 4-D operands of one batch size and one head size, heads
    equal (or grouped, with enable_gqa), no empty sequence, unit last strides, and a mask, if
    any, without grad, 2-D or 4-D, whose dims are the scores' or 1 (3-D masks go to math)."""
    if not _flash_sdp_enabled() or dropout_p > 0:
        return False
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        return False
    batch, heads, length, size = query.shape
    source, kv_heads = key.shape[2], key.shape[1]
    if key.shape[0] != batch or value.shape[0] != batch or value.shape[1] != kv_heads:
        return False
    if kv_heads != heads and not (enable_gqa and heads % kv_heads == 0):
        return False
    if key.shape[3] != size or value.shape[3] != size or length == 0 or source == 0:
        return False
    if any(operand.stride(-1) != 1 for operand in (query, key, value)):
        return False
    if attn_mask is None:
        return True
    if attn_mask.requires_grad or attn_mask.ndim not in (2, 4):
        return False
    if attn_mask.shape[-2] not in (length, 1) or attn_mask.shape[-1] not in (source, 1):
        return False
    return attn_mask.ndim == 2 or (
        attn_mask.shape[0] in (1, batch) and attn_mask.shape[1] in (1, heads)
    )


def _attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None,
    dropout_p: float,
    is_causal: bool,
    factor: float,
) -> Tensor:
    """scaled_dot_product_attention on checked operands of one dtype, heads already matched
    (and never both a mask and is_causal: the caller refuses that)."""
    if is_causal:
        # Every row keeps position 0, so no row is dead: scale, mask and softmax as one op
        # (one pass per row), no mask tests or selects over the scores.
        scores = matmul(query, transpose(key, -2, -1))
        weights = _apply(_ScaledCausalSoftmax, (scores,), factor)
        if dropout_p > 0:
            weights = dropout(weights, dropout_p)
        return matmul(weights, value)
    scores = matmul(query, transpose(key, -2, -1)) * factor
    if attn_mask is not None:
        if attn_mask.dtype.is_floating_point:
            scores = scores + attn_mask
        else:
            scores = masked_fill(scores, ~expand(attn_mask, tuple(scores.shape)), float("-inf"))
    # rows masked everywhere: tensor ops, not the raw array, so vmap batches them per example
    dead = _all(_isneginf(scores.detach()), -1, keepdim=True)
    weights = _softmax(where(dead, 0.0, scores), -1)
    weights = where(dead, 0.0, weights)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)


def _repeat_heads(tensor: Tensor, heads: int) -> Tensor:
    """(..., H_kv, S, E) -> (..., heads, S, E), each key/value head repeated for its group."""
    kv_heads = tensor.shape[-3]
    if heads % kv_heads:
        raise ShapeError(
            f"scaled_dot_product_attention: {heads} query heads are not a multiple of "
            f"{kv_heads} key/value heads"
        )
    shape = tuple(tensor.shape)
    grouped = expand(unsqueeze(tensor, -3), shape[:-2] + (heads // kv_heads,) + shape[-2:])
    return reshape(grouped, shape[:-3] + (heads,) + shape[-2:])


# ---- rearranging pixels and patches --------------------------------------------------------


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block
    of pixels (sub-pixel convolution's upsampling).

    Args:
        input (Tensor): (*, C r^2, H, W), at least 3-D.
        upscale_factor (int): r.

    Returns:
        Tensor: (*, C, H r, W r).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.pixel_shuffle(chainrule.arange(4.0).reshape(1, 4, 1, 1), 2)
        tensor([[[[0., 1.],
                  [2., 3.]]]])
    """
    r = int(upscale_factor)
    if input.ndim < 3:
        raise ShapeError(
            f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )
    if r <= 0:
        raise DomainError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, channels, height, width = input.shape
    if channels % (r * r):
        raise ShapeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
            f"of upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}"
        )
    n = len(batch)
    blocks = reshape(input, (*batch, channels // (r * r), r, r, height, width))
    order = (*range(n), n, n + 3, n + 1, n + 4, n + 2)
    out = reshape(blocks.permute(order), (*batch, channels // (r * r), height * r, width * r))
    return _named(_keep_channels_last(input, out), "PixelShuffleBackward0")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle.

    Args:
        input (Tensor): (*, C, H r, W r), at least 3-D.
        downscale_factor (int): r; it divides H r and W r.

    Returns:
        Tensor: (*, C r^2, H, W).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.pixel_unshuffle(chainrule.arange(4.0).reshape(1, 1, 2, 2), 2).flatten()
        tensor([0., 1., 2., 3.])
    """
    r = int(downscale_factor)
    if input.ndim < 3:
        raise ShapeError(
            f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )
    if r <= 0:
        raise DomainError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *batch, channels, height, width = input.shape
    if height % r or width % r:
        raise ShapeError(
            "pixel_unshuffle expects height and width to be divisible by downscale_factor, but "
            f"got height={height}, width={width} and downscale_factor={r}"
        )
    n = len(batch)
    blocks = reshape(input, (*batch, channels, height // r, r, width // r, r))
    order = (*range(n), n, n + 2, n + 4, n + 1, n + 3)
    out = reshape(blocks.permute(order), (*batch, channels * r * r, height // r, width // r))
    return _named(_keep_channels_last(input, out), "PixelUnshuffleBackward0")


def _patch_geometry(
    name: str, spatial: tuple, kernel_size: Any, dilation: Any, padding: Any, stride: Any
) -> tuple:
    """(kernel, dilation, padding, stride, blocks per dimension, padded size) of fold/unfold."""
    kernel = _ntuple(name, "kernel_size", kernel_size, 2)
    dilation = _ntuple(name, "dilation", dilation, 2)
    padding = _ntuple(name, "padding", padding, 2)
    stride = _ntuple(name, "stride", stride, 2)
    for label, values, least in (
        ("kernel size", kernel, 1),
        ("stride", stride, 1),
        ("dilation", dilation, 1),
        ("padding", padding, 0),
    ):
        if any(v < least for v in values):  # (PyTorch: RuntimeError)
            bound = "greater than zero" if least else "non-negative"
            raise DomainError(f"{name}: {label} should be {bound}, but got {values}")
    padded = tuple(s + 2 * p for s, p in zip(spatial, padding))
    blocks = tuple(
        (size - d * (k - 1) - 1) // st + 1
        for size, d, k, st in zip(padded, dilation, kernel, stride)
    )
    if any(b < 1 for b in blocks):
        raise ShapeError(
            f"{name}: calculated shape of the array of sliding blocks as {blocks}, but its "
            f"components must be at least one (spatial size {spatial}, kernel_size {kernel}, "
            f"dilation {dilation}, padding {padding}, stride {stride})"
        )
    return kernel, dilation, padding, stride, blocks, padded


def _patch_index(kernel: tuple, dilation: tuple, stride: tuple, blocks: tuple, width: int) -> Any:
    """The flat position in the padded plane of kernel offset k (rows) in block l (columns)."""
    k_rows = [
        i * dilation[0] * width + j * dilation[1]
        for i in range(kernel[0])
        for j in range(kernel[1])
    ]
    starts = [
        bi * stride[0] * width + bj * stride[1]
        for bi in range(blocks[0])
        for bj in range(blocks[1])
    ]
    positions = [[k + s for s in starts] for k in k_rows]
    return positions


def unfold(
    input: Tensor,
    kernel_size: IntOrSequence,
    dilation: IntOrSequence = 1,
    padding: IntOrSequence = 0,
    stride: IntOrSequence = 1,
) -> Tensor:
    """im2col: (N, C, H, W) -> (N, C k_h k_w, L), column l holding the (padded) input under the
    l-th position of a sliding k_h x k_w window, channel-major as PyTorch orders it.

    Args:
        input (Tensor): (N, C, H, W) or unbatched (C, H, W).
        kernel_size (int or tuple): the window size (k_h, k_w).
        dilation (int or tuple): the spacing between window elements.
        padding (int or tuple): zeros added on both sides of each spatial dimension.
        stride (int or tuple): the step between windows.

    Returns:
        Tensor: (N, C k_h k_w, L) (or (C k_h k_w, L)), L the number of windows: the product over
        H and W of floor((in + 2 padding - dilation (k - 1) - 1) / stride) + 1.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.unfold(chainrule.arange(9.0).reshape(1, 1, 3, 3), 2)
        tensor([[[0., 1., 3., 4.],
                 [1., 2., 4., 5.],
                 [3., 4., 6., 7.],
                 [4., 5., 7., 8.]]])
    """
    if input.ndim < 3:  # (PyTorch reads dims 2 and 3 first: IndexError)
        raise IndexRangeError(
            f"unfold: dimension out of range: expected 3D or 4D (batch mode) input, got shape "
            f"{tuple(input.shape)}"
        )
    if input.ndim > 4:
        raise ShapeError(
            f"unfold: expected 3D or 4D (batch mode) input, got shape {tuple(input.shape)}"
        )
    x = unsqueeze(input, 0) if input.ndim == 3 else input
    batch, channels = x.shape[0], x.shape[1]
    kernel, dilation, padding, stride, blocks, padded = _patch_geometry(
        "unfold", tuple(x.shape[2:]), kernel_size, dilation, padding, stride
    )
    if any(padding):
        x = pad(x, (padding[1], padding[1], padding[0], padding[0]))
    plane = reshape(x, (batch, channels, padded[0] * padded[1]))
    positions = _patch_index(kernel, dilation, stride, blocks, padded[1])
    index = _shape_constant(plane._backend.xp.asarray(positions))
    columns = plane[:, :, index]  # (N, C, K, L)
    out = reshape(columns, (batch, channels * kernel[0] * kernel[1], blocks[0] * blocks[1]))
    return _named(out[0] if input.ndim == 3 else out, "Im2ColBackward0")


def fold(
    input: Tensor,
    output_size: IntOrSequence,
    kernel_size: IntOrSequence,
    dilation: IntOrSequence = 1,
    padding: IntOrSequence = 0,
    stride: IntOrSequence = 1,
) -> Tensor:
    """col2im, the adjoint of unfold: (N, C k_h k_w, L) -> (N, C, H, W), each column added back
    into the window it came from (overlapping windows sum).

    Args:
        input (Tensor): (N, C k_h k_w, L) or unbatched (C k_h k_w, L), L the number of windows
            that fit in `output_size`.
        output_size (int or tuple): (H, W), the spatial size of the output.
        kernel_size (int or tuple): the window size (k_h, k_w).
        dilation (int or tuple): the spacing between window elements.
        padding (int or tuple): the border the windows cover beyond the output, dropped.
        stride (int or tuple): the step between windows.

    Returns:
        Tensor: (N, C, H, W) (or (C, H, W)).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.fold(chainrule.ones(1, 4, 4), (3, 3), 2)  # how many windows cover each pixel
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    if input.ndim not in (2, 3):
        raise ShapeError(
            f"fold: expected 2D or 3D (batch mode) input, got shape {tuple(input.shape)}"
        )
    cols = unsqueeze(input, 0) if input.ndim == 2 else input
    size = _ntuple("fold", "output_size", output_size, 2)
    kernel, dilation, padding, stride, blocks, padded = _patch_geometry(
        "fold", size, kernel_size, dilation, padding, stride
    )
    patch = kernel[0] * kernel[1]
    if cols.shape[1] % patch or cols.shape[2] != blocks[0] * blocks[1]:
        raise ShapeError(
            f"fold: expected input of shape (N, C * {patch}, {blocks[0] * blocks[1]}) for "
            f"output_size {size}, kernel_size {kernel}, dilation {dilation}, padding {padding} "
            f"and stride {stride}, got {tuple(input.shape)}"
        )
    batch, channels = cols.shape[0], cols.shape[1] // patch
    positions = _patch_index(kernel, dilation, stride, blocks, padded[1])
    xp = cols._backend.xp
    index = _shape_constant(xp.asarray(positions).reshape(-1))
    plane = cols.new_zeros(batch, channels, padded[0] * padded[1])
    values = reshape(cols, (batch, channels, patch * blocks[0] * blocks[1]))
    plane = plane.index_add(2, index, values)
    image = reshape(plane, (batch, channels, padded[0], padded[1]))
    image = image[:, :, padding[0] : padding[0] + size[0], padding[1] : padding[1] + size[1]]
    image = image.contiguous()  # the crop of the padded plane in memory of its own, as PyTorch's
    return _named(image[0] if input.ndim == 2 else image, "Col2ImBackward0")


# ---- multi-head attention ------------------------------------------------------------------


def _canonical_mask(
    mask: Tensor | None,
    mask_name: str,
    target_dtype: Any,
    other: Tensor | None = None,
    other_name: str = "",
) -> Tensor | None:
    """A bool mask (True = masked out) as an additive float mask (-inf there, 0 elsewhere).
    Given the call's other mask (`other`, as passed), warns as PyTorch does when the two
    differ in dtype (a bool padding mask with a float causal mask, say)."""
    if mask is None:
        return None
    if mask.dtype.name != "bool" and not mask.is_floating_point():
        # (PyTorch's is an assert in F._canonical_mask: AssertionError)
        raise ArgumentAssertionError(f"only bool and floating types of {mask_name} are supported")
    if other is not None and other.dtype != mask.dtype:
        _warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. "
            "Use same type for both instead.",
            UserWarning,
            stacklevel=3,
        )
    if mask.is_floating_point():
        return mask
    zeros = _zeros(mask.shape, dtype=target_dtype, device=mask.device)
    return zeros.masked_fill(mask, float("-inf"))


def _check_mha_shapes(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    key_padding_mask: Tensor | None,
    attn_mask: Tensor | None,
    num_heads: int,
) -> bool:
    """Whether the call is batched (3-D query), after checking every operand's rank."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise ArgumentAssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise ArgumentAssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                f"found {key_padding_mask.dim()}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise ArgumentAssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.dim()}-D tensor instead"
            )
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise ArgumentAssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise ArgumentAssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.dim()}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise ArgumentAssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                    f"but found {attn_mask.dim()}-D tensor instead"
                )
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise ArgumentAssertionError(
                    f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}"
                )
        return False
    raise ArgumentAssertionError(
        "query should be unbatched 2D or batched 3D tensor but received "
        f"{query.dim()}-D query tensor"
    )


def _split_rows(tensor: Tensor | None, sizes: tuple[int, ...]) -> list:
    """tensor[0:s0], tensor[s0:s0+s1], ... along dim 0 (None stays None)."""
    if tensor is None:
        return [None] * len(sizes)
    parts = []
    start = 0
    for size in sizes:
        parts.append(tensor[start : start + size])
        start += size
    return parts


def _split_last(tensor: Tensor, sizes: tuple[int, ...]) -> list:
    parts = []
    start = 0
    for size in sizes:
        parts.append(tensor[..., start : start + size])
        start += size
    return parts


def _append_column(mask: Tensor | None) -> Tensor | None:
    """An additive mask with one more key position, unmasked (for bias_k / add_zero_attn)."""
    if mask is None:
        return None
    return pad(mask, (0, 1))


def _project_qkv(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    separate: tuple | None,
) -> tuple[Tensor, Tensor, Tensor]:
    """The q, k, v input projections (`separate`: the q, k, v weights, where they are not
    rows of in_proj_weight); one matmul when query, key and value are one tensor."""
    if separate is None:
        if query is key and key is value:
            projected = linear(query, in_proj_weight, in_proj_bias)
            parts = _split_last(projected, (embed_dim,) * 3)
            return parts[0], parts[1], parts[2]
        w_q, w_k, w_v = _split_rows(in_proj_weight, (embed_dim,) * 3)
    else:
        w_q, w_k, w_v = separate
    b_q, b_k, b_v = _split_rows(in_proj_bias, (embed_dim,) * 3)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _static_heads(
    static: Tensor | None, name: str, projected: Tensor, rows: int, head_dim: int
) -> Tensor:
    """The keys or values per head, (N * num_heads, S, head_dim): `projected` split into
    heads, or `static` (given in that layout) in its place."""
    if static is None:
        return projected.reshape(projected.shape[0], rows, head_dim).transpose(0, 1)
    if static.dim() != 3 or static.shape[0] != rows or static.shape[2] != head_dim:
        raise ArgumentAssertionError(
            f"expecting {name} of shape ({rows}, S, {head_dim}), but got {tuple(static.shape)}"
        )
    return static


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """nn.MultiheadAttention's computation with its parameters passed in (PyTorch's
    F.multi_head_attention_forward): query (L, N, E), key (S, N, kdim), value (S, N, vdim),
    sequence first, or unbatched (L, E). Returns (attn_output (L, N, E), the attention weights
    (N, L, S) averaged over heads, or (N, num_heads, L, S) with average_attn_weights=False,
    or None without need_weights). In the masks, True (bool) or -inf (float) is masked out;
    static_k / static_v (N * num_heads, S, E / num_heads) replace the projected keys / values.

    Args:
        query (Tensor): (L, N, E), or (L, E) unbatched.
        key (Tensor): (S, N, kdim), or (S, kdim).
        value (Tensor): (S, N, vdim), or (S, vdim).
        embed_dim_to_check (int): E, checked against the query's last dimension.
        num_heads (int): the number of heads; E / num_heads features each.
        in_proj_weight (Tensor, optional): the packed (3 E, E) projection of q, k and v.
        in_proj_bias (Tensor, optional): its (3 E,) bias.
        bias_k (Tensor, optional): a (1, 1, E) learned key appended to every sequence.
        bias_v (Tensor, optional): the same for the values.
        add_zero_attn (bool): append a zero key and value, so a query may attend to nothing.
        dropout_p (float): dropout on the attention weights when `training`.
        out_proj_weight (Tensor): the (E, E) output projection.
        out_proj_bias (Tensor, optional): its bias.
        training (bool): apply dropout (default: True).
        key_padding_mask (Tensor, optional): (N, S), True or -inf at padded keys.
        need_weights (bool): also return the attention weights (default: True).
        attn_mask (Tensor, optional): (L, S) or (N * num_heads, L, S).
        use_separate_proj_weight (bool): project with q_proj_weight, k_proj_weight and
            v_proj_weight instead of in_proj_weight (default: False).
        q_proj_weight (Tensor, optional): (E, E), with use_separate_proj_weight.
        k_proj_weight (Tensor, optional): (E, kdim), with use_separate_proj_weight.
        v_proj_weight (Tensor, optional): (E, vdim), with use_separate_proj_weight.
        static_k (Tensor, optional): keys already split into heads, (N * num_heads, S, E /
            num_heads), in place of the projected ones.
        static_v (Tensor, optional): the same for the values.
        average_attn_weights (bool): average the returned weights over heads (default: True).
        is_causal (bool): a hint that attn_mask is the causal mask (default: False).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.ones(3, 2, 4)
        >>> w, b = chainrule.eye(4).repeat(3, 1), chainrule.zeros(12)
        >>> out, weights = F.multi_head_attention_forward(
        ...     x, x, x, 4, 2, w, b, None, None, False, 0.0, chainrule.eye(4), None)
        >>> out.shape, weights.shape
        (chainrule.Size([3, 2, 4]), chainrule.Size([2, 3, 3]))
    """
    is_batched = _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        same_kv = key is value
        same_qk = query is key
        query = query.unsqueeze(1)
        key = query if same_qk else key.unsqueeze(1)
        value = key if same_kv else value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(
        key_padding_mask, "key_padding_mask", query.dtype, attn_mask, "attn_mask"
    )
    if is_causal and attn_mask is None:
        raise DomainError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
            "method `generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention builds the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise ArgumentAssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    head_dim = embed_dim // num_heads
    if not use_separate_proj_weight and tuple(key.shape) != tuple(value.shape):
        raise ArgumentAssertionError(
            f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
        )
    if use_separate_proj_weight and tuple(key.shape[:2]) != tuple(value.shape[:2]):
        raise ArgumentAssertionError(
            f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
            f"{tuple(value.shape[:2])}"
        )
    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight else None
    q, k, v = _project_qkv(query, key, value, embed_dim, in_proj_weight, in_proj_bias, separate)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ShapeError(
                    f"The shape of the 2D attn_mask is {attn_mask.shape!r}, but should be "
                    f"{(tgt_len, src_len)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise ShapeError(
                f"The shape of the 3D attn_mask is {attn_mask.shape!r}, but should be "
                f"{(bsz * num_heads, tgt_len, src_len)}."
            )
    if bias_k is not None and bias_v is not None:
        k = _cat([k, bias_k.expand(1, bsz, embed_dim)], 0)
        v = _cat([v, bias_v.expand(1, bsz, embed_dim)], 0)
        attn_mask = _append_column(attn_mask)
        key_padding_mask = _append_column(key_padding_mask)

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _static_heads(static_k, "static_k", k, bsz * num_heads, head_dim)
    v = _static_heads(static_v, "static_v", v, bsz * num_heads, head_dim)
    if add_zero_attn:
        zeros = _zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = _cat([k, zeros], 1)
        v = _cat([v, zeros], 1)
        attn_mask = _append_column(attn_mask)
        key_padding_mask = _append_column(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ArgumentAssertionError(
                f"expected key_padding_mask of shape {(bsz, src_len)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
        padding = key_padding_mask.reshape(bsz, 1, 1, src_len)
        padding = padding.expand(bsz, num_heads, 1, src_len).reshape(bsz * num_heads, 1, src_len)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    dropout_p = dropout_p if training else 0.0

    if need_weights:
        q_scaled = q * _math.sqrt(1.0 / float(head_dim))
        scores = _bmm(q_scaled, k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        output = _bmm(weights, v)
        output = output.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        output = linear(output, out_proj_weight, out_proj_bias)
        output = output.reshape(tgt_len, bsz, output.shape[1])
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            output = output.squeeze(1)
            weights = weights.squeeze(0)
        return output, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    output = output.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    output = linear(output, out_proj_weight, out_proj_bias)
    output = output.reshape(tgt_len, bsz, output.shape[1])
    if not is_batched:
        output = output.squeeze(1)
    return output, None


# ---- linear cross-entropy --------------------------------------------------------------------


def linear_cross_entropy(
    input: Tensor,
    linear_weight: Tensor,
    target: Tensor,
    *,
    linear_bias: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
) -> Tensor:
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...) (PyTorch 2.13's
    F.linear_cross_entropy), with its checks and messages. PyTorch's `options` (an
    nn.LinearCrossEntropyOptions) select a chunked kernel that never holds the (N, C) logits
    at once; chainrule computes the same loss by this reference path either way (the same
    values; the logits are held), and warns as PyTorch does where the options cannot apply
    (K-dimensional weights, label smoothing, probability targets).

    Args:
        input (Tensor): (in_features,) or (N, in_features).
        linear_weight (Tensor): (C, in_features), or (C, d1, ..., dK, in_features) for a
            K-dimensional loss (batched input only).
        target (Tensor): class indices (), (N,) or (N, d1, ..., dK), or class probabilities
            of the logits' shape.
        linear_bias (Tensor, optional): (C,) or (C, d1, ..., dK).
        weight (Tensor, optional): a rescaling weight per class, (C,).
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        ignore_index (int, optional): a class index that adds nothing (default: -100 for
            class indices; not allowed with probabilities).
        label_smoothing (float): in [0, 1] (default: 0).
        options (LinearCrossEntropyOptions, optional): PyTorch's chunking choices (the
            reference path computes the same loss).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x, w = chainrule.ones(2, 3), chainrule.eye(4, 3)
        >>> F.linear_cross_entropy(x, w, chainrule.tensor([0, 3]))
        tensor(1.7143)
    """
    if input.dim() < 1 or input.dim() > 2:
        raise ShapeError(
            f"linear_cross_entropy: expected input with dimensionality 1 or 2, got {input.dim()}"
        )
    if linear_weight.dim() < 2:
        raise ShapeError(
            "linear_cross_entropy: expected linear_weight with dimensionality at least 2, got "
            f"{linear_weight.dim()}"
        )
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise ShapeError(
            "linear_cross_entropy: expected equal input and linear_weight last dimensions "
            f"(in_features), got {in_features} and {linear_weight.shape[-1]}, respectively"
        )
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise ShapeError(
            f"linear_cross_entropy: expected linear_bias shape {(classes, *out_features)}, got "
            f"{tuple(linear_bias.shape)}"
        )
    if out_features and not batches:
        raise ShapeError(
            "linear_cross_entropy: K-dimensional loss defined by linear_weight shape "
            f"{tuple(linear_weight.shape)} requires batched input, (N, {in_features}), got "
            f"unbatched input with shape {tuple(input.shape)}"
        )
    logits_shape = (*batches, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise DomainError(
            "linear_cross_entropy: ignore_index cannot be specified when target contains "
            "probabilities"
        )
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None and (
        out_features
        or reduction not in ("mean", "sum", "none")
        or label_smoothing != 0.0
        or target.dtype.name != "int64"
    ):
        bias_shape = None if linear_bias is None else tuple(linear_bias.shape)
        _warnings.warn(
            "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
            "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, "
            f"out_features == (). Got reduction={reduction!r}, label_smoothing="
            f"{label_smoothing}, target.dtype={target.dtype}, out_features={out_features}, "
            f"tracing=False, linear_bias.shape={bias_shape}.",
            UserWarning,
            stacklevel=2,
        )
    rows = classes * _math.prod(out_features)
    flat_weight = reshape(linear_weight, (rows, in_features))
    flat_bias = None if linear_bias is None else reshape(linear_bias, (rows,))
    logits = reshape(linear(input, flat_weight, flat_bias), logits_shape)
    return cross_entropy(
        logits,
        target,
        weight=weight,
        reduction=reduction,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
    )
