"""`torch.utils.dlpack`: tensors exchanged with other array libraries (NumPy, CuPy, JAX,
PyTorch) through DLPack, sharing memory."""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.ops.creation import from_dlpack

__all__ = ["from_dlpack", "to_dlpack"]


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule of `tensor`'s memory, for another library's `from_dlpack`.

    Args:
        tensor (Tensor): the tensor to share (not copied).

    Returns:
        PyCapsule: the DLPack capsule.

    Example:
        >>> import numpy as np
        >>> import chainrule
        >>> from chainrule.utils.dlpack import from_dlpack, to_dlpack
        >>> from_dlpack(chainrule.tensor([1.0, 2.0])).tolist()
        [1.0, 2.0]
        >>> type(to_dlpack(chainrule.tensor([1.0]))).__name__
        'PyCapsule'
    """
    return tensor.__dlpack__()
