"""LoRA fine-tuning two ways, as minLoRA and PEFT write it: a pre-trained MLP classifier is
frozen (`requires_grad_(False)`), then (1) each `nn.Linear.weight` gets a low-rank delta through
`parametrize.register_parametrization` of a module holding `lora_A` / `lora_B` (scaled by
alpha / r, `nn.init.kaiming_uniform_(a=math.sqrt(5))` and zeros), applied with
`model.apply(fn)` over `named_modules`; the adapters alone are saved (a `state_dict` filtered
by name) and loaded with `load_state_dict(strict=False)` whose missing / unexpected keys are
printed; forward passes under `parametrize.cached()`; `functional_call` swaps in a dict of
adapter tensors; the deltas are merged by `remove_parametrizations(leave_parametrized=True)`;
(2) a PEFT-style wrapper module replaces layers via `setattr` on the parent, with
`F.linear(x, W + (B @ A) * scaling)` merged by hand under `torch.no_grad()`; trainable counts
by `sum(p.numel() for p in ... if p.requires_grad)` and `parameters_to_vector`.

Run: python lora_parametrize_merge.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize
from torch.func import functional_call
from torch.nn.utils import parameters_to_vector

FEATURES, HIDDEN, CLASSES = 6, 12, 3


class LoRAParametrization(nn.Module):
    def __init__(self, fan_in, fan_out, rank=2, alpha=4):
        super().__init__()
        self.lora_A = nn.Parameter(torch.zeros(rank, fan_in))
        self.lora_B = nn.Parameter(torch.zeros(fan_out, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / rank
        self.enabled = True

    def forward(self, weight):
        if not self.enabled:
            return weight
        return weight + torch.matmul(self.lora_B, self.lora_A).view(weight.shape) * self.scaling


class LoRALinear(nn.Module):
    """PEFT's wrapper: the frozen base layer plus B @ A, mergeable into the base weight."""

    def __init__(self, base, rank=2, alpha=2):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / rank
        self.merged = False

    def forward(self, x):
        out = self.base(x)
        if not self.merged:
            out = out + self.lora_B(self.lora_A(x)) * self.scaling
        return out

    @torch.no_grad()
    def merge(self):
        self.base.weight += (self.lora_B.weight @ self.lora_A.weight) * self.scaling
        self.merged = True


def make_model():
    return nn.Sequential(
        nn.Linear(FEATURES, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, HIDDEN), nn.Tanh(),
        nn.Linear(HIDDEN, CLASSES),
    )  # fmt: skip


def make_data(n, shift):
    idx = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    x = torch.sin(idx * 0.37 + torch.arange(FEATURES) * 1.1) + shift
    y = ((x[:, 0] + x[:, 1] * x[:, 2]) > shift).long() + (x[:, 3] > shift + 0.5).long()
    return x, y


def fixed_init(model, scale=0.4):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.9 + i).view_as(p))
            p.mul_(scale if p.dim() > 1 else 0.1)


def train(model, params, x, y, steps, lr):
    optimizer = torch.optim.Adam(params, lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def add_lora(module):
    if isinstance(module, nn.Linear):
        fan_out, fan_in = module.weight.shape
        parametrize.register_parametrization(module, "weight", LoRAParametrization(fan_in, fan_out))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    model = make_model()
    if args.deterministic:
        fixed_init(model)
    x, y = make_data(48, 0.0)
    losses = train(model, model.parameters(), x, y, 10, 0.05)
    pretrained = {k: v.clone() for k, v in model.state_dict().items()}

    model.requires_grad_(False)
    model.apply(add_lora)
    if args.deterministic:
        for name, p in model.named_parameters():
            if "lora_" in name:
                with torch.no_grad():
                    p.copy_(
                        0.1 * torch.sin(torch.arange(p.numel(), dtype=torch.float32)).view_as(p)
                    )
    lora_params = [p for n, p in model.named_parameters() if "lora_" in n]
    for p in lora_params:
        p.requires_grad_(True)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    x2, y2 = make_data(48, 0.3)
    losses += train(model, lora_params, x2, y2, 10, 0.05)

    adapters = {k: v for k, v in model.state_dict().items() if "lora_" in k}
    torch.save(adapters, args.checkpoint)
    fresh = make_model()
    fresh.load_state_dict(pretrained)
    fresh.apply(add_lora)
    result = fresh.load_state_dict(torch.load(args.checkpoint, weights_only=True), strict=False)
    with torch.no_grad(), parametrize.cached():
        adapted_logits = fresh(x2)
        again = fresh(x2)
    swapped = {k: torch.zeros_like(v) for k, v in adapters.items() if k.endswith("lora_B")}
    with torch.no_grad():
        base_only = functional_call(fresh, swapped, (x2,))
    for module in fresh.modules():
        if parametrize.is_parametrized(module):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    merged_logits = fresh(x2).detach()

    peft = make_model()
    peft.load_state_dict(pretrained)
    peft.requires_grad_(False)
    for name, child in list(peft.named_children()):
        if isinstance(child, nn.Linear):
            setattr(peft, name, LoRALinear(child))
    if args.deterministic:
        for name, p in peft.named_parameters():
            if "lora_A" in name:
                with torch.no_grad():
                    p.copy_(
                        0.2 * torch.cos(torch.arange(p.numel(), dtype=torch.float32)).view_as(p)
                    )
    peft_params = [p for p in peft.parameters() if p.requires_grad]
    losses += train(peft, peft_params, x2, y2, 8, 0.05)
    with torch.no_grad():
        before = peft(x2)
        for module in peft.modules():
            if isinstance(module, LoRALinear):
                module.merge()
        after = peft(x2)

    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "trainable": [trainable, sum(p.numel() for p in peft_params)],
                "adapter_keys": sorted(adapters)[:3],
                "missing": len(result.missing_keys),
                "unexpected": result.unexpected_keys,
                "cached_equal": bool(torch.equal(adapted_logits, again)),
                "merge_matches": bool(torch.allclose(adapted_logits, merged_logits, atol=1e-5)),
                "base_only_acc": (base_only.argmax(1) == y2).float().mean().item(),
                "adapted_acc": (adapted_logits.argmax(1) == y2).float().mean().item(),
                "merged_keys": sorted(fresh.state_dict())[:2],
                "peft_merge_matches": bool(torch.allclose(before, after, atol=1e-5)),
                "peft_vector": parameters_to_vector(peft_params).norm().item(),
            }
        )
    )


if __name__ == "__main__":
    main()
