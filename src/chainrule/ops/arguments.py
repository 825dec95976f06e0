"""PyTorch's argument conventions for sizes and dimensions, shared by Tensor and every op family:
`(2, 3)`, `((2, 3),)` and `([2, 3],)` are one size; a dim may count from the end. Plain Python,
no arrays, so it sits below the Tensor class.
"""

from __future__ import annotations

import sys
from collections import namedtuple
from collections.abc import Sequence
from typing import Any, TypeAlias

from chainrule.backend.dtypes import display_namespace
from chainrule.errors import ShapeError

# A Python scalar where PyTorch's signatures say `Number` (an operand beside a Tensor, a fill
# value, a bound): the one alias of the public annotations, so they read as PyTorch's do.
Number: TypeAlias = int | float | bool | complex


def normalize_size(args: Sequence[Any]) -> tuple[int, ...]:
    """(2, 3), ((2, 3),) and ([2, 3],) all mean the shape (2, 3), as PyTorch's size args."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


def size_by_keyword(op_name: str, keyword: str, args: tuple, keywords: dict) -> tuple:
    """The size arguments of a varargs method given PyTorch's keyword form instead:
    `x.reshape(shape=(2, 3))`, `x.view(size=...)`, `x.permute(dims=...)`. PyTorch's bindings
    take one sequence there (never a bare int) and refuse a keyword also given positionally."""
    if keyword in keywords:
        if args:
            raise TypeError(f"{op_name}() got multiple values for argument '{keyword}'")
        value = keywords[keyword]
        if not isinstance(value, (tuple, list)):
            raise TypeError(
                f"{op_name}(): argument '{keyword}' must be tuple of ints, not "
                f"{type(value).__name__}"
            )
        args = (value,)
    unknown = sorted(keywords.keys() - {keyword})
    if unknown:
        raise TypeError(f"{op_name}() got an unexpected keyword argument '{unknown[0]}'")
    if not args:
        raise TypeError(f'{op_name}() missing 1 required positional arguments: "{keyword}"')
    return args


def normalize_dim(op_name: str, dim: int, ndim: int) -> int:
    """A dimension in [-ndim, ndim) as a non-negative index (0-dim tensors accept 0 and -1)."""
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(
            f"{op_name}: Dimension out of range (expected to be in range of [{-bound}, "
            f"{bound - 1}], but got {dim})"
        )
    return dim % bound if ndim else 0


def normalize_dims(op_name: str, dims: Any, ndim: int) -> tuple[int, ...]:
    if isinstance(dims, int):
        dims = (dims,)
    result = tuple(normalize_dim(op_name, d, ndim) for d in dims)
    if len(set(result)) != len(result):
        raise ShapeError(f"{op_name}: dim {tuple(dims)} appears multiple times in the list of dims")
    return result


def require_dims(op_name: str, dim: int, ndim: int) -> int:
    """Like normalize_dim, for ops that need a real dimension (none exists on a 0-dim tensor)."""
    if ndim == 0:
        raise IndexError(f"{op_name}: Dimension specified as {dim} but tensor has no dimensions")
    return normalize_dim(op_name, dim, ndim)


def numpy_keywords(
    op_name: str, dim: Any, keepdim: Any, axis: Any, keepdims: Any
) -> tuple[Any, Any]:
    """NumPy's spellings, which PyTorch accepts too: `axis=` for `dim=`, `keepdims=` for
    `keepdim=` (the alias wins over a default). Called only when one of them was given."""
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, keepdim


def return_type(name: str, fields: Sequence[str]) -> type:
    """A named tuple standing for PyTorch's `torch.return_types.<name>` (what `max(dim=...)`,
    `sort`, `linalg.qr`... return), printed as PyTorch prints one: a field a line,
    `chainrule.return_types.max(\nvalues=tensor(...),\nindices=tensor(...))` (`torch.` under
    chainrule.as_torch). Pickled by reference, as `return_types.<name>` of the caller's module."""
    result = namedtuple(name, fields, module=sys._getframe(1).f_globals.get("__name__"))

    def __repr__(self: tuple) -> str:  # noqa: N807 - the method's name
        items = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
        return f"{display_namespace()}.return_types.{name}(\n{items})"

    result.__repr__ = __repr__
    result.__qualname__ = f"return_types.{name}"
    return result
