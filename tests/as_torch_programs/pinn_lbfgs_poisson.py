"""A physics-informed network for the 1-D Poisson problem u'' = -pi^2 sin(pi x), u(0)=u(1)=0,
as PINN tutorials write it: collocation points with `requires_grad_()`, first and second
derivatives by `torch.autograd.grad(..., grad_outputs=torch.ones_like(u), create_graph=True)`,
a residual + boundary loss, a few Adam steps then `torch.optim.LBFGS` with a closure and
`line_search_fn="strong_wolfe"`, a Tanh MLP in float64 via `.double()`, the error against the
exact solution, `torch.autograd.functional.hessian` / `jacobian` and `torch.func.grad` checks
of the same derivatives, and a checkpoint of the model and the LBFGS state.

Run: python pinn_lbfgs_poisson.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn


class PINN(nn.Module):
    def __init__(self, width=12):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
        )

    def forward(self, x):
        return self.net(x)


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=p.dtype) * 1.1 + 0.5 * i)
            p.copy_(values.view_as(p) * 0.8)


def derivatives(model, x):
    u = model(x)
    du = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
    d2u = torch.autograd.grad(du, x, grad_outputs=torch.ones_like(du), create_graph=True)[0]
    return u, du, d2u


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(7)

    model = PINN().double()
    if args.deterministic:
        fixed_init(model)
    x = torch.linspace(0, 1, 33, dtype=torch.float64).unsqueeze(1).requires_grad_()
    boundary = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    forcing = -(math.pi**2) * torch.sin(math.pi * x.detach())

    def loss_fn():
        _, _, d2u = derivatives(model, x)
        residual = d2u - forcing
        return residual.pow(2).mean() + 10 * model(boundary).pow(2).mean()

    losses = []
    adam = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(20):
        adam.zero_grad()
        loss = loss_fn()
        loss.backward()
        adam.step()
        losses.append(loss.item())

    lbfgs = torch.optim.LBFGS(
        model.parameters(), lr=1.0, max_iter=20, history_size=10, line_search_fn="strong_wolfe"
    )

    def closure():
        lbfgs.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    for _ in range(3):
        losses.append(lbfgs.step(closure).item())

    with torch.no_grad():
        grid = torch.linspace(0, 1, 11, dtype=torch.float64).unsqueeze(1)
        error = (model(grid) - torch.sin(math.pi * grid)).abs().max().item()

    # The same second derivative three more ways.
    point = torch.tensor([0.3], dtype=torch.float64)
    scalar = lambda p: model(p.view(1, 1)).squeeze()  # noqa: E731
    hess = torch.autograd.functional.hessian(scalar, point).item()
    jac = torch.autograd.functional.jacobian(scalar, point).tolist()
    func_d2 = torch.func.grad(torch.func.grad(scalar))(point.squeeze()).item()
    p = point.view(1, 1).clone().requires_grad_(True)
    _, du, d2u = derivatives(model, p)
    state = lbfgs.state_dict()
    torch.save({"model": model.state_dict(), "lbfgs": state}, args.checkpoint)
    loaded = torch.load(args.checkpoint, weights_only=True)
    again = PINN().double()
    again.load_state_dict(loaded["model"])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "error": error,
                "second": [hess, func_d2, d2u.item()],
                "first": [jac, du.item()],
                "dtype": str(next(model.parameters()).dtype),
                "requires_grad": [d2u.requires_grad, du.grad_fn is not None],
                "lbfgs_state": sorted(loaded["lbfgs"]["state"][0].keys()),
                "lbfgs_iters": [state["state"][0]["func_evals"], state["state"][0]["n_iter"]],
                "group_keys": sorted(k for k in state["param_groups"][0] if k != "params"),
                "reloaded": torch.equal(again(grid), model(grid)),
            }
        )
    )


if __name__ == "__main__":
    main()
