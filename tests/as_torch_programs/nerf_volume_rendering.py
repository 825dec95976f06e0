"""NeRF-style volume rendering as tiny-NeRF notebooks write it: rays from a pinhole camera with
`F.normalize`d directions, stratified samples from `torch.linspace` between per-ray tensor
near/far bounds (`torch.lerp` with a tensor weight), sinusoidal positional encoding by
`torch.stack([sin, cos], -1).flatten`, alpha compositing with an exclusive `torch.cumprod` of
transmittance (`torch.cat` with a column of ones), hierarchical inverse-CDF resampling by
`torch.searchsorted(right=True)` on a detached pdf (`torch.gather` of the CDF and bins,
`torch.clamp`), `torch.sort` of the merged samples, a coarse + fine MSE with PSNR, and where
an unguarded empty ray's 0 / 0 (NaN) CDF sends `searchsorted`.

Run: python nerf_volume_rendering.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

FREQS, COARSE, FINE = 4, 12, 8


def encode(x, freqs=FREQS):
    scales = 2.0 ** torch.arange(freqs, dtype=x.dtype) * math.pi
    angles = x[..., None] * scales  # (..., 3, F)
    return torch.cat([x, torch.stack([angles.sin(), angles.cos()], -1).flatten(-3)], -1)


class Field(nn.Module):
    def __init__(self, width=32):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Linear(3 + 6 * FREQS, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU()
        )
        self.sigma = nn.Linear(width, 1)
        self.rgb = nn.Linear(width + 3, 3)

    def forward(self, points, dirs):
        h = self.trunk(encode(points))
        view = dirs[:, None].expand(-1, points.shape[1], -1)
        return F.softplus(self.sigma(h)).squeeze(-1), torch.sigmoid(
            self.rgb(torch.cat([h, view], -1))
        )


def rays(n=6):
    i, j = torch.meshgrid(
        torch.arange(n, dtype=torch.float32), torch.arange(n, dtype=torch.float32), indexing="xy"
    )
    dirs = torch.stack([(i - n / 2) / n, -(j - n / 2) / n, -torch.ones_like(i)], -1).reshape(-1, 3)
    origins = torch.tensor([0.0, 0.0, 2.5]).expand_as(dirs)
    return origins, F.normalize(dirs, dim=-1)


def render(field, origins, dirs, t):
    points = origins[:, None] + dirs[:, None] * t[..., None]
    sigma, rgb = field(points, dirs)
    delta = torch.cat([t[:, 1:] - t[:, :-1], torch.full_like(t[:, :1], 1e10)], -1)
    alpha = 1 - torch.exp(-sigma * delta)
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha + 1e-10], -1), -1)[
        :, :-1
    ]
    weights = alpha * trans
    return (weights[..., None] * rgb).sum(1), weights, (weights * t).sum(-1)


def sample_pdf(bins, weights, n, deterministic):
    pdf = (weights + 1e-5) / (weights + 1e-5).sum(-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[:, :1]), torch.cumsum(pdf, -1)], -1)
    if deterministic:
        u = torch.linspace(0.0, 1.0, n).expand(cdf.shape[0], n).contiguous()
    else:
        u = torch.rand(cdf.shape[0], n)
    idx = torch.searchsorted(cdf, u, right=True)
    below = torch.clamp(idx - 1, min=0)
    above = torch.clamp(idx, max=cdf.shape[-1] - 1)
    pair = torch.stack([below, above], -1).view(cdf.shape[0], -1)
    cdf_g = torch.gather(cdf, 1, pair).view(cdf.shape[0], n, 2)
    bins_g = torch.gather(bins, 1, pair).view(cdf.shape[0], n, 2)
    denom = cdf_g[..., 1] - cdf_g[..., 0]
    denom = torch.where(denom < 1e-5, torch.ones_like(denom), denom)
    frac = (u - cdf_g[..., 0]) / denom
    return torch.lerp(bins_g[..., 0], bins_g[..., 1], frac)


def unguarded_indices():
    weights = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.1, 0.4, 0.0, 0.5]])
    pdf = weights / weights.sum(-1, keepdim=True)  # the first ray hit nothing: nan
    cdf = torch.cat([torch.zeros_like(pdf[:, :1]), torch.cumsum(pdf, -1)], -1)
    u = torch.tensor([[0.05, 0.5, 0.95], [0.05, 0.5, 0.95]])
    return torch.searchsorted(cdf, u, right=True).tolist()


def target_image(origins, dirs):
    # a coloured sphere of radius 1 at the origin, analytically shaded
    b = (origins * dirs).sum(-1)
    disc = b**2 - ((origins**2).sum(-1) - 1.0)
    hit = disc > 0
    t_hit = -b - torch.sqrt(disc.clamp(min=0))
    normal = F.normalize(origins + dirs * t_hit[:, None], dim=-1)
    colour = 0.5 + 0.5 * normal
    return torch.where(hit[:, None], colour, torch.zeros_like(colour))


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.73 + i)
            p.copy_((0.4 * wave).view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    origins, dirs = rays()
    target = target_image(origins, dirs)
    coarse, fine = Field(), Field()
    if args.deterministic:
        fixed_init(coarse)
        fixed_init(fine)
    optimizer = torch.optim.Adam(list(coarse.parameters()) + list(fine.parameters()), lr=5e-3)
    near = torch.full((origins.shape[0], 1), 1.0)
    far = near + 3.0
    steps = torch.linspace(0.0, 1.0, COARSE)
    losses = []
    for _ in range(12):
        t = torch.lerp(near, far, steps)  # tensor endpoints, tensor weight
        if not args.deterministic:
            t = t + (torch.rand_like(t) - 0.5) * (3.0 / COARSE)
        rgb_c, weights, _ = render(coarse, origins, dirs, t)
        mids = 0.5 * (t[:, 1:] + t[:, :-1])
        extra = sample_pdf(mids, weights[:, 1:-1].detach(), FINE, args.deterministic)
        t_fine, _ = torch.sort(torch.cat([t, extra.detach()], -1), -1)
        rgb_f, _, depth = render(fine, origins, dirs, t_fine)
        loss = F.mse_loss(rgb_c, target) + F.mse_loss(rgb_f, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        mse = F.mse_loss(rgb_f, target)
        psnr = -10.0 * torch.log10(mse)
        edges = torch.linspace(torch.tensor(1.0), torch.tensor(4.0), steps=5)
        facts = {
            "psnr": round(psnr.item(), 4),
            "depth": depth[:4].round(decimals=4).tolist(),
            "extra": extra[0, :4].round(decimals=4).tolist(),
            "edges": edges.tolist(),
            "encode_shape": list(encode(origins[:2]).shape),
            "sorted_ok": bool((t_fine[:, 1:] >= t_fine[:, :-1]).all()),
            "weights_sum": round(weights.sum(-1).mean().item(), 4),
            # what the 1e-5 guard prevents: an empty ray's 0 / 0 pdf, and where it samples
            "unguarded": unguarded_indices(),
        }
    torch.save({"coarse": coarse.state_dict(), "fine": fine.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    facts["keys"] = sorted(state["fine"])[:3]
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
