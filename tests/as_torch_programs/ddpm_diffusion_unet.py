"""A DDPM-style diffusion model trained and sampled as denoising-diffusion repositories write
it: a `torch.linspace` beta schedule, `torch.cumprod` of the alphas, the posterior variance
with `F.pad(..., value=1.0)`, schedule values registered as buffers and picked per sample by
`gather` on the timesteps, sinusoidal timestep embeddings (`torch.exp`, `torch.cat` of sin
and cos), a small UNet with `GroupNorm`, `SiLU`, strided `Conv2d` down, `F.interpolate`
up and skip connections, `torch.randn_like` noise, a min-SNR loss weight (`torch.minimum`,
`reduction="none"` averaged over all but the batch), `OneCycleLR`, an EMA of the weights by
`lerp_`, and the ancestral sampling loop under `torch.inference_mode()` / `torch.no_grad()`
with classifier-free-guidance-style `chunk` of a doubled batch and Imagen's dynamic
thresholding (`torch.quantile` per sample, `clamp` by a tensor bound).

Run: python ddpm_diffusion_unet.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import copy
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS, SIZE, CHANNELS = 20, 8, 8


def sinusoidal_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None, :]
    return torch.cat([args.sin(), args.cos()], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim):
        super().__init__()
        self.norm1 = nn.GroupNorm(4, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Sequential(nn.SiLU(), nn.Linear(tdim, cout))
        self.norm2 = nn.GroupNorm(4, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class TinyUNet(nn.Module):
    def __init__(self, ch=CHANNELS):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(ch, 2 * ch), nn.SiLU(), nn.Linear(2 * ch, 2 * ch))
        self.inc = nn.Conv2d(1, ch, 3, padding=1)
        self.down = ResBlock(ch, ch, 2 * ch)
        self.pool = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.mid = ResBlock(ch, 2 * ch, 2 * ch)
        self.up = ResBlock(3 * ch, ch, 2 * ch)
        self.out = nn.Sequential(nn.GroupNorm(4, ch), nn.SiLU(), nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, x, t):
        temb = self.time_mlp(sinusoidal_embedding(t, self.inc.out_channels))
        h1 = self.down(self.inc(x), temb)
        h2 = self.mid(self.pool(h1), temb)
        up = F.interpolate(h2, scale_factor=2, mode="nearest")
        return self.out(self.up(torch.cat([up, h1], dim=1), temb))


class GaussianDiffusion(nn.Module):
    def __init__(self, model, steps=STEPS):
        super().__init__()
        self.model, self.steps = model, steps
        betas = torch.linspace(1e-4, 0.2, steps, dtype=torch.float64)
        alphas = 1.0 - betas
        alphas_cumprod = torch.cumprod(alphas, dim=0)
        alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
        register = lambda name, val: self.register_buffer(name, val.to(torch.float32))  # noqa: E731
        register("betas", betas)
        register("sqrt_alphas_cumprod", torch.sqrt(alphas_cumprod))
        register("sqrt_one_minus_alphas_cumprod", torch.sqrt(1.0 - alphas_cumprod))
        register("sqrt_recip_alphas", torch.rsqrt(alphas))
        posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
        register("posterior_variance", posterior_variance)

    @staticmethod
    def extract(a, t, x_shape):
        out = a.gather(-1, t)
        return out.reshape(t.shape[0], *((1,) * (len(x_shape) - 1)))

    def q_sample(self, x0, t, noise):
        return (
            self.extract(self.sqrt_alphas_cumprod, t, x0.shape) * x0
            + self.extract(self.sqrt_one_minus_alphas_cumprod, t, x0.shape) * noise
        )

    def loss(self, x0, t, noise):
        per_pixel = F.mse_loss(self.model(self.q_sample(x0, t, noise), t), noise, reduction="none")
        per_sample = per_pixel.mean(dim=list(range(1, per_pixel.ndim)))
        snr = (self.sqrt_alphas_cumprod / self.sqrt_one_minus_alphas_cumprod)[t] ** 2
        weight = torch.minimum(snr, torch.full_like(snr, 5.0)) / snr
        return (per_sample * weight).mean()

    @torch.no_grad()
    def p_sample(self, x, i, z):
        t = torch.full((x.shape[0],), i, dtype=torch.long)
        eps_a, eps_b = self.model(x.repeat(2, 1, 1, 1), t.repeat(2)).chunk(2, dim=0)
        eps = eps_a + 0.5 * (eps_b - eps_a)  # both halves see the same input here
        coef = self.extract(self.betas, t, x.shape) / self.extract(
            self.sqrt_one_minus_alphas_cumprod, t, x.shape
        )
        mean = self.extract(self.sqrt_recip_alphas, t, x.shape) * (x - coef * eps)
        if i == 0:
            return mean
        return mean + torch.sqrt(self.extract(self.posterior_variance, t, x.shape)) * z


def pattern(shape, phase):
    n = math.prod(shape)
    return torch.sin(torch.arange(n, dtype=torch.float32) * 0.61 + phase).view(shape)


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(0.2 * pattern(p.shape, i))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    rows = torch.arange(SIZE, dtype=torch.float32).view(1, 1, SIZE, 1)
    cols = torch.arange(SIZE, dtype=torch.float32).view(1, 1, 1, SIZE)
    phases = torch.arange(16, dtype=torch.float32).view(16, 1, 1, 1) * 0.4
    data = torch.tanh(torch.sin(rows * 0.8 + phases) + torch.cos(cols * 0.6 - phases))

    diffusion = GaussianDiffusion(TinyUNet())
    if args.deterministic:
        fixed_init(diffusion.model)
    ema = copy.deepcopy(diffusion.model).requires_grad_(False)
    optimizer = torch.optim.Adam(diffusion.model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=8)
    losses, norms = [], []
    for step in range(8):
        x0 = data[(torch.arange(8) + step * 3) % 16]
        if args.deterministic:
            t = (torch.arange(8) * 7 + step) % STEPS
            noise = pattern(x0.shape, float(step))
        else:
            t = torch.randint(0, STEPS, (x0.shape[0],))
            noise = torch.randn_like(x0)
        loss = diffusion.loss(x0, t, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norms.append(nn.utils.clip_grad_norm_(diffusion.model.parameters(), 1.0).item())
        optimizer.step()
        scheduler.step()
        with torch.no_grad():
            for p_ema, p in zip(ema.parameters(), diffusion.model.parameters()):
                p_ema.lerp_(p, 0.1)
        losses.append(loss.item())

    sampler = GaussianDiffusion(ema)
    with torch.inference_mode():
        shape = (4, 1, SIZE, SIZE)
        x = pattern(shape, 0.5) if args.deterministic else torch.randn(shape)
        for i in reversed(range(STEPS)):
            z = pattern(shape, i * 0.3) if args.deterministic else torch.randn_like(x)
            x = sampler.p_sample(x, i, z)
        s = torch.quantile(x.abs().reshape(x.shape[0], -1), 0.9, dim=-1)
        s = s.clamp(min=1.0).view(-1, 1, 1, 1)
        samples = x.clamp(-s, s) / s
    like = torch.randn_like(data, dtype=torch.float64)
    torch.save(sampler.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "grad_norms": norms,
                "last_lr": scheduler.get_last_lr(),
                "thresholds": s.flatten().tolist(),
                "schedule": [round(v, 6) for v in sampler.posterior_variance[:4].tolist()],
                "cumprod_last": round(sampler.sqrt_alphas_cumprod[-1].item() ** 2, 6),
                "embedding": sinusoidal_embedding(torch.tensor([0, 5]), 6)
                .round(decimals=4)
                .tolist(),
                "sample_mean": round(samples.mean().item(), 5),
                "sample_std": round(samples.std().item(), 5),
                "sample_inference": [samples.is_inference(), samples.requires_grad],
                "randn_like": [list(like.shape), str(like.dtype)],
                "buffers": sorted(k for k in state if not k.startswith("model.")),
            }
        )
    )


if __name__ == "__main__":
    main()
