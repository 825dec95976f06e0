"""Process-wide settings PyTorch programs reach for: thread count, determinism, CUDA queries
(`compile` lives in chainrule.compiler). Each does what it says on this backend, or says why
it cannot."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from chainrule.backend import parallel
from chainrule.errors import BackendError

_deterministic = {"mode": False, "warn_only": False}


# ---- threads ------------------------------------------------------------------------------------


def set_num_threads(count: int) -> None:
    """The number of intra-op threads, as torch.set_num_threads: the threads BLAS uses for
    matrix products (through threadpoolctl), and those the host's elementwise ops split their
    large arrays over (backend/parallel.py).

    Args:
        count (int): a positive number of threads.

    Example:
        >>> import chainrule
        >>> before = chainrule.get_num_threads()
        >>> chainrule.set_num_threads(1)
        >>> chainrule.get_num_threads()
        1
        >>> chainrule.set_num_threads(before)
    """
    if int(count) < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {count}")
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(count), user_api="blas")
    parallel.set_threads(int(count))


def get_num_threads() -> int:
    """The number of intra-op threads, as torch.get_num_threads: what set_num_threads set, by
    default OMP_NUM_THREADS (or OPENBLAS_NUM_THREADS) if set, else the cores this process may
    run on.

    Returns:
        int: the thread count elementwise ops split over.

    Example:
        >>> import chainrule
        >>> chainrule.get_num_threads() >= 1
        True
    """
    return parallel.get_threads()


# PyTorch's other process-wide settings that programs set at start: recorded, no effect
# (NumPy runs one operation at a time and has no inter-op pool; it cannot flush denormals).
_settings = {"interop_threads": 1, "warn_always": False}


def set_num_interop_threads(count: int) -> None:
    """Record the number of threads for running independent operations in parallel (PyTorch's
    inter-op pool); chainrule runs operations one at a time, so it has no effect.

    Args:
        count (int): at least 1.

    Example:
        >>> import chainrule
        >>> chainrule.set_num_interop_threads(2)
        >>> chainrule.get_num_interop_threads()
        2
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(
            f"set_num_interop_threads: Expected positive number of threads, got {count}"
        )
    _settings["interop_threads"] = count


def get_num_interop_threads() -> int:
    """The count `set_num_interop_threads` recorded (1 until then: chainrule runs one
    operation at a time).

    Returns:
        int

    Example:
        >>> import chainrule
        >>> chainrule.get_num_interop_threads() >= 1
        True
    """
    return _settings["interop_threads"]


def set_warn_always(b: bool) -> None:
    """Record PyTorch's flag for repeating warnings that are otherwise shown once (Python's
    warnings filters decide what chainrule shows).

    Args:
        b (bool): the flag.

    Example:
        >>> import chainrule
        >>> chainrule.set_warn_always(False)
        >>> chainrule.is_warn_always_enabled()
        False
    """
    _settings["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    """The flag `set_warn_always` recorded.

    Returns:
        bool

    Example:
        >>> import chainrule
        >>> chainrule.is_warn_always_enabled() in (True, False)
        True
    """
    return _settings["warn_always"]


def set_flush_denormal(mode: bool) -> bool:
    """PyTorch's switch for flushing denormal floats to zero, which returns whether the CPU
    supports it; NumPy offers no such switch, so chainrule returns False and changes nothing.

    Args:
        mode (bool): flush (True) or not.

    Returns:
        bool: False: not supported.

    Example:
        >>> import chainrule
        >>> chainrule.set_flush_denormal(True)
        False
    """
    return False


# ---- NumPy's global random state ----------------------------------------------------------------


def seed_numpy_global(state: list[int]) -> None:
    """Seed NumPy's global random state (`np.random.seed`) with 32-bit words: what a PyTorch
    DataLoader worker does at start, so NumPy-based augmentation differs between workers."""
    np.random.seed(state)


# ---- determinism --------------------------------------------------------------------------------


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded for `are_deterministic_algorithms_enabled`. chainrule's CPU ops are already
    deterministic (scatter-adds sum in a fixed order), so nothing else changes.

    Args:
        mode (bool): whether deterministic algorithms are required.
        warn_only (bool): PyTorch warns instead of raising where no deterministic form exists.

    Example:
        >>> import chainrule
        >>> chainrule.use_deterministic_algorithms(True)
        >>> chainrule.are_deterministic_algorithms_enabled()
        True
        >>> chainrule.use_deterministic_algorithms(False)
    """
    _deterministic["mode"] = bool(mode)
    _deterministic["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """Whether `use_deterministic_algorithms(True)` is in force.

    Example:
        >>> import chainrule
        >>> chainrule.are_deterministic_algorithms_enabled()
        False
    """
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether deterministic mode was set with `warn_only=True`.

    Example:
        >>> import chainrule
        >>> chainrule.use_deterministic_algorithms(True, warn_only=True)
        >>> chainrule.is_deterministic_algorithms_warn_only_enabled()
        True
        >>> chainrule.use_deterministic_algorithms(False)
    """
    return _deterministic["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """PyTorch's other spelling of `use_deterministic_algorithms`: 0 / "default" (off),
    1 / "warn" (on, warn only), 2 / "error" (on).

    Args:
        debug_mode (str or int): the mode.

    Example:
        >>> import chainrule
        >>> chainrule.set_deterministic_debug_mode("warn")
        >>> chainrule.get_deterministic_debug_mode()
        1
        >>> chainrule.set_deterministic_debug_mode(0)
    """
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`, but "
                f"got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}"
        )
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """The mode `set_deterministic_debug_mode` (or `use_deterministic_algorithms`) set: 0, 1
    (warn only) or 2.

    Example:
        >>> import chainrule
        >>> chainrule.get_deterministic_debug_mode()
        0
    """
    if not _deterministic["mode"]:
        return 0
    return 1 if _deterministic["warn_only"] else 2


def init_num_threads() -> None:
    """PyTorch's per-thread set-up of its intra-op pool; chainrule's pool needs none.

    Example:
        >>> import chainrule
        >>> chainrule.init_num_threads()
    """


_matmul_precision = {"float32": "highest"}


def set_float32_matmul_precision(precision: str) -> None:
    """Recorded for `get_float32_matmul_precision`: NumPy's float32 matmuls are always full
    float32 ("highest"), so "high" and "medium" (TF32 or bfloat16 passes in PyTorch) change
    nothing. An unknown name warns and is ignored, as in PyTorch.

    Args:
        precision (str): 'highest', 'high' or 'medium'.

    Example:
        >>> import chainrule
        >>> chainrule.set_float32_matmul_precision("high")
        >>> chainrule.get_float32_matmul_precision()
        'high'
        >>> chainrule.set_float32_matmul_precision("highest")
    """
    if precision not in ("highest", "high", "medium"):
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            "setFloat32MatmulPrecision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _matmul_precision["float32"] = precision


def get_float32_matmul_precision() -> str:
    """What `set_float32_matmul_precision` last set ("highest" by default).

    Example:
        >>> import chainrule
        >>> chainrule.get_float32_matmul_precision()
        'highest'
    """
    return _matmul_precision["float32"]


# ---- CUDA, through CuPy -------------------------------------------------------------------------


def _cupy() -> Any:
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def cuda_device_count() -> int:
    """GPUs CuPy can see; 0 without CuPy or a driver.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.device_count() >= 0
        True
    """
    cupy = _cupy()
    if cupy is None:
        return 0
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # CuPy raises its own CUDARuntimeError when no driver is present
        return 0


def cuda_is_available() -> bool:
    """Whether a CUDA GPU can be used: CuPy imports and the driver reports at least one device.
    False, not an error, when either is missing.

    Example:
        >>> import chainrule
        >>> device = "cuda" if chainrule.cuda.is_available() else "cpu"
        >>> chainrule.ones(2, device=device).device.type == device
        True
    """
    return cuda_device_count() > 0


def cuda_synchronize() -> None:
    """Wait for the current GPU's queued work; nothing to wait for without one.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.synchronize()  # before reading a GPU timer; a no-op without a GPU
    """
    if cuda_is_available():
        _cupy().cuda.Device().synchronize()


def _require_cuda(what: str) -> Any:
    """CuPy, where a GPU is there to ask; else the error PyTorch gives without CUDA."""
    if not cuda_is_available():
        raise BackendError(f"cuda.{what}: no CUDA GPU is available (CuPy and a driver are needed)")
    return _cupy()


def cuda_current_device() -> int:
    """The index of the current GPU (where new CUDA tensors go); an error without a GPU.

    Example:
        >>> import chainrule
        >>> if chainrule.cuda.is_available():
        ...     index = chainrule.cuda.current_device()
        ... else:
        ...     index = 0
        >>> index >= 0
        True
    """
    return int(_require_cuda("current_device").cuda.Device().id)


def cuda_set_device(index: int) -> None:
    """Make GPU `index` current: where CuPy allocates and runs from now on.

    Args:
        index (int): the GPU to make current.

    Example:
        >>> import chainrule
        >>> if chainrule.cuda.is_available():
        ...     chainrule.cuda.set_device(0)
    """
    if int(index) >= 0:  # PyTorch ignores a negative index
        _require_cuda("set_device").cuda.Device(int(index)).use()


def cuda_get_device_name(index: int | None = None) -> str:
    """The name of GPU `index` (the current one when None), e.g. 'NVIDIA H100 80GB HBM3'.

    Args:
        index (int, optional): which GPU (the current one if None).

    Example:
        >>> import chainrule
        >>> if chainrule.cuda.is_available():
        ...     name = chainrule.cuda.get_device_name(0)
        ... else:
        ...     name = "no GPU"
        >>> isinstance(name, str)
        True
    """
    cupy = _require_cuda("get_device_name")
    number = cupy.cuda.Device().id if index is None else int(index)
    name = cupy.cuda.runtime.getDeviceProperties(number)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def cuda_memory_allocated() -> int:
    """Bytes held by live arrays in CuPy's memory pool (PyTorch: by live tensors); 0 without
    a GPU, as PyTorch returns.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.memory_allocated() >= 0
        True
    """
    cupy = _cupy()
    return int(cupy.get_default_memory_pool().used_bytes()) if cuda_is_available() else 0


def cuda_memory_reserved() -> int:
    """Bytes CuPy's pool holds from the driver, used or cached for reuse.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.memory_reserved() >= chainrule.cuda.memory_allocated()
        True
    """
    cupy = _cupy()
    return int(cupy.get_default_memory_pool().total_bytes()) if cuda_is_available() else 0


def cuda_empty_cache() -> None:
    """Return the pool's cached, unused blocks to the driver.

    Example:
        >>> import chainrule
        >>> chainrule.cuda.empty_cache()  # a no-op without a GPU
    """
    if cuda_is_available():
        _cupy().get_default_memory_pool().free_all_blocks()
