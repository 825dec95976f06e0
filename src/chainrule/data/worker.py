"""The DataLoader's worker processes (as torch.utils.data._utils.worker): what runs in a worker,
`get_worker_info()`, and how batches and errors travel back to the main process.

A worker seeds itself as PyTorch's do: `seed = base_seed + worker_id` for chainrule's default
generator and Python's `random`, and NumPy's global state from `numpy_seed_state(base_seed,
worker_id)` (PyTorch's SeedSequence-style hash). Tensors travel as their arrays (pickled as raw
buffers) and are rebuilt in the main process, rather than as tensor objects (whose pickle is a
nested list of Python numbers).
"""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chainrule._tensor import Tensor
from chainrule.backend.runtime import seed_numpy_global, set_num_threads
from chainrule.data.fetch import IterableFetcher, MapFetcher
from chainrule.ops.creation import from_numpy, manual_seed

if TYPE_CHECKING:  # annotations only
    from chainrule.data.dataset import Dataset, IterableDataset

# How often (seconds) a waiting worker checks that the main process is alive, and the main
# process that its workers are.
STATUS_CHECK_INTERVAL = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    """Which worker this process is, as `get_worker_info()` returns it inside a DataLoader
    worker. Made by the DataLoader, not by the user.

    Args:
        id (int): the worker's index, 0 to num_workers - 1.
        num_workers (int): how many workers the loader runs.
        seed (int): base_seed + id, the seed of its chainrule and `random` generators
            (NumPy's global state is seeded from a hash of the same two numbers).
        dataset (Any): this worker's own copy of the dataset.

    Example:
        >>> from chainrule.data import DataLoader, IterableDataset, get_worker_info
        >>> class Shard(IterableDataset):
        ...     def __iter__(self):
        ...         info = get_worker_info()            # None in the main process
        ...         start, step = (0, 1) if info is None else (info.id, info.num_workers)
        ...         return iter(range(start, 6, step))
        >>> sorted(int(x) for x in DataLoader(Shard(), batch_size=None))
        [0, 1, 2, 3, 4, 5]
    """

    id: int
    num_workers: int
    seed: int
    dataset: Dataset | IterableDataset


_worker_info: list[WorkerInfo | None] = [None]  # this process's, set once when a worker starts


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its WorkerInfo (id, num_workers, seed, dataset); None in
    the main process. An IterableDataset's `__iter__` uses it to read only its worker's share.

    >>> from chainrule.data import get_worker_info
    >>> get_worker_info() is None
    True
    """
    return _worker_info[0]


def numpy_seed_state(base_seed: int, worker_id: int) -> list[int]:
    """The four 32-bit words a worker seeds NumPy's global state with: PyTorch's
    `_generate_state`, NumPy's SeedSequence hash of (worker_id, base_seed), so each worker's
    NumPy stream is distinct and the same as in PyTorch for the same base seed."""
    init_a, mult_a, init_b, mult_b = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    mix_mult_l, mix_mult_r, xshift, mask = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    hash_const = [init_a]

    def hash_word(value: int) -> int:
        value = (value ^ hash_const[0]) & mask
        hash_const[0] = (hash_const[0] * mult_a) & mask
        value = (value * hash_const[0]) & mask
        return (value ^ (value >> xshift)) & mask

    def mix(x: int, y: int) -> int:
        result = ((mix_mult_l * x) & mask) - ((mix_mult_r * y) & mask)
        result &= mask
        return (result ^ (result >> xshift)) & mask

    pool = [hash_word(word) for word in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_word(pool[i_src]))
    state = []
    const_b = init_b
    for word in pool:
        word = (word ^ const_b) & mask
        const_b = (const_b * mult_b) & mask
        word = (word * const_b) & mask
        state.append((word ^ (word >> xshift)) & mask)
    return state


# ---- what crosses between processes -------------------------------------------------------------


@dataclass(frozen=True)
class IterableEnd:
    """A worker's answer once its replica of an IterableDataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class Resume:
    """Sent to persistent workers at the start of each epoch after the first; echoed back."""


class WorkerError:
    """An exception raised in a worker, carried to the main process and raised there again,
    with the worker id and the original traceback in its message (as PyTorch's
    ExceptionWrapper)."""

    def __init__(self, worker_id: int) -> None:
        exc_type, exc, tb = sys.exc_info()
        self.exc_type = exc_type
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = f"in DataLoader worker process {worker_id}"

    def reraise(self) -> None:
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)  # KeyError would print its message's repr
        try:
            error = self.exc_type(message)
        except Exception:  # an exception type that cannot be built from one message
            raise RuntimeError(message) from None
        raise error


class _KeyErrorMessage(str):
    def __repr__(self) -> str:
        return self


class _TensorArray:
    """A CPU tensor on its way to the main process: its array and whether it requires grad."""

    __slots__ = ("array", "requires_grad")

    def __init__(self, array: Any, requires_grad: bool) -> None:
        self.array = array
        self.requires_grad = requires_grad

    def __reduce__(self) -> Any:
        return (_TensorArray, (self.array, self.requires_grad))


def _map_leaves(data: Any, convert: Any) -> Any:
    """`data` with `convert` applied to everything in its lists, tuples, namedtuples and dicts
    (found by exact type: other containers are leaves, pickled whole)."""
    kind = type(data)
    if kind is list:
        return [_map_leaves(item, convert) for item in data]
    if kind is tuple:
        return tuple(_map_leaves(item, convert) for item in data)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return kind(*(_map_leaves(item, convert) for item in data))
    if kind is dict:
        return {key: _map_leaves(value, convert) for key, value in data.items()}
    return convert(data)


def _tensor_to_array(leaf: Any) -> Any:
    if isinstance(leaf, Tensor) and leaf.device.type == "cpu":
        return _TensorArray(leaf.detach().numpy(), leaf.requires_grad)
    return leaf


def _array_to_tensor(leaf: Any) -> Any:
    if isinstance(leaf, _TensorArray):
        return from_numpy(leaf.array).requires_grad_(leaf.requires_grad)
    return leaf


def pack(data: Any) -> Any:
    """`data` with every CPU tensor in its lists, tuples, namedtuples and dicts replaced by its
    array, for the trip to the main process (a tensor's own pickle is a nested list)."""
    return _map_leaves(data, _tensor_to_array)


def unpack(data: Any) -> Any:
    """The inverse of `pack`: tensors rebuilt on the arrays that arrived."""
    return _map_leaves(data, _array_to_tensor)


# ---- the worker's loop --------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs, fixed for the life of the worker."""

    dataset: Any
    is_iterable: bool
    auto_collation: bool
    collate_fn: Any
    fast_rows: bool
    batch_size: int | None
    drop_last: bool
    base_seed: int
    worker_init_fn: Any
    num_workers: int


def _make_fetcher(spec: WorkerSpec) -> MapFetcher | IterableFetcher:
    if spec.is_iterable:
        return IterableFetcher(
            spec.dataset, spec.auto_collation, spec.collate_fn, spec.batch_size, spec.drop_last
        )
    return MapFetcher(spec.dataset, spec.auto_collation, spec.collate_fn, spec.fast_rows)


def worker_loop(
    spec: WorkerSpec, worker_id: int, index_queue: Any, result_queue: Any, done_event: Any
) -> None:
    """A worker process: seed, run `worker_init_fn`, then answer each `(task, indices)` from
    `index_queue` with `(task, batch)` on `result_queue` until told to stop (None), the main
    process dies, or Ctrl-C."""
    try:
        seed = spec.base_seed + worker_id
        set_num_threads(1)  # as PyTorch's workers: parallelism comes from the processes
        random.seed(seed)
        manual_seed(seed)
        seed_numpy_global(numpy_seed_state(spec.base_seed, worker_id))
        _worker_info[0] = WorkerInfo(worker_id, spec.num_workers, seed, spec.dataset)
        init_error = None
        fetcher = None
        try:
            if spec.worker_init_fn is not None:
                spec.worker_init_fn(worker_id)
            fetcher = _make_fetcher(spec)
        except Exception:
            init_error = WorkerError(worker_id)  # answered to the first task
        exhausted = False
        parent = os.getppid()
        while os.getppid() == parent:
            try:
                message = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if message is None:
                break
            if isinstance(message, Resume):
                result_queue.put((message, None))
                exhausted = False
                try:
                    fetcher = _make_fetcher(spec)
                except Exception:
                    init_error = WorkerError(worker_id)
                continue
            if done_event.is_set() or exhausted:
                continue
            task, indices = message
            if init_error is not None:
                answer, init_error = init_error, None
            else:
                try:
                    answer = pack(fetcher.fetch(indices))
                except StopIteration:
                    if not spec.is_iterable:
                        answer = WorkerError(worker_id)
                    else:
                        answer = IterableEnd(worker_id)
                        exhausted = True
                except Exception:
                    answer = WorkerError(worker_id)
            result_queue.put((task, answer))
            del answer, message
    except KeyboardInterrupt:
        pass  # the main process has it too and shuts the workers down
    if done_event.is_set():
        result_queue.cancel_join_thread()  # exit now: nobody will read what is still queued
        result_queue.close()
