"""Elementwise fusion for a compiled replay: runs of elementwise steps on arrays of one shape
and dtype are evaluated by one call of a small JIT-compiled interpreter (numba, the optional
`chainrule[fast]` extra), instead of one NumPy call, and one new array, per step.

A *group* is a run of MIN_STEPS or more consecutive steps in the program, each an op of
`OPCODES` on float32 or float64 arrays whose inputs and output share one shape and dtype, with
plain Python numbers as parameters, nothing saved and no 0-d array. Because a group is a run
of consecutive steps, evaluating it where its last step stood keeps every read after its
write.

The values of all groups of one shape and dtype live as rows of one *bank*, a 2-D array
allocated once per replay; a row is reused once its value is dead (linear scan in program
order), so a chain of 200 steps needs a handful of rows. A value that a step outside the
groups reads (or the program returns) keeps its row, and that step reads a view of it. The
interpreter (`run_code`, compiled once per dtype and cached on disk by numba) walks the
group's code over blocks of elements, so a block's rows stay in the L1 cache.

Rounding: the arithmetic (+, -, *, /, negation, TanhBackward's `g * (1 - t * t)`) is the same
IEEE operations in the same order as the ops' NumPy forwards, so it is bit for bit; `tanh` is
the C library's `tanhf`/`tanh`, which may differ from NumPy's own SIMD `tanh` in the last
place (tests/test_compile_fusion.py compares with a tolerance there).

Without numba (or with `CHAINRULE_JIT=0` in the environment, or `fusion.JIT = False`), replay
is the plain one of `program.py`, bit for bit with eager.
"""

from __future__ import annotations

import math
import os
from typing import Any

from chainrule.ops.elementwise import (
    Add,
    AddScalar,
    DivScalar,
    Mul,
    MulScalar,
    Neg,
    Sub,
    SubScalar,
    Tanh,
    TanhBackward,
)

# Whether replay fuses with numba when it is installed. The environment variable is read
# once, at import; tests and users may set the attribute.
JIT = os.environ.get("CHAINRULE_JIT", "1") != "0"

# The interpreter's instructions: each op's forward on one element, as `run_code` spells it
# (d: the output row, a and b: the input rows, c: the constant in the group's dtype, as NumPy
# casts a Python number next to a float32 array). Each must do what the op's forward does on
# float32 and float64 arrays, in the same order (tests/test_compile_fusion.py checks them).
OPCODES: dict[type, int] = {
    MulScalar: 0,  # a * c
    DivScalar: 1,  # a / c
    AddScalar: 2,  # a + c
    SubScalar: 3,  # a - c
    Add: 4,  # a + b
    Sub: 5,  # a - b
    Mul: 6,  # a * b
    Neg: 7,  # -a
    Tanh: 8,  # tanh(a)
    TanhBackward: 9,  # a * (c - b * b), c = 1
}
BLOCK = 512  # elements per pass of a group's code
# The fewest steps a run needs to be fused: a run of two saves one NumPy call and one array,
# not worth numba's import (0.3-0.5 s, once per process) in a program that has nothing else
# (W7's only run is two steps).
MIN_STEPS = 3


def run_code(code: Any, consts: Any, regs: Any) -> None:
    """Run a group's instructions (rows of `code`: opcode, output row, input rows; `consts`:
    one constant each) over the rows of `regs`, a block of elements at a time."""
    size = regs.shape[1]
    for start in range(0, size, BLOCK):
        stop = min(start + BLOCK, size)
        for k in range(code.shape[0]):
            op = code[k, 0]
            d = regs[code[k, 1]]
            a = regs[code[k, 2]]
            b = regs[code[k, 3]]
            c = consts[k]
            if op == 0:
                for i in range(start, stop):
                    d[i] = a[i] * c
            elif op == 1:
                for i in range(start, stop):
                    d[i] = a[i] / c
            elif op == 2:
                for i in range(start, stop):
                    d[i] = a[i] + c
            elif op == 3:
                for i in range(start, stop):
                    d[i] = a[i] - c
            elif op == 4:
                for i in range(start, stop):
                    d[i] = a[i] + b[i]
            elif op == 5:
                for i in range(start, stop):
                    d[i] = a[i] - b[i]
            elif op == 6:
                for i in range(start, stop):
                    d[i] = a[i] * b[i]
            elif op == 7:
                for i in range(start, stop):
                    d[i] = -a[i]
            elif op == 8:
                for i in range(start, stop):
                    d[i] = math.tanh(a[i])
            else:
                for i in range(start, stop):
                    d[i] = a[i] * (c - b[i] * b[i])


_numba: Any = None  # the module, once imported; False when it is not installed


def numba_module() -> Any:
    """numba, or None when it is not installed or JIT is off."""
    global _numba
    if not JIT:
        return None
    if _numba is None:
        try:
            import numba
        except ImportError:
            _numba = False
        else:
            _numba = numba
    return _numba or None


def fusable(step: Any, arrays: list, zero_dim: set[int]) -> tuple | None:
    """(shape, dtype) of an op step that a group may take in, else None. `arrays` are the
    traced arrays by slot."""
    if step.kind != "op" or step.op not in OPCODES or step.multi:
        return None
    if step.saved or step.param_slots:
        return None
    if not all(type(p) in (int, float) for p in step.params):
        return None
    slots = step.inputs + step.outputs
    if any(slot in zero_dim for slot in slots):
        return None
    first = arrays[slots[0]]
    if first.dtype.char not in "fd":
        return None
    for slot in slots:
        array = arrays[slot]
        if array.shape != first.shape or array.dtype != first.dtype:
            return None
    return first.shape, first.dtype


def find_groups(instructions: list, arrays: list, zero_dim: set[int]) -> list[list[int]]:
    """Runs of at least MIN_STEPS consecutive fusable steps of one shape and dtype, as lists
    of instruction numbers."""
    groups: list[list[int]] = []
    current: list[int] = []
    key = None
    for number, step in enumerate(instructions):
        this = fusable(step, arrays, zero_dim)
        if this is not None and this == key:
            current.append(number)
            continue
        if len(current) >= MIN_STEPS:
            groups.append(current)
        current, key = ([number], this) if this is not None else ([], None)
    if len(current) >= MIN_STEPS:
        groups.append(current)
    return groups


class Bank:
    """The rows of one shape and dtype that the groups' values live in."""

    def __init__(self, name: str, shape: tuple, dtype: Any) -> None:
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.size = math.prod(shape)
        self.rows = 0
        self.free: list[int] = []
        self.row_of: dict[int, int] = {}  # slot -> row
        self.first = self.last = -1  # the first and last group (instruction numbers) using it

    def take(self) -> int:
        if self.free:
            return self.free.pop()
        self.rows += 1
        return self.rows - 1


class Group:
    """One group's call: rows to fill from arrays first (`loads`: slot, row), its code and
    constants, and the rows that steps outside the groups read afterwards (`stores`)."""

    def __init__(self, bank: Bank, numbers: list[int]) -> None:
        self.bank = bank
        self.numbers = numbers
        self.last = numbers[-1]  # the instruction number where the call is emitted
        self.loads: list[tuple[int, int]] = []
        self.stores: list[tuple[int, int]] = []
        self.code: list[tuple[int, int, int, int]] = []
        self.consts: list[float] = []
        self.code_array: Any = None
        self.consts_array: Any = None


def plan(instructions: list, arrays: list, zero_dim: set[int], returned: set[int], xp: Any):
    """The groups of `instructions`, their banks, and the slots that live only in rows (no
    array of their own in the replay). `returned`: slots the program returns."""
    numbers_of = find_groups(instructions, arrays, zero_dim)
    in_group: dict[int, int] = {}  # instruction number -> index of its group
    for index, numbers in enumerate(numbers_of):
        for number in numbers:
            in_group[number] = index
    kernel_reads: dict[int, int] = {}  # slot -> the last grouped instruction reading it
    outside: set[int] = set(returned)  # slots read by steps outside the groups
    for number, step in enumerate(instructions):
        for slot in step.reads():
            if number in in_group:
                kernel_reads[slot] = number
            else:
                outside.add(slot)
    banks: dict[tuple, Bank] = {}
    groups: list[Group] = []
    row_only: set[int] = set()
    for numbers in numbers_of:
        first = instructions[numbers[0]]
        key = fusable(first, arrays, zero_dim)
        bank = banks.get(key)
        if bank is None:
            bank = banks[key] = Bank(f"R{len(banks)}", *key)
            bank.first = numbers[0]
        bank.last = numbers[-1]
        group = Group(bank, numbers)
        made = {slot for n in numbers for slot in instructions[n].outputs}
        for n in numbers:  # values from outside the groups: copied into rows first, afresh
            for slot in instructions[n].inputs:  # for each group (a step between may write)
                if slot not in made and slot not in bank.row_of:
                    bank.row_of[slot] = row = bank.take()
                    group.loads.append((slot, row))
        loads = {slot for slot, _ in group.loads}
        for n in numbers:
            step = instructions[n]
            rows = [bank.row_of[slot] for slot in step.inputs]
            for slot in set(step.inputs):  # dead after this step: its row is free again
                if kernel_reads.get(slot) == n and slot not in outside and slot not in loads:
                    bank.free.append(bank.row_of[slot])
            (out,) = step.outputs
            bank.row_of[out] = row = bank.take()
            if kernel_reads.get(out, -1) <= n and out not in outside:
                bank.free.append(row)  # nothing reads it
            constant = 1.0 if step.op is TanhBackward else (step.params or (0,))[0]
            group.code.append((OPCODES[step.op], row, rows[0], rows[-1]))
            group.consts.append(constant)
            if out in outside:
                group.stores.append((out, row))
            else:
                row_only.add(out)
        for slot, row in group.loads:  # the copies live for this group only
            del bank.row_of[slot]
            bank.free.append(row)
        group.code_array = xp.asarray(group.code, dtype="int64").reshape(-1, 4)
        group.consts_array = xp.asarray(group.consts, dtype=bank.dtype)
        groups.append(group)
    return groups, list(banks.values()), row_only


_compiled: dict[str, Any] = {}  # "run_code": the numba dispatcher, built once per process


def compiled_run_code(numba: Any, groups: list, banks: list, xp: Any) -> Any:
    """`run_code` compiled by numba (loaded from numba's on-disk cache after the first
    process), for the dtypes of `banks`. NumPy's error model: x / 0 is inf or nan, as in the
    ops' forwards, not Python's ZeroDivisionError."""
    function = _compiled.get("run_code")
    if function is None:
        function = numba.njit(cache=True, nogil=True, error_model="numpy")(run_code)
        _compiled["run_code"] = function
    for bank in banks:  # compile (or load) now: the first replay should not pay for it
        group = next(g for g in groups if g.bank is bank)
        regs = xp.empty((1, 1), bank.dtype)
        function.compile(
            (numba.typeof(group.code_array), numba.typeof(group.consts_array), numba.typeof(regs))
        )
    return function
