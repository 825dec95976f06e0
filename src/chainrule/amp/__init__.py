"""`chainrule.amp`: automatic mixed precision, as `torch.amp`.

`autocast(device_type, dtype)` runs PyTorch's listed ops (matmul, linear, convolutions) in
the lower dtype and its float32 list (the losses) in float32 (chainrule/ops/autocast.py);
`GradScaler` scales the loss so float16 gradients do not underflow, and skips steps whose
gradients overflowed (amp/grad_scaler.py). `chainrule.cpu.amp` and `chainrule.cuda.amp` hold
the per-device spellings PyTorch keeps (deprecated there, with a FutureWarning).
"""

from chainrule.amp.custom import custom_bwd, custom_fwd
from chainrule.amp.grad_scaler import GradScaler
from chainrule.ops.autocast import autocast, get_autocast_dtype, is_autocast_enabled


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports `device_type` ('cpu', 'cuda', and chainrule's 'fake')."""
    return device_type in ("cpu", "cuda", "fake")


__all__ = [
    "GradScaler",
    "autocast",
    "custom_bwd",
    "custom_fwd",
    "get_autocast_dtype",
    "is_autocast_available",
    "is_autocast_enabled",
]
