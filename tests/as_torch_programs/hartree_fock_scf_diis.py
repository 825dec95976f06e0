"""A toy quantum-chemistry code as written in PyTorch: restricted Hartree-Fock for H3+ in an
STO-3G basis of contracted Gaussian s-orbitals. Overlap, kinetic, nuclear-attraction and
two-electron integrals are built by broadcasting over primitive pairs, the Boys function F0
through `torch.special.erf` (with its small-argument series behind `torch.where`); the
generalised eigenproblem F C = S C e by symmetric orthogonalisation (`torch.linalg.eigh`,
`torch.rsqrt`); Coulomb and exchange from 4-index `torch.einsum`; SCF accelerated by DIIS
(commutator errors FPS - SPF, extrapolation coefficients from a bordered `torch.linalg.solve`);
then nuclear forces by autograd through the unrolled SCF and `eigh`, checked against central
finite differences, and a few steps of geometry optimisation with `torch.optim.LBFGS`.
Run: python hartree_fock_scf_diis.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch

DT = torch.float64
EXPONENTS = torch.tensor([3.42525091, 0.62391373, 0.16885540], dtype=DT)
CONTRACTION = torch.tensor([0.15432897, 0.53532814, 0.44463454], dtype=DT)


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


def boys0(t):
    small = t < 1e-8
    safe = torch.where(small, torch.ones_like(t), t)
    return torch.where(
        small, 1 - t / 3, 0.5 * torch.sqrt(math.pi / safe) * torch.erf(torch.sqrt(safe))
    )


def integrals(centres, charges):
    """S, T, V (n x n) and ERI (n x n x n x n) for one contracted s-function per centre."""
    n, k = centres.shape[0], EXPONENTS.numel()
    a = EXPONENTS.expand(n, k)
    d = CONTRACTION * (2 * EXPONENTS / math.pi) ** 0.75
    d = d.expand(n, k)
    A = centres[:, None, :].expand(n, k, 3)
    # pair quantities over (i, p, j, q)
    ai, aj = a[:, :, None, None], a[None, None, :, :]
    p = ai + aj
    mu = ai * aj / p
    AB2 = ((A[:, :, None, None, :] - A[None, None, :, :, :]) ** 2).sum(-1)
    P = (ai[..., None] * A[:, :, None, None, :] + aj[..., None] * A[None, None, :, :, :]) / p[
        ..., None
    ]
    dd = d[:, :, None, None] * d[None, None, :, :]
    prim_S = (math.pi / p) ** 1.5 * torch.exp(-mu * AB2)
    S = (dd * prim_S).sum((1, 3))
    T = (dd * mu * (3 - 2 * mu * AB2) * prim_S).sum((1, 3))
    PC2 = ((P[..., None, :] - centres) ** 2).sum(-1)
    prim_V = (
        -2
        * math.pi
        / p[..., None]
        * torch.exp(-mu * AB2)[..., None]
        * charges
        * boys0(p[..., None] * PC2)
    )
    V = (dd[..., None] * prim_V).sum((1, 3, 4))
    K = torch.exp(-mu * AB2)
    p1, p2 = p[:, :, :, :, None, None, None, None], p[None, None, None, None]
    PQ2 = ((P[:, :, :, :, None, None, None, None, :] - P[None, None, None, None]) ** 2).sum(-1)
    prim_eri = (
        2
        * math.pi**2.5
        / (p1 * p2 * torch.sqrt(p1 + p2))
        * K[:, :, :, :, None, None, None, None]
        * K[None, None, None, None]
        * boys0(p1 * p2 / (p1 + p2) * PQ2)
    )
    weights = dd[:, :, :, :, None, None, None, None] * dd[None, None, None, None]
    eri = (weights * prim_eri).sum((1, 3, 5, 7))
    return S, T, V, eri


def scf(centres, charges, n_occ=1, iters=12, diis_size=4):
    S, T, V, eri = integrals(centres, charges)
    H = T + V
    s, U = torch.linalg.eigh(S)
    X = U @ torch.diag(torch.rsqrt(s)) @ U.T
    _, Cp = torch.linalg.eigh(X.T @ H @ X)  # core-Hamiltonian guess
    density = 2 * (X @ Cp)[:, :n_occ] @ (X @ Cp)[:, :n_occ].T
    focks, errors, energies = [], [], []
    for _ in range(iters):
        J = torch.einsum("pqrs,rs->pq", eri, density)
        K = torch.einsum("prqs,rs->pq", eri, density)
        F = H + J - 0.5 * K
        err = F @ density @ S - S @ density @ F
        focks, errors = (focks + [F])[-diis_size:], (errors + [err])[-diis_size:]
        if len(focks) > 1 and err.abs().max() > 1e-7:
            m = len(focks)
            B = -torch.ones(m + 1, m + 1, dtype=DT)
            B[m, m] = 0
            B[:m, :m] = torch.stack(
                [torch.stack([(e1 * e2).sum() for e2 in errors]) for e1 in errors]
            )
            rhs = torch.zeros(m + 1, dtype=DT)
            rhs[m] = -1
            c = torch.linalg.solve(B, rhs)[:m]
            F = torch.einsum("k,kpq->pq", c, torch.stack(focks))
        e, Cp = torch.linalg.eigh(X.T @ F @ X)
        C = X @ Cp
        occ = C[:, :n_occ]
        density = 2 * occ @ occ.T
        electronic = 0.5 * (density * (2 * H + J - 0.5 * K)).sum()
        energies.append(electronic)
    dist = torch.cdist(centres, centres)
    pair = charges[:, None] * charges[None, :] / (dist + torch.eye(len(charges), dtype=DT))
    nuclear = torch.triu(pair, diagonal=1).sum()
    return energies[-1] + nuclear, e, energies, S


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(2)
    report = {"library": torch.__name__, "losses": []}
    charges = torch.ones(3, dtype=DT)
    h2 = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 1.4]], dtype=DT)
    e_h2, orbitals, _, S = scf(h2, charges[:2])
    report["h2"] = {
        "energy": round(e_h2.item(), 6),
        "orbitals": r(orbitals, 5),
        "S01": round(S[0, 1].item(), 6),
    }

    geometry = torch.tensor([[0.0, 0.0, 0.0], [1.7, 0.0, 0.0], [0.8, 1.5, 0.0]], dtype=DT)
    if not args.deterministic:
        geometry = geometry + 0.01 * torch.randn_like(geometry)
    centres = geometry.clone().requires_grad_(True)
    energy, orbitals, history, _ = scf(centres, charges)
    (forces,) = torch.autograd.grad(energy, centres)
    h = 1e-4
    probe = geometry.clone()
    probe[1, 0] += h
    up = scf(probe, charges)[0]
    probe[1, 0] -= 2 * h
    down = scf(probe, charges)[0]
    report["h3"] = {
        "energy": round(energy.item(), 6),
        "converged": bool(abs(history[-1] - history[-2]) < 1e-8),
        "orbitals": r(orbitals, 5),
        "forces": r(forces, 5),
        "fd_matches": bool(abs((up - down).item() / (2 * h) - forces[1, 0].item()) < 1e-5),
        "net_force": bool(forces.sum(0).abs().max() < 1e-8),
    }

    optimizer = torch.optim.LBFGS([centres], lr=0.5, max_iter=4, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = scf(centres, charges, iters=10)[0]
        loss.backward()
        return loss

    for _ in range(2):
        report["losses"].append(round(optimizer.step(closure).item(), 7))
    bonds = torch.pdist(centres.detach())
    report["geometry"] = {"bonds": r(bonds.sort().values, 3)}
    torch.save({"centres": centres.detach()}, args.checkpoint)
    report["state"] = list(torch.load(args.checkpoint)["centres"].shape)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
