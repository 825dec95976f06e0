"""MixtureSameFamily: a Categorical choice among the components of one batched distribution
(a Gaussian mixture, a mixture density network's output), as PyTorch's."""

from __future__ import annotations

from collections.abc import Sequence

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.distributions import constraints
from chainrule.distributions.discrete import Categorical
from chainrule.distributions.distribution import Distribution
from chainrule.ops.reduction import log_softmax, logsumexp

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """A mixture whose k components are the last batch dimension of `component_distribution`,
    weighted by `mixture_distribution` (a Categorical over k): log_prob is the logsumexp of
    each component's log density plus its log weight; mean and variance follow the laws of
    total expectation and variance.

    Args:
        mixture_distribution (Categorical): the weights, batch shape B (or broadcastable).
        component_distribution (Distribution): batch shape B + (k,).
        validate_args (bool, optional): check values given to `log_prob`; None follows
            `Distribution.set_default_validate_args`.

    Example:
        >>> import chainrule
        >>> import chainrule.distributions as D
        >>> mix = D.Categorical(chainrule.tensor([0.5, 0.5]))
        >>> parts = D.Normal(chainrule.tensor([-1.0, 1.0]), chainrule.tensor([1.0, 1.0]))
        >>> D.MixtureSameFamily(mix, parts).mean
        tensor(0.)
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(
        self,
        mixture_distribution: Categorical,
        component_distribution: Distribution,
        validate_args: bool | None = None,
    ) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("The Mixture distribution needs to be an instance of Categorical")
        components = component_distribution.batch_shape
        if len(components) < 1:
            raise ValueError("component_distribution must have at least one batch dimension")
        mixture_batch = mixture_distribution.batch_shape
        batch = tuple(components[:-1])
        for size1, size2 in zip(reversed(tuple(mixture_batch)), reversed(batch)):
            if size1 != 1 and size2 != 1 and size1 != size2:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({mixture_batch}) is not compatible "
                    f"with `component_distribution.batch_shape` ({components})"
                )
        k = mixture_distribution.logits.shape[-1]
        if k != components[-1]:
            raise ValueError(
                f"`mixture_distribution component` ({k}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({components[-1]})"
            )
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(batch, component_distribution.event_shape, validate_args=validate_args)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> Distribution:
        """The mixture broadcast to `batch_shape`: the weights expanded to it, the components
        to it plus their own last dimension (as PyTorch's)."""
        batch_shape = tuple(batch_shape)
        components = self._component_distribution.batch_shape[-1]
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new._component_distribution = self._component_distribution.expand(
            batch_shape + (components,)
        )
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._event_ndims = self._event_ndims
        Distribution.__init__(
            new, batch_shape, new._component_distribution.event_shape, validate_args=False
        )
        new._validate_args = self._validate_args
        return new

    @property
    def mixture_distribution(self) -> Categorical:
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        return self._component_distribution

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        """The components' support, checked with the component dimension put back (a value
        is in it where every component admits it), as PyTorch's."""
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        dim = -1 - self._event_ndims
        mean_cond_var = (probs * self.component_distribution.variance).sum(dim)
        spread = (self.component_distribution.mean - self._pad(self.mean)).pow(2.0)
        return mean_cond_var + (probs * spread).sum(dim)

    def cdf(self, x: Tensor) -> Tensor:
        cdf_x = self.component_distribution.cdf(self._pad(x))
        return (cdf_x * self.mixture_distribution.probs).sum(-1)

    def log_prob(self, x: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self.component_distribution.log_prob(self._pad(x))
        log_mix_prob = log_softmax(self.mixture_distribution.logits, -1)
        return logsumexp(log_prob_x + log_mix_prob, -1)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        with no_grad():
            sample_shape = tuple(sample_shape)
            gather_dim = len(sample_shape) + len(self.batch_shape)
            event = tuple(self.event_shape)
            choice = self.mixture_distribution.sample(sample_shape)
            samples = self.component_distribution.sample(sample_shape)  # [n, B, k, E]
            index = choice.reshape(tuple(choice.shape) + (1,) * (len(event) + 1))
            index = index.repeat((1,) * choice.dim() + (1,) + event)
            return samples.gather(gather_dim, index).squeeze(gather_dim)

    def _pad(self, x: Tensor) -> Tensor:
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x: Tensor) -> Tensor:
        dist_batch_ndims = len(self.batch_shape)
        cat_batch_ndims = len(self.mixture_distribution.batch_shape)
        pad_ndims = 0 if cat_batch_ndims == 1 else dist_batch_ndims - cat_batch_ndims
        shape = tuple(x.shape)
        return x.reshape(shape[:-1] + (1,) * pad_ndims + shape[-1:] + (1,) * self._event_ndims)

    def __repr__(self) -> str:
        return (
            f"MixtureSameFamily(\n  {self.mixture_distribution},\n  {self.component_distribution})"
        )
