# ruff: noqa: UP006, UP035, UP045 - typing as torchvision's vendored model code writes it
"""Model code copied out of torchvision, as projects vendor it: `_log_api_usage_once` through
`torch._C`, `Conv2dNormActivation` built from `functools.partial(nn.BatchNorm2d, eps=,
momentum=)`, `_make_divisible`, a SqueezeExcitation with Hardsigmoid, StochasticDepth with
`torch._assert` on its arguments, inverted residual blocks in an `OrderedDict` Sequential,
a FrozenBatchNorm2d whose `_load_from_state_dict` drops `num_batches_tracked`, a ViT-style
`_process_input` guarded by `torch._assert`, `torch.jit.annotate(List[Tensor], [])`, and
`torch.utils.model_zoo` / `torch.hub` imported for the weights. Trained with SGD (nesterov)
under SWALR into an `AveragedModel`, whose BatchNorm statistics `update_bn` recomputes, and
given an empty batch in training (BatchNorm passes it through, its statistics untouched).

Run: python torchvision_style_mobilenet_swa.py CHECKPOINT [--deterministic].
"""

import argparse
import json
from collections import OrderedDict
from functools import partial
from typing import List, Optional

import torch
import torch.nn.functional as F
import torch.utils.model_zoo as model_zoo  # noqa: F401 - vendored files import it
from torch import Tensor, nn
from torch.hub import load_state_dict_from_url  # noqa: F401
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn


def _log_api_usage_once(obj) -> None:
    module = obj.__module__
    name = obj.__class__.__name__ if not module.startswith("torchvision") else module
    torch._C._log_api_usage_once(f"{module}.{name}")


def _make_divisible(v: float, divisor: int, min_value: Optional[int] = None) -> int:
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    torch._assert(0.0 <= p <= 1.0, f"drop probability has to be between 0 and 1, but got {p}")
    torch._assert(
        mode in ("batch", "row"), f"mode has to be either 'batch' or 'row', but got {mode}"
    )
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device)
    noise = noise.bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class FrozenBatchNorm2d(nn.Module):
    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        _log_api_usage_once(self)
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
    ):
        num_batches_tracked_key = prefix + "num_batches_tracked"
        if num_batches_tracked_key in state_dict:
            del state_dict[num_batches_tracked_key]
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing, unexpected, errors
        )

    def forward(self, x: Tensor) -> Tensor:
        w, b = self.weight.reshape(1, -1, 1, 1), self.bias.reshape(1, -1, 1, 1)
        rv, rm = self.running_var.reshape(1, -1, 1, 1), self.running_mean.reshape(1, -1, 1, 1)
        scale = w * (rv + self.eps).rsqrt()
        return x * scale + (b - rm * scale)


class Conv2dNormActivation(nn.Sequential):
    def __init__(
        self,
        in_ch,
        out_ch,
        kernel_size=3,
        stride=1,
        groups=1,
        norm_layer=nn.BatchNorm2d,
        activation_layer=nn.ReLU,
    ):
        padding = (kernel_size - 1) // 2
        layers = [
            nn.Conv2d(
                in_ch, out_ch, kernel_size, stride, padding, groups=groups, bias=norm_layer is None
            )
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_ch))
        if activation_layer is not None:
            layers.append(activation_layer(inplace=True))
        super().__init__(*layers)
        _log_api_usage_once(self)
        self.out_channels = out_ch


class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation, self.scale_activation = nn.ReLU(), nn.Hardsigmoid()

    def forward(self, x: Tensor) -> Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(scale))))
        return scale * x


class InvertedResidual(nn.Module):
    def __init__(self, cin, expanded, cout, stride, norm_layer, p_drop):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        layers: List[nn.Module] = []
        layers.append(
            Conv2dNormActivation(
                cin, expanded, 1, norm_layer=norm_layer, activation_layer=nn.Hardswish
            )
        )
        layers.append(
            Conv2dNormActivation(
                expanded,
                expanded,
                3,
                stride,
                groups=expanded,
                norm_layer=norm_layer,
                activation_layer=nn.Hardswish,
            )
        )
        layers.append(SqueezeExcitation(expanded, _make_divisible(expanded // 4, 8)))
        layers.append(
            Conv2dNormActivation(expanded, cout, 1, norm_layer=norm_layer, activation_layer=None)
        )
        self.block = nn.Sequential(*layers)
        self.p_drop = p_drop

    def forward(self, x: Tensor) -> Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = stochastic_depth(result, self.p_drop, "row", self.training) + x
        return result


class TinyMobileNet(nn.Module):
    def __init__(self, classes=3, p_drop=0.0, image_size=8, frozen_stem=False):
        super().__init__()
        _log_api_usage_once(self)
        self.image_size = image_size
        norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        stem_norm = FrozenBatchNorm2d if frozen_stem else norm_layer
        self.features = nn.Sequential(
            OrderedDict(
                [
                    (
                        "stem",
                        Conv2dNormActivation(
                            3, 8, 3, 2, norm_layer=stem_norm, activation_layer=nn.Hardswish
                        ),
                    ),
                    ("block1", InvertedResidual(8, 16, 8, 1, norm_layer, p_drop)),
                    ("block2", InvertedResidual(8, 24, 12, 2, norm_layer, p_drop)),
                ]
            )
        )
        self.classifier = nn.Sequential(
            nn.Linear(12, 16),
            nn.Hardswish(inplace=True),
            nn.Dropout(0.2 if p_drop else 0.0),
            nn.Linear(16, classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def _process_input(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        torch._assert(
            h == self.image_size, f"Wrong image height! Expected {self.image_size} but got {h}!"
        )
        torch._assert(
            w == self.image_size, f"Wrong image width! Expected {self.image_size} but got {w}!"
        )
        return x

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(self._process_input(x))
        features = torch.jit.annotate(List[Tensor], [])
        features.append(F.adaptive_avg_pool2d(x, 1))
        features.append(torch.amax(x, dim=(-2, -1), keepdim=True))
        x = torch.flatten(features[0] + 0.5 * features[1], 1)
        return self.classifier(x)


def bn_stats(model):
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    return torch.cat([torch.cat([m.running_mean, m.running_var]) for m in norms])


def fixed_(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            ramp = torch.arange(p.numel(), dtype=torch.float32) * (0.29 + 0.07 * i)
            p.copy_(torch.cos(ramp).view_as(p) * 0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(6)
    det = args.deterministic
    i = torch.arange(12, dtype=torch.float32)[:, None, None, None]
    c = torch.arange(3, dtype=torch.float32)[None, :, None, None]
    yy = torch.arange(8, dtype=torch.float32)[None, None, :, None]
    xx = torch.arange(8, dtype=torch.float32)[None, None, None, :]
    labels = torch.arange(12) % 3
    images = torch.cos(0.5 * i + c + 0.6 * yy * (labels[:, None, None, None] + 1) - 0.3 * xx)
    model = TinyMobileNet(p_drop=0.0 if det else 0.1)
    if det:
        fixed_(model)
    swa_model = AveragedModel(model)
    opt = torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4
    )
    swa_sched = SWALR(opt, swa_lr=0.02, anneal_epochs=2, anneal_strategy="cos")
    losses, lrs = [], []
    for epoch in range(6):
        model.train()
        for start in (0, 6):
            loss = F.cross_entropy(model(images[start : start + 6]), labels[start : start + 6])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        if epoch >= 2:
            swa_model.update_parameters(model)
            swa_sched.step()
        lrs.append(round(opt.param_groups[0]["lr"], 8))
    update_bn([(images[:6], labels[:6]), (images[6:], labels[6:])], swa_model)
    swa_model.eval()
    with torch.no_grad():
        swa_logits = swa_model(images)
    try:
        model(images[:, :, :6])
        assert_message = ""
    except AssertionError as error:
        assert_message = str(error)
    # a training step's batch that came out empty (every image filtered): PyTorch's
    # BatchNorm passes it through and leaves its running statistics alone
    before = bn_stats(model)
    model.train()
    empty_out = model(images[:0])
    empty_out.sum().backward()
    empty_batch = [list(empty_out.shape), torch.equal(before, bn_stats(model))]
    frozen = TinyMobileNet(frozen_stem=True)
    result = frozen.load_state_dict(model.state_dict(), strict=False)
    torch.save(swa_model.state_dict(), args.checkpoint)
    loaded = torch.load(args.checkpoint)
    bn = swa_model.module.features.block1.block[0][1]
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lrs": lrs,
                "n_averaged": swa_model.n_averaged.item(),
                "swa_logits": [v for v in swa_logits[:2].flatten().tolist()] if det else [],
                "bn_running_mean": [v for v in bn.running_mean[:4].tolist()] if det else [],
                "bn_momentum": bn.momentum,
                "assert_message": assert_message,
                "frozen_missing": result.missing_keys,
                "frozen_unexpected": result.unexpected_keys,
                "divisible": [_make_divisible(v, 8) for v in (3, 12, 20, 37.5, 100)],
                "keys": [k for k in loaded if "stem" in k][:6],
                "n_keys": len(loaded),
                "empty_batch": empty_batch,
            }
        )
    )


if __name__ == "__main__":
    main()
