"""`chainrule.accelerator`: PyTorch's device-agnostic `torch.accelerator`, which newer
programs (PyTorch's own examples among them) ask which device to train on. chainrule's one
accelerator is CUDA, through CuPy: `chainrule.cuda` answers each question.

>>> import chainrule
>>> import chainrule.accelerator
>>> device = (
...     chainrule.accelerator.current_accelerator()
...     if chainrule.accelerator.is_available()
...     else chainrule.device("cpu")
... )
>>> device.type in ("cpu", "cuda")
True
"""

from __future__ import annotations

from chainrule import cuda as _cuda
from chainrule.backend import device as _device

__all__ = [
    "current_accelerator",
    "current_device_idx",
    "current_device_index",
    "device_count",
    "empty_cache",
    "is_available",
    "memory_allocated",
    "memory_reserved",
    "set_device_idx",
    "set_device_index",
    "synchronize",
]


def is_available() -> bool:
    """Whether an accelerator (a CUDA GPU, through CuPy) can be used.

    Example:
        >>> import chainrule.accelerator
        >>> chainrule.accelerator.is_available() == chainrule.cuda.is_available()
        True
    """
    return _cuda.is_available()


def current_accelerator(check_available: bool = False) -> _device | None:
    """The accelerator's device type, `device('cuda')`, or None where there is none (with
    `check_available`, also None when it cannot be used right now).

    Args:
        check_available (bool): return None unless the accelerator is available.

    Example:
        >>> import chainrule.accelerator
        >>> accelerator = chainrule.accelerator.current_accelerator()
        >>> accelerator is None or accelerator.type == "cuda"
        True
    """
    return _device("cuda") if _cuda.is_available() else None


def device_count() -> int:
    """How many accelerators there are (0 without one).

    Example:
        >>> import chainrule.accelerator
        >>> chainrule.accelerator.device_count() >= 0
        True
    """
    return _cuda.device_count()


def current_device_index() -> int:
    """The index of the current accelerator (BackendError without one).

    Example:
        >>> import chainrule.accelerator
        >>> not chainrule.accelerator.is_available() or (
        ...     chainrule.accelerator.current_device_index() >= 0
        ... )
        True
    """
    return _cuda.current_device()


def set_device_index(device: _device | str | int) -> None:
    """Make `device` the current accelerator (BackendError without one).

    Args:
        device (device, str or int): 'cuda:1', 1, ...

    Example:
        >>> import chainrule.accelerator
        >>> if chainrule.accelerator.is_available():
        ...     chainrule.accelerator.set_device_index(0)
    """
    _cuda.set_device(device)


def synchronize(device: _device | str | int | None = None) -> None:
    """Wait for the accelerator's queued work (nothing to wait for without one).

    Args:
        device (device, str or int, optional): ignored: chainrule has one current device.

    Example:
        >>> import chainrule.accelerator
        >>> chainrule.accelerator.synchronize()
    """
    if _cuda.is_available():
        _cuda.synchronize()


def empty_cache() -> None:
    """Return the accelerator's cached memory blocks to it.

    Example:
        >>> import chainrule.accelerator
        >>> chainrule.accelerator.empty_cache()
    """
    _cuda.empty_cache()


def memory_allocated(device_index: int | None = None) -> int:
    """Bytes the accelerator's tensors occupy (0 without one).

    Args:
        device_index (int, optional): ignored: the current device is asked.

    Example:
        >>> import chainrule.accelerator
        >>> chainrule.accelerator.memory_allocated() >= 0
        True
    """
    return _cuda.memory_allocated()


def memory_reserved(device_index: int | None = None) -> int:
    """Bytes the accelerator's allocator holds (0 without one).

    Args:
        device_index (int, optional): ignored: the current device is asked.

    Example:
        >>> import chainrule.accelerator
        >>> chainrule.accelerator.memory_reserved() >= 0
        True
    """
    return _cuda.memory_reserved()


current_device_idx = current_device_index  # PyTorch's older names
set_device_idx = set_device_index
