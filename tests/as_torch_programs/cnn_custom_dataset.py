"""A small CNN on synthetic images from a custom Dataset, written as a PyTorch user writes it.

Run: python cnn_custom_dataset.py CHECKPOINT [--deterministic]. With --deterministic the
weights start from a fixed pattern and the data is not shuffled, so the losses do not depend
on any random stream and can be compared between libraries.
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class Stripes(Dataset):
    """8x8 one-channel images: class 0 horizontal stripes, 1 vertical, 2 diagonal, plus a
    little deterministic 'noise' so samples differ."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        label = index % 3
        rows = torch.arange(8, dtype=torch.float32).view(8, 1).expand(8, 8)
        cols = torch.arange(8, dtype=torch.float32).view(1, 8).expand(8, 8)
        phase = 0.3 * math.sin(index)
        if label == 0:
            image = torch.sin(rows * 1.5 + phase)
        elif label == 1:
            image = torch.sin(cols * 1.5 + phase)
        else:
            image = torch.sin((rows + cols) * 1.1 + phase)
        return image.unsqueeze(0), label


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3)
        self.fc = nn.Linear(8 * 2 * 2, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        x = torch.flatten(x, 1)
        return self.fc(x)


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            pattern = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + i)
            p.copy_(pattern.reshape(p.shape) * 0.3)


def train_epoch(model, loader, optimizer, device):
    model.train()
    total, count = 0.0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        total += loss.item() * images.size(0)
        count += images.size(0)
    return total / count


def evaluate(model, loader, device):
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            predictions = torch.argmax(model(images), dim=1)
            correct += (predictions == labels).sum().item()
    return correct / len(loader.dataset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()

    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader = DataLoader(
        Stripes(96), batch_size=16, shuffle=not args.deterministic, num_workers=2
    )
    test_loader = DataLoader(Stripes(30), batch_size=10)

    model = Net().to(device)
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

    losses = []
    for epoch in range(3):
        losses.append(train_epoch(model, train_loader, optimizer, device))
        scheduler.step()
        print(f"epoch {epoch}: loss {losses[-1]:.4f}, lr {scheduler.get_last_lr()[0]:.3f}")
    torch.save(
        {"model": model.state_dict(), "optim": optimizer.state_dict(), "epoch": epoch},
        args.checkpoint,
    )

    # Resume in a fresh model and optimizer, as a second run of the program would.
    checkpoint = torch.load(args.checkpoint)
    resumed = Net().to(device)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer = torch.optim.SGD(resumed.parameters(), lr=0.1, momentum=0.9)
    resumed_optimizer.load_state_dict(checkpoint["optim"])
    before, after = model.state_dict(), resumed.state_dict()
    same = all(torch.equal(before[name], after[name]) for name in before)
    resumed_lr = resumed_optimizer.param_groups[0]["lr"]
    losses.append(train_epoch(resumed, train_loader, resumed_optimizer, device))

    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "accuracy": evaluate(resumed, test_loader, device),
                "resumed_equal": same,
                "resumed_epoch": checkpoint["epoch"],
                "resumed_lr": resumed_lr,
            }
        )
    )


if __name__ == "__main__":
    main()
