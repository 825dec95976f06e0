"""Numerical linear algebra and nonparametric statistics as scientific-computing code writes
them in PyTorch: a 2-D grid Laplacian assembled as `torch.sparse_coo_tensor` (duplicates
summed by `coalesce`), applied with `torch.sparse.mm` and converted `to_sparse_csr`; conjugate
gradients in tensor ops, wrapped in a `torch.autograd.Function` whose backward solves the
adjoint system (implicit differentiation of the solution with respect to a diffusion
coefficient, checked against autograd through a dense solve and the unrolled iteration); Lanczos
tridiagonalisation with full reorthogonalisation, its Ritz values by `torch.linalg.eigvalsh`
of a `torch.diag_embed` matrix against `torch.linalg.eigvalsh` of the dense operator;
stochastic Lanczos quadrature for log det with Rademacher probes; a Chebyshev expansion
(`torch.special.chebyshev_polynomial_t`) of the heat kernel applied by the three-term
recurrence; Gauss-Hermite and Gauss-Legendre nodes from the Golub-Welsch eigenproblem checked
with `torch.special.hermite_polynomial_h` / `legendre_polynomial_p`; kernel density estimation
with `torch.logsumexp`, a Silverman bandwidth from `torch.quantile`, `torch.kthvalue`
k-nearest-neighbour densities, and a bandwidth chosen by leave-one-out likelihood with LBFGS.
Run: python krylov_sparse_kde.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch

DTYPE = torch.float64
SIDE = 8


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().flatten().tolist()]


def laplacian(coefficient):
    """-div(k grad u) on a SIDE x SIDE grid with Dirichlet walls, as a sparse COO matrix whose
    entries are accumulated edge by edge (so duplicates must be coalesced)."""
    n = SIDE * SIDE
    index = torch.arange(n).view(SIDE, SIDE)
    k_flat = coefficient.flatten()
    rows, cols, vals, ends = [], [], [], []
    for a, b in ((index[:, :-1], index[:, 1:]), (index[:-1, :], index[1:, :])):
        a, b = a.flatten(), b.flatten()
        k = 0.5 * (k_flat[a] + k_flat[b])
        rows += [a, b, a, b]
        cols += [a, b, b, a]
        vals += [k, k, -k, -k]
        ends += [a, b]
    ends = torch.cat(ends)
    neighbours = torch.zeros(n, dtype=k_flat.dtype).index_add_(
        0, ends, torch.ones_like(ends, dtype=k_flat.dtype)
    )
    rows.append(torch.arange(n))
    cols.append(torch.arange(n))
    vals.append(k_flat * (4 - neighbours))  # the missing neighbours are walls at zero
    indices = torch.stack([torch.cat(rows), torch.cat(cols)])
    return torch.sparse_coo_tensor(indices, torch.cat(vals), (n, n))


def conjugate_gradient(matvec, b, iters=60, tol=1e-12):
    x = torch.zeros_like(b)
    residual = b - matvec(x)
    direction = residual.clone()
    rr = residual @ residual
    history = []
    for _ in range(iters):
        Ad = matvec(direction)
        alpha = rr / (direction @ Ad)
        x = x + alpha * direction
        residual = residual - alpha * Ad
        rr_new = residual @ residual
        history.append(rr_new.sqrt().item())
        if rr_new.sqrt() < tol:
            break
        direction = residual + (rr_new / rr) * direction
        rr = rr_new
    return x, history


class SparseSolve(torch.autograd.Function):
    """x = A(values)^-1 b by CG; the backward solves A^T lambda = g (A is symmetric)."""

    @staticmethod
    def forward(ctx, values, indices, b):
        A = torch.sparse_coo_tensor(indices, values, (b.shape[0], b.shape[0])).coalesce()
        x, _ = conjugate_gradient(lambda v: torch.sparse.mm(A, v[:, None]).squeeze(1), b)
        ctx.save_for_backward(indices, x)
        ctx.A = A
        return x

    @staticmethod
    def backward(ctx, g):
        indices, x = ctx.saved_tensors
        lam, _ = conjugate_gradient(lambda v: torch.sparse.mm(ctx.A, v[:, None]).squeeze(1), g)
        grad_values = -lam[indices[0]] * x[indices[1]]
        return grad_values, None, lam


def lanczos(matvec, v0, steps):
    Q = [v0 / v0.norm()]
    alphas, betas = [], []
    for j in range(steps):
        w = matvec(Q[-1])
        alpha = Q[-1] @ w
        basis = torch.stack(Q)
        w = w - basis.T @ (basis @ w)
        w = w - basis.T @ (basis @ w)
        alphas.append(alpha)
        if j < steps - 1:
            beta = w.norm()
            betas.append(beta)
            Q.append(w / beta)
    T = torch.diag_embed(torch.stack(alphas))
    off = torch.diag_embed(torch.stack(betas), offset=1)
    return T + off + off.T, torch.stack(Q)


def golub_welsch(off_diagonal, weight_total):
    """Gauss nodes and weights from the Jacobi matrix of a family of orthogonal polynomials."""
    J = torch.diag_embed(off_diagonal, offset=1) + torch.diag_embed(off_diagonal, offset=-1)
    nodes, vectors = torch.linalg.eigh(J)
    return nodes, weight_total * vectors[0] ** 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(13)
    report = {"library": torch.__name__}
    n = SIDE * SIDE
    grid = torch.arange(n, dtype=DTYPE)
    coefficient = (1.0 + 0.5 * torch.sin(grid * 0.3)).view(SIDE, SIDE)
    if args.deterministic:
        rhs = torch.cos(grid * 0.7)
        # Rows of the 64 x 64 Walsh-Hadamard matrix: (-1) ** popcount(i & j).
        bits = torch.bitwise_and(torch.arange(1, 9)[:, None] * 7, torch.arange(n)[None, :])
        parity = sum((bits >> b) & 1 for b in range(6)) % 2
        probes = (1 - 2 * parity).to(DTYPE)
        # Normal quantiles at stratified levels: a sample with no ties, in a scrambled order.
        levels = (torch.arange(100, dtype=DTYPE) * 37 % 100 + 0.5) / 100
        normal = torch.special.ndtri(levels)
        samples = torch.cat([normal[:60] - 1, 0.5 * normal[60:] + 1.5])
    else:
        rhs = torch.randn(n, dtype=DTYPE)
        probes = torch.randint(0, 2, (8, n)).to(DTYPE) * 2 - 1
        samples = torch.cat(
            [torch.randn(60, dtype=DTYPE) - 1, 0.5 * torch.randn(40, dtype=DTYPE) + 1.5]
        )

    A = laplacian(coefficient)
    A_c = A.coalesce()
    dense = A.to_dense()
    csr = A_c.to_sparse_csr()
    matvec = lambda v: torch.sparse.mm(A_c, v[:, None]).squeeze(1)  # noqa: E731
    report["sparse"] = {
        "nnz_raw": A._nnz(),
        "nnz": A_c._nnz(),
        "coalesced": [A.is_coalesced(), A_c.is_coalesced()],
        "symmetric": bool(torch.equal(dense, dense.T)),
        "csr_rows": r(csr.crow_indices()[:6], 0),
        "csr_matches": bool(torch.allclose(csr.to_dense(), dense)),
        "row_sums": r(torch.sparse.sum(A_c, dim=1).to_dense()[:5]),
        "layout": str(csr.layout),
        "csr_matvec": bool(torch.allclose(csr @ rhs, dense @ rhs)),
    }

    # Conjugate gradients against a dense solve.
    x, history = conjugate_gradient(matvec, rhs)
    report["cg"] = {
        "iterations": len(history),
        "residuals": r(torch.tensor(history[:5]), 5),
        "error": bool(torch.allclose(x, torch.linalg.solve(dense, rhs), atol=1e-9)),
    }

    # Implicit differentiation through the solve, against autograd through a dense solve and
    # through the unrolled CG iteration (which stops early, so its derivative is not exact).
    values = A_c.values().clone().requires_grad_(True)
    solution = SparseSolve.apply(values, A_c.indices(), rhs)
    (implicit,) = torch.autograd.grad((solution**2).sum(), values)
    values2 = A_c.values().clone().requires_grad_(True)
    A2 = torch.sparse_coo_tensor(A_c.indices(), values2, (n, n))
    exact_solution = torch.linalg.solve(A2.to_dense(), rhs)
    (through,) = torch.autograd.grad((exact_solution**2).sum(), values2)
    A3 = torch.sparse_coo_tensor(A_c.indices(), values2, (n, n))
    unrolled, _ = conjugate_gradient(lambda v: torch.sparse.mm(A3, v[:, None]).squeeze(1), rhs)
    (unrolled_grad,) = torch.autograd.grad((unrolled**2).sum(), values2)
    report["implicit"] = {
        "grad_head": r(implicit[:4], 5),
        "unrolled_gap_small": bool((unrolled_grad - through).abs().max() < 0.1),
        "agree": bool(torch.allclose(implicit, through, rtol=1e-8, atol=1e-10)),
    }

    # Lanczos: the extreme Ritz values converge to the extreme eigenvalues.
    T, Q = lanczos(matvec, torch.ones(n, dtype=DTYPE), 20)
    ritz = torch.linalg.eigvalsh(T)
    exact = torch.linalg.eigvalsh(dense)
    report["lanczos"] = {
        "orthogonal": bool(torch.allclose(Q @ Q.T, torch.eye(20, dtype=DTYPE), atol=1e-10)),
        "extremes": r(torch.stack([ritz[-1], exact[-1]]), 6),
        "top_error_small": bool((ritz[-1] - exact[-1]).abs() < 1e-3),
    }

    # Stochastic Lanczos quadrature for log det A with Rademacher probes.
    estimates = []
    for z in probes:
        T, _ = lanczos(matvec, z, 15)
        theta, vecs = torch.linalg.eigh(T)
        estimates.append(n * (vecs[0] ** 2 * theta.log()).sum())
    slq = torch.stack(estimates)
    report["logdet"] = {
        "exact": round(torch.logdet(dense).item(), 5),
        "slq_mean": round(slq.mean().item(), 3),
        "slq_std": round(slq.std().item(), 3),
    }

    # Chebyshev expansion of exp(-t A) applied to a vector.
    lmax = exact[-1].item() * 1.01
    order, t = 30, 0.1
    nodes = torch.cos(math.pi * (torch.arange(order, dtype=DTYPE) + 0.5) / order)
    k = torch.arange(order, dtype=DTYPE)
    f_nodes = torch.exp(-t * (nodes + 1) * lmax / 2)
    basis = torch.special.chebyshev_polynomial_t(nodes[:, None], k[None, :])
    coeffs = 2 / order * (basis * f_nodes[:, None]).sum(0)
    coeffs[0] /= 2
    scaled = lambda v: 2 / lmax * matvec(v) - v  # noqa: E731
    T_prev, T_cur = rhs, scaled(rhs)
    heat = coeffs[0] * T_prev + coeffs[1] * T_cur
    for j in range(2, order):
        T_prev, T_cur = T_cur, 2 * scaled(T_cur) - T_prev
        heat = heat + coeffs[j] * T_cur
    reference = torch.linalg.matrix_exp(-t * dense) @ rhs
    report["chebyshev"] = {
        "heat": r(heat[:4], 6),
        "error_small": bool((heat - reference).abs().max() < 1e-8),
    }

    # Gauss quadrature rules by Golub-Welsch, checked against the polynomial families.
    m = 6
    j = torch.arange(1, m, dtype=DTYPE)
    gh_nodes, gh_weights = golub_welsch(torch.sqrt(j / 2), math.sqrt(math.pi))
    gl_nodes, gl_weights = golub_welsch(j / torch.sqrt(4 * j**2 - 1), 2.0)
    report["quadrature"] = {
        "hermite_roots": bool(torch.special.hermite_polynomial_h(gh_nodes, m).abs().max() < 1e-6),
        "legendre_roots": bool(
            torch.special.legendre_polynomial_p(gl_nodes, m).abs().max() < 1e-10
        ),
        "gauss_hermite_x4": round((gh_weights * gh_nodes**4).sum().item(), 10),
        "gauss_legendre_cos": round((gl_weights * torch.cos(gl_nodes)).sum().item(), 10),
        "legendre_weights": r(gl_weights, 8),
    }

    # Kernel density estimation: Silverman's rule, kNN densities, and LOO bandwidth by LBFGS.
    iqr = torch.quantile(samples, 0.75) - torch.quantile(samples, 0.25)
    silverman = 0.9 * torch.minimum(samples.std(), iqr / 1.34) * len(samples) ** -0.2
    grid_x = torch.linspace(-3, 3, 7, dtype=DTYPE)

    def log_kde(x, data, h):
        z = (x[:, None] - data[None, :]) / h
        return (
            torch.logsumexp(-0.5 * z**2, dim=1)
            - math.log(len(data))
            - torch.log(h * math.sqrt(2 * math.pi))
        )

    distances = (grid_x[:, None] - samples[None, :]).abs()
    kth = torch.kthvalue(distances, 5, dim=1)
    knn_density = 5 / (len(samples) * 2 * kth.values)
    log_h = torch.log(silverman).clone().requires_grad_(True)
    lbfgs = torch.optim.LBFGS([log_h], lr=1, max_iter=20, line_search_fn="strong_wolfe")
    mask = ~torch.eye(len(samples), dtype=torch.bool)
    losses = []

    def closure():
        lbfgs.zero_grad()
        h = log_h.exp()
        z = (samples[:, None] - samples[None, :]) / h
        logk = (-0.5 * z**2).masked_fill(~mask, float("-inf"))
        loo = (
            torch.logsumexp(logk, dim=1)
            - math.log(len(samples) - 1)
            - torch.log(h * math.sqrt(2 * math.pi))
        )
        loss = -loo.mean()
        loss.backward()
        losses.append(round(loss.item(), 8))
        return loss

    for _ in range(2):
        lbfgs.step(closure)
    report["losses"] = losses[:12]
    report["kde"] = {
        "silverman": round(silverman.item(), 6),
        "quantiles": r(torch.quantile(samples, torch.tensor([0.1, 0.5, 0.9], dtype=DTYPE)), 6),
        "median_lower": round(samples.median().item(), 6),
        "density": r(log_kde(grid_x, samples, silverman).exp(), 5),
        "knn": r(knn_density, 5),
        "kth_index": kth.indices.tolist(),
        "bandwidth": round(log_h.exp().item(), 5),
    }
    torch.save({"laplacian": A_c, "solution": x}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["saved"] = [
        str(state["laplacian"].layout),
        state["laplacian"]._nnz(),
        list(state["solution"].shape),
    ]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
