"""Geostatistics as spatial-statistics code writes it in PyTorch: a synthetic rainfall field on
scattered stations; an empirical semivariogram binned by `torch.bucketize` on pairwise
distances from `torch.pdist`, with bin sums and counts by `scatter_add` and `torch.bincount`;
a spherical/exponential model fitted to it with Adam on log-parameters; ordinary kriging with
a Matern (nu = 1) covariance written with `torch.special.modified_bessel_k1` (its h -> 0 limit
behind `torch.where`) and normalised by `torch.special.gammaln`, the kriging system solved as a
bordered `torch.linalg.solve` batched over prediction sites; anisotropic Manhattan and Chebyshev
distances by `torch.cdist(p=1)` / `p=inf` and `compute_mode=`; a von Mises kernel for wind
direction normalised by `torch.special.i0e` with its concentration learned by maximum
likelihood (gradient through i0e / i1e), and leave-one-out cross-validation of the kriging
predictor through `torch.linalg.inv`.
Run: python geostat_kriging_matern_variogram.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch

DT = torch.float64


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


def field(xy):
    return torch.sin(1.3 * xy[:, 0]) * torch.cos(0.9 * xy[:, 1]) + 0.3 * xy[:, 0]


def matern1(h, sill, length):
    """Matern nu=1: sill * (h/l) K1(h/l) * 2^{1-nu}/Gamma(nu); equals sill at h = 0."""
    scaled = h / length
    safe = torch.where(scaled > 0, scaled, torch.ones_like(scaled))
    nu = torch.tensor(1.0, dtype=DT)
    norm = 2 ** (1 - nu) / torch.exp(torch.special.gammaln(nu))
    value = norm * safe * torch.special.modified_bessel_k1(safe)
    return sill * torch.where(scaled > 0, value, torch.ones_like(value))


def exponential_variogram(h, nugget, sill, length):
    return nugget + sill * (1 - torch.exp(-h / length))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(4)
    report = {"library": torch.__name__, "losses": []}
    k = torch.arange(60, dtype=DT)
    stations = torch.stack([(k * 0.618034) % 1.0, (k * 0.754878) % 1.0], 1) * 6
    if not args.deterministic:
        stations = stations + 0.01 * torch.randn_like(stations)
    values = field(stations) + 0.05 * torch.sin(k * 3.7)

    lags = torch.pdist(stations)
    i, j = torch.triu_indices(60, 60, offset=1)
    semivar = 0.5 * (values[i] - values[j]) ** 2
    edges = torch.linspace(0.25, 4.0, 16, dtype=DT)
    bins = torch.bucketize(lags, edges)
    keep = bins < len(edges)
    bins, semivar, lag_kept = bins[keep], semivar[keep], lags[keep]
    counts = torch.bincount(bins, minlength=len(edges))
    gamma = torch.zeros(len(edges), dtype=DT).scatter_add(0, bins, semivar) / counts.clamp_min(1)
    centres = torch.zeros(len(edges), dtype=DT).scatter_add_(0, bins, lag_kept) / counts.clamp_min(
        1
    )
    report["variogram"] = {
        "counts": counts.tolist(),
        "gamma": r(gamma[:6], 4),
        "dtype": str(counts.dtype),
    }

    log_params = torch.tensor([-3.0, 0.0, 0.0], dtype=DT, requires_grad=True)
    optimizer = torch.optim.Adam([log_params], lr=0.1)
    weights = counts.to(DT) / counts.sum()
    for step in range(60):
        optimizer.zero_grad()
        nugget, sill, length = log_params.exp().unbind()
        loss = (weights * (exponential_variogram(centres, nugget, sill, length) - gamma) ** 2).sum()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            report["losses"].append(round(loss.item(), 8))
    nugget, sill, length = log_params.detach().exp().unbind()
    report["fit"] = r(log_params.exp(), 4)

    sites = torch.tensor([[1.0, 1.0], [3.0, 2.5], [5.0, 4.0], [2.2, 5.1]], dtype=DT)
    K = matern1(torch.cdist(stations, stations), sill, length) + nugget * torch.eye(60, dtype=DT)
    k_star = matern1(
        torch.cdist(sites, stations, compute_mode="donot_use_mm_for_euclid_dist"), sill, length
    )
    border = torch.ones(60, 1, dtype=DT)
    system = torch.cat(
        [torch.cat([K, border], 1), torch.cat([border.T, torch.zeros(1, 1, dtype=DT)], 1)]
    )
    rhs = torch.cat([k_star, torch.ones(4, 1, dtype=DT)], 1)
    solution = torch.linalg.solve(system.expand(4, 61, 61), rhs)
    weights_ok = solution[:, :60]
    prediction = weights_ok @ values
    variance = sill + nugget - (solution * rhs).sum(1)
    report["kriging"] = {
        "prediction": r(prediction, 4),
        "truth": r(field(sites), 4),
        "variance": r(variance, 5),
        "weights_sum": r(weights_ok.sum(1), 8),
        "k0": r(torch.special.modified_bessel_k0(torch.tensor([0.5, 2.0], dtype=DT)), 6),
    }

    inv = torch.linalg.inv(K)
    loo = values - (inv @ values) / inv.diagonal()
    report["loo_rmse"] = round(torch.sqrt(((loo - values) ** 2).mean()).item(), 5)
    manhattan = torch.cdist(sites, stations[:5], p=1)
    chebyshev = torch.cdist(sites, stations[:5], p=float("inf"))
    report["distances"] = {
        "manhattan": r(manhattan[0], 4),
        "chebyshev": r(chebyshev[0], 4),
        "mm_agrees": bool(
            torch.allclose(
                torch.cdist(sites, stations, compute_mode="use_mm_for_euclid_dist"),
                torch.cdist(sites, stations),
            )
        ),
    }

    directions = (torch.linspace(0, 2 * math.pi, 50, dtype=DT) * 7.1) % (2 * math.pi)
    directions = 0.8 + 0.6 * torch.sin(directions)
    log_kappa = torch.tensor(0.0, dtype=DT, requires_grad=True)
    mu = torch.tensor(0.5, dtype=DT, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_kappa, mu], max_iter=20, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        kappa = log_kappa.exp()
        log_norm = math.log(2 * math.pi) + torch.log(torch.special.i0e(kappa)) + kappa
        nll = -(kappa * torch.cos(directions - mu) - log_norm).mean()
        nll.backward()
        return nll

    report["losses"].append(round(optimizer.step(closure).item(), 7))
    kappa = log_kappa.exp()
    mean_resultant = torch.special.i1e(kappa) / torch.special.i0e(kappa)
    report["von_mises"] = {
        "kappa": round(kappa.item(), 4),
        "mu": round(mu.item(), 4),
        "resultant_matches": bool(
            abs(mean_resultant.item() - torch.cos(directions - mu).mean().item()) < 1e-4
        ),
    }
    torch.save({"log_params": log_params.detach(), "kappa": kappa.detach()}, args.checkpoint)
    report["state"] = sorted(torch.load(args.checkpoint))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
