"""PyTorch's memory formats and layouts as names a program can pass: `torch.channels_last`,
`torch.contiguous_format`, `torch.strided`. Arrays are strided (NumPy's and CuPy's): a copy
can be laid out in a format (`x.contiguous(memory_format=torch.channels_last)`,
`x.to(memory_format=...)`, `clone`, `module.to(memory_format=...)`), and
`x.is_contiguous(memory_format=...)` tells whether it is.

>>> import chainrule
>>> chainrule.channels_last
chainrule.channels_last
>>> chainrule.ones(1, 2, 3, 3).to(memory_format=chainrule.channels_last).shape
chainrule.Size([1, 2, 3, 3])
"""

from __future__ import annotations

from typing import Any

from chainrule.backend.dtypes import display_namespace

__all__ = [
    "channels_last",
    "channels_last_3d",
    "contiguous_format",
    "layout",
    "legacy_contiguous_format",
    "memory_format",
    "preserve_format",
    "strided",
]


class _Named:
    """A constant known by its PyTorch name, printed as chainrule's and pickled as itself."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{display_namespace()}.{self.name}"

    def __reduce__(self) -> str:
        return self.name  # pickles as the module-level instance of that name


class memory_format(_Named):  # noqa: N801 - PyTorch's spelling
    """A memory format (`torch.memory_format`): how a tensor's dimensions are ordered in
    memory. chainrule keeps every array row-major, so a format is a name only.

    Args:
        name (str): PyTorch's name, 'channels_last'.

    Example:
        >>> import chainrule
        >>> chainrule.contiguous_format == chainrule.channels_last
        False
    """

    __slots__ = ()


class layout(_Named):  # noqa: N801 - PyTorch's spelling
    """A tensor layout (`torch.layout`): chainrule's tensors are all `strided` (dense).

    Args:
        name (str): PyTorch's name, 'strided'.

    Example:
        >>> import chainrule
        >>> chainrule.strided
        chainrule.strided
    """

    __slots__ = ()


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
legacy_contiguous_format = contiguous_format  # the same object, as in PyTorch
strided = layout("strided")

# The spatial rank of each channels-last format: its channel dimension is innermost in memory.
CHANNELS_LAST_SPATIAL = {"channels_last": 2, "channels_last_3d": 3}


def channels_last_order(ndim: int, spatial: int) -> tuple[int, ...]:
    """The dimensions of an (N, C, *spatial) array from the outermost in memory to the
    innermost in a channels-last layout: N, the spatial ones, then C."""
    channel = ndim - spatial - 1
    return tuple(d for d in range(ndim) if d != channel) + (channel,)


def is_contiguous_as(array: Any, memory_format: object = None) -> bool:
    """Whether `array` is laid out densely in `memory_format`'s order (row-major by default,
    channels innermost for the channels-last formats; size-1 dimensions may have any
    stride), as PyTorch's `is_contiguous(memory_format=...)`."""
    if memory_format is None or memory_format is contiguous_format:
        return bool(array.flags.c_contiguous)
    spatial = CHANNELS_LAST_SPATIAL.get(getattr(memory_format, "name", None))
    if spatial is None:
        raise TypeError(f"is_contiguous: unsupported memory format {memory_format!r}")
    if array.ndim != spatial + 2:
        return False
    expected = 1
    for d in reversed(channels_last_order(array.ndim, spatial)):
        size = array.shape[d]
        if size != 1:
            if array.strides[d] != expected * array.itemsize:
                return False
            expected *= size
    return True
