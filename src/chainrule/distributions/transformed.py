"""TransformedDistribution: a base distribution pushed through transforms (y = t(x)), its
density moved by the change of variables log p(y) = log p(x) - log |dy/dx|, as
torch.distributions.TransformedDistribution. The transforms here act elementwise or on the
base's event dimensions, so the batch shape is the base distribution's; the event shape is
the base's as each transform's `forward_shape` changes it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.transforms import Transform, _sum_rightmost

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
        elif not isinstance(transforms, list) or not all(
            isinstance(t, Transform) for t in transforms
        ):
            raise ValueError(
                f"transforms must be a Transform or a list of Transforms, got {transforms}"
            )
        self.transforms = transforms
        self.base_dist = base_distribution
        # A transform may change the event's size (StickBreakingTransform adds an entry),
        # never the batch's: the shape moves through each transform's forward_shape.
        batch_shape = base_distribution.batch_shape
        shape = tuple(batch_shape + base_distribution.event_shape)
        for transform in transforms:
            shape = transform.forward_shape(shape)
        super().__init__(batch_shape, shape[len(batch_shape) :], validate_args=validate_args)

    @property
    def support(self) -> Any:  # type: ignore[override]
        return self.transforms[-1].codomain if self.transforms else self.base_dist.support

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> TransformedDistribution:
        return TransformedDistribution(
            self.base_dist.expand(batch_shape), self.transforms, validate_args=False
        )

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
            jacobian = transform.log_abs_det_jacobian(x, y)
            log_prob = log_prob - _sum_rightmost(jacobian, event_dim - transform.event_dim)
            y = x
        return log_prob + self.base_dist.log_prob(y)

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

    def __repr__(self) -> str:
        return f"TransformedDistribution({self.base_dist!r}, {self.transforms!r})"
