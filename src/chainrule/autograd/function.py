"""autograd.Function: ops whose derivative the user writes by hand.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad_out):
            (out,) = ctx.saved_tensors
            return grad_out * out

forward runs with recording off on Tensors; backward receives and returns Tensors, and runs
with recording on under `create_graph=True`, so a backward written in chainrule ops is itself
differentiable.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from chainrule._tensor import Tensor, raise_inference_saved
from chainrule.autograd import grad_mode
from chainrule.autograd import observers as _observers
from chainrule.autograd.forward_ad import _current_level, set_tangent, tangent_at
from chainrule.autograd.node import InferenceVersionCounter, Node, SavedEntry
from chainrule.autograd.saved import SavedValue
from chainrule.backend import numpy_backend
from chainrule.backend.dtypes import from_numpy_dtype
from chainrule.errors import GradError, ShapeError
from chainrule.ops.op import Op, apply

if TYPE_CHECKING:  # annotations only
    from chainrule.backend import Backend


class FunctionCtx(Node):
    """The `ctx` of a custom Function, and the graph node of one of its calls. `forward` (or
    `setup_context`) stores on it what `backward` needs: tensors through
    `save_for_backward`, anything else as attributes (`ctx.dim = dim`). Made by
    `Function.apply`, never by the user.

    Args:
        function (type): the Function subclass whose call this node records.
        backend (Backend): the array backend of the call's inputs.

    Example:
        >>> import chainrule
        >>> class Square(chainrule.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * grad
        >>> x = chainrule.tensor(3.0, requires_grad=True)
        >>> Square.apply(x).backward()
        >>> x.grad
        tensor(6.)
    """

    __slots__ = (
        "_to_save",
        "_needs_input_grad",
        "_non_differentiable",
        "_dirty",
        "materialize_grads",
        "_tensor_positions",
        "_n_args",
        "_for_forward",
        "_in_jvp",
    )

    def __init__(self, function: type, backend: Backend) -> None:
        super().__init__(function, backend)
        self._to_save = None
        self._needs_input_grad = ()
        self._non_differentiable = ()
        self._dirty = ()
        self.materialize_grads = True
        self._tensor_positions = ()
        self._n_args = 0
        self._for_forward = None
        self._in_jvp = False

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep these tensors (inputs or outputs of forward, or None) for backward, where
        `ctx.saved_tensors` returns them; modifying one in place before backward is an error
        there. Call it once, from forward or setup_context."""
        self._to_save = tensors

    def save_for_forward(self, *tensors: Tensor | None) -> None:
        """Keep these tensors for `jvp` (forward-mode AD), where `ctx.saved_tensors` returns
        them. Call it once, from forward or setup_context."""
        self._for_forward = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to `save_for_backward`, in order (read them in backward), or in
        `jvp`, those given to `save_for_forward`; an error after the graph was freed by a
        backward without `retain_graph=True`."""
        if self._in_jvp:
            return tuple(self._for_forward or ())
        if self._freed:
            raise GradError(
                f"{self.name()}: trying to backward through the graph a second time (or to "
                "read saved tensors after they were freed); pass retain_graph=True"
            )
        saved = self._saved
        if saved is None:
            return ()
        return tuple(
            entry.unpack(self, f"saved_tensors[{i}]") if isinstance(entry, SavedEntry) else entry
            for i, entry in enumerate(saved)
        )

    @property
    def needs_input_grad(self) -> tuple:
        """One bool per argument of forward: whether backward must compute its gradient (it
        may return None for the others)."""
        return self._needs_input_grad

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Declare outputs that have no gradient (indices, masks): backward gets zeros for them."""
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Declare inputs that forward modified in place (and returns), so their version
        counters and history are updated."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None instead of zeros for outputs that got no gradient."""
        self.materialize_grads = value


class Function:
    """Base class for ops with a hand-written backward; call them with `.apply(*args)`.

    Subclasses define the static methods `forward` (on Tensors, recording off) and `backward`
    (the gradient of each input of forward from the gradient of each output, in chainrule
    ops so it is itself differentiable). Forward may instead take only the inputs and leave
    filling `ctx` to `setup_context`.

    Example:
        >>> import chainrule
        >>> class Exp(chainrule.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         out = x.exp()
        ...         ctx.save_for_backward(out)
        ...         return out
        ...     @staticmethod
        ...     def backward(ctx, grad_out):
        ...         (out,) = ctx.saved_tensors
        ...         return grad_out * out
        >>> x = chainrule.tensor([0.0, 1.0], requires_grad=True)
        >>> Exp.apply(x).sum().backward()
        >>> x.grad
        tensor([1.0000, 2.7183])
    """

    # Whether save_for_backward may keep objects other than Tensors (chainrule's own rule
    # node saves its call, to free it with the graph); a user's Function may not, as PyTorch's
    _saves_objects = False

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        """The computation, on Tensors (operations inside are not recorded). Either take `ctx` first
        and save what backward needs with `ctx.save_for_backward`, or take only the inputs and
        define `setup_context`.
        """
        raise NotImplementedError("a Function subclass must define forward")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        """Optional: fill `ctx` from the inputs and output when `forward` takes no ctx."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """The vector-Jacobian product: given the gradient of each output, return the gradient of
        each input of forward (None for inputs that need none). Written in chainrule ops, it is
        itself differentiable.
        """
        raise NotImplementedError("a Function subclass must define backward to be differentiated")

    fast_vjp = None  # the engine's optional fast-path hook (ops/op.py): a Function has none
    rule_name = "backward"  # how the engine names this rule when it blames it

    @classmethod
    def node_name(cls) -> str:
        return f"{cls.__name__}Backward"

    def __call__(self, *args: object, **kwargs: object) -> NoReturn:
        """Calling an instance is PyTorch's legacy style, which it refuses: call `apply`."""
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward on `args` and, when grad mode is on and a tensor argument requires grad,
        record one node. Keyword arguments are bound to forward's positions first, as PyTorch
        does (so backward returns a gradient for each); with setup_context, defaults are too."""
        active = _observers.observers.get()
        if active is not None:  # anomaly mode, saved-tensor hooks, the profiler, vmap
            for index in range(len(active) - 1, -1, -1):  # innermost first, as ops
                intercept = active[index].intercept_function
                if intercept is not None:
                    result = intercept(cls, args, kwargs)
                    if result is not NotImplemented:
                        return result
            tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
            run = functools.partial(cls._apply, args, kwargs)
            return _observers.observed_function(active, cls, tensors, run)
        return cls._apply(args, kwargs)

    @classmethod
    def _apply(cls, args: tuple, kwargs: dict) -> Any:
        uses_setup_context = cls.setup_context is not Function.setup_context
        if kwargs or uses_setup_context:
            args, kwargs = _bind_arguments(cls.forward, args, kwargs, uses_setup_context)
        tensor_positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        tensors = [args[i] for i in tensor_positions]
        backend = tensors[0]._backend if tensors else numpy_backend
        ctx = FunctionCtx(cls, backend)
        ctx._n_args = len(args)
        ctx._tensor_positions = tensor_positions
        ctx._needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        # Forward mode with a jvp of the user's: forward sees no tangents, jvp gives them.
        levels = _current_level.get() if getattr(cls, "jvp", None) is not None else None
        dual_token = _current_level.set(None) if levels is not None else None
        try:
            with grad_mode.no_grad():
                if uses_setup_context:
                    output = cls.forward(*args, **kwargs)
                    cls.setup_context(ctx, args, output)
                else:
                    output = cls.forward(ctx, *args, **kwargs)
        finally:
            if dual_token is not None:
                _current_level.reset(dual_token)
        is_tuple = isinstance(output, tuple)
        outputs = list(output) if is_tuple else [output]
        record = grad_mode.is_grad_enabled() and any(t.requires_grad for t in tensors)
        if record and not cls._saves_objects:
            _check_saved(ctx)
        if record:
            _refuse_dirty_leaves(ctx._dirty)
        if any(not any(d is o for o in outputs) for d in ctx._dirty):
            raise GradError(
                "Some elements marked as dirty during the forward method were not returned as "
                "output. The inputs that are modified inplace must all be outputs of the Function."
            )
        outputs = [_fresh_output(o, tensors, ctx._dirty) for o in outputs]
        if record:
            _record(ctx, tensors, outputs)
        if levels is not None:
            _forward_mode(cls, ctx, args, outputs, levels)
        # What forward handed to ctx may include the outputs: drop it, or every output would
        # keep its own node alive through a reference cycle.
        ctx._to_save = None
        ctx._for_forward = None
        ctx._non_differentiable = ()
        ctx._dirty = ()
        return tuple(outputs) if is_tuple else outputs[0]

    @classmethod
    def vjp(cls, ctx: FunctionCtx, *grads: Tensor | None) -> tuple:
        result = cls.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) < ctx._n_args or any(r is not None for r in result[ctx._n_args :]):
            raise GradError(
                f"function {cls.node_name()} returned an incorrect number of gradients "
                f"(expected {ctx._n_args}, got {len(result)})"
            )
        if len(ctx._tensor_positions) != ctx._n_args:
            _check_non_tensor_gradients(cls, ctx, result)
        grads = tuple(result[i] for i in ctx._tensor_positions)
        return tuple(_sum_to_input(g, meta) for g, meta in zip(grads, ctx.input_meta))

    @staticmethod
    def materialize_grads(ctx: FunctionCtx, grads: list) -> list:
        """Zeros for the tensor outputs no gradient reached (None stays for non-tensor ones),
        unless forward called `ctx.set_materialize_grads(False)`."""
        if not ctx.materialize_grads:
            return grads
        filled = []
        for grad, (shape, dtype) in zip(grads, ctx.output_meta):
            if grad is None and dtype is not None:
                grad = Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy))
            filled.append(grad)
        return filled


def _forward_mode(cls: type, ctx: FunctionCtx, args: tuple, outputs: list, levels: tuple) -> None:
    """The outputs' tangents from the Function's `jvp` (one tangent per argument of forward,
    None where it has none; one per output back), at each active level, outermost first and
    with the inner levels closed, as ops/op.py runs an op's jvp."""
    for depth, level in enumerate(levels):
        tangents = [tangent_at(a, level) if isinstance(a, Tensor) else None for a in args]
        if all(t is None for t in tangents):
            continue
        token = _current_level.set(levels[:depth] or None)
        ctx._in_jvp = True
        try:  # recording as around the call: a tangent that requires grad stays in the graph
            result = cls.jvp(ctx, *tangents)
        finally:
            ctx._in_jvp = False
            _current_level.reset(token)
        results = result if isinstance(result, tuple) else (result,)
        if len(results) != len(outputs):
            raise GradError(
                f"{cls.__name__}.jvp returned {len(results)} tangents for {len(outputs)} outputs"
            )
        for output, tangent in zip(outputs, results):
            if tangent is None or not isinstance(output, Tensor):
                continue
            if tuple(tangent.shape) != tuple(output.shape):
                raise ShapeError(
                    f"{cls.__name__}.jvp returned a tangent of shape {tuple(tangent.shape)} for "
                    f"an output of shape {tuple(output.shape)}"
                )
            set_tangent(output, tangent, level)


# PyTorch's class of a Function's graph node (`type(y.grad_fn).__mro__`): the ctx is the node.
BackwardCFunction = FunctionCtx


class InplaceFunction(Function):
    """PyTorch's legacy base for a Function with an `inplace` flag, given at construction
    (`self.inplace`); like any Function, called through `apply`."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


def _sum_to_input(grad: Any, meta: tuple) -> Any:
    """A gradient of a broadcast shape summed down to its input's shape, as PyTorch reduces a
    backward's result that the input expands to (other mismatches the engine reports)."""
    shape = tuple(meta[0])
    if not isinstance(grad, Tensor) or tuple(grad.shape) == shape or len(shape) > grad.ndim:
        return grad
    lead = grad.ndim - len(shape)
    if all(s in (1, g) for s, g in zip(shape, tuple(grad.shape)[lead:])):
        return grad.sum_to_size(shape)
    return grad


def _check_non_tensor_gradients(cls: type, ctx: FunctionCtx, result: tuple) -> None:
    for position in range(ctx._n_args):
        if result[position] is not None and position not in ctx._tensor_positions:
            raise GradError(
                f"function {cls.node_name()} returned a gradient different than None at position "
                f"{position + 1}, but the corresponding forward input was not a Tensor"
            )


def _bind_arguments(forward: Callable, args: tuple, kwargs: dict, with_defaults: bool) -> tuple:
    """forward's arguments as (positional, keyword), keywords moved to their positions."""
    signature = inspect.signature(forward)
    if with_defaults:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return bound.args, bound.kwargs
    bound = signature.bind(None, *args, **kwargs)  # None stands for ctx
    return bound.args[1:], bound.kwargs


def _refuse_dirty_leaves(dirty: tuple) -> None:
    """PyTorch's refusal of a forward that wrote in place (mark_dirty) into a leaf that
    requires grad, or a view of one: its gradient would be of values no longer there."""
    for tensor in dirty:
        if not tensor.requires_grad:
            continue
        if tensor.is_leaf:
            raise GradError(
                "a leaf Variable that requires grad has been used in an in-place operation."
            )
        base = tensor._base
        if base is not None and base.is_leaf and base.requires_grad:
            raise GradError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )


def _fresh_output(output: Any, inputs: list, dirty: tuple) -> Any:
    """An input returned unchanged becomes a new alias, so its own history is untouched."""
    if isinstance(output, Tensor) and any(output is t for t in inputs):
        if any(output is d for d in dirty):
            output._version_counter.value += 1
            return output
        alias = Tensor._from_array(output._array, output._backend)
        alias._version_counter = output._version_counter
        return alias
    return output


def _check_saved(ctx: FunctionCtx) -> None:
    """PyTorch's refusal, once a Function records, of anything but Tensors and None given to
    save_for_backward (other values belong on ctx as attributes)."""
    for position, value in enumerate(ctx._to_save or ()):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(
                "save_for_backward can only save variables, but argument "
                f"{position} is of type {type(value).__name__}"
            )


def _record(ctx: FunctionCtx, tensors: list, outputs: list) -> None:
    ctx.next_edges = tuple(t._gradient_edge() if t.requires_grad else None for t in tensors)
    # dtypes read from the arrays: a Tensor subclass may give `dtype` another meaning
    # (chainrule.numpy.ndarray's is NumPy's), the engine wants chainrule's.
    ctx.input_meta = tuple((t.shape, from_numpy_dtype(t._array.dtype)) for t in tensors)
    ctx.output_meta = tuple(
        (o.shape, from_numpy_dtype(o._array.dtype)) if isinstance(o, Tensor) else ((), None)
        for o in outputs
    )
    non_differentiable = ctx._non_differentiable
    for output_nr, output in enumerate(outputs):
        if not isinstance(output, Tensor):
            continue
        if not (output.is_floating_point() or output.is_complex()):  # as PyTorch: complex too
            continue
        if any(output is n for n in non_differentiable):
            continue
        old_node, old_output_nr = output._node, output._output_nr
        output._node = ctx
        output._output_nr = output_nr
        output._requires_grad = True
        output._edge = None
        if any(output is d for d in ctx._dirty):  # its retain_grad() follows it, as an op's
            output._keep_retained_grad(old_node, old_output_nr)
    to_save = ctx._to_save
    if to_save is None:
        return
    saved = []
    for value in to_save:
        entry = value
        if isinstance(value, Tensor):
            if type(value._version_counter) is InferenceVersionCounter:
                raise_inference_saved()
            if any(value is t for t in tensors):
                entry = SavedValue(value, None, value._version_counter)
            elif value._node is ctx:
                entry = SavedValue(value._array, value._output_nr, value._version_counter)
            else:
                entry = SavedValue(value, None, value._version_counter)
        saved.append(entry)
    ctx._saved = saved


def once_differentiable(backward: Callable) -> Callable:
    """Decorate a backward that is not itself differentiable (it uses raw arrays, say): it
    runs with recording off, and a second differentiation through it raises GradError instead
    of silently giving zero.

    Args:
        backward (Callable): the Function's `backward(ctx, *grad_outputs)`.

    Returns:
        Callable: the wrapped backward.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd import Function, once_differentiable
        >>> class Cube(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x ** 3
        ...     @staticmethod
        ...     @once_differentiable
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return 3 * x ** 2 * grad
        >>> x = chainrule.tensor(2.0, requires_grad=True)
        >>> chainrule.autograd.grad(Cube.apply(x), x)
        (tensor(12.),)
    """

    @functools.wraps(backward)
    def wrapper(ctx: FunctionCtx, *grads: Any) -> Any:
        with grad_mode.no_grad():
            result = backward(ctx, *grads)
        grads_in_graph = tuple(g for g in grads if g is not None and g.requires_grad)
        if not grad_mode.is_grad_enabled() or not grads_in_graph:
            return result
        single = not isinstance(result, tuple)
        results = (result,) if single else result
        guarded = tuple(
            apply(_DelayedError, (r, *grads_in_graph), ctx.name()) if r is not None else None
            for r in results
        )
        return guarded[0] if single else guarded

    return wrapper


class _DelayedError(Op):
    """Identity on its first input whose vjp raises: marks a once_differentiable result."""

    @staticmethod
    def forward(ctx: Node, x: Any, *grads_and_name: Any) -> Any:
        ctx.function_name = grads_and_name[-1]
        return x.copy()

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        raise GradError(
            f"trying to differentiate twice a function that was marked with "
            f"@once_differentiable ({ctx.function_name})"
        )
