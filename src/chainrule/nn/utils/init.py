"""`skip_init`: a module whose parameters are left uninitialised, as torch.nn.utils's."""

from __future__ import annotations

import inspect
from typing import Any

from chainrule.nn.modules.module import Module


def skip_init(module_cls: type, *args: object, **kwargs: object) -> Module:
    """`module_cls(*args, **kwargs)` without running its initialisation of the parameters:
    built on the meta device (no memory, no random draws), then given uninitialised memory on
    `device` (default the CPU). For modules that take a `device` argument.

    Args:
        module_cls (type): a Module class.
        *args: its positional arguments.
        **kwargs: its keyword arguments (`device`: where the parameters go).

    Returns:
        Module: with uninitialised parameters.

    Example:
        >>> from chainrule import nn
        >>> layer = nn.utils.skip_init(nn.Linear, 6, 1)
        >>> tuple(layer.weight.shape), layer.weight.device.type
        ((1, 6), 'cpu')
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    options: dict[str, Any] = dict(kwargs)
    final_device = options.pop("device", "cpu")
    options["device"] = "meta"
    return module_cls(*args, **options).to_empty(device=final_device)
