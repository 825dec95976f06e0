"""Gradient checkpointing: keep a segment's inputs instead of its activations, and recompute
the activations during backward (PyTorch's torch.utils.checkpoint).

`checkpoint(function, *args)` records a single graph node for the whole call. Its forward runs
`function` once, reads off which tensors it depends on, and keeps only those: the tensor
arguments and the leaf tensors (parameters) it read from its scope. Its backward re-runs
`function` with recording on, with the random-number state and the autocast state of the
forward, and back-propagates the incoming gradients through that fresh graph. Peak memory
for a deep network split into k segments is about k segment inputs plus one segment's
activations, instead of all activations.

>>> import chainrule
>>> from chainrule.utils.checkpoint import checkpoint
>>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
>>> y = checkpoint(lambda t: (t.tanh() * 3).sum(), x, use_reentrant=False)
>>> y.backward()
>>> x.grad
tensor([1.2599, 0.2120])
"""

from __future__ import annotations

import contextlib
import gc
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import api, grad_mode
from chainrule.autograd.function import Function, FunctionCtx
from chainrule.autograd.node import AccumulateGrad
from chainrule.errors import GradError
from chainrule.ops.autocast import autocast_active, autocast_restored
from chainrule.ops.creation import get_rng_state, set_rng_state
from chainrule.ops.op import named

__all__ = [
    "CheckpointError",
    "checkpoint",
    "checkpoint_sequential",
    "detach_variable",
    "noop_context_fn",
    "set_checkpoint_early_stop",
]

_EXPLICIT_REENTRANT = (
    "torch.utils.checkpoint{}: the use_reentrant parameter should be passed explicitly. "
    "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
    "use_reentrant=False is recommended, but if you need to preserve the current default "
    "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants."
)


class CheckpointError(GradError):
    """PyTorch's error for a checkpointed region that misbehaves between forward and its
    recomputation (a RuntimeError)."""


def noop_context_fn() -> tuple[
    contextlib.AbstractContextManager, contextlib.AbstractContextManager
]:
    """`checkpoint`'s default `context_fn`: no context around the forward or the
    recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Each tensor of the tuple `inputs` detached, keeping its requires_grad (other values as
    they are): the helper older reentrant-checkpoint code calls.

    >>> import chainrule
    >>> from chainrule.utils.checkpoint import detach_variable
    >>> x = chainrule.ones(2, requires_grad=True) * 2
    >>> detached, label = detach_variable((x, "label"))
    >>> detached.grad_fn is None, detached.requires_grad, label
    (True, True, 'label')
    """
    if not isinstance(inputs, tuple):
        raise RuntimeError(
            "Only tuple of tensors is supported. Got Unsupported input type: "
            f"{type(inputs).__name__}"
        )
    detached = []
    for value in inputs:
        if isinstance(value, Tensor):
            copy = value.detach()
            copy.requires_grad = value.requires_grad
            value = copy
        detached.append(value)
    return tuple(detached)


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """PyTorch's switch for stopping a recomputation once the needed tensors exist. The
    recomputation here always runs the whole region, so the switch changes no result; it is
    accepted so that code setting it runs."""
    yield


class _Call:
    """What backward needs to run `function` again: the call, its RNG state, its outputs'
    layout. Kept on the node; holds no activations."""

    __slots__ = (
        "function",
        "args",
        "kwargs",
        "rng_state",
        "autocast_state",
        "n_arg_tensors",
        "outputs",
        "meta",
        "recompute_context",
    )

    def __init__(self, function: Callable, args: tuple, kwargs: dict, rng_state: Any) -> None:
        self.function = function
        self.args = tuple(None if isinstance(a, Tensor) else a for a in args)  # tensors: saved
        self.kwargs = kwargs
        self.rng_state = rng_state
        # backward runs outside the forward's autocast block: recompute under its state
        self.autocast_state = autocast_active()
        self.n_arg_tensors = sum(isinstance(a, Tensor) for a in args)
        self.outputs: Any = None
        self.meta: list = []
        self.recompute_context: Any = contextlib.nullcontext()


def _leaf_alias(value: Any) -> Any:
    """A tensor argument cut from the graph (requiring grad as it does), for the first run."""
    if not isinstance(value, Tensor):
        return value
    return value.detach().requires_grad_(value.requires_grad)


def _flat(outputs: Any) -> tuple:
    return tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)


def _meta(outputs: tuple) -> list:
    return [(tuple(o.shape), o.dtype) if isinstance(o, Tensor) else None for o in outputs]


def _walk(outputs: tuple, own: set[int]) -> tuple[list[Tensor], list[weakref.ref]]:
    """The leaf tensors the graph of `outputs` reads besides `own` (the arguments' aliases), and
    weak references to its interior nodes. Iterative: segments may be deep."""
    stack = [o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    seen: set[int] = set()
    leaves: list[Tensor] = []
    interior: list[weakref.ref] = []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad:
            variable = node.variable
            if variable is not None and id(variable) not in own:
                leaves.append(variable)
            continue
        interior.append(weakref.ref(node))
        stack.extend(edge[0] for edge in node.next_edges if edge is not None)
    return leaves, interior


def _first_run(function: Callable, args: tuple, kwargs: dict) -> tuple[Any, list, list, str]:
    """Run `function` recording, on aliases of its arguments; return its outputs cut from that
    graph (which is dropped with this frame), the leaves it read, its interior nodes, and the
    name of a lone tensor output's node (else '')."""
    aliases = [_leaf_alias(a) for a in args]
    with grad_mode.enable_grad():
        outputs = function(*aliases, **kwargs)
    own = {id(a) for a in aliases if isinstance(a, Tensor)}
    leaves, interior = _walk(_flat(outputs), own)
    name = ""
    if isinstance(outputs, Tensor) and outputs.grad_fn is not None:
        name = outputs.grad_fn.name()
    detached = [o.detach() if isinstance(o, Tensor) else o for o in _flat(outputs)]
    if isinstance(outputs, (tuple, list)):
        return type(outputs)(detached), leaves, interior, name
    return detached[0], leaves, interior, name


def _check_released(interior: list[weakref.ref]) -> None:
    """Every interior node of the first run must be gone once its outputs are cut: a survivor
    belongs to a tensor computed outside `function` (which this node cannot differentiate
    through) or to an intermediate `function` kept somewhere."""
    if not any(ref() is not None for ref in interior):
        return
    gc.collect()  # a reference cycle may be all that keeps it
    alive = [ref() for ref in interior if ref() is not None]
    if alive:
        names = ", ".join(sorted({node.name() for node in alive})[:5])
        raise GradError(
            "checkpoint: `function` reads a tensor that requires grad, is not one of its "
            f"arguments and is not a leaf (graph nodes {names} outlive the call). Pass such "
            "tensors as arguments of checkpoint (or do not keep intermediate results)."
        )


@contextlib.contextmanager
def _random_state(state: Any) -> Iterator[None]:
    """Run with the default generator at `state`, restoring the current state after."""
    if state is None:
        yield
        return
    current = get_rng_state()
    set_rng_state(state)
    try:
        yield
    finally:
        set_rng_state(current)


class CheckpointFunction(Function):
    """The node of one checkpointed call. Inputs: the call's tensor arguments, then the
    leaves it read. Backward recomputes and differentiates the call (see the module doc)."""

    @staticmethod
    def forward(ctx: FunctionCtx, call: _Call, *tensors: Tensor) -> Any:
        ctx.call = call
        ctx.save_for_backward(*tensors)
        ctx.set_materialize_grads(False)
        outputs, call.outputs = call.outputs, None  # handed over once; the node keeps no copy
        return tuple(outputs) if isinstance(outputs, list) else outputs

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> tuple:
        call = ctx.call
        tensors = ctx.saved_tensors
        arguments, leaves = tensors[: call.n_arg_tensors], tensors[call.n_arg_tensors :]
        create_graph = grad_mode.is_grad_enabled()
        with grad_mode.enable_grad():
            # Aliases joined to the real inputs, so a create_graph result depends on them.
            aliases = [t.view_as(t) if t.requires_grad else t.detach() for t in arguments]
            positions = iter(aliases)
            args = [next(positions) if a is None else a for a in call.args]
            with (
                _random_state(call.rng_state),
                autocast_restored(call.autocast_state),
                call.recompute_context,
            ):
                outputs = _flat(call.function(*args, **call.kwargs))
        if call.meta is not None and _meta(outputs) != call.meta:
            raise CheckpointError(
                "checkpoint: recomputing `function` in backward gave outputs of other shapes or "
                "dtypes than the forward did; it must be deterministic given its inputs"
            )
        pairs = [
            (output, grad)
            for output, grad in zip(outputs, grads)
            if grad is not None and isinstance(output, Tensor) and output.requires_grad
        ]
        wanted = [a for a in aliases if a.requires_grad] + list(leaves)
        cut = [a.grad_fn for a in aliases if a.requires_grad]
        found = _differentiate(pairs, wanted, cut, create_graph)
        results = iter(found)
        argument_grads = [next(results) if a.requires_grad else None for a in aliases]
        return (None, *argument_grads, *results)


def _differentiate(pairs: list, wanted: list, alias_nodes: list, create_graph: bool) -> tuple:
    """Gradients of the recomputed outputs for `wanted`. The alias nodes are cut from the outer
    graph meanwhile, so the walk stays inside the segment and never runs the outer nodes."""
    if not pairs or not wanted:
        return (None,) * len(wanted)
    edges = [node.next_edges for node in alias_nodes]
    for node in alias_nodes:
        node.next_edges = (None,) * len(node.next_edges)
    try:
        return api.grad(
            [output for output, _ in pairs],
            wanted,
            [grad for _, grad in pairs],
            create_graph=create_graph,
            allow_unused=True,
        )
    finally:
        for node, saved in zip(alias_nodes, edges):
            node.next_edges = saved


def checkpoint(
    function: Callable,
    *args: Any,
    use_reentrant: bool | None = None,
    context_fn: Callable[[], tuple[Any, Any]] = noop_context_fn,
    determinism_check: str = "default",
    debug: bool = False,
    preserve_rng_state: bool = True,
    **kwargs: Any,
) -> Any:
    """Call `function(*args, **kwargs)` without keeping its activations for backward: they are
    recomputed when the gradient is needed.

    `function` returns a Tensor or a tuple/list of them (other values pass through). Tensors
    that require grad must reach it as positional arguments, or be leaves such as module
    parameters. With `preserve_rng_state` (the default) the recomputation sees the same random
    numbers, so dropout drops the same elements. Works with backward(), autograd.grad and
    chainrule.func transforms, and with create_graph=True (higher derivatives). Side effects
    of `function` (BatchNorm's running statistics) happen again when it is recomputed, as in
    PyTorch.

    `use_reentrant` keeps PyTorch's contract: left out, it warns and means True. The reentrant
    variant takes no keyword arguments for `function`, no `context_fn`, and when no tensor
    argument requires grad it warns and records nothing, so parameters read inside get no
    gradient (PyTorch's pitfall with frozen inputs). With False, `context_fn()` gives the
    contexts entered around the forward and around the recomputation.

    >>> import chainrule
    >>> from chainrule.utils.checkpoint import checkpoint
    >>> layer = chainrule.nn.Linear(3, 3)
    >>> x = chainrule.ones(2, 3, requires_grad=True)
    >>> checkpoint(layer, x, use_reentrant=False).sum().backward()
    >>> layer.weight.grad.shape
    chainrule.Size([3, 3])
    """
    if use_reentrant is None:
        warnings.warn(_EXPLICIT_REENTRANT.format(""), stacklevel=2)
        use_reentrant = True
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant and (context_fn is not noop_context_fn or debug is not False):
        raise ValueError(
            "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
        )
    if determinism_check not in ("default", "none"):
        raise ValueError(
            "checkpoint: determinism_check should be 'default' or 'none', got "
            f"{determinism_check!r}"
        )
    tensors = [a for a in args if isinstance(a, Tensor)]
    if use_reentrant and not any(t.requires_grad for t in tensors):
        warnings.warn(
            "None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2
        )
        with grad_mode.no_grad():
            return function(*args)
    if not grad_mode.is_grad_enabled():
        return function(*args, **kwargs)
    forward_context, recompute_context = context_fn()
    rng_state = get_rng_state() if preserve_rng_state else None
    with forward_context:
        outputs, leaves, interior, name = _first_run(function, args, kwargs)
    _check_released(interior)
    if not leaves and not any(t.requires_grad for t in tensors):
        return outputs
    call = _Call(function, args, kwargs, rng_state)
    call.recompute_context = recompute_context
    call.outputs = outputs
    call.meta = _meta(_flat(outputs)) if determinism_check == "default" else None
    result = CheckpointFunction.apply(call, *tensors, *leaves)
    if name and not use_reentrant:
        # PyTorch's non-reentrant checkpoint keeps the region's own graph (it only drops its
        # saved tensors), so a lone output prints the node of the region's last op
        named(result, name)
    return list(result) if isinstance(outputs, list) else result


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Any,  # noqa: A002 - PyTorch's name
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Run a sequence of functions (or an nn.Sequential) on `input` in `segments` chunks,
    checkpointing every chunk but the last, as PyTorch's checkpoint_sequential: about
    `segments` inputs and one chunk's activations are held instead of every activation.

    >>> import chainrule
    >>> from chainrule import nn
    >>> from chainrule.utils.checkpoint import checkpoint_sequential
    >>> model = nn.Sequential(*[nn.Linear(4, 4) for _ in range(6)])
    >>> x = chainrule.ones(2, 4, requires_grad=True)
    >>> out = checkpoint_sequential(model, 3, x, use_reentrant=False)
    >>> out.shape
    chainrule.Size([2, 4])
    """
    if use_reentrant is None:
        warnings.warn(_EXPLICIT_REENTRANT.format(".checkpoint_sequential"), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise TypeError(f"checkpoint_sequential: unexpected keyword arguments {sorted(kwargs)}")
    layers: Sequence[Callable] = (
        list(functions.children()) if hasattr(functions, "children") else list(functions)
    )
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be at least 1, got {segments}")

    def run(start: int, end: int) -> Callable:
        def forward(x: Any) -> Any:
            for index in range(start, end + 1):
                x = layers[index](x)
            return x

        return forward

    segment_size = len(layers) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(  # noqa: A001
            run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve
        )
    return run(end + 1, len(layers) - 1)(input)
