"""`torch.library.custom_op`: a Python function made an operator with its own derivative.

PyTorch programs (from 2.4) wrap a kernel they wrote, often a NumPy or C call autograd cannot
see into, as an operator, and give it a backward with `register_autograd`:

    >>> import numpy as np
    >>> import chainrule
    >>> from chainrule.library import custom_op
    >>> @custom_op("mylib::numpy_sin", mutates_args=())
    ... def numpy_sin(x: chainrule.Tensor) -> chainrule.Tensor:
    ...     return chainrule.from_numpy(np.sin(x.numpy()))
    >>> def setup_context(ctx, inputs, output):
    ...     ctx.save_for_backward(inputs[0])
    >>> def backward(ctx, grad):
    ...     (x,) = ctx.saved_tensors
    ...     return grad * x.cos()
    >>> numpy_sin.register_autograd(backward, setup_context=setup_context)
    >>> x = chainrule.tensor([0.0, 1.0], requires_grad=True)
    >>> numpy_sin(x).sum().backward()
    >>> x.grad
    tensor([1.0000, 0.5403])

Here an operator is an `autograd.Function` made from the pieces: the body runs with grad mode
off (its own ops are not recorded), `setup_context` fills `ctx`, `backward` gives a gradient
per input; without `register_autograd`, backward through it raises, as in PyTorch. Fake
(meta) kernels, vmap and autocast rules are accepted and kept: chainrule runs the real body
everywhere. An operator is also reached as `torch.ops.<namespace>.<name>` (and its
`.default`); the older `Library` / `define` / `impl` API is not provided.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.errors import GradError
from chainrule.ops import OpNamespace, custom_namespaces

__all__ = ["CustomOpDef", "custom_op", "register_autograd", "register_fake", "register_kernel"]

_registry: dict[str, CustomOpDef] = {}


class CustomOpDef:
    """An operator made by `custom_op`: call it like the function it wraps."""

    def __init__(self, name: str, function: Callable, mutates_args: Iterable[str] | str) -> None:
        namespace, _, op_name = name.partition("::")
        if not namespace or not op_name:
            raise ValueError(f"custom_op: expected a name like 'mylib::my_op', got {name!r}")
        self._namespace, self._name = namespace, op_name
        self._function = function
        self._signature = _checked_signature(function)
        self._mutates_args = mutates_args
        self._kernels: dict[str, Callable] = {}
        self._fake: Callable | None = None
        self._backward: Callable | None = None
        self._setup_context: Callable | None = None
        self._extras: dict[str, Any] = {}
        self._node = self._make_function()

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._namespace}::{self._name})>"

    @property
    def default(self) -> CustomOpDef:
        """`torch.ops.mylib.my_op.default`: the operator's one overload, itself."""
        return self

    def _make_function(self) -> type:
        """The autograd.Function this operator runs as: its node is named as PyTorch's,
        GeneratedBackwardFor_<namespace>_<name>_defaultBackward."""
        op = self

        def forward(*args: Any) -> Any:
            return op._kernel_for(args)(*args)

        def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
            if op._setup_context is not None:
                op._setup_context(ctx, inputs, output)

        def backward(ctx: Any, *grads: Any) -> Any:
            if op._backward is None:
                raise GradError(
                    f"Trying to backward through {op._namespace}.{op._name}.default but no "
                    "autograd formula was registered. Please use register_autograd to add one."
                )
            result = op._backward(ctx, *grads)
            result = result if isinstance(result, tuple) else (result,)
            return result + (None,) * (ctx._n_args - len(result))  # for non-tensor inputs

        forward.__signature__ = self._signature  # keyword calls bind to the wrapped function's
        name = f"GeneratedBackwardFor_{self._namespace}_{self._name}_default"
        members = {
            "forward": staticmethod(forward),
            "setup_context": staticmethod(setup_context),
            "backward": staticmethod(backward),
        }
        return type(name, (Function,), members)

    def _kernel_for(self, args: tuple) -> Callable:
        for value in args:
            if isinstance(value, Tensor):
                return self._kernels.get(value.device.type, self._function)
        return self._function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = bound.args
        output = self._node.apply(*arguments)
        outputs = output if isinstance(output, tuple) else (output,)
        inputs = [a for a in arguments if isinstance(a, Tensor)]
        for result in outputs:
            if isinstance(result, Tensor) and any(result._array is t._array for t in inputs):
                raise RuntimeError(
                    f"{self._name}: The output of this custom operator (1) must not also be an "
                    "input to this custom operator and (2) may not alias any inputs to this "
                    "custom operator or other returns. The most common way to trigger this "
                    "error is if we have y = custom_op(x) and y and x are the same Tensor. "
                    "Please instead return a clone of the offending output tensor(s)."
                )
        return output

    # ---- registrations ----------------------------------------------------------------------
    def register_autograd(
        self, backward: Callable, /, *, setup_context: Callable | None = None
    ) -> None:
        """`backward(ctx, *grads)` gives a gradient per input (None for non-tensors);
        `setup_context(ctx, inputs, output)` saves what it needs on `ctx`."""
        self._backward = backward
        self._setup_context = setup_context

    def register_fake(self, fn: Callable, /) -> Callable:
        """Kept: PyTorch runs it on fake tensors when compiling; chainrule runs the body."""
        self._fake = fn
        return fn

    def register_kernel(self, device_types: str | Iterable[str], fn: Callable | None = None):
        """A body for tensors on these devices ("cpu", "cuda"); decorator form too."""

        def register(function: Callable) -> Callable:
            kinds = [device_types] if isinstance(device_types, str) else list(device_types)
            for kind in kinds:
                self._kernels[kind] = function
            return function

        return register if fn is None else register(fn)

    def _keep(self, kind: str) -> Callable:
        def register(*args: Any, **kwargs: Any) -> Any:
            self._extras[kind] = (args, kwargs)
            function = next((a for a in args if callable(a)), None)
            return function if function is not None else (lambda f: f)

        return register

    def __getattr__(self, name: str) -> Any:
        if name in ("register_vmap", "register_autocast", "register_torch_dispatch"):
            return self._keep(name)  # accepted and kept: no other dispatch layers here
        if name == "set_kernel_enabled":
            return lambda device_type, enabled=True: None
        raise AttributeError(f"'CustomOpDef' object has no attribute '{name}'")


def _checked_signature(function: Callable) -> inspect.Signature:
    """PyTorch infers the operator's schema from the annotations: every parameter needs one."""
    signature = inspect.signature(function)
    for parameter in signature.parameters.values():
        if parameter.annotation is inspect.Parameter.empty:
            raise ValueError(
                f"infer_schema(func): Parameter {parameter.name} must have a type annotation. "
                f"Got func with signature {signature})"
            )
    return signature


def custom_op(
    name: str,
    fn: Callable | None = None,
    /,
    *,
    mutates_args: Iterable[str] | str,
    device_types: str | Iterable[str] | None = None,
    schema: str | None = None,
    tags: Any = None,
) -> Any:
    """`fn` as an operator named "namespace::name" (decorator form too). `mutates_args`
    names the arguments the body writes in place ("unknown" for any), as PyTorch requires;
    with `device_types`, `fn` is the body for those devices only."""

    def make(function: Callable) -> CustomOpDef:
        op = CustomOpDef(name, function, mutates_args)
        if device_types is not None:
            op.register_kernel(device_types, function)
        _registry[name] = op
        namespace = custom_namespaces.setdefault(op._namespace, OpNamespace(op._namespace))
        namespace._ops[op._name] = op
        return op

    return make if fn is None else make(fn)


def _named(op: str | CustomOpDef) -> CustomOpDef:
    if isinstance(op, CustomOpDef):
        return op
    if op not in _registry:
        raise ValueError(f"no custom operator named {op!r} (made with custom_op)")
    return _registry[op]


def register_autograd(
    op: str | CustomOpDef, backward: Callable, /, *, setup_context: Callable | None = None
) -> None:
    """`torch.library.register_autograd`: op.register_autograd, by name or operator."""
    _named(op).register_autograd(backward, setup_context=setup_context)


def register_fake(op: str | CustomOpDef, fn: Callable | None = None, /, **_: Any) -> Any:
    """`torch.library.register_fake`: op.register_fake (decorator form too)."""
    target = _named(op)
    return target.register_fake if fn is None else target.register_fake(fn)


def register_kernel(
    op: str | CustomOpDef, device_types: str | Iterable[str], fn: Callable | None = None, /
) -> Any:
    """`torch.library.register_kernel`: op.register_kernel (decorator form too)."""
    return _named(op).register_kernel(device_types, fn)
