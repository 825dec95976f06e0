"""A batch-first encoder-decoder `nn.Transformer` for a toy reversal task, written as recent
tutorials write it: `norm_first=True`, `activation="gelu"` in the model and a callable
activation (`F.silu`) in a custom decoder layer passed as `custom_decoder=`, `bias=False`
feed-forwards, masks from `nn.Transformer.generate_square_subsequent_mask(n)` with
`tgt_is_causal=True`, `src_key_padding_mask` / `tgt_key_padding_mask` /
`memory_key_padding_mask` from PAD tokens, `CrossEntropyLoss(ignore_index=PAD,
label_smoothing=0.1)`, `OneCycleLR`, and greedy decoding under `torch.inference_mode()`; then
a post-norm `nn.TransformerEncoder(enable_nested_tensor=True)` classifier evaluated in
inference mode with a padding mask (PyTorch's fast path: padded positions come back as
zeros) against the same encoder in training mode, pooled by a masked mean.

Run: python transformer_prenorm_label_smoothing.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, BOS, EOS, VOCAB, D = 0, 1, 2, 10, 16


class Seq2Seq(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D, padding_idx=PAD)
        self.pos = nn.Parameter(torch.zeros(1, 12, D))
        decoder_layer = nn.TransformerDecoderLayer(
            D, 2, 24, dropout, activation=F.silu, batch_first=True, norm_first=True, bias=False
        )
        self.transformer = nn.Transformer(
            d_model=D,
            nhead=2,
            num_encoder_layers=1,
            dim_feedforward=24,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
            custom_decoder=nn.TransformerDecoder(decoder_layer, 2, norm=nn.LayerNorm(D)),
        )
        self.out = nn.Linear(D, VOCAB)

    def embed_tokens(self, tokens):
        return self.embed(tokens) * math.sqrt(D) + self.pos[:, : tokens.size(1)]

    def forward(self, src, tgt):
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt.size(1))
        hidden = self.transformer(
            self.embed_tokens(src),
            self.embed_tokens(tgt),
            tgt_mask=tgt_mask,
            src_key_padding_mask=src == PAD,
            tgt_key_padding_mask=tgt == PAD,
            memory_key_padding_mask=src == PAD,
            tgt_is_causal=True,
        )
        return self.out(hidden)

    @torch.inference_mode()
    def greedy(self, src, steps):
        memory = self.transformer.encoder(self.embed_tokens(src), src_key_padding_mask=src == PAD)
        ys = torch.full((src.size(0), 1), BOS, dtype=torch.long)
        for _ in range(steps):
            mask = nn.Transformer.generate_square_subsequent_mask(ys.size(1))
            hidden = self.transformer.decoder(
                self.embed_tokens(ys),
                memory,
                tgt_mask=mask,
                tgt_is_causal=True,
                memory_key_padding_mask=src == PAD,
            )
            ys = torch.cat([ys, self.out(hidden[:, -1]).argmax(-1, keepdim=True)], dim=1)
        return ys


def make_pairs(n):
    """Sources of 3..6 words padded to 6; targets are the words reversed, framed by BOS/EOS."""
    src = torch.full((n, 6), PAD)
    tgt = torch.full((n, 8), PAD)
    for i in range(n):
        words = [3 + (i * 3 + 2 * k) % (VOCAB - 3) for k in range(3 + i % 4)]
        src[i, : len(words)] = torch.tensor(words)
        tgt[i, : len(words) + 2] = torch.tensor([BOS, *reversed(words), EOS])
    return src, tgt


def fixed_init(model, scale=0.3):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.43 + i)
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.05 * values.view_as(p))
            else:
                p.copy_(values.view_as(p) * (scale if p.dim() > 1 else 0.02))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    model = Seq2Seq(0.0 if args.deterministic else 0.1)
    if args.deterministic:
        fixed_init(model)
    src, tgt = make_pairs(16)
    criterion = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    epochs, batches = 4, 2
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=1e-2, total_steps=epochs * batches, pct_start=0.25
    )
    losses = []
    for _ in range(epochs):
        model.train()
        for s, t in zip(src.chunk(batches), tgt.chunk(batches)):
            logits = model(s, t[:, :-1])
            loss = criterion(logits.reshape(-1, VOCAB), t[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        losses.append(loss.item())

    torch.save(model.state_dict(), args.checkpoint)
    again = Seq2Seq(0.0)
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    again.eval()
    decoded = again.greedy(src[:3], 5)

    layer = nn.TransformerEncoderLayer(D, 2, 20, 0.0, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=True)
    fixed_init(encoder, 0.2)
    with torch.no_grad():
        x = again.embed_tokens(src[:4])
    padding = src[:4] == PAD
    train_out = encoder(x, src_key_padding_mask=padding)
    encoder.eval()
    with torch.inference_mode():
        fast_out = encoder(x, src_key_padding_mask=padding)
    keep = (~padding).unsqueeze(-1).float()
    pooled = (fast_out * keep).sum(1) / keep.sum(1)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lr": scheduler.get_last_lr(),
                "decoded": decoded.tolist(),
                "inference_tensor": decoded.is_inference(),
                "fast_path_agrees": bool(
                    torch.allclose(fast_out * keep, train_out.detach() * keep, atol=1e-5)
                ),
                "padded_rows": fast_out[0, -1, :3].tolist(),
                "pooled": pooled[:, :3].tolist(),
                "mask": nn.Transformer.generate_square_subsequent_mask(3).tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
