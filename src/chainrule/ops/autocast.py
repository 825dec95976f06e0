"""Automatic mixed precision: `autocast` and the casts it asks of the ops PyTorch lists.

Inside `autocast(device_type="cpu", dtype=chainrule.bfloat16)` the ops on PyTorch's
lower-precision list (matmul, linear, convolutions, bmm, baddbmm, addmm, einsum, prelu,
scaled_dot_product_attention) cast their floating operands on that device to the lower dtype
first, and the ops on its float32 list (the losses, prod, cdist) to float32; float64 operands
are left alone, as PyTorch's. Every other op runs in its operands' dtypes, with the usual
promotion. The casts are ordinary differentiable ops, so gradients come back in each
parameter's own dtype.

The state is a ContextVar (per thread and task), read by `autocast_operands`, which the listed
ops call on entry: one lookup that finds None when autocast is off, and no cost at all for the
other ops. Backward runs the ops' vjps, which do not call it.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops.conversion import cast

__all__ = [
    "autocast",
    "autocast_active",
    "autocast_operands",
    "autocast_policy",
    "autocast_restored",
    "get_autocast_dtype",
    "is_autocast_enabled",
]

# The dtype each device type's autocast casts to while enabled: {device type: dtype}, or None
# when no autocast is active (the common case, tested first).
_ACTIVE: ContextVar[dict | None] = ContextVar("autocast", default=None)

# PyTorch's defaults and the lower dtypes each device type supports.
_DEFAULT_DTYPES = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16, "fake": dtypes.float16}
_SUPPORTED = {
    "cpu": (dtypes.bfloat16, dtypes.float16),
    "cuda": (dtypes.bfloat16, dtypes.float16, dtypes.float32),
    "fake": (dtypes.bfloat16, dtypes.float16, dtypes.float32),
}

LOWER = "lower_precision_fp"  # PyTorch's policy names
FLOAT32 = "fp32"

F = TypeVar("F", bound=Callable[..., Any])

# The hot listed ops (matmul, linear, convolution) test this first, inline:
# `if autocast_active() is not None: x, w = autocast_operands(LOWER, x, w)`.
autocast_active = _ACTIVE.get


@contextlib.contextmanager
def autocast_restored(state: dict | None) -> Iterator[None]:
    """Run with an autocast state `autocast_active()` returned earlier (None: off), whatever
    is active now: checkpoint's recomputation in backward casts as its forward did."""
    token = _ACTIVE.set(state)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def autocast_operands(policy: str, *operands: Any) -> tuple:
    """The operands as a listed op under the active autocast takes them: floating Tensors
    (float64 excepted) on an autocast device cast to its lower dtype (`LOWER`) or to float32
    (`FLOAT32`); anything else (None, numbers, integer tensors) unchanged."""
    active = _ACTIVE.get()
    if active is None:
        return operands
    return tuple(_autocast_one(policy, active, value) for value in operands)


def autocast_policy(policy: str) -> Callable[[F], F]:
    """Decorate a listed function (a loss, say) so that under autocast its Tensor arguments,
    positional and keyword, are cast as `autocast_operands` says; one lookup when off."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            active = _ACTIVE.get()
            if active is not None:
                args = tuple(_autocast_one(policy, active, value) for value in args)
                for name, value in kwargs.items():
                    kwargs[name] = _autocast_one(policy, active, value)
            return function(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


def _autocast_one(policy: str, active: dict, value: Any) -> Any:
    if not isinstance(value, Tensor):
        return value
    kind = value.dtype
    if not kind.is_floating_point or kind is dtypes.float64:
        return value
    target = active.get(value.device.type)
    if target is None:
        return value
    if policy == FLOAT32:
        target = dtypes.float32
    return value if kind is target else cast(value, target)


class autocast:  # noqa: N801 - PyTorch's name
    """Run the region's listed ops in a lower precision: a context manager and a decorator,
    as `torch.autocast`. `dtype` defaults to bfloat16 on the CPU and float16 on CUDA;
    `enabled=False` turns autocast off inside an enclosing one. `cache_enabled` is accepted for
    PyTorch's signature (chainrule casts each time; the values are the same).

    Args:
        device_type (str): 'cpu', 'cuda' or 'fake': the device whose ops are cast.
        dtype (dtype, optional): the lower precision (bfloat16 or float16 on the CPU).
        enabled (bool): False turns autocast off inside the block.
        cache_enabled (bool, optional): accepted for PyTorch's signature; ignored.

    Example:
        >>> import chainrule
        >>> x, w = chainrule.ones(2, 3), chainrule.ones(4, 3)
        >>> with chainrule.autocast(device_type="cpu", dtype=chainrule.bfloat16):
        ...     y = chainrule.nn.functional.linear(x, w)
        ...     z = y + chainrule.ones(4)  # not listed: promotes as usual
        >>> y.dtype, z.dtype
        (chainrule.bfloat16, chainrule.float32)
    """

    def __init__(
        self,
        device_type: str,
        dtype: dtypes.dtype | None = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(
                f"Expected `device_type` of type `str`, got: `{type(device_type).__name__}`"
            )
        if device_type not in _SUPPORTED:
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{device_type}' "
                f"(chainrule's devices: {', '.join(_SUPPORTED)})"
            )
        self.device = device_type
        self.fast_dtype = _DEFAULT_DTYPES[device_type] if dtype is None else dtypes.as_dtype(dtype)
        self._enabled = bool(enabled)
        if self._enabled and self.fast_dtype not in _SUPPORTED[device_type]:
            names = ", ".join(d.name for d in _SUPPORTED[device_type])
            warnings.warn(
                f"In {device_type} autocast, but the target dtype {self.fast_dtype.name} is not "
                f"supported. Disabling autocast. {device_type} Autocast only supports dtypes of "
                f"{names} currently.",
                stacklevel=2,
            )
            self._enabled = False
        self._tokens: list = []

    def __enter__(self) -> autocast:
        active = dict(_ACTIVE.get() or {})
        if self._enabled:
            active[self.device] = self.fast_dtype
        else:
            active.pop(self.device, None)
        self._tokens.append(_ACTIVE.set(active or None))
        return self

    def __exit__(self, *exc: Any) -> None:
        _ACTIVE.reset(self._tokens.pop())

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return decorated  # type: ignore[return-value]


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for `device_type` here (torch.is_autocast_enabled).

    Args:
        device_type (str): 'cpu', 'cuda' or 'fake' (default 'cuda', as PyTorch).

    Returns:
        bool: True inside an `autocast(device_type)` block that is enabled.

    Example:
        >>> import chainrule
        >>> with chainrule.autocast("cpu"):
        ...     chainrule.is_autocast_enabled("cpu"), chainrule.is_autocast_enabled("cuda")
        (True, False)
    """
    active = _ACTIVE.get()
    return active is not None and device_type in active


def get_autocast_dtype(device_type: str) -> dtypes.dtype:
    """The dtype autocast casts to on `device_type`: the active block's, else the default
    (bfloat16 on the CPU, float16 on CUDA, as PyTorch).

    Args:
        device_type (str): 'cpu', 'cuda' or 'fake'.

    Returns:
        dtype: the lower-precision dtype.

    Example:
        >>> import chainrule
        >>> chainrule.get_autocast_dtype("cpu")
        chainrule.bfloat16
        >>> with chainrule.autocast("cpu", dtype=chainrule.float16):
        ...     chainrule.get_autocast_dtype("cpu")
        chainrule.float16
    """
    active = _ACTIVE.get() or {}
    return active.get(device_type, _DEFAULT_DTYPES.get(device_type, dtypes.float16))
