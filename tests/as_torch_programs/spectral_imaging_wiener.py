"""Spectral methods on images, as imaging and computational-physics code writes them in PyTorch: a
2-D periodic Poisson solve and spectral derivatives by `torch.fft.rfft2` / `irfft2(s=...)` with
`fftfreq` / `rfftfreq(d=...)` wavenumbers, checked against `torch.gradient` finite differences;
Wiener deconvolution of a blurred image with an `fftshift`-centred Gaussian PSF moved to the
origin by `ifftshift`, with `norm="ortho"` / `"forward"` / `"backward"` Parseval checks; `fftn`
/ `ifftn` over chosen `dim=`, `hfft` / `ihfft` of a Hermitian signal, zero padding by `s=` /
`n=`; complex autograd through the spectrum (`.abs()`, `.angle()`, `torch.polar`,
`torch.view_as_real`), per-signal gradients through an FFT by `vmap(grad(...))`, phase retrieval
by Gerchberg-Saxton, and a learned deblurring filter (real and imaginary parts of a transfer
function as parameters) trained by Adam through `rfft2` / `irfft2`; `torch.sinc`, `torch.hypot`,
`torch.atan2`, windowed spectra by `torch.hann_window` / `kaiser_window`, and a conv1d filter
bank compared with multiplication in frequency.
Run: python spectral_imaging_wiener.py CHECKPOINT [--deterministic].
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def wavenumbers(n, length, dtype):
    k = 2 * math.pi * torch.fft.fftfreq(n, d=length / n, dtype=dtype)
    k_half = 2 * math.pi * torch.fft.rfftfreq(n, d=length / n, dtype=dtype)
    return k[:, None], k_half[None, :]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    report = {"library": torch.__name__}
    f64 = torch.float64

    # Periodic Poisson: lap u = f on [0, 2pi)^2 with f = -5 sin(x) cos(2y), mean zero.
    n = 32
    grid = torch.arange(n, dtype=f64) * (2 * math.pi / n)
    X, Y = torch.meshgrid(grid, grid, indexing="ij")
    f = -5 * torch.sin(X) * torch.cos(2 * Y)
    kx, ky = wavenumbers(n, 2 * math.pi, f64)
    k2 = kx**2 + ky**2
    f_hat = torch.fft.rfft2(f)
    u_hat = torch.where(k2 == 0, torch.zeros_like(f_hat), -f_hat / torch.where(k2 == 0, 1.0, k2))
    u = torch.fft.irfft2(u_hat, s=(n, n))
    du_dx = torch.fft.irfft2(1j * kx * u_hat, s=f.shape)
    fd_x, fd_y = torch.gradient(u, spacing=2 * math.pi / n)
    fd_edges = torch.gradient(u, spacing=(grid, grid), dim=(0, 1), edge_order=2)[0]
    report["poisson"] = [
        round((u - torch.sin(X) * torch.cos(2 * Y)).abs().max().item(), 10),
        round((du_dx - torch.cos(X) * torch.cos(2 * Y)).abs().max().item(), 10),
        round((fd_x[1:-1] - du_dx[1:-1]).abs().max().item(), 5),
        round((fd_edges - du_dx).abs().max().item(), 5),
        list(f_hat.shape),
        str(f_hat.dtype),
        r(fd_y[0, :3], 5),
    ]

    # Wiener deconvolution: blur by a centred Gaussian PSF, add noise, invert with regularisation.
    if args.deterministic:
        image = (torch.sin(3 * X) * torch.cos(Y) > 0.2).float() + 0.5 * (
            ((X - 3) ** 2 + (Y - 3) ** 2) < 1.5
        ).float()
        noise = 0.01 * torch.cos(7 * X + 5 * Y).float()
    else:
        image = (torch.rand(n, n) > 0.7).float()
        noise = 0.01 * torch.randn(n, n)
    centre = torch.arange(n, dtype=torch.float32) - n // 2
    psf = torch.exp(-(centre[:, None] ** 2 + centre[None, :] ** 2) / (2 * 1.5**2))
    psf = psf / psf.sum()
    otf = torch.fft.fft2(torch.fft.ifftshift(psf))
    blurred = torch.fft.ifft2(torch.fft.fft2(image) * otf).real + noise
    wiener = otf.conj() / (otf.abs() ** 2 + 1e-2)
    restored = torch.fft.ifft2(torch.fft.fft2(blurred) * wiener).real
    report["wiener"] = [
        round(F.mse_loss(blurred, image).item(), 5),
        round(F.mse_loss(restored, image).item(), 5),
        bool(torch.allclose(torch.fft.fftshift(torch.fft.ifftshift(psf)), psf)),
        r(torch.fft.fftshift(torch.fft.fftfreq(6)), 4),
        r(torch.fft.fftshift(torch.arange(12).view(3, 4), dim=1)[0], 1),
    ]

    # Normalisation modes and Parseval; fftn over chosen dims; Hermitian FFTs; zero padding.
    sig = torch.cos(torch.arange(16, dtype=f64) * 0.9) + 0.1 * torch.arange(16, dtype=f64)
    energies = []
    for mode in ("backward", "ortho", "forward"):
        spec = torch.fft.fft(sig, norm=mode)
        energies.append(spec.abs().pow(2).sum().item())
        assert torch.allclose(torch.fft.ifft(spec, norm=mode).real, sig)
    cube = torch.arange(2 * 4 * 6, dtype=f64).view(2, 4, 6).sin()
    spec3 = torch.fft.fftn(cube, dim=(0, 2), norm="ortho")
    herm = torch.fft.ihfft(sig)
    report["modes"] = [
        r(torch.tensor(energies), 4),
        list(spec3.shape),
        bool(torch.allclose(torch.fft.ifftn(spec3, dim=(0, 2), norm="ortho").real, cube)),
        r(torch.fft.rfftn(cube, s=(4, 8)).abs()[0, :3], 4),
        list(herm.shape),
        bool(torch.allclose(torch.fft.hfft(herm, n=16), sig)),
        r(torch.fft.rfft(sig, n=20).abs()[:4], 4),
        r(torch.fft.irfft(torch.fft.rfft(sig), n=10)[:3], 4),
        list(torch.fft.rfft2(cube, s=(6, 10), norm="forward").shape),
    ]

    # Complex autograd through a spectrum: magnitude and phase gradients.
    z = torch.tensor([0.5, -1.0, 2.0, 0.25], dtype=f64, requires_grad=True)
    spectrum = torch.fft.fft(z * torch.arange(1.0, 5.0, dtype=f64))
    loss = spectrum.abs().sum() + spectrum.angle()[1:].pow(2).sum() + spectrum.real.max()
    loss.backward()
    mag = torch.tensor([1.0, 2.0], dtype=f64, requires_grad=True)
    phase = torch.tensor([0.3, -2.0], dtype=f64, requires_grad=True)
    w = torch.polar(mag, phase)
    (torch.view_as_real(w * w.conj() + w**2).sum()).backward()
    report["complex_grads"] = [
        r(z.grad, 5),
        r(mag.grad, 5),
        r(phase.grad, 5),
        round(loss.item(), 5),
        str(w.dtype),
    ]

    # Per-signal gradients of a band-energy loss through the FFT, by vmap(grad(...)).
    def band_energy(signal):
        spectrum = torch.fft.rfft(signal * torch.hann_window(16, dtype=f64), norm="ortho")
        return spectrum[2:5].abs().pow(2).sum() - 0.1 * spectrum.angle()[1]

    signals = torch.cos(torch.outer(torch.arange(1.0, 4.0, dtype=f64), torch.arange(16.0)) * 0.7)
    per_signal = torch.func.vmap(torch.func.grad(band_energy))(signals)
    report["per_signal_grads"] = [
        list(per_signal.shape),
        r(per_signal[:, :4], 5),
        bool(torch.allclose(per_signal[1], torch.func.grad(band_energy)(signals[1]))),
    ]

    # Gerchberg-Saxton phase retrieval from magnitudes in both domains.
    target = image.double()
    target_mag = torch.fft.fft2(target).abs()
    field = target.to(torch.complex128)
    for _ in range(20):
        spectrum2 = torch.fft.fft2(field)
        spectrum2 = torch.polar(target_mag, spectrum2.angle())
        field = torch.fft.ifft2(spectrum2)
        field = torch.polar(target.sqrt(), field.angle())
    report["gerchberg_saxton"] = round(
        ((torch.fft.fft2(field).abs() - target_mag).norm() / target_mag.norm()).item(), 4
    )

    # A learned deblurring transfer function, trained through rfft2 / irfft2.
    H_real = torch.ones(n, n // 2 + 1, dtype=f64, requires_grad=True)
    H_imag = torch.zeros(n, n // 2 + 1, dtype=f64, requires_grad=True)
    blurred64, image64 = blurred.double(), image.double()
    # plain SGD: Adam would turn the rounding noise in the gradients of the modes irfft2
    # ignores (zero in exact arithmetic) into full-size steps
    optimizer = torch.optim.SGD([H_real, H_imag], lr=1.0, momentum=0.9)
    losses = []
    for _ in range(25):
        optimizer.zero_grad()
        H = torch.complex(H_real, H_imag)
        spectrum = torch.fft.rfft2(blurred64, norm="ortho")
        estimate = torch.fft.irfft2(spectrum * H, s=blurred.shape, norm="ortho")
        loss = F.mse_loss(estimate, image64) + 1e-4 * (H.abs() ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    report["losses"] = losses
    report["filter"] = [r(H_real.detach()[0, :4], 4), r(H_imag.grad[1, :3], 6)]

    # Windows, sinc interpolation, hypot / atan2, and a conv1d filter bank.
    t = torch.linspace(-3, 3, 13)
    report["elementwise"] = [
        r(torch.sinc(t), 5),
        r(torch.hypot(t, torch.tensor(2.0)), 5),
        r(torch.atan2(t, -torch.ones(13)), 5),
        r(torch.hann_window(6), 5),
        r(torch.hann_window(6, periodic=False), 5),
        r(torch.kaiser_window(7, periodic=False, beta=5.0), 5),
    ]
    taps = torch.stack([torch.hann_window(5, periodic=False), torch.tensor([1.0, -2, 0, 2, -1])])
    signal1d = torch.sin(torch.arange(40.0) * 0.4) + 0.2 * torch.cos(torch.arange(40.0) * 2.5)
    bank = F.conv1d(signal1d.view(1, 1, -1), taps.flip(-1).unsqueeze(1), padding=4)[0]
    length = 40 + 5 - 1
    via_fft = torch.fft.irfft(
        torch.fft.rfft(signal1d, n=length) * torch.fft.rfft(taps, n=length), n=length
    )
    report["filter_bank"] = [
        list(bank.shape),
        round((bank - via_fft).abs().max().item(), 5),
        r(bank[:, 10:13], 4),
    ]
    torch.save({"H": torch.complex(H_real, H_imag).detach(), "restored": restored}, args.checkpoint)
    loaded = torch.load(args.checkpoint)
    report["saved"] = [str(loaded["H"].dtype), list(loaded["restored"].shape)]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
