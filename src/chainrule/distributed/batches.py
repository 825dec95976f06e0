"""Splitting a global batch among the ranks, so that data-parallel training follows the same
trajectory as one process on the whole batch (what `chainrule train --distributed` needs).

Every rank draws the same global batch (same seed), keeps its own contiguous rows, and sums its
loss scaled by world_size / global rows: DistributedDataParallel averages the gradients over the
ranks, which then gives the gradient of the mean loss over the whole batch, even when the rows
do not divide evenly (the last batch of an epoch) or a rank has none.
"""

from __future__ import annotations

from typing import Any

from chainrule.distributed.process_group import resolve_group


def batch_share(global_rows: int, group: Any = None) -> tuple[slice, float]:
    """This rank's rows of a global batch of `global_rows` (contiguous; the shares differ by at
    most one row, the first ranks taking the extra ones), and the factor by which to multiply
    its *summed* loss.

    >>> import chainrule, chainrule.distributed as dist
    >>> from chainrule.nn import functional as F
    >>> dist.init_process_group("single")
    >>> rows, scale = dist.batch_share(10)
    >>> rows, scale
    (slice(0, 10, None), 0.1)
    >>> logits, labels = chainrule.randn(10, 3), chainrule.randint(0, 3, (10,))
    >>> loss = F.cross_entropy(logits[rows], labels[rows], reduction="sum") * scale
    >>> dist.destroy_process_group()
    """
    found = resolve_group(group, "batch_share")
    if found is None:
        raise ValueError("batch_share: this rank is not in the group")
    if global_rows < 1:
        raise ValueError(f"batch_share: a global batch needs at least one row, got {global_rows}")
    world, rank = found.size(), found.rank()
    base, extra = divmod(global_rows, world)
    start = rank * base + min(rank, extra)
    stop = start + base + (1 if rank < extra else 0)
    return slice(start, stop), world / global_rows
