"""Generative models as their reference implementations write them: a PixelCNN whose masked
convolutions (type A and B) keep their mask as a registered buffer multiplied into the
weight in `forward`, trained by a 4-level `cross_entropy` over (B, levels, H, W) logits; a
RealNVP with checkerboard and channel masks, `tanh`-bounded scales and a summed log
determinant against a `torch.distributions.Normal` base, inverted exactly; a VQ bottleneck
with the straight-through estimator `x + (q - x).detach()`, `torch.cdist` + `argmin` code
lookup and a commitment loss; and a rectified-flow (flow matching) objective sampled with
Euler steps under `torch.no_grad()`. Adamax and RMSprop under OneCycleLR and
PolynomialLR.

Run: python pixelcnn_realnvp_vq.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Independent, Normal
from torch.optim.lr_scheduler import OneCycleLR, PolynomialLR

LEVELS, SIDE = 4, 5


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _, _, h, w = self.weight.shape
        mask = torch.ones_like(self.weight)
        mask[:, :, h // 2, w // 2 + (mask_type == "B") :] = 0
        mask[:, :, h // 2 + 1 :] = 0
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding)


class PixelCNN(nn.Module):
    def __init__(self, hidden=6):
        super().__init__()
        self.net = nn.Sequential(
            MaskedConv2d("A", 1, hidden, 3, padding=1),
            nn.ReLU(),
            MaskedConv2d("B", hidden, hidden, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden, LEVELS, 1),
        )

    def forward(self, x):
        return self.net(x / (LEVELS - 1))


class Coupling(nn.Module):
    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", mask)
        d = mask.numel()
        self.net = nn.Sequential(nn.Linear(d, 12), nn.Tanh(), nn.Linear(12, 2 * d))
        self.scale = nn.Parameter(torch.ones(d))

    def forward(self, x):
        s, t = self.net(x * self.mask).chunk(2, dim=-1)
        s = self.scale * torch.tanh(s) * (1 - self.mask)
        t = t * (1 - self.mask)
        return x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t), s.sum(-1)

    def inverse(self, y):
        s, t = self.net(y * self.mask).chunk(2, dim=-1)
        s = self.scale * torch.tanh(s) * (1 - self.mask)
        return y * self.mask + (1 - self.mask) * (y - t * (1 - self.mask)) * torch.exp(-s)


class RealNVP(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        checker = (torch.arange(d) % 2).float()
        half = (torch.arange(d) < d // 2).float()
        self.layers = nn.ModuleList([Coupling(m) for m in (checker, 1 - checker, half, 1 - half)])
        self.base = Independent(Normal(torch.zeros(d), torch.ones(d)), 1)

    def log_prob(self, x):
        logdet = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return self.base.log_prob(x) + logdet, x

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z


class VQ(nn.Module):
    def __init__(self, codes=5, d=4):
        super().__init__()
        self.encoder = nn.Linear(4, d)
        self.codebook = nn.Embedding(codes, d)
        self.decoder = nn.Linear(d, 4)

    def forward(self, x):
        z = self.encoder(x)
        idx = torch.cdist(z, self.codebook.weight).argmin(dim=-1)
        q = self.codebook(idx)
        vq_loss = F.mse_loss(q, z.detach()) + 0.25 * F.mse_loss(z, q.detach())
        z_q = z + (q - z).detach()
        return self.decoder(z_q), vq_loss, idx


def fixed_(model, scale=0.3, phase=0.5):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            ramp = torch.arange(p.numel(), dtype=torch.float32) * (0.41 * i + phase)
            p.copy_(torch.cos(ramp).view_as(p) * scale)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(2)
    det = args.deterministic
    yy, xx = torch.meshgrid(torch.arange(SIDE), torch.arange(SIDE), indexing="ij")
    images = torch.stack([(yy * (k + 1) + xx * k) % LEVELS for k in range(6)]).unsqueeze(1)
    n = torch.arange(24, dtype=torch.float32)[:, None]
    points = torch.cat([torch.sin(n * 0.5), torch.cos(n * 0.3), 0.5 * torch.sin(n), n / 24], 1)

    pixelcnn, flow, vq, velocity = (
        PixelCNN(),
        RealNVP(),
        VQ(),
        nn.Sequential(nn.Linear(5, 16), nn.SiLU(), nn.Linear(16, 4)),
    )
    if det:
        for k, model in enumerate((pixelcnn, flow, vq, velocity)):
            fixed_(model, phase=0.5 + 0.2 * k)
    params = [*pixelcnn.parameters(), *flow.parameters(), *vq.parameters()]
    opt = torch.optim.Adamax(params, lr=0.02)
    sched = OneCycleLR(opt, max_lr=0.05, total_steps=12, pct_start=0.25)
    opt_v = torch.optim.RMSprop(velocity.parameters(), lr=0.01, alpha=0.9)
    sched_v = PolynomialLR(opt_v, total_iters=12, power=1.5)
    losses, flow_losses = [], []
    for step in range(12):
        logits = pixelcnn(images.float())
        nll_pix = F.cross_entropy(logits, images.squeeze(1))
        log_p, _ = flow.log_prob(points)
        recon, vq_loss, codes = vq(points)
        loss = nll_pix - log_p.mean() * 0.1 + F.mse_loss(recon, points) + vq_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())

        noise = torch.cos(points * 3 + step)  # a deterministic "noise" source
        t = ((torch.arange(24) * 7 + step) % 10).float()[:, None] / 10
        xt = (1 - t) * noise + t * points
        pred = velocity(torch.cat([xt, t], 1))
        fm_loss = F.mse_loss(pred, points - noise)
        opt_v.zero_grad()
        fm_loss.backward()
        opt_v.step()
        sched_v.step()
        flow_losses.append(fm_loss.item())

    with torch.no_grad():
        log_p, z = flow.log_prob(points)
        back = flow.inverse(z)
        x = torch.cos(points[:4] * 3)
        for k in range(4):
            t = torch.full((4, 1), k / 4)
            x = x + 0.25 * velocity(torch.cat([x, t], 1))
        first_logits = pixelcnn(torch.zeros(1, 1, SIDE, SIDE))
    masked_fraction = pixelcnn.net[0].mask.mean().item()
    torch.save(
        {"pixelcnn": pixelcnn.state_dict(), "flow": flow.state_dict(), "vq": vq.state_dict()},
        args.checkpoint,
    )
    loaded = torch.load(args.checkpoint)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "flow_losses": flow_losses,
                "lr_end": [
                    round(opt.param_groups[0]["lr"], 8),
                    round(opt_v.param_groups[0]["lr"], 8),
                ],
                "momentum_end": opt.param_groups[0]["betas"][0],
                "mask_fraction": [masked_fraction, pixelcnn.net[2].mask.mean().item()],
                "first_pixel": [v for v in first_logits[0, :, 0, 0].tolist()] if det else [],
                "log_p": [v for v in log_p[:4].tolist()] if det else [],
                "inverse_error_small": bool((back - points).abs().max() < 1e-4),
                "codes": codes.tolist() if det else [],
                "samples": [v for v in x[0].tolist()] if det else [],
                "pixelcnn_keys": sorted(loaded["pixelcnn"]),
                "flow_buffers": [k for k in loaded["flow"] if k.endswith("mask")],
            }
        )
    )


if __name__ == "__main__":
    main()
