"""Quantum optimal control (GRAPE) and small-system quantum mechanics, as physics groups write
them in PyTorch with complex tensors: Pauli matrices and a two-qubit Hamiltonian from
`torch.kron`, a Heisenberg chain's ground state by complex Hermitian `torch.linalg.eigh`,
time evolution by `torch.linalg.matrix_exp(-1j * H * dt)` of piecewise-constant controls, the
gate fidelity |Tr(U_target^H U)|^2 / d^2 maximised by Adam on real control amplitudes through
the complex products, expectation values with `.conj()`, `torch.vdot`, `.mH`, `.adjoint()`,
`torch.view_as_real`, `torch.polar`, `.angle()`, density matrices, von Neumann entropy of a
partial trace (`eigvalsh`, `xlogy`), Wirtinger gradients of a complex loss checked against
finite differences, and the printed complex tensors.
Run: python quantum_control_grape.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn

C = torch.complex128
I2 = torch.eye(2, dtype=C)
X = torch.tensor([[0, 1], [1, 0]], dtype=C)
Y = torch.tensor([[0, -1j], [1j, 0]], dtype=C)
Z = torch.tensor([[1, 0], [0, -1]], dtype=C)


def op_at(op, site, n):
    out = torch.ones(1, 1, dtype=C)
    for k in range(n):
        out = torch.kron(out, op if k == site else I2)
    return out


def heisenberg(n, coupling, field):
    H = torch.zeros(2**n, 2**n, dtype=C)
    for k in range(n - 1):
        for P in (X, Y, Z):
            H = H + coupling * op_at(P, k, n) @ op_at(P, k + 1, n)
    for k in range(n):
        H = H + field * op_at(Z, k, n)
    return H


class Controls(nn.Module):
    def __init__(self, steps):
        super().__init__()
        t = torch.arange(steps, dtype=torch.float64)
        self.amp = nn.Parameter(
            torch.stack([0.3 * torch.sin(0.4 * t), 0.2 * torch.cos(0.3 * t)], 1)
        )

    def propagator(self, drift, ops, dt):
        U = torch.eye(drift.shape[0], dtype=C)
        for a in self.amp:
            H = drift + a[0] * ops[0] + a[1] * ops[1]
            U = torch.linalg.matrix_exp(-1j * dt * H) @ U
        return U


def r(t, n=6):
    t = torch.as_tensor(t).detach()
    if t.is_complex():
        t = torch.view_as_real(t.resolve_conj())
    return [round(v, n) for v in t.flatten().tolist()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__}

    # Ground state of a 3-site Heisenberg chain, and observables.
    H = heisenberg(3, 1.0, 0.3)
    energies, states = torch.linalg.eigh(H)
    psi = states[:, 0]
    magnet = [torch.vdot(psi, op_at(Z, k, 3) @ psi).real.item() for k in range(3)]
    rho = torch.outer(psi, psi.conj())
    rho_a = rho.reshape(2, 4, 2, 4).diagonal(dim1=1, dim2=3).sum(-1)  # trace out sites 2-3
    probs = torch.linalg.eigvalsh(rho_a).clamp(min=0)
    report["chain"] = {
        "energies": r(energies),
        "hermitian": bool(torch.allclose(H, H.mH)),
        "magnetization": [round(m, 6) for m in magnet],
        "purity": round(torch.trace(rho_a @ rho_a).real.item(), 6),
        "entropy": round(-torch.special.xlogy(probs, probs).sum().item(), 6),
        "dtypes": [str(energies.dtype), str(states.dtype)],
        "norm": round(torch.linalg.vector_norm(psi).item(), 8),
    }

    # GRAPE: a CNOT-like entangling gate from a drift and two controls.
    drift = 0.5 * torch.kron(Z, Z)
    ops = [torch.kron(X, I2) + torch.kron(I2, X), torch.kron(Y, I2) + torch.kron(I2, Y)]
    target = torch.linalg.matrix_exp(-1j * math.pi / 4 * torch.kron(Z, Z)) @ torch.kron(
        torch.linalg.matrix_exp(-0.25j * math.pi * X), I2
    )
    controls = Controls(12)
    if not args.deterministic:
        with torch.no_grad():
            controls.amp.add_(0.01 * torch.randn_like(controls.amp))
    opt = torch.optim.Adam(controls.parameters(), lr=0.05)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        U = controls.propagator(drift, ops, 0.25)
        fidelity = (torch.trace(target.adjoint() @ U).abs() / 4) ** 2
        loss = 1 - fidelity
        loss.backward()
        opt.step()
        losses.append(round(loss.item(), 8))
    report["losses"] = losses
    U = controls.propagator(drift, ops, 0.25).detach()
    report["gate"] = {
        "unitary": bool(torch.allclose(U.mH @ U, torch.eye(4, dtype=C), atol=1e-10)),
        "det_angle": round(torch.linalg.det(U).angle().item(), 6),
        "abs": r(U.abs(), 5),
        "grad_dtype": str(controls.amp.grad.dtype),
    }

    # A complex parameter: Wirtinger gradient, against finite differences of the real loss.
    z = torch.tensor([0.3 + 0.4j, -0.2 + 0.1j], dtype=C, requires_grad=True)

    def real_loss(v):
        phase = torch.polar(
            torch.ones(2, dtype=torch.float64),
            torch.tensor([0.1, 0.7], dtype=torch.float64),
        )
        return (
            (v * phase).abs().pow(3).sum()
            + (v.conj() * v.flip(0)).real.sum()
            + torch.sin(v).imag.sum()
        )

    (gz,) = torch.autograd.grad(real_loss(z), z)
    h = 1e-6
    fd = []
    for k in range(2):
        for d in (1.0, 1j):
            e = torch.zeros(2, dtype=C)
            e[k] = d * h
            fd.append((real_loss(z.detach() + e) - real_loss(z.detach() - e)).item() / (2 * h))
    report["wirtinger"] = {
        "grad": r(gz),
        "fd_matches": bool(
            torch.allclose(
                torch.view_as_real(gz).flatten(),
                torch.tensor(fd, dtype=torch.float64),
                atol=1e-5,
            )
        ),
        "conj": [
            r(z.conj().resolve_conj()),
            z.conj().resolve_conj().is_conj(),
            torch.is_complex(z),
        ],
        "repr": repr(torch.tensor([1 + 2j, -0.5j], dtype=torch.complex64)),
        "angle": r(z.angle()),
        "real_view": list(torch.view_as_real(z.detach()).shape),
    }
    torch.save(controls.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
