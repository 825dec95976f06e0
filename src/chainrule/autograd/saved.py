"""What `ctx.save(...)` keeps for a tensor, and how the vjp gets it back as a Tensor.

`ops.op.apply` turns each saved array into an entry once forward has run: an input is kept as
the input Tensor itself (so higher-order gradients flow through it), an output as its raw array
and output number, rebuilt on access as a Tensor whose grad_fn is the saving node (keeping the
Tensor would make a Tensor <-> Node cycle that keeps graphs alive). Every entry remembers the
version of the memory it saw, so a vjp never reads a value written in place since.
`saved_tensors_hooks` (autograd/graph.py) replaces entries by `HookedValue`s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import AccumulateGrad, Node, SavedEntry, VersionCounter
from chainrule.errors import GradError


class SavedValue(SavedEntry):
    """A Tensor (an input, or a constant made from an intermediate array) when `output_nr` is
    None, else the raw array of output `output_nr`; plus the version it must still have at
    backward. An output's `tangent` entry (forward-mode AD) is given back to the rebuilt Tensor,
    so a vjp run inside a dual level (forward-over-reverse) sees the output's tangent."""

    __slots__ = ("value", "output_nr", "counter", "version", "tangent", "had_history")

    def __init__(self, value: Any, output_nr: int | None, counter: VersionCounter | None) -> None:
        self.value = value
        self.output_nr = output_nr
        self.counter = counter
        self.version = counter.value if counter is not None else 0
        self.tangent = None
        # a saved Tensor with a grad_fn (not a leaf): PyTorch refuses it once detach_() took it
        self.had_history = output_nr is None and value._node is not None

    def unpack(self, node: Node, name: str) -> Any:
        counter = self.counter  # check_version, inline: every saved read in backward is here
        if counter is not None and counter.value != self.version:
            raise node.version_error(name, self.version, counter.value)
        if self.output_nr is None:
            if self.had_history and self.value._node is None:
                raise GradError(
                    f"{node.name()}: Trying to use a saved tensor that has been detached "
                    "in-place, i.e. with .detach_(). This is not supported, please use "
                    "out-of-place `.detach()` instead"
                )
            return self.value
        tensor = Tensor._from_array(self.value, node.backend, node, self.output_nr)
        tensor._version_counter = counter
        if self.tangent is not None:
            tensor._extra = {"tangent": self.tangent}
        return tensor


class HookedValue(SavedEntry):
    """A saved value that went through a `saved_tensors_hooks` pack hook: what pack returned,
    the unpack hook, and where the rebuilt tensor sits in the graph (an output of the saving
    node, the input's own edge, or nowhere for a constant)."""

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
        counter: VersionCounter | None,
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
        # No version check, as in PyTorch: what backward reads is what the unpack hook gives,
        # whatever happened to the saved tensor since (a hook that packed a copy reads the
        # old values; one that kept the tensor reads the new ones).
        counter = self.counter
        tensor = self.unpack_hook(self.packed)
        if not isinstance(tensor, Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(tensor).__name__}"
            )
        array = tensor._array
        if tuple(array.shape) != tuple(self.shape):
            raise GradError(
                f"{node.name()}: the unpack hook returned shape {tuple(array.shape)} for saved "
                f"{name!r} of shape {tuple(self.shape)}"
            )
        if self.output_nr is not None:
            output = Tensor._from_array(array, tensor._backend, node, self.output_nr)
            output._version_counter = counter
            if self.tangent is not None:
                output._extra = {"tangent": self.tangent}
            return output
        if self.edge is None:
            return tensor  # a constant, or an input that needs no gradient
        parent, output_nr = self.edge  # an input that requires grad: keep its place in the graph
        if type(parent) is not AccumulateGrad:
            alias = Tensor._from_array(array, tensor._backend, parent, output_nr)
            alias._version_counter = counter
            return alias
        leaf = Tensor._from_array(
            array, tensor._backend
        )  # a leaf: an alias feeding its accumulator
        leaf._requires_grad = True
        leaf._edge = self.edge
        leaf._version_counter = counter
        return leaf
