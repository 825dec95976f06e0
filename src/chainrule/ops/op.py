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
from chainrule.autograd.forward_ad import _current_level, set_tangent, tangent_of
from chainrule.autograd.graph import observed_call, observers
from chainrule.autograd.node import ForwardContext, HookedValue, Node, SavedValue
from chainrule.backend import is_numpy_scalar
from chainrule.backend.dtypes import from_numpy_dtype
from chainrule.errors import BackendError, ChainruleError, ShapeError

_grad_enabled = grad_mode._grad_enabled.get
_dual_level = _current_level.get
_set_dual_level = _current_level.set
_reset_dual_level = _current_level.reset
_observers = observers.get

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
    # Optional: fused_jvp(ctx, arrays, tangent_arrays, tracked) -> (output, tangent) arrays,
    # saving what forward saves, or None when it does not apply (tracked[i]: input i requires
    # grad under grad mode, so a tangent that reads it needs a graph). Used in forward mode,
    # for ops whose value and tangent cost less together than apart (a matrix-vector product
    # reads the matrix once for both). `jvp` stays the definition; this is a faster way to run
    # it.
    fused_jvp = None

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


def op_label(op: type) -> str:
    return getattr(op, "label", None) or op.__name__.lower()


def _forward_error(op: type, inputs: Sequence[Any], error: Exception) -> ChainruleError:
    shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
    return ShapeError(f"{op_label(op)}: {error} (operand shapes {shapes})")


def apply(op: type, inputs: Sequence[Any], *params: Any) -> Any:
    """Run `op` on Tensors `inputs`; record a Node when grad mode is on and any input needs one.

    This is the per-op hot path: plain loops and local names, no keyword repacking.
    """
    observing = _observers()
    if observing is not None:  # anomaly mode, saved-tensor hooks, the profiler: autograd/graph.py
        return observed_call(observing, op, inputs, apply, params)
    backend = inputs[0]._backend
    needs_grad = False
    for tensor in inputs:
        if tensor._backend is not backend:
            raise _device_error(op, inputs)
        if tensor._requires_grad:
            needs_grad = True
    record = needs_grad and op.differentiable and _grad_enabled()
    dual = _dual_level() is not None and op.differentiable and _has_tangent(inputs)
    ctx = Node(op, backend) if record or dual else ForwardContext(op, backend)
    arrays = [tensor._array for tensor in inputs]
    fused = None
    try:
        if dual and op.fused_jvp is not None:
            fused = _fused_jvp(ctx, op, inputs, arrays)
        if fused is None:
            out = op.forward(ctx, *arrays, *params)
        else:
            out, fused = fused
    except ChainruleError:
        raise
    except (ValueError, IndexError) as error:
        raise _forward_error(op, inputs, error) from None
    array_type = backend.array_type
    is_tuple = type(out) is tuple
    if is_tuple:
        if any(type(a) is not array_type for a in out):
            out = tuple(_as_array(ctx, a) for a in out)
    elif type(out) is not array_type:
        out = _as_array(ctx, out)

    if not record:
        if is_tuple:
            results = tuple(Tensor._wrap_on(array, backend) for array in out)
        else:
            results = Tensor._wrap_on(out, backend)
            if op.is_view:
                results._version_counter = inputs[0]._version_counter
                results._base = inputs[0]
        if fused is not None:
            set_tangent(results, Tensor._wrap_on(fused, backend))
        elif dual:
            _forward_mode(ctx, op, inputs, arrays, results, record=False)
        return results

    edges = []
    meta = []
    for tensor in inputs:
        array = tensor._array
        meta.append((array.shape, from_numpy_dtype(array.dtype)))
        if not tensor._requires_grad:
            edges.append(None)
        elif tensor._node is not None:
            edges.append((tensor._node, tensor._output_nr))
        else:
            edges.append(tensor._gradient_edge())
    ctx.next_edges = tuple(edges)
    ctx.input_meta = tuple(meta)
    if is_tuple:
        outputs = tuple(_wrap_output(array, ctx, nr) for nr, array in enumerate(out))
        ctx.output_meta = tuple((t.shape, t.dtype) for t in outputs)
    else:
        result = (
            Tensor._make(out, ctx, 0) if out.dtype.kind == "f" else Tensor._wrap_on(out, backend)
        )
        if op.is_view:
            result._version_counter = inputs[0]._version_counter
            result._base = inputs[0]
        outputs = (result,)
    if ctx._saved is not None:
        _resolve_saved(ctx, inputs, arrays, outputs)
    results = outputs if is_tuple else outputs[0]
    if fused is not None:
        set_tangent(results, Tensor._wrap_on(fused, backend))
        if ctx._saved is not None:
            _keep_tangent_of_saved_output(ctx, 0, results._extra["tangent"])
    elif dual:
        _forward_mode(ctx, op, inputs, arrays, results, record=True)
    return results


def _has_tangent(inputs: Sequence[Any]) -> bool:
    for tensor in inputs:
        if tensor._extra is not None and tangent_of(tensor) is not None:
            return True
    return False


def _forward_mode(
    ctx: Node, op: type, inputs: Sequence[Any], arrays: list, results: Any, record: bool
) -> None:
    """Give the outputs their tangents: the op's jvp applied to the inputs' tangents (None for
    an input without one), computed with the dual level off so it is not itself traced."""
    if op.jvp is None:
        raise NotImplementedError(f"{op_label(op)}: forward-mode AD (jvp) is not implemented")
    outputs = results if type(results) is tuple else (results,)
    if not record:
        ctx.input_meta = tuple((a.shape, from_numpy_dtype(a.dtype)) for a in arrays)
        if type(results) is tuple:
            ctx.output_meta = tuple((t.shape, t.dtype) for t in outputs)
        if ctx._saved is not None:
            _resolve_saved(ctx, inputs, arrays, outputs, outputs_in_graph=False)
    # None for an input without a tangent: a symbolic zero, which the rules skip (no zeros
    # the size of a weight matrix to allocate and multiply for every op of a jvp).
    tangents = [tangent_of(t) if t._extra is not None else None for t in inputs]
    level = _set_dual_level(None)
    try:
        output_tangents = op.jvp(ctx, *tangents)
    finally:
        _reset_dual_level(level)
    if type(results) is not tuple:
        output_tangents = (output_tangents,)
    for output_nr, (output, tangent) in enumerate(zip(outputs, output_tangents)):
        if tangent is not None and output._array.dtype.kind == "f":
            if tangent.shape != output.shape:
                raise ShapeError(
                    f"{op.__name__}.jvp returned a tangent of shape {tuple(tangent.shape)} for "
                    f"an output of shape {tuple(output.shape)}"
                )
            set_tangent(output, tangent)
            if record and ctx._saved is not None:
                _keep_tangent_of_saved_output(ctx, output_nr, output._extra["tangent"])


def _fused_jvp(ctx: Node, op: type, inputs: Sequence[Any], arrays: list) -> tuple | None:
    """`op.fused_jvp`'s (output, tangent) arrays, or None to take the usual path. Raw arrays
    record nothing, so the op is told which inputs require grad under grad mode and declines
    where its tangent would read one of them; a tangent that requires grad rules it out."""
    tangents = [tangent_of(t) if t._extra is not None else None for t in inputs]
    recording = _grad_enabled()
    if recording and any(t is not None and t._requires_grad for t in tangents):
        return None
    tracked = [recording and t._requires_grad for t in inputs]
    tangent_arrays = [None if t is None else t._array for t in tangents]
    return op.fused_jvp(ctx, arrays, tangent_arrays, tracked)


def _keep_tangent_of_saved_output(ctx: Node, output_nr: int, entry: tuple) -> None:
    """A saved output is rebuilt as a new Tensor at vjp time: give it this tangent back."""
    for saved in ctx._saved.values():
        if type(saved) in (SavedValue, HookedValue) and saved.output_nr == output_nr:
            saved.tangent = entry


def _device_error(op: type, inputs: Sequence[Any]) -> BackendError:
    devices = ", ".join(str(t.device) for t in inputs)
    return BackendError(f"{op_label(op)}: operands are on different devices: {devices}")


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


def _resolve_saved(
    ctx: Node, inputs: Sequence[Any], arrays: list, outputs: tuple, outputs_in_graph: bool = True
) -> None:
    """Turn what forward saved into SavedValues: inputs by Tensor, outputs by array (rebuilt
    with this node as grad_fn when `outputs_in_graph`, else as constants)."""
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
                    if outputs_in_graph:
                        saved[name] = SavedValue(value, output_nr, output._version_counter)
                    else:
                        saved[name] = SavedValue(output, None, output._version_counter)
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
