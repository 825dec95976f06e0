"""A finite-element inverse problem as computational scientists write it in PyTorch: linear
(P1) triangles on the unit square, element stiffness matrices for a conductivity exp(theta)
per element, global assembly as a `torch.sparse_coo_tensor` (duplicates summed by
`coalesce()`) checked against an `index_put_(accumulate=True)` assembly, Dirichlet rows by
masking, the state solved by `torch.linalg.solve` (and by `cholesky` / `cholesky_solve`
into `out=` tensors), the residual by `torch.sparse.mm`, and the data misfit's gradient by
the adjoint method checked against autograd's. L-BFGS with a strong-Wolfe line search then
recovers the conductivity from noisy point data, with a Tikhonov penalty on the jumps
between neighbouring elements.
Run: python fem_poisson_adjoint_inversion.py CHECKPOINT [--deterministic].
"""

import argparse
import json

import torch

N = 8  # cells per side


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def mesh(n):
    """Nodes of an n x n grid of squares, each cut into two triangles (counterclockwise)."""
    ticks = torch.linspace(0, 1, n + 1, dtype=torch.float64)
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")
    nodes = torch.stack([xs.flatten(), ys.flatten()], dim=1)
    idx = torch.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    triangles = torch.cat([torch.stack([a, b, d], -1), torch.stack([a, d, c], -1)]).reshape(-1, 3)
    return nodes, triangles


def element_stiffness(nodes, triangles):
    """Unit-conductivity P1 stiffness matrices, (elements, 3, 3), and element areas."""
    p = nodes[triangles]  # (E, 3, 2)
    edges = p[:, [1, 2, 0]] - p[:, [2, 0, 1]]  # the edge opposite each vertex
    area = 0.5 * torch.linalg.det(torch.stack([p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]], dim=1))
    return torch.einsum("eid,ejd->eij", edges, edges) / (4 * area[:, None, None]), area


class Poisson:
    def __init__(self, n):
        self.nodes, self.triangles = mesh(n)
        self.local, self.area = element_stiffness(self.nodes, self.triangles)
        size = self.nodes.shape[0]
        x, y = self.nodes.unbind(1)
        self.boundary = (x == 0) | (x == 1) | (y == 0) | (y == 1)
        self.rows = self.triangles[:, :, None].expand(-1, 3, 3).reshape(-1)
        self.cols = self.triangles[:, None, :].expand(-1, 3, 3).reshape(-1)
        load = torch.zeros(size, dtype=torch.float64)
        source = 10 * torch.exp(-20 * ((x - 0.4) ** 2 + (y - 0.6) ** 2))
        load.index_add_(
            0,
            self.triangles.flatten(),
            (source[self.triangles].mean(1) * self.area / 3).repeat_interleave(3),
        )
        self.load = torch.where(self.boundary, 0.0, load)
        self.size = size

    def assemble(self, theta):
        values = (theta.exp()[:, None, None] * self.local).reshape(-1)
        sparse = torch.sparse_coo_tensor(
            torch.stack([self.rows, self.cols]), values, (self.size, self.size)
        ).coalesce()
        dense = sparse.to_dense()
        keep = (~self.boundary).double()  # Dirichlet u = 0: identity rows and columns
        dense = dense * keep[:, None] * keep[None, :] + torch.diag(1 - keep)
        return dense, sparse

    def solve(self, theta):
        K, _ = self.assemble(theta)
        return torch.linalg.solve(K, self.load), K


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)
    problem = Poisson(N)
    centroids = problem.nodes[problem.triangles].mean(1)
    theta_true = 0.8 * torch.tanh(6 * (centroids[:, 0] - 0.5)) + 0.3 * centroids[:, 1]
    with torch.no_grad():
        u_true, K_true = problem.solve(theta_true)
    noise = 1e-4 * (
        torch.sin(torch.arange(problem.size, dtype=torch.float64) * 1.7)
        if args.deterministic
        else torch.randn(problem.size, dtype=torch.float64)
    )
    observed = torch.where(problem.boundary, 0.0, u_true + noise)

    # Assembly checks: sparse coalesce, accumulate=True scatter, symmetry, residual by sparse.mm.
    _, sparse = problem.assemble(theta_true)
    scattered = torch.zeros(problem.size, problem.size, dtype=torch.float64)
    values = (theta_true.exp()[:, None, None] * problem.local).reshape(-1)
    scattered.index_put_((problem.rows, problem.cols), values, accumulate=True)
    residual = torch.sparse.mm(sparse, u_true[:, None])[:, 0] - problem.load
    L = torch.empty(0, dtype=torch.float64)
    torch.linalg.cholesky(K_true, out=L)
    u_chol = torch.empty(0, dtype=torch.float64)
    torch.cholesky_solve(problem.load[:, None], L, out=u_chol)

    # The misfit's gradient: adjoint (K symmetric: K lam = u - d) against autograd.
    theta = torch.zeros_like(theta_true, requires_grad=True)
    u, K = problem.solve(theta)
    misfit = 0.5 * ((u - observed) ** 2).sum()
    (auto,) = torch.autograd.grad(misfit, theta)
    with torch.no_grad():
        lam = torch.linalg.solve(K, u - observed)
        lam_e, u_e = lam[problem.triangles], u[problem.triangles]
        adjoint = -theta.exp() * torch.einsum("ei,eij,ej->e", lam_e, problem.local, u_e)
        interior = (~problem.boundary[problem.triangles]).all(1)

    # Inversion by L-BFGS with a jump penalty between elements sharing an edge.
    pairs = torch.stack(
        [torch.arange(N * N), torch.arange(N * N) + N * N], 1
    )  # two halves of a cell
    theta = torch.zeros_like(theta_true, requires_grad=True)
    optimizer = torch.optim.LBFGS([theta], lr=1, max_iter=8, line_search_fn="strong_wolfe")
    losses = []

    def closure():
        optimizer.zero_grad()
        u, _ = problem.solve(theta)
        loss = 1e4 * ((u - observed) ** 2).mean() + 1e-3 * (theta[pairs].diff(dim=1) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(4):
        losses.append(round(optimizer.step(closure).item(), 5))
    torch.save({"theta": theta.detach()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report = {
        "library": torch.__name__,
        "losses": losses,
        "nnz": [sparse._nnz(), problem.rows.numel()],
        "assembly_agree": bool(torch.allclose(sparse.to_dense(), scattered)),
        "symmetric": bool(torch.allclose(K_true, K_true.T)),
        "residual_interior": round(residual[~problem.boundary].abs().max().item(), 10),
        "cholesky_agrees": bool(torch.allclose(u_chol[:, 0], u_true)),
        "u_max": round(u_true.max().item(), 6),
        "adjoint_matches": bool(torch.allclose(auto, adjoint, atol=1e-12)),
        "gradient": r(auto[interior][:6], 6),
        "theta_error": round((state["theta"] - theta_true).abs().mean().item(), 4),
        "area_total": round(problem.area.sum().item(), 10),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
