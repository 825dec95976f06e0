"""Equation discovery and pattern formation as dynamical-systems notebooks write them in
PyTorch: the Lorenz system integrated by RK4 in float64, its derivatives estimated by
`torch.gradient` (second-order edges), a polynomial library built from `torch.combinations`
(with replacement) and `torch.prod`, sparse identification of the dynamics (SINDy) by
sequentially thresholded `torch.linalg.lstsq` with masks, and the same regression as a Lasso
solved by FISTA with `F.softshrink` and the step from `torch.linalg.matrix_norm(ord=2)`
(checked against coordinate-free `torch.linalg.svdvals`); then a Gray-Scott reaction-diffusion
system on a periodic grid whose Laplacian is a 5-point stencil through `F.conv2d` on
`F.pad(mode="circular")` input, compared with an `nn.Conv2d(padding_mode="circular")` layer and a
spectral Laplacian from `torch.fft.fft2` / `fftfreq`, and the feed rate fitted back by gradient
descent through the unrolled simulation.
Run: python sindy_lasso_reaction_diffusion.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F
from torch import nn

DT = torch.float64


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def lorenz(state, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    x, y, z = state.unbind(-1)
    return torch.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], -1)


def rk4(f, state, dt, steps):
    out = [state]
    for _ in range(steps):
        k1 = f(state)
        k2 = f(state + dt / 2 * k1)
        k3 = f(state + dt / 2 * k2)
        k4 = f(state + dt * k3)
        state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(state)
    return torch.stack(out)


def library(states, degree=2):
    """1, the states, and their products up to `degree` (as sklearn's PolynomialFeatures)."""
    n = states.shape[1]
    columns = [torch.ones(len(states), dtype=states.dtype)]
    names = ["1"]
    for d in range(1, degree + 1):
        for combo in torch.combinations(torch.arange(n), r=d, with_replacement=True):
            columns.append(torch.prod(states[:, combo], dim=1))
            names.append("*".join("xyz"[i] for i in combo.tolist()))
    return torch.stack(columns, 1), names


def stlsq(theta, dx, threshold, iters=8):
    xi = torch.linalg.lstsq(theta, dx).solution
    for _ in range(iters):
        small = xi.abs() < threshold
        xi = xi.masked_fill(small, 0.0)
        for k in range(dx.shape[1]):
            keep = ~small[:, k]
            if keep.any():
                xi[keep, k] = torch.linalg.lstsq(theta[:, keep], dx[:, k : k + 1]).solution[:, 0]
    return xi


def fista(theta, dx, lam, iters):
    step = 1.0 / torch.linalg.matrix_norm(theta, ord=2) ** 2
    w = torch.zeros(theta.shape[1], dx.shape[1], dtype=theta.dtype)
    z, t = w.clone(), 1.0
    for _ in range(iters):
        w_next = F.softshrink(z - step * theta.T @ (theta @ z - dx), lambd=(lam * step).item())
        t_next = (1 + math.sqrt(1 + 4 * t * t)) / 2
        z = w_next + (t - 1) / t_next * (w_next - w)
        w, t = w_next, t_next
    return w, step


STENCIL = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], dtype=DT)


def laplacian(field):
    padded = F.pad(field[:, None], (1, 1, 1, 1), mode="circular")
    return F.conv2d(padded, STENCIL[None, None]).squeeze(1)


def gray_scott(u, v, feed, kill=0.062, du=0.16, dv=0.08, dt=1.0, steps=40):
    for _ in range(steps):
        uvv = u * v * v
        u = u + dt * (du * laplacian(u) - uvv + feed * (1 - u))
        v = v + dt * (dv * laplacian(v) + uvv - (feed + kill) * v)
    return u, v


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    # Lorenz data, derivatives by finite differences, SINDy and Lasso.
    dt = 0.01
    start = torch.tensor([-8.0, 7.0, 27.0], dtype=DT)
    if not args.deterministic:
        start = start + 0.1 * torch.randn(3, dtype=DT)
    traj = rk4(lorenz, start, dt, 400)
    (dx_fd,) = torch.gradient(traj, spacing=dt, dim=0, edge_order=2)
    exact = lorenz(traj)
    theta, names = library(traj)
    xi = stlsq(theta, dx_fd, threshold=0.5)
    scale = theta.norm(dim=0)
    w, step = fista(theta / scale, dx_fd, lam=5.0, iters=150)
    report["sindy"] = {
        "names": names,
        "fd_error": round((dx_fd - exact).abs().max().item(), 4),
        "terms": torch.count_nonzero(xi, dim=0).tolist(),
        "xi_nonzero": r(xi[xi != 0], 3),
        "support": [
            [names[i] for i in torch.nonzero(xi[:, k]).flatten().tolist()] for k in range(3)
        ],
        "lasso_support": torch.count_nonzero(w, dim=0).tolist(),
        "lasso_top": [names[i] for i in w.abs().argmax(0).tolist()],
        "step_vs_svd": round((step * torch.linalg.svdvals(theta / scale)[0] ** 2).item(), 8),
        "cond": round(torch.linalg.cond(theta / scale).item(), 2),
    }
    report["losses"].append(round((theta @ xi - dx_fd).pow(2).mean().item(), 6))

    # Gray-Scott on a 24x24 torus from a seeded square of v.
    n = 24
    u = torch.ones(1, n, n, dtype=DT)
    v = torch.zeros(1, n, n, dtype=DT)
    u[:, 9:15, 9:15] = 0.5
    v[:, 9:15, 9:15] = 0.25
    if not args.deterministic:
        v = v + 0.01 * torch.rand(1, n, n, dtype=DT)
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(STENCIL[None, None])
    k = torch.fft.fftfreq(n, dtype=DT) * 2 * math.pi
    symbol = -(2 - 2 * torch.cos(k))[:, None] - (2 - 2 * torch.cos(k))[None, :]
    spectral = torch.fft.ifft2(torch.fft.fft2(v[0]) * symbol).real
    report["laplacian"] = {
        "module_agrees": bool(torch.allclose(conv(v[:, None]).squeeze(1), laplacian(v))),
        "spectral_agrees": round((spectral - laplacian(v)[0]).abs().max().item(), 12),
        "sum": round(laplacian(v).sum().item(), 10),
    }
    u_end, v_end = gray_scott(u, v, feed=torch.tensor(0.035, dtype=DT))
    target = v_end.detach()
    report["gray_scott"] = {
        "v_mean": round(v_end.mean().item(), 6),
        "u_min": round(u_end.min().item(), 6),
        "v_rows": r(v_end[0, 12, ::4], 5),
    }

    # Fit the feed rate back from the final pattern.
    feed = torch.tensor(0.03, dtype=DT, requires_grad=True)
    opt = torch.optim.Adam([feed], lr=2e-3)
    for _ in range(6):
        opt.zero_grad()
        _, v_fit = gray_scott(u, v, feed=feed)
        loss = (v_fit - target).pow(2).mean() * 1e4
        loss.backward()
        opt.step()
        report["losses"].append(round(loss.item(), 6))
    report["feed"] = round(feed.item(), 5)
    torch.save({"xi": xi, "feed": feed.detach(), "conv": conv.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = [list(state["xi"].shape), sorted(state["conv"])]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
