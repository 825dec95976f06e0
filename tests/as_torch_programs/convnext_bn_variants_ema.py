"""A small ConvNeXt/ResNet hybrid with the normalisation variants and weight averaging that
image-classification repos (timm, torchvision references) use: depthwise 3x3 convolutions
(`groups=channels`) with a channels-last LayerNorm (`permute(0, 2, 3, 1)`), a layer scale
`gamma` parameter and stochastic depth (`drop_path` by `x.new_empty(...).bernoulli_`),
BatchNorm2d with `momentum=None` (a cumulative average) and with
`track_running_stats=False` (batch statistics in eval too), `nn.Identity` shortcuts, a
GroupNorm stem, Dropout2d, `torch.utils.checkpoint.checkpoint(use_reentrant=False)`, the
model converted to `memory_format=torch.channels_last`, an EMA of the weights kept in a
`copy.deepcopy` and updated under `torch.no_grad()` by `lerp_` and by
`mul_().add_(alpha=)`, `torch.optim.swa_utils.AveragedModel` with `update_bn`, and
`train()` / `eval()` switches checked on the batch-norm buffers.

Run: python convnext_bn_variants_ema.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import copy
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.checkpoint import checkpoint


def drop_path(x, drop_prob, training):
    if drop_prob == 0.0 or not training:
        return x
    keep = 1 - drop_prob
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, drop_path_rate=0.0, layer_scale=0.5):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=3, padding=1, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 2 * dim)
        self.pwconv2 = nn.Linear(2 * dim, dim)
        self.gamma = nn.Parameter(layer_scale * torch.ones(dim))
        self.drop_path_rate = drop_path_rate

    def forward(self, x):
        shortcut = x
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.pwconv2(F.gelu(self.pwconv1(self.norm(x))))
        x = (self.gamma * x).permute(0, 3, 1, 2)
        return shortcut + drop_path(x, self.drop_path_rate, self.training)


class BasicBlock(nn.Module):
    def __init__(self, channels, momentum):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels, momentum=momentum)
        self.shortcut = nn.Identity()

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)) + self.shortcut(x))


class Net(nn.Module):
    def __init__(self, drop=0.0):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(2, 6, 3, stride=2, padding=1), nn.GroupNorm(2, 6))
        self.block1 = ConvNeXtBlock(6, drop_path_rate=drop)
        self.block2 = BasicBlock(6, momentum=None)
        self.free_bn = nn.BatchNorm2d(6, track_running_stats=False)
        self.drop = nn.Dropout2d(drop)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        x = self.stem(x)
        x = checkpoint(self.block1, x, use_reentrant=False)
        x = self.drop(self.free_bn(self.block2(x)))
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if name.endswith(("bn.weight", "norm.weight", "stem.1.weight", "gamma")):
                continue
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.53 + i)
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            p.copy_(values.view_as(p) / math.sqrt(fan_in))


def make_images(count=24):
    rows = torch.arange(8, dtype=torch.float32).view(1, 8, 1)
    cols = torch.arange(8, dtype=torch.float32).view(1, 1, 8)
    images, labels = [], []
    for i in range(count):
        label = i % 3
        freq = 0.4 + 0.3 * label
        a = torch.sin(rows * freq + i * 0.1) * torch.cos(cols * 0.2 * (label + 1))
        images.append(torch.cat([a, a.transpose(1, 2) * 0.5]))
        labels.append(label)
    return torch.stack(images), torch.tensor(labels)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(6)
    images, labels = make_images()
    model = Net(drop=0.0 if args.deterministic else 0.1)
    if args.deterministic:
        fixed_init(model)
    model = model.to(memory_format=torch.channels_last)
    ema = copy.deepcopy(model).requires_grad_(False)
    swa = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.8), use_buffers=False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.05)
    losses = []
    for step in range(8):
        model.train()
        batch = slice((step % 3) * 8, (step % 3) * 8 + 8)
        x = images[batch].contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(x), labels[batch], label_smoothing=0.05)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for e, p in zip(ema.parameters(), model.parameters()):
                if step % 2:
                    e.lerp_(p, 0.25)
                else:
                    e.mul_(0.75).add_(p.detach(), alpha=0.25)
            for e, b in zip(ema.buffers(), model.buffers()):
                e.copy_(b)
        swa.update_parameters(model)
        losses.append(round(loss.item(), 5))

    bn = model.block2.bn
    running = [round(v, 5) for v in bn.running_mean.tolist()[:3]]
    tracked = bn.num_batches_tracked.item()
    update_bn([(images[:12], labels[:12]), (images[12:], labels[12:])], swa)
    swa_bn = swa.module.block2.bn

    torch.save({"model": model.state_dict(), "ema": ema.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    restored = Net()
    restored.load_state_dict(state["ema"])
    model.eval()
    ema.eval()
    restored.eval()
    swa.eval()
    with torch.no_grad():
        outputs = {
            name: F.cross_entropy(net(images), labels).item()
            for name, net in (("model", model), ("ema", ema), ("swa", swa), ("restored", restored))
        }
        first = model.block1.dwconv(model.stem(images[:2]))
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "eval_losses": {k: round(v, 5) for k, v in outputs.items()},
                "running_mean": running,
                "num_batches_tracked": tracked,
                "swa_running_var": [round(v, 4) for v in swa_bn.running_var.tolist()[:3]],
                "swa_n_averaged": swa.n_averaged.item(),
                "swa_momentum_restored": swa_bn.momentum,
                "free_bn_buffers": [model.free_bn.running_mean is None, len(state["model"])],
                "channels_last": model.block2.conv.weight.is_contiguous(
                    memory_format=torch.channels_last
                ),
                "dw_shape": list(model.block1.dwconv.weight.shape),
                "first": [round(v, 4) for v in first[0, :, 0, 0].tolist()],
                "ema_gamma": [round(v, 5) for v in ema.block1.gamma.tolist()[:3]],
            }
        )
    )


if __name__ == "__main__":
    main()
