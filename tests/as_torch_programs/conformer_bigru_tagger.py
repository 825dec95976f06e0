"""A sequence tagger as speech and NLP repositories write it: variable-length sentences
padded with `pad_sequence(padding_side=)` on both sides, a conformer block (feed-forward
halves with `F.silu`, relative sinusoidal positions added to self-attention logits, a
convolution module of pointwise Conv1d + GLU + depthwise `Conv1d(groups=)` + BatchNorm1d
under a length mask), then a two-layer bidirectional GRU over `pack_padded_sequence(
enforce_sorted=False)` unpacked with `pad_packed_sequence(total_length=)`, a masked token
loss with `ignore_index` (and an `nll_loss` over a batch of padding only: nan, with zero
gradients), the grad_fn a recurrent layer's output prints, gradient surgery on the
embeddings through `Tensor.register_hook`, NAdam with decoupled weight decay, and a LinearLR
warm-up chained to StepLR by SequentialLR.

Run: python conformer_bigru_tagger.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.optim.lr_scheduler import LinearLR, SequentialLR, StepLR

VOCAB, TAGS, DIM = 11, 4, 8


def relative_positions(n, dim):
    """Sinusoids of the signed distance i - j: (n, n, dim)."""
    rel = torch.arange(n)[:, None] - torch.arange(n)[None, :]
    freqs = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(100.0) / dim))
    angles = rel[..., None].float() * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class ConformerBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ff1 = nn.Sequential(
            nn.LayerNorm(DIM), nn.Linear(DIM, 2 * DIM), nn.SiLU(), nn.Linear(2 * DIM, DIM)
        )
        self.ff2 = nn.Sequential(
            nn.LayerNorm(DIM), nn.Linear(DIM, 2 * DIM), nn.SiLU(), nn.Linear(2 * DIM, DIM)
        )
        self.attn_norm = nn.LayerNorm(DIM)
        self.q = nn.Linear(DIM, DIM)
        self.k = nn.Linear(DIM, DIM, bias=False)  # a key bias only shifts each softmax row
        self.v = nn.Linear(DIM, DIM)
        self.pos_proj = nn.Linear(DIM, DIM, bias=False)
        self.conv_norm = nn.LayerNorm(DIM)
        self.pointwise = nn.Conv1d(DIM, 2 * DIM, kernel_size=1)
        # no bias before BatchNorm: it cancels it, leaving NAdam only rounding noise to scale
        self.depthwise = nn.Conv1d(DIM, DIM, kernel_size=3, padding=1, groups=DIM, bias=False)
        self.bn = nn.BatchNorm1d(DIM)
        self.out_norm = nn.LayerNorm(DIM)

    def forward(self, x, pad_mask):
        x = x + 0.5 * self.ff1(x)
        h = self.attn_norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        pos = self.pos_proj(relative_positions(x.shape[1], DIM))
        logits = (q @ k.transpose(1, 2) + torch.einsum("bid,ijd->bij", q, pos)) / math.sqrt(DIM)
        logits = logits.masked_fill(pad_mask[:, None, :], float("-inf"))
        x = x + logits.softmax(-1) @ v
        h = self.conv_norm(x).masked_fill(pad_mask[..., None], 0.0).transpose(1, 2)
        h = F.glu(self.pointwise(h), dim=1)
        h = F.silu(self.bn(self.depthwise(h)))
        x = x + h.transpose(1, 2)
        x = x + 0.5 * self.ff2(x)
        return self.out_norm(x)


class Tagger(nn.Module):
    def __init__(self, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM, padding_idx=0)
        self.block = ConformerBlock()
        self.gru = nn.GRU(
            DIM, DIM // 2, num_layers=2, bidirectional=True, batch_first=True, dropout=dropout
        )
        self.out = nn.Linear(DIM, TAGS)

    def forward(self, tokens, lengths):
        pad_mask = tokens == 0
        x = self.embed(tokens)
        if x.requires_grad:
            x.register_hook(lambda g: g.clamp(-0.05, 0.05))  # gradient surgery
        x = self.block(x, pad_mask)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, h_n = self.gru(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
        return self.out(out), h_n, out_lengths, packed.sorted_indices


def make_sentences():
    lengths = [5, 3, 6, 2, 4, 6]
    sentences, tags = [], []
    for i, n in enumerate(lengths):
        tok = (torch.arange(n) * (i + 2) + i) % (VOCAB - 1) + 1
        sentences.append(tok)
        tags.append(tok % TAGS)
    return sentences, tags, torch.tensor(lengths)


def fixed_(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            ramp = torch.arange(p.numel(), dtype=torch.float32) * (0.61 + 0.13 * i)
            p.copy_(torch.sin(ramp).view_as(p) * 0.4)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(1)
    sentences, tags, lengths = make_sentences()
    tokens = pad_sequence(sentences, batch_first=True)
    targets = pad_sequence(tags, batch_first=True, padding_value=-100)
    left = pad_sequence(sentences, batch_first=True, padding_value=-1, padding_side="left")
    model = Tagger(dropout=0.0 if args.deterministic else 0.1)
    if args.deterministic:
        fixed_(model)
    opt = torch.optim.NAdam(
        model.parameters(), lr=0.03, weight_decay=0.01, decoupled_weight_decay=True
    )
    warm = LinearLR(opt, start_factor=0.2, total_iters=4)
    sched = SequentialLR(opt, [warm, StepLR(opt, step_size=5, gamma=0.5)], milestones=[4])
    losses, lrs = [], []
    for _ in range(10):
        model.train()
        logits, _, _, _ = model(tokens, lengths)
        loss = F.cross_entropy(logits.reshape(-1, TAGS), targets.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        lrs.append(round(opt.param_groups[0]["lr"], 8))
    embed_grad = model.embed.weight.grad
    # a batch of padding only: the mean over no targets is nan, and its gradients are zero
    opt.zero_grad()
    logits, _, _, _ = model(tokens[:2], lengths[:2])
    log_probs = F.log_softmax(logits, dim=-1).reshape(-1, TAGS)
    padding_only = F.nll_loss(log_probs, torch.full((log_probs.shape[0],), -100))
    padding_only.backward()
    padding_only_grad = model.out.weight.grad.abs().sum().item()
    # what printing a recurrent layer's output shows
    probe = torch.ones(2, 3, DIM, requires_grad=True)
    recurrent_nodes = [
        type(layer(probe)[0].grad_fn).__name__
        for layer in (nn.GRU(DIM, 4), nn.LSTM(DIM, 4), nn.RNN(DIM, 4, batch_first=True))
    ]
    model.eval()
    with torch.no_grad():
        logits, h_n, out_lengths, order = model(tokens, lengths)
        pred = logits.argmax(-1)
        mask = targets != -100
        accuracy = (pred[mask] == targets[mask]).float().mean().item()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, args.checkpoint)
    loaded = torch.load(args.checkpoint)
    det = args.deterministic
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lrs": lrs,
                "left_padded": left.tolist(),
                "targets_row": targets[3].tolist(),
                "out_lengths": out_lengths.tolist(),
                "sorted_indices": order.tolist(),
                "h_n_shape": list(h_n.shape),
                "h_n": [v for v in h_n[:, 0, 0].tolist()] if det else [],
                "embed_grad_max": embed_grad.abs().max().item() if det else 0,
                "padding_row_grad": embed_grad[0].abs().sum().item(),
                "padding_only_loss_is_nan": math.isnan(padding_only.item()),
                "padding_only_grad": padding_only_grad,
                "recurrent_nodes": recurrent_nodes,
                "pred": pred.tolist() if det else [],
                "accuracy": accuracy if det else 0,
                "gru_keys": [k for k in loaded["model"] if k.startswith("gru.")][:5],
                "nadam_state": sorted(loaded["optimizer"]["state"][0]),
                "bn_running_mean": model.block.bn.running_mean.tolist() if det else [],
            }
        )
    )


if __name__ == "__main__":
    main()
