"""Utilities under PyTorch's paths: `chainrule.utils.data` is `chainrule.data`."""

import sys

from chainrule import data
from chainrule.utils import checkpoint  # the module, as torch.utils.checkpoint

sys.modules[__name__ + ".data"] = data  # so `import chainrule.utils.data` works as in torch

__all__ = ["checkpoint", "data"]
