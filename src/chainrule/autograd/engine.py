"""The backward engine: reverse topological walk of the recorded graph, without recursion.

1. Sort the nodes reachable from the roots (iterative depth-first search, reverse postorder),
   so every node comes after all the nodes that consume its outputs.
2. Seed the roots' cotangents, then visit nodes in that order: run tensor hooks, call the op's
   vjp under `set_grad_enabled(create_graph)`, check each result against the input it belongs
   to (blaming the op), and add it into the parent's pending cotangent.
3. Leaves receive their gradient through their AccumulateGrad node; saved values are freed as
   each node finishes unless `retain_graph`.

Tensors are handled through their own methods (`+`, `.shape`, `_gradient_edge`), so this file
knows nothing of Tensor or ops.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from chainrule.autograd.grad_mode import set_grad_enabled
from chainrule.autograd.node import POST_HOOK, AccumulateGrad, Node
from chainrule.autograd.observers import observed_backward, observers
from chainrule.backend.float_errors import quiet_float_errors
from chainrule.errors import GradError

Edge = tuple  # (Node, output_nr)
Result = TypeVar("Result")

# The backward now running (`GraphTask`), for hooks that ask which one calls them; None outside.
_graph_task: ContextVar[GraphTask | None] = ContextVar("chainrule_graph_task", default=None)
_task_ids = itertools.count()


class GraphTask:
    """One backward or grad call, as its hooks see it: an id unique to the call, and which
    nodes it will run (PyTorch's `_current_graph_task_id` and `_will_engine_execute_node`,
    which `graph.register_multi_grad_hook` counts with)."""

    __slots__ = ("id", "_order", "_needed", "_ids", "__weakref__")

    def __init__(self, order: list[Node], needed: set[int] | None) -> None:
        self.id = next(_task_ids)
        self._order = order
        self._needed = needed
        self._ids: set[int] | None = None

    def will_execute(self, node: Node) -> bool:
        """Whether `node` lies on this call's graph: reachable from its roots and, for
        autograd.grad or backward(inputs=...), leading to an input."""
        if self._needed is not None:
            return id(node) in self._needed
        if self._ids is None:
            self._ids = {id(each) for each in self._order}
        return id(node) in self._ids


def current_graph_task() -> GraphTask | None:
    """The backward now running in this context (thread), or None outside one."""
    return _graph_task.get()


# The callbacks queued (`queue_callback`) during the backward now running, run once it has
# finished; None outside a backward. A ContextVar: a backward inside a hook has its own list.
_final_callbacks: ContextVar[list | None] = ContextVar("chainrule_final_callbacks", default=None)


def queue_callback(callback: Callable[[], None]) -> None:
    """Run `callback()` once the backward now running has finished and accumulated every
    gradient, as PyTorch's `Variable._execution_engine.queue_callback` (DistributedDataParallel
    waits for its gradient all-reduces so). Callable only during a backward, from a hook."""
    callbacks = _final_callbacks.get()
    if callbacks is None:
        raise GradError("Final callbacks can only be installed during backward pass.")
    callbacks.append(callback)


def with_final_callbacks(run: Callable[[], Result]) -> Result:
    """`run()` (one backward or grad call), then the callbacks it queued, in order; a callback
    may queue more. If `run` raises, the queued callbacks are dropped."""
    token = _final_callbacks.set([])
    try:
        result = run()
        callbacks = _final_callbacks.get()
        index = 0
        while index < len(callbacks):
            callbacks[index]()
            index += 1
    finally:
        _final_callbacks.reset(token)
    return result


def topological_order(roots: Sequence[Node]) -> list[Node]:
    """Nodes reachable from `roots`, each before every node it depends on (its inputs).

    Depth-first with an explicit stack of (node, iterator over its edges); a node is emitted
    when its last edge is done, and the reversed emission order is topological.
    """
    order: list[Node] = []
    visited: set[Node] = set()  # nodes hash by identity
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.next_edges))]
        while stack:
            node, edges = stack[-1]
            for edge in edges:
                if edge is not None:
                    child = edge[0]
                    if child not in visited:
                        visited.add(child)
                        stack.append((child, iter(child.next_edges)))
                        break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _nodes_needed(order: list[Node], targets: set[int]) -> set[int]:
    """The ids of nodes through which some target is reachable (including the targets)."""
    needed: set[int] = set()
    for node in reversed(order):
        if id(node) in targets or any(
            edge is not None and id(edge[0]) in needed for edge in node.next_edges
        ):
            needed.add(id(node))
    return needed


def _run_pre_hooks(node: Node, grads: list) -> list:
    for output_nr, hook in tuple(node.pre_hooks):  # a copy: a hook may remove itself
        if output_nr is POST_HOOK:
            continue
        if output_nr is None:
            result = hook(tuple(grads))
            if result is not None:
                grads = list(result)
        else:  # called with None too, as PyTorch, for an output no gradient reached
            result = hook(grads[output_nr])
            if result is not None:
                grads[output_nr] = _checked_hook_result(hook, grads[output_nr], result)
    return grads


def _run_post_hooks(node: Node, input_grads: tuple, grads: list) -> tuple:
    """The node's `register_hook` hooks, after its vjp: each sees (grad_inputs, grad_outputs)
    and may return new grad_inputs, as PyTorch's."""
    for key, hook in tuple(node.pre_hooks):
        if key is not POST_HOOK:
            continue
        result = hook(input_grads, tuple(grads))
        if result is None:
            continue
        if not isinstance(result, tuple):
            raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
        if len(result) != len(input_grads):
            name = getattr(hook, "__name__", type(hook).__name__)
            raise GradError(
                f"hook '{name}' has returned an incorrect number of values (got {len(result)}, "
                f"but expected {len(input_grads)})"
            )
        input_grads = result
    return input_grads


def _checked_hook_result(hook: Callable, grad: Any, result: Any) -> Any:
    """A tensor hook's replacement gradient, refused as PyTorch refuses it when it is not a
    tensor or changes the gradient's shape or dtype (the op downstream expects both)."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if grad is None:
        raise GradError("can't replace a None gradient with a non-None value")
    if not hasattr(result, "_array"):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    if result.dtype != grad.dtype:
        raise GradError(
            f"hook '{name}' has changed the type of value (was {grad.dtype} got {result.dtype})"
        )
    if result.shape != grad.shape:
        raise GradError(
            f"hook '{name}' has changed the size of value (was {tuple(grad.shape)} got "
            f"{tuple(result.shape)})"
        )
    return result


def _rule_label(node: Node) -> str:
    """The rule the engine ran for `node`, as errors name it: `Tanh.fast_vjp`, `Sum.vjp`."""
    op = node.op
    rule = "fast_vjp" if op.fast_vjp is not None else getattr(op, "rule_name", "vjp")
    return f"{op.__name__}.{rule}"


def _check_input_grad(node: Node, index: int, grad: Any) -> Any:
    """Blame the op for a wrongly shaped gradient; cast a mismatched dtype like PyTorch."""
    shape, dtype = node.input_meta[index]
    try:
        array = grad._array
    except AttributeError:
        if getattr(grad, "is_sparse", False) and tuple(grad.shape) == tuple(shape):
            return grad if grad.dtype == dtype else grad.to(dtype)  # embedding(sparse=True)'s
        raise GradError(
            f"{_rule_label(node)} returned a {type(grad).__name__} for input {index}; expected "
            "a Tensor or None"
        ) from None
    if array.shape != shape:
        raise GradError(
            f"{_rule_label(node)} returned shape {tuple(array.shape)} for input {index} of "
            f"shape {tuple(shape)}"
        )
    if array.dtype != dtype.numpy:
        if array.dtype.kind == "c" and not dtype.is_complex:
            grad = grad.real  # a real input's gradient: the real part, without the cast's warning
        grad = grad.to(dtype)
    return grad


def run_backward(
    roots: Sequence[Edge],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Edge] | None = None,
) -> list | None:
    """Back-propagate `root_grads` from the `roots` edges.

    Without `capture`, gradients accumulate into the leaves' `.grad`. With it (autograd.grad),
    only the nodes leading to the captured edges run, nothing is accumulated, and the gradient
    arriving at each captured edge is returned (None where none arrived).
    """
    buffers: dict[int, list] = {}
    root_nodes = []
    for (node, output_nr), grad in zip(roots, root_grads):
        pending = buffers.get(id(node))
        if pending is None:
            pending = buffers[id(node)] = [None] * max(len(node.output_meta), 1)
            root_nodes.append(node)
        current = pending[output_nr]
        pending[output_nr] = grad if current is None else current + grad

    order = topological_order(root_nodes)
    captured_at: dict[int, list[tuple[int, int]]] = {}
    needed = None
    if capture is not None:
        for position, (node, output_nr) in enumerate(capture):
            captured_at.setdefault(id(node), []).append((position, output_nr))
        needed = _nodes_needed(order, set(captured_at))
    results: list | None = [None] * len(capture) if capture is not None else None
    task_token = _graph_task.set(GraphTask(order, needed))
    try:
        _run_in_order(order, buffers, needed, captured_at, results, retain_graph, create_graph)
    finally:
        _graph_task.reset(task_token)
    return results


def _run_in_order(
    order: list[Node],
    buffers: dict[int, list],
    needed: set[int] | None,
    captured_at: dict[int, list[tuple[int, int]]],
    results: list | None,
    retain_graph: bool,
    create_graph: bool,
) -> None:
    """The walk of `run_backward`: each node of `order` that received gradient runs; with
    `results` (autograd.grad), only those `needed`, the gradients at captured edges kept."""
    capturing = results is not None
    # Anomaly mode, the profiler, viz.record_gradients (autograd/observers.py); usually None.
    observing = observers.get()
    with set_grad_enabled(create_graph), quiet_float_errors():  # one switch for every op
        for node in order:
            key = id(node)
            grads = buffers.pop(key, None)
            if grads is None or (needed is not None and key not in needed):
                continue
            if node.pre_hooks is not None:
                grads = _run_pre_hooks(node, grads)
            if node.retained is not None:
                for output_nr, tensor_ref in node.retained.items():
                    tensor = tensor_ref()
                    if tensor is not None and grads[output_nr] is not None:
                        tensor._retain_grad_from(grads[output_nr], create_graph)
            if key in captured_at:
                for position, output_nr in captured_at[key]:
                    results[position] = grads[output_nr]
            if type(node) is AccumulateGrad:
                leaf = node.variable
                # (a leaf that stopped requiring grad since, by requires_grad_(False) or
                # detach_(), takes nothing, as PyTorch's AccumulateGrad)
                if not capturing and leaf is not None and leaf._requires_grad:
                    owned = not create_graph and engine_owns(grads)
                    if observing is None:
                        leaf._accumulate_grad(grads[0], create_graph, owned)
                    else:
                        step = leaf._accumulate_grad
                        observed_backward(
                            observing, node, grads, step, grads[0], create_graph, owned
                        )
                    if node.pre_hooks is not None:
                        _run_post_hooks(node, (), grads)
                continue
            if capturing and not any(
                edge is not None and id(edge[0]) in needed for edge in node.next_edges
            ):
                continue
            if observing is None:
                apply_node(node, grads, buffers, retain_graph)
            else:
                observed_backward(
                    observing, node, grads, apply_node, node, grads, buffers, retain_graph
                )


class _Probe:
    __slots__ = ("_array",)


def _reference_counts(grads: list, index: int) -> tuple[int, int]:
    """The reference counts of `grads[index]` and of its array, as `engine_owns` sees them: the
    same statements in a frame of the same shape (the list, one local)."""
    grad = grads[index]
    return sys.getrefcount(grad), sys.getrefcount(grad._array)


def _counts_when_only_a_list_holds_it() -> tuple[int, int]:
    probe = _Probe()
    probe._array = object()
    grads = [probe]
    del probe
    return _reference_counts(grads, 0)


# Measured once, not assumed: Python versions count argument references differently.
_ONLY_A_LIST, _ONLY_A_TENSOR = _counts_when_only_a_list_holds_it()


def engine_owns(grads: list, index: int = 0) -> bool:
    """Whether the list `grads` (a node's cotangent buffer, or the gradients `run_backward`
    captured) holds the only reference to gradient `index`, and that gradient is the only owner
    of its memory (no view of another array), so a leaf's `.grad` may keep it without a copy,
    as PyTorch's AccumulateGrad does. One reference more (the same tensor also pending for
    another leaf, a user's seed, a hook's closure) means copy. Its counting lines are those of
    `_reference_counts`, which measured the baseline: the caller's depth does not matter, only
    that the list is all it holds."""
    grad = grads[index]
    if grad.is_sparse:  # kept as it is (Tensor._accumulate_grad): its arrays are never written
        return False
    return (
        sys.getrefcount(grad) <= _ONLY_A_LIST
        and sys.getrefcount(grad._array) <= _ONLY_A_TENSOR
        and grad._array.base is None
    )


def apply_node(node: Node, grads: list, buffers: dict, retain_graph: bool) -> tuple:
    """Run one node's vjp on its output cotangents `grads`, check each result against its input
    (blaming the rule), and add it into the parent's pending cotangent in `buffers`."""
    if len(grads) > 1 or grads[0] is None:
        grads = node.op.materialize_grads(node, grads)
    op = node.op
    input_grads = (op.fast_vjp or op.vjp)(node, *grads)  # an op's faster form, if it has one
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    edges = node.next_edges
    if len(input_grads) != len(edges):
        raise GradError(
            f"{_rule_label(node)} returned {len(input_grads)} gradients for {len(edges)} inputs"
        )
    if node.pre_hooks is not None:
        input_grads = _run_post_hooks(node, input_grads, grads)
    if not retain_graph:
        node.release_saved()
    meta = node.input_meta
    for index, edge in enumerate(edges):
        grad = input_grads[index]
        if edge is None or grad is None:
            continue
        shape, dtype = meta[index]
        array = getattr(grad, "_array", None)
        # Identity is the fast check (NumPy's builtin dtypes are singletons); the full check
        # compares properly, blames the rule, and casts like PyTorch.
        if array is None or array.shape != shape or array.dtype is not dtype.numpy:
            grad = _check_input_grad(node, index, grad)
        parent, output_nr = edge
        pending = buffers.get(id(parent))
        if pending is None:
            pending = buffers[id(parent)] = [None] * (len(parent.output_meta) or 1)
        current = pending[output_nr]
        pending[output_nr] = grad if current is None else current + grad
    return input_grads
