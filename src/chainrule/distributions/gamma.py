"""Gamma, Beta and Dirichlet, sampled with the implicit reparameterisation gradient.

A Gamma(alpha) sample x is differentiable in alpha through d x / d alpha = -(dP/dalpha) / p(x)
(P the CDF, p the density; chainrule.ops.special.StandardGamma, as PyTorch's _standard_gamma).
Dirichlet samples are normalised Gamma samples, and a Beta sample is the first coordinate of a
two-dimensional Dirichlet, as in PyTorch. Their gradients are the exact pathwise derivatives of
that construction. PyTorch instead differentiates a Dirichlet sample through the marginal Beta
CDF of each coordinate (_dirichlet_grad): a different coupling of sample and parameters, so the
per-sample gradients differ while their expectations (the gradient of any E f(x)) agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.utils import broadcast_all
from chainrule.ops.creation import as_tensor
from chainrule.ops.elementwise import log, where, xlogy
from chainrule.ops.embedding import one_hot
from chainrule.ops.shape import stack
from chainrule.ops.special import digamma, gammainc, lgamma, standard_gamma

__all__ = ["Beta", "Dirichlet", "Gamma"]


class Gamma(ExponentialFamily):
    """The Gamma distribution with shape `concentration` and `rate` (mean concentration/rate);
    `rsample` is differentiable in both (implicit reparameterisation, as PyTorch).

    Args:
        concentration (Tensor or float): the shape, positive.
        rate (Tensor or float): the inverse scale, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Gamma(chainrule.tensor(2.0), chainrule.tensor(4.0))
        >>> d.mean, d.variance
        (tensor(0.5000), tensor(0.1250))
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    # Exponential-family form: theta = (concentration - 1, -rate),
    # F(theta) = log Gamma(theta_0 + 1) + (theta_0 + 1) log(-1 / theta_1).
    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return self.concentration - 1, -self.rate

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return lgamma(x + 1) + (x + 1) * log(-y.reciprocal())

    has_rsample = True
    _expand_names = ("concentration", "rate")

    def __init__(
        self,
        concentration: Tensor | float,
        rate: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, Number) and isinstance(rate, Number)
        batch_shape = () if scalar else self.concentration.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = standard_gamma(self.concentration.expand(shape))
        return draws / self.rate.expand(shape)

    def log_prob(self, value: Tensor) -> Tensor:
        # a number or a value of another dtype is taken as a Tensor of rate's dtype first
        # (validated after, so a number passes), as PyTorch's Gamma does
        value = as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        c, rate = self.concentration, self.rate
        return xlogy(c, rate) + xlogy(c - 1, value) - rate * value - lgamma(c)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - log(self.rate) + lgamma(c) + (1.0 - c) * digamma(c)


def _sample_dirichlet(concentration: Tensor) -> Tensor:
    """Normalised Gamma samples, kept inside (0, 1) as PyTorch's _sample_dirichlet."""
    gammas = standard_gamma(concentration)
    sample = gammas / gammas.sum(-1, keepdim=True)
    finfo = dtypes.finfo(sample.dtype)
    return sample.clamp(min=finfo.tiny, max=1 - finfo.eps)


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution on the simplex of the last dimension of `concentration`.

    Args:
        concentration (Tensor): (*, K), positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> chainrule.distributions.Dirichlet(chainrule.tensor([1.0, 1.0, 2.0])).mean
        tensor([0.2500, 0.2500, 0.5000])
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    # Exponential-family form: theta = concentration, F = sum log Gamma(theta) - log Gamma(sum).
    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.concentration,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))

    has_rsample = True
    _expand_names = ("concentration",)

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return _sample_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        excess = (self.concentration - 1).clamp(min=0.0)
        total = excess.sum(-1, keepdim=True)
        mode = excess / where(total == 0, 1.0, total)  # total 0: the corner below replaces it
        all_below_one = (self.concentration < 1).all(-1, keepdim=True)
        corner = one_hot(mode.argmax(-1), excess.shape[-1]).to(mode.dtype)
        return where(all_below_one, corner, mode)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        total = c.sum(-1, keepdim=True)
        return c * (total - c) / (total.pow(2) * (total + 1))

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        total = c.sum(-1)
        return (
            lgamma(c).sum(-1)
            - lgamma(total)
            - (k - total) * digamma(total)
            - ((c - 1.0) * digamma(c)).sum(-1)
        )


class Beta(ExponentialFamily):
    """The Beta distribution on [0, 1] with `concentration1` (alpha) and `concentration0`
    (beta), built on a two-dimensional Dirichlet as in PyTorch.

    Args:
        concentration1 (Tensor or float): alpha, positive.
        concentration0 (Tensor or float): beta, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> chainrule.distributions.Beta(chainrule.tensor(2.0), chainrule.tensor(6.0)).mean
        tensor(0.2500)
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval

    # Exponential-family form: theta = (concentration1, concentration0), F = log B(theta).
    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return self.concentration1, self.concentration0

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return lgamma(x) + lgamma(y) - lgamma(x + y)

    has_rsample = True

    def __init__(
        self,
        concentration1: Tensor | float,
        concentration0: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        if isinstance(concentration1, Number) and isinstance(concentration0, Number):
            pair = broadcast_all(float(concentration1), float(concentration0))
            concentration1_concentration0 = stack(pair, -1)
        else:
            concentration1, concentration0 = broadcast_all(concentration1, concentration0)
            concentration1_concentration0 = stack([concentration1, concentration0], -1)
        self._dirichlet = Dirichlet(concentration1_concentration0, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Distribution | None = None) -> Beta:
        new = type(self).__new__(type(self))
        new._dirichlet = self._dirichlet.expand(batch_shape)
        return self._finish_expand(new, batch_shape)

    @property
    def concentration1(self) -> Tensor:
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()
