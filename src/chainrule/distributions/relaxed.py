"""The relaxed (Concrete / Gumbel-softmax) families, as PyTorch's: continuous stand-ins for a
Bernoulli or a one-hot Categorical whose samples are differentiable in the probabilities, and
approach the discrete ones as `temperature` goes to 0.

LogitRelaxedBernoulli and ExpRelaxedCategorical live in logit / log space, where their
densities are simple; RelaxedBernoulli and RelaxedOneHotCategorical push them through the
sigmoid and exp (Maddison, Mnih and Teh, The Concrete Distribution, 2017).
"""

from __future__ import annotations

from collections.abc import Sequence

from chainrule._tensor import Tensor
from chainrule.distributions import constraints
from chainrule.distributions.counts import _ProbsOrLogits
from chainrule.distributions.discrete import Categorical
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.transformed import TransformedDistribution
from chainrule.distributions.transforms import ExpTransform, SigmoidTransform
from chainrule.distributions.utils import broadcast_all, clamp_probs
from chainrule.ops.creation import full_like, rand
from chainrule.ops.elementwise import exp, log, log1p
from chainrule.ops.reduction import logsumexp
from chainrule.ops.special import lgamma

__all__ = [
    "ExpRelaxedCategorical",
    "LogitRelaxedBernoulli",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
]


class LogitRelaxedBernoulli(_ProbsOrLogits):
    """The logit of a RelaxedBernoulli sample: (logit(u) + logits) / temperature, u uniform.

    Args:
        temperature (Tensor): the relaxation temperature, positive.
        probs (Tensor or float, optional): the probability of 1, in [0, 1].
        logits (Tensor or float, optional): its log-odds; give exactly one of the two.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    # has_rsample stays False, as PyTorch's says, though rsample is reparameterised

    def __init__(
        self,
        temperature: Tensor,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        self.temperature = temperature
        batch_shape = self._set_parameters(None, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> LogitRelaxedBernoulli:
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.temperature = self.temperature
        return super().expand(batch_shape, new)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = clamp_probs(rand(shape, dtype=probs.dtype, device=probs.device))
        logistic = log(uniforms) - log1p(-uniforms)
        return (logistic + log(probs) - log1p(-probs)) / self.temperature

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return log(self.temperature) + diff - 2 * log1p(exp(diff))


class _RelaxedOverBase(TransformedDistribution):
    """A relaxed distribution as a transform of its base: expands through the base, and its
    temperature, logits and probs are the base's."""

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> _RelaxedOverBase:
        new = type(self).__new__(type(self))
        TransformedDistribution.__init__(
            new, self.base_dist.expand(batch_shape), self.transforms, validate_args=False
        )
        new._validate_args = self._validate_args
        return new

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs

    __repr__ = Distribution.__repr__


class RelaxedBernoulli(_RelaxedOverBase):
    """A relaxed Bernoulli on (0, 1): sigmoid of a LogitRelaxedBernoulli sample; `rsample`
    is differentiable in the probabilities.

    Args:
        temperature (Tensor): the relaxation temperature, positive.
        probs (Tensor or float, optional): the probability of 1, in [0, 1].
        logits (Tensor or float, optional): its log-odds; give exactly one of the two.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> D = chainrule.distributions
        >>> d = D.RelaxedBernoulli(chainrule.tensor(0.5), probs=chainrule.tensor([0.3, 0.9]))
        >>> d.log_prob(chainrule.tensor([0.5, 0.5]))
        tensor([-0.8675, -1.7148])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(
        self,
        temperature: Tensor,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical sample: log_softmax((logits + Gumbel noise) /
    temperature) over the last dimension.

    Args:
        temperature (Tensor): the relaxation temperature, positive.
        probs (Tensor, optional): (*, K) non-negative weights, normalised to sum to 1.
        logits (Tensor, optional): (*, K) unnormalised log-probabilities; give exactly one.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector  # in truth a submanifold of it, as PyTorch says
    has_rsample = True

    def __init__(
        self,
        temperature: Tensor,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> ExpRelaxedCategorical:
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self) -> tuple:
        return self._categorical.param_shape

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        uniforms = clamp_probs(rand(shape, dtype=self.logits.dtype, device=self.logits.device))
        gumbels = -log(-log(uniforms))
        scores = (self.logits + gumbels) / self.temperature
        return scores - logsumexp(scores, -1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        temperature = self.temperature
        log_scale = lgamma(full_like(temperature, float(k))) + log(temperature) * (k - 1)
        score = logits - value * temperature
        score = (score - logsumexp(score, -1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(_RelaxedOverBase):
    """A relaxed one-hot Categorical on the simplex (the Gumbel-softmax): exp of an
    ExpRelaxedCategorical sample; `rsample` is differentiable in the probabilities.

    Args:
        temperature (Tensor): the relaxation temperature, positive.
        probs (Tensor, optional): (*, K) non-negative weights, normalised to sum to 1.
        logits (Tensor, optional): (*, K) unnormalised log-probabilities; give exactly one.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> D = chainrule.distributions
        >>> d = D.RelaxedOneHotCategorical(chainrule.tensor(0.5), chainrule.tensor([0.2, 0.8]))
        >>> d.log_prob(chainrule.tensor([0.5, 0.5]))
        tensor(-1.1394)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(
        self,
        temperature: Tensor,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)
