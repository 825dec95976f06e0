"""Celestial mechanics as astronomy code writes it in PyTorch: Kepler's equation M = E - e sin E
solved by Newton's method inside a `torch.autograd.Function` whose backward is the implicit-
function derivative (dE/dM = 1 / (1 - e cos E), dE/de = sin E / (1 - e cos E)), verified by
`torch.autograd.gradcheck` and against autograd through the unrolled Newton iteration; an
N-body leapfrog (kick-drift-kick) with Plummer-softened forces from `torch.cdist` and energy
drift monitored; an orbit (e, period, phase, amplitude) fitted to radial velocities by
Gauss-Newton with `torch.autograd.functional.jacobian(vectorize=True)` and `torch.linalg.lstsq`
steps, its covariance from `torch.cholesky_inverse`; and the fitted orbit's angular momentum
conserved through `torch.linalg.cross`.
Run: python celestial_kepler_nbody_orbit_fit.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
from torch.autograd.functional import jacobian

DT = torch.float64


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


class KeplerSolve(torch.autograd.Function):
    """Eccentric anomaly E from mean anomaly M and eccentricity e; derivatives implicit."""

    @staticmethod
    def forward(ctx, mean_anomaly, ecc):
        E = mean_anomaly.clone()
        for _ in range(30):
            E = E - (E - ecc * torch.sin(E) - mean_anomaly) / (1 - ecc * torch.cos(E))
        ctx.save_for_backward(E, ecc)
        return E

    @staticmethod
    def backward(ctx, grad):
        E, ecc = ctx.saved_tensors
        denom = 1 - ecc * torch.cos(E)
        grad_m = grad / denom
        grad_e = (grad * torch.sin(E) / denom).sum_to_size(ecc.shape)
        return grad_m, grad_e


def kepler_unrolled(mean_anomaly, ecc, steps=30):
    E = mean_anomaly
    for _ in range(steps):
        E = E - (E - ecc * torch.sin(E) - mean_anomaly) / (1 - ecc * torch.cos(E))
    return E


def radial_velocity(params, times):
    ecc, period, phase, amp = params.unbind(0)
    mean_anomaly = 2 * math.pi * times / period + phase
    E = KeplerSolve.apply(mean_anomaly, ecc)
    true_anomaly = 2 * torch.atan2(
        torch.sqrt(1 + ecc) * torch.sin(E / 2), torch.sqrt(1 - ecc) * torch.cos(E / 2)
    )
    return amp * (torch.cos(true_anomaly + 0.7) + ecc * math.cos(0.7))


def accelerations(pos, masses, soft=0.05):
    dist = torch.cdist(pos, pos)
    inv3 = (dist**2 + soft**2) ** -1.5
    diff = pos[None, :, :] - pos[:, None, :]
    return (diff * (masses[None, :, None] * inv3[:, :, None])).sum(1)


def energy(pos, vel, masses, soft=0.05):
    kinetic = 0.5 * (masses * (vel**2).sum(1)).sum()
    dist = torch.cdist(pos, pos)
    pair = masses[:, None] * masses[None, :] / torch.sqrt(dist**2 + soft**2)
    potential = -torch.triu(pair, diagonal=1).sum()
    return kinetic + potential


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(1)
    report = {"library": torch.__name__, "losses": []}

    M = torch.linspace(0.1, 6.0, 7, dtype=DT, requires_grad=True)
    e = torch.tensor(0.6, dtype=DT, requires_grad=True)
    E = KeplerSolve.apply(M, e)
    gm, ge = torch.autograd.grad(E.sum(), (M, e))
    um, ue = torch.autograd.grad(kepler_unrolled(M, e).sum(), (M, e))
    report["kepler"] = {
        "E": r(E, 8),
        "residual": bool((E - e * torch.sin(E) - M).abs().max() < 1e-12),
        "grads_match_unrolled": bool(torch.allclose(gm, um) and torch.allclose(ge, ue)),
        "gradcheck": torch.autograd.gradcheck(
            KeplerSolve.apply, (M[:3].detach().requires_grad_(), e)
        ),
        "de": round(ge.item(), 8),
    }

    pos = torch.tensor(
        [[0.0, 0.0, 0.0], [1.0, 0.0, 0.1], [-0.5, 0.8, 0.0], [0.3, -1.2, -0.1]], dtype=DT
    )
    vel = torch.tensor(
        [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-0.9, -0.4, 0.05], [0.8, 0.2, 0.0]], dtype=DT
    )
    masses = torch.tensor([1.0, 0.01, 0.02, 0.015], dtype=DT)
    if not args.deterministic:
        pos = pos + 0.01 * torch.randn_like(pos)
    momentum0 = (masses[:, None] * vel).sum(0)
    vel = vel - momentum0 / masses.sum()
    e0 = energy(pos, vel, masses)
    dt = 0.01
    acc = accelerations(pos, masses)
    for _ in range(150):
        vel = vel + 0.5 * dt * acc
        pos = pos + dt * vel
        acc = accelerations(pos, masses)
        vel = vel + 0.5 * dt * acc
    L = torch.linalg.cross(pos, masses[:, None] * vel).sum(0)
    report["nbody"] = {
        "drift_small": bool(((energy(pos, vel, masses) - e0) / e0).abs() < 1e-3),
        "momentum": bool((masses[:, None] * vel).sum(0).abs().max() < 1e-12),
        "L": r(L, 5),
        "pos1": r(pos[1], 5),
    }

    truth = torch.tensor([0.35, 3.1, 0.4, 12.0], dtype=DT)
    times = torch.linspace(0, 9, 40, dtype=DT)
    observed = radial_velocity(truth, times).detach()
    noise = 0.2 * torch.sin(times * 7.3) if args.deterministic else 0.2 * torch.randn_like(times)
    observed = observed + noise
    params = torch.tensor([0.2, 3.0, 0.3, 10.0], dtype=DT)
    for _ in range(6):
        residual = radial_velocity(params, times) - observed
        J = jacobian(lambda p: radial_velocity(p, times), params, vectorize=True)
        step = torch.linalg.lstsq(J, -residual[:, None]).solution[:, 0]
        params = params + step
        report["losses"].append(round(0.5 * (residual**2).sum().item(), 6))
    J = jacobian(lambda p: radial_velocity(p, times), params)
    covariance = torch.cholesky_inverse(torch.linalg.cholesky(J.T @ J)) * 0.04
    report["fit"] = {
        "params": r(params, 4),
        "sigma": r(covariance.diagonal().sqrt(), 4),
        "J_shape": list(J.shape),
    }
    torch.save({"params": params, "cov": covariance}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
