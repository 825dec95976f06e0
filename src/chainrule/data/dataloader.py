"""DataLoader: batches of samples from a dataset, collated into tensors (torch.utils.data)."""

from __future__ import annotations

import collections.abc
import copy
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.backend import dtypes, is_array, is_numpy_scalar
from chainrule.data.dataset import IterableDataset, Subset, TensorDataset
from chainrule.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from chainrule.ops.creation import Generator, as_tensor, tensor
from chainrule.ops.shape import stack

_COLLATE_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, as PyTorch's `default_collate` does.

    Tensors and NumPy arrays are stacked along a new first dimension; Python floats become a
    float64 tensor and ints an int64 tensor; strings stay a list; dicts, namedtuples and
    sequences are collated field by field (tuples come back as lists, as in PyTorch).

    >>> import chainrule
    >>> from chainrule.data import default_collate
    >>> default_collate([(chainrule.tensor([1.0, 2.0]), 0), (chainrule.tensor([3.0, 4.0]), 1)])
    [tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch)
    if is_array(elem):
        if elem.dtype.kind in "SaUO":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return stack([as_tensor(item) for item in batch])
    if isinstance(elem, (str, bytes)):  # before numbers: NumPy's str_ is a str
        return batch
    if is_numpy_scalar(elem) and elem.dtype.kind in "biufV":  # before float: float64 is a float
        return stack([as_tensor(item) for item in batch])
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """What a DataLoader without batching yields: NumPy arrays become tensors, recursively."""
    if isinstance(data, Tensor):
        return data
    if is_array(data) or is_numpy_scalar(data):
        return data if data.dtype.kind in "SaUO" else as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


class DataLoader:
    """Iterate over `dataset` in batches, as `torch.utils.data.DataLoader` (in-process only).

    `shuffle=True` visits a new random order every epoch, drawn from `generator` (or from the
    default generator, so `chainrule.manual_seed` makes it reproducible). `batch_size=None`
    turns batching off. There are no worker processes: `num_workers > 0` loads in the main
    process (the same batches) with a warning, rather than failing a valid PyTorch argument.

    >>> import chainrule
    >>> from chainrule.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(chainrule.arange(10.0).reshape(5, 2), chainrule.arange(5))
    >>> loader = DataLoader(ds, batch_size=2)
    >>> len(loader), [tuple(y.tolist()) for _, y in loader]
    (3, [(0, 1), (2, 3), (4,)])
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable[list] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        *,
        generator: Generator | None = None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ) -> None:
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if num_workers > 0:
            warnings.warn(
                f"DataLoader: num_workers={num_workers} loads in the main process: chainrule has "
                "no worker processes (the batches are the same; worker_init_fn is not called)",
                UserWarning,
                stacklevel=2,
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
            raise ValueError(
                "prefetch_factor and persistent_workers option could only be specified in "
                "multiprocessing. let num_workers > 0 to enable multiprocessing."
            )
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._is_iterable = isinstance(dataset, IterableDataset)

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

    def __iter__(self) -> Iterator[Any]:
        if self._is_iterable:
            return self._iterate_stream()
        if self.batch_sampler is not None:
            return (self._fetch(indices) for indices in self.batch_sampler)
        return (self.collate_fn(self.dataset[index]) for index in self.sampler)

    def _fetch(self, indices: list[int]) -> Any:
        source = self._row_source(indices)
        if source is not None:
            # One gather per tensor instead of a stack of single rows: the same batch, faster.
            tensors, rows = source
            index = tensor(rows, dtype=dtypes.int64)
            return [t[index] for t in tensors]
        return self.collate_fn([self.dataset[i] for i in indices])

    def _row_source(self, indices: list[int]) -> tuple[tuple[Tensor, ...], list[int]] | None:
        """(tensors, rows) when the batch is just rows of a TensorDataset (possibly through
        Subsets) under default_collate, else None."""
        if self.collate_fn is not default_collate:
            return None
        dataset = self.dataset
        while type(dataset) is Subset:
            indices = [dataset.indices[i] for i in indices]
            dataset = dataset.dataset
        if type(dataset) is not TensorDataset:
            return None
        if is_grad_enabled() and any(t.requires_grad for t in dataset.tensors):
            return None
        return dataset.tensors, indices

    def _iterate_stream(self) -> Iterator[Any]:
        if not self._auto_collation:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

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
