"""torch.jit's decorators as pass-throughs, so PyTorch programs that script or trace their
models run unchanged. chainrule has no TorchScript: `script` and `trace` return the function
or module they are given, unchanged and run eagerly (no compiled graph; `chainrule.compile` is
the capture-and-replay path). `ignore`, `unused` and `export` mark nothing and return the
function. `jit.save` writes the module as `chainrule.save` writes a whole model, and `jit.load`
reads it back (as `load(f, weights_only=False)`): unlike a TorchScript archive, the file names
the model's classes rather than holding their code, so they must be importable where it loads.
The TorchScript helpers that model code calls in eager mode behave as PyTorch's do there:
`annotate` returns its value, `isinstance` checks container element types, `Attribute` is a
(value, type) pair, `fork` runs its function at once and `wait` returns the result, and
`script_if_tracing`, `interface`, `freeze` and `optimize_for_inference` return what they get.

>>> import chainrule
>>> double = chainrule.jit.script(lambda x: 2 * x)
>>> double(chainrule.tensor(3.0))
tensor(6.)
"""

from __future__ import annotations

import builtins
import collections
import types
import typing
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from chainrule.serialization import load as _load_checkpoint
from chainrule.serialization import save as _save_checkpoint

__all__ = [
    "Attribute",
    "Error",
    "Final",
    "Future",
    "annotate",
    "export",
    "fork",
    "freeze",
    "ignore",
    "interface",
    "is_scripting",
    "is_tracing",
    "isinstance",
    "load",
    "optimize_for_inference",
    "save",
    "script",
    "script_if_tracing",
    "trace",
    "unused",
    "wait",
]

_T = TypeVar("_T")

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


def annotate(the_type: Any, the_value: _T) -> _T:
    """Returns `the_value`: the type hint is for the TorchScript compiler, which is absent
    (torchvision writes `features = torch.jit.annotate(List[Tensor], [])`)."""
    return the_value


def script_if_tracing(fn: _T) -> _T:
    """Returns `fn` unchanged: it would be scripted only under the tracer."""
    return fn


def interface(obj: _T) -> _T:
    """Returns the class unchanged: an interface type matters only to TorchScript."""
    return obj


def freeze(mod: Any, preserved_attrs: Any = None, optimize_numerics: bool = True) -> Any:
    """Returns the module unchanged: there is no scripted graph to fold constants into."""
    return mod


def optimize_for_inference(mod: Any, other_methods: Any = None) -> Any:
    """Returns the module unchanged: there is no scripted graph to optimize."""
    return mod


# In eager mode PyTorch's Attribute is this namedtuple, unwrapped only by the compiler.
Attribute = collections.namedtuple("Attribute", ["value", "type"])


class Error(Exception):
    """What a scripted function raises for a failed TorchScript `raise`; an Exception
    (not a RuntimeError), as PyTorch's JIT exception is."""


class Future(Generic[_T]):
    """The result of `fork`: the function has already run (no interpreter threads here)."""

    def __init__(self, value: _T) -> None:
        self._value = value

    def wait(self) -> _T:
        return self._value

    def value(self) -> _T:
        return self._value

    def done(self) -> bool:
        return True


def fork(func: Callable[..., _T], *args: Any, **kwargs: Any) -> Future[_T]:
    """Runs `func(*args, **kwargs)` now and returns its result as a completed Future, as
    PyTorch's fork does in eager mode."""
    return Future(func(*args, **kwargs))


def wait(future: Future[_T]) -> _T:
    """The value of a Future from `fork`."""
    return future.wait()


def isinstance(obj: Any, target_type: Any) -> bool:  # noqa: A001 (torch.jit.isinstance)
    """Whether `obj` is of `target_type`, a class or a typing container such as
    `List[int]`, `Dict[str, Tensor]`, `Tuple[int, str]` or `Optional[int]`: elements are
    checked, and an empty container matches any element type (with PyTorch's warning)."""
    return _matches(obj, target_type)


def _matches(obj: Any, target: Any) -> bool:
    if target is Any:
        return True
    origin, args = typing.get_origin(target), typing.get_args(target)
    if origin is None:
        return builtins.isinstance(obj, target)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(obj, arg) for arg in args)
    if not builtins.isinstance(obj, origin):
        return False
    if not args:
        return True
    if origin in (list, tuple, dict) and len(obj) == 0:
        warnings.warn(
            "The inner type of a container is lost when calling torch.jit.isinstance in "
            "eager mode. For example, List[int] would become list and therefore falsely "
            "return True for List[float] or List[str].",
            stacklevel=3,
        )
        return True
    if origin is list:
        return all(_matches(item, args[0]) for item in obj)
    if origin is dict:
        return all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in obj.items())
    if origin is tuple:  # element by element: Tuple[int, ...] matches no 3-tuple, as in PyTorch
        return len(obj) == len(args) and all(map(_matches, obj, args))
    return True


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
