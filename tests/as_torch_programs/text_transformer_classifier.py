"""A sentence classifier on a Transformer encoder as the PyTorch text tutorials write it: a
toy vocabulary, token ids padded with `pad_sequence(padding_value=PAD)`, `nn.Embedding(...,
padding_idx=PAD)` scaled by sqrt(d_model), the sinusoidal PositionalEncoding module with its
`register_buffer("pe", ...)` and dropout, `nn.TransformerEncoder` of batch-first layers with
the default `enable_nested_tensor=True` and `src_key_padding_mask`, masked mean pooling, a
causal `generate_square_subsequent_mask` language-model head on the same encoder, and
evaluation under `model.eval()` + `torch.no_grad()` whose encoder outputs at padded positions
are read (PyTorch's fast path gives zeros there).

Run: python text_transformer_classifier.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

PAD = 0
WORDS = "<pad> good great fine bad awful poor movie plot acting very not".split()
VOCAB = {w: i for i, w in enumerate(WORDS)}
SENTENCES = [
    ("good movie", 1),
    ("great acting very good", 1),
    ("fine plot", 1),
    ("bad movie", 0),
    ("awful acting very bad", 0),
    ("poor plot not good", 0),
    ("very great movie", 1),
    ("not fine", 0),
]


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=32):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])


class Classifier(nn.Module):
    def __init__(self, d_model=16, nhead=4, layers=2, dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(len(WORDS), d_model, padding_idx=PAD)
        self.pos = PositionalEncoding(d_model, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, 32, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.cls = nn.Linear(d_model, 2)
        self.lm = nn.Linear(d_model, len(WORDS))

    def encode(self, tokens, causal=False):
        pad_mask = tokens == PAD
        x = self.pos(self.embed(tokens) * math.sqrt(self.d_model))
        mask = nn.Transformer.generate_square_subsequent_mask(tokens.size(1)) if causal else None
        return self.encoder(x, mask=mask, src_key_padding_mask=pad_mask), pad_mask

    def forward(self, tokens):
        h, pad_mask = self.encode(tokens)
        keep = (~pad_mask).unsqueeze(-1).float()
        pooled = (h * keep).sum(1) / keep.sum(1)
        return self.cls(pooled), h


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            p.copy_(
                0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.67 + i).view_as(p)
            )
            if name == "embed.weight":
                p[PAD].zero_()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(10)

    tokens = pad_sequence(
        [torch.tensor([VOCAB[w] for w in s.split()]) for s, _ in SENTENCES],
        batch_first=True,
        padding_value=PAD,
    )
    labels = torch.tensor([label for _, label in SENTENCES])
    model = Classifier(dropout=0.0 if args.deterministic else 0.1)
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for step in range(15):
        model.train()
        logits, _ = model(tokens)
        loss = F.cross_entropy(logits, labels)
        if step % 3 == 0:  # a next-token objective through the causal mask
            h, _ = model.encode(tokens[:, :-1], causal=True)
            lm_logits = model.lm(h)
            loss = loss + F.cross_entropy(
                lm_logits.reshape(-1, len(WORDS)), tokens[:, 1:].reshape(-1), ignore_index=PAD
            )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        logits, hidden = model(tokens)
        padded_rows = hidden[tokens == PAD]
        accuracy = (logits.argmax(1) == labels).float().mean().item()
    grad_logits, grad_hidden = model(tokens)  # eval, gradients on: every position computed
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "accuracy": accuracy,
                "eval_logits": logits.tolist(),
                "padded_abs_sum": padded_rows.abs().sum().item(),
                "padded_count": padded_rows.shape[0],
                "grad_path_same_logits": torch.allclose(grad_logits, logits, atol=1e-5),
                "grad_path_padded_zero": bool((grad_hidden[tokens == PAD] == 0).all()),
                "use_nested": model.encoder.use_nested_tensor,
                "pe": [list(model.pos.pe.shape), "pe" in model.state_dict()],
                "embed_pad": model.embed.weight[PAD].abs().sum().item(),
            }
        )
    )
    torch.save(model.state_dict(), args.checkpoint)


if __name__ == "__main__":
    main()
