"""assert_close: PyTorch's `torch.testing.assert_close`, so a test written for PyTorch runs.

As PyTorch's, the inputs are paired first (sequences item by item, mappings key by key, in
sorted order), each pair by kind: `None`s, booleans, Python (or NumPy) numbers, and
tensor-likes of related types (two Tensors, two NumPy arrays); anything else is a TypeError.
Then the pairs are compared in order and the first failure is raised: tensors' shape, device,
dtype (with `check_dtype`) and stride (with `check_stride`), then their values within
`atol + rtol * |expected|` (the loosest of the two dtypes' default tolerances), complex values
by their modulus.

>>> import chainrule
>>> from chainrule.testing import assert_close
>>> assert_close(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.0 + 1e-7]))
"""

from __future__ import annotations

import cmath
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.backend.dtypes import promote_types
from chainrule.ops import creation

__all__ = ["assert_allclose", "assert_close"]

# (rtol, atol) by dtype, as torch.testing's; other dtypes (integers, bool) must be equal.
_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}
# A Python number compares as the dtype PyTorch gives it.
_NUMBER_DTYPES = {int: "int64", float: "float64", complex: "complex128"}


class _PairError(Exception):
    """One failed pair: the exception type to raise, PyTorch's message, and where it was."""

    def __init__(self, kind: type[Exception], message: str, where: tuple) -> None:
        super().__init__(message)
        self.kind, self.message, self.where = kind, message, where

    def error(self, msg: str | Callable[[str], str] | None) -> Exception:
        """A str `msg` replaces the message; a callable one is given PyTorch's."""
        if isinstance(msg, str):
            return self.kind(msg)
        message = self.message
        if self.where:
            message += "\n\nThe failure occurred for item " + "".join(
                str([key]) for key in self.where
            )
        return self.kind(msg(message) if callable(msg) else message)


def assert_close(
    actual: object,
    expected: object,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | Callable[[str], str] | None = None,
) -> None:
    """Raise AssertionError, with PyTorch's message, unless `actual` and `expected` are close.

    Args:
        actual (Tensor, array, number, bool, None, sequence or mapping): what was computed.
        expected (same kinds): what it should be.
        allow_subclasses (bool): let a Tensor be compared with a subclass's instance.
        rtol (float, optional): relative tolerance (the dtype's default if None; give both or
            neither of rtol and atol).
        atol (float, optional): absolute tolerance (the dtype's default if None).
        equal_nan (bool): count nan as equal to nan.
        check_device (bool): require equal devices.
        check_dtype (bool): require equal dtypes (or, for numbers, equal Python types).
        check_layout (bool): accepted: every tensor here is strided.
        check_stride (bool): require equal strides.
        msg (str or callable, optional): the message instead of PyTorch's, or a function of it.

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
    del check_layout  # one layout here
    options = {
        "allow_subclasses": allow_subclasses,
        "rtol": rtol,
        "atol": atol,
        "equal_nan": equal_nan,
        "check_device": check_device,
        "check_dtype": check_dtype,
        "check_stride": check_stride,
    }
    try:
        pairs = _pairs(actual, expected, (), options)
        for compare, where in pairs:
            try:
                compare()
            except _PairError as failure:
                failure.where = where
                raise
    except _PairError as failure:
        raise failure.error(msg) from None


def _pairs(actual: Any, expected: Any, where: tuple, options: dict) -> list:
    """(comparison, where) for every leaf pair, in PyTorch's order; a length, key or type
    mismatch fails here, before anything is compared."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _PairError(
                AssertionError,
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                where,
            )
        return [
            pair
            for index in range(len(actual))
            for pair in _pairs(actual[index], expected[index], (*where, index), options)
        ]
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        keys, wanted = set(actual.keys()), set(expected.keys())
        if keys != wanted:
            raise _PairError(
                AssertionError,
                "The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(wanted - keys)}\n"
                f"Additional keys in the actual mapping: {sorted(keys - wanted)}",
                where,
            )
        try:
            ordered = sorted(keys)
        except TypeError:
            ordered = list(keys)
        return [
            pair
            for key in ordered
            for pair in _pairs(actual[key], expected[key], (*where, key), options)
        ]
    return [(_leaf(actual, expected, where, options), where)]


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _leaf(actual: Any, expected: Any, where: tuple, options: dict) -> Callable[[], None]:
    """The comparison of one pair, by the first of PyTorch's pair kinds that takes it."""
    if actual is None or expected is None:
        return lambda: _compare_none(actual, expected)
    booleans = (bool, np.bool_)
    if isinstance(actual, booleans) and isinstance(expected, booleans):
        return lambda: _compare_booleans(bool(actual), bool(expected))
    numbers = (int, float, complex, np.number)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        a, e = (v.item() if isinstance(v, np.number) else v for v in (actual, expected))
        if type(a) in _NUMBER_DTYPES and type(e) in _NUMBER_DTYPES:
            return lambda: _compare_numbers(a, e, **options)
    tensors = _as_tensors(actual, expected, options["allow_subclasses"])
    if tensors is not None:
        return lambda: _compare_tensors(*tensors, **options)
    raise _PairError(
        TypeError,
        f"No comparison pair was able to handle inputs of type {type(actual)} and "
        f"{type(expected)}.",
        where,
    )


def _as_tensors(actual: Any, expected: Any, allow_subclasses: bool) -> tuple | None:
    """Two Tensors, or two related tensor-likes (NumPy arrays) as Tensors; else None."""
    related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    if not related or (not allow_subclasses and type(actual) is not type(expected)):
        return None
    if isinstance(actual, Tensor):
        return actual, expected
    try:
        return creation.as_tensor(actual), creation.as_tensor(expected)
    except Exception:  # noqa: BLE001 - not tensor-like: no pair takes it, as PyTorch says
        return None


def _compare_none(actual: Any, expected: Any) -> None:
    if not (actual is None and expected is None):
        raise _PairError(AssertionError, f"None mismatch: {actual} is not {expected}", ())


def _compare_booleans(actual: bool, expected: bool) -> None:
    if actual is not expected:
        raise _PairError(AssertionError, f"Booleans mismatch: {actual} is not {expected}", ())


def _tolerances(dtypes: tuple, rtol: float | None, atol: float | None) -> tuple:
    """The given pair, or the loosest of the dtypes' defaults (PyTorch's rule)."""
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise _PairError(
            ValueError,
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}.",
            (),
        )
    if rtol is not None:
        return rtol, atol
    defaults = [_TOLERANCES.get(name, (0.0, 0.0)) for name in dtypes]
    return max(d[0] for d in defaults), max(d[1] for d in defaults)


def _compare_numbers(
    actual: complex,
    expected: complex,
    *,
    rtol: Any,
    atol: Any,
    equal_nan: bool,
    check_dtype: bool,
    **unused: Any,
) -> None:
    rtol, atol = _tolerances(
        (_NUMBER_DTYPES[type(actual)], _NUMBER_DTYPES[type(expected)]), rtol, atol
    )
    if check_dtype and type(actual) is not type(expected):
        raise _PairError(
            AssertionError,
            f"The (d)types do not match: {type(actual)} != {type(expected)}.",
            (),
        )
    if actual == expected:
        return
    if equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
        return
    difference = abs(actual - expected)
    if cmath.isfinite(difference) and difference <= atol + rtol * abs(expected):
        return
    raise _PairError(AssertionError, _scalar_message(actual, expected, rtol, atol), ())


def _scalar_message(actual: Any, expected: Any, rtol: float, atol: float) -> str:
    difference = abs(actual - expected)
    relative = float("inf") if expected == 0 else difference / abs(expected)
    return _mismatch_message(
        "Scalars",
        f"Expected {expected} but got {actual}.",
        difference,
        None,
        atol,
        relative,
        None,
        rtol,
    )


def _mismatch_message(
    identifier: str,
    extra: str,
    difference: Any,
    difference_at: tuple | None,
    atol: float,
    relative: Any,
    relative_at: tuple | None,
    rtol: float,
) -> str:
    equality = rtol == 0 and atol == 0
    lines = [f"{identifier} are not {'equal' if equality else 'close'}!", "", extra]
    for kind, value, at, tolerance in (
        ("absolute", difference, difference_at, atol),
        ("relative", relative, relative_at, rtol),
    ):
        if at is None:
            line = f"{kind.title()} difference: {value}"
        else:
            line = f"Greatest {kind} difference: {value} at index {at}"
        lines.append(line if equality else f"{line} (up to {tolerance} allowed)")
    return "\n".join(lines)


def _compare_tensors(
    actual: Tensor,
    expected: Tensor,
    *,
    rtol: Any,
    atol: Any,
    equal_nan: bool,
    check_device: bool,
    check_dtype: bool,
    check_stride: bool,
    **unused: Any,
) -> None:
    rtol, atol = _tolerances((actual.dtype.name, expected.dtype.name), rtol, atol)
    checks = [("shape", lambda t: t.shape, True), ("stride()", lambda t: t.stride(), check_stride)]
    checks += [
        ("device", lambda t: t.device, check_device),
        ("dtype", lambda t: t.dtype, check_dtype),
    ]
    for attribute, read, wanted in checks:
        if wanted and read(actual) != read(expected):
            raise _PairError(
                AssertionError,
                f"The values for attribute '{attribute}' do not match: "
                f"{str(read(actual))} != {str(read(expected))}.",  # str: torch.Size([2, 3])
                (),
            )
    common = promote_types(actual.dtype, expected.dtype).numpy  # PyTorch's promotion
    mine, theirs = (
        t._backend.to_numpy(t.detach()._array).astype(common) for t in (actual, expected)
    )
    if common.kind in "fc" or common.name == "bfloat16":
        wide = np.complex128 if common.kind == "c" else np.float64  # NumPy's isclose and ml_dtypes
        close = np.isclose(
            mine.astype(wide), theirs.astype(wide), rtol=rtol, atol=atol, equal_nan=equal_nan
        )
        matches = np.asarray(close)
    else:
        matches = np.asarray(mine == theirs)
    if matches.all():
        return
    if mine.ndim == 0:
        raise _PairError(
            AssertionError, _scalar_message(mine.item(), theirs.item(), rtol, atol), ()
        )
    raise _PairError(AssertionError, _tensor_message(mine, theirs, matches, rtol, atol), ())


def _tensor_message(
    mine: np.ndarray, theirs: np.ndarray, matches: np.ndarray, rtol: float, atol: float
) -> str:
    """PyTorch's report: the worst absolute and relative differences among the mismatches,
    computed in the tensors' dtype (integers and bools in int64, their ratio in float32)."""
    mismatched, total = int((~matches).sum()), matches.size
    if mine.dtype.kind not in "fc" and mine.dtype.name != "bfloat16":
        mine, theirs = mine.astype(np.int64), theirs.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        difference = np.abs(mine - theirs)
        difference[matches] = 0
        scale = np.abs(theirs)
        if difference.dtype.kind == "i":  # PyTorch's true division: the default float dtype
            difference, scale = difference.astype(np.float32), scale.astype(np.float32)
            relative = difference / scale
            difference = np.abs(mine - theirs)
            difference[matches] = 0
        else:
            relative = difference / scale
        relative[matches] = 0
    worst = []
    for values in (difference.ravel(), relative.ravel()):
        flat = int(np.argmax(values))  # the first nan, as torch.max, or the first largest
        worst.append(
            (values[flat].item(), tuple(int(i) for i in np.unravel_index(flat, mine.shape)))
        )
    (absolute, absolute_at), (relative_value, relative_at) = worst
    extra = f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"
    return _mismatch_message(
        "Tensor-likes", extra, absolute, absolute_at, atol, relative_value, relative_at, rtol
    )


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
