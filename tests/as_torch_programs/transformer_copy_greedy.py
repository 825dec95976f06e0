"""An encoder-decoder `nn.Transformer` as the "language translation with nn.Transformer"
tutorial writes it, on a toy copy-and-increment task: a TokenEmbedding scaled by
sqrt(d_model), a sinusoidal PositionalEncoding registered as a buffer (`pos_embedding`
from `torch.exp(-torch.arange(0, emb, 2) * math.log(10000) / emb)`), masks built by
`generate_square_subsequent_mask` and by hand (`torch.triu(...).transpose(0, 1)`,
`masked_fill(mask == 0, float('-inf'))`), `src_key_padding_mask` /
`tgt_key_padding_mask` / `memory_key_padding_mask` from PAD tokens, `batch_first=False`
sequences, CrossEntropyLoss(ignore_index=PAD), a LambdaLR warm-up, `clip_grad_norm_`,
then greedy decoding through `model.encoder` / `model.decoder` with `torch.cat` of the
chosen tokens.

Run: python transformer_copy_greedy.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

PAD, BOS, EOS = 0, 1, 2
VOCAB, EMB = 12, 16


class PositionalEncoding(nn.Module):
    def __init__(self, emb_size, dropout, maxlen=32):
        super().__init__()
        den = torch.exp(-torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pos_embedding", pos_embedding)

    def forward(self, token_embedding: Tensor):
        return self.dropout(token_embedding + self.pos_embedding[: token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size, emb_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens: Tensor):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.transformer = nn.Transformer(
            d_model=EMB,
            nhead=2,
            num_encoder_layers=2,
            num_decoder_layers=2,
            dim_feedforward=32,
            dropout=dropout,
        )
        self.generator = nn.Linear(EMB, VOCAB)
        self.src_tok_emb = TokenEmbedding(VOCAB, EMB)
        self.tgt_tok_emb = TokenEmbedding(VOCAB, EMB)
        self.positional_encoding = PositionalEncoding(EMB, dropout=dropout)

    def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(
            src_emb,
            tgt_emb,
            src_mask,
            tgt_mask,
            None,
            src_padding_mask,
            tgt_padding_mask,
            src_padding_mask,
        )
        return self.generator(outs)

    def encode(self, src, src_mask):
        return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)), src_mask)

    def decode(self, tgt, memory, tgt_mask):
        return self.transformer.decoder(
            self.positional_encoding(self.tgt_tok_emb(tgt)), memory, tgt_mask
        )


def generate_square_subsequent_mask(sz):
    mask = (torch.triu(torch.ones((sz, sz))) == 1).transpose(0, 1)
    return mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)


def create_mask(src, tgt):
    src_seq_len, tgt_seq_len = src.shape[0], tgt.shape[0]
    tgt_mask = generate_square_subsequent_mask(tgt_seq_len)
    src_mask = torch.zeros((src_seq_len, src_seq_len)).type(torch.bool)
    src_padding_mask = (src == PAD).transpose(0, 1)
    tgt_padding_mask = (tgt == PAD).transpose(0, 1)
    return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask


def make_batches(count, batch_size):
    """Sentences of 2..5 tokens; the target is each token + 1 (mod the word range)."""
    batches = []
    for start in range(0, count, batch_size):
        sources, targets = [], []
        for n in range(start, start + batch_size):
            length = 2 + n % 4
            words = [3 + (n * 5 + k * 2) % (VOCAB - 4) for k in range(length)]
            sources.append(torch.tensor([BOS, *words, EOS]))
            targets.append(torch.tensor([BOS, *[3 + (w - 2) % (VOCAB - 3) for w in words], EOS]))
        batches.append((pad_sequence(sources, padding_value=PAD), pad_sequence(targets)))
    return batches


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.37 + i)
            p.copy_(values.view_as(p) * (0.25 if p.dim() > 1 else 0.02))


def greedy_decode(model, src, src_mask, max_len, start_symbol):
    memory = model.encode(src, src_mask)
    ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long)
    for _ in range(max_len - 1):
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(ys.size(0)).type(torch.bool)
        out = model.decode(ys, memory, tgt_mask)
        out = out.transpose(0, 1)
        prob = model.generator(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        next_word = next_word.item()
        ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
        if next_word == EOS:
            break
    return ys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    model = Seq2SeqTransformer(dropout=0.0 if args.deterministic else 0.1)
    if args.deterministic:
        fixed_init(model)
    else:
        for p in model.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003, betas=(0.9, 0.98), eps=1e-9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 6))
    batches = make_batches(48, 8)

    losses = []
    for _ in range(4):
        model.train()
        total = 0.0
        for src, tgt in batches:
            tgt_input = tgt[:-1, :]
            src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
            logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask)
            optimizer.zero_grad()
            tgt_out = tgt[1:, :]
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total += loss.item()
        losses.append(total / len(batches))

    torch.save(model.state_dict(), args.checkpoint)
    again = Seq2SeqTransformer(dropout=0.0)
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    again.eval()
    src = batches[0][0][:, :1]
    with torch.no_grad():
        decoded = greedy_decode(again, src, torch.zeros(src.size(0), src.size(0)).bool(), 8, BOS)
        memory = again.encode(src, torch.zeros(src.size(0), src.size(0)).bool())
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "decoded": decoded.flatten().tolist(),
                "memory_shape": list(memory.shape),
                "memory_mean": round(memory.mean().item(), 4),
                "lr": scheduler.get_last_lr(),
                "mask": generate_square_subsequent_mask(3).tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
