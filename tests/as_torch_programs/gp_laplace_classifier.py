"""Gaussian-process binary classification with the Laplace approximation (Rasmussen and
Williams, algorithms 3.1 and 3.2) as statisticians write it in PyTorch: an ARD squared
exponential kernel from `torch.cdist`, Newton iterations for the posterior mode with
B = I + W^1/2 K W^1/2 factored by `torch.linalg.cholesky` and solved by
`torch.linalg.solve_triangular` / `torch.cholesky_solve`, the approximate log marginal
likelihood (its log-determinant from the Cholesky diagonal, checked against `torch.logdet`
and `torch.linalg.slogdet`), the Hessian of the log-likelihood checked with
`torch.func.hessian`, hyperparameters fitted by Adam through the unrolled Newton steps, and
predictive probabilities by the probit approximation and by Monte Carlo from
`torch.distributions.Normal`, scored with `torch.distributions.Bernoulli`.
Run: python gp_laplace_classifier.py CHECKPOINT [--deterministic].
"""

import argparse
import json
import math

import torch
import torch.nn as nn


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def two_moons(n, deterministic):
    angle = torch.linspace(0, math.pi, n // 2, dtype=torch.float64)
    upper = torch.stack([angle.cos(), angle.sin()], 1)
    lower = torch.stack([1 - angle.cos(), 0.5 - angle.sin()], 1)
    x = torch.cat([upper, lower])
    jitter = (
        0.15 * torch.stack([torch.sin(7.1 * torch.arange(n)), torch.cos(3.3 * torch.arange(n))], 1)
        if deterministic
        else 0.15 * torch.randn(n, 2)
    )
    y = torch.cat([torch.ones(n // 2), torch.zeros(n // 2)]).double()
    return x + jitter.double(), y


class LaplaceGPC(nn.Module):
    def __init__(self):
        super().__init__()
        self.log_lengthscale = nn.Parameter(torch.zeros(2, dtype=torch.float64))
        self.log_outputscale = nn.Parameter(torch.tensor(0.0, dtype=torch.float64))

    def kernel(self, a, b):
        scale = self.log_lengthscale.exp()
        return self.log_outputscale.exp() * torch.exp(-0.5 * torch.cdist(a / scale, b / scale) ** 2)

    def mode(self, K, y, iterations=12):  # noqa: N803 - the textbook's name
        """Algorithm 3.1: Newton steps from f = 0 (differentiable: unrolled)."""
        f = torch.zeros_like(y)
        for _ in range(iterations):
            pi = torch.sigmoid(f)
            W = pi * (1 - pi)
            sqrt_w = W.sqrt()
            B = torch.eye(len(y), dtype=K.dtype) + sqrt_w[:, None] * K * sqrt_w[None, :]
            L = torch.linalg.cholesky(B)
            b = W * f + (y - pi)
            inner = torch.cholesky_solve((sqrt_w * (K @ b))[:, None], L)[:, 0]
            a = b - sqrt_w * inner
            f = K @ a
        return f, a, L, sqrt_w

    def log_marginal(self, x, y):
        K = self.kernel(x, x)
        f, a, L, sqrt_w = self.mode(K, y)
        log_lik = -torch.nn.functional.binary_cross_entropy_with_logits(f, y, reduction="sum")
        return -0.5 * (a * f).sum() + log_lik - L.diagonal().log().sum(), (f, L, sqrt_w, K)

    def predict(self, x, y, x_star, state):
        """Algorithm 3.2: latent mean and variance at x_star, then probabilities."""
        f, L, sqrt_w, _ = state
        k_star = self.kernel(x, x_star)
        mean = k_star.T @ (y - torch.sigmoid(f))
        v = torch.linalg.solve_triangular(L, sqrt_w[:, None] * k_star, upper=False)
        var = self.log_outputscale.exp() - (v * v).sum(0)
        probit = torch.sigmoid(mean / torch.sqrt(1 + math.pi * var / 8))
        return mean, var, probit


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(2)
    x, y = two_moons(40, args.deterministic)
    model = LaplaceGPC()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.08)
    losses = []
    for _ in range(25):
        optimizer.zero_grad()
        log_z, _ = model.log_marginal(x, y)
        (-log_z).backward()
        optimizer.step()
        losses.append(round(-log_z.item(), 5))

    log_z, state = model.log_marginal(x, y)
    f, L, sqrt_w, K = state
    B = torch.eye(len(y), dtype=K.dtype) + sqrt_w[:, None] * K * sqrt_w[None, :]
    x_star = torch.tensor([[0.0, 0.5], [1.0, 0.0], [0.5, 0.25], [2.5, 2.5]], dtype=torch.float64)
    with torch.no_grad():
        mean, var, probit = model.predict(x, y, x_star, state)
        draws = torch.distributions.Normal(mean, var.clamp(min=1e-12).sqrt()).sample((4000,))
        monte_carlo = torch.sigmoid(draws).mean(0)
    hessian = torch.func.hessian(
        lambda g: -torch.nn.functional.binary_cross_entropy_with_logits(g, y, reduction="sum")
    )(f.detach())
    train_prob = torch.sigmoid(f.detach())
    bernoulli = torch.distributions.Bernoulli(probs=train_prob)
    torch.save(model.state_dict(), args.checkpoint)
    restored = LaplaceGPC()
    restored.load_state_dict(torch.load(args.checkpoint))
    report = {
        "library": torch.__name__,
        "losses": losses,
        "hypers": r(torch.cat([model.log_lengthscale, model.log_outputscale[None]]).exp(), 4),
        "logdet_B": [
            round(2 * L.diagonal().log().sum().item(), 6),
            round(torch.logdet(B).item(), 6),
            r(torch.linalg.slogdet(B), 6),
        ],
        "hessian_is_minus_W": bool(torch.allclose(hessian, -torch.diag(sqrt_w.detach() ** 2))),
        "mean": r(mean, 4),
        "var": r(var, 4),
        "probit": r(probit, 4),
        "mc_close": bool((monte_carlo - probit).abs().max() < 0.03),
        "train_accuracy": ((train_prob > 0.5).double() == y).double().mean().item(),
        "log_prob": round(bernoulli.log_prob(y).sum().item(), 4),
        "restored": bool(torch.equal(restored.log_lengthscale, model.log_lengthscale)),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
