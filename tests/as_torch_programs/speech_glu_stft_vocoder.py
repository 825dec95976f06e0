"""A speech enhancement / vocoder-style model as audio repositories (Demucs, HiFi-GAN,
Conv-TasNet, wav2vec front ends) write it, without torchaudio: log-mel features from
`torch.stft(window=torch.hann_window(...), return_complex=True)` and a triangular filterbank
made by hand, SpecAugment-style time and frequency masks by `masked_fill` of `arange`
ranges, a gated encoder of `nn.Conv1d(padding="same", dilation=)` + `nn.GroupNorm(1, C)` +
`F.glu(dim=1)` under `nn.utils.parametrizations.weight_norm`, a causal convolution by left
`F.pad`, a depthwise (`groups=C`) convolution, `nn.PReLU`, a `ConvTranspose1d` upsampler
(`output_size=`), the waveform rebuilt by `torch.istft(length=)`, a multi-resolution STFT loss
(spectral convergence by `torch.linalg.norm` plus log-magnitude L1), mu-law companding by
`sign` / `log1p` / `expm1`, `remove_parametrizations` then the legacy `weight_norm` /
`remove_weight_norm` round trip, and frames cut by `Tensor.unfold`.

Run: python speech_glu_stft_vocoder.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrizations, parametrize

SR, N_FFT, HOP, MELS, LEN = 800, 64, 16, 8, 320


def mel_filterbank(n_mels=MELS, n_fft=N_FFT, sr=SR):
    def hz_to_mel(f):
        return 2595.0 * torch.log10(1.0 + f / 700.0)

    mels = torch.linspace(hz_to_mel(torch.tensor(0.0)), hz_to_mel(torch.tensor(sr / 2)), n_mels + 2)
    hz = 700.0 * (10 ** (mels / 2595.0) - 1.0)
    bins = torch.linspace(0, sr / 2, n_fft // 2 + 1)
    lower, centre, upper = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0)  # (MELS, bins)


def log_mel(wave, fbank):
    spec = torch.stft(
        wave, N_FFT, hop_length=HOP, window=torch.hann_window(N_FFT), return_complex=True
    )
    power = spec.abs().pow(2)
    return torch.log(torch.clamp(fbank @ power, min=1e-5)), spec


class GatedBlock(nn.Module):
    def __init__(self, channels, dilation):
        super().__init__()
        conv = nn.Conv1d(channels, 2 * channels, 3, padding="same", dilation=dilation)
        self.conv = parametrizations.weight_norm(conv)
        self.norm = nn.GroupNorm(1, 2 * channels)
        self.causal = nn.Conv1d(channels, channels, 3)
        self.depthwise = nn.Conv1d(channels, channels, 5, padding=2, groups=channels)
        self.act = nn.PReLU(channels, init=0.2)

    def forward(self, x):
        h = F.glu(self.norm(self.conv(x)), dim=1)
        h = self.causal(F.pad(h, (2, 0)))  # sees only the past
        return x + self.act(self.depthwise(h))


class Enhancer(nn.Module):
    def __init__(self, channels=6):
        super().__init__()
        self.inp = nn.Conv1d(MELS, channels, 1)
        self.blocks = nn.Sequential(GatedBlock(channels, 1), GatedBlock(channels, 2))
        self.up = nn.ConvTranspose1d(channels, channels, 4, stride=2, padding=1)
        self.mask = nn.Conv1d(channels, N_FFT // 2 + 1, 3, stride=2, padding=1)

    def forward(self, feats):
        h = self.blocks(self.inp(feats))
        h = self.up(h, output_size=[2 * h.shape[-1]])
        return torch.sigmoid(self.mask(h))  # a magnitude mask per STFT bin


def spec_augment(feats, time_start, time_width, freq_start, freq_width):
    t = torch.arange(feats.shape[-1])
    f = torch.arange(feats.shape[-2])
    time_mask = (t >= time_start) & (t < time_start + time_width)
    freq_mask = (f >= freq_start) & (f < freq_start + freq_width)
    feats = feats.masked_fill(time_mask[None, None, :], 0.0)
    return feats.masked_fill(freq_mask[None, :, None], feats.mean())


def stft_loss(estimate, target):
    total = 0.0
    for n_fft, hop in ((32, 8), (64, 16)):
        window = torch.hann_window(n_fft)
        est = torch.stft(estimate, n_fft, hop, window=window, return_complex=True).abs()
        ref = torch.stft(target, n_fft, hop, window=window, return_complex=True).abs()
        convergence = torch.linalg.norm(ref - est, ord="fro", dim=(-2, -1)) / torch.linalg.norm(
            ref, ord="fro", dim=(-2, -1)
        )
        log_l1 = F.l1_loss(torch.log(est.clamp(min=1e-2)), torch.log(ref.clamp(min=1e-2)))
        total = total + convergence.mean() + log_l1
    return total / 2


def mu_law(x, mu=255):
    return torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)


def mu_law_inverse(y, mu=255):
    return torch.sign(y) * torch.expm1(y.abs() * math.log1p(mu)) / mu


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.71 + i)
            p.copy_(0.25 * wave.view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    t = torch.arange(LEN, dtype=torch.float32) / SR
    clean = torch.stack(
        [torch.sin(2 * math.pi * 110 * t), 0.6 * torch.sin(2 * math.pi * 230 * t + 1)]
    )
    noise = 0.3 * torch.sin(2 * math.pi * 370 * t * (1 + t))[None] * torch.tensor([[1.0], [0.5]])
    noisy = clean + noise
    fbank = mel_filterbank()
    model = Enhancer()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for step in range(6):
        feats, spec = log_mel(noisy, fbank)
        if step % 2 == 1:
            feats = spec_augment(feats, time_start=step, time_width=3, freq_start=2, freq_width=2)
        mask = model(feats)[..., : spec.shape[-1]]
        estimate = torch.istft(
            spec * mask, N_FFT, hop_length=HOP, window=torch.hann_window(N_FFT), length=LEN
        )
        loss = stft_loss(estimate, clean) + F.l1_loss(estimate, clean)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    block = model.blocks[0]
    facts = {
        "fbank_rows": fbank.sum(1).round(decimals=3).tolist(),
        "spec_shape": list(spec.shape),
        "param_names": sorted(n for n, _ in block.named_parameters() if n.startswith("conv")),
        "g_shape": list(block.conv.parametrizations.weight.original0.shape),
        "weight_norms": block.conv.weight.flatten(1).norm(dim=1)[:3].round(decimals=4).tolist(),
        "prelu": block.act.weight[:3].round(decimals=4).tolist(),
    }
    with torch.no_grad():
        roundtrip = torch.istft(
            torch.stft(clean, N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True),
            N_FFT,
            HOP,
            window=torch.hann_window(N_FFT),
            length=LEN,
        )
        facts["istft_error"] = (roundtrip - clean).abs().max().item() < 1e-5
        companded = mu_law(clean)
        quantised = torch.round((companded + 1) / 2 * 255).long()
        facts["mu_law"] = [int(quantised.min()), int(quantised.max())]
        restored = mu_law_inverse(quantised.float() / 255 * 2 - 1)
        facts["mu_err"] = round((restored - clean).abs().max().item(), 3)
        frames = estimate.unfold(-1, 40, 20)
        facts["frames"] = list(frames.shape)
        facts["frame_energy"] = frames.pow(2).mean(-1)[0, :4].round(decimals=4).tolist()
        facts["snr_db"] = round(
            (10 * torch.log10(clean.pow(2).sum() / (clean - estimate).pow(2).sum())).item(), 3
        )
    before = block.conv.weight.detach().clone()
    parametrize.remove_parametrizations(block.conv, "weight", leave_parametrized=True)
    facts["removed"] = sorted(n for n, _ in block.conv.named_parameters())
    facts["kept_value"] = bool(torch.allclose(block.conv.weight, before))
    legacy = nn.utils.weight_norm(nn.Conv1d(2, 3, 3), name="weight", dim=0)
    with torch.no_grad():
        legacy.weight_v.copy_(torch.arange(18.0).view(3, 2, 3) - 8)
        legacy.weight_g.fill_(2.0)
    facts["legacy"] = [
        sorted(legacy.state_dict()),
        legacy(clean[:, None, :20].expand(2, 2, 20)).shape[-1],
    ]
    nn.utils.remove_weight_norm(legacy)
    facts["legacy_norms"] = legacy.weight.flatten(1).norm(dim=1).round(decimals=4).tolist()
    torch.save(model.state_dict(), args.checkpoint)
    facts["saved_keys"] = len(torch.load(args.checkpoint, weights_only=True))
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
