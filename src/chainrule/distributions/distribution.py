"""Distribution: the base class of every family, as torch.distributions.Distribution.

A distribution holds a batch of independent distributions (`batch_shape`), each over events of
`event_shape`. `sample(sample_shape)` draws without gradient; `rsample` draws by a
reparameterisation, so gradients flow from the sample into the parameters. With validation on
(the default, as PyTorch's: `Distribution.set_default_validate_args(False)` turns it off),
parameters are checked against `arg_constraints` when the distribution is made and values
against `support` in `log_prob`, `cdf`, ...; a violation is a ValueError with PyTorch's text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule._tensor import Size, Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.distributions import constraints
from chainrule.distributions.utils import lazy_property
from chainrule.func.vmap import all_true
from chainrule.ops.elementwise import exp, sqrt

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

__all__ = ["Distribution"]


def _size(shape: Any) -> Size:
    return Size(shape)


class Distribution:
    """The base class: shapes, argument validation and the methods every family may give
    (`sample`, `rsample`, `log_prob`, `entropy`, `mean`, `variance`, `expand`...).

    A subclass sets `arg_constraints` and `support`, calls `super().__init__` with its shapes,
    and defines the methods it supports.

    Args:
        batch_shape (tuple of ints): the shape of independent, differently parameterised
            distributions held together.
        event_shape (tuple of ints): the shape of one sample of one of them.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Normal(chainrule.zeros(2, 3), 1.0)   # a subclass
        >>> d.batch_shape, d.event_shape, tuple(d.sample((5,)).shape)
        (chainrule.Size([2, 3]), chainrule.Size([]), (5, 2, 3))
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = True  # PyTorch's default is __debug__, True unless python -O

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument and sample validation on or off for every distribution made after."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(
        self,
        batch_shape: Sequence[int] = (),
        event_shape: Sequence[int] = (),
        validate_args: bool | None = None,
    ) -> None:
        self._batch_shape = _size(batch_shape)
        self._event_shape = _size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(
                    getattr(type(self), param), lazy_property
                ):
                    continue  # a parameter derived from another (probs from logits)
                value = getattr(self, param)
                valid = constraint.check(value)
                if not all_true(valid):  # in every example, under vmap
                    raise ValueError(
                        f"Expected parameter {param} "
                        f"({type(value).__name__} of shape {tuple(value.shape)}) "
                        f"of distribution {self!r} "
                        f"to satisfy the constraint {constraint!r}, "
                        f"but found invalid values:\n{value}"
                    )

    # The parameters `expand` broadcasts: each has the batch shape, then its event dims.
    _expand_names: tuple[str, ...] = ()

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> Distribution:
        """The same distribution broadcast to a larger `batch_shape` (views, no copies)."""
        new = type(self).__new__(type(self)) if _instance is None else _instance
        batch_shape = _size(batch_shape)
        batch_dims = len(self._batch_shape)
        for name in self._expand_names:
            if name in self.__dict__:
                value = self.__dict__[name]
                new.__dict__[name] = value.expand(batch_shape + tuple(value.shape[batch_dims:]))
        return self._finish_expand(new, batch_shape)

    def _finish_expand(self, new: Distribution, batch_shape: Any) -> Distribution:
        """`new`, its parameters already expanded, given the shapes and the validation flag."""
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        raise NotImplementedError

    @property
    def support(self) -> Any:
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        return sqrt(self.variance)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """Samples of shape sample_shape + batch_shape + event_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """A reparameterised sample (gradients flow to the parameters), of shape
        sample_shape + batch_shape + event_shape."""
        raise NotImplementedError

    def sample_n(self, n: int) -> Tensor:
        """`sample((n,))`: n samples."""
        return self.sample((n,))

    def log_prob(self, value: Tensor) -> Tensor:
        """The log density (or log mass) of `value` under this distribution."""
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        """The cumulative distribution function at `value`."""
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        """The inverse cumulative distribution function (the quantile) at probability `value`."""
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Every value of a discrete distribution's support, along a new first dimension."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """The entropy, one per batch element."""
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """exp(entropy())."""
        return exp(self.entropy())

    def _extended_shape(self, sample_shape: Sequence[int] = ()) -> Size:
        """sample_shape + batch_shape + event_shape; sample_shape is a sequence (an int is
        refused with TypeError, as by PyTorch's torch.Size(sample_shape))."""
        return _size(tuple(sample_shape) + self._batch_shape + self._event_shape)

    def _validate_sample(self, value: Any) -> None:
        """PyTorch's checks of a value given to log_prob, cdf, ...: a Tensor, whose rightmost
        sizes are the event shape, broadcastable with the batch, inside the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.dim() - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != self._event_shape:
            raise ValueError(
                f"The right-most size of value must match event_shape: "
                f"{_size(value.shape)!r} vs {self._event_shape!r}."
            )
        actual_shape = tuple(value.shape)
        expected_shape = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: "
                    f"{_size(actual_shape)!r} vs {_size(expected_shape)!r}."
                )
        support = self.support
        valid = support.check(value)
        if not all_true(valid):  # in every example, under vmap
            raise ValueError(
                "Expected value argument "
                f"({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({support!r}) "
                f"of the distribution {self!r}, "
                f"but found invalid values:\n{value}"
            )

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        parts = []
        for name in names:
            value = self.__dict__[name]
            shown = value if value.numel() == 1 else repr(_size(value.shape))  # PyTorch's Size
            parts.append(f"{name}: {shown}")
        return f"{self.__class__.__name__}({', '.join(parts)})"
