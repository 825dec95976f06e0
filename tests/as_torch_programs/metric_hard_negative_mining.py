"""Deep metric learning as face-recognition and retrieval repositories write it: an embedding
net with `F.normalize`, batch-hard triplet mining over a `torch.cdist` matrix (positives and
negatives masked with `masked_fill`, hardest picked by `max` / `argsort`), semi-hard
negatives by `torch.where`, `TripletMarginLoss` and `TripletMarginWithDistanceLoss` on the
mined triplets, `nn.PairwiseDistance`, `CosineEmbeddingLoss` on pairs, `MarginRankingLoss`
on the distances, an ArcFace head (normalized weights, `acos`, the angular margin added
through a `scatter_` one-hot), negatives drawn by `torch.multinomial` from a softmax over
similarities (top-k when deterministic), `torch.bucketize` of distances into histogram bins,
and retrieval metrics (recall@k from `topk`, mAP from `argsort` and `cumsum`).

Run: python metric_hard_negative_mining.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

IDENTITIES, PER_ID, FEATURES, EMBED = 6, 4, 10, 8


def make_data():
    ids = torch.arange(IDENTITIES).repeat_interleave(PER_ID)
    k = torch.arange(IDENTITIES * PER_ID, dtype=torch.float32)
    centres = torch.sin(torch.arange(IDENTITIES * FEATURES, dtype=torch.float32) * 0.9).view(
        IDENTITIES, FEATURES
    )
    x = centres[ids] + 0.35 * torch.cos(k[:, None] * 1.7 + torch.arange(FEATURES) * 0.4)
    return x, ids


class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(FEATURES, 16), nn.PReLU(), nn.Linear(16, EMBED))

    def forward(self, x):
        return F.normalize(self.net(x), p=2, dim=1)


class ArcFace(nn.Module):
    def __init__(self, s=8.0, m=0.3):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(IDENTITIES, EMBED))
        nn.init.xavier_uniform_(self.weight)
        self.s, self.m = s, m

    def forward(self, emb, labels):
        cosine = F.linear(emb, F.normalize(self.weight))
        theta = torch.acos(cosine.clamp(-1 + 1e-6, 1 - 1e-6))
        one_hot = torch.zeros_like(cosine).scatter_(1, labels.view(-1, 1), 1.0)
        logits = torch.cos(theta + self.m * one_hot) * self.s
        return F.cross_entropy(logits, labels)


def batch_hard(emb, labels, margin):
    dist = torch.cdist(emb, emb)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    hardest_pos = dist.masked_fill(~same | eye, float("-inf")).max(dim=1).values
    hardest_neg = dist.masked_fill(same, float("inf")).min(dim=1).values
    loss = F.relu(hardest_pos - hardest_neg + margin).mean()
    # semi-hard: the closest negative farther than the positive, else the hardest one
    semi = torch.where(dist > hardest_pos[:, None], dist, torch.full_like(dist, float("inf")))
    semi = semi.masked_fill(same, float("inf")).min(dim=1).values
    semi = torch.where(torch.isinf(semi), hardest_neg, semi)
    return loss, dist, semi


def mine_indices(dist, labels, deterministic):
    same = labels[:, None] == labels[None, :]
    order = torch.argsort(dist.masked_fill(same, float("inf")), dim=1)
    hardest_negative = order[:, 0]
    positives = dist.masked_fill(~same | torch.eye(len(labels), dtype=torch.bool), -1.0)
    hardest_positive = positives.argmax(dim=1)
    weights = F.softmax(-dist.masked_fill(same, float("inf")) * 4.0, dim=1)
    if deterministic:
        sampled = weights.topk(1, dim=1).indices.squeeze(1)
    else:
        sampled = torch.multinomial(weights, 1).squeeze(1)
    return hardest_positive, hardest_negative, sampled


def retrieval_metrics(emb, labels, k=3):
    sim = emb @ emb.T
    sim.fill_diagonal_(float("-inf"))
    top = sim.topk(k, dim=1).indices
    recall = (labels[top] == labels[:, None]).any(dim=1).float().mean()
    order = sim.argsort(dim=1, descending=True)[:, :-1]
    hits = (labels[order] == labels[:, None]).float()
    precision = hits.cumsum(dim=1) / torch.arange(1, hits.size(1) + 1)
    ap = (precision * hits).sum(1) / hits.sum(1).clamp(min=1)
    return recall.item(), ap.mean().item()


def fixed_init(module, phase):
    with torch.no_grad():
        for i, p in enumerate(module.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.77 + i + phase)
            p.copy_(0.4 * values.view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    x, labels = make_data()
    model, arcface = Embedder(), ArcFace()
    if args.deterministic:
        fixed_init(model, 0.0)
        fixed_init(arcface, 1.0)
    optimizer = torch.optim.SGD(
        [{"params": model.parameters()}, {"params": arcface.parameters(), "lr": 0.05}],
        lr=0.1,
        momentum=0.9,
    )
    triplet = nn.TripletMarginLoss(margin=0.3, p=2, swap=True)
    cosine_triplet = nn.TripletMarginWithDistanceLoss(
        distance_function=lambda a, b: 1.0 - F.cosine_similarity(a, b), margin=0.2
    )
    pair_loss = nn.CosineEmbeddingLoss(margin=0.1)
    ranking = nn.MarginRankingLoss(margin=0.05)
    pdist = nn.PairwiseDistance(p=2)
    losses, before = [], retrieval_metrics(model(x).detach(), labels)
    for _ in range(12):
        emb = model(x)
        hard, dist, semi = batch_hard(emb, labels, margin=0.3)
        pos, neg, sampled = mine_indices(dist.detach(), labels, args.deterministic)
        loss = hard + triplet(emb, emb[pos], emb[neg]) + cosine_triplet(emb, emb[pos], emb[sampled])
        target = torch.where(labels == labels[sampled], 1, -1)
        loss = loss + pair_loss(emb, emb[sampled], target)
        loss = loss + ranking(pdist(emb, emb[neg]), pdist(emb, emb[pos]), torch.ones(len(labels)))
        loss = loss + 0.1 * arcface(emb, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    with torch.no_grad():
        emb = model(x)
        dist = torch.cdist(emb, emb)
        edges = torch.linspace(0.0, 2.0, 5)
        bins = torch.bucketize(dist[~torch.eye(len(labels), dtype=torch.bool)], edges)
        right_bins = torch.bucketize(torch.tensor([0.0, 0.5, 1.0]), edges, right=True)
    recall, mean_ap = retrieval_metrics(emb, labels)
    torch.save({"model": model.state_dict(), "arcface": arcface.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    model.load_state_dict(state["model"])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "before": [round(v, 5) for v in before],
                "recall_at_3": round(recall, 5),
                "mAP": round(mean_ap, 5),
                "semi_hard": round(semi.mean().item(), 5),
                "histogram": torch.bincount(bins, minlength=len(edges) + 1).tolist(),
                "right_bins": right_bins.tolist(),
                "mined": [pos[:6].tolist(), neg[:6].tolist()] if args.deterministic else None,
                "norms": round(emb.norm(dim=1).mean().item(), 5),
                "prelu": round(model.net[1].weight.item(), 5),
                "angle": round(math.degrees(torch.acos(emb[0] @ emb[4]).item()), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
