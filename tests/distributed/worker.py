"""One rank of a distributed test, run by tests/test_distributed_mpi.py as
`mpiexec -n N python worker.py SCENARIO`.

Each scenario checks what it can on every rank (an `AssertionError` fails the whole job: the
rank's traceback is printed and every rank aborts) and prints `rank R: ...` lines that the test
reads. Nothing here imports torch: the references are computed locally with chainrule, from
inputs every rank can regenerate (each rank's inputs come from a generator seeded by its rank).
"""

from __future__ import annotations

import datetime
import functools
import os
import sys
import time

import chainrule
import chainrule.distributed as dist
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset
from chainrule.data.distributed import DistributedSampler
from chainrule.distributed.algorithms.ddp_comm_hooks import default_hooks
from chainrule.distributed.algorithms.ddp_comm_hooks.powerSGD_hook import (
    PowerSGDState,
    powerSGD_hook,
)
from chainrule.futures import Future
from chainrule.nn.parallel import DistributedDataParallel

DTYPES = [
    chainrule.float16,
    chainrule.bfloat16,
    chainrule.float32,
    chainrule.float64,
    chainrule.uint8,
    chainrule.int8,
    chainrule.int16,
    chainrule.int32,
    chainrule.int64,
    chainrule.bool,
]


def say(text: str) -> None:
    """One line, in one write: the launcher interleaves the ranks' output."""
    sys.stdout.write(f"rank {dist.get_rank()}: {text}\n")
    sys.stdout.flush()


def inputs_of(rank: int, dtype: chainrule.dtype, shape: tuple, salt: int = 0) -> chainrule.Tensor:
    """Rank `rank`'s input: small integers (so every reduction is exact in any order)."""
    generator = chainrule.Generator().manual_seed(1000 * rank + 17 * DTYPES.index(dtype) + salt)
    low = 0 if dtype in (chainrule.uint8, chainrule.bool) else -3
    high = 2 if dtype is chainrule.bool else 4
    return chainrule.randint(low, high, shape, generator=generator).to(dtype)


def expected_reduction(op: dist.ReduceOp, values: list, dtype: chainrule.dtype) -> chainrule.Tensor:
    """The reduction of every rank's input, done locally."""
    stacked = chainrule.stack(values)
    if dtype is chainrule.bool:
        logical = {
            dist.ReduceOp.SUM: stacked.any(0),
            dist.ReduceOp.MAX: stacked.any(0),
            dist.ReduceOp.BOR: stacked.any(0),
            dist.ReduceOp.PRODUCT: stacked.all(0),
            dist.ReduceOp.MIN: stacked.all(0),
            dist.ReduceOp.BAND: stacked.all(0),
            dist.ReduceOp.BXOR: functools.reduce(lambda a, b: a ^ b, values),
        }
        return logical[op]
    if op is dist.ReduceOp.SUM:
        return stacked.sum(0).to(dtype)
    if op is dist.ReduceOp.AVG:
        return (stacked.sum(0) / len(values)).to(dtype)
    if op is dist.ReduceOp.PRODUCT:
        return stacked.prod(0).to(dtype)
    if op is dist.ReduceOp.MIN:
        return stacked.amin(0)
    if op is dist.ReduceOp.MAX:
        return stacked.amax(0)
    bitwise = {dist.ReduceOp.BAND: "__and__", dist.ReduceOp.BOR: "__or__"}
    name = bitwise.get(op, "__xor__")
    return functools.reduce(lambda a, b: getattr(a, name)(b), values)


def ops_for(dtype: chainrule.dtype) -> list:
    ops = [dist.ReduceOp.SUM, dist.ReduceOp.PRODUCT, dist.ReduceOp.MIN, dist.ReduceOp.MAX]
    if dtype.is_floating_point:
        return [*ops, dist.ReduceOp.AVG]
    return [*ops, dist.ReduceOp.BAND, dist.ReduceOp.BOR, dist.ReduceOp.BXOR]


def same(ours: chainrule.Tensor, expected: chainrule.Tensor, what: str) -> None:
    assert ours.dtype is expected.dtype, f"{what}: dtype {ours.dtype} != {expected.dtype}"
    assert chainrule.equal(ours, expected), f"{what}: {ours} != {expected}"


def scenario_collectives() -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    checks = 0
    shape = (2, 3)
    for dtype in DTYPES:
        everyone = [inputs_of(r, dtype, shape) for r in range(size)]
        for op in ops_for(dtype):
            tensor = everyone[rank].clone()
            dist.all_reduce(tensor, op=op)
            same(tensor, expected_reduction(op, everyone, dtype), f"all_reduce {op} {dtype}")
            work = dist.all_reduce(everyone[rank].clone(), op=op, async_op=True)
            assert work.wait() and work.is_completed()
            checks += 2
        # A non-contiguous tensor is staged through a copy and written back in place.
        wide = chainrule.zeros(3, 4, dtype=dtype)
        view = wide.t()[1:3]  # (2, 3), strided
        view.copy_(everyone[rank])
        dist.all_reduce(view, op=dist.ReduceOp.MAX)
        same(view, expected_reduction(dist.ReduceOp.MAX, everyone, dtype), f"strided {dtype}")
        same(wide.t()[0], chainrule.zeros(3, dtype=dtype), f"strided {dtype}: rest untouched")
        for src in range(size):
            tensor = everyone[rank].clone()
            dist.broadcast(tensor, src=src)
            same(tensor, everyone[src], f"broadcast from {src} {dtype}")
        gathered = [chainrule.zeros(shape, dtype=dtype) for _ in range(size)]
        dist.all_gather(gathered, everyone[rank])
        for r in range(size):
            same(gathered[r], everyone[r], f"all_gather {dtype}")
        concatenated = chainrule.zeros(size * shape[0], shape[1], dtype=dtype)
        dist.all_gather_into_tensor(concatenated, everyone[rank])
        same(concatenated, chainrule.cat(everyone), f"all_gather_into_tensor cat {dtype}")
        stacked = chainrule.zeros(size, *shape, dtype=dtype)
        dist.all_gather_into_tensor(stacked, everyone[rank])
        same(stacked, chainrule.stack(everyone), f"all_gather_into_tensor stack {dtype}")
        wholes = [inputs_of(r, dtype, (size * 2, 3), salt=1) for r in range(size)]
        for op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX):
            mine = chainrule.zeros(2, 3, dtype=dtype)
            dist.reduce_scatter_tensor(mine, wholes[rank], op=op)
            whole = expected_reduction(op, wholes, dtype)
            same(mine, whole[2 * rank : 2 * rank + 2], f"reduce_scatter_tensor {op} {dtype}")
        last = size - 1
        for op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX):
            tensor = everyone[rank].clone()
            dist.reduce(tensor, dst=last, op=op)
            expected = expected_reduction(op, everyone, dtype) if rank == last else everyone[rank]
            same(tensor, expected, f"reduce {op} {dtype} on rank {rank}")
        gathered = [chainrule.zeros(shape, dtype=dtype) for _ in range(size)] if rank == 0 else None
        dist.gather(everyone[rank], gathered, dst=0)
        if rank == 0:
            for r in range(size):
                same(gathered[r], everyone[r], f"gather {dtype}")
        parts = [inputs_of(last, dtype, shape, salt=2 + r) for r in range(size)]
        mine = chainrule.zeros(shape, dtype=dtype)
        dist.scatter(mine, parts if rank == last else None, src=last)
        same(mine, parts[rank], f"scatter {dtype}")
        checks += size + 3 + size + 2 + 2 + 2
    checks += point_to_point_and_all_to_all()
    objects = [None] * size
    dist.all_gather_object(objects, {"rank": rank, "name": f"r{rank}"})
    assert objects == [{"rank": r, "name": f"r{r}"} for r in range(size)], objects
    listed = ["from zero", 1.5, None] if rank == 0 else [None, None, None]
    dist.broadcast_object_list(listed, src=0)
    assert listed == ["from zero", 1.5, None], listed
    checks += list_and_object_collectives()
    pair = dist.new_group([size - 1, 0])
    value = chainrule.tensor([float(rank + 1)])
    result = dist.all_reduce(value, group=pair)
    if rank in (0, size - 1):
        assert dist.get_rank(pair) == (0 if rank == 0 else 1)
        assert dist.get_process_group_ranks(pair) == [0, size - 1]
        same(value, chainrule.tensor([float(1 + size)]), "all_reduce in new_group")
    else:
        assert pair is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(pair) == -1
        assert result is None
        same(value, chainrule.tensor([float(rank + 1)]), "non-member's tensor")
    dist.barrier()
    say(f"{checks} tensor collectives checked")


def list_and_object_collectives() -> int:
    """all_to_all and reduce_scatter of tensor lists (uneven sizes), gather_object,
    scatter_object_list, new_subgroups and monitored_barrier."""
    rank, size = dist.get_rank(), dist.get_world_size()
    # rank r sends j + 1 copies of 10 r + j to rank j
    sent = [chainrule.full((j + 1,), float(10 * rank + j)) for j in range(size)]
    received = [chainrule.zeros(rank + 1) for _ in range(size)]
    dist.all_to_all(received, sent)
    for i in range(size):
        same(received[i], chainrule.full((rank + 1,), float(10 * i + rank)), f"all_to_all {i}")
    pieces = [chainrule.full((2,), float(rank * size + j)) for j in range(size)]
    mine = chainrule.zeros(2)
    work = dist.reduce_scatter(mine, pieces, async_op=True)
    work.wait()
    total = float(sum(r * size + rank for r in range(size)))
    same(mine, chainrule.full((2,), total), "reduce_scatter list")
    gathered = [None] * size if rank == size - 1 else None
    dist.gather_object({"rank": rank}, gathered, dst=size - 1)
    if rank == size - 1:
        assert gathered == [{"rank": r} for r in range(size)], gathered
    output = [None]
    dist.scatter_object_list(output, [f"for {r}" for r in range(size)] if rank == 0 else None)
    assert output == [f"for {rank}"], output
    mine_group, groups = dist.new_subgroups(1)
    assert len(groups) == size and dist.get_process_group_ranks(mine_group) == [rank]
    value = chainrule.tensor([float(rank)])
    dist.all_reduce(value, group=mine_group)  # alone in its group: unchanged
    same(value, chainrule.tensor([float(rank)]), "all_reduce in a one-rank subgroup")
    dist.monitored_barrier()
    return size + 2


def point_to_point_and_all_to_all() -> int:
    """A ring of isend/irecv, a recv from any rank, and all_to_all_single with equal and with
    uneven parts (each row holds 100 x sender + part)."""
    rank, size = dist.get_rank(), dist.get_world_size()
    after, before = (rank + 1) % size, (rank - 1) % size
    outgoing = chainrule.full((3,), float(rank), dtype=chainrule.float64)
    incoming = chainrule.zeros(3, dtype=chainrule.float64)
    works = [dist.isend(outgoing, dst=after), dist.irecv(incoming, src=before)]
    for work in works:
        work.wait()
    same(incoming, chainrule.full((3,), float(before), dtype=chainrule.float64), "ring")
    if rank == 0:
        senders = set()
        for _ in range(size - 1):
            sender = dist.recv(incoming, tag=5)
            senders.add(sender)
            same(incoming, chainrule.full((3,), float(sender), dtype=chainrule.float64), "recv")
        assert senders == set(range(1, size)), senders
    else:
        dist.send(outgoing, dst=0, tag=5)
    split = [[(r + j) % 2 + 1 for j in range(size)] for r in range(size)]  # rows r sends to j
    for splits, dtype in ((None, chainrule.float64), (split, chainrule.float64)) + (
        (split, chainrule.bfloat16),  # 16-bit words: integers below 256 are exact
    ):
        sizes = [1] * size if splits is None else splits[rank]
        rows = [float(100 * rank + j) for j in range(size) for _ in range(sizes[j])]
        source = chainrule.tensor(rows, dtype=dtype)[:, None].expand(-1, 2).clone()
        received = [1] * size if splits is None else [splits[i][rank] for i in range(size)]
        output = chainrule.zeros(sum(received), 2, dtype=dtype)
        dist.all_to_all_single(
            output,
            source,
            output_split_sizes=None if splits is None else received,
            input_split_sizes=None if splits is None else sizes,
        )
        expected = [float(100 * i + rank) for i in range(size) for _ in range(received[i])]
        same(output[:, 0], chainrule.tensor(expected, dtype=dtype), f"all_to_all {dtype}")
    dist.barrier()
    return 6


def make_regressor(seed: int, dtype: chainrule.dtype = chainrule.float64) -> nn.Module:
    chainrule.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)
    ).to(dtype)


class TwoDtypes(nn.Module):
    """Parameters of two dtypes, so gradients travel in one bucket per dtype."""

    def __init__(self) -> None:
        super().__init__()
        self.wide = nn.Linear(6, 3).double()
        self.narrow = nn.Linear(6, 3)

    def forward(self, x: chainrule.Tensor) -> chainrule.Tensor:
        return self.wide(x) + self.narrow(x.float()).double()


def two_dtype_model() -> nn.Module:
    chainrule.manual_seed(4)
    return TwoDtypes()


def flat_parameters(model: nn.Module) -> chainrule.Tensor:
    return chainrule.cat([p.detach().double().reshape(-1) for p in model.parameters()])


def identical_across_ranks(model: nn.Module) -> bool:
    mine = flat_parameters(model)
    everyone = chainrule.zeros(dist.get_world_size(), mine.numel(), dtype=mine.dtype)
    dist.all_gather_into_tensor(everyone, mine)
    return all(chainrule.equal(everyone[r], everyone[0]) for r in range(len(everyone)))


def train_both(
    build, bucket_cap_mb, buckets: int, steps: int = 5, as_view: bool = False, to_none=True
) -> float:
    """`steps` of SGD on 2 ranks, each on its half of the batch, against one process (this one,
    without communication) on the whole batch. Returns the largest parameter difference.
    `as_view`: gradient_as_bucket_view; `to_none`: zero_grad's set_to_none."""
    rank, size = dist.get_rank(), dist.get_world_size()
    generator = chainrule.Generator().manual_seed(7)
    inputs = chainrule.randn(8 * size, 6, generator=generator, dtype=chainrule.float64)
    targets = chainrule.randn(8 * size, 3, generator=generator, dtype=chainrule.float64)
    reference = build()
    replica = build()
    if rank == 1:  # a different start: DDP must take rank 0's parameters
        with chainrule.no_grad():
            for param in replica.parameters():
                param.add_(1.0)
    ddp = DistributedDataParallel(
        replica, bucket_cap_mb=bucket_cap_mb, gradient_as_bucket_view=as_view
    )
    assert len(ddp._buckets) == buckets, len(ddp._buckets)
    reference_opt = chainrule.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    ddp_opt = chainrule.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    mine = slice(8 * rank, 8 * (rank + 1))
    worst = 0.0
    for _ in range(steps):
        reference_opt.zero_grad()
        nn.functional.mse_loss(reference(inputs), targets).backward()
        reference_opt.step()
        ddp_opt.zero_grad(set_to_none=to_none)
        nn.functional.mse_loss(ddp(inputs[mine]), targets[mine]).backward()
        ddp_opt.step()
        if as_view:  # the gradients are the buckets' memory, as PyTorch's
            views = [v for bucket in ddp._buckets for v in bucket.views]
            assert all(any(p.grad is v for v in views) for p in replica.parameters())
        assert identical_across_ranks(replica), "parameters differ across ranks"
        gap = (flat_parameters(replica) - flat_parameters(reference)).abs().max().item()
        worst = max(worst, gap)
    return worst


def scenario_ddp() -> None:
    many_buckets = train_both(lambda: make_regressor(0), 0.0002, buckets=3)
    assert many_buckets < 1e-6, many_buckets
    one_bucket = train_both(lambda: make_regressor(0), None, buckets=1)
    assert one_bucket < 1e-6, one_bucket
    two_dtypes = train_both(two_dtype_model, 0.00005, buckets=2)
    assert two_dtypes < 1e-5, two_dtypes  # float32 parameters
    views = max(
        train_both(lambda: make_regressor(0), 0.0002, buckets=3, as_view=True, to_none=to_none)
        for to_none in (True, False)
    )
    assert views < 1e-6, views
    model = DistributedDataParallel(make_regressor(0))
    transport = model.process_group.transport
    shared = all(
        any(w.holds(bucket.flat._array) for w in getattr(transport, "_windows", []))
        for bucket in model._buckets
    )
    say(
        f"DDP matches one process: {many_buckets:.1e} (many buckets), {one_bucket:.1e} (one), "
        f"{two_dtypes:.1e} (float64 and float32 buckets), {views:.1e} (gradients as bucket "
        f"views); parameters bit-identical across ranks; buckets in shared memory: {shared}"
    )


def scenario_batch_share() -> None:
    """Global batches of 8, 8 and 5 rows (the last uneven), each rank training on its share
    with a summed, scaled loss: the same parameters as one process on the whole batches."""
    generator = chainrule.Generator().manual_seed(9)
    inputs = chainrule.randn(21, 6, generator=generator, dtype=chainrule.float64)
    targets = chainrule.randn(21, 3, generator=generator, dtype=chainrule.float64)
    reference = make_regressor(3)
    ddp = DistributedDataParallel(make_regressor(3))
    reference_opt = chainrule.optim.SGD(reference.parameters(), lr=0.1)
    ddp_opt = chainrule.optim.SGD(ddp.parameters(), lr=0.1)
    shares = []
    for start, stop in ((0, 8), (8, 16), (16, 21)):
        x, y = inputs[start:stop], targets[start:stop]
        reference_opt.zero_grad()
        (nn.functional.mse_loss(reference(x), y, reduction="sum") / (stop - start)).backward()
        reference_opt.step()
        rows, scale = dist.batch_share(stop - start)
        shares.append(rows.stop - rows.start)
        ddp_opt.zero_grad()
        (nn.functional.mse_loss(ddp(x[rows]), y[rows], reduction="sum") * scale).backward()
        ddp_opt.step()
    worst = (flat_parameters(ddp.module) - flat_parameters(reference)).abs().max().item()
    assert worst < 1e-6, worst
    say(f"batch_share {shares}: DDP equals one process to {worst:.1e}")


def scenario_no_sync() -> None:
    """Two micro-batches per rank, the first under no_sync: the averaged result equals one
    process's gradient on the whole batch; inside no_sync the ranks' gradients differ."""
    rank, size = dist.get_rank(), dist.get_world_size()
    generator = chainrule.Generator().manual_seed(3)
    inputs = chainrule.randn(4 * size, 6, generator=generator, dtype=chainrule.float64)
    targets = chainrule.randn(4 * size, 3, generator=generator, dtype=chainrule.float64)
    reference = make_regressor(1)
    nn.functional.mse_loss(reference(inputs), targets).backward()
    first, second = slice(4 * rank, 4 * rank + 2), slice(4 * rank + 2, 4 * rank + 4)
    worst = 0.0
    for as_view in (False, True):
        ddp = DistributedDataParallel(make_regressor(1), gradient_as_bucket_view=as_view)
        if as_view:  # a synchronised step first, so that the gradients are bucket views
            nn.functional.mse_loss(ddp(inputs[first]), targets[first]).backward()
            for param in ddp.parameters():
                param.grad.zero_()
        with ddp.no_sync():
            (nn.functional.mse_loss(ddp(inputs[first]), targets[first]) / 2).backward()
        local = chainrule.cat([p.grad.reshape(-1) for p in ddp.parameters()])
        everyone = chainrule.zeros(size, local.numel(), dtype=local.dtype)
        dist.all_gather_into_tensor(everyone, local)
        assert not chainrule.equal(everyone[0], everyone[1]), "no_sync communicated"
        (nn.functional.mse_loss(ddp(inputs[second]), targets[second]) / 2).backward()
        worst = max(
            worst,
            *(
                (ours.grad - theirs.grad).abs().max().item()
                for ours, theirs in zip(ddp.parameters(), reference.parameters())
            ),
        )
    assert worst < 1e-12, worst
    say(f"no_sync accumulation equals one big batch ({worst:.1e})")


def scenario_batchnorm() -> None:
    """Buffers are rank 0's at construction and before every forward (then each rank updates
    them with its own batch); with broadcast_buffers=False each rank keeps its own."""
    rank, size = dist.get_rank(), dist.get_world_size()
    for sync in (True, False):
        chainrule.manual_seed(5)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
        norm = model[1]
        with chainrule.no_grad():
            norm.running_mean.fill_(float(rank))  # rank 0's zeros must win at construction
        ddp = DistributedDataParallel(model, forward_sync_buffers=sync)
        assert chainrule.equal(norm.running_mean, chainrule.zeros(8)), "construction sync"
        for step in range(3):
            generator = chainrule.Generator().manual_seed(100 * step + rank)
            batch = chainrule.randn(6, 4, generator=generator) + rank
            before = [chainrule.zeros(8) for _ in range(size)]
            dist.all_gather(before, norm.running_mean.clone())
            with chainrule.no_grad():
                batch_mean = model[0](batch).mean(0)
            ddp(batch).sum().backward()
            start = before[0] if sync else before[rank]
            expected = 0.9 * start + 0.1 * batch_mean
            gap = (norm.running_mean - expected).abs().max().item()
            assert gap < 1e-5, (sync, step, gap)
            assert int(norm.num_batches_tracked) == step + 1
        everyone = [chainrule.zeros(8) for _ in range(size)]
        dist.all_gather(everyone, norm.running_mean.clone())
        differ = not chainrule.equal(everyone[0], everyone[1])
        assert differ, "each rank's last forward updates its own statistics"
    say("BatchNorm buffers follow rank 0 before each forward, as PyTorch's")


def scenario_sync_batchnorm() -> None:
    """SyncBatchNorm in a world of two refuses to train on CPU tensors, as PyTorch's (it
    pools statistics of GPU tensors only); in eval mode it normalizes with its running ones."""
    norm = nn.SyncBatchNorm(3)
    try:
        norm(chainrule.randn(4, 3))
    except ValueError as error:
        assert "SyncBatchNorm expected input tensor to be on GPU" in str(error), error
    else:
        raise AssertionError("a distributed SyncBatchNorm trained on one process's batch")
    norm.eval()
    assert norm(chainrule.ones(4, 3)).shape == (4, 3)
    say("SyncBatchNorm refuses CPU tensors across processes, as PyTorch's")


class Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Linear(4, 4).double()
        self.sometimes = nn.Linear(4, 1).double()  # used on rank 1 only
        self.never = nn.Linear(4, 1).double()

    def forward(self, x: chainrule.Tensor, use_branch: bool) -> chainrule.Tensor:
        out = self.trunk(x).sum(1, keepdim=True)
        return out + self.sometimes(x) if use_branch else out


def scenario_unused() -> None:
    rank = dist.get_rank()
    chainrule.manual_seed(2)
    model = Branches()
    ddp = DistributedDataParallel(model, find_unused_parameters=True, bucket_cap_mb=0.0001)
    x = chainrule.ones(3, 4, dtype=chainrule.float64) * (rank + 1)
    ddp(x, use_branch=rank == 1).sum().backward()
    # Rank 1's gradient of `sometimes` (its x is all 2s), averaged with rank 0's zeros.
    expected = chainrule.full((4,), 2.0 * 3, dtype=chainrule.float64) / 2
    assert model.sometimes.weight.grad is not None
    same(model.sometimes.weight.grad[0], expected, "gradient of a branch only rank 1 used")
    assert model.never.weight.grad is None, "unused everywhere: .grad stays None"
    say("find_unused_parameters: partly used parameters averaged, unused ones left alone")


def scenario_sampler() -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    for shuffle in (False, True):
        for drop_last in (False, True):
            sampler = DistributedSampler(range(10), shuffle=shuffle, drop_last=drop_last, seed=4)
            sampler.set_epoch(2)
            everyone: list = [None] * size
            dist.all_gather_object(everyone, list(sampler))
            shares = [len(share) for share in everyone]
            union = sorted(i for share in everyone for i in share)
            if drop_last:
                assert shares == [3] * size and len(set(union)) == 9, everyone
            else:
                assert shares == [4] * size and set(union) == set(range(10)), everyone
            if not shuffle and not drop_last and rank == 0:
                assert everyone == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]], everyone
    dataset = TensorDataset(chainrule.arange(10.0))
    loader = DataLoader(dataset, batch_size=2, sampler=DistributedSampler(dataset, shuffle=False))
    seen = [batch[0].tolist() for batch in loader]
    assert seen == [[rank, rank + 3], [rank + 6, (rank + 9) % 10]], seen
    say("DistributedSampler shares and pads 10 samples over 3 ranks as PyTorch")


def scenario_half_sums() -> None:
    """Every float16 and bfloat16 bit pattern (rank 0 in order, rank 1 shuffled) summed over 2
    ranks, through MPI's own float16 type and through 16-bit words with chainrule's reduction
    (the one bfloat16 always takes): each sum is the float32 sum rounded once to 16 bits."""
    rank = dist.get_rank()
    transport = dist.group.WORLD.transport
    order = chainrule.randperm(65536, generator=chainrule.Generator().manual_seed(11))
    patterns = [chainrule.arange(65536, dtype=chainrule.int32), order.to(chainrule.int32)]
    checked = []
    for dtype, native_float16 in ((chainrule.float16, True), (chainrule.float16, False)) + (
        (chainrule.bfloat16, False),
    ):
        transport._native_half = native_float16
        words = [(p - 65536 * (p > 32767).int()).to(chainrule.int16) for p in patterns]
        values = [w.view(dtype) for w in words]
        total = values[rank].clone()
        dist.all_reduce(total)
        expected = (values[0].float() + values[1].float()).to(dtype)
        both_nan = total.isnan() & expected.isnan()
        agree = (total.view(chainrule.int16) == expected.view(chainrule.int16)) | both_nan
        assert bool(agree.all()), (dtype, native_float16, int((~agree).sum()))
        checked.append(f"{dtype} ({'MPI float16' if native_float16 else '16-bit words'})")
    transport._native_half = True
    say(f"16-bit sums rounded as 16-bit arithmetic: {', '.join(checked)}")


def hooked_steps(hook=None, state=None, steps: int = 3, as_view: bool = False):
    """`steps` of SGD with DDP over 3 buckets (each rank on its half of the batch), the hook
    registered if given; the parameters after each step, flattened."""
    rank = dist.get_rank()
    generator = chainrule.Generator().manual_seed(7)
    inputs = chainrule.randn(16, 6, generator=generator, dtype=chainrule.float64)
    targets = chainrule.randn(16, 3, generator=generator, dtype=chainrule.float64)
    ddp = DistributedDataParallel(
        make_regressor(0), bucket_cap_mb=0.0002, gradient_as_bucket_view=as_view
    )
    assert len(ddp._buckets) == 3, len(ddp._buckets)
    if hook is not None:
        ddp.register_comm_hook(state, hook)
    optimizer = chainrule.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    mine = slice(8 * rank, 8 * (rank + 1))
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.mse_loss(ddp(inputs[mine]), targets[mine]).backward()
        optimizer.step()
        assert identical_across_ranks(ddp.module), "parameters differ across ranks"
        history.append(flat_parameters(ddp.module))
    return history


def compressed_average(local: chainrule.Tensor, dtype: chainrule.dtype) -> chainrule.Tensor:
    """What a compression hook must give, computed here from every rank's own gradient: each
    cast to `dtype` and divided by the world size in it, as PyTorch's hook, then added in
    16-bit arithmetic (each sum rounded once), and cast back."""
    size = dist.get_world_size()
    everyone = chainrule.zeros(size, local.numel(), dtype=local.dtype)
    dist.all_gather_into_tensor(everyone, local)
    parts = [everyone[r].to(dtype).div_(size) for r in range(size)]
    total = parts[0]
    for part in parts[1:]:
        total = (total.float() + part.float()).to(dtype)
    return total.to(local.dtype)


def one_hooked_gradient(hook, no_sync: bool = False) -> tuple:
    """One backward of a float32 model (3 buckets) with `hook`: (DDP's gradient, this rank's
    own gradient of the same batch without DDP), flattened. With `no_sync`, a first backward
    inside no_sync accumulates before the synchronised one."""
    rank = dist.get_rank()
    generator = chainrule.Generator().manual_seed(100 + rank)
    x = chainrule.randn(8, 6, generator=generator)
    y = chainrule.randn(8, 3, generator=generator)
    bare = make_regressor(0, chainrule.float32)
    ddp = DistributedDataParallel(make_regressor(0, chainrule.float32), bucket_cap_mb=0.0001)
    assert len(ddp._buckets) == 3, len(ddp._buckets)
    ddp.register_comm_hook(None, hook)
    passes = 2 if no_sync else 1
    for index in range(passes):
        nn.functional.mse_loss(bare(x * (index + 1)), y).backward()
        if index + 1 < passes:
            with ddp.no_sync():
                nn.functional.mse_loss(ddp(x * (index + 1)), y).backward()
        else:
            nn.functional.mse_loss(ddp(x * (index + 1)), y).backward()

    def gradients(model: nn.Module) -> chainrule.Tensor:
        return chainrule.cat([p.grad.reshape(-1) for p in model.parameters()])

    return gradients(ddp.module), gradients(bare)


def scenario_comm_hooks() -> None:
    size = dist.get_world_size()
    # allreduce_hook is DDP without a hook, to the bit, with and without bucket views.
    for as_view in (False, True):
        plain = hooked_steps(as_view=as_view)
        hooked = hooked_steps(default_hooks.allreduce_hook, as_view=as_view)
        assert all(chainrule.equal(a, b) for a, b in zip(plain, hooked)), "allreduce_hook"
    # The compression hooks, and the wrappers around allreduce_hook, give exactly the 16-bit
    # average of the ranks' own gradients; that is not the float32 average.
    compressions = {
        "fp16_compress_hook": (default_hooks.fp16_compress_hook, chainrule.float16),
        "bf16_compress_hook": (default_hooks.bf16_compress_hook, chainrule.bfloat16),
        "fp16_compress_wrapper(allreduce_hook)": (
            default_hooks.fp16_compress_wrapper(default_hooks.allreduce_hook),
            chainrule.float16,
        ),
        "bf16_compress_wrapper(allreduce_hook)": (
            default_hooks.bf16_compress_wrapper(default_hooks.allreduce_hook),
            chainrule.bfloat16,
        ),
    }
    for name, (hook, dtype) in compressions.items():
        for no_sync in (False, True):
            ours, local = one_hooked_gradient(hook, no_sync)
            same(ours, compressed_average(local, dtype), f"{name}, no_sync={no_sync}")
            exact = local.clone()
            dist.all_reduce(exact, op=dist.ReduceOp.AVG)
            assert not chainrule.equal(ours, exact), f"{name} did not compress"
    # A hook of one's own: sum with get_future().then(...), divide afterwards.
    seen = []

    def sum_then_divide(state: dict, bucket: dist.GradBucket) -> Future[chainrule.Tensor]:
        seen.append((bucket.index(), bucket.is_last(), len(bucket.parameters())))
        assert all(g.shape == p.shape for g, p in zip(bucket.gradients(), bucket.parameters()))
        work = dist.all_reduce(bucket.buffer(), async_op=True)
        return work.get_future().then(lambda fut: fut.value()[0] / state["size"])

    own = hooked_steps(sum_then_divide, state={"size": size})
    assert all(chainrule.equal(a, b) for a, b in zip(plain, own)), "sum, then divide"
    assert seen[:3] == [(0, False, 2), (1, False, 2), (2, True, 2)], seen

    # A hook that communicates nothing: a Future completed by hand, each rank its own gradient.
    def keep(state: object, bucket: dist.GradBucket) -> Future[chainrule.Tensor]:
        fut = Future()
        fut.set_result(bucket.buffer())
        return fut

    ours, local = one_hooked_gradient(keep)
    same(ours, local, "a hook returning the bucket unchanged")
    # find_unused_parameters: a hook sees the zeros of a parameter unused here, and a
    # parameter unused on every rank keeps its .grad None, as without a hook.
    rank = dist.get_rank()
    chainrule.manual_seed(2)
    model = Branches()
    ddp = DistributedDataParallel(model, find_unused_parameters=True, bucket_cap_mb=0.0001)
    ddp.register_comm_hook(None, default_hooks.allreduce_hook)
    x = chainrule.ones(3, 4, dtype=chainrule.float64) * (rank + 1)
    ddp(x, use_branch=rank == 1).sum().backward()
    expected = chainrule.full((4,), 2.0 * 3, dtype=chainrule.float64) / 2
    same(model.sometimes.weight.grad[0], expected, "a branch only rank 1 used, with a hook")
    assert model.never.weight.grad is None, "unused everywhere, with a hook"
    say(
        f"communication hooks: allreduce_hook equals no hook bit for bit; "
        f"{', '.join(compressions)} equal the 16-bit average; a then() hook of one's own works"
    )
    hook_rules()


def hook_rules() -> None:
    """PyTorch's rules, and its error types and messages."""
    ddp = DistributedDataParallel(make_regressor(0))
    x = chainrule.ones(2, 6, dtype=chainrule.float64)
    ddp(x).sum().backward()  # registering after a backward is allowed, as in PyTorch 2.13
    ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)
    problems = []

    def expect(error_type, message, call) -> None:
        try:
            call()
        except error_type as error:
            assert message in str(error), (message, str(error))
            problems.append(error_type.__name__)
        else:
            raise AssertionError(f"no {error_type.__name__}: {message}")

    expect(
        RuntimeError,
        "register_comm_hook or register_builtin_comm_hook can only be called once.",
        lambda: ddp.register_comm_hook(None, default_hooks.allreduce_hook),
    )
    fresh = DistributedDataParallel(make_regressor(0))
    expect(
        TypeError, "Communication hook must be callable.", lambda: fresh.register_comm_hook(None, 3)
    )

    def badly_annotated(state: object, bucket: int) -> Future[chainrule.Tensor]:
        return Future()

    expect(
        ValueError,
        "Communication hook: bucket annotation should be dist.GradBucket.",
        lambda: fresh.register_comm_hook(None, badly_annotated),
    )
    fresh.register_comm_hook(None, lambda state, bucket: bucket.buffer())
    expect(
        RuntimeError,
        "DDP communication hook's callback must return a torch.futures.Future object, but got "
        "Tensor",
        lambda: fresh(x).sum().backward(),
    )

    def too_short(state: object, bucket: dist.GradBucket) -> Future[chainrule.Tensor]:
        fut = Future()
        fut.set_result(bucket.buffer()[:1])
        return fut

    short = DistributedDataParallel(make_regressor(0))
    short.register_comm_hook(None, too_short)
    expect(
        RuntimeError,
        "but the hook's Future holds a tensor of shape (1,)",
        lambda: short(x).sum().backward(),
    )
    say(f"hook rules as PyTorch's: {', '.join(problems)}")


def scenario_powersgd() -> None:
    """PowerSGD over 2 ranks and 3 buckets (P and Q all-reduced inside the Future's callbacks):
    at full rank the same training as plain DDP; at rank 1 a different one, with parameters
    bit-identical across ranks after every step (hooked_steps checks), bucket views or not."""
    plain = hooked_steps(steps=5)
    for as_view in (False, True):
        full = PowerSGDState(
            None, matrix_approximation_rank=16, start_powerSGD_iter=2, min_compression_rate=0
        )
        lossless = hooked_steps(powerSGD_hook, state=full, steps=5, as_view=as_view)
        gap = max((a - b).abs().max().item() for a, b in zip(plain, lossless))
        assert gap < 1e-10, gap
        low = PowerSGDState(None, matrix_approximation_rank=1, start_powerSGD_iter=2)
        compressed = hooked_steps(powerSGD_hook, state=low, steps=5, as_view=as_view)
        assert chainrule.equal(compressed[1], plain[1]), "plain all-reduce before iteration 2"
        assert not chainrule.equal(compressed[-1], plain[-1]), "rank 1 compressed nothing"
    say(f"PowerSGD: full rank equals plain DDP ({gap:.1e}); rank 1 identical across ranks")


SHARED_DTYPES = [chainrule.float32, chainrule.float64, chainrule.uint8, chainrule.int32]


def shared_tensor(count: int, dtype: chainrule.dtype) -> chainrule.Tensor:
    """A tensor over memory every rank maps (as DDP's buckets are), from the default group."""
    group = dist.process_group.resolve_group(None, "shared_tensor")
    array = group.shared_array(count, chainrule.empty(0, dtype=dtype)._array.dtype)
    assert array is not None, "the ranks of one machine share memory"
    return chainrule.Tensor._from_array(array, chainrule.empty(0)._backend)


def scenario_shared_memory() -> None:
    """All-reduces of shared memory: each op and dtype against the local reduction (a block
    boundary and parts smaller than the ranks included), the same bits on every rank, and with
    two ranks the same bits as MPI's own all-reduce of random floats."""
    rank, size = dist.get_rank(), dist.get_world_size()
    checks = 0
    for count in (1, size + 1, 3 * 16384 + 5):
        for dtype in SHARED_DTYPES:
            everyone = [inputs_of(r, dtype, (count,), salt=count) for r in range(size)]
            for op in ops_for(dtype)[:5]:
                tensor = shared_tensor(count, dtype)
                tensor.copy_(everyone[rank])
                dist.all_reduce(tensor, op=op)
                expected = expected_reduction(op, everyone, dtype)
                same(tensor, expected, f"shared all_reduce {op} {dtype} of {count}")
                checks += 1
    noise = chainrule.randn(50_000, generator=chainrule.Generator().manual_seed(rank))
    shared, private = shared_tensor(noise.numel(), noise.dtype), noise.clone()
    shared.copy_(noise)
    dist.all_reduce(shared, async_op=True).wait()
    dist.all_reduce(private)
    assert size > 2 or chainrule.equal(shared, private), "two ranks: MPI's bits"
    everyone = [chainrule.zeros_like(shared) for _ in range(size)]
    dist.all_gather(everyone, shared)
    assert all(chainrule.equal(t, everyone[0]) for t in everyone), "ranks differ"
    say(f"{checks} shared-memory all-reduces checked; the same bits on every rank")


def scenario_shared_fault() -> None:
    """Rank 1 fails while rank 0 waits in an all-reduce of shared memory."""
    tensor = shared_tensor(4, chainrule.float32)
    if dist.get_rank() == 1:
        raise ValueError("rank one gives up")
    dist.all_reduce(tensor)
    say("not reached")


def scenario_fault() -> None:
    if dist.get_rank() == 1:
        raise ValueError("rank one gives up")
    dist.all_reduce(chainrule.ones(3))  # waits for rank 1, which never comes
    say("not reached")


def scenario_mismatch() -> None:
    rank = dist.get_rank()
    try:
        dist.all_reduce(chainrule.ones(3 + rank))
    except dist.DistError as error:
        say(f"caught: {error}")
    if rank == 0:
        dist.all_reduce(chainrule.ones(2, dtype=chainrule.float64))
    else:
        dist.broadcast(chainrule.ones(2, dtype=chainrule.float32), src=0)
    say("not reached")


def scenario_early_exit() -> None:
    """Rank 1 ends its script (sys.exit) without the collective rank 0 waits in."""
    if dist.get_rank() == 1:
        sys.exit(0)
    dist.all_reduce(chainrule.ones(2))
    say("not reached")


def scenario_timeout() -> None:
    """Rank 1 never joins the collective: rank 0 times out instead of hanging (the wait's own
    timeout here; a collective without async_op uses the group's)."""
    if dist.get_rank() == 0:
        dist.all_reduce(chainrule.ones(2), async_op=True).wait(datetime.timedelta(seconds=1))
    time.sleep(30)


def main() -> None:
    scenario = sys.argv[1]
    if scenario == "init_timeout":  # rank 1 starts MPI late: rank 0's MPI_Init waits
        if os.environ.get("PMI_RANK") == "1":
            time.sleep(3)
        dist.init_process_group(timeout=datetime.timedelta(seconds=1))
        return
    if scenario == "join_timeout":  # MPI is up everywhere, but rank 1 joins the group late
        from mpi4py import MPI

        if MPI.COMM_WORLD.Get_rank() == 1:  # late by far more than rank 0's timeout, even when
            time.sleep(8)  # rank 0 starts seconds after it on a loaded machine
        dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=1))
        return
    dist.init_process_group(timeout=datetime.timedelta(seconds=60))
    globals()[f"scenario_{scenario}"]()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
