"""`chainrule.cpu.amp` (torch.cpu.amp): autocast and GradScaler with the device fixed to 'cpu'
(deprecated in PyTorch in favour of `chainrule.amp`, with the same FutureWarning)."""

from chainrule.amp.device_amp import CpuAutocast as autocast  # noqa: N813 - PyTorch's name
from chainrule.amp.device_amp import CpuGradScaler as GradScaler

__all__ = ["GradScaler", "autocast"]
