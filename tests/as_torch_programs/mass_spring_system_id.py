"""A differentiable physics simulation as computational-science code writes it in PyTorch: a
chain of masses and springs (stiffness matrix assembled with `index_put_(accumulate=True)`),
its normal modes by `torch.linalg.eigh` of the mass-weighted stiffness (gradients of distinct
eigenvalues and of the mode shapes), the exact linear solution by `torch.linalg.matrix_exp` of
the first-order system, an implicit-Euler integrator that calls `torch.linalg.solve` each
step and a symplectic (velocity Verlet) one with a nonlinear (cubic) spring force, energies
from `torch.linalg.norm(dim=...)` / `vector_norm`, and system identification: the spring
constants recovered by Adam through 50 steps of the simulator from an observed trajectory,
then refined by `torch.optim.LBFGS`; sensitivities by `torch.autograd.functional.jacobian`,
`torch.linalg.lstsq` for a damping fit, `torch.linalg.eigvals` of the damped system matrix
(complex), `torch.linalg.cond` and `torch.linalg.det`.
Run: python mass_spring_system_id.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn

N = 5  # masses, fixed walls at both ends


def stiffness(k):
    """K (N x N) from N + 1 spring constants, assembled element by element."""
    K = torch.zeros(N, N, dtype=k.dtype)
    rows = torch.tensor([i for e in range(N + 1) for i in (e - 1, e - 1, e, e)])
    cols = torch.tensor([j for e in range(N + 1) for j in (e - 1, e, e - 1, e)])
    signs = torch.tensor([1.0, -1.0, -1.0, 1.0] * (N + 1), dtype=k.dtype)
    keep = (rows >= 0) & (rows < N) & (cols >= 0) & (cols < N)
    vals = (k.repeat_interleave(4) * signs)[keep]
    return K.index_put((rows[keep], cols[keep]), vals, accumulate=True)


class Chain(nn.Module):
    def __init__(self, n_springs):
        super().__init__()
        self.log_k = nn.Parameter(torch.zeros(n_springs, dtype=torch.float64))
        self.register_buffer("mass", torch.linspace(1.0, 2.0, N, dtype=torch.float64))

    def k(self):
        return self.log_k.exp()

    def forward(self, x0, v0, dt, steps):
        """The positions after `steps` Verlet steps."""
        return self.simulate(x0, v0, dt, steps)[0][-1]

    def simulate(self, x0, v0, dt, steps, cubic=0.0):
        K = stiffness(self.k())
        m = self.mass
        x, v = x0, v0
        xs = []
        acc = lambda x: -(K @ x + cubic * x.pow(3)) / m  # noqa: E731
        a = acc(x)
        for _ in range(steps):
            x = x + dt * v + 0.5 * dt * dt * a
            a_new = acc(x)
            v = v + 0.5 * dt * (a + a_new)
            a = a_new
            xs.append(x)
        return torch.stack(xs), v

    def implicit_euler(self, x0, v0, dt, steps, damping):
        K = stiffness(self.k())
        Minv = torch.diag(1 / self.mass)
        A = torch.cat(
            [
                torch.cat([torch.zeros(N, N, dtype=K.dtype), torch.eye(N, dtype=K.dtype)], 1),
                torch.cat([-Minv @ K, -damping * torch.eye(N, dtype=K.dtype)], 1),
            ]
        )
        system = torch.eye(2 * N, dtype=K.dtype) - dt * A
        state = torch.cat([x0, v0])
        out = []
        for _ in range(steps):
            state = torch.linalg.solve(system, state)
            out.append(state)
        return torch.stack(out), A


def r(t, n=6):
    return [round(v, n) for v in t.detach().flatten().tolist()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__}
    true_k = torch.tensor([1.0, 2.0, 1.5, 0.5, 1.2, 2.5], dtype=torch.float64)
    truth = Chain(N + 1)
    with torch.no_grad():
        truth.log_k.copy_(true_k.log())
    x0 = torch.sin(torch.arange(1.0, N + 1, dtype=torch.float64))
    v0 = torch.zeros(N, dtype=torch.float64)
    dt, steps = 0.05, 50
    with torch.no_grad():
        observed, _ = truth.simulate(x0, v0, dt, steps)
    if not args.deterministic:
        observed = observed + 1e-3 * torch.randn_like(observed)

    # Normal modes: M^-1/2 K M^-1/2 = V diag(w^2) V^T, and their gradients.
    k_req = true_k.clone().requires_grad_()
    K = stiffness(k_req)
    s = truth.mass.rsqrt()
    omega2, modes = torch.linalg.eigh(s[:, None] * K * s[None, :])
    (d_omega,) = torch.autograd.grad(omega2.sqrt().sum() + modes[:, 0].abs().sum(), k_req)
    # The same tridiagonal K from its diagonals, as a sparse matrix (column-indexed diagonals).
    with torch.no_grad():
        diagonals = torch.stack([-true_k[1:], true_k[:-1] + true_k[1:], -true_k[:-1]])
        K_sparse = torch.sparse.spdiags(diagonals, torch.tensor([-1, 0, 1]), (N, N))
        sparse_ok = bool(torch.equal(K_sparse.to_dense(), K.detach()))
        matvec = torch.sparse.mm(K_sparse, x0[:, None]).squeeze(1)
    report["sparse"] = {"matches": sparse_ok, "nnz": K_sparse._nnz(), "matvec": r(matvec)}
    report["modes"] = {
        "omega2": r(omega2),
        "grad": r(d_omega),
        "K": r(K),
        "cond": round(torch.linalg.cond(K).item(), 6),
        "det": round(torch.linalg.det(K).item(), 6),
    }

    # The exact linear flow by matrix_exp, against Verlet.
    with torch.no_grad():
        _, A = truth.implicit_euler(x0, v0, dt, 1, damping=0.0)
        exact = torch.linalg.matrix_exp(A * dt * steps) @ torch.cat([x0, v0])
        err = (
            torch.linalg.norm(exact[:N] - observed[-1]) if args.deterministic else torch.tensor(0.0)
        )
        eig_damped = torch.linalg.eigvals(truth.implicit_euler(x0, v0, dt, 1, damping=0.3)[1])
        eig_sorted = eig_damped[torch.argsort(eig_damped.imag * 1000 + eig_damped.real)]
    report["flow"] = {
        "exact": r(exact),
        "verlet_err_small": bool(err < 1e-2),
        "eig_damped": [[round(z.real, 5), round(z.imag, 5)] for z in eig_sorted.tolist()],
        "eig_dtype": str(eig_damped.dtype),
    }

    # A cubic (hardening) spring force: Verlet keeps the energy nearly constant.
    with torch.no_grad():
        nonlinear, v_end = truth.simulate(x0, v0, dt, 200, cubic=0.3)
        K_true = stiffness(truth.k())

        def energy(x, v):
            return (
                0.5 * (truth.mass * v.pow(2)).sum() + 0.5 * x @ K_true @ x + 0.075 * x.pow(4).sum()
            )

        drift = (energy(nonlinear[-1], v_end) - energy(x0, v0)).abs() / energy(x0, v0)
    report["nonlinear"] = {"final": r(nonlinear[-1], 5), "drift_small": bool(drift < 1e-3)}

    # Energies over the implicit-Euler trajectory (dissipative).
    with torch.no_grad():
        traj, _ = truth.implicit_euler(x0, v0, dt, 40, damping=0.3)
        xs, vs = traj[:, :N], traj[:, N:]
        kinetic = 0.5 * (truth.mass * vs.pow(2)).sum(1)
        potential = 0.5 * torch.einsum("ti,ij,tj->t", xs, stiffness(truth.k()), xs)
        report["energy"] = {
            "total": r((kinetic + potential)[::8]),
            "speed_norm": r(torch.linalg.norm(vs, dim=1)[::8]),
            "vector_norm": r(torch.linalg.vector_norm(xs, ord=3, dim=-1)[::8]),
        }

    # System identification by Adam then LBFGS through the simulator.
    model = Chain(N + 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        pred, _ = model.simulate(x0, v0, dt, steps)
        loss = (pred - observed).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(round(loss.item(), 8))
    lbfgs = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        pred, _ = model.simulate(x0, v0, dt, steps)
        loss = (pred - observed).pow(2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        losses.append(round(lbfgs.step(closure).item(), 10))
    report["losses"] = losses
    report["k_fit"] = r(model.k(), 4)

    # Sensitivity of the final positions to the spring constants, and a damping fit.
    jac = torch.autograd.functional.jacobian(
        lambda logk: torch.func.functional_call(truth, {"log_k": logk}, (x0, v0, dt, 20)),
        true_k.log(),
    )
    report["jacobian"] = {"shape": list(jac.shape), "row0": r(jac[0], 5)}
    t = torch.arange(40, dtype=torch.float64) * dt
    log_e = (kinetic + potential).log()
    design = torch.stack([torch.ones_like(t), t], 1)
    fit = torch.linalg.lstsq(design, log_e.unsqueeze(1)).solution
    report["damping_rate"] = round(-fit[1].item(), 5)
    report["period0"] = round(2 * math.pi / omega2[0].sqrt().item(), 6)
    torch.save(model.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
