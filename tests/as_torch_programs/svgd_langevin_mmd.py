"""Particle-based Bayesian inference as sampling papers write it in PyTorch: Stein variational
gradient descent on a two-component Gaussian mixture target (`MixtureSameFamily` over
`MultivariateNormal(scale_tril=...)`, the score by `torch.autograd.grad` of the log density
summed over particles), an RBF kernel whose bandwidth is the median heuristic
(`torch.pdist` / `torch.cdist`, `torch.median`, `torch.nanmedian`, `torch.quantile`), its
repulsive term by a second `autograd.grad`, unadjusted and Metropolis-adjusted Langevin
dynamics with `torch.where` acceptance, the samples compared to the target by a kernel
two-sample statistic (MMD) with a `torch.multinomial` bootstrap, and weighted summaries
(`torch.cov` with `fweights` / `aweights`, `torch.corrcoef`, `torch.kthvalue`,
`torch.histc`, `torch.searchsorted(side="right")`, `torch.bucketize`).
Run: python svgd_langevin_mmd.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.distributions as D


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def target():
    means = torch.tensor([[-2.0, 0.0], [2.0, 1.0]], dtype=torch.float64)
    tril = torch.tensor([[[1.0, 0.0], [0.5, 0.6]], [[0.7, 0.0], [-0.3, 0.9]]], dtype=torch.float64)
    mix = D.Categorical(probs=torch.tensor([0.4, 0.6], dtype=torch.float64))
    return D.MixtureSameFamily(mix, D.MultivariateNormal(means, scale_tril=tril))


def score(dist, x):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(dist.log_prob(x).sum(), x)
    return g


def rbf(x, bandwidth=None):
    sq = torch.cdist(x, x) ** 2
    if bandwidth is None:
        med = torch.median(torch.pdist(x.detach())) ** 2  # a constant bandwidth per step
        bandwidth = med / math.log(x.shape[0] + 1)
    return torch.exp(-sq / bandwidth), bandwidth


def svgd_step(dist, x, step):
    y = x.detach().requires_grad_(True)
    k, h = rbf(y)
    (attract,) = torch.autograd.grad(k.sum(), y)  # sum_j grad_i k(x_i, x_j), both arguments
    phi = (k.detach() @ score(dist, x) - 0.5 * attract) / x.shape[0]
    return x + step * phi, h


def mmd2(x, y, bandwidth):
    kxx = torch.exp(-(torch.cdist(x, x) ** 2) / bandwidth)
    kyy = torch.exp(-(torch.cdist(y, y) ** 2) / bandwidth)
    kxy = torch.exp(-(torch.cdist(x, y) ** 2) / bandwidth)
    n, m = x.shape[0], y.shape[0]
    off_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    off_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return off_x + off_y - 2 * kxy.mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    dist = target()
    report = {"library": torch.__name__, "losses": []}

    # Particles on a deterministic spiral (random under the shuffled run).
    t = torch.linspace(0, 4 * math.pi, 40, dtype=torch.float64)
    x = torch.stack([0.2 * t * torch.cos(t), 0.2 * t * torch.sin(t)], 1) * 0.5
    if not args.deterministic:
        x = torch.randn(40, 2, dtype=torch.float64)
    widths = []
    for it in range(40):
        x, h = svgd_step(dist, x, step=0.3)
        if it % 10 == 0:
            widths.append(round(h.item(), 6))
            report["losses"].append(round(-dist.log_prob(x).mean().item(), 6))
    report["svgd"] = {
        "bandwidths": widths,
        "mean": r(x.mean(0)),
        "nanmedian": r(torch.nanmedian(torch.where(x > 3, float("nan"), x), dim=0).values),
        "quantiles": r(torch.quantile(x[:, 0], torch.tensor([0.1, 0.5, 0.9], dtype=x.dtype))),
        "left_fraction": round((x[:, 0] < 0).double().mean().item(), 6),
    }

    # Langevin: unadjusted, then Metropolis-adjusted with fixed noise.
    g = torch.Generator().manual_seed(1)
    noise = torch.sin(torch.arange(200 * 40 * 2, dtype=torch.float64) * 1.37).reshape(200, 40, 2)
    uniforms = (torch.cos(torch.arange(200 * 40, dtype=torch.float64) * 0.71) + 1).reshape(
        200, 40
    ) / 2
    if not args.deterministic:
        noise = torch.randn(200, 40, 2, dtype=torch.float64, generator=g)
        uniforms = torch.rand(200, 40, dtype=torch.float64, generator=g)
    eps = 0.05
    ula = x.clone()
    mala = x.clone()
    accepted = torch.zeros(40, dtype=torch.float64)
    for i in range(0, 200, 4):
        ula = ula + eps * score(dist, ula) + math.sqrt(2 * eps) * noise[i]
        grad_now = score(dist, mala)
        prop = mala + eps * grad_now + math.sqrt(2 * eps) * noise[i]
        grad_prop = score(dist, prop)
        fwd = -((prop - mala - eps * grad_now) ** 2).sum(1) / (4 * eps)
        back = -((mala - prop - eps * grad_prop) ** 2).sum(1) / (4 * eps)
        log_alpha = dist.log_prob(prop) - dist.log_prob(mala) + back - fwd
        accept = uniforms[i].log() < log_alpha
        mala = torch.where(accept[:, None], prop, mala)
        accepted += accept.double()
    report["langevin"] = {
        "ula_mean": r(ula.mean(0), 4),
        "mala_mean": r(mala.mean(0), 4),
        "acceptance": round(accepted.mean().item() / 50, 6),
    }

    # MMD between SVGD particles and exact target samples, bootstrap by multinomial resampling.
    ref = dist.sample((40,)) if not args.deterministic else x.flip(0) * 0.9 + 0.1
    _, h = rbf(torch.cat([x, ref]))
    stat = mmd2(x, ref, h)
    pooled = torch.cat([x, ref])
    boots = []
    weights = torch.ones(80, dtype=torch.float64)
    for _ in range(20):
        idx = torch.multinomial(weights, 80, replacement=True, generator=g)
        boots.append(mmd2(pooled[idx[:40]], pooled[idx[40:]], h))
    boots = torch.stack(boots)
    report["mmd"] = {
        "stat": round(stat.item(), 6),
        "boot_shape": list(boots.shape),
        "boot_dtype": str(boots.dtype),
        "idx_dtype": str(idx.dtype),
    }
    report["losses"].append(round(stat.item(), 6))

    # Weighted summaries of the particle set.
    counts = (torch.arange(40) % 3 + 1).long()
    importance = torch.softmax(dist.log_prob(x), 0)
    report["summaries"] = {
        "cov_f": r(torch.cov(x.T, fweights=counts)),
        "cov_a": r(torch.cov(x.T, aweights=importance)),
        "cov_fa0": r(torch.cov(x.T, correction=0, fweights=counts, aweights=importance)),
        "corr": r(torch.corrcoef(x.T)),
        "kth": [
            round(v.item(), 5) if v.is_floating_point() else v.item()
            for v in torch.kthvalue(x[:, 1], 5)
        ],
        "kth_dim": r(torch.kthvalue(x, 3, dim=0, keepdim=True).values),
        "histc": r(torch.histc(x[:, 0], bins=8, min=-4, max=4)),
        "histc_auto": r(torch.histc(x[:, 1].float(), bins=5)),
        "searchsorted": torch.searchsorted(
            torch.tensor([-2.0, 0.0, 2.0], dtype=torch.float64), x[:6, 0], side="right"
        ).tolist(),
        "searchsorted_left": torch.searchsorted(
            torch.tensor([-1.0, 0.0, 1.0]), torch.tensor([0.0, 1.0])
        ).tolist(),
        "bucketize": torch.bucketize(
            x[:6, 1], torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64), right=True
        ).tolist(),
    }

    # Gradient of the MMD with respect to the particles (a kernel two-sample flow step).
    xs = x.clone().requires_grad_(True)
    loss = mmd2(xs, ref, h)
    loss.backward()
    report["mmd_grad_norm"] = round(xs.grad.norm().item(), 6)
    torch.save({"particles": x, "bandwidth": h}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = [list(state["particles"].shape), str(state["bandwidth"].dtype)]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
