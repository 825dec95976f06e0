"""DataLoader: batches of samples from a dataset, collated into tensors (torch.utils.data)."""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.context
import os
import queue
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from chainrule.backend import dtypes
from chainrule.backend.runtime import cuda_is_available
from chainrule.data.collate import default_collate, default_convert
from chainrule.data.dataset import IterableDataset
from chainrule.data.fetch import IterableFetcher, MapFetcher
from chainrule.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from chainrule.data.worker import (
    STATUS_CHECK_INTERVAL,
    IterableEnd,
    Resume,
    WorkerError,
    WorkerSpec,
    unpack,
    worker_loop,
)
from chainrule.ops.creation import Generator, randint

if TYPE_CHECKING:  # annotations only
    from chainrule.data.dataset import Dataset, IterableDataset


def _draw_base_seed(generator: Generator | None) -> int:
    """The seed of one epoch's workers, drawn (even without workers, as PyTorch does, so the
    random stream is the same with and without them) from `generator` or the default one."""
    return int(randint(0, 2**63, (), dtype=dtypes.int64, generator=generator))


class DataLoader:
    """Iterate over `dataset` in batches, as `torch.utils.data.DataLoader`.

    `shuffle=True` visits a new random order every epoch, drawn from `generator` (or from the
    default generator, so `chainrule.manual_seed` makes it reproducible). `batch_size=None`
    turns batching off. `num_workers > 0` loads batches in that many worker processes
    (`multiprocessing`, with the platform's default start method unless
    `multiprocessing_context` names one): the sampler runs in the main process and the batches
    come back in its order (`in_order=False`: as they are ready), at most `prefetch_factor`
    per worker ahead; an IterableDataset is replicated in every worker (each reads its share
    through `get_worker_info()`). Workers are seeded as PyTorch's (chainrule.data.worker) and
    live for one epoch, or as long as the loader with `persistent_workers=True`. `pin_memory`
    is accepted and does nothing: there is no pinned host memory to copy from.

    Args:
        dataset (Dataset or IterableDataset): anything with `__getitem__` and `__len__`, or
            an iterable dataset.
        batch_size (int, optional): samples per batch (default 1); None yields single
            samples, uncollated.
        shuffle (bool, optional): a new random order every epoch (not for an
            IterableDataset, nor with `sampler`).
        sampler (Sampler or iterable, optional): the order of the indices, instead of
            sequential or shuffled.
        batch_sampler (Sampler or iterable, optional): yields lists of indices, one per
            batch; excludes batch_size, shuffle, sampler and drop_last.
        num_workers (int): worker processes (default 0: load in the main process).
        collate_fn (Callable, optional): turns a list of samples into a batch
            (`default_collate`, or `default_convert` without batching).
        pin_memory (bool): accepted for PyTorch's signature; nothing to pin (a warning
            without an accelerator).
        drop_last (bool): drop the last batch when it is smaller than batch_size.
        timeout (float): seconds to wait for a worker's batch before a RuntimeError
            (default 0: forever).
        worker_init_fn (Callable, optional): called as `worker_init_fn(worker_id)` in each
            worker after seeding, before loading.
        multiprocessing_context (str or context, optional): 'fork', 'spawn' or
            'forkserver' (or a context object); the platform's default if None.
        generator (Generator, optional): the random stream of shuffling and of the
            workers' base seed.
        prefetch_factor (int, optional): batches each worker loads ahead (default 2 with
            workers; must be None without).
        persistent_workers (bool): keep the workers between epochs (needs workers).
        pin_memory_device (str): accepted for PyTorch's signature; ignored.
        in_order (bool): yield batches in the sampler's order (True) or as they are ready.

    Example:
        >>> import chainrule
        >>> from chainrule.data import DataLoader, TensorDataset
        >>> ds = TensorDataset(chainrule.arange(10.0).reshape(5, 2), chainrule.arange(5))
        >>> loader = DataLoader(ds, batch_size=2)
        >>> len(loader), [tuple(y.tolist()) for _, y in loader]
        (3, [(0, 1), (2, 3), (4,)])
    """

    def __init__(
        self,
        dataset: Dataset | IterableDataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable[list] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | multiprocessing.context.BaseContext | None = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to "
                "None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.generator = generator
        self.persistent_workers = persistent_workers
        self._is_iterable = isinstance(dataset, IterableDataset)
        self._iterator: _MultiProcessIter | None = None

        if self._is_iterable:
            if shuffle not in (None, False):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but "
                    f"got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but "
                    f"got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None and not self._is_iterable:
            if shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._is_iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        auto_collation = batch_sampler is not None or (self._is_iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if auto_collation else default_convert
        self.collate_fn = collate_fn
        self._auto_collation = auto_collation
        self._warn_if_too_many_workers()

    @property
    def multiprocessing_context(self) -> multiprocessing.context.BaseContext | None:
        """The multiprocessing context workers start from (None: the platform's default)."""
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context: Any) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading "
                    f"(num_workers > 0), but got num_workers={self.num_workers}"
                )
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(
                        "multiprocessing_context option should specify a valid start method in "
                        f"{methods!r}, but got multiprocessing_context={context!r}"
                    )
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a "
                    "string specifying the start method, but got "
                    f"multiprocessing_context={context}"
                )
        self._multiprocessing_context = context

    def _warn_if_too_many_workers(self) -> None:
        """PyTorch's warning when more workers are asked for than this process has CPUs."""
        if self.num_workers == 0:
            return
        if hasattr(os, "sched_getaffinity"):
            cpus = len(os.sched_getaffinity(0))
        else:
            cpus = os.cpu_count()
        if cpus is None or self.num_workers > cpus:
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. Our "
                f"suggested max number of worker in current system is {cpus}, which is smaller "
                "than what this DataLoader is going to create. Please be aware that excessive "
                "worker creation might get DataLoader running slow or even freeze, lower the "
                "worker number to avoid potential slowness/freeze if necessary.",
                UserWarning,
                stacklevel=3,
            )

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator.reset(self)
        return self._iterator

    def _index_iterator(self) -> Iterator[Any]:
        """What the main process hands out per batch: index lists from the batch sampler,
        single indices from the sampler, or None for an IterableDataset (each worker reads its
        own replica)."""
        if self._is_iterable:
            return itertools.repeat(None)
        return iter(self._index_sampler())

    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def _fetcher(self) -> MapFetcher | IterableFetcher:
        if self._is_iterable:
            return IterableFetcher(
                self.dataset, self._auto_collation, self.collate_fn, self.batch_size, self.drop_last
            )
        fast_rows = self.collate_fn is default_collate
        return MapFetcher(self.dataset, self._auto_collation, self.collate_fn, fast_rows)

    def __len__(self) -> int:
        if self._is_iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    return length // self.batch_size
                return (length + self.batch_size - 1) // self.batch_size
            return length
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"drop_last={self.drop_last}, sampler={type(self.sampler).__name__})"
        )


class _LoaderIter:
    """One pass over a DataLoader; the base seed of its workers is drawn when it starts."""

    def __init__(self, loader: DataLoader) -> None:
        self._indices = loader._index_iterator()
        self._base_seed = _draw_base_seed(loader.generator)
        self._index_sampler = None if loader._is_iterable else loader._index_sampler()
        if loader.pin_memory and not cuda_is_available():
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device "
                "pinned memory won't be used.",
                UserWarning,
                stacklevel=3,
            )

    def __iter__(self) -> _LoaderIter:
        return self

    def __len__(self) -> int:
        if self._index_sampler is None:
            raise TypeError("the iterator of a DataLoader over an IterableDataset has no len()")
        return len(self._index_sampler)


class _SingleProcessIter(_LoaderIter):
    """Batches loaded in the main process (num_workers=0)."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._fetch = loader._fetcher().fetch

    def __next__(self) -> Any:
        return self._fetch(next(self._indices))  # StopIteration from either ends the pass


class _MultiProcessIter(_LoaderIter):
    """Batches loaded by worker processes; PyTorch's _MultiProcessingDataLoaderIter protocol.

    Task `k` (the k-th index list) goes to the next active worker in turn, at most
    `prefetch_factor * num_workers` outstanding; answers arrive on one result queue and are
    held until their turn (`in_order`). A worker's exception comes back as a WorkerError and
    is raised here. Workers stop at the end of the pass, unless persistent, and in any case
    when the iterator is deleted (a `break`, an exception): `__del__` shuts them down.
    """

    _shutdown = True  # until there are workers to shut down

    def __init__(self, loader: DataLoader) -> None:
        if loader.prefetch_factor <= 0:
            raise ValueError("prefetch_factor must be greater than 0 to load with workers")
        super().__init__(loader)
        self._workers: list[Any] = []
        self._num_workers = loader.num_workers
        self._max_tasks = loader.prefetch_factor * loader.num_workers
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._timeout = loader.timeout
        context = loader.multiprocessing_context or multiprocessing.get_context()
        spec = WorkerSpec(
            dataset=loader.dataset,
            is_iterable=loader._is_iterable,
            auto_collation=loader._auto_collation,
            collate_fn=loader.collate_fn,
            fast_rows=loader.collate_fn is default_collate,
            batch_size=loader.batch_size,
            drop_last=loader.drop_last,
            base_seed=self._base_seed,
            worker_init_fn=loader.worker_init_fn,
            num_workers=loader.num_workers,
        )
        self._result_queue = context.Queue()
        self._done_event = context.Event()
        self._index_queues = []
        self._shutdown = False
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()
                args = (spec, worker_id, index_queue, self._result_queue, self._done_event)
                worker = context.Process(target=worker_loop, args=args, daemon=True)
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
        except BaseException:  # a worker that cannot start (unpicklable dataset under spawn)
            self._shutdown_workers()
            raise
        self.reset(loader, first=True)

    def reset(self, loader: DataLoader, first: bool = False) -> None:
        """Start a pass: for persistent workers after the first, a new sampler pass and a
        Resume to every worker (answers still queued from an abandoned pass are dropped)."""
        self._send_idx = 0  # the next task to send
        self._rcvd_idx = 0  # the next task to return
        self._task_info: dict[int, tuple] = {}  # task -> (worker,) or (worker, answer)
        self._outstanding = 0
        self._active = [True] * self._num_workers
        self._tasks_per_worker = [0] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first:
            self._indices = loader._index_iterator()
            for index_queue in self._index_queues:
                index_queue.put(Resume())
            waiting = self._num_workers
            while waiting > 0:
                task, _ = self._get_data()
                if isinstance(task, Resume):
                    waiting -= 1
        for _ in range(self._max_tasks):
            self._try_put_index()

    def __next__(self) -> Any:
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    worker_id = info[0]
                    if len(info) == 2 or self._active[worker_id]:
                        break  # answered, or its worker may still answer
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:  # arrived earlier, out of turn
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process(data, worker_id)
            task, data = self._get_data()
            self._outstanding -= 1
            if isinstance(data, IterableEnd):
                self._active[data.worker_id] = False
                if not self._persistent:
                    self._index_queues[data.worker_id].put(None)
                self._try_put_index()
                continue
            if task != self._rcvd_idx:
                if not self._in_order:
                    worker_id = self._task_info.pop(task)[0]
                    return self._process(data, worker_id)
                self._task_info[task] += (data,)
            else:
                worker_id = self._task_info.pop(task)[0]
                self._rcvd_idx += 1
                return self._process(data, worker_id)

    def _try_put_index(self) -> None:
        try:
            index = next(self._indices)
        except StopIteration:
            return
        active = [w for w in range(self._num_workers) if self._active[w]]
        if not active:
            return
        for _ in range(self._num_workers):  # the next active worker in turn
            worker_id = next(self._worker_cycle)
            if not self._active[worker_id]:
                continue
            share = self._max_tasks // len(active)
            if self._in_order or self._tasks_per_worker[worker_id] < share:
                break
        else:  # out of order, every worker at its share: the least busy one
            worker_id = min(active, key=self._tasks_per_worker.__getitem__)
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._tasks_per_worker[worker_id] += 1
        self._outstanding += 1
        self._send_idx += 1

    def _process(self, data: Any, worker_id: int) -> Any:
        self._tasks_per_worker[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, WorkerError):
            data.reraise()
        return unpack(data)

    def _get_data(self) -> Any:
        if self._timeout > 0:
            found, data = self._try_get_data(self._timeout)
            if not found:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            return data
        while True:
            found, data = self._try_get_data(STATUS_CHECK_INTERVAL)
            if found:
                return data

    def _try_get_data(self, timeout: float) -> tuple[bool, Any]:
        try:
            return True, self._result_queue.get(timeout=timeout)
        except queue.Empty:
            dead = [
                worker
                for worker_id, worker in enumerate(self._workers)
                if self._active[worker_id] and not worker.is_alive()
            ]
            if dead:
                for worker in dead:
                    self._active[self._workers.index(worker)] = False
                pids = ", ".join(str(worker.pid) for worker in dead)
                error = f"DataLoader worker (pid(s) {pids}) exited unexpectedly"
                raise RuntimeError(error) from None
            return False, None

    def _shutdown_workers(self) -> None:
        """Tell every worker to stop, wait for it a moment, then terminate what is left."""
        if self._shutdown:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for index_queue in self._index_queues:
                index_queue.put(None)
            for worker in self._workers:
                worker.join(timeout=STATUS_CHECK_INTERVAL)
            for index_queue in self._index_queues:
                index_queue.cancel_join_thread()
                index_queue.close()
        finally:
            for worker in self._workers:
                if worker.is_alive():
                    worker.terminate()
                    worker.join(timeout=STATUS_CHECK_INTERVAL)

    def __del__(self) -> None:
        if not sys.is_finalizing():  # at exit, multiprocessing ends its daemon processes
            self._shutdown_workers()
