"""PyTorch's `torch.autograd.graph`: saved-tensor hooks (what an op saves for backward can be
packed when it is saved and unpacked when backward needs it; an observer, autograd/observers.py,
re-exported here with PyTorch's names), `allow_mutation_on_saved_tensors` (another observer),
`register_multi_grad_hook`, and gradient edges.

    >>> import chainrule
    >>> from chainrule.autograd.graph import saved_tensors_hooks
    >>> seen = []
    >>> def pack(t):
    ...     seen.append(tuple(t.shape))
    ...     return t.detach().numpy().copy()        # e.g. offload to host memory
    >>> def unpack(array):
    ...     return chainrule.from_numpy(array)
    >>> x = chainrule.ones(2, 3, requires_grad=True)
    >>> with saved_tensors_hooks(pack, unpack):
    ...     y = (x * x).sum()
    >>> seen
    [(2, 3), (2, 3)]
    >>> y.backward()
    >>> x.grad
    tensor([[2., 2., 2.],
            [2., 2., 2.]])
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, NamedTuple

from chainrule._tensor import RemovableHandle, Tensor
from chainrule.autograd import grad_mode
from chainrule.autograd.engine import current_graph_task
from chainrule.autograd.node import Node, VersionCounter, named_node
from chainrule.autograd.observers import Observer, add_observer, observers, remove_observer
from chainrule.autograd.saved import HookedValue, SavedValue
from chainrule.errors import GradError

__all__ = [
    "GradientEdge",
    "Node",
    "Observer",
    "add_observer",
    "observers",
    "remove_observer",
    "allow_mutation_on_saved_tensors",
    "disable_saved_tensors_hooks",
    "get_gradient_edge",
    "increment_version",
    "register_multi_grad_hook",
    "save_on_cpu",
    "saved_tensors_hooks",
]

# The message to raise when saved_tensors_hooks is entered inside disable_saved_tensors_hooks.
_hooks_disabled: ContextVar[str | None] = ContextVar("chainrule_saved_hooks_off", default=None)


class saved_tensors_hooks(Observer):  # noqa: N801 - PyTorch's name
    """Inside, every tensor an op saves for backward goes through `pack_hook(tensor)` when it is
    saved, and what that returned through `unpack_hook(packed)` when backward needs it, which
    must give a Tensor of the same shape and values. Use it to offload saved activations to
    another device or to disk, to compress them, or to inspect what a model keeps alive. When
    nested, only the innermost pair applies, as in PyTorch.

    Pack runs with grad mode off and must not modify its input in place. What a custom
    `autograd.Function` saves with `ctx.save_for_backward` is packed too.

    Args:
        pack_hook (Callable): `pack_hook(tensor) -> packed`, anything.
        unpack_hook (Callable): `unpack_hook(packed) -> Tensor`.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.graph import saved_tensors_hooks
        >>> shapes = []
        >>> x = chainrule.ones(3, requires_grad=True)
        >>> with saved_tensors_hooks(lambda t: shapes.append(tuple(t.shape)) or t, lambda t: t):
        ...     y = (x * x).sum()
        >>> y.backward()
        >>> shapes, x.grad
        ([(3,), (3,)], tensor([2., 2., 2.]))
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        message = _hooks_disabled.get()
        if message is not None:
            raise GradError(message)
        add_observer(self)
        return self

    def __exit__(self, *exc: object) -> None:
        remove_observer(self)

    def forward_end(
        self, op: type, inputs: Sequence[Any], outputs: tuple, node: Node | None, state: Any
    ) -> None:
        if node is None or node._saved is None:
            return
        saved = node._saved
        keys = saved.keys() if isinstance(saved, dict) else range(len(saved))
        for key in list(keys):
            entry = saved[key]
            if type(entry) is SavedValue:  # not already packed by an inner pair of hooks
                saved[key] = self._pack(entry, outputs)

    def _pack(self, entry: SavedValue, outputs: tuple) -> HookedValue:
        if entry.output_nr is not None:
            tensor = outputs[entry.output_nr]
            edge = None  # rebuilt with the saving node as grad_fn (HookedValue.unpack)
        else:
            tensor = entry.value
            edge = tensor._gradient_edge() if tensor._requires_grad else None
        version = tensor._version_counter.value
        with grad_mode.no_grad():
            packed = self.pack_hook(tensor)
        if tensor._version_counter.value != version:
            raise GradError(
                "A saved tensor pack hook is modifying its input in place. Tensors provided as "
                "input to pack hook cannot be modified by in-place operations."
            )
        hooked = HookedValue(
            packed,
            self.unpack_hook,
            tensor.shape,
            entry.output_nr,
            edge,
            entry.counter,
            entry.version,
        )
        hooked.tangent = getattr(entry, "tangent", None)
        return hooked


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Inside, tensors saved for backward are kept in host memory and moved back to their
    device when backward needs them: GPU memory for activations traded for copies. A tensor
    already on the CPU is kept as it is (not copied), as in PyTorch. `pin_memory` and
    `device_type` are accepted; chainrule has no pinned memory.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(3, requires_grad=True)
        >>> with chainrule.autograd.graph.save_on_cpu():
        ...     y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 2., 2.])
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(tensor: Any) -> tuple:
            return tensor.device, tensor.cpu()

        def unpack(packed: tuple) -> Any:
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack, unpack)


def increment_version(tensor: Any) -> None:
    """Bump the version counter of `tensor` (or of each tensor of an iterable), as an in-place
    write would: for code that changes a tensor's memory behind autograd's back (through its
    NumPy array, say) and wants backward to notice that a saved value went stale.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(2)
        >>> chainrule.autograd.graph.increment_version(x)
        >>> x._version
        1
    """
    for each in [tensor] if hasattr(tensor, "_version_counter") else tensor:
        each._version_counter.value += 1


class disable_saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Inside, entering `saved_tensors_hooks` raises GradError(error_message): for code whose
    saved values must stay where they are. Like PyTorch, it cannot be entered while hooks are
    active.

    Args:
        error_message (str): the message of the GradError.

    Example:
        >>> from chainrule.autograd.graph import disable_saved_tensors_hooks, saved_tensors_hooks
        >>> with disable_saved_tensors_hooks("no hooks here"):
        ...     with saved_tensors_hooks(lambda t: t, lambda t: t):
        ...         pass
        Traceback (most recent call last):
        ...
        chainrule.errors.GradError: no hooks here
    """

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        active = observers.get() or ()
        if any(isinstance(observer, saved_tensors_hooks) for observer in active):
            raise GradError(self.error_message)
        self._token = _hooks_disabled.set(self.error_message)

    def __exit__(self, *exc: object) -> None:
        _hooks_disabled.reset(self._token)


class GradientEdge(NamedTuple):
    """Where gradient for a tensor enters the graph: a node and which of its outputs (PyTorch's
    `torch.autograd.graph.GradientEdge`)."""

    node: Node
    output_nr: int


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The edge through which `tensor`'s gradient flows: its grad_fn and output number, or its
    AccumulateGrad node for a leaf. It stays the edge of the value the tensor had, even after
    the tensor is modified in place.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.graph import get_gradient_edge
        >>> x = chainrule.ones(2, requires_grad=True)
        >>> get_gradient_edge(x * 2).node.name(), get_gradient_edge(x).node.name()
        ('MulBackward0', 'AccumulateGrad')
    """
    if not tensor.requires_grad:
        raise GradError(
            "It is not possible to get the gradient edge for a Tensor that does not require "
            "gradients"
        )
    node, output_nr = tensor._gradient_edge()
    return GradientEdge(named_node(node), output_nr)


class _MultiHandle(RemovableHandle):
    """The handle of a multi-grad hook: `remove()` removes the hook from every tensor."""

    def __init__(self, handles: tuple[RemovableHandle, ...]) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def register_multi_grad_hook(
    tensors: Sequence[Tensor],
    fn: Callable[[Sequence[Tensor | None]], None] | Callable[[Tensor], None],
    *,
    mode: Literal["all", "any"] = "all",
) -> RemovableHandle:
    """Call `fn` once per backward (or autograd.grad) call when the gradients of `tensors` are
    computed, as PyTorch's.

    With mode="all", `fn(grads)` runs once the gradient of every tensor that call will compute
    has been computed, with None for the tensors it does not reach (not in its graph, or not
    leading to its `inputs`). With mode="any", `fn(grad)` runs with the first gradient
    computed, once per call. `fn` must not modify its arguments. Every call, including each
    backward through a retained graph, gets its own call of `fn`.

    Args:
        tensors (sequence of Tensors): each requiring grad (mode="all"); in mode="any" those
            that do not are skipped. Unlike PyTorch (which refuses it), leaves may be among
            them when autograd.grad runs.
        fn (Callable): `fn(grads)` or `fn(grad)`; its return value is ignored.
        mode (str): "all" (default) or "any".

    Returns:
        RemovableHandle: `remove()` unregisters `fn` from every tensor.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.graph import register_multi_grad_hook
        >>> a = chainrule.ones(2, requires_grad=True)
        >>> b = chainrule.ones(2, requires_grad=True)
        >>> def show(grads):
        ...     print([g is not None for g in grads])
        >>> handle = register_multi_grad_hook((a, b), show)
        >>> (a * 2).sum().backward()
        [True, False]
        >>> (a * b).sum().backward()
        [True, True]
        >>> handle.remove()
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    if mode == "any":
        ran_in: weakref.WeakSet = weakref.WeakSet()  # the calls that have run fn already

        def first_grad_hook(grad: Tensor) -> None:
            task = _running_task()
            if task not in ran_in:
                ran_in.add(task)
                fn(grad)

        handles = tuple(t.register_hook(first_grad_hook) for t in tensors if t.requires_grad)
        return _MultiHandle(handles)

    if not all(t.requires_grad for t in tensors):  # before any hook is registered
        raise GradError("register_multi_grad_hook: every tensor must require grad")
    nodes = [t._gradient_edge()[0] for t in tensors]
    # Per call, while it runs: the gradients seen so far, and how many are still to come.
    pending: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def grad_hook(index: int) -> Callable[[Tensor], None]:
        def hook(grad: Tensor) -> None:
            task = _running_task()
            if task not in pending:
                expected = sum(task.will_execute(node) for node in nodes)
                pending[task] = [[None] * len(nodes), expected]
            entry = pending[task]
            entry[0][index] = grad
            entry[1] -= 1
            if entry[1] == 0:
                del pending[task]
                fn(entry[0])

        return hook

    handles = tuple(tensor.register_hook(grad_hook(i)) for i, tensor in enumerate(tensors))
    return _MultiHandle(handles)


def _running_task() -> Any:
    task = current_graph_task()
    if task is None:
        raise GradError("expected this hook to be called inside a backward call")
    return task


class _MutationOnSavedContext(Observer):
    """What `allow_mutation_on_saved_tensors` watches with: the nodes that saved each tensor's
    memory (by its version counter, which views share), and before an in-place write into
    that memory, a copy of the saved values for those nodes' backward."""

    def __init__(self) -> None:
        self.savers: dict[int, tuple[VersionCounter, list[weakref.ref]]] = {}
        self._prune_at = 1024  # a loop run inside the context saves more at every step

    def forward_end(
        self, op: type, inputs: Sequence[Any], outputs: tuple, node: Node | None, state: Any
    ) -> None:
        if node is None or node._saved is None:
            return
        for entry in _saved_entries(node):
            counter = getattr(entry, "counter", None)
            if type(entry) is SavedValue and counter is not None:
                record = self.savers.setdefault(id(counter), (counter, []))
                record[1].append(weakref.ref(node))
        if len(self.savers) > self._prune_at:
            self._prune()

    def _prune(self) -> None:
        """Forget the memory whose savers are all gone or freed by a backward."""
        for key, (_, savers) in list(self.savers.items()):
            live = [ref for ref in savers if (node := ref()) is not None and node._saved]
            if live:
                savers[:] = live
            else:
                del self.savers[key]
        self._prune_at = max(1024, 2 * len(self.savers))

    def inplace_write(self, target: Any, source: Any) -> None:
        record = self.savers.pop(id(target._version_counter), None)
        if record is None:
            return
        counter, savers = record
        for saver in savers:
            node = saver()
            if node is None or node._saved is None:  # gone, or freed by a backward
                continue
            for entry in _saved_entries(node):
                if (
                    type(entry) is SavedValue
                    and entry.counter is counter
                    and entry.version == counter.value
                ):
                    _keep_a_copy(entry)

    def clear(self) -> None:
        self.savers.clear()


def _saved_entries(node: Node) -> list:
    saved = node._saved
    return list(saved.values() if isinstance(saved, dict) else saved)


def _keep_a_copy(entry: SavedValue) -> None:
    """Make a saved value independent of the memory it was saved from, which is about to be
    written: the copy has a version counter of its own."""
    if entry.output_nr is None:
        entry.value = entry.value._snapshot()  # an input: its values and place in the graph
        entry.counter = None
        return
    entry.value = entry.value.copy()  # an output's array, rebuilt as a Tensor on unpack
    entry.counter = VersionCounter()
    entry.version = 0


@contextmanager
def allow_mutation_on_saved_tensors() -> Iterator[_MutationOnSavedContext]:
    """Inside, a tensor saved for backward may be modified in place: the values saved are
    copied just before the write, so backward uses the values the forward saw instead of
    raising the version-counter error. Run forward and backward inside it, as PyTorch asks.

    Unlike PyTorch, a backward after the block is allowed (it raises the usual error if a
    saved tensor was modified after the block), and writes through `out=` are not watched.

    Returns:
        the state it keeps (for debugging); cleared on exit.

    Example:
        >>> import chainrule
        >>> with chainrule.autograd.graph.allow_mutation_on_saved_tensors():
        ...     a = chainrule.ones(2, requires_grad=True)
        ...     b = a.clone()
        ...     out = (b**2).sum()
        ...     _ = b.sin_()
        ...     out.backward()
        >>> a.grad
        tensor([2., 2.])
    """
    active = observers.get() or ()
    if any(isinstance(observer, _MutationOnSavedContext) for observer in active):
        raise GradError("allow_mutation_on_saved_tensors contexts cannot be nested")
    context = _MutationOnSavedContext()
    add_observer(context)
    try:
        yield context
    finally:
        remove_observer(context)
        context.clear()
