"""Host arrays in shared memory, for `Tensor.share_memory_()` and `Module.share_memory()`:
Hogwild training, where worker processes update one model's parameters in place.

A shared array lives in a POSIX shared-memory block (`multiprocessing.shared_memory`). A
process that forks inherits the mapping; a process that receives the tensor pickled (spawn, a
`multiprocessing.Queue`) attaches to the block by its name (`attach`). Either way every
process writes the same memory, as PyTorch's shared storages. The process that made a block
unlinks its name when the array is garbage collected or at exit; the memory itself goes when
the last process that maps it lets go.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported on first use: multiprocessing costs `import chainrule` ~40 ms
    from multiprocessing import shared_memory

# id of each shared root array -> its block and where in the block the array starts, in this
# process (the arrays made here and the ones attached to); an entry goes with its array
_blocks: dict[int, tuple[shared_memory.SharedMemory, int]] = {}


def _forget(key: int, block: shared_memory.SharedMemory, owner: int) -> None:
    """When a shared root array goes (or at exit): the process that made the block removes
    its name (the memory stays while any process maps it); each process unmaps it."""
    _blocks.pop(key, None)
    if os.getpid() == owner:
        try:
            block.unlink()
        except FileNotFoundError:
            pass
    try:
        block.close()
    except BufferError:  # at exit, arrays over the memory may still be alive: stays mapped
        pass


def _track(
    array: np.ndarray, block: shared_memory.SharedMemory, start: int, owner: int
) -> np.ndarray:
    _blocks[id(array)] = (block, start)
    weakref.finalize(array, _forget, id(array), block, owner)
    return array


def share(array: Any) -> Any:
    """A copy of a NumPy `array` (C order) in a new shared-memory block; any other array (a
    device's) as it is."""
    if type(array) is not np.ndarray:
        return array
    from multiprocessing import shared_memory

    block = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
    shared = np.ndarray(array.shape, dtype=array.dtype, buffer=block.buf)
    shared[...] = array
    return _track(shared, block, 0, os.getpid())


def attach(name: str, offset: int, shape: tuple, strides: tuple, dtype: Any) -> np.ndarray:
    """The array at `offset` bytes into the shared block `name`, made by another process."""
    from multiprocessing import shared_memory

    # (Python registers the name with the resource tracker again: a process started by
    # multiprocessing shares its parent's tracker, for which that changes nothing)
    block = shared_memory.SharedMemory(name=name)
    array = np.ndarray(shape, dtype=dtype, buffer=block.buf, offset=offset, strides=strides)
    return _track(array, block, offset, -1)


def location(array: Any) -> tuple[str, int] | None:
    """(block name, byte offset) of an array in shared memory, None for any other array."""
    root = array
    while isinstance(root, np.ndarray):
        entry = _blocks.get(id(root))
        if entry is not None:
            block, start = entry
            offset = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            return block.name, start + offset
        root = root.base
    return None


def send_shared_by_name(tensor_type: type, reduce: Callable[[Any], tuple]) -> None:
    """Make multiprocessing's pickler (process arguments under spawn, queues, pipes) send
    tensors of `tensor_type` with `reduce`, as PyTorch registers its reductions: shared ones
    by name, others by value. Plain `pickle` keeps sending values."""
    from multiprocessing.reduction import ForkingPickler

    ForkingPickler.register(tensor_type, reduce)
