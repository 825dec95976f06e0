"""Control and robotics as controls code writes it in PyTorch: a bicycle model linearised by
`torch.func.jacfwd` and `torch.autograd.functional.jacobian(strategy="forward-mode",
vectorize=True)`, discretised by `torch.linalg.matrix_exp` of the augmented [[A, B], [0, 0]]
block (`torch.block_diag`, `torch.cat`), an infinite-horizon LQR by a backward Riccati
recursion with `torch.linalg.solve` (and `left=False`), its closed-loop poles by
`torch.linalg.eigvals`, the Lyapunov cost matrix by the Kronecker-vec identity
(`torch.kron`, `torch.linalg.solve_ex`); model-predictive control by unrolled gradient descent
on a control sequence through the nonlinear model, headings wrapped with `torch.remainder` /
`torch.atan2` and reported by `torch.rad2deg`; and attitude kinematics with quaternions
(Hamilton products by `torch.cross(dim=-1)`, renormalised by `F.normalize`), a gyro bias fitted
through 60 integration steps, and the yaw recovered by `torch.atan2`.
Run: python control_lqr_quaternion_bicycle_mpc.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F
from torch.autograd.functional import jacobian
from torch.func import jacfwd

DT = torch.float64
WHEELBASE = 2.5


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


def bicycle(state, control):
    """state (x, y, heading, speed), control (acceleration, steering angle)."""
    x, y, heading, speed = state.unbind(-1)
    accel, steer = control.unbind(-1)
    return torch.stack(
        [
            speed * torch.cos(heading),
            speed * torch.sin(heading),
            speed / WHEELBASE * torch.tan(steer),
            accel,
        ],
        -1,
    )


def rk4(state, control, dt):
    k1 = bicycle(state, control)
    k2 = bicycle(state + 0.5 * dt * k1, control)
    k3 = bicycle(state + 0.5 * dt * k2, control)
    k4 = bicycle(state + dt * k3, control)
    return state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def quat_mul(p, q):
    pw, pv = p[..., :1], p[..., 1:]
    qw, qv = q[..., :1], q[..., 1:]
    w = pw * qw - (pv * qv).sum(-1, keepdim=True)
    v = pw * qv + qw * pv + torch.cross(pv, qv, dim=-1)
    return torch.cat([w, v], -1)


def integrate_attitude(rates, bias, dt=0.15):
    q = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=DT)
    for omega in rates:
        delta = torch.cat([torch.ones(1, dtype=DT), 0.5 * dt * (omega - bias)])
        q = F.normalize(quat_mul(q, delta), dim=0)
    return q


def yaw_of(q):
    w, x, y, z = q.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(8)
    report = {"library": torch.__name__, "losses": []}

    # Linearise about straight driving at 5 m/s and discretise exactly.
    x0 = torch.tensor([0.0, 0.0, 0.0, 5.0], dtype=DT)
    u0 = torch.zeros(2, dtype=DT)
    A = jacfwd(bicycle, argnums=0)(x0, u0)
    B = jacobian(lambda u: bicycle(x0, u), u0, strategy="forward-mode", vectorize=True)
    dt = 0.1
    block = torch.cat([torch.cat([A, B], 1), torch.zeros(2, 6, dtype=DT)]) * dt
    Phi = torch.linalg.matrix_exp(block)
    Ad, Bd = Phi[:4, :4], Phi[:4, 4:]
    Q = torch.block_diag(torch.diag(torch.tensor([1.0, 4.0], dtype=DT)), torch.eye(2, dtype=DT))
    R = 0.5 * torch.eye(2, dtype=DT)
    P = Q.clone()
    for _ in range(150):
        K = torch.linalg.solve(R + Bd.T @ P @ Bd, Bd.T @ P @ Ad)
        P = Q + Ad.T @ P @ (Ad - Bd @ K)
        P = 0.5 * (P + P.T)
    gram = R + Bd.T @ P @ Bd
    K_right = torch.linalg.solve(gram, Bd.T @ P @ Ad, left=True)
    K_transposed = torch.linalg.solve(gram, Ad.T @ P @ Bd, left=False)  # X gram = Ad^T P Bd
    closed = Ad - Bd @ K
    poles = torch.linalg.eigvals(closed)
    # Closed-loop cost matrix: X = closed^T X closed + Q + K^T R K, by vec and kron.
    n = 4
    lhs = torch.eye(n * n, dtype=DT) - torch.kron(closed.T, closed.T)
    rhs = (Q + K.T @ R @ K).T.reshape(-1)
    vec, info = torch.linalg.solve_ex(lhs, rhs)
    X = vec.reshape(n, n).T
    report["lqr"] = {
        "Bd": r(Bd, 6),
        "K": r(K, 5),
        "K_same": bool(torch.allclose(K, K_right) and torch.allclose(K.T, K_transposed)),
        "left_false": list(K_transposed.shape),
        "pole_radius": round(poles.abs().max().item(), 6),
        "poles_dtype": str(poles.dtype),
        "lyapunov_is_riccati": bool(torch.allclose(X, P, atol=1e-6)),
        "info": int(info),
    }

    # MPC: steer to y = 2 with heading back to zero, by gradient descent on the controls.
    horizon = 10
    if args.deterministic:
        controls = torch.zeros(horizon, 2, dtype=DT)
    else:
        controls = 0.01 * torch.randn(horizon, 2, dtype=DT)
    controls.requires_grad_(True)
    optimizer = torch.optim.Adam([controls], lr=0.15)
    goal = torch.tensor([0.0, 2.0, 0.0, 5.0], dtype=DT)
    weights = torch.tensor([0.0, 1.0, 2.0, 0.5], dtype=DT)
    for it in range(12):
        optimizer.zero_grad()
        state, cost = x0, torch.zeros((), dtype=DT)
        for u in controls:
            state = rk4(state, u.clamp(-0.5, 0.5), 2 * dt)
            cost = cost + (weights * (state - goal) ** 2).sum() + 0.1 * (u**2).sum()
        cost.backward()
        optimizer.step()
        if it % 3 == 0:
            report["losses"].append(round(cost.item(), 5))
    heading = torch.remainder(state[2] + math.pi, 2 * math.pi) - math.pi
    report["mpc"] = {
        "final": r(state, 4),
        "heading_deg": round(torch.rad2deg(heading).item(), 4),
        "steer_peak": round(controls[:, 1].abs().max().item(), 4),
    }

    # Attitude: recover a constant gyro bias from the final yaw and roll.
    t = torch.arange(20, dtype=DT) * 0.15
    true_rates = torch.stack([0.2 * torch.sin(t), 0.1 * torch.cos(2 * t), 0.3 + 0.0 * t], 1)
    true_bias = torch.tensor([0.02, -0.03, 0.05], dtype=DT)
    measured = true_rates + true_bias
    if not args.deterministic:
        measured = measured + 0.001 * torch.randn_like(measured)
    reference = integrate_attitude(true_rates, torch.zeros(3, dtype=DT))
    bias = torch.zeros(3, dtype=DT, requires_grad=True)
    sgd = torch.optim.SGD([bias], lr=0.05, momentum=0.5)
    for _ in range(6):
        sgd.zero_grad()
        q = integrate_attitude(measured, bias)
        loss = 1 - (q * reference).sum() ** 2
        loss.backward()
        sgd.step()
        report["losses"].append(round(loss.item(), 8))
    report["attitude"] = {
        "bias": r(bias, 4),
        "yaw_deg": round(torch.rad2deg(yaw_of(reference)).item(), 4),
        "unit": round(integrate_attitude(measured, bias.detach()).norm().item(), 12),
    }

    torch.save({"K": K, "P": P, "controls": controls.detach()}, args.checkpoint)
    state_dict = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state_dict.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
