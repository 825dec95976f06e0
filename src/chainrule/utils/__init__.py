"""Utilities under PyTorch's paths: `chainrule.utils.data` is `chainrule.data`."""

import sys as _sys

from chainrule import data
from chainrule.utils import checkpoint  # the module, as torch.utils.checkpoint

_sys.modules[__name__ + ".data"] = data  # so `import chainrule.utils.data` works as in torch

__all__ = ["checkpoint", "data"]
