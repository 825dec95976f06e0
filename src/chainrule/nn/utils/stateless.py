"""torch.nn.utils.stateless: functional_call, deprecated there in favour of
torch.func.functional_call, which this forwards to with PyTorch's FutureWarning."""

from __future__ import annotations

import warnings
from typing import Any

from chainrule.func import functional_call as _functional_call
from chainrule.nn.modules.module import Module

__all__ = ["functional_call"]


def functional_call(
    module: Module,
    parameters_and_buffers: Any,
    args: Any = None,
    kwargs: Any = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """module called with its parameters and buffers replaced by `parameters_and_buffers`
    (chainrule.func.functional_call, with PyTorch's deprecation warning)."""
    warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be "
        "removed in a future version of PyTorch. Please use `torch.func.functional_call` "
        "instead which is a drop-in replacement.",
        FutureWarning,
        stacklevel=2,
    )
    return _functional_call(
        module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict
    )
