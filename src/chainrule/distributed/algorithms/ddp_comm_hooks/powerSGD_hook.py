# ruff: noqa: N999 - PyTorch's module name (torch.distributed.algorithms.ddp_comm_hooks.powerSGD_hook)
"""PowerSGD gradient compression for DistributedDataParallel (Vogels et al., 2019), as
torch.distributed.algorithms.ddp_comm_hooks.powerSGD_hook: each gradient matrix M (a
parameter's gradient viewed as rows x the rest) travels as two thin factors, P = M Q and
Q = M^T P of `matrix_approximation_rank` columns, instead of its n x m values; vectors and
matrices too small to gain stay uncompressed. With error feedback, what a step's compression
lost is added to the next step's gradient; with warm start, each step's Q starts from the last.

    state = PowerSGDState(process_group=None, matrix_approximation_rank=1, start_powerSGD_iter=10)
    ddp_model.register_comm_hook(state, powerSGD_hook)

The first `start_powerSGD_iter` iterations all-reduce uncompressed. Like the other hooks, it
changes the numerics (a low-rank approximation of the averaged gradient), so it is opt-in.
The initial Q are drawn from chainrule's generator, seeded from `random_seed` the same on every
rank: they differ from PyTorch's for the same seed, as `randn` does. `batched_powerSGD_hook` is
not here yet.
"""

from __future__ import annotations

import random
from collections import defaultdict

from chainrule._tensor import Tensor
from chainrule.distributed.algorithms.ddp_comm_hooks import default_hooks
from chainrule.distributed.collectives import all_reduce
from chainrule.distributed.grad_bucket import GradBucket
from chainrule.distributed.process_group import GroupMember, ProcessGroup
from chainrule.futures import Future
from chainrule.linalg import qr
from chainrule.ops.creation import Generator, empty, randn, zeros
from chainrule.ops.linalg import bmm
from chainrule.ops.shape import cat, stack

__all__ = ["PowerSGDState", "powerSGD_hook"]


def _orthogonalize(matrices: Tensor, epsilon: float = 0) -> None:
    """Make the columns of each matrix of the batch `matrices` (b, n, r), r <= n, orthonormal,
    in place: Gram-Schmidt for 1 or 2 columns or 16-bit floats, QR otherwise (as PyTorch)."""
    rank = matrices.shape[2]
    if rank <= 2 or matrices.dtype.itemsize == 2:
        _orthogonalize_gram_schmidt(matrices, epsilon)
    else:
        matrices.copy_(qr(matrices).Q)


def _orthogonalize_gram_schmidt(matrices: Tensor, epsilon: float = 0) -> None:
    """Gram-Schmidt on each matrix's columns, in place. A column of zeros stays zeros if
    `epsilon` is 0 (PyTorch's advice: set a small epsilon, e.g. 1e-8, if that can happen)."""
    columns = matrices.shape[2]
    for i in range(columns):
        column = matrices[:, :, i : i + 1]
        norm = column.norm(dim=1, keepdim=True)
        if epsilon == 0:
            column.copy_((column / norm).nan_to_num(0.0, 0.0, 0.0))
        else:
            column.div_(norm + epsilon)
        if i + 1 < columns:
            rest = matrices[:, :, i + 1 :]
            rest.sub_((column * rest).sum(dim=1, keepdim=True) * column)


def _should_compress(rows: int, cols: int, rank: int, min_compression_rate: float) -> tuple:
    """(worth compressing, elements before, elements after): compress when the factors are at
    least `min_compression_rate` times smaller than the matrix."""
    uncompressed = rows * cols
    compressed = (rows + cols) * rank
    return compressed * min_compression_rate < uncompressed, uncompressed, compressed


class PowerSGDState:
    """PowerSGD's settings and what it keeps between iterations (one state for all buckets).

    Args:
        process_group (ProcessGroup | None): the group to average over (None: the default).
        matrix_approximation_rank (int): columns of P and Q; lower compresses more (1-4 is
            usual).
        start_powerSGD_iter (int): iterations of plain all-reduce before compressing; must be
            more than 1 with error feedback or warm start.
        min_compression_rate (float): compress a matrix only if its factors are this many times
            smaller.
        use_error_feedback (bool): add what compression lost to the next step's gradient.
        warm_start (bool): start each step's Q from the last step's.
        orthogonalization_epsilon (float): added to each column's norm in Gram-Schmidt.
        random_seed (int): seeds the initial Q, the same on every rank.
        compression_stats_logging_frequency (int): accepted (PyTorch logs the statistics).
        batch_tensors_with_same_shape (bool): compress same-shaped gradients as one batch.
    """

    __slots__ = (
        "process_group",
        "matrix_approximation_rank",
        "start_powerSGD_iter",
        "min_compression_rate",
        "orthogonalization_epsilon",
        "use_error_feedback",
        "warm_start",
        "batch_tensors_with_same_shape",
        "rng",
        "error_dict",
        "p_memory_dict",
        "q_memory_dict",
        "iter",
        "total_numel_before_compression",
        "total_numel_after_compression",
        "compression_stats_logging_frequency",
        "next_stats_report",
    )

    def __init__(
        self,
        process_group: ProcessGroup | None,
        matrix_approximation_rank: int = 1,
        start_powerSGD_iter: int = 1_000,  # noqa: N803 - PyTorch's name
        min_compression_rate: float = 2,
        use_error_feedback: bool = True,
        warm_start: bool = True,
        orthogonalization_epsilon: float = 0,
        random_seed: int = 0,
        compression_stats_logging_frequency: int = 10_000,
        batch_tensors_with_same_shape: bool = False,
    ) -> None:
        if (use_error_feedback or warm_start) and start_powerSGD_iter <= 1:
            raise ValueError(
                "Expect `start_powerSGD_iter` > 1 if `use_error_feedback` or `warm_start` is "
                "enabled, because PowerSGD can only be applied after the first two iterations "
                "in DDP."
            )
        self.process_group = process_group
        self.matrix_approximation_rank = matrix_approximation_rank
        self.start_powerSGD_iter = start_powerSGD_iter
        self.min_compression_rate = min_compression_rate
        self.use_error_feedback = use_error_feedback
        self.warm_start = warm_start
        self.orthogonalization_epsilon = orthogonalization_epsilon
        self.rng = random.Random(random_seed)
        self.error_dict: dict[int, Tensor] = {}
        self.p_memory_dict: dict[int, Tensor] = {}
        self.q_memory_dict: dict[int, Tensor] = {}
        self.iter = 0
        self.total_numel_before_compression = 0
        self.total_numel_after_compression = 0
        self.compression_stats_logging_frequency = max(1, compression_stats_logging_frequency)
        self.next_stats_report = 0
        self.batch_tensors_with_same_shape = batch_tensors_with_same_shape

    def maybe_increase_iter(self, bucket: GradBucket) -> None:
        """Count an iteration when its last bucket is communicated."""
        if bucket.is_last():
            self.iter += 1

    def compression_stats(self) -> tuple:
        """(compression rate, elements before compression, elements after), summed so far."""
        before, after = self.total_numel_before_compression, self.total_numel_after_compression
        return (before / after if after > 0 else 0, before, after)


def powerSGD_hook(  # noqa: N802 - PyTorch's name
    state: PowerSGDState, bucket: GradBucket
) -> Future[Tensor]:
    """Average the bucket's gradients over the ranks with PowerSGD: vectors and small matrices
    all-reduced as they are, each other matrix M through P = M Q (all-reduced, orthogonalized)
    and Q = M^T P (all-reduced, averaged), M ~ P Q^T. Plain all-reduce for the first
    `state.start_powerSGD_iter` iterations."""
    group = state.process_group if state.process_group is not None else GroupMember.WORLD
    world_size = group.size()
    buffer = bucket.buffer()
    if state.iter < state.start_powerSGD_iter:
        state.maybe_increase_iter(bucket)
        return default_hooks._allreduce_fut(group, buffer)
    index = bucket.index()
    before_compression = None
    if state.use_error_feedback:
        if index in state.error_dict:
            buffer.add_(state.error_dict[index])
        else:
            state.error_dict[index] = zeros(
                buffer.shape[0], dtype=buffer.dtype, device=buffer.device
            )
        before_compression = buffer.clone()

    to_compress: list[Tensor] = []
    uncompressed: list[Tensor] = []
    p_size = q_size = 0
    for gradient in bucket.gradients():
        matrix = gradient.view(gradient.shape[0], -1) if gradient.ndim else gradient.view(1, 1)
        rows, cols = matrix.shape
        rank = min(rows, cols, state.matrix_approximation_rank)
        worth, before, after = _should_compress(rows, cols, rank, state.min_compression_rate)
        state.total_numel_before_compression += before
        if worth:
            to_compress.append(matrix)
            p_size += rows * rank
            q_size += cols * rank
            state.total_numel_after_compression += after
        else:
            uncompressed.append(gradient)
            state.total_numel_after_compression += before
    flat_uncompressed = (
        cat([gradient.reshape(-1) for gradient in uncompressed])
        if uncompressed
        else empty(0, dtype=buffer.dtype, device=buffer.device)
    )

    fresh_qs = not state.warm_start or index not in state.p_memory_dict
    if fresh_qs:
        state.p_memory_dict[index] = empty(p_size, dtype=buffer.dtype, device=buffer.device)
        state.q_memory_dict[index] = empty(q_size, dtype=buffer.dtype, device=buffer.device)
    matrices, ps, qs = _factors(state, index, to_compress)
    if fresh_qs:
        generator = Generator(device=buffer.device).manual_seed(state.rng.randrange(1_000_000_000))
        for q in qs:
            q.copy_(randn(*q.shape, generator=generator, dtype=buffer.dtype, device=buffer.device))
    for q in qs:
        _orthogonalize(q, state.orthogonalization_epsilon)
    for matrix, q, p in zip(matrices, qs, ps):
        p.copy_(bmm(matrix, q))

    def unpack_uncompressed_and_allreduce_ps(fut: Future) -> Tensor:
        average = fut.value()[0].div_(world_size)
        start = 0
        for gradient in uncompressed:
            gradient.copy_(average[start : start + gradient.numel()].view_as(gradient))
            start += gradient.numel()
        work = all_reduce(state.p_memory_dict[index], group=group, async_op=True)
        return work.get_future().wait()[0]

    def compute_qs(fut: Future) -> Tensor:
        for p in ps:
            _orthogonalize(p, state.orthogonalization_epsilon)
        for matrix, p, q in zip(matrices, ps, qs):
            q.copy_(bmm(matrix.transpose(1, 2), p))
        work = all_reduce(state.q_memory_dict[index], group=group, async_op=True)
        return work.get_future().wait()[0]

    def decompress(fut: Future) -> Tensor:
        state.q_memory_dict[index].div_(world_size)
        for p, q, matrix in zip(ps, qs, matrices):
            matrix.copy_(bmm(p, q.transpose(1, 2)))
        if matrices and state.batch_tensors_with_same_shape:
            _unstack(to_compress, matrices)
        if state.use_error_feedback:
            state.error_dict[index] = before_compression - buffer
        if not state.warm_start:
            state.p_memory_dict.clear()
            state.q_memory_dict.clear()
        state.maybe_increase_iter(bucket)
        return buffer

    first = all_reduce(flat_uncompressed, group=group, async_op=True).get_future()
    return first.then(unpack_uncompressed_and_allreduce_ps).then(compute_qs).then(decompress)


def _factors(state: PowerSGDState, index: int, to_compress: list[Tensor]) -> tuple:
    """The matrices to compress as batches (b, n, m) (one matrix each, or stacks of the
    same-shaped ones with batch_tensors_with_same_shape), and their P (b, n, r) and Q (b, m, r),
    views of the bucket's P and Q memory."""
    by_shape: dict[tuple, list[Tensor]] = defaultdict(list)
    for matrix in to_compress:
        by_shape[tuple(matrix.shape)].append(matrix)
    batches: list[Tensor] = []
    for same_shape in by_shape.values():
        if state.batch_tensors_with_same_shape:
            batches.append(stack(same_shape))
        else:
            batches.extend(matrix.unsqueeze(0) for matrix in same_shape)
    ps, qs = [], []
    p_start = q_start = 0
    for batch in batches:
        count, rows, cols = batch.shape
        rank = min(rows, cols, state.matrix_approximation_rank)
        p_memory, q_memory = state.p_memory_dict[index], state.q_memory_dict[index]
        ps.append(p_memory[p_start : p_start + count * rows * rank].view(count, rows, rank))
        qs.append(q_memory[q_start : q_start + count * cols * rank].view(count, cols, rank))
        p_start += count * rows * rank
        q_start += count * cols * rank
    return batches, ps, qs


def _unstack(to_compress: list[Tensor], batches: list[Tensor]) -> None:
    """Write stacked batches back into the gradients they were stacked from (same order)."""
    by_shape: dict[tuple, list[Tensor]] = defaultdict(list)
    for matrix in to_compress:
        by_shape[tuple(matrix.shape)].append(matrix)
    for same_shape, batch in zip(by_shape.values(), batches):
        for position, matrix in enumerate(same_shape):
            matrix.copy_(batch[position])
