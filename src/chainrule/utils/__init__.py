"""Utilities under PyTorch's paths: `chainrule.utils.data` is `chainrule.data`."""

import sys

from chainrule import data

sys.modules[__name__ + ".data"] = data  # so `import chainrule.utils.data` works as in torch

__all__ = ["data"]
