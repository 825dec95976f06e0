"""`custom_fwd` and `custom_bwd`: autocast for a custom `autograd.Function`, as torch.amp's.

A Function's forward runs its own array work, so autocast does not reach inside it the way it
reaches the listed ops. `@custom_fwd(device_type=..., cast_inputs=dtype)` on `forward` casts
its floating inputs on that device to `dtype` and runs it with autocast off (without
`cast_inputs`, it runs under whatever autocast state surrounds it), and `@custom_bwd` on
`backward` runs it under the state forward saw, so both passes agree on the dtypes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.ops.autocast import autocast, get_autocast_dtype, is_autocast_enabled

F = TypeVar("F", bound=Callable[..., Any])


def _check_device_type(device_type: object) -> None:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def _cast(value: Any, device_type: str, dtype: dtypes.dtype) -> Any:
    """Floating tensors on `device_type` (float64 excepted) as `dtype`, through containers."""
    if isinstance(value, Tensor):
        kind = value.dtype
        on_device = value.device.type == device_type
        if on_device and kind.is_floating_point and kind is not dtypes.float64:
            return value.to(dtype)
        return value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, dict):
        return {key: _cast(item, device_type, dtype) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(item, device_type, dtype) for item in value)
    return value


def custom_fwd(
    fwd: F | None = None, *, device_type: str, cast_inputs: dtypes.dtype | None = None
) -> Any:
    """Decorate a custom Function's `forward` (with or without arguments to the decorator):
    records the autocast state for `custom_bwd`; with `cast_inputs`, casts the floating inputs
    on `device_type` and runs forward with autocast off while autocast is on.

    Args:
        fwd (callable, optional): the forward; omitted when the decorator takes arguments.
        device_type (str): 'cpu', 'cuda' or 'fake'.
        cast_inputs (dtype, optional): the dtype forward's floating inputs are cast to.

    Example:
        >>> import chainrule
        >>> class Square(chainrule.autograd.Function):
        ...     @staticmethod
        ...     @chainrule.amp.custom_fwd(device_type="cpu", cast_inputs=chainrule.float32)
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     @chainrule.amp.custom_bwd(device_type="cpu")
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * grad
        >>> with chainrule.autocast("cpu"):
        ...     Square.apply(chainrule.ones(2, dtype=chainrule.bfloat16)).dtype
        chainrule.float32
    """
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def forward(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        enabled = is_autocast_enabled(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = enabled
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not enabled:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            args = (ctx, *_cast(args[1:], device_type, cast_inputs))
            return fwd(*args, **_cast(kwargs, device_type, cast_inputs))

    return forward


def custom_bwd(bwd: F | None = None, *, device_type: str) -> Any:
    """Decorate a custom Function's `backward` so it runs under the autocast state its
    `custom_fwd` forward ran under.

    Args:
        bwd (callable, optional): the backward; omitted when the decorator takes arguments.
        device_type (str): the device type given to `custom_fwd`.

    Example:
        >>> import chainrule
        >>> decorate = chainrule.amp.custom_bwd(device_type="cpu")
        >>> callable(decorate)
        True
    """
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def backward(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return backward
