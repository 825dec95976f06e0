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
    """Pads the last `_n` dimensions in mode `_mode` (a subclass per mode and rank)."""

    _mode = "constant"
    _n = 1

    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__()
        self.padding = _sides(padding, self._n)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | tuple[int, ...], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dimension of a 2-D or 3-D input with a constant `value`, as `F.pad(input,
    padding, mode)` does (differentiable: the gradient of a padded entry flows back to the entry
    it copies; constants get none).

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right): the last dimension's sides first, as in F.pad.
        value (float): the fill value.

    Shape:
        - Input: (N, C, W_in) or (C, W_in)
        - Output: (N, C, W_out) or (C, W_out), W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ConstantPad1d(2, 3.5)
        >>> x = chainrule.arange(4.0).reshape(1, 1, 4)
        >>> m(x)
        tensor([[[3.5000, 3.5000, 0.0000, 1.0000, 2.0000, 3.0000, 3.5000, 3.5000]]])
    """

    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dimensions of a 3-D or 4-D input with a constant `value`, as `F.pad(input,
    padding, mode)` does (differentiable: the gradient of a padded entry flows back to the entry
    it copies; constants get none).

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom): the last dimension's sides first, as in F.pad.
        value (float): the fill value.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), where
          H_out = H_in + top + bottom and W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ConstantPad2d(2, 3.5)
        >>> x = chainrule.ones(1, 1, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 8)
    """

    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dimensions of a 4-D or 5-D input with a constant `value`, as `F.pad(input,
    padding, mode)` does (differentiable: the gradient of a padded entry flows back to the entry
    it copies; constants get none).

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom, front, back): the last dimension's sides first, as in F.pad.
        value (float): the fill value.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out), each
          dimension grown by its two paddings

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ConstantPad3d(2, 3.5)
        >>> x = chainrule.ones(1, 1, 3, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 7, 8)
    """

    _n = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dimension of a 2-D or 3-D input with zeros, as `F.pad(input, padding, mode)`
    does (differentiable: the gradient of a padded entry flows back to the entry it copies;
    constants get none).

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, W_in) or (C, W_in)
        - Output: (N, C, W_out) or (C, W_out), W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ZeroPad1d(2)
        >>> x = chainrule.arange(4.0).reshape(1, 1, 4)
        >>> m(x)
        tensor([[[0., 0., 0., 1., 2., 3., 0., 0.]]])
    """

    _n = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dimensions of a 3-D or 4-D input with zeros, as `F.pad(input, padding,
    mode)` does (differentiable: the gradient of a padded entry flows back to the entry it
    copies; constants get none).

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), where
          H_out = H_in + top + bottom and W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ZeroPad2d(2)
        >>> x = chainrule.ones(1, 1, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 8)
    """

    _n = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dimensions of a 4-D or 5-D input with zeros, as `F.pad(input, padding,
    mode)` does (differentiable: the gradient of a padded entry flows back to the entry it
    copies; constants get none).

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom, front, back): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out), each
          dimension grown by its two paddings

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ZeroPad3d(2)
        >>> x = chainrule.ones(1, 1, 3, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 7, 8)
    """

    _n = 3


class ReflectionPad1d(_PadNd):
    """Pads the last dimension of a 2-D or 3-D input with the input mirrored about its edge (the
    edge value not repeated), as `F.pad(input, padding, mode)` does (differentiable: the
    gradient of a padded entry flows back to the entry it copies; constants get none). Each
    padding must be smaller than the dimension it pads.

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, W_in) or (C, W_in)
        - Output: (N, C, W_out) or (C, W_out), W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ReflectionPad1d(2)
        >>> x = chainrule.arange(4.0).reshape(1, 1, 4)
        >>> m(x)
        tensor([[[2., 1., 0., 1., 2., 3., 2., 1.]]])
    """

    _mode, _n = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pads the last 2 dimensions of a 3-D or 4-D input with the input mirrored about its edge (the
    edge value not repeated), as `F.pad(input, padding, mode)` does (differentiable: the
    gradient of a padded entry flows back to the entry it copies; constants get none). Each
    padding must be smaller than the dimension it pads.

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), where
          H_out = H_in + top + bottom and W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ReflectionPad2d(2)
        >>> x = chainrule.ones(1, 1, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 8)
    """

    _mode, _n = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Pads the last 3 dimensions of a 4-D or 5-D input with the input mirrored about its edge (the
    edge value not repeated), as `F.pad(input, padding, mode)` does (differentiable: the
    gradient of a padded entry flows back to the entry it copies; constants get none). Each
    padding must be smaller than the dimension it pads.

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom, front, back): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out), each
          dimension grown by its two paddings

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ReflectionPad3d(2)
        >>> x = chainrule.ones(1, 1, 3, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 7, 8)
    """

    _mode, _n = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Pads the last dimension of a 2-D or 3-D input with copies of the edge value, as
    `F.pad(input, padding, mode)` does (differentiable: the gradient of a padded entry flows
    back to the entry it copies; constants get none).

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, W_in) or (C, W_in)
        - Output: (N, C, W_out) or (C, W_out), W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ReplicationPad1d(2)
        >>> x = chainrule.arange(4.0).reshape(1, 1, 4)
        >>> m(x)
        tensor([[[0., 0., 0., 1., 2., 3., 3., 3.]]])
    """

    _mode, _n = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pads the last 2 dimensions of a 3-D or 4-D input with copies of the edge value, as
    `F.pad(input, padding, mode)` does (differentiable: the gradient of a padded entry flows
    back to the entry it copies; constants get none).

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), where
          H_out = H_in + top + bottom and W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ReplicationPad2d(2)
        >>> x = chainrule.ones(1, 1, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 8)
    """

    _mode, _n = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Pads the last 3 dimensions of a 4-D or 5-D input with copies of the edge value, as
    `F.pad(input, padding, mode)` does (differentiable: the gradient of a padded entry flows
    back to the entry it copies; constants get none).

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom, front, back): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out), each
          dimension grown by its two paddings

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.ReplicationPad3d(2)
        >>> x = chainrule.ones(1, 1, 3, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 7, 8)
    """

    _mode, _n = "replicate", 3


class CircularPad1d(_PadNd):
    """Pads the last dimension of a 2-D or 3-D input with the input wrapped around (the far end
    continues before the near one), as `F.pad(input, padding, mode)` does (differentiable: the
    gradient of a padded entry flows back to the entry it copies; constants get none). Each
    padding may be at most the size of the dimension it pads.

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, W_in) or (C, W_in)
        - Output: (N, C, W_out) or (C, W_out), W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.CircularPad1d(2)
        >>> x = chainrule.arange(4.0).reshape(1, 1, 4)
        >>> m(x)
        tensor([[[2., 3., 0., 1., 2., 3., 0., 1.]]])
    """

    _mode, _n = "circular", 1


class CircularPad2d(_PadNd):
    """Pads the last 2 dimensions of a 3-D or 4-D input with the input wrapped around (the far end
    continues before the near one), as `F.pad(input, padding, mode)` does (differentiable: the
    gradient of a padded entry flows back to the entry it copies; constants get none). Each
    padding may be at most the size of the dimension it pads.

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), where
          H_out = H_in + top + bottom and W_out = W_in + left + right

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.CircularPad2d(2)
        >>> x = chainrule.ones(1, 1, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 8)
    """

    _mode, _n = "circular", 2


class CircularPad3d(_PadNd):
    """Pads the last 3 dimensions of a 4-D or 5-D input with the input wrapped around (the far end
    continues before the near one), as `F.pad(input, padding, mode)` does (differentiable: the
    gradient of a padded entry flows back to the entry it copies; constants get none). Each
    padding may be at most the size of the dimension it pads.

    Args:
        padding (int | tuple[int, ...]): every side's padding when an int, else
            (left, right, top, bottom, front, back): the last dimension's sides first, as in F.pad.

    Shape:
        - Input: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in)
        - Output: (N, C, D_out, H_out, W_out) or (C, D_out, H_out, W_out), each
          dimension grown by its two paddings

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> m = nn.CircularPad3d(2)
        >>> x = chainrule.ones(1, 1, 3, 3, 4)
        >>> tuple(m(x).shape)
        (1, 1, 7, 7, 8)
    """

    _mode, _n = "circular", 3
