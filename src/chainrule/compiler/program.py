"""A captured program: a flat list of instructions over numbered slots, and its replay.

Slots hold raw arrays. A slot is filled either from outside the program (an argument of the
compiled function, a tensor the function reached - a parameter, a buffer, a constant - read
live at each call) or by an instruction: an op's forward, a value its forward saved for its vjp
(a mask), or a leaf's gradient after accumulation. Replay is one generated Python function
(`Program.source`): straight-line calls of each op's `forward` on arrays, with no Tensor, Node
or graph, each slot dropped after its last use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import ForwardContext
from chainrule.backend.float_errors import FLOAT_ERRORS, QUIET
from chainrule.compiler import fusion
from chainrule.func.pytree import LEAF, tree_unflatten
from chainrule.ops.elementwise import AddScalar, MulScalar, Tanh, TanhBackward
from chainrule.ops.op import run_forward_in_float32

# Fast path (docs/how-it-works.md, "Fast paths"): ops whose forward, on float32 or float64
# arrays, is exactly this expression, emitted inline in the replay instead of a call of the
# forward (no call, no ctx.save, no dtype checks). {0}, {1}: the input slots; {p0}: parameter 0.
# The forwards stay the definition; tests/test_compile.py compares replay with eager bit for
# bit. W1 (these four ops only): about 1.4x faster replay.
INLINE_FORMS: dict[type, str] = {
    MulScalar: "{0} * {p0}",
    AddScalar: "{0} + {p0}",
    Tanh: "_tanh({0})",
    TanhBackward: "{0} * (1 - {1} * {1})",
}
# The same, writing into the memory of input {w}, when that input is a buffer of the program
# that nothing reads afterwards (`Program._writable`): no new array. The same ufuncs in the
# same order, so the same bits.
INLINE_OUT_FORMS: dict[tuple[type, int], str] = {
    (MulScalar, 0): "_multiply({0}, {p0}, out={0})",
    (AddScalar, 0): "_add({0}, {p0}, out={0})",
    (Tanh, 0): "_tanh({0}, out={0})",
    (TanhBackward, 1): "_multiply({1}, {1}, out={1}); _subtract(1, {1}, out={1}); "
    "_multiply({0}, {1}, out={1})",
}


class Source:
    """Where an outside slot's array comes from at each call: argument `index` of the
    compiled function's flattened tensor arguments, or the live array of `tensor`."""

    __slots__ = ("index", "tensor")

    def __init__(self, index: int | None, tensor: Any) -> None:
        self.index = index
        self.tensor = tensor

    def describe(self) -> str:
        if self.index is not None:
            return f"argument {self.index}"
        shape = tuple(self.tensor._array.shape)
        return f"tensor {shape} {self.tensor.dtype.name}"


class Instruction:
    """One step of a program. `kind` is one of:
    op      outputs = op.forward(ctx, *inputs, *params); `saved` names forward's saved values
            that later steps read, filled into `saved_slots`
    acc     accumulate the gradient in inputs[0] into the `.grad` of `target` (a Source), as
            the engine's AccumulateGrad does; outputs[0] is the `.grad` array afterwards
    setgrad `target.grad = ` the array in inputs[0] (as a new Tensor), or None without input
    copy   copy inputs[1] into the memory of inputs[0] (an in-place op's commit)
    clone  outputs[0] = a copy of inputs[0] (the old value an in-place op's vjp reads)
    effect  `owner.<name>()`, a call updating arrays outside ops (an optimizer's step)
    """

    __slots__ = (
        "kind",
        "op",
        "params",
        "param_slots",
        "inputs",
        "outputs",
        "saved",
        "saved_slots",
        "target",
        "multi",
        "inline",
        "half",
    )

    def __init__(self, kind: str, inputs: list, outputs: list, op: Any = None) -> None:
        self.kind = kind
        self.op = op
        self.params: tuple = ()
        self.param_slots: dict[int, int] = {}  # an array parameter (a saved mask): its slot
        self.inputs = inputs
        self.outputs = outputs
        self.saved: list[str] = []
        self.saved_slots: list[int] = []
        self.target: Any = None
        self.multi = False  # the op returns a tuple (of one output or more)
        self.inline = False  # emitted as its INLINE_FORMS expression
        self.half = False  # half-precision operands: run as Op.apply does (run_forward_in_float32)

    def reads(self) -> list[int]:
        return [*self.inputs, *self.param_slots.values()]

    def describe(self) -> str:
        ins = ", ".join(_slot_name(slot) for slot in self.inputs)
        outs = ", ".join(_slot_name(slot) for slot in self.outputs + self.saved_slots)
        if self.kind == "op":
            params = "".join(
                f", {_slot_name(self.param_slots[i]) if i in self.param_slots else _short(p)}"
                for i, p in enumerate(self.params)
            )
            return f"{outs} = {self.op.__name__}({ins}{params})"
        if self.kind == "acc":
            return f"{outs} = accumulate_grad({self.target.describe()}, {ins})"
        if self.kind == "setgrad":
            return f"set_grad({self.target.describe()}, {ins or 'None'})"
        if self.kind == "copy":
            return f"copy_into({ins})"
        if self.kind == "clone":
            return f"{outs} = clone({ins})"
        owner, name = self.target
        args = ", ".join(_short(arg) for arg in self.params)
        return f"{type(owner).__name__}.{name}({args})"


def _slot_name(slot: int) -> str:
    return f"s{slot}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _SavingContext:
    """The ctx of a replayed forward whose saved values later steps read: `save` keeps them
    in `saved` for the generated code to take."""

    __slots__ = ("op", "backend", "xp", "saved")

    def __init__(self, op: Any, backend: Any) -> None:
        self.op = op
        self.backend = backend
        self.xp = backend.xp
        self.saved: dict | None = None

    def save(self, **values: Any) -> None:
        if self.saved is None:
            self.saved = values
        else:
            self.saved.update(values)

    @property
    def _saved(self) -> dict | None:
        """`saved` under Node's name, which run_forward_in_float32 reads to round saves."""
        return self.saved


def _accumulate(target: Tensor, array: Any, backend: Any, copy: bool) -> Any:
    """The engine's AccumulateGrad on raw arrays: the first gradient becomes `.grad` (copied
    where the engine copied it, because something else held it), later ones are added in
    place."""
    current = target._grad
    if current is None:
        target._grad = Tensor._from_array(array.copy() if copy else array, backend)
        return array
    current._array += array
    return current._array


def _set_grad(target: Tensor, array: Any, backend: Any) -> None:
    target._grad = None if array is None else Tensor._from_array(array, backend)


class Program:
    """A captured program and its replay. `print(program)` lists its steps."""

    def __init__(
        self,
        instructions: list[Instruction],
        sources: dict[int, Source],
        output_slots: list,
        output_spec: Any,
        backend: Any,
        zero_dim: set[int],
        arrays: list | None = None,
    ) -> None:
        self.instructions = instructions
        self.sources = sources
        # A slot; ("arg", i) for an argument returned as it is; ("value", v) for anything else
        # (a tensor the function reached and returned, a Python value)
        self.output_slots = output_slots
        self.output_spec = output_spec
        self.backend = backend
        self.zero_dim = zero_dim
        self.fused_groups: list = []  # runs of elementwise steps evaluated by numba
        self.source, self._replay = self._generate(arrays)

    # ---- code generation -------------------------------------------------------------------
    def _generate(self, arrays: list | None) -> tuple[str, Callable]:
        namespace: dict[str, Any] = {
            "_accumulate": _accumulate,
            "_set_grad": _set_grad,
            "_asarray": self.backend.xp.asarray,
            "_copyto": self.backend.xp.copyto,
            "_empty": self.backend.xp.empty,
            "_backend": self.backend,
            "_tanh": self.backend.xp.tanh,
            "_multiply": self.backend.xp.multiply,
            "_add": self.backend.xp.add,
            "_subtract": self.backend.xp.subtract,
            "_half_forward": run_forward_in_float32,
        }
        last_use = self._last_uses()
        self._reuse = self._writable(arrays, last_use) if arrays is not None else {}
        groups, banks, row_only = self._fuse(arrays)
        group_of = {number: group for group in groups for number in group.numbers}
        if groups:
            namespace["_run_code"] = self._run_code
        lines = ["def replay(A, T):"]
        for slot, source in sorted(self.sources.items()):
            if source.index is not None:
                lines.append(f"    s{slot} = A[{source.index}]")
            else:
                namespace[f"t{slot}"] = source.tensor
                lines.append(f"    s{slot} = t{slot}._array")
        dead: list[str] = []
        for number, step in enumerate(self.instructions):
            group = group_of.get(number)
            if group is None:
                lines.extend(self._emit(number, step, namespace))
            elif number == group.last:
                lines.extend(self._emit_group(group, namespace))
            dead.extend(
                f"s{slot}"
                for slot, last in last_use.items()
                if last == number and slot not in row_only
            )
            for bank in banks:
                if bank.last == number:
                    dead.append(bank.name)
            if dead and (group is None or number == group.last):
                lines.append(f"    del {', '.join(sorted(dead))}")
                dead = []
        outputs = [f"s{slot}" for slot in self.output_slots if type(slot) is int]
        lines.append(f"    return ({', '.join(outputs)}{',' if outputs else ''})")
        source = "\n".join(lines) + "\n"
        exec(compile(source, "<chainrule.compile program>", "exec"), namespace)  # noqa: S102
        return source, namespace["replay"]

    def _fuse(self, arrays: list | None) -> tuple[list, list, set[int]]:
        """Runs of elementwise steps evaluated by numba (compiler/fusion.py), when it is
        installed and the arrays are in host memory: the groups, their banks, and the slots
        that live only in a bank's rows."""
        if not (fusion.JIT and self.backend.host_memory and arrays):
            return [], [], set()
        if not fusion.find_groups(self.instructions, arrays, self.zero_dim):
            return [], [], set()  # numba is imported only when there is something to fuse
        numba = fusion.numba_module()
        if numba is None:
            return [], [], set()
        returned = {slot for slot in self.output_slots if type(slot) is int}
        xp = self.backend.xp
        groups, banks, row_only = fusion.plan(
            self.instructions, arrays, self.zero_dim, returned, xp
        )
        if groups:
            self._run_code = fusion.compiled_run_code(numba, groups, banks, xp)
        self.fused_groups = groups
        return groups, banks, row_only

    def _emit_group(self, group: Any, namespace: dict) -> list[str]:
        bank = group.bank
        name = bank.name
        flat = len(bank.shape) == 1
        number = group.last
        namespace[f"code{number}"] = group.code_array
        namespace[f"consts{number}"] = group.consts_array
        lines = []
        if group.numbers[0] == bank.first:
            namespace[f"{name}_dtype"] = bank.dtype
            lines.append(f"    {name} = _empty(({bank.rows}, {bank.size}), {name}_dtype)")
        for slot, row in group.loads:
            value = f"s{slot}" if flat else f"s{slot}.reshape(-1)"
            lines.append(f"    {name}[{row}] = {value}")
        lines.append(f"    _run_code(code{number}, consts{number}, {name})")
        for slot, row in group.stores:
            view = f"{name}[{row}]" if flat else f"{name}[{row}].reshape({bank.shape!r})"
            lines.append(f"    s{slot} = {view}")
        return lines

    def _writable(self, arrays: list, last_use: dict[int, int]) -> dict[int, int]:
        """Buffer reuse by liveness, for the inline forms: instruction number -> the input
        (by position) whose memory it may write its result into. That input is an array an op
        of this program made (not an argument, parameter or anything from outside), that no
        other slot holds or views, that no step other than an op reads (not a `.grad`, not
        copied), that the program does not return, and whose last reader is this step."""
        views = {id(array.base) for array in arrays if array.base is not None}
        holders: dict[int, int] = {}
        for array in arrays:
            holders[id(array)] = holders.get(id(array), 0) + 1
        made: set[int] = set()
        kept = {slot for slot in self.output_slots if type(slot) is int} | self.zero_dim
        for step in self.instructions:
            if step.kind == "op":
                made.update(step.outputs)
                kept.update(step.saved_slots)
            else:
                kept.update(step.reads())
        writable = {}
        for number, step in enumerate(self.instructions):
            if step.kind != "op" or not step.inline or len(set(step.inputs)) != len(step.inputs):
                continue
            for position, slot in enumerate(step.inputs):
                array = arrays[slot]
                if (
                    (step.op, position) in INLINE_OUT_FORMS
                    and slot in made
                    and slot not in kept
                    and last_use.get(slot) == number
                    and array.base is None
                    and id(array) not in views
                    and holders[id(array)] == 1
                    and getattr(array.flags, "writeable", True)  # CuPy's have no flag
                ):
                    writable[number] = position
                    break
        return writable

    def _emit(self, number: int, step: Instruction, namespace: dict) -> list[str]:
        ins = [f"s{slot}" for slot in step.inputs]
        if step.kind == "op" and step.inline:
            names = {f"p{index}": f"p{number}_{index}" for index in range(len(step.params))}
            for index, param in enumerate(step.params):
                namespace[f"p{number}_{index}"] = param
            position = self._reuse.get(number)
            if position is not None:
                form = INLINE_OUT_FORMS[(step.op, position)].format(*ins, **names)
                return [f"    {form}", f"    s{step.outputs[0]} = {ins[position]}"]
            lines = [f"    s{step.outputs[0]} = {INLINE_FORMS[step.op].format(*ins, **names)}"]
            if step.outputs[0] in self.zero_dim:
                lines.append(f"    s{step.outputs[0]} = _asarray(s{step.outputs[0]})")
            return lines
        if step.kind == "op":
            forward = f"f{number}"
            namespace[forward] = step.op.forward
            context = f"c{number}"
            saving = bool(step.saved)
            maker = _SavingContext if saving else ForwardContext
            namespace[context] = maker(step.op, self.backend)
            args = [context, *ins]
            for index, param in enumerate(step.params):
                if index in step.param_slots:
                    args.append(f"s{step.param_slots[index]}")
                    continue
                name = f"p{number}_{index}"
                namespace[name] = param
                args.append(name)
            outs = [f"s{slot}" for slot in step.outputs]
            target = "(" + ", ".join(outs) + ",)" if step.multi else outs[0]
            if step.half:  # widened to float32 and rounded once, as Op.apply does
                namespace[forward] = step.op
                operands = "".join(f"{name}, " for name in ins)
                params = "".join(f"{name}, " for name in args[1 + len(ins) :])
                call = f"_half_forward({context}, {forward}, ({operands}), ({params}))"
                lines = [f"    {target} = {call}"]
            else:
                lines = [f"    {target} = {forward}({', '.join(args)})"]
            for slot in step.outputs:
                if slot in self.zero_dim:  # NumPy gives scalars from 0-d math
                    lines.append(f"    s{slot} = _asarray(s{slot})")
            for name, slot in zip(step.saved, step.saved_slots):
                lines.append(f"    s{slot} = _asarray({context}.saved[{name!r}])")
            if saving:
                lines.append(f"    {context}.saved = None")
            return lines
        if step.kind in ("acc", "setgrad"):
            target = f"g{number}"
            namespace[target] = step.target.tensor
            if step.target.index is not None:  # an argument: this call's tensor
                target = f"T[{step.target.index}]"
            value = ins[0] if ins else "None"
            if step.kind == "acc":
                copy = step.params[0]
                out = f"s{step.outputs[0]}"
                return [f"    {out} = _accumulate({target}, {value}, _backend, {copy})"]
            return [f"    _set_grad({target}, {value}, _backend)"]
        if step.kind == "clone":
            return [f"    s{step.outputs[0]} = {ins[0]}.copy()"]
        if step.kind == "copy":
            return [f'    _copyto({ins[0]}, {ins[1]}, casting="unsafe")']
        owner, name = step.target
        namespace[f"o{number}"] = owner
        args = []
        for index, arg in enumerate(step.params):
            namespace[f"p{number}_{index}"] = arg
            args.append(f"p{number}_{index}")
        return [f"    o{number}.{name}({', '.join(args)})"]

    def _last_uses(self) -> dict[int, int]:
        last: dict[int, int] = {}
        kept = {slot for slot in self.output_slots if type(slot) is int}
        for number, step in enumerate(self.instructions):
            for slot in (*step.reads(), *step.outputs, *step.saved_slots):
                last[slot] = number
        for slot in self.sources:
            last.setdefault(slot, -1)
        return {slot: n for slot, n in last.items() if slot not in kept and n >= 0}

    # ---- running ---------------------------------------------------------------------------
    def run(self, tensors: list) -> Any:
        """Replay on the flattened tensor arguments `tensors`; the function's result."""
        arrays = [t._array for t in tensors]
        quiet = None
        if FLOAT_ERRORS.get() is not QUIET:  # inf and nan without warnings, as eager
            quiet = FLOAT_ERRORS.set(QUIET)
        try:
            results = self._replay(arrays, tensors)
        finally:
            if quiet is not None:
                FLOAT_ERRORS.reset(quiet)
        leaves = []
        position = 0
        backend = self.backend
        for slot in self.output_slots:
            if type(slot) is int:
                leaves.append(Tensor._from_array(results[position], backend))
                position += 1
            elif slot[0] == "arg":
                leaves.append(tensors[slot[1]])
            else:
                leaves.append(slot[1])
        if self.output_spec is LEAF:
            return leaves[0]
        return tree_unflatten(leaves, self.output_spec)

    def __str__(self) -> str:
        lines = [f"program: {len(self.instructions)} steps"]
        for slot, source in sorted(self.sources.items()):
            lines.append(f"  s{slot} <- {source.describe()}")
        lines.extend(f"  {step.describe()}" for step in self.instructions)
        outputs = ", ".join(
            f"s{slot}" if type(slot) is int else repr(slot[1]) for slot in self.output_slots
        )
        lines.append(f"  return {outputs}")
        return "\n".join(lines)
