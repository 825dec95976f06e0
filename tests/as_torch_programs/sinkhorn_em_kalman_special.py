"""Optimal transport and classical statistics as research notebooks write them in PyTorch:
entropic optimal transport by log-domain Sinkhorn (`torch.cdist` costs, `torch.logsumexp`
updates, the transport plan's marginals, a differentiable Sinkhorn divergence whose gradient
moves a point cloud), a Gaussian mixture fitted by EM with responsibilities from
`MultivariateNormal.log_prob` and `torch.softmax`, the model wrapped as
`MixtureSameFamily(Categorical, MultivariateNormal)` (log_prob, mean, variance, sample shapes),
a Kalman filter and RTS smoother with `torch.linalg.cholesky`, `torch.cholesky_solve` and
`torch.linalg.solve_triangular` whose log-likelihood is differentiated with respect to the
noise scales, and the `torch.special` functions statisticians use (`erf`, `erfinv`, `ndtr`,
`ndtri`, `log_ndtr`, `gammaln`, `digamma`, `i0e`, `xlogy`, `entr`, `logit`, `expit`,
`multigammaln`), checked by `torch.trapezoid` / `cumulative_trapezoid` integrals.
Run: python sinkhorn_em_kalman_special.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal


def r(t, n=6):
    return [round(v, n) for v in torch.as_tensor(t).detach().flatten().tolist()]


def sinkhorn(x, y, eps, iters=200):
    """Log-domain Sinkhorn between uniform point clouds: (cost, log plan)."""
    cost = torch.cdist(x, y) ** 2
    log_a = torch.full((x.shape[0],), -math.log(x.shape[0]), dtype=x.dtype)
    log_b = torch.full((y.shape[0],), -math.log(y.shape[0]), dtype=x.dtype)
    f = torch.zeros_like(log_a)
    g = torch.zeros_like(log_b)
    for _ in range(iters):
        f = -eps * torch.logsumexp((g[None, :] - cost) / eps + log_b[None, :], dim=1)
        g = -eps * torch.logsumexp((f[:, None] - cost) / eps + log_a[:, None], dim=0)
    log_plan = (f[:, None] + g[None, :] - cost) / eps + log_a[:, None] + log_b[None, :]
    return (log_plan.exp() * cost).sum(), log_plan


def em_gmm(data, k, iters):
    n, d = data.shape
    means = data[torch.linspace(0, n - 1, k).long()].clone()
    covs = torch.eye(d, dtype=data.dtype).repeat(k, 1, 1)
    weights = torch.full((k,), 1.0 / k, dtype=data.dtype)
    lls = []
    for _ in range(iters):
        log_p = MultivariateNormal(means, covariance_matrix=covs).log_prob(data[:, None, :])
        joint = log_p + weights.log()
        lls.append(round(torch.logsumexp(joint, 1).mean().item(), 8))
        resp = torch.softmax(joint, dim=1)
        nk = resp.sum(0)
        weights = nk / n
        means = (resp.T @ data) / nk[:, None]
        centered = data[None] - means[:, None]
        covs = torch.einsum("nk,kni,knj->kij", resp, centered, centered) / nk[:, None, None]
        covs = covs + 1e-6 * torch.eye(d, dtype=data.dtype)
    return weights, means, covs, lls


def kalman(ys, q_scale, r_scale, F, H):  # noqa: N803 - the state-space names
    """Filter and RTS smoother for x' = F x + w, y = H x + v; returns (loglik, smoothed)."""
    d = F.shape[0]
    Q = q_scale**2 * torch.eye(d, dtype=F.dtype)
    R = r_scale**2 * torch.eye(H.shape[0], dtype=F.dtype)
    m = torch.zeros(d, dtype=F.dtype)
    P = torch.eye(d, dtype=F.dtype)
    loglik = 0.0
    means, covs, preds = [], [], []
    for y in ys:
        m_pred, P_pred = F @ m, F @ P @ F.T + Q
        S = H @ P_pred @ H.T + R
        L = torch.linalg.cholesky(S)
        resid = y - H @ m_pred
        white = torch.linalg.solve_triangular(L, resid[:, None], upper=False)
        loglik = loglik - 0.5 * (
            white.pow(2).sum() + 2 * L.diagonal().log().sum() + len(y) * math.log(2 * math.pi)
        )
        gain = torch.cholesky_solve(H @ P_pred, L).T
        m = m_pred + gain @ resid
        P = P_pred - gain @ S @ gain.T
        means.append(m)
        covs.append(P)
        preds.append((m_pred, P_pred))
    smoothed = [means[-1]]
    m_s, P_s = means[-1], covs[-1]
    for t in range(len(ys) - 2, -1, -1):
        m_pred, P_pred = preds[t + 1]
        G = torch.linalg.solve(P_pred, F @ covs[t]).T
        m_s = means[t] + G @ (m_s - m_pred)
        P_s = covs[t] + G @ (P_s - P_pred) @ G.T
        smoothed.append(m_s)
    return loglik, torch.stack(smoothed[::-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}
    dt = torch.float64

    # Optimal transport between two clouds, and a gradient flow of the first toward the second.
    u = torch.linspace(0, 2 * math.pi, 12, dtype=dt)
    x = torch.stack([u.cos(), u.sin()], 1)
    y = torch.stack([1.5 * u.cos() + 2, 0.5 * u.sin()], 1)[:10]
    if not args.deterministic:
        x = x + 0.01 * torch.randn_like(x)
    cost, log_plan = sinkhorn(x, y, eps=0.1)
    plan = log_plan.exp()
    report["ot"] = {
        "cost": round(cost.item(), 6),
        "row_sums": r(plan.sum(1)[:3]),
        "col_sums": r(plan.sum(0)[:3]),
        "argmax": plan.argmax(1).tolist(),
    }
    cloud = x.clone().requires_grad_()
    opt = torch.optim.SGD([cloud], lr=0.5)
    for _ in range(5):
        opt.zero_grad()
        loss = sinkhorn(cloud, y, eps=0.1, iters=50)[0] - 0.5 * (
            sinkhorn(cloud, cloud, eps=0.1, iters=50)[0] + sinkhorn(y, y, eps=0.1, iters=50)[0]
        )
        loss.backward()
        opt.step()
        report["losses"].append(round(loss.item(), 8))

    # EM for a Gaussian mixture, then the fitted model as a MixtureSameFamily.
    t = torch.linspace(0, 1, 60, dtype=dt)
    centers = torch.tensor([[0.0, 0.0], [3.0, 1.0], [-2.0, 2.5]], dtype=dt)
    data = centers[torch.arange(60) % 3] + 0.4 * torch.stack(
        [torch.sin(37 * t), torch.cos(53 * t)], 1
    )
    weights, means, covs, lls = em_gmm(data, 3, 15)
    report["losses"] += [-v for v in lls[-3:]]
    mix = MixtureSameFamily(Categorical(probs=weights), MultivariateNormal(means, covs))
    report["gmm"] = {
        "weights": r(weights.sort().values, 5),
        "means": r(means[means[:, 0].argsort()], 5),
        "log_prob": r(mix.log_prob(centers), 5),
        "mean": r(mix.mean, 5),
        "variance": r(mix.variance, 5),
        "sample_shape": list(mix.sample((4, 2)).shape),
        "batch_event": [list(mix.batch_shape), list(mix.event_shape)],
        "precision": r(mix.component_distribution.precision_matrix.sum((-2, -1)).sort().values, 5),
        "repr": repr(mix).splitlines()[0],
    }

    # Per-point log densities of each component by vmap over the distributions' constructor.
    per_point = torch.func.vmap(lambda m, c: MultivariateNormal(m, scale_tril=c).log_prob(centers))(
        means, torch.linalg.cholesky(covs)
    )
    report["gmm"]["vmapped_log_prob"] = r(per_point.sort(0).values, 4)
    report["gmm"]["normal_vmap"] = r(
        torch.func.vmap(lambda v: torch.distributions.Normal(v, 1.0).log_prob(v.flip(0)))(data[:3])
    )

    # Kalman filter for a constant-velocity model; gradient of the likelihood in the noise scales.
    F = torch.tensor([[1.0, 0.1], [0.0, 1.0]], dtype=dt)
    H = torch.tensor([[1.0, 0.0]], dtype=dt)
    ts = torch.arange(30, dtype=dt) * 0.1
    ys = (torch.sin(ts) + 0.1 * torch.cos(7 * ts)).unsqueeze(1)
    q = torch.tensor(0.3, dtype=dt, requires_grad=True)
    rr = torch.tensor(0.2, dtype=dt, requires_grad=True)
    loglik, smooth = kalman(ys, q, rr, F, H)
    gq, gr = torch.autograd.grad(loglik, (q, rr))
    report["kalman"] = {
        "loglik": round(loglik.item(), 6),
        "grads": [round(gq.item(), 6), round(gr.item(), 6)],
        "smoothed": r(smooth[::6, 0], 5),
    }

    # torch.special, checked by quadrature.
    z = torch.linspace(-3, 3, 601, dtype=dt)
    p = torch.special.ndtr(z)
    pdf = torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    cdf_quad = torch.cumulative_trapezoid(pdf, z)
    a = torch.tensor([0.5, 1.0, 2.5, 7.0], dtype=dt)
    probs = torch.tensor([0.0, 0.1, 0.5, 0.9], dtype=dt)
    report["special"] = {
        "ndtri_ndtr": bool(torch.allclose(torch.special.ndtri(p[100:500]), z[100:500], atol=1e-8)),
        "erfinv": r(torch.special.erfinv(torch.erf(a / 4))),
        "log_ndtr": r(torch.special.log_ndtr(torch.tensor([-10.0, -1.0, 0.0, 5.0], dtype=dt))),
        "gammaln": r(torch.special.gammaln(a)),
        "digamma": r(torch.special.digamma(a)),
        "i0e": r(torch.special.i0e(a)),
        "xlogy": r(torch.special.xlogy(probs, probs)),
        "entr": r(torch.special.entr(probs)),
        "logit": r(torch.special.logit(probs[1:])),
        "expit": r(torch.special.expit(a)),
        "multigammaln": round(torch.special.multigammaln(a[-1], 3).item(), 6),
        "quad_vs_ndtr": round((cdf_quad[-1] - (p[-1] - p[0])).abs().item(), 10),
        "trapezoid": round(torch.trapezoid(pdf, z).item(), 8),
        "trapezoid_dx": round(torch.trapezoid(pdf, dx=0.01).item(), 8),
    }
    a_req = a.clone().requires_grad_()
    (g_special,) = torch.autograd.grad(
        (torch.special.gammaln(a_req) * torch.special.i0e(a_req)).sum()
        + torch.special.entr(a_req / 10).sum(),
        a_req,
    )
    report["special"]["grad"] = r(g_special)
    torch.save({"means": means, "covs": covs, "weights": weights}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
