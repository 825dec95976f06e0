"""Unsupervised optical flow as PWC-Net / ARFlow / UFlow code writes it: a shared conv feature
pyramid built with `F.avg_pool2d`, a local correlation (cost) volume by `F.unfold` of the
second image's features with padding and `einsum` against the first, a flow decoder refined
coarse to fine with `F.interpolate(scale_factor=2, mode="bilinear", align_corners=False)` of the
flow (its values doubled), backward warping by `F.grid_sample` on a pixel grid from
`torch.meshgrid(indexing="ij")` normalised to [-1, 1] (bilinear with padding zeros, border and
reflection, and nearest), an occlusion mask from forward-backward consistency, a Charbonnier
photometric loss, an SSIM term by 3x3 `avg_pool2d`, an edge-aware second-order smoothness by
`torch.diff`, a global `F.affine_grid` check, and a warp of a flow with a diverged
(NaN / infinite) pixel.

Run: python optical_flow_pyramid_warp.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

H = W = 16
RADIUS = 2


def frames():
    yy, xx = torch.meshgrid(
        torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij"
    )

    def scene(dx, dy):
        return torch.stack(
            [
                torch.sin((xx - dx) * 0.6) * torch.cos((yy - dy) * 0.45),
                torch.cos((xx - dx) * 0.3 + (yy - dy) * 0.5),
            ]
        )

    first = torch.stack([scene(0.0, 0.0), scene(0.5, -0.3)])
    second = torch.stack([scene(1.0, 0.5), scene(1.2, 0.4)])
    return first, second


def pixel_grid(flow):
    n, _, h, w = flow.shape
    yy, xx = torch.meshgrid(
        torch.arange(h, dtype=flow.dtype), torch.arange(w, dtype=flow.dtype), indexing="ij"
    )
    x = xx + flow[:, 0]
    y = yy + flow[:, 1]
    return torch.stack([2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1], dim=-1)


def warp(image, flow, padding_mode="zeros", mode="bilinear"):
    return F.grid_sample(
        image, pixel_grid(flow), mode=mode, padding_mode=padding_mode, align_corners=True
    )


def correlation(f1, f2, radius=RADIUS):
    n, c, h, w = f1.shape
    k = 2 * radius + 1
    patches = F.unfold(f2, kernel_size=k, padding=radius).view(n, c, k * k, h, w)
    return torch.einsum("nchw,nckhw->nkhw", f1, patches) / c


class FlowNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(2, 6, 3, padding=1), nn.LeakyReLU(0.1))
        cost = (2 * RADIUS + 1) ** 2
        self.decoder = nn.Sequential(
            nn.Conv2d(cost + 6 + 2, 12, 3, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(12, 2, 3, padding=1),
        )

    def forward(self, a, b, levels=2):
        pyramid_a, pyramid_b = [a], [b]
        for _ in range(levels - 1):
            pyramid_a.append(F.avg_pool2d(pyramid_a[-1], 2))
            pyramid_b.append(F.avg_pool2d(pyramid_b[-1], 2))
        flow = torch.zeros(a.shape[0], 2, *pyramid_a[-1].shape[-2:])
        for img_a, img_b in zip(reversed(pyramid_a), reversed(pyramid_b)):
            if flow.shape[-1] != img_a.shape[-1]:
                flow = 2.0 * F.interpolate(
                    flow, scale_factor=2, mode="bilinear", align_corners=False
                )
            fa, fb = self.features(img_a), self.features(img_b)
            cost = F.leaky_relu(correlation(fa, warp(fb, flow)), 0.1)
            flow = flow + self.decoder(torch.cat([cost, fa, flow], 1))
        return flow


def charbonnier(x, eps=1e-3, alpha=0.45):
    return (x**2 + eps**2) ** alpha


def ssim(x, y):
    mu_x, mu_y = F.avg_pool2d(x, 3, 1, 1), F.avg_pool2d(y, 3, 1, 1)
    sigma_x = F.avg_pool2d(x * x, 3, 1, 1) - mu_x**2
    sigma_y = F.avg_pool2d(y * y, 3, 1, 1) - mu_y**2
    sigma_xy = F.avg_pool2d(x * y, 3, 1, 1) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2)
    )
    return torch.clamp((1 - value) / 2, 0, 1)


def smoothness(flow, image):
    weight_x = torch.exp(-10 * torch.diff(image, dim=-1).abs().mean(1, keepdim=True))
    weight_y = torch.exp(-10 * torch.diff(image, dim=-2).abs().mean(1, keepdim=True))
    second_x = torch.diff(flow, n=2, dim=-1).abs()
    second_y = torch.diff(flow, n=2, dim=-2).abs()
    return (weight_x[..., 1:] * second_x).mean() + (weight_y[..., 1:, :] * second_y).mean()


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.71 + i)
            p.copy_((0.08 * wave).view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    first, second = frames()
    model = FlowNet()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(6):
        forward = model(first, second)
        backward = model(second, first)
        warped = warp(second, forward)
        mismatch = (forward + warp(backward, forward)).norm(dim=1, keepdim=True)
        visible = (
            (mismatch < 0.5 + 0.05 * (forward.norm(dim=1, keepdim=True) ** 2)).float().detach()
        )
        photo = (charbonnier(warped - first) * visible).sum() / (visible.sum() * 2 + 1e-6)
        loss = (
            photo + 0.5 * (ssim(warped, first) * visible).mean() + 0.1 * smoothness(forward, first)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        flow = model(first, second)
        modes = {
            pad: warp(second, flow + 3.0, padding_mode=pad).mean().item()
            for pad in ("zeros", "border", "reflection")
        }
        nearest = warp(second, flow, mode="nearest").abs().sum().item()
        # a diverged pixel (0 / 0 in a flow normalisation) must not take the warp down with it
        diverged = flow.clone()
        diverged[0, :, 3, 4] = float("nan")
        diverged[1, 0, 5, 6] = float("inf")
        broken = {
            pad: warp(second, diverged, padding_mode=pad)
            for pad in ("zeros", "border", "reflection")
        }
        nonfinite = {pad: int((~torch.isfinite(out)).sum()) for pad, out in broken.items()}
        finite_sum = {
            pad: round(out.nan_to_num(0.0).sum().item(), 3) for pad, out in broken.items()
        }
        theta = torch.tensor([[[0.9, 0.1, 0.05], [-0.1, 0.9, -0.05]]]).expand(2, 2, 3)
        rotated = F.grid_sample(
            first, F.affine_grid(theta, first.shape, align_corners=False), align_corners=False
        )
        facts = {
            "flow_mean": flow.mean(dim=(0, 2, 3)).round(decimals=4).tolist(),
            "visible": visible.mean().item(),
            "modes": {k: round(v, 4) for k, v in modes.items()},
            "nearest": round(nearest, 3),
            "corr_shape": list(correlation(first, second).shape),
            "affine": round(rotated.abs().mean().item(), 4),
            "nonfinite": nonfinite,
            "finite_sum": finite_sum,
        }
    torch.save(model.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    facts["keys"] = sorted(state)[:2]
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
