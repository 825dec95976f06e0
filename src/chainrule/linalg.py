"""chainrule.linalg: PyTorch's `torch.linalg` namespace.

The functions live with the other linear-algebra ops in chainrule.ops.linalg (and vector_norm
with the reductions); this module only gives them their torch.linalg names.

>>> import chainrule
>>> import chainrule.linalg
>>> chainrule.linalg.det(2 * chainrule.eye(3))
tensor(8.)
"""

from chainrule.ops.linalg import (
    LinAlgError,
    cholesky,
    det,
    inv,
    matmul,
    matrix_norm,
    matrix_power,
    multi_dot,
    slogdet,
    solve,
    solve_triangular,
    vecdot,
)
from chainrule.ops.linalg import linalg_cross as cross
from chainrule.ops.linalg import linalg_diagonal as diagonal
from chainrule.ops.linalg import linalg_norm as norm
from chainrule.ops.reduction import vector_norm

__all__ = [
    "LinAlgError",
    "cholesky",
    "cross",
    "det",
    "diagonal",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "multi_dot",
    "norm",
    "slogdet",
    "solve",
    "solve_triangular",
    "vecdot",
    "vector_norm",
]
