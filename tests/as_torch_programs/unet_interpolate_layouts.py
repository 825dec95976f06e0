"""A small U-Net segmentation step as tutorials write it: double-conv blocks, MaxPool2d down,
`F.interpolate` up (bilinear with and without align_corners, nearest, by scale_factor and
by size), skip connections joined with `torch.cat` after `F.pad` to match sizes, a
BCEWithLogitsLoss with pos_weight plus a soft dice loss, IoU at a 0.5 threshold; and the
layout and printing facts such scripts print or rely on: `stride()`, `is_contiguous()`
after permutes and clones, `.view` after `.contiguous()`, `channels_last`,
`set_printoptions`, `repr` of parameters, `allclose` and `testing.assert_close`.

Run: python unet_interpolate_layouts.py CHECKPOINT [--deterministic].
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


def double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, mode="bilinear"):
        super().__init__()
        self.mode = mode
        self.down1 = double_conv(1, 4)
        self.down2 = double_conv(4, 8)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.dec = double_conv(8, 4)
        self.out = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(self.pool(d1))
        if self.mode == "transpose":
            u = self.up(d2)
        else:
            kwargs = {"align_corners": True} if self.mode == "bilinear" else {}
            u = F.interpolate(d2, scale_factor=2, mode=self.mode, **kwargs)[:, :4]
        dy, dx = d1.size(2) - u.size(2), d1.size(3) - u.size(3)
        u = F.pad(u, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.out(self.dec(torch.cat([u, d1], dim=1)))


def dice_loss(logits, target, eps=1.0):
    probs = torch.sigmoid(logits)
    inter = (probs * target).sum(dim=(2, 3))
    union = probs.sum(dim=(2, 3)) + target.sum(dim=(2, 3))
    return 1 - ((2 * inter + eps) / (union + eps)).mean()


def fixed_(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (1.3 + i)).view_as(p))
            p.mul_(0.3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(1)

    yy, xx = torch.meshgrid(torch.arange(10.0), torch.arange(10.0), indexing="ij")
    images = torch.stack([torch.sin(xx * 0.5 + k) * torch.cos(yy * 0.3) for k in range(4)])
    images = images.unsqueeze(1)
    masks = (images > 0.2).float()

    losses, ious = [], []
    for mode in ("bilinear", "nearest", "transpose"):
        model = UNet(mode)
        if args.deterministic:
            fixed_(model)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]))
        for _ in range(2):
            logits = model(images)
            loss = bce(logits, masks) + dice_loss(logits, masks)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            pred = (torch.sigmoid(model(images)) > 0.5).float()
            inter = (pred * masks).sum()
            ious.append((inter / (pred + masks - pred * masks).sum().clamp(min=1)).item())

    small = torch.arange(12.0).view(1, 1, 3, 4)
    resized = {
        "bilinear_false": F.interpolate(small, size=(5, 7), mode="bilinear").flatten().tolist(),
        "bilinear_true": F.interpolate(small, size=(5, 7), mode="bilinear", align_corners=True)
        .flatten()
        .tolist(),
        "nearest": F.interpolate(small, scale_factor=1.5, mode="nearest").flatten().tolist(),
        "nearest_exact": F.interpolate(small, size=(4, 5), mode="nearest-exact").flatten().tolist(),
        "bicubic": F.interpolate(small, size=(4, 6), mode="bicubic", align_corners=False)
        .flatten()
        .tolist(),
        "area": F.adaptive_avg_pool2d(small, (2, 3)).flatten().tolist(),
        "upsample": nn.Upsample(scale_factor=2, mode="bilinear")(small).shape[-2:],
    }
    resized["upsample"] = list(resized["upsample"])

    x = torch.arange(24.0).view(2, 3, 4)
    p = x.permute(2, 0, 1)
    layouts = {
        "permute": [list(p.stride()), p.is_contiguous()],
        "permute_clone": [list(p.clone().stride()), p.clone().is_contiguous()],
        "contiguous": list(p.contiguous().stride()),
        "transpose_add": list((x.transpose(0, 1) + 1).stride()),
        "expand_mul": list((x[:, :1].expand(2, 3, 4) * 2).stride()),
        "sum_of_permuted": list(p.sum(1).stride()),
        "softmax_of_permuted": list(p.softmax(-1).stride()),
        "channels_last": list(
            torch.zeros(2, 3, 4, 5).contiguous(memory_format=torch.channels_last).stride()
        ),
        "channels_last_flag": torch.zeros(2, 3, 4, 5)
        .to(memory_format=torch.channels_last)
        .is_contiguous(memory_format=torch.channels_last),
        "narrow": list(x.narrow(2, 1, 2).stride()),
        "unfold": list(x.unfold(2, 2, 1).stride()),
        "t_view": p.contiguous().view(-1).shape[0],
        "empty_like_permuted": list(torch.empty_like(p).stride()),
        "zeros_like_permuted": list(torch.zeros_like(p).stride()),
        "mT": list(x.mT.stride()),
    }

    torch.set_printoptions(precision=2)
    printed = [
        str(torch.tensor([1.23456, 2.5, 1000.0])),
        repr(nn.Parameter(torch.tensor([0.5, -0.25]))),
        str(torch.tensor([[1e-8, 1.0]], dtype=torch.float64)),
    ]
    torch.set_printoptions(profile="default")
    printed.append(str(torch.arange(1200.0).view(30, 40)[:2]))
    printed.append(str(torch.linspace(0, 1, 3, dtype=torch.float16)))
    printed.append(str(torch.tensor([float("nan"), float("inf"), -0.0])))
    printed.append(str(torch.tensor([[True, False]])))
    printed.append(str(torch.tensor(3.5, requires_grad=True) * 2))
    printed.append(str(torch.tensor([1, 2]).long().dtype))
    torch.testing.assert_close(small * 1.0, small.clone())
    close = [torch.allclose(small, small + 1e-6), torch.equal(small, small.clone())]

    torch.save({"layouts": layouts, "images": images[:1]}, args.checkpoint)
    back = torch.load(args.checkpoint)

    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "ious": ious,
                "resized": resized,
                "layouts": layouts,
                "printed": printed,
                "close": close,
                "loaded_stride": list(back["images"].stride()),
            }
        )
    )


if __name__ == "__main__":
    main()
