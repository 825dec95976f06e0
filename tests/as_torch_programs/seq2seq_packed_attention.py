"""A sequence-reversal seq2seq in the style of the PyTorch NLP tutorials: a Dataset of
(source text, token ids) pairs batched by a collate_fn that pads with pad_sequence (the texts
come through as a tuple of strings), a bidirectional two-layer GRU encoder over
pack_padded_sequence(enforce_sorted=False) / pad_packed_sequence, Bahdanau attention with a
masked_fill'ed padding mask and bmm, a GRU decoder under a fixed teacher-forcing pattern,
CrossEntropyLoss(ignore_index=PAD), clip_grad_norm_, Adam under StepLR, and a checkpoint of
model and optimizer resumed; greedy decoding under torch.inference_mode().

Run: python seq2seq_packed_attention.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset

PAD, SOS, EOS = 0, 1, 2
VOCAB = 12
LETTERS = "..abcdefghij"


class Reversal(Dataset):
    def __init__(self, count):
        self.pairs = []
        for i in range(count):
            length = 2 + (i * 7) % 4
            ids = [3 + (i * 5 + 3 * k) % (VOCAB - 3) for k in range(length)]
            self.pairs.append(("".join(LETTERS[t] for t in ids), ids))

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        return self.pairs[index]


def collate(batch):
    texts, ids = zip(*batch)
    sources = [torch.tensor(seq) for seq in ids]
    targets = [torch.tensor([SOS, *seq[::-1], EOS]) for seq in ids]
    lengths = torch.tensor([len(seq) for seq in ids])
    return texts, pad_sequence(sources, batch_first=True), lengths, pad_sequence(targets, True)


class Encoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, 8, padding_idx=PAD)
        self.rnn = nn.GRU(8, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, hidden)

    def forward(self, src, lengths):
        packed = pack_padded_sequence(
            self.embedding(src), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, hidden = self.rnn(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=src.size(1))
        hidden = torch.tanh(self.fc(torch.cat((hidden[-2], hidden[-1]), dim=1)))
        return outputs, hidden


class Attention(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.attn = nn.Linear(3 * hidden, hidden)
        self.v = nn.Linear(hidden, 1, bias=False)

    def forward(self, hidden, encoder_outputs, mask):
        steps = encoder_outputs.shape[1]
        repeated = hidden.unsqueeze(1).repeat(1, steps, 1)
        energy = torch.tanh(self.attn(torch.cat((repeated, encoder_outputs), dim=2)))
        scores = self.v(energy).squeeze(2).masked_fill(mask == 0, -1e10)
        return F.softmax(scores, dim=1)


class Decoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, 8)
        self.attention = Attention(hidden)
        self.rnn = nn.GRU(2 * hidden + 8, hidden, batch_first=True)
        self.out = nn.Linear(3 * hidden + 8, VOCAB)

    def forward(self, token, hidden, encoder_outputs, mask):
        embedded = self.embedding(token.unsqueeze(1))
        weights = self.attention(hidden, encoder_outputs, mask).unsqueeze(1)
        context = torch.bmm(weights, encoder_outputs)
        output, hidden = self.rnn(torch.cat((embedded, context), dim=2), hidden.unsqueeze(0))
        features = torch.cat((output.squeeze(1), context.squeeze(1), embedded.squeeze(1)), dim=1)
        return self.out(features), hidden.squeeze(0)


class Seq2Seq(nn.Module):
    def __init__(self, hidden=12):
        super().__init__()
        self.encoder = Encoder(hidden)
        self.decoder = Decoder(hidden)

    def forward(self, src, lengths, trg, teacher_forcing):
        encoder_outputs, hidden = self.encoder(src, lengths)
        mask = src != PAD
        token = trg[:, 0]
        outputs = []
        for t in range(1, trg.shape[1]):
            logits, hidden = self.decoder(token, hidden, encoder_outputs, mask)
            outputs.append(logits)
            token = trg[:, t] if teacher_forcing[t % len(teacher_forcing)] else logits.argmax(1)
        return torch.stack(outputs, dim=1)


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + i)
            p.copy_(values.view_as(p) * 0.8 / math.sqrt(fan_in))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)
    loader = DataLoader(
        Reversal(24),
        batch_size=6,
        shuffle=not args.deterministic,
        collate_fn=collate,
        num_workers=2,
    )
    criterion = nn.CrossEntropyLoss(ignore_index=PAD)
    pattern = [True, True, False] if args.deterministic else None

    def train(model, optimizer, scheduler, epochs):
        losses = []
        for _ in range(epochs):
            model.train()
            total = 0.0
            for texts, src, lengths, trg in loader:  # noqa: B007 - the last batch's texts
                forcing = pattern or [bool(torch.rand(()) < 0.5) for _ in range(trg.shape[1])]
                optimizer.zero_grad()
                output = model(src, lengths, trg, forcing)
                loss = criterion(output.reshape(-1, VOCAB), trg[:, 1:].reshape(-1))
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
                optimizer.step()
                total += loss.item()
            scheduler.step()
            losses.append(total / len(loader))
        return losses, texts

    model = Seq2Seq()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    losses, texts = train(model, optimizer, scheduler, 2)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, args.checkpoint)

    checkpoint = torch.load(args.checkpoint)
    resumed = Seq2Seq()
    resumed.load_state_dict(checkpoint["model"])
    optimizer = torch.optim.Adam(resumed.parameters(), lr=0.01)
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5, last_epoch=1)
    more, _ = train(resumed, optimizer, scheduler, 2)

    resumed.eval()
    _, src, lengths, trg = collate([loader.dataset[i] for i in range(3)])
    with torch.inference_mode():
        greedy = resumed(src, lengths, trg, [False]).argmax(-1)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses + more,
                "texts_type": type(texts).__name__,
                "texts": list(texts),
                "greedy": greedy.tolist(),
                "lr": optimizer.param_groups[0]["lr"],
            }
        )
    )


if __name__ == "__main__":
    main()
