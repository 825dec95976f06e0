"""A neural ODE trained through a hand-written RK4 solver, as physics-ML notebooks write it
without torchdiffeq: a damped pendulum simulated by `torch.stack`-ed RK4 steps in a Python
loop, a small Tanh MLP vector field fitted to the trajectory by backpropagating through the
solver, energy computed along it; then the derivatives of the learned field taken every way
PyTorch offers: `torch.autograd.functional.jacobian` (vectorize False and True,
`create_graph`), `hessian`, `vjp`, `jvp`, `hvp`, `vhp`, and `torch.func.jacrev`, `jacfwd`,
`hessian`, `vjp`, `jvp`, `vmap(jacrev)` over a batch; the Jacobian's eigenvalues
(`torch.linalg.eigvals`, complex) at the equilibrium as a stability check; a trace of the
Jacobian as in continuous normalising flows (Hutchinson with a fixed probe vs exact).
Run: python neural_ode_rk4_functional.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
from torch.autograd import functional as AF
from torch.func import hessian, jacfwd, jacrev, jvp, vjp, vmap


def pendulum(t, state, damping=0.3):
    theta, omega = state[..., 0], state[..., 1]
    return torch.stack([omega, -torch.sin(theta) - damping * omega], dim=-1)


def rk4(f, y0, t):
    ys = [y0]
    y = y0
    for i in range(len(t) - 1):
        h = t[i + 1] - t[i]
        k1 = f(t[i], y)
        k2 = f(t[i] + h / 2, y + h / 2 * k1)
        k3 = f(t[i] + h / 2, y + h / 2 * k2)
        k4 = f(t[i] + h, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return torch.stack(ys)


class ODEFunc(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 2))

    def forward(self, t, y):
        return self.net(y)


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).flatten().tolist()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)
    torch.set_default_dtype(torch.float64)

    t = torch.linspace(0.0, 4.0, 21)
    y0 = torch.tensor([[1.0, 0.0], [-0.5, 1.0], [2.0, -0.5]])
    with torch.no_grad():
        true_traj = rk4(pendulum, y0, t)
    func = ODEFunc()
    if args.deterministic:
        with torch.no_grad():
            for i, p in enumerate(func.parameters()):
                p.copy_(0.4 * torch.cos(torch.arange(p.numel()) * 0.7 + i).view_as(p))
    optimizer = torch.optim.Adam(func.parameters(), lr=0.02)
    losses = []
    for _ in range(12):
        optimizer.zero_grad()
        pred = rk4(func, y0, t)
        loss = torch.mean(torch.abs(pred - true_traj))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    energy = 0.5 * pred[..., 1] ** 2 + (1 - torch.cos(pred[..., 0]))
    report = {"library": torch.__name__, "losses": losses, "traj_shape": list(pred.shape)}
    report["energy_end"] = r(energy[-1].detach())

    field = lambda y: func(None, y)  # noqa: E731
    point = torch.tensor([0.3, -0.2])
    j1 = AF.jacobian(field, point)
    j2 = AF.jacobian(field, point, vectorize=True)
    j3 = jacrev(field)(point)
    j4 = jacfwd(field)(point)
    j5 = AF.jacobian(field, point, strategy="forward-mode", vectorize=True)
    report["jacobian"] = r(j1)
    report["jacobians_agree"] = [bool(torch.allclose(j1, j)) for j in (j2, j3, j4, j5)]
    report["jac_requires_grad"] = [
        j1.requires_grad,
        AF.jacobian(field, point, create_graph=True).requires_grad,
    ]

    energy_of = lambda y: 0.5 * field(y).pow(2).sum()  # noqa: E731
    h1 = AF.hessian(energy_of, point)
    h2 = hessian(energy_of)(point)
    h3 = jacfwd(jacrev(energy_of))(point)
    report["hessian"] = r(h1)
    report["hessians_agree"] = [bool(torch.allclose(h1, h2)), bool(torch.allclose(h1, h3))]

    v = torch.tensor([1.0, -2.0])
    out, vj = AF.vjp(field, point, v)
    out2, jv = AF.jvp(field, point, v)
    _, hv = AF.hvp(energy_of, point, v)
    _, vh = AF.vhp(energy_of, point, v)
    _, vjp_fn = vjp(field, point)
    (vj_func,) = vjp_fn(v)
    _, jv_func = jvp(field, (point,), (v,))
    report["vjp"] = r(vj) + r(vj_func)
    report["jvp"] = r(jv) + r(jv_func)
    report["hvp"] = r(hv) + r(vh)
    report["out_same"] = bool(torch.equal(out, out2))

    # Jacobians of the field at a batch of states, and the divergence (trace) two ways.
    states = torch.stack([torch.linspace(-1, 1, 4), torch.linspace(0.5, -0.5, 4)], 1)
    batch_jac = vmap(jacrev(field))(states)
    exact_div = torch.diagonal(batch_jac, dim1=-2, dim2=-1).sum(-1)
    probe = torch.tensor([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0]])
    s = states.clone().requires_grad_(True)
    f_s = field(s)
    (vjp_probe,) = torch.autograd.grad(f_s, s, probe, create_graph=True)
    hutch = (vjp_probe * probe).sum(-1)
    report["divergence"] = r(exact_div) + r(hutch.detach())
    report["batch_jac_shape"] = list(batch_jac.shape)

    # Stability of the learned field at the origin: eigenvalues of its Jacobian.
    eig = torch.linalg.eigvals(AF.jacobian(field, torch.zeros(2)))
    eig = eig[torch.argsort(eig.imag)]
    report["eig"] = [str(eig.dtype), r(eig.real, 4), r(eig.imag.abs(), 4)]
    report["default_dtype"] = str(torch.get_default_dtype())
    torch.save(func.state_dict(), args.checkpoint)
    report["saved_dtypes"] = sorted({str(v.dtype) for v in torch.load(args.checkpoint).values()})
    print(json.dumps(report))


if __name__ == "__main__":
    main()
