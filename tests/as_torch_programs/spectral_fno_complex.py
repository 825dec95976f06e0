"""Spectral methods and complex parameters, as scientific-ML code writes them: a 1-D heat and
viscous-Burgers solver stepping in Fourier space (`torch.fft.rfft` / `irfft(n=...)`,
`rfftfreq`, dealiasing by zeroing modes), a power spectrum with `fft.fft`, `fftshift`,
`fftfreq` and `fft2`/`ifft2` of a 2-D field; then a small Fourier neural operator layer whose
spectral weights are a complex `nn.Parameter` (`torch.randn(..., dtype=torch.cfloat)`,
`torch.einsum` over complex modes), trained a few steps with Adam to learn the heat solution
operator; complex numbers built and read by `torch.complex`, `torch.polar`, `.abs()`,
`.angle()`, `.real`/`.imag`, `.conj()`, `torch.view_as_real` / `view_as_complex`, and the
gradient of a real loss with respect to a complex leaf.
Run: python spectral_fno_complex.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).flatten().tolist()]


def heat_step(u, nu, dt, length=2 * math.pi):
    n = u.shape[-1]
    k = torch.fft.rfftfreq(n, d=length / n) * 2 * math.pi
    u_hat = torch.fft.rfft(u)
    return torch.fft.irfft(u_hat * torch.exp(-nu * k**2 * dt), n=n)


def burgers_step(u, nu, dt, length=2 * math.pi):
    n = u.shape[-1]
    k = torch.fft.rfftfreq(n, d=length / n) * 2 * math.pi
    u_hat = torch.fft.rfft(u)
    dealias = (torch.arange(k.shape[0]) < (2 * n) // 6).to(u.dtype)
    du = torch.fft.irfft(1j * k * u_hat * dealias, n=n)
    nonlinear = torch.fft.rfft(u * du)
    u_hat = (u_hat - dt * nonlinear) / (1 + nu * dt * k**2)
    return torch.fft.irfft(u_hat, n=n)


class SpectralConv1d(nn.Module):
    def __init__(self, channels, modes, deterministic):
        super().__init__()
        self.modes = modes
        scale = 1 / (channels * channels)
        if deterministic:
            grid = torch.arange(channels * channels * modes, dtype=torch.float32)
            w = torch.complex(torch.sin(grid), torch.cos(0.5 * grid)).view(
                channels, channels, modes
            )
        else:
            w = torch.randn(channels, channels, modes, dtype=torch.cfloat)
        self.weights = nn.Parameter(scale * w)

    def forward(self, x):
        x_ft = torch.fft.rfft(x)
        out_ft = torch.zeros(x.shape[0], x.shape[1], x.shape[-1] // 2 + 1, dtype=torch.cfloat)
        out_ft[:, :, : self.modes] = torch.einsum(
            "bix,iox->box", x_ft[:, :, : self.modes], self.weights
        )
        return torch.fft.irfft(out_ft, n=x.size(-1))


class FNO(nn.Module):
    def __init__(self, channels=4, modes=6, deterministic=False):
        super().__init__()
        self.lift = nn.Conv1d(1, channels, 1)
        self.spectral = SpectralConv1d(channels, modes, deterministic)
        self.skip = nn.Conv1d(channels, channels, 1)
        self.proj = nn.Conv1d(channels, 1, 1)

    def forward(self, x):
        h = self.lift(x)
        h = torch.nn.functional.gelu(self.spectral(h) + self.skip(h))
        return self.proj(h)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    n = 32
    x = torch.linspace(0, 2 * math.pi, n + 1)[:-1]
    report = {"library": torch.__name__}

    u = torch.sin(x) + 0.5 * torch.cos(3 * x)
    heat = u
    burgers = u.double()
    for _ in range(10):
        heat = heat_step(heat, nu=0.1, dt=0.05)
        burgers = burgers_step(burgers, nu=0.05, dt=0.01)
    report["heat"] = r(heat[::4], 4)
    report["burgers"] = r(burgers[::4], 4) + [str(burgers.dtype)]

    spectrum = torch.fft.fft(u)
    power = spectrum.abs() ** 2 / n
    freqs = torch.fft.fftshift(torch.fft.fftfreq(n, d=1 / n))
    report["spectrum"] = [
        str(spectrum.dtype),
        r(torch.fft.fftshift(power)[12:20], 3),
        r(freqs[14:18]),
    ]
    field = torch.outer(torch.sin(x), torch.cos(2 * x))
    f2 = torch.fft.fft2(field)
    report["fft2"] = [
        list(f2.shape),
        round(f2.abs().max().item(), 3),
        round(torch.fft.ifft2(f2).real.sub(field).abs().max().item(), 5),
    ]

    # Complex numbers as scientists build and read them.
    z = torch.polar(torch.tensor([1.0, 2.0, 0.5]), torch.tensor([0.0, math.pi / 3, -2.0]))
    report["complex"] = [
        str(z.dtype),
        r(z.abs()),
        r(z.angle()),
        r(z.conj().imag),
        r(torch.view_as_real(z)),
    ]
    w = torch.view_as_complex(torch.tensor([[1.0, -1.0], [0.0, 2.0]]))
    report["view_as_complex"] = (
        r(w.real) + r(w.imag) + [str((w * 2j).dtype), str((z.real + 1j).dtype)]
    )
    leaf = torch.complex(torch.tensor([1.0, 0.5]), torch.tensor([-0.5, 2.0])).requires_grad_(True)
    (leaf.abs() ** 2 + (leaf * leaf).real).sum().backward()
    report["complex_grad"] = r(torch.view_as_real(leaf.grad))

    # An FNO learning the heat solution operator u0 -> u(t=0.5).
    modes = torch.arange(1, 5, dtype=torch.float32)
    if args.deterministic:
        coeffs = torch.sin(torch.arange(16 * 4, dtype=torch.float32) * 1.3).view(16, 4)
    else:
        coeffs = torch.randn(16, 4)
    u0 = (coeffs.unsqueeze(-1) * torch.sin(modes[:, None] * x)).sum(1, keepdim=True)
    target = u0
    for _ in range(10):
        target = heat_step(target, nu=0.1, dt=0.05)
    model = FNO(deterministic=args.deterministic)
    if args.deterministic:
        with torch.no_grad():
            for i, p in enumerate(model.parameters()):
                if not p.is_complex():
                    p.copy_(0.3 * torch.cos(torch.arange(p.numel(), dtype=p.dtype) + i).view_as(p))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(8):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(u0), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    report["losses"] = losses
    grad = model.spectral.weights.grad
    report["weight"] = [str(model.spectral.weights.dtype), str(grad.dtype), list(grad.shape)]
    state = optimizer.state_dict()["state"]
    spectral = state[2]  # lift.weight, lift.bias, then the complex spectral weights
    report["adam_state"] = [str(spectral["exp_avg"].dtype), str(spectral["exp_avg_sq"].dtype)]
    report["adam_exp_avg_sq"] = r(spectral["exp_avg_sq"].flatten()[:4].abs() * 1e6, 3)
    torch.save(model.state_dict(), args.checkpoint)
    loaded = torch.load(args.checkpoint)
    report["reloaded"] = str(loaded["spectral.weights"].dtype)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
