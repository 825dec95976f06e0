"""Special functions, quadrature and classical optimisation, as numerical-analysis notebooks
write them in PyTorch: Gauss-Legendre and Gauss-Hermite rules by the Golub-Welsch algorithm
(`torch.linalg.eigh` of the Jacobi matrix) checked on polynomials and on integrals with closed
forms in `torch.special` (`erf`, `gammaln`, `bessel_j0` through its integral representation);
orthogonal polynomial families (`chebyshev_polynomial_t/u`, `hermite_polynomial_h/he`,
`legendre_polynomial_p`, `laguerre_polynomial_l`) against their recurrences and their
orthogonality under the rules; Bessel functions (`bessel_j0/j1/y0/y1`, `modified_bessel_i0/i1/
k0/k1`, `scaled_modified_bessel_k0/k1`, `spherical_bessel_j0`, `i0`, `i1`, `i1e`) and
`airy_ai`; `polygamma`, `zeta`, `digamma`, `lgamma`, `gammainc` / `gammaincc`, `erfcx`,
`xlog1py`, `log1p`, `expm1`, `exp2`, `sinc`, `logit(eps=)` with the gradients PyTorch defines
(and the `RuntimeError` for those it does not); `torch.optim.LBFGS(line_search_fn=
"strong_wolfe", history_size=...)` on the Rosenbrock function, its state dict (`n_iter`,
`func_evals`); projected gradient descent with `clamp_` for non-negative least squares and a
box-constrained fit; and a maximum-likelihood Gamma fit by Newton's method on the shape, whose
update uses `digamma` and `polygamma(1, .)`.
Run: python special_quadrature_optimization.py CHECKPOINT [--deterministic].
"""

import argparse
import json
import math

import torch


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def golub_welsch(off_diagonal, diagonal, mass):
    """Nodes and weights of the Gauss rule whose Jacobi matrix has these entries."""
    J = torch.diag(diagonal) + torch.diag(off_diagonal, 1) + torch.diag(off_diagonal, -1)
    nodes, vectors = torch.linalg.eigh(J)
    return nodes, mass * vectors[0] ** 2


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(23)
    report = {"library": torch.__name__}
    f64 = torch.float64

    # Gauss-Legendre (weight 1 on [-1, 1]) and Gauss-Hermite (weight exp(-x^2)).
    k = torch.arange(1, 12, dtype=f64)
    legendre_x, legendre_w = golub_welsch(
        k / torch.sqrt(4 * k**2 - 1), torch.zeros(12, dtype=f64), 2.0
    )
    hermite_x, hermite_w = golub_welsch(
        torch.sqrt(k / 2), torch.zeros(12, dtype=f64), math.sqrt(math.pi)
    )
    theta_x = (legendre_x + 1) * math.pi / 2  # [0, pi]
    j0_integral = (legendre_w * torch.cos(3.0 * torch.sin(theta_x))).sum() / 2
    report["quadrature"] = [
        r(legendre_x[-3:], 8),
        r(legendre_w[-3:], 8),
        round((legendre_w * legendre_x**10).sum().item(), 10),
        round((legendre_w * torch.exp(legendre_x)).sum().item(), 10),
        round((hermite_w * hermite_x**4).sum().item(), 10),
        round((hermite_w * torch.cos(hermite_x)).sum().item(), 10),
        round(j0_integral.item() - torch.special.bessel_j0(torch.tensor(3.0, dtype=f64)).item(), 9),
        round(
            (
                (legendre_w * torch.exp(-(legendre_x**2))).sum()
                - math.sqrt(math.pi) * torch.special.erf(torch.tensor(1.0, dtype=f64))
            ).item(),
            9,
        ),
    ]

    # Orthogonal polynomials: recurrences, orthogonality, and values on a grid.
    x = torch.linspace(-0.9, 0.9, 5, dtype=f64)
    n = torch.tensor(4, dtype=f64)
    T = torch.special.chebyshev_polynomial_t(x, n)
    U = torch.special.chebyshev_polynomial_u(x, n)
    P = torch.special.legendre_polynomial_p(legendre_x[:, None], torch.arange(5, dtype=f64))
    H = torch.special.hermite_polynomial_h(hermite_x[:, None], torch.arange(4, dtype=f64))
    He = torch.special.hermite_polynomial_he(x, 3)
    L = torch.special.laguerre_polynomial_l(x.abs(), 3)
    gram_P = P.T @ (legendre_w[:, None] * P)
    gram_H = H.T @ (hermite_w[:, None] * H)
    report["polynomials"] = [
        r(T, 6),
        bool(torch.allclose(T, torch.cos(4 * torch.acos(x)))),
        r(U, 6),
        r(gram_P.diagonal(), 6),
        round((gram_P - torch.diag(gram_P.diagonal())).abs().max().item(), 10),
        r(gram_H.diagonal() / math.sqrt(math.pi), 4),
        r(He, 6),
        r(L, 6),
        str(torch.special.legendre_polynomial_p(torch.tensor([0.5]), 2).dtype),
    ]

    # Bessel and Airy functions on a grid.
    z = torch.tensor([0.1, 1.0, 2.5, 7.0], dtype=f64)
    sp = torch.special
    report["bessel"] = {
        name: r(getattr(sp, name)(z), 6)
        for name in (
            "bessel_j0",
            "bessel_j1",
            "bessel_y0",
            "bessel_y1",
            "modified_bessel_i0",
            "modified_bessel_i1",
            "modified_bessel_k0",
            "modified_bessel_k1",
            "scaled_modified_bessel_k0",
            "scaled_modified_bessel_k1",
            "spherical_bessel_j0",
            "i0",
            "i0e",
            "i1",
            "i1e",
            "airy_ai",
        )
    }

    # Gamma-family functions and their gradients.
    a = torch.tensor([0.5, 1.5, 3.0, 7.5], dtype=f64, requires_grad=True)
    values = [
        torch.special.polygamma(1, a),
        torch.special.polygamma(3, a),
        torch.special.digamma(a),
        torch.lgamma(a),
        torch.special.zeta(a + 1.0, torch.tensor(2.0, dtype=f64)),
        torch.special.gammainc(a.detach(), torch.tensor(2.0, dtype=f64)),
        torch.special.gammaincc(a.detach(), torch.tensor(2.0, dtype=f64)),
        torch.special.erfcx(a),
        torch.special.xlog1py(a, a - 0.4),
        torch.special.log1p(a) - torch.expm1(a / 8) + torch.exp2(a),
        torch.special.sinc(a),
        torch.special.logit(a / 8, eps=0.1),
    ]
    grads = []
    for v in values:
        if v.requires_grad:
            try:
                grads.append(r(torch.autograd.grad(v.sum(), a)[0], 5))
            except (RuntimeError, NotImplementedError) as error:
                grads.append(type(error).__name__)
    report["gamma_family"] = [[r(v.detach(), 6) for v in values], grads]
    missing = []
    for fn in (
        lambda t: torch.special.bessel_j0(t),
        lambda t: torch.special.zeta(t, torch.tensor(2.0, dtype=f64)),
        lambda t: torch.special.gammainc(t, torch.tensor(2.0, dtype=f64)),
        lambda t: torch.special.gammainc(torch.tensor(2.0, dtype=f64), t),
    ):
        try:
            out = fn(a + 1.0)
            missing.append(r(torch.autograd.grad(out.sum(), a)[0], 5))
        except (RuntimeError, NotImplementedError) as error:
            kind = "NotImplementedError" if isinstance(error, NotImplementedError) else "Runtime"
            missing.append([kind, str(error).split(": ")[-1][:30]])
    report["gradients_pytorch_lacks"] = missing

    # L-BFGS with a strong Wolfe line search on the Rosenbrock valley.
    point = torch.tensor([-1.2, 1.0], dtype=f64, requires_grad=True)
    lbfgs = torch.optim.LBFGS(
        [point],
        lr=1,
        max_iter=50,
        history_size=7,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-9,
        tolerance_change=1e-12,
    )
    losses = []

    def closure():
        lbfgs.zero_grad()
        value = rosenbrock(point)
        value.backward()
        return value

    for _ in range(3):
        losses.append(lbfgs.step(closure).item())
    state = lbfgs.state_dict()["state"][0]
    report["lbfgs"] = [
        r(point.detach(), 6),
        int(state["n_iter"]),
        int(state["func_evals"]),
        len(state["old_dirs"]),
        sorted(state),
    ]

    # Projected gradient: non-negative least squares and a box-constrained fit.
    grid = torch.linspace(0, 1, 25, dtype=f64)
    basis = torch.stack([torch.exp(-((grid - c) ** 2) / 0.02) for c in (0.2, 0.5, 0.8)], 1)
    target = basis @ torch.tensor([1.0, 0.0, 0.5], dtype=f64) - 0.1 * grid
    coef = torch.full((3,), 0.3, dtype=f64, requires_grad=True)
    box = torch.zeros(2, dtype=f64, requires_grad=True)
    sgd = torch.optim.SGD([coef, box], lr=0.1, momentum=0.5)
    for _ in range(40):
        sgd.zero_grad()
        fit_loss = (basis @ coef - target).pow(2).sum() + (
            box - torch.tensor([2.0, -3.0], dtype=f64)
        ).pow(2).sum()
        fit_loss.backward()
        sgd.step()
        with torch.no_grad():
            coef.clamp_(min=0)
            box.clamp_(-1.0, 1.0)
        losses.append(fit_loss.item())
    report["projected"] = [r(coef.detach(), 4), r(box.detach(), 4)]

    # Gamma maximum likelihood: Newton on the shape with digamma and trigamma.
    if args.deterministic:
        u = (torch.arange(1, 41, dtype=f64) - 0.5) / 40
        data = 2.0 * (-torch.log1p(-u)) + 0.5 * u**2  # a skewed positive sample
    else:
        data = torch.distributions.Gamma(3.0, 1.5).sample((40,)).double()
    s = math.log(data.mean().item()) - data.log().mean().item()
    shape = torch.tensor((3 - s + math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s), dtype=f64)
    for _ in range(5):
        numerator = torch.log(shape) - torch.special.digamma(shape) - s
        shape = shape - numerator / (1 / shape - torch.special.polygamma(1, shape))
    gamma = torch.distributions.Gamma(shape, shape / data.mean())
    report["gamma_mle"] = [round(shape.item(), 6), round(gamma.log_prob(data).sum().item(), 5)]
    report["losses"] = losses
    torch.save({"point": point.detach(), "lbfgs": lbfgs.state_dict()}, args.checkpoint)
    loaded = torch.load(args.checkpoint)
    report["saved"] = [sorted(loaded), sorted(loaded["lbfgs"]["param_groups"][0])]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
