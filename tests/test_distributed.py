"""chainrule.distributed in one process (the "single" backend, world size 1), specified against
PyTorch where it can be run without a process group; the multi-process behaviour is tested
under mpiexec in tests/test_distributed_mpi.py."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchDistributedSampler

import chainrule
import chainrule.distributed as dist
from chainrule import nn
from chainrule.data.distributed import DistributedSampler
from chainrule.errors import DTypeError, ShapeError
from chainrule.nn.parallel import DistributedDataParallel


@pytest.fixture
def single():
    dist.init_process_group("single")
    yield
    dist.destroy_process_group()


def test_using_the_default_group_before_init_raises_as_torch():
    with pytest.raises(ValueError) as theirs:
        torch.distributed.get_rank()
    with pytest.raises(ValueError) as ours:
        dist.get_rank()
    assert str(ours.value) == str(theirs.value)
    assert not dist.is_initialized()


def test_one_process_group_without_mpi(single):
    assert dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "single")
    assert dist.group.WORLD is not None and dist.get_process_group_ranks(dist.group.WORLD) == [0]
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("single")


def test_single_backend_refuses_a_larger_world():
    with pytest.raises(ValueError, match="one process"):
        dist.init_process_group("single", world_size=2)
    assert not dist.is_initialized()


def test_torch_backend_names_are_taken_with_a_warning():
    with pytest.warns(UserWarning, match="'gloo' is treated as 'single'"):
        dist.init_process_group("gloo")
    dist.destroy_process_group()


def test_collectives_of_one_process_keep_values_and_bump_versions(single):
    t = chainrule.tensor([1.0, -2.0])
    version = t._version
    assert dist.all_reduce(t, op=dist.ReduceOp.AVG) is None
    assert chainrule.equal(t, chainrule.tensor([1.0, -2.0])) and t._version == version + 1
    work = dist.broadcast(t, src=0, async_op=True)
    assert isinstance(work, dist.Work) and work.wait() and work.is_completed()
    out = chainrule.zeros(1, 2)
    dist.all_gather_into_tensor(out, t)
    assert chainrule.equal(out, t[None])
    gathered = [chainrule.zeros(2)]
    dist.all_gather(gathered, t)
    assert chainrule.equal(gathered[0], t)
    part = chainrule.zeros(2)
    dist.reduce_scatter_tensor(part, t * 3)
    assert chainrule.equal(part, t * 3)
    objects = [None]
    dist.all_gather_object(objects, {"step": 3})
    assert objects == [{"step": 3}]
    listed = ["kept"]
    dist.broadcast_object_list(listed, src=0)
    assert listed == ["kept"]
    dist.barrier()
    assert dist.wait_seconds() >= 0.0


def test_collective_argument_errors_name_the_call(single):
    with pytest.raises(DTypeError, match="all_reduce: ReduceOp.AVG needs a floating tensor"):
        dist.all_reduce(chainrule.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(DTypeError, match="needs an integer or bool tensor"):
        dist.all_reduce(chainrule.tensor([1.0]), op=dist.ReduceOp.BXOR)
    with pytest.raises(ShapeError, match=r"output of shape \(3,\) must hold world_size \(1\)"):
        dist.all_gather_into_tensor(chainrule.zeros(3), chainrule.zeros(2))
    with pytest.raises(DTypeError, match="same dtype"):
        dist.reduce_scatter_tensor(chainrule.zeros(2), chainrule.zeros(2, dtype=chainrule.int64))
    with pytest.raises(ValueError, match="rank 1 is not part of"):
        dist.broadcast(chainrule.zeros(2), src=1)
    with pytest.raises(TypeError, match="expected parameter `tensor` of type Tensor"):
        dist.all_reduce([1.0, 2.0])
    with pytest.raises(
        ValueError, match=r"tensor_list must hold 1 tensors \(one per rank\), got 2"
    ):
        dist.all_gather([chainrule.zeros(2), chainrule.zeros(2)], chainrule.zeros(2))


def test_point_to_point_needs_another_rank(single):
    with pytest.raises(ValueError, match="Invalid dst rank: should not be the same"):
        dist.send(chainrule.zeros(2), dst=0)
    with pytest.raises(ValueError, match="no other rank to receive from"):
        dist.recv(chainrule.zeros(2))


def test_rooted_collectives_of_one_process(single):
    t = chainrule.tensor([1.0, 2.0])
    dist.reduce(t, dst=0, op=dist.ReduceOp.AVG)
    assert chainrule.equal(t, chainrule.tensor([1.0, 2.0]))
    gathered = [chainrule.zeros(2)]
    dist.gather(t * 2, gathered, dst=0)
    assert chainrule.equal(gathered[0], t * 2)
    mine = chainrule.zeros(2)
    dist.scatter(mine, [t * 3], src=0)
    assert chainrule.equal(mine, t * 3)
    out = chainrule.zeros(2)
    dist.all_to_all_single(out, t)
    assert chainrule.equal(out, t)
    with pytest.raises(ValueError, match="give exactly one of dst and group_dst"):
        dist.reduce(t)
    with pytest.raises(ShapeError, match=r"input_split_sizes \[1\] must give 1 parts summing"):
        dist.all_to_all_single(out, t, input_split_sizes=[1])


def test_new_group_ranks_and_non_members(single):
    group = dist.new_group([0])
    assert dist.get_rank(group) == 0 and dist.get_global_rank(group, 0) == 0
    with pytest.raises(ValueError, match="out of range"):
        dist.new_group([0, 1])
    assert dist.get_rank(dist.GroupMember.NON_GROUP_MEMBER) == -1
    assert dist.all_reduce(chainrule.ones(1), group=dist.GroupMember.NON_GROUP_MEMBER) is None
    dist.destroy_process_group(group)


def test_importing_distributed_loads_no_mpi_until_an_mpi_group_is_made():
    code = (
        "import sys, chainrule, chainrule.distributed as dist\n"
        "from chainrule.nn.parallel import DistributedDataParallel\n"
        "dist.init_process_group()\n"
        "print('mpi4py' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


class Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.used = nn.Linear(3, 2)
        self.never = nn.Linear(3, 2)

    def forward(self, x):
        return self.used(x)


def test_ddp_of_one_process_gives_the_plain_module_gradients(single):
    chainrule.manual_seed(0)
    plain = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    chainrule.manual_seed(0)
    wrapped = DistributedDataParallel(
        nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), bucket_cap_mb=0.00003
    )
    assert len(wrapped._buckets) > 1
    x = chainrule.randn(5, 3)
    plain(x).pow(2).sum().backward()
    wrapped(x).pow(2).sum().backward()
    for ours, theirs in zip(wrapped.module.parameters(), plain.parameters()):
        assert chainrule.equal(ours.grad, theirs.grad)


def test_ddp_bucket_capacity_in_bytes_is_torchs(single):
    """bucket_cap_mb counts MiB: bucket_bytes_cap is int(mb * 1024 * 1024), as torch's
    attribute, 25 MiB by default."""
    assert DistributedDataParallel(nn.Linear(2, 2)).bucket_bytes_cap == 25 * 1024 * 1024
    half = DistributedDataParallel(nn.Linear(2, 2), bucket_cap_mb=0.5)
    assert half.bucket_bytes_cap == 512 * 1024


def test_ddp_names_parameters_that_got_no_gradient(single):
    model = DistributedDataParallel(Branches())
    for _ in range(2):  # the next iteration starts afresh
        with pytest.raises(dist.DistError, match=r"parameters module\.never\.weight, module\."):
            model(chainrule.ones(1, 3)).sum().backward()
    lenient = DistributedDataParallel(Branches(), find_unused_parameters=True)
    lenient(chainrule.ones(1, 3)).sum().backward()
    assert lenient.module.never.weight.grad is None
    assert lenient.module.used.weight.grad is not None


def test_ddp_state_dict_keys_carry_the_module_prefix_and_load_either_way(single):
    model = nn.Linear(3, 2)
    wrapped = DistributedDataParallel(model)
    assert list(wrapped.state_dict()) == ["module." + key for key in model.state_dict()]
    fresh = nn.Linear(3, 2)
    DistributedDataParallel(fresh).load_state_dict(model.state_dict())  # bare keys
    assert chainrule.equal(fresh.weight, model.weight)
    DistributedDataParallel(fresh).load_state_dict(wrapped.state_dict())  # prefixed keys
    assert wrapped.module is model


def test_ddp_refuses_a_module_without_trainable_parameters(single):
    with pytest.raises(RuntimeError, match="doesn't have any parameter"):
        DistributedDataParallel(nn.ReLU())


def test_ddp_warns_that_broadcast_buffers_is_deprecated_as_torch(single):
    with pytest.warns(FutureWarning, match="`broadcast_buffers` is deprecated"):
        DistributedDataParallel(nn.Linear(2, 2), broadcast_buffers=False)


@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_without_shuffle_is_torchs(drop_last):
    for size in range(1, 12):
        for replicas in (1, 2, 3, 5):
            for rank in range(replicas):
                ours = DistributedSampler(range(size), replicas, rank, False, drop_last=drop_last)
                theirs = TorchDistributedSampler(range(size), replicas, rank, False, 0, drop_last)
                assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_is_exported_where_torch_exports_it():
    import chainrule.utils.data

    assert chainrule.utils.data.DistributedSampler is DistributedSampler
    assert "DistributedSampler" in chainrule.utils.data.__all__


def test_distributed_sampler_shuffles_alike_on_every_rank_and_anew_each_epoch():
    def shares(epoch):
        samplers = [DistributedSampler(range(11), 3, rank, seed=5) for rank in range(3)]
        for sampler in samplers:
            sampler.set_epoch(epoch)
        return [list(sampler) for sampler in samplers]

    first = shares(0)
    padded = [index for share in first for index in share]
    assert len(padded) == 12 and set(padded) == set(range(11))  # one index repeated
    assert shares(0) == first and shares(1) != first


def test_distributed_sampler_rejects_a_rank_outside_the_world_as_torch():
    with pytest.raises(ValueError) as theirs:
        TorchDistributedSampler(range(3), 2, 2)
    with pytest.raises(ValueError) as ours:
        DistributedSampler(range(3), 2, 2)
    assert str(ours.value) == str(theirs.value)


def test_distributed_sampler_takes_rank_and_size_from_the_default_group(single):
    sampler = DistributedSampler(range(4), shuffle=False)
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, [0, 1, 2, 3])


def test_backend_names_and_availability_queries_as_torch(monkeypatch):
    import torch.distributed as torch_dist

    for name in ("GLOO", "nccl", "Mpi"):
        assert dist.Backend(name) == torch_dist.Backend(name) == name.lower()
    assert (dist.Backend.GLOO, dist.Backend.NCCL, dist.Backend.MPI) == ("gloo", "nccl", "mpi")
    # chainrule's transports are MPI and one process: no NCCL or Gloo behind these names
    assert not dist.is_nccl_available() and not dist.is_gloo_available()
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    assert dist.is_torchelastic_launched() is torch_dist.is_torchelastic_launched() is False
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job")
    assert dist.is_torchelastic_launched() and torch_dist.is_torchelastic_launched()
    for variable in ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"):
        monkeypatch.delenv(variable, raising=False)
    assert dist.get_node_local_rank(fallback_rank=3) == torch_dist.get_node_local_rank(3) == 3
    with pytest.raises(RuntimeError, match="LOCAL_RANK is not in the environment"):
        dist.get_node_local_rank()
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert dist.get_node_local_rank() == torch_dist.get_node_local_rank() == 1


def test_list_and_object_collectives_on_one_process(single):
    received = [chainrule.zeros(3)]
    dist.all_to_all(received, [chainrule.arange(3.0)])
    assert received[0].tolist() == [0.0, 1.0, 2.0]
    out = chainrule.zeros(2)
    dist.reduce_scatter(out, [chainrule.ones(2) * 5])
    assert out.tolist() == [5.0, 5.0]
    gathered = [None]
    dist.gather_object({"a": 1}, gathered)
    assert gathered == [{"a": 1}]
    output = [None]
    dist.scatter_object_list(output, ["only"])
    assert output == ["only"]
    with pytest.raises(ValueError, match="must hold 1 entries"):
        dist.gather_object(1, [None, None])
    with pytest.raises(ValueError, match="must hold 1 tensors"):
        dist.all_to_all([], [chainrule.zeros(1)])
    dist.monitored_barrier()


def test_new_subgroups_splits_the_world_and_checks_the_size_as_torch(single):
    mine, groups = dist.new_subgroups(1)
    assert len(groups) == 1 and dist.get_process_group_ranks(mine) == [0]
    with pytest.raises(ValueError, match="must be positive"):
        dist.new_subgroups(0)
    with pytest.raises(ValueError, match="must not exceed the world size"):
        dist.new_subgroups(2)
    with pytest.raises(ValueError, match="only takes effect when CUDA is available"):
        dist.new_subgroups()
    with pytest.raises(ValueError, match="appeared in both subgroup"):
        dist.new_subgroups_by_enumeration([[0], [0]])
