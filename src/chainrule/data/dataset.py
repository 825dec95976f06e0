"""Datasets: indexable (map-style) and iterable sources of samples, as in torch.utils.data."""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.errors import ArgumentAssertionError, ShapeError
from chainrule.ops.creation import Generator, default_generator, randperm


class Dataset:
    """A map-style dataset: subclasses give `__getitem__(index)` and usually `__len__`;
    `a + b` concatenates two (a ConcatDataset).

    Example:
        >>> from chainrule.data import Dataset
        >>> class Squares(Dataset):
        ...     def __getitem__(self, index):
        ...         return index * index
        ...     def __len__(self):
        ...         return 4
        >>> [Squares()[i] for i in range(len(Squares()))]
        [0, 1, 4, 9]
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses give `__iter__` (and optionally `__len__`);
    `a + b` chains two (a ChainDataset). Under a DataLoader with workers every worker iterates
    its own copy, so split the stream with `get_worker_info()`.

    Example:
        >>> from chainrule.data import DataLoader, IterableDataset
        >>> class Count(IterableDataset):
        ...     def __iter__(self):
        ...         return iter(range(5))
        >>> [batch.tolist() for batch in DataLoader(Count(), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Any) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension.

    Args:
        *tensors (Tensor): each with the same, non-zero-dimensional first dimension.

    Example:
        >>> import chainrule
        >>> from chainrule.data import TensorDataset
        >>> ds = TensorDataset(chainrule.arange(6).reshape(3, 2), chainrule.tensor([0, 1, 0]))
        >>> len(ds), ds[1]
        (3, (tensor([2, 3]), tensor(1)))
    """

    def __init__(self, *tensors: Tensor) -> None:
        sizes = tuple(t.shape[0] if t.ndim > 0 else None for t in tensors)
        if len(set(sizes)) > 1 and None not in sizes:  # PyTorch's is an assert
            raise ArgumentAssertionError(
                f"Size mismatch between tensors: first dimensions {sizes} (TensorDataset needs "
                "the same first dimension in every tensor)"
            )
        if None in sizes:
            raise ShapeError(
                f"TensorDataset: Size mismatch between tensors: first dimensions {sizes} "
                "(every tensor needs the same, non-empty first dimension)"
            )
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order.

    Args:
        dataset (Dataset): the whole dataset.
        indices (sequence of ints): the positions to keep.

    Example:
        >>> from chainrule.data import Subset
        >>> part = Subset(["a", "b", "c", "d"], [3, 0])
        >>> len(part), part[0]
        (2, 'd')
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        # The DataLoader reads a batch with __getitems__, so a subclass that changes only
        # __getitem__ would be bypassed: refused, as PyTorch does.
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__. When subclassing "
                "Subset and overriding __getitem__, you must also override __getitems__ to "
                "ensure DataLoader works correctly with your custom logic. A simple "
                "implementation:\n\ndef __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]"
            )

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):  # the whole list goes to the dataset, as in PyTorch
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list:
        """The samples at `indices`, read in one batched call where the dataset has one."""
        chosen = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(chosen)
        return [self.dataset[i] for i in chosen]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets one after another (an IterableDataset is refused).

    Args:
        datasets (iterable of Dataset): at least one.

    Example:
        >>> from chainrule.data import ConcatDataset
        >>> both = ConcatDataset([["a", "b"], ["c"]])
        >>> len(both), both[2], both[-1]
        (3, 'c', 'c')
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise ValueError("datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index = len(self) + index
        if index >= len(self):
            raise IndexError(f"index {index} is out of range for a dataset of length {len(self)}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        offset = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - offset]


class StackDataset(Dataset):
    """Several map-style datasets of one length side by side: item i is the tuple of their
    items i (datasets given positionally) or the dict of them (given by keyword).

    Args:
        *args (Dataset): datasets whose items make a tuple.
        **kwargs (Dataset): datasets whose items make a dict (not with `args`).

    Example:
        >>> from chainrule.data import StackDataset
        >>> StackDataset(["a", "b"], [1, 2])[1], StackDataset(text=["a", "b"], label=[1, 2])[0]
        (('b', 2), {'text': 'a', 'label': 1})
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                "input/output, but both types are given."
            )
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets: tuple | dict = args or kwargs
        parts = args or tuple(kwargs.values())
        self._length = len(parts[0])
        if any(len(dataset) != self._length for dataset in parts):
            raise ValueError("Size mismatch between datasets")

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """The samples at `indices`, each part read in one batched call where its dataset
        has one (a dict or a tuple per sample, as `__getitem__`)."""
        named = isinstance(self.datasets, dict)
        parts = self.datasets.items() if named else enumerate(self.datasets)
        columns = {}
        for key, dataset in parts:
            if callable(getattr(dataset, "__getitems__", None)):
                items = dataset.__getitems__(indices)
                if len(items) != len(indices):
                    raise ValueError(
                        "Nested dataset's output size mismatch."
                        f" Expected {len(indices)}, got {len(items)}"
                    )
            else:
                items = [dataset[i] for i in indices]
            columns[key] = items
        rows = zip(*columns.values())
        if named:
            return [dict(zip(columns, row)) for row in rows]
        return [tuple(row) for row in rows]

    def __len__(self) -> int:
        return self._length


class ChainDataset(IterableDataset):
    """Several iterable datasets one after another, chained lazily.

    Args:
        datasets (iterable of IterableDataset): the streams.

    Example:
        >>> from chainrule.data import ChainDataset, IterableDataset
        >>> class Count(IterableDataset):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(self.n))
        >>> list(ChainDataset([Count(2), Count(3)]))
        [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[IterableDataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self.datasets)


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: Generator | None = default_generator,
) -> list[Subset]:
    """Split `dataset` into non-overlapping random Subsets of the given lengths.

    Fractions that sum to 1 become floor(fraction * len(dataset)) each, with the remainder
    handed out one at a time, round robin, as in PyTorch.

    Args:
        dataset (Dataset): anything with `__len__` and `__getitem__`.
        lengths (sequence of ints or floats): the sizes, summing to len(dataset), or
            fractions summing to 1.
        generator (Generator): the random stream of the permutation (the default one if
            not given).

    Returns:
        list of Subset: one per length.

    Example:
        >>> import chainrule
        >>> from chainrule.data import random_split
        >>> generator = chainrule.Generator().manual_seed(0)
        >>> parts = random_split(range(10), [0.7, 0.3], generator=generator)
        >>> [len(p) for p in parts]
        [7, 3]
    """
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(total * fraction))
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
        lengths = counts
    if sum(lengths) != total:
        raise ValueError(
            f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
            f"dataset ({total})!"
        )
    indices = randperm(sum(lengths), generator=generator).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, indices[end - length : end]) for end, length in zip(ends, lengths)]
