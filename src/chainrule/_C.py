# ruff: noqa: N999 - PyTorch's module name (torch._C), which as_torch maps here
"""`torch._C`'s few functions that model code written for PyTorch calls directly.

torchvision's models and ops call `torch._C._log_api_usage_once(...)` in their constructors
(PyTorch's usage telemetry), and older layers ask `torch._C._get_tracing_state()` whether the
JIT tracer runs. Programs that copy those files run unchanged: chainrule logs nothing and
never traces with TorchScript. The rest of PyTorch's C extension has no counterpart here.

>>> import chainrule
>>> chainrule._C._log_api_usage_once("torchvision.models.resnet.ResNet")
>>> chainrule._C._get_tracing_state() is None
True
"""

from __future__ import annotations

__all__ = ["_get_tracing_state", "_log_api_usage_once"]


def _log_api_usage_once(event: str) -> None:
    """Nothing: PyTorch records `event` for its usage statistics; chainrule keeps none."""


def _get_tracing_state() -> None:
    """None: no TorchScript tracer is ever running (see chainrule.jit.trace)."""
    return None
