"""A MobileNetV2/V3-style network trained in float, folded and then fine-tuned with
quantisation-aware training, as model-compression repos write it without torch.ao: inverted
residuals (1x1 expand, depthwise 3x3 `groups=hidden`, 1x1 project) with `nn.ReLU6` /
`nn.Hardswish` / `nn.SiLU(inplace=True)`, a squeeze-excitation gate of `AdaptiveAvgPool2d(1)`
and `F.hardsigmoid`, stochastic depth from `(keep + torch.rand(...)).floor_()`,
`CrossEntropyLoss(label_smoothing=)`, a `LambdaLR` warm-up, `clip_grad_norm_(...,
error_if_nonfinite=True)`; then `fuse_conv_bn_eval` folding each BatchNorm into its conv,
observers keeping running min/max buffers through `torch.aminmax`, activations fake-quantised
by `torch.fake_quantize_per_tensor_affine` (tensor scale and int32 zero point), weights by
`torch.fake_quantize_per_channel_affine`, a hand-written straight-through estimator
`(x.round() - x).detach() + x` with `torch.clamp` between tensor bounds, and an LSQ-style
learnable step size.

Run: python mobilenet_qat_fake_quant.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval


def drop_path(x, drop_prob, training):
    if drop_prob == 0.0 or not training:
        return x
    keep = 1.0 - drop_prob
    mask = (keep + torch.rand((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device)).floor_()
    return x.div(keep) * mask


class SqueezeExcite(nn.Module):
    def __init__(self, channels, reduced):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, reduced, 1)
        self.act = nn.SiLU(inplace=True)
        self.fc2 = nn.Conv2d(reduced, channels, 1)

    def forward(self, x):
        return x * F.hardsigmoid(self.fc2(self.act(self.fc1(self.pool(x)))))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand, drop):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.expand = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)
        )
        self.depthwise = nn.Sequential(
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.Hardswish(),
        )
        self.se = SqueezeExcite(hidden, max(2, hidden // 4))
        self.project = nn.Sequential(nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.drop = drop

    def forward(self, x):
        out = self.project(self.se(self.depthwise(self.expand(x))))
        if self.use_residual:
            return x + drop_path(out, self.drop, self.training)
        return out


class FakeQuant(nn.Module):
    """An observer of running min/max and an 8-bit affine fake quantiser."""

    def __init__(self, momentum=0.5):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("min_val", torch.tensor(float("inf")))
        self.register_buffer("max_val", torch.tensor(float("-inf")))

    def qparams(self):
        low = torch.clamp(self.min_val, max=0.0)
        high = torch.clamp(self.max_val, min=0.0)
        scale = ((high - low) / 255.0).clamp(min=1e-6)
        zero_point = torch.clamp(-torch.round(low / scale), 0, 255).to(torch.int32)
        return scale, zero_point

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                low, high = torch.aminmax(x.detach())
                if torch.isinf(self.min_val):
                    self.min_val.copy_(low)
                    self.max_val.copy_(high)
                else:
                    self.min_val.lerp_(low, self.momentum)
                    self.max_val.lerp_(high, self.momentum)
        scale, zero_point = self.qparams()
        return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, 0, 255)


def quantize_weight(weight, bits=8):
    """Symmetric per-output-channel fake quantisation of a conv weight."""
    qmax = 2 ** (bits - 1) - 1
    scale = weight.detach().abs().amax(dim=(1, 2, 3)).clamp(min=1e-8) / qmax
    zero_point = torch.zeros(weight.shape[0], dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(weight, scale, zero_point, 0, -qmax - 1, qmax)


class QuantConv(nn.Module):
    def __init__(self, conv):
        super().__init__()
        self.conv = conv
        self.act_quant = FakeQuant()

    def forward(self, x):
        weight = quantize_weight(self.conv.weight)
        out = F.conv2d(
            x, weight, self.conv.bias, self.conv.stride, self.conv.padding, 1, self.conv.groups
        )
        return self.act_quant(out)


def round_pass(x):
    return (x.round() - x).detach() + x


def grad_scale(x, scale):
    return (x - x * scale).detach() + x * scale


class LSQLinear(nn.Linear):
    """A 4-bit linear layer with a learned step size and PACT clipping of its input."""

    def __init__(self, cin, cout):
        super().__init__(cin, cout)
        self.step = nn.Parameter(torch.tensor(0.05))
        self.clip = nn.Parameter(torch.full((cin,), 0.05))

    def forward(self, x):
        x = torch.clamp(x, torch.zeros_like(self.clip), self.clip)
        s = grad_scale(self.step, 1.0 / math.sqrt(self.weight.numel() * 7))
        weight = round_pass(torch.clamp(self.weight / s, -8, 7)) * s
        return F.linear(x, weight, self.bias)


class Net(nn.Module):
    def __init__(self, drop=0.0):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(2, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.Hardswish()
        )
        self.blocks = nn.Sequential(
            InvertedResidual(8, 8, 1, 2, drop),
            InvertedResidual(8, 12, 2, 2, drop),
            InvertedResidual(12, 12, 1, 2, drop),
        )
        self.head = nn.Sequential(nn.Conv2d(12, 16, 1), nn.Hardswish(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(drop)
        self.classifier = LSQLinear(16, 3)

    def forward(self, x):
        x = self.pool(self.head(self.blocks(self.stem(x)))).flatten(1)
        return self.classifier(self.dropout(x))


def fixed_init(model):
    """Weights and biases from a fixed pattern; batch norms and quantiser parameters as built."""
    norms = {
        id(p) for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()
    }
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if id(p) in norms or name.startswith(("classifier.step", "classifier.clip")):
                continue
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + i)
            fan_in = p[0].numel() if p.dim() > 1 else 4 * p.numel()
            p.copy_(values.view_as(p) / math.sqrt(fan_in))


def make_images(count=24):
    rows = torch.arange(8, dtype=torch.float32).view(1, 8, 1)
    cols = torch.arange(8, dtype=torch.float32).view(1, 1, 8)
    images, labels = [], []
    for i in range(count):
        label = i % 3
        a = torch.sin(rows * (0.5 + 0.35 * label) + i * 0.2) * torch.cos(cols * 0.3 * (label + 1))
        images.append(torch.cat([a, a.flip(-1) * 0.5]))
        labels.append(label)
    return torch.stack(images), torch.tensor(labels)


def fuse_model(model):
    """Fold every (Conv2d, BatchNorm2d) pair of a Sequential in eval mode."""
    for module in model.modules():
        if isinstance(module, nn.Sequential) and len(module) > 1:
            if isinstance(module[0], nn.Conv2d) and isinstance(module[1], nn.BatchNorm2d):
                module[0] = fuse_conv_bn_eval(module[0], module[1])
                module[1] = nn.Identity()
    return model


def quantize_model(model):
    for module in list(model.modules()):
        if isinstance(module, nn.Sequential) and isinstance(module[0], nn.Conv2d):
            module[0] = QuantConv(module[0])
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)
    images, labels = make_images()
    model = Net(drop=0.0 if args.deterministic else 0.2)
    if args.deterministic:
        fixed_init(model)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=4e-5
    )
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 3))
    losses, norms = [], []
    for step in range(4):
        model.train()
        batch = slice((step % 3) * 8, (step % 3) * 8 + 8)
        loss = criterion(model(images[batch]), labels[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0, error_if_nonfinite=True)
        optimizer.step()
        warmup.step()
        losses.append(round(loss.item(), 5))
        norms.append(round(norm.item(), 4))

    model.eval()
    with torch.no_grad():
        before = model(images)
        fuse_model(model)
        after = model(images)
    fused_gap = (before - after).abs().max().item()

    quantize_model(model)
    qat_optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)
    for step in range(3):
        model.train()
        batch = slice((step % 3) * 8, (step % 3) * 8 + 8)
        loss = criterion(model(images[batch]), labels[batch])
        qat_optimizer.zero_grad()
        loss.backward()
        qat_optimizer.step()
        losses.append(round(loss.item(), 5))
    observer = model.stem[0].act_quant
    scale, zero_point = observer.qparams()
    step_grad = model.classifier.step.grad.item()
    clip_grad = model.classifier.clip.grad.abs().sum().item()

    torch.save(model.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        logits = model(images)
        accuracy = (logits.argmax(1) == labels).float().mean().item()
        weight = model.blocks[1].depthwise[0].conv.weight
        levels = quantize_weight(weight) / weight.abs().amax(dim=(1, 2, 3), keepdim=True) * 127
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "grad_norms": norms,
                "lr_after_warmup": round(warmup.get_last_lr()[0], 6),
                "fused_gap_small": fused_gap < 1e-4,
                "stem_fused_bias": [round(v, 4) for v in model.stem[0].conv.bias[:3].tolist()],
                "observer": [round(observer.min_val.item(), 5), round(observer.max_val.item(), 5)],
                "qparams": [round(scale.item(), 6), zero_point.item(), str(zero_point.dtype)],
                "lsq_step": [round(model.classifier.step.item(), 6), round(step_grad, 6)],
                "pact_clip_grad": round(clip_grad, 5),
                "accuracy": round(accuracy, 4),
                "logits": [round(v, 4) for v in logits[0].tolist()],
                "integer_levels": bool(torch.allclose(levels, levels.round(), atol=1e-3)),
                "state_keys": len(state),
            }
        )
    )


if __name__ == "__main__":
    main()
