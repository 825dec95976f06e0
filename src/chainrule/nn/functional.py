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
from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule.errors import ShapeError
from chainrule.ops import convolution as _conv_ops
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
from chainrule.ops.creation import rand_like as _rand_like
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
from chainrule.ops.elementwise import log, sigmoid, sqrt, tanh, where
from chainrule.ops.elementwise import minimum as _minimum
from chainrule.ops.embedding import embedding, one_hot
from chainrule.ops.indexing import masked_fill, pad, scatter
from chainrule.ops.interpolation import LINEAR_MODES as _LINEAR_MODES
from chainrule.ops.linalg import matmul
from chainrule.ops.linear import linear
from chainrule.ops.losses import check_reduction as _check_reduction
from chainrule.ops.losses import cross_entropy, nll_loss
from chainrule.ops.losses import legacy_reduction as _legacy_reduction
from chainrule.ops.losses_extra import (
    ctc_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
)
from chainrule.ops.losses_extra import reduce_loss as _reduce_loss
from chainrule.ops.nn_common import check_floating as _check_floating
from chainrule.ops.nn_common import check_vector as _check_vector
from chainrule.ops.nn_common import constant as _constant
from chainrule.ops.nn_common import shape_constant as _shape_constant
from chainrule.ops.normalization import batch_norm, group_norm, instance_norm, layer_norm, rms_norm
from chainrule.ops.reduction import amax as _max_over
from chainrule.ops.reduction import argmax as _argmax
from chainrule.ops.reduction import log_softmax as _log_softmax
from chainrule.ops.reduction import mean as _mean
from chainrule.ops.reduction import norm
from chainrule.ops.reduction import softmax as _softmax
from chainrule.ops.reduction import sum as _sum
from chainrule.ops.shape import broadcast_tensors, expand, reshape, transpose, unsqueeze

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from typing import Any

    from chainrule._tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "alpha_dropout", "avg_pool1d", "avg_pool2d",
    "avg_pool3d", "batch_norm", "bilinear", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "celu", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
    "conv_transpose2d", "conv_transpose3d", "cosine_embedding_loss", "cosine_similarity",
    "cross_entropy", "dropout", "dropout1d", "dropout2d", "dropout3d", "elu", "embedding",
    "feature_alpha_dropout", "gelu", "glu", "group_norm", "hardshrink", "hardsigmoid", "hardswish",
    "hardtanh", "huber_loss", "instance_norm", "interpolate", "kl_div", "l1_loss", "layer_norm",
    "leaky_relu", "linear", "log_softmax", "logsigmoid", "max_pool1d", "max_pool2d", "max_pool3d",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "mish", "mse_loss", "nll_loss", "normalize",
    "one_hot", "pad", "pairwise_distance", "prelu",
    "relu", "relu6", "rms_norm", "rrelu", "scaled_dot_product_attention", "selu", "sigmoid", "silu",
    "smooth_l1_loss", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold",
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


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
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
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Any:
    """x - logsumexp(x) along `dim`: the log of softmax, computed stably (pair it with `nll_loss`,
    or use `cross_entropy`, which does both).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.log_softmax(chainrule.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return _log_softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
    """softmax(-x) along dim."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    return _softmax(-input, dim, dtype=dtype)


# ---- linear layers -------------------------------------------------------------------------


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = x1 W[o] x2 + b[o] for weight (out, in1, in2): one matrix product, then a
    product with x2 summed over in2."""
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


def _ntuple(name: str, argument: str, value: Any, dims: int) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of `dims` ints (a 1-sequence is repeated)."""
    if isinstance(value, int):
        return (value,) * dims
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise ValueError(
            f"{name}: {argument} must be an int or a tuple of {dims} ints, got {value}"
        )
    return values


def _spatial_input(name: str, input: Tensor, dims: int, integers: bool = False) -> tuple[Any, bool]:
    """A floating (N, C, *spatial) input (or an integer one, where `integers`: max pooling, as
    PyTorch), the batch dimension added to an unbatched (C, *spatial) one; and whether it was
    added (the result drops it again)."""
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
        _check_floating(name, input=x)
    return x, unbatched


def _conv_padding(
    name: str, padding: Any, dims: int, kernel: tuple, stride: tuple, dilation: tuple
) -> tuple:
    """PyTorch's padding argument ('valid', 'same', an int or ints) as ((lo, hi), ...)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding != "same":
            raise ValueError(
                f"{name}: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
        return tuple((t // 2, t - t // 2) for t in total)
    pads = _ntuple(name, "padding", padding, dims)
    if any(p < 0 for p in pads):
        raise ValueError(f"{name}: negative padding is not supported, got {padding}")
    return tuple((p, p) for p in pads)


def _check_conv(name: str, x: Any, w: Any, groups: int, dims: int, transposed: bool) -> None:
    _check_floating(name, input=x, weight=w)
    if w.ndim != dims + 2:
        raise ShapeError(
            f"{name}: expected {dims + 2}D weight, got weight of shape {tuple(w.shape)}"
        )
    if groups < 1:
        raise ValueError(f"{name}: non-positive groups is not supported, got {groups}")
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
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    dims: int,
    name: str,
) -> Any:
    """convNd's arguments checked and read for the Convolution kernel."""
    x, unbatched = _spatial_input(name, input, dims)
    _check_conv(name, x, weight, groups, dims, transposed=False)
    kernel = tuple(weight.shape[2:])
    stride = _ntuple(name, "stride", stride, dims)
    dilation = _ntuple(name, "dilation", dilation, dims)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(
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
        _check_floating(name, input=x, bias=bias)
    out = _conv_ops.convolution(x, weight, bias, stride, pads, dilation, groups)
    return out[0] if unbatched else out


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    """1-D cross-correlation over (N, C, L) input with a (C_out, C/groups, k) weight."""
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    """2-D cross-correlation over (N, C, H, W) input with a (C_out, C/groups, kh, kw) weight.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> x = chainrule.ones(1, 1, 3, 3)
    >>> F.conv2d(x, chainrule.ones(1, 1, 2, 2)).shape
    (1, 1, 2, 2)
    """
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    """3-D cross-correlation over (N, C, D, H, W) input."""
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _convolution_transpose(
    input: Tensor,
    weight: Tensor,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
    dims: int,
    name: str,
) -> Any:
    """conv_transposeNd's arguments checked and read for the ConvolutionTranspose kernel."""
    x, unbatched = _spatial_input(name, input, dims)
    _check_conv(name, x, weight, groups, dims, transposed=True)
    kernel = tuple(weight.shape[2:])
    stride = _ntuple(name, "stride", stride, dims)
    dilation = _ntuple(name, "dilation", dilation, dims)
    if isinstance(padding, str):
        raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
    pads = _ntuple(name, "padding", padding, dims)
    extra = _ntuple(name, "output_padding", output_padding, dims)
    for e, s, d in zip(extra, stride, dilation):
        if e >= s and e >= d:
            raise ValueError(
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
    padding_pairs = tuple((p, p) for p in pads)
    out = _conv_ops.convolution_transpose(
        x, weight, stride, padding_pairs, dilation, groups, out_size
    )
    if bias is not None:
        out = out + reshape(bias, (channels,) + (1,) * (out.ndim - 2))
    return out[0] if unbatched else out


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    """Transposed 1-D convolution (the gradient of conv1d with respect to its input)."""
    arguments = (stride, padding, output_padding, groups, dilation)
    return _convolution_transpose(input, weight, bias, *arguments, 1, "conv_transpose1d")


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    """Transposed 2-D convolution; weight (C_in, C_out/groups, kh, kw) as in PyTorch."""
    arguments = (stride, padding, output_padding, groups, dilation)
    return _convolution_transpose(input, weight, bias, *arguments, 2, "conv_transpose2d")


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    """Transposed 3-D convolution."""
    arguments = (stride, padding, output_padding, groups, dilation)
    return _convolution_transpose(input, weight, bias, *arguments, 3, "conv_transpose3d")


def _pool_geometry(
    name: str,
    dims: int,
    shape: tuple,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
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
        raise ValueError(
            f"{name}: kernel_size, stride and dilation must be positive, got {kernel}, "
            f"{stride}, {dilation}"
        )
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{name}: pad should be at most half of kernel size, but got pad={pads} and "
            f"kernel_size={kernel}"
        )
    out_size, padding = [], []
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
        padding.append((p, max(p, (count - 1) * s + span - size - p)))
    return kernel, stride, tuple(padding), dilation, tuple(out_size)


def _adaptive_size(name: str, dims: int, shape: tuple, output_size: Any) -> tuple:
    """output_size as `dims` ints; None keeps that input size."""
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * dims
    output_size = tuple(output_size)
    if len(output_size) == 1:
        output_size = output_size * dims
    if len(output_size) != dims:
        raise ValueError(f"{name}: output_size must have {dims} elements, got {output_size}")
    sizes = tuple(size if o is None else int(o) for o, size in zip(output_size, shape))
    if any(o < 1 for o in sizes) or any(size < 1 for size in shape):
        raise ShapeError(f"{name}: invalid output_size {sizes} for input of spatial size {shape}")
    return sizes


def _max_result(out: Any, indices: Any, unbatched: bool, return_indices: bool) -> Any:
    if unbatched:
        out, indices = out[0], indices[0]
    return (out, indices) if return_indices else out


def _max_pool(
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
    dims: int,
    name: str,
) -> Any:
    # Integer input as PyTorch takes it: everywhere but max_pool1d without indices.
    integers = dims > 1 or return_indices
    x, unbatched = _spatial_input(name, input, dims, integers)
    shape = tuple(x.shape[2:])
    geometry = _pool_geometry(name, dims, shape, kernel_size, stride, padding, dilation, ceil_mode)
    out, indices = _pool_ops.max_pool(x, *geometry)
    return _max_result(out, indices, unbatched, return_indices)


def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over sliding windows of (N, C, L) input."""
    window = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(input, *window, return_indices, 1, "max_pool1d")


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over sliding windows of (N, C, H, W) input; `return_indices` also gives the flat
    argmax positions in each plane (as max_unpool2d expects)."""
    window = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(input, *window, return_indices, 2, "max_pool2d")


def max_pool3d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over sliding windows of (N, C, D, H, W) input."""
    window = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(input, *window, return_indices, 3, "max_pool3d")


def _max_unpool(
    input: Tensor,  # noqa: A002
    indices: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    output_size: Any,
    dims: int,
    name: str,
) -> Any:
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
    input: Tensor, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
    output_size: Any = None,
) -> Any:  # fmt: skip
    """Max pooling undone on (N, C, L): each value back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(
    input: Tensor, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
    output_size: Any = None,
) -> Any:  # fmt: skip
    """Max pooling undone on (N, C, H, W): each value back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool3d(
    input: Tensor, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
    output_size: Any = None,
) -> Any:  # fmt: skip
    """Max pooling undone on (N, C, D, H, W): each value back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")


def _adaptive_max_pool(
    input: Tensor, output_size: Any, return_indices: bool, dims: int, name: str
) -> Any:
    x, unbatched = _spatial_input(name, input, dims)
    sizes = _adaptive_size(name, dims, tuple(x.shape[2:]), output_size)
    out, indices = _pool_ops.adaptive_max_pool(x, sizes)
    return _max_result(out, indices, unbatched, return_indices)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over `output_size` bins that split L as evenly as possible."""
    return _adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over bins that split H and W as evenly as possible (None keeps a size)."""
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over bins that split D, H and W as evenly as possible."""
    return _adaptive_max_pool(input, output_size, return_indices, 3, "adaptive_max_pool3d")


def _avg_pool(
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Any,
    dims: int,
    name: str,
) -> Any:
    x, unbatched = _spatial_input(name, input, dims)
    shape = tuple(x.shape[2:])
    kernel, stride, pads, _, out_size = _pool_geometry(
        name, dims, shape, kernel_size, stride, padding, 1, ceil_mode
    )
    out = _pool_ops.avg_pool(x, kernel, stride, pads, out_size, count_include_pad, divisor_override)
    return out[0] if unbatched else out


def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Any:
    """Average over sliding windows of (N, C, L) input."""
    window = (kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _avg_pool(input, *window, None, 1, "avg_pool1d")


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: Any = None,
) -> Any:
    """Average over sliding windows of (N, C, H, W) input."""
    window = (kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _avg_pool(input, *window, divisor_override, 2, "avg_pool2d")


def avg_pool3d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: Any = None,
) -> Any:
    """Average over sliding windows of (N, C, D, H, W) input."""
    window = (kernel_size, stride, padding, ceil_mode, count_include_pad)
    return _avg_pool(input, *window, divisor_override, 3, "avg_pool3d")


def _adaptive_avg_pool(input: Tensor, output_size: Any, dims: int, name: str) -> Any:
    x, unbatched = _spatial_input(name, input, dims)
    sizes = _adaptive_size(name, dims, tuple(x.shape[2:]), output_size)
    out = _pool_ops.adaptive_avg_pool(x, sizes)
    return out[0] if unbatched else out


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Any:
    """Average over `output_size` bins that split L as evenly as possible."""
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Any:
    """Average over bins that split H and W as evenly as possible (None keeps a size)."""
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Any:
    """Average over bins that split D, H and W as evenly as possible."""
    return _adaptive_avg_pool(input, output_size, 3, "adaptive_avg_pool3d")


def interpolate(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Any:
    """Resize the spatial dimensions of (N, C, *spatial) input to `size` or by `scale_factor`,
    with mode 'nearest', 'nearest-exact', 'linear', 'bilinear', 'trilinear' or 'area'."""
    n = input.ndim - 2
    if n < 1:
        raise ShapeError(
            "interpolate: expected input with at least 3 dimensions (N, C, ...), got shape "
            f"{tuple(input.shape)}"
        )
    bytes_in = input._array.dtype.kind == "u" and mode in ("nearest", "nearest-exact")
    if bytes_in:  # uint8 images, as PyTorch resizes them: nearest copies values, exact in float
        input = input.float()  # noqa: A001
    _check_floating("interpolate", input=input)
    if mode not in ("nearest", "nearest-exact", "area", *_LINEAR_MODES):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != n:
        raise NotImplementedError(
            f"interpolate: got {n + 2}D input, but {mode} mode needs "
            f"{_LINEAR_MODES[mode] + 2}D input"
        )
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError(
            "interpolate: align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | trilinear"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor must be given")
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
    if any(o < 1 for o in out_size):
        raise ShapeError(
            f"interpolate: output size {out_size} must be positive (input shape "
            f"{tuple(input.shape)})"
        )
    if mode == "area":
        return _adaptive_avg_pool(input, out_size, n, "interpolate")
    result = _interpolation_ops.resample(input, out_size, scales, mode, bool(align_corners))
    return result.byte() if bytes_in else result


# ---- distances -----------------------------------------------------------------------------


def _clamped_norm(input: Tensor, dim: int, eps: float) -> Any:
    """The 2-norm along dim (kept), its value clamped below at eps but its gradient the
    norm's, as PyTorch's cosine_similarity (which clamps under no_grad)."""
    value = norm(input, 2, dim, keepdim=True)
    return value + (_clamp(value, min=eps) - value).detach()


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Any:
    """sum(x1 / |x1| * x2 / |x2|) along dim (after broadcasting), each norm clamped below
    at eps."""
    x1, x2 = broadcast_tensors(x1, x2)
    return _sum((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps)), dim)


def pairwise_distance(
    x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Any:
    """The p-norm of x1 - x2 + eps along the last dimension."""
    difference = x1 - x2 + eps
    return norm(difference, p, -1 if difference.ndim else None, keepdim=keepdim)


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None
) -> Any:
    """input / max(|input|_p, eps) along dim."""
    denominator = _clamp(norm(input, p, dim, keepdim=True), min=eps)
    return input / expand(denominator, tuple(input.shape))


# ---- losses --------------------------------------------------------------------------------


def _reduce(op_name: str, loss: Any, reduction: str) -> Any:
    _check_reduction(op_name, reduction)
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return _sum(loss)
    return loss


def _weighted(op_name: str, loss: Any, weight: Any, reduction: str, mean_by_weight: bool) -> Any:
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


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Any:
    """The squared error (input - target)**2, averaged ('mean'), summed ('sum') or kept per
    element ('none').

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.mse_loss(chainrule.tensor([1.0, 2.0]), chainrule.tensor([0.0, 4.0]))
        tensor(2.5000)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    difference = input - target
    return _weighted("mse_loss", difference * difference, weight, reduction, True)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Any:
    """|input - target|, reduced (gradient 0 where they are equal, as PyTorch)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _weighted("l1_loss", _abs(input - target), weight, reduction, True)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Any:
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta (l1 for beta = 0)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    distance = _abs(input - target)
    if beta == 0:
        return _reduce("smooth_l1_loss", distance, reduction)
    loss = where(distance < beta, 0.5 * distance * distance / beta, distance - 0.5 * beta)
    return _reduce("smooth_l1_loss", loss, reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Any:
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    distance = _abs(input - target)
    loss = where(distance < delta, 0.5 * distance * distance, delta * (distance - 0.5 * delta))
    return _weighted("huber_loss", loss, weight, reduction, False)


def _same_shape(op_name: str, input: Tensor, target: Tensor) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(
            f"{op_name}: target size {tuple(target.shape)} must be the same as input size "
            f"{tuple(input.shape)}"
        )


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """-(t log x + (1 - t) log(1 - x)) for probabilities x, each log clamped at -100 as
    PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _same_shape("binary_cross_entropy", input, target)
    values = input._array
    if values.size and (bool((values < 0).any()) or bool((values > 1).any())):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1")
    log_x = _clamp(log(input), min=-100.0)
    log_rest = _clamp(log(1 - input), min=-100.0)
    loss = -(target * log_x + (1 - target) * log_rest)
    if weight is not None:
        loss = loss * weight
    return _reduce("binary_cross_entropy", loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Any:
    """binary_cross_entropy(sigmoid(x), t) computed stably as
    (1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    loss = (1 - target) * input - log_weight * logsigmoid(input)
    if weight is not None:
        loss = loss * weight
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Any:
    """target * (log(target) - input) for log-probabilities `input` (0 where target == 0);
    'batchmean' divides the sum by the batch size (the mathematical KL divergence)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("kl_div", reduction, ("batchmean",))
    if log_target:
        loss = _exp(target) * (target - input)
    else:
        positive = target > 0
        entropy = where(positive, target * log(where(positive, target, 1.0)), 0.0)
        loss = entropy - target * input
    if reduction == "batchmean":
        total = _sum(loss)
        return total / input.shape[0] if input.ndim else total
    return _reduce("kl_div", loss, reduction)


def cosine_embedding_loss(
    input1: Any,
    input2: Any,
    target: Tensor,
    margin: float = 0,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise ShapeError(
            f"cosine_embedding_loss: expected 1-D or 2-D inputs of one shape, got "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
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


# ---- attention -----------------------------------------------------------------------------


def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Any:
    """softmax(q k^T * scale + mask) v over the last two dimensions. A bool mask marks the
    positions that take part, a float mask is added; is_causal keeps j <= i (combined with a
    mask, as PyTorch on CPU). Rows with no position left give 0, as PyTorch."""
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ShapeError("scaled_dot_product_attention: query, key and value need at least 2 dims")
    length, source = query.shape[-2], key.shape[-2]
    if key.shape[-1] != query.shape[-1] or value.shape[-2] != source:
        raise ShapeError(
            f"scaled_dot_product_attention: shapes do not fit: query {tuple(query.shape)}, "
            f"key {tuple(key.shape)}, value {tuple(value.shape)}"
        )
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    factor = 1 / _math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, transpose(key, -2, -1)) * factor
    xp = query._backend.xp
    if is_causal and attn_mask is None:
        # Every row keeps position 0, so no row is dead: one broadcast add of 0 / -inf, no
        # mask tests or selects over the scores (forward or backward).
        blocked = xp.triu(xp.full((length, source), -xp.inf, dtype=scores._array.dtype), 1)
        weights = _softmax(scores + _shape_constant(blocked), -1)
        if dropout_p > 0:
            weights = dropout(weights, dropout_p)
        return matmul(weights, value)
    if is_causal:
        causal = _shape_constant(xp.tril(xp.ones((length, source), dtype=bool)))
        attn_mask = _causal_and(attn_mask, causal)
    if attn_mask is not None:
        if attn_mask.dtype.is_floating_point:
            scores = scores + attn_mask
        else:
            scores = masked_fill(scores, ~expand(attn_mask, tuple(scores.shape)), float("-inf"))
    dead = _constant(xp.all(xp.isneginf(scores._array), axis=-1, keepdims=True))
    weights = _softmax(where(dead, 0.0, scores), -1)
    weights = where(dead, 0.0, weights)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)


def _causal_and(mask: Any, causal: Any) -> Any:
    if mask.dtype.is_floating_point:
        return where(causal, mask, float("-inf"))
    return mask & causal


def _repeat_heads(tensor: Any, heads: int) -> Any:
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


# ---- triplet losses (the other margin losses live in ops/losses_extra.py) -------------------

__all__ += [
    "ctc_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]


def triplet_margin_with_distance_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    *,
    distance_function: Any = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Any:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) for a distance d
    (pairwise_distance by default); `swap` uses min(d(a, n), d(p, n)) as the negative
    distance. A tie in that min splits the gradient, as torch.minimum."""
    _check_reduction("triplet_margin_with_distance_loss", reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs"
        )
    distance = pairwise_distance if distance_function is None else distance_function
    positive_distance = distance(anchor, positive)
    negative_distance = distance(anchor, negative)
    if swap:
        negative_distance = _minimum(negative_distance, distance(positive, negative))
    loss = _clamp(margin + positive_distance - negative_distance, min=0)
    return _reduce_loss("triplet_margin_with_distance_loss", loss, reduction)


def triplet_margin_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """max(0, margin + |a - p + eps|_p - |a - n + eps|_p): the anchor should be nearer the
    positive than the negative by `margin`. Inputs (N, D) or (D,) (any one rank).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> a = chainrule.tensor([[0.0, 0.0]])
        >>> F.triplet_margin_loss(a, a + 1, a + 3, eps=0.0)
        tensor(0.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)

    def distance(x1: Any, x2: Any) -> Any:
        return pairwise_distance(x1, x2, p, eps)

    return triplet_margin_with_distance_loss(
        anchor,
        positive,
        negative,
        distance_function=distance,
        margin=margin,
        swap=swap,
        reduction=reduction,
    )


# ---- gumbel_softmax, channel_shuffle --------------------------------------------------------

__all__ += ["channel_shuffle", "gumbel_softmax"]


def gumbel_softmax(
    logits: Any, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Any:
    """softmax((logits + g) / tau) along dim, g Gumbel(0, 1) noise: a differentiable sample
    of a categorical distribution. With `hard`, the one-hot of the sample's argmax whose
    gradient is the soft sample's (the straight-through estimator), as PyTorch. The noise is
    chainrule's random stream, not PyTorch's (`eps` is unused, as in PyTorch).

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.gumbel_softmax(chainrule.zeros(2, 3), hard=True).sum(-1)
        tensor([1., 1.])
    """
    uniform = _rand_like(logits)
    gumbels = -log(-log(uniform))  # -log of an Exponential(1) sample
    soft = _softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = _argmax(soft, dim, keepdim=True)
    one_hot_sample = scatter(_zeros_like(logits), dim, index, 1.0)
    return one_hot_sample - soft.detach() + soft


def channel_shuffle(input: Tensor, groups: int) -> Any:
    """Interleave the channels (dim 1) of `groups` groups: (N, g * k, *) is seen as (N, g, k,
    *), the two group dimensions swapped, and flattened back (ShuffleNet)."""
    if input.ndim <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes "
            f"{list(input.shape)}"
        )
    channels = input.shape[1]
    if groups <= 0 or channels % groups:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {channels} channels and "
            f"{groups} groups."
        )
    batch, rest = input.shape[0], tuple(input.shape[2:])
    grouped = reshape(input, (batch, groups, channels // groups, *rest))
    return reshape(transpose(grouped, 1, 2), (batch, channels, *rest))


# ---- embedding_bag -------------------------------------------------------------------------

__all__ += ["embedding_bag"]


def _bag_layout(input: Any, offsets: Any, include_last_offset: bool) -> tuple[Any, Any, int]:
    """The flat indices and, per bag, a row of positions into them (B, longest) with -1
    past the bag's end, from a 2-D input (one bag per row) or a 1-D input with offsets."""
    xp = input._backend.xp
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None")
        bags, length = input.shape
        positions = xp.arange(bags * length).reshape(bags, length)
        return reshape(input, (-1,)), positions, bags
    if input.ndim != 1:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}"
        )
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    starts = offsets._array.astype(xp.int64)
    total = input.shape[0]
    if include_last_offset:
        starts, ends = starts[:-1], starts[1:]
    else:
        ends = xp.concatenate([starts[1:], xp.asarray([total], dtype=xp.int64)])
    sizes = ends - starts
    longest = int(sizes.max()) if sizes.size else 0
    steps = xp.arange(longest)
    positions = xp.where(steps[None, :] < sizes[:, None], starts[:, None] + steps[None, :], -1)
    return input, positions, int(starts.shape[0])


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Any = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Any = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Any:
    """The sum, mean or max of each bag's embedding rows: bags are input's rows (2-D input)
    or the runs of a 1-D input that `offsets` start. Entries equal to padding_idx are left
    out (of the count too); an empty bag gives zeros; per_sample_weights scale each row
    ('sum' only). The max's gradient goes to the maximal row, as PyTorch's.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> weight = chainrule.arange(6.0).reshape(3, 2)
        >>> F.embedding_bag(chainrule.tensor([0, 2, 1]), weight, chainrule.tensor([0, 2]))
        tensor([[2., 3.],
                [2., 3.]])
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                "on GitHub."
            )
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(
                f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is "
                f"not None, then it must have the same shape as the input "
                f"({tuple(input.shape)})"
            )
    flat, positions, bags = _bag_layout(input, offsets, include_last_offset)
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    xp = input._backend.xp
    keep = positions >= 0
    if padding_idx is not None:
        padding_idx = padding_idx % weight.shape[0]
        safe_positions = xp.where(keep, positions, 0)
        keep = keep & (flat._array[safe_positions] != padding_idx)
    gather_at = _constant(xp.where(keep, positions, 0).reshape(-1))
    width = weight.shape[1]
    picked = reshape(rows[gather_at], (bags, positions.shape[1], width))
    if per_sample_weights is not None:
        scales = reshape(reshape(per_sample_weights, (-1,))[gather_at], (bags, -1, 1))
        picked = picked * scales
    kept = _constant(keep[:, :, None])
    if mode == "max":
        if positions.shape[1] == 0:
            return _zeros_like(weight[:1]).expand(bags, width).clone()
        best = _max_over(where(kept, picked, float("-inf")), 1)
        return where(_constant(keep.any(axis=1)[:, None]), best, 0.0)
    total = (
        _sum(where(kept, picked, 0.0), 1)
        if positions.shape[1]
        else _zeros_like(weight[:1]).expand(bags, width).clone()
    )
    if mode == "sum":
        return total
    counts = keep.sum(axis=1).astype(weight._array.dtype)
    return total / _constant(xp.maximum(counts, 1)[:, None])
