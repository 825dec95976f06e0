"""The per-device spellings PyTorch keeps, deprecated: `torch.cpu.amp.autocast` and
`torch.cuda.amp.autocast` / `GradScaler` (chainrule.cpu.amp and chainrule.cuda.amp). Each is
the `chainrule.amp` class with its device fixed, and warns as PyTorch does."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from chainrule.amp.custom import custom_bwd, custom_fwd
from chainrule.amp.grad_scaler import GradScaler
from chainrule.backend import dtypes
from chainrule.ops.autocast import autocast


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"`{old}(args...)` is deprecated. Please use `{new}` instead.",
        FutureWarning,
        stacklevel=3,
    )


class _CpuAutocast(autocast):
    """torch.cpu.amp.autocast(enabled, dtype, cache_enabled): autocast("cpu", ...)."""

    def __init__(
        self,
        enabled: bool = True,
        dtype: dtypes.dtype = dtypes.bfloat16,
        cache_enabled: bool = True,
    ) -> None:
        _deprecated("torch.cpu.amp.autocast", "torch.amp.autocast('cpu', args...)")
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class _CudaAutocast(autocast):
    """torch.cuda.amp.autocast(enabled, dtype, cache_enabled): autocast("cuda", ...)."""

    def __init__(
        self, enabled: bool = True, dtype: dtypes.dtype = dtypes.float16, cache_enabled: bool = True
    ) -> None:
        _deprecated("torch.cuda.amp.autocast", "torch.amp.autocast('cuda', args...)")
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


def _device_scaler(device: str) -> type:
    class DeviceGradScaler(GradScaler):
        __doc__ = f"torch.{device}.amp.GradScaler(...): GradScaler({device!r}, ...)."

        def __init__(
            self,
            init_scale: float = 2.0**16,
            growth_factor: float = 2.0,
            backoff_factor: float = 0.5,
            growth_interval: int = 2000,
            enabled: bool = True,
        ) -> None:
            _deprecated(
                f"torch.{device}.amp.GradScaler", f"torch.amp.GradScaler('{device}', args...)"
            )
            super().__init__(
                device, init_scale, growth_factor, backoff_factor, growth_interval, enabled
            )

    DeviceGradScaler.__name__ = DeviceGradScaler.__qualname__ = "GradScaler"
    return DeviceGradScaler


for _kind in (_CpuAutocast, _CudaAutocast):
    _kind.__name__ = _kind.__qualname__ = "autocast"

CpuAutocast, CudaAutocast = _CpuAutocast, _CudaAutocast
CpuGradScaler = _device_scaler("cpu")
CudaGradScaler = _device_scaler("cuda")


def cuda_custom_fwd(fwd: Callable | None = None, *, cast_inputs: dtypes.dtype | None = None) -> Any:
    """torch.cuda.amp.custom_fwd: custom_fwd(device_type='cuda', ...), deprecated."""
    _deprecated("torch.cuda.amp.custom_fwd", "torch.amp.custom_fwd(args..., device_type='cuda')")
    return custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def cuda_custom_bwd(bwd: Callable) -> Any:
    """torch.cuda.amp.custom_bwd: custom_bwd(device_type='cuda'), deprecated."""
    _deprecated("torch.cuda.amp.custom_bwd", "torch.amp.custom_bwd(args..., device_type='cuda')")
    return custom_bwd(bwd, device_type="cuda")
