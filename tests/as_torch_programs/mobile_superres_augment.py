"""A mobile-style super-resolution network and its augmentation pipeline, as vision research
code writes them without torchvision: random crops from a seeded `torch.Generator`
(`torch.randint(..., generator=g)`), `torch.flip` / `torch.rot90` / `torch.roll`
augmentations and small rotations by `F.affine_grid` + `F.grid_sample(mode="bicubic",
padding_mode="reflection")`; `nn.PixelUnshuffle` in and `nn.PixelShuffle` out;
inverted-residual blocks of depthwise (`groups=channels`) and pointwise convs with
`padding="same"`, dilation and `padding_mode="reflect"` / `"circular"`, `Hardswish` / `Mish` /
`PReLU`, a squeeze-excitation gate from `AdaptiveAvgPool2d(1)` + `Hardsigmoid`,
`nn.ChannelShuffle`; a side branch of `MaxPool2d(return_indices=True)` + `MaxUnpool2d`,
`ReflectionPad2d` / `ReplicationPad2d`, `nn.Unfold` / `nn.Fold` patches, `LPPool2d`,
`LocalResponseNorm`, `GLU`; `channels_last` memory format (the layouts convolutions, pooling
and cat give); `F.interpolate(mode="bicubic")` as the baseline, an L1 + MSE loss and PSNR.

Run: python mobile_superres_augment.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SqueezeExcite(nn.Module):
    def __init__(self, channels, reduction=2):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels // reduction, channels, 1),
            nn.Hardsigmoid(),
        )

    def forward(self, x):
        return x * self.fc(self.pool(x))


class InvertedResidual(nn.Module):
    def __init__(self, channels, expand, dilation, padding_mode):
        super().__init__()
        hidden = channels * expand
        self.block = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.Hardswish(),
            nn.Conv2d(
                hidden,
                hidden,
                3,
                padding="same",
                dilation=dilation,
                groups=hidden,
                padding_mode=padding_mode,
                bias=False,
            ),
            nn.BatchNorm2d(hidden),
            nn.Mish(),
            SqueezeExcite(hidden),
            nn.ChannelShuffle(2),
            nn.Conv2d(hidden, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x):
        return x + self.block(x)


class SuperRes(nn.Module):
    def __init__(self, channels=8, scale=2):
        super().__init__()
        self.unshuffle = nn.PixelUnshuffle(2)
        self.stem = nn.Sequential(nn.Conv2d(4, channels, 3, padding=1), nn.PReLU(channels))
        self.body = nn.Sequential(
            InvertedResidual(channels, 2, dilation=1, padding_mode="reflect"),
            InvertedResidual(channels, 2, dilation=2, padding_mode="circular"),
        )
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2)
        self.pads = nn.Sequential(nn.ReflectionPad2d(1), nn.ReplicationPad2d((0, 1, 1, 0)))
        self.glu = nn.GLU(dim=1)
        self.lrn = nn.LocalResponseNorm(3, alpha=1e-2, beta=0.75, k=1.0)
        self.to_pixels = nn.Conv2d(channels, (2 * scale) ** 2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2 * scale)

    def forward(self, x):
        features = self.body(self.stem(self.unshuffle(x)))
        pooled, indices = self.pool(features)
        detail = self.unpool(pooled, indices, output_size=features.shape[-2:])
        padded = self.pads(detail)[..., 2:-1, 1:-2]
        gated = self.glu(torch.cat([features, padded], dim=1))
        out = self.shuffle(self.to_pixels(self.lrn(gated)))
        baseline = F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
        return baseline + out


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            k = torch.arange(p.numel(), dtype=torch.float32)
            p.copy_(torch.sin(k * 0.47 + i).view_as(p) * 0.25)


def scene(size):
    grid = torch.linspace(-1, 1, size)
    y, x = torch.meshgrid(grid, grid, indexing="ij")
    return (torch.sin(6 * x + 2 * y) * torch.cos(3 * y) + 0.5 * (x * x - y)).view(1, 1, size, size)


def random_crop(image, size, generator, fixed_offset=None):
    h, w = image.shape[-2:]
    if fixed_offset is None:
        top = torch.randint(0, h - size + 1, (1,), generator=generator).item()
        left = torch.randint(0, w - size + 1, (1,), generator=generator).item()
    else:
        top, left = fixed_offset
    return image[..., top : top + size, left : left + size]


def rotate(images, degrees):
    """A small rotation by an affine grid, resampled bicubically with mirrored borders."""
    angle = torch.tensor(degrees * math.pi / 180)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos, -sin, torch.tensor(0.0)]), torch.stack([sin, cos, torch.tensor(0.0)])]
    )
    grid = F.affine_grid(
        theta.expand(images.size(0), 2, 3), list(images.shape), align_corners=False
    )
    return F.grid_sample(
        images, grid, mode="bicubic", padding_mode="reflection", align_corners=False
    )


def augment(patch, step):
    if step % 3 == 1:
        patch = rotate(patch, 5.0 * step)
    if step % 2:
        patch = torch.flip(patch, dims=[-1])
    patch = torch.rot90(patch, k=step % 4, dims=(-2, -1))
    return torch.roll(patch, shifts=(step % 3, -(step % 2)), dims=(-2, -1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(4)
    generator = torch.Generator().manual_seed(1234)

    high_res = scene(40)
    model = SuperRes().to(memory_format=torch.channels_last)
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    losses, psnrs = [], []
    for step in range(6):
        crops = []
        for j in range(3):
            offset = (
                ((step * 5 + j * 7) % 25, (step * 3 + j * 11) % 25) if args.deterministic else None
            )
            crops.append(augment(random_crop(high_res, 16, generator, offset), step + j))
        target = torch.cat(crops).contiguous(memory_format=torch.channels_last)
        low_res = F.avg_pool2d(target, 2)
        prediction = model(low_res)
        loss = F.l1_loss(prediction, target) + 0.5 * F.mse_loss(prediction, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        psnrs.append(round(10 * math.log10(4 / F.mse_loss(prediction, target).item()), 3))

    model.eval()
    with torch.no_grad():
        low = F.avg_pool2d(high_res, 2)
        restored = model(low)
        baseline = F.interpolate(low, scale_factor=2, mode="bicubic", align_corners=False)
        gain = F.mse_loss(baseline, high_res).item() / F.mse_loss(restored, high_res).item()
        unfold = nn.Unfold(kernel_size=4, stride=4)
        fold = nn.Fold(output_size=(40, 40), kernel_size=4, stride=4)
        patches = unfold(restored)
        round_trip = torch.equal(fold(patches), restored)
        energy = nn.LPPool2d(2, kernel_size=4, stride=4)(restored)
        # the layouts a channels-last model's convolutions, pooling and cat give
        features = model.stem(model.unshuffle(low.contiguous(memory_format=torch.channels_last)))
        pooled, _ = model.pool(features)
        joined = torch.cat([features, features], dim=1)
    torch.save(model.state_dict(), args.checkpoint)
    again = SuperRes()
    again.load_state_dict(torch.load(args.checkpoint))
    again.eval()
    with torch.no_grad():
        same = torch.allclose(again(low), restored, atol=1e-6)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "psnr": psnrs,
                "gain_over_bicubic": round(gain, 3),
                "channels_last": [
                    model.stem[0].weight.is_contiguous(memory_format=torch.channels_last),
                    model.stem[0].weight.is_contiguous(),
                    target.stride(),
                    list(features.stride()),
                    features.is_contiguous(memory_format=torch.channels_last),
                    list(pooled.stride()),
                    joined.is_contiguous(),
                ],
                "prelu": [round(v, 4) for v in model.stem[1].weight[:3].tolist()],
                "patches": list(patches.shape),
                "fold_round_trip": round_trip,
                "lp_energy": round(energy.mean().item(), 4),
                "reloaded_same": same,
                "crop_offsets": torch.randint(0, 25, (3,), generator=generator).shape[0],
            }
        )
    )


if __name__ == "__main__":
    main()
