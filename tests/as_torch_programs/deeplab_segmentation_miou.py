"""Semantic segmentation as DeepLab / FCN training repositories write it: a small backbone with
an output stride of 4, an ASPP head of dilated 3x3 convolutions (`dilation=2, 3` with the
matching padding) plus an image-pooling branch (`F.adaptive_avg_pool2d(x, 1)` then
`F.interpolate(..., size=, mode="bilinear", align_corners=False)`), logits upsampled to the
label size, `nn.CrossEntropyLoss(weight=class_weights, ignore_index=255)` over (N, C, H, W)
with a void border, an OHEM loss (per-pixel `reduction="none"`, the hardest kept by `topk`
over the valid pixels), an auxiliary soft-Dice term through `F.one_hot(...).permute(0, 3, 1,
2)`, the confusion matrix by `torch.bincount(n * label + pred, minlength=n * n)`, per-class IoU
and mIoU by `torch.diag` and `nanmean`, pixel accuracy, a `PolynomialLR` ("poly") schedule
under SGD with momentum and separate backbone / head groups, and `nearest` label resizing.

Run: python deeplab_segmentation_miou.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES, IGNORE = 3, 255


def conv_bn(cin, cout, stride=1, dilation=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class ASPP(nn.Module):
    def __init__(self, cin, cout, rates=(2, 3)):
        super().__init__()
        self.branches = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.ReLU())]
        )
        self.branches.extend(conv_bn(cin, cout, dilation=r) for r in rates)
        self.pool = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.ReLU())
        self.project = nn.Sequential(
            nn.Conv2d(cout * (len(rates) + 2), cout, 1, bias=False), nn.ReLU(), nn.Dropout(0.1)
        )

    def forward(self, x):
        size = x.shape[-2:]
        outs = [branch(x) for branch in self.branches]
        pooled = self.pool(F.adaptive_avg_pool2d(x, 1))
        outs.append(F.interpolate(pooled, size=size, mode="bilinear", align_corners=False))
        return self.project(torch.cat(outs, dim=1))


class DeepLabLite(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(conv_bn(3, 8, stride=2), conv_bn(8, 12, stride=2))
        self.aspp = ASPP(12, 8)
        self.classifier = nn.Conv2d(8, CLASSES, 1)

    def forward(self, x):
        logits = self.classifier(self.aspp(self.backbone(x)))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def make_data(n=4, size=18):
    """Images whose class is a function of position (a disc, a band, background), void
    pixels on the border and a fixed colour code per class plus a sinusoidal texture."""
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    images, labels = [], []
    for i in range(n):
        cy, cx = 6 + i, 9 - i
        disc = (ys - cy) ** 2 + (xs - cx) ** 2 < 16
        band = (xs + ys + 2 * i) % 9 < 3
        label = torch.zeros(size, size, dtype=torch.long)
        label[band] = 1
        label[disc] = 2
        label[0, :] = IGNORE
        label[:, -1] = IGNORE
        colours = torch.tensor([[0.1, 0.2, 0.3], [0.8, 0.1, 0.4], [0.2, 0.9, 0.6]])
        image = colours[label.clamp(max=CLASSES - 1)].permute(2, 0, 1)
        image = image + 0.2 * torch.sin(0.7 * xs + 0.3 * ys + i)[None]
        images.append(image)
        labels.append(label)
    return torch.stack(images).float(), torch.stack(labels)


def ohem_loss(logits, labels, keep=0.25):
    pixel = F.cross_entropy(logits, labels, ignore_index=IGNORE, reduction="none").flatten()
    valid = pixel[labels.flatten() != IGNORE]
    hardest, _ = torch.topk(valid, max(1, int(keep * valid.numel())))
    return hardest.mean()


def dice_loss(logits, labels, eps=1.0):
    valid = (labels != IGNORE).unsqueeze(1)
    target = F.one_hot(labels.clamp(max=CLASSES - 1), CLASSES).permute(0, 3, 1, 2).float()
    probs = logits.softmax(dim=1) * valid
    target = target * valid
    inter = (probs * target).sum(dim=(0, 2, 3))
    union = probs.sum(dim=(0, 2, 3)) + target.sum(dim=(0, 2, 3))
    return 1 - ((2 * inter + eps) / (union + eps)).mean()


def confusion(pred, labels, n=CLASSES):
    keep = (labels >= 0) & (labels < n)
    return torch.bincount(n * labels[keep] + pred[keep], minlength=n * n).reshape(n, n)


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if p.dim() > 1:
                fan_in = p[0].numel()
                wave = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.37 + i)
                p.copy_(wave.view_as(p) * (2.0 / fan_in) ** 0.5)
            elif "classifier" in name:
                p.fill_(0.01)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    images, labels = make_data()
    model = DeepLabLite()
    if args.deterministic:
        fixed_init(model)
        model.aspp.project[-1].p = 0.0  # dropout draws from the RNG
    counts = torch.bincount(labels[labels != IGNORE], minlength=CLASSES).float()
    class_weights = counts.sum() / (CLASSES * counts)
    criterion = nn.CrossEntropyLoss(weight=class_weights, ignore_index=IGNORE)
    backbone = list(model.backbone.parameters())
    head = [p for n, p in model.named_parameters() if not n.startswith("backbone")]
    optimizer = torch.optim.SGD(
        [{"params": backbone, "lr": 0.01}, {"params": head}],
        lr=0.05,
        momentum=0.9,
        weight_decay=1e-4,
    )
    scheduler = torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=10, power=0.9)
    losses, lrs = [], []
    model.train()
    for _ in range(8):
        logits = model(images)
        loss = criterion(logits, labels) + 0.5 * ohem_loss(logits, labels)
        loss = loss + 0.2 * dice_loss(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        lrs.append([round(g["lr"], 6) for g in optimizer.param_groups])

    model.eval()
    with torch.no_grad():
        logits = model(images)
        pred = logits.argmax(dim=1)
        hist = confusion(pred, labels)
        iou = torch.diag(hist) / (hist.sum(0) + hist.sum(1) - torch.diag(hist))
        small = F.interpolate(labels[:, None].float(), size=(9, 9), mode="nearest").long()
        small_logits = F.interpolate(logits, scale_factor=0.5, mode="bilinear", align_corners=False)
        facts = {
            "logits_shape": list(logits.shape),
            "confusion": hist.tolist(),
            "iou": iou.round(decimals=4).tolist(),
            "miou": round(iou.nanmean().item(), 4),
            "pixel_acc": round((torch.diag(hist).sum() / hist.sum()).item(), 4),
            "class_weights": class_weights.round(decimals=4).tolist(),
            "ignored": int((labels == IGNORE).sum()),
            "small_labels": torch.unique(small).tolist(),
            "small_acc": round(
                (small_logits.argmax(1) == small[:, 0])
                .float()[small[:, 0] != IGNORE]
                .mean()
                .item(),
                4,
            ),
            "eval_loss": round(criterion(logits, labels).item(), 4),
            "lrs": lrs[-3:],
            "dice": round(dice_loss(logits, labels).item(), 4),
        }
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    again = DeepLabLite()
    again.load_state_dict(state["model"])
    again.eval()
    with torch.no_grad():
        facts["reloaded_same"] = bool(torch.equal(again(images).argmax(1), pred))
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
