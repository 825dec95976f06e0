"""The torch.utils.data toolbox as training scripts combine it: `random_split` with a seeded
`Generator` (lengths and fractions), `Subset`, `ConcatDataset` (and `+`), a dataset whose
samples are dicts and one returning namedtuples, `default_collate` on both (dict of batches,
namedtuple of batches), a custom `collate_fn` padding variable-length sequences with
`pad_sequence(batch_first=True, padding_side="left")` and lengths, `WeightedRandomSampler`
for class balance, `BatchSampler` over a `SequentialSampler` with and without `drop_last`,
`DataLoader(drop_last=True, generator=...)`, `get_worker_info()` in the main process and in
two worker processes, a dataset read a batch at a time through `__getitems__`,
`TensorDataset`, and a small model trained on the padded batches.

Run: python data_utilities_collate.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import collections
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    SequentialSampler,
    Subset,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
    random_split,
)

Sample = collections.namedtuple("Sample", ["features", "label", "weight"])


class Sequences(Dataset):
    """Variable-length token sequences; the label is whether token 3 occurs."""

    def __init__(self, n, offset=0):
        self.n, self.offset = n, offset

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        i = i + self.offset
        length = 2 + (i * 5) % 6
        tokens = (torch.arange(length) * (i + 1) + i) % 7
        return {"tokens": tokens, "label": int((tokens == 3).any()), "id": i}


class Points(Dataset):
    def __init__(self, n):
        self.x = torch.stack(
            [torch.sin(torch.arange(n) * 0.5), torch.cos(torch.arange(n) * 0.3)], 1
        )

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return Sample(self.x[i], int(self.x[i, 0] > 0), 1.0 + i % 2)


class WhoLoads(Dataset):
    """Each sample says which worker process loaded it (-1: the main process)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return i, -1 if info is None else info.id, 0 if info is None else info.num_workers


class Table(Dataset):
    """Reads whole batches at once, as a database cursor would."""

    def __init__(self, n):
        self.n, self.batched_calls = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.__getitems__([i])[0]

    def __getitems__(self, indices):
        self.batched_calls += 1
        return [(torch.tensor([float(i), float(i * i)]), i % 2) for i in indices]


def pad_collate(batch):
    tokens = [item["tokens"] for item in batch]
    lengths = torch.tensor([len(t) for t in tokens])
    padded = pad_sequence(tokens, batch_first=True, padding_value=0, padding_side="left")
    labels = torch.tensor([item["label"] for item in batch], dtype=torch.float32)
    return padded, lengths, labels, [item["id"] for item in batch]


class BagModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(7, 4, padding_idx=0)
        self.out = nn.Linear(4, 1)

    def forward(self, padded, lengths):
        summed = self.embed(padded).sum(1) / lengths.unsqueeze(1).float()
        return self.out(summed).squeeze(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    facts = {}

    full = ConcatDataset([Sequences(20), Sequences(10, offset=20)])
    facts["concat"] = [len(full), full.cumulative_sizes, full[25]["id"], full[-1]["id"]]
    train, val, test = random_split(
        full, [0.6, 0.2, 0.2], generator=torch.Generator().manual_seed(42)
    )
    facts["split"] = [len(train), len(val), len(test), type(train).__name__]
    facts["disjoint"] = sorted(train.indices + val.indices + test.indices) == list(range(30))
    a, b = random_split(range(10), [7, 3], generator=torch.Generator().manual_seed(1))
    facts["split_ints"] = [len(a), len(b), isinstance(a, Subset)]

    labels = torch.tensor([full[i]["label"] for i in range(len(full))])
    class_count = torch.bincount(labels, minlength=2).float()
    sample_weights = (1.0 / class_count)[labels]
    sampler = WeightedRandomSampler(sample_weights, num_samples=40, replacement=True)
    drawn = list(sampler)
    facts["weighted"] = [len(drawn), all(0 <= i < 30 for i in drawn), class_count.tolist()]

    batch_sampler = BatchSampler(SequentialSampler(full), batch_size=8, drop_last=False)
    facts["batch_sampler"] = [len(batch_sampler), [len(b) for b in batch_sampler]]
    facts["batch_sampler_drop"] = len(BatchSampler(range(30), 8, drop_last=True))

    def without_tokens(batch):
        return default_collate([{k: v for k, v in s.items() if k != "tokens"} for s in batch])

    first = next(iter(DataLoader(full, batch_size=3, collate_fn=without_tokens)))
    facts["dict_collate"] = [
        sorted(first),
        first["label"].tolist(),
        first["id"].dtype == torch.int64,
    ]
    points = DataLoader(Points(9), batch_size=4, drop_last=True)
    nt = next(iter(points))
    facts["namedtuple_collate"] = [
        type(nt).__name__,
        list(nt.features.shape),
        nt.label.tolist(),
        str(nt.weight.dtype),
        len(points),
    ]
    manual = default_collate([Sample(torch.ones(2), 1, 0.5), Sample(torch.zeros(2), 0, 1.5)])
    facts["default_collate"] = [
        type(manual).__name__,
        manual.weight.tolist(),
        str(manual.label.dtype),
    ]
    facts["worker_info_main"] = get_worker_info() is None
    for workers in (0, 2):
        who = DataLoader(WhoLoads(), batch_size=2, num_workers=workers)
        facts[f"workers_{workers}"] = [[b[1].tolist(), b[2].tolist()] for b in who]

    table = Table(10)
    table_batches = list(DataLoader(table, batch_size=4))
    facts["getitems"] = [table.batched_calls, [b[1].tolist() for b in table_batches]]
    rows = TensorDataset(torch.arange(12.0).view(6, 2), torch.arange(6) % 3)
    rows_loader = DataLoader(
        rows, batch_size=4, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(3)
    )
    facts["tensor_rows"] = [len(rows_loader), [list(x.shape) for x, _ in rows_loader]]

    model = BagModel()
    if args.deterministic:
        with torch.no_grad():
            for i, p in enumerate(model.parameters()):
                p.copy_(
                    0.4 * torch.cos(torch.arange(p.numel(), dtype=torch.float32) + i).view_as(p)
                )
    if args.deterministic:  # the split's indices come from the library's own random stream
        loader = DataLoader(
            Subset(full, list(range(0, 30, 2))), batch_size=6, collate_fn=pad_collate
        )
    else:
        loader = DataLoader(
            train,
            batch_size=6,
            collate_fn=pad_collate,
            shuffle=True,
            generator=torch.Generator().manual_seed(7),
        )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(4):
        for padded, lengths, y, _ in loader:
            loss = F.binary_cross_entropy_with_logits(model(padded, lengths), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    padded, lengths, _, ids = pad_collate([full[i] for i in range(3)])
    facts["padded"] = [padded.tolist(), lengths.tolist(), ids]
    facts["pad_right"] = pad_sequence([torch.ones(2), torch.ones(3)]).shape[0]
    torch.save({"model": model.state_dict(), "split": train.indices}, args.checkpoint)
    state = torch.load(args.checkpoint)
    facts["saved_split"] = state["split"] == train.indices
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
