"""Mixed precision as people write it on a CPU-only box: a residual MLP converted with
`.half()` and trained in float16 by plain SGD (master weights kept in float32 by hand, the
"fp16 optimizer" trick: grads copied into float32 copies, stepped, copied back), a second
copy run under `torch.autocast("cpu", dtype=torch.bfloat16)` with `torch.amp.GradScaler`
(enabled on the CPU: scale, unscale_, step, update, and its state_dict), `torch.finfo` /
`torch.iinfo` limits used to clamp and to build masks, a loss scale that overflows float16
on purpose (found by `torch.isfinite`), and `.to(dtype)` round trips printed as the
float16 bit patterns via `.view(torch.int16)`.

Run: python half_precision_mlp_amp.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualMLP(nn.Module):
    def __init__(self, width=16, classes=3):
        super().__init__()
        self.inp = nn.Linear(6, width)
        self.block = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU())
        self.out = nn.Linear(width, classes)

    def forward(self, x):
        h = F.silu(self.inp(x))
        h = h + self.block(h)
        return self.out(h)


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.41 + i)
            p.copy_(values.view_as(p) / math.sqrt(p.shape[-1]))


def make_data(count=48):
    t = torch.arange(count, dtype=torch.float32)
    x = torch.stack([torch.sin(t * (k + 1) * 0.3) for k in range(6)], dim=1)
    y = ((x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 0.5).long()).clamp(max=2)
    return x, y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(2)
    x, y = make_data()
    if not args.deterministic:
        x = x + 0.01 * torch.randn_like(x)

    # ---- float16 model, float32 master weights --------------------------------------
    model = ResidualMLP()
    if args.deterministic:
        fixed_init(model)
    model.half()
    master = [p.detach().float().clone() for p in model.parameters()]
    loss_scale = 128.0
    half_losses, overflowed = [], []
    for step in range(10):
        scale = 2.0**20 if step == 4 else loss_scale  # step 4 overflows float16 on purpose
        logits = model(x.half())
        loss = F.cross_entropy(logits.float(), y)
        model.zero_grad()
        (loss * scale).half().backward()
        grads = [p.grad.float() / scale for p in model.parameters()]
        finite = all(bool(torch.isfinite(g).all()) for g in grads)
        overflowed.append(not finite)
        if finite:
            with torch.no_grad():
                for m, g, p in zip(master, grads, model.parameters()):
                    m.sub_(0.5 * g)
                    p.copy_(m)
        half_losses.append(round(loss.item(), 3))  # float16 backward ops round differently

    # ---- bfloat16 autocast with a GradScaler -------------------------------------------
    amp_model = ResidualMLP()
    if args.deterministic:
        fixed_init(amp_model)
    optimizer = torch.optim.SGD(amp_model.parameters(), lr=0.5, momentum=0.5)
    scaler = torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=3)
    amp_losses, dtypes = [], set()
    for _ in range(4):  # bfloat16 gradients drift apart a unit at a time after that
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = amp_model(x)
            loss = F.cross_entropy(logits, y)
            dtypes.update({str(logits.dtype), str(loss.dtype)})
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(amp_model.parameters(), max_norm=1.0)
        scaler.step(optimizer)
        scaler.update()
        amp_losses.append(round(loss.item(), 3))
    torch.save({"scaler": scaler.state_dict(), "model": amp_model.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    resumed = torch.amp.GradScaler("cpu")
    resumed.load_state_dict(state["scaler"])

    half, bf16 = torch.finfo(torch.float16), torch.finfo(torch.bfloat16)
    big = torch.tensor([1e4, 7e4, -1e6, 1e-8])
    clamped = big.clamp(half.min, half.max).half()
    neg_mask = torch.full((2, 3), torch.finfo(torch.float16).min, dtype=torch.float16).triu(1)
    probe = torch.tensor([0.1, 1 / 3, 1000.5, -2.0e-5])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": half_losses + amp_losses,
                "overflowed": overflowed,
                "param_dtype": str(next(model.parameters()).dtype),
                "amp_dtypes": sorted(dtypes),
                "scale": resumed.get_scale(),
                "growth_tracker": state["scaler"]["_growth_tracker"],
                "finfo": [half.max, half.eps, half.tiny, bf16.eps, bf16.max, half.bits],
                "iinfo": [torch.iinfo(torch.int16).max, torch.iinfo(torch.uint8).min],
                "clamped": clamped.tolist(),
                "neg_mask": neg_mask.tolist(),
                "half_bits": probe.half().view(torch.int16).tolist(),
                "bf16_bits": probe.bfloat16().view(torch.int16).tolist(),
                "roundtrip": probe.half().float().tolist(),
                "accuracy": (model(x.half()).argmax(1) == y).float().mean().item(),
            }
        )
    )


if __name__ == "__main__":
    main()
