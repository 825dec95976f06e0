"""chainrule.numpy: NumPy's names over chainrule ops, for differentiating NumPy-style code
(what HIPS autograd's `autograd.numpy` is to autograd).

Every function accepts NumPy arrays, Python numbers, nested lists and chainrule Tensors, in any
mixture, and returns Tensors. Arguments, defaults, dtypes and broadcasting are NumPy's
(`axis`, `keepdims`, `ddof=0`, float64 for Python floats, int / int -> float64), not
PyTorch's. The supported names are listed, with the differences from NumPy, in docs/numpy.md.

>>> import numpy as np
>>> import chainrule.numpy as cnp
>>> from chainrule.func import grad
>>> grad(lambda x: cnp.sum(cnp.tanh(x) ** 2))(np.zeros(3))
array([0., 0., 0.])
>>> cnp.mean(np.array([1, 2])).dtype   # NumPy's float64 for integer input
chainrule.float64
"""

import numpy as _np

from chainrule.numpy import linalg, random  # noqa: F401 - listed in __all__ below
from chainrule.numpy._creation import *  # noqa: F403 - each module lists its names in __all__
from chainrule.numpy._creation import __all__ as _creation_names
from chainrule.numpy._math import *  # noqa: F403
from chainrule.numpy._math import __all__ as _math_names
from chainrule.numpy._math import abs, round  # noqa: A004, F401 - NumPy's names
from chainrule.numpy._products import *  # noqa: F403
from chainrule.numpy._products import __all__ as _product_names
from chainrule.numpy._reductions import *  # noqa: F403
from chainrule.numpy._reductions import __all__ as _reduction_names
from chainrule.numpy._reductions import all, any, max, min, sum  # noqa: A004, F401
from chainrule.numpy._shape import *  # noqa: F403
from chainrule.numpy._shape import __all__ as _shape_names

# ---- constants and dtypes: NumPy's own objects, so `dtype=cnp.float32` means NumPy's float32

pi = _np.pi
e = _np.e
euler_gamma = _np.euler_gamma
inf = _np.inf
nan = _np.nan
newaxis = None
float16 = _np.float16
float32 = _np.float32
float64 = _np.float64
int8 = _np.int8
int16 = _np.int16
int32 = _np.int32
int64 = _np.int64
uint8 = _np.uint8
bool_ = _np.bool_
dtype = _np.dtype
finfo = _np.finfo
iinfo = _np.iinfo

_CONSTANTS = [
    "bool_",
    "dtype",
    "e",
    "euler_gamma",
    "finfo",
    "float16",
    "float32",
    "float64",
    "iinfo",
    "inf",
    "int16",
    "int32",
    "int64",
    "int8",
    "linalg",
    "nan",
    "newaxis",
    "pi",
    "random",
    "uint8",
]

__all__ = sorted(
    [
        *_creation_names,
        *_math_names,
        *_product_names,
        *_reduction_names,
        *_shape_names,
        *_CONSTANTS,
    ]
)
