"""ExponentialFamily, as torch.distributions.exp_family: the base of the families whose
density is exp(<t(x), theta> - F(theta) + k(x)). Knowing the natural parameters theta and the
log normalizer F is enough for the entropy and for the KL divergence between two members of
one family (Bregman divergences of F, Nielsen and Nock), by differentiating F."""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.api import grad
from chainrule.distributions.distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """A distribution of an exponential family. A subclass gives `_natural_params` (a tuple
    of tensors), `_log_normalizer(*natural_params)` and, for `entropy`, the expected log
    carrier measure `_mean_carrier_measure`; Bernoulli, Beta, ContinuousBernoulli, Dirichlet,
    Exponential, Gamma, Normal, Poisson and Wishart are ones (with closed-form entropies of
    their own where PyTorch has them).

    Args:
        batch_shape (tuple of ints): as Distribution's: the shape of independent, differently
            parameterised distributions held together.
        event_shape (tuple of ints): the shape of one sample of one of them.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints; None follows
            `Distribution.set_default_validate_args`.

    Example:
        >>> import chainrule
        >>> import chainrule.distributions as D
        >>> class Rate(D.ExponentialFamily):  # Exponential(rate) by its natural parameter
        ...     arg_constraints = {}
        ...     _mean_carrier_measure = 0
        ...     def __init__(self, rate):
        ...         self.rate = rate
        ...         super().__init__(rate.shape)
        ...     @property
        ...     def _natural_params(self):
        ...         return (-self.rate,)
        ...     def _log_normalizer(self, x):
        ...         return -(-x).log()
        >>> Rate(chainrule.tensor([2.0])).entropy().detach()  # 1 - log 2
        tensor([0.3069])
    """

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> Any:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """H = F(theta) - <theta, grad F(theta)> - E[k(x)]. As PyTorch, the natural parameters
        are detached first: this entropy does not differentiate into the distribution's
        parameters (the families' closed forms, where they exist, do)."""
        result: Any = -self._mean_carrier_measure
        natural = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*natural)
        gradients = grad(log_normalizer.sum(), natural, create_graph=True)
        result = result + log_normalizer
        for param, gradient in zip(natural, gradients):
            result = result - (param * gradient).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
