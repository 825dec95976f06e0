"""Data-parallel training across processes and machines over MPI, with torch.distributed's
names: launch `mpiexec -n 2 python train.py` and call `init_process_group()` in the script.

The collectives hand MPI the tensors' own memory (no pickling, no copies when contiguous); GPU
tensors are staged through host memory. With the "single" backend (the default when no MPI
launcher started the process) the same script runs as one process, without MPI installed.
`nn.parallel.DistributedDataParallel` and `data.distributed.DistributedSampler` build on this;
DDP's communication hooks (`register_comm_hook`, `GradBucket`) are in
`distributed.algorithms.ddp_comm_hooks`. See docs/distributed.md.

>>> import chainrule, chainrule.distributed as dist
>>> dist.init_process_group()          # "single" here; "mpi" under mpiexec
>>> dist.get_world_size()
1
>>> dist.destroy_process_group()
"""

from chainrule.distributed.batches import batch_share
from chainrule.distributed.collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    broadcast_object_list,
    gather,
    gather_object,
    irecv,
    isend,
    monitored_barrier,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    scatter_object_list,
    send,
    wait_seconds,
)
from chainrule.distributed.grad_bucket import BuiltinCommHookType, GradBucket
from chainrule.distributed.process_group import (
    Backend,
    DistBackendError,
    DistError,
    GroupMember,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_node_local_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    is_ucc_available,
    is_xccl_available,
    new_group,
    new_subgroups,
    new_subgroups_by_enumeration,
)

__all__ = [
    "Backend",
    "BuiltinCommHookType",
    "DistBackendError",
    "DistError",
    "GradBucket",
    "GroupMember",
    "ProcessGroup",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "all_to_all",
    "all_to_all_single",
    "barrier",
    "batch_share",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "gather",
    "gather_object",
    "get_backend",
    "get_global_rank",
    "get_group_rank",
    "get_node_local_rank",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "irecv",
    "is_available",
    "is_gloo_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "is_torchelastic_launched",
    "is_ucc_available",
    "is_xccl_available",
    "isend",
    "monitored_barrier",
    "new_group",
    "new_subgroups",
    "new_subgroups_by_enumeration",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "scatter_object_list",
    "send",
    "wait_seconds",
]
