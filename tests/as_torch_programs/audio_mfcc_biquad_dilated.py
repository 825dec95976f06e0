"""Audio front ends as speech and music code writes them in PyTorch: a two-tone test signal with
a glide; its power spectrogram by `torch.stft(return_complex=True)` with a `torch.hamming_window`;
a triangular mel filterbank built from `torch.linspace` on the mel scale and applied by
`torch.matmul`; log-mel energies through `clamp_min` and `torch.log10`; MFCCs by a DCT-II done as
`torch.fft.rfft` of an even/odd reordered sequence with a twiddle `torch.polar`, checked against
an explicit cosine matrix; a band-pass biquad (RBJ cookbook) run by an explicit recursion over
samples with autograd through the loop, its centre frequency learned back from a target output,
and its response compared to `torch.fft.rfft` of the impulse response; a dilated causal stack
(`F.conv1d(dilation=, padding="same")`) fitted to the biquad's output; a zero-padded spectrum
interpolated with `torch.fft.irfft(n=)` and frequencies from `torch.fft.fftfreq(d=)`.
Run: python audio_mfcc_biquad_dilated.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DT = torch.float64
RATE = 8000.0


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def hz_to_mel(f):
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(n_mels, n_fft):
    freqs = torch.linspace(0, RATE / 2, n_fft // 2 + 1, dtype=DT)
    edges = mel_to_hz(
        torch.linspace(
            hz_to_mel(torch.tensor(0.0)).item(),
            hz_to_mel(torch.tensor(RATE / 2)).item(),
            n_mels + 2,
            dtype=DT,
        )
    )
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    return torch.clamp_min(torch.minimum(rising, falling), 0.0)


def dct2(x):
    """DCT-II along the last dim (unnormalised, 2 * sum x cos) by Makhoul's reordering."""
    n = x.shape[-1]
    reordered = torch.cat([x[..., ::2], x[..., 1::2].flip(-1)], dim=-1)
    spectrum = torch.fft.fft(reordered)
    k = torch.arange(n, dtype=x.dtype)
    twiddle = torch.polar(torch.ones_like(k), -math.pi * k / (2 * n))
    return 2 * (spectrum * twiddle).real


def biquad_bandpass(signal, centre_hz, q):
    w0 = 2 * math.pi * centre_hz / RATE
    alpha = torch.sin(w0) / (2 * q)
    a0 = 1 + alpha
    b = torch.stack([alpha, torch.zeros_like(alpha), -alpha]) / a0
    a = torch.stack([-2 * torch.cos(w0), 1 - alpha]) / a0
    out, x1, x2, y1, y2 = (
        [],
        signal.new_zeros(()),
        signal.new_zeros(()),
        signal.new_zeros(()),
        signal.new_zeros(()),
    )
    for x in signal.unbind(0):
        y = b[0] * x + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2
        out.append(y)
        x2, x1, y2, y1 = x1, x, y1, y
    return torch.stack(out), b, a


class DilatedStack(nn.Module):
    def __init__(self, channels=4, dilations=(1, 2, 4)):
        super().__init__()
        self.inp = nn.Conv1d(1, channels, 3, padding="same")
        self.layers = nn.ModuleList(
            nn.Conv1d(channels, channels, 3, dilation=d, padding="same") for d in dilations
        )
        self.out = nn.Conv1d(channels, 1, 1)

    def forward(self, x):
        h = torch.tanh(self.inp(x))
        for layer in self.layers:
            h = h + torch.tanh(layer(h))
        return self.out(h)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}
    t = torch.arange(1024, dtype=DT) / RATE
    glide = 2 * math.pi * (300 * t + 400 * t**2)
    signal = torch.sin(glide) + 0.5 * torch.sin(2 * math.pi * 1500 * t)
    if not args.deterministic:
        signal = signal + 0.01 * torch.randn_like(signal)

    n_fft, hop = 256, 128
    window = torch.hamming_window(n_fft, dtype=DT)
    spec = torch.stft(signal, n_fft, hop_length=hop, window=window, return_complex=True)
    power = spec.abs() ** 2
    bank = mel_filterbank(20, n_fft)
    log_mel = torch.log10(torch.clamp_min(bank @ power, 1e-10))
    mfcc = dct2(log_mel.T)[:, :8]
    n = log_mel.shape[0]
    cosines = torch.cos(
        math.pi * torch.arange(n, dtype=DT)[:, None] * (2 * torch.arange(n, dtype=DT) + 1) / (2 * n)
    )
    direct = 2 * log_mel.T @ cosines.T
    report["spectrogram"] = {
        "shape": list(spec.shape),
        "dtype": str(spec.dtype),
        "bank_rows": r(bank.sum(1)[:5], 4),
        "peak_bins": power.argmax(0).tolist(),
        "mfcc0": r(mfcc[3], 4),
        "dct_matches": bool(torch.allclose(dct2(log_mel.T), direct, atol=1e-9)),
    }

    impulse = torch.zeros(256, dtype=DT)
    impulse[0] = 1.0
    response, b, a = biquad_bandpass(impulse, torch.tensor(1000.0, dtype=DT), 4.0)
    freqs = torch.fft.rfftfreq(256, d=1 / RATE, dtype=DT)
    z = torch.polar(torch.ones_like(freqs), -2 * math.pi * freqs / RATE)
    analytic = (b[0] + b[1] * z + b[2] * z**2) / (1 + a[0] * z + a[1] * z**2)
    report["biquad"] = {
        "peak_hz": freqs[torch.fft.rfft(response).abs().argmax()].item(),
        "matches_analytic": bool(torch.allclose(torch.fft.rfft(response), analytic, atol=1e-6)),
        "fftfreq": r(torch.fft.fftfreq(8, d=0.5)),
    }

    target, _, _ = biquad_bandpass(signal[:96], torch.tensor(1500.0, dtype=DT), 3.0)
    centre = torch.tensor(1300.0, dtype=DT, requires_grad=True)
    opt = torch.optim.Adam([centre], lr=20.0)
    for _ in range(5):
        opt.zero_grad()
        out, _, _ = biquad_bandpass(signal[:96], centre, 3.0)
        loss = F.mse_loss(out, target)
        loss.backward()
        opt.step()
        report["losses"].append(round(loss.item(), 7))
    report["centre"] = round(centre.item(), 3)

    model = DilatedStack().double()
    if args.deterministic:
        with torch.no_grad():
            for i, p in enumerate(model.parameters()):
                p.copy_(0.3 * torch.sin(torch.arange(p.numel(), dtype=DT) * 0.71 + i).view_as(p))
    x = signal[:256].view(1, 1, -1)
    y = biquad_bandpass(signal[:256], torch.tensor(1500.0, dtype=DT), 3.0)[0].detach()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(10):
        opt.zero_grad()
        loss = F.mse_loss(model(x).view(-1), y)
        loss.backward()
        opt.step()
        report["losses"].append(round(loss.item(), 7))

    spectrum = torch.fft.rfft(signal[:64])
    upsampled = torch.fft.irfft(spectrum, n=256) * 4
    report["interp"] = {
        "shape": list(upsampled.shape),
        "every_fourth": bool(torch.allclose(upsampled[::4], signal[:64], atol=0.3)),
        "head": r(upsampled[:6], 4),
        "odd_n": list(torch.fft.irfft(spectrum, n=63).shape),
    }
    torch.save(model.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: list(v.shape) for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
