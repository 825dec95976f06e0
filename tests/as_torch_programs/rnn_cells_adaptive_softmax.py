"""Recurrent models below and beside `nn.LSTM`, as language-model and tagging code writes
them: `nn.LSTM(proj_size=...)` (its hidden state of the projected size, `weight_hr_l0`),
a decoder stepped by `nn.LSTMCell` / `nn.GRUCell` / `nn.RNNCell(nonlinearity="relu")` in a
Python loop, `nn.RNN(nonlinearity="relu", bias=False)`, `pack_sequence` /
`unpack_sequence` / `unpad_sequence` / `pad_packed_sequence(total_length=...)`,
`nn.Embedding.from_pretrained(freeze=False, padding_idx=...)` and `max_norm` renormalising
rows in place, `nn.MultiheadAttention(kdim=..., vdim=...)` with a 3-D per-head float
`attn_mask` and `average_attn_weights=False`, `nn.AdaptiveLogSoftmaxWithLoss` (its `output`,
`loss`, `log_prob` and `predict`), soft-label `F.cross_entropy` with probabilities,
`F.one_hot`, and `reduction="sum"` with `ignore_index`.

Run: python rnn_cells_adaptive_softmax.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import (
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

VOCAB, PAD = 20, 0


class Tagger(nn.Module):
    def __init__(self, pretrained):
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(pretrained, freeze=False, padding_idx=PAD)
        self.encoder = nn.LSTM(6, 10, proj_size=4, batch_first=True)
        self.attn = nn.MultiheadAttention(8, 2, kdim=4, vdim=4, batch_first=True)
        self.query = nn.Linear(6, 8)
        self.cell = nn.LSTMCell(8, 8)
        self.gru_cell = nn.GRUCell(8, 8)
        self.rnn_cell = nn.RNNCell(8, 8, nonlinearity="relu")
        self.rnn = nn.RNN(8, 8, nonlinearity="relu", bias=False)
        self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(8, VOCAB, cutoffs=[4, 10], div_value=2.0)

    def forward(self, sequences, attn_mask):
        packed = pack_sequence([self.embed(s) for s in sequences], enforce_sorted=False)
        packed_out, (h, c) = self.encoder(packed)
        longest = max(len(s) for s in sequences)
        memory, lengths = pad_packed_sequence(packed_out, batch_first=True, total_length=longest)
        each = unpack_sequence(packed_out)
        padded_tokens = pad_sequence(sequences, batch_first=True, padding_value=PAD)
        queries = self.query(self.embed(padded_tokens))
        context, weights = self.attn(
            queries, memory, memory, attn_mask=attn_mask, average_attn_weights=False
        )
        hx = torch.zeros(len(sequences), 8)
        cx = torch.zeros(len(sequences), 8)
        g = torch.zeros(len(sequences), 8)
        r = torch.zeros(len(sequences), 8)
        steps = []
        for t in range(context.size(1)):
            hx, cx = self.cell(context[:, t], (hx, cx))
            g = self.gru_cell(hx, g)
            r = self.rnn_cell(g, r)
            steps.append(r)
        stepped = torch.stack(steps, dim=0)  # (T, B, H): the RNN's default layout
        out, _ = self.rnn(stepped)
        return out.transpose(0, 1), lengths, (h.shape, c.shape), each, weights


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            k = torch.arange(p.numel(), dtype=torch.float32)
            p.copy_(torch.sin(k * 0.71 + i).view_as(p) * 0.3)


def make_batch(offset):
    lengths = [5, 3, 6, 2]
    sequences = [
        (torch.arange(n) * (j + 2) + offset) % (VOCAB - 1) + 1 for j, n in enumerate(lengths)
    ]
    targets = [(s * 3 + 1) % VOCAB for s in sequences]
    return sequences, targets


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(2)

    pretrained = torch.cos(torch.arange(VOCAB * 6, dtype=torch.float32)).view(VOCAB, 6) * 2
    model = Tagger(pretrained)
    if args.deterministic:
        fixed_init(model)
    model.embed.max_norm = 0.4  # rows looked up are renormalised in place
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    # a per-head additive mask: head 0 sees only the first 3 memory steps, head 1 everything
    attn_mask = torch.zeros(4 * 2, 6, 6)
    attn_mask[0::2, :, 3:] = float("-inf")

    losses, shapes = [], None
    for step in range(5):
        sequences, targets = make_batch(step)
        out, lengths, shapes, each, weights = model(sequences, attn_mask)
        flat = torch.cat(unpad_sequence(out, lengths, batch_first=True))
        flat_targets = torch.cat(targets)
        result = model.adaptive(flat, flat_targets)
        padded_targets = pad_sequence(targets, batch_first=True, padding_value=-100)
        logits = model.adaptive.log_prob(out.reshape(-1, 8))
        summed = F.nll_loss(logits, padded_targets.view(-1), ignore_index=-100, reduction="sum")
        loss = result.loss + 0.01 * summed
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    with torch.no_grad():
        probs = F.softmax(out.reshape(-1, 8)[:, :5], dim=-1)
        soft = F.cross_entropy(out.reshape(-1, 8)[:, :5], probs.flip(0), label_smoothing=0.1)
        hot = F.one_hot(flat_targets % 5, num_classes=5).float()
        hard = F.cross_entropy(flat[:, :5], hot)
        predicted = model.adaptive.predict(flat)
    renormed = model.embed.weight.norm(dim=1)
    torch.save(model.state_dict(), args.checkpoint)
    restored = Tagger(torch.zeros(VOCAB, 6))
    restored.load_state_dict(torch.load(args.checkpoint))
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "output_shape": list(result.output.shape),
                "lstm_state_shapes": [list(s) for s in shapes],
                "projection": list(model.encoder.weight_hr_l0.shape),
                "unpacked_lengths": [len(e) for e in each],
                "weights_shape": list(weights.shape),
                "masked_weight": round(weights[0, 0, :, 3:].sum().item(), 6),
                "soft_targets": [round(soft.item(), 4), round(hard.item(), 4)],
                "predicted": predicted.tolist(),
                "renormed_max": round(renormed.max().item(), 4),
                "adaptive_keys": sorted(k for k in model.state_dict() if "adaptive" in k),
                "restored_equal": torch.equal(restored.rnn.weight_hh_l0, model.rnn.weight_hh_l0),
            }
        )
    )


if __name__ == "__main__":
    main()
