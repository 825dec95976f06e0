"""Multi-horizon probabilistic forecasting as time-series notebooks (and DeepAR / TFT-lite
code) write it: sliding windows by `Tensor.unfold`, calendar features bucketed by
`torch.bucketize(right=True)` and `torch.searchsorted(side="right")`, per-window scaling by
the window's mean, `nn.LayerNorm([T, F])` over the last two dimensions, a
`nn.GRU(batch_first=True, num_layers=2, dropout=0.2)` encoder (its dropout set to 0 on the
module when deterministic), quantile heads trained with the pinball loss plus
`F.huber_loss(delta=)` on the median and `F.gaussian_nll_loss(full=True)` on a
softplus-scaled variance head, `clip_grad_norm_(error_if_nonfinite=True, foreach=True)` (a
non-finite gradient then raises), a `LambdaLR` warm-up with one lambda per parameter group
followed by `MultiplicativeLR`, early stopping on a validation loss with a deep-copied best
state, then autoregressive rollout with the GRU state carried, interval coverage, `torch.quantile`
with each `interpolation=`, MAPE by `torch.where` and `torch.nanmean`.

Run: python timeseries_gru_quantile_forecast.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import copy
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

WINDOW, HORIZON, QUANTILES = 12, 3, (0.1, 0.5, 0.9)


def make_series(n=96):
    t = torch.arange(n, dtype=torch.float32)
    season = torch.sin(2 * math.pi * t / 12) + 0.5 * torch.cos(2 * math.pi * t / 6)
    wiggle = 0.3 * torch.sin(1.7 * t) * torch.cos(0.3 * t)
    return 5.0 + 0.02 * t + season + wiggle, t


def calendar_features(t):
    month = (t % 12).float()
    season_edges = torch.tensor([2.0, 5.0, 8.0, 11.0])
    season = torch.bucketize(month, season_edges, right=True) % 4
    quarter = torch.searchsorted(torch.tensor([3.0, 6.0, 9.0]), month, side="right")
    return torch.stack([month / 11, season.float() / 3, quarter.float() / 3], dim=-1)


class Forecaster(nn.Module):
    def __init__(self, features=4, hidden=12):
        super().__init__()
        self.norm = nn.LayerNorm([WINDOW, features])
        self.gru = nn.GRU(features, hidden, num_layers=2, batch_first=True, dropout=0.2)
        self.quantiles = nn.Linear(hidden, HORIZON * len(QUANTILES))
        self.variance = nn.Linear(hidden, HORIZON)

    def forward(self, x, state=None):
        out, state = self.gru(self.norm(x), state)
        last = out[:, -1]
        q = self.quantiles(last).view(-1, HORIZON, len(QUANTILES))
        q = torch.cumsum(torch.cat([q[..., :1], F.softplus(q[..., 1:])], dim=-1), dim=-1)
        return q, F.softplus(self.variance(last)) + 1e-3, state


def pinball(pred, target):
    taus = torch.tensor(QUANTILES)
    err = target.unsqueeze(-1) - pred
    return torch.max(taus * err, (taus - 1) * err).mean()


def windows(series, t):
    values = series.unfold(0, WINDOW + HORIZON, 1)  # (N, WINDOW + HORIZON)
    times = t.unfold(0, WINDOW + HORIZON, 1)
    past, future = values[:, :WINDOW], values[:, WINDOW:]
    scale = past.mean(dim=1, keepdim=True)
    feats = torch.cat([(past / scale).unsqueeze(-1), calendar_features(times[:, :WINDOW])], -1)
    return feats, future / scale, scale


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.59 + i)
            p.copy_((0.3 * wave).view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    series, t = make_series()
    feats, targets, scales = windows(series, t)
    train_x, train_y = feats[:60], targets[:60]
    val_x, val_y = feats[60:], targets[60:]
    model = Forecaster()
    if args.deterministic:
        fixed_init(model)
        model.gru.dropout = 0.0
    head = list(model.quantiles.parameters()) + list(model.variance.parameters())
    body = [p for n, p in model.named_parameters() if not n.startswith(("quantiles", "variance"))]
    optimizer = torch.optim.Adam([{"params": body}, {"params": head, "lr": 0.02}], lr=0.01)
    warmup = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_lambda=[lambda e: min(1.0, (e + 1) / 3), lambda e: 1.0]
    )
    decay = torch.optim.lr_scheduler.MultiplicativeLR(optimizer, lr_lambda=lambda e: 0.9)
    losses, val_losses, norms, lrs = [], [], [], []
    best, best_val, patience = None, float("inf"), 0
    for epoch in range(6):
        model.train()
        for start in range(0, 60, 20):
            x, y = train_x[start : start + 20], train_y[start : start + 20]
            q, var, _ = model(x)
            median = q[..., 1]
            loss = pinball(q, y) + 0.5 * F.huber_loss(median, y, delta=0.1)
            loss = loss + 0.1 * F.gaussian_nll_loss(median, y, var, full=True)
            optimizer.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(
                model.parameters(), 1.0, error_if_nonfinite=True, foreach=True
            )
            optimizer.step()
            losses.append(loss.item())
            norms.append(round(norm.item(), 4))
        (warmup if epoch < 3 else decay).step()
        lrs.append([round(g["lr"], 6) for g in optimizer.param_groups])
        model.eval()
        with torch.no_grad():
            q, _, _ = model(val_x)
            val = pinball(q, val_y).item()
        val_losses.append(round(val, 5))
        if val < best_val - 1e-4:
            best_val, best, patience = val, copy.deepcopy(model.state_dict()), 0
        else:
            patience += 1
    model.load_state_dict(best)

    facts = {"val": val_losses, "norms": norms[-4:], "lrs": lrs, "patience": patience}
    model.gru.weight_hh_l0.grad[0, 0] = float("nan")
    try:
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=True)
    except RuntimeError as error:
        facts["nonfinite"] = "non-finite" in str(error)
    model.eval()
    with torch.no_grad():
        q, var, state = model(val_x)
        prediction = q * scales[60:, :, None]
        truth = val_y * scales[60:]
        inside = ((truth >= prediction[..., 0]) & (truth <= prediction[..., 2])).float()
        ape = torch.where(truth.abs() > 1e-6, (prediction[..., 1] - truth).abs() / truth, 0.0)
        ape[0, 0] = float("nan")
        interpolations = ["linear", "lower", "higher", "midpoint", "nearest"]
        errors = (prediction[..., 1] - truth).flatten()
        facts.update(
            {
                "coverage": round(inside.mean().item(), 4),
                "mape": round(torch.nanmean(ape).item(), 5),
                "err_quantiles": {
                    how: torch.quantile(errors, torch.tensor([0.1, 0.5, 0.9]), interpolation=how)
                    .round(decimals=4)
                    .tolist()
                    for how in interpolations
                },
                "state_shape": list(state.shape),
                "variance": round(var.mean().item(), 4),
            }
        )
        # autoregressive rollout: feed the median back, the GRU state carried step to step
        window = feats[-1:].clone()
        rolled = []
        for _ in range(3):
            q, _, _ = model(window)
            step = q[:, 0, 1]
            rolled.append(round(step.item(), 4))
            nxt = torch.cat([step.view(1, 1, 1), window[:, -1:, 1:]], dim=-1)
            window = torch.cat([window[:, 1:], nxt], dim=1)
        facts["rollout"] = rolled
    torch.save({"model": model.state_dict(), "best_val": best_val}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    facts["keys"] = sorted(k for k in state["model"] if "gru" in k)[:4]
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
