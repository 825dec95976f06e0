"""MultivariateNormal: parameterised by a covariance matrix, a precision matrix or a lower
Cholesky factor (scale_tril), exactly one; everything is computed from the Cholesky factor."""

from __future__ import annotations

import math
from collections.abc import Sequence

from chainrule._tensor import Size, Tensor
from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.utils import lazy_property
from chainrule.ops.creation import eye, randn
from chainrule.ops.elementwise import log
from chainrule.ops.linalg import cholesky, diagonal, solve_triangular
from chainrule.ops.linalg_extra import cholesky_solve
from chainrule.ops.shape import broadcast_shapes, flip

__all__ = ["MultivariateNormal"]


def _precision_to_scale_tril(precision: Tensor) -> Tensor:
    """The lower Cholesky factor of precision**-1, without forming the inverse (PyTorch's):
    flip, factor, flip back and invert the triangle."""
    flipped = cholesky(flip(precision, (-2, -1)))
    inverse_tril = flip(flipped, (-2, -1)).mT
    identity = eye(precision.shape[-1], dtype=precision.dtype, device=precision.device)
    return solve_triangular(inverse_tril, identity, upper=False)


def _batch_mahalanobis(tril: Tensor, x: Tensor) -> Tensor:
    """x^T (L L^T)^-1 x for each x, by one triangular solve."""
    solved = solve_triangular(tril, x.unsqueeze(-1), upper=False).squeeze(-1)
    return solved.pow(2).sum(-1)


class _ScaleTrilMatrices:
    """scale_tril, covariance_matrix and precision_matrix of a distribution stored as the
    lower Cholesky factor `_unbroadcasted_scale_tril`, expanded to its `_matrix_shape()`
    (MultivariateNormal's covariance, Wishart's scale matrix), as PyTorch computes them."""

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        identity = eye(tril.shape[-1], dtype=tril.dtype, device=tril.device)
        return cholesky_solve(identity, tril).expand(self._matrix_shape())


class MultivariateNormal(_ScaleTrilMatrices, Distribution):
    """N(loc, covariance_matrix) over vectors of the last dimension of `loc`. Give exactly one
    of `covariance_matrix`, `precision_matrix` and `scale_tril`; the Cholesky factor is what
    is kept, so `scale_tril` is the cheapest.

    Args:
        loc (Tensor): (*, n), the mean.
        covariance_matrix (Tensor, optional): (*, n, n), symmetric positive definite.
        precision_matrix (Tensor, optional): (*, n, n), the covariance's inverse.
        scale_tril (Tensor, optional): (*, n, n), lower triangular with a positive diagonal:
            the covariance's Cholesky factor.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.MultivariateNormal(chainrule.zeros(2), chainrule.eye(2))
        >>> d.log_prob(chainrule.zeros(2))
        tensor(-1.8379)
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc: Tensor,
        covariance_matrix: Tensor | None = None,
        precision_matrix: Tensor | None = None,
        scale_tril: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                "specified."
            )
        for name, matrix in (
            ("scale_tril", scale_tril),
            ("covariance_matrix", covariance_matrix),
            ("precision_matrix", precision_matrix),
        ):
            if matrix is not None:
                if matrix.dim() < 2:
                    raise ValueError(
                        f"{name} matrix must be at least two-dimensional, with optional "
                        "leading batch dimensions"
                    )
                batch_shape = broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
                setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        event_shape = self.loc.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> MultivariateNormal:
        new = type(self).__new__(type(self))
        batch_shape = Size(batch_shape)
        loc_shape = batch_shape + self._event_shape
        cov_shape = batch_shape + self._event_shape + self._event_shape
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(cov_shape)
        return self._finish_expand(new, batch_shape)

    def _matrix_shape(self) -> tuple:
        return self._batch_shape + self._event_shape + self._event_shape

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        return tril.pow(2).sum(-1).expand(self._batch_shape + self._event_shape)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return log(diagonal(self._unbroadcasted_scale_tril, 0, -2, -1)).sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        distance = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        constant = self._event_shape[0] * math.log(2 * math.pi)
        return -0.5 * (constant + distance) - self._half_log_det()

    def entropy(self) -> Tensor:
        entropy = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi))
        entropy = entropy + self._half_log_det()
        if len(self._batch_shape) == 0:
            return entropy
        return entropy.expand(self._batch_shape)
