"""Learning to rank and dense retrieval as allRank / pytorchltr / two-tower recommenders write
them: a scoring MLP over query-document features trained with ListNet (softmax cross entropy
against graded relevance), ListMLE (documents ordered by a stable descending `torch.sort` of
relevance with shuffled ties, `torch.gather`, reversed `torch.logcumsumexp` via `flip`) and a
pairwise `F.margin_ranking_loss` over `torch.triu_indices` pairs, padded lists masked with
`-inf`; NDCG@k by `torch.topk` and `torch.log2` discounts. Then a two-tower retriever: an
`nn.EmbeddingBag(mode="sum", per_sample_weights=, padding_idx=)` query tower and an
`nn.EmbeddingBag(mode="max")` item tower, `F.cosine_similarity` over the broadcast batch
(in-batch negatives), a CLIP-style learnable temperature `logit_scale.exp().clamp(max=100)` with
symmetric cross entropy, and recall@k by `torch.topk` plus `nn.CosineEmbeddingLoss` and
`nn.TripletMarginLoss(swap=True)` on mined triplets.

Run: python ranking_listwise_two_tower.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LISTS, DOCS, FEATS, VOCAB, DIM = 6, 8, 5, 20, 8


def make_lists():
    k = torch.arange(LISTS * DOCS * FEATS, dtype=torch.float32)
    feats = torch.sin(k * 0.37) * torch.cos(k * 0.11 + 1.0)
    feats = feats.view(LISTS, DOCS, FEATS)
    score = feats[..., 0] * 1.5 - feats[..., 2] + 0.5 * feats[..., 4]
    relevance = torch.bucketize(score, torch.tensor([-0.5, 0.2, 0.8])).float()  # grades 0..3
    lengths = torch.tensor([8, 6, 8, 5, 7, 8])
    valid = torch.arange(DOCS)[None] < lengths[:, None]
    return feats, relevance.masked_fill(~valid, -1.0), valid


class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(FEATS, 16), nn.ELU(), nn.Linear(16, 1))

    def forward(self, feats):
        return self.net(feats).squeeze(-1)


def listnet(scores, relevance, valid):
    scores = scores.masked_fill(~valid, float("-inf"))
    target = F.softmax(relevance.masked_fill(~valid, float("-inf")), dim=-1)
    return -(target * F.log_softmax(scores, -1).masked_fill(~valid, 0.0)).sum(-1).mean()


def listmle(scores, relevance, valid, tie_break):
    keyed = relevance + 1e-3 * tie_break  # shuffled ties, as allRank does
    _, order = torch.sort(keyed, dim=-1, descending=True, stable=True)
    ordered = scores.gather(1, order)
    ordered_valid = valid.gather(1, order)
    ordered = ordered.masked_fill(~ordered_valid, float("-inf"))
    tails = torch.logcumsumexp(ordered.flip(-1), dim=-1).flip(-1)
    terms = (tails - ordered).masked_fill(~ordered_valid, 0.0)
    return terms.sum(-1).mean()


def pairwise(scores, relevance, valid):
    i, j = torch.triu_indices(DOCS, DOCS, offset=1)
    diff = relevance[:, i] - relevance[:, j]
    keep = valid[:, i] & valid[:, j] & (diff != 0)
    return F.margin_ranking_loss(
        scores[:, i][keep], scores[:, j][keep], diff.sign()[keep], margin=0.1
    )


def ndcg_at(scores, relevance, valid, k=3):
    scores = scores.masked_fill(~valid, float("-inf"))
    gains = (2.0 ** relevance.clamp(min=0) - 1).masked_fill(~valid, 0.0)
    discounts = 1.0 / torch.log2(torch.arange(k, dtype=torch.float32) + 2)
    top = torch.topk(scores, k, dim=-1).indices
    dcg = (gains.gather(1, top) * discounts).sum(-1)
    ideal = (torch.topk(gains, k, dim=-1).values * discounts).sum(-1)
    return torch.where(ideal > 0, dcg / ideal, torch.zeros_like(dcg))


class TwoTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.EmbeddingBag(VOCAB, DIM, mode="sum", padding_idx=0)
        self.item = nn.EmbeddingBag(VOCAB, DIM, mode="max")
        self.project = nn.Linear(DIM, DIM)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, q_tokens, q_offsets, q_weights, items):
        q = self.project(self.query(q_tokens, q_offsets, per_sample_weights=q_weights))
        return q, self.item(items)


def fixed_init(model, phase=0.0):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            if p.dim() == 0:
                continue
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.53 + i + phase)
            p.copy_((0.4 * wave).view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    feats, relevance, valid = make_lists()
    scorer = Scorer()
    if args.deterministic:
        fixed_init(scorer)
    optimizer = torch.optim.AdamW(scorer.parameters(), lr=1e-2, weight_decay=1e-3)
    losses = []
    for step in range(10):
        if args.deterministic:
            tie_break = torch.cos(
                torch.arange(LISTS * DOCS, dtype=torch.float32) * (step + 1)
            ).view(LISTS, DOCS)
        else:
            tie_break = torch.rand(LISTS, DOCS)
        scores = scorer(feats)
        loss = listnet(scores, relevance, valid) + 0.5 * listmle(
            scores, relevance, valid, tie_break
        )
        loss = loss + pairwise(scores, relevance, valid)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        ndcg = ndcg_at(scorer(feats), relevance, valid)

    towers = TwoTower()
    if args.deterministic:
        fixed_init(towers, 0.5)
    opt = torch.optim.Adam(towers.parameters(), lr=1e-2)
    q_tokens = (torch.arange(24) * 7 % VOCAB).masked_fill(torch.arange(24) % 5 == 0, 0)
    q_offsets = torch.arange(0, 24, 4)
    q_weights = 1.0 + 0.1 * (torch.arange(24) % 3).float()
    items = (torch.arange(18).view(6, 3) * 3 + 1) % VOCAB
    for _ in range(8):
        q, d = towers(q_tokens, q_offsets, q_weights, items)
        scale = towers.logit_scale.exp().clamp(max=100)
        logits = scale * F.cosine_similarity(q[:, None], d[None], dim=-1)
        labels = torch.arange(6)
        loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            towers.logit_scale.clamp_(0, math.log(100))
        losses.append(loss.item())
    q, d = towers(q_tokens, q_offsets, q_weights, items)
    sims = F.cosine_similarity(q[:, None], d[None], dim=-1).detach()
    hardest = sims.masked_fill(torch.eye(6, dtype=torch.bool), -2.0).argmax(-1)
    triplet = nn.TripletMarginLoss(margin=0.3, swap=True)(q, d, d[hardest])
    cosine = nn.CosineEmbeddingLoss(margin=0.2)(q, d[hardest], -torch.ones(6))
    recall = (
        (torch.topk(sims, 2, dim=-1).indices == torch.arange(6)[:, None]).any(-1).float().mean()
    )
    facts = {
        "ndcg": ndcg.round(decimals=4).tolist(),
        "logit_scale": round(towers.logit_scale.item(), 4),
        "recall_at_2": recall.item(),
        "hardest": hardest.tolist(),
        "triplet": round(triplet.item(), 4),
        "cosine": round(cosine.item(), 4),
        "pad_grad": towers.query.weight.grad[0].abs().sum().item(),
    }
    torch.save({"scorer": scorer.state_dict(), "towers": towers.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    facts["keys"] = sorted(state["towers"])
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
