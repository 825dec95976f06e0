"""Count families: Binomial, Geometric, NegativeBinomial and Multinomial, as PyTorch's.

Each takes `probs` or `logits` (exactly one; Geometric's probs are those of a success per
trial) and derives the other lazily. log_prob, entropy and the moments use PyTorch's formulas
and are differentiable in the parameters; samples carry no gradient.

Binomial draws are exact for any total_count in O(log n) vectorised steps: the a-th smallest
of n uniforms is a Beta(a, n + 1 - a) draw, and whether it lies above or below `probs` leaves
a Binomial of about half the trials (Devroye, Non-Uniform Random Variate Generation, X.4),
until few enough trials remain to count one by one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import dtypes
from chainrule.distributions import constraints
from chainrule.distributions.discrete import (
    Categorical,
    _bce_with_logits,
    _ProbsOrLogits,
)
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.gamma import Gamma
from chainrule.distributions.utils import (
    broadcast_all,
)
from chainrule.ops.activation import logsigmoid, sigmoid
from chainrule.ops.creation import arange, bernoulli, poisson, rand, zeros_like
from chainrule.ops.elementwise import abs, exp, log, log1p, where  # noqa: A004
from chainrule.ops.embedding import one_hot
from chainrule.ops.special import lgamma, standard_gamma

__all__ = ["Binomial", "Geometric", "Multinomial", "NegativeBinomial"]


def _clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) with derivative 1/2 at 0, as PyTorch's Binomial."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(_ProbsOrLogits):
    """The number of successes in `total_count` independent trials, each a success with
    probability `probs` (or sigmoid(`logits`)).

    Args:
        total_count (Tensor or int): the number of trials, a non-negative integer.
        probs (Tensor or float, optional): the success probability, in [0, 1].
        logits (Tensor or float, optional): its log-odds; give exactly one of the two.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Binomial(10, probs=chainrule.tensor(0.5))
        >>> d.mean, d.log_prob(chainrule.tensor(5.0))
        (tensor(5.), tensor(-1.4020))
    """

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(
        self,
        total_count: Tensor | int = 1,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        batch_shape = self._set_parameters(total_count, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        """0, 1, ..., total_count."""
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return _sample_binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_factorial_n = lgamma(n + 1)
        log_factorial_k = lgamma(value + 1)
        log_factorial_nmk = lgamma(n - value + 1)
        # n log(1 + e^logits), stably: n max(logits, 0) + n log1p(e^-|logits|)
        normalize_term = n * _clamp_by_zero(logits) + n * log1p(exp(-abs(logits)))
        normalize_term = normalize_term - log_factorial_n
        return value * logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self) -> Tensor:
        """-sum p log p over the support (total_count must be the same across the batch)."""
        log_prob = self.log_prob(self._support_values("entropy", expand=False))
        return -(exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        return self._support_values("enumerate_support", expand)

    def _support_values(self, method: str, expand: bool) -> Tensor:
        total_count = int(self.total_count.max())
        if not bool(self.total_count.min() == total_count):
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{method}`.")
        values = arange(1 + total_count, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


# Trials left when a Binomial draw stops halving them and counts them one by one.
_COUNTED_TRIALS = 16


def _sample_binomial(total_count: Tensor, probs: Tensor) -> Tensor:
    """Binomial(total_count, probs) draws of their common shape, in probs' dtype (see the
    module docstring for the method; float64 inside, so halving stays exact)."""
    n = total_count.to(dtype=dtypes.float64)
    p = probs.to(dtype=dtypes.float64).clamp(0.0, 1.0)
    successes = zeros_like(n)
    while True:
        halving = n > _COUNTED_TRIALS
        if not bool(halving.any()):
            break
        a = where(halving, (n / 2).floor() + 1, 1.0)  # the a-th smallest of n uniforms ...
        b = where(halving, n + 1 - a, 1.0)
        gamma_a, gamma_b = standard_gamma(a), standard_gamma(b)
        x = gamma_a / (gamma_a + gamma_b)  # ... is a Beta(a, n + 1 - a) draw
        above = x > p  # then the successes are among the a - 1 uniforms below x
        successes = where(halving & ~above, successes + a, successes)
        p = where(halving, where(above, p / x, (p - x) / (1 - x)), p).clamp(0.0, 1.0)
        n = where(halving, where(above, a - 1, b - 1), n)
    trials = arange(_COUNTED_TRIALS, dtype=n.dtype, device=n.device)
    outcomes = bernoulli(p.unsqueeze(-1).expand(tuple(p.shape) + (_COUNTED_TRIALS,)))
    counted = (outcomes * (trials < n.unsqueeze(-1))).sum(-1)
    return (successes + counted).to(dtype=probs.dtype)


class Geometric(_ProbsOrLogits):
    """The number of failures before the first success, each trial a success with
    probability `probs` (or sigmoid(`logits`)): p(k) = (1 - p)^k p.

    Args:
        probs (Tensor or float, optional): the success probability, in (0, 1].
        logits (Tensor or float, optional): its log-odds; give exactly one of the two.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Geometric(chainrule.tensor(0.25))
        >>> d.mean, d.log_prob(chainrule.tensor(2.0))
        (tensor(3.), tensor(-1.9617))
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(
        self,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        batch_shape = self._set_parameters(None, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            valid = value > 0
            if not bool(valid.all()):
                raise ValueError(
                    f"Expected parameter probs ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to be positive but found "
                    f"invalid values:\n{value.detach()[~valid]}"
                )

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        tiny = dtypes.finfo(self.probs.dtype).tiny
        with no_grad():
            u = rand(shape, dtype=self.probs.dtype, device=self.probs.device).clamp(min=tiny)
            return (log(u) / log1p(-self.probs)).floor()  # inversion of the survival function

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = where((probs == 1) & (value == 0), 0.0, probs)  # 0 * log(0) is 0 here
        return value * log1p(-probs) + log(self.probs)

    def entropy(self) -> Tensor:
        return _bce_with_logits(self.logits, self.probs) / self.probs


class NegativeBinomial(_ProbsOrLogits):
    """The number of successes before `total_count` failures, each trial a success with
    probability `probs` (or sigmoid(`logits`)); total_count may be any positive real.

    Args:
        total_count (Tensor or float): the number of failures, non-negative.
        probs (Tensor or float, optional): the success probability, in [0, 1).
        logits (Tensor or float, optional): its log-odds; give exactly one of the two.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.NegativeBinomial(3.0, probs=chainrule.tensor(0.5))
        >>> d.mean, d.variance
        (tensor(3.), tensor(6.))
    """

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(
        self,
        total_count: Tensor | float,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        batch_shape = self._set_parameters(total_count, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.total_count * exp(self.logits)

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * exp(self.logits)).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / sigmoid(-self.logits)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """A Poisson draw whose rate is a Gamma draw (the Gamma-Poisson mixture)."""
        with no_grad():
            gamma = Gamma(self.total_count, exp(-self.logits), validate_args=False)
            return poisson(gamma.sample(sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_unnormalized = n * logsigmoid(-logits) + value * logsigmoid(logits)
        log_normalization = -lgamma(n + value) + lgamma(1.0 + value) + lgamma(n)
        log_normalization = log_normalization.masked_fill(n + value == 0.0, 0.0)
        return log_unnormalized - log_normalization


class Multinomial(Distribution):
    """Counts of each of K categories over `total_count` independent draws with `probs` (or
    softmax(`logits`)) over the last dimension.

    Args:
        total_count (int): the number of draws (the same for the whole batch).
        probs (Tensor, optional): (*, K) non-negative weights, normalised to sum to 1.
        logits (Tensor, optional): (*, K) unnormalised log-probabilities; give exactly one.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Multinomial(4, chainrule.tensor([0.5, 0.25, 0.25]))
        >>> d.log_prob(chainrule.tensor([2.0, 1.0, 1.0]))
        tensor(-1.6740)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(
        self,
        total_count: int = 1,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> Multinomial:
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(self.total_count, probs=new._categorical.probs)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> constraints.Constraint:
        """Non-negative counts summing to at most total_count."""
        return constraints.multinomial(self.total_count)

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def param_shape(self) -> tuple:
        return self._categorical.param_shape

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        sample_shape = tuple(sample_shape)  # (an int: TypeError, as PyTorch's torch.Size)
        with no_grad():
            draws = self._categorical.sample((self.total_count,) + sample_shape)
            counts = one_hot(draws, self._categorical._num_events).sum(0)
            return counts.reshape(self._extended_shape(sample_shape)).to(dtype=self.probs.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        logits = where((value == 0) & (logits == -math.inf), 0.0, logits)  # 0 * -inf is 0 here
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers

    def entropy(self) -> Tensor:
        n = float(self.total_count)
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = exp(self._binomial.log_prob(support))
        weights = lgamma(support + 1)
        term2 = (binomial_probs * weights).sum([0, -1])
        return term1 + term2
