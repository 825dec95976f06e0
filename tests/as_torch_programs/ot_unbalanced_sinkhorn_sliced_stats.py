"""Optimal transport and nonparametric statistics as OT code writes them in PyTorch: unbalanced
Sinkhorn in log space (`torch.logsumexp(dim=, keepdim=True)` with KL-relaxed marginals) whose
cost is differentiated to move a point cloud; the sliced Wasserstein distance from random
projections and `torch.sort` (descending and stable), and the energy distance by `torch.cdist`,
both minimised by Adam with a `CosineAnnealingLR` schedule; empirical quantiles with every
`torch.quantile(interpolation=)`, `torch.nanquantile` over a ragged sample with `keepdim=`,
`torch.searchsorted(right=)` / `torch.bucketize` CDFs; and a bootstrap confidence interval
from a fixed index table (or `torch.multinomial(replacement=True)` when shuffled) with
`torch.take_along_dim`.
Run: python ot_unbalanced_sinkhorn_sliced_stats.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch

DT = torch.float64


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


def unbalanced_sinkhorn(x, y, a, b, eps=0.1, rho=1.0, iters=60):
    """Entropic unbalanced OT: log-domain updates damped by rho / (rho + eps)."""
    cost = torch.cdist(x, y) ** 2
    log_a, log_b = a.log(), b.log()
    f = torch.zeros_like(a)
    g = torch.zeros_like(b)
    damp = rho / (rho + eps)
    for _ in range(iters):
        f = -damp * eps * torch.logsumexp((g[None, :] - cost) / eps + log_b[None, :], dim=1)
        g = (
            -damp
            * eps
            * torch.logsumexp(
                (f[:, None] - cost) / eps + log_a[:, None], dim=0, keepdim=True
            ).squeeze(0)
        )
    log_plan = (f[:, None] + g[None, :] - cost) / eps + log_a[:, None] + log_b[None, :]
    plan = log_plan.exp()
    kl = lambda p, q: (p * (p / q).log() - p + q).sum()  # noqa: E731
    total = (plan * cost).sum() + rho * (kl(plan.sum(1), a) + kl(plan.sum(0), b))
    return total, plan


def sliced_wasserstein(x, y, directions):
    px = torch.sort(x @ directions.T, dim=0, descending=True, stable=True).values
    py = torch.sort(y @ directions.T, dim=0, descending=True).values
    return (px - py).pow(2).mean()


def energy_distance(x, y):
    return 2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)
    report = {"library": torch.__name__, "losses": []}

    n = 24
    t = torch.linspace(0, 2 * math.pi, n + 1, dtype=DT)[:-1]
    target = torch.stack([torch.cos(t), 0.5 * torch.sin(2 * t)], 1) * 1.5
    if args.deterministic:
        source = torch.stack([torch.sin(3.1 * t) * 0.4, torch.cos(1.7 * t) * 0.3], 1) + 0.2
        angles = torch.linspace(0, math.pi, 9, dtype=DT)[:-1]
    else:
        source = 0.4 * torch.randn(n, 2, dtype=DT) + 0.2
        angles = math.pi * torch.rand(8, dtype=DT)
    directions = torch.stack([torch.cos(angles), torch.sin(angles)], 1)

    a = torch.full((n,), 1.0 / n, dtype=DT)
    b = torch.linspace(0.5, 1.5, n, dtype=DT)
    b = b / b.sum() * 1.2  # more mass in the target: only unbalanced OT can match it
    cloud = source.clone().requires_grad_(True)
    cost, plan = unbalanced_sinkhorn(cloud, target, a, b)
    (grad,) = torch.autograd.grad(cost, cloud)
    report["sinkhorn"] = {
        "cost": round(cost.item(), 6),
        "mass": round(plan.sum().item(), 6),
        "grad_norm": round(grad.norm().item(), 6),
        "row_max": r(plan.max(dim=1).values[:4] * 1e3, 5),
    }

    cloud = source.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([cloud], lr=0.05)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30, eta_min=0.005)
    for step in range(30):
        optimizer.zero_grad()
        loss = sliced_wasserstein(cloud, target, directions) + 0.5 * energy_distance(cloud, target)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 6 == 0:
            report["losses"].append(round(loss.item(), 6))
    report["moved"] = r(cloud.mean(0), 5)
    report["lr_end"] = round(scheduler.get_last_lr()[0], 8)

    sample = torch.linspace(-1, 1, 11, dtype=DT) ** 3
    q = torch.tensor([0.05, 0.33, 0.5, 0.9], dtype=DT)
    modes = ["linear", "lower", "higher", "midpoint", "nearest"]
    report["quantiles"] = {m: r(torch.quantile(sample, q, interpolation=m), 6) for m in modes}
    ragged = torch.tensor([[1.0, 2.0, float("nan"), 4.0], [float("nan")] * 4, [3.0, 1.0, 2.0, 0.5]])
    med = torch.nanquantile(ragged, 0.5, dim=1, keepdim=True)
    iqr = torch.nanquantile(ragged, torch.tensor([0.25, 0.75]), dim=-1)
    report["nanquantile"] = [list(med.shape), r(med.nan_to_num(-9)), r(iqr.isnan()), r(iqr[:, 2])]
    report["quantile_nan"] = torch.quantile(ragged[0], 0.5).isnan().item()

    edges = torch.quantile(sample, torch.linspace(0, 1, 5, dtype=DT))
    report["bins"] = [
        torch.bucketize(sample, edges).tolist(),
        torch.bucketize(sample, edges, right=True).tolist(),
        torch.searchsorted(edges, sample[:5], right=True).tolist(),
        torch.searchsorted(edges, sample[:5], side="left").tolist(),
    ]

    data = 1.0 + torch.sin(torch.arange(40, dtype=DT) * 1.3) ** 3
    if args.deterministic:
        i, j = torch.meshgrid(torch.arange(200), torch.arange(40), indexing="ij")
        index = (i * 17 + j * j * 7 + i * j * 3 + (i // 3) * j) % 40
    else:
        index = torch.multinomial(torch.ones(40), 40 * 200, replacement=True).view(200, 40)
    resamples = torch.take_along_dim(data[None, :].expand(200, 40), index, dim=1)
    boot = resamples.mean(1)
    lo, hi = torch.quantile(boot, torch.tensor([0.025, 0.975], dtype=DT)).tolist()
    report["bootstrap"] = [round(lo, 6), round(hi, 6), round(boot.std().item(), 6)]

    torch.save({"cloud": cloud.detach(), "plan": plan.detach()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
