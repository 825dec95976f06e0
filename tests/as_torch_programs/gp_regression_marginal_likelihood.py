"""Gaussian-process regression written by hand in float64, as GP tutorials and papers' code
do it without GPyTorch: RBF and Matern-5/2 kernels from `torch.cdist` and by broadcasting,
log-hyperparameters as `nn.Parameter`s (`softplus` / `exp` to keep them positive), the
negative log marginal likelihood through `torch.linalg.cholesky`, `torch.cholesky_solve`,
`torch.linalg.solve_triangular` and the log-determinant from the Cholesky diagonal (checked
against `torch.logdet` and `torch.linalg.slogdet`), optimised with Adam then
`torch.optim.LBFGS(line_search_fn="strong_wolfe")`; predictive mean and variance at test
points, `torch.linalg.cholesky_ex` info on a jittered matrix, `torch.linalg.solve` and
`torch.linalg.inv` cross-checks, `MultivariateNormal(scale_tril=...)` log_prob of the
targets, and gradients of the predictive mean with respect to the inputs.
Run: python gp_regression_marginal_likelihood.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def rbf(x1, x2, lengthscale, outputscale):
    sq = torch.cdist(x1 / lengthscale, x2 / lengthscale).pow(2)
    return outputscale * torch.exp(-0.5 * sq)


def matern52(x1, x2, lengthscale, outputscale):
    diff = (x1.unsqueeze(-2) - x2.unsqueeze(-3)) / lengthscale
    r = diff.pow(2).sum(-1).clamp_min(1e-30).sqrt()
    s5 = math.sqrt(5.0) * r
    return outputscale * (1 + s5 + s5.pow(2) / 3) * torch.exp(-s5)


class ExactGP(nn.Module):
    def __init__(self, kernel):
        super().__init__()
        self.kernel = kernel
        self.raw_lengthscale = nn.Parameter(torch.zeros(2, dtype=torch.float64))
        self.log_outputscale = nn.Parameter(torch.tensor(0.0, dtype=torch.float64))
        self.raw_noise = nn.Parameter(torch.tensor(-2.0, dtype=torch.float64))

    def hypers(self):
        return (
            F.softplus(self.raw_lengthscale),
            self.log_outputscale.exp(),
            F.softplus(self.raw_noise) + 1e-6,
        )

    def nll(self, x, y):
        lengthscale, outputscale, noise = self.hypers()
        K = self.kernel(x, x, lengthscale, outputscale) + noise * torch.eye(len(x), dtype=x.dtype)
        L = torch.linalg.cholesky(K)
        alpha = torch.cholesky_solve(y.unsqueeze(-1), L)
        logdet = 2 * torch.log(torch.diagonal(L)).sum()
        n = len(x)
        return 0.5 * (y @ alpha.squeeze(-1)) + 0.5 * logdet + 0.5 * n * math.log(2 * math.pi), K

    def predict(self, x, y, x_star):
        lengthscale, outputscale, noise = self.hypers()
        K = self.kernel(x, x, lengthscale, outputscale) + noise * torch.eye(len(x), dtype=x.dtype)
        L = torch.linalg.cholesky(K)
        K_s = self.kernel(x, x_star, lengthscale, outputscale)
        v = torch.linalg.solve_triangular(L, K_s, upper=False)
        alpha = torch.cholesky_solve(y.unsqueeze(1), L)
        mean = (K_s.transpose(-1, -2) @ alpha).squeeze(1)
        var = outputscale - v.pow(2).sum(0) + noise
        return mean, var


def fit(model, x, y, deterministic):
    losses = []
    adam = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(15):
        adam.zero_grad()
        loss, _ = model.nll(x, y)
        loss.backward()
        adam.step()
        losses.append(round(loss.item(), 8))
    lbfgs = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=15, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        loss, _ = model.nll(x, y)
        loss.backward()
        return loss

    for _ in range(2):
        losses.append(round(lbfgs.step(closure).item(), 8))
    return losses


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)
    if args.deterministic:
        x = torch.stack([torch.linspace(-2, 2, 24), torch.cos(torch.arange(24.0))], 1).double()
        eps = 0.05 * torch.sin(torch.arange(24, dtype=torch.float64) * 2.3)
    else:
        x = torch.randn(24, 2, dtype=torch.float64)
        eps = 0.05 * torch.randn(24, dtype=torch.float64)
    y = torch.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2 + eps
    x_star = torch.linspace(-1.5, 1.5, 5, dtype=torch.float64).unsqueeze(1).repeat(1, 2)

    report = {"library": torch.__name__, "losses": []}
    for name, kernel in [("rbf", rbf), ("matern", matern52)]:
        model = ExactGP(kernel)
        report["losses"] += fit(model, x, y, args.deterministic)
        mean, var = model.predict(x, y, x_star)
        lengthscale, outputscale, noise = model.hypers()
        report[name] = {
            "mean": [round(v, 5) for v in mean.tolist()],
            "var": [round(v, 6) for v in var.detach().tolist()],
            "hypers": [
                round(v, 4) for v in lengthscale.tolist() + [outputscale.item(), noise.item()]
            ],
            "grad_fn": type(mean.grad_fn).__name__,
        }

    # Cross-checks of the linear algebra on the last kernel matrix.
    with torch.no_grad():
        _, K = model.nll(x, y)
        L = torch.linalg.cholesky(K)
        sign, logabsdet = torch.linalg.slogdet(K)
        chol_logdet = 2 * L.diagonal().log().sum()
        solve_err = (
            (torch.linalg.solve(K, y) - torch.cholesky_solve(y[:, None], L)[:, 0]).abs().max()
        )
        inv_err = (torch.linalg.inv(K) @ K - torch.eye(24, dtype=K.dtype)).abs().max()
        bad = K - 10 * torch.eye(24, dtype=K.dtype)
        _, info = torch.linalg.cholesky_ex(bad)
        dist = torch.distributions.MultivariateNormal(torch.zeros(24, dtype=K.dtype), scale_tril=L)
        report["linalg"] = {
            "logdet": [round(torch.logdet(K).item(), 6), round(logabsdet.item(), 6), sign.item()],
            "chol_logdet_matches": bool(torch.allclose(chol_logdet, logabsdet)),
            "solve_small": bool(solve_err < 1e-8),
            "inv_small": bool(inv_err < 1e-8),
            "info": [info.item(), str(info.dtype)],
            "mvn_log_prob": round(dist.log_prob(y).item(), 6),
            "L_upper_zero": bool(torch.equal(torch.triu(L, 1), torch.zeros_like(L))),
        }

    # Gradient of the predictive mean with respect to the test inputs.
    x_req = x_star.clone().requires_grad_(True)
    mean, _ = model.predict(x, y, x_req)
    (grad,) = torch.autograd.grad(mean.sum(), x_req)
    report["mean_grad"] = [round(v, 5) for v in grad.flatten().tolist()]
    torch.save(model.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
