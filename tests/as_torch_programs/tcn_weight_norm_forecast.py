"""A temporal convolutional network (Bai et al.'s TCN as its repository writes it): dilated
causal `Conv1d` made causal by a left `F.pad`, `nn.utils.parametrizations.weight_norm` on
each conv (its `original0` / `original1` in the state dict), a 1x1 downsample on the
residual when channels change, `nn.Dropout` (off in eval), `Hardtanh` / `Softsign` / `CELU`
activations, `AvgPool1d` and `MaxPool1d(ceil_mode=True)` summaries, windows from
`Tensor.unfold`, `TensorDataset` + `DataLoader(batch_size, shuffle=False, drop_last=True)`,
a Gaussian head trained by `GaussianNLLLoss` plus `PoissonNLLLoss` on counts, `torch.lerp`
/ `addcmul` for an exponential moving average of the loss, `std_mean` / `var_mean`,
`ReduceLROnPlateau`, and `remove_parametrizations` before saving.

Run: python tcn_weight_norm_forecast.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrizations, parametrize
from torch.utils.data import DataLoader, TensorDataset

WINDOW, HORIZON = 12, 1


def make_series():
    t = torch.arange(80, dtype=torch.float32)
    series = torch.sin(t * 0.3) + 0.5 * torch.sin(t * 0.11 + 1.0) + 0.1 * torch.cos(t * 2.1)
    windows = series.unfold(0, WINDOW + HORIZON, 2)
    inputs, targets = windows[:, :WINDOW].unsqueeze(1), windows[:, WINDOW:]
    counts = torch.floor(3 * (targets + 1.5)).clamp(min=0)
    return inputs, targets, counts


class CausalBlock(nn.Module):
    def __init__(self, channels_in, channels_out, dilation, activation):
        super().__init__()
        self.left = (3 - 1) * dilation
        self.conv1 = parametrizations.weight_norm(
            nn.Conv1d(channels_in, channels_out, 3, dilation=dilation)
        )
        self.conv2 = parametrizations.weight_norm(
            nn.Conv1d(channels_out, channels_out, 3, dilation=dilation)
        )
        self.activation = activation
        self.dropout = nn.Dropout(0.2)
        self.downsample = (
            nn.Conv1d(channels_in, channels_out, 1) if channels_in != channels_out else None
        )

    def forward(self, x):
        out = self.dropout(self.activation(self.conv1(F.pad(x, (self.left, 0)))))
        out = self.dropout(self.activation(self.conv2(F.pad(out, (self.left, 0)))))
        residual = x if self.downsample is None else self.downsample(x)
        return F.relu(out + residual)


class TCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(
            CausalBlock(1, 6, 1, nn.Hardtanh(-2.0, 2.0)),
            CausalBlock(6, 6, 2, nn.Softsign()),
            CausalBlock(6, 6, 4, nn.CELU(alpha=0.5)),
        )
        self.avg = nn.AvgPool1d(4, stride=4)
        self.max = nn.MaxPool1d(5, stride=5, ceil_mode=True)
        self.head = nn.Linear(6 * 2 + 6 * 3, 3)

    def forward(self, x):
        features = self.blocks(x)
        last = features[:, :, -1]
        summary = torch.cat(
            [self.avg(features)[:, :, -1], last, self.max(features).flatten(1)], dim=1
        )
        mean, log_var, log_rate = self.head(summary).unbind(dim=1)
        return mean.unsqueeze(1), log_var.exp().unsqueeze(1), log_rate.unsqueeze(1)


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(sorted(model.named_parameters())):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.71 + i)
            p.copy_(0.3 * values.view_as(p) + (0.5 if name.endswith("original0") else 0.0))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    inputs, targets, counts = make_series()
    split = 28
    train = DataLoader(
        TensorDataset(inputs[:split], targets[:split], counts[:split]),
        batch_size=8,
        shuffle=False,
        drop_last=True,
    )
    model = TCN()
    if args.deterministic:
        fixed_init(model)
        for module in model.modules():
            if isinstance(module, nn.Dropout):
                module.p = 0.0
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.01)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    gaussian = nn.GaussianNLLLoss(eps=1e-4)
    poisson = nn.PoissonNLLLoss(log_input=True, full=True)
    losses, smoothed = [], torch.tensor(0.0)
    for _ in range(4):
        for batch, target, count in train:
            mean, var, log_rate = model(batch)
            loss = gaussian(mean, target, var) + 0.1 * poisson(log_rate, count)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            smoothed = torch.lerp(smoothed, loss.detach(), 0.3)
        model.eval()
        with torch.no_grad():
            mean, var, _ = model(inputs[split:])
            validation = F.mse_loss(mean, targets[split:])
        model.train()
        plateau.step(validation)

    model.eval()
    with torch.no_grad():
        mean, var, log_rate = model(inputs[split:])
        errors = (mean - targets[split:]).squeeze(1)
        std, avg = torch.std_mean(errors)
        variance, _ = torch.var_mean(errors, correction=0)
        z = torch.addcmul(torch.zeros_like(errors), errors, var.squeeze(1).rsqrt(), value=1.0)
        before_removal = model(inputs[:4])[0]
    weight_names = sorted(k for k in model.state_dict() if "blocks.0.conv1" in k)
    for module in model.modules():
        if parametrize.is_parametrized(module):
            parametrize.remove_parametrizations(module, "weight")
    torch.save(model.state_dict(), args.checkpoint)
    plain = torch.load(args.checkpoint)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "batches_per_epoch": len(train),
                "validation_mse": round(validation.item(), 5),
                "smoothed": round(smoothed.item(), 5),
                "error_std_mean": [round(std.item(), 5), round(avg.item(), 5)],
                "error_var": round(variance.item(), 5),
                "z_abs_mean": round(z.abs().mean().item(), 4),
                "rates": [round(v, 4) for v in log_rate.exp().squeeze(1)[:4].tolist()],
                "lr": optimizer.param_groups[0]["lr"],
                "weight_names": weight_names,
                "plain_names": sorted(k for k in plain if "blocks.0.conv1" in k),
                "same_output": bool(torch.allclose(model(inputs[:4])[0], before_removal)),
            }
        )
    )


if __name__ == "__main__":
    main()
