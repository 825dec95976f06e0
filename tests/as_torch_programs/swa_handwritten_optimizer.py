"""Classification with BatchNorm, trained by a hand-written Adam (an Optimizer subclass whose
step uses mul_, addcmul_ in its deprecated scalar-first form, addcdiv_ and lerp_), then
Stochastic Weight Averaging: an AveragedModel under SWALR, update_bn for its BatchNorm
statistics, and an EMA copy with use_buffers=True; the averaged models are saved and reloaded.

Run: python swa_handwritten_optimizer.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
from torch import nn
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.data import DataLoader, TensorDataset


class HandAdam(torch.optim.Optimizer):
    """Adam with decoupled weight decay, written the way research code writes optimizers."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                p.mul_(1 - group["lr"] * group["weight_decay"])
                exp_avg.lerp_(p.grad, 1 - beta1)
                # the scalar-first overload of older optimizers (deprecated, still taken)
                exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, p.grad, p.grad)
                bias_correction1 = 1 - beta1 ** state["step"]
                bias_correction2 = 1 - beta2 ** state["step"]
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])
                p.addcdiv_(exp_avg, denom, value=-group["lr"] / bias_correction1)
        return loss


def make_model():
    # no bias before BatchNorm: it cancels it, leaving Adam only rounding noise to normalize
    return nn.Sequential(
        nn.Linear(2, 16, bias=False),
        nn.BatchNorm1d(16),
        nn.ReLU(),
        nn.Linear(16, 16, bias=False),
        nn.BatchNorm1d(16),
        nn.ReLU(),
        nn.Linear(16, 3),
    )


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + i).view_as(p))
            p.mul_(0.5)
        for layer in model:
            if isinstance(layer, nn.Linear):
                layer.weight.renorm_(2, 0, 1.5)  # a max-norm constraint on each unit's weights


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(7)

    # three classes of points in the plane: the sector each point's angle falls in
    grid = torch.linspace(-1, 1, 10)
    inputs = torch.cartesian_prod(grid, grid)
    angle = torch.atan2(inputs[:, 1], inputs[:, 0])
    labels = ((angle + math.pi) / (2 * math.pi / 3)).long().clamp_(max=2)
    loader = DataLoader(
        TensorDataset(inputs, labels), batch_size=20, shuffle=not args.deterministic
    )

    model = make_model()
    if args.deterministic:
        fixed_init(model)
    criterion = nn.CrossEntropyLoss()
    # eps well above rounding noise: a unit with no gradient gets no step in either library
    optimizer = HandAdam(model.parameters(), lr=0.02, eps=1e-3, weight_decay=0.01)
    swa_model = AveragedModel(model)
    ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    swa_scheduler = SWALR(optimizer, swa_lr=0.005, anneal_epochs=2, anneal_strategy="cos")
    swa_start = 2

    losses, lrs = [], []
    for epoch in range(6):
        model.train()
        running = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            ema_model.update_parameters(model)
            running += loss.item()
        losses.append(running / len(loader))
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])

    update_bn(loader, swa_model)
    torch.save(
        {"swa": swa_model.state_dict(), "ema": ema_model.state_dict(), "lrs": lrs},
        args.checkpoint,
    )

    checkpoint = torch.load(args.checkpoint, weights_only=True)
    restored = AveragedModel(make_model())
    restored.load_state_dict(checkpoint["swa"])
    restored_ema = AveragedModel(make_model(), use_buffers=True)
    restored_ema.load_state_dict(checkpoint["ema"])
    restored.eval()
    restored_ema.eval()
    with torch.no_grad():
        swa_error = criterion(restored(inputs), labels).item()
        ema_error = criterion(restored_ema(inputs), labels).item()
        accuracy = (restored(inputs).argmax(1) == labels).float().mean().item()
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lrs": checkpoint["lrs"],
                "n_averaged": [int(swa_model.n_averaged), int(restored_ema.n_averaged)],
                "swa_error": swa_error,
                "ema_error": ema_error,
                "swa_accuracy": accuracy,
                "running_var_head": restored.module[1].running_var[:3].tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
