"""One training step: loss, backward, an optimizer and a learning-rate schedule."""

from __future__ import annotations

import chainrule
from chainrule import Tensor, nn, optim
from chainrule.nn import functional as F

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
optimizer = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)


def step(inputs: Tensor, targets: Tensor) -> float:
    optimizer.zero_grad()
    loss = F.cross_entropy(model(inputs), targets, label_smoothing=0.1)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    scheduler.step()
    return loss.item()


chainrule.manual_seed(0)
inputs = chainrule.randn(16, 4)
targets = chainrule.randint(0, 3, (16,))
losses: list[float] = [step(inputs, targets) for _ in range(3)]
with chainrule.no_grad():
    accuracy: float = (model(inputs).argmax(1) == targets).float().mean().item()
scaled: Tensor = (inputs * 2.0 + 1).clamp(min=0.0).sqrt_()


def closure() -> Tensor:
    optimizer.zero_grad()
    loss = F.cross_entropy(model(inputs), targets)
    loss.backward()
    return loss


closure_loss: Tensor = optimizer.step(closure)  # step gives the closure's result back
nothing: None = optimizer.step()
checkpoint = optimizer.state_dict()
optimizer.load_state_dict(checkpoint)
plateau = optim.lr_scheduler.ReduceLROnPlateau(optimizer)
plateau.step(closure_loss)
draws: Tensor = chainrule.distributions.Normal(0.0, 1.0).sample((3,))
scaler = chainrule.amp.GradScaler(enabled=False)
scaled_loss: Tensor = scaler.scale(closure())
scaler.step(optimizer)
scaler.update()
