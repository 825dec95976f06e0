"""A spatial transformer network in the style of PyTorch's STN tutorial, trained as
fine-tuning scripts train: a localization net (Conv2d, MaxPool2d, AdaptiveMaxPool2d) whose
last Linear starts at the identity transform (`weight.data.zero_()`, `bias.data.copy_`),
`F.affine_grid` + `F.grid_sample` warping the input, a classifier with GroupNorm,
InstanceNorm2d, a weight-normalised Conv2d (`parametrizations.weight_norm`), PixelShuffle
and a `torch.utils.checkpoint` segment; gradient accumulation over micro-batches
(`loss / accumulation_steps`), `clip_grad_norm_` returning the total norm, parameter groups
without weight decay for biases and norms, ExponentialLR, and a checkpoint holding the
parametrized state dict.

Run: python spatial_transformer_accumulation.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations
from torch.utils.checkpoint import checkpoint
from torch.utils.data import DataLoader, Dataset


class ShiftedBars(Dataset):
    """8x8 images of a bar, horizontal (class 0) or vertical (class 1), shifted and scaled."""

    def __init__(self, count):
        self.count = count

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        label = index % 2
        image = torch.zeros(1, 8, 8)
        position = 1 + (index * 3) % 6
        if label == 0:
            image[0, position, 1:7] = 1.0
        else:
            image[0, 1:7, position] = 1.0
        image = image * (0.5 + 0.1 * (index % 5)) + 0.05 * torch.cos(
            torch.arange(64.0) * index
        ).view(1, 8, 8)
        return image, label


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.localization = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(4, 6, kernel_size=3),
            nn.AdaptiveMaxPool2d((1, 1)),
            nn.ReLU(True),
        )
        self.fc_loc = nn.Sequential(nn.Linear(6, 8), nn.ReLU(True), nn.Linear(8, 3 * 2))
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))
        self.conv1 = parametrizations.weight_norm(nn.Conv2d(1, 8, kernel_size=3, padding=1))
        self.norm1 = nn.GroupNorm(2, 8)
        self.conv2 = nn.Conv2d(8, 8, kernel_size=3, padding=1)
        self.norm2 = nn.InstanceNorm2d(8, affine=True)
        self.shuffle = nn.PixelShuffle(2)  # 8 channels of 4x4 -> 2 channels of 8x8
        self.head = nn.Linear(2 * 8 * 8, 2)

    def stn(self, x):
        xs = self.localization(x).view(-1, 6)
        theta = self.fc_loc(xs).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False), theta

    def block(self, x):
        x = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.norm2(self.conv2(F.max_pool2d(x, 2))))

    def forward(self, x):
        x, theta = self.stn(x)
        x = checkpoint(self.block, x, use_reentrant=False)
        x = self.shuffle(x)
        return F.log_softmax(self.head(torch.flatten(x, 1)), dim=1), theta


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if name.startswith("fc_loc.2"):
                continue  # the identity transform the tutorial starts from
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.9 + i)
            p.copy_(values.view_as(p) * (0.3 if p.dim() > 1 else 0.05))


def parameter_groups(model, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.dim() == 1 or "norm" in name else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    loader = DataLoader(
        ShiftedBars(48), batch_size=4, shuffle=not args.deterministic, num_workers=2
    )
    model = Net().to(device)
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.SGD(parameter_groups(model, 1e-3), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.8)
    accumulation_steps = 3

    losses, norms = [], []
    for _ in range(3):
        model.train()
        running = 0.0
        optimizer.zero_grad(set_to_none=True)
        for step, (data, target) in enumerate(loader):
            data, target = data.to(device), target.to(device)
            output, _ = model(data)
            loss = F.nll_loss(output, target) / accumulation_steps
            loss.backward()
            running += loss.item()
            if (step + 1) % accumulation_steps == 0:
                total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0)
                norms.append(round(float(total_norm), 4))
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        losses.append(running / len(loader) * accumulation_steps)

    torch.save({"model": model.state_dict(), "epoch": 3}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    again = Net().to(device)
    again.load_state_dict(state["model"])
    again.eval()
    model.eval()
    images = torch.stack([ShiftedBars(48)[i][0] for i in range(8)]).to(device)
    with torch.no_grad():
        log_probs, theta = again(images)
        same = bool(torch.allclose(log_probs, model(images)[0]))
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "norms": norms[:4],
                "theta": [round(v, 4) for v in theta[0].flatten().tolist()],
                "predictions": log_probs.argmax(1).tolist(),
                "reloaded_same": same,
                "state_keys": sorted(state["model"].keys())[:6],
                "lr": scheduler.get_last_lr(),
            }
        )
    )


if __name__ == "__main__":
    main()
