# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Losses over classes: SoftmaxCrossEntropy (fused, so no log-probability array is kept),
cross_entropy and nll_loss with PyTorch's weight, ignore_index, label_smoothing and reduction
arguments; BinaryCrossEntropy (its derivatives PyTorch's, finite at saturated probabilities);
and the reduction helpers nn.functional's other losses use.
"""

from __future__ import annotations

import warnings
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import Node
from chainrule.autograd.observers import observers
from chainrule.backend import Array, dtypes
from chainrule.errors import DomainError, DTypeError, ShapeError
from chainrule.ops.autocast import FLOAT32, autocast_policy
from chainrule.ops.elementwise import clamp_min, logit, where
from chainrule.ops.embedding import Take
from chainrule.ops.nn_common import (
    check_floating,
    check_vector,
    constant,
    merge_batch,
    split_batch,
)
from chainrule.ops.op import Op, apply, elementwise_batch, in_c_order, named
from chainrule.ops.reduction import log_softmax, softmax, softmax_into
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import movedim, reshape, unsqueeze


class SoftmaxCrossEntropy(Op):
    """-log_softmax(x)[target] at every position, x (N, C, *d) with integer targets (N, *d);
    0 where target == ignore_index. Fused so no log-probability array is kept.
    Derivative: g (softmax(x) - onehot(target)) along the class dimension, 0 where ignored."""

    @staticmethod
    def forward(ctx: Node, x: Array, target: Array, ignore_index: int) -> Array:
        ctx.save(x=x, target=target, ignore_index=ignore_index)
        xp = ctx.xp
        logits = x if x.ndim == 2 else xp.moveaxis(x, 1, -1)  # classes last
        keep = target != ignore_index
        every = ctx.backend.host_memory and bool(keep.all())  # on a device: no sync to ask
        if every and x.ndim == 2:  # one compiled pass a row: (512, 1000) 0.55 -> 0.26 ms
            loss = ctx.backend.cross_entropy_rows(x, target)
            if loss is not None:
                return loss
        shifted = logits - logits.max(axis=-1, keepdims=True)
        safe = target if every else xp.where(keep, target, 0)
        if shifted.ndim == 2:  # (N, C), the common case: one fancy index, no index arrays built
            picked = shifted[xp.arange(shifted.shape[0]), safe]
        else:
            picked = xp.take_along_axis(shifted, safe[..., None], axis=-1)[..., 0]
        log_total = xp.log(xp.exp(shifted, out=shifted).sum(axis=-1))  # picked is a copy
        loss = log_total - picked
        if not every:
            loss = xp.where(keep, loss, 0)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def _parts(ctx: Node) -> tuple:
        x = ctx.x
        hot, keep = apply(
            TargetMask, (ctx.target,), x.shape[1], ctx.ignore_index, x.ndim, x._array.dtype
        )
        return softmax(x, 1) - hot, keep

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        difference, keep = SoftmaxCrossEntropy._parts(ctx)
        return (difference * unsqueeze(where(keep, g, 0.0), 1), None)

    @staticmethod
    def fast_vjp(ctx: Node, g: Any) -> tuple:
        """The same as one op, SoftmaxCrossEntropyBackward (PyTorch's log_softmax and
        nll_loss backwards in one): softmax in place, 1 taken off at each target, no one-hot
        array of the logits' size (a language model's (tokens, vocabulary))."""
        grad = apply(SoftmaxCrossEntropyBackward, (g, ctx.x, ctx.target), ctx.ignore_index)
        return (grad, None)

    @staticmethod
    def jvp(ctx: Node, t: Any, t_target: Any) -> Any:
        difference, keep = SoftmaxCrossEntropy._parts(ctx)
        return where(keep, reduce_sum(difference * t, 1), 0.0)

    @staticmethod
    def batch(b: Any, x: Any, target: Any, ignore_index: int) -> Any:
        """vmap: the batch becomes more samples."""
        x, target = b.batch_all((x, target))
        loss = apply(SoftmaxCrossEntropy, (merge_batch(x), merge_batch(target)), ignore_index)
        return split_batch(loss, b.size)


class SoftmaxCrossEntropyBackward(Op):
    """g (softmax(x) - onehot(target)) along the class dimension 1 of x (N, C, *d), 0 where
    target == ignore_index: SoftmaxCrossEntropy's vjp as one op. Derivatives: for g, the sum
    over classes of gg (softmax(x) - onehot); for x, softmax's (symmetric) Jacobian applied to
    gg g, s (u - sum(u s)) with s = softmax(x), u = gg g; none for the integer targets."""

    @staticmethod
    def forward(ctx: Node, g: Array, x: Array, target: Array, ignore_index: int) -> Array:
        ctx.save(g=g, x=x, target=target, ignore_index=ignore_index)
        xp = ctx.xp
        keep = target != ignore_index
        every = ctx.backend.host_memory and bool(keep.all())  # as the forward
        weight = (g if every else xp.where(keep, g, 0)).astype(x.dtype, copy=False)  # (N, *d)
        rows = x if x.ndim == 2 else xp.moveaxis(x, 1, -1)  # (N, *d, C)
        grad = xp.empty(rows.shape, dtype=x.dtype)
        flat_rows, flat_grad = rows.reshape(-1, rows.shape[-1]), grad.reshape(-1, rows.shape[-1])
        flat_target = (target if every else xp.where(keep, target, 0)).reshape(-1)
        flat_weight = weight.reshape(-1, 1)
        compiled = ctx.backend.softmax_rows(flat_rows, flat_grad)  # float32: one pass a row

        def block(start: int, stop: int) -> None:
            part = flat_grad[start:stop]
            if not compiled:
                softmax_into(xp, flat_rows[start:stop], part, 1)
            part[xp.arange(stop - start), flat_target[start:stop]] -= 1
            part *= flat_weight[start:stop]

        ctx.backend.parallel_for(flat_grad.shape[0], block, flat_grad.shape[1])
        if x.ndim == 2:
            return grad
        return in_c_order(xp.moveaxis(grad, -1, 1))  # (N, C, *d) contiguous, as PyTorch's

    @staticmethod
    def vjp(ctx: Node, gg: Any) -> tuple:
        x, g = ctx.x, ctx.g
        hot, keep = apply(
            TargetMask, (ctx.target,), x.shape[1], ctx.ignore_index, x.ndim, x._array.dtype
        )
        s = softmax(x, 1)
        grad_g = grad_x = None
        if ctx.next_edges[0] is not None:
            grad_g = where(keep, reduce_sum(gg * (s - hot), 1), 0.0)
        if ctx.next_edges[1] is not None:
            u = gg * unsqueeze(where(keep, g, 0.0), 1)
            grad_x = s * (u - reduce_sum(u * s, 1, keepdim=True))
        return (grad_g, grad_x, None)

    @staticmethod
    def jvp(ctx: Node, t_g: Any, t_x: Any, t_target: Any) -> Any:
        x, g = ctx.x, ctx.g
        hot, keep = apply(
            TargetMask, (ctx.target,), x.shape[1], ctx.ignore_index, x.ndim, x._array.dtype
        )
        s = softmax(x, 1)
        parts = []
        if t_g is not None:
            parts.append((s - hot) * unsqueeze(where(keep, t_g, 0.0), 1))
        if t_x is not None:
            moved = s * (t_x - reduce_sum(t_x * s, 1, keepdim=True))
            parts.append(moved * unsqueeze(where(keep, g, 0.0), 1))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    @staticmethod
    def batch(b: Any, g: Any, x: Any, target: Any, ignore_index: int) -> Any:
        """vmap: the batch becomes more samples."""
        g, x, target = b.batch_all((g, x, target))
        grad = apply(
            SoftmaxCrossEntropyBackward,
            (merge_batch(g), merge_batch(x), merge_batch(target)),
            ignore_index,
        )
        return split_batch(grad, b.size)


class BinaryCrossEntropy(Op):
    """-(t log x + (1 - t) log(1 - x)) elementwise, each log clamped at -100 (PyTorch's kernel).
    An op of its own for PyTorch's derivatives, which the clamped composition cannot give at a
    saturated probability (0 * inf there): g (x - t) / max(x (1 - x), 1e-12) for x, so 0 where
    x == t in {0, 1}; and g (log(1 - x) - log(x)) = -g logit(x) for t, unclamped."""

    @staticmethod
    def forward(ctx: Node, x: Array, t: Array) -> Array:
        ctx.save(x=x, t=t)
        xp = ctx.xp
        log_x = xp.maximum(xp.log(x), -100.0)
        log_rest = xp.maximum(xp.log1p(-x), -100.0)
        return (-(t * log_x + (1 - t) * log_rest)).astype(x.dtype, copy=False)

    @staticmethod
    def _input_scale(ctx: Node) -> Any:
        x = ctx.x
        return (x - ctx.t) / clamp_min(x * (1 - x), _BCE_EPSILON)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        grad_x = g * BinaryCrossEntropy._input_scale(ctx) if ctx.next_edges[0] is not None else None
        grad_t = -g * logit(ctx.x) if ctx.next_edges[1] is not None else None
        return (grad_x, grad_t)

    @staticmethod
    def jvp(ctx: Node, t_x: Any, t_t: Any) -> Any:
        tangent = None if t_x is None else t_x * BinaryCrossEntropy._input_scale(ctx)
        if t_t is not None:
            from_target = -t_t * logit(ctx.x)
            tangent = from_target if tangent is None else tangent + from_target
        return tangent

    batch = elementwise_batch


_BCE_EPSILON = 1e-12


def binary_cross_entropy_elements(input: Tensor, target: Tensor) -> Tensor:
    """The unreduced, unweighted binary cross entropy of probabilities `input` against `target`
    (F.binary_cross_entropy checks the arguments, weighs and reduces)."""
    return apply(BinaryCrossEntropy, (input, target))


class TargetMask(Op):
    """onehot(target) over `classes` classes along dim 1 (zero where target == ignore_index),
    in `dtype`, and the mask target != ignore_index: SoftmaxCrossEntropy's rules read them.
    An op rather than raw arrays in the rule, so `chainrule.compile` records it. No gradient."""

    differentiable = False

    @staticmethod
    def forward(
        ctx: Node, target: Array, classes: int, ignore_index: int, ndim: int, dtype: Any
    ) -> tuple:
        xp = ctx.xp
        keep = target != ignore_index
        positions = xp.arange(classes).reshape((1, classes) + (1,) * (ndim - 2))
        hot = (positions == xp.expand_dims(target, 1)) & xp.expand_dims(keep, 1)
        return hot.astype(dtype), keep

    @staticmethod
    def batch(b: Any, target: Any, classes: int, ignore_index: int, ndim: int, dtype: Any) -> Any:
        """vmap: the batch becomes more samples."""
        (target,) = b.batch_all((target,))
        hot, keep = apply(TargetMask, (merge_batch(target),), classes, ignore_index, ndim, dtype)
        return split_batch(hot, b.size), split_batch(keep, b.size)


class KeepMask(Op):
    """1 where target != ignore_index, else 0, in `dtype`: each position's weight in a loss
    without class weights. An op, so `chainrule.compile` records it. No gradient."""

    differentiable = False

    @staticmethod
    def forward(ctx: Node, target: Array, ignore_index: int, dtype: Any) -> Array:
        return (target != ignore_index).astype(dtype)

    batch = elementwise_batch


_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's deprecated size_average / reduce flags, turned into a reduction string, with
    PyTorch's deprecation warning each time they are given (blaming the loss's caller)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{legacy}' "
        "instead.",
        stacklevel=3,
    )
    return legacy


def check_reduction(op_name: str, reduction: str, extra: tuple = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(f"{op_name}: {reduction!r} is not a valid value for reduction")


def _check_class_targets(
    op_name: str, x: Any, target: Any, ignore_index: int, reduction: str
) -> None:
    """Integer targets (N, *d) for input (N, C, *d), each in [0, C) or ignore_index. As in
    PyTorch, int64 or uint8 only (an int32 target is refused, not converted), and int64 only
    for K-d inputs (PyTorch's spatial kernel takes Long alone; an empty batch reduced to a
    number returns before it, so takes uint8 too)."""
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise DTypeError(
            f"{op_name}: expected target dtype to be Long or Byte, but got {target.dtype.name}"
        )
    reaches_spatial_kernel = x.numel() > 0 or reduction == "none"
    if target.dtype == dtypes.uint8 and x.ndim > 2 and reaches_spatial_kernel:
        raise DTypeError(f"{op_name}: expected scalar type Long but found uint8 (K-d input)")
    expected = (x.shape[0], *x.shape[2:])
    if tuple(target.shape) != expected:
        if target.ndim == 1 and x.ndim == 2:
            raise ShapeError(
                f"{op_name}: expected input batch_size ({x.shape[0]}) to match target "
                f"batch_size ({target.shape[0]})"
            )
        raise ShapeError(
            f"{op_name}: expected target of shape {expected} for input of shape "
            f"{tuple(x.shape)}, got {tuple(target.shape)}"
        )
    values = target._array
    classes = x.shape[1]
    bad = (values != ignore_index) & ((values < 0) | (values >= classes))
    if bad.any():
        raise IndexError(
            f"{op_name}: Target {int(values[bad].ravel()[0])} is out of bounds (input of shape "
            f"{tuple(x.shape)} has {classes} classes)"
        )


def _class_weights(x: Any, target: Any, weight: Any, ignore_index: int) -> Any:
    """Each position's class weight (0 where ignored): weight[target], differentiable in weight."""
    if weight is None:  # through an op, so chainrule.compile replays it on new targets
        return apply(KeepMask, (target,), ignore_index, x._array.dtype)
    xp = x._backend.xp
    keep = target._array != ignore_index
    safe = constant(xp.where(keep, target._array, 0))
    return apply(Take, (weight, safe)) * constant(keep.astype(weight._array.dtype))


def _constant_count(weights: Any) -> float | None:
    """The summed weights as a number where they may be taken as a constant (host memory,
    no gradient, not batched, not recorded by chainrule.compile); else None."""
    backend = weights._backend
    if weights._requires_grad or type(weights._array) is not backend.array_type:
        return None  # differentiable, or batched under vmap
    if not backend.host_memory or observers.get() is not None:
        return None  # the count stays on the device (no host copy), or is replayed
    return float(weights._array.sum())


def _weighted_reduction(loss: Any, weights: Any, reduction: str, count: Any = ...) -> Any:
    """Sum, or the mean over the summed weights (`count`, when the caller took it already)."""
    if reduction == "none":
        return loss
    total = reduce_sum(loss)
    if reduction != "mean":
        return total
    count = _constant_count(weights) if count is ... else count
    # a constant divides as a number, one op fewer
    return total / count if count else total / reduce_sum(weights)


def _nll_loss_name(ndim: int, reduction: str) -> str:
    """PyTorch's grad_fn name for nll_loss (and cross_entropy with class indices): spatial
    inputs run NllLoss2D on 4-d views, so only a 4-d input's unreduced loss is its output."""
    if ndim <= 2:
        return "NllLossBackward0"
    if reduction == "none" and ndim != 4:
        return "ViewBackward0"
    return "NllLoss2DBackward0"


def _class_batch(op_name: str, input: Any, target: Any) -> tuple[Any, Any, bool]:
    """Input (C,) with a 0-d target becomes a batch of one; (N, C, *d) passes."""
    if input.ndim == 0:
        raise ShapeError(f"{op_name}: expected input with at least 1 dimension, got shape ()")
    if input.ndim == 1:
        return unsqueeze(input, 0), unsqueeze(target, 0), True
    return input, target, False


@autocast_policy(FLOAT32)
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits and a target: -log_softmax(input)[target] per sample for class
    indices, -sum(target * log_softmax(input)) for class probabilities; softmax and log are fused
    for stability.

    Args:
        input (Tensor): floating point logits, (C,), (N, C) or (N, C, d1, ...).
        target (Tensor): class indices (integer, (), (N,) or (N, d1, ...)) or class
            probabilities (floating point, the shape of `input`).
        weight (Tensor, optional): (C,) a weight per class; with indices, 'mean' divides by the
            summed weights of the targets.
        size_average (bool, optional): deprecated, use `reduction`.
        ignore_index (int): a target index that contributes nothing (indices only).
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (one loss per sample).
        label_smoothing (float): in [0, 1]; mixes the target with the uniform distribution.

    Returns:
        Tensor: a scalar, or the target's batch shape for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> logits = chainrule.tensor([[2.0, 0.0], [0.0, 2.0]])
        >>> F.cross_entropy(logits, chainrule.tensor([0, 1]))
        tensor(0.1269)
        >>> F.cross_entropy(logits, chainrule.tensor([0, 0]), reduction="none")
        tensor([0.1269, 2.1269])
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("cross_entropy", reduction)
    check_floating("cross_entropy", input=input, weight=weight)
    if label_smoothing > 1.0:  # (PyTorch checks only this side: a negative one smooths nothing)
        raise DomainError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    label_smoothing = max(label_smoothing, 0.0)
    x, labels, unbatched = _class_batch("cross_entropy", input, target)
    classes = x.shape[1]
    check_vector("cross_entropy", "weight", weight, (classes,))
    class_shape = (1, classes) + (1,) * (x.ndim - 2)
    if labels.dtype.is_floating_point:
        if tuple(labels.shape) != tuple(x.shape):
            raise ShapeError(
                f"cross_entropy: class-probability targets must have the input's shape "
                f"{tuple(input.shape)}, got {tuple(target.shape)}"
            )
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + label_smoothing / classes
        products = log_softmax(x, 1) * labels
        if weight is not None:
            products = products * reshape(weight, class_shape)
        loss = -reduce_sum(products, 1)
        if reduction == "mean":
            return named(reduce_sum(loss) / (x.numel() // max(classes, 1)), "DivBackward1")
        if reduction == "sum":
            return named(reduce_sum(loss), "NegBackward0")
        return named(loss[0], "NegBackward0") if unbatched else loss
    _check_class_targets("cross_entropy", x, labels, ignore_index, reduction)
    weights = _class_weights(x, labels, weight, ignore_index)
    loss = apply(SoftmaxCrossEntropy, (x, labels), ignore_index)
    if weight is not None:
        loss = loss * weights
    result = _weighted_reduction(loss, weights, reduction)
    if label_smoothing > 0:
        log_probabilities = log_softmax(x, 1)
        if weight is not None:
            log_probabilities = log_probabilities * reshape(weight, class_shape)
        keep = constant(labels._array != ignore_index)
        smooth = where(keep, -reduce_sum(log_probabilities, 1), 0.0)
        smooth = _weighted_reduction(smooth, weights, reduction)
        result = result * (1 - label_smoothing) + smooth * (label_smoothing / classes)
        return result[0] if unbatched and reduction == "none" else result
    result = result[0] if unbatched and reduction == "none" else result
    return named(result, _nll_loss_name(input.ndim, reduction))


@autocast_policy(FLOAT32)
def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood: -input[n, target[n]] (times the class weight), for
    log-probabilities, as `log_softmax` gives them (the two together are `cross_entropy`).

    Args:
        input (Tensor): floating point log-probabilities, (C,), (N, C) or (N, C, d1, ...).
        target (Tensor): integer class indices, (), (N,) or (N, d1, ...).
        weight (Tensor, optional): (C,) a weight per class; 'mean' divides by the summed
            weights of the targets.
        size_average (bool, optional): deprecated, use `reduction`.
        ignore_index (int): a target index that contributes nothing.
        reduce (bool, optional): deprecated, use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none' (one loss per sample).

    Returns:
        Tensor: a scalar, or the target's shape for 'none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> logp = chainrule.tensor([[-0.5, -1.0], [-2.0, -0.1]])
        >>> F.nll_loss(logp, chainrule.tensor([0, 1]))
        tensor(0.3000)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("nll_loss", reduction)
    check_floating("nll_loss", input=input, weight=weight)
    x, labels, unbatched = _class_batch("nll_loss", input, target)
    classes = x.shape[1]
    check_vector("nll_loss", "weight", weight, (classes,))
    _check_class_targets("nll_loss", x, labels, ignore_index, reduction)
    xp = x._backend.xp
    safe = xp.where(labels._array != ignore_index, labels._array, 0)
    offsets = xp.arange(safe.size).reshape(safe.shape) * classes + safe
    flat = reshape(movedim(x, 1, -1), (-1,))
    picked = apply(Take, (flat, constant(offsets)))
    weights = _class_weights(x, labels, weight, ignore_index)
    loss = -picked * weights
    count = _constant_count(weights) if reduction == "mean" else None
    if reduction == "mean" and not count:  # the summed weights are 0, or not known here
        # PyTorch's backward writes nothing at an ignored target, where a product with its 0
        # weight would meet 1/0 when every target is ignored: zero gradients, not nan (the
        # loss itself is 0/0 = nan in both; a 0 class weight still gives nan, as PyTorch's)
        kept = (
            weights if weight is None else apply(KeepMask, (labels,), ignore_index, x._array.dtype)
        )
        loss = where(kept != 0, loss, 0.0)
    result = _weighted_reduction(loss, weights, reduction, count)
    result = result[0] if unbatched and reduction == "none" else result
    return named(result, _nll_loss_name(input.ndim, reduction))
