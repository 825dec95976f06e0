"""Loss modules: each stores its options and calls the `chainrule.nn.functional` loss.

Class weights (`weight`, `pos_weight`) are buffers, as in PyTorch, so they move with `.to()`
and appear in `state_dict()`.

>>> import chainrule
>>> from chainrule import nn
>>> nn.MSELoss()(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 4.0]))
tensor(2.)
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import TYPE_CHECKING

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.backend import device as Device
from chainrule.backend.dtypes import dtype as DType
from chainrule.errors import DomainError, ShapeError
from chainrule.nn.modules.distance import PairwiseDistance
from chainrule.nn.modules.linear import Linear
from chainrule.nn.modules.module import Module

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Sequence


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """The reduction named by the deprecated size_average / reduce flags."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        reduction = "mean"
    elif reduce:
        reduction = "sum"
    else:
        reduction = "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
        "instead.",
        stacklevel=3,
    )
    return reduction


class _Loss(Module):
    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = _legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """The mean absolute error: |input - target| per element, then averaged (or summed).

    Less sensitive to outliers than MSELoss, since the gradient's size does not grow with the error:
    it is sign(input - target), and 0 where the two are equal.

    Args:
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default) averages the per-element losses, 'sum' adds them,
            'none' returns them all.

    Shape:
        - Input: (*), any shape
        - Target: the input's shape
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.L1Loss()(chainrule.tensor([1.0, 2.0]), chainrule.tensor([0.0, 4.0]))
        tensor(1.5000)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """The mean squared error (input - target)^2 over all elements (or their sum, or each one).

    Args:
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean', 'sum' or 'none'.

    Shape:
        - Input: any shape
        - Target: the input's shape
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.MSELoss()(chainrule.tensor([1.0, 2.0]), chainrule.tensor([0.0, 4.0]))
        tensor(2.5000)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """An L1 loss made quadratic near zero: 0.5 d**2 / beta for |d| < beta, |d| - 0.5 beta above.

    d = input - target. The quadratic piece removes L1's kink at 0, the linear piece keeps L1's
    robustness to outliers; the two meet with equal value and slope at |d| = beta. With beta = 0 it
    is L1Loss. It equals HuberLoss(delta=beta) divided by beta (Fast R-CNN's box loss).

    Args:
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default) averages the per-element losses, 'sum' adds them,
            'none' returns them all.
        beta (float): where the loss changes from quadratic to linear, at least 0 (default: 1).

    Shape:
        - Input: (*), any shape
        - Target: the input's shape
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> loss = nn.SmoothL1Loss(reduction='none')
        >>> loss(chainrule.tensor([0.5, 3.0]), chainrule.tensor([0.0, 0.0]))
        tensor([0.1250, 2.5000])
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """The Huber loss: 0.5 d**2 for |d| <= delta and delta * (|d| - 0.5 delta) above.

    d = input - target. Quadratic for small errors and linear for large ones, so outliers pull on
    the fit with a bounded gradient (at most delta in size). It equals delta *
    SmoothL1Loss(beta=delta).

    Args:
        reduction (str): 'mean' (the default) averages the per-element losses, 'sum' adds them,
            'none' returns them all.
        delta (float): where the loss changes from quadratic to linear, above 0 (default: 1).

    Shape:
        - Input: (*), any shape
        - Target: the input's shape
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> loss = nn.HuberLoss(reduction='none', delta=2.0)
        >>> loss(chainrule.tensor([1.0, 4.0]), chainrule.tensor([0.0, 0.0]))
        tensor([0.5000, 6.0000])
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class NLLLoss(_WeightedLoss):
    """The negative log-likelihood of class indices, given log-probabilities.

    For a sample with log-probabilities x (one per class, e.g. from LogSoftmax) and target class y,
    the loss is -weight[y] * x[y]. With reduction='mean' the sum is divided by the sum of the
    weights of the targets counted, not by their number. LogSoftmax followed by NLLLoss is
    CrossEntropyLoss.

    Args:
        weight (Tensor, optional): a rescaling weight per class, of shape (C,) (default: all 1),
            e.g. to counter unbalanced classes.
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        ignore_index (int): a target value that is skipped: it adds nothing to the loss or the
            gradient, nor to the mean's denominator (default: -100).
        reduction (str): 'mean' (the default) averages the per-element losses, 'sum' adds them,
            'none' returns them all.

    Shape:
        - Input: (N, C) or (C,), or (N, C, d1, ..., dK) for a loss per position (e.g. per pixel)
        - Target: (N,) or (), or (N, d1, ..., dK), integer class indices in [0, C)
        - Output: a scalar, or the target's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> log_probs = chainrule.tensor([[-0.5, -1.0], [-2.0, -0.25]])
        >>> nn.NLLLoss()(log_probs, chainrule.tensor([0, 1]))
        tensor(0.3750)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class CrossEntropyLoss(_WeightedLoss):
    """The cross entropy between raw scores (logits) and targets: log_softmax over the class
    dimension, then the negative log likelihood of the target. The standard classification
    loss; computing it from logits in one op is more stable than softmax then log.

    Args:
        weight (Tensor, optional): a rescaling weight per class, of shape (C,).
        size_average (bool, optional): deprecated; use `reduction`.
        ignore_index (int): a class-index target with this value adds nothing to the loss or
            the mean's count.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (weighted mean over the batch), 'sum' or 'none'.
        label_smoothing (float): in [0, 1]; mixes the target with the uniform distribution.

    Shape:
        - Input: (N, C), (C,) or (N, C, d1, ..., dK)
        - Target: class indices of shape (N,), () or (N, d1, ..., dK), or class
          probabilities of the input's shape
        - Output: a scalar, or with reduction='none' the target's shape without C

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> loss = nn.CrossEntropyLoss()
        >>> logits = chainrule.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]], requires_grad=True)
        >>> out = loss(logits, chainrule.tensor([0, 2]))
        >>> out
        tensor(0.1672, grad_fn=<...>)
        >>> out.backward()
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """PyTorch 2.13's choices for its chunked linear_cross_entropy kernel (batch chunk size,
    chunking method, accumulation policy and dtype), validated as PyTorch validates them.
    chainrule computes the same loss by the reference path (F.linear_cross_entropy), so these
    change no value; a program that passes them runs unchanged.

    Args:
        allow_retain_graph (bool): PyTorch's chunked kernel frees its buffers in backward
            unless this is set (default: False).
        batch_chunk_size (int, optional): rows per chunk (default: chosen per call).
        chunking_method (str, optional): 'auto' or 'aspect_ratio[:k]' (default: 'auto').
        acc_policy (str): 'auto', 'accurate', 'balanced' or 'compact' (default: 'auto').
        acc_dtype (dtype, optional): the accumulation dtype (default: chosen per call).

    Example:
        >>> from chainrule import nn
        >>> nn.LinearCrossEntropyOptions(batch_chunk_size=256).batch_chunk_size
        256
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: DType | None = None

    def __post_init__(self) -> None:
        if self.acc_policy not in ("auto", "accurate", "balanced", "compact"):
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, separator, factor = self.chunking_method.partition(":")
            factor = factor if separator else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if not (size is None or (isinstance(size, int) and size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and getattr(self.acc_dtype, "name", None) not in (
            "float16",
            "bfloat16",
            "float32",
            "float64",
        ):
            raise ValueError(
                "acc_dtype must be one of {None, torch.float16, torch.bfloat16, torch.float32, "
                f"torch.float64}}, got {self.acc_dtype!r}. Pass acc_dtype=None to let the op "
                "pick automatically."
            )


class LinearCrossEntropyLoss(_WeightedLoss):
    """A Linear layer to C classes (times out_features positions) and the cross entropy of
    its logits, as one criterion (PyTorch 2.13's): F.linear_cross_entropy with the layer's
    weight viewed as (C, *out_features, in_features). The layer lives in `self.linear`, its
    weight stored flat, (C * prod(out_features), in_features), as PyTorch stores it.

    Args:
        in_features (int): the size of each input sample.
        num_classes (int): C.
        out_features (tuple of int): (d1, ..., dK) for a K-dimensional loss (default: ()).
        bias (bool): learn a bias for the logits (default: False).
        device (str or device, optional): where the layer's parameters live.
        dtype (dtype, optional): the layer's parameters' dtype.
        reduction (str): 'mean', 'sum' or 'none' (default: 'mean').
        weight (Tensor, optional): a rescaling weight per class, (C,).
        ignore_index (int, optional): a class index that adds nothing (default: -100).
        label_smoothing (float): in [0, 1] (default: 0).
        options (LinearCrossEntropyOptions, optional): PyTorch's chunking choices.

    Shape:
        - Input: (in_features,) or (N, in_features)
        - Target: class indices (), (N,) or (N, d1, ..., dK), or class probabilities
        - Output: a scalar, or with reduction='none' the target's shape without C

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> loss = nn.LinearCrossEntropyLoss(3, 4)
        >>> loss(chainrule.ones(2, 3), chainrule.tensor([0, 3])).shape
        chainrule.Size([])
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        out_features: tuple[int, ...] = (),
        bias: bool = False,
        device: Device | str | None = None,
        dtype: DType | None = None,
        reduction: str = "mean",
        weight: Tensor | None = None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        options: LinearCrossEntropyOptions | None = None,
    ) -> None:
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise ShapeError(
                f"expected weight shape to be {(num_classes,)}, got {tuple(weight.shape)}"
            )
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise DomainError(
                f"expected label_smoothing to be in range [0, 1], got {label_smoothing}"
            )
        super().__init__(weight, None, None, reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        rows = math.prod(out_features, start=num_classes)
        self.linear = Linear(in_features, rows, bias=bias, device=device, dtype=dtype)
        self.options = options

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        linear_weight = self.linear.weight.reshape(
            (self.num_classes, *self.out_features, self.linear.in_features)
        )
        bias = self.linear.bias
        linear_bias = None if bias is None else bias.reshape((self.num_classes, *self.out_features))
        return F.linear_cross_entropy(
            input,
            linear_weight,
            target,
            linear_bias=linear_bias,
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            options=self.options,
        )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
            f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
            f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
            f"label_smoothing={self.label_smoothing}, options={self.options}"
        )


class BCELoss(_WeightedLoss):
    """The binary cross-entropy between predicted probabilities and targets in [0, 1].

    Per element, -w * (y log(x) + (1 - y) log(1 - x)) for a prediction x and a target y. As in
    PyTorch each log is clamped to at least -100, so a prediction of exactly 0 or 1 gives a large
    but finite loss. To start from raw scores, prefer BCEWithLogitsLoss: it folds the sigmoid in and
    is more accurate.

    Args:
        weight (Tensor, optional): a rescaling weight w, broadcast against the input (default:
            none).
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default) averages the per-element losses, 'sum' adds them,
            'none' returns them all.

    Shape:
        - Input: (*), any shape, values in [0, 1]
        - Target: the input's shape, values in [0, 1]
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.BCELoss()(chainrule.tensor([0.5, 0.5]), chainrule.tensor([1.0, 0.0]))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """A sigmoid and a binary cross-entropy in one, stable for any logit.

    Per element, -w * (p * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))) for a logit x and a
    target y, computed through log-sum-exp so that it neither overflows nor loses precision for
    large |x|. `pos_weight` p weighs the positive term: p > 1 raises recall, p < 1 precision (for a
    class with P positives and N negatives, p = N / P balances them).

    Args:
        weight (Tensor, optional): a rescaling weight w, broadcast against the input (default:
            none).
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default) averages the per-element losses, 'sum' adds them,
            'none' returns them all.
        pos_weight (Tensor, optional): the weight p of the positive examples, broadcast along the
            last (class) dimension, e.g. of shape (C,) (default: 1).

    Shape:
        - Input: (*), any shape, raw scores
        - Target: the input's shape, values in [0, 1]
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.BCEWithLogitsLoss()(chainrule.tensor([0.0, 0.0]), chainrule.tensor([1.0, 0.0]))
        tensor(0.6931)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input,
            target,
            self.weight,
            pos_weight=self.pos_weight,
            reduction=self.reduction,
        )


class KLDivLoss(_Loss):
    """The Kullback-Leibler divergence KL(target || prediction), from log-probabilities.

    Per element, target * (log(target) - input) with `input` the log of the predicted probabilities
    (e.g. from LogSoftmax); elements where the target is 0 contribute 0. With log_target=True the
    target is given as log-probabilities too. Only reduction='batchmean' (sum divided by the batch
    size) gives the mathematical KL divergence per sample; 'mean' divides by the number of elements
    instead.

    Args:
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default), 'batchmean', 'sum' or 'none'.
        log_target (bool): the target holds log-probabilities (default: False).

    Shape:
        - Input: (*), any shape, log-probabilities
        - Target: the input's shape
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> import math
        >>> kl = nn.KLDivLoss(reduction='batchmean')
        >>> kl(chainrule.tensor([[math.log(0.5), math.log(0.5)]]), chainrule.tensor([[0.5, 0.5]]))
        tensor(0.)
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineEmbeddingLoss(_Loss):
    """Pulls pairs of vectors together or pushes them apart by their cosine similarity.

    For a pair x1, x2 with label y, the loss is 1 - cos(x1, x2) when y = 1 (the pair should point
    the same way) and max(0, cos(x1, x2) - margin) when y = -1 (the pair should be at most `margin`
    similar). Used to learn embeddings, e.g. for semi-supervised similarity.

    Args:
        margin (float): the similarity above which a dissimilar pair is penalised, in [-1, 1];
            0 to 0.5 is usual (default: 0).
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default) averages the per-element losses, 'sum' adds them,
            'none' returns them all.

    Shape:
        - Input1: (N, D) or (D,)
        - Input2: the shape of Input1
        - Target: (N,) or (), values 1 or -1
        - Output: a scalar, or (N,) with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> loss = nn.CosineEmbeddingLoss(reduction='none')
        >>> x1 = chainrule.tensor([[1.0, 0.0], [1.0, 0.0]])
        >>> x2 = chainrule.tensor([[0.0, 1.0], [1.0, 1.0]])
        >>> loss(x1, x2, chainrule.tensor([1, -1]))
        tensor([1.0000, 0.7071])
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class MarginRankingLoss(_Loss):
    """Ranks pairs: max(0, -y (x1 - x2) + margin), so x1 should exceed x2 by `margin` where
    y = 1, and fall below it where y = -1.

    Args:
        margin (float): the required gap (default: 0).
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default), 'sum' or 'none'.

    Shape:
        - Input1: (N,) or ()
        - Input2: the shape of Input1
        - Target: the shape of Input1, values 1 or -1
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> loss = nn.MarginRankingLoss(margin=0.5, reduction='none')
        >>> loss(chainrule.tensor([1.0, 1.0]), chainrule.tensor([0.8, 0.2]), chainrule.tensor([1.0, -1.0]))
        tensor([0.3000, 1.3000])
    """  # noqa: E501

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class HingeEmbeddingLoss(_Loss):
    """For distances x with labels y: x where y = 1 (similar pairs are pulled together) and
    max(0, margin - x) where y = -1 (dissimilar ones pushed past the margin).

    Args:
        margin (float): the distance dissimilar pairs should reach (default: 1).
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default), 'sum' or 'none'.

    Shape:
        - Input: any shape
        - Target: the shape of Input, values 1 or -1
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> loss = nn.HingeEmbeddingLoss(reduction='none')
        >>> loss(chainrule.tensor([0.3, 0.3]), chainrule.tensor([1.0, -1.0]))
        tensor([0.3000, 0.7000])
    """

    def __init__(
        self,
        margin: float = 1.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """The logistic two-class loss log(1 + exp(-y x)) for labels y of 1 or -1.

    Args:
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default), 'sum' or 'none'.

    Shape:
        - Input: any shape
        - Target: the shape of Input, values 1 or -1
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.SoftMarginLoss()(chainrule.tensor([0.0, 0.0]), chainrule.tensor([1.0, -1.0]))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label classification by one logistic loss per class: -(y log sigmoid(x) + (1 - y)
    log sigmoid(-x)), optionally weighted per class, averaged over the C classes.

    Args:
        weight (Tensor, optional): a weight per class, shape (C,) (a buffer).
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default), 'sum' or 'none'.

    Shape:
        - Input: (N, C) or (C,)
        - Target: the shape of Input, values 0 or 1
        - Output: a scalar, or (N,) with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> loss = nn.MultiLabelSoftMarginLoss(reduction='none')
        >>> loss(chainrule.zeros(2, 3), chainrule.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]))
        tensor([0.6931, 0.6931])
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.multilabel_soft_margin_loss(
            input, target, weight=self.weight, reduction=self.reduction
        )


class TripletMarginLoss(_Loss):
    """Metric learning on triplets: max(0, d(a, p) - d(a, n) + margin), d the p-norm distance,
    so each anchor is closer to its positive than to its negative by `margin`.

    Args:
        margin (float): the required gap (default: 1).
        p (float): the norm of the distance (default: 2).
        eps (float): added to the differences before the norm (default: 1e-6).
        swap (bool): use d(p, n) for the negative distance where it is smaller (Balntas et
            al., 2016) (default: False).
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default), 'sum' or 'none'.

    Shape:
        - Input: anchor, positive and negative, each (N, D) or (D,)
        - Output: a scalar, or (N,) with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> a, p, n = chainrule.zeros(1, 2), chainrule.tensor([[3.0, 4.0]]), chainrule.ones(1, 2)
        >>> nn.TripletMarginLoss(margin=1.0, eps=0.0)(a, p, n)  # 5 - sqrt(2) + 1
        tensor(4.5858)
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead"
            )
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(
            anchor,
            positive,
            negative,
            margin=self.margin,
            p=self.p,
            eps=self.eps,
            swap=self.swap,
            reduction=self.reduction,
        )


class PoissonNLLLoss(_Loss):
    """The negative log-likelihood of counts under a Poisson distribution: exp(x) - y x when
    the input is the log rate (log_input), else x - y log(x + eps); `full` adds Stirling's
    approximation of log(y!) where y > 1.

    Args:
        log_input (bool): the input is the log of the rate (default: True).
        full (bool): add the Stirling term (default: False).
        size_average (bool, optional): deprecated; use `reduction`.
        eps (float): keeps log(x + eps) finite when log_input is False (default: 1e-8).
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default), 'sum' or 'none'.

    Shape:
        - Input: any shape
        - Target: the shape of Input
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.PoissonNLLLoss()(chainrule.zeros(2), chainrule.tensor([1.0, 3.0]))
        tensor(1.)
    """

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: bool | None = None,
        eps: float = 1e-8,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(
            log_input,
            target,
            log_input=self.log_input,
            full=self.full,
            eps=self.eps,
            reduction=self.reduction,
        )


class GaussianNLLLoss(_Loss):
    """The negative log-likelihood of the target under N(input, var): 0.5 (log var + (input -
    target)^2 / var), plus 0.5 log(2 pi) with `full`; var (predicted too, usually) is clamped
    below at eps for the value.

    Args:
        full (bool): add the constant term (default: False).
        eps (float): the smallest variance used (default: 1e-6).
        reduction (str): 'mean' (the default), 'sum' or 'none'.

    Shape:
        - Input: (N, *) or (*)
        - Target: the shape of Input (or broadcastable to it)
        - Var: the shape of Input, or with its last dimension 1 or missing
        - Output: a scalar, or the input's shape with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.GaussianNLLLoss()(chainrule.zeros(2, 1), chainrule.ones(2, 1), chainrule.ones(2, 1))
        tensor(0.5000)
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:  # noqa: A002
        return F.gaussian_nll_loss(
            input, target, var, full=self.full, eps=self.eps, reduction=self.reduction
        )


class TripletMarginWithDistanceLoss(_Loss):
    """TripletMarginLoss with a distance of your choice: max(0, d(a, p) - d(a, n) + margin),
    d any function of two tensors returning non-negative distances (default:
    pairwise_distance, the Euclidean one).

    Args:
        distance_function (Callable, optional): d (default: F.pairwise_distance).
        margin (float): the required gap, positive (default: 1).
        swap (bool): use d(p, n) for the negative distance where it is smaller (default:
            False).
        reduction (str): 'mean' (the default), 'sum' or 'none'.

    Shape:
        - Input: anchor, positive and negative, (N, *) or (*), as d accepts them
        - Output: a scalar, or (N,) with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> cosine = lambda x, y: 1.0 - nn.functional.cosine_similarity(x, y)
        >>> loss = nn.TripletMarginWithDistanceLoss(distance_function=cosine, margin=0.5)
        >>> a, p, n = chainrule.tensor([[1.0, 0.0]]), chainrule.tensor([[1.0, 0.0]]), chainrule.tensor([[0.0, 1.0]])
        >>> loss(a, p, n)
        tensor(0.)
    """  # noqa: E501

    def __init__(
        self,
        *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(None, None, reduction)
        if margin <= 0:
            raise ValueError(
                "TripletMarginWithDistanceLoss: expected margin to be greater than 0, got "
                f"{margin} instead"
            )
        # The default is a PairwiseDistance submodule, as in PyTorch (it shows in print(loss)).
        self.distance_function = (
            distance_function if distance_function is not None else PairwiseDistance()
        )
        self.margin = margin
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )


class NLLLoss2d(NLLLoss):
    """NLLLoss under its deprecated 2-D name, kept as PyTorch keeps it.

    Args:
        weight (Tensor, optional): a weight per class.
        size_average (bool, optional): deprecated; use `reduction`.
        ignore_index (int): a target value that contributes nothing (default: -100).
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (the default), 'sum' or 'none'.

    Shape:
        - Input: (N, C, H, W)
        - Target: (N, H, W)
        - Output: a scalar, or (N, H, W) with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.NLLLoss2d()(chainrule.zeros(1, 3, 2, 2), chainrule.zeros(1, 2, 2).long())
        tensor(0.)
    """


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge: sum over classes i != y of max(0, margin - x[y] + x[i])**p,
    divided by the number of classes.

    Args:
        p (int): 1 (default) or 2.
        margin (float): default 1.
        weight (Tensor, optional): a weight per class, (C,), applied by the target's class.
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none'.

    Shape:
        - Input: (N, C) or (C,), Target: (N,) or () class indices
        - Output: a scalar, or (N,) with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.MultiMarginLoss()(chainrule.tensor([[0.1, 0.2, 0.4, 0.8]]), chainrule.tensor([3]))
        tensor(0.3250)
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(
                f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.dim()}D "
                "instead"
            )
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.multi_margin_loss(
            input,
            target,
            p=self.p,
            margin=self.margin,
            weight=self.weight,
            reduction=self.reduction,
        )


class MultiLabelMarginLoss(_Loss):
    """The multi-label hinge: target lists each sample's classes, ended by the first -1; the
    loss sums max(0, 1 - (x[j] - x[i])) over listed j and unlisted i, over the class count.

    Args:
        size_average (bool, optional): deprecated; use `reduction`.
        reduce (bool, optional): deprecated; use `reduction`.
        reduction (str): 'mean' (default), 'sum' or 'none'.

    Shape:
        - Input: (N, C) or (C,), Target: the input's shape, integer class indices and -1
        - Output: a scalar, or (N,) with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.MultiLabelMarginLoss()(
        ...     chainrule.tensor([[0.1, 0.2, 0.4, 0.8]]), chainrule.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class CTCLoss(_Loss):
    """The connectionist temporal classification loss: -log of the total probability of every
    alignment of the target to the input sequence (with blanks and repeats), for unsegmented
    sequence labelling (speech, handwriting).

    Args:
        blank (int): the blank label (default: 0).
        reduction (str): 'mean' (default: each loss over its target length, then averaged),
            'sum' or 'none'.
        zero_infinity (bool): zero infinite losses (impossible alignments) and their gradients.

    Shape:
        - Log_probs: (T, N, C) or (T, C), log_softmax outputs
        - Targets: (N, S) padded, or (sum(target_lengths),) concatenated
        - Input_lengths, Target_lengths: (N,) or ()
        - Output: a scalar, or (N,) with reduction='none'

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> log_probs = chainrule.full((2, 1, 2), 0.5).log()
        >>> nn.CTCLoss(reduction="sum")(log_probs, chainrule.tensor([[1]]), [2], [1])
        tensor(0.2877)
    """

    def __init__(
        self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False
    ) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(
        self,
        log_probs: Tensor,
        targets: Tensor,
        input_lengths: Tensor | Sequence[int],
        target_lengths: Tensor | Sequence[int],
    ) -> Tensor:
        return F.ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            self.blank,
            self.reduction,
            self.zero_infinity,
        )
