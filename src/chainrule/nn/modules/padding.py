"""Padding layers over F.pad: constant (and zero), reflection, replication, circular.

`padding` is an int (every side) or a tuple in F.pad's order: last dimension first, (left,
right[, top, bottom[, front, back]]).
"""

from __future__ import annotations

from typing import Any

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.nn.modules.module import Module


def _sides(padding: Any, n: int) -> tuple:
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    return tuple(padding)


class _PadNd(Module):
    _mode = "constant"
    _n = 1

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _sides(padding, self._n)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _n = 1


class ConstantPad2d(_ConstantPadNd):
    _n = 2


class ConstantPad3d(_ConstantPadNd):
    _n = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    _n = 1


class ZeroPad2d(_ZeroPadNd):
    _n = 2


class ZeroPad3d(_ZeroPadNd):
    _n = 3


class ReflectionPad1d(_PadNd):
    _mode, _n = "reflect", 1


class ReflectionPad2d(_PadNd):
    _mode, _n = "reflect", 2


class ReflectionPad3d(_PadNd):
    _mode, _n = "reflect", 3


class ReplicationPad1d(_PadNd):
    _mode, _n = "replicate", 1


class ReplicationPad2d(_PadNd):
    _mode, _n = "replicate", 2


class ReplicationPad3d(_PadNd):
    _mode, _n = "replicate", 3


class CircularPad1d(_PadNd):
    _mode, _n = "circular", 1


class CircularPad2d(_PadNd):
    _mode, _n = "circular", 2


class CircularPad3d(_PadNd):
    _mode, _n = "circular", 3
