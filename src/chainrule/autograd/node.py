"""Graph nodes: one per recorded op call, and one per leaf that receives gradients.

A `Node` is also the `ctx` an op's forward and vjp see: forward stores what the vjp needs with
`ctx.save(...)`, and the vjp reads it back as `ctx.name`. Saved inputs are kept as the input
Tensors (so higher-order gradients flow through them); saved outputs are kept as raw arrays and
rebuilt as Tensors whose grad_fn is this node on access, so no Tensor <-> Node cycle keeps a
graph alive. The autograd core never imports Tensor: saved tensors are `SavedEntry`s, which
rebuild themselves (autograd/saved.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.errors import GradError


class RemovableHandle:
    """Returned by the register_*hook methods; `remove()` unregisters the hook."""

    def __init__(self, hooks: list, entry: Any) -> None:
        self._hooks = hooks
        self._entry = entry

    def remove(self) -> None:
        for index, entry in enumerate(self._hooks):
            if entry is self._entry:
                del self._hooks[index]
                return

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


# The key of a Node hook entry that runs after the vjp (`Node.register_hook`); the others run
# before it, keyed by an output number or None (all outputs).
POST_HOOK = "post"


class VersionCounter:
    """Counts in-place writes to a tensor's memory; views share their base's counter."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class InferenceVersionCounter(VersionCounter):
    """The counter of an inference tensor: memory allocated inside `inference_mode()` (and its
    views). Its type is the mark PyTorch's rules read: such a tensor cannot be saved for
    backward, nor written in place, outside inference mode."""

    __slots__ = ()


# What `ctx.save` keeps as it is: certainly not an array, so nothing for apply to resolve.
PLAIN_TYPES = frozenset((int, float, bool, str, tuple, list, type(None)))


class SavedEntry:
    """Base of what `ctx.save` keeps for a tensor (autograd/saved.py): it checks the version it
    was saved at and rebuilds the Tensor the vjp reads. Plain Python values (a shape, a flag)
    are saved as they are. The core sees only this interface, so it never names Tensor."""

    __slots__ = ()
    counter: VersionCounter | None  # set by the subclasses: the memory's counter when saved
    version: int  # and its value then

    def unpack(self, node: Node, name: str) -> Any:
        raise NotImplementedError

    def check_version(self, node: Node, name: str) -> None:
        """Refuse a value written in place since it was saved, naming the node and the value."""
        counter = self.counter
        if counter is not None and counter.value != self.version:
            raise node.version_error(name, self.version, counter.value)


class ForwardContext:
    """The `ctx` of a forward that is not being recorded and carries no tangents: no vjp or
    jvp will read what forward saves, so `save` keeps nothing and no Node is built."""

    __slots__ = ("op", "backend", "xp", "_saved")

    def __init__(self, op: Any, backend: Any) -> None:
        self.op = op
        self.backend = backend
        self.xp = backend.xp
        self._saved = None

    def save(self, **values: Any) -> None:
        pass


class Node:
    """A recorded op call: its op, saved values, and edges to the nodes of its inputs.

    `next_edges[i]` is `(node, output_nr)` for input i, or None when input i needs no gradient.
    """

    __slots__ = (
        "op",
        "backend",
        "xp",
        "next_edges",
        "input_meta",
        "output_meta",
        "_saved",
        "_freed",
        "pre_hooks",
        "retained",
        "metadata",
        "__dict__",
        "__weakref__",
    )

    def __init__(self, op: Any, backend: Any) -> None:
        self.op = op
        self.backend = backend
        self.xp = backend.xp
        self.next_edges = ()
        self.input_meta = ()
        self.output_meta = ()
        self._saved = None
        self._freed = False
        self.pre_hooks = None
        self.retained = None

    # ---- what forward and vjp use -------------------------------------------------------
    def save(self, **values: Any) -> None:
        """Keep values for the vjp and jvp, read back as `ctx.name`: the one way an op keeps
        state. Arrays that are inputs or outputs are recognised by identity in `apply` and come
        back as Tensors in the graph; other arrays as constants; plain values (a dim, a shape,
        a flag) as they are, kept as plain attributes (read without Node.__getattr__)."""
        saved = self._saved
        for name, value in values.items():
            if type(value) in PLAIN_TYPES:
                self.__dict__[name] = value
            elif saved is None:
                saved = self._saved = {name: value}
            else:
                saved[name] = value

    def __getattr__(self, name: str) -> Any:
        saved = self._saved
        if saved is not None and name in saved:
            entry = saved[name]
            if isinstance(entry, SavedEntry):
                return entry.unpack(self, name)
            return entry  # a plain Python value saved as it is
        if name == "metadata":  # made on first use, off the per-op path (anomaly mode, viz)
            self.metadata = {}
            return self.metadata
        if self._freed:
            raise self.freed_error()
        raise AttributeError(f"{self.name()} has no saved value or attribute {name!r}")

    def freed_error(self) -> GradError:
        """The error for a second backward through this node once its saved values are freed
        (raised by an op whose only saved value is a plain number, which outlives them)."""
        return GradError(
            f"{self.name()}: trying to backward through the graph a second time (or to "
            "read saved values after they were freed). Saved values are freed after "
            "backward(); pass retain_graph=True to the first backward() to keep them."
        )

    def version_error(self, name: str, saved_at: int, now: int) -> GradError:
        """The error for saved value `name`, written in place since it was saved."""
        return GradError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {self.name()} saved {name!r} at version {saved_at}, "
            f"and it is now at version {now}. Clone it before modifying it in place."
        )

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple(edge is not None for edge in self.next_edges)

    # ---- introspection, PyTorch-style ---------------------------------------------------
    def name(self) -> str:
        """PyTorch's name for this node: its op's, or a name set for this call, by a composite
        (`ops.op.named`) or by a forward whose name depends on its operands (matmul by ranks:
        `ctx.save(display_name=...)`)."""
        display_name = self.__dict__.get("display_name")
        return display_name if display_name is not None else self.op.node_name()

    @property
    def next_functions(self) -> tuple[tuple[Node | None, int], ...]:
        return tuple(
            (named_node(edge[0]), edge[1]) if edge is not None else (None, 0)
            for edge in self.next_edges
        )

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """hook(grad_outputs) -> new grad_outputs or None, before this node's vjp runs."""
        entry = self.add_pre_hook(None, hook)
        return RemovableHandle(self.pre_hooks, entry)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """hook(grad_inputs, grad_outputs) -> new grad_inputs (a tuple) or None, after this
        node's vjp has run (for an AccumulateGrad node, after `.grad` was updated, with
        grad_inputs empty), as PyTorch's `Node.register_hook`."""
        entry = self.add_pre_hook(POST_HOOK, hook)
        return RemovableHandle(self.pre_hooks, entry)

    def add_pre_hook(self, output_nr: int | str | None, hook: Callable) -> tuple:
        """Run hook(grad of output `output_nr`), or hook(all grads) for None, before the vjp
        (POST_HOOK: after it); returns the entry, which removing from `pre_hooks`
        unregisters."""
        if self.pre_hooks is None:
            self.pre_hooks = []
        entry = (output_nr, hook)
        self.pre_hooks.append(entry)
        return entry

    def release_saved(self) -> None:
        self._saved = None
        self._freed = True

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


# The classes `named_node` gives nodes, one per (node class, PyTorch name), made on first use.
_NAMED_CLASSES: dict[tuple[type, str], type] = {}


def named_node(node: Node) -> Node:
    """`node`, its class now one named as PyTorch names the node's (`type(y.grad_fn).__name__`
    is 'MulBackward0', as scripts that dispatch on it expect): an empty subclass of its own
    class, so nothing else changes. Done where a node is shown (`grad_fn`, `next_functions`),
    not on the per-op path, because a node's name can depend on what its forward saved."""
    cls = type(node)
    name = node.name()
    if cls.__name__ == name:
        return node
    base = cls.__dict__.get("_unnamed_class", cls)
    key = (base, name)
    named = _NAMED_CLASSES.get(key)
    if named is None:
        attributes = {"__slots__": (), "_unnamed_class": base, "__module__": base.__module__}
        named = _NAMED_CLASSES[key] = type(name, (base,), attributes)
    node.__class__ = named
    return node


class AccumulateGrad(Node):
    """The node for a leaf tensor: where backward deposits that leaf's gradient.

    It holds its leaf weakly (the leaf holds it strongly), so a graph never keeps a leaf alive.
    """

    __slots__ = ("_variable_ref",)

    def __init__(self, variable_ref: Any) -> None:
        self.op = None
        self.backend = None
        self.xp = None
        self.next_edges = ()
        self.input_meta = ()
        self.output_meta = ()
        self._saved = None
        self._freed = False
        self.pre_hooks = None
        self.retained = None
        self._variable_ref = variable_ref

    @property
    def variable(self) -> Any:
        """The leaf tensor, or None once it has been garbage-collected."""
        return self._variable_ref()

    def name(self) -> str:
        return "AccumulateGrad"
