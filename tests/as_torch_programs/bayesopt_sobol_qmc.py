"""Bayesian optimization and quasi-Monte Carlo as BoTorch-free research code writes them:
`torch.quasirandom.SobolEngine` (unscrambled) for the initial design and for QMC estimates of
an integral against plain Monte Carlo, `draw_base2` / `fast_forward` / `reset`, a GP surrogate
with a fixed Matern kernel solved by `torch.linalg.cholesky` and `torch.cholesky_solve`, the
expected-improvement acquisition from `Normal.cdf` / `log_prob` and its analytic gradient,
optimised over the unit box by Adam on sigmoid-mapped candidates started from Sobol' points,
`torch.topk` of the acquisition over a Sobol' grid (ties broken as PyTorch's), and the
sequential loop adding each proposal to the data.
Run: python bayesopt_sobol_qmc.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
from torch.distributions import Normal
from torch.quasirandom import SobolEngine


def branin(x):
    """The Branin function on [0, 1]^2 (rescaled to its usual box), to be minimised."""
    a, b = 15 * x[..., 0] - 5, 15 * x[..., 1]
    return (
        (b - 5.1 / (4 * math.pi**2) * a**2 + 5 / math.pi * a - 6) ** 2
        + 10 * (1 - 1 / (8 * math.pi)) * torch.cos(a)
        + 10
    )


def matern52(x1, x2, lengthscale=0.25):
    r = torch.cdist(x1, x2) / lengthscale
    return (1 + math.sqrt(5) * r + 5 / 3 * r**2) * torch.exp(-math.sqrt(5) * r)


def posterior(x_train, y_train, x):
    K = matern52(x_train, x_train) + 1e-6 * torch.eye(len(x_train), dtype=x.dtype)
    L = torch.linalg.cholesky(K)
    mean_y, std_y = y_train.mean(), y_train.std()
    alpha = torch.cholesky_solve(((y_train - mean_y) / std_y)[:, None], L)
    k_star = matern52(x, x_train)
    mu = (k_star @ alpha).squeeze(-1)
    v = torch.linalg.solve_triangular(L, k_star.T, upper=False)
    var = (1 - v.pow(2).sum(0)).clamp_min(1e-12)
    return mu * std_y + mean_y, var.sqrt() * std_y


def expected_improvement(x_train, y_train, x):
    mu, sigma = posterior(x_train, y_train, x)
    best = y_train.min()
    z = (best - mu) / sigma
    normal = Normal(torch.zeros((), dtype=x.dtype), 1.0)
    return sigma * (z * normal.cdf(z) + normal.log_prob(z).exp())


def r(t, n=6):
    return [round(v, n) for v in torch.as_tensor(t).detach().flatten().tolist()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    dt = torch.float64
    report = {"library": torch.__name__}

    # QMC against MC for the integral of a smooth function over the unit cube.
    sobol = SobolEngine(4)
    pts = sobol.draw_base2(10, dtype=dt)
    f = lambda p: torch.exp(-(p - 0.5).pow(2).sum(-1)) * torch.cos(3 * p[..., 0])  # noqa: E731
    exact_1d = math.sqrt(math.pi) * math.erf(0.5)
    report["qmc"] = {
        "estimate": round(f(pts).mean().item(), 8),
        "first": r(pts[:3]),
        "num_generated": sobol.num_generated,
        "skipped": r(sobol.fast_forward(3).draw(2, dtype=dt)),
        "reset": r(sobol.reset().draw(2)),
        "gauss_1d": round((torch.exp(-((pts[:, 0] - 0.5) ** 2))).mean().item() - exact_1d, 8),
        "repr": repr(sobol),
    }

    # Sequential Bayesian optimization of Branin.
    design = SobolEngine(2).draw(6, dtype=dt)
    x_train, y_train = design, branin(design)
    grid = SobolEngine(2).draw(256, dtype=dt)
    losses = []
    for step in range(5):
        ei_grid = expected_improvement(x_train, y_train, grid)
        top_values, top_index = torch.topk(ei_grid, 4)
        raw = torch.logit(grid[top_index].clamp(1e-3, 1 - 1e-3)).clone().requires_grad_(True)
        if not args.deterministic:
            raw.data += 0.01 * torch.randn_like(raw)
        opt = torch.optim.Adam([raw], lr=0.1)
        for _ in range(15):
            opt.zero_grad()
            (-expected_improvement(x_train, y_train, torch.sigmoid(raw)).sum()).backward()
            opt.step()
        with torch.no_grad():
            candidates = torch.sigmoid(raw)
            ei = expected_improvement(x_train, y_train, candidates)
            proposal = candidates[ei.argmax()]
        x_train = torch.cat([x_train, proposal[None]])
        y_train = torch.cat([y_train, branin(proposal[None])])
        losses.append(round(y_train.min().item(), 6))
        if step == 0:
            # A coarse ranking (EI in quarter bins of its maximum) has many ties: which points
            # topk / kthvalue pick among equal scores is PyTorch's kernels' choice.
            bins = torch.floor(4 * ei_grid / ei_grid.max()).clamp(max=3)
            report["ties"] = {
                "topk": torch.topk(bins, 8).indices.tolist(),
                "unsorted": torch.topk(bins, 8, sorted=False).indices.tolist(),
                "kthvalue": torch.kthvalue(bins, 128).indices.item(),
                "smallest": torch.topk(bins, 5, largest=False).indices.tolist(),
            }
            report["first_step"] = {
                "top_ei": r(top_values),
                "top_index": top_index.tolist(),
                "proposal": r(proposal),
                "ei": round(ei.max().item(), 8),
            }
    report["losses"] = losses
    mu, sigma = posterior(x_train, y_train, grid[:4])
    report["posterior"] = {"mu": r(mu, 5), "sigma": r(sigma, 5)}
    torch.save({"x": x_train, "y": y_train}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
