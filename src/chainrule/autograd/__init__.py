"""Reverse-mode automatic differentiation: the engine, grad modes and custom Functions.

This package's modules are the autograd core, which knows no Tensor class, plus those that sit
higher and load on first use (PEP 562), so importing the core never loads them:
`function` (`Function`, built on the ops), `graph` (saved-tensor and multi-grad hooks),
`functional` (torch.autograd.functional, a transform layer) and the legacy `Variable`.
"""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from chainrule.autograd.anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from chainrule.autograd.api import backward, grad
from chainrule.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    is_multithreading_enabled,
    no_grad,
    set_grad_enabled,
    set_multithreading_enabled,
)
from chainrule.autograd.gradcheck import gradcheck, gradgradcheck

if _TYPE_CHECKING:  # what static tools see; at run time __getattr__ loads these
    from chainrule.autograd import function, functional, graph
    from chainrule.autograd.function import Function, FunctionCtx, once_differentiable
    from chainrule.autograd.variable import Variable

__all__ = [
    "Function",
    "FunctionCtx",
    "Variable",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "function",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "inference_mode",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "is_multithreading_enabled",
    "no_grad",
    "once_differentiable",
    "set_detect_anomaly",
    "set_grad_enabled",
    "set_multithreading_enabled",
]

_LAZY_MODULES = frozenset(("function", "functional", "graph"))
_LAZY_NAMES = dict.fromkeys(("Function", "FunctionCtx", "once_differentiable"), "function")
_LAZY_NAMES["Variable"] = "variable"


def __getattr__(name: str) -> _Any:
    """Load a higher module of this package, or one of its names, the first time it is asked
    for."""
    if name in _LAZY_MODULES:
        return _importlib.import_module(f"chainrule.autograd.{name}")  # also binds it here
    if name in _LAZY_NAMES:
        module = _importlib.import_module(f"chainrule.autograd.{_LAZY_NAMES[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chainrule.autograd' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_MODULES | set(_LAZY_NAMES))
