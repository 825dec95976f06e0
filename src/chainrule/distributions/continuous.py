"""Continuous univariate families: Normal, LogNormal, Uniform, Exponential, Laplace,
HalfNormal, Gumbel, Cauchy.

Each samples by reparameterisation (`rsample`: a standard draw moved by the parameters, so
gradients reach them) and gives log_prob, cdf, icdf, entropy, mean, mode and variance with
PyTorch's formulas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Number
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.utils import broadcast_all
from chainrule.ops.creation import full, rand, randn, zeros_like
from chainrule.ops.elementwise import (
    abs,  # noqa: A004
    atan,
    erf,
    exp,
    expm1,
    log,
    log1p,
    sign,
    tan,
)
from chainrule.ops.special import erfinv

__all__ = [
    "Cauchy",
    "Exponential",
    "Gumbel",
    "HalfNormal",
    "Laplace",
    "LogNormal",
    "Normal",
    "Uniform",
]

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def _scalar_params(*values: Any) -> bool:
    return all(isinstance(v, Number) for v in values)


class _LocScale(Distribution):
    """The families with a real location `loc` and a positive `scale`, broadcast together:
    their parameters, constraints and construction."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _expand_names = ("loc", "scale")

    def __init__(
        self, loc: Tensor | float, scale: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = () if _scalar_params(loc, scale) else self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)


class Normal(_LocScale, ExponentialFamily):
    """The normal distribution N(loc, scale**2); `rsample` is reparameterised (loc + scale * eps).

    Args:
        loc (Tensor or float): the mean.
        scale (Tensor or float): the standard deviation, positive; broadcast with `loc` into
            the batch shape.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Normal(chainrule.tensor([0.0]), chainrule.tensor([2.0]))
        >>> d.log_prob(chainrule.tensor([0.0]))
        tensor([-1.6121])
    """

    # Exponential-family form: theta = (loc / scale**2, -1 / (2 scale**2)),
    # F(theta) = -theta_0**2 / (4 theta_1) + log(-pi / theta_1) / 2, no carrier term.
    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal()

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return -0.25 * x.pow(2) / y + 0.5 * log(-math.pi / y)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale**2
        return -((value - self.loc) ** 2) / (2 * var) - log(self.scale) - _LOG_SQRT_2PI

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value: Tensor) -> Tensor:
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + log(self.scale)


class LogNormal(_LocScale):
    """exp(X) for X ~ N(loc, scale**2) (PyTorch builds it as a transformed Normal; the same
    formulas here, written out).

    Args:
        loc (Tensor or float): the mean of log(X).
        scale (Tensor or float): the standard deviation of log(X), positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.LogNormal(chainrule.tensor(0.0), chainrule.tensor(1.0))
        >>> d.mean, d.log_prob(chainrule.tensor(1.0))
        (tensor(1.6487), tensor(-0.9189))
    """

    support = constraints.positive

    @property
    def _normal(self) -> Normal:
        return Normal(self.loc, self.scale, validate_args=False)

    @property
    def mean(self) -> Tensor:
        return exp(self.loc + self.scale.pow(2) / 2)

    @property
    def mode(self) -> Tensor:
        return exp(self.loc - self.scale.pow(2))

    @property
    def variance(self) -> Tensor:
        scale_sq = self.scale.pow(2)
        return expm1(scale_sq) * exp(2 * self.loc + scale_sq)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        return exp(self._normal.rsample(sample_shape))

    def __repr__(self) -> str:
        # PyTorch's LogNormal keeps loc and scale on its base Normal, not on itself, so its
        # repr lists no parameters: "LogNormal()", which printing scripts show.
        return "LogNormal()"

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        x = log(value)
        return self._normal.log_prob(x) - x  # the Jacobian of exp: log|dy/dx| = x

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._normal.cdf(log(value))

    def icdf(self, value: Tensor) -> Tensor:
        return exp(self._normal.icdf(value))

    def entropy(self) -> Tensor:
        return self._normal.entropy() + self.loc


class Uniform(Distribution):
    """The uniform distribution on the half-open interval [low, high).

    Args:
        low (Tensor or float): the lower bound (included).
        high (Tensor or float): the upper bound (excluded), above `low`.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Uniform(chainrule.tensor(0.0), chainrule.tensor(4.0))
        >>> d.mean, d.log_prob(chainrule.tensor(1.0))
        (tensor(2.), tensor(-1.3863))
    """

    has_rsample = True
    _expand_names = ("low", "high")

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        return {
            "low": constraints.less_than(self.high),
            "high": constraints.greater_than(self.low),
        }

    def __init__(
        self, low: Tensor | float, high: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.low, self.high = broadcast_all(low, high)
        batch_shape = () if _scalar_params(low, high) else self.low.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        """The interval [low, high) that samples lie in."""
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return math.nan * self.high

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = rand(shape, dtype=self.low.dtype, device=self.low.device)
        return self.low + draws * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        lower = (self.low <= value).type_as(self.low)
        upper = (self.high > value).type_as(self.low)
        return log(lower * upper) - log(self.high - self.low)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        result = (value - self.low) / (self.high - self.low)
        return result.clamp(min=0, max=1)

    def icdf(self, value: Tensor) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return log(self.high - self.low)


class Exponential(ExponentialFamily):
    """The exponential distribution with `rate` (mean 1 / rate).

    Args:
        rate (Tensor or float): positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Exponential(chainrule.tensor(2.0))
        >>> d.mean, d.log_prob(chainrule.tensor(0.0))
        (tensor(0.5000), tensor(0.6931))
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative

    # Exponential-family form: theta = -rate, F(theta) = -log(-theta).
    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (-self.rate,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return -log(-x)

    has_rsample = True
    _expand_names = ("rate",)

    def __init__(self, rate: Tensor | float, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        batch_shape = () if isinstance(rate, Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return zeros_like(self.rate)  # a constant: no gradient, as PyTorch's

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = rand(shape, dtype=self.rate.dtype, device=self.rate.device)
        return -log1p(-draws) / self.rate  # Exponential(1) by inversion, u in [0, 1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return log(self.rate) - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 1 - exp(-self.rate * value)

    def icdf(self, value: Tensor) -> Tensor:
        return -log1p(-value) / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - log(self.rate)


class Laplace(_LocScale):
    """The Laplace distribution with location `loc` and scale `scale` (density
    exp(-|x - loc| / scale) / (2 scale)).

    Args:
        loc (Tensor or float): the location (mean and median).
        scale (Tensor or float): positive; the variance is 2 scale**2.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Laplace(chainrule.tensor(0.0), chainrule.tensor(1.0))
        >>> d.variance, d.log_prob(chainrule.tensor(0.0))
        (tensor(2.), tensor(-0.6931))
    """

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return (2**0.5) * self.scale

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = dtypes.finfo(self.loc.dtype).eps
        uniform = rand(shape, dtype=self.loc.dtype, device=self.loc.device) * (2 - eps) + (
            eps - 1
        )  # in [eps - 1, 1), as PyTorch's uniform_(eps - 1, 1)
        return self.loc - self.scale * sign(uniform) * log1p(-abs(uniform))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -log(2 * self.scale) - abs(value - self.loc) / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        centred = value - self.loc
        return 0.5 - 0.5 * sign(centred) * expm1(-abs(centred) / self.scale)

    def icdf(self, value: Tensor) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * sign(term) * log1p(-2 * abs(term))

    def entropy(self) -> Tensor:
        return 1 + log(2 * self.scale)


class HalfNormal(Distribution):
    """|X| for X ~ N(0, scale**2): density twice the normal's on x >= 0.

    Args:
        scale (Tensor or float): the scale of the folded normal, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> chainrule.distributions.HalfNormal(1.0).log_prob(chainrule.tensor(0.0))
        tensor(-0.2258)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _expand_names = ("scale",)

    def __init__(self, scale: Tensor | float, validate_args: bool | None = None) -> None:
        (self.scale,) = broadcast_all(scale)
        batch_shape = () if _scalar_params(scale) else self.scale.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def __repr__(self) -> str:
        # PyTorch's HalfNormal keeps its scale on a base Normal, so its repr names no parameter
        return "HalfNormal()"

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self) -> Tensor:
        return zeros_like(self.scale)  # a constant: no gradient, as PyTorch's

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = randn(shape, dtype=self.scale.dtype, device=self.scale.device)
        return abs(eps * self.scale)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        normal = -(value**2) / (2 * self.scale**2) - log(self.scale) - _LOG_SQRT_2PI
        return (normal + math.log(2)).masked_fill(value < 0, -math.inf)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return erf(value / (self.scale * math.sqrt(2)))

    def icdf(self, prob: Tensor) -> Tensor:
        return self.scale * erfinv(prob) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 * math.log(math.pi / 2) + log(self.scale) + 0.5


class Gumbel(_LocScale):
    """The Gumbel (type-I extreme value) distribution: log p(x) = -(z + exp(-z)) - log(scale)
    for z = (x - loc) / scale; `rsample` is loc - scale log(-log(u)).

    Args:
        loc (Tensor or float): the location (the mode).
        scale (Tensor or float): the scale, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> chainrule.distributions.Gumbel(0.0, 1.0).log_prob(chainrule.tensor(0.0))
        tensor(-1.)
    """

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * _EULER_GAMMA

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        tiny = dtypes.finfo(self.loc.dtype).tiny
        eps = dtypes.finfo(self.loc.dtype).eps
        uniform = rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        uniform = uniform.clamp(min=tiny, max=1 - eps)
        return self.loc - self.scale * log(-log(uniform))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -(z + exp(-z)) - log(self.scale)

    def cdf(self, value: Tensor) -> Tensor:
        return exp(-exp(-(value - self.loc) / self.scale))

    def icdf(self, value: Tensor) -> Tensor:
        value = (value - 0.5) + 0.5  # PyTorch's (a transformed Uniform) rounds through this
        return self.loc - self.scale * log(-log(value))

    def entropy(self) -> Tensor:
        return log(self.scale) + (1 + _EULER_GAMMA)


class Cauchy(_LocScale):
    """The Cauchy (Lorentz) distribution: log p(x) = -log(pi scale) - log1p(z**2) for
    z = (x - loc) / scale. Its mean is undefined (nan) and its variance infinite, as PyTorch
    reports them.

    Args:
        loc (Tensor or float): the median.
        scale (Tensor or float): the half width at half maximum, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> chainrule.distributions.Cauchy(0.0, 1.0).cdf(chainrule.tensor(1.0))
        tensor(0.7500)
    """

    @property
    def mean(self) -> Tensor:  # constants: no gradient, as PyTorch's
        return full(self._extended_shape(), math.nan, dtype=self.loc.dtype, device=self.loc.device)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return full(self._extended_shape(), math.inf, dtype=self.loc.dtype, device=self.loc.device)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        uniform = rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + self.scale * tan(math.pi * (uniform - 0.5))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - log(self.scale) - log1p(z**2)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        return tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + log(self.scale)


_EULER_GAMMA = 0.5772156649015329
