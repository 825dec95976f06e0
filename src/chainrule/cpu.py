"""`chainrule.cpu` (torch.cpu): the CPU as a device module, and its `amp` namespace."""

from __future__ import annotations

from typing import Any

from chainrule.amp import cpu as amp


def is_available() -> bool:
    """Always True: the CPU is always there."""
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    """1, as PyTorch's: the CPU is one device."""
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device: Any = None) -> None:
    """Nothing to wait for: CPU work is synchronous."""


__all__ = ["amp", "current_device", "device_count", "is_available", "is_initialized", "synchronize"]
