"""`chainrule.compile`: PyTorch's signature; capture once per guard key, then replay.

A compiled callable keeps a cache of programs keyed by its guards: the structure of the
arguments, each tensor argument's shape, dtype, device and requires_grad, the other arguments'
values (or identities), grad mode, and for a module its parameters, buffers and `training`
flags. A miss captures (the call itself runs eagerly, watched by the tracer); a hit replays.
A call that cannot be captured (a graph break) runs eagerly from then on for that key, with
one warning naming the reason and the line.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.forward_ad import current_level
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.autograd.observers import observers
from chainrule.compiler.program import Program
from chainrule.compiler.tracer import Tracer
from chainrule.func.pytree import tree_flatten

# Programs kept per compiled callable before it stops re-tracing (torch._dynamo's default
# cache_size_limit is 8 as well).
CACHE_LIMIT = 8
MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_EAGER = None  # the cache's entry for a key that runs eagerly (its capture broke)
_SCALARS = (int, float, bool, str, complex, type(None))


def compile(  # noqa: A001 - PyTorch's name
    model: Callable | None = None,
    *,
    fullgraph: bool = False,
    dynamic: bool | None = None,
    backend: str | Callable[..., object] = "inductor",
    mode: str | None = None,
    options: dict | None = None,
    disable: bool = False,
) -> Any:
    """Capture `model` (a function or a Module) on its first call and replay the captured
    array program on later calls with the same guards, without per-op Python.

    A whole training step (forward, `loss.backward()`, `optimizer.step()`, `zero_grad`) is
    captured as one program. Results equal eager ones. `fullgraph=True` makes a graph break
    (`.item()`, printing, `if tensor:`, dropout's random draws) an error instead of a fallback
    to eager. `dynamic`, `backend`, `mode` and `options` are accepted for PyTorch's signature;
    every shape is specialised (a new shape captures again). As a decorator, with or without
    options.

    Args:
        model (callable or Module, optional): what to compile; None returns a decorator.
        fullgraph (bool): raise CompileError at a graph break instead of running it eagerly.
        dynamic (bool, optional): accepted for PyTorch's signature.
        backend (str or callable): accepted for PyTorch's signature.
        mode (str, optional): accepted for PyTorch's signature.
        options (dict, optional): accepted for PyTorch's signature.
        disable (bool): return `model` unchanged (to switch compilation off).

    Returns:
        The compiled callable (a Module comes back as an OptimizedModule, a Module holding it
        as `_orig_mod`, as PyTorch's), or a decorator.

    Example:
        >>> import chainrule
        >>> @chainrule.compile
        ... def f(x):
        ...     return (x * 2).tanh()
        >>> f(chainrule.ones(2))
        tensor([0.9640, 0.9640])
    """
    if mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES[1:])}")
    if model is None:
        return functools.partial(
            compile,
            fullgraph=fullgraph,
            dynamic=dynamic,
            backend=backend,
            mode=mode,
            options=options,
            disable=disable,
        )
    if not callable(model):
        raise TypeError(f"compile: expected a function or a Module, got {type(model).__name__}")
    if disable:
        return model
    if _is_module(model):
        # An OptimizedModule, as PyTorch's: nn sits above the compiler, so the module makes it.
        return model._wrap_compiled(CompiledModule(model, fullgraph))
    return CompiledFunction(model, fullgraph)


def _is_module(value: Any) -> bool:
    return hasattr(value, "named_parameters") and hasattr(value, "_call_impl")


def _guard_value(value: Any, objects: list) -> Any:
    """What a non-tensor argument contributes to the guard key: its value if a plain scalar,
    else its identity (an object is taken as it was at capture: attributes read then are not
    guarded). `objects` collects them: a capture keeps them alive, so no other object takes
    their id while the program lives."""
    if type(value) in _SCALARS:
        return (type(value), value)
    objects.append(value)
    return ("id", id(value))


class CompiledFunction:
    """A function with a cache of captured programs; calls replay the matching one."""

    def __init__(self, function: Callable, fullgraph: bool, module: Any = None) -> None:
        self._orig_fn = function
        self.fullgraph = fullgraph
        self._module = module
        self._cache: dict[tuple, Program | None] = {}
        self._warned: set[str] = set()
        self._kept: list = []  # objects guarded by identity (see _guard_value)
        self._last: Program | None = None
        self.captures = 0  # first captures and re-traces, as benchmarks report them
        functools.update_wrapper(self, function)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """A compiled method: bound to its instance (which the guards take by identity)."""
        if instance is None:
            return self
        return functools.partial(self, instance)

    @property
    def program(self) -> Program | None:
        """The program captured last (None before the first capture or after a break)."""
        return self._last

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if observers.get() is not None or current_level() is not None:
            self._warn(
                "observers",
                "anomaly mode, the profiler, saved-tensor hooks, vmap or forward-mode AD is "
                "active, so the call runs eagerly",
            )
            return self._orig_fn(*args, **kwargs)
        if not kwargs and all(type(a) is Tensor or type(a) in _SCALARS for a in args):
            leaves, spec = args, len(args)  # the common call: no tree to walk
        else:
            leaves, spec = tree_flatten((args, kwargs))
        tensors = []
        objects: list = []
        key: list = [spec, is_grad_enabled()]
        for leaf in leaves:
            if isinstance(leaf, Tensor):
                tensors.append(leaf)
                array = leaf._array
                key.append((array.shape, array.dtype, leaf._backend, leaf._requires_grad))
            else:
                key.append(_guard_value(leaf, objects))
        if self._module is not None:
            key.append(self._module_key())
        guard = tuple(key)
        program = self._cache.get(guard, self)
        if program is self:  # a miss
            if len(self._cache) < CACHE_LIMIT:
                self._kept.extend(objects)
            return self._capture(guard, tensors, args, kwargs)
        if program is _EAGER:
            return self._orig_fn(*args, **kwargs)
        return program.run(tensors)

    def _module_key(self) -> Any:
        """The module's parameters, buffers and training flags, as of this call."""
        module = self._module
        modules = list(module.modules())
        for child in modules:
            if child._forward_hooks or child._forward_pre_hooks or child._backward_hooks:
                return ("hooks", id(child))
        tensors = tuple(id(t) for t in module.parameters()) + tuple(id(t) for t in module.buffers())
        return (tensors, tuple(child.training for child in modules))

    def _capture(self, guard: tuple, tensors: list, args: tuple, kwargs: dict) -> Any:
        if len(self._cache) >= CACHE_LIMIT:
            self._warn(
                "limit",
                f"{len(self._cache)} programs captured already (shapes, arguments or flags "
                f"keep changing; the limit is {CACHE_LIMIT}), so new ones run eagerly",
            )
            return self._orig_fn(*args, **kwargs)
        if type(guard[-1]) is tuple and guard[-1][:1] == ("hooks",):
            self._warn("hooks", "the module has forward or backward hooks, so it runs eagerly")
            self._cache[guard] = _EAGER
            return self._orig_fn(*args, **kwargs)
        tracer = Tracer(tensors, self.fullgraph)
        token = observers.set((tracer,))
        try:
            result = self._orig_fn(*args, **kwargs)
        finally:
            observers.reset(token)
        program, reason = tracer.finish(result)
        self._cache[guard] = program
        self.captures += 1
        if program is None:
            self._warn(reason, f"graph break: {reason}; this call signature runs eagerly")
        else:
            self._last = program
        return result

    def _warn(self, key: str, message: str) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        name = getattr(self._orig_fn, "__qualname__", type(self._orig_fn).__name__)
        warnings.warn(f"chainrule.compile({name}): {message}", stacklevel=4)


class CompiledModule(CompiledFunction):
    """A Module's calls behind `compile`: the captured programs, guarded on the module's
    parameters, buffers and training flags too. `compile(module)` returns the Module around it
    (nn's OptimizedModule), and `Module.compile()` makes it the module's own call."""

    def __init__(self, module: Any, fullgraph: bool) -> None:
        super().__init__(module._call_impl, fullgraph, module)
