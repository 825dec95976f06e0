"""DataParallel: PyTorch's single-process multi-GPU wrapper. chainrule runs one device per
process, so it wraps and runs the module as PyTorch does when it finds no GPU to spread over:
`model = nn.DataParallel(model)` lines, `model.module` and "module."-prefixed state_dict keys
work unchanged. For several devices, use DistributedDataParallel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule.nn.modules.module import Module

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from chainrule.backend import device as Device


class DataParallel(Module):
    """Wraps `module`; forward calls it on the inputs as they are (one device per process).

    Args:
        module (Module): the module to wrap (kept as `self.module`).
        device_ids (list, optional): accepted for compatibility; chainrule does not scatter.
        output_device (int | device, optional): accepted for compatibility.
        dim (int): the batch dimension PyTorch would scatter along (default: 0).

    Shape:
        - Input: whatever `module` takes
        - Output: whatever `module` returns

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> model = nn.DataParallel(nn.Linear(3, 2))
        >>> model(chainrule.zeros(4, 3)).shape, list(model.state_dict())
        (chainrule.Size([4, 2]), ['module.weight', 'module.bias'])
    """

    def __init__(
        self,
        module: Module,
        device_ids: Sequence[int | Device] | None = None,
        output_device: int | Device | None = None,
        dim: int = 0,
    ) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list = []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(
    module: Module,
    inputs: Any,
    device_ids: Any = None,
    output_device: Any = None,
    dim: int = 0,
    module_kwargs: Any = None,
) -> Any:
    """module(*inputs, **module_kwargs), the functional form of DataParallel."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))
