"""The types of the public signatures, defined once: PyTorch's stubs' `_size`, `_int_or_tuple`
and friends, and the classes that annotations name across the layers.

A stub (.pyi) with no module beside it: type checkers and editors read it, Python never imports
it. Every module that uses these names imports them under `TYPE_CHECKING` (their annotations
are strings at run time, `from __future__ import annotations`), so they cost nothing, and a
module may name a class that sits above it here (`Tensor` in the autograd core, the methods
table `TensorMethods` as Tensor's static base) without an import that Python runs or that the
layering counts: tests/test_layering.py checks that the modules' imports, those under
`TYPE_CHECKING` included, form no cycle.

The named tuples at the bottom exist for static tools only: the ops return PyTorch's
`return_types.sort` and friends, made at run time (ops/reduction.py), which have exactly these
fields.
"""

from collections.abc import Sequence
from types import EllipsisType
from typing import NamedTuple, TypeAlias, TypeVar

# Named across the layers (re-exported: `import ... as` is a stub's export).
from chainrule._tensor import Tensor as Tensor
from chainrule.ops.tensor_methods import TensorMethods as TensorMethods

# A Python scalar beside a Tensor (the same as ops/arguments.py's Number).
Number: TypeAlias = int | float | bool | complex

# One int for every spatial dimension, or one per dimension: kernel_size=3 or (3, 5).
IntOrSequence: TypeAlias = int | Sequence[int]

# The same for floats: scale_factor=2.0 or (2.0, 1.5).
FloatOrSequence: TypeAlias = float | Sequence[float]

# A dimension or several: dim=1, dim=(0, 2).
Dims: TypeAlias = int | Sequence[int]

# A list of split points or a number of sections (tensor_split, hsplit ...).
Sections: TypeAlias = int | Sequence[int]

# What an optimizer's closure returns (a loss Tensor, a float): Optimizer.step gives it back as it
# is, so `loss = optimizer.step(closure)` keeps its type.
ClosureResult = TypeVar("ClosureResult")

# Tensor's methods named int, float and bool hide the builtins inside the class body that
# defines them (ops/tensor_methods.py), where a static tool would read `dim: int` as the method:
# annotations there say _int, _float and _bool instead, as PyTorch's own stubs do.
_int: TypeAlias = int
_float: TypeAlias = float
_bool: TypeAlias = bool

# What `x[key]` and `x[key] = value` take: an int, a slice, `...`, None (a new axis), an index
# or bool Tensor, a list of ints or bools, or a tuple of those, one per dimension.
_KeyPart: TypeAlias = int | slice | EllipsisType | None | Tensor | Sequence[int | bool]
IndexKey: TypeAlias = _KeyPart | tuple[_KeyPart, ...]

# What a module's backward hooks take and may return: its gradients (PyTorch's _grad_t).
Grads: TypeAlias = tuple[Tensor, ...] | Tensor

class ValuesIndices(NamedTuple):
    """return_types.max, min, sort, topk, kthvalue, median, cummax ...: (values, indices)."""

    values: Tensor
    indices: Tensor

class MinMax(NamedTuple):
    """return_types.aminmax: (min, max)."""

    min: Tensor
    max: Tensor
