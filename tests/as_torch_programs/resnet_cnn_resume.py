"""A small ResNet in the style of the CIFAR tutorials: BasicBlocks with BatchNorm2d and residual
adds (`out += self.shortcut(x)`), Dropout2d, AdaptiveAvgPool2d and torch.flatten, trained by
SGD with Nesterov momentum and weight decay under a CyclicLR stepped per batch, with label
smoothing; evaluated under model.eval() and torch.no_grad(); a checkpoint of model, optimizer
and scheduler state saved with torch.save and resumed; and the grad_fn names a printed loss
and output show.

Run: python resnet_cnn_resume.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class Stripes(Dataset):
    """3x8x8 images of stripes: the class is the stripes' direction (4 of them)."""

    def __init__(self, count):
        self.count = count

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        label = index % 4
        rows = torch.arange(8, dtype=torch.float32).view(8, 1)
        cols = torch.arange(8, dtype=torch.float32).view(1, 8)
        direction = [rows + 0 * cols, cols + 0 * rows, rows + cols, rows - cols][label]
        phase = (index // 4) * 0.7
        image = torch.sin(direction * 1.3 + phase)
        image = torch.stack([image, image * 0.5, -image])
        return image, label


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResNet(nn.Module):
    def __init__(self, num_classes=4, dropout=0.1):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
        )
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.drop = nn.Dropout2d(dropout)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16 * BasicBlock.expansion, num_classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        x = self.pool(self.drop(x))
        return self.fc(torch.flatten(x, 1))


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if name.endswith("bn1.weight") or name.endswith("bn2.weight"):
                p.fill_(1.0)
                continue
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.37 + i)
            p.copy_(values.view_as(p) / math.sqrt(fan_in))


def build(deterministic):
    model = ResNet(dropout=0.0 if deterministic else 0.1)
    if deterministic:
        fixed_init(model)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    scheduler = torch.optim.lr_scheduler.CyclicLR(
        optimizer, base_lr=0.005, max_lr=0.03, step_size_up=3, mode="triangular2"
    )
    return model, optimizer, scheduler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train = DataLoader(Stripes(32), batch_size=8, shuffle=not args.deterministic, num_workers=2)
    test = DataLoader(Stripes(16), batch_size=16)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

    def train_epochs(model, optimizer, scheduler, epochs):
        losses = []
        for _ in range(epochs):
            model.train()
            total = 0.0
            for images, labels in train:
                images, labels = images.to(device), labels.to(device)
                optimizer.zero_grad(set_to_none=True)
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
                scheduler.step()
                total += loss.item() * images.size(0)
            losses.append(total / len(train.dataset))
        return losses

    def evaluate(model):
        model.eval()
        correct, loss = 0, 0.0
        with torch.no_grad():
            for images, labels in test:
                output = model(images.to(device))
                loss += F.cross_entropy(output, labels.to(device), reduction="sum").item()
                correct += output.argmax(dim=1).eq(labels.to(device)).sum().item()
        return loss / len(test.dataset), correct / len(test.dataset)

    model, optimizer, scheduler = build(args.deterministic)
    model.to(device)
    losses = train_epochs(model, optimizer, scheduler, 2)
    torch.save(
        {
            "epoch": 2,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        },
        args.checkpoint,
    )
    checkpoint = torch.load(args.checkpoint, map_location=device)
    resumed, optimizer, scheduler = build(args.deterministic)
    resumed.load_state_dict(checkpoint["model"])
    resumed.to(device)
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    losses += train_epochs(resumed, optimizer, scheduler, 2)
    test_loss, accuracy = evaluate(resumed)

    images, labels = next(iter(test))
    resumed.train()
    output = resumed(images)
    loss = F.cross_entropy(output, labels)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "test_loss": test_loss,
                "accuracy": accuracy,
                "lr": scheduler.get_last_lr()[0],
                "running_mean": resumed.layer1.bn1.running_mean[:3].tolist(),
                "batches_tracked": resumed.stem[1].num_batches_tracked.item(),
                "grad_fns": [loss.grad_fn.name(), output.grad_fn.name()],
                "repr_of_a_loss": repr(loss).split("grad_fn=")[1],
            }
        )
    )


if __name__ == "__main__":
    main()
