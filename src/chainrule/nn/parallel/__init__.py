"""Training one model on several processes (torch.nn.parallel): `DistributedDataParallel`;
`DataParallel` wraps a module and runs it on its one device."""

from chainrule.nn.parallel.data_parallel import DataParallel, data_parallel
from chainrule.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
