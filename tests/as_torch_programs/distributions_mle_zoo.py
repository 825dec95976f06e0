"""Maximum-likelihood and variational fits over the less common torch.distributions families, as
statistics and survival-analysis notebooks write them: a Weibull survival model and a von Mises
wind-direction model fitted by Adam on unconstrained parameters mapped by `biject_to` /
`transform_to` of each family's `arg_constraints`; a negative-binomial count regression; a
`LowRankMultivariateNormal` factor model fitted by maximum likelihood against its dense
`MultivariateNormal`; an `LKJCholesky` prior on a correlation matrix and a `Wishart` log
density; `log_prob`, `cdf`, `icdf`, `entropy`, `mean`, `mode`, `variance`, `support`,
`batch_shape` / `event_shape`, `expand` for Cauchy, HalfCauchy, HalfNormal, Gumbel, Pareto,
GeneralizedPareto, Chi2, FisherSnedecor, InverseGamma, Kumaraswamy, ContinuousBernoulli,
Geometric, Binomial, Multinomial, OneHotCategorical, LogisticNormal; relaxed (Gumbel-softmax)
categoricals' `log_prob`; which moments are constants (no gradient); draws from 0-d parameters;
`enumerate_support`; `kl_divergence` between pairs PyTorch registers and the
`NotImplementedError` for a pair it does not; and the `ValueError` of `validate_args`.
Run: python distributions_mle_zoo.py CHECKPOINT [--deterministic].
"""

import argparse
import json
import math

import torch
import torch.distributions as D
from torch.distributions import biject_to, constraints


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def finite(value, digits=4):
    """A rounded number, or its name when nan or infinite (JSON's NaN compares unequal)."""
    value = float(value)
    return round(value, digits) if math.isfinite(value) else str(value)


def fit(make, raw, data, steps, lr):
    optimizer = torch.optim.Adam(raw, lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = -make().log_prob(data).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(17)
    report = {"library": torch.__name__}
    f64 = torch.float64

    # Survival times: a Weibull fit with positive parameters through biject_to.
    if args.deterministic:
        u = (torch.arange(1, 61, dtype=f64) - 0.5) / 60
        times = 2.0 * (-torch.log1p(-u)) ** (1 / 1.5)  # exact Weibull(2, 1.5) quantiles
        angles = (
            torch.remainder(1.0 + 0.8 * torch.sin(torch.arange(50, dtype=f64) * 2.3), 2 * math.pi)
            - math.pi
        )
    else:
        times = D.Weibull(2.0, 1.5).sample((60,)).double()
        angles = D.VonMises(1.0, 2.0).sample((50,)).double()
    positive = biject_to(D.Weibull.arg_constraints["scale"])
    raw_scale = torch.zeros((), dtype=f64, requires_grad=True)
    raw_conc = torch.zeros((), dtype=f64, requires_grad=True)
    weibull_losses = fit(
        lambda: D.Weibull(positive(raw_scale), positive(raw_conc)),
        [raw_scale, raw_conc],
        times,
        40,
        0.1,
    )
    model = D.Weibull(positive(raw_scale), positive(raw_conc))
    report["weibull"] = [
        round(model.scale.item(), 3),
        round(model.concentration.item(), 3),
        r(model.cdf(torch.tensor([1.0, 2.0, 4.0], dtype=f64)).detach(), 4),
        round(model.mean.item(), 3),
        round(model.entropy().item(), 4),
        type(positive).__name__,
    ]

    # Wind directions: a von Mises fit, the location unconstrained, the concentration positive.
    loc = torch.zeros((), dtype=f64, requires_grad=True)
    raw_kappa = torch.zeros((), dtype=f64, requires_grad=True)
    to_positive = D.transform_to(constraints.positive)
    vm_losses = fit(
        lambda: D.VonMises(loc, to_positive(raw_kappa)), [loc, raw_kappa], angles, 40, 0.1
    )
    vm = D.VonMises(loc, to_positive(raw_kappa))
    report["von_mises"] = [
        round(loc.item(), 3),
        round(vm.concentration.item(), 3),
        r(vm.log_prob(torch.tensor([0.0, 1.0, 3.0], dtype=f64)).detach(), 4),
        round(vm.variance.item(), 4),
        round(vm.mode.item(), 4),
    ]
    report["losses"] = weibull_losses + vm_losses

    # Negative-binomial regression of counts on a covariate (logits link).
    x = torch.linspace(-1, 1, 30, dtype=f64)
    counts = torch.floor(3 * torch.exp(0.8 * x) + 2 * torch.sin(7 * x).abs())
    coef = torch.zeros(2, dtype=f64, requires_grad=True)
    raw_r = torch.zeros((), dtype=f64, requires_grad=True)
    nb_losses = fit(
        lambda: D.NegativeBinomial(total_count=raw_r.exp(), logits=coef[0] + coef[1] * x),
        [coef, raw_r],
        counts,
        40,
        0.1,
    )
    report["neg_binomial"] = [
        round(nb_losses[-1], 4),
        r(coef.detach(), 3),
        round(raw_r.exp().item(), 3),
    ]

    # A two-factor model: LowRankMultivariateNormal by maximum likelihood.
    grid = torch.arange(40, dtype=f64)
    latent = torch.stack([torch.sin(grid * 0.9), torch.cos(grid * 0.4)], 1)
    loadings_true = torch.tensor([[1.0, 0.0], [0.8, 0.3], [0.0, 1.0], [0.5, -0.5]], dtype=f64)
    obs = latent @ loadings_true.T + 0.3 * torch.cos(
        grid[:, None] * torch.tensor([1.7, 2.9, 0.3, 4.1], dtype=f64)
    )
    factor = torch.full((4, 2), 0.1, dtype=f64).add(torch.eye(4, 2, dtype=f64)).requires_grad_()
    raw_diag = torch.zeros(4, dtype=f64, requires_grad=True)
    mu = obs.mean(0)
    lr_losses = fit(
        lambda: D.LowRankMultivariateNormal(mu, factor, raw_diag.exp()),
        [factor, raw_diag],
        obs,
        30,
        0.05,
    )
    low_rank = D.LowRankMultivariateNormal(mu, factor, raw_diag.exp())
    dense = D.MultivariateNormal(mu, covariance_matrix=low_rank.covariance_matrix)
    report["factor_model"] = [
        round(lr_losses[-1], 4),
        bool(torch.allclose(low_rank.log_prob(obs), dense.log_prob(obs))),
        round(low_rank.entropy().item(), 4),
        round(D.kl_divergence(low_rank, dense).item(), 8),
        r(low_rank.variance.detach(), 4),
        list(low_rank.precision_matrix.shape),
    ]

    # Priors on covariance: LKJ on a Cholesky factor, Wishart on a precision matrix.
    corr_chol = torch.linalg.cholesky(
        torch.tensor([[1.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.0]], dtype=f64)
    )
    lkj = D.LKJCholesky(3, concentration=torch.tensor([0.5, 2.0], dtype=f64))
    wishart = D.Wishart(
        df=torch.tensor(5.0, dtype=f64), covariance_matrix=torch.eye(3, dtype=f64) * 0.5
    )
    precision = corr_chol @ corr_chol.T * 2
    report["covariance_priors"] = [
        r(lkj.log_prob(corr_chol), 5),
        list(lkj.batch_shape),
        list(lkj.event_shape),
        round(wishart.log_prob(precision).item(), 5),
        r(wishart.mean, 4),
        round(wishart.entropy().item(), 4),
    ]

    # A row of families with their summaries at fixed points.
    pts = torch.tensor([0.3, 1.0, 2.5], dtype=f64)
    families = {
        "cauchy": D.Cauchy(torch.tensor(0.5, dtype=f64), 2.0),
        "half_cauchy": D.HalfCauchy(torch.tensor(1.5, dtype=f64)),
        "half_normal": D.HalfNormal(torch.tensor(1.5, dtype=f64)),
        "gumbel": D.Gumbel(torch.tensor(1.0, dtype=f64), 0.5),
        "pareto": D.Pareto(torch.tensor(0.2, dtype=f64), 3.0),
        "gen_pareto": D.GeneralizedPareto(torch.tensor(0.0), 1.0, 0.2),  # float64 fails in torch
        "chi2": D.Chi2(torch.tensor(3.0, dtype=f64)),
        "fisher": D.FisherSnedecor(torch.tensor(5.0, dtype=f64), 7.0),
        "inv_gamma": D.InverseGamma(torch.tensor(3.0, dtype=f64), 2.0),
    }
    summaries = {}
    for name, dist in families.items():
        row = [r(dist.log_prob(pts), 5), finite(dist.mean), finite(dist.variance)]
        if name in ("cauchy", "half_cauchy", "half_normal", "gumbel", "pareto", "gen_pareto"):
            row.append(r(dist.cdf(pts), 5))
        if name in ("cauchy", "half_cauchy", "half_normal", "pareto", "gen_pareto"):
            row.append(r(dist.icdf(torch.tensor([0.1, 0.5, 0.9], dtype=f64)), 5))
        if name != "fisher":  # FisherSnedecor has no entropy
            row.append(round(dist.entropy().item(), 5))
        summaries[name] = row
    report["families"] = summaries
    probs = torch.tensor([0.2, 0.5, 0.8], dtype=f64)
    unit = torch.tensor([0.1, 0.4, 0.9], dtype=f64)
    kumaraswamy = D.Kumaraswamy(torch.tensor(2.0, dtype=f64), torch.tensor(3.0, dtype=f64))
    report["unit_interval"] = [
        r(kumaraswamy.log_prob(unit), 5),
        round(kumaraswamy.mean.item(), 5),
        round(kumaraswamy.variance.item(), 5),
        r(D.ContinuousBernoulli(probs=probs).log_prob(unit), 5),
        r(D.ContinuousBernoulli(probs=probs).mean, 5),
        r(D.ContinuousBernoulli(logits=torch.tensor([0.0, 2.0], dtype=f64)).entropy(), 5),
    ]
    geometric = D.Geometric(probs=torch.tensor([0.3, 0.6]))
    binomial = D.Binomial(10, probs=torch.tensor([0.2, 0.7]))
    multinomial = D.Multinomial(6, probs=torch.tensor([0.2, 0.3, 0.5]))
    one_hot = D.OneHotCategorical(logits=torch.tensor([0.0, 1.0, -1.0]))
    report["discrete"] = [
        r(geometric.log_prob(torch.tensor([[0.0], [3.0]])), 5),
        r(geometric.mean, 4),
        r(binomial.log_prob(torch.tensor([2.0, 7.0])), 5),
        r(binomial.enumerate_support(expand=False).flatten(), 1),
        list(binomial.enumerate_support().shape),
        round(multinomial.log_prob(torch.tensor([1.0, 2.0, 3.0])).item(), 5),
        r(multinomial.variance, 4),
        list(one_hot.enumerate_support().shape),
        round(one_hot.entropy().item(), 5),
        r(one_hot.log_prob(torch.eye(3)), 5),
    ]
    logistic_normal = D.LogisticNormal(torch.tensor([0.0, 0.5]), torch.tensor([1.0, 0.5]))
    relaxed = D.RelaxedOneHotCategorical(torch.tensor(0.5), logits=torch.tensor([0.0, 1.0, -1.0]))
    relaxed_bern = D.RelaxedBernoulli(torch.tensor(0.7), probs=torch.tensor([0.2, 0.6]))
    simplex = torch.tensor([0.2, 0.5, 0.3])
    report["simplex"] = [
        round(logistic_normal.log_prob(simplex).item(), 4),
        list(logistic_normal.event_shape),
        round(relaxed.log_prob(simplex).item(), 4),
        r(relaxed_bern.log_prob(torch.tensor([0.3, 0.9])), 4),
        str(relaxed.support),
        list(relaxed.expand((4,)).batch_shape),
    ]

    # KL divergences, registered and not; validation errors.
    report["kl"] = [
        round(
            D.kl_divergence(families["gumbel"], D.Gumbel(torch.tensor(0.0, dtype=f64), 1.0)).item(),
            5,
        ),
        round(
            D.kl_divergence(families["pareto"], D.Pareto(torch.tensor(0.1, dtype=f64), 2.0)).item(),
            5,
        ),
        round(D.kl_divergence(D.Geometric(probs=0.3), D.Geometric(probs=0.5)).item(), 5),
        round(D.kl_divergence(D.HalfNormal(1.0), D.HalfNormal(2.0)).item(), 5),
        round(D.kl_divergence(D.Binomial(5, probs=0.3), D.Binomial(5, probs=0.6)).item(), 5),
        round(D.kl_divergence(one_hot, D.OneHotCategorical(probs=torch.ones(3) / 3)).item(), 5),
    ]
    scalar_draws = [
        D.Gamma(torch.tensor(2.0), torch.tensor(1.5)).sample(),
        D.Poisson(torch.tensor(3.0)).sample(),
        D.StudentT(torch.tensor(4.0, dtype=f64)).rsample(),
        D.NegativeBinomial(torch.tensor(3.0), probs=torch.tensor(0.4)).sample(),
    ]
    report["scalar_draws"] = [[list(x.shape), str(x.dtype)] for x in scalar_draws]
    heavy = D.Cauchy(torch.zeros(2, requires_grad=True), torch.ones(2, requires_grad=True))
    report["constant_moments"] = [
        heavy.mean.requires_grad,
        heavy.variance.requires_grad,
        heavy.mode.requires_grad,
        D.Exponential(torch.ones(2, requires_grad=True)).mode.requires_grad,
        D.HalfNormal(torch.ones(2, requires_grad=True)).mode.requires_grad,
    ]
    try:
        D.kl_divergence(families["cauchy"], D.Normal(0.0, 1.0))
        report["kl_missing"] = "none"
    except NotImplementedError as error:
        report["kl_missing"] = type(error).__name__
    errors = []
    for bad in (
        lambda: D.Weibull(-1.0, 1.0, validate_args=True),
        lambda: D.VonMises(0.0, 1.0, validate_args=True).log_prob(torch.tensor(4.0)),
    ):
        try:
            bad()
            errors.append("none")
        except ValueError as error:
            errors.append(type(error).__name__)
    report["validation"] = errors
    torch.save(
        {"weibull": [raw_scale.detach(), raw_conc.detach()], "factor": factor.detach()},
        args.checkpoint,
    )
    report["saved"] = sorted(torch.load(args.checkpoint))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
