"""LowRankMultivariateNormal: a Gaussian whose covariance is W W^T + diag(D), W of shape
(n, m) with m small, as PyTorch's. Densities cost O(n m^2) instead of O(n^3): the Woodbury
identity and the matrix determinant lemma reduce everything to the m x m capacitance
matrix C = I + W^T D^-1 W and its Cholesky factor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from chainrule._tensor import Size, Tensor
from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.multivariate_normal import _batch_mahalanobis
from chainrule.distributions.utils import lazy_property
from chainrule.errors import ShapeError
from chainrule.ops.creation import eye, randn
from chainrule.ops.elementwise import log
from chainrule.ops.linalg import cholesky, diag_embed, diagonal, solve_triangular
from chainrule.ops.shape import broadcast_tensors

__all__ = ["LowRankMultivariateNormal"]


def _with_identity(matrix: Tensor) -> Tensor:
    """matrix + I (over the last two dimensions)."""
    return matrix + eye(matrix.shape[-1], dtype=matrix.dtype, device=matrix.device)


def capacitance_tril(cov_factor: Tensor, cov_diag: Tensor) -> Tensor:
    """The Cholesky factor of C = I + W^T D^-1 W."""
    wt_dinv = cov_factor.mT / cov_diag.unsqueeze(-2)
    return cholesky(_with_identity(wt_dinv @ cov_factor))


def lowrank_logdet(cov_diag: Tensor, capacitance: Tensor) -> Tensor:
    """log det(W W^T + D) = log det C + log det D (the matrix determinant lemma)."""
    return 2 * log(diagonal(capacitance, 0, -2, -1)).sum(-1) + log(cov_diag).sum(-1)


def lowrank_mahalanobis(
    cov_factor: Tensor, cov_diag: Tensor, x: Tensor, capacitance: Tensor
) -> Tensor:
    """x^T (W W^T + D)^-1 x = x^T D^-1 x - |L^-1 W^T D^-1 x|^2 (Woodbury, L L^T = C)."""
    wt_dinv = cov_factor.mT / cov_diag.unsqueeze(-2)
    wt_dinv_x = (wt_dinv @ x.unsqueeze(-1)).squeeze(-1)
    return (x.pow(2) / cov_diag).sum(-1) - _batch_mahalanobis(capacitance, wt_dinv_x)


class LowRankMultivariateNormal(Distribution):
    """N(loc, cov_factor @ cov_factor.mT + diag(cov_diag)) over vectors of the last
    dimension of `loc`.

    Args:
        loc (Tensor): (*, n), the mean.
        cov_factor (Tensor): (*, n, m), the low-rank factor W.
        cov_diag (Tensor): (*, n), the positive diagonal D.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> w, d = chainrule.ones(3, 1), chainrule.ones(3)   # covariance: w w^T + diag(d)
        >>> d = chainrule.distributions.LowRankMultivariateNormal(chainrule.zeros(3), w, d)
        >>> d.covariance_matrix
        tensor([[2., 1., 1.],
                [1., 2., 1.],
                [1., 1., 2.]])
        >>> d.log_prob(chainrule.zeros(3))
        tensor(-3.4500)
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc: Tensor,
        cov_factor: Tensor,
        cov_diag: Tensor,
        validate_args: bool | None = None,
    ) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = loc.shape[-1:]
        if cov_factor.dim() < 2:
            raise ValueError(
                "cov_factor must be at least two-dimensional, with optional leading batch "
                "dimensions"
            )
        if tuple(cov_factor.shape[-2:-1]) != tuple(event_shape):
            raise ValueError(
                f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m"
            )
        if tuple(cov_diag.shape[-1:]) != tuple(event_shape):
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            loc_, self.cov_factor, cov_diag_ = broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1)
            )
        except ShapeError as error:
            raise ValueError(
                f"Incompatible batch shapes: loc {loc.shape}, cov_factor {cov_factor.shape}, "
                f"cov_diag {cov_diag.shape}"
            ) from error
        self.loc = loc_[..., 0]
        self.cov_diag = cov_diag_[..., 0]
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = capacitance_tril(cov_factor, cov_diag)
        super().__init__(self.loc.shape[:-1], event_shape, validate_args=validate_args)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> LowRankMultivariateNormal:
        new = type(self).__new__(type(self)) if _instance is None else _instance
        loc_shape = Size(batch_shape) + self._event_shape
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + self.cov_factor.shape[-1:])
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        return self._finish_expand(new, batch_shape)

    def _matrix_shape(self) -> tuple:
        return self._batch_shape + self._event_shape + self._event_shape

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (w.pow(2).sum(-1) + d).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        """D^1/2 cholesky(I + D^-1/2 W W^T D^-1/2), the covariance's Cholesky factor."""
        d_sqrt = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        scaled = self._unbroadcasted_cov_factor / d_sqrt
        tril = d_sqrt * cholesky(_with_identity(scaled @ scaled.mT))
        return tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        w = self._unbroadcasted_cov_factor
        covariance = w @ w.mT + diag_embed(self._unbroadcasted_cov_diag)
        return covariance.expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """D^-1 - A^T A with A = L^-1 W^T D^-1 (Woodbury)."""
        d = self._unbroadcasted_cov_diag
        wt_dinv = self._unbroadcasted_cov_factor.mT / d.unsqueeze(-2)
        a = solve_triangular(self._capacitance_tril, wt_dinv, upper=False)
        precision = diag_embed(d.reciprocal()) - a.mT @ a
        return precision.expand(self._matrix_shape())

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        w_shape = shape[:-1] + self.cov_factor.shape[-1:]
        eps_w = randn(w_shape, dtype=self.loc.dtype, device=self.loc.device)
        eps_d = randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        low_rank = (self._unbroadcasted_cov_factor @ eps_w.unsqueeze(-1)).squeeze(-1)
        return self.loc + low_rank + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def _log_det(self) -> Tensor:
        return lowrank_logdet(self._unbroadcasted_cov_diag, self._capacitance_tril)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        distance = lowrank_mahalanobis(
            self._unbroadcasted_cov_factor,
            self._unbroadcasted_cov_diag,
            value - self.loc,
            self._capacitance_tril,
        )
        constant = self._event_shape[0] * math.log(2 * math.pi)
        return -0.5 * (constant + self._log_det() + distance)

    def entropy(self) -> Tensor:
        n = self._event_shape[0]
        entropy = 0.5 * (n * (1.0 + math.log(2 * math.pi)) + self._log_det())
        if len(self._batch_shape) == 0:
            return entropy
        return entropy.expand(self._batch_shape)
