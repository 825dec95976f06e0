"""Keep freed array memory in the process for reuse, instead of handing it back to the OS.

An eager engine allocates and frees activation-sized arrays on every op. With glibc's default
malloc settings, a freed block of a few MiB is returned to the kernel (unmapped, or trimmed off
the top of the heap), so the next array of that size is fresh memory: every 4 KiB page of it
faults and is zeroed on first touch. Measured on the W7 transformer step (arrays of 2 MiB), that
page-fault traffic cost about a third of the step: 27 against 39 steps/s with memory kept.

PyTorch avoids the same cost with its own caching allocators; NumPy has none for large arrays.
glibc adapts on its own only halfway: after a large block is freed it serves that size from the
heap, but it still trims the heap's free top beyond twice that size, so memory churns anyway
(W7: 29 steps/s). So at import, on glibc, chainrule sets two `mallopt` thresholds: blocks below
32 MiB (the largest value glibc accepts) come from the heap, and up to 256 MiB of free memory
may stay at the top of the heap before it is trimmed (W7: 47-49 steps/s; the MLP and matmul
workloads within noise of the defaults). The cost is that a process's resident memory falls
back more slowly after a peak (never above the peak). Set CHAINRULE_MALLOC_TUNING=0 in the
environment before importing chainrule to keep the C library's defaults. A process-wide
setting: it also applies to other libraries' allocations in the same process.
"""

from __future__ import annotations

import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest accepted value on 64-bit systems
TRIM_THRESHOLD = 256 * 1024 * 1024

_tuned = False


def tune_allocator() -> bool:
    """Apply the thresholds once per process; True when they are in effect. Does nothing (and
    returns False) off glibc, or when CHAINRULE_MALLOC_TUNING=0."""
    global _tuned
    if _tuned:
        return True
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0":
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
        import ctypes  # already imported by NumPy

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, ValueError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _tuned = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _tuned
