"""Dense linear algebra as numerical-methods courses write it in PyTorch: a Crank-Nicolson heat
solver that factors its matrix once with `torch.linalg.lu_factor` and reuses it through
`lu_solve` (also `adjoint=True` and `left=False`), checked against `torch.linalg.lu`'s P, L, U
and `lu_factor_ex`'s info; a QR by `torch.geqrf` + `torch.linalg.householder_product` and
`torch.ormqr`; `solve_triangular` with `upper=`, `left=False` and `unitriangular=True`;
`solve_ex` / `inv_ex` / `cholesky_ex` info tensors on a singular and an indefinite matrix;
`matrix_power` (negative too, and A^1 a copy), `multi_dot`, `tensorsolve` / `tensorinv`,
`vecdot`, `linalg.cross`, `linalg.vander`, `linalg.diagonal`; matrix norms (`ord="nuc"`, 2, -2,
with gradients), `cond(p=...)`, `matrix_rank(atol=, rtol=, hermitian=True)`,
`pinv(hermitian=True)`, `lstsq(driver="gelsd")` rank-deficient fits; `vmap` of `lu_factor` +
`lu_solve` and of `linalg.lu`; `addmv(beta=0)`'s zero gradient for its ignored input; det /
slogdet gradients over a batch; and a rigid body (free top) integrated on SO(3) by a Lie-group
Euler step through `matrix_exp` of a skew matrix, its inertia fitted by gradient descent through
the integrator.
Run: python linalg_factorizations_lie_integrator.py CHECKPOINT [--deterministic].
"""

import argparse
import json

import torch


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def skew(w):
    """The hat map R^3 -> so(3), batched over leading dimensions."""
    zero = torch.zeros_like(w[..., 0])
    rows = [
        torch.stack([zero, -w[..., 2], w[..., 1]], -1),
        torch.stack([w[..., 2], zero, -w[..., 0]], -1),
        torch.stack([-w[..., 1], w[..., 0], zero], -1),
    ]
    return torch.stack(rows, -2)


def rigid_body(inertia, omega0, steps=24, dt=0.08):
    """Body angular velocity by explicit Euler on Euler's equations, attitude on SO(3)."""
    R = torch.eye(3, dtype=omega0.dtype)
    omega = omega0
    headings = []
    for _ in range(steps):
        torque_free = torch.linalg.cross(inertia * omega, omega) / inertia
        omega = omega + dt * torque_free
        R = R @ torch.linalg.matrix_exp(dt * skew(omega))
        headings.append(R[:, 0])
    return torch.stack(headings), omega


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)
    report = {"library": torch.__name__}
    f64 = torch.float64

    # Crank-Nicolson for u_t = u_xx: (I - k/2 L) u+ = (I + k/2 L) u, factored once.
    n, k = 24, 0.002
    h = 1.0 / (n + 1)
    x = torch.linspace(h, 1 - h, n, dtype=f64)
    L = (
        torch.diag(torch.full((n - 1,), 1.0, dtype=f64), -1)
        - 2 * torch.eye(n, dtype=f64)
        + torch.diag(torch.full((n - 1,), 1.0, dtype=f64), 1)
    ) / h**2
    A = torch.eye(n, dtype=f64) - 0.5 * k * L
    B = torch.eye(n, dtype=f64) + 0.5 * k * L
    LU, pivots = torch.linalg.lu_factor(A)
    u = torch.sin(torch.pi * x) + 0.3 * torch.sin(3 * torch.pi * x)
    for _ in range(25):
        u = torch.linalg.lu_solve(LU, pivots, (B @ u).unsqueeze(-1)).squeeze(-1)
    exact = torch.exp(torch.tensor(-(torch.pi**2) * 25 * k)) * torch.sin(torch.pi * x) + 0.3 * (
        torch.exp(torch.tensor(-9 * torch.pi**2 * 25 * k)) * torch.sin(3 * torch.pi * x)
    )
    P, Lo, Up = torch.linalg.lu(A)
    rhs = torch.stack([x, x**2], 0)
    right = torch.linalg.lu_solve(LU, pivots, rhs, left=False)
    adj = torch.linalg.lu_solve(LU, pivots, x[:, None], adjoint=True)
    report["crank_nicolson"] = [
        round((u - exact).abs().max().item(), 7),
        pivots.dtype == torch.int32,
        bool(torch.allclose(P @ Lo @ Up, A)),
        bool(torch.allclose(right @ A, rhs)),
        bool(torch.allclose(A.T @ adj, x[:, None])),
        torch.linalg.lu_factor_ex(A).info.item(),
    ]

    # Householder QR pieces, then triangular solves of every flavour.
    if args.deterministic:
        M = torch.cos(torch.arange(30, dtype=f64).view(6, 5) * 0.7) + 2 * torch.eye(6, 5, dtype=f64)
    else:
        M = torch.randn(6, 5, dtype=f64)
    a, tau = torch.geqrf(M)
    Q = torch.linalg.householder_product(a, tau)
    R = a.triu()[:5]
    C = torch.arange(12, dtype=f64).view(6, 2) / 10
    report["householder"] = [
        list(Q.shape),
        bool(torch.allclose(Q @ R, M)),
        bool(torch.allclose(torch.ormqr(a, tau, C, transpose=True)[:5], Q.T @ C)),
        r(R.diagonal().abs(), 4),
    ]
    Ut = R[:4, :4]
    Lt = Ut.T.clone()
    b = torch.arange(8, dtype=f64).view(4, 2) - 3
    X_upper = torch.linalg.solve_triangular(Ut, b, upper=True)
    X_right = torch.linalg.solve_triangular(Lt, b.T, upper=False, left=False)
    X_unit = torch.linalg.solve_triangular(Ut, b, upper=True, unitriangular=True)
    unit = Ut.triu(1) + torch.eye(4, dtype=f64)
    report["triangular"] = [
        bool(torch.allclose(Ut @ X_upper, b)),
        bool(torch.allclose(X_right @ Lt, b.T)),
        bool(torch.allclose(unit @ X_unit, b)),
        r(X_unit[:, 0], 4),
    ]

    # The *_ex variants report failures in info instead of raising.
    singular = torch.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=f64)
    indefinite = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=f64)
    stack = torch.stack([indefinite, torch.eye(2, dtype=f64) * 2])
    report["info"] = [
        torch.linalg.inv_ex(singular).info.item(),
        torch.linalg.solve_ex(indefinite, torch.ones(2, dtype=f64)).info.item(),
        torch.linalg.cholesky_ex(indefinite).info.item(),
        torch.linalg.cholesky_ex(stack).info.tolist(),
        str(torch.linalg.cholesky_ex(stack).info.dtype),
    ]

    # Assorted matrix functions and products.
    S = torch.tensor([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]], dtype=f64)
    T = torch.arange(24, dtype=f64).view(2, 3, 4) / 7 + torch.eye(4, dtype=f64)[:3]
    Tsq = (
        torch.eye(6, dtype=f64).view(2, 3, 6) + 0.1 * torch.arange(36, dtype=f64).view(2, 3, 6) / 36
    )
    report["products"] = [
        r(torch.linalg.matrix_power(S, 3).diagonal()),
        r(torch.linalg.matrix_power(S, -2)[0], 5),
        r(torch.linalg.multi_dot([S, S[:, :2], S[:2]])[0]),
        list(torch.linalg.tensorinv(Tsq, ind=2).shape),
        r(torch.linalg.tensorsolve(Tsq, torch.ones(2, 3, dtype=f64)), 4),
        r(torch.linalg.vecdot(T, T[0, :1], dim=-1), 4),
        r(torch.linalg.cross(S[0], S[1])),
        r(torch.linalg.vander(torch.tensor([1.0, 2.0, 3.0]), N=4)[-1]),
        r(torch.linalg.diagonal(T, offset=1)),
    ]

    # Matrix norms with their gradients, conditioning and numerical rank.
    W = (S + 0.1 * torch.arange(9, dtype=f64).view(3, 3)).requires_grad_()
    norms = [torch.linalg.matrix_norm(W, ord=o) for o in ("fro", "nuc", 2, -2, 1, -1)]
    grads = [torch.autograd.grad(v, W)[0] for v in norms[:4]]
    low_rank = torch.outer(torch.arange(1.0, 5.0, dtype=f64), torch.arange(1.0, 4.0, dtype=f64))
    low_rank = low_rank + 1e-9 * torch.eye(4, 3, dtype=f64)
    report["norms"] = [r(torch.stack(norms).detach(), 5), [r(g, 4) for g in grads]]
    report["rank"] = [
        int(torch.linalg.matrix_rank(low_rank)),
        int(torch.linalg.matrix_rank(low_rank, atol=1e-12, rtol=0.0)),
        int(torch.linalg.matrix_rank(S, hermitian=True)),
        r(torch.stack([torch.linalg.cond(S, p=p) for p in (None, "fro", 1, float("inf"), -2)]), 4),
    ]
    psd = low_rank @ low_rank.T
    report["pinv"] = [
        r(torch.linalg.pinv(psd, hermitian=True).diagonal(), 6),
        bool(torch.allclose(torch.linalg.pinv(psd, hermitian=True), torch.linalg.pinv(psd))),
    ]
    deficient = torch.cat([low_rank, torch.ones(4, 1, dtype=f64)], 1)
    fit = torch.linalg.lstsq(deficient, torch.arange(4, dtype=f64)[:, None], driver="gelsd")
    report["lstsq"] = [
        r(fit.solution, 5),
        int(fit.rank),
        r(fit.singular_values, 5),
        list(fit.residuals.shape),
    ]

    # Per-system solves under vmap (a batch of LU factorizations), powers that are copies, and
    # addmm with beta=0, whose ignored input still gets a (zero) gradient.
    systems = torch.stack([S, S + torch.eye(3, dtype=f64), 2 * S])
    rhs3 = torch.stack([S[0], S[1], S[2]])
    batched = torch.func.vmap(lambda a, v: torch.linalg.lu_solve(*torch.linalg.lu_factor(a), v))(
        systems, rhs3.unsqueeze(-1)
    )
    perms = torch.func.vmap(lambda a: torch.linalg.lu(a).P)(systems.flip(-1))
    first_power = torch.linalg.matrix_power(S, 1)
    first_power.mul_(2)
    bias = torch.full((3,), float("nan"), dtype=f64, requires_grad=True)
    weights = S.clone().requires_grad_()
    torch.addmv(bias, weights, torch.ones(3, dtype=f64), beta=0).sum().backward()
    report["batched_solves"] = [
        r(batched.squeeze(-1), 5),
        bool(torch.allclose(systems @ batched, rhs3.unsqueeze(-1))),
        r(perms.argmax(-1), 1),
        r(S.diagonal()),
        r(bias.grad),
        r(weights.grad[0]),
        torch.linalg.matrix_power(weights, 0).requires_grad,
    ]

    # det / slogdet gradients broadcast over a batch of 2x2 matrices.
    batch = torch.stack([S[:2, :2], indefinite, -S[1:, 1:]]).requires_grad_()
    sign, logabs = torch.linalg.slogdet(batch)
    (logabs.sum() + torch.linalg.det(batch).pow(2).sum()).backward()
    report["det"] = [r(sign), r(logabs), r(batch.grad, 4)]

    # A torque-free rigid body on SO(3); its principal moments fitted through the integrator.
    omega0 = torch.tensor([0.3, 1.0, 0.2], dtype=f64)
    true_inertia = torch.tensor([1.0, 2.0, 3.0], dtype=f64)
    observed, omega_end = rigid_body(true_inertia, omega0)
    R_last = torch.eye(3, dtype=f64)
    for _ in range(3):
        R_last = R_last @ torch.linalg.matrix_exp(0.05 * skew(omega0))
    report["so3"] = [
        round((R_last.T @ R_last - torch.eye(3, dtype=f64)).abs().max().item(), 10),
        round(torch.linalg.det(R_last).item(), 8),
        r(omega_end, 5),
    ]
    log_inertia = torch.zeros(3, dtype=f64, requires_grad=True)
    optimizer = torch.optim.Adam([log_inertia], lr=0.1)
    losses = []
    for _ in range(12):
        optimizer.zero_grad()
        headings, _ = rigid_body(log_inertia.exp() * true_inertia[0], omega0, steps=12)
        loss = (headings - observed[:12]).pow(2).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    report["losses"] = losses
    report["inertia"] = r(log_inertia.detach().exp(), 4)
    torch.save({"LU": LU, "pivots": pivots, "inertia": log_inertia.detach()}, args.checkpoint)
    loaded = torch.load(args.checkpoint)
    report["saved"] = [sorted(loaded), str(loaded["pivots"].dtype)]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
