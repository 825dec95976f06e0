# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Dropout: a constant random mask from the default generator, multiplied in; alpha dropout
for selu networks and the whole-channel (feature) variants.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.observers import observers
from chainrule.backend import Array
from chainrule.errors import ShapeError
from chainrule.ops.complex import refuse_complex
from chainrule.ops.creation import rand
from chainrule.ops.nn_common import constant, shape_constant
from chainrule.ops.op import Op, apply


class DropoutMask(Op):
    """A mask of 0 (probability p) and 1 / (1 - p) of `shape`, drawn from the default generator
    of x's device, as `_dropout_mask` draws it: the form `chainrule.compile` records, so that
    a replay draws fresh numbers from the same stream. No gradient."""

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: Array, p: float, shape: tuple, dtype: Any, device: Any) -> Array:
        keep = rand(shape, dtype=dtype, device=device)._array < 1 - p
        return ctx.xp.where(keep, 1 / (1 - p), 0).astype(x.dtype)


def _dropout_mask(input: Any, p: float, shape: tuple, op_name: str = "dropout") -> Any:
    """A constant mask of 0 (probability p) and 1 / (1 - p), from the default generator."""

    if p != 1 and input.numel():
        refuse_complex(op_name, input)  # PyTorch draws the mask with bernoulli_: no complex kernel
    xp = input._backend.xp
    active = observers.get()
    if p != 1 and active is not None and any(o.records_random_ops for o in active):
        return apply(DropoutMask, (input,), p, shape, input.dtype, input.device)
    if p == 1:
        return shape_constant(xp.zeros(shape, dtype=input._array.dtype))
    keep = rand(shape, dtype=input.dtype, device=input.device)._array < 1 - p
    return constant(xp.where(keep, 1 / (1 - p), 0).astype(input._array.dtype))


def _check_probability(op_name: str, p: float) -> None:
    if not 0 <= p <= 1:
        raise ValueError(f"{op_name}: dropout probability has to be between 0 and 1, but got {p}")


def _apply_mask(input: Any, mask: Any, inplace: bool) -> Any:
    if inplace:
        return input.mul_(mask)
    return input * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element independently with probability p and scale the rest by 1 / (1 - p), so
    the expected value is unchanged; the identity when `training` is False.

    Args:
        input (Tensor): any shape.
        p (float): the probability that an element is zeroed, in [0, 1].
        training (bool): apply dropout (True) or return `input` unchanged (`nn.Dropout`
            passes its module's training flag).
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> _ = chainrule.manual_seed(0)
        >>> sorted(set(F.dropout(chainrule.ones(8), p=0.5).tolist()))
        [0.0, 2.0]
        >>> F.dropout(chainrule.ones(2), p=0.5, training=False)
        tensor([1., 1.])
    """
    _check_probability("dropout", p)
    if not training or p == 0:
        return input
    return _apply_mask(input, _dropout_mask(input, p, tuple(input.shape)), inplace)


_ALPHA = 1.7580993408473766  # selu's scale * alpha: the value selu saturates to is -_ALPHA


def _alpha_dropout(op_name: str, input: Any, p: float, training: bool, shape: tuple) -> Any:
    """Dropout for selu networks: dropped elements become selu's saturation value, then an
    affine map a x + b restores the mean and variance (PyTorch's constants)."""

    _check_probability(op_name, p)
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return input * 0
    refuse_complex(op_name, input)  # the draws are bernoulli_'s, as dropout's
    draws = rand(shape, dtype=input.dtype, device=input.device)  # vmap: one per example
    keep = (draws < 1 - p).to(input.dtype)
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    shift = (keep - 1) * (_ALPHA * a) + _ALPHA * a * p
    return input * (keep * a) + shift


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout (Klambauer et al.) for selu networks: dropped elements take selu's negative
    saturation value, then an affine map restores the input's mean and variance.

    Args:
        input (Tensor): floating point, any shape.
        p (float): the probability that an element is dropped, in [0, 1].
        training (bool): apply it (default False: the identity).
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> _ = chainrule.manual_seed(0)
        >>> F.alpha_dropout(chainrule.randn(4, 3), p=0.2, training=True).shape
        chainrule.Size([4, 3])
    """
    result = _alpha_dropout("alpha_dropout", input, p, training, tuple(input.shape))
    return input.copy_(result) if inplace and result is not input else result


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels: each (sample, channel) slice of (N, C, ...) input is
    dropped or kept together.

    Args:
        input (Tensor): floating point, at least 2-D: (N, C, ...).
        p (float): the probability that a channel is dropped, in [0, 1].
        training (bool): apply it (default False: the identity).
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.feature_alpha_dropout(chainrule.ones(2, 3, 4), p=0.5).shape
        chainrule.Size([2, 3, 4])
    """
    if input.ndim < 2:
        raise ShapeError(
            "feature_alpha_dropout: expected input with at least 2 dimensions, got shape "
            f"{tuple(input.shape)}"
        )
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    result = _alpha_dropout("feature_alpha_dropout", input, p, training, shape)
    return input.copy_(result) if inplace and result is not input else result


def _feature_dropout(
    op_name: str, n: int, input: Any, p: float, training: bool, inplace: bool
) -> Any:
    """PyTorch's dropout1d/2d/3d: dropout1d takes (C, L) or (N, C, L) only; dropout2d and
    dropout3d take any input with a deprecation warning outside 3-4-D / 4-5-D, and dropout2d
    reads a 3-D input as (N, C, L) (with PyTorch's warning) where dropout3d reads a 4-D one as
    (C, D, H, W): the mask is per (first, second) dimension of a batched input, per first one
    of an unbatched one."""
    _check_probability(op_name, p)
    ndim = input.ndim
    if n == 1 and ndim not in (2, 3):
        raise ShapeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs)."
        )
    if n > 1 and ndim not in (n + 1, n + 2):
        warnings.warn(
            f"{op_name}: Received a {ndim}-D input to {op_name}, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that {op_name} exists to provide "
            f"channel-wise dropout on inputs with {n} spatial dimensions, a channel dimension, "
            f"and an optional batch dimension (i.e. {n + 1}D or {n + 2}D inputs).",
            stacklevel=3,
        )
    if n == 2 and ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=3,
        )
    batched = ndim == n + 2 if n != 2 else True  # dropout2d never adds a batch dimension
    lead = 2 if batched else 1
    if ndim < lead:
        raise ShapeError(
            f"{op_name}: Feature dropout requires at least 2 dimensions in the input, got "
            f"input of shape {tuple(input.shape)}"
        )
    if not training or p == 0:
        return input
    shape = tuple(input.shape[:lead]) + (1,) * (ndim - lead)
    return _apply_mask(input, _dropout_mask(input, p, shape, op_name), inplace)


def feature_dropout(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, ...) input with probability p and scale the rest by
    1 / (1 - p): PyTorch's `torch.feature_dropout`, which dropout1d/2d/3d specialize.

    Args:
        input (Tensor): at least 2-D, (N, C, ...).
        p (float): the probability that a channel is zeroed, in [0, 1].
        training (bool): apply dropout (True) or return `input` unchanged.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> from chainrule.ops.dropout import feature_dropout
        >>> _ = chainrule.manual_seed(0)
        >>> y = feature_dropout(chainrule.ones(4, 3, 5), p=0.5)
        >>> bool((y.amax(2) == y.amin(2)).all())
        True
    """
    _check_probability("feature_dropout", p)
    if input.ndim < 2:
        raise ShapeError(
            "feature_dropout: expected input with at least 2 dimensions, got shape "
            f"{tuple(input.shape)}"
        )
    if not training or p == 0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _apply_mask(input, _dropout_mask(input, p, shape, "feature_dropout"), inplace)


def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels (each 1-d feature map) with probability p and scale the rest by
    1 / (1 - p): neighbouring values in a map are correlated, so dropping them one by one
    would regularize little.

    Args:
        input (Tensor): (N, C, L) or (C, L).
        p (float): the probability that a channel is zeroed, in [0, 1].
        training (bool): apply dropout (True) or return `input` unchanged.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> _ = chainrule.manual_seed(0)
        >>> y = F.dropout1d(chainrule.ones(1, 4, 5), p=0.5)
        >>> y.flatten(2).amax(-1) == y.flatten(2).amin(-1)  # each map all 0 or all 2
        tensor([[True, True, True, True]])
    """
    return _feature_dropout("dropout1d", 1, input, p, training, inplace)


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels (each 2-d feature map) with probability p and scale the rest by
    1 / (1 - p): neighbouring values in a map are correlated, so dropping them one by one
    would regularize little.

    Args:
        input (Tensor): (N, C, H, W) or (C, H, W).
        p (float): the probability that a channel is zeroed, in [0, 1].
        training (bool): apply dropout (True) or return `input` unchanged.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> _ = chainrule.manual_seed(0)
        >>> y = F.dropout2d(chainrule.ones(1, 4, 3, 3), p=0.5)
        >>> y.flatten(2).amax(-1) == y.flatten(2).amin(-1)  # each map all 0 or all 2
        tensor([[True, True, True, True]])
    """
    return _feature_dropout("dropout2d", 2, input, p, training, inplace)


def dropout3d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels (each 3-d feature map) with probability p and scale the rest by
    1 / (1 - p): neighbouring values in a map are correlated, so dropping them one by one
    would regularize little.

    Args:
        input (Tensor): (N, C, D, H, W) or (C, D, H, W).
        p (float): the probability that a channel is zeroed, in [0, 1].
        training (bool): apply dropout (True) or return `input` unchanged.
        inplace (bool): write the result into `input` and return it.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> _ = chainrule.manual_seed(0)
        >>> y = F.dropout3d(chainrule.ones(1, 4, 2, 2, 2), p=0.5)
        >>> y.flatten(2).amax(-1) == y.flatten(2).amin(-1)  # each map all 0 or all 2
        tensor([[True, True, True, True]])
    """
    return _feature_dropout("dropout3d", 3, input, p, training, inplace)
