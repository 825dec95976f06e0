"""A full `nn.Transformer` encoder-decoder as translation tutorials write it: sinusoidal
positions in a registered buffer, `generate_square_subsequent_mask` with `tgt_is_causal`,
source and target key-padding masks, label-smoothed `cross_entropy(ignore_index=)` under
teacher forcing, an EMA of the weights kept with `torch._foreach_mul_` / `_foreach_add_`
(and `_foreach_lerp_` for a second copy), Adafactor, a greedy decoder under
`torch.inference_mode()` and a beam search that takes `topk` over flattened
(beam x vocab) scores, recovers beam and token by `//` and `%`, and reorders its hypotheses
with `index_select`; finished beams are length-normalized.

Run: python transformer_beam_ema.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import copy
import json
import math

import torch
import torch.nn.functional as F
from torch import nn

PAD, BOS, EOS, VOCAB, DIM = 0, 1, 2, 9, 8


class Seq2Seq(nn.Module):
    def __init__(self, dropout=0.0, max_len=16):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        pos = torch.arange(max_len)[:, None]
        div = torch.exp(torch.arange(0, DIM, 2) * (-math.log(10000.0) / DIM))
        table = torch.zeros(max_len, DIM)
        table[:, 0::2] = torch.sin(pos * div)
        table[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("positions", table)
        self.transformer = nn.Transformer(
            DIM,
            2,
            num_encoder_layers=1,
            num_decoder_layers=1,
            dim_feedforward=16,
            dropout=dropout,
            batch_first=True,
        )
        self.generator = nn.Linear(DIM, VOCAB)

    def encode(self, src):
        x = self.embed(src) * math.sqrt(DIM) + self.positions[: src.shape[1]]
        return self.transformer.encoder(x, src_key_padding_mask=src == PAD)

    def decode(self, tgt, memory, src_pad):
        n = tgt.shape[1]
        y = self.embed(tgt) * math.sqrt(DIM) + self.positions[:n]
        mask = nn.Transformer.generate_square_subsequent_mask(n)
        out = self.transformer.decoder(
            y, memory, tgt_mask=mask, tgt_is_causal=True, memory_key_padding_mask=src_pad
        )
        return self.generator(out)

    def forward(self, src, tgt):
        return self.decode(tgt, self.encode(src), src == PAD)


def beam_search(model, src, beams=3, steps=5):
    memory = model.encode(src).expand(beams, -1, -1)
    src_pad = (src == PAD).expand(beams, -1)
    hyps = torch.full((beams, 1), BOS)
    scores = torch.tensor([0.0] + [-math.inf] * (beams - 1))
    finished = []
    for _ in range(steps):
        log_probs = model.decode(hyps, memory, src_pad)[:, -1].log_softmax(-1)
        flat = (scores[:, None] + log_probs).view(-1)
        top_scores, top_ids = flat.topk(beams)
        beam_ids, tokens = top_ids // VOCAB, top_ids % VOCAB
        hyps = torch.cat([hyps.index_select(0, beam_ids), tokens[:, None]], dim=1)
        scores = top_scores.clone()
        done = tokens == EOS
        for k in done.nonzero().flatten().tolist():
            finished.append((scores[k].item() / hyps.shape[1], hyps[k].tolist()))
        scores = scores.masked_fill(done, -math.inf)
    for k in range(beams):
        if math.isfinite(scores[k].item()):
            finished.append((scores[k].item() / hyps.shape[1], hyps[k].tolist()))
    return max(finished)


def make_pairs():
    """Target = source reversed: sequences of 3-5 tokens over 3..8, right-padded."""
    src = torch.full((8, 5), PAD)
    tgt = torch.full((8, 7), PAD)
    for i in range(8):
        n = 3 + i % 3
        seq = (torch.arange(n) * (i + 1) + i) % 6 + 3
        src[i, :n] = seq
        tgt[i, 0], tgt[i, 1 : n + 1], tgt[i, n + 1] = BOS, seq.flip(0), EOS
    return src, tgt


def fixed_(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            ramp = torch.arange(p.numel(), dtype=torch.float32) * (0.47 + 0.11 * i)
            p.copy_(torch.sin(ramp).view_as(p) * 0.3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    det = args.deterministic
    src, tgt = make_pairs()
    model = Seq2Seq(dropout=0.0 if det else 0.1)
    if det:
        fixed_(model)
    ema = copy.deepcopy(model).requires_grad_(False)
    slow = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adafactor(model.parameters(), lr=0.05)
    losses = []
    for _ in range(12):
        model.train()
        logits = model(src, tgt[:, :-1])
        loss = F.cross_entropy(
            logits.reshape(-1, VOCAB), tgt[:, 1:].reshape(-1), ignore_index=PAD, label_smoothing=0.1
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        with torch.no_grad():
            ema_params, params = list(ema.parameters()), list(model.parameters())
            torch._foreach_mul_(ema_params, 0.8)
            torch._foreach_add_(ema_params, params, alpha=0.2)
            torch._foreach_lerp_(list(slow.parameters()), params, 0.5)
    model.eval()
    ema.eval()
    with torch.inference_mode():
        greedy = torch.full((1, 1), BOS)
        memory = ema.encode(src[:1])
        for _ in range(5):
            next_token = ema.decode(greedy, memory, src[:1] == PAD)[:, -1].argmax(-1, keepdim=True)
            greedy = torch.cat([greedy, next_token], dim=1)
        score, best = beam_search(model, src[2:3])
        inference = greedy.is_inference()
    torch.save({"model": model.state_dict(), "ema": ema.state_dict()}, args.checkpoint)
    loaded = torch.load(args.checkpoint)
    distance = sum((a - b).abs().sum() for a, b in zip(ema.parameters(), slow.parameters()))
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "greedy": greedy[0].tolist() if det else [],
                "beam": [score, best] if det else [],
                "inference": inference,
                "ema_slow_distance": distance.item() if det else 0,
                "adafactor_state": sorted(opt.state[model.generator.weight]),
                "keys": sorted(loaded["model"])[:5],
                "n_keys": len(loaded["ema"]),
                "mask": nn.Transformer.generate_square_subsequent_mask(3).isinf().tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
