"""DistributedSampler: each rank's share of a dataset's indices (torch.utils.data.distributed).

The order is PyTorch's: a permutation drawn from a generator seeded with `seed + epoch` (the same
on every rank, so the shares never overlap), padded by repeating its start until it divides
evenly (or cut, with `drop_last`), then every `num_replicas`-th index from `rank` on. One
difference: chainrule's `randperm` draws from NumPy's PCG64, not PyTorch's Mersenne Twister, so
with `shuffle=True` the permutation for a given seed is not the one torch gives (the structure
is: without shuffling the indices are identical to torch's).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

from chainrule.data.sampler import Sampler
from chainrule.distributed import get_rank, get_world_size
from chainrule.ops.creation import Generator, randperm


class DistributedSampler(Sampler):
    """Indices of `dataset` for rank `rank` of `num_replicas` (the default group's rank and
    size if not given). Call `set_epoch(epoch)` before each epoch for a new shuffle.

    Args:
        dataset (Sized): what to share out; only its length is read.
        num_replicas (int, optional): the number of ranks (default: the default group's size).
        rank (int, optional): this rank, in [0, num_replicas) (default: the default group's).
        shuffle (bool): a new permutation every epoch (default: True).
        seed (int): the permutation's seed, the same on every rank (default: 0).
        drop_last (bool): cut the tail that does not divide evenly instead of padding it
            with repeated indices (default: False).

    Example:
        >>> from chainrule.data.distributed import DistributedSampler
        >>> list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False))
        [1, 3, 0]
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None:
            num_replicas = get_world_size()
        if rank is None:
            rank = get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        size = len(self.dataset)
        if self.shuffle:
            generator = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(size, generator=generator).tolist()
        else:
            indices = list(range(size))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:  # fewer samples than ranks: repeat the whole list
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use `epoch` in the seed of the next shuffle (every rank must pass the same)."""
        self.epoch = epoch
