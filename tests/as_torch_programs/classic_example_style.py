"""The style of PyTorch's own MNIST example and of many tutorials: `use_cuda` kwargs for the
loaders, `random_split` by fractions, a WeightedRandomSampler, `model.apply(init_weights)`,
a registered buffer, `F.log_softmax` + `F.nll_loss`, `torch.max(output.data, 1)`, progress
lines with `.format`, ReduceLROnPlateau on the validation loss, `torch.inference_mode()`,
`topk`, backend flags, and an import from `torch.utils.data.dataloader`.

Run: python classic_example_style.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import (
    ConcatDataset,
    DataLoader,
    Subset,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)
from torch.utils.data.dataloader import default_collate


class Net(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, bias=False)  # BatchNorm follows
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 3)
        self.dropout = dropout
        self.register_buffer("steps", torch.zeros(1))

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = F.dropout(x, p=self.dropout, training=self.training)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc(x), dim=1)


def init_weights(m):
    if isinstance(m, (nn.Linear, nn.Conv2d)):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            m.bias.data.fill_(0.01)


def fixed_weights(m):
    if isinstance(m, (nn.Linear, nn.Conv2d)):
        with torch.no_grad():
            m.weight.copy_(torch.sin(torch.arange(m.weight.numel()) * 1.1).view_as(m.weight) / 4)
        if m.bias is not None:
            m.bias.data.fill_(0.01)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()

    torch.manual_seed(42)
    np.random.seed(42)
    random.seed(42)
    torch.backends.cudnn.benchmark = True
    torch.set_float32_matmul_precision("high")
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    kwargs = {"num_workers": 2, "pin_memory": True} if use_cuda else {"num_workers": 2}

    index = torch.arange(100, dtype=torch.float32)
    x = torch.sin(index.view(100, 1, 1, 1) * torch.arange(1, 37).view(1, 1, 6, 6) * 0.05)
    y = (index.long() * 7) % 3
    full = TensorDataset(x, y)
    if args.deterministic:
        train_set, val_set = Subset(full, range(80)), Subset(full, range(80, 100))
        sampler = None
    else:
        generator = torch.Generator().manual_seed(42)
        train_set, val_set = random_split(full, [0.8, 0.2], generator=generator)
        weights = torch.ones(len(train_set), dtype=torch.double)
        sampler = WeightedRandomSampler(weights, num_samples=len(train_set), replacement=True)
    train_loader = DataLoader(train_set, batch_size=16, sampler=sampler, drop_last=True, **kwargs)
    val_loader = DataLoader(ConcatDataset([val_set, Subset(full, range(4))]), batch_size=8)

    model = Net(dropout=0.0 if args.deterministic else 0.1).to(device)
    model.apply(fixed_weights if args.deterministic else init_weights)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", patience=0)

    @torch.no_grad()
    def validate():
        model.eval()
        loss, correct = 0, 0
        for data, target in val_loader:
            data, target = data.to(device, non_blocking=True), target.to(device)
            output = model(data)
            loss += F.nll_loss(output, target, reduction="sum").item()
            _, predicted = torch.max(output.data, 1)
            correct += (predicted == target).sum().item()
        return loss / len(val_loader.dataset), 100.0 * correct / len(val_loader.dataset)

    losses, val_losses, lrs = [], [], []
    for epoch in range(1, 4):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            model.steps += 1
            losses.append(loss.item())
            if batch_idx % 2 == 0:
                print(
                    "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(  # noqa: UP032
                        epoch,
                        batch_idx * len(data),
                        len(train_loader.dataset),
                        100.0 * batch_idx / len(train_loader),
                        loss.item(),
                    )
                )
        val_loss, accuracy = validate()
        scheduler.step(val_loss)
        val_losses.append(val_loss)
        lrs.append(optimizer.param_groups[0]["lr"])

    torch.save(model.state_dict(), args.checkpoint)
    model.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    with torch.inference_mode():
        probs = torch.exp(model(x[:5].to(device)))
        top = torch.topk(probs, 2, dim=1)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "val_losses": val_losses,
                "accuracy": accuracy,
                "lrs": lrs,
                "parameters": n_params,
                "steps": model.steps.item(),
                "top_shape": list(top.values.shape),
                "probability_sums": probs.sum(1).tolist(),
                "collated": list(default_collate([torch.zeros(2), torch.ones(2)]).shape),
            }
        )
    )


if __name__ == "__main__":
    main()
