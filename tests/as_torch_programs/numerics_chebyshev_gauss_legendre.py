"""Numerical analysis as spectral-methods code writes it in PyTorch: Chebyshev collocation
(nodes by `torch.cos`, the differentiation matrix from `torch.outer` with its diagonal set by
`torch.diag_embed`) solving a two-point boundary value problem u'' = f, with the forcing's
parameters fitted by autograd through `torch.linalg.solve`; Gauss-Legendre nodes and weights by
`torch.linalg.eigh` of the Jacobi matrix (`torch.diag(..., diagonal=1)`), checked against
`torch.trapezoid(x=)` and `torch.cumulative_trapezoid`; polynomial least squares with
`torch.vander(increasing=True)` and `torch.linalg.lstsq(driver="gelsd")`; roots of unity by
`torch.polar`, a companion matrix's roots by `torch.linalg.eigvals`; and tail probabilities by
`torch.special.erfcx` / `ndtri` / `log_ndtr` / `xlog1py`, `torch.frexp` / `torch.ldexp` /
`torch.nextafter` at the floating-point edges.
Run: python numerics_chebyshev_gauss_legendre.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch

DT = torch.float64


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


def chebyshev(n):
    """Chebyshev-Gauss-Lobatto nodes x_j = cos(pi j / n) and the collocation derivative."""
    j = torch.arange(n + 1, dtype=DT)
    x = torch.cos(math.pi * j / n)
    c = torch.where((j == 0) | (j == n), 2.0, 1.0) * (-1.0) ** j
    dx = x[:, None] - x[None, :] + torch.eye(n + 1, dtype=DT)
    off = torch.outer(c, 1 / c) / dx
    D = off - torch.diag_embed(off.sum(1))
    return x, D


def gauss_legendre(n):
    """Golub-Welsch: the nodes are the Jacobi matrix's eigenvalues, weights 2 v_0^2."""
    k = torch.arange(1, n, dtype=DT)
    beta = k / torch.sqrt(4 * k**2 - 1)
    J = torch.diag(beta, diagonal=1) + torch.diag(beta, diagonal=-1)
    nodes, vectors = torch.linalg.eigh(J)
    return nodes, 2 * vectors[0] ** 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)
    report = {"library": torch.__name__, "losses": []}

    # u'' = f on [-1, 1], u(+-1) = 0; fit f = a exp(b x) so that u(0.3) hits a target.
    x, D = chebyshev(16)
    D2 = (D @ D)[1:-1, 1:-1]
    u_exact = torch.sin(math.pi * x) * (1 - x**2)
    report["cheb_derivative_err"] = (D @ torch.exp(x) - torch.exp(x)).abs().max().item() < 1e-9
    params = torch.tensor([1.0, 0.5], dtype=DT, requires_grad=True)
    target = torch.tensor(-0.2, dtype=DT)
    optimizer = torch.optim.LBFGS([params], lr=0.5, max_iter=8, line_search_fn="strong_wolfe")
    probe = torch.tensor([0.3], dtype=DT)
    for _ in range(3):

        def closure():
            optimizer.zero_grad()
            a, b = params.unbind()
            u = torch.zeros_like(x).index_put(
                (torch.arange(1, 16),), torch.linalg.solve(D2, a * torch.exp(b * x[1:-1]))
            )
            # barycentric interpolation to the probe point
            w = torch.where((torch.arange(17) == 0) | (torch.arange(17) == 16), 0.5, 1.0)
            w = w * (-1.0) ** torch.arange(17, dtype=DT)
            terms = w / (probe[:, None] - x[None, :])
            value = (terms * u).sum(1) / terms.sum(1)
            loss = (value - target).pow(2).sum() + 1e-3 * params.square().sum()
            loss.backward()
            return loss

        report["losses"].append(round(optimizer.step(closure).item(), 8))
    report["forcing"] = r(params, 4)
    bvp = torch.linalg.solve(D2, (D @ D @ u_exact)[1:-1])
    report["bvp_err"] = round((bvp - u_exact[1:-1]).abs().max().item(), 10)

    # Gauss-Legendre against trapezoid rules.
    nodes, weights = gauss_legendre(8)
    report["gl_nodes"] = r(nodes, 10)
    report["gl_weights_sum"] = round(weights.sum().item(), 12)
    f = lambda t: torch.exp(-(t**2)) * torch.cos(3 * t)  # noqa: E731
    exact_ish = (weights * f(nodes)).sum()
    grid = torch.linspace(-1, 1, 201, dtype=DT)
    trap = torch.trapezoid(f(grid), x=grid)
    cumulative = torch.cumulative_trapezoid(f(grid), dx=grid[1] - grid[0])
    stacked = torch.trapezoid(torch.stack([f(grid), grid**2]), grid, dim=-1)
    report["quadrature"] = r([exact_ish, trap, cumulative[-1], stacked[1]], 8)
    report["cumulative_shape"] = list(cumulative.shape)
    scale = torch.tensor(2.0, dtype=DT, requires_grad=True)
    g = torch.autograd.grad((weights * f(scale * nodes)).sum(), scale)[0]
    report["dscale"] = round(g.item(), 8)

    # Polynomial least squares: Vandermonde and lstsq drivers.
    t = torch.linspace(0, 1, 25, dtype=DT)
    noise = 0.01 * torch.sin(40 * t) if args.deterministic else 0.01 * torch.randn(25, dtype=DT)
    y = 1 - 2 * t + 3 * t**3 + noise
    V = torch.vander(t, N=4, increasing=True)
    coef = torch.linalg.lstsq(V, y[:, None], driver="gelsd")
    coef_qr = torch.linalg.lstsq(V, y, driver="gelsy")
    report["vander"] = [list(V.shape), r(V[3], 6), r(torch.vander(t[:3]), 6)]
    report["lstsq"] = [r(coef.solution, 5), int(coef.rank), r(coef.singular_values, 4)]
    report["lstsq_gelsy"] = [r(coef_qr.solution, 5), list(coef_qr.solution.shape)]

    # Roots: polar roots of unity and a companion matrix's eigenvalues.
    k = torch.arange(6, dtype=DT)
    roots = torch.polar(torch.ones(6, dtype=DT), 2 * math.pi * k / 6)
    report["unity"] = [str(roots.dtype), round((roots**6 - 1).abs().max().item(), 10)]
    companion = torch.zeros(3, 3, dtype=DT)
    companion[1:, :-1] = torch.eye(2, dtype=DT)
    companion[:, -1] = torch.tensor([6.0, -11.0, 6.0], dtype=DT)  # (z-1)(z-2)(z-3)
    eig = torch.linalg.eigvals(companion)
    report["companion"] = [str(eig.dtype), r(torch.sort(eig.real).values, 8)]

    # Tails and floating-point edges.
    z = torch.tensor([-30.0, -5.0, 0.0, 2.0, 10.0, 40.0], dtype=DT, requires_grad=True)
    tails = torch.special.log_ndtr(z) + torch.special.erfcx(z.abs()).log()
    (g_tail,) = torch.autograd.grad(tails.sum(), z)
    report["tails"] = [r(tails, 6), r(g_tail, 6)]
    p = torch.tensor([1e-10, 0.025, 0.5, 0.975], dtype=DT)
    report["ndtri"] = r(torch.special.ndtri(p), 8)
    xlog1py = torch.special.xlog1py(torch.tensor([0.0, 2.0]), torch.tensor([-1.0, 3.0]))
    report["xlog1py"] = r(xlog1py)
    mantissa, exponent = torch.frexp(torch.tensor([0.0, 1.0, -12.5, 1e-30]))
    report["frexp"] = [r(mantissa), exponent.tolist(), str(exponent.dtype)]
    report["ldexp"] = r(torch.ldexp(mantissa, exponent), 8)
    one = torch.ones(2, dtype=torch.float32)
    report["nextafter"] = (torch.nextafter(one, one * 2) - one).tolist()

    torch.save({"nodes": nodes, "weights": weights, "coef": coef.solution}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
