# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""chainrule.nn.functional: PyTorch's torch.nn.functional, imported as `F`.

The heavy ops are Op classes in the nn kernel files of `chainrule.ops` (activation,
convolution, pooling, normalization, embedding, linear, dropout, losses, interpolation); the
rest are compositions of differentiable chainrule ops here, so every function has exact higher
derivatives.

>>> import chainrule
>>> import chainrule.nn.functional as F
>>> F.relu(chainrule.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.errors import ShapeError
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
from chainrule.ops.convolution import (
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
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
from chainrule.ops.embedding import (
    embedding,
    one_hot,
)
from chainrule.ops.indexing import masked_fill, pad
from chainrule.ops.interpolation import (
    interpolate,
)
from chainrule.ops.linalg import matmul
from chainrule.ops.linear import (
    linear,
)
from chainrule.ops.losses import check_reduction as _check_reduction
from chainrule.ops.losses import (
    cross_entropy,
    nll_loss,
)
from chainrule.ops.losses import legacy_reduction as _legacy_reduction
from chainrule.ops.nn_common import constant as _constant
from chainrule.ops.normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    rms_norm,
)
from chainrule.ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from chainrule.ops.reduction import log_softmax as _log_softmax
from chainrule.ops.reduction import mean as _mean
from chainrule.ops.reduction import norm
from chainrule.ops.reduction import softmax as _softmax
from chainrule.ops.reduction import sum as _sum
from chainrule.ops.shape import broadcast_tensors, expand, reshape, transpose, unsqueeze

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
    "mish", "mse_loss", "nll_loss", "normalize", "one_hot", "pad", "pairwise_distance", "prelu",
    "relu", "relu6", "rms_norm", "rrelu", "scaled_dot_product_attention", "selu", "sigmoid", "silu",
    "smooth_l1_loss", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold",
]  # fmt: skip


# ---- softmax, log_softmax, softmin ---------------------------------------------------------


def _softmax_dim(ndim: int) -> int:
    """PyTorch's legacy implicit dim for softmax-like functions called without one."""
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
    """exp(x) / sum(exp(x)) along dim."""
    return _softmax(input, _softmax_dim(input.ndim) if dim is None else dim, dtype=dtype)


def log_softmax(input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
    """x - logsumexp(x) along dim."""
    return _log_softmax(input, _softmax_dim(input.ndim) if dim is None else dim, dtype=dtype)


def softmin(input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
    """softmax(-x) along dim."""
    return _softmax(-input, _softmax_dim(input.ndim) if dim is None else dim, dtype=dtype)


# ---- linear layers -------------------------------------------------------------------------


def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Any:
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


# ---- distances -----------------------------------------------------------------------------


def _clamped_norm(input: Any, dim: int, eps: float) -> Any:
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


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Any:
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
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    """(input - target)**2, reduced."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    difference = input - target
    return _weighted("mse_loss", difference * difference, weight, reduction, True)


def l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    """|input - target|, reduced (gradient 0 where they are equal, as PyTorch)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _weighted("l1_loss", _abs(input - target), weight, reduction, True)


def smooth_l1_loss(
    input: Any,
    target: Any,
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
    input: Any, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None
) -> Any:
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    distance = _abs(input - target)
    loss = where(distance < delta, 0.5 * distance * distance, delta * (distance - 0.5 * delta))
    return _weighted("huber_loss", loss, weight, reduction, False)


def _same_shape(op_name: str, input: Any, target: Any) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(
            f"{op_name}: target size {tuple(target.shape)} must be the same as input size "
            f"{tuple(input.shape)}"
        )


def binary_cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
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
    input: Any,
    target: Any,
    weight: Any = None,
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
    input: Any,
    target: Any,
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
    target: Any,
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
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, transpose(key, -2, -1)) * factor
    xp = query._backend.xp
    if is_causal and attn_mask is None:
        # Every row keeps position 0, so no row is dead: one broadcast add of 0 / -inf, no
        # mask tests or selects over the scores (forward or backward).
        blocked = xp.triu(xp.full((length, source), -xp.inf, dtype=scores._array.dtype), 1)
        weights = _softmax(scores + _constant(blocked), -1)
        if dropout_p > 0:
            weights = dropout(weights, dropout_p)
        return matmul(weights, value)
    if is_causal:
        causal = _constant(xp.tril(xp.ones((length, source), dtype=bool)))
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
