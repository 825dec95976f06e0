"""`chainrule.backends` (PyTorch's `torch.backends`): the flags PyTorch programs set on its
backends. Not the array seam, which is `chainrule/backend/` (NumPy, CuPy). chainrule has no
cuDNN and no MPS, so the flags are kept (a script that sets `backends.cudnn.benchmark = True`
runs) and the availability queries answer False."""

from types import SimpleNamespace


def _unavailable() -> bool:
    return False


cudnn = SimpleNamespace(
    enabled=True,
    benchmark=False,
    deterministic=False,
    allow_tf32=True,
    is_available=_unavailable,
)
mps = SimpleNamespace(is_available=_unavailable, is_built=_unavailable)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False))

__all__ = ["cuda", "cudnn", "mps"]
