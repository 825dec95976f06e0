"""Flatten and Unflatten: reshape a range of dimensions, as modules for use in Sequential."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainrule._tensor import Tensor
from chainrule.nn.modules.module import Module

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence


class Flatten(Module):
    """Flattens dimensions start_dim..end_dim into one: by default every dimension but the first
    (the batch), as a convolutional stack hands its features to a Linear layer.

    Args:
        start_dim (int): the first dimension flattened.
        end_dim (int): the last dimension flattened.

    Shape:
        - Input: (*, S_start, ..., S_end, *)
        - Output: (*, S_start * ... * S_end, *)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Flatten()(chainrule.zeros(32, 1, 5, 5)).shape
        chainrule.Size([32, 25])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits one dimension into several: the inverse of Flatten.

    The dimension `dim` of size S is reshaped into `unflattened_size`, whose product must be S (one
    entry may be -1, inferred). Typically used after a Linear layer to turn a flat feature vector
    back into an image-shaped tensor.

    Args:
        dim (int | str): the dimension to unflatten (negative counts from the end). A str names
            a dimension, as PyTorch allows for named tensors.
        unflattened_size (Any): the new sizes, a tuple or list of ints.

    Shape:
        - Input: (*1, S, *2), S at `dim`
        - Output: (*1, *unflattened_size, *2)

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.Unflatten(1, (2, 5))(chainrule.zeros(3, 10)).shape
        chainrule.Size([3, 2, 5])
    """

    def __init__(self, dim: int | str, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if isinstance(dim, int):
            if not isinstance(unflattened_size, (tuple, list)):
                raise TypeError(
                    "unflattened_size must be tuple of ints, but found type "
                    f"{type(unflattened_size).__name__}"
                )
            for index, size in enumerate(unflattened_size):
                if not isinstance(size, int):
                    raise TypeError(
                        f"unflattened_size must be tuple of ints, but found element of type "
                        f"{type(size).__name__} at pos {index}"
                    )
        else:
            raise TypeError(f"invalid argument type for dim parameter: {type(dim).__name__}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
