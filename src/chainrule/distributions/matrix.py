"""Distributions over matrices: Wishart (positive definite matrices, sampled by the Bartlett
decomposition) and LKJCholesky (Cholesky factors of correlation matrices, sampled by the onion
method), as torch.distributions builds them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

from chainrule._tensor import Size, Tensor
from chainrule.backend import dtypes
from chainrule.distributions import constraints
from chainrule.distributions.derived import Chi2
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.gamma import Beta
from chainrule.distributions.multivariate_normal import _precision_to_scale_tril, _ScaleTrilMatrices
from chainrule.distributions.utils import broadcast_all
from chainrule.ops.creation import arange, randn, tensor
from chainrule.ops.elementwise import log, sqrt, where
from chainrule.ops.linalg import cholesky, diag_embed, diagonal, slogdet, tril
from chainrule.ops.linalg_extra import cholesky_solve
from chainrule.ops.shape import broadcast_shapes, cat
from chainrule.ops.special import digamma, lgamma, mvlgamma

__all__ = ["LKJCholesky", "Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """The multivariate digamma function: sum_{j<p} digamma(x - j/2), the derivative of
    mvlgamma."""
    halves = arange(p, dtype=x.dtype, device=x.device) / 2
    return digamma(x.unsqueeze(-1) - halves).sum(-1)


class Wishart(_ScaleTrilMatrices, ExponentialFamily):
    """The Wishart distribution over p x p positive definite matrices with `df` degrees of
    freedom and scale matrix Sigma (give exactly one of `covariance_matrix`,
    `precision_matrix` and `scale_tril`; the Cholesky factor L is what is kept). A sample is
    L A A^T L^T with A lower triangular, sqrt(Chi2(df - i)) on its diagonal and standard
    normals below (the Bartlett decomposition), so `rsample` is differentiable in df and
    Sigma. Samples that come out singular (possible for df < p) are redrawn up to
    `max_try_correction` times, with a warning.

    Args:
        df (Tensor or float): the degrees of freedom, above p - 1.
        covariance_matrix (Tensor, optional): (*, p, p), symmetric positive definite.
        precision_matrix (Tensor, optional): (*, p, p), the covariance's inverse.
        scale_tril (Tensor, optional): (*, p, p), lower triangular with a positive diagonal.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.Wishart(chainrule.tensor(3.0), chainrule.eye(2))
        >>> d.mean, d.log_prob(chainrule.eye(2))
        (tensor([[3., 0.],
                [0., 3.]]), tensor(-3.5310))
    """

    support = constraints.positive_definite

    # Exponential-family form: theta = (-precision / 2, (df - p - 1) / 2),
    # F(theta) = (theta_1 + (p + 1)/2) (p log 2 - log|det(-2 theta_0)|)
    # + log Gamma_p(theta_1 + (p + 1)/2).
    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        p = self._event_shape[-1]
        shifted = y + (p + 1) / 2
        return shifted * (p * math.log(2) - slogdet(-2 * x)[1]) + mvlgamma(shifted, p)

    has_rsample = True

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def __init__(
        self,
        df: Tensor | float,
        covariance_matrix: Tensor | None = None,
        precision_matrix: Tensor | None = None,
        scale_tril: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                "specified."
            )
        param = given[0]
        if param.dim() < 2:
            raise ValueError(
                "scale_tril must be at least two-dimensional, with optional leading batch "
                "dimensions"
            )
        if isinstance(df, Tensor):
            batch_shape = broadcast_shapes(param.shape[:-2], df.shape)
            self.df = df.expand(batch_shape)
        else:
            batch_shape = Size(param.shape[:-2])
            self.df = tensor(df, dtype=param.dtype, device=param.device)
        event_shape = param.shape[-2:]
        p = event_shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        for name, matrix in (
            ("scale_tril", scale_tril),
            ("covariance_matrix", covariance_matrix),
            ("precision_matrix", precision_matrix),
        ):
            if matrix is not None:
                setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        if bool((self.df < p).any()):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur for "
                "ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._bartlett_chi2(self.df, batch_shape)

    def _bartlett_chi2(self, df: Tensor, batch_shape: Sequence[int]) -> Chi2:
        """Chi2(df - i) for i = 0..p-1: the squares of the Bartlett factor's diagonal."""
        p = self._event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        steps = arange(p, dtype=tril.dtype, device=tril.device).expand(tuple(batch_shape) + (p,))
        return Chi2(df.unsqueeze(-1) - steps)

    def expand(self, batch_shape: Sequence[int], _instance: Distribution | None = None) -> Wishart:
        new = type(self).__new__(type(self))
        batch_shape = Size(batch_shape)
        matrix_shape = batch_shape + self._event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(matrix_shape)
        new.df = self.df.expand(batch_shape)
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(matrix_shape)
        new = self._finish_expand(new, batch_shape)
        new._dist_chi2 = new._bartlett_chi2(new.df, batch_shape)
        return new

    def _matrix_shape(self) -> tuple:
        return self._batch_shape + self._event_shape

    def _df_matrix(self) -> Tensor:
        """df with two trailing unit dimensions, to scale the batch's matrices."""
        return self.df.reshape(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self) -> Tensor:
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        """(df - p - 1) Sigma, nan where df <= p + 1."""
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = where(factor <= 0, math.nan, factor)
        return factor.reshape(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        """Var(X_ij) = df (Sigma_ij^2 + Sigma_ii Sigma_jj)."""
        cov = self.covariance_matrix
        diag = diagonal(cov, 0, -2, -1)
        return self._df_matrix() * (cov.pow(2) + diag.unsqueeze(-1) * diag.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape: Sequence[int]) -> Tensor:
        p = self._event_shape[-1]
        eps = dtypes.finfo(self._unbroadcasted_scale_tril.dtype).eps
        chi = sqrt(self._dist_chi2.rsample(sample_shape)).clamp(min=eps)
        shape = tuple(sample_shape) + tuple(self._batch_shape) + (p, p)
        tril_ = self._unbroadcasted_scale_tril
        below = tril(randn(shape, dtype=tril_.dtype, device=tril_.device), -1)
        factor = tril_ @ (diag_embed(chi) + below)
        return factor @ factor.mT

    def _is_singular(self, sample: Tensor) -> Tensor:
        """One flag per draw: some matrix of its batch is not positive definite."""
        singular = ~self.support.check(sample)
        batch_dims = tuple(range(-len(self._batch_shape), 0))
        return singular.amax(batch_dims) if batch_dims else singular

    def rsample(
        self, sample_shape: Sequence[int] = (), max_try_correction: int | None = None
    ) -> Tensor:
        """Bartlett draws; singular ones are redrawn (up to `max_try_correction` times, 10 by
        default) and may remain singular (log_prob -inf), as PyTorch warns."""
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = tuple(Size(sample_shape))
        sample = self._bartlett_sampling(sample_shape)
        singular = self._is_singular(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            trailing = (1,) * (len(self._batch_shape) + 2)
            for _ in range(max_try_correction):
                redraw = self._bartlett_sampling(sample_shape)
                sample = where(singular.reshape(tuple(singular.shape) + trailing), redraw, sample)
                singular = self._is_singular(sample)
                if not bool(singular.any()):
                    break
        return sample

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        tril_ = self._unbroadcasted_scale_tril
        half_log_det = log(diagonal(tril_, 0, -2, -1)).sum(-1)
        trace = diagonal(cholesky_solve(value, tril_), 0, -2, -1).sum(-1)
        return (
            -nu * (p * _LOG_2 / 2 + half_log_det)
            - mvlgamma(nu / 2, p=p)
            + (nu - p - 1) / 2 * slogdet(value).logabsdet
            - trace / 2
        )

    def entropy(self) -> Tensor:
        nu = self.df
        p = self._event_shape[-1]
        half_log_det = log(diagonal(self._unbroadcasted_scale_tril, 0, -2, -1)).sum(-1)
        return (
            (p + 1) * (p * _LOG_2 / 2 + half_log_det)
            + mvlgamma(nu / 2, p=p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p=p)
            + nu * p / 2
        )


class LKJCholesky(Distribution):
    """The LKJ distribution over lower Cholesky factors L of dim x dim correlation matrices:
    the density of L L^T is proportional to det(L L^T)^(concentration - 1), so
    concentration 1 is uniform over correlation matrices. Sampled by the onion method
    (Lewandowski, Kurowicka and Joe, 2009, section 3.2), vectorised as PyTorch's; not
    reparameterised (no `rsample`), as PyTorch's.

    Args:
        dim (int): the matrices' size, at least 2.
        concentration (Tensor or float): eta, positive.
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.LKJCholesky(2, chainrule.tensor(1.0))
        >>> d.event_shape, d.log_prob(chainrule.eye(2))
        (chainrule.Size([2, 2]), tensor(-0.6931))
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(
        self, dim: int, concentration: Tensor | float = 1.0, validate_args: bool | None = None
    ) -> None:
        if dim < 2:
            raise ValueError(
                f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}."
            )
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        self._beta = self._marginal_beta(self.concentration)
        super().__init__(self.concentration.shape, (dim, dim), validate_args)

    def _marginal_beta(self, concentration: Tensor) -> Beta:
        """Beta(i / 2, eta + (dim - 1 - i) / 2) for row i >= 1 (row 0's draw is unused): the
        squared length of row i's off-diagonal part, the onion method's Beta draws.

        PyTorch's first concentrations are (i - 1) + 1/2 instead of i / 2, which is right for
        row 1 only: its samples' correlations beyond the first row are too spread (variance
        0.25 instead of LKJ's 1 / (2 eta + dim - 1) = 0.2 for eta = 1, dim = 4), off the
        density its own log_prob gives. Here the sampler follows the paper (section 3.2),
        so samples and log_prob agree; test_lkj_cholesky_samples_* checks the marginals."""
        marginal = concentration + 0.5 * (self.dim - 2)
        offset = arange(self.dim - 1, dtype=concentration.dtype, device=concentration.device)
        offset = cat([offset.new_zeros((1,)), offset])  # i - 1 for row i >= 1, 0 for row 0
        return Beta(0.5 * offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)

    def expand(
        self, batch_shape: Sequence[int], _instance: Distribution | None = None
    ) -> LKJCholesky:
        new = type(self).__new__(type(self))
        shape = tuple(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(shape)
        new._beta = self._beta.expand(shape + (self.dim,))
        return self._finish_expand(new, batch_shape)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """Row i is sqrt(y_i) times a uniform direction in its first i coordinates, its
        diagonal entry the rest of the unit length: L L^T has a unit diagonal."""
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        shape = self._extended_shape(sample_shape)
        u_normal = tril(randn(shape, dtype=y.dtype, device=y.device), -1)
        length = u_normal.norm(dim=-1, keepdim=True)
        u_hypersphere = u_normal / where(length == 0, 1.0, length)  # row 0 is all zeros
        w = sqrt(y) * u_hypersphere
        tiny = dtypes.finfo(w.dtype).tiny
        diag = sqrt((1 - w.pow(2).sum(-1)).clamp(min=tiny))
        return w + diag_embed(diag)

    def log_prob(self, value: Tensor) -> Tensor:
        """sum_i (2 (eta - 1) + dim - i) log L_ii over i = 2..dim (the density of L L^T and
        the Jacobian of L -> L L^T), minus the normaliser of LKJ (2009), page 1999."""
        if self._validate_args:
            self._validate_sample(value)
        diag = diagonal(value, 0, -2, -1)[..., 1:]
        order = arange(2, self.dim + 1, dtype=value.dtype, device=value.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * log(diag)).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = lgamma(alpha) * dm1
        numerator = mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized - (pi_constant + numerator - denominator)
