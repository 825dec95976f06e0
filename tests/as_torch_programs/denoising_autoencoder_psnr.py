"""A denoising convolutional autoencoder as image-restoration repositories write it: an
encoder of strided `Conv2d` + `BatchNorm2d` + `SELU`, decoders that upsample three ways
(`ConvTranspose2d(stride=2, output_padding=1)`, `nn.Upsample(scale_factor=2,
mode="nearest")` + conv, and sub-pixel `PixelShuffle`), padding layers (`ZeroPad2d`,
`ConstantPad2d`, `ReflectionPad2d`, `CircularPad2d`), `AvgPool2d` with `ceil_mode`,
`count_include_pad=False` and `divisor_override`, `Dropout2d` / `AlphaDropout` (off in
eval), `nn.Unflatten`, `F.unfold` / `F.fold` patch averaging, a loss of `F.mse_loss` +
`F.l1_loss` + `Softplus`-weighted total variation, `torch.clamp` of outputs, PSNR with
`torch.log10`, BatchNorm in train and eval, `CosineAnnealingLR` and `clip_grad_norm_`.

Run: python denoising_autoencoder_psnr.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

SIZE = 8


def make_images(count):
    rows = torch.arange(SIZE, dtype=torch.float32).view(SIZE, 1)
    cols = torch.arange(SIZE, dtype=torch.float32).view(1, SIZE)
    images = []
    for i in range(count):
        image = 0.5 + 0.4 * torch.sin(rows * (0.5 + 0.1 * i) + cols * 0.3 * (i % 3))
        images.append(image.expand(2, SIZE, SIZE) * torch.tensor([1.0, 0.7]).view(2, 1, 1))
    clean = torch.stack(images)
    noise = 0.15 * torch.sin(torch.arange(clean.numel(), dtype=torch.float32) * 12.9898)
    return (clean + noise.view_as(clean)).clamp(0, 1), clean


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.ZeroPad2d(1),
            nn.Conv2d(2, 6, 3, stride=2, bias=False),
            nn.BatchNorm2d(6),
            nn.SELU(),
            nn.Dropout2d(0.1),
        )
        self.bottleneck = nn.Sequential(
            nn.Flatten(),
            nn.Linear(6 * 16, 24),
            nn.AlphaDropout(0.1),
            nn.SELU(),
            nn.Linear(24, 6 * 16),
            nn.Unflatten(1, (6, 4, 4)),
        )
        self.transposed = nn.ConvTranspose2d(6, 2, 3, stride=2, padding=1, output_padding=1)
        self.upsampled = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(6, 2, 3)
        )
        self.subpixel = nn.Sequential(nn.CircularPad2d(1), nn.Conv2d(6, 8, 3), nn.PixelShuffle(2))
        self.mix = nn.Sequential(nn.ConstantPad2d((1, 1, 1, 1), 0.5), nn.Conv2d(6, 2, 3))

    def forward(self, x):
        code = self.encoder(x)
        code = code + self.bottleneck(code)
        decoded = torch.cat([self.transposed(code), self.upsampled(code), self.subpixel(code)], 1)
        return torch.sigmoid(self.mix(decoded))


def total_variation(image):
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    return dx + dy


def psnr(restored, clean):
    mse = F.mse_loss(restored, clean, reduction="none").mean(dim=(1, 2, 3))
    return (10 * torch.log10(1.0 / mse)).mean()


def patch_average(image, size=4, stride=2):
    """Shrink each overlapping patch toward its mean, then average the overlaps back."""
    patches = F.unfold(image, kernel_size=size, stride=stride, padding=1)
    patches = patches - 0.5 * (patches - patches.mean(dim=1, keepdim=True))
    folded = F.fold(patches, image.shape[-2:], kernel_size=size, stride=stride, padding=1)
    counts = F.fold(torch.ones_like(patches), image.shape[-2:], size, stride=stride, padding=1)
    return folded / counts


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.83 + 0.5 * i)
            p.copy_(0.25 * values.view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    noisy, clean = make_images(8)
    loader = DataLoader(TensorDataset(noisy, clean), batch_size=4, shuffle=not args.deterministic)
    model = Autoencoder()
    if args.deterministic:
        fixed_init(model)
        model.encoder[4].p = 0.0
        model.bottleneck[2].p = 0.0
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=6, eta_min=0.002)
    weight = F.softplus(torch.tensor(-2.0))
    losses, norms = [], []
    for _ in range(3):
        for batch_noisy, batch_clean in loader:
            restored = model(batch_noisy)
            loss = F.mse_loss(restored, batch_clean) + 0.5 * F.l1_loss(restored, batch_clean)
            loss = loss + weight * total_variation(restored)
            optimizer.zero_grad()
            loss.backward()
            norms.append(round(nn.utils.clip_grad_norm_(model.parameters(), 1.0).item(), 4))
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()

    model.eval()
    with torch.no_grad():
        restored = torch.clamp(model(noisy), 0.0, 1.0)
        smoothed = patch_average(restored)
        pooled = F.avg_pool2d(
            restored, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False
        )
        summed = nn.AvgPool2d(2, divisor_override=1)(restored)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    model.load_state_dict(state["model"])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "grad_norms": norms if args.deterministic else None,
                "psnr_noisy": round(psnr(noisy, clean).item(), 4),
                "psnr_restored": round(psnr(restored, clean).item(), 4),
                "psnr_smoothed": round(psnr(smoothed, clean).item(), 4),
                "pooled": [list(pooled.shape), round(pooled.mean().item(), 5)],
                "summed": round(summed.max().item(), 5),
                "running_mean": round(model.encoder[2].running_mean.sum().item(), 5),
                "batches": int(model.encoder[2].num_batches_tracked),
                "lr": [round(v, 6) for v in scheduler.get_last_lr()],
                "adam_steps": int(state["optimizer"]["state"][0]["step"]),
            }
        )
    )


if __name__ == "__main__":
    main()
