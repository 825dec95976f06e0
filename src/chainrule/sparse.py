"""`torch.sparse`: products, sums and softmax of sparse COO tensors (ops/sparse.py), and the
legacy constructors (`torch.sparse.FloatTensor(indices, values, size)`) older graph programs
use.

Example:
    >>> import chainrule
    >>> adjacency = chainrule.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 1.0], (2, 2))
    >>> chainrule.sparse.mm(adjacency, chainrule.tensor([[1.0], [2.0]]))
    tensor([[2.],
            [1.]])
"""

from __future__ import annotations

import warnings
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops.sparse import (
    SparseTensor,
    sparse_addmm,
    sparse_coo,
    sparse_coo_tensor,
    sparse_csr,
    sparse_matmul,
    sparse_softmax,
    sparse_sum,
    to_sparse_csr,
)

__all__ = [
    "DoubleTensor",
    "FloatTensor",
    "IntTensor",
    "LongTensor",
    "addmm",
    "check_sparse_tensor_invariants",
    "log_softmax",
    "mm",
    "softmax",
    "spdiags",
    "sum",
]


def mm(mat1: SparseTensor, mat2: Tensor, reduce: str = "sum") -> Tensor:
    """The product of a sparse (n, k) matrix and a dense (k, m) one: dense (n, m). Gradients
    reach mat1's values and mat2.

    Args:
        mat1 (Tensor): a sparse COO matrix.
        mat2 (Tensor): a dense matrix of mat1's dtype.
        reduce (str): only "sum" (PyTorch's default) is supported.
    """
    if reduce != "sum":
        raise NotImplementedError(f"sparse.mm: reduce={reduce!r} is not supported, only 'sum'")
    if not isinstance(mat1, SparseTensor):
        return mat1 @ mat2
    return sparse_matmul(mat1, mat2)


def addmm(
    mat: Tensor,
    mat1: SparseTensor,
    mat2: Tensor,
    beta: float = 1.0,
    alpha: float = 1.0,
) -> Tensor:
    """beta * mat + alpha * (mat1 @ mat2), mat1 sparse."""
    return sparse_addmm(mat, mat1, mat2, beta=beta, alpha=alpha)


def spdiags(
    diagonals: Tensor,
    offsets: Tensor,
    shape: tuple[int, int],
    layout: Any = None,
) -> SparseTensor:
    """A sparse (m, n) matrix from diagonals, as `torch.sparse.spdiags` (and SciPy's): row i of
    `diagonals` lies on the diagonal `offsets[i]` (0 the main one, > 0 above it), its entry j
    in column j; entries that fall outside the matrix are dropped. Finite-difference operators
    are written this way. Differentiable in `diagonals` (PyTorch's has no derivative).

    Args:
        diagonals (Tensor): (d, length), or (length,) with a single offset.
        offsets (Tensor): int64 (d,) (or 0-dim), distinct.
        shape (tuple of int): (m, n).
        layout (layout, optional): sparse_coo (the default) or sparse_csr.

    Returns:
        SparseTensor: (m, n), the entries diagonal by diagonal, uncoalesced as PyTorch's.

    Example:
        >>> import chainrule
        >>> laplacian = chainrule.sparse.spdiags(
        ...     chainrule.tensor([[1.0, 1.0, 1.0], [-2.0, -2.0, -2.0], [1.0, 1.0, 1.0]]),
        ...     chainrule.tensor([-1, 0, 1]),
        ...     (3, 3),
        ... )
        >>> laplacian.to_dense()
        tensor([[-2.,  1.,  0.],
                [ 1., -2.,  1.],
                [ 0.,  1., -2.]])
    """
    if layout is not None and layout not in (sparse_coo, sparse_csr):
        raise NotImplementedError(f"spdiags: layout {layout} is not supported (COO or CSR only)")
    if len(shape) != 2:
        raise RuntimeError("Output shape must be 2d")
    if offsets.dtype is not dtypes.int64:
        raise RuntimeError(
            f"Offset Tensor must have dtype Long but got {dtypes.scalar_type_name(offsets.dtype)}"
        )
    offset_list = offsets.reshape(-1).tolist()
    rows_of_diagonals = diagonals.reshape(1, -1) if diagonals.ndim == 1 else diagonals
    if rows_of_diagonals.shape[0] != len(offset_list):
        raise RuntimeError(
            f"Number of diagonals ({rows_of_diagonals.shape[0]}) does not match the number of "
            f"offsets ({len(offset_list)})"
        )
    if len(set(offset_list)) != len(offset_list):
        raise RuntimeError("Offset tensor contains duplicate values")
    m, n = shape
    length = rows_of_diagonals.shape[1]
    rows, columns, which = [], [], []
    for k, offset in enumerate(offset_list):
        for column in range(max(offset, 0), min(n, m + offset, length)):
            rows.append(column - offset)
            columns.append(column)
            which.append(k)
    values = rows_of_diagonals[which, columns] if which else rows_of_diagonals.reshape(-1)[:0]
    matrix = sparse_coo_tensor([rows, columns], values, (m, n))
    return to_sparse_csr(matrix) if layout is sparse_csr else matrix


def sum(input: SparseTensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A001, A002
    """All entries summed (dense 0-d), or over `dim` (sparse, or dense when every sparse
    dimension is summed)."""
    return sparse_sum(input, dim, dtype)


def softmax(input: SparseTensor, dim: int, *, dtype: Any = None) -> SparseTensor:  # noqa: A002
    """Softmax along `dim` over the stored entries; missing entries stay missing (-inf)."""
    return sparse_softmax(input, dim, dtype)


def log_softmax(input: SparseTensor, dim: int, *, dtype: Any = None) -> SparseTensor:  # noqa: A002
    """log of `softmax`, computed stably."""
    return sparse_softmax(input, dim, dtype, log=True)


class check_sparse_tensor_invariants:  # noqa: N801 - PyTorch's name
    """PyTorch's switch for checking sparse tensors' indices on construction. chainrule always
    checks them, so this context manager and decorator changes nothing."""

    def __init__(self, enable: bool = True) -> None:
        self._enable = enable

    @staticmethod
    def is_enabled() -> bool:
        return True

    @staticmethod
    def enable() -> None:
        return None

    @staticmethod
    def disable() -> None:
        return None

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, function: Any) -> Any:
        return function


def _legacy_constructor(dtype: dtypes.dtype) -> Any:
    def construct(indices: Any, values: Any, size: Any = None, *, device: Any = None) -> Tensor:
        warnings.warn(
            "torch.sparse.SparseTensor(indices, values, shape, *, device=) is deprecated.  "
            "Please use torch.sparse_coo_tensor(indices, values, shape, dtype=, device=).",
            UserWarning,
            stacklevel=2,
        )
        return sparse_coo_tensor(indices, values, size, dtype=dtype, device=device)

    construct.__doc__ = f"Legacy `torch.sparse` constructor of {dtype.name} sparse tensors."
    return construct


FloatTensor = _legacy_constructor(dtypes.float32)
DoubleTensor = _legacy_constructor(dtypes.float64)
LongTensor = _legacy_constructor(dtypes.int64)
IntTensor = _legacy_constructor(dtypes.int32)
