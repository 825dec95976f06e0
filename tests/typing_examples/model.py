"""Building a model: a Module subclass with layers, a forward pass and its parameters."""

from __future__ import annotations

import chainrule
from chainrule import Tensor, nn
from chainrule.nn import functional as F


class SmallNet(nn.Module):
    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm2d(4)
        self.head = nn.Linear(4 * features * features, classes)

    def forward(self, x: Tensor) -> Tensor:
        hidden = F.relu(self.norm(self.conv(x)))
        return self.head(hidden.flatten(1))


model = SmallNet(features=8, classes=10)
stack = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Dropout(0.1), nn.Linear(32, 4))
logits: Tensor = model(chainrule.randn(2, 1, 8, 8))
predictions: Tensor = logits.argmax(dim=1)
best: Tensor = logits.max(dim=1).values  # max's overloads: a named tuple with a dim
largest: float = logits.max().item()  # a Tensor without one
count: int = sum(p.numel() for p in model.parameters())
names: list[str] = [name for name, _ in stack.named_parameters()]
shape: tuple[int, ...] = tuple(stack(chainrule.ones(5, 16)).shape)
model.eval()
state = model.state_dict()
model.load_state_dict(state)
# Module's methods that return self keep the model's own class (PyTorch's `Self`).
same: SmallNet = model.to(chainrule.float32).to("cpu").train()
frozen: SmallNet = model.requires_grad_(False).eval()
first: nn.Module = stack.pop(0)
heads = nn.ModuleDict({"fc": nn.Linear(2, 3)})
head_names: list[str] = list(heads.keys())
seen: list[tuple[int, ...]] = []


def record_shape(module: nn.Linear, args: tuple[object, ...], output: Tensor) -> None:
    seen.append(tuple(output.shape))


linear = nn.Linear(3, 2)
hook = linear.register_forward_hook(record_shape)
linear(chainrule.ones(4, 3))
hook.remove()
