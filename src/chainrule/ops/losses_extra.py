# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""PyTorch's multi-class and multi-label margin losses, composed of differentiable ops (so
every order of derivative comes from theirs), and CTC, an op of its own (a dynamic program
over the alignments). The other margin, ranking and likelihood losses are in nn/functional.py.
Formulas, edge rules and errors follow ATen's kernels; the hinge of each margin loss counts
only where it is positive, so its gradient at exactly 0 is 0, as PyTorch's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes
from chainrule.errors import DTypeError, ShapeError
from chainrule.ops.autocast import FLOAT32, autocast_policy
from chainrule.ops.creation import arange
from chainrule.ops.elementwise import clamp, where
from chainrule.ops.indexing import gather
from chainrule.ops.losses import check_reduction, legacy_reduction
from chainrule.ops.nn_common import check_indices, check_vector, constant
from chainrule.ops.op import Op, apply, named
from chainrule.ops.reduction import any as reduce_any
from chainrule.ops.reduction import cumsum
from chainrule.ops.reduction import mean as reduce_mean
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import reshape, unsqueeze

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from chainrule._tensor import Tensor


def reduce_loss(op_name: str, loss: Any, reduction: str) -> Any:
    """'mean', 'sum' or 'none' (PyTorch's ValueError for any other string)."""
    check_reduction(op_name, reduction)
    if reduction == "mean":
        return reduce_mean(loss)
    if reduction == "sum":
        return reduce_sum(loss)
    return loss


def _positive_part(z: Any) -> Any:
    """max(z, 0) with gradient 1 only where z > 0: PyTorch's margin kernels count a term only
    when it is positive, so a hinge at exactly 0 (a tie with the margin) passes no gradient
    (clamp(z, min=0) would pass it)."""
    return where(z > 0, z, 0.0)


def _as_matrix(op_name: str, x: Any, target: Any, target_ndim: int) -> tuple[Any, Any]:
    """(C,) input with its target becomes a batch of one; (N, C) passes, an empty batch N = 0
    included (PyTorch's 'optional 0-dim batch size'); other ranks and C = 0 raise. The target
    is int64 only: PyTorch refuses int32 here (RuntimeError), unlike gather, though only
    where there is a sample to read it for."""
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ShapeError(
            f"{op_name}: Expected non-empty vector or matrix with optional 0-dim batch size, "
            f"but got: {tuple(x.shape)}"
        )
    check_indices(op_name, target)
    if target.dtype != dtypes.int64:
        if x.numel() > 0:
            raise DTypeError(f"{op_name}: expected scalar type Long but found {target.dtype.name}")
        target = target.long()
    if x.ndim == 1:
        x = unsqueeze(x, 0)
        target = target.reshape((1, *tuple(target.shape)))
    expected = (x.shape[0],) if target_ndim == 1 else tuple(x.shape)
    if tuple(target.shape) != expected:
        raise ShapeError(
            f"{op_name}: inconsistent target size: {tuple(target.shape)} for input of size: "
            f"{tuple(x.shape)}"
        )
    return x, target


@autocast_policy(FLOAT32)
def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The multi-class hinge: for each sample, the sum over classes i != y of
    weight[y] * max(0, margin - input[y] + input[i])**p, divided by the number of classes.

    Args:
        input (Tensor): (N, C) or (C,) class scores.
        target (Tensor): (N,) or () class indices in [0, C).
        p (int): 1 or 2, the power of the hinge.
        margin (float): the margin.
        weight (Tensor, optional): (C,) a weight per class, taken at the target class.
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'none', 'mean' or 'sum'.

    Returns:
        Tensor: () or (N,) with reduction='none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> F.multi_margin_loss(chainrule.tensor([[0.1, 0.2, 0.4]]), chainrule.tensor([2]))
        tensor(0.5000)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("multi_margin_loss", reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    unbatched = input.ndim == 1
    x, y = _as_matrix("multi_margin_loss", input, target, 1)
    classes = x.shape[1]
    check_vector("multi_margin_loss", "weight", weight, (classes,))
    if weight is not None and weight.dtype != x.dtype:
        raise DTypeError(
            f"multi_margin_loss: expected scalar type {x.dtype.name} but found "
            f"{weight.dtype.name} (weight)"
        )
    labels = y._array
    if bool(((labels < 0) | (labels >= classes)).any()):
        raise RuntimeError(f"multi_margin_loss: target out of range for {classes} classes")
    # masks from tensor ops, not the raw labels: under vmap the targets differ per example
    others = arange(classes, device=x.device) != unsqueeze(y, 1)
    picked = gather(x, 1, unsqueeze(y, 1))
    hinge = _positive_part(margin - picked + x)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * unsqueeze(weight[y], 1)
    loss = reduce_sum(where(others, hinge, 0.0), 1) / classes
    if unbatched and reduction == "none":
        loss = loss[0]
    return named(reduce_loss("multi_margin_loss", loss, reduction), "MultiMarginLossBackward0")


@autocast_policy(FLOAT32)
def multilabel_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The multi-label hinge: target holds each sample's class indices, ended by the first -1.
    For each sample, the sum over its target classes j and its other classes i of
    max(0, 1 - (input[j] - input[i])), divided by the number of classes.

    Args:
        input (Tensor): (N, C) or (C,) class scores.
        target (Tensor): int64 of input's shape: class indices, then -1 and anything after it.
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'none', 'mean' or 'sum'.

    Returns:
        Tensor: () or (N,) with reduction='none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> x = chainrule.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> F.multilabel_margin_loss(x, chainrule.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("multilabel_margin_loss", reduction)
    unbatched = input.ndim == 1
    x, y = _as_matrix("multilabel_margin_loss", input, target, 2)
    classes = x.shape[1]
    labels = y._array
    if bool(((labels < -1) | (labels >= classes)).any()):
        raise RuntimeError(f"multilabel_margin_loss: target out of range for {classes} classes")
    # masks from tensor ops, not the raw labels: under vmap the targets differ per example
    listed = cumsum((y == -1).long(), 1) == 0  # the entries before the first -1
    safe = where(listed, y, 0)
    hits = (unsqueeze(safe, 2) == arange(classes, device=x.device)) & unsqueeze(listed, 2)
    is_target = reduce_any(hits, 1)
    pairs = unsqueeze(listed, 2) & ~unsqueeze(is_target, 1)  # (N, slot j, class i)
    chosen = gather(x, 1, safe)
    hinge = _positive_part(1 - (unsqueeze(chosen, 2) - unsqueeze(x, 1)))
    loss = reduce_sum(where(pairs, hinge, 0.0), (1, 2)) / classes
    if unbatched and reduction == "none":
        loss = loss[0]
    loss = reduce_loss("multilabel_margin_loss", loss, reduction)
    return named(loss, "MultilabelMarginLossBackward0")


# ---- connectionist temporal classification -------------------------------------------------


def _log_add(xp: Any, *terms: Array) -> Array:
    """log(sum(exp(terms))) elementwise, -inf where every term is -inf."""
    top = terms[0]
    for term in terms[1:]:
        top = xp.maximum(top, term)
    safe = xp.where(xp.isinf(top), 0.0, top)
    total = sum(xp.exp(term - safe) for term in terms)
    return xp.log(total) + safe


def _ctc_lattice(
    xp: Any,
    log_probs: Array,
    targets: Array,
    input_lengths: Array,
    target_lengths: Array,
    blank: int,
    backward: bool,
) -> tuple:
    """The CTC forward variables log alpha (T, N, S) over the blank-extended labels
    (S = 2 max(L) + 1), each sample's negative log likelihood (N,), the extended labels, and
    with `backward` the backward variables log beta (both include the emission at t, as
    Graves's). Positions past a sample's length are -inf."""
    steps, batch, _ = log_probs.shape
    width = 2 * targets.shape[1] + 1
    extended = xp.full((batch, width), blank, dtype=targets.dtype)
    extended[:, 1::2] = targets
    positions = xp.arange(width)
    valid = positions[None, :] < (2 * target_lengths + 1)[:, None]
    # a skip from s - 2 is allowed onto a label that differs from the label two back
    skip = xp.zeros((batch, width), dtype=bool)
    skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    emissions = xp.take_along_axis(log_probs, xp.broadcast_to(extended, (steps, batch, width)), 2)
    minus_inf = xp.asarray(-xp.inf, dtype=log_probs.dtype)
    alpha = xp.full((steps, batch, width), minus_inf, dtype=log_probs.dtype)
    alpha[0, :, 0] = emissions[0, :, 0]
    if width > 1:  # (targets of width 0 leave one path: all blanks)
        alpha[0, :, 1] = xp.where(target_lengths > 0, emissions[0, :, 1], minus_inf)
    for t in range(1, steps):
        previous = alpha[t - 1]
        shifted1 = xp.concatenate(
            [xp.full((batch, 1), minus_inf, dtype=log_probs.dtype), previous[:, :-1]], axis=1
        )
        shifted2 = xp.concatenate(
            [xp.full((batch, 2), minus_inf, dtype=log_probs.dtype), previous[:, :-2]], axis=1
        )[:, :width]  # (width 1 when no sample has a label)
        shifted2 = xp.where(skip, shifted2, minus_inf)
        alpha[t] = _log_add(xp, previous, shifted1, shifted2) + emissions[t]
    alpha = xp.where(valid[None], alpha, minus_inf)
    rows = xp.arange(batch)
    last_step = xp.maximum(input_lengths - 1, 0)
    end = 2 * target_lengths
    at_end = alpha[last_step, rows, end]
    before_end = xp.where(
        target_lengths > 0, alpha[last_step, rows, xp.maximum(end - 1, 0)], minus_inf
    )
    nll = -_log_add(xp, at_end, before_end)
    if not backward:
        return alpha, nll, extended, None
    beta = xp.full((steps, batch, width), minus_inf, dtype=log_probs.dtype)
    for t in range(steps - 1, -1, -1):
        if t + 1 < steps:
            following = beta[t + 1]
            shifted1 = xp.concatenate(
                [following[:, 1:], xp.full((batch, 1), minus_inf, dtype=log_probs.dtype)], axis=1
            )
            shifted2 = xp.concatenate(
                [following[:, 2:], xp.full((batch, 2), minus_inf, dtype=log_probs.dtype)], axis=1
            )[:, :width]
            allowed = xp.concatenate([skip[:, 2:], xp.zeros((batch, 2), dtype=bool)], axis=1)
            allowed = allowed[:, :width]
            shifted2 = xp.where(allowed, shifted2, minus_inf)
            recursed = _log_add(xp, following, shifted1, shifted2) + emissions[t]
        else:
            recursed = xp.full((batch, width), minus_inf, dtype=log_probs.dtype)
        starts = (positions[None, :] == end[:, None]) | (
            (positions[None, :] == end[:, None] - 1) & (target_lengths[:, None] > 0)
        )
        start_here = (input_lengths - 1 == t)[:, None] & starts
        beta[t] = xp.where(
            start_here,
            emissions[t],
            xp.where((input_lengths - 1 > t)[:, None], recursed, minus_inf),
        )
    beta = xp.where(valid[None], beta, minus_inf)
    return alpha, nll, extended, beta


class CTCNegativeLogLikelihood(Op):
    """Each sample's -log p(target | input) under CTC (Graves et al., 2006), from
    log-probabilities (T, N, C), by the log-space forward recursion over the blank-extended
    targets. Derivative as PyTorch's: g * (exp(lp) - exp(log(sum_{s: l'_s = c} alpha_t(s)
    beta_t(s)) + nll - lp)) for t < input_length (0 after), the gradient with respect to the
    logits of log_probs = log_softmax(logits) folded in, which PyTorch's kernel assumes; 0 for
    an infinite loss under zero_infinity. Its own derivative is not implemented (as PyTorch)."""

    @staticmethod
    def forward(
        ctx: Node,
        log_probs: Array,
        targets: Array,
        input_lengths: Array,
        target_lengths: Array,
        blank: int,
        zero_infinity: bool,
    ) -> Array:
        ctx.save(
            log_probs=log_probs,
            targets=targets,
            input_lengths=input_lengths,
            target_lengths=target_lengths,
            blank=blank,
            zero_infinity=zero_infinity,
        )
        xp = ctx.xp
        _, nll, _, _ = _ctc_lattice(
            xp, log_probs, targets, input_lengths, target_lengths, blank, False
        )
        if zero_infinity:
            nll = xp.where(xp.isinf(nll), 0.0, nll)
        return nll.astype(log_probs.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        gradient = apply(
            CTCGradient,
            (ctx.log_probs, ctx.targets, ctx.input_lengths, ctx.target_lengths),
            ctx.blank,
            ctx.zero_infinity,
        )
        return (gradient * reshape(g, (1, -1, 1)), None, None, None)


class CTCGradient(Op):
    """PyTorch's CTC gradient for a unit cotangent (see CTCNegativeLogLikelihood). Its own
    derivative is not implemented, as PyTorch's `_ctc_loss_backward`."""

    @staticmethod
    def forward(
        ctx: Node,
        log_probs: Array,
        targets: Array,
        input_lengths: Array,
        target_lengths: Array,
        blank: int,
        zero_infinity: bool,
    ) -> Array:
        xp = ctx.xp
        alpha, nll, extended, beta = _ctc_lattice(
            xp, log_probs, targets, input_lengths, target_lengths, blank, True
        )
        steps, batch, classes = log_probs.shape
        products = alpha + beta
        top = products.max(axis=2, keepdims=True)
        top = xp.where(xp.isinf(top), 0.0, top)
        one_hot = (extended[:, :, None] == xp.arange(classes)[None, None, :]).astype(
            log_probs.dtype
        )
        summed = xp.einsum("tns,nsc->tnc", xp.exp(products - top), one_hot)
        log_summed = xp.log(summed) + top
        gradient = xp.exp(log_probs) - xp.exp(log_summed + nll[None, :, None] - log_probs)
        running = xp.arange(steps)[:, None] < input_lengths[None, :]
        gradient = xp.where(running[:, :, None], gradient, 0.0)
        if zero_infinity:
            gradient = xp.where(xp.isinf(nll)[None, :, None], 0.0, gradient)
        return gradient.astype(log_probs.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        raise NotImplementedError("the derivative of ctc_loss's gradient is not implemented")


def _lengths(op_name: str, lengths: Any, batch: int, like: Any, name: str) -> Any:
    """Lengths as a (N,) int64 constant on like's device, from a tensor, list or tuple."""
    if not hasattr(lengths, "_array"):
        lengths = constant(
            like._backend.xp.asarray(list(lengths) if not isinstance(lengths, int) else [lengths])
        )
    if lengths.dtype.is_floating_point:
        raise DTypeError(f"{op_name}: {name} must be integers, got {lengths.dtype}")
    lengths = lengths.reshape(-1).long()
    if lengths.shape[0] != batch:
        raise ShapeError(
            f"{op_name}: expected {name} of size {batch} (the batch), got {tuple(lengths.shape)}"
        )
    return lengths


@autocast_policy(FLOAT32)
def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The connectionist temporal classification loss of log-probabilities (T, N, C) (or
    (T, C) unbatched) against targets (N, S) padded, or concatenated (sum(target_lengths),),
    with each sample's input and target length. 'mean' divides each loss by its target length
    (at least 1) and averages over the batch, as PyTorch; `zero_infinity` zeroes impossible
    alignments' infinite losses and their gradients.

    Args:
        log_probs (Tensor): (T, N, C) or (T, C) log-probabilities (log_softmax over C).
        targets (Tensor): (N, S) padded or (sum(target_lengths),) concatenated class indices,
            none of them `blank`.
        input_lengths (Tensor or sequence of int): (N,) each sample's number of steps.
        target_lengths (Tensor or sequence of int): (N,) each sample's target length.
        blank (int): the blank class.
        reduction (str): 'none', 'mean' or 'sum'.
        zero_infinity (bool): zero infinite losses (no alignment fits) and their gradients.

    Returns:
        Tensor: () or (N,) with reduction='none'.

    Example:
        >>> import chainrule
        >>> import chainrule.nn.functional as F
        >>> log_probs = chainrule.full((2, 1, 2), 0.5).log()
        >>> F.ctc_loss(log_probs, chainrule.tensor([[1]]), [2], [1], reduction="sum")
        tensor(0.2877)
    """
    check_reduction("ctc_loss", reduction)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = unsqueeze(log_probs, 1)
        targets = targets.reshape((1, -1)) if targets.ndim <= 1 else targets
    if log_probs.ndim != 3:
        raise ShapeError(
            f"ctc_loss: expected log_probs of shape (T, N, C) or (T, C), got "
            f"{tuple(log_probs.shape)}"
        )
    steps, batch, classes = log_probs.shape
    if log_probs.numel() == 0:
        raise ShapeError(
            f"ctc_loss: log_probs tensor must not be empty, got shape {tuple(log_probs.shape)}"
        )
    check_indices("ctc_loss", targets)
    input_lengths = _lengths("ctc_loss", input_lengths, batch, log_probs, "input_lengths")
    target_lengths = _lengths("ctc_loss", target_lengths, batch, log_probs, "target_lengths")
    xp = log_probs._backend.xp
    inputs_host, targets_host = input_lengths._array, target_lengths._array
    if bool((inputs_host > steps).any()) or bool((inputs_host < 0).any()):
        raise RuntimeError(
            f"ctc_loss: Expected input_lengths to have value at most {steps}, but got "
            f"{input_lengths.tolist()}"
        )
    if bool((targets_host < 0).any()):
        raise RuntimeError(
            f"ctc_loss: Expected target_lengths to have value at least 0, but got "
            f"{target_lengths.tolist()}"
        )
    if not 0 <= blank < classes:
        raise RuntimeError(f"ctc_loss: blank must be in label range, got {blank}")
    if targets.ndim == 1 and not unbatched:  # concatenated: pad into (N, max length)
        longest = int(targets_host.max()) if batch else 0
        starts = xp.concatenate(
            [xp.zeros(1, dtype=targets_host.dtype), xp.cumsum(targets_host)[:-1]]
        )
        offsets = starts[:, None] + xp.arange(longest)[None, :]
        inside = xp.arange(longest)[None, :] < targets_host[:, None]
        flat = targets._array
        padded = xp.where(inside, flat[xp.minimum(offsets, max(flat.shape[0] - 1, 0))], blank)
        targets = constant(padded.astype(flat.dtype))
    elif bool((targets_host > targets.shape[1]).any()):
        raise RuntimeError(
            f"ctc_loss: Expected tensor to have size at least {int(targets_host.max())} at "
            f"dimension 1, but got size {targets.shape[1]}"
        )
    nll = apply(
        CTCNegativeLogLikelihood,
        (log_probs, targets.long(), input_lengths, target_lengths),
        int(blank),
        bool(zero_infinity),
    )
    if reduction == "mean":
        divisor = clamp(target_lengths, min=1).to(log_probs.dtype)
        return reduce_mean(nll / divisor)
    if reduction == "sum":
        return reduce_sum(nll)
    return nll[0] if unbatched else nll
