"""Embedding: a lookup table of `num_embeddings` vectors, indexed by integer tensors.

>>> import chainrule
>>> from chainrule import nn
>>> table = nn.Embedding(10, 3, padding_idx=0)
>>> table(chainrule.tensor([[0, 2], [4, 0]])).shape
chainrule.Size([2, 2, 3])
>>> bool((table.weight[0] == 0).all())
True
"""

from __future__ import annotations

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import device as Device
from chainrule.backend.dtypes import dtype as DType
from chainrule.errors import ArgumentAssertionError, ShapeError
from chainrule.nn import init
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation


class Embedding(Module):
    """A lookup table: row i of `weight` is the vector of index i, so `embedding(input)` is
    `weight[input]`. The weights start as N(0, 1); the gradient of a row is the sum of the
    gradients of its uses.

    Args:
        num_embeddings (int): the number of rows (the vocabulary size).
        embedding_dim (int): the size of each vector.
        padding_idx (int, optional): this row starts at zero and never receives a gradient.
        max_norm (float, optional): rows looked up are first renormalised in place to at most
            this norm.
        norm_type (float): the p of the max_norm's p-norm.
        scale_grad_by_freq (bool): divide each row's gradient by its count in the batch.
        sparse (bool): a sparse COO gradient for `weight` (the rows looked up).
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: integer indices of any shape (*)
        - Output: (*, embedding_dim)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> embedding = nn.Embedding(10, 3, padding_idx=0)
        >>> embedding(chainrule.tensor([[0, 2], [4, 0]])).shape
        chainrule.Size([2, 2, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if padding_idx > 0 and padding_idx >= num_embeddings:
                raise ArgumentAssertionError("Padding_idx must be within num_embeddings")
            if padding_idx < 0:
                if padding_idx < -num_embeddings:
                    raise ArgumentAssertionError("Padding_idx must be within num_embeddings")
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if _weight is None:
            weight = creation.empty((num_embeddings, embedding_dim), device=device, dtype=dtype)
            self.weight = Parameter(weight, requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise ShapeError(
                    "Shape of weight does not match num_embeddings and embedding_dim "
                    f"({tuple(_weight.shape)} vs {(num_embeddings, embedding_dim)})"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self.sparse = sparse

    def reset_parameters(self) -> None:
        """Re-draw the parameters from their initial distribution, as the constructor does."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            text += ", sparse=True"
        return text

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose weight is `embeddings` (shared memory), frozen by default."""
        if embeddings.dim() != 2:
            raise ShapeError(
                "Embeddings parameter is expected to be 2-dimensional (got shape "
                f"{tuple(embeddings.shape)})"
            )
        rows, cols = embeddings.shape
        return cls(
            num_embeddings=rows,
            embedding_dim=cols,
            _weight=embeddings,
            _freeze=freeze,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
        )


class EmbeddingBag(Module):
    """Sums, averages or takes the elementwise max of bags of embeddings without building the
    (bags, length, dim) tensor in between: a 2-D input is one bag per row; a 1-D input is cut
    into bags at `offsets`. The weights start as N(0, 1) (the padding row at zero).

    Args:
        num_embeddings (int): the number of rows (the vocabulary size).
        embedding_dim (int): the size of each vector.
        max_norm (float, optional): rows looked up are first renormalised in place to at most
            this norm.
        norm_type (float): the p of the max_norm's p-norm.
        scale_grad_by_freq (bool): divide each row's gradient by its count in the batch.
        mode (str): 'mean' (the default), 'sum' or 'max'.
        sparse (bool): a sparse COO gradient for `weight` (the rows the bags read).
        include_last_offset (bool): offsets has one more entry, the end of the last bag.
        padding_idx (int, optional): this index is left out of every bag, and its row gets no
            gradient.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).

    Shape:
        - Input: (B, N) bags of N indices, or (L,) indices with offsets (B,) (B + 1 with
          include_last_offset); optionally per_sample_weights shaped like the input ('sum')
        - Output: (B, embedding_dim)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> bag = nn.EmbeddingBag(10, 3, mode='sum')
        >>> bag(chainrule.tensor([1, 2, 4, 5, 4]), chainrule.tensor([0, 2])).shape
        chainrule.Size([2, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentAssertionError("padding_idx must be within num_embeddings")
            padding_idx = padding_idx % num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            weight = creation.empty((num_embeddings, embedding_dim), device=device, dtype=dtype)
            self.weight = Parameter(weight)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise ShapeError(
                    "Shape of weight does not match num_embeddings and embedding_dim "
                    f"({tuple(_weight.shape)} vs {(num_embeddings, embedding_dim)})"
                )
            self.weight = Parameter(_weight)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self) -> None:
        """Re-draw the weights from N(0, 1), the padding row at zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(
        self,
        input: Tensor,  # noqa: A002
        offsets: Tensor | None = None,
        per_sample_weights: Tensor | None = None,
    ) -> Tensor:
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag whose weight is `embeddings`, frozen by default."""
        if embeddings.dim() != 2:
            raise ShapeError(
                "Embeddings parameter is expected to be 2-dimensional (got shape "
                f"{tuple(embeddings.shape)})"
            )
        rows, cols = embeddings.shape
        bag = cls(
            rows,
            cols,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            mode,
            sparse,
            embeddings,
            include_last_offset,
            padding_idx,
        )
        bag.weight.requires_grad_(not freeze)
        return bag
