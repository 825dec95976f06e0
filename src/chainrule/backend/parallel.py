"""Intra-op parallelism for host arrays, as PyTorch's `at::parallel_for`: one op's elementwise
work split into contiguous blocks, each block on a thread of its own.

NumPy runs every ufunc on one core, but it releases the GIL while the loop runs. So an op that
cuts its arrays into blocks and runs each block's ufunc calls on its own thread uses every core,
where PyTorch's CPU kernels use their intra-op threads; a transformer's exact GELU, softmax
and layer norm run about twice as fast on two cores. Matrix products need none of this: BLAS
has its own threads.

The split never changes a result: a block computes its elements with the same ufunc calls, in
the same order, that one call over the whole array would (row-wise ops split between rows),
so results are bit for bit the same with any number of threads (tests/test_parallel.py).

Threads: `set_threads` (chainrule.set_num_threads sets BLAS's and these), by default
OMP_NUM_THREADS as PyTorch reads it (or OPENBLAS_NUM_THREADS, which limits NumPy's other
threads), else the cores this process may run on. A
forked child (a DataLoader worker) starts without the pool and makes its own if it needs one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

# The fewest elements worth a block of their own: handing a block to a thread and waiting for
# it costs tens of microseconds, the time NumPy takes for a few ufunc passes over this many
# float32 numbers.
GRAIN = 1 << 16


def _default_threads() -> int:
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        configured = os.environ.get(variable, "")
        if configured.isdigit() and int(configured) > 0:
            return int(configured)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_inside = threading.local()  # set while a thread runs a block: a nested split runs in place


def set_threads(count: int) -> None:
    """Use `count` threads (the caller's included) for each split op from now on."""
    global _threads, _pool
    with _pool_lock:
        _threads = count
        if _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None


def get_threads() -> int:
    """How many threads each split op uses, the caller's included."""
    return _threads


def _worker_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_threads - 1, thread_name_prefix="chainrule-intra-op")
        return _pool


def _forget_pool_in_child() -> None:
    """A forked child has the pool object but none of its threads."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def _run_block(body: Callable[[int, int], None], start: int, stop: int) -> None:
    _inside.active = True
    try:
        body(start, stop)
    finally:
        _inside.active = False


def parallel_blocks(size: int, item_elements: int = 1) -> int:
    """How many blocks parallel_for cuts this work into (1: it runs in the caller)."""
    work = size * item_elements
    if work < 2 * GRAIN or _threads == 1 or getattr(_inside, "active", False):
        return 1
    return min(_threads, work // GRAIN)


def parallel_for(size: int, body: Callable[[int, int], None], item_elements: int = 1) -> None:
    """Call `body(start, stop)` on contiguous blocks covering range(size), concurrently: at
    most one block per thread, and at least GRAIN elements per block when each item (a row,
    say) has `item_elements`; the caller runs the first block itself. Returns when every
    block is done; an exception in any block is raised here, after all blocks have finished
    (so none still writes into the caller's arrays)."""
    blocks = parallel_blocks(size, item_elements)
    if blocks <= 1:
        body(0, size)
        return
    step = -(-size // blocks)
    pool = _worker_pool()
    futures: list[Future] = [
        pool.submit(_run_block, body, start, min(start + step, size))
        for start in range(step, size, step)
    ]
    try:
        _run_block(body, 0, step)
    finally:
        errors = [future.exception() for future in futures]
    for error in errors:
        if error is not None:
            raise error
