"""Sparse COO tensors (`torch.sparse_coo_tensor`, `torch.sparse`): a matrix that stores only its
nonzero entries, the way graph programs hold an adjacency matrix (Kipf's GCN: `torch.spmm(adj,
x)`).

A sparse tensor is a Tensor of layout `sparse_coo` made of two dense tensors: `indices`, an
int64 (sparse_dim, nnz) array of positions, and `values`, (nnz, *dense_shape), the entries
there. Every op on it is written in dense differentiable ops on `values` (index_select,
index_add, elementwise math), so gradients (and higher derivatives) reach the values and the
dense operands with no rules of their own here, and a sparse leaf's `.grad` is the sparse tensor
of its values' gradient, on the same indices, as PyTorch's sparse gradients are.

Uncoalesced tensors (repeated indices, in any order) are allowed as in PyTorch; repeated entries
add up. `coalesce()` sums them and sorts the indices. What this module does not implement
raises NotImplementedError, PyTorch's error for an operator with no sparse kernel; the invariants
(indices inside the size, as many values as indices) are always checked, where PyTorch checks
them only on request.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from chainrule._tensor import LEGACY_TYPE_BY_DTYPE, Size, Tensor
from chainrule.autograd.observers import observers, tell
from chainrule.backend import device as Device
from chainrule.backend import dtypes, formats
from chainrule.backend.dtypes import as_dtype
from chainrule.backend.printing import (
    format_sparse_compressed,
    format_sparse_coo,
)
from chainrule.errors import DTypeError, IndexRangeError, ShapeError
from chainrule.ops import indexing
from chainrule.ops.arguments import normalize_dim
from chainrule.ops.creation import tensor, zeros
from chainrule.ops.indexing import index_add, index_select
from chainrule.ops.op import named
from chainrule.ops.shape import cat, reshape

sparse_coo = formats.layout("sparse_coo")
sparse_csr = formats.layout("sparse_csr")
sparse_csc = formats.layout("sparse_csc")

Number = int | float | bool


class SparseLayoutError(NotImplementedError, AttributeError):
    """An op with no sparse form was given a sparse tensor: PyTorch's NotImplementedError. It is
    an AttributeError too, so `getattr(t, "_array", None)` (the engine's check of a gradient,
    duck-typed code) sees a sparse tensor as having no dense array, which it has not."""


def _unsupported(operation: str) -> SparseLayoutError:
    return SparseLayoutError(
        f"{operation}: not implemented for sparse_coo tensors (chainrule's sparse tensors support "
        f"construction, coalesce, to_dense, products with dense matrices, sums, addition, "
        f"elementwise products, select, index_select, cat, stack, "
        f"scaling and softmax); call .to_dense() first"
    )


def _entry_point_name() -> str:
    """The chainrule function the user called (the outermost chainrule frame on the stack),
    to name it in the error for an op with no sparse form."""
    package = __file__.rsplit("/ops/", 1)[0]
    frame, name = sys._getframe(2), "this operation"
    while frame is not None and frame.f_code.co_filename.startswith(package):
        name = frame.f_code.co_name
        if name == "function" and "op" in frame.f_locals:  # elementwise.py's generated ones
            name = frame.f_locals["op"].__name__.lower()
        frame = frame.f_back
    return name


def _reads_structure(tensor: Tensor) -> None:
    """Every sparse op reads its indices into Python (to sort, group or scatter by them):
    `chainrule.compile` must not bake them into a program, so it runs the call eagerly."""
    active = observers.get()
    if active is not None:
        tell(active, "host_read", tensor, "a sparse tensor's indices")


_ZERO_PRESERVING = frozenset(
    "sin tan asin atan sinh tanh asinh atanh sqrt expm1 log1p erf abs square sign floor ceil "
    "trunc".split()
)  # the unary functions with f(0) = 0 that PyTorch runs on a sparse tensor's values


class SparseTensor(Tensor):
    """A sparse COO tensor: `indices` (sparse_dim, nnz) and `values` (nnz, *dense_shape) of a
    tensor of shape `size`. Made by `chainrule.sparse_coo_tensor` and `Tensor.to_sparse()`;
    `isinstance(s, chainrule.Tensor)` holds, and `s.layout` is `chainrule.sparse_coo`.

    Example:
        >>> import chainrule
        >>> s = chainrule.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
        >>> s.to_dense()
        tensor([[0., 2.],
                [3., 0.]])
        >>> chainrule.sparse.mm(s, chainrule.ones(2, 1))
        tensor([[2.],
                [3.]])
    """

    __slots__ = ("_sparse_indices", "_sparse_values", "_sparse_size", "_coalesced")

    @property
    def _array(self) -> Any:  # every dense op reads its operands' arrays: a sparse one has none
        raise _unsupported(_entry_point_name())

    @staticmethod
    def _make(
        indices: Tensor, values: Tensor, size: tuple, coalesced: bool, cls: type | None = None
    ) -> SparseTensor:
        _reads_structure(indices)
        self = object.__new__(cls or SparseTensor)
        self._sparse_indices = indices
        self._sparse_values = values
        self._sparse_size = Size(size)
        self._coalesced = coalesced
        for slot in ("_grad", "_node", "_base", "_edge", "_extra"):
            setattr(self, slot, None)
        self._requires_grad = False  # autograd state is the values': see the properties below
        self._output_nr = 0
        self._backend = values._backend
        self._version_counter = values._version_counter
        self._view_version = 0
        self._view_kind = 0
        return self

    # ---- what a tensor is ------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return self._sparse_size

    def size(self, dim: int | None = None) -> Size | int:  # type: ignore[override]
        if dim is None:
            return self._sparse_size
        return self._sparse_size[normalize_dim("size", dim, len(self._sparse_size))]

    @property
    def dtype(self) -> dtypes.dtype:
        return self._sparse_values.dtype

    @property
    def device(self) -> Any:
        return self._sparse_values.device

    @property
    def ndim(self) -> int:
        return len(self._sparse_size)

    def dim(self) -> int:
        return len(self._sparse_size)

    def numel(self) -> int:
        return math.prod(self._sparse_size)

    def __len__(self) -> int:
        if not self._sparse_size:
            raise TypeError("len() of a 0-d tensor")
        return self._sparse_size[0]

    layout = sparse_coo
    is_sparse = True

    def __repr__(self) -> str:
        return format_sparse_coo(self)

    __str__ = __repr__

    def __bool__(self) -> bool:
        raise _unsupported("bool")

    # ---- autograd state: the values' -------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._sparse_values.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._sparse_values.requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> SparseTensor:
        self._sparse_values.requires_grad_(requires_grad)
        return self

    @property
    def grad(self) -> SparseTensor | None:  # type: ignore[override]
        """The gradient as the tensor's (the dense matrix's) gradient at its stored positions:
        a coalesced sparse tensor, as PyTorch's. Repeated entries of an uncoalesced tensor each
        got the gradient of their one position; it is given once."""
        values_grad = self._sparse_values.grad
        if values_grad is None:
            return None
        if self._coalesced:
            return self._with_values(values_grad)
        xp = self._backend.xp
        unique, first = xp.unique(self._linear_keys(), return_index=True)
        indices = Tensor._from_array(self._sparse_indices._array[:, first], self._backend)
        picked = Tensor._from_array(values_grad._array[first], self._backend)
        return SparseTensor._make(indices, picked, self._sparse_size, True)

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._sparse_values.grad = None
            return
        if not isinstance(value, SparseTensor) or value.shape != self.shape:
            raise RuntimeError("assigned grad has data of a different type or size")
        self._sparse_values.grad = _values_on(value.to_dense(), self._sparse_indices)

    @property
    def grad_fn(self) -> Any:
        return self._sparse_values.grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._sparse_values.is_leaf

    def detach(self) -> SparseTensor:
        return self._with_values(self._sparse_values.detach())

    def clone(self, *, memory_format: object = None) -> SparseTensor:
        return self._with_values(self._sparse_values.clone())

    def backward(self, *args: Any, **kwargs: Any) -> None:
        raise _unsupported("backward")

    # ---- the COO parts --------------------------------------------------------------------
    def _with_values(self, values: Tensor, coalesced: bool | None = None) -> SparseTensor:
        keep = self._coalesced if coalesced is None else coalesced
        return SparseTensor._make(self._sparse_indices, values, self._sparse_size, keep)

    def _map_zero_preserving(self, name: str, function: Any) -> SparseTensor:
        """`function` (torch.sin, torch.sqrt, ...) of a sparse tensor: applied to the stored
        values when f(0) = 0, so the unstored zeros stay zero, as PyTorch's sparse kernels;
        repeated entries are summed first (f(a + b) is not f(a) + f(b)), so the result is
        coalesced. PyTorch has no sparse kernel for the others (cos, exp): neither has this."""
        if name not in _ZERO_PRESERVING:
            raise _unsupported(name)
        coalesced = self.coalesce()
        return coalesced._with_values(function(coalesced._sparse_values))

    def sparse_dim(self) -> int:
        return self._sparse_indices.shape[0]

    def dense_dim(self) -> int:
        return self.ndim - self.sparse_dim()

    def _nnz(self) -> int:
        return self._sparse_indices.shape[1]

    def is_coalesced(self) -> bool:
        return self._coalesced

    def _indices(self) -> Tensor:
        return self._sparse_indices

    def _values(self) -> Tensor:
        return self._sparse_values

    def indices(self) -> Tensor:
        self._require_coalesced("indices")
        return self._sparse_indices

    def values(self) -> Tensor:
        self._require_coalesced("values")
        return self._sparse_values

    def _require_coalesced(self, what: str) -> None:
        if not self._coalesced:
            raise RuntimeError(
                f"Cannot get {what} on an uncoalesced tensor, please call .coalesce() first"
            )

    def coalesce(self) -> SparseTensor:
        """The same tensor with each index once (repeated entries summed), indices sorted."""
        if self._coalesced:
            return self
        keys, sparse_shape = self._linear_keys(), self._sparse_size[: self.sparse_dim()]
        xp = self._backend.xp
        unique, inverse = xp.unique(keys, return_inverse=True)
        values = self._sparse_values
        summed = index_add(
            zeros((len(unique),) + tuple(values.shape[1:]), dtype=values.dtype, device=self.device),
            0,
            Tensor._from_array(inverse.reshape(-1), self._backend),
            values,
        )
        indices = xp.stack(xp.unravel_index(unique, sparse_shape)) if sparse_shape else unique[None]
        return SparseTensor._make(
            Tensor._from_array(
                indices.astype(xp.int64).reshape(len(sparse_shape), -1), self._backend
            ),
            named(summed, "CoalesceBackward0") if summed.requires_grad else summed,
            self._sparse_size,
            True,
        )

    def _linear_keys(self) -> Any:
        """Each entry's position among the sparse dimensions as one row-major number."""
        _reads_structure(self._sparse_indices)
        indices = self._sparse_indices._array
        sparse_shape = tuple(self._sparse_size[: self.sparse_dim()])
        if not sparse_shape:
            return self._backend.xp.zeros(indices.shape[1], dtype=indices.dtype)
        return self._backend.xp.ravel_multi_index(tuple(indices), sparse_shape)

    def to_dense(self, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
        """The dense tensor (differentiable: the gradient reaches the values)."""
        values = self._sparse_values if dtype is None else self._sparse_values.to(dtype)
        sparse_shape = tuple(self._sparse_size[: self.sparse_dim()])
        rows = zeros(
            (math.prod(sparse_shape),) + tuple(values.shape[1:]),
            dtype=values.dtype,
            device=self.device,
        )
        keys = Tensor._from_array(self._linear_keys(), self._backend)
        dense = reshape(index_add(rows, 0, keys, values), tuple(self._sparse_size))
        return named(dense, "ToDenseBackward0")

    def to_sparse(self, sparse_dim: int | None = None, **kwargs: Any) -> SparseTensor:
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError(
                "to_sparse: conversion from Sparse to Sparse with sparse_dim argument != "
                "self.sparse_dim() is not supported"
            )
        return self

    def to_sparse_csc(self, dense_dim: int | None = None) -> SparseCscTensor:
        return to_sparse_csc(self, dense_dim)

    # ---- conversions -------------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> SparseTensor:  # type: ignore[override]
        values = self._sparse_values.to(*args, **kwargs)
        if values is self._sparse_values:
            return self
        indices = self._sparse_indices.to(values.device)
        return SparseTensor._make(indices, values, self._sparse_size, self._coalesced)

    def type(self, dtype: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        if dtype is None:
            legacy = LEGACY_TYPE_BY_DTYPE[self.dtype.name].__name__
            return f"{dtypes.display_namespace()}.sparse.{legacy}"
        return self.to(dtype)

    def float(self) -> SparseTensor:  # type: ignore[override]
        return self.to(dtypes.float32)

    def double(self) -> SparseTensor:  # type: ignore[override]
        return self.to(dtypes.float64)

    def half(self) -> SparseTensor:  # type: ignore[override]
        return self.to(dtypes.float16)

    def long(self) -> SparseTensor:  # type: ignore[override]
        return self.to(dtypes.int64)

    def int(self) -> SparseTensor:  # type: ignore[override]
        return self.to(dtypes.int32)

    def cpu(self, *args: Any, **kwargs: Any) -> SparseTensor:  # type: ignore[override]
        return self.to("cpu")

    def cuda(self, *args: Any, **kwargs: Any) -> SparseTensor:  # type: ignore[override]
        return self.to("cuda")

    # ---- math ---------------------------------------------------------------------------------
    def t(self) -> SparseTensor:  # type: ignore[override]
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self.transpose(0, 1) if self.ndim == 2 else self

    def transpose(self, dim0: int, dim1: int) -> SparseTensor:  # type: ignore[override]
        ndim, sparse_dims = self.ndim, self.sparse_dim()
        dim0, dim1 = normalize_dim("transpose", dim0, ndim), normalize_dim("transpose", dim1, ndim)
        if dim0 >= sparse_dims or dim1 >= sparse_dims:
            raise _unsupported("transpose of a dense dimension")
        order = list(range(sparse_dims))
        order[dim0], order[dim1] = order[dim1], order[dim0]
        indices = Tensor._from_array(self._sparse_indices._array[order], self._backend)
        size = list(self._sparse_size)
        size[dim0], size[dim1] = size[dim1], size[dim0]
        return SparseTensor._make(indices, self._sparse_values, tuple(size), False)

    def __neg__(self) -> SparseTensor:
        return self._with_values(-self._sparse_values)

    neg = __neg__

    def mul(self, other: Any) -> SparseTensor:  # type: ignore[override]
        if isinstance(other, SparseTensor):
            return _sparse_times_sparse(self, other)
        if isinstance(other, Tensor) and other.ndim > 0:
            if other.shape != self.shape:
                raise ShapeError(
                    f"mul: a sparse tensor of shape {self.shape} times a dense one of shape "
                    f"{other.shape}: the shapes must be equal"
                )
            return self._with_values(self._sparse_values * _values_on(other, self._sparse_indices))
        return self._with_values(self._sparse_values * other)

    __mul__ = __rmul__ = mul

    def div(self, other: Any) -> SparseTensor:  # type: ignore[override]
        if isinstance(other, Tensor) and other.ndim > 0:
            raise _unsupported("div by a tensor with dimensions")
        return self._with_values(self._sparse_values / other)

    __truediv__ = div

    def pow(self, exponent: Number) -> SparseTensor:  # type: ignore[override]
        if isinstance(exponent, Tensor):
            raise _unsupported("pow with a tensor exponent")
        coalesced = self.coalesce()  # (a + b)^p is not a^p + b^p: sum repeated entries first
        return coalesced._with_values(coalesced._sparse_values**exponent)

    __pow__ = pow  # noqa: A003 - the method above, not the builtin

    def add(self, other: Any, *, alpha: Number = 1) -> Tensor:  # type: ignore[override]
        """sparse + sparse is sparse; sparse + dense is dense (PyTorch refuses that order:
        chainrule adds, as its engine must when gradients of both kinds meet)."""
        if not isinstance(other, SparseTensor):
            if not isinstance(other, Tensor):
                raise _unsupported("add of a number to a sparse tensor")
            return self.__radd__(other if alpha == 1 else other * alpha)
        if other.shape != self.shape:
            raise ShapeError(
                f"add: sparse tensors of different sizes: {self.shape} and {other.shape}"
            )
        if other.sparse_dim() != self.sparse_dim():
            raise RuntimeError(
                f"add: expected both sparse tensors to have sparse_dim {self.sparse_dim()}, got "
                f"{other.sparse_dim()}"
            )
        values = other._sparse_values if alpha == 1 else other._sparse_values * alpha
        joined = SparseTensor._make(
            cat([self._sparse_indices, other._sparse_indices.to(self.device)], 1),
            cat([self._sparse_values, values.to(self._sparse_values.dtype)], 0),
            self._sparse_size,
            False,
        )
        return joined.coalesce() if self._coalesced and other._coalesced else joined

    __add__ = add

    def __radd__(self, other: Any) -> Tensor:
        """dense + sparse: dense, as PyTorch's add(dense, sparse). Python asks this subclass
        first, before Tensor.__add__."""
        if not isinstance(other, Tensor) or other.shape != self.shape:
            shape = getattr(other, "shape", type(other).__name__)
            raise ShapeError(
                f"add: a dense tensor of shape {shape} and a sparse one of {self.shape}"
            )
        return other + self.to_dense()

    def __rsub__(self, other: Any) -> Tensor:
        """dense - sparse: dense, as PyTorch's sub(dense, sparse)."""
        return (-self).__radd__(other)

    def zero_(self) -> SparseTensor:
        """Empty this tensor in place (no entries), as PyTorch's sparse zero_."""
        xp = self._backend.xp
        self._sparse_indices = Tensor._from_array(
            xp.zeros((self.sparse_dim(), 0), dtype=xp.int64), self._backend
        )
        values = self._sparse_values
        self._sparse_values = zeros(
            (0,) + tuple(values.shape[1:]), dtype=values.dtype, device=self.device
        )
        self._coalesced = True
        return self

    def detach_(self) -> SparseTensor:
        self._sparse_values = self._sparse_values.detach()
        return self

    def sub(self, other: Any, *, alpha: Number = 1) -> SparseTensor:  # type: ignore[override]
        return self.add(other, alpha=-alpha)

    __sub__ = sub

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:  # type: ignore[override]
        if keepdim:
            raise _unsupported("sum with keepdim=True")
        return sparse_sum(self, dim, dtype=dtype)

    def _addmm(self, input: Tensor, mat2: Tensor, beta: Number, alpha: Number) -> Tensor:  # noqa: A002
        return sparse_addmm(input, self, mat2, beta=beta, alpha=alpha)

    def matmul(self, other: Tensor) -> Tensor:  # type: ignore[override]
        return sparse_matmul(self, other)

    __matmul__ = mm = matmul

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return dense_sparse_matmul(other, self)

    # ---- indexing ------------------------------------------------------------------------
    def select(self, dim: int, index: int) -> Tensor:  # type: ignore[override]
        """The entries at `index` along `dim`, that dimension dropped: sparse, as PyTorch's
        (a sparse dimension's entries are picked, a dense one's values are selected); dense
        where no sparse dimension is left (the entries there summed)."""
        dim = normalize_dim("select", dim, self.ndim)
        extent = self._sparse_size[dim]
        if not -extent <= index < extent:
            raise IndexError(
                f"select(): index {index} out of range for tensor of size "
                f"{tuple(self.shape)} at dimension {dim}"
            )
        index %= extent
        size = tuple(self._sparse_size[:dim]) + tuple(self._sparse_size[dim + 1 :])
        sparse_dims = self.sparse_dim()
        if dim >= sparse_dims:  # a dense dimension: of every stored value
            values = indexing.select(self._sparse_values, dim - sparse_dims + 1, index)
            return SparseTensor._make(self._sparse_indices, values, size, self._coalesced)
        _reads_structure(self._sparse_indices)
        xp = self._backend.xp
        indices = self._sparse_indices._array
        kept = xp.nonzero(indices[dim] == index)[0]
        rest = xp.delete(indices[:, kept], dim, axis=0)
        values = index_select(self._sparse_values, 0, Tensor._from_array(kept, self._backend))
        if sparse_dims == 1:  # no sparse dimension left: the dense sum of the entries there
            return values.sum(0)
        return SparseTensor._make(
            Tensor._from_array(rest, self._backend), values, size, self._coalesced
        )

    def index_select(self, dim: int, index: Tensor) -> SparseTensor:  # type: ignore[override]
        """The slices at `index` along `dim`, in its order (repeats repeat): sparse."""
        dim = normalize_dim("index_select", dim, self.ndim)
        if not isinstance(index, Tensor) or index.ndim > 1 or index.dtype.is_floating_point:
            raise IndexRangeError("index_select(): Expected a 1-D tensor of int64 or int32 indices")
        size = list(self._sparse_size)
        size[dim] = index.numel()
        sparse_dims = self.sparse_dim()
        if dim >= sparse_dims:
            values = index_select(self._sparse_values, dim - sparse_dims + 1, index)
            return SparseTensor._make(self._sparse_indices, values, tuple(size), self._coalesced)
        _reads_structure(self._sparse_indices)
        xp = self._backend.xp
        wanted = index.to(self.device)._array.reshape(-1).astype(xp.int64)
        extent = self._sparse_size[dim]
        if wanted.size and (wanted.min() < -extent or wanted.max() >= extent):
            raise IndexRangeError(
                f"index_select(): index out of range in self (size {extent} along dim {dim})"
            )
        wanted = wanted % max(extent, 1)
        indices = self._sparse_indices._array
        entry, position = xp.nonzero(indices[dim][:, None] == wanted[None, :])
        picked = indices[:, entry].copy()
        picked[dim] = position
        values = index_select(self._sparse_values, 0, Tensor._from_array(entry, self._backend))
        return SparseTensor._make(
            Tensor._from_array(picked, self._backend), values, tuple(size), False
        )

    def __getitem__(self, key: Any) -> Tensor:
        """Integers and full slices (`s[0]`, `s[:, 1]`): selects, as PyTorch's sparse
        indexing; other keys have no sparse form here."""
        items = key if type(key) is tuple else (key,)
        result, dim = self, 0
        for item in items:
            if type(item) is slice and item == slice(None):
                dim += 1
            elif isinstance(item, int) and not isinstance(item, bool):
                result = result.select(dim, item)
            else:
                raise _unsupported(f"indexing a sparse tensor with {type(item).__name__}")
        return result

    def softmax(self, dim: int, dtype: Any = None) -> SparseTensor:  # type: ignore[override]
        return sparse_softmax(self, dim, dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> SparseTensor:  # type: ignore[override]
        return sparse_softmax(self, dim, dtype, log=True)


def _sparse_times_sparse(a: SparseTensor, b: SparseTensor) -> SparseTensor:
    """a * b of two sparse tensors of one shape: the entries both store, their (summed)
    values multiplied, as PyTorch's; differentiable in both values."""
    if a.shape != b.shape:
        raise ShapeError(
            f"mul: sparse tensors of different sizes: {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(
            f"mul: expected both sparse tensors to have sparse_dim {a.sparse_dim()}, got "
            f"{b.sparse_dim()}"
        )
    a, b = a.coalesce(), b.coalesce()
    xp = a._backend.xp
    _, in_a, in_b = xp.intersect1d(
        a._linear_keys(), b._linear_keys(), assume_unique=True, return_indices=True
    )
    backend = a._backend
    values = index_select(a._sparse_values, 0, Tensor._from_array(in_a, backend)) * (
        index_select(b._sparse_values.to(a.device), 0, Tensor._from_array(in_b, backend))
    )
    indices = Tensor._from_array(a._sparse_indices._array[:, in_a], backend)
    return SparseTensor._make(indices, values, a._sparse_size, False)  # (PyTorch's flag)


def _values_on(dense: Tensor, indices: Tensor) -> Tensor:
    """dense's entries at the sparse positions `indices` (sparse_dim, nnz), differentiably."""
    _reads_structure(indices)
    sparse_dims = indices.shape[0]
    sparse_shape = tuple(dense.shape[:sparse_dims])
    rows = reshape(dense, (math.prod(sparse_shape),) + tuple(dense.shape[sparse_dims:]))
    xp = indices._backend.xp
    keys = xp.ravel_multi_index(tuple(indices._array), sparse_shape) if sparse_shape else None
    if keys is None:
        keys = xp.zeros(indices.shape[1], dtype=xp.int64)
    return index_select(rows, 0, Tensor._from_array(keys, indices._backend))


# ---- construction -------------------------------------------------------------------------------


def sparse_coo_tensor(
    indices: object,
    values: object,
    size: Sequence[int] | None = None,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
    is_coalesced: bool | None = None,
    pin_memory: bool = False,
) -> SparseTensor:
    """A sparse COO tensor with `values` at `indices`, as `torch.sparse_coo_tensor`.

    Args:
        indices (array_like): (sparse_dim, nnz) integer positions.
        values (array_like): (nnz, *dense_shape) entries; the gradient flows to it when it
            requires grad.
        size (sequence of int, optional): the shape; by default the smallest that holds the
            indices (and values' dense shape).
        dtype (dtype, optional): the values' type (values' own by default).
        device (device, optional): where the tensor lives.
        requires_grad (bool): make the tensor a leaf whose `.grad` is sparse.
        check_invariants (bool, optional): accepted; chainrule always checks that the indices
            fit the size, never reading out of bounds.
        is_coalesced (bool, optional): promise that the indices are unique and sorted.
        pin_memory (bool): accepted for PyTorch's signature.

    Example:
        >>> import chainrule
        >>> chainrule.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        tensor(indices=tensor([[0, 1, 1],
                               [2, 0, 2]]),
               values=tensor([3., 4., 5.]),
               size=(2, 3), nnz=3, layout=chainrule.sparse_coo)
    """
    value_tensor = values if isinstance(values, Tensor) else tensor(values, dtype=dtype)
    if dtype is not None and value_tensor.dtype != as_dtype(dtype):
        value_tensor = value_tensor.to(as_dtype(dtype))
    if device is not None:
        value_tensor = value_tensor.to(device)
    backend = value_tensor._backend
    index_source = indices.detach() if isinstance(indices, Tensor) else tensor(indices)
    index_array = backend.xp.asarray(index_source._array).astype(backend.xp.int64)
    if index_array.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(index_array.shape)}")
    sparse_dims, nnz = index_array.shape
    if value_tensor.ndim == 0 or value_tensor.shape[0] != nnz:
        got = value_tensor.shape[0] if value_tensor.ndim else 0
        raise RuntimeError(
            f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from "
            f"values: {got}"
        )
    dense_shape = tuple(value_tensor.shape[1:])
    if size is None:
        extent = index_array.max(axis=1) + 1 if nnz else backend.xp.zeros(sparse_dims, dtype=int)
        size = tuple(int(n) for n in extent) + dense_shape
    size = tuple(int(n) for n in size)
    if len(size) != sparse_dims + len(dense_shape):
        raise RuntimeError(
            f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
            f"sparse_dim = {sparse_dims}, dense_dim = {len(dense_shape)}"
        )
    if size[sparse_dims:] != dense_shape:
        raise RuntimeError(
            f"values has incorrect size, expected {list((nnz,) + size[sparse_dims:])}, got "
            f"{list(value_tensor.shape)}"
        )
    _check_indices(index_array, size)
    if value_tensor.requires_grad:
        value_tensor = named(
            value_tensor.view(value_tensor.shape), "SparseCooTensorWithDimsAndTensorsBackward0"
        )
    else:
        value_tensor = value_tensor.detach() if requires_grad else value_tensor
    out = SparseTensor._make(
        Tensor._from_array(index_array, backend),
        value_tensor,
        size,
        bool(is_coalesced) or nnz <= 1,
    )
    if requires_grad:
        out.requires_grad_()
    return out


def _check_indices(indices: Any, size: tuple) -> None:
    for dim in range(indices.shape[0]):
        row = indices[dim]
        if row.size == 0:
            continue
        low, high = int(row.min()), int(row.max())
        if low < 0:
            raise RuntimeError(f"found negative index {low} for dim {dim}")
        if high >= size[dim]:
            raise RuntimeError(
                f"size is inconsistent with indices: for dim {dim}, size is {size[dim]} but "
                f"found index {high}"
            )


def to_sparse(
    input: Tensor,  # noqa: A002
    sparse_dim: int | None = None,
    *,
    layout: formats.layout | None = None,
    blocksize: Sequence[int] | None = None,
    dense_dim: int | None = None,
) -> SparseTensor:
    """A dense tensor as a coalesced sparse COO tensor of its nonzero entries (the first
    `sparse_dim` dimensions sparse, all by default); differentiable.

    Example:
        >>> import chainrule
        >>> chainrule.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()._nnz()
        2
    """
    if layout is sparse_csr:
        return to_sparse_csr(input)
    if layout is sparse_csc:
        return to_sparse_csc(input)
    if isinstance(input, SparseTensor):
        return input.to_sparse(sparse_dim)
    if layout is not None and layout is not sparse_coo:
        raise _unsupported(f"to_sparse(layout={layout})")
    sparse_dims = input.ndim if sparse_dim is None else sparse_dim
    if not 0 <= sparse_dims <= input.ndim:
        raise RuntimeError(f"sparse_dim must be in [0, {input.ndim}], got {sparse_dims}")
    _reads_structure(input)
    array = input._array
    xp = input._backend.xp
    sparse_shape = tuple(input.shape[:sparse_dims])
    rows = array.reshape((math.prod(sparse_shape),) + tuple(input.shape[sparse_dims:]))
    nonzero = rows.reshape(rows.shape[0], -1) != 0
    keys = xp.nonzero(nonzero.any(axis=1))[0] if rows.size else xp.zeros(0, dtype=xp.int64)
    if sparse_shape:
        indices = xp.stack(xp.unravel_index(keys, sparse_shape)).astype(xp.int64)
    else:
        indices = xp.zeros((0, len(keys)), dtype=xp.int64)
    flat = reshape(input, (math.prod(sparse_shape),) + tuple(input.shape[sparse_dims:]))
    values = index_select(flat, 0, Tensor._from_array(keys.astype(xp.int64), input._backend))
    values = named(values, "ToSparseBackward1") if values.requires_grad else values
    return SparseTensor._make(
        Tensor._from_array(indices.reshape(len(sparse_shape), -1), input._backend),
        values,
        tuple(input.shape),
        True,
    )


def sparse_mask(input: Tensor, mask: SparseTensor) -> SparseTensor:  # noqa: A002
    """`input`'s entries at the positions `mask` stores (its indices as they are, coalesced or
    not), a sparse tensor of mask's pattern, as `Tensor.sparse_mask`; the gradient reaches
    those entries of input.

    Example:
        >>> import chainrule
        >>> mask = chainrule.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 1.0], (2, 2)).coalesce()
        >>> chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]).sparse_mask(mask).values()
        tensor([2., 3.])
    """
    if not isinstance(mask, SparseTensor) or isinstance(mask, SparseCsrTensor):
        raise _unsupported("sparse_mask with a mask that is not a sparse COO tensor")
    if tuple(input.shape) != tuple(mask.shape):
        raise ShapeError(
            f"sparse_mask(): operands have incompatible sizes; self has size "
            f"{list(input.shape)} but mask has size {list(mask.shape)}"
        )
    values = _values_on(input, mask._sparse_indices)
    values = named(values, "SparseMaskBackward0") if values.requires_grad else values
    return SparseTensor._make(mask._sparse_indices, values, tuple(mask.shape), mask._coalesced)


# ---- compressed sparse rows and columns -------------------------------------------------------


class CompressedSparseTensor(SparseTensor):
    """What CSR and CSC matrices share: each is held as the COO tensor of its entries, so
    products, sums, scaling and their gradients are the COO ones, beside its compressed and
    plain index tensors (crow and col for CSR, ccol and row for CSC), which only what it
    reports differs by: its layout, its index accessors, and no `indices()`, as PyTorch's."""

    __slots__ = ("_compressed", "_plain")

    layout_name = ""  # PyTorch's name of the layout in its messages: SparseCsr, SparseCsc

    @classmethod
    def _from_parts(
        cls, compressed: Tensor, plain: Tensor, values: Tensor, size: tuple
    ) -> CompressedSparseTensor:
        raise NotImplementedError

    @staticmethod
    def _to_own_layout(coo: SparseTensor) -> CompressedSparseTensor:
        raise NotImplementedError

    def values(self) -> Tensor:
        return self._sparse_values

    def indices(self) -> Tensor:
        raise RuntimeError(
            f"indices expected sparse coordinate tensor layout but got {self.layout_name}"
        )

    def is_coalesced(self) -> bool:
        raise RuntimeError(
            f"is_coalesced expected sparse coordinate tensor layout but got {self.layout_name}"
        )

    def _with_values(self, values: Tensor, coalesced: bool | None = None) -> CompressedSparseTensor:
        return self._from_parts(self._compressed, self._plain, values, self._sparse_size)

    def _map_zero_preserving(self, name: str, function: Any) -> CompressedSparseTensor:
        """As a COO tensor's, on the values as they are: no entry is repeated."""
        if name not in _ZERO_PRESERVING:
            raise _unsupported(name)
        return self._with_values(function(self._sparse_values))

    def to_sparse_coo(self) -> SparseTensor:
        """The same entries as a COO tensor (coalesced when they are in row-major order)."""
        return SparseTensor._make(
            self._sparse_indices, self._sparse_values, self._sparse_size, self._coalesced
        )

    def to(self, *args: Any, **kwargs: Any) -> CompressedSparseTensor:  # type: ignore[override]
        values = self._sparse_values.to(*args, **kwargs)
        if values is self._sparse_values:
            return self
        compressed, plain = self._compressed.to(values.device), self._plain.to(values.device)
        return self._from_parts(compressed, plain, values, self._sparse_size)

    def transpose(self, dim0: int, dim1: int) -> SparseTensor:  # type: ignore[override]
        if {normalize_dim("transpose", d, 2) for d in (dim0, dim1)} == {0, 1}:
            return self.t()
        return self

    def add(self, other: Any, *, alpha: Number = 1) -> Tensor:  # type: ignore[override]
        """Of the same layout, the sum keeps it; with a dense tensor it is dense, as PyTorch's."""
        coo = other.to_sparse_coo() if type(other) is type(self) else other
        out = self.to_sparse_coo().add(coo, alpha=alpha)
        return self._to_own_layout(out) if isinstance(out, SparseTensor) else out

    __add__ = add

    def sub(self, other: Any, *, alpha: Number = 1) -> Tensor:  # type: ignore[override]
        return self.add(other, alpha=-alpha)

    __sub__ = sub


class SparseCsrTensor(CompressedSparseTensor):
    """A sparse CSR matrix (`torch.sparse_csr_tensor`, `Tensor.to_sparse_csr()`): row i's
    entries are `values[crow[i]:crow[i + 1]]` in the columns `col_indices[crow[i]:crow[i + 1]]`,
    the form SciPy's csr_matrix (indptr, indices, data) hands over. It reports layout
    `sparse_csr` and `crow_indices()` / `col_indices()` (CompressedSparseTensor holds the rest).

    Example:
        >>> import chainrule
        >>> a = chainrule.sparse_csr_tensor([0, 1, 3], [1, 0, 1], [2.0, 3.0, 4.0], (2, 2))
        >>> a.to_dense()
        tensor([[0., 2.],
                [3., 4.]])
        >>> a @ chainrule.ones(2)
        tensor([2., 7.])
    """

    __slots__ = ()

    layout = sparse_csr
    layout_name = "SparseCsr"
    is_sparse = False
    is_sparse_csr = True

    @classmethod
    def _from_parts(cls, crow: Tensor, col: Tensor, values: Tensor, size: tuple) -> SparseCsrTensor:
        """The CSR tensor of checked parts: its COO form's rows repeat each row index as many
        times as that row has entries."""
        xp = values._backend.xp
        counts = xp.diff(crow._array.astype(xp.int64))
        rows = xp.repeat(xp.arange(len(counts), dtype=xp.int64), counts)
        indices = xp.stack([rows, col._array.astype(xp.int64)])
        keys = rows * size[1] + indices[1]
        ordered = bool(keys.size <= 1 or (xp.diff(keys) > 0).all())  # sorted, no repeats
        index_tensor = Tensor._from_array(indices, values._backend)
        self = SparseTensor._make(index_tensor, values, size, ordered, SparseCsrTensor)
        self._compressed, self._plain = crow, col
        return self

    @staticmethod
    def _to_own_layout(coo: SparseTensor) -> SparseCsrTensor:
        return to_sparse_csr(coo)

    def __repr__(self) -> str:
        return format_sparse_compressed(
            self, ("crow_indices", self._compressed), ("col_indices", self._plain), "sparse_csr"
        )

    __str__ = __repr__

    def crow_indices(self) -> Tensor:
        """Where each row's entries start in values (rows + 1 entries, the last nnz)."""
        return self._compressed

    def col_indices(self) -> Tensor:
        """The column of each entry, row by row."""
        return self._plain

    def ccol_indices(self) -> Tensor:
        raise RuntimeError(
            "ccol_indices expected sparse column compressed tensor layout but got SparseCsr"
        )

    def row_indices(self) -> Tensor:
        raise RuntimeError(
            "row_indices expected sparse column compressed tensor layout but got SparseCsr"
        )

    def _map_zero_preserving(self, name: str, function: Any) -> SparseCsrTensor:
        """PyTorch's square (a pow underneath) has no CSR kernel."""
        if name == "square":
            raise RuntimeError("unsupported tensor layout: SparseCsr")
        return super()._map_zero_preserving(name, function)

    def to_sparse(self, sparse_dim: int | None = None, **kwargs: Any) -> SparseTensor:
        if kwargs.get("layout") is sparse_csr:
            return self
        return self.to_sparse_coo()

    def to_sparse_csr(self, dense_dim: int | None = None) -> SparseCsrTensor:
        return self

    def to_sparse_csc(self, dense_dim: int | None = None) -> SparseCscTensor:
        return to_sparse_csc(self.to_sparse_coo(), dense_dim)

    def t(self) -> SparseCscTensor:  # type: ignore[override]
        """The transpose: the CSC matrix of the same arrays, as PyTorch's."""
        rows, columns = self._sparse_size
        return SparseCscTensor._from_parts(
            self._compressed, self._plain, self._sparse_values, (columns, rows)
        )


class SparseCscTensor(CompressedSparseTensor):
    """A sparse CSC matrix (`torch.sparse_csc_tensor`, `Tensor.to_sparse_csc()`): column j's
    entries are `values[ccol[j]:ccol[j + 1]]` in the rows `row_indices[ccol[j]:ccol[j + 1]]`
    (SciPy's csc_matrix). It reports layout `sparse_csc`, `ccol_indices()` and
    `row_indices()`, and its transpose is the CSR matrix of the same arrays, as PyTorch's.

    Example:
        >>> import chainrule
        >>> a = chainrule.sparse_csc_tensor([0, 1, 3], [1, 0, 1], [2.0, 3.0, 4.0], (2, 2))
        >>> a.to_dense()
        tensor([[0., 3.],
                [2., 4.]])
        >>> a @ chainrule.ones(2)
        tensor([3., 6.])
    """

    __slots__ = ()

    layout = sparse_csc
    layout_name = "SparseCsc"
    is_sparse = False
    is_sparse_csr = False

    @classmethod
    def _from_parts(cls, ccol: Tensor, row: Tensor, values: Tensor, size: tuple) -> SparseCscTensor:
        """The CSC tensor of checked parts: its COO form's columns repeat each column index
        as many times as that column has entries."""
        xp = values._backend.xp
        counts = xp.diff(ccol._array.astype(xp.int64))
        columns = xp.repeat(xp.arange(len(counts), dtype=xp.int64), counts)
        indices = xp.stack([row._array.astype(xp.int64), columns])
        keys = indices[0] * size[1] + columns
        ordered = bool(keys.size <= 1 or (xp.diff(keys) > 0).all())  # row-major, no repeats
        index_tensor = Tensor._from_array(indices, values._backend)
        self = SparseTensor._make(index_tensor, values, size, ordered, SparseCscTensor)
        self._compressed, self._plain = ccol, row
        return self

    @staticmethod
    def _to_own_layout(coo: SparseTensor) -> SparseCscTensor:
        return to_sparse_csc(coo)

    def __repr__(self) -> str:
        return format_sparse_compressed(
            self, ("ccol_indices", self._compressed), ("row_indices", self._plain), "sparse_csc"
        )

    __str__ = __repr__

    def ccol_indices(self) -> Tensor:
        """Where each column's entries start in values (columns + 1 entries, the last nnz)."""
        return self._compressed

    def row_indices(self) -> Tensor:
        """The row of each entry, column by column."""
        return self._plain

    def crow_indices(self) -> Tensor:
        raise RuntimeError(
            "crow_indices expected sparse row compressed tensor layout but got SparseCsc"
        )

    def col_indices(self) -> Tensor:
        raise RuntimeError(
            "col_indices expected sparse row compressed tensor layout but got SparseCsc"
        )

    def to_sparse(self, sparse_dim: int | None = None, **kwargs: Any) -> SparseTensor:
        if kwargs.get("layout") is sparse_csc:
            return self
        if kwargs.get("layout") is sparse_csr:
            return to_sparse_csr(self.to_sparse_coo())
        return self.to_sparse_coo()

    def to_sparse_csr(self, dense_dim: int | None = None) -> SparseCsrTensor:
        return to_sparse_csr(self.to_sparse_coo(), dense_dim)

    def to_sparse_csc(self, dense_dim: int | None = None) -> SparseCscTensor:
        return self

    def t(self) -> SparseCsrTensor:  # type: ignore[override]
        """The transpose: the CSR matrix of the same arrays, as PyTorch's."""
        rows, columns = self._sparse_size
        return SparseCsrTensor._from_parts(
            self._compressed, self._plain, self._sparse_values, (columns, rows)
        )


def _index_tensor(values: object, backend_of: Tensor, name: str) -> Tensor:
    """crow or col indices: an int32 or int64 tensor, kept in its dtype as PyTorch keeps it."""
    out = values.detach() if isinstance(values, Tensor) else tensor(values)
    if out.dtype not in (dtypes.int32, dtypes.int64):
        raise RuntimeError(
            f"{name} must be an int32 or int64 tensor, but got {dtypes.scalar_type_name(out.dtype)}"
        )
    if out.ndim != 1:
        raise RuntimeError(f"{name} must have dim=1 but got {name}.dim()={out.ndim}")
    return out.to(backend_of.device)


def sparse_csr_tensor(
    crow_indices: object,
    col_indices: object,
    values: object,
    size: Sequence[int] | None = None,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
    pin_memory: bool = False,
) -> SparseCsrTensor:
    """A sparse CSR matrix from its compressed rows, as `torch.sparse_csr_tensor`.

    Args:
        crow_indices (array_like): rows + 1 offsets into values, from 0 to nnz.
        col_indices (array_like): nnz column indices, row by row.
        values (array_like): the nnz entries; the gradient flows to it when it requires grad.
        size (sequence of int, optional): (rows, columns); by default (len(crow) - 1, the
            largest column + 1).
        dtype (dtype, optional): the values' type (values' own by default).
        device (device, optional): where the tensor lives.
        requires_grad (bool): make the values a leaf that requires grad.
        check_invariants (bool, optional): accepted; chainrule always checks the offsets and
            columns, never reading out of bounds.
        pin_memory (bool): accepted for PyTorch's signature.

    Example:
        >>> import chainrule
        >>> chainrule.sparse_csr_tensor([0, 2, 3], [0, 2, 1], [1.0, 2.0, 3.0]).shape
        chainrule.Size([2, 3])
    """
    value_tensor = values if isinstance(values, Tensor) else tensor(values, dtype=dtype)
    if dtype is not None and value_tensor.dtype != as_dtype(dtype):
        value_tensor = value_tensor.to(as_dtype(dtype))
    if device is not None:
        value_tensor = value_tensor.to(device)
    crow = _index_tensor(crow_indices, value_tensor, "crow_indices")
    col = _index_tensor(col_indices, value_tensor, "col_indices")
    if crow.dtype != col.dtype:
        raise RuntimeError(
            f"crow_indices and col_indices must have the same dtype, but got "
            f"{dtypes.scalar_type_name(crow.dtype)} and {dtypes.scalar_type_name(col.dtype)}"
        )
    if value_tensor.ndim != 1:
        raise _unsupported("a sparse CSR tensor with batch or dense dimensions")
    _reads_structure(crow)
    offsets, columns = crow._array, col._array
    if size is None:
        widest = int(columns.max()) + 1 if columns.size else 0
        size = (len(offsets) - 1, widest)
    size = tuple(int(n) for n in size)
    nnz = value_tensor.shape[0]
    if len(size) != 2:
        raise _unsupported(f"a {len(size)}-D sparse CSR tensor")
    if len(offsets) != size[0] + 1:
        raise RuntimeError(
            f"crow_indices.size(-1) must be equal to size[-2] + 1 (that is {size[0] + 1}), but "
            f"got: {len(offsets)}"
        )
    if len(columns) != nnz:
        raise RuntimeError(
            f"col_indices and values must have the same nnz, but got {len(columns)} and {nnz}"
        )
    if int(offsets[0]) != 0 or int(offsets[-1]) != nnz or (offsets[1:] < offsets[:-1]).any():
        raise RuntimeError(
            "crow_indices must start at 0, end at nnz and never decrease, got "
            f"{offsets.tolist()} for nnz {nnz}"
        )
    if columns.size and (int(columns.min()) < 0 or int(columns.max()) >= size[1]):
        raise RuntimeError(
            f"col_indices must be in [0, {size[1]}), got values from {int(columns.min())} to "
            f"{int(columns.max())}"
        )
    if value_tensor.requires_grad:
        value_tensor = named(
            value_tensor.view(value_tensor.shape), "SparseCompressedTensorBackward0"
        )
    elif requires_grad:
        value_tensor = value_tensor.detach().requires_grad_()
    return SparseCsrTensor._from_parts(crow, col, value_tensor, size)


def to_sparse_csr(input: Tensor, dense_dim: int | None = None) -> SparseCsrTensor:  # noqa: A002
    """A 2-D dense or sparse COO tensor as a sparse CSR one (its nonzero entries for a dense
    one, the stored entries for a sparse one, repeats summed); differentiable.

    Example:
        >>> import chainrule
        >>> chainrule.eye(2).to_sparse_csr().crow_indices()
        tensor([0, 1, 2])
    """
    if isinstance(input, SparseCsrTensor):
        return input
    if dense_dim:
        raise _unsupported("to_sparse_csr with dense dimensions")
    coo = input.coalesce() if isinstance(input, SparseTensor) else to_sparse(input)
    if coo.ndim != 2 or coo.sparse_dim() != 2:
        raise RuntimeError(
            f"to_sparse_csr: expected a 2-D tensor (batched CSR is not supported), got {coo.ndim}-D"
        )
    xp = coo._backend.xp
    rows = coo._sparse_indices._array[0]
    counts = xp.bincount(rows, minlength=coo.shape[0]) if rows.size else xp.zeros(coo.shape[0])
    crow = xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(counts).astype(xp.int64)])
    col = coo._sparse_indices._array[1]
    values = coo._sparse_values
    values = named(values, "ToSparseCsrBackward0") if values.requires_grad else values
    return SparseCsrTensor._from_parts(
        Tensor._from_array(crow, coo._backend),
        Tensor._from_array(col.copy(), coo._backend),
        values,
        tuple(coo.shape),
    )


def sparse_csc_tensor(
    ccol_indices: object,
    row_indices: object,
    values: object,
    size: Sequence[int] | None = None,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
    pin_memory: bool = False,
) -> SparseCscTensor:
    """A sparse CSC matrix from its compressed columns, as `torch.sparse_csc_tensor`: the
    checks of `sparse_csr_tensor` on the transposed matrix, in CSC's names.

    Args:
        ccol_indices (array_like): columns + 1 offsets into values, from 0 to nnz.
        row_indices (array_like): nnz row indices, column by column.
        values (array_like): the nnz entries; the gradient flows to it when it requires grad.
        size (sequence of int, optional): (rows, columns); by default (the largest row + 1,
            len(ccol) - 1).
        dtype (dtype, optional): the values' type (values' own by default).
        device (device, optional): where the tensor lives.
        requires_grad (bool): make the values a leaf that requires grad.
        check_invariants (bool, optional): accepted; the parts are always checked.
        pin_memory (bool): accepted for PyTorch's signature.

    Example:
        >>> import chainrule
        >>> chainrule.sparse_csc_tensor([0, 2, 3], [0, 2, 1], [1.0, 2.0, 3.0]).shape
        chainrule.Size([3, 2])
    """
    transposed = None if size is None else (size[1], size[0])
    try:
        as_csr = sparse_csr_tensor(
            ccol_indices,
            row_indices,
            values,
            transposed,
            dtype=dtype,
            device=device,
            requires_grad=requires_grad,
        )
    except RuntimeError as error:  # the same invariants, named as CSC's parts
        message = str(error).replace("crow_indices", "\0").replace("col_indices", "row_indices")
        message = message.replace("\0", "ccol_indices").replace("size[-2]", "size[-1]")
        raise RuntimeError(message) from None
    return as_csr.t()


def to_sparse_csc(input: Tensor, dense_dim: int | None = None) -> SparseCscTensor:  # noqa: A002
    """A 2-D dense or sparse tensor as a sparse CSC one (entries ordered column by column,
    repeats summed); differentiable.

    Example:
        >>> import chainrule
        >>> chainrule.eye(2).to_sparse_csc().ccol_indices()
        tensor([0, 1, 2])
    """
    if isinstance(input, SparseCscTensor):
        return input
    if dense_dim:
        raise _unsupported("to_sparse_csc with dense dimensions")
    if isinstance(input, SparseCsrTensor):
        input = input.to_sparse_coo()  # noqa: A001
    coo = input.coalesce() if isinstance(input, SparseTensor) else to_sparse(input)
    if coo.ndim != 2 or coo.sparse_dim() != 2:
        raise RuntimeError(
            f"to_sparse_csc: expected a 2-D tensor (batched CSC is not supported), got {coo.ndim}-D"
        )
    xp = coo._backend.xp
    rows, columns = coo._sparse_indices._array
    order = xp.lexsort((rows, columns))  # by column, then row
    counts = xp.bincount(columns, minlength=coo.shape[1]) if columns.size else xp.zeros(0)
    counts = counts if columns.size else xp.zeros(coo.shape[1], dtype=xp.int64)
    ccol = xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(counts).astype(xp.int64)])
    backend = coo._backend
    values = index_select(coo._sparse_values, 0, Tensor._from_array(order, backend))
    values = named(values, "ToSparseCscBackward0") if values.requires_grad else values
    return SparseCscTensor._from_parts(
        Tensor._from_array(ccol, backend),
        Tensor._from_array(rows[order].copy(), backend),
        values,
        tuple(coo.shape),
    )


# ---- products, sums and softmax ------------------------------------------------------------------


def _check_product_dtypes(a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise DTypeError(
            f"expected scalar type {dtypes.scalar_type_name(a.dtype)} but found "
            f"{dtypes.scalar_type_name(b.dtype)}"
        )


def sparse_matmul(sparse: SparseTensor, dense: Tensor) -> Tensor:
    """sparse (n, k) @ dense (k, m) or (k,): each stored entry (i, j, v) adds v * dense[j] to
    row i of the result, one gather and one scatter-add."""
    if isinstance(dense, SparseTensor):
        return _sparse_sparse_matmul(sparse, dense)
    if sparse.ndim != 2 or sparse.sparse_dim() != 2:
        raise _unsupported(f"a product with a {sparse.ndim}-D sparse tensor")
    if dense.ndim not in (1, 2):
        raise RuntimeError(
            f"sparse matmul: the dense operand must be 1-D or 2-D, got {dense.ndim}-D"
        )
    rows, inner = sparse.shape
    if dense.shape[0] != inner:
        raise ShapeError(
            f"addmm: Argument #3 (dense): Expected dim 0 size {inner}, got {dense.shape[0]} "
            f"(shapes {sparse.shape} and {dense.shape})"
        )
    _check_product_dtypes(sparse, dense)
    _reads_structure(sparse._sparse_indices)
    indices = sparse._sparse_indices._array
    backend = sparse._backend
    row_index = Tensor._from_array(indices[0], backend)
    column_index = Tensor._from_array(indices[1], backend)
    values = sparse._sparse_values
    picked = index_select(dense, 0, column_index)
    weights = values if dense.ndim == 1 else reshape(values, (-1, 1))
    out = zeros((rows,) + tuple(dense.shape[1:]), dtype=dense.dtype, device=dense.device)
    return index_add(out, 0, row_index, picked * weights)


def _sparse_sparse_matmul(a: SparseTensor, b: SparseTensor) -> SparseTensor:
    """sparse (n, k) @ sparse (k, m): a coalesced sparse (n, m) with an entry for every pair of
    stored entries a[i, l], b[l, j] (their products summed), as PyTorch's; CSR @ CSR is CSR.
    The values are gathered and multiplied in differentiable ops."""
    for operand in (a, b):
        if operand.ndim != 2 or operand.sparse_dim() != 2:
            raise _unsupported(f"a product with a {operand.ndim}-D or hybrid sparse tensor")
    if a.shape[1] != b.shape[0]:
        raise ShapeError(
            f"mm: sparse shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({a.shape[1]} != {b.shape[0]})"
        )
    _check_product_dtypes(a, b)
    _reads_structure(a._sparse_indices)
    _reads_structure(b._sparse_indices)
    xp = a._backend.xp
    rows, inner = a._sparse_indices._array
    b_inner, columns = b._sparse_indices._array
    order = xp.argsort(b_inner, kind="stable")  # b's entries grouped by their row
    starts = xp.searchsorted(b_inner[order], inner, side="left")
    counts = xp.searchsorted(b_inner[order], inner, side="right") - starts
    left = xp.repeat(xp.arange(len(inner), dtype=xp.int64), counts)  # a's entry of each pair
    first = xp.repeat(xp.cumsum(counts) - counts, counts)
    right = order[xp.arange(len(left), dtype=xp.int64) - first + starts[left]]  # and b's
    backend = a._backend
    products = index_select(a._sparse_values, 0, Tensor._from_array(left, backend)) * (
        index_select(b._sparse_values, 0, Tensor._from_array(right, backend))
    )
    indices = Tensor._from_array(xp.stack([rows[left], columns[right]]), backend)
    out = SparseTensor._make(indices, products, (a.shape[0], b.shape[1]), False).coalesce()
    both_csr = isinstance(a, SparseCsrTensor) and isinstance(b, SparseCsrTensor)
    return to_sparse_csr(out) if both_csr else out


def spmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """input @ mat2 where input may be sparse (`torch.spmm`, the name GCN code uses).

    Args:
        input (Tensor): a sparse COO (or dense) (n, k) matrix.
        mat2 (Tensor): a dense (k, m) matrix or (k,) vector of input's dtype.

    Returns:
        Tensor: the dense product, (n, m) or (n,).

    Example:
        >>> import chainrule
        >>> adjacency = chainrule.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 1.0], (2, 2))
        >>> chainrule.spmm(adjacency, chainrule.tensor([[1.0], [2.0]]))
        tensor([[2.],
                [1.]])
    """
    if isinstance(input, SparseTensor):
        return sparse_matmul(input, mat2)
    return input @ mat2


def dense_sparse_matmul(dense: Tensor, sparse: SparseTensor) -> Tensor:
    """dense (m, n) @ sparse (n, k): (sparse^T @ dense^T)^T; a vector (n,) gives sparse^T @ it."""
    if dense.ndim not in (1, 2):
        raise _unsupported(f"a {dense.ndim}-D dense tensor times a sparse one")
    if isinstance(sparse, SparseCsrTensor):  # its transpose is CSC: go through the COO form
        sparse = sparse.to_sparse_coo()
    if dense.ndim == 1:
        return sparse_matmul(sparse.t(), dense)
    return sparse_matmul(sparse.t(), dense.t()).t().contiguous()


def sparse_addmm(
    input: Tensor,  # noqa: A002
    mat1: SparseTensor,
    mat2: Tensor,
    *,
    beta: Number = 1,
    alpha: Number = 1,
) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) with a sparse mat1, as `torch.sparse.addmm`."""
    product = sparse_matmul(mat1, mat2)
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        return scaled
    return scaled + (input if beta == 1 else input * beta)


def sparse_sum(
    input: SparseTensor,  # noqa: A002
    dim: Any = None,
    dtype: Any = None,
) -> Tensor:
    """The sum of all entries (a dense 0-d tensor), or over `dim`: a sparse tensor of the
    dimensions left, or a dense one when every sparse dimension is summed."""
    values = input._sparse_values if dtype is None else input._sparse_values.to(dtype)
    if dim is None:
        return values.sum()
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = sorted({normalize_dim("sparse.sum", d, input.ndim) for d in dims})
    sparse_dims = input.sparse_dim()
    summed_dense = tuple(d - sparse_dims + 1 for d in dims if d >= sparse_dims)
    if summed_dense:
        values = values.sum(summed_dense)
    kept = [d for d in range(sparse_dims) if d not in dims]
    if not kept:
        return values.sum(0)
    keep_size = tuple(input.shape[d] for d in kept) + tuple(values.shape[1:])
    indices = Tensor._from_array(input._sparse_indices._array[kept], input._backend)
    return SparseTensor._make(indices, values, keep_size, False).coalesce()


def sparse_softmax(
    input: SparseTensor,  # noqa: A002
    dim: int,
    dtype: Any = None,
    log: bool = False,
) -> SparseTensor:
    """Softmax over the stored entries along `dim` (missing entries count as -inf, so they
    stay missing), as `torch.sparse.softmax`; `log=True` for `torch.sparse.log_softmax`."""
    if input.dense_dim() != 0:
        raise _unsupported("softmax of a sparse tensor with dense dimensions")
    _reads_structure(input._sparse_indices)
    coalesced = input.coalesce()
    values = coalesced._sparse_values if dtype is None else coalesced._sparse_values.to(dtype)
    dim = normalize_dim("sparse.softmax", dim, input.ndim)
    xp = input._backend.xp
    indices = coalesced._sparse_indices._array
    others = [d for d in range(input.ndim) if d != dim]
    group_shape = tuple(input.shape[d] for d in others)
    if others:
        groups = xp.ravel_multi_index(tuple(indices[others]), group_shape)
    else:
        groups = xp.zeros(indices.shape[1], dtype=xp.int64)
    _, group_index = xp.unique(groups, return_inverse=True)
    group_index = group_index.reshape(-1)
    count = int(group_index.max()) + 1 if group_index.size else 0
    raw = values.detach()._array
    largest = xp.full(count, -xp.inf, dtype=raw.dtype)
    input._backend.scatter_max(largest, (group_index,), raw)
    group = Tensor._from_array(group_index, input._backend)
    shifted = values - Tensor._from_array(largest[group_index], input._backend)
    exps = shifted.exp()
    totals = index_add(zeros(count, dtype=values.dtype, device=values.device), 0, group, exps)
    picked = index_select(totals, 0, group)
    out = shifted - picked.log() if log else exps / picked
    return coalesced._with_values(out, True)
