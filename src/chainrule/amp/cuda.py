"""`chainrule.cuda.amp` (torch.cuda.amp): autocast and GradScaler with the device fixed to
'cuda' (deprecated in PyTorch in favour of `chainrule.amp`, with the same FutureWarning)."""

from chainrule.amp.device_amp import CudaAutocast as autocast  # noqa: N813 - PyTorch's name
from chainrule.amp.device_amp import CudaGradScaler as GradScaler
from chainrule.amp.device_amp import cuda_custom_bwd as custom_bwd
from chainrule.amp.device_amp import cuda_custom_fwd as custom_fwd

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]
