"""Physics-informed networks in the torch.func style that Hamiltonian and Lagrangian neural
network papers use: a learned Hamiltonian H(q, p) (an `nn.Module` called through
`torch.func.functional_call`) whose symplectic gradient comes from `torch.func.grad` and is
batched with `torch.func.vmap`, trained on pendulum trajectories (the data from a symplectic
leapfrog integrator of the true Hamiltonian) with `create_graph`-style second derivatives
through the training loss; a learned Lagrangian whose accelerations solve
`hessian(L, qdot) qddot = dL/dq - (d2L/dq dqdot) qdot` with `torch.func.hessian`,
`torch.func.jacfwd(torch.func.jacrev(...))` and `torch.linalg.solve`; the energy drift of
leapfrog rollouts under the learned H, a forward-mode directional derivative with
`torch.func.jvp` and `torch.autograd.forward_ad` dual numbers, and `torch.func.vjp`.
Run: python hamiltonian_lagrangian_nets.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn as nn
from torch.func import functional_call, grad, hessian, jacfwd, jacrev, jvp, vjp, vmap

DTYPE = torch.float64


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().flatten().tolist()]


def true_hamiltonian(state):
    q, p = state.unbind(-1)
    return 0.5 * p**2 + 2.0 * (1 - torch.cos(q))


def symplectic_field(hamiltonian):
    """dq/dt = dH/dp, dp/dt = -dH/dq, for one state, by torch.func.grad."""
    dH = grad(hamiltonian)

    def field(state):
        dq, dp = dH(state).unbind(-1)
        return torch.stack([dp, -dq])

    return field


def leapfrog(hamiltonian, state, dt, steps):
    dH = grad(hamiltonian)
    q, p = state.unbind(-1)
    out = [state]
    for _ in range(steps):
        p = p - 0.5 * dt * dH(torch.stack([q, p]))[0]
        q = q + dt * dH(torch.stack([q, p]))[1]
        p = p - 0.5 * dt * dH(torch.stack([q, p]))[0]
        out.append(torch.stack([q, p]))
    return torch.stack(out)


class MLP(nn.Module):
    def __init__(self, inputs, hidden=24):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Softplus()
        )
        self.out = nn.Linear(hidden, 1, bias=False)

    def forward(self, x):
        return self.out(self.net(x)).squeeze(-1)


def lagrangian_acceleration(lagrangian, q, qdot):
    """Euler-Lagrange solved for qddot (one degree of freedom per entry of q)."""
    H = hessian(lagrangian, argnums=1)(q, qdot)
    dL_dq = grad(lagrangian, argnums=0)(q, qdot)
    mixed = jacfwd(jacrev(lagrangian, argnums=1), argnums=0)(q, qdot)
    return torch.linalg.solve(H, dL_dq - mixed @ qdot)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    report = {"library": torch.__name__}
    if args.deterministic:
        starts = torch.stack(
            [1.2 * torch.sin(torch.arange(6.0) * 1.7), 0.8 * torch.cos(torch.arange(6.0))], 1
        ).to(DTYPE)
    else:
        starts = torch.randn(6, 2, dtype=DTYPE)

    # Data: leapfrog of the true pendulum, and its exact time derivatives.
    trajectories = torch.cat([leapfrog(true_hamiltonian, s, 0.1, 10) for s in starts])
    targets = vmap(symplectic_field(true_hamiltonian))(trajectories)
    energy = true_hamiltonian(trajectories).view(6, 11)
    report["data"] = {
        "shape": list(trajectories.shape),
        "energy_drift": round((energy.max(1).values - energy.min(1).values).max().item(), 6),
        "target_norm": round(targets.norm().item(), 5),
    }

    # A Hamiltonian network: the loss differentiates through torch.func.grad.
    model = MLP(2).to(DTYPE)
    if args.deterministic:
        with torch.no_grad():
            for i, p in enumerate(model.parameters()):
                p.copy_(
                    0.4 * torch.sin(torch.arange(p.numel(), dtype=DTYPE) * (0.7 + i)).view_as(p)
                )
    params = dict(model.named_parameters())

    def learned(state, params):
        return functional_call(model, params, (state,))

    def predicted(params, states):
        field = symplectic_field(lambda s: learned(s, params))
        return vmap(field)(states)

    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = (predicted(params, trajectories) - targets).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(round(loss.item(), 7))
    report["losses"] = losses

    # Roll out the learned H with leapfrog; it conserves its own energy.
    with torch.no_grad():
        start = starts[0]
        rollout = leapfrog(lambda s: learned(s, params), start, 0.1, 20)
        learned_energy = vmap(lambda s: learned(s, params))(rollout)
    report["rollout"] = {
        "end": r(rollout[-1], 5),
        "learned_drift": round((learned_energy.max() - learned_energy.min()).item(), 7),
    }

    # Forward mode: d/dt H along the learned flow is zero, by jvp and by dual numbers.
    state = starts[1]
    field = symplectic_field(lambda s: learned(s, params))(state)
    _, along_flow = jvp(lambda s: learned(s, params), (state,), (field,))
    with fwAD.dual_level():
        dual = fwAD.make_dual(state, field)
        tangent = fwAD.unpack_dual(learned(dual, params)).tangent
    value, pullback = vjp(lambda s: learned(s, params), state)
    (cotangent,) = pullback(torch.ones((), dtype=DTYPE))
    report["forward_mode"] = {
        "jvp_zero": abs(along_flow.item()) < 1e-10,
        "dual_zero": abs(tangent.item()) < 1e-10,
        "vjp": r(cotangent, 6),
        "value": round(value.item(), 6),
    }

    # A Lagrangian with a position-dependent mass: accelerations from Euler-Lagrange.
    def lagrangian(q, qdot):
        mass = torch.stack([1.0 + 0.3 * torch.cos(q[1]), torch.ones((), dtype=DTYPE)])
        return 0.5 * (mass * qdot**2).sum() + 0.2 * qdot.prod() + torch.cos(q).sum()

    q = torch.tensor([0.4, -0.7], dtype=DTYPE)
    qdot = torch.tensor([0.3, 0.5], dtype=DTYPE)
    acc = lagrangian_acceleration(lagrangian, q, qdot)
    batch_q = torch.stack([q, q.flip(0), 2 * q])
    batch_acc = vmap(lagrangian_acceleration, in_dims=(None, 0, None))(lagrangian, batch_q, qdot)
    report["lagrangian"] = {
        "acceleration": r(acc, 6),
        "mass_matrix": r(hessian(lagrangian, argnums=1)(q, qdot), 6),
        "batched": r(batch_acc, 6),
        "first_matches": bool(torch.allclose(batch_acc[0], acc)),
    }

    # A learned Lagrangian network fitted to the pendulum's accelerations (q'' = -2 sin q).
    lnn = MLP(2, hidden=16).to(DTYPE)
    if args.deterministic:
        with torch.no_grad():
            for i, p in enumerate(lnn.parameters()):
                p.copy_(
                    0.5 * torch.cos(torch.arange(p.numel(), dtype=DTYPE) * (1.1 + i)).view_as(p)
                )
    q_data, qdot_data = trajectories[::4, :1], trajectories[::4, 1:]
    true_acc = -2.0 * torch.sin(q_data)
    lnn_params = dict(lnn.named_parameters())

    def lnn_acc(params, q, qdot):
        def L(q, qdot):  # a kinetic prior keeps d2L/dqdot2 invertible
            learned = functional_call(lnn, params, (torch.cat([q, qdot]),))
            return 0.5 * qdot.pow(2).sum() + 0.2 * learned

        return lagrangian_acceleration(L, q, qdot)

    sgd = torch.optim.SGD(lnn.parameters(), lr=0.1, momentum=0.9)
    lnn_losses = []
    for _ in range(10):
        sgd.zero_grad()
        pred = vmap(lnn_acc, in_dims=(None, 0, 0))(lnn_params, q_data, qdot_data)
        loss = (pred - true_acc).pow(2).mean()
        loss.backward()
        sgd.step()
        lnn_losses.append(round(loss.item(), 6))
    report["lnn_losses"] = lnn_losses
    torch.save({"hnn": model.state_dict(), "lnn": lnn.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["saved"] = sorted(state["hnn"]) + sorted(state["lnn"])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
