"""Process-wide settings PyTorch programs reach for: thread count, determinism, CUDA queries,
and `compile`. Each does what it says on this backend, or says why it cannot."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

_deterministic = {"mode": False, "warn_only": False}


# ---- threads ------------------------------------------------------------------------------------


def set_num_threads(count: int) -> None:
    """The number of threads BLAS uses for matrix products (NumPy's only multi-threaded work),
    as torch.set_num_threads sets its intra-op threads. Through threadpoolctl."""
    if int(count) < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {count}")
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(count), user_api="blas")


def get_num_threads() -> int:
    """The number of threads BLAS uses (the largest, if NumPy loaded more than one BLAS)."""
    from threadpoolctl import threadpool_info

    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts) if counts else (os.cpu_count() or 1)


# ---- determinism --------------------------------------------------------------------------------


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded for `are_deterministic_algorithms_enabled`. chainrule's CPU ops are already
    deterministic (scatter-adds sum in a fixed order), so nothing else changes."""
    _deterministic["mode"] = bool(mode)
    _deterministic["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic["warn_only"]


# ---- compile ------------------------------------------------------------------------------------


def compile(model: Callable | None = None, **options: Any) -> Any:  # noqa: A001 - PyTorch's name
    """torch.compile's signature; chainrule has no compiler, so the model or function comes back
    unchanged (compiling never changes results, only speed). Usable as a decorator, with or
    without options."""
    if model is None:
        return lambda function: function
    return model


# ---- CUDA, through CuPy -------------------------------------------------------------------------


def _cupy() -> Any:
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def cuda_device_count() -> int:
    """GPUs CuPy can see; 0 without CuPy or a driver."""
    cupy = _cupy()
    if cupy is None:
        return 0
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # CuPy raises its own CUDARuntimeError when no driver is present
        return 0


def cuda_is_available() -> bool:
    return cuda_device_count() > 0


def cuda_synchronize() -> None:
    """Wait for the current GPU's queued work; nothing to wait for without one."""
    if cuda_is_available():
        _cupy().cuda.Device().synchronize()


def cuda_manual_seed(seed: int) -> None:
    """Seed CuPy's generator; silently ignored without CUDA, as PyTorch does."""
    if cuda_is_available():
        _cupy().random.seed(int(seed))
