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
from chainrule.errors import DTypeError
from chainrule.ops.conversion import cast

__all__ = [
    "autocast",
    "autocast_active",
    "autocast_operands",
    "autocast_policy",
    "autocast_restored",
    "check_promote_operands",
    "autocast_decrement_nesting",
    "autocast_increment_nesting",
    "clear_autocast_cache",
    "get_autocast_cpu_dtype",
    "get_autocast_dtype",
    "get_autocast_gpu_dtype",
    "is_autocast_cache_enabled",
    "is_autocast_cpu_enabled",
    "is_autocast_enabled",
    "set_autocast_cache_enabled",
    "set_autocast_cpu_dtype",
    "set_autocast_cpu_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
    "set_autocast_gpu_dtype",
]

# The dtype each device type's autocast casts to while enabled: {device type: dtype}, or None
# when no autocast is active (the common case, tested first).
_ACTIVE: ContextVar[dict | None] = ContextVar("autocast", default=None)

# The dtype set by `set_autocast_dtype` for each device type, used while it is enabled without a
# dtype of its own (`autocast(device)`, `set_autocast_enabled`); the defaults below otherwise.
_CONFIGURED: ContextVar[dict | None] = ContextVar("autocast_dtypes", default=None)
# `set_autocast_cache_enabled`'s flag and `autocast_increment_nesting`'s count, per thread.
_CACHE_ENABLED: ContextVar[bool] = ContextVar("autocast_cache", default=True)
_NESTING: ContextVar[int] = ContextVar("autocast_nesting", default=0)

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
    positional and keyword, are cast as `autocast_operands` says, and the function runs with
    autocast off: a listed op is one kernel in PyTorch, whose inner steps autocast never sees
    (a float32 op built on matmul must not take its products down to bfloat16). One lookup
    when off."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            active = _ACTIVE.get()
            if active is None:
                return function(*args, **kwargs)
            args = tuple(_autocast_one(policy, active, value) for value in args)
            for name, value in kwargs.items():
                kwargs[name] = _autocast_one(policy, active, value)
            token = _ACTIVE.set(None)
            try:
                return function(*args, **kwargs)
            finally:
                _ACTIVE.reset(token)

        return run  # type: ignore[return-value]

    return decorate


def check_promote_operands(op_name: str, tensors: list) -> None:
    """PyTorch's rule for the ops it lists to promote under autocast (cat, stack and the
    joins built on them): walking the floating operands from the autocast dtype, float32
    wins, float64 is passed over, and the other half dtype (float16 under bfloat16, or the
    reverse) met before any float32 is a RuntimeError. The joins then promote as usual."""
    active = _ACTIVE.get()
    if active is None:
        return
    for device_type, lower in active.items():
        current = lower
        for tensor in tensors:
            kind = tensor.dtype
            if not kind.is_floating_point or kind is dtypes.float64:
                continue
            if tensor.device.type != device_type:
                continue
            if current is dtypes.float32 or kind is dtypes.float32:
                current = dtypes.float32
            elif kind is not lower:
                raise DTypeError(
                    f"{op_name}: Unexpected floating ScalarType in at::autocast::prioritize "
                    f"(a {kind.name} operand under autocast to {lower.name})"
                )


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
        self.fast_dtype = (
            get_autocast_dtype(device_type) if dtype is None else dtypes.as_dtype(dtype)
        )
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
    if device_type in active:
        return active[device_type]
    configured = _CONFIGURED.get() or {}
    return configured.get(device_type, _DEFAULT_DTYPES.get(device_type, dtypes.float16))


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    """Turn autocast on or off for `device_type` from here on, outside any `with` block (an
    enclosing block restores its own state when it exits), in `get_autocast_dtype`'s dtype.

    Args:
        device_type (str): 'cpu', 'cuda' or 'fake'.
        enabled (bool): whether the listed ops cast.

    Example:
        >>> import chainrule
        >>> chainrule.set_autocast_enabled("cpu", True)
        >>> (chainrule.ones(2, 2) @ chainrule.ones(2, 2)).dtype
        chainrule.bfloat16
        >>> chainrule.set_autocast_enabled("cpu", False)
    """
    _check_device(device_type)
    active = dict(_ACTIVE.get() or {})
    if enabled:
        active[device_type] = get_autocast_dtype(device_type)
    else:
        active.pop(device_type, None)
    _ACTIVE.set(active or None)


def set_autocast_dtype(device_type: str, dtype: dtypes.dtype) -> None:
    """The lower dtype autocast uses on `device_type` when enabled without one of its own.

    Args:
        device_type (str): 'cpu', 'cuda' or 'fake'.
        dtype (dtype): the lower precision.

    Example:
        >>> import chainrule
        >>> chainrule.set_autocast_dtype("cpu", chainrule.float16)
        >>> with chainrule.autocast("cpu"):
        ...     (chainrule.ones(2, 2) @ chainrule.ones(2, 2)).dtype
        chainrule.float16
        >>> chainrule.set_autocast_dtype("cpu", chainrule.bfloat16)
    """
    _check_device(device_type)
    dtype = dtypes.as_dtype(dtype)
    _CONFIGURED.set({**(_CONFIGURED.get() or {}), device_type: dtype})
    active = _ACTIVE.get()
    if active is not None and device_type in active:
        _ACTIVE.set({**active, device_type: dtype})


def _check_device(device_type: str) -> None:
    if device_type not in _SUPPORTED:
        raise RuntimeError(
            f"unsupported autocast device_type '{device_type}' (chainrule's devices: "
            f"{', '.join(_SUPPORTED)})"
        )


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"torch.{old} is deprecated. Please use torch.{new} instead.",
        DeprecationWarning,
        stacklevel=3,
    )


def is_autocast_cpu_enabled() -> bool:
    """`is_autocast_enabled("cpu")`, PyTorch's deprecated spelling (it warns as PyTorch's).

    Example:
        >>> import chainrule
        >>> chainrule.is_autocast_cpu_enabled()
        False
    """
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    """`set_autocast_enabled("cpu", enabled)`, PyTorch's deprecated spelling.

    Args:
        enabled (bool): whether the CPU's listed ops cast.

    Example:
        >>> import chainrule
        >>> chainrule.set_autocast_cpu_enabled(False)
    """
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype() -> dtypes.dtype:
    """`get_autocast_dtype("cpu")`, PyTorch's deprecated spelling.

    Example:
        >>> import chainrule
        >>> chainrule.get_autocast_cpu_dtype()
        chainrule.bfloat16
    """
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype: dtypes.dtype) -> None:
    """`set_autocast_dtype("cpu", dtype)`, PyTorch's deprecated spelling.

    Args:
        dtype (dtype): the CPU's lower precision.

    Example:
        >>> import chainrule
        >>> chainrule.set_autocast_cpu_dtype(chainrule.bfloat16)
    """
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype() -> dtypes.dtype:
    """`get_autocast_dtype("cuda")`, PyTorch's deprecated spelling.

    Example:
        >>> import chainrule
        >>> chainrule.get_autocast_gpu_dtype()
        chainrule.float16
    """
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype: dtypes.dtype) -> None:
    """`set_autocast_dtype("cuda", dtype)`, PyTorch's deprecated spelling.

    Args:
        dtype (dtype): CUDA's lower precision.

    Example:
        >>> import chainrule
        >>> chainrule.set_autocast_gpu_dtype(chainrule.float16)
    """
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def is_autocast_cache_enabled() -> bool:
    """Whether autocast may keep the casts of weights within a region (PyTorch's cache; on by
    default). chainrule casts each time, which gives the same values; the flag is kept for
    code that reads or saves it.

    Example:
        >>> import chainrule
        >>> chainrule.is_autocast_cache_enabled()
        True
    """
    return _CACHE_ENABLED.get()


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Set `is_autocast_cache_enabled`'s flag.

    Args:
        enabled (bool): the flag.

    Example:
        >>> import chainrule
        >>> chainrule.set_autocast_cache_enabled(True)
    """
    _CACHE_ENABLED.set(bool(enabled))


def clear_autocast_cache() -> None:
    """Drop autocast's cached casts: there are none to drop (`is_autocast_cache_enabled`).

    Example:
        >>> import chainrule
        >>> chainrule.clear_autocast_cache()
    """


def autocast_increment_nesting() -> int:
    """Count one more autocast region entered by hand; returns the new depth (PyTorch's
    bookkeeping for code that manages the state itself).

    Example:
        >>> import chainrule
        >>> chainrule.autocast_increment_nesting(), chainrule.autocast_decrement_nesting()
        (1, 0)
    """
    depth = _NESTING.get() + 1
    _NESTING.set(depth)
    return depth


def autocast_decrement_nesting() -> int:
    """Count one autocast region left; returns the new depth.

    Example:
        >>> import chainrule
        >>> chainrule.autocast_increment_nesting(), chainrule.autocast_decrement_nesting()
        (1, 0)
    """
    depth = _NESTING.get() - 1
    _NESTING.set(depth)
    return depth
