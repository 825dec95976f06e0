"""Statistical physics and PDE notebooks in PyTorch: a 2-D Ising model sampled by
checkerboard Metropolis (neighbour sums by `torch.roll`, the two sublattices as boolean masks,
uniforms from an integer hash so both libraries draw the same ones), its magnetisation and
energy; the inviscid Burgers equation by a finite-volume Rusanov flux (`torch.maximum`,
`torch.minimum`, `torch.where` for the entropy-fixed speeds) with an initial condition whose
shock position is fitted by gradient descent through the solver; the heat equation by
Crank-Nicolson with the tridiagonal system factored once by `torch.linalg.cholesky` and solved by
two `torch.linalg.solve_triangular` sweeps; the Lyapunov spectrum of the Lorenz system by
repeated `torch.linalg.qr` of tangent vectors integrated with the state (the Jacobian
checked against `torch.func.jacfwd`); and a bootstrap particle
filter with systematic resampling by `torch.searchsorted` on the cumulative weights.
Run: python statphys_ising_burgers_lyapunov.py CHECKPOINT [--deterministic].
"""

import argparse
import json
import math

import torch
from torch.func import jacfwd

DT = torch.float64


def r(t, n=6):
    return [round(v, n) for v in torch.as_tensor(t).detach().double().flatten().tolist()]


def hashed_uniforms(counter, shape):
    """Uniforms in [0, 1) from an integer hash of consecutive integers (two LCG rounds with
    xor-shifts between; every product stays inside int64)."""
    k = torch.arange(counter, counter + math.prod(shape), dtype=torch.int64)
    k = (k * 1103515245 + 12345) % 2**31
    k = k ^ (k >> 13)
    k = (k * 1664525 + 1013904223) % 2**31
    k ^= k >> 16
    return (k.to(DT) / 2**31).view(shape)


def ising_sweeps(spins, beta, sweeps, random):
    n = spins.shape[0]
    i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    masks = [(i + j) % 2 == 0, (i + j) % 2 == 1]
    mags, energies = [], []
    counter = 0
    for _ in range(sweeps):
        for mask in masks:
            neighbours = sum(torch.roll(spins, s, d) for s in (1, -1) for d in (0, 1))
            delta = 2 * spins * neighbours
            u = random(counter, spins.shape)
            counter += spins.numel()
            flip = mask & ((delta <= 0) | (u < torch.exp(-beta * delta)))
            spins = torch.where(flip, -spins, spins)
        right, down = torch.roll(spins, -1, 1), torch.roll(spins, -1, 0)
        energies.append(round((-(spins * (right + down)).sum() / spins.numel()).item(), 6))
        mags.append(round(spins.mean().abs().item(), 6))
    return spins, mags, energies


def rusanov_burgers(u, dx, dt, steps):
    """u_t + (u^2/2)_x = 0 on a periodic grid by the local Lax-Friedrichs (Rusanov) flux."""
    for _ in range(steps):
        left, right = u, torch.roll(u, -1)
        flux = 0.25 * (left**2 + right**2)
        speed = torch.maximum(left.abs(), right.abs())
        numerical = flux - 0.5 * speed * (right - left)
        u = u - dt / dx * (numerical - torch.roll(numerical, 1))
    return u


def crank_nicolson(u, kappa, dx, dt, steps):
    """Dirichlet-zero heat equation: (I + r/2 L) u' = (I - r/2 L) u, one Cholesky for all steps."""
    n = u.shape[0]
    lap = -2 * torch.eye(n, dtype=DT) + torch.diag(torch.ones(n - 1, dtype=DT), 1)
    lap = (lap + torch.diag(torch.ones(n - 1, dtype=DT), -1)) / dx**2
    ratio = kappa * dt
    left = torch.eye(n, dtype=DT) - 0.5 * ratio * lap
    right = torch.eye(n, dtype=DT) + 0.5 * ratio * lap
    chol = torch.linalg.cholesky(left)
    for _ in range(steps):
        rhs = (right @ u)[:, None]
        half = torch.linalg.solve_triangular(chol, rhs, upper=False)
        u = torch.linalg.solve_triangular(chol.mT, half, upper=True).squeeze(1)
    return u, chol


def lorenz(y, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    return torch.stack(
        [sigma * (y[1] - y[0]), y[0] * (rho - y[2]) - y[1], y[0] * y[1] - beta * y[2]]
    )


def lorenz_jacobian(y, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    zero = torch.zeros((), dtype=y.dtype)
    return torch.stack(
        [
            torch.stack([-sigma + zero, sigma + zero, zero]),
            torch.stack([rho - y[2], -1 + zero, -y[0]]),
            torch.stack([y[1], y[0], -beta + zero]),
        ]
    )


def variational_step(x, q, dt=0.01):
    """One RK4 step of the state and of its tangent vectors (the columns of q)."""

    def f(state, tangent):
        return lorenz(state), lorenz_jacobian(state) @ tangent

    k1 = f(x, q)
    k2 = f(x + 0.5 * dt * k1[0], q + 0.5 * dt * k1[1])
    k3 = f(x + 0.5 * dt * k2[0], q + 0.5 * dt * k2[1])
    k4 = f(x + dt * k3[0], q + dt * k3[1])
    x = x + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
    return x, q + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])


def lyapunov(x, steps, every=5):
    """Benettin's method: tangents re-orthonormalised by QR every few steps."""
    q = torch.eye(3, dtype=DT)
    logs = torch.zeros(3, dtype=DT)
    for step in range(1, steps + 1):
        x, q = variational_step(x, q)
        if step % every == 0:
            q, rr = torch.linalg.qr(q)
            signs = torch.sign(torch.diagonal(rr))
            q, rr = q * signs, rr * signs[:, None]
            logs += torch.log(torch.diagonal(rr))
    return logs / (steps * 0.01), x


def particle_filter(observations, particles, offsets):
    """Bootstrap filter for x' = 0.9 x + noise, y = x + noise; systematic resampling."""
    n = particles.shape[0]
    means, log_evidence = [], 0.0
    for t, y in enumerate(observations):
        particles = 0.9 * particles + 0.3 * torch.cos(particles * (t + 1))
        log_w = -0.5 * ((y - particles) / 0.5) ** 2
        log_norm = torch.logsumexp(log_w, 0)
        log_evidence += (log_norm - math.log(n)).item()
        weights = torch.exp(log_w - log_norm)
        means.append(round((weights * particles).sum().item(), 5))
        positions = (torch.arange(n, dtype=DT) + offsets[t]) / n
        cumulative = torch.cumsum(weights, 0)
        cumulative[-1] = 1.0
        index = torch.searchsorted(cumulative, positions, right=True).clamp_max(n - 1)
        particles = particles[index]
    return means, log_evidence


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    # Ising model below and above the critical temperature.
    random = hashed_uniforms
    if not args.deterministic:
        random = lambda counter, shape: torch.rand(shape, dtype=DT)  # noqa: E731
    start = torch.where(hashed_uniforms(7, (16, 16)) < 0.5, 1.0, -1.0).to(DT)
    cold, mags_cold, e_cold = ising_sweeps(start, 0.6, 12, random)
    hot, mags_hot, e_hot = ising_sweeps(start, 0.2, 12, random)
    report["ising"] = {
        "mag_cold": mags_cold[-3:],
        "mag_hot": mags_hot[-3:],
        "energy": [e_cold[-1], e_hot[-1]],
        "spin_dtype": str(cold.dtype),
        "roll_multi": torch.roll(torch.arange(6).view(2, 3), (1, -1), (0, 1)).tolist(),
    }
    report["losses"] += [e_cold[-1], e_hot[-1]]

    # Burgers: fit the amplitude of a sine so the shock reaches a target profile.
    n = 64
    x = torch.arange(n, dtype=DT) * (2 * math.pi / n)
    target = rusanov_burgers(0.8 * torch.sin(x) + 0.3, 2 * math.pi / n, 0.04, 25)
    amplitude = torch.tensor(0.5, dtype=DT, requires_grad=True)
    opt = torch.optim.SGD([amplitude], lr=0.02)
    for _ in range(6):
        opt.zero_grad()
        u_end = rusanov_burgers(amplitude * torch.sin(x) + 0.3, 2 * math.pi / n, 0.04, 25)
        loss = ((u_end - target) ** 2).sum()
        loss.backward()
        opt.step()
        report["losses"].append(round(loss.item(), 8))
    report["burgers"] = {
        "amplitude": round(amplitude.item(), 6),
        "shock_at": int(torch.argmin(torch.diff(target))),
        "total": round(target.sum().item(), 8),
        "tv": round(torch.diff(target).abs().sum().item(), 6),
    }

    # Crank-Nicolson: the first Fourier mode decays as exp(-kappa pi^2 t) (L = 1).
    m = 31
    grid = torch.linspace(0, 1, m + 2, dtype=DT)[1:-1]
    u0 = torch.sin(math.pi * grid)
    u_end, chol = crank_nicolson(u0, 0.1, 1.0 / (m + 1), 0.01, 40)
    predicted = math.exp(-0.1 * math.pi**2 * 0.4)
    report["heat"] = {
        "ratio": round((u_end.max() / u0.max()).item(), 8),
        "predicted": round(predicted, 8),
        "banded": bool((torch.triu(chol.mT, 2) == 0).all()),
        "diag": r(torch.diagonal(chol)[:3], 8),
        "unitriangular": r(
            torch.linalg.solve_triangular(
                chol[:3, :3], torch.ones(3, 1, dtype=DT), upper=False, unitriangular=True
            )
        ),
        "left_false": r(
            torch.linalg.solve_triangular(
                chol[:3, :3], torch.ones(2, 3, dtype=DT), upper=False, left=False
            )
        ),
    }

    # Lyapunov spectrum of Lorenz (short run: rough values, sum near -(sigma + 1 + beta)).
    exponents, x_end = lyapunov(torch.tensor([1.0, 1.0, 20.0], dtype=DT), 300)
    report["lyapunov"] = {
        "jacobian_agrees": bool(torch.allclose(jacfwd(lorenz)(x_end), lorenz_jacobian(x_end))),
        "exponents": r(exponents, 4),
        "sum": round(exponents.sum().item(), 4),
        "state": r(x_end, 5),
    }

    # Particle filter on a fixed observation sequence.
    ts = torch.arange(15, dtype=DT)
    observations = torch.sin(0.5 * ts) + 0.2 * torch.cos(2.3 * ts)
    particles = torch.linspace(-2, 2, 200, dtype=DT)
    offsets = hashed_uniforms(101, (15,))
    if not args.deterministic:
        particles = torch.randn(200, dtype=DT)
        offsets = torch.rand(15, dtype=DT)
    means, evidence = particle_filter(observations, particles, offsets)
    report["filter"] = {"means": means[::3], "log_evidence": round(evidence, 5)}
    report["losses"].append(round(-evidence, 6))
    report["searchsorted"] = {
        "side": torch.searchsorted(
            torch.tensor([0.1, 0.3, 0.3, 0.7]), torch.tensor([0.3, 0.8]), side="right"
        ).tolist(),
        "int32": str(
            torch.searchsorted(torch.tensor([0.1, 0.3]), torch.tensor([0.2]), out_int32=True).dtype
        ),
        "sorter": torch.searchsorted(
            torch.tensor([0.7, 0.1, 0.3]), torch.tensor([0.2, 0.5]), sorter=torch.tensor([1, 2, 0])
        ).tolist(),
    }

    torch.save({"spins": cold, "heat": u_end}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: list(v.shape) for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
