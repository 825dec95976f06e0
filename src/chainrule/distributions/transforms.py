"""Bijections between supports, as torch.distributions.transforms: y = t(x), x = t.inv(y) and
log |dy/dx|, what TransformedDistribution needs to move a density (a tanh-squashed Normal
policy, a log-normal, a flow) and what `biject_to` / `transform_to` return to move an
optimiser's unconstrained parameters into a constraint.

A transform's `domain` and `codomain` are constraints, and their `event_dim`s say how many
rightmost dimensions one point spans (ExpTransform 0 and 0, StickBreakingTransform 1 and 1,
CorrCholeskyTransform 1 and 2); `log_abs_det_jacobian` is reduced over the domain's event
dimensions. With cache_size=1 the last (x, y) pair is kept, so inverting the sample just drawn
returns its x exactly (a tanh's inverse at +-1 is infinite otherwise), as PyTorch's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Number
from typing import Any

from chainrule._tensor import Size, Tensor
from chainrule.backend import dtypes
from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.utils import broadcast_all, tril_matrix_to_vec, vec_to_tril_matrix
from chainrule.ops.activation import logsigmoid, softplus
from chainrule.ops.creation import arange, eye, full_like
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.elementwise import atanh, exp, expm1, log, log1p, sigmoid, sqrt, tanh
from chainrule.ops.indexing import pad
from chainrule.ops.linalg import cholesky, diag_embed, diagonal
from chainrule.ops.reduction import cumprod, cumsum, softmax
from chainrule.ops.shape import broadcast_shapes, cat, stack

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftplusTransform",
    "TanhTransform",
    "SoftmaxTransform",
    "StackTransform",
    "StickBreakingTransform",
    "Transform",
    "identity_transform",
]


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """value summed over its `dim` rightmost dimensions."""
    if dim <= 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)


class Transform:
    """Base class: subclasses give `_call` (x to y), `_inverse` (y to x) and
    `log_abs_det_jacobian(x, y)`, and set `domain`, `codomain`, `bijective` and `sign`.
    Transforms compare equal when they compute the same map (`ExpTransform() ==
    ExpTransform()`); `t.inv` is one object, and `t.inv.inv is t`.

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
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._inv: Transform | None = None
        self._cached_x_y: tuple = (None, None)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_inv"] = None  # rebuilt on demand; a copy must not share its inverse
        return state

    @property
    def event_dim(self) -> int:
        """The event dimensions of domain and codomain, when they agree."""
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self) -> Transform:
        """The inverse transform (one object per transform): t.inv(y) is x."""
        if self._inv is None:
            self._inv = _InverseTransform(self)
        return self._inv

    @property
    def sign(self) -> Any:
        """+1 or -1: whether y increases or decreases with x (monotone transforms)."""
        raise NotImplementedError

    def with_cache(self, cache_size: int = 1) -> Transform:
        """This transform with the given cache size (itself when it already has it)."""
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

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
        """log |dy/dx| at x (y = t(x)), one entry per domain event."""
        raise NotImplementedError

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        """The shape of t(x) for x of `shape`: `shape` itself for a shape-keeping transform (a
        tuple stays a tuple, as PyTorch's)."""
        return shape

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        """The shape of t.inv(y) for y of `shape` (see forward_shape)."""
        return shape

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    """t.inv: calls t's inverse; its log |det J| is minus t's at the swapped pair."""

    def __init__(self, transform: Transform) -> None:
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    def __getstate__(self) -> dict:
        return self.__dict__.copy()  # `_inv` here is the transform itself: keep it

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> Any:
        """The constraint on inputs (with its event_dim)."""
        return self._inv.codomain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> Any:
        """The constraint on outputs (with its event_dim)."""
        return self._inv.domain

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self._inv.bijective

    @property
    def sign(self) -> Any:
        return self._inv.sign

    @property
    def inv(self) -> Transform:
        return self._inv

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self._inv.with_cache(cache_size).inv

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    def __call__(self, x: Tensor) -> Tensor:
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        return self._inv.forward_shape(shape)

    def __repr__(self) -> str:
        return f"_InverseTransform({self._inv!r})"


class ComposeTransform(Transform):
    """The transforms applied in order (parts[0] first). Its domain and codomain span the
    largest event a part couples (an elementwise ExpTransform before a StickBreakingTransform
    makes a vector transform), and log |det J| adds each part's, summed over the dimensions
    that part treats as batch. `ComposeTransform([])` is the identity (`identity_transform`).

    Args:
        parts (list of Transform): the transforms, first applied first.
        cache_size (int): 0 or 1 (given to every part).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import (
        ...     AffineTransform, ComposeTransform, ExpTransform)
        >>> ComposeTransform([AffineTransform(0.0, 2.0), ExpTransform()])(chainrule.tensor(0.5))
        tensor(2.7183)
    """

    def __init__(self, parts: Sequence[Transform], cache_size: int = 0) -> None:
        if cache_size:
            parts = [part.with_cache(cache_size) for part in parts]
        super().__init__(cache_size=cache_size)
        self.parts = list(parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> Any:
        """The constraint on inputs (with its event_dim)."""
        if not self.parts:
            return constraints.real
        first = self.parts[0].domain
        # Walk back from the output: each part's input spans at least its own domain's
        # event, and what a later part couples stays coupled before it.
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim = event_dim + part.domain.event_dim - part.codomain.event_dim
            event_dim = max(event_dim, part.domain.event_dim)
        return _widened(first, event_dim)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> Any:
        """The constraint on outputs (with its event_dim)."""
        if not self.parts:
            return constraints.real
        last = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim = event_dim + part.codomain.event_dim - part.domain.event_dim
            event_dim = max(event_dim, part.codomain.event_dim)
        return _widened(last, event_dim)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(part.bijective for part in self.parts)

    @property
    def sign(self) -> Any:
        sign: Any = 1
        for part in self.parts:
            sign = sign * part.sign
        return sign

    @property
    def inv(self) -> Transform:
        if self._inv is None:
            inverse = ComposeTransform([part.inv for part in reversed(self.parts)])
            inverse._inv = self
            self._inv = inverse
        return self._inv

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ComposeTransform(self.parts, cache_size=cache_size)

    def __call__(self, x: Tensor) -> Tensor:
        # The parts cache their own pairs; the composition keeps none.
        for part in self.parts:
            x = part(x)
        return x

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if not self.parts:
            return full_like(x, 0.0)
        # Each part's input: recomputed (free when the parts cache), the last output is y.
        inputs = [x]
        for part in self.parts[:-1]:
            inputs.append(part(inputs[-1]))
        outputs = inputs[1:] + [y]
        total: Any = 0
        event_dim = self.domain.event_dim
        for part, part_x, part_y in zip(self.parts, inputs, outputs):
            term = part.log_abs_det_jacobian(part_x, part_y)
            total = total + _sum_rightmost(term, event_dim - part.domain.event_dim)
            event_dim = event_dim + part.codomain.event_dim - part.domain.event_dim
        return total

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape  # what the last part gives, as PyTorch's

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(part) for part in self.parts)
        return f"ComposeTransform(\n    {inner}\n)"


def _widened(constraint: Any, event_dim: int) -> Any:
    """`constraint` over `event_dim` rightmost dimensions (never fewer than its own)."""
    if event_dim < constraint.event_dim:
        raise AssertionError(
            f"event_dim {event_dim} must be >= constraint.event_dim {constraint.event_dim}"
        )
    if event_dim > constraint.event_dim:
        return constraints.independent(constraint, event_dim - constraint.event_dim)
    return constraint


identity_transform = ComposeTransform([])
identity_transform.__doc__ = """The identity map, `ComposeTransform([])`: what `biject_to(real)` is.

Args:
    x (Tensor): returned as it is.

Example:
    >>> import chainrule
    >>> from chainrule.distributions.transforms import identity_transform
    >>> identity_transform(chainrule.tensor([1.0, -2.0]))
    tensor([ 1., -2.])
"""


class IndependentTransform(Transform):
    """`base_transform` with `reinterpreted_batch_ndims` more rightmost dimensions in one
    event: the same map, its log |det J| summed over those dimensions (what `biject_to` gives
    for `constraints.independent`).

    Args:
        base_transform (Transform): the transform to wrap.
        reinterpreted_batch_ndims (int): how many extra rightmost dimensions form an event.
        cache_size (int): 0 or 1.

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import ExpTransform, IndependentTransform
        >>> t = IndependentTransform(ExpTransform(), 1)
        >>> t.log_abs_det_jacobian(chainrule.tensor([1.0, 2.0]), None)
        tensor(3.)
    """

    def __init__(
        self,
        base_transform: Transform,
        reinterpreted_batch_ndims: int,
        cache_size: int = 0,
    ) -> None:
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(
            self.base_transform, self.reinterpreted_batch_ndims, cache_size=cache_size
        )

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> Any:
        """The constraint on inputs (with its event_dim)."""
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> Any:
        """The constraint on outputs (with its event_dim)."""
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.base_transform.bijective

    @property
    def sign(self) -> Any:
        return self.base_transform.sign

    def _call(self, x: Tensor) -> Tensor:
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y: Tensor) -> Tensor:
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        result = self.base_transform.log_abs_det_jacobian(x, y)
        return _sum_rightmost(result, self.reinterpreted_batch_ndims)

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        return self.base_transform.inverse_shape(shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


class ReshapeTransform(Transform):
    """The rightmost `in_shape` dimensions reshaped to `out_shape` (as many elements): a
    volume-preserving map, log |det J| = 0 per event.

    Args:
        in_shape (sequence of int): the input event shape.
        out_shape (sequence of int): the output event shape.
        cache_size (int): 0 or 1.

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import ReshapeTransform
        >>> ReshapeTransform((4,), (2, 2))(chainrule.zeros(3, 4)).shape
        chainrule.Size([3, 2, 2])
    """

    bijective = True

    def __init__(
        self, in_shape: Sequence[int], out_shape: Sequence[int], cache_size: int = 0
    ) -> None:
        self.in_shape = Size(in_shape)
        self.out_shape = Size(out_shape)
        if math.prod(self.in_shape) != math.prod(self.out_shape):
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self) -> Any:
        """The constraint on inputs (with its event_dim)."""
        return constraints.independent(constraints.real, len(self.in_shape))

    @constraints.dependent_property
    def codomain(self) -> Any:
        """The constraint on outputs (with its event_dim)."""
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x: Tensor) -> Tensor:
        batch_shape = tuple(x.shape[: x.dim() - len(self.in_shape)])
        return x.reshape(batch_shape + tuple(self.out_shape))

    def _inverse(self, y: Tensor) -> Tensor:
        batch_shape = tuple(y.shape[: y.dim() - len(self.out_shape)])
        return y.reshape(batch_shape + tuple(self.in_shape))

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x.new_zeros(tuple(x.shape[: x.dim() - len(self.in_shape)]))

    @staticmethod
    def _swap_event(shape: Sequence[int], old: tuple, new: tuple) -> tuple:
        shape = tuple(shape)
        if len(shape) < len(old):
            raise ValueError("Too few dimensions on input")
        cut = len(shape) - len(old)
        if shape[cut:] != old:
            raise ValueError(f"Shape mismatch: expected {Size(shape[cut:])} but got {Size(old)}")
        return Size(shape[:cut] + new)  # a Size, as PyTorch's (whatever `shape` was)

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        return self._swap_event(shape, tuple(self.in_shape), tuple(self.out_shape))

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        return self._swap_event(shape, tuple(self.out_shape), tuple(self.in_shape))


class ExpTransform(Transform):
    """y = exp(x); log |dy/dx| = x.

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import ExpTransform
        >>> ExpTransform().log_abs_det_jacobian(chainrule.tensor(2.0), chainrule.tensor(7.389))
        tensor(2.)
    """

    codomain = constraints.positive
    bijective = True
    sign = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExpTransform)

    def _call(self, x: Tensor) -> Tensor:
        return exp(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return log(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class PowerTransform(Transform):
    """y = x ** exponent on the positive reals; log |dy/dx| = log |exponent y / x|. The
    exponent is kept as a Tensor (a number becomes one), and broadcasts with x.

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
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @property
    def sign(self) -> Any:
        return self.exponent.sign()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PowerTransform):
            return False
        return bool((self.exponent == other.exponent).all())

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return log(_abs(self.exponent * y / x))

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        return Size(broadcast_shapes(tuple(shape), tuple(self.exponent.shape)))

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        return Size(broadcast_shapes(tuple(shape), tuple(self.exponent.shape)))


def _clipped_sigmoid(x: Tensor) -> Tensor:
    """sigmoid(x) kept inside [tiny, 1 - eps] of x's dtype, so its logarithms stay finite."""
    info = dtypes.finfo(x.dtype)
    return sigmoid(x).clamp(min=info.tiny, max=1.0 - info.eps)


class SigmoidTransform(Transform):
    """y = sigmoid(x); log |dy/dx| = -softplus(-x) - softplus(x). The output, and the
    inverse's (logit's) argument, are clamped to [tiny, 1 - eps] of the dtype, as PyTorch's.

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import SigmoidTransform
        >>> SigmoidTransform()(chainrule.tensor(0.0))
        tensor(0.5000)
    """

    codomain = constraints.unit_interval
    bijective = True
    sign = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigmoidTransform)

    def _call(self, x: Tensor) -> Tensor:
        return _clipped_sigmoid(x)

    def _inverse(self, y: Tensor) -> Tensor:
        info = dtypes.finfo(y.dtype)
        y = y.clamp(min=info.tiny, max=1.0 - info.eps)
        return log(y) - log1p(-y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -softplus(-x) - softplus(x)


class SoftplusTransform(Transform):
    """y = softplus(x) = log(1 + exp(x)) (linear above 20, as F.softplus); the inverse is
    y + log(-expm1(-y)), and log |dy/dx| = log sigmoid(x) = -softplus(-x).

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import SoftplusTransform
        >>> SoftplusTransform().inv(chainrule.tensor(0.6931471805599453))
        tensor(0.)
    """

    codomain = constraints.positive
    bijective = True
    sign = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftplusTransform)

    def _call(self, x: Tensor) -> Tensor:
        return softplus(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return log(-expm1(-y)) + y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -softplus(-x)


class TanhTransform(Transform):
    """y = tanh(x); log |dy/dx| = 2 (log 2 - x - softplus(-2x)), PyTorch's stable form. Use
    cache_size=1 when inverting samples (atanh(+-1) is infinite).

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import TanhTransform
        >>> TanhTransform().log_abs_det_jacobian(chainrule.tensor(0.0), chainrule.tensor(0.0))
        tensor(0.)
    """

    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TanhTransform)

    def _call(self, x: Tensor) -> Tensor:
        return tanh(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return atanh(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AbsTransform(Transform):
    """y = |x|: not a bijection, so its "inverse" returns y itself (the positive preimage), as
    PyTorch's; HalfCauchy folds a Cauchy with it.

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import AbsTransform
        >>> AbsTransform()(chainrule.tensor([-2.0, 3.0]))
        tensor([2., 3.])
    """

    codomain = constraints.positive

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AbsTransform)

    def _call(self, x: Tensor) -> Tensor:
        return _abs(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return y


def _values_equal(a: Any, b: Any) -> bool:
    """Whether two numbers or Tensors hold the same values everywhere."""
    if isinstance(a, Number) and isinstance(b, Number):
        return a == b
    return bool((a == b).all())


class AffineTransform(Transform):
    """y = loc + scale x; log |dy/dx| = log |scale|, summed over the `event_dim` rightmost
    dimensions (its domain and codomain are reals over that many dimensions).

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

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> Any:
        """The constraint on inputs (with its event_dim)."""
        if self._event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self._event_dim)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> Any:
        """The constraint on outputs (with its event_dim)."""
        if self._event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self._event_dim)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self._event_dim, cache_size=cache_size)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AffineTransform)
            and _values_equal(self.loc, other.loc)
            and _values_equal(self.scale, other.scale)
        )

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
            result = full_like(x, math.log(abs(scale)))
        # Broadcast before summing: a scale of shape (1,) over 3-vectors scales 3 entries
        # (PyTorch sums the scale's own entries first, which counts it once).
        result = result.expand(broadcast_shapes(tuple(result.shape), tuple(x.shape)))
        return _sum_rightmost(result, self._event_dim)

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        return Size(broadcast_shapes(tuple(shape), _shape_of(self.loc), _shape_of(self.scale)))

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        return self.forward_shape(shape)


def _shape_of(value: Any) -> tuple:
    return tuple(value.shape) if isinstance(value, Tensor) else ()


class CorrCholeskyTransform(Transform):
    """Real vectors of length D (D - 1) / 2 onto Cholesky factors of D x D correlation
    matrices (lower triangular, positive diagonal, rows of unit norm), LKJ's parameterisation:
    the vector fills the strict lower triangle in row order, tanh maps each entry into
    (-1, 1), and each row is a signed stick broken on the squares (entry j takes the fraction
    tanh(x_ij)**2 of the squared norm left, the diagonal the rest). log |det J| is taken on
    the factor's strictly-lower entries, as PyTorch's.

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import CorrCholeskyTransform
        >>> CorrCholeskyTransform()(chainrule.zeros(1))
        tensor([[1., 0.],
                [0., 1.]])
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x: Tensor) -> Tensor:
        eps = dtypes.finfo(x.dtype).eps
        partial = vec_to_tril_matrix(tanh(x).clamp(min=-1 + eps, max=1 - eps), diag=-1)
        # Row i, entry j: partial_ij times the norm left after entries 0..j-1, which is
        # prod_{k < j} sqrt(1 - partial_ik ** 2); the diagonal entry is 1 times the rest.
        left = cumprod(sqrt(1 - partial * partial), -1)
        left_before = pad(left[..., :-1], (1, 0), value=1.0)
        size = partial.shape[-1]
        return (partial + eye(size, dtype=x.dtype, device=x.device)) * left_before

    def _inverse(self, y: Tensor) -> Tensor:
        left_squared = 1 - cumsum(y * y, -1)  # the squared norm left after each entry
        left_before = pad(left_squared[..., :-1], (1, 0), value=1.0)
        partial = tril_matrix_to_vec(y, diag=-1) / sqrt(tril_matrix_to_vec(left_before, -1))
        return atanh(partial)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        # Stick breaking: d y_ij / d partial_ij = sqrt(left before j), so the log-determinant
        # is half the sum of log(left before j) over the strict lower triangle (diag=-2 of
        # the un-shifted left reads exactly those); tanh adds log(1 - tanh(x)**2).
        left_squared = 1 - cumsum(y * y, -1)
        stick = 0.5 * log(tril_matrix_to_vec(left_squared, diag=-2)).sum(-1)
        tanh_part = 2.0 * (math.log(2.0) - x - softplus(-2.0 * x)).sum(-1)
        return stick + tanh_part

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        shape = tuple(shape)
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        length = shape[-1]
        size = round((0.25 + 2 * length) ** 0.5 + 0.5)
        if size * (size - 1) // 2 != length:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return shape[:-1] + (size, size)

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        size = shape[-1]
        return shape[:-2] + (size * (size - 1) // 2,)


class SoftmaxTransform(Transform):
    """Real vectors onto the simplex by softmax over the last dimension; the "inverse" is log
    (one of the preimages). Not a bijection (adding a constant changes nothing), so it has no
    log |det J|: `transform_to(simplex)` for optimisation, `biject_to` gives stick breaking.

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import SoftmaxTransform
        >>> SoftmaxTransform()(chainrule.zeros(4))
        tensor([0.2500, 0.2500, 0.2500, 0.2500])
    """

    domain = constraints.real_vector
    codomain = constraints.simplex

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftmaxTransform)

    def _call(self, x: Tensor) -> Tensor:
        return softmax(x, -1)

    def _inverse(self, y: Tensor) -> Tensor:
        return log(y)

    def forward_shape(self, shape: Sequence[int]) -> tuple:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape)

    def inverse_shape(self, shape: Sequence[int]) -> tuple:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape)


class StickBreakingTransform(Transform):
    """Real vectors of length K onto the simplex of K + 1 entries by breaking a stick: entry k
    takes the fraction z_k = sigmoid(x_k - log(K - k)) of what is left (the offset makes x = 0
    the simplex's centre), the last entry the rest. log |det J| = sum_k log z_k (1 - z_k) +
    log(rest before k), PyTorch's form. A bijection (`biject_to(simplex)`), event_dim 1.

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

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

    @staticmethod
    def _log_offset(x: Tensor, length: int) -> Tensor:
        """log(K - k) for k = 0..length - 1, K = length (x's dtype and device)."""
        return log(arange(length, 0, -1, dtype=x.dtype, device=x.device))

    def _call(self, x: Tensor) -> Tensor:
        z = _clipped_sigmoid(x - self._log_offset(x, x.shape[-1]))
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


class LowerCholeskyTransform(Transform):
    """Square matrices onto lower-triangular ones with a positive diagonal: the strict lower
    triangle kept, the diagonal exponentiated, the upper triangle dropped (so not a
    bijection; no log |det J|). `transform_to(lower_cholesky)`.

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import LowerCholeskyTransform
        >>> LowerCholeskyTransform()(chainrule.ones(2, 2))
        tensor([[2.7183, 0.0000],
                [1.0000, 2.7183]])
    """

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LowerCholeskyTransform)

    def _call(self, x: Tensor) -> Tensor:
        return x.tril(-1) + diag_embed(exp(diagonal(x, 0, -2, -1)))

    def _inverse(self, y: Tensor) -> Tensor:
        return y.tril(-1) + diag_embed(log(diagonal(y, 0, -2, -1)))


class PositiveDefiniteTransform(Transform):
    """Square matrices onto positive-definite ones: L L^T with L = LowerCholeskyTransform(x);
    the inverse takes the Cholesky factor back. `transform_to(positive_definite)`.

    Args:
        cache_size (int): 0 or 1 (keep the last x, y pair).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import PositiveDefiniteTransform
        >>> PositiveDefiniteTransform()(chainrule.zeros(2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PositiveDefiniteTransform)

    def _call(self, x: Tensor) -> Tensor:
        factor = LowerCholeskyTransform()(x)
        return factor @ factor.mT

    def _inverse(self, y: Tensor) -> Tensor:
        return LowerCholeskyTransform().inv(cholesky(y))


def _check_dim(dim: int, value: Tensor, name: str) -> None:
    if not -value.dim() <= dim < value.dim():
        raise AssertionError(f"dim {dim} out of range for {name} with {value.dim()} dimensions")


def _check_size(dim: int, value: Tensor, name: str, expected: int, what: str) -> None:
    if value.shape[dim] != expected:
        raise AssertionError(f"{name}.size({dim}) = {value.shape[dim]} must equal {what}")


class CatTransform(Transform):
    """Transforms `tseq` applied to consecutive slices of lengths `lengths` along `dim`, the
    results concatenated as `cat` would (what `biject_to(constraints.cat(...))` gives).

    Args:
        tseq (sequence of Transform): one transform per slice.
        dim (int): the dimension sliced.
        lengths (sequence of int, optional): each slice's length (1 each by default).
        cache_size (int): 0 or 1 (given to every transform).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import (
        ...     CatTransform, ExpTransform, identity_transform)
        >>> t = CatTransform([ExpTransform(), identity_transform], dim=0, lengths=[1, 2])
        >>> t(chainrule.tensor([0.0, 2.0, 3.0]))
        tensor([1., 2., 3.])
    """

    def __init__(
        self,
        tseq: Sequence[Transform],
        dim: int = 0,
        lengths: Sequence[int] | None = None,
        cache_size: int = 0,
    ) -> None:
        if not all(isinstance(t, Transform) for t in tseq):
            raise AssertionError("All elements of tseq must be Transform instances")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.lengths = [1] * len(self.transforms) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(
                f"lengths ({len(self.lengths)}) must match transforms ({len(self.transforms)})"
            )
        self.dim = dim

    @property
    def event_dim(self) -> int:
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self) -> int:
        return sum(self.lengths)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _slices(self, value: Tensor, name: str) -> list:
        _check_dim(self.dim, value, name)
        _check_size(self.dim, value, name, self.length, f"length {self.length}")
        starts = [sum(self.lengths[:i]) for i in range(len(self.lengths))]
        return [value.narrow(self.dim, s, n) for s, n in zip(starts, self.lengths)]

    def _call(self, x: Tensor) -> Tensor:
        parts = self._slices(x, "tensor")
        return cat([t(part) for t, part in zip(self.transforms, parts)], self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        parts = self._slices(y, "tensor")
        return cat([t.inv(part) for t, part in zip(self.transforms, parts)], self.dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        x_parts = self._slices(x, "x")
        y_parts = self._slices(y, "y")
        event_dim = self.event_dim
        terms = []
        for t, x_part, y_part in zip(self.transforms, x_parts, y_parts):
            term = t.log_abs_det_jacobian(x_part, y_part)
            terms.append(_sum_rightmost(term, event_dim - t.event_dim))
        # Sliced along a batch dimension, the terms are concatenated; along an event
        # dimension, each slice's is part of one event's total.
        dim = self.dim - x.dim() if self.dim >= 0 else self.dim
        if dim + event_dim < 0:
            return cat(terms, dim + event_dim)
        total: Any = 0
        for term in terms:
            total = total + term
        return total

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self) -> Any:
        """The constraint on inputs (with its event_dim)."""
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self) -> Any:
        """The constraint on outputs (with its event_dim)."""
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """Transforms `tseq` applied to the slices of `dim` (one each), the results stacked as
    `stack` would (what `biject_to(constraints.stack(...))` gives).

    Args:
        tseq (sequence of Transform): one transform per index of `dim`.
        dim (int): the dimension sliced.
        cache_size (int): 0 or 1 (given to every transform).

    Example:
        >>> import chainrule
        >>> from chainrule.distributions.transforms import (
        ...     ExpTransform, StackTransform, identity_transform)
        >>> t = StackTransform([ExpTransform(), identity_transform], dim=1)
        >>> t(chainrule.zeros(2, 2))
        tensor([[1., 0.],
                [1., 0.]])
    """

    def __init__(self, tseq: Sequence[Transform], dim: int = 0, cache_size: int = 0) -> None:
        if not all(isinstance(t, Transform) for t in tseq):
            raise AssertionError("All elements of tseq must be Transform instances")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.dim = dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slices(self, value: Tensor, name: str) -> list:
        _check_dim(self.dim, value, name)
        count = len(self.transforms)
        _check_size(self.dim, value, name, count, f"len(transforms) {count}")
        return [value.select(self.dim, i) for i in range(count)]

    def _call(self, x: Tensor) -> Tensor:
        parts = self._slices(x, "tensor")
        return stack([t(part) for t, part in zip(self.transforms, parts)], self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        parts = self._slices(y, "tensor")
        return stack([t.inv(part) for t, part in zip(self.transforms, parts)], self.dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        x_parts = self._slices(x, "x")
        y_parts = self._slices(y, "y")
        terms = [
            t.log_abs_det_jacobian(x_part, y_part)
            for t, x_part, y_part in zip(self.transforms, x_parts, y_parts)
        ]
        return stack(terms, self.dim)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self) -> Any:
        """The constraint on inputs (with its event_dim)."""
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self) -> Any:
        """The constraint on outputs (with its event_dim)."""
        return constraints.stack([t.codomain for t in self.transforms], self.dim)


class CumulativeDistributionTransform(Transform):
    """y = distribution.cdf(x), onto the unit interval; the inverse is its icdf and
    log |dy/dx| its log density at x (a Gaussian copula: a MultivariateNormal through the
    standard Normal's cdf).

    Args:
        distribution (Distribution): a univariate distribution with cdf, icdf and log_prob.
        cache_size (int): 0 or 1.

    Example:
        >>> import chainrule
        >>> import chainrule.distributions as D
        >>> from chainrule.distributions.transforms import CumulativeDistributionTransform
        >>> CumulativeDistributionTransform(D.Normal(0.0, 1.0))(chainrule.tensor(0.0))
        tensor(0.5000)
    """

    bijective = True
    codomain = constraints.unit_interval
    sign = 1

    def __init__(self, distribution: Distribution, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return self.distribution.support

    def _call(self, x: Tensor) -> Tensor:
        return self.distribution.cdf(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)
