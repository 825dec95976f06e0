"""The types in chainrule.numpy's signatures, as NumPy's own `numpy.typing` names them.

A stub (.pyi) with no module beside it: type checkers and editors read it, Python never imports
it. The function modules import these under `TYPE_CHECKING` only (their annotations are strings
at run time, so `help()` shows `ArrayLike`, and no typing helper leaks into the namespace).
Being a stub is what lets them name `ndarray`: its class (_ndarray.py) sits above the function
modules, whose functions its methods call, so a module Python could import here would close an
import cycle (tests/test_layering.py counts the imports under `TYPE_CHECKING` too).
tests/test_numpy_typing.py runs this stub to resolve every exported signature against it.

- `ArrayLike`: what NumPy accepts as an array (NumPy arrays and scalars, Python numbers, nested
  sequences, anything with `__array__`) and chainrule Tensors, `chainrule.numpy.ndarray`
  included.
- `DTypeLike`: what `numpy.dtype()` accepts (`float`, `"float32"`, `np.int64`, ...) and
  chainrule's dtypes (`chainrule.float32`).
- `ndarray`: the type of every result, `chainrule.numpy.ndarray` (a Tensor that behaves as a
  NumPy array).
"""

from typing import TypeAlias

import numpy.typing as npt

from chainrule._tensor import Tensor
from chainrule.backend.dtypes import dtype as _chainrule_dtype
from chainrule.numpy._core import _NoValueType
from chainrule.numpy._ndarray import ndarray

ArrayLike: TypeAlias = Tensor | npt.ArrayLike
DTypeLike: TypeAlias = _chainrule_dtype | npt.DTypeLike
NoValue: TypeAlias = _NoValueType  # the default of an argument whose None means something

__all__ = ["ArrayLike", "DTypeLike", "NoValue", "ndarray"]
