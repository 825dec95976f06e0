"""The data side of a training script and its learning-rate schedules, as written by people
who customise `torch.utils.data`: a map-style Dataset returning dicts (a tensor, an int label,
a string id, a nested tuple), `default_collate` of those, a custom `collate_fn` padding to the
longest item, a `Sampler` subclass (length-bucketed batches) passed as `batch_sampler`, a
`BatchSampler` over a `SequentialSampler`, `SubsetRandomSampler`, `WeightedRandomSampler`
lengths, `random_split` with a seeded generator and fractions, `Subset` / `ConcatDataset`
indexing, `len()` of loaders with and without `drop_last`; and schedules printed epoch by
epoch: MultiStepLR, ExponentialLR, PolynomialLR, ConstantLR, CosineAnnealingWarmRestarts
(stepped with fractional epochs), CyclicLR's momentum, `get_last_lr` and `state_dict()`.

Run: python data_pipeline_schedules.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    WeightedRandomSampler,
    default_collate,
    random_split,
)


class Sequences(Dataset):
    """Variable-length sequences; the label is whether the sum is positive."""

    def __init__(self, n, offset=0):
        self.items = []
        for i in range(offset, offset + n):
            length = 3 + i % 5
            values = torch.sin(torch.arange(length, dtype=torch.float32) * 0.9 + i * 0.37)
            self.items.append((values, int(values.sum() > 0), f"seq-{i:03d}"))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        values, label, name = self.items[index]
        return {"values": values, "label": label, "name": name, "meta": (len(values), 0.5)}


def pad_collate(batch):
    lengths = torch.tensor([len(item["values"]) for item in batch])
    padded = torch.zeros(len(batch), int(lengths.max()))
    for row, item in enumerate(batch):
        padded[row, : len(item["values"])] = item["values"]
    labels = torch.tensor([item["label"] for item in batch])
    return padded, lengths, labels, [item["name"] for item in batch]


class BucketBatchSampler(Sampler):
    """Batches of indices with similar lengths, longest bucket first."""

    def __init__(self, lengths, batch_size):
        self.batches = []
        order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
        for start in range(0, len(order), batch_size):
            self.batches.append(order[start : start + batch_size])

    def __iter__(self):
        yield from self.batches

    def __len__(self):
        return len(self.batches)


class MeanPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(1, 8)
        self.out = nn.Linear(8, 2)

    def forward(self, padded, lengths):
        mask = torch.arange(padded.size(1)).unsqueeze(0) < lengths.unsqueeze(1)
        h = torch.relu(self.proj(padded.unsqueeze(-1))) * mask.unsqueeze(-1)
        return self.out(h.sum(1) / lengths.unsqueeze(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(8)

    data = Sequences(40)
    facts = {}
    collated = default_collate([data[0], data[5]])
    facts["default_collate"] = [
        sorted(collated),
        list(collated["values"].shape),
        collated["label"].tolist(),
        collated["name"],
        [m.tolist() for m in collated["meta"]],
        str(collated["meta"][1].dtype),
    ]
    lengths = [len(item[0]) for item in data.items]
    bucket_loader = DataLoader(
        data, batch_sampler=BucketBatchSampler(lengths, 8), collate_fn=pad_collate
    )
    sequential = list(BatchSampler(SequentialSampler(range(10)), batch_size=4, drop_last=False))
    facts["batch_sampler"] = [sequential, len(BatchSampler(range(10), 4, drop_last=True))]
    split = random_split(data, [0.75, 0.25], generator=torch.Generator().manual_seed(0))
    facts["split"] = [len(s) for s in split] + [type(split[0]).__name__]
    both = ConcatDataset([Subset(data, [0, 1, 2]), Sequences(4, offset=100)])
    facts["concat"] = [len(both), both[4]["name"], both.cumulative_sizes]
    weights = torch.tensor([3.0 if item[1] else 1.0 for item in data.items])
    weighted = WeightedRandomSampler(weights, num_samples=25, replacement=True)
    facts["weighted"] = [len(weighted), len(list(weighted)), all(0 <= i < 40 for i in weighted)]
    subset_sampler = SubsetRandomSampler(list(range(0, 40, 3)))
    facts["subset_sampler"] = [len(subset_sampler), sorted(subset_sampler)]
    loader = DataLoader(data, batch_size=6, collate_fn=pad_collate, drop_last=True)
    facts["lens"] = [len(loader), len(DataLoader(data, batch_size=6)), len(bucket_loader)]

    model = MeanPool()
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(0.4 * torch.cos(torch.arange(p.numel(), dtype=torch.float32) + i).view_as(p))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    schedules = {
        "multistep": torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 4], gamma=0.5),
    }
    losses, printed = [], []
    for epoch in range(6):
        for padded, lens, labels, names in bucket_loader:
            loss = F.cross_entropy(model(padded, lens), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            last_names = names
        schedules["multistep"].step()
        printed.append(
            f"epoch {epoch}: lr={schedules['multistep'].get_last_lr()[0]:.5f} "
            f"batches {last_names[:2]}"
        )

    def trace(make, steps=7, fractional=False):
        opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        sched = make(opt)
        lrs = []
        for step in range(steps):
            opt.step()
            if fractional:
                sched.step(step + 0.5)
            else:
                sched.step()
            lrs.append(round(sched.get_last_lr()[0], 8))
        return lrs, sorted(k for k in sched.state_dict() if not k.startswith("_"))

    lr = torch.optim.lr_scheduler
    facts["exponential"] = trace(lambda o: lr.ExponentialLR(o, gamma=0.7))
    facts["polynomial"] = trace(lambda o: lr.PolynomialLR(o, total_iters=5, power=2.0))
    facts["constant"] = trace(lambda o: lr.ConstantLR(o, factor=0.25, total_iters=3))
    facts["warm_restarts"] = trace(
        lambda o: lr.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.01)
    )
    facts["warm_fractional"] = trace(
        lambda o: lr.CosineAnnealingWarmRestarts(o, T_0=3), fractional=True
    )
    cyc_opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    cyclic = lr.CyclicLR(cyc_opt, base_lr=0.01, max_lr=0.1, step_size_up=2, mode="triangular2")
    momenta = []
    for _ in range(6):
        cyc_opt.step()
        cyclic.step()
        momenta.append(round(cyc_opt.param_groups[0]["momentum"], 6))
    facts["cyclic"] = [momenta, [round(v, 6) for v in cyclic.get_last_lr()]]
    torch.save(
        {"model": model.state_dict(), "sched": schedules["multistep"].state_dict()}, args.checkpoint
    )
    state = torch.load(args.checkpoint, weights_only=True)
    facts["sched_state"] = {k: v for k, v in state["sched"].items() if k != "milestones"}
    facts["milestones"] = dict(state["sched"]["milestones"])
    print(json.dumps({"library": torch.__name__, "losses": losses, "printed": printed, **facts}))


if __name__ == "__main__":
    main()
