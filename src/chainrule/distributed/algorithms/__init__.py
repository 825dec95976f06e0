"""torch.distributed.algorithms: what DistributedDataParallel can be told to do with gradients
(`ddp_comm_hooks`)."""

from chainrule.distributed.algorithms import ddp_comm_hooks

__all__ = ["ddp_comm_hooks"]
