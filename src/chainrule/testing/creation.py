"""`make_tensor`, as torch.testing's: a tensor of random values for a test, with PyTorch's
default ranges per dtype and its checks on the arguments."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from functools import reduce

from chainrule._tensor import Tensor
from chainrule.backend import device as Device
from chainrule.backend import dtypes
from chainrule.ops import complex as complex_ops
from chainrule.ops import creation


def _value_range(
    dtype: dtypes.dtype,
    low: float | None,
    high: float | None,
    lowest: float,
    highest: float,
    default: tuple[float, float],
) -> tuple[float, float]:
    """`low` and `high` (or the defaults) checked against the dtype's [lowest, highest) and
    clamped into it; whole numbers (rounded up) for integer and bool dtypes."""
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype.is_floating_point:
        warnings.warn(
            "Passing `low==high` to `torch.testing.make_tensor` for floating or complex types "
            "is deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
            FutureWarning,
            stacklevel=4,
        )
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} "
            f"only supports [{lowest}, {highest})"
        )
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if not dtype.is_floating_point and not dtype.is_complex:
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(
    *shape: int | Sequence[int],
    dtype: dtypes.dtype,
    device: Device | str,
    low: float | None = None,
    high: float | None = None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format: object = None,
) -> Tensor:
    """A tensor of `shape` with values drawn uniformly from [low, high): by default [-9, 9)
    for floating dtypes, [-9, 10) for signed and [0, 10) for unsigned integers, and either
    value for bool, clamped to what the dtype holds.

    Args:
        *shape (int or sequence of int): the sizes.
        dtype (dtype): the dtype.
        device (device or str): where it lives.
        low (number, optional): the inclusive lower bound.
        high (number, optional): the exclusive upper bound.
        requires_grad (bool): a leaf that records operations (floating dtypes only).
        noncontiguous (bool): a strided view (every other element of a wider tensor).
        exclude_zero (bool): zeros replaced by 1 (integers) or the dtype's smallest normal.
        memory_format (memory_format, optional): the layout (exclusive with noncontiguous).

    Returns:
        Tensor: of `shape`.

    Example:
        >>> import chainrule
        >>> from chainrule.testing import make_tensor
        >>> x = make_tensor(2, 3, dtype=chainrule.float32, device="cpu", low=-1, high=1)
        >>> x.shape, bool(((x >= -1) & (x < 1)).all())
        (chainrule.Size([2, 3]), True)
    """
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    if noncontiguous and memory_format is not None:
        raise ValueError(
            "The parameters `noncontiguous` and `memory_format` are mutually exclusive, but "
            f"got noncontiguous={noncontiguous} and memory_format={memory_format}"
        )
    integral = not dtype.is_floating_point and not dtype.is_complex
    if requires_grad and integral:
        raise ValueError(
            "`requires_grad=True` is not supported for boolean and integral dtypes, but got "
            f"dtype={dtype}"
        )
    noncontiguous = noncontiguous and reduce(lambda a, b: a * b, shape, 1) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is dtypes.bool_:
        low, high = _value_range(dtype, low, high, 0, 2, (0, 2))
        result = creation.randint(low, high, shape, device=device, dtype=dtype)
    elif integral:
        info = dtypes.iinfo(dtype)
        highest = info.max + (1 if dtype is not dtypes.int64 else 0)
        default = (0 if info.min == 0 else -9, 10)
        low, high = _value_range(dtype, low, high, info.min, highest, default)
        result = creation.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype.is_floating_point or dtype.is_complex:
        info = dtypes.finfo(dtype)
        low, high = _value_range(dtype, low, high, info.min, info.max, (-9, 9))
        if dtype.is_complex:  # the real and imaginary parts each uniform on [low, high)
            part = dtypes.float32 if dtype is dtypes.complex64 else dtypes.float64
            real, imaginary = (
                creation.empty(shape, device=device, dtype=part).uniform_(low, high)
                for _ in range(2)
            )
            result = complex_ops.complex(real, imaginary)
        else:
            result = creation.empty(shape, device=device, dtype=dtype).uniform_(low, high)
    else:
        raise TypeError(
            f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor()."
        )
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if integral else dtypes.finfo(dtype).tiny
    if dtype.is_floating_point or dtype.is_complex:
        result.requires_grad = requires_grad
    return result
