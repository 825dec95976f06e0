"""Graph nodes: one per recorded op call, and one per leaf that receives gradients.

A `Node` is also the `ctx` an op's forward and vjp see: forward stores what the vjp needs with
`ctx.save(...)`, and the vjp reads it back as `ctx.name`. Saved inputs are kept as the input
Tensors (so higher-order gradients flow through them); saved outputs are kept as raw arrays and
rebuilt as Tensors whose grad_fn is this node on access, so no Tensor <-> Node cycle keeps a
graph alive. The autograd core never imports Tensor: `_tensor.py` registers `make_tensor`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.errors import GradError

# Set by chainrule._tensor: (array, grad_fn or None, output_nr, version_counter) -> Tensor
make_tensor: Callable[..., Any] = None  # type: ignore[assignment]


class VersionCounter:
    """Counts in-place writes to a tensor's memory; views share their base's counter."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class SavedValue:
    """One saved entry: a Tensor (an input, or a constant made from an intermediate array), or
    an output's array with its output_nr, plus the version it must still have at backward.
    An output's `tangent` entry (forward-mode AD) is given back to the rebuilt Tensor, so a vjp
    run inside a dual level (forward-over-reverse) sees the output's tangent."""

    __slots__ = ("value", "output_nr", "counter", "version", "tangent")

    def __init__(self, value: Any, output_nr: int | None, counter: Any) -> None:
        self.value = value
        self.output_nr = output_nr
        self.counter = counter
        self.version = counter.value if counter is not None else 0
        self.tangent = None


class HookedValue:
    """A saved value that went through a `saved_tensors_hooks` pack hook (autograd/graph.py):
    what pack returned, the unpack hook, and where the rebuilt tensor sits in the graph (an
    output of the saving node, the input's own edge, or nowhere for a constant)."""

    __slots__ = (
        "packed",
        "unpack_hook",
        "shape",
        "output_nr",
        "edge",
        "counter",
        "version",
        "tangent",
    )

    def __init__(
        self,
        packed: Any,
        unpack_hook: Callable,
        shape: tuple,
        output_nr: int | None,
        edge: tuple | None,
        counter: Any,
        version: int,
    ) -> None:
        self.packed = packed
        self.unpack_hook = unpack_hook
        self.shape = shape
        self.output_nr = output_nr
        self.edge = edge
        self.counter = counter
        self.version = version
        self.tangent = None  # a saved output's forward-mode tangent, as on SavedValue

    def unpack(self, node: Node, name: str) -> Any:
        tensor = self.unpack_hook(self.packed)
        array = getattr(tensor, "_array", None)
        if array is None:
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(tensor).__name__}"
            )
        if tuple(array.shape) != tuple(self.shape):
            raise GradError(
                f"{node.name()}: the unpack hook returned shape {tuple(array.shape)} for saved "
                f"{name!r} of shape {tuple(self.shape)}"
            )
        if self.output_nr is not None:
            output = make_tensor(array, node, self.output_nr, self.counter)
            if self.tangent is not None:
                output._extra = {"tangent": self.tangent}
            return output
        if self.edge is None:
            return tensor  # a constant, or an input that needs no gradient
        parent, output_nr = self.edge  # an input that requires grad: keep its place in the graph
        if type(parent) is not AccumulateGrad:
            return make_tensor(array, parent, output_nr, self.counter)
        leaf = make_tensor(array, None, 0, None)  # a leaf: an alias feeding its accumulator
        leaf._requires_grad = True
        leaf._edge = self.edge
        leaf._version_counter = self.counter
        return leaf


class ForwardContext:
    """The `ctx` of a forward that is not being recorded: it takes what forward stores
    (`save`, plain attributes) and is dropped with the call, so no Node is built."""

    __slots__ = ("op", "backend", "xp", "_saved", "__dict__")

    def __init__(self, op: Any, backend: Any) -> None:
        self.op = op
        self.backend = backend
        self.xp = backend.xp
        self._saved = None

    def save(self, **values: Any) -> None:
        self._saved = values


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
        """Keep values for the vjp; inputs and outputs are recognised by identity in `apply`."""
        if self._saved is None:
            self._saved = values
        else:
            self._saved.update(values)

    def __getattr__(self, name: str) -> Any:
        saved = self._saved
        if saved is not None and name in saved:
            return self._unpack(name, saved[name])
        if name == "metadata":  # made on first use, off the per-op path (anomaly mode, viz)
            self.metadata = {}
            return self.metadata
        if self._freed:
            raise GradError(
                f"{self.name()}: trying to backward through the graph a second time (or to "
                "read saved values after they were freed). Saved values are freed after "
                "backward(); pass retain_graph=True to the first backward() to keep them."
            )
        raise AttributeError(f"{self.name()} has no saved value or attribute {name!r}")

    def _unpack(self, name: str, entry: Any) -> Any:
        if type(entry) is not SavedValue:
            if type(entry) is HookedValue:  # packed by saved_tensors_hooks (autograd/graph.py)
                counter = entry.counter
                if counter is not None and counter.value != entry.version:
                    raise self._version_error(name, entry)
                return entry.unpack(self, name)
            return entry  # a plain Python value (a shape, a flag) saved as is
        counter = entry.counter
        if counter is not None and counter.value != entry.version:
            raise self._version_error(name, entry)
        if entry.output_nr is None:
            return entry.value
        tensor = make_tensor(entry.value, self, entry.output_nr, counter)
        if entry.tangent is not None:
            tensor._extra = {"tangent": entry.tangent}
        return tensor

    def _version_error(self, name: str, entry: Any) -> GradError:
        return GradError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {self.name()} saved {name!r} at version {entry.version}, "
            f"and it is now at version {entry.counter.value}. Clone it before modifying it in "
            "place."
        )

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple(edge is not None for edge in self.next_edges)

    # ---- introspection, PyTorch-style ---------------------------------------------------
    def name(self) -> str:
        return self.op.node_name()

    @property
    def next_functions(self) -> tuple[tuple[Node | None, int], ...]:
        return tuple(edge if edge is not None else (None, 0) for edge in self.next_edges)

    def register_prehook(self, hook: Callable) -> None:
        """hook(grad_outputs) -> new grad_outputs or None, before this node's vjp runs."""
        self.add_pre_hook(None, hook)

    def add_pre_hook(self, output_nr: int | None, hook: Callable) -> tuple:
        """Run hook(grad of output `output_nr`), or hook(all grads) for None, before the vjp;
        returns the entry, which removing from `pre_hooks` unregisters."""
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
