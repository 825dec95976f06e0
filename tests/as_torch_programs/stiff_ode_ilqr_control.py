"""Stiff chemistry and optimal control as scientific-computing notebooks write them in
PyTorch: Robertson's kinetics in float64 integrated by BDF2 with a backward-Euler start,
each implicit step solved by Newton's method with the Jacobian from `torch.func.jacfwd` and
one `torch.linalg.lu_factor` reused by `lu_solve` across the iterations, the step size
adapted by an error estimate in `torch.linalg.norm(ord=inf)` (`torch.where` keeps or rejects
each step), the sensitivity of the final state to a rate constant by the implicit function
theorem (`lu_solve(adjoint=True)` for the transposed solve) checked against autograd through
the unrolled solver; then a discrete LQR gain by the Riccati recursion
(`torch.linalg.solve`, `torch.linalg.eigvals` for closed-loop stability), and iLQR on a
pendulum with the dynamics linearised by `torch.autograd.functional.jacobian(vectorize=True,
strategy="forward-mode")`, the cost's curvature by `hessian`, `vhp` / `hvp`, and the
backward pass by `torch.cholesky_solve`.
Run: python stiff_ode_ilqr_control.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
from torch.autograd.functional import hessian, hvp, jacobian, vhp
from torch.func import jacfwd

DT = torch.float64


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def robertson(y, k):
    y1, y2, y3 = y.unbind(-1)
    return torch.stack(
        [
            -k[0] * y1 + k[2] * y2 * y3,
            k[0] * y1 - k[2] * y2 * y3 - k[1] * y2**2,
            k[1] * y2**2,
        ]
    )


def newton(residual, guess, iters=4):
    """Solve residual(y) = 0 from guess, one LU of the Jacobian at the guess (chord method)."""
    lu, pivots = torch.linalg.lu_factor(jacfwd(residual)(guess.detach()))
    y = guess
    for _ in range(iters):
        y = y - torch.linalg.lu_solve(lu, pivots, residual(y)[:, None]).squeeze(-1)
    return y


def backward_euler_adaptive(y0, k, t_end, h, rtol=0.05, atol=1e-7, max_steps=12):
    """Backward Euler whose local error, half the gap between the implicit step and the
    explicit Euler predictor, decides (by torch.where) whether a step is kept and how the
    next step size scales (0.9 / sqrt(err), clamped to [0.2, 4])."""
    y, t = y0, 0.0
    accepted, rejected = 0, 0
    for _ in range(max_steps):
        if t >= t_end:
            break
        h = min(h, t_end - t)
        step = newton(lambda z, y=y, h=h: z - y - h * robertson(z, k), y)
        predictor = y + h * robertson(y, k)
        scale = atol + rtol * torch.maximum(step.abs(), y.abs())
        err = torch.linalg.norm(0.5 * (step - predictor).detach() / scale.detach(), ord=math.inf)
        accept = err <= 1
        y = torch.where(accept, step, y)
        if accept:
            t += h
            accepted += 1
        else:
            rejected += 1
        factor = torch.where(err > 0, 0.9 / err.sqrt(), torch.full_like(err, 4.0))
        h = h * factor.clamp(0.2, 4.0).item()
    return y, t, accepted, rejected


def riccati(A, B, Q, R, iters):  # noqa: N803 - the control names
    P = Q.clone()
    for _ in range(iters):
        K = torch.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)
        P = Q + A.T @ P @ (A - B @ K)
    return K, P


def pendulum(x, u, dt=0.05):
    theta, omega = x[..., 0], x[..., 1]
    omega_next = omega + dt * (-9.81 * torch.sin(theta) - 0.1 * omega + u[..., 0])
    return torch.stack([theta + dt * omega_next, omega_next], -1)


def stage_cost(x, u, goal):
    return 0.5 * ((x - goal) ** 2 * torch.tensor([1.0, 0.1], dtype=DT)).sum() + 0.01 * (u**2).sum()


def ilqr(x0, us, iters, goal):
    """iLQR: roll out, linearise the dynamics along the trajectory, Riccati-like backward
    pass for feedback gains, half-step line search on the feed-forward terms."""
    weights = torch.tensor([1.0, 0.1], dtype=DT)
    costs = []
    for _ in range(iters):
        xs = [x0]
        for u in us:
            xs.append(pendulum(xs[-1], u))
        total = sum(stage_cost(x, u, goal) for x, u in zip(xs[:-1], us))
        costs.append(round(total.item() + 10 * stage_cost(xs[-1], us[0] * 0, goal).item(), 6))
        # The quadratic cost's curvature is the same at every step: one Hessian per sweep.
        H = hessian(lambda x, u: stage_cost(x, u, goal), (xs[0], us[0]))
        V_x = 10 * (xs[-1] - goal) * weights
        V_xx = 10 * torch.diag(weights)
        gains = []
        for t in range(len(us) - 1, -1, -1):
            f_x, f_u = jacobian(pendulum, (xs[t], us[t]), vectorize=True, strategy="forward-mode")
            x_t = xs[t].detach().requires_grad_()
            u_t = us[t].detach().requires_grad_()
            l_x, l_u = torch.autograd.grad(stage_cost(x_t, u_t, goal), (x_t, u_t))
            Q_x = l_x + f_x.T @ V_x
            Q_u = l_u + f_u.T @ V_x
            Q_xx = H[0][0] + f_x.T @ V_xx @ f_x
            Q_uu = H[1][1] + f_u.T @ V_xx @ f_u
            Q_ux = H[1][0] + f_u.T @ V_xx @ f_x
            L = torch.linalg.cholesky(Q_uu)
            k = -torch.cholesky_solve(Q_u[:, None], L).squeeze(-1)
            K = -torch.cholesky_solve(Q_ux, L)
            V_x = Q_x + K.T @ Q_uu @ k + K.T @ Q_u + Q_ux.T @ k
            V_xx = Q_xx + K.T @ Q_uu @ K + K.T @ Q_ux + Q_ux.T @ K
            V_xx = 0.5 * (V_xx + V_xx.T)
            gains.append((k, K))
        gains.reverse()
        x = x0
        new_us = []
        for (k, K), u, x_ref in zip(gains, us, xs):
            u_new = u + 0.5 * k + K @ (x - x_ref)
            new_us.append(u_new)
            x = pendulum(x, u_new)
        us = new_us
    return us, costs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    # Robertson's stiff kinetics; d y(T) / d k1 by autograd through the solver.
    k = torch.tensor([0.04, 3e7, 1e4], dtype=DT, requires_grad=True)
    y0 = torch.tensor([1.0, 0.0, 0.0], dtype=DT)
    if not args.deterministic:
        y0 = y0 + torch.tensor([0.0, 1e-9, 0.0], dtype=DT) * torch.rand(3, dtype=DT)
    y_end, t_reached, accepted, rejected = backward_euler_adaptive(y0, k, t_end=40.0, h=1e-4)
    (dk,) = torch.autograd.grad(y_end[0], k)
    report["robertson"] = {
        "y_end": [
            round(y_end[0].item(), 6),
            float(f"{y_end[1].item():.5e}"),
            round(y_end[2].item(), 6),
        ],
        "mass": round(y_end.sum().item(), 10),
        "steps": [accepted, rejected],
        "t": round(t_reached, 6),
        "d_y1_d_k": [float(f"{v:.5e}") for v in dk.tolist()],
    }
    report["losses"].append(round(y_end[0].item(), 8))

    # The same sensitivity at the steady state of one implicit step, by the implicit function
    # theorem: dz/dk = -(dR/dz)^-1 dR/dk, the transposed solve by lu_solve(adjoint=True).
    y_prev = y_end.detach()
    h = 0.1
    kd = k.detach()
    z = newton(lambda v: v - y_prev - h * robertson(v, kd), y_prev)
    J_z = jacfwd(lambda v: v - y_prev - h * robertson(v, kd))(z)
    J_k = jacfwd(lambda kk: -h * robertson(z, kk))(kd)
    lu, piv = torch.linalg.lu_factor(J_z)
    w = torch.linalg.lu_solve(lu, piv, torch.tensor([[1.0], [0.0], [0.0]], dtype=DT), adjoint=True)
    ift = -(w.T @ J_k).squeeze(0)
    unrolled = torch.autograd.grad(
        newton(lambda v: v - y_prev - h * robertson(v, k), y_prev)[0], k
    )[0]
    report["implicit"] = {
        "ift": [float(f"{v:.5e}") for v in ift.tolist()],
        "agree": bool(torch.allclose(ift, unrolled, rtol=1e-4, atol=1e-12)),
        "pivots": piv.tolist(),
        "pivot_dtype": str(piv.dtype),
        "left_false": r(torch.linalg.lu_solve(lu, piv, torch.ones(1, 3, dtype=DT), left=False)),
    }

    # LQR for a double integrator, and its closed-loop eigenvalues.
    A = torch.tensor([[1.0, 0.1], [0.0, 1.0]], dtype=DT)
    B = torch.tensor([[0.005], [0.1]], dtype=DT)
    K, P = riccati(A, B, torch.eye(2, dtype=DT), torch.tensor([[0.1]], dtype=DT), 200)
    eig = torch.linalg.eigvals(A - B @ K)
    report["lqr"] = {
        "K": r(K),
        "P": r(P),
        "eig_abs": r(eig.abs().sort().values),
        "eig_dtype": str(eig.dtype),
        "stable": bool((eig.abs() < 1).all()),
    }

    # iLQR swing-up of a pendulum, from rest.
    goal = torch.tensor([math.pi, 0.0], dtype=DT)
    us = [torch.zeros(1, dtype=DT) for _ in range(20)]
    if not args.deterministic:
        us = [0.1 * torch.randn(1, dtype=DT) for _ in range(20)]
    us, costs = ilqr(torch.zeros(2, dtype=DT), us, iters=3, goal=goal)
    report["losses"] += costs
    f_x, f_u = jacobian(
        pendulum, (torch.zeros(2, dtype=DT), us[0]), vectorize=True, strategy="forward-mode"
    )
    hess = hessian(lambda x, u: stage_cost(x, u, goal), (torch.ones(2, dtype=DT), us[0]))
    report["ilqr"] = {
        "u": r(torch.cat(us)[::4], 5),
        "jac_shapes": [list(f_x.shape), list(f_u.shape)],
        "hess_blocks": [list(b.shape) for row in hess for b in row],
        "vhp": r(
            vhp(
                lambda x: stage_cost(x, us[0], goal) ** 2,
                torch.ones(2, dtype=DT),
                torch.tensor([1.0, -1.0], dtype=DT),
            )[1]
        ),
        "hvp": r(
            hvp(
                lambda x: stage_cost(x, us[0], goal) ** 2,
                torch.ones(2, dtype=DT),
                torch.tensor([1.0, -1.0], dtype=DT),
            )[1]
        ),
    }
    torch.save({"K": K, "u": torch.cat(us)}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {name: list(v.shape) for name, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
