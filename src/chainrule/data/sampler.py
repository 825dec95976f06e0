"""Samplers: the order in which a DataLoader visits a map-style dataset's indices."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

from chainrule.backend import dtypes
from chainrule.ops.creation import Generator, as_tensor, multinomial, randint, randperm


class Sampler:
    """Base class: an iterable of indices (or of index lists, for batch samplers); subclasses
    give `__iter__` and, where they can, `__len__`.

    Args:
        data_source (Sized, optional): accepted for PyTorch's signature; the base ignores it.

    Example:
        >>> from chainrule.data import DataLoader, Sampler
        >>> class Backwards(Sampler):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(self.n - 1, -1, -1))
        ...     def __len__(self):
        ...         return self.n
        >>> list(DataLoader(list(range(10, 14)), sampler=Backwards(4), batch_size=None))
        [13, 12, 11, 10]
    """

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1: DataLoader's order without shuffling.

    Args:
        data_source (Sized): the dataset, read only for its length.

    Example:
        >>> from chainrule.data import SequentialSampler
        >>> list(SequentialSampler(range(3)))
        [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _fresh_generator(generator: Generator | None) -> Generator:
    """`generator`, or a new one seeded from the default generator (so manual_seed governs)."""
    if generator is not None:
        return generator
    seed = int(randint(0, 2**62, ()))
    return Generator().manual_seed(seed)


class RandomSampler(Sampler):
    """A random permutation of the indices (repeated to reach `num_samples`), or `num_samples`
    independent draws when `replacement`; a seeded `generator` gives a reproducible order.
    Without one, each pass seeds a fresh stream from the default generator, so
    `chainrule.manual_seed` governs it.

    Args:
        data_source (Sized): the dataset, read only for its length.
        replacement (bool): draw with replacement.
        num_samples (int, optional): how many indices per pass (len(data_source) by default).
        generator (Generator, optional): the random stream.

    Example:
        >>> import chainrule
        >>> from chainrule.data import RandomSampler
        >>> sorted(RandomSampler(range(4), generator=chainrule.Generator().manual_seed(0)))
        [0, 1, 2, 3]
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = _fresh_generator(self.generator)
        if self.replacement:
            yield from randint(0, n, (self.num_samples,), generator=generator).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=generator).tolist()
        yield from randperm(n, generator=generator).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a new random order each pass.

    Args:
        indices (sequence of ints): the indices to draw from (a validation split, say).
        generator (Generator, optional): the random stream (the default one if None).

    Example:
        >>> from chainrule.data import SubsetRandomSampler
        >>> sorted(SubsetRandomSampler([5, 7, 9]))
        [5, 7, 9]
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices drawn with probabilities proportional to `weights` (with
    replacement by default: the usual way to rebalance classes).

    Args:
        weights (sequence of floats): one non-negative weight per index, 1-D, not necessarily
            summing to 1.
        num_samples (int): how many indices per pass.
        replacement (bool): draw with replacement; without, num_samples must not exceed the
            number of non-zero weights.
        generator (Generator, optional): the random stream.

    Example:
        >>> import chainrule
        >>> from chainrule.data import WeightedRandomSampler
        >>> sampler = WeightedRandomSampler([0.0, 1.0, 0.0], 4)
        >>> list(sampler)
        [1, 1, 1, 1]
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: Generator | None = None,
    ) -> None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        weights_tensor = as_tensor(weights, dtype=dtypes.float64)
        if weights_tensor.ndim != 1:
            raise ValueError(
                "weights should be a 1d sequence but given weights have shape "
                f"{tuple(weights_tensor.shape)}"
            )
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        drawn = multinomial(
            self.weights, self.num_samples, self.replacement, generator=self.generator
        )
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of `batch_size` (the last one may be short
    unless `drop_last`).

    Args:
        sampler (Sampler or iterable of ints): the indices.
        batch_size (int): indices per list, positive.
        drop_last (bool): drop a last list shorter than batch_size.

    Example:
        >>> from chainrule.data import BatchSampler, SequentialSampler
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
