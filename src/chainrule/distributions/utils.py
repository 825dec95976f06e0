"""Helpers shared by the distributions, as torch.distributions.utils."""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops import elementwise, reduction
from chainrule.ops.creation import tensor
from chainrule.ops.indexing import index_select, pad
from chainrule.ops.shape import broadcast_tensors

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]


def broadcast_all(*values: Any) -> tuple:
    """The values as Tensors broadcast to one shape; numbers take the dtype and device of the
    Tensors among them (the default dtype, on the CPU, when there are none)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None and not all(isinstance(v, (int, float)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, Tensor.")
    dtype = like.dtype if like is not None else dtypes.get_default_dtype()
    device = like.device if like is not None else None
    tensors = [
        v if isinstance(v, Tensor) else tensor(v, dtype=dtype, device=device) for v in values
    ]
    return broadcast_tensors(*tensors)


def clamp_probs(probs: Tensor) -> Tensor:
    """probs clamped to [eps, 1 - eps], so their logarithms are finite."""
    eps = dtypes.finfo(probs.dtype).eps
    return elementwise.clamp(probs, min=eps, max=1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: the sigmoid when binary, else the softmax of the last dim."""
    if is_binary:
        return elementwise.sigmoid(logits)
    return reduction.softmax(logits, -1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (clamped away from 0 and 1 first): log(p) - log(1 - p) when
    binary, else log(p) (unnormalised logits, as PyTorch)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return elementwise.log(clamped) - elementwise.log1p(-clamped)
    return elementwise.log(clamped)


class lazy_property:  # noqa: N801 - PyTorch's name
    """A property computed on first access and then stored on the instance (probs from
    logits, scale_tril from a covariance)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _tril_positions(n: int, diag: int) -> list[int]:
    """Row-major flat positions (r * n + c) of an n x n matrix's entries with c - r <= diag."""
    return [row * n + col for row in range(n) for col in range(n) if col - row <= diag]


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of `mat` (..., n, n) on and below its `diag`-th diagonal, in row order,
    as a (..., m) vector (differentiable: a gather).

    Args:
        mat (Tensor): the matrices.
        diag (int): the last diagonal kept (0 the main one, -1 the one below it).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.utils import tril_matrix_to_vec
        >>> tril_matrix_to_vec(chainrule.arange(9.0).reshape(3, 3), diag=-1)
        tensor([3., 6., 7.])
    """
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    positions = tensor(_tril_positions(n, diag), device=mat.device)
    flat = mat.reshape(tuple(mat.shape[:-2]) + (n * n,))
    return index_select(flat, -1, positions)


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of `tril_matrix_to_vec`: a (..., n, n) matrix, zero above its `diag`-th
    diagonal, filled in row order from `vec` (..., m); n solves m = the count of such entries.

    Args:
        vec (Tensor): the entries, row by row.
        diag (int): the last diagonal filled (0 the main one, -1 the one below it).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.utils import vec_to_tril_matrix
        >>> vec_to_tril_matrix(chainrule.tensor([1.0, 2.0, 3.0]), diag=-1)
        tensor([[0., 0., 0.],
                [1., 0., 0.],
                [2., 3., 0.]])
    """
    length = vec.shape[-1]
    # the positive root of n**2 + (1 + 2 diag) n - |diag| (diag + 1) - 2 length = 0
    linear = 1 + 2 * diag
    root = (-linear + (linear**2 + 8 * length + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(root) - root > dtypes.finfo(vec.dtype).eps:
        raise ValueError(
            f"The size of last dimension is {length} which cannot be expressed as "
            "the lower triangular part of a square D x D matrix."
        )
    n = round(root)
    # Gather from vec with a zero in front: index 0 fills the entries above the diagonal.
    source = [0] * (n * n)
    for k, position in enumerate(_tril_positions(n, diag)):
        source[position] = k + 1
    padded = pad(vec, (1, 0), value=0.0)
    gathered = index_select(padded, -1, tensor(source, device=vec.device))
    return gathered.reshape(tuple(vec.shape[:-1]) + (n, n))
