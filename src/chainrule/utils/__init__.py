"""Utilities under PyTorch's paths: `chainrule.utils.data` is `chainrule.data`."""

import importlib as _importlib
import sys as _sys

from chainrule import data
from chainrule.utils import checkpoint  # the module, as torch.utils.checkpoint

_sys.modules[__name__ + ".data"] = data  # so `import chainrule.utils.data` works as in torch

__all__ = ["checkpoint", "data", "dlpack", "hooks", "model_zoo"]


def __getattr__(name: str) -> object:
    """`torch.utils.hooks`, `torch.utils.dlpack` and `torch.utils.model_zoo` load on first
    use, as in PyTorch (hooks names nn's handle, which `import chainrule.utils` need not
    load; model_zoo, the hub's weight cache)."""
    if name in ("dlpack", "hooks", "model_zoo"):
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
