"""A classifier fed by an IterableDataset that shards itself across DataLoader workers, with
BatchNorm, Dropout, AdamW, label smoothing, a warm-up LambdaLR and a state_dict-only
checkpoint loaded into a model for evaluation.

Run: python iterable_stream_classifier.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, IterableDataset, get_worker_info


class PointStream(IterableDataset):
    """Points around two centres, one per class, read in shards: worker k of n yields the k-th of n
    contiguous chunks of the stream."""

    def __init__(self, count):
        self.count = count

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            start, stop = 0, self.count
        else:
            per_worker = int(math.ceil(self.count / info.num_workers))
            start = info.id * per_worker
            stop = min(start + per_worker, self.count)
        for i in range(start, stop):
            label = i % 2
            center = (0.5, 0.2) if label == 0 else (-0.3, -0.4)
            wobble = (0.4 * math.sin(i * 1.7), 0.4 * math.cos(i * 2.3))
            point = torch.tensor([center[0] + wobble[0], center[1] + wobble[1]])
            yield point, label

    def __len__(self):
        return self.count


class Classifier(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.hidden = nn.Linear(2, 64, bias=False)  # BatchNorm's shift stands for a bias
        self.norm = nn.BatchNorm1d(64)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(64, 2)

    def forward(self, x):
        return self.out(self.drop(F.relu(self.norm(self.hidden(x)))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(7)
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

    loader = DataLoader(PointStream(200), batch_size=20, num_workers=2)
    model = Classifier(dropout=0.0 if args.deterministic else 0.1).to(device)
    if args.deterministic:
        with torch.no_grad():
            for i, (name, p) in enumerate(model.named_parameters()):
                if "norm" not in name:
                    p.copy_(torch.sin(torch.arange(p.numel()) * 0.9 + i).reshape(p.shape) * 0.5)
    else:
        nn.init.kaiming_normal_(model.hidden.weight, nonlinearity="relu")
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.01)
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: min(1.0, (epoch + 1) / 3))

    losses = []
    for epoch in range(4):
        model.train()
        epoch_loss, batches = 0.0, 0
        for points, labels in loader:
            points, labels = points.to(device), labels.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(points), labels)
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), 5.0)
            optimizer.step()
            epoch_loss += loss.item()
            batches += 1
        warmup.step()
        losses.append(epoch_loss / batches)
        print(f"Epoch {epoch + 1}: train loss {losses[-1]:.4f}")

    torch.save(model.state_dict(), args.checkpoint)
    evaluator = Classifier(dropout=0.1)
    evaluator.load_state_dict(torch.load(args.checkpoint, map_location=device))
    evaluator.to(device).eval()
    correct = total = 0
    with torch.no_grad():
        for points, labels in DataLoader(PointStream(200), batch_size=50):
            predicted = evaluator(points.to(device)).argmax(dim=1)
            correct += (predicted == labels.to(device)).sum().item()
            total += labels.size(0)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "accuracy": correct / total,
                "batches_per_epoch": batches,
                "running_mean": evaluator.norm.running_mean[:3].tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
