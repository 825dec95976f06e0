"""PairwiseDistance and CosineSimilarity, as modules over their functional forms."""

from __future__ import annotations

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.nn.modules.module import Module


class PairwiseDistance(Module):
    """The p-norm distance between matching rows of two batches: ||x1 - x2 + eps||_p.

    The distance is taken along the last dimension, row by row (not between every pair of rows: for
    that, see `chainrule.cdist`). The small eps is added to the difference before the norm, which
    keeps the gradient finite when two rows coincide.

    Args:
        p (float): the order of the norm (default: 2, the Euclidean distance).
        eps (float): added to every element of x1 - x2 (default: 1e-6).
        keepdim (bool): keep the reduced last dimension, with size 1 (default: False).

    Shape:
        - Input1: (N, D) or (D,)
        - Input2: broadcastable against Input1, e.g. the same shape
        - Output: (N,) or (), or (N, 1) and (1,) with keepdim=True

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> dist = nn.PairwiseDistance(eps=0.0)
        >>> x1 = chainrule.tensor([[0.0, 0.0], [1.0, 1.0]])
        >>> x2 = chainrule.tensor([[3.0, 4.0], [1.0, 1.0]])
        >>> dist(x1, x2)
        tensor([5., 0.])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """The cosine of the angle between x1 and x2 along `dim`.

    y = x1 . x2 / (max(||x1||, eps) * max(||x2||, eps)), after broadcasting x1 and x2. The result
    lies in [-1, 1]: 1 for vectors pointing the same way, 0 for orthogonal ones, -1 for opposite
    ones. Clamping each norm below at eps keeps the division finite for (near-)zero vectors.

    Args:
        dim (int): the dimension holding the vectors' components (default: 1).
        eps (float): the lower bound of each norm in the denominator (default: 1e-8).

    Shape:
        - Input1: (*1, D, *2), D along `dim`
        - Input2: broadcastable against Input1, e.g. the same shape
        - Output: (*1, *2), the broadcast shape without `dim`

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> cos = nn.CosineSimilarity(dim=1)
        >>> x1 = chainrule.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> x2 = chainrule.tensor([[0.0, 2.0], [3.0, 3.0]])
        >>> cos(x1, x2)
        tensor([0., 1.])
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
