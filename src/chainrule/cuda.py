"""`chainrule.cuda`: what PyTorch programs ask of `torch.cuda`, answered through CuPy.

Without CuPy or a GPU: `is_available()` is False, `device_count()` 0, memory figures 0 and
seeding silently ignored, as in PyTorch; asking for a device (`current_device`,
`set_device`, `get_device_name`) raises BackendError. `manual_seed` seeds the default
generator chainrule draws CUDA tensors from (`chainrule.manual_seed` seeds it too).
Tensors live on the current device: `set_device(n)` chooses it, and 'cuda' means it.
"""

from __future__ import annotations

from chainrule.amp import cuda as amp
from chainrule.backend import cupy_backend
from chainrule.backend.runtime import cuda_current_device as current_device
from chainrule.backend.runtime import cuda_device_count as device_count
from chainrule.backend.runtime import cuda_empty_cache as empty_cache
from chainrule.backend.runtime import cuda_get_device_name as get_device_name
from chainrule.backend.runtime import cuda_is_available as is_available
from chainrule.backend.runtime import cuda_memory_allocated as memory_allocated
from chainrule.backend.runtime import cuda_memory_reserved as memory_reserved
from chainrule.backend.runtime import cuda_set_device as set_device
from chainrule.backend.runtime import cuda_synchronize as synchronize
from chainrule.ops.creation import device_generator


def manual_seed(seed: int) -> None:
    """Seed the CUDA default generator; silently ignored without CUDA, as PyTorch does.

    Args:
        seed (int): the seed, an int in [-2**63, 2**64).

    Example:
        >>> import chainrule
        >>> chainrule.cuda.manual_seed(0)
    """
    if is_available():
        device_generator(cupy_backend()).manual_seed(seed)


manual_seed_all = manual_seed  # one current device: the same generator


def initial_seed() -> int:
    """The seed of the current GPU's random generator (set by `manual_seed` or at first use).

    Example:
        >>> import chainrule
        >>> chainrule.cuda.manual_seed(7)
        >>> not chainrule.cuda.is_available() or chainrule.cuda.initial_seed() == 7
        True
    """
    return device_generator(cupy_backend()).initial_seed()


def is_initialized() -> bool:
    """Whether CUDA can be used: chainrule initialises it on first use, so `is_available()`.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.is_initialized() == chainrule.cuda.is_available()
        True
    """
    return is_available()


__all__ = [
    "amp",
    "current_device",
    "device_count",
    "empty_cache",
    "get_device_name",
    "initial_seed",
    "is_available",
    "is_initialized",
    "manual_seed",
    "manual_seed_all",
    "memory_allocated",
    "memory_reserved",
    "set_device",
    "synchronize",
]
