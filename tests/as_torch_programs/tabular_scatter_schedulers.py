"""A tabular model as Kaggle notebooks write it: categorical columns through `nn.Embedding`,
continuous ones through `BatchNorm1d`, `Dropout` switched by `train()`/`eval()`, features
from NumPy arrays (float64 and int64, mixed with Python scalars: the dtypes that result),
per-group statistics with `scatter_add_`, `index_add_`, `bincount`, `gather`,
`masked_fill`, `torch.where`, an einsum attention over the embeddings, a learning-rate
schedule of SequentialLR (LinearLR warm-up then CosineAnnealingLR), a ChainedScheduler,
OneCycleLR, ReduceLROnPlateau, and a checkpoint dict round trip.

Run: python tabular_scatter_schedulers.py CHECKPOINT [--deterministic].
"""

import argparse
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import (
    ChainedScheduler,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)


class TabularNet(nn.Module):
    def __init__(self, cardinalities, n_cont, p):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(c, 3) for c in cardinalities])
        self.bn = nn.BatchNorm1d(n_cont)
        self.drop = nn.Dropout(p)
        d = 3 * len(cardinalities) + n_cont
        self.layers = nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.BatchNorm1d(8), nn.Linear(8, 1))

    def forward(self, cat, cont):
        embs = [e(cat[:, i]) for i, e in enumerate(self.embeds)]
        stacked = torch.stack(embs, dim=1)  # (B, C, 3)
        scores = torch.einsum("bid,bjd->bij", stacked, stacked) / 3**0.5
        attn = scores.softmax(dim=-1)
        mixed = torch.einsum("bij,bjd->bid", attn, stacked)
        x = torch.cat([mixed.flatten(1), self.bn(cont)], 1)
        return self.layers(self.drop(x)).squeeze(-1)


def fixed_(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) * (0.7 + i)).view_as(p))
            p.mul_(0.4)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)

    rows = 32
    ids = np.arange(rows)
    cats_np = np.stack([ids % 4, (ids * 7) % 5], axis=1)  # int64
    cont_np = np.stack([np.sin(ids * 0.3), np.cos(ids * 0.2) * 10, ids / 7.0], axis=1)  # float64
    target_np = (cont_np[:, 0] * 2 + (cats_np[:, 0] == 1)).astype(np.float32)

    cat = torch.from_numpy(cats_np)
    cont = torch.tensor(cont_np, dtype=torch.float32)
    target = torch.as_tensor(target_np)
    promoted = {
        "f32+np_f64": str((cont + cont_np).dtype),
        "f32*np_i64": str((cont[:, :2] * cats_np).dtype),
        "i64+float": str((cat + 0.5).dtype),
        "i64/int": str((cat / 2).dtype),
        "i64//int": str((cat // 2).dtype),
        "bool+int": str(((cat > 1) + 1).dtype),
        "bool*float": str(((cat > 1) * 1.5).dtype),
        "np_scalar": str((cont * np.float64(2)).dtype),
        "np_int_scalar": str((cat * np.int32(2)).dtype),
        "int_tensor_pow": str((cat**2).dtype),
        "f16+f32_0d": str((cont.half() + torch.tensor(1.0)).dtype),
        "i32+i64_0d": str((cat.int() + torch.tensor(1)).dtype),
        "u8-1": (torch.tensor([0, 5], dtype=torch.uint8) - 1).tolist(),
        "mean_int": str(cat.float().mean().dtype),
        "sum_int": str(cat.sum().dtype),
        "sum_bool": str((cat > 0).sum().dtype),
        "cumsum_int32": str(cat.int().cumsum(0).dtype),
        "prod_u8": str(torch.tensor([2, 3], dtype=torch.uint8).prod().dtype),
    }

    # group statistics
    group = cat[:, 0]
    counts = torch.bincount(group, minlength=4)
    sums = torch.zeros(4).scatter_add_(0, group, target)
    means = sums / counts.clamp(min=1)
    indexed = torch.zeros(4, 3).index_add_(0, group, cont, alpha=0.5)
    per_row_mean = means.gather(0, group)
    centered = torch.where(counts[group] > 7, target - per_row_mean, torch.zeros_like(target))
    masked = cont.masked_fill(cont.abs() > 5, float("nan")).nan_to_num(nan=-1.0)
    scatter_max = torch.full((4,), -1e9).scatter_reduce(0, group, target, reduce="amax")
    top = target.topk(3)
    uniq, inverse, uniq_counts = torch.unique(group, return_inverse=True, return_counts=True)

    model = TabularNet([4, 5], 3, 0.0 if args.deterministic else 0.2)
    if args.deterministic:
        fixed_(model)
    opt = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.01)
    warm = LinearLR(opt, start_factor=0.1, total_iters=3)
    cosine = CosineAnnealingLR(opt, T_max=5, eta_min=0.001)
    sched = SequentialLR(opt, schedulers=[warm, cosine], milestones=[3])

    losses, lrs = [], []
    for _ in range(8):
        model.train()
        for b in range(0, rows, 16):
            pred = model(cat[b : b + 16], cont[b : b + 16])
            loss = F.mse_loss(pred, target[b : b + 16])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        sched.step()
        lrs.append(round(sched.get_last_lr()[0], 8))
    model.eval()
    with torch.no_grad():
        eval_pred = model(cat, cont)

    opt2 = torch.optim.SGD([nn.Parameter(torch.zeros(2))], lr=1.0, momentum=0.9)
    step_lr = StepLR(opt2, step_size=2, gamma=0.5)
    chained = ChainedScheduler([step_lr, ExponentialLR(opt2, gamma=0.9)])
    chained_lrs = []
    for _ in range(5):
        opt2.step()
        chained.step()
        chained_lrs.append(round(opt2.param_groups[0]["lr"], 8))
    opt3 = torch.optim.SGD([nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)
    one_cycle = OneCycleLR(opt3, max_lr=1.0, total_steps=6)
    cycle = []
    for _ in range(6):
        opt3.step()
        group = opt3.param_groups[0]
        cycle.append([round(group["lr"], 8), round(group["momentum"], 8)])
        one_cycle.step()
    opt4 = torch.optim.Adam([nn.Parameter(torch.zeros(2))], lr=1.0)
    plateau = ReduceLROnPlateau(opt4, mode="max", factor=0.5, patience=1, threshold=0.1)
    plateau_lrs = []
    for metric in [1.0, 1.05, 1.02, 1.3, 1.31, 1.0]:
        plateau.step(metric)
        plateau_lrs.append(opt4.param_groups[0]["lr"])

    checkpoint = {
        "epoch": 8,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "means": means,
        "note": "tabular",
    }
    torch.save(checkpoint, args.checkpoint)
    loaded = torch.load(args.checkpoint, weights_only=False)
    model.load_state_dict(loaded["model"])
    opt.load_state_dict(loaded["optimizer"])

    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lrs": lrs,
                "chained_lrs": chained_lrs,
                "one_cycle": cycle,
                "plateau_lrs": plateau_lrs,
                "promoted": promoted,
                "counts": counts.tolist(),
                "means": means.tolist(),
                "indexed": indexed.tolist(),
                "centered": centered.tolist(),
                "masked_sum": masked.sum().item(),
                "scatter_max": scatter_max.tolist(),
                "top": [top.values.tolist(), top.indices.tolist()],
                "unique": [uniq.tolist(), inverse.tolist()[:6], uniq_counts.tolist()],
                "eval_pred": eval_pred.tolist() if args.deterministic else [],
                "checkpoint_keys": sorted(loaded),
                "scheduler_state_keys": sorted(loaded["scheduler"]),
                "bn_running_var": model.bn.running_var.tolist(),
                "num_batches_tracked": model.bn.num_batches_tracked.item(),
            }
        )
    )


if __name__ == "__main__":
    main()
