"""Module: the base class of every layer, with PyTorch's registration, state and hook API.

A Module keeps its Parameters, buffers and child Modules in three ordered dicts, filled by
attribute assignment (`self.weight = Parameter(...)`), so `state_dict()` keys, `parameters()`
order and `repr(model)` come out exactly as PyTorch's for the same class written the same way.

>>> from chainrule import nn
>>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
>>> [name for name, _ in model.named_parameters()]
['0.weight', '0.bias']
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
import warnings
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from chainrule._tensor import Size, Tensor
from chainrule.autograd import grad_mode
from chainrule.autograd.function import Function
from chainrule.backend import device as Device
from chainrule.backend.dtypes import as_dtype, display_namespace
from chainrule.compiler import compile as compile_function
from chainrule.errors import DTypeError, GradError, ShapeError, StateDictError
from chainrule.nn.parameter import Buffer, Parameter, UninitializedBuffer
from chainrule.ops.creation import as_tensor, empty_like, zeros

if TYPE_CHECKING:
    from chainrule._typing import Grads
    from chainrule.backend.dtypes import dtype as DType

# The type of `self` in the methods that return it (`to`, `train`, `eval`, ...): `model.to(...)`
# is still the model's own class to a type checker, as PyTorch's stubs make it.
_ModuleT = TypeVar("_ModuleT", bound="Module")

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns: the keys it could not match, in either direction."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by the register_*hook methods; `remove()` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks: dict, *extra: dict) -> None:
        self.hooks_dict_ref = weakref.ref(hooks)
        self.extra_dict_refs = tuple(weakref.ref(d) for d in extra)
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_refs):
            hooks = ref()
            if hooks is not None and self.id in hooks:
                del hooks[self.id]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _addindent(text: str, num_spaces: int) -> str:
    """Indent every line but the first (the way nested module reprs are laid out)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first = lines.pop(0)
    rest = [(num_spaces * " ") + line if line.strip() else "" for line in lines]
    return first + "\n" + "\n".join(rest)


def _typename(value: Any) -> str:
    """PyTorch's torch.typename: a tensor's legacy type name ('torch.FloatTensor' under
    as_torch), else the class's qualified name."""
    if isinstance(value, Tensor):
        return value.type()
    module = type(value).__module__
    name = type(value).__qualname__
    return name if module in ("builtins", None) else f"{module}.{name}"


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


class _BackwardHookFunction(Function):
    """Identity on a module's input (or output) tensors, so that one graph node sees all of
    their gradients together: full backward hooks are hooks on this node."""

    @staticmethod
    def forward(ctx: Any, *tensors: Tensor) -> tuple:
        outputs = tuple(t.detach() for t in tensors)
        # Tensors that need no gradient get none through here (hooks see zeros, as PyTorch's).
        ctx.mark_non_differentiable(*[o for o, t in zip(outputs, tensors) if not t.requires_grad])
        return outputs

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        return grads


_PACKAGE_DIRECTORY = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def _user_stacklevel() -> int:
    """The warnings stacklevel of the nearest caller outside chainrule (the user's
    `backward()` or `autograd.grad` line, which PyTorch's warning blames): the engine's depth
    differs between the two entry points."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRECTORY):
        frame, level = frame.f_back, level + 1
    return level


class _BackwardHook:
    """Runs a module's full backward (pre-)hooks from the gradients of its outputs and inputs,
    with PyTorch's semantics: non-Tensor positions are None, and a hook may return replacements.
    """

    def __init__(self, module: Module, hooks: list, pre_hooks: list) -> None:
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = -1
        self.n_outputs = -1
        self.input_index: list | None = None
        self.output_index: list | None = None

    @staticmethod
    def _pack(indices: list, values: Any, size: int) -> tuple:
        packed = [None] * size
        for index, value in zip(indices, values):
            packed[index] = value
        return tuple(packed)

    def _wrap(self, values: tuple, hook: Callable) -> tuple[tuple, list | None]:
        indices = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        tensors = [values[i] for i in indices]
        if not (grad_mode.is_grad_enabled() and any(t.requires_grad for t in tensors)):
            return values, None
        wrapped = _BackwardHookFunction.apply(*tensors)
        node = next(t.grad_fn for t in wrapped if t.grad_fn is not None)
        node.register_prehook(hook)
        result = list(values)
        for index, tensor in zip(indices, wrapped):
            result[index] = tensor
        return tuple(result), indices

    def setup_input_hook(self, args: tuple) -> tuple:
        def hook(grads: tuple) -> Any:
            if self.grad_outputs is None:
                return None  # gradient reached the inputs without passing through the outputs
            # Like PyTorch, a Tensor input that got no gradient is seen as zeros.
            grads = [
                zeros(shape, dtype=dtype, device=device) if g is None else g
                for (shape, dtype, device), g in zip(metas, grads)
            ]
            grad_input = self._pack(self.input_index, grads, self.n_inputs)
            for user_hook in self.hooks:
                result = user_hook(self.module, grad_input, self.grad_outputs)
                if result is None:
                    continue
                if len(result) != len(grad_input):
                    raise GradError(
                        f"Backward hook returned an invalid number of grad_input, got "
                        f"{len(result)}, but expected {len(grad_input)}"
                    )
                grad_input = tuple(result)
            self.grad_outputs = None
            return tuple(grad_input[i] for i in self.input_index)

        metas = [(a.shape, a.dtype, a.device) for a in args if isinstance(a, Tensor)]
        result, self.input_index = self._wrap(args, hook)
        self.n_inputs = len(args)
        return result

    def setup_output_hook(self, output: Any) -> Any:
        def hook(grads: tuple) -> Any:
            self.grad_outputs = self._pack(self.output_index, grads, self.n_outputs)
            for pre_hook in self.pre_hooks:
                result = pre_hook(self.module, self.grad_outputs)
                if result is None:
                    continue
                if len(result) != len(self.grad_outputs):
                    raise GradError(
                        f"Backward pre hook returned an invalid number of grad_output, got "
                        f"{len(result)}, but expected {len(self.grad_outputs)}"
                    )
                self.grad_outputs = tuple(result)
            local = self.grad_outputs
            if self.input_index is None:
                # No input requires grad: the hooks fire now, with grad_input all None.
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients. See "
                    "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                    "#torch.nn.Module.register_full_backward_hook for more details.",
                    stacklevel=_user_stacklevel(),
                )
                grad_input = (None,) * self.n_inputs
                for user_hook in self.hooks:
                    result = user_hook(self.module, grad_input, self.grad_outputs)
                    if result is not None and not all(r is None for r in result):
                        raise GradError(
                            "Backward hook for Modules where no input requires gradient should "
                            "always return None or None for all gradients."
                        )
                self.grad_outputs = None
            return tuple(local[i] for i in self.output_index)

        is_tuple = isinstance(output, tuple)
        values = output if is_tuple else (output,)
        result, self.output_index = self._wrap(values, hook)
        self.n_outputs = len(values)
        return result if is_tuple else result[0]


# ---- hooks on every module (torch.nn.modules.module.register_module_*_hook) ----------------
# Run before each module's own hooks of the same kind, as in PyTorch; profilers and FLOP
# counters register them to see every layer without touching the model.
_global_forward_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_forward_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict[int, bool] = OrderedDict()
_global_forward_hooks_always_called: OrderedDict[int, bool] = OrderedDict()
_global_backward_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_backward_pre_hooks: OrderedDict[int, Callable] = OrderedDict()


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(module, args) -> new args or None, before every module's forward."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(
    hook: Callable[..., Any], *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """hook(module, args, output) -> new output or None, after every module's forward
    (with_kwargs: hook(module, args, kwargs, output))."""
    extra = (_global_forward_hooks_with_kwargs, _global_forward_hooks_always_called)
    handle = RemovableHandle(_global_forward_hooks, *extra)
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(module, grad_input, grad_output) -> new grad_input or None, for every module."""
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(module, grad_output) -> new grad_output or None, for every module."""
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


_MIXED_BACKWARD_HOOKS = (
    "Cannot use both regular backward hooks and full backward hooks on a single Module. Please "
    "use only one of them."
)


def _first_tensor(result: Any) -> Tensor | None:
    """The tensor PyTorch hangs register_backward_hook's hooks on: the output, or the first
    tensor down the first entries of tuples and lists (the first value of dicts)."""
    while not isinstance(result, Tensor):
        if isinstance(result, dict):
            result = next((v for v in result.values() if isinstance(v, Tensor)), None)
        elif isinstance(result, (tuple, list)) and result:
            result = result[0]
        else:
            return None
    return result


def _attach_legacy_backward_hooks(module: Module, hooks: list, args: tuple, result: Any) -> None:
    """register_backward_hook's hooks on the graph node of the module's first output, each
    called hook(module, grad_input, grad_output), with PyTorch's warnings where grad_input
    or grad_output cannot be the module's."""
    output = _first_tensor(result)
    node = None if output is None else output.grad_fn
    if node is None:
        return
    for hook in hooks:
        node.register_hook(functools.partial(hook, module))
    outputs = (result,) if isinstance(result, Tensor) else result
    inputs = args
    remedy = "Please use register_full_backward_hook to get the documented behavior."
    if not (isinstance(outputs, tuple) and all(isinstance(r, Tensor) for r in outputs)):
        message = (
            "Using non-full backward hooks on a Module that does not return a single Tensor or a "
            "tuple of Tensors is deprecated and will be removed in future versions. This hook "
            f"will be missing some of the grad_output. {remedy}"
        )
    elif not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
        message = (
            "Using non-full backward hooks on a Module that does not take as input a single "
            "Tensor or a tuple of Tensors is deprecated and will be removed in future versions. "
            f"This hook will be missing some of the grad_input. {remedy}"
        )
    else:
        output_nodes = {r.grad_fn for r in outputs if r.grad_fn is not None}
        if not output_nodes or (len(output_nodes) == 1 and node not in output_nodes):
            message = (
                "Using a non-full backward hook when outputs are nested in python data "
                "structure is deprecated and will be removed in future versions. This hook will "
                "be missing some grad_output."
            )
        elif len(output_nodes) > 1:
            message = (
                "Using a non-full backward hook when outputs are generated by different autograd "
                "Nodes is deprecated and will be removed in future versions. This hook will be "
                f"missing some grad_output. {remedy}"
            )
        elif {i.grad_fn for i in inputs if i.grad_fn is not None} != {
            edge[0] for edge in node.next_functions
        }:
            message = (
                "Using a non-full backward hook when the forward contains multiple autograd "
                "Nodes is deprecated and will be removed in future versions. This hook will be "
                f"missing some grad_input. {remedy}"
            )
        else:
            return
    warnings.warn(message, FutureWarning, stacklevel=4)


class Module:
    """The base class of every layer and model: subclass it and define `forward`.

    Parameters and Modules assigned as attributes, and buffers added with register_buffer, are
    registered, so parameters(), named_modules(), state_dict()/load_state_dict(), to(),
    train()/eval() and zero_grad() reach everything in the tree of submodules. Calling the module
    runs forward through __call__, with its forward pre-hooks and hooks. A subclass must call
    super().__init__() before assigning attributes.

    Args:
        *args (Any): none are accepted; any raises TypeError, as in PyTorch.
        **kwargs (Any): none are accepted; any raises TypeError, as in PyTorch.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> class Affine(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = nn.Parameter(chainrule.ones(1))
        ...     def forward(self, x):
        ...         return x * self.scale
        >>> Affine()(chainrule.tensor([2.0]))
        tensor([2.], grad_fn=<MulBackward0>)
    """

    _version: int = 1
    training: bool
    dump_patches: bool = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got an unexpected keyword argument "
                f"'{next(iter(kwargs))}'"
            )
        if args:
            raise TypeError(
                f"{type(self).__name__}.__init__() takes 1 positional argument but "
                f"{len(args) + 1} were given"
            )
        setattr_ = super().__setattr__
        setattr_("training", True)
        setattr_("_parameters", {})
        setattr_("_buffers", {})
        setattr_("_non_persistent_buffers_set", set())
        setattr_("_backward_pre_hooks", OrderedDict())
        setattr_("_backward_hooks", OrderedDict())
        setattr_("_is_full_backward_hook", None)  # which kind _backward_hooks holds, as torch
        setattr_("_forward_hooks", OrderedDict())
        setattr_("_forward_hooks_with_kwargs", OrderedDict())
        setattr_("_forward_hooks_always_called", OrderedDict())
        setattr_("_forward_pre_hooks", OrderedDict())
        setattr_("_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_("_state_dict_hooks", OrderedDict())
        setattr_("_state_dict_pre_hooks", OrderedDict())
        setattr_("_load_state_dict_pre_hooks", OrderedDict())
        setattr_("_load_state_dict_post_hooks", OrderedDict())
        setattr_("_modules", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of this module: override it in every subclass. Call the module itself
        (`module(x)`), not `forward`, so that hooks run.
        """
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ---- registration --------------------------------------------------------------------
    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (e.g. BatchNorm's running_mean);
        non-persistent buffers are left out of `state_dict()`."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                f"({display_namespace()} Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, which is kept as a placeholder and skipped everywhere)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
        elif not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                f"({display_namespace()}.nn.Parameter or None required)"
            )
        elif param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method."
            )
        else:
            self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module, reachable as the attribute `name`."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path `target` ('' is self)."""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(module._get_name() + " has no attribute `" + item + "`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return module

    def _get_attribute(self, target: str) -> tuple[Module, str, Any]:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        return module, name, getattr(module, name)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path `target`, e.g. 'encoder.0.weight'."""
        _, name, param = self._get_attribute(target)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path `target`, e.g. 'bn.running_mean'."""
        module, name, buffer = self._get_attribute(target)
        if name not in module._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return buffer

    def get_extra_state(self) -> Any:
        """Override, with `set_extra_state`, to put more than tensors into `state_dict`."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called."
        )

    def set_extra_state(self, state: Any) -> None:
        """Restore what `get_extra_state` returned, from a loaded `state_dict`."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called."
        )

    # ---- attributes ------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: parameters, buffers and modules live in dicts.
        state = self.__dict__
        if "_parameters" in state and name in state["_parameters"]:
            return state["_parameters"][name]
        if "_buffers" in state and name in state["_buffers"]:
            return state["_buffers"][name]
        if "_modules" in state and name in state["_modules"]:
            return state["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        def remove_from(*containers: Any) -> None:
            for container in containers:
                if name in container:
                    if isinstance(container, dict):
                        del container[name]
                    else:
                        container.discard(name)

        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(
                self.__dict__, self._buffers, self._modules, self._non_persistent_buffers_set
            )
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' "
                    f"({display_namespace()}.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
            return
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            remove_from(
                self.__dict__, self._parameters, self._buffers, self._non_persistent_buffers_set
            )
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' "
                    f"({display_namespace()}.nn.Module or None expected)"
                )
            modules[name] = value
            return
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    f"({display_namespace()}.nn.Buffer, {display_namespace()}.Tensor or None "
                    "expected)"
                )
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            self.register_buffer(name, value, persistent)
            return
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            super().__delattr__(name)

    def __dir__(self) -> list:
        attrs = list(dir(type(self))) + list(self.__dict__)
        attrs += list(self._parameters) + list(self._modules) + list(self._buffers)
        return sorted(a for a in set(attrs) if not a[0].isdigit())

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for name in ("_state_dict_pre_hooks", "_load_state_dict_pre_hooks"):  # older pickles
            self.__dict__.setdefault(name, OrderedDict())

    # ---- traversal -------------------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(name, module) for self and every descendant, depth first, each once by default."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in memo:
                    continue
                memo.add(module)
            yield name, module
            children = [
                (name + ("." if name else "") + child_name, child)
                for child_name, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, depth first, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct submodule."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Each direct submodule."""
        for _, module in self.named_children():
            yield module

    def _named_members(
        self, members: Callable, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = iter([(prefix, self)])
        for module_prefix, module in modules:
            for key, value in members(module):
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + key, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs; a parameter shared by two modules appears once by default."""
        return self._named_members(
            lambda module: module._parameters.items(), prefix, recurse, remove_duplicate
        )

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module (and of its submodules when `recurse`), each once: what
        an optimizer is given.

        >>> from chainrule import nn
        >>> [tuple(p.shape) for p in nn.Linear(3, 2).parameters()]
        [(2, 3), (2,)]
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(qualified name, buffer) for every buffer, e.g. ('bn.running_mean', tensor)."""
        return self._named_members(
            lambda module: module._buffers.items(), prefix, recurse, remove_duplicate
        )

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (state that is saved but not trained, like BatchNorm's running mean)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ---- modes and conversion ----------------------------------------------------------------
    def train(self: _ModuleT, mode: bool = True) -> _ModuleT:
        """Set training mode (dropout active, batch norm uses and updates batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self: _ModuleT) -> _ModuleT:
        """Evaluation mode (`train(False)`): Dropout off, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self: _ModuleT, requires_grad: bool = True) -> _ModuleT:
        """Set `requires_grad` on every parameter (False freezes the module). Returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None by default, or to zeros in place."""
        for param in self.parameters():
            grad = param.grad
            if grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                with grad_mode.no_grad():
                    grad.zero_()

    def _apply(self: _ModuleT, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> _ModuleT:
        """Convert every parameter (in place, keeping its identity), gradient and buffer."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        for param in self._parameters.values():
            if param is None:
                continue
            with grad_mode.no_grad():
                converted = fn(param)
            param.data = converted
            if param.grad is not None:
                with grad_mode.no_grad():
                    grad = fn(param.grad)
                param.grad.data = grad
        for key, buffer in self._buffers.items():
            if buffer is not None:
                converted = fn(buffer)
                if isinstance(buffer, UninitializedBuffer) and type(converted) is Tensor:
                    converted.__class__ = UninitializedBuffer  # (still waiting, as PyTorch's)
                self._buffers[key] = converted
        return self

    def apply(self: _ModuleT, fn: Callable[[Module], None]) -> _ModuleT:
        """Call fn on every submodule (children first) and then on self, e.g. to initialise."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    @overload
    def to(
        self: _ModuleT,
        device: Device | str | None = ...,
        dtype: DType | None = ...,
        non_blocking: bool = ...,
    ) -> _ModuleT: ...
    @overload
    def to(self: _ModuleT, dtype: DType, non_blocking: bool = ...) -> _ModuleT: ...
    @overload
    def to(self: _ModuleT, tensor: Tensor, non_blocking: bool = ...) -> _ModuleT: ...
    def to(self: _ModuleT, *args: Any, **kwargs: Any) -> _ModuleT:
        """to(dtype), to(device), to(device, dtype), to(tensor): floating and complex parameters
        and buffers take the dtype (a floating or complex one; a complex buffer taken to a
        floating dtype keeps its real part, as PyTorch's); integer ones (e.g.
        num_batches_tracked) only move."""
        device = kwargs.get("device")
        dtype = kwargs.get("dtype")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, Device)):
                device = arg
            elif isinstance(arg, bool):
                continue  # non_blocking
            elif arg is not None:
                dtype = arg
        if dtype is not None:
            dtype = as_dtype(dtype)
            if not (dtype.is_floating_point or dtype.is_complex):
                raise DTypeError(
                    "nn.Module.to only accepts floating point or complex dtypes, but got desired "
                    f"dtype={dtype}"
                )
            if dtype.is_complex:
                warnings.warn(
                    "Complex modules are a new feature under active development whose design may "
                    "change, and some modules might not work as expected when using complex "
                    "tensors as parameters or buffers.",
                    stacklevel=2,
                )

        memory_format = kwargs.get("memory_format")

        def convert(tensor: Tensor) -> Tensor:
            target = dtype if tensor.is_floating_point() or tensor.is_complex() else None
            if memory_format is not None and tensor.dim() in (4, 5):  # PyTorch's 4-D and 5-D
                return tensor.to(device=device, dtype=target, memory_format=memory_format)
            return tensor.to(device=device, dtype=target)

        return self._apply(convert)

    def to_empty(self: _ModuleT, *, device: Device | str | None, recurse: bool = True) -> _ModuleT:
        """Move the parameters and buffers to `device` without copying their values (they are
        uninitialised there): how a model built on the meta device gets memory. Returns self.

        >>> import chainrule
        >>> layer = chainrule.nn.Linear(3, 4, device="meta").to_empty(device="cpu")
        >>> layer.weight.device, layer.weight.shape
        (device(type='cpu'), chainrule.Size([4, 3]))
        """
        return self._apply(lambda tensor: empty_like(tensor, device=device), recurse=recurse)

    def float(self: _ModuleT) -> _ModuleT:
        """Convert floating-point parameters and buffers to float32 in place. Returns self."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self: _ModuleT) -> _ModuleT:
        """Convert floating-point parameters and buffers to float64 in place. Returns self."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self: _ModuleT) -> _ModuleT:
        """Convert floating-point parameters and buffers to float16 in place. Returns self."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self: _ModuleT) -> _ModuleT:
        """Convert floating-point parameters and buffers to bfloat16 in place. Returns self."""
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    def type(self: _ModuleT, dst_type: DType | str) -> _ModuleT:
        """Convert every parameter and buffer to `dst_type`. Returns self."""
        return self._apply(lambda t: t.to(dst_type))

    def cpu(self: _ModuleT) -> _ModuleT:
        """Move every parameter and buffer to the CPU. Returns self."""
        return self._apply(lambda t: t.cpu())

    def cuda(self: _ModuleT, device: Device | str | int | None = None) -> _ModuleT:
        """Move every parameter and buffer to a CUDA GPU (the current one, or `device`)."""
        return self._apply(lambda t: t.cuda(device))

    def share_memory(self: _ModuleT) -> _ModuleT:
        """Move every parameter, gradient and buffer into shared memory (Tensor.share_memory_):
        processes forked after this, or sent the module through multiprocessing, train the
        same parameters (Hogwild). Returns self."""
        return self._apply(lambda t: t.share_memory_())

    # ---- state dict ------------------------------------------------------------------------
    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(
        self,
        *args: Any,
        destination: dict[str, Any] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> dict[str, Any]:
        """Parameters and persistent buffers by dotted name; tensors share memory with the
        module (detached unless keep_vars)."""
        if args:
            destination = args[0] if len(args) > 0 else destination
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()  # type: ignore[attr-defined]
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if result is None:
                continue
            if getattr(hook, "_from_public_api", False):
                raise RuntimeError("state_dict post-hook must return None")
            destination = result  # the private hook's older contract: a new state_dict
        return destination

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        """Copy this module's own entries of `state_dict` into its parameters and buffers."""
        lists = (missing_keys, unexpected_keys, error_msgs)
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, *lists)
        persistent = {
            k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set
        }
        local_state = {
            k: v
            for k, v in itertools.chain(self._parameters.items(), persistent.items())
            if v is not None
        }
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                try:
                    value = as_tensor(value)
                except (TypeError, ValueError):
                    error_msgs.append(
                        f'While copying the parameter named "{key}", expected a Tensor or an '
                        f"array from checkpoint but received {type(value)}"
                    )
                    continue
            if len(param.shape) == 0 and len(value.shape) == 1 and value.shape[0] == 1:
                value = value.reshape(())  # old checkpoints stored scalars as shape (1,)
            if tuple(value.shape) != tuple(param.shape):
                # PyTorch names both shapes as torch.Size([...]) here (repr, not the tuple)
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{Size(value.shape)!r} from checkpoint, the shape in current model is "
                    f"{Size(param.shape)!r}."
                )
                continue
            with grad_mode.no_grad():
                if assign:
                    if isinstance(param, Parameter):
                        if not isinstance(value, Parameter):
                            value = Parameter(value, requires_grad=param.requires_grad)
                        else:
                            value.requires_grad_(param.requires_grad)
                    setattr(self, name, value)
                else:
                    param.copy_(value)
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    parts = key[len(prefix) :].split(".", 1)
                    if len(parts) > 1:
                        if parts[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif parts[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """Copy parameters and buffers from `state_dict` (values may be Tensors or arrays).

        Returns (missing_keys, unexpected_keys). With strict=True either kind of key raises;
        a shape mismatch always raises, naming the key and both shapes.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys: list[str] = []
        unexpected_keys: list[str] = []
        error_msgs: list[str] = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        stack = [(self, state_dict, "")]
        loaded = []
        while stack:
            module, local_state, prefix = stack.pop()
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            module._load_from_state_dict(
                local_state,
                prefix,
                local_metadata,
                True,
                missing_keys,
                unexpected_keys,
                error_msgs,
            )
            loaded.append(module)
            children = []
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {
                        k: v for k, v in local_state.items() if k.startswith(child_prefix)
                    }
                    children.append((child, child_state, child_prefix))
            stack.extend(reversed(children))
        incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
        for module in loaded:
            for hook in module._load_state_dict_post_hooks.values():
                hook(module, incompatible)
        if strict:
            if unexpected_keys:
                keys = ", ".join(f'"{k}"' for k in unexpected_keys)
                error_msgs.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing_keys:
                keys = ", ".join(f'"{k}"' for k in missing_keys)
                error_msgs.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if error_msgs:
            message = "Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(error_msgs)
            )
            if any(m.startswith("size mismatch") for m in error_msgs):
                raise ShapeError(message)
            raise StateDictError(message)
        return incompatible

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, prefix, keep_vars) before the module saves its entries."""
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs) before the module loads its entries; it may edit
        `state_dict` (rename or convert old keys)."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(
        self, hook: Callable, with_module: bool = False
    ) -> RemovableHandle:
        """The older form libraries use: without `with_module`, hook(state_dict, prefix, ...)."""
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = (
            functools.partial(hook, self) if with_module else hook
        )
        return handle

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put `module` at dotted path `target`: replace the submodule there, or (unless
        `strict`) add it to an existing parent."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + " has no attribute `" + name + "`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError("`" + name + "` is not an nn.Module")
        setattr(parent, name, module)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, state_dict, prefix, local_metadata) after the module saves its entries;
        it edits the state_dict in place and returns None (a RuntimeError otherwise)."""
        hook._from_public_api = True  # PyTorch's mark, which the private form refuses
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """The older, private form (still used by libraries): hook(module, state_dict, prefix,
        local_metadata) may also return a new state_dict, which replaces it."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError(
                "Cannot register the same function as the state dict post hook that was "
                "previously registered via register_state_dict_post_hook"
            )
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, incompatible_keys) after load_state_dict; it may edit the key lists."""
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    # ---- hooks and calling ---------------------------------------------------------------------
    @staticmethod
    def _add_hook(hooks: dict, hook: Callable, prepend: bool, *extra: dict) -> RemovableHandle:
        handle = RemovableHandle(hooks, *extra)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(
        self: _ModuleT,
        hook: Callable[[_ModuleT, tuple[Any, ...]], Any | None]
        | Callable[[_ModuleT, tuple[Any, ...], dict[str, Any]], tuple[Any, dict[str, Any]] | None],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
    ) -> RemovableHandle:
        """hook(module, args) -> new args or None, before forward (with_kwargs: hook(module,
        args, kwargs) -> (args, kwargs) or None)."""
        handle = self._add_hook(
            self._forward_pre_hooks, hook, prepend, self._forward_pre_hooks_with_kwargs
        )
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(
        self: _ModuleT,
        hook: Callable[[_ModuleT, tuple[Any, ...], Any], Any | None]
        | Callable[[_ModuleT, tuple[Any, ...], dict[str, Any], Any], Any | None],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """hook(module, args, output) -> new output or None, after forward."""
        handle = self._add_hook(
            self._forward_hooks,
            hook,
            prepend,
            self._forward_hooks_with_kwargs,
            self._forward_hooks_always_called,
        )
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_hook(
        self, hook: Callable[[Module, Grads, Grads], Grads | None], prepend: bool = False
    ) -> RemovableHandle:
        """hook(module, grad_input, grad_output) -> new grad_input or None, once the gradients
        with respect to the module's positional Tensor inputs are computed."""
        if getattr(self, "_is_full_backward_hook", None) is False:
            raise RuntimeError(_MIXED_BACKWARD_HOOKS)
        self._is_full_backward_hook = True
        return self._add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(
        self, hook: Callable[[Module, Grads, Grads], Grads | None]
    ) -> RemovableHandle:
        """PyTorch's older backward hook, kept for the programs that use it:
        hook(module, grad_input, grad_output) -> new grad_input or None, run on the graph node
        of the module's (first) output, so grad_input is what that one node gives its own
        inputs, the module's inputs only when its forward is a single op. As PyTorch, a
        FutureWarning says when that is not so; `register_full_backward_hook` is the hook with
        the documented meaning."""
        if getattr(self, "_is_full_backward_hook", None) is True:
            raise RuntimeError(_MIXED_BACKWARD_HOOKS)
        self._is_full_backward_hook = False
        return self._add_hook(self._backward_hooks, hook, False)

    def register_full_backward_pre_hook(
        self, hook: Callable[[Module, Grads], Grads | None], prepend: bool = False
    ) -> RemovableHandle:
        """hook(module, grad_output) -> new grad_output or None, before the module's backward."""
        return self._add_hook(self._backward_pre_hooks, hook, prepend)

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        if not (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
            or _global_forward_pre_hooks
            or _global_forward_hooks
            or _global_backward_hooks
            or _global_backward_pre_hooks
        ):
            return self.forward(*args, **kwargs)
        # Every module's hooks first, then this module's own, as PyTorch runs them.
        forward_hooks = [*_global_forward_hooks.items(), *self._forward_hooks.items()]
        with_kwargs = self._forward_hooks_with_kwargs.keys() | _global_forward_hooks_with_kwargs
        always = self._forward_hooks_always_called.keys() | _global_forward_hooks_always_called
        result = None
        called: set[int] = set()
        try:
            for hook_id, hook in (
                *_global_forward_pre_hooks.items(),
                *self._forward_pre_hooks.items(),
            ):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    new = hook(self, args, kwargs)
                    if new is not None:
                        if not (isinstance(new, tuple) and len(new) == 2):
                            raise RuntimeError(
                                "forward pre-hook must return None or a tuple of (new_args, "
                                f"new_kwargs), but got {new}."
                            )
                        args, kwargs = new
                else:
                    new = hook(self, args)
                    if new is not None:
                        args = new if isinstance(new, tuple) else (new,)
            backward_hook = None
            own = list(self._backward_hooks.values())
            legacy = own if getattr(self, "_is_full_backward_hook", None) is False else []
            backward_hooks = [*_global_backward_hooks.values(), *([] if legacy else own)]
            backward_pre_hooks = [
                *_global_backward_pre_hooks.values(),
                *self._backward_pre_hooks.values(),
            ]
            if backward_hooks or backward_pre_hooks:
                backward_hook = _BackwardHook(self, backward_hooks, backward_pre_hooks)
                args = backward_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in forward_hooks:
                if hook_id in always:
                    called.add(hook_id)
                if hook_id in with_kwargs:
                    new = hook(self, args, kwargs, result)
                else:
                    new = hook(self, args, result)
                if new is not None:
                    result = new
            if legacy:
                _attach_legacy_backward_hooks(self, legacy, args, result)
            if backward_hook is not None:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn(
                        "For backward hooks to be called, module output should be a Tensor or a "
                        f"tuple of Tensors but received {type(result)}",
                        stacklevel=2,
                    )
                else:
                    result = backward_hook.setup_output_hook(result)
            return result
        except Exception:
            for hook_id, hook in forward_hooks:
                if hook_id in always and hook_id not in called:
                    try:
                        if hook_id in with_kwargs:
                            new = hook(self, args, kwargs, result)
                        else:
                            new = hook(self, args, result)
                        if new is not None:
                            result = new
                    except Exception as error:  # PyTorch silences these too
                        warnings.warn(
                            "module forward hook with ``always_call=True`` raised an exception "
                            f"that was silenced as another error was raised in forward: {error}",
                            stacklevel=2,
                        )
            raise

    # Set by `compile()`: calls go through the captured programs.
    _compiled_call_impl: Callable | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        compiled = self._compiled_call_impl
        if compiled is not None:
            return compiled(*args, **kwargs)
        return self._call_impl(*args, **kwargs)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compile this module's calls with `chainrule.compile` (same options), in place."""
        optimized = compile_function(self, *args, **kwargs)
        # disable=True hands the module back: its calls stay eager.
        compiled = None if optimized is self else optimized._compiled_call
        object.__setattr__(self, "_compiled_call_impl", compiled)

    def _wrap_compiled(self, compiled_call: Callable) -> OptimizedModule:
        """What `chainrule.compile(module)` returns. The compiler sits below nn, so it makes the
        captured calls (`compiled_call`) and asks the module for the Module around them."""
        return OptimizedModule(self, compiled_call)

    # ---- printing --------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr; layers override it."""
        return ""

    def __repr__(self) -> str:
        extra_lines = []
        extra = self.extra_repr()
        if extra:
            extra_lines = extra.split("\n")
        child_lines = []
        for key, module in self._modules.items():
            child_lines.append("(" + key + "): " + _addindent(repr(module), 2))
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


class OptimizedModule(Module):
    """What `chainrule.compile(module)` returns, as PyTorch's `OptimizedModule`: a Module whose
    one child is the model, `_orig_mod` (so `state_dict()` keys and parameter names carry the
    `_orig_mod.` prefix, and a plain state dict does not load into it), whose `training` flag is
    the model's, and which reads and writes every other attribute on the model. Calls run
    through the captured programs.

    Example:
        >>> import chainrule
        >>> model = chainrule.nn.Linear(2, 1)
        >>> compiled = chainrule.compile(model)
        >>> compiled._orig_mod is model, list(compiled.state_dict())
        (True, ['_orig_mod.weight', '_orig_mod.bias'])
    """

    # Attributes kept on the wrapper itself; every other one is the model's (PyTorch's split).
    _own_attributes = frozenset(
        {"_orig_mod", "_compiled_call", "_wrapper_initialized", "forward", "__dict__"}
    )

    def __init__(self, module: Module, compiled_call: Callable) -> None:
        # Before Module.__init__: the attribute hooks below read `_orig_mod`.
        object.__setattr__(self, "_orig_mod", module)
        object.__setattr__(self, "_wrapper_initialized", False)
        super().__init__()
        object.__setattr__(self, "_wrapper_initialized", True)
        self._orig_mod = module  # registered as the child module
        object.__setattr__(self, "_compiled_call", compiled_call)

    @property  # type: ignore[override]
    def training(self) -> bool:
        return self._orig_mod.training

    @training.setter
    def training(self, mode: bool) -> None:
        # Module.__init__'s default is not the model's: only later writes reach it.
        if self.__dict__["_wrapper_initialized"]:
            self._orig_mod.training = mode

    @property
    def captures(self) -> int:
        """How many programs the compiled calls have captured (chainrule's, for benchmarks)."""
        return self._compiled_call.captures

    @property
    def program(self) -> Any:
        """The program captured last (chainrule's; None before the first capture)."""
        return self._compiled_call.program

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled_call(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "_orig_mod":
            return self.__dict__["_modules"]["_orig_mod"]
        return getattr(self._orig_mod, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(type(self), name) or name in self._own_attributes:
            super().__setattr__(name, value)
        else:
            setattr(self._orig_mod, name, value)

    def __delattr__(self, name: str) -> None:
        if hasattr(type(self), name) or name in self._own_attributes:
            super().__delattr__(name)
        else:
            delattr(self._orig_mod, name)

    def __reduce__(self) -> tuple:
        # Copies (copy.deepcopy) compile a copy of the model afresh, as PyTorch's: captured
        # programs hold arrays and callables that are not copied.
        return (_compile_again, (self._orig_mod, self._compiled_call.fullgraph))

    def __len__(self) -> int:
        if hasattr(type(self._orig_mod), "__len__"):
            return len(self._orig_mod)
        raise TypeError(f"{type(self._orig_mod).__name__} does not support len()")

    def __dir__(self) -> list:
        own = super().__dir__()
        return sorted(set(self._orig_mod.__dir__()) | set(own))


def _compile_again(module: Module, fullgraph: bool) -> OptimizedModule:
    """An OptimizedModule rebuilt from its model (what `OptimizedModule.__reduce__` names)."""
    return compile_function(module, fullgraph=fullgraph)
