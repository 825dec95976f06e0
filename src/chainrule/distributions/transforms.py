"""Bijections between supports, as torch.distributions.transforms: y = t(x), x = t.inv(y) and
log |dy/dx|, what TransformedDistribution needs to move a density (a tanh-squashed Normal
policy, a log-normal, a flow).

Each transform acts elementwise (event_dim 0) unless it says otherwise. With cache_size=1 the
last (x, y) pair is kept, so inverting the sample just drawn returns its x exactly (a tanh's
inverse at +-1 is infinite otherwise), as PyTorch's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.distributions import constraints
from chainrule.ops.activation import logsigmoid, softplus
from chainrule.ops.creation import arange
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.elementwise import atanh, exp, log, log1p, sigmoid, tanh
from chainrule.ops.indexing import pad
from chainrule.ops.reduction import cumprod
from chainrule.ops.shape import broadcast_tensors

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "ComposeTransform",
    "ExpTransform",
    "PowerTransform",
    "SigmoidTransform",
    "StickBreakingTransform",
    "TanhTransform",
    "Transform",
]


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """value summed over its `dim` rightmost dimensions."""
    if dim <= 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)


class Transform:
    """Base class: subclasses give `_call` (x to y), `_inverse` (y to x) and
    `log_abs_det_jacobian(x, y)`, and set `domain`, `codomain`, `bijective` and `sign`.

    Args:
        cache_size (int): 0 (no cache) or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import ExpTransform
        >>> t = ExpTransform()
        >>> t(chainrule.tensor(0.0)), t.inv(chainrule.tensor(1.0))
        (tensor(1.), tensor(0.))
    """

    bijective = False
    domain: Any = constraints.real
    codomain: Any = constraints.real

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError(f"cache_size must be 0 or 1, got {cache_size}")
        self._cache_size = cache_size
        self._cached_x_y: tuple = (None, None)

    @property
    def event_dim(self) -> int:
        return 0

    @property
    def sign(self) -> int:
        """+1 or -1: whether y increases or decreases with x (monotone transforms)."""
        raise NotImplementedError

    @property
    def inv(self) -> Transform:
        """The inverse transform: t.inv(y) is x."""
        return _InverseTransform(self)

    def __call__(self, x: Tensor) -> Tensor:
        if self._cache_size == 0:
            return self._call(x)
        cached_x, cached_y = self._cached_x_y
        if x is cached_x:
            return cached_y
        y = self._call(x)
        self._cached_x_y = (x, y)
        return y

    def _inv_call(self, y: Tensor) -> Tensor:
        if self._cache_size == 0:
            return self._inverse(y)
        cached_x, cached_y = self._cached_x_y
        if y is cached_y:
            return cached_x
        x = self._inverse(y)
        self._cached_x_y = (x, y)
        return x

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log |dy/dx| at x (y = t(x)), elementwise."""
        raise NotImplementedError

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        return tuple(shape)

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        return tuple(shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    """t.inv: calls t's inverse; its log |det J| is minus t's at the swapped pair."""

    def __init__(self, transform: Transform) -> None:
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    bijective = True

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return self._inv.codomain

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return self._inv.domain

    @property
    def event_dim(self) -> int:
        return self._inv.event_dim

    @property
    def sign(self) -> int:
        return self._inv.sign

    @property
    def inv(self) -> Transform:
        return self._inv

    def __call__(self, x: Tensor) -> Tensor:
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)

    def __repr__(self) -> str:
        return f"_InverseTransform({self._inv!r})"


class ExpTransform(Transform):
    """y = exp(x); log |dy/dx| = x.

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import ExpTransform
        >>> ExpTransform().log_abs_det_jacobian(chainrule.tensor(2.0), chainrule.tensor(7.389))
        tensor(2.)
    """

    codomain = constraints.positive
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return exp(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return log(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class SigmoidTransform(Transform):
    """y = sigmoid(x); log |dy/dx| = -softplus(-x) - softplus(x). The inverse is logit, its
    argument clamped inside (0, 1) by the dtype's eps, as PyTorch's.

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import SigmoidTransform
        >>> SigmoidTransform()(chainrule.tensor(0.0))
        tensor(0.5000)
    """

    codomain = constraints.unit_interval
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        eps = _eps(x)
        return sigmoid(x).clamp(min=eps, max=1 - eps)

    def _inverse(self, y: Tensor) -> Tensor:
        eps = _eps(y)
        y = y.clamp(min=eps, max=1 - eps)
        return log(y) - log1p(-y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh(x); log |dy/dx| = 2 (log 2 - x - softplus(-2x)), PyTorch's stable form. Use
    cache_size=1 when inverting samples (atanh(+-1) is infinite).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import TanhTransform
        >>> TanhTransform().log_abs_det_jacobian(chainrule.tensor(0.0), chainrule.tensor(0.0))
        tensor(0.)
    """

    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return tanh(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return atanh(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AbsTransform(Transform):
    """y = |x|: not a bijection, so its "inverse" returns y itself (the positive preimage), as
    PyTorch's; HalfCauchy folds a Cauchy with it.

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import AbsTransform
        >>> AbsTransform()(chainrule.tensor([-2.0, 3.0]))
        tensor([2., 3.])
    """

    codomain = constraints.positive

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AbsTransform)

    __hash__ = Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return _abs(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return y


class AffineTransform(Transform):
    """y = loc + scale x; log |dy/dx| = log |scale|, summed over the `event_dim` rightmost
    dimensions.

    Args:
        loc (Tensor or float): the shift.
        scale (Tensor or float): the factor (nonzero).
        event_dim (int): how many rightmost dimensions form one event.
        cache_size (int): 0 or 1.

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import AffineTransform
        >>> t = AffineTransform(1.0, 2.0)
        >>> t(chainrule.tensor(3.0)), t.inv(chainrule.tensor(3.0))
        (tensor(7.), tensor(1.))
    """

    bijective = True

    def __init__(
        self,
        loc: Tensor | float,
        scale: Tensor | float,
        event_dim: int = 0,
        cache_size: int = 0,
    ) -> None:
        super().__init__(cache_size=cache_size)
        self.loc = loc
        self.scale = scale
        self._event_dim = event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @property
    def sign(self) -> Any:
        if isinstance(self.scale, Tensor):
            return self.scale.sign()
        return 1 if self.scale > 0 else -1 if self.scale < 0 else 0

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: Tensor) -> Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        scale = self.scale
        if isinstance(scale, Tensor):
            result = log(_abs(scale))
        else:
            result = x.new_full((), math.log(abs(scale)))
        result = broadcast_tensors(result, x)[0]
        return _sum_rightmost(result, self._event_dim)


class PowerTransform(Transform):
    """y = x ** exponent on the positive reals; log |dy/dx| = log |exponent y / x|.

    Args:
        exponent (Tensor or float): the power.
        cache_size (int): 0 or 1.

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import PowerTransform
        >>> PowerTransform(2.0)(chainrule.tensor(3.0))
        tensor(9.)
    """

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent: Tensor | float, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.exponent = exponent

    @property
    def sign(self) -> Any:
        if isinstance(self.exponent, Tensor):
            return self.exponent.sign()
        return 1 if self.exponent > 0 else -1

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return log(_abs(self.exponent * y / x))


class StickBreakingTransform(Transform):
    """Real vectors of length K onto the simplex of K + 1 entries by breaking a stick: entry k
    takes the fraction z_k = sigmoid(x_k - log(K - k)) of what is left (the offset makes x = 0
    the simplex's centre), the last entry the rest. log |det J| = sum_k log z_k (1 - z_k) +
    log(rest before k), PyTorch's form. An event_dim 1 transform (LogisticNormal's).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import StickBreakingTransform
        >>> StickBreakingTransform()(chainrule.zeros(3))
        tensor([0.2500, 0.2500, 0.2500, 0.2500])
    """

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StickBreakingTransform)

    __hash__ = Transform.__hash__

    @property
    def event_dim(self) -> int:
        return 1

    @staticmethod
    def _log_offset(x: Tensor, length: int) -> Tensor:
        """log(K - k) for k = 0..length - 1, K = length (x's dtype and device)."""
        return log(arange(length, 0, -1, dtype=x.dtype, device=x.device))

    def _call(self, x: Tensor) -> Tensor:
        finfo = dtypes.finfo(x.dtype)
        z = sigmoid(x - self._log_offset(x, x.shape[-1])).clamp(min=finfo.tiny, max=1 - finfo.eps)
        left = cumprod(1 - z, -1)  # the stick left after each break
        return pad(z, (0, 1), value=1.0) * pad(left, (1, 0), value=1.0)

    def _inverse(self, y: Tensor) -> Tensor:
        y_crop = y[..., :-1]
        left = (1 - y_crop.cumsum(-1)).clamp(min=dtypes.finfo(y.dtype).tiny)
        return log(y_crop) - log(left) + self._log_offset(y, y_crop.shape[-1])

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        shifted = x - self._log_offset(x, x.shape[-1])
        # log(z (1 - z) * rest) = log(1 - z) + log(y_k), and 1 - sigmoid(s) = exp(-s) sigmoid(s)
        return (-shifted + logsigmoid(shifted) + log(y[..., :-1])).sum(-1)

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class ComposeTransform(Transform):
    """The transforms applied in order (parts[0] first); log |det J| adds each part's at its
    own input, summed to the largest event_dim.

    Args:
        parts (list of Transform): the transforms, first applied first.
        cache_size (int): 0 or 1.

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import (
        ...     AffineTransform, ComposeTransform, ExpTransform)
        >>> ComposeTransform([AffineTransform(0.0, 2.0), ExpTransform()])(chainrule.tensor(0.5))
        tensor(2.7183)
    """

    def __init__(self, parts: Sequence[Transform], cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.parts = list(parts)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(part.bijective for part in self.parts)

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return self.parts[0].domain if self.parts else constraints.real

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return self.parts[-1].codomain if self.parts else constraints.real

    @property
    def event_dim(self) -> int:
        return max((part.event_dim for part in self.parts), default=0)

    @property
    def sign(self) -> Any:
        sign = 1
        for part in self.parts:
            sign = sign * part.sign
        return sign

    @property
    def inv(self) -> Transform:
        return ComposeTransform([part.inv for part in reversed(self.parts)])

    def _call(self, x: Tensor) -> Tensor:
        for part in self.parts:
            x = part(x)
        return x

    def _inverse(self, y: Tensor) -> Tensor:
        for part in reversed(self.parts):
            y = part.inv(y)
        return y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if not self.parts:
            return x.new_zeros(x.shape)
        total = 0.0
        event_dim = self.event_dim
        for part in self.parts:
            y_part = part(x)
            term = part.log_abs_det_jacobian(x, y_part)
            total = total + _sum_rightmost(term, event_dim - part.event_dim)
            x = y_part
        return total

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(part) for part in self.parts)
        return f"ComposeTransform(\n    {inner}\n)"


def _eps(x: Tensor) -> float:
    return 1.1920928955078125e-07 if x.element_size() == 4 else 2.220446049250313e-16
