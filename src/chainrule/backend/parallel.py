"""Intra-op parallelism for host arrays, as PyTorch's `at::parallel_for`: one op's elementwise
work split into contiguous blocks, each block on a thread of its own.

NumPy runs every ufunc on one core, but it releases the GIL while the loop runs. So an op that
cuts its arrays into blocks and runs each block's ufunc calls on its own thread uses every core,
where PyTorch's CPU kernels use their intra-op threads; a transformer's exact GELU, softmax
and layer norm run about twice as fast on two cores. chainrule's matrix products run on the
same threads (`matmul`, below), with BLAS held at one thread while they do: OpenBLAS's own
workers would otherwise keep polling the cores the elementwise blocks need.

The split never changes a result: a block computes its elements with the same ufunc calls, in
the same order, that one call over the whole array would (row-wise ops split between rows),
so results are bit for bit the same with any number of threads (tests/test_parallel.py).

Threads: `set_threads` (chainrule.set_num_threads sets BLAS's and these), by default
OMP_NUM_THREADS as PyTorch reads it (or OPENBLAS_NUM_THREADS, which limits NumPy's other
threads), else the cores this process may run on. A
forked child (a DataLoader worker) starts without the pool and makes its own if it needs one.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

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


def parallel_blocks(size: int, item_elements: int = 1, grain: int | None = None) -> int:
    """How many blocks parallel_for cuts this work into (1: it runs in the caller)."""
    grain = GRAIN if grain is None else grain
    work = size * item_elements
    if work < 2 * grain or _threads == 1 or getattr(_inside, "active", False):
        return 1
    return min(_threads, size, work // grain)


def parallel_for(
    size: int, body: Callable[[int, int], None], item_elements: int = 1, grain: int | None = None
) -> None:
    """Call `body(start, stop)` on contiguous blocks covering range(size), concurrently: at
    most one block per thread, and at least `grain` (GRAIN by default) elements per block
    when each item (a row, say) has `item_elements`; the caller runs the first block itself.
    Returns when every block is done; an exception in any block is raised here, after all
    blocks have finished (so none still writes into the caller's arrays)."""
    blocks = parallel_blocks(size, item_elements, grain)
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


# ---- matrix products on the same threads -----------------------------------------------------
#
# OpenBLAS keeps a thread pool of its own, and after each product its workers poll for new
# work for about 2^28 cycles (OPENBLAS_THREAD_TIMEOUT), holding the cores the blocks above
# need: on two cores a split GELU or softmax then ran no faster than unsplit. So chainrule's
# own products run here, on the intra-op threads, each block one BLAS call with BLAS set to a
# single thread for the duration (and restored after, so NumPy code of the program's own keeps
# its BLAS threads): one pool for all of an op's work, as PyTorch's intra-op threads do.

# The fewest multiply-adds worth splitting a product for (a block costs tens of microseconds
# to hand over; BLAS does this many in about that time).
MATMUL_GRAIN = 1 << 21

# OpenBLAS runs a product of at most this many multiply-adds on one thread anyway
# (GEMM_MULTITHREAD_THRESHOLD, 4 x 65536): smaller ones need BLAS held at nothing.
BLAS_ONE_THREAD_BELOW = 1 << 18

_blas: list | None = None  # threadpoolctl's controllers of NumPy's BLAS, found on first use


def _blas_controllers() -> list:
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _blas


def matmul(a: Any, b: Any, out: Any = None) -> Any:
    """np.matmul(a, b, out=out) for matrices and stacks of them (broadcast as NumPy does),
    split over the intra-op threads: by the first stack dimension, else by rows of `a` (or
    columns of `b` when it has more), each block one BLAS call with NumPy's BLAS held at one
    thread meanwhile. Every output element is the same dot product as in one
    single-threaded call."""
    if a.ndim < 2 or b.ndim < 2:
        return np.matmul(a, b, out=out)
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    work = math.prod(stack) * m * n * k
    if _threads == 1 or work <= BLAS_ONE_THREAD_BELOW or getattr(_inside, "active", False):
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((*stack, m, n), dtype=np.result_type(a, b))
    if math.prod(stack) == 1:  # a stack of one (a convolution's single group) is a matrix
        a, b, whole = a.reshape(m, k), b.reshape(k, n), out
        out, stack = out.reshape(m, n), ()
    else:
        whole = out
    if work < 2 * MATMUL_GRAIN or (stack and stack[0] == 1):
        # one call, BLAS still held at one thread: waking OpenBLAS's workers for it would
        # leave them polling on the cores the next op splits its work over
        size, item = 1, 1

        def block(start: int, stop: int) -> None:
            np.matmul(a, b, out=out)

    elif stack:

        def lead(x: Any, start: int, stop: int) -> Any:
            """x's part of the block: sliced where x has the stack's first dimension."""
            if x.ndim - 2 == len(stack) and x.shape[0] == stack[0]:
                return x[start:stop]
            return x  # x broadcasts along it

        size, item = stack[0], math.prod(stack[1:]) * m * n * k

        def block(start: int, stop: int) -> None:
            np.matmul(lead(a, start, stop), lead(b, start, stop), out=out[start:stop])

    elif m >= n:
        size, item = m, n * k

        def block(start: int, stop: int) -> None:
            np.matmul(a[start:stop], b, out=out[start:stop])

    else:
        size, item = n, m * k

        def block(start: int, stop: int) -> None:
            np.matmul(a, b[:, start:stop], out=out[:, start:stop])

    _hold_blas()
    try:
        parallel_for(size, block, item, MATMUL_GRAIN)
    finally:
        _release_blas()
    return whole


# Products running now with BLAS held at one thread, and BLAS's thread counts from before the
# first of them: products on several of the program's threads at once hold BLAS together, and
# the last to finish gives it back.
_held = 0
_held_lock = threading.Lock()
_blas_threads_before: list = []


def _hold_blas() -> None:
    global _held, _blas_threads_before
    with _held_lock:
        if _held == 0:
            controllers = _blas_controllers()
            _blas_threads_before = [controller.num_threads for controller in controllers]
            for controller in controllers:
                controller.set_num_threads(1)
        _held += 1


def _release_blas() -> None:
    global _held
    with _held_lock:
        _held -= 1
        if _held == 0:
            for controller, threads in zip(_blas_controllers(), _blas_threads_before):
                controller.set_num_threads(threads)
