"""Bayesian inference by Hamiltonian Monte Carlo written by hand, as statistics and
physics-ML notebooks write it without Pyro: a logistic-regression posterior whose log density
adds `torch.distributions.Bernoulli(logits=...).log_prob` and a `Normal` prior, its gradient by
`torch.autograd.grad` inside leapfrog steps, Metropolis acceptance with `torch.rand` (fixed
uniforms and momenta under --deterministic), a warm-up that adapts the step size by dual
averaging in plain Python floats, unadjusted Langevin steps as a second sampler, a Laplace
approximation (the MAP found by `torch.optim.LBFGS`, the Hessian by
`torch.autograd.functional.hessian`, its inverse from `torch.linalg.cholesky` /
`cholesky_inverse`, `MultivariateNormal(precision_matrix=...)`), and the chains summarised as
scientists do: `torch.mean`/`std` per dimension, `torch.quantile` credible intervals,
autocorrelation by `torch.fft.rfft`, an effective sample size, `torch.histogramdd` of two
coordinates, `torch.cov`, `torch.corrcoef`, and `torch.linalg.matrix_rank(A, tol)`.
Run: python hmc_posterior_sampling.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.distributions as D


def r(values, digits=4):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


class Posterior:
    def __init__(self, x, y, prior_scale=2.0):
        self.x, self.y = x, y
        self.prior = D.Normal(torch.zeros(x.shape[1], dtype=x.dtype), prior_scale)

    def log_prob(self, w):
        likelihood = D.Bernoulli(logits=self.x @ w).log_prob(self.y).sum()
        return likelihood + self.prior.log_prob(w).sum()

    def grad(self, w):
        w = w.detach().requires_grad_(True)
        value = self.log_prob(w)
        (g,) = torch.autograd.grad(value, w)
        return value.detach(), g


def leapfrog(post, w, p, step, n_steps):
    _, g = post.grad(w)
    p = p + 0.5 * step * g
    for i in range(n_steps):
        w = w + step * p
        _, g = post.grad(w)
        if i < n_steps - 1:
            p = p + step * g
    p = p + 0.5 * step * g
    return w, p


def hmc(post, w0, n_samples, step, n_steps, momenta, uniforms, adapt=0):
    w, samples, accepted = w0.clone(), [], 0
    log_step, mean_log_step, h_bar, mu = math.log(step), 0.0, 0.0, math.log(10 * step)
    for i in range(n_samples):
        p0 = momenta[i]
        logp0, _ = post.grad(w)
        w_new, p_new = leapfrog(post, w, p0, step, n_steps)
        logp1, _ = post.grad(w_new)
        log_ratio = (logp1 - 0.5 * p_new.pow(2).sum()) - (logp0 - 0.5 * p0.pow(2).sum())
        accept_prob = min(1.0, math.exp(min(0.0, log_ratio.item())))
        if uniforms[i].item() < accept_prob:
            w, accepted = w_new, accepted + 1
        if i < adapt:  # dual averaging towards an acceptance rate of 0.8
            t = i + 1
            h_bar = (1 - 1 / (t + 10)) * h_bar + (0.8 - accept_prob) / (t + 10)
            log_step = mu - math.sqrt(t) / 0.05 * h_bar
            eta = t**-0.75
            mean_log_step = eta * log_step + (1 - eta) * mean_log_step
            step = math.exp(log_step)
        elif i == adapt and adapt:
            step = math.exp(mean_log_step)
        samples.append(w)
    return torch.stack(samples), accepted / n_samples, step


def autocorr_ess(chain):
    n = chain.shape[0]
    centred = chain - chain.mean(0)
    f = torch.fft.rfft(centred, n=2 * n, dim=0)
    acov = torch.fft.irfft(f * f.conj(), n=2 * n, dim=0)[:n]
    rho = acov / acov[0]
    first_negative = (rho < 0).int().argmax(0)
    ess = torch.stack(
        [n / (1 + 2 * rho[1 : max(int(k), 1), d].sum()) for d, k in enumerate(first_negative)]
    )
    return rho[1], ess


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(21)
    dtype = torch.float64
    n, dim = 60, 3
    grid = torch.arange(n, dtype=dtype)
    x = torch.stack([torch.ones(n, dtype=dtype), torch.sin(grid * 0.37), torch.cos(grid * 1.1)], 1)
    true_w = torch.tensor([0.5, 2.0, -1.0], dtype=dtype)
    if args.deterministic:
        y = (torch.sigmoid(x @ true_w) > 0.5 + 0.3 * torch.sin(grid * 2.3)).to(dtype)
        momenta = torch.sin(torch.arange(80 * dim, dtype=dtype) * 0.91).view(80, dim) * 1.3
        uniforms = (torch.cos(torch.arange(80, dtype=dtype) * 1.7) + 1) / 2
        noise = torch.sin(torch.arange(40 * dim, dtype=dtype) * 2.9).view(40, dim)
    else:
        y = torch.bernoulli(torch.sigmoid(x @ true_w))
        momenta, uniforms = torch.randn(80, dim, dtype=dtype), torch.rand(80, dtype=dtype)
        noise = torch.randn(40, dim, dtype=dtype)
    post = Posterior(x, y)

    # Laplace approximation around the MAP.
    w_map = torch.zeros(dim, dtype=dtype, requires_grad=True)
    lbfgs = torch.optim.LBFGS([w_map], lr=1, max_iter=50, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        loss = -post.log_prob(w_map)
        loss.backward()
        return loss

    losses = [lbfgs.step(closure).item()]
    losses.append(-post.log_prob(w_map).item())
    hess = torch.autograd.functional.hessian(lambda w: -post.log_prob(w), w_map.detach())
    chol = torch.linalg.cholesky(hess)
    cov = torch.cholesky_inverse(chol)
    laplace = D.MultivariateNormal(w_map.detach(), precision_matrix=hess)
    report = {"library": torch.__name__, "losses": losses}
    report["map"] = r(w_map.detach())
    report["laplace_sd"] = r(cov.diagonal().sqrt()) + r(laplace.stddev)
    report["laplace_lp"] = round(laplace.log_prob(true_w).item(), 4)

    # HMC with a step-size warm-up, then unadjusted Langevin.
    chain, acceptance, step = hmc(post, w_map.detach(), 80, 0.3, 5, momenta, uniforms, adapt=20)
    kept = chain[20:]
    report["hmc"] = {
        "acceptance": round(acceptance, 4),
        "step": round(step, 4),
        "mean": r(kept.mean(0), 3),
        "std": r(kept.std(0), 3),
    }
    report["interval"] = r(torch.quantile(kept, torch.tensor([0.05, 0.95], dtype=dtype), dim=0), 3)
    lag1, ess = autocorr_ess(kept)
    report["lag1"] = r(lag1, 3)
    report["ess"] = r(ess, 2)
    w, langevin = w_map.detach().clone(), []
    for i in range(40):
        _, g = post.grad(w)
        w = w + 0.01 * g + math.sqrt(2 * 0.01) * noise[i]
        langevin.append(w)
    langevin = torch.stack(langevin)
    report["langevin_mean"] = r(langevin.mean(0), 3)

    hist = torch.histogramdd(kept[:, 1:].float(), bins=[3, 2])
    report["hist"] = [
        hist.hist.tolist(),
        [e.shape[0] for e in hist.bin_edges],
        str(hist.hist.dtype),
    ]
    both = torch.cat([kept, langevin])
    report["cov"] = r(torch.cov(both.T), 4)
    report["corr"] = r(torch.corrcoef(both.T)[0], 4)
    report["rank"] = [
        torch.linalg.matrix_rank(cov, tol=1e-3).item(),
        torch.linalg.matrix_rank(cov, 0.5).item(),
    ]
    top = kept.topk(3, dim=0)
    report["top"] = [
        isinstance(top, torch.return_types.topk),
        r(top.values[0], 3),
        top.indices.shape[0],
    ]
    torch.save({"chain": kept, "step": step}, args.checkpoint)
    loaded = torch.load(args.checkpoint)
    report["saved"] = [list(loaded["chain"].shape), str(loaded["chain"].dtype)]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
