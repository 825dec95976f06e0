"""`chainrule.cuda`: what PyTorch programs ask of `torch.cuda`, answered through CuPy.

Without CuPy or a GPU: `is_available()` is False, `device_count()` 0, memory figures 0 (and
`memory_stats()` empty), seeding silently ignored and `is_bf16_supported()` False, as in a
CPU-only PyTorch; asking for a device (`current_device`, `set_device`, `get_device_name`)
raises BackendError. With CuPy, memory figures are its default pool's: the peaks are the pool's
size (an upper bound on the live bytes' peak, exact for the reserved bytes until
`empty_cache`), since the pool records no peak of its own. `manual_seed` seeds the default
generator chainrule draws CUDA tensors from (`chainrule.manual_seed` seeds it too).
Tensors live on the current device: `set_device(n)` chooses it, and 'cuda' means it.
"""

from __future__ import annotations

import warnings as _warnings
from typing import Any as _Any

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
from chainrule.errors import OutOfMemoryError
from chainrule.ops.creation import device_generator
from chainrule.ops.creation import seed as _fresh_seed


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


def max_memory_allocated(device: _Any = None) -> int:  # noqa: ARG001 - one current device
    """The most bytes live arrays have held: 0 without a GPU, as PyTorch; with CuPy, its pool's
    size (an upper bound: the pool keeps no peak of the live bytes).

    Args:
        device (int or device, optional): PyTorch's choice of GPU; chainrule has one current.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.max_memory_allocated() >= chainrule.cuda.memory_allocated()
        True
    """
    return memory_reserved()


def max_memory_reserved(device: _Any = None) -> int:  # noqa: ARG001
    """The most bytes the pool has held from the driver since start or `empty_cache`: 0
    without a GPU.

    Args:
        device (int or device, optional): PyTorch's choice of GPU; chainrule has one current.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.max_memory_reserved() >= chainrule.cuda.memory_reserved()
        True
    """
    return memory_reserved()


def reset_peak_memory_stats(device: _Any = None) -> None:  # noqa: ARG001
    """Start the peaks afresh: with CuPy's pool they are its size, which this leaves (a no-op,
    as without a GPU).

    Args:
        device (int or device, optional): PyTorch's choice of GPU; chainrule has one current.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.reset_peak_memory_stats()
    """


def reset_max_memory_allocated(device: _Any = None) -> None:
    """PyTorch's older name, with its FutureWarning: `reset_peak_memory_stats`.

    Args:
        device (int or device, optional): PyTorch's choice of GPU; chainrule has one current.

    Example:
        >>> import warnings, chainrule
        >>> with warnings.catch_warnings(record=True):
        ...     chainrule.cuda.reset_max_memory_allocated()
    """
    _warnings.warn(
        "torch.cuda.reset_max_memory_allocated now calls torch.cuda.reset_peak_memory_stats, "
        "which resets /all/ peak memory stats.",
        FutureWarning,
        stacklevel=2,
    )
    reset_peak_memory_stats(device)


def memory_cached(device: _Any = None) -> int:  # noqa: ARG001
    """PyTorch's older name, with its FutureWarning: `memory_reserved`.

    Args:
        device (int or device, optional): PyTorch's choice of GPU; chainrule has one current.

    Example:
        >>> import warnings, chainrule
        >>> with warnings.catch_warnings(record=True):
        ...     chainrule.cuda.memory_cached() >= 0
        True
    """
    _warnings.warn(
        "`torch.cuda.memory_cached` has been renamed to `torch.cuda.memory_reserved`",
        FutureWarning,
        stacklevel=2,
    )
    return memory_reserved()


def max_memory_cached(device: _Any = None) -> int:  # noqa: ARG001
    """PyTorch's older name, with its FutureWarning: `max_memory_reserved`.

    Args:
        device (int or device, optional): PyTorch's choice of GPU; chainrule has one current.

    Example:
        >>> import warnings, chainrule
        >>> with warnings.catch_warnings(record=True):
        ...     chainrule.cuda.max_memory_cached() >= 0
        True
    """
    _warnings.warn(
        "`torch.cuda.max_memory_cached` has been renamed to `torch.cuda.max_memory_reserved`",
        FutureWarning,
        stacklevel=2,
    )
    return max_memory_reserved()


def memory_stats(device: _Any = None) -> dict[str, int]:  # noqa: ARG001
    """The allocator's figures under PyTorch's keys: empty without a GPU, as PyTorch; with
    CuPy, the current and peak allocated and reserved bytes of its pool.

    Args:
        device (int or device, optional): PyTorch's choice of GPU; chainrule has one current.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.is_available() or chainrule.cuda.memory_stats() == {}
        True
    """
    if not is_available():
        return {}
    return {
        "allocated_bytes.all.current": memory_allocated(),
        "allocated_bytes.all.peak": max_memory_allocated(),
        "reserved_bytes.all.current": memory_reserved(),
        "reserved_bytes.all.peak": max_memory_reserved(),
    }


def seed() -> None:
    """Seed the current GPU's generator with a fresh random number; ignored without CUDA.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.seed()
    """
    if is_available():
        device_generator(cupy_backend()).manual_seed(_fresh_seed())


seed_all = seed  # one current device: the same generator


def get_rng_state_all() -> list:
    """The state of every GPU's generator: one per device, [] without CUDA, as PyTorch.

    Example:
        >>> import chainrule
        >>> len(chainrule.cuda.get_rng_state_all()) == chainrule.cuda.device_count()
        True
    """
    return [device_generator(cupy_backend()).get_state()] if is_available() else []


def set_rng_state_all(new_states: list) -> None:
    """Restore what `get_rng_state_all` returned (nothing to do without CUDA).

    Args:
        new_states (list): one state per device.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.set_rng_state_all(chainrule.cuda.get_rng_state_all())
    """
    if is_available():
        for state in new_states[:1]:
            device_generator(cupy_backend()).set_state(state)


def is_bf16_supported(including_emulation: bool = True) -> bool:  # noqa: ARG001
    """Whether tensors on the GPU can be bfloat16: False. Without a GPU that is PyTorch's
    answer; with one, chainrule's bfloat16 is ml_dtypes' NumPy dtype, which CuPy arrays do
    not have, so a program choosing its autocast dtype by this picks float16 there.

    Args:
        including_emulation (bool): PyTorch's switch for emulated support.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.is_bf16_supported()
        False
    """
    return False


def get_arch_list() -> list[str]:
    """The CUDA architectures the library was built for: chainrule builds none (CuPy compiles
    its kernels for the GPU at hand), so [] as in a CPU-only PyTorch.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.get_arch_list()
        []
    """
    return []


__all__ = [
    "set_rng_state_all",
    "seed_all",
    "seed",
    "reset_peak_memory_stats",
    "reset_max_memory_allocated",
    "memory_stats",
    "memory_cached",
    "max_memory_reserved",
    "max_memory_cached",
    "max_memory_allocated",
    "is_bf16_supported",
    "get_rng_state_all",
    "get_arch_list",
    "amp",
    "OutOfMemoryError",
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
