"""Reverse-mode automatic differentiation: the engine, grad modes and custom Functions."""

from typing import Any

from chainrule.autograd import graph
from chainrule.autograd.anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from chainrule.autograd.api import backward, grad
from chainrule.autograd.function import Function, FunctionCtx, once_differentiable
from chainrule.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.autograd.gradcheck import gradcheck, gradgradcheck

__all__ = [
    "Function",
    "FunctionCtx",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "inference_mode",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "once_differentiable",
    "set_detect_anomaly",
    "set_grad_enabled",
]


def __getattr__(name: str) -> Any:
    """`chainrule.autograd.functional` (torch.autograd.functional) loads on first use: it sits a
    layer above the autograd core and needs all of chainrule."""
    if name == "functional":
        import importlib

        return importlib.import_module("chainrule.autograd.functional")
    raise AttributeError(f"module 'chainrule.autograd' has no attribute {name!r}")
