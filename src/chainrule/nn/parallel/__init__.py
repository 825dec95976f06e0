"""Training one model on several processes (torch.nn.parallel): `DistributedDataParallel`."""

from chainrule.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
