# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""The rest of PyTorch's losses, composed of differentiable ops (so every order of derivative
comes from theirs): margin and ranking losses, multi-label losses, Poisson and Gaussian
negative log likelihoods. Their formulas, edge rules and errors follow ATen's kernels; the
hinge of each margin loss is clamp(., min=0), whose gradient at exactly 0 is 0, as PyTorch's.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.errors import ShapeError
from chainrule.ops.activation import logsigmoid, softplus
from chainrule.ops.elementwise import clamp, exp, log, where
from chainrule.ops.indexing import gather
from chainrule.ops.losses import check_reduction, legacy_reduction
from chainrule.ops.nn_common import check_indices, check_vector, constant
from chainrule.ops.reduction import mean as reduce_mean
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import unsqueeze


def reduce_loss(op_name: str, loss: Any, reduction: str) -> Any:
    """'mean', 'sum' or 'none' (PyTorch's ValueError for any other string)."""
    check_reduction(op_name, reduction)
    if reduction == "mean":
        return reduce_mean(loss)
    if reduction == "sum":
        return reduce_sum(loss)
    return loss


def margin_ranking_loss(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """max(0, -target * (input1 - input2) + margin): input1 should rank above input2 where
    target is 1, below where it is -1. The three must have the same number of dimensions.

    >>> import chainrule.nn.functional as F
    >>> F.margin_ranking_loss(chainrule.tensor([1.0, 0.0]), chainrule.tensor([0.5, 0.5]),
    ...                       chainrule.tensor([1.0, 1.0]), reduction="none")
    tensor([0.0000, 0.5000])
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: "
            f"{tuple(target.shape)}"
        )
    loss = clamp(-target * (input1 - input2) + margin, min=0)
    return reduce_loss("margin_ranking_loss", loss, reduction)


def hinge_embedding_loss(
    input: Any,
    target: Any,
    margin: float = 1.0,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """input where target is 1, max(0, margin - input) where it is -1 (input is usually a
    distance). As ATen: a target that is neither counts both terms."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    apart = where(target != 1, clamp(margin - input, min=0), 0.0)
    together = where(target != -1, input, 0.0)
    return reduce_loss("hinge_embedding_loss", apart + together, reduction)


def soft_margin_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """log(1 + exp(-target * input)), a smooth two-class hinge for targets 1 and -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return reduce_loss("soft_margin_loss", softplus(-target * input), reduction)


def multilabel_soft_margin_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """Binary cross entropy of each class's logit against a 0/1 target, weighted, averaged
    over the classes (the last dimension), then reduced over the samples."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("multilabel_soft_margin_loss", reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    classes = input.shape[-1] if input.ndim else 1
    loss = reduce_sum(loss, input.ndim - 1 if input.ndim else None) / classes
    return reduce_loss("multilabel_soft_margin_loss", loss, reduction)


def poisson_nll_loss(
    input: Any,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    size_average: Any = None,
    eps: float = 1e-8,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """Poisson negative log likelihood of `target` counts: exp(input) - target * input for a
    log-rate input, input - target * log(input + eps) for a rate; `full` adds Stirling's
    target * log(target) - target + 0.5 * log(2 pi target) where target > 1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("poisson_nll_loss", reduction)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        above_one = target > 1
        safe = where(above_one, target, 2.0)
        stirling = safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe)
        loss = loss + where(above_one, stirling, 0.0)
    return reduce_loss("poisson_nll_loss", loss, reduction)


def _clamped_below(value: Any, eps: float) -> Any:
    """max(value, eps) whose gradient is value's everywhere: PyTorch clamps var under no_grad."""
    return value + (clamp(value, min=eps) - value).detach()


def gaussian_nll_loss(
    input: Any,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Any:
    """0.5 * (log(var) + (input - target)**2 / var) (+ 0.5 log(2 pi) if `full`), with var
    clamped below at eps (the gradient passes the clamp, as PyTorch's). var may have input's
    shape, lack its last dimension, or differ from it in one dimension of size 1; a float is
    one variance for every element."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.detach() * 0 + var
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    input_shape, var_shape = tuple(input.shape), tuple(var.shape)
    if var_shape != input_shape:
        if input_shape[:-1] == var_shape:
            var = unsqueeze(var, -1)
        elif not (
            len(input_shape) == len(var_shape)
            and sum(v for i, v in zip(input_shape, var_shape) if i != v) == 1
        ):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = _clamped_below(var, eps)
    difference = input - target
    loss = 0.5 * (log(var) + difference * difference / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss("gaussian_nll_loss", loss, reduction)


def _as_matrix(op_name: str, x: Any, target: Any, target_ndim: int) -> tuple[Any, Any]:
    """(C,) input with its target becomes a batch of one; (N, C) passes; other ranks raise."""
    if x.ndim not in (1, 2) or x.numel() == 0:
        raise ShapeError(
            f"{op_name}: Expected non-empty vector or matrix with optional 0-dim batch size, "
            f"but got: {tuple(x.shape)}"
        )
    check_indices(op_name, target)
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


def multi_margin_loss(
    input: Any,
    target: Any,
    p: int = 1,
    margin: float = 1.0,
    weight: Any = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """The multi-class hinge: for each sample, the sum over classes i != y of
    weight[y] * max(0, margin - input[y] + input[i])**p, divided by the number of classes."""
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
    labels = y._array
    if bool(((labels < 0) | (labels >= classes)).any()):
        raise RuntimeError(f"multi_margin_loss: target out of range for {classes} classes")
    xp = x._backend.xp
    others = constant(xp.arange(classes)[None, :] != labels[:, None])
    picked = gather(x, 1, unsqueeze(y, 1))
    hinge = clamp(margin - picked + x, min=0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * unsqueeze(weight[y], 1)
    loss = reduce_sum(where(others, hinge, 0.0), 1) / classes
    if unbatched and reduction == "none":
        loss = loss[0]
    return reduce_loss("multi_margin_loss", loss, reduction)


def multilabel_margin_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """The multi-label hinge: target holds each sample's class indices, ended by the first -1.
    For each sample, the sum over its target classes j and its other classes i of
    max(0, 1 - (input[j] - input[i])), divided by the number of classes."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("multilabel_margin_loss", reduction)
    unbatched = input.ndim == 1
    x, y = _as_matrix("multilabel_margin_loss", input, target, 2)
    classes = x.shape[1]
    labels = y._array
    xp = x._backend.xp
    if bool(((labels < -1) | (labels >= classes)).any()):
        raise RuntimeError(f"multilabel_margin_loss: target out of range for {classes} classes")
    listed = xp.cumprod(labels != -1, axis=1).astype(bool)  # the entries before the first -1
    safe = xp.where(listed, labels, 0)
    hits = (safe[:, :, None] == xp.arange(classes)[None, None, :]) & listed[:, :, None]
    is_target = hits.any(axis=1)
    pairs = constant(listed[:, :, None] & ~is_target[:, None, :])  # (N, slot j, class i)
    chosen = gather(x, 1, constant(safe))
    hinge = clamp(1 - (unsqueeze(chosen, 2) - unsqueeze(x, 1)), min=0)
    loss = reduce_sum(where(pairs, hinge, 0.0), (1, 2)) / classes
    if unbatched and reduction == "none":
        loss = loss[0]
    return reduce_loss("multilabel_margin_loss", loss, reduction)
