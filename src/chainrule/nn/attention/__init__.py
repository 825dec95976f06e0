"""torch.nn.attention: choosing the kernel behind `F.scaled_dot_product_attention`.

PyTorch picks among fused kernels (flash, memory-efficient, cuDNN) and a reference "math" one;
chainrule has one implementation, the math one, written in differentiable ops, so every
backend choice runs it. `sdpa_kernel` sets the torch.backends.cuda switches inside its block as
PyTorch's does, so code that pins a backend runs unchanged; the values do not change, only the
result's grad_fn name (the flash kernel's where PyTorch's CPU would run it and may).

>>> import chainrule
>>> from chainrule.nn.attention import SDPBackend, sdpa_kernel
>>> q = chainrule.ones(1, 2, 3)
>>> with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
...     out = chainrule.nn.functional.scaled_dot_product_attention(q, q, q)
>>> out.shape
chainrule.Size([1, 2, 3])
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Iterator

from chainrule.backends.cuda import _sdp_enabled

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """The kernels PyTorch's scaled_dot_product_attention may run (PyTorch's values)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(
    backends: SDPBackend | Iterable[SDPBackend], set_priority: bool = False
) -> Iterator[None]:
    """Run the block with scaled_dot_product_attention limited to `backends`: the switches of
    torch.backends.cuda are set for the block and restored after (chainrule's one
    implementation, the math kernel, computes every result either way).

    Args:
        backends (SDPBackend or list of SDPBackend): the kernels allowed.
        set_priority (bool): whether the list's order is the order of preference.

    Example:
        >>> from chainrule.nn.attention import SDPBackend, sdpa_kernel
        >>> with sdpa_kernel([SDPBackend.MATH]):
        ...     pass
    """
    listed = [backends] if isinstance(backends, SDPBackend) else list(backends)
    if not all(isinstance(backend, SDPBackend) for backend in listed):
        raise TypeError(f"sdpa_kernel: backends must be SDPBackend values, got {listed}")
    before = dict(_sdp_enabled)
    _sdp_enabled.update(
        flash=SDPBackend.FLASH_ATTENTION in listed,
        mem_efficient=SDPBackend.EFFICIENT_ATTENTION in listed,
        math=SDPBackend.MATH in listed,
        cudnn=SDPBackend.CUDNN_ATTENTION in listed,
    )
    try:
        yield
    finally:
        _sdp_enabled.update(before)
