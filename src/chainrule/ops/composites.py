# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""PyTorch functions that are compositions of the differentiable ops below them, so their
derivatives (of every order) are those ops': index_fill, index_copy, masked_scatter, put, cov,
corrcoef. Index and mask arrays are built with the operands' own array namespace (`xp`), so
every backend runs them.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from chainrule.errors import ShapeError
from chainrule.ops.arguments import normalize_dim
from chainrule.ops.complex import conj
from chainrule.ops.creation import zeros_like
from chainrule.ops.elementwise import clamp, sqrt, where
from chainrule.ops.indexing import index_add, index_put, take
from chainrule.ops.linalg import diagonal, mm
from chainrule.ops.nn_common import check_indices, constant
from chainrule.ops.reduction import mean
from chainrule.ops.reduction import sum as reduce_sum
from chainrule.ops.shape import reshape, squeeze, transpose, unsqueeze

if TYPE_CHECKING:  # annotations only
    from chainrule._tensor import Tensor
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
    xp = input._backend.xp
    hit = xp.zeros(size, dtype=bool)
    hit[positions % max(size, 1)] = True
    shape = [1] * input.ndim
    if input.ndim:
        shape[dim] = size
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
    if hasattr(value, "ndim") and value.ndim != 0:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    hit = _positions_along(input, dim, index, "index_fill")
    filled = where(hit, value, input)
    return filled.to(input.dtype) if filled.dtype != input.dtype else filled


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
    dim = normalize_dim("index_copy", dim, input.ndim) if input.ndim else 0
    expected = list(input.shape)
    if expected:
        expected[dim] = index.numel()
    if input.ndim and tuple(source.shape) != tuple(expected):
        raise ShapeError(
            f"index_copy: source of shape {tuple(source.shape)} does not fit input of shape "
            f"{tuple(input.shape)} with {index.numel()} indices along dim {dim}"
        )
    hit = _positions_along(input, dim, index, "index_copy")
    if not input.ndim:
        return where(hit, reshape(source, ()), input)
    placed = index_add(zeros_like(input), dim, reshape(index, (-1,)), source)
    return where(hit, placed, input)


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
    return where(constant(hits), values, input)


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
    check_indices("put", index)
    if index.numel() != source.numel():
        raise RuntimeError(
            f"put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source.numel()}, index.numel() = {index.numel()}"
        )
    flat = reshape(input, (-1,))
    written = index_put(flat, (reshape(index, (-1,)),), reshape(source, (-1,)), accumulate)
    return reshape(written, tuple(input.shape))


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
    x = input if input.ndim == 2 else reshape(input, (1, -1))
    observations = x.shape[1]
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
        average = reduce_sum(x * weights, 1) / weight_sum
    if weights is not None and aweights is not None and correction != 0:
        normalizer = weight_sum - correction * reduce_sum(weights * aweights) / weight_sum
    else:
        normalizer = weight_sum - correction
    if float(normalizer) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0", RuntimeWarning, stacklevel=2)
        normalizer = normalizer * 0
    centered = x - unsqueeze(average, 1)
    weighted = centered if weights is None else centered * weights
    products = mm(centered, conj(transpose(weighted, 0, 1)))
    return squeeze(products / normalizer)


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
