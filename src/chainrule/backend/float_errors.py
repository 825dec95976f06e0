"""Inf and nan without warnings, as in PyTorch: NumPy's floating-point error state is set to
"ignore" while chainrule's ops run, so `log(0)` is -inf silently, never a RuntimeWarning
pointing into chainrule's files. CuPy never warns; its ops are unaffected.

NumPy 2 keeps that state in a ContextVar, `FLOAT_ERRORS`. Setting it to `QUIET` and back
costs about 0.3 us, against 2.5 us for entering and leaving `np.errstate`. `Op.apply` pays
it only when the state is not already quiet: a backward pass, a module's forward and an
optimizer step each set it once around all their ops (about 0.05 us per op inside them).
With a NumPy that has no such variable (1.x), nothing is silenced: NumPy's warnings show.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

try:
    from numpy._core._multiarray_umath import _extobj_contextvar, _make_extobj
except ImportError:  # NumPy 1.x
    FLOAT_ERRORS: ContextVar[Any] = ContextVar("float_errors_unused", default=None)
    QUIET: Any = object()
else:
    FLOAT_ERRORS = _extobj_contextvar
    QUIET = _make_extobj(all="ignore")


@contextmanager
def quiet_float_errors() -> Iterator[None]:
    """Inside: NumPy's floating-point errors (divide, overflow, invalid) are silent."""
    if FLOAT_ERRORS.get() is QUIET:
        yield
        return
    token = FLOAT_ERRORS.set(QUIET)
    try:
        yield
    finally:
        FLOAT_ERRORS.reset(token)
