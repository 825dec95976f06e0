"""kl_divergence(p, q) and register_kl, as torch.distributions.kl, with PyTorch's closed forms
for the standard pairs (infinite where q gives zero mass to some of p's support)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.api import grad
from chainrule.distributions.continuous import (
    Cauchy,
    Exponential,
    Gumbel,
    HalfNormal,
    Laplace,
    LogNormal,
    Normal,
    Uniform,
)
from chainrule.distributions.counts import Binomial, Geometric
from chainrule.distributions.derived import Pareto
from chainrule.distributions.discrete import Bernoulli, Categorical, OneHotCategorical, Poisson
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.exp_family import ExponentialFamily
from chainrule.distributions.gamma import Beta, Dirichlet, Gamma
from chainrule.distributions.independent import Independent, _sum_rightmost
from chainrule.distributions.inverse_cdf import ContinuousBernoulli
from chainrule.distributions.low_rank import (
    LowRankMultivariateNormal,
    lowrank_logdet,
    lowrank_mahalanobis,
)
from chainrule.distributions.matrix import Wishart, _mvdigamma
from chainrule.distributions.multivariate_normal import MultivariateNormal, _batch_mahalanobis
from chainrule.distributions.transformed import TransformedDistribution
from chainrule.ops.activation import softplus
from chainrule.ops.creation import full_like
from chainrule.ops.elementwise import (
    abs,  # noqa: A004
    erf,
    exp,
    log,
    log1p,
    square,
    where,
    xlogy,
)
from chainrule.ops.linalg import diag_embed, diagonal, solve_triangular
from chainrule.ops.shape import broadcast_shapes
from chainrule.ops.special import digamma, lgamma, mvlgamma

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict[tuple[type, type], Callable] = {}


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator: register `fn(p, q)` as KL(p || q) for p of `type_p` and q of `type_q`
    (subclasses included: the most derived registered pair wins).

    Args:
        type_p (type): a Distribution subclass, the first argument's.
        type_q (type): a Distribution subclass, the second argument's.

    Returns:
        Callable: the decorator, which registers `fn` and returns it unchanged.

    Example:
        >>> import chainrule.distributions as D
        >>> class Mine(D.Normal): pass
        >>> @D.register_kl(Mine, Mine)
        ... def _kl_mine(p, q):
        ...     return p.loc * 0
        >>> D.kl_divergence(Mine(0.0, 1.0), Mine(1.0, 1.0))
        tensor(0.)
    """
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not (isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fn: Callable) -> Callable:
        _KL_REGISTRY[type_p, type_q] = fn
        return fn

    return decorator


def _dispatch_kl(type_p: type, type_q: type) -> Callable | None:
    """The registered rule for the closest pair of ancestors (by MRO distance)."""
    best = None
    for distance_p, super_p in enumerate(type_p.__mro__):
        for distance_q, super_q in enumerate(type_q.__mro__):
            fn = _KL_REGISTRY.get((super_p, super_q))
            if fn is not None and (best is None or distance_p + distance_q < best[0]):
                best = (distance_p + distance_q, fn)
    return None if best is None else best[1]


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) = E_p[log p(x) - log q(x)], batched over the distributions' batch shape,
    from the closed form registered for the pair's types (`register_kl`).

    Args:
        p (Distribution): the distribution the expectation is over.
        q (Distribution): the other.

    Returns:
        Tensor: the divergence, of the broadcast batch shape; NotImplementedError for a pair
        with no registered form.

    Example:
        >>> import chainrule.distributions as D
        >>> D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(1.0, 1.0))
        tensor(0.5000)
    """
    fn = _dispatch_kl(type(p), type(q))
    if fn is None:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {p.__class__.__name__} and q type "
            f"{q.__class__.__name__}"
        )
    return fn(p, q)


_INF = math.inf


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_exponential_family(p: ExponentialFamily, q: ExponentialFamily) -> Tensor:
    """Within one exponential family, the Bregman divergence of the log normalizer F:
    F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)>, for the families (your own
    included) with no closed form registered. As PyTorch, p's natural parameters are
    detached: this form does not differentiate into p's parameters."""
    if type(p) is not type(q):
        raise NotImplementedError(
            "The cross KL-divergence between different exponential families cannot be "
            "computed using Bregman divergences"
        )
    p_natural = [param.detach().requires_grad_() for param in p._natural_params]
    q_natural = q._natural_params
    p_log_normalizer = p._log_normalizer(*p_natural)
    gradients = grad(p_log_normalizer.sum(), p_natural, create_graph=True)
    result = q._log_normalizer(*q_natural) - p_log_normalizer
    for p_param, q_param, gradient in zip(p_natural, q_natural, gradients):
        result = result - _sum_rightmost((q_param - p_param) * gradient, len(q.event_shape))
    return result


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - log(var_ratio))


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p: LogNormal, q: LogNormal) -> Tensor:
    return _kl_normal_normal(p._normal, q._normal)  # KL is invariant under exp


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = where(p.probs == 0, 0.0, where(q.probs == 0, _INF, t1))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = where(p.probs == 1, 0.0, where(q.probs == 1, _INF, t2))
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    t = p.probs * (p.logits - q.logits)
    t = where(p.probs == 0, 0.0, where(q.probs == 0, _INF, t))
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: Any, q: Any) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    rate_ratio = q.rate / p.rate
    return -log(rate_ratio) + rate_ratio - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    t1 = q.concentration * log(p.rate / q.rate)
    t2 = lgamma(q.concentration) - lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = lgamma(q.concentration1) + lgamma(q.concentration0) + lgamma(sum_p)
    t2 = lgamma(p.concentration1) + lgamma(p.concentration0) + lgamma(sum_q)
    t3 = (p.concentration1 - q.concentration1) * digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * digamma(p.concentration0)
    t5 = (sum_q - sum_p) * digamma(sum_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    sum_p = p.concentration.sum(-1)
    sum_q = q.concentration.sum(-1)
    t1 = lgamma(sum_p) - lgamma(sum_q)
    t2 = (lgamma(p.concentration) - lgamma(q.concentration)).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = digamma(p.concentration) - digamma(sum_p).unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    result = log((q.high - q.low) / (p.high - p.low))
    return where((q.low > p.low) | (q.high < p.high), _INF, result)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    scale_ratio = p.scale / q.scale
    loc_abs_diff = abs(p.loc - q.loc)
    t1 = -log(scale_ratio)
    t2 = loc_abs_diff / q.scale
    t3 = scale_ratio * exp(-loc_abs_diff / p.scale)
    return t1 + t2 + t3 - 1


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError(
            "KL between Binomials where q.total_count > p.total_count is not implemented"
        )
    kl = p.total_count * (p.probs * (p.logits - q.logits) + log1p(-p.probs) - log1p(-q.probs))
    return where(p.total_count > q.total_count, _INF, kl)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    return -p.entropy() - log1p(-q.probs) / p.probs - q.logits


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    return p.rate * (log(p.rate) - log(q.rate)) - (p.rate - q.rate)


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Pareto, q: Pareto) -> Tensor:
    scale_ratio = p.scale / q.scale
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * log(scale_ratio) - log(alpha_ratio) + alpha_ratio - 1
    return where(p.scale < q.scale, _INF, result)  # q has no mass on [p.scale, q.scale)


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: HalfNormal, q: HalfNormal) -> Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    return 0.5 * (var_ratio - 1 - log(var_ratio))  # KL of the Normals they fold


_EULER_GAMMA = 0.57721566490153286060


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p: Gumbel, q: Gumbel) -> Tensor:
    ct1 = p.scale / q.scale
    ct2 = q.loc / q.scale
    ct3 = p.loc / q.scale
    t1 = -log(ct1) - ct2 + ct3
    t2 = ct1 * _EULER_GAMMA
    t3 = exp(ct2 + lgamma(1 + ct1) - ct3)
    return t1 + t2 + t3 - (1 + _EULER_GAMMA)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> Tensor:
    t1 = log((p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2))
    t2 = log(4 * p.scale * q.scale)
    return t1 - t2


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(
    p: MultivariateNormal, q: MultivariateNormal
) -> Tensor:
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two Multivariate Normals with different event shapes "
            "cannot be computed"
        )
    p_tril, q_tril = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = log(diagonal(q_tril, 0, -2, -1)).sum(-1) - log(diagonal(p_tril, 0, -2, -1)).sum(-1)
    n = p.event_shape[0]
    batch = broadcast_shapes(q_tril.shape[:-2], p_tril.shape[:-2])
    solved = solve_triangular(
        q_tril.expand(batch + (n, n)), p_tril.expand(batch + (n, n)), upper=False
    )
    term2 = solved.pow(2).sum((-2, -1))  # trace(X X^T)
    term3 = _batch_mahalanobis(q_tril, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)


def _batch_trace_xxt(x: Tensor) -> Tensor:
    """trace(X X^T) for each matrix X of a batch: the sum of its squares."""
    return x.pow(2).sum((-2, -1))


def _woodbury_factor(q: LowRankMultivariateNormal) -> Tensor:
    """A = L^-1 W^T D^-1 of q, so that q's precision is D^-1 - A^T A."""
    wt_dinv = q._unbroadcasted_cov_factor.mT / q._unbroadcasted_cov_diag.unsqueeze(-2)
    return solve_triangular(q._capacitance_tril, wt_dinv, upper=False)


def _lowrank_log_det(d: LowRankMultivariateNormal) -> Tensor:
    return lowrank_logdet(d._unbroadcasted_cov_diag, d._capacitance_tril)


def _lowrank_distance(q: LowRankMultivariateNormal, x: Tensor) -> Tensor:
    w, d = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag
    return lowrank_mahalanobis(w, d, x, q._capacitance_tril)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrankmultivariatenormal_lowrankmultivariatenormal(
    p: LowRankMultivariateNormal, q: LowRankMultivariateNormal
) -> Tensor:
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two Low Rank Multivariate Normals with different event "
            "shapes cannot be computed"
        )
    term1 = _lowrank_log_det(q) - _lowrank_log_det(p)
    term3 = _lowrank_distance(q, q.loc - p.loc)
    # trace(q_cov^-1 p_cov), q_cov^-1 = q_D^-1 - A^T A and p_cov = p_W p_W^T + p_D
    a = _woodbury_factor(q)
    p_w, p_d, q_d = (
        p._unbroadcasted_cov_factor,
        p._unbroadcasted_cov_diag,
        q._unbroadcasted_cov_diag,
    )
    term21 = (p_d / q_d).sum(-1)
    term22 = _batch_trace_xxt(p_w * q_d.rsqrt().unsqueeze(-1))
    term23 = _batch_trace_xxt(a * p_d.sqrt().unsqueeze(-2))
    term24 = _batch_trace_xxt(a @ p_w)
    term2 = term21 + term22 - term23 - term24
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_multivariatenormal_lowrankmultivariatenormal(
    p: MultivariateNormal, q: LowRankMultivariateNormal
) -> Tensor:
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two (Low Rank) Multivariate Normals with different event "
            "shapes cannot be computed"
        )
    p_tril = p._unbroadcasted_scale_tril
    term1 = _lowrank_log_det(q) - 2 * log(diagonal(p_tril, 0, -2, -1)).sum(-1)
    term3 = _lowrank_distance(q, q.loc - p.loc)
    # trace(q_cov^-1 p_cov), q_cov^-1 = q_D^-1 - A^T A and p_cov = p_L p_L^T
    term21 = _batch_trace_xxt(p_tril * q._unbroadcasted_cov_diag.rsqrt().unsqueeze(-1))
    term22 = _batch_trace_xxt(_woodbury_factor(q) @ p_tril)
    return 0.5 * (term1 + term21 - term22 + term3 - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrankmultivariatenormal_multivariatenormal(
    p: LowRankMultivariateNormal, q: MultivariateNormal
) -> Tensor:
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two (Low Rank) Multivariate Normals with different event "
            "shapes cannot be computed"
        )
    q_tril = q._unbroadcasted_scale_tril
    term1 = 2 * log(diagonal(q_tril, 0, -2, -1)).sum(-1) - _lowrank_log_det(p)
    term3 = _batch_mahalanobis(q_tril, q.loc - p.loc)
    # trace(q_cov^-1 p_cov) = |q_L^-1 p_W|^2 + |q_L^-1 p_D^1/2|^2. The batch shape takes in
    # p_D's too: PyTorch's leaves it out and fails when only p_D is batched.
    n = p.event_shape[0]
    p_w = p._unbroadcasted_cov_factor
    p_d_batch = p._unbroadcasted_cov_diag.shape[:-1]
    batch = broadcast_shapes(q_tril.shape[:-2], p_w.shape[:-2], p_d_batch)
    q_tril = q_tril.expand(batch + (n, n))
    p_w = p_w.expand(batch + (n, p_w.shape[-1]))
    p_d_sqrt = diag_embed(p._unbroadcasted_cov_diag.sqrt()).expand(batch + (n, n))
    term21 = _batch_trace_xxt(solve_triangular(q_tril, p_w, upper=False))
    term22 = _batch_trace_xxt(solve_triangular(q_tril, p_d_sqrt, upper=False))
    return 0.5 * (term1 + term21 + term22 + term3 - n)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    result = kl_divergence(p.base_dist, q.base_dist)
    return _sum_rightmost(result, p.reinterpreted_batch_ndims)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: TransformedDistribution, q: TransformedDistribution) -> Tensor:
    # A bijection shared by both leaves KL unchanged: the bases' KL, when the transforms are
    # equal (Transform.__eq__) and the events agree; otherwise not implemented, as PyTorch.
    if p.transforms != q.transforms:
        raise NotImplementedError
    if p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


# ---- the continuous Bernoulli: PyTorch's closed forms (q one whose [0, 1] p leaves: below) -----


def _infinite_like(value: Tensor) -> Tensor:
    return full_like(value, _INF)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(
    p: ContinuousBernoulli, q: ContinuousBernoulli
) -> Tensor:
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + log1p(-p.probs)
    t3 = -q._cont_bern_log_norm() - log1p(-q.probs)
    return t1 + t2 + t3


def _minus_cross_entropy_to_cb(mean: Tensor, q: ContinuousBernoulli) -> Tensor:
    """E_p[log q(x)] for p with the given mean on [0, 1]: q's log density is linear in x."""
    return mean * q.logits + log1p(-q.probs) + q._cont_bern_log_norm()


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p: Beta, q: ContinuousBernoulli) -> Tensor:
    return -p.entropy() - _minus_cross_entropy_to_cb(p.mean, q)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p: Uniform, q: ContinuousBernoulli) -> Tensor:
    result = -p.entropy() - _minus_cross_entropy_to_cb(p.mean, q)
    # PyTorch's test: p reaching either end of [0, 1] counts as leaving it (>=, <=).
    outside = (p.high >= q.support.upper_bound) | (p.low <= q.support.lower_bound)
    return where(outside, _INF, result)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p: ContinuousBernoulli, q: Exponential) -> Tensor:
    return -p.entropy() - log(q.rate) + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p: ContinuousBernoulli, q: Normal) -> Tensor:
    t1 = -p.entropy()
    t2 = 0.5 * (math.log(2.0 * math.pi) + square(q.loc / q.scale)) + log(q.scale)
    t3 = (p.variance + square(p.mean) - 2.0 * q.loc * p.mean) / (2.0 * square(q.scale))
    return t1 + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p: ContinuousBernoulli, q: Uniform) -> Tensor:
    result = -p.entropy() + log(q.high - q.low)
    # PyTorch's test, kept as it is: q starting at or above 0, or ending at or below 1.
    outside = (q.low >= p.support.lower_bound) | (q.high <= p.support.upper_bound)
    return where(outside, _INF, result)


@register_kl(ContinuousBernoulli, Pareto)
def _kl_continuous_bernoulli_pareto(p: ContinuousBernoulli, q: Pareto) -> Tensor:
    return _infinite_like(p.probs)


@register_kl(Wishart, Wishart)
def _kl_wishart_wishart(p: Wishart, q: Wishart) -> Tensor:
    """The closed form: q.df / 2 log(|S_q| / |S_p|) + p.df / 2 (tr(S_q^-1 S_p) - n)
    + log Gamma_n(q.df / 2) - log Gamma_n(p.df / 2) + (p.df - q.df) / 2 psi_n(p.df / 2).
    PyTorch's generic exponential-family divergence gives the same value for one pair, but
    sums its batch into each entry (negative KLs) and does not differentiate in p."""
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two Wisharts with different event shapes cannot be computed"
        )
    n = p.event_shape[-1]
    p_tril, q_tril = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    log_det_p = 2 * log(diagonal(p_tril, 0, -2, -1)).sum(-1)
    log_det_q = 2 * log(diagonal(q_tril, 0, -2, -1)).sum(-1)
    batch = broadcast_shapes(q_tril.shape[:-2], p_tril.shape[:-2])
    solved = solve_triangular(
        q_tril.expand(batch + (n, n)), p_tril.expand(batch + (n, n)), upper=False
    )
    trace = solved.pow(2).sum((-2, -1))  # tr(S_q^-1 S_p) = |L_q^-1 L_p|^2
    half_p, half_q = p.df / 2, q.df / 2
    return (
        half_q * (log_det_q - log_det_p)
        + half_p * (trace - n)
        + mvlgamma(half_q, n)
        - mvlgamma(half_p, n)
        + (half_p - half_q) * _mvdigamma(half_p, n)
    )


# ---- pairs across families: KL(p || q) = -H(p) - E_p[log q(x)] ------------------------------
# Each q's log density is a few functions of x (x, x**2, log x, |x - loc|, exp(-x / scale)),
# so E_p[log q] needs only p's moments of those; infinite where q gives zero mass to part
# of p's support, with PyTorch's tie conventions (noted where they bite).

_EULER_GAMMA = 0.57721566490153286060
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _minus_expected_log_normal(mean: Tensor, variance: Tensor, q: Normal) -> Tensor:
    """-E_p[log q] for q Normal: log sigma + log(2 pi) / 2 + E_p[(x - loc)**2] / (2 sigma**2)."""
    return log(q.scale) + _HALF_LOG_2PI + (variance + square(mean - q.loc)) / (2 * square(q.scale))


def _minus_expected_log_exponential(mean: Tensor, q: Exponential) -> Tensor:
    return q.rate * mean - log(q.rate)


def _minus_expected_log_gamma(mean: Tensor, mean_log: Tensor, q: Gamma) -> Tensor:
    """-E_p[log q] for q Gamma(a, b): b E[x] - (a - 1) E[log x] - a log b + log Gamma(a)."""
    alpha, beta = q.concentration, q.rate
    return beta * mean - (alpha - 1) * mean_log - alpha * log(beta) + lgamma(alpha)


def _minus_expected_log_gumbel(mean: Tensor, mgf_at: Tensor, q: Gumbel) -> Tensor:
    """-E_p[log q] for q Gumbel: log s + E[(x - loc) / s] + exp(loc / s) E[exp(-x / s)];
    `mgf_at` is p's moment generating function at -1 / s."""
    return log(q.scale) + (mean - q.loc) / q.scale + exp(q.loc / q.scale) * mgf_at


# p = Beta on [0, 1]


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p: Beta, q: Exponential) -> Tensor:
    return -p.entropy() + _minus_expected_log_exponential(p.mean, q)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p: Beta, q: Gamma) -> Tensor:
    a, b = p.concentration1, p.concentration0
    mean_log = digamma(a) - digamma(a + b)
    return -p.entropy() + _minus_expected_log_gamma(p.mean, mean_log, q)


@register_kl(Beta, Normal)
def _kl_beta_normal(p: Beta, q: Normal) -> Tensor:
    return -p.entropy() + _minus_expected_log_normal(p.mean, p.variance, q)


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p: Beta, q: Uniform) -> Tensor:
    result = -p.entropy() + log(q.high - q.low)
    outside = (q.low > p.support.lower_bound) | (q.high < p.support.upper_bound)
    return where(outside, _INF, result)


# p = Exponential on [0, inf): E[x] = 1/r, Var = 1/r**2, E[log x] = -gamma - log r,
# E[exp(t x)] = r / (r - t).


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p: Exponential, q: Gamma) -> Tensor:
    mean_log = -_EULER_GAMMA - log(p.rate)
    return -p.entropy() + _minus_expected_log_gamma(p.mean, mean_log, q)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p: Exponential, q: Gumbel) -> Tensor:
    mgf_at = p.rate / (p.rate + 1 / q.scale)
    return -p.entropy() + _minus_expected_log_gumbel(p.mean, mgf_at, q)


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p: Exponential, q: Normal) -> Tensor:
    return -p.entropy() + _minus_expected_log_normal(p.mean, p.variance, q)


# p = Gamma(a, b) on [0, inf): E[log x] = psi(a) - log b, E[exp(t x)] = (1 - t / b)**-a.


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p: Gamma, q: Exponential) -> Tensor:
    return -p.entropy() + _minus_expected_log_exponential(p.mean, q)


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p: Gamma, q: Gumbel) -> Tensor:
    mgf_at = exp(-p.concentration * log1p(1 / (q.scale * p.rate)))
    return -p.entropy() + _minus_expected_log_gumbel(p.mean, mgf_at, q)


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p: Gamma, q: Normal) -> Tensor:
    return -p.entropy() + _minus_expected_log_normal(p.mean, p.variance, q)


# p on the whole real line: Gumbel, Laplace, Normal


@register_kl(Gumbel, Normal)
@register_kl(Laplace, Normal)
def _kl_real_line_normal(p: Any, q: Normal) -> Tensor:
    return -p.entropy() + _minus_expected_log_normal(p.mean, p.variance, q)


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p: Normal, q: Gumbel) -> Tensor:
    mgf_at = exp(-p.loc / q.scale + 0.5 * square(p.scale / q.scale))
    return -p.entropy() + _minus_expected_log_gumbel(p.mean, mgf_at, q)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Normal, q: Laplace) -> Tensor:
    """E_p|x - loc_q| is the folded normal's mean: sigma sqrt(2/pi) exp(-d**2 / (2 sigma**2))
    + d erf(d / (sigma sqrt 2)), with d = loc_p - loc_q."""
    d = p.loc - q.loc
    folded_mean = p.scale * math.sqrt(2 / math.pi) * exp(-0.5 * square(d / p.scale)) + d * erf(
        d / (p.scale * math.sqrt(2))
    )
    return -p.entropy() + log(2 * q.scale) + folded_mean / q.scale


# p = Pareto(scale s, alpha a) on [s, inf): E[log x] = log s + 1/a; the mean is infinite for
# a <= 1, the variance for a <= 2.


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Pareto, q: Exponential) -> Tensor:
    mean = p.scale * p.alpha / (p.alpha - 1)
    result = -p.entropy() + _minus_expected_log_exponential(mean, q)
    return where(p.alpha <= 1, _INF, result)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Pareto, q: Gamma) -> Tensor:
    mean = p.scale * p.alpha / (p.alpha - 1)
    mean_log = log(p.scale) + 1 / p.alpha
    result = -p.entropy() + _minus_expected_log_gamma(mean, mean_log, q)
    return where(p.alpha <= 1, _INF, result)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Pareto, q: Normal) -> Tensor:
    mean = p.scale * p.alpha / (p.alpha - 1)
    variance = square(p.scale) * p.alpha / (square(p.alpha - 1) * (p.alpha - 2))
    result = -p.entropy() + _minus_expected_log_normal(mean, variance, q)
    return where(p.alpha <= 2, _INF, result)


# p = Uniform(a, b): E[log x] = (b log b - a log a) / (b - a) - 1 for a >= 0,
# E[exp(t x)] = (exp(t b) - exp(t a)) / (t (b - a)).


def _uniform_mean_log(low: Tensor, high: Tensor) -> Tensor:
    return (xlogy(high, high) - xlogy(low, low)) / (high - low) - 1


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Uniform, q: Beta) -> Tensor:
    a, b = q.concentration1, q.concentration0
    mean_log = _uniform_mean_log(p.low, p.high)
    mean_log1m = _uniform_mean_log(1 - p.high, 1 - p.low)
    log_beta_fn = lgamma(a) + lgamma(b) - lgamma(a + b)
    result = -p.entropy() - (a - 1) * mean_log - (b - 1) * mean_log1m + log_beta_fn
    outside = (p.high > q.support.upper_bound) | (p.low < q.support.lower_bound)
    return where(outside, _INF, result)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p: Uniform, q: Exponential) -> Tensor:
    result = -p.entropy() + _minus_expected_log_exponential(p.mean, q)
    return where(p.low < q.support.lower_bound, _INF, result)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p: Uniform, q: Gamma) -> Tensor:
    mean_log = _uniform_mean_log(p.low, p.high)
    result = -p.entropy() + _minus_expected_log_gamma(p.mean, mean_log, q)
    return where(p.low < q.support.lower_bound, _INF, result)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p: Uniform, q: Gumbel) -> Tensor:
    t = -1 / q.scale
    mgf_at = (exp(t * p.high) - exp(t * p.low)) / (t * (p.high - p.low))
    return -p.entropy() + _minus_expected_log_gumbel(p.mean, mgf_at, q)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p: Uniform, q: Normal) -> Tensor:
    return -p.entropy() + _minus_expected_log_normal(p.mean, p.variance, q)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Uniform, q: Pareto) -> Tensor:
    """-E_p[log q] = (alpha + 1) E[log x] - log alpha - alpha log s, for x >= s."""
    mean_log = _uniform_mean_log(p.low, p.high)
    minus_expected_log_q = (q.alpha + 1) * mean_log - log(q.alpha) - q.alpha * log(q.scale)
    result = -p.entropy() + minus_expected_log_q
    return where(p.low < q.support.lower_bound, _INF, result)


# discrete: a Bernoulli's two values have Poisson mass; a Poisson's do not stay in {0, 1}
# (or in a Binomial's {0, ..., n}).


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Bernoulli, q: Poisson) -> Tensor:
    """-E_p[log q] = rate - P(x = 1) log rate (log 0! = log 1! = 0)."""
    return -p.entropy() + q.rate - p.probs * log(q.rate)


@register_kl(Poisson, Bernoulli)
@register_kl(Poisson, Binomial)
def _kl_poisson_infinity(p: Poisson, q: Any) -> Tensor:
    return _infinite_like(p.rate)


# support mismatches: q gives zero mass to part of p's support


@register_kl(Beta, Pareto)
def _kl_beta_infinity(p: Beta, q: Any) -> Tensor:
    return _infinite_like(p.concentration1)


@register_kl(Exponential, Beta)
@register_kl(Exponential, ContinuousBernoulli)
@register_kl(Exponential, Pareto)
@register_kl(Exponential, Uniform)
def _kl_exponential_infinity(p: Exponential, q: Any) -> Tensor:
    return _infinite_like(p.rate)


@register_kl(Gamma, Beta)
@register_kl(Gamma, ContinuousBernoulli)
@register_kl(Gamma, Pareto)
@register_kl(Gamma, Uniform)
def _kl_gamma_infinity(p: Gamma, q: Any) -> Tensor:
    return _infinite_like(p.concentration)


@register_kl(Gumbel, Beta)
@register_kl(Gumbel, ContinuousBernoulli)
@register_kl(Gumbel, Exponential)
@register_kl(Gumbel, Gamma)
@register_kl(Gumbel, Pareto)
@register_kl(Gumbel, Uniform)
@register_kl(Laplace, Beta)
@register_kl(Laplace, ContinuousBernoulli)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Pareto)
@register_kl(Laplace, Uniform)
@register_kl(Normal, Beta)
@register_kl(Normal, ContinuousBernoulli)
@register_kl(Normal, Exponential)
@register_kl(Normal, Gamma)
@register_kl(Normal, Pareto)
@register_kl(Normal, Uniform)
def _kl_real_line_infinity(p: Any, q: Any) -> Tensor:
    return _infinite_like(p.loc)


@register_kl(Pareto, Beta)
@register_kl(Pareto, ContinuousBernoulli)
@register_kl(Pareto, Uniform)
def _kl_pareto_infinity(p: Pareto, q: Any) -> Tensor:
    return _infinite_like(p.scale)
