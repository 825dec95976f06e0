"""chainrule.linalg: PyTorch's `torch.linalg` namespace.

The functions live with the other linear-algebra ops in chainrule.ops.linalg, the
decompositions (and what is built on them: pinv, lstsq, the norms) in
chainrule.ops.decompositions, vector_norm with the reductions; this module only gives them
their torch.linalg names. Every function takes complex matrices where PyTorch does; eig
and eigvals return complex eigenvalues and eigenvectors for real input too.

>>> import chainrule
>>> import chainrule.linalg
>>> chainrule.linalg.det(2 * chainrule.eye(3))
tensor(8.)
"""

from chainrule.ops.decompositions import (
    cholesky_ex,
    cond,
    det,
    eig,
    eigh,
    eigvals,
    eigvalsh,
    inv_ex,
    ldl_factor,
    ldl_factor_ex,
    ldl_solve,
    lstsq,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    matrix_exp,
    matrix_norm,
    matrix_rank,
    norm,
    pinv,
    qr,
    svd,
    svdvals,
)
from chainrule.ops.linalg import (
    LinAlgError,
    cholesky,
    inv,
    matmul,
    matrix_power,
    multi_dot,
    solve,
    solve_triangular,
    vecdot,
)
from chainrule.ops.linalg import linalg_cross as cross
from chainrule.ops.linalg import linalg_diagonal as diagonal
from chainrule.ops.linalg import linalg_slogdet as slogdet
from chainrule.ops.linalg_extra import householder_product, solve_ex, tensorinv, tensorsolve
from chainrule.ops.linalg_extra import linalg_vander as vander
from chainrule.ops.reduction import vector_norm

__all__ = [
    "vander",
    "tensorsolve",
    "tensorinv",
    "solve_ex",
    "householder_product",
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "inv",
    "inv_ex",
    "lstsq",
    "lu",
    "ldl_factor",
    "ldl_factor_ex",
    "ldl_solve",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
]
