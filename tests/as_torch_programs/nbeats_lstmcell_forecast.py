"""Univariate forecasting as N-BEATS and seq2seq forecasting tutorials write it: interpretable
N-BEATS blocks whose trend basis is a polynomial in `torch.linspace` time and whose seasonality
basis stacks `cos`/`sin` harmonics (`torch.stack`, `torch.cat`), doubly residual stacking
(backcast subtracted, forecasts summed), a quantile (pinball) loss by `torch.maximum`; then an
`nn.LSTMCell` encoder-decoder over series of different lengths fed through
`nn.utils.rnn.pack_sequence(enforce_sorted=False)` into an `nn.LSTM` whose final `(h, c)` seed
the cell (`unsorted_indices` restore the order), a decoder loop with scheduled teacher forcing
(a fixed coin per step), `torch.no_grad` autoregressive rollout, and sMAPE / MASE metrics with
`torch.diff` of the insample series; a stale state of another batch is refused.

Run: python nbeats_lstmcell_forecast.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence

BACK, FORE, QUANTILES = 16, 4, torch.tensor([0.1, 0.5, 0.9])


def series(n, phase):
    t = torch.arange(n, dtype=torch.float32)
    return 1.0 + 0.03 * t + 0.5 * torch.sin(2 * math.pi * t / 8 + phase) + 0.1 * torch.cos(1.3 * t)


class Block(nn.Module):
    def __init__(self, kind, degree_or_harmonics, width=24):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(BACK, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU()
        )
        t_back = torch.linspace(-1.0, 0.0, BACK)
        t_fore = torch.linspace(0.0, FORE / BACK, FORE)
        if kind == "trend":
            powers = torch.arange(degree_or_harmonics + 1, dtype=torch.float32)
            basis_b, basis_f = t_back[None] ** powers[:, None], t_fore[None] ** powers[:, None]
        else:
            k = torch.arange(1, degree_or_harmonics + 1, dtype=torch.float32)[:, None]
            basis_b = torch.cat(
                [
                    torch.ones(1, BACK),
                    torch.cos(2 * math.pi * k * t_back),
                    torch.sin(2 * math.pi * k * t_back),
                ]
            )
            basis_f = torch.cat(
                [
                    torch.ones(1, FORE),
                    torch.cos(2 * math.pi * k * t_fore),
                    torch.sin(2 * math.pi * k * t_fore),
                ]
            )
        self.register_buffer("basis_b", basis_b)
        self.register_buffer("basis_f", basis_f)
        self.theta = nn.Linear(width, basis_b.shape[0], bias=False)

    def forward(self, x):
        theta = self.theta(self.fc(x))
        return theta @ self.basis_b, theta @ self.basis_f


class NBeats(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block("trend", 2), Block("seasonality", 3)])
        self.spread = nn.Parameter(torch.tensor([-0.5, 0.0, 0.5]))

    def forward(self, x):
        level = x[:, -1:]
        residual, forecast = x - level, 0
        for block in self.blocks:
            back, fore = block(residual)
            residual = residual - back
            forecast = forecast + fore
        median = forecast + level
        return median[..., None] + self.spread * forecast.abs().mean(-1, keepdim=True)[..., None]


def pinball(pred, target):
    err = target[..., None] - pred
    return torch.maximum(QUANTILES * err, (QUANTILES - 1) * err).mean()


class Seq2Seq(nn.Module):
    def __init__(self, hidden=10):
        super().__init__()
        self.encoder = nn.LSTM(1, hidden)
        self.cell = nn.LSTMCell(1, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, sequences, targets, teacher):
        packed = pack_sequence([s[:, None] for s in sequences], enforce_sorted=False)
        encoded, (h, c) = self.encoder(packed)
        padded, lengths = pad_packed_sequence(encoded)
        h, c = h[0], c[0]
        step = torch.stack([s[-1] for s in sequences])[:, None]
        outputs = []
        for k in range(FORE):
            h, c = self.cell(step, (h, c))
            pred = self.out(h)
            outputs.append(pred)
            step = (
                targets[:, k : k + 1]
                if teacher[k]
                else pred.detach()
                if not self.training
                else pred
            )
        return torch.cat(outputs, 1), padded.shape, lengths


def fixed_init(model, phase=0.0):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.63 + i + phase)
            p.copy_((0.25 * wave).view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    long = torch.stack(
        [series(BACK + FORE + 8, phase) for phase in torch.linspace(0, 3, 6).tolist()]
    )
    windows = long.unfold(1, BACK + FORE, 4).reshape(-1, BACK + FORE)  # (6 * 3, 20)
    x, y = windows[:, :BACK], windows[:, BACK:]
    model = NBeats()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(10):
        loss = pinball(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        q = model(x)
        median = q[..., 1]
        smape = (2 * (median - y).abs() / (median.abs() + y.abs())).mean()
        naive = torch.diff(x, dim=1).abs().mean(1, keepdim=True)
        mase = ((median - y).abs() / naive).mean()
        crossing = (q[..., 0] > q[..., 2]).float().mean()

    seq2seq = Seq2Seq()
    if args.deterministic:
        fixed_init(seq2seq, 1.0)
    opt = torch.optim.RMSprop(seq2seq.parameters(), lr=5e-3, alpha=0.9)
    lengths = [BACK, BACK - 5, BACK - 2, BACK - 7]
    sequences = [x[i, BACK - n :] for i, n in enumerate(lengths)]
    targets = y[:4]
    for it in range(6):
        if args.deterministic:
            teacher = [(k + it) % 3 != 0 for k in range(FORE)]
        else:
            teacher = (torch.rand(FORE) < 0.5).tolist()
        seq2seq.train()
        pred, padded_shape, unpacked_lengths = seq2seq(sequences, targets, teacher)
        loss = nn.functional.l1_loss(pred, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    seq2seq.eval()
    with torch.no_grad():
        rollout, _, _ = seq2seq(sequences, targets, [False] * FORE)
        try:  # a state kept from a batch of one, reused on a batch of four
            seq2seq.cell(targets[:, :1], (torch.zeros(1, 10), torch.zeros(1, 10)))
            stale_state = "accepted"
        except RuntimeError as error:
            stale_state = str(error)
    facts = {
        "smape": round(smape.item(), 4),
        "mase": round(mase.item(), 4),
        "crossing": crossing.item(),
        "spread": model.spread.detach().round(decimals=4).tolist(),
        "basis_shapes": [list(b.basis_b.shape) for b in model.blocks],
        "padded_shape": list(padded_shape),
        "lengths": unpacked_lengths.tolist(),
        "rollout": rollout[:, -1].round(decimals=4).tolist(),
        "stale_state": stale_state,
    }
    torch.save({"nbeats": model.state_dict(), "seq2seq": seq2seq.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    facts["buffers"] = sorted(k for k in state["nbeats"] if "basis" in k)
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
