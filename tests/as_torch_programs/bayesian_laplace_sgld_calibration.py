"""Bayesian deep learning as uncertainty-quantification code writes it in PyTorch: a small MLP
classifier trained to its MAP; a last-layer Laplace approximation whose posterior precision is
the generalised Gauss-Newton (per-example softmax Hessians diag(p) - p p^T, built with
`torch.diag_embed` and `torch.einsum`) checked against `torch.autograd.functional.hessian` of
the log joint; the posterior predictive by Monte Carlo from
`torch.distributions.MultivariateNormal(covariance_matrix=)` (reparameterised samples under a
fixed generator) and by the probit approximation; SGLD (`torch.randn_like` noise scaled by the
step size) from the MAP with a `torch.distributions.Normal` prior; and expected calibration
error with `torch.bucketize` into confidence bins and `scatter_add` of accuracies, plus the
negative log-likelihood and Brier score of each predictive.
Run: python bayesian_laplace_sgld_calibration.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.functional import hessian

DT = torch.float64
PRIOR_PRECISION = 1.0


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


def make_data(n, offset):
    k = torch.arange(n, dtype=DT) + offset
    angle = k * 2.399963
    radius = 0.3 + (k * 0.618034) % 1.0
    labels = (k % 3).long()
    centre = torch.stack([torch.cos(labels * 2.094), torch.sin(labels * 2.094)], 1)
    x = centre + 0.6 * radius[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    return x, labels


def ece(probs, labels, n_bins=10):
    confidence, predicted = probs.max(1)
    correct = (predicted == labels).to(probs.dtype)
    bins = torch.bucketize(confidence, torch.linspace(0, 1, n_bins + 1, dtype=probs.dtype)[1:-1])
    count = torch.zeros(n_bins, dtype=probs.dtype).scatter_add(0, bins, torch.ones_like(confidence))
    acc = torch.zeros(n_bins, dtype=probs.dtype).scatter_add(0, bins, correct)
    conf = torch.zeros(n_bins, dtype=probs.dtype).scatter_add(0, bins, confidence)
    return ((acc - conf).abs() / len(labels))[count > 0].sum()


def scores(probs, labels):
    nll = F.nll_loss(probs.clamp_min(1e-12).log(), labels).item()
    brier = ((probs - F.one_hot(labels, 3).to(probs.dtype)) ** 2).sum(1).mean().item()
    return [round(nll, 5), round(brier, 5), round(ece(probs, labels).item(), 5)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    report = {"library": torch.__name__, "losses": []}
    x, y = make_data(90, 0)
    x_test, y_test = make_data(45, 1000)
    body = nn.Sequential(nn.Linear(2, 16), nn.Tanh()).double()
    head = nn.Linear(16, 3, bias=False).double()
    if args.deterministic:
        with torch.no_grad():
            for i, p in enumerate([*body.parameters(), *head.parameters()]):
                p.copy_(0.5 * torch.sin(torch.arange(p.numel(), dtype=DT) * 0.77 + i).view_as(p))
    params = [*body.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(params, lr=0.05)
    for step in range(80):
        optimizer.zero_grad()
        loss = F.cross_entropy(head(body(x)), y) + 0.5 * PRIOR_PRECISION * sum(
            (p**2).sum() for p in params
        ) / len(x)
        loss.backward()
        optimizer.step()
        if step % 20 == 0:
            report["losses"].append(round(loss.item(), 6))

    with torch.no_grad():
        features, features_test = body(x), body(x_test)
    w_map = head.weight.detach().flatten()
    probs = torch.softmax(features @ w_map.view(3, 16).T, 1)
    per_example = torch.diag_embed(probs) - probs[:, :, None] * probs[:, None, :]
    ggn = torch.einsum("nij,nk,nl->ikjl", per_example, features, features).reshape(48, 48)
    precision = ggn + PRIOR_PRECISION * torch.eye(48, dtype=DT)

    def log_joint(w):
        logits = features @ w.view(3, 16).T
        return F.cross_entropy(logits, y, reduction="sum") + 0.5 * PRIOR_PRECISION * (w**2).sum()

    exact = hessian(log_joint, w_map, vectorize=True)
    covariance = torch.cholesky_inverse(torch.linalg.cholesky(precision))
    posterior = torch.distributions.MultivariateNormal(w_map, covariance_matrix=covariance)
    report["laplace"] = {
        "ggn_is_hessian": bool(torch.allclose(exact, precision, atol=1e-8)),
        "logdet": round(torch.logdet(precision).item(), 4),
        "entropy": round(posterior.entropy().item(), 4),
        "log_prob_map": round(posterior.log_prob(w_map).item(), 4),
    }

    map_probs = torch.softmax(features_test @ w_map.view(3, 16).T, 1)
    eps = torch.sin(torch.arange(200 * 48, dtype=DT) * 1.618).view(200, 48) * math.sqrt(3)
    samples = w_map + eps @ posterior.scale_tril.T
    mc_probs = torch.softmax(
        torch.einsum("nd,skd->snk", features_test, samples.view(200, 3, 16)), 2
    ).mean(0)
    jac = torch.einsum("kc,nd->nkcd", torch.eye(3, dtype=DT), features_test).reshape(45, 3, 48)
    logit_var = torch.einsum("nkd,de,nke->nk", jac, covariance, jac)
    probit_probs = torch.softmax(
        (features_test @ w_map.view(3, 16).T) / torch.sqrt(1 + math.pi / 8 * logit_var), 1
    )
    rsample = posterior.rsample((4,))
    report["predictive"] = {
        "map": scores(map_probs, y_test),
        "mc": scores(mc_probs, y_test),
        "probit": scores(probit_probs, y_test),
        "rsample_shape": list(rsample.shape),
    }

    prior = torch.distributions.Normal(torch.zeros((), dtype=DT), torch.ones((), dtype=DT))
    w = w_map.clone().requires_grad_(True)
    step = 1e-3
    trace = []
    for t in range(40):
        logits = features @ w.view(3, 16).T
        potential = F.cross_entropy(logits, y, reduction="sum") - prior.log_prob(w).sum()
        (grad,) = torch.autograd.grad(potential, w)
        noise = (
            torch.randn_like(w)
            if not args.deterministic
            else torch.cos(torch.arange(48, dtype=DT) * (t + 1.3)) * math.sqrt(2)
        )
        with torch.no_grad():
            w -= 0.5 * step * grad
            w += math.sqrt(step) * noise
        trace.append(potential.item())
    report["losses"].append(round(trace[-1], 5))
    report["sgld"] = {"start": round(trace[0], 5), "drift": round(abs(w - w_map).max().item(), 5)}
    torch.save({"w_map": w_map, "covariance": covariance}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: list(v.shape) for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
