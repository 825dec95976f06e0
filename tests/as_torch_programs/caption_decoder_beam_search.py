"""An image-captioning style decoder as the "show, attend and tell" / BLIP-like tutorials
write it: region features of another width attended through
`nn.MultiheadAttention(kdim=, vdim=, batch_first=True)` with `need_weights=True,
average_attn_weights=False` (per-head maps printed), then a `nn.TransformerDecoder` of
`norm_first=True` layers (`batch_first=False`: sequences first) with
`generate_square_subsequent_mask`, `tgt_is_causal=True`, `tgt_key_padding_mask` and
`memory_key_padding_mask` for images with fewer regions, tied output embeddings, label
smoothing with `ignore_index`, an AdamW + LinearLR warm-up, then greedy decoding and a
beam search (`log_softmax`, `topk` over the flattened beam x vocabulary scores,
`torch.div(..., rounding_mode="floor")` for the beam index, `index_select` of the kept
prefixes, length-normalised final scores).

Run: python caption_decoder_beam_search.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, BOS, EOS, VOCAB = 0, 1, 2, 9
D_MODEL, FEAT = 16, 10


class CaptionModel(nn.Module):
    def __init__(self, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL, padding_idx=PAD)
        self.pos = nn.Parameter(torch.zeros(12, 1, D_MODEL))
        self.pool = nn.MultiheadAttention(
            D_MODEL, num_heads=2, kdim=FEAT, vdim=FEAT, batch_first=True, dropout=dropout
        )
        self.queries = nn.Parameter(torch.zeros(1, 3, D_MODEL))
        layer = nn.TransformerDecoderLayer(
            D_MODEL, nhead=2, dim_feedforward=32, dropout=dropout, norm_first=True
        )
        self.decoder = nn.TransformerDecoder(layer, num_layers=2, norm=nn.LayerNorm(D_MODEL))
        self.out = nn.Linear(D_MODEL, VOCAB, bias=False)
        self.out.weight = self.embed.weight

    def encode(self, regions, region_pad):
        queries = self.queries.expand(regions.size(0), -1, -1)
        memory, weights = self.pool(
            queries,
            regions,
            regions,
            key_padding_mask=region_pad,
            need_weights=True,
            average_attn_weights=False,
        )
        return memory.transpose(0, 1), weights  # (S, B, E) for the sequence-first decoder

    def decode(self, tokens, memory, token_pad=None):
        length = tokens.size(0)
        x = self.embed(tokens) * math.sqrt(D_MODEL) + self.pos[:length]
        mask = nn.Transformer.generate_square_subsequent_mask(length)
        h = self.decoder(
            x, memory, tgt_mask=mask, tgt_is_causal=True, tgt_key_padding_mask=token_pad
        )
        return self.out(h)


def make_batch():
    """4 'images' of 5 regions (the last two images have 3), captions that name the regions'
    strongest features in order."""
    regions = torch.stack(
        [
            torch.cos(torch.arange(5 * FEAT, dtype=torch.float32).view(5, FEAT) * (0.3 + i * 0.2))
            for i in range(4)
        ]
    )
    region_pad = torch.zeros(4, 5, dtype=torch.bool)
    region_pad[2:, 3:] = True
    captions = []
    for i in range(4):
        words = (regions[i, : 5 - 2 * (i >= 2)].argmax(-1) % (VOCAB - 3) + 3).tolist()
        captions.append([BOS] + words[:4] + [EOS])
    length = max(map(len, captions))
    tokens = torch.full((length, 4), PAD, dtype=torch.long)
    for i, caption in enumerate(captions):
        tokens[: len(caption), i] = torch.tensor(caption)
    return regions, region_pad, tokens


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if "norm" in name and name.endswith("weight"):
                continue
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.59 + i)
            p.copy_(values.view_as(p) * (0.3 if p.dim() > 1 else 0.05))


@torch.no_grad()
def beam_search(model, memory, beam=3, steps=5):
    """One image's memory (S, 1, E): the `beam` best token sequences and their scores."""
    sequences = torch.full((1, 1), BOS, dtype=torch.long)
    scores = torch.zeros(1)
    for _ in range(steps):
        logits = model.decode(sequences.t(), memory.expand(-1, sequences.size(0), -1))
        log_probs = F.log_softmax(logits[-1], dim=-1)
        candidates = (scores.unsqueeze(1) + log_probs).flatten()
        top, index = candidates.topk(min(beam, candidates.numel()))
        origin = torch.div(index, VOCAB, rounding_mode="floor")
        sequences = torch.cat([sequences.index_select(0, origin), (index % VOCAB)[:, None]], 1)
        scores = top
    return sequences, scores / sequences.size(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(8)
    regions, region_pad, tokens = make_batch()
    model = CaptionModel(dropout=0.0 if args.deterministic else 0.1)
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.2, total_iters=4)
    criterion = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)
    inputs, targets = tokens[:-1], tokens[1:]
    losses = []
    for _ in range(12):
        model.train()
        memory, _ = model.encode(regions, region_pad)
        logits = model.decode(inputs, memory, token_pad=(inputs == PAD).t())
        loss = criterion(logits.reshape(-1, VOCAB), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        warmup.step()
        losses.append(round(loss.item(), 5))

    torch.save(model.state_dict(), args.checkpoint)
    model.load_state_dict(torch.load(args.checkpoint))
    model.eval()
    with torch.no_grad():
        memory, weights = model.encode(regions, region_pad)
        greedy = torch.full((1, 4), BOS, dtype=torch.long)
        for _ in range(5):
            next_token = model.decode(greedy, memory)[-1].argmax(-1)
            greedy = torch.cat([greedy, next_token[None]], dim=0)
    beams, beam_scores = beam_search(model, memory[:, :1])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "weights_shape": list(weights.shape),
                "head_maps": [round(v, 4) for v in weights[2, :, 0].flatten().tolist()],
                "padded_regions_weight": weights[2:, :, :, 3:].abs().sum().item(),
                "greedy": greedy.t().tolist(),
                "targets": tokens.t().tolist(),
                "beams": beams.tolist(),
                "beam_scores": [round(v, 4) for v in beam_scores.tolist()],
                "lr": round(warmup.get_last_lr()[0], 6),
                "tied": model.out.weight is model.embed.weight,
            }
        )
    )


if __name__ == "__main__":
    main()
