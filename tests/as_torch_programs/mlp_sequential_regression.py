"""Regression with an nn.Sequential MLP, TensorDataset, Adam and cosine annealing; a full
training checkpoint (model, optimizer, scheduler, epoch) saved and resumed mid-run.

Run: python mlp_sequential_regression.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_model():
    return nn.Sequential(
        nn.Linear(2, 32),
        nn.Tanh(),
        nn.Linear(32, 32),
        nn.GELU(),
        nn.Linear(32, 1),
    )


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 1.3 + i).view_as(p))
            p.mul_(0.4)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(1234)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    grid = torch.linspace(-1, 1, 12)
    inputs = torch.cartesian_prod(grid, grid)  # 144 points of the square
    targets = (torch.sin(3 * inputs[:, 0]) * inputs[:, 1]).unsqueeze(1)
    dataset = TensorDataset(inputs, targets)
    loader = DataLoader(
        dataset,
        batch_size=24,
        shuffle=not args.deterministic,
        num_workers=2,
        persistent_workers=True,
    )

    model = make_model().to(device)
    if args.deterministic:
        fixed_init(model)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=6)

    def run_epochs(model, optimizer, scheduler, epochs):
        history = []
        for _ in epochs:
            model.train()
            running = 0.0
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                running += loss.item()
            scheduler.step()
            history.append(running / len(loader))
        return history

    losses = run_epochs(model, optimizer, scheduler, range(3))
    state = {
        "epoch": 3,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "scheduler_state_dict": scheduler.state_dict(),
        "losses": losses,
    }
    torch.save(state, args.checkpoint)

    checkpoint = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    model2 = make_model()
    model2.load_state_dict(checkpoint["model_state_dict"])
    model2.to(device)
    optimizer2 = torch.optim.Adam(model2.parameters(), lr=0.01)
    optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
    scheduler2 = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer2, T_max=6)
    scheduler2.load_state_dict(checkpoint["scheduler_state_dict"])
    losses += run_epochs(model2, optimizer2, scheduler2, range(checkpoint["epoch"], 6))

    model2.eval()
    with torch.no_grad():
        test_error = criterion(model2(inputs.to(device)), targets.to(device)).item()
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "test_error": test_error,
                "saved_losses": checkpoint["losses"],
                "final_lr": scheduler2.get_last_lr()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
