"""Families that are a simpler distribution pushed through transforms, built as PyTorch builds
them: HalfCauchy (|Cauchy|), InverseGamma (1 / Gamma), Kumaraswamy (a Uniform through powers)
and LogisticNormal (a Normal broken onto the simplex). Each samples by transforming its base's
reparameterised draws, so gradients reach the parameters; log_prob is the change of variables
unless a family overrides it with its closed form, as PyTorch's does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from chainrule._tensor import Tensor
from chainrule.distributions import constraints
from chainrule.distributions.continuous import Cauchy, Normal, Uniform
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.gamma import Gamma
from chainrule.distributions.independent import Independent
from chainrule.distributions.transformed import TransformedDistribution
from chainrule.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    PowerTransform,
    StickBreakingTransform,
)
from chainrule.distributions.utils import broadcast_all
from chainrule.ops.creation import as_tensor, full, full_like, zeros_like
from chainrule.ops.elementwise import exp, log, log1p, where
from chainrule.ops.special import digamma, lgamma

__all__ = ["HalfCauchy", "InverseGamma", "Kumaraswamy", "LogisticNormal"]

_EULER_GAMMA = 0.57721566490153286060


class _Rebuilt(TransformedDistribution):
    """A family whose `expand` is the same family made from its expanded parameters (named
    by `_expand_names`, read as attributes), and whose repr is Distribution's."""

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> Distribution:
        shape = tuple(batch_shape)
        params = [getattr(self, name).expand(shape) for name in self._expand_names]
        new = type(self)(*params, validate_args=False)
        new._validate_args = self._validate_args
        return new

    __repr__ = Distribution.__repr__


class HalfCauchy(_Rebuilt):
    """|X| for X ~ Cauchy(0, scale): density twice the Cauchy's on x >= 0. Its mean is infinite
    and its variance the Cauchy's (infinite), as PyTorch reports them.

    Args:
        scale (Tensor or float): the scale of the folded Cauchy, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.HalfCauchy(chainrule.tensor(1.0))
        >>> d.log_prob(chainrule.tensor(0.0)), d.icdf(chainrule.tensor(0.5))
        (tensor(-0.4516), tensor(1.))
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _expand_names = ("scale",)

    def __init__(self, scale: Tensor | float, validate_args: bool | None = None) -> None:
        base = Cauchy(0.0, scale, validate_args=False)
        super().__init__(base, AbsTransform(), validate_args=validate_args)

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mean(self) -> Tensor:
        return full(
            self._extended_shape(), math.inf, dtype=self.scale.dtype, device=self.scale.device
        )

    @property
    def mode(self) -> Tensor:
        return zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        # (unvalidated, a number is taken as a Tensor of scale's dtype, as PyTorch's)
        value = as_tensor(
            value, dtype=self.base_dist.scale.dtype, device=self.base_dist.scale.device
        )
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return where(value >= 0, log_prob, -math.inf)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob: Tensor) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)


class InverseGamma(_Rebuilt):
    """1 / X for X ~ Gamma(concentration, rate): a Gamma through PowerTransform(-1). `rsample`
    is differentiable in both parameters (the Gamma's implicit reparameterisation).

    Args:
        concentration (Tensor or float): the shape alpha, positive.
        rate (Tensor or float): the Gamma's rate beta (the inverse gamma's scale), positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.InverseGamma(chainrule.tensor(3.0), chainrule.tensor(2.0))
        >>> d.mean, d.mode
        (tensor(1.), tensor(0.5000))
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True
    _expand_names = ("concentration", "rate")

    def __init__(
        self,
        concentration: Tensor | float,
        rate: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        base = Gamma(concentration, rate, validate_args=validate_args)
        minus_one = -base.rate.new_ones(())
        super().__init__(base, PowerTransform(minus_one), validate_args=validate_args)

    @property
    def concentration(self) -> Tensor:
        return self.base_dist.concentration

    @property
    def rate(self) -> Tensor:
        return self.base_dist.rate

    @property
    def mean(self) -> Tensor:
        """rate / (concentration - 1), infinite for concentration <= 1."""
        result = self.rate / (self.concentration - 1)
        return where(self.concentration > 1, result, math.inf)

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        """rate^2 / ((concentration - 1)^2 (concentration - 2)), infinite for
        concentration <= 2."""
        c = self.concentration
        result = self.rate.square() / ((c - 1).square() * (c - 2))
        return where(c > 2, result, math.inf)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c + log(self.rate) + lgamma(c) - (1 + c) * digamma(c)


def _kumaraswamy_moment(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[x^n] = b B(1 + n / a, b), through lgamma."""
    arg = 1 + n / a
    return b * exp(lgamma(arg) + lgamma(b) - lgamma(arg + b))


class Kumaraswamy(_Rebuilt):
    """The Kumaraswamy distribution on [0, 1]: density a b x^(a-1) (1 - x^a)^(b-1), a Uniform
    u pushed through (1 - u^(1/b))^(1/a), so `rsample` is differentiable in a and b.

    Args:
        concentration1 (Tensor or float): a, positive.
        concentration0 (Tensor or float): b, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Kumaraswamy(chainrule.tensor(2.0), chainrule.tensor(2.0))
        >>> d.mean, d.log_prob(chainrule.tensor(0.5))
        (tensor(0.5333), tensor(0.4055))
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True
    _expand_names = ("concentration1", "concentration0")

    def __init__(
        self,
        concentration1: Tensor | float,
        concentration0: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base = Uniform(
            full_like(self.concentration0, 0),
            full_like(self.concentration0, 1),
            validate_args=validate_args,
        )
        transforms = [
            PowerTransform(exponent=self.concentration0.reciprocal()),
            AffineTransform(loc=1.0, scale=-1.0),
            PowerTransform(exponent=self.concentration1.reciprocal()),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Tensor:
        """((a - 1) / (a b - 1))^(1/a), in log space; nan where a < 1 or b < 1."""
        a, b = self.concentration1, self.concentration0
        log_mode = b.reciprocal() * log1p(-b) - log1p(-b * a)
        log_mode = where((b < 1) | (a < 1), math.nan, log_mode)
        return exp(log_mode)

    @property
    def variance(self) -> Tensor:
        second = _kumaraswamy_moment(self.concentration1, self.concentration0, 2)
        return second - self.mean.pow(2)

    def entropy(self) -> Tensor:
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        harmonic = digamma(self.concentration0 + 1) + _EULER_GAMMA
        return t0 + t1 * harmonic - log(self.concentration1) - log(self.concentration0)


class LogisticNormal(_Rebuilt):
    """A Normal over K reals broken onto the simplex of K + 1 entries by
    StickBreakingTransform: log(x_k / (1 - sum_{j<=k} x_j)) ~ Normal(loc, scale), offset as
    the transform says. The event is the last dimension (K + 1 entries); a scalar base counts
    as K = 1, as in PyTorch.

    Args:
        loc (Tensor or float): the base Normal's mean, (*, K).
        scale (Tensor or float): the base Normal's standard deviation, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.LogisticNormal(chainrule.zeros(2), chainrule.ones(2))
        >>> d.event_shape, d.log_prob(chainrule.tensor([0.2, 0.3, 0.5]))
        (chainrule.Size([3]), tensor(1.2980))
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(
        self, loc: Tensor | float, scale: Tensor | float, validate_args: bool | None = None
    ) -> None:
        normal = Normal(loc, scale, validate_args=validate_args)
        if not normal.batch_shape:
            normal = normal.expand((1,))
        base = Independent(normal, 1)
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> LogisticNormal:
        shape = tuple(batch_shape) + tuple(self.base_dist.event_shape)
        new = LogisticNormal(self.loc.expand(shape), self.scale.expand(shape), False)
        new._validate_args = self._validate_args
        return new

    @property
    def loc(self) -> Tensor:
        return self.base_dist.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.base_dist.scale
