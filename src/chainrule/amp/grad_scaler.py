"""`GradScaler`: loss scaling for low-precision training, with PyTorch's API and arithmetic.

float16 gradients underflow where float32 ones would not, so the loss is multiplied by a large
scale before backward and the gradients divided by it before the optimizer's step. A step whose
gradients hold an inf or a nan is skipped and the scale multiplied by `backoff_factor`; after
`growth_interval` clean steps in a row it is multiplied by `growth_factor`. As in PyTorch 2.13,
a CPU scaler (`GradScaler("cpu")`) scales for real too (bfloat16 rarely needs it, but the
arithmetic is the same), and one for CUDA without a GPU disables itself with a warning.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any, overload

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import dtypes
from chainrule.backend.runtime import cuda_is_available
from chainrule.ops.creation import full
from chainrule.ops.elementwise import isfinite

if TYPE_CHECKING:  # annotations only (amp sits below optim)
    from chainrule.optim.optimizer import Optimizer

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    """Where one optimizer is in the scaler's iteration: PyTorch's names."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf": None}


_FIX = (
    "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the "
    "iteration."
)


class GradScaler:
    """Scale the loss, unscale the gradients, skip steps with inf/nan gradients, adapt the
    scale: `scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()`.

    Args:
        device (str): the device type whose gradients it scales ('cuda' or 'cpu').
        init_scale (float): the first scale factor.
        growth_factor (float): what the scale is multiplied by after `growth_interval`
            steps without inf/nan gradients.
        backoff_factor (float): what the scale is multiplied by after a step with them.
        growth_interval (int): how many clean steps before the scale grows.
        enabled (bool): scale at all (False: every method passes its input through).

    Example:
        >>> import chainrule
        >>> w = chainrule.nn.Parameter(chainrule.ones(2))
        >>> optimizer = chainrule.optim.SGD([w], lr=0.1)
        >>> scaler = chainrule.amp.GradScaler("cpu", init_scale=1024.0)
        >>> scaler.scale((w * w).sum()).backward()
        >>> w.grad
        tensor([2048., 2048.])
        >>> scaler.step(optimizer)
        >>> scaler.update()
        >>> w
        Parameter containing:
        tensor([0.8000, 0.8000], requires_grad=True)
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not cuda_is_available():
            warnings.warn(
                "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                stacklevel=2,
            )
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._scale: Tensor | None = None  # float32, made by the first scale()
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker: int | None = None
        self._per_optimizer_states: defaultdict = defaultdict(_fresh_state)

    # ---- the iteration -----------------------------------------------------------------------

    @overload
    def scale(self, outputs: Tensor) -> Tensor: ...
    @overload
    def scale(self, outputs: list[Tensor]) -> list[Tensor]: ...
    @overload
    def scale(self, outputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]: ...
    @overload
    def scale(self, outputs: Iterable[Tensor]) -> Iterable[Tensor]: ...
    def scale(self, outputs: Tensor | Iterable[Tensor]) -> Tensor | Iterable[Tensor]:
        """outputs (a Tensor, or nested lists/tuples of them) times the current scale; as they
        are when disabled. The product keeps each output's dtype (the scale is a 0-d float32)."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = full((), self._init_scale, dtype=dtypes.float32)
            self._growth_tracker = self._init_growth_tracker
        return self._apply_scale(outputs)

    def _apply_scale(self, value: Any) -> Any:
        if isinstance(value, Tensor):
            return value * self._scale.to(value.device)
        if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
            scaled = [self._apply_scale(item) for item in value]
            return type(value)(scaled) if isinstance(value, (list, tuple)) else iter(scaled)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer: Optimizer) -> None:
        """Divide the optimizer's gradients by the scale, in place, noting whether any is inf
        or nan. Optional (step calls it); once per optimizer between updates."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # the reciprocal in float64, then float32, as PyTorch's
        inverse = full((), 1.0 / float(self._scale.item()), dtype=dtypes.float32)
        state["found_inf"] = self._unscale_grads(optimizer, inverse)
        state["stage"] = OptState.UNSCALED

    def _unscale_grads(self, optimizer: Optimizer, inverse: Tensor) -> bool:
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if grad.dtype is dtypes.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    if not bool(isfinite(grad).all()):
                        found_inf = True
                    # the product in float32 (PyTorch's opmath), stored in the grad's dtype
                    unscaled = grad.to(dtypes.float32) * inverse.to(grad.device)
                    grad.copy_(unscaled)
        return found_inf

    def step(self, optimizer: Optimizer, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless unscale_ did) and run `optimizer.step(*args, **kwargs)`, unless a
        gradient was inf or nan: then the step is skipped (returns None)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        result = None
        if not state["found_inf"]:
            result = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Back the scale off if any optimizer saw inf/nan since the last update, else grow it
        after `growth_interval` clean iterations; or set it to `new_scale`."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or not new_scale.dtype.is_floating_point:
                    raise ValueError(
                        "new_scale should be a float or a 1-element torch.FloatTensor or "
                        "torch.cuda.FloatTensor with requires_grad=False."
                    )
                new_scale = float(new_scale.item())
            self._scale = full((), new_scale, dtype=dtypes.float32)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()]
            found = [value for value in found if value is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._update_scale(any(found))
        self._per_optimizer_states = defaultdict(_fresh_state)

    def _update_scale(self, found_inf: bool) -> None:
        """torch._amp_update_scale_, in float32 arithmetic."""
        scale = self._scale
        if found_inf:
            self._scale = scale * self._backoff_factor
            self._growth_tracker = 0
            return
        successful = self._growth_tracker + 1
        if successful == self._growth_interval:
            grown = scale * self._growth_factor
            if bool(isfinite(grown)):
                self._scale = grown
            self._growth_tracker = 0
        else:
            self._growth_tracker = successful

    def _check_scale_growth_tracker(self, name: str) -> None:
        if self._scale is None:
            raise AssertionError(f"Attempted {name} but _scale is None.  " + _FIX)

    # ---- settings and state ------------------------------------------------------------------

    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return float(self._init_scale if self._scale is None else self._scale.item())

    def get_growth_factor(self) -> float:
        """The factor the scale grows by after `growth_interval` clean steps."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the factor the scale grows by."""
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        """The factor the scale shrinks by after a step with inf/nan gradients."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the factor the scale shrinks by."""
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        """How many clean steps the scale waits before growing."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set how many clean steps the scale waits before growing."""
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        if self._growth_tracker is None:
            return self._init_growth_tracker
        return self._growth_tracker

    def is_enabled(self) -> bool:
        """Whether this scaler scales (False: it passes everything through)."""
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """scale, growth_factor, backoff_factor, growth_interval and _growth_tracker, as
        PyTorch's (empty when disabled)."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._get_growth_tracker(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the scale and its counters from `state_dict()`'s output."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled "
                "instance of GradScaler."
            )
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = full((), self._init_scale, dtype=dtypes.float32)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = self._init_growth_tracker
