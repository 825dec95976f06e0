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
dtype('float64')
"""

from chainrule.numpy import linalg, random  # noqa: F401 - listed in __all__ below
from chainrule.numpy._constants import *  # noqa: F403 - each module lists its names in __all__
from chainrule.numpy._constants import __all__ as _constant_names
from chainrule.numpy._creation import *  # noqa: F403
from chainrule.numpy._creation import __all__ as _creation_names
from chainrule.numpy._math import *  # noqa: F403
from chainrule.numpy._math import __all__ as _math_names
from chainrule.numpy._math import abs, round  # noqa: A004, F401 - NumPy's names
from chainrule.numpy._ndarray import ResultsAsArrays, ndarray, register_for_dispatch  # noqa: F401
from chainrule.numpy._ndarray import returns_ndarrays as _returns_ndarrays
from chainrule.numpy._numeric import *  # noqa: F403
from chainrule.numpy._numeric import __all__ as _numeric_names
from chainrule.numpy._primitive import *  # noqa: F403
from chainrule.numpy._primitive import __all__ as _primitive_names
from chainrule.numpy._products import *  # noqa: F403
from chainrule.numpy._products import __all__ as _product_names
from chainrule.numpy._reductions import *  # noqa: F403
from chainrule.numpy._reductions import __all__ as _reduction_names
from chainrule.numpy._reductions import all, any, max, min, sum  # noqa: A004, F401
from chainrule.numpy._shape import *  # noqa: F403
from chainrule.numpy._shape import __all__ as _shape_names

__all__ = sorted(
    [
        *_constant_names,
        *_creation_names,
        *_math_names,
        *_numeric_names,
        *_primitive_names,
        *_product_names,
        *_reduction_names,
        *_shape_names,
        "linalg",
        "ndarray",
        "random",
    ]
)

# The namespace's surface: every function returns ndarrays (NumPy-behaving Tensors), and
# NumPy's own functions called on an ndarray run these (docs/numpy.md, "The rule").
_function_names = [
    *_creation_names,
    *_math_names,
    *_numeric_names,
    *_product_names,
    *_reduction_names,
    *_shape_names,
]
for _name in _function_names:
    _value = globals()[_name]
    if _name in ("r_", "c_"):
        globals()[_name] = ResultsAsArrays(_value)
    elif callable(_value):
        globals()[_name] = _returns_ndarrays(_value)
register_for_dispatch(
    {name: globals()[name] for name in _function_names if name not in ("r_", "c_")},
    {name: getattr(linalg, name) for name in linalg.__all__ if name != "LinAlgError"},
)
