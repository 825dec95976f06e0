"""A small speech/handwriting-style recognizer trained with CTC, as ASR tutorials write it:
variable-length feature sequences padded with `pad_sequence`, a strided Conv1d front end
(the output lengths computed by hand with integer division), a bidirectional 2-layer LSTM
over `pack_padded_sequence(enforce_sorted=False)` / `pad_packed_sequence`, `log_softmax`
over (T, N, C) for `nn.CTCLoss(blank=0, zero_infinity=True)` with concatenated targets,
`F.ctc_loss` with padded targets and reduction="sum"/"none", greedy decoding that collapses
repeats with `torch.unique_consecutive`, an edit distance, `ReduceLROnPlateau`, gradient
clipping, and `PackedSequence` fields printed.

Run: python ctc_bilstm_recognizer.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

VOCAB = 5  # 0 is the CTC blank
FEATS = 6


def make_example(i):
    """A label sequence and features: each label is held for 3-4 frames, with gaps."""
    length = 2 + i % 3
    labels = torch.tensor([(i * 7 + 3 * k) % (VOCAB - 1) + 1 for k in range(length)])
    frames = []
    for k, label in enumerate(labels.tolist()):
        hold = 3 + (i + k) % 2
        frame = torch.zeros(hold, FEATS)
        frame[:, label] = 1.0
        frames.append(frame)
        frames.append(torch.zeros(1 + k % 2, FEATS))  # a gap
    x = torch.cat(frames)
    x = x + 0.1 * torch.sin(torch.arange(x.numel(), dtype=torch.float32) * 0.9 + i).view_as(x)
    return x, labels


class Recognizer(nn.Module):
    def __init__(self, hidden=12):
        super().__init__()
        self.front = nn.Conv1d(FEATS, 16, kernel_size=3, stride=1, padding=1)
        self.rnn = nn.LSTM(16, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.out = nn.Linear(2 * hidden, VOCAB)

    def forward(self, x, lengths):
        h = F.relu(self.front(x.transpose(1, 2))).transpose(1, 2)
        packed = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        out, (hn, cn) = self.rnn(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
        return self.out(out).log_softmax(-1), out_lengths, hn.shape


def greedy(log_probs, lengths):
    best = log_probs.argmax(-1)
    decoded = []
    for seq, n in zip(best, lengths.tolist()):
        collapsed = torch.unique_consecutive(seq[:n])
        decoded.append(collapsed[collapsed != 0].tolist())
    return decoded


def edit_distance(a, b):
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(
                0.35 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.91 + i).view_as(p)
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(2)

    examples = [make_example(i) for i in range(12)]
    xs = pad_sequence([x for x, _ in examples], batch_first=True)
    in_lengths = torch.tensor([len(x) for x, _ in examples])
    targets = torch.cat([t for _, t in examples])
    target_lengths = torch.tensor([len(t) for _, t in examples])
    padded_targets = pad_sequence([t for _, t in examples], batch_first=True, padding_value=0)

    model = Recognizer()
    if args.deterministic:
        fixed_init(model)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    losses, lrs = [], []
    for _ in range(12):
        log_probs, out_lengths, hn_shape = model(xs, in_lengths)
        loss = ctc(log_probs.transpose(0, 1), targets, out_lengths, target_lengths)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        scheduler.step(loss.item())
        losses.append(loss.item())
        lrs.append(optimizer.param_groups[0]["lr"])

    model.eval()
    with torch.no_grad():
        log_probs, out_lengths, hn_shape = model(xs, in_lengths)
        tnc = log_probs.transpose(0, 1)
        decoded = greedy(log_probs, out_lengths)
        cer = sum(edit_distance(d, t.tolist()) for d, (_, t) in zip(decoded, examples)) / int(
            target_lengths.sum()
        )
        per_sample = F.ctc_loss(tnc, padded_targets, out_lengths, target_lengths, reduction="none")
        summed = F.ctc_loss(tnc, padded_targets, in_lengths, target_lengths, reduction="sum")
        # An impossible alignment (target longer than the input) is inf, or 0 with zero_infinity.
        short = torch.tensor([2] + [len(x) for x, _ in examples[1:]])
        inf_loss = F.ctc_loss(tnc, targets, short, target_lengths, reduction="none")[0].item()
        zeroed = F.ctc_loss(
            tnc, targets, short, target_lengths, reduction="none", zero_infinity=True
        )[0].item()
        packed = pack_padded_sequence(xs, in_lengths, batch_first=True, enforce_sorted=False)
    torch.save(model.state_dict(), args.checkpoint)
    again = Recognizer()
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lrs": lrs,
                "cer": cer,
                "decoded": decoded[:4],
                "per_sample": per_sample.tolist(),
                "summed": summed.item(),
                "inf": [inf_loss, zeroed],
                "lengths": [out_lengths.tolist(), str(out_lengths.dtype), list(hn_shape)],
                "packed": [
                    packed.batch_sizes.tolist(),
                    packed.sorted_indices.tolist(),
                    packed.unsorted_indices.tolist(),
                    list(packed.data.shape),
                    str(packed.batch_sizes.dtype),
                ],
                "padded": [list(xs.shape), padded_targets[:2].tolist()],
            }
        )
    )


if __name__ == "__main__":
    main()
