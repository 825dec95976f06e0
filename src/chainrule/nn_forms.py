# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""PyTorch's top-level spellings of torch.nn.functional whose signatures differ from F's:
`torch.layer_norm(..., cudnn_enable)`, `torch.embedding(weight, indices)` (weight first),
`torch.batch_norm` with every argument required, losses taking `reduction` as PyTorch's
integer code (0 'none', 1 'mean', 2 'sum'; called without one, PyTorch's top-level losses
do not reduce: their schema's default, 1, never reaches the kernel), dropout taking `train`.
Each one reads those arguments and calls chainrule.nn.functional: no mathematics of its own.
The functions whose top-level signature is F's own (`torch.conv2d`, `torch.bilinear`, ...)
are F's functions, named in chainrule/__init__.py.

>>> import chainrule
>>> chainrule.layer_norm(chainrule.tensor([[1.0, 3.0]]), [2])
tensor([[-1.0000,  1.0000]])
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule.nn import functional as _F
from chainrule.ops.dropout import feature_dropout as _feature_dropout

if _TYPE_CHECKING:
    from collections.abc import Sequence

    from chainrule._tensor import Tensor
    from chainrule.ops.arguments import Number

__all__ = [
    "adaptive_max_pool1d",
    "alpha_dropout",
    "alpha_dropout_",
    "batch_norm",
    "binary_cross_entropy_with_logits",
    "constant_pad_nd",
    "convolution",
    "cosine_embedding_loss",
    "ctc_loss",
    "dropout",
    "dropout_",
    "embedding",
    "feature_alpha_dropout",
    "feature_alpha_dropout_",
    "feature_dropout",
    "feature_dropout_",
    "group_norm",
    "hinge_embedding_loss",
    "instance_norm",
    "kl_div",
    "layer_norm",
    "margin_ranking_loss",
    "poisson_nll_loss",
    "triplet_margin_loss",
]

_REDUCTIONS = ("none", "mean", "sum")  # PyTorch's at::Reduction codes 0, 1, 2


def _reduction(op_name: str, reduction: int) -> str:
    """F's name for PyTorch's integer reduction code."""
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(
            f"{op_name}(): argument 'reduction' must be int, not {type(reduction).__name__}"
        )
    if reduction not in (0, 1, 2):
        raise ValueError(f"{op_name}: {reduction} is not a valid value for reduction")
    return _REDUCTIONS[reduction]


# ---- normalization ---------------------------------------------------------------------------


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-05,
    cudnn_enable: bool = True,
) -> Tensor:
    """`torch.layer_norm`: F.layer_norm with PyTorch's unused `cudnn_enable` flag.

    Args:
        input (Tensor): (*, *normalized_shape).
        normalized_shape (list of int): the trailing dimensions to normalize over.
        weight (Tensor, optional): the scale, of `normalized_shape`.
        bias (Tensor, optional): the shift, of `normalized_shape`.
        eps (float): added to the variance.
        cudnn_enable (bool): ignored (a backend choice in PyTorch).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.layer_norm(chainrule.tensor([[1.0, 3.0]]), [2], eps=0.0)
        tensor([[-1.,  1.]])
    """
    return _F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-05,
    cudnn_enabled: bool = True,
) -> Tensor:
    """`torch.group_norm`: F.group_norm with PyTorch's unused `cudnn_enabled` flag.

    Args:
        input (Tensor): (N, C, *).
        num_groups (int): how many groups the C channels split into.
        weight (Tensor, optional): per-channel scale, (C,).
        bias (Tensor, optional): per-channel shift, (C,).
        eps (float): added to the variance.
        cudnn_enabled (bool): ignored.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.group_norm(chainrule.tensor([[[1.0], [3.0]]]), 1, eps=0.0)
        tensor([[[-1.],
                 [ 1.]]])
    """
    return _F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool,
) -> Tensor:
    """`torch.batch_norm`: F.batch_norm with PyTorch's argument order (weight and bias first)
    and every argument required.

    Args:
        input (Tensor): (N, C, *).
        weight (Tensor or None): per-channel scale, (C,).
        bias (Tensor or None): per-channel shift, (C,).
        running_mean (Tensor or None): updated in place when training.
        running_var (Tensor or None): updated in place when training.
        training (bool): use the batch's statistics (and update the running ones).
        momentum (float): the running statistics' update rate.
        eps (float): added to the variance.
        cudnn_enabled (bool): ignored.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0], [3.0]])
        >>> chainrule.batch_norm(x, None, None, None, None, True, 0.1, 0.0, False)
        tensor([[-1.],
                [ 1.]])
    """
    return _F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    use_input_stats: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool,
) -> Tensor:
    """`torch.instance_norm`: F.instance_norm with PyTorch's argument order and every argument
    required.

    Args:
        input (Tensor): (N, C, *).
        weight (Tensor or None): per-channel scale, (C,).
        bias (Tensor or None): per-channel shift, (C,).
        running_mean (Tensor or None): updated in place when `use_input_stats`.
        running_var (Tensor or None): updated in place when `use_input_stats`.
        use_input_stats (bool): normalize with each instance's own statistics.
        momentum (float): the running statistics' update rate.
        eps (float): added to the variance.
        cudnn_enabled (bool): ignored.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[[1.0, 3.0]]])
        >>> chainrule.instance_norm(x, None, None, None, None, True, 0.1, 0.0, False)
        tensor([[[-1.,  1.]]])
    """
    return _F.instance_norm(
        input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps
    )


# ---- embedding, padding, convolution ---------------------------------------------------------


def embedding(
    weight: Tensor,
    indices: Tensor,
    padding_idx: int = -1,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """`torch.embedding`: the rows of `weight` at `indices` (weight first, unlike F.embedding;
    `padding_idx=-1` means none, and a row at `padding_idx` gets no gradient).

    Args:
        weight (Tensor): the table, (num_embeddings, embedding_dim).
        indices (Tensor): integer indices, any shape.
        padding_idx (int): the row that gets no gradient; -1 for none.
        scale_grad_by_freq (bool): scale each row's gradient by 1 / its count in `indices`.
        sparse (bool): must be False (chainrule has no sparse gradients).

    Returns:
        Tensor: (*indices.shape, embedding_dim).

    Example:
        >>> import chainrule
        >>> chainrule.embedding(chainrule.tensor([[0.0, 1.0], [2.0, 3.0]]), chainrule.tensor([1]))
        tensor([[2., 3.]])
    """
    padding = None if padding_idx == -1 else padding_idx
    return _F.embedding(
        indices, weight, padding, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse
    )


def constant_pad_nd(input: Tensor, pad: Sequence[int], value: Number = 0) -> Tensor:
    """`torch.constant_pad_nd`: F.pad in 'constant' mode (pairs of widths from the last
    dimension backwards; negative widths crop).

    Args:
        input (Tensor): any shape.
        pad (list of int): (left, right) widths per dimension, last dimension first.
        value (number): the fill value.

    Returns:
        Tensor: `input` padded.

    Example:
        >>> import chainrule
        >>> chainrule.constant_pad_nd(chainrule.tensor([1.0, 2.0]), [1, 0], 9.0)
        tensor([9., 1., 2.])
    """
    return _F.pad(input, tuple(pad), "constant", value)


def convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    transposed: bool,
    output_padding: Sequence[int],
    groups: int,
) -> Tensor:
    """`torch.convolution`: the 1-, 2- or 3-d convolution (or transposed convolution) that
    `weight`'s dimensions call for, every argument given.

    Args:
        input (Tensor): (N, C_in, *spatial).
        weight (Tensor): the filters, (C_out, C_in / groups, *kernel) (transposed:
            (C_in, C_out / groups, *kernel)).
        bias (Tensor or None): (C_out,).
        stride (list of int): per spatial dimension.
        padding (list of int): per spatial dimension.
        dilation (list of int): per spatial dimension.
        transposed (bool): a transposed convolution.
        output_padding (list of int): added to one side of a transposed output.
        groups (int): how many groups the channels split into.

    Returns:
        Tensor: (N, C_out, *spatial_out).

    Example:
        >>> import chainrule
        >>> x, w = chainrule.ones(1, 1, 4), chainrule.ones(1, 1, 2)
        >>> chainrule.convolution(x, w, None, [1], [0], [1], False, [0], 1)
        tensor([[[2., 2., 2.]]])
    """
    n = weight.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(
            f"convolution: expected a weight of 3, 4 or 5 dimensions, got shape "
            f"{tuple(weight.shape)}"
        )
    if transposed:
        transpose = (_F.conv_transpose1d, _F.conv_transpose2d, _F.conv_transpose3d)[n - 1]
        return transpose(
            input, weight, bias, tuple(stride), tuple(padding), tuple(output_padding), groups,
            tuple(dilation),
        )  # fmt: skip
    conv = (_F.conv1d, _F.conv2d, _F.conv3d)[n - 1]
    return conv(input, weight, bias, tuple(stride), tuple(padding), tuple(dilation), groups)


def adaptive_max_pool1d(input: Tensor, output_size: int | Sequence[int]) -> tuple[Tensor, Tensor]:
    """`torch.adaptive_max_pool1d`: F.adaptive_max_pool1d with the indices always returned.

    Args:
        input (Tensor): floating point (N, C, L) or unbatched (C, L).
        output_size (int or tuple of one int): the output's length.

    Returns:
        (Tensor, Tensor): the maxima and the int64 index of each along L.

    Example:
        >>> import chainrule
        >>> chainrule.adaptive_max_pool1d(chainrule.tensor([[1.0, 3.0, 2.0, 0.0]]), 2)
        (tensor([[3., 2.]]), tensor([[1, 2]]))
    """
    return _F.adaptive_max_pool1d(input, output_size, return_indices=True)


# ---- losses, with PyTorch's integer reduction codes ------------------------------------------


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    pos_weight: Tensor | None = None,
    reduction: int = 0,
) -> Tensor:
    """`torch.binary_cross_entropy_with_logits`: F's, with `reduction` as an integer code.

    Args:
        input (Tensor): logits, any shape.
        target (Tensor): probabilities in [0, 1], the shape of `input`.
        weight (Tensor, optional): a rescaling weight, broadcast over the elements.
        pos_weight (Tensor, optional): the weight of positive examples, per class.
        reduction (int): 0 none (the default, as torch's), 1 mean, 2 sum.

    Returns:
        Tensor: a scalar, or the shape of `input` for reduction 0.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([0.0, 0.0])
        >>> chainrule.binary_cross_entropy_with_logits(x, chainrule.tensor([0.0, 1.0]), reduction=1)
        tensor(0.6931)
    """
    name = _reduction("binary_cross_entropy_with_logits", reduction)
    return _F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=name, pos_weight=pos_weight
    )


def kl_div(
    input: Tensor, target: Tensor, reduction: int = 0, *, log_target: bool = False
) -> Tensor:
    """`torch.kl_div`: F.kl_div with `reduction` as an integer code (1, 'mean', averages over
    every element, as F's 'mean'; no reduction by default, as torch's).

    Args:
        input (Tensor): log-probabilities, any shape.
        target (Tensor): probabilities (log-probabilities with `log_target`), same shape.
        reduction (int): 0 none (the default, as torch's), 1 mean, 2 sum.
        log_target (bool): `target` holds log-probabilities.

    Returns:
        Tensor: a scalar, or the shape of `input` for reduction 0.

    Example:
        >>> import chainrule
        >>> p = chainrule.tensor([0.5, 0.5])
        >>> chainrule.kl_div(p.log(), p)
        tensor([0., 0.])
    """
    name = _reduction("kl_div", reduction)
    return _F.kl_div(input, target, reduction=name, log_target=log_target)


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 0
) -> Tensor:
    """`torch.cosine_embedding_loss`: F's, with `reduction` as an integer code.

    Args:
        input1 (Tensor): (N, D) or (D,).
        input2 (Tensor): the shape of `input1`.
        target (Tensor): 1 (similar) or -1 (dissimilar), (N,) or ().
        margin (float): dissimilar pairs count only above this cosine.
        reduction (int): 0 none (the default, as torch's), 1 mean, 2 sum.

    Returns:
        Tensor: a scalar, or (N,) for reduction 0.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([[1.0, 0.0]])
        >>> chainrule.cosine_embedding_loss(x, x, chainrule.tensor([1.0]))
        tensor([0.])
    """
    name = _reduction("cosine_embedding_loss", reduction)
    return _F.cosine_embedding_loss(input1, input2, target, margin, reduction=name)


def hinge_embedding_loss(
    input: Tensor, target: Tensor, margin: float = 1.0, reduction: int = 0
) -> Tensor:
    """`torch.hinge_embedding_loss`: F's, with `reduction` as an integer code.

    Args:
        input (Tensor): distances, any shape.
        target (Tensor): 1 or -1, the shape of `input`.
        margin (float): the margin for targets of -1.
        reduction (int): 0 none (the default, as torch's), 1 mean, 2 sum.

    Returns:
        Tensor: a scalar, or the shape of `input` for reduction 0.

    Example:
        >>> import chainrule
        >>> chainrule.hinge_embedding_loss(chainrule.tensor([0.5]), chainrule.tensor([-1.0]))
        tensor([0.5000])
    """
    name = _reduction("hinge_embedding_loss", reduction)
    return _F.hinge_embedding_loss(input, target, margin, reduction=name)


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 0
) -> Tensor:
    """`torch.margin_ranking_loss`: F's, with `reduction` as an integer code.

    Args:
        input1 (Tensor): scores, any shape.
        input2 (Tensor): scores, the shape of `input1`.
        target (Tensor): 1 where `input1` should rank higher, -1 where lower.
        margin (float): the required gap.
        reduction (int): 0 none (the default, as torch's), 1 mean, 2 sum.

    Returns:
        Tensor: a scalar, or the broadcast shape for reduction 0.

    Example:
        >>> import chainrule
        >>> a, b = chainrule.tensor([1.0]), chainrule.tensor([2.0])
        >>> chainrule.margin_ranking_loss(a, b, chainrule.tensor([1.0]))
        tensor([1.])
    """
    name = _reduction("margin_ranking_loss", reduction)
    return _F.margin_ranking_loss(input1, input2, target, margin, reduction=name)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-06,
    swap: bool = False,
    reduction: int = 0,
) -> Tensor:
    """`torch.triplet_margin_loss`: F's, with `reduction` as an integer code.

    Args:
        anchor (Tensor): (N, D) or (D,).
        positive (Tensor): the shape of `anchor`.
        negative (Tensor): the shape of `anchor`.
        margin (float): the required gap between the two distances.
        p (float): the norm of the distances.
        eps (float): added inside the distances.
        swap (bool): use the smaller of the anchor's and the positive's distance to `negative`.
        reduction (int): 0 none (the default, as torch's), 1 mean, 2 sum.

    Returns:
        Tensor: a scalar, or (N,) for reduction 0.

    Example:
        >>> import chainrule
        >>> a = chainrule.tensor([[0.0, 0.0]])
        >>> chainrule.triplet_margin_loss(a, a, a + 3, eps=0.0)
        tensor([0.])
    """
    name = _reduction("triplet_margin_loss", reduction)
    return _F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=name)


def poisson_nll_loss(
    input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float, reduction: int
) -> Tensor:
    """`torch.poisson_nll_loss`: F's, every argument required and `reduction` an integer code.

    Args:
        input (Tensor): the rates (their logarithms with `log_input`), any shape.
        target (Tensor): counts, the shape of `input`.
        log_input (bool): `input` holds log-rates.
        full (bool): add Stirling's approximation of log(target!).
        eps (float): keeps log away from 0 when not `log_input`.
        reduction (int): 0 none (the default, as torch's), 1 mean, 2 sum.

    Returns:
        Tensor: a scalar, or the shape of `input` for reduction 0.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([0.0, 0.0])
        >>> chainrule.poisson_nll_loss(x, chainrule.tensor([1.0, 1.0]), True, False, 1e-8, 1)
        tensor(1.)
    """
    name = _reduction("poisson_nll_loss", reduction)
    return _F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=name)


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: int = 0,
    zero_infinity: bool = False,
) -> Tensor:
    """`torch.ctc_loss`: F.ctc_loss with `reduction` as an integer code.

    Args:
        log_probs (Tensor): (T, N, C) or (T, C) log-probabilities.
        targets (Tensor): (N, S) padded, or the targets concatenated.
        input_lengths (Tensor or list of int): (N,) lengths of the inputs.
        target_lengths (Tensor or list of int): (N,) lengths of the targets.
        blank (int): the blank label.
        reduction (int): 0 none (the default, as torch's), 1 mean (over target lengths,
            then the batch), 2 sum.
        zero_infinity (bool): replace infinite losses (impossible alignments) by 0.

    Returns:
        Tensor: a scalar, or (N,) for reduction 0.

    Example:
        >>> import chainrule
        >>> log_probs = chainrule.zeros(2, 1, 2).log_softmax(2)
        >>> chainrule.ctc_loss(log_probs, chainrule.tensor([[1]]), [2], [1])
        tensor([0.2877])
    """
    name = _reduction("ctc_loss", reduction)
    return _F.ctc_loss(
        log_probs, targets, input_lengths, target_lengths, blank, name, zero_infinity
    )


# ---- dropout, with PyTorch's `train` ---------------------------------------------------------


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """`torch.dropout`: F.dropout with PyTorch's required `p` and `train`.

    Args:
        input (Tensor): any shape.
        p (float): the probability that an element is zeroed.
        train (bool): apply dropout (False: return `input`).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.dropout(chainrule.ones(2), 0.5, False)
        tensor([1., 1.])
    """
    return _F.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """`torch.dropout_`: dropout written into `input`.

    Args:
        input (Tensor): any shape; overwritten.
        p (float): the probability that an element is zeroed.
        train (bool): apply dropout (False: leave `input` as it is).

    Returns:
        Tensor: `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(3)
        >>> chainrule.dropout_(x, 1.0, True) is x, x
        (True, tensor([0., 0., 0.]))
    """
    return _F.dropout(input, p, train, inplace=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """`torch.alpha_dropout`: F.alpha_dropout with PyTorch's required `p` and `train`.

    Args:
        input (Tensor): any shape.
        p (float): the probability that an element is dropped.
        train (bool): apply it (False: return `input`).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.alpha_dropout(chainrule.ones(2), 0.5, False)
        tensor([1., 1.])
    """
    return _F.alpha_dropout(input, p, train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """`torch.alpha_dropout_`: alpha dropout written into `input`.

    Args:
        input (Tensor): any shape; overwritten.
        p (float): the probability that an element is dropped.
        train (bool): apply it (False: leave `input` as it is).

    Returns:
        Tensor: `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(2)
        >>> chainrule.alpha_dropout_(x, 0.5, False) is x
        True
    """
    return _F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """`torch.feature_alpha_dropout`: F.feature_alpha_dropout with PyTorch's required `p` and
    `train`: whole channels of (N, C, ...) input are dropped together.

    Args:
        input (Tensor): at least 2-D, (N, C, ...).
        p (float): the probability that a channel is dropped.
        train (bool): apply it (False: return `input`).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.feature_alpha_dropout(chainrule.ones(1, 2), 0.5, False)
        tensor([[1., 1.]])
    """
    return _F.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """`torch.feature_alpha_dropout_`: feature alpha dropout written into `input`.

    Args:
        input (Tensor): at least 2-D, (N, C, ...); overwritten.
        p (float): the probability that a channel is dropped.
        train (bool): apply it (False: leave `input` as it is).

    Returns:
        Tensor: `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(1, 2)
        >>> chainrule.feature_alpha_dropout_(x, 0.5, False) is x
        True
    """
    return _F.feature_alpha_dropout(input, p, train, inplace=True)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """`torch.feature_dropout`: whole channels of (N, C, ...) input zeroed together with
    probability p, the rest scaled by 1 / (1 - p).

    Args:
        input (Tensor): at least 2-D, (N, C, ...).
        p (float): the probability that a channel is zeroed.
        train (bool): apply it (False: return `input`).

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.feature_dropout(chainrule.ones(2, 3, 4), 1.0, True).sum()
        tensor(0.)
    """
    return _feature_dropout(input, p, train)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """`torch.feature_dropout_`: feature dropout written into `input`.

    Args:
        input (Tensor): at least 2-D, (N, C, ...); overwritten.
        p (float): the probability that a channel is zeroed.
        train (bool): apply it (False: leave `input` as it is).

    Returns:
        Tensor: `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(1, 2)
        >>> chainrule.feature_dropout_(x, 0.5, False) is x
        True
    """
    return _feature_dropout(input, p, train, inplace=True)
