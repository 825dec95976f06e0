"""The tooling around a training loop, as research code and trainer libraries write it:
weights initialised by `model.apply(init_fn)` with `nn.init.*` (their statistics printed
coarsely), tied weights seen through `named_parameters(remove_duplicate=False)` and
`named_modules(remove_duplicate=False)`, a `register_forward_pre_hook(with_kwargs=True)`
that rewrites a keyword argument and a `register_forward_hook(with_kwargs=True,
always_call=True)` that records activations, `register_full_backward_hook` gradient norms,
a flat-vector weight perturbation through `parameters_to_vector` / `vector_to_parameters`
(a sharpness probe), `clip_grad_value_`, optimizer + ReduceLROnPlateau +
CosineAnnealingWarmRestarts state saved with `torch.save` and resumed into a fresh model
loaded with `strict=False` (reporting missing and unexpected keys) and with `assign=True`
(which unties the tied weights: they are tied again before the optimizer state is loaded).

Run: python training_tooling_hooks_resume.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parameters_to_vector, vector_to_parameters


class GatedBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.proj = nn.Linear(width, 2 * width)
        self.norm = nn.LayerNorm(width)

    def forward(self, x, *, temperature=1.0):
        value, gate = self.proj(self.norm(x)).chunk(2, dim=-1)
        return x + value * torch.sigmoid(gate / temperature)


class TiedClassifier(nn.Module):
    def __init__(self, vocab=10, width=8, depth=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.blocks = nn.ModuleList([GatedBlock(width) for _ in range(depth)])
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.embed.weight  # tied input and output embeddings
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, tokens, temperature=1.0):
        self.calls += 1
        h = self.embed(tokens).mean(dim=1)
        for block in self.blocks:
            h = block(h, temperature=temperature)
        return self.head(h)


def init_fn(module):
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight, gain=nn.init.calculate_gain("sigmoid"))
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, std=0.5)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.77 + i)
            p.copy_(values.view_as(p) / math.sqrt(p.shape[-1]))


def make_data(count=40):
    tokens = torch.tensor([[(i * 3 + j * 7) % 10 for j in range(5)] for i in range(count)])
    labels = (tokens.sum(1) % 10 + tokens[:, 0]) % 10
    return tokens, labels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(4)

    probe = nn.Sequential(nn.Linear(256, 512), nn.LayerNorm(512), nn.Linear(512, 64))
    probe.apply(init_fn)
    big = torch.empty(300, 200)
    stats = [
        round(probe[0].weight.std().item() / 0.0884, 1),  # xavier: sqrt(2/(in+out)) * gain
        round(nn.init.kaiming_normal_(big, mode="fan_out").std().item(), 2),
        round(nn.init.kaiming_uniform_(big, nonlinearity="relu").abs().max().item(), 2),
        round(nn.init.trunc_normal_(big, std=1.0, a=-0.5, b=0.5).abs().max().item(), 1),
        round(nn.init.orthogonal_(torch.empty(20, 30)).matmul(torch.eye(30)).norm().item() ** 2),
        nn.init.calculate_gain("leaky_relu", 0.1),
    ]

    model = TiedClassifier()
    model.apply(init_fn)
    if args.deterministic:
        fixed_init(model)
    tied = [name for name, _ in model.named_parameters(remove_duplicate=False)]
    unique = [name for name, _ in model.named_parameters()]
    modules = [name for name, _ in model.named_modules(remove_duplicate=False)]

    activations, grad_norms, seen_kwargs = {}, [], []

    def sharpen(module, args, kwargs):
        seen_kwargs.append(sorted(kwargs))
        return args, {**kwargs, "temperature": kwargs.get("temperature", 1.0) * 0.5}

    def record(module, args, kwargs, output):
        activations[len(activations)] = round(output.abs().mean().item(), 4)

    def grad_norm(module, grad_input, grad_output):
        grad_norms.append(round(grad_output[0].norm().item(), 4))

    model.blocks[0].register_forward_pre_hook(sharpen, with_kwargs=True)
    model.blocks[1].register_forward_hook(record, with_kwargs=True, always_call=True)
    model.blocks[1].register_full_backward_hook(grad_norm)

    tokens, labels = make_data()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    restarts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2)
    losses, lrs = [], []
    for epoch in range(6):
        order = torch.arange(40) if args.deterministic else torch.randperm(40)
        for i, start in enumerate(range(0, 40, 20)):
            batch = order[start : start + 20]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(tokens[batch]), labels[batch])
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
            optimizer.step()
            restarts.step(epoch + i / 2)
        with torch.no_grad():
            full = F.cross_entropy(model(tokens), labels).item()
        plateau.step(round(full, 2) if epoch < 3 else 9.0)
        losses.append(round(full, 5))
        lrs.append(round(optimizer.param_groups[0]["lr"], 6))

    # a sharpness probe: perturb all weights along one flat direction, then restore them
    flat = parameters_to_vector(model.parameters())
    direction = torch.cos(torch.arange(flat.numel(), dtype=torch.float32))
    with torch.no_grad():
        vector_to_parameters(flat + 0.01 * direction / direction.norm(), model.parameters())
        sharp = F.cross_entropy(model(tokens), labels).item() - losses[-1]
        vector_to_parameters(flat, model.parameters())

    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "plateau": plateau.state_dict(),
            "restarts": restarts.state_dict(),
        },
        args.checkpoint,
    )
    state = torch.load(args.checkpoint)
    weights = dict(state["model"])
    weights["blocks.1.extra_scale"] = torch.ones(3)
    del weights["blocks.0.norm.bias"]
    fresh = TiedClassifier()
    result = fresh.load_state_dict(weights, strict=False)
    assigned = TiedClassifier()
    assigned.load_state_dict(state["model"], assign=True)
    tie_survived = assigned.head.weight is assigned.embed.weight  # assign=True replaces each
    assigned.head.weight = assigned.embed.weight
    resumed_opt = torch.optim.Adam(assigned.parameters(), lr=0.05)
    resumed_opt.load_state_dict(state["optimizer"])
    with torch.no_grad():
        resumed_loss = F.cross_entropy(assigned(tokens), labels).item()

    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lrs": lrs,
                "init_stats": stats,
                "tied": tied,
                "unique": unique,
                "modules": modules,
                "seen_kwargs": seen_kwargs[:2],
                "activations": list(activations.values())[:4],
                "grad_norms": grad_norms[:4],
                "sharpness": round(sharp, 4),
                "missing": result.missing_keys,
                "unexpected": result.unexpected_keys,
                "assigned_is_param": isinstance(assigned.embed.weight, nn.Parameter),
                "tie_survived_assign": tie_survived,
                "resumed_loss": round(resumed_loss, 5),
                "calls": int(model.calls),
                "plateau_best": round(state["plateau"]["best"], 4),
                "restart_T_i": state["restarts"]["T_i"],
                "adam_steps": float(state["optimizer"]["state"][0]["step"]),
            }
        )
    )


if __name__ == "__main__":
    main()
