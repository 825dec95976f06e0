"""TransformedDistribution: a base distribution pushed through transforms (y = t(x)), its
density moved by the change of variables log p(y) = log p(x) - log |dy/dx|, as
torch.distributions.TransformedDistribution. The event of the result is the larger of what
the transforms couple (their codomain's event_dim) and the base's event carried through
them; a transform that couples more dimensions than the base's event makes those base batch
dimensions event dimensions (the base is wrapped in Independent), and a transform whose
parameters broadcast the base (an AffineTransform with a batched scale) expands it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Size, Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.independent import Independent
from chainrule.distributions.transforms import ComposeTransform, Transform, _sum_rightmost

__all__ = ["TransformedDistribution"]


class TransformedDistribution(Distribution):
    """`base_distribution` pushed through `transforms`, applied in order: samples are the
    base's transformed, and log_prob inverts the transforms and subtracts each one's
    log |det J| (a SAC policy: Normal squashed by TanhTransform).

    Args:
        base_distribution (Distribution): the distribution of x.
        transforms (Transform or list of Transform): applied to x in order.
        validate_args (bool, optional): check each value given to `log_prob` against the
            last transform's codomain; None follows `Distribution.set_default_validate_args`.

    Example:
        >>> import chainrule
        >>> import chainrule.distributions as D
        >>> from chainrule.distributions.transforms import ExpTransform
        >>> d = D.TransformedDistribution(D.Normal(0.0, 1.0), [ExpTransform()])
        >>> d.log_prob(chainrule.tensor(1.0))  # the log-normal density at 1
        tensor(-0.9189)
    """

    arg_constraints: dict = {}

    def __init__(
        self,
        base_distribution: Distribution,
        transforms: Transform | list[Transform],
        validate_args: bool | None = None,
    ) -> None:
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif isinstance(transforms, list):
            if not all(isinstance(t, Transform) for t in transforms):
                raise ValueError("transforms must be a Transform or a list of Transforms")
        else:
            raise ValueError(f"transforms must be a Transform or list, but was {transforms}")
        self.transforms = transforms
        base_shape = tuple(base_distribution.batch_shape + base_distribution.event_shape)
        base_event_dim = len(base_distribution.event_shape)
        chain = ComposeTransform(transforms)
        if len(base_shape) < chain.domain.event_dim:
            raise ValueError(
                "base_distribution needs to have shape with size at least "
                f"{chain.domain.event_dim}, but got {Size(base_shape)}."
            )
        # Broadcast the base to what the transforms' parameters ask for, then reinterpret
        # the batch dimensions the first transform couples as event dimensions.
        shape = chain.forward_shape(base_shape)
        needed_base_shape = chain.inverse_shape(shape)
        if base_shape != needed_base_shape:
            base_batch = needed_base_shape[: len(needed_base_shape) - base_event_dim]
            base_distribution = base_distribution.expand(base_batch)
        reinterpreted = chain.domain.event_dim - base_event_dim
        if reinterpreted > 0:
            base_distribution = Independent(base_distribution, reinterpreted)
        self.base_dist = base_distribution
        change = chain.codomain.event_dim - chain.domain.event_dim
        event_dim = max(chain.codomain.event_dim, base_event_dim + change)
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:], validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False)
    def support(self) -> Any:
        """The last transform's codomain, over all the event's dimensions."""
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self.event_shape) > support.event_dim:
            support = constraints.independent(support, len(self.event_shape) - support.event_dim)
        return support

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> TransformedDistribution:
        if _instance is None:
            new = TransformedDistribution.__new__(TransformedDistribution)
        else:
            new = _instance
        shape = tuple(batch_shape) + tuple(self.event_shape)
        for transform in reversed(self.transforms):
            shape = transform.inverse_shape(shape)
        base_batch = shape[: len(shape) - len(self.base_dist.event_shape)]
        new.base_dist = self.base_dist.expand(base_batch)
        new.transforms = self.transforms
        return self._finish_expand(new, Size(batch_shape))

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for transform in self.transforms:
                x = transform(x)
            return x

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        x = self.base_dist.rsample(sample_shape)
        for transform in self.transforms:
            x = transform(x)
        return x

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        event_dim = len(self.event_shape)
        log_prob: Tensor | float = 0.0
        y = value
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            event_dim += transform.domain.event_dim - transform.codomain.event_dim
            jacobian = transform.log_abs_det_jacobian(x, y)
            log_prob = log_prob - _sum_rightmost(jacobian, event_dim - transform.domain.event_dim)
            y = x
        base_log_prob = self.base_dist.log_prob(y)
        return log_prob + _sum_rightmost(base_log_prob, event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value: Tensor) -> Tensor:
        sign: Any = 1
        for transform in self.transforms:
            sign = sign * transform.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value: Tensor) -> Tensor:
        for transform in reversed(self.transforms):
            value = transform.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value: Tensor) -> Tensor:
        x = self.base_dist.icdf(self._monotonize_cdf(value))
        for transform in self.transforms:
            x = transform(x)
        return x
