"""Inverse problems and data analysis as numerical scientists write them in PyTorch:
deconvolution of a blurred signal by Tikhonov-regularised `torch.linalg.lstsq` and by a
truncated SVD (`torch.linalg.svd(full_matrices=False)`, `svdvals`, `pinv(rtol=...)`,
`matrix_rank`, `cond`), PCA by `eigh` and by `torch.pca_lowrank`-free centred SVD, a
Gram-Schmidt check with `torch.linalg.qr` (modes "reduced" and "r"), a linear ODE system
solved by `torch.linalg.matrix_exp` with its parameters recovered by gradient descent through
it, a heat-kernel graph Laplacian from `torch.cdist`, `torch.kron` for a 2-D separable
operator, `torch.einsum` contractions, `torch.trapezoid` / `cumulative_trapezoid` /
`cumsum` integrals, inverse-CDF sampling with `torch.searchsorted` and `torch.bucketize`,
`torch.histc`, `torch.quantile` / `nanquantile` with interpolation modes, `torch.diff`,
`vander`, `torch.linalg.norm` orders and `torch.linalg.vector_norm`; a constrained fit's KKT
system by `torch.linalg.ldl_factor_ex` / `ldl_solve`, and `matrix_rank(A, tol)` / `pinv(A,
rcond)` in their older positional forms.
Run: python inverse_problems_linalg.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def blur_matrix(n, width):
    idx = torch.arange(n, dtype=torch.float64)
    A = torch.exp(-0.5 * ((idx[:, None] - idx[None, :]) / width) ** 2)
    return A / A.sum(1, keepdim=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(13)
    report = {"library": torch.__name__}
    n = 40
    t = torch.linspace(0, 1, n, dtype=torch.float64)
    signal = (t > 0.3).double() - (t > 0.7).double() + 0.5 * torch.sin(6 * math.pi * t)
    A = blur_matrix(n, 2.0)
    noise = 1e-3 * (
        torch.sin(torch.arange(n) * 2.1).double()
        if args.deterministic
        else torch.randn(n, dtype=torch.float64)
    )
    b = A @ signal + noise

    # Tikhonov by stacking [A; lambda I] and least squares; truncated SVD; pseudo-inverse.
    lam = 0.05
    A_aug = torch.cat([A, lam * torch.eye(n, dtype=A.dtype)])
    b_aug = torch.cat([b, torch.zeros(n, dtype=b.dtype)])
    tik = torch.linalg.lstsq(A_aug, b_aug.unsqueeze(1)).solution.squeeze(1)
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    k = int((S > 1e-2 * S[0]).sum())
    tsvd = Vh[:k].T @ ((U[:, :k].T @ b) / S[:k])
    pinv = torch.linalg.pinv(A, rtol=1e-2) @ b
    report["deconv_err"] = r([(x - signal).norm() / signal.norm() for x in (tik, tsvd, pinv)], 4)
    report["svd"] = [k, r(S[:4], 5), bool(torch.allclose(S, torch.linalg.svdvals(A)))]
    report["rank_cond"] = [
        int(torch.linalg.matrix_rank(A, rtol=1e-6)),
        round(math.log10(torch.linalg.cond(A).item()), 3),
    ]
    lstsq = torch.linalg.lstsq(A_aug.float(), b_aug.float().unsqueeze(1))
    report["lstsq_fields"] = [
        str(lstsq.solution.dtype),
        list(lstsq.solution.shape),
        list(lstsq.residuals.shape),
        lstsq.rank.numel(),
    ]

    # PCA by eigh of the covariance and by SVD of the centred data.
    if args.deterministic:
        z = torch.stack([torch.sin(torch.arange(60) * 0.37), torch.cos(torch.arange(60) * 1.3)], 1)
    else:
        z = torch.randn(60, 2)
    data = (z @ torch.tensor([[3.0, 1.0, 0.0], [0.0, 0.5, 0.2]])).double()
    centred = data - data.mean(0)
    evals, evecs = torch.linalg.eigh(centred.T @ centred / (len(data) - 1))
    sv = torch.linalg.svdvals(centred)
    report["pca"] = [r(evals.flip(0), 4), r(sv**2 / (len(data) - 1), 4), r(evecs[:, -1].abs(), 4)]
    report["cov_matches"] = bool(torch.allclose(torch.cov(data.T), centred.T @ centred / 59))
    Q, R = torch.linalg.qr(data)
    R_only = torch.linalg.qr(data, mode="r")
    report["qr"] = [
        list(Q.shape),
        list(R.shape),
        bool(torch.allclose(Q.T @ Q, torch.eye(3, dtype=Q.dtype))),
        R_only.Q.numel(),
        r(R_only.R.diagonal().abs(), 3),
    ]

    # A linear ODE x' = M x with M recovered by gradient descent through matrix_exp.
    M_true = torch.tensor([[-0.5, 1.0], [-1.0, -0.2]], dtype=torch.float64)
    x0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    times = torch.linspace(0.2, 2.0, 8, dtype=torch.float64)
    observed = torch.matrix_exp(times[:, None, None] * M_true) @ x0
    M = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([M], lr=0.1)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        pred = torch.linalg.matrix_exp(times[:, None, None] * M) @ x0
        loss = (pred - observed).pow(2).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    report["losses"] = losses
    report["M"] = r(M.detach(), 4)

    # Graph Laplacian of points on a circle, its spectrum; a separable 2-D operator by kron.
    angles = torch.linspace(0, 2 * math.pi, 13)[:-1]
    pts = torch.stack([angles.cos(), angles.sin()], 1)
    W = torch.exp(-(torch.cdist(pts, pts) ** 2) / 0.5)
    W.fill_diagonal_(0)
    lap = torch.diag(W.sum(1)) - W
    report["laplacian"] = r(torch.linalg.eigvalsh(lap)[:4], 4)
    D1 = torch.diff(torch.eye(5), dim=0)
    lap2d = torch.kron(D1.T @ D1, torch.eye(5)) + torch.kron(torch.eye(5), D1.T @ D1)
    report["kron"] = [
        list(lap2d.shape),
        round(torch.linalg.eigvalsh(lap2d).max().item(), 4),
        r(torch.einsum("ij,jk,ki->", lap2d, lap2d, lap2d)),
    ]
    report["einsum"] = r(
        torch.einsum("bi,ij,bj->b", pts[:3], W[:2, :2], pts[:3])
        + torch.einsum("bi,bi->b", pts[:3], pts[:3])
    )

    # Integrals and inverse-CDF sampling.
    grid = torch.linspace(-4, 4, 81)
    density = torch.exp(-0.5 * grid**2) / math.sqrt(2 * math.pi)
    cdf = torch.cumulative_trapezoid(density, grid)
    cdf = torch.cat([torch.zeros(1), cdf]) / torch.trapezoid(density, grid)
    # not 0.5: the CDF of a symmetric density meets it at the middle grid point, where the
    # search turns on the last bit of a float32 sum (whose order is each library's own)
    u = torch.linspace(0.05, 0.95, 6) if args.deterministic else torch.rand(6)
    idx = torch.searchsorted(cdf, u)
    left = torch.searchsorted(cdf, u, right=True)
    buckets = torch.bucketize(torch.tensor([-5.0, -1.0, 0.0, 0.05, 3.0, 5.0]), grid)
    buckets_right = torch.bucketize(torch.tensor([-4.0, 0.0, 4.0]), grid, right=True)
    report["integrals"] = [
        round(torch.trapezoid(density, grid).item(), 6),
        round(torch.trapezoid(density, dx=0.1).item(), 6),
        r(torch.cumsum(density, 0)[::20] * 0.1, 5),
    ]
    report["search"] = [
        idx.tolist(),
        left.tolist(),
        buckets.tolist(),
        buckets_right.tolist(),
        str(idx.dtype),
        str(torch.searchsorted(cdf, u, out_int32=True).dtype),
    ]
    samples = grid[idx.clamp(max=len(grid) - 1)]
    values = torch.sin(torch.arange(200) * 0.71) * 3
    report["histc"] = [
        torch.histc(values, bins=6, min=-3, max=3).tolist(),
        torch.histc(values, bins=4).tolist(),
    ]
    q = torch.tensor([0.1, 0.5, 0.9])
    with_nan = torch.cat([values[:20], torch.tensor([float("nan")])])
    report["quantile"] = [
        r(torch.quantile(values, q, interpolation=mode), 4)
        for mode in ("linear", "lower", "higher", "midpoint", "nearest")
    ]
    report["quantile_dims"] = [
        list(torch.quantile(values.view(20, 10), q, dim=1, keepdim=True).shape),
        r(torch.nanquantile(with_nan, q), 4),
        bool(torch.quantile(with_nan, 0.5).isnan()),
    ]
    report["samples"] = r(samples, 3)

    # Polynomial fitting with vander and norms.
    xs = torch.linspace(-1, 1, 9, dtype=torch.float64)
    V = torch.vander(xs, N=4, increasing=True)
    coef = torch.linalg.lstsq(V, torch.cos(2 * xs)).solution
    report["poly"] = r(coef, 4)
    report["norms"] = [
        round(torch.linalg.norm(A, ord=o).item(), 4) for o in ("fro", "nuc", 2, -2, 1, float("inf"))
    ] + [
        round(torch.linalg.vector_norm(b, ord=o).item(), 4)
        for o in (0, 1, 3, float("inf"), -float("inf"))
    ]
    # An equality-constrained least-squares fit through its symmetric indefinite KKT system,
    # factored once by LDL^T (Bunch-Kaufman) and solved for two right-hand sides.
    constraint = torch.ones(1, 4, dtype=torch.float64)
    kkt = torch.cat(  # the multiplier first: a zero leading pivot, so a 2x2 block is needed
        [
            torch.cat([torch.zeros(1, 1, dtype=torch.float64), constraint], 1),
            torch.cat([constraint.T, V.T @ V], 1),
        ]
    )
    rhs = torch.stack(
        [
            torch.cat([torch.ones(1, dtype=torch.float64), V.T @ torch.cos(2 * xs)]),
            torch.cat([torch.zeros(1, dtype=torch.float64), V.T @ torch.sin(xs)]),
        ],
        1,
    )
    LD, pivots, info = torch.linalg.ldl_factor_ex(kkt)
    kkt_solution = torch.linalg.ldl_solve(LD, pivots, rhs)
    report["kkt"] = [pivots.tolist(), info.item(), r(kkt_solution, 4), str(pivots.dtype)]
    report["old_tolerances"] = [
        int(torch.linalg.matrix_rank(A, 1e-3)),
        round(torch.linalg.pinv(A, 1e-2).norm().item(), 3),
    ]
    torch.save({"M": M.detach(), "cdf": cdf}, args.checkpoint)
    report["saved"] = sorted(torch.load(args.checkpoint).keys())
    print(json.dumps(report))


if __name__ == "__main__":
    main()
