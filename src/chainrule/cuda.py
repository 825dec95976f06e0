"""`chainrule.cuda`: the queries PyTorch programs make before choosing a device
(`torch.cuda.is_available()`), answered through CuPy. Without CuPy or a GPU they say so:
is_available() is False and seeding is silently ignored, as in PyTorch."""

from chainrule.backend.runtime import cuda_device_count as device_count
from chainrule.backend.runtime import cuda_is_available as is_available
from chainrule.backend.runtime import cuda_manual_seed as manual_seed
from chainrule.backend.runtime import cuda_manual_seed as manual_seed_all
from chainrule.backend.runtime import cuda_synchronize as synchronize

__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all", "synchronize"]
