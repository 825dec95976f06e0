"""The main job's models, optimizers and learning-rate schedules, built from a run's config."""

from __future__ import annotations

from typing import Any

from chainrule import nn, optim
from chainrule.apps.errors import UsageError

MODELS = ("mlp", "cnn", "lstm")
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("none", "cosine")
# SGD at 0.1 with momentum 0.9 sent the CNN to chance (9%) at epoch 16 for some seeds (PyTorch
# too); 0.05 converged for every seed measured (README, "The main job").
DEFAULT_LR = {"sgd": 0.05, "adam": 2e-3, "adamw": 2e-3}
SGD_MOMENTUM = 0.9


def build_model(name: str, image_size: int, num_classes: int) -> Any:
    """The three model families, sized for square single-channel images."""
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(image_size * image_size, 128),
            nn.ReLU(),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Linear(128, num_classes),
        )
    if name == "cnn":
        pooled = image_size // 4
        return nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * pooled * pooled, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )
    if name == "lstm":
        return RowLSTM(image_size, 64, num_classes)
    raise UsageError(f"unknown model {name!r} (choose from {', '.join(MODELS)})")


class RowLSTM(nn.Module):
    """Reads an image's rows as a sequence; classifies from the last hidden state."""

    def __init__(self, row_size: int, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(row_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, images: Any) -> Any:
        rows = images.reshape(images.shape[0], images.shape[-2], images.shape[-1])
        outputs, _ = self.lstm(rows)
        return self.head(outputs[:, -1])


def count_parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def build_optimizer(name: str, parameters: Any, lr: float) -> Any:
    if name == "sgd":
        return optim.SGD(parameters, lr=lr, momentum=SGD_MOMENTUM)
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    if name == "adamw":
        return optim.AdamW(parameters, lr=lr)
    raise UsageError(f"unknown optimizer {name!r} (choose from {', '.join(OPTIMIZERS)})")


def build_scheduler(name: str, optimizer: Any, epochs: int) -> Any:
    """None for a constant learning rate; 'cosine' decays it to 0 over the run, stepped once
    per epoch."""
    if name == "none":
        return None
    if name == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    raise UsageError(f"unknown scheduler {name!r} (choose from {', '.join(SCHEDULERS)})")
