"""Molecular dynamics as simulation notebooks write it in PyTorch, float64 throughout: a
Lennard-Jones fluid in a periodic box (pairs from `torch.triu_indices`, minimum-image
differences by `torch.remainder` and `torch.round`, a cut-and-shifted potential masked with
`torch.where`), forces as `-torch.autograd.grad(energy, positions)`, per-atom energies by
`index_add_`, the virial stress by `torch.einsum`, velocity-Verlet integration with in-place
position updates wrapped back into the box, a Berendsen thermostat, the energy drift, the mean
squared displacement of unwrapped coordinates, the radial distribution function from
`torch.histc` and `torch.bucketize` / `torch.bincount`, a steepest-descent minimisation of a
small cluster by `torch.optim.LBFGS`, its normal modes from
`torch.autograd.functional.hessian` and `torch.linalg.eigvalsh`, and force matching: the
Lennard-Jones epsilon and sigma recovered by Adam from reference forces.
Run: python molecular_dynamics_lennard_jones.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json
import math

import torch

DTYPE = torch.float64
CUTOFF = 2.5


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().flatten().tolist()]


def pair_vectors(pos, box):
    """Minimum-image separation vectors and distances of every pair i < j."""
    i, j = torch.triu_indices(pos.shape[0], pos.shape[0], offset=1)
    d = pos[i] - pos[j]
    d = d - box * torch.round(d / box)
    return i, j, d, d.norm(dim=-1)


def lj_pair(dist, eps, sigma):
    """Cut-and-shifted 12-6 potential: zero beyond the cutoff, continuous at it."""
    sr6 = (sigma / dist) ** 6
    sc6 = (sigma / CUTOFF) ** 6
    shifted = 4 * eps * (sr6 * sr6 - sr6) - 4 * eps * (sc6 * sc6 - sc6)
    return torch.where(dist < CUTOFF, shifted, torch.zeros_like(dist))


def energy(pos, box, eps=1.0, sigma=1.0):
    _, _, _, dist = pair_vectors(pos, box)
    return lj_pair(dist, eps, sigma).sum()


def forces(pos, box):
    pos = pos.detach().requires_grad_(True)
    e = energy(pos, box)
    (g,) = torch.autograd.grad(e, pos)
    return e.detach(), -g


def lattice(n_side, spacing):
    grid = torch.arange(n_side, dtype=DTYPE) * spacing + 0.5 * spacing
    return torch.cartesian_prod(grid, grid, grid)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(7)
    report = {"library": torch.__name__}
    n_side, density = 3, 0.6
    n = n_side**3
    box = (n / density) ** (1 / 3)
    pos = lattice(n_side, box / n_side)
    if args.deterministic:
        jitter = 0.08 * torch.sin(torch.arange(n * 3, dtype=DTYPE) * 1.37).view(n, 3)
        vel = 0.9 * torch.cos(torch.arange(n * 3, dtype=DTYPE) * 2.11).view(n, 3)
    else:
        jitter = 0.05 * torch.randn(n, 3, dtype=DTYPE)
        vel = torch.randn(n, 3, dtype=DTYPE)
    pos = torch.remainder(pos + jitter, box)
    vel = vel - vel.mean(0, keepdim=True)

    # Per-atom energies and the virial pressure at the start.
    i, j, d, dist = pair_vectors(pos, box)
    pair_e = lj_pair(dist, 1.0, 1.0)
    per_atom = torch.zeros(n, dtype=DTYPE).index_add_(0, i, pair_e / 2).index_add_(0, j, pair_e / 2)
    e0, f0 = forces(pos, box)
    virial = torch.einsum("ni,nj->ij", pos, f0)
    kinetic = 0.5 * vel.pow(2).sum()
    pressure = (2 * kinetic + virial.trace()) / (3 * box**3)
    report["start"] = {
        "energy": round(e0.item(), 6),
        "per_atom_sum": round(per_atom.sum().item(), 6),
        "force_sum": round(f0.sum(0).abs().max().item(), 8),
        "pressure": round(pressure.item(), 5),
        "pairs_in_cutoff": int((dist < CUTOFF).sum()),
        "closest": round(dist.min().item(), 6),
    }

    # Velocity Verlet with a Berendsen thermostat for the first half.
    dt, steps, target_t = 0.004, 60, 0.8
    unwrapped = pos.clone()
    start = pos.clone()
    e, f = e0, f0
    totals, temps = [], []
    for step in range(steps):
        vel += 0.5 * dt * f
        shift = dt * vel
        unwrapped += shift
        pos = torch.remainder(pos + shift, box)
        e, f = forces(pos, box)
        vel += 0.5 * dt * f
        temp = vel.pow(2).sum() / (3 * (n - 1))
        if step < steps // 2:
            vel.mul_(torch.sqrt(1 + 0.2 * (target_t / temp - 1)))
        totals.append(e.item() + 0.5 * vel.pow(2).sum().item())
        temps.append(temp.item())
    late = torch.tensor(totals[steps // 2 :], dtype=DTYPE)
    msd = (unwrapped - start).pow(2).sum(1).mean()
    report["md"] = {
        "energy": round(totals[-1], 5),
        "drift_small": bool((late.max() - late.min()).abs() / late.abs().mean() < 1e-2),
        "temps": r(torch.tensor(temps)[::10], 5),
        "msd": round(msd.item(), 6),
        "inside_box": bool(((pos >= 0) & (pos < box)).all()),
        "momentum": round(vel.sum(0).abs().max().item(), 10),
    }

    # The radial distribution function up to half the box.
    with torch.no_grad():
        _, _, _, dist = pair_vectors(pos, box)
        r_max, bins = box / 2, 12
        hist = torch.histc(dist, bins=bins, min=0.0, max=r_max)
        edges = torch.linspace(0.0, r_max, bins + 1, dtype=DTYPE)
        which = torch.bucketize(dist[dist < r_max], edges, right=True) - 1
        counts = torch.bincount(which, minlength=bins)
        shell = 4 / 3 * math.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
        g_r = hist / (shell * density * n / 2)
    report["rdf"] = {
        "g": r(g_r, 4),
        "counts_match": bool(torch.equal(counts.to(hist.dtype), hist)),
        "peak_bin": int(g_r.argmax()),
        "hist_dtype": str(hist.dtype),
    }

    # A 4-atom cluster: minimum by LBFGS, then its normal modes from the Hessian.
    big_box = torch.tensor(50.0, dtype=DTYPE)
    cluster = torch.tensor(
        [[0.0, 0.0, 0.0], [1.2, 0.1, 0.0], [0.5, 1.0, 0.1], [0.6, 0.4, 0.9]], dtype=DTYPE
    ).requires_grad_(True)
    lbfgs = torch.optim.LBFGS([cluster], lr=1, max_iter=60, line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        value = energy(cluster, big_box)
        value.backward()
        return value

    lbfgs.step(closure)
    minimum = energy(cluster, big_box)
    hess = torch.autograd.functional.hessian(
        lambda x: energy(x.view(4, 3), big_box), cluster.detach().flatten()
    )
    modes = torch.linalg.eigvalsh(hess)
    _, _, _, bonds = pair_vectors(cluster.detach(), big_box)
    report["cluster"] = {
        "energy": round(minimum.item(), 6),
        "bonds": r(bonds.sort().values, 4),
        "zero_modes": int((modes.abs() < 1e-2).sum()),
        "stiff_modes": r(modes[6:], 3),
        "hess_shape": list(hess.shape),
    }

    # Force matching: recover (epsilon, sigma) from reference forces of a few snapshots.
    with torch.no_grad():
        frames = torch.stack([start, pos])
    reference = []
    for frame in frames:
        frame = frame.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(energy(frame, box, 1.3, 0.95), frame)
        reference.append(-g)
    log_params = torch.zeros(2, dtype=DTYPE, requires_grad=True)
    adam = torch.optim.Adam([log_params], lr=0.01)
    losses = []
    for _ in range(30):
        adam.zero_grad()
        eps, sigma = log_params.exp().unbind()
        loss = torch.zeros((), dtype=DTYPE)
        for frame, ref in zip(frames, reference):
            frame = frame.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(energy(frame, box, eps, sigma), frame, create_graph=True)
            loss = loss + (-g - ref).pow(2).mean()
        loss.backward()
        adam.step()
        losses.append(round(loss.item(), 8))
    report["losses"] = losses
    report["fit"] = r(log_params.exp(), 4)
    torch.save({"positions": pos, "velocities": vel, "box": box}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["saved"] = [list(state["positions"].shape), str(state["velocities"].dtype)]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
