"""The Op base class and `apply`, the life of one op call.

An op is a class with static methods side by side:
  forward(ctx, *arrays, *params) -> array or tuple of arrays   (raw arrays, through ctx.xp)
  vjp(ctx, *grads) -> one gradient per tensor input            (Tensors, in chainrule ops)
  jvp(ctx, *tangents) -> tangent of the output                 (Tensors, in chainrule ops)
Because vjp and jvp are written in differentiable ops, `create_graph=True` gives exact higher
derivatives. What forward saves must be an input, an output, or a locally constant array (a
mask, an index): any other intermediate would be a constant to the second derivative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.autograd import grad_mode
from chainrule.autograd.node import Node, SavedValue
from chainrule.backend import is_numpy_scalar, numpy_backend
from chainrule.errors import BackendError, ChainruleError, ShapeError

_grad_enabled = grad_mode._grad_enabled.get

# The Tensor class, registered by chainrule._tensor when it is defined (tensor <-> ops is the one
# allowed import cycle; registering avoids a function-level import on every op call).
Tensor: Any = None


class Op:
    """Base class of every op. Subclasses set the static methods; see the module docstring."""

    # A view op's output shares memory (and so the version counter) with input 0.
    is_view = False
    # Ops such as argmax produce no gradient at all; nothing is recorded for them.
    differentiable = True
    jvp = None
    batch = None

    @staticmethod
    def forward(ctx: Node, *args: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def vjp(ctx: Node, *grads: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def node_name(cls) -> str:
        return f"{cls.__name__}Backward0"

    @staticmethod
    def materialize_grads(ctx: Node, grads: list) -> list:
        """Zeros for the outputs no gradient reached, so a vjp always sees Tensors."""
        filled = []
        for grad, (shape, dtype) in zip(grads, ctx.output_meta):
            if grad is None:
                grad = Tensor._wrap(ctx.xp.zeros(shape, dtype.numpy))
            filled.append(grad)
        return filled


def _backend_of(op: type, inputs: Sequence[Any]) -> Any:
    backend = inputs[0]._backend
    for tensor in inputs:
        if tensor._backend is not backend:
            devices = ", ".join(str(t.device) for t in inputs)
            raise BackendError(f"{op_label(op)}: operands are on different devices: {devices}")
    return backend


def op_label(op: type) -> str:
    return getattr(op, "label", None) or op.__name__.lower()


def _forward_error(op: type, inputs: Sequence[Any], error: Exception) -> ChainruleError:
    shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
    return ShapeError(f"{op_label(op)}: {error} (operand shapes {shapes})")


def apply(op: type, inputs: Sequence[Any], *params: Any) -> Any:
    """Run `op` on Tensors `inputs`; record a Node when grad mode is on and any input needs one."""
    backend = inputs[0]._backend if len(inputs) == 1 else _backend_of(op, inputs)
    ctx = Node(op, backend)
    arrays = [tensor._array for tensor in inputs]
    try:
        out = op.forward(ctx, *arrays, *params)
    except ChainruleError:
        raise
    except (ValueError, IndexError) as error:
        raise _forward_error(op, inputs, error) from None
    array_type = backend.array_type
    if type(out) is tuple:
        if any(type(a) is not array_type for a in out):
            out = tuple(_as_array(ctx, a) for a in out)
    elif type(out) is not array_type:
        out = _as_array(ctx, out)

    record = op.differentiable and _grad_enabled()
    if record:
        for tensor in inputs:
            if tensor._requires_grad:
                break
        else:
            record = False
    if not record:
        if type(out) is tuple:
            return tuple(Tensor._wrap(array) for array in out)
        result = Tensor._wrap(out)
        if op.is_view:
            result._version_counter = inputs[0]._version_counter
            result._base = inputs[0]
        return result

    ctx.next_edges = tuple(t._gradient_edge() if t._requires_grad else None for t in inputs)
    ctx.input_meta = tuple((t.shape, t.dtype) for t in inputs)
    if type(out) is tuple:
        outputs = tuple(_wrap_output(array, ctx, nr) for nr, array in enumerate(out))
        ctx.output_meta = tuple((t.shape, t.dtype) for t in outputs)
    else:
        outputs = (_wrap_output(out, ctx, 0),)
        if op.is_view:
            outputs[0]._version_counter = inputs[0]._version_counter
            outputs[0]._base = inputs[0]
    if ctx._saved is not None:
        _resolve_saved(ctx, inputs, arrays, outputs)
    return outputs if type(out) is tuple else outputs[0]


def _as_array(ctx: Node, value: Any) -> Any:
    """NumPy returns scalars from 0-d math: make them 0-d arrays, also where forward saved them,
    so a saved output is still recognised as the output."""
    if type(value) is ctx.backend.array_type:
        return value
    array = ctx.xp.asarray(value)
    saved = ctx._saved
    if saved is not None:
        for name, entry in saved.items():
            if entry is value:
                saved[name] = array
    return array


def _wrap_output(array: Any, ctx: Node, output_nr: int) -> Any:
    if array.dtype.kind == "f":
        return Tensor._make(array, ctx, output_nr)
    return Tensor._wrap(array)


def _resolve_saved(ctx: Node, inputs: Sequence[Any], arrays: list, outputs: tuple) -> None:
    """Turn what forward saved into SavedValues: inputs by Tensor, outputs by array."""
    saved = ctx._saved
    for name, value in saved.items():
        for index, array in enumerate(arrays):
            if value is array:
                tensor = inputs[index]
                saved[name] = SavedValue(tensor, None, tensor._version_counter)
                break
        else:
            for output_nr, output in enumerate(outputs):
                if value is output._array:
                    saved[name] = SavedValue(value, output_nr, output._version_counter)
                    break
            else:
                if isinstance(value, ctx.backend.array_type) or is_numpy_scalar(value):
                    saved[name] = SavedValue(Tensor._wrap(ctx.xp.asarray(value)), None, None)


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum `grad` over the dimensions broadcasting added to an operand of `shape`."""
    if grad.shape == shape:
        return grad
    from chainrule.ops.shape import sum_to

    return sum_to(grad, shape)


def default_backend() -> Any:
    return numpy_backend
