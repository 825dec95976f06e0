"""Fetchers: what one DataLoader step reads from a dataset, in the main process or in a worker
(as torch.utils.data._utils.fetch). A map-style fetcher turns a list of indices (or one index)
into a batch; an iterable fetcher pulls the next batch from its own iterator over the dataset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.backend import dtypes
from chainrule.data.collate import collate_tensor_fn, default_collate_fn_map
from chainrule.data.dataset import Subset, TensorDataset
from chainrule.ops.creation import tensor


class MapFetcher:
    """`collate_fn([dataset[i] for i in indices])` (or of `dataset.__getitems__(indices)`
    where the dataset reads batches), or `collate_fn(dataset[index])` without
    auto-collation. Rows of a TensorDataset (possibly through Subsets) under `default_collate`
    are gathered with one index per tensor instead of stacking single rows: the same batch,
    faster."""

    def __init__(
        self, dataset: Any, auto_collation: bool, collate_fn: Callable, fast_rows: bool
    ) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        # collate_fn is default_collate, whose rule for tensors is still stacking
        self.fast_rows = fast_rows and default_collate_fn_map.get(Tensor) is collate_tensor_fn

    def fetch(self, indices: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[indices])
        source = self._row_source(indices) if self.fast_rows else None
        if source is not None:
            tensors, rows = source
            index = tensor(rows, dtype=dtypes.int64)
            return [t[index] for t in tensors]
        batched = getattr(self.dataset, "__getitems__", None)
        if batched:  # a dataset that reads a whole batch at once, as PyTorch's fetcher uses
            return self.collate_fn(batched(indices))
        return self.collate_fn([self.dataset[i] for i in indices])

    def _row_source(self, indices: list[int]) -> tuple[tuple[Tensor, ...], list[int]] | None:
        """(tensors, rows) when the batch is just rows of a TensorDataset, else None."""
        dataset = self.dataset
        while type(dataset) is Subset:
            indices = [dataset.indices[i] for i in indices]
            dataset = dataset.dataset
        if type(dataset) is not TensorDataset:
            return None
        if is_grad_enabled() and any(t.requires_grad for t in dataset.tensors):
            return None
        return dataset.tensors, indices


class IterableFetcher:
    """The next `batch_size` samples of the dataset's iterator, collated (the last batch may be
    short unless `drop_last`), or the next sample converted without auto-collation. Raises
    StopIteration when the dataset is exhausted."""

    def __init__(
        self,
        dataset: Any,
        auto_collation: bool,
        collate_fn: Callable,
        batch_size: int | None,
        drop_last: bool,
    ) -> None:
        self.collate_fn = collate_fn
        self.auto_collation = auto_collation
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.iterator = iter(dataset)
        self.ended = False

    def fetch(self, _: Any = None) -> Any:
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        batch = []
        while not self.ended and len(batch) < self.batch_size:
            try:
                batch.append(next(self.iterator))
            except StopIteration:
                self.ended = True
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)
