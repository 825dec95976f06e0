"""torch.jit's decorators as pass-throughs, so PyTorch programs that script or trace their
models run unchanged. chainrule has no TorchScript: `script` and `trace` return the function
or module they are given, unchanged and run eagerly (no compiled graph; `chainrule.compile` is
the capture-and-replay path). `ignore`, `unused` and `export` mark nothing and return the
function. `jit.save` writes the module as `chainrule.save` writes a whole model, and `jit.load`
reads it back (as `load(f, weights_only=False)`): unlike a TorchScript archive, the file names
the model's classes rather than holding their code, so they must be importable where it loads.

>>> import chainrule
>>> double = chainrule.jit.script(lambda x: 2 * x)
>>> double(chainrule.tensor(3.0))
tensor(6.)
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from chainrule.serialization import load as _load_checkpoint
from chainrule.serialization import save as _save_checkpoint

__all__ = [
    "Final",
    "export",
    "ignore",
    "is_scripting",
    "is_tracing",
    "load",
    "save",
    "script",
    "trace",
    "unused",
]

# `flag: torch.jit.Final[bool]` in a module's class body (timm's attention layers): typing's Final.
Final = typing.Final


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None, **_: Any) -> Any:
    """Returns `obj` (a function or module) unchanged: no TorchScript compilation."""
    return obj


def trace(func: Any, example_inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
    """Returns `func` unchanged without running it on `example_inputs`: no tracing."""
    return func


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """Returns the function unchanged (as a decorator, with or without arguments)."""
    if callable(drop):
        return drop
    return _identity


def unused(fn: Callable) -> Callable:
    """Returns the function unchanged."""
    return fn


def export(fn: Callable) -> Callable:
    """Returns the function unchanged."""
    return fn


def is_scripting() -> bool:
    """False: code never runs under TorchScript here."""
    return False


def is_tracing() -> bool:
    """False: code never runs under the TorchScript tracer here."""
    return False


def _identity(fn: Callable) -> Callable:
    return fn


def save(m: Any, f: Any, _extra_files: dict | None = None) -> None:
    """Write a scripted (here: plain) module to the path or binary file `f`, as
    `chainrule.save(m, f)`; `_extra_files` ({name: text}) are stored beside it."""
    _save_checkpoint({"module": m, "extra_files": dict(_extra_files or {})}, f)


def load(f: Any, map_location: Any = None, _extra_files: dict | None = None) -> Any:
    """The module `save` wrote (its classes imported by name), with its tensors on
    `map_location`; `_extra_files`' keys are filled with the texts saved under them."""
    saved = _load_checkpoint(f, map_location=map_location, weights_only=False)
    if _extra_files is not None:
        for name in _extra_files:
            _extra_files[name] = saved["extra_files"].get(name, "")
    return saved["module"]
