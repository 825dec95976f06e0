"""torch.types: the aliases PyTorch annotates its own signatures with (`Number`, `Device`,
`_size`...), for code that imports them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO

from chainrule._tensor import Size, Tensor
from chainrule.backend import device as _device_type
from chainrule.backend.dtypes import dtype as _dtype_type

__all__ = ["Device", "FileLike", "Number", "Size", "Tensor"]

_int = int
_float = float
_bool = bool
_complex = complex
_str = str
_bytes = bytes
_dtype = _dtype_type
_device = _device_type
_size = Size | list[int] | tuple[int, ...]
_TensorOrTensors = Tensor | Sequence[Tensor]
_TensorOrOptionalTensors = Tensor | Sequence[Tensor | None]

Number = int | float | bool
_Number = (int, float, bool)
Device = _device_type | str | int | None
FileLike = str | os.PathLike | IO[bytes]
IntLikeType = int
FloatLikeType = float
BoolLikeType = bool
