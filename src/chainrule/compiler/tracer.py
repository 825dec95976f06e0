"""The tracer: one eager run of the function, watched, written down as a `Program`.

The tracer is an observer (autograd/observers.py) that takes over every op call: it runs the op
as usual and records its forward (op, input slots, parameters, output slots). Backward runs its
vjps through the same op calls, so the gradient computation is recorded too, as plain forwards;
the engine's accumulation into leaves, in-place commits, `.grad` assignments and optimizer
steps arrive through the observer's other methods. What it cannot replay - Python reading a
tensor's values, random numbers drawn outside an op, a tensor hook, a custom Function, a write
it did not see - is a graph break: the run goes on eagerly and no program is made.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.autograd.node import AccumulateGrad
from chainrule.autograd.observers import Observer, observers
from chainrule.autograd.saved import SavedValue
from chainrule.compiler.program import INLINE_FORMS, Instruction, Program, Source
from chainrule.errors import CompileError
from chainrule.func.pytree import tree_flatten
from chainrule.ops.op import Op, apply, forwards_in_float32

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_line() -> str:
    """`file:line` of the innermost frame outside chainrule: the user's line that broke."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def _holds_array(values: Any, array_type: type) -> bool:
    """Whether a tuple or list parameter holds an array, at any depth (an index tuple)."""
    stack = [values]
    while stack:
        for value in stack.pop():
            if isinstance(value, array_type):
                return True
            if type(value) in (tuple, list):
                stack.append(value)
    return False


class Tracer(Observer):
    """Records the array work of one call; `finish` turns it into a Program (or says why not).

    `tensors` are the function's flattened tensor arguments: an array read from one of them is
    an input of the program; any other array not made by a recorded step is read live from the
    tensor it was found in (a parameter, a buffer, a constant).
    """

    records_random_ops = True  # dropout draws its mask in an op, replayed with fresh numbers

    def __init__(self, tensors: list, fullgraph: bool) -> None:
        self.arg_of_tensor = {id(t): i for i, t in enumerate(tensors)}
        self.arg_of_array = {id(t._array): i for i, t in enumerate(tensors)}
        self.fullgraph = fullgraph
        self.steps: list[Instruction] = []
        self.slot_of: dict[int, int] = {}  # id(array) -> slot; `arrays` keeps the ids unique
        self.arrays: list = []
        self.sources: dict[int, Source] = {}
        self.zero_dim: set[int] = set()
        self.backend: Any = None
        self.broken: tuple[str, str] | None = None  # (reason, user line)
        self.versions: dict[int, list] = {}  # id(counter) -> [counter, the value expected]
        self.resync = False

    # ---- slots -----------------------------------------------------------------------------
    def _new_slot(self, array: Any) -> int:
        slot = len(self.arrays)
        self.arrays.append(array)
        self.slot_of[id(array)] = slot
        if array.ndim == 0:
            self.zero_dim.add(slot)
        return slot

    def _slot(self, tensor: Any) -> int:
        """The slot holding `tensor`'s array; an outside slot on first sight."""
        array = tensor._array
        slot = self.slot_of.get(id(array))
        if slot is not None:
            return slot
        base = getattr(array, "base", None)
        if base is not None and id(base) in self.slot_of:
            self.graph_break("a view of a program's array made outside ops (raw indexing)")
        slot = self._new_slot(array)
        index = self.arg_of_array.get(id(array))
        self.sources[slot] = Source(index, tensor if index is None else None)
        counter = tensor._version_counter
        self.versions.setdefault(id(counter), [counter, counter.value])
        return slot

    def _target(self, tensor: Any) -> Source:
        """A tensor whose `.grad` a step sets: this call's argument, or the tensor itself."""
        index = self.arg_of_tensor.get(id(tensor))
        return Source(index, tensor if index is None else None)

    def _sync(self) -> None:
        """After an optimizer step: its writes are expected, take the counters as they are."""
        for entry in self.versions.values():
            entry[1] = entry[0].value
        self.resync = False

    def graph_break(self, reason: str) -> None:
        if self.broken is not None:
            return
        where = user_line()
        self.broken = (reason, where)
        if self.fullgraph:
            raise CompileError(f"compile(fullgraph=True): graph break at {where}: {reason}")

    # ---- the observer ----------------------------------------------------------------------
    def intercept(self, op: type, inputs: Any, params: tuple) -> Any:
        if self.broken is not None:
            return NotImplemented
        if len(observers.get()) > 1:
            self.graph_break("another observer (anomaly mode, the profiler, hooks) is active")
            return NotImplemented
        if self.resync:
            self._sync()
        token = observers.set(None)
        try:
            result = apply(op, inputs, *params)
        finally:
            observers.reset(token)
        backend = inputs[0]._backend
        if self.backend is None:
            self.backend = backend
        if any(t._backend is not self.backend for t in inputs):
            self.graph_break(f"{op.__name__}: operands on more than one device")
            return result
        step = Instruction("op", [self._slot(t) for t in inputs], [], op)
        step.params = params
        step.multi = type(result) is tuple
        step.half = forwards_in_float32(op, [t._array for t in inputs])
        for index, param in enumerate(params):
            if isinstance(param, backend.array_type):  # a fast rule passing a saved array
                slot = self.slot_of.get(id(param))
                if slot is None:
                    self.graph_break(f"{op.__name__}: an array parameter made outside ops")
                    return result
                step.param_slots[index] = slot
            elif type(param) in (tuple, list) and _holds_array(param, backend.array_type):
                self.graph_break(f"{op.__name__}: arrays (indices) made outside ops")
                return result
        outputs = result if type(result) is tuple else (result,)
        step.outputs = [self._new_slot(output._array) for output in outputs]
        node = None
        for output in outputs:
            if output._node is not None:
                node = output._node
                break
        if node is not None and node._saved:
            self._note_saved_constants(step, inputs, node._saved)
        if op in INLINE_FORMS and not step.saved and not step.param_slots:
            step.inline = all(t._array.dtype.char in "fd" for t in inputs) and all(
                type(p) in (int, float) for p in params
            )
        self.steps.append(step)
        return result

    def _note_saved_constants(self, step: Instruction, inputs: Any, saved: dict) -> None:
        """Arrays forward saved that are neither inputs nor outputs (a mask, indices): replay
        takes them from its own forward's saves, as slots of their own."""
        for name, entry in saved.items():
            if type(entry) is not SavedValue or entry.output_nr is not None:
                continue
            value = entry.value
            if not isinstance(value, Tensor) or any(value is t for t in inputs):
                continue
            if id(value._array) not in self.slot_of:
                step.saved.append(name)
                step.saved_slots.append(self._new_slot(value._array))

    def forward_begin(self, op: type, inputs: Any) -> Any:
        if not (isinstance(op, type) and issubclass(op, Op)):
            self.graph_break(f"custom autograd.Function {getattr(op, '__name__', op)}")
        return None

    def random_draw(self) -> None:
        self.graph_break("random numbers drawn outside an op (dropout, rand, randn)")

    def host_read(self, tensor: Any, what: str) -> None:
        self.graph_break(f"`{what}` reads a tensor's values into Python")

    def backward_begin(self, node: Any, grads: list) -> Any:
        if self.broken is not None:
            return None
        if self.resync:
            self._sync()
        if node.pre_hooks or node.retained:
            self.graph_break("a tensor hook or retain_grad() runs in backward")
            return None
        if is_grad_enabled():
            self.graph_break("backward with create_graph=True")
            return None
        if type(node) is not AccumulateGrad:
            return None
        leaf = node.variable
        extra = leaf._extra
        if extra is not None and extra.get("post_accumulate_hooks"):
            self.graph_break("a post-accumulate-grad hook runs in backward")
            return None
        if leaf._grad is not None and leaf._grad._requires_grad:
            self.graph_break("accumulating into a .grad that requires grad")
            return None
        return (leaf, self._slot(grads[0]), leaf._grad is None)

    def backward_end(self, node: Any, grads: list, input_grads: Any, state: Any) -> None:
        if state is None or self.broken is not None:
            return
        leaf, grad_slot, was_none = state
        step = Instruction("acc", [grad_slot], [])
        step.target = self._target(leaf)
        # The engine kept the gradient itself or copied it (when something else held it).
        step.params = (was_none and leaf._grad._array is not grads[0]._array,)
        step.outputs = [self._new_slot(leaf._grad._array)]
        self.steps.append(step)

    def inplace_write(self, target: Any, source: Any) -> None:
        if self.broken is not None:
            return
        if target._base is not None:  # the replay's slots do not alias as views do
            self.graph_break("an in-place write into a view")
            return
        if self.resync:
            self._sync()
        node = source._node
        if node is not None and node._saved:  # the in-place op saved a copy of the old value
            for entry in node._saved.values():
                value = getattr(entry, "value", None)
                if isinstance(value, Tensor) and id(value._array) not in self.slot_of:
                    clone = Instruction("clone", [self._slot(target)], [])
                    clone.outputs = [self._new_slot(value._array)]
                    self.steps.append(clone)
        step = Instruction("copy", [self._slot(target), self._slot(source)], [])
        self.steps.append(step)
        counter = target._version_counter
        self.versions[id(counter)] = [counter, counter.value + 1]

    def grad_set(self, tensor: Any, value: Any) -> None:
        if self.broken is not None:
            return
        inputs = [] if value is None else [self._slot(value)]
        step = Instruction("setgrad", inputs, [])
        step.target = self._target(tensor)
        self.steps.append(step)

    def host_constant(self, array: Any) -> None:
        self.graph_break("a constant made from raw arrays outside ops (a mask in a rule)")

    def effect(self, owner: Any, name: str, args: tuple) -> None:
        if self.broken is not None:
            return
        step = Instruction("effect", [], [])
        step.target = (owner, name)
        step.params = args
        self.steps.append(step)
        self.resync = True

    # ---- the program -----------------------------------------------------------------------
    def finish(self, result: Any) -> tuple[Program | None, str]:
        """The Program of the traced call, or None and why not (the graph break)."""
        if self.broken is None and not self.resync:
            for counter, expected in self.versions.values():
                if counter.value != expected:
                    self.broken = ("a tensor was written outside ops, where compile cannot see", "")
                    break
        if self.broken is not None:
            reason, where = self.broken
            return None, f"{reason} (at {where})" if where else reason
        leaves, spec = tree_flatten(result)
        outputs: list = []
        for leaf in leaves:
            if not isinstance(leaf, Tensor):
                outputs.append(("value", leaf))
                continue
            node = leaf._node
            if node is not None and not node._freed:
                return None, (
                    "the result carries an autograd graph out of the compiled function (its "
                    "backward() runs outside); compile the whole step, backward() included"
                )
            slot = self.slot_of.get(id(leaf._array))
            if slot is None or slot in self.sources:
                index = self.arg_of_tensor.get(id(leaf))
                outputs.append(("arg", index) if index is not None else ("value", leaf))
            else:
                outputs.append(slot)
        steps, sources = self._live_steps(outputs)
        self._own_gradients(steps, outputs)
        if self.backend is None:  # nothing ran through ops
            return None, "the function runs no tensor ops"
        program = Program(steps, sources, outputs, spec, self.backend, self.zero_dim, self.arrays)
        return program, ""

    def _own_gradients(self, steps: list[Instruction], outputs: list) -> None:
        """A gradient an op made, that nothing else reads and that views no other array,
        becomes `.grad` without a copy (the engine's `owned` case; while tracing, the tracer's
        own references made the engine copy)."""
        readers: dict[int, int] = {}
        made = set()
        for step in steps:
            for slot in step.reads():
                readers[slot] = readers.get(slot, 0) + 1
            if step.kind == "op":
                made.update(step.outputs)
        for slot in outputs:
            if type(slot) is int:
                readers[slot] = readers.get(slot, 0) + 1
        slots_of_array: dict[int, int] = {}  # an op may return its input array itself
        for array in self.arrays:
            slots_of_array[id(array)] = slots_of_array.get(id(array), 0) + 1
        for step in steps:
            if step.kind == "acc":
                slot = step.inputs[0]
                array = self.arrays[slot]
                alone = readers[slot] == 1 and slots_of_array[id(array)] == 1
                if alone and slot in made and array.base is None:
                    step.params = (False,)

    def _live_steps(self, outputs: list) -> tuple[list[Instruction], dict[int, Source]]:
        """Dead code removed: steps whose results nothing needs (no output, no effect)."""
        needed = {slot for slot in outputs if type(slot) is int}
        live = []
        for step in reversed(self.steps):
            if step.kind == "op":
                if not any(slot in needed for slot in step.outputs + step.saved_slots):
                    continue
                kept = [(n, s) for n, s in zip(step.saved, step.saved_slots) if s in needed]
                step.saved = [name for name, _ in kept]
                step.saved_slots = [slot for _, slot in kept]
            elif step.kind == "clone" and step.outputs[0] not in needed:
                continue
            live.append(step)
            needed.update(step.reads())
        live.reverse()
        sources = {slot: s for slot, s in self.sources.items() if slot in needed}
        return live, sources
