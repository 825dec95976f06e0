"""Fine-tuning machinery as transfer-learning scripts write it: a backbone frozen while a new
head trains, then unfrozen with `optimizer.add_param_group` at a lower learning rate; groups
without weight decay for biases and norms; activation checkpointing with
`torch.utils.checkpoint.checkpoint(..., use_reentrant=False)` (also under
`torch.autocast("cpu", dtype=torch.bfloat16)`) and `checkpoint_sequential`;
`clip_grad_norm_` with the inf and 1-norms (the total norms printed), `clip_grad_value_`,
`get_total_norm`; a warm-up `LinearLR` then `CosineAnnealingLR` joined by `SequentialLR`,
`MultiplicativeLR`, a `register_step_post_hook` counting steps; a timm-style weight EMA
updated by `torch._foreach_lerp_` (its norms by `torch._foreach_norm`); NAdam, RAdam, Adagrad,
Adamax, Rprop and ASGD stepped on the same problem; optimizer and scheduler `state_dict()`
round trips.

Run: python finetune_param_groups_checkpointing.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import copy
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LinearLR,
    MultiplicativeLR,
    SequentialLR,
)
from torch.utils.checkpoint import checkpoint, checkpoint_sequential


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 2 * width)
        self.fc2 = nn.Linear(2 * width, width)

    def forward(self, x):
        return x + self.fc2(F.silu(self.fc1(self.norm(x))))


class Model(nn.Module):
    def __init__(self, width=8, depth=3, classes=4):
        super().__init__()
        self.stem = nn.Linear(5, width)
        self.blocks = nn.ModuleList(Block(width) for _ in range(depth))
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, classes))
        self.use_checkpoint = True

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            if self.use_checkpoint and self.training:
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.head(x)


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            k = torch.arange(p.numel(), dtype=torch.float32)
            p.copy_(torch.sin(k * 0.83 + i).view_as(p) * 0.4)


def param_groups(module, weight_decay):
    decay, no_decay = [], []
    for p in module.parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim == 1 else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def make_data():
    t = torch.arange(64, dtype=torch.float32)
    x = torch.stack([torch.sin(t * (0.3 + 0.2 * k)) for k in range(5)], dim=1)
    y = (x[:, 0] > 0).long() * 2 + (x[:, 3] * x[:, 4] > 0).long()
    return x, y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    x, y = make_data()

    model = Model()
    if args.deterministic:
        fixed_init(model)
    for p in model.stem.parameters():
        p.requires_grad = False
    for p in model.blocks.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.AdamW(param_groups(model.head, 0.05), lr=0.02)
    warmup = LinearLR(optimizer, start_factor=0.25, total_iters=3)
    cosine = CosineAnnealingLR(optimizer, T_max=8, eta_min=1e-3)
    scheduler = SequentialLR(optimizer, [warmup, cosine], milestones=[3])
    steps = []
    optimizer.register_step_post_hook(lambda opt, a, kw: steps.append(len(opt.param_groups)))

    losses, lrs, norms = [], [], []
    # a timm-style EMA of the weights, updated with the multi-tensor lerp
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    ema_decay = 0.8
    for epoch in range(8):
        if epoch == 3:  # unfreeze the backbone at a tenth of the head's rate
            backbone = [p for n, p in model.named_parameters() if not n.startswith("head.")]
            for p in backbone:
                p.requires_grad_(True)
            optimizer.add_param_group({"params": backbone, "lr": 0.002, "weight_decay": 0.01})
        model.train()
        for start in range(0, 64, 16):
            optimizer.zero_grad(set_to_none=epoch % 2 == 0)
            logits = model(x[start : start + 16])
            loss = F.cross_entropy(logits, y[start : start + 16], label_smoothing=0.1)
            loss.backward()
            total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0, norm_type="inf")
            nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
            optimizer.step()
            with torch.no_grad():
                ema_params = list(ema.parameters())
                torch._foreach_lerp_(ema_params, list(model.parameters()), 1.0 - ema_decay)
        norms.append(round(total.item(), 3))
        losses.append(loss.item())
        scheduler.step()
        lrs.append([round(g["lr"], 6) for g in optimizer.param_groups])

    with torch.no_grad():
        ema_loss = F.cross_entropy(ema(x), y).item()
        ema_norms = [round(n.item(), 4) for n in torch._foreach_norm(list(ema.parameters()))[:3]]
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    one_norm = nn.utils.get_total_norm(grads, norm_type=1.0).item()
    clipped = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.01, norm_type=1)
    after = sum(p.grad.abs().sum() for p in model.parameters() if p.grad is not None).item()

    # The checkpointed blocks and a checkpoint_sequential stack give a plain forward's grads.
    stack = nn.Sequential(*[Block(8) for _ in range(4)])
    if args.deterministic:
        fixed_init(stack)
    inputs = torch.sin(torch.arange(24.0)).view(3, 8).requires_grad_()
    checkpoint_sequential(stack, 2, inputs, use_reentrant=False).pow(2).sum().backward()
    saved_grad = inputs.grad.clone()
    inputs.grad = None
    stack(inputs).pow(2).sum().backward()
    same_grads = torch.allclose(saved_grad, inputs.grad, atol=1e-6)

    # Under autocast the recomputation casts as the forward did: the same bfloat16 grads.
    bf16_grads = []
    for use_checkpoint in (True, False):
        model.use_checkpoint = use_checkpoint
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x[:16])
            loss = F.cross_entropy(logits, y[:16])
        loss.backward()
        bf16_grads.append(model.blocks[0].fc1.weight.grad.clone())
    bf16 = [str(logits.dtype), str(loss.dtype), torch.equal(*bf16_grads)]

    # Other optimizers on the same problem, three steps each from the same start.
    start_state = {k: v.clone() for k, v in model.state_dict().items()}
    others = {}
    for name, make in [
        ("NAdam", lambda ps: torch.optim.NAdam(ps, lr=0.01, momentum_decay=4e-3)),
        ("RAdam", lambda ps: torch.optim.RAdam(ps, lr=0.01, decoupled_weight_decay=True)),
        ("Adagrad", lambda ps: torch.optim.Adagrad(ps, lr=0.05, lr_decay=0.01)),
        ("Adamax", lambda ps: torch.optim.Adamax(ps, lr=0.02, weight_decay=0.01)),
        ("Rprop", lambda ps: torch.optim.Rprop(ps, lr=0.01, etas=(0.4, 1.3))),
        ("ASGD", lambda ps: torch.optim.ASGD(ps, lr=0.05, t0=1)),
    ]:
        model.load_state_dict(start_state)
        other = make(model.parameters())
        multiplicative = MultiplicativeLR(other, lr_lambda=lambda epoch: 0.9)
        for _ in range(3):
            other.zero_grad()
            F.cross_entropy(model(x), y).backward()
            other.step()
            multiplicative.step()
        others[name] = [F.cross_entropy(model(x), y).item(), other.param_groups[0]["lr"]]

    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        },
        args.checkpoint,
    )
    state = torch.load(args.checkpoint)
    resumed = Model()
    resumed_optimizer = torch.optim.AdamW(param_groups(resumed.head, 0.05), lr=0.02)
    resumed_optimizer.add_param_group(
        {"params": [p for n, p in resumed.named_parameters() if not n.startswith("head.")]}
    )
    resumed_optimizer.load_state_dict(state["optimizer"])
    groups = [
        {k: v for k, v in g.items() if k in ("lr", "weight_decay", "initial_lr")}
        for g in resumed_optimizer.state_dict()["param_groups"]
    ]
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lrs": lrs,
                "inf_norms": norms,
                "one_norm": [one_norm, clipped.item(), round(after, 4)],
                "same_grads": same_grads,
                "others": others,
                "steps": [len(steps), steps[0], steps[-1]],
                "groups": groups,
                "scheduler_keys": sorted(state["scheduler"]),
                "last_epoch": state["scheduler"]["last_epoch"],
                "bf16": bf16,
                "ema_loss": ema_loss,
                "ema_norms": ema_norms,
            }
        )
    )


if __name__ == "__main__":
    main()
