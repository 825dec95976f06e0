"""Skip-gram word2vec with negative sampling, as the classic PyTorch implementations write it:
two `nn.Embedding(..., sparse=True)` tables trained by `optim.SparseAdam` (each step moves only
the rows its batch touched), `torch.bmm` of centre and context vectors, `F.logsigmoid`,
`torch.multinomial` negatives from a unigram^0.75 table, and `clip_grad_norm_`-free updates;
then a fastText-style classifier, `nn.EmbeddingBag(mode="mean", sparse=True)` with offsets,
trained by plain SGD on its sparse gradient, and a check that the gradient is sparse
(`weight.grad.is_sparse`, `_nnz()`, `coalesce()`).

Run: python word2vec_sparse_embeddings.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CORPUS = (
    "the king rules the land the queen rules the land the king and the queen live in the "
    "castle a man walks to the castle a woman walks to the land the prince is the son of the "
    "king the princess is the daughter of the queen"
).split()


class SkipGram(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.center = nn.Embedding(vocab, dim, sparse=True)
        self.context = nn.Embedding(vocab, dim, sparse=True)
        bound = 0.5 / dim
        self.center.weight.data.uniform_(-bound, bound)
        self.context.weight.data.zero_()

    def forward(self, center, context, negatives):
        c = self.center(center)  # (B, D)
        pos = self.context(context)  # (B, D)
        neg = self.context(negatives)  # (B, K, D)
        positive = F.logsigmoid((c * pos).sum(dim=1))
        negative = F.logsigmoid(-torch.bmm(neg, c.unsqueeze(2)).squeeze(2)).sum(dim=1)
        return -(positive + negative).mean()


class BagClassifier(nn.Module):
    def __init__(self, vocab, dim, classes):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab, dim, mode="mean", sparse=True)
        self.fc = nn.Linear(dim, classes)

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(
                0.2 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.37 + i).view_as(p)
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)

    vocab = sorted(set(CORPUS))
    index = {w: i for i, w in enumerate(vocab)}
    ids = [index[w] for w in CORPUS]
    window = (-2, -1, 1, 2)
    pairs = [(ids[i], ids[i + d]) for i in range(len(ids)) for d in window if 0 <= i + d < len(ids)]
    counts = np.bincount(ids, minlength=len(vocab)).astype(np.float64) ** 0.75
    unigram = torch.tensor(counts / counts.sum(), dtype=torch.float32)

    model = SkipGram(len(vocab), 16)
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.SparseAdam(model.parameters(), lr=0.05)
    rng = np.random.default_rng(0)
    losses = []
    for step in range(12):
        batch = [pairs[k] for k in rng.choice(len(pairs), size=24, replace=False)]
        center = torch.tensor([a for a, _ in batch])
        context = torch.tensor([b for _, b in batch])
        if args.deterministic:
            negatives = torch.tensor(rng.integers(0, len(vocab), size=(24, 5)))
        else:
            negatives = torch.multinomial(unigram, 24 * 5, replacement=True).view(24, 5)
        optimizer.zero_grad()
        loss = model(center, context, negatives)
        loss.backward()
        if step == 0:
            grad = model.center.weight.grad
            sparse_report = [grad.is_sparse, grad._nnz(), grad.coalesce()._nnz()]
        optimizer.step()
        losses.append(loss.item())
    untouched = int((model.center.weight.detach().abs().sum(dim=1) == 0).sum())

    texts = [
        [index[w] for w in s.split()]
        for s in ("the king rules", "a woman walks", "the queen", "a man walks to")
    ]
    labels = torch.tensor([0, 1, 0, 1])
    flat = torch.tensor([w for t in texts for w in t])
    offsets = torch.tensor([0] + list(np.cumsum([len(t) for t in texts])[:-1]))
    classifier = BagClassifier(len(vocab), 8, 2)
    if args.deterministic:
        fixed_init(classifier)
    sgd = torch.optim.SGD(classifier.parameters(), lr=0.5, momentum=0.5)
    for _ in range(15):
        sgd.zero_grad()
        loss = F.cross_entropy(classifier(flat, offsets), labels)
        loss.backward()
        sgd.step()
        losses.append(loss.item())
    bag_grad_sparse = classifier.embedding.weight.grad.is_sparse

    torch.save(
        {"skipgram": model.state_dict(), "classifier": classifier.state_dict()}, args.checkpoint
    )
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "sparse_grad": sparse_report,
                "bag_grad_sparse": bag_grad_sparse,
                "untouched_rows": untouched,
                "vocab": len(vocab),
            }
        )
    )


if __name__ == "__main__":
    main()
