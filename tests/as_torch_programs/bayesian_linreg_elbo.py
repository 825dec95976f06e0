"""Bayesian linear regression by variational inference, as probabilistic-ML course notebooks
write it with torch.distributions: a full-covariance Gaussian posterior over the weights as
`MultivariateNormal(loc, scale_tril=...)` built from an unconstrained matrix with
`torch.tril` + `softplus` of the diagonal (`transform_to(constraints.lower_cholesky)` checked
against it), a reparameterised ELBO with `rsample((S,))`, the analytic `kl_divergence` to the
prior (and to a `LowRankMultivariateNormal` prior), a noise scale with a `LogNormal`
posterior, the exact conjugate posterior (`torch.linalg.solve`, `cholesky_inverse`) to compare
against; `TransformedDistribution` with `ExpTransform` / `AffineTransform` /
`SigmoidTransform` / `ComposeTransform` and their `log_abs_det_jacobian`, `Independent`,
`MixtureSameFamily` of 2-D Gaussians, `Gamma`, `Beta`, `Dirichlet`, `Poisson`, `entropy`,
`mean`/`variance`/`stddev`, `covariance_matrix`, `precision_matrix`, `expand`,
`ExponentialFamily`, and KL terms between families (Normal || Laplace, Gamma || Exponential,
Beta || Uniform, ...).
Run: python bayesian_linreg_elbo.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.distributions as D
import torch.nn.functional as F
from torch.distributions import constraints, transforms


def r(values, digits=5):
    return [
        round(v, digits) for v in torch.as_tensor(values, dtype=torch.float64).flatten().tolist()
    ]


class Posterior(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.loc = torch.nn.Parameter(torch.zeros(dim))
        self.raw_tril = torch.nn.Parameter(torch.zeros(dim, dim))
        self.noise_loc = torch.nn.Parameter(torch.tensor(-1.0))
        self.noise_log_scale = torch.nn.Parameter(torch.tensor(-2.0))

    def scale_tril(self):
        strict = torch.tril(self.raw_tril, diagonal=-1)
        return strict + torch.diag_embed(F.softplus(torch.diagonal(self.raw_tril)) * 0.3)

    def weights(self):
        return D.MultivariateNormal(self.loc, scale_tril=self.scale_tril())

    def noise(self):
        return D.LogNormal(self.noise_loc, self.noise_log_scale.exp())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(2)
    n, dim = 40, 3
    if args.deterministic:
        X = torch.stack(
            [torch.ones(n), torch.linspace(-1, 1, n), torch.cos(torch.arange(n) * 0.9)], 1
        )
        noise = 0.2 * torch.sin(torch.arange(n) * 1.7)
    else:
        X = torch.cat([torch.ones(n, 1), torch.randn(n, dim - 1)], 1)
        noise = 0.2 * torch.randn(n)
    w_true = torch.tensor([0.5, -1.0, 2.0])
    y = X @ w_true + noise

    prior = D.MultivariateNormal(torch.zeros(dim), covariance_matrix=torch.eye(dim))
    q = Posterior(dim)
    optimizer = torch.optim.Adam(q.parameters(), lr=0.05)
    losses = []
    for step in range(25):
        optimizer.zero_grad()
        qw, qs = q.weights(), q.noise()
        if args.deterministic:
            eps_w = torch.sin(torch.arange(8 * dim, dtype=torch.float32) + step).view(8, dim)
            w = qw.loc + eps_w @ qw.scale_tril.T
            sigma = (qs.loc + qs.scale * torch.cos(torch.arange(8.0) + step)).exp()
        else:
            w, sigma = qw.rsample((8,)), qs.rsample((8,))
        likelihood = D.Normal(w @ X.T, sigma.unsqueeze(-1))
        expected_ll = likelihood.log_prob(y).sum(-1).mean()
        kl = D.kl_divergence(qw, prior) + D.kl_divergence(qs, D.LogNormal(0.0, 1.0))
        loss = -(expected_ll - kl)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    report = {"library": torch.__name__, "losses": losses}

    # Exact conjugate posterior for a known noise level, to compare the variational mean.
    with torch.no_grad():
        beta = 1 / 0.2**2
        precision = torch.eye(dim) + beta * X.T @ X
        L = torch.linalg.cholesky(precision)
        cov = torch.cholesky_inverse(L)
        mean = beta * torch.linalg.solve(precision, X.T @ y)
        exact = D.MultivariateNormal(mean, precision_matrix=precision)
        report["exact_mean"] = r(mean, 4)
        report["exact_cov_diag"] = r(torch.diagonal(exact.covariance_matrix) * 1e3, 4) + r(
            cov.diag() * 1e3, 4
        )
        report["exact_entropy"] = round(exact.entropy().item(), 4)
        qw = q.weights()
        report["kl_q_exact"] = round(D.kl_divergence(qw, exact).item(), 3)
        low_rank = D.LowRankMultivariateNormal(
            torch.zeros(dim), cov_factor=X[:2].T * 0.1, cov_diag=torch.ones(dim)
        )
        report["low_rank"] = [
            round(D.kl_divergence(qw, low_rank).item(), 4),
            r(low_rank.covariance_matrix.diagonal(), 5),
            round(low_rank.log_prob(w_true).item(), 5),
            round(low_rank.entropy().item(), 5),
            list(low_rank.batch_shape),
            list(low_rank.event_shape),
        ]
        report["precision"] = r(qw.precision_matrix.diagonal(), 2)
        lower = transforms.LowerCholeskyTransform()(q.raw_tril)
        report["lower_cholesky"] = [
            bool(constraints.lower_cholesky.check(q.scale_tril()).item()),
            bool(torch.equal(lower, D.transform_to(constraints.lower_cholesky)(q.raw_tril))),
            list(q.weights().rsample((4, 2)).shape),
        ]

    # Transformed and composite distributions.
    log_normal = D.TransformedDistribution(D.Normal(0.0, 0.5), [transforms.ExpTransform()])
    scaled = D.TransformedDistribution(
        D.Uniform(torch.zeros(2), torch.ones(2)),
        transforms.ComposeTransform(
            [transforms.SigmoidTransform().inv, transforms.AffineTransform(1.0, 2.0)]
        ),
    )
    xs = torch.tensor([0.5, 1.0, 2.0])
    report["transformed"] = [
        r(log_normal.log_prob(xs)),
        r(D.LogNormal(0.0, 0.5).log_prob(xs)),
        r(scaled.log_prob(torch.tensor([0.0, 3.0]))),
        r(transforms.AffineTransform(1.0, 2.0).log_abs_det_jacobian(xs, 2 * xs + 1)),
        r(transforms.SigmoidTransform().log_abs_det_jacobian(xs, torch.sigmoid(xs))),
        str(scaled.support),
    ]
    mixture = D.MixtureSameFamily(
        D.Categorical(probs=torch.tensor([0.3, 0.7])),
        D.Independent(
            D.Normal(
                torch.tensor([[0.0, 0.0], [2.0, -1.0]]), torch.tensor([[1.0, 0.5], [0.3, 1.0]])
            ),
            1,
        ),
    )
    grid = torch.tensor([[0.0, 0.0], [2.0, -1.0], [1.0, 1.0]])
    report["mixture"] = [
        r(mixture.log_prob(grid)),
        r(mixture.mean),
        r(mixture.variance),
        list(mixture.batch_shape),
        list(mixture.event_shape),
    ]
    others = [
        D.Gamma(2.0, 3.0),
        D.Beta(2.0, 5.0),
        D.Poisson(3.5),
        D.Dirichlet(torch.tensor([1.0, 2.0, 3.0])),
    ]
    report["moments"] = [r(d.mean) + r(d.variance) for d in others]
    report["entropy"] = []
    for d in others:
        try:
            report["entropy"].append(r(d.entropy()))
        except NotImplementedError:  # Poisson has no closed form
            report["entropy"].append(type(d).__name__)
    report["log_probs"] = [
        round(others[0].log_prob(torch.tensor(0.7)).item(), 5),
        round(others[1].log_prob(torch.tensor(0.2)).item(), 5),
        round(others[2].log_prob(torch.tensor(2.0)).item(), 5),
        round(others[3].log_prob(torch.tensor([0.2, 0.3, 0.5])).item(), 5),
    ]
    expanded = D.Normal(torch.tensor(0.0), 1.0).expand([3, 2])
    report["expanded"] = [
        list(expanded.batch_shape),
        list(expanded.sample().shape),
        str(expanded.stddev.dtype),
    ]
    report["kl_gamma_beta"] = [
        round(D.kl_divergence(D.Gamma(2.0, 3.0), D.Gamma(1.0, 1.0)).item(), 5),
        round(D.kl_divergence(D.Beta(2.0, 5.0), D.Beta(1.0, 1.0)).item(), 5),
    ]
    # Priors of another family than the posterior: a Laplace (sparsity) prior on the weights'
    # marginals, an Exponential on a Gamma-distributed precision, a Uniform on a Beta.
    marginal = D.Normal(q.loc.detach(), q.scale_tril().detach().diagonal())
    report["kl_cross"] = [
        r(D.kl_divergence(marginal, D.Laplace(0.0, 1.0)), 5),
        round(D.kl_divergence(D.Gamma(3.0, 2.0), D.Exponential(0.5)).item(), 5),
        round(D.kl_divergence(D.Beta(2.0, 5.0), D.Uniform(0.0, 1.0)).item(), 5),
        round(D.kl_divergence(D.Uniform(-1.0, 1.0), D.Normal(0.0, 1.0)).item(), 5),
        D.kl_divergence(D.Normal(0.0, 1.0), D.Exponential(1.0)).item(),
    ]
    # Which families are exponential families (closed-form conjugate updates apply to them).
    families = [D.Normal(0.0, 1.0), D.Gamma(2.0, 1.0), D.Beta(2.0, 2.0), D.Poisson(1.0)]
    families += [D.Laplace(0.0, 1.0), D.StudentT(3.0), D.Dirichlet(torch.ones(3))]
    report["exp_family"] = [isinstance(d, D.ExponentialFamily) for d in families]
    torch.save(q.state_dict(), args.checkpoint)
    report["saved"] = sorted(torch.load(args.checkpoint).keys())
    print(json.dumps(report))


if __name__ == "__main__":
    main()
