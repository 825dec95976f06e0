"""Families built on others, as PyTorch builds them: Chi2 (a Gamma), StudentT (a Normal
scaled by a Chi2 draw), FisherSnedecor (a ratio of two Gammas), and Pareto and Weibull
(Exponentials pushed through transforms).
Each is reparameterised (`rsample`), so gradients reach its parameters through its samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.distributions import constraints
from chainrule.distributions.continuous import Exponential
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.gamma import Gamma
from chainrule.distributions.transformed import TransformedDistribution
from chainrule.distributions.transforms import AffineTransform, ExpTransform, PowerTransform
from chainrule.distributions.utils import broadcast_all
from chainrule.ops.creation import ones_like, randn
from chainrule.ops.elementwise import exp, log, log1p, rsqrt, where
from chainrule.ops.special import digamma, lgamma

__all__ = ["Chi2", "FisherSnedecor", "Pareto", "StudentT", "Weibull"]

_EULER_GAMMA = 0.57721566490153286060


class Chi2(Gamma):
    """The chi-squared distribution with `df` degrees of freedom: Gamma(df / 2, 1 / 2).

    Args:
        df (Tensor or float): the degrees of freedom, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Chi2(chainrule.tensor(4.0))
        >>> d.mean, d.variance
        (tensor(4.), tensor(8.))
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Tensor | float, validate_args: bool | None = None) -> None:
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2


class StudentT(Distribution):
    """Student's t distribution with `df` degrees of freedom, location `loc` and scale
    `scale`; `rsample` is loc + scale * z / sqrt(chi2 / df), differentiable in all three.

    Args:
        df (Tensor or float): the degrees of freedom, positive.
        loc (Tensor or float): the location (the mode; the mean when df > 1).
        scale (Tensor or float): the scale, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.StudentT(chainrule.tensor([1.0, 3.0]))
        >>> d.mean, d.variance
        (tensor([nan, 0.]), tensor([nan, 3.]))
    """

    arg_constraints = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(
        self,
        df: Tensor | float,
        loc: Tensor | float = 0.0,
        scale: Tensor | float = 1.0,
        validate_args: bool | None = None,
    ) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Distribution | None = None) -> StudentT:
        new = type(self).__new__(type(self)) if _instance is None else _instance
        shape = tuple(batch_shape)
        new.df = self.df.expand(shape)
        new.loc = self.loc.expand(shape)
        new.scale = self.scale.expand(shape)
        new._chi2 = self._chi2.expand(shape)
        return self._finish_expand(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        return where(self.df <= 1, math.nan, self.loc)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """scale^2 df / (df - 2) for df > 2, inf for 1 < df <= 2, nan for df <= 1."""
        finite = self.df > 2
        df = where(finite, self.df, 3.0)  # keeps the unused branch (and its gradient) finite
        value = self.scale.pow(2) * df / (df - 2)
        return where(finite, value, where(self.df > 1, math.inf, math.nan))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        z = randn(shape, dtype=self.df.dtype, device=self.df.device)
        chi2 = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (z * rsqrt(chi2 / self.df))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        df = self.df
        y = (value - self.loc) / self.scale
        log_normalizer = (
            log(self.scale)
            + 0.5 * log(df)
            + 0.5 * math.log(math.pi)
            + lgamma(0.5 * df)
            - lgamma(0.5 * (df + 1.0))
        )
        return -0.5 * (df + 1.0) * log1p(y**2.0 / df) - log_normalizer

    def entropy(self) -> Tensor:
        df = self.df
        lbeta = lgamma(0.5 * df) + math.lgamma(0.5) - lgamma(0.5 * (df + 1))
        return (
            log(self.scale)
            + 0.5 * (df + 1) * (digamma(0.5 * (df + 1)) - digamma(0.5 * df))
            + 0.5 * log(df)
            + lbeta
        )


class FisherSnedecor(Distribution):
    """The F distribution with `df1` and `df2` degrees of freedom: the ratio (X1 / df1) /
    (X2 / df2) of chi-squared draws, sampled as the ratio of Gamma(df1 / 2, df1) and
    Gamma(df2 / 2, df2) draws, so `rsample` is differentiable in both. Its mean is nan for
    df2 <= 2, its variance nan for df2 <= 4 and its mode nan for df1 <= 2, as PyTorch's.

    Args:
        df1 (Tensor or float): the numerator's degrees of freedom, positive.
        df2 (Tensor or float): the denominator's degrees of freedom, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.FisherSnedecor(chainrule.tensor(4.0), chainrule.tensor(6.0))
        >>> d.mean, d.mode
        (tensor(1.5000), tensor(0.3750))
    """

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(
        self, df1: Tensor | float, df2: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        scalar = isinstance(df1, (int, float)) and isinstance(df2, (int, float))
        super().__init__(() if scalar else self.df1.shape, validate_args=validate_args)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> FisherSnedecor:
        new = type(self).__new__(type(self))
        shape = tuple(batch_shape)
        new.df1 = self.df1.expand(shape)
        new.df2 = self.df2.expand(shape)
        new._gamma1 = self._gamma1.expand(shape)
        new._gamma2 = self._gamma2.expand(shape)
        return self._finish_expand(new, batch_shape)

    @property
    def mean(self) -> Tensor:
        df2 = where(self.df2 <= 2, math.nan, self.df2)
        return df2 / (df2 - 2)

    @property
    def mode(self) -> Tensor:
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return where(self.df1 <= 2, math.nan, mode)

    @property
    def variance(self) -> Tensor:
        df1 = self.df1
        df2 = where(self.df2 <= 4, math.nan, self.df2)
        return 2 * df2.pow(2) * (df1 + df2 - 2) / (df1 * (df2 - 2).pow(2) * (df2 - 4))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x1 = self._gamma1.rsample(sample_shape).reshape(shape)
        x2 = self._gamma2.rsample(sample_shape).reshape(shape)
        tiny = dtypes.finfo(x2.dtype).tiny
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        ct1 = self.df1 * 0.5
        ct2 = self.df2 * 0.5
        ct3 = self.df1 / self.df2
        t1 = lgamma(ct1 + ct2) - lgamma(ct1) - lgamma(ct2)
        t2 = ct1 * log(ct3) + (ct1 - 1) * log(value)
        t3 = (ct1 + ct2) * log1p(ct3 * value)
        return t1 + t2 - t3


class Pareto(TransformedDistribution):
    """The Pareto distribution with minimum `scale` and tail index `alpha`: scale * exp(E),
    E ~ Exponential(alpha).

    Args:
        scale (Tensor or float): the minimum value, positive.
        alpha (Tensor or float): the tail index, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Pareto(chainrule.tensor(1.0), chainrule.tensor(3.0))
        >>> d.mean, d.log_prob(chainrule.tensor(2.0))
        (tensor(1.5000), tensor(-1.6740))
    """

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(
        self,
        scale: Tensor | float,
        alpha: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        transforms = [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Distribution | None = None) -> Pareto:
        shape = tuple(batch_shape)
        new = Pareto(self.scale.expand(shape), self.alpha.expand(shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        """[scale, inf)."""
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self) -> Tensor:
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def entropy(self) -> Tensor:
        return log(self.scale / self.alpha) + (1 + self.alpha.reciprocal())

    __repr__ = Distribution.__repr__


class Weibull(TransformedDistribution):
    """The Weibull distribution with `scale` and shape `concentration`: scale * E^(1/k),
    E ~ Exponential(1).

    Args:
        scale (Tensor or float): the scale, positive.
        concentration (Tensor or float): the shape k, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Weibull(chainrule.tensor(2.0), chainrule.tensor(1.0))
        >>> d.mean, d.log_prob(chainrule.tensor(2.0))
        (tensor(2.), tensor(-1.6931))
    """

    arg_constraints = {
        "scale": constraints.positive,
        "concentration": constraints.positive,
    }
    support = constraints.positive

    def __init__(
        self,
        scale: Tensor | float,
        concentration: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(ones_like(self.scale), validate_args=validate_args)
        transforms = [
            PowerTransform(exponent=self.concentration_reciprocal),
            AffineTransform(loc=0, scale=self.scale),
        ]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Distribution | None = None) -> Weibull:
        shape = tuple(batch_shape)
        new = Weibull(self.scale.expand(shape), self.concentration.expand(shape), False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.scale * exp(lgamma(1 + self.concentration_reciprocal))

    @property
    def mode(self) -> Tensor:
        k = self.concentration
        return self.scale * ((k - 1) / k) ** k.reciprocal()

    @property
    def variance(self) -> Tensor:
        k_inv = self.concentration_reciprocal
        return self.scale.pow(2) * (exp(lgamma(1 + 2 * k_inv)) - exp(2 * lgamma(1 + k_inv)))

    def entropy(self) -> Tensor:
        k_inv = self.concentration_reciprocal
        return _EULER_GAMMA * (1 - k_inv) + log(self.scale * k_inv) + 1

    __repr__ = Distribution.__repr__
