"""Biostatistics as epidemiology notebooks write it in PyTorch: a Cox proportional-hazards
model whose partial likelihood runs `torch.logcumsumexp` over the risk sets in descending time
order (`torch.argsort(descending=True, stable=True)`), tied event times grouped by
`torch.unique_consecutive(return_inverse=True, return_counts=True)` for Breslow's correction,
fitted by Newton's method with the Hessian from `torch.autograd.functional.hessian` and a
`torch.linalg.cholesky_ex` info check; a Poisson GLM fitted by IRLS with
`torch.linalg.solve_ex` (the info flag checked, a singular design caught), deviance by
`torch.special.xlogy`; and a negative-binomial regression whose dispersion is estimated by
Newton steps using `torch.special.gammaln`, `digamma` and `polygamma(1, .)`, with its score
checked against autograd and Wald intervals from the inverse Fisher information.
Run: python survival_cox_glm_irls.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
from torch.autograd.functional import hessian

DT = torch.float64


def r(t, n=6):
    return [round(v, n) for v in torch.as_tensor(t).detach().double().flatten().tolist()]


def cox_neg_log_partial(beta, x, time, event):
    """Breslow's partial likelihood: each death's linear predictor minus the log of the sum of
    exp(eta) over everyone still at risk, ties sharing the risk set of their time."""
    order = torch.argsort(time, descending=True, stable=True)
    eta = (x @ beta)[order]
    t_sorted, d_sorted = time[order], event[order]
    log_risk = torch.logcumsumexp(eta, dim=0)
    _, inverse, counts = torch.unique_consecutive(t_sorted, return_inverse=True, return_counts=True)
    last_of_group = torch.cumsum(counts, 0) - 1
    log_risk_tied = log_risk[last_of_group][inverse]
    return -((eta - log_risk_tied) * d_sorted).sum()


def cox_newton(x, time, event, iters=6):
    beta = torch.zeros(x.shape[1], dtype=DT)
    path = []
    for _ in range(iters):
        b = beta.clone().requires_grad_()
        loss = cox_neg_log_partial(b, x, time, event)
        (grad,) = torch.autograd.grad(loss, b)
        info = hessian(lambda v: cox_neg_log_partial(v, x, time, event), beta)
        chol, status = torch.linalg.cholesky_ex(info)
        step = torch.cholesky_solve(grad[:, None], chol).squeeze(1)
        beta = beta - step
        path.append(round(loss.item(), 8))
    return beta, info, path, status


def poisson_irls(x, y, offset, iters=8):
    beta = torch.zeros(x.shape[1], dtype=DT)
    deviances = []
    for _ in range(iters):
        eta = x @ beta + offset
        mu = torch.exp(eta)
        z = eta - offset + (y - mu) / mu
        xw = x * mu[:, None]
        beta, info = torch.linalg.solve_ex(x.T @ xw, xw.T @ z)
        mu = torch.exp(x @ beta + offset)
        deviance = 2 * (torch.special.xlogy(y, y / mu) - (y - mu)).sum()
        deviances.append(round(deviance.item(), 8))
    return beta, deviances, info


def negbin_loglik(y, mu, alpha):
    """NB2 log-likelihood with dispersion alpha (variance mu + alpha mu^2)."""
    inv = 1 / alpha
    return (
        torch.special.gammaln(y + inv)
        - torch.special.gammaln(inv)
        - torch.lgamma(y + 1)
        + torch.special.xlogy(inv, inv / (inv + mu))
        + torch.special.xlogy(y, mu / (inv + mu))
    ).sum()


def negbin_alpha_newton(y, mu, alpha, iters=6):
    """Newton on log-likelihood in r = 1/alpha, with digamma / trigamma derivatives."""
    rr = 1 / alpha
    for _ in range(iters):
        score = (
            torch.digamma(y + rr)
            - torch.digamma(rr)
            + torch.log(rr / (rr + mu))
            + (mu - y) / (rr + mu)
        ).sum()
        curv = (
            torch.polygamma(1, y + rr)
            - torch.special.polygamma(1, rr)
            + 1 / rr
            - 2 / (rr + mu)
            + (y + rr) / (rr + mu) ** 2
        ).sum()
        rr = torch.clamp_min(rr - score / curv, 1e-3)
    return 1 / rr, score


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    # A cohort of 40 with two covariates, rounded survival times (so ties) and censoring.
    n = 40
    i = torch.arange(n, dtype=DT)
    x = torch.stack([torch.sin(1.7 * i), (i % 3 - 1.0) * 0.8], 1)
    if not args.deterministic:
        x = x + 0.01 * torch.randn(n, 2, dtype=DT)
    hazard = torch.exp(x @ torch.tensor([0.9, -0.6], dtype=DT))
    u = (torch.sin(12.9898 * i + 78.233) * 43758.5453).frac().abs()
    time = torch.round(-torch.log(u.clamp_min(1e-3)) / hazard * 4)
    event = ((i * 7) % 5 != 0).to(DT)
    beta, info, path, status = cox_newton(x, time, event)
    se = torch.sqrt(torch.diagonal(torch.linalg.inv(info)))
    values, counts = torch.unique_consecutive(time.sort().values, return_counts=True)
    report["cox"] = {
        "beta": r(beta, 5),
        "se": r(se, 5),
        "z": r(beta / se, 4),
        "info_status": status.item(),
        "ties": int((counts > 1).sum()),
        "distinct_times": values.numel(),
        "argsort_stable": torch.argsort(time, descending=True, stable=True)[:8].tolist(),
    }
    report["losses"] += path

    # Poisson regression of counts with an exposure offset, by IRLS.
    exposure = 1.0 + (i % 4)
    design = torch.stack([torch.ones(n, dtype=DT), x[:, 0], x[:, 1]], 1)
    rate = torch.exp(design @ torch.tensor([0.3, 0.5, -0.4], dtype=DT)) * exposure
    counts_y = torch.floor(rate + 0.5 * torch.cos(3.1 * i) + 0.5).clamp_min(0)
    beta_p, deviances, info_p = poisson_irls(design, counts_y, torch.log(exposure))
    report["poisson"] = {"beta": r(beta_p, 6), "info": info_p.item(), "deviance": deviances[-1]}
    report["losses"] += deviances[-3:]
    singular = torch.stack([design[:, 0], design[:, 1], 2 * design[:, 1]], 1)
    _, bad_info = torch.linalg.solve_ex(singular.T @ singular, singular.T @ counts_y)
    _, bad_chol = torch.linalg.cholesky_ex(singular.T @ singular - 1e-3 * torch.eye(3, dtype=DT))
    report["poisson"]["singular_info"] = [bad_info.item() > 0, bad_chol.item()]
    report["poisson"]["info_dtype"] = str(bad_info.dtype)

    # Negative binomial: overdispersed counts, dispersion by Newton, score checked by autograd.
    over = (i % 7) * (i % 3 == 0) * 2.0 + torch.floor(4 * torch.sin(0.7 * i).abs())
    mu = over.mean() * exposure / exposure.mean()
    moments = (over.var() - over.mean()) / over.mean() ** 2
    alpha, last_score = negbin_alpha_newton(over, mu, moments)
    a = alpha.clone().requires_grad_()
    ll = negbin_loglik(over, mu, a)
    (g_alpha,) = torch.autograd.grad(ll, a, create_graph=True)
    (h_alpha,) = torch.autograd.grad(g_alpha, a)
    report["negbin"] = {
        "alpha": round(alpha.item(), 6),
        "loglik": round(ll.item(), 6),
        "score_alpha": abs(g_alpha.item()) < 1e-6,
        "wald_se": round(torch.rsqrt(-h_alpha).item(), 5),
        "last_score": abs(last_score.item()) < 1e-6,
        "polygamma": r(torch.special.polygamma(2, torch.tensor([0.5, 1.0, 3.0], dtype=DT))),
        "trigamma_f32": r(torch.polygamma(1, torch.tensor([0.5, 2.0])), 5),
        "lgamma_int": r(torch.lgamma(torch.arange(1, 6)), 6),
        "digamma_zero": r(torch.digamma(torch.tensor([0.0, -2.5, 1.0], dtype=DT)), 6),
    }
    report["losses"].append(round(-ll.item(), 6))

    # Survival curve: Breslow's baseline cumulative hazard at the distinct event times.
    risk = torch.exp(x @ beta)
    order = torch.argsort(time, stable=True)
    t_sorted, d_sorted, r_sorted = time[order], event[order], risk[order]
    at_risk = torch.flip(torch.cumsum(torch.flip(r_sorted, [0]), 0), [0])
    uniq, inverse = torch.unique_consecutive(t_sorted, return_inverse=True)
    deaths = torch.zeros(uniq.numel(), dtype=DT).index_add_(0, inverse, d_sorted)
    first = torch.searchsorted(t_sorted, uniq)
    baseline = torch.cumsum(deaths / at_risk[first], 0)
    report["baseline"] = {
        "cumhaz": r(baseline[::3], 5),
        "survival_at_median_x": r(torch.exp(-baseline[-3:]), 5),
        "first": first[:6].tolist(),
    }

    torch.save({"beta": beta, "beta_poisson": beta_p, "alpha": alpha}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: list(v.shape) for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
