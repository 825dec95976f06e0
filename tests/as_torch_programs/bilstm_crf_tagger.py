"""A BiLSTM-CRF sequence tagger as the classic PyTorch NER tutorials write it: sentences of
different lengths padded by `pad_sequence(padding_side=...)`, packed with
`pack_padded_sequence(enforce_sorted=False)` and unpacked by `pad_packed_sequence`
(`total_length=`), emission scores from a bidirectional LSTM, a CRF whose partition
function is the forward algorithm (`torch.logsumexp` over broadcast transition scores,
`torch.where` on the mask), gold path scores through `gather`, and Viterbi decoding with
`max(dim)` values and indices as backpointers, followed back with `gather`; trained by
Adam with `clip_grad_value_`, checkpointed and resumed.

Run: python bilstm_crf_tagger.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

VOCAB, TAGS, EMB, HIDDEN = 11, 3, 8, 6


def make_sentences(count):
    """Token ids 1..10; tag 1 marks a token above 6, tag 2 one that follows a tag 1."""
    sentences, tags = [], []
    for i in range(count):
        length = 3 + (i * 2) % 5
        words = torch.tensor([1 + (i * 7 + j * 3) % 10 for j in range(length)])
        labels = (words > 6).long()
        follows = torch.cat([torch.zeros(1, dtype=torch.bool), labels[:-1] == 1])
        labels = torch.where(follows & (labels == 0), torch.full_like(labels, 2), labels)
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


class CRF(nn.Module):
    def __init__(self, num_tags):
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))

    def log_partition(self, emissions, mask):
        """emissions (B, T, K), mask (B, T) bool: log Z by the forward algorithm."""
        alpha = self.start + emissions[:, 0]
        for t in range(1, emissions.size(1)):
            scores = alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1)
            alpha = torch.where(mask[:, t].unsqueeze(1), torch.logsumexp(scores, dim=1), alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def gold_score(self, emissions, tags, mask):
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)
        moved = self.transitions[tags[:, :-1], tags[:, 1:]]
        score = (emitted * mask).sum(1) + (moved * mask[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1).long()).squeeze(1)
        return score + self.start[tags[:, 0]] + self.end[last]

    def neg_log_likelihood(self, emissions, tags, mask):
        return (self.log_partition(emissions, mask) - self.gold_score(emissions, tags, mask)).mean()

    @torch.no_grad()
    def viterbi(self, emissions, mask):
        score = self.start + emissions[:, 0]
        backpointers = []
        for t in range(1, emissions.size(1)):
            best, index = (score.unsqueeze(2) + self.transitions).max(dim=1)
            backpointers.append(index)
            score = torch.where(mask[:, t].unsqueeze(1), best + emissions[:, t], score)
        best_score, last = (score + self.end).max(dim=1)
        lengths = mask.sum(1)
        path = [last]
        for t in range(emissions.size(1) - 1, 0, -1):
            previous = backpointers[t - 1].gather(1, path[-1].unsqueeze(1)).squeeze(1)
            path.append(torch.where(t < lengths, previous, path[-1]))
        return best_score, torch.stack(path[::-1], dim=1) * mask


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMB, padding_idx=0)
        self.lstm = nn.LSTM(EMB, HIDDEN, batch_first=True, bidirectional=True)
        self.emit = nn.Linear(2 * HIDDEN, TAGS)
        self.crf = CRF(TAGS)

    def emissions(self, words, lengths):
        packed = pack_padded_sequence(self.embed(words), lengths, True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=True, total_length=words.size(1))
        return self.emit(out), out_lengths


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + i)
            p.copy_(values.view_as(p) * (0.5 if "crf" in name else 1 / math.sqrt(p.size(-1))))
        model.embed.weight[0].zero_()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)
    sentences, tags = make_sentences(12)
    lengths = torch.tensor([len(s) for s in sentences])
    words = pad_sequence(sentences, batch_first=True, padding_value=0)
    gold = pad_sequence(tags, batch_first=True)
    mask = words != 0
    left = pad_sequence(sentences, batch_first=True, padding_side="left")

    model = Tagger()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for step in range(16):
        if step == 8:
            torch.save(
                {"model": model.state_dict(), "optim": optimizer.state_dict()}, args.checkpoint
            )
            state = torch.load(args.checkpoint)
            model = Tagger()
            model.load_state_dict(state["model"])
            optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
            optimizer.load_state_dict(state["optim"])
        order = torch.arange(12) if args.deterministic else torch.randperm(12)
        emissions, _ = model.emissions(words[order], lengths[order])
        loss = model.crf.neg_log_likelihood(emissions, gold[order], mask[order])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), clip_value=1.0)
        optimizer.step()
        losses.append(round(loss.item(), 5))

    model.eval()
    emissions, out_lengths = model.emissions(words, lengths)
    best, path = model.crf.viterbi(emissions, mask)
    accuracy = ((path == gold) & mask).sum().item() / mask.sum().item()
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "best_scores": [round(v, 4) for v in best[:4].tolist()],
                "first_paths": path[:3].tolist(),
                "accuracy": round(accuracy, 4),
                "out_lengths": out_lengths.tolist(),
                "left_padded": left[:2].tolist(),
                "transitions": [round(v, 4) for v in model.crf.transitions.flatten().tolist()],
                "path_dtype": str(path.dtype),
            }
        )
    )


if __name__ == "__main__":
    main()
