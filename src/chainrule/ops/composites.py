# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""PyTorch functions that are compositions of the differentiable ops below them, so their
derivatives (of every order) are those ops': index_fill, index_copy, masked_scatter, put, cov,
corrcoef, the view scatters (diagonal_scatter, select_scatter, slice_scatter,
as_strided_scatter), cumulative_trapezoid and combinations. Index and mask arrays are built
with the operands' own array namespace (`xp`), so every backend runs them.
"""

from __future__ import annotations

import itertools as _itertools
import math
import warnings
from typing import TYPE_CHECKING, Any

from chainrule._tensor import Tensor
from chainrule.autograd.observers import observers
from chainrule.backend.dtypes import bool_, get_default_dtype, scalar_type_name
from chainrule.errors import DomainError, DTypeError, IndexRangeError, ShapeError
from chainrule.ops.arguments import normalize_dim
from chainrule.ops.complex import conj
from chainrule.ops.creation import (
    as_tensor,
    checked_fill,
    full_like,
    scalar_value,
    zeros,
    zeros_like,
)
from chainrule.ops.elementwise import clamp, sqrt, where
from chainrule.ops.indexing import (
    check_long_index,
    getitem,
    index_put,
    index_put_values,
    scatter,
    scatter_add,
    scatter_reduce,
    select,
    take,
)
from chainrule.ops.linalg import diagonal, mm
from chainrule.ops.nn_common import check_indices, constant
from chainrule.ops.op import named
from chainrule.ops.reduction import cumsum, mean, vector_norm
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import (
    cat,
    chunk,
    expand,
    movedim,
    reshape,
    split,
    squeeze,
    transpose,
    unsqueeze,
)

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from chainrule._typing import Number


def _positions_along(input: Any, dim: int, index: Any, op_name: str) -> Any:
    """A bool constant, broadcastable to input, True at the `index` positions along `dim`."""
    check_indices(op_name, index)
    if index.ndim > 1:
        raise IndexError(f"{op_name}: Index is supposed to be a vector, got {index.ndim} dims")
    size = input.shape[dim] if input.ndim else 1
    positions = index._array.reshape(-1)
    if positions.size and bool(((positions < -size) | (positions >= size)).any()):
        raise IndexError(f"{op_name}: index out of range in self (dimension {dim} of size {size})")
    shape = [1] * input.ndim
    if input.ndim:
        shape[dim] = size
    if observers.get() is not None:
        # under vmap (the index may differ per example) or a compile trace (it may differ per
        # call): the same mask from tensor ops, which batch and replay
        wrapped = reshape(index, (-1,)) % max(size, 1)
        hit = index_put(zeros(size, dtype=bool_, device=input.device), (wrapped,), True)
        return reshape(hit, tuple(shape))
    xp = input._backend.xp
    hit = xp.zeros(size, dtype=bool)
    hit[positions % max(size, 1)] = True
    return constant(hit.reshape(shape))


def index_fill(input: Tensor, dim: int, index: Tensor, value: Tensor | Number) -> Tensor:
    """A copy of input with every slice at `index` along `dim` set to `value` (a number or a
    0-d tensor, which then receives the gradient of the filled elements).

    Args:
        input (Tensor): the tensor filled (not modified).
        dim (int): the dimension indexed.
        index (Tensor): 1-D int indices of the slices filled.
        value (number or 0-d Tensor): the fill value.

    Example:
        >>> import chainrule
        >>> chainrule.zeros(2, 3).index_fill(1, chainrule.tensor([0, 2]), 5.0)
        tensor([[5., 0., 5.],
                [5., 0., 5.]])
    """
    dim = normalize_dim("index_fill", dim, input.ndim) if input.ndim else 0
    check_long_index("index_fill_", index, IndexRangeError)  # (PyTorch: an IndexError)
    if hasattr(value, "ndim") and value.ndim != 0:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    number = scalar_value(value) if isinstance(value, Tensor) else value  # read as a Scalar
    if isinstance(number, complex) and not input.dtype.is_complex:
        raise DomainError(
            "index_fill_(): Converting complex Scalar to non-complex type is not supported"
        )
    checked_fill("index_fill_", number, input.dtype)  # -1.5 into uint8 overflows
    hit = _positions_along(input, dim, index, "index_fill")
    filled = where(hit, value, input)
    filled = filled.to(input.dtype) if filled.dtype != input.dtype else filled
    return named(
        filled, "IndexFillBackward1" if isinstance(value, Tensor) else "IndexFillBackward0"
    )


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of input whose slices at `index` along `dim` are source's slices, in order
    (source's gradient is the output gradient's slices at `index`). Indices should be
    distinct: PyTorch leaves repeats unspecified.

    Args:
        input (Tensor): the tensor copied into (not modified).
        dim (int): the dimension indexed.
        index (Tensor): 1-D int indices, one per slice of `source`.
        source (Tensor): the slices written.

    Example:
        >>> import chainrule
        >>> chainrule.zeros(3).index_copy(0, chainrule.tensor([2, 0]), chainrule.tensor([1.0, 2.0]))
        tensor([2., 0., 1.])
    """
    check_long_index("index_copy_", index)
    if source.dtype != input.dtype:
        raise DTypeError(
            f"index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{input.dtype.name} and (source) {source.dtype.name}"
        )
    dim = normalize_dim("index_copy", dim, input.ndim) if input.ndim else 0
    expected = list(input.shape)
    if expected:
        expected[dim] = index.numel()
    if input.ndim and tuple(source.shape) != tuple(expected):
        raise ShapeError(
            f"index_copy: source of shape {tuple(source.shape)} does not fit input of shape "
            f"{tuple(input.shape)} with {index.numel()} indices along dim {dim}"
        )
    if not input.ndim:
        count = index.numel()
        if source.ndim == 0 and count != 1:
            raise IndexRangeError(
                f"index_copy_(): When source is scalar, index should have one element (got {count})"
            )
        if source.ndim and source.numel() != count:
            raise IndexRangeError(
                f"index_copy_(): Number of indices ({count}) should be equal to source.size(dim) "
                f"({source.numel()})"
            )
    size = input.shape[dim] if input.ndim else 1
    positions = index._array.reshape(-1)
    if positions.size and bool(((positions < 0) | (positions >= size)).any()):
        bad = int(positions.min()) if int(positions.min()) < 0 else int(positions.max())
        raise IndexRangeError(  # (no counting from the end, unlike index_fill)
            f"index_copy_(): index {bad} is out of bounds for dimension {dim} with size {size}"
        )
    hit = _positions_along(input, dim, index, "index_copy")
    if not input.ndim:
        if not index.numel():
            return named(where(hit, input, input), "IndexCopyBackward0")
        last = reshape(source, (-1,))[-1]  # (a repeated index: the last write, as PyTorch's CPU)
        return named(where(hit, last, input), "IndexCopyBackward0")
    # written as NumPy assigns, so a repeated index keeps its last slice, as PyTorch's CPU
    key = (slice(None),) * dim + (reshape(index, (-1,)),)
    placed = index_put_values(zeros_like(input), key, source)
    return named(where(hit, placed, input), "IndexCopyBackward0")


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of input whose elements where `mask` (broadcast to input) is True are source's
    first elements, in row-major order.

    Args:
        input (Tensor): the tensor written into (not modified).
        mask (Tensor): bool, broadcastable to `input`.
        source (Tensor): at least as many elements as `mask` has True values.

    Example:
        >>> import chainrule
        >>> x = chainrule.zeros(2, 2)
        >>> x.masked_scatter(chainrule.tensor([[True, False], [True, True]]), chainrule.arange(4.0))
        tensor([[0., 0.],
                [1., 2.]])
    """
    if mask.dtype.name != "bool":
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got {mask.dtype}")
    if source.dtype != input.dtype:
        raise DTypeError(
            f"masked_scatter: expected self and source to have same dtypes but got "
            f"{input.dtype.name} and {source.dtype.name}"
        )
    xp = input._backend.xp
    hits = xp.broadcast_to(mask._array, tuple(input.shape))
    count = int(hits.sum())
    if count > source.numel():
        raise RuntimeError(
            "masked_scatter: expected source to have at least as many elements as the ones "
            f"in mask ({count} > {source.numel()})"
        )
    order = xp.cumsum(hits.reshape(-1)) - 1
    picks = xp.where(hits.reshape(-1), order, 0).reshape(hits.shape)
    values = take(reshape(source, (-1,)), constant(picks))
    return named(where(constant(hits), values, input), "MaskedScatterBackward0")


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input, seen as flat, with input.flatten()[index] = source (added with
    accumulate=True, repeats adding up).

    Args:
        input (Tensor): the tensor written into (not modified).
        index (Tensor): int indices into the flattened `input`.
        source (Tensor): one value per index.
        accumulate (bool): add instead of writing.

    Example:
        >>> import chainrule
        >>> chainrule.zeros(2, 2).put(chainrule.tensor([3, 0]), chainrule.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 1.]])
    """
    check_long_index("put_", index)
    if source.dtype != input.dtype:
        raise DTypeError(
            f"put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{input.dtype.name} and source.dtype = {source.dtype.name}"
        )
    if index.numel() != source.numel():
        raise RuntimeError(
            f"put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source.numel()}, index.numel() = {index.numel()}"
        )
    flat = reshape(input, (-1,))
    written = index_put(flat, (reshape(index, (-1,)),), reshape(source, (-1,)), accumulate)
    return named(reshape(written, tuple(input.shape)), "PutBackward0")


def cov(
    input: Tensor,
    *,
    correction: int = 1,
    fweights: Tensor | None = None,
    aweights: Tensor | None = None,
) -> Tensor:
    """The covariance matrix of the variables in input's rows (observations in columns; a
    1-D input is one variable), with frequency and analytic weights and `correction`
    (1: Bessel's), as torch.cov.

    Args:
        input (Tensor): (variables, observations), or 1-D for one variable.
        correction (int): subtracted from the observation count (1: Bessel's correction).
        fweights (Tensor, optional): 1-D integer frequency of each observation.
        aweights (Tensor, optional): 1-D weight of each observation.

    Example:
        >>> import chainrule
        >>> chainrule.cov(chainrule.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
    """
    if input.ndim > 2:
        raise ShapeError(
            f"cov(): expected input to have two or fewer dimensions but got an input with "
            f"{input.ndim} dimensions"
        )
    if input.dtype is bool_:
        raise DTypeError("cov(): bool dtype is not supported for input")
    x = input if input.ndim == 2 else reshape(input, (1, -1))
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(get_default_dtype())  # (an integer input: in the default dtype)
    observations = x.shape[1]
    _check_cov_weights("fweights", fweights, observations, integral=True)
    _check_cov_weights("aweights", aweights, observations, integral=False)
    weights = None
    if fweights is not None:
        weights = fweights
    if aweights is not None:
        weights = aweights if weights is None else weights * aweights
    if weights is None:
        average = mean(x, 1)
        weight_sum = observations
    else:
        weight_sum = reduce_sum(weights)
        if observations and float(weight_sum) == 0:
            raise DomainError("cov(): weights sum to zero, can't be normalized")
        average = reduce_sum(x * weights, 1) / weight_sum
    if weights is not None and aweights is not None and correction != 0:
        normalizer = weight_sum - correction * reduce_sum(weights * aweights) / weight_sum
    else:
        normalizer = weight_sum - correction
    if float(normalizer) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0", RuntimeWarning, stacklevel=2)
        normalizer = abs(normalizer * 0)  # +0, as PyTorch's zero_() (a negative gives -0)
    centered = x - unsqueeze(average, 1)
    weighted = centered if weights is None else centered * weights
    products = mm(centered, conj(transpose(weighted, 0, 1)))
    return squeeze(products / normalizer)


def _check_cov_weights(name: str, weights: Any, observations: int, integral: bool) -> None:
    """cov's checks of fweights (integers) or aweights (floating): at most 1-D, one per
    observation, none negative; PyTorch's RuntimeErrors."""
    if weights is None:
        return
    if weights.ndim > 1:
        raise ShapeError(
            f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
            f"{weights.ndim} dimensions"
        )
    if weights.numel() != observations:
        raise ShapeError(
            f"cov(): expected {name} to have the same numel as there are observations in the "
            f"input but got {weights.numel()} != {observations}"
        )
    floating = weights.is_floating_point()
    if integral and (floating or weights.is_complex() or weights.dtype is bool_):
        raise DTypeError(
            f"cov(): expected {name} to have integral dtype but got {name} with "
            f"{weights.dtype.name} dtype"
        )
    if not integral and not floating:
        raise DTypeError(
            f"cov(): expected {name} to have floating point dtype but got {name} with "
            f"{weights.dtype.name} dtype"
        )
    if observations and bool((weights._array < 0).any()):
        raise DomainError(f"cov(): {name} cannot be negative")


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the variables in input's rows: cov scaled by the
    standard deviations, clipped to [-1, 1] (real inputs; complex ones are not clipped), as
    torch.corrcoef.

    Args:
        input (Tensor): (variables, observations), or 1-D for one variable.

    Example:
        >>> import chainrule
        >>> chainrule.corrcoef(chainrule.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
    """
    covariance = cov(input)
    if covariance.ndim == 0:
        return covariance / covariance
    variances = diagonal(covariance)
    deviations = sqrt(variances.real if covariance.is_complex() else variances)
    scaled = covariance / unsqueeze(deviations, 1) / unsqueeze(deviations, 0)
    if scaled.is_complex():
        return scaled
    return clamp(scaled, -1, 1)


# ---- the scatters that invert a view: out = input.clone(); out.<view>(...).copy_(src) ------


def _view_scatter(op_name: str, input: Tensor, src: Tensor, view: Any) -> Tensor:
    """input with the elements `view(input)` selects replaced by src (of that view's shape):
    a copy written through the view, so the derivative is the view's (g outside the view to
    input, the view of g to src) and higher orders come from the same ops."""
    out = input.clone()
    target = view(out)
    if tuple(src.shape) != tuple(target.shape):
        raise ShapeError(
            f"{op_name}: expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(target.shape)}"
        )
    target.copy_(src)
    return out


def diagonal_scatter(
    input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1
) -> Tensor:
    """A copy of `input` with the diagonal `input.diagonal(offset, dim1, dim2)` replaced by
    `src`. Differentiable in both: the gradient of the replaced elements goes to `src`, the
    rest to `input`.

    Args:
        input (Tensor): at least 2-D.
        src (Tensor): the new diagonal, of `diagonal(input, offset, dim1, dim2)`'s shape.
        offset (int): which diagonal (0 the main, > 0 above, < 0 below).
        dim1 (int): the first dimension of the matrices.
        dim2 (int): the second dimension of the matrices.

    Returns:
        Tensor: input's shape and dtype.

    Example:
        >>> import chainrule
        >>> chainrule.diagonal_scatter(chainrule.zeros(2, 2), chainrule.ones(2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    expected = tuple(diagonal(input, offset, dim1, dim2).shape)
    if tuple(src.shape) != expected:
        raise ShapeError(
            f"diagonal_scatter: expected src to have a size equal to the slice of self. src "
            f"size = {list(src.shape)}, slice size = {list(expected)}"
        )
    # An indexed write, not one through the diagonal view (NumPy's diagonal is read-only).
    first = normalize_dim("diagonal_scatter", dim1, input.ndim)
    second = normalize_dim("diagonal_scatter", dim2, input.ndim)
    matrices = movedim(input, (first, second), (-2, -1)).clone()
    xp = input._backend.xp
    steps = xp.arange(expected[-1], dtype=xp.int64)
    rows, columns = constant(steps + max(-offset, 0)), constant(steps + max(offset, 0))
    matrices[..., rows, columns] = src
    out = movedim(matrices, (-2, -1), (first, second)).contiguous()  # as PyTorch's
    return named(out, "DiagonalScatterBackward0")


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of `input` with `input.select(dim, index)` replaced by `src`. Differentiable in
    both.

    Args:
        input (Tensor): at least 1-D.
        src (Tensor): input's shape without `dim`.
        dim (int): the dimension to select along.
        index (int): the position along it (negative counts from the end).

    Returns:
        Tensor: input's shape and dtype.

    Example:
        >>> import chainrule
        >>> chainrule.select_scatter(chainrule.zeros(2, 2), chainrule.ones(2), 0, 1)
        tensor([[0., 0.],
                [1., 1.]])
    """
    return named(
        _view_scatter("select_scatter", input, src, lambda out: select(out, dim, index)),
        "SelectScatterBackward0",
    )


def slice_scatter(
    input: Tensor,
    src: Tensor,
    dim: int = 0,
    start: int | None = None,
    end: int | None = None,
    step: int = 1,
) -> Tensor:
    """A copy of `input` with the slice start:end:step along `dim` replaced by `src`.
    Differentiable in both.

    Args:
        input (Tensor): any shape.
        src (Tensor): the slice's shape.
        dim (int): the dimension to slice.
        start (int, optional): the first position (default 0).
        end (int, optional): one past the last (default the end).
        step (int): the stride, at least 1.

    Returns:
        Tensor: input's shape and dtype.

    Example:
        >>> import chainrule
        >>> chainrule.slice_scatter(chainrule.zeros(4), chainrule.ones(2), start=1, step=2)
        tensor([0., 1., 0., 1.])
    """
    if step < 1:
        raise DomainError(f"slice_scatter: slice step must be positive, got {step}")

    def view(out: Any) -> Any:
        axis = normalize_dim("slice_scatter", dim, out.ndim)
        return getitem(out, (slice(None),) * axis + (slice(start, end, step),))

    return named(_view_scatter("slice_scatter", input, src, view), "SliceScatterBackward0")


def as_strided_scatter(
    input: Tensor,
    src: Tensor,
    size: Sequence[int],
    stride: Sequence[int],
    storage_offset: int | None = None,
) -> Tensor:
    """A copy of `input` with the elements `input.as_strided(size, stride, storage_offset)`
    would view (positions in input's row-major order) replaced by `src`. Differentiable in
    both; positions the strides reach twice take one of src's values.

    Args:
        input (Tensor): any shape (its elements read in row-major order).
        src (Tensor): of `size`.
        size (list of int): the view's shape.
        stride (list of int): the view's strides, in elements.
        storage_offset (int, optional): where the view starts (default 0).

    Returns:
        Tensor: input's shape and dtype.

    Example:
        >>> import chainrule
        >>> chainrule.as_strided_scatter(chainrule.zeros(2, 3), chainrule.ones(2), (2,), (4,))
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise ValueError(
            f"as_strided_scatter: mismatch in length of strides and shape ({size}, {stride})"
        )
    if tuple(src.shape) != size:
        raise ShapeError(
            f"as_strided_scatter: expected src to have a size equal to the slice of self. src "
            f"size = {list(src.shape)}, slice size = {list(size)}"
        )
    xp = input._backend.xp
    positions = xp.asarray(storage_offset or 0, dtype=xp.int64)
    for extent, step in zip(size, stride):
        positions = positions[..., None] + xp.arange(extent, dtype=xp.int64) * step
    numel = input.numel()
    if positions.size and (int(positions.max()) >= numel or int(positions.min()) < 0):
        raise ValueError(
            f"as_strided_scatter: size {list(size)}, stride {list(stride)} and storage offset "
            f"{storage_offset or 0} reach outside the {numel} elements of input"
        )
    flat = reshape(input, (-1,))
    index = constant(positions.reshape(-1))
    written = scatter(flat, 0, index, reshape(src.to(input.dtype), (-1,)))
    return reshape(written, tuple(input.shape))


# ---- integrals, combinations and norms ---------------------------------------------------------


def cumulative_trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """The running trapezoidal rule along `dim`: element i is the integral from the first
    sample to sample i + 1 (samples `y` at points `x`, or spaced `dx` apart, 1 by default).
    Linear in y, so its derivatives are exact.

    Args:
        y (Tensor): the sampled values (integers become the default float dtype).
        x (Tensor, optional): the sample points, 1-D along dim or broadcasting with y.
        dx (float, optional): the spacing when `x` is not given.
        dim (int): the dimension integrated along.

    Returns:
        Tensor: y's shape with one element fewer along `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.cumulative_trapezoid(chainrule.tensor([1.0, 2.0, 4.0]))
        tensor([1.5000, 4.5000])
    """
    if x is not None and dx is not None:
        raise TypeError(
            "cumulative_trapezoid(): pass either the sample points x or the spacing dx, not both"
        )
    for name, t in (("y", y), ("x", x)):
        if t is not None and t.dtype is bool_:
            raise DTypeError(
                f"cumulative_trapezoid: received a bool input for `{name}`, but bool is not "
                "supported"
            )
    if y.ndim == 0:
        raise IndexError("cumulative_trapezoid: slice() cannot be applied to a 0-dim tensor.")
    if not (y.is_floating_point() or y.is_complex()):
        y = y.to(get_default_dtype())
    axis = normalize_dim("cumulative_trapezoid", dim, y.ndim)
    size = y.shape[axis]

    def along(t: Any, key: slice) -> Any:
        return getitem(t, (slice(None),) * axis + (key,))

    pairs = along(y, slice(1, None)) + along(y, slice(0, max(size - 1, 0)))
    if x is None:
        return cumsum(pairs * ((1.0 if dx is None else dx) / 2.0), axis)
    if x.ndim == 1:
        if x.shape[0] != size:
            raise ShapeError(
                f"cumulative_trapezoid: There must be one `x` value for each sample point (x "
                f"shape {tuple(x.shape)}, y shape {tuple(y.shape)}, dim {dim})"
            )
        x = reshape(x, tuple(size if i == axis else 1 for i in range(y.ndim)))
    spacing = along(x, slice(1, None)) - along(x, slice(0, max(size - 1, 0)))
    return named(cumsum(pairs * spacing / 2.0, axis), "DivBackward1")  # PyTorch's last op


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-r combinations of a 1-D tensor's elements, in lexicographic order of their
    positions (itertools.combinations, or combinations_with_replacement). Differentiable: a
    gather of input's elements.

    Args:
        input (Tensor): 1-D.
        r (int): the length of each combination, at least 0.
        with_replacement (bool): an element may repeat within a combination.

    Returns:
        Tensor: (number of combinations, r); 1-D and empty when r is 0.

    Example:
        >>> import chainrule
        >>> chainrule.combinations(chainrule.tensor([1, 2, 3]))
        tensor([[1, 2],
                [1, 3],
                [2, 3]])
    """
    if input.ndim != 1:
        raise ShapeError(f"combinations: Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise DomainError(f"combinations: Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty((0,))
    choose = (
        _itertools.combinations_with_replacement if with_replacement else _itertools.combinations
    )
    rows = list(choose(range(input.shape[0]), r))
    xp = input._backend.xp
    positions = xp.asarray(rows, dtype=xp.int64).reshape(len(rows), r)
    return named(take(input, constant(positions)), "StackBackward0")


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice input.select(dim, i) whose p-norm exceeds `maxnorm` scaled down to norm
    `maxnorm` (by maxnorm / (norm + 1e-7), PyTorch's factor); the others unchanged.
    Differentiable, through the norms too.

    Args:
        input (Tensor): floating point, at least 2-D.
        p (float): the norm's order, positive.
        dim (int): the dimension whose slices are renormalized.
        maxnorm (float): the largest norm a slice keeps, at least 0.

    Returns:
        Tensor: input's shape.

    Example:
        >>> import chainrule
        >>> chainrule.renorm(chainrule.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
        tensor([[0.6000, 0.8000],
                [0.3000, 0.4000]])
    """
    if input.ndim < 2:
        raise ShapeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if p <= 0:  # RuntimeErrors, as PyTorch's
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    axis = normalize_dim("renorm", dim, input.ndim)
    others = tuple(d for d in range(input.ndim) if d != axis)
    above = vector_norm(input.detach(), p, others, keepdim=True) > maxnorm
    # (the norm differentiated only over the slices it rescales: an all-zero slice's norm has
    # a 0/0 derivative, nan even where `where` discards it)
    norms = vector_norm(where(above, input, 1.0), p, others, keepdim=True)
    factor = where(above, maxnorm / (norms + 1e-7), 1.0)
    return named(input * factor, "RenormBackward0")


def fill(input: Tensor, value: Tensor | Number) -> Tensor:
    """A tensor of input's shape, dtype and device filled with `value` (PyTorch's
    out-of-place `fill_`); differentiable in a tensor `value`.

    Args:
        input (Tensor): gives the shape, dtype and device.
        value (Tensor or number): a number or a 0-d tensor.

    Returns:
        Tensor: input's shape and dtype.

    Example:
        >>> import chainrule
        >>> chainrule.fill(chainrule.tensor([1, 2]), 2.7)
        tensor([2, 2])
    """
    if isinstance(value, Tensor):
        if value.ndim:
            raise ShapeError(
                f"fill: fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions (value shape {tuple(value.shape)})"
            )
        return named(expand(value.to(input.dtype), tuple(input.shape)).clone(), "FillBackward1")
    return full_like(input, value)


def detach(input: Tensor) -> Tensor:
    """`input.detach()`: the same values, cut from the graph (no gradient flows through).

    Args:
        input (Tensor): any tensor.

    Returns:
        Tensor: a view of input's data that does not require grad.

    Example:
        >>> import chainrule
        >>> chainrule.detach(chainrule.ones(2, requires_grad=True)).requires_grad
        False
    """
    return input.detach()


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of each matrix: input.transpose(-2, -1).conj(); of a 0-D tensor
    its conjugate (deprecated, with PyTorch's UserWarning).

    Args:
        input (Tensor): at least 2-D (or 0-D).

    Returns:
        Tensor: with the last two dimensions swapped.

    Example:
        >>> import chainrule
        >>> chainrule.adjoint(chainrule.tensor([[1 + 1j, 2 + 0j]]))
        tensor([[1.-1.j],
                [2.-0.j]])
    """
    if input.ndim == 0:
        warnings.warn(
            "adjoint() is deprecated on 0-D tensors. Consider using x.conj().",
            UserWarning,
            stacklevel=2,
        )
        return conj(input)
    if input.ndim < 2:
        raise ShapeError(
            f"adjoint: tensor.adjoint() is only supported on matrices or batches of matrices. "
            f"Got {input.ndim}-D tensor."
        )
    return conj(transpose(input, -2, -1))


def unravel_index(indices: Tensor | int, shape: int | Sequence[int]) -> tuple:
    """The coordinates, in a tensor of `shape`, of flat (row-major) `indices`: one tensor per
    dimension, as NumPy's unravel_index (indices wrap around modulo the sizes, as PyTorch's).

    Args:
        indices (Tensor or int): integer flat indices, any shape.
        shape (int or sequence of ints): the shape they index.

    Returns:
        tuple of Tensor: one int64 tensor of indices' shape per dimension of `shape`.

    Example:
        >>> import chainrule
        >>> chainrule.unravel_index(chainrule.tensor([4, 1]), (2, 3))
        (tensor([1, 0]), tensor([1, 1]))
    """
    if not isinstance(indices, Tensor):
        indices = as_tensor(indices)
    if indices.dtype.is_floating_point or indices.is_complex() or indices.dtype is bool_:
        raise TypeError(
            f"unravel_index(): expected 'indices' to be integer dtype, but got {indices.dtype.name}"
        )
    sizes = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(size < 0 for size in sizes):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, but got {sizes}")
    xp = indices._backend.xp
    flat = indices._array.astype(xp.int64)
    coordinates = []
    stride = 1
    for size in reversed(sizes):
        coordinates.append(constant((flat // stride) % max(size, 1)))
        stride *= size
    return tuple(reversed(coordinates))


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    """Pieces of `input` along `dim` of the given sizes (views): `split` with a list.

    Args:
        input (Tensor): at least 1-D.
        split_sizes (sequence of ints): the pieces' sizes, summing to input.shape[dim].
        dim (int): the dimension to split.

    Returns:
        tuple of Tensor: the pieces.

    Example:
        >>> import chainrule
        >>> chainrule.split_with_sizes(chainrule.arange(5), [2, 3])
        (tensor([0, 1]), tensor([2, 3, 4]))
    """
    sizes = list(split_sizes)
    if input.ndim == 0:
        raise ShapeError("split_with_sizes: split expects at least a 1-dimensional tensor")
    axis = normalize_dim("split_with_sizes", dim, input.ndim)
    if sum(sizes) != input.shape[axis]:
        raise ShapeError(
            f"split_with_sizes expects split_sizes to sum exactly to {input.shape[axis]} "
            f"(input tensor's size at dimension {dim}), but got split_sizes={sizes}"
        )
    return split(input, sizes, dim)


def _untracked(pieces: tuple) -> tuple:
    """The pieces as PyTorch's unsafe_* splits give them: sharing the input's memory, but not
    views to autograd (no `_base`, their own version counters), so a piece may be written in
    place, which the views of a multi-output split refuse. Unsafe as in PyTorch: the input's
    history does not see the write."""
    return tuple(Tensor._from_array(p._array, p._backend, p._node, p._output_nr) for p in pieces)


def unsafe_split(
    tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple:
    """`split` without view tracking (see `_untracked`), as PyTorch's.

    Args:
        tensor (Tensor): at least 1-D.
        split_size_or_sections (int or list of ints): each piece's size, or the sizes.
        dim (int): the dimension to split.

    Returns:
        tuple of Tensor: the pieces, sharing `tensor`'s memory.

    Example:
        >>> import chainrule
        >>> chainrule.unsafe_split(chainrule.arange(5), 2)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
    """
    return _untracked(split(tensor, split_size_or_sections, dim))


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    """`chunk` without view tracking (see `_untracked`), as PyTorch's.

    Args:
        input (Tensor): at least 1-D.
        chunks (int): how many pieces at most.
        dim (int): the dimension to split.

    Returns:
        tuple of Tensor: the pieces, sharing `input`'s memory.

    Example:
        >>> import chainrule
        >>> chainrule.unsafe_chunk(chainrule.arange(4), 2)
        (tensor([0, 1]), tensor([2, 3]))
    """
    return _untracked(chunk(input, chunks, dim))


def unsafe_split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:  # noqa: A002
    """`split_with_sizes` without view tracking (see `_untracked`), as PyTorch's.

    Args:
        input (Tensor): at least 1-D.
        split_sizes (sequence of ints): the pieces' sizes, summing to input.shape[dim].
        dim (int): the dimension to split.

    Returns:
        tuple of Tensor: the pieces, sharing `input`'s memory.

    Example:
        >>> import chainrule
        >>> chainrule.unsafe_split_with_sizes(chainrule.arange(3), [1, 2])
        (tensor([0]), tensor([1, 2]))
    """
    return _untracked(split_with_sizes(input, split_sizes, dim))


def _one_gradient(f: Any, axis: int, spacing: Any, edge_order: int) -> Any:
    """The derivative of f along `axis` by central differences inside and one-sided ones
    (of order `edge_order`) at the two ends, NumPy's and PyTorch's formulas; `spacing` is a
    number (uniform) or the 1-D sample coordinates."""

    def along(key: slice) -> Any:
        return getitem(f, (slice(None),) * axis + (key,))

    def shaped(values: Any) -> Any:  # a 1-D tensor laid along `axis`
        return reshape(values, (-1,) + (1,) * (f.ndim - axis - 1))

    first, second, third = along(slice(0, 1)), along(slice(1, 2)), along(slice(2, 3))
    last, before, third_last = along(slice(-1, None)), along(slice(-2, -1)), along(slice(-3, -2))
    if not isinstance(spacing, Tensor):
        h = float(spacing)
        inner = (along(slice(2, None)) - along(slice(0, -2))) / (2 * h)
        if edge_order == 1:
            start, end = (second - first) / h, (last - before) / h
        else:
            start = (-1.5 * first + 2 * second - 0.5 * third) / h
            end = (0.5 * third_last - 2 * before + 1.5 * last) / h
        return cat((start, inner, end), axis)
    steps = spacing[1:] - spacing[:-1]
    left, right = shaped(steps[:-1]), shaped(steps[1:])
    inner = (
        -right / (left * (left + right)) * along(slice(0, -2))
        + (right - left) / (left * right) * along(slice(1, -1))
        + left / (right * (left + right)) * along(slice(2, None))
    )
    if edge_order == 1:
        start = (second - first) / shaped(steps[:1])
        end = (last - before) / shaped(steps[-1:])
    else:
        a, b = shaped(steps[:1]), shaped(steps[1:2])
        start = (
            -(2 * a + b) / (a * (a + b)) * first + (a + b) / (a * b) * second
            - a / (b * (a + b)) * third
        )  # fmt: skip
        a, b = shaped(steps[-2:-1]), shaped(steps[-1:])
        end = (
            b / (a * (a + b)) * third_last - (a + b) / (a * b) * before
            + (2 * b + a) / (b * (a + b)) * last
        )  # fmt: skip
    return cat((start, inner, end), axis)


def gradient(
    input: Tensor,
    *,
    spacing: float | Sequence[float] | Sequence[Tensor] = 1,
    dim: int | Sequence[int] | None = None,
    edge_order: int = 1,
) -> tuple:
    """The derivative of a sampled function along each of `dim` (every dimension by default):
    central differences inside, one-sided differences of order `edge_order` at the ends, for
    uniform samples (`spacing` a number, or one per dimension) or samples at coordinates
    (`spacing` a sequence of 1-D tensors). Linear in input, so its derivatives are exact.

    Args:
        input (Tensor): the samples (integers become the default float dtype).
        spacing (number, sequence of numbers or of 1-D tensors): the sample spacing, or the
            sample coordinates along each dimension of `dim`.
        dim (int or sequence of ints, optional): the dimensions to differentiate along.
        edge_order (int): 1 or 2, the order of the differences at the ends.

    Returns:
        tuple of Tensor: one derivative per dimension of `dim`, each input's shape.

    Example:
        >>> import chainrule
        >>> chainrule.gradient(chainrule.tensor([1.0, 4.0, 9.0, 16.0]))
        (tensor([3., 4., 6., 7.]),)
    """
    if edge_order not in (1, 2):
        raise DomainError("gradient: torch.gradient only supports edge_order=1 and edge_order=2.")
    if not (input.is_floating_point() or input.is_complex()):
        input = input.to(get_default_dtype())  # noqa: A001
    if dim is None:
        axes = tuple(range(input.ndim))
    elif isinstance(dim, int):
        axes = (normalize_dim("gradient", dim, input.ndim),)
    else:
        axes = tuple(normalize_dim("gradient", d, input.ndim) for d in dim)
        repeated = [axis for position, axis in enumerate(axes) if axis in axes[:position]]
        if repeated:
            raise DomainError(
                f"gradient: dim {repeated[0]} appears multiple times in the list of dims"
            )
    if isinstance(spacing, (int, float)) and not isinstance(spacing, bool):
        spacings = [spacing] * len(axes)
    else:
        spacings = list(spacing)
        if len(spacings) != len(axes):
            raise DomainError(
                f"gradient: torch.gradient expected spacing to be unspecified, a scalar, or a "
                f"list of length equal to the {len(axes)} dimensions differentiated, but got a "
                f"list of length {len(spacings)}"
            )
    for axis, step in zip(axes, spacings):
        if input.shape[axis] < edge_order + 1:
            raise DomainError(
                f"gradient: torch.gradient expected each dimension size to be at least "
                f"edge_order+1 (shape {tuple(input.shape)}, edge_order {edge_order})"
            )
        if isinstance(step, Tensor) and tuple(step.shape) != (input.shape[axis],):
            raise ShapeError(
                f"gradient: torch.gradient expected each tensor to be on the same device and "
                f"of size {input.shape[axis]} along dim {axis}, got coordinates of shape "
                f"{tuple(step.shape)}"
            )
    return tuple(_one_gradient(input, axis, step, edge_order) for axis, step in zip(axes, spacings))


# ---- segment_reduce --------------------------------------------------------------------------

# segment_reduce's reductions by PyTorch's names, as scatter_reduce's, and what an empty
# segment holds without `initial`.
_SEGMENT_REDUCTIONS = {"sum": "sum", "mean": "mean", "prod": "prod"}
_SEGMENT_REDUCTIONS |= {"max": "amax", "amax": "amax", "min": "amin", "amin": "amin"}
_EMPTY_SEGMENT = {"sum": 0.0, "mean": 0.0, "prod": 1.0, "amax": -math.inf, "amin": math.inf}


def segment_reduce(
    data: Tensor,
    reduce: str,
    *,
    lengths: Tensor | None = None,
    indices: Tensor | None = None,
    offsets: Tensor | None = None,
    axis: int = 0,
    unsafe: bool = False,
    initial: float | None = None,
) -> Tensor:
    """Reduce consecutive segments of `data` along `axis`, as PyTorch's `torch.segment_reduce`:
    segment i holds the next lengths[..., i] elements (or offsets[..., i] to offsets[..., i+1]).
    An empty segment holds `initial`, else 0 (sum, mean: NaN), 1 (prod), -inf (max) or inf
    (min); `initial` also takes part in every segment (added to a sum and to a mean's total, a
    factor of a product, a bound of a max or min). Gradients as PyTorch's: a max or min's goes
    to the elements equal to it, shared evenly (none when `initial` wins), a mean's is 1/length.

    Args:
        data (Tensor): floating point, segmented along `axis`.
        reduce (str): 'sum', 'mean', 'prod', 'max' ('amax') or 'min' ('amin').
        lengths (Tensor, optional): integer segment lengths, (*data.shape[:axis], segments).
        indices (Tensor, optional): accepted for PyTorch's signature (unused, as there).
        offsets (Tensor, optional): integer segment boundaries, one more than segments.
        axis (int): the dimension segmented: the last of `lengths`.
        unsafe (bool): skip the checks that lengths are non-negative and add up to the size.
        initial (float, optional): the value an empty segment holds, part of every segment.

    Returns:
        Tensor: data's shape with `axis` of size `segments`.

    Example:
        >>> import chainrule
        >>> data = chainrule.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        >>> chainrule.segment_reduce(data, "max", lengths=chainrule.tensor([2, 0, 3, 1]))
        tensor([2., -inf, 5., 6.])
        >>> chainrule.segment_reduce(data, "sum", offsets=chainrule.tensor([0, 2, 6]))
        tensor([ 3., 18.])
    """
    kind = _SEGMENT_REDUCTIONS.get(reduce)
    if kind is None:
        raise DomainError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    if lengths is None and offsets is None:
        raise DomainError("segment_reduce(): Either lengths or offsets must be defined.")
    if not data.dtype.is_floating_point:
        raise DTypeError(
            f"\"_segment_reduce_cpu\" not implemented for '{scalar_type_name(data.dtype)}'"
        )
    bounds = lengths if lengths is not None else offsets
    if bounds.dtype.is_floating_point or bounds.dtype.is_complex:
        raise DTypeError(
            f'"_segment_reduce_{"lengths" if lengths is not None else "offsets"}_cpu_kernel1" '
            f"not implemented for '{scalar_type_name(bounds.dtype)}'"
        )
    xp = bounds._backend.xp  # the index arithmetic, where the lengths are
    counts = bounds._array.astype("int64")
    if lengths is None:
        counts = xp.diff(counts, axis=-1)
    axis = normalize_dim("segment_reduce", axis, data.ndim)
    if axis != counts.ndim - 1 or tuple(data.shape[:axis]) != counts.shape[:-1]:
        raise ShapeError(
            f"segment_reduce(): Expected axis to be the last dimension of lengths and data's "
            f"dimensions before it to match lengths' (data {tuple(data.shape)}, lengths "
            f"{counts.shape}, axis {axis})"
        )
    if not unsafe:
        if (counts < 0).any():
            raise DomainError("lengths contains negative value!")
        if (counts.sum(axis=-1) != data.shape[axis]).any():
            raise DomainError(
                "segment_reduce(): Expected all rows of lengths along axis to sum to "
                "data.size(lengths.dim()-1) when !unsafe."
            )
    segments = counts.shape[-1]
    # Each element's segment: how many segments end at or before it (those past the last
    # segment, which `unsafe` allows, go to one more that is dropped).
    ends = xp.cumsum(counts, axis=-1)
    positions = xp.arange(data.shape[axis])
    ids = (ends[..., None, :] <= positions[:, None]).sum(axis=-1)
    ids = xp.minimum(ids, segments).reshape(ids.shape + (1,) * (data.ndim - axis - 1))
    index = as_tensor(xp.broadcast_to(ids, data.shape).astype("int64"), device=data.device)
    empty = _EMPTY_SEGMENT[kind]
    shape = (*data.shape[:axis], segments + 1, *data.shape[axis + 1 :])
    start = full_like(data, empty).narrow(axis, 0, 1).expand(shape)
    start = start.contiguous()
    if kind in ("sum", "mean"):
        reduced = scatter_add(start, axis, index, data)
    else:
        reduced = scatter_reduce(start, axis, index, data, kind, include_self=False)
    reduced = reduced.narrow(axis, 0, segments)
    if kind == "sum":
        out = reduced if initial is None else reduced + initial
    elif kind == "prod":
        out = reduced if initial is None else reduced * initial
    elif kind == "mean":
        sizes = counts.reshape(counts.shape + (1,) * (data.ndim - axis - 1))
        size = as_tensor(xp.maximum(sizes, 1), dtype=data.dtype, device=data.device)
        total = reduced if initial is None else reduced + initial
        held = math.nan if initial is None else initial
        hollow = as_tensor(xp.broadcast_to(sizes == 0, reduced.shape), device=data.device)
        out = where(hollow, held, total / size)
    elif initial is None:
        out = reduced
    elif kind == "amax":
        out = where(reduced >= initial, reduced, initial)
    else:
        out = where(reduced <= initial, reduced, initial)
    return named(out, "SegmentReduceBackward0")
