"""Parametrizations and model surgery as research code writes them: `model.apply(init_fn)`
dispatching on layer type to `nn.init.kaiming_normal_(mode="fan_out", nonlinearity="relu")`,
`xavier_uniform_(gain=calculate_gain("tanh"))`, `trunc_normal_(std=.02)` and `orthogonal_`;
`parametrizations.orthogonal`, `parametrizations.spectral_norm`, `weight_norm` (its
`original0`/`original1`), a custom `register_parametrization` module (symmetric matrices,
with `right_inverse`) and `parametrize.cached()`, `is_parametrized`,
`remove_parametrizations(leave_parametrized=True)`; `register_buffer(persistent=False)`,
`named_modules`/`named_buffers`/`named_parameters(recurse=False)`, a head swapped after
training, `requires_grad_(False)` freezing a backbone, `state_dict` round trips through
`torch.save`/`torch.load` into a BytesIO, `load_state_dict(strict=False)` reporting
missing/unexpected keys, and the RuntimeError of a strict load with a wrong shape.

Run: python parametrized_layer_surgery.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import io
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize
from torch.nn.utils import parametrizations


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(-1, -2)

    def right_inverse(self, a):
        return a.triu()


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 8)
        self.mix = nn.Linear(8, 8, bias=False)
        self.gate = nn.Linear(8, 8)
        self.register_buffer("scale", torch.linspace(0.5, 1.5, 8), persistent=False)
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def forward(self, x):
        if self.training:
            self.steps += 1
        h = torch.tanh(self.inp(x))
        h = h + F.relu(self.mix(h)) * torch.sigmoid(self.gate(h))
        return h * self.scale


class Net(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.backbone = Backbone()
        self.square = nn.Linear(8, 8)
        self.head = nn.Linear(8, classes)

    def forward(self, x):
        return self.head(F.gelu(self.square(self.backbone(x))))


def init_weights(module):
    if isinstance(module, nn.Linear) and module.out_features == 3:
        nn.init.trunc_normal_(module.weight, std=0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Linear) and module.in_features == 4:
        nn.init.xavier_uniform_(module.weight, gain=nn.init.calculate_gain("tanh"))
        nn.init.constant_(module.bias, 0.01)
    elif isinstance(module, nn.Linear):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            k = torch.arange(p.numel(), dtype=torch.float32)
            pattern = torch.sin(k * k * 0.37 + i)  # full rank, so orthogonal's QR is unique
            p.copy_(pattern.view_as(p) * 0.5)


def data():
    x = torch.stack([torch.sin(torch.arange(60.0) * k * 0.37) for k in range(1, 5)], dim=1)
    y = ((x[:, 0] + x[:, 1] * x[:, 2]) * 2).floor().clamp(-1, 1).long() + 1
    return x, y


def train(model, x, y, epochs, lr=0.05):
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    losses = []
    for _ in range(epochs):
        for start in range(0, len(x), 20):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[start : start + 20]), y[start : start + 20])
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
    return losses


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)

    model = Net()
    model.apply(init_weights)
    init_stats = [round(model.head.weight.std().item() * 100) / 100]
    orth = torch.empty(5, 3)
    nn.init.orthogonal_(orth)
    init_stats.append(round((orth.T @ orth - torch.eye(3)).abs().max().item(), 4))
    if args.deterministic:
        fixed_init(model)

    parametrizations.orthogonal(model.backbone.mix)
    parametrizations.spectral_norm(model.backbone.gate, n_power_iterations=3)
    if args.deterministic:  # the power iteration starts from random vectors
        with torch.no_grad():
            norm = model.backbone.gate.parametrizations.weight[0]
            norm._u.copy_(F.normalize(torch.cos(torch.arange(8.0)), dim=0))
            norm._v.copy_(F.normalize(torch.sin(torch.arange(8.0) + 1), dim=0))
    parametrize.register_parametrization(model.square, "weight", Symmetric())
    model.head = parametrizations.weight_norm(model.head, dim=0)
    names = sorted(n for n, _ in model.named_parameters())
    modules = [n for n, m in model.named_modules() if isinstance(m, Symmetric)]

    x, y = data()
    losses = train(model, x, y, epochs=4)
    with torch.no_grad():
        q = model.backbone.mix.weight
        orthogonality = (q.T @ q - torch.eye(8)).abs().max().item()
        w = model.square.weight
        symmetric = torch.equal(w, w.T)
        sigma = torch.linalg.matrix_norm(model.backbone.gate.weight, ord=2).item()
    with parametrize.cached():
        cached_equal = torch.equal(model.square.weight, model.square.weight)

    buffers = sorted(n for n, _ in model.named_buffers())
    state = model.state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer)
    state_keys = sorted(loaded)
    torch.save(loaded, args.checkpoint)

    # Surgery: a plain model takes the parametrized weights once they are baked in.
    for module, name in [
        (model.backbone.mix, "weight"),
        (model.backbone.gate, "weight"),
        (model.square, "weight"),
        (model.head, "weight"),
    ]:
        parametrize.remove_parametrizations(module, name, leave_parametrized=True)
    plain = Net(classes=5)
    result = plain.load_state_dict(
        {k: v for k, v in model.state_dict().items() if not k.startswith("head.")}, strict=False
    )
    try:
        plain.load_state_dict(model.state_dict())
        strict_error = "none"
    except RuntimeError as error:
        strict_error = [line.strip() for line in str(error).splitlines()]
    extra = {k: v for k, v in model.state_dict().items() if k.startswith("backbone.")}
    extra["backbone.extra"] = torch.ones(1)
    unexpected = plain.load_state_dict(extra, strict=False).unexpected_keys

    model.eval()
    plain.eval()
    with torch.no_grad():
        same_features = torch.allclose(plain.backbone(x), model.backbone(x), atol=1e-6)
    for p in plain.backbone.parameters():
        p.requires_grad_(False)
    frozen_before = plain.backbone.inp.weight.clone()
    plain.train()
    if args.deterministic:
        with torch.no_grad():
            plain.head.weight.copy_(torch.cos(torch.arange(40.0)).view(5, 8) * 0.3)
            plain.head.bias.zero_()
    fine_tune = train(plain, x, y, epochs=2)

    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses + fine_tune,
                "init_stats": init_stats,
                "parameter_names": names,
                "symmetric_modules": modules,
                "orthogonality": round(orthogonality, 4),
                "symmetric": symmetric,
                "sigma": round(sigma, 2),
                "cached_equal": cached_equal,
                "buffers": buffers,
                "state_keys": state_keys,
                "is_parametrized": [
                    parametrize.is_parametrized(model.square),
                    parametrize.is_parametrized(model.backbone.inp),
                ],
                "missing": result.missing_keys,
                "unexpected": [result.unexpected_keys, unexpected],
                "strict_error": strict_error,
                "same_features": same_features,
                "frozen": torch.equal(frozen_before, plain.backbone.inp.weight),
                "steps": int(plain.backbone.steps),
                "direct_params": [n for n, _ in plain.named_parameters(recurse=False)],
            }
        )
    )


if __name__ == "__main__":
    main()
