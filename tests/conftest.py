"""Suite-wide set-up that must happen before any test imports numba.

Each pytest-xdist worker gets a numba cache directory of its own. The kernels' disk cache
(`cache=True`, backend/jit_kernels.py) is one index per function beside its source; two
workers compiling the same kernel for different signatures at once (a float32 test on one, a
float64 test on the other, in a fresh clone with no cache yet) can each write entry 1 of that
index, so one of them later loads the other's machine code for its arguments and numba fails
to unbox them. Separate directories cannot race; a worker compiles what it uses once.
"""

from __future__ import annotations

import os
from pathlib import Path

_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = str(
        Path(__file__).resolve().parents[1] / ".numba-cache" / _worker
    )
