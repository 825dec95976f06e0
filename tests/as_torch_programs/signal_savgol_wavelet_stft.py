"""Signal processing as lab notebooks write it in PyTorch: a chirp built by integrating its
instantaneous frequency with `torch.cumulative_trapezoid`, smoothed by a Savitzky-Golay filter
whose taps come from `torch.linalg.lstsq` on a Vandermonde matrix and run as `F.conv1d` on a
reflect-padded signal, differentiated by the same filter's derivative row and by `torch.diff`
with `prepend=` / `append=`; a Haar wavelet transform as strided convolutions with perfect
reconstruction by `F.conv_transpose1d` and soft-threshold denoising; a short-time Fourier
transform with `torch.hann_window` and its `torch.istft` round trip, the spectrogram's ridge
compared to the chirp's frequency on `torch.fft.rfftfreq`; a Welch power spectrum from
`Tensor.unfold` frames; the analytic signal's envelope by an FFT Hilbert transform with
`torch.fft.fftshift`/`ifftshift` and `torch.angle`; peaks by `F.max_pool1d(return_indices=True)`;
and the filter taps learned back by gradient descent through `conv1d` and `stft`.
Run: python signal_savgol_wavelet_stft.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F

DT = torch.float64


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def savgol_taps(half_width, order, deriv=0, delta=1.0):
    offsets = torch.arange(-half_width, half_width + 1, dtype=DT)
    vander = torch.vander(offsets, N=order + 1, increasing=True)
    solution = torch.linalg.lstsq(vander, torch.eye(len(offsets), dtype=DT)).solution
    return solution[deriv] * math.factorial(deriv) / delta**deriv


def savgol(signal, taps):
    half = (len(taps) - 1) // 2
    padded = F.pad(signal.view(1, 1, -1), (half, half), mode="reflect")
    return F.conv1d(padded, taps.flip(0).view(1, 1, -1)).view(-1)


HAAR = torch.tensor([[[1.0, 1.0]], [[1.0, -1.0]]], dtype=DT) / math.sqrt(2)


def haar_forward(x, levels):
    details = []
    approx = x.view(1, 1, -1)
    for _ in range(levels):
        both = F.conv1d(approx, HAAR, stride=2)
        approx, detail = both[:, :1], both[:, 1:]
        details.append(detail)
    return approx, details


def haar_inverse(approx, details):
    for detail in reversed(details):
        approx = F.conv_transpose1d(torch.cat([approx, detail], 1), HAAR, stride=2)
    return approx.view(-1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    fs = 256.0
    n = 512
    t = torch.arange(n, dtype=DT) / fs
    freq = 5 + 10 * t  # Hz, a linear chirp
    phase = 2 * math.pi * torch.cat([torch.zeros(1, dtype=DT), torch.cumulative_trapezoid(freq, t)])
    clean = torch.sin(phase) * (1 + 0.3 * torch.cos(2 * math.pi * 0.5 * t))
    noise = (
        0.2
        * torch.sin(torch.arange(n, dtype=DT) * 2.71)
        * torch.cos(torch.arange(n, dtype=DT) * 0.37)
    )
    if not args.deterministic:
        noise = 0.2 * torch.randn(n, dtype=DT)
    x = clean + noise

    # Savitzky-Golay smoothing and derivative.
    taps = savgol_taps(5, 3)
    dtaps = savgol_taps(5, 3, deriv=1, delta=1 / fs)
    smooth = savgol(x, taps)
    slope = savgol(x, dtaps)
    fd = torch.diff(smooth, prepend=smooth[:1], append=smooth[-1:]) * fs / 2
    centered = fd[1:] + fd[:-1]
    report["savgol"] = {
        "taps": r(taps, 6),
        "dtaps_sum": round(dtaps.sum().item(), 8),
        "err_clean": round((smooth - clean).pow(2).mean().sqrt().item(), 6),
        "err_noisy": round((x - clean).pow(2).mean().sqrt().item(), 6),
        "slope_vs_diff": round((slope[10:-10] - centered[10:-10]).abs().mean().item() / fs, 6),
        "diff_shape": list(fd.shape),
        "second_diff": r(torch.diff(smooth[:6], n=2)),
    }

    # Haar wavelets: perfect reconstruction, then soft-threshold denoising.
    approx, details = haar_forward(x, 3)
    rebuilt = haar_inverse(approx, details)
    sigma = torch.median(details[0].abs()) / 0.6745
    thresh = sigma * math.sqrt(2 * math.log(n))
    shrunk = [torch.sign(d) * torch.clamp(d.abs() - thresh, min=0) for d in details]
    denoised = haar_inverse(approx, shrunk)
    report["wavelet"] = {
        "shapes": [list(approx.shape)] + [list(d.shape) for d in details],
        "perfect": round((rebuilt - x).abs().max().item(), 12),
        "sigma": round(sigma.item(), 6),
        "kept": [int((s != 0).sum()) for s in shrunk],
        "err": round((denoised - clean).pow(2).mean().sqrt().item(), 6),
        "energy": round(
            sum(d.pow(2).sum() for d in details).item() + approx.pow(2).sum().item(), 6
        ),
    }

    # STFT, its ridge, and the inverse.
    n_fft, hop = 64, 16
    window = torch.hann_window(n_fft, dtype=DT)
    spec = torch.stft(x, n_fft, hop_length=hop, window=window, return_complex=True)
    freqs = torch.fft.rfftfreq(n_fft, d=1 / fs)
    ridge = freqs[spec.abs().argmax(0)]
    frame_times = torch.arange(spec.shape[1], dtype=DT) * hop / fs
    back = torch.istft(spec, n_fft, hop_length=hop, window=window, length=n)
    report["stft"] = {
        "shape": list(spec.shape),
        "dtype": str(spec.dtype),
        "ridge": r(ridge[4:-4:4], 3),
        "ridge_err": round((ridge[4:-4] - (5 + 10 * frame_times[4:-4])).abs().mean().item(), 4),
        "roundtrip": round((back - x).abs().max().item(), 12),
        "freqs": r(freqs[:4]),
        "real_view": list(torch.view_as_real(spec).shape),
    }

    # Welch's averaged periodogram from overlapping frames.
    frames = x.unfold(0, 128, 64)
    welch_window = torch.hann_window(128, periodic=False, dtype=DT)
    periodograms = torch.fft.rfft((frames - frames.mean(1, keepdim=True)) * welch_window).abs() ** 2
    psd = periodograms.mean(0) / (fs * welch_window.pow(2).sum())
    psd[1:-1] *= 2
    welch_freqs = torch.fft.rfftfreq(128, d=1 / fs)
    report["welch"] = {
        "frames": list(frames.shape),
        "peak_hz": round(welch_freqs[psd.argmax()].item(), 4),
        "power": round(torch.trapezoid(psd, welch_freqs).item(), 6),
        "variance": round(x.var(correction=0).item(), 6),
    }

    # Hilbert envelope via the FFT; fftshift of the spectrum's frequencies.
    spectrum = torch.fft.fft(x)
    h = torch.zeros(n, dtype=DT)
    h[0] = h[n // 2] = 1
    h[1 : n // 2] = 2
    analytic = torch.fft.ifft(spectrum * h)
    envelope = analytic.abs()
    inst_phase = torch.angle(analytic)
    shifted = torch.fft.fftshift(torch.fft.fftfreq(n, d=1 / fs))
    report["hilbert"] = {
        "envelope_mean": round(envelope.mean().item(), 6),
        "phase_dtype": str(inst_phase.dtype),
        "unwrapped_rate": round(
            (torch.diff(inst_phase) % (2 * math.pi)).mean().item() * fs / (2 * math.pi), 4
        ),
        "shifted_ends": r(shifted[[0, n // 2, -1]]),
        "ifftshift_ok": bool(
            torch.equal(torch.fft.ifftshift(shifted), torch.fft.fftfreq(n, d=1 / fs))
        ),
    }

    # Peaks of the envelope: local maxima by max pooling with indices.
    pooled, where = F.max_pool1d(
        envelope.view(1, 1, -1), 31, stride=1, padding=15, return_indices=True
    )
    peaks = torch.nonzero(where.view(-1) == torch.arange(n)).view(-1)
    report["peaks"] = {
        "count": int(peaks.numel()),
        "first": peaks[:3].tolist(),
        "dtype": str(where.dtype),
    }

    # Learn a 7-tap FIR filter that maps the noisy signal to the clean one, with a spectral loss.
    fir = torch.zeros(7, dtype=DT, requires_grad=True)
    opt = torch.optim.Adam([fir], lr=0.02)
    for step in range(25):
        opt.zero_grad()
        out = F.conv1d(F.pad(x.view(1, 1, -1), (3, 3), mode="replicate"), fir.view(1, 1, -1)).view(
            -1
        )
        mag = torch.stft(out, n_fft, hop_length=hop, window=window, return_complex=True).abs()
        loss = (out - clean).pow(2).mean() + 1e-3 * (mag - spec.abs().detach()).pow(2).mean()
        loss.backward()
        opt.step()
        if step % 5 == 4:
            report["losses"].append(round(loss.item(), 8))
    report["fir"] = r(fir.detach(), 4)
    torch.save({"fir": fir.detach(), "taps": taps}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {name: [list(v.shape), str(v.dtype)] for name, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
