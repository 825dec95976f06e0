"""`chainrule.cuda.amp` (torch.cuda.amp): autocast and GradScaler with the device fixed to
'cuda' (deprecated in PyTorch in favour of `chainrule.amp`, with the same FutureWarning)."""

from chainrule.amp.device_amp import CudaAutocast as autocast  # noqa: N813 - PyTorch's name
from chainrule.amp.device_amp import CudaGradScaler as GradScaler

__all__ = ["GradScaler", "autocast"]
