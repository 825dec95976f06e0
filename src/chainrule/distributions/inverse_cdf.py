"""Families sampled by inverting their CDF at a uniform draw (so `rsample` is differentiable in
every parameter): ContinuousBernoulli and GeneralizedPareto, with PyTorch's formulas,
including its Taylor branches where the closed forms cancel catastrophically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Number

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.distributions import constraints
from chainrule.distributions.discrete import _ProbsOrLogits
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.utils import (
    broadcast_all,
    clamp_probs,
    lazy_property,
    logits_to_probs,
)
from chainrule.ops.activation import softplus
from chainrule.ops.creation import rand
from chainrule.ops.elementwise import abs, exp, expm1, isclose, log, log1p, sqrt, where  # noqa: A004

__all__ = ["ContinuousBernoulli", "GeneralizedPareto"]


class ContinuousBernoulli(_ProbsOrLogits, ExponentialFamily):
    """The continuous Bernoulli distribution on [0, 1] (Loaiza-Ganem and Cunningham, 2019):
    density C(p) p^x (1 - p)^(1 - x), parameterised by `probs` p or `logits` (not both; they
    are a shape parameter, not a probability). The normaliser C(p) and the moments cancel
    catastrophically near p = 1/2: inside `lims` they are Taylor polynomials in p - 1/2, as
    PyTorch's.

    Args:
        probs (Tensor or float, optional): in (0, 1); clamped away from 0 and 1 by the
            dtype's eps.
        logits (Tensor or float, optional): real, sigmoid(logits) = probs.
        lims (tuple of float): the interval around 1/2 where the Taylor branches are used.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.ContinuousBernoulli(chainrule.tensor([0.2, 0.5]))
        >>> d.mean, d.log_prob(chainrule.tensor([0.1, 0.1]))
        (tensor([0.3880, 0.5000]), tensor([0.4757, 0.0000]))
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval

    # Exponential-family form: theta = logits, F(theta) = log((exp(theta) - 1) / theta), by
    # its Taylor series theta/2 + theta**2/24 - theta**4/2880 where theta is near 0 (the
    # logits of the probabilities within `lims`), as PyTorch.
    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        low, high = self._lims[0] - 0.5, self._lims[1] - 0.5
        stable = (x <= low) | (x > high)
        safe = where(stable, x, low)
        closed_form = log(abs(expm1(safe))) - log(abs(safe))
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return where(stable, closed_form, taylor)

    has_rsample = True

    def __init__(
        self,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        lims: tuple[float, float] = (0.499, 0.501),
        validate_args: bool | None = None,
    ) -> None:
        batch_shape = self._set_parameters(None, probs, logits)
        if probs is not None:
            # checked before the clamp below, which would make any value pass
            if validate_args is not None and not bool(
                self.arg_constraints["probs"].check(self.probs).all()
            ):
                raise ValueError("The parameter probs has invalid values")
            self.probs = self._param = clamp_probs(self.probs)
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> ContinuousBernoulli:
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new._lims = self._lims
        return super().expand(batch_shape, new)

    @lazy_property
    def probs(self) -> Tensor:
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        """probs outside the Taylor region; lims[0] inside it (a finite stand-in whose
        branch `where` discards, so no nan reaches the gradient)."""
        return where(self._outside_unstable_region(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self) -> Tensor:
        """log C(p) = log(|log1p(-p) - log p| / |1 - 2p|); log 2 + (4/3 + 104/45 x) x with
        x = (p - 1/2)^2 near p = 1/2."""
        cut = self._cut_probs()
        below_half = where(cut <= 0.5, cut, 0.0)
        above_half = where(cut >= 0.5, cut, 1.0)
        log_norm = log(abs(log1p(-cut) - log(cut))) - where(
            cut <= 0.5, log1p(-2.0 * below_half), log(2.0 * above_half - 1.0)
        )
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (log1p(-cut) - log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self) -> Tensor:
        return sqrt(self.variance)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        variances = cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2) + 1.0 / (
            log1p(-cut) - log(cut)
        ).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return where(self._outside_unstable_region(), variances, taylor)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = rand(shape, dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # minus binary_cross_entropy_with_logits(logits, value)
        return value * logits - softplus(logits) + self._cont_bern_log_norm()

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = where(self._outside_unstable_region(), cdfs, value)
        return where(value <= 0.0, 0.0, where(value >= 1.0, 1.0, unbounded))

    def icdf(self, value: Tensor) -> Tensor:
        cut = self._cut_probs()
        inverted = (log1p(-cut + value * (2.0 * cut - 1.0)) - log1p(-cut)) / (
            log(cut) - log1p(-cut)
        )
        return where(self._outside_unstable_region(), inverted, value)

    def entropy(self) -> Tensor:
        log_probs0 = log1p(-self.probs)
        log_probs1 = log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution: survival function (1 + k z)^(-1/k) for
    z = (x - loc) / scale and concentration k (exp(-z) at k = 0, an Exponential); support
    [loc, inf) for k >= 0 and [loc, loc - scale / k] for k < 0. The k = 0 branch is taken
    where k is close to 0 (isclose), as PyTorch's. The mean is nan for k >= 1 and the
    variance nan for k >= 1/2.

    Args:
        loc (Tensor or float): the lower end of the support.
        scale (Tensor or float): positive.
        concentration (Tensor or float): the shape k, real.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.GeneralizedPareto(0.0, 2.0, chainrule.tensor([0.0, 0.5]))
        >>> d.mean, d.cdf(chainrule.tensor([2.0, 2.0]))
        (tensor([2., 4.]), tensor([0.6321, 0.5556]))
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True
    _expand_names = ("loc", "scale", "concentration")

    def __init__(
        self,
        loc: Tensor | float,
        scale: Tensor | float,
        concentration: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        scalar = all(isinstance(v, Number) for v in (loc, scale, concentration))
        super().__init__(() if scalar else self.loc.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        """[loc, inf) for concentration >= 0, [loc, loc - scale / concentration] below."""
        negative = self.concentration < 0
        safe = where(negative, self.concentration, -1.0)
        upper = where(negative, self.loc - self.scale / safe, math.inf)
        return constraints.interval(self.loc, upper)

    def _safe_concentration(self) -> tuple[Tensor, Tensor]:
        """(where k is close to 0, k with 1 in those places): the k != 0 formulas' input."""
        eq_zero = isclose(self.concentration, self.concentration.new_zeros(()))
        return eq_zero, where(eq_zero, 1.0, self.concentration)

    def _z(self, x: Tensor) -> Tensor:
        return (x - self.loc) / self.scale

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe = self._safe_concentration()
        y = 1 / safe + 1
        nonzero = where(y == 0, y, y * log1p(safe * z))
        return -log(self.scale) - where(eq_zero, z, nonzero)

    def log_survival_function(self, value: Tensor) -> Tensor:
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe = self._safe_concentration()
        return where(eq_zero, -z, -log1p(safe * z) / safe)

    def log_cdf(self, value: Tensor) -> Tensor:
        """log P(X <= value)."""
        return log1p(-exp(self.log_survival_function(value)))

    def cdf(self, value: Tensor) -> Tensor:
        return exp(self.log_cdf(value))

    def icdf(self, value: Tensor) -> Tensor:
        eq_zero, safe = self._safe_concentration()
        log_u = log1p(-value)
        nonzero = self.loc + self.scale / safe * expm1(-safe * log_u)
        return where(eq_zero, self.loc - self.scale * log_u, nonzero)

    @property
    def mean(self) -> Tensor:
        valid = self.concentration < 1
        safe = where(valid, self.concentration, 0.5)
        return where(valid, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def variance(self) -> Tensor:
        valid = self.concentration < 0.5
        safe = where(valid, self.concentration, 0.25)
        result = self.scale**2 / ((1 - safe) ** 2 * (1 - 2 * safe))
        return where(valid, result, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    def entropy(self) -> Tensor:
        return (log(self.scale) + self.concentration + 1).expand(self._batch_shape)
