"""assert_close: PyTorch's `torch.testing.assert_close`, so a test written for PyTorch runs.

Tensors, NumPy arrays and Python numbers compare elementwise within `atol + rtol * |expected|`
(each dtype's default tolerances, as PyTorch's); sequences and mappings compare item by item.
Shapes and, with `check_dtype`, dtypes must match exactly.

>>> import chainrule
>>> from chainrule.testing import assert_close
>>> assert_close(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.0 + 1e-7]))
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chainrule._tensor import Size, Tensor
from chainrule.backend.dtypes import from_numpy_dtype
from chainrule.ops import creation

__all__ = ["assert_allclose", "assert_close"]

# (rtol, atol) by dtype, as torch.testing's; integers and bools must be equal.
_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def assert_close(
    actual: object,
    expected: object,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_dtype: bool = True,
    msg: str | None = None,
    **ignored: object,
) -> None:
    """Raise AssertionError, with PyTorch's message, unless `actual` and `expected` are close.
    PyTorch's device, layout and stride checks (`check_device`, ...) are accepted and have
    nothing to compare here.

    Args:
        actual (Tensor, array, number, sequence or mapping): what was computed.
        expected (Tensor, array, number, sequence or mapping): what it should be.
        rtol (float, optional): relative tolerance (the dtype's default if None; give both or
            neither of rtol and atol).
        atol (float, optional): absolute tolerance (the dtype's default if None).
        equal_nan (bool): count nan as equal to nan.
        check_dtype (bool): require equal dtypes.
        msg (str, optional): the message instead of PyTorch's.
        ignored: PyTorch's device, layout and stride checks, accepted.

    Example:
        >>> import chainrule
        >>> from chainrule.testing import assert_close
        >>> assert_close(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.0000001]))
        >>> try:
        ...     assert_close(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.1]))
        ... except AssertionError as error:
        ...     print(str(error).splitlines()[0])
        Tensor-likes are not close!
    """
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: both rtol and atol must be specified, or neither")
    pairs = [(actual, expected, ())]
    while pairs:
        mine, theirs, where = pairs.pop()
        if isinstance(theirs, Mapping):
            if not isinstance(mine, Mapping) or set(mine) != set(theirs):
                raise AssertionError(msg or f"The mapping keys do not match{_at(where)}.")
            pairs.extend((mine[key], theirs[key], (*where, key)) for key in theirs)
        elif isinstance(theirs, Sequence) and not isinstance(theirs, str):
            if not isinstance(mine, Sequence) or len(mine) != len(theirs):
                raise AssertionError(msg or f"The sequence lengths do not match{_at(where)}.")
            pairs.extend((m, t, (*where, i)) for i, (m, t) in enumerate(zip(mine, theirs)))
        else:
            _compare(mine, theirs, rtol, atol, equal_nan, check_dtype, msg, where)


def _at(where: tuple) -> str:
    return "" if not where else " at item " + "".join(f"[{key!r}]" for key in where)


def _array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._backend.to_numpy(value._array)
    return np.asarray(value)


def _compare(
    actual: Any,
    expected: Any,
    rtol: float | None,
    atol: float | None,
    equal_nan: bool,
    check_dtype: bool,
    msg: str | None,
    where: tuple,
) -> None:
    mine, theirs = _array(actual), _array(expected)
    if mine.shape != theirs.shape:
        raise AssertionError(
            msg
            or f"The values for attribute 'shape' do not match{_at(where)}: "
            f"{Size(mine.shape)!r} != {Size(theirs.shape)!r}."
        )
    tensors = isinstance(actual, Tensor) and isinstance(expected, Tensor)
    if check_dtype and tensors and mine.dtype != theirs.dtype:
        raise AssertionError(
            msg
            or f"The values for attribute 'dtype' do not match{_at(where)}: "
            f"{from_numpy_dtype(mine.dtype)!r} != {from_numpy_dtype(theirs.dtype)!r}."
        )
    if rtol is None:
        name = np.promote_types(mine.dtype, theirs.dtype).name
        rtol, atol = _TOLERANCES.get(name, (0.0, 0.0))
    wide_mine, wide_theirs = mine.astype(np.float64), theirs.astype(np.float64)
    close = np.isclose(wide_mine, wide_theirs, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    difference = np.abs(wide_mine - wide_theirs)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = difference / np.abs(wide_theirs)
    mismatched = int((~close).sum())
    exact = rtol == 0 and atol == 0
    kind = "Scalars" if mine.ndim == 0 and not tensors else "Tensor-likes"
    lines = [f"{kind} are not {'equal' if exact else 'close'}!{_at(where)}", ""]
    if mine.ndim or tensors:
        lines.append(
            f"Mismatched elements: {mismatched} / {mine.size} ({100 * mismatched / mine.size:.1f}%)"
        )
    for label, values, allowed in (("absolute", difference, atol), ("relative", relative, rtol)):
        flat = np.nan_to_num(values, nan=np.inf).argmax()
        index = np.unravel_index(flat, mine.shape)
        worst = values[index] if mine.ndim else values
        line = f"Greatest {label} difference: {_number(worst)}"
        if mine.ndim:
            line += f" at index {tuple(int(i) for i in index)}"
        if not exact:
            line += f" (up to {allowed:g} allowed)"
        lines.append(line)
    raise AssertionError(msg or "\n".join(lines))


def _number(value: Any) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


# assert_allclose's older defaults, (rtol, atol) by dtype; other dtypes must be equal.
_ALLCLOSE_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


def assert_allclose(
    actual: object,
    expected: object,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = True,
    msg: str = "",
) -> None:
    """PyTorch's deprecated `torch.testing.assert_allclose` (warns as PyTorch does):
    `assert_close` with its older default tolerances, nan equal to nan and the dtypes not
    compared; a non-tensor `expected` takes `actual`'s dtype.

    Args:
        actual (Tensor or data): what was computed.
        expected (Tensor or data): what it should be.
        rtol (float, optional): relative tolerance (by dtype if None).
        atol (float, optional): absolute tolerance (by dtype if None).
        equal_nan (bool): count nan as equal to nan.
        msg (str): the message instead of PyTorch's.

    Example:
        >>> import warnings
        >>> import chainrule
        >>> from chainrule.testing import assert_allclose
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     assert_allclose(chainrule.tensor([1.0, 2.0]), [1.0, 2.00001])
    """
    warnings.warn(
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a "
        "future release. Please use `torch.testing.assert_close()` instead. You can find "
        "detailed upgrade instructions in https://github.com/pytorch/pytorch/issues/61844.",
        FutureWarning,
        stacklevel=2,
    )
    if not isinstance(actual, Tensor):
        actual = creation.tensor(actual)
    if not isinstance(expected, Tensor):
        expected = creation.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pairs = [_ALLCLOSE_TOLERANCES.get(t.dtype.name, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(
        actual,
        expected,
        rtol=rtol,
        atol=atol,
        equal_nan=equal_nan,
        check_dtype=False,
        msg=msg or None,
    )
