"""Sparse recovery and imaging as compressed-sensing notebooks write them in PyTorch: ISTA
and FISTA for the lasso with `F.softshrink` (and `torch.sign` * `torch.clamp_min` written out),
iterative hard thresholding with `F.hardshrink`, an unrolled LISTA network whose thresholds
and matrices are trained by backpropagation through the iterations; total-variation denoising
of an image by gradient steps on a smoothed TV built from `torch.diff` and boundary handling
with `F.pad(mode="reflect" / "replicate" / "circular")`; and phase retrieval from Fourier
magnitudes (Gerchberg-Saxton with `torch.fft.fft2`, `torch.angle` and `torch.polar`, then
refinement by gradient descent through `abs()` of complex values).
Run: python sparse_recovery_tv_phase_retrieval.py CHECKPOINT [--deterministic].
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def r(t, n=6):
    return [round(v, n) for v in torch.as_tensor(t).detach().double().flatten().tolist()]


def ista(A, y, lam, iters, fast=False):  # noqa: N803 - the sensing matrix
    step = 1 / torch.linalg.matrix_norm(A, ord=2) ** 2
    x = torch.zeros(A.shape[1], dtype=A.dtype)
    z, t = x, 1.0
    for _ in range(iters):
        x_new = F.softshrink(z - step * A.T @ (A @ z - y), lambd=(lam * step).item())
        if fast:
            t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
            z = x_new + (t - 1) / t_new * (x_new - x)
            t = t_new
        else:
            z = x_new
        x = x_new
    return x


def iht(A, y, keep, iters):  # noqa: N803
    step = 1 / torch.linalg.matrix_norm(A, ord=2) ** 2
    x = torch.zeros(A.shape[1], dtype=A.dtype)
    for _ in range(iters):
        v = x - step * A.T @ (A @ x - y)
        threshold = v.abs().topk(keep).values[-1] - 1e-12
        x = F.hardshrink(v, lambd=threshold.item())
    return x


class LISTA(nn.Module):
    def __init__(self, A, layers):  # noqa: N803
        super().__init__()
        step = 1 / torch.linalg.matrix_norm(A, ord=2) ** 2
        self.W = nn.Parameter(step * A.T.clone())
        self.S = nn.Parameter(torch.eye(A.shape[1]) - step * A.T @ A)
        self.theta = nn.Parameter(torch.full((layers,), 0.02))

    def forward(self, y):
        b = y @ self.W.T
        x = torch.sign(b) * torch.clamp_min(b.abs() - self.theta[0], 0)
        for theta in self.theta[1:]:
            v = b + x @ self.S.T
            x = torch.sign(v) * torch.clamp_min(v.abs() - theta, 0)
        return x


def tv(image, eps=1e-3, mode="replicate"):
    padded = F.pad(image[None, None], (0, 1, 0, 1), mode=mode)[0, 0]
    dx = torch.diff(padded, dim=1)[:-1]
    dy = torch.diff(padded, dim=0)[:, :-1]
    return torch.sqrt(dx**2 + dy**2 + eps**2).sum()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    # Compressed sensing: a 5-sparse signal of length 40 from 20 cosine measurements.
    m, n = 20, 40
    rows = torch.arange(m, dtype=torch.float32)[:, None]
    cols = torch.arange(n, dtype=torch.float32)[None]
    A = torch.cos(math.pi * (rows + 0.5) * (cols * 1.37 + 0.3) / n) / math.sqrt(m / 2)
    truth = torch.zeros(n)
    truth[torch.tensor([3, 11, 19, 27, 36])] = torch.tensor([1.0, -0.7, 0.5, 1.2, -0.9])
    y = A @ truth
    if not args.deterministic:
        y = y + 0.001 * torch.randn(m)
    x_ista = ista(A, y, 0.02, 60)
    x_fista = ista(A, y, 0.02, 60, fast=True)
    x_iht = iht(A, y, 5, 40)
    report["cs"] = {
        "ista_err": round((x_ista - truth).norm().item(), 4),
        "fista_err": round((x_fista - truth).norm().item(), 4),
        "fista_support": torch.nonzero(x_fista.abs() > 0.1).flatten().tolist(),
        "iht_support": torch.nonzero(x_iht).flatten().tolist(),
        "softshrink": r(F.softshrink(torch.tensor([-1.0, -0.5, 0.2, 0.5, 2.0]))),
        "hardshrink": r(F.hardshrink(torch.tensor([-1.0, -0.5, 0.2, 0.5, 2.0]), 0.5)),
        "softshrink_mod": r(nn.Softshrink(0.3)(torch.tensor([-1.0, 0.3, 0.31]))),
        "hardshrink_mod": repr(nn.Hardshrink(0.25)),
    }
    s = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.5], requires_grad=True)
    (g_soft,) = torch.autograd.grad(F.softshrink(s, 0.5).pow(2).sum(), s)
    (g_hard,) = torch.autograd.grad(F.hardshrink(s, 0.5).pow(2).sum(), s)
    report["cs"]["grads"] = [r(g_soft), r(g_hard)]

    # LISTA: 5 unrolled layers trained on shifted copies of the sparse signal.
    shifts = torch.stack([torch.roll(truth, k) * (1 + 0.1 * k) for k in range(16)])
    measurements = shifts @ A.T
    net = LISTA(A, 5)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for epoch in range(25):
        opt.zero_grad()
        loss = F.mse_loss(net(measurements), shifts)
        loss.backward()
        opt.step()
        if epoch % 6 == 0:
            report["losses"].append(round(loss.item(), 6))
    report["lista"] = {"theta": r(net.theta, 5), "params": sum(p.numel() for p in net.parameters())}

    # TV denoising of a piecewise-constant 16x16 image.
    grid = torch.arange(16, dtype=torch.float32)
    clean = ((grid[:, None] - 7.5) ** 2 + (grid[None] - 7.5) ** 2 < 30).float()
    clean[2:5, 10:14] = 0.5
    noisy = clean + 0.2 * torch.sin(3.7 * grid[:, None] + 1.3 * grid[None] ** 1.3)
    if not args.deterministic:
        noisy = noisy + 0.01 * torch.randn(16, 16)
    u = noisy.clone().requires_grad_()
    for it in range(30):
        energy = 0.5 * ((u - noisy) ** 2).sum() + 0.08 * tv(u)
        (g,) = torch.autograd.grad(energy, u)
        with torch.no_grad():
            u -= 0.02 * g
        if it % 10 == 0:
            report["losses"].append(round(energy.item(), 5))
    img = noisy[None, None, :4, :5]
    report["tv"] = {
        "mse_noisy": round(F.mse_loss(noisy, clean).item(), 6),
        "mse_denoised": round(F.mse_loss(u.detach(), clean).item(), 6),
        "modes": [
            round(tv(noisy, mode=mode).item(), 3) for mode in ("reflect", "replicate", "circular")
        ],
        "pad_reflect": r(F.pad(img, (2, 1, 1, 2), mode="reflect")[0, 0, :, 0], 5),
        "pad_circular": r(F.pad(img, (1, 2, 2, 1), mode="circular")[0, 0, 0], 5),
        "pad_replicate_3d": list(F.pad(img[0], (1, 1), mode="replicate").shape),
        "diff_prepend": r(torch.diff(grid[:4], n=2, prepend=torch.tensor([-1.0]), append=grid[:1])),
    }

    # Phase retrieval: recover a real, non-negative 12x12 object from |FFT|.
    obj = torch.zeros(12, 12, dtype=torch.float64)
    obj[3:8, 4:9] = torch.outer(
        torch.hann_window(5, dtype=torch.float64), torch.ones(5, dtype=torch.float64)
    )
    obj[5, 2] = 0.7
    magnitude = torch.fft.fft2(obj).abs()
    support = torch.zeros_like(obj, dtype=torch.bool)
    support[1:10, 1:10] = True
    estimate = torch.where(
        support, 0.5 + 0.1 * torch.cos(torch.arange(144, dtype=torch.float64).view(12, 12)), 0.0
    )
    for _ in range(40):
        spectrum = torch.fft.fft2(estimate)
        spectrum = torch.polar(magnitude, torch.angle(spectrum))
        back = torch.fft.ifft2(spectrum).real
        estimate = torch.where(support & (back > 0), back, torch.zeros_like(back))
    z = torch.fft.fft2(estimate).requires_grad_()
    (g_abs,) = torch.autograd.grad(((z.abs() - magnitude) ** 2).sum(), z)
    refined = estimate.clone().requires_grad_()
    opt = torch.optim.SGD([refined], lr=0.002)
    for _ in range(10):
        opt.zero_grad()
        misfit = ((torch.fft.fft2(refined).abs() - magnitude) ** 2).mean()
        misfit.backward()
        opt.step()
    report["losses"].append(round(misfit.item(), 6))
    report["phase"] = {
        "misfit": round(misfit.item(), 6),
        "energy": round(refined.detach().pow(2).sum().item(), 5),
        "abs_grad_dtype": str(g_abs.dtype),
        "abs_grad": r(torch.view_as_real(g_abs[0, :3]), 5),
        "angle": r(torch.angle(torch.tensor([1 + 1j, -1 + 0j, -1 - 0j, 0j, -2j])), 6),
        "angle_real": r(torch.angle(torch.tensor([-2.0, 0.0, 3.0])), 6),
        "polar_dtype": str(torch.polar(torch.ones(2), torch.zeros(2)).dtype),
    }

    torch.save(net.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: list(v.shape) for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
