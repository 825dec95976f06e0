"""Risk and event modelling as quant-research notebooks write them in PyTorch: a covariance
from `torch.cov` shrunk toward a scaled identity by Ledoit-Wolf, the minimum-variance and
target-return portfolios from the KKT system (`torch.block_diag`, `torch.cat`,
`torch.linalg.solve`), the frontier's risk by `torch.linalg.eigh`; historical value-at-risk by
`torch.quantile(interpolation=...)` and `torch.kthvalue`, maximum drawdown by `torch.cummax`,
and a long-only portfolio minimising Rockafellar-Uryasev CVaR (softmax weights, `F.relu`,
`torch.optim.Adam`); then a self-exciting Hawkes process with an exponential kernel whose
log-likelihood (a recursion over the event times, the compensator in closed form) is fitted by
`torch.optim.LBFGS(line_search_fn="strong_wolfe")` on softplus-parametrised rates.
Run: python portfolio_cvar_hawkes.py CHECKPOINT [--deterministic].
"""

import argparse
import json

import torch
import torch.nn.functional as F

DT = torch.float64


def r(t, n=6):
    return [round(v, n) for v in torch.as_tensor(t).detach().double().flatten().tolist()]


def ledoit_wolf(returns):
    """Shrink the sample covariance toward mu I by the Ledoit-Wolf optimal intensity."""
    n, p = returns.shape
    centred = returns - returns.mean(0)
    sample = centred.T @ centred / n
    mu = torch.trace(sample) / p
    target = mu * torch.eye(p, dtype=returns.dtype)
    d2 = ((sample - target) ** 2).sum()
    outer = torch.einsum("ni,nj->nij", centred, centred)
    b2 = ((outer - sample) ** 2).sum() / n**2
    intensity = torch.clamp(b2 / d2, max=1.0)
    return intensity * target + (1 - intensity) * sample, intensity


def kkt_portfolio(cov, mean, target=None):
    """min w' C w s.t. 1'w = 1 (and mean'w = target): one symmetric indefinite solve."""
    p = cov.shape[0]
    rows = [torch.ones(1, p, dtype=cov.dtype)]
    rhs = [torch.ones(1, dtype=cov.dtype)]
    if target is not None:
        rows.append(mean[None])
        rhs.append(torch.tensor([target], dtype=cov.dtype))
    constraints = torch.cat(rows)
    k = constraints.shape[0]
    system = torch.block_diag(2 * cov, torch.zeros(k, k, dtype=cov.dtype))
    system[:p, p:] = constraints.T
    system[p:, :p] = constraints
    solution = torch.linalg.solve(system, torch.cat([torch.zeros(p, dtype=cov.dtype), *rhs]))
    return solution[:p]


def hawkes_neg_loglik(params, times, horizon):
    """-log L for intensity mu + alpha sum exp(-beta (t - t_i)) over earlier events."""
    mu, alpha, beta = F.softplus(params)
    excitation = torch.zeros((), dtype=times.dtype)
    log_terms = []
    previous = None
    for t in times:
        if previous is not None:
            excitation = torch.exp(-beta * (t - previous)) * (excitation + 1)
        log_terms.append(torch.log(mu + alpha * excitation))
        previous = t
    compensator = mu * horizon + alpha / beta * (1 - torch.exp(-beta * (horizon - times))).sum()
    return compensator - torch.stack(log_terms).sum()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    # 250 days of returns for 5 assets: a common factor plus idiosyncratic wiggles.
    days = torch.arange(250, dtype=DT)
    factor = 0.01 * torch.sin(0.37 * days) + 0.004 * torch.cos(1.9 * days)
    loadings = torch.tensor([0.8, 1.0, 1.2, 0.5, 1.5], dtype=DT)
    own = 0.006 * torch.sin(
        days[:, None] * torch.tensor([0.71, 1.13, 2.3, 0.53, 1.7], dtype=DT) + 1
    )
    returns = factor[:, None] * loadings + own + torch.tensor([3, 4, 5, 2, 6], dtype=DT) * 1e-4
    if not args.deterministic:
        returns = returns + 1e-4 * torch.randn_like(returns)
    sample = torch.cov(returns.T)
    shrunk, intensity = ledoit_wolf(returns)
    mean = returns.mean(0)
    w_min = kkt_portfolio(shrunk, mean)
    w_target = kkt_portfolio(shrunk, mean, target=5e-4)
    frontier = [torch.sqrt(w @ shrunk @ w).item() for w in (w_min, w_target)]
    report["markowitz"] = {
        "intensity": round(intensity.item(), 6),
        "shrunk_vs_sample": round(((shrunk - sample * 249 / 250).norm() / sample.norm()).item(), 6),
        "w_min": r(w_min, 5),
        "w_target": r(w_target, 5),
        "risk": [round(v, 7) for v in frontier],
        "eigvals": r(torch.linalg.eigvalsh(shrunk) * 1e5, 5),
        "cond": round(torch.linalg.cond(shrunk).item(), 4),
        "corr_diag": r(torch.diagonal(torch.corrcoef(returns.T)), 6),
    }

    # Historical risk of the minimum-variance portfolio.
    pnl = returns @ w_min
    losses = -pnl
    wealth = torch.cumprod(1 + pnl, 0)
    peak, peak_at = torch.cummax(wealth, 0)
    drawdown = 1 - wealth / peak
    worst = torch.kthvalue(losses, 238)
    report["risk"] = {
        "var95": r(
            [
                torch.quantile(losses, 0.95, interpolation=m)
                for m in ("linear", "lower", "higher", "midpoint", "nearest")
            ],
            7,
        ),
        "kth": [round(worst.values.item(), 7), worst.indices.item()],
        "max_drawdown": round(drawdown.max().item(), 7),
        "peak_day": peak_at[drawdown.argmax()].item(),
        "quantiles": r(torch.quantile(returns, torch.tensor([0.05, 0.5], dtype=DT), dim=0), 7),
    }

    # Long-only CVaR(95%) minimisation, Rockafellar-Uryasev.
    logits = torch.zeros(5, dtype=DT, requires_grad=True)
    threshold = torch.zeros((), dtype=DT, requires_grad=True)
    opt = torch.optim.Adam([logits, threshold], lr=0.05)
    for step in range(60):
        opt.zero_grad()
        weights = torch.softmax(logits, 0)
        portfolio_loss = -(returns @ weights)
        cvar = threshold + F.relu(portfolio_loss - threshold).mean() / 0.05
        cvar.backward()
        opt.step()
        if step % 20 == 0:
            report["losses"].append(round(cvar.item() * 1e3, 6))
    report["cvar"] = {
        "weights": r(torch.softmax(logits, 0), 4),
        "value": round(cvar.item() * 1e3, 5),
    }

    # Hawkes process: event times with clusters, fitted by L-BFGS.
    base = torch.cumsum(2.0 + 1.5 * torch.sin(torch.arange(30, dtype=DT) * 2.1) ** 2, 0)
    echoes = torch.cat([base[::2] + 0.05, base[::2] + 0.15, base[::2] + 0.3, base[1::3] + 0.1])
    times = torch.sort(torch.cat([base, echoes])).values
    horizon = times[-1].item() + 1.0
    params = torch.tensor([0.0, -1.0, 0.5], dtype=DT, requires_grad=True)
    lbfgs = torch.optim.LBFGS([params], lr=1.0, max_iter=30, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        loss = hawkes_neg_loglik(params, times, horizon)
        loss.backward()
        return loss

    first = lbfgs.step(closure)
    final = hawkes_neg_loglik(params, times, horizon)
    mu, alpha, beta = F.softplus(params).tolist()
    report["hawkes"] = {
        "first_loss": round(first.item(), 6),
        "loss": round(final.item(), 5),
        "params": [round(mu, 4), round(alpha, 4), round(beta, 3)],
        "branching": round(alpha / beta, 4),
        "events": times.numel(),
        "state_keys": sorted(lbfgs.state_dict()["state"][0].keys()),
    }
    report["losses"].append(round(final.item(), 5))

    torch.save({"w_min": w_min, "cov": shrunk, "lbfgs": lbfgs.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = [list(state["w_min"].shape), list(state["cov"].shape), sorted(state["lbfgs"])]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
