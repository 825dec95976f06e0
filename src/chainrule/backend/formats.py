"""PyTorch's memory formats and layouts as names a program can pass: `torch.channels_last`,
`torch.contiguous_format`, `torch.strided`. chainrule's arrays are always strided and
row-major (NumPy's and CuPy's), so the formats are accepted where PyTorch takes them
(`x.to(memory_format=...)`, `module.to(memory_format=...)`, `empty_like(...)`) and change
nothing.

>>> import chainrule
>>> chainrule.channels_last
chainrule.channels_last
>>> chainrule.ones(1, 2, 3, 3).to(memory_format=chainrule.channels_last).shape
chainrule.Size([1, 2, 3, 3])
"""

from __future__ import annotations

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
