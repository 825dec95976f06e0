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

from chainrule._tensor import VIEW_NO_GRAD, VIEW_PLAIN, Tensor, raise_inference_saved
from chainrule.autograd import grad_mode
from chainrule.autograd.forward_ad import _current_level, set_tangent, tangent_at
from chainrule.autograd.node import ForwardContext, InferenceVersionCounter, Node
from chainrule.autograd.observers import observed_call, observers
from chainrule.autograd.saved import HookedValue, SavedValue
from chainrule.backend import Array, backend_of_array, is_array, is_numpy_scalar, numpy_backend
from chainrule.backend.dtypes import bfloat16, float16, float32, from_numpy_dtype
from chainrule.backend.float_errors import FLOAT_ERRORS, QUIET
from chainrule.errors import BackendError, ChainruleError, GradError, ShapeError

_grad_enabled = grad_mode._grad_enabled.get
_dual_level = _current_level.get
_set_dual_level = _current_level.set
_reset_dual_level = _current_level.reset
_observers = observers.get
_BFLOAT16 = bfloat16.numpy
_FLOAT16 = float16.numpy
_FLOAT32 = float32.numpy


class Op:
    """Base class of every op. Subclasses set the static methods; see the module docstring."""

    # A view op's output shares memory (and so the version counter) with input 0.
    is_view = False
    # Whether vjp reads its inputs' values (most ops') or only their shapes (views,
    # CopySlices, add, sum, cat...): vmap's per-example graph, which recomputes an op from its
    # inputs, lets those be written in place after the call, as PyTorch's backward does. A
    # tuple names the inputs read (where's condition); "others" says each input is read only
    # for the other's gradient (mul, matmul: bilinear); a function of (index, next_edges)
    # says it case by case (div, lerp).
    vjp_reads_inputs: Any = True
    # Ops such as argmax produce no gradient at all; nothing is recorded for them.
    differentiable = True
    jvp = None
    batch = None
    # Fast-path hook, optional (docs/how-it-works.md, "Fast paths"):
    # fused_jvp(ctx, arrays, tangent_arrays, tracked) -> (output, tangent) arrays, saving what
    # forward saves, or None when it does not apply (tracked[i]: input i requires grad under
    # grad mode, so a tangent that reads it needs a graph). Forward mode calls it instead of
    # forward + jvp for ops whose value and tangent cost less together than apart (a
    # matrix-vector product reads the matrix once for both). `jvp` stays the definition.
    fused_jvp = None
    # bfloat16 and float16 operands reach forward as float32 and its floating outputs are
    # rounded back once (`_forward_in_float32`), unless the op moves bits without arithmetic
    # and keeps the dtype itself (views, casts, device copies): those set this True.
    bfloat16_native = False
    # Ops whose Python-number operands PyTorch rounds to a half-precision input's dtype before
    # computing in float32 (add.Scalar and sub: x + 0.1 adds float16(0.1)) set this True.
    rounds_scalars_to_half = False
    # Ops given a Python number as a float32 0-dim operand, which PyTorch's kernels use as
    # float32 with half-precision inputs (lerp's weight: not rounded to float16 first), set
    # this True: that operand keeps a half-precision call's result in the half dtype.
    wide_scalar_operands = False
    # Fast-path hook, optional: fast_vjp(ctx, *grads) -> what `vjp` returns, computed faster (by
    # a fused op whose own rules are exact, such as TanhBackward). The engine and elementwise
    # jvps run it when present; `vjp` stays the definition, and the op tests check both agree.
    fast_vjp = None

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
                grad = Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy), ctx.backend)
            filled.append(grad)
        return filled


class NoDerivative(Op):
    """An op PyTorch records but cannot differentiate (heaviside, floor_divide, unique,
    histogram): the output of an input that requires grad is in the graph, and a backward
    through it raises PyTorch's error, rather than the gradient being dropped in silence.
    `aten` names the op as PyTorch's message does. PyTorch's ops with no derivative formula
    at all show grad_fn `NotImplemented` and raise RuntimeError; those its derivative table
    lists as not implemented (`listed`: unique, geqrf) show their own node name and raise
    NotImplementedError. Forward mode raises NotImplementedError (no jvp), as PyTorch."""

    aten = ""
    listed = False
    jvp = None

    @classmethod
    def node_name(cls) -> str:
        return super().node_name() if cls.listed else "NotImplemented"

    @staticmethod
    def vjp(ctx: Node, *grads: Any) -> Any:
        op = ctx.op
        if op.listed:
            raise NotImplementedError(f"the derivative for '{op.aten}' is not implemented.")
        raise GradError(f"derivative for aten::{op.aten} is not implemented")


class Computed(NoDerivative):
    """Values computed outside an op (unique's and histogram's work on the host), recorded as
    the outputs of a NoDerivative op of the inputs: apply(Subclass, inputs, results), where
    `results` is an array or a tuple of arrays."""

    bfloat16_native = True  # the inputs are not read
    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, *arrays_then_results: Any) -> Any:
        return arrays_then_results[-1]


def named(out: Any, name: str) -> Any:
    """Show `out`'s grad_fn as `name`: PyTorch's node name for a function composed of several
    ops here, whose last op would otherwise name it (cross_entropy -> NllLossBackward0, not
    DivBackward0). One dict store per call, on a node the composite has just made; returns
    `out`."""
    node = out._node
    if node is not None:
        node.__dict__["display_name"] = name
    return out


def op_label(op: type) -> str:
    return getattr(op, "label", None) or op.__name__.lower()


def _forward_error(op: type, inputs: Sequence[Any], error: Exception) -> ChainruleError:
    shapes = [tuple(t.shape) for t in inputs]
    if "operands could not be broadcast together" in str(error):  # NumPy's words: PyTorch's instead
        error = _broadcast_mismatch(shapes) or error
    listed = ", ".join(str(shape) for shape in shapes)
    return ShapeError(f"{op_label(op)}: {error} (operand shapes {listed})")


def _broadcast_mismatch(shapes: Sequence[tuple]) -> str | None:
    """PyTorch's message for operands that do not broadcast: each shape in turn against the
    broadcast of those before it ("tensor a"), dimensions from the last, the first clash
    named by its index in the broadcast shape. None if the shapes do broadcast."""
    accumulated = shapes[0]
    for shape in shapes[1:]:
        ndim = max(len(accumulated), len(shape))
        sizes = []
        for dim in range(ndim - 1, -1, -1):
            offset = ndim - 1 - dim
            a = accumulated[-1 - offset] if offset < len(accumulated) else 1
            b = shape[-1 - offset] if offset < len(shape) else 1
            if a != b and a != 1 and b != 1:
                return (
                    f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                    f"non-singleton dimension {dim}"
                )
            sizes.append(b if a == 1 else a)
        accumulated = tuple(reversed(sizes))
    return None


def apply(op: type, inputs: Sequence[Any], *params: Any) -> Any:
    """Run `op` on Tensors `inputs`; record a Node when grad mode is on and any input needs one.

    The six steps of every op call, in order. This is the per-op hot path: plain loops and
    local names, no keyword repacking; the rare paths (observers, forward mode, the fused jvp
    hook) are one test each and live in the functions below.
    """
    observing = _observers()
    if observing is not None:  # anomaly mode, saved-tensor hooks, the profiler: observers.py
        return observed_call(observing, op, inputs, apply, params)

    # 1. Check devices: every operand on one backend; note whether any needs a gradient.
    backend = inputs[0]._backend
    needs_grad = False
    half_operand = False
    for tensor in inputs:
        if tensor._backend is not backend:
            return apply(op, _on_one_device(op, inputs), *params)
        if tensor._base is not None and tensor._view_version != tensor._version_counter.value:
            tensor._refresh_view()  # its base was written in place since: ops/views.py
        if tensor._requires_grad:
            needs_grad = True
        dtype = tensor._array.dtype
        if dtype is _BFLOAT16 or dtype is _FLOAT16:
            half_operand = True

    # 2. Decide recording: a Node for reverse mode, and whether tangents flow (forward mode).
    record = needs_grad and op.differentiable and _grad_enabled()
    dual = _dual_level() is not None and op.differentiable and _has_tangent(inputs)
    ctx = Node(op, backend) if record or dual else ForwardContext(op, backend)

    # 3. Run forward on the raw arrays (or the fused value-and-tangent hook, in forward mode).
    arrays = [tensor._array for tensor in inputs]
    if record or dual:  # what forward saves is matched to inputs by array: one array each
        count = len(arrays)
        if count == 2:
            if arrays[0] is arrays[1] and inputs[0] is not inputs[1]:
                arrays[1] = arrays[1].view()  # x and x.detach(): see _distinguish_shared_arrays
        elif count > 2:
            _distinguish_shared_arrays(inputs, arrays)
    fused_tangent = None
    quiet = None
    if FLOAT_ERRORS.get() is not QUIET:  # inf and nan without warnings, as PyTorch
        quiet = FLOAT_ERRORS.set(QUIET)
    try:
        if half_operand and not (op.bfloat16_native or op.is_view):
            out = _forward_in_float32(ctx, op, arrays, params)
        elif dual and op.fused_jvp is not None:
            out, fused_tangent = _run_fused_jvp(ctx, op, inputs, arrays, params)
        else:
            out = op.forward(ctx, *arrays, *params)
    except ChainruleError:
        raise
    except (ValueError, IndexError) as error:
        raise _forward_error(op, inputs, error) from None
    except NotImplementedError as error:  # a backend without this op (the meta device)
        raise NotImplementedError(f"{op_label(op)} on {backend.device}: {error}") from None
    finally:
        if quiet is not None:
            FLOAT_ERRORS.reset(quiet)

    # 4. Wrap the outputs as Tensors; a floating or complex output of a recorded call has ctx
    # as grad_fn.
    node = ctx if record else None
    if type(out) is tuple:
        results = outputs = _wrap_outputs(ctx, out, backend, node)
    else:
        out_backend = backend
        if type(out) is not backend.array_type:
            out, out_backend = _as_array(ctx, out)
        if node is not None and out.dtype.kind in "fcV":
            results = Tensor._from_array(out, out_backend, node, 0)
        else:
            results = Tensor._from_array(out, out_backend)
        if op.is_view:  # inline Tensor._become_view_of: views are common
            base = inputs[0] if inputs[0]._base is None else inputs[0]._base
            results._base = base
            results._version_counter = counter = base._version_counter
            results._view_version = counter.value
            if not _grad_enabled():
                results._view_kind = VIEW_NO_GRAD
                if inputs[0]._requires_grad and out.dtype.kind in "fcV":
                    results._requires_grad = True  # as PyTorch: see Tensor._gradient_edge
            elif inputs[0]._base is not None:  # a view of a view keeps how that one was made
                results._view_kind = inputs[0]._view_kind
            else:
                results._view_kind = VIEW_PLAIN
        outputs = (results,)

    # 5. Record the node: edges to the inputs' nodes, their metadata, what forward saved.
    if record:
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
        if ctx._saved is not None:
            _resolve_saved(ctx, inputs, arrays, outputs)

    # 6. Forward mode: the outputs' tangents, from the op's jvp (or the fused hook's tangent).
    if fused_tangent is not None:
        _set_fused_tangent(ctx, results, fused_tangent, record)
    elif dual:
        _forward_mode(ctx, op, inputs, arrays, results, record)
    return results


def _forward_in_float32(ctx: Node, op: type, arrays: list, params: tuple) -> Any:
    """forward with its half-precision operands (bfloat16 or float16) widened to float32
    (exactly) and its floating outputs rounded back once, where every floating operand had that
    one half dtype: PyTorch's CPU kernels compute both so (matmul, convolution, reductions and
    scans accumulate in float32; an elementwise chain such as sigmoid or x @ w.T + b rounds
    once), and NumPy has neither BLAS nor many ufunc loops for ml_dtypes' bfloat16 (and its
    float16 loops round every step). A mixed call (half with float32, or bfloat16 with float16)
    keeps its wider result, as promotion says. `arrays` is updated in place, so what forward
    saves is still matched to its input by identity; saved outputs follow their rounded output,
    and other saved floating arrays are rounded too, so the vjp computes in the half dtype as
    PyTorch's."""
    lower = True
    narrow = None
    for index, array in enumerate(arrays):
        dtype = array.dtype
        if dtype is _BFLOAT16 or dtype is _FLOAT16:
            if narrow is not None and narrow is not dtype:
                lower = False  # bfloat16 with float16 promotes to float32
            narrow = dtype
            arrays[index] = _widened(ctx.xp, array)
        elif dtype.kind in "fc":
            if not (op.wide_scalar_operands and array.ndim == 0 and dtype is _FLOAT32):
                lower = False
    if lower and op.rounds_scalars_to_half:
        params = tuple(_rounded_number(value, narrow) for value in params)
    out = op.forward(ctx, *arrays, *params)
    if not lower:
        return out
    outputs = out if type(out) is tuple else (out,)
    rounded = tuple(_narrowed(value, narrow) for value in outputs)
    saved = ctx._saved
    if saved:
        for name, value in saved.items():
            for wide, narrow_value in zip(outputs, rounded):
                if value is wide:
                    saved[name] = narrow_value
                    break
            else:
                if not any(value is array for array in arrays):
                    saved[name] = _narrowed(value, narrow)
    return rounded if type(out) is tuple else rounded[0]


def forwards_in_float32(op: type, arrays: Sequence[Any]) -> bool:
    """Whether Op.apply runs `op`'s forward on these operands through _forward_in_float32
    (half-precision operands widened, outputs rounded once)."""
    if op.bfloat16_native or op.is_view:
        return False
    return any(array.dtype is _BFLOAT16 or array.dtype is _FLOAT16 for array in arrays)


def run_forward_in_float32(ctx: Any, op: type, arrays: Sequence[Any], params: tuple) -> Any:
    """op.forward as Op.apply runs it on half-precision operands (_forward_in_float32): what
    the compiler's replay calls for a step that forwards_in_float32, so replay rounds as
    eager does."""
    return _forward_in_float32(ctx, op, list(arrays), params)


def _widened(xp: Any, array: Array) -> Array:
    """A half-precision array as float32, laid out as PyTorch lays out a copy (an expanded array's
    copy is dense: NumPy's astype would keep its broadcast dimensions innermost)."""
    if is_plainly_row_major(array):
        return array.astype(_FLOAT32)
    wide = empty_in_layout(xp, array, _FLOAT32)
    wide[...] = array
    return wide


def _rounded_number(value: Any, narrow: Any) -> Any:
    """A Python float or int rounded to the half-precision dtype `narrow`, as a float."""
    if type(value) in (float, int):
        return float(narrow.type(value))
    return value


def _narrowed(value: Any, narrow: Any) -> Any:
    """A floating array (or NumPy scalar) rounded to `narrow` (bfloat16 or float16); anything
    else as it is."""
    dtype = getattr(value, "dtype", None)
    if dtype is not None and dtype.kind == "f" and (is_array(value) or is_numpy_scalar(value)):
        return value.astype(narrow)
    return value


def _distinguish_shared_arrays(inputs: Sequence[Any], arrays: list) -> None:
    """Give each distinct input Tensor an array object of its own (a view where two share one,
    as `x` and `x.detach()` do): what forward saves is matched to its input by the identity of
    the array, and a constant must not be taken for the input it aliases (its tangent and its
    place in the graph would follow it)."""
    for later in range(1, len(arrays)):
        for earlier in range(later):
            if arrays[later] is arrays[earlier] and inputs[later] is not inputs[earlier]:
                arrays[later] = arrays[later].view()
                break


def _wrap_outputs(ctx: Node, arrays: tuple, backend: Any, node: Node | None) -> tuple:
    """Several outputs as Tensors, produced by `node` where recorded and floating (integer and
    bool outputs never require grad). A multi-output node keeps their shapes and dtypes, for
    the zeros of an output no gradient reaches (`Op.materialize_grads`)."""
    outputs = []
    for output_nr, array in enumerate(arrays):
        out_backend = backend
        if type(array) is not backend.array_type:
            array, out_backend = _as_array(ctx, array)
        if node is not None and array.dtype.kind in "fcV":
            outputs.append(Tensor._from_array(array, out_backend, node, output_nr))
        else:
            outputs.append(Tensor._from_array(array, out_backend))
    if type(ctx) is not ForwardContext:  # recorded, or carrying tangents
        ctx.output_meta = tuple((t._array.shape, t.dtype) for t in outputs)
    return tuple(outputs)


def _has_tangent(inputs: Sequence[Any]) -> bool:
    """Whether an input carries a tangent at an active dual level."""
    levels = _dual_level()
    for tensor in inputs:
        extra = tensor._extra
        if extra is not None:
            entry = extra.get("tangent")
            if entry:
                for level in levels:
                    if level in entry:
                        return True
    return False


def _forward_mode(
    ctx: Node, op: type, inputs: Sequence[Any], arrays: list, results: Any, record: bool
) -> None:
    """Give the outputs their tangents at each active level, outermost first: the op's jvp
    applied to the inputs' tangents at that level (None for an input without one), computed
    with that level and the ones inside it closed. The rule's own ops then carry the outer
    levels' tangents only (so it is not traced at its own level), and the tangent it returns
    carries its derivative at the outer levels: forward over forward, exactly. Outer levels
    go first, so a rule reading a saved output sees the output's outer tangents."""
    if op.jvp is None:
        raise NotImplementedError(f"{op_label(op)}: forward-mode AD (jvp) is not implemented")
    outputs = results if type(results) is tuple else (results,)
    if not record:
        ctx.input_meta = tuple((a.shape, from_numpy_dtype(a.dtype)) for a in arrays)
        if ctx._saved is not None:
            _resolve_saved(ctx, inputs, arrays, outputs, outputs_in_graph=False)
    levels = _dual_level()
    nested = len(levels) > 1
    for depth, level in enumerate(levels):
        # None for an input without a tangent: a symbolic zero, which the rules skip (no
        # zeros the size of a weight matrix to allocate and multiply for every op of a jvp).
        tangents = [tangent_at(t, level) if t._extra is not None else None for t in inputs]
        if nested and all(t is None for t in tangents):
            continue
        token = _set_dual_level(levels[:depth] or None)
        try:
            output_tangents = op.jvp(ctx, *tangents)
        finally:
            _reset_dual_level(token)
        if type(results) is not tuple:
            output_tangents = (output_tangents,)
        for output_nr, (output, tangent) in enumerate(zip(outputs, output_tangents)):
            if tangent is not None and output._array.dtype.kind in "fcV":
                if tangent.shape != output.shape:
                    raise ShapeError(
                        f"{op.__name__}.jvp returned a tangent of shape {tuple(tangent.shape)} "
                        f"for an output of shape {tuple(output.shape)}"
                    )
                set_tangent(output, tangent, level)
                if record and ctx._saved is not None:
                    _keep_tangent_of_saved_output(ctx, output_nr, output._extra["tangent"])


def _run_fused_jvp(
    ctx: Node, op: type, inputs: Sequence[Any], arrays: list, params: tuple
) -> tuple:
    """The `fused_jvp` hook's (output, tangent) arrays, or forward's output and None where the
    hook declines. Raw arrays record nothing, so the op is told which inputs require grad under
    grad mode and declines where its tangent would read one of them; a tangent that requires
    grad rules it out, and so do nested dual levels (a raw tangent carries no tangent of its
    own: the plain jvp computes the outer levels' ones)."""
    levels = _dual_level()
    if len(levels) == 1:
        level = levels[0]
        tangents = [tangent_at(t, level) if t._extra is not None else None for t in inputs]
        recording = _grad_enabled()
        if not (recording and any(t is not None and t._requires_grad for t in tangents)):
            tracked = [recording and t._requires_grad for t in inputs]
            tangent_arrays = [None if t is None else t._array for t in tangents]
            fused = op.fused_jvp(ctx, arrays, tangent_arrays, tracked)
            if fused is not None:
                return fused
    return op.forward(ctx, *arrays, *params), None


def _set_fused_tangent(ctx: Node, result: Any, tangent: Any, record: bool) -> None:
    set_tangent(result, Tensor._from_array(tangent, result._backend))
    if record and ctx._saved is not None:
        _keep_tangent_of_saved_output(ctx, 0, result._extra["tangent"])


def _keep_tangent_of_saved_output(ctx: Node, output_nr: int, entry: dict) -> None:
    """A saved output is rebuilt as a new Tensor at vjp time: give it these tangents back."""
    for saved in ctx._saved.values():
        if type(saved) in (SavedValue, HookedValue) and saved.output_nr == output_nr:
            saved.tangent = entry


def _on_one_device(op: type, inputs: Sequence[Any]) -> list:
    """Operands on two devices: PyTorch lets a 0-d CPU tensor join tensors on another device
    (it is taken as a number there, as a Python scalar is), copied over differentiably; any
    other mix is an error naming the op and the devices."""
    devices = [t for t in inputs if not (t._backend is numpy_backend and t._array.ndim == 0)]
    target = devices[0]._backend if devices else inputs[0]._backend
    moved = []
    for tensor in inputs:
        if tensor._backend is not target:
            if tensor._backend is not numpy_backend or tensor._array.ndim != 0:
                names = ", ".join(str(t.device) for t in inputs)
                raise BackendError(
                    f"{op_label(op)}: expected all tensors to be on the same device, but found "
                    f"at least two devices: {names}"
                )
            tensor = apply(ToDevice, (tensor,), target)
        moved.append(tensor)
    return moved


class ToDevice(Op):
    """x copied to another device (`Tensor.to`, and 0-d CPU operands of ops on another device).
    Derivative: the gradient copied back."""

    bfloat16_native = True

    @staticmethod
    def forward(ctx: Node, x: Array, target: Any) -> Array:
        ctx.save(target=target)
        return target.from_numpy(ctx.backend.to_numpy(x))

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(ToDevice, (g,), ctx.backend),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(ToDevice, (t,), ctx.target)


def _as_array(ctx: Node, value: Any) -> tuple[Any, Any]:
    """An output that is not an array of the op's backend, and the backend it is on. NumPy
    returns scalars from 0-d math: make them 0-d arrays, also where forward saved them, so a
    saved output is still recognised as the output. An array of another backend is a copy
    to another device (ToDevice), and stays there."""
    if is_array(value):
        return value, backend_of_array(value)
    array = ctx.xp.asarray(value)
    saved = ctx._saved
    if saved is not None:
        for name, entry in saved.items():
            if entry is value:
                saved[name] = array
    return array, ctx.backend


def _resolve_saved(
    ctx: Node, inputs: Sequence[Any], arrays: list, outputs: tuple, outputs_in_graph: bool = True
) -> None:
    """Turn the arrays forward saved into SavedValues: inputs by Tensor, outputs by array
    (rebuilt with this node as grad_fn when `outputs_in_graph`, else as constants), any other
    array as a constant Tensor. Plain values (a dim, a shape, a flag) become plain attributes
    of the node, read back without going through Node.__getattr__."""
    saved = ctx._saved
    array_type = ctx.backend.array_type
    resolved = {}
    plain = False
    for name, value in saved.items():
        if not isinstance(value, array_type) and not is_numpy_scalar(value):
            plain = True  # a dtype, a slice: plain too (Node.save kept numbers and tuples)
            continue
        for index, array in enumerate(arrays):
            if value is array:
                tensor = inputs[index]
                counter = tensor._version_counter
                if type(counter) is InferenceVersionCounter:
                    raise_inference_saved()
                resolved[name] = SavedValue(tensor, None, counter)
                break
        else:
            for output_nr, output in enumerate(outputs):
                if value is output._array:
                    if outputs_in_graph:
                        resolved[name] = SavedValue(value, output_nr, output._version_counter)
                    else:
                        resolved[name] = SavedValue(output, None, output._version_counter)
                    break
            else:
                constant = Tensor._from_array(ctx.xp.asarray(value), ctx.backend)
                resolved[name] = SavedValue(constant, None, None)
    if plain:
        attributes = ctx.__dict__
        for name, value in saved.items():
            if name not in resolved:
                attributes[name] = value
    ctx._saved = resolved or None


def in_c_order(array: Array) -> Array:
    """`array`, or a C-contiguous copy of it where its layout is another: the layout PyTorch
    gives the results of ops that copy (NumPy's advanced indexing and einsum may return
    transposed ones), which a program's `.view` relies on."""
    return array if array.flags.c_contiguous else array.copy()


def preserved_strides(shape: tuple, strides: tuple) -> tuple[int, ...]:
    """PyTorch's strides (in elements) for a copy of an array of `shape` and `strides` under
    preserve_format: the same strides where the array is dense and non-overlapping (a
    transpose, a permutation), else dense ones in the order of its strides (stride-0 and
    tied dimensions keep their places: at::infer_dense_strides)."""
    if _is_non_overlapping_and_dense(shape, strides):
        kept = list(strides)
        for d in range(len(shape) - 1, -1, -1):  # NumPy's new axes have stride 0: PyTorch's
            if shape[d] == 1 and kept[d] == 0:  # unsqueeze gives the next one's extent
                kept[d] = kept[d + 1] * shape[d + 1] if d + 1 < len(shape) else 1
        return tuple(kept)
    ndim = len(shape)
    perm = list(range(ndim))[::-1]  # innermost first

    def should_swap(d0: int, d1: int) -> int:
        s0, s1 = strides[d0], strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return -1 if s0 < s1 else 1
        return 1 if shape[d0] > shape[d1] else 0

    for i in range(1, ndim):  # a stable insertion sort, as PyTorch's
        d1 = i
        for d0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[d0], perm[d1])
            if comparison > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif comparison < 0:
                break
    result = [0] * ndim
    step = 1
    for d in perm:
        result[d] = step
        if shape[d] > 1:
            step *= shape[d]
    return tuple(result)


def _is_non_overlapping_and_dense(shape: tuple, strides: tuple) -> bool:
    """Whether the elements fill their memory block exactly (size-1 dimensions aside)."""
    ordered = sorted(
        (d for d in range(len(shape)) if shape[d] >= 2), key=lambda d: (abs(strides[d]), d)
    )
    expected = 1
    for d in ordered:
        if strides[d] != expected:
            return False
        expected *= shape[d]
    return True


def is_plainly_row_major(x: Array) -> bool:
    """Whether `x` is row-major with the plain row-major strides, which a copy in NumPy's or
    CuPy's default order has: a size-1 dimension may carry any stride (x.t() of a (3, 1)
    tensor is (1, 1) in PyTorch, and its copies keep that)."""
    if not x.flags.c_contiguous:
        return False
    shape = x.shape
    if 1 not in shape:
        return True
    expected = x.itemsize
    for size, stride in zip(reversed(shape), reversed(x.strides)):
        if stride != expected:
            return False
        expected *= size
    return True


# The dimensions of a 4-D / 5-D (N, C, *spatial) array from the innermost in a channels-last
# layout to the outermost: C, the spatial ones last to first, N.
_CHANNELS_LAST_INNERMOST_FIRST = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}


def suggests_channels_last(x: Array) -> bool:
    """Whether PyTorch's suggest_memory_format() calls `x` channels-last (channels_last_3d for
    5-D): its strides grow from C through the spatial dimensions to N, slices included.
    Ambiguous arrays (N111, or size-1 dimensions whose strides tie with C's) are row-major,
    as PyTorch decides them. Convolutions, max pooling and cat keep this layout."""
    order = _CHANNELS_LAST_INNERMOST_FIRST.get(x.ndim)
    if order is None:
        return False
    shape, strides = x.shape, x.strides
    if strides[1] == 0:
        return False
    smallest = 0
    for d in order:
        if shape[d] == 0 or strides[d] < smallest:
            return False
        if d == 0 and smallest == strides[1]:
            return False
        smallest = strides[d] * shape[d] if shape[d] > 1 else strides[d]
    return True


def in_channels_last(xp: Any, out: Array) -> Array:
    """`out` (N, C, *spatial) copied into a dense channels-last layout (channels innermost),
    the layout PyTorch gives an op's output when its input suggests channels-last."""
    moved = xp.moveaxis(out, 1, -1)
    memory = xp.empty(moved.shape, dtype=out.dtype)  # fresh: PyTorch's strides for size-1 dims
    memory[...] = moved
    return xp.moveaxis(memory, -1, 1)


def keeps_order(x: Array) -> bool:
    """Whether NumPy's and CuPy's "K" order lays out a copy of `x` as PyTorch's
    preserve_format does: with no size-1 dimension and distinct positive strides, both sort
    the dimensions by stride into a dense block (a transpose keeps its strides), so the copy
    needs neither `preserved_strides` nor the slow as_strided. (Ties, as in unfold's
    windows, are broken by size in PyTorch.)"""
    strides = x.strides
    if 1 in x.shape or 0 in x.shape or min(strides, default=1) <= 0:
        return False
    return len(set(strides)) == len(strides)


def empty_in_layout(xp: Any, like: Array, dtype: Any) -> Array:
    """A new array of `like`'s shape and `dtype` laid out as PyTorch's preserve_format lays out
    a copy of `like` (`preserved_strides`); row-major for a row-major `like`."""
    if is_plainly_row_major(like):
        return xp.empty(like.shape, dtype=dtype)
    if keeps_order(like):
        return xp.empty_like(like, dtype=dtype, order="K")
    strides = preserved_strides(like.shape, tuple(s // like.itemsize for s in like.strides))
    itemsize = xp.dtype(dtype).itemsize
    needed = sum((n - 1) * s for n, s in zip(like.shape, strides)) + 1 if like.size else 0
    block = xp.empty(needed, dtype=dtype)
    byte_strides = tuple(s * itemsize for s in strides)
    return xp.lib.stride_tricks.as_strided(block, shape=like.shape, strides=byte_strides)


def unary_elementwise_jvp(ctx: Node, t: Any) -> Any:
    """A diagonal Jacobian is its own transpose: the jvp is the vjp applied to the tangent
    (for real dtypes; complex operands run the op's holomorphic variant, ops/complex.py)."""
    op = ctx.op
    return (op.fast_vjp or op.vjp)(ctx, t)[0]


def elementwise_batch(b: Any, *args: Any) -> Any:
    """vmap rule of elementwise ops: batched operands get size-1 dimensions after the batch
    dimension up to the largest per-example rank, so broadcasting pairs the batch with the
    batch only; then the op itself, its parameters untouched."""
    count = len(b.batched)
    return apply(b.op, tuple(b.align(args[:count])), *args[count:])
