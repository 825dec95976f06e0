"""Bayesian and frequentist uncertainty for a small classifier, as statistics notebooks write
them in PyTorch: mean-field variational inference for logistic regression (reparameterised
`Normal.rsample`, `torch.distributions.kl_divergence` against the prior, a probit-approximated
predictive with `torch.special.ndtr` and `expit`), per-example gradients by
`torch.func.vmap(torch.func.grad(...))` over `functional_call` for influence scores, a
Gauss-Newton Laplace posterior whose predictive variance comes from `torch.func.jacrev` and
`torch.cholesky_inverse`, split conformal prediction sets (`torch.quantile` with
`interpolation="higher"`, `torch.kthvalue`), calibration (`torch.bucketize`, `torch.histc`,
expected calibration error), a `torch.multinomial` bootstrap of the AUC computed by ranks
(`torch.argsort(stable=True)`), and `torch.special.log_ndtr` / `ndtri` / `erfcx` for tail
probabilities.
Run: python variational_logistic_conformal.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.distributions as D
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

DT = torch.float64


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def make_data(n, deterministic):
    u = torch.linspace(0, 1, n, dtype=DT)
    x = torch.stack([torch.sin(17 * u) * 2, torch.cos(29 * u) * 1.5, u * 2 - 1], 1)
    logits = 1.5 * x[:, 0] - 2.0 * x[:, 1] + 0.5
    flip = torch.sin(97 * u)
    if not deterministic:
        x = x + 0.05 * torch.randn_like(x)
        flip = torch.rand(n, dtype=DT) * 2 - 1
    y = ((torch.special.expit(logits) - 0.5) + 0.35 * flip > 0).to(DT)
    return x, y


def auc(scores, labels):
    order = torch.argsort(scores, stable=True)
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=scores.dtype)
    pos = labels.sum()
    neg = len(labels) - pos
    return (ranks[labels == 1].sum() - pos * (pos + 1) / 2) / (pos * neg)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}
    x, y = make_data(240, args.deterministic)
    train, calib, test = slice(0, 120), slice(120, 180), slice(180, 240)

    # Mean-field VI with a fixed set of standard-normal draws under --deterministic.
    prior = D.Normal(torch.zeros(4, dtype=DT), 2.0)
    mu = torch.zeros(4, dtype=DT, requires_grad=True)
    rho = torch.full((4,), -2.0, dtype=DT, requires_grad=True)
    eps = torch.sin(torch.arange(8 * 4, dtype=DT) * 1.3).reshape(8, 4)
    opt = torch.optim.Adam([mu, rho], lr=0.05)
    features = torch.cat([x, torch.ones(len(x), 1, dtype=DT)], 1)
    for step in range(60):
        q = D.Normal(mu, torch.nn.functional.softplus(rho))
        w = q.rsample((8,)) if not args.deterministic else mu + q.scale * eps
        log_lik = D.Bernoulli(logits=features[train] @ w.T).log_prob(y[train, None]).sum(0).mean()
        elbo = log_lik - D.kl_divergence(q, prior).sum()
        opt.zero_grad()
        (-elbo).backward()
        opt.step()
        if step % 15 == 14:
            report["losses"].append(round(-elbo.item(), 6))
    q = D.Normal(mu.detach(), torch.nn.functional.softplus(rho.detach()))
    mean_logit = features @ q.mean
    var_logit = (features**2) @ q.variance
    lam2 = math.pi / 8  # sigmoid(a) ~ ndtr(sqrt(pi / 8) a)
    probit = torch.special.ndtr(mean_logit * math.sqrt(lam2) / torch.sqrt(1 + lam2 * var_logit))
    moderated = torch.special.expit(mean_logit / torch.sqrt(1 + math.pi * var_logit / 8))
    report["vi"] = {
        "mu": r(q.mean, 4),
        "sd": r(q.stddev, 4),
        "kl": round(D.kl_divergence(q, prior).sum().item(), 5),
        "probit_vs_moderated": round((probit - moderated).abs().max().item(), 5),
    }

    # A logistic model as an nn.Module, fitted by LBFGS; per-example gradients by vmap(grad).
    model = nn.Linear(3, 1).double()
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    lbfgs = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=30, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        out = nn.functional.binary_cross_entropy_with_logits(model(x[train]).squeeze(-1), y[train])
        penalty = 0.5 * 0.01 * sum(p.pow(2).sum() for p in model.parameters())
        (out + penalty).backward()
        return out + penalty

    loss = lbfgs.step(closure)
    report["losses"].append(round(loss.item(), 6))
    params = {k: v.detach() for k, v in model.named_parameters()}

    def example_loss(p, xi, yi):
        logit = functional_call(model, p, (xi[None],)).squeeze()
        return nn.functional.binary_cross_entropy_with_logits(logit, yi)

    per_example = vmap(grad(example_loss), in_dims=(None, 0, 0))(params, x[train], y[train])
    flat = torch.cat([per_example["weight"].flatten(1), per_example["bias"]], 1)
    # Gauss-Newton Laplace: J^T diag(p(1-p)) J + prior precision, J from jacrev of the logits.
    logits_fn = lambda p: functional_call(model, p, (x,)).squeeze(-1)  # noqa: E731
    jac = jacrev(logits_fn)(params)
    J = torch.cat([jac["weight"].flatten(1), jac["bias"]], 1)
    p_hat = torch.sigmoid(logits_fn(params))
    ggn = J[train].T @ (J[train] * (p_hat[train] * (1 - p_hat[train]))[:, None]) + 0.01 * torch.eye(
        4, dtype=DT
    )
    cov = torch.cholesky_inverse(torch.linalg.cholesky(ggn))
    influence = flat @ torch.linalg.solve(ggn, flat.sum(0))
    pred_var = torch.einsum("ni,ij,nj->n", J[test], cov, J[test])
    report["laplace"] = {
        "grad_norm_top": r(flat.norm(dim=1).topk(3).values, 5),
        "influence_argmax": int(influence.argmax()),
        "pred_sd": r(pred_var.sqrt()[:4], 5),
        "cov_diag": r(cov.diagonal(), 5),
        "mean_grad": round(flat.mean(0).abs().max().item(), 5),
    }

    # Split conformal prediction sets for the classifier.
    with torch.no_grad():
        probs = torch.sigmoid(model(x).squeeze(-1))
    two_class = torch.stack([1 - probs, probs], 1)
    scores = 1 - two_class[calib].gather(1, y[calib].long()[:, None]).squeeze(1)
    alpha = 0.1
    level = math.ceil((len(scores) + 1) * (1 - alpha)) / len(scores)
    qhat = torch.quantile(scores, level, interpolation="higher")
    kth = torch.kthvalue(scores, math.ceil((len(scores) + 1) * (1 - alpha)))
    sets = two_class[test] >= 1 - qhat
    covered = sets.gather(1, y[test].long()[:, None]).squeeze(1)
    report["conformal"] = {
        "qhat": round(qhat.item(), 6),
        "kth": round(kth.values.item(), 6),
        "kth_index": int(kth.indices),
        "coverage": round(covered.double().mean().item(), 6),
        "set_sizes": torch.bincount(sets.sum(1), minlength=3).tolist(),
    }

    # Calibration: bins by bucketize, counts by histc, expected calibration error.
    edges = torch.linspace(0, 1, 6, dtype=DT)
    bins = torch.bucketize(probs, edges[1:-1], right=False)
    counts = torch.bincount(bins, minlength=5).to(DT)
    conf = torch.zeros(5, dtype=DT).index_add_(0, bins, probs) / counts.clamp(min=1)
    acc = torch.zeros(5, dtype=DT).index_add_(0, bins, y) / counts.clamp(min=1)
    report["calibration"] = {
        "counts": counts.tolist(),
        "histc": torch.histc(probs, bins=5, min=0, max=1).tolist(),
        "ece": round(((conf - acc).abs() * counts).sum().item() / len(probs), 6),
    }

    # Bootstrap the test AUC with multinomial resampling (its draws are library-specific, so
    # only the interval's shape and the point estimate are compared).
    point = auc(probs[test], y[test])
    boots = []
    for _ in range(30):
        idx = torch.multinomial(torch.ones(60, dtype=DT), 60, replacement=True)
        if y[test][idx].sum() in (0, 60):
            continue
        boots.append(auc(probs[test][idx], y[test][idx]))
    interval = torch.quantile(torch.stack(boots), torch.tensor([0.05, 0.95], dtype=DT))
    report["auc"] = {
        "point": round(point.item(), 6),
        "interval_shape": list(interval.shape),
        "ordered": bool(interval[0] <= interval[1]),
    }

    # Tail probabilities far past float underflow.
    z = torch.tensor([-40.0, -10.0, 0.0, 3.0], dtype=DT)
    report["tails"] = {
        "log_ndtr": r(torch.special.log_ndtr(z), 6),
        "via_erfcx": r(torch.log(0.5 * torch.special.erfcx(-z / math.sqrt(2))) - z**2 / 2, 6),
        "ndtri": r(torch.special.ndtri(torch.tensor([1e-10, 0.025, 0.5, 0.975], dtype=DT)), 6),
        "icdf": r(D.Normal(0.0, 1.0).icdf(torch.tensor([0.025, 0.975])), 5),
    }
    torch.save({"model": model.state_dict(), "mu": mu.detach()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = sorted(state["model"])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
