"""`chainrule.version`: what programs read from `torch.version` to describe their
environment. chainrule reaches a GPU through CuPy, not a CUDA build of its own, so `cuda` is
None as in PyTorch's CPU builds (ask `chainrule.cuda.is_available()` instead).

>>> import chainrule.version
>>> chainrule.version.cuda is None
True
"""

__all__ = ["__version__", "cuda", "debug", "git_version", "hip"]

__version__ = "0.1.0"  # chainrule's own, as chainrule.__version__
cuda: str | None = None
hip: str | None = None
debug = False
git_version = "unknown"
