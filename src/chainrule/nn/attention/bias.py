"""torch.nn.attention.bias: causal masks for attention whose query and key lengths differ.

`is_causal=True` aligns the triangle to the top-left corner (query i sees keys j <= i); a
decoder step with a key/value cache wants it aligned to the bottom-right (the last query sees
every key). `causal_upper_left(L, S)` and `causal_lower_right(L, S)` stand for either mask
without building it; passed as `attn_mask` to `F.scaled_dot_product_attention`, the first runs
as `is_causal=True` and the second as its materialised boolean mask, as PyTorch dispatches them
on the CPU.

>>> import chainrule
>>> from chainrule.nn.attention.bias import causal_lower_right
>>> causal_lower_right(2, 3)._materialize()
tensor([[ True,  True, False],
        [ True,  True,  True]])
"""

from __future__ import annotations

import enum
import warnings

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops.creation import ones
from chainrule.ops.linalg import tril

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(enum.IntEnum):
    """Where the causal triangle is anchored when the query and key lengths differ."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias:
    """A causal attention mask of shape (seq_len_q, seq_len_kv), kept as its variant and sizes
    (PyTorch's is a Tensor subclass intercepting scaled_dot_product_attention; here the
    function recognises it)."""

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"CausalBias: variant must be a CausalVariant, got {variant!r}")
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if variant == CausalVariant.LOWER_RIGHT and seq_len_q > seq_len_kv:
            warnings.warn(
                "Lower right causal bias will produce NaNs in the output when seq_len_q > "
                "seq_len_kv!",
                stacklevel=2,
            )

    def _materialize(self, device: object = None) -> Tensor:
        """The boolean mask: True where a query may attend to a key."""
        diagonal = 0
        if self.variant == CausalVariant.LOWER_RIGHT:
            diagonal = self.seq_len_kv - self.seq_len_q
        square = ones(self.seq_len_q, self.seq_len_kv, dtype=dtypes.bool_, device=device)
        return tril(square, diagonal)

    def __repr__(self) -> str:
        return repr(self._materialize())


def _sizes(name: str, size: tuple) -> tuple[int, int]:
    if len(size) != 2:
        raise AssertionError(f"{name} only supports 2D tensors")
    return int(size[0]), int(size[1])


def causal_upper_left(*size: int) -> CausalBias:
    """The causal mask anchored at the top-left: query i attends to keys j <= i.

    Args:
        *size (int): seq_len_q and seq_len_kv.

    Returns:
        CausalBias: to pass as `attn_mask`.

    Example:
        >>> from chainrule.nn.attention.bias import causal_upper_left
        >>> causal_upper_left(2, 3)._materialize()
        tensor([[ True, False, False],
                [ True,  True, False]])
    """
    return CausalBias(CausalVariant.UPPER_LEFT, *_sizes("causal_upper_left", size))


def causal_lower_right(*size: int) -> CausalBias:
    """The causal mask anchored at the bottom-right: query i attends to keys
    j <= i + seq_len_kv - seq_len_q (the last query sees every key, as in cached decoding).

    Args:
        *size (int): seq_len_q and seq_len_kv.

    Returns:
        CausalBias: to pass as `attn_mask`.

    Example:
        >>> from chainrule.nn.attention.bias import causal_lower_right
        >>> causal_lower_right(1, 3)._materialize()
        tensor([[True, True, True]])
    """
    return CausalBias(CausalVariant.LOWER_RIGHT, *_sizes("causal_lower_right", size))
