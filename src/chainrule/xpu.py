"""`torch.xpu` (Intel GPUs): chainrule has no XPU backend, and answers as a PyTorch built
without one does, so device-selection code (`"xpu" if torch.xpu.is_available() else ...`)
runs unchanged: nothing is available, seeding and cache calls do nothing, and what needs a
device raises PyTorch's AssertionError.

Example:
    >>> import chainrule
    >>> chainrule.xpu.is_available(), chainrule.xpu.device_count()
    (False, 0)
"""

from __future__ import annotations

__all__ = [
    "current_device",
    "device_count",
    "empty_cache",
    "get_device_name",
    "init",
    "is_available",
    "is_bf16_supported",
    "is_initialized",
    "manual_seed",
    "manual_seed_all",
    "max_memory_allocated",
    "memory_allocated",
    "seed",
    "seed_all",
    "set_device",
    "synchronize",
]


def _not_compiled() -> AssertionError:
    return AssertionError("Torch not compiled with XPU enabled")


def is_available() -> bool:
    """False: no XPU backend."""
    return False


def device_count() -> int:
    """0 XPU devices."""
    return 0


def is_initialized() -> bool:
    """False: there is nothing to initialise."""
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: no XPU device to ask."""
    return False


def memory_allocated(device: object = None) -> int:
    """0 bytes: no XPU memory."""
    return 0


def max_memory_allocated(device: object = None) -> int:
    """0 bytes: no XPU memory."""
    return 0


def empty_cache() -> None:
    """Nothing cached: does nothing, as on a PyTorch without XPU."""


def manual_seed(seed: int) -> None:
    """Ignored without an XPU, as PyTorch ignores it."""


def manual_seed_all(seed: int) -> None:
    """Ignored without an XPU, as PyTorch ignores it."""


def seed() -> None:
    """Ignored without an XPU, as PyTorch ignores it."""


def seed_all() -> None:
    """Ignored without an XPU, as PyTorch ignores it."""


def init() -> None:
    """Raises: there is no XPU to initialise."""
    raise _not_compiled()


def synchronize(device: object = None) -> None:
    """Raises: there is no XPU to wait for."""
    raise _not_compiled()


def current_device() -> int:
    """Raises: there is no XPU."""
    raise _not_compiled()


def get_device_name(device: object = None) -> str:
    """Raises: there is no XPU."""
    raise _not_compiled()


def set_device(device: object) -> None:
    """Raises: there is no XPU."""
    raise _not_compiled()
