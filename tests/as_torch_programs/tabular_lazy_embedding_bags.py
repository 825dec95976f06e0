"""A tabular click model as recommender and Kaggle code writes it: raw NumPy columns with
missing values cleaned by `torch.nan_to_num` / `torch.nanmean` imputation, a numeric column
binned at its `torch.quantile` cut points with `torch.bucketize` and one-hot encoded with
`F.one_hot`, a multi-valued tag column pooled by `nn.EmbeddingBag(mode="sum")` over flat ids
with `offsets` and `per_sample_weights` (and a `mode="max"` bag over padded rows with
`padding_idx`), `nn.LazyLinear` / `nn.LazyBatchNorm1d` layers sized by their first batch,
`torch.where` with Python scalars, `random_split` with a seeded generator, a
`WeightedRandomSampler` for the rare class, `BCEWithLogitsLoss(pos_weight=)`, AdamW with a
tensor learning rate (`lr=torch.tensor(...)`, as code prepared for torch.compile writes it)
filled in place by `CosineAnnealingLR`, and a checkpoint loaded into a fresh lazy model before
its first batch.

Run: python tabular_lazy_embedding_bags.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler, random_split


def make_table(rows=48):
    """Columns as they come from a CSV: float64 with NaNs and an inf, int64 tags."""
    i = np.arange(rows, dtype=np.float64)
    age = 20 + 40 * (0.5 + 0.5 * np.sin(i * 0.7))
    age[::7] = np.nan
    income = np.exp(1 + 0.5 * np.cos(i * 0.3))
    income[5] = np.inf
    tags = [[int(j) for j in ((np.arange(1 + r % 3) * 3 + r) % 10)] for r in range(rows)]
    clicked = ((np.sin(i * 0.7) + 0.4 * np.cos(i * 1.3)) > 0.6).astype(np.float64)
    return age, income, tags, clicked


class ClickModel(nn.Module):
    def __init__(self, bins, tags=10, dim=4):
        super().__init__()
        self.bins = bins
        self.tag_bag = nn.EmbeddingBag(tags, dim, mode="sum")
        self.recent_bag = nn.EmbeddingBag(tags + 1, dim, mode="max", padding_idx=tags)
        self.body = nn.Sequential(nn.LazyLinear(8, bias=False), nn.LazyBatchNorm1d(), nn.ReLU())
        self.head = nn.LazyLinear(1)

    def forward(self, numeric, bucket, flat_tags, offsets, weights, recent):
        pooled = self.tag_bag(flat_tags, offsets, per_sample_weights=weights)
        recent = self.recent_bag(recent)
        features = torch.cat([numeric, F.one_hot(bucket, self.bins + 1).float(), pooled, recent], 1)
        return self.head(self.body(features)).squeeze(-1)


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if ".1." in name:  # the batch norm's affine parameters stay at 1 and 0
                continue
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.77 + i)
            p.copy_(values.view_as(p) * 0.3)


def pack_tags(tags, rows, pad):
    flat, offsets, weights, recent = [], [], [], []
    for r in rows.tolist():
        offsets.append(len(flat))
        flat.extend(tags[r])
        weights.extend([1.0 / len(tags[r])] * len(tags[r]))
        recent.append((tags[r] + [pad, pad])[:2])
    return (torch.tensor(flat), torch.tensor(offsets), torch.tensor(weights), torch.tensor(recent))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(2)
    age_np, income_np, tags, clicked_np = make_table()
    age = torch.as_tensor(age_np)
    age = torch.where(torch.isnan(age), torch.nanmean(age), age)
    income = torch.nan_to_num(torch.as_tensor(income_np), posinf=float(np.nanmax(income_np[:5])))
    cuts = torch.quantile(age, torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64))
    bucket = torch.bucketize(age, cuts)
    numeric = torch.stack([(age - age.mean()) / age.std(), income.log()], 1).float()
    labels = torch.as_tensor(clicked_np).float()
    rows = torch.arange(len(labels))
    dataset = TensorDataset(rows, numeric, bucket, labels)
    generator = torch.Generator().manual_seed(0)
    train_set, valid_set = random_split(dataset, [0.75, 0.25], generator=generator)
    if args.deterministic:
        loader = DataLoader(torch.utils.data.Subset(dataset, range(36)), batch_size=12)
    else:
        train_labels = labels[torch.tensor(train_set.indices)]
        weights = torch.where(train_labels > 0, 3.0, 1.0)
        sampler = WeightedRandomSampler(weights, num_samples=36, replacement=True)
        loader = DataLoader(train_set, batch_size=12, sampler=sampler)
    pad = 10

    model = ClickModel(bins=len(cuts))
    first_rows, first_numeric, first_bucket, _ = next(iter(loader))
    model.eval()
    with torch.no_grad():
        model(first_numeric, first_bucket, *pack_tags(tags, first_rows, pad))
    if args.deterministic:
        fixed_init(model)
    positives = labels.sum()
    criterion = nn.BCEWithLogitsLoss(pos_weight=(len(labels) - positives) / positives)
    lr = torch.tensor(0.05)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=6, eta_min=0.005)
    losses = []
    for _epoch in range(3):
        model.train()
        for batch_rows, batch_numeric, batch_bucket, batch_labels in loader:
            logits = model(batch_numeric, batch_bucket, *pack_tags(tags, batch_rows, pad))
            loss = criterion(logits, batch_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(round(loss.item(), 5))

    torch.save(model.state_dict(), args.checkpoint)
    restored = ClickModel(bins=len(cuts))
    restored.load_state_dict(torch.load(args.checkpoint))
    restored.eval()
    model.eval()
    with torch.no_grad():
        inputs = (numeric, bucket, *pack_tags(tags, rows, pad))
        probs = torch.sigmoid(model(*inputs))
        again = torch.sigmoid(restored(*inputs))
        predicted = torch.where(probs > 0.5, 1, 0)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "imputed_age": round(age[0].item(), 4),
                "income_max": round(income.max().item(), 4),
                "cuts": [round(v, 4) for v in cuts.tolist()],
                "bucket_counts": torch.bincount(bucket, minlength=4).tolist(),
                "split": [len(train_set), len(valid_set)],
                "lr_is_the_tensor": optimizer.param_groups[0]["lr"] is lr,
                "lr": round(lr.item(), 6),
                "last_lr_type": type(scheduler.get_last_lr()[0]).__name__,
                "accuracy": round((predicted == labels.long()).float().mean().item(), 4),
                "probs": [round(v, 4) for v in probs[:4].tolist()],
                "restored_matches": bool(torch.allclose(probs, again)),
                "restored_layers": [type(m).__name__ for m in restored.body]
                + [
                    restored.head.in_features,
                    restored.body[1].num_features,
                ],
                "predicted_dtype": str(predicted.dtype),
            }
        )
    )


if __name__ == "__main__":
    main()
