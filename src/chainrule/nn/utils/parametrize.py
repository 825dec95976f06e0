"""Parametrizations, as torch.nn.utils.parametrize: a module's tensor computed on access by a
function of stored originals, so an optimizer updates the originals while the module sees,
e.g., a normalized or orthogonal weight.

`register_parametrization(module, "weight", p)` moves the weight to
`module.parametrizations.weight.original` (or `original0`, `original1`, ... when p has a
`right_inverse` returning several tensors) and makes `module.weight` a property that returns
p(original). The module's class is swapped for a subclass of its own carrying that property
(named Parametrized<Class>), as PyTorch does, so state_dict keys and printing match PyTorch's.

>>> import chainrule
>>> from chainrule import nn
>>> from chainrule.nn.utils import parametrize
>>> class Symmetric(nn.Module):
...     def forward(self, x):
...         return x.triu() + x.triu(1).transpose(0, 1)
>>> layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
>>> bool((layer.weight == layer.weight.T).all())
True
>>> sorted(layer.state_dict())
['bias', 'parametrizations.weight.original']
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.errors import DTypeError, ShapeError
from chainrule.nn.modules.containers import ModuleDict, ModuleList
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter

__all__ = [
    "ParametrizationList",
    "cached",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
    "transfer_parametrizations_and_params",
    "type_before_parametrizations",
]

# The values computed inside `with cached():`, keyed by (module id, tensor name); None outside.
_cache: ContextVar[dict | None] = ContextVar("parametrize_cache", default=None)


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Inside this context, each parametrized tensor is computed once, on first access (e.g.
    a weight shared by every step of a recurrent loop)."""
    if _cache.get() is not None:  # nested: the outer context owns the cache
        yield
        return
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def _register_original(module: Module, name: str, tensor: Tensor) -> None:
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _overwrite(target: Tensor, value: Tensor) -> None:
    """target's values replaced by value's, keeping the target object (an optimizer may hold
    it)."""
    if tuple(target.shape) == tuple(value.shape) and target.dtype is value.dtype:
        target.copy_(value)
    else:
        target.data = value.detach().clone()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the original tensor(s) they
    apply to (`original`, or `original0`, `original1`, ... when the first parametrization's
    right_inverse gives several). Made by register_parametrization; not built directly.

    Args:
        modules (Sequence[Module]): the parametrizations.
        original (Tensor): the tensor being parametrized (a Parameter or a buffer).
        unsafe (bool): skip the consistency checks of the parametrization's output.
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        new = original
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass  # as PyTorch: a right_inverse that cannot run is the identity here
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(
                "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                f"Got {type(new).__name__}"
            )
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype is not new.dtype:
                raise DTypeError(
                    "When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                    f"original.dtype: {original.dtype}\nright_inverse(original).dtype: "
                    f"{new.dtype}"
                )
            with no_grad():
                _overwrite(original, new)
            _register_original(self, "original", original)
        else:
            for index, value in enumerate(new):
                if not isinstance(value, Tensor):
                    raise ValueError(
                        "'right_inverse' must return a Tensor or a Sequence of tensors "
                        f"(list, tuple...). Got element {index} of type {type(value).__name__}"
                    )
                value = value.detach().clone()
                if isinstance(original, Parameter):
                    value = Parameter(value, original.requires_grad)
                value.requires_grad_(original.requires_grad)
                _register_original(self, f"original{index}", value)
        if not self.unsafe:
            self._check(original)

    def _check(self, original: Tensor) -> None:
        """PyTorch's consistency check: the parametrized tensor keeps the original's shape and
        dtype, so code written against the plain module still works."""
        value = self()
        if not isinstance(value, Tensor):
            raise ValueError(f"A parametrization must return a tensor. Got {type(value).__name__}.")
        if value.dtype is not original.dtype:
            raise DTypeError(
                "Registering a parametrization may not change the dtype of the tensor, unless "
                f"`unsafe` flag is enabled.\nunparametrized dtype: {original.dtype}\n"
                f"parametrized dtype: {value.dtype}"
            )
        if tuple(value.shape) != tuple(original.shape):
            raise ShapeError(
                "Registering a parametrization may not change the shape of the tensor, unless "
                f"`unsafe` flag is enabled.\nunparametrized shape: {tuple(original.shape)}\n"
                f"parametrized shape: {tuple(value.shape)}"
            )

    def right_inverse(self, value: Tensor) -> None:
        """Set the originals so that the parametrized tensor becomes `value` (each
        parametrization's right_inverse, last first)."""
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                else:  # (unsafe=True too, as PyTorch's)
                    raise RuntimeError(
                        f"parametrization {type(module).__name__} does not implement right_inverse."
                    )
            if self.is_tensor:
                _overwrite(self.original, value)
            else:
                for index, part in enumerate(value):
                    _overwrite(getattr(self, f"original{index}"), part)

    def forward(self) -> Any:
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x


def _parametrized_class(cls: type) -> type:
    """A new subclass of cls for one module, to carry its parametrized tensors' properties
    (one class per module, as PyTorch, so the properties never reach other modules)."""
    return type(f"Parametrized{cls.__name__}", (cls,), {"_unparametrized_class": cls})


def _tensor_property(name: str) -> property:
    def get_parametrized(self: Module) -> Any:
        cache = _cache.get()
        if cache is None:
            return self.parametrizations[name]()
        key = (id(self), name)
        if key not in cache:
            cache[key] = self.parametrizations[name]()
        return cache[key]

    def set_original(self: Module, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    return property(get_parametrized, set_original)


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether `module` has a parametrization (on `tensor_name`, when given)."""
    parametrizations = getattr(module, "parametrizations", None)
    if parametrizations is None or not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization was registered."""
    return getattr(type(module), "_unparametrized_class", type(module))


def register_parametrization(
    module: Module, tensor_name: str, parametrization: Module, *, unsafe: bool = False
) -> Module:
    """Make module.<tensor_name> the output of `parametrization` applied to the stored
    original; registering a second one on the same tensor chains it after the first.

    Args:
        module (Module): the module whose parameter or buffer is parametrized.
        tensor_name (str): the parameter or buffer's name.
        parametrization (Module): maps the original (or its right_inverse's outputs) to the
            tensor the module sees.
        unsafe (bool): allow a parametrization that changes the tensor's shape or dtype.

    Returns:
        Module: `module`, parametrized.
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        parametrizations = module.parametrizations[tensor_name]
        parametrizations.append(parametrization)
        parametrizations.unsafe |= unsafe
        return module
    if tensor_name in module._parameters or tensor_name in module._buffers:
        original = getattr(module, tensor_name)
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            module.__class__ = _parametrized_class(type(module))
            module.parametrizations = ModuleDict()
        setattr(type(module), tensor_name, _tensor_property(tensor_name))
        module.parametrizations[tensor_name] = parametrizations
        return module
    raise ValueError(
        f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with "
        f"name '{tensor_name}'"
    )


def remove_parametrizations(
    module: Module, tensor_name: str, leave_parametrized: bool = True
) -> Module:
    """Undo register_parametrization on `tensor_name`: the tensor becomes a plain parameter
    (or buffer) again, holding the parametrized value (leave_parametrized=True) or the
    original.

    Args:
        module (Module): the parametrized module.
        tensor_name (str): the tensor whose parametrizations go.
        leave_parametrized (bool): keep the current parametrized value (default: True).

    Returns:
        Module: `module`.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            with no_grad():
                _overwrite(original, value)
    else:
        if not leave_parametrized:
            raise ValueError(
                "Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                "parametrized in terms of a sequence of tensors."
            )
        with no_grad():
            value = getattr(module, tensor_name).detach().clone()
        requires_grad = parametrizations.original0.requires_grad
        if isinstance(parametrizations.original0, Parameter):
            original = Parameter(value, requires_grad)
        else:
            original = value.requires_grad_(requires_grad)
    del module.parametrizations[tensor_name]
    delattr(type(module), tensor_name)
    if not is_parametrized(module):
        module.__class__ = type_before_parametrizations(module)
        del module.parametrizations
    _register_original(module, tensor_name, original)
    return module


def transfer_parametrizations_and_params(
    from_module: Module, to_module: Module, tensor_name: str | None = None
) -> Module:
    """Copy the parametrizations (and originals) of `from_module` onto `to_module`."""
    names = [tensor_name] if tensor_name is not None else list(from_module.parametrizations)
    for name in names:
        source = from_module.parametrizations[name]
        for parametrization in source:
            if not is_parametrized(to_module, name):
                register_parametrization(
                    to_module, name, copy.deepcopy(parametrization), unsafe=True
                )
            else:
                to_module.parametrizations[name].append(copy.deepcopy(parametrization))
        with no_grad():
            if source.is_tensor:
                _overwrite(to_module.parametrizations[name].original, source.original)
            else:
                for index in range(source.ntensors):
                    _overwrite(
                        getattr(to_module.parametrizations[name], f"original{index}"),
                        getattr(source, f"original{index}"),
                    )
    return to_module
