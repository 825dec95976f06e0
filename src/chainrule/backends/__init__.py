"""`chainrule.backends` (PyTorch's `torch.backends`): the flags PyTorch programs set on its
backends. Not the array seam, which is `chainrule/backend/` (NumPy, CuPy). chainrule has no
cuDNN, oneDNN, OpenMP or MPS, so the flags are kept (a script that sets
`backends.cudnn.benchmark = True` or imports `torch.backends.cudnn as cudnn` runs) and the
availability queries answer False."""

from chainrule.backends import cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkldnn", "mps", "openmp"]
