"""AdaptiveLogSoftmaxWithLoss: the adaptive softmax of Grave et al. (2017) for large
vocabularies, as PyTorch's. The frequent classes (the shortlist) share a head with one entry
per rarer cluster; each cluster's classes get a smaller projection of the input, so a rare
class costs a fraction of a full softmax."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from itertools import pairwise

from chainrule._tensor import Tensor
from chainrule.backend import device as Device
from chainrule.backend.dtypes import dtype as DType
from chainrule.nn import functional as F
from chainrule.nn.modules.containers import ModuleList, Sequential
from chainrule.nn.modules.linear import Linear
from chainrule.nn.modules.module import Module
from chainrule.ops.shape import cat

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """The adaptive softmax: classes below cutoffs[0] are scored by a head Linear layer that
    also scores one entry per cluster [cutoffs[i], cutoffs[i + 1]); a cluster's classes are
    scored by two bias-free Linear layers through in_features // div_value ** (i + 1) units.
    A class's log-probability is its head score's, or its cluster's head entry's plus its
    score within the cluster. Classes should be sorted by frequency, most frequent first.

    Calling it with (input, target) returns `(output, loss)`: each target's log-probability
    and their negated mean. `log_prob(input)` gives every class's, `predict(input)` the likeliest.

    Args:
        in_features (int): the size of each input.
        n_classes (int): the number of classes.
        cutoffs (sequence of ints): increasing, unique, in [1, n_classes - 1]: where the
            shortlist and each cluster end.
        div_value (float): how much each cluster's projection shrinks over the one before.
        head_bias (bool): give the head Linear layer a bias.
        device (str or device, optional): where the parameters live.
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - input: (N, in_features) or (in_features,)
        - target: (N,) or (), class indices in [0, n_classes)
        - output: (N,) or ()
        - loss: ()

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8], div_value=2.0)
        >>> output, loss = asm(chainrule.randn(5, 8), chainrule.tensor([0, 3, 5, 9, 4]))
        >>> output.shape, loss.shape, asm.log_prob(chainrule.randn(5, 8)).shape
        (chainrule.Size([5]), chainrule.Size([]), chainrule.Size([5, 10]))
        >>> bool(asm.log_prob(chainrule.randn(2, 8)).exp().sum(1).sub(1).abs().max() < 1e-5)
        True
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs: Sequence[int],
        div_value: float = 4.0,
        head_bias: bool = False,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (
            cutoffs != sorted(cutoffs)
            or min(cutoffs) <= 0
            or max(cutoffs) > (n_classes - 1)
            or len(set(cutoffs)) != len(cutoffs)
            or any(int(c) != c for c in cutoffs)
        ):
            raise ValueError(
                "cutoffs should be a sequence of unique, positive integers sorted in an "
                "increasing order, where each value is between 1 and n_classes-1"
            )
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(
                Sequential(
                    Linear(in_features, hidden, bias=False, **factory),
                    Linear(hidden, size, bias=False, **factory),
                )
            )

    def reset_parameters(self) -> None:
        """Initialize the head and every cluster's projections again, as at construction."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        target_dim = target_.dim()
        if target_dim == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError(
                    "Input and target should have the same size in the batch dimension."
                )
            if input_.dim() != 2:
                raise RuntimeError(
                    "1D target tensor expects 2D input tensors, but found inputs with size "
                    f"{input_.size()}"
                )
        elif target_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError(
                    "0D target tensor expects 1D input tensors, but found inputs with size "
                    f"{input_.size()}"
                )
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_dim > 0
        input = input_ if batched else input_.unsqueeze(0)  # noqa: A001
        target = target_ if batched else target_.unsqueeze(0)
        used_rows = 0
        batch_size = target.size(0)
        output = input.new_zeros(batch_size)
        gather_indices = target.new_empty(batch_size)
        bounds = [0] + self.cutoffs
        for i in range(len(bounds) - 1):
            low, high = bounds[i], bounds[i + 1]
            in_range = (target >= low) & (target < high)
            rows = in_range.nonzero().reshape(-1)
            if rows.numel() == 0:
                continue
            if i == 0:
                gather_indices.index_copy_(0, rows, target[in_range])
            else:
                relative_target = target[in_range] - low
                cluster_output = self.tail[i - 1](input.index_select(0, rows))
                gather_indices.index_fill_(0, rows, self.shortlist_size + i - 1)
                cluster_logprob = F.log_softmax(cluster_output, dim=1)
                local_logprob = cluster_logprob.gather(1, relative_target.unsqueeze(1))
                output.index_copy_(0, rows, local_logprob.squeeze(1))
            used_rows += rows.numel()
        if used_rows != batch_size:
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{target.min().item()}, {target.max().item()}] were found. "
            )
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, gather_indices.unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:  # noqa: A002
        head_logprob = F.log_softmax(head_output, dim=1)
        pieces = [head_logprob[:, : self.shortlist_size]]
        for i, _ in enumerate(pairwise(self.cutoffs)):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            pieces.append(cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(pieces, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:  # noqa: A002
        """The log-probability of every class for each example: (N, in_features) ->
        (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:  # noqa: A002
        """The likeliest class of each example, `log_prob(input).argmax(1)`, computing the
        clusters only for the examples whose head does not pick a shortlist class."""
        head_output = self.head(input)
        output = head_output.argmax(1)
        not_in_shortlist = output >= self.shortlist_size
        if not bool(not_in_shortlist.any()):
            return output
        if bool(not_in_shortlist.all()):
            return self._get_full_log_prob(input, head_output).argmax(1)
        log_prob = self._get_full_log_prob(input[not_in_shortlist], head_output[not_in_shortlist])
        output[not_in_shortlist] = log_prob.argmax(1)
        return output
