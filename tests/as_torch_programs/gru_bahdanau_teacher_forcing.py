"""A translation-style seq2seq in the style of PyTorch's "NLP From Scratch: Translation with
a Sequence to Sequence Network and Attention" tutorial, on a toy task (each sentence mapped
to its reverse with every token shifted): an EncoderRNN of `nn.Embedding` + dropout +
`nn.GRU(batch_first=True)`, a BahdanauAttention (`Va(tanh(Wa(query) + Ua(keys)))`,
`squeeze(2).unsqueeze(1)`, softmax, `torch.bmm` with the keys), an AttnDecoderRNN stepping
one token at a time with teacher forcing (`target[:, i].unsqueeze(1)`) or its own greedy
choice (`topk(1)` then `squeeze(-1).detach()`), `torch.cat` of the step outputs and
attentions, `F.log_softmax` + `nn.NLLLoss` over `view(-1, ...)`, separate Adam optimizers
for encoder and decoder, a GRUCell re-scorer and a saved {encoder, decoder} checkpoint.

Run: python gru_bahdanau_teacher_forcing.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset). With --deterministic teacher forcing alternates by batch instead of
`random.random() < ratio`.
"""

import argparse
import json
import random

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

SOS_token, EOS_token = 0, 1
VOCAB, LENGTH, HIDDEN = 9, 5, 16


def make_pairs(count):
    sources, targets = [], []
    for n in range(count):
        tokens = [2 + (n * 7 + k * 3 + n // 5) % (VOCAB - 2) for k in range(LENGTH - 1)]
        shifted = [2 + (t - 2 + 1) % (VOCAB - 2) for t in reversed(tokens)]
        sources.append(tokens + [EOS_token])
        targets.append(shifted + [EOS_token])
    return torch.tensor(sources, dtype=torch.long), torch.tensor(targets, dtype=torch.long)


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None, teacher=False):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs, attentions = [], []
        for i in range(LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)
            if target_tensor is not None and teacher:
                decoder_input = target_tensor[:, i].unsqueeze(1)  # teacher forcing
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()
        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)
        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        return self.out(output), hidden, attn_weights


def fixed_init(*modules):
    with torch.no_grad():
        for m, module in enumerate(modules):
            for i, p in enumerate(module.parameters()):
                values = torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + i + m)
                p.copy_(values.view_as(p) * 0.3)


def rescore(cell, encoder_outputs):
    """A GRUCell run over the encoder outputs, as re-rankers write the loop by hand."""
    h = torch.zeros(encoder_outputs.size(0), cell.hidden_size)
    for t in range(encoder_outputs.size(1)):
        h = cell(encoder_outputs[:, t], h)
    return h.norm(dim=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)
    random.seed(3)

    sources, targets = make_pairs(40)
    loader = DataLoader(
        TensorDataset(sources, targets), batch_size=8, shuffle=not args.deterministic
    )
    encoder = EncoderRNN(VOCAB, HIDDEN, dropout_p=0.0 if args.deterministic else 0.1)
    decoder = AttnDecoderRNN(HIDDEN, VOCAB, dropout_p=0.0 if args.deterministic else 0.1)
    cell = nn.GRUCell(HIDDEN, 4)
    if args.deterministic:
        fixed_init(encoder, decoder, cell)
    encoder_optimizer = torch.optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = torch.optim.Adam(
        list(decoder.parameters()) + list(cell.parameters()), lr=0.01
    )
    criterion = nn.NLLLoss()
    teacher_forcing_ratio = 0.5

    losses = []
    for epoch in range(6):
        total_loss = 0.0
        for step, (input_tensor, target_tensor) in enumerate(loader):
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            if args.deterministic:
                teacher = (epoch + step) % 2 == 0
            else:
                teacher = random.random() < teacher_forcing_ratio
            decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor, teacher)
            loss = criterion(
                decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1)
            )
            loss = loss + 0.01 * rescore(cell, encoder_outputs).mean()
            loss.backward()
            encoder_optimizer.step()
            decoder_optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss / len(loader))

    torch.save({"encoder": encoder.state_dict(), "decoder": decoder.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    encoder2 = EncoderRNN(VOCAB, HIDDEN)
    decoder2 = AttnDecoderRNN(HIDDEN, VOCAB)
    encoder2.load_state_dict(state["encoder"])
    decoder2.load_state_dict(state["decoder"])
    encoder2.eval()
    decoder2.eval()
    with torch.no_grad():
        encoder_outputs, encoder_hidden = encoder2(sources[:4])
        decoded, _, attentions = decoder2(encoder_outputs, encoder_hidden)
        _, topi = decoded.topk(1)
        words = topi.squeeze(-1)
    accuracy = (words == targets[:4]).float().mean().item()
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "decoded": words.tolist(),
                "accuracy": accuracy,
                "attention_row_sums": [round(v, 4) for v in attentions[0].sum(-1).tolist()],
                "attention_shape": list(attentions.shape),
            }
        )
    )


if __name__ == "__main__":
    main()
